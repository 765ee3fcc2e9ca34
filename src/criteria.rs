//! Success criteria (SPEC §2 `[criteria]`, §7): every criterion is evaluated and reported, met
//! or not, with the reason. Pure; commands are run elsewhere ([`crate::command`]) and their
//! results passed in.

use serde::Serialize;

use crate::command::{Exit, Ran, format_elapsed};
use crate::progress::{Progress, State};
use crate::repo::CommitId;
use crate::session::{Command, MilestoneCriterion, Session};
use crate::trust::Standing;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub name: String,
    pub met: bool,
    pub detail: String,
    /// `None` for criteria judged from history; for commands, the command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// For commands: what became of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<CommandState>,
    /// For commands that ran: the end of their output (stdout and stderr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// What became of a criteria command in a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    Passed,
    Failed,
    TimedOut,
    /// Not run on purpose (`--no-commands`); it neither meets nor fails the criteria.
    Skipped,
    /// Not run because it is not approved; the check cannot conclude.
    Untrusted,
}

impl Outcome {
    fn new(name: impl Into<String>, met: bool, detail: impl Into<String>) -> Outcome {
        Outcome {
            name: name.into(),
            met,
            detail: detail.into(),
            command: None,
            state: None,
            output: None,
        }
    }

    fn of_command(cmd: &Command, state: CommandState, detail: String) -> Outcome {
        Outcome {
            name: cmd.name.clone(),
            met: state == CommandState::Passed,
            detail,
            command: Some(cmd.run.clone()),
            state: Some(state),
            output: None,
        }
    }

    pub fn is_skipped(&self) -> bool {
        self.state == Some(CommandState::Skipped)
    }

    pub fn is_untrusted(&self) -> bool {
        self.state == Some(CommandState::Untrusted)
    }
}

/// The timeout of a command as its file wrote it, or as the default reads.
pub fn timeout_text(cmd: &Command) -> String {
    match &cmd.timeout {
        Some(t) => t.clone(),
        None if cmd.timeout_secs.is_multiple_of(60) => format!("{}m", cmd.timeout_secs / 60),
        None => format!("{}s", cmd.timeout_secs),
    }
}

/// The outcome of a command that was run.
pub fn command_ran(cmd: &Command, ran: &Ran) -> Outcome {
    let took = format_elapsed(ran.elapsed);
    let (state, detail) = match &ran.exit {
        Exit::Code(0) => (CommandState::Passed, format!("passed in {took}")),
        Exit::Code(c) => (
            CommandState::Failed,
            format!("failed with exit code {c} after {took}"),
        ),
        Exit::Signal(s) => (
            CommandState::Failed,
            format!("killed by signal {s} after {took}"),
        ),
        Exit::TimedOut => (
            CommandState::TimedOut,
            format!(
                "timed out after {} (timeout {}); it and every process it started were stopped",
                took,
                timeout_text(cmd)
            ),
        ),
        Exit::NotStarted(why) => (CommandState::Failed, format!("could not start: {why}")),
    };
    let mut o = Outcome::of_command(cmd, state, detail);
    if !ran.output.is_empty() {
        o.output = Some(ran.output.text());
    }
    o
}

/// The outcome of a command left out on purpose.
pub fn command_skipped(cmd: &Command, why: &str) -> Outcome {
    Outcome::of_command(cmd, CommandState::Skipped, format!("skipped ({why})"))
}

/// The outcome of a command that may not run: it shows what would run.
pub fn command_untrusted(cmd: &Command, standing: Standing) -> Outcome {
    Outcome::of_command(
        cmd,
        CommandState::Untrusted,
        format!(
            "not trusted ({}): would run `{}` with timeout {}",
            standing.reason(),
            crate::name::one_line(&cmd.run),
            timeout_text(cmd)
        ),
    )
}

/// The decision over a session's outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every criterion that was judged is met, and no command is untrusted.
    pub met: bool,
    pub unmet: Vec<String>,
    pub untrusted: Vec<String>,
    pub skipped: Vec<String>,
}

