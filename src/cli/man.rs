//! `git session man`: the manual pages, generated from the clap definition (the same one
//! `--help` prints), printed or installed where `man` — and so `git help session` — finds them.

use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory, ValueHint};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

use git_session::error::{Error, Result};

use super::{Global, emit};

/// Print or install the manual pages; once installed, git help session shows them
///
/// The pages are git-session(1) and one per command: git-session-status(1),
/// git-session-hooks-install(1), and so on. 'git help session' — and 'git session --help',
/// which git turns into it — runs 'man git-session', so the pages must be where man looks.
/// --install writes them into DIR/man1; DIR defaults to share/man beside the directory
/// git-session is in (~/.cargo/bin/git-session: ~/.cargo/share/man), which man searches for
/// every bin directory on PATH. Elsewhere, add DIR to MANPATH. A command's page:
/// 'git help git-session-status' or 'man git-session-status'.
///
/// Examples:
///   git session man --install                            then: git help session
///   git session man --install --dir ~/.local/share/man
///   git session man status | man -l -                    read a page without installing
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The page to print: a command such as status or hooks-install [default: git-session]
    #[arg(value_name = "PAGE", conflicts_with = "install")]
    pub page: Option<String>,

    /// Write every page into DIR/man1, each replaced atomically
    #[arg(long)]
    pub install: bool,

    /// The man directory to install into [default: share/man beside git-session's directory]
    #[arg(long, value_name = "DIR", requires = "install", value_hint = ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

pub fn run(_global: &Global, args: Args) -> Result<i32> {
    let pages = pages();
    if !args.install {
        let want = match args.page.as_deref() {
            None | Some("git-session") => "git-session".to_string(),
            Some(p) if p.starts_with("git-session-") => p.to_string(),
            Some(p) => format!("git-session-{p}"),
        };
        let Some((_, text)) = pages.iter().find(|(name, _)| *name == want) else {
            let names: Vec<&str> = pages
                .iter()
                .filter_map(|(n, _)| n.strip_prefix("git-session-"))
                .collect();
            return Err(Error::input(format!(
                "there is no manual page for '{}'; pages exist for: {}",
                args.page.unwrap_or_default(),
                names.join(", ")
            )));
        };
        emit(text);
        return Ok(0);
    }
    let dir = match args.dir {
        Some(d) => d,
        None => default_dir()?,
    };
    let man1 = dir.join("man1");
    std::fs::create_dir_all(&man1).map_err(|e| Error::io("create", &man1, &e))?;
    for (name, text) in &pages {
        git_session::store::write_atomic(&man1.join(format!("{name}.1")), text.as_bytes(), true)?;
    }
    emit(&format!(
        "Installed {} manual pages in {}\n\
         'git help session' shows them when man searches {}: it does for share/man beside a \
         bin directory on PATH; elsewhere add it to MANPATH.\n",
        pages.len(),
        man1.display(),
        dir.display()
    ));
    Ok(0)
}

/// `<prefix>/share/man` for a binary in `<prefix>/bin`: where man-db and BSD man look for the
/// pages of the programs in each directory on `PATH`.
fn default_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::input(format!(
            "cannot tell where git-session is installed ({}); name the man directory with --dir, e.g. --dir ~/.local/share/man",
            git_session::error::io_reason(&e)
        ))
    })?;
    let bin = exe.parent().unwrap_or(Path::new("/"));
    match bin.parent() {
        Some(prefix) if bin.file_name().is_some_and(|n| n == "bin") => {
            Ok(prefix.join("share").join("man"))
        }
        _ => Err(Error::input(format!(
            "git-session runs from {}, not from a bin directory, so there is no man directory beside it; name one with --dir, e.g. --dir ~/.local/share/man",
            bin.display()
        ))),
    }
}

/// Every page, `(name, roff)`: git-session first, then the commands in definition order.
pub fn pages() -> Vec<(String, String)> {
    let mut cli = super::Cli::command().disable_help_subcommand(true);
    cli.build();
    let mut out = Vec::new();
    collect(&cli, true, &mut out);
    out
}

fn collect(cmd: &Command, top: bool, out: &mut Vec<(String, String)>) {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    out.push((name, page(cmd, top)));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, false, out);
    }
}

