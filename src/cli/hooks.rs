//! `git session hooks install|uninstall|status`: the hooks in the directory git really uses.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde::Serialize;

use git_session::error::{Error, Result};
use git_session::hooks::NAMES;
use git_session::hooks::install::{self, Change, HookStatus, State};
use git_session::hooks::managers::{self, Facts, Found, Manager};
use git_session::repo::{HooksDir, Repo};
use git_session::store::Store;

use super::{Global, emit, emit_json, state_dir};

/// Manage the git hooks that link commits to sessions
///
/// The hooks add 'Session: <name>' (and your focus milestone) to commits on a session's branch
/// (prepare-commit-msg), refuse messages whose session trailers name unknown sessions,
/// milestones or tasks (commit-msg), and print a line of progress after each commit
/// (post-commit). They go where git looks for hooks: core.hooksPath if set, else the hooks
/// directory shared by all work trees. A hook that was there before keeps running, chained.
/// 'git session init' installs them too.
///
/// Examples:
///   git session hooks install
///   git session hooks status
///   git session hooks uninstall
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Install the hooks where git looks for them (idempotent)
    ///
    /// A hook already in place that is not git-session's is kept as <hook>.chained next to
    /// ours and still runs first, with the same arguments, stdin and exit status. Where husky,
    /// lefthook or the pre-commit framework own the hooks, nothing is written: the lines to add
    /// to that tool's configuration are printed instead.
    Install,
    /// Remove the hooks, putting back the hooks they chained exactly as they were
    Uninstall,
    /// Show where git looks for hooks, which are installed and what they chain
    Status {
        /// Print JSON: {schema, directory, core_hooks_path, managers, hooks: [{name, state,
        /// chained, chained_runs}]}
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_global: &Global, args: Args) -> Result<i32> {
    let repo = Repo::discover()?;
    match args.action {
        Action::Install => {
            emit(&install_text(&repo)?);
            Ok(0)
        }
        Action::Uninstall => {
            emit(&uninstall_text(&repo)?);
            Ok(0)
        }
        Action::Status { json } => {
            let place = Place::of(&repo)?;
            let statuses = install::inspect(&place.dir.path)?;
            if json {
                emit_json(&status_json(&place, &statuses));
            } else {
                emit(&status_text(&repo, &place, &statuses));
            }
            Ok(0)
        }
    }
}

/// The hook managers that own `dir`, from the files they leave in the work tree `top` and in
/// the hooks directory, and from `core.hooksPath` (`hooks_path`).
pub fn detect_managers(top: &Path, dir: &Path, hooks_path: Option<&str>) -> Vec<Found> {
    let config_files: Vec<&str> = managers::LEFTHOOK_FILES
        .iter()
        .chain(managers::PRE_COMMIT_FILES.iter())
        .copied()
        .filter(|f| top.join(f).is_file())
        .collect();
    let probed = install::probe(dir, &managers::PROBED_HOOKS);
    managers::detect(&Facts {
        hooks_path,
        config_files,
        hook_files: probed.iter().map(|(n, c)| (*n, c.as_slice())).collect(),
    })
}

/// Where the hooks go, and who owns that place.
struct Place {
    top: PathBuf,
    dir: HooksDir,
    managers: Vec<Found>,
}

impl Place {
    fn of(repo: &Repo) -> Result<Place> {
        let Some(top) = repo.workdir().map(Path::to_path_buf) else {
            return Err(Error::input(
                "this is a bare repository, where nobody commits; install the hooks in a clone with a work tree",
            ));
        };
        let dir = repo.hooks_dir();
        let managers = detect_managers(&top, &dir.path, dir.configured.as_deref());
        Ok(Place { top, dir, managers })
    }

    /// The hooks directory as people know it: relative to the top when it is inside.
    fn shown(&self) -> String {
        shown(&self.top, &self.dir.path)
    }

    fn lock(&self, repo: &Repo) -> Result<git_session::store::Lock> {
        Store::new(&self.top, &state_dir(repo)).lock()
    }
}

