//! Tracking depth: progress and effort numbers, the lifecycle commands, the hand-off context,
//! the report with its charts, and doctor.

use serde_json::Value;

use crate::harness::TestRepo;

const ID: &str = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e";

/// The session file as a person would keep it: comments, odd spacing, a due date in the past.
fn session_file(repo: &TestRepo) -> String {
    format!(
        r#"# Search rewrite. Ask Ada before changing the criteria.
schema = 1
id = "{ID}"
name = "search"
title = "Rewrite search"
branch = "session/search"
base = "main"
created = {created}
status = "active"     # the lifecycle commands edit this line
objectives = ["p99 query latency under 50 ms",
              "remove the legacy index"]

[[milestones]]
id = "parser"
title = "Query parser"
tasks = ["lexer", "grammar", "errors", "docs"]

[[milestones]]
id   = "ranking"   # BM25
title = "BM25 ranking"
depends_on = ["parser"]
due = 2026-11-20

[criteria]
milestones = "all"
no_open_blockers = true
"#,
        created = repo.now_rfc3339()
    )
}

/// A repository on branch `session/search` with the session file above committed.
fn tracked() -> TestRepo {
    let repo = TestRepo::with_commit();
    repo.git(&["switch", "-q", "-c", "session/search"]);
    repo.write(".sessions/search.toml", &session_file(&repo));
    repo.commit("Start the search session\n\nSession: search\n");
    repo
}

/// Commits as another author, one tick later.
fn commit_as(repo: &TestRepo, name: &str, email: &str, message: &str) {
    repo.tick(600);
    let date = format!("{} +0000", repo.now());
    let out = repo
        .command("git")
        .args([
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            message,
        ])
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn milestone<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("milestone {id} in {status}"))
}

fn author<'a>(status: &'a Value, email: &str) -> &'a Value {
    status["authors"]
        .as_array()
        .expect("authors")
        .iter()
        .find(|a| a["email"] == email)
        .unwrap_or_else(|| panic!("author {email} in {status}"))
}

// ---- progress, blockers, time and effort -------------------------------------------------

#[test]
fn two_tasks_of_four_and_an_empty_milestone_give_a_quarter() {
    let repo = tracked();
    repo.commit("Lexer\n\nTask-Done: parser/lexer\n");
    repo.commit("Grammar\n\nTask-Done: parser/grammar\nTask-Done: parser/lexer\n");
    let s = repo.json(&["status"]);
    assert_eq!(s["progress"]["fraction"], 0.25);
    assert_eq!(s["progress"]["milestones_done"], 0);
    assert_eq!(s["progress"]["milestones_total"], 2);
    let parser = milestone(&s, "parser");
    assert_eq!(parser["state"], "in_progress");
    assert_eq!(
        (
            parser["tasks_done"].as_u64(),
            parser["tasks_total"].as_u64()
        ),
        (Some(2), Some(4))
    );
    let ranking = milestone(&s, "ranking");
    assert_eq!(ranking["state"], "pending");
    assert_eq!(ranking["tasks_total"], 0);
    // Due 2026-11-20, and the clock says 2026-11-24: overdue while not done.
    assert_eq!(ranking["due"], "2026-11-20");
    assert_eq!(ranking["overdue"], true);
    let text = repo.run(&["status"]);
    text.success();
    assert!(text.stdout().contains("25%"), "{}", text.stdout());
    assert!(text.stdout().contains("overdue"), "{}", text.stdout());
}

#[test]
fn an_open_and_a_resolved_blocker_are_reported_as_such() {
    let repo = tracked();
    let raised = repo.commit(
        "Try the corpus\n\nBlocker: #corpus need the 2024 dump\nBlocker: #flaky CI flakes\n",
    );
    let resolved = repo.commit("Pin the runner\n\nBlocker-Resolved: #flaky\n");
    let s = repo.json(&["status"]);
    let blockers = s["blockers"].as_array().expect("blockers");
    assert_eq!(blockers.len(), 2, "{s}");
    let corpus = blockers
        .iter()
        .find(|b| b["tag"] == "corpus")
        .expect("corpus");
    assert_eq!(corpus["state"], "open");
    assert_eq!(corpus["text"], "need the 2024 dump");
    assert_eq!(corpus["raised_in"], raised.as_str());
    assert!(corpus["resolved_in"].is_null());
    let flaky = blockers
        .iter()
        .find(|b| b["tag"] == "flaky")
        .expect("flaky");
    assert_eq!(flaky["state"], "resolved");
    assert_eq!(flaky["resolved_in"], resolved.as_str());
    let text = repo.run(&["status"]);
    text.success();
    let out = text.stdout();
    assert!(
        out.contains("#corpus") && out.contains(&format!("raised in {}", &raised[..7])),
        "{out}"
    );
    assert!(
        out.contains(&format!("resolved in {}", &resolved[..7])),
        "{out}"
    );
}

