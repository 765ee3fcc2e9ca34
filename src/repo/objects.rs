//! Commits read straight from the object directory, for walks of all history.
//!
//! libgit2 finds an object through its pack's `.idx`, which it maps whole. A walk of every
//! commit looks up every commit, so every page of that index is touched and stays in the
//! resident set: 113 MB for a pack of 4 million objects. A full walk instead lists each pack's
//! commits once, reading the `.idx` offsets and each entry's header in file order, and keeps
//! only their ids and offsets (24 bytes a commit). Loose commits are read from their files, as
//! libgit2 would look for them in every pack index first. A commit found neither way (stored as
//! a delta, in another object directory, in a pack that did not read cleanly) is read through
//! libgit2 as before, so nothing here can change an answer, only where the bytes come from.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::CommitId;

/// The non-delta commits of every readable pack in an object directory.
#[derive(Default)]
pub(super) struct Packed {
    objects: PathBuf,
    packs: Vec<Pack>,
    total: usize,
}

/// A `.pack` file, open.
struct PackFile {
    file: File,
    len: u64,
}

struct Pack {
    data: PackFile,
    /// Sorted, as in the `.idx`.
    ids: Vec<CommitId>,
    offsets: Offsets,
    /// `fanout[p]..fanout[p + 1]` are the ids whose first `bits` bits are `p`.
    fanout: Vec<u32>,
    bits: u32,
    /// Position of `ids[0]` among all packs' commits.
    first: usize,
}

/// Entry offsets, four bytes each where the pack is under 4 GB.
enum Offsets {
    Small(Vec<u32>),
    Large(Vec<u64>),
}

impl Offsets {
    fn get(&self, index: usize) -> u64 {
        match self {
            Offsets::Small(o) => u64::from(o[index]),
            Offsets::Large(o) => o[index],
        }
    }
}

/// Where a commit is: the pack, and its place in that pack's list.
#[derive(Clone, Copy)]
pub(super) struct Slot {
    pack: usize,
    index: usize,
}

const WINDOW: usize = 64 << 10;

impl Packed {
    /// Lists the commits of the packs in `objects/pack`; a pack that does not read as expected
    /// is left to libgit2.
    pub(super) fn load(objects: &Path) -> Packed {
        let mut out = Packed {
            objects: objects.to_path_buf(),
            ..Packed::default()
        };
        for index in IndexFile::all(objects) {
            if let Some(mut pack) = Pack::load(index) {
                pack.first = out.total;
                out.total += pack.ids.len();
                out.packs.push(pack);
            }
        }
        out
    }

    pub(super) fn total(&self) -> usize {
        self.total
    }

    pub(super) fn find(&self, id: &CommitId) -> Option<Slot> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(pack, p)| p.find(id).map(|index| Slot { pack, index }))
    }

    /// The position of `slot` among all packs' commits, `0..total()`.
    pub(super) fn position(&self, slot: Slot) -> usize {
        self.packs[slot.pack].first + slot.index
    }

    /// The raw commit at `slot`, or `None` when its entry does not inflate to what its header
    /// says (libgit2 then reads it, and reports the damage if it is real).
    pub(super) fn read(&self, slot: Slot, reader: &mut Reader) -> Option<Vec<u8>> {
        let pack = &self.packs[slot.pack];
        read_entry(reader, slot.pack, &pack.data, pack.offsets.get(slot.index))
    }

    pub(super) fn read_loose(&self, id: &CommitId, reader: &mut Reader) -> Option<Vec<u8>> {
        read_loose(&self.objects, id, reader)
    }

    /// The ids of the commits at the positions `marked` holds, sorted within each pack.
    pub(super) fn into_ids(self, marked: &Bits) -> Vec<CommitId> {
        let mut out: Vec<CommitId> = Vec::new();
        for mut pack in self.packs {
            pack.offsets = Offsets::Small(Vec::new());
            let first = pack.first;
            let mut i = 0;
            pack.ids.retain(|_| {
                i += 1;
                marked.get(first + i - 1)
            });
            if out.is_empty() {
                out = pack.ids;
            } else {
                out.extend_from_slice(&pack.ids);
            }
        }
        out
    }
}

