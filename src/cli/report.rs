//! `git session report`: every session at a glance; `--html FILE` writes a page with charts.

use std::path::PathBuf;

use serde::Serialize;

use git_session::criteria::{self, Outcome};
use git_session::duration::{ago, format_minutes};
use git_session::error::{Error, Result};
use git_session::history::{self, Sink, Tallies};
use git_session::html::{self, Entry, Page};
use git_session::overview::{self, Activity, Authors, Timeline};
use git_session::progress::{CommitInfo, Progress};
use git_session::report::{StatusReport, rfc3339};
use git_session::session::{Session, Status};
use git_session::store;

use super::render::{bar, clip, pad, percent};
use super::{Ctx, Global, emit, emit_json, note};

/// Every session at a glance, as text, JSON, or an HTML page with charts
///
/// One line per session: status, progress, milestones, commits, effort reported and estimated,
/// open blockers, overdue milestones and the last commit. History is read once for all
/// sessions. With --html, writes one self-contained page (inline CSS and SVG, no scripts,
/// nothing fetched) with, per session, a burn-up chart of milestones and tasks done over time
/// and an effort chart, reported against estimated.
///
/// Example:
///   git session report
///   git session report --html sessions.html
///   git session report --status active --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Only sessions with this status (repeatable): planned, active, paused, done, abandoned
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Vec<Status>,

    /// Print JSON: {schema, generated, sessions: [the shape of status --json]}
    #[arg(long)]
    pub json: bool,

    /// Write a self-contained HTML page with charts to FILE (replaced atomically)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn parse_status(text: &str) -> std::result::Result<Status, String> {
    Status::parse(text)
        .ok_or_else(|| "expected one of planned, active, paused, done, abandoned".to_string())
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    generated: String,
    sessions: Reports<'a>,
    notes: Vec<String>,
}

/// Each row's [`StatusReport`], made as it is written: thousands of them need not be held at
/// once.
struct Reports<'a>(&'a [Row<'a>]);

impl Serialize for Reports<'_> {
    fn serialize<S: serde::Serializer>(&self, out: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = out.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&StatusReport::new(
                r.session,
                &r.progress,
                r.criteria.clone(),
                &[],
            ))?;
        }
        seq.end()
    }
}

/// Folds every session's commits as the walk finds them, keeping what the charts need.
struct Collect<'a> {
    sessions: &'a [Session],
    tallies: Tallies<'a>,
    activity: Vec<Vec<Activity>>,
    authors: Authors,
    /// The commits of sessions that require trailers, to judge that criterion.
    kept: Vec<Option<Vec<CommitInfo>>>,
}

impl Sink for Collect<'_> {
    fn commit(&mut self, c: &CommitInfo, members: &[usize]) {
        self.tallies.commit(c, members);
        for &m in members {
            let a = Activity::of(c, &self.sessions[m], &mut self.authors);
            self.activity[m].push(a);
            if let Some(list) = &mut self.kept[m] {
                list.push(c.clone());
            }
        }
    }
}

struct Row<'a> {
    session: &'a Session,
    progress: Progress,
    criteria: Vec<Outcome>,
    timeline: Timeline,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let ctx = Ctx::open(global)?;
    let (mut all, problems) = ctx.store.load_all()?;
    for p in &problems {
        note(&format!("warning: skipped {}", p.to_error()));
    }
    all.extend(super::branch_only_sessions(
        &ctx.repo,
        &ctx.store,
        &ctx.config,
        true,
    ));
    all.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    let sessions: Vec<Session> = all
        .into_iter()
        .filter(|s| args.status.is_empty() || args.status.contains(&s.status))
        .collect();
    let (rows, notes) = gather(&ctx, &sessions)?;

    if let Some(path) = &args.html {
        let heading = ctx.repo.workdir().and_then(|p| p.file_name()).map_or_else(
            || "this repository".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let page = Page {
            heading,
            now: ctx.now,
            entries: rows
                .iter()
                .map(|r| Entry {
                    session: r.session,
                    progress: &r.progress,
                    criteria: &r.criteria,
                    timeline: &r.timeline,
                })
                .collect(),
            notes: notes.clone(),
        };
        write_page(path, &page)?;
        if !args.json {
            emit(&format!(
                "Wrote {}: {} session{}.\n",
                path.display(),
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ));
            return Ok(0);
        }
    }
    if args.json {
        emit_json(&Report {
            schema: 1,
            generated: rfc3339(ctx.now.timestamp()),
            sessions: Reports(&rows),
            notes,
        });
        return Ok(0);
    }
    for n in &notes {
        note(&format!("note: {n}"));
    }
    if rows.is_empty() {
        if problems.is_empty() && args.status.is_empty() {
            note("No sessions yet; start one with: git session start <name>");
        }
        return Ok(0);
    }
    emit(&text(&ctx, &rows));
    Ok(0)
}

