//! The everyday commands, as a new user meets them: init, start, commit, status, list, log,
//! validate.

use serde_json::Value;

use crate::harness::{TestRepo, bin};

/// A repository with `git session init` done and session `search` started from `main`.
fn started() -> TestRepo {
    TestRepo::with_session(&["parser:Query parser", "ranking"])
}

fn milestone<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["milestones"]
        .as_array()
        .expect("milestones array")
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("milestone {id} in {status}"))
}

#[test]
fn init_creates_the_policy_file_and_is_idempotent() {
    let repo = TestRepo::with_commit();
    let first = repo.run(&["init"]);
    first.success();
    assert!(first.stdout().contains("Initialized .sessions/"));
    let config = repo.read(".sessions/config.toml");
    assert!(config.contains("prefix = \"session/\""));
    repo.write(".sessions/config.toml", &format!("{config}# mine\n"));
    let again = repo.run(&["init"]);
    again.success();
    assert!(again.stdout().contains("Already initialized"));
    assert!(repo.read(".sessions/config.toml").ends_with("# mine\n"));
}

#[test]
fn start_writes_the_file_switches_branch_and_stages_it() {
    let repo = started();
    let text = repo.read(".sessions/search.toml");
    let doc: toml::Table = text.parse().expect("valid TOML");
    assert_eq!(doc["schema"].as_integer(), Some(1));
    assert_eq!(doc["name"].as_str(), Some("search"));
    assert_eq!(doc["base"].as_str(), Some("main"));
    assert_eq!(doc["branch"].as_str(), Some("session/search"));
    assert_eq!(doc["status"].as_str(), Some("active"));
    let id = uuid::Uuid::parse_str(doc["id"].as_str().expect("id")).expect("a UUID");
    assert_eq!(id.get_version_num(), 7);
    let ms = doc["milestones"].as_array().expect("milestones");
    assert_eq!(ms[0]["id"].as_str(), Some("parser"));
    assert_eq!(ms[0]["title"].as_str(), Some("Query parser"));
    assert_eq!(ms[1]["id"].as_str(), Some("ranking"));
    assert_eq!(
        repo.git(&["branch", "--show-current"]).trim(),
        "session/search"
    );
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]).trim(),
        ".sessions/search.toml"
    );
    // The file the tool wrote is valid by its own rules.
    repo.run(&["validate"]).success();
}

#[test]
fn progress_is_derived_from_history() {
    let repo = started();
    repo.change_and_commit(
        "src/parser.rs",
        "Add the lexer\n\nSession: search\nMilestone: parser\nEffort: 1h30m\n",
    );
    // On the session branch, without a Session trailer: it counts by the branch rule.
    repo.change_and_commit(
        "src/parser.rs",
        "Finish the parser\n\nMilestone-Done: parser\nEffort: 45m\n",
    );
    // Trailer-like lines that git does not count as trailers are not counted either.
    repo.change_and_commit(
        "src/rank.rs",
        "Sketch ranking\n\nMilestone-Done: ranking\nEffort: 8h\n\nThis paragraph makes the lines above body text.\n",
    );
    repo.change_and_commit(
        "src/rank.rs",
        "Rank by BM25\n\nSession: search\nMilestone: ranking\nSigned-off-by: Ada <ada@example.org>\n",
    );
    // A commit on main with only a Session trailer belongs to the session too.
    repo.git(&["switch", "-q", "main"]);
    repo.change_and_commit("README", "Document search\n\nSession: search\n");
    // And one on main without it does not.
    repo.change_and_commit("README", "Unrelated\n\nEffort: 3h\n");

    // The session file lives on the session branch; status finds it there from main.
    assert!(!repo.exists(".sessions/search.toml"));
    let s = repo.json(&["status", "search"]);
    assert_eq!(s["schema"], 1);
    assert_eq!(s["session"]["name"], "search");
    assert_eq!(s["session"]["branch"], "session/search");
    assert_eq!(s["session"]["base"], "main");
    assert_eq!(milestone(&s, "parser")["state"], "done");
    assert_eq!(milestone(&s, "parser")["commits"], 2);
    assert_eq!(milestone(&s, "ranking")["state"], "in_progress");
    assert_eq!(s["progress"]["fraction"], 0.5);
    assert_eq!(s["progress"]["milestones_done"], 1);
    assert_eq!(s["progress"]["milestones_total"], 2);
    assert_eq!(s["commits"], 5);
    assert_eq!(s["effort"]["reported_minutes"], 135);
    assert!(s["effort"]["estimated_minutes"].as_u64().expect("integer") > 0);
    assert!(
        s["warnings"].as_array().expect("warnings").is_empty(),
        "{s}"
    );
}

