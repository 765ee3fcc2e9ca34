//! `git session start <name>`: write `.sessions/<name>.toml`, create and switch to the session
//! branch, and stage the file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{SubsecRound, Utc};
use uuid::Uuid;

use git_session::error::{Error, Result};
use git_session::name::Name;
use git_session::repo::Head;
use git_session::session::{self, Criteria, Milestone, MilestoneCriterion, Session, Status};
use git_session::store::{self, Owner, Store};

use super::{Ctx, Global, emit, note};

/// Start a session: write .sessions/<name>.toml and switch to its branch
///
/// Writes the session file (schema 1, a new UUID v7 id, created now), creates the branch
/// session/<name> at HEAD and switches to it (or keeps the current branch with --current), and
/// stages the file so it goes into your next commit. Without --title, --objective or
/// --milestone, and on a terminal, it opens your editor on a template instead, as git commit
/// does.
///
/// Example:
///   git session start search --title "Search rewrite" \
///       --milestone "parser:Query parser" --milestone ranking
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The session's name: lowercase letters, digits and hyphens
    pub name: String,

    /// A one-line title (defaults to the name)
    #[arg(long)]
    pub title: Option<String>,

    /// An objective; repeat for several
    #[arg(long = "objective", value_name = "TEXT")]
    pub objectives: Vec<String>,

    /// A milestone as ID or ID:TITLE; repeat for several, in order
    #[arg(long = "milestone", value_name = "ID[:TITLE]")]
    pub milestones: Vec<String>,

    /// The branch the session will merge into (default: the branch you are on)
    #[arg(long)]
    pub base: Option<String>,

    /// The session's branch (default: session/<name>, prefix set in .sessions/config.toml)
    #[arg(long, conflicts_with = "current")]
    pub branch: Option<String>,

    /// Use the current branch as the session's branch instead of creating one
    #[arg(long)]
    pub current: bool,

    /// Open the editor on the session file before writing it
    #[arg(long, short = 'e', conflicts_with = "no_edit")]
    pub edit: bool,

    /// Never open the editor, even on a terminal
    #[arg(long)]
    pub no_edit: bool,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    // Names are checked before anything is touched.
    let name = Name::session(&args.name)?;
    let milestones = parse_milestones(&args.milestones)?;
    if let Some(b) = &args.branch
        && let Some(why) = session::branch_name_problem(b)
    {
        return Err(Error::input(format!(
            "--branch '{b}' is not a valid branch name: {why}"
        )));
    }
    if let Some(b) = &args.base
        && let Some(why) = session::branch_name_problem(b)
    {
        return Err(Error::input(format!(
            "--base '{b}' is not a valid branch name: {why}"
        )));
    }

    let ctx = Ctx::open(global)?;
    let head = ctx.repo.head()?;
    // After reading HEAD: a concurrent start of the same name writes its file before it
    // switches HEAD, so a HEAD already moved by it always meets its file here.
    if ctx.store.exists(&name) {
        return Err(Error::input(format!(
            "session '{name}' already exists ({}); choose another name",
            Store::display_path(name.as_str())
        )));
    }
    let current_branch = match &head {
        Head::Branch(b) | Head::Unborn(b) => Some(b.clone()),
        Head::Detached(_) => None,
    };
    let branch = if args.current {
        current_branch.clone().ok_or_else(|| {
            Error::input("HEAD is detached, so there is no current branch to use; drop --current or switch to a branch")
        })?
    } else {
        args.branch
            .clone()
            .unwrap_or_else(|| format!("{}{name}", ctx.config.branch_prefix))
    };
    let base = match (&args.base, args.current) {
        (Some(b), _) => b.clone(),
        (None, false) => current_branch.clone().ok_or_else(|| {
            Error::input(
                "HEAD is detached; say which branch the session merges into with --base <branch>",
            )
        })?,
        (None, true) => default_base(&ctx, &branch).ok_or_else(|| {
            Error::input(
                "with --current, say which branch the session merges into with --base <branch>",
            )
        })?,
    };
    if base == branch {
        return Err(Error::input(format!(
            "the session's branch and base are both '{branch}'; start it from the branch it will merge into, or pass --base"
        )));
    }
    // A base that names no branch here is most likely a typo, which would leave the branch
    // rule counting nothing; an unborn current branch is the one exception.
    if args.base.is_some()
        && Some(&base) != current_branch.as_ref()
        && ctx.repo.branch_commit(&base).is_none()
    {
        return Err(Error::input(base_refusal(&ctx, &base)));
    }
    if !args.current && ctx.repo.local_branch_exists(&branch) {
        return Err(Error::input(format!(
            "branch '{branch}' already exists; switch to it and use --current, or pick another with --branch"
        )));
    }

    let now = ctx.now.with_timezone(&Utc).fixed_offset().trunc_subsecs(0);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, now.timestamp().max(0) as u64, 0);
    let mut session = Session {
        id: Uuid::new_v7(ts),
        title: args.title.clone().unwrap_or_else(|| name.to_string()),
        name: name.clone(),
        branch: branch.clone(),
        base: base.clone(),
        created: now,
        owner: owner(&ctx),
        status: Status::Active,
        status_reason: None,
        objectives: args.objectives.clone(),
        milestones,
        criteria: Some(Criteria {
            milestones: MilestoneCriterion::All,
            no_open_blockers: true,
            ..Default::default()
        }),
    };

    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let no_content =
        args.title.is_none() && args.objectives.is_empty() && args.milestones.is_empty();
    let edited = if args.edit || (interactive && no_content && !args.no_edit) {
        let text = edit_session(&ctx, &session)?;
        session = session::parse(&text, Some(name.as_str()))
            .map_err(|f| session::findings_error(&Store::display_path(name.as_str()), &f))?;
        Some(text)
    } else {
        None
    };

    ctx.store.ensure_dir()?;
    let path = match &edited {
        None => ctx.store.create(&session)?,
        Some(text) => {
            let path = ctx.store.path(&name);
            let _lock = ctx.store.lock()?;
            if ctx.store.exists(&name) {
                return Err(Error::input(format!("session '{name}' already exists")));
            }
            store::write_atomic(&path, text.as_bytes(), false)?;
            path
        }
    };
    if let Err(e) = switch_and_stage(&ctx, &head, &session, args.current) {
        // Leave things as they were: the file is ours, written a moment ago.
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    let shown = Store::display_path(name.as_str());
    let where_ = if args.current {
        format!("on the current branch '{branch}'")
    } else {
        format!("on new branch '{branch}'")
    };
    emit(&format!(
        "Started session '{name}' {where_} (base '{base}'); {shown} is staged — commit it with your first change.\n"
    ));
    if args.current {
        warn_shared_branch(&ctx, &name, &branch);
    }
    Ok(0)
}

