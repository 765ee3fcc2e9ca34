//! A session's lifecycle (`pause`, `resume`, `finish`, `abandon`): which status changes make
//! sense, and the edit of the session file that makes one. Pure: text in, text out.
//!
//! The edit touches only the `status` value and the `status_reason` line: everything else in
//! the file — comments, order, spacing, quoting — stays byte for byte as the user wrote it, so
//! `git diff` shows just the change.

use crate::error::{Error, Result};
use crate::session::{self, Status};

/// A lifecycle command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Finish,
    Abandon,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Finish => "finish",
            Action::Abandon => "abandon",
        }
    }

    /// "paused": what the session is once the action is done.
    pub fn participle(self) -> &'static str {
        match self {
            Action::Pause => "paused",
            Action::Resume => "resumed",
            Action::Finish => "finished",
            Action::Abandon => "abandoned",
        }
    }
}

/// The status `action` leads to from `from`, or why it makes no sense (exit 2, one sentence).
pub fn transition(name: &str, from: Status, action: Action) -> Result<Status> {
    use Status::*;
    let to = match (action, from) {
        (Action::Pause, Planned | Active) => Paused,
        (Action::Resume, Planned | Paused) => Active,
        (Action::Finish, Planned | Active | Paused) => Done,
        (Action::Abandon, Planned | Active | Paused) => Abandoned,
        (Action::Pause, Paused) | (Action::Resume, Active) | (Action::Finish, Done) => {
            return Err(Error::input(format!(
                "session '{name}' is already {from}; there is nothing to {}",
                action.verb()
            )));
        }
        (Action::Abandon, Abandoned) => {
            return Err(Error::input(format!(
                "session '{name}' is already abandoned"
            )));
        }
        (_, Done | Abandoned) => {
            return Err(Error::input(format!(
                "session '{name}' is {from}, so it cannot be {}; start a new session, or edit status in {} by hand if it must reopen",
                action.participle(),
                crate::store::Store::display_path(name)
            )));
        }
    };
    Ok(to)
}

/// The session file `text` with `status` set to `to` and `status_reason` set to `reason`
/// (removed when `None`). Only those two lines change; the result is checked to parse.
pub fn edit_status(text: &str, to: Status, reason: Option<&str>) -> Result<String> {
    let broken = |what: &str| {
        Error::input(format!(
            "cannot edit the session file: {what}; fix it (git session validate shows how) and try again"
        ))
    };
    if let Some(r) = reason
        && let Some(why) = session::reason_problem(r)
    {
        return Err(Error::input(format!("--reason {why}")));
    }
    let doc = toml_edit::Document::parse(text).map_err(|_| broken("it is not valid TOML"))?;
    let root = doc.as_table();
    let (status_key, status_item) = root
        .get_key_value("status")
        .ok_or_else(|| broken("it has no status key"))?;
    let status_value = status_item
        .as_value()
        .filter(|v| v.is_str())
        .ok_or_else(|| broken("its status is not a string"))?;
    let status_span = status_value
        .span()
        .ok_or_else(|| broken("its status has no position"))?;
    let status_start = status_key.span().map_or(status_span.start, |s| s.start);
    let reason_span = match root.get_key_value("status_reason") {
        None => None,
        Some((k, item)) => {
            let v = item
                .as_value()
                .and_then(|v| v.span())
                .ok_or_else(|| broken("its status_reason is not a string"))?;
            Some((k.span().map_or(v.start, |s| s.start), v))
        }
    };

    // Edits as (range, replacement), applied from the end so earlier offsets stay valid.
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let quote = |raw: &str, new: &str| -> String {
        if raw.starts_with('\'') && !raw.starts_with("'''") && !new.contains('\'') {
            format!("'{new}'")
        } else {
            toml_edit::Value::from(new).to_string().trim().to_string()
        }
    };
    edits.push((
        status_span.clone(),
        quote(&text[status_span.clone()], to.as_str()),
    ));
    match (reason_span, reason) {
        (Some((_, value)), Some(r)) => {
            let new = quote(&text[value.clone()], r);
            edits.push((value, new));
        }
        (Some((key_start, value)), None) => {
            let line = whole_line(text, key_start, value.end)
                .ok_or_else(|| broken("its status_reason shares a line with another key"))?;
            edits.push((line, String::new()));
        }
        (None, Some(r)) => {
            let (at, eol) = line_end(text, status_span.end);
            let indent = line_indent(text, status_start);
            let mut line = String::new();
            if at == text.len() && !text.ends_with('\n') {
                line.push_str(eol);
            }
            line.push_str(&format!(
                "{indent}status_reason = {}{eol}",
                toml_edit::Value::from(r).to_string().trim()
            ));
            edits.push((at..at, line));
        }
        (None, None) => {}
    }
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = text.to_string();
    for (range, new) in edits {
        out.replace_range(range, &new);
    }
    // The edit must leave a valid file saying what was asked; anything else is a bug here.
    match session::parse(&out, None) {
        Ok(s) if s.status == to && s.status_reason.as_deref() == reason => Ok(out),
        _ => Err(broken("the edited file would not be valid")),
    }
}

