//! The hooks, through the real `git commit`: trailers added where history reads them, bad
//! trailers refused, foreign hooks chained and restored, hook managers left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::{TestRepo, bin};

/// A repository with `init` done (hooks installed) and session `search` started.
fn hooked() -> TestRepo {
    TestRepo::with_session(&["parser", "ranking"])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `git commit <args>` through the hooks, a tick later; asserts success.
fn commit(repo: &TestRepo, args: &[&str]) -> Output {
    commit_with(repo, args, |_| {})
}

fn commit_with(repo: &TestRepo, args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
    let out = try_commit_with(repo, args, setup);
    assert!(
        out.status.success(),
        "git commit {args:?} failed:\n{}",
        text(&out.stderr)
    );
    out
}

fn try_commit_with(repo: &TestRepo, args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
    repo.tick(600);
    let mut all = vec!["commit", "-q", "--allow-empty"];
    all.extend_from_slice(args);
    repo.git_with(&all, setup)
}

/// The trailers of `rev` as `git log` reads them from history.
fn trailers(repo: &TestRepo, rev: &str) -> Vec<String> {
    repo.git(&["log", "-1", "--format=%(trailers:only,unfold)", rev])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn body(repo: &TestRepo, rev: &str) -> String {
    repo.git(&["log", "-1", "--format=%B", rev])
}

fn head(repo: &TestRepo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// Writes an executable script.
fn script(path: &Path, content: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, content).expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

fn mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0
    }
}

/// `git rev-parse --git-path hooks`, absolute: where git itself looks.
fn git_hooks_dir(repo: &TestRepo, dir: &Path) -> PathBuf {
    let out = repo.git_with(&["rev-parse", "--git-path", "hooks"], |c| {
        c.current_dir(dir);
    });
    assert!(out.status.success());
    let p = PathBuf::from(text(&out.stdout).trim());
    let p = if p.is_absolute() { p } else { dir.join(p) };
    p.canonicalize().expect("hooks dir exists")
}

#[test]
fn a_plain_commit_on_a_session_branch_gets_its_session() {
    let repo = hooked();
    let out = commit(&repo, &["-m", "Add the lexer"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    assert_eq!(body(&repo, "HEAD"), "Add the lexer\n\nSession: search\n\n");
    // post-commit: one line of progress on stderr.
    assert_eq!(text(&out.stderr), "search: 0% · 0/2 milestones\n");

    // Signed-off: the existing trailer block is extended, not split.
    commit(
        &repo,
        &[
            "-s",
            "-m",
            "Add the grammar",
            "--trailer",
            "Milestone-Done=parser",
        ],
    );
    assert_eq!(
        trailers(&repo, "HEAD"),
        [
            "Signed-off-by: Ada Lovelace <ada@example.org>",
            "Milestone-Done: parser",
            "Session: search"
        ]
    );

    // Not a session branch: nothing added.
    repo.git(&["switch", "-q", "main"]);
    let out = commit(&repo, &["-m", "Unrelated"]);
    assert!(trailers(&repo, "HEAD").is_empty());
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn focus_adds_the_milestone() {
    let repo = hooked();
    repo.run(&["focus", "parsr"])
        .fails_with(2, "valid milestones: parser, ranking");
    let set = repo.run(&["focus", "parser"]);
    set.success();
    assert!(set.stdout().contains("Focus: parser"), "{}", set.stdout());
    assert_eq!(repo.run(&["focus"]).stdout(), "search: focus on parser\n");

    let out = commit(&repo, &["-m", "Lexer"]);
    assert_eq!(
        trailers(&repo, "HEAD"),
        ["Session: search", "Milestone: parser"]
    );
    assert!(
        text(&out.stderr).contains("parser: 1 commit"),
        "{}",
        text(&out.stderr)
    );
    // A message that names the session already still gets the focus milestone.
    commit(&repo, &["-m", "Grammar", "--trailer", "Session=search"]);
    assert_eq!(
        trailers(&repo, "HEAD"),
        ["Session: search", "Milestone: parser"]
    );
    // A milestone named in the message wins over the focus.
    commit(&repo, &["-m", "Rank", "--trailer", "Milestone=ranking"]);
    assert_eq!(
        trailers(&repo, "HEAD"),
        ["Milestone: ranking", "Session: search"]
    );

    repo.run(&["focus", "--clear"]).success();
    commit(&repo, &["-m", "More"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    let s = repo.json(&["status"]);
    assert_eq!(s["milestones"][0]["commits"], 2);
}

#[test]
fn amend_cherry_pick_revert_and_squash_neither_duplicate_nor_lose_trailers() {
    let repo = hooked();
    repo.run(&["focus", "parser"]).success();
    commit(&repo, &["-m", "Lexer"]);
    let stamped = ["Session: search", "Milestone: parser"];
    assert_eq!(trailers(&repo, "HEAD"), stamped);

    // --amend keeps the message as it was.
    commit(&repo, &["--amend", "--no-edit"]);
    assert_eq!(trailers(&repo, "HEAD"), stamped);
    commit_with(&repo, &["--amend"], |c| {
        c.env("GIT_EDITOR", "true");
    });
    assert_eq!(trailers(&repo, "HEAD"), stamped);
    // --amend with a new message is a new message: stamped once.
    commit(&repo, &["--amend", "-m", "Lexer, renamed"]);
    assert_eq!(trailers(&repo, "HEAD"), stamped);

    // A cherry-pick keeps the picked message: no Session of this branch added...
    repo.git(&["switch", "-q", "main"]);
    repo.change_and_commit("fix.txt", "Fix a typo");
    repo.git(&["switch", "-q", "session/search"]);
    repo.tick(600);
    repo.git(&["cherry-pick", "main"]);
    assert!(trailers(&repo, "HEAD").is_empty());
    // ...and a stamped commit picked onto another session's branch keeps its own trailers.
    let lexer = repo.git(&["rev-parse", "HEAD~1"]).trim().to_string();
    repo.git(&["switch", "-q", "main"]);
    repo.run(&["start", "ops", "--milestone", "deploy"])
        .success();
    commit(&repo, &["-m", "Start ops"]);
    repo.tick(600);
    repo.git(&["cherry-pick", &lexer]);
    assert_eq!(trailers(&repo, "HEAD"), stamped);

    // A revert is left alone.
    repo.tick(600);
    repo.git(&["revert", "--no-edit", "HEAD"]);
    assert!(
        trailers(&repo, "HEAD").is_empty(),
        "{}",
        body(&repo, "HEAD")
    );

    // merge --squash: git's squash message, untouched.
    repo.git(&["switch", "-q", "session/search"]);
    repo.git(&["switch", "-q", "-c", "spike"]);
    repo.change_and_commit(
        "spike.txt",
        "Spike one\n\nSession: search\nMilestone: ranking\n",
    );
    repo.change_and_commit("spike.txt", "Spike two\n\nSession: search\n");
    repo.git(&["switch", "-q", "session/search"]);
    repo.git(&["merge", "-q", "--squash", "spike"]);
    commit(&repo, &["--no-edit"]);
    let squashed = body(&repo, "HEAD");
    assert!(
        squashed.starts_with("Squashed commit of the following:"),
        "{squashed}"
    );
    assert_eq!(squashed.matches("Session: search").count(), 2, "{squashed}");
    assert_eq!(
        squashed.matches("Milestone: ranking").count(),
        1,
        "{squashed}"
    );
    assert!(!squashed.contains("Milestone: parser"), "{squashed}");
}

#[test]
fn rebases_keep_trailers_once() {
    let repo = hooked();
    repo.run(&["focus", "parser"]).success();
    commit(&repo, &["-m", "One"]);
    commit(&repo, &["-m", "Two", "--trailer", "Effort=1h"]);
    repo.git(&["switch", "-q", "main"]);
    repo.change_and_commit("main.txt", "Main moves on");
    repo.git(&["switch", "-q", "session/search"]);

    repo.tick(600);
    repo.git(&["rebase", "-q", "main"]);
    assert_eq!(
        trailers(&repo, "HEAD~1"),
        ["Session: search", "Milestone: parser"]
    );
    assert_eq!(
        trailers(&repo, "HEAD"),
        ["Effort: 1h", "Session: search", "Milestone: parser"]
    );

    // rebase -i rewording both commits: the messages go through the hooks unchanged.
    repo.tick(600);
    let out = repo.git_with(&["rebase", "-q", "-i", "main"], |c| {
        c.env("GIT_SEQUENCE_EDITOR", "sed -i -e s/^pick/reword/")
            .env("GIT_EDITOR", "true");
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        trailers(&repo, "HEAD~1"),
        ["Session: search", "Milestone: parser"]
    );
    assert_eq!(
        trailers(&repo, "HEAD"),
        ["Effort: 1h", "Session: search", "Milestone: parser"]
    );
    assert!(
        !text(&out.stderr).contains("search:"),
        "no progress lines during a rebase: {}",
        text(&out.stderr)
    );
}

/// An editor that types `subject` on the first line of the message file.
fn typing_editor(repo: &TestRepo, subject: &str) -> String {
    let path = repo.path.join("../editor.sh");
    script(
        &path,
        format!("#!/bin/sh\nsed -i -e '1s/^/{subject}/' \"$1\"\n").as_bytes(),
        0o755,
    );
    path.display().to_string()
}

#[test]
fn commit_v_gets_the_trailer_above_the_scissors() {
    let repo = hooked();
    repo.write("src/lib.rs", "Key: looks like a trailer\n");
    repo.git(&["add", "-A"]);
    let editor = typing_editor(&repo, "Edited subject");
    commit_with(&repo, &["-v"], |c| {
        c.env("GIT_EDITOR", &editor);
    });
    assert_eq!(body(&repo, "HEAD"), "Edited subject\n\nSession: search\n\n");

    // The same with another comment character.
    repo.write("src/lib.rs", "Other: diff line\n");
    repo.git(&["add", "-A"]);
    repo.git(&["config", "core.commentChar", ";"]);
    commit_with(&repo, &["-v"], |c| {
        c.env("GIT_EDITOR", &editor);
    });
    assert_eq!(body(&repo, "HEAD"), "Edited subject\n\nSession: search\n\n");

    // And given on git's command line, which reaches the hooks in the environment.
    repo.git(&["config", "--unset", "core.commentChar"]);
    repo.write("src/lib.rs", "More: diff\n");
    repo.git(&["add", "-A"]);
    repo.tick(600);
    let out = repo.git_with(
        &["-c", "core.commentString=//", "commit", "-q", "-v"],
        |c| {
            c.env("GIT_EDITOR", &editor);
        },
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(body(&repo, "HEAD"), "Edited subject\n\nSession: search\n\n");
}

#[test]
fn quitting_the_editor_without_a_message_still_aborts() {
    let repo = hooked();
    let before = head(&repo);
    let out = try_commit_with(&repo, &[], |c| {
        c.env("GIT_EDITOR", "true");
    });
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no subject"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(head(&repo), before);
}

#[test]
fn a_dash_line_does_not_hide_the_trailer() {
    let repo = hooked();
    let file = repo.path.join("../msg.txt");
    std::fs::write(
        &file,
        "Subject\n\nNotes\n---\nMore notes after the dashes\n",
    )
    .expect("msg");
    commit(&repo, &["-F", file.to_str().expect("path")]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    assert!(body(&repo, "HEAD").contains("---\nMore notes after the dashes\n\nSession: search\n"));
    let debug = repo.run(&["debug-trailers"]);
    assert_eq!(debug.stdout(), "Session: search\n");
}

#[test]
fn bad_trailers_are_refused_and_every_refused_message_is_kept() {
    let repo = hooked();
    commit(&repo, &["-m", "First"]);
    let before = head(&repo);

    let first = try_commit_with(
        &repo,
        &["-m", "Work", "--trailer", "Milestone=parsr"],
        |_| {},
    );
    assert_eq!(first.status.code(), Some(1));
    let err = text(&first.stderr);
    assert!(
        err.contains("error: Milestone 'parsr' names no milestone 'parsr' of session 'search'; valid milestones: parser, ranking"),
        "{err}"
    );
    let kept_first = kept_file(&err);

    let second = try_commit_with(&repo, &["-m", "More", "--trailer", "Effort=soon"], |_| {});
    assert_eq!(second.status.code(), Some(1));
    let err2 = text(&second.stderr);
    assert!(err2.contains("Effort 'soon' is not a duration"), "{err2}");
    let kept_second = kept_file(&err2);

    assert_ne!(kept_first, kept_second);
    let one = std::fs::read_to_string(&kept_first).expect("first kept");
    let two = std::fs::read_to_string(&kept_second).expect("second kept");
    assert!(
        one.starts_with("Work\n") && one.contains("Milestone: parsr"),
        "{one}"
    );
    assert!(
        two.starts_with("More\n") && two.contains("Effort: soon"),
        "{two}"
    );
    assert_eq!(head(&repo), before);

    let unknown = try_commit_with(&repo, &["-m", "X", "--trailer", "Session=serch"], |_| {});
    assert!(
        text(&unknown.stderr)
            .contains("Session 'serch' names no session here; valid sessions: search"),
        "{}",
        text(&unknown.stderr)
    );

    // The printed command reuses the message, once fixed.
    std::fs::write(&kept_first, one.replace("parsr", "parser")).expect("fix");
    commit_with(&repo, &["-e", "-F", &kept_first], |c| {
        c.env("GIT_EDITOR", "true");
    });
    assert_eq!(
        trailers(&repo, "HEAD"),
        ["Milestone: parser", "Session: search"]
    );
}

/// The file named in `git commit -e -F <file>` in a refusal.
fn kept_file(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("git commit -e -F "))
        .unwrap_or_else(|| panic!("no reuse command in:\n{stderr}"));
    line.trim_matches('\'').to_string()
}

#[test]
fn qualified_values_are_checked_against_the_other_sessions_file() {
    let repo = hooked();
    commit(&repo, &["-m", "Start search"]);
    repo.git(&["switch", "-q", "main"]);
    repo.run(&["start", "ops", "--milestone", "deploy"])
        .success();
    commit(&repo, &["-m", "Start ops"]);
    repo.git(&["switch", "-q", "session/search"]);
    // ops.toml is not in this work tree; it is read from ops's branch.
    assert!(!repo.exists(".sessions/ops.toml"));
    commit(
        &repo,
        &["-m", "Deploy step", "--trailer", "Milestone=ops/deploy"],
    );
    let out = try_commit_with(
        &repo,
        &["-m", "Nope", "--trailer", "Milestone-Done=ops/parser"],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("names no milestone 'parser' of session 'ops'; valid milestones: deploy"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn with_strict_false_bad_trailers_are_only_warnings() {
    let repo = hooked();
    let config = repo.read(".sessions/config.toml");
    repo.write(
        ".sessions/config.toml",
        &config.replace("strict = true", "strict = false"),
    );
    let out = commit(
        &repo,
        &["-m", "Work", "--trailer", "Task-Done=parser/lexer"],
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: Task-Done 'parser/lexer' names no task 'lexer'"),
        "{err}"
    );
    assert!(err.contains("there are no valid tasks"), "{err}");
}

const FOREIGN: &[u8] = b"#!/bin/sh\n# a team's own hook \xff\n";

/// A foreign hook that records its arguments and exits with the status in `status`.
fn foreign_hook(repo: &TestRepo) -> Vec<u8> {
    let dir = repo.path.join("..");
    let mut content = FOREIGN.to_vec();
    content.extend_from_slice(
        format!(
            "printf '%s\\n' \"$@\" > '{log}'\nexit $(cat '{status}' 2>/dev/null || echo 0)\n",
            log = dir.join("foreign-args").display(),
            status = dir.join("foreign-status").display()
        )
        .as_bytes(),
    );
    content
}

#[test]
fn a_foreign_hook_is_chained_and_restored_byte_for_byte() {
    let repo = TestRepo::with_commit();
    let hook = repo.path.join(".git/hooks/commit-msg");
    let original = foreign_hook(&repo);
    script(&hook, &original, 0o750);

    let init = repo.run(&["init"]);
    init.success();
    assert!(
        init.stdout()
            .contains("kept as commit-msg.chained and still runs first"),
        "{}",
        init.stdout()
    );
    // Installing again changes nothing, and keeps the chained hook.
    repo.run(&["hooks", "install"]).prints("nothing changed");
    repo.run(&["hooks", "status"])
        .prints("commit-msg          installed, chains commit-msg.chained\n");

    repo.run(&["start", "search", "--milestone", "parser"])
        .success();
    commit(&repo, &["-m", "Through both hooks"]);
    let args = std::fs::read_to_string(repo.path.join("../foreign-args")).expect("it ran");
    assert_eq!(args, ".git/COMMIT_EDITMSG\n");
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);

    // Its exit status decides.
    std::fs::write(repo.path.join("../foreign-status"), "3").expect("status");
    let before = head(&repo);
    let out = try_commit_with(&repo, &["-m", "Refused by the team hook"], |_| {});
    assert!(!out.status.success());
    assert_eq!(head(&repo), before);
    std::fs::remove_file(repo.path.join("../foreign-status")).expect("rm");

    let removed = repo.run(&["hooks", "uninstall"]);
    removed.success();
    assert!(
        removed
            .stdout()
            .contains("the hook it chained is back in its place"),
        "{}",
        removed.stdout()
    );
    assert_eq!(std::fs::read(&hook).expect("restored"), original);
    assert_eq!(mode(&hook), 0o750);
    let mut left: Vec<String> = std::fs::read_dir(repo.path.join(".git/hooks"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".sample"))
        .collect();
    left.sort();
    assert_eq!(left, ["commit-msg"]);
}

#[test]
fn the_chained_hook_gets_stdin_and_its_status_passes_through() {
    let repo = TestRepo::with_commit();
    let dir = repo.path.join("../somehooks");
    let seen = repo.path.join("../seen");
    script(
        &dir.join("post-commit.chained"),
        format!(
            "#!/bin/sh\ncat > '{}'\necho \"$@\" >> '{}'\nexit 7\n",
            seen.display(),
            seen.display()
        )
        .as_bytes(),
        0o755,
    );
    let mut cmd = repo.command(bin());
    cmd.args(["hook", "post-commit", "a b", "--c"])
        .env("GIT_SESSION_HOOK", dir.join("post-commit"));
    let out = crate::harness::output_with_stdin(&mut cmd, b"refs on stdin\n");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&seen).expect("ran"),
        "refs on stdin\na b --c\n"
    );
}

/// PATH without the directory of the git-session binary.
fn path_without_git_session() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| !d.join("git-session").exists())
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn without_the_binary_the_commit_goes_through_with_one_warning() {
    let repo = TestRepo::with_commit();
    script(
        &repo.path.join(".git/hooks/commit-msg"),
        &foreign_hook(&repo),
        0o755,
    );
    repo.run(&["init"]).success();
    repo.run(&["start", "search", "--milestone", "parser"])
        .success();
    let path = path_without_git_session();
    let out = commit_with(&repo, &["-m", "From a machine without git-session"], |c| {
        c.env("PATH", &path);
    });
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("git-session is not on PATH").count(),
        1,
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(trailers(&repo, "HEAD").is_empty());
    // The chained hook still ran.
    assert_eq!(
        std::fs::read_to_string(repo.path.join("../foreign-args")).expect("it ran"),
        ".git/COMMIT_EDITMSG\n"
    );
}

#[test]
fn core_hooks_path_relative_and_absolute() {
    let repo = TestRepo::with_commit();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    repo.run(&["init"])
        .prints("Hooks installed in .githooks (core.hooksPath)")
        .prints("note: .githooks is inside the work tree");
    assert!(repo.exists(".githooks/commit-msg"));
    assert!(!repo.exists(".git/hooks/commit-msg"));
    assert_eq!(
        git_hooks_dir(&repo, &repo.path),
        repo.path.join(".githooks").canonicalize().expect("dir")
    );
    repo.run(&["start", "search"]).success();
    commit(&repo, &["-m", "Via .githooks"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);

    let abs = repo.path.join("../shared-hooks");
    repo.git(&["config", "core.hooksPath", abs.to_str().expect("path")]);
    repo.run(&["hooks", "install"]).success();
    assert!(abs.join("prepare-commit-msg").exists());
    let status = repo.run(&["hooks", "status"]);
    assert!(
        status.stdout().starts_with(&format!(
            "hooks directory: {} (core.hooksPath)\n",
            abs.display()
        )),
        "{}",
        status.stdout()
    );
    commit(&repo, &["-m", "Via the absolute path"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
}

#[test]
fn a_linked_worktree_shares_the_hooks_and_has_its_own_focus() {
    let repo = hooked();
    repo.run(&["focus", "parser"]).success();
    commit(&repo, &["-m", "Start search"]);
    let wt = repo.path.join("../wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "topic",
        wt.to_str().expect("path"),
        "main",
    ]);
    let in_wt = |args: &[&str]| {
        let mut cmd = repo.command(bin());
        cmd.args(args).current_dir(&wt);
        cmd.output().expect("runs")
    };
    let status = in_wt(&["hooks", "status"]);
    let hooks_dir = git_hooks_dir(&repo, &wt);
    assert!(
        text(&status.stdout).contains(&format!("hooks directory: {}", hooks_dir.display())),
        "{}",
        text(&status.stdout)
    );
    assert!(text(&status.stdout).contains("commit-msg          installed"));
    assert!(
        in_wt(&["start", "docs", "--current", "--milestone", "guide"])
            .status
            .success()
    );
    assert!(in_wt(&["focus"]).stdout.starts_with(b"docs: no focus"));
    repo.tick(600);
    let out = repo.git_with(&["commit", "-q", "-m", "Write the guide"], |c| {
        c.current_dir(&wt);
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = repo.git_with(&["log", "-1", "--format=%(trailers:only,unfold)"], |c| {
        c.current_dir(&wt);
    });
    assert_eq!(text(&t.stdout).trim(), "Session: docs");
    // The main work tree's focus is its own.
    assert_eq!(repo.run(&["focus"]).stdout(), "search: focus on parser\n");
}

#[test]
fn a_submodule_gets_its_hooks_where_git_looks() {
    let sub_src = TestRepo::with_commit();
    let repo = TestRepo::with_commit();
    let out = repo.git_with(
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub_src.path.to_str().expect("path"),
            "sub",
        ],
        |_| {},
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sub = repo.path.join("sub");
    assert!(sub.join(".git").is_file());
    let mut cmd = repo.command(bin());
    cmd.args(["hooks", "install"]).current_dir(&sub);
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = git_hooks_dir(&repo, &sub);
    assert!(dir.ends_with(".git/modules/sub/hooks"), "{}", dir.display());
    assert!(dir.join("commit-msg").exists());
}

#[test]
fn hook_managers_get_the_lines_to_add_and_nothing_is_written() {
    // husky: core.hooksPath is .husky/_
    let repo = TestRepo::with_commit();
    std::fs::create_dir_all(repo.path.join(".husky/_")).expect("dir");
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    let out = repo.run(&["hooks", "install"]);
    out.success();
    assert!(
        out.stdout()
            .contains("managed by husky (core.hooksPath is .husky/_)"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout()
            .contains(".husky/commit-msg:          git-session hook commit-msg \"$1\"")
    );
    assert_eq!(
        std::fs::read_dir(repo.path.join(".husky/_"))
            .expect("dir")
            .count(),
        0
    );
    assert!(!repo.exists(".git/hooks/commit-msg"));

    // A husky-style setup with the printed line works.
    script(
        &repo.path.join(".husky/_/prepare-commit-msg"),
        b"#!/bin/sh\nsh -e \"$(dirname \"$0\")/../prepare-commit-msg\" \"$@\"\n",
        0o755,
    );
    repo.write(
        ".husky/prepare-commit-msg",
        "git-session hook prepare-commit-msg \"$@\"\n",
    );
    repo.run(&["start", "search"]).success();
    commit(&repo, &["-m", "Through husky"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    repo.run(&["hooks", "status"])
        .prints("prepare-commit-msg  configured in .husky/prepare-commit-msg");

    // lefthook: its configuration file.
    let repo = TestRepo::with_commit();
    repo.write(
        "lefthook.yml",
        "pre-commit:\n  commands:\n    lint:\n      run: true\n",
    );
    let out = repo.run(&["init"]);
    out.success();
    assert!(
        out.stdout()
            .contains("managed by lefthook (lefthook.yml exists)"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout()
            .contains("run: git-session hook commit-msg {1}")
    );
    assert!(!repo.exists(".git/hooks/commit-msg"));
    repo.run(&["hooks", "status"])
        .prints("commit-msg          not configured");
    repo.write(
        "lefthook.yml",
        "prepare-commit-msg:\n  commands:\n    git-session:\n      run: git-session hook prepare-commit-msg {1} {2} {3}\n\
         commit-msg:\n  commands:\n    git-session:\n      run: git-session hook commit-msg {1}\n\
         post-commit:\n  commands:\n    git-session:\n      run: git-session hook post-commit\n",
    );
    repo.run(&["hooks", "status"])
        .prints("commit-msg          configured in lefthook.yml");
    assert!(
        repo.run(&["hooks", "install"])
            .stdout()
            .contains("lefthook already runs git-session's hooks")
    );

    // The pre-commit framework: its configuration, or the hook it generated.
    let repo = TestRepo::with_commit();
    script(
        &repo.path.join(".git/hooks/pre-commit"),
        b"#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n",
        0o755,
    );
    repo.run(&["hooks", "install"])
        .prints("managed by pre-commit (the pre-commit hook was generated by pre-commit)")
        .prints("stages: [prepare-commit-msg]")
        .prints("entry: git-session hook commit-msg");
    assert!(!repo.exists(".git/hooks/commit-msg"));
    let json = repo.json(&["hooks", "status"]);
    assert_eq!(json["managers"][0]["manager"], "pre-commit");
    assert_eq!(json["hooks"][1]["state"], "missing");
}

#[test]
fn hooks_status_says_what_is_installed_where() {
    let repo = TestRepo::with_commit();
    let status = repo.run(&["hooks", "status"]);
    status.success();
    assert_eq!(
        status.stdout(),
        "hooks directory: .git/hooks\n\
         \x20 prepare-commit-msg  not installed (git session hooks install)\n\
         \x20 commit-msg          not installed (git session hooks install)\n\
         \x20 post-commit         not installed (git session hooks install)\n"
    );
    script(
        &repo.path.join(".git/hooks/post-commit"),
        b"#!/bin/sh\n",
        0o644,
    );
    repo.run(&["hooks", "install"]).success();
    let mtime = |p: &str| {
        std::fs::metadata(repo.path.join(p))
            .expect("file")
            .modified()
            .expect("mtime")
    };
    let before = mtime(".git/hooks/commit-msg");
    repo.run(&["init"]).success();
    assert_eq!(
        mtime(".git/hooks/commit-msg"),
        before,
        "init changed nothing"
    );
    assert_eq!(
        repo.run(&["hooks", "status"]).stdout(),
        "hooks directory: .git/hooks\n\
         \x20 prepare-commit-msg  installed\n\
         \x20 commit-msg          installed\n\
         \x20 post-commit         installed, chains post-commit.chained (not executable, so it does not run)\n"
    );
    let json = repo.json(&["hooks", "status"]);
    assert_eq!(json["schema"], 1);
    assert_eq!(json["core_hooks_path"], serde_json::Value::Null);
    assert_eq!(json["hooks"][0]["name"], "prepare-commit-msg");
    assert_eq!(json["hooks"][0]["state"], "installed");
    assert_eq!(json["hooks"][2]["chained"], "post-commit.chained");
    assert_eq!(json["hooks"][2]["chained_runs"], false);

    // Hooks that core.hooksPath hides from git are pointed out.
    repo.git(&["config", "core.hooksPath", ".other"]);
    assert!(
        repo.run(&["hooks", "status"])
            .stdout()
            .contains("note: .git/hooks also holds git-session hooks, which git does not run while core.hooksPath is set"),
    );
    repo.git(&["config", "--unset", "core.hooksPath"]);

    // A script from another version is recognised and updated.
    repo.write(
        ".git/hooks/commit-msg",
        "#!/bin/sh\n# git-session: commit-msg hook (old)\n",
    );
    assert!(
        repo.run(&["hooks", "status"])
            .stdout()
            .contains("commit-msg          installed by another version")
    );
    assert!(
        repo.run(&["hooks", "install"])
            .stdout()
            .contains("commit-msg          updated")
    );

    // A foreign hook next to a chained one: refused for safety, nothing written.
    repo.run(&["hooks", "uninstall"]).success();
    repo.write(".git/hooks/commit-msg", "#!/bin/sh\n");
    repo.write(".git/hooks/commit-msg.chained", "#!/bin/sh\n");
    repo.run(&["hooks", "install"])
        .fails_with(4, "will not overwrite either");
    assert!(!repo.exists(".git/hooks/prepare-commit-msg"));
}

#[test]
fn the_demo_commits_get_their_session_from_the_hooks() {
    let dir = TestRepo::bare_dir();
    let out = dir.run(&["demo", "--keep"]);
    out.success();
    let text = out.stdout();
    let kept = text
        .lines()
        .find_map(|l| l.strip_prefix("The repository is kept in "))
        .and_then(|l| l.split(';').next())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no kept repository in:\n{text}"));
    let log = dir.git_with(
        &["log", "--format=%(trailers:key=Session,valueonly)%x00"],
        |c| {
            c.current_dir(&kept);
        },
    );
    let dates = dir.git_with(&["log", "--format=%ct"], |c| {
        c.current_dir(&kept);
    });
    let _ = std::fs::remove_dir_all(kept.parent().expect("temp dir"));
    // Regression: the demo dated its last commits hours ahead of the clock.
    let now = chrono::Utc::now().timestamp();
    for date in String::from_utf8_lossy(&dates.stdout).lines() {
        let date: i64 = date.parse().expect("a commit time");
        assert!(date <= now, "a demo commit is dated {} s ahead", date - now);
    }
    let sessions: Vec<String> = String::from_utf8_lossy(&log.stdout)
        .split('\0')
        .map(|s| s.trim().to_string())
        .collect();
    // Four commits on the session branch, none naming it on the command line, all stamped.
    assert_eq!(
        &sessions[..4],
        ["search", "search", "search", "search"],
        "{sessions:?}"
    );
}

#[test]
fn post_commit_walks_a_short_session_and_reads_a_long_one_from_the_cache() {
    // A recent session: its own walk, which knows each milestone's commits, cache or not.
    let repo = hooked();
    commit(&repo, &["-m", "Lexer", "--trailer", "Milestone=parser"]);
    repo.run(&["list"]).success();
    let out = commit(&repo, &["-m", "More", "--trailer", "Milestone=parser"]);
    assert_eq!(
        text(&out.stderr),
        "search: 0% · 0/2 milestones · parser: 2 commits\n"
    );

    // An old session in a long history: without a cache the hook does not walk it all.
    let repo = crate::cache::generated(2600);
    repo.run(&["hooks", "install"]).success();
    let old = "s-000001";
    let msg = format!("More\n\nSession: {old}\nEffort: 5m\n");
    let out = commit_with(&repo, &["-m", &msg], |c| {
        c.env("GIT_SESSION_TRACE", "1");
    });
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{old}: run 'git session list' once")),
        "{err}"
    );
    // prepare-commit-msg spent the walk and kept its verdict: post-commit does not walk again.
    assert_eq!(err.matches("ms  longer than a walk\n").count(), 1, "{err}");
    assert!(
        err.contains("longer than a walk, as the memo says"),
        "{err}"
    );
    // With the cache, the line shows what list shows. The first commit's walk found the
    // session too long, and the hook says so to the next ones, which go to the cache at once;
    // the memo then carries the session's aggregate from commit to commit, through commits
    // made without the hooks too, and the cache is not read again.
    repo.run(&["list"]).success();
    let traced = |c: &mut Command| {
        c.env("GIT_SESSION_TRACE", "1");
    };
    let id = repo
        .read(&format!(".sessions/{old}.toml"))
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))
        .expect("id line")
        .trim_end_matches('"')
        .to_string();
    let cache_file = repo.path.join(".git/git-session/cache");
    let steps = [
        (msg.clone(), None, "the cache's aggregates"),
        (
            format!("{msg}Milestone-Done: {old}/m2\n"),
            None,
            "with its aggregate",
        ),
        (
            format!("{msg}Milestone: m3\nEffort: 1h\n"),
            Some(format!("Aside\n\nSession: {old}\nMilestone-Done: m3\n")),
            "with its aggregate",
        ),
        (
            format!("{msg}Milestone-Done: {old}/m4\n"),
            Some("Elsewhere\n\nSession: s-000002\n".to_string()),
            "with its aggregate",
        ),
        // A blocker's events are ranked by the cache's walk.
        (
            msg.clone(),
            Some(format!("Stuck\n\nSession: {old}\nBlocker: #x stuck\n")),
            "the cache's aggregates",
        ),
        (msg.clone(), None, "with its aggregate"),
        // Named by id where history names it by name: counted commit by commit, by the cache.
        (
            format!("By id\n\nSession: {id}\nMilestone-Done: m5\n"),
            None,
            "post-commit",
        ),
    ];
    for (message, before, via) in steps {
        if let Some(before) = before {
            repo.tick(60);
            commit_unhooked(&repo, &before);
        }
        repo.tick(60);
        let cache_before = std::fs::read(&cache_file).expect("cache");
        let out = commit_with(&repo, &["-m", &message], traced);
        let err = text(&out.stderr);
        assert!(
            err.contains("longer than a walk, as the memo says"),
            "{err}"
        );
        shows_what_list_shows(&repo, old, &err);
        match via {
            "with its aggregate" => {
                assert!(
                    err.contains("as the memo says, with its aggregate"),
                    "{err}"
                );
                assert!(!err.contains("the cache's aggregates"), "{err}");
                assert!(err.contains("long sessions' aggregates and this commit"));
                assert_eq!(std::fs::read(&cache_file).expect("cache"), cache_before);
            }
            "post-commit" => assert!(err.contains("memo saved"), "{err}"),
            mark => assert!(err.contains(mark), "{err}"),
        }
        // post-commit, run again, says the same.
        let (printed, after) = line_and_post_commits(&repo, &out);
        assert_eq!(printed, after);
    }
    // An amend replaces HEAD, and a reset takes commits away: what the memo carried is for
    // history that is gone. After the reset the cache, which counted them, needs list's walk.
    commit_with(&repo, &["-m", &msg], |_| {});
    let amended = format!("{msg}Milestone-Done: {old}/m6\n");
    let out = commit_with(&repo, &["--amend", "-m", &amended], traced);
    let err = text(&out.stderr);
    assert!(!err.contains("with its aggregate"), "{err}");
    shows_what_list_shows(&repo, old, &err);
    repo.git(&["reset", "-q", "--hard", "HEAD~2"]);
    let out = commit_with(&repo, &["-m", &msg], traced);
    let err = text(&out.stderr);
    assert!(err.contains("run 'git session list' once"), "{err}");
    repo.run(&["list"]).success();
    let out = commit_with(&repo, &["-m", &msg], traced);
    shows_what_list_shows(&repo, old, &text(&out.stderr));
    let listed = repo.json(&["list"]);
    let entry = crate::harness::listed(&listed, old);
    assert!(
        entry["progress"]["milestones_done"].as_u64() >= Some(4),
        "{entry}"
    );
}

/// The aggregate a memo carries for a long session is not carried past commits history held
/// already: a fast-forward to another branch's commits, which the cache counted, goes to the
/// cache again.
#[test]
fn a_long_session_after_a_fast_forward_goes_to_the_cache() {
    let repo = crate::cache::generated(2600);
    repo.run(&["hooks", "install"]).success();
    let old = "s-000001";
    let msg = format!("More\n\nSession: {old}\nEffort: 5m\n");
    let traced = |c: &mut Command| {
        c.env("GIT_SESSION_TRACE", "1");
    };
    repo.run(&["list"]).success();
    commit(&repo, &["-m", &msg]);
    repo.git(&["checkout", "-q", "-b", "aside"]);
    repo.tick(600);
    commit_unhooked(
        &repo,
        &format!("Aside\n\nSession: {old}\nEffort: 2h\nMilestone-Done: m2\n"),
    );
    repo.git(&["checkout", "-q", "main"]);
    // post-commit run again, with the branch in history: the cache answers, and the memo
    // carries its aggregate, the aside commit counted.
    let again = repo.run_with(&["hook", "post-commit"], traced);
    again.success();
    assert!(again.stderr().contains("memo saved"), "{}", again.stderr());
    repo.git(&["merge", "-q", "--ff-only", "aside"]);
    let out = commit_with(&repo, &["-m", &msg], traced);
    let err = text(&out.stderr);
    assert!(!err.contains("with its aggregate"), "{err}");
    assert!(err.contains("the cache's aggregates"), "{err}");
    shows_what_list_shows(&repo, old, &err);
    let (printed, after) = line_and_post_commits(&repo, &out);
    assert_eq!(printed, after);
}

/// A commit of `message` made without the hooks.
fn commit_unhooked(repo: &TestRepo, message: &str) {
    let args = [
        "-c",
        "core.hooksPath=/dev/null",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        message,
    ];
    let out = repo.git_with(&args, |_| {});
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Asserts that the hooks' output `err` holds the line `list --no-cache` gives for session
/// `name`: its progress, its milestones and its open blockers.
fn shows_what_list_shows(repo: &TestRepo, name: &str, err: &str) {
    let listed = repo.json(&["list", "--no-cache"]);
    let entry = crate::harness::listed(&listed, name);
    let want = format!(
        "{name}: {}% · {}/{} milestones",
        (entry["progress"]["fraction"].as_f64().expect("fraction") * 100.0).floor(),
        entry["progress"]["milestones_done"],
        entry["progress"]["milestones_total"]
    );
    assert!(err.contains(&want), "{err}\nwant {want}");
    let blockers = entry["open_blockers"].as_u64().expect("open blockers");
    let open = match blockers {
        0 => String::new(),
        1 => " · 1 open blocker\n".to_string(),
        n => format!(" · {n} open blockers\n"),
    };
    assert_eq!(
        err.contains(" open blocker"),
        blockers > 0,
        "{err}\nwant {blockers} open"
    );
    assert!(err.contains(&open), "{err}\nwant {open}");
}

/// Regression: with the branch's session file broken, prepare-commit-msg silently stopped
/// adding Session trailers.
#[test]
fn a_broken_session_file_is_said_not_skipped_in_silence() {
    let repo = hooked();
    let file = repo.read(".sessions/search.toml");
    repo.write(
        ".sessions/search.toml",
        &file.replace("schema = 1", "schema = 9"),
    );
    let out = commit(&repo, &["-m", "Work"]);
    let err = text(&out.stderr);
    assert_eq!(
        err.matches(".sessions/search.toml does not load").count(),
        1,
        "{err}"
    );
    assert!(err.contains("git session validate"), "{err}");
}

/// Rewrites the `branch` line of a session's file.
fn move_session(repo: &TestRepo, name: &str, to: &str) {
    let path = format!(".sessions/{name}.toml");
    let file = repo.read(&path);
    let from = file
        .lines()
        .find(|l| l.starts_with("branch = "))
        .expect("branch line")
        .to_string();
    repo.write(&path, &file.replace(&from, &format!("branch = \"{to}\"")));
}

/// A branch named after its session is found through that one file, and one that is not
/// through the index of every session file, kept honest by stat: either way an edit that moves
/// the session to another branch is seen at once.
#[test]
fn the_branchs_session_follows_edits() {
    let repo = hooked();
    let index = repo.path.join(".git/git-session/sessions-index");
    commit(&repo, &["-m", "One"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    assert!(
        !index.exists(),
        "a branch named after its session needs no index"
    );
    move_session(&repo, "search", "elsewhere");
    commit(&repo, &["-m", "Two"]);
    assert!(trailers(&repo, "HEAD").is_empty());

    repo.run(&["start", "other", "--branch", "work-on-it"])
        .success();
    commit(&repo, &["-m", "Three"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: other"]);
    assert!(index.exists());
    move_session(&repo, "other", "elsewhere-too");
    commit(&repo, &["-m", "Four"]);
    assert!(trailers(&repo, "HEAD").is_empty());
}

/// Two sessions on one branch: commits whose message names no session go to the one the branch
/// is named after, as `start --current` warns, and commands without a name mean it too. On a
/// branch that neither is named after, the hooks warn and do not guess, and commands ask for a
/// name. A message that names its session needs neither, and its trailers are kept as written.
#[test]
fn a_shared_branch_goes_to_the_session_it_is_named_after() {
    let repo = hooked();
    repo.run(&["start", "other", "--current"]).warns(
        "warning: session 'search' already uses branch 'session/search'; commits on it whose message names no session go to session 'search', which the branch is named after (a 'Session: other' trailer links one to 'other')",
    );
    let plain = commit(&repo, &["-m", "Plain"]);
    assert!(!text(&plain.stderr).contains("both use branch"));
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    assert_eq!(repo.json(&["status"])["session"]["name"], "search");
    repo.run(&["check", "--no-commands"])
        .prints("its branch 'session/search' is checked out");
    let named = commit(&repo, &["-m", "Named\n\nSession: other"]);
    assert!(!text(&named.stderr).contains("both use branch"));
    assert_eq!(trailers(&repo, "HEAD"), ["Session: other"]);

    repo.git(&["checkout", "-q", "-b", "shared"]);
    move_session(&repo, "search", "shared");
    move_session(&repo, "other", "shared");
    let plain = commit(&repo, &["-m", "Plain again"]);
    let err = text(&plain.stderr);
    assert!(
        err.contains("sessions 'other' and 'search' both use branch 'shared', so no Session trailer was added"),
        "{err}"
    );
    assert!(trailers(&repo, "HEAD").is_empty());
    repo.run(&["status"]).fails_with(
        2,
        "sessions 'other' and 'search' both use branch 'shared'; name the one you mean",
    );
    repo.run(&["check", "--no-commands"]).fails_with(
        2,
        "sessions 'other' and 'search' both use branch 'shared'; name the one to check",
    );
    repo.run(&["start", "third", "--current", "--base", "main"]).warns(
        "warning: sessions 'other', 'search' already use branch 'shared'; commits on it whose message names no session get no Session trailer from the hooks",
    );
}

/// A closed session gives way on its branch to an open one that shares it, and still answers
/// for the branch when none is open; a new session named after a branch others use takes the
/// plain commits, and start says how to reach the others.
#[test]
fn an_open_session_outranks_a_closed_one_on_a_shared_branch() {
    let repo = hooked();
    repo.run(&["start", "other", "--current"]).success();
    commit(&repo, &["-m", "Plain"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);
    repo.run(&["finish", "search", "--force"]).success();
    commit(&repo, &["-am", "Finish search"]);
    let plain = commit(&repo, &["-m", "After"]);
    assert!(!text(&plain.stderr).contains("both use branch"));
    assert_eq!(trailers(&repo, "HEAD"), ["Session: other"]);
    assert_eq!(repo.json(&["status"])["session"]["name"], "other");
    repo.run(&["start", "third", "--current"]).warns(
        "warning: sessions 'other', 'search' already use branch 'session/search'; commits on it whose message names no session get no Session trailer from the hooks",
    );
    repo.run(&["status"]).fails_with(
        2,
        "sessions 'other' and 'third' both use branch 'session/search'; name the one you mean",
    );
    for name in ["other", "third"] {
        repo.run(&["finish", name, "--force"]).success();
    }
    commit(&repo, &["-am", "Finish the rest"]);
    assert_eq!(repo.json(&["status"])["session"]["name"], "search");

    // A broken file the branch is named after may be the one: its error, not a guess.
    let file = repo.read(".sessions/search.toml");
    repo.write(".sessions/search.toml", "schema = 1\n[[milestones\n");
    repo.run(&["status"]).fails_with(2, ".sessions/search.toml");
    repo.write(".sessions/search.toml", &file);

    repo.git(&["checkout", "-q", "-b", "feature/later"]);
    repo.run(&["start", "elsewhere", "--current", "--base", "main"])
        .success();
    repo.run(&["start", "later", "--current", "--base", "main"]).warns(
        "warning: session 'elsewhere' already uses branch 'feature/later'; commits on it whose message names no session go to session 'later', which the branch is named after (a 'Session: elsewhere' trailer links one to 'elsewhere')",
    );
    // No hint toward a closed session.
    repo.git(&["checkout", "-q", "-b", "feature/solo"]);
    repo.run(&["start", "old", "--current", "--base", "main"])
        .success();
    repo.run(&["finish", "old", "--force"]).success();
    let solo = repo.run(&["start", "solo", "--current", "--base", "main"]);
    solo.warns("go to session 'solo', which the branch is named after\n");
    assert!(
        !solo.stderr().contains("trailer links"),
        "{}",
        solo.stderr()
    );
}

/// While the file a branch is named after does not load, no other claimant is taken for the
/// branch's session: the hooks stamp none (and say why), commands report the file's error.
#[test]
fn a_broken_file_the_branch_is_named_after_is_not_passed_over() {
    let repo = hooked();
    repo.run(&["start", "other", "--current"]).success();
    commit(&repo, &["-m", "Both"]);
    repo.write(".sessions/search.toml", "schema = 1\n[[milestones\n");
    let plain = commit(&repo, &["-m", "Plain"]);
    let err = text(&plain.stderr);
    assert!(err.contains(".sessions/search.toml does not load"), "{err}");
    assert!(trailers(&repo, "HEAD").is_empty());
    repo.run(&["status"]).fails_with(2, ".sessions/search.toml");
    let check = repo.run(&["check", "--no-commands"]);
    check.expect_code(2);
    assert!(
        check.stderr().contains(".sessions/search.toml"),
        "{}",
        check.stderr()
    );
}

/// After the first commit, post-commit builds on the memo of its last walk instead of walking
/// again, and says the same as a walk does.
#[test]
fn post_commit_steps_from_its_memo_and_says_what_a_walk_says() {
    let repo = hooked();
    let traced = |message: &str| {
        let out = commit_with(&repo, &["-m", message], |c| {
            c.env("GIT_SESSION_TRACE", "1");
        });
        text(&out.stderr)
    };
    let first = traced("One\n\nMilestone-Done: parser");
    assert!(first.contains("commits from a walk"), "{first}");
    let second = traced("Two\n\nEffort: 20m");
    assert!(
        second.contains("commits from the memo and HEAD"),
        "{second}"
    );
    let line = |err: &str| {
        err.lines()
            .find(|l| l.starts_with("search: "))
            .unwrap_or_else(|| panic!("no progress line in:\n{err}"))
            .to_string()
    };
    std::fs::remove_file(repo.path.join(".git/git-session/post-commit")).expect("memo exists");
    let fresh = repo.run(&["hook", "post-commit"]);
    fresh.success();
    assert_eq!(line(&second), line(&fresh.stderr()));
    assert!(line(&second).contains("50%"), "{second}");
}

/// With hundreds of session files a second thread shares the `stat` calls; a system that
/// refuses threads (a process limit; here a stack larger than any address space) must not
/// fail the commit.
#[test]
fn a_refused_thread_does_not_fail_the_commit() {
    let repo = hooked();
    let file = repo.read(".sessions/search.toml");
    for i in 0..600 {
        let name = format!("s{i}");
        repo.write(
            &format!(".sessions/{name}.toml"),
            &file
                .replace("name = \"search\"", &format!("name = \"{name}\""))
                .replace("session/search", &format!("session/{name}")),
        );
    }
    let out = commit_with(&repo, &["-m", "Work"], |cmd| {
        cmd.env("RUST_MIN_STACK", (1u64 << 62).to_string());
    });
    assert!(
        !text(&out.stderr).contains("error"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(trailers(&repo, "HEAD")[0], "Session: search");
}

/// A directory holding a `git-session` that logs each hook it is started for, then runs the real
/// one: put first on PATH, it shows which hooks started the binary.
fn logging_binary(repo: &TestRepo) -> (PathBuf, PathBuf) {
    let dir = repo.path.join("../logging-bin");
    let log = repo.path.join("../started");
    script(
        &dir.join("git-session"),
        format!(
            "#!/bin/sh\n[ \"$1\" = hook ] && echo \"$2\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            bin().display()
        )
        .as_bytes(),
        0o755,
    );
    (dir, log)
}

/// The hooks the binary was started for since the last call, and the log emptied.
fn started(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let _ = std::fs::remove_file(log);
    text.lines().map(str::to_string).collect()
}

#[test]
fn commit_msg_is_spared_a_start_when_prepare_commit_msg_checked_the_message() {
    let repo = hooked();
    let (dir, log) = logging_binary(&repo);
    let path = format!("{}:{}", dir.display(), path_without_git_session());
    let with_path = |c: &mut Command| {
        c.env("PATH", &path);
    };

    // Without an editor the message prepare-commit-msg stamped is the one git commits.
    commit_with(&repo, &["-m", "Plain"], with_path);
    assert_eq!(started(&log), ["prepare-commit-msg"]);
    assert_eq!(trailers(&repo, "HEAD"), ["Session: search"]);

    // A message it finds fault with goes to commit-msg, which refuses it as before.
    let before = head(&repo);
    let bad = try_commit_with(
        &repo,
        &["-m", "Bad", "--trailer", "Milestone=parsr"],
        with_path,
    );
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("Milestone 'parsr' names no milestone"));
    assert_eq!(started(&log), ["prepare-commit-msg", "commit-msg"]);

    // An editor may change the message after prepare-commit-msg: commit-msg checks it again.
    let edited = try_commit_with(&repo, &["-e", "-m", "Edited"], |c| {
        with_path(c);
        c.env("GIT_EDITOR", "printf 'Milestone: parsr\\n' >>");
    });
    assert_eq!(edited.status.code(), Some(1), "{}", text(&edited.stderr));
    assert_eq!(started(&log), ["prepare-commit-msg", "commit-msg"]);
    assert_eq!(head(&repo), before);

    // The mark counts only for the git process that prepare-commit-msg ran for.
    let message = repo.path.join("../message");
    std::fs::write(&message, "Stale\n\nSession: search\nMilestone: parsr\n").expect("message");
    let marker = repo.path.join("../message.git-session-checked");
    let run_script = |mark: &str| {
        std::fs::write(&marker, mark).expect("mark");
        let mut cmd = repo.command(repo.path.join(".git/hooks/commit-msg"));
        cmd.arg(&message).env("PATH", &path);
        cmd.output().expect("runs")
    };
    let other = run_script("1\n");
    assert_eq!(other.status.code(), Some(1), "{}", text(&other.stderr));
    assert_eq!(started(&log), ["commit-msg"]);
    let ours = run_script(&format!("{}\n", std::process::id()));
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours.stderr));
    assert!(started(&log).is_empty());
    // Nor does a mark older than the message: git wrote the message after it.
    let stale = {
        let message_file = std::fs::File::options().append(true).open(&message);
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::write(&marker, format!("{}\n", std::process::id())).expect("mark");
        message_file
            .expect("open")
            .set_modified(later)
            .expect("mtime");
        let mut cmd = repo.command(repo.path.join(".git/hooks/commit-msg"));
        cmd.arg(&message).env("PATH", &path).output().expect("runs")
    };
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale.stderr));
    assert_eq!(started(&log), ["commit-msg"]);

    // Uninstalling takes the last mark, and the last lines for post-commit, away with the
    // hooks.
    commit_with(&repo, &["-m", "Last"], with_path);
    let mark = repo.path.join(".git/COMMIT_EDITMSG.git-session-checked");
    let ahead = repo.path.join(".git/COMMIT_EDITMSG.git-session-progress");
    assert!(mark.exists() && ahead.exists());
    repo.run(&["hooks", "uninstall"]).success();
    assert!(!mark.exists() && !ahead.exists());
}

/// The files left for the scripts are removed and written anew by each prepare-commit-msg,
/// never written through: a link put there must not lead to another file, and a post-commit
/// script still reading them for the last commit keeps what it opened.
#[cfg(unix)]
#[test]
fn the_files_left_for_the_scripts_are_replaced_not_written_through() {
    let repo = hooked();
    let precious = repo.path.join("../precious");
    std::fs::write(&precious, "precious data\n").expect("file");
    for suffix in [".git-session-checked", ".git-session-progress"] {
        let path = repo.path.join(format!(".git/COMMIT_EDITMSG{suffix}"));
        std::os::unix::fs::symlink(&precious, &path).expect("link");
    }
    let out = commit(&repo, &["-m", "Work"]);
    assert!(
        text(&out.stderr).contains("search: "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&precious).expect("file"),
        "precious data\n"
    );
    for suffix in [".git-session-checked", ".git-session-progress"] {
        let path = repo.path.join(format!(".git/COMMIT_EDITMSG{suffix}"));
        let meta = std::fs::symlink_metadata(&path).expect("left again");
        assert!(meta.file_type().is_file(), "{suffix}");
    }
}

#[test]
fn prepare_commit_msg_marks_a_checked_message_only_for_the_scripts() {
    let repo = hooked();
    let message = repo.path.join(".git/COMMIT_EDITMSG");
    let marker = repo.path.join(".git/COMMIT_EDITMSG.git-session-checked");
    let prepare = |source: &str, script: bool| {
        std::fs::write(&message, "Work\n\nSession: search\n").expect("message");
        let mut cmd = repo.command(bin());
        cmd.args(["hook", "prepare-commit-msg"])
            .arg(&message)
            .arg(source)
            .env("GIT_EDITOR", ":");
        if script {
            cmd.env(
                "GIT_SESSION_HOOK",
                repo.path.join(".git/hooks/prepare-commit-msg"),
            )
            .env("GIT_SESSION_GIT_PID", "4242");
        }
        let out = cmd.output().expect("runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::read_to_string(&marker).ok()
    };
    // Called by a hook manager, not through the script: no mark, as no script reads it.
    assert_eq!(prepare("message", false), None);
    // Through the script: the process id of git as the script saw it.
    assert_eq!(prepare("message", true).as_deref(), Some("4242\n"));
    // A message it does not judge (a merge) removes the mark an earlier commit left.
    assert_eq!(prepare("merge", true), None);
}

/// The progress line of the commit `out` made, and the one post-commit works out when run by
/// itself afterwards: they must be the same.
fn line_and_post_commits(repo: &TestRepo, out: &Output) -> (String, String) {
    let printed = text(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("trace:"))
        .collect::<Vec<_>>()
        .join("\n");
    let after = repo.run(&["hook", "post-commit"]);
    after.success();
    (printed, after.stderr().trim_end().to_string())
}

#[test]
fn post_commit_prints_the_lines_prepare_commit_msg_worked_out() {
    let repo = hooked();
    let (dir, log) = logging_binary(&repo);
    let path = format!("{}:{}", dir.display(), path_without_git_session());
    let with_path = |c: &mut Command| {
        c.env("PATH", &path);
    };
    let ahead = repo.path.join(".git/COMMIT_EDITMSG.git-session-progress");
    // Without an editor the line is known before the commit: post-commit's script prints it
    // and does not start git-session. Each time it is the line post-commit works out itself.
    for (args, line) in [
        (vec!["-m", "Plain"], "search: 0% · 0/2 milestones"),
        (
            vec!["-m", "Lexer", "--trailer", "Milestone=parser"],
            "search: 0% · 0/2 milestones · parser: 1 commit",
        ),
        (
            vec!["-m", "Parser", "--trailer", "Milestone-Done=parser"],
            "search: 50% · 1/2 milestones · parser done",
        ),
        (
            vec!["-m", "Time", "--trailer", "Effort=20m"],
            "search: 50% · 1/2 milestones",
        ),
        // `-a` has git name its index by its full path.
        (vec!["-a", "-m", "All"], "search: 50% · 1/2 milestones"),
        (
            vec!["-m", "Named\n\nSession: search\nMilestone: ranking"],
            "search: 50% · 1/2 milestones · ranking: 1 commit",
        ),
    ] {
        let out = commit_with(&repo, &args, with_path);
        assert_eq!(started(&log), ["prepare-commit-msg"], "{args:?}");
        let (printed, after) = line_and_post_commits(&repo, &out);
        assert_eq!(printed, line, "{args:?}");
        assert_eq!(printed, after, "{args:?}");
        // Spent: it never speaks for another commit.
        assert_eq!(std::fs::read(&ahead).expect("ahead file"), b"");
    }
    // Blockers are ordered by the second git gives the commit: post-commit works them out.
    let out = commit_with(
        &repo,
        &["-m", "Stuck", "--trailer", "Blocker=#ci CI is down"],
        with_path,
    );
    assert_eq!(started(&log), ["prepare-commit-msg", "post-commit"]);
    let (printed, after) = line_and_post_commits(&repo, &out);
    assert!(printed.contains("1 open blocker"), "{printed}");
    assert_eq!(printed, after);

    // An amend replaces HEAD, which the hooks are not told; nor is an alias of it.
    for amend in [
        vec!["commit", "-q", "--allow-empty", "--amend", "-m", "Again"],
        vec![
            "-c",
            "alias.fix=commit --amend --reset-author",
            "fix",
            "-q",
            "--allow-empty",
            "-m",
            "Again",
        ],
    ] {
        repo.tick(600);
        let out = repo.git_with(&amend, with_path);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(started(&log), ["prepare-commit-msg", "post-commit"]);
        let (printed, after) = line_and_post_commits(&repo, &out);
        assert_eq!(printed, "search: 50% · 1/2 milestones");
        assert_eq!(printed, after);
    }
    // An alias of a plain commit is one.
    repo.tick(600);
    let out = repo.git_with(
        &[
            "-c",
            "alias.ci=commit -q",
            "ci",
            "--allow-empty",
            "-m",
            "Aliased",
            "--trailer",
            "Milestone=ranking",
        ],
        with_path,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(started(&log), ["prepare-commit-msg"]);
    let (printed, after) = line_and_post_commits(&repo, &out);
    assert_eq!(printed, "search: 50% · 1/2 milestones · ranking: 2 commits");
    assert_eq!(printed, after);

    // Lines left for another git process are not printed.
    std::fs::write(&ahead, "1\nsearch: 99% · a line of another commit\n").expect("ahead");
    let out = {
        let mut cmd = repo.command(repo.path.join(".git/hooks/post-commit"));
        cmd.env("PATH", &path).env("GIT_INDEX_FILE", ".git/index");
        cmd.output().expect("runs")
    };
    assert!(out.status.success());
    assert_eq!(started(&log), ["post-commit"]);
    assert!(!text(&out.stderr).contains("99%"), "{}", text(&out.stderr));
}

#[test]
fn post_commit_run_again_answers_from_its_memo() {
    let repo = hooked();
    commit(&repo, &["-m", "One", "--trailer", "Milestone=parser"]);
    let traced = |_: ()| {
        let out = repo.run_with(&["hook", "post-commit"], |c| {
            c.env("GIT_SESSION_TRACE", "1");
        });
        out.success();
        out.stderr()
    };
    // prepare-commit-msg kept the memo of HEAD's parent: one step.
    let first = traced(());
    assert!(first.contains("commits from the memo and HEAD"), "{first}");
    // Nothing moved since: the memo answers as it is.
    let second = traced(());
    assert!(
        second.contains("commits from the memo and HEAD"),
        "{second}"
    );
    assert!(
        second.contains("search: 0% · 0/2 milestones · parser: 1 commit"),
        "{second}"
    );
}

/// What the commit itself may change is worked out after it: the order of a blocker's events
/// of one second (the walk's, which the commit shifts for some commits only), and a session
/// whose file is only on its branch, which the commit moves.
#[test]
fn lines_the_commit_itself_may_change_are_worked_out_after_it() {
    let repo = hooked();
    let unhooked = |message: &str| commit_unhooked(&repo, message);
    repo.tick(600);
    unhooked("Start");
    repo.git(&["branch", "elsewhere"]);
    // In one second on the session's branch: a blocker opened by a commit that counts by the
    // branch rule, closed by one that names the session.
    repo.tick(600);
    unhooked("A\n\nBlocker: #x down");
    unhooked("C");
    unhooked("B\n\nSession: search\nBlocker-Resolved: #x");
    repo.git(&["checkout", "-q", "elsewhere"]);
    let out = commit(&repo, &["-m", "Elsewhere", "--trailer", "Session=search"]);
    let (printed, after) = line_and_post_commits(&repo, &out);
    assert_eq!(printed, after);

    // The session's file removed by the commit that names it.
    let repo = hooked();
    commit(&repo, &["-m", "First"]);
    repo.git(&["rm", "-q", ".sessions/search.toml"]);
    let out = commit(
        &repo,
        &["-m", "Drop the file", "--trailer", "Session=search"],
    );
    let (printed, after) = line_and_post_commits(&repo, &out);
    assert_eq!(printed, after);
}