#[test]
fn reported_minutes_add_up_and_the_estimate_follows_streaks() {
    let repo = tracked(); // Ada's first commit: a streak of its own, 30m.
    commit_as(
        &repo,
        "Ada Lovelace",
        "ada@example.org",
        "Lexer\n\nMilestone: parser\nEffort: 1h\n",
    ); // +10m
    commit_as(
        &repo,
        "Ada Lovelace",
        "ada@example.org",
        "Parser\n\nMilestone: parser\nEffort: 30m\n",
    ); // +10m
    repo.tick(3 * 3600); // longer than the 2h gap: Ada's next commit starts a new streak
    commit_as(
        &repo,
        "Ada Lovelace",
        "ada@example.org",
        "Docs\n\nEffort: 15m\n",
    ); // +30m
    commit_as(
        &repo,
        "Grace Hopper",
        "grace@example.org",
        "Rank\n\nMilestone: ranking\nEffort: 2h\n",
    ); // 30m
    let s = repo.json(&["status"]);
    assert_eq!(s["commits"], 5);
    assert_eq!(s["effort"]["reported_minutes"], 60 + 30 + 15 + 120);
    assert_eq!(s["effort"]["estimated_minutes"], 30 + 10 + 10 + 30 + 30);
    let ada = author(&s, "ada@example.org");
    assert_eq!(
        (
            ada["commits"].as_u64(),
            ada["reported_minutes"].as_u64(),
            ada["estimated_minutes"].as_u64()
        ),
        (Some(4), Some(105), Some(80))
    );
    let grace = author(&s, "grace@example.org");
    assert_eq!(
        (
            grace["reported_minutes"].as_u64(),
            grace["estimated_minutes"].as_u64()
        ),
        (Some(120), Some(30))
    );
    assert_eq!(milestone(&s, "parser")["effort"]["reported_minutes"], 90);
    assert_eq!(milestone(&s, "parser")["effort"]["estimated_minutes"], 20);
    assert_eq!(milestone(&s, "ranking")["effort"]["reported_minutes"], 120);
    assert_eq!(milestone(&s, "ranking")["effort"]["estimated_minutes"], 30);

    let text = repo.run(&["status"]);
    text.success();
    let out = text.stdout();
    assert!(out.contains("3h45m reported"), "{out}");
    assert!(out.contains("~1h50m estimated"), "{out}");
    assert!(out.contains("Grace Hopper"), "{out}");
}

#[test]
fn elapsed_days_count_from_created_and_early_done_is_a_warning() {
    let repo = tracked();
    repo.commit("Ranking first\n\nMilestone-Done: ranking\n");
    repo.tick(3 * 86_400);
    repo.commit("Parser\n\nMilestone-Done: parser\n");
    let s = repo.json(&["status"]);
    assert_eq!(s["elapsed_days"], 3);
    let warnings: Vec<&str> = s["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("milestone 'ranking' was marked done before 'parser'")),
        "{warnings:?}"
    );
}

// ---- lifecycle -----------------------------------------------------------------------------

#[test]
fn pause_resume_abandon_change_only_the_status_lines() {
    let repo = tracked();
    let before = repo.read(".sessions/search.toml");
    let status_line = "status = \"active\"     # the lifecycle commands edit this line\n";
    assert!(before.contains(status_line));

    let out = repo.run(&["pause", "--reason", "waiting for the 2024 dump"]);
    out.success();
    assert!(out.stdout().contains("is paused"), "{}", out.stdout());
    let paused = repo.read(".sessions/search.toml");
    assert_eq!(
        paused,
        before.replace(
            status_line,
            "status = \"paused\"     # the lifecycle commands edit this line\nstatus_reason = \"waiting for the 2024 dump\"\n"
        )
    );
    // Staged, and the diff is the status line plus the reason.
    assert_eq!(
        repo.git(&["diff", "--cached", "--numstat"]),
        "2\t1\t.sessions/search.toml\n"
    );
    assert_eq!(repo.json(&["status"])["session"]["status"], "paused");

    repo.run(&["resume", "search"]).success();
    assert_eq!(repo.read(".sessions/search.toml"), before);
    assert_eq!(repo.git(&["diff", "--cached", "--numstat"]), "");

    repo.run(&["abandon", "--reason", "superseded"]).success();
    let abandoned = repo.read(".sessions/search.toml");
    assert_eq!(
        abandoned,
        before.replace(
            status_line,
            "status = \"abandoned\"     # the lifecycle commands edit this line\nstatus_reason = \"superseded\"\n"
        )
    );
    repo.run(&["validate"]).success();
}

