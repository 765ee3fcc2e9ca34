//! The only module that touches git (through `git2`). It hands out plain values: commit ids,
//! borrowed views of raw commits, branch names. Commits are read as raw objects and parsed here,
//! so each one is inflated once per walk.

use std::collections::{BinaryHeap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::error::{Error, Result};
use crate::trailer::TrailerConfig;

mod objects;

/// A commit id (SHA-1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(pub [u8; 20]);

impl CommitId {
    pub fn from_hex(hex: &str) -> Option<CommitId> {
        let hex = hex.as_bytes();
        if hex.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(CommitId(out))
    }

    /// The 40 lower-case hex digits, without going through `fmt`: ids are shown and compared
    /// as hex by the thousand (progress, JSON output, `from_hex` round trips).
    fn hex_bytes(&self) -> [u8; 40] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 40];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
        }
        out
    }

    pub fn hex(&self) -> String {
        self.hex_prefix(40)
    }

    /// The abbreviated id shown to people (7 hex digits, as git's default).
    pub fn short(&self) -> String {
        self.hex_prefix(7)
    }

    fn hex_prefix(&self, len: usize) -> String {
        let hex = self.hex_bytes();
        // Hex digits are ASCII.
        String::from_utf8_lossy(&hex[..len]).into_owned()
    }

    fn oid(&self) -> git2::Oid {
        git2::Oid::from_bytes(&self.0).expect("20 bytes make an oid")
    }

    fn from_oid(oid: git2::Oid) -> CommitId {
        let mut out = [0u8; 20];
        out.copy_from_slice(&oid.as_bytes()[..20]);
        CommitId(out)
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex_prefix(40))
    }
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.short())
    }
}

/// Commit ids are already uniformly distributed: hash them by their first 8 bytes.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
}

pub type IdSet = HashSet<CommitId, BuildHasherDefault<IdHasher>>;

/// A set of commit ids that also keeps them in insertion order: 20 bytes per id in a vector and
/// 4 bytes per slot in the table, about half of what a hash set of ids takes. A full walk of a
/// million commits keeps one.
#[derive(Default)]
pub struct CommitSet {
    ids: Vec<CommitId>,
    table: hashbrown::HashTable<u32>,
}

fn id_hash(id: &CommitId) -> u64 {
    u64::from_le_bytes(id.0[..8].try_into().expect("8 bytes"))
}

impl CommitSet {
    /// Adds `id`; false if it was there.
    pub fn insert(&mut self, id: CommitId) -> bool {
        let hash = id_hash(&id);
        let ids = &self.ids;
        if self.table.find(hash, |&i| ids[i as usize] == id).is_some() {
            return false;
        }
        let index = u32::try_from(self.ids.len()).expect("fewer than 4 billion commits");
        self.ids.push(id);
        let ids = &self.ids;
        self.table
            .insert_unique(hash, index, |&i| id_hash(&ids[i as usize]));
        true
    }

    /// The ids, in the order they were added.
    pub fn into_vec(self) -> Vec<CommitId> {
        self.ids
    }
}

/// A person line of a commit (`author` or `committer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person<'a> {
    pub name: &'a [u8],
    pub email: &'a [u8],
    /// Seconds since the epoch.
    pub time: i64,
    /// Offset from UTC in minutes.
    pub offset: i32,
}

/// A commit as stored: its id, parents, people and message bytes (already converted to UTF-8
/// when the commit declares a Latin-1 encoding, as `git log` shows it).
#[derive(Debug, Clone)]
pub struct Commit<'a> {
    pub id: CommitId,
    pub parents: Vec<CommitId>,
    pub author: Person<'a>,
    pub committer: Person<'a>,
    pub message: std::borrow::Cow<'a, [u8]>,
}

impl Commit<'_> {
    /// The first line of the message, as `git log --oneline` shows it.
    pub fn summary(&self) -> String {
        summary_of(&self.message)
    }
}

/// The first line of a commit message, as `git log --oneline` shows it.
pub fn summary_of(message: &[u8]) -> String {
    let msg = crate::trailer::skip_blank_lines(message);
    let line = msg.split(|&c| c == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line).trim_end().to_string()
}

/// Parses a raw commit object. Malformed headers give empty values, never a failure: history is
/// what it is.
pub fn parse_commit(id: CommitId, data: &[u8]) -> Commit<'_> {
    let mut parents = Vec::new();
    let mut author = Person::default();
    let mut committer = Person::default();
    let mut encoding: Option<&[u8]> = None;
    let mut rest = data;
    let (mut has_author, mut has_committer) = (false, false);
    let message: &[u8] = loop {
        let Some(nl) = rest.iter().position(|&c| c == b'\n') else {
            break &[];
        };
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        if line.is_empty() {
            break rest;
        }
        if let Some(hex) = line.strip_prefix(b"parent ") {
            if let Some(p) = std::str::from_utf8(hex).ok().and_then(CommitId::from_hex) {
                parents.push(p);
            }
        } else if let Some(p) = line.strip_prefix(b"author ") {
            // The first of each, as git reads it (and as the walk orders by it).
            if !has_author {
                author = parse_person(p);
                has_author = true;
            }
        } else if let Some(p) = line.strip_prefix(b"committer ") {
            if !has_committer {
                committer = parse_person(p);
                has_committer = true;
            }
        } else if let Some(e) = line.strip_prefix(b"encoding ") {
            encoding = Some(e);
        }
    };
    let message = match encoding {
        Some(e) if is_latin1(e) => std::borrow::Cow::Owned(latin1_to_utf8(message)),
        _ => std::borrow::Cow::Borrowed(message),
    };
    Commit {
        id,
        parents,
        author,
        committer,
        message,
    }
}

fn is_latin1(encoding: &[u8]) -> bool {
    let e = String::from_utf8_lossy(encoding).to_ascii_lowercase();
    matches!(
        e.as_str(),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1"
    )
}

fn latin1_to_utf8(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .into_bytes()
}

fn parse_person(line: &[u8]) -> Person<'_> {
    let Some(lt) = line.iter().position(|&c| c == b'<') else {
        return Person::default();
    };
    let Some(gt) = line.iter().rposition(|&c| c == b'>').filter(|&g| g > lt) else {
        return Person::default();
    };
    let name = crate::trailer::is_space;
    let mut n = &line[..lt];
    while n.last().is_some_and(|&c| name(c)) {
        n = &n[..n.len() - 1];
    }
    let mut fields = line[gt + 1..]
        .split(|&c| c == b' ')
        .filter(|f| !f.is_empty());
    let time = fields
        .next()
        .and_then(|t| std::str::from_utf8(t).ok()?.parse().ok())
        .unwrap_or(0);
    let offset = fields
        .next()
        .and_then(|tz| {
            let tz = std::str::from_utf8(tz).ok()?;
            let (sign, digits) = match tz.as_bytes().first()? {
                b'-' => (-1, &tz[1..]),
                b'+' => (1, &tz[1..]),
                _ => (1, tz),
            };
            let v: i32 = digits.parse().ok()?;
            Some(sign * ((v / 100) * 60 + v % 100))
        })
        .unwrap_or(0);
    Person {
        name: n,
        email: &line[lt + 1..gt],
        time,
        offset,
    }
}

/// What HEAD is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    Branch(String),
    Detached(CommitId),
    /// A branch with no commits yet.
    Unborn(String),
}

/// Whether a walk went as far as asked, or met the edge of a shallow clone first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkStats {
    pub visited: usize,
    /// Known commits the walk stopped at.
    pub boundary: Vec<CommitId>,
    /// Every commit the walk met (visited, known or left past `since`), unordered.
    pub seen: Vec<CommitId>,
    /// Shallow-boundary commits the walk would have gone past: history it needed is missing.
    pub truncated_at: Vec<CommitId>,
    /// The tips the walk started from, with their committer times.
    pub starts: Vec<(i64, CommitId)>,
}

pub struct Repo {
    git: git2::Repository,
    trailers: TrailerConfig,
    shallow: IdSet,
}

static TUNE: Once = Once::new();