/// The reading state of one walk: a window of each pack file read, and a zlib stream.
pub(super) struct Reader {
    windows: Vec<Window>,
    /// How much a window reads at least.
    size: usize,
    zlib: flate2::Decompress,
    /// How many times a window was read.
    reads: usize,
}

#[derive(Default)]
struct Window {
    start: u64,
    buf: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader::sized(WINDOW)
    }
}

impl Reader {
    fn sized(size: usize) -> Reader {
        Reader {
            windows: Vec::new(),
            size,
            zlib: flate2::Decompress::new(true),
            reads: 0,
        }
    }

    #[cfg(test)]
    pub(super) fn reads(&self) -> usize {
        self.reads
    }

    /// Up to `need` bytes of `pack` from `offset` (fewer at the end of the file).
    fn bytes(&mut self, index: usize, pack: &PackFile, offset: u64, need: usize) -> Option<&[u8]> {
        let span = self.span(index, pack, offset, need)?;
        Some(&self.windows[index].buf[span])
    }

    /// Where [`Reader::bytes`] are in pack `index`'s window, after reading them into it if
    /// need be. A walk meets commits newest first, and a pack stores them in either order
    /// (git's newest first, fast-import's oldest first): a window read for an offset below the
    /// last one lies mostly before it instead of starting there.
    fn span(
        &mut self,
        index: usize,
        pack: &PackFile,
        offset: u64,
        need: usize,
    ) -> Option<std::ops::Range<usize>> {
        if self.windows.len() <= index {
            self.windows.resize_with(index + 1, Window::default);
        }
        let size = self.size;
        let reads = &mut self.reads;
        let w = &mut self.windows[index];
        let end = pack.len.min(offset.checked_add(need as u64)?);
        if !(offset >= w.start && end <= w.start + w.buf.len() as u64) {
            // A whole window where the walk goes on from the last one; where it jumps, only a
            // little more than is needed, as the next entry is likely elsewhere too.
            let held_end = w.start + w.buf.len() as u64;
            let near =
                offset.abs_diff(held_end) <= size as u64 || end.abs_diff(w.start) <= size as u64;
            let size = if near { size } else { size.min(4096) };
            let len = usize::try_from(end - offset).ok()?.max(size);
            let len = len.min(usize::try_from(pack.len).ok()?);
            // Backwards, the window keeps a quarter of itself after `offset`, for the rest of
            // the entry whose header is read first.
            let behind = (len as u64 * 3 / 4).min(offset);
            let backwards = offset < w.start && end - offset <= len as u64 - behind;
            let start = if backwards { offset - behind } else { offset };
            let start = start.min(pack.len - len as u64);
            w.buf.clear();
            // A window grown for one large commit does not stay large.
            if w.buf.capacity() > 4 * size {
                w.buf.shrink_to(len);
            }
            w.buf.resize(len, 0);
            w.start = start;
            *reads += 1;
            if read_at(&pack.file, &mut w.buf, start).is_err() {
                w.buf.clear();
                return None;
            }
        }
        let from = usize::try_from(offset - w.start).ok()?;
        let to = usize::try_from(end - w.start).ok()?;
        Some(from..to)
    }
}

/// Commits larger than this are left to libgit2: a damaged size in a header must not make
/// the reader allocate what it claims.
const LARGEST: usize = 64 << 20;

/// The commit entry at `offset` of a pack, inflated; `None` when it is not a commit stored
/// whole or does not inflate to what its header says (libgit2 then reads it, and reports the
/// damage if it is real).
fn read_entry(reader: &mut Reader, index: usize, pack: &PackFile, offset: u64) -> Option<Vec<u8>> {
    let head = reader.bytes(index, pack, offset, 32)?;
    let (kind, size, used) = entry_header(head)?;
    if kind != COMMIT {
        return None;
    }
    let size = usize::try_from(size).ok().filter(|&s| s <= LARGEST)?;
    // zlib's worst case: 5 bytes per 16 KB stored block, and 6 for header and check.
    let need = used + size + size / 16_000 * 5 + 64;
    let span = reader.span(index, pack, offset, need)?;
    inflate(
        &mut reader.zlib,
        &reader.windows[index].buf[span.start + used..span.end],
        size,
    )
}

