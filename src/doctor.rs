//! `git session doctor`: what could make the answers wrong in this repository, each finding with
//! the exact command that fixes it. Pure: facts gathered elsewhere (by the command, through
//! [`crate::repo`]) come in; checks and findings come out.

use serde::Serialize;

use crate::hooks::install::State;

/// One of our hooks where git looks for it, as [`crate::hooks::install::inspect`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFile {
    pub name: String,
    /// As people know it: relative to the top of the work tree when inside.
    pub path: String,
    pub state: State,
    /// Whether git would run it.
    pub executable: bool,
}

/// A hook manager that owns the hooks, and which of our hooks its configuration runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    pub tool: String,
    /// Why it is thought to own them: "core.hooksPath is .husky/_".
    pub evidence: String,
    /// Our hooks its configuration does not run.
    pub unconfigured: Vec<String>,
}

/// Where git runs hooks from, and what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hooks {
    /// The directory git runs hooks from (`git rev-parse --git-path hooks`).
    pub dir: String,
    /// `core.hooksPath`, when set.
    pub hooks_path: Option<String>,
    pub files: Vec<HookFile>,
    pub managers: Vec<Managed>,
    /// Hooks of ours in the default directory that `core.hooksPath` keeps git from running.
    pub shadowed: Vec<String>,
}

/// Commits on a session's branch that name no session: they count only while the branch does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unstamped {
    pub session: String,
    pub branch: String,
    pub base: String,
    /// (short id, summary) of the first few.
    pub examples: Vec<(String, String)>,
    pub count: usize,
}

/// A branch that several sessions name as theirs, with the one whose it is ([`crate::store::owner`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub branch: String,
    /// Sorted.
    pub sessions: Vec<String>,
    /// `None` when none outranks the others.
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheState {
    /// No cache yet: nothing can be wrong with it.
    Absent,
    Fine,
    /// The file is there but does not read back (truncated, damaged, another layout).
    Damaged,
    /// It was built by another version or trailer configuration.
    Stale,
    /// The cache reads, but its table of known commits does not.
    KnownDamaged,
}

/// Everything doctor looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Whether `.sessions/` exists here (without it there is nothing to hook).
    pub initialised: bool,
    pub hooks: Hooks,
    /// Whether this is a shallow clone, and the command that deepens it.
    pub shallow: bool,
    /// Session files that do not load, each as one located sentence.
    pub file_problems: Vec<String>,
    pub unstamped: Vec<Unstamped>,
    /// Branches several sessions claim (other than their base).
    pub shared: Vec<Shared>,
    /// (session, base) pairs whose base branch does not exist here.
    pub missing_bases: Vec<(String, String)>,
    pub cache: CacheState,
    /// The cache files, for the command that removes them.
    pub cache_paths: Vec<String>,
    /// Whether `git-session` is on `PATH`, where the hooks look for it.
    pub on_path: bool,
    /// The running binary, to suggest linking onto `PATH`.
    pub current_exe: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What is wrong and what it does to the answers.
    pub problem: String,
    /// The command that fixes it.
    pub fix: String,
    /// What to know before running it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caution: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was looked at, when all is well (or why it was skipped).
    pub detail: String,
    pub findings: Vec<Finding>,
}

impl Check {
    fn new(name: &'static str, detail: impl Into<String>, findings: Vec<Finding>) -> Check {
        Check {
            name,
            ok: findings.is_empty(),
            detail: detail.into(),
            findings,
        }
    }
}