#[test]
fn status_without_a_name_means_the_current_branch() {
    let repo = started();
    repo.change_and_commit("a", "Work\n\nMilestone: parser\n");
    let s = repo.json(&["status"]);
    assert_eq!(s["session"]["name"], "search");
    repo.git(&["switch", "-q", "main"]);
    repo.run(&["status"])
        .fails_with(2, "no session uses the current branch 'main'");
}

#[test]
fn text_status_names_milestones_and_progress() {
    let repo = started();
    repo.change_and_commit(
        "a",
        "Work\n\nMilestone-Done: parser\nBlocker: #corpus need data\n",
    );
    let out = repo.run(&["status"]);
    out.success();
    let text = out.stdout();
    assert!(text.starts_with("search\n"), "{text}");
    assert!(text.contains("50%"), "{text}");
    assert!(text.contains("✓ parser"), "{text}");
    assert!(text.contains("○ ranking"), "{text}");
    assert!(text.contains("#corpus"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn list_and_log() {
    let repo = started();
    repo.change_and_commit("a", "Lexer\n\nMilestone: parser\nTask-Done: parser/lexer\n");
    repo.change_and_commit("a", "Parser\n\nMilestone-Done: parser\nEffort: 2h\n");
    let list = repo.json(&["list"]);
    let entries = list.as_array().expect("array");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["name"], "search");
    assert_eq!(entries[0]["status"], "active");
    assert_eq!(entries[0]["branch"], "session/search");
    assert_eq!(entries[0]["progress"]["fraction"], 0.5);

    let text = repo.run(&["list"]);
    text.success();
    assert!(text.stdout().starts_with("* search"), "{}", text.stdout());

    let log = repo.json(&["log"]);
    let log = log.as_array().expect("array");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["summary"], "Parser");
    assert_eq!(log[0]["events"][0]["type"], "milestone_done");
    assert_eq!(log[0]["events"][1]["minutes"], 120);
    assert_eq!(log[1]["events"][1]["type"], "task_done");
    let text = repo.run(&["log"]);
    text.success();
    assert!(text.stdout().contains("✓ parser done"), "{}", text.stdout());
}

#[test]
fn unknown_session_exits_2() {
    let repo = started();
    repo.run(&["status", "nope"])
        .fails_with(2, "unknown session 'nope'");
    repo.run(&["log", "nope"])
        .fails_with(2, "unknown session 'nope'");
}

#[test]
fn unsafe_names_are_refused_before_touching_files() {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    for bad in [
        "../x",
        "/abs",
        "a/b",
        "..",
        "Search",
        "-x",
        "é",
        &"x".repeat(64),
        "config",
    ] {
        repo.run(&["start", bad]).expect_code(2);
        repo.run(&["status", bad]).expect_code(2);
    }
    repo.run(&["start", ""]).expect_code(2);
    let files: Vec<_> = std::fs::read_dir(repo.path.join(".sessions"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files, ["config.toml"]);
    assert!(!repo.path.join("x.toml").exists());
    repo.run(&["start", "ok", "--milestone", "Bad"])
        .fails_with(2, "'Bad' is not a valid milestone id");
    assert!(!repo.exists(".sessions/ok.toml"));
}

#[test]
fn broken_files_make_validate_fail_naming_file_and_line() {
    let repo = started();
    repo.write(".sessions/broken.toml", "schema = 1\nname = = 2\n");
    let good = repo.read(".sessions/search.toml");
    repo.write(
        ".sessions/typo.toml",
        &good
            .replace("name = \"search\"", "name = \"typo\"")
            .replace("status = ", "stauts = "),
    );
    let out = repo.run(&["validate"]);
    out.expect_code(1);
    let text = out.stdout();
    assert!(text.contains(".sessions/broken.toml:2:"), "{text}");
    let typo_line = good
        .lines()
        .position(|l| l.starts_with("status = "))
        .expect("status line")
        + 1;
    assert!(
        text.contains(&format!(
            ".sessions/typo.toml:{typo_line}:1: unknown field `stauts`"
        )),
        "{text}"
    );
    let json = repo.run(&["validate", "--json"]);
    json.expect_code(1);
    let v: Value = serde_json::from_slice(json.stdout_bytes()).expect("json");
    assert_eq!(v["errors"].as_array().expect("errors").len(), 2);
    // Other commands refuse the broken file with exit 2 and say where.
    repo.run(&["status", "typo"])
        .fails_with(2, ".sessions/typo.toml:");
    // And list still lists the good one, warning about the others.
    let list = repo.run(&["list"]);
    list.success();
    assert!(list.stderr().contains("broken.toml"));
    assert!(list.stdout().contains("search"));
}

#[test]
fn validate_warns_about_bad_trailers_in_history_without_failing() {
    let repo = started();
    repo.change_and_commit(
        "a",
        "Work\n\nSession: search\nMilestone: parsr\nEffort: soon\n",
    );
    repo.change_and_commit("a", "Other\n\nSession: ghost\n");
    let out = repo.run(&["validate"]);
    out.success();
    let text = out.stdout();
    assert!(
        text.contains("'parsr' is not a milestone of search"),
        "{text}"
    );
    assert!(text.contains("Effort 'soon' is not a duration"), "{text}");
    assert!(
        text.contains("names session 'ghost', which has no file"),
        "{text}"
    );
    repo.run(&["validate", "--strict"]).expect_code(1);
    // status shows them as warnings and still answers.
    let s = repo.json(&["status", "search"]);
    assert_eq!(s["warnings"].as_array().expect("warnings").len(), 2);
}

#[test]
fn outside_a_repository_exits_2() {
    let dir = TestRepo::bare_dir();
    for cmd in [&["status"][..], &["list"], &["init"], &["validate"]] {
        dir.run_with(cmd, |c| {
            c.env(
                "GIT_CEILING_DIRECTORIES",
                dir.path.parent().expect("parent"),
            );
        })
        .fails_with(2, "not a git repository");
    }
}

#[test]
fn help_lists_every_command() {
    let out = std::process::Command::new(bin())
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["init", "start", "list", "status", "log", "validate", "demo"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(cmd)),
            "--help lacks {cmd}:\n{help}"
        );
    }
}

