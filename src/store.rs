//! Session files on disk: `.sessions/` in the work tree. Reads refuse symlinks, special files and
//! huge files before opening them; writes go to a temporary file in the same directory, are
//! synced, then renamed over, under a lock in the git directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cache::{Codec, FileEntry, FileStamp, Table};
use crate::codec::{self, Dec, Enc};
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::session::{self, Finding, Session};

pub const DIR: &str = ".sessions";
pub const CONFIG_FILE: &str = "config.toml";
/// Session files larger than this are refused unread.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A session file that could not be loaded, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file, relative to the top of the work tree.
    pub path: String,
    pub findings: Vec<Finding>,
}

impl FileProblem {
    pub fn to_error(&self) -> Error {
        session::findings_error(&self.path, &self.findings)
    }
}

pub struct Store {
    top: PathBuf,
    state_dir: PathBuf,
}

impl Store {
    /// `top` is the work tree's top directory; `state_dir` a directory of the tool's own in the
    /// git directory (locks live there).
    pub fn new(top: &Path, state_dir: &Path) -> Store {
        Store {
            top: top.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.top.join(DIR)
    }

    /// The path of a session's file relative to the top, as shown to people.
    pub fn display_path(name: &str) -> String {
        format!("{DIR}/{name}.toml")
    }

    pub fn path(&self, name: &Name) -> PathBuf {
        self.dir().join(format!("{name}.toml"))
    }

    pub fn exists(&self, name: &Name) -> bool {
        fs::symlink_metadata(self.path(name)).is_ok()
    }

    /// Creates `.sessions/` if needed (refusing one that is a symlink).
    pub fn ensure_dir(&self) -> Result<bool> {
        let dir = self.dir();
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(false),
            Ok(_) => Err(Error::input(format!(
                "{DIR} is not a directory (it is a file or a symlink); move it away and try again"
            ))),
            Err(_) => {
                fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, &e))?;
                Ok(true)
            }
        }
    }

    /// Reads a file of `.sessions/` as text, refusing anything but a small regular UTF-8 file.
    pub fn read_text(&self, path: &Path) -> Result<String> {
        let shown = self.shown(path);
        self.read_checked(path).map_err(|p| p.error(&shown))
    }

    /// As [`Store::read_text`], the problem not yet tied to the file's name.
    fn read_checked(&self, path: &Path) -> Result<String, ReadProblem> {
        if fs::symlink_metadata(self.dir()).is_ok_and(|m| !m.is_dir()) {
            return Err(ReadProblem::new(format!(
                "is not read: {DIR} is a symlink or not a directory, and session files must live in a real {DIR} directory"
            )));
        }
        let meta = fs::symlink_metadata(path).map_err(|e| ReadProblem::io(&e))?;
        if meta.file_type().is_symlink() {
            return Err(ReadProblem::new(
                "is a symlink; session files must be regular files",
            ));
        }
        if !meta.is_file() {
            return Err(ReadProblem::new("is not a regular file"));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(ReadProblem::too_large());
        }
        decode_text(&read_capped(path)?)
    }
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.top)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Loads the session `name`; a missing file is "unknown session" (exit 2).
    pub fn load(&self, name: &Name) -> Result<Session> {
        let path = self.path(name);
        if fs::symlink_metadata(&path).is_err() {
            return Err(Error::input(format!(
                "unknown session '{name}': there is no {}; 'git session list' shows the sessions",
                Self::display_path(name.as_str())
            )));
        }
        let text = self.read_text(&path)?;
        session::parse(&text, Some(name.as_str()))
            .map_err(|f| session::findings_error(&Self::display_path(name.as_str()), &f))
    }

    /// The session `branch` is named after, when its file claims the branch and it is open:
    /// then it is the branch's session whoever else claims it ([`owner`]), found with one file
    /// read. `None` (no such file, a file that does not load, another branch, a closed
    /// session) leaves it to the index.
    pub fn named_after(&self, branch: &str) -> Option<Session> {
        let name = named_after(branch)?;
        self.load(&name)
            .ok()
            .filter(|s| s.branch == branch && s.status.is_open())
    }

    /// The session whose branch is `branch` by the claims `index` lists and the files that do
    /// not load ([`owner`]), loaded. Try [`Store::named_after`] first: it needs no index.
    pub fn owner_in<'a>(
        &self,
        branch: &str,
        index: &'a Index,
        problems: &'a [FileProblem],
    ) -> Result<Owner<'a, Session>> {
        let claimants: Vec<(&str, bool)> = index
            .on_branch(branch)
            .iter()
            .map(|e| (e.stem, e.open))
            .collect();
        Ok(match owner(branch, &claimants, problems) {
            Owner::One(stem) => Owner::One(self.load(&Name::session(stem)?)?),
            Owner::Several(a, b) => Owner::Several(a, b),
            Owner::Unreadable(p) => Owner::Unreadable(p),
            Owner::None => Owner::None,
        })
    }

    /// The stems of every `*.toml` in `.sessions/` except the policy file, sorted. A name that
    /// is not UTF-8 is no session name: kept (lossily) so that it is reported.
    pub fn stems(&self) -> Result<Vec<String>> {
        let mut stems: Vec<String> = self.session_names()?.stems().collect();
        stems.sort_unstable();
        Ok(stems)
    }

    /// The file names in `.sessions/` that [`Store::stems`] lists, in the directory's own order;
    /// refuses a symlinked directory before listing it.
    fn session_names(&self) -> Result<Names> {
        let dir = self.dir();
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::input(format!(
                    "{DIR} is a symlink; session files must live in a real {DIR} directory"
                )));
            }
            Ok(m) if !m.is_dir() => {
                return Err(Error::input(format!(
                    "{DIR} is not a directory; session files must live in a real {DIR} directory"
                )));
            }
            _ => {}
        }
        match Names::read(&dir) {
            Ok(names) => Ok(names),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Names::default()),
            Err(e) => Err(Error::io("read", &dir, &e)),
        }
    }

    /// As [`Store::stems`], each with what `stat` says of its file when it is a regular file.
    fn stamped_stems(&self) -> Result<Vec<(String, Option<FileStamp>)>> {
        let names = self.session_names()?;
        let stamps = stamp_names(&self.dir(), &names);
        let mut stems: Vec<(String, Option<FileStamp>)> = names.stems().zip(stamps).collect();
        stems.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(stems)
    }

    /// Every session, and every file that failed to load.
    pub fn load_all(&self) -> Result<(Vec<Session>, Vec<FileProblem>)> {
        self.load_all_cached(None, i64::MIN).map(|(s, p, _)| (s, p))
    }

    /// As [`Store::load_all`], reusing `cached` parses of files that `stat` shows unchanged
    /// since `written_at` (seconds; files touched within two seconds of it are re-read, as git
    /// does for its index). `cached` is updated; the flag says whether it changed. Without
    /// `cached`, every file is parsed and no copy is kept.
    pub fn load_all_cached(
        &self,
        cached: Option<&mut Table<FileEntry>>,
        written_at: i64,
    ) -> Result<(Vec<Session>, Vec<FileProblem>, bool)> {
        let mut sessions = Vec::new();
        let mut problems = Vec::new();
        let Some(cached) = cached else {
            let stems = self.stems()?;
            let loaded = crate::par::in_halves(&stems, 64, |part| {
                part.iter().map(|stem| self.load_stem(stem)).collect()
            });
            for l in loaded {
                match l {
                    Ok(s) => sessions.push(s),
                    Err(p) => problems.push(p),
                }
            }
            return Ok((sessions, problems, false));
        };
        let stems = self.stamped_stems()?;
        let mut changed = false;
        // Both lists are sorted: what the cache holds that the directory lacks is gone.
        let mut listed = stems.iter().map(|(stem, _)| stem.as_str()).peekable();
        for key in cached.keys() {
            while listed.next_if(|s| *s < key.as_str()).is_some() {}
            if listed.peek() != Some(&key.as_str()) {
                cached.remove(&key);
                changed = true;
            }
        }
        // Only entries whose file has settled can be used: the others are read again.
        let settled =
            |stamp: &Option<FileStamp>| stamp.is_some_and(|s| s.settled_before(written_at));
        let keys: Vec<&str> = stems
            .iter()
            .filter(|(_, stamp)| settled(stamp))
            .map(|(stem, _)| stem.as_str())
            .collect();
        let mut entries = cached.get_all(&keys).into_iter();
        for (stem, stamp) in stems {
            let entry = if settled(&stamp) {
                entries.next().flatten()
            } else {
                None
            };
            if let Some(stamp) = stamp
                && let Some(entry) = entry
                && entry.stamp == stamp
            {
                sessions.push(entry.session);
                continue;
            }
            match self.load_stem(&stem) {
                Ok(s) => {
                    let s = match stamp {
                        Some(stamp) => {
                            let entry = FileEntry { stamp, session: s };
                            cached.insert_encoded(stem, &entry);
                            entry.session
                        }
                        None => {
                            cached.remove(&stem);
                            s
                        }
                    };
                    changed = true;
                    sessions.push(s);
                }
                Err(p) => {
                    if cached.contains(&stem) {
                        cached.remove(&stem);
                        changed = true;
                    }
                    problems.push(p);
                }
            }
        }
        Ok((sessions, problems, changed))
    }

    /// Every session file's branch and id, from an index in the state directory that `stat`
    /// keeps honest (a file changed since it was indexed, or within two seconds of the index
    /// being written, is read again): finding "the session of this branch" costs a `stat` per
    /// file, not a parse, which matters on every commit. Files that do not load are returned
    /// as problems. The index is rewritten when what it says changed, or when rewriting it
    /// would let files read again only for being too new be trusted next time; failing to
    /// write it costs only speed.
    pub fn index(&self) -> Result<(Index, Vec<FileProblem>)> {
        self.index_at(unix_now())
    }

    /// As [`Store::index`] at `now` (seconds), which must be taken before any file is looked
    /// at: the index is written as of then, and a later time would let an edit made while it
    /// ran be trusted.
    fn index_at(&self, now: i64) -> Result<(Index, Vec<FileProblem>)> {
        let path = self.state_dir.join("sessions-index");
        let (written_at, known) = read_index(&path);
        let names = self.session_names()?;
        let stamps = stamp_names(&self.dir(), &names);
        let mut slots = Vec::with_capacity(names.len());
        let mut fresh = Vec::new();
        let mut problems = Vec::new();
        // Whether what the index says changed (or its order); whether files were read again
        // only for being too new to trust, and writing the index now would let all be trusted.
        let mut changed = false;
        let mut too_new = false;
        let mut settles = true;
        // The index keeps the directory's order, so the next entry is nearly always the one.
        let mut next = 0;
        let mut by_stem: Option<std::collections::HashMap<&str, usize>> = None;
        let mut find = |stem: &str, next: usize| {
            if known.get(next).is_some_and(|e| e.stem == stem) {
                return (Some(next), false);
            }
            let by_stem = by_stem.get_or_insert_with(|| {
                known.iter().enumerate().map(|(i, e)| (e.stem, i)).collect()
            });
            let at = by_stem.get(stem).copied();
            (at, at.is_some())
        };
        for (name, stamp) in names.iter().zip(stamps) {
            let stem = &name[..name.len() - TOML.len()];
            let (at, moved) = std::str::from_utf8(stem).map_or((None, false), |s| find(s, next));
            changed |= moved;
            if let Some(k) = at {
                next = k + 1;
            }
            let same_stamp = at.filter(|&k| stamp.is_some() && known.slots[k].stamp == stamp);
            if let Some(k) = same_stamp
                && stamp.is_some_and(|s| s.settled_before(written_at))
            {
                slots.push(known.slots[k]);
                continue;
            }
            let stem = String::from_utf8_lossy(stem);
            match self.load_stem(&stem) {
                Ok(s) => {
                    if same_stamp.is_some() {
                        too_new = true;
                        settles &= stamp.is_some_and(|s| s.settled_before(now));
                    } else {
                        changed = true;
                    }
                    let id = s.id_string();
                    let open = s.status.is_open();
                    fresh.push((slots.len(), stem.into_owned(), s.branch, id, open));
                    slots.push(Slot {
                        stamp,
                        ..Slot::default()
                    });
                }
                Err(p) => {
                    // Not indexed: only dropping an entry it had is news.
                    changed |= at.is_some();
                    problems.push(p);
                }
            }
        }
        changed |= slots.len() != known.slots.len();
        // Entries taken from the old index keep their place in its text; new ones are added.
        let mut index = Index {
            text: known.text,
            slots,
        };
        for (at, stem, branch, id, open) in fresh {
            let stamp = index.slots[at].stamp;
            index.slots[at] = index.slot(&stem, &branch, &id, open, stamp);
        }
        if changed || (too_new && settles) {
            write_index_at(&path, &index, now);
        }
        Ok((index, problems))
    }

    fn load_stem(&self, stem: &str) -> Result<Session, FileProblem> {
        let shown = Self::display_path(stem);
        let loaded = match Name::session(stem) {
            Err(e) => Err(vec![Finding {
                line: 1,
                column: 1,
                message: format!("the file name is not a session name: {}", e.message),
            }]),
            Ok(n) => match self.read_checked(&self.path(&n)) {
                Err(p) => Err(vec![p.finding()]),
                Ok(text) => session::parse(&text, Some(stem)),
            },
        };
        loaded.map_err(|findings| FileProblem {
            path: shown,
            findings,
        })
    }

    /// The repository policy; defaults when `.sessions/config.toml` does not exist.
    pub fn config(&self) -> Result<Config> {
        let path = self.dir().join(CONFIG_FILE);
        if fs::symlink_metadata(&path).is_err() {
            return Ok(Config::default());
        }
        let text = self.read_text(&path)?;
        config::parse(&text)
            .map_err(|f| session::findings_error(&format!("{DIR}/{CONFIG_FILE}"), &f))
    }

    /// As [`Store::config`], every problem a finding in the file (for `validate`).
    pub fn config_problems(&self) -> Result<Config, FileProblem> {
        let path = self.dir().join(CONFIG_FILE);
        let shown = format!("{DIR}/{CONFIG_FILE}");
        if fs::symlink_metadata(&path).is_err() {
            return Ok(Config::default());
        }
        let problem = |findings| FileProblem {
            path: shown.clone(),
            findings,
        };
        let text = self
            .read_checked(&path)
            .map_err(|p| problem(vec![p.finding()]))?;
        config::parse(&text).map_err(problem)
    }

    /// Writes a new session file; fails if the session exists (checked under the lock).
    pub fn create(&self, session: &Session) -> Result<PathBuf> {
        let _lock = self.lock()?;
        require_real_dir(&self.dir())?;
        let path = self.path(&session.name);
        if fs::symlink_metadata(&path).is_ok() {
            return Err(Error::input(format!(
                "session '{}' already exists ({}); choose another name",
                session.name,
                Self::display_path(session.name.as_str())
            )));
        }
        write_atomic(&path, session::render(session).as_bytes(), false)?;
        Ok(path)
    }

    /// Replaces a file's content atomically, under the lock.
    pub fn replace(&self, path: &Path, text: &str) -> Result<()> {
        let _lock = self.lock()?;
        require_real_dir(path.parent().unwrap_or(&self.dir()))?;
        write_atomic(path, text.as_bytes(), true)
    }

    /// Writes a file only if it does not exist (used by `init` for the policy file).
    pub fn create_file(&self, path: &Path, text: &str) -> Result<bool> {
        let _lock = self.lock()?;
        require_real_dir(path.parent().unwrap_or(&self.dir()))?;
        if fs::symlink_metadata(path).is_ok() {
            return Ok(false);
        }
        write_atomic(path, text.as_bytes(), false)?;
        Ok(true)
    }

    /// Serialises writers across processes: `<state dir>/lock`, created exclusively.
    pub fn lock(&self) -> Result<Lock> {
        Lock::acquire(&self.lock_path())
    }

    pub fn lock_path(&self) -> PathBuf {
        self.state_dir.join("lock")
    }
}

