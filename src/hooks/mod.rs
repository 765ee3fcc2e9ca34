//! The git hooks (SPEC §6): the scripts in `hooks/` (embedded here), installing them where git
//! looks, the message editing of `prepare-commit-msg`, the checks of `commit-msg`, the line of
//! `post-commit`, and the local focus milestone. Everything here but [`install`] is pure.

pub mod check;
pub mod install;
pub mod managers;
pub mod message;

use crate::aggregate::Summary;
use crate::links::Event;
use crate::progress::Progress;

/// The hooks git-session installs, in the order git runs them.
pub const NAMES: [&str; 3] = ["prepare-commit-msg", "commit-msg", "post-commit"];

const PREPARE_COMMIT_MSG: &str = include_str!("../../hooks/prepare-commit-msg");
const COMMIT_MSG: &str = include_str!("../../hooks/commit-msg");
const POST_COMMIT: &str = include_str!("../../hooks/post-commit");

/// The script installed for hook `name` (one of [`NAMES`]).
pub fn script(name: &str) -> &'static str {
    match name {
        "prepare-commit-msg" => PREPARE_COMMIT_MSG,
        "commit-msg" => COMMIT_MSG,
        "post-commit" => POST_COMMIT,
        other => panic!("no hook script named {other}"),
    }
}

/// The environment variable through which a script tells the binary where it runs from, so the
/// binary can run the chained hook next to it.
pub const SCRIPT_ENV: &str = "GIT_SESSION_HOOK";

/// Beside the message file, what prepare-commit-msg leaves when it has checked the message as
/// commit-msg would and no editor can change it: git's process id, which the commit-msg script
/// compares with its parent's before it starts git-session for nothing.
pub const CHECKED_SUFFIX: &str = ".git-session-checked";

/// The file [`CHECKED_SUFFIX`] names for `message_file`.
pub fn checked_marker(message_file: &std::path::Path) -> std::path::PathBuf {
    beside(message_file, CHECKED_SUFFIX)
}

fn beside(message_file: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut path = message_file.as_os_str().to_owned();
    path.push(suffix);
    path.into()
}

/// Beside the message file, what prepare-commit-msg leaves when it could work out the lines
/// post-commit prints for the commit: git's process id, then the lines, which the post-commit
/// script prints instead of starting git-session. The script finds it beside the index.
pub const AHEAD_SUFFIX: &str = ".git-session-progress";

/// The file [`AHEAD_SUFFIX`] names for `message_file`.
pub fn ahead_file(message_file: &std::path::Path) -> std::path::PathBuf {
    beside(message_file, AHEAD_SUFFIX)
}

/// The focus file: one `<session> <milestone>` line per session with a focus.
pub fn focus_of(text: &str, session: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (s, m) = line.trim().split_once(' ')?;
        (s == session).then(|| m.trim().to_string())
    })
}

/// The focus file with `session`'s focus set to `milestone`, or removed when `None`; the other
/// sessions' lines are kept as they are.
pub fn set_focus(text: &str, session: &str, milestone: Option<&str>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mine = line
            .trim()
            .split_once(' ')
            .is_some_and(|(s, _)| s == session);
        if !mine && !line.trim().is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    if let Some(m) = milestone {
        out.push_str(&format!("{session} {m}\n"));
    }
    out
}

/// The `post-commit` line: `search: 50% · 1/2 milestones · parser done`.
pub fn progress_line(session: &str, progress: &Progress, events: &[&Event]) -> String {
    line(session, &progress.summary(), events, |id| {
        progress
            .milestones
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.commits)
    })
}

/// The `post-commit` line from the cached numbers `list` shows (no per-milestone counts).
pub fn summary_line(session: &str, summary: &Summary, events: &[&Event]) -> String {
    line(session, summary, events, |_| None)
}

fn line(
    session: &str,
    s: &Summary,
    events: &[&Event],
    milestone_commits: impl Fn(&str) -> Option<usize>,
) -> String {
    let percent = (s.fraction * 100.0).floor();
    let plural = |n: usize, one: &str, many: &str| if n == 1 { one } else { many }.to_string();
    let mut parts = vec![
        format!("{session}: {percent:.0}%"),
        format!(
            "{}/{} {}",
            s.milestones_done,
            s.milestones_total,
            plural(s.milestones_total, "milestone", "milestones")
        ),
    ];
    for e in events {
        let part = match e {
            Event::Milestone { milestone, .. } => milestone_commits(milestone)
                .map(|n| format!("{milestone}: {n} {}", plural(n, "commit", "commits"))),
            other => message::describe(other),
        };
        if let Some(p) = part
            && !parts.contains(&p)
        {
            parts.push(p);
        }
    }
    if s.open_blockers > 0 {
        parts.push(format!(
            "{} open {}",
            s.open_blockers,
            plural(s.open_blockers, "blocker", "blockers")
        ));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_msg_script_reads_the_marker_prepare_commit_msg_writes() {
        let marker = checked_marker(std::path::Path::new(".git/COMMIT_EDITMSG"));
        assert_eq!(
            marker,
            std::path::Path::new(".git/COMMIT_EDITMSG.git-session-checked")
        );
        assert!(
            script("commit-msg").contains(&format!("\"$1{CHECKED_SUFFIX}\"")),
            "{}",
            script("commit-msg")
        );
    }

    #[test]
    fn the_post_commit_script_reads_the_lines_prepare_commit_msg_leaves() {
        let ahead = ahead_file(std::path::Path::new(".git/COMMIT_EDITMSG"));
        assert_eq!(
            ahead,
            std::path::Path::new(".git/COMMIT_EDITMSG.git-session-progress")
        );
        let script = script("post-commit");
        assert!(
            script.contains(&format!("/COMMIT_EDITMSG{AHEAD_SUFFIX}\"")),
            "{script}"
        );
        assert!(script.contains(&format!("%{AHEAD_SUFFIX}}}")), "{script}");
    }

    #[test]
    fn focus_lines_per_session() {
        let text = set_focus("", "search", Some("parser"));
        assert_eq!(text, "search parser\n");
        let text = set_focus(&text, "ops", Some("deploy"));
        let text = set_focus(&text, "search", Some("ranking"));
        assert_eq!(text, "ops deploy\nsearch ranking\n");
        assert_eq!(focus_of(&text, "search").as_deref(), Some("ranking"));
        assert_eq!(focus_of(&text, "sea"), None);
        let text = set_focus(&text, "ops", None);
        assert_eq!(text, "search ranking\n");
    }

    #[test]
    fn scripts_are_thin_trampolines() {
        for name in NAMES {
            let s = script(name);
            assert!(install::is_ours(s.as_bytes()), "{name}");
            assert!(
                s.contains(&format!("exec git-session hook {name} \"$@\"")),
                "{name}"
            );
            assert!(s.contains(&format!("export {SCRIPT_ENV}=")), "{name}");
            assert!(s.contains("exec \"$0.chained\" \"$@\""), "{name}");
        }
        // One warning per commit when the binary is missing: from post-commit only.
        let warns = NAMES
            .iter()
            .filter(|n| script(n).contains("is not on PATH"))
            .count();
        assert_eq!(warns, 1);
    }
}
