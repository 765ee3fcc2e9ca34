//! The cache in the git directory (`git-session/cache`): per-session aggregates of history with
//! the tips they hold for, branch-rule results, parsed session files, and the ids of every
//! commit the aggregates cover. History is immutable, so an aggregate stays true for as long as
//! its tips stay reachable; the caller walks only what is new since.
//!
//! One file, rewritten whole (temp file + rename) under the tool's lock; each section carries a
//! checksum, and anything unexpected makes the cache count as missing: it is rebuilt silently
//! and never changes an answer. It is mapped rather than read, which holds because the tool
//! never changes the file in place.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::{Datelike, FixedOffset, NaiveDate, TimeZone};
use uuid::Uuid;

pub use crate::aggregate::AggregateSink;
use crate::aggregate::{Aggregate, BlockerMark, Moment, SmallMap};
use crate::codec::{self, Body, Dec, Enc};
use crate::name::Name;
use crate::repo::CommitId;
use crate::session::{Command, Criteria, Milestone, MilestoneCriterion, Session, Status};

const MAGIC: &[u8; 8] = b"GSCACHE\0";
/// Bumped whenever the layout or the meaning of a field changes (2: sessions carry
/// `status_reason`, and a commit names at most `links::MAX_SESSIONS` sessions; 3: both at once;
/// 4: blocker events ordered by moment, not commit id).
const VERSION: u32 = 6;

/// A session file as last parsed, with what identified its content on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub stamp: FileStamp,
    pub session: Session,
}

/// What `stat` says of a file: if all of it is unchanged, so is the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl FileStamp {
    /// Whether the file was last changed more than two seconds before `written_at` (seconds),
    /// so that a record written then can be trusted while the stamp is unchanged: a change
    /// within the same second as the record would leave the same stamp (git's racy index).
    pub fn settled_before(&self, written_at: i64) -> bool {
        let limit = written_at.saturating_sub(2);
        self.mtime_ns / 1_000_000_000 < limit && self.ctime_ns / 1_000_000_000 < limit
    }

    /// From `stat`'s fields: the size, the (seconds, nanoseconds) of the times, the inode.
    pub fn from_stat(len: u64, mtime: (i64, i64), ctime: (i64, i64), ino: u64) -> FileStamp {
        FileStamp {
            len,
            mtime_ns: mtime.0 * 1_000_000_000 + mtime.1,
            ctime_ns: ctime.0 * 1_000_000_000 + ctime.1,
            ino,
        }
    }

    pub fn of(meta: &fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileStamp::from_stat(
                meta.len(),
                (meta.mtime(), meta.mtime_nsec()),
                (meta.ctime(), meta.ctime_nsec()),
                meta.ino(),
            )
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            FileStamp {
                len: meta.len(),
                mtime_ns,
                ctime_ns: mtime_ns,
                ino: 0,
            }
        }
    }
}

/// The branch rule's result for one (branch, base) pair at given tips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchEntry {
    pub branch: String,
    pub base: String,
    pub tip: CommitId,
    pub base_tip: CommitId,
    pub aggregate: Aggregate,
}

/// Everything the cache holds but the known-commit table, which is read only when needed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cache {
    /// What the history part was computed with (trailer configuration).
    pub fingerprint: u64,
    /// When it was written (seconds); session files modified since then are re-read.
    pub written_at: i64,
    pub tips: Vec<CommitId>,
    /// The latest committer time of any commit covered: a later commit is new.
    pub newest: i64,
    /// Every covered commit committed at `newest` (sorted): another of that second is new.
    /// `None` when too many share that second to list them.
    pub newest_ids: Option<Vec<CommitId>>,
    /// The highest walk rank given to a covered commit; new commits rank above it.
    pub rank_top: i64,
    /// Commits covered by the aggregates but not yet in the known-commit file (sorted).
    pub pending: Vec<CommitId>,
    /// Which known-commit file goes with this cache (count and checksum).
    pub known: KnownSection,
    pub aggregates: Table<Aggregate>,
    pub branches: Vec<BranchEntry>,
    pub files: Table<FileEntry>,
}

impl Cache {
    /// Whether a lazily read entry failed to decode: the cache must not be trusted then.
    pub fn is_damaged(&self) -> bool {
        self.aggregates.is_damaged() || self.files.is_damaged()
    }

    /// About the bytes the cache file takes (its tables; the rest is small).
    pub fn size_hint(&self) -> usize {
        self.aggregates.size_hint() + self.files.size_hint()
    }
}

/// A cache file on disk.
pub struct CacheFile {
    path: PathBuf,
}

/// Identifies the known-commit file a cache goes with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KnownSection {
    pub count: u64,
    pub checksum: u64,
}