fn shown(top: &Path, path: &Path) -> String {
    match path.strip_prefix(top) {
        Ok(rel)
            if !rel.as_os_str().is_empty()
                && rel
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))) =>
        {
            rel.display().to_string()
        }
        _ => path.display().to_string(),
    }
}

/// Which of our hooks a manager's configuration already runs, and in which file.
fn configured(top: &Path, manager: Manager) -> Vec<(&'static str, Option<String>)> {
    NAMES
        .iter()
        .map(|&hook| {
            let file = manager.config_files(hook).into_iter().find(|f| {
                std::fs::read_to_string(top.join(f))
                    .is_ok_and(|text| managers::configured(&text, hook))
            });
            (hook, file)
        })
        .collect()
}

/// Installs the hooks (or explains what to add to a hook manager), as text for the user.
pub fn install_text(repo: &Repo) -> Result<String> {
    let place = Place::of(repo)?;
    if !place.managers.is_empty() {
        return Ok(managed_text(&place));
    }
    let changes = {
        let _lock = place.lock(repo)?;
        install::install(&place.dir.path)?
    };
    let shown = place.shown();
    if changes.iter().all(|(_, c)| *c == Change::Unchanged) {
        return Ok(format!(
            "Hooks already installed in {shown} (nothing changed)\n"
        ));
    }
    let mut out = format!("Hooks installed in {shown}{}:\n", source(&place.dir));
    for (name, change) in changes {
        let what = match change {
            Change::Installed { chained: true } => format!(
                "installed; the hook that was there is kept as {name}.chained and still runs first"
            ),
            Change::Installed { chained: false } => "installed".to_string(),
            Change::Updated => "updated".to_string(),
            Change::Unchanged => "already installed".to_string(),
            _ => continue,
        };
        out.push_str(&format!("  {name:<18}  {what}\n"));
    }
    if in_work_tree(&place) {
        out.push_str(&format!(
            "note: {shown} is inside the work tree, so git status shows these files: commit them to share the hooks, or ignore them\n"
        ));
    }
    Ok(out)
}

/// Whether the hooks directory is part of the work tree (a core.hooksPath like .githooks).
fn in_work_tree(place: &Place) -> bool {
    place.dir.path.strip_prefix(&place.top).is_ok_and(|rel| {
        let mut parts = rel.components();
        matches!(parts.next(), Some(std::path::Component::Normal(first)) if first != ".git")
            && parts.all(|c| matches!(c, std::path::Component::Normal(_)))
    })
}

fn source(dir: &HooksDir) -> &'static str {
    if dir.configured.is_some() {
        " (core.hooksPath)"
    } else {
        ""
    }
}

fn uninstall_text(repo: &Repo) -> Result<String> {
    let place = Place::of(repo)?;
    let changes = {
        let _lock = place.lock(repo)?;
        install::uninstall(&place.dir.path)?
    };
    // What prepare-commit-msg leaves for the other scripts is of no use to anything else.
    let message = repo.git_dir().join("COMMIT_EDITMSG");
    let _ = std::fs::remove_file(git_session::hooks::checked_marker(&message));
    let _ = std::fs::remove_file(git_session::hooks::ahead_file(&message));
    let shown = place.shown();
    if changes.iter().all(|(_, c)| *c == Change::Absent) {
        return Ok(format!(
            "No git-session hooks in {shown} (nothing changed)\n"
        ));
    }
    let mut out = format!("Hooks removed from {shown}:\n");
    for (name, change) in changes {
        let what = match change {
            Change::Removed { restored: true } => {
                "removed; the hook it chained is back in its place"
            }
            Change::Removed { restored: false } => "removed",
            Change::Restored => "the chained hook is back in its place",
            Change::LeftForeign => "left alone: it is not git-session's hook",
            Change::Absent => "not installed",
            Change::Installed { .. } | Change::Updated | Change::Unchanged => continue,
        };
        out.push_str(&format!("  {name:<18}  {what}\n"));
    }
    Ok(out)
}

