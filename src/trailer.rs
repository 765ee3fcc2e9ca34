//! Finding the trailer block of a commit message exactly as git does (`trailer.c`, `commit.c`,
//! `wt-status.c` of git 2.47), on bytes. Git is the oracle: the tests compare this module with
//! `git interpret-trailers --parse` and `git log --format=%(trailers)`.

/// The git configuration that changes how trailers are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailerConfig {
    /// `core.commentChar` / `core.commentString`; `#` by default.
    pub comment: Vec<u8>,
    /// `trailer.separators`; `:` by default.
    pub separators: Vec<u8>,
    /// One entry per configured `trailer.<name>.*`, in configuration order.
    pub items: Vec<ConfItem>,
}

/// A `trailer.<name>` section: its name, and its `key` if one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfItem {
    pub name: Vec<u8>,
    pub key: Option<Vec<u8>>,
}

impl Default for TrailerConfig {
    fn default() -> Self {
        TrailerConfig {
            comment: b"#".to_vec(),
            separators: b":".to_vec(),
            items: Vec::new(),
        }
    }
}

impl TrailerConfig {
    /// Builds the configuration from git config entries (`key`, `value`) in file order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut cfg = TrailerConfig::default();
        for (key, value) in entries {
            let lower = key.to_ascii_lowercase();
            if lower == "core.commentchar" || lower == "core.commentstring" {
                // "auto" only changes the template git writes; reading still uses '#'.
                if !value.is_empty() && value != "auto" && !value.contains('\n') {
                    cfg.comment = value.as_bytes().to_vec();
                }
            } else if lower == "trailer.separators" {
                if !value.is_empty() {
                    cfg.separators = value.as_bytes().to_vec();
                }
            } else if let Some(rest) = key
                .strip_prefix("trailer.")
                .or(key.strip_prefix("TRAILER."))
                && let Some(dot) = rest.rfind('.')
            {
                let (name, var) = (&rest[..dot], rest[dot + 1..].to_ascii_lowercase());
                if !matches!(
                    var.as_str(),
                    "key" | "where" | "ifexists" | "ifmissing" | "command" | "cmd"
                ) {
                    continue;
                }
                let pos = match cfg.items.iter().position(|i| i.name == name.as_bytes()) {
                    Some(p) => p,
                    None => {
                        cfg.items.push(ConfItem {
                            name: name.as_bytes().to_vec(),
                            key: None,
                        });
                        cfg.items.len() - 1
                    }
                };
                if var == "key" {
                    cfg.items[pos].key = Some(value.as_bytes().to_vec());
                }
            }
        }
        cfg
    }
}

/// One trailer: its key as written (or as a configured alias rewrites it) and its unfolded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

impl Trailer {
    pub fn key_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.key)
    }

    pub fn value_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }

    /// Keys match case-insensitively, as in git.
    pub fn is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key.as_bytes())
    }
}

/// The trailers `git log --format=%(trailers)` shows for a commit whose raw message is `message`:
/// leading blank lines are skipped first, and a `---` line does not end the message.
pub fn parse_history(message: &[u8], cfg: &TrailerConfig) -> Vec<Trailer> {
    parse_verbatim(skip_blank_lines(message), cfg, true)
}

/// The trailers `git interpret-trailers --parse` finds in a message file; `no_divider` as
/// `--no-divider`. Like git, it first completes a last line that lacks its newline.
pub fn parse(message: &[u8], cfg: &TrailerConfig, no_divider: bool) -> Vec<Trailer> {
    if message.last().is_some_and(|&c| c != b'\n') {
        let mut completed = message.to_vec();
        completed.push(b'\n');
        return parse_verbatim(&completed, cfg, no_divider);
    }
    parse_verbatim(message, cfg, no_divider)
}

/// The trailers of exactly these bytes (read as a C string), as git finds them in a commit.
pub fn parse_verbatim(message: &[u8], cfg: &TrailerConfig, no_divider: bool) -> Vec<Trailer> {
    let mut out = Vec::new();
    visit_verbatim(message, cfg, no_divider, |key, value| {
        out.push(Trailer {
            key: key.to_vec(),
            value: value.to_vec(),
        })
    });
    out
}

