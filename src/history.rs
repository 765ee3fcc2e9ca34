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

use crate::aggregate::{Aggregate, AggregateSink, Moment, Summary};
use crate::cache::FreshAggregates;
use crate::cache::{BranchEntry, Cache, CacheFile, Table};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::links::{self, Links};
use crate::memo::{Carried, Memo, MemoKey};
use crate::progress::{CommitInfo, Tally};
use crate::repo::{Commit, CommitId, IdSet, OLD_SLOP, Repo};
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
    /// The latest committer time among the commits visited.
    pub newest: i64,
    /// Sentences about what was left out (a base branch that does not exist, …).
    pub notes: Vec<String>,
    /// The tips the history walk started from, with their committer times.
    pub starts: Vec<(i64, CommitId)>,
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

/// The sessions a walk looks for, indexed by name and id. A key may stand for several: two
/// session files can carry the same id (a copied file), and each counts what names it, as each
/// walked alone would.
struct Scope<'a> {
    sessions: &'a [Session],
    by_key: HashMap<String, Vec<usize>>,
    since: Vec<i64>,
}

impl<'a> Scope<'a> {
    fn new(sessions: &'a [Session], skew: i64) -> Scope<'a> {
        let by_key = session_keys(sessions);
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

    /// Indices of the sessions `links` names that the commit time allows, among those whose
    /// bound is at most `reach` (see [`Reach`]).
    fn members(&self, links: &Links, commit_time: i64, reach: i64, out: &mut Vec<usize>) {
        out.clear();
        for named in links.named_sessions() {
            let key = if named.len() == 36 {
                named.to_ascii_lowercase()
            } else {
                named.to_string()
            };
            for &i in self.by_key.get(&key).into_iter().flatten() {
                if commit_time >= self.since[i] && self.since[i] <= reach && !out.contains(&i) {
                    out.push(i);
                }
            }
        }
    }
}

/// Each name and id (as trailers write them) of `sessions`, with the indices of the sessions
/// it stands for: two files can carry the same id (a copied file), and each counts.
pub fn session_keys(sessions: &[Session]) -> HashMap<String, Vec<usize>> {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in sessions.iter().enumerate() {
        for key in [s.name.to_string(), s.id_string()] {
            let list = by_key.entry(key).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    by_key
}

/// How far each session's own walk would have gone, in a walk for several: the walk goes as
/// far as the oldest session's bound, but a walk ends after `OLD_SLOP` + 1 commits in a row
/// older than its bound, so a session counts only commits met before that happened for its
/// own bound, and several sessions walked at once count what each walked alone counts.
struct Reach {
    /// Committer times of the last `OLD_SLOP` + 1 commits met.
    recent: std::collections::VecDeque<i64>,
    /// Sessions whose bound is above this have seen their walk end.
    at: i64,
}

impl Default for Reach {
    fn default() -> Reach {
        Reach {
            recent: std::collections::VecDeque::with_capacity(OLD_SLOP + 1),
            at: i64::MAX,
        }
    }
}

impl Reach {
    fn met(&mut self, time: i64) {
        if self.recent.len() > OLD_SLOP {
            self.recent.pop_front();
        }
        self.recent.push_back(time);
        if self.recent.len() > OLD_SLOP
            && let Some(&newest) = self.recent.iter().max()
        {
            self.at = self.at.min(newest);
        }
    }
}

/// The record kept of a commit; `order` is where the walk met it (lower is newer).
pub fn commit_info(c: &Commit, links: Links, order: u64) -> CommitInfo {
    CommitInfo {
        id: c.id,
        is_merge: c.parents.len() > 1,
        author_name: String::from_utf8_lossy(c.author.name).into_owned(),
        author_email: String::from_utf8_lossy(c.author.email).into_owned(),
        author_time: c.author.time,
        author_offset: c.author.offset,
        commit_time: c.committer.time,
        order,
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
    walk_from(repo, &repo.tips()?, sessions, config, bounded, sink)
}

/// As [`walk`], but only through history reachable from `tips`.
pub fn walk_from(
    repo: &Repo,
    tips: &[CommitId],
    sessions: &[Session],
    config: &Config,
    bounded: bool,
    sink: &mut dyn Sink,
) -> Result<Coverage> {
    walk_within(
        repo,
        tips,
        sessions,
        config,
        bounded,
        usize::MAX,
        &|_| None,
        sink,
    )
    .map(|c| c.expect("an unlimited walk ends").0)
}

/// As [`walk_from`], reading at most `budget` commits: `None` when that was not enough. With
/// the coverage, every commit the history walk met. `dated` knows some tips' dates
/// ([`Repo::walk_dated`]).
#[allow(clippy::too_many_arguments)]
fn walk_within(
    repo: &Repo,
    tips: &[CommitId],
    sessions: &[Session],
    config: &Config,
    bounded: bool,
    budget: usize,
    dated: &dyn Fn(CommitId) -> Option<i64>,
    sink: &mut dyn Sink,
) -> Result<Option<(Coverage, Vec<CommitId>)>> {
    let scope = Scope::new(sessions, config.clock_skew_secs);
    let mut coverage = Coverage::default();
    let since = if bounded {
        match scope.since.iter().min() {
            Some(&s) => Some(s),
            None => return Ok(Some((coverage, Vec::new()))),
        }
    } else {
        None
    };
    let cfg = repo.trailer_config();
    let mut members = Vec::new();
    let mut order = 0u64;
    let mut exhausted = false;
    let mut reach = Reach::default();
    let walked = repo.walk_dated(tips, dated, since, &mut |c| {
        order += 1;
        // One session's walk ends where its bound says: nothing to emulate.
        if bounded && sessions.len() > 1 {
            reach.met(c.committer.time);
        }
        if order as usize > budget {
            exhausted = true;
            return Err(Error::unanswerable("the walk's budget is spent"));
        }
        let links = links::from_message(&c.message, cfg);
        if links.is_empty() {
            return Ok(());
        }
        scope.members(&links, c.committer.time, reach.at, &mut members);
        sink.commit(&commit_info(c, links, order), &members);
        Ok(())
    });
    if exhausted {
        return Ok(None);
    }
    let stats = walked?;
    coverage.visited = stats.visited;
    coverage.truncated_at = stats.truncated_at;
    coverage.starts = stats.starts;
    branch_commits(repo, &scope, sink, &mut coverage)?;
    Ok(Some((coverage, stats.seen)))
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
    for ((branch, base), members) in groups {
        let Some((tip, base_tip)) = branch_tips(repo, branch, base, coverage) else {
            continue;
        };
        unnamed_branch_commits(repo, tip, base_tip, coverage, &mut |c, links, order| {
            sink.commit(&commit_info(c, links, order), &members)
        })?;
    }
    Ok(())
}

/// The tips of a session branch and of its base; a base that does not exist is noted, since
/// then only commits with Session trailers can count.
fn branch_tips(
    repo: &Repo,
    branch: &str,
    base: &str,
    coverage: &mut Coverage,
) -> Option<(CommitId, CommitId)> {
    let tip = repo.branch_commit(branch)?;
    let Some(base_tip) = repo.branch_commit(base) else {
        coverage.notes.push(format!(
            "base branch '{base}' of branch '{branch}' does not exist here, so only commits with Session trailers count"
        ));
        return None;
    };
    Some((tip, base_tip))
}

/// Hands `f` every commit of `tip ^base_tip` that names no session, with its links and its
/// place in the range (newest first).
fn unnamed_branch_commits(
    repo: &Repo,
    tip: CommitId,
    base_tip: CommitId,
    coverage: &mut Coverage,
    f: &mut dyn FnMut(&Commit, Links, u64),
) -> Result<()> {
    let (ids, truncated) = repo.range(tip, &[base_tip])?;
    if truncated {
        coverage.truncated_at.push(tip);
    }
    let cfg = repo.trailer_config();
    let mut order = 0;
    repo.each_commit(&ids, &mut |c| {
        let links = links::from_message(&c.message, cfg);
        if links.named_sessions().next().is_none() {
            f(c, links, order);
        }
        order += 1;
        Ok(())
    })
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
            newest_first(list);
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

/// Sorts a session's commits newest first, as history orders events (see
/// aggregate::Moment), and drops repeats.
fn newest_first(list: &mut Vec<CommitInfo>) {
    list.sort_by(|a, b| {
        (b.commit_time, b.author_time)
            .cmp(&(a.commit_time, a.author_time))
            .then(a.order.cmp(&b.order))
    });
    list.dedup_by_key(|c| c.id);
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
    session_commits_from(repo, &repo.tips()?, session, config)
}

/// As [`session_commits`], but only through history reachable from `tips` (the CI gate judges
/// what HEAD holds, not what other branches do).
pub fn session_commits_from(
    repo: &Repo,
    tips: &[CommitId],
    session: &Session,
    config: &Config,
) -> Result<(Vec<CommitInfo>, Coverage)> {
    let sessions = std::slice::from_ref(session);
    let mut collector = Collector::new(1);
    let coverage = walk_from(repo, tips, sessions, config, true, &mut collector)?;
    let commits = collector.finish().pop().unwrap_or_default();
    Ok((commits, coverage))
}

/// What [`session_commits_after_commit`] found.
pub struct AfterCommit {
    /// The session's commits, when no memo holds them (see [`AfterCommit::commits`]).
    commits: Vec<CommitInfo>,
    pub coverage: Coverage,
    /// The memo of this answer; none for an answer from truncated history.
    pub memo: Option<Memo>,
    /// Whether the answer is the memo's plus HEAD, without a walk.
    pub stepped: bool,
}

/// What [`session_commits_after_commit`] learns of a session.
pub enum Recent {
    /// The session's commits, found within the budget.
    Found(AfterCommit),
    /// Its walk is longer than the budget, so the cache must answer. The memo says so to the
    /// next commit, which then does not spend the budget again before asking the cache;
    /// `walked` tells whether this answer spent it.
    Long { memo: Memo, walked: bool },
}

impl Recent {
    pub fn found(self) -> Option<AfterCommit> {
        match self {
            Recent::Found(answer) => Some(answer),
            Recent::Long { .. } => None,
        }
    }
}

/// As [`session_commits`], for post-commit: reading at most `budget` commits, and with `memo`
/// of the walk it made for the previous commit: when HEAD is a new commit on its branch, child
/// of the memo's HEAD, and no other ref moved, the walk would meet HEAD first and then exactly
/// what it met before, so HEAD is added to the memo's commits instead. The memo of this answer
/// comes with it. A session found longer than the budget is taken to stay so while history
/// only grows (HEAD moved a few commits down its line, no other ref moved): then the cache
/// answers, as it does for `list`, without the budget being spent again. `refs` is
/// [`Repo::ref_snapshot`], taken once for all the sessions of the commit.
pub fn session_commits_after_commit(
    repo: &Repo,
    session: &Session,
    config: &Config,
    budget: usize,
    memo: Option<&Memo>,
    refs: &[(String, CommitId)],
) -> Result<Recent> {
    let key = MemoKey::of(repo, session, config);
    let memo = memo.filter(|m| m.is_for(&key));
    // A memo stepped up to the budget says so as well as one found long; only the verdict is
    // kept, not the commits.
    if let Some(m) = memo
        && m.visited >= budget
    {
        // Carried past them, the commits made since are known to be HEAD's line: still long.
        let carried = carry(repo, session, config, m, refs);
        if carried.is_some() || still_long(repo, m, refs) {
            let mut memo = Memo::long(key, refs, budget);
            memo.carried = carried;
            return Ok(Recent::Long {
                memo,
                walked: false,
            });
        }
    }
    // Nothing moved since the memo's walk (a commit that failed after prepare-commit-msg
    // worked it out, say): a walk would meet what that one met.
    if let Some(m) = memo
        && m.visited < budget
        && m.refs[..] == *refs
    {
        let coverage = Coverage {
            visited: m.visited,
            starts: m.starts.clone(),
            notes: m.notes.clone(),
            ..Coverage::default()
        };
        return Ok(Recent::Found(AfterCommit {
            commits: Vec::new(),
            coverage,
            memo: Some(m.clone()),
            stepped: true,
        }));
    }
    let starts = Starts::of(memo);
    if let Some(m) = memo
        && let Some(answer) = advance(repo, session, config, budget, m, &starts, &key, refs)?
    {
        return Ok(Recent::Found(answer));
    }
    let sessions = std::slice::from_ref(session);
    let mut collector = Collector::new(1);
    // The memo's walk started from the refs that did not move since: they are commits, of
    // dates it learnt. With thousands of branches, reading each was most of the walk.
    let dated = |id: CommitId| starts.date(id);
    let tips = repo.tips_of(refs, |c| dated(c).is_some());
    let Some((coverage, seen)) = walk_within(
        repo,
        &tips,
        sessions,
        config,
        true,
        budget,
        &dated,
        &mut collector,
    )?
    else {
        return Ok(Recent::Long {
            memo: Memo::long(key, refs, budget),
            walked: true,
        });
    };
    let commits = collector.finish().pop().unwrap_or_default();
    Ok(Recent::Found(AfterCommit::with_memo(
        key, refs, commits, coverage, &seen, false,
    )))
}

impl AfterCommit {
    fn with_memo(
        key: MemoKey,
        refs: &[(String, CommitId)],
        commits: Vec<CommitInfo>,
        coverage: Coverage,
        seen: &[CommitId],
        stepped: bool,
    ) -> AfterCommit {
        // An answer from truncated history is none: nothing to build on. The commits are
        // kept once, in the memo when there is one: a hook's answer is copied no more.
        if !coverage.truncated_at.is_empty() {
            return AfterCommit {
                commits,
                coverage,
                memo: None,
                stepped,
            };
        }
        let memo = Memo::new(key, refs, &coverage, seen, commits);
        AfterCommit {
            commits: Vec::new(),
            coverage,
            memo: Some(memo),
            stepped,
        }
    }

    /// The session's commits, as the walk ranked them.
    pub fn commits(&self) -> &[CommitInfo] {
        match &self.memo {
            Some(m) => &m.commits,
            None => &self.commits,
        }
    }
}

/// HEAD's branch, where HEAD was in `old_refs` and where it is in `refs`, when nothing else
/// moved in between: the same refs, each where it was, but HEAD and its branch.
fn head_moved_alone(
    repo: &Repo,
    old_refs: &[(String, CommitId)],
    refs: &[(String, CommitId)],
) -> Option<(String, CommitId, CommitId)> {
    let Ok(crate::repo::Head::Branch(branch)) = repo.head() else {
        return None;
    };
    let branch_ref = format!("refs/heads/{branch}");
    let moved = |name: &str| name == "HEAD" || name == branch_ref;
    let target = |list: &[(String, CommitId)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    };
    let (was, is) = (target(old_refs, "HEAD")?, target(refs, "HEAD")?);
    let same_others = old_refs.len() == refs.len()
        && old_refs
            .iter()
            .zip(refs)
            .all(|((a, x), (b, y))| a == b && (moved(a) || x == y));
    (same_others
        && target(old_refs, &branch_ref) == Some(was)
        && target(refs, &branch_ref) == Some(is))
    .then_some((branch, was, is))
}

/// Whether a session found longer than the budget when `memo` was kept still is: history only
/// grew since, HEAD having moved to a descendant within a few commits (commits made with or
/// without the hooks, a merge). A deleted branch, a reset or an amend may have shortened it,
/// and so may anything too far to tell cheaply: the session is walked again.
fn still_long(repo: &Repo, memo: &Memo, refs: &[(String, CommitId)]) -> bool {
    const NEAR: usize = 64;
    let Some((_, was, is)) = head_moved_alone(repo, &memo.refs, refs) else {
        return false;
    };
    let mut queue = std::collections::VecDeque::from([is]);
    let mut seen = IdSet::default();
    while let Some(id) = queue.pop_front() {
        if id == was {
            return true;
        }
        if seen.len() == NEAR || !seen.insert(id) {
            continue;
        }
        // A commit that cannot be read (past a shallow clone's edge) leaves it to the walk.
        match repo.with_commit(id, |c| c.parents.clone()) {
            Ok(parents) => queue.extend(parents),
            Err(_) => return false,
        }
    }
    false
}

/// Where the memo's walk started, by id: each tip it read, with its date. Searched, not
/// scanned: with thousands of branches a scan per ref took most of a hook's time.
struct Starts(Vec<(i64, CommitId)>);

impl Starts {
    fn of(memo: Option<&Memo>) -> Starts {
        let mut starts = memo.map(|m| m.starts.clone()).unwrap_or_default();
        starts.sort_unstable_by_key(|(_, id)| *id);
        Starts(starts)
    }

    /// The committer time of `id`, when the walk started from it.
    fn date(&self, id: CommitId) -> Option<i64> {
        let i = self.0.binary_search_by_key(&id, |(_, s)| *s).ok()?;
        Some(self.0[i].0)
    }
}

/// The answer of [`session_commits_after_commit`] from `memo` (one for this session under this
/// policy, whose `starts` these are) and HEAD alone, or `None` when anything else changed since
/// the memo's walk.
#[allow(clippy::too_many_arguments)]
fn advance(
    repo: &Repo,
    session: &Session,
    config: &Config,
    budget: usize,
    memo: &Memo,
    starts: &Starts,
    key: &MemoKey,
    refs: &[(String, CommitId)],
) -> Result<Option<AfterCommit>> {
    // A verdict of a long walk (which holds no commits), or a walk stepped up to the budget:
    // stepping on would count past what a walk may read.
    if memo.visited >= budget {
        return Ok(None);
    }
    let Some((branch, parent, head)) = head_moved_alone(repo, &memo.refs, refs) else {
        return Ok(None);
    };
    // The base's tip hides what the branch rule counts: a commit on it is no simple step.
    if session.branch != session.base && session.base == branch {
        return Ok(None);
    }
    let branch_ref = format!("refs/heads/{branch}");
    let moved = |name: &str| name == "HEAD" || name == branch_ref;
    // The new walk starts from HEAD and the refs that did not move. Each of those must be one
    // the old walk started from (a ref to a tag would hide which commit it starts from).
    let mut others = Vec::new();
    for (_, id) in refs.iter().filter(|(n, _)| !moved(n)) {
        match starts.date(*id) {
            Some(time) => others.push((time, *id)),
            None => return Ok(None),
        }
    }
    others.sort_unstable();
    others.dedup();
    let rival = others.iter().max().copied();
    let cfg = repo.trailer_config();
    let since = session.created.timestamp() - config.clock_skew_secs;
    let step = repo.with_commit(head, |c| {
        // The walk meets HEAD first only if it is newer than every other start (ties go to the
        // larger id); then it meets what the memo's walk met, in the same order. A commit older
        // than the bound would count towards the walk's end.
        let me = (c.committer.time, c.id);
        if c.parents != [parent] || rival.is_some_and(|r| me <= r) || me.0 < since {
            return None;
        }
        // A commit made again byte for byte may be one the walk met already, from another ref.
        if memo.met(c.id) {
            return None;
        }
        let links = links::from_message(&c.message, cfg);
        // A commit that names no session may count by the branch rule, found by another walk.
        links.named_sessions().next()?;
        let counts = names_for(session, config, &links, c.committer.time);
        let info = counts.then(|| commit_info(c, links, 1));
        Some((me, info))
    })?;
    let Some((me, info)) = step else {
        return Ok(None);
    };
    // Ranks as the new walk gives them: HEAD is met first, then all the memo's walk met; the
    // branch rule's walk meets HEAD first too when HEAD is on the session's branch.
    let branch_rule_moved = session.branch != session.base && session.branch == branch;
    let mut commits = memo.commits.clone();
    for c in &mut commits {
        if branch_rule_moved || c.links.named_sessions().next().is_some() {
            let Some(next) = c.order.checked_add(1) else {
                return Ok(None);
            };
            c.order = next;
        }
    }
    // The walk hands HEAD over first: where the sort ties, it stays first.
    if let Some(info) = info {
        commits.insert(0, info);
    }
    newest_first(&mut commits);
    others.push(me);
    let mut seen = Vec::with_capacity(memo.seen().len() + 1);
    seen.extend_from_slice(memo.seen());
    seen.push(me.1);
    let coverage = Coverage {
        visited: memo.visited + 1,
        starts: others,
        notes: memo.notes.clone(),
        ..Coverage::default()
    };
    Ok(Some(AfterCommit::with_memo(
        key.clone(),
        refs,
        commits,
        coverage,
        &seen,
        true,
    )))
}

/// Whether a commit of `links`, committed at `commit_time`, counts for `session` by the
/// sessions it names. A commit that names none may count by the branch rule, which only a walk
/// of the branch tells.
pub fn names_for(session: &Session, config: &Config, links: &Links, commit_time: i64) -> bool {
    let scope = Scope::new(std::slice::from_ref(session), config.clock_skew_secs);
    let mut members = Vec::new();
    scope.members(links, commit_time, i64::MAX, &mut members);
    !members.is_empty()
}

/// The commit about to be made on HEAD of `links` (first line `summary`), committed at
/// `commit_time`, if it counts for the session: with `before`'s commits (the session's with
/// HEAD as it is) after them, what post-commit will find after it. Only the numbers of the
/// post-commit line are sure to be right: the commit has no id yet, and its author is left
/// out. `None` when only the commit itself can tell (see [`unknowable_before`]), or when it
/// may be a commit of the session made again byte for byte, as one of the same second and
/// subject may be.
pub fn with_next_commit(
    session: &Session,
    config: &Config,
    before: &AfterCommit,
    links: Links,
    summary: String,
    commit_time: i64,
) -> Option<Option<CommitInfo>> {
    let commits = before.commits();
    if unknowable_before(session, config, &links, commit_time)
        || commits
            .iter()
            .any(|c| near(c.commit_time, commit_time) && c.summary == summary)
        || blockers_tie(session, commits)
    {
        return None;
    }
    Some(
        names_for(session, config, &links, commit_time).then(|| CommitInfo {
            id: CommitId([0; 20]),
            is_merge: false,
            author_name: String::new(),
            author_email: String::new(),
            author_time: commit_time,
            author_offset: 0,
            commit_time,
            order: 0,
            summary,
            links,
        }),
    )
}

/// Whether two of the commits hold events for one blocker in the same committer and author
/// second. Their order is then the walk's, which a new commit shifts for some of them (those
/// that name the session, when the new one is not on its branch) and not for others.
fn blockers_tie(session: &Session, commits: &[CommitInfo]) -> bool {
    let mut marks: Vec<(&str, i64, i64, CommitId)> = Vec::new();
    for c in commits {
        for tag in c
            .events_for(session)
            .into_iter()
            .filter_map(|e| e.blocker_tag())
        {
            marks.push((tag, c.commit_time, c.author_time, c.id));
        }
    }
    marks.sort_unstable();
    marks.dedup();
    marks
        .windows(2)
        .any(|w| (w[0].0, w[0].1, w[0].2) == (w[1].0, w[1].1, w[1].2))
}

/// A long session's [`Carried`] aggregate, as `cache` (brought up to the refs of the moment)
/// gives it: `aggregate`, from the listing of that cache.
pub fn carried_from_cache(session: &Session, cache: &Cache, aggregate: &Aggregate) -> Carried {
    let used = |key: &str| cache.aggregates.get(key).is_some_and(|a| !a.is_empty());
    Carried {
        aggregate: aggregate.clone(),
        by_name: used(session.name.as_str()),
        by_id: used(&session.id_string()),
        newest: cache.newest,
        newest_ids: cache.newest_ids.clone(),
    }
}

/// As [`with_next_commit`], for a session the cache answers for: its `carried` aggregate with
/// one commit more, of `links` at `at`, folded in as a walk folds it in: for the commit about
/// to be made, and for those the hooks saw made since the memo. `None` as there, when the
/// commit names the session more than one way, or under the other of its name and id than the
/// one history holds it under (it is then counted commit by commit, which may order ties
/// otherwise). Also when the session has blockers and the commit moves its branch
/// (`moves_branch`: the cache ranks the branch rule's commits anew each time the branch
/// moves), or a blocker event of the commit's second or later (commits the cache has not
/// ranked yet are met in another order once the commit is a tip). The commit's own rank is
/// never kept: one with blocker events is not folded in. Whether the session may hold this
/// very commit already is the caller's to know (the memo's verdict, with only HEAD moved).
pub fn carry_past(
    session: &Session,
    config: &Config,
    carried: &Carried,
    links: &Links,
    at: Moment,
    moves_branch: bool,
) -> Option<Carried> {
    let aggregate = &carried.aggregate;
    let recent_blocker = aggregate
        .blockers
        .values()
        .any(|b| b.at.time >= at.time - 1);
    if unknowable_before(session, config, links, at.time)
        || (moves_branch && !aggregate.blockers.is_empty())
        || recent_blocker
    {
        return None;
    }
    let id = session.id_string();
    let mut keys: Vec<&str> = links
        .named_sessions()
        .filter(|k| {
            let k = crate::aggregate::normal_key(k);
            k == session.name.as_str() || k == id
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut next = carried.clone();
    match keys[..] {
        [] => {}
        [key] => {
            let by_id = crate::aggregate::normal_key(key) == id;
            if (by_id && carried.by_name) || (!by_id && carried.by_id) {
                return None;
            }
            next.aggregate
                .add(at, crate::aggregate::events_under(links, key));
            if by_id {
                next.by_id = true;
            } else {
                next.by_name = true;
            }
        }
        _ => return None,
    }
    Some(next)
}

/// The memo's carried aggregate brought up to `refs`: past each commit HEAD moved down its
/// line since the memo was kept, when only HEAD and its branch moved, none of those commits is
/// a merge or one history held already (a fast-forward to another branch's commits), and
/// [`carry_past`] can fold each in. A commit on the base's branch changes what the branch rule
/// ranks, as in the hooks' line ahead.
fn carry(
    repo: &Repo,
    session: &Session,
    config: &Config,
    memo: &Memo,
    refs: &[(String, CommitId)],
) -> Option<Carried> {
    const NEAR: usize = 64;
    let carried = memo.carried.as_ref()?;
    let (branch, was, is) = head_moved_alone(repo, &memo.refs, refs)?;
    let cfg = repo.trailer_config();
    let mut line = Vec::new();
    let mut id = is;
    while id != was {
        if line.len() == NEAR {
            return None;
        }
        let (parents, links, at) = repo
            .with_commit(id, |c| {
                let at = Moment {
                    time: c.committer.time,
                    author_time: c.author.time,
                    rank: i64::MAX,
                };
                (c.parents.clone(), links::from_message(&c.message, cfg), at)
            })
            .ok()?;
        let [parent] = parents[..] else {
            return None;
        };
        line.push((id, links, at));
        id = parent;
    }
    let split = session.branch != session.base;
    if !line.is_empty() && split && session.base == branch {
        return None;
    }
    let moves_branch = split && session.branch == branch;
    let mut newest = Newest::new(carried.newest, carried.newest_ids.clone());
    let mut next = carried.clone();
    for (id, links, at) in line.iter().rev() {
        let held = covered(carried.newest, carried.newest_ids.as_deref(), at.time, *id);
        if held != Some(false) {
            return None;
        }
        newest.meet(at.time, *id);
        next = carry_past(session, config, &next, links, *at, moves_branch)?;
    }
    next.newest = newest.time;
    next.newest_ids = newest.finish();
    Some(next)
}

/// Whether a commit of `time` is one that history held when its newest commit was of
/// `newest`, with the commits of that second listed in `ids` (sorted; `None` when too many):
/// nothing held was committed later, and every held commit of that second is listed. Commits
/// made in a burst, or replayed by a rebase, share that second. `None` when only the table of
/// every held commit can tell.
fn covered(newest: i64, ids: Option<&[CommitId]>, time: i64, id: CommitId) -> Option<bool> {
    if time > newest {
        return Some(false);
    }
    match ids {
        Some(ids) if time == newest => Some(ids.binary_search(&id).is_ok()),
        _ => None,
    }
}

/// Git reads its clock after ours: a second later, perhaps.
fn near(a: i64, b: i64) -> bool {
    (a - b).abs() <= 1
}

/// Whether what a commit of `links` at `commit_time` does to `session` waits on the commit
/// itself: it names no session (the branch rule counts it, or not), it opens or closes
/// blockers (whose order is by commit time, which git fixes to the second), or it is made
/// at the session's bound.
fn unknowable_before(session: &Session, config: &Config, links: &Links, commit_time: i64) -> bool {
    let since = session.created.timestamp() - config.clock_skew_secs;
    links.named_sessions().next().is_none()
        || links.events.iter().any(|e| e.blocker_tag().is_some())
        || near(since, commit_time)
        || commit_time < since
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
    let ids: Vec<CommitId> = commits
        .iter()
        .filter(|c| !c.is_merge)
        .map(|c| c.id)
        .collect();
    repo.each_commit(&ids, &mut |commit| {
        let trailers = crate::trailer::parse_history(&commit.message, cfg);
        let missing: Vec<String> = required
            .iter()
            .filter(|k| !trailers.iter().any(|t| t.is(k)))
            .cloned()
            .collect();
        if !missing.is_empty() {
            out.push(crate::criteria::MissingTrailers {
                commit: commit.id,
                missing,
            });
        }
        Ok(())
    })?;
    Ok(out)
}

/// A batch of raw commits handed from the reading thread to the parsing thread.
#[derive(Default)]
struct Batch {
    /// (id, committer time, author time, message bytes)
    commits: Vec<(CommitId, i64, i64, std::ops::Range<usize>)>,
    bytes: Vec<u8>,
}

const BATCH: usize = 512;

/// What a walk of all history gives the cache.
pub struct AllHistory {
    /// Every session key named anywhere in the history.
    pub aggregates: FreshAggregates,
    /// Every commit read, sorted.
    pub ids: Vec<CommitId>,
    pub coverage: Coverage,
    /// The commits of the newest second (see [`Cache::newest_ids`]).
    pub newest_ids: Option<Vec<CommitId>>,
}

/// Aggregates of every session key named anywhere in history reachable from `tips`. One thread
/// reads and inflates commits while another parses their trailers, so the walk costs what
/// reading costs.
pub fn aggregate_all(
    repo: &Repo,
    tips: &[CommitId],
    progress: &mut dyn FnMut(usize),
) -> Result<AllHistory> {
    let cfg = repo.trailer_config().clone();
    // Commits arrive in walk order, newest first: ranks go down from 0.
    let parse = |aggs: &mut FreshAggregates, rank: &mut i64, batch: Batch| {
        for (_, time, author_time, range) in batch.commits {
            *rank -= 1;
            let links = links::from_message(&batch.bytes[range], &cfg);
            if links.named_sessions().next().is_some() {
                let at = Moment {
                    time,
                    author_time,
                    rank: *rank,
                };
                aggs.add_commit(at, &links);
            }
        }
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new().spawn_scoped(scope, move || {
            let (mut aggs, mut rank) = (FreshAggregates::default(), 0i64);
            for batch in rx {
                parse(&mut aggs, &mut rank, batch);
            }
            aggs
        });
        // A system that refuses a thread (a process limit) gets the parsing done here too.
        let (mut inline, mut rank) = (FreshAggregates::default(), 0i64);
        let mut deliver = |batch: Batch| match &parser {
            // A closed channel means the parser died; its join below reports it.
            Ok(_) => drop(tx.send(batch)),
            Err(_) => parse(&mut inline, &mut rank, batch),
        };
        let mut batch = Batch::default();
        let mut newest = Newest::new(i64::MIN, Some(Vec::new()));
        let mut read = 0usize;
        let walked = repo.walk_all(tips, &mut |c| {
            read += 1;
            newest.meet(c.committer.time, c.id);
            if read.is_multiple_of(4096) {
                progress(read);
            }
            let start = batch.bytes.len();
            batch.bytes.extend_from_slice(&c.message);
            batch.commits.push((
                c.id,
                c.committer.time,
                c.author.time,
                start..batch.bytes.len(),
            ));
            if batch.commits.len() == BATCH {
                deliver(std::mem::take(&mut batch));
            }
            Ok(())
        });
        if !batch.commits.is_empty() {
            deliver(batch);
        }
        drop(tx);
        let aggs = match parser {
            Ok(parser) => parser
                .join()
                .map_err(|_| Error::unanswerable("reading history failed in a worker thread"))?,
            Err(_) => inline,
        };
        let mut stats = walked?;
        let mut ids = std::mem::take(&mut stats.seen);
        ids.sort_unstable();
        let coverage = Coverage {
            visited: stats.visited,
            truncated_at: stats.truncated_at,
            newest: newest.time,
            notes: Vec::new(),
            starts: stats.starts,
        };
        Ok(AllHistory {
            aggregates: aggs,
            ids,
            coverage,
            newest_ids: newest.finish(),
        })
    })
}

/// The commits of the latest committer time met so far, while few enough to list (many commits
/// may share one time, as in an import): `ids` is `None` past that.
struct Newest {
    time: i64,
    ids: Option<Vec<CommitId>>,
}

impl Newest {
    const LISTED: usize = 1024;

    fn new(time: i64, ids: Option<Vec<CommitId>>) -> Newest {
        Newest { time, ids }
    }

    fn meet(&mut self, time: i64, id: CommitId) {
        if time > self.time {
            self.time = time;
            self.ids = Some(Vec::new());
        }
        if time == self.time
            && let Some(ids) = &mut self.ids
        {
            if ids.len() < Self::LISTED {
                ids.push(id);
            } else {
                self.ids = None;
            }
        }
    }

    /// The commits, sorted, or `None` when there were too many to list.
    fn finish(self) -> Option<Vec<CommitId>> {
        self.ids.map(|mut ids| {
            ids.sort_unstable();
            ids.dedup();
            ids
        })
    }
}

/// An identity for what the cached history was derived with: the tool's version and the
/// trailer configuration.
pub fn fingerprint(repo: &Repo) -> u64 {
    let text = format!("{}|{:?}", env!("CARGO_PKG_VERSION"), repo.trailer_config());
    crate::cache::checksum(text.as_bytes())
}

/// Ranks one extending walk may give: its commits rank in (top, top + RANK_SPAN].
const RANK_SPAN: i64 = 1 << 32;

/// New commits worth writing the cache for; fewer are walked again next time instead. Each
/// commit walked again costs a hook about 70 µs here, and writing the cache about 1.8 µs a
/// kilobyte, so the cheapest point grows with the square root of the cache's size: about 8
/// commits for a 1 MB cache (100k commits), 23 for 10 MB (1M). It was 64 for any size,
/// which cost a long session's hooks 1.5 ms a commit on average at 100k.
fn save_after(cache: &Cache) -> usize {
    save_after_kb(cache.size_hint() as f64 / 1024.0)
}

fn save_after_kb(kb: f64) -> usize {
    ((2.0 * 1.8 * kb / 70.0).sqrt().round() as usize).clamp(8, 64)
}

/// Pending ids are merged into the known-commit file once there are this many.
const PENDING_LIMIT: usize = 4096;

/// History aggregated for `tips`: from `cache` where it holds, walking only what is new, or
/// from a full walk. `cache` is updated to describe the result; the return says whether it
/// changed (and so is worth writing).
fn aggregates_for(
    repo: &Repo,
    tips: &[CommitId],
    cache: &mut Cache,
    file: Option<&CacheFile>,
    coverage: &mut Coverage,
    progress: Option<&mut dyn FnMut(usize)>,
) -> Result<Option<bool>> {
    let fp = fingerprint(repo);
    let old_tips: IdSet = cache.tips.iter().copied().collect();
    let new_tips: IdSet = tips.iter().copied().collect();
    if cache.fingerprint == fp && !cache.tips.is_empty() && old_tips == new_tips {
        return Ok(Some(false));
    }
    if cache.fingerprint == fp
        && !cache.tips.is_empty()
        && let Some(changed) = extend(repo, tips, &old_tips, &new_tips, cache, file, coverage)?
    {
        return Ok(Some(changed));
    }
    // No usable cache, or history was rewritten: read it all, if the caller allows.
    let Some(progress) = progress else {
        return Ok(None);
    };
    let AllHistory {
        aggregates: aggs,
        ids,
        coverage: cov,
        newest_ids,
    } = aggregate_all(repo, tips, progress)?;
    coverage.visited += cov.visited;
    coverage.truncated_at.extend(cov.truncated_at);
    cache.newest = cov.newest;
    cache.newest_ids = newest_ids;
    cache.rank_top = 0;
    cache.fingerprint = fp;
    cache.tips = tips.to_vec();
    cache.aggregates = Table::from_fresh(aggs);
    cache.pending.clear();
    cache.branches.clear();
    cache.known = Default::default();
    if let Some(f) = file
        && let Ok(section) = f.save_known(&ids)
    {
        cache.known = section;
        return Ok(Some(true));
    }
    // Without a known-commit file the next run cannot extend this one.
    cache.tips.clear();
    Ok(Some(file.is_some()))
}

/// Walks only the commits new since the cache's tips. `None` when that cannot be exact: an old
/// tip is no longer reachable (a rebase, a deleted branch) or the known-commit file is damaged.
fn extend(
    repo: &Repo,
    tips: &[CommitId],
    old_tips: &IdSet,
    new_tips: &IdSet,
    cache: &mut Cache,
    file: Option<&CacheFile>,
    coverage: &mut Coverage,
) -> Result<Option<bool>> {
    let pending: IdSet = cache.pending.iter().copied().collect();
    let newest = cache.newest;
    let newest_ids = &cache.newest_ids;
    let rank_top = cache.rank_top;
    let mut table: Option<Option<Vec<CommitId>>> = None;
    let section = cache.known;
    let cfg = repo.trailer_config();
    // Changed in place: when the walk cannot be exact the caller rebuilds everything anyway.
    let aggs = &mut cache.aggregates;
    let mut new_ids = Vec::new();
    let mut newest_seen = Newest::new(newest, newest_ids.clone());
    // A tip the cache started from is covered, with all it reaches: not even read. With
    // hundreds of remote branches, reading each one's commit was most of a hook's time.
    let fresh: Vec<CommitId> = tips
        .iter()
        .copied()
        .filter(|t| !old_tips.contains(t))
        .collect();
    let stats = repo.walk_until(
        &fresh,
        None,
        &mut |id, time| {
            if old_tips.contains(&id) || pending.contains(&id) {
                return true;
            }
            if let Some(known) = covered(newest, newest_ids.as_deref(), time, id) {
                return known;
            }
            let known = table.get_or_insert_with(|| file.and_then(|f| f.load_known(section)));
            // A missing table makes every commit look new; the damage check below catches it.
            known.as_ref().is_some_and(|t| t.binary_search(&id).is_ok())
        },
        &mut |c| {
            new_ids.push(c.id);
            newest_seen.meet(c.committer.time, c.id);
            let links = links::from_message(&c.message, cfg);
            if links.named_sessions().next().is_some() {
                // New commits rank above everything covered, newest highest.
                let at = Moment {
                    time: c.committer.time,
                    author_time: c.author.time,
                    rank: rank_top + RANK_SPAN - new_ids.len() as i64,
                };
                aggs.add_commit(at, &links);
            }
            Ok(())
        },
    )?;
    if matches!(table, Some(None)) {
        return Ok(None);
    }
    let reached: IdSet = stats.boundary.iter().copied().collect();
    if old_tips
        .iter()
        .any(|t| !new_tips.contains(t) && !reached.contains(t))
    {
        return Ok(None);
    }
    coverage.visited += stats.visited;
    coverage.truncated_at.extend(stats.truncated_at);
    let new_count = new_ids.len();
    cache.tips = tips.to_vec();
    cache.newest = newest_seen.time;
    cache.newest_ids = newest_seen.finish();
    cache.rank_top = rank_top + RANK_SPAN;
    cache.pending.extend(new_ids);
    cache.pending.sort_unstable();
    cache.pending.dedup();
    if cache.pending.len() >= PENDING_LIMIT
        && let Some(f) = file
    {
        let Some(mut known) = table.flatten().or_else(|| f.load_known(section)) else {
            return Ok(None);
        };
        known.append(&mut cache.pending);
        known.sort_unstable();
        known.dedup();
        match f.save_known(&known) {
            Ok(s) => cache.known = s,
            Err(_) => return Ok(None),
        }
    }
    // A few new commits are cheap to walk again; write the cache when it saves real work.
    Ok(Some(new_count >= save_after(cache)))
}

/// What `list` shows of each session, and what the walk could not see.
pub struct Listing {
    pub summaries: Vec<Summary>,
    /// For [`cached_listing`], each session's aggregate, where the cache holds it exactly.
    pub aggregates: Vec<Option<Aggregate>>,
    pub coverage: Coverage,
    /// Whether the cache changed and should be written.
    pub changed: bool,
    /// How long each phase took, for `GIT_SESSION_TRACE`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// History read into `cache`'s aggregates up to the current tips: the first half of a
/// [`listing`], which needs no session file, so a long walk does not hold them all.
pub struct Walked {
    tips: Vec<CommitId>,
    coverage: Coverage,
    changed: bool,
    /// How long the walk took, for `GIT_SESSION_TRACE`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Whether a walk of all history was allowed (and so may be taken again).
    full: bool,
}

/// Brings the aggregates of `cache` (updated in place) up to the current tips. With `file`
/// set, the known-commit file is read and written as needed; without it, nothing is read
/// from or written to disk and `cache` starts empty. `progress` hears how many commits a long
/// walk has read so far; without it, `None` when the cache cannot be extended and a walk of
/// all history would be needed (hooks must stay fast).
pub fn walk_history(
    repo: &Repo,
    cache: &mut Cache,
    file: Option<&CacheFile>,
    progress: Option<&mut dyn FnMut(usize)>,
) -> Result<Option<Walked>> {
    walk_history_from(repo, &repo.ref_snapshot()?, cache, file, progress)
}

/// As [`walk_history`], from the refs of a [`Repo::ref_snapshot`] already taken.
fn walk_history_from(
    repo: &Repo,
    refs: &[(String, CommitId)],
    cache: &mut Cache,
    file: Option<&CacheFile>,
    progress: Option<&mut dyn FnMut(usize)>,
) -> Result<Option<Walked>> {
    let mut coverage = Coverage::default();
    let clock = std::time::Instant::now();
    // Refs that have not moved since the cache was written name commits it started from.
    let cached: IdSet = cache.tips.iter().copied().collect();
    let tips = repo.tips_of(refs, |c| cached.contains(&c));
    let full = progress.is_some();
    let Some(changed) = aggregates_for(repo, &tips, cache, file, &mut coverage, progress)? else {
        return Ok(None);
    };
    Ok(Some(Walked {
        tips,
        coverage,
        changed,
        timings: vec![("history", clock.elapsed())],
        full,
    }))
}

/// The `list` numbers of every session in `sessions`, from the aggregates `walked` brought up
/// to date in `cache`, where they hold. `None` when a damaged cache would need a walk of all
/// history that `walked` did not allow. With `keep`, the listing holds the aggregates its
/// summaries come from.
pub fn listing(
    repo: &Repo,
    walked: Walked,
    sessions: &[Session],
    config: &Config,
    cache: &mut Cache,
    file: Option<&CacheFile>,
    keep: bool,
) -> Result<Option<Listing>> {
    let Walked {
        tips,
        mut coverage,
        mut changed,
        full,
        ..
    } = walked;
    let clock = std::time::Instant::now();
    let mut timings = Vec::new();
    let (branches_changed, branches) = branch_aggregates(repo, sessions, cache, &mut coverage)?;
    changed |= branches_changed;
    timings.push(("branches", clock.elapsed()));
    let mut summaries = Vec::with_capacity(sessions.len());
    let mut aggregates = Vec::new();
    let mut recount = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let aggregate = cached_aggregate(s, config, cache, &branches);
        match &aggregate {
            Some(a) => summaries.push(a.summary(s)),
            None => {
                recount.push(i);
                summaries.push(Summary::default());
            }
        }
        if keep {
            aggregates.push(aggregate);
        }
    }
    if !recount.is_empty() {
        // One walk for all of them: a walk each took minutes with thousands of such sessions.
        let batch: Vec<Session> = recount.iter().map(|&i| sessions[i].clone()).collect();
        let mut tallies = Tallies::new(&batch);
        let cov = walk_from(repo, &tips, &batch, config, true, &mut tallies)?;
        coverage.truncated_at.extend(cov.truncated_at);
        for ((&i, s), tally) in recount.iter().zip(&batch).zip(tallies.tallies) {
            summaries[i] = tally
                .finish(s, crate::progress::Estimate::default(), s.created)
                .summary();
        }
    }
    if cache.aggregates.is_damaged() {
        // An entry that does not decode would read as empty: start over without the cache.
        *cache = Cache::default();
        let progress: Option<&mut dyn FnMut(usize)> = if full { Some(&mut |_| {}) } else { None };
        let Some(again) = walk_history(repo, cache, file, progress)? else {
            return Ok(None);
        };
        return listing(repo, again, sessions, config, cache, file, keep);
    }
    timings.push(("summaries", clock.elapsed()));
    Ok(Some(Listing {
        summaries,
        aggregates,
        coverage,
        changed,
        timings,
    }))
}

/// As [`walk_history`] and [`listing`], but only from an existing cache, walking just the
/// commits new since it was written: `None` when that would take a walk of all history (no
/// cache, rewritten history). For hooks, which must stay fast.
pub fn cached_listing(
    repo: &Repo,
    sessions: &[Session],
    config: &Config,
    cache: &mut Cache,
    file: &CacheFile,
    refs: &[(String, CommitId)],
) -> Result<Option<Listing>> {
    if cache.tips.is_empty() {
        return Ok(None);
    }
    match walk_history_from(repo, refs, cache, Some(file), None)? {
        Some(walked) => listing(repo, walked, sessions, config, cache, Some(file), true),
        None => Ok(None),
    }
}

/// One session's aggregate, whence its `list` numbers, from the aggregates in `cache` and the
/// branch-rule results checked in this run; `None` when they cannot tell: the session is named
/// both by name and by id, or by commits from before it existed, and its commits must be
/// counted one by one.
fn cached_aggregate(
    s: &Session,
    config: &Config,
    cache: &Cache,
    branches: &[BranchEntry],
) -> Option<Aggregate> {
    let id = s.id_string();
    let by_name = cache
        .aggregates
        .get(s.name.as_str())
        .filter(|a| !a.is_empty());
    let by_id = cache.aggregates.get(&id).filter(|a| !a.is_empty());
    let since = s.created.timestamp() - config.clock_skew_secs;
    let exact = match (&by_name, &by_id) {
        (Some(_), Some(_)) => false,
        (Some(a), None) | (None, Some(a)) => a.earliest >= since,
        (None, None) => true,
    };
    if !exact {
        return None;
    }
    let mut agg = by_name.or(by_id).unwrap_or_default();
    if let Some(b) = branches
        .iter()
        .find(|b| b.branch == s.branch && b.base == s.base)
    {
        agg.merge(&b.aggregate);
    }
    Some(agg)
}

/// Brings the branch-rule aggregates of every (branch, base) pair in use up to date; returns
/// whether that is worth writing, and the entries that hold now.
fn branch_aggregates(
    repo: &Repo,
    sessions: &[Session],
    cache: &mut Cache,
    coverage: &mut Coverage,
) -> Result<(bool, Vec<BranchEntry>)> {
    let mut pairs: Vec<(&str, &str)> = sessions
        .iter()
        .filter(|s| s.branch != s.base)
        .map(|s| (s.branch.as_str(), s.base.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut entries = Vec::new();
    for (branch, base) in pairs {
        let Some((tip, base_tip)) = branch_tips(repo, branch, base, coverage) else {
            continue;
        };
        let held = cache.branches.iter().find(|b| {
            b.branch == branch && b.base == base && b.tip == tip && b.base_tip == base_tip
        });
        if let Some(b) = held {
            entries.push(b.clone());
            continue;
        }
        let mut aggregate = crate::aggregate::Aggregate::default();
        unnamed_branch_commits(repo, tip, base_tip, coverage, &mut |c, links, order| {
            let at = Moment {
                time: c.committer.time,
                author_time: c.author.time,
                rank: -(order as i64),
            };
            aggregate.add(at, links.events.iter())
        })?;
        entries.push(BranchEntry {
            branch: branch.to_string(),
            base: base.to_string(),
            tip,
            base_tip,
            aggregate,
        });
    }
    // Moved tips alone are cheap to recompute; a new pair is worth writing. Pairs this run did
    // not ask about are kept (their tips guard them), so a hook asking about one session does
    // not throw away what list computed for all of them.
    let key = |b: &BranchEntry| (b.branch.clone(), b.base.clone());
    let changed = entries
        .iter()
        .any(|e| !cache.branches.iter().any(|b| key(b) == key(e)));
    let kept: Vec<BranchEntry> = std::mem::take(&mut cache.branches)
        .into_iter()
        .filter(|b| !entries.iter().any(|e| key(e) == key(b)))
        .collect();
    let mut all = entries.clone();
    all.extend(kept);
    all.sort_by_key(key);
    cache.branches = all;
    Ok((changed, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheFile;
    use crate::repo::tests::git;

    const SESSION: &str = r#"schema = 1
id = "0190a4f2-4dc7-7c05-89c9-763c73f606bd"
name = "s"
title = "S"
branch = "main"
base = "main"
created = 2001-01-01T00:00:00Z
status = "active"

[[milestones]]
id = "m1"

[[milestones]]
id = "m2"
"#;

    fn summaries(
        repo: &Repo,
        session: &Session,
        cache: &mut Cache,
        file: &CacheFile,
    ) -> Vec<Summary> {
        let walked = walk_history(repo, cache, Some(file), Some(&mut |_| {}))
            .expect("walk")
            .expect("a full walk is allowed");
        let sessions = std::slice::from_ref(session);
        listing(
            repo,
            walked,
            sessions,
            &Config::default(),
            cache,
            Some(file),
            false,
        )
        .expect("listing")
        .expect("a listing")
        .summaries
    }

    #[test]
    fn the_newest_second_is_listed_while_few_share_it() {
        let id = |n: u32| {
            let mut bytes = [0u8; 20];
            bytes[..4].copy_from_slice(&n.to_be_bytes());
            CommitId(bytes)
        };
        let mut newest = Newest::new(i64::MIN, Some(Vec::new()));
        newest.meet(5, id(3));
        newest.meet(7, id(2));
        newest.meet(6, id(9));
        newest.meet(7, id(1));
        assert_eq!(newest.time, 7);
        assert_eq!(newest.finish(), Some(vec![id(1), id(2)]));

        let mut crowded = Newest::new(7, Some(Vec::new()));
        for n in 0..=Newest::LISTED as u32 {
            crowded.meet(7, id(n));
        }
        assert_eq!(crowded.ids, None, "too many to list");
        // A later second starts a new list.
        crowded.meet(8, id(5000));
        assert_eq!(crowded.finish(), Some(vec![id(5000)]));
        // Unlisted stays unlisted within its second.
        let mut unlisted = Newest::new(7, None);
        unlisted.meet(7, id(1));
        assert_eq!(unlisted.finish(), None);
    }

    #[test]
    fn a_cached_entry_that_does_not_decode_is_walked_again() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        for m in ["m1", "m2"] {
            let message = format!("Work on {m}\n\nSession: s\nMilestone-Done: {m}");
            git(dir, &["commit", "-q", "--allow-empty", "-m", &message]);
        }
        let repo = Repo::open(dir).expect("repo");
        let session = crate::session::parse(SESSION, Some("s")).expect("session");
        let file = CacheFile::new(&dir.join(".git/git-session"));
        let mut cache = Cache::default();
        let fresh = summaries(&repo, &session, &mut cache, &file);
        assert_eq!((fresh[0].milestones_done, fresh[0].commits), (2, 2));
        file.save(&cache).expect("save");

        let mut damaged = file.load().expect("a cache");
        damaged.aggregates.damage("s");
        assert_eq!(summaries(&repo, &session, &mut damaged, &file), fresh);
        assert!(!damaged.aggregates.is_damaged());

        // A hook may not walk all history: it gets no answer rather than a wrong one.
        let mut damaged = file.load().expect("a cache");
        damaged.aggregates.damage("s");
        let sessions = std::slice::from_ref(&session);
        let refs = repo.ref_snapshot().expect("refs");
        let hook = cached_listing(
            &repo,
            sessions,
            &Config::default(),
            &mut damaged,
            &file,
            &refs,
        );
        assert!(hook.expect("no error").is_none());
    }

    #[test]
    fn the_next_commit_counts_where_only_its_message_decides() {
        let session = crate::session::parse(SESSION, Some("s")).expect("session");
        let config = Config::default();
        let cfg = crate::trailer::TrailerConfig::default();
        let links = |m: &str| links::from_message(m.as_bytes(), &cfg);
        let now = 1_800_000_000;
        let mut earlier = CommitInfo::sample(1, "a@x", now - 600, "One\n\nSession: s\n");
        earlier.summary = "One".to_string();
        let before = AfterCommit {
            commits: vec![earlier],
            coverage: Coverage::default(),
            memo: None,
            stepped: true,
        };
        let next = |m: &str, summary: &str, at: i64| {
            with_next_commit(
                &session,
                &config,
                &before,
                links(m),
                summary.to_string(),
                at,
            )
        };
        let done = next("Two\n\nSession: s\nMilestone-Done: m1\n", "Two", now).expect("knowable");
        assert!(done.is_some());
        let all = before.commits().iter().chain(&done);
        let p = crate::progress::derive(&session, all, Default::default(), Default::default());
        assert_eq!(p.milestones_done, 1);
        // Another session's commit leaves this one's as they were.
        let other = next("Two\n\nSession: t\n", "Two", now).expect("knowable");
        assert!(other.is_none());
        // What only the commit decides.
        for (message, summary, at) in [
            ("Two\n", "Two", now),
            ("Two\n\nSession: s\nBlocker: #ci down\n", "Two", now),
            ("One\n\nSession: s\n", "One", now - 599),
        ] {
            assert!(next(message, summary, at).is_none(), "{message}");
        }
        // Folded into the cache's aggregate as a walk would fold it.
        let mut aggregate = Aggregate::default();
        aggregate.add(Moment::default(), std::iter::empty());
        let cache = Cache::default();
        let fold = |cache: &Cache, aggregate: &Aggregate, named: &Links, moves: bool| {
            let at = Moment {
                time: now,
                author_time: now,
                rank: i64::MAX,
            };
            let carried = carried_from_cache(&session, cache, aggregate);
            carry_past(&session, &config, &carried, named, at, moves).map(|c| c.aggregate)
        };
        let folded = fold(
            &cache,
            &aggregate,
            &links("Two\n\nSession: s\nMilestone-Done: s/m2\n"),
            true,
        )
        .expect("knowable");
        assert_eq!(folded.commits, 2);
        assert_eq!(folded.summary(&session).milestones_done, 1);
        let twice = links("Two\n\nSession: s\nSession: 0190a4f2-4dc7-7c05-89c9-763c73f606bd\n");
        assert!(fold(&cache, &aggregate, &twice, false).is_none());
        // A session with blockers, on its branch: the cache ranks the branch rule's commits
        // anew when the branch moves.
        let mut blocked = Aggregate::default();
        let opened = links("A\n\nSession: s\nBlocker: #x down\n");
        blocked.add(Moment::default(), opened.events.iter());
        let plain = links("Two\n\nSession: s\n");
        let on_branch = |moves| fold(&cache, &blocked, &plain, moves);
        assert!(on_branch(true).is_none());
        assert_eq!(on_branch(false).map(|a| a.commits), Some(2));
        // A blocker event of the commit's second: the cache has not ranked all of it yet.
        let mut fresh = Aggregate::default();
        let at = Moment {
            time: now,
            ..Moment::default()
        };
        fresh.add(at, opened.events.iter());
        assert!(fold(&cache, &fresh, &plain, false).is_none());
        // Held under the session's name, named now by its id: counted one by one after it.
        let mut by_name = Cache::default();
        by_name
            .aggregates
            .aggregate("s")
            .add(Moment::default(), std::iter::empty());
        let by_id = links("Two\n\nSession: 0190a4f2-4dc7-7c05-89c9-763c73f606bd\n");
        let next = |cache: &Cache, named: &Links| fold(cache, &aggregate, named, false);
        assert!(next(&by_name, &by_id).is_none());
        assert!(next(&by_name, &plain).is_some());
        assert!(next(&cache, &by_id).is_some());
        // Two commits with events of one blocker in one second: their order is the walk's.
        let tied = |second: i64| {
            let mut a =
                CommitInfo::sample(2, "a@x", now - 300, "A\n\nSession: s\nBlocker: #x down\n");
            let mut b = CommitInfo::sample(
                3,
                "a@x",
                now - 300,
                "B\n\nSession: s\nBlocker-Resolved: #x\n",
            );
            (a.author_time, b.author_time) = (now - 300, now - 300 + second);
            a.summary = "A".to_string();
            b.summary = "B".to_string();
            let before = AfterCommit {
                commits: vec![a, b],
                coverage: Coverage::default(),
                memo: None,
                stepped: true,
            };
            with_next_commit(
                &session,
                &config,
                &before,
                links("Two\n\nSession: s\n"),
                "Two".to_string(),
                now,
            )
        };
        assert!(tied(0).is_none());
        assert!(tied(1).is_some());
    }

    #[test]
    fn the_cache_is_written_after_fewer_new_commits_the_smaller_it_is() {
        assert_eq!(save_after_kb(0.0), 8);
        assert_eq!(save_after_kb(1024.0), 8);
        assert_eq!(save_after_kb(10.0 * 1024.0), 23);
        assert_eq!(save_after_kb(1024.0 * 1024.0), 64);
        assert_eq!(save_after(&Cache::default()), 8);
    }
}
