//! `git session list`: every session with its status and progress.

use git_session::cache::{Cache, CacheFile};
use git_session::error::{Error, Result};
use git_session::history;
use git_session::repo::Head;
use git_session::report::ListEntry;
use git_session::session::Status;
use git_session::store::Lock;

use super::render::{bar, clip, pad, percent};
use super::{Ctx, Global, emit, emit_json, note, state_dir};

/// List every session with its status and progress
///
/// One line per session: a '*' marks the session of the checked-out branch. The sessions are
/// those of .sessions/ here and those still only on their own branches (session/<name>, local
/// or remote-tracking), where 'start' put their files. Files that do not load are reported on
/// stderr ('git session validate' explains them).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only sessions with this status (repeatable): planned, active, paused, done, abandoned
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Vec<Status>,

    /// Print JSON: an array of {name, status, progress, branch, …}
    #[arg(long)]
    pub json: bool,
}

fn parse_status(text: &str) -> std::result::Result<Status, String> {
    Status::parse(text)
        .ok_or_else(|| "expected one of planned, active, paused, done, abandoned".to_string())
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let mut trace = super::Trace::new();
    let ctx = Ctx::open(global)?;
    let file = CacheFile::new(&state_dir(&ctx.repo));
    let mut cache = if ctx.no_cache {
        Cache::default()
    } else {
        file.load().unwrap_or_default()
    };
    trace.mark("load cache");
    let file_used = (!ctx.no_cache).then_some(&file);
    // Neither half gives up when a walk of all history is allowed, as it is here.
    let unreadable = || Error::unanswerable("history could not be read");
    // History first: its walk need not hold every parsed session file at once.
    let mut meter = super::Meter::new("Reading history");
    let walked = history::walk_history(
        &ctx.repo,
        &mut cache,
        file_used,
        Some(&mut |n| meter.show(n)),
    )?
    .ok_or_else(unreadable)?;
    meter.done();
    trace.phases("listing", &walked.timings);
    let (mut sessions, problems, files_changed) = ctx.store.load_all_cached(
        (!ctx.no_cache).then_some(&mut cache.files),
        cache.written_at,
    )?;
    let on_branches = super::branch_only_sessions(&ctx.repo, &ctx.store, &ctx.config, true);
    if !on_branches.is_empty() {
        sessions.extend(on_branches);
        sessions.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    }
    trace.mark("session files");
    for p in &problems {
        note(&format!("warning: skipped {}", p.to_error()));
    }
    let listing = history::listing(
        &ctx.repo,
        walked,
        &sessions,
        &ctx.config,
        &mut cache,
        file_used,
        false,
    )?
    .ok_or_else(unreadable)?;
    trace.phases("listing", &listing.timings);
    listing.coverage.require_complete()?;
    let entries: Vec<ListEntry> = sessions
        .iter()
        .zip(&listing.summaries)
        .filter(|(s, _)| args.status.is_empty() || args.status.contains(&s.status))
        .map(|(s, summary)| ListEntry::from_summary(s, summary))
        .collect();
    if !ctx.no_cache && (listing.changed || files_changed) {
        // Encoding the cache takes memory of its own: the sessions can go first.
        drop(sessions);
        save_cache(&ctx, &file, &mut cache);
        trace.mark("save cache");
    } else {
        // The process ends right after printing: freeing thousands of sessions piece by piece
        // would only delay the exit.
        std::mem::forget(sessions);
    }
    std::mem::forget(cache);
    if args.json {
        emit_json(&entries);
        return Ok(0);
    }
    if entries.is_empty() {
        if problems.is_empty() && args.status.is_empty() {
            note("No sessions yet; start one with: git session start <name>");
        }
        return Ok(0);
    }
    let current = match ctx.repo.head() {
        Ok(Head::Branch(b) | Head::Unborn(b)) => Some(b),
        _ => None,
    };
    let st = &ctx.style;
    let name_w = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let branch_w = entries
        .iter()
        .map(|e| e.branch.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for e in &entries {
        let star = if current.as_deref() == Some(e.branch.as_str()) {
            st.green("*")
        } else {
            " ".to_string()
        };
        let status = pad(&e.status, 9);
        let status = match e.status.as_str() {
            "active" => st.green(&status),
            "paused" | "planned" => st.yellow(&status),
            "done" => st.cyan(&status),
            _ => st.dim(&status),
        };
        let blockers = if e.open_blockers > 0 {
            st.red(&format!(" ●{}", e.open_blockers))
        } else {
            String::new()
        };
        let title = if e.title != e.name {
            clip(&e.title, 48)
        } else {
            String::new()
        };
        let line = format!(
            "{star} {} {status} {} {:>4} {:>5}  {}  {title}{blockers}",
            st.bold(&pad(&e.name, name_w)),
            bar(e.progress.fraction, 10),
            percent(e.progress.fraction),
            format!(
                "{}/{}",
                e.progress.milestones_done, e.progress.milestones_total
            ),
            pad(&e.branch, branch_w),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    emit(&out);
    Ok(0)
}

/// Writes the cache if no other git-session holds the lock; a cache that cannot be written is
/// only a slower next run.
fn save_cache(ctx: &Ctx, file: &CacheFile, cache: &mut Cache) {
    let Some(_lock) = Lock::try_acquire(&ctx.store.lock_path()) else {
        return;
    };
    cache.written_at = chrono::Utc::now().timestamp();
    let _ = file.save(cache);
}
