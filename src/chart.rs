//! Charts drawn as inline SVG by our own code: no scripts, no fonts or images to fetch. Pure:
//! data in, markup out. Every text that came from a user is escaped.
//!
//! Colours are the Okabe–Ito palette, which stays distinct for the common colour-vision
//! deficiencies; lines also differ by dash pattern and legends name them, so colour is never
//! the only cue.

use chrono::{FixedOffset, TimeZone};

/// Okabe–Ito colours.
pub mod palette {
    pub const BLUE: &str = "#0072B2";
    pub const ORANGE: &str = "#E69F00";
    pub const GREEN: &str = "#009E73";
    pub const VERMILLION: &str = "#D55E00";
    pub const SKY: &str = "#56B4E9";
    pub const PURPLE: &str = "#CC79A7";
    pub const GREY: &str = "#6B7280";
}

const W: f64 = 560.0;
const H: f64 = 250.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 30.0;
const GRID: &str = "#E5E7EB";
const INK: &str = "#374151";
const FAINT: &str = "#6B7280";
/// A white outline behind labels drawn over lines, so they stay readable.
const HALO: &str =
    " paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\"";

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML; show them as spaces.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A point of a series marked with a dot and a tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub time: i64,
    pub value: f64,
    pub label: String,
}

/// A line that steps: each value holds until the next point's time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub color: &'static str,
    /// An SVG `stroke-dasharray`, so lines differ by more than colour.
    pub dash: Option<&'static str>,
    pub width: f64,
    /// (time, value), in time order.
    pub steps: Vec<(i64, f64)>,
    pub markers: Vec<Marker>,
}

/// A vertical reference line (a due date, now).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub time: i64,
    pub label: String,
    pub color: &'static str,
}

/// What the y axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 0 to 1, shown as percent.
    Fraction,
    /// Minutes, shown as hours.
    Minutes,
}

/// A chart of values over time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeChart {
    /// Unique in the page (names the accessible title).
    pub id: String,
    /// What the chart shows, for screen readers and as a tooltip.
    pub title: String,
    pub from: i64,
    pub to: i64,
    /// The offset dates are shown in, minutes east of UTC.
    pub offset_minutes: i32,
    pub unit: Unit,
    pub series: Vec<Series>,
    pub rules: Vec<Rule>,
    /// Times marked by a short tick on the time axis (commits), named in the legend.
    pub rug: Option<(String, Vec<i64>)>,
    /// Shown in the middle when there is nothing to draw.
    pub empty: Option<String>,
}

