//! The session file (SPEC §2): its model, its validation with file positions, and its rendering.
//! Pure: text in, values or findings out.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use serde::Deserialize;
use toml::Spanned;
use uuid::Uuid;

use crate::duration;
use crate::error::{self, Error};
use crate::name::{self, Name};

pub const SCHEMA: i64 = 1;
/// A criteria command's timeout when the file gives none.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Planned,
    Active,
    Paused,
    Done,
    Abandoned,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Planned,
        Status::Active,
        Status::Paused,
        Status::Done,
        Status::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Done => "done",
            Status::Abandoned => "abandoned",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still being worked on (hooks stamp commits, reports list it as open).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Planned | Status::Active | Status::Paused)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub name: Name,
    pub title: String,
    pub branch: String,
    pub base: String,
    pub created: DateTime<FixedOffset>,
    pub owner: Option<String>,
    pub status: Status,
    /// Why the session is paused or abandoned, as `pause`/`abandon --reason` wrote it.
    pub status_reason: Option<String>,
    pub objectives: Vec<String>,
    pub milestones: Vec<Milestone>,
    /// `None` when the file has no `[criteria]` table: `check` then has nothing to check.
    pub criteria: Option<Criteria>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub id: Name,
    pub title: String,
    pub due: Option<NaiveDate>,
    pub depends_on: Vec<Name>,
    pub tasks: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Criteria {
    pub milestones: MilestoneCriterion,
    pub no_open_blockers: bool,
    pub require_trailers: Vec<String>,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MilestoneCriterion {
    /// The key is absent.
    #[default]
    Unset,
    All,
    List(Vec<Name>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub run: String,
    /// The timeout as written, if written.
    pub timeout: Option<String>,
    pub timeout_secs: u64,
}

impl Session {
    pub fn milestone(&self, id: &str) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.id.as_str() == id)
    }

    pub fn milestone_ids(&self) -> Vec<&str> {
        self.milestones.iter().map(|m| m.id.as_str()).collect()
    }

    pub fn id_string(&self) -> String {
        self.id.hyphenated().to_string()
    }
}

/// One problem in a session file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Finding {
    /// The finding as one error sentence naming the file.
    pub fn located(&self, path: &str) -> String {
        format!("{path}:{}:{}: {}", self.line, self.column, self.message)
    }
}