impl CacheFile {
    pub fn new(state_dir: &Path) -> CacheFile {
        CacheFile {
            path: state_dir.join("cache"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn known_path(&self) -> PathBuf {
        self.path.with_file_name("cache-known")
    }

    /// Reads the cache; `None` when it is missing, from another version or damaged.
    pub fn load(&self) -> Option<Cache> {
        let body = Rc::new(codec::map_framed(&self.path, MAGIC, VERSION)?);
        let mut d = Dec::new(&body);
        let cache = decode_body(&mut d, &body)?;
        d.is_done().then_some(cache)
    }

    /// Reads the known-commit table (sorted ids) that `section` names; `None` if it is missing,
    /// another one, or damaged.
    pub fn load_known(&self, section: KnownSection) -> Option<Vec<CommitId>> {
        let mut file = fs::File::open(self.known_path()).ok()?;
        let len = usize::try_from(section.count).ok()?.checked_mul(20)?;
        if file.metadata().ok()?.len() != len as u64 {
            return None;
        }
        let mut bytes = vec![0u8; len];
        file.read_exact(&mut bytes).ok()?;
        if checksum(&bytes) != section.checksum {
            return None;
        }
        let ids: Vec<CommitId> = bytes
            .chunks_exact(20)
            .map(|c| {
                let mut id = [0u8; 20];
                id.copy_from_slice(c);
                CommitId(id)
            })
            .collect();
        ids.windows(2).all(|w| w[0] < w[1]).then_some(ids)
    }

    /// Writes a new known-commit table (sorted, no duplicates) and returns what names it.
    pub fn save_known(&self, known: &[CommitId]) -> std::io::Result<KnownSection> {
        let mut sum = Checksum::new(known.len() * 20);
        // Written in pieces: a million ids need not be copied into one buffer first.
        write_replacing(&self.known_path(), &mut |out| {
            let mut chunk = Vec::with_capacity(1600 * 20);
            for ids in known.chunks(1600) {
                chunk.clear();
                for id in ids {
                    chunk.extend_from_slice(&id.0);
                }
                sum.update(&chunk);
                out.write_all(&chunk)?;
            }
            Ok(())
        })?;
        Ok(KnownSection {
            count: known.len() as u64,
            checksum: sum.finish(),
        })
    }

    /// Writes the cache. The write is atomic; durability does not matter for a cache, so it is
    /// not synced.
    pub fn save(&self, cache: &Cache) -> std::io::Result<()> {
        // Room for the whole body at once: growing it by doubling copies it, and at a million
        // commits those copies were the largest thing in memory. Pages reserved but never
        // written cost nothing.
        let room = cache.size_hint() + (64 << 10);
        let mut body = Enc(Vec::with_capacity(room));
        encode_body(&mut body, cache);
        codec::write_framed(&self.path, MAGIC, VERSION, &body.into_bytes())
    }
}

/// Temp file in the same directory, then rename: readers see the old file or the new one.
pub(crate) fn write_replacing(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".cache-")
        .tempfile_in(dir)?;
    let mut out = std::io::BufWriter::new(tmp);
    write(&mut out)?;
    let tmp = out.into_inner().map_err(|e| e.into_error())?;
    swap_in(tmp, path)
}

/// Puts `tmp` in place of `path`: readers see the old file or the new one, never part of one.
/// Where the system can, an existing regular file is exchanged with `tmp` and then removed:
/// renaming over a file makes ext4 (`auto_da_alloc`) start writing the new one out at once,
/// 0.15 ms that every hook writing a file would pay. Without that write-out a power cut may
/// leave the file empty, so this is for files that may be lost: caches.
pub(crate) fn swap_in(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        let tmp = tmp.into_temp_path();
        let exchange = || renameat_with(CWD, &*tmp, CWD, path, RenameFlags::EXCHANGE);
        if exchange().is_err() {
            // A file system without exchange (EINVAL) still renames.
            return tmp.persist(path).map_err(|e| e.error);
        }
        // The old file now has the temporary name. Anything else put there since the check
        // above (a directory) goes back where it was.
        return match fs::remove_file(&tmp) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = exchange();
                Err(e)
            }
        };
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A fast checksum that catches truncation and damage: four independent multiply-rotate lanes
/// over 8-byte words, so any single changed word changes the result.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut sum = Checksum::new(bytes.len());
    sum.update(bytes);
    sum.finish()
}

/// [`checksum`] computed piece by piece; `len` is the total that will be fed.
pub struct Checksum {
    lanes: [u64; 4],
    pending: Vec<u8>,
}