/// Says where plain commits on a branch now shared with other sessions go ([`store::owner`]),
/// since `--current` on another session's branch is allowed.
fn warn_shared_branch(ctx: &Ctx, name: &Name, branch: &str) {
    let Ok((index, problems)) = ctx.store.index() else {
        return;
    };
    let claims = index.on_branch(branch);
    let claimants: Vec<(&str, bool)> = claims.iter().map(|e| (e.stem, e.open)).collect();
    let others: Vec<&str> = claims
        .iter()
        .map(|e| e.stem)
        .filter(|&c| c != name.as_str())
        .collect();
    if others.is_empty() {
        return;
    }
    let open_other = claims
        .iter()
        .find(|e| e.open && e.stem != name.as_str())
        .map(|e| e.stem);
    let who = match others[..] {
        [one] => format!("session '{one}' already uses"),
        _ => format!("sessions '{}' already use", others.join("', '")),
    };
    let (goes_to, link) = match store::owner(branch, &claimants, &problems) {
        Owner::One(o) => {
            let why = if store::named_after(branch).is_some_and(|n| n.as_str() == o) {
                "which the branch is named after"
            } else {
                "the only open one"
            };
            // The trailer that reaches an open session the plain commits do not go to.
            let other = if o == name.as_str() {
                open_other
            } else {
                Some(name.as_str())
            };
            (format!("go to session '{o}', {why}"), other)
        }
        _ => (
            "get no Session trailer from the hooks".to_string(),
            Some(name.as_str()),
        ),
    };
    let hint = link
        .map(|l| format!(" (a 'Session: {l}' trailer links one to '{l}')"))
        .unwrap_or_default();
    note(&format!(
        "warning: {who} branch '{branch}'; commits on it whose message names no session {goes_to}{hint}"
    ));
}

