//! A commit message file as the hooks see it, and the message git will store from it.
//!
//! `prepare-commit-msg` gets the file before the editor: the message, then git's comment lines,
//! maybe a scissors line with the diff below it (`commit -v`). `commit-msg` gets it after the
//! editor, still uncleaned. What history keeps is the file after git's cleanup, read with
//! `--no-divider` semantics (SPEC §3), so trailers are added to, and read from, the block that
//! git will read from history.

use crate::links::{self, Event};
use crate::trailer::{self, TrailerConfig};

/// How `git commit` cleans the message up (`--cleanup`, `commit.cleanup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleanup {
    /// Keep the message as it is.
    Verbatim,
    /// Strip trailing whitespace and collapse blank lines; comment lines stay.
    Whitespace,
    /// As whitespace, and drop comment lines.
    Strip,
    /// As strip, and drop everything from the scissors line on.
    Scissors,
}

impl Cleanup {
    /// The mode git picks: `commit.cleanup` if set, else `strip` when an editor is used and
    /// `whitespace` otherwise. `scissors` without an editor is `whitespace`, as in git.
    pub fn resolve(config: Option<&str>, editor: bool) -> Cleanup {
        let config = config.map(str::to_ascii_lowercase);
        match config.as_deref() {
            Some("verbatim") => Cleanup::Verbatim,
            Some("whitespace") => Cleanup::Whitespace,
            Some("strip") => Cleanup::Strip,
            Some("scissors") if editor => Cleanup::Scissors,
            Some("scissors") => Cleanup::Whitespace,
            _ if editor => Cleanup::Strip,
            _ => Cleanup::Whitespace,
        }
    }
}

const CUT_LINE: &[u8] = b"------------------------ >8 ------------------------\n";

/// Where a scissors line starts (git's `wt_status_locate_end`), or the message's length.
fn scissors_at(message: &[u8], comment: &[u8]) -> usize {
    let mut pattern = b"\n".to_vec();
    pattern.extend_from_slice(comment);
    pattern.push(b' ');
    pattern.extend_from_slice(CUT_LINE);
    if message.starts_with(&pattern[1..]) {
        return 0;
    }
    message
        .windows(pattern.len())
        .position(|w| w == pattern.as_slice())
        .map_or(message.len(), |p| p + 1)
}

/// The message `git commit` stores from this file. `editor` says whether an editor was used:
/// git then cuts the message at a scissors line (`commit -v` puts the diff below one).
pub fn cleaned(message: &[u8], mode: Cleanup, editor: bool, comment: &[u8]) -> Vec<u8> {
    let mut message = message;
    if editor || mode == Cleanup::Scissors {
        message = &message[..scissors_at(message, comment)];
    }
    match mode {
        Cleanup::Verbatim => message.to_vec(),
        Cleanup::Whitespace => stripspace(message, None),
        Cleanup::Strip | Cleanup::Scissors => stripspace(message, Some(comment)),
    }
}

/// git's `strbuf_stripspace`: trailing whitespace removed from every line, runs of blank lines
/// collapsed to one, blank lines at both ends dropped, and comment lines dropped when asked.
fn stripspace(message: &[u8], comment: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut empties = 0usize;
    for line in message.split_inclusive(|&c| c == b'\n') {
        if comment.is_some_and(|c| !c.is_empty() && line.starts_with(c)) {
            continue;
        }
        let content = line
            .iter()
            .rposition(|&c| !trailer::is_space(c))
            .map_or(0, |p| p + 1);
        if content == 0 {
            empties += 1;
            continue;
        }
        if empties > 0 && !out.is_empty() {
            out.push(b'\n');
        }
        empties = 0;
        out.extend_from_slice(&line[..content]);
        out.push(b'\n');
    }
    out
}

/// The message proper of a message file: without git's trailing comment lines, blank lines and
/// scissors section. Empty when the user has written nothing yet.
pub fn proper<'a>(message: &'a [u8], cfg: &TrailerConfig) -> &'a [u8] {
    let (_, end) = trailer::block_bounds(message, cfg, true);
    &message[..end]
}

fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|&c| trailer::is_space(c))
}

