//! Hook managers that own a repository's hooks: husky, lefthook and the pre-commit framework.
//! Where one of them is in charge, `install` writes nothing and prints what to add to that
//! tool's configuration instead. Pure: facts about files in, findings out.

use serde::Serialize;

/// A tool that generates and owns the hook scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    Husky,
    Lefthook,
    PreCommit,
}

/// Lefthook's configuration files, at the top of the work tree.
pub const LEFTHOOK_FILES: [&str; 9] = [
    "lefthook.yml",
    ".lefthook.yml",
    "lefthook.yaml",
    ".lefthook.yaml",
    "lefthook.toml",
    ".lefthook.toml",
    "lefthook.json",
    ".lefthook.json",
    ".config/lefthook.yml",
];

/// The pre-commit framework's configuration files (`prek` reads the same).
pub const PRE_COMMIT_FILES: [&str; 2] = [".pre-commit-config.yaml", ".pre-commit-config.yml"];

/// Hook files whose content can name the tool that generated them.
pub const PROBED_HOOKS: [&str; 5] = [
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-push",
];

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Manager::Husky => "husky",
            Manager::Lefthook => "lefthook",
            Manager::PreCommit => "pre-commit",
        }
    }

    /// The files where this tool's configuration for `hook` lives, relative to the top.
    pub fn config_files(self, hook: &str) -> Vec<String> {
        match self {
            Manager::Husky => vec![format!(".husky/{hook}")],
            Manager::Lefthook => LEFTHOOK_FILES.iter().map(|f| f.to_string()).collect(),
            Manager::PreCommit => PRE_COMMIT_FILES.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// What to add to this tool's configuration so it runs git-session's hooks.
    pub fn recipe(self) -> &'static str {
        match self {
            Manager::Husky => HUSKY,
            Manager::Lefthook => LEFTHOOK,
            Manager::PreCommit => PRE_COMMIT,
        }
    }
}

const HUSKY: &str = "\
Add one line to each of these husky hook files (create the file if it does not exist):
  .husky/prepare-commit-msg:  git-session hook prepare-commit-msg \"$@\"
  .husky/commit-msg:          git-session hook commit-msg \"$1\"
  .husky/post-commit:         git-session hook post-commit
";

const LEFTHOOK: &str = "\
Add to lefthook.yml (merge with the hooks already there), then run: lefthook install
  prepare-commit-msg:
    commands:
      git-session:
        run: git-session hook prepare-commit-msg {1} {2} {3}
  commit-msg:
    commands:
      git-session:
        run: git-session hook commit-msg {1}
  post-commit:
    commands:
      git-session:
        run: git-session hook post-commit
";

const PRE_COMMIT: &str = "\
Add under `repos:` in .pre-commit-config.yaml, then run:
  pre-commit install --hook-type prepare-commit-msg --hook-type commit-msg --hook-type post-commit
  - repo: local
    hooks:
      - id: git-session-prepare-commit-msg
        name: git-session adds session trailers
        entry: git-session hook prepare-commit-msg
        language: system
        stages: [prepare-commit-msg]
        always_run: true
      - id: git-session-commit-msg
        name: git-session checks session trailers
        entry: git-session hook commit-msg
        language: system
        stages: [commit-msg]
        always_run: true
      - id: git-session-post-commit
        name: git-session progress
        entry: git-session hook post-commit
        language: system
        stages: [post-commit]
        always_run: true
        pass_filenames: false
        verbose: true
";

/// What is known about a repository's hooks, read by the caller.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// `core.hooksPath` as configured, if set.
    pub hooks_path: Option<&'a str>,
    /// Which of [`LEFTHOOK_FILES`] and [`PRE_COMMIT_FILES`] exist at the top of the work tree.
    pub config_files: Vec<&'a str>,
    /// Name and first bytes of each of [`PROBED_HOOKS`] present in the hooks directory (files
    /// that git-session installed are left out).
    pub hook_files: Vec<(&'a str, &'a [u8])>,
}