fn switch_and_stage(ctx: &Ctx, head: &Head, session: &Session, current: bool) -> Result<()> {
    if !current {
        match head {
            Head::Unborn(_) => {}
            Head::Branch(_) | Head::Detached(_) => {
                let at = ctx
                    .repo
                    .head_commit()
                    .ok_or_else(|| Error::unanswerable("cannot read the commit HEAD points at"))?;
                ctx.repo.create_branch(&session.branch, at)?;
            }
        }
        ctx.repo.set_head_branch(&session.branch)?;
    }
    let rel = PathBuf::from(store::DIR).join(format!("{}.toml", session.name));
    ctx.repo.stage(&rel)
}

/// `ID` or `ID:TITLE`, ids checked and unique.
fn parse_milestones(specs: &[String]) -> Result<Vec<Milestone>> {
    let mut out: Vec<Milestone> = Vec::new();
    for spec in specs {
        let (id, title) = match spec.split_once(':') {
            Some((id, title)) => (id.trim(), Some(title.trim())),
            None => (spec.trim(), None),
        };
        let id = Name::parse(id, "milestone id")?;
        if out.iter().any(|m| m.id == id) {
            return Err(Error::input(format!("milestone '{id}' is given twice")));
        }
        out.push(Milestone {
            title: title
                .filter(|t| !t.is_empty())
                .map_or_else(|| id.to_string(), str::to_string),
            id,
            due: None,
            depends_on: Vec::new(),
            tasks: Vec::new(),
        });
    }
    Ok(out)
}

/// The branch a `--current` session most likely merges into: the remote's default branch, else
/// `main` or `master` if one exists.
fn default_base(ctx: &Ctx, branch: &str) -> Option<String> {
    let candidates = ["main", "master", "trunk", "develop"];
    candidates
        .iter()
        .find(|c| **c != branch && ctx.repo.branch_commit(c).is_some())
        .map(|c| c.to_string())
}

/// `user.name <user.email>` from git config, as commits are signed.
fn owner(ctx: &Ctx) -> Option<String> {
    let name = ctx.repo.config_string("user.name")?;
    match ctx.repo.config_string("user.email") {
        Some(email) => Some(format!("{name} <{email}>")),
        None => Some(name),
    }
}

/// Why `--base` is refused: the base is a branch, named as such (`develop`, not
/// `origin/develop`, `refs/heads/develop` or a commit).
fn base_refusal(ctx: &Ctx, base: &str) -> String {
    let remote_branch = base.split_once('/').filter(|(remote, rest)| {
        ctx.repo.remote_names().iter().any(|r| r == remote)
            && ctx.repo.branch_commit(rest).is_some()
    });
    let local = base
        .strip_prefix("refs/heads/")
        .or_else(|| base.strip_prefix("heads/"))
        .filter(|b| ctx.repo.branch_commit(b).is_some());
    match (remote_branch, local) {
        (Some((_, name)), _) | (None, Some(name)) => format!(
            "--base takes the name of the branch the session merges into: --base {name}, not '{base}'"
        ),
        (None, None) if ctx.repo.resolve(base).is_ok() => format!(
            "--base '{base}' names a commit, not a branch; name the branch the session will merge into"
        ),
        (None, None) => format!(
            "--base '{base}' is not a branch here (neither local nor remote-tracking); name the branch the session will merge into"
        ),
    }
}

const HELP_PREFIX: &str = "##";

/// Lines above the session text in a re-opened editor: the error, a blank help line, three
/// lines of help and a blank line.
const REOPENED_HEADER_LINES: usize = 6;

