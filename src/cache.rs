//! The cache in the git directory (`git-session/cache`): per-session aggregates of history with
//! the tips they hold for, branch-rule results, parsed session files, and the ids of every
//! commit the aggregates cover. History is immutable, so an aggregate stays true for as long as
//! its tips stay reachable; the caller walks only what is new since.
//!
//! One file, rewritten whole (temp file + rename) under the tool's lock; each section carries a
//! checksum, and anything unexpected makes the cache count as missing: it is rebuilt silently
//! and never changes an answer.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Aggregates, BlockerMark};
use crate::name::Name;
use crate::repo::CommitId;
use crate::session::{Command, Criteria, Milestone, MilestoneCriterion, Session, Status};

const MAGIC: &[u8; 8] = b"GSCACHE\0";
/// Bumped whenever the layout or the meaning of a field changes.
const VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;

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
    pub fn of(meta: &fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileStamp {
                len: meta.len(),
                mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
                ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
                ino: meta.ino(),
            }
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
    /// Commits covered by the aggregates but not yet in the known-commit file (sorted).
    pub pending: Vec<CommitId>,
    /// Which known-commit file goes with this cache (count and checksum).
    pub known: KnownSection,
    pub aggregates: Aggregates,
    pub branches: Vec<BranchEntry>,
    pub files: BTreeMap<String, FileEntry>,
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
        let mut file = fs::File::open(&self.path).ok()?;
        let mut header = [0u8; HEADER_LEN];
        file.read_exact(&mut header).ok()?;
        let mut d = Dec::new(&header);
        if d.bytes(8)? != MAGIC || d.u32()? != VERSION {
            return None;
        }
        let body_len = d.u64()?;
        let body_sum = d.u64()?;
        if file.metadata().ok()?.len() != HEADER_LEN as u64 + body_len {
            return None;
        }
        let mut body = vec![0u8; usize::try_from(body_len).ok()?];
        file.read_exact(&mut body).ok()?;
        if checksum(&body) != body_sum {
            return None;
        }
        let mut d = Dec::new(&body);
        let cache = decode_body(&mut d)?;
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
        let mut bytes = Vec::with_capacity(known.len() * 20);
        for id in known {
            bytes.extend_from_slice(&id.0);
        }
        write_replacing(&self.known_path(), &bytes)?;
        Ok(KnownSection {
            count: known.len() as u64,
            checksum: checksum(&bytes),
        })
    }

    /// Writes the cache. The write is atomic; durability does not matter for a cache, so it is
    /// not synced.
    pub fn save(&self, cache: &Cache) -> std::io::Result<()> {
        let mut body = Enc::default();
        encode_body(&mut body, cache);
        let body = body.0;
        let mut out = Enc::default();
        out.0.extend_from_slice(MAGIC);
        out.u32(VERSION);
        out.u64(body.len() as u64);
        out.u64(checksum(&body));
        out.0.extend_from_slice(&body);
        write_replacing(&self.path, &out.0)
    }

    pub fn remove(&self) {
        let _ = fs::remove_file(&self.path);
        let _ = fs::remove_file(self.known_path());
    }
}

/// Temp file in the same directory, then rename: readers see the old file or the new one.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".cache-")
        .tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A fast checksum (FNV-1a over 8-byte words) that catches truncation and damage.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn encode_body(e: &mut Enc, c: &Cache) {
    e.u64(c.fingerprint);
    e.i64(c.written_at);
    e.ids(&c.tips);
    e.ids(&c.pending);
    e.u64(c.known.count);
    e.u64(c.known.checksum);
    e.u64(c.aggregates.by_key.len() as u64);
    for (k, a) in &c.aggregates.by_key {
        e.str(k);
        encode_aggregate(e, a);
    }
    e.u64(c.branches.len() as u64);
    for b in &c.branches {
        e.str(&b.branch);
        e.str(&b.base);
        e.id(&b.tip);
        e.id(&b.base_tip);
        encode_aggregate(e, &b.aggregate);
    }
    e.u64(c.files.len() as u64);
    for (stem, f) in &c.files {
        e.str(stem);
        e.u64(f.stamp.len);
        e.i64(f.stamp.mtime_ns);
        e.i64(f.stamp.ctime_ns);
        e.u64(f.stamp.ino);
        encode_session(e, &f.session);
    }
}

fn decode_body(d: &mut Dec) -> Option<Cache> {
    let fingerprint = d.u64()?;
    let written_at = d.i64()?;
    let tips = d.ids()?;
    let pending = d.ids()?;
    let known = KnownSection {
        count: d.u64()?,
        checksum: d.u64()?,
    };
    let mut aggregates = Aggregates::default();
    for _ in 0..d.count()? {
        let k = d.str()?;
        aggregates.by_key.insert(k, decode_aggregate(d)?);
    }
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
    let mut files = BTreeMap::new();
    for _ in 0..d.count()? {
        let stem = d.str()?;
        let stamp = FileStamp {
            len: d.u64()?,
            mtime_ns: d.i64()?,
            ctime_ns: d.i64()?,
            ino: d.u64()?,
        };
        let session = decode_session(d)?;
        files.insert(stem, FileEntry { stamp, session });
    }
    Some(Cache {
        fingerprint,
        written_at,
        tips,
        pending,
        known,
        aggregates,
        branches,
        files,
    })
}

