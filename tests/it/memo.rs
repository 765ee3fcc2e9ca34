//! post-commit's memo: after each kind of commit, the answer built from the memo and HEAD is
//! the answer a fresh walk gives, rank for rank, and the memo is used when it can be.

use git_session::config::Config;
use git_session::history::{self, AfterCommit};
use git_session::memo::Memo;
use git_session::repo::Repo;

use crate::harness::TestRepo;

/// Both answers for the current state, the memo's one first.
fn answers(repo: &TestRepo, text: &str, memo: Option<&Memo>) -> (AfterCommit, AfterCommit) {
    let opened = Repo::open(&repo.path).expect("repository opens");
    let session = git_session::session::parse(text, Some("search")).expect("session loads");
    let config = Config::default();
    let ask = |memo| {
        history::session_commits_after_commit(&opened, &session, &config, 2_000, memo)
            .expect("answer")
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
        assert_eq!(mine.commits, fresh.commits, "after {what}");
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
