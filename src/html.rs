//! The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched.
//! Pure: sessions, their progress and timelines, and the time in; the page out. Every text that
//! came from a user (titles, objectives, blocker text, names) is escaped.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

use crate::chart::{Bars, Marker, Rule, Series, TimeChart, Unit, esc, hours, palette};
use crate::criteria::Outcome;
use crate::duration::ago;
use crate::overview::Timeline;
use crate::progress::{BlockerState, Progress, State};
use crate::session::{Session, Status};

/// One session on the page.
pub struct Entry<'a> {
    pub session: &'a Session,
    pub progress: &'a Progress,
    /// Criteria judged from history (commands are not run for a report).
    pub criteria: &'a [Outcome],
    pub timeline: &'a Timeline,
}

/// The page: a heading (usually the repository's name), the time it shows, the sessions, and
/// notes about what history could not say.
pub struct Page<'a> {
    pub heading: String,
    pub now: DateTime<FixedOffset>,
    pub entries: Vec<Entry<'a>>,
    pub notes: Vec<String>,
}

const CSS: &str = r#"
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;--blue:#0072B2;--green:#009E73;--orange:#E69F00;--red:#D55E00;--sky:#56B4E9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-text-size-adjust:100%}
main{max-width:1200px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:26px;margin:0 0 2px;letter-spacing:-.01em}
h2{font-size:20px;margin:0;letter-spacing:-.01em}
h3{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:18px 0 8px}
a{color:var(--blue);text-decoration:none}a:hover{text-decoration:underline}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f5f9;border-radius:4px;padding:1px 5px}
.sub{color:var(--muted);margin:0 0 22px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 22px;margin:0 0 22px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
table{border-collapse:collapse;width:100%;font-size:14px}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em;text-align:left;padding:6px 10px;border-bottom:1px solid var(--line)}
td{padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.glance td{vertical-align:middle}
.meter{display:flex;align-items:center;gap:8px;min-width:130px}
.bar{flex:1;height:8px;background:#e8edf3;border-radius:4px;overflow:hidden}
.bar>span{display:block;height:100%;background:var(--blue);border-radius:4px}
.meter b{font-variant-numeric:tabular-nums;min-width:38px;text-align:right;font-weight:600}
.badge{display:inline-block;font-size:12px;font-weight:600;border-radius:999px;padding:1px 9px;border:1px solid currentColor;white-space:nowrap}
.st-active{color:#00704f}.st-paused{color:#9a6700}.st-planned{color:#4b5563}.st-done{color:#005a8c}.st-abandoned{color:#6b7280;border-style:dashed}
.head{display:flex;align-items:baseline;gap:12px;flex-wrap:wrap}
.head .title{color:var(--muted);font-size:17px}
.facts{color:var(--muted);font-size:14px;margin:4px 0 0}
.reason{margin:8px 0 0;padding:6px 10px;border-left:3px solid var(--orange);background:#fffaf0;font-size:14px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0 4px}
.kpi{border:1px solid var(--line);border-radius:10px;padding:8px 14px;min-width:96px}
.kpi b{display:block;font-size:20px;font-variant-numeric:tabular-nums;line-height:1.2}
.kpi span{font-size:12px;color:var(--muted)}
.kpi.alert{border-color:var(--red)}.kpi.alert b{color:var(--red)}
.objectives{margin:10px 0 0;padding-left:20px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px;margin-top:8px}
figure{margin:0}
figcaption{font-weight:600;font-size:14px;margin:0 0 4px}
figcaption span{font-weight:400;color:var(--muted)}
svg.chart{display:block;width:100%;height:auto;font-family:inherit}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:8px 28px}
.mark{font-weight:700;width:1.2em;display:inline-block}
.m-done{color:var(--green)}.m-in_progress{color:#9a6700}.m-pending{color:#9ca3af}
.overdue{color:var(--red);font-weight:600}
ul.plain{list-style:none;margin:0;padding:0}
ul.plain li{padding:6px 0;border-bottom:1px solid var(--line)}
ul.plain li:last-child{border-bottom:0}
.tag{font-weight:600}
.open{color:var(--red)}.resolved{color:var(--green)}
.muted{color:var(--muted)}
.tasks{font-size:13px;color:var(--muted)}
details>summary{cursor:pointer;font-weight:600;margin:8px 0 14px}
.empty{margin:14px 0 0;padding:14px 16px;border:1px dashed var(--line);border-radius:10px;color:var(--muted);text-align:center}
.scroll{overflow-x:auto}
.glance tr.closed td{opacity:.72}
.glance .muted{font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:250px}
.glance th,.glance td{padding-left:8px;padding-right:8px}
.notes{border-left:3px solid var(--orange);padding:4px 12px;background:#fffaf0;margin:0 0 20px}
footer{color:var(--muted);font-size:13px;margin-top:30px}
@media print{body{background:#fff}.card{box-shadow:none;break-inside:avoid}}
"#;

fn status_badge(s: Status) -> String {
    format!("<span class=\"badge st-{0}\">{0}</span>", esc(s.as_str()))
}

fn percent(f: f64) -> String {
    format!("{:.0}%", (f * 100.0).floor())
}

fn meter(f: f64) -> String {
    format!(
        "<div class=\"meter\"><div class=\"bar\"><span style=\"width:{:.1}%\"></span></div><b>{}</b></div>",
        (f.clamp(0.0, 1.0) * 100.0),
        percent(f)
    )
}

fn date(t: i64, offset: &FixedOffset) -> String {
    offset
        .timestamp_opt(t, 0)
        .single()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The start of the day after `d` in `offset`: a due date lasts the whole day.
fn end_of(d: NaiveDate, offset: &FixedOffset) -> i64 {
    let next = d.succ_opt().unwrap_or(d);
    next.and_hms_opt(0, 0, 0)
        .and_then(|t| offset.from_local_datetime(&t).single())
        .map_or(0, |t| t.timestamp())
}

fn tasks_total(p: &Progress) -> usize {
    p.milestones.iter().map(|m| m.tasks_total).sum()
}

fn tasks_done(p: &Progress) -> usize {
    p.milestones.iter().map(|m| m.tasks_done).sum()
}

/// Sessions still worked on first, then finished ones; by name within.
fn order(s: &Session) -> (u8, String) {
    let rank = match s.status {
        Status::Active => 0,
        Status::Paused => 1,
        Status::Planned => 2,
        Status::Done => 3,
        Status::Abandoned => 4,
    };
    (rank, s.name.to_string())
}

/// The time range a session's charts cover.
fn range(e: &Entry, now: i64, offset: &FixedOffset) -> (i64, i64) {
    let s = e.session;
    let created = s.created.timestamp();
    let (first, last) = e.timeline.span.unwrap_or((created, created));
    let from = created.min(first);
    let mut to = last.max(from);
    if s.status.is_open() {
        to = to.max(now);
        // Due dates soon after stretch the axis to show them; later ones are named at the edge
        // rather than squeezing the history into a corner.
        let reach = to + (to - from) * 2 / 5;
        for m in &e.progress.milestones {
            if m.state != State::Done
                && let Some(d) = m.due
                && end_of(d, offset) <= reach
            {
                to = to.max(end_of(d, offset));
            }
        }
    }
    if to - from < 3600 {
        to = from + 3600;
    }
    (from, to)
}

/// A series that starts at 0 at the left edge.
fn from_zero(steps: &[(i64, f64)], from: i64, scale: f64) -> Vec<(i64, f64)> {
    if steps.is_empty() {
        return Vec::new();
    }
    let mut out = vec![(from, 0.0)];
    out.extend(steps.iter().map(|(t, v)| (*t, v / scale)));
    out
}

fn burn_up(e: &Entry, idx: usize, now: i64, offset: &FixedOffset) -> String {
    let (from, to) = range(e, now, offset);
    let p = e.progress;
    let tl = e.timeline;
    let ms_total = p.milestones_total.max(1) as f64;
    let t_total = tasks_total(p);
    let marks: Vec<Marker> = tl
        .milestone_marks
        .iter()
        .map(|(t, id)| Marker {
            time: *t,
            value: tl
                .progress
                .iter()
                .rev()
                .find(|(pt, _)| pt <= t)
                .map_or(0.0, |(_, v)| *v),
            label: format!("{id} done on {}", date(*t, offset)),
        })
        .collect();
    let mut series = vec![Series {
        label: format!("progress {}", percent(p.fraction)),
        color: palette::BLUE,
        dash: None,
        width: 2.75,
        steps: from_zero(&tl.progress, from, 1.0),
        markers: marks,
    }];
    if p.milestones_total > 0 {
        series.push(Series {
            label: format!("milestones {}/{}", p.milestones_done, p.milestones_total),
            color: palette::ORANGE,
            dash: Some("7 4"),
            width: 2.0,
            steps: from_zero(&tl.milestones_done, from, ms_total),
            markers: Vec::new(),
        });
    }
    if t_total > 0 {
        series.push(Series {
            label: format!("tasks {}/{}", tasks_done(p), t_total),
            color: palette::GREEN,
            dash: Some("2 3"),
            width: 2.0,
            steps: from_zero(&tl.tasks_done, from, t_total as f64),
            markers: Vec::new(),
        });
    }
    let mut rules = due_rules(e, offset);
    if e.session.status.is_open() && now < to {
        rules.push(Rule {
            time: now,
            label: "now".into(),
            color: palette::GREY,
        });
    }
    TimeChart {
        id: format!("burnup-{idx}"),
        title: format!(
            "Burn-up of {}: progress, milestones and tasks done over time",
            e.session.name
        ),
        from,
        to,
        offset_minutes: offset.local_minus_utc() / 60,
        unit: Unit::Fraction,
        series,
        rules,
        rug: Some((
            format!(
                "{} commit{}",
                p.commits,
                if p.commits == 1 { "" } else { "s" }
            ),
            tl.commits.clone(),
        )),
        empty: Some(if p.commits == 0 {
            "No commits yet".to_string()
        } else {
            "Nothing marked done yet".to_string()
        }),
    }
    .svg()
}

fn due_rules(e: &Entry, offset: &FixedOffset) -> Vec<Rule> {
    e.progress
        .milestones
        .iter()
        .filter_map(|m| {
            let d = m.due?;
            Some(Rule {
                time: end_of(d, offset),
                label: format!("{} due {}", m.id, d.format("%b %d")),
                color: if m.overdue {
                    palette::VERMILLION
                } else {
                    palette::GREY
                },
            })
        })
        .collect()
}

fn effort_chart(e: &Entry, idx: usize, now: i64, offset: &FixedOffset) -> String {
    let (from, to) = range(e, now, offset);
    let p = e.progress;
    let tl = e.timeline;
    TimeChart {
        id: format!("effort-{idx}"),
        title: format!(
            "Effort on {} over time: reported in trailers and estimated from commit times",
            e.session.name
        ),
        from,
        to,
        offset_minutes: offset.local_minus_utc() / 60,
        unit: Unit::Minutes,
        series: vec![
            Series {
                label: format!("reported {}", hours(p.effort.reported_minutes)),
                color: palette::VERMILLION,
                dash: None,
                width: 2.75,
                steps: from_zero(&tl.reported, from, 1.0),
                markers: Vec::new(),
            },
            Series {
                label: format!("estimated ~{}", hours(p.effort.estimated_minutes)),
                color: palette::BLUE,
                dash: Some("7 4"),
                width: 2.25,
                steps: from_zero(&tl.estimated, from, 1.0),
                markers: Vec::new(),
            },
        ],
        rules: Vec::new(),
        rug: None,
        empty: Some("No commits yet".to_string()),
    }
    .svg()
}

fn charts(e: &Entry, idx: usize, now: i64, offset: &FixedOffset) -> String {
    format!(
        "<div class=\"charts\"><figure><figcaption>Burn-up <span>— share of the work done over time</span></figcaption>{}</figure>\
         <figure><figcaption>Effort <span>— cumulative hours, reported vs estimated from commit times</span></figcaption>{}</figure></div>",
        burn_up(e, idx, now, offset),
        effort_chart(e, idx, now, offset)
    )
}

fn effort_bars(e: &Entry, idx: usize) -> Option<String> {
    let p = e.progress;
    let mut rows: Vec<(String, Vec<f64>)> = p
        .milestones
        .iter()
        .filter(|m| m.effort.reported_minutes + m.effort.estimated_minutes > 0)
        .map(|m| {
            (
                m.id.clone(),
                vec![
                    m.effort.reported_minutes as f64,
                    m.effort.estimated_minutes as f64,
                ],
            )
        })
        .collect();
    if p.authors.len() > 1 {
        rows.extend(p.authors.iter().map(|a| {
            (
                a.name.clone(),
                vec![a.reported_minutes as f64, a.estimated_minutes as f64],
            )
        }));
    }
    if rows.is_empty() {
        return None;
    }
    Some(
        Bars {
            id: format!("bars-{idx}"),
            title: format!("Effort on {} by milestone and by person", e.session.name),
            legend: vec![
                ("reported".into(), palette::VERMILLION),
                ("estimated".into(), palette::BLUE),
            ],
            rows,
        }
        .svg(),
    )
}

fn glance(page: &Page, entries: &[&Entry]) -> String {
    let offset = page.now.offset();
    let now = page.now.timestamp();
    let mut out = String::from(
        "<section class=\"card scroll\"><table class=\"glance\"><thead><tr><th>Session</th><th>Status</th>\
         <th>Progress</th><th class=\"num\">Milestones</th><th class=\"num\">Commits</th>\
         <th class=\"num\" title=\"reported in Effort trailers / estimated from commit times\">Effort</th>\
         <th class=\"num\" title=\"open blockers\">Blockers</th><th class=\"num\">Last commit</th></tr></thead><tbody>",
    );
    for e in entries {
        let (s, p) = (e.session, e.progress);
        let open = p.open_blockers().count();
        let overdue = p.milestones.iter().filter(|m| m.overdue).count();
        let overdue = if overdue > 0 {
            format!(" <span class=\"overdue\">· {overdue} overdue</span>")
        } else {
            String::new()
        };
        let title = if s.title != s.name.as_str() {
            format!(
                "<div class=\"muted\" title=\"{0}\">{0}</div>",
                esc(&s.title)
            )
        } else {
            String::new()
        };
        let last = p
            .last_commit
            .map(|c| {
                format!(
                    "<span title=\"{}\">{}</span>",
                    esc(&date(c.time, offset)),
                    ago(now - c.time)
                )
            })
            .unwrap_or_else(|| "<span class=\"muted\">none</span>".to_string());
        let open = if open > 0 {
            open.to_string()
        } else {
            "<span class=\"muted\">—</span>".to_string()
        };
        out.push_str(&format!(
            "<tr{closed}><td><a href=\"#session-{name}\"><b>{name}</b></a>{title}</td><td>{badge}</td>\
             <td>{meter}</td><td class=\"num\">{md}/{mt}{overdue}</td><td class=\"num\">{commits}</td>\
             <td class=\"num\">{rep} <span class=\"muted\">/ ~{est}</span></td><td class=\"num{oc}\">{open}</td><td class=\"num\">{last}</td></tr>",
            name = esc(s.name.as_str()),
            closed = if s.status.is_open() { "" } else { " class=\"closed\"" },
            badge = status_badge(s.status),
            meter = meter(p.fraction),
            md = p.milestones_done,
            mt = p.milestones_total,
            commits = p.commits,
            rep = hours(p.effort.reported_minutes),
            est = hours(p.effort.estimated_minutes),
            oc = if p.open_blockers().count() > 0 { " open" } else { "" },
        ));
    }
    out.push_str("</tbody></table></section>");
    out
}

fn card(page: &Page, e: &Entry, idx: usize) -> String {
    let offset = page.now.offset();
    let now = page.now.timestamp();
    let (s, p) = (e.session, e.progress);
    let mut out = format!(
        "<article class=\"card\" id=\"session-{name}\"><div class=\"head\"><h2><a href=\"#session-{name}\">{name}</a></h2>",
        name = esc(s.name.as_str())
    );
    if s.title != s.name.as_str() {
        out.push_str(&format!("<span class=\"title\">{}</span>", esc(&s.title)));
    }
    out.push_str(&status_badge(s.status));
    out.push_str("</div>");
    let mut facts = vec![
        format!(
            "<code>{}</code> → <code>{}</code>",
            esc(&s.branch),
            esc(&s.base)
        ),
        format!(
            "started {} ({} days ago)",
            esc(&date(s.created.timestamp(), offset)),
            p.elapsed_days
        ),
    ];
    if let Some(owner) = &s.owner {
        facts.push(esc(owner.split(" <").next().unwrap_or(owner)));
    }
    if let Some(c) = p.last_commit {
        facts.push(format!("last commit {}", ago(now - c.time)));
    }
    out.push_str(&format!("<p class=\"facts\">{}</p>", facts.join(" · ")));
    if let Some(r) = &s.status_reason {
        out.push_str(&format!(
            "<p class=\"reason\"><b>{}:</b> {}</p>",
            esc(s.status.as_str()),
            esc(r)
        ));
    }

    let open = p.open_blockers().count();
    let overdue = p.milestones.iter().filter(|m| m.overdue).count();
    let mut kpis = vec![
        (percent(p.fraction), "progress".to_string(), false),
        (
            format!("{}/{}", p.milestones_done, p.milestones_total),
            "milestones done".into(),
            false,
        ),
    ];
    if tasks_total(p) > 0 {
        kpis.push((
            format!("{}/{}", tasks_done(p), tasks_total(p)),
            "tasks done".into(),
            false,
        ));
    }
    kpis.push((p.commits.to_string(), "commits".into(), false));
    kpis.push((
        hours(p.effort.reported_minutes),
        "effort reported".into(),
        false,
    ));
    kpis.push((
        format!("~{}", hours(p.effort.estimated_minutes)),
        "effort estimated".into(),
        false,
    ));
    kpis.push((open.to_string(), "open blockers".into(), open > 0));
    if overdue > 0 {
        kpis.push((overdue.to_string(), "overdue".into(), true));
    }
    out.push_str("<div class=\"kpis\">");
    for (value, label, alert) in kpis {
        out.push_str(&format!(
            "<div class=\"kpi{}\"><b>{}</b><span>{}</span></div>",
            if alert { " alert" } else { "" },
            esc(&value),
            esc(&label)
        ));
    }
    out.push_str("</div>");
    if !s.objectives.is_empty() {
        out.push_str("<ul class=\"objectives\">");
        for o in &s.objectives {
            out.push_str(&format!("<li>{}</li>", esc(o)));
        }
        out.push_str("</ul>");
    }

    if p.commits == 0 {
        out.push_str(
            "<p class=\"empty\">No commits yet: the charts appear once work on this session is committed.</p>",
        );
    } else {
        out.push_str(&charts(e, idx, now, offset));
    }

    out.push_str("<div class=\"cols\"><section>");
    if !p.milestones.is_empty() {
        out.push_str(
            "<h3>Milestones</h3><table><thead><tr><th>Milestone</th><th class=\"num\">Tasks</th>\
             <th class=\"num\">Commits</th><th class=\"num\">Due</th></tr></thead><tbody>",
        );
        for m in &p.milestones {
            let (mark, word) = match m.state {
                State::Done => ("✓", "done"),
                State::InProgress => ("◐", "in progress"),
                State::Pending => ("○", "pending"),
            };
            let title = if m.title != m.id {
                format!(" <span class=\"muted\">{}</span>", esc(&m.title))
            } else {
                String::new()
            };
            let left: Vec<&str> = m
                .tasks
                .iter()
                .filter(|t| !t.done)
                .map(|t| t.name.as_str())
                .collect();
            let left = if m.state != State::Done && !left.is_empty() {
                format!("<div class=\"tasks\">left: {}</div>", esc(&left.join(", ")))
            } else {
                String::new()
            };
            let tasks = if m.tasks_total > 0 {
                format!("{}/{}", m.tasks_done, m.tasks_total)
            } else {
                "—".to_string()
            };
            let due = match m.due {
                Some(d) if m.overdue => format!(
                    "<span class=\"overdue\">{} overdue</span>",
                    d.format("%Y-%m-%d")
                ),
                Some(d) => d.format("%Y-%m-%d").to_string(),
                None => "—".to_string(),
            };
            out.push_str(&format!(
                "<tr><td><span class=\"mark m-{state}\" title=\"{word}\">{mark}</span><code>{id}</code>{title}{left}</td>\
                 <td class=\"num\">{tasks}</td><td class=\"num\">{commits}</td><td class=\"num\">{due}</td></tr>",
                state = m.state.as_str(),
                id = esc(&m.id),
                commits = m.commits,
            ));
        }
        out.push_str("</tbody></table>");
    }
    if let Some(bars) = effort_bars(e, idx) {
        out.push_str(&format!(
            "<h3>Effort by milestone and person</h3><figure>{bars}</figure>"
        ));
    }
    out.push_str("</section><section>");
    out.push_str("<h3>Blockers</h3>");
    if p.blockers.is_empty() {
        out.push_str("<p class=\"muted\">None raised.</p>");
    } else {
        out.push_str("<ul class=\"plain\">");
        let mut blockers: Vec<_> = p.blockers.iter().collect();
        blockers.sort_by_key(|b| (b.state != BlockerState::Open, b.raised_at));
        for b in blockers {
            let (class, when) = match b.state {
                BlockerState::Open => (
                    "open",
                    format!(
                        "open, raised {} in <code>{}</code>",
                        esc(&date(b.raised_at, offset)),
                        b.raised_in.short()
                    ),
                ),
                BlockerState::Resolved => (
                    "resolved",
                    format!(
                        "resolved {} in <code>{}</code>",
                        esc(&b.resolved_at.map(|t| date(t, offset)).unwrap_or_default()),
                        b.resolved_in.map(|c| c.short()).unwrap_or_default()
                    ),
                ),
            };
            out.push_str(&format!(
                "<li><span class=\"{class}\">●</span> <span class=\"tag\">#{}</span> {} \
                 <span class=\"muted\">— {when}</span></li>",
                esc(&b.tag),
                esc(&b.text)
            ));
        }
        out.push_str("</ul>");
    }
    if !p.authors.is_empty() {
        out.push_str(
            "<h3>People</h3><table><thead><tr><th>Author</th><th class=\"num\">Commits</th>\
             <th class=\"num\">Reported</th><th class=\"num\">Estimated</th></tr></thead><tbody>",
        );
        for a in &p.authors {
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">~{}</td></tr>",
                esc(&a.name),
                a.commits,
                hours(a.reported_minutes),
                hours(a.estimated_minutes)
            ));
        }
        out.push_str("</tbody></table>");
    }
    if !e.criteria.is_empty() {
        out.push_str("<h3>Criteria from history</h3><ul class=\"plain\">");
        for o in e.criteria {
            let (class, mark) = if o.met {
                ("resolved", "✓")
            } else {
                ("open", "✗")
            };
            out.push_str(&format!(
                "<li><span class=\"{class}\">{mark}</span> <b>{}</b> <span class=\"muted\">{}</span></li>",
                esc(&o.name),
                esc(&o.detail)
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section></div>");
    if !p.warnings.is_empty() {
        out.push_str(&format!(
            "<details><summary>{} warning{} about trailers in history</summary><ul>",
            p.warnings.len(),
            if p.warnings.len() == 1 { "" } else { "s" }
        ));
        for w in &p.warnings {
            out.push_str(&format!("<li>{}</li>", esc(w)));
        }
        out.push_str("</ul></details>");
    }
    out.push_str("</article>");
    out
}

/// The whole page.
pub fn page(page: &Page) -> String {
    let mut out = Vec::new();
    write(page, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the page is UTF-8")
}

/// Writes the page to `out` as it is made: with thousands of sessions it is tens of
/// megabytes, which need not be held in memory.
pub fn write(page: &Page, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut entries: Vec<&Entry> = page.entries.iter().collect();
    entries.sort_by_key(|e| order(e.session));
    let open = entries
        .iter()
        .filter(|e| e.session.status.is_open())
        .count();
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"git-session\">\
         <title>Sessions — {heading}</title><style>{CSS}</style></head><body><main>\
         <h1>Sessions <span class=\"muted\">in {heading}</span></h1>\
         <p class=\"sub\">{n} session{s} ({open} open) · derived from git history on {when}</p>",
        heading = esc(&page.heading),
        n = entries.len(),
        s = if entries.len() == 1 { "" } else { "s" },
        when = esc(&page.now.format("%Y-%m-%d %H:%M %:z").to_string()),
    )?;
    if !page.notes.is_empty() {
        out.write_all("<div class=\"notes\">".as_bytes())?;
        for n in &page.notes {
            write!(out, "<p>{}</p>", esc(n))?;
        }
        out.write_all("</div>".as_bytes())?;
    }
    if entries.is_empty() {
        out.write_all("<section class=\"card\"><p>No sessions yet. Start one with <code>git session start &lt;name&gt;</code>.</p></section>".as_bytes())?;
    } else {
        out.write_all(glance(page, &entries).as_bytes())?;
    }
    let mut closed_open = false;
    for (idx, e) in entries.iter().enumerate() {
        if !e.session.status.is_open() && !closed_open {
            closed_open = true;
            let closed = entries.len() - open;
            write!(
                out,
                "<details{}><summary>Finished and abandoned sessions ({closed})</summary>",
                if open == 0 { " open" } else { "" }
            )?;
        }
        out.write_all(card(page, e, idx).as_bytes())?;
    }
    if closed_open {
        out.write_all("</details>".as_bytes())?;
    }
    out.write_all(
        "<footer>Made by <code>git session report --html</code>. Effort “reported” sums <code>Effort:</code> \
         trailers; “estimated” counts each author’s streaks of commits (gaps up to the configured maximum count as work, \
         and each streak’s first commit adds a fixed amount).</footer></main></body></html>\n"
            .as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overview::{Activity, Authors, timeline};
    use crate::progress::{CommitInfo, Estimate, derive};

    fn session(name: &str, title: &str, status: &str) -> Session {
        let text = format!(
            "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"{name}\"\n\
             title = {title}\nbranch = \"session/{name}\"\nbase = \"main\"\n\
             created = 2026-11-01T09:00:00Z\nstatus = \"{status}\"\n\
             [[milestones]]\nid = \"a\"\ntasks = [\"x\", \"y\"]\ndue = 2026-11-05\n\
             [[milestones]]\nid = \"b\"\n"
        );
        crate::session::parse(&text, Some(name)).unwrap()
    }

    fn commit(n: u8, time: i64, message: &str) -> CommitInfo {
        CommitInfo {
            author_name: "Ada <b>".into(),
            ..CommitInfo::sample(n, "ada@x", time, message)
        }
    }

    fn render(sessions: &[(Session, Vec<CommitInfo>)]) -> String {
        let now = DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap();
        let data: Vec<(Progress, Timeline)> = sessions
            .iter()
            .map(|(s, commits)| {
                let p = derive(s, commits, Estimate::default(), now);
                let mut authors = Authors::default();
                let a: Vec<Activity> = commits
                    .iter()
                    .map(|c| Activity::of(c, s, &mut authors))
                    .collect();
                let tl = timeline(s, &p, &a, Estimate::default());
                (p, tl)
            })
            .collect();
        page(&Page {
            heading: "repo <x>".into(),
            now,
            entries: sessions
                .iter()
                .zip(&data)
                .map(|((s, _), (p, tl))| Entry {
                    session: s,
                    progress: p,
                    criteria: &[],
                    timeline: tl,
                })
                .collect(),
            notes: vec![],
        })
    }

    const T: i64 = 1_794_000_000;

    #[test]
    fn every_session_gets_charts_and_hostile_text_is_escaped() {
        let hostile = session(
            "evil",
            "\"</title><script>alert(1)</script> & <svg onload=x>\"",
            "active",
        );
        let commits = vec![
            commit(
                1,
                T,
                "1\n\nTask-Done: a/x\nEffort: 1h\nBlocker: #b <img src=x onerror=y>\n",
            ),
            commit(2, T + 3600, "2\n\nMilestone-Done: b\n"),
        ];
        let html = render(&[
            (hostile, commits),
            (session("quiet", "\"Nothing yet\"", "done"), vec![]),
        ]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(
            !html.contains("<script"),
            "no script, not even an injected one"
        );
        assert!(!html.contains("<img"));
        assert!(!html.contains("<svg onload"));
        assert!(html.contains(
            "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;svg onload=x&gt;"
        ));
        assert!(html.contains("&lt;img src=x onerror=y&gt;"));
        assert!(html.contains("Ada &lt;b&gt;"));
        assert!(html.contains("repo &lt;x&gt;"));
        // Two sessions, each with a burn-up and an effort chart; one has no commits.
        // The session with commits gets a burn-up and an effort chart; the one without says so.
        assert_eq!(html.matches("aria-labelledby=\"burnup-").count(), 1);
        assert_eq!(html.matches("aria-labelledby=\"effort-").count(), 1);
        assert!(html.contains("id=\"session-evil\"") && html.contains("id=\"session-quiet\""));
        assert!(html.contains("No commits yet: the charts appear"));
        // No external assets.
        let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_ns.contains("http:") && !without_ns.contains("https:"));
        assert!(!html.contains("<link") && !html.contains("url("));
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn finished_sessions_fold_away_under_open_ones() {
        let html = render(&[
            (session("b-done", "\"B\"", "done"), vec![]),
            (session("a-open", "\"A\"", "active"), vec![]),
        ]);
        let open = html.find("id=\"session-a-open\"").unwrap();
        let folded = html.find("Finished and abandoned sessions (1)").unwrap();
        let done = html.find("id=\"session-b-done\"").unwrap();
        assert!(open < folded && folded < done);
    }

    #[test]
    fn no_sessions_says_how_to_start() {
        let html = render(&[]);
        assert!(html.contains("No sessions yet"));
    }
}
