//! The CI gate: `git session check` and `git session trust`, as CI and a reviewer meet them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::TestRepo;

/// Session `search` (milestones `parser`, `ranking`) started from `main`, its `[criteria]`
/// replaced by `criteria`, committed on its branch `session/search`.
fn gated(criteria: &str) -> TestRepo {
    let repo = TestRepo::with_session(&["parser", "ranking"]);
    set_criteria(&repo, Some(criteria));
    repo.commit("Start search\n\nSession: search\nSigned-off-by: Ada <ada@example.org>\n");
    repo
}

/// Rewrites the session file's `[criteria]` table (none at all with `None`).
fn set_criteria(repo: &TestRepo, criteria: Option<&str>) {
    let text = repo.read(".sessions/search.toml");
    let head = text.split("\n[criteria]").next().expect("text").trim_end();
    let table = criteria.map_or(String::new(), |c| format!("\n[criteria]\n{c}\n"));
    repo.write(".sessions/search.toml", &format!("{head}\n{table}"));
}

fn check(repo: &TestRepo, args: &[&str]) -> crate::harness::Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    repo.run(&all)
}

fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
}

#[test]
fn an_unmet_milestone_fails_naming_it_and_all_done_passes() {
    let repo = gated("milestones = \"all\"");
    repo.change_and_commit("a", "Parser\n\nMilestone-Done: parser\n");
    let out = check(&repo, &[]);
    out.expect_code(1);
    assert_has(
        &out.stdout(),
        "✗ milestones  not done: ranking (1 of 2 done)",
    );
    assert_has(&out.stdout(), "search: criteria unmet: milestones");
    repo.change_and_commit("a", "Ranking\n\nMilestone-Done: ranking\n");
    let out = check(&repo, &[]);
    out.success();
    assert_has(
        &out.stdout(),
        "✓ milestones  all 2 required milestones are done",
    );
    assert_has(&out.stdout(), "search: criteria met");
}

#[test]
fn an_open_blocker_fails_naming_its_tag_until_resolved() {
    let repo = gated("no_open_blockers = true");
    repo.change_and_commit("a", "Index\n\nBlocker: #corpus need a test corpus\n");
    let out = check(&repo, &[]);
    out.expect_code(1);
    assert_has(&out.stdout(), "open: #corpus");
    repo.change_and_commit("a", "Corpus\n\nBlocker-Resolved: #corpus\n");
    check(&repo, &[]).success();
}

#[test]
fn a_session_without_criteria_has_nothing_to_check() {
    let repo = gated("milestones = \"all\"");
    set_criteria(&repo, None);
    let out = check(&repo, &[]);
    out.success();
    assert_has(&out.stdout(), "search: no criteria; nothing to check");
}

#[test]
fn untrusted_commands_are_shown_and_refused() {
    let repo = gated("[[criteria.commands]]\nname = \"tests\"\nrun = 'touch ran.txt'");
    let out = check(&repo, &[]);
    out.expect_code(4);
    assert_has(
        &out.stdout(),
        "? tests  not trusted (never approved): would run `touch ran.txt` with timeout 10m",
    );
    assert_has(&out.stderr(), "git session trust search");
    assert!(!repo.exists("ran.txt"), "an untrusted command ran");
}

#[test]
fn run_commands_fails_then_passes_from_the_top_of_the_work_tree() {
    let repo = gated(
        "[[criteria.commands]]\nname = \"tests\"\n\
         run = 'test -f ready.txt || { echo \"not ready yet\" >&2; exit 3; }'\n\
         [[criteria.commands]]\nname = \"lint\"\nrun = 'echo linted'",
    );
    let out = check(&repo, &["--run-commands"]);
    out.expect_code(1);
    let text = out.stdout();
    assert_has(&text, "✗ tests  failed with exit code 3 after");
    assert_has(&text, "│ not ready yet");
    assert_has(&text, "✓ lint   passed in");
    assert!(
        !text.contains("linted"),
        "output of a passing command shown:\n{text}"
    );
    repo.write("ready.txt", "");
    std::fs::create_dir_all(repo.path.join("sub")).expect("dir");
    let out = repo.run_with(&["check", "--run-commands"], |c| {
        c.current_dir(repo.path.join("sub"));
    });
    out.success();
    assert_has(&out.stdout(), "✓ tests  passed in");
}

/// Whether process `pid` still runs (a zombie waiting to be reaped has already ended).
fn alive(pid: &str) -> bool {
    let out = std::process::Command::new("ps")
        .args(["-o", "stat=", "-p", pid])
        .output()
        .expect("ps runs");
    let stat = String::from_utf8_lossy(&out.stdout).trim().to_string();
    !stat.is_empty() && !stat.starts_with('Z')
}