const CHECKSUM_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Checksum {
    pub fn new(len: usize) -> Checksum {
        Checksum {
            lanes: [
                0xcbf2_9ce4_8422_2325 ^ len as u64,
                0x9E37_79B9_7F4A_7C15,
                0xC2B2_AE3D_27D4_EB4F,
                0x1656_67B1_9E37_79F9,
            ],
            pending: Vec::with_capacity(32),
        }
    }

    fn block(&mut self, block: &[u8]) {
        for (lane, word) in self.lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            *lane = (*lane ^ w).wrapping_mul(CHECKSUM_PRIME).rotate_left(5);
        }
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        if !self.pending.is_empty() {
            let take = (32 - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() < 32 {
                return;
            }
            let full = std::mem::take(&mut self.pending);
            self.block(&full);
            self.pending = full;
            self.pending.clear();
        }
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            self.block(block);
        }
        self.pending.extend_from_slice(blocks.remainder());
    }

    pub fn finish(self) -> u64 {
        let mut h = self.lanes.iter().fold(0u64, |acc, l| {
            (acc ^ l).wrapping_mul(CHECKSUM_PRIME).rotate_left(7)
        });
        for &b in &self.pending {
            h = (h ^ u64::from(b)).wrapping_mul(CHECKSUM_PRIME);
        }
        h
    }
}

fn encode_body(e: &mut Enc, c: &Cache) {
    e.u64(c.fingerprint);
    e.i64(c.written_at);
    e.ids(&c.tips);
    e.i64(c.newest);
    e.opt_ids(c.newest_ids.as_deref());
    e.i64(c.rank_top);
    e.ids(&c.pending);
    e.u64(c.known.count);
    e.u64(c.known.checksum);
    c.aggregates.encode(e);
    e.u64(c.branches.len() as u64);
    for b in &c.branches {
        e.str(&b.branch);
        e.str(&b.base);
        e.id(&b.tip);
        e.id(&b.base_tip);
        encode_aggregate(e, &b.aggregate);
    }
    c.files.encode(e);
}

fn decode_body(d: &mut Dec, body: &Rc<Body>) -> Option<Cache> {
    let fingerprint = d.u64()?;
    let written_at = d.i64()?;
    let tips = d.ids()?;
    let newest = d.i64()?;
    let newest_ids = d.opt_ids()?;
    let rank_top = d.i64()?;
    let pending = d.ids()?;
    let known = KnownSection {
        count: d.u64()?,
        checksum: d.u64()?,
    };
    let aggregates = Table::index(d, body)?;
    let mut branches = Vec::new();
    for _ in 0..d.count()? {
        branches.push(BranchEntry {
            branch: d.str()?,
            base: d.str()?,
            tip: d.id()?,
            base_tip: d.id()?,
            aggregate: decode_aggregate(d)?,
        });
    }
    let files = Table::index(d, body)?;
    Some(Cache {
        fingerprint,
        written_at,
        tips,
        newest,
        newest_ids,
        rank_top,
        pending,
        known,
        aggregates,
        branches,
        files,
    })
}

/// A value stored in a [`Table`].
pub trait Codec: Sized + Clone {
    fn encode(&self, e: &mut Enc);
    fn decode(d: &mut Dec) -> Option<Self>;
}

impl Codec for Aggregate {
    fn encode(&self, e: &mut Enc) {
        encode_aggregate(e, self);
    }
    fn decode(d: &mut Dec) -> Option<Self> {
        decode_aggregate(d)
    }
}

impl Codec for FileStamp {
    fn encode(&self, e: &mut Enc) {
        e.u64(self.len);
        e.i64(self.mtime_ns);
        e.i64(self.ctime_ns);
        e.u64(self.ino);
    }
    fn decode(d: &mut Dec) -> Option<Self> {
        Some(FileStamp {
            len: d.u64()?,
            mtime_ns: d.i64()?,
            ctime_ns: d.i64()?,
            ino: d.u64()?,
        })
    }
}

impl Codec for FileEntry {
    fn encode(&self, e: &mut Enc) {
        self.stamp.encode(e);
        encode_session(e, &self.session);
    }
    fn decode(d: &mut Dec) -> Option<Self> {
        Some(FileEntry {
            stamp: FileStamp::decode(d)?,
            session: decode_session(d)?,
        })
    }
}

/// A value that is all of `bytes`.
fn decode_whole<T: Codec>(bytes: &[u8]) -> Option<T> {
    let mut d = Dec::new(bytes);
    T::decode(&mut d).filter(|_| d.is_done())
}

/// A change to a [`Table`] entry.
#[derive(Clone)]
enum Slot<T> {
    Gone,
    Value(T),
    Encoded(Vec<u8>),
}

impl<T: Codec> Slot<T> {
    fn value(&self) -> Option<T> {
        match self {
            Slot::Gone => None,
            Slot::Value(v) => Some(v.clone()),
            Slot::Encoded(bytes) => decode_whole(bytes),
        }
    }

    fn is_some(&self) -> bool {
        !matches!(self, Slot::Gone)
    }
}