/// The commit `id` from its loose file alone: where a commit just made is, which libgit2 looks
/// for only after searching every pack index.
pub(super) fn loose_commit(objects: &Path, id: &CommitId) -> Option<Vec<u8>> {
    read_loose(objects, id, &mut Reader::default())
}

/// Whether `id` has a loose file that holds a commit: the start of the file is read, and its
/// header alone inflated.
pub(super) fn is_loose_commit(objects: &Path, id: &CommitId) -> bool {
    use std::io::Read;
    let hex = id.hex();
    let Ok(file) = std::fs::File::open(objects.join(&hex[..2]).join(&hex[2..])) else {
        return false;
    };
    let mut raw = Vec::with_capacity(128);
    if file.take(128).read_to_end(&mut raw).is_err() {
        return false;
    }
    let mut zlib = flate2::Decompress::new(true);
    let mut head = Vec::with_capacity(32);
    zlib.decompress_vec(&raw, &mut head, flate2::FlushDecompress::None)
        .is_ok()
        && head.starts_with(b"commit ")
}

/// The loose commit `id`, or `None` when there is no such file or it is not one whole commit
/// object.
fn read_loose(objects: &Path, id: &CommitId, reader: &mut Reader) -> Option<Vec<u8>> {
    let hex = id.hex();
    let raw = std::fs::read(objects.join(&hex[..2]).join(&hex[2..])).ok()?;
    let zlib = &mut reader.zlib;
    zlib.reset(true);
    // "commit <size>\0" is at most 28 bytes.
    let mut head = Vec::with_capacity(32);
    zlib.decompress_vec(&raw, &mut head, flate2::FlushDecompress::None)
        .ok()?;
    let nul = memchr::memchr(0, &head)?;
    let size: usize = std::str::from_utf8(head[..nul].strip_prefix(b"commit ")?)
        .ok()?
        .parse()
        .ok()
        .filter(|&s| s <= LARGEST)?;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(head.get(nul + 1..)?);
    let used = usize::try_from(zlib.total_in()).ok()?;
    let status = zlib.decompress_vec(raw.get(used..)?, &mut out, flate2::FlushDecompress::Finish);
    match status {
        Ok(flate2::Status::StreamEnd) if out.len() == size => Some(out),
        _ => None,
    }
}

/// `input` inflated, when it is one zlib stream of exactly `size` bytes.
fn inflate(zlib: &mut flate2::Decompress, input: &[u8], size: usize) -> Option<Vec<u8>> {
    zlib.reset(true);
    let mut out = Vec::with_capacity(size);
    match zlib.decompress_vec(input, &mut out, flate2::FlushDecompress::Finish) {
        Ok(flate2::Status::StreamEnd) if out.len() == size => Some(out),
        _ => None,
    }
}

/// A set of positions `0..len`.
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    /// Sets `i`; false if it was set.
    pub(super) fn insert(&mut self, i: usize) -> bool {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }

    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1u64 << (i % 64)) != 0
    }
}

const COMMIT: u8 = 1;
const IDX_MAGIC: [u8; 8] = [0xff, b't', b'O', b'c', 0, 0, 0, 2];
const IDX_TRAILER: u64 = 40;
const PACK_TRAILER: u64 = 20;

/// A pack's `.idx` (version 2) and its `.pack`, both open, their frames checked.
struct IndexFile {
    idx: File,
    data: PackFile,
    /// How many objects have ids whose first byte is at most `b`.
    fanout: [u32; 256],
    count: u64,
    large_at: u64,
    large_len: u64,
}

const IDS_AT: u64 = 8 + 256 * 4;

/// The most packs read directly, the largest ones.
const MOST_PACKS: usize = 32;

