//! What our trailers (SPEC §3) say about a commit: the sessions it names and the events it
//! carries. Pure: a message and the trailer configuration in, plain values out. Values that do
//! not parse become problems (warnings in reports), never errors, because history is immutable.

use serde::{Deserialize, Serialize};

use crate::duration;
use crate::name;
use crate::trailer::{self, Trailer, TrailerConfig};

pub const SESSION: &str = "Session";
pub const MILESTONE: &str = "Milestone";
pub const MILESTONE_DONE: &str = "Milestone-Done";
pub const TASK_DONE: &str = "Task-Done";
pub const EFFORT: &str = "Effort";
pub const BLOCKER: &str = "Blocker";
pub const BLOCKER_RESOLVED: &str = "Blocker-Resolved";

/// Every trailer key the tool reads, in the order the documentation lists them.
pub const KEYS: [&str; 7] = [
    SESSION,
    MILESTONE,
    MILESTONE_DONE,
    TASK_DONE,
    EFFORT,
    BLOCKER,
    BLOCKER_RESOLVED,
];

/// Most sessions one commit may name (`Session` values and qualifiers together). A commit's
/// unqualified events count for every session it names, so a hostile commit naming thousands
/// of sessions and carrying thousands of events would cost their product in every report;
/// no real commit names this many, and the rest are ignored with a warning.
pub const MAX_SESSIONS: usize = 32;
/// Most events one commit may carry; the rest are ignored with a warning.
pub const MAX_EVENTS: usize = 10_000;

/// One thing a trailer says happened. `session` is set when the value was qualified as
/// `<session>/<milestone>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Milestone {
        #[serde(skip_serializing_if = "Option::is_none")]
        session: Option<String>,
        milestone: String,
    },
    MilestoneDone {
        #[serde(skip_serializing_if = "Option::is_none")]
        session: Option<String>,
        milestone: String,
    },
    TaskDone {
        #[serde(skip_serializing_if = "Option::is_none")]
        session: Option<String>,
        milestone: String,
        task: String,
    },
    Effort {
        minutes: u64,
    },
    Blocker {
        tag: String,
        text: String,
    },
    BlockerResolved {
        tag: String,
    },
}

impl Event {
    /// The session a qualified value names.
    pub fn qualifier(&self) -> Option<&str> {
        match self {
            Event::Milestone { session, .. }
            | Event::MilestoneDone { session, .. }
            | Event::TaskDone { session, .. } => session.as_deref(),
            _ => None,
        }
    }

    /// The blocker this event opens or closes, if any.
    pub fn blocker_tag(&self) -> Option<&str> {
        match self {
            Event::Blocker { tag, .. } | Event::BlockerResolved { tag } => Some(tag),
            _ => None,
        }
    }

    /// The milestone this event is about, if any.
    pub fn milestone(&self) -> Option<&str> {
        match self {
            Event::Milestone { milestone, .. }
            | Event::MilestoneDone { milestone, .. }
            | Event::TaskDone { milestone, .. } => Some(milestone),
            _ => None,
        }
    }
}

/// What a commit message links to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// `Session` values (names or UUIDs), without duplicates, in message order.
    pub sessions: Vec<String>,
    pub events: Vec<Event>,
    /// Values that do not parse, as sentences.
    pub problems: Vec<String>,
}

impl Links {
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.events.is_empty() && self.problems.is_empty()
    }

    /// Every session the commit names: `Session` values and qualifiers of qualified values.
    pub fn named_sessions(&self) -> impl Iterator<Item = &str> {
        self.sessions
            .iter()
            .map(String::as_str)
            .chain(self.events.iter().filter_map(Event::qualifier))
    }

    /// Whether the commit names the session called `name` or identified by `id`.
    pub fn names(&self, name: &str, id: &str) -> bool {
        self.named_sessions()
            .any(|s| s == name || (!id.is_empty() && s.eq_ignore_ascii_case(id)))
    }
}

/// The links of a commit in history: its trailer block as git reads it, pooled with the
/// trailers of the items of a hosting service's squash merge.
pub fn from_message(message: &[u8], cfg: &TrailerConfig) -> Links {
    let message = trailer::skip_blank_lines(message);
    let mut links = Links::default();
    let mut add = |key: &[u8], value: &[u8]| links.add(key, value);
    match squash_parts(message) {
        Some(parts) => {
            for part in parts {
                trailer::visit_verbatim(part, cfg, true, &mut add);
            }
        }
        None => trailer::visit_verbatim(message, cfg, true, &mut add),
    }
    links.dedup_sessions();
    links.bound();
    links
}