/// All findings of a file as one error (exit 2), pointing at `validate` when there are more.
pub fn findings_error(path: &str, findings: &[Finding]) -> Error {
    let first = findings.first().map_or_else(
        || format!("{path}: invalid session file"),
        |f| f.located(path),
    );
    let more = match findings.len() {
        0 | 1 => String::new(),
        n => format!(
            " (and {} more; run 'git session validate' to see all)",
            n - 1
        ),
    };
    Error::input(format!("{first}{more}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    schema: Spanned<toml::Value>,
    id: Spanned<String>,
    name: Spanned<String>,
    title: Option<String>,
    branch: Spanned<String>,
    base: Spanned<String>,
    created: Spanned<toml::value::Datetime>,
    owner: Option<String>,
    status: Spanned<String>,
    status_reason: Option<Spanned<String>>,
    #[serde(default)]
    objectives: Vec<String>,
    #[serde(default)]
    milestones: Vec<RawMilestone>,
    criteria: Option<RawCriteria>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMilestone {
    id: Spanned<String>,
    title: Option<String>,
    due: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    tasks: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriteria {
    milestones: Option<Spanned<RawMilestoneCriterion>>,
    #[serde(default)]
    no_open_blockers: bool,
    #[serde(default)]
    require_trailers: Vec<Spanned<String>>,
    #[serde(default)]
    commands: Vec<RawCommand>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawMilestoneCriterion {
    Word(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: Spanned<String>,
    run: Spanned<String>,
    timeout: Option<Spanned<String>>,
}

/// Collects findings with their positions while a file is checked.
struct Check<'a> {
    text: &'a str,
    findings: Vec<Finding>,
}

impl Check<'_> {
    fn at(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let (line, column) = error::line_col(self.text, span.start);
        self.findings.push(Finding {
            line,
            column,
            message: message.into(),
        });
    }

    fn name(&mut self, s: &Spanned<String>, what: &str) -> Option<Name> {
        match Name::parse(s.get_ref(), what) {
            Ok(n) => Some(n),
            Err(e) => {
                self.at(s.span(), e.message);
                None
            }
        }
    }
}

/// Parses and validates a session file. `stem` is the file name without `.toml`, which the
/// `name` key must equal. Every problem found is returned, each with its line and column.
pub fn parse(text: &str, stem: Option<&str>) -> Result<Session, Vec<Finding>> {
    let mut check = Check {
        text,
        findings: Vec::new(),
    };
    let raw: RawSession = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            // An unknown schema explains every other mismatch, so say that first.
            if let Some(f) = unknown_schema(text) {
                return Err(vec![f]);
            }
            check.at(e.span().unwrap_or(0..0), toml_message(&e));
            return Err(check.findings);
        }
    };
    match raw.schema.get_ref() {
        toml::Value::Integer(SCHEMA) => {}
        other => {
            check.at(raw.schema.span(), schema_message(other));
            return Err(check.findings);
        }
    }
    let id = match Uuid::try_parse(raw.id.get_ref()) {
        Ok(id) => Some(id),
        Err(_) => {
            check.at(
                raw.id.span(),
                format!("id {} is not a UUID", name::quote(raw.id.get_ref())),
            );
            None
        }
    };
    let session_name = match Name::session(raw.name.get_ref()) {
        Ok(n) => {
            if let Some(stem) = stem.filter(|s| *s != n.as_str()) {
                check.at(
                    raw.name.span(),
                    format!(
                        "name '{n}' does not match the file name; it must be '{}'",
                        name::quote(stem).trim_matches('\'')
                    ),
                );
            }
            Some(n)
        }
        Err(e) => {
            check.at(raw.name.span(), e.message);
            None
        }
    };
    for (field, what) in [(&raw.branch, "branch"), (&raw.base, "base")] {
        if let Some(why) = branch_name_problem(field.get_ref()) {
            check.at(
                field.span(),
                format!(
                    "{what} {} is not a valid branch name: {why}",
                    name::quote(field.get_ref())
                ),
            );
        }
    }
    let created = datetime(&raw.created, &mut check);
    let status = Status::parse(raw.status.get_ref());
    if status.is_none() {
        check.at(
            raw.status.span(),
            format!(
                "status {} is not one of planned, active, paused, done, abandoned",
                name::quote(raw.status.get_ref())
            ),
        );
    }
    if let Some(r) = &raw.status_reason
        && let Some(why) = reason_problem(r.get_ref())
    {
        check.at(r.span(), format!("status_reason {why}"));
    }
    let milestones = milestones(&raw.milestones, &mut check);
    let criteria = raw
        .criteria
        .as_ref()
        .map(|c| criteria(c, &milestones, &mut check));

    match (id, session_name, created, status) {
        (Some(id), Some(name), Some(created), Some(status)) if check.findings.is_empty() => {
            Ok(Session {
                id,
                title: raw.title.unwrap_or_else(|| name.to_string()),
                name,
                branch: raw.branch.into_inner(),
                base: raw.base.into_inner(),
                created,
                owner: raw.owner,
                status,
                status_reason: raw.status_reason.map(Spanned::into_inner),
                objectives: raw.objectives,
                milestones,
                criteria,
            })
        }
        _ => Err(check.findings),
    }
}

fn toml_message(e: &toml::de::Error) -> String {
    let msg = e.message().trim();
    // serde's list of expected fields is long; the key and a pointer to the docs help more.
    match msg.split_once(", expected") {
        Some((head, _)) if head.starts_with("unknown field") => {
            format!("{head} (see docs/session-file.md for the keys a session file takes)")
        }
        _ => msg.to_string(),
    }
}

fn schema_message(value: &toml::Value) -> String {
    if !value.is_integer() {
        // `schema = "1"` must not read as "schema "1" is not supported; … reads schema 1".
        return format!(
            "schema must be a number, like schema = {SCHEMA}, not the {} {value}",
            value.type_str()
        );
    }
    format!(
        "schema {value} is not supported; this git-session reads schema {SCHEMA} (a newer git-session may read it)"
    )
}

/// A readable `schema` other than 1, found even when the rest of the file does not parse.
fn unknown_schema(text: &str) -> Option<Finding> {
    let doc: toml::Table = text.parse().ok()?;
    let schema = doc.get("schema")?;
    if schema.as_integer() == Some(SCHEMA) {
        return None;
    }
    let offset = text.find("schema").unwrap_or(0);
    let (line, column) = error::line_col(text, offset);
    Some(Finding {
        line,
        column,
        message: schema_message(schema),
    })
}

fn datetime(
    value: &Spanned<toml::value::Datetime>,
    check: &mut Check,
) -> Option<DateTime<FixedOffset>> {
    let dt = value.get_ref();
    if dt.date.is_none() || dt.time.is_none() || dt.offset.is_none() {
        check.at(
            value.span(),
            "created must be a date and time with an offset, like 2026-11-24T09:30:00Z",
        );
        return None;
    }
    match DateTime::parse_from_rfc3339(&dt.to_string()) {
        Ok(t) => Some(t),
        Err(_) => {
            check.at(
                value.span(),
                format!("created {dt} is not a valid date and time"),
            );
            None
        }
    }
}

fn milestones(raw: &[RawMilestone], check: &mut Check) -> Vec<Milestone> {
    let mut parsed: Vec<(Milestone, &RawMilestone)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for m in raw {
        let Some(id) = check.name(&m.id, "milestone id") else {
            continue;
        };
        if !seen.insert(id.to_string()) {
            check.at(m.id.span(), format!("milestone id '{id}' is used twice"));
            continue;
        }
        let due = m.due.as_ref().and_then(|d| match d.get_ref().date {
            Some(date) => {
                NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
            }
            None => {
                check.at(d.span(), "due must be a date, like 2026-12-01");
                None
            }
        });
        let mut tasks = Vec::new();
        for t in &m.tasks {
            if let Some(task) = check.name(t, "task name") {
                if tasks.contains(&task) {
                    check.at(t.span(), format!("task '{task}' is listed twice in '{id}'"));
                } else {
                    tasks.push(task);
                }
            }
        }
        let depends_on = m
            .depends_on
            .iter()
            .filter_map(|d| check.name(d, "milestone id"))
            .collect();
        let milestone = Milestone {
            title: m.title.clone().unwrap_or_else(|| id.to_string()),
            id,
            due,
            depends_on,
            tasks,
        };
        parsed.push((milestone, m));
    }
    // Dependencies name milestones, and never form a cycle.
    for (m, rm) in &parsed {
        for dep in &rm.depends_on {
            let text = dep.get_ref();
            if !name::is_valid(text) {
                continue;
            }
            if !seen.contains(text) {
                check.at(
                    dep.span(),
                    format!(
                        "milestone '{}' depends on '{text}', which is not a milestone here",
                        m.id
                    ),
                );
            } else if text == m.id.as_str() {
                check.at(dep.span(), format!("milestone '{text}' depends on itself"));
            }
        }
    }
    let out: Vec<Milestone> = parsed.iter().map(|(m, _)| m.clone()).collect();
    if let Some(cycle) = find_cycle(&out) {
        let at = parsed
            .iter()
            .find(|(m, _)| m.id.as_str() == cycle[0])
            .map_or(0..0, |(_, r)| r.id.span());
        check.at(
            at,
            format!(
                "milestones depend on each other in a cycle: {}",
                cycle.join(" -> ")
            ),
        );
    }
    out
}

/// A dependency cycle (longer than a self-dependency), as the ids along it.
fn find_cycle(milestones: &[Milestone]) -> Option<Vec<String>> {
    let edges: HashMap<&str, Vec<&str>> = milestones
        .iter()
        .map(|m| {
            let deps = m
                .depends_on
                .iter()
                .map(Name::as_str)
                .filter(|d| *d != m.id.as_str())
                .collect();
            (m.id.as_str(), deps)
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = edges.keys().map(|k| (*k, Mark::New)).collect();
    fn visit<'a>(
        node: &'a str,
        edges: &HashMap<&'a str, Vec<&'a str>>,
        marks: &mut HashMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        marks.insert(node, Mark::Active);
        path.push(node);
        for &next in edges.get(node).into_iter().flatten() {
            match marks.get(next) {
                Some(Mark::Active) => {
                    let from = path.iter().position(|p| *p == next).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[from..].iter().map(|s| s.to_string()).collect();
                    cycle.push(next.to_string());
                    return Some(cycle);
                }
                Some(Mark::New) => {
                    if let Some(c) = visit(next, edges, marks, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        marks.insert(node, Mark::Done);
        None
    }
    for m in milestones {
        if marks.get(m.id.as_str()) == Some(&Mark::New) {
            let mut path = Vec::new();
            if let Some(c) = visit(m.id.as_str(), &edges, &mut marks, &mut path) {
                return Some(c);
            }
        }
    }
    None
}

fn criteria(raw: &RawCriteria, milestones: &[Milestone], check: &mut Check) -> Criteria {
    let ms = match &raw.milestones {
        None => MilestoneCriterion::Unset,
        Some(s) => match s.get_ref() {
            RawMilestoneCriterion::Word(w) if w == "all" => MilestoneCriterion::All,
            RawMilestoneCriterion::Word(w) => {
                check.at(
                    s.span(),
                    format!(
                        "criteria.milestones must be \"all\" or a list of milestone ids, not {}",
                        name::quote(w)
                    ),
                );
                MilestoneCriterion::Unset
            }
            RawMilestoneCriterion::List(ids) => {
                let mut list = Vec::new();
                for id in ids {
                    match Name::parse(id, "milestone id") {
                        Ok(n) if milestones.iter().any(|m| m.id == n) => list.push(n),
                        Ok(n) => check.at(
                            s.span(),
                            format!(
                                "criteria.milestones names '{n}', which is not a milestone here"
                            ),
                        ),
                        Err(e) => check.at(s.span(), e.message),
                    }
                }
                MilestoneCriterion::List(list)
            }
        },
    };
    let mut require_trailers = Vec::new();
    for t in &raw.require_trailers {
        let key = t.get_ref();
        let valid = !key.is_empty()
            && key.len() <= 100
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            require_trailers.push(key.clone());
        } else {
            check.at(
                t.span(),
                format!(
                    "require_trailers entry {} is not a trailer key (letters, digits and hyphens)",
                    name::quote(key)
                ),
            );
        }
    }
    let mut commands = Vec::new();
    let mut names = HashSet::new();
    for c in &raw.commands {
        let cname = c.name.get_ref().trim();
        if cname.is_empty() || cname.len() > 100 || cname.chars().any(char::is_control) {
            check.at(
                c.name.span(),
                "a command's name must be 1 to 100 printable characters",
            );
            continue;
        }
        if !names.insert(cname.to_string()) {
            check.at(
                c.name.span(),
                format!("command name '{cname}' is used twice"),
            );
        }
        if c.run.get_ref().trim().is_empty() {
            check.at(c.run.span(), format!("command '{cname}' has an empty run"));
        }
        let timeout_secs = match &c.timeout {
            None => DEFAULT_TIMEOUT_SECS,
            Some(t) => match duration::parse_seconds(t.get_ref()) {
                Ok(0) => {
                    check.at(
                        t.span(),
                        format!(
                            "timeout {} would stop the command before it starts; give it at least 1s",
                            name::quote(t.get_ref())
                        ),
                    );
                    DEFAULT_TIMEOUT_SECS
                }
                Err(_) => {
                    check.at(
                        t.span(),
                        format!(
                            "timeout {} is not a duration; write it like 90s, 10m or 1h",
                            name::quote(t.get_ref())
                        ),
                    );
                    DEFAULT_TIMEOUT_SECS
                }
                Ok(s) => s,
            },
        };
        commands.push(Command {
            name: cname.to_string(),
            run: c.run.get_ref().clone(),
            timeout: c.timeout.as_ref().map(|t| t.get_ref().clone()),
            timeout_secs,
        });
    }
    Criteria {
        milestones: ms,
        no_open_blockers: raw.no_open_blockers,
        require_trailers,
        commands,
    }
}

/// Longest `status_reason`, in characters: a sentence, not a report.
pub const MAX_REASON_CHARS: usize = 500;

/// Why `text` cannot be a `status_reason` (one line of at most 500 characters), if it cannot.
pub fn reason_problem(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some("is empty; leave the key out instead".to_string())
    } else if text.chars().any(char::is_control) {
        Some("must be one line without control characters".to_string())
    } else if text.chars().count() > MAX_REASON_CHARS {
        Some(format!("is longer than {MAX_REASON_CHARS} characters"))
    } else {
        None
    }
}

/// Why `name` cannot be a git branch name (`git check-ref-format --branch` rules), if it cannot.
pub fn branch_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 255 {
        return Some("it is too long");
    }
    if name.starts_with('-') || name.starts_with('/') || name.ends_with('/') {
        return Some("it cannot start with '-' or '/', nor end with '/'");
    }
    if name.ends_with('.') || name.ends_with(".lock") || name == "@" || name == "HEAD" {
        return Some("it cannot end with '.' or '.lock', nor be '@' or 'HEAD'");
    }
    if name.contains("..") || name.contains("//") || name.contains("@{") || name.contains("/.") {
        return Some("it cannot contain '..', '//', '@{' or '/.'");
    }
    if name.starts_with('.') {
        return Some("it cannot start with '.'");
    }
    if name
        .chars()
        .any(|c| c.is_control() || " ~^:?*[\\\x7f".contains(c))
    {
        return Some("it cannot contain spaces, control characters or any of ~^:?*[\\");
    }
    None
}

/// The file text for `session`; parsing it gives `session` back.
pub fn render(session: &Session) -> String {
    use toml_edit::Value;
    let s = |text: &str| Value::from(text).to_string();
    let list = |items: &mut dyn Iterator<Item = &str>| {
        let array: toml_edit::Array = items.collect();
        Value::from(array).to_string()
    };
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        out.push_str(key);
        out.push_str(" = ");
        out.push_str(value.trim());
        out.push('\n');
    };
    line("schema", SCHEMA.to_string());
    line("id", s(&session.id_string()));
    line("name", s(session.name.as_str()));
    line("title", s(&session.title));
    line("branch", s(&session.branch));
    line("base", s(&session.base));
    line("created", format_datetime(&session.created));
    if let Some(owner) = &session.owner {
        line("owner", s(owner));
    }
    line("status", s(session.status.as_str()));
    if let Some(reason) = &session.status_reason {
        line("status_reason", s(reason));
    }
    line(
        "objectives",
        list(&mut session.objectives.iter().map(String::as_str)),
    );
    for m in &session.milestones {
        out.push_str("\n[[milestones]]\n");
        let mut line = |key: &str, value: String| {
            out.push_str(&format!("{key} = {}\n", value.trim()));
        };
        line("id", s(m.id.as_str()));
        line("title", s(&m.title));
        if let Some(due) = m.due {
            line("due", due.format("%Y-%m-%d").to_string());
        }
        if !m.depends_on.is_empty() {
            line(
                "depends_on",
                list(&mut m.depends_on.iter().map(Name::as_str)),
            );
        }
        if !m.tasks.is_empty() {
            line("tasks", list(&mut m.tasks.iter().map(Name::as_str)));
        }
    }
    if let Some(c) = &session.criteria {
        out.push_str("\n[criteria]\n");
        match &c.milestones {
            MilestoneCriterion::Unset => {}
            MilestoneCriterion::All => out.push_str("milestones = \"all\"\n"),
            MilestoneCriterion::List(ids) => out.push_str(&format!(
                "milestones = {}\n",
                list(&mut ids.iter().map(Name::as_str)).trim()
            )),
        }
        out.push_str(&format!("no_open_blockers = {}\n", c.no_open_blockers));
        if !c.require_trailers.is_empty() {
            out.push_str(&format!(
                "require_trailers = {}\n",
                list(&mut c.require_trailers.iter().map(String::as_str)).trim()
            ));
        }
        for cmd in &c.commands {
            out.push_str("\n[[criteria.commands]]\n");
            out.push_str(&format!("name = {}\n", s(&cmd.name).trim()));
            out.push_str(&format!("run = {}\n", s(&cmd.run).trim()));
            if let Some(t) = &cmd.timeout {
                out.push_str(&format!("timeout = {}\n", s(t).trim()));
            }
        }
    }
    out
}

/// RFC 3339 with `Z` for UTC and whole seconds unless the value has a fraction.
pub fn format_datetime(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"schema = 1                                   # required
id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e"
name = "search-rewrite"
title = "Rewrite search on the new index"
branch = "session/search-rewrite"
base = "main"
created = 2026-11-24T09:30:00Z
owner = "Ada Lovelace <ada@example.org>"
status = "active"
objectives = ["p99 query latency under 50 ms", "remove the legacy index"]

[[milestones]]
id = "parser"
title = "New query parser"
due = 2026-12-01
depends_on = []
tasks = ["lexer", "grammar", "errors"]

[[milestones]]
id = "ranking"
title = "BM25 ranking"
depends_on = ["parser"]

[criteria]
milestones = "all"
no_open_blockers = true
require_trailers = ["Signed-off-by"]
[[criteria.commands]]
name = "tests"
run = "cargo test --locked"
timeout = "10m"
"#;

    fn findings(text: &str) -> Vec<String> {
        parse(text, Some("search-rewrite"))
            .unwrap_err()
            .iter()
            .map(|f| format!("{}:{}: {}", f.line, f.column, f.message))
            .collect()
    }

    #[test]
    fn the_spec_example_parses() {
        let s = parse(FULL, Some("search-rewrite")).unwrap();
        assert_eq!(s.name.as_str(), "search-rewrite");
        assert_eq!(s.milestones.len(), 2);
        assert_eq!(s.milestones[0].tasks.len(), 3);
        assert_eq!(s.status, Status::Active);
        let c = s.criteria.unwrap();
        assert_eq!(c.milestones, MilestoneCriterion::All);
        assert_eq!(c.commands[0].timeout_secs, 600);
    }

    #[test]
    fn round_trip_gives_the_same_value_and_bytes() {
        let s = parse(FULL, None).unwrap();
        let text = render(&s);
        let again = parse(&text, None).unwrap();
        assert_eq!(s, again);
        assert_eq!(text, render(&again));
    }

    #[test]
    fn defaults_for_optional_keys() {
        let text = "schema = 1\nid = \"0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e\"\nname = \"x\"\n\
                    branch = \"session/x\"\nbase = \"main\"\ncreated = 2026-11-24T09:30:00+01:00\n\
                    status = \"planned\"\n";
        let s = parse(text, Some("x")).unwrap();
        assert_eq!(s.title, "x");
        assert!(s.objectives.is_empty() && s.milestones.is_empty() && s.criteria.is_none());
        assert_eq!(parse(&render(&s), Some("x")).unwrap(), s);
    }

    #[test]
    fn a_zero_timeout_is_named_as_such() {
        let zero = findings(&FULL.replace("timeout = \"10m\"", "timeout = \"0s\""));
        assert_eq!(zero.len(), 1, "{zero:?}");
        assert!(
            zero[0].ends_with(
                "timeout '0s' would stop the command before it starts; give it at least 1s"
            ),
            "{zero:?}"
        );
        let bad = findings(&FULL.replace("timeout = \"10m\"", "timeout = \"soon\""));
        assert!(
            bad[0].ends_with("timeout 'soon' is not a duration; write it like 90s, 10m or 1h"),
            "{bad:?}"
        );
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let text = FULL.replace("owner =", "ownr =");
        assert_eq!(
            findings(&text),
            [
                "8:1: unknown field `ownr` (see docs/session-file.md for the keys a session file takes)"
            ]
        );
    }

    #[test]
    fn unknown_schema_is_named_first() {
        let text = FULL
            .replace("schema = 1", "schema = 2")
            .replace("owner =", "ownr =");
        assert!(findings(&text)[0].starts_with("1:1: schema 2 is not supported"));
    }

    #[test]
    fn a_schema_of_the_wrong_type_says_so() {
        let f = findings(&FULL.replace("schema = 1 ", "schema = \"1\" "));
        assert!(
            f[0].starts_with(
                "1:10: schema must be a number, like schema = 1, not the string \"1\""
            ),
            "{f:?}"
        );
    }

    #[test]
    fn semantic_errors_are_all_collected() {
        let text = FULL
            .replace("depends_on = [\"parser\"]", "depends_on = [\"nope\"]")
            .replace("id = \"ranking\"", "id = \"parser\"")
            .replace("status = \"active\"", "status = \"busy\"");
        let f = findings(&text);
        assert!(f.iter().any(|m| m.contains("status 'busy'")), "{f:?}");
        assert!(
            f.iter().any(|m| m.contains("'parser' is used twice")),
            "{f:?}"
        );
    }

    #[test]
    fn dangling_dependency_and_cycle() {
        let dangling = FULL.replace("depends_on = [\"parser\"]", "depends_on = [\"nope\"]");
        assert!(findings(&dangling)[0].contains("depends on 'nope', which is not a milestone"));
        let cycle = FULL.replace("depends_on = []", "depends_on = [\"ranking\"]");
        let f = findings(&cycle);
        assert!(f[0].contains("cycle: parser -> ranking -> parser"), "{f:?}");
        assert!(f[0].starts_with("13:"), "{f:?}");
    }

    #[test]
    fn name_must_match_the_file() {
        let f = parse(FULL, Some("other")).unwrap_err();
        assert!(f[0].message.contains("does not match the file name"));
    }

    #[test]
    fn bad_names_are_refused() {
        let text = FULL.replace("tasks = [\"lexer\"", "tasks = [\"Lexer\"");
        assert!(findings(&text)[0].contains("'Lexer' is not a valid task name"));
    }

    #[test]
    fn branch_names_follow_git() {
        assert!(branch_name_problem("session/x").is_none());
        for bad in ["", "a b", "a..b", "-x", "x.lock", "a:b", "x/"] {
            assert!(branch_name_problem(bad).is_some(), "{bad}");
        }
    }
}
