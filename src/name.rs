//! Names of sessions, milestones, tasks and blocker tags: `[a-z0-9][a-z0-9-]{0,62}`, so they are
//! safe as file names, branch names and trailer values.

use std::fmt;

use crate::error::{Error, Result};

/// A validated name. Constructing one is the only check callers need before touching files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

pub const MAX_LEN: usize = 63;

/// Session names that would collide with the tool's own files in `.sessions/`.
const RESERVED_SESSION_NAMES: &[&str] = &["config"];

impl Name {
    /// Checks `text` against the name rule; `what` ("session name", "milestone id", …) goes into
    /// the error sentence.
    pub fn parse(text: &str, what: &str) -> Result<Name> {
        match problem(text) {
            None => Ok(Name(text.to_string())),
            Some(why) => Err(Error::input(format!(
                "{} is not a valid {what}: {why}",
                quote(text)
            ))),
        }
    }

    /// As [`Name::parse`], keeping the given string.
    pub fn from_string(text: String, what: &str) -> Result<Name> {
        match problem(&text) {
            None => Ok(Name(text)),
            Some(why) => Err(Error::input(format!(
                "{} is not a valid {what}: {why}",
                quote(&text)
            ))),
        }
    }

    /// A session name: a name that is also not one of the tool's reserved file stems.
    pub fn session(text: &str) -> Result<Name> {
        let name = Name::parse(text, "session name")?;
        if RESERVED_SESSION_NAMES.contains(&text) {
            return Err(Error::input(format!(
                "'{text}' is reserved (.sessions/{text}.toml is the repository's policy file); choose another session name"
            )));
        }
        Ok(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `text` is a valid name, without building an error.
pub fn is_valid(text: &str) -> bool {
    problem(text).is_none()
}

fn problem(text: &str) -> Option<&'static str> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Some("it is empty; use lowercase letters, digits and hyphens");
    }
    if bytes.len() > MAX_LEN {
        return Some("it is longer than 63 characters");
    }
    if !bytes[0].is_ascii_lowercase() && !bytes[0].is_ascii_digit() {
        return Some("it must start with a lowercase letter or a digit");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    {
        return Some("use only lowercase letters, digits and hyphens");
    }
    None
}

/// A name shown in an error: quoted, control characters escaped, and cut short if huge.
pub fn quote(text: &str) -> String {
    let mut shown: String = text.chars().take(80).flat_map(char::escape_debug).collect();
    if text.chars().count() > 80 {
        shown.push('…');
    }
    format!("'{shown}'")
}

/// `text` on one line, its control characters escaped (`\n`, `\u{1b}`) and nothing else
/// changed: for repository text shown whole, such as a criteria command, which must not start a
/// line of its own (a CI runner reads `::command::` lines) nor drive the terminal.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "0", "search-rewrite", "m1", "a-", &"x".repeat(63)] {
            assert!(Name::parse(ok, "name").is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "-a",
            "A",
            "a_b",
            "a/b",
            "../x",
            "/abs",
            "..",
            ".",
            "é",
            "a b",
            "a.b",
            &"x".repeat(64),
        ] {
            let err = Name::parse(bad, "session name").unwrap_err();
            assert!(err.message.contains("is not a valid session name"), "{bad}");
        }
    }

    #[test]
    fn config_is_reserved_for_sessions_only() {
        assert!(Name::session("config").is_err());
        assert!(Name::parse("config", "milestone id").is_ok());
    }

    #[test]
    fn one_line_escapes_controls_only() {
        assert_eq!(
            one_line("cargo test\n::error::x\u{1b}[2J é"),
            "cargo test\\n::error::x\\u{1b}[2J é"
        );
        assert_eq!(one_line("plain 'text'"), "plain 'text'");
    }

    #[test]
    fn quote_escapes_and_shortens() {
        assert_eq!(quote("a\nb"), "'a\\nb'");
        assert!(quote(&"y".repeat(100)).ends_with("…'"));
    }
}