/// The offset just past the end of the line holding `at`, and that line's line ending.
fn line_end(text: &str, at: usize) -> (usize, &'static str) {
    match text[at..].find('\n') {
        Some(i) => {
            let nl = at + i;
            let eol = if nl > 0 && text.as_bytes()[nl - 1] == b'\r' {
                "\r\n"
            } else {
                "\n"
            };
            (nl + 1, eol)
        }
        None => (text.len(), "\n"),
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_indent(text: &str, at: usize) -> &str {
    let start = line_start(text, at);
    let line = &text[start..at];
    &line[..line.len() - line.trim_start().len()]
}

/// The whole line(s) from the key at `start` to the value ending at `end`, when nothing but
/// blanks and a comment share them.
fn whole_line(text: &str, start: usize, end: usize) -> Option<std::ops::Range<usize>> {
    let from = line_start(text, start);
    if !text[from..start].trim().is_empty() {
        return None;
    }
    let (to, _) = line_end(text, end);
    let rest = text[end..to].trim();
    (rest.is_empty() || rest.starts_with('#')).then_some(from..to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# Our search work; keep this comment.\n\
schema = 1\n\
id = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\n\
name   =   \"s\"          # odd spacing stays\n\
branch = \"session/s\"\n\
base = \"main\"\n\
created = 2026-11-24T09:30:00Z\n\
status = \"active\"   # set by git session\n\
objectives = [ \"one\",\n   \"two\" ]\n\
\n\
[[milestones]]\n\
id = \"a\"\n";

    #[test]
    fn transitions_that_make_sense() {
        use Action::*;
        use Status::*;
        let ok = [
            (Pause, Active, Paused),
            (Pause, Planned, Paused),
            (Resume, Paused, Active),
            (Resume, Planned, Active),
            (Finish, Active, Done),
            (Finish, Paused, Done),
            (Abandon, Active, Abandoned),
            (Abandon, Paused, Abandoned),
        ];
        for (action, from, to) in ok {
            assert_eq!(
                transition("s", from, action).unwrap(),
                to,
                "{action:?} {from}"
            );
        }
    }

    #[test]
    fn transitions_that_do_not_are_one_sentence() {
        use Action::*;
        use Status::*;
        let refused = [
            (Pause, Paused, "already paused"),
            (Resume, Active, "already active"),
            (Resume, Done, "is done, so it cannot be resumed"),
            (Resume, Abandoned, "is abandoned, so it cannot be resumed"),
            (Finish, Done, "already done"),
            (Finish, Abandoned, "is abandoned, so it cannot be finished"),
            (Abandon, Done, "is done, so it cannot be abandoned"),
            (Abandon, Abandoned, "already abandoned"),
            (Pause, Done, "cannot be paused"),
        ];
        for (action, from, needle) in refused {
            let e = transition("s", from, action).unwrap_err();
            assert_eq!(e.kind, crate::Kind::Input);
            assert!(
                e.message.contains(needle),
                "{action:?} {from}: {}",
                e.message
            );
            assert!(!e.message.contains('\n'));
        }
    }

    #[test]
    fn only_the_status_line_changes() {
        let out = edit_status(FILE, Status::Paused, None).unwrap();
        assert_eq!(
            out,
            FILE.replace("\"active\"   # set", "\"paused\"   # set"),
            "{out}"
        );
    }

    #[test]
    fn a_reason_goes_on_its_own_line_after_status_and_goes_away_again() {
        let paused = edit_status(FILE, Status::Paused, Some("waiting for \"ops\"")).unwrap();
        assert_eq!(
            paused,
            FILE.replace(
                "status = \"active\"   # set by git session\n",
                "status = \"paused\"   # set by git session\nstatus_reason = 'waiting for \"ops\"'\n"
            )
        );
        let changed = edit_status(&paused, Status::Abandoned, Some("moot")).unwrap();
        assert!(changed.contains("status_reason = 'moot'\n"), "{changed}");
        let resumed = edit_status(&paused, Status::Active, None).unwrap();
        assert_eq!(resumed, FILE);
    }

    #[test]
    fn quoting_and_line_endings_are_kept() {
        let crlf = FILE
            .replace("status = \"active\"", "status = 'active'")
            .replace('\n', "\r\n");
        let out = edit_status(&crlf, Status::Done, None).unwrap();
        assert_eq!(out, crlf.replace("'active'", "'done'"));
        let with_reason = edit_status(&crlf, Status::Paused, Some("later")).unwrap();
        assert!(
            with_reason
                .contains("'paused'   # set by git session\r\nstatus_reason = \"later\"\r\n")
        );
    }

    #[test]
    fn a_file_without_a_final_newline() {
        let text = "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"s\"\n\
                    branch = \"session/s\"\nbase = \"main\"\ncreated = 2026-11-24T09:30:00Z\n\
                    status = \"active\"";
        let out = edit_status(text, Status::Paused, Some("why")).unwrap();
        assert!(
            out.ends_with("\nstatus = \"paused\"\nstatus_reason = \"why\"\n"),
            "{out}"
        );
    }

    #[test]
    fn bad_reasons_are_refused() {
        assert!(edit_status(FILE, Status::Paused, Some("two\nlines")).is_err());
        assert!(edit_status(FILE, Status::Paused, Some("  ")).is_err());
        assert!(edit_status(FILE, Status::Paused, Some(&"x".repeat(501))).is_err());
    }
}
