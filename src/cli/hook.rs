//! `git session hook <name> [args…]`: what the installed hook scripts run. First the hook that
//! was there before (chained), then ours. Ours never blocks a commit because of its own trouble
//! (a warning instead); only `commit-msg` refuses, and only for what the message says.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use git_session::aggregate::{Moment, Summary};
use git_session::cache::{Cache, CacheFile};
use git_session::config::Config;
use git_session::error::{Error, Result};
use git_session::history::{self, Recent};
use git_session::hooks::{self, check, install, message};
use git_session::links;
use git_session::memo::{Memo, MemoFile};
use git_session::name::Name;
use git_session::progress;
use git_session::repo::{Head, Repo};
use git_session::session::Session;
use git_session::store::{self, FileProblem, Index, Owner, Store};
use git_session::trailer;

use super::focus::read_focus;
use super::{Global, now, state_dir};

/// Run one of git-session's git hooks (the installed hook scripts call this)
///
/// prepare-commit-msg FILE [SOURCE [COMMIT]], commit-msg FILE, or post-commit, with the
/// arguments git gives the hook. Hook managers call it too, e.g. for lefthook:
///   commit-msg: commands: git-session: run: git-session hook commit-msg {1}
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The hook: prepare-commit-msg, commit-msg or post-commit
    pub name: String,

    /// The arguments git passed to the hook
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

pub fn run(_global: &Global, args: Args) -> Result<i32> {
    let name = args.name.as_str();
    if !hooks::NAMES.contains(&name) {
        return Err(Error::input(format!(
            "'{name}' is not a hook git-session runs; use one of: {}",
            hooks::NAMES.join(", ")
        )));
    }
    let chained = run_chained(&args.args)?;
    if chained != 0 {
        return Ok(chained);
    }
    let outcome = match name {
        "prepare-commit-msg" => prepare_commit_msg(&args.args).map(|()| 0),
        "commit-msg" => commit_msg(&args.args),
        _ => post_commit().map(|()| 0),
    };
    // Our own trouble never blocks a commit.
    Ok(outcome.unwrap_or_else(|e| {
        err_line!("warning: git-session {name} hook: {e}");
        0
    }))
}

/// Runs `<script>.chained`, the hook that was in place before ours, as git would have run it:
/// same arguments, stdin, stdout and stderr. Returns its exit code (0 when there is none).
fn run_chained(args: &[OsString]) -> Result<i32> {
    let Some(script) = std::env::var_os(hooks::SCRIPT_ENV).filter(|s| !s.is_empty()) else {
        return Ok(0);
    };
    let mut path = script;
    path.push(install::CHAINED);
    let path = PathBuf::from(path);
    if !install::is_executable(&path) {
        return Ok(0);
    }
    let status = Command::new(&path)
        .args(args)
        .env_remove(hooks::SCRIPT_ENV)
        .status()
        .map_err(|e| {
            Error::findings(format!(
                "cannot run the chained hook {}: {}",
                path.display(),
                git_session::error::io_reason(&e)
            ))
        })?;
    if let Some(code) = status.code() {
        return Ok(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Ok(128 + signal);
        }
    }
    Ok(1)
}

fn message_file(args: &[OsString]) -> Result<&Path> {
    args.first()
        .map(|a| Path::new(a.as_os_str()))
        .ok_or_else(|| Error::input("the hook needs the commit message file as its argument"))
}

/// Whether git opens an editor for this commit: git sets `GIT_EDITOR=:` for its hooks when it
/// does not.
fn editor_used() -> bool {
    std::env::var_os("GIT_EDITOR").is_none_or(|e| e != OsStr::new(":"))
}

/// A rebase, cherry-pick or revert run by the sequencer says so in `GIT_REFLOG_ACTION`.
fn rewriting_by_reflog_action() -> bool {
    std::env::var("GIT_REFLOG_ACTION").is_ok_and(|a| {
        ["rebase", "cherry-pick", "revert", "am"]
            .iter()
            .any(|p| a.starts_with(p))
    })
}

/// What the hooks know of the work tree's sessions: the tool's store and the session index,
/// from which only the sessions a commit concerns are loaded (a hook runs on every commit, so
/// it does not parse every session file).
struct Known {
    store: Store,
    /// Read on first need: a message that names its session by name needs no index.
    index: std::cell::OnceCell<(Index, Vec<FileProblem>)>,
    warn: bool,
    /// Sessions read from their files so far: prepare-commit-msg's check and its progress line
    /// need the same ones.
    loaded: std::cell::RefCell<Vec<Session>>,
    /// The policy, once read without error.
    config: std::cell::OnceCell<Config>,
}

impl Known {
    /// `warn`: say which session files do not load (once per commit: the first hook does).
    fn open(repo: &Repo, warn: bool) -> Result<Option<Known>> {
        let Some(top) = repo.workdir() else {
            return Ok(None);
        };
        let store = Store::new(top, &state_dir(repo));
        Ok(Some(Known {
            store,
            index: std::cell::OnceCell::new(),
            warn,
            loaded: std::cell::RefCell::new(Vec::new()),
            config: std::cell::OnceCell::new(),
        }))
    }

