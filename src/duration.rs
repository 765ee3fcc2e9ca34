//! Durations as people write them in trailers and TOML: `45m`, `1h30m`, `1.5h`, `2d`.
//! Effort is work time: there a day is a working day of 8 hours and a week five of them, because
//! `Effort: 2d` means two days of work, not 48 hours. Everywhere else (timeouts, clock skew) a
//! day is 24 hours and a week 7 days.

use crate::error::{Error, Result};

pub const MINUTES_PER_DAY: f64 = 8.0 * 60.0;

/// Parses effort into whole minutes (rounded), refusing bare numbers as ambiguous.
pub fn parse_minutes(text: &str) -> Result<u64> {
    parse(text, MINUTES_PER_DAY * 60.0, 5.0).map(|s| (s + 30) / 60)
}

/// Parses a span of clock time into whole seconds (timeouts, clock skew).
pub fn parse_seconds(text: &str) -> Result<u64> {
    parse(text, 24.0 * 3600.0, 7.0)
}

fn parse(text: &str, day_secs: f64, days_per_week: f64) -> Result<u64> {
    let bad = || {
        Error::input(format!(
            "{} is not a duration; write it like 45m, 1h30m, 1.5h or 2d",
            crate::name::quote(text)
        ))
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let seconds = match rest[..unit_len].to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" | "day" | "days" => day_secs,
            "w" | "wk" | "wks" => days_per_week * day_secs,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = rest[unit_len..].trim_start();
    }
    // A year of effort in one trailer is a typo, not work.
    if !total.is_finite() || total > 366.0 * 24.0 * 3600.0 {
        return Err(bad());
    }
    Ok(total.round() as u64)
}

/// How long ago, compactly: `5m ago`, `3h ago`, `12d ago`, `4mo ago`, `2y ago`.
pub fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s if s < 60 * 86_400 => format!("{}d ago", s / 86_400),
        s if s < 730 * 86_400 => format!("{}mo ago", s / (30 * 86_400)),
        s => format!("{}y ago", s / (365 * 86_400)),
    }
}

/// Minutes shown compactly: `45m`, `2h`, `1h30m`, `3d2h` (days of 8 hours).
pub fn format_minutes(minutes: u64) -> String {
    if minutes == 0 {
        return "0m".to_string();
    }
    let day = MINUTES_PER_DAY as u64;
    let (d, rest) = (minutes / day, minutes % day);
    let (h, m) = (rest / 60, rest % 60);
    let mut out = String::new();
    if d > 0 {
        out.push_str(&format!("{d}d"));
    }
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_picks_the_unit_that_reads_best() {
        assert_eq!(ago(-5), "0m ago");
        assert_eq!(ago(59 * 60), "59m ago");
        assert_eq!(ago(3600), "1h ago");
        assert_eq!(ago(86_400 * 59), "59d ago");
        assert_eq!(ago(86_400 * 90), "3mo ago");
        assert_eq!(ago(86_400 * 800), "2y ago");
    }

    #[test]
    fn the_documented_forms() {
        assert_eq!(parse_minutes("45m").unwrap(), 45);
        assert_eq!(parse_minutes("1h30m").unwrap(), 90);
        assert_eq!(parse_minutes("1.5h").unwrap(), 90);
        assert_eq!(parse_minutes("2d").unwrap(), 960);
        assert_eq!(parse_minutes("1h 15m").unwrap(), 75);
        assert_eq!(parse_minutes(" 2H ").unwrap(), 120);
        assert_eq!(parse_seconds("10m").unwrap(), 600);
        assert_eq!(parse_seconds("90s").unwrap(), 90);
        assert_eq!(parse_seconds("1d").unwrap(), 86_400);
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "", "45", "soon", "m", "1x", "1.2.3h", "-1h", "h1", "99999d", "1h-",
        ] {
            assert!(parse_minutes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_minutes(0), "0m");
        assert_eq!(format_minutes(45), "45m");
        assert_eq!(format_minutes(90), "1h30m");
        assert_eq!(format_minutes(960 + 61), "2d1h1m");
    }
}
