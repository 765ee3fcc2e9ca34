//! Which commits belong to which sessions (SPEC §4), found by walking history once.
//!
//! A commit belongs to session S when
//! - it names S (a `Session` trailer with S's name or id, or a value qualified `S/…`) and was
//!   committed no earlier than S's `created` minus the configured clock skew, or
//! - it names no session at all, is on S's branch and is not reachable from S's base.
//!
//! The time rule is what lets `status` of a recent session read only recent history: a commit
//! cannot carry a session's trailer before the session exists, and the allowance covers clocks
//! that disagree. Rebased and cherry-picked commits get a new committer date, so they count.

use std::collections::HashMap;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::links::{self, Links};
use crate::progress::{CommitInfo, Tally};
use crate::repo::{Commit, CommitId, Repo};
use crate::session::Session;

/// Receives the commits a walk finds.
pub trait Sink {
    /// `commit` carries trailers of ours or lies on a session branch; `members` are the indices
    /// (into the walked sessions) of the sessions it belongs to, possibly none.
    fn commit(&mut self, commit: &CommitInfo, members: &[usize]);
}

/// What a walk could not see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Commits visited by the history walk.
    pub visited: usize,
    /// Edges of a shallow clone the walk needed to go past.
    pub truncated_at: Vec<CommitId>,
    /// Sentences about what was left out (a base branch that does not exist, …).
    pub notes: Vec<String>,
}

impl Coverage {
    /// An error (exit 3) when the answer would rest on missing history.
    pub fn require_complete(&self) -> Result<()> {
        match self.truncated_at.first() {
            None => Ok(()),
            Some(edge) => Err(Error::unanswerable(format!(
                "this is a shallow clone and the history the answer needs goes past commit {}; fetch the full history (git fetch --unshallow, or fetch-depth: 0 in CI)",
                edge.short()
            ))),
        }
    }
}

/// The sessions a walk looks for, indexed by name and id.
struct Scope<'a> {
    sessions: &'a [Session],
    by_key: HashMap<String, usize>,
    since: Vec<i64>,
}