    /// The policy file's settings; an error when it is broken.
    fn config(&self) -> Result<&Config> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let config = self.store.config()?;
        Ok(self.config.get_or_init(|| config))
    }

    /// A session read already, by name.
    fn remember(&self, session: &Session) {
        let mut loaded = self.loaded.borrow_mut();
        if !loaded.iter().any(|s| s.name == session.name) {
            loaded.push(session.clone());
        }
    }

    fn index(&self) -> Result<&(Index, Vec<FileProblem>)> {
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        let (index, problems) = self.store.index()?;
        // A broken file may be the one this branch needs: say so rather than go quiet.
        for p in problems.iter().filter(|_| self.warn) {
            err_line!(
                "warning: {} does not load ({}), so no Session trailer is added for its session; run: git session validate",
                p.path,
                p.to_error()
            );
        }
        Ok(self.index.get_or_init(|| (index, problems)))
    }

    /// The session whose branch is `branch` ([`store::owner`]): `Ok(None)` when none is, or
    /// when several rank alike, with the names of two of them then.
    fn on_branch(&self, branch: &str) -> Result<(Option<Session>, Vec<&str>)> {
        if let Some(s) = self.store.named_after(branch) {
            return Ok((Some(s), Vec::new()));
        }
        let (index, problems) = self.index()?;
        Ok(match self.store.owner_in(branch, index, problems)? {
            Owner::One(s) => (Some(s), Vec::new()),
            Owner::Several(a, b) => (None, vec![a, b]),
            // index() has said that the file does not load, and that nothing is added for it.
            Owner::Unreadable(_) | Owner::None => (None, Vec::new()),
        })
    }

    /// Every session's name, for error messages.
    fn names(&self) -> Result<Vec<String>> {
        self.store.stems()
    }
}

/// The branch commits are being made for: HEAD's branch, or the branch a rebase rewrites.
fn current_branch(repo: &Repo) -> Option<String> {
    match repo.head().ok()? {
        Head::Branch(b) | Head::Unborn(b) => Some(b),
        Head::Detached(_) => repo.in_progress().rebase.flatten(),
    }
}

fn prepare_commit_msg(args: &[OsString]) -> Result<()> {
    let mut trace = super::Trace::new();
    let file = message_file(args)?;
    // A mark left by an earlier commit must never speak for this one.
    let marker = hooks::checked_marker(file);
    let _ = std::fs::remove_file(&marker);
    let ahead = hooks::ahead_file(file);
    let _ = std::fs::remove_file(&ahead);
    let Some(stamped) = stamp(file, args)? else {
        return Ok(());
    };
    trace.mark("message stamped");
    // Without an editor the message is final: checked now, it spares commit-msg's script a start
    // of git-session. Only our script reads the mark, so only our script gets one.
    if std::env::var_os(hooks::SCRIPT_ENV).is_none() || editor_used() {
        return Ok(());
    }
    let known = Known::open(&stamped.repo, false)?;
    if let (Some(k), Some(s)) = (&known, &stamped.session) {
        k.remember(s);
    }
    if let Ok(Verdict::Pass) = judge(
        &stamped.repo,
        known.as_ref(),
        &stamped.message,
        false,
        false,
    ) {
        let git = git_pid();
        leave_for_scripts(&marker, git, &[]);
        trace.mark("message checked");
        if let Some(lines) = known
            .as_ref()
            .and_then(|known| progress_ahead(&stamped, known, file, &mut trace))
        {
            leave_for_scripts(&ahead, git, &lines);
            trace.mark("post-commit lines left");
        }
    }
    Ok(())
}