/// Values by key, decoded only when asked for: a run that needs a few of many entries pays for
/// those few. Changes live in an overlay until the table is written again, when unchanged
/// entries are copied as they are.
#[derive(Clone)]
pub struct Table<T> {
    body: Rc<Body>,
    /// (key, encoded value) ranges in `body`, sorted by key.
    index: Vec<(Range<usize>, Range<usize>)>,
    overlay: BTreeMap<String, Slot<T>>,
    damaged: Cell<bool>,
    /// Where the last look-up ended: callers mostly ask in key order.
    hint: Cell<usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            body: Rc::new(Body::Owned(Vec::new())),
            index: Vec::new(),
            overlay: BTreeMap::new(),
            damaged: Cell::new(false),
            hint: Cell::new(0),
        }
    }
}

/// Aggregates folded straight into the form a [`Table`] keeps them in, so that a full walk's
/// result becomes the cache's table without a copy (at a million commits the copy was the
/// largest thing in memory when the cache was first built).
#[derive(Default)]
pub struct FreshAggregates(BTreeMap<String, Slot<Aggregate>>);

impl AggregateSink for FreshAggregates {
    fn aggregate(&mut self, key: &str) -> &mut Aggregate {
        if !self.0.contains_key(key) {
            self.0
                .insert(key.to_string(), Slot::Value(Aggregate::default()));
        }
        match self.0.get_mut(key) {
            Some(Slot::Value(a)) => a,
            _ => unreachable!("just inserted"),
        }
    }
}

impl Table<Aggregate> {
    pub fn from_fresh(fresh: FreshAggregates) -> Table<Aggregate> {
        Table {
            overlay: fresh.0,
            ..Table::default()
        }
    }
}

impl<T: Codec> Table<T> {
    /// A table holding exactly `map`.
    pub fn from_map(map: BTreeMap<String, T>) -> Table<T> {
        Table {
            overlay: map.into_iter().map(|(k, v)| (k, Slot::Value(v))).collect(),
            ..Table::default()
        }
    }

    /// Reads the index of a table section without decoding its values.
    fn index(d: &mut Dec, body: &Rc<Body>) -> Option<Table<T>> {
        let n = d.count()?;
        let mut index = Vec::with_capacity(n);
        for _ in 0..n {
            let klen = d.u32()? as usize;
            let kstart = d.at;
            std::str::from_utf8(d.bytes(klen)?).ok()?;
            let vlen = d.u32()? as usize;
            let vstart = d.at;
            d.bytes(vlen)?;
            index.push((kstart..kstart + klen, vstart..vstart + vlen));
        }
        let sorted = index
            .windows(2)
            .all(|w| body[w[0].0.clone()] < body[w[1].0.clone()]);
        sorted.then(|| Table {
            body: body.clone(),
            index,
            overlay: BTreeMap::new(),
            damaged: Cell::new(false),
            hint: Cell::new(0),
        })
    }

    /// Overwrites the stored value of `key` with bytes that do not decode, as a cache written
    /// by a faulty version would hold: for tests of what readers then do.
    #[cfg(test)]
    pub(crate) fn damage(&mut self, key: &str) {
        let i = self.find(key).expect("a stored entry");
        let mut body = self.body.to_vec();
        body[self.index[i].1.clone()].fill(0xff);
        self.body = Rc::new(Body::Owned(body));
    }

    fn key_at(&self, i: usize) -> &str {
        std::str::from_utf8(&self.body[self.index[i].0.clone()]).expect("checked when indexed")
    }

    fn find(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        let at = |i: usize| &self.body[self.index[i].0.clone()];
        // Look a few entries past the last hit before searching the whole index.
        let hint = self.hint.get();
        for i in hint..(hint + 4).min(self.index.len()) {
            match at(i).cmp(key) {
                std::cmp::Ordering::Equal => {
                    self.hint.set(i + 1);
                    return Some(i);
                }
                std::cmp::Ordering::Greater => break,
                std::cmp::Ordering::Less => {}
            }
        }
        let found = self
            .index
            .binary_search_by(|(k, _)| self.body[k.clone()].cmp(key));
        if let Ok(i) = found {
            self.hint.set(i + 1);
        }
        found.ok()
    }

    fn decode_at(&self, i: usize) -> Option<T> {
        let v = decode_whole(&self.body[self.index[i].1.clone()]);
        if v.is_none() {
            self.damaged.set(true);
        }
        v
    }

    pub fn get(&self, key: &str) -> Option<T> {
        match self.overlay.get(key) {
            Some(v) => v.value(),
            None => self.find(key).and_then(|i| self.decode_at(i)),
        }
    }