impl<'a> Scope<'a> {
    fn new(sessions: &'a [Session], skew: i64) -> Scope<'a> {
        let mut by_key = HashMap::new();
        for (i, s) in sessions.iter().enumerate() {
            by_key.insert(s.name.to_string(), i);
            by_key.insert(s.id_string(), i);
        }
        let since = sessions
            .iter()
            .map(|s| s.created.timestamp() - skew)
            .collect();
        Scope {
            sessions,
            by_key,
            since,
        }
    }

    /// Indices of the sessions `links` names that the commit time allows.
    fn members(&self, links: &Links, commit_time: i64, out: &mut Vec<usize>) {
        out.clear();
        for named in links.named_sessions() {
            let key = if named.len() == 36 {
                named.to_ascii_lowercase()
            } else {
                named.to_string()
            };
            if let Some(&i) = self.by_key.get(&key)
                && commit_time >= self.since[i]
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
    }
}

/// The record kept of a commit.
pub fn commit_info(c: &Commit, links: Links) -> CommitInfo {
    CommitInfo {
        id: c.id,
        is_merge: c.parents.len() > 1,
        author_name: String::from_utf8_lossy(c.author.name).into_owned(),
        author_email: String::from_utf8_lossy(c.author.email).into_owned(),
        author_time: c.author.time,
        author_offset: c.author.offset,
        commit_time: c.committer.time,
        summary: c.summary(),
        links,
    }
}

/// Walks history once for `sessions`, handing every relevant commit to `sink`. With `bounded`,
/// the walk stops at the oldest session's `created` minus the clock skew; otherwise it reads all
/// of history (to find trailers naming sessions that have no file, for `validate`).
pub fn walk(
    repo: &Repo,
    sessions: &[Session],
    config: &Config,
    bounded: bool,
    sink: &mut dyn Sink,
) -> Result<Coverage> {
    let scope = Scope::new(sessions, config.clock_skew_secs);
    let mut coverage = Coverage::default();
    let tips = repo.tips()?;
    let since = if bounded {
        match scope.since.iter().min() {
            Some(&s) => Some(s),
            None => return Ok(coverage),
        }
    } else {
        None
    };
    let cfg = repo.trailer_config();
    let mut members = Vec::new();
    let stats = repo.walk(&tips, since, &mut |c| {
        let links = links::from_message(&c.message, cfg);
        if links.is_empty() {
            return Ok(());
        }
        scope.members(&links, c.committer.time, &mut members);
        sink.commit(&commit_info(c, links), &members);
        Ok(())
    })?;
    coverage.visited = stats.visited;
    coverage.truncated_at = stats.truncated_at;
    branch_commits(repo, &scope, sink, &mut coverage)?;
    Ok(coverage)
}

/// The commits on each session's branch that are not on its base and name no session.
fn branch_commits(
    repo: &Repo,
    scope: &Scope,
    sink: &mut dyn Sink,
    coverage: &mut Coverage,
) -> Result<()> {
    let mut groups: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, s) in scope.sessions.iter().enumerate() {
        if s.branch != s.base {
            groups
                .entry((s.branch.as_str(), s.base.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort();
    let cfg = repo.trailer_config();
    for ((branch, base), members) in groups {
        let Some(tip) = repo.branch_commit(branch) else {
            continue;
        };
        let Some(base_tip) = repo.branch_commit(base) else {
            coverage.notes.push(format!(
                "base branch '{base}' of branch '{branch}' does not exist here, so only commits with Session trailers count"
            ));
            continue;
        };
        let (ids, truncated) = repo.range(tip, &[base_tip])?;
        if truncated {
            coverage.truncated_at.push(tip);
        }
        for id in ids {
            repo.with_commit(id, |c| {
                let links = links::from_message(&c.message, cfg);
                if links.named_sessions().next().is_none() {
                    sink.commit(&commit_info(c, links), &members);
                }
            })?;
        }
    }
    Ok(())
}

/// Collects each session's commits, newest first.
pub struct Collector {
    pub commits: Vec<Vec<CommitInfo>>,
}

impl Collector {
    pub fn new(sessions: usize) -> Collector {
        Collector {
            commits: vec![Vec::new(); sessions],
        }
    }

    /// Sorts every session's commits newest first (committer date, then id).
    pub fn finish(mut self) -> Vec<Vec<CommitInfo>> {
        for list in &mut self.commits {
            list.sort_by_key(|c| std::cmp::Reverse((c.commit_time, c.id)));
            list.dedup_by_key(|c| c.id);
        }
        self.commits
    }
}

impl Sink for Collector {
    fn commit(&mut self, commit: &CommitInfo, members: &[usize]) {
        for &m in members {
            self.commits[m].push(commit.clone());
        }
    }
}

/// Folds each session's commits into a tally as they come, for reports over many sessions.
pub struct Tallies<'a> {
    sessions: &'a [Session],
    pub tallies: Vec<Tally>,
}

impl<'a> Tallies<'a> {
    pub fn new(sessions: &'a [Session]) -> Tallies<'a> {
        Tallies {
            sessions,
            tallies: sessions.iter().map(Tally::new).collect(),
        }
    }
}

impl Sink for Tallies<'_> {
    fn commit(&mut self, commit: &CommitInfo, members: &[usize]) {
        for &m in members {
            self.tallies[m].add(&self.sessions[m], commit);
        }
    }
}

/// The commits of one session, newest first, and what the walk could not see.
pub fn session_commits(
    repo: &Repo,
    session: &Session,
    config: &Config,
) -> Result<(Vec<CommitInfo>, Coverage)> {
    let sessions = std::slice::from_ref(session);
    let mut collector = Collector::new(1);
    let coverage = walk(repo, sessions, config, true, &mut collector)?;
    let commits = collector.finish().pop().unwrap_or_default();
    Ok((commits, coverage))
}

/// The session's non-merge commits that lack any of the `required` trailer keys.
pub fn missing_trailers(
    repo: &Repo,
    commits: &[CommitInfo],
    required: &[String],
) -> Result<Vec<crate::criteria::MissingTrailers>> {
    let mut out = Vec::new();
    if required.is_empty() {
        return Ok(out);
    }
    let cfg = repo.trailer_config();
    for c in commits.iter().filter(|c| !c.is_merge) {
        let missing = repo.with_commit(c.id, |commit| {
            let trailers = crate::trailer::parse_history(&commit.message, cfg);
            required
                .iter()
                .filter(|k| !trailers.iter().any(|t| t.is(k)))
                .cloned()
                .collect::<Vec<_>>()
        })?;
        if !missing.is_empty() {
            out.push(crate::criteria::MissingTrailers {
                commit: c.id,
                missing,
            });
        }
    }
    Ok(out)
}