#[test]
fn start_from_a_detached_head_needs_a_base() {
    let repo = TestRepo::with_commit();
    repo.git(&["switch", "-q", "--detach"]);
    repo.run(&["start", "x"]).fails_with(2, "--base");
    repo.run(&["start", "x", "--base", "main"]).success();
    assert_eq!(repo.git(&["branch", "--show-current"]).trim(), "session/x");
}

/// Regression: a typo in --base was written to the file, and the branch rule then counted
/// nothing without a word.
#[test]
fn start_refuses_a_base_that_is_no_branch_here() {
    let repo = TestRepo::with_commit();
    repo.run(&["start", "x", "--base", "mian"])
        .fails_with(2, "--base 'mian' is not a branch here");
    assert!(!repo.exists(".sessions/x.toml"));
    assert_eq!(repo.git(&["branch", "--show-current"]).trim(), "main");
    // A remote-tracking branch is a base too, by the branch's name.
    repo.git(&["remote", "add", "origin", "/nonexistent"]);
    repo.git(&["update-ref", "refs/remotes/origin/release", "HEAD"]);
    repo.run(&["start", "x", "--base", "origin/release"])
        .fails_with(2, "--base release, not 'origin/release'");
    repo.run(&["start", "x", "--base", "refs/heads/main"])
        .fails_with(2, "--base main, not 'refs/heads/main'");
    repo.run(&["start", "x", "--base", "release"]).success();
}