/// Adds trailer `lines` (each `Key: value`, no newline) where git reads the trailer block from
/// history: at the end of the message's last trailer block, or as a new last paragraph of the
/// message proper — above git's comment lines and scissors line, never behind a `---` line.
/// An empty message gets an empty subject line first, so what the user types on the first line
/// stays the subject.
pub fn add_trailers(message: &[u8], cfg: &TrailerConfig, lines: &[String]) -> Vec<u8> {
    if lines.is_empty() {
        return message.to_vec();
    }
    let (start, end) = trailer::block_bounds(message, cfg, true);
    let (head, rest) = message.split_at(end);
    let mut out = Vec::with_capacity(message.len() + 64);
    if is_blank(head) {
        // Nothing written yet: line 1 for the subject, a blank line, then the trailers.
        out.extend_from_slice(b"\n\n");
    } else {
        out.extend_from_slice(head);
        if !head.ends_with(b"\n") {
            out.push(b'\n');
        }
        let has_block = start < end;
        if !has_block && !head.ends_with(b"\n\n") {
            out.push(b'\n');
        }
    }
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    if !rest.is_empty() && !rest.starts_with(b"\n") {
        // Keep a blank line between the trailers and git's comments.
        out.push(b'\n');
    }
    out.extend_from_slice(rest);
    out
}

/// Whether the message's trailer block names a session already.
pub fn names_a_session(message: &[u8], cfg: &TrailerConfig) -> bool {
    !links::from_trailers(&trailer::parse_verbatim(message, cfg, true))
        .sessions
        .is_empty()
}

/// The trailers `prepare-commit-msg` should add for session `name` (id `id`) and its focus
/// milestone: `Session: <name>` unless the message names a session already, and
/// `Milestone: <focus>` unless the message names one of this session's milestones already.
/// A message that names only other sessions is the user's choice: nothing is added.
pub fn stamp_lines(
    message: &[u8],
    cfg: &TrailerConfig,
    name: &str,
    id: &str,
    focus: Option<&str>,
) -> Vec<String> {
    let found = links::from_trailers(&trailer::parse_verbatim(message, cfg, true));
    let mut lines = Vec::new();
    if found.sessions.is_empty() {
        lines.push(format!("{}: {name}", links::SESSION));
    } else if !found
        .sessions
        .iter()
        .any(|s| s == name || s.eq_ignore_ascii_case(id))
    {
        return lines;
    }
    if let Some(m) = focus {
        let names_a_milestone = found.events.iter().any(|e| {
            e.milestone().is_some()
                && e.qualifier()
                    .is_none_or(|q| q == name || q.eq_ignore_ascii_case(id))
        });
        if !names_a_milestone {
            lines.push(format!("{}: {m}", links::MILESTONE));
        }
    }
    lines
}

/// Messages that git or the user made from other commits: a revert's (`This reverts commit
/// <id>.`), and `fixup!`/`squash!`/`amend!` commits that a rebase folds into another one.
pub fn is_derived(message: &[u8]) -> bool {
    let message = trailer::skip_blank_lines(message);
    let subject = message.split(|&c| c == b'\n').next().unwrap_or_default();
    if [b"fixup! ".as_slice(), b"squash! ", b"amend! "]
        .iter()
        .any(|p| subject.starts_with(p))
    {
        return true;
    }
    message.split(|&c| c == b'\n').any(|line| {
        line.strip_prefix(b"This reverts commit ")
            .is_some_and(|rest| {
                let hex = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
                hex >= 7
            })
    })
}

/// Whether a cleaned message holds nothing but trailers of ours: what is left when the user
/// quits the editor without writing anything after `prepare-commit-msg` stamped the file.
pub fn only_our_trailers(cleaned: &[u8], cfg: &TrailerConfig) -> bool {
    let mut any = false;
    for line in cleaned.split(|&c| c == b'\n') {
        if is_blank(line) {
            continue;
        }
        let Some(sep) = line.iter().position(|c| cfg.separators.contains(c)) else {
            return false;
        };
        let key = String::from_utf8_lossy(&line[..sep]);
        if !links::KEYS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key.trim()))
        {
            return false;
        }
        any = true;
    }
    any
}

