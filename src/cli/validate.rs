//! `git session validate`: lint every session file, and the session trailers in history.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use git_session::aggregate;
use git_session::error::Result;
use git_session::history::{self, Sink};
use git_session::links::Event;
use git_session::progress::{self, CommitInfo};
use git_session::repo::CommitId;
use git_session::repo::Repo;
use git_session::session::Session;
use git_session::store::{self, Store};

use super::{Global, Style, emit, emit_json, state_dir};

/// Check every session file, and the session trailers in history
///
/// Errors are problems in .sessions/*.toml (each with file, line and column); they make the
/// command exit 1. Warnings are bad trailers already in history — unknown sessions, milestones
/// or tasks, bad durations — which history cannot take back, and session files that share an
/// id (a copied file); they fail only with --strict.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also fail (exit 1) on warnings about history
    #[arg(long)]
    pub strict: bool,

    /// Print JSON: {schema, files, errors: [{file, line, column, message}], warnings: […]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct FileError {
    file: String,
    line: usize,
    column: usize,
    message: String,
}

#[derive(Debug, Serialize)]
struct Report {
    schema: u32,
    files: usize,
    errors: Vec<FileError>,
    warnings: Vec<String>,
}

/// Most warnings listed; the rest are counted.
const MAX_WARNINGS: usize = 500;

/// Collects what history says that does not fit the session files, one commit at a time, so
/// memory does not grow with history.
struct Validator<'a> {
    sessions: &'a [Session],
    /// Session names and ids -> indices (two files may share an id).
    keys: HashMap<String, Vec<usize>>,
    broken: &'a HashSet<String>,
    /// Each session's earliest Milestone-Done per milestone, for dependency order.
    done: Vec<HashMap<String, (i64, CommitId)>>,
    /// (commit time, warning), in history order.
    warnings: BTreeSet<(i64, String)>,
    dropped: usize,
}

impl Validator<'_> {
    fn warn(&mut self, time: i64, text: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.insert((time, text));
        } else {
            self.dropped += 1;
        }
    }
}

impl Sink for Validator<'_> {
    fn commit(&mut self, c: &CommitInfo, members: &[usize]) {
        let short = c.id.short();
        let t = c.commit_time;
        for named in c.links.named_sessions() {
            match self.keys.get(&aggregate::normal_key(named)).cloned() {
                Some(found) => {
                    for i in found.into_iter().filter(|i| !members.contains(i)) {
                        self.warn(t, format!(
                            "{short}: names session '{}' but was committed before it was created (allowing for clock skew), so it does not count",
                            self.sessions[i].name
                        ));
                    }
                }
                None if self.broken.contains(named) => {}
                None => self.warn(
                    t,
                    format!(
                        "{short}: names session '{named}', which has no file {}",
                        Store::display_path(named)
                    ),
                ),
            }
        }
        for p in &c.links.problems {
            self.warn(t, format!("{short}: {p}"));
        }
        for &m in members {
            let session = &self.sessions[m];
            let alone = c.links.named_sessions().all(|s| {
                s == session.name.as_str() || aggregate::normal_key(s) == session.id_string()
            });
            let mut found = Vec::new();
            for event in c.events_for(session) {
                if let Some(w) = progress::event_warning(session, event, alone) {
                    found.push(format!("{}: {short}: {w}", session.name));
                }
                if let Event::MilestoneDone { milestone, .. } = event
                    && session.milestone(milestone).is_some()
                {
                    let e = self.done[m].entry(milestone.clone()).or_insert((t, c.id));
                    if t < e.0 {
                        *e = (t, c.id);
                    }
                }
            }
            for w in found {
                self.warn(t, w);
            }
        }
    }
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let repo = Repo::discover()?;
    let Some(top) = repo.workdir().map(|p| p.to_path_buf()) else {
        return Err(git_session::Error::input(
            "this is a bare repository; run git session validate in a clone with a work tree",
        ));
    };
    let store = Store::new(&top, &state_dir(&repo));
    let style = Style::detect(global.color, &repo);
    let mut errors = Vec::new();
    let config = match store.config_problems() {
        Ok(c) => c,
        Err(p) => {
            errors.extend(p.findings.iter().map(|f| FileError {
                file: p.path.clone(),
                line: f.line,
                column: f.column,
                message: f.message.clone(),
            }));
            Default::default()
        }
    };
    let (mut sessions, problems) = store.load_all()?;
    let files_checked = sessions.len() + problems.len();
    // Commits may name sessions whose files are still only on their branches.
    let on_branches = super::branch_only_sessions(&repo, &store, &config, true);
    sessions.extend(on_branches);
    for p in &problems {
        for f in &p.findings {
            errors.push(FileError {
                file: p.path.clone(),
                line: f.line,
                column: f.column,
                message: f.message.clone(),
            });
        }
    }
    let broken: HashSet<String> = problems
        .iter()
        .filter_map(|p| {
            p.path
                .strip_prefix(&format!("{}/", store::DIR))
                .and_then(|f| f.strip_suffix(".toml"))
                .map(str::to_string)
        })
        .collect();
    let keys = history::session_keys(&sessions);
    // File names are unique, so a key that stands for several sessions is an id they share.
    let mut shared_ids: Vec<String> = keys
        .iter()
        .filter(|(_, found)| found.len() > 1)
        .map(|(id, found)| {
            let names: Vec<&str> = found.iter().map(|&i| sessions[i].name.as_str()).collect();
            format!(
                "sessions '{}' have the same id {id}, so a commit naming that id counts for each; give all but one a new id (a copied file keeps the id)",
                names.join("', '")
            )
        })
        .collect();
    shared_ids.sort();
    let mut v = Validator {
        sessions: &sessions,
        keys,
        broken: &broken,
        done: vec![HashMap::new(); sessions.len()],
        warnings: BTreeSet::new(),
        dropped: 0,
    };
    let coverage = history::walk(&repo, &sessions, &config, false, &mut v)?;
    for (s, done) in sessions.iter().zip(std::mem::take(&mut v.done)) {
        for (at, w) in progress::dependency_warnings(s, &done) {
            v.warn(at, format!("{}: {w}", s.name));
        }
    }
    let dropped = v.dropped;
    let mut warnings: Vec<String> = v.warnings.into_iter().map(|(_, w)| w).collect();
    if dropped > 0 {
        warnings.push(format!("… and {dropped} more warnings"));
    }
    warnings.extend(shared_ids);
    warnings.extend(coverage.notes);
    if let Some(edge) = coverage.truncated_at.first() {
        warnings.push(format!(
            "this is a shallow clone: history before {} was not checked (git fetch --unshallow)",
            edge.short()
        ));
    }
    let files = files_checked;
    let failed = !errors.is_empty() || (args.strict && !warnings.is_empty());
    if args.json {
        emit_json(&Report {
            schema: 1,
            files,
            errors,
            warnings,
        });
    } else {
        let mut out = String::new();
        for e in &errors {
            out.push_str(&format!(
                "{} {}:{}:{}: {}\n",
                style.red("error:"),
                e.file,
                e.line,
                e.column,
                e.message
            ));
        }
        for w in &warnings {
            out.push_str(&format!("{} {w}\n", style.yellow("warning:")));
        }
        let summary = format!(
            "{} checked: {}, {}\n",
            super::render::count(files, "session file", "session files"),
            super::render::count(errors.len(), "error", "errors"),
            super::render::count(warnings.len(), "warning", "warnings"),
        );
        emit(&format!("{out}{summary}"));
    }
    Ok(if failed { 1 } else { 0 })
}