#[test]
fn start_with_current_keeps_the_branch() {
    let repo = TestRepo::with_commit();
    repo.git(&["switch", "-q", "-c", "feature"]);
    repo.run(&["start", "feat", "--current"]).success();
    let doc: toml::Table = repo.read(".sessions/feat.toml").parse().expect("toml");
    assert_eq!(doc["branch"].as_str(), Some("feature"));
    assert_eq!(doc["base"].as_str(), Some("main"));
    assert_eq!(repo.git(&["branch", "--show-current"]).trim(), "feature");
}

#[test]
fn start_refuses_an_existing_session_or_branch() {
    let repo = started();
    repo.git(&["switch", "-q", "main"]);
    repo.run(&["start", "search"])
        .fails_with(2, "already exists");
    repo.git(&["branch", "session/other"]);
    repo.run(&["start", "other"])
        .fails_with(2, "branch 'session/other' already exists");
    assert!(!repo.exists(".sessions/other.toml"));
}

#[test]
fn start_works_in_a_repository_without_commits() {
    let repo = TestRepo::new();
    repo.run(&["start", "first", "--milestone", "one"])
        .success();
    assert!(repo.exists(".sessions/first.toml"));
    assert_eq!(
        repo.git(&["symbolic-ref", "--short", "HEAD"]).trim(),
        "session/first"
    );
    repo.commit("First\n\nMilestone-Done: one\n");
    let s = repo.json(&["status"]);
    // The base has no commits, so the branch rule cannot apply; the commit names no session.
    assert_eq!(s["commits"], 0);
    assert!(
        s["warnings"][0]
            .as_str()
            .expect("a note")
            .contains("base branch 'main'"),
        "{s}"
    );
}

#[test]
fn start_opens_the_editor_and_reopens_it_on_errors() {
    let repo = TestRepo::with_commit();
    let script = repo.path.join("../editor.sh");
    // First round: an unknown key. Second: fixed, with a milestone and a comment of the user's.
    std::fs::write(
        &script,
        r#"#!/bin/sh
f="$1"
n=$(cat "$0.count" 2>/dev/null || echo 0)
echo $((n+1)) > "$0.count"
if [ "$n" = 0 ]; then
  sed -i 's/^title = .*/titel = "oops"/' "$f"
else
  grep -q '^## error: .*titel' "$f" || exit 3
  cp "$f" "$0.seen"
  sed -i 's/^titel = .*/title = "Edited"/; s/first-milestone/parser/' "$f"
  echo '# my note' >> "$f"
fi
"#,
    )
    .expect("script");
    std::process::Command::new("chmod")
        .args(["+x", script.to_str().expect("path")])
        .status()
        .expect("chmod");
    let out = repo.run_with(&["start", "edited", "--edit"], |c| {
        c.env("GIT_EDITOR", &script);
    });
    out.success();
    assert!(
        out.stderr().contains("unknown field `titel`"),
        "{}",
        out.stderr()
    );
    // The position is that of the bad line in the re-opened editor, in the file it edits.
    let shown = std::fs::read_to_string(repo.path.join("../editor.sh.seen")).expect("seen");
    let err = out.stderr();
    let line: usize = err
        .split("SESSION_EDITMSG.toml:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no position in: {err}"));
    assert!(
        shown
            .lines()
            .nth(line - 1)
            .is_some_and(|l| l.starts_with("titel")),
        "line {line} of:\n{shown}"
    );
    let text = repo.read(".sessions/edited.toml");
    assert!(text.contains("title = \"Edited\""), "{text}");
    assert!(text.contains("id = \"parser\""), "{text}");
    assert!(text.ends_with("# my note\n"), "{text}");
    assert!(!text.contains("##"), "{text}");
}