#[test]
fn transitions_that_make_no_sense_are_refused() {
    let repo = tracked();
    repo.run(&["pause"]).success();
    repo.run(&["pause"]).fails_with(2, "already paused");
    repo.run(&["abandon", "search"]).success();
    repo.run(&["resume"])
        .fails_with(2, "is abandoned, so it cannot be resumed");
    repo.run(&["finish", "--force"])
        .fails_with(2, "is abandoned, so it cannot be finished");
    repo.run(&["abandon"]).fails_with(2, "already abandoned");
    repo.run(&["pause", "nope"])
        .fails_with(2, "unknown session 'nope'");
    assert!(
        repo.read(".sessions/search.toml")
            .contains("status = \"abandoned\"")
    );
}

#[test]
fn finish_refuses_unmet_criteria_unless_forced() {
    let repo = tracked();
    repo.commit("Parser\n\nMilestone-Done: parser\nBlocker: #corpus need data\n");
    let before = repo.read(".sessions/search.toml");
    let refused = repo.run(&["finish"]);
    refused.fails_with(1, "not finished");
    assert!(
        refused.stderr().contains("not done: ranking"),
        "{}",
        refused.stderr()
    );
    assert!(refused.stderr().contains("#corpus"), "{}", refused.stderr());
    assert_eq!(repo.read(".sessions/search.toml"), before);

    let forced = repo.run(&["finish", "--force"]);
    forced.success();
    assert!(
        forced.stderr().contains("unmet criteria"),
        "{}",
        forced.stderr()
    );
    assert_eq!(repo.json(&["status"])["session"]["status"], "done");

    // Met criteria need no force.
    let repo = tracked();
    repo.commit("All\n\nMilestone-Done: parser\nMilestone-Done: ranking\n");
    repo.run(&["finish"]).success();
    assert!(
        repo.read(".sessions/search.toml")
            .contains("status = \"done\"")
    );
}

#[test]
fn lifecycle_edits_the_work_tree_file_and_keeps_users_edits_unstaged() {
    let repo = tracked();
    // The user's own unstaged edit in the file is left for them to stage.
    let mine = repo
        .read(".sessions/search.toml")
        .replace("# Search rewrite.", "# Search rewrite, v2.");
    repo.write(".sessions/search.toml", &mine);
    let out = repo.run(&["pause"]);
    out.success();
    assert!(out.stdout().contains("not staged"), "{}", out.stdout());
    assert_eq!(repo.git(&["diff", "--cached", "--numstat"]), "");
    assert!(
        repo.read(".sessions/search.toml")
            .contains("# Search rewrite, v2.")
    );
    repo.git(&["commit", "-q", "-a", "-m", "Pause"]);

    // On main the file is not in the work tree: say where it is.
    repo.git(&["switch", "-q", "main"]);
    repo.run(&["resume", "search"])
        .fails_with(2, "switch to it (git switch session/search)");
}

// ---- context -------------------------------------------------------------------------------

