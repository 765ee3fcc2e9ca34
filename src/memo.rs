//! What post-commit keeps of the last walk it made for a session (`git-session/post-commit`),
//! so that the next commit on the same branch costs that one commit instead of a walk. It is a
//! cache: [`crate::history::session_commits_after_commit`] uses it only when nothing the walk
//! depended on has changed but the new commit, and walks afresh otherwise.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::links::Links;
use crate::progress::CommitInfo;
use crate::repo::{CommitId, Repo};
use crate::session::Session;

/// Bumped whenever what a walk finds, or how it orders it, changes.
const VERSION: u32 = 3;

/// One session's walk: what it was for, the refs it started from, and what it found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Memo {
    key: Key,
    /// The refs the walk started from, sorted by name: (name, hex id).
    refs: Vec<(String, String)>,
    /// The tips the walk started from: (committer time, hex id).
    starts: Vec<(i64, String)>,
    /// Every commit the walk met, sorted (hex ids).
    seen: Vec<String>,
    pub visited: usize,
    /// What the walk said it left out.
    pub notes: Vec<String>,
    commits: Vec<Kept>,
}

/// Everything of the session, the policy and the repository, but its refs, that decides which
/// commits the walk keeps and how it reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    version: u32,
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
    shallow: Vec<String>,
    /// The remotes, where a branch that is not local is looked for.
    remotes: Vec<String>,
}

impl Key {
    fn of(repo: &Repo, session: &Session, config: &Config) -> Key {
        Key {
            version: VERSION,
            tool: env!("CARGO_PKG_VERSION").to_string(),
            name: session.name.to_string(),
            id: session.id_string(),
            created: session.created.timestamp(),
            branch: session.branch.clone(),
            base: session.base.clone(),
            clock_skew: config.clock_skew_secs,
            trailers: format!("{:?}", repo.trailer_config()),
            shallow: repo.shallow_edges().iter().map(CommitId::hex).collect(),
            remotes: repo.remote_names(),
        }
    }
}

/// A [`CommitInfo`] as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    id: String,
    is_merge: bool,
    author_name: String,
    author_email: String,
    author_time: i64,
    author_offset: i32,
    commit_time: i64,
    order: u64,
    summary: String,
    links: Links,
}

impl Memo {
    /// The memo of a walk for `session`: the refs it started from, and what it found.
    pub fn new(
        repo: &Repo,
        session: &Session,
        config: &Config,
        refs: &[(String, CommitId)],
        walk: &crate::history::Coverage,
        seen: &[CommitId],
        commits: &[CommitInfo],
    ) -> Memo {
        let mut seen: Vec<String> = seen.iter().map(CommitId::hex).collect();
        seen.sort_unstable();
        Memo {
            key: Key::of(repo, session, config),
            refs: refs.iter().map(|(n, id)| (n.clone(), id.hex())).collect(),
            starts: walk.starts.iter().map(|(t, id)| (*t, id.hex())).collect(),
            seen,
            visited: walk.visited,
            notes: walk.notes.clone(),
            commits: commits
                .iter()
                .map(|c| Kept {
                    id: c.id.hex(),
                    is_merge: c.is_merge,
                    author_name: c.author_name.clone(),
                    author_email: c.author_email.clone(),
                    author_time: c.author_time,
                    author_offset: c.author_offset,
                    commit_time: c.commit_time,
                    order: c.order,
                    summary: c.summary.clone(),
                    links: c.links.clone(),
                })
                .collect(),
        }
    }

    /// Whether the memo is of a walk for this session under this policy in this repository.
    pub fn is_for(&self, repo: &Repo, session: &Session, config: &Config) -> bool {
        self.key == Key::of(repo, session, config)
    }

    /// Whether the walk met `id`.
    pub fn met(&self, id: CommitId) -> bool {
        self.seen.binary_search(&id.hex()).is_ok()
    }

    /// Every commit the walk met; `None` when the memo is damaged.
    pub fn seen(&self) -> Option<Vec<CommitId>> {
        self.seen.iter().map(|h| CommitId::from_hex(h)).collect()
    }

    pub fn session(&self) -> &str {
        &self.key.name
    }

    /// The refs the walk started from; `None` when the memo is damaged.
    pub fn refs(&self) -> Option<Vec<(String, CommitId)>> {
        self.refs
            .iter()
            .map(|(n, hex)| Some((n.clone(), CommitId::from_hex(hex)?)))
            .collect()
    }

    /// The tips the walk started from, with their committer times; `None` when damaged.
    pub fn starts(&self) -> Option<Vec<(i64, CommitId)>> {
        self.starts
            .iter()
            .map(|(t, hex)| Some((*t, CommitId::from_hex(hex)?)))
            .collect()
    }

    /// The commits the walk found; `None` when the memo is damaged.
    pub fn commits(&self) -> Option<Vec<CommitInfo>> {
        self.commits
            .iter()
            .map(|k| {
                Some(CommitInfo {
                    id: CommitId::from_hex(&k.id)?,
                    is_merge: k.is_merge,
                    author_name: k.author_name.clone(),
                    author_email: k.author_email.clone(),
                    author_time: k.author_time,
                    author_offset: k.author_offset,
                    commit_time: k.commit_time,
                    order: k.order,
                    summary: k.summary.clone(),
                    links: k.links.clone(),
                })
            })
            .collect()
    }
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

    /// The memos, or none when the file is missing or does not parse.
    pub fn load(&self) -> Vec<Memo> {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Replaces the file (temp file + rename; not synced: a lost memo costs one walk).
    pub fn save(&self, memos: &[Memo]) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(memos).map_err(std::io::Error::other)?;
        crate::cache::write_replacing(&self.path, &mut |out| out.write_all(&bytes))
    }
}
