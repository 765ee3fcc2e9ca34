//! How a session's numbers grew over time, for the report's charts. Pure: the session, its
//! progress and a small record per commit come in; step series come out, whose last values are
//! exactly what [`crate::progress`] reports.

use crate::progress::{CommitInfo, Estimate, Progress};
use crate::session::Session;

/// What the charts need of one commit: who, when, and the effort it reported. Small, because
/// a report keeps one per commit of every session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The author, as a number standing for the lowercased email (as progress tells authors
    /// apart); see [`Authors`].
    pub author: u32,
    pub author_time: i64,
    pub reported_minutes: u64,
    pub is_merge: bool,
}

/// Numbers for authors' emails, so each commit's record holds a number, not a string.
#[derive(Debug, Default)]
pub struct Authors(std::collections::HashMap<String, u32>);

impl Authors {
    pub fn id(&mut self, email: &str) -> u32 {
        let key = email.to_ascii_lowercase();
        let next = self.0.len() as u32;
        *self.0.entry(key).or_insert(next)
    }
}

impl Activity {
    pub fn of(c: &CommitInfo, session: &Session, authors: &mut Authors) -> Activity {
        let reported_minutes = c
            .events_for(session)
            .into_iter()
            .map(|e| match e {
                crate::links::Event::Effort { minutes } => *minutes,
                _ => 0,
            })
            .sum();
        Activity {
            author: authors.id(&c.author_email),
            author_time: c.author_time,
            reported_minutes,
            is_merge: c.is_merge,
        }
    }
}

/// Step series, each point (time, value) holding until the next; all start at 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The session's progress fraction.
    pub progress: Vec<(i64, f64)>,
    pub milestones_done: Vec<(i64, f64)>,
    pub tasks_done: Vec<(i64, f64)>,
    /// Cumulative minutes.
    pub reported: Vec<(i64, f64)>,
    pub estimated: Vec<(i64, f64)>,
    /// When each milestone was done: (time, id).
    pub milestone_marks: Vec<(i64, String)>,
    /// Every commit's author date, in order.
    pub commits: Vec<i64>,
    /// The earliest and latest time any series or commit has.
    pub span: Option<(i64, i64)>,
}

fn minutes(secs: i64) -> f64 {
    ((secs.max(0) + 30) / 60) as f64
}

/// Pushes (t, v) when the value changes, replacing the last point when it has the same time.
fn push(series: &mut Vec<(i64, f64)>, t: i64, v: f64) {
    match series.last_mut() {
        Some(last) if last.0 == t => last.1 = v,
        Some(last) if last.1 == v => {}
        _ => series.push((t, v)),
    }
}

