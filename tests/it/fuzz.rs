//! The fuzz targets of `fuzz/` as a randomized loop on stable Rust: their seed files, then
//! mutations of them (bit flips, inserted tokens, cuts, splices) from a fixed seed, so that
//! `cargo test` checks on every run what `cargo fuzz` checks for hours.

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

use crate::synth::Rng;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect()
}

fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = tokens[rng.below(tokens.len())];
                out.splice(at..at, t.iter().copied());
            }
            2 => {
                let end = (at + rng.below(32)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(64)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(
                    at..at,
                    piece
                        .iter()
                        .copied()
                        .cycle()
                        .take(piece.len() * rng.below(8)),
                );
            }
            4 => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn drive(target: &str, rounds: usize, tokens: &[&[u8]], run: fn(&[u8])) {
    let seeds = seeds(target);
    assert!(!seeds.is_empty());
    let mut rng = Rng(0xF022_0000 ^ target.len() as u64);
    for s in &seeds {
        run(s);
    }
    run(b"");
    for _ in 0..rounds {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, &seeds, tokens);
        run(&input);
    }
}

#[test]
fn fuzz_trailer_reader() {
    drive(
        "trailer",
        4000,
        &[
            b"\n",
            b"\r\n",
            b"\r",
            b"\0",
            b"\n\n",
            b": ",
            b"Session: ",
            b"Signed-off-by: ",
            b"(cherry picked from commit ",
            b"\n---\n",
            b"# ",
            b"\n# ------------------------ >8 ------------------------\n",
            b"Conflicts:\n",
            b"\n\t",
            b"  ",
            b"\n* ",
            b"\n---------\n",
            b"\xff",
            b"#",
            b"/",
        ],
        targets::trailer,
    );
}

#[test]
fn fuzz_session_loader() {
    drive(
        "session",
        1500,
        &[
            b"\n",
            b"[",
            b"]",
            b"{",
            b"}",
            b"=",
            b"\"",
            b"'''",
            b"\"\"\"",
            b"[[milestones]]\n",
            b"[criteria]\n",
            b"id = \"",
            b"depends_on = [\"",
            b"tasks = [",
            b"\xEF\xBB\xBF",
            b"\xff",
            b"\\u0000",
            b"#",
            b"1979-05-27T07:32:00Z",
            b"nan",
            b"inf",
            b".",
            b",",
        ],
        targets::session,
    );
}

#[test]
fn fuzz_cache_decoder() {
    drive(
        "cache",
        1500,
        &[
            b"\0\0\0\0",
            b"\xff\xff\xff\xff",
            b"\x01\0\0\0\0\0\0\0",
            b"\xff\xff\xff\xff\xff\xff\xff\x7f",
            b"GSCACHE\0",
            b"\x01\0\0\0",
        ],
        targets::cache,
    );
}