#[test]
fn context_names_the_objectives_the_open_milestone_and_the_open_blocker() {
    let repo = tracked();
    repo.commit("Lexer\n\nTask-Done: parser/lexer\nEffort: 45m\n");
    let raised = repo.commit("Try the corpus\n\nBlocker: #corpus need the 2024 dump\n");
    let out = repo.run(&["context"]);
    out.success();
    let md = out.stdout();
    for needle in [
        "# Session `search`: Rewrite search\n",
        "- p99 query latency under 50 ms\n",
        "- remove the legacy index\n",
        "- [ ] `parser` Query parser: in progress; tasks 1/4 done\n",
        "  - tasks left: grammar, errors, docs\n",
        "- [ ] `ranking` BM25 ranking: not started; **overdue** (due 2026-11-20); waits for parser\n",
        &format!(
            "- `#corpus` need the 2024 dump (raised in {} on 2026-11-24 by Ada Lovelace)",
            &raised[..7]
        ),
        "effort 45m reported",
        "Ada Lovelace: Lexer — task parser/lexer done; effort 45m",
        "- [ ] no_open_blockers: open: #corpus\n",
    ] {
        assert!(md.contains(needle), "context lacks {needle:?}:\n{md}");
    }
    let j = repo.json(&["context", "search"]);
    let left: Vec<&str> = j["milestones_left"]
        .as_array()
        .expect("left")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(left, ["parser", "ranking"]);
    assert_eq!(j["open_blockers"][0]["tag"], "corpus");
    assert_eq!(j["open_blockers"][0]["raised_in"], raised.as_str());
    assert_eq!(j["recent_commits"].as_array().expect("commits").len(), 3);
    assert_eq!(j["criteria_unmet"][0]["name"], "milestones");
}

// ---- report --------------------------------------------------------------------------------

/// A second session, in the same work tree, with a title chosen to break a careless page.
fn add_hostile_session(repo: &TestRepo) {
    repo.write(
        ".sessions/evil.toml",
        &format!(
            r#"schema = 1
id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9f"
name = "evil"
title = '</title><script>alert("x")</script><img src=x onerror=alert(1)> & co'
branch = "session/evil"
base = "main"
created = {}
status = "paused"
status_reason = "<b>bold</b> claims"
objectives = ["<iframe src=//evil.example>"]
"#,
            repo.now_rfc3339()
        ),
    );
    repo.commit("Add evil\n\nSession: evil\nBlocker: #xss <svg onload=alert(2)>\n");
}

#[test]
fn report_html_draws_charts_for_every_session() {
    let repo = tracked();
    repo.commit("Lexer\n\nTask-Done: parser/lexer\nEffort: 1h\n");
    repo.commit("Ranking\n\nMilestone-Done: ranking\nEffort: 30m\n");
    add_hostile_session(&repo);
    let out = repo.run(&["report", "--html", "report.html"]);
    out.success();
    assert!(
        out.stdout().contains("Wrote report.html: 2 sessions."),
        "{}",
        out.stdout()
    );
    let html = repo.read("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for name in ["search", "evil"] {
        assert!(html.contains(&format!("id=\"session-{name}\"")), "{name}");
        assert!(
            html.contains(&format!("href=\"#session-{name}\"")),
            "{name}"
        );
    }
    // Both sessions have commits: each gets a burn-up and an effort chart, as inline SVG.
    assert!(html.matches("<svg ").count() >= 4);
    assert!(html.contains("Burn-up of search"));
    assert!(html.contains("Burn-up of evil"));
    assert!(html.contains("Effort on search over time"));
    assert!(
        html.contains(">reported 1h30m</text>"),
        "the legend carries the total"
    );
    assert!(html.contains(">tasks 1/4</text>"));
    // Self-contained: nothing to fetch, nothing to run.
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    assert!(!html.contains("<script") && !html.contains("<link"));
    // Written whole: no temporary file left next to it.
    let leftovers: Vec<String> = std::fs::read_dir(&repo.path)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let text = repo.run(&["report"]);
    text.success();
    assert!(
        text.stdout().contains("search") && text.stdout().contains("evil"),
        "{}",
        text.stdout()
    );
    let j = repo.json(&["report"]);
    let names: Vec<&str> = j["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["session"]["name"].as_str())
        .collect();
    assert_eq!(names, ["evil", "search"]);
    assert_eq!(j["sessions"][1]["progress"]["fraction"], 0.625);
    assert_eq!(j["sessions"][1]["effort"]["reported_minutes"], 90);
    assert_eq!(
        j["sessions"][0]["session"]["status_reason"],
        "<b>bold</b> claims"
    );
}

#[test]
fn report_html_escapes_hostile_titles_and_text() {
    let repo = tracked();
    add_hostile_session(&repo);
    repo.run(&["report", "--html", "report.html"]).success();
    let html = repo.read("report.html");
    assert!(
        !html.contains("<script"),
        "an injected script must not survive"
    );
    assert!(!html.contains("<img"));
    assert!(!html.contains("<iframe"));
    assert!(!html.contains("<svg onload"));
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; co"));
    assert!(html.contains("&lt;svg onload=alert(2)&gt;"));
    assert!(html.contains("&lt;iframe src=//evil.example&gt;"));
    // The page's own <title> is intact: exactly one opening and one closing tag.
    assert_eq!(html.matches("<title>Sessions").count(), 1);
}

#[test]
fn report_with_a_session_without_commits_and_one_with_one() {
    let repo = TestRepo::with_commit();
    repo.write(
        ".sessions/quiet.toml",
        &format!(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d90\"\nname = \"quiet\"\n\
             branch = \"session/quiet\"\nbase = \"main\"\ncreated = {}\nstatus = \"planned\"\n",
            repo.now_rfc3339()
        ),
    );
    repo.write(
        ".sessions/once.toml",
        &format!(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d91\"\nname = \"once\"\n\
             branch = \"session/once\"\nbase = \"main\"\ncreated = {}\nstatus = \"active\"\n\
             [[milestones]]\nid = \"m\"\n",
            repo.now_rfc3339()
        ),
    );
    repo.commit("The one commit\n\nSession: once\nEffort: 20m\n");
    repo.run(&["report", "--html", "r.html"]).success();
    let html = repo.read("r.html");
    assert!(html.contains("Burn-up of once"));
    assert!(!html.contains("Burn-up of quiet"));
    assert!(html.contains("No commits yet: the charts appear"));
    assert!(!html.contains("NaN") && !html.contains("inf\""));
    let text = repo.run(&["report"]);
    text.success();
    assert!(
        text.stdout().contains("once") && text.stdout().contains("no commits"),
        "{}",
        text.stdout()
    );
}

// ---- doctor --------------------------------------------------------------------------------

/// Where git runs hooks from in `repo`.
fn hooks_dir(repo: &TestRepo) -> std::path::PathBuf {
    let dir = repo.git(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"]);
    std::path::PathBuf::from(dir.trim())
}

fn doctor_check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("check {name} in {report}"))
}

