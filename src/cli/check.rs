//! `git session check [<name>]`: the CI gate (SPEC §7). Finds the session, judges every
//! criterion, runs the criteria commands when they are trusted, reports each criterion met or
//! not with its reason, and only then decides the exit code.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use git_session::command;
use git_session::criteria::{self, CommandState, Outcome, Verdict};
use git_session::error::{Error, Result};
use git_session::gate;
use git_session::history;
use git_session::name::Name;
use git_session::progress;
use git_session::repo::{CommitId, Head};
use git_session::report::CheckReport;
use git_session::session::Session;
use git_session::store::{self, Owner};
use git_session::trust::{self, Ledger, Standing};

use super::render::pad;
use super::status::md_escape;
use super::{Ctx, Format, FormatArgs, Global, Style, emit, emit_json, note, state_dir};

/// Check a session's success criteria; exit 0 when met, 1 when not (the CI gate)
///
/// Judges every criterion of the session's [criteria] table — milestones done, no open
/// blockers, required trailers on every session commit in <base>..HEAD, and the criteria
/// commands — prints each as met or unmet with the reason, then exits: 0 all met (or nothing to
/// check), 1 unmet, 2 bad input, 3 a shallow clone hides needed history (fetch with
/// fetch-depth: 0), 4 criteria commands are not trusted.
///
/// The session is the one named, else the one whose branch is checked out, else (on a CI
/// checkout) the one whose branch GITHUB_HEAD_REF or CI_MERGE_REQUEST_SOURCE_BRANCH_NAME names,
/// else every session that Session trailers in <base>..HEAD name (base: --base, GITHUB_BASE_REF
/// or CI_MERGE_REQUEST_TARGET_BRANCH_NAME, else the base of each session file here, searched for
/// the sessions with that base); each of those is checked.
///
/// Criteria commands are code from the repository: they run (with sh -c, from the top of the
/// work tree) only with --run-commands, or once 'git session trust' approved them as they are.
///
/// Examples:
///   git session check                       # the current branch's session
///   git session check search --no-commands  # judge only what history tells
///   git session check --run-commands --summary "$GITHUB_STEP_SUMMARY"   # in CI
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The session (default: found from the branch, CI variables or Session trailers)
    pub name: Option<String>,

    /// The branch the work merges into: Session trailers are looked for in <BASE>..HEAD, and
    /// required trailers judged there [default: GITHUB_BASE_REF,
    /// CI_MERGE_REQUEST_TARGET_BRANCH_NAME, else the session's base]
    #[arg(long, value_name = "BASE")]
    pub base: Option<String>,

    /// Run the criteria commands without a recorded approval (what CI passes)
    #[arg(long, conflicts_with = "no_commands")]
    pub run_commands: bool,

    /// Do not run criteria commands; judge the other criteria (commands show as skipped)
    #[arg(long)]
    pub no_commands: bool,

    /// Exit 1 when no session is linked, instead of 0
    #[arg(long)]
    pub require_session: bool,

    /// Also append the markdown report to FILE, e.g. "$GITHUB_STEP_SUMMARY"
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    #[command(flatten)]
    pub format: FormatArgs,
}

/// What CI tells about the pull request being checked.
struct CiEnv {
    /// (branch, the variable that named it)
    head_ref: Option<(String, &'static str)>,
    base_ref: Option<(String, &'static str)>,
    github_actions: bool,
}

impl CiEnv {
    fn read() -> CiEnv {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| (v, name))
        };
        CiEnv {
            head_ref: var("GITHUB_HEAD_REF").or_else(|| var("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")),
            base_ref: var("GITHUB_BASE_REF").or_else(|| var("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")),
            github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        }
    }
}

/// The base the range is cut at.
#[derive(Clone)]
struct Base {
    name: String,
    tip: CommitId,
}

/// A session to check, and how it was found.
struct Target {
    session: Session,
    found_by: String,
}

/// One session, judged.
struct Checked {
    session: Session,
    found_by: String,
    outcomes: Vec<Outcome>,
    range: Option<String>,
    notes: Vec<String>,
    has_criteria: bool,
}

impl Checked {
    fn verdict(&self) -> Verdict {
        criteria::verdict(&self.outcomes)
    }

