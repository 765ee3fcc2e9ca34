//! `git session log [<name>]`: the session's timeline.

use git_session::duration::format_minutes;
use git_session::error::Result;
use git_session::history;
use git_session::links::Event;
use git_session::report::{LogEntry, local_time};

use super::{Ctx, Global, Style, emit, emit_json};

/// Show the session's timeline: its commits and the events their trailers carry
///
/// Newest first, like git log. Each commit is followed by what its trailers say about the
/// session: milestones advanced or done, tasks done, effort, blockers raised or resolved.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    /// Oldest first
    #[arg(long)]
    pub reverse: bool,

    /// Show at most this many commits
    #[arg(short = 'n', long, value_name = "N")]
    pub max_count: Option<usize>,

    /// Print JSON: an array of {id, time, author, summary, events, …}
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    super::check_session_arg(args.name.as_deref())?;
    let ctx = Ctx::open(global)?;
    let session = ctx.session(args.name.as_deref())?;
    let (mut commits, coverage) = history::session_commits(&ctx.repo, &session, &ctx.config)?;
    coverage.require_complete()?;
    if let Some(n) = args.max_count {
        commits.truncate(n);
    }
    if args.reverse {
        commits.reverse();
    }
    let entries: Vec<LogEntry> = commits.iter().map(|c| LogEntry::new(&session, c)).collect();
    if args.json {
        emit_json(&entries);
        return Ok(0);
    }
    let st = &ctx.style;
    let mut out = String::new();
    for (c, e) in commits.iter().zip(&entries) {
        let when = local_time(c.author_time, c.author_offset)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "{} {} {}  {}\n",
            st.yellow(&c.id.short()),
            st.dim(&when),
            e.author,
            e.summary
        ));
        let events: Vec<String> = e.events.iter().map(|ev| event_text(st, ev)).collect();
        if !events.is_empty() {
            out.push_str(&format!("        {}\n", events.join("  ")));
        }
        for w in &e.warnings {
            out.push_str(&format!("        {} {w}\n", st.yellow("warning:")));
        }
    }
    emit(&out);
    Ok(0)
}

/// One event in words.
pub fn event_text(st: &Style, e: &Event) -> String {
    let q = |s: &Option<String>| s.as_ref().map(|s| format!("{s}/")).unwrap_or_default();
    match e {
        Event::Milestone { session, milestone } => {
            format!("{} {}{milestone}", st.yellow("◐"), q(session))
        }
        Event::MilestoneDone { session, milestone } => {
            format!("{} {}{milestone} done", st.green("✓"), q(session))
        }
        Event::TaskDone {
            session,
            milestone,
            task,
        } => format!("{} task {}{milestone}/{task}", st.green("✓"), q(session)),
        Event::Effort { minutes } => format!("effort {}", format_minutes(*minutes)),
        Event::Blocker { tag, text } => format!("{} blocker #{tag}: {text}", st.red("●")),
        Event::BlockerResolved { tag } => format!("{} blocker #{tag} resolved", st.green("✓")),
    }
}
