//! Progress of one session, derived from its commits (SPEC §4). Pure: the session, its commits
//! and the current time come in; numbers come out. Commits are folded into a [`Tally`] one at a
//! time, so a walk over a large history never holds them all.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::links::{Event, Links};
use crate::repo::CommitId;
use crate::session::Session;

/// Parameters of the effort estimate (from `.sessions/config.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub max_gap_secs: i64,
    pub first_commit_secs: i64,
}

impl Default for Estimate {
    fn default() -> Self {
        Estimate {
            max_gap_secs: 2 * 3600,
            first_commit_secs: 30 * 60,
        }
    }
}

/// What the tool keeps of a commit that belongs to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: CommitId,
    pub is_merge: bool,
    pub author_name: String,
    pub author_email: String,
    pub author_time: i64,
    pub author_offset: i32,
    pub commit_time: i64,
    /// Where the walk met the commit: lower is newer (a walk meets a child before its parent).
    pub order: u64,
    pub summary: String,
    pub links: Links,
}

impl CommitInfo {
    /// A commit for tests: id `[n; 20]`, committed and authored at `time` by `email`, with
    /// the links of `message`.
    #[cfg(test)]
    pub(crate) fn sample(n: u8, email: &str, time: i64, message: &str) -> CommitInfo {
        CommitInfo {
            id: CommitId([n; 20]),
            is_merge: false,
            author_name: email.split('@').next().unwrap_or(email).to_string(),
            author_email: email.to_string(),
            author_time: time,
            author_offset: 0,
            commit_time: time,
            order: u64::from(u8::MAX - n),
            summary: format!("commit {n}"),
            links: crate::links::from_message(
                message.as_bytes(),
                &crate::trailer::TrailerConfig::default(),
            ),
        }
    }

    /// The events of this commit that concern `session`: values qualified with its name or id,
    /// and unqualified ones. Problems are returned as warnings.
    pub fn events_for<'a>(&'a self, session: &Session) -> Vec<&'a Event> {
        let id = session.id_string();
        self.links
            .events
            .iter()
            .filter(|e| match e.qualifier() {
                None => true,
                Some(q) => q == session.name.as_str() || q.eq_ignore_ascii_case(&id),
            })
            .collect()
    }

    /// Whether the commit names sessions other than `session`.
    fn names_others(&self, session: &Session) -> bool {
        let id = session.id_string();
        self.links
            .named_sessions()
            .any(|s| s != session.name.as_str() && !s.eq_ignore_ascii_case(&id))
    }
}

/// Most warnings kept per session; the rest are counted.
const MAX_WARNINGS: usize = 200;

#[derive(Debug, Clone, Default)]
struct MilestoneTally {
    commits: usize,
    /// Earliest `Milestone-Done`.
    done: Option<(i64, CommitId)>,
    /// Task name -> earliest time it was marked done.
    tasks_done: BTreeMap<String, i64>,
    reported_minutes: u64,
    estimated_secs: i64,
}

#[derive(Debug, Clone, Default)]
struct AuthorTally {
    name: String,
    commits: usize,
    reported_minutes: u64,
    estimated_secs: i64,
}

/// A commit's part in the effort estimate: 24 bytes, as `report` keeps one per commit of
/// every session (a million at a million commits).
#[derive(Debug, Clone)]
struct Activity {
    time: i64,
    author: u32,
    /// The milestones it names: `count` of them from `first` in [`Tally::named`].
    first: u32,
    count: u16,
}

#[derive(Debug, Clone)]
struct BlockerEvent {
    time: i64,
    /// Orders events of one second: author time, then the walk (see `aggregate::Moment`).
    author_time: i64,
    order: u64,
    seq: usize,
    tag: String,
    /// `Some(text)` opens the blocker, `None` resolves it.
    opens: Option<String>,
    commit: CommitId,
}

