//! `git session status [<name>]`: one session's progress.

use git_session::criteria::{self, Outcome};
use git_session::duration::format_minutes;
use git_session::error::Result;
use git_session::history;
use git_session::progress::{self, BlockerState, CommitInfo, Progress};
use git_session::report::StatusReport;
use git_session::session::Session;

use super::render::{bar, clip, count, date, days_ago, effort, pad, percent, state_mark};
use super::{Ctx, Format, FormatArgs, Global, Style, emit, emit_json, note};

/// Show a session's progress: milestones, tasks, effort, blockers, criteria
///
/// Without a name, shows the session whose branch is checked out. Everything shown is derived
/// from the commits that belong to the session (see docs/trailers.md). Criteria that need a
/// command are left to 'git session check'.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The session (default: the one whose branch is checked out)
    pub name: Option<String>,

    #[command(flatten)]
    pub format: FormatArgs,
}

/// Everything known about one session.
pub struct Gathered {
    pub session: Session,
    pub progress: Progress,
    pub criteria: Vec<Outcome>,
    pub notes: Vec<String>,
    /// The session's commits, newest first.
    pub commits: Vec<CommitInfo>,
}

/// Reads the session's history (exit 3 if a shallow clone hides it) and derives its progress.
pub fn gather(ctx: &Ctx, session: Session) -> Result<Gathered> {
    let (commits, coverage) = history::session_commits(&ctx.repo, &session, &ctx.config)?;
    coverage.require_complete()?;
    let progress = progress::derive(&session, &commits, ctx.estimate(), ctx.now);
    let required = session
        .criteria
        .as_ref()
        .map(|c| c.require_trailers.clone())
        .unwrap_or_default();
    let missing = history::missing_trailers(&ctx.repo, &commits, &required)?;
    let criteria = criteria::evaluate_history(&session, &progress, &missing);
    Ok(Gathered {
        session,
        progress,
        criteria,
        notes: coverage.notes,
        commits,
    })
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    super::check_session_arg(args.name.as_deref())?;
    let ctx = Ctx::open(global)?;
    let session = ctx.session(args.name.as_deref())?;
    let g = gather(&ctx, session)?;
    match args.format.get() {
        Format::Json => emit_json(&StatusReport::new(
            &g.session,
            &g.progress,
            g.criteria.clone(),
            &g.notes,
        )),
        Format::Markdown => emit(&markdown(&g)),
        Format::Text => {
            for n in &g.notes {
                note(&format!("note: {n}"));
            }
            emit(&text(&g, &ctx))
        }
    }
    Ok(0)
}