/// Why a file was not read: a phrase that follows the file's name ("is a symlink; …"), and
/// where in the file, when the problem is in its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    pub at: Option<(usize, usize)>,
    pub what: String,
}

impl ReadProblem {
    fn new(what: impl Into<String>) -> ReadProblem {
        ReadProblem {
            at: None,
            what: what.into(),
        }
    }

    fn too_large() -> ReadProblem {
        ReadProblem::new("is larger than 1 MB; session files are small TOML files")
    }

    fn io(e: &std::io::Error) -> ReadProblem {
        ReadProblem::new(format!("cannot be read: {}", crate::error::io_reason(e)))
    }

    /// The problem as an error naming the file as `shown`.
    pub fn error(&self, shown: &str) -> Error {
        Error::input(match self.at {
            Some((line, col)) => format!("{shown}:{line}:{col}: the file {}", self.what),
            None => format!("{shown} {}", self.what),
        })
    }

    /// The problem as a finding in the file.
    pub fn finding(&self) -> Finding {
        let (line, column) = self.at.unwrap_or((1, 1));
        Finding {
            line,
            column,
            message: format!("the file {}", self.what),
        }
    }
}

/// Every session file's stem, branch and id, as the session index holds them: in the
/// directory's order, in one buffer (a hook reads thousands of them on every commit).
#[derive(Debug, Clone, Default)]
pub struct Index {
    text: String,
    slots: Vec<Slot>,
}