#[test]
fn a_command_past_its_timeout_is_killed_with_its_children() {
    let repo = gated(
        "[[criteria.commands]]\nname = \"slow\"\n\
         run = 'sleep 30 & echo $! > ../pids; sh -c \"sleep 30\" & echo $! >> ../pids; wait'\n\
         timeout = \"1s\"",
    );
    let started = Instant::now();
    let out = check(&repo, &["--run-commands"]);
    let took = started.elapsed();
    out.expect_code(1);
    assert_has(&out.stdout(), "✗ slow  timed out after ");
    assert_has(
        &out.stdout(),
        " (timeout 1s); it and every process it started were stopped",
    );
    assert!(took < Duration::from_secs(20), "check took {took:?}");
    let pids = std::fs::read_to_string(repo.path.join("../pids")).expect("pids written");
    let pids: Vec<&str> = pids.split_whitespace().collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived its command");
    }
}

fn trust_file(repo: &TestRepo) -> PathBuf {
    repo.path.join(".git/git-session/trust.json")
}

#[test]
fn trust_approves_the_exact_commands_and_an_edit_needs_it_again() {
    let repo = gated("[[criteria.commands]]\nname = \"tests\"\nrun = 'echo first'");
    check(&repo, &[]).expect_code(4);
    let t = repo.run(&["trust"]);
    t.success();
    assert_has(&t.stdout(), "tests  echo first  (timeout 10m)  (new)");
    // The approval is in the git directory, not in the work tree.
    assert!(trust_file(&repo).exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let out = check(&repo, &[]);
    out.success();
    assert_has(&out.stdout(), "✓ tests  passed in");

    set_criteria(
        &repo,
        Some("[[criteria.commands]]\nname = \"tests\"\nrun = 'echo second'"),
    );
    let out = check(&repo, &[]);
    out.expect_code(4);
    assert_has(
        &out.stdout(),
        "not trusted (changed since it was approved): would run `echo second`",
    );
    // The timeout is part of what was approved, too.
    repo.run(&["trust", "search"]).success();
    check(&repo, &[]).success();
    set_criteria(
        &repo,
        Some("[[criteria.commands]]\nname = \"tests\"\nrun = 'echo second'\ntimeout = \"11m\""),
    );
    check(&repo, &[]).expect_code(4);
    repo.run(&["trust"]).success();
    check(&repo, &[]).success();

    let r = repo.run(&["trust", "--revoke"]);
    r.success();
    assert_has(&r.stdout(), "Revoked");
    check(&repo, &[]).expect_code(4);
}

#[test]
fn no_commands_judges_the_rest() {
    let repo = gated(
        "milestones = \"all\"\n[[criteria.commands]]\nname = \"tests\"\nrun = 'touch ran.txt'",
    );
    let out = check(&repo, &["--no-commands"]);
    out.expect_code(1);
    assert_has(&out.stdout(), "– tests       skipped (--no-commands)");
    assert_has(&out.stdout(), "criteria unmet: milestones");
    repo.change_and_commit(
        "a",
        "All done\n\nMilestone-Done: parser\nMilestone-Done: ranking\n",
    );
    let out = check(&repo, &["--no-commands"]);
    out.success();
    assert_has(&out.stdout(), "criteria met (tests skipped)");
    assert!(!repo.exists("ran.txt"));
    check(&repo, &[]).expect_code(4);
}

#[test]
fn a_detached_ci_checkout_finds_the_session_by_its_head_branch() {
    let repo = gated("milestones = \"all\"");
    repo.git(&["switch", "-q", "--detach"]);
    // Without CI's help, the Session trailers between the session's base and HEAD name it.
    let out = check(&repo, &[]);
    out.expect_code(1);
    assert_has(
        &out.stdout(),
        "found: Session trailers in main..HEAD (its base) name it",
    );
    for var in ["GITHUB_HEAD_REF", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"] {
        let out = repo.run_with(&["check"], |c| {
            c.env(var, "session/search");
        });
        out.expect_code(1);
        assert_has(
            &out.stdout(),
            &format!("found: {var} names its branch 'session/search'"),
        );
        assert_has(&out.stdout(), "not done: parser, ranking");
    }
}

/// On a detached checkout, a session whose base is not here is still found in the ranges that
/// are searched, and the missing base is named.
#[test]
fn a_session_whose_base_is_missing_is_found_with_a_note() {
    let repo = gated("milestones = \"all\"");
    let file = repo.read(".sessions/search.toml");
    repo.write(
        ".sessions/search.toml",
        &file.replace("base = \"main\"", "base = \"nope\""),
    );
    repo.commit("Base moved\n\nSession: search\n");
    repo.run(&["start", "other", "--base", "main"]).success();
    repo.commit("Start other\n\nSession: other\n");
    repo.git(&["switch", "-q", "--detach"]);
    let out = check(&repo, &[]);
    out.expect_code(1);
    assert_has(&out.stdout(), "Session search");
    assert_has(
        &out.stdout(),
        "found: Session trailers in main..HEAD name it",
    );
    assert_has(
        &out.stderr(),
        "no branch here is the base 'nope' of a session",
    );
}

/// A branch `feature` off `main`, with commits that link to `search` by trailer only.
fn feature_branch(repo: &TestRepo) {
    repo.git(&["switch", "-q", "-c", "feature", "main"]);
    repo.change_and_commit("f", "Work\n\nSession: search\nMilestone-Done: parser\n");
}

#[test]
fn sessions_named_by_trailers_in_base_range_are_checked() {
    let repo = gated("milestones = \"all\"");
    feature_branch(&repo);
    let out = check(&repo, &[]);
    out.success();
    assert_has(&out.stderr(), "no base branch is known");
    let out = check(&repo, &["--base", "main"]);
    out.expect_code(1);
    assert_has(
        &out.stdout(),
        "found: Session trailers in main..HEAD name it",
    );
    // Progress counts the trailer commit: only ranking is left.
    assert_has(&out.stdout(), "not done: ranking (1 of 2 done)");
    // On a detached CI checkout the base comes from CI.
    repo.git(&["switch", "-q", "--detach"]);
    for var in ["GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"] {
        let out = repo.run_with(&["check"], |c| {
            c.env(var, "main");
        });
        out.expect_code(1);
        assert_has(&out.stdout(), "Session search");
    }
    let out = repo.run_with(&["check"], |c| {
        c.env("GITHUB_BASE_REF", "gone");
    });
    out.fails_with(3, "fetch-depth: 0");
    check(&repo, &["--base", "gone"]).fails_with(2, "--base 'gone'");
}

#[test]
fn several_linked_sessions_are_each_checked() {
    let repo = gated("milestones = \"all\"");
    repo.git(&["switch", "-q", "main"]);
    repo.run(&["start", "docs", "--milestone", "guide"])
        .success();
    repo.commit("Start docs\n\nSession: docs\n");
    feature_branch(&repo);
    repo.change_and_commit("f", "Guide\n\nSession: docs\nMilestone-Done: guide\n");
    let out = check(&repo, &["--base", "main", "--json"]);
    out.expect_code(1);
    let reports: Vec<Value> = out
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(reports.len(), 2, "{}", out.stdout());
    assert_eq!(reports[0]["session"], "docs");
    assert_eq!(reports[0]["met"], true);
    assert_eq!(reports[1]["session"], "search");
    assert_eq!(reports[1]["met"], false);
}

#[test]
fn no_linked_session_passes_with_a_note_unless_one_is_required() {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    let out = check(&repo, &[]);
    out.success();
    assert_has(
        &out.stderr(),
        "no session is linked: the current branch 'main' is no session's branch",
    );
    check(&repo, &["--require-session"]).fails_with(1, "--require-session");
    let v: Value = serde_json::from_slice(check(&repo, &["--json"]).stdout_bytes()).expect("json");
    assert_eq!(v["session"], Value::Null);
    assert_eq!(v["met"], true);
    // A session file that does not load might be the session: that is no pass.
    repo.write(".sessions/broken.toml", "schema = 1\nname = = 2\n");
    check(&repo, &[]).fails_with(2, ".sessions/broken.toml:2:");
}

/// `search` with every milestone done, merged into `main`.
fn merged() -> TestRepo {
    let repo = gated("milestones = \"all\"");
    repo.change_and_commit(
        "a",
        "Done\n\nSession: search\nMilestone-Done: parser\nMilestone-Done: ranking\n",
    );
    repo.git(&["switch", "-q", "main"]);
    repo.tick(60);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge search",
        "session/search",
    ]);
    repo
}