/// Leaves for the other scripts, beside the message: git's process id, then `lines` (the mark
/// of [`hooks::CHECKED_SUFFIX`] has none; the post-commit lines of [`hooks::AHEAD_SUFFIX`]).
/// Nothing rather than half when it cannot be written: a file not left costs only a start of
/// git-session.
fn leave_for_scripts(path: &Path, git: u32, lines: &[String]) {
    use std::io::Write;
    let mut text = format!("{git}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let written = std::fs::File::create(path).and_then(|mut f| f.write_all(text.as_bytes()));
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
}

/// Git's process id, as the script saw it (a wrapper on PATH may start git-session as its own
/// child), else this process's parent's.
fn git_pid() -> u32 {
    let from_script = std::env::var("GIT_SESSION_GIT_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok());
    #[cfg(unix)]
    return from_script.unwrap_or_else(std::os::unix::process::parent_id);
    #[cfg(not(unix))]
    return from_script.unwrap_or(0);
}

/// What prepare-commit-msg has for the check of the message it leaves.
struct Stamped {
    repo: Repo,
    /// The message as it now stands.
    message: Vec<u8>,
    /// The session it stamped the message with, as loaded for that.
    session: Option<Session>,
}

impl Stamped {
    fn as_is(repo: Repo, message: Vec<u8>) -> Option<Stamped> {
        Some(Stamped {
            repo,
            message,
            session: None,
        })
    }
}

/// Adds the branch's session (and the focus milestone) to the message in `file`. `None` for a
/// message commit-msg must judge for itself (a merge, a rewrite, a detached HEAD).
fn stamp(file: &Path, args: &[OsString]) -> Result<Option<Stamped>> {
    // pre-commit passes the source in its environment rather than as an argument.
    let source = args
        .get(1)
        .map(|s| s.to_string_lossy().into_owned())
        .or_else(|| std::env::var("PRE_COMMIT_COMMIT_MSG_SOURCE").ok());
    if matches!(source.as_deref(), Some("merge" | "squash" | "commit")) {
        return Ok(None);
    }
    let repo = Repo::discover()?;
    if repo.in_progress().rewriting() || rewriting_by_reflog_action() {
        return Ok(None);
    }
    let Ok(Head::Branch(branch) | Head::Unborn(branch)) = repo.head() else {
        return Ok(None);
    };
    let raw = std::fs::read(file).map_err(|e| Error::io("read", file, &e))?;
    if message::is_derived(&raw) {
        return Ok(None);
    }
    let cfg = repo.trailer_config();
    let proper = message::proper(&raw, cfg);
    if !editor_used() && proper.iter().all(|&c| trailer::is_space(c)) {
        // An empty message without an editor: git aborts it, or keeps it empty on request.
        return Ok(None);
    }
    let focus = read_focus(&repo);
    if focus.trim().is_empty() && message::names_a_session(&raw, cfg) {
        // Nothing to add, so no need to learn which session the branch belongs to.
        return Ok(Stamped::as_is(repo, raw));
    }
    let Some(known) = Known::open(&repo, true)? else {
        return Ok(Stamped::as_is(repo, raw));
    };
    let (found, several) = known.on_branch(&branch)?;
    let session = match (&found, &several[..]) {
        (Some(s), _) => s,
        (None, [a, b]) => {
            err_line!(
                "warning: sessions '{a}' and '{b}' both use branch '{branch}', so no Session trailer was added; add one yourself"
            );
            return Ok(Stamped::as_is(repo, raw));
        }
        (None, _) => return Ok(Stamped::as_is(repo, raw)),
    };
    if !session.status.is_open() {
        return Ok(Stamped::as_is(repo, raw));
    }
    let name = session.name.as_str();
    let focus = hooks::focus_of(&focus, name).filter(|m| {
        let known = session.milestone(m).is_some();
        if !known {
            err_line!(
                "warning: the focus '{m}' is not a milestone of session '{name}' any more, so no Milestone trailer was added; run: git session focus --clear"
            );
        }
        known
    });
    let lines = message::stamp_lines(&raw, cfg, name, &session.id_string(), focus.as_deref());
    if lines.is_empty() {
        return Ok(Stamped::as_is(repo, raw));
    }
    let stamped = message::add_trailers(&raw, cfg, &lines);
    match stamped.strip_prefix(&raw[..]) {
        // Git waits for the hook, so nothing else writes the file meanwhile.
        Some(tail) => append_message(file, raw.len(), tail)?,
        None => replace_message(file, &stamped)?,
    }
    Ok(Some(Stamped {
        repo,
        message: stamped,
        session: found,
    }))
}

/// Appends trailers that only extend the message (one given with -m or -F). Replacing the
/// file git has just written would wait for its write-out to the disk, 0.3 ms per commit.
/// A write that fails half-way (a full disk) is undone, as a failed rename would leave the
/// message as it was.
fn append_message(path: &Path, len: usize, tail: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| Error::io("write", path, &e))?;
    f.write_all(tail).map_err(|e| {
        let _ = f.set_len(len as u64);
        Error::io("write", path, &e)
    })
}

/// Replaces the message file through a temporary file and a rename, so git never reads half
/// of it. Unlike session files it is not synced to disk: it is git's scratch file, which git
/// itself writes without syncing, and two syncs would double the hook's cost.
fn replace_message(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".git-session-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io("write in", dir, &e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", path, &e))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path)
        .map_err(|e| Error::io("write", path, &e.error))?;
    Ok(())
}

/// Looks a session up by name or id: the work tree's file, else the file on its branch, where
/// `start` put it. `Ok(None)` when there is none; an error when its file is broken.
fn lookup(repo: &Repo, known: &Known, config: &Config, named: &str) -> Result<Option<Session>> {
    if let Some(s) = known
        .loaded
        .borrow()
        .iter()
        .find(|s| s.name.as_str() == named)
    {
        return Ok(Some(s.clone()));
    }
    if let Ok(name) = Name::session(named)
        && known.store.exists(&name)
    {
        let session = known.store.load(&name)?;
        known.remember(&session);
        return Ok(Some(session));
    }
    // An id, or a session whose file is only on its branch.
    if let Some(e) = known.index()?.0.with_id(named) {
        return known.store.load(&Name::session(e.stem)?).map(Some);
    }
    let Ok(name) = Name::session(named) else {
        return Ok(None);
    };
    super::session_from_branch(repo, config, &name)
}

