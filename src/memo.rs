//! What post-commit keeps of the last walk it made for a session (`git-session/post-commit`),
//! so that the next commit on the same branch costs that one commit instead of a walk. It is a
//! cache: [`crate::history::session_commits_after_commit`] uses it only when nothing the walk
//! depended on has changed but the new commit, and walks afresh otherwise. A session whose walk
//! was longer than post-commit's budget is kept as such, with no commits, so that the next
//! commit asks the cache without spending the budget first; once the cache has answered, the
//! memo carries that session's aggregate from commit to commit, so that the next ones need
//! neither the cache nor a walk.

use std::path::{Path, PathBuf};

use crate::aggregate::Aggregate;
use crate::codec::{self, Dec, Enc};
use crate::config::Config;
use crate::links::{Event, Links};
use crate::progress::CommitInfo;
use crate::repo::{CommitId, Repo};
use crate::session::Session;

const MAGIC: &[u8; 8] = b"GSMEMO\0\0";
/// Bumped whenever what a walk finds, how it orders it, or the layout changes.
const VERSION: u32 = 6;

/// One session's walk: what it was for, the refs it started from, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo {
    key: MemoKey,
    /// The refs the walk started from, sorted by name.
    pub(crate) refs: Vec<(String, CommitId)>,
    /// The tips the walk started from, with their committer times.
    pub(crate) starts: Vec<(i64, CommitId)>,
    /// Every commit the walk met, sorted.
    seen: Vec<CommitId>,
    pub visited: usize,
    /// What the walk said it left out.
    pub notes: Vec<String>,
    /// The session's commits the walk found, as it ranked them.
    pub commits: Vec<CommitInfo>,
    /// For a session longer than the budget: its aggregate at `refs`, as the cache gives it.
    pub carried: Option<Carried>,
}

/// A long session's aggregate as the cache has it at a memo's refs, carried by the hooks past
/// each commit they see made (see [`crate::history::carry_past`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub aggregate: Aggregate,
    /// Whether history names the session by its name, and by its id: a commit naming it by
    /// the other one makes the cache count it commit by commit.
    pub by_name: bool,
    pub by_id: bool,
    /// As [`crate::cache::Cache::newest`] and `newest_ids`, at `refs`: a commit HEAD moved to
    /// since is new to history, and not one another ref reached already, when it is later, or
    /// of that second and not listed.
    pub newest: i64,
    pub newest_ids: Option<Vec<CommitId>>,
}

/// Everything of the session, the policy and the repository, but its refs, that decides which
/// commits the walk keeps and how it reads them.
/// Built once per post-commit, to check the old memo and to key the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoKey {
    tool: String,
    name: String,
    id: String,
    created: i64,
    branch: String,
    base: String,
    clock_skew: i64,
    /// How trailers are read (`trailer.*`, `core.commentChar`).
    trailers: String,
    /// The edges of a shallow clone, which walks treat as having no parents.
    shallow: Vec<CommitId>,
    /// The remotes, where a branch that is not local is looked for.
    remotes: Vec<String>,
}

impl MemoKey {
    pub fn of(repo: &Repo, session: &Session, config: &Config) -> MemoKey {
        MemoKey {
            tool: env!("CARGO_PKG_VERSION").to_string(),
            name: session.name.to_string(),
            id: session.id_string(),
            created: session.created.timestamp(),
            branch: session.branch.clone(),
            base: session.base.clone(),
            clock_skew: config.clock_skew_secs,
            trailers: format!("{:?}", repo.trailer_config()),
            shallow: repo.shallow_edges(),
            remotes: repo.remote_names(),
        }
    }

    fn encode(&self, e: &mut Enc) {
        for text in [&self.tool, &self.name, &self.id, &self.branch, &self.base] {
            e.str(text);
        }
        e.i64(self.created);
        e.i64(self.clock_skew);
        e.str(&self.trailers);
        e.ids(&self.shallow);
        e.strs(self.remotes.iter().map(String::as_str));
    }

    fn decode(d: &mut Dec) -> Option<MemoKey> {
        let [tool, name, id, branch, base] = [d.str()?, d.str()?, d.str()?, d.str()?, d.str()?];
        Some(MemoKey {
            tool,
            name,
            id,
            branch,
            base,
            created: d.i64()?,
            clock_skew: d.i64()?,
            trailers: d.str()?,
            shallow: d.ids()?,
            remotes: d.strs()?,
        })
    }
}

impl Memo {
    /// The memo of a walk for `session`: the refs it started from, and what it found.
    pub fn new(
        key: MemoKey,
        refs: &[(String, CommitId)],
        walk: &crate::history::Coverage,
        seen: &[CommitId],
        commits: Vec<CommitInfo>,
    ) -> Memo {
        let mut seen = seen.to_vec();
        seen.sort_unstable();
        Memo {
            key,
            refs: refs.to_vec(),
            starts: walk.starts.clone(),
            seen,
            visited: walk.visited,
            notes: walk.notes.clone(),
            commits,
            carried: None,
        }
    }

