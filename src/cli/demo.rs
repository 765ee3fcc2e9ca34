//! `git session demo`: a throwaway repository with a session, a few commits and its status.

use std::path::Path;
use std::process::{Command, Stdio};

use git_session::error::{Error, Result};

use super::{Global, emit};

/// Show git-session at work in a throwaway repository
///
/// Creates a repository in a temporary directory, starts a session with two milestones, makes
/// a few commits with trailers, and shows the session's status and log. Your own repositories
/// and configuration are not touched. The repository is removed afterwards unless --keep.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the repository and print where it is, to explore it
    #[arg(long)]
    pub keep: bool,
}

struct Demo<'a> {
    dir: &'a Path,
    exe: std::path::PathBuf,
    path_env: std::ffi::OsString,
    color: bool,
    clock: i64,
}

impl Demo<'_> {
    fn show(&self, shown: &str) {
        let prompt = if self.color {
            format!("\x1b[2m$\x1b[0m \x1b[1m{shown}\x1b[0m\n")
        } else {
            format!("$ {shown}\n")
        };
        emit(&prompt);
    }

    fn git(&mut self, args: &[&str], shown: Option<&str>) -> Result<()> {
        if let Some(s) = shown {
            self.show(s);
        }
        // Only commits move the clock, so the last one is still in the past.
        if args.first() == Some(&"commit") {
            self.clock += 47 * 60;
        }
        let date = format!("{} +0000", self.clock);
        let out = Command::new("git")
            .args(args)
            .current_dir(self.dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.org")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.org")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("PATH", &self.path_env)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::input(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(Error::input(format!(
                "the demo's 'git {}' failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        if shown.is_some() {
            emit(&String::from_utf8_lossy(&out.stdout));
        }
        Ok(())
    }

    fn session(&self, args: &[&str]) -> Result<()> {
        let shown: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
        self.show(&format!("git session {}", shown.join(" ")));
        let now = chrono::DateTime::from_timestamp(self.clock + 600, 0)
            .unwrap_or_default()
            .to_rfc3339();
        let color = if self.color { "always" } else { "never" };
        let out = Command::new(&self.exe)
            .args(args)
            .args(["--color", color])
            .current_dir(self.dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_SESSION_NOW", now)
            .env("PATH", &self.path_env)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::input(format!("cannot run git-session: {e}")))?;
        emit(&String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.trim().is_empty() {
            emit(&err);
        }
        if !out.status.success() {
            return Err(Error::input(format!(
                "the demo's 'git session {}' failed",
                args.join(" ")
            )));
        }
        Ok(())
    }
}

/// `text` as a shell word: quoted when it holds anything but plain characters.
fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@#".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let tmp = tempfile::Builder::new()
        .prefix("git-session-demo-")
        .tempdir()
        .map_err(|e| Error::input(format!("cannot create a temporary directory: {e}")))?;
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, &e))?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::input(format!("cannot find the git-session binary: {e}")))?;
    let mut path_env = std::ffi::OsString::new();
    if let Some(bin) = exe.parent() {
        path_env.push(bin);
        path_env.push(":");
    }
    path_env.push(std::env::var_os("PATH").unwrap_or_default());
    let color = super::decide_color(global.color, None);
    let mut d = Demo {
        dir: &dir,
        exe,
        path_env,
        color,
        clock: chrono::Utc::now().timestamp() - 6 * 3600,
    };
    emit("A throwaway repository, a session with two milestones, and a few commits:\n\n");
    d.git(
        &["init", "-q", "-b", "main"],
        Some("git init -q -b main demo && cd demo"),
    )?;
    d.git(
        &["commit", "-q", "--allow-empty", "-m", "Initial commit"],
        Some("git commit -q --allow-empty -m 'Initial commit'"),
    )?;
    d.session(&["init"])?;
    d.session(&[
        "start",
        "search",
        "--title",
        "Search rewrite",
        "--objective",
        "p99 query latency under 50 ms",
        "--milestone",
        "parser:Query parser",
        "--milestone",
        "ranking:BM25 ranking",
    ])?;
    let commits: [(&str, &[&str]); 4] = [
        ("Add the query lexer", &["Milestone: parser", "Effort: 1h"]),
        (
            "Parse boolean queries",
            &["Milestone-Done: parser", "Effort: 2h"],
        ),
        (
            "Score documents with BM25",
            &[
                "Milestone: ranking",
                "Blocker: #corpus we need a test corpus",
            ],
        ),
        (
            "Tune BM25 parameters",
            &["Milestone: ranking", "Effort: 45m"],
        ),
    ];
    for (i, (subject, trailers)) in commits.iter().enumerate() {
        let file = format!("src{i}.txt");
        std::fs::write(dir.join(&file), subject).map_err(|e| Error::io("write", &dir, &e))?;
        d.git(&["add", &file], None)?;
        let mut argv: Vec<String> = vec![
            "commit".into(),
            "-q".into(),
            "-m".into(),
            subject.to_string(),
        ];
        let mut shown = format!("git commit -q -m {}", shell_quote(subject));
        for t in *trailers {
            argv.push("--trailer".into());
            argv.push(t.to_string());
            shown.push_str(&format!(" --trailer {}", shell_quote(t)));
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        d.git(&argv, Some(&shown))?;
    }
    emit("\n");
    d.session(&["status"])?;
    emit("\n");
    d.session(&["log", "-n", "3"])?;
    emit("\n");
    d.session(&["list"])?;
    if args.keep {
        let kept = tmp.keep();
        emit(&format!(
            "\nThe repository is kept in {}; explore it with git session status, log and list.\n",
            kept.join("demo").display()
        ));
    } else {
        emit(
            "\nNo commit named its session: the hooks that 'git session init' installed added 'Session: search'\nto each one made on the session's branch (git log shows it).\nThat was a throwaway repository (removed now; run 'git session demo --keep' to explore it).\nIn your own repository: git session init, then git session start <name>.\n",
        );
    }
    Ok(0)
}