/// Reads are of immutable objects: skip libgit2's per-read hash check and object cache, and keep
/// its pack windows small so memory does not grow with history.
fn tune_libgit2() {
    TUNE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        git2::opts::enable_caching(false);
        #[allow(unsafe_code)]
        // SAFETY: called once, before any repository is opened, as libgit2 requires.
        unsafe {
            let _ = git2::opts::set_mwindow_mapped_limit(16 << 20);
            let _ = git2::opts::set_mwindow_size(4 << 20);
        }
    });
}

fn git_error(context: &str, e: &git2::Error) -> Error {
    let msg = e.message().trim_end_matches('.').to_string();
    Error::unanswerable(format!("{context}: {msg}"))
}

impl Repo {
    /// Opens the repository around the current directory, honouring `GIT_DIR`,
    /// `GIT_WORK_TREE` and `GIT_CEILING_DIRECTORIES` as git does.
    pub fn discover() -> Result<Repo> {
        tune_libgit2();
        let git = git2::Repository::open_from_env().map_err(|e| open_error(&e))?;
        Self::from_git(git)
    }

    /// Opens the repository at exactly `path`.
    pub fn open(path: &Path) -> Result<Repo> {
        tune_libgit2();
        let git = git2::Repository::open(path).map_err(|e| open_error(&e))?;
        Self::from_git(git)
    }

    fn from_git(git: git2::Repository) -> Result<Repo> {
        let trailers = read_trailer_config(&git);
        let shallow = read_shallow(git.commondir());
        Ok(Repo {
            git,
            trailers,
            shallow,
        })
    }

    pub fn trailer_config(&self) -> &TrailerConfig {
        &self.trailers
    }