    /// A memo that says only that the session's walk, from `refs`, reached `budget` commits.
    pub fn long(key: MemoKey, refs: &[(String, CommitId)], budget: usize) -> Memo {
        Memo {
            key,
            refs: refs.to_vec(),
            starts: Vec::new(),
            seen: Vec::new(),
            visited: budget,
            notes: Vec::new(),
            commits: Vec::new(),
            carried: None,
        }
    }

    /// Whether the memo is of a walk for this session under this policy in this repository.
    pub fn is_for(&self, key: &MemoKey) -> bool {
        self.key == *key
    }

    /// Whether the walk met `id`.
    pub fn met(&self, id: CommitId) -> bool {
        self.seen.binary_search(&id).is_ok()
    }

    /// Every commit the walk met, sorted.
    pub fn seen(&self) -> &[CommitId] {
        &self.seen
    }

    pub fn session(&self) -> &str {
        &self.key.name
    }

    fn encode(&self, e: &mut Enc) {
        self.key.encode(e);
        e.u64(self.refs.len() as u64);
        for (name, id) in &self.refs {
            e.str(name);
            e.id(id);
        }
        e.u64(self.starts.len() as u64);
        for (time, id) in &self.starts {
            e.i64(*time);
            e.id(id);
        }
        e.ids(&self.seen);
        e.u64(self.visited as u64);
        e.strs(self.notes.iter().map(String::as_str));
        e.u64(self.commits.len() as u64);
        for c in &self.commits {
            encode_commit(e, c);
        }
        match &self.carried {
            None => e.u8(0),
            Some(c) => {
                e.u8(1 | (u8::from(c.by_name) << 1) | (u8::from(c.by_id) << 2));
                crate::cache::encode_aggregate(e, &c.aggregate);
                e.i64(c.newest);
                e.opt_ids(c.newest_ids.as_deref());
            }
        }
    }

    fn decode(d: &mut Dec) -> Option<Memo> {
        let key = MemoKey::decode(d)?;
        let refs = (0..d.count()?)
            .map(|_| Some((d.str()?, d.id()?)))
            .collect::<Option<_>>()?;
        let starts = (0..d.count()?)
            .map(|_| Some((d.i64()?, d.id()?)))
            .collect::<Option<_>>()?;
        let seen: Vec<CommitId> = d.ids()?;
        if !seen.windows(2).all(|w| w[0] < w[1]) {
            return None;
        }
        Some(Memo {
            key,
            refs,
            starts,
            seen,
            visited: usize::try_from(d.u64()?).ok()?,
            notes: d.strs()?,
            commits: (0..d.count()?)
                .map(|_| decode_commit(d))
                .collect::<Option<_>>()?,
            carried: match d.u8()? {
                0 => None,
                flags if flags & 1 == 1 && flags < 8 => Some(Carried {
                    by_name: flags & 2 != 0,
                    by_id: flags & 4 != 0,
                    aggregate: crate::cache::decode_aggregate(d)?,
                    newest: d.i64()?,
                    newest_ids: d.opt_ids()?,
                }),
                _ => return None,
            },
        })
    }
}

fn encode_commit(e: &mut Enc, c: &CommitInfo) {
    e.id(&c.id);
    e.u8(u8::from(c.is_merge));
    e.str(&c.author_name);
    e.str(&c.author_email);
    e.i64(c.author_time);
    e.i64(i64::from(c.author_offset));
    e.i64(c.commit_time);
    e.u64(c.order);
    e.str(&c.summary);
    let links = &c.links;
    e.strs(links.sessions.iter().map(String::as_str));
    e.u64(links.events.len() as u64);
    for event in &links.events {
        encode_event(e, event);
    }
    e.strs(links.problems.iter().map(String::as_str));
}

fn decode_commit(d: &mut Dec) -> Option<CommitInfo> {
    Some(CommitInfo {
        id: d.id()?,
        is_merge: d.u8()? != 0,
        author_name: d.str()?,
        author_email: d.str()?,
        author_time: d.i64()?,
        author_offset: i32::try_from(d.i64()?).ok()?,
        commit_time: d.i64()?,
        order: d.u64()?,
        summary: d.str()?,
        links: Links {
            sessions: d.strs()?,
            events: (0..d.count()?)
                .map(|_| decode_event(d))
                .collect::<Option<_>>()?,
            problems: d.strs()?,
        },
    })
}

fn encode_event(e: &mut Enc, event: &Event) {
    match event {
        Event::Milestone { session, milestone } => {
            e.u8(0);
            e.opt_str(session.as_deref());
            e.str(milestone);
        }
        Event::MilestoneDone { session, milestone } => {
            e.u8(1);
            e.opt_str(session.as_deref());
            e.str(milestone);
        }
        Event::TaskDone {
            session,
            milestone,
            task,
        } => {
            e.u8(2);
            e.opt_str(session.as_deref());
            e.str(milestone);
            e.str(task);
        }
        Event::Effort { minutes } => {
            e.u8(3);
            e.u64(*minutes);
        }
        Event::Blocker { tag, text } => {
            e.u8(4);
            e.str(tag);
            e.str(text);
        }
        Event::BlockerResolved { tag } => {
            e.u8(5);
            e.str(tag);
        }
    }
}

