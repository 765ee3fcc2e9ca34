//! Synthetic trailer-rich histories for benchmarks and tests, written as a `git fast-import`
//! stream. Deterministic for a given seed.
//!
//! Shape: a trunk `main` and feature branches `feature/bK`. Work happens in sessions: runs of
//! 3 to 40 commits on one branch, each carrying `Session: s-NNNNNN`, `Milestone`, `Effort`
//! (sometimes `Milestone-Done`, `Task-Done`, blockers, co-authors) and `Signed-off-by`; the
//! session's `.sessions/s-NNNNNN.toml` is committed with its first commit. About 5% of commits
//! carry no trailers, and some bodies hold trailer-like lines that are not the last paragraph.
//! Finished feature sessions are merged into `main` with some probability, and the branch
//! restarts from there.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub struct Shape {
    pub commits: usize,
    pub branches: usize,
    pub milestones: usize,
    pub merge_prob: f64,
    pub no_trailer_ratio: f64,
    pub seed: u64,
    /// Unix time the history ends near.
    pub end: i64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            commits: 10_000,
            branches: 6,
            milestones: 12,
            merge_prob: 0.6,
            no_trailer_ratio: 0.05,
            seed: 42,
            end: 1_700_000_000,
        }
    }
}

/// xorshift64*: small, fast, reproducible (a failure found with a seed reproduces with it).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const AUTHORS: [(&str, &str); 8] = [
    ("Ada Lovelace", "ada@example.org"),
    ("Alan Turing", "alan@example.org"),
    ("Grace Hopper", "grace@example.org"),
    ("Edsger Dijkstra", "edsger@example.org"),
    ("Barbara Liskov", "barbara@example.org"),
    ("Donald Knuth", "don@example.org"),
    ("Radia Perlman", "radia@example.org"),
    ("Leslie Lamport", "leslie@example.org"),
];
const TYPES: [&str; 6] = ["feat", "fix", "refactor", "docs", "test", "perf"];
const WORDS: [&str; 16] = [
    "add",
    "parse",
    "render",
    "split",
    "merge",
    "cache",
    "index",
    "walk",
    "read",
    "write",
    "session",
    "milestone",
    "trailer",
    "branch",
    "history",
    "report",
];
const EFFORTS: [&str; 8] = ["15m", "30m", "45m", "1h", "1.5h", "2h", "4h", "1d"];