/// Everything progress needs from a session's commits, folded one commit at a time.
#[derive(Debug, Clone)]
pub struct Tally {
    milestones: Vec<MilestoneTally>,
    commits: usize,
    reported_minutes: u64,
    author_index: HashMap<String, usize>,
    authors: Vec<AuthorTally>,
    activity: Vec<Activity>,
    named: Vec<u16>,
    blockers: Vec<BlockerEvent>,
    first: Option<(i64, CommitId)>,
    last: Option<(i64, CommitId)>,
    /// (commit time, text), so reports list them in history order.
    warnings: Vec<(i64, String)>,
    warnings_dropped: usize,
}

impl Tally {
    pub fn new(session: &Session) -> Tally {
        Tally {
            milestones: vec![MilestoneTally::default(); session.milestones.len()],
            commits: 0,
            reported_minutes: 0,
            author_index: HashMap::new(),
            authors: Vec::new(),
            activity: Vec::new(),
            named: Vec::new(),
            blockers: Vec::new(),
            first: None,
            last: None,
            warnings: Vec::new(),
            warnings_dropped: 0,
        }
    }

    fn warn(&mut self, time: i64, text: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push((time, text));
        } else {
            self.warnings_dropped += 1;
        }
    }

    /// Adds one commit of `session` (each commit once).
    pub fn add(&mut self, session: &Session, c: &CommitInfo) {
        self.commits += 1;
        let t = c.commit_time;
        if self.first.is_none_or(|(ft, _)| t < ft) {
            self.first = Some((t, c.id));
        }
        if self.last.is_none_or(|(lt, _)| t >= lt) {
            self.last = Some((t, c.id));
        }
        let key = c.author_email.to_ascii_lowercase();
        let author = match self.author_index.get(&key) {
            Some(&a) => a,
            None => {
                self.authors.push(AuthorTally {
                    name: c.author_name.clone(),
                    ..Default::default()
                });
                self.author_index.insert(key, self.authors.len() - 1);
                self.authors.len() - 1
            }
        };
        self.authors[author].commits += 1;

        let short = c.id.short();
        for p in &c.links.problems {
            self.warn(t, format!("{short}: {p}"));
        }
        let alone = !c.names_others(session);
        let mut named: Vec<u16> = Vec::new();
        let mut effort = 0u64;
        for (seq, event) in c.events_for(session).into_iter().enumerate() {
            if let Some(w) = event_warning(session, event, alone) {
                self.warn(t, format!("{short}: {w}"));
            }
            if let Some(m) = event.milestone() {
                // Sessions have a handful of milestones: a scan beats a map per session,
                // which report keeps for thousands of sessions at once.
                let Some(i) = session.milestones.iter().position(|x| x.id.as_str() == m) else {
                    continue;
                };
                if !named.contains(&(i as u16)) {
                    named.push(i as u16);
                }
                match event {
                    Event::MilestoneDone { .. } => {
                        let ms = &mut self.milestones[i];
                        if ms.done.is_none_or(|(dt, _)| t < dt) {
                            ms.done = Some((t, c.id));
                        }
                    }
                    Event::TaskDone { task, .. }
                        if session.milestones[i]
                            .tasks
                            .iter()
                            .any(|x| x.as_str() == task) =>
                    {
                        let entry = self.milestones[i]
                            .tasks_done
                            .entry(task.clone())
                            .or_insert(t);
                        *entry = (*entry).min(t);
                    }
                    _ => {}
                }
                continue;
            }
            match event {
                Event::Effort { minutes } => effort += minutes,
                Event::Blocker { tag, text } => self.blockers.push(BlockerEvent {
                    time: t,
                    author_time: c.author_time,
                    order: c.order,
                    seq,
                    tag: tag.clone(),
                    opens: Some(text.clone()),
                    commit: c.id,
                }),
                Event::BlockerResolved { tag } => self.blockers.push(BlockerEvent {
                    time: t,
                    author_time: c.author_time,
                    order: c.order,
                    seq,
                    tag: tag.clone(),
                    opens: None,
                    commit: c.id,
                }),
                _ => {}
            }
        }
        for &i in &named {
            let ms = &mut self.milestones[i as usize];
            ms.commits += 1;
            ms.reported_minutes += effort;
        }
        self.reported_minutes += effort;
        self.authors[author].reported_minutes += effort;
        if !c.is_merge {
            let first = u32::try_from(self.named.len()).unwrap_or(u32::MAX);
            let count = u16::try_from(named.len()).unwrap_or(u16::MAX);
            self.named.extend_from_slice(&named[..usize::from(count)]);
            self.activity.push(Activity {
                time: c.author_time,
                author: u32::try_from(author).unwrap_or(u32::MAX),
                first,
                count,
            });
        }
    }

    /// The progress these commits give `session` at time `now`.
    pub fn finish(
        mut self,
        session: &Session,
        estimate: Estimate,
        now: DateTime<FixedOffset>,
    ) -> Progress {
        // Effort estimate: per author, commits in author-date order; a gap up to max_gap counts
        // as work, and each streak's first commit adds first_commit.
        self.activity.sort_by_key(|a| (a.author, a.time));
        let mut total_secs = 0i64;
        let mut prev: Option<(u32, i64)> = None;
        for a in &self.activity {
            let secs = match prev {
                Some((author, time))
                    if author == a.author && a.time - time <= estimate.max_gap_secs =>
                {
                    (a.time - time).max(0)
                }
                _ => estimate.first_commit_secs,
            };
            prev = Some((a.author, a.time));
            total_secs += secs;
            self.authors[a.author as usize].estimated_secs += secs;
            let named = self.named.iter().skip(a.first as usize);
            for &m in named.take(usize::from(a.count)) {
                self.milestones[m as usize].estimated_secs += secs;
            }
        }

        let today = now.date_naive();
        let mut milestones = Vec::new();
        let mut fraction_sum = 0.0;
        let mut done_count = 0;
        for (m, tally) in session.milestones.iter().zip(&self.milestones) {
            let tasks_total = m.tasks.len();
            let tasks_done = tally.tasks_done.len();
            let state = if tally.done.is_some() {
                State::Done
            } else if tally.commits > 0 {
                State::InProgress
            } else {
                State::Pending
            };
            fraction_sum += match state {
                State::Done => 1.0,
                _ if tasks_total > 0 => tasks_done as f64 / tasks_total as f64,
                _ => 0.0,
            };
            if state == State::Done {
                done_count += 1;
            }
            milestones.push(MilestoneProgress {
                id: m.id.to_string(),
                title: m.title.clone(),
                state,
                tasks_done,
                tasks_total,
                tasks: m
                    .tasks
                    .iter()
                    .map(|t| TaskProgress {
                        name: t.to_string(),
                        done: tally.tasks_done.contains_key(t.as_str()),
                        done_at: tally.tasks_done.get(t.as_str()).copied(),
                    })
                    .collect(),
                commits: tally.commits,
                due: m.due,
                overdue: state != State::Done && m.due.is_some_and(|d| d < today),
                done_at: tally.done.map(|(t, _)| t),
                done_in: tally.done.map(|(_, c)| c),
                depends_on: m.depends_on.iter().map(|d| d.to_string()).collect(),
                effort: Effort {
                    reported_minutes: tally.reported_minutes,
                    estimated_minutes: secs_to_minutes(tally.estimated_secs),
                },
            });
        }
        // A milestone marked done before what it depends on is suspicious, not wrong.
        let done: HashMap<String, (i64, CommitId)> = session
            .milestones
            .iter()
            .zip(&self.milestones)
            .filter_map(|(m, t)| t.done.map(|d| (m.id.to_string(), d)))
            .collect();
        for (at, w) in dependency_warnings(session, &done) {
            self.warn(at, w);
        }

        let blockers = resolve_blockers(&mut self);
        self.warnings.sort_by_key(|(t, _)| *t);
        let mut warnings: Vec<String> = self.warnings.into_iter().map(|(_, w)| w).collect();
        if self.warnings_dropped > 0 {
            warnings.push(format!("… and {} more warnings", self.warnings_dropped));
        }
        let mut authors: Vec<AuthorProgress> = self
            .author_index
            .iter()
            .map(|(email, &i)| {
                let a = &self.authors[i];
                AuthorProgress {
                    name: a.name.clone(),
                    email: email.clone(),
                    commits: a.commits,
                    reported_minutes: a.reported_minutes,
                    estimated_minutes: secs_to_minutes(a.estimated_secs),
                }
            })
            .collect();
        authors.sort_by(|a, b| b.commits.cmp(&a.commits).then(a.email.cmp(&b.email)));

        let total = session.milestones.len();
        Progress {
            fraction: fraction(fraction_sum, total),
            milestones_done: done_count,
            milestones_total: total,
            milestones,
            commits: self.commits,
            effort: Effort {
                reported_minutes: self.reported_minutes,
                estimated_minutes: secs_to_minutes(total_secs),
            },
            authors,
            blockers,
            first_commit: self.first.map(|(time, id)| CommitRef { id, time }),
            last_commit: self.last.map(|(time, id)| CommitRef { id, time }),
            elapsed_days: ((now.timestamp() - session.created.timestamp()).max(0) / 86_400) as u64,
            warnings,
        }
    }
}