/// What to tell the user where a hook manager owns the hooks.
fn managed_text(place: &Place) -> String {
    let mut out = String::new();
    for found in &place.managers {
        let m = found.manager;
        out.push_str(&format!(
            "The hooks here are managed by {} ({}); git-session wrote nothing to {}.\n",
            m.name(),
            found.evidence,
            place.shown()
        ));
        if configured(&place.top, m).iter().all(|(_, f)| f.is_some()) {
            out.push_str(&format!("{} already runs git-session's hooks.\n", m.name()));
        } else {
            out.push_str(m.recipe());
        }
    }
    out
}

fn status_text(repo: &Repo, place: &Place, statuses: &[HookStatus]) -> String {
    let mut out = format!("hooks directory: {}{}\n", place.shown(), source(&place.dir));
    for found in &place.managers {
        let m = found.manager;
        out.push_str(&format!(
            "managed by {} ({}): git-session writes nothing there\n",
            m.name(),
            found.evidence
        ));
        for (hook, file) in configured(&place.top, m) {
            let what = match file {
                Some(f) => format!("configured in {f}"),
                None => "not configured (git session hooks install prints what to add)".into(),
            };
            out.push_str(&format!("  {hook:<18}  {what}\n"));
        }
    }
    let ours = |s: &HookStatus| matches!(s.state, State::Installed | State::Outdated);
    if place.managers.is_empty() || statuses.iter().any(ours) {
        for s in statuses {
            let mut what = match s.state {
                State::Installed => "installed".to_string(),
                State::Outdated => {
                    "installed by another version of git-session (git session hooks install updates it)"
                        .to_string()
                }
                State::Missing => "not installed (git session hooks install)".to_string(),
                State::Foreign => {
                    "not installed: another hook is there (git session hooks install chains it)"
                        .to_string()
                }
            };
            if let Some(c) = &s.chained {
                what.push_str(&format!(", chains {c}"));
                if !s.chained_runs {
                    what.push_str(" (not executable, so it does not run)");
                }
            }
            out.push_str(&format!("  {:<18}  {what}\n", s.name));
        }
    }
    // Hooks of ours that git does not run because core.hooksPath points elsewhere.
    let default = repo.common_dir().join("hooks");
    if place.dir.configured.is_some()
        && default != place.dir.path
        && install::inspect(&default).is_ok_and(|all| {
            all.iter()
                .any(|s| matches!(s.state, State::Installed | State::Outdated))
        })
    {
        out.push_str(&format!(
            "note: {} also holds git-session hooks, which git does not run while core.hooksPath is set\n",
            shown(&place.top, &default)
        ));
    }
    out
}

#[derive(Serialize)]
struct StatusJson<'a> {
    schema: u32,
    directory: String,
    core_hooks_path: Option<&'a str>,
    managers: Vec<ManagerJson<'a>>,
    hooks: &'a [HookStatus],
}

#[derive(Serialize)]
struct ManagerJson<'a> {
    manager: Manager,
    evidence: &'a str,
    configured: Vec<&'static str>,
}

fn status_json<'a>(place: &'a Place, statuses: &'a [HookStatus]) -> StatusJson<'a> {
    StatusJson {
        schema: 1,
        directory: place.dir.path.display().to_string(),
        core_hooks_path: place.dir.configured.as_deref(),
        managers: place
            .managers
            .iter()
            .map(|f| ManagerJson {
                manager: f.manager,
                evidence: &f.evidence,
                configured: configured(&place.top, f.manager)
                    .into_iter()
                    .filter_map(|(h, file)| file.map(|_| h))
                    .collect(),
            })
            .collect(),
        hooks: statuses,
    }
}

/// Whether git will run git-session's prepare-commit-msg hook here (for hints elsewhere).
pub fn stamping_active(repo: &Repo) -> bool {
    let Ok(place) = Place::of(repo) else {
        return false;
    };
    if let Some(found) = place.managers.first() {
        return configured(&place.top, found.manager)[0].1.is_some();
    }
    let path = place.dir.path.join(NAMES[0]);
    std::fs::read(&path).is_ok_and(|c| install::is_ours(&c)) && install::is_executable(&path)
}
