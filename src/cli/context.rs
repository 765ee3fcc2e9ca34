//! `git session context [<name>]`: a hand-off summary in markdown.

use git_session::context::{self, Limits};
use git_session::error::Result;

use super::{Ctx, Global, emit, emit_json, note};

/// Print a hand-off summary of a session, in markdown
///
/// For whoever picks the session up next — a colleague, or a coding assistant given the text
/// as context: title and objectives, milestones done and left (with their tasks), open blockers
/// with where they were raised, effort so far, the last commits with their events, and what the
/// criteria still need (criteria commands are named, not run). Lists are capped so the text
/// stays short enough to paste.
///
/// Example:
///   git session context search > handoff.md
///   git session context --json | jq .milestones_left
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    /// How many recent commits to show
    #[arg(short = 'n', long, value_name = "N", default_value_t = 10)]
    pub commits: usize,

    /// Print JSON (the same content, with full commit ids and RFC 3339 times)
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let ctx = Ctx::open(global)?;
    let session = ctx.session(args.name.as_deref())?;
    let g = super::status::gather(&ctx, session)?;
    let limits = Limits {
        commits: args.commits,
        ..Limits::default()
    };
    let handoff = context::build(
        &g.session,
        &g.progress,
        &g.commits,
        &g.criteria,
        ctx.now,
        limits,
    );
    if args.json {
        emit_json(&handoff);
    } else {
        for n in &g.notes {
            note(&format!("note: {n}"));
        }
        emit(&context::markdown(&handoff, ctx.now));
    }
    Ok(0)
}
