//! Repository policy: `.sessions/config.toml`. Every key is optional.

use serde::Deserialize;

use crate::duration;
use crate::error;
use crate::session::{Finding, branch_name_problem};

/// Policy for this repository, with defaults for everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Prepended to a session's name to make its branch.
    pub branch_prefix: String,
    /// Gaps between one author's commits up to this long count as work.
    pub estimate_max_gap_secs: i64,
    /// Minutes added for the first commit of each streak.
    pub estimate_first_commit_secs: i64,
    /// How far before a session's `created` its commits may be dated (clocks, rebases).
    pub clock_skew_secs: i64,
    /// Whether the commit-msg hook refuses bad trailers (true) or only warns.
    pub strict: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            branch_prefix: "session/".to_string(),
            estimate_max_gap_secs: 2 * 3600,
            estimate_first_commit_secs: 30 * 60,
            clock_skew_secs: 24 * 3600,
            strict: true,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    schema: Option<toml::Spanned<i64>>,
    #[serde(default)]
    branch: RawBranch,
    #[serde(default)]
    estimate: RawEstimate,
    #[serde(default)]
    history: RawHistory,
    #[serde(default)]
    hooks: RawHooks,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBranch {
    prefix: Option<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEstimate {
    max_gap: Option<toml::Spanned<String>>,
    first_commit: Option<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHistory {
    clock_skew: Option<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    strict: Option<bool>,
}

/// The text `init` writes: every key, commented, at its default.
pub const TEMPLATE: &str = r#"# Repository policy for git-session. Every key is optional; the values shown are the defaults.
schema = 1

[branch]
# Sessions started without --branch get the branch <prefix><name>.
prefix = "session/"

[estimate]
# Estimated effort: gaps between one author's commits up to max_gap count as work,
# and the first commit of each streak adds first_commit.
max_gap = "2h"
first_commit = "30m"

[history]
# A session's commits are looked for from `created` minus this much (clock skew, rebases).
clock_skew = "24h"

[hooks]
# The commit-msg hook refuses unknown sessions, milestones and tasks, and bad values.
# Set to false to only warn.
strict = true
"#;

pub fn parse(text: &str) -> Result<Config, Vec<Finding>> {
    let at = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = error::line_col(text, span.start);
        Finding {
            line,
            column,
            message,
        }
    };
    let raw: Raw = toml::from_str(text)
        .map_err(|e| vec![at(e.span().unwrap_or(0..0), e.message().trim().to_string())])?;
    let mut findings = Vec::new();
    let mut cfg = Config::default();
    if let Some(s) = &raw.schema
        && *s.get_ref() != 1
    {
        findings.push(at(
            s.span(),
            format!(
                "schema {} is not supported; this git-session reads schema 1",
                s.get_ref()
            ),
        ));
    }
    if let Some(p) = &raw.branch.prefix {
        let probe = format!("{}x", p.get_ref());
        match branch_name_problem(&probe) {
            None => cfg.branch_prefix = p.get_ref().clone(),
            Some(why) => findings.push(at(
                p.span(),
                format!(
                    "branch.prefix {} does not make valid branch names: {why}",
                    crate::name::quote(p.get_ref())
                ),
            )),
        }
    }
    let mut secs = |value: &Option<toml::Spanned<String>>, key: &str, target: &mut i64| {
        if let Some(v) = value {
            match duration::parse_seconds(v.get_ref()) {
                Ok(s) => *target = s as i64,
                Err(e) => findings.push(at(v.span(), format!("{key}: {}", e.message))),
            }
        }
    };
    secs(
        &raw.estimate.max_gap,
        "estimate.max_gap",
        &mut cfg.estimate_max_gap_secs,
    );
    secs(
        &raw.estimate.first_commit,
        "estimate.first_commit",
        &mut cfg.estimate_first_commit_secs,
    );
    secs(
        &raw.history.clock_skew,
        "history.clock_skew",
        &mut cfg.clock_skew_secs,
    );
    if let Some(strict) = raw.hooks.strict {
        cfg.strict = strict;
    }
    if findings.is_empty() {
        Ok(cfg)
    } else {
        Err(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_the_defaults() {
        assert_eq!(parse(TEMPLATE).unwrap(), Config::default());
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn values_and_errors() {
        let c = parse("[estimate]\nmax_gap = \"1h\"\n[branch]\nprefix = \"wip/\"\n").unwrap();
        assert_eq!(c.estimate_max_gap_secs, 3600);
        assert_eq!(c.branch_prefix, "wip/");
        let f = parse("[estimate]\nmax_gap = \"soon\"\n").unwrap_err();
        assert_eq!((f[0].line, f[0].column), (2, 11));
        let f = parse("[estimat]\n").unwrap_err();
        assert!(f[0].message.contains("unknown field"));
    }
}
