//! Adversarial repositories, built with real git: unsafe names, hostile session files, hostile
//! commit messages, odd repository shapes, races and crashes. Each case gives a correct answer
//! or one clear sentence with the documented exit code, and loses or leaks nothing.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::{Run, TestRepo, bin};

/// A repository with `init` done and session `s` (milestone `m`, task `t`) started from `main`
/// and committed on its branch.
fn started() -> TestRepo {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    repo.tick(60);
    repo.run(&["start", "s", "--milestone", "m"]).success();
    let text = repo
        .read(".sessions/s.toml")
        .replace("title = \"m\"", "title = \"m\"\ntasks = [\"t\"]");
    repo.write(".sessions/s.toml", &text);
    repo.commit("Start s\n\nSession: s\n");
    repo
}

/// Writes a commit object with exactly `message` (no cleanup, any bytes) on top of HEAD, with
/// HEAD's tree, and moves the current branch to it.
fn commit_raw(repo: &TestRepo, message: &[u8]) -> String {
    repo.tick(60);
    let when = format!("{} +0000", repo.now());
    commit_raw_at(repo, message, &when)
}

/// As [`commit_raw`], with `when` (seconds and zone, any text) as author and committer date.
fn commit_raw_at(repo: &TestRepo, message: &[u8], when: &str) -> String {
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    let parent = repo.git(&["rev-parse", "HEAD"]);
    let mut object = format!(
        "tree {}\nparent {}\nauthor A <a@x> {when}\ncommitter A <a@x> {when}\n\n",
        tree.trim(),
        parent.trim(),
    )
    .into_bytes();
    object.extend_from_slice(message);
    let id = repo.write_object("commit", &object);
    repo.git(&["update-ref", "HEAD", &id]);
    id
}