    fn exit_code(&self) -> i32 {
        let v = self.verdict();
        if !v.untrusted.is_empty() {
            4
        } else if v.met {
            0
        } else {
            1
        }
    }
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    super::check_session_arg(args.name.as_deref())?;
    let ctx = Ctx::open(global)?;
    let ci = CiEnv::read();
    let format = args.format.get();
    let Some(head) = ctx.repo.head_commit() else {
        return Err(Error::unanswerable(
            "HEAD has no commits yet, so there is nothing to check; commit, then run git session check",
        ));
    };
    let base = resolve_base(&ctx, &args, &ci)?;
    let targets = match find_targets(&ctx, &args, &ci, head, base.as_ref())? {
        Ok(t) => t,
        Err(why) => return no_session(&args, &ci, format, &why),
    };
    // History first, for every session: a shallow clone stops everything before a command runs.
    let mut checked = Vec::new();
    for t in targets {
        checked.push(judge_history(&ctx, t, head, base.as_ref())?);
    }
    run_commands(&ctx, &args, &mut checked)?;

    let token = uuid::Uuid::now_v7().simple().to_string();
    match format {
        Format::Json => {
            let reports: Vec<CheckReport> = checked.iter().map(report).collect();
            if let [one] = reports.as_slice() {
                emit_json(one);
            } else {
                let lines: Vec<String> = reports
                    .iter()
                    .map(|r| serde_json::to_string(r).expect("report values serialize"))
                    .collect();
                emit(&format!("{}\n", lines.join("\n")));
            }
        }
        Format::Markdown => emit(&markdown(&checked)),
        Format::Text => emit(&text(&ctx.style, &checked, ci.github_actions, &token)),
    }
    if ci.github_actions {
        let lines = annotations(&checked);
        if format == Format::Text {
            emit(&lines);
        } else {
            err_text!("{lines}");
        }
    }
    if let Some(path) = &args.summary {
        append(path, &markdown(&checked))?;
    }
    let code = checked.iter().map(Checked::exit_code).fold(0, severest);
    if code == 4 {
        let names: Vec<String> = checked
            .iter()
            .filter(|c| c.exit_code() == 4)
            .map(|c| c.session.name.to_string())
            .collect();
        return Err(Error::refused(format!(
            "the criteria commands of session {} are not trusted; review them above, then approve them with 'git session trust {}' (or pass --run-commands in CI, or --no-commands to judge the rest)",
            quote_list(&names),
            names.first().map_or("", String::as_str)
        )));
    }
    Ok(code)
}

