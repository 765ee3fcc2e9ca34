//! Differential tests: the trailer reader against the real `git interpret-trailers` on
//! generated messages. Git is the oracle.

use std::process::Command;

use git_session::trailer::{self, TrailerConfig};

use crate::synth::Rng;

const LINES: &[&str] = &[
    "Session: s-001",
    "Milestone: m1",
    "Milestone-Done: m2",
    "Effort: 1h30m",
    "Task-Done: parser/lexer",
    "Blocker: #flaky CI is flaky",
    "Signed-off-by: A U Thor <a@example.com>",
    "signed-off-by: lower <l@x>",
    "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
    "prose line with words",
    "Another plain sentence.",
    "Key : spaced",
    "Key\t: tabbed",
    "Two words: value",
    "key_under: v",
    "dotted.key: v",
    "ünï: v",
    "-dash: v",
    "1: one",
    ": no key",
    "Key:",
    "Key:value",
    "Key: value: with: colons",
    "https://example.com/x",
    "  continued value",
    "\tcontinued by tab",
    " ",
    "",
    "",
    "",
    "# a comment",
    "#no space comment",
    "---",
    "--- ",
    "----",
    "Conflicts:",
    "\tsrc/a.rs",
    "# ------------------------ >8 ------------------------",
    "Bug #42",
    "Session= s-002",
    "Co-authored-by: B <b@example.com>",
    "Reviewed-by: C <c@example.com>",
];

