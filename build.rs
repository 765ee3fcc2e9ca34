//! Records the commit the binary was built from, for `--version`.
//!
//! From, in order: `GIT_SESSION_COMMIT` (a packager's override); the git work tree whose top is
//! this crate (a clone, or cargo's checkout for `cargo install --git`); `.cargo_vcs_info.json`
//! (what `cargo package` records for a crate from a registry). A crate built inside some other
//! repository (vendored) must not report that repository's commit, so git is asked only when
//! the crate is the top of the work tree.
//!
//! Cargo reruns this script only when HEAD or the branch it names moves: the files watched are
//! the ones that exist (in a linked work tree `.git` is a file, and a missing watched file would
//! make every build rerun it).
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GIT_SESSION_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("GIT_SESSION_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir))
        .unwrap_or_else(|| "unknown commit".to_string());
    println!("cargo:rustc-env=GIT_SESSION_COMMIT={}", commit.trim());
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = match (Path::new(&top).canonicalize(), dir.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        return None;
    }
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        // Relative to the top, which is `dir`; joining keeps an absolute path as it is.
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]).map(|p| dir.join(p))
            && path.exists()
        {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    git(dir, &["rev-parse", "--short=12", "HEAD"])
}

/// `"sha1": "<40 hex>"` from the file `cargo package` writes; no JSON parser needed for that.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = &text[text.find("\"sha1\"")? + 6..];
    let start = after.find('"')? + 1;
    let sha: String = after[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (sha.len() >= 12).then(|| sha[..12].to_string())
}