#[test]
fn start_aborts_when_the_editor_empties_the_file() {
    let repo = TestRepo::with_commit();
    let out = repo.run_with(&["start", "gone", "--edit"], |c| {
        c.env("GIT_EDITOR", "sh -c ': > \"$0\"'");
    });
    out.fails_with(2, "left empty");
    assert!(!repo.exists(".sessions/gone.toml"));
    assert_eq!(repo.git(&["branch", "--show-current"]).trim(), "main");
}

#[test]
fn dash_c_runs_elsewhere() {
    let repo = started();
    let other = TestRepo::bare_dir();
    let out = other.run(&[
        "-C",
        repo.path.to_str().expect("path"),
        "status",
        "search",
        "--json",
    ]);
    out.success();
    assert!(out.stdout().contains("\"search\""));
}

#[test]
fn commit_before_the_session_was_created_does_not_count() {
    let repo = TestRepo::with_commit();
    // Dated two days before the session exists: beyond the default 1-day clock skew.
    repo.change_and_commit("a", "Old\n\nSession: late\nMilestone-Done: m\n");
    repo.tick(2 * 86_400);
    repo.run(&["start", "late", "--milestone", "m"]).success();
    let s = repo.json(&["status"]);
    assert_eq!(s["commits"], 0);
    assert_eq!(milestone(&s, "m")["state"], "pending");
    let v = repo.run(&["validate"]);
    assert!(
        v.stdout().contains("committed before it was created"),
        "{}",
        v.stdout()
    );
}

#[test]
fn demo_runs_in_a_throwaway_repository() {
    let dir = TestRepo::bare_dir();
    let out = dir.run(&["demo"]);
    out.success();
    let text = out.stdout();
    assert!(text.contains("$ git session status"), "{text}");
    assert!(text.contains("search — Search rewrite"), "{text}");
    assert!(text.contains("50%"), "{text}");
    assert!(text.contains("#corpus"), "{text}");
    assert!(text.contains("removed now"), "{text}");
    // It touched nothing where it ran.
    assert_eq!(std::fs::read_dir(&dir.path).expect("dir").count(), 0);
}

/// Regression: a commit dated before the session (a wrong clock, a rebase with
/// --committer-date-is-author-date) on top of the session's commits ended the walk there, and
/// the blocker behind it went unseen, by status and by the CI gate.
#[test]
fn a_commit_dated_out_of_order_hides_nothing_behind_it() {
    let repo = started();
    repo.change_and_commit("a", "Hit a wall\n\nBlocker: #db the database is down\n");
    repo.tick(600);
    let month_ago = format!("{} +0000", repo.now() - 30 * 86_400);
    let out = repo.git_with(
        &[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            "Old clock\n\nMilestone: parser",
        ],
        |c| {
            c.env("GIT_COMMITTER_DATE", &month_ago)
                .env("GIT_AUTHOR_DATE", &month_ago);
        },
    );
    assert!(out.status.success());
    let s = repo.json(&["status", "search"]);
    assert_eq!(s["blockers"][0]["tag"], "db", "{s}");
    assert_eq!(s["blockers"][0]["state"], "open");
    let check = repo.run(&["check", "search", "--no-commands"]);
    check.expect_code(1);
    assert!(check.stdout().contains("#db"), "{}", check.stdout());
}