/// Where one entry's strings lie in [`Index::text`], and its file's `stat` data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    stem: (usize, usize),
    branch: (usize, usize),
    id: (usize, usize),
    /// The session's status is not done or abandoned.
    open: bool,
    stamp: Option<FileStamp>,
}

/// The session name a branch suggests: its last component (`session/search` → `search`), as
/// `start` names branches.
pub fn named_after(branch: &str) -> Option<Name> {
    Name::session(branch.rsplit('/').next()?).ok()
}

/// Whose branch it is, among the sessions that claim it; `T` is what names the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a, T = &'a str> {
    None,
    One(T),
    /// No claimant outranks the others: the first two of those, by name.
    Several(&'a str, &'a str),
    /// The file the branch is named after does not load: it may claim the branch and would
    /// outrank the others, so nothing can be said of the branch until it loads.
    Unreadable(&'a FileProblem),
}

/// The session whose branch is `branch`, given the sessions that claim it (name, and whether
/// it is open, neither done nor abandoned) and the files that do not load: an open one before
/// a closed one, then the one the branch is named after ([`named_after`]) before others; when
/// several rank first, the branch is nobody's for sure. So a session started with `--current`
/// on another's branch leaves plain commits to the one the branch is named after while that
/// one is open, and a finished session still answers for its branch when no open one claims
/// it.
pub fn owner<'a>(
    branch: &str,
    claimants: &[(&'a str, bool)],
    problems: &'a [FileProblem],
) -> Owner<'a> {
    let after = named_after(branch);
    if let Some(p) = after.as_ref().and_then(|n| {
        let path = Store::display_path(n.as_str());
        problems.iter().find(|p| p.path == path)
    }) {
        return Owner::Unreadable(p);
    }
    let after = after.as_ref().map(Name::as_str);
    let rank = |&(name, open): &(&str, bool)| (open, Some(name) == after);
    let Some(best) = claimants.iter().map(rank).max() else {
        return Owner::None;
    };
    let mut first: Vec<&str> = claimants
        .iter()
        .filter(|c| rank(c) == best)
        .map(|&(name, _)| name)
        .collect();
    first.sort_unstable();
    match first[..] {
        [one] => Owner::One(one),
        [a, b, ..] => Owner::Several(a, b),
        [] => Owner::None,
    }
}