/// Calls `f(key, value)` for each trailer of exactly these bytes, without allocating unless a
/// value spans continuation lines.
pub fn visit_verbatim(
    message: &[u8],
    cfg: &TrailerConfig,
    no_divider: bool,
    mut f: impl FnMut(&[u8], &[u8]),
) {
    let buf = c_string(message);
    let (start, end) = block_bounds(buf, cfg, no_divider);
    let block = &buf[start..end];
    let mut unfolded = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let line_end = next_line(block, at);
        let line = &block[at..line_end];
        let sep = find_separator(line, &cfg.separators).filter(|&p| p >= 1);
        // Continuation lines (leading whitespace) belong to the trailer before them.
        let mut group_end = line_end;
        if sep.is_some() {
            while group_end < block.len() && is_space(block[group_end]) {
                group_end = next_line(block, group_end);
            }
        }
        at = group_end;
        let Some(sep) = sep else { continue };
        if line.starts_with(&cfg.comment) {
            continue;
        }
        let key = alias(trim(&line[..sep]), cfg);
        let raw = trim(&block[start_of(line, block) + sep + 1..group_end]);
        if memchr::memchr(b'\n', raw).is_some() {
            unfold_into(raw, &mut unfolded);
            f(key, &unfolded);
        } else {
            f(key, raw);
        }
    }
}

/// Offset of `line` (a subslice) within `block`.
fn start_of(line: &[u8], block: &[u8]) -> usize {
    line.as_ptr() as usize - block.as_ptr() as usize
}

/// Byte offsets `[start, end)` of the trailer block (empty when there is none).
pub fn block_bounds(message: &[u8], cfg: &TrailerConfig, no_divider: bool) -> (usize, usize) {
    let buf = c_string(message);
    let end = end_of_log_message(buf, cfg, no_divider);
    let start = trailer_block_start(buf, end, cfg);
    (start.min(end), end)
}

/// Git reads messages as C strings: a NUL byte ends them.
fn c_string(message: &[u8]) -> &[u8] {
    match memchr::memchr(0, message) {
        Some(nul) => &message[..nul],
        None => message,
    }
}

/// git's `isspace`: space, tab, LF and CR only.
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Index of the next line's start after `at` (or the end of `buf`).
fn next_line(buf: &[u8], at: usize) -> usize {
    match memchr::memchr(b'\n', &buf[at.min(buf.len())..]) {
        Some(nl) => at + nl + 1,
        None => buf.len(),
    }
}

/// Start of the last line that begins before `len`, as git's `last_line`.
fn last_line(buf: &[u8], len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    if len == 1 {
        return Some(0);
    }
    memchr::memrchr(b'\n', &buf[..len - 1])
        .map(|nl| nl + 1)
        .or(Some(0))
}

/// A line of only whitespace, up to its newline.
fn is_blank_line(line: &[u8]) -> bool {
    line.iter()
        .take_while(|&&c| c != b'\n')
        .all(|&c| is_space(c))
}

/// Position of the separator in a `Key: value` line, as git's `find_separator`.
fn find_separator(line: &[u8], separators: &[u8]) -> Option<usize> {
    let mut whitespace_found = false;
    for (i, &c) in line.iter().enumerate() {
        if separators.contains(&c) {
            return Some(i);
        }
        if !whitespace_found && (c.is_ascii_alphanumeric() || c == b'-') {
            continue;
        }
        if i != 0 && (c == b' ' || c == b'\t') {
            whitespace_found = true;
            continue;
        }
        break;
    }
    None
}

const GIT_GENERATED_PREFIXES: [&[u8]; 2] = [b"Signed-off-by: ", b"(cherry picked from commit "];

/// git's `token_matches_item`: a case-insensitive prefix comparison of `len` bytes.
fn token_matches(token: &[u8], item: &ConfItem, len: usize) -> bool {
    let matches = |name: &[u8]| {
        name.len() >= len && token.len() >= len && token[..len].eq_ignore_ascii_case(&name[..len])
    };
    matches(&item.name) || item.key.as_deref().is_some_and(matches)
}

/// A configured `trailer.<name>.key` rewrites the key it matches, as git prints it.
fn alias<'a>(key: &'a [u8], cfg: &'a TrailerConfig) -> &'a [u8] {
    if cfg.items.is_empty() {
        return key;
    }
    let len = key
        .iter()
        .rposition(|c| c.is_ascii_alphanumeric())
        .map_or(0, |p| p + 1);
    for item in &cfg.items {
        if token_matches(key, item, len) {
            return item.key.as_deref().unwrap_or(key);
        }
    }
    key
}

