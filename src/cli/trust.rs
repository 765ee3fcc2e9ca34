//! `git session trust [<name>]`: approve a session's criteria commands as they are now.

use git_session::criteria::timeout_text;
use git_session::error::Result;
use git_session::trust::{self, Standing};

use super::render::pad;
use super::{Ctx, Global, emit, state_dir};

/// Approve the session's criteria commands, so 'git session check' may run them
///
/// Criteria commands ([[criteria.commands]] in the session file) are code from the repository.
/// 'git session check' runs them only with --run-commands or once they are approved here. The
/// approval covers each command exactly — its name, run line and timeout — and is kept in the
/// git directory (.git/git-session/trust.json), never in the repository, so a commit cannot
/// approve anything. Edit a command and it needs approval again. The approval covers the command
/// line, not the scripts it calls: read those too.
///
/// Read the commands first ('git session check' lists those it would run), then:
///   git session trust search
///   git session trust search --revoke
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    /// Forget the session's approvals instead
    #[arg(long)]
    pub revoke: bool,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    super::check_session_arg(args.name.as_deref())?;
    let ctx = Ctx::open(global)?;
    let session = ctx.session(args.name.as_deref())?;
    let name = session.name.to_string();
    let dir = state_dir(&ctx.repo);
    let _lock = ctx.store.lock()?;
    let mut ledger = trust::load(&dir)?;
    if args.revoke {
        let had = ledger.revoke(&name);
        if had {
            trust::save(&dir, &ledger)?;
            emit(&format!(
                "Revoked the approval of session '{name}'s criteria commands.\n"
            ));
        } else {
            emit(&format!(
                "Session '{name}' had no approved commands; nothing changed.\n"
            ));
        }
        return Ok(0);
    }
    let cmds = session
        .criteria
        .as_ref()
        .map(|c| c.commands.clone())
        .unwrap_or_default();
    if cmds.is_empty() {
        emit(&format!(
            "Session '{name}' has no criteria commands; there is nothing to approve.\n"
        ));
        return Ok(0);
    }
    let before: Vec<Standing> = cmds.iter().map(|c| ledger.standing(&name, c)).collect();
    ledger.approve(&name, &cmds);
    trust::save(&dir, &ledger)?;
    let w = cmds
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "Approved {} of session '{name}' for git session check:\n",
        if cmds.len() == 1 {
            "the criteria command".to_string()
        } else {
            format!("{} criteria commands", cmds.len())
        }
    );
    for (c, was) in cmds.iter().zip(before) {
        let change = match was {
            Standing::Trusted => "",
            Standing::New => "  (new)",
            Standing::Changed => "  (changed)",
        };
        out.push_str(&format!(
            "  {}  {}  (timeout {}){change}\n",
            pad(&c.name, w),
            git_session::name::one_line(&c.run),
            timeout_text(c)
        ));
    }
    out.push_str(&format!(
        "Recorded in {}; an edit to any of them needs approval again.\n",
        trust::path(&dir).display()
    ));
    emit(&out);
    Ok(0)
}
