//! `git session focus [<milestone>] [--clear]`: the milestone the hooks add to your commits.

use std::path::PathBuf;

use git_session::error::{Error, Result};
use git_session::hooks;
use git_session::name::Name;
use git_session::repo::Repo;
use git_session::store;

use super::{Ctx, Global, emit, note};

/// Set the milestone your next commits advance: the hooks add 'Milestone: <id>' to them
///
/// The focus belongs to the session whose branch is checked out. It is local state of this
/// work tree (kept in its git directory, never committed), one focus per session. On the
/// session's branch, the prepare-commit-msg hook adds 'Milestone: <id>' to each new commit
/// unless the message already names a milestone of the session. Without arguments, shows the
/// focus.
///
/// Examples:
///   git session focus parser     commits now advance milestone parser
///   git session focus            show the focus
///   git session focus --clear    stop adding a Milestone trailer
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The milestone id, one of the current session's milestones
    #[arg(conflicts_with = "clear")]
    pub milestone: Option<String>,

    /// Remove the focus: commits get no Milestone trailer from the hooks
    #[arg(long)]
    pub clear: bool,
}

/// The focus file of the work tree `repo` is opened in.
pub fn focus_path(repo: &Repo) -> PathBuf {
    repo.git_dir().join("git-session").join("focus")
}

/// The focus file's text; empty when there is none.
pub fn read_focus(repo: &Repo) -> String {
    std::fs::read_to_string(focus_path(repo)).unwrap_or_default()
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    // Checked before anything is read.
    if let Some(m) = &args.milestone {
        Name::parse(m, "milestone id")?;
    }
    let ctx = Ctx::open(global)?;
    let session = ctx.session(None)?;
    let name = session.name.as_str();
    let text = read_focus(&ctx.repo);
    let valid = session.milestone_ids().join(", ");
    let milestone = match (&args.milestone, args.clear) {
        (None, false) => {
            match hooks::focus_of(&text, name) {
                Some(m) => emit(&format!("{name}: focus on {m}\n")),
                None => emit(&format!(
                    "{name}: no focus (git session focus <milestone> sets one; milestones: {valid})\n"
                )),
            }
            return Ok(0);
        }
        (_, true) => None,
        (Some(m), false) => {
            let id = Name::parse(m, "milestone id")?;
            if session.milestone(id.as_str()).is_none() {
                return Err(Error::input(if valid.is_empty() {
                    format!(
                        "session '{name}' has no milestones, so '{id}' cannot be the focus; add milestones to {} first",
                        store::Store::display_path(name)
                    )
                } else {
                    format!(
                        "'{id}' is not a milestone of session '{name}'; valid milestones: {valid}"
                    )
                }));
            }
            Some(id)
        }
    };
    let path = focus_path(&ctx.repo);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, &e))?;
    }
    let updated = hooks::set_focus(&text, name, milestone.as_ref().map(Name::as_str));
    store::write_atomic(&path, updated.as_bytes(), true)?;
    match milestone {
        Some(m) => {
            emit(&format!(
                "Focus: {m} ({name}). New commits on {} get 'Milestone: {m}'.\n",
                session.branch
            ));
            if !super::hooks::stamping_active(&ctx.repo) {
                note(
                    "note: the hooks are not installed here, so nothing adds the trailer yet; run: git session hooks install",
                );
            }
        }
        None => emit(&format!(
            "Focus cleared ({name}): the hooks add no Milestone trailer.\n"
        )),
    }
    Ok(0)
}