/// Opens the editor on the session file until it parses, or the user empties it.
fn edit_session(ctx: &Ctx, session: &Session) -> Result<String> {
    let editor = git_editor()?;
    let file = ctx.repo.git_dir().join("SESSION_EDITMSG.toml");
    let mut body = template_body(session);
    let mut error: Option<String> = None;
    loop {
        let mut text = String::new();
        if let Some(e) = &error {
            text.push_str(&format!("{HELP_PREFIX} error: {e}\n{HELP_PREFIX}\n"));
        }
        text.push_str(&format!(
            "{HELP_PREFIX} Describe session '{}', then save and close the editor.\n\
             {HELP_PREFIX} Lines starting with {HELP_PREFIX} are removed; an empty file aborts.\n\
             {HELP_PREFIX} Keys are described in docs/session-file.md; ids use a-z, 0-9 and '-'.\n\n",
            session.name
        ));
        text.push_str(&body);
        std::fs::write(&file, &text).map_err(|e| Error::io("write", &file, &e))?;
        run_editor(&editor, &file)?;
        let edited = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, &e))?;
        let kept: String = edited
            .lines()
            .filter(|l| !l.starts_with(HELP_PREFIX))
            .map(|l| format!("{l}\n"))
            .collect();
        let kept = kept.trim_start_matches('\n').to_string();
        if kept.trim().is_empty() {
            let _ = std::fs::remove_file(&file);
            return Err(Error::input("aborting: the session file was left empty"));
        }
        match session::parse(&kept, Some(session.name.as_str())) {
            Ok(_) => {
                let _ = std::fs::remove_file(&file);
                return Ok(kept);
            }
            Err(mut findings) => {
                // Positions as the re-opened file shows them, below the error and help lines.
                for f in &mut findings {
                    f.line += REOPENED_HEADER_LINES;
                }
                let err = session::findings_error(&file.display().to_string(), &findings);
                note(&format!("error: {err}"));
                error = Some(err.message);
                body = kept;
            }
        }
    }
}

fn template_body(session: &Session) -> String {
    let mut s = session.clone();
    if s.milestones.is_empty() {
        s.milestones.push(Milestone {
            id: Name::parse("first-milestone", "").expect("a valid id"),
            title: "What is done first".to_string(),
            due: None,
            depends_on: Vec::new(),
            tasks: Vec::new(),
        });
    }
    let mut text = session::render(&s);
    if s.objectives.is_empty() {
        text = text.replace(
            "objectives = []",
            "objectives = [\n    # \"what this session must achieve\",\n]",
        );
    }
    text
}

/// The editor git would use (`GIT_EDITOR`, `core.editor`, `VISUAL`, `EDITOR`, then `vi`).
fn git_editor() -> Result<String> {
    let out = Command::new("git")
        .args(["var", "GIT_EDITOR"])
        .output()
        .map_err(|e| Error::input(format!("cannot run git to find your editor: {e}")))?;
    let editor = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || editor.is_empty() {
        return Err(Error::input(
            "no editor is configured; set GIT_EDITOR or core.editor, or pass --title/--milestone",
        ));
    }
    Ok(editor)
}

fn run_editor(editor: &str, file: &Path) -> Result<()> {
    if editor == ":" {
        return Ok(());
    }
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(editor)
        .arg(file)
        .status()
        .map_err(|e| Error::input(format!("cannot start the editor '{editor}': {e}")))?;
    if !status.success() {
        return Err(Error::input(format!(
            "the editor '{editor}' failed; the session was not started"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestone_specs() {
        let ms = parse_milestones(&["parser:Query parser".into(), "ranking".into()]).unwrap();
        assert_eq!(ms[0].id.as_str(), "parser");
        assert_eq!(ms[0].title, "Query parser");
        assert_eq!(ms[1].title, "ranking");
        assert!(parse_milestones(&["Bad:x".into()]).is_err());
        assert!(parse_milestones(&["a".into(), "a:again".into()]).is_err());
    }

    #[test]
    fn template_parses_as_is() {
        let s = Session {
            id: Uuid::nil(),
            name: Name::session("x").unwrap(),
            title: "x".into(),
            branch: "session/x".into(),
            base: "main".into(),
            created: chrono::DateTime::parse_from_rfc3339("2026-11-24T09:30:00Z").unwrap(),
            owner: None,
            status: Status::Active,
            status_reason: None,
            objectives: vec![],
            milestones: vec![],
            criteria: None,
        };
        let parsed = session::parse(&template_body(&s), Some("x")).unwrap();
        assert_eq!(parsed.milestones[0].id.as_str(), "first-milestone");
    }
}