    /// [`Table::get`] of each of `keys`, decoding on two threads when there are many: a cached
    /// `list` of 7,600 session files spent 40 ms decoding them on one.
    pub fn get_all(&self, keys: &[&str]) -> Vec<Option<T>>
    where
        T: Send,
    {
        // Overlay values, or where the encoded value lies.
        let found: Vec<Result<Option<T>, usize>> = keys
            .iter()
            .map(|key| match self.overlay.get(*key) {
                Some(v) => Ok(v.value()),
                None => self.find(key).map_or(Ok(None), Err),
            })
            .collect();
        let (body, index) = (&self.body[..], &self.index[..]);
        let at: Vec<usize> = found
            .iter()
            .filter_map(|f| f.as_ref().err().copied())
            .collect();
        let mut decoded = crate::par::in_halves(&at, 256, |part| {
            part.iter()
                .map(|&i| decode_whole(&body[index[i].1.clone()]))
                .collect()
        })
        .into_iter();
        found
            .into_iter()
            .map(|f| match f {
                Ok(v) => v,
                Err(_) => {
                    let v = decoded.next().flatten();
                    if v.is_none() {
                        self.damaged.set(true);
                    }
                    v
                }
            })
            .collect()
    }

    pub fn contains(&self, key: &str) -> bool {
        match self.overlay.get(key) {
            Some(v) => v.is_some(),
            None => self.find(key).is_some(),
        }
    }

    pub fn insert(&mut self, key: String, value: T) {
        self.overlay.insert(key, Slot::Value(value));
    }

    /// As [`Table::insert`], keeping `value` only in its encoded form: a table built afresh
    /// for thousands of session files would otherwise hold a copy of each in memory.
    pub fn insert_encoded(&mut self, key: String, value: &T) {
        let mut e = Enc::default();
        value.encode(&mut e);
        self.overlay.insert(key, Slot::Encoded(e.into_bytes()));
    }

    pub fn remove(&mut self, key: &str) {
        if self.contains(key) {
            self.overlay.insert(key.to_string(), Slot::Gone);
        }
    }

    /// The value at `key` to change in place, starting from `T::default()` if there is none.
    pub fn entry(&mut self, key: &str) -> &mut T
    where
        T: Default,
    {
        if !matches!(self.overlay.get(key), Some(Slot::Value(_))) {
            let current = match self.overlay.get(key) {
                Some(slot) => slot.value(),
                None => self.find(key).and_then(|i| self.decode_at(i)),
            };
            self.overlay
                .insert(key.to_string(), Slot::Value(current.unwrap_or_default()));
        }
        match self.overlay.get_mut(key) {
            Some(Slot::Value(v)) => v,
            _ => unreachable!("just inserted"),
        }
    }

    /// Bytes enough to encode the table, unless its new values are unusually large.
    fn size_hint(&self) -> usize {
        self.body.len() + self.overlay.len() * 512
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = (0..self.index.len())
            .map(|i| self.key_at(i))
            .filter(|k| !self.overlay.contains_key(*k))
            .map(str::to_string)
            .collect();
        keys.extend(
            self.overlay
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| k.clone()),
        );
        keys.sort_unstable();
        keys
    }

    pub fn is_damaged(&self) -> bool {
        self.damaged.get()
    }

    /// Writes the table: unchanged entries as they were read, changed ones encoded afresh.
    fn encode(&self, e: &mut Enc) {
        enum Item<'a, T> {
            Raw(&'a [u8], &'a [u8]),
            New(&'a str, &'a T),
        }
        let mut items: Vec<(&[u8], Item<T>)> = Vec::new();
        for (k, v) in &self.index {
            let key = &self.body[k.clone()];
            let changed = std::str::from_utf8(key).is_ok_and(|k| self.overlay.contains_key(k));
            if !changed {
                items.push((key, Item::Raw(key, &self.body[v.clone()])));
            }
        }
        for (k, v) in &self.overlay {
            match v {
                Slot::Value(v) => items.push((k.as_bytes(), Item::New(k, v))),
                Slot::Encoded(v) => items.push((k.as_bytes(), Item::Raw(k.as_bytes(), v))),
                Slot::Gone => {}
            }
        }
        items.sort_by(|a, b| a.0.cmp(b.0));
        e.u64(items.len() as u64);
        let mut blob = Enc::default();
        for (_, item) in items {
            match item {
                Item::Raw(k, v) => {
                    e.u32(k.len() as u32);
                    e.0.extend_from_slice(k);
                    e.u32(v.len() as u32);
                    e.0.extend_from_slice(v);
                }
                Item::New(k, v) => {
                    blob.0.clear();
                    v.encode(&mut blob);
                    e.str(k);
                    e.u32(blob.0.len() as u32);
                    e.0.extend_from_slice(&blob.0);
                }
            }
        }
    }
}

impl AggregateSink for Table<Aggregate> {
    fn aggregate(&mut self, key: &str) -> &mut Aggregate {
        self.entry(key)
    }
}

impl<T: Codec + std::fmt::Debug> std::fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.keys();
        f.debug_map()
            .entries(keys.iter().map(|k| (k, self.get(k))))
            .finish()
    }
}

impl<T: Codec + PartialEq> PartialEq for Table<T> {
    fn eq(&self, other: &Self) -> bool {
        let keys = self.keys();
        keys == other.keys() && keys.iter().all(|k| self.get(k) == other.get(k))
    }
}

