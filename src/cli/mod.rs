//! The command line: argument definitions, the context every command gets, output and colour.
//! One file per command, each with its `Args` and its `run`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand, ValueEnum};

use git_session::config::Config;
use git_session::error::{Error, Result};
use git_session::name::Name;
use git_session::repo::{Head, Repo};
use git_session::session::Session;
use git_session::store::{Owner, Store};

/// `eprintln!` that never panics: a closed or broken stderr (`2>&-`, a reader gone away) is no
/// reason to crash, and a panic while reporting one aborts the process.
macro_rules! err_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see `err_line!`).
macro_rules! err_text {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod check;
mod completions;
mod context;
mod debug;
mod demo;
mod doctor;
mod focus;
mod hook;
mod hooks;
mod init;
mod lifecycle;
mod list;
mod log;
mod man;
mod render;
mod report;
mod start;
mod status;
mod trust;
mod validate;

const ABOUT: &str = "Long-running units of work inside a git repository";

const LONG_ABOUT: &str = "\
Long-running units of work inside a git repository.

A session has objectives, milestones (with optional task checklists) and success criteria, \
defined in .sessions/<name>.toml. Commits link to a session and its milestones through \
commit-message trailers (Session:, Milestone:, Milestone-Done:, Task-Done:, Effort:, Blocker:, \
Blocker-Resolved:), and all progress is derived from history.

Start here:
  git session demo                      see it work in a throwaway repository
  git session init                      set up .sessions/ in this repository
  git session start search --milestone parser --milestone ranking
  git commit -m 'Add lexer' --trailer Milestone=parser
  git session status                    progress of the current branch's session";

#[derive(Debug, Parser)]
#[command(
    name = "git-session",
    bin_name = "git session",
    version = version(),
    about = ABOUT,
    long_about = LONG_ABOUT,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Run as if started in <PATH> (as git -C)
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub chdir: Option<PathBuf>,

    /// Derive everything from history afresh; read and write no cache
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// When to colour the output
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Command,
}

fn version() -> &'static str {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (",
        env!("GIT_SESSION_COMMIT"),
        ")"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Start(start::Args),
    List(list::Args),
    Status(status::Args),
    Log(log::Args),
    Check(check::Args),
    Trust(trust::Args),
    Validate(validate::Args),
    Demo(demo::Args),
    Pause(lifecycle::PauseArgs),
    Resume(lifecycle::ResumeArgs),
    Finish(lifecycle::FinishArgs),
    Abandon(lifecycle::AbandonArgs),
    Context(context::Args),
    Report(report::Args),
    Doctor(doctor::Args),
    Focus(focus::Args),
    Hooks(hooks::Args),
    Completions(completions::Args),
    Man(man::Args),
    #[command(hide = true)]
    Hook(hook::Args),
    #[command(hide = true)]
    DebugTrailers(debug::Args),
    #[command(name = "__complete", hide = true)]
    Complete(completions::CompleteArgs),
}

/// Parses the arguments and runs the command; the error carries the exit code.
pub fn run(cli: Cli) -> Result<i32> {
    if let Some(dir) = &cli.chdir {
        std::env::set_current_dir(dir).map_err(|e| Error::io("change to", dir, &e))?;
    }
    let global = Global {
        color: cli.color,
        no_cache: cli.no_cache,
    };
    match cli.command {
        Command::Init(a) => init::run(&global, a),
        Command::Start(a) => start::run(&global, a),
        Command::List(a) => list::run(&global, a),
        Command::Status(a) => status::run(&global, a),
        Command::Log(a) => log::run(&global, a),
        Command::Check(a) => check::run(&global, a),
        Command::Trust(a) => trust::run(&global, a),
        Command::Validate(a) => validate::run(&global, a),
        Command::Demo(a) => demo::run(&global, a),
        Command::Pause(a) => lifecycle::pause(&global, a),
        Command::Resume(a) => lifecycle::resume(&global, a),
        Command::Finish(a) => lifecycle::finish(&global, a),
        Command::Abandon(a) => lifecycle::abandon(&global, a),
        Command::Context(a) => context::run(&global, a),
        Command::Report(a) => report::run(&global, a),
        Command::Doctor(a) => doctor::run(&global, a),
        Command::Focus(a) => focus::run(&global, a),
        Command::Hooks(a) => hooks::run(&global, a),
        Command::Hook(a) => hook::run(&global, a),
        Command::DebugTrailers(a) => debug::run(&global, a),
        Command::Completions(a) => completions::run(&global, a),
        Command::Man(a) => man::run(&global, a),
        Command::Complete(a) => completions::complete(&global, a),
    }
}

