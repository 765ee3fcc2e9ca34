//! Putting the hook scripts into a hooks directory, chaining what was there, and taking them
//! out again. A hook that was there before is renamed to `<hook>.chained` next to ours (a
//! rename keeps its bytes and its mode exactly) and runs before ours; `uninstall` renames it
//! back. Every step leaves a state that the next `install` or `uninstall` completes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

use super::{NAMES, script};

/// The suffix of a chained hook: the one that was there before ours.
pub const CHAINED: &str = ".chained";

/// Hook files larger than this are not ours and are not read.
const MAX_HOOK_BYTES: u64 = 64 * 1024;

/// What is at a hook's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No hook.
    Missing,
    /// Ours, as this version writes it.
    Installed,
    /// Ours, from another version of git-session.
    Outdated,
    /// Somebody else's hook.
    Foreign,
}

/// One hook's place in a hooks directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookStatus {
    pub name: &'static str,
    pub state: State,
    /// The file name of the chained hook, when there is one.
    pub chained: Option<String>,
    /// Whether the chained hook is executable (git and ours run only executable hooks).
    pub chained_runs: bool,
}

/// What `install` or `uninstall` did to one hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Wrote ours; `chained` when a hook that was there before now runs from ours.
    Installed { chained: bool },
    /// Replaced ours from another version.
    Updated,
    /// Ours was there already.
    Unchanged,
    /// Took ours out; `restored` when the chained hook is back in its place.
    Removed { restored: bool },
    /// Put a chained hook back that had no hook of ours in front of it.
    Restored,
    /// Somebody else's hook is there; left alone.
    LeftForeign,
    /// Nothing to take out.
    Absent,
}

fn hook_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn chained_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{CHAINED}"))
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Whether the file is a script that git-session installed (this version or another).
pub fn is_ours(content: &[u8]) -> bool {
    content.starts_with(b"#!/bin/sh\n# git-session: ")
}

/// Reads what is at `path` without following a symlink: `None` when nothing is there.
fn state_of(path: &Path, name: &str) -> Result<State> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::Missing),
        Err(e) => return Err(Error::io("read", path, &e)),
    };
    if !meta.is_file() || meta.len() > MAX_HOOK_BYTES {
        return Ok(State::Foreign);
    }
    let content = fs::read(path).map_err(|e| Error::io("read", path, &e))?;
    Ok(if content == script(name).as_bytes() {
        State::Installed
    } else if is_ours(&content) {
        State::Outdated
    } else {
        State::Foreign
    })
}

/// Whether git would run the file at `path` (an executable file, or a symlink to one).
pub fn is_executable(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The state of each of our hooks in `dir`.
pub fn inspect(dir: &Path) -> Result<Vec<HookStatus>> {
    NAMES
        .iter()
        .map(|&name| {
            let state = state_of(&hook_path(dir, name), name)?;
            let chained = chained_path(dir, name);
            let has_chained = exists(&chained);
            Ok(HookStatus {
                name,
                state,
                chained: has_chained.then(|| format!("{name}{CHAINED}")),
                chained_runs: has_chained && is_executable(&chained),
            })
        })
        .collect()
}

/// Installs our hooks into `dir` (created if needed). A foreign hook is chained; a foreign hook
/// next to an existing `.chained` one is refused before anything is written, as chaining it
/// would overwrite one of them.
pub fn install(dir: &Path) -> Result<Vec<(&'static str, Change)>> {
    let statuses = inspect(dir)?;
    if let Some(s) = statuses
        .iter()
        .find(|s| s.state == State::Foreign && s.chained.is_some())
    {
        return Err(Error::refused(format!(
            "{} holds a hook that is not git-session's, and {} exists too; git-session will not overwrite either: move one of them away, then run 'git session hooks install' again",
            hook_path(dir, s.name).display(),
            chained_path(dir, s.name).display()
        )));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, &e))?;
    let mut changes = Vec::new();
    for s in statuses {
        let path = hook_path(dir, s.name);
        let change = match s.state {
            State::Installed => Change::Unchanged,
            State::Outdated => {
                write_executable(&path, script(s.name).as_bytes(), true)?;
                Change::Updated
            }
            State::Missing => {
                write_executable(&path, script(s.name).as_bytes(), false)?;
                Change::Installed {
                    chained: s.chained_runs,
                }
            }
            State::Foreign => {
                let chained = chained_path(dir, s.name);
                fs::rename(&path, &chained).map_err(|e| Error::io("move", &path, &e))?;
                write_executable(&path, script(s.name).as_bytes(), false)?;
                Change::Installed {
                    chained: is_executable(&chained),
                }
            }
        };
        changes.push((s.name, change));
    }
    Ok(changes)
}

/// Takes our hooks out of `dir` and puts chained hooks back exactly as they were.
pub fn uninstall(dir: &Path) -> Result<Vec<(&'static str, Change)>> {
    let mut changes = Vec::new();
    for s in inspect(dir)? {
        let path = hook_path(dir, s.name);
        let chained = chained_path(dir, s.name);
        let change = match (s.state, s.chained.is_some()) {
            (State::Installed | State::Outdated, true) => {
                // One rename puts the old hook back over ours.
                fs::rename(&chained, &path).map_err(|e| Error::io("restore", &chained, &e))?;
                Change::Removed { restored: true }
            }
            (State::Installed | State::Outdated, false) => {
                fs::remove_file(&path).map_err(|e| Error::io("remove", &path, &e))?;
                Change::Removed { restored: false }
            }
            (State::Missing, true) => {
                fs::rename(&chained, &path).map_err(|e| Error::io("restore", &chained, &e))?;
                Change::Restored
            }
            (State::Missing, false) => Change::Absent,
            (State::Foreign, _) => Change::LeftForeign,
        };
        changes.push((s.name, change));
    }
    sync_dir(dir);
    Ok(changes)
}