/// One session file in the [`Index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry<'a> {
    pub stem: &'a str,
    pub branch: &'a str,
    pub id: &'a str,
    pub open: bool,
}

impl Index {
    /// Adds the strings to the text and returns where they lie.
    fn slot(
        &mut self,
        stem: &str,
        branch: &str,
        id: &str,
        open: bool,
        stamp: Option<FileStamp>,
    ) -> Slot {
        let mut put = |s: &str| {
            let start = self.text.len();
            self.text.push_str(s);
            (start, self.text.len())
        };
        Slot {
            stem: put(stem),
            branch: put(branch),
            id: put(id),
            open,
            stamp,
        }
    }

    fn entry(&self, slot: &Slot) -> IndexEntry<'_> {
        // Ranges are checked when read from disk and made by `slot` otherwise.
        let at = |(a, b): (usize, usize)| self.text.get(a..b).unwrap_or_default();
        IndexEntry {
            stem: at(slot.stem),
            branch: at(slot.branch),
            id: at(slot.id),
            open: slot.open,
        }
    }

    fn get(&self, i: usize) -> Option<IndexEntry<'_>> {
        self.slots.get(i).map(|slot| self.entry(slot))
    }

    pub fn iter(&self) -> impl Iterator<Item = IndexEntry<'_>> {
        self.slots.iter().map(|slot| self.entry(slot))
    }

    /// The sessions whose branch is `branch`, by stem.
    pub fn on_branch(&self, branch: &str) -> Vec<IndexEntry<'_>> {
        let mut mine: Vec<IndexEntry> = self.iter().filter(|e| e.branch == branch).collect();
        mine.sort_by(|a, b| a.stem.cmp(b.stem));
        mine
    }

    /// The session whose id is `id` (any case); the first by stem when files share it.
    pub fn with_id(&self, id: &str) -> Option<IndexEntry<'_>> {
        self.iter()
            .filter(|e| e.id.eq_ignore_ascii_case(id))
            .min_by(|a, b| a.stem.cmp(b.stem))
    }
}

const INDEX_MAGIC: &[u8; 8] = b"GSINDEX\0";
/// 4: whether each session is open (3 put the strings in one block ahead of fixed-size
/// records; 2 interleaved them; 1 was text).
const INDEX_VERSION: u32 = 4;

/// The index file: the length of the text, the text (every entry's stem, branch and id, one
/// after the other), the time it was written, then per regular file: where its three strings
/// end, whether the session is open, and its `stat` data. The text stays in the buffer the file was read into (moved down
/// over the length before it), not copied out entry by entry. Missing or damaged, the index
/// reads as empty (every file is read).
fn read_index(path: &Path) -> (i64, Index) {
    let decoded = codec::read_framed(path, INDEX_MAGIC, INDEX_VERSION).and_then(|mut body| {
        let mut d = Dec::new(&body);
        let text_len = usize::try_from(d.u64()?).ok()?;
        d.bytes(text_len)?;
        let written_at = d.i64()?;
        let mut slots = Vec::new();
        let mut start = 0;
        for _ in 0..d.count()? {
            let mut end = |d: &mut Dec| -> Option<(usize, usize)> {
                let end = d.u32()? as usize;
                let range = (start, end);
                start = end;
                (range.0 <= end && end <= text_len).then_some(range)
            };
            let (stem, branch, id) = (end(&mut d)?, end(&mut d)?, end(&mut d)?);
            let open = match d.u8()? {
                0 => false,
                1 => true,
                _ => return None,
            };
            let stamp = Some(FileStamp::decode(&mut d)?);
            slots.push(Slot {
                stem,
                branch,
                id,
                open,
                stamp,
            });
        }
        if !d.is_done() {
            return None;
        }
        body.drain(..8);
        body.truncate(text_len);
        let index = Index {
            text: String::from_utf8(body).ok()?,
            slots,
        };
        // Every string must start and end on a character boundary.
        let whole = index.slots.iter().all(|s| {
            [s.stem, s.branch, s.id]
                .iter()
                .all(|&(a, b)| index.text.get(a..b).is_some())
        });
        whole.then_some((written_at, index))
    });
    decoded.unwrap_or((i64::MIN, Index::default()))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Writes `index` as of `now` (seconds); files older than that by two seconds will be trusted
/// by their `stat` data.
fn write_index_at(path: &Path, index: &Index, now: i64) {
    let stamped: Vec<(IndexEntry, FileStamp)> = index
        .iter()
        .zip(&index.slots)
        .filter_map(|(e, slot)| Some((e, slot.stamp?)))
        .collect();
    let text_len: usize = stamped
        .iter()
        .map(|(e, _)| e.stem.len() + e.branch.len() + e.id.len())
        .sum();
    if u32::try_from(text_len).is_err() {
        return;
    }
    let mut e = Enc::default();
    e.u64(text_len as u64);
    for (entry, _) in &stamped {
        for s in [entry.stem, entry.branch, entry.id] {
            e.0.extend_from_slice(s.as_bytes());
        }
    }
    e.i64(now);
    e.u64(stamped.len() as u64);
    let mut end = 0;
    for (entry, stamp) in &stamped {
        for s in [entry.stem, entry.branch, entry.id] {
            end += s.len();
            e.u32(end as u32);
        }
        e.u8(u8::from(entry.open));
        stamp.encode(&mut e);
    }
    // Failing to write it costs only speed.
    let _ = codec::write_framed(path, INDEX_MAGIC, INDEX_VERSION, &e.into_bytes());
}

const TOML: &str = ".toml";

/// The names of the session files in a directory (`*.toml` but the policy file), in one
/// buffer, in the order the directory lists them.
#[derive(Debug, Default)]
struct Names {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Names {
    fn add(&mut self, name: &[u8]) {
        if name.ends_with(TOML.as_bytes()) && name != CONFIG_FILE.as_bytes() {
            self.bytes.extend_from_slice(name);
            self.ends.push(self.bytes.len());
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Each name without `.toml`. A name that is not UTF-8 is no session name: it is kept
    /// (lossily) so that it is reported.
    fn stems(&self) -> impl Iterator<Item = String> {
        self.iter()
            .map(|name| String::from_utf8_lossy(&name[..name.len() - TOML.len()]).into_owned())
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.bytes[a..b])
    }

    /// Lists `dir` through a buffer of raw entries: no allocation per file.
    #[cfg(target_os = "linux")]
    fn read(dir: &Path) -> std::io::Result<Names> {
        let handle = fs::File::open(dir)?;
        let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 64 * 1024];
        let mut raw = rustix::fs::RawDir::new(&handle, &mut buf);
        let mut names = Names::default();
        while let Some(entry) = raw.next() {
            names.add(entry?.file_name().to_bytes());
        }
        Ok(names)
    }

    #[cfg(not(target_os = "linux"))]
    fn read(dir: &Path) -> std::io::Result<Names> {
        let mut names = Names::default();
        for entry in fs::read_dir(dir)? {
            names.add(entry?.file_name().to_string_lossy().as_bytes());
        }
        Ok(names)
    }
}

/// A session file's bytes as text: UTF-8, a leading byte order mark dropped. The same rule
/// holds for a file read from the work tree and one read from a branch.
pub fn decode_text(bytes: &[u8]) -> Result<String, ReadProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let valid = e.valid_up_to();
            let text = String::from_utf8_lossy(&bytes[..valid]);
            Err(ReadProblem {
                at: Some(crate::error::line_col(&text, valid)),
                what: "is not valid UTF-8; save it as UTF-8".to_string(),
            })
        }
    }
}