fn finding(problem: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        problem: problem.into(),
        fix: fix.into(),
        caution: None,
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn sh_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Every check, in the order they are shown.
pub fn diagnose(f: &Facts) -> Vec<Check> {
    vec![
        hooks(f),
        shallow(f),
        files(f),
        branches(f),
        bases(f),
        cache(f),
    ]
}

fn hooks(f: &Facts) -> Check {
    if !f.initialised {
        return Check::new(
            "hooks",
            "skipped: there is no .sessions/ here (git session init sets it up)",
            Vec::new(),
        );
    }
    let h = &f.hooks;
    let mut out = Vec::new();
    let install = "git session hooks install";
    let runs = |x: &HookFile| matches!(x.state, State::Installed | State::Outdated) && x.executable;
    if !h.managers.is_empty() {
        // A hook runs ours when it is ours, or when the manager's configuration calls us.
        for m in &h.managers {
            let missing: Vec<&str> = m
                .unconfigured
                .iter()
                .filter(|name| !h.files.iter().any(|x| &x.name == *name && runs(x)))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                out.push(finding(
                    format!(
                        "{} owns the hooks here ({}) and its configuration does not run git-session's {} {}: commits are not stamped with Session trailers and bad trailers are not refused",
                        m.tool,
                        m.evidence,
                        missing.join(", "),
                        if missing.len() == 1 { "hook" } else { "hooks" }
                    ),
                    format!("{install}  # prints what to add to {}'s configuration", m.tool),
                ));
            }
        }
    } else {
        let missing: Vec<&str> = h
            .files
            .iter()
            .filter(|x| x.state == State::Missing)
            .map(|x| x.name.as_str())
            .collect();
        if !missing.is_empty() {
            let what = if missing.len() == 1 {
                format!("the {} hook is", missing[0])
            } else {
                format!("the {} hooks are", missing.join(", "))
            };
            let why = match &h.hooks_path {
                Some(p) => format!(" (core.hooksPath is {p})"),
                None => String::new(),
            };
            out.push(finding(
                format!(
                    "{what} not installed in {}{why}: commits are not stamped with Session trailers and bad trailers are not refused",
                    h.dir
                ),
                install,
            ));
        }
        for x in &h.files {
            match x.state {
                State::Foreign => out.push(finding(
                    format!(
                        "{} is another hook, so git-session's {} hook does not run",
                        x.path, x.name
                    ),
                    format!(
                        "{install}  # keeps that hook as {}.chained, run first",
                        x.name
                    ),
                )),
                State::Outdated => out.push(finding(
                    format!("{} is from another version of git-session", x.path),
                    install,
                )),
                _ => {}
            }
        }
    }
    for x in &h.files {
        if matches!(x.state, State::Installed | State::Outdated) && !x.executable {
            out.push(finding(
                format!("{} is not executable, so git skips it", x.path),
                format!("chmod +x {}", sh_quote(&x.path)),
            ));
        }
    }
    // Hooks of ours elsewhere explain why none run here; once they run here, they are only
    // leftovers.
    if !out.is_empty()
        && !h.shadowed.is_empty()
        && let Some(p) = &h.hooks_path
    {
        out.push(finding(
            format!(
                "git-session's hooks in {} are shadowed: core.hooksPath is {p}, so git runs the hooks there instead",
                h.shadowed.join(", ")
            ),
            install,
        ));
    }
    if !f.on_path {
        let fix = match &f.current_exe {
            Some(exe) => format!("ln -s {} ~/.local/bin/git-session", sh_quote(exe)),
            None => "cargo install --locked git-session".to_string(),
        };
        out.push(Finding {
            problem: "git-session is not on PATH, so the hooks cannot run it and only warn".into(),
            fix,
            caution: Some(
                "any directory on PATH will do; ~/.local/bin is one on most systems".into(),
            ),
        });
    }
    Check::new("hooks", format!("{} run git session", h.dir), out)
}

fn shallow(f: &Facts) -> Check {
    let out = if f.shallow {
        vec![finding(
            "this is a shallow clone: commits older than its edge are missing, so sessions that reach past it cannot be counted (status and check exit 3)",
            "git fetch --unshallow",
        )]
    } else {
        Vec::new()
    };
    Check::new("history", "the whole history is here", out)
}

fn files(f: &Facts) -> Check {
    let out = f
        .file_problems
        .iter()
        .map(|p| {
            let path = p.split(':').next().unwrap_or(p);
            Finding {
                problem: format!("{p}; this session is left out of every report"),
                fix: format!("git session validate  # then edit {}", sh_quote(path)),
                caution: None,
            }
        })
        .collect();
    Check::new("session files", "every session file loads", out)
}