impl IndexFile {
    /// The packs of `objects/pack` that open as expected, by name.
    fn all(objects: &Path) -> Vec<IndexFile> {
        let Ok(dir) = std::fs::read_dir(objects.join("pack")) else {
            return Vec::new();
        };
        let idx: Vec<_> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        // Two open files per pack: past MOST_PACKS, the smallest are left to libgit2, which
        // keeps its own limit on open packs, rather than running out of descriptors.
        let mut sized: Vec<(u64, PathBuf)> = idx
            .into_iter()
            .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
            .collect();
        sized.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        sized
            .iter()
            .take(MOST_PACKS)
            .filter_map(|(_, path)| IndexFile::open(path, &path.with_extension("pack")))
            .collect()
    }

    fn open(idx_path: &Path, pack_path: &Path) -> Option<IndexFile> {
        let idx = File::open(idx_path).ok()?;
        let idx_len = idx.metadata().ok()?.len();
        let mut head = vec![0u8; 8 + 256 * 4];
        read_at(&idx, &mut head, 0).ok()?;
        if head[..8] != IDX_MAGIC {
            return None;
        }
        let mut fanout = [0u32; 256];
        let mut last = 0;
        for (f, raw) in fanout.iter_mut().zip(head[8..].chunks_exact(4)) {
            *f = be32(raw);
            if *f < last {
                return None;
            }
            last = *f;
        }
        let count = u64::from(last);
        let large_at = IDS_AT + count * (20 + 4 + 4);
        let large_len = idx_len.checked_sub(large_at + IDX_TRAILER)?;
        if !large_len.is_multiple_of(8) {
            return None;
        }
        let file = File::open(pack_path).ok()?;
        let len = file.metadata().ok()?.len();
        let mut pack_head = [0u8; 12];
        read_at(&file, &mut pack_head, 0).ok()?;
        if &pack_head[..4] != b"PACK"
            || !matches!(be32(&pack_head[4..8]), 2 | 3)
            || u64::from(be32(&pack_head[8..12])) != count
            || len < 12 + PACK_TRAILER
        {
            return None;
        }
        // The index names the pack it was made for by the pack's checksum, as libgit2 checks:
        // a pack replaced by another of the same objects must not be read through the old
        // index.
        let (mut named, mut actual) = ([0u8; 20], [0u8; 20]);
        read_at(&idx, &mut named, idx_len - IDX_TRAILER).ok()?;
        read_at(&file, &mut actual, len - PACK_TRAILER).ok()?;
        if named != actual {
            return None;
        }
        Some(IndexFile {
            idx,
            data: PackFile { file, len },
            fanout,
            count,
            large_at,
            large_len,
        })
    }

    fn offsets_at(&self) -> u64 {
        IDS_AT + self.count * (20 + 4)
    }

    /// Where entries end: the pack's trailer follows.
    fn data_end(&self) -> u64 {
        self.data.len - PACK_TRAILER
    }

    /// The offset an `.idx` offset-table value names, through the table of large offsets.
    fn offset(&self, raw: u32, large: impl FnOnce(u64) -> Option<u64>) -> Option<u64> {
        let offset = if raw & 0x8000_0000 == 0 {
            u64::from(raw)
        } else {
            let at = u64::from(raw & 0x7fff_ffff) * 8;
            if at + 8 > self.large_len {
                return None;
            }
            large(at)?
        };
        (12..self.data_end()).contains(&offset).then_some(offset)
    }

    /// The `.idx` position of `id`, searched with small reads instead of a mapping: ids are
    /// uniform, so where it falls between its first byte's neighbours says where to look.
    fn position(&self, id: &CommitId, buf: &mut Vec<u8>) -> Option<u64> {
        self.search(id, buf, 96)
    }