/// What `stat` says of each named file in `dir` that is a regular file (a symlink is not
/// followed).
#[cfg(not(unix))]
fn stamp_names(dir: &Path, names: &Names) -> Vec<Option<FileStamp>> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(String::from_utf8_lossy(name).as_ref());
            fs::symlink_metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| FileStamp::of(&m))
        })
        .collect()
}

/// What `stat` says of each named file in `dir` that is a regular file (a symlink is not
/// followed). The hooks pay for these calls on every commit while git waits, so past a few
/// hundred files a second thread takes half. Each thread asks relative to a directory handle
/// of its own: threads sharing one contend for it and gain nothing.
#[cfg(unix)]
fn stamp_names(dir: &Path, names: &Names) -> Vec<Option<FileStamp>> {
    let stamp_all = |names: &[&[u8]]| -> Vec<Option<FileStamp>> {
        let Ok(handle) = fs::File::open(dir) else {
            return vec![None; names.len()];
        };
        names.iter().map(|name| stamp_at(&handle, name)).collect()
    };
    let names: Vec<&[u8]> = names.iter().collect();
    crate::par::in_halves(&names, 512, stamp_all)
}

/// As [`FileStamp::of`] for the entry `name` of the directory `dir`, when it is a regular file.
#[cfg(unix)]
fn stamp_at(dir: &fs::File, name: &[u8]) -> Option<FileStamp> {
    use rustix::fs::{AtFlags, FileType, statat};
    use std::os::unix::ffi::OsStrExt;
    let st = statat(
        dir,
        std::ffi::OsStr::from_bytes(name),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .ok()?;
    (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then(|| {
        FileStamp::from_stat(
            st.st_size as u64,
            (st.st_mtime as i64, st.st_mtime_nsec as i64),
            (st.st_ctime as i64, st.st_ctime_nsec as i64),
            st.st_ino as u64,
        )
    })
}

/// The bytes of the regular file at `path`, at most [`MAX_FILE_BYTES`]. The file is opened
/// without following a symlink and checked again once open, so a file swapped for a symlink, a
/// FIFO or a device after the caller looked at it is refused too, and never read past the cap.
fn read_capped(path: &Path) -> Result<Vec<u8>, ReadProblem> {
    use std::io::Read;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        // NONBLOCK: opening a FIFO must not wait for a writer.
        options.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            return ReadProblem::new("is a symlink; session files must be regular files");
        }
        ReadProblem::io(&e)
    })?;
    let meta = file.metadata().map_err(|e| ReadProblem::io(&e))?;
    if !meta.is_file() {
        return Err(ReadProblem::new("is not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadProblem::io(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadProblem::too_large());
    }
    Ok(bytes)
}

/// Refuses to write into `dir` unless it is a real directory: a symlinked `.sessions/` would
/// send the tool's writes somewhere else.
fn require_real_dir(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(Error::input(format!(
            "{DIR} is a symlink or not a directory; session files must live in a real {DIR} directory"
        ))),
    }
}

/// Temp file in the same directory, fsync, rename (refusing to clobber unless `overwrite`),
/// fsync the directory: a crash leaves the old file or the new one, never half of one. A new
/// file gets the permissions the umask gives any new file; a replaced one keeps its own.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    write_atomic_with(path, overwrite, &mut |out| out.write_all(bytes))
}

/// As [`write_atomic`], with the content written by `write` (buffered) as it is made.
pub fn write_atomic_with(
    path: &Path,
    overwrite: bool,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-").suffix(".partial");
    // A new file gets 0666 less the umask, as any editor would give it (tempfile's 0600 would
    // hide a shared report from a web server); a replaced file keeps its mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io("write in", dir, &e))?;
    if overwrite && let Some(old) = fs::symlink_metadata(path).ok().filter(|m| m.is_file()) {
        tmp.as_file()
            .set_permissions(old.permissions())
            .map_err(|e| Error::io("write", path, &e))?;
    }
    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
    write(&mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("write", path, &e))?;
    drop(out);
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", path, &e))?;
    if overwrite {
        tmp.persist(path)
            .map_err(|e| Error::io("write", path, &e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::input(format!("{} already exists", path.display()))
            } else {
                Error::io("write", path, &e.error)
            }
        })?;
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An exclusive lock file, removed on drop. It records who holds it, so that a lock left by a
/// process that died (killed, out of memory, a cancelled CI job) can be told from a live one.
pub struct Lock {
    path: PathBuf,
}

/// How long [`Lock::acquire`] waits for another writer.
const LOCK_WAIT: Duration = Duration::from_secs(5);

impl Lock {
    /// The lock if nobody holds it now, without waiting.
    pub fn try_acquire(path: &Path) -> Option<Lock> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).ok()?;
        }
        for _ in 0..2 {
            match Self::create(path) {
                Ok(lock) => return Some(lock),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !break_if_stale(path) {
                        return None;
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    pub fn acquire(path: &Path) -> Result<Lock> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, &e))?;
        }
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match Self::create(path) {
                Ok(lock) => return Ok(lock),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if break_if_stale(path) {
                        continue;
                    }
                    if Instant::now() >= deadline {
                        let holder = fs::read(path)
                            .ok()
                            .and_then(|b| Holder::parse(&b))
                            .map_or(String::new(), |h| format!(" by process {}", h.pid));
                        return Err(Error::input(format!(
                            "another git-session is writing (lock {} is held{holder}); if no git-session is running, remove that file",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(Error::io("create", path, &e)),
            }
        }
    }

    fn create(path: &Path) -> std::io::Result<Lock> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        let lock = Lock {
            path: path.to_path_buf(),
        };
        // A holder that cannot be recorded is one that is never broken: only waited for.
        let _ = f.write_all(Holder::current().render().as_bytes());
        Ok(lock)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Who holds a lock: a process id, and what says which processes that id can name — the boot
/// of the machine and its pid namespace. Only a holder of this very boot and namespace whose
/// process is gone is known to be dead; any other (another machine sharing the directory,
/// another container) is waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    pid: u32,
    boot: Option<String>,
    pidns: Option<String>,
}

impl Holder {
    fn current() -> Holder {
        Holder {
            pid: std::process::id(),
            boot: boot_id(),
            pidns: pid_namespace(),
        }
    }

    fn render(&self) -> String {
        let mut out = format!("pid {}\n", self.pid);
        if let Some(b) = &self.boot {
            out.push_str(&format!("boot {b}\n"));
        }
        if let Some(n) = &self.pidns {
            out.push_str(&format!("pidns {n}\n"));
        }
        out
    }

    fn parse(bytes: &[u8]) -> Option<Holder> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut holder = Holder {
            pid: 0,
            boot: None,
            pidns: None,
        };
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("pid", v)) => holder.pid = v.trim().parse().ok()?,
                Some(("boot", v)) => holder.boot = Some(v.trim().to_string()),
                Some(("pidns", v)) => holder.pidns = Some(v.trim().to_string()),
                // Older versions wrote the bare pid.
                None => holder.pid = line.trim().parse().ok()?,
                _ => {}
            }
        }
        (holder.pid != 0).then_some(holder)
    }

    /// Whether this holder is certainly gone.
    fn is_dead(&self) -> bool {
        let here = Holder::current();
        let same_space = self.boot.is_some()
            && self.pidns.is_some()
            && self.boot == here.boot
            && self.pidns == here.pidns;
        same_space && self.pid != here.pid && !process_exists(self.pid)
    }
}