    /// The work tree's top directory; `None` in a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.git.workdir()
    }

    /// This work tree's git directory (`.git`, or `.git/worktrees/<name>`).
    pub fn git_dir(&self) -> &Path {
        self.git.path()
    }

    /// The git directory shared by all work trees: where the tool keeps its state.
    pub fn common_dir(&self) -> &Path {
        self.git.commondir()
    }

    pub fn is_shallow(&self) -> bool {
        !self.shallow.is_empty() || self.git.is_shallow()
    }

    /// The configured remotes, in configuration order: where [`Repo::branch_commit`] looks for
    /// a branch that is not local.
    pub fn remote_names(&self) -> Vec<String> {
        self.git.remotes().map_or_else(
            |_| Vec::new(),
            |r| {
                r.iter()
                    .filter_map(|n| n.ok().flatten())
                    .map(str::to_string)
                    .collect()
            },
        )
    }

    /// The edges of this shallow clone, sorted: what walks treat as having no parents.
    pub fn shallow_edges(&self) -> Vec<CommitId> {
        let mut edges: Vec<CommitId> = self.shallow.iter().copied().collect();
        edges.sort_unstable();
        edges
    }

    /// Whether `id` is an edge of this shallow clone: its parents are not here.
    pub fn is_shallow_edge(&self, id: CommitId) -> bool {
        self.shallow.contains(&id)
    }

    pub fn is_bare(&self) -> bool {
        self.git.is_bare()
    }

    pub fn head(&self) -> Result<Head> {
        match self.git.head() {
            Ok(r) => {
                if r.is_branch() {
                    let name = r.shorthand().unwrap_or_default().to_string();
                    Ok(Head::Branch(name))
                } else {
                    let id = r
                        .target()
                        .and_then(|oid| self.peel_commit(oid))
                        .ok_or_else(|| {
                            Error::unanswerable(
                                "cannot read HEAD: it does not point at a commit here",
                            )
                        })?;
                    Ok(Head::Detached(id))
                }
            }
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                let target = self
                    .git
                    .find_reference("HEAD")
                    .ok()
                    .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string))
                    .unwrap_or_default();
                let name = target.strip_prefix("refs/heads/").unwrap_or(&target);
                Ok(Head::Unborn(name.to_string()))
            }
            Err(e) => Err(git_error("cannot read HEAD", &e)),
        }
    }

    /// The commit HEAD points at, if there is one (git peels a tag written there by hand).
    pub fn head_commit(&self) -> Option<CommitId> {
        let r = self.git.head().ok()?.resolve().ok()?;
        let target = r.target()?;
        // A commit just made is loose, and libgit2 searches every pack index before it looks
        // at loose files. Only here: for a packed ref the look would be a failed open.
        if self
            .objects_dir()
            .is_some_and(|dir| objects::is_loose_commit(&dir, &CommitId::from_oid(target)))
        {
            return Some(CommitId::from_oid(target));
        }
        self.peel_commit(target)
    }

    /// The commit a full ref name points at, peeled through tags.
    pub fn ref_commit(&self, refname: &str) -> Option<CommitId> {
        let r = self.git.find_reference(refname).ok()?.resolve().ok()?;
        self.peel_commit(r.target()?)
    }

    /// A branch by short name: the local branch, else a remote-tracking one (`origin` first),
    /// as a CI checkout often has only those.
    pub fn branch_commit(&self, branch: &str) -> Option<CommitId> {
        if let Some(c) = self.ref_commit(&format!("refs/heads/{branch}")) {
            return Some(c);
        }
        if let Some(c) = self.ref_commit(&format!("refs/remotes/origin/{branch}")) {
            return Some(c);
        }
        let remotes = self.git.remotes().ok()?;
        remotes
            .iter()
            .filter_map(|r| r.ok().flatten())
            .find_map(|r| self.ref_commit(&format!("refs/remotes/{r}/{branch}")))
    }

    pub fn local_branch_exists(&self, branch: &str) -> bool {
        self.git
            .find_reference(&format!("refs/heads/{branch}"))
            .is_ok()
    }

    /// Resolves a revision (`HEAD`, `main~2`, an id) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<CommitId> {
        let obj = self
            .git
            .revparse_single(rev)
            .map_err(|_| Error::input(format!("unknown revision '{rev}'")))?;
        self.peel_commit(obj.id())
            .ok_or_else(|| Error::input(format!("'{rev}' does not name a commit")))
    }

    /// Every tip a commit can be reached from: HEAD, local branches and remote-tracking
    /// branches, without duplicates.
    pub fn tips(&self) -> Result<Vec<CommitId>> {
        Ok(self.tips_of(&self.ref_snapshot()?, |_| false))
    }

    /// What HEAD (as the commit it names) and every local and remote-tracking branch point to,
    /// sorted by name: the refs [`Repo::tips`] starts from.
    pub fn ref_snapshot(&self) -> Result<Vec<(String, CommitId)>> {
        self.ref_snapshot_with_head(self.head_commit())
    }

    /// As [`Repo::ref_snapshot`], with HEAD's commit as the caller has just read it.
    pub fn ref_snapshot_with_head(
        &self,
        head: Option<CommitId>,
    ) -> Result<Vec<(String, CommitId)>> {
        let mut out = Vec::new();
        if let Some(c) = head {
            out.push(("HEAD".to_string(), c));
        }
        let refs = self
            .git
            .references()
            .map_err(|e| git_error("cannot list branches", &e))?;
        for r in refs.flatten() {
            let Ok(name) = r.name() else { continue };
            if !(name.starts_with("refs/heads/") || name.starts_with("refs/remotes/")) {
                continue;
            }
            // Resolving a direct ref looks it up again, which for a packed one means checking
            // the packed-refs file once more: thousands of branches made that milliseconds.
            let target = match r.target() {
                Some(t) => Some(t),
                None => r.resolve().ok().and_then(|r| r.target()),
            };
            if let Some(target) = target {
                out.push((name.to_string(), CommitId::from_oid(target)));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The commits a [`Repo::ref_snapshot`] names, HEAD's first, without duplicates. A target
    /// `is_commit` knows (a tip the cache was computed from) is not read again to peel it.
    pub fn tips_of(
        &self,
        snapshot: &[(String, CommitId)],
        is_commit: impl Fn(CommitId) -> bool,
    ) -> Vec<CommitId> {
        let mut tips = Vec::new();
        let mut seen = IdSet::default();
        let head = snapshot.iter().filter(|(n, _)| n == "HEAD");
        for (name, target) in head.chain(snapshot.iter().filter(|(n, _)| n != "HEAD")) {
            let commit = if name == "HEAD" || is_commit(*target) {
                Some(*target)
            } else {
                self.peel_commit(target.oid())
            };
            if let Some(c) = commit
                && seen.insert(c)
            {
                tips.push(c);
            }
        }
        tips
    }

    /// The commit an object id names, through annotated tags. The objects are read raw, not
    /// through libgit2's commit parser, which refuses commits whose dates or names are
    /// malformed: history may hold them, and a branch pointing at one is still a branch.
    fn peel_commit(&self, mut oid: git2::Oid) -> Option<CommitId> {
        let odb = self.git.odb().ok()?;
        // Tags of tags end somewhere; a cycle cannot be built, but stop anyway.
        for _ in 0..32 {
            let (_, kind) = odb.read_header(oid).ok()?;
            match kind {
                git2::ObjectType::Commit => return Some(CommitId::from_oid(oid)),
                git2::ObjectType::Tag => {
                    let tag = odb.read(oid).ok()?;
                    oid = raw_header(tag.data(), b"object ")
                        .and_then(|hex| git2::Oid::from_str(hex).ok())?;
                }
                _ => return None,
            }
        }
        None
    }

    /// The tree of commit `at`, read from the raw commit (see [`Repo::peel_commit`]).
    fn tree_of(&self, at: CommitId) -> Option<git2::Oid> {
        let odb = self.git.odb().ok()?;
        let obj = odb.read(at.oid()).ok()?;
        raw_header(obj.data(), b"tree ").and_then(|hex| git2::Oid::from_str(hex).ok())
    }

    /// Reads one commit and hands it to `f`: from its loose file when it has one (a commit just
    /// made does), else through libgit2.
    pub fn with_commit<T>(&self, id: CommitId, f: impl FnOnce(&Commit) -> T) -> Result<T> {
        if let Some(data) = self
            .objects_dir()
            .and_then(|dir| objects::loose_commit(&dir, &id))
        {
            return Ok(f(&parse_commit(id, &data)));
        }
        let odb = self
            .git
            .odb()
            .map_err(|e| git_error("cannot open the object database", &e))?;
        let obj = read_commit_object(&odb, id)?;
        Ok(f(&parse_commit(id, obj.data())))
    }

    /// The object directory git-session reads itself; `None` when the environment names one
    /// (`GIT_OBJECT_DIRECTORY`), which is libgit2's to find.
    fn objects_dir(&self) -> Option<PathBuf> {
        std::env::var_os("GIT_OBJECT_DIRECTORY")
            .is_none()
            .then(|| self.common_dir().join("objects"))
    }

    /// Reads each of `ids` in order and hands it to `f`. Many are read as bounded walks read
    /// them (the pack indexes searched by reads, opened once), so that reading thousands of
    /// commits one by one does not bring libgit2's mapping of every index into memory.
    pub fn each_commit(
        &self,
        ids: &[CommitId],
        f: &mut dyn FnMut(&Commit) -> Result<()>,
    ) -> Result<()> {
        let odb = self
            .git
            .odb()
            .map_err(|e| git_error("cannot open the object database", &e))?;
        let mut reader = ById::new(&odb, self.objects_dir(), ById::FEW);
        for &id in ids {
            f(&parse_commit(id, reader.read(id)?.data()))?;
        }
        Ok(())
    }

    /// Visits every commit reachable from `tips`, newest committer date first, down to commits
    /// committed before `since` (all of them when `None`): the walk goes on through up to
    /// [`OLD_SLOP`] older commits in a row, so commits dated out of order hide nothing behind
    /// them. Each commit is read once.
    pub fn walk(
        &self,
        tips: &[CommitId],
        since: Option<i64>,
        visit: &mut dyn FnMut(&Commit) -> Result<()>,
    ) -> Result<WalkStats> {
        self.walk_until(tips, since, &mut |_, _| false, visit)
    }

    /// As [`Repo::walk`], but commits for which `known(id, committer time)` says yes are
    /// neither visited nor walked past; they are listed in [`WalkStats::boundary`].
    pub fn walk_until(
        &self,
        tips: &[CommitId],
        since: Option<i64>,
        known: &mut dyn FnMut(CommitId, i64) -> bool,
        visit: &mut dyn FnMut(&Commit) -> Result<()>,
    ) -> Result<WalkStats> {
        self.walk_with(tips, &|_| None, since, known, visit, Reading::Indexes(None))
    }

    /// As [`Repo::walk_until`], where `dated` gives the committer time of tips already known
    /// (the memo's walk started from them): such a tip is read only if the walk comes to it,
    /// which for the old tips of thousands of branches it does not.
    pub fn walk_dated(
        &self,
        tips: &[CommitId],
        dated: &dyn Fn(CommitId) -> Option<i64>,
        since: Option<i64>,
        visit: &mut dyn FnMut(&Commit) -> Result<()>,
    ) -> Result<WalkStats> {
        self.walk_with(
            tips,
            dated,
            since,
            &mut |_, _| false,
            visit,
            Reading::Indexes(None),
        )
    }

    /// As [`Repo::walk`] with no bound, for walks of all history: commits are read from the
    /// pack files directly where they can be ([`objects`]), so memory does not grow with the
    /// number of objects in the repository. Same commits, same order.
    pub fn walk_all(
        &self,
        tips: &[CommitId],
        visit: &mut dyn FnMut(&Commit) -> Result<()>,
    ) -> Result<WalkStats> {
        self.walk_with(
            tips,
            &|_| None,
            None,
            &mut |_, _| false,
            visit,
            Reading::Packed,
        )
    }

    fn walk_with(
        &self,
        tips: &[CommitId],
        dated: &dyn Fn(CommitId) -> Option<i64>,
        since: Option<i64>,
        known: &mut dyn FnMut(CommitId, i64) -> bool,
        visit: &mut dyn FnMut(&Commit) -> Result<()>,
        reading: Reading,
    ) -> Result<WalkStats> {
        let odb = self
            .git
            .odb()
            .map_err(|e| git_error("cannot open the object database", &e))?;
        let mut source = Source {
            seen: CommitSet::default(),
            packed: None,
            by_id: ById::new(&odb, None, 0),
        };
        let mut widen_at = usize::MAX;
        match (reading, self.objects_dir()) {
            (Reading::Libgit2, _) | (_, None) => {}
            (Reading::Packed, Some(dir)) => {
                let packed = objects::Packed::load(&dir);
                let bits = objects::Bits::new(packed.total());
                source.packed = Some((packed, objects::Reader::default(), bits));
            }
            (Reading::Indexes(after), Some(dir)) => {
                let indexes = objects::Indexes::open(&dir);
                // Listing every packed commit costs about what looking up a fortieth of the
                // objects one by one does.
                widen_at = after.unwrap_or_else(|| {
                    usize::try_from(indexes.objects() / 40)
                        .unwrap_or(usize::MAX)
                        .max(4096)
                });
                source.by_id.direct = Some((indexes, objects::Reader::default()));
            }
        }
        let since = since.unwrap_or(i64::MIN);
        let mut stats = WalkStats::default();
        let mut queue: BinaryHeap<Queued> = BinaryHeap::new();
        for &tip in tips {
            match dated(tip) {
                // Read when the walk comes to it, if it does.
                Some(time) if source.packed.is_none() => {
                    if !source.seen.insert(tip) {
                        continue;
                    }
                    if known(tip, time) {
                        stats.boundary.push(tip);
                        continue;
                    }
                    queue.push(Queued {
                        time,
                        id: tip,
                        obj: Raw::Later,
                    });
                }
                _ => enqueue(&mut source, tip, known, &mut queue, &mut stats)?,
            }
        }
        stats.starts = queue.iter().map(|q| (q.time, q.id)).collect();
        // A commit dated before `since` does not end the walk: one with a wrong clock, or
        // rebased with --committer-date-is-author-date, may sit on top of newer ones. The walk
        // ends after a run of OLD_SLOP such commits in a row.
        let mut old_run = 0;
        while let Some(mut q) = queue.pop() {
            if matches!(q.obj, Raw::Later) {
                let read = Queued::new(q.id, source.read_later(q.id)?);
                // A date that was not the commit's own would misorder the walk: queue it again
                // by its own.
                if read.time != q.time {
                    queue.push(read);
                    continue;
                }
                q = read;
            }
            if q.time < since {
                old_run += 1;
                if old_run > OLD_SLOP {
                    break;
                }
            } else {
                old_run = 0;
            }
            let commit = parse_commit(q.id, q.obj.data());
            visit(&commit)?;
            stats.visited += 1;
            if stats.visited == widen_at {
                source.widen();
            }
            if self.shallow.contains(&q.id) {
                stats.truncated_at.push(q.id);
                continue;
            }
            for &p in &commit.parents {
                enqueue(&mut source, p, known, &mut queue, &mut stats)?;
            }
        }
        stats.seen = source.into_seen();
        Ok(stats)
    }

    /// Commits reachable from `include` but from none of `exclude` (`include ^exclude…`), and
    /// whether the walk met the edge of a shallow clone among them.
    ///
    /// This is git's `limit_list`, on raw commits (libgit2's revwalk refuses a commit with a
    /// malformed date, which old histories hold): newest first from both sides, what an
    /// excluded commit reaches is excluded, and the walk stops once only excluded commits are
    /// queued, after a few more and a day's worth for clocks that disagree.
    pub fn range(&self, include: CommitId, exclude: &[CommitId]) -> Result<(Vec<CommitId>, bool)> {
        const SEEN: u8 = 1;
        const HIDDEN: u8 = 2;
        const SLOP: usize = 5;
        const SKEW: i64 = 24 * 3600;
        let odb = self
            .git
            .odb()
            .map_err(|e| git_error("cannot open the object database", &e))?;
        let mut reader = ById::new(&odb, self.objects_dir(), ById::FEW);
        let mut flags: std::collections::HashMap<CommitId, u8, BuildHasherDefault<IdHasher>> =
            Default::default();
        let mut parents_of: std::collections::HashMap<
            CommitId,
            Vec<CommitId>,
            BuildHasherDefault<IdHasher>,
        > = Default::default();
        let mut queue: BinaryHeap<(i64, CommitId)> = BinaryHeap::new();
        let mut popped = Vec::new();
        // A commit is read once, when first seen: its date orders the queue, and its parents
        // are known from then on, so hiding it hides what it reaches, as in git.
        let mut push = |id: CommitId,
                        hidden: bool,
                        flags: &mut std::collections::HashMap<_, u8, _>,
                        parents_of: &mut std::collections::HashMap<_, Vec<CommitId>, _>,
                        queue: &mut BinaryHeap<(i64, CommitId)>|
         -> Result<()> {
            let f = flags.entry(id).or_insert(0);
            if hidden {
                *f |= HIDDEN;
            }
            if *f & SEEN == 0 {
                *f |= SEEN;
                let obj = reader.read(id)?;
                let parents = if self.shallow.contains(&id) {
                    Vec::new()
                } else {
                    parse_commit(id, obj.data()).parents
                };
                parents_of.insert(id, parents);
                queue.push((committer_time(obj.data()), id));
            }
            Ok(())
        };
        for &e in exclude {
            push(e, true, &mut flags, &mut parents_of, &mut queue)?;
        }
        push(include, false, &mut flags, &mut parents_of, &mut queue)?;
        let mut slop = SLOP;
        // The date of the oldest wanted commit so far.
        let mut date = i64::MAX;
        while let Some((time, id)) = queue.pop() {
            let parents = parents_of.get(&id).cloned().unwrap_or_default();
            let hidden = flags.get(&id).is_some_and(|f| f & HIDDEN != 0);
            if hidden {
                hide_ancestors(&parents, &parents_of, &mut flags);
            }
            for &p in &parents {
                push(p, hidden, &mut flags, &mut parents_of, &mut queue)?;
            }
            if !hidden {
                date = time;
                popped.push(id);
                continue;
            }
            // git's still_interesting: not done while a queued commit is as new as a wanted one,
            // or a queued commit is still wanted; then a few more. git's few more are not enough
            // for clocks a few hours apart, which old histories have: here the walk also goes
            // on through a day of excluded history older than the oldest wanted commit.
            slop = match queue.peek() {
                None => 0,
                Some(&(next, _)) if date.saturating_sub(SKEW) <= next => SLOP,
                Some(_)
                    if queue
                        .iter()
                        .any(|(_, q)| flags.get(q).is_none_or(|f| f & HIDDEN == 0)) =>
                {
                    SLOP
                }
                Some(_) => slop - 1,
            };
            if slop == 0 {
                break;
            }
        }
        let out: Vec<CommitId> = popped
            .into_iter()
            .filter(|id| flags.get(id).is_some_and(|f| f & HIDDEN == 0))
            .collect();
        let truncated = out.iter().any(|id| self.shallow.contains(id));
        Ok((out, truncated))
    }

    /// The file at `path` in commit `at`'s tree. Nothing is ever fetched: a blob that a partial
    /// clone has not fetched yet is [`TreeFile::NotHere`]. A symlink or a submodule is
    /// [`TreeFile::NotRegular`], and its target is not read.
    pub fn file_at(&self, at: CommitId, path: &str, max: usize) -> TreeFile {
        let Some(tree) = self.tree_of(at).and_then(|t| self.git.find_tree(t).ok()) else {
            return TreeFile::NotHere;
        };
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) => e,
            // A missing tree on the way (`--filter=tree:0`) is history not here, not absence.
            Err(e)
                if e.code() == git2::ErrorCode::NotFound && e.class() == git2::ErrorClass::Tree =>
            {
                return TreeFile::Absent;
            }
            Err(_) => return TreeFile::NotHere,
        };
        if entry.kind() != Some(git2::ObjectType::Blob) || entry.filemode() == 0o120000 {
            return TreeFile::NotRegular;
        }
        let Ok(odb) = self.git.odb() else {
            return TreeFile::NotHere;
        };
        let Ok((size, _)) = odb.read_header(entry.id()) else {
            return TreeFile::NotHere;
        };
        if size > max {
            return TreeFile::TooLarge;
        }
        match odb.read(entry.id()) {
            Ok(blob) => TreeFile::Found(blob.data().to_vec()),
            Err(_) => TreeFile::NotHere,
        }
    }

    /// Creates `refs/heads/<branch>` at `at` (fails if it exists).
    pub fn create_branch(&self, branch: &str, at: CommitId) -> Result<()> {
        // A plain ref, as `git branch` writes it: the commit is not parsed, so one with a
        // malformed date (see `peel_commit`) can be branched from.
        self.git
            .reference(
                &format!("refs/heads/{branch}"),
                at.oid(),
                false,
                &format!("branch: Created from {}", at.hex()),
            )
            .map_err(|e| {
                Error::input(format!("cannot create branch '{branch}': {}", e.message()))
            })?;
        Ok(())
    }

    /// Points HEAD at `refs/heads/<branch>`. The branch is created at HEAD's commit (or is
    /// unborn), so the index and work tree stay as they are, as with `git switch -c`.
    pub fn set_head_branch(&self, branch: &str) -> Result<()> {
        self.git
            .set_head(&format!("refs/heads/{branch}"))
            .map_err(|e| git_error(&format!("cannot switch to '{branch}'"), &e))
    }

    /// Stages a file of the work tree (`git add <path>`), `path` relative to the top.
    pub fn stage(&self, path: &Path) -> Result<()> {
        let mut index = self
            .git
            .index()
            .map_err(|e| git_error("cannot open the index", &e))?;
        index
            .add_path(path)
            .map_err(|e| git_error(&format!("cannot stage {}", path.display()), &e))?;
        index
            .write()
            .map_err(|e| git_error("cannot write the index", &e))
    }

    /// Whether the work-tree file at `path` (relative to the top) has changes the index does
    /// not hold: modified, or not tracked at all.
    pub fn has_unstaged_changes(&self, path: &Path) -> Result<bool> {
        let status = self
            .git
            .status_file(path)
            .map_err(|e| git_error(&format!("cannot read the status of {}", path.display()), &e))?;
        Ok(status.intersects(
            git2::Status::WT_NEW
                | git2::Status::WT_MODIFIED
                | git2::Status::WT_TYPECHANGE
                | git2::Status::WT_RENAMED,
        ))
    }

    /// A config value as git resolves it (local over global over system).
    pub fn config_string(&self, key: &str) -> Option<String> {
        if let Some(v) = command_line_config()
            .into_iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            return Some(v.1);
        }
        self.git.config().ok()?.get_string(key).ok()
    }

    /// Where git looks for hooks, as `git rev-parse --git-path hooks` says: `core.hooksPath`
    /// (with `~/` expanded; a relative path is relative to the top of the work tree, where git
    /// runs hooks, or to the git directory when bare), else `hooks` in the common git directory
    /// (shared by linked work trees; a submodule's is under the superproject's `.git/modules`).
    pub fn hooks_dir(&self) -> HooksDir {
        let configured = self
            .git
            .config()
            .ok()
            .and_then(|c| c.get_path("core.hooksPath").ok())
            .filter(|p| !p.as_os_str().is_empty());
        match configured {
            Some(p) => {
                let raw = self
                    .config_string("core.hooksPath")
                    .unwrap_or_else(|| p.display().to_string());
                let base = self.workdir().unwrap_or_else(|| self.git_dir());
                HooksDir {
                    path: base.join(&p),
                    configured: Some(raw),
                }
            }
            None => HooksDir {
                path: self.common_dir().join("hooks"),
                configured: None,
            },
        }
    }

    /// What is under way in this work tree that makes commits from other commits: a merge, a
    /// cherry-pick, a revert, a rebase (read from the state files in the git directory).
    pub fn in_progress(&self) -> InProgress {
        let dir = self.git_dir();
        let has = |name: &str| dir.join(name).exists();
        let rebase = ["rebase-merge", "rebase-apply"]
            .iter()
            .find(|d| has(d))
            .map(|d| {
                let head =
                    std::fs::read_to_string(dir.join(d).join("head-name")).unwrap_or_default();
                head.trim().strip_prefix("refs/heads/").map(str::to_string)
            });
        InProgress {
            merge: has("MERGE_HEAD"),
            cherry_pick: has("CHERRY_PICK_HEAD") || has("sequencer"),
            revert: has("REVERT_HEAD"),
            rebase,
        }
    }
}