fn branches(f: &Facts) -> Check {
    let mut out: Vec<Finding> = f
        .unstamped
        .iter()
        .map(|u| {
            let examples: Vec<String> = u
                .examples
                .iter()
                .map(|(id, summary)| format!("{id} \"{summary}\""))
                .collect();
            let more = u.count.saturating_sub(u.examples.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            Finding {
                problem: format!(
                    "{} commit{} on {} name no session ({}{more}): they count for '{}' only while that branch exists, and a squash merge or a deleted branch loses them",
                    u.count,
                    if u.count == 1 { "" } else { "s" },
                    u.branch,
                    examples.join(", "),
                    u.session
                ),
                fix: format!(
                    "git switch {} && git rebase -x {} {}",
                    sh_quote(&u.branch),
                    sh_quote(&format!(
                        "git -c trailer.ifexists=addIfDifferent commit --amend --allow-empty --no-edit --no-verify --trailer \"Session: {}\"",
                        u.session
                    )),
                    sh_quote(&u.base)
                ),
                caution: Some(
                    "this rewrites the branch's commits; if they were pushed, push with --force-with-lease and tell whoever shares the branch".into(),
                ),
            }
        })
        .collect();
    for sh in &f.shared {
        let names = sh.sessions.join("', '");
        let stamped = match &sh.owner {
            Some(o) => format!("the hooks stamp them for '{o}'"),
            None => "the hooks stamp them for none".to_string(),
        };
        let others: Vec<String> = sh
            .sessions
            .iter()
            .filter(|s| Some(*s) != sh.owner.as_ref())
            .map(|s| sh_quote(&format!(".sessions/{s}.toml")))
            .collect();
        out.push(finding(
            format!(
                "sessions '{names}' all use branch '{}': its commits that name no session count for each of them, and {stamped}",
                sh.branch
            ),
            format!(
                "\"${{EDITOR:-vi}}\" {}  # give each its own branch, or name the session in every commit",
                others.join(" ")
            ),
        ));
    }
    Check::new(
        "session branches",
        "every commit on a session branch names its session",
        out,
    )
}

fn bases(f: &Facts) -> Check {
    let out = f
        .missing_bases
        .iter()
        .map(|(session, base)| {
            finding(
                format!(
                    "base branch '{base}' of session '{session}' does not exist here, so commits on its branch count only if they carry Session trailers"
                ),
                format!("git fetch origin {}", sh_quote(base)),
            )
        })
        .collect();
    Check::new("base branches", "every session's base branch exists", out)
}

fn cache(f: &Facts) -> Check {
    let rm = format!(
        "rm -f {} && git session list",
        f.cache_paths
            .iter()
            .map(|p| sh_quote(p))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = match f.cache {
        CacheState::Absent | CacheState::Fine => Vec::new(),
        CacheState::Damaged => vec![finding(
            "the cache file is damaged (it does not read back); commands ignore it and rebuild it, which is slower, and a cache that keeps breaking points at a disk or a tool writing into .git",
            rm,
        )],
        CacheState::KnownDamaged => vec![finding(
            "the cache's table of known commits is damaged; the next list walks all of history again",
            rm,
        )],
        CacheState::Stale => vec![finding(
            "the cache was built by another version of git-session or another trailer configuration; it is not used until rebuilt",
            "git session list",
        )],
    };
    let detail = match f.cache {
        CacheState::Absent => "no cache yet (list builds one)",
        _ => "the cache reads back whole",
    };
    Check::new("cache", detail, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            initialised: true,
            hooks: Hooks {
                dir: ".git/hooks".into(),
                hooks_path: None,
                files: crate::hooks::NAMES
                    .iter()
                    .map(|h| HookFile {
                        name: h.to_string(),
                        path: format!(".git/hooks/{h}"),
                        state: State::Installed,
                        executable: true,
                    })
                    .collect(),
                managers: Vec::new(),
                shadowed: Vec::new(),
            },
            shallow: false,
            file_problems: Vec::new(),
            unstamped: Vec::new(),
            shared: Vec::new(),
            missing_bases: Vec::new(),
            cache: CacheState::Fine,
            cache_paths: vec![
                ".git/git-session/cache".into(),
                ".git/git-session/cache-known".into(),
            ],
            on_path: true,
            current_exe: None,
        }
    }

    fn findings(f: &Facts) -> Vec<Finding> {
        diagnose(f).into_iter().flat_map(|c| c.findings).collect()
    }

    #[test]
    fn a_shared_branch_names_whom_the_hooks_stamp_for() {
        let mut f = facts();
        f.shared = vec![
            Shared {
                branch: "session/a".into(),
                sessions: vec!["a".into(), "b".into()],
                owner: Some("a".into()),
            },
            Shared {
                branch: "team".into(),
                sessions: vec!["c".into(), "d".into()],
                owner: None,
            },
        ];
        let out = findings(&f);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].problem.ends_with("the hooks stamp them for 'a'"));
        assert!(
            out[0].fix.contains(" .sessions/b.toml  #"),
            "{}",
            out[0].fix
        );
        assert!(out[1].problem.ends_with("the hooks stamp them for none"));
        assert!(
            out[1].fix.contains(" .sessions/c.toml .sessions/d.toml  #"),
            "{}",
            out[1].fix
        );
    }

    #[test]
    fn all_well_finds_nothing() {
        let checks = diagnose(&facts());
        assert!(checks.iter().all(|c| c.ok), "{checks:?}");
        assert_eq!(checks.len(), 6);
    }

    #[test]
    fn missing_foreign_and_shadowed_hooks_each_say_how_to_fix() {
        let mut f = facts();
        f.hooks.files[0].state = State::Missing;
        f.hooks.files[1].state = State::Missing;
        f.hooks.files[2].state = State::Foreign;
        f.hooks.hooks_path = Some(".githooks".into());
        f.hooks.shadowed = vec![".git/hooks/commit-msg".into()];
        let out = findings(&f);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(
            out[0].problem.starts_with(
                "the prepare-commit-msg, commit-msg hooks are not installed in .git/hooks (core.hooksPath is .githooks)"
            ),
            "{}",
            out[0].problem
        );
        assert_eq!(out[0].fix, "git session hooks install");
        assert!(
            out[1]
                .fix
                .contains("keeps that hook as post-commit.chained")
        );
        assert!(out[2].problem.contains("shadowed"));
    }

    #[test]
    fn a_manager_that_does_not_run_our_hooks() {
        let mut f = facts();
        for x in &mut f.hooks.files {
            x.state = State::Foreign;
        }
        f.hooks.managers = vec![Managed {
            tool: "husky".into(),
            evidence: "core.hooksPath is .husky/_".into(),
            unconfigured: vec!["commit-msg".into(), "post-commit".into()],
        }];
        let out = findings(&f);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].problem.starts_with("husky owns the hooks here (core.hooksPath is .husky/_) and its configuration does not run git-session's commit-msg, post-commit hooks"), "{}", out[0].problem);
        assert!(
            out[0]
                .fix
                .ends_with("prints what to add to husky's configuration")
        );
        f.hooks.managers[0].unconfigured.clear();
        assert!(findings(&f).is_empty());
    }

    #[test]
    fn a_hook_that_cannot_run_and_a_missing_binary() {
        let mut f = facts();
        f.hooks.files[1].executable = false;
        f.hooks.files[1].path = "/tmp/my repo/.git/hooks/commit-msg".into();
        f.on_path = false;
        f.current_exe = Some("/opt/git-session".into());
        let out = findings(&f);
        assert_eq!(out[0].fix, "chmod +x '/tmp/my repo/.git/hooks/commit-msg'");
        assert_eq!(
            out[1].fix,
            "ln -s /opt/git-session ~/.local/bin/git-session"
        );
    }

    #[test]
    fn no_sessions_dir_skips_the_hooks() {
        let mut f = facts();
        f.initialised = false;
        f.hooks.files[0].state = State::Missing;
        assert!(findings(&f).is_empty());
    }

    #[test]
    fn shallow_unstamped_bases_files_and_cache() {
        let mut f = facts();
        f.shallow = true;
        f.unstamped = vec![Unstamped {
            session: "search".into(),
            branch: "session/search".into(),
            base: "main".into(),
            examples: vec![("abc1234".into(), "Fix it".into())],
            count: 3,
        }];
        f.missing_bases = vec![("search".into(), "develop".into())];
        f.file_problems = vec![".sessions/x.toml:3:1: unknown field `ownr`".into()];
        f.cache = CacheState::Damaged;
        let checks = diagnose(&f);
        assert_eq!(checks.iter().filter(|c| !c.ok).count(), 5);
        let out = findings(&f);
        assert_eq!(out[0].fix, "git fetch --unshallow");
        assert!(
            out[1].fix.ends_with("# then edit .sessions/x.toml"),
            "{}",
            out[1].fix
        );
        assert!(
            out[2].problem.starts_with(
                "3 commits on session/search name no session (abc1234 \"Fix it\" and 2 more)"
            ),
            "{}",
            out[2].problem
        );
        assert_eq!(
            out[2].fix,
            "git switch session/search && git rebase -x 'git -c trailer.ifexists=addIfDifferent commit --amend --allow-empty --no-edit --no-verify --trailer \"Session: search\"' main"
        );
        assert!(out[2].caution.is_some());
        assert_eq!(out[3].fix, "git fetch origin develop");
        assert_eq!(
            out[4].fix,
            "rm -f .git/git-session/cache .git/git-session/cache-known && git session list"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh_quote("session/x"), "session/x");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
    }
}
