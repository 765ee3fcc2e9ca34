//! A real git repository in a temporary directory, driven by the real `git` and the real
//! `git-session` binary, in a hermetic environment: its own HOME, no global or system git
//! config, fixed identities, and a clock the test moves forward.

use std::cell::Cell;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// 2026-11-24T09:00:00Z
pub const T0: i64 = 1_795_510_800;

/// Runs `cmd` with `input` on its stdin, capturing its stdout and stderr.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("the command finishes")
}

/// The entry of session `name` in `list --json`'s output.
pub fn listed<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list.as_array()
        .expect("list --json prints an array")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} is listed"))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-session"))
}

pub struct TestRepo {
    _tmp: tempfile::TempDir,
    pub path: PathBuf,
    pub home: PathBuf,
    clock: Cell<i64>,
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRepo {
    /// An empty repository on branch `main`.
    pub fn new() -> TestRepo {
        let repo = Self::bare_dir();
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A temporary directory that is not a repository (yet).
    pub fn bare_dir() -> TestRepo {
        let tmp = tempfile::Builder::new()
            .prefix("gs-test-")
            .tempdir()
            .expect("temp dir");
        let path = tmp.path().join("repo");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&path).expect("repo dir");
        std::fs::create_dir_all(&home).expect("home dir");
        TestRepo {
            path,
            home,
            _tmp: tmp,
            clock: Cell::new(T0),
        }
    }

    /// A repository with one initial commit on `main`.
    pub fn with_commit() -> TestRepo {
        let repo = Self::new();
        repo.commit("Initial commit");
        repo
    }

    /// A repository with `init` done (hooks installed) and session `search` started from
    /// `main` with the given `--milestone` specs, a minute later.
    pub fn with_session(milestones: &[&str]) -> TestRepo {
        let repo = Self::with_commit();
        repo.run(&["init"]).success();
        repo.tick(60);
        let mut args = vec!["start", "search"];
        for m in milestones {
            args.extend(["--milestone", m]);
        }
        repo.run(&args).success();
        repo
    }

    /// Writes a raw object of `kind` with `git hash-object --literally`, returning its id.
    pub fn write_object(&self, kind: &str, bytes: &[u8]) -> String {
        let mut cmd = self.command("git");
        cmd.args(["hash-object", "-t", kind, "-w", "--stdin", "--literally"]);
        let out = output_with_stdin(&mut cmd, bytes);
        assert!(out.status.success(), "git hash-object failed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn now(&self) -> i64 {
        self.clock.get()
    }

    /// Moves the clock forward by `secs`.
    pub fn tick(&self, secs: i64) {
        self.clock.set(self.clock.get() + secs);
    }

    pub fn now_rfc3339(&self) -> String {
        chrono::DateTime::from_timestamp(self.now(), 0)
            .expect("valid time")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// The hermetic environment every process gets.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        let date = format!("{} +0000", self.now());
        let bin_dir = bin().parent().expect("binary dir").to_path_buf();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.current_dir(&self.path)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.org")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.org")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_SESSION_NOW", self.now_rfc3339())
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs git, asserting success; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.git_bytes(args)).into_owned()
    }

    pub fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    pub fn git_output(&self, args: &[&str]) -> Output {
        self.command("git").args(args).output().expect("git runs")
    }

    /// Runs git with `args` after `setup` adjusts the command (env, directory, …), without
    /// asserting anything.
    pub fn git_with(&self, args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
        let mut cmd = self.command("git");
        cmd.args(args);
        setup(&mut cmd);
        cmd.output().expect("git runs")
    }

    /// Commits everything in the work tree (or nothing) with `message`, one tick later.
    pub fn commit(&self, message: &str) -> String {
        self.tick(600);
        self.git(&["add", "-A"]);
        let file = self.path.join("..").join("msg.txt");
        std::fs::write(&file, message).expect("message file");
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-F",
            file.to_str().expect("utf-8 path"),
        ]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Changes a file and commits it, so commits differ in content too.
    pub fn change_and_commit(&self, file: &str, message: &str) -> String {
        let p = self.path.join(file);
        let old = std::fs::read_to_string(&p).unwrap_or_default();
        self.write(file, &format!("{old}{message}\n"));
        self.commit(message)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(p, content).expect("write file");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path.join(rel)).expect("read file")
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path.join(rel).exists()
    }

    /// Runs `git-session` with `args`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, |_| {})
    }

    /// Runs `git-session` with `args`, after `setup` adjusts the command (env, stdin, …).
    pub fn run_with(&self, args: &[&str], setup: impl FnOnce(&mut Command)) -> Run {
        let mut cmd = self.command(bin());
        cmd.args(args);
        setup(&mut cmd);
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            out: cmd.output().expect("git-session runs"),
        }
    }

    /// `git session <args> --json`, parsed, asserting success.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let run = self.run(&all);
        run.success();
        serde_json::from_slice(run.stdout_bytes())
            .unwrap_or_else(|e| panic!("{all:?} printed invalid JSON ({e}):\n{}", run.stdout()))
    }
}

pub struct Run {
    args: Vec<String>,
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stdout_bytes(&self) -> &[u8] {
        &self.out.stdout
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Asserts exit code 0 and returns self.
    pub fn success(&self) -> &Self {
        self.expect_code(0)
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "git session {:?}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Asserts that `stream` (named `name`) contains `needle`.
    fn has(&self, name: &str, stream: String, needle: &str) -> &Self {
        assert!(
            stream.contains(needle),
            "git session {:?}: {name} lacks {needle:?}:\n{stream}",
            self.args
        );
        self
    }

    /// Asserts that stdout contains `needle`, whatever the exit code.
    pub fn prints(&self, needle: &str) -> &Self {
        self.has("stdout", self.stdout(), needle)
    }

    /// Asserts success and that stderr contains `needle`.
    pub fn warns(&self, needle: &str) -> &Self {
        self.success().has("stderr", self.stderr(), needle)
    }

    /// Asserts the exit code and that stderr is one `error:` line containing `needle`.
    pub fn fails_with(&self, code: i32, needle: &str) -> &Self {
        self.expect_code(code);
        let err = self.stderr();
        assert!(
            err.contains(needle),
            "git session {:?}: stderr lacks {needle:?}:\n{err}",
            self.args
        );
        assert!(
            err.starts_with("error: ") && err.trim_end().lines().count() == 1,
            "git session {:?}: expected one error line, got:\n{err}",
            self.args
        );
        self
    }
}