fn doctor_json(repo: &TestRepo, code: i32) -> Value {
    let run = repo.run(&["doctor", "--json"]);
    run.expect_code(code);
    serde_json::from_slice(run.stdout_bytes()).expect("doctor JSON")
}

#[test]
fn doctor_finds_missing_unrunnable_and_shadowed_hooks() {
    use std::os::unix::fs::PermissionsExt;
    let repo = tracked();
    let out = repo.run(&["doctor"]);
    out.expect_code(1);
    let text = out.stdout();
    assert!(
        text.contains(
            "the prepare-commit-msg, commit-msg, post-commit hooks are not installed in .git/hooks"
        ),
        "{text}"
    );
    assert!(text.contains("fix: git session hooks install"), "{text}");
    assert!(text.contains("✓ history"), "{text}");

    repo.run(&["hooks", "install"]).success();
    let out = repo.run(&["doctor"]);
    out.success();
    assert!(out.stdout().contains("All is well"), "{}", out.stdout());

    let hook = hooks_dir(&repo).join("commit-msg");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let j = doctor_json(&repo, 1);
    let hooks = doctor_check(&j, "hooks");
    assert_eq!(hooks["findings"].as_array().expect("findings").len(), 1);
    assert_eq!(
        hooks["findings"][0]["fix"],
        "chmod +x .git/hooks/commit-msg"
    );
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    // husky takes over through core.hooksPath: ours in .git/hooks no longer run.
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    repo.write(
        ".husky/_/commit-msg",
        "#!/bin/sh\n. \"$(dirname \"$0\")/h\"\n",
    );
    let j = doctor_json(&repo, 1);
    let problems: Vec<&str> = doctor_check(&j, "hooks")["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["problem"].as_str())
        .collect();
    assert!(
        problems.iter().any(|p| p.starts_with(
            "husky owns the hooks here (core.hooksPath is .husky/_) and its configuration does not run git-session's prepare-commit-msg, commit-msg, post-commit hooks"
        )),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("shadowed: core.hooksPath is .husky/_")),
        "{problems:?}"
    );
    // Configured as hooks install says, husky runs ours: all is well again.
    repo.write(
        ".husky/prepare-commit-msg",
        "git-session hook prepare-commit-msg \"$@\"\n",
    );
    repo.write(".husky/commit-msg", "git-session hook commit-msg \"$1\"\n");
    repo.write(".husky/post-commit", "git-session hook post-commit\n");
    let j = doctor_json(&repo, 0);
    assert_eq!(doctor_check(&j, "hooks")["ok"], true, "{j}");
}