    /// [`IndexFile::position`], reading `span` ids at a time.
    fn search(&self, id: &CommitId, buf: &mut Vec<u8>, span: u64) -> Option<u64> {
        let b = usize::from(id.0[0]);
        let mut lo = if b == 0 {
            0
        } else {
            u64::from(self.fanout[b - 1])
        };
        let mut hi = u64::from(self.fanout[b]);
        let within = u64::from(be32(&id.0[1..5]));
        let mut guess = lo + (((hi - lo) * within) >> 32);
        while lo < hi {
            let end = (guess + span / 2).max(lo + span).min(hi);
            let start = end.saturating_sub(span).max(lo);
            buf.resize(usize::try_from(end - start).ok()? * 20, 0);
            read_at(&self.idx, buf, IDS_AT + start * 20).ok()?;
            let (mut a, mut z) = (0, buf.len() / 20);
            while a < z {
                let m = (a + z) / 2;
                match buf[m * 20..m * 20 + 20].cmp(&id.0[..]) {
                    std::cmp::Ordering::Less => a = m + 1,
                    std::cmp::Ordering::Greater => z = m,
                    std::cmp::Ordering::Equal => return Some(start + m as u64),
                }
            }
            // Not in the window: on its left, on its right, or nowhere.
            match a as u64 {
                0 if start > lo => hi = start,
                i if i == end - start && end < hi => lo = end,
                _ => return None,
            }
            guess = lo + (hi - lo) / 2;
        }
        None
    }

    fn offset_of(&self, pos: u64) -> Option<u64> {
        let mut raw = [0u8; 4];
        read_at(&self.idx, &mut raw, self.offsets_at() + pos * 4).ok()?;
        self.offset(be32(&raw), |at| {
            let mut wide = [0u8; 8];
            read_at(&self.idx, &mut wide, self.large_at + at).ok()?;
            Some(u64::from_be_bytes(wide))
        })
    }
}

/// Each pack's index, searched with reads rather than mapped: a bounded walk (`status`, the
/// hooks) looks up a few commits, and libgit2 would bring pages of its mapping of the whole
/// index into the resident set for each (45 MB after 120 look-ups at a million commits).
pub(super) struct Indexes {
    objects: PathBuf,
    packs: Vec<IndexFile>,
    buf: Vec<u8>,
    /// The pack of the last commit found: the next is most likely there too.
    last: usize,
}

impl Indexes {
    pub(super) fn open(objects: &Path) -> Indexes {
        Indexes {
            objects: objects.to_path_buf(),
            packs: IndexFile::all(objects),
            buf: Vec::new(),
            last: 0,
        }
    }

    pub(super) fn dir(&self) -> &Path {
        &self.objects
    }

    /// How many objects the packs hold.
    pub(super) fn objects(&self) -> u64 {
        self.packs.iter().map(|p| p.count).sum()
    }

    /// The commit `id` from a pack or its loose file; `None` when it is in neither as a whole
    /// commit (libgit2 then reads it).
    pub(super) fn read(&mut self, id: &CommitId, reader: &mut Reader) -> Option<Vec<u8>> {
        let (n, last) = (self.packs.len(), self.last);
        for index in (0..n).map(|i| (last + i) % n) {
            let pack = &self.packs[index];
            if let Some(pos) = pack.position(id, &mut self.buf) {
                self.last = index;
                // Stored as a delta here may be stored whole in another pack.
                if let Some(data) = pack
                    .offset_of(pos)
                    .and_then(|offset| read_entry(reader, index, &pack.data, offset))
                {
                    return Some(data);
                }
            }
        }
        read_loose(&self.objects, id, reader)
    }
}