/// One page: clap_mangen's sections, a description that keeps example lines as they are, and
/// for the main page what the options cannot say (exit status, environment, configuration).
fn page(cmd: &Command, top: bool) -> String {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let man = Man::new(cmd.clone());
    let preamble = Roff::new().render();
    let mut text = preamble.clone();
    // clap_mangen leaves an empty date unquoted, which shifts the .TH fields; the page has no
    // date, so that it depends only on the definition.
    text.push_str(&format!(
        ".TH {} 1 \"\" \"git-session {}\" \"Git Session Manual\"\n",
        name.to_uppercase(),
        env!("CARGO_PKG_VERSION")
    ));
    let mut section = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        if render(&mut buf).is_ok() {
            let s = String::from_utf8_lossy(&buf);
            text.push_str(s.strip_prefix(preamble.as_str()).unwrap_or(&s));
        }
    };
    section(&|w| man.render_name_section(w));
    section(&|w| {
        w.extend_from_slice(synopsis(cmd, &name).as_bytes());
        Ok(())
    });
    section(&|w| {
        w.extend_from_slice(description(cmd).as_bytes());
        Ok(())
    });
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        section(&|w| man.render_options_section(w));
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        section(&|w| man.render_subcommands_section(w));
    }
    let mut more = Roff::new();
    if top {
        main_page_sections(&mut more);
    }
    more.control("SH", ["SEE ALSO"]);
    let mut see: Vec<String> = Vec::new();
    if !top {
        see.push("git-session(1)".to_string());
    }
    see.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{}(1)", s.get_display_name().unwrap_or(s.get_name()))),
    );
    see.push("git(1)".to_string());
    see.push("githooks(5)".to_string());
    more.text([roman(see.join(", "))]);
    let rendered = more.render();
    text.push_str(
        rendered
            .strip_prefix(preamble.as_str())
            .unwrap_or(&rendered),
    );
    text
}

