//! The bodies of the fuzz targets, shared by `cargo fuzz` (fuzz_targets/*.rs, nightly) and by a
//! randomized loop in the test suite (tests/it/fuzz.rs, stable), so both check the same things.
//! Each takes arbitrary bytes, must not panic, hang or crash, and asserts what must hold of any
//! input.
#![allow(dead_code)]

use std::io::Write;
use std::sync::OnceLock;

use git_session::cache::{Cache, CacheFile, FileEntry, FileStamp, Table};
use git_session::trailer::{self, TrailerConfig};
use git_session::{config, links, name, session, store};

/// The trailer reader: every entry point, under the default configuration or one picked by the
/// first byte.
pub fn trailer(data: &[u8]) {
    let cfg = match data.first().map(|b| b % 4) {
        Some(1) => TrailerConfig::from_entries([("core.commentChar", ";")]),
        Some(2) => TrailerConfig::from_entries([
            ("trailer.separators", ":=#"),
            ("trailer.sess.key", "Session"),
        ]),
        Some(3) => TrailerConfig::from_entries([("core.commentString", "//")]),
        _ => TrailerConfig::default(),
    };
    for no_divider in [false, true] {
        let (start, end) = trailer::block_bounds(data, &cfg, no_divider);
        assert!(start <= end && end <= data.len(), "{start}..{end}");
        let verbatim = trailer::parse_verbatim(data, &cfg, no_divider);
        let completed = trailer::parse(data, &cfg, no_divider);
        for t in verbatim.iter().chain(&completed) {
            assert!(!t.key.is_empty(), "an empty key");
            assert!(!t.value.contains(&b'\n'), "a value left folded");
            assert!(
                !t.key.contains(&0) && !t.value.contains(&0),
                "read past a NUL"
            );
        }
        if data.ends_with(b"\n") {
            assert_eq!(verbatim, completed);
        }
    }
    let history = trailer::parse_history(data, &cfg);
    let from_trailers = links::from_trailers(&history);
    let l = links::from_message(data, &cfg);
    for s in &l.sessions {
        assert!(name::is_valid(s) || s.len() == 36, "session value {s:?}");
    }
    let mut unique = l.sessions.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), l.sessions.len(), "repeated sessions");
    // Without a squash merge's items, both readings are the same trailers.
    if !data.windows(3).any(|w| w == b"\n* ") {
        assert_eq!(l, from_trailers);
    }
}

/// The session file and policy loaders: any text gives a session or findings with positions
/// inside the text; a session renders to text that parses back to it, byte for byte the same
/// when rendered again, and survives the cache's encoding.
pub fn session(data: &[u8]) {
    let text = match store::decode_text(data) {
        Ok(t) => t,
        Err(p) => {
            let (line, column) = p.at.expect("a decoding problem has a position");
            assert!(line >= 1 && column >= 1);
            return;
        }
    };
    let lines = text.lines().count() + 1;
    let in_text = |f: &session::Finding| f.line >= 1 && f.column >= 1 && f.line <= lines;
    match session::parse(&text, None) {
        Ok(s) => {
            let rendered = session::render(&s);
            let again = session::parse(&rendered, None)
                .unwrap_or_else(|f| panic!("rendered file does not parse: {f:?}\n{rendered}"));
            assert_eq!(again, s, "render/parse changed the session");
            assert_eq!(session::render(&again), rendered, "render is not stable");
            round_trip_through_cache(&s);
        }
        Err(findings) => {
            assert!(!findings.is_empty(), "an error without findings");
            for f in &findings {
                assert!(in_text(f), "{f:?} outside {lines} lines");
            }
        }
    }
    if let Err(findings) = config::parse(&text) {
        assert!(!findings.is_empty());
        assert!(findings.iter().all(in_text), "{findings:?}");
    }
}

/// The cache decoder on arbitrary bytes, twice: as the whole file (the header must refuse it),
/// and as the body of a well-formed header with the right checksum (the decoder itself must
/// refuse or accept it without panicking, and what it accepts must save and load unchanged).
pub fn cache(data: &[u8]) {
    let dir = scratch();
    let file = CacheFile::new(dir.path());
    write(file.path(), data);
    if let Some(c) = file.load() {
        exercise(&file, c);
    }
    let mut framed = envelope().to_vec();
    framed.extend_from_slice(&(data.len() as u64).to_le_bytes());
    framed.extend_from_slice(&git_session::cache::checksum(data).to_le_bytes());
    framed.extend_from_slice(data);
    write(file.path(), &framed);
    if let Some(c) = file.load() {
        exercise(&file, c);
    }
}

/// Reads every entry of a loaded cache, then saves and loads it: the same cache comes back.
fn exercise(file: &CacheFile, c: Cache) {
    for key in c.aggregates.keys() {
        let _ = c.aggregates.get(&key);
    }
    for key in c.files.keys() {
        let _ = c.files.get(&key);
    }
    if c.is_damaged() {
        return;
    }
    let _ = format!("{c:?}");
    file.save(&c).expect("save");
    let again = file.load().expect("a saved cache loads");
    assert_eq!(again, c);
}

fn round_trip_through_cache(s: &session::Session) {
    let dir = scratch();
    let file = CacheFile::new(dir.path());
    let cache = Cache {
        files: Table::from_map(std::collections::BTreeMap::from([(
            s.name.to_string(),
            FileEntry {
                stamp: FileStamp {
                    len: 1,
                    mtime_ns: 2,
                    ctime_ns: 3,
                    ino: 4,
                },
                session: s.clone(),
            },
        )])),
        ..Cache::default()
    };
    file.save(&cache).expect("save");
    let loaded = file.load().expect("load");
    assert_eq!(
        loaded.files.get(s.name.as_str()).map(|e| e.session),
        Some(s.clone())
    );
}

/// A directory for one input's files, removed when it is dropped.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("gs-fuzz-")
        .tempdir()
        .expect("temp dir")
}

/// The first 12 bytes of a cache file this version writes: magic and version.
fn envelope() -> &'static [u8] {
    static HEAD: OnceLock<Vec<u8>> = OnceLock::new();
    HEAD.get_or_init(|| {
        let dir = scratch();
        let file = CacheFile::new(dir.path());
        file.save(&Cache::default()).expect("save");
        std::fs::read(file.path()).expect("read")[..12].to_vec()
    })
}

fn write(path: &std::path::Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("dir");
    }
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(bytes).expect("write");
}