/// The repository policy; a broken policy file is a warning here, not a blocked commit.
fn config_or_default(store: &Store, hook: &str) -> Config {
    store.config().unwrap_or_else(|e| {
        err_line!("warning: git-session {hook} hook: {e} (using the defaults)");
        Config::default()
    })
}

fn commit_msg(args: &[OsString]) -> Result<i32> {
    let file = message_file(args)?;
    let repo = Repo::discover()?;
    let raw = std::fs::read(file).map_err(|e| Error::io("read", file, &e))?;
    let known = Known::open(&repo, false)?;
    let (findings, strict, cleaned) = match judge(&repo, known.as_ref(), &raw, editor_used(), true)?
    {
        Verdict::Pass => return Ok(0),
        Verdict::NoSubject => {
            err_line!(
                "error: the commit message has trailers but no subject; write a subject line on the first line (commit aborted)"
            );
            return Ok(1);
        }
        Verdict::Findings {
            findings,
            strict,
            cleaned,
        } => (findings, strict, cleaned),
    };
    if !strict {
        for f in &findings {
            err_line!("warning: {f}");
        }
        err_line!(
            "note: the commit goes through because [hooks] strict = false in .sessions/config.toml"
        );
        return Ok(0);
    }
    for f in &findings {
        err_line!("error: {f}");
    }
    match keep_refused(&repo, &cleaned) {
        Ok(path) => err_line!(
            "The commit was refused; your message is kept. Fix it and commit again with:\n  git commit -e -F {}",
            shell_quote(&path.display().to_string())
        ),
        Err(e) => err_line!("The commit was refused, and the message could not be kept: {e}"),
    }
    Ok(1)
}

/// What commit-msg makes of a message.
enum Verdict {
    /// Nothing to say: the commit goes through.
    Pass,
    /// Trailers but no subject, with an editor.
    NoSubject,
    /// What is wrong with its session trailers; `strict` refuses the commit for it.
    Findings {
        findings: Vec<String>,
        strict: bool,
        cleaned: Vec<u8>,
    },
}

/// Checks a message as git will commit it (cleaned up, `editor` saying whether one ran).
/// `warn`: say that the policy file is broken and judge by the defaults; otherwise that is an
/// error, left for commit-msg itself to say. `known`: the work tree's sessions (none in a bare
/// repository), with those already read.
fn judge(
    repo: &Repo,
    known: Option<&Known>,
    raw: &[u8],
    editor: bool,
    warn: bool,
) -> Result<Verdict> {
    let cfg = repo.trailer_config();
    let mode = message::Cleanup::resolve(repo.config_string("commit.cleanup").as_deref(), editor);
    let cleaned = message::cleaned(raw, mode, editor, &cfg.comment);
    if cleaned.is_empty() {
        return Ok(Verdict::Pass);
    }
    if editor && message::only_our_trailers(&cleaned, cfg) {
        return Ok(Verdict::NoSubject);
    }
    let trailers = trailer::parse_history(&cleaned, cfg);
    if !trailers.iter().any(|t| links::KEYS.iter().any(|k| t.is(k))) {
        return Ok(Verdict::Pass);
    }
    let Some(known) = known else {
        return Ok(Verdict::Pass);
    };
    let defaulted;
    let config = if warn {
        defaulted = config_or_default(&known.store, "commit-msg");
        &defaulted
    } else {
        known.config()?
    };
    let branch = current_branch(repo);
    let named = check::named_sessions(&trailers);
    // The branch's session gives unqualified values their meaning only when none is named.
    let mut sessions: Vec<Session> = match &branch {
        Some(b) if named.is_empty() => known.on_branch(b)?.0.into_iter().collect(),
        _ => Vec::new(),
    };
    let mut findings = Vec::new();
    let mut broken = Vec::new();
    for named in named {
        match lookup(repo, known, config, &named) {
            Ok(Some(s)) if !sessions.iter().any(|k| k.name == s.name) => sessions.push(s),
            Ok(_) => {}
            Err(e) => {
                findings.push(format!("Session '{named}' cannot be checked: {e}"));
                broken.push(format!("Session '{named}' names no session"));
            }
        }
    }
    let on_branch: Vec<&Session> = sessions
        .iter()
        .filter(|s| Some(&s.branch) == branch.as_ref())
        .collect();
    let branch_session = match on_branch[..] {
        [s] => Some(s.name.to_string()),
        _ => None,
    };
    let check_with = |names: &[&str]| {
        check::check(
            &trailers,
            &sessions,
            names,
            branch_session.as_deref(),
            branch.as_deref(),
        )
    };
    // Every session's name is only for the error sentences: listed when there are some.
    let mut found = check_with(&[]);
    if !found.is_empty() {
        let names = known.names()?;
        found = check_with(&names.iter().map(String::as_str).collect::<Vec<_>>());
    }
    // A broken file was reported as such already.
    findings.extend(
        found
            .into_iter()
            .filter(|f| !broken.iter().any(|b| f.starts_with(b.as_str()))),
    );
    Ok(if findings.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Findings {
            findings,
            strict: config.strict,
            cleaned,
        }
    })
}

