//! post-commit's memo: after each kind of commit, the answer built from the memo and HEAD is
//! the answer a fresh walk gives, rank for rank, and the memo is used when it can be.

use git_session::config::Config;
use git_session::history::{self, AfterCommit, Recent};
use git_session::memo::Memo;
use git_session::repo::Repo;

use crate::harness::TestRepo;

/// Both answers for the current state, the memo's one first.
fn answers(repo: &TestRepo, text: &str, memo: Option<&Memo>) -> (AfterCommit, AfterCommit) {
    let opened = Repo::open(&repo.path).expect("repository opens");
    let session = git_session::session::parse(text, Some("search")).expect("session loads");
    let config = Config::default();
    let ask = |memo| {
        let refs = opened.ref_snapshot().expect("refs");
        history::session_commits_after_commit(&opened, &session, &config, 2_000, memo, &refs)
            .expect("answer")
            .found()
            .expect("within the budget")
    };
    (ask(memo), ask(None))
}

struct Chain {
    /// The session file, read once: on the base branch it is not in the work tree.
    text: String,
    memo: Option<Memo>,
    stepped: usize,
    steps: usize,
}

impl Chain {
    fn check(&mut self, repo: &TestRepo, what: &str) {
        let (mine, fresh) = answers(repo, &self.text, self.memo.as_ref());
        assert_eq!(mine.commits(), fresh.commits(), "after {what}");
        assert_eq!(
            mine.coverage.visited, fresh.coverage.visited,
            "after {what}"
        );
        let sorted = |a: &AfterCommit| {
            let mut s = a.coverage.starts.clone();
            s.sort();
            s
        };
        assert_eq!(sorted(&mine), sorted(&fresh), "after {what}");
        assert_eq!(mine.coverage.notes, fresh.coverage.notes, "after {what}");
        self.stepped += usize::from(mine.stepped);
        self.steps += 1;
        self.memo = mine.memo;
    }
}

/// `git <args>` without hooks, at the repository's clock `tick` seconds on.
fn git(repo: &TestRepo, tick: i64, args: &[&str]) {
    repo.tick(tick);
    let mut all = vec!["-c", "core.hooksPath=/dev/null"];
    all.extend_from_slice(args);
    repo.git(&all);
}

fn commit(repo: &TestRepo, tick: i64, message: &str) {
    git(
        repo,
        tick,
        &["commit", "-q", "--allow-empty", "-m", message],
    );
}