/// What a commit's tree holds at a path (see [`Repo::file_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeFile {
    Found(Vec<u8>),
    /// No such path in the tree.
    Absent,
    /// The object is not in this repository (a partial clone has not fetched it).
    NotHere,
    TooLarge,
    /// A symlink, a directory or a submodule.
    NotRegular,
}

/// Where git runs hooks from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HooksDir {
    pub path: PathBuf,
    /// `core.hooksPath` as configured, when it is set.
    pub configured: Option<String>,
}

/// Operations under way in a work tree (see [`Repo::in_progress`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InProgress {
    pub merge: bool,
    /// A cherry-pick, or a sequence of picks or reverts (`.git/sequencer`).
    pub cherry_pick: bool,
    pub revert: bool,
    /// A rebase: `Some(branch)` being rebased (`None` inside when it started detached).
    pub rebase: Option<Option<String>>,
}

impl InProgress {
    /// Whether commits are being made from other commits right now.
    pub fn rewriting(&self) -> bool {
        self.merge || self.cherry_pick || self.revert || self.rebase.is_some()
    }
}

/// How many commits older than a walk's bound it reads in a row before it stops.
pub const OLD_SLOP: usize = 32;

/// Queues a commit of a walk unless it was seen, or is known (then it is a boundary).
fn enqueue<'odb>(
    source: &mut Source<'odb>,
    id: CommitId,
    known: &mut dyn FnMut(CommitId, i64) -> bool,
    queue: &mut BinaryHeap<Queued<'odb>>,
    stats: &mut WalkStats,
) -> Result<()> {
    let Some(q) = source.first_read(id)? else {
        return Ok(());
    };
    if known(id, q.time) {
        stats.boundary.push(id);
        return Ok(());
    }
    queue.push(q);
    Ok(())
}

