//! What `list` needs of a session's history, folded per session key (a name or an id as
//! commits write it) into a small value that does not depend on the session file. Pure.
//!
//! Aggregates are what the cache stores, and what a walk without the cache builds: both paths
//! compute `list` the same way, so the cache cannot change an answer.

use std::borrow::Borrow;

use crate::links::{Event, Links};
use crate::session::Session;

/// When a commit happened, as history orders events: committer time, then author time (a
/// rebase gives every replayed commit the same committer second but keeps author dates), then
/// the commit's rank in the walk (higher is newer: a walk meets a child before its parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Moment {
    pub time: i64,
    pub author_time: i64,
    pub rank: i64,
}

/// The last blocker event seen for a tag, ordered as [`crate::progress`] orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockerMark {
    pub at: Moment,
    pub seq: u32,
    pub opens: bool,
    /// Whether any event for the tag opened it (a lone `Blocker-Resolved` opens nothing).
    pub ever_opened: bool,
}

impl BlockerMark {
    fn key(&self) -> (Moment, u32) {
        (self.at, self.seq)
    }

    fn merge(&mut self, other: &BlockerMark) {
        let ever = self.ever_opened || other.ever_opened;
        if other.key() > self.key() {
            *self = *other;
        }
        self.ever_opened = ever;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    pub commits: u32,
    /// Earliest and latest committer time of the commits folded in.
    pub earliest: i64,
    pub latest: i64,
    /// Milestone id -> earliest `Milestone-Done`.
    pub done: SmallMap<String, i64>,
    /// (milestone, task) -> earliest `Task-Done`.
    pub tasks: SmallMap<(String, String), i64>,
    pub reported_minutes: u64,
    pub blockers: SmallMap<String, BlockerMark>,
}

/// A map kept as a sorted vector. An aggregate holds a few milestones, tasks and blockers, and
/// a full walk of a large history holds tens of thousands of aggregates: a B-tree node for
/// each map cost hundreds of bytes, 30 MB in all at a million commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    fn search<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.search(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.search(key).is_ok()
    }

    /// The value for `key`, made with `make` if there is none yet.
    pub fn slot<Q: Ord + ?Sized>(&mut self, key: &Q, make: impl FnOnce() -> (K, V)) -> &mut V
    where
        K: Borrow<Q>,
    {
        let i = match self.search(key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, make());
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn insert(&mut self, key: K, value: V) {
        match self.search(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl Aggregate {
    pub fn is_empty(&self) -> bool {
        self.commits == 0
    }

    /// Folds in one commit with the events that apply under this key.
    pub fn add<'a>(&mut self, at: Moment, events: impl Iterator<Item = &'a Event>) {
        let time = at.time;
        if self.commits == 0 || time < self.earliest {
            self.earliest = time;
        }
        if self.commits == 0 || time > self.latest {
            self.latest = time;
        }
        self.commits += 1;
        for (seq, e) in events.enumerate() {
            match e {
                Event::MilestoneDone { milestone, .. } => {
                    let t = self
                        .done
                        .slot(milestone.as_str(), || (milestone.clone(), time));
                    *t = (*t).min(time);
                }
                Event::TaskDone {
                    milestone, task, ..
                } => {
                    let key = (milestone.clone(), task.clone());
                    let t = self.tasks.slot(&key, || (key.clone(), time));
                    *t = (*t).min(time);
                }
                Event::Effort { minutes } => self.reported_minutes += minutes,
                Event::Blocker { tag, .. } | Event::BlockerResolved { tag } => {
                    let opens = matches!(e, Event::Blocker { .. });
                    let mark = BlockerMark {
                        at,
                        seq: seq as u32,
                        opens,
                        ever_opened: opens,
                    };
                    self.blockers
                        .slot(tag.as_str(), || (tag.clone(), mark))
                        .merge(&mark);
                }
                Event::Milestone { .. } => {}
            }
        }
    }

    /// Adds another aggregate of disjoint commits.
    pub fn merge(&mut self, other: &Aggregate) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        self.commits += other.commits;
        self.earliest = self.earliest.min(other.earliest);
        self.latest = self.latest.max(other.latest);
        for (m, t) in other.done.iter() {
            let e = self.done.slot(m, || (m.clone(), *t));
            *e = (*e).min(*t);
        }
        for (k, t) in other.tasks.iter() {
            let e = self.tasks.slot(k, || (k.clone(), *t));
            *e = (*e).min(*t);
        }
        self.reported_minutes += other.reported_minutes;
        for (tag, mark) in other.blockers.iter() {
            self.blockers.slot(tag, || (tag.clone(), *mark)).merge(mark);
        }
    }

    /// The numbers `list` shows for `session`, computed as [`crate::progress`] computes them.
    pub fn summary(&self, session: &Session) -> Summary {
        let mut fraction_sum = 0.0;
        let mut done = 0;
        for m in &session.milestones {
            if self.done.contains_key(m.id.as_str()) {
                done += 1;
                fraction_sum += 1.0;
            } else if !m.tasks.is_empty() {
                let tasks_done = m
                    .tasks
                    .iter()
                    .filter(|t| self.tasks.contains_key(&(m.id.to_string(), t.to_string())))
                    .count();
                fraction_sum += tasks_done as f64 / m.tasks.len() as f64;
            }
        }
        let total = session.milestones.len();
        Summary {
            fraction: crate::progress::fraction(fraction_sum, total),
            milestones_done: done,
            milestones_total: total,
            commits: self.commits as usize,
            open_blockers: self
                .blockers
                .values()
                .filter(|b| b.ever_opened && b.opens)
                .count(),
        }
    }
}

/// What `list` shows of a session's progress.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub fraction: f64,
    pub milestones_done: usize,
    pub milestones_total: usize,
    pub commits: usize,
    pub open_blockers: usize,
}