#[test]
fn the_memo_gives_what_a_walk_gives_after_every_kind_of_commit() {
    let repo = TestRepo::with_session(&["parser", "ranking"]);
    repo.run(&["start", "other"]).success();
    repo.git(&["checkout", "-q", "session/search"]);
    let mut chain = Chain {
        text: repo.read(".sessions/search.toml"),
        memo: None,
        stepped: 0,
        steps: 0,
    };
    chain.check(&repo, "the start");
    for i in 0..4 {
        commit(&repo, 60, &format!("Work {i}\n\nSession: search"));
        chain.check(&repo, "a commit naming the session");
    }
    commit(
        &repo,
        60,
        "Parser\n\nSession: search\nMilestone-Done: parser",
    );
    chain.check(&repo, "a milestone done");
    // Several commits within one second: which the walk meets first turns on their ids.
    for i in 0..6 {
        commit(&repo, 0, &format!("Same second {i}\n\nSession: search"));
        chain.check(&repo, "a commit in the same second");
    }
    // The same, with the parent still a tip (an upstream at it): the new commit ties with it.
    for i in 0..6 {
        repo.git(&["update-ref", "refs/remotes/origin/session/search", "HEAD"]);
        chain.check(&repo, "an upstream at HEAD");
        commit(&repo, 0, &format!("Tie {i}\n\nSession: search"));
        chain.check(&repo, "a commit tied with its upstream parent");
    }
    commit(&repo, 60, "Unnamed work on the branch");
    chain.check(&repo, "a commit naming no session");
    commit(&repo, 60, "Elsewhere\n\nSession: other");
    chain.check(&repo, "a commit naming another session");
    commit(&repo, 60, "Qualified\n\nMilestone: search/ranking");
    chain.check(&repo, "a qualified milestone");
    git(
        &repo,
        60,
        &[
            "commit",
            "-q",
            "--amend",
            "--allow-empty",
            "-m",
            "Amended\n\nSession: search",
        ],
    );
    chain.check(&repo, "an amend");
    commit(&repo, 60, "After the amend\n\nSession: search");
    chain.check(&repo, "the commit after an amend");
    repo.git(&["update-ref", "refs/remotes/origin/session/search", "HEAD~1"]);
    commit(&repo, 60, "After a fetch\n\nSession: search");
    chain.check(&repo, "a ref that moved");
    commit(&repo, 60, "Next\n\nSession: search");
    chain.check(&repo, "a commit behind an upstream");
    // A commit dated before its parent and every other tip: the walk does not meet it first.
    commit(&repo, -7200, "Skewed clock\n\nSession: search");
    chain.check(&repo, "a commit from a slow clock");
    repo.tick(7200);
    repo.git(&["checkout", "-q", "main"]);
    commit(&repo, 60, "On the base\n\nSession: search");
    chain.check(&repo, "a commit on the base");
    repo.git(&["checkout", "-q", "session/search"]);
    commit(&repo, 60, "Back\n\nSession: search");
    chain.check(&repo, "a commit after switching back");
    git(
        &repo,
        60,
        &[
            "merge",
            "-q",
            "--no-ff",
            "main",
            "-m",
            "Merge main\n\nSession: search",
        ],
    );
    chain.check(&repo, "a merge");
    for i in 0..3 {
        commit(
            &repo,
            60,
            &format!("Tail {i}\n\nSession: search\nEffort: 10m"),
        );
        chain.check(&repo, "a commit after the merge");
    }
    assert!(
        chain.stepped >= 10,
        "the memo was used {} times in {} steps",
        chain.stepped,
        chain.steps
    );
    assert!(chain.stepped < chain.steps);
}

fn chain_for(repo: &TestRepo) -> Chain {
    let mut c = Chain {
        text: repo.read(".sessions/search.toml"),
        memo: None,
        stepped: 0,
        steps: 0,
    };
    c.check(repo, "the start");
    c
}

fn rev(repo: &TestRepo, r: &str) -> String {
    repo.git(&["rev-parse", r]).trim().to_string()
}

/// A commit naming no session, then one naming it in the same second: HEAD's walk rank ties
/// with its parent's rank by the branch rule, and the walk hands HEAD over first.
#[test]
fn a_commit_in_the_second_of_one_naming_no_session() {
    let repo = TestRepo::with_session(&["parser"]);
    let mut chain = chain_for(&repo);
    commit(&repo, 60, "Unnamed work");
    chain.check(&repo, "a commit naming no session");
    commit(&repo, 0, "Named\n\nSession: search");
    chain.check(&repo, "a named commit in the same second");
    assert_eq!(chain.stepped, 1);
}

/// The memo holds commits as the trailer configuration read them: a new one walks again.
#[test]
fn a_change_of_trailer_configuration_walks_again() {
    let repo = TestRepo::with_session(&["parser"]);
    let mut chain = chain_for(&repo);
    commit(&repo, 60, "Odd\n\nSession= search\nMilestone-Done= parser");
    chain.check(&repo, "a separator git does not read yet");
    commit(&repo, 60, "Named\n\nSession: search");
    chain.check(&repo, "a named commit");
    repo.git(&["config", "trailer.separators", "=:"]);
    commit(&repo, 60, "Named again\n\nSession: search");
    let before = chain.stepped;
    chain.check(&repo, "a commit after the configuration changed");
    assert_eq!(chain.stepped, before, "the memo was used across the change");
}