/// Walks history once for every session and derives each one's progress and timeline.
fn gather<'a>(ctx: &Ctx, sessions: &'a [Session]) -> Result<(Vec<Row<'a>>, Vec<String>)> {
    let mut sink = Collect {
        sessions,
        tallies: Tallies::new(sessions),
        activity: vec![Vec::new(); sessions.len()],
        authors: Authors::default(),
        kept: sessions
            .iter()
            .map(|s| {
                s.criteria
                    .as_ref()
                    .is_some_and(|c| !c.require_trailers.is_empty())
                    .then(Vec::new)
            })
            .collect(),
    };
    let coverage = history::walk(&ctx.repo, sessions, &ctx.config, true, &mut sink)?;
    coverage.require_complete()?;
    let Collect {
        tallies,
        activity,
        kept,
        ..
    } = sink;
    let mut rows = Vec::with_capacity(sessions.len());
    for (((s, tally), activity), kept) in
        sessions.iter().zip(tallies.tallies).zip(activity).zip(kept)
    {
        let progress = tally.finish(s, ctx.estimate(), ctx.now);
        let missing = match (&s.criteria, kept) {
            (Some(c), Some(commits)) => {
                history::missing_trailers(&ctx.repo, &commits, &c.require_trailers)?
            }
            _ => Vec::new(),
        };
        let criteria = criteria::evaluate_history(s, &progress, &missing);
        let timeline = overview::timeline(s, &progress, &activity, ctx.estimate());
        rows.push(Row {
            session: s,
            progress,
            criteria,
            timeline,
        });
    }
    Ok((rows, coverage.notes))
}

/// Writes the page atomically: a reader (a browser refreshing) sees the old page or the new.
fn write_page(path: &std::path::Path, page: &Page) -> Result<()> {
    if path.is_dir() {
        return Err(Error::input(format!(
            "{} is a directory; name the file to write, like {}/sessions.html",
            path.display(),
            path.display()
        )));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent
        && !dir.is_dir()
    {
        return Err(Error::input(format!(
            "cannot write {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    store::write_atomic_with(path, true, &mut |out| html::write(page, out))
}

fn text(ctx: &Ctx, rows: &[Row]) -> String {
    let st = &ctx.style;
    let now = ctx.now.timestamp();
    // Columns are measured before colour is added.
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let p = &r.progress;
            let mut flags = Vec::new();
            let open = p.open_blockers().count();
            if open > 0 {
                flags.push(format!("●{open} blocked"));
            }
            let overdue = p.milestones.iter().filter(|m| m.overdue).count();
            if overdue > 0 {
                flags.push(format!("{overdue} overdue"));
            }
            [
                format!("{}/{}", p.milestones_done, p.milestones_total),
                format!(
                    "{} commit{}",
                    p.commits,
                    if p.commits == 1 { "" } else { "s" }
                ),
                format!(
                    "{} / ~{}",
                    format_minutes(p.effort.reported_minutes),
                    format_minutes(p.effort.estimated_minutes)
                ),
                p.last_commit
                    .map(|c| format!("last {}", ago(now - c.time)))
                    .unwrap_or_else(|| "no commits".to_string()),
                flags.join(" "),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    let name_w = rows
        .iter()
        .map(|r| r.session.name.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let (mut reported, mut estimated) = (0, 0);
    for (r, c) in rows.iter().zip(&cells) {
        let (s, p) = (r.session, &r.progress);
        reported += p.effort.reported_minutes;
        estimated += p.effort.estimated_minutes;
        let status = pad(s.status.as_str(), 9);
        let status = match s.status {
            Status::Active => st.green(&status),
            Status::Paused | Status::Planned => st.yellow(&status),
            Status::Done => st.cyan(&status),
            Status::Abandoned => st.dim(&status),
        };
        let flags = if c[4].is_empty() {
            pad("", w[4])
        } else {
            st.red(&pad(&c[4], w[4]))
        };
        let title = if s.title != s.name.as_str() {
            st.dim(&clip(&s.title, 48))
        } else {
            String::new()
        };
        let line = format!(
            "{} {status} {} {:>4}  {:>mw$}  {:>cw$}  {:>ew$}  {}  {flags}  {title}",
            st.bold(&pad(s.name.as_str(), name_w)),
            bar(p.fraction, 10),
            percent(p.fraction),
            c[0],
            c[1],
            c[2],
            pad(&c[3], w[3]),
            mw = w[0],
            cw = w[1],
            ew = w[2],
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let open = rows.iter().filter(|r| r.session.status.is_open()).count();
    out.push_str(&st.dim(&format!(
        "{} session{} ({open} open) · effort {} reported, ~{} estimated\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        format_minutes(reported),
        format_minutes(estimated)
    )));
    out
}