impl Pack {
    fn load(index: IndexFile) -> Option<Pack> {
        let count = index.count;
        let mut large = vec![0u8; usize::try_from(index.large_len).ok()?];
        read_at(&index.idx, &mut large, index.large_at).ok()?;
        // Entries by offset, each key `offset * count + position in the .idx`.
        let data_end = index.data_end();
        data_end.checked_mul(count.max(1))?;
        let mut keys: Vec<u64> = Vec::with_capacity(usize::try_from(count).ok()?);
        each_chunk(&index.idx, index.offsets_at(), count, 4, |pos, raw| {
            let offset = index.offset(be32(raw), |at| {
                let at = usize::try_from(at).ok()?;
                Some(u64::from_be_bytes(large.get(at..at + 8)?.try_into().ok()?))
            })?;
            keys.push(offset * count + pos);
            Some(())
        })?;
        drop(large);
        keys.sort_unstable();

        // The commits among them, by their entry's type, kept in place and re-keyed
        // `position * data_end + offset`, so that sorting puts them in the `.idx`'s order.
        let IndexFile { idx, data, .. } = index;
        let mut pack = Pack {
            data,
            ids: Vec::new(),
            offsets: Offsets::Small(Vec::new()),
            fanout: Vec::new(),
            bits: 0,
            first: 0,
        };
        // Small reads: an entry's first byte is all that is needed, and pages holding no entry
        // start (the middle of a large blob) are not read at all.
        let mut reader = Reader::sized(4096);
        let mut kept = 0;
        for i in 0..keys.len() {
            let (offset, pos) = (keys[i] / count, keys[i] % count);
            let head = reader.bytes(0, &pack.data, offset, 1)?;
            if (head.first()? >> 4) & 7 == COMMIT {
                keys[kept] = pos * data_end + offset;
                kept += 1;
            }
        }
        drop(reader);
        keys.truncate(kept);
        keys.shrink_to_fit();
        keys.sort_unstable();

        let mut ids = Vec::with_capacity(keys.len());
        let mut wanted = keys.iter().map(|&key| key / data_end).peekable();
        each_chunk(&idx, IDS_AT, count, 20, |pos, raw| {
            if wanted.peek() == Some(&pos) {
                wanted.next();
                ids.push(CommitId(raw.try_into().ok()?));
            }
            Some(())
        })?;
        pack.offsets = match u32::try_from(data_end) {
            Ok(_) => Offsets::Small(keys.iter().map(|&key| (key % data_end) as u32).collect()),
            Err(_) => {
                keys.iter_mut().for_each(|key| *key %= data_end);
                Offsets::Large(keys)
            }
        };
        pack.ids = ids;
        pack.index();
        Some(pack)
    }

    /// A fanout on the first bits of each id, about 16 ids a bucket.
    fn index(&mut self) {
        let n = self.ids.len();
        self.bits = (n.max(1).ilog2().saturating_sub(4)).clamp(8, 16);
        let buckets = 1usize << self.bits;
        let mut fanout = vec![0u32; buckets + 1];
        for id in &self.ids {
            fanout[self.bucket(id) + 1] += 1;
        }
        for b in 0..buckets {
            fanout[b + 1] += fanout[b];
        }
        self.fanout = fanout;
    }

    fn bucket(&self, id: &CommitId) -> usize {
        (be32(&id.0[..4]) >> (32 - self.bits)) as usize
    }

    fn find(&self, id: &CommitId) -> Option<usize> {
        let b = self.bucket(id);
        let (lo, hi) = (self.fanout[b] as usize, self.fanout[b + 1] as usize);
        self.ids[lo..hi].binary_search(id).ok().map(|i| lo + i)
    }
}

/// Calls `f(position, bytes)` for each of `count` records of `width` bytes from `at`, read
/// in chunks; stops at the first `None`.
fn each_chunk(
    file: &File,
    at: u64,
    count: u64,
    width: usize,
    mut f: impl FnMut(u64, &[u8]) -> Option<()>,
) -> Option<()> {
    let per = (WINDOW / width) as u64;
    let mut buf = vec![0u8; WINDOW];
    let mut pos = 0;
    while pos < count {
        let n = per.min(count - pos);
        let bytes = &mut buf[..usize::try_from(n).ok()? * width];
        read_at(file, bytes, at + pos * width as u64).ok()?;
        for (i, raw) in bytes.chunks_exact(width).enumerate() {
            f(pos + i as u64, raw)?;
        }
        pos += n;
    }
    Some(())
}