/// How a walk finds its commits.
#[derive(Clone, Copy)]
enum Reading {
    /// Through libgit2 only.
    #[cfg_attr(not(test), allow(dead_code))]
    Libgit2,
    /// Each pack index searched by reads, until the walk has visited this many commits (or
    /// the default for the repository's size) and lists them all.
    Indexes(Option<usize>),
    /// Every packed commit listed first.
    Packed,
}

/// Where a walk reads its commits, and which it has met: every packed commit listed (a walk
/// of all history), or the pack indexes searched one commit at a time, or libgit2 alone.
struct Source<'odb> {
    seen: CommitSet,
    packed: Option<(objects::Packed, objects::Reader, objects::Bits)>,
    /// What the listing does not hold, or everything when there is none.
    by_id: ById<'odb>,
}

impl<'odb> Source<'odb> {
    /// The commit `id`, read, unless the walk met it before.
    fn first_read(&mut self, id: CommitId) -> Result<Option<Queued<'odb>>> {
        if let Some((packed, reader, met)) = &mut self.packed
            && let Some(slot) = packed.find(&id)
        {
            if !met.insert(packed.position(slot)) {
                return Ok(None);
            }
            if let Some(data) = packed.read(slot, reader) {
                return Ok(Some(Queued::new(id, Raw::Own(data))));
            }
        } else if !self.seen.insert(id) {
            return Ok(None);
        } else if let Some((packed, reader, _)) = &mut self.packed
            && let Some(data) = packed.read_loose(&id, reader)
        {
            return Ok(Some(Queued::new(id, Raw::Own(data))));
        }
        Ok(Some(Queued::new(id, self.by_id.read(id)?)))
    }

    /// A tip queued with its date alone ([`Repo::walk_dated`]), read now that the walk has
    /// come to it; it is already among the commits met.
    fn read_later(&mut self, id: CommitId) -> Result<Raw<'odb>> {
        if let Some((packed, reader, _)) = &mut self.packed {
            let data = match packed.find(&id) {
                Some(slot) => packed.read(slot, reader),
                None => packed.read_loose(&id, reader),
            };
            if let Some(data) = data {
                return Ok(Raw::Own(data));
            }
        }
        self.by_id.read(id)
    }

    /// Lists every packed commit, for a walk that turned out long.
    fn widen(&mut self) {
        let Some((indexes, _)) = self.by_id.direct.take() else {
            return;
        };
        let packed = objects::Packed::load(indexes.dir());
        let mut met = objects::Bits::new(packed.total());
        let mut rest = CommitSet::default();
        for id in std::mem::take(&mut self.seen).into_vec() {
            match packed.find(&id) {
                Some(slot) => {
                    met.insert(packed.position(slot));
                }
                None => {
                    rest.insert(id);
                }
            }
        }
        self.seen = rest;
        self.packed = Some((packed, objects::Reader::default(), met));
    }

    /// Every commit met, unordered.
    fn into_seen(self) -> Vec<CommitId> {
        let rest = self.seen.into_vec();
        match self.packed {
            Some((packed, _, met)) => {
                let mut ids = packed.into_ids(&met);
                ids.reserve_exact(rest.len());
                ids.extend_from_slice(&rest);
                ids
            }
            None => rest,
        }
    }
}

/// Reads commits by id: the first `few` through libgit2, then through the pack indexes of
/// `objects` searched by reads (opened once), libgit2 taking what they cannot.
struct ById<'odb> {
    odb: &'odb git2::Odb<'odb>,
    objects: Option<PathBuf>,
    few: usize,
    reads: usize,
    direct: Option<(objects::Indexes, objects::Reader)>,
}

impl<'odb> ById<'odb> {
    /// Reads of a loop past which the indexes are opened: fewer cost less through libgit2.
    const FEW: usize = 16;

    fn new(odb: &'odb git2::Odb<'odb>, objects: Option<PathBuf>, few: usize) -> ById<'odb> {
        ById {
            odb,
            objects,
            few,
            reads: 0,
            direct: None,
        }
    }

    fn read(&mut self, id: CommitId) -> Result<Raw<'odb>> {
        self.reads += 1;
        if self.reads > self.few
            && let Some(dir) = self.objects.take()
        {
            self.direct = Some((objects::Indexes::open(&dir), objects::Reader::default()));
        }
        if let Some((indexes, reader)) = &mut self.direct
            && let Some(data) = indexes.read(&id, reader)
        {
            return Ok(Raw::Own(data));
        }
        Ok(Raw::Git(read_commit_object(self.odb, id)?))
    }
}