fn encode_aggregate(e: &mut Enc, a: &Aggregate) {
    e.u32(a.commits);
    e.i64(a.earliest);
    e.i64(a.latest);
    e.u64(a.done.len() as u64);
    for (m, t) in &a.done {
        e.str(m);
        e.i64(*t);
    }
    e.u64(a.tasks.len() as u64);
    for ((m, t), time) in &a.tasks {
        e.str(m);
        e.str(t);
        e.i64(*time);
    }
    e.u64(a.reported_minutes);
    e.u64(a.blockers.len() as u64);
    for (tag, b) in &a.blockers {
        e.str(tag);
        e.i64(b.time);
        e.id(&b.commit);
        e.u32(b.seq);
        e.u8(u8::from(b.opens) | (u8::from(b.ever_opened) << 1));
    }
}

fn decode_aggregate(d: &mut Dec) -> Option<Aggregate> {
    let commits = d.u32()?;
    let earliest = d.i64()?;
    let latest = d.i64()?;
    let mut done = BTreeMap::new();
    for _ in 0..d.count()? {
        done.insert(d.str()?, d.i64()?);
    }
    let mut tasks = BTreeMap::new();
    for _ in 0..d.count()? {
        tasks.insert((d.str()?, d.str()?), d.i64()?);
    }
    let reported_minutes = d.u64()?;
    let mut blockers = BTreeMap::new();
    for _ in 0..d.count()? {
        let tag = d.str()?;
        let time = d.i64()?;
        let commit = d.id()?;
        let seq = d.u32()?;
        let flags = d.u8()?;
        blockers.insert(
            tag,
            BlockerMark {
                time,
                commit,
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
    e.str(&s.created.to_rfc3339());
    e.opt_str(s.owner.as_deref());
    e.str(s.status.as_str());
    e.opt_str(s.status_reason.as_deref());
    e.strs(s.objectives.iter().map(String::as_str));
    e.u64(s.milestones.len() as u64);
    for m in &s.milestones {
        e.str(m.id.as_str());
        e.str(&m.title);
        e.opt_str(m.due.map(|d| d.to_string()).as_deref());
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
    let name = Name::session(&d.str()?).ok()?;
    let title = d.str()?;
    let branch = d.str()?;
    let base = d.str()?;
    let created = DateTime::parse_from_rfc3339(&d.str()?).ok()?;
    let owner = d.opt_str()?;
    let status = Status::parse(&d.str()?)?;
    let status_reason = d.opt_str()?;
    let objectives = d.strs()?;
    let mut milestones = Vec::new();
    for _ in 0..d.count()? {
        milestones.push(Milestone {
            id: Name::parse(&d.str()?, "").ok()?,
            title: d.str()?,
            due: match d.opt_str()? {
                Some(t) => Some(t.parse::<NaiveDate>().ok()?),
                None => None,
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
    texts.iter().map(|t| Name::parse(t, "").ok()).collect()
}

/// Little-endian encoder.
#[derive(Default)]
struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn strs<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a str>) {
        self.u64(items.len() as u64);
        for s in items {
            self.str(s);
        }
    }
    fn id(&mut self, id: &CommitId) {
        self.0.extend_from_slice(&id.0);
    }
    fn ids(&mut self, ids: &[CommitId]) {
        self.u64(ids.len() as u64);
        for id in ids {
            self.id(id);
        }
    }
}

/// Little-endian decoder; every read is bounds-checked and `None` means damage.
struct Dec<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Dec<'a> {
    fn new(bytes: &'a [u8]) -> Dec<'a> {
        Dec { bytes, at: 0 }
    }
    fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
    /// A count of items, bounded by what the remaining bytes could hold.
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.bytes(n)?.to_vec()).ok()
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => Some(Some(self.str()?)),
        }
    }
    fn strs(&mut self) -> Option<Vec<String>> {
        (0..self.count()?).map(|_| self.str()).collect()
    }
    fn id(&mut self) -> Option<CommitId> {
        let mut id = [0u8; 20];
        id.copy_from_slice(self.bytes(20)?);
        Some(CommitId(id))
    }
    fn ids(&mut self) -> Option<Vec<CommitId>> {
        (0..self.count()?).map(|_| self.id()).collect()
    }
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
        let mut aggregates = Aggregates::default();
        let links = crate::links::from_message(
            b"x\n\nSession: s\nMilestone-Done: a\nTask-Done: a/x\nBlocker: #k t\nEffort: 1h\n",
            &crate::trailer::TrailerConfig::default(),
        );
        aggregates.add_commit(CommitId([3; 20]), 1_700_000_000, &links);
        Cache {
            fingerprint: 42,
            written_at: 1_700_000_100,
            tips: vec![CommitId([1; 20]), CommitId([2; 20])],
            pending: vec![CommitId([7; 20])],
            known: KnownSection::default(),
            branches: vec![BranchEntry {
                branch: "session/s".into(),
                base: "main".into(),
                tip: CommitId([4; 20]),
                base_tip: CommitId([5; 20]),
                aggregate: aggregates.get("s").unwrap().clone(),
            }],
            aggregates,
            files: BTreeMap::from([(
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
            )]),
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
        for len in [0, 5, HEADER_LEN, good.len() - 1] {
            fs::write(file.path(), &good[..len]).unwrap();
            assert!(file.load().is_none(), "truncated to {len}");
        }
        assert!(CacheFile::new(&dir.path().join("nope")).load().is_none());
    }
}
