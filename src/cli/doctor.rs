//! `git session doctor`: what could make the answers wrong here, with the fix for each.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use git_session::cache::CacheFile;
use git_session::doctor::{self, CacheState, Check, Facts, HookFile, Hooks, Managed, Unstamped};
use git_session::error::Result;
use git_session::history;
use git_session::hooks::NAMES;
use git_session::hooks::install::{self, State};
use git_session::hooks::managers;
use git_session::links;
use git_session::repo::Repo;
use git_session::session::Session;
use git_session::store::{self, FileProblem, Owner};

use super::{Ctx, Global, emit, emit_json, state_dir};

/// Find what could make the answers wrong here, and say how to fix each
///
/// Looks at the hooks (missing, not executable, another tool's, or shadowed by core.hooksPath),
/// a shallow clone, commits on session branches that name no session, branches several
/// sessions use, session files that do not load, base branches that do not exist, and a damaged
/// or stale cache. Each finding comes
/// with the command that fixes it. Exits 0 when all is well, 1 when it finds something.
///
/// Example:
///   git session doctor
///   git session doctor --json | jq '.checks[] | select(.ok | not)'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Print JSON: {schema, ok, checks: [{name, ok, detail, findings: [{problem, fix}]}]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report {
    schema: u32,
    ok: bool,
    checks: Vec<Check>,
}

/// Branches that several sessions claim, other than as their base (where the branch rule
/// counts nothing).
fn shared(sessions: &[Session], problems: &[FileProblem]) -> Vec<doctor::Shared> {
    let mut by_branch: BTreeMap<&str, Vec<&Session>> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.branch != s.base) {
        by_branch.entry(s.branch.as_str()).or_default().push(s);
    }
    by_branch
        .into_iter()
        .filter(|(_, claim)| claim.len() > 1)
        .map(|(branch, claim)| {
            let claimants: Vec<(&str, bool)> = claim
                .iter()
                .map(|s| (s.name.as_str(), s.status.is_open()))
                .collect();
            let mut sessions: Vec<String> = claim.iter().map(|s| s.name.to_string()).collect();
            sessions.sort();
            doctor::Shared {
                branch: branch.to_string(),
                sessions,
                owner: match store::owner(branch, &claimants, problems) {
                    Owner::One(o) => Some(o.to_string()),
                    _ => None,
                },
            }
        })
        .collect()
}

/// How many commits without a session an example list names.
const EXAMPLES: usize = 3;

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let ctx = Ctx::open(global)?;
    let top = ctx
        .repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let shown = |p: &Path| -> String {
        p.strip_prefix(&top)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let (sessions, problems) = ctx.store.load_all()?;
    let cache_file = CacheFile::new(&state_dir(&ctx.repo));
    let (unstamped, missing_bases) = branches(&ctx.repo, &sessions);
    let shared = shared(&sessions, &problems);
    let facts = Facts {
        initialised: ctx.store.dir().is_dir(),
        hooks: hooks(&ctx.repo, &top, &shown),
        shallow: ctx.repo.is_shallow(),
        file_problems: problems.iter().map(|p| p.to_error().message).collect(),
        unstamped,
        shared,
        missing_bases,
        cache: cache_state(&ctx.repo, &cache_file),
        cache_paths: vec![
            shown(cache_file.path()),
            shown(&cache_file.path().with_file_name("cache-known")),
        ],
        on_path: on_path("git-session"),
        current_exe: std::env::current_exe()
            .ok()
            .map(|p| p.display().to_string()),
    };
    let checks = doctor::diagnose(&facts);
    let found: usize = checks.iter().map(|c| c.findings.len()).sum();
    if args.json {
        emit_json(&Report {
            schema: 1,
            ok: found == 0,
            checks,
        });
    } else {
        emit(&text(&ctx, &checks, found));
    }
    Ok(if found == 0 { 0 } else { 1 })
}

fn text(ctx: &Ctx, checks: &[Check], found: usize) -> String {
    let st = &ctx.style;
    let mut out = String::new();
    for c in checks {
        if c.ok {
            out.push_str(&format!(
                "{} {}  {}\n",
                st.green("✓"),
                st.bold(c.name),
                st.dim(&c.detail)
            ));
            continue;
        }
        out.push_str(&format!("{} {}\n", st.red("✗"), st.bold(c.name)));
        for (i, f) in c.findings.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("    {}\n", f.problem));
            out.push_str(&format!("    {} {}\n", st.cyan("fix:"), f.fix));
            if let Some(caution) = &f.caution {
                out.push_str(&format!("    {} {caution}\n", st.dim("note:")));
            }
        }
    }
    out.push('\n');
    out.push_str(&match found {
        0 => "All is well: nothing here should make git session's answers wrong.\n".to_string(),
        1 => "1 problem found.\n".to_string(),
        n => format!("{n} problems found.\n"),
    });
    out
}