/// A raw commit, as libgit2 read it or as read from its pack.
enum Raw<'odb> {
    Git(git2::OdbObject<'odb>),
    Own(Vec<u8>),
    /// Not read yet: a tip whose date was known ([`Repo::walk_dated`]).
    Later,
}

impl Raw<'_> {
    fn data(&self) -> &[u8] {
        match self {
            Raw::Git(obj) => obj.data(),
            Raw::Own(data) => data,
            Raw::Later => &[],
        }
    }
}

/// A commit waiting in the walk's queue, already read, ordered by committer time.
struct Queued<'odb> {
    time: i64,
    id: CommitId,
    obj: Raw<'odb>,
}

impl<'odb> Queued<'odb> {
    fn new(id: CommitId, obj: Raw<'odb>) -> Queued<'odb> {
        let time = committer_time(obj.data());
        Queued { time, id, obj }
    }
}

impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.id) == (other.time, other.id)
    }
}
impl Eq for Queued<'_> {}
impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.id).cmp(&(other.time, other.id))
    }
}

fn read_commit_object<'odb>(odb: &'odb git2::Odb, id: CommitId) -> Result<git2::OdbObject<'odb>> {
    let obj = odb.read(id.oid()).map_err(|e| {
        Error::unanswerable(format!(
            "commit {} is missing from the repository ({}); fetch the full history (git fetch --unshallow) or repair the repository",
            id.short(),
            e.message().trim_end_matches('.')
        ))
    })?;
    if obj.kind() != git2::ObjectType::Commit {
        return Err(Error::unanswerable(format!(
            "object {} is not a commit",
            id.short()
        )));
    }
    Ok(obj)
}

/// Hides the parents of a hidden commit and every ancestor of theirs already seen, as git's
/// `process_parents` and `mark_parents_uninteresting`: they may have been queued, or even
/// walked, as wanted before the hiding side reached them.
fn hide_ancestors(
    parents: &[CommitId],
    parents_of: &std::collections::HashMap<CommitId, Vec<CommitId>, BuildHasherDefault<IdHasher>>,
    flags: &mut std::collections::HashMap<CommitId, u8, BuildHasherDefault<IdHasher>>,
) {
    const HIDDEN: u8 = 2;
    let mut stack: Vec<CommitId> = Vec::new();
    for p in parents {
        *flags.entry(*p).or_insert(0) |= HIDDEN;
        stack.extend(parents_of.get(p).into_iter().flatten().copied());
    }
    while let Some(id) = stack.pop() {
        let f = flags.entry(id).or_insert(0);
        if *f & HIDDEN != 0 {
            continue;
        }
        *f |= HIDDEN;
        stack.extend(parents_of.get(&id).into_iter().flatten().copied());
    }
}

/// The value of the first header line starting with `key` in a raw object, as text.
fn raw_header<'a>(data: &'a [u8], key: &[u8]) -> Option<&'a str> {
    for line in data.split(|&c| c == b'\n') {
        if line.is_empty() {
            return None;
        }
        if let Some(value) = line.strip_prefix(key) {
            return std::str::from_utf8(value).ok();
        }
    }
    None
}

/// The committer time from a raw commit's headers, without parsing the rest.
fn committer_time(data: &[u8]) -> i64 {
    let mut rest = data;
    while let Some(nl) = rest.iter().position(|&c| c == b'\n') {
        let line = &rest[..nl];
        if line.is_empty() {
            break;
        }
        if let Some(p) = line.strip_prefix(b"committer ") {
            return parse_person(p).time;
        }
        rest = &rest[nl + 1..];
    }
    0
}

fn open_error(e: &git2::Error) -> Error {
    match e.code() {
        git2::ErrorCode::NotFound => Error::input(
            "not a git repository (or any parent directory); run git session inside a repository",
        ),
        git2::ErrorCode::Owner => {
            let path = owned_path(e.message()).map_or_else(
                || std::env::current_dir().unwrap_or_default(),
                PathBuf::from,
            );
            Error::input(format!(
                "git refuses this repository because another user owns it; if you trust it, run: git config --global --add safe.directory {}",
                path.display()
            ))
        }
        _ => Error::input(format!(
            "cannot open the repository: {}",
            e.message().trim_end_matches('.')
        )),
    }
}

/// The directory libgit2 names when it refuses a repository another user owns (the top of the
/// work tree, as git's `safe.directory` wants it), from "repository path '<dir>' is not owned
/// by current user".
fn owned_path(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("repository path '")?;
    let end = rest.rfind("' is not owned")?;
    Some(&rest[..end]).filter(|p| !p.is_empty())
}

fn read_trailer_config(git: &git2::Repository) -> TrailerConfig {
    let Ok(config) = git.config() else {
        return TrailerConfig::default();
    };
    let wanted = |k: &str| {
        let k = k.to_ascii_lowercase();
        k == "core.commentchar" || k == "core.commentstring" || k.starts_with("trailer.")
    };
    let mut entries: Vec<(String, String)> = Vec::new();
    // Every entry, filtered here: a pattern would cost a regular expression's compilation on
    // every start, hooks included.
    if let Ok(mut iter) = config.entries(None) {
        while let Some(Ok(entry)) = iter.next() {
            if let (Ok(name), Ok(value)) = (entry.name(), entry.value())
                && wanted(name)
            {
                entries.push((name.to_string(), value.to_string()));
            }
        }
    }
    entries.extend(command_line_config().into_iter().filter(|(k, _)| wanted(k)));
    TrailerConfig::from_entries(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Configuration from git's command line (`git -c key=value`, `--config-env`, and
/// `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`), which git hands to the
/// processes it starts (hooks, `git session`) in the environment and ranks above every file.
/// libgit2 does not read it, so it is read here, in order.
fn command_line_config() -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(params) = std::env::var("GIT_CONFIG_PARAMETERS") {
        out.extend(parse_config_parameters(&params));
    }
    let count: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    for i in 0..count.min(1000) {
        if let (Ok(k), Ok(v)) = (
            std::env::var(format!("GIT_CONFIG_KEY_{i}")),
            std::env::var(format!("GIT_CONFIG_VALUE_{i}")),
        ) {
            out.push((k, v));
        }
    }
    out
}

/// `GIT_CONFIG_PARAMETERS`: shell-quoted entries separated by spaces, each `'key'='value'`
/// (git 2.31 and later), `'key=value'` (older), or `'key'` (a boolean set to true).
pub fn parse_config_parameters(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some((first, after)) = sq_dequote(rest) else {
            break;
        };
        rest = after;
        if let Some(value_part) = rest.strip_prefix('=') {
            // `'key'=` with nothing quoted after it is `-c key`: a boolean set to true.
            match sq_dequote(value_part) {
                Some((value, after)) => {
                    rest = after;
                    out.push((first, value));
                }
                None => {
                    rest = value_part;
                    out.push((first, "true".to_string()));
                }
            }
        } else {
            match first.split_once('=') {
                Some((k, v)) => out.push((k.to_string(), v.to_string())),
                None => out.push((first, "true".to_string())),
            }
        }
    }
    out
}

/// One single-quoted word (`'it'\''s'` is "it's"): the text and what follows it.
fn sq_dequote(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('\'')?;
    let mut out = String::new();
    loop {
        let end = rest.find('\'')?;
        out.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        // git quotes ' and ! as '\'' and '\!'.
        match rest.as_bytes() {
            [b'\\', c @ (b'\'' | b'!'), b'\'', ..] => {
                out.push(*c as char);
                rest = &rest[3..];
            }
            _ => return Some((out, rest)),
        }
    }
}

/// The commits whose parents a shallow clone does not have (`$GIT_DIR/shallow`).
fn read_shallow(common_dir: &Path) -> IdSet {
    let path: PathBuf = common_dir.join("shallow");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| CommitId::from_hex(l.trim()))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn parses_a_raw_commit() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent 0123456789abcdef0123456789abcdef01234567\n\