/// Writes an executable file atomically: a temporary file in the same directory, synced, made
/// executable, then renamed into place (without replacing anything unless `overwrite`).
fn write_executable(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".git-session-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io("write in", dir, &e))?;
    tmp.write_all(bytes)
        .and_then(|_| set_executable(tmp.as_file()))
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", path, &e))?;
    let persisted = if overwrite {
        tmp.persist(path).map(drop)
    } else {
        tmp.persist_noclobber(path).map(drop)
    };
    persisted.map_err(|e| Error::io("write", path, &e.error))?;
    sync_dir(dir);
    Ok(())
}

fn set_executable(file: &fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o755))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The first bytes of each hook in `dir` that a hook manager may have generated, leaving out
/// hooks that are ours.
pub fn probe(dir: &Path, names: &[&'static str]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for &name in names {
        let path = hook_path(dir, name);
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let Ok(file) = fs::File::open(&path) else {
            continue;
        };
        let mut head = Vec::new();
        use std::io::Read;
        if file.take(4096).read_to_end(&mut head).is_ok() && !is_ours(&head) {
            out.push((name, head));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn install_chains_and_uninstall_restores_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join("hooks");
        fs::create_dir(&hooks).unwrap();
        let theirs = hooks.join("commit-msg");
        let original = b"#!/bin/sh\necho theirs \"$@\"\nexit 3\n\xff";
        fs::write(&theirs, original).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&theirs, fs::Permissions::from_mode(0o750)).unwrap();
        }

        let changes = install(&hooks).unwrap();
        assert_eq!(
            changes,
            [
                ("prepare-commit-msg", Change::Installed { chained: false }),
                ("commit-msg", Change::Installed { chained: true }),
                ("post-commit", Change::Installed { chained: false }),
            ]
        );
        assert_eq!(
            fs::read(hooks.join("commit-msg.chained")).unwrap(),
            original
        );
        assert_eq!(
            fs::read(hooks.join("commit-msg")).unwrap(),
            script("commit-msg").as_bytes()
        );
        assert!(is_executable(&hooks.join("post-commit")));
        let leftovers = fs::read_dir(&hooks)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().contains("partial")
            })
            .count();
        assert_eq!(leftovers, 0);

        // Twice changes nothing.
        let again = install(&hooks).unwrap();
        assert!(
            again.iter().all(|(_, c)| *c == Change::Unchanged),
            "{again:?}"
        );
        assert_eq!(
            fs::read(hooks.join("commit-msg.chained")).unwrap(),
            original
        );

        let status = inspect(&hooks).unwrap();
        assert_eq!(status[1].chained.as_deref(), Some("commit-msg.chained"));
        assert!(status[1].chained_runs);

        let removed = uninstall(&hooks).unwrap();
        assert_eq!(
            removed[1],
            ("commit-msg", Change::Removed { restored: true })
        );
        assert_eq!(fs::read(&theirs).unwrap(), original);
        #[cfg(unix)]
        assert_eq!(mode(&theirs), 0o750);
        let names: Vec<_> = fs::read_dir(&hooks)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["commit-msg"]);
    }

    #[test]
    fn a_foreign_hook_next_to_a_chained_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("post-commit"), "#!/bin/sh\n").unwrap();
        fs::write(dir.path().join("post-commit.chained"), "#!/bin/sh\n").unwrap();
        let err = install(dir.path()).unwrap_err();
        assert_eq!(err.kind, crate::Kind::Refused);
        assert!(!dir.path().join("commit-msg").exists(), "nothing written");
    }

    #[test]
    fn outdated_scripts_are_updated_and_leftovers_completed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("commit-msg"),
            "#!/bin/sh\n# git-session: an older one\n",
        )
        .unwrap();
        // As if an install stopped after moving the old hook away.
        fs::write(dir.path().join("post-commit.chained"), "#!/bin/sh\n").unwrap();
        let changes = install(dir.path()).unwrap();
        assert_eq!(changes[1], ("commit-msg", Change::Updated));
        assert_eq!(
            changes[2],
            ("post-commit", Change::Installed { chained: false })
        );
        let removed = uninstall(dir.path()).unwrap();
        assert_eq!(
            removed[2],
            ("post-commit", Change::Removed { restored: true })
        );
        assert_eq!(
            fs::read(dir.path().join("post-commit")).unwrap(),
            b"#!/bin/sh\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_hook_is_chained_as_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("../shared/commit-msg", dir.path().join("commit-msg")).unwrap();
        install(dir.path()).unwrap();
        let link = fs::read_link(dir.path().join("commit-msg.chained")).unwrap();
        assert_eq!(link, Path::new("../shared/commit-msg"));
        uninstall(dir.path()).unwrap();
        let link = fs::read_link(dir.path().join("commit-msg")).unwrap();
        assert_eq!(link, Path::new("../shared/commit-msg"));
    }
}
