//! The cache never changes an answer: `list` with the cache equals `list --no-cache` on
//! generated histories, through new commits, merges, deleted branches, rewritten history,
//! edited session files and a damaged cache.

use crate::harness::TestRepo;
use crate::synth::{self, Shape};

/// A clone of a generated history with `commits` commits.
pub fn generated(commits: usize) -> TestRepo {
    let repo = TestRepo::bare_dir();
    let bare = repo.path.join("../origin.git");
    synth::create(
        &Shape {
            commits,
            end: crate::harness::T0 - 86_400,
            ..Shape::default()
        },
        &bare,
        &[
            ("GIT_CONFIG_GLOBAL", "/dev/null"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
        ],
    )
    .expect("history generated");
    repo.git(&["clone", "-q", bare.to_str().expect("path"), "."]);
    // Local branches for every generated branch, so rewriting them is possible.
    for b in repo
        .git(&["branch", "-r", "--format=%(refname:lstrip=3)"])
        .lines()
    {
        if b != "HEAD" && b != "main" {
            repo.git(&["branch", "-q", "--track", b, &format!("origin/{b}")]);
        }
    }
    repo
}

fn list(repo: &TestRepo, extra: &[&str]) -> String {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    let out = repo.run(&args);
    out.success();
    out.stdout()
}

/// Asserts the cached answer equals the fresh one, and returns it.
fn same(repo: &TestRepo, step: &str) -> String {
    let cached = list(repo, &[]);
    let fresh = list(repo, &["--no-cache"]);
    assert_eq!(cached, fresh, "cache changed the answer after: {step}");
    // And again, now that the cache was written.
    assert_eq!(list(repo, &[]), fresh, "second cached run after: {step}");
    fresh
}

fn cache_file(repo: &TestRepo) -> std::path::PathBuf {
    repo.path.join(".git/git-session/cache")
}

#[test]
fn cache_equals_no_cache_through_history_changes() {
    let repo = generated(3000);
    let first = same(&repo, "first build");
    assert!(
        cache_file(&repo).exists(),
        "the first list writes the cache"
    );
    let v: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert!(v.as_array().expect("array").len() > 10);

    let sessions: Vec<String> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_string())
        .collect();
    let target = &sessions[sessions.len() / 2];

    repo.tick(60);
    repo.commit(&format!(
        "More\n\nSession: {target}\nMilestone-Done: m1\nBlocker: #late x\n"
    ));
    same(&repo, "one new commit");

    // A branch from an old, non-tip commit: the walk must recognise old commits by id.
    repo.git(&["switch", "-q", "-c", "side", "HEAD~40"]);
    repo.commit(&format!("Side\n\nSession: {target}\nMilestone-Done: m2\n"));
    same(&repo, "a branch from an old commit");

    repo.git(&["switch", "-q", "main"]);
    repo.git(&[
        "merge",
        "-q",
        "--no-edit",
        "--no-ff",
        "-s",
        "ours",
        "feature/b1",
    ]);
    repo.git(&["branch", "-q", "-D", "feature/b1"]);
    repo.git(&["push", "-q", "--delete", "origin", "feature/b1"]);
    same(&repo, "merge and delete a branch");

    // Rewritten history: the old tip is no longer reachable.
    repo.git(&["switch", "-q", "feature/b2"]);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        "Rewritten\n\nBlocker-Resolved: #late\n",
    ]);
    repo.git(&["branch", "-q", "-f", "origin-b2-gone", "HEAD"]);
    repo.git(&["update-ref", "-d", "refs/remotes/origin/feature/b2"]);
    same(&repo, "amend a branch tip");

    repo.git(&["switch", "-q", "main"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~5"]);
    repo.git(&["update-ref", "-d", "refs/remotes/origin/main"]);
    repo.git(&["update-ref", "-d", "refs/remotes/origin/HEAD"]);
    repo.git(&["branch", "-q", "-D", "side"]);
    same(&repo, "reset main back");

    // A session file edited in place: its milestones change the answer.
    let path = format!(".sessions/{}.toml", sessions[0]);
    let text = repo.read(&path);
    repo.write(&path, &text.replace("id = \"m1\"", "id = \"m1-renamed\""));
    same(&repo, "edit a session file");
    std::fs::remove_file(repo.path.join(&path)).expect("remove");
    same(&repo, "remove a session file");
}

/// Commits that share a second with the newest one the cache covers (a burst, a rebase) are
/// told apart by the cache's list of that second, not by reading the known-commit table.
#[test]
fn commits_of_the_cached_newest_second_need_no_table() {
    let repo = generated(600);
    let first = same(&repo, "first build");
    let v: serde_json::Value = serde_json::from_str(&first).expect("json");
    let target = v[0]["name"].as_str().expect("name").to_string();
    let in_the_same_second = |what: &str| {
        let message = format!("{what}\n\nSession: {target}\nEffort: 5m\n");
        repo.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            &message,
        ]);
    };
    repo.tick(60);
    in_the_same_second("First of a burst");
    in_the_same_second("Second of a burst");
    // A full walk covers the burst: its second is the newest the cache holds.
    std::fs::remove_file(cache_file(&repo)).expect("remove the cache");
    same(&repo, "a burst of commits in one second");

    // Without the table, a commit that needed it would make the cache rebuild and write it.
    let table = repo.path.join(".git/git-session/cache-known");
    std::fs::remove_file(&table).expect("remove the table");
    // A branch from the first of the burst, which is no tip, made in the same second: the new
    // commit must count, and the first of the burst only once.
    repo.git(&["switch", "-q", "-c", "side", "HEAD~1"]);
    in_the_same_second("On a side branch");
    same(&repo, "a branch from a commit of the newest second");
    repo.git(&["switch", "-q", "main"]);
    in_the_same_second("Late in the second");
    same(&repo, "a new commit in the newest second");
    assert!(!table.exists(), "the known-commit table was needed");
}