fn decode_event(d: &mut Dec) -> Option<Event> {
    Some(match d.u8()? {
        0 => Event::Milestone {
            session: d.opt_str()?,
            milestone: d.str()?,
        },
        1 => Event::MilestoneDone {
            session: d.opt_str()?,
            milestone: d.str()?,
        },
        2 => Event::TaskDone {
            session: d.opt_str()?,
            milestone: d.str()?,
            task: d.str()?,
        },
        3 => Event::Effort { minutes: d.u64()? },
        4 => Event::Blocker {
            tag: d.str()?,
            text: d.str()?,
        },
        5 => Event::BlockerResolved { tag: d.str()? },
        _ => return None,
    })
}

/// The file in the git directory that holds the memos of the sessions post-commit last printed.
pub struct MemoFile {
    path: PathBuf,
}

impl MemoFile {
    pub fn new(state_dir: &Path) -> MemoFile {
        MemoFile {
            path: state_dir.join("post-commit"),
        }
    }

    /// The memos, or none when the file is missing, from another version or damaged.
    pub fn load(&self) -> Vec<Memo> {
        codec::read_framed(&self.path, MAGIC, VERSION)
            .and_then(|body| decode_all(&body))
            .unwrap_or_default()
    }

    /// Replaces the file (temp file + rename; not synced: a lost memo costs one walk).
    pub fn save(&self, memos: &[Memo]) -> std::io::Result<()> {
        let mut e = Enc::default();
        e.u64(memos.len() as u64);
        for m in memos {
            m.encode(&mut e);
        }
        codec::write_framed(&self.path, MAGIC, VERSION, &e.into_bytes())
    }
}

fn decode_all(body: &[u8]) -> Option<Vec<Memo>> {
    let mut d = Dec::new(body);
    let memos = (0..d.count()?)
        .map(|_| Memo::decode(&mut d))
        .collect::<Option<_>>()?;
    d.is_done().then_some(memos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Memo {
        let message = "x\n\nSession: s\nMilestone: a\nMilestone-Done: s/a\nTask-Done: a/t\n\
                       Effort: 1h\nBlocker: #k stuck\nBlocker-Resolved: #k\nMilestone: bad id!\n";
        let mut merge = CommitInfo::sample(2, "b@x", 1_700_000_100, "m\n\nSession: s\n");
        merge.is_merge = true;
        merge.author_offset = -330;
        Memo {
            key: MemoKey {
                tool: "0".into(),
                name: "s".into(),
                id: "id".into(),
                created: 1_700_000_000,
                branch: "session/s".into(),
                base: "main".into(),
                clock_skew: 86_400,
                trailers: "cfg".into(),
                shallow: vec![CommitId([9; 20])],
                remotes: vec!["origin".into()],
            },
            refs: vec![("HEAD".into(), CommitId([1; 20]))],
            starts: vec![(1_700_000_000, CommitId([1; 20]))],
            seen: vec![CommitId([1; 20]), CommitId([2; 20])],
            visited: 2,
            notes: vec!["a note".into()],
            commits: vec![CommitInfo::sample(1, "a@x", 1_700_000_000, message), merge],
            carried: None,
        }
    }

    #[test]
    fn memos_read_back_as_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = MemoFile::new(dir.path());
        let mut aggregate = Aggregate::default();
        let links = crate::links::from_message(
            b"x\n\nSession: s\nMilestone-Done: a\nTask-Done: a/t\nEffort: 1h\nBlocker: #k stuck\n",
            &crate::trailer::TrailerConfig::default(),
        );
        let at = crate::aggregate::Moment {
            time: 5,
            author_time: 4,
            rank: 3,
        };
        aggregate.add(at, links.events.iter());
        let memos = vec![
            sample(),
            Memo {
                visited: 7,
                ..sample()
            },
            Memo {
                carried: Some(Carried {
                    aggregate,
                    by_name: false,
                    by_id: true,
                    newest: 9,
                    newest_ids: Some(vec![CommitId([3; 20])]),
                }),
                ..sample()
            },
        ];
        assert!(memos[0].commits[0].links.events.len() >= 6);
        assert!(!memos[0].commits[0].links.problems.is_empty());
        file.save(&memos).expect("saved");
        assert_eq!(file.load(), memos);
    }

    #[test]
    fn a_damaged_or_foreign_memo_file_reads_as_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = MemoFile::new(dir.path());
        file.save(&[sample()]).expect("saved");
        let good = std::fs::read(&file.path).expect("memo file");
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        for bytes in [&good[..good.len() - 1], &flipped[..], b"[]", b""] {
            std::fs::write(&file.path, bytes).expect("write");
            assert!(file.load().is_empty());
        }
    }
}
