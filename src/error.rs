//! One error type for the whole library: a kind that decides the exit code, and one sentence
//! that says what went wrong and what to do about it.

use std::fmt;

/// What kind of failure this is; each maps to one documented exit code (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Criteria unmet, validation findings, a hook refused a message.
    Findings,
    /// Bad input or usage: bad TOML, unknown session, unsafe name, not a repository.
    Input,
    /// The repository cannot answer: shallow history, unborn branch, unreadable objects.
    Unanswerable,
    /// Refused for safety: untrusted criteria commands.
    Refused,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Findings => 1,
            Kind::Input => 2,
            Kind::Unanswerable => 3,
            Kind::Refused => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Kind::Input, message)
    }

    pub fn findings(message: impl Into<String>) -> Self {
        Self::new(Kind::Findings, message)
    }

    pub fn unanswerable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unanswerable, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }

    /// An I/O failure on `path`, phrased for the user.
    pub fn io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::input(format!(
            "cannot {what} {}: {}",
            path.display(),
            io_reason(err)
        ))
    }
}

/// `std::io::Error` without the "(os error N)" suffix users do not need.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Line and column (both 1-based) of a byte offset in `text`, the way editors count them.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Kind::Findings.exit_code(), 1);
        assert_eq!(Kind::Input.exit_code(), 2);
        assert_eq!(Kind::Unanswerable.exit_code(), 3);
        assert_eq!(Kind::Refused.exit_code(), 4);
    }
}