fn sentence(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| rng.pick(&WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

fn session_file(name: &str, rng: &mut Rng, branch: &str, ts: i64, milestones: usize) -> String {
    let id = format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        rng.next() as u32,
        rng.next() as u16,
        rng.next() as u16 & 0xfff,
        rng.next() as u16 & 0xfff,
        rng.next() & 0xffff_ffff_ffff
    );
    let created = chrono::DateTime::from_timestamp(ts, 0)
        .expect("a valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut out = format!(
        "schema = 1\nid = \"{id}\"\nname = \"{name}\"\ntitle = \"Synthetic session {name}\"\n\
         branch = \"{branch}\"\nbase = \"main\"\ncreated = {created}\nstatus = \"active\"\n\
         objectives = [\"ship {name}\"]\n"
    );
    for m in 1..=milestones {
        out.push_str(&format!("\n[[milestones]]\nid = \"m{m}\"\n"));
        if m.is_multiple_of(4) {
            out.push_str("tasks = [\"a\", \"b\", \"c\"]\n");
        }
    }
    out.push_str("\n[criteria]\nmilestones = \"all\"\nno_open_blockers = true\n");
    out
}

/// Writes the fast-import stream for `shape` into `out`.
pub fn stream(shape: &Shape, out: &mut impl Write) -> std::io::Result<()> {
    let mut rng = Rng(shape.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let natural = shape.commits as i64 * 1815;
    let scale = (600_000_000f64 / natural as f64).min(1.0);
    let mut ts = shape.end - (natural as f64 * scale) as i64;
    let step =
        |rng: &mut Rng, lo: usize, hi: usize| ((rng.range(lo, hi) as f64 * scale) as i64).max(1);
    let branches: Vec<String> = std::iter::once("main".to_string())
        .chain((1..shape.branches).map(|k| format!("feature/b{k}")))
        .collect();
    let mut started = vec![false; branches.len()];
    started[0] = true;
    let mut n = 0usize;
    let mut sessions = 0usize;
    let data = |s: &str| format!("data {}\n{s}\n", s.len());
    while n < shape.commits {
        let b = if n == 0 { 0 } else { rng.below(branches.len()) };
        let branch = &branches[b];
        sessions += 1;
        let name = format!("s-{sessions:06}");
        let author = AUTHORS[rng.below(AUTHORS.len())];
        let length = rng.range(3, 40);
        let mut first = true;
        for i in 0..length {
            if n >= shape.commits {
                break;
            }
            ts += step(&mut rng, 30, 3600);
            let milestone = 1 + n * shape.milestones / shape.commits;
            let kind = rng.pick(&TYPES);
            let words = rng.range(3, 8);
            let subject = format!("{kind}: {} #{n}", sentence(&mut rng, words));
            let words = rng.range(6, 14);
            let mut msg = format!("{subject}\n\n{}\n", sentence(&mut rng, words));
            if rng.chance(0.1) {
                msg.push_str(&format!("Note: {}\n", sentence(&mut rng, 4)));
            }
            if !rng.chance(shape.no_trailer_ratio) {
                let mut t = vec![
                    format!("Session: {name}"),
                    format!("Milestone: m{milestone}"),
                    format!("Effort: {}", rng.pick(&EFFORTS)),
                ];
                if milestone.is_multiple_of(4) && rng.chance(0.3) {
                    t.push(format!(
                        "Task-Done: m{milestone}/{}",
                        rng.pick(&["a", "b", "c"])
                    ));
                }
                if i == length - 1 && rng.chance(0.7) {
                    t.push(format!("Milestone-Done: m{milestone}"));
                }
                if rng.chance(0.02) {
                    t.push(format!("Blocker: #b{} {}", n % 7, sentence(&mut rng, 3)));
                }
                if rng.chance(0.02) {
                    t.push(format!("Blocker-Resolved: #b{}", (n + 3) % 7));
                }
                if rng.chance(0.1) {
                    let co = AUTHORS[rng.below(AUTHORS.len())];
                    t.push(format!("Co-authored-by: {} <{}>", co.0, co.1));
                }
                t.push(format!("Signed-off-by: {} <{}>", author.0, author.1));
                msg.push('\n');
                msg.push_str(&t.join("\n"));
                msg.push('\n');
            }
            let ident = format!("{} <{}> {ts} +0000", author.0, author.1);
            write!(
                out,
                "commit refs/heads/{branch}\nauthor {ident}\ncommitter {ident}\n{}",
                data(&msg)
            )?;
            if first && !started[b] {
                writeln!(out, "from refs/heads/main")?;
                started[b] = true;
            }
            if first {
                let file = session_file(&name, &mut rng, branch, ts, shape.milestones);
                write!(
                    out,
                    "M 100644 inline .sessions/{name}.toml\n{}",
                    data(&file)
                )?;
            }
            first = false;
            let path = format!("src/f{:03}.txt", rng.below(64));
            write!(
                out,
                "M 100644 inline {path}\n{}\n",
                data(&format!("{subject}\n"))
            )?;
            n += 1;
        }
        if b != 0 && n < shape.commits && rng.chance(shape.merge_prob) {
            ts += step(&mut rng, 30, 600);
            let ident = format!("{} <{}> {ts} +0000", AUTHORS[0].0, AUTHORS[0].1);
            let msg = format!(
                "Merge branch '{branch}'\n\nSigned-off-by: {} <{}>\n",
                AUTHORS[0].0, AUTHORS[0].1
            );
            write!(
                out,
                "commit refs/heads/main\nauthor {ident}\ncommitter {ident}\n{}merge refs/heads/{branch}\n\n",
                data(&msg)
            )?;
            write!(out, "reset refs/heads/{branch}\nfrom refs/heads/main\n\n")?;
            n += 1;
        }
    }
    writeln!(out, "checkpoint")?;
    Ok(())
}

/// Creates a bare repository at `dir` holding the generated history, `main` checked out as HEAD.
pub fn create(shape: &Shape, dir: &Path, git_env: &[(&str, &str)]) -> std::io::Result<()> {
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        c.args(args);
        for (k, v) in git_env {
            c.env(k, v);
        }
        c
    };
    let ok = |status: std::process::ExitStatus, what: &str| {
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("{what} failed")))
        }
    };
    let dir_s = dir.to_str().expect("a UTF-8 path");
    ok(
        git(&["init", "-q", "--bare", "-b", "main", dir_s]).status()?,
        "git init",
    )?;
    let mut fi = git(&["--git-dir", dir_s, "fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    {
        let stdin = fi.stdin.take().expect("piped stdin");
        let mut w = std::io::BufWriter::with_capacity(1 << 20, stdin);
        stream(shape, &mut w)?;
        w.flush()?;
    }
    ok(fi.wait()?, "git fast-import")?;
    ok(
        git(&[
            "--git-dir",
            dir_s,
            "symbolic-ref",
            "HEAD",
            "refs/heads/main",
        ])
        .status()?,
        "git symbolic-ref",
    )
}