/// Replaces each newline and the whitespace after it with one space, then trims, into `out`.
fn unfold_into(value: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < value.len() {
        let c = value[i];
        i += 1;
        if c == b'\n' {
            while i < value.len() && is_space(value[i]) {
                i += 1;
            }
            out.push(b' ');
        } else {
            out.push(c);
        }
    }
    let end = out.iter().rposition(|&c| !is_space(c)).map_or(0, |e| e + 1);
    out.truncate(end);
    let start = out.iter().position(|&c| !is_space(c)).unwrap_or(out.len());
    out.drain(..start);
}

/// git's `skip_blank_lines` (pretty.c): the subject starts after whitespace-only lines.
pub fn skip_blank_lines(message: &[u8]) -> &[u8] {
    let mut rest = message;
    loop {
        let len = next_line(rest, 0);
        if len == 0 || !rest[..len].iter().all(|&c| is_space(c)) {
            return rest;
        }
        rest = &rest[len..];
    }
}

/// Where the message proper ends: before a `---` divider (unless `no_divider`), then before
/// trailing comments, blank lines, an old-style `Conflicts:` block and a scissors line.
fn end_of_log_message(buf: &[u8], cfg: &TrailerConfig, no_divider: bool) -> usize {
    let mut end = buf.len();
    if !no_divider {
        let mut at = 0;
        while at < buf.len() {
            let line = &buf[at..];
            if line.starts_with(b"---") && line.get(3).is_some_and(|&c| is_space(c)) {
                end = at;
                break;
            }
            at = next_line(buf, at);
        }
    }
    end - ignored_log_message_bytes(buf, end, cfg)
}

const CUT_LINE: &[u8] = b"------------------------ >8 ------------------------\n";

/// git's `wt_status_locate_end`: the message ends at a scissors line.
fn locate_scissors(buf: &[u8], len: usize, cfg: &TrailerConfig) -> usize {
    let is_scissors = |line: &[u8]| {
        line.starts_with(&cfg.comment)
            && line[cfg.comment.len()..].starts_with(b" ")
            && line[cfg.comment.len() + 1..].starts_with(CUT_LINE)
    };
    if is_scissors(buf) {
        return 0;
    }
    let first = cfg.comment.first().copied().unwrap_or(b'#');
    for p in memchr::memchr_iter(b'\n', buf) {
        if buf.get(p + 1) == Some(&first) && is_scissors(&buf[p + 1..]) {
            return if p + 1 < len { p + 1 } else { len };
        }
    }
    len
}

/// git's `ignored_log_message_bytes`, quirks included (a comment at offset 0 does not start a
/// run, because 0 means "no run" there).
fn ignored_log_message_bytes(buf: &[u8], len: usize, cfg: &TrailerConfig) -> usize {
    let cutoff = locate_scissors(buf, len, cfg);
    let mut boc = 0usize;
    let mut bol = 0usize;
    let mut in_old_conflicts_block = false;
    while bol < cutoff {
        let next = match memchr::memchr(b'\n', &buf[bol..cutoff]) {
            Some(nl) => bol + nl + 1,
            None => cutoff,
        };
        let line = &buf[bol..];
        if buf[bol..cutoff].starts_with(&cfg.comment) || buf[bol] == b'\n' {
            if boc == 0 {
                boc = bol;
            }
        } else if line.starts_with(b"Conflicts:\n") {
            in_old_conflicts_block = true;
            if boc == 0 {
                boc = bol;
            }
        } else if in_old_conflicts_block && buf[bol] == b'\t' {
            // a path in the conflicts block
        } else if boc != 0 {
            boc = 0;
            in_old_conflicts_block = false;
        }
        bol = next;
    }
    if boc != 0 { len - boc } else { len - cutoff }
}