/// A commit made again byte for byte may be one the last walk met already, from another ref:
/// that walk does not meet HEAD first, whatever the dates say.
#[test]
fn a_commit_made_again_that_another_ref_reaches_is_walked() {
    for variant in 0..8 {
        let repo = TestRepo::with_session(&["parser"]);
        commit(&repo, 60, "Setup\n\nSession: search");
        let mut chain = chain_for(&repo);
        let start = repo.now();
        commit(&repo, 60, "P\n\nSession: search");
        let p = rev(&repo, "HEAD");
        commit(&repo, 60, &format!("H {variant}\n\nSession: search"));
        let h = rev(&repo, "HEAD");
        commit(&repo, -5, "H2, from a slow clock\n\nSession: search");
        repo.git(&["branch", "keep"]);
        repo.git(&["reset", "-q", "--hard", &format!("{p}~1")]);
        repo.tick(start - repo.now());
        commit(&repo, 60, "P\n\nSession: search");
        assert_eq!(rev(&repo, "HEAD"), p);
        chain.check(&repo, "P made again");
        commit(&repo, 60, &format!("H {variant}\n\nSession: search"));
        assert_eq!(rev(&repo, "HEAD"), h);
        chain.check(&repo, "H made again, which keep reaches");
    }
}

/// Walks treat the edges of a shallow clone as having no parents: when they move (a fetch
/// with --deepen or --unshallow) and no ref does, the next commit walks again.
#[test]
fn a_shallow_edge_that_moves_walks_again() {
    let repo = TestRepo::with_commit();
    for i in 0..40 {
        commit(&repo, 60, &format!("Old {i}"));
    }
    repo.tick(3 * 86400);
    repo.run(&["init"]).success();
    repo.tick(60);
    repo.run(&["start", "search"]).success();
    repo.git(&["add", "-A"]);
    commit(&repo, 60, "Setup\n\nSession: search");
    // The base moves on with a commit dated before all of the above, which becomes the edge.
    repo.git(&["checkout", "-q", "main"]);
    let now = repo.now();
    repo.tick(-30 * 86400);
    commit(&repo, 0, "Old-dated on main");
    let edge = rev(&repo, "HEAD");
    repo.tick(now - repo.now());
    repo.git(&["checkout", "-q", "session/search"]);
    std::fs::write(repo.path.join(".git/shallow"), format!("{edge}\n")).expect("shallow");
    let mut chain = chain_for(&repo);
    commit(&repo, 60, "P\n\nSession: search");
    chain.check(&repo, "a commit in the shallow clone");
    assert!(chain.memo.is_some());
    std::fs::remove_file(repo.path.join(".git/shallow")).expect("unshallow");
    commit(&repo, 60, "H\n\nSession: search");
    chain.check(&repo, "a commit after the clone was made whole");
}

/// A memo that parses but holds ranks no walk gives is no reason to fail.
#[test]
fn a_memo_with_impossible_ranks_walks_again() {
    let repo = TestRepo::with_session(&["parser"]);
    let mut chain = chain_for(&repo);
    commit(&repo, 60, "One\n\nSession: search");
    chain.check(&repo, "a commit");
    let memo = chain.memo.as_mut().expect("a memo");
    for c in &mut memo.commits {
        c.order = u64::MAX;
    }
    commit(&repo, 60, "Two\n\nSession: search");
    let before = chain.stepped;
    chain.check(&repo, "a commit after a damaged memo");
    assert_eq!(chain.stepped, before);
}

/// A branch that is not local is looked for on the configured remotes: adding or removing one
/// changes what the branch rule finds without moving a ref.
#[test]
fn a_remote_added_or_removed_walks_again() {
    for add in [true, false] {
        let repo = TestRepo::with_session(&["parser"]);
        commit(&repo, 60, "Unnamed work on the branch");
        repo.git(&["update-ref", "refs/remotes/up/main", "main"]);
        repo.git(&["branch", "-q", "-D", "main"]);
        if !add {
            repo.git(&["remote", "add", "up", "/nonexistent"]);
        }
        let mut chain = chain_for(&repo);
        commit(&repo, 60, "One\n\nSession: search");
        chain.check(&repo, "a commit whose base is on a remote");
        if add {
            repo.git(&["remote", "add", "up", "/nonexistent"]);
        } else {
            repo.git(&["config", "--remove-section", "remote.up"]);
        }
        commit(&repo, 60, "Two\n\nSession: search");
        chain.check(&repo, "a commit after the remotes changed");
    }
}