/// A GitHub squash merge: a title, a blank line, then two or more `* ` items (each a branch
/// commit's message), optionally followed by a line of dashes and co-author trailers. Returns
/// each item's message and the tail, or `None` for any other shape.
fn squash_parts(message: &[u8]) -> Option<Vec<&[u8]>> {
    let mut lines = message.split_inclusive(|&c| c == b'\n');
    let title = lines.next()?;
    let blank = lines.next()?;
    if !blank.iter().all(|&c| trailer::is_space(c)) {
        return None;
    }
    let body_start = message.len() - lines.clone().map(<[u8]>::len).sum::<usize>();
    let mut parts = Vec::new();
    let mut item_start: Option<usize> = None;
    let mut at = body_start;
    let mut tail = None;
    for line in lines {
        if line.starts_with(b"* ") {
            if let Some(start) = item_start {
                parts.push(&message[start..at]);
            } else if at != body_start {
                return None;
            }
            item_start = Some(at + 2);
        } else if is_dash_rule(line) && item_start.is_some() {
            tail = Some(at);
            break;
        }
        at += line.len();
    }
    let start = item_start?;
    parts.push(&message[start..tail.unwrap_or(message.len())]);
    // An ordinary commit may list things with `* ` too: only GitHub's shape counts, a title
    // ending in the pull request's number or the line of dashes before co-authors.
    if parts.len() < 2 || !(tail.is_some() || ends_with_pr_number(title)) {
        return None;
    }
    if let Some(t) = tail {
        parts.push(&message[t..]);
    }
    Some(parts)
}

/// A title like `Add the parser (#123)`.
fn ends_with_pr_number(title: &[u8]) -> bool {
    let t = title.trim_ascii_end();
    let Some(inner) = t.strip_suffix(b")") else {
        return false;
    };
    let digits = inner
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    digits > 0 && inner[..inner.len() - digits].ends_with(b"(#")
}

fn is_dash_rule(line: &[u8]) -> bool {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    text.len() >= 3 && text.iter().all(|&c| c == b'-')
}

/// Interprets the trailers our keys name; other trailers are ignored.
pub fn from_trailers(trailers: &[Trailer]) -> Links {
    let mut links = Links::default();
    for t in trailers {
        links.add(&t.key, &t.value);
    }
    links.dedup_sessions();
    links.bound();
    links
}

impl Links {
    /// Drops repeated `Session` values, keeping the first of each, in linear time: a hostile
    /// message may carry tens of thousands of them.
    fn dedup_sessions(&mut self) {
        if self.sessions.len() < 2 {
            return;
        }
        let mut seen = std::collections::HashSet::with_capacity(self.sessions.len());
        self.sessions.retain(|s| seen.insert(s.clone()));
    }

    /// Applies [`MAX_EVENTS`] and [`MAX_SESSIONS`], saying what was left out.
    fn bound(&mut self) {
        if self.events.len() > MAX_EVENTS {
            self.problems.push(format!(
                "the commit carries {} events; only the first {MAX_EVENTS} count",
                self.events.len()
            ));
            self.events.truncate(MAX_EVENTS);
        }
        // Every commit passes here: count without allocating unless there could be too many.
        if self.named_sessions().nth(MAX_SESSIONS).is_none() {
            return;
        }
        let mut named: Vec<&str> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for s in self.named_sessions() {
            if seen.insert(s) {
                named.push(s);
            }
        }
        if named.len() <= MAX_SESSIONS {
            return;
        }
        let total = named.len();
        let kept: std::collections::HashSet<String> = named[..MAX_SESSIONS]
            .iter()
            .map(|s| s.to_string())
            .collect();
        self.sessions.retain(|s| kept.contains(s));
        self.events
            .retain(|e| e.qualifier().is_none_or(|q| kept.contains(q)));
        self.problems.push(format!(
            "the commit names {total} sessions; only the first {MAX_SESSIONS} count"
        ));
    }