/// What is in the hooks directory git uses, who owns it, and what `core.hooksPath` hides.
fn hooks(repo: &Repo, top: &Path, shown: &dyn Fn(&Path) -> String) -> Hooks {
    let located = repo.hooks_dir();
    let (dir, hooks_path) = (located.path, located.configured);
    // A directory that cannot be read reads as one without our hooks.
    let statuses = install::inspect(&dir).unwrap_or_default();
    let files = statuses
        .iter()
        .map(|s| {
            let path = dir.join(s.name);
            HookFile {
                name: s.name.to_string(),
                path: shown(&path),
                state: s.state,
                executable: install::is_executable(&path),
            }
        })
        .collect();
    let found = super::hooks::detect_managers(top, &dir, hooks_path.as_deref());
    let managers = found
        .into_iter()
        .map(|f| Managed {
            tool: f.manager.name().to_string(),
            evidence: f.evidence,
            unconfigured: NAMES
                .iter()
                .filter(|&&hook| {
                    !f.manager.config_files(hook).iter().any(|file| {
                        fs::read_to_string(top.join(file))
                            .is_ok_and(|text| managers::configured(&text, hook))
                    })
                })
                .map(|h| h.to_string())
                .collect(),
        })
        .collect();
    let default = repo.common_dir().join("hooks");
    let shadowed = if hooks_path.is_some() && !same_dir(&dir, &default) {
        install::inspect(&default)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| matches!(s.state, State::Installed | State::Outdated))
            .map(|s| shown(&default.join(s.name)))
            .collect()
    } else {
        Vec::new()
    };
    Hooks {
        dir: shown(&dir),
        hooks_path,
        files,
        managers,
        shadowed,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Commits on each session's branch, not on its base, that name no session; and sessions whose
/// base branch does not exist here. History that cannot be read here is left out (the history
/// check reports a shallow clone).
fn branches(repo: &Repo, sessions: &[Session]) -> (Vec<Unstamped>, Vec<(String, String)>) {
    let cfg = repo.trailer_config();
    let mut unstamped = Vec::new();
    let mut missing = Vec::new();
    for s in sessions.iter().filter(|s| s.branch != s.base) {
        let Some(tip) = repo.branch_commit(&s.branch) else {
            continue;
        };
        let Some(base) = repo.branch_commit(&s.base) else {
            missing.push((s.name.to_string(), s.base.clone()));
            continue;
        };
        let Ok((ids, _)) = repo.range(tip, &[base]) else {
            continue;
        };
        let mut found = Unstamped {
            session: s.name.to_string(),
            branch: s.branch.clone(),
            base: s.base.clone(),
            examples: Vec::new(),
            count: 0,
        };
        for id in ids {
            let bare = repo.with_commit(id, |c| {
                let links = links::from_message(&c.message, cfg);
                (c.parents.len() <= 1 && links.named_sessions().next().is_none())
                    .then(|| c.summary())
            });
            if let Ok(Some(summary)) = bare {
                found.count += 1;
                if found.examples.len() < EXAMPLES {
                    found
                        .examples
                        .push((id.short(), git_session::context::clip(&summary, 50)));
                }
            }
        }
        if found.count > 0 {
            unstamped.push(found);
        }
    }
    (unstamped, missing)
}

fn cache_state(repo: &Repo, file: &CacheFile) -> CacheState {
    if fs::symlink_metadata(file.path()).is_err() {
        return CacheState::Absent;
    }
    match file.load() {
        None => CacheState::Damaged,
        Some(c) if c.fingerprint != history::fingerprint(repo) => CacheState::Stale,
        Some(c) if c.known.count > 0 && file.load_known(c.known).is_none() => {
            CacheState::KnownDamaged
        }
        Some(_) => CacheState::Fine,
    }
}

/// Whether an executable `name` is in a directory of `PATH`.
fn on_path(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir: PathBuf| {
        let p = dir.join(name);
        let Ok(meta) = fs::metadata(&p) else {
            return false;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            meta.is_file() && meta.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        {
            meta.is_file()
        }
    })
}