/// `git-session hook <name> …` as the installed hooks call it, run without building the whole
/// command line: it is on every commit's path, three times.
pub fn hook_fast_path() -> Option<Result<i32>> {
    let mut argv = std::env::args_os().skip(1);
    if argv.next()? != "hook" {
        return None;
    }
    let name = argv.next()?.into_string().ok()?;
    if !git_session::hooks::NAMES.contains(&name.as_str()) {
        return None;
    }
    let args = hook::Args {
        name,
        args: argv.collect(),
    };
    let global = Global {
        color: ColorWhen::Auto,
        no_cache: false,
    };
    Some(hook::run(&global, args))
}

/// The global flags.
pub struct Global {
    pub color: ColorWhen,
    pub no_cache: bool,
}

/// What a command that works on sessions needs: the repository, its session files, the policy,
/// the time, and how to print.
pub struct Ctx {
    pub repo: Repo,
    pub store: Store,
    pub config: Config,
    pub now: DateTime<FixedOffset>,
    pub style: Style,
    /// `--no-cache`, or `session.cache = false` in git config.
    pub no_cache: bool,
}

impl Ctx {
    /// Opens the repository around the current directory; needs a work tree.
    pub fn open(global: &Global) -> Result<Ctx> {
        let repo = Repo::discover()?;
        let Some(top) = repo.workdir().map(|p| p.to_path_buf()) else {
            return Err(Error::input(
                "this is a bare repository; git session needs a work tree with .sessions/ (run it in a clone)",
            ));
        };
        let store = Store::new(&top, &state_dir(&repo));
        let config = store.config()?;
        let style = Style::detect(global.color, &repo);
        let no_cache = global.no_cache || !Prefs::read(&repo).cache;
        Ok(Ctx {
            repo,
            store,
            config,
            now: now()?,
            style,
            no_cache,
        })
    }

    /// The session named on the command line, or the one whose branch is checked out. A
    /// session whose file is not in this work tree is read from its branch, where `start` put it.
    pub fn session(&self, name: Option<&str>) -> Result<Session> {
        let Some(n) = name else {
            return self.current_session();
        };
        let name = Name::session(n)?;
        if self.store.exists(&name) {
            return self.store.load(&name);
        }
        match session_from_branch(&self.repo, &self.config, &name)? {
            Some(s) => Ok(s),
            None => self.store.load(&name),
        }
    }

    fn current_session(&self) -> Result<Session> {
        let branch = match self.repo.head()? {
            Head::Branch(b) | Head::Unborn(b) => b,
            Head::Detached(_) => {
                return Err(Error::input(
                    "HEAD is detached, so no session is current; name the session (git session list shows them)",
                ));
            }
        };
        if let Some(s) = self.store.named_after(&branch) {
            return Ok(s);
        }
        let (index, problems) = self.store.index()?;
        match self.store.owner_in(&branch, &index, &problems)? {
            Owner::One(s) => Ok(s),
            Owner::Several(a, b) => Err(Error::input(format!(
                "sessions '{a}' and '{b}' both use branch '{branch}'; name the one you mean"
            ))),
            // A file that does not load may be the one: its error says more than a guess.
            Owner::Unreadable(p) => Err(p.to_error()),
            Owner::None => match problems.first() {
                Some(p) => Err(p.to_error()),
                None => Err(Error::input(format!(
                    "no session uses the current branch '{branch}'; name a session (git session list shows them) or start one (git session start <name>)"
                ))),
            },
        }
    }

    pub fn estimate(&self) -> git_session::progress::Estimate {
        git_session::progress::Estimate {
            max_gap_secs: self.config.estimate_max_gap_secs,
            first_commit_secs: self.config.estimate_first_commit_secs,
        }
    }
}

/// Personal preferences from git config, `session.*`: how the tool behaves for you, wherever
/// you run it. The repository's policy, shared by everyone, is `.sessions/config.toml`.
pub struct Prefs {
    /// `session.cache` (default true): false reads and writes no cache, as `--no-cache`.
    pub cache: bool,
    /// `session.progress` (default true): false silences the post-commit progress line.
    pub progress: bool,
}

impl Prefs {
    pub fn read(repo: &Repo) -> Prefs {
        let flag = |key: &str| {
            repo.config_string(key)
                .and_then(|v| git_bool(&v))
                .unwrap_or(true)
        };
        Prefs {
            cache: flag("session.cache"),
            progress: flag("session.progress"),
        }
    }
}