fn message(rng: &mut Rng) -> Vec<u8> {
    let mut lines: Vec<String> = Vec::new();
    if rng.below(10) > 0 {
        lines.push(
            rng.pick(&["Subject", "Fix: thing", "feat(x): y", "", "  indented"])
                .to_string(),
        );
    }
    let n = rng.below(14);
    for _ in 0..n {
        lines.push(rng.pick(LINES).to_string());
    }
    let eol = if rng.below(8) == 0 { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if rng.below(5) > 0 {
        text.push_str(eol);
    }
    text.into_bytes()
}

fn git_parse(message: &[u8], config: &[(&str, &str)], no_divider: bool) -> Vec<u8> {
    let mut cmd = Command::new("git");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", "/nonexistent")
        .env("LC_ALL", "C")
        .current_dir(std::env::temp_dir());
    for (k, v) in config {
        cmd.arg("-c").arg(format!("{k}={v}"));
    }
    cmd.args(["interpret-trailers", "--parse"]);
    if no_divider {
        cmd.arg("--no-divider");
    }
    let out = crate::harness::output_with_stdin(&mut cmd, message);
    assert!(out.status.success());
    out.stdout
}

fn ours(message: &[u8], cfg: &TrailerConfig, no_divider: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for t in trailer::parse(message, cfg, no_divider) {
        out.extend_from_slice(&t.key);
        out.extend_from_slice(b": ");
        out.extend_from_slice(&t.value);
        out.push(b'\n');
    }
    out
}

fn compare(seed: u64, count: usize, config: &[(&str, &str)]) {
    let cfg = TrailerConfig::from_entries(config.iter().copied());
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for i in 0..count {
        let msg = message(&mut rng);
        let no_divider = i % 3 != 0;
        let want = git_parse(&msg, config, no_divider);
        let got = ours(&msg, &cfg, no_divider);
        if want != got {
            failures.push(format!(
                "message {:?} (no_divider={no_divider}):\n  git  {:?}\n  ours {:?}",
                String::from_utf8_lossy(&msg),
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn generated_messages_default_config() {
    compare(0x5EED_0001, 600, &[]);
}

#[test]
fn generated_messages_custom_config() {
    compare(
        0x5EED_0002,
        300,
        &[
            ("core.commentChar", ";"),
            ("trailer.separators", ":=#"),
            ("trailer.sess.key", "Session"),
        ],
    );
}

/// Commits with exactly these messages (no newline completion, leading blank lines kept), read
/// back by `git log --format=%(trailers:only,unfold)` and by the tool's history reader.
#[test]
fn generated_commits_match_git_log() {
    let repo = crate::harness::TestRepo::new();
    let tree = repo.git(&["hash-object", "-t", "tree", "-w", "--stdin"]);
    let tree = tree.trim();
    let mut rng = Rng(0x5EED_0003);
    let mut ids = Vec::new();
    for i in 0..200 {
        let mut msg = message(&mut rng);
        if i % 7 == 0 {
            msg.splice(0..0, b"\n \n".iter().copied());
        }
        let mut object = format!(
            "tree {tree}\nauthor A <a@x> {t} +0000\ncommitter A <a@x> {t} +0000\n\n",
            t = 1_700_000_000 + i
        )
        .into_bytes();
        object.extend_from_slice(&msg);
        ids.push(repo.write_object("commit", &object));
    }
    let mut args = vec![
        "log",
        "--no-walk=unsorted",
        "--format=format:%H%x00%(trailers:only,unfold)%x01",
    ];
    args.extend(ids.iter().map(String::as_str));
    let log = repo.git_bytes(&args);
    let opened = git_session::repo::Repo::open(&repo.path).expect("repository opens");
    let mut failures = Vec::new();
    for record in log.split(|&b| b == 1).filter(|r| r.len() > 1) {
        let record = record.strip_prefix(b"\n").unwrap_or(record);
        let nul = record
            .iter()
            .position(|&b| b == 0)
            .expect("id and trailers");
        let id = std::str::from_utf8(&record[..nul]).expect("hex id");
        let want = &record[nul + 1..];
        let commit = git_session::repo::CommitId::from_hex(id).expect("an id");
        let got = opened
            .with_commit(commit, |c| {
                let mut out = Vec::new();
                for t in trailer::parse_history(&c.message, opened.trailer_config()) {
                    out.extend_from_slice(&t.key);
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(&t.value);
                    out.push(b'\n');
                }
                (out, c.message.to_vec())
            })
            .expect("commit readable");
        if got.0 != want {
            failures.push(format!(
                "{id} message {:?}:\n  git  {:?}\n  ours {:?}",
                String::from_utf8_lossy(&got.1),
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&got.0)
            ));
        }
    }
    assert_eq!(log.split(|&b| b == 1).filter(|r| r.len() > 1).count(), 200);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Random messages over a wider alphabet than `LINES`: keys of any characters, spaces before
/// separators, CR, tabs, NUL, bytes that are not UTF-8, comment and divider lines, runs of
/// blank lines. A difference from git is shrunk (lines, then bytes) before it is reported.
#[test]
fn random_byte_messages_match_interpret_trailers() {
    const KEYS: &[&[u8]] = &[
        b"Session",
        b"Milestone-Done",
        b"Signed-off-by",
        b"key",
        b"K",
        b"-",
        b"_",
        b".",
        b"1",
        b"\xc3\xa9",
        b"\xff",
        b"(cherry picked from commit ",
        b"* ",
        b"#",
        b"%",
    ];
    const SPACE: &[&[u8]] = &[b"", b"", b" ", b"\t", b"  ", b" \t", b"\r", b"\x0b"];
    const SEPS: &[&[u8]] = &[b":", b":", b"=", b"#", b"%"];
    const VALUES: &[&[u8]] = &[
        b"value",
        b"v a l",
        b"<a@x>",
        b":",
        b"\r",
        b"\xff",
        b"\xc3\xa9",
        b"  ",
        b"\t",
        b"#x",
        b"\x0c",
    ];
    const LINES: &[&[u8]] = &[
        b"",
        b" ",
        b"\t",
        b"\r",
        b"---",
        b"--- x",
        b"# comment",
        b"% comment",
        b"# ------------------------ >8 ------------------------",
        b"Conflicts:",
        b"\tpath",
        b"prose words here",
        b"---------",
    ];
    let mut rng = Rng(0x5EED_0004);
    let mut failures = Vec::new();
    for i in 0..400 {
        let mut msg = Vec::new();
        let pick = |rng: &mut Rng, from: &[&'static [u8]]| from[rng.below(from.len())];
        for _ in 0..rng.below(12) {
            match rng.below(5) {
                // Key, space, separator, value: what git may take for a trailer.
                0 | 1 => {
                    for _ in 0..=rng.below(2) {
                        msg.extend_from_slice(pick(&mut rng, KEYS));
                    }
                    msg.extend_from_slice(pick(&mut rng, SPACE));
                    msg.extend_from_slice(pick(&mut rng, SEPS));
                    msg.extend_from_slice(pick(&mut rng, SPACE));
                    for _ in 0..rng.below(3) {
                        msg.extend_from_slice(pick(&mut rng, VALUES));
                    }
                }
                // A continuation line.
                2 => {
                    msg.extend_from_slice(pick(&mut rng, &[b" ", b"\t", b"  "]));
                    msg.extend_from_slice(pick(&mut rng, VALUES));
                }
                3 => msg.extend_from_slice(pick(&mut rng, LINES)),
                _ => {
                    for _ in 0..rng.below(5) {
                        let from = [KEYS, SPACE, SEPS, VALUES][rng.below(4)];
                        msg.extend_from_slice(pick(&mut rng, from));
                    }
                }
            }
            msg.push(b'\n');
        }
        if rng.below(3) == 0 {
            msg.pop();
        }
        let config: &[(&str, &str)] = if i % 4 == 3 {
            &[("trailer.separators", ":="), ("core.commentChar", "%")]
        } else {
            &[]
        };
        let no_divider = i % 2 == 0;
        let cfg = TrailerConfig::from_entries(config.iter().copied());
        let differs = |m: &[u8]| git_parse(m, config, no_divider) != ours(m, &cfg, no_divider);
        if differs(&msg) {
            let small = shrink(msg, &differs);
            failures.push(format!(
                "{:?} (no_divider={no_divider}, config={config:?}):\n  git  {:?}\n  ours {:?}",
                String::from_utf8_lossy(&small),
                String::from_utf8_lossy(&git_parse(&small, config, no_divider)),
                String::from_utf8_lossy(&ours(&small, &cfg, no_divider)),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The smallest message found, by dropping whole lines then single bytes, that still differs.
fn shrink(mut msg: Vec<u8>, differs: &dyn Fn(&[u8]) -> bool) -> Vec<u8> {
    loop {
        let before = msg.len();
        let lines: Vec<&[u8]> = msg.split_inclusive(|&b| b == b'\n').collect();
        if let Some(smaller) = (0..lines.len())
            .map(|skip| {
                let mut m = Vec::new();
                for (i, l) in lines.iter().enumerate() {
                    if i != skip {
                        m.extend_from_slice(l);
                    }
                }
                m
            })
            .find(|m| differs(m))
        {
            msg = smaller;
            continue;
        }
        if let Some(smaller) = (0..msg.len())
            .map(|skip| {
                let mut m = msg.clone();
                m.remove(skip);
                m
            })
            .find(|m| differs(m))
        {
            msg = smaller;
        }
        if msg.len() == before {
            return msg;
        }
    }
}

/// `Repo::range` (git's `limit_list` on raw commits) against git on random histories: merges,
/// criss-crosses, and committer dates that disagree with the graph. The expected set is exact:
/// what `git rev-list <a>` lists minus what `git rev-list <b>...` lists. (git's own
/// `<a> ^<b>` stops early on skewed clocks, a known trade-off; the tool walks a day further.)
#[test]
fn range_matches_git_on_random_histories_with_skewed_clocks() {
    let repo = crate::harness::TestRepo::new();
    let tree = repo.git(&["hash-object", "-t", "tree", "-w", "--stdin"]);
    let tree = tree.trim().to_string();
    let mut rng = Rng(0x5EED_0005);
    let mut ids: Vec<String> = Vec::new();
    for i in 0..80 {
        let mut args = vec![
            "commit-tree".to_string(),
            tree.clone(),
            "-m".into(),
            format!("c{i}"),
        ];
        if !ids.is_empty() {
            let n = 1 + usize::from(rng.below(3) == 0);
            for _ in 0..n {
                let p = ids[ids.len() - 1 - rng.below(ids.len().min(12))].clone();
                if !args.contains(&p) {
                    args.push("-p".into());
                    args.push(p);
                }
            }
        }
        // Mostly increasing, sometimes up to half a day before its parents.
        let time = 1_700_000_000 + i as i64 * 60
            - if rng.below(5) == 0 {
                rng.below(12 * 3600) as i64
            } else {
                0
            };
        let date = format!("{time} +0000");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = repo.git_with(&args, |c| {
            c.env("GIT_COMMITTER_DATE", &date)
                .env("GIT_AUTHOR_DATE", &date);
        });
        assert!(out.status.success());
        ids.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let opened = git_session::repo::Repo::open(&repo.path).expect("repository opens");
    let id = |hex: &str| git_session::repo::CommitId::from_hex(hex).expect("an id");
    let rev_list = |revs: &[&str]| -> std::collections::BTreeSet<String> {
        let mut args = vec!["rev-list"];
        args.extend_from_slice(revs);
        repo.git(&args).lines().map(str::to_string).collect()
    };
    let mut failures = Vec::new();
    for _ in 0..150 {
        let a = ids[rng.below(ids.len())].clone();
        let hide: Vec<String> = (0..=rng.below(2))
            .map(|_| ids[rng.below(ids.len())].clone())
            .collect();
        let hidden: Vec<&str> = hide.iter().map(String::as_str).collect();
        let want: std::collections::BTreeSet<String> = rev_list(&[&a])
            .difference(&rev_list(&hidden))
            .cloned()
            .collect();
        let (got, truncated) = opened
            .range(id(&a), &hide.iter().map(|h| id(h)).collect::<Vec<_>>())
            .expect("range");
        assert!(!truncated);
        let got: std::collections::BTreeSet<String> = got.iter().map(|c| c.hex()).collect();
        if got != want {
            failures.push(format!(
                "{a} ^{hide:?}: git {} commits, ours {}; only git: {:?}; only ours: {:?}",
                want.len(),
                got.len(),
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