/// Keeps a refused message in the git directory under a name no earlier refusal used.
fn keep_refused(repo: &Repo, message: &[u8]) -> Result<PathBuf> {
    let dir = repo.git_dir().join("git-session").join("refused");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, &e))?;
    let stamp = now()?.format("%Y%m%d-%H%M%S").to_string();
    for n in 1..1000 {
        let file = if n == 1 {
            format!("COMMIT_EDITMSG-{stamp}")
        } else {
            format!("COMMIT_EDITMSG-{stamp}-{n}")
        };
        let path = dir.join(file);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        match store::write_atomic(&path, message, false) {
            Ok(()) => return Ok(path),
            // Another refusal took the name in between: try the next one.
            Err(_) if std::fs::symlink_metadata(&path).is_ok() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::input(format!(
        "{} is full of refused messages; remove the old ones",
        dir.display()
    )))
}

/// Quotes a path for a POSIX shell when it needs it.
fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Most commits post-commit reads for a session's own walk (a few milliseconds' worth); a
/// longer history is answered from the cache.
const WALK_BUDGET: usize = 2_000;

fn post_commit() -> Result<()> {
    let mut trace = super::Trace::new();
    let repo = Repo::discover()?;
    let prefs = super::Prefs::read(&repo);
    if !prefs.progress || repo.in_progress().rebase.is_some() {
        // One line per replayed commit would be noise.
        return Ok(());
    }
    let Some(head) = repo.head_commit() else {
        return Ok(());
    };
    trace.mark("repository opened");
    let cfg = repo.trailer_config();
    let found = repo.with_commit(head, |c| links::from_message(&c.message, cfg))?;
    let Some(known) = Known::open(&repo, false)? else {
        return Ok(());
    };
    let store = &known.store;
    let config = config_or_default(store, "post-commit");
    let targets = reported(&repo, &known, &config, &found)?;
    if targets.is_empty() {
        return Ok(());
    }
    let now = now()?;
    let events_for = |s: &Session| events_for(&found, s);
    // A recent session's own walk is short, and after the first commit it is the memo of the
    // last one plus this commit; a long one's numbers are the memo's, carried past the commits
    // since, else the cache's, which cost the commits new since it was written.
    let memo_file = MemoFile::new(&super::state_dir(&repo));
    let memos = if prefs.cache {
        memo_file.load()
    } else {
        Vec::new()
    };
    trace.mark("memo loaded");
    let mut kept = Vec::new();
    let mut long = Vec::new();
    // One look at the refs for every session and the cache: with thousands of branches it
    // costs milliseconds. HEAD is the commit read above.
    let refs = repo.ref_snapshot_with_head(Some(head))?;
    for s in &targets {
        let memo = memos.iter().find(|m| m.session() == s.name.as_str());
        let recent =
            history::session_commits_after_commit(&repo, s, &config, WALK_BUDGET, memo, &refs)?;
        mark_recent(&mut trace, &recent);
        match recent {
            Recent::Found(after) => {
                if after.coverage.truncated_at.is_empty() {
                    err_line!(
                        "{}",
                        progress_line(s, after.commits(), &config, now, &found)
                    );
                }
                kept.extend(after.memo);
            }
            Recent::Long { memo, .. } => {
                kept.push(memo);
                long.push(s.clone());
            }
        }
    }
    // A long session's line comes from the aggregate its memo carries, else from the cache,
    // brought up to HEAD, which the memo then carries on.
    let from_cache = carry_from_cache(&repo, store, &config, prefs.cache, &long, &mut kept, &refs);
    if prefs.cache && !kept.is_empty() {
        // A memo that cannot be written costs the next commit a walk, nothing more.
        let _ = memo_file.save(&kept);
        trace.mark("memo saved");
    }
    let from_cache = from_cache?;
    for s in &long {
        let carried = kept
            .iter()
            .find(|m| m.session() == s.name.as_str())
            .and_then(|m| m.carried.as_ref());
        let summary = match carried {
            Some(c) => Some(c.aggregate.summary(s)),
            None => from_cache
                .iter()
                .flatten()
                .find(|(listed, _)| listed.name == s.name)
                .map(|(_, summary)| *summary),
        };
        match summary {
            Some(summary) => err_line!(
                "{}",
                hooks::summary_line(s.name.as_str(), &summary, &events_for(s))
            ),
            None => err_line!(
                "{}: run 'git session list' once, and the progress of long sessions shows here after each commit",
                s.name
            ),
        }
    }
    Ok(())
}

/// The sessions the progress line of a commit of `found` is about: those it names, else its
/// branch's; three at most.
fn reported(
    repo: &Repo,
    known: &Known,
    config: &Config,
    found: &links::Links,
) -> Result<Vec<Session>> {
    let mut targets: Vec<Session> = Vec::new();
    let named: Vec<&str> = found.named_sessions().collect();
    if named.is_empty() {
        if let Some(branch) = current_branch(repo) {
            targets.extend(known.on_branch(&branch)?.0);
        }
    } else {
        for n in named {
            if let Some(s) = lookup(repo, known, config, n)?
                && !targets.iter().any(|t| t.name == s.name)
            {
                targets.push(s);
            }
        }
    }
    targets.truncate(3);
    Ok(targets)
}