/// git's `find_trailer_block_start`: the last paragraph, if it is all trailers, or at least 25%
/// trailers with one of git's own (`Signed-off-by: `, `(cherry picked from commit `) or a
/// configured key among them.
fn trailer_block_start(buf: &[u8], len: usize, cfg: &TrailerConfig) -> usize {
    // The first paragraph is the title and cannot be trailers.
    let mut s = 0;
    while s < len {
        if !buf[s..].starts_with(&cfg.comment) && is_blank_line(&buf[s..]) {
            break;
        }
        s = next_line(buf, s);
    }
    let end_of_title = s;

    let mut only_spaces = true;
    let mut recognized_prefix = false;
    let (mut trailer_lines, mut non_trailer_lines) = (0usize, 0usize);
    let mut possible_continuation_lines = 0usize;
    let mut cursor = last_line(buf, len);
    while let Some(l) = cursor {
        if l < end_of_title {
            break;
        }
        cursor = last_line(buf, l);
        let bol = &buf[l..];
        if bol.starts_with(&cfg.comment) {
            continue;
        }
        if is_blank_line(bol) {
            if only_spaces {
                continue;
            }
            non_trailer_lines += possible_continuation_lines;
            if (recognized_prefix && trailer_lines * 3 >= non_trailer_lines)
                || (trailer_lines > 0 && non_trailer_lines == 0)
            {
                return next_line(buf, l);
            }
            return len;
        }
        only_spaces = false;

        if GIT_GENERATED_PREFIXES.iter().any(|p| bol.starts_with(p)) {
            trailer_lines += 1;
            possible_continuation_lines = 0;
            recognized_prefix = true;
            continue;
        }
        match find_separator(bol, &cfg.separators) {
            Some(sep) if sep >= 1 && !is_space(bol[0]) => {
                trailer_lines += 1;
                possible_continuation_lines = 0;
                if !recognized_prefix && cfg.items.iter().any(|it| token_matches(bol, it, sep)) {
                    recognized_prefix = true;
                }
            }
            _ if is_space(bol[0]) => possible_continuation_lines += 1,
            _ => {
                non_trailer_lines += 1 + possible_continuation_lines;
                possible_continuation_lines = 0;
            }
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(msg: &str) -> Vec<String> {
        parse_history(msg.as_bytes(), &TrailerConfig::default())
            .iter()
            .map(|t| format!("{}: {}", t.key_str(), t.value_str()))
            .collect()
    }

    #[test]
    fn last_paragraph_of_trailers() {
        assert_eq!(
            keys("Subj\n\nbody\n\nSession: s\nMilestone: m\n"),
            ["Session: s", "Milestone: m"]
        );
    }

    #[test]
    fn subject_is_never_trailers() {
        assert!(keys("Fix: thing\n").is_empty());
        assert_eq!(keys("Subj\n\nSession: s").len(), 1);
    }

    #[test]
    fn prose_in_the_block_needs_a_git_prefix() {
        assert!(keys("S\n\nSession: s\nprose\n").is_empty());
        assert_eq!(
            keys("S\n\nSession: s\nprose\nSigned-off-by: A <a@x>\n"),
            ["Session: s", "Signed-off-by: A <a@x>"]
        );
    }

    #[test]
    fn continuation_lines_unfold() {
        assert_eq!(keys("S\n\nSession: a\n  b\n\tc\n"), ["Session: a b c"]);
    }

    #[test]
    fn nul_ends_the_message() {
        assert_eq!(keys("S\n\nSession: a\0b\nMilestone: m\n"), ["Session: a"]);
    }

    #[test]
    fn divider_only_without_no_divider() {
        let msg = b"S\n\nSession: a\n---\nx\n\nNot: this\n";
        let cfg = TrailerConfig::default();
        assert_eq!(parse(msg, &cfg, false).len(), 1);
        assert_eq!(parse(msg, &cfg, true)[0].key, b"Not");
    }

    #[test]
    fn config_entries_build_items() {
        let cfg = TrailerConfig::from_entries([
            ("core.commentChar", ";"),
            ("trailer.separators", ":="),
            ("trailer.sess.key", "Session"),
            ("trailer.sess.where", "end"),
        ]);
        assert_eq!(cfg.comment, b";");
        assert_eq!(cfg.separators, b":=");
        assert_eq!(cfg.items.len(), 1);
        assert_eq!(
            parse(b"S\n\nsess= x\n", &cfg, true),
            [Trailer {
                key: b"Session".to_vec(),
                value: b"x".to_vec()
            }]
        );
    }
}