/// Why `event`, carried by a commit of `session`, does not fit the session, if it does not.
/// `alone`: the commit names no other session, so an unknown unqualified milestone cannot
/// belong to another one.
pub fn event_warning(session: &Session, event: &Event, alone: bool) -> Option<String> {
    let m = event.milestone()?;
    let Some(milestone) = session.milestone(m) else {
        return (alone || event.qualifier().is_some()).then(|| {
            format!(
                "'{m}' is not a milestone of {} (trailer {})",
                session.name,
                event_key(event)
            )
        });
    };
    match event {
        Event::TaskDone { task, .. } if !milestone.tasks.iter().any(|t| t.as_str() == task) => {
            Some(format!("'{task}' is not a task of milestone '{m}'"))
        }
        _ => None,
    }
}

/// Warnings for milestones marked done before what they depend on; `done` gives each
/// milestone's earliest `Milestone-Done` (time, commit).
pub fn dependency_warnings(
    session: &Session,
    done: &HashMap<String, (i64, CommitId)>,
) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for m in &session.milestones {
        let Some(&(at, commit)) = done.get(m.id.as_str()) else {
            continue;
        };
        for dep in &m.depends_on {
            if done.get(dep.as_str()).is_none_or(|&(d, _)| d > at) {
                out.push((
                    at,
                    format!(
                        "{}: milestone '{}' was marked done before '{dep}', which it depends on",
                        commit.short(),
                        m.id
                    ),
                ));
            }
        }
    }
    out
}