/// A pack entry's type, inflated size, and the length of its header.
fn entry_header(b: &[u8]) -> Option<(u8, u64, usize)> {
    let mut c = *b.first()?;
    let kind = (c >> 4) & 7;
    let mut size = u64::from(c & 0x0f);
    let (mut shift, mut used) = (4, 1);
    while c & 0x80 != 0 {
        c = *b.get(used)?;
        used += 1;
        if shift > 57 {
            return None;
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
    }
    Some((kind, size, used))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A pack of `n` blobs made by `git fast-import`, and what `git show-index` says of it.
    fn blob_pack(dir: &Path, n: usize) -> (IndexFile, Vec<(u64, CommitId)>) {
        let git = |args: &[&str]| {
            let mut cmd = std::process::Command::new("git");
            cmd.args(args)
                .current_dir(dir)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1");
            cmd
        };
        assert!(git(&["init", "-q"]).status().expect("git").success());
        let mut import = git(&["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("fast-import");
        let mut input = import.stdin.take().expect("stdin");
        for i in 0..n {
            let data = format!("blob {i}\n");
            write!(input, "blob\ndata {}\n{data}\n", data.len()).expect("write");
        }
        drop(input);
        assert!(import.wait().expect("wait").success());
        let objects = dir.join(".git/objects");
        let mut packs = IndexFile::all(&objects);
        assert_eq!(packs.len(), 1);
        let pack = packs.remove(0);
        let idx = std::fs::read_dir(objects.join("pack"))
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .expect("idx");
        let shown = git(&["show-index"])
            .stdin(std::fs::File::open(idx).expect("open"))
            .output()
            .expect("show-index");
        let listed = String::from_utf8(shown.stdout)
            .expect("utf-8")
            .lines()
            .map(|l| {
                let mut f = l.split_whitespace();
                let offset = f.next().expect("offset").parse().expect("number");
                (
                    offset,
                    CommitId::from_hex(f.next().expect("id")).expect("hex"),
                )
            })
            .collect();
        (pack, listed)
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).expect("compress");
        z.finish().expect("compress")
    }

    #[test]
    fn sizes_a_damaged_header_claims_are_not_allocated() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut reader = Reader::default();
        // A loose object saying it is a petabyte long.
        let id = CommitId([0xab; 20]);
        let hex = id.hex();
        std::fs::create_dir_all(tmp.path().join(&hex[..2])).expect("dir");
        let raw = zlib(b"commit 1125899906842624\0tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n");
        std::fs::write(tmp.path().join(&hex[..2]).join(&hex[2..]), raw).expect("write");
        assert_eq!(read_loose(tmp.path(), &id, &mut reader), None);
        // A pack entry saying much the same: type commit, size 2^49 in the header's varint.
        let mut pack = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
        pack.extend_from_slice(&[0x90, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x08]);
        pack.extend_from_slice(&zlib(b"tree x\n"));
        pack.extend_from_slice(&[0; 20]);
        let path = tmp.path().join("p.pack");
        std::fs::write(&path, &pack).expect("write");
        let file = File::open(&path).expect("open");
        let data = PackFile {
            file,
            len: pack.len() as u64,
        };
        assert_eq!(entry_header(&pack[12..]).map(|h| h.1), Some(1 << 49));
        assert_eq!(read_entry(&mut reader, 0, &data, 12), None);
    }

    #[test]
    fn an_index_searched_by_reads_finds_what_git_lists() {
        let tmp = tempfile::tempdir().expect("temp dir");
        // Enough objects that each first byte's range is wider than one read.
        let (pack, listed) = blob_pack(tmp.path(), 60_000);
        assert_eq!(pack.count, 60_000);
        let mut buf = Vec::new();
        for (pos, (offset, id)) in listed.iter().enumerate() {
            assert_eq!(pack.position(id, &mut buf), Some(pos as u64), "{id:?}");
            // Reads too small to hold where the guess errs: the search narrows.
            for span in [1, 3] {
                assert_eq!(pack.search(id, &mut buf, span), Some(pos as u64), "{id:?}");
            }
            assert_eq!(pack.offset_of(pos as u64), Some(*offset));
            // An id just beside this one is not there.
            let mut near = *id;
            near.0[19] ^= 1;
            if listed.binary_search_by(|(_, i)| i.cmp(&near)).is_err() {
                assert_eq!(pack.position(&near, &mut buf), None);
                assert_eq!(pack.search(&near, &mut buf, 3), None);
            }
        }
        for edge in [[0u8; 20], [0xff; 20]] {
            assert_eq!(pack.position(&CommitId(edge), &mut buf), None);
        }
    }
}
