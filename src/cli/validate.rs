//! `git session validate`: lint every session file, and the session trailers in history.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use git_session::error::Result;
use git_session::history::{self, Sink, Tallies};
use git_session::progress::CommitInfo;
use git_session::repo::Repo;
use git_session::session::Session;
use git_session::store::{self, Store};

use super::{Global, Style, emit, state_dir, to_json};

/// Check every session file, and the session trailers in history
///
/// Errors are problems in .sessions/*.toml (each with file, line and column); they make the
/// command exit 1. Warnings are bad trailers already in history — unknown sessions, milestones
/// or tasks, bad durations — which history cannot take back; they fail only with --strict.
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

/// Collects what history says about sessions that are not (or not yet) there.
struct Validator<'a> {
    sessions: &'a [Session],
    broken: &'a HashSet<String>,
    tallies: Tallies<'a>,
    /// (commit time, warning)
    warnings: BTreeMap<(i64, String), ()>,
}

impl Sink for Validator<'_> {
    fn commit(&mut self, c: &CommitInfo, members: &[usize]) {
        self.tallies.commit(c, members);
        let short = c.id.short();
        let mut add = |text: String| {
            self.warnings.insert((c.commit_time, text), ());
        };
        if members.is_empty() {
            for p in &c.links.problems {
                add(format!("{short}: {p}"));
            }
        }
        for named in c.links.named_sessions() {
            let known = self.sessions.iter().position(|s| {
                s.name.as_str() == named || s.id_string().eq_ignore_ascii_case(named)
            });
            match known {
                Some(i) if !members.contains(&i) => add(format!(
                    "{short}: names session '{}' but was committed before it was created (allowing for clock skew), so it does not count",
                    self.sessions[i].name
                )),
                Some(_) => {}
                None if self.broken.contains(named) => {}
                None => add(format!(
                    "{short}: names session '{named}', which has no file {}",
                    Store::display_path(named)
                )),
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
    let config = match store.config() {
        Ok(c) => c,
        Err(e) => {
            errors.push(split_located(&e.message));
            Default::default()
        }
    };
    let (sessions, problems) = store.load_all()?;
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
    let mut v = Validator {
        sessions: &sessions,
        broken: &broken,
        tallies: Tallies::new(&sessions),
        warnings: BTreeMap::new(),
    };
    let coverage = history::walk(&repo, &sessions, &config, false, &mut v)?;
    let now = super::now()?;
    let estimate = git_session::progress::Estimate {
        max_gap_secs: config.estimate_max_gap_secs,
        first_commit_secs: config.estimate_first_commit_secs,
    };
    let mut warnings: Vec<String> = v.warnings.into_keys().map(|(_, w)| w).collect();
    for (t, s) in v.tallies.tallies.into_iter().zip(&sessions) {
        for w in t.finish(s, estimate, now).warnings {
            warnings.push(format!("{}: {w}", s.name));
        }
    }
    warnings.extend(coverage.notes);
    if let Some(edge) = coverage.truncated_at.first() {
        warnings.push(format!(
            "this is a shallow clone: history before {} was not checked (git fetch --unshallow)",
            edge.short()
        ));
    }
    let files = sessions.len() + problems.len();
    let failed = !errors.is_empty() || (args.strict && !warnings.is_empty());
    if args.json {
        emit(&to_json(&Report {
            schema: 1,
            files,
            errors,
            warnings,
        }));
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

/// "path:line:col: message" back into its parts.
fn split_located(message: &str) -> FileError {
    let mut parts = message.splitn(4, ':');
    let file = parts.next().unwrap_or_default().to_string();
    let line = parts.next().and_then(|l| l.parse().ok());
    let column = parts.next().and_then(|c| c.parse().ok());
    match (line, column, parts.next()) {
        (Some(line), Some(column), Some(rest)) => FileError {
            file,
            line,
            column,
            message: rest.trim().to_string(),
        },
        _ => FileError {
            file: format!("{}/{}", store::DIR, store::CONFIG_FILE),
            line: 1,
            column: 1,
            message: message.to_string(),
        },
    }
}