/// A boolean as git reads one; `None` for what git would refuse.
pub fn git_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" | "" => Some(false),
        other => other.parse::<i64>().ok().map(|n| n != 0),
    }
}

/// Checks a session name given on the command line before anything is opened or read: an
/// unsafe name (`../x`, `/abs`, `a/b`) is refused (exit 2) without touching a file.
pub fn check_session_arg(name: Option<&str>) -> Result<()> {
    name.map(Name::session).transpose().map(|_| ())
}

/// The session file of `name` as committed on its branch (`<prefix><name>`, local or
/// remote-tracking), where `start` put it; `None` when the branch or the file is not there.
/// Nothing is fetched: in a partial clone that lacks the file's blob, that is said (exit 3).
pub fn session_from_branch(repo: &Repo, config: &Config, name: &Name) -> Result<Option<Session>> {
    use git_session::repo::TreeFile;
    let branch = format!("{}{name}", config.branch_prefix);
    let path = Store::display_path(name.as_str());
    let Some(tip) = repo.branch_commit(&branch) else {
        return Ok(None);
    };
    let shown = format!("{branch}:{path}");
    let bytes = match repo.file_at(tip, &path, git_session::store::MAX_FILE_BYTES as usize) {
        TreeFile::Found(bytes) => bytes,
        TreeFile::Absent => return Ok(None),
        TreeFile::NotHere => {
            return Err(Error::unanswerable(format!(
                "{shown} is not in this repository (a partial clone has not fetched it, and git session never fetches); switch to branch '{branch}' or fetch it, then run this again"
            )));
        }
        TreeFile::TooLarge => {
            return Err(Error::input(format!(
                "{shown} is larger than 1 MB; session files are small TOML files"
            )));
        }
        TreeFile::NotRegular => {
            return Err(Error::input(format!(
                "{shown} is a symlink or not a file; session files must be regular files"
            )));
        }
    };
    let text = git_session::store::decode_text(&bytes).map_err(|p| p.error(&shown))?;
    git_session::session::parse(&text, Some(name.as_str()))
        .map(Some)
        .map_err(|f| git_session::session::findings_error(&shown, &f))
}

/// The sessions whose files are only on their own branches (`<prefix><name>`, local or
/// remote-tracking), as `start` leaves them until the branch is merged: those with no file in
/// the work tree, whether or not it loads (a broken file is reported as such, never replaced by
/// its branch's copy). A file on a branch that does not load is a warning when `warn`, as one
/// in the work tree is.
pub fn branch_only_sessions(
    repo: &Repo,
    store: &Store,
    config: &Config,
    warn: bool,
) -> Vec<Session> {
    let prefix = config.branch_prefix.as_str();
    // Without a prefix every branch would be some session's.
    if prefix.is_empty() {
        return Vec::new();
    }
    let Ok(refs) = repo.ref_snapshot() else {
        return Vec::new();
    };
    let mut names = std::collections::BTreeSet::new();
    for (r, _) in &refs {
        let branch = match (
            r.strip_prefix("refs/heads/"),
            r.strip_prefix("refs/remotes/"),
        ) {
            (Some(b), _) => b,
            (None, Some(rest)) => match rest.split_once('/') {
                Some((_, b)) => b,
                None => continue,
            },
            _ => continue,
        };
        if let Some(n) = branch.strip_prefix(prefix)
            && let Ok(name) = Name::session(n)
            && !store.exists(&name)
        {
            names.insert(name);
        }
    }
    let mut out = Vec::new();
    for name in names {
        match session_from_branch(repo, config, &name) {
            Ok(Some(s)) => out.push(s),
            Ok(None) => {}
            Err(e) if warn => note(&format!("warning: skipped {e}")),
            Err(_) => {}
        }
    }
    out
}

/// The tool's own directory in the git directory shared by all work trees.
pub fn state_dir(repo: &Repo) -> PathBuf {
    repo.common_dir().join("git-session")
}

/// The current time; `GIT_SESSION_NOW` (RFC 3339) pins it, for tests and reproducible reports.
pub fn now() -> Result<DateTime<FixedOffset>> {
    match std::env::var("GIT_SESSION_NOW") {
        Ok(text) if !text.is_empty() => DateTime::parse_from_rfc3339(&text).map_err(|_| {
            Error::input(format!(
                "GIT_SESSION_NOW={text} is not an RFC 3339 time like 2026-11-24T09:30:00Z"
            ))
        }),
        _ => Ok(chrono::Local::now().fixed_offset()),
    }
}