fn boot_id() -> Option<String> {
    let text = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn pid_namespace() -> Option<String> {
    let link = fs::read_link("/proc/self/ns/pid").ok()?;
    Some(link.to_string_lossy().into_owned())
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    // Signal 0 checks without sending; EPERM means it exists, owned by someone else.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// Removes the lock at `path` if its holder is dead; true if it did (or the lock is gone).
/// Several waiting processes may find the same dead holder: each renames the lock to a name
/// of its own first, so only one removes it, and a live lock taken by mistake (the dead one
/// was replaced in between) is put back.
fn break_if_stale(path: &Path) -> bool {
    let Ok(seen) = fs::read(path) else {
        return true;
    };
    if !Holder::parse(&seen).is_some_and(|h| h.is_dead()) {
        return false;
    }
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".stale-{}", std::process::id()));
    let aside = PathBuf::from(aside);
    if fs::rename(path, &aside).is_err() {
        // Gone already: another process broke it.
        return true;
    }
    if fs::read(&aside).is_ok_and(|taken| taken == seen) {
        let _ = fs::remove_file(&aside);
    } else {
        let _ = fs::hard_link(&aside, path);
        let _ = fs::remove_file(&aside);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in a temporary directory with an empty `.sessions/`.
    fn temp_store() -> (tempfile::TempDir, Store) {
        let top = tempfile::tempdir().unwrap();
        let store = Store::new(top.path(), &top.path().join(".git/git-session"));
        fs::create_dir_all(store.dir()).unwrap();
        (top, store)
    }

    /// Writes a minimal session file.
    fn write_session(store: &Store, stem: &str, id_tail: &str, branch: &str) {
        let text = format!(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-{id_tail}\"\nname = \"{stem}\"\n\
             branch = \"{branch}\"\nbase = \"main\"\ncreated = 2026-11-24T09:00:00Z\n\
             status = \"active\"\n"
        );
        fs::write(store.dir().join(format!("{stem}.toml")), text).unwrap();
    }

    /// A copy of `index` in which `stem` names a branch its file does not say, so that an
    /// answer taken from the index can be told from one read from the file.
    fn misled(index: &Index, stem: &str, reversed: bool) -> Index {
        let mut entries: Vec<_> = index.iter().zip(&index.slots).collect();
        if reversed {
            entries.reverse();
        }
        let mut out = Index::default();
        for (e, slot) in entries {
            let branch = if e.stem == stem {
                "from the index"
            } else {
                e.branch
            };
            let slot = out.slot(e.stem, branch, e.id, e.open, slot.stamp);
            out.slots.push(slot);
        }
        out
    }

    #[test]
    fn the_session_index_reads_back_as_written_and_damage_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions-index");
        let stamp = |ino: u64| {
            Some(FileStamp {
                len: 10,
                mtime_ns: -5,
                ctime_ns: 1_700_000_000_000_000_000,
                ino,
            })
        };
        let mut index = Index::default();
        for (stem, ino) in [("b", 2), ("é", 1)] {
            let slot = index.slot(
                stem,
                &format!("session/{stem}\twith a tab"),
                "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e",
                ino == 2,
                stamp(ino),
            );
            index.slots.push(slot);
        }
        let unstamped = index.slot("c", "session/c", "id", true, None);
        index.slots.push(unstamped);
        write_index_at(&path, &index, unix_now());
        let (written_at, read) = read_index(&path);
        assert!(written_at > 1_700_000_000);
        index.slots.pop();
        let listed = |i: &Index| -> Vec<(String, String, bool, Option<FileStamp>)> {
            i.iter()
                .zip(&i.slots)
                .map(|(e, s)| (e.stem.to_string(), e.branch.to_string(), e.open, s.stamp))
                .collect()
        };
        assert_eq!(
            listed(&read),
            listed(&index),
            "in the order written, unstamped left out"
        );
        assert_eq!(
            read.with_id("0193A9E4-5C1F-7D2A-9B3E-4F5A6B7C8D9E")
                .unwrap()
                .stem,
            "b"
        );
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let empty =
            |(written_at, index): (i64, Index)| written_at == i64::MIN && index.slots.is_empty();
        assert!(empty(read_index(&path)), "damaged");
        fs::write(&path, "git-session index 1 0\n").unwrap();
        assert!(empty(read_index(&path)), "the old text form");
    }

    #[test]
    fn the_session_index_follows_files_added_removed_and_edited() {
        let (top, store) = temp_store();
        let write = |stem: &str, branch: &str| write_session(&store, stem, "4f5a6b7c8d9e", branch);
        let branches = || -> Vec<(String, String)> {
            let (index, problems) = store.index().unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            let mut pairs: Vec<(String, String)> = index
                .iter()
                .map(|e| (e.stem.to_string(), e.branch.to_string()))
                .collect();
            pairs.sort();
            pairs
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        for stem in ["b", "d", "f"] {
            write(stem, &format!("session/{stem}"));
        }
        assert_eq!(
            branches(),
            pairs(&[("b", "session/b"), ("d", "session/d"), ("f", "session/f")])
        );
        // Files are trusted by their stat only once older than the index by two seconds: date
        // the index an hour ahead, and give b a branch its file does not say, to see which
        // entries are taken from the index and which are read again.
        let path = top.path().join(".git/git-session/sessions-index");
        let held = misled(&read_index(&path).1, "b", false);
        let hour_ahead = chrono::Utc::now().timestamp() + 3600;
        write_index_at(&path, &held, hour_ahead);
        write("a", "session/a");
        write("e", "session/e");
        fs::remove_file(store.dir().join("d.toml")).unwrap();
        // An edit in place: same inode, new size and times (the size alone tells where the
        // clock is too coarse to).
        write("f", "a/longer/branch");
        let now = |b: &str| {
            pairs(&[
                ("a", "session/a"),
                ("b", b),
                ("e", "session/e"),
                ("f", "a/longer/branch"),
            ])
        };
        assert_eq!(branches(), now("from the index"));
        // That run wrote the index at the real time: every file is within two seconds of it,
        // so all are read again.
        assert_eq!(branches(), now("session/b"));
    }

    #[test]
    fn an_index_whose_strings_do_not_fit_its_text_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions-index");
        let body = |text: &str, ends: [u32; 3], open: u8| {
            let mut e = Enc::default();
            e.u64(text.len() as u64);
            e.0.extend_from_slice(text.as_bytes());
            e.i64(0);
            e.u64(1);
            for end in ends {
                e.u32(end);
            }
            e.u8(open);
            FileStamp {
                len: 1,
                mtime_ns: 0,
                ctime_ns: 0,
                ino: 1,
            }
            .encode(&mut e);
            e.into_bytes()
        };
        let read = |bytes: &[u8]| {
            codec::write_framed(&path, INDEX_MAGIC, INDEX_VERSION, bytes).unwrap();
            read_index(&path).1.iter().count()
        };
        assert_eq!(read(&body("ébx", [2, 3, 4], 1)), 1);
        assert_eq!(read(&body("ébx", [2, 3, 4], 0)), 1);
        assert_eq!(read(&body("ébx", [1, 3, 4], 1)), 0, "inside a character");
        assert_eq!(read(&body("ébx", [2, 3, 5], 1)), 0, "past the text");
        assert_eq!(read(&body("ébx", [3, 2, 4], 1)), 0, "backwards");
        assert_eq!(
            read(&body("ébx", [2, 3, 4], 2)),
            0,
            "neither open nor closed"
        );
    }

    #[test]
    fn many_files_in_an_order_the_index_does_not_share_are_paired_by_name() {
        let (top, store) = temp_store();
        // Enough files for the stat calls to be shared between two threads.
        for i in 0..700 {
            write_session(
                &store,
                &format!("s{i}"),
                &format!("{i:012}"),
                &format!("session/s{i}"),
            );
        }
        let (first, problems) = store.index().unwrap();
        assert!(problems.is_empty());
        assert_eq!(first.iter().count(), 700);
        // The index written backwards, s7 given a branch its file does not say, dated an hour
        // ahead: every file is trusted by its stat, found by name, and s7 comes from the index.
        let path = top.path().join(".git/git-session/sessions-index");
        let reversed = misled(&read_index(&path).1, "s7", true);
        write_index_at(&path, &reversed, chrono::Utc::now().timestamp() + 3600);
        let (again, _) = store.index().unwrap();
        assert_eq!(again.iter().count(), 700);
        // Rewritten in the directory's order, so the next run needs no map.
        let written: Vec<String> = read_index(&path)
            .1
            .iter()
            .map(|e| e.stem.to_string())
            .collect();
        let listed: Vec<String> = store.session_names().unwrap().stems().collect();
        assert_eq!(written, listed);
        assert_eq!(again.on_branch("from the index")[0].stem, "s7");
        assert_eq!(again.on_branch("session/s699")[0].stem, "s699");
        assert!(again.on_branch("session/s7").is_empty());
        assert_eq!(
            again
                .with_id("0193a9e4-5c1f-7d2a-9b3e-000000000042")
                .unwrap()
                .stem,
            "s42"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_session_index_is_rewritten_only_when_that_changes_something() {
        use std::os::unix::fs::MetadataExt;
        let (top, store) = temp_store();
        for stem in ["a", "b", "c"] {
            write_session(&store, stem, "4f5a6b7c8d9e", &format!("session/{stem}"));
        }
        let path = top.path().join(".git/git-session/sessions-index");
        // Each write renames a new file into place: a new inode.
        let written = || fs::metadata(&path).map(|m| m.ino()).ok();
        let now = unix_now();
        let run = |at: i64| {
            let (index, problems) = store.index_at(at).unwrap();
            (index.iter().count(), problems.len())
        };
        assert_eq!(run(now), (3, 0));
        let first = written();
        assert!(first.is_some());
        // Every file is too new to trust, so each is read again; they say what the index
        // says, and writing it now would not make them trusted: left alone.
        assert_eq!(run(now), (3, 0));
        assert_eq!(written(), first);
        // A file that does not load is no reason to write either.
        fs::write(store.dir().join("d.toml"), "schema = ").unwrap();
        assert_eq!(run(now), (3, 1));
        assert_eq!(written(), first);
        // Later, writing it lets the files be trusted: written once, then left alone.
        assert_eq!(run(now + 3600), (3, 1));
        let second = written();
        assert_ne!(second, first);
        assert_eq!(read_index(&path).0, now + 3600);
        assert_eq!(run(now + 3600), (3, 1));
        assert_eq!(written(), second);
        // A changed branch is written at once.
        fs::write(
            store.dir().join("a.toml"),
            fs::read_to_string(store.dir().join("b.toml"))
                .unwrap()
                .replace("\"b\"", "\"a\"")
                + "# moved to b's branch, and a size of its own where clocks are coarse\n",
        )
        .unwrap();
        assert_eq!(run(now + 3600), (3, 1));
        let third = written();
        assert_ne!(third, second);
        let (_, index) = read_index(&path);
        assert_eq!(index.on_branch("session/b").len(), 2);
        // A removed file is written out.
        fs::remove_file(store.dir().join("c.toml")).unwrap();
        assert_eq!(run(now + 3600), (2, 1));
        assert_ne!(written(), third);
        assert_eq!(read_index(&path).1.iter().count(), 2);
    }

    #[test]
    fn a_sessions_path_that_is_a_file_is_named_for_what_it_is() {
        let top = tempfile::tempdir().unwrap();
        let store = Store::new(top.path(), &top.path().join(".git/git-session"));
        fs::write(store.dir(), "not a directory").unwrap();
        for e in [store.stems().unwrap_err(), store.index().unwrap_err()] {
            assert!(
                e.to_string().starts_with(".sessions is not a directory;"),
                "{e}"
            );
        }
        fs::remove_file(store.dir()).unwrap();
        assert!(
            store.stems().unwrap().is_empty(),
            "no directory: no sessions"
        );
    }

    #[test]
    fn each_stamp_is_its_own_files_past_the_second_thread() {
        let (top, store) = temp_store();
        for i in 0..600 {
            fs::write(store.dir().join(format!("{i}.toml")), "x".repeat(i + 1)).unwrap();
        }
        let names = store.session_names().unwrap();
        let stamps = stamp_names(&store.dir(), &names);
        assert_eq!(stamps.len(), 600);
        for (stem, stamp) in names.stems().zip(stamps) {
            let size = stem.parse::<u64>().unwrap() + 1;
            assert_eq!(stamp.map(|s| s.len), Some(size), "{stem}");
        }
        drop(top);
    }

    #[test]
    fn atomic_write_refuses_to_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        write_atomic(&p, b"one", false).unwrap();
        assert!(write_atomic(&p, b"two", false).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"three");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_the_mode_of_a_replaced_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.html");
        write_atomic(&p, b"one", false).unwrap();
        let fresh = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain");
        fs::File::create(&plain).unwrap();
        let usual = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        assert_eq!(fresh, usual, "the mode any new file gets under this umask");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umasks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        write_atomic(&p, b"one", false).unwrap();
        let probe = dir.path().join("probe");
        fs::write(&probe, "x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), mode(&probe));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(mode(&p), 0o640);
        assert_eq!(fs::read(&p).unwrap(), b"two");
    }

    #[test]
    fn lock_holders_are_read_old_and_new_and_only_a_dead_local_one_is_dead() {
        let me = Holder::current();
        assert_eq!(Holder::parse(me.render().as_bytes()), Some(me.clone()));
        assert_eq!(Holder::parse(b"4242\n").map(|h| h.pid), Some(4242));
        assert_eq!(Holder::parse(b"garbage"), None);
        assert_eq!(Holder::parse(b""), None);
        // Alive: this process.
        assert!(!me.is_dead());
        // The old format says nothing of where the pid lives: never taken for dead.
        assert!(!Holder::parse(b"999999999\n").unwrap().is_dead());
        // Another machine, or another boot of this one: never taken for dead.
        let elsewhere = Holder {
            pid: 999_999_999,
            boot: Some("another-boot".into()),
            pidns: me.pidns.clone(),
        };
        assert!(!elsewhere.is_dead());
        if me.boot.is_some() && me.pidns.is_some() {
            let gone = Holder {
                pid: 999_999_999,
                ..me.clone()
            };
            assert!(gone.is_dead());
        }
    }

    #[test]
    fn lock_is_exclusive_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = Lock::acquire(&p).unwrap();
        assert!(p.exists());
        drop(held);
        assert!(!p.exists());
        let _again = Lock::acquire(&p).unwrap();
    }

    #[test]
    fn a_branch_belongs_to_the_session_it_is_named_after() {
        assert_eq!(named_after("session/search").unwrap().as_str(), "search");
        assert_eq!(named_after("a/b/c").unwrap().as_str(), "c");
        assert_eq!(named_after("main").unwrap().as_str(), "main");
        assert!(named_after("session/").is_none());
        assert!(named_after("team/Search").is_none());
        assert!(named_after("x/config").is_none(), "the policy file's stem");

        let b = "session/search";
        let open = |names: &[&'static str]| -> Vec<(&'static str, bool)> {
            names.iter().map(|&n| (n, true)).collect()
        };
        assert_eq!(owner(b, &[], &[]), Owner::None);
        assert_eq!(owner(b, &open(&["zeta"]), &[]), Owner::One("zeta"));
        assert_eq!(
            owner(b, &open(&["zeta", "alpha", "search"]), &[]),
            Owner::One("search")
        );
        assert_eq!(
            owner(b, &open(&["zeta", "alpha", "beta"]), &[]),
            Owner::Several("alpha", "beta")
        );
        assert_eq!(
            owner("feature/search-v2", &open(&["search"]), &[]),
            Owner::One("search")
        );
        assert_eq!(
            owner("feature/search-v2", &open(&["search", "other"]), &[]),
            Owner::Several("other", "search")
        );
        // Open before closed, then named after the branch.
        let closed = ("search", false);
        assert_eq!(
            owner(b, &[closed, ("other", true)], &[]),
            Owner::One("other")
        );
        assert_eq!(
            owner(b, &[closed, ("other", true), ("third", true)], &[]),
            Owner::Several("other", "third")
        );
        assert_eq!(
            owner(b, &[closed, ("other", false)], &[]),
            Owner::One("search")
        );
        assert_eq!(owner(b, &[closed], &[]), Owner::One("search"));
        assert_eq!(
            owner("main", &[("a", false), ("b", false)], &[]),
            Owner::Several("a", "b")
        );

        // A file the branch is named after that does not load may be the one.
        let broken = [FileProblem {
            path: Store::display_path("search"),
            findings: Vec::new(),
        }];
        assert_eq!(
            owner(b, &open(&["other"]), &broken),
            Owner::Unreadable(&broken[0])
        );
        assert_eq!(
            owner("team/other", &open(&["other"]), &broken),
            Owner::One("other")
        );

        let (_top, store) = temp_store();
        write_session(&store, "search", "000000000001", "session/search");
        write_session(&store, "moved", "000000000002", "elsewhere");
        assert_eq!(
            store.named_after("session/search").unwrap().name.as_str(),
            "search"
        );
        assert!(
            store.named_after("team/search").is_none(),
            "claims another branch"
        );
        assert!(
            store.named_after("session/moved").is_none(),
            "claims another branch"
        );
        assert!(store.named_after("session/absent").is_none());
        fs::write(
            store.dir().join("broken.toml"),
            "schema = 1\nbranch = \"session/broken\"\n",
        )
        .unwrap();
        assert!(
            store.named_after("session/broken").is_none(),
            "left to the index"
        );
    }
}
