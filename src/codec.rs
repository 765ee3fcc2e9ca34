//! The little-endian encoding of the files the tool keeps in the git directory (the cache,
//! post-commit's memo and the session index), and their frame: magic, version, length and
//! checksum, so that a file from another version, cut short or damaged reads as missing.

use std::io::Read;
use std::path::Path;

use crate::cache::{checksum, write_replacing};
use crate::repo::CommitId;

pub(crate) const HEADER_LEN: usize = 8 + 4 + 8 + 8;

/// The body of the file at `path`, when its frame says it is whole and of this `version`.
pub(crate) fn read_framed(path: &Path, magic: &[u8; 8], version: u32) -> Option<Vec<u8>> {
    let (mut file, body_len, body_sum) = open_framed(path, magic, version)?;
    let mut body = vec![0u8; body_len];
    file.read_exact(&mut body).ok()?;
    (checksum(&body) == body_sum).then_some(body)
}

/// The file at `path` after its header, with the body's length and checksum, when the frame is
/// of this `version` and the file is as long as it says.
fn open_framed(path: &Path, magic: &[u8; 8], version: u32) -> Option<(std::fs::File, usize, u64)> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header).ok()?;
    let mut d = Dec::new(&header);
    if d.bytes(8)? != magic || d.u32()? != version {
        return None;
    }
    let body_len = d.u64()?;
    let body_sum = d.u64()?;
    if file.metadata().ok()?.len() != HEADER_LEN as u64 + body_len {
        return None;
    }
    Some((file, usize::try_from(body_len).ok()?, body_sum))
}

/// As [`read_framed`], mapping the file instead of reading it where the system can: the pages
/// of a large file then come from the page cache as they are touched, instead of being copied
/// into fresh memory that faults in page by page.
pub(crate) fn map_framed(path: &Path, magic: &[u8; 8], version: u32) -> Option<Body> {
    #[cfg(unix)]
    {
        let (mut file, body_len, body_sum) = open_framed(path, magic, version)?;
        // An empty file cannot be mapped; a file system that cannot map gets it read.
        let map = (body_len > 0)
            .then(|| Mapping::of(&file, HEADER_LEN + body_len))
            .flatten();
        let body = match map {
            Some(map) => Body::Mapped(map),
            None => {
                let mut body = vec![0u8; body_len];
                file.read_exact(&mut body).ok()?;
                Body::Owned(body)
            }
        };
        (checksum(&body) == body_sum).then_some(body)
    }
    #[cfg(not(unix))]
    read_framed(path, magic, version).map(Body::Owned)
}

/// A framed file's body, read into memory or mapped.
pub(crate) enum Body {
    Owned(Vec<u8>),
    #[cfg(unix)]
    Mapped(Mapping),
}

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Body::Owned(bytes) => bytes,
            #[cfg(unix)]
            Body::Mapped(map) => &map.bytes()[HEADER_LEN..],
        }
    }
}

/// A read-only, private mapping of a whole file.
#[cfg(unix)]
pub(crate) struct Mapping {
    at: std::ptr::NonNull<std::ffi::c_void>,
    len: usize,
}

#[cfg(unix)]
#[allow(unsafe_code)]
impl Mapping {
    fn of(file: &std::fs::File, len: usize) -> Option<Mapping> {
        use rustix::mm::{MapFlags, ProtFlags, mmap};
        // SAFETY: a fresh read-only mapping of `len` bytes of an open file, which the kernel
        // places. The tool never writes its state files in place (it renames new ones over
        // them), so the mapped file does not change under the mapping; one cut short by another
        // program would fault on access, as libgit2's mapped packs would.
        let at = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::PRIVATE,
                file,
                0,
            )
        }
        .ok()?;
        Some(Mapping {
            at: std::ptr::NonNull::new(at)?,
            len,
        })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes until it is dropped, and nothing writes
        // to it.
        unsafe { std::slice::from_raw_parts(self.at.as_ptr().cast::<u8>(), self.len) }
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `of`, unmapped once; no slice of it outlives `self`.
        let _ = unsafe { rustix::mm::munmap(self.at.as_ptr(), self.len) };
    }
}

/// Replaces the file at `path` with `body` in its frame (atomic, not synced).
pub(crate) fn write_framed(
    path: &Path,
    magic: &[u8; 8],
    version: u32,
    body: &[u8],
) -> std::io::Result<()> {
    let mut header = Enc::default();
    header.0.extend_from_slice(magic);
    header.u32(version);
    header.u64(body.len() as u64);
    header.u64(checksum(body));
    write_replacing(path, &mut |out| {
        out.write_all(&header.0)?;
        out.write_all(body)
    })
}

/// Little-endian encoder.
#[derive(Default)]
pub struct Enc(pub(crate) Vec<u8>);

impl Enc {
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    pub(crate) fn strs<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a str>) {
        self.u64(items.len() as u64);
        for s in items {
            self.str(s);
        }
    }
    pub(crate) fn id(&mut self, id: &CommitId) {
        self.0.extend_from_slice(&id.0);
    }
    pub(crate) fn ids(&mut self, ids: &[CommitId]) {
        self.u64(ids.len() as u64);
        for id in ids {
            self.id(id);
        }
    }
    /// Ids that may be unknown (the commits of a newest second, when too many to list).
    pub(crate) fn opt_ids(&mut self, ids: Option<&[CommitId]>) {
        match ids {
            None => self.u64(0),
            Some(ids) => {
                self.u64(1);
                self.ids(ids);
            }
        }
    }
}

/// Little-endian decoder; every read is bounds-checked and `None` means damage.
pub struct Dec<'a> {
    bytes: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Dec<'a> {
        Dec { bytes, at: 0 }
    }
    pub(crate) fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
    pub(crate) fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
    /// A count of items, bounded by what the remaining bytes could hold.
    pub(crate) fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }
    pub(crate) fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.bytes(n)?.to_vec()).ok()
    }
    pub(crate) fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => Some(Some(self.str()?)),
        }
    }
    pub(crate) fn strs(&mut self) -> Option<Vec<String>> {
        (0..self.count()?).map(|_| self.str()).collect()
    }
    pub(crate) fn id(&mut self) -> Option<CommitId> {
        let mut id = [0u8; 20];
        id.copy_from_slice(self.bytes(20)?);
        Some(CommitId(id))
    }
    pub(crate) fn ids(&mut self) -> Option<Vec<CommitId>> {
        (0..self.count()?).map(|_| self.id()).collect()
    }
    pub(crate) fn opt_ids(&mut self) -> Option<Option<Vec<CommitId>>> {
        match self.u64()? {
            0 => Some(None),
            1 => Some(Some(self.ids()?)),
            _ => None,
        }
    }
}