/// Where aggregates by session key are kept while commits are folded in.
pub trait AggregateSink {
    fn aggregate(&mut self, key: &str) -> &mut Aggregate;

    /// Folds in a commit: each session it names gets the unqualified events and the events
    /// qualified with that name.
    fn add_commit(&mut self, at: Moment, links: &Links) {
        let mut keys: Vec<&str> = links.named_sessions().collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            self.aggregate(&normal_key(key))
                .add(at, events_under(links, key));
        }
    }
}

/// The events of a commit that count for the session it names as `key`: the unqualified ones
/// and those qualified with `key`.
pub fn events_under<'a>(links: &'a Links, key: &'a str) -> impl Iterator<Item = &'a Event> {
    links
        .events
        .iter()
        .filter(move |e| e.qualifier().is_none_or(|q| q == key))
}

/// Session ids are compared without regard to case.
pub fn normal_key(key: &str) -> String {
    if key.len() == 36 && uuid::Uuid::try_parse(key).is_ok() {
        key.to_ascii_lowercase()
    } else {
        key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::from_message;

    /// Aggregates by key, as the cache's table keeps them.
    #[derive(Default)]
    struct Keys(std::collections::BTreeMap<String, Aggregate>);

    impl AggregateSink for Keys {
        fn aggregate(&mut self, key: &str) -> &mut Aggregate {
            self.0.entry(key.to_string()).or_default()
        }
    }

    #[test]
    fn a_small_map_keeps_its_keys_sorted_and_unique() {
        let mut m: SmallMap<String, i64> = SmallMap::default();
        for (k, v) in [("m3", 3), ("m1", 1), ("m2", 2), ("m1", 10)] {
            *m.slot(k, || (k.to_string(), 0)) += v;
        }
        m.insert("m0".to_string(), 7);
        m.insert("m2".to_string(), 20);
        let all: Vec<(&str, i64)> = m.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(all, [("m0", 7), ("m1", 11), ("m2", 20), ("m3", 3)]);
        assert_eq!(m.get("m1"), Some(&11));
        assert!(m.contains_key("m3") && !m.contains_key("m4"));
        assert_eq!(m.len(), 4);
        assert_eq!(m.values().sum::<i64>(), 41);
    }
    use crate::progress::{Estimate, derive};
    use crate::trailer::TrailerConfig;

    #[test]
    fn summary_agrees_with_progress() {
        let session = crate::session::parse(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"s\"\n\
             branch = \"session/s\"\nbase = \"main\"\ncreated = 2023-01-01T00:00:00Z\n\
             status = \"active\"\n[[milestones]]\nid = \"a\"\ntasks = [\"x\", \"y\", \"z\"]\n\
             [[milestones]]\nid = \"b\"\n[[milestones]]\nid = \"c\"\n",
            Some("s"),
        )
        .unwrap();
        let messages = [
            "1\n\nSession: s\nTask-Done: a/x\nBlocker: #k one\n",
            "2\n\nSession: s\nMilestone-Done: b\nBlocker-Resolved: #k\nBlocker: #j two\n",
            "3\n\nSession: s\nSession: t\nMilestone-Done: t/c\nTask-Done: a/nope\nEffort: 1h\n",
            "4\n\nSession: 0193A9E4-5C1F-7D2A-9B3E-4F5A6B7C8D9E\nBlocker-Resolved: #ghost\n",
        ];
        let cfg = TrailerConfig::default();
        let mut aggs = Keys::default();
        let mut infos = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let links = from_message(m.as_bytes(), &cfg);
            let id = crate::repo::CommitId([i as u8 + 1; 20]);
            let time = 1_700_000_000 + i as i64 * 60;
            aggs.add_commit(
                Moment {
                    time,
                    author_time: time,
                    rank: -(i as i64),
                },
                &links,
            );
            infos.push(crate::progress::CommitInfo {
                id,
                is_merge: false,
                author_name: "a".into(),
                author_email: "a@x".into(),
                author_time: time,
                author_offset: 0,
                commit_time: time,
                order: i as u64,
                summary: String::new(),
                links,
            });
        }
        let mut agg = aggs.0["s"].clone();
        agg.merge(&aggs.0[&session.id_string()]);
        let s = agg.summary(&session);
        let now = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
        let p = derive(&session, &infos, Estimate::default(), now);
        assert_eq!(s.fraction, p.fraction);
        assert_eq!(s.milestones_done, p.milestones_done);
        assert_eq!(s.commits, p.commits);
        assert_eq!(s.open_blockers, p.open_blockers().count());
        assert_eq!(s.open_blockers, 1);
        assert_eq!(agg.reported_minutes, p.effort.reported_minutes);
    }
}
