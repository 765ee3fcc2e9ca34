//! Session files on disk: `.sessions/` in the work tree. Reads refuse symlinks, special files and
//! huge files before opening them; writes go to a temporary file in the same directory, are
//! synced, then renamed over, under a lock in the git directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cache::{FileEntry, FileStamp, Table};
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
        let dir_meta = fs::symlink_metadata(self.dir());
        if dir_meta.is_ok_and(|m| !m.is_dir()) {
            return Err(Error::input(format!(
                "{DIR} is a symlink or not a directory; session files must live in a real {DIR} directory"
            )));
        }
        let meta =
            fs::symlink_metadata(path).map_err(|e| Error::io("read", Path::new(&shown), &e))?;
        if meta.file_type().is_symlink() {
            return Err(Error::input(format!(
                "{shown} is a symlink; session files must be regular files"
            )));
        }
        if !meta.is_file() {
            return Err(Error::input(format!("{shown} is not a regular file")));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(Error::input(format!(
                "{shown} is larger than 1 MB; session files are small TOML files"
            )));
        }
        let bytes = fs::read(path).map_err(|e| Error::io("read", Path::new(&shown), &e))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&bytes[..valid]);
            let (line, col) = crate::error::line_col(&text, valid);
            Error::input(format!(
                "{shown}:{line}:{col}: the file is not valid UTF-8; save it as UTF-8"
            ))
        })
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

    /// The stems of every `*.toml` in `.sessions/` except the policy file, sorted.
    pub fn stems(&self) -> Result<Vec<String>> {
        let dir = self.dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &dir, &e)),
        };
        if fs::symlink_metadata(&dir).is_ok_and(|m| !m.is_dir()) {
            return Err(Error::input(format!(
                "{DIR} is a symlink; session files must live in a real {DIR} directory"
            )));
        }
        let mut stems: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let stem = file.strip_suffix(".toml")?;
                (file != CONFIG_FILE).then(|| stem.to_string())
            })
            .collect();
        stems.sort();
        Ok(stems)
    }

    /// Every session, and every file that failed to load.
    pub fn load_all(&self) -> Result<(Vec<Session>, Vec<FileProblem>)> {
        self.load_all_cached(&mut Table::default(), i64::MIN)
            .map(|(s, p, _)| (s, p))
    }

    /// As [`Store::load_all`], reusing `cached` parses of files that `stat` shows unchanged
    /// since `written_at` (seconds; files touched within two seconds of it are re-read, as git
    /// does for its index). `cached` is updated; the flag says whether it changed.
    pub fn load_all_cached(
        &self,
        cached: &mut Table<FileEntry>,
        written_at: i64,
    ) -> Result<(Vec<Session>, Vec<FileProblem>, bool)> {
        let mut sessions = Vec::new();
        let mut problems = Vec::new();
        let stems = self.stems()?;
        let mut changed = false;
        for gone in cached.keys() {
            if stems.binary_search(&gone).is_err() {
                cached.remove(&gone);
                changed = true;
            }
        }
        for stem in stems {
            let path = self.dir().join(format!("{stem}.toml"));
            let stamp = fs::symlink_metadata(&path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| FileStamp::of(&m));
            let settled = |s: &FileStamp| {
                s.mtime_ns / 1_000_000_000 < written_at.saturating_sub(2)
                    && s.ctime_ns / 1_000_000_000 < written_at.saturating_sub(2)
            };
            if let Some(stamp) = stamp.filter(settled)
                && let Some(entry) = cached.get(&stem)
                && entry.stamp == stamp
            {
                sessions.push(entry.session);
                continue;
            }
            match self.load_stem(&stem) {
                Ok(s) => {
                    match stamp {
                        Some(stamp) => cached.insert(
                            stem,
                            FileEntry {
                                stamp,
                                session: s.clone(),
                            },
                        ),
                        None => cached.remove(&stem),
                    }
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

    fn load_stem(&self, stem: &str) -> Result<Session, FileProblem> {
        let shown = Self::display_path(stem);
        let loaded = match Name::session(stem) {
            Err(e) => Err(vec![Finding {
                line: 1,
                column: 1,
                message: format!("the file name is not a session name: {}", e.message),
            }]),
            Ok(n) => match self.read_text(&self.path(&n)) {
                Err(e) => Err(vec![Finding {
                    line: 1,
                    column: 1,
                    message: strip_path_prefix(&e.message, &shown),
                }]),
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

    /// Writes a new session file; fails if the session exists (checked under the lock).
    pub fn create(&self, session: &Session) -> Result<PathBuf> {
        let _lock = self.lock()?;
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
        write_atomic(path, text.as_bytes(), true)
    }

    /// Writes a file only if it does not exist (used by `init` for the policy file).
    pub fn create_file(&self, path: &Path, text: &str) -> Result<bool> {
        let _lock = self.lock()?;
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

fn strip_path_prefix(message: &str, path: &str) -> String {
    message
        .strip_prefix(path)
        .map(|m| m.trim_start_matches([':', ' ']).to_string())
        .unwrap_or_else(|| message.to_string())
}

/// Temp file in the same directory, fsync, rename (refusing to clobber unless `overwrite`),
/// fsync the directory: a crash leaves the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
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
    if overwrite && let Ok(meta) = fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
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

/// An exclusive lock file, removed on drop.
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// The lock if nobody holds it now, without waiting.
    pub fn try_acquire(path: &Path) -> Option<Lock> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).ok()?;
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .ok()?;
        let _ = writeln!(f, "{}", std::process::id());
        Some(Lock {
            path: path.to_path_buf(),
        })
    }

    pub fn acquire(path: &Path) -> Result<Lock> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, &e))?;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Lock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if Instant::now() >= deadline {
                        return Err(Error::input(format!(
                            "another git-session is writing (lock {} exists); if none is running, remove that file",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(Error::io("create", path, &e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lock_is_exclusive_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = Lock::acquire(&p).unwrap();
        assert!(p.exists());
        drop(held);
        assert!(!p.exists());
        let _again = Lock::acquire(&p).unwrap();
    }
}