/// Colours, on only when they can be seen and are wanted.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// `--color`, then `NO_COLOR`, `CLICOLOR_FORCE`, git's `color.ui`, then whether stdout is a
    /// terminal.
    pub fn detect(when: ColorWhen, repo: &Repo) -> Style {
        let git_ui = repo.config_string("color.ui");
        Style {
            color: decide_color(when, git_ui.as_deref()),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn cyan(&self, t: &str) -> String {
        self.paint("36", t)
    }
}

pub fn decide_color(when: ColorWhen, git_ui: Option<&str>) -> bool {
    match when {
        ColorWhen::Always => return true,
        ColorWhen::Never => return false,
        ColorWhen::Auto => {}
    }
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var("CLICOLOR_FORCE").is_ok_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    match git_ui.map(str::to_ascii_lowercase).as_deref() {
        Some("never" | "false" | "no" | "off" | "0") => return false,
        Some("always") => return true,
        _ => {}
    }
    std::io::stdout().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Writes to stdout; a reader that went away (`| head`) ends the program quietly.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let result = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    if let Err(e) = result {
        output_failed(&e);
    }
}

/// Writes `value` as pretty JSON to stdout as it is serialized: `report --json` of a large
/// history is tens of megabytes, which need not be held in memory first.
pub fn emit_json(value: &impl serde::Serialize) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush());
    if let Err(e) = result {
        output_failed(&e);
    }
}

fn output_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    err_line!(
        "error: cannot write the output: {}",
        git_session::error::io_reason(e)
    );
    std::process::exit(2);
}

/// A count of work done, shown on stderr while a long walk runs, only on a terminal and only
/// once the walk has taken a moment.
pub struct Meter {
    label: &'static str,
    start: std::time::Instant,
    last: Option<std::time::Instant>,
    on: bool,
}

impl Meter {
    pub fn new(label: &'static str) -> Meter {
        Meter {
            label,
            start: std::time::Instant::now(),
            last: None,
            on: std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&mut self, commits: usize) {
        let now = std::time::Instant::now();
        if !self.on
            || now.duration_since(self.start).as_millis() < 500
            || self
                .last
                .is_some_and(|l| now.duration_since(l).as_millis() < 100)
        {
            return;
        }
        self.last = Some(now);
        let rate = commits as f64 / now.duration_since(self.start).as_secs_f64();
        err_text!(
            "\r{}: {commits} commits ({:.0}k/s; building the cache, later runs are fast)\x1b[K",
            self.label,
            rate / 1000.0
        );
    }

    pub fn done(&self) {
        if self.last.is_some() {
            err_text!("\r\x1b[K");
        }
    }
}

/// Phase timings on stderr when `GIT_SESSION_TRACE` is set, as git's `GIT_TRACE_PERFORMANCE`.
pub struct Trace {
    start: Option<std::time::Instant>,
}

impl Trace {
    pub fn new() -> Trace {
        let on = std::env::var_os("GIT_SESSION_TRACE").is_some_and(|v| !v.is_empty() && v != "0");
        Trace {
            start: on.then(std::time::Instant::now),
        }
    }

    pub fn mark(&mut self, what: &str) {
        if let Some(start) = self.start {
            err_line!(
                "trace: {:>9.3} ms  {what}",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    }

    /// Reports phases timed inside the library, relative to now.
    pub fn phases(&mut self, what: &str, phases: &[(&'static str, std::time::Duration)]) {
        if self.start.is_none() {
            return;
        }
        let total = phases.last().map(|(_, d)| *d).unwrap_or_default();
        let began = self.start.map(|s| s.elapsed().saturating_sub(total));
        for (name, at) in phases {
            if let Some(b) = began {
                err_line!(
                    "trace: {:>9.3} ms  {what}: {name}",
                    (b + *at).as_secs_f64() * 1e3
                );
            }
        }
    }
}

/// A diagnostic line on stderr.
pub fn note(text: &str) {
    err_line!("{text}");
}

/// Output format of reporting commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
}

/// `--json` and `--format`, shared by reporting commands.
#[derive(Debug, Clone, clap::Args)]
pub struct FormatArgs {
    /// Print JSON (the keys are stable; see docs/json.md)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

impl FormatArgs {
    pub fn get(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