/// Builds the series. `activity` is every commit of the session, in any order.
pub fn timeline(
    session: &Session,
    progress: &Progress,
    activity: &[Activity],
    estimate: Estimate,
) -> Timeline {
    let mut tl = Timeline::default();
    let mut span: Option<(i64, i64)> = None;
    let mut widen = |t: i64| {
        span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
    };

    // Milestones and tasks: (time, milestone index, is the milestone itself).
    let mut events: Vec<(i64, usize, bool)> = Vec::new();
    for (i, m) in progress.milestones.iter().enumerate() {
        if let Some(t) = m.done_at {
            events.push((t, i, true));
            tl.milestone_marks.push((t, m.id.clone()));
        }
        for task in &m.tasks {
            if let Some(t) = task.done_at {
                events.push((t, i, false));
            }
        }
    }
    events.sort();
    tl.milestone_marks.sort();
    let total = session.milestones.len();
    let mut done = vec![false; total];
    let mut tasks = vec![0usize; total];
    let (mut done_count, mut task_count) = (0usize, 0usize);
    if let Some(&(first, _, _)) = events.first() {
        for s in [
            &mut tl.progress,
            &mut tl.milestones_done,
            &mut tl.tasks_done,
        ] {
            s.push((first, 0.0));
        }
    }
    for (t, i, whole) in events {
        widen(t);
        if whole {
            if !done[i] {
                done[i] = true;
                done_count += 1;
            }
        } else {
            tasks[i] += 1;
            task_count += 1;
        }
        let sum: f64 = session
            .milestones
            .iter()
            .enumerate()
            .map(|(j, m)| {
                if done[j] {
                    1.0
                } else if m.tasks.is_empty() {
                    0.0
                } else {
                    tasks[j] as f64 / m.tasks.len() as f64
                }
            })
            .sum();
        push(&mut tl.progress, t, crate::progress::fraction(sum, total));
        push(&mut tl.milestones_done, t, done_count as f64);
        push(&mut tl.tasks_done, t, task_count as f64);
    }

    // Effort: reported as it was written; estimated by the streak rule of progress, each
    // commit's share credited at its author date.
    let mut reported: Vec<(i64, u64)> = activity
        .iter()
        .filter(|a| a.reported_minutes > 0)
        .map(|a| (a.author_time, a.reported_minutes))
        .collect();
    reported.sort();
    let mut by_author: Vec<&Activity> = activity.iter().filter(|a| !a.is_merge).collect();
    by_author.sort_by_key(|a| (a.author, a.author_time));
    let mut credits: Vec<(i64, i64)> = Vec::with_capacity(by_author.len());
    let mut prev: Option<(u32, i64)> = None;
    for a in by_author {
        let secs = match prev {
            Some((who, t)) if who == a.author && a.author_time - t <= estimate.max_gap_secs => {
                (a.author_time - t).max(0)
            }
            _ => estimate.first_commit_secs,
        };
        prev = Some((a.author, a.author_time));
        credits.push((a.author_time, secs));
    }
    credits.sort();
    for a in activity {
        widen(a.author_time);
        tl.commits.push(a.author_time);
    }
    tl.commits.sort_unstable();
    if let Some(&(t, _)) = credits.first() {
        tl.estimated.push((t, 0.0));
    }
    let mut secs = 0i64;
    for (t, s) in credits {
        secs += s;
        push(&mut tl.estimated, t, minutes(secs));
    }
    if let Some(&(t, _)) = reported.first() {
        tl.reported.push((t, 0.0));
    }
    let mut sum = 0u64;
    for (t, m) in reported {
        sum += m;
        push(&mut tl.reported, t, sum as f64);
    }
    tl.span = span;
    tl
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::derive;
    use chrono::DateTime;

    fn session() -> Session {
        crate::session::parse(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"s\"\n\
             branch = \"session/s\"\nbase = \"main\"\ncreated = 2026-11-01T09:00:00Z\n\
             status = \"active\"\n[[milestones]]\nid = \"a\"\ntasks = [\"x\", \"y\"]\n\
             [[milestones]]\nid = \"b\"\n",
            Some("s"),
        )
        .unwrap()
    }

    fn commit(n: u8, email: &str, time: i64, message: &str) -> CommitInfo {
        CommitInfo::sample(n, email, time, message)
    }

    const T: i64 = 1_794_000_000;

    #[test]
    fn the_series_end_where_progress_ends() {
        let s = session();
        let commits = [
            commit(1, "a@x", T, "1\n\nTask-Done: a/x\nEffort: 1h\n"),
            commit(2, "a@x", T + 600, "2\n\nTask-Done: a/y\nEffort: 30m\n"),
            commit(3, "b@x", T + 900, "3\n\nMilestone-Done: b\n"),
            commit(
                4,
                "a@x",
                T + 5 * 3600,
                "4\n\nMilestone-Done: a\nEffort: 15m\n",
            ),
        ];
        let now = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
        let p = derive(&s, &commits, Estimate::default(), now);
        let mut authors = Authors::default();
        let activity: Vec<Activity> = commits
            .iter()
            .map(|c| Activity::of(c, &s, &mut authors))
            .collect();
        let tl = timeline(&s, &p, &activity, Estimate::default());
        assert_eq!(
            tl.progress,
            [(T, 0.25), (T + 600, 0.5), (T + 900, 1.0)],
            "a's tasks count for a until a is done, which then changes nothing"
        );
        assert_eq!(tl.progress.last().unwrap().1, p.fraction);
        assert_eq!(tl.milestones_done.last().unwrap().1, 2.0);
        assert_eq!(tl.tasks_done, [(T, 1.0), (T + 600, 2.0)]);
        assert_eq!(
            tl.reported,
            [(T, 60.0), (T + 600, 90.0), (T + 5 * 3600, 105.0)]
        );
        assert_eq!(
            tl.estimated.last().unwrap().1,
            p.effort.estimated_minutes as f64
        );
        // a: 30m, +10m, then a new streak 30m; b: 30m.
        assert_eq!(
            tl.estimated,
            [
                (T, 30.0),
                (T + 600, 40.0),
                (T + 900, 70.0),
                (T + 5 * 3600, 100.0)
            ]
        );
        assert_eq!(tl.span, Some((T, T + 5 * 3600)));
        assert_eq!(tl.commits, [T, T + 600, T + 900, T + 5 * 3600]);
        assert_eq!(
            tl.milestone_marks,
            [(T + 900, "b".to_string()), (T + 5 * 3600, "a".to_string())]
        );
    }

    #[test]
    fn no_commits_no_series() {
        let s = session();
        let now = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
        let p = derive(&s, &[], Estimate::default(), now);
        let tl = timeline(&s, &p, &[], Estimate::default());
        assert!(tl.progress.is_empty() && tl.estimated.is_empty() && tl.span.is_none());
    }
}