fn clone(repo: &TestRepo, name: &str, depth: Option<&str>) -> PathBuf {
    let dest = repo.path.join("..").join(name);
    let url = format!("file://{}", repo.path.display());
    let mut args = vec!["clone", "-q"];
    if let Some(d) = depth {
        args.extend(["--depth", d]);
    }
    args.extend([url.as_str(), dest.to_str().expect("utf-8 path")]);
    let out = repo.command("git").args(&args).output().expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest
}

fn check_in(repo: &TestRepo, dir: &Path, args: &[&str]) -> crate::harness::Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    repo.run_with(&all, |c| {
        c.current_dir(dir);
    })
}

#[test]
fn a_shallow_clone_exits_3_and_says_to_fetch_full_history() {
    let repo = merged();
    check(&repo, &["search"]).success();
    let shallow = clone(&repo, "shallow", Some("1"));
    let out = check_in(&repo, &shallow, &["search"]);
    out.fails_with(3, "shallow clone");
    assert_has(&out.stderr(), "fetch-depth: 0");
    // The same range read in CI, from the base branch CI names.
    let out = repo.run_with(&["check"], |c| {
        c.current_dir(&shallow)
            .env("GITHUB_HEAD_REF", "session/search");
    });
    out.fails_with(3, "fetch-depth: 0");
    let full = clone(&repo, "full", None);
    check_in(&repo, &full, &["search"]).success();
}