author Ada Lovelace <ada@example.org> 1700000000 +0130\n\
committer C <c@x> 1700000100 -0200\n\
gpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n\
\n\
Subject line\n\nBody\n";
        let c = parse_commit(CommitId([1; 20]), raw);
        assert_eq!(c.parents.len(), 1);
        assert_eq!(c.author.name, b"Ada Lovelace");
        assert_eq!(c.author.email, b"ada@example.org");
        assert_eq!(c.author.time, 1_700_000_000);
        assert_eq!(c.author.offset, 90);
        assert_eq!(c.committer.time, 1_700_000_100);
        assert_eq!(c.committer.offset, -120);
        assert_eq!(&*c.message, b"Subject line\n\nBody\n");
        assert_eq!(c.summary(), "Subject line");
        assert_eq!(committer_time(raw), 1_700_000_100);
    }

    #[test]
    fn ids_round_trip_through_hex() {
        let id = CommitId(std::array::from_fn(|i| (i as u8).wrapping_mul(37)));
        let hex = id.hex();
        assert_eq!(hex, git2::Oid::from_bytes(&id.0).expect("oid").to_string());
        assert_eq!(id.to_string(), hex);
        assert_eq!(id.short(), hex[..7]);
        assert_eq!(CommitId::from_hex(&hex), Some(id));
        assert_eq!(CommitId::from_hex(&hex.to_uppercase()), Some(id));
        for bad in [
            &hex[..39],
            "+123456789abcdef0123456789abcdef01234567",
            &"g".repeat(40),
        ] {
            assert_eq!(CommitId::from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn latin1_commits_are_read_as_utf8() {
        let raw =
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nencoding ISO-8859-1\n\ncaf\xe9\n";
        let c = parse_commit(CommitId([1; 20]), raw);
        assert_eq!(&*c.message, "café\n".as_bytes());
    }

    #[test]
    fn the_first_author_and_committer_count_as_git_reads_them() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author A <a@x> 100 +0000\nauthor B <b@x> 200 +0000\n\
committer C <c@x> 300 +0000\ncommitter D <d@x> 400 +0000\n\nm\n";
        let c = parse_commit(CommitId([2; 20]), raw);
        assert_eq!((c.author.time, c.committer.time), (100, 300));
        // The walk orders by the same date.
        assert_eq!(committer_time(raw), c.committer.time);
    }

    #[test]
    fn malformed_headers_do_not_fail() {
        let c = parse_commit(CommitId([0; 20]), b"author nobody\ncommitter <> x\n");
        assert_eq!(c.author, Person::default());
        assert!(c.message.is_empty());
    }

    #[test]
    fn command_line_config_is_read_as_git_writes_it() {
        assert_eq!(
            parse_config_parameters("'core.commentchar'=';' 'trailer.sess.key'='Session' 'x.flag'"),
            [
                ("core.commentchar".to_string(), ";".to_string()),
                ("trailer.sess.key".to_string(), "Session".to_string()),
                ("x.flag".to_string(), "true".to_string()),
            ]
        );
        assert_eq!(
            parse_config_parameters("'a.b=it'\\''s' 'c.d'='x y'"),
            [
                ("a.b".to_string(), "it's".to_string()),
                ("c.d".to_string(), "x y".to_string())
            ]
        );
        // As git 2.47 writes `-c x.flag -c 'alias.z=!cmd'`.
        assert_eq!(
            parse_config_parameters("'x.flag'= 'alias.z'=''\\!'cmd'"),
            [
                ("x.flag".to_string(), "true".to_string()),
                ("alias.z".to_string(), "!cmd".to_string())
            ]
        );
        assert!(parse_config_parameters("garbage").is_empty());
    }

    #[test]
    fn the_owner_refusal_names_the_directory_to_trust() {
        let e = git2::Error::new(
            git2::ErrorCode::Owner,
            git2::ErrorClass::Config,
            "repository path '/srv/their repo' is not owned by current user",
        );
        let err = open_error(&e);
        assert_eq!(err.kind, crate::Kind::Input);
        assert!(
            err.message
                .ends_with("git config --global --add safe.directory /srv/their repo"),
            "{}",
            err.message
        );
        assert_eq!(owned_path("something else"), None);
    }

    #[test]
    fn hex_round_trip() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(CommitId::from_hex(hex).unwrap().hex(), hex);
        assert!(CommitId::from_hex("xyz").is_none());
    }

    /// Runs real git in `dir`, with no user or system configuration.
    pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
        git_with(dir, args, &[])
    }

    fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.org")
            .env("GIT_COMMITTER_NAME", "C")
            .env("GIT_COMMITTER_EMAIL", "c@example.org")
            .envs(env.iter().copied())
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Commits with long, alike messages (which `repack -f` stores as deltas), three to each
    /// second, a minute apart.
    fn commit_run(dir: &Path, from: usize, to: usize) {
        let body: String = (0..120)
            .map(|i| format!("line {i} of a body long enough to be stored as a delta\n"))
            .collect();
        for i in from..to {
            let date = format!("@{} +0000", 1_700_000_000 + i / 3 * 60);
            let message = format!("Commit {i}\n\n{body}\nSession: s{}\n", i % 4);
            git_with(
                dir,
                &["commit", "-q", "--allow-empty", "-m", &message],
                &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
            );
        }
    }

    /// The walk of all history (packs read directly) and libgit2's walk meet the same commits,
    /// in the same order, with the same bytes; returns how many.
    fn walks_agree(dir: &Path) -> usize {
        let repo = Repo::open(dir).expect("opens");
        let tips = repo.tips().expect("tips");
        let walk_dated = |reading, dated: &dyn Fn(CommitId) -> Option<i64>| {
            let mut met = Vec::new();
            let mut stats = repo
                .walk_with(
                    &tips,
                    dated,
                    None,
                    &mut |_, _| false,
                    &mut |c| {
                        met.push((c.id, c.parents.clone(), c.message.to_vec()));
                        Ok(())
                    },
                    reading,
                )
                .expect("walk");
            stats.seen.sort_unstable();
            (met, stats.seen, stats.starts)
        };
        let walk = |reading| walk_dated(reading, &|_| None);
        let through_libgit2 = walk(Reading::Libgit2);
        for reading in [
            Reading::Packed,
            Reading::Indexes(None),
            Reading::Indexes(Some(7)),
        ] {
            assert!(through_libgit2 == walk(reading));
        }
        // Tips whose dates are known are read when the walk comes to them: the same walk,
        // including one widened to every packed commit after a few.
        let starts = through_libgit2.2.clone();
        let dated = |id: CommitId| starts.iter().find(|(_, s)| *s == id).map(|(t, _)| *t);
        for reading in [Reading::Indexes(None), Reading::Indexes(Some(2))] {
            assert!(through_libgit2 == walk_dated(reading, &dated));
        }
        // Read one by one, by id, the same bytes.
        let ids: Vec<CommitId> = through_libgit2.0.iter().map(|c| c.0).collect();
        let mut each = Vec::new();
        repo.each_commit(&ids, &mut |c| {
            each.push((c.id, c.parents.clone(), c.message.to_vec()));
            Ok(())
        })
        .expect("each_commit");
        assert!(each == through_libgit2.0);
        // Ranges read enough commits to go through the indexes: git lists the same.
        for exclude in [None, Some("HEAD~30")] {
            let base: Vec<CommitId> = exclude
                .map(|e| git(dir, &["rev-parse", e]))
                .map(|hex| CommitId::from_hex(hex.trim()).expect("id"))
                .into_iter()
                .collect();
            let (mut got, _) = repo.range(tips[0], &base).expect("range");
            let hide = exclude.map(|e| format!("^{e}"));
            let mut args = vec!["rev-list", "HEAD"];
            args.extend(hide.as_deref());
            let mut want: Vec<CommitId> = git(dir, &args)
                .lines()
                .map(|l| CommitId::from_hex(l).expect("id"))
                .collect();
            got.sort_unstable();
            want.sort_unstable();
            assert!(want.len() > 16, "{exclude:?}");
            assert_eq!(got, want, "{exclude:?}");
        }
        through_libgit2.0.len()
    }

    #[test]
    fn a_bounded_walk_from_dated_tips_meets_what_one_from_read_tips_meets() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        commit_run(dir, 0, 60);
        for (i, back) in [5, 20, 40, 59].iter().enumerate() {
            git(dir, &["branch", &format!("b{i}"), &format!("HEAD~{back}")]);
        }
        git(dir, &["switch", "-q", "-c", "side", "HEAD~30"]);
        commit_run(dir, 60, 64);
        git(dir, &["switch", "-q", "main"]);
        git(dir, &["repack", "-adq"]);
        commit_run(dir, 64, 66);
        let repo = Repo::open(dir).expect("opens");
        let tips = repo.tips().expect("tips");
        assert_eq!(tips.len(), 6);
        let walk = |dated: &dyn Fn(CommitId) -> Option<i64>, since| {
            let mut met = Vec::new();
            let mut stats = repo
                .walk_dated(&tips, dated, since, &mut |c| {
                    met.push(c.id);
                    Ok(())
                })
                .expect("walk");
            stats.seen.sort_unstable();
            (met, stats.seen, stats.starts)
        };
        let read = walk(&|_| None, None);
        let starts = read.2.clone();
        let dated = |id: CommitId| starts.iter().find(|(_, s)| *s == id).map(|(t, _)| *t);
        assert!(read == walk(&dated, None));
        // A date later than the commit's own is found out when the tip is read: it is queued
        // again by its own, and the walk is the same but for the starts it reports.
        let later = |id: CommitId| dated(id).map(|t| t + 10_000);
        let (met, seen, _) = walk(&later, None);
        assert!((met, seen) == (read.0.clone(), read.1.clone()));
        // Bounded: the old branches' tips are never come to; the walk is the same.
        for since in [1_700_000_000 + 50 / 3 * 60, 1_700_000_000 + 42 / 3 * 60] {
            let read = walk(&|_| None, Some(since));
            assert!(read.0.len() < 66);
            assert!(read == walk(&dated, Some(since)), "{since}");
        }
    }

    #[test]
    fn walks_of_all_history_read_packs_and_loose_commits_as_libgit2_does() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        commit_run(dir, 0, 40);
        git(dir, &["switch", "-q", "-c", "side", "HEAD~25"]);
        commit_run(dir, 40, 55);
        git(dir, &["switch", "-q", "main"]);
        git(dir, &["merge", "-q", "--no-ff", "--no-edit", "side"]);
        git(dir, &["repack", "-adfq", "--window=50", "--depth=50"]);
        let listing = git(dir, &["count-objects", "-v"]);
        assert!(listing.contains("packs: 1"), "{listing}");
        let idx = std::fs::read_dir(dir.join(".git/objects/pack"))
            .expect("pack dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .expect("an index");
        let verify = git(dir, &["verify-pack", "-v", idx.to_str().expect("path")]);
        let commits: Vec<&str> = verify.lines().filter(|l| l.contains(" commit ")).collect();
        let deltas = commits
            .iter()
            .filter(|l| l.split_whitespace().count() > 5)
            .count();
        assert!(deltas > 0 && deltas < commits.len(), "{verify}");

        // Read directly: every commit of the pack stored whole, none stored as a delta.
        let objects = dir.join(".git/objects");
        let packed = objects::Packed::load(&objects);
        assert_eq!(packed.total(), commits.len() - deltas);
        let mut reader = objects::Reader::default();
        let git2_repo = git2::Repository::open(dir).expect("open");
        let odb = git2_repo.odb().expect("odb");
        for line in &commits {
            let id = CommitId::from_hex(&line[..40]).expect("id");
            let whole = line.split_whitespace().count() == 5;
            let slot = packed.find(&id);
            assert_eq!(slot.is_some(), whole, "{line}");
            if let Some(slot) = slot {
                let data = packed.read(slot, &mut reader).expect("inflates");
                assert_eq!(data, odb.read(id.oid()).expect("read").data());
            }
        }
        assert_eq!(walks_agree(dir), 56);

        // Loose commits on top, then a second pack beside the first, then loose ones again.
        commit_run(dir, 56, 70);
        assert_eq!(walks_agree(dir), 70);
        git(dir, &["repack", "-dq"]);
        assert!(git(dir, &["count-objects", "-v"]).contains("packs: 2"));
        commit_run(dir, 70, 75);
        assert_eq!(walks_agree(dir), 75);

        // A pack index that is not one is left to libgit2, which ignores it too.
        std::fs::write(objects.join("pack/pack-0000.idx"), b"not an index").expect("write");
        std::fs::write(objects.join("pack/pack-0000.pack"), b"PACK").expect("write");
        assert_eq!(walks_agree(dir), 75);
    }

    fn pack_paths(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut idx: Vec<_> = std::fs::read_dir(dir.join(".git/objects/pack"))
            .expect("pack dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        idx.sort();
        idx
    }

    #[test]
    fn an_index_made_for_another_layout_of_the_pack_is_not_used() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        commit_run(dir, 0, 6);
        git(dir, &["repack", "-adfq"]);
        let head = CommitId::from_hex(git(dir, &["rev-parse", "HEAD"]).trim()).expect("head");
        let first = pack_paths(dir).remove(0);
        let kept = dir.join("kept.idx");
        std::fs::copy(&first, &kept).expect("copy");
        // The same objects packed again, other bytes: the old index no longer fits the pack.
        git(dir, &["-c", "pack.compression=0", "repack", "-adfq"]);
        let second = pack_paths(dir).remove(0);
        assert_ne!(first, second);
        std::fs::rename(&kept, &second).expect("rename");
        assert!(objects::Packed::load(&dir.join(".git/objects")).total() == 0);
        let mut reader = objects::Reader::default();
        let mut indexes = objects::Indexes::open(&dir.join(".git/objects"));
        assert_eq!(indexes.read(&head, &mut reader), None);
    }

    #[test]
    fn many_packs_and_packs_stored_oldest_first_read_as_libgit2_does() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        // fast-import writes the oldest commit first, so walks meet the pack backwards; the
        // messages are long enough that a window holds only some of them.
        let mut stream = String::new();
        for i in 0..300 {
            // Digits that do not compress, so that the pack is several windows long.
            let noise: String = (0..200u64)
                .map(|j| {
                    format!(
                        "{:08x}",
                        (i as u64 * 7919 + j).wrapping_mul(2_654_435_761) >> 7
                    )
                })
                .collect();
            let body = format!("Commit {i}\n\n{noise}\nSession: s{}\n", i % 3);
            stream.push_str(&format!(
                "commit refs/heads/main\ncommitter C <c@example.org> {} +0000\ndata {}\n{body}\n",
                1_700_000_000 + i * 60,
                body.len()
            ));
        }
        let mut import = std::process::Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("fast-import");
        use std::io::Write as _;
        import
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("write");
        assert!(import.wait().expect("wait").success());
        assert_eq!(walks_agree(dir), 300);
        // Newest first is backwards through this pack: the window must still serve most
        // reads (it was read twice for each commit when it ended at the header read first).
        let mut ids: Vec<CommitId> = git(dir, &["rev-list", "HEAD"])
            .lines()
            .map(|l| CommitId::from_hex(l).expect("id"))
            .collect();
        let mut indexes = objects::Indexes::open(&dir.join(".git/objects"));
        let mut reader = objects::Reader::default();
        for id in &ids {
            assert!(indexes.read(id, &mut reader).is_some());
        }
        assert!(reader.reads() < ids.len() / 4, "{} reads", reader.reads());
        // And oldest first, forwards.
        ids.reverse();
        let mut reader = objects::Reader::default();
        for id in &ids {
            assert!(indexes.read(id, &mut reader).is_some());
        }
        assert!(reader.reads() < ids.len() / 4, "{} reads", reader.reads());
        // More packs than are read directly: the rest are libgit2's.
        for i in 0..40 {
            commit_run(dir, 300 + i, 301 + i);
            git(dir, &["repack", "-dq"]);
        }
        assert!(pack_paths(dir).len() > 40);
        assert_eq!(walks_agree(dir), 340);
    }
}