pub(crate) fn encode_aggregate(e: &mut Enc, a: &Aggregate) {
    e.u32(a.commits);
    e.i64(a.earliest);
    e.i64(a.latest);
    e.u64(a.done.len() as u64);
    for (m, t) in a.done.iter() {
        e.str(m);
        e.i64(*t);
    }
    e.u64(a.tasks.len() as u64);
    for ((m, t), time) in a.tasks.iter() {
        e.str(m);
        e.str(t);
        e.i64(*time);
    }
    e.u64(a.reported_minutes);
    e.u64(a.blockers.len() as u64);
    for (tag, b) in a.blockers.iter() {
        e.str(tag);
        e.i64(b.at.time);
        e.i64(b.at.author_time);
        e.i64(b.at.rank);
        e.u32(b.seq);
        e.u8(u8::from(b.opens) | (u8::from(b.ever_opened) << 1));
    }
}

pub(crate) fn decode_aggregate(d: &mut Dec) -> Option<Aggregate> {
    let commits = d.u32()?;
    let earliest = d.i64()?;
    let latest = d.i64()?;
    let mut done = SmallMap::default();
    for _ in 0..d.count()? {
        done.insert(d.str()?, d.i64()?);
    }
    let mut tasks = SmallMap::default();
    for _ in 0..d.count()? {
        tasks.insert((d.str()?, d.str()?), d.i64()?);
    }
    let reported_minutes = d.u64()?;
    let mut blockers = SmallMap::default();
    for _ in 0..d.count()? {
        let tag = d.str()?;
        let at = Moment {
            time: d.i64()?,
            author_time: d.i64()?,
            rank: d.i64()?,
        };
        let seq = d.u32()?;
        let flags = d.u8()?;
        blockers.insert(
            tag,
            BlockerMark {
                at,
                seq,
                opens: flags & 1 != 0,
                ever_opened: flags & 2 != 0,
            },
        );
    }
    Some(Aggregate {
        commits,
        earliest,
        latest,
        done,
        tasks,
        reported_minutes,
        blockers,
    })
}

fn encode_session(e: &mut Enc, s: &Session) {
    e.0.extend_from_slice(s.id.as_bytes());
    e.str(s.name.as_str());
    e.str(&s.title);
    e.str(&s.branch);
    e.str(&s.base);
    e.i64(s.created.timestamp());
    e.i64(i64::from(s.created.offset().local_minus_utc()));
    e.opt_str(s.owner.as_deref());
    e.str(s.status.as_str());
    e.opt_str(s.status_reason.as_deref());
    e.strs(s.objectives.iter().map(String::as_str));
    e.u64(s.milestones.len() as u64);
    for m in &s.milestones {
        e.str(m.id.as_str());
        e.str(&m.title);
        e.i64(m.due.map_or(i64::MIN, |d| i64::from(d.num_days_from_ce())));
        e.strs(m.depends_on.iter().map(Name::as_str));
        e.strs(m.tasks.iter().map(Name::as_str));
    }
    match &s.criteria {
        None => e.u8(0),
        Some(c) => {
            e.u8(1);
            match &c.milestones {
                MilestoneCriterion::Unset => e.u8(0),
                MilestoneCriterion::All => e.u8(1),
                MilestoneCriterion::List(ids) => {
                    e.u8(2);
                    e.strs(ids.iter().map(Name::as_str));
                }
            }
            e.u8(u8::from(c.no_open_blockers));
            e.strs(c.require_trailers.iter().map(String::as_str));
            e.u64(c.commands.len() as u64);
            for cmd in &c.commands {
                e.str(&cmd.name);
                e.str(&cmd.run);
                e.opt_str(cmd.timeout.as_deref());
                e.u64(cmd.timeout_secs);
            }
        }
    }
}

fn decode_session(d: &mut Dec) -> Option<Session> {
    let id = Uuid::from_slice(d.bytes(16)?).ok()?;
    let name = Name::from_string(d.str()?, "").ok()?;
    let title = d.str()?;
    let branch = d.str()?;
    let base = d.str()?;
    let secs = d.i64()?;
    let offset = FixedOffset::east_opt(i32::try_from(d.i64()?).ok()?)?;
    let created = offset.timestamp_opt(secs, 0).single()?;
    let owner = d.opt_str()?;
    let status = Status::parse(&d.str()?)?;
    let status_reason = d.opt_str()?;
    let objectives = d.strs()?;
    let mut milestones = Vec::new();
    for _ in 0..d.count()? {
        milestones.push(Milestone {
            id: Name::from_string(d.str()?, "").ok()?,
            title: d.str()?,
            due: match d.i64()? {
                i64::MIN => None,
                days => Some(NaiveDate::from_num_days_from_ce_opt(
                    i32::try_from(days).ok()?,
                )?),
            },
            depends_on: names(d.strs()?)?,
            tasks: names(d.strs()?)?,
        });
    }
    let criteria = match d.u8()? {
        0 => None,
        _ => {
            let milestones = match d.u8()? {
                0 => MilestoneCriterion::Unset,
                1 => MilestoneCriterion::All,
                _ => MilestoneCriterion::List(names(d.strs()?)?),
            };
            let no_open_blockers = d.u8()? != 0;
            let require_trailers = d.strs()?;
            let mut commands = Vec::new();
            for _ in 0..d.count()? {
                commands.push(Command {
                    name: d.str()?,
                    run: d.str()?,
                    timeout: d.opt_str()?,
                    timeout_secs: d.u64()?,
                });
            }
            Some(Criteria {
                milestones,
                no_open_blockers,
                require_trailers,
                commands,
            })
        }
    };
    Some(Session {
        id,
        name,
        title,
        branch,
        base,
        created,
        owner,
        status,
        status_reason,
        objectives,
        milestones,
        criteria,
    })
}