pub fn verdict(outcomes: &[Outcome]) -> Verdict {
    let names = |f: &dyn Fn(&Outcome) -> bool| -> Vec<String> {
        outcomes
            .iter()
            .filter(|o| f(o))
            .map(|o| o.name.clone())
            .collect()
    };
    let unmet = names(&|o| !o.met && !o.is_skipped() && !o.is_untrusted());
    let untrusted = names(&|o| o.is_untrusted());
    let skipped = names(&|o| o.is_skipped());
    Verdict {
        met: unmet.is_empty() && untrusted.is_empty(),
        unmet,
        untrusted,
        skipped,
    }
}

/// A commit of the session that lacks required trailers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTrailers {
    pub commit: CommitId,
    pub missing: Vec<String>,
}

/// The criteria that need no command: milestones, open blockers, required trailers.
pub fn evaluate_history(
    session: &Session,
    progress: &Progress,
    missing_trailers: &[MissingTrailers],
) -> Vec<Outcome> {
    evaluate_history_in(session, progress, missing_trailers, None)
}

/// As [`evaluate_history`], saying which range of commits (`main..HEAD`) the trailers were
/// required in.
pub fn evaluate_history_in(
    session: &Session,
    progress: &Progress,
    missing_trailers: &[MissingTrailers],
    scope: Option<&str>,
) -> Vec<Outcome> {
    let Some(c) = &session.criteria else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let required: Vec<&str> = match &c.milestones {
        MilestoneCriterion::Unset => Vec::new(),
        MilestoneCriterion::All => session.milestone_ids(),
        MilestoneCriterion::List(ids) => ids.iter().map(|n| n.as_str()).collect(),
    };
    if c.milestones != MilestoneCriterion::Unset {
        let not_done: Vec<&str> = required
            .iter()
            .copied()
            .filter(|id| {
                progress
                    .milestones
                    .iter()
                    .find(|m| m.id == *id)
                    .is_none_or(|m| m.state != State::Done)
            })
            .collect();
        let detail = if required.is_empty() {
            "no milestones are defined".to_string()
        } else if not_done.is_empty() {
            format!("all {} required milestones are done", required.len())
        } else {
            format!(
                "not done: {} ({} of {} done)",
                not_done.join(", "),
                required.len() - not_done.len(),
                required.len()
            )
        };
        out.push(Outcome::new("milestones", not_done.is_empty(), detail));
    }
    if c.no_open_blockers {
        let open: Vec<String> = progress
            .open_blockers()
            .map(|b| format!("#{}", b.tag))
            .collect();
        let detail = if open.is_empty() {
            "no open blockers".to_string()
        } else {
            format!("open: {}", open.join(", "))
        };
        out.push(Outcome::new("no_open_blockers", open.is_empty(), detail));
    }
    if !c.require_trailers.is_empty() {
        let detail = if missing_trailers.is_empty() {
            format!(
                "every session commit{} carries {}",
                scope.map(|r| format!(" in {r}")).unwrap_or_default(),
                c.require_trailers.join(", ")
            )
        } else {
            let shown: Vec<String> = missing_trailers
                .iter()
                .take(5)
                .map(|m| format!("{} lacks {}", m.commit.short(), m.missing.join(", ")))
                .collect();
            let more = missing_trailers.len().saturating_sub(5);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{}{tail}", shown.join("; "))
        };
        out.push(Outcome::new(
            "require_trailers",
            missing_trailers.is_empty(),
            detail,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::{Estimate, derive};
    use chrono::DateTime;

    fn session(criteria: &str) -> Session {
        let text = format!(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"s\"\n\
             branch = \"session/s\"\nbase = \"main\"\ncreated = 2026-11-01T09:00:00Z\n\
             status = \"active\"\n[[milestones]]\nid = \"a\"\n[[milestones]]\nid = \"b\"\n\
             [criteria]\n{criteria}\n"
        );
        crate::session::parse(&text, Some("s")).unwrap()
    }

    #[test]
    fn milestones_all_names_what_is_not_done() {
        let s = session("milestones = \"all\"\nno_open_blockers = true");
        let now = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
        let p = derive(&s, &[], Estimate::default(), now);
        let out = evaluate_history(&s, &p, &[]);
        assert_eq!(out.len(), 2);
        assert!(!out[0].met);
        assert_eq!(out[0].detail, "not done: a, b (0 of 2 done)");
        assert!(out[1].met);
    }

    #[test]
    fn missing_trailers_are_listed() {
        let s = session("require_trailers = [\"Signed-off-by\"]");
        let now = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
        let p = derive(&s, &[], Estimate::default(), now);
        let missing = [MissingTrailers {
            commit: CommitId([0xab; 20]),
            missing: vec!["Signed-off-by".into()],
        }];
        let out = evaluate_history(&s, &p, &missing);
        assert_eq!(out.len(), 1);
        assert!(!out[0].met);
        assert_eq!(out[0].detail, "abababa lacks Signed-off-by");
    }

    fn cmd(name: &str, timeout: Option<&str>, secs: u64) -> Command {
        Command {
            name: name.into(),
            run: "make check".into(),
            timeout: timeout.map(str::to_string),
            timeout_secs: secs,
        }
    }

    fn ran(exit: Exit, output: &[u8]) -> Ran {
        let mut tail = crate::command::Tail::new(64);
        tail.push(output);
        Ran {
            exit,
            output: tail,
            elapsed: std::time::Duration::from_millis(1500),
        }
    }

    #[test]
    fn command_outcomes_say_what_happened() {
        let c = cmd("tests", None, 600);
        let ok = command_ran(&c, &ran(Exit::Code(0), b""));
        assert!(ok.met);
        assert_eq!(ok.detail, "passed in 1.5s");
        assert_eq!(ok.output, None);
        assert_eq!(ok.command.as_deref(), Some("make check"));
        let bad = command_ran(&c, &ran(Exit::Code(2), b"boom\n"));
        assert!(!bad.met);
        assert_eq!(bad.state, Some(CommandState::Failed));
        assert_eq!(bad.detail, "failed with exit code 2 after 1.5s");
        assert_eq!(bad.output.as_deref(), Some("boom\n"));
        let slow = command_ran(&cmd("t", Some("1s"), 1), &ran(Exit::TimedOut, b""));
        assert_eq!(slow.state, Some(CommandState::TimedOut));
        assert!(slow.detail.starts_with("timed out after 1.5s (timeout 1s)"));
        let u = command_untrusted(&c, Standing::Changed);
        assert_eq!(
            u.detail,
            "not trusted (changed since it was approved): would run `make check` with timeout 10m"
        );
    }

    #[test]
    fn the_verdict_ignores_skipped_and_refuses_untrusted() {
        let c = cmd("tests", None, 600);
        let s = session("milestones = \"all\"");
        let now = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
        let p = derive(&s, &[], Estimate::default(), now);
        let mut out = evaluate_history(&s, &p, &[]);
        out.push(command_skipped(&c, "--no-commands"));
        let v = verdict(&out);
        assert!(!v.met);
        assert_eq!(v.unmet, ["milestones"]);
        assert_eq!(v.skipped, ["tests"]);
        let only_skipped = verdict(&[command_skipped(&c, "--no-commands")]);
        assert!(only_skipped.met && only_skipped.unmet.is_empty());
        let untrusted = verdict(&[command_untrusted(&c, Standing::New)]);
        assert!(!untrusted.met);
        assert!(untrusted.unmet.is_empty());
        assert_eq!(untrusted.untrusted, ["tests"]);
        assert!(verdict(&[]).met);
    }

    #[test]
    fn required_trailers_name_the_range() {
        let s = session("require_trailers = [\"Signed-off-by\"]");
        let now = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
        let p = derive(&s, &[], Estimate::default(), now);
        let out = evaluate_history_in(&s, &p, &[], Some("main..HEAD"));
        assert_eq!(
            out[0].detail,
            "every session commit in main..HEAD carries Signed-off-by"
        );
    }
}
