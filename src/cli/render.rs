//! Small pieces of human output shared by the commands.

use chrono::{DateTime, FixedOffset};

use git_session::duration::format_minutes;
use git_session::progress::{Effort, State};

use super::Style;

/// A bar of `width` cells for a fraction in 0..=1.
pub fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

pub fn percent(fraction: f64) -> String {
    format!("{:.0}%", (fraction * 100.0).floor())
}

/// "1 commit", "2 commits".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The mark of a milestone state.
pub fn state_mark(style: &Style, state: State) -> String {
    match state {
        State::Done => style.green("✓"),
        State::InProgress => style.yellow("◐"),
        State::Pending => style.dim("○"),
    }
}

/// "3h reported, 2h30m estimated"; "none reported" parts left out.
pub fn effort(e: &Effort) -> String {
    let mut parts = Vec::new();
    if e.reported_minutes > 0 {
        parts.push(format!("{} reported", format_minutes(e.reported_minutes)));
    }
    parts.push(format!(
        "~{} estimated",
        format_minutes(e.estimated_minutes)
    ));
    parts.join(", ")
}

/// "today", "yesterday", "3 days ago", "in 2 days".
pub fn days_ago(days: i64) -> String {
    match days {
        0 => "today".to_string(),
        1 => "yesterday".to_string(),
        -1 => "tomorrow".to_string(),
        d if d > 0 => format!("{d} days ago"),
        d => format!("in {} days", -d),
    }
}

pub fn date(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Pads `text` to `width` columns (by characters).
pub fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n >= width {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(width - n))
    }
}

/// Cuts `text` to `width` characters with an ellipsis.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_percents() {
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(2.0, 2), "██");
        assert_eq!(percent(0.999), "99%");
        assert_eq!(percent(1.0), "100%");
    }

    #[test]
    fn words() {
        assert_eq!(count(1, "commit", "commits"), "1 commit");
        assert_eq!(days_ago(3), "3 days ago");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(pad("ab", 4), "ab  ");
    }
}