/// Ticks for an axis from 0 to at least `max`: a step of 1, 2 or 5 times a power of ten (or
/// quarter hours), at most `count` + 1 ticks.
pub fn nice_ticks(max: f64, count: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Time ticks between `from` and `to` at a step people read easily, aligned to the clock in
/// `offset`, with the strftime format to label them.
pub fn time_ticks(from: i64, to: i64, offset: i32, max: usize) -> (Vec<i64>, &'static str) {
    let span = (to - from).max(1);
    let steps: [(i64, &str); 12] = [
        (HOUR, "%H:%M"),
        (3 * HOUR, "%H:%M"),
        (6 * HOUR, "%b %d %H:%M"),
        (12 * HOUR, "%b %d %H:%M"),
        (DAY, "%b %d"),
        (2 * DAY, "%b %d"),
        (7 * DAY, "%b %d"),
        (14 * DAY, "%b %d"),
        (28 * DAY, "%b %d"),
        (91 * DAY, "%b %Y"),
        (182 * DAY, "%b %Y"),
        (365 * DAY, "%Y"),
    ];
    let (step, format) = steps
        .iter()
        .copied()
        .find(|(s, _)| span / s < max as i64)
        .unwrap_or((span / max as i64 + 1, "%Y-%m-%d"));
    let off = i64::from(offset) * 60;
    let align = step.min(DAY);
    let mut t = ((from + off).div_euclid(align) + 1) * align - off;
    let mut out = Vec::new();
    while t <= to {
        if t >= from {
            out.push(t);
        }
        t += step;
    }
    (out, format)
}

fn fmt_time(t: i64, offset: i32, format: &str) -> String {
    FixedOffset::east_opt(offset * 60)
        .and_then(|tz| tz.timestamp_opt(t, 0).single())
        .map(|d| d.format(format).to_string())
        .unwrap_or_default()
}

/// Minutes in hours and minutes, without working days: "45m", "2h", "11h10m". Charts count
/// hours on their axes, so their labels do too.
pub fn hours(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// "2h", "1.5h", "30m": minutes on an axis, in hours once an hour or more.
fn fmt_minutes_axis(minutes: f64) -> String {
    if minutes == 0.0 {
        "0".to_string()
    } else if minutes < 60.0 {
        format!("{minutes:.0}m")
    } else {
        let h = minutes / 60.0;
        if (h - h.round()).abs() < 1e-9 {
            format!("{h:.0}h")
        } else {
            format!("{h:.1}h")
        }
    }
}

/// A number with at most one decimal, for coordinates.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// The legend: a line sample and a label per series, in a row at the top.
fn legend(out: &mut String, items: &[(&str, &'static str, Option<&'static str>)]) {
    let mut x = LEFT;
    for (label, color, dash) in items {
        let dash = dash
            .map(|d| format!(" stroke-dasharray=\"{d}\""))
            .unwrap_or_default();
        out.push_str(&format!(
            "<line x1=\"{}\" y1=\"14\" x2=\"{}\" y2=\"14\" stroke=\"{color}\" stroke-width=\"3\"{dash}/>",
            n(x),
            n(x + 20.0)
        ));
        out.push_str(&format!(
            "<text x=\"{}\" y=\"18\" fill=\"{INK}\">{}</text>",
            n(x + 26.0),
            esc(label)
        ));
        x += 26.0 + label.chars().count() as f64 * 6.4 + 18.0;
    }
}

impl TimeChart {
    fn y_max(&self) -> f64 {
        match self.unit {
            Unit::Fraction => 1.0,
            Unit::Minutes => self
                .series
                .iter()
                .flat_map(|s| s.steps.iter().map(|p| p.1))
                .fold(0.0, f64::max)
                .max(60.0),
        }
    }

    /// The chart as an `<svg>` element that scales to its container.
    pub fn svg(&self) -> String {
        let (from, to) = if self.to > self.from {
            (self.from, self.to)
        } else {
            (self.from - HOUR, self.from + HOUR)
        };
        let pw = W - LEFT - RIGHT;
        let ph = H - TOP - BOTTOM;
        let ticks = match self.unit {
            Unit::Fraction => vec![0.0, 0.25, 0.5, 0.75, 1.0],
            Unit::Minutes => {
                let hours = nice_ticks(self.y_max() / 60.0, 4);
                hours.into_iter().map(|h| h * 60.0).collect()
            }
        };
        let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
        let x = |t: i64| LEFT + (t.clamp(from, to) - from) as f64 / (to - from) as f64 * pw;
        let y = |v: f64| TOP + ph - (v.clamp(0.0, top) / top) * ph;

        let mut out = format!(
            "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}\" \
             xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\"><title id=\"{id}\">{title}</title>",
            id = esc(&self.id),
            title = esc(&self.title),
        );
        // Grid and y labels.
        for v in &ticks {
            let label = match self.unit {
                Unit::Fraction => format!("{:.0}%", v * 100.0),
                Unit::Minutes => fmt_minutes_axis(*v),
            };
            out.push_str(&format!(
                "<line x1=\"{LEFT}\" y1=\"{yy}\" x2=\"{x2}\" y2=\"{yy}\" stroke=\"{GRID}\"/>\
                 <text x=\"{lx}\" y=\"{ly}\" text-anchor=\"end\" fill=\"{FAINT}\">{label}</text>",
                yy = n(y(*v)),
                x2 = n(W - RIGHT),
                lx = n(LEFT - 6.0),
                ly = n(y(*v) + 4.0),
            ));
        }
        // Time axis.
        let (times, format) = time_ticks(from, to, self.offset_minutes, 6);
        for t in &times {
            out.push_str(&format!(
                "<line x1=\"{xx}\" y1=\"{TOP}\" x2=\"{xx}\" y2=\"{yb}\" stroke=\"{GRID}\" stroke-dasharray=\"2 3\"/>\
                 <text x=\"{xx}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"{FAINT}\">{label}</text>",
                xx = n(x(*t)),
                yb = n(TOP + ph),
                ty = n(TOP + ph + 17.0),
                label = esc(&fmt_time(*t, self.offset_minutes, format)),
            ));
        }
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{yb}\" x2=\"{x2}\" y2=\"{yb}\" stroke=\"{FAINT}\"/>",
            yb = n(TOP + ph),
            x2 = n(W - RIGHT)
        ));
        // Reference lines, labelled at the top in the first row where the label fits; a line
        // past the right edge is only named there, with an arrow.
        let mut rows: Vec<f64> = Vec::new();
        let mut past = 0;
        let mut rules: Vec<&Rule> = self.rules.iter().collect();
        rules.sort_by_key(|r| r.time);
        for r in rules {
            if r.time < from {
                continue;
            }
            let width = r.label.chars().count() as f64 * 5.6 + 4.0;
            if r.time > to {
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\" font-size=\"10\"{HALO}>{} →</text>",
                    n(W - RIGHT),
                    n(TOP + ph - 6.0 - past as f64 * 12.0),
                    r.color,
                    esc(&r.label)
                ));
                past += 1;
                continue;
            }
            let xx = x(r.time);
            let right = xx + 4.0 + width <= W - RIGHT;
            let (start, end) = if right {
                (xx + 4.0, xx + 4.0 + width)
            } else {
                (xx - 4.0 - width, xx - 4.0)
            };
            let row = match rows.iter().position(|&edge| edge < start) {
                Some(i) => {
                    rows[i] = end;
                    i
                }
                None => {
                    rows.push(end);
                    rows.len() - 1
                }
            };
            out.push_str(&format!(
                "<line x1=\"{xs}\" y1=\"{TOP}\" x2=\"{xs}\" y2=\"{yb}\" stroke=\"{c}\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"{anchor}\" fill=\"{c}\" font-size=\"10\"{HALO}>{label}</text>",
                xs = n(xx),
                yb = n(TOP + ph),
                c = r.color,
                tx = n(if right { xx + 4.0 } else { xx - 4.0 }),
                ty = n(TOP + 10.0 + row as f64 * 12.0),
                anchor = if right { "start" } else { "end" },
                label = esc(&r.label),
            ));
        }
        // Series.
        let drawn: Vec<&Series> = self.series.iter().filter(|s| !s.steps.is_empty()).collect();
        for s in &drawn {
            let mut d = String::new();
            for (i, (t, v)) in s.steps.iter().enumerate() {
                if i == 0 {
                    d.push_str(&format!("M{} {}", n(x(*t)), n(y(*v))));
                } else {
                    d.push_str(&format!("H{}V{}", n(x(*t)), n(y(*v))));
                }
            }
            d.push_str(&format!("H{}", n(x(to))));
            let dash = s
                .dash
                .map(|d| format!(" stroke-dasharray=\"{d}\""))
                .unwrap_or_default();
            out.push_str(&format!(
                "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"{dash}/>",
                s.color,
                n(s.width)
            ));
            for m in &s.markers {
                out.push_str(&format!(
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1.5\"><title>{}</title></circle>",
                    n(x(m.time)),
                    n(y(m.value)),
                    s.color,
                    esc(&m.label)
                ));
            }
        }
        if let Some((_, times)) = &self.rug {
            let mut d = String::new();
            for t in times.iter().filter(|t| (from..=to).contains(*t)) {
                d.push_str(&format!("M{} {}v-7", n(x(*t)), n(TOP + ph)));
            }
            if !d.is_empty() {
                out.push_str(&format!(
                    "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"1.5\" opacity=\"0.7\"/>",
                    palette::GREY
                ));
            }
        }
        if drawn.is_empty()
            && let Some(text) = &self.empty
        {
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{FAINT}\" font-size=\"13\">{}</text>",
                n(LEFT + pw / 2.0),
                n(TOP + ph / 2.0),
                esc(text)
            ));
        }
        let mut items: Vec<(&str, &'static str, Option<&'static str>)> = self
            .series
            .iter()
            .map(|s| (s.label.as_str(), s.color, s.dash))
            .collect();
        if let Some((label, times)) = &self.rug
            && !times.is_empty()
        {
            items.push((label.as_str(), palette::GREY, Some("1.5 3")));
        }
        legend(&mut out, &items);
        out.push_str("</svg>");
        out
    }
}