#[test]
fn a_damaged_or_missing_cache_is_rebuilt_silently() {
    let repo = generated(600);
    let fresh = same(&repo, "first build");
    let file = cache_file(&repo);
    let good = std::fs::read(&file).expect("cache written");
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(&file, &bad).expect("damage");
    let out = repo.run(&["list", "--json"]);
    out.success();
    assert_eq!(out.stdout(), fresh);
    assert!(out.stderr().is_empty(), "silent: {}", out.stderr());
    std::fs::write(&file, b"garbage").expect("garbage");
    assert_eq!(list(&repo, &[]), fresh);
    std::fs::write(repo.path.join(".git/git-session/cache-known"), b"").expect("known");
    repo.tick(60);
    repo.commit("Another\n\nSession: s-000002\n");
    same(&repo, "a damaged known-commit file");
    std::fs::remove_dir_all(repo.path.join(".git/git-session")).expect("remove");
    same(&repo, "cache removed");
}

#[test]
fn no_cache_reads_and_writes_no_cache() {
    let repo = generated(300);
    list(&repo, &["--no-cache"]);
    assert!(!cache_file(&repo).exists());
}

#[test]
fn list_agrees_with_status() {
    let repo = generated(1500);
    let listed: serde_json::Value = serde_json::from_str(&list(&repo, &[])).expect("json");
    let names: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .step_by(7)
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    assert_agree_with_status(&repo, &listed, &names);
}

/// Asserts that `list`'s numbers for each of `names` in `listed` are `status`'s.
fn assert_agree_with_status(repo: &TestRepo, listed: &serde_json::Value, names: &[&str]) {
    for &name in names {
        let entry = crate::harness::listed(listed, name);
        let status = repo.json(&["status", name]);
        assert_eq!(entry["progress"], status["progress"], "{name}");
        assert_eq!(entry["commits"], status["commits"], "{name}");
    }
}

/// A session file with `created` at `created` (seconds).
fn session_text(name: &str, id: &str, created: i64) -> String {
    let created = chrono::DateTime::from_timestamp(created, 0)
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "schema = 1\nid = \"{id}\"\nname = \"{name}\"\nbranch = \"session/{name}\"\n\
         base = \"main\"\ncreated = {created}\nstatus = \"active\"\n"
    )
}

/// Sessions that `list` must count commit by commit (named by commits from before they
/// existed, or by both name and id) are counted in one walk, and each one as its own walk
/// counts it. Session `a`'s walk ends at the 33rd commit in a row older than its bound, so a
/// commit of `a` below `run` such commits counts only when they are 32 at most; one dated
/// exactly at the bound (`tie_at`) is not older and breaks the run. The walk for `b`, an
/// older session counted in the same walk, goes on past them. With `top`, a commit of `a`
/// sits above the run; without, the walk starts in it. Returns what `status a` counts, after
/// checking that `list` counts the same, with and without the cache.
fn count_below_old_commits(run: usize, tie_at: Option<usize>, top: bool) -> u64 {
    const DAY: i64 = 86_400;
    let repo = TestRepo::with_commit();
    let t = repo.now();
    let b_id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9b";
    repo.write(".sessions/b.toml", &session_text("b", b_id, t));
    repo.write(
        ".sessions/a.toml",
        &session_text("a", "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9a", t + 10 * DAY),
    );
    // `a`'s bound: its creation less the default clock skew of a day.
    let bound = t + 9 * DAY;
    // repo.commit moves the clock on by 600 s first.
    let at = |when: i64, message: &str| {
        repo.tick(when - 600 - repo.now());
        repo.commit(message);
    };
    at(t + 60, "Sessions");
    at(t + 120, "By name\n\nSession: b");
    at(t + 180, &format!("By id\n\nSession: {b_id}"));
    at(t + DAY, "Before a existed\n\nSession: a");
    at(t + 20 * DAY, "Below the old commits\n\nSession: a");
    for i in 0..run {
        let when = if tie_at == Some(i) {
            bound
        } else {
            t + 2 * DAY + i as i64
        };
        at(when, &format!("Old {i}"));
    }
    if top {
        at(t + 21 * DAY, "On top\n\nSession: a");
    }
    repo.tick(t + 30 * DAY - repo.now());

    let listed: serde_json::Value = serde_json::from_str(&same(&repo, "the set-up")).expect("json");
    assert_agree_with_status(&repo, &listed, &["a", "b"]);
    assert_eq!(repo.json(&["status", "b"])["commits"], 2);
    repo.json(&["status", "a"])["commits"]
        .as_u64()
        .expect("a count")
}

