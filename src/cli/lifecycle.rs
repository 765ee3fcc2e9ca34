//! `git session pause|resume|finish|abandon [<name>]`: change a session's status in its file,
//! keeping the rest of the file as the user wrote it.

use std::path::PathBuf;

use git_session::error::{Error, Result};
use git_session::lifecycle::{self, Action};
use git_session::name::Name;
use git_session::session::{self, Session};
use git_session::store::{self, Store};

use super::{Ctx, Global, emit, note};

/// Pause a session: set its status to paused
///
/// Edits only the status line of .sessions/<name>.toml (and adds a status_reason line with
/// --reason), then stages the file so the change goes into your next commit. Resume it with
/// 'git session resume'.
///
/// Example:
///   git session pause search --reason "waiting for the new index"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct PauseArgs {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    /// Why it is paused, one line, kept as status_reason in the file
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    #[command(flatten)]
    pub stage: StageArgs,
}

/// Resume a paused (or planned) session: set its status to active
///
/// Edits only the status line (and removes a status_reason line), then stages the file.
///
/// Example:
///   git session resume search
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ResumeArgs {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    #[command(flatten)]
    pub stage: StageArgs,
}

/// Finish a session: set its status to done, once its criteria are met
///
/// Refuses (exit 1) while a criterion that needs no command is unmet — milestones not done,
/// open blockers, commits without required trailers — and names what is left. Criteria
/// commands are not run here: 'git session check' runs them. --force marks the session done
/// anyway.
///
/// Example:
///   git session finish search
///   git session finish search --force
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct FinishArgs {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    /// Mark it done even though criteria are unmet
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub stage: StageArgs,
}

/// Abandon a session: set its status to abandoned
///
/// The session's history stays as it is; reports show it as abandoned, with the reason.
///
/// Example:
///   git session abandon search --reason "superseded by the vendor's search"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct AbandonArgs {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    /// Why it is abandoned, one line, kept as status_reason in the file
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    #[command(flatten)]
    pub stage: StageArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StageArgs {
    /// Leave the edited file unstaged
    #[arg(long)]
    pub no_stage: bool,
}

pub fn pause(global: &Global, a: PauseArgs) -> Result<i32> {
    apply(
        global,
        a.name,
        Action::Pause,
        a.reason.as_deref(),
        false,
        a.stage,
    )
}

pub fn resume(global: &Global, a: ResumeArgs) -> Result<i32> {
    apply(global, a.name, Action::Resume, None, false, a.stage)
}

pub fn finish(global: &Global, a: FinishArgs) -> Result<i32> {
    apply(global, a.name, Action::Finish, None, a.force, a.stage)
}

pub fn abandon(global: &Global, a: AbandonArgs) -> Result<i32> {
    apply(
        global,
        a.name,
        Action::Abandon,
        a.reason.as_deref(),
        false,
        a.stage,
    )
}

fn apply(
    global: &Global,
    name: Option<String>,
    action: Action,
    reason: Option<&str>,
    force: bool,
    stage: StageArgs,
) -> Result<i32> {
    if let Some(why) = reason.and_then(session::reason_problem) {
        return Err(Error::input(format!("--reason {why}")));
    }
    let ctx = Ctx::open(global)?;
    let session = work_tree_session(&ctx, name.as_deref())?;
    let name = session.name.clone();
    let to = lifecycle::transition(name.as_str(), session.status, action)?;
    if action == Action::Finish {
        judge_finish(&ctx, &session, force)?;
    }

    let path = ctx.store.path(&name);
    let rel = PathBuf::from(store::DIR).join(format!("{name}.toml"));
    let shown = Store::display_path(name.as_str());
    // Whether the user has edits of their own in the file, which are theirs to stage.
    let theirs = ctx.repo.has_unstaged_changes(&rel)?;
    {
        let _lock = ctx.store.lock()?;
        // Read again under the lock: another writer may have changed it since.
        let text = ctx.store.read_text(&path)?;
        let now = session::parse(&text, Some(name.as_str()))
            .map_err(|f| session::findings_error(&shown, &f))?;
        if now.status != session.status {
            return Err(Error::input(format!(
                "{shown} changed while this ran (status is now {}); run the command again",
                now.status
            )));
        }
        let edited = lifecycle::edit_status(&text, to, reason)?;
        store::write_atomic(&path, edited.as_bytes(), true)?;
    }

    let staged = if stage.no_stage {
        "not staged (--no-stage)".to_string()
    } else if theirs {
        format!("not staged, because it has changes of yours; stage it with: git add {shown}")
    } else {
        ctx.repo.stage(&rel)?;
        "staged; commit it to share the change".to_string()
    };
    emit(&format!(
        "Session '{name}' is {} ({} → {to}); {shown} {staged}.\n",
        action.participle(),
        session.status
    ));
    Ok(0)
}

/// The session whose file is in this work tree: the lifecycle edits that file, not a copy on a
/// branch.
fn work_tree_session(ctx: &Ctx, name: Option<&str>) -> Result<Session> {
    let Some(n) = name else {
        return ctx.session(None);
    };
    let name = Name::session(n)?;
    if !ctx.store.exists(&name) {
        let branch = format!("{}{name}", ctx.config.branch_prefix);
        let path = Store::display_path(name.as_str());
        let on_branch = ctx.repo.branch_commit(&branch).map(|tip| {
            ctx.repo
                .file_at(tip, &path, git_session::store::MAX_FILE_BYTES as usize)
        });
        if on_branch.is_some_and(|f| !matches!(f, git_session::repo::TreeFile::Absent)) {
            return Err(Error::input(format!(
                "{path} is not in this work tree but on branch '{branch}'; switch to it (git switch {branch}) and run this again"
            )));
        }
    }
    ctx.store.load(&name)
}

/// Refuses to finish while a criterion judged from history is unmet, unless forced.
fn judge_finish(ctx: &Ctx, session: &Session, force: bool) -> Result<()> {
    let unmet = match super::status::gather(ctx, session.clone()) {
        Ok(g) => g
            .criteria
            .iter()
            .filter(|o| !o.met)
            .map(|o| format!("{} ({})", o.name, o.detail))
            .collect::<Vec<_>>(),
        // Forced, a history that cannot be read does not stand in the way.
        Err(e) if force => {
            note(&format!(
                "note: --force: the criteria were not judged ({e})"
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if !unmet.is_empty() {
        if force {
            note(&format!(
                "note: --force: marked done with unmet criteria: {}",
                unmet.join("; ")
            ));
        } else {
            return Err(Error::findings(format!(
                "session '{}' is not finished: {}; finish that, or pass --force to mark it done anyway",
                session.name,
                unmet.join("; ")
            )));
        }
    }
    let commands: Vec<&str> = session
        .criteria
        .iter()
        .flat_map(|c| &c.commands)
        .map(|c| c.name.as_str())
        .collect();
    if !commands.is_empty() {
        note(&format!(
            "note: finish does not run criteria commands ({}); git session check runs them",
            commands.join(", ")
        ));
    }
    Ok(())
}