/// Asserts a one-line error with `code` that does not show `secret` anywhere.
fn refused_without_leaking(run: &Run, code: i32, needle: &str, secret: &str) {
    run.fails_with(code, needle);
    assert!(!run.stderr().contains(secret), "{}", run.stderr());
    assert!(!run.stdout().contains(secret), "{}", run.stdout());
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

const BAD_NAMES: &[&str] = &[
    "../x", "/abs", "a/b", "..", "", "Upper", "é", "-lead", "a b", "a\nb",
];

#[test]
fn every_command_taking_a_name_refuses_unsafe_ones_before_reading_anything() {
    let repo = started();
    // A broken policy file: a command that opened the repository's files before checking the
    // name would report this instead.
    repo.write(".sessions/config.toml", "this is = = not toml\n");
    let long = "x".repeat(64);
    let mut names: Vec<&str> = BAD_NAMES.to_vec();
    names.push(&long);
    for bad in names {
        for cmd in ["status", "log", "check", "trust", "start"] {
            repo.run(&[cmd, "--", bad])
                .fails_with(2, "is not a valid session name");
        }
        repo.run(&["focus", "--", bad])
            .fails_with(2, "is not a valid milestone id");
    }
    repo.run(&["status", "config"]).fails_with(2, "is reserved");
}

#[test]
fn a_symlinked_session_file_is_refused_without_reading_or_naming_its_target() {
    let repo = started();
    let secret_file = repo.path.join("../secret-token.txt");
    std::fs::write(&secret_file, "TOKEN=hunter2-very-secret\n").expect("secret");
    std::os::unix::fs::symlink(&secret_file, repo.path.join(".sessions/leak.toml"))
        .expect("symlink");
    for args in [
        &["status", "leak"][..],
        &["log", "leak"],
        &["check", "leak"],
    ] {
        let run = repo.run(args);
        refused_without_leaking(&run, 2, ".sessions/leak.toml is a symlink", "hunter2");
        assert!(!run.stderr().contains("secret-token"), "{}", run.stderr());
    }
    let validate = repo.run(&["validate"]);
    validate.expect_code(1);
    assert!(
        validate
            .stdout()
            .contains(".sessions/leak.toml:1:1: the file is a symlink"),
        "{}",
        validate.stdout()
    );
    assert!(!validate.stdout().contains("secret-token"));
    let list = repo.run(&["list"]);
    list.success();
    assert!(list.stdout().contains("s "), "{}", list.stdout());
    assert!(!list.stderr().contains("hunter2") && !list.stderr().contains("secret-token"));
}

#[test]
fn special_and_huge_session_files_are_refused_unread() {
    let repo = started();
    let fifo = repo.path.join(".sessions/pipe.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    std::fs::create_dir(repo.path.join(".sessions/dir.toml")).expect("dir");
    let mut huge = repo.read(".sessions/s.toml").replace("\"s\"", "\"huge\"");
    huge.push_str(&format!("# {}\n", "x".repeat(1 << 20)));
    repo.write(".sessions/huge.toml", &huge);
    // A FIFO would block a reader for ever; it is refused before it is opened.
    repo.run(&["status", "pipe"])
        .fails_with(2, ".sessions/pipe.toml is not a regular file");
    repo.run(&["status", "dir"])
        .fails_with(2, ".sessions/dir.toml is not a regular file");
    repo.run(&["status", "huge"])
        .fails_with(2, ".sessions/huge.toml is larger than 1 MB");
    let validate = repo.run(&["validate"]);
    validate.expect_code(1);
    let out = validate.stdout();
    for f in ["pipe", "dir", "huge"] {
        assert!(
            out.contains(&format!(".sessions/{f}.toml:1:1: the file ")),
            "{out}"
        );
    }
    repo.run(&["list"]).success();
}

#[test]
fn a_symlinked_sessions_directory_is_never_read_or_written_through() {
    let repo = started();
    let elsewhere = repo.path.join("../elsewhere");
    std::fs::rename(repo.path.join(".sessions"), &elsewhere).expect("move");
    std::os::unix::fs::symlink(&elsewhere, repo.path.join(".sessions")).expect("symlink");
    let before: Vec<_> = std::fs::read_dir(&elsewhere).expect("dir").collect();
    for args in [
        &["status", "s"][..],
        &["list"],
        &["validate"],
        &["start", "other", "--milestone", "a"],
    ] {
        repo.run(args).fails_with(2, ".sessions is a symlink");
    }
    let after: Vec<_> = std::fs::read_dir(&elsewhere).expect("dir").collect();
    assert_eq!(
        before.len(),
        after.len(),
        "something was written through the link"
    );
}

#[test]
fn a_symlinked_policy_file_is_refused_without_printing_it() {
    let repo = started();
    let secret_file = repo.path.join("../secret.toml");
    std::fs::write(&secret_file, "[branch]\nprefix = \"hunter2/\"\n").expect("secret");
    std::fs::remove_file(repo.path.join(".sessions/config.toml")).expect("rm");
    std::os::unix::fs::symlink(&secret_file, repo.path.join(".sessions/config.toml"))
        .expect("symlink");
    let run = repo.run(&["status", "s"]);
    refused_without_leaking(&run, 2, ".sessions/config.toml is a symlink", "hunter2");
    let validate = repo.run(&["validate"]);
    assert!(!validate.stdout().contains("hunter2"));
    assert!(
        !validate
            .stdout()
            .contains(".sessions/config.toml:1:1: .sessions/config.toml"),
        "the path is said twice: {}",
        validate.stdout()
    );
}

/// Regression: validate printed two positions (`:1:1: 2:7:`) for a file that is not UTF-8.
#[test]
fn invalid_utf8_is_reported_at_one_position() {
    let repo = started();
    std::fs::write(
        repo.path.join(".sessions/bytes.toml"),
        b"schema = 1\nid = \"\xff\"\n",
    )
    .expect("write");
    let validate = repo.run(&["validate"]);
    validate.expect_code(1);
    assert!(
        validate
            .stdout()
            .contains(".sessions/bytes.toml:2:7: the file is not valid UTF-8; save it as UTF-8\n"),
        "{}",
        validate.stdout()
    );
    repo.run(&["status", "bytes"])
        .fails_with(2, ".sessions/bytes.toml:2:7: the file is not valid UTF-8");
}

/// Regression: a session file whose name is not UTF-8 was skipped without a word. (Linux:
/// macOS file systems refuse such names.)
#[cfg(target_os = "linux")]
#[test]
fn a_file_name_that_is_not_utf8_is_reported_not_skipped() {
    use std::os::unix::ffi::OsStrExt;
    let repo = started();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.toml");
    std::fs::write(repo.path.join(".sessions").join(name), "schema = 1\n").expect("write");
    let validate = repo.run(&["validate"]);
    validate.expect_code(1);
    assert!(
        validate
            .stdout()
            .contains(".sessions/caf\u{fffd}.toml:1:1: the file name is not a session name"),
        "{}",
        validate.stdout()
    );
    let list = repo.run(&["list"]);
    list.success();
    assert!(
        list.stderr().contains("caf\u{fffd}.toml"),
        "{}",
        list.stderr()
    );
}

/// Each hostile TOML file is an error naming file, line and column: never a crash or a hang.
#[test]
fn hostile_toml_gives_file_line_and_column() {
    let repo = started();
    let good = repo.read(".sessions/s.toml");
    let named = |n: &str| good.replace("name = \"s\"", &format!("name = \"{n}\""));
    let deep_arrays = format!(
        "{}\nx = {}{}\n",
        named("deep-a"),
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let deep_tables = format!(
        "{}\nx = {}1{}\n",
        named("deep-t"),
        "{a=".repeat(100_000),
        "}".repeat(100_000)
    );
    let deep_keys = format!("{}\n[{}]\n", named("deep-k"), vec!["a"; 200_000].join("."));
    let huge_array = named("huge-array").replace(
        "objectives = []",
        &format!("objectives = [{}1]", "\"x\",".repeat(150_000)),
    );
    let duplicate = format!("status = \"done\"\n{}", named("dup"));
    let wrong_type = named("wrong").replace("status = \"active\"", "status = 3");
    let cases: Vec<(&str, String, &str)> = vec![
        ("deep-a", deep_arrays, ""),
        ("deep-t", deep_tables, ""),
        ("deep-k", deep_keys, ""),
        ("huge-array", huge_array, "invalid type"),
        ("dup", duplicate, "duplicate key"),
        (
            "wrong",
            wrong_type,
            "invalid type: integer `3`, expected a string",
        ),
    ];
    for (name, text, needle) in &cases {
        assert!(text.len() < 1 << 20, "{name} must stay under the size cap");
        repo.write(&format!(".sessions/{name}.toml"), text);
        let run = repo.run(&["status", name]);
        run.fails_with(2, &format!(".sessions/{name}.toml:"));
        assert!(run.stderr().contains(needle), "{name}: {}", run.stderr());
        let position = run
            .stderr()
            .split(&format!(".sessions/{name}.toml:"))
            .nth(1)
            .map(|rest| rest.split(':').take(2).all(|n| n.parse::<usize>().is_ok()))
            .unwrap_or(false);
        assert!(position, "{name}: no line and column in {}", run.stderr());
    }
    let validate = repo.run(&["validate", "--json"]);
    validate.expect_code(1);
    let v: Value = serde_json::from_slice(validate.stdout_bytes()).expect("json");
    assert_eq!(v["errors"].as_array().expect("errors").len(), cases.len());
}

#[test]
fn a_byte_order_mark_is_read_in_the_work_tree_and_on_a_branch() {
    let repo = started();
    let text = repo.read(".sessions/s.toml");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    std::fs::write(repo.path.join(".sessions/s.toml"), &bom).expect("write");
    repo.run(&["status", "s"]).success();
    repo.commit("BOM\n\nSession: s\n");
    // On main the file exists only on the session's branch: it is read from there.
    repo.git(&["checkout", "-q", "main"]);
    assert!(!repo.exists(".sessions/s.toml"));
    let s = repo.json(&["status", "s"]);
    assert_eq!(s["session"]["name"], "s");
    // And one that is not UTF-8 there says where.
    repo.git(&["checkout", "-q", "session/s"]);
    std::fs::write(repo.path.join(".sessions/s.toml"), b"schema = 1\n\xff\n").expect("write");
    repo.commit("Break it\n\nSession: s\n");
    repo.git(&["checkout", "-q", "main"]);
    repo.run(&["status", "s"]).fails_with(
        2,
        "session/s:.sessions/s.toml:2:1: the file is not valid UTF-8",
    );
}

#[test]
fn concurrent_starts_of_one_name_have_exactly_one_winner_and_a_whole_file() {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    let children: Vec<_> = (0..8)
        .map(|_| {
            repo.command(bin())
                .args(["start", "same", "--milestone", "m", "--no-edit"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let winners = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(winners, 1, "{outs:#?}");
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("error: ") && err.trim_end().lines().count() == 1,
            "{err}"
        );
        assert!(err.contains("already exists"), "{err}");
    }
    let text = repo.read(".sessions/same.toml");
    let s = git_session::session::parse(&text, Some("same")).expect("a whole, valid file");
    assert_eq!(s.milestones.len(), 1);
    repo.run(&["validate"]).success();
    let leftovers: Vec<String> = std::fs::read_dir(repo.path.join(".sessions"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    assert!(!repo.path.join(".git/git-session/lock").exists());
}

#[test]
fn stale_temporary_files_are_not_sessions() {
    let repo = started();
    // What a crash between writing and renaming leaves behind.
    repo.write(".sessions/.tmp-a1B2c3.partial", "schema = 1\nname = \"half");
    repo.write(".sessions/.tmp-zz.partial", "");
    let before = repo.read(".sessions/s.toml");
    let list = repo.json(&["list"]);
    assert_eq!(list.as_array().expect("array").len(), 1);
    let validate = repo.run(&["validate"]);
    validate.success();
    assert!(
        validate
            .stdout()
            .contains("1 session file checked: 0 errors"),
        "{}",
        validate.stdout()
    );
    assert_eq!(repo.read(".sessions/s.toml"), before);
    repo.run(&["start", "next", "--milestone", "a"]).success();
    repo.run(&["validate"]).success();
}

/// Regression: files were written 0600 (tempfile's default), unlike any file git or an editor
/// writes, so a shared checkout could not read them.
#[test]
fn written_files_get_the_permissions_of_any_new_file() {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    repo.run(&["start", "perm", "--milestone", "a"]).success();
    let probe = repo.path.join("probe");
    std::fs::write(&probe, "x").expect("probe");
    let expected = mode_of(&probe);
    assert_eq!(mode_of(&repo.path.join(".sessions/perm.toml")), expected);
    assert_eq!(mode_of(&repo.path.join(".sessions/config.toml")), expected);
}

/// The lock file of a process that died: same machine boot, same pid namespace, no process.
#[cfg(target_os = "linux")]
fn dead_holder() -> String {
    let mut child = Command::new("true").spawn().expect("true");
    let pid = child.id();
    child.wait().expect("reaped");
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").expect("boot id");
    let ns = std::fs::read_link("/proc/self/ns/pid").expect("pid namespace");
    format!("pid {pid}\nboot {}\npidns {}\n", boot.trim(), ns.display())
}

#[cfg(target_os = "linux")]
#[test]
fn a_lock_left_by_a_dead_process_does_not_wedge_the_tool() {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    let lock = repo.path.join(".git/git-session/lock");
    std::fs::write(&lock, dead_holder()).expect("lock");
    repo.run(&["start", "after-crash", "--milestone", "a"])
        .success();
    assert!(!lock.exists());
    assert!(repo.exists(".sessions/after-crash.toml"));
}

#[test]
fn a_live_lock_is_waited_for_then_named_in_the_error() {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    let lock = repo.path.join(".git/git-session/lock");
    // Held by this test process, which is alive.
    std::fs::write(&lock, format!("pid {}\n", std::process::id())).expect("lock");
    let run = repo.run(&["start", "blocked", "--milestone", "a"]);
    run.fails_with(2, "another git-session is writing");
    assert!(
        run.stderr().contains(&lock.display().to_string()),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr()
            .contains(&format!("process {}", std::process::id()))
    );
    assert!(lock.exists(), "a live lock must not be broken");
    assert!(!repo.exists(".sessions/blocked.toml"));
}

#[test]
fn hostile_commit_messages_give_answers_not_crashes() {
    let repo = started();
    commit_raw(&repo, b"bad \xff\xfe utf8\n\nSession: s\nMilestone: m\n");
    commit_raw(&repo, b"nul\n\nSession: s\nEffort: 1h\0\nEffort: 9h\n");
    commit_raw(&repo, b"cr only\r\rSession: s\rEffort: 5h\r");
    commit_raw(&repo, b"crlf\r\n\r\nSession: s\r\nEffort: 2h\r\n");
    let mut huge = b"megabyte body\n\n".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 2 << 20));
    huge.extend_from_slice(b"\n\nSession: s\nTask-Done: m/t\n");
    commit_raw(&repo, &huge);
    let mut many = b"thousands of trailers\n\nSession: s\n".to_vec();
    for i in 0..5000 {
        many.extend_from_slice(format!("Blocker: #b{i} text {i}\nSession: other-{i}\n").as_bytes());
    }
    commit_raw(&repo, &many);
    commit_raw(&repo, b"");
    commit_raw(&repo, b"\n\n\n");
    commit_raw(&repo, b"Session: s\n");

    let s = repo.json(&["status", "s"]);
    // Effort: 1h (cut at the NUL, as git reads it) + 2h (CRLF); the CR-only message is one line.
    assert_eq!(s["effort"]["reported_minutes"], 180, "{}", s["effort"]);
    assert_eq!(s["milestones"][0]["tasks_done"], 1);
    assert_eq!(s["milestones"][0]["state"], "in_progress");
    assert_eq!(s["blockers"].as_array().expect("blockers").len(), 5000);
    let warnings = s["warnings"].to_string();
    assert!(
        warnings.contains("the commit names 5001 sessions; only the first 32 count"),
        "{warnings}"
    );
    repo.run(&["status", "s"]).success();
    repo.run(&["log", "s"]).success();
    let log: Value = repo.json(&["log", "s"]);
    assert!(log.as_array().expect("entries").len() >= 6);
    repo.run(&["list"]).success();
    repo.run(&["list", "--no-cache"]).success();
    repo.run(&["validate"]).success();
    repo.run(&["check", "s", "--no-commands"]).expect_code(1);
    // The reader agrees with git on each of them.
    for rev in ["HEAD~8", "HEAD~7", "HEAD~6", "HEAD~5", "HEAD~4", "HEAD"] {
        let ours = repo.run(&["debug-trailers", rev]);
        ours.success();
        let git = repo.git_bytes(&["log", "-1", "--format=%(trailers:only,unfold)", rev]);
        let git = git.strip_suffix(b"\n").unwrap_or(&git);
        assert_eq!(ours.stdout_bytes(), git, "{rev}");
    }
}

/// Dates at the ends of i64 and absurd zones: arithmetic on them must neither overflow (a
/// panic in a debug build) nor fail a command.
#[test]
fn extreme_commit_dates_and_zones_do_not_crash() {
    let repo = started();
    for when in [
        "9223372036854775807 +9999",
        "-9223372036854775808 -9999",
        "0 +0000",
        "-1 -2147483648",
        "99999999999999999999 +0100",
        "nonsense",
    ] {
        commit_raw_at(&repo, b"Odd date\n", when);
        commit_raw_at(&repo, b"Odd date, linked\n\nSession: s\nEffort: 1h\n", when);
    }
    repo.json(&["status", "s"]);
    repo.run(&["status", "s"]).success();
    repo.run(&["log", "s"]).success();
    repo.json(&["log", "s"]);
    repo.run(&["list"]).success();
    repo.run(&["list", "--no-cache"]).success();
    repo.run(&["validate"]).success();
    repo.run(&["check", "s", "--no-commands"]).expect_code(1);
    // A session can start from such a commit, as git can branch from it.
    repo.run(&["start", "next", "--milestone", "a", "--base", "session/s"])
        .success();
    assert_eq!(
        repo.git(&["rev-parse", "session/next"]),
        repo.git(&["rev-parse", "session/s"])
    );
}

#[test]
fn unborn_detached_and_orphan_heads() {
    // Unborn: start works, check has nothing to stand on (exit 3), the rest answer.
    let repo = TestRepo::new();
    repo.run(&["start", "s", "--milestone", "m"]).success();
    repo.json(&["status", "s"]);
    repo.json(&["status"]);
    repo.run(&["list"]).success();
    repo.run(&["log", "s"]).success();
    repo.run(&["check"])
        .fails_with(3, "HEAD has no commits yet");

    // Detached: the current session is unknown, a named one is fine.
    let repo = started();
    repo.git(&["checkout", "-q", "--detach"]);
    repo.run(&["status"]).fails_with(2, "HEAD is detached");
    repo.json(&["status", "s"]);
    // check finds it by the Session trailers between its base and HEAD.
    let check = repo.run(&["check"]);
    check.expect_code(1);
    assert!(
        check.stdout().contains("main..HEAD (its base)"),
        "{}",
        check.stdout()
    );

    // An orphan branch with its own session, unrelated to main.
    repo.git(&["checkout", "-q", "--orphan", "island"]);
    repo.git(&["rm", "-rq", "--cached", "."]);
    repo.commit("Island root\n\nSession: s\nMilestone: m\n");
    let s = repo.json(&["status", "s"]);
    assert_eq!(s["milestones"][0]["state"], "in_progress");
}

#[test]
fn a_bare_repository_is_refused_in_one_sentence() {
    let repo = started();
    let bare = repo.path.join("../bare.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().expect("utf-8")]);
    for args in [
        &["status", "s"][..],
        &["list"],
        &["check"],
        &["validate"],
        &["init"],
    ] {
        repo.run_with(args, |c| {
            c.current_dir(&bare);
        })
        .fails_with(2, "bare repository");
    }
}

#[test]
fn a_partial_clone_never_fetches_a_missing_session_file() {
    let repo = started();
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    let source = repo.path.clone();
    let clone = source.parent().expect("temp dir").join("partial");
    repo.git(&[
        "clone",
        "-q",
        "--filter=blob:none",
        &format!("file://{}", source.display()),
        clone.to_str().expect("utf-8"),
    ]);
    // Any fetch would now fail loudly; the tool must not even try.
    let gone = source.parent().expect("temp dir").join("gone");
    std::fs::rename(&source, &gone).expect("move the origin away");
    let objects = |dir: &Path| {
        let out = repo.git_with(&["count-objects", "-v"], |c| {
            c.current_dir(dir);
        });
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = objects(&clone);
    let run_in = |args: &[&str]| {
        repo.run_with(args, |c| {
            c.current_dir(&clone);
        })
    };
    run_in(&["status", "s"]).fails_with(3, "is not in this repository (a partial clone");
    run_in(&["list"]).success();
    run_in(&["check", "--base", "main"]).success();
    assert_eq!(objects(&clone), before, "objects were fetched");
    std::fs::rename(&gone, &source).expect("restore");
}

#[test]
fn a_repository_owned_by_another_user_is_refused_with_the_safe_directory_hint() {
    let repo = started();
    std::fs::create_dir(repo.path.join("sub")).expect("sub");
    let chown = |owner: &str| {
        Command::new("chown")
            .args(["-R", owner])
            .arg(&repo.path)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !chown("nobody") {
        // Only root can hand a directory to another user; the message is unit-tested in repo.rs.
        eprintln!("skipped: cannot chown as this user");
        return;
    }
    let top = repo.path.display().to_string();
    for dir in [repo.path.clone(), repo.path.join("sub")] {
        let run = repo.run_with(&["status", "s"], |c| {
            c.current_dir(&dir);
        });
        run.fails_with(2, "another user owns it; if you trust it, run: git config");
        // The directory to trust is the top of the work tree, as git says, from anywhere in it.
        assert!(
            run.stderr()
                .trim_end()
                .ends_with(&format!("git config --global --add safe.directory {top}")),
            "{}",
            run.stderr()
        );
    }
    // Following the hint works.
    let global = repo.home.join("global.gitconfig");
    std::fs::write(&global, format!("[safe]\n\tdirectory = {top}\n")).expect("config");
    repo.run_with(&["status", "s"], |c| {
        c.env("GIT_CONFIG_GLOBAL", &global);
    })
    .success();
    assert!(chown("root"));
}

#[test]
fn a_broken_stderr_does_not_crash_the_tool() {
    let repo = started();
    repo.write(".sessions/broken.toml", "= =\n");
    for (args, code) in [
        (&["status", "nope"][..], 2),
        (&["list"], 0),
        (&["validate"], 1),
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        // Nobody reads what goes to stderr: writes there fail with EPIPE.
        drop(reader);
        let out = repo
            .command(bin())
            .args(args)
            .stdout(Stdio::null())
            .stderr(writer)
            .status()
            .expect("runs");
        assert_eq!(out.code(), Some(code), "{args:?}: {out:?}");
    }
}

#[test]
fn criteria_commands_inherit_the_environment_and_nothing_of_the_tools() {
    let repo = started();
    let text = repo.read(".sessions/s.toml");
    let out = repo.path.join("../env.txt");
    let text = text.replace(
        "no_open_blockers = true",
        &format!(
            "no_open_blockers = true\n\n[[criteria.commands]]\nname = \"$(touch pwned-by-name)\"\nrun = \"env > '{}'\"\n",
            out.display()
        ),
    );
    repo.write(".sessions/s.toml", &text);
    let run = repo.run_with(&["check", "s", "--run-commands"], |c| {
        // Values the tool reads are data, never code.
        c.env("GITHUB_HEAD_REF", "$(touch pwned-by-env)").env(
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
            "`touch pwned-by-env2`",
        );
    });
    run.expect_code(1);
    let env = std::fs::read_to_string(&out).expect("the command ran");
    let given = [
        "PATH",
        "HOME",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_DATE",
        "GIT_SESSION_NOW",
        "LC_ALL",
        "TZ",
        "GITHUB_HEAD_REF",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    ];
    // What sh itself sets.
    let shell = ["PWD", "SHLVL", "_", "OLDPWD"];
    for line in env.lines() {
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        assert!(
            given.contains(&key) || shell.contains(&key),
            "the command got {key}, which the tool added:\n{env}"
        );
    }
    for f in ["pwned-by-name", "pwned-by-env", "pwned-by-env2"] {
        assert!(
            !repo.exists(f) && !repo.path.join("..").join(f).exists(),
            "{f}"
        );
    }
}

/// A run line is repository text: shown whole, but on one line, so it cannot forge a CI
/// workflow command (`::error::`, `::add-mask::`) nor send escape sequences to a terminal.
#[test]
fn a_multi_line_run_cannot_forge_workflow_commands() {
    let repo = started();
    let text = repo.read(".sessions/s.toml").replace(
        "no_open_blockers = true",
        "no_open_blockers = true\n\n[[criteria.commands]]\nname = \"sneaky\"\nrun = \"true\\n::error title=forged::all good\\n\\u001b]0;owned\\u0007\"\n",
    );
    repo.write(".sessions/s.toml", &text);
    let forged = |out: &str| {
        out.lines().any(|l| l.starts_with("::error title=forged")) || out.contains('\u{1b}')
    };
    let untrusted = repo.run_with(&["check", "s"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    untrusted.expect_code(4);
    assert!(
        untrusted
            .stdout()
            .contains("would run `true\\n::error title=forged"),
        "{}",
        untrusted.stdout()
    );
    assert!(
        !forged(&untrusted.stdout()) && !forged(&untrusted.stderr()),
        "{}",
        untrusted.stdout()
    );
    let ran = repo.run_with(&["check", "s", "--run-commands"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    // What the command itself printed is its own (colours included), indented under it and
    // fenced off from the runner with stop-commands; what the tool prints is one line.
    assert!(
        !ran.stdout()
            .lines()
            .any(|l| l.starts_with("::error title=forged")),
        "{}",
        ran.stdout()
    );
    assert!(!forged(&ran.stderr()), "{}", ran.stderr());
    let trust = repo.run(&["trust", "s"]);
    trust.success();
    assert!(!forged(&trust.stdout()), "{}", trust.stdout());
}

#[test]
fn criteria_command_output_is_capped() {
    let repo = started();
    let text = repo.read(".sessions/s.toml").replace(
        "no_open_blockers = true",
        "no_open_blockers = true\n\n[[criteria.commands]]\nname = \"loud\"\nrun = \"head -c 3000000 /dev/zero | tr '\\\\0' 'y'; exit 1\"\n",
    );
    repo.write(".sessions/s.toml", &text);
    let run = repo.run(&["check", "s", "--run-commands", "--json"]);
    run.expect_code(1);
    let v: Value = serde_json::from_slice(run.stdout_bytes()).expect("json");
    let loud = v["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .find(|c| c["name"] == "loud")
        .expect("loud");
    let output = loud["output"].as_str().expect("output");
    assert!(output.len() <= 64 * 1024 + 100, "{}", output.len());
    assert!(output.starts_with("[… "), "{}", &output[..40]);
}

#[test]
fn head_written_by_hand_as_an_annotated_tag_is_peeled_as_git_peels_it() {
    let repo = started();
    repo.commit("Work\n\nSession: s\nMilestone-Done: m\n");
    repo.git(&["tag", "-a", "-m", "Release", "v1"]);
    let tag = repo.git(&["rev-parse", "v1"]).trim().to_string();
    // git refuses to write a tag to HEAD itself, but reads one there: log and status work.
    std::fs::write(repo.path.join(".git/HEAD"), format!("{tag}\n")).expect("HEAD");
    repo.git(&["log", "-1", "--format=%H"]);
    let list = repo.json(&["list"]);
    assert_eq!(list[0]["name"], "s", "{list}");
    let status = repo.json(&["status", "s"]);
    assert_eq!(status["progress"]["milestones_done"], 1, "{status}");
}
