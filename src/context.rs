//! The hand-off (`git session context`): what whoever picks a session up next needs to know —
//! a colleague, or a coding assistant given the text as context. Pure: the session, its
//! progress, its commits and the time come in; a value (for JSON) and markdown come out.
//!
//! Short enough to paste: every list is capped and long texts are clipped, saying how much was
//! left out.

use chrono::{DateTime, FixedOffset, TimeZone};
use serde::Serialize;

use crate::criteria::Outcome;
use crate::duration::format_minutes;
use crate::links::Event;
use crate::progress::{self, BlockerState, CommitInfo, Effort, Progress, State};
use crate::report::{ProgressSummary, SessionHeader, rfc3339};
use crate::session::Session;

/// How much of each part a hand-off shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub commits: usize,
    pub objectives: usize,
    pub milestones: usize,
    pub blockers: usize,
    pub warnings: usize,
    /// Longest free text (titles, objectives, blocker text, commit summaries), in characters.
    pub text: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            commits: 10,
            objectives: 10,
            milestones: 20,
            blockers: 10,
            warnings: 5,
            text: 200,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DoneMilestone {
    pub id: String,
    pub title: String,
    pub done_in: Option<String>,
    pub done_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenMilestone {
    pub id: String,
    pub title: String,
    pub state: State,
    pub tasks_done: Vec<String>,
    pub tasks_left: Vec<String>,
    pub due: Option<String>,
    pub overdue: bool,
    /// Milestones it depends on that are not done yet.
    pub waits_for: Vec<String>,
    pub effort: Effort,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenBlocker {
    pub tag: String,
    pub text: String,
    pub raised_in: String,
    pub raised_at: String,
    /// Who raised it, when the commit is among the session's.
    pub raised_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecentCommit {
    pub id: String,
    pub time: String,
    pub author: String,
    pub summary: String,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthorEffort {
    pub name: String,
    pub commits: usize,
    pub reported_minutes: u64,
    pub estimated_minutes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Needed {
    pub name: String,
    pub detail: String,
}

/// `git session context --json`, and what the markdown is made from.
#[derive(Debug, Serialize)]
pub struct Handoff {
    pub schema: u32,
    pub session: SessionHeader,
    pub progress: ProgressSummary,
    pub generated: String,
    pub elapsed_days: u64,
    pub commits: usize,
    pub effort: Effort,
    pub authors: Vec<AuthorEffort>,
    pub milestones_done: Vec<DoneMilestone>,
    pub milestones_left: Vec<OpenMilestone>,
    pub open_blockers: Vec<OpenBlocker>,
    pub resolved_blockers: usize,
    pub recent_commits: Vec<RecentCommit>,
    /// History criteria that are not met yet.
    pub criteria_unmet: Vec<Needed>,
    /// History criteria that are met.
    pub criteria_met: Vec<String>,
    /// Criteria commands, by name: `git session check` runs them.
    pub criteria_commands: Vec<String>,
    pub warnings: Vec<String>,
    /// How many items each capped list left out.
    pub left_out: LeftOut,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LeftOut {
    pub objectives: usize,
    pub milestones: usize,
    pub blockers: usize,
    pub commits: usize,
    pub warnings: usize,
}

/// Cuts `text` to `max` characters with an ellipsis, on one line.
pub fn clip(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    if one_line.chars().count() <= max {
        one_line.to_string()
    } else {
        let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The first `max` items, and how many were left out.
fn capped<T>(items: Vec<T>, max: usize) -> (Vec<T>, usize) {
    let left = items.len().saturating_sub(max);
    let mut items = items;
    items.truncate(max);
    (items, left)
}

/// Builds the hand-off. `commits` are the session's, newest first.
pub fn build(
    session: &Session,
    progress: &Progress,
    commits: &[CommitInfo],
    criteria: &[Outcome],
    now: DateTime<FixedOffset>,
    limits: Limits,
) -> Handoff {
    let t = |s: &str| clip(s, limits.text);
    let mut header = SessionHeader::new(session);
    header.title = t(&header.title);
    header.status_reason = header.status_reason.as_deref().map(t);
    let (objectives, objectives_left) = capped(
        session.objectives.iter().map(|o| t(o)).collect(),
        limits.objectives,
    );
    header.objectives = objectives;

    let done_ids: Vec<&str> = progress
        .milestones
        .iter()
        .filter(|m| m.state == State::Done)
        .map(|m| m.id.as_str())
        .collect();
    let milestones_done = progress
        .milestones
        .iter()
        .filter(|m| m.state == State::Done)
        .map(|m| DoneMilestone {
            id: m.id.clone(),
            title: t(&m.title),
            done_in: m.done_in.map(|c| c.hex()),
            done_at: m.done_at.map(rfc3339),
        })
        .collect();
    let (milestones_left, milestones_cut) = capped(
        progress
            .milestones
            .iter()
            .filter(|m| m.state != State::Done)
            .map(|m| OpenMilestone {
                id: m.id.clone(),
                title: t(&m.title),
                state: m.state,
                tasks_done: names(&m.tasks, true),
                tasks_left: names(&m.tasks, false),
                due: m.due.map(|d| d.format("%Y-%m-%d").to_string()),
                overdue: m.overdue,
                waits_for: m
                    .depends_on
                    .iter()
                    .filter(|d| !done_ids.contains(&d.as_str()))
                    .cloned()
                    .collect(),
                effort: m.effort,
            })
            .collect(),
        limits.milestones,
    );
    let (open_blockers, blockers_cut) = capped(
        progress
            .open_blockers()
            .map(|b| OpenBlocker {
                tag: b.tag.clone(),
                text: t(&b.text),
                raised_in: b.raised_in.hex(),
                raised_at: rfc3339(b.raised_at),
                raised_by: commits
                    .iter()
                    .find(|c| c.id == b.raised_in)
                    .map(|c| c.author_name.clone()),
            })
            .collect(),
        limits.blockers,
    );
    let recent_commits = commits
        .iter()
        .take(limits.commits)
        .map(|c| RecentCommit {
            id: c.id.hex(),
            time: crate::report::local_time(c.author_time, c.author_offset)
                .map_or_else(|| rfc3339(c.author_time), |t| t.to_rfc3339()),
            author: c.author_name.clone(),
            summary: t(&c.summary),
            events: c.events_for(session).into_iter().cloned().collect(),
        })
        .collect();
    let (warnings, warnings_cut) = capped(
        progress.warnings.iter().map(|w| t(w)).collect(),
        limits.warnings,
    );
    Handoff {
        schema: 1,
        session: header,
        progress: ProgressSummary::new(progress),
        generated: crate::session::format_datetime(&now),
        elapsed_days: progress.elapsed_days,
        commits: progress.commits,
        effort: progress.effort,
        authors: progress
            .authors
            .iter()
            .map(|a| AuthorEffort {
                name: a.name.clone(),
                commits: a.commits,
                reported_minutes: a.reported_minutes,
                estimated_minutes: a.estimated_minutes,
            })
            .collect(),
        milestones_done,
        milestones_left,
        open_blockers,
        resolved_blockers: progress
            .blockers
            .iter()
            .filter(|b| b.state == BlockerState::Resolved)
            .count(),
        recent_commits,
        criteria_unmet: criteria
            .iter()
            .filter(|o| !o.met)
            .map(|o| Needed {
                name: o.name.clone(),
                detail: o.detail.clone(),
            })
            .collect(),
        criteria_met: criteria
            .iter()
            .filter(|o| o.met)
            .map(|o| o.name.clone())
            .collect(),
        criteria_commands: session
            .criteria
            .iter()
            .flat_map(|c| &c.commands)
            .map(|c| c.name.clone())
            .collect(),
        warnings,
        left_out: LeftOut {
            objectives: objectives_left,
            milestones: milestones_cut,
            blockers: blockers_cut,
            commits: commits.len().saturating_sub(limits.commits),
            warnings: warnings_cut,
        },
    }
}

fn names(tasks: &[progress::TaskProgress], done: bool) -> Vec<String> {
    tasks
        .iter()
        .filter(|t| t.done == done)
        .map(|t| t.name.clone())
        .collect()
}

/// Escapes what markdown would read as markup in inline text.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An RFC 3339 time as a date in `offset`'s calendar.
fn day(time: &str, now: &DateTime<FixedOffset>) -> String {
    DateTime::parse_from_rfc3339(time)
        .map(|t| {
            now.offset()
                .from_utc_datetime(&t.naive_utc())
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}

/// One event in words, for people.
pub fn event_words(e: &Event) -> String {
    let q = |s: &Option<String>| s.as_ref().map(|s| format!("{s}/")).unwrap_or_default();
    match e {
        Event::Milestone { session, milestone } => format!("works on {}{milestone}", q(session)),
        Event::MilestoneDone { session, milestone } => format!("{}{milestone} done", q(session)),
        Event::TaskDone {
            session,
            milestone,
            task,
        } => format!("task {}{milestone}/{task} done", q(session)),
        Event::Effort { minutes } => format!("effort {}", format_minutes(*minutes)),
        Event::Blocker { tag, text } => format!("blocker #{tag} raised: {text}"),
        Event::BlockerResolved { tag } => format!("blocker #{tag} resolved"),
    }
}

fn effort_words(e: &Effort) -> String {
    format!(
        "{} reported, ~{} estimated",
        format_minutes(e.reported_minutes),
        format_minutes(e.estimated_minutes)
    )
}

fn more(out: &mut String, n: usize, what: &str) {
    if n > 0 {
        out.push_str(&format!("- … and {n} more {what}\n"));
    }
}

/// The hand-off as markdown.
pub fn markdown(h: &Handoff, now: DateTime<FixedOffset>) -> String {
    let s = &h.session;
    let mut out = format!("# Session `{}`: {}\n\n", s.name, md(&s.title));
    let mut facts = vec![
        format!("**Status:** {}", s.status),
        format!("branch `{}` → `{}`", s.branch, s.base),
        format!(
            "started {} ({} days ago)",
            day(&s.created, &now),
            h.elapsed_days
        ),
    ];
    if let Some(owner) = &s.owner {
        facts.push(format!(
            "owner {}",
            md(owner.split(" <").next().unwrap_or(owner))
        ));
    }
    out.push_str(&facts.join(" · "));
    out.push_str("  \n");
    if let Some(r) = &s.status_reason {
        out.push_str(&format!("**Why {}:** {}  \n", s.status, md(r)));
    }
    out.push_str(&format!(
        "**Progress:** {:.0}% ({} of {} milestones done) · {} commits · effort {}\n\n",
        (h.progress.fraction * 100.0).floor(),
        h.progress.milestones_done,
        h.progress.milestones_total,
        h.commits,
        effort_words(&h.effort)
    ));

    if !s.objectives.is_empty() {
        out.push_str("## Objectives\n\n");
        for o in &s.objectives {
            out.push_str(&format!("- {}\n", md(o)));
        }
        more(&mut out, h.left_out.objectives, "objectives");
        out.push('\n');
    }

    if !h.milestones_done.is_empty() {
        out.push_str("## Done\n\n");
        for m in &h.milestones_done {
            let when = match (&m.done_in, &m.done_at) {
                (Some(c), Some(t)) => format!(" (in {} on {})", &c[..7], day(t, &now)),
                _ => String::new(),
            };
            out.push_str(&format!("- [x] `{}` {}{when}\n", m.id, md(&m.title)));
        }
        out.push('\n');
    }

    if !h.milestones_left.is_empty() {
        out.push_str("## Left to do\n\n");
        for m in &h.milestones_left {
            let state = match m.state {
                State::InProgress => "in progress",
                _ => "not started",
            };
            let mut parts = vec![state.to_string()];
            let total = m.tasks_done.len() + m.tasks_left.len();
            if total > 0 {
                parts.push(format!("tasks {}/{total} done", m.tasks_done.len()));
            }
            if let Some(due) = &m.due {
                parts.push(if m.overdue {
                    format!("**overdue** (due {due})")
                } else {
                    format!("due {due}")
                });
            }
            if !m.waits_for.is_empty() {
                parts.push(format!("waits for {}", m.waits_for.join(", ")));
            }
            out.push_str(&format!(
                "- [ ] `{}` {}: {}\n",
                m.id,
                md(&m.title),
                parts.join("; ")
            ));
            if !m.tasks_left.is_empty() {
                out.push_str(&format!("  - tasks left: {}\n", m.tasks_left.join(", ")));
            }
            if !m.tasks_done.is_empty() {
                out.push_str(&format!("  - tasks done: {}\n", m.tasks_done.join(", ")));
            }
        }
        more(&mut out, h.left_out.milestones, "milestones");
        out.push('\n');
    }

    out.push_str("## Open blockers\n\n");
    if h.open_blockers.is_empty() {
        out.push_str("None.");
        if h.resolved_blockers > 0 {
            out.push_str(&format!(" ({} resolved.)", h.resolved_blockers));
        }
        out.push_str("\n\n");
    } else {
        for b in &h.open_blockers {
            let by = b
                .raised_by
                .as_deref()
                .map(|a| format!(" by {}", md(a)))
                .unwrap_or_default();
            out.push_str(&format!(
                "- `#{}` {} (raised in {} on {}{by})\n",
                b.tag,
                md(&b.text),
                &b.raised_in[..7],
                day(&b.raised_at, &now)
            ));
        }
        more(&mut out, h.left_out.blockers, "open blockers");
        if h.resolved_blockers > 0 {
            out.push_str(&format!("- ({} resolved)\n", h.resolved_blockers));
        }
        out.push('\n');
    }

    out.push_str("## Effort\n\n");
    out.push_str(&format!(
        "- total: {} (the estimate counts streaks of commits per author)\n",
        effort_words(&h.effort)
    ));
    for a in &h.authors {
        out.push_str(&format!(
            "- {}: {} commits, {}\n",
            md(&a.name),
            a.commits,
            effort_words(&Effort {
                reported_minutes: a.reported_minutes,
                estimated_minutes: a.estimated_minutes,
            })
        ));
    }
    out.push('\n');

    if !h.recent_commits.is_empty() {
        out.push_str("## Recent commits (newest first)\n\n");
        for c in &h.recent_commits {
            let events: Vec<String> = c.events.iter().map(|e| md(&event_words(e))).collect();
            let events = if events.is_empty() {
                String::new()
            } else {
                format!(" — {}", events.join("; "))
            };
            out.push_str(&format!(
                "- `{}` {} {}: {}{events}\n",
                &c.id[..7],
                day(&c.time, &now),
                md(&c.author),
                md(&c.summary)
            ));
        }
        more(&mut out, h.left_out.commits, "commits (git session log)");
        out.push('\n');
    }

    out.push_str("## What the criteria still need\n\n");
    if h.criteria_unmet.is_empty() && h.criteria_met.is_empty() && h.criteria_commands.is_empty() {
        out.push_str("The session defines no criteria.\n");
    } else {
        for n in &h.criteria_unmet {
            out.push_str(&format!("- [ ] {}: {}\n", n.name, md(&n.detail)));
        }
        if !h.criteria_met.is_empty() {
            out.push_str(&format!("- [x] met: {}\n", h.criteria_met.join(", ")));
        }
        if !h.criteria_commands.is_empty() {
            let names: Vec<String> = h
                .criteria_commands
                .iter()
                .map(|c| format!("`{}`", c.replace('`', "'")))
                .collect();
            out.push_str(&format!(
                "- commands, not run here (`git session check` runs them): {}\n",
                names.join(", ")
            ));
        }
    }

    if !h.warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        for w in &h.warnings {
            out.push_str(&format!("- {}\n", md(w)));
        }
        more(&mut out, h.left_out.warnings, "warnings");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::{Estimate, derive};

    fn session() -> Session {
        crate::session::parse(
            r#"schema = 1
id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e"
name = "search"
title = "Rewrite *search*"
branch = "session/search"
base = "main"
created = 2026-11-01T09:00:00Z
owner = "Ada Lovelace <ada@example.org>"
status = "paused"
status_reason = "waiting for the dump"
objectives = ["p99 under 50 ms", "remove the legacy index"]

[[milestones]]
id = "parser"
tasks = ["lexer", "grammar"]

[[milestones]]
id = "ranking"
depends_on = ["parser"]
due = 2026-11-10

[criteria]
milestones = "all"
no_open_blockers = true
[[criteria.commands]]
name = "tests"
run = "cargo test"
"#,
            Some("search"),
        )
        .unwrap()
    }

    fn commit(n: u8, time: i64, message: &str) -> CommitInfo {
        CommitInfo {
            author_name: "Ada Lovelace".into(),
            summary: message.lines().next().unwrap_or_default().to_string(),
            ..CommitInfo::sample(n, "ada@example.org", time, message)
        }
    }

    fn handoff(commits: &[CommitInfo], limits: Limits) -> (Handoff, String) {
        let s = session();
        let now = DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap();
        let mut newest_first = commits.to_vec();
        newest_first.reverse();
        let p = derive(&s, &newest_first, Estimate::default(), now);
        let criteria = crate::criteria::evaluate_history(&s, &p, &[]);
        let h = build(&s, &p, &newest_first, &criteria, now, limits);
        let text = markdown(&h, now);
        (h, text)
    }

    const T: i64 = 1_794_000_000;

    #[test]
    fn names_objectives_what_is_left_blockers_and_criteria() {
        let commits = [
            commit(1, T, "Lexer\n\nTask-Done: parser/lexer\nEffort: 1h\n"),
            commit(
                2,
                T + 60,
                "Try it\n\nBlocker: #corpus need the *2024* dump\n",
            ),
        ];
        let (h, md) = handoff(&commits, Limits::default());
        assert_eq!(h.milestones_left.len(), 2);
        assert_eq!(h.milestones_left[0].tasks_left, ["grammar"]);
        assert_eq!(h.milestones_left[1].waits_for, ["parser"]);
        assert!(
            md.starts_with("# Session `search`: Rewrite \\*search\\*\n"),
            "{md}"
        );
        assert!(md.contains("**Why paused:** waiting for the dump"), "{md}");
        assert!(md.contains("- p99 under 50 ms\n"), "{md}");
        assert!(
            md.contains(
                "- [ ] `parser` parser: in progress; tasks 1/2 done\n  - tasks left: grammar\n"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "`ranking` ranking: not started; **overdue** (due 2026-11-10); waits for parser"
            ),
            "{md}"
        );
        assert!(
            md.contains("- `#corpus` need the \\*2024\\* dump (raised in 0202020 on 2026-11-06 by Ada Lovelace)"),
            "{md}"
        );
        assert!(
            md.contains("- [ ] milestones: not done: parser, ranking (0 of 2 done)"),
            "{md}"
        );
        assert!(md.contains("- [ ] no_open_blockers: open: #corpus"), "{md}");
        assert!(
            md.contains("(`git session check` runs them): `tests`"),
            "{md}"
        );
        assert!(
            md.contains("- `0202020` 2026-11-06 Ada Lovelace: Try it — blocker #corpus raised"),
            "{md}"
        );
        assert!(md.contains("effort 1h reported"), "{md}");
    }

    #[test]
    fn long_lists_and_texts_are_capped() {
        let long = "x".repeat(500);
        let commits: Vec<CommitInfo> = (0..30)
            .map(|i| commit(i as u8 + 1, T + i * 60, &format!("{long}\n\nEffort: 5m\n")))
            .collect();
        let (h, md) = handoff(&commits, Limits::default());
        assert_eq!(h.recent_commits.len(), 10);
        assert_eq!(h.left_out.commits, 20);
        assert_eq!(h.recent_commits[0].summary.chars().count(), 200);
        assert!(md.contains("- … and 20 more commits"), "{md}");
        assert!(md.len() < 6000, "{}", md.len());
    }

    #[test]
    fn nothing_yet_reads_well() {
        let (h, md) = handoff(&[], Limits::default());
        assert!(h.recent_commits.is_empty());
        assert!(md.contains("## Open blockers\n\nNone.\n"), "{md}");
        assert!(!md.contains("## Recent commits"), "{md}");
    }
}
