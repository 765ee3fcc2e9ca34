//! What the `commit-msg` hook refuses: trailers that name unknown sessions, milestones or tasks,
//! bad durations and bad blocker tags. Pure: the message's trailers and the sessions in, one
//! sentence per problem out, each naming the ids that would be valid.

use crate::links::{self, Event, Value};
use crate::session::Session;
use crate::trailer::Trailer;

/// The sessions the message names (by name or UUID), as far as they are known.
pub fn named_sessions(trailers: &[Trailer]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    for t in trailers {
        let Some(key) = links::KEYS.iter().find(|k| t.is(k)) else {
            continue;
        };
        match links::parse_value(key, &t.value_str()) {
            Ok(Value::Session(s)) => add(&s),
            Ok(Value::Event(e)) => {
                if let Some(q) = e.qualifier() {
                    add(q);
                }
            }
            Err(_) => {}
        }
    }
    out
}

/// Checks the trailers of a message. `sessions` holds every session the check may need: those
/// of the work tree, and those the message names that could be read from their branches.
/// `branch_session` is the session whose branch the commit is made on: unqualified milestones
/// of a message without `Session` trailers are that session's. `branch` is for the sentence.
pub fn check(
    trailers: &[Trailer],
    sessions: &[Session],
    all_names: &[&str],
    branch_session: Option<&str>,
    branch: Option<&str>,
) -> Vec<String> {
    let mut findings: Vec<String> = Vec::new();
    let mut add = |f: String| {
        if !findings.contains(&f) {
            findings.push(f);
        }
    };
    let find = |named: &str| {
        sessions
            .iter()
            .find(|s| s.name.as_str() == named || s.id_string().eq_ignore_ascii_case(named))
    };
    let valid_sessions = || {
        let mut names: Vec<&str> = all_names.to_vec();
        names.sort_unstable();
        names.dedup();
        list("valid sessions", &names)
    };

    let mut named_any = false;
    let mut context: Vec<&Session> = Vec::new();
    let mut events: Vec<(String, Event)> = Vec::new();
    for t in trailers {
        let Some(key) = links::KEYS.iter().find(|k| t.is(k)) else {
            continue;
        };
        let value = t.value_str();
        match links::parse_value(key, &value) {
            Ok(Value::Session(s)) => {
                named_any = true;
                match find(&s) {
                    Some(found) => {
                        if !context.iter().any(|c| c.name == found.name) {
                            context.push(found);
                        }
                    }
                    None => add(format!(
                        "Session '{s}' names no session here; {}",
                        valid_sessions()
                    )),
                }
            }
            Ok(Value::Event(e)) => events.push((format!("{key} '{}'", value.trim()), e)),
            Err(why) if *key == links::SESSION => {
                named_any = true;
                add(format!("{why}; {}", valid_sessions()));
            }
            Err(why) => add(why),
        }
    }
    if !named_any && let Some(s) = branch_session.and_then(find) {
        context.push(s);
    }

    for (trailer, event) in &events {
        let Some(milestone) = event.milestone() else {
            continue;
        };
        let targets: Vec<&Session> = match event.qualifier() {
            Some(q) => match find(q) {
                Some(s) => vec![s],
                None => {
                    add(format!(
                        "{trailer} names no session '{q}' here; {}",
                        valid_sessions()
                    ));
                    continue;
                }
            },
            None if context.is_empty() => {
                if !named_any {
                    let why = match branch {
                        Some(b) => format!("branch '{b}' is no session's branch"),
                        None => "HEAD is not on a branch".to_string(),
                    };
                    add(format!(
                        "{trailer} belongs to no session: the message has no Session trailer and {why}; add 'Session: <name>' or write <session>/{milestone}"
                    ));
                }
                continue;
            }
            None => context.clone(),
        };
        for s in targets {
            let Some(m) = s.milestone(milestone) else {
                add(format!(
                    "{trailer} names no milestone '{milestone}' of session '{}'; {}",
                    s.name,
                    list("valid milestones", &s.milestone_ids())
                ));
                continue;
            };
            if let Event::TaskDone { task, .. } = event
                && !m.tasks.iter().any(|t| t.as_str() == task)
            {
                let valid: Vec<String> =
                    m.tasks.iter().map(|t| format!("{milestone}/{t}")).collect();
                let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
                add(format!(
                    "{trailer} names no task '{task}' of milestone '{milestone}' in session '{}'; {}",
                    s.name,
                    list("valid tasks", &valid)
                ));
            }
        }
    }
    findings
}

/// "valid milestones: a, b", or "there are no valid milestones" for an empty list.
/// Ids worth listing in one error line; beyond that, a count and where to see them all.
const LISTED: usize = 20;