    /// Takes in one trailer; keys other than ours are ignored.
    fn add(&mut self, key: &[u8], value: &[u8]) {
        let Some(key) = KEYS.iter().find(|k| key.eq_ignore_ascii_case(k.as_bytes())) else {
            return;
        };
        let value = String::from_utf8_lossy(value);
        match parse_value(key, &value) {
            Ok(Value::Session(s)) => self.sessions.push(s),
            Ok(Value::Event(e)) => self.events.push(e),
            Err(why) => self.problems.push(why),
        }
    }
}

/// A parsed value of one of our trailers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Session(String),
    Event(Event),
}

/// Parses the value of trailer `key` (one of [`KEYS`]); the error is a sentence naming both.
pub fn parse_value(key: &str, value: &str) -> Result<Value, String> {
    let value = value.trim();
    let shown = || name::quote(value);
    match key {
        SESSION => {
            if name::is_valid(value) || uuid::Uuid::try_parse(value).is_ok() {
                Ok(Value::Session(value.to_string()))
            } else {
                Err(format!(
                    "Session {} is neither a session name nor a session id",
                    shown()
                ))
            }
        }
        MILESTONE | MILESTONE_DONE => {
            let (session, milestone) = match value.split_once('/') {
                Some((s, m)) => (Some(s), m),
                None => (None, value),
            };
            if session.is_some_and(|s| !name::is_valid(s)) || !name::is_valid(milestone) {
                return Err(format!(
                    "{key} {} is not a milestone id (or <session>/<milestone>)",
                    shown()
                ));
            }
            let session = session.map(str::to_string);
            let milestone = milestone.to_string();
            Ok(Value::Event(if key == MILESTONE {
                Event::Milestone { session, milestone }
            } else {
                Event::MilestoneDone { session, milestone }
            }))
        }
        TASK_DONE => {
            let parts: Vec<&str> = value.split('/').collect();
            let parsed = match parts[..] {
                [m, t] => Some((None, m, t)),
                [s, m, t] => Some((Some(s), m, t)),
                _ => None,
            }
            .filter(|(s, m, t)| {
                s.is_none_or(name::is_valid) && name::is_valid(m) && name::is_valid(t)
            });
            let Some((session, milestone, task)) = parsed else {
                return Err(format!(
                    "Task-Done {} is not <milestone>/<task> (or <session>/<milestone>/<task>)",
                    shown()
                ));
            };
            Ok(Value::Event(Event::TaskDone {
                session: session.map(str::to_string),
                milestone: milestone.to_string(),
                task: task.to_string(),
            }))
        }
        EFFORT => duration::parse_minutes(value)
            .map(|minutes| Value::Event(Event::Effort { minutes }))
            .map_err(|_| {
                format!(
                    "Effort {} is not a duration; write it like 45m, 1h30m, 1.5h or 2d",
                    shown()
                )
            }),
        BLOCKER | BLOCKER_RESOLVED => {
            let (tag, text) = match value.strip_prefix('#') {
                Some(rest) => rest.split_once(char::is_whitespace).unwrap_or((rest, "")),
                None => ("", ""),
            };
            if !name::is_valid(tag) || (key == BLOCKER && value.strip_prefix('#').is_none()) {
                return Err(format!(
                    "{key} {} does not start with a #tag of lowercase letters, digits and hyphens",
                    shown()
                ));
            }
            let tag = tag.to_string();
            Ok(Value::Event(if key == BLOCKER {
                Event::Blocker {
                    tag,
                    text: text.trim().to_string(),
                }
            } else {
                Event::BlockerResolved { tag }
            }))
        }
        _ => Err(format!("{key} is not a trailer git-session reads")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(msg: &str) -> Links {
        from_message(msg.as_bytes(), &TrailerConfig::default())
    }

    #[test]
    fn reads_every_key() {
        let l = links(
            "Subj\n\nSession: search\nmilestone: parser\nMilestone-Done: other/ranking\n\
             Task-Done: parser/lexer\nEffort: 1h30m\nBlocker: #flaky-ci CI flakes on arm\n\
             Blocker-Resolved: #flaky-ci\nSigned-off-by: A <a@x>\n",
        );
        assert_eq!(l.sessions, ["search"]);
        assert_eq!(
            l.events,
            [
                Event::Milestone {
                    session: None,
                    milestone: "parser".into()
                },
                Event::MilestoneDone {
                    session: Some("other".into()),
                    milestone: "ranking".into()
                },
                Event::TaskDone {
                    session: None,
                    milestone: "parser".into(),
                    task: "lexer".into()
                },
                Event::Effort { minutes: 90 },
                Event::Blocker {
                    tag: "flaky-ci".into(),
                    text: "CI flakes on arm".into()
                },
                Event::BlockerResolved {
                    tag: "flaky-ci".into()
                },
            ]
        );
        assert!(l.problems.is_empty());
        assert!(l.names("other", ""));
    }

    #[test]
    fn bad_values_are_problems_not_errors() {
        let l = links(
            "S\n\nSession: Bad Name\nEffort: soon\nBlocker: no tag\nTask-Done: x\nMilestone: a/b/c\n",
        );
        assert!(l.sessions.is_empty());
        assert!(l.events.is_empty());
        assert_eq!(l.problems.len(), 5, "{:?}", l.problems);
        assert!(l.problems[1].contains("Effort 'soon' is not a duration"));
    }

    #[test]
    fn session_by_uuid() {
        let l = links("S\n\nSession: 0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\n");
        assert!(l.names("x", "0193A9E4-5C1F-7D2A-9B3E-4F5A6B7C8D9E"));
    }

    #[test]
    fn github_squash_pools_items() {
        let l = links(
            "Feature (#12)\n\n* Add parser\n\nSession: s-001\nMilestone: m1\n\n* Add tests\n\n\
             Milestone-Done: m2\n\n---------\n\nCo-authored-by: Bob <bob@example.com>\n",
        );
        assert_eq!(l.sessions, ["s-001"]);
        assert_eq!(l.events.len(), 2);
    }

    /// Regression: any "title, blank, `* ` items" message was read as a squash merge, so a
    /// trailer-like line in the middle of an ordinary bullet list counted.
    #[test]
    fn an_ordinary_bullet_list_is_not_a_squash() {
        let body = "\n\n* one\n\nMilestone-Done: parser\n\n* two\n\nmore prose\n";
        assert!(links(&format!("Refactor{body}")).events.is_empty());
        assert_eq!(links(&format!("Refactor (#12){body}")).events.len(), 1);
        assert!(
            links("Refactor (#x)\n\n* a\n\nEffort: 1h\n\n* b\n")
                .events
                .is_empty()
        );
    }

    #[test]
    fn a_bullet_list_is_not_a_squash_without_two_items() {
        let l = links("Subj\n\n* one item\n\nSession: x\nprose\n");
        assert!(l.sessions.is_empty());
    }

    /// Regression: a commit naming 5000 sessions with 5000 blockers made `list` add 25 million
    /// blocker marks (45 s in a debug build, gigabytes of memory).
    #[test]
    fn a_commit_names_a_bounded_number_of_sessions_and_events() {
        let mut msg = String::from("S\n\nSession: first\n");
        for i in 0..100 {
            msg.push_str(&format!("Session: s-{i}\nMilestone-Done: q-{i}/m\n"));
        }
        for i in 0..(MAX_EVENTS + 5) {
            msg.push_str(&format!("Blocker: #b{i} x\n"));
        }
        let l = links(&msg);
        assert_eq!(
            l.named_sessions()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            MAX_SESSIONS
        );
        assert_eq!(l.sessions[0], "first");
        assert!(l.events.len() <= MAX_EVENTS);
        assert!(
            l.problems
                .iter()
                .any(|p| p.contains("names 201 sessions; only the first 32 count")),
            "{:?}",
            l.problems
        );
        assert!(
            l.problems
                .iter()
                .any(|p| p.contains("only the first 10000 count"))
        );
        // An ordinary commit is untouched.
        let l = links("S\n\nSession: a\nSession: b\nBlocker: #x y\n");
        assert_eq!(
            (l.sessions.len(), l.events.len(), l.problems.len()),
            (2, 1, 0)
        );
    }

    #[test]
    fn squash_without_tail_counts_the_last_item_once() {
        let l = links("T\n\n* a\n\nSession: s\n\n* b\n\nEffort: 1h\n");
        assert_eq!(l.events, [Event::Effort { minutes: 60 }]);
    }
}
