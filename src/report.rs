//! The JSON shapes of reports (SPEC §5). Keys named by the SPEC are stable; others may be added.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::Serialize;

use crate::criteria::Outcome;
use crate::links::Event;
use crate::progress::{self, CommitInfo, Progress};
use crate::session::{self, Session};

/// Seconds since the epoch as RFC 3339 in UTC.
pub fn rfc3339(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map_or_else(String::new, |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
}

/// A time as people wrote it: in the offset it was recorded with.
pub fn local_time(secs: i64, offset_minutes: i32) -> Option<DateTime<FixedOffset>> {
    let tz = FixedOffset::east_opt(offset_minutes * 60)?;
    tz.timestamp_opt(secs, 0).single()
}

#[derive(Debug, Serialize)]
pub struct SessionHeader {
    pub name: String,
    pub id: String,
    pub title: String,
    pub status: String,
    /// Why it is paused or abandoned, when the file says.
    pub status_reason: Option<String>,
    pub branch: String,
    pub base: String,
    pub created: String,
    pub owner: Option<String>,
    pub objectives: Vec<String>,
}

impl SessionHeader {
    pub fn new(s: &Session) -> SessionHeader {
        SessionHeader {
            name: s.name.to_string(),
            id: s.id_string(),
            title: s.title.clone(),
            status: s.status.to_string(),
            status_reason: s.status_reason.clone(),
            branch: s.branch.clone(),
            base: s.base.clone(),
            created: session::format_datetime(&s.created),
            owner: s.owner.clone(),
            objectives: s.objectives.clone(),
        }
    }
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct ProgressSummary {
    pub fraction: f64,
    pub milestones_done: usize,
    pub milestones_total: usize,
}

impl ProgressSummary {
    pub fn new(p: &Progress) -> ProgressSummary {
        ProgressSummary {
            fraction: p.fraction,
            milestones_done: p.milestones_done,
            milestones_total: p.milestones_total,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MilestoneView {
    pub id: String,
    pub title: String,
    pub state: progress::State,
    pub tasks_done: usize,
    pub tasks_total: usize,
    pub commits: usize,
    pub due: Option<String>,
    pub overdue: bool,
    pub tasks: Vec<progress::TaskProgress>,
    pub depends_on: Vec<String>,
    pub done_in: Option<String>,
    pub effort: progress::Effort,
}

#[derive(Debug, Serialize)]
pub struct BlockerView {
    pub tag: String,
    pub text: String,
    pub state: progress::BlockerState,
    pub raised_in: String,
    pub raised_at: String,
    pub resolved_in: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AuthorView {
    pub name: String,
    pub email: String,
    pub commits: usize,
    pub reported_minutes: u64,
    pub estimated_minutes: u64,
}

#[derive(Debug, Serialize)]
pub struct CommitRefView {
    pub id: String,
    pub time: String,
}

/// `git session status --json`.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub schema: u32,
    pub session: SessionHeader,
    pub progress: ProgressSummary,
    pub milestones: Vec<MilestoneView>,
    pub commits: usize,
    pub effort: progress::Effort,
    pub blockers: Vec<BlockerView>,
    pub authors: Vec<AuthorView>,
    pub first_commit: Option<CommitRefView>,
    pub last_commit: Option<CommitRefView>,
    pub elapsed_days: u64,
    pub criteria: Vec<Outcome>,
    pub warnings: Vec<String>,
}

impl StatusReport {
    pub fn new(
        s: &Session,
        p: &Progress,
        criteria: Vec<Outcome>,
        notes: &[String],
    ) -> StatusReport {
        let commit_ref = |c: &Option<progress::CommitRef>| {
            c.map(|c| CommitRefView {
                id: c.id.hex(),
                time: rfc3339(c.time),
            })
        };
        StatusReport {
            schema: 1,
            session: SessionHeader::new(s),
            progress: ProgressSummary::new(p),
            milestones: p
                .milestones
                .iter()
                .map(|m| MilestoneView {
                    id: m.id.clone(),
                    title: m.title.clone(),
                    state: m.state,
                    tasks_done: m.tasks_done,
                    tasks_total: m.tasks_total,
                    commits: m.commits,
                    due: m.due.map(|d| d.format("%Y-%m-%d").to_string()),
                    overdue: m.overdue,
                    tasks: m.tasks.clone(),
                    depends_on: m.depends_on.clone(),
                    done_in: m.done_in.map(|c| c.hex()),
                    effort: m.effort,
                })
                .collect(),
            commits: p.commits,
            effort: p.effort,
            blockers: p
                .blockers
                .iter()
                .map(|b| BlockerView {
                    tag: b.tag.clone(),
                    text: b.text.clone(),
                    state: b.state,
                    raised_in: b.raised_in.hex(),
                    raised_at: rfc3339(b.raised_at),
                    resolved_in: b.resolved_in.map(|c| c.hex()),
                })
                .collect(),
            authors: p
                .authors
                .iter()
                .map(|a| AuthorView {
                    name: a.name.clone(),
                    email: a.email.clone(),
                    commits: a.commits,
                    reported_minutes: a.reported_minutes,
                    estimated_minutes: a.estimated_minutes,
                })
                .collect(),
            first_commit: commit_ref(&p.first_commit),
            last_commit: commit_ref(&p.last_commit),
            elapsed_days: p.elapsed_days,
            criteria,
            warnings: notes.iter().chain(&p.warnings).cloned().collect(),
        }
    }
}

/// One entry of `git session list --json`.
#[derive(Debug, Serialize)]
pub struct ListEntry {
    pub name: String,
    pub status: String,
    pub progress: ProgressSummary,
    pub branch: String,
    pub title: String,
    pub commits: usize,
    pub open_blockers: usize,
}

impl ListEntry {
    pub fn from_summary(s: &Session, p: &crate::aggregate::Summary) -> ListEntry {
        ListEntry {
            name: s.name.to_string(),
            status: s.status.to_string(),
            progress: ProgressSummary {
                fraction: p.fraction,
                milestones_done: p.milestones_done,
                milestones_total: p.milestones_total,
            },
            branch: s.branch.clone(),
            title: s.title.clone(),
            commits: p.commits,
            open_blockers: p.open_blockers,
        }
    }

    pub fn new(s: &Session, p: &Progress) -> ListEntry {
        ListEntry {
            name: s.name.to_string(),
            status: s.status.to_string(),
            progress: ProgressSummary::new(p),
            branch: s.branch.clone(),
            title: s.title.clone(),
            commits: p.commits,
            open_blockers: p.open_blockers().count(),
        }
    }
}

/// One commit of `git session log --json`.
#[derive(Debug, Serialize)]
pub struct LogEntry {
    pub id: String,
    pub time: String,
    pub author: String,
    pub email: String,
    pub summary: String,
    pub events: Vec<Event>,
    pub warnings: Vec<String>,
}

impl LogEntry {
    pub fn new(s: &Session, c: &CommitInfo) -> LogEntry {
        LogEntry {
            id: c.id.hex(),
            time: local_time(c.author_time, c.author_offset)
                .map_or_else(|| rfc3339(c.author_time), |t| t.to_rfc3339()),
            author: c.author_name.clone(),
            email: c.author_email.clone(),
            summary: c.summary.clone(),
            events: c.events_for(s).into_iter().cloned().collect(),
            warnings: c.links.problems.clone(),
        }
    }
}

/// `git session check --json`: one object per checked session (SPEC §5 keys first).
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub schema: u32,
    /// The session's name; `null` when no session is linked.
    pub session: Option<String>,
    pub met: bool,
    pub criteria: Vec<Outcome>,
    /// How the session was found (argument, branch, CI variable, trailers).
    pub found_by: Option<String>,
    /// The range of commits `require_trailers` was judged in, like `main..HEAD`.
    pub range: Option<String>,
    /// Criteria commands that were not run because they are not approved.
    pub untrusted: Vec<String>,
    /// Sentences about what was left out or why nothing was checked.
    pub notes: Vec<String>,
}