fn list(what: &str, ids: &[&str]) -> String {
    match ids.len() {
        0 => format!("there are no {what}"),
        n if n <= LISTED => format!("{what}: {}", ids.join(", ")),
        n => format!(
            "{what}: {} and {} more (git session list shows them)",
            ids[..LISTED].join(", "),
            n - LISTED
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trailer::{self, TrailerConfig};

    fn session(name: &str, milestones: &str) -> Session {
        let text = format!(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9{}\"\nname = \"{name}\"\n\
             branch = \"session/{name}\"\nbase = \"main\"\ncreated = 2026-11-24T09:00:00Z\n\
             status = \"active\"\n{milestones}",
            name.len() % 10
        );
        crate::session::parse(&text, Some(name)).expect("valid session")
    }

    fn sessions() -> Vec<Session> {
        vec![
            session(
                "search",
                "[[milestones]]\nid = \"parser\"\ntasks = [\"lexer\", \"grammar\"]\n\
                 [[milestones]]\nid = \"ranking\"\n",
            ),
            session("ops", "[[milestones]]\nid = \"deploy\"\n"),
        ]
    }

    fn run(message: &str, branch_session: Option<&str>) -> Vec<String> {
        let trailers = trailer::parse_history(message.as_bytes(), &TrailerConfig::default());
        let sessions = sessions();
        let names: Vec<&str> = sessions.iter().map(|s| s.name.as_str()).collect();
        check(&trailers, &sessions, &names, branch_session, Some("main"))
    }

    #[test]
    fn good_messages_pass() {
        assert!(
            run(
                "S\n\nSession: search\nMilestone: parser\nEffort: 1h\n",
                None
            )
            .is_empty()
        );
        assert!(run("S\n\nTask-Done: parser/lexer\n", Some("search")).is_empty());
        assert!(run("S\n\nMilestone-Done: ops/deploy\n", None).is_empty());
        assert!(run("S\n\nBlocker: #ci flaky\nBlocker-Resolved: #ci\n", None).is_empty());
        assert!(run("Just a subject\n", None).is_empty());
    }

    #[test]
    fn unknown_ids_are_refused_with_the_valid_ones() {
        let f = run("S\n\nSession: serch\n", None);
        assert_eq!(
            f,
            ["Session 'serch' names no session here; valid sessions: ops, search"]
        );
        let f = run("S\n\nSession: search\nMilestone: parsr\n", None);
        assert_eq!(
            f,
            [
                "Milestone 'parsr' names no milestone 'parsr' of session 'search'; valid milestones: parser, ranking"
            ]
        );
        let f = run("S\n\nTask-Done: parser/lexr\n", Some("search"));
        assert!(
            f[0].contains("valid tasks: parser/lexer, parser/grammar"),
            "{f:?}"
        );
        let f = run("S\n\nTask-Done: ranking/x\n", Some("search"));
        assert!(f[0].contains("there are no valid tasks"), "{f:?}");
        let f = run("S\n\nMilestone: nope/deploy\n", None);
        assert!(f[0].contains("names no session 'nope' here"), "{f:?}");
        let f = run("S\n\nMilestone: ops/parser\n", None);
        assert!(f[0].contains("valid milestones: deploy"), "{f:?}");
    }

    #[test]
    fn bad_values_are_refused() {
        let f = run(
            "S\n\nSession: search\nEffort: soon\nBlocker: no tag\n",
            None,
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].contains("Effort 'soon' is not a duration"));
        assert!(f[1].contains("Blocker 'no tag' does not start with a #tag"));
        let f = run("S\n\nSession: Bad Name\n", None);
        assert!(f[0].contains("valid sessions: ops, search"), "{f:?}");
    }

    #[test]
    fn an_unqualified_milestone_needs_a_session() {
        let f = run("S\n\nMilestone: parser\n", None);
        assert!(f[0].contains("belongs to no session"), "{f:?}");
        assert!(f[0].contains("branch 'main'"), "{f:?}");
        // With several sessions named, it must be a milestone of each.
        let f = run(
            "S\n\nSession: search\nSession: ops\nMilestone: parser\n",
            None,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("session 'ops'"), "{f:?}");
        // A Session trailer decides over the branch.
        let f = run("S\n\nSession: ops\nMilestone: parser\n", Some("search"));
        assert!(f[0].contains("session 'ops'"), "{f:?}");
    }

    #[test]
    fn sessions_by_uuid() {
        let s = sessions();
        let id = s[0].id_string().to_uppercase();
        let msg = format!("S\n\nSession: {id}\nMilestone: parser\n");
        assert!(run(&msg, None).is_empty());
        let trailers = trailer::parse_history(msg.as_bytes(), &TrailerConfig::default());
        assert_eq!(named_sessions(&trailers), [id]);
    }

    #[test]
    fn only_the_trailer_block_counts() {
        assert!(run("S\n\nSession: nope\n\nprose after it\n", None).is_empty());
    }
}