/// Sessions sharing a branch: doctor says its plain commits count for each and whom the hooks
/// stamp them for, and which files to give a branch of their own.
#[test]
fn doctor_finds_a_branch_several_sessions_use() {
    let repo = TestRepo::with_session(&["parser"]);
    repo.run(&["start", "other", "--current"]).success();
    repo.git(&["commit", "-q", "--no-verify", "-m", "Two sessions"]);
    let report = doctor_json(&repo, 1);
    let check = doctor_check(&report, "session branches");
    assert_eq!(check["ok"], false, "{check}");
    let found = &check["findings"][0];
    assert_eq!(
        found["problem"],
        "sessions 'other', 'search' all use branch 'session/search': its commits that name no session count for each of them, and the hooks stamp them for 'search'"
    );
    assert_eq!(
        found["fix"],
        "\"${EDITOR:-vi}\" .sessions/other.toml  # give each its own branch, or name the session in every commit"
    );
}

#[test]
fn doctor_finds_a_shallow_clone() {
    let origin = tracked();
    origin.commit("More\n\nSession: search\n");
    let clone = TestRepo::bare_dir();
    let url = format!("file://{}", origin.path.display());
    clone.git(&["clone", "-q", "--depth", "1", &url, "."]);
    let out = clone.run(&["doctor"]);
    out.expect_code(1);
    assert!(
        out.stdout().contains("this is a shallow clone"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains("fix: git fetch --unshallow"),
        "{}",
        out.stdout()
    );
    // The full clone is fine on that count.
    let j = doctor_json(&origin, 1);
    assert_eq!(doctor_check(&j, "history")["ok"], true);
}

#[test]
fn doctor_finds_a_damaged_cache_that_list_then_rebuilds() {
    let repo = tracked();
    repo.run(&["hooks", "install"]).success();
    repo.run(&["list"]).success();
    let cache = repo.path.join(".git/git-session/cache");
    let mut bytes = std::fs::read(&cache).expect("list wrote a cache");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cache, &bytes).expect("damage");
    let out = repo.run(&["doctor"]);
    out.expect_code(1);
    assert!(
        out.stdout().contains("the cache file is damaged"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains(
            "fix: rm -f .git/git-session/cache .git/git-session/cache-known && git session list"
        ),
        "{}",
        out.stdout()
    );
    repo.run(&["list"]).success();
    repo.run(&["doctor"]).success();
}

#[test]
fn doctor_finds_branch_commits_without_trailers_and_its_fix_works() {
    let repo = tracked();
    let bare = repo.commit("Quick fix without a trailer\n");
    let j = doctor_json(&repo, 1);
    let check = doctor_check(&j, "session branches");
    let problem = check["findings"][0]["problem"].as_str().expect("problem");
    assert!(
        problem.starts_with(&format!(
            "1 commit on session/search name no session ({} \"Quick fix without a trailer\")",
            &bare[..7]
        )),
        "{problem}"
    );
    let fix = check["findings"][0]["fix"].as_str().expect("fix");
    // Run the fix as printed, the way a user would paste it.
    let out = repo
        .command("sh")
        .args(["-c", fix])
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{fix}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        repo.git(&["log", "-1", "--format=%B"])
            .contains("Session: search")
    );
    let j = doctor_json(&repo, 1); // the hooks are still missing here
    assert_eq!(doctor_check(&j, "session branches")["ok"], true);
    repo.run(&["hooks", "install"]).success();
    repo.run(&["doctor"]).success();
}

#[test]
fn help_teaches_each_new_command_with_examples_on_their_own_lines() {
    let repo = TestRepo::new();
    for (cmd, example) in [
        (
            "pause",
            "  git session pause search --reason \"waiting for the new index\"\n",
        ),
        ("resume", "  git session resume search\n"),
        ("finish", "  git session finish search --force\n"),
        ("abandon", "  git session abandon search --reason"),
        ("context", "  git session context search > handoff.md\n"),
        ("report", "  git session report --html sessions.html\n"),
        ("doctor", "  git session doctor\n"),
    ] {
        let out = repo.run(&[cmd, "--help"]);
        out.success();
        assert!(
            out.stdout().contains(example),
            "{cmd} --help:\n{}",
            out.stdout()
        );
    }
}