#[test]
fn progress_survives_a_github_squash_merge_and_the_branch_deletion() {
    let repo = gated("milestones = \"all\"");
    repo.change_and_commit("a", "Parser\n\nSession: search\nMilestone-Done: parser\n");
    repo.change_and_commit("a", "Ranking\n\nMilestone-Done: ranking\n");
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["merge", "-q", "--squash", "session/search"]);
    repo.commit(
        "Search rewrite (#12)\n\n\
         * Start search\n\nSession: search\nSigned-off-by: Ada <ada@example.org>\n\n\
         * Parser\n\nSession: search\nMilestone-Done: parser\n\n\
         * Ranking\n\nMilestone-Done: ranking\n\n\
         ---------\n\nCo-authored-by: Bob <bob@example.org>\n",
    );
    repo.git(&["branch", "-q", "-D", "session/search"]);
    // git itself sees only the co-author trailer: the items are pooled by git-session.
    assert_eq!(
        repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Milestone-Done,valueonly)"
        ])
        .trim(),
        ""
    );
    let out = check(&repo, &["search"]);
    out.success();
    assert_has(&out.stdout(), "all 2 required milestones are done");
    let s = repo.json(&["status", "search"]);
    assert_eq!(s["progress"]["milestones_done"], 2, "{s}");
}

#[test]
fn markdown_renders_a_table_and_summary_appends_it() {
    let repo = gated("milestones = \"all\"\nno_open_blockers = true");
    let out = check(&repo, &["--format", "markdown"]);
    out.expect_code(1);
    let md = out.stdout();
    assert_has(&md, "### ❌ Session `search`: criteria unmet: milestones");
    assert_has(&md, "| | Criterion | Result |\n|---|---|---|\n");
    assert_has(
        &md,
        "| ❌ | milestones | not done: parser, ranking (0 of 2 done) |",
    );
    assert_has(&md, "| ✅ | no\\_open\\_blockers | no open blockers |");
    let summary = repo.path.join("../summary.md");
    std::fs::write(&summary, "# Before\n").expect("summary");
    let path = summary.to_str().expect("utf-8 path");
    let out = check(&repo, &["--summary", path]);
    out.expect_code(1);
    assert_has(&out.stdout(), "✗ milestones");
    let written = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        written.starts_with("# Before\n### ❌ Session `search`"),
        "{written}"
    );
}

#[test]
fn json_has_the_spec_keys() {
    let repo = gated(
        "milestones = \"all\"\nrequire_trailers = [\"Signed-off-by\"]\n\
         [[criteria.commands]]\nname = \"tests\"\nrun = 'echo hi; exit 1'",
    );
    let out = check(&repo, &["--json", "--run-commands"]);
    out.expect_code(1);
    let v: Value = serde_json::from_slice(out.stdout_bytes()).expect("json");
    assert_eq!(v["schema"], 1);
    assert_eq!(v["session"], "search");
    assert_eq!(v["met"], false);
    let criteria = v["criteria"].as_array().expect("criteria");
    assert_eq!(criteria.len(), 3);
    for c in criteria {
        assert!(c["name"].is_string() && c["met"].is_boolean() && c["detail"].is_string());
    }
    assert_eq!(criteria[1]["name"], "require_trailers");
    assert_eq!(criteria[1]["met"], true);
    assert_eq!(criteria[2]["name"], "tests");
    assert_eq!(criteria[2]["state"], "failed");
    assert_eq!(criteria[2]["command"], "echo hi; exit 1");
    assert_eq!(criteria[2]["output"], "hi\n");
    assert_eq!(v["range"], "main..HEAD");
}