fn event_key(e: &Event) -> &'static str {
    match e {
        Event::Milestone { .. } => crate::links::MILESTONE,
        Event::MilestoneDone { .. } => crate::links::MILESTONE_DONE,
        Event::TaskDone { .. } => crate::links::TASK_DONE,
        Event::Effort { .. } => crate::links::EFFORT,
        Event::Blocker { .. } => crate::links::BLOCKER,
        Event::BlockerResolved { .. } => crate::links::BLOCKER_RESOLVED,
    }
}

fn resolve_blockers(tally: &mut Tally) -> Vec<Blocker> {
    let mut events = std::mem::take(&mut tally.blockers);
    events.sort_by_key(|e| (e.time, e.author_time, std::cmp::Reverse(e.order), e.seq));
    let mut out: Vec<Blocker> = Vec::new();
    // By tag, so that a history with thousands of tags stays linear.
    let mut index: HashMap<String, usize> = HashMap::new();
    for e in events {
        let existing = index.get(&e.tag).map(|&i| &mut out[i]);
        match (e.opens, existing) {
            (Some(text), Some(b)) => {
                b.state = BlockerState::Open;
                if !text.is_empty() {
                    b.text = text;
                }
                b.raised_in = e.commit;
                b.raised_at = e.time;
                b.resolved_in = None;
                b.resolved_at = None;
            }
            (Some(text), None) => {
                index.insert(e.tag.clone(), out.len());
                out.push(Blocker {
                    tag: e.tag,
                    text,
                    state: BlockerState::Open,
                    raised_in: e.commit,
                    raised_at: e.time,
                    resolved_in: None,
                    resolved_at: None,
                });
            }
            (None, Some(b)) => {
                b.state = BlockerState::Resolved;
                b.resolved_in = Some(e.commit);
                b.resolved_at = Some(e.time);
            }
            (None, None) => tally.warn(
                e.time,
                format!(
                    "{}: Blocker-Resolved #{} resolves a blocker that was never raised",
                    e.commit.short(),
                    e.tag
                ),
            ),
        }
    }
    out
}