/// What one event says, for the progress line: `parser done`, `#ci opened`.
pub fn describe(event: &Event) -> Option<String> {
    match event {
        Event::MilestoneDone { milestone, .. } => Some(format!("{milestone} done")),
        Event::TaskDone {
            milestone, task, ..
        } => Some(format!("{milestone}/{task} done")),
        Event::Blocker { tag, .. } => Some(format!("blocker #{tag} opened")),
        Event::BlockerResolved { tag } => Some(format!("#{tag} resolved")),
        Event::Milestone { .. } | Event::Effort { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> TrailerConfig {
        TrailerConfig::default()
    }

    fn add(message: &str, lines: &[&str]) -> String {
        let lines: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        String::from_utf8(add_trailers(message.as_bytes(), &cfg(), &lines)).unwrap()
    }

    fn history(message: &str) -> Vec<String> {
        let c = cfg();
        let stored = cleaned(message.as_bytes(), Cleanup::Strip, true, &c.comment);
        trailer::parse_history(&stored, &c)
            .iter()
            .map(|t| format!("{}: {}", t.key_str(), t.value_str()))
            .collect()
    }

    const TEMPLATE: &str = "\n# Please enter the commit message for your changes. Lines starting\n\
# with '#' will be ignored, and an empty message aborts the commit.\n#\n# On branch main\n";

    #[test]
    fn a_plain_message_gets_a_new_paragraph() {
        assert_eq!(add("Subject\n", &["Session: s"]), "Subject\n\nSession: s\n");
        assert_eq!(
            add("Subject\n\nBody text.\n", &["Session: s", "Milestone: m"]),
            "Subject\n\nBody text.\n\nSession: s\nMilestone: m\n"
        );
        assert_eq!(add("Subject", &["Session: s"]), "Subject\n\nSession: s\n");
    }

    #[test]
    fn an_existing_trailer_block_is_extended() {
        assert_eq!(
            add("Subject\n\nSigned-off-by: A <a@x>\n", &["Session: s"]),
            "Subject\n\nSigned-off-by: A <a@x>\nSession: s\n"
        );
        assert_eq!(
            add("Merge branch 'x'\n\nFoo: bar", &["Session: s"]),
            "Merge branch 'x'\n\nFoo: bar\nSession: s\n"
        );
    }

    #[test]
    fn trailers_go_above_comments_and_scissors() {
        let verbose = format!(
            "Subject\n{TEMPLATE}# ------------------------ >8 ------------------------\n\
             # Do not modify or remove the line above.\ndiff --git a/x b/x\n+Key: not a trailer\n"
        );
        let out = add(&verbose, &["Session: s"]);
        assert!(
            out.starts_with("Subject\n\nSession: s\n\n# Please enter"),
            "{out}"
        );
        assert!(out.ends_with("+Key: not a trailer\n"));
        assert_eq!(history(&out), ["Session: s"]);
    }

    #[test]
    fn an_empty_message_keeps_line_one_for_the_subject() {
        let out = add(TEMPLATE, &["Session: s"]);
        assert!(
            out.starts_with("\n\nSession: s\n\n# Please enter"),
            "{out:?}"
        );
        // The user types the subject on line 1; history reads the trailer.
        let typed = format!("Add parser{out}");
        assert_eq!(history(&typed), ["Session: s"]);
        // The user writes nothing: only our trailer is left.
        let stored = cleaned(out.as_bytes(), Cleanup::Strip, true, b"#");
        assert!(only_our_trailers(&stored, &cfg()));
        assert!(!only_our_trailers(b"Subject\n\nSession: s\n", &cfg()));
    }

    #[test]
    fn a_dash_line_does_not_hide_the_trailer() {
        let out = add("Subject\n\nNotes\n---\nMore notes\n", &["Session: s"]);
        assert_eq!(out, "Subject\n\nNotes\n---\nMore notes\n\nSession: s\n");
        assert_eq!(history(&out), ["Session: s"]);
        // A trailer block before the dashes is not the block history reads.
        let out = add("Subject\n\nFoo: bar\n---\nnotes\n", &["Session: s"]);
        assert_eq!(history(&out), ["Session: s"]);
    }

    #[test]
    fn a_custom_comment_string_is_respected() {
        let c = TrailerConfig::from_entries([("core.commentString", "//")]);
        let msg = b"Subject\n\n// comment\n// Key: not this\n";
        let lines = vec!["Session: s".to_string()];
        let out = add_trailers(msg, &c, &lines);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "Subject\n\nSession: s\n\n// comment\n// Key: not this\n"
        );
        let stored = cleaned(&out, Cleanup::Strip, true, &c.comment);
        assert_eq!(stored, b"Subject\n\nSession: s\n");
    }

    #[test]
    fn cleanup_follows_git() {
        let msg = b"\n\nSubject  \n\n\n# comment\nbody\t\n\n";
        assert_eq!(
            cleaned(msg, Cleanup::Strip, true, b"#"),
            b"Subject\n\nbody\n"
        );
        assert_eq!(
            cleaned(msg, Cleanup::Whitespace, false, b"#"),
            b"Subject\n\n# comment\nbody\n"
        );
        assert_eq!(cleaned(msg, Cleanup::Verbatim, false, b"#"), msg);
        let cut = b"S\n\nT: v\n# ------------------------ >8 ------------------------\nX: y\n";
        assert_eq!(cleaned(cut, Cleanup::Strip, true, b"#"), b"S\n\nT: v\n");
        assert_eq!(
            cleaned(cut, Cleanup::Whitespace, false, b"#"),
            b"S\n\nT: v\n# ------------------------ >8 ------------------------\nX: y\n"
        );
    }

    #[test]
    fn cleanup_mode_is_resolved_as_git_does() {
        assert_eq!(Cleanup::resolve(None, true), Cleanup::Strip);
        assert_eq!(Cleanup::resolve(None, false), Cleanup::Whitespace);
        assert_eq!(Cleanup::resolve(Some("default"), true), Cleanup::Strip);
        assert_eq!(Cleanup::resolve(Some("scissors"), true), Cleanup::Scissors);
        assert_eq!(
            Cleanup::resolve(Some("scissors"), false),
            Cleanup::Whitespace
        );
        assert_eq!(Cleanup::resolve(Some("Verbatim"), true), Cleanup::Verbatim);
        assert_eq!(Cleanup::resolve(Some("strip"), false), Cleanup::Strip);
    }

    #[test]
    fn stamping_adds_only_what_is_missing() {
        let c = cfg();
        let id = "0193a9e4-5c1f-7d2a-9b3e-4f5a6b7c8d9e";
        let stamp = |m: &str, focus| stamp_lines(m.as_bytes(), &c, "search", id, focus);
        assert_eq!(stamp("S\n", None), ["Session: search"]);
        assert_eq!(
            stamp("S\n", Some("parser")),
            ["Session: search", "Milestone: parser"]
        );
        assert_eq!(
            stamp("S\n\nsession: search\n", Some("parser")),
            ["Milestone: parser"]
        );
        assert_eq!(
            stamp(&format!("S\n\nSession: {id}\n"), None),
            [] as [&str; 0]
        );
        assert!(
            stamp(
                "S\n\nSession: search\nMilestone-Done: ranking\n",
                Some("parser")
            )
            .is_empty()
        );
        assert!(stamp("S\n\nTask-Done: parser/lexer\n", Some("parser")) == ["Session: search"]);
        // Another session named explicitly: the user chose, nothing is added.
        assert!(stamp("S\n\nSession: other\n", Some("parser")).is_empty());
        // A qualified milestone of another session does not count as naming ours.
        assert_eq!(
            stamp("S\n\nMilestone: other/x\n", Some("parser")),
            ["Session: search", "Milestone: parser"]
        );
        // Trailer-like lines in the body are not trailers.
        assert_eq!(
            stamp("S\n\nSession: search\n\nJust prose.\n", None),
            ["Session: search"]
        );
    }

    #[test]
    fn derived_messages_are_recognised() {
        assert!(is_derived(
            b"Revert \"x\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n"
        ));
        assert!(is_derived(b"fixup! Add parser\n"));
        assert!(is_derived(b"\nsquash! Add parser\n"));
        assert!(!is_derived(b"Add parser\n\nThis reverts commit nothing.\n"));
        assert!(!is_derived(b"Fix the fixup! handling\n"));
    }

    #[test]
    fn events_are_described() {
        assert_eq!(
            describe(&Event::MilestoneDone {
                session: None,
                milestone: "parser".into()
            })
            .as_deref(),
            Some("parser done")
        );
        assert_eq!(describe(&Event::Effort { minutes: 3 }), None);
    }
}