fn text(g: &Gathered, ctx: &Ctx) -> String {
    let st = &ctx.style;
    let (s, p) = (&g.session, &g.progress);
    let mut out = String::new();
    let title = if s.title != s.name.as_str() {
        format!(" — {}", s.title)
    } else {
        String::new()
    };
    out.push_str(&format!("{}{title}\n", st.bold(s.name.as_str())));
    let created = s.created.with_timezone(ctx.now.offset());
    let since = (ctx.now.date_naive() - created.date_naive()).num_days();
    let mut facts = vec![
        status_word(st, s),
        format!("branch {} → {}", st.cyan(&s.branch), s.base),
        format!("started {} ({})", date(&created), days_ago(since)),
    ];
    if let Some(owner) = &s.owner {
        facts.push(owner.split(" <").next().unwrap_or(owner).to_string());
    }
    out.push_str(&format!("  {}\n", facts.join(" · ")));
    if let Some(reason) = &s.status_reason {
        out.push_str(&format!(
            "  {} {reason}\n",
            st.dim(&format!("{}:", s.status))
        ));
    }
    for o in &s.objectives {
        out.push_str(&format!("  {} {o}\n", st.dim("objective")));
    }
    out.push('\n');

    out.push_str(&format!(
        "  progress  {} {:>4}  {} of {} done\n",
        bar(p.fraction, 20),
        percent(p.fraction),
        p.milestones_done,
        count(p.milestones_total, "milestone", "milestones")
    ));
    if !p.milestones.is_empty() {
        out.push('\n');
        let id_w = p.milestones.iter().map(|m| m.id.len()).max().unwrap_or(0);
        let title_w = p
            .milestones
            .iter()
            .map(|m| m.title.chars().count().min(36))
            .max()
            .unwrap_or(0);
        for m in &p.milestones {
            let tasks = if m.tasks_total > 0 {
                format!("{}/{} tasks", m.tasks_done, m.tasks_total)
            } else {
                String::new()
            };
            let mut tail = vec![
                pad(&tasks, 11),
                pad(&count(m.commits, "commit", "commits"), 11),
            ];
            if let Some(due) = m.due {
                let days = (due - ctx.now.date_naive()).num_days();
                let text = format!("due {}", due.format("%Y-%m-%d"));
                tail.push(if m.overdue {
                    st.red(&format!(
                        "{text} overdue by {}",
                        count(-days as usize, "day", "days")
                    ))
                } else if m.state != progress::State::Done && days >= 0 {
                    format!("{text} ({})", days_ago(-days))
                } else {
                    text
                });
            }
            let title = if m.title != m.id {
                clip(&m.title, 36)
            } else {
                String::new()
            };
            out.push_str(
                format!(
                    "  {} {}  {}  {}\n",
                    state_mark(st, m.state),
                    pad(&m.id, id_w),
                    pad(&title, title_w),
                    tail.join(" ")
                )
                .trim_end(),
            );
            out.push('\n');
            let open_tasks: Vec<&str> = m
                .tasks
                .iter()
                .filter(|t| !t.done)
                .map(|t| t.name.as_str())
                .collect();
            if m.state != progress::State::Done && !open_tasks.is_empty() && m.tasks_done > 0 {
                out.push_str(&format!(
                    "      {} {}\n",
                    st.dim("left:"),
                    open_tasks.join(", ")
                ));
            }
        }
    }
    out.push('\n');
    out.push_str(&effort_text(st, p, ctx));
    if !p.blockers.is_empty() {
        out.push('\n');
        let tag_w = p
            .blockers
            .iter()
            .map(|b| b.tag.len() + 1)
            .max()
            .unwrap_or(0);
        for b in &p.blockers {
            let (mark, where_) = match b.state {
                BlockerState::Open => (st.red("●"), format!("raised in {}", b.raised_in.short())),
                BlockerState::Resolved => (
                    st.green("✓"),
                    format!(
                        "resolved in {}",
                        b.resolved_in.map(|c| c.short()).unwrap_or_default()
                    ),
                ),
            };
            out.push_str(&format!(
                "  {mark} {}  {} {}\n",
                pad(&format!("#{}", b.tag), tag_w),
                b.text,
                st.dim(&format!("({where_})"))
            ));
        }
    }
    if !g.criteria.is_empty() {
        out.push('\n');
        out.push_str(&criteria_text(st, &g.criteria));
    }
    if !p.warnings.is_empty() {
        out.push('\n');
        for w in &p.warnings {
            out.push_str(&format!("  {} {w}\n", st.yellow("warning:")));
        }
    }
    out
}

/// Time and effort: totals, then per milestone and per author where that says more.
fn effort_text(st: &Style, p: &Progress, ctx: &Ctx) -> String {
    let mut out = String::new();
    let mut line = vec![count(p.commits, "commit", "commits")];
    if let Some(last) = &p.last_commit {
        let ago = (ctx.now.timestamp() - last.time).max(0);
        line.push(format!("last {}", ago_text(ago)));
    }
    line.push(format!(
        "{} elapsed",
        count(p.elapsed_days as usize, "day", "days")
    ));
    out.push_str(&format!("  {}\n", line.join(" · ")));
    out.push_str(&format!("  effort  {}\n", effort(&p.effort)));
    let with_effort: Vec<_> = p
        .milestones
        .iter()
        .filter(|m| m.effort.reported_minutes + m.effort.estimated_minutes > 0)
        .collect();
    let show_authors = p.authors.len() > 1;
    if with_effort.is_empty() && !show_authors {
        return out;
    }
    let names_w = with_effort
        .iter()
        .map(|m| m.id.chars().count())
        .chain(
            p.authors
                .iter()
                .filter(|_| show_authors)
                .map(|a| a.name.chars().count().min(24)),
        )
        .max()
        .unwrap_or(0);
    let row = |who: String, reported: u64, estimated: u64, extra: String| {
        format!(
            "    {}  {:>7} {}  {:>7} {}{extra}\n",
            pad(&who, names_w),
            format_minutes(reported),
            st.dim("reported"),
            format!("~{}", format_minutes(estimated)),
            st.dim("estimated"),
        )
    };
    for m in with_effort {
        out.push_str(&row(
            m.id.clone(),
            m.effort.reported_minutes,
            m.effort.estimated_minutes,
            String::new(),
        ));
    }
    if show_authors {
        for a in &p.authors {
            out.push_str(&row(
                clip(&a.name, 24),
                a.reported_minutes,
                a.estimated_minutes,
                format!("  {}", st.dim(&count(a.commits, "commit", "commits"))),
            ));
        }
    }
    out
}