/// The events of a commit's message that concern `s`: its own and the unqualified ones.
fn events_for<'a>(found: &'a links::Links, s: &Session) -> Vec<&'a links::Event> {
    let id = s.id_string();
    found
        .events
        .iter()
        .filter(|e| {
            e.qualifier()
                .is_none_or(|q| q == s.name.as_str() || q.eq_ignore_ascii_case(&id))
        })
        .collect()
}

/// The post-commit line of a recent session from its `commits`, with the events of the
/// message (`links`) the commit carries.
fn progress_line<'a>(
    s: &Session,
    commits: impl IntoIterator<Item = &'a progress::CommitInfo>,
    config: &Config,
    now: chrono::DateTime<chrono::FixedOffset>,
    links: &links::Links,
) -> String {
    let estimate = progress::Estimate {
        max_gap_secs: config.estimate_max_gap_secs,
        first_commit_secs: config.estimate_first_commit_secs,
    };
    let p = progress::derive(s, commits, estimate, now);
    hooks::progress_line(s.name.as_str(), &p, &events_for(links, s))
}

/// Says in the trace how a session's commits were found.
fn mark_recent(trace: &mut super::Trace, recent: &Recent) {
    trace.mark(match recent {
        Recent::Found(f) if f.stepped => "commits from the memo and HEAD",
        Recent::Found(_) => "commits from a walk",
        Recent::Long { walked: true, .. } => "longer than a walk",
        Recent::Long { memo, .. } if memo.carried.is_some() => {
            "longer than a walk, as the memo says, with its aggregate"
        }
        Recent::Long { .. } => "longer than a walk, as the memo says",
    });
}

/// The lines post-commit prints for the commit git is about to make of `stamped`'s message,
/// which no editor changes, worked out before the commit so that the post-commit script can
/// print them without starting git-session (a third of what the hooks cost a commit). The
/// memo is kept for HEAD as it is, so the next commit steps over this one. `None` when only
/// the commit itself can tell: post-commit then works the lines out as before.
fn progress_ahead(
    stamped: &Stamped,
    known: &Known,
    file: &Path,
    trace: &mut super::Trace,
) -> Option<Vec<String>> {
    let repo = &stamped.repo;
    // The post-commit script looks beside the index for the message file.
    // (`git commit -a` names its index by its full path, and the message by a relative one.)
    let index = std::path::absolute(std::env::var_os("GIT_INDEX_FILE")?).ok()?;
    if file.file_name() != Some(OsStr::new("COMMIT_EDITMSG"))
        || index.parent() != std::path::absolute(file).ok()?.parent()
        || !only_our_scripts()
    {
        return None;
    }
    let prefs = super::Prefs::read(repo);
    if !prefs.progress {
        return Some(Vec::new());
    }
    if !new_commit_on_head(repo) {
        return None;
    }
    let head = repo.head_commit()?;
    let cfg = repo.trailer_config();
    // The message as git will commit it, under any cleanup mode.
    if message::cleaned(
        &stamped.message,
        message::Cleanup::Strip,
        false,
        &cfg.comment,
    ) != stamped.message
    {
        return None;
    }
    let found = links::from_message(&stamped.message, cfg);
    let commit_time = committer_time()?;
    let config = known.config().ok()?;
    let targets = reported(repo, known, config, &found).ok()?;
    if targets.is_empty() {
        return Some(Vec::new());
    }
    // A session whose file is only on its branch is read from the branch's tip, which this
    // commit may move, and change.
    if targets
        .iter()
        .any(|s| Name::session(s.name.as_str()).map_or(true, |name| !known.store.exists(&name)))
    {
        return None;
    }
    // A commit on the base's tip changes what the branch rule counts (as in post-commit's step).
    let branch = current_branch(repo);
    if targets
        .iter()
        .any(|s| s.branch != s.base && Some(&s.base) == branch.as_ref())
    {
        return None;
    }
    let summary = git_session::repo::summary_of(&stamped.message);
    let now = now().ok()?;
    let memo_file = MemoFile::new(&state_dir(repo));
    let memos = if prefs.cache {
        memo_file.load()
    } else {
        Vec::new()
    };
    trace.mark("memo loaded");
    let refs = repo.ref_snapshot_with_head(Some(head)).ok()?;
    // `None` once only the commit can tell; the memos and the cache are kept all the same, so
    // that post-commit, which then works the lines out, does not walk again.
    let mut lines = Some(Vec::new());
    let mut kept = Vec::new();
    let mut long = Vec::new();
    for s in &targets {
        let memo = memos.iter().find(|m| m.session() == s.name.as_str());
        let recent =
            history::session_commits_after_commit(repo, s, config, WALK_BUDGET, memo, &refs)
                .ok()?;
        mark_recent(trace, &recent);
        match recent {
            Recent::Found(before) => {
                // One commit more must leave post-commit's walk within its budget (with one
                // to spare).
                let commits = (lines.is_some() && before.coverage.visited + 1 < WALK_BUDGET)
                    .then(|| {
                        history::with_next_commit(
                            s,
                            config,
                            &before,
                            found.clone(),
                            summary.clone(),
                            commit_time,
                        )
                    })
                    .flatten();
                match (&mut lines, commits) {
                    (Some(lines), Some(next)) => {
                        if before.coverage.truncated_at.is_empty() {
                            let commits = before.commits().iter().chain(&next);
                            lines.push(progress_line(s, commits, config, now, &found));
                        }
                    }
                    _ => lines = None,
                }
                kept.extend(before.memo);
            }
            Recent::Long { memo, walked } => {
                kept.push(memo);
                // Found long by a walk now, the session's history may hold anything new,
                // this very commit among it, made before byte for byte.
                if walked {
                    lines = None;
                } else {
                    long.push(s.clone());
                }
            }
        }
    }
    if lines.is_some() && !long.is_empty() {
        // As post-commit answers for them: from the aggregates the memos carry, else from the
        // cache brought up to HEAD as it is, which the memos then carry on.
        if carry_from_cache(
            repo,
            &known.store,
            config,
            prefs.cache,
            &long,
            &mut kept,
            &refs,
        )
        .is_ok_and(|listed| listed.is_some())
        {
            trace.mark("the cache's aggregates");
        }
        let at = Moment {
            time: commit_time,
            author_time: commit_time,
            rank: i64::MAX,
        };
        let more = long
            .iter()
            .map(|s| {
                let memo = kept.iter().find(|m| m.session() == s.name.as_str())?;
                let moves_branch = s.branch != s.base && Some(&s.branch) == branch.as_ref();
                let next = history::carry_past(
                    s,
                    config,
                    memo.carried.as_ref()?,
                    &found,
                    at,
                    moves_branch,
                )?;
                Some(hooks::summary_line(
                    s.name.as_str(),
                    &next.aggregate.summary(s),
                    &events_for(&found, s),
                ))
            })
            .collect::<Option<Vec<String>>>();
        match (&mut lines, more) {
            (Some(done), Some(more)) => done.extend(more),
            _ => lines = None,
        }
        trace.mark("long sessions' aggregates and this commit");
    }
    if prefs.cache && !kept.is_empty() {
        let _ = memo_file.save(&kept);
    }
    lines
}