fn names(texts: Vec<String>) -> Option<Vec<Name>> {
    texts
        .into_iter()
        .map(|t| Name::from_string(t, "").ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cache {
        let session = crate::session::parse(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"s\"\n\
             branch = \"session/s\"\nbase = \"main\"\ncreated = 2026-11-24T09:30:00+01:00\n\
             status = \"active\"\nowner = \"A <a@x>\"\nobjectives = [\"o\"]\n\
             [[milestones]]\nid = \"a\"\ndue = 2026-12-01\ntasks = [\"x\"]\n\
             [[milestones]]\nid = \"b\"\ndepends_on = [\"a\"]\n\
             [criteria]\nmilestones = [\"a\"]\nno_open_blockers = true\n\
             [[criteria.commands]]\nname = \"t\"\nrun = \"true\"\ntimeout = \"1m\"\n",
            Some("s"),
        )
        .unwrap();
        let mut aggregates = FreshAggregates::default();
        let links = crate::links::from_message(
            b"x\n\nSession: s\nMilestone-Done: a\nTask-Done: a/x\nBlocker: #k t\nEffort: 1h\n",
            &crate::trailer::TrailerConfig::default(),
        );
        aggregates.add_commit(
            Moment {
                time: 1_700_000_000,
                author_time: 1_700_000_000,
                rank: 0,
            },
            &links,
        );
        let aggregates = Table::from_fresh(aggregates);
        Cache {
            fingerprint: 42,
            written_at: 1_700_000_100,
            tips: vec![CommitId([1; 20]), CommitId([2; 20])],
            newest: 1_700_000_050,
            newest_ids: Some(vec![CommitId([2; 20]), CommitId([6; 20])]),
            rank_top: 3,
            pending: vec![CommitId([7; 20])],
            known: KnownSection::default(),
            branches: vec![BranchEntry {
                branch: "session/s".into(),
                base: "main".into(),
                tip: CommitId([4; 20]),
                base_tip: CommitId([5; 20]),
                aggregate: aggregates.get("s").unwrap(),
            }],
            aggregates,
            files: Table::from_map(BTreeMap::from([(
                "s".to_string(),
                FileEntry {
                    stamp: FileStamp {
                        len: 10,
                        mtime_ns: 11,
                        ctime_ns: 12,
                        ino: 13,
                    },
                    session,
                },
            )])),
        }
    }

    #[test]
    fn checksum_in_pieces_is_the_same() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for split in [0, 1, 20, 31, 32, 33, 500, 999, 1000] {
            let mut sum = Checksum::new(bytes.len());
            sum.update(&bytes[..split]);
            for piece in bytes[split..].chunks(20) {
                sum.update(piece);
            }
            assert_eq!(sum.finish(), checksum(&bytes), "split at {split}");
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::new(dir.path());
        let mut cache = sample();
        let known = vec![CommitId([1; 20]), CommitId([2; 20]), CommitId([9; 20])];
        cache.known = file.save_known(&known).unwrap();
        file.save(&cache).unwrap();
        let loaded = file.load().unwrap();
        assert_eq!(loaded, cache);
        assert_eq!(file.load_known(loaded.known).unwrap(), known);
        // Another table than the one the cache names is not taken.
        file.save_known(&known[..2]).unwrap();
        assert!(file.load_known(loaded.known).is_none());
    }

    #[test]
    fn tables_decode_lazily_and_keep_what_they_did_not_touch() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::new(dir.path());
        let mut cache = sample();
        let a = cache.aggregates.get("s").unwrap();
        cache.aggregates.insert("t".into(), a.clone());
        cache.aggregates.insert("u".into(), a.clone());
        file.save(&cache).unwrap();
        let mut loaded = file.load().unwrap();
        assert_eq!(loaded.aggregates.keys(), ["s", "t", "u"]);
        loaded.aggregates.entry("t").commits += 1;
        loaded.aggregates.remove("u");
        loaded.aggregates.entry("new").commits = 7;
        assert!(!loaded.aggregates.contains("u"));
        file.save(&loaded).unwrap();
        let again = file.load().unwrap();
        assert_eq!(again.aggregates.keys(), ["new", "s", "t"]);
        assert_eq!(again.aggregates.get("s").unwrap(), a);
        assert_eq!(again.aggregates.get("t").unwrap().commits, a.commits + 1);
        assert_eq!(again.aggregates.get("new").unwrap().commits, 7);
        assert!(again.aggregates.get("u").is_none());
        assert!(!again.is_damaged());
    }

    #[test]
    fn values_kept_encoded_read_change_and_save_as_others() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::new(dir.path());
        let mut cache = sample();
        let a = cache.aggregates.get("s").unwrap();
        cache.aggregates.insert_encoded("e".into(), &a);
        cache.aggregates.insert_encoded("f".into(), &a);
        assert_eq!(cache.aggregates.get("e").unwrap(), a);
        cache.aggregates.entry("f").commits += 1;
        assert_eq!(cache.aggregates.get_all(&["e", "f"])[0].as_ref(), Some(&a));
        file.save(&cache).unwrap();
        let mut loaded = file.load().unwrap();
        // A removed entry starts again from nothing, not from what the file held.
        loaded.aggregates.remove("s");
        loaded.aggregates.entry("s").commits += 1;
        file.save(&loaded).unwrap();
        let loaded = file.load().unwrap();
        assert_eq!(loaded.aggregates.keys(), ["e", "f", "s"]);
        assert_eq!(loaded.aggregates.get("e").unwrap(), a);
        assert_eq!(loaded.aggregates.get("f").unwrap().commits, a.commits + 1);
        assert_eq!(loaded.aggregates.get("s").unwrap().commits, 1);
        assert!(!loaded.is_damaged());
    }

    #[test]
    fn get_all_answers_as_get_does_on_two_threads() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::new(dir.path());
        let mut cache = sample();
        let a = cache.aggregates.get("s").unwrap();
        for i in 0..600 {
            let mut v = a.clone();
            v.commits = i;
            cache.aggregates.insert(format!("k{i:04}"), v);
        }
        file.save(&cache).unwrap();
        let mut loaded = file.load().unwrap();
        loaded.aggregates.entry("k0007").commits = 70_000;
        loaded.aggregates.remove("k0300");
        loaded.aggregates.entry("k9999").commits = 9;
        let mut keys: Vec<String> = loaded.aggregates.keys();
        keys.extend(["absent".to_string(), "k0300".to_string()]);
        keys.reverse();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let all = loaded.aggregates.get_all(&keys);
        assert_eq!(all.len(), keys.len());
        for (key, got) in keys.iter().zip(&all) {
            assert_eq!(got, &loaded.aggregates.get(key), "{key}");
        }
        assert_eq!(
            all[keys.iter().position(|k| *k == "k0007").unwrap()]
                .as_ref()
                .unwrap()
                .commits,
            70_000
        );
        assert!(all[keys.iter().position(|k| *k == "k0300").unwrap()].is_none());
        assert!(!loaded.is_damaged());
    }

    #[test]
    fn damage_makes_it_missing() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::new(dir.path());
        let mut cache = sample();
        cache.known = file
            .save_known(&[CommitId([1; 20]), CommitId([2; 20])])
            .unwrap();
        file.save(&cache).unwrap();
        let good = fs::read(file.path()).unwrap();
        // Every single-byte change and every truncation is caught.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x55;
            fs::write(file.path(), &bad).unwrap();
            let ok = file
                .load()
                .and_then(|c| file.load_known(c.known).map(|ids| (c, ids)));
            assert!(ok.is_none(), "byte {i} changed unnoticed");
        }
        fs::write(file.path(), &good).unwrap();
        let known = fs::read(file.known_path()).unwrap();
        for i in 0..known.len() {
            let mut bad = known.clone();
            bad[i] ^= 0x01;
            fs::write(file.known_path(), &bad).unwrap();
            assert!(file.load_known(cache.known).is_none(), "known byte {i}");
        }
        for len in [0, 5, codec::HEADER_LEN, good.len() - 1] {
            fs::write(file.path(), &good[..len]).unwrap();
            assert!(file.load().is_none(), "truncated to {len}");
        }
        assert!(CacheFile::new(&dir.path().join("nope")).load().is_none());
    }

    #[test]
    fn a_file_swapped_in_replaces_the_old_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memo");
        let write = |text: &str| {
            let mut tmp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
            tmp.write_all(text.as_bytes()).unwrap();
            swap_in(tmp, &path)
        };
        write("first").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        write("second, longer").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second, longer");
        let names = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(dir.path()), ["memo"]);

        // A directory in the way is refused, not swapped out of its place.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "kept").unwrap();
        assert!(write("third").is_err());
        assert_eq!(fs::read_to_string(path.join("inside")).unwrap(), "kept");
        assert_eq!(names(dir.path()), ["memo"]);
    }
}