/// "5 minutes ago", "3 hours ago", "2 days ago".
fn ago_text(secs: i64) -> String {
    match secs {
        s if s < 3600 => format!(
            "commit {} ago",
            count((s / 60) as usize, "minute", "minutes")
        ),
        s if s < 86_400 => format!("commit {} ago", count((s / 3600) as usize, "hour", "hours")),
        s => format!("commit {} ago", count((s / 86_400) as usize, "day", "days")),
    }
}

fn status_word(st: &Style, s: &Session) -> String {
    use git_session::session::Status;
    let word = s.status.as_str();
    match s.status {
        Status::Active => st.green(word),
        Status::Paused | Status::Planned => st.yellow(word),
        Status::Done => st.cyan(word),
        Status::Abandoned => st.dim(word),
    }
}

/// Criteria as aligned lines: mark, name, reason.
pub fn criteria_text(st: &Style, outcomes: &[Outcome]) -> String {
    let w = outcomes
        .iter()
        .map(|o| o.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for o in outcomes {
        let mark = if o.met {
            st.green("✓")
        } else {
            st.red("✗")
        };
        out.push_str(&format!("  {mark} {}  {}\n", pad(&o.name, w), o.detail));
    }
    out
}

fn markdown(g: &Gathered) -> String {
    let (s, p) = (&g.session, &g.progress);
    let mut out = format!(
        "### Session `{}` — {} ({})\n\n**Progress:** {} ({} of {} milestones done) · {} · effort {}\n\n",
        s.name,
        md_escape(&s.title),
        s.status,
        percent(p.fraction),
        p.milestones_done,
        p.milestones_total,
        count(p.commits, "commit", "commits"),
        effort(&p.effort)
    );
    if !p.milestones.is_empty() {
        out.push_str("| | Milestone | Tasks | Commits | Due |\n|---|---|---|---|---|\n");
        for m in &p.milestones {
            let mark = match m.state {
                progress::State::Done => "✅",
                progress::State::InProgress => "🟡",
                progress::State::Pending => "⬜",
            };
            let tasks = if m.tasks_total > 0 {
                format!("{}/{}", m.tasks_done, m.tasks_total)
            } else {
                String::new()
            };
            let due = m
                .due
                .map(|d| {
                    let d = d.format("%Y-%m-%d").to_string();
                    if m.overdue {
                        format!("{d} (overdue)")
                    } else {
                        d
                    }
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "| {mark} | `{}` {} | {tasks} | {} | {due} |\n",
                m.id,
                md_escape(&m.title),
                m.commits
            ));
        }
        out.push('\n');
    }
    let open: Vec<_> = p.open_blockers().collect();
    if !open.is_empty() {
        out.push_str("**Open blockers:**\n\n");
        for b in open {
            out.push_str(&format!(
                "- `#{}` {} (raised in {})\n",
                b.tag,
                md_escape(&b.text),
                b.raised_in.short()
            ));
        }
        out.push('\n');
    }
    if !g.criteria.is_empty() {
        out.push_str("**Criteria:**\n\n");
        out.push_str(&criteria_markdown(&g.criteria));
        out.push('\n');
    }
    if p.effort.reported_minutes > 0 {
        out.push_str(&format!(
            "<sub>Effort reported in trailers: {}.</sub>\n",
            format_minutes(p.effort.reported_minutes)
        ));
    }
    out
}

/// Criteria as a markdown checklist.
pub fn criteria_markdown(outcomes: &[Outcome]) -> String {
    outcomes
        .iter()
        .map(|o| {
            format!(
                "- [{}] **{}** — {}\n",
                if o.met { "x" } else { " " },
                md_escape(&o.name),
                md_escape(&o.detail)
            )
        })
        .collect()
}

/// Escapes what would change the meaning of text in a markdown table or list.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|#".contains(c) {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}