#[test]
fn github_annotations_appear_on_github_actions() {
    let repo = gated(
        "milestones = \"all\"\n[[criteria.commands]]\nname = \"tests\"\n\
         run = 'echo \"::error::forged by the command\"; exit 1'",
    );
    let out = repo.run_with(&["check", "--run-commands"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    out.expect_code(1);
    let text = out.stdout();
    assert_has(
        &text,
        "::error title=git session check%3A search::milestones: not done: parser, ranking (0 of 2 done)\n",
    );
    // The command's own output cannot issue workflow commands.
    let stop = text.find("::stop-commands::").expect("stop-commands");
    let forged = text.find("│ ::error::forged").expect("output shown");
    assert!(stop < forged, "{text}");
    // Without GITHUB_ACTIONS, no workflow commands.
    let plain = check(&repo, &["--run-commands"]);
    assert!(
        !plain.stdout().contains("::error title"),
        "{}",
        plain.stdout()
    );
    // Met: a notice.
    set_criteria(&repo, Some("no_open_blockers = true"));
    let out = repo.run_with(&["check"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    out.success();
    assert_has(
        &out.stdout(),
        "::notice title=git session check%3A search::search: criteria met",
    );
}

#[test]
fn require_trailers_flags_a_no_verify_commit_but_not_merges() {
    let repo = gated("require_trailers = [\"Signed-off-by\"]");
    repo.change_and_commit("a", "Signed work\n\nSigned-off-by: Ada <ada@example.org>\n");
    check(&repo, &[]).success();
    // A commit made with --no-verify skips the hooks that would have added the trailer.
    let bad = repo.change_and_commit("a", "Quick fix\n");
    // A merge of the base into the branch is not judged.
    repo.git(&["switch", "-q", "main"]);
    repo.change_and_commit("m", "Main moves on\n");
    repo.git(&["switch", "-q", "session/search"]);
    repo.tick(60);
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge main", "main"]);
    let out = check(&repo, &[]);
    out.expect_code(1);
    assert_has(
        &out.stdout(),
        &format!("✗ require_trailers  {} lacks Signed-off-by", &bad[..7]),
    );
    assert_eq!(out.stdout().matches("lacks").count(), 1, "{}", out.stdout());
}

#[test]
fn help_teaches_check_and_trust() {
    let repo = TestRepo::bare_dir();
    let top = repo.run(&["--help"]);
    top.success();
    for cmd in ["check", "trust"] {
        assert!(
            top.stdout()
                .lines()
                .any(|l| l.trim_start().starts_with(cmd)),
            "--help lacks {cmd}:\n{}",
            top.stdout()
        );
    }
    let help = repo.run(&["check", "--help"]);
    help.success();
    for needle in [
        "GITHUB_HEAD_REF",
        "--run-commands",
        "--no-commands",
        "--require-session",
        "  git session check search --no-commands",
    ] {
        assert_has(&help.stdout(), needle);
    }
    let help = repo.run(&["trust", "--help"]);
    help.success();
    assert_has(&help.stdout(), "  git session trust search\n");
}

/// Regression: check judged every branch, so a milestone done on an unmerged branch (or any
/// pushed branch, in a full CI clone) made the gate pass for work HEAD does not contain.
#[test]
fn only_what_head_holds_counts() {
    let repo = gated("milestones = \"all\"");
    repo.change_and_commit("a", "Parser\n\nMilestone-Done: parser\n");
    repo.git(&["switch", "-q", "-c", "experiment"]);
    repo.change_and_commit(
        "b",
        "Ranking, elsewhere\n\nSession: search\nMilestone-Done: ranking\n",
    );
    repo.git(&["switch", "-q", "session/search"]);
    let out = check(&repo, &[]);
    out.expect_code(1);
    assert_has(&out.stdout(), "not done: ranking");
    // status still reports the session's progress across the repository.
    let s = repo.json(&["status", "search"]);
    assert_eq!(s["progress"]["milestones_done"], 2, "{s}");
}

/// A command's output is read on a thread of its own; where the system refuses one (a process
/// limit; here a stack larger than any address space), the command is not started and the
/// gate says why, rather than crash or leave it to stall on a full pipe.
#[test]
fn a_refused_thread_fails_the_command_with_the_reason() {
    let repo = gated("[[criteria.commands]]\nname = \"tests\"\nrun = 'touch ran; sleep 30'");
    let started = Instant::now();
    let out = repo.run_with(&["check", "--run-commands"], |c| {
        c.env("RUST_MIN_STACK", (1u64 << 62).to_string());
    });
    out.expect_code(1);
    assert_has(
        &out.stdout(),
        "✗ tests  could not start: no thread to read its output",
    );
    assert!(started.elapsed() < Duration::from_secs(20), "it waited");
    assert!(!repo.exists("ran"), "the command ran");
}