/// Gives the memos in `kept` of the `long` sessions that carry no aggregate the one the
/// cache, brought up to `refs`, holds (where it holds one exactly), and keeps the cache. The
/// summaries of those sessions, in their order; `None` when nothing needed the cache, or it
/// could not answer (none kept yet, rewritten history, a shallow clone's edge).
fn carry_from_cache(
    repo: &Repo,
    store: &Store,
    config: &Config,
    use_cache: bool,
    long: &[Session],
    kept: &mut [Memo],
    refs: &[(String, git_session::repo::CommitId)],
) -> Result<Option<Vec<(Session, Summary)>>> {
    let carries = |s: &Session, kept: &[Memo]| {
        kept.iter()
            .any(|m| m.session() == s.name.as_str() && m.carried.is_some())
    };
    let uncarried: Vec<Session> = long.iter().filter(|s| !carries(s, kept)).cloned().collect();
    if uncarried.is_empty() || !use_cache {
        return Ok(None);
    }
    let file = CacheFile::new(&state_dir(repo));
    let Some(mut cache) = file.load() else {
        return Ok(None);
    };
    let Some(listing) = history::cached_listing(repo, &uncarried, config, &mut cache, &file, refs)?
    else {
        return Ok(None);
    };
    keep_cache(store, &file, &mut cache, listing.changed);
    if !listing.coverage.truncated_at.is_empty() {
        return Ok(None);
    }
    for (s, aggregate) in uncarried.iter().zip(&listing.aggregates) {
        if let Some(a) = aggregate
            && let Some(memo) = kept.iter_mut().find(|m| m.session() == s.name.as_str())
        {
            memo.carried = Some(history::carried_from_cache(s, &cache, a));
        }
    }
    Ok(Some(uncarried.into_iter().zip(listing.summaries).collect()))
}

/// Writes the cache when bringing it up to date changed it and no other git-session holds it:
/// otherwise the next hook, or `list`, walks those commits again.
fn keep_cache(store: &Store, file: &CacheFile, cache: &mut Cache, changed: bool) {
    if changed && let Some(_lock) = store::Lock::try_acquire(&store.lock_path()) {
        cache.written_at = chrono::Utc::now().timestamp();
        let _ = file.save(cache);
    }
}

/// Whether the hooks around this script are all ours, as installed, with no hook chained: no
/// other commit-msg hook may change the message, and our post-commit script reads the lines.
fn only_our_scripts() -> bool {
    let Some(script) = std::env::var_os(hooks::SCRIPT_ENV) else {
        return false;
    };
    let Some(dir) = Path::new(&script).parent() else {
        return false;
    };
    ["commit-msg", "post-commit"].iter().all(|name| {
        std::fs::read(dir.join(name)).is_ok_and(|c| c == hooks::script(name).as_bytes())
            && std::fs::symlink_metadata(dir.join(format!("{name}{}", install::CHAINED))).is_err()
    })
}

