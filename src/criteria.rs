//! Success criteria (SPEC §2 `[criteria]`, §7): every criterion is evaluated and reported, met
//! or not, with the reason. Pure; commands are run by the CLI and their results passed in.

use serde::Serialize;

use crate::progress::{Progress, State};
use crate::repo::CommitId;
use crate::session::{MilestoneCriterion, Session};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub name: String,
    pub met: bool,
    pub detail: String,
    /// `None` for criteria judged from history; for commands, whether it was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl Outcome {
    fn new(name: impl Into<String>, met: bool, detail: impl Into<String>) -> Outcome {
        Outcome {
            name: name.into(),
            met,
            detail: detail.into(),
            command: None,
        }
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
                "every session commit carries {}",
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
}