/// 4 (refused) over 1 (unmet) over 0.
fn severest(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        4 => 2,
        1 => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--base`, else the base branch CI names. A base given by flag that is not here is bad input;
/// one CI names that is not here means the checkout lacks history (exit 3).
fn resolve_base(ctx: &Ctx, args: &Args, ci: &CiEnv) -> Result<Option<Base>> {
    if let Some(name) = &args.base {
        let tip = match ctx.repo.branch_commit(name) {
            Some(t) => t,
            None => ctx.repo.resolve(name).map_err(|_| {
                Error::input(format!(
                    "--base '{name}' is neither a branch here (local or origin/{name}) nor a revision; name the branch the work merges into"
                ))
            })?,
        };
        return Ok(Some(Base {
            name: name.clone(),
            tip,
        }));
    }
    let Some((name, var)) = &ci.base_ref else {
        return Ok(None);
    };
    match ctx.repo.branch_commit(name) {
        Some(tip) => Ok(Some(Base {
            name: name.clone(),
            tip,
        })),
        None => Err(Error::unanswerable(format!(
            "{var} names the base branch '{name}', which is neither a local branch nor origin/{name} in this checkout; fetch the full history with every branch (fetch-depth: 0 for actions/checkout, GIT_DEPTH: 0 and a fetch of the target branch on GitLab)"
        ))),
    }
}

/// The sessions to check, or why there are none.
fn find_targets(
    ctx: &Ctx,
    args: &Args,
    ci: &CiEnv,
    head: CommitId,
    base: Option<&Base>,
) -> Result<std::result::Result<Vec<Target>, String>> {
    if let Some(n) = &args.name {
        return Ok(Ok(vec![Target {
            session: ctx.session(Some(n))?,
            found_by: "named on the command line".to_string(),
        }]));
    }
    let (sessions, problems) = ctx.store.load_all()?;
    let found = find_loaded(ctx, ci, head, base, &sessions, &problems)?;
    if found.is_ok() {
        for p in &problems {
            note(&format!("warning: skipped {}", p.to_error()));
        }
    }
    Ok(found)
}

/// The search of [`find_targets`] among the session files that load.
fn find_loaded(
    ctx: &Ctx,
    ci: &CiEnv,
    head: CommitId,
    base: Option<&Base>,
    sessions: &[Session],
    problems: &[git_session::store::FileProblem],
) -> Result<std::result::Result<Vec<Target>, String>> {
    let on_branch = |branch: &str| -> Result<Option<Session>> {
        let claimants: Vec<(&str, bool)> = sessions
            .iter()
            .filter(|s| s.branch == branch)
            .map(|s| (s.name.as_str(), s.status.is_open()))
            .collect();
        match store::owner(branch, &claimants, problems) {
            Owner::One(name) => Ok(sessions.iter().find(|s| s.name.as_str() == name).cloned()),
            Owner::Unreadable(p) => Err(p.to_error()),
            Owner::Several(a, b) => Err(Error::input(format!(
                "sessions '{a}' and '{b}' both use branch '{branch}'; name the one to check"
            ))),
            Owner::None => Ok(None),
        }
    };
    let mut why = Vec::new();
    match ctx.repo.head()? {
        Head::Branch(b) | Head::Unborn(b) => match on_branch(&b)? {
            Some(s) => {
                return Ok(Ok(vec![Target {
                    session: s,
                    found_by: format!("its branch '{b}' is checked out"),
                }]));
            }
            None => why.push(format!("the current branch '{b}' is no session's branch")),
        },
        Head::Detached(_) => why.push("HEAD is detached".to_string()),
    }
    if let Some((branch, var)) = &ci.head_ref {
        match on_branch(branch)? {
            Some(s) => {
                return Ok(Ok(vec![Target {
                    session: s,
                    found_by: format!("{var} names its branch '{branch}'"),
                }]));
            }
            None => why.push(format!(
                "{var} names branch '{branch}', which is no session's branch"
            )),
        }
    }
    // No base given or named by CI: the bases of the sessions here, each searched for its own.
    let mut missing: Vec<&str> = Vec::new();
    let bases: Vec<(Base, bool)> = match base {
        Some(b) => vec![(b.clone(), false)],
        None => {
            let mut names: Vec<&str> = sessions.iter().map(|s| s.base.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names
                .into_iter()
                .filter_map(|name| match ctx.repo.branch_commit(name) {
                    Some(tip) => Some((
                        Base {
                            name: name.to_string(),
                            tip,
                        },
                        true,
                    )),
                    None => {
                        missing.push(name);
                        None
                    }
                })
                .collect()
        }
    };
    if !missing.is_empty() {
        let ranges: Vec<String> = missing.iter().map(|m| format!("{m}..HEAD")).collect();
        note(&format!(
            "note: no branch here is the base {} of a session, so {} went unsearched for Session trailers",
            quote_list(&missing.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
            ranges.join(" and ")
        ));
    }
    if bases.is_empty() {
        why.push(
            "no base branch is known to look for Session trailers in (pass --base <branch>)"
                .to_string(),
        );
        return nothing_linked(problems, why);
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut ranges = Vec::new();
    for (base, own) in &bases {
        let range = format!("{}..HEAD", base.name);
        for linked in gate::linked_sessions(&ctx.repo, head, base.tip)? {
            let found = match sessions
                .iter()
                .find(|s| s.name.as_str() == linked || s.id_string() == linked)
            {
                Some(s) => Some(s.clone()),
                // A session file may live only on the session's branch.
                None => match Name::session(&linked) {
                    Ok(n) => match ctx.session(Some(&linked)) {
                        Ok(s) => Some(s),
                        Err(e) if ctx.store.exists(&n) => return Err(e),
                        Err(_) => None,
                    },
                    Err(_) => None,
                },
            };
            match found {
                // Searching the sessions' own bases, a session counts in its base's range, or
                // in any searched range when its base is not here.
                Some(s) if *own && s.base != base.name && !missing.contains(&s.base.as_str()) => {}
                Some(s) if !targets.iter().any(|t| t.session.name == s.name) => {
                    let found_by = if *own && s.base == base.name {
                        format!("Session trailers in {range} (its base) name it")
                    } else {
                        format!("Session trailers in {range} name it")
                    };
                    targets.push(Target {
                        session: s,
                        found_by,
                    })
                }
                Some(_) => {}
                None => note(&format!(
                    "warning: commits in {range} name session '{linked}', which has no session file here"
                )),
            }
        }
        ranges.push(range);
    }
    if targets.is_empty() {
        why.push(format!(
            "no commit in {} names a session",
            ranges.join(" or ")
        ));
        return nothing_linked(problems, why);
    }
    Ok(Ok(targets))
}

/// No session found. A session file that does not load may be the one that should have been
/// found, so that is an error (exit 2), never a pass.
fn nothing_linked(
    problems: &[git_session::store::FileProblem],
    why: Vec<String>,
) -> Result<std::result::Result<Vec<Target>, String>> {
    match problems.first() {
        Some(p) => Err(p.to_error()),
        None => Ok(Err(why.join("; "))),
    }
}

/// Nothing to check: exit 0 saying so, or 1 with --require-session.
fn no_session(args: &Args, ci: &CiEnv, format: Format, why: &str) -> Result<i32> {
    let sentence = format!("no session is linked: {why}");
    let met = !args.require_session;
    match format {
        Format::Json => emit_json(&CheckReport {
            schema: 1,
            session: None,
            met,
            criteria: Vec::new(),
            found_by: None,
            range: None,
            untrusted: Vec::new(),
            notes: vec![sentence.clone()],
        }),
        Format::Markdown => emit(&format!(
            "### git session check\n\n{}\n",
            md_escape(&sentence)
        )),
        Format::Text => {}
    }
    if let Some(path) = &args.summary {
        append(
            path,
            &format!("### git session check\n\n{}\n", md_escape(&sentence)),
        )?;
    }
    if ci.github_actions {
        let kind = if met { "notice" } else { "error" };
        let line = format!(
            "::{kind} title={}::{}\n",
            gh_property("git session check"),
            gh_data(&sentence)
        );
        if format == Format::Text {
            emit(&line);
        } else {
            err_text!("{line}");
        }
    }
    if args.require_session {
        return Err(Error::findings(format!(
            "{sentence}; --require-session asks for one: name it, or link commits with a Session trailer"
        )));
    }
    note(&format!("{sentence}; nothing to check"));
    Ok(0)
}

/// The criteria history answers: milestones, blockers, required trailers in the range.
fn judge_history(ctx: &Ctx, t: Target, head: CommitId, base: Option<&Base>) -> Result<Checked> {
    let mut checked = Checked {
        session: t.session,
        found_by: t.found_by,
        outcomes: Vec::new(),
        range: None,
        notes: Vec::new(),
        has_criteria: false,
    };
    let Some(c) = checked.session.criteria.clone() else {
        checked.notes.push(format!(
            "session '{}' has no [criteria] table; nothing to check",
            checked.session.name
        ));
        return Ok(checked);
    };
    checked.has_criteria = true;
    let s = &checked.session;
    // What HEAD holds is what is being merged: other branches' commits do not count.
    let (commits, coverage) = history::session_commits_from(&ctx.repo, &[head], s, &ctx.config)?;
    coverage.require_complete()?;
    checked.notes.extend(coverage.notes);
    let progress = progress::derive(s, &commits, ctx.estimate(), ctx.now);
    let mut judged = commits;
    if !c.require_trailers.is_empty() {
        let base = match base {
            Some(b) => Some((b.name.clone(), b.tip)),
            None => ctx
                .repo
                .branch_commit(&s.base)
                .map(|tip| (s.base.clone(), tip)),
        };
        match base {
            Some((name, tip)) => {
                let range = gate::range_set(&ctx.repo, head, tip)?;
                judged.retain(|c| range.contains(&c.id));
                checked.range = Some(format!("{name}..HEAD"));
            }
            None => checked.notes.push(format!(
                "base branch '{}' is not here, so require_trailers judged every commit of the session",
                s.base
            )),
        }
    }
    let missing = history::missing_trailers(&ctx.repo, &judged, &c.require_trailers)?;
    checked.outcomes =
        criteria::evaluate_history_in(s, &progress, &missing, checked.range.as_deref());
    Ok(checked)
}

/// Runs, skips or refuses each session's criteria commands, adding their outcomes.
fn run_commands(ctx: &Ctx, args: &Args, checked: &mut [Checked]) -> Result<()> {
    let mut ledger: Option<Ledger> = None;
    for c in checked.iter_mut() {
        let Some(cmds) = c.session.criteria.as_ref().map(|k| k.commands.clone()) else {
            continue;
        };
        if cmds.is_empty() {
            continue;
        }
        if args.no_commands {
            for cmd in &cmds {
                c.outcomes
                    .push(criteria::command_skipped(cmd, "--no-commands"));
            }
            continue;
        }
        let name = c.session.name.to_string();
        if !args.run_commands {
            if ledger.is_none() {
                ledger = Some(trust::load(&state_dir(&ctx.repo))?);
            }
            let l = ledger.as_ref().expect("loaded just above");
            if !l.trusts_all(&name, &cmds) {
                for cmd in &cmds {
                    c.outcomes.push(match l.standing(&name, cmd) {
                        Standing::Trusted => criteria::command_skipped(
                            cmd,
                            "approved, but not run while another command of the session is not",
                        ),
                        other => criteria::command_untrusted(cmd, other),
                    });
                }
                continue;
            }
        }
        let top = ctx
            .repo
            .workdir()
            .expect("Ctx::open refuses bare repositories")
            .to_path_buf();
        for cmd in &cmds {
            note(&format!(
                "running {} ({}): {}",
                cmd.name,
                name,
                git_session::name::one_line(&cmd.run)
            ));
            let ran = command::run(&cmd.run, &top, &[], Duration::from_secs(cmd.timeout_secs));
            c.outcomes.push(criteria::command_ran(cmd, &ran));
        }
    }
    Ok(())
}

fn report(c: &Checked) -> CheckReport {
    let v = c.verdict();
    CheckReport {
        schema: 1,
        session: Some(c.session.name.to_string()),
        met: v.met,
        criteria: c.outcomes.clone(),
        found_by: Some(c.found_by.clone()),
        range: c.range.clone(),
        untrusted: v.untrusted,
        notes: c.notes.clone(),
    }
}

/// One line that sums a session up.
fn summary_line(c: &Checked) -> String {
    let v = c.verdict();
    if !c.has_criteria {
        "no criteria; nothing to check".to_string()
    } else if !v.untrusted.is_empty() {
        format!(
            "not checked: {} not trusted",
            if v.untrusted.len() == 1 {
                "1 criteria command is".to_string()
            } else {
                format!("{} criteria commands are", v.untrusted.len())
            }
        )
    } else if v.met {
        let skipped = if v.skipped.is_empty() {
            String::new()
        } else {
            format!(" ({} skipped)", v.skipped.join(", "))
        };
        format!("criteria met{skipped}")
    } else {
        format!("criteria unmet: {}", v.unmet.join(", "))
    }
}

fn mark(st: &Style, o: &Outcome) -> String {
    match o.state {
        Some(CommandState::Skipped) => st.dim("–"),
        Some(CommandState::Untrusted) => st.yellow("?"),
        _ if o.met => st.green("✓"),
        _ => st.red("✗"),
    }
}

fn text(st: &Style, checked: &[Checked], github: bool, token: &str) -> String {
    let mut out = String::new();
    for (i, c) in checked.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let s = &c.session;
        out.push_str(&format!(
            "{} {}\n",
            st.bold(&format!("Session {}", s.name)),
            st.dim(&format!("(branch {}; found: {})", s.branch, c.found_by))
        ));
        let w = c
            .outcomes
            .iter()
            .map(|o| o.name.chars().count())
            .max()
            .unwrap_or(0);
        for o in &c.outcomes {
            out.push_str(&format!(
                "  {} {}  {}\n",
                mark(st, o),
                pad(&o.name, w),
                o.detail
            ));
            let failed = matches!(o.state, Some(CommandState::Failed | CommandState::TimedOut));
            if let (true, Some(output)) = (failed, &o.output) {
                // Output is the command's, not ours: GitHub must not read commands in it.
                if github {
                    out.push_str(&format!("::stop-commands::{token}\n"));
                }
                for line in output.lines() {
                    out.push_str(&format!("      {} {line}\n", st.dim("│")));
                }
                if github {
                    out.push_str(&format!("::{token}::\n"));
                }
            }
        }
        for n in &c.notes {
            out.push_str(&format!("  {} {n}\n", st.dim("note:")));
        }
        let v = c.verdict();
        let line = format!("{}: {}", s.name, summary_line(c));
        out.push_str(&if !v.untrusted.is_empty() {
            st.yellow(&line)
        } else if v.met {
            st.green(&line)
        } else {
            st.red(&line)
        });
        out.push('\n');
    }
    out
}

/// Lines of output kept in the markdown report per failed command.
const MARKDOWN_OUTPUT_LINES: usize = 60;

fn markdown(checked: &[Checked]) -> String {
    let mut out = String::new();
    for c in checked {
        let v = c.verdict();
        let icon = if !v.untrusted.is_empty() {
            "⚠️"
        } else if v.met {
            "✅"
        } else {
            "❌"
        };
        out.push_str(&format!(
            "### {icon} Session `{}`: {}\n\n",
            c.session.name,
            md_escape(&summary_line(c))
        ));
        if !c.outcomes.is_empty() {
            out.push_str("| | Criterion | Result |\n|---|---|---|\n");
            for o in &c.outcomes {
                let icon = match o.state {
                    Some(CommandState::Skipped) => "⏭️",
                    Some(CommandState::Untrusted) => "⚠️",
                    _ if o.met => "✅",
                    _ => "❌",
                };
                out.push_str(&format!(
                    "| {icon} | {} | {} |\n",
                    md_escape(&o.name),
                    md_escape(&o.detail)
                ));
            }
            out.push('\n');
        }
        for o in &c.outcomes {
            let failed = matches!(o.state, Some(CommandState::Failed | CommandState::TimedOut));
            let Some(output) = o.output.as_deref().filter(|_| failed) else {
                continue;
            };
            let lines: Vec<&str> = output.lines().collect();
            let shown = &lines[lines.len().saturating_sub(MARKDOWN_OUTPUT_LINES)..];
            let body = shown.join("\n");
            let fence = fence_for(&body);
            out.push_str(&format!(
                "<details><summary>Output of {} (last {} lines)</summary>\n\n{fence}text\n{body}\n{fence}\n\n</details>\n\n",
                md_escape(&o.name),
                shown.len()
            ));
        }
        let mut notes = c.notes.clone();
        notes.push(format!("found: {}", c.found_by));
        out.push_str(&format!(
            "<sub>{}</sub>\n\n",
            notes
                .iter()
                .map(|n| md_escape(n))
                .collect::<Vec<_>>()
                .join(" · ")
        ));
    }
    out
}

/// A code fence longer than any run of backticks in `body`, so the body cannot close it.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// GitHub workflow commands: an error per unmet or untrusted criterion, a notice when met.
fn annotations(checked: &[Checked]) -> String {
    let mut out = String::new();
    for c in checked {
        let title = gh_property(&format!("git session check: {}", c.session.name));
        let v = c.verdict();
        for o in &c.outcomes {
            if !o.met && !o.is_skipped() {
                out.push_str(&format!(
                    "::error title={title}::{}\n",
                    gh_data(&format!("{}: {}", o.name, o.detail))
                ));
            }
        }
        if v.met {
            out.push_str(&format!(
                "::notice title={title}::{}\n",
                gh_data(&format!("{}: {}", c.session.name, summary_line(c)))
            ));
        }
    }
    out
}

/// Escapes a workflow command's message.
fn gh_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn gh_property(text: &str) -> String {
    gh_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn append(path: &std::path::Path, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open", path, &e))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::io("write", path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_text_is_escaped() {
        assert_eq!(gh_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(gh_property("a: b, c"), "a%3A b%2C c");
    }

    #[test]
    fn fences_outgrow_the_backticks_inside() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }

    #[test]
    fn refusal_outranks_unmet() {
        assert_eq!([0, 1, 4, 1].into_iter().fold(0, severest), 4);
        assert_eq!([0, 1, 0].into_iter().fold(0, severest), 1);
        assert_eq!([0, 0].into_iter().fold(0, severest), 0);
    }
}