/// Horizontal grouped bars: one group per row (a milestone, an author), one bar per value.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub id: String,
    pub title: String,
    /// (label, color, dash) per value, in order.
    pub legend: Vec<(String, &'static str)>,
    /// (row label, one value per legend entry), in minutes.
    pub rows: Vec<(String, Vec<f64>)>,
}

impl Bars {
    pub fn svg(&self) -> String {
        let left = 120.0;
        let bar = 9.0;
        let per_row = self.legend.len().max(1) as f64 * (bar + 2.0) + 12.0;
        let h = TOP + self.rows.len().max(1) as f64 * per_row + BOTTOM;
        let pw = W - left - RIGHT - 40.0;
        let max = self
            .rows
            .iter()
            .flat_map(|r| r.1.iter().copied())
            .fold(0.0, f64::max)
            .max(60.0);
        let ticks: Vec<f64> = nice_ticks(max / 60.0, 4)
            .into_iter()
            .map(|t| t * 60.0)
            .collect();
        let top = ticks.last().copied().unwrap_or(60.0);
        let x = |v: f64| left + v.clamp(0.0, top) / top * pw;
        let bottom = h - BOTTOM;
        let mut out = format!(
            "<svg class=\"chart\" viewBox=\"0 0 {W} {hh}\" role=\"img\" aria-labelledby=\"{id}\" \
             xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\"><title id=\"{id}\">{title}</title>",
            hh = n(h),
            id = esc(&self.id),
            title = esc(&self.title),
        );
        for t in &ticks {
            out.push_str(&format!(
                "<line x1=\"{xx}\" y1=\"{TOP}\" x2=\"{xx}\" y2=\"{yb}\" stroke=\"{GRID}\"/>\
                 <text x=\"{xx}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"{FAINT}\">{label}</text>",
                xx = n(x(*t)),
                yb = n(bottom),
                ty = n(bottom + 17.0),
                label = fmt_minutes_axis(*t),
            ));
        }
        for (i, (label, values)) in self.rows.iter().enumerate() {
            let y0 = TOP + i as f64 * per_row + 6.0;
            let mid = y0 + (per_row - 12.0) / 2.0;
            let shown = crate::context::clip(label, 18);
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{INK}\"><title>{}</title>{}</text>",
                n(left - 8.0),
                n(mid + 4.0),
                esc(label),
                esc(&shown)
            ));
            for (j, v) in values.iter().enumerate() {
                let (name, color) = self
                    .legend
                    .get(j)
                    .map_or(("", palette::GREY), |(l, c)| (l.as_str(), *c));
                let yy = y0 + j as f64 * (bar + 2.0);
                let w = (x(*v) - left).max(if *v > 0.0 { 1.5 } else { 0.0 });
                out.push_str(&format!(
                    "<rect x=\"{left}\" y=\"{}\" width=\"{}\" height=\"{bar}\" rx=\"1.5\" fill=\"{color}\"><title>{}: {}</title></rect>\
                     <text x=\"{}\" y=\"{}\" fill=\"{FAINT}\" font-size=\"10\">{}</text>",
                    n(yy),
                    n(w),
                    esc(name),
                    hours(v.round() as u64),
                    n(left + w + 4.0),
                    n(yy + bar - 1.0),
                    hours(v.round() as u64),
                ));
            }
        }
        out.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{TOP}\" x2=\"{left}\" y2=\"{}\" stroke=\"{FAINT}\"/>",
            n(bottom)
        ));
        let items: Vec<(&str, &'static str, Option<&'static str>)> = self
            .legend
            .iter()
            .map(|(l, c)| (l.as_str(), *c, None))
            .collect();
        legend(&mut out, &items);
        out.push_str("</svg>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(series: Vec<Series>) -> TimeChart {
        TimeChart {
            id: "c1".into(),
            title: "Progress of <x>".into(),
            from: 1_795_510_800,
            to: 1_795_510_800 + 3 * DAY,
            offset_minutes: 0,
            unit: Unit::Fraction,
            series,
            rules: vec![Rule {
                time: 1_795_510_800 + DAY,
                label: "due \"a\"".into(),
                color: palette::VERMILLION,
            }],
            rug: Some(("commits".into(), vec![1_795_510_800 + DAY])),
            empty: Some("No commits yet".into()),
        }
    }

    fn line(steps: Vec<(i64, f64)>) -> Series {
        Series {
            label: "progress".into(),
            color: palette::BLUE,
            dash: None,
            width: 2.5,
            steps,
            markers: vec![Marker {
                time: 1_795_510_800 + DAY,
                value: 0.5,
                label: "a & b done".into(),
            }],
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; "
        );
    }

    #[test]
    fn nice_ticks_cover_the_maximum() {
        assert_eq!(nice_ticks(1.0, 4), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(nice_ticks(7.0, 4), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(0.0, 4), [0.0, 0.25, 0.5, 0.75, 1.0]);
        let t = nice_ticks(123.0, 4);
        assert!(t.last().copied().unwrap() >= 123.0 && t.len() <= 6, "{t:?}");
    }

    #[test]
    fn time_ticks_are_aligned_and_few() {
        let from = 1_795_510_800; // 09:00Z
        let (t, f) = time_ticks(from, from + 3 * DAY, 0, 6);
        assert_eq!(f, "%b %d");
        assert_eq!(t.len(), 3);
        assert_eq!(t[0] % DAY, 0, "midnight UTC");
        let (t, f) = time_ticks(from, from + 4 * HOUR, 60, 6);
        assert_eq!(f, "%H:%M");
        assert_eq!((t[0] + 3600) % HOUR, 0);
        let (t, _) = time_ticks(from, from + 400 * DAY, 0, 6);
        assert!(t.len() <= 6 && !t.is_empty(), "{t:?}");
    }

    #[test]
    fn a_step_line_with_markers_rules_and_legend() {
        let svg = chart(vec![line(vec![
            (1_795_510_800, 0.0),
            (1_795_510_800 + DAY, 0.5),
        ])])
        .svg();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"c1\">Progress of &lt;x&gt;</title>"));
        // From 0 at the start, up to 50% a third of the way, then flat to the end.
        assert!(svg.contains("d=\"M46 220H212V127H544\""), "{svg}");
        assert!(svg.contains("<title>a &amp; b done</title>"));
        assert!(svg.contains("due &quot;a&quot;"));
        assert!(svg.contains(">progress</text>"));
        assert!(svg.contains(">50%</text>"));
        assert!(
            svg.contains("<path d=\"M212 220v-7\""),
            "the commit is marked on the axis"
        );
        assert!(!svg.contains("No commits yet"));
    }

    #[test]
    fn nothing_to_draw_says_so_and_a_zero_span_still_draws() {
        let empty = chart(vec![]).svg();
        assert!(empty.contains("No commits yet"));
        let mut one = chart(vec![line(vec![(1_795_510_800, 1.0)])]);
        one.to = one.from;
        let svg = one.svg();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(svg.contains("<path d=\"M"), "{svg}");
    }

    #[test]
    fn minutes_are_shown_in_hours() {
        let mut c = chart(vec![line(vec![
            (1_795_510_800, 0.0),
            (1_795_510_800 + HOUR, 330.0),
        ])]);
        c.unit = Unit::Minutes;
        let svg = c.svg();
        assert!(
            svg.contains(">2h</text>") && svg.contains(">6h</text>"),
            "{svg}"
        );
    }

    #[test]
    fn bars_label_rows_and_values() {
        let b = Bars {
            id: "b".into(),
            title: "Effort by milestone".into(),
            legend: vec![
                ("reported".into(), palette::VERMILLION),
                ("estimated".into(), palette::SKY),
            ],
            rows: vec![
                ("parser <p>".into(), vec![90.0, 20.0]),
                ("ranking".into(), vec![0.0, 30.0]),
            ],
        }
        .svg();
        assert!(b.contains(">parser &lt;p&gt;</text>"), "{b}");
        assert!(b.contains("<title>reported: 1h30m</title>"));
        assert!(b.contains("<title>estimated: 30m</title>"));
        assert!(b.ends_with("</svg>"));
    }
}