fn secs_to_minutes(secs: i64) -> u64 {
    ((secs.max(0) + 30) / 60) as u64
}

/// Session progress: the mean of per-milestone fractions, rounded to four places.
pub fn fraction(sum: f64, milestones: usize) -> f64 {
    if milestones == 0 {
        0.0
    } else {
        (sum / milestones as f64 * 10_000.0).round() / 10_000.0
    }
}

/// Derives progress from a session's commits in one call.
pub fn derive<'a>(
    session: &Session,
    commits: impl IntoIterator<Item = &'a CommitInfo>,
    estimate: Estimate,
    now: DateTime<FixedOffset>,
) -> Progress {
    let mut tally = Tally::new(session);
    for c in commits {
        tally.add(session, c);
    }
    tally.finish(session, estimate, now)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Done,
    InProgress,
    Pending,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Done => "done",
            State::InProgress => "in_progress",
            State::Pending => "pending",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockerState {
    Open,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Effort {
    pub reported_minutes: u64,
    pub estimated_minutes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskProgress {
    pub name: String,
    pub done: bool,
    #[serde(skip)]
    pub done_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneProgress {
    pub id: String,
    pub title: String,
    pub state: State,
    pub tasks_done: usize,
    pub tasks_total: usize,
    pub tasks: Vec<TaskProgress>,
    pub commits: usize,
    pub due: Option<NaiveDate>,
    pub overdue: bool,
    pub done_at: Option<i64>,
    pub done_in: Option<CommitId>,
    pub depends_on: Vec<String>,
    pub effort: Effort,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub tag: String,
    pub text: String,
    pub state: BlockerState,
    pub raised_in: CommitId,
    pub raised_at: i64,
    pub resolved_in: Option<CommitId>,
    pub resolved_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorProgress {
    pub name: String,
    pub email: String,
    pub commits: usize,
    pub reported_minutes: u64,
    pub estimated_minutes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitRef {
    pub id: CommitId,
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub fraction: f64,
    pub milestones_done: usize,
    pub milestones_total: usize,
    pub milestones: Vec<MilestoneProgress>,
    pub commits: usize,
    pub effort: Effort,
    pub authors: Vec<AuthorProgress>,
    pub blockers: Vec<Blocker>,
    pub first_commit: Option<CommitRef>,
    pub last_commit: Option<CommitRef>,
    pub elapsed_days: u64,
    pub warnings: Vec<String>,
}

impl Progress {
    /// What `list` and the hooks' line show of it.
    pub fn summary(&self) -> crate::aggregate::Summary {
        crate::aggregate::Summary {
            fraction: self.fraction,
            milestones_done: self.milestones_done,
            milestones_total: self.milestones_total,
            commits: self.commits,
            open_blockers: self.open_blockers().count(),
        }
    }

    pub fn open_blockers(&self) -> impl Iterator<Item = &Blocker> {
        self.blockers
            .iter()
            .filter(|b| b.state == BlockerState::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        crate::session::parse(
            r#"schema = 1
id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e"
name = "search"
branch = "session/search"
base = "main"
created = 2026-11-01T09:00:00Z
status = "active"

[[milestones]]
id = "parser"
tasks = ["lexer", "grammar", "errors", "docs"]

[[milestones]]
id = "ranking"
depends_on = ["parser"]
due = 2026-11-10
"#,
            Some("search"),
        )
        .unwrap()
    }

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap()
    }

    const T0: i64 = 1_793_000_000;

    fn commit(n: u8, email: &str, time: i64, message: &str) -> CommitInfo {
        CommitInfo::sample(n, email, time, message)
    }

    #[test]
    fn tasks_give_fractions_and_an_empty_milestone_gives_zero() {
        let s = session();
        let commits = [
            commit(1, "a@x", T0, "a\n\nTask-Done: parser/lexer\n"),
            commit(
                2,
                "a@x",
                T0 + 60,
                "b\n\nTask-Done: parser/grammar\nTask-Done: parser/lexer\n",
            ),
        ];
        let p = derive(&s, &commits, Estimate::default(), now());
        assert_eq!(p.fraction, 0.25);
        assert_eq!(p.milestones[0].state, State::InProgress);
        assert_eq!(
            (p.milestones[0].tasks_done, p.milestones[0].tasks_total),
            (2, 4)
        );
        assert_eq!(p.milestones[1].state, State::Pending);
        assert!(p.milestones[1].overdue);
        assert_eq!(p.milestones_done, 0);
    }

    #[test]
    fn milestone_done_and_effort() {
        let s = session();
        let commits = [
            commit(1, "a@x", T0, "a\n\nMilestone: parser\nEffort: 1h\n"),
            commit(
                2,
                "b@x",
                T0 + 600,
                "b\n\nMilestone-Done: parser\nEffort: 30m\n",
            ),
            commit(3, "b@x", T0 + 3600, "c\n\nEffort: 1.5h\n"),
        ];
        let p = derive(&s, &commits, Estimate::default(), now());
        assert_eq!(p.milestones[0].state, State::Done);
        assert_eq!(p.milestones[0].commits, 2);
        assert_eq!(p.milestones[0].effort.reported_minutes, 90);
        assert_eq!(p.fraction, 0.5);
        assert_eq!(p.effort.reported_minutes, 180);
        // a: one streak (30m); b: 30m + 50m gap.
        assert_eq!(p.effort.estimated_minutes, 30 + 30 + 50);
        assert_eq!(p.commits, 3);
        assert_eq!(p.authors.len(), 2);
    }

    #[test]
    fn streaks_break_after_the_gap() {
        let s = session();
        let commits = [
            commit(1, "a@x", T0, "a\n"),
            commit(2, "a@x", T0 + 2 * 3600, "b\n"),
            commit(3, "a@x", T0 + 4 * 3600 + 1, "c\n"),
        ];
        let p = derive(&s, &commits, Estimate::default(), now());
        assert_eq!(p.effort.estimated_minutes, 30 + 120 + 30);
        let tight = Estimate {
            max_gap_secs: 3600,
            first_commit_secs: 600,
        };
        assert_eq!(
            derive(&s, &commits, tight, now()).effort.estimated_minutes,
            30
        );
    }

    #[test]
    fn blockers_open_and_resolve() {
        let s = session();
        let commits = [
            commit(
                1,
                "a@x",
                T0,
                "a\n\nBlocker: #flaky CI flakes\nBlocker: #spec unclear\n",
            ),
            commit(
                2,
                "a@x",
                T0 + 60,
                "b\n\nBlocker-Resolved: #flaky\nBlocker-Resolved: #ghost\n",
            ),
        ];
        let p = derive(&s, &commits, Estimate::default(), now());
        let states: Vec<_> = p
            .blockers
            .iter()
            .map(|b| (b.tag.as_str(), b.state))
            .collect();
        assert_eq!(
            states,
            [
                ("flaky", BlockerState::Resolved),
                ("spec", BlockerState::Open)
            ]
        );
        assert_eq!(p.blockers[1].text, "unclear");
        assert!(p.warnings.iter().any(|w| w.contains("#ghost")));
    }

    #[test]
    fn bad_trailers_become_warnings() {
        let s = session();
        let commits = [commit(
            1,
            "a@x",
            T0,
            "a\n\nMilestone: nope\nEffort: soon\nTask-Done: parser/nope\nMilestone-Done: ranking\n",
        )];
        let p = derive(&s, &commits, Estimate::default(), now());
        assert_eq!(p.warnings.len(), 4, "{:?}", p.warnings);
        assert!(p.warnings.iter().any(|w| w.contains("before 'parser'")));
    }

    #[test]
    fn qualified_values_for_other_sessions_are_ignored() {
        let s = session();
        let commits = [commit(
            1,
            "a@x",
            T0,
            "a\n\nSession: search\nSession: other\nMilestone-Done: other/parser\nMilestone: x\n",
        )];
        let p = derive(&s, &commits, Estimate::default(), now());
        assert_eq!(p.milestones[0].state, State::Pending);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }
}