/// post-commit's answer for the session `search` on its branch, reading at most `budget`
/// commits.
fn ask(repo: &TestRepo, budget: usize, memo: Option<&Memo>) -> Recent {
    let text = repo.git(&["show", "session/search:.sessions/search.toml"]);
    let session = git_session::session::parse(&text, Some("search")).expect("session loads");
    let opened = Repo::open(&repo.path).expect("repository opens");
    let refs = opened.ref_snapshot().expect("refs");
    history::session_commits_after_commit(
        &opened,
        &session,
        &Config::default(),
        budget,
        memo,
        &refs,
    )
    .expect("answer")
}

/// The session `search` with one commit on its branch, and post-commit's answer for it.
fn one_commit_on_the_branch() -> (TestRepo, AfterCommit) {
    let repo = TestRepo::with_session(&["parser", "ranking"]);
    repo.git(&["checkout", "-q", "session/search"]);
    commit(&repo, 60, "One\n\nSession: search");
    let first = ask(&repo, 2_000, None).found().expect("within the budget");
    (repo, first)
}

/// A memo stepped up to the budget is a verdict like a walk that ran out: the next commit goes
/// to the cache without walking, and only the verdict is kept.
#[test]
fn a_memo_stepped_up_to_the_budget_sends_the_next_commit_to_the_cache() {
    let (repo, first) = one_commit_on_the_branch();
    let budget = first.coverage.visited + 1;
    commit(&repo, 60, "Two\n\nSession: search");
    let second = ask(&repo, budget, first.memo.as_ref())
        .found()
        .expect("one more commit fits");
    assert!(second.stepped);
    let memo = second.memo.expect("a memo");
    assert_eq!(memo.visited, budget);
    commit(&repo, 60, "Three\n\nSession: search");
    let Recent::Long { memo, walked } = ask(&repo, budget, Some(&memo)) else {
        panic!("a memo at the budget was stepped on");
    };
    assert!(!walked, "the budget was spent again");
    assert!(memo.commits.is_empty(), "only the verdict is kept");
    assert_eq!(memo.visited, budget);
}

/// The verdict holds while history only grows; a deleted branch may make the session short
/// again, and then it is walked.
#[test]
fn a_long_verdict_does_not_outlive_the_history_that_made_it() {
    let (repo, first) = one_commit_on_the_branch();
    // Six commits more than the first walk read are too many; five are not.
    let budget = first.coverage.visited + 5;
    repo.git(&["checkout", "-q", "-b", "busy"]);
    for i in 0..5 {
        commit(&repo, 60, &format!("Busy {i}"));
    }
    repo.git(&["checkout", "-q", "session/search"]);
    commit(&repo, 60, "Two\n\nSession: search");
    let Recent::Long { memo, walked } = ask(&repo, budget, None) else {
        panic!("the busy branch makes the walk longer than the budget");
    };
    assert!(walked);
    commit(&repo, 60, "Three\n\nSession: search");
    let Recent::Long { memo, walked } = ask(&repo, budget, Some(&memo)) else {
        panic!("history only grew, yet the session was walked");
    };
    assert!(!walked, "history only grew, yet the budget was spent again");
    // Commits made without the hooks in between: HEAD moved further down the same line.
    commit(&repo, 60, "Unhooked\n\nSession: search");
    commit(&repo, 60, "Hooked again\n\nSession: search");
    let Recent::Long { memo, walked } = ask(&repo, budget, Some(&memo)) else {
        panic!("history only grew by two commits, yet the session was walked");
    };
    assert!(!walked);
    repo.git(&["branch", "-q", "-D", "busy"]);
    commit(&repo, 60, "Four\n\nSession: search");
    let again = ask(&repo, budget, Some(&memo))
        .found()
        .expect("without the busy branch the session is short again");
    let fresh = ask(&repo, budget, None).found().expect("a fresh walk");
    assert_eq!(again.commits(), fresh.commits());
    assert!(!again.stepped);
}