/// A manager found, and the evidence, as a phrase: "core.hooksPath is .husky/_".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub manager: Manager,
    pub evidence: String,
}

/// Every manager that owns the hooks here, each once, with the first evidence found.
pub fn detect(facts: &Facts) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut add = |manager: Manager, evidence: String| {
        if !found.iter().any(|f| f.manager == manager) {
            found.push(Found { manager, evidence });
        }
    };
    if let Some(p) = facts.hooks_path
        && is_husky_path(p)
    {
        add(Manager::Husky, format!("core.hooksPath is {p}"));
    }
    for f in &facts.config_files {
        if LEFTHOOK_FILES.contains(f) {
            add(Manager::Lefthook, format!("{f} exists"));
        } else if PRE_COMMIT_FILES.contains(f) {
            add(Manager::PreCommit, format!("{f} exists"));
        }
    }
    for (name, content) in &facts.hook_files {
        let text = String::from_utf8_lossy(content).to_ascii_lowercase();
        let by = if text.contains("lefthook") {
            Some(Manager::Lefthook)
        } else if text.contains("pre-commit.com")
            || text.contains("pre_commit")
            || text.contains("github.com/j178/prek")
        {
            Some(Manager::PreCommit)
        } else if text.contains("husky") {
            Some(Manager::Husky)
        } else {
            None
        };
        if let Some(m) = by {
            add(m, format!("the {name} hook was generated by {}", m.name()));
        }
    }
    found
}

/// husky points `core.hooksPath` at `.husky` (v4–v8) or `.husky/_` (v9).
fn is_husky_path(path: &str) -> bool {
    let parts: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    matches!(parts[..], [.., ".husky"] | [.., ".husky", "_"])
}

/// Whether a manager's configuration text already runs git-session's `hook`.
pub fn configured(text: &str, hook: &str) -> bool {
    text.contains(&format!("git-session hook {hook}"))
        || text.contains(&format!("git session hook {hook}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn managers(facts: &Facts) -> Vec<Manager> {
        detect(facts).into_iter().map(|f| f.manager).collect()
    }

    #[test]
    fn husky_by_hooks_path() {
        for p in [".husky", ".husky/_", "./.husky/_/", "/abs/repo/.husky"] {
            let f = Facts {
                hooks_path: Some(p),
                ..Facts::default()
            };
            assert_eq!(managers(&f), [Manager::Husky], "{p}");
        }
        for p in [".githooks", "husky", ".husky/x", "_"] {
            let f = Facts {
                hooks_path: Some(p),
                ..Facts::default()
            };
            assert!(managers(&f).is_empty(), "{p}");
        }
    }

    #[test]
    fn config_files_and_generated_hooks() {
        let f = Facts {
            config_files: vec![".lefthook.yml", ".pre-commit-config.yaml"],
            ..Facts::default()
        };
        assert_eq!(managers(&f), [Manager::Lefthook, Manager::PreCommit]);
        let generated: &[u8] =
            b"#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n";
        let lefthook: &[u8] = b"#!/bin/sh\nif [ \"$LEFTHOOK_VERBOSE\" = \"1\" ]; then\n";
        let plain: &[u8] = b"#!/bin/sh\nexit 0\n";
        let f = Facts {
            hook_files: vec![
                ("pre-commit", generated),
                ("commit-msg", lefthook),
                ("post-commit", plain),
            ],
            ..Facts::default()
        };
        let found = detect(&f);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].manager, Manager::PreCommit);
        assert_eq!(
            found[0].evidence,
            "the pre-commit hook was generated by pre-commit"
        );
        assert_eq!(found[1].manager, Manager::Lefthook);
    }

    #[test]
    fn recipes_name_every_hook() {
        for m in [Manager::Husky, Manager::Lefthook, Manager::PreCommit] {
            for hook in ["prepare-commit-msg", "commit-msg", "post-commit"] {
                assert!(configured(m.recipe(), hook), "{m:?} {hook}");
            }
        }
        assert!(!configured(
            "run: git-session hook commit-msg {1}",
            "post-commit"
        ));
    }
}