/// The time git gives the commit: `GIT_COMMITTER_DATE` in git's own form, else the clock's.
/// `None` for a date in another form.
fn committer_time() -> Option<i64> {
    committer_time_of(std::env::var("GIT_COMMITTER_DATE").ok())
}

fn committer_time_of(date: Option<String>) -> Option<i64> {
    match date {
        Some(date) if !date.is_empty() => {
            let (secs, zone) = date.trim().split_once(' ')?;
            let zone_ok = zone.len() == 5
                && zone.starts_with(['+', '-'])
                && zone[1..].bytes().all(|b| b.is_ascii_digit());
            zone_ok.then_some(())?;
            secs.strip_prefix('@').unwrap_or(secs).parse().ok()
        }
        _ => Some(chrono::Utc::now().timestamp()),
    }
}

/// Whether git was started as `git commit` (or an alias of it) without `--amend`: the hooks
/// are not told, and an amend replaces HEAD rather than adding to it. Read from git's command
/// line (Linux only; elsewhere the answer is no).
fn new_commit_on_head(repo: &Repo) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(cmdline) = std::fs::read(format!("/proc/{}/cmdline", git_pid())) else {
            return false;
        };
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let alias = |name: &str| repo.config_string(&format!("alias.{name}"));
        commit_without_amend(args.get(1..).unwrap_or_default(), alias)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = repo;
        false
    }
}

/// `git`'s arguments (after the program) say `commit`, directly or through an alias that is
/// no shell command, and nothing that may be `--amend` (an abbreviation included).
fn commit_without_amend(args: &[String], alias: impl Fn(&str) -> Option<String>) -> bool {
    const WITH_VALUE: [&str; 7] = [
        "-c",
        "-C",
        "--git-dir",
        "--work-tree",
        "--namespace",
        "--config-env",
        "--super-prefix",
    ];
    let mut rest = args.iter().map(String::as_str);
    let command = loop {
        match rest.next() {
            Some(a) if WITH_VALUE.contains(&a) => {
                rest.next();
            }
            Some(a) if a.starts_with('-') => {}
            Some(a) => break a,
            None => return false,
        }
    };
    let mut words: Vec<String> = Vec::new();
    if command != "commit" {
        let Some(expansion) = alias(command) else {
            return false;
        };
        // A shell alias runs git again, as a process of its own; quotes are not worth reading.
        if expansion.starts_with('!') || expansion.contains(['"', '\'', '\\']) {
            return false;
        }
        let mut expansion = expansion.split_whitespace();
        if expansion.next() != Some("commit") {
            return false;
        }
        words.extend(expansion.map(str::to_string));
    }
    words.extend(rest.map(str::to_string));
    !words
        .iter()
        .take_while(|w| *w != "--")
        .any(|w| w.starts_with("--am"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn a_commit_is_told_from_an_amend_by_gits_command_line() {
        let no_alias = |_: &str| None;
        for plain in [
            "commit -m x",
            "-c core.hooksPath=h commit -q --allow-empty -m x",
            "-C dir --no-pager commit -am x",
            "--git-dir .git commit -m x -- --amend",
        ] {
            assert!(commit_without_amend(&args(plain), no_alias), "{plain}");
        }
        for other in [
            "commit --amend -m x",
            "commit --am -m x",
            "-c x=y commit -q --amend",
            "merge topic",
            "cherry-pick abc",
            "-c x=y",
            "ci -m x",
        ] {
            assert!(!commit_without_amend(&args(other), no_alias), "{other}");
        }
        let aliases = |name: &str| {
            match name {
                "ci" => Some("commit -v"),
                "fix" => Some("commit --amend --no-edit"),
                "sh" => Some("!git commit"),
                "quoted" => Some("commit -m 'a b'"),
                "co" => Some("checkout"),
                _ => None,
            }
            .map(str::to_string)
        };
        assert!(commit_without_amend(&args("ci -m x"), aliases));
        for other in ["fix", "sh -m x", "quoted", "co main", "ci --amend"] {
            assert!(!commit_without_amend(&args(other), aliases), "{other}");
        }
    }

    #[test]
    fn the_committer_date_is_read_in_gits_own_form_only() {
        let parse = |date: &str| committer_time_of(Some(date.to_string()));
        assert_eq!(parse("1795560000 +0000"), Some(1_795_560_000));
        assert_eq!(parse("@1795560000 -0130"), Some(1_795_560_000));
        assert_eq!(parse("2026-11-24T10:00:00"), None);
        assert_eq!(parse("1795560000"), None);
        assert_eq!(parse("1795560000 UTC"), None);
        let now = chrono::Utc::now().timestamp();
        for unset in [parse(""), committer_time_of(None)] {
            assert!((unset.expect("the clock") - now).abs() <= 5);
        }
    }
}