#[test]
fn sessions_counted_together_count_as_each_alone() {
    // (older commits in a row, one of them dated at the bound, a commit of `a` above them,
    // what `a` counts)
    let cases = [
        (32, None, true, 2),
        (33, None, true, 1),
        (40, None, true, 1),
        (40, Some(20), true, 2),
        (32, None, false, 1),
        (33, None, false, 0),
    ];
    for (run, tie_at, top, count) in cases {
        assert_eq!(
            count_below_old_commits(run, tie_at, top),
            count,
            "{run} older commits, tie at {tie_at:?}, top {top}"
        );
    }
}

/// Two session files with the same id (a copied file): each counts what names it, by name or
/// by the id, in `list` as in `status`, and `validate` says so.
#[test]
fn sessions_sharing_an_id_each_count_what_names_them() {
    let repo = TestRepo::with_commit();
    let t = repo.now();
    let id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e";
    repo.write(".sessions/a.toml", &session_text("a", id, t));
    repo.write(".sessions/b.toml", &session_text("b", id, t));
    repo.commit("Sessions");
    repo.commit("A\n\nSession: a");
    repo.commit("B\n\nSession: b");
    repo.commit(&format!("Both\n\nSession: {id}"));
    let listed: serde_json::Value = serde_json::from_str(&same(&repo, "the set-up")).expect("json");
    assert_agree_with_status(&repo, &listed, &["a", "b"]);
    assert_eq!(repo.json(&["status", "a"])["commits"], 2);
    assert_eq!(repo.json(&["status", "b"])["commits"], 2);
    let validate = repo.run(&["validate"]);
    validate.success();
    assert!(
        validate
            .stdout()
            .contains(&format!("sessions 'a', 'b' have the same id {id}")),
        "{}",
        validate.stdout()
    );
}

/// Many sessions named by commits from before they existed: `list` counts them all in one
/// walk, and agrees with `status` and with itself without the cache.
#[test]
fn many_sessions_named_before_they_existed_agree_with_status() {
    let repo = generated(1500);
    let mut moved = Vec::new();
    let dir = repo.path.join(".sessions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect(".sessions")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_stem().is_some_and(|s| s != "config"))
        .collect();
    files.sort();
    let count = |name: &str| repo.json(&["status", name])["commits"].as_u64();
    let mut before = Vec::new();
    for path in files.iter().step_by(2) {
        let text = std::fs::read_to_string(path).expect("session file");
        let Some(line) = text.lines().find(|l| l.starts_with("created = ")) else {
            continue;
        };
        // A day and two hours later: with a day's clock skew allowed, commits of its first two
        // hours now predate it, and later ones still count.
        let created = chrono::DateTime::parse_from_rfc3339(line.trim_start_matches("created = "))
            .expect("created parses");
        let later = (created + chrono::Duration::hours(26))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        before.push(count(&name));
        std::fs::write(path, text.replace(line, &format!("created = {later}"))).expect("write");
        moved.push(name);
    }
    assert!(moved.len() >= 3, "{moved:?}");
    repo.commit("Move the sessions' start");
    // Some lost commits to the move (named from before the session existed), some kept some.
    let after: Vec<_> = moved.iter().map(|n| count(n)).collect();
    assert!(
        after.iter().zip(&before).any(|(a, b)| a < b),
        "{before:?} {after:?}"
    );
    assert!(after.iter().any(|a| a.is_some_and(|a| a > 0)), "{after:?}");
    let listed: serde_json::Value =
        serde_json::from_str(&same(&repo, "moving created")).expect("json");
    let names: Vec<&str> = moved.iter().map(String::as_str).collect();
    assert_agree_with_status(&repo, &listed, &names);
}

/// The full walk reads on one thread and parses on another; where the system refuses the
/// second thread (a process limit; here a stack larger than any address space), it parses on
/// the first and answers the same.
#[test]
fn a_refused_thread_gives_the_same_listing() {
    let repo = generated(300);
    let expected = list(&repo, &["--no-cache"]);
    let refused = repo.run_with(&["list", "--json"], |cmd| {
        cmd.env("RUST_MIN_STACK", (1u64 << 62).to_string());
    });
    refused.success();
    assert_eq!(refused.stdout(), expected);
    assert!(repo.exists(".git/git-session/cache"), "the cache was built");
    assert_eq!(list(&repo, &[]), expected);
}