/// Regression: events of one second were ordered by commit id, so a blocker raised and
/// resolved in the same second (a rebase replays commits within one) read as open or resolved
/// by chance.
#[test]
fn events_in_one_second_keep_their_history_order() {
    let repo = started();
    repo.tick(600);
    let now = format!("{} +0000", repo.now());
    let commit = |msg: &str| {
        let out = repo.git_with(
            &["commit", "-q", "--allow-empty", "--no-verify", "-m", msg],
            |c| {
                c.env("GIT_COMMITTER_DATE", &now)
                    .env("GIT_AUTHOR_DATE", &now);
            },
        );
        assert!(out.status.success());
    };
    for i in 0..6 {
        commit(&format!("Raise {i}\n\nBlocker: #b{i} trouble"));
        commit(&format!("Resolve {i}\n\nBlocker-Resolved: #b{i}"));
    }
    commit("Raise again\n\nBlocker: #b0 back again");
    let s = repo.json(&["status", "search"]);
    let states: Vec<(String, String)> = s["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .map(|b| {
            (
                b["tag"].as_str().expect("tag").into(),
                b["state"].as_str().expect("state").into(),
            )
        })
        .collect();
    for (tag, state) in &states {
        let want = if tag == "b0" { "open" } else { "resolved" };
        assert_eq!(state, want, "{tag} in {states:?}");
    }
    let list = repo.json(&["list"]);
    assert_eq!(list[0]["open_blockers"], 1, "{list}");
    let fresh = repo.json(&["list", "--no-cache"]);
    assert_eq!(fresh[0]["open_blockers"], 1, "{fresh}");
}

/// Regression: a current session whose file does not load was reported as "no session uses
/// the current branch", hiding the file's own error.
#[test]
fn a_broken_current_session_file_says_what_is_wrong() {
    let repo = started();
    let text = repo.read(".sessions/search.toml");
    repo.write(".sessions/search.toml", &format!("{text}bogus = 1\n"));
    repo.run(&["status"])
        .fails_with(2, ".sessions/search.toml:")
        .fails_with(2, "unknown field `bogus`");
}

/// Regression: on the base branch, `list` and `report` showed none of the sessions still in
/// progress on their branches, whose files `start` put there, and `validate` warned that their
/// commits named sessions without files; `status <name>` already read them from their branches.
#[test]
fn sessions_whose_files_are_only_on_their_branches_are_listed() {
    let repo = started();
    repo.commit("Parser\n\nSession: search\nMilestone-Done: parser\n");
    repo.git(&["switch", "-q", "main"]);
    assert!(!repo.exists(".sessions/search.toml"));
    let list = repo.json(&["list"]);
    assert_eq!(list[0]["name"], "search", "{list}");
    assert_eq!(list[0]["progress"]["milestones_done"], 1, "{list}");
    let report = repo.run(&["report"]);
    report.success();
    assert!(report.stdout().contains("search"), "{}", report.stdout());
    let completion = repo.run(&["__complete", "--", "status", ""]);
    completion.success();
    assert!(
        completion.stdout().lines().any(|l| l.starts_with("search")),
        "{}",
        completion.stdout()
    );
    let validate = repo.run(&["validate"]);
    validate.success();
    assert!(
        !validate.stdout().contains("which has no file"),
        "{}",
        validate.stdout()
    );
    // A remote-tracking session branch counts too, once the local one is gone.
    repo.git(&[
        "update-ref",
        "refs/remotes/origin/session/search",
        "session/search",
    ]);
    repo.git(&["branch", "-q", "-D", "session/search"]);
    assert_eq!(repo.json(&["list"])[0]["name"], "search");
    // A file in the work tree that does not load is reported, not replaced by its branch's copy.
    repo.write(".sessions/search.toml", "schema = 1\nbogus = 1\n");
    let list = repo.run(&["list", "--json"]);
    list.success();
    assert_eq!(list.stdout().trim(), "[]", "{}", list.stdout());
    assert!(
        list.stderr().contains("skipped .sessions/search.toml"),
        "{}",
        list.stderr()
    );
}