/// The synopsis with each option's value, as `--help` shows it (clap_mangen's leaves the
/// values out: `[-C ]`).
fn synopsis(cmd: &Command, name: &str) -> String {
    let mut cmd = cmd.clone();
    cmd.build();
    // git-session-hooks-install is run as git session hooks install.
    let mut parts = vec![bold(name.replace('-', " "))];
    let value = |a: &clap::Arg| -> String {
        a.get_value_names()
            .and_then(|v| v.first())
            .map_or_else(|| a.get_id().as_str().to_uppercase(), |v| v.to_string())
    };
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let repeats = matches!(
            a.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        ) || a.get_num_args().is_some_and(|n| n.max_values() > 1);
        let dots = if repeats { "..." } else { "" };
        if a.is_positional() {
            let (open, close) = if a.is_required_set() {
                (" <", ">")
            } else {
                (" [", "]")
            };
            parts.push(roman(open));
            parts.push(italic(value(a)));
            parts.push(roman(format!("{close}{dots}")));
            continue;
        }
        let flag = match (a.get_short(), a.get_long()) {
            (Some(c), Some(l)) => format!("-{c}|--{l}"),
            (Some(c), None) => format!("-{c}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        parts.push(roman(" ["));
        parts.push(bold(flag));
        if a.get_action().takes_values() {
            parts.push(roman(" "));
            parts.push(italic(value(a)));
        }
        parts.push(roman(format!("]{dots}")));
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        parts.push(roman(" <"));
        parts.push(italic("command"));
        parts.push(roman(">"));
    }
    let mut roff = Roff::new();
    // No hyphenation from here on: an option split across lines ('--mile-stone') reads wrong.
    roff.control("SH", ["SYNOPSIS"])
        .control("nh", [])
        .text(parts);
    strip(roff.render())
}

/// The long help as paragraphs; indented lines (examples, lists) stay lines, as in `--help`.
fn description(cmd: &Command) -> String {
    let mut roff = Roff::new();
    roff.control("SH", ["DESCRIPTION"]);
    let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) else {
        return strip(roff.render());
    };
    let text = about.to_string();
    let mut verbatim = false;
    for line in text.lines() {
        let indented = line.starts_with("  ");
        if line.trim().is_empty() {
            if verbatim {
                roff.control("fi", []).control("RE", []);
                verbatim = false;
            }
            roff.control("PP", []);
            continue;
        }
        if indented && !verbatim {
            roff.control("RS", ["4"]).control("nf", []);
            verbatim = true;
        } else if !indented && verbatim {
            roff.control("fi", []).control("RE", []);
            verbatim = false;
        }
        roff.text([roman(if verbatim { line.trim_start() } else { line })]);
    }
    if verbatim {
        roff.control("fi", []).control("RE", []);
    }
    strip(roff.render())
}

fn strip(rendered: String) -> String {
    let preamble = Roff::new().render();
    rendered
        .strip_prefix(preamble.as_str())
        .map(str::to_string)
        .unwrap_or(rendered)
}

/// A titled list of `term: meaning` entries.
fn list(roff: &mut Roff, title: &str, intro: &str, entries: &[(&str, &str)]) {
    roff.control("SH", [title]);
    if !intro.is_empty() {
        roff.text([roman(intro)]);
    }
    for (term, meaning) in entries {
        roff.control("TP", [])
            .text([bold(*term)])
            .text([roman(*meaning)]);
    }
}

fn main_page_sections(roff: &mut Roff) {
    list(
        roff,
        "EXIT STATUS",
        "",
        &[
            ("0", "success; criteria met; nothing to check"),
            (
                "1",
                "criteria unmet; validation findings; a hook refused a message",
            ),
            (
                "2",
                "bad input or usage: bad TOML, unknown session, unsafe name, not a repository",
            ),
            (
                "3",
                "the repository cannot answer: shallow history that hides what is needed, unborn branch",
            ),
            (
                "4",
                "refused for safety: criteria commands that are not trusted",
            ),
        ],
    );
    list(
        roff,
        "TRAILERS",
        "Commits link to sessions through these commit-message trailers (keys match case-insensitively; repeat one for several values):",
        &[
            (
                "Session: <name>",
                "the commit belongs to that session (name or UUID)",
            ),
            ("Milestone: <id>", "the commit advances that milestone"),
            (
                "Milestone-Done: <id>",
                "the milestone is complete from this commit on",
            ),
            (
                "Task-Done: <milestone>/<task>",
                "one checklist item is done",
            ),
            (
                "Effort: <duration>",
                "effort reported for this commit: 45m, 1h30m, 1.5h, 2d",
            ),
            ("Blocker: #<tag> <text>", "opens a blocker"),
            ("Blocker-Resolved: #<tag>", "closes it"),
        ],
    );
    list(
        roff,
        "FILES",
        "",
        &[
            (
                ".sessions/<name>.toml",
                "a session: objectives, milestones, tasks, criteria",
            ),
            (
                ".sessions/config.toml",
                "the repository's policy: branch prefix, estimate parameters, hook strictness",
            ),
            (
                "$GIT_COMMON_DIR/git-session/",
                "local state, never committed: cache, trust approvals, focus, refused messages",
            ),
        ],
    );
    list(
        roff,
        "CONFIGURATION",
        "Personal preferences, read with git config (so git -c works too); the repository's policy is in .sessions/config.toml:",
        &[
            (
                "session.progress",
                "false: the post-commit hook prints no progress line (default true)",
            ),
            (
                "session.cache",
                "false: never read or write the cache, as --no-cache (default true)",
            ),
            (
                "color.ui",
                "never/always: colour as git does; --color, NO_COLOR and CLICOLOR_FORCE come first",
            ),
        ],
    );
    list(
        roff,
        "ENVIRONMENT",
        "",
        &[
            ("NO_COLOR", "when set and not empty, no colour"),
            (
                "CLICOLOR_FORCE",
                "when set and not 0, colour even when the output is not a terminal",
            ),
            (
                "GITHUB_HEAD_REF, CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
                "the pull request's branch, for check",
            ),
            (
                "GITHUB_BASE_REF, CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
                "the pull request's base, for check",
            ),
            (
                "GIT_SESSION_NOW",
                "an RFC 3339 time to use as now, for reproducible reports",
            ),
            ("GIT_SESSION_TRACE", "when set, phase timings on stderr"),
        ],
    );
    roff.control("SH", ["DOCUMENTATION"]);
    roff.text([
        roman("The guides are in the project's "),
        italic("docs/"),
        roman(
            " directory: getting-started.md, session-file.md, trailers.md, hooks.md, ci.md, json.md, cli.md.",
        ),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_per_visible_command() {
        let pages = pages();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "git-session");
        for want in [
            "git-session-status",
            "git-session-hooks-install",
            "git-session-completions",
            "git-session-man",
        ] {
            assert!(names.contains(&want), "{want} in {names:?}");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("hook-") || n.ends_with("-hook"))
        );
        assert!(
            !names
                .iter()
                .any(|n| n.contains("complete-") || n.ends_with("help"))
        );
        let (_, status) = &pages[names
            .iter()
            .position(|n| *n == "git-session-status")
            .expect("status")];
        assert!(
            status.contains(".TH GIT-SESSION-STATUS 1 \"\" \"git-session "),
            "{status}"
        );
        assert!(status.contains("git session status"), "{status}");
        // Options that take a value show it in the synopsis, as --help does.
        let synopsis = status
            .split(".SH SYNOPSIS")
            .nth(1)
            .and_then(|s| s.split(".SH").next())
            .expect("a synopsis");
        for want in [
            "\\fB\\-C\\fR \\fIPATH\\fR",
            "\\fB\\-\\-format\\fR \\fIFORMAT\\fR",
            "[\\fINAME\\fR]",
        ] {
            assert!(synopsis.contains(want), "{want} in {synopsis}");
        }
        assert!(status.contains("git\\-session(1)"), "{status}");
    }
}
