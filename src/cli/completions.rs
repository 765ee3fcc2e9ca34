//! `git session completions <shell>`: completion scripts for bash, zsh and fish, and the hidden
//! `git-session __complete` they call on every TAB.
//!
//! The scripts are small and alike: they hand the words typed so far to `__complete`, which
//! walks the clap definition (the same one `--help` and the man pages come from) to find the
//! command, the flag or the positional being typed, and prints the candidates — commands,
//! flags, their values, and session names and milestone ids read from `.sessions/`. Doing the
//! parsing here, not in three shell dialects, keeps the shells in step with the definition.
//! clap_complete's static scripts cannot call back for session names, and its dynamic engine
//! is behind an unstable feature and registers for the binary's name only, not for git's
//! `_git_session` / `_git-session` / fish delegation that `git session <TAB>` goes through.

use clap::{Arg, ArgAction, Command, CommandFactory, ValueEnum, ValueHint};

use git_session::error::Result;
use git_session::session::Status;

use super::{Ctx, Global, emit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Print shell completions for bash, zsh or fish
///
/// The script completes commands, flags and their values, and the names of sessions and
/// milestones in .sessions/ as you type: `git session <TAB>` (through git's own completion)
/// and `git-session <TAB>` alike. It asks git-session for the candidates, so it stays right
/// as commands and sessions change. Install it where your shell loads completions from:
///
///   bash:  git session completions bash > ~/.local/share/bash-completion/completions/git-session
///          (or: source <(git session completions bash) in ~/.bashrc)
///   zsh:   git session completions zsh > ~/.zfunc/_git-session
///          (with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc)
///   fish:  git session completions fish > ~/.config/fish/completions/git-session.fish
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The shell to print completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// List the candidates for the last word (what the completion scripts call)
#[derive(Debug, clap::Args)]
pub struct CompleteArgs {
    /// The words after the command (git-session, or git session); the last is being completed
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

pub fn run(_global: &Global, args: Args) -> Result<i32> {
    emit(match args.shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    });
    Ok(0)
}

/// Prints what to complete: a first line `words`, `files`, `dirs` or `none`, then for `words`
/// one `candidate<TAB>description` per line. Never fails loudly: a TAB must not print errors.
pub fn complete(global: &Global, args: CompleteArgs) -> Result<i32> {
    let mut cli = super::Cli::command();
    cli.build();
    let (current, done) = match args.words.split_last() {
        Some((cur, done)) => (cur.as_str(), done),
        None => ("", &[][..]),
    };
    let want = what_to_complete(&cli, done, current);
    let mut out = String::new();
    match want {
        Want::Files => out.push_str("files\n"),
        Want::Dirs => out.push_str("dirs\n"),
        Want::Words(words) => {
            out.push_str("words\n");
            for (word, about) in words.iter().filter(|(w, _)| w.starts_with(current)) {
                out.push_str(&format!("{word}\t{}\n", one_line(about)));
            }
        }
        Want::Sessions { prefix } => {
            out.push_str("words\n");
            for (name, title) in sessions(global) {
                let word = format!("{prefix}{name}");
                if word.starts_with(current) {
                    out.push_str(&format!("{word}\t{}\n", one_line(&title)));
                }
            }
        }
        Want::Milestones { session, prefix } => {
            out.push_str("words\n");
            for (id, title) in milestones(global, session.as_deref()) {
                let word = format!("{prefix}{id}");
                if word.starts_with(current) {
                    out.push_str(&format!("{word}\t{}\n", one_line(&title)));
                }
            }
        }
        Want::Nothing => out.push_str("none\n"),
    }
    emit(&out);
    Ok(0)
}

/// What the word being typed can be.
#[derive(Debug, PartialEq)]
enum Want {
    Words(Vec<(String, String)>),
    Sessions {
        prefix: String,
    },
    Milestones {
        session: Option<String>,
        prefix: String,
    },
    Files,
    Dirs,
    Nothing,
}

/// What an argument's values are.
enum Values {
    Listed(Vec<(String, String)>),
    Session,
    Milestone,
    Files,
    Dirs,
    Free,
}

/// Walks the words typed before the current one through the command tree, as clap would
/// parse them, then decides what the current word can be. `-C` values change directory on the
/// way, so session names come from the repository the command will run in.
fn what_to_complete(cli: &Command, done: &[String], current: &str) -> Want {
    let mut cmd = cli;
    let mut path: Vec<String> = Vec::new();
    let mut positional = 0usize;
    let mut pending: Option<&Arg> = None;
    let mut escaped = false;
    let mut session: Option<String> = None;
    for word in done {
        if let Some(arg) = pending.take() {
            take_value(arg, word);
            continue;
        }
        if !escaped && word == "--" {
            escaped = true;
            continue;
        }
        if !escaped && word.starts_with("--") {
            let (name, value) = match word[2..].split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (&word[2..], None),
            };
            if let Some(arg) = cmd.get_arguments().find(|a| a.get_long() == Some(name)) {
                match value {
                    Some(v) => take_value(arg, v),
                    None if takes_value(arg) => pending = Some(arg),
                    None => {}
                }
            }
            continue;
        }
        if !escaped && word.starts_with('-') && word.len() > 1 {
            // A cluster of short flags; one that takes a value takes the rest, or the next word.
            for (i, c) in word.char_indices().skip(1) {
                let Some(arg) = cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                    break;
                };
                if takes_value(arg) {
                    let rest = &word[i + c.len_utf8()..];
                    if rest.is_empty() {
                        pending = Some(arg);
                    } else {
                        take_value(arg, rest);
                    }
                    break;
                }
            }
            continue;
        }
        if !escaped
            && positional == 0
            && let Some(sub) = find_subcommand(cmd, word)
        {
            cmd = sub;
            path.push(sub.get_name().to_string());
            continue;
        }
        let positionals: Vec<&Arg> = cmd.get_positionals().collect();
        if let Some(arg) = positionals.get(positional) {
            if matches!(values_of(&path, arg), Values::Session) {
                session = Some(word.clone());
            }
            if arg.get_num_args().is_none_or(|n| n.max_values() <= 1) {
                positional += 1;
            }
        }
    }

    if let Some(arg) = pending {
        return want_values(&path, arg, String::new(), session);
    }
    if !escaped && let Some(rest) = current.strip_prefix("--") {
        if let Some((name, _)) = rest.split_once('=') {
            return match cmd.get_arguments().find(|a| a.get_long() == Some(name)) {
                Some(arg) => want_values(&path, arg, format!("--{name}="), session),
                None => Want::Nothing,
            };
        }
        return Want::Words(flags(cmd, true));
    }
    if !escaped && current.starts_with('-') {
        return Want::Words(flags(cmd, false));
    }
    let mut words = Vec::new();
    if positional == 0 && cmd.has_subcommands() {
        words.extend(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(|s| (s.get_name().to_string(), about(s))),
        );
    }
    let positionals: Vec<&Arg> = cmd.get_positionals().collect();
    match positionals.get(positional) {
        Some(arg) if words.is_empty() => want_values(&path, arg, String::new(), session),
        Some(arg) => {
            if let Values::Listed(more) = values_of(&path, arg) {
                words.extend(more);
            }
            Want::Words(words)
        }
        None if words.is_empty() => Want::Nothing,
        None => Want::Words(words),
    }
}

fn want_values(path: &[String], arg: &Arg, prefix: String, session: Option<String>) -> Want {
    let prefixed = |list: Vec<(String, String)>| {
        list.into_iter()
            .map(|(w, a)| (format!("{prefix}{w}"), a))
            .collect()
    };
    match values_of(path, arg) {
        Values::Listed(list) => Want::Words(prefixed(list)),
        Values::Session => Want::Sessions { prefix },
        Values::Milestone => Want::Milestones { session, prefix },
        Values::Files if prefix.is_empty() => Want::Files,
        Values::Dirs if prefix.is_empty() => Want::Dirs,
        Values::Files | Values::Dirs | Values::Free => Want::Nothing,
    }
}

/// The values an argument takes. Which positionals name an existing session or milestone is
/// said here, by command and argument id; a test walks the whole definition so that a new
/// positional gets a decision.
fn values_of(path: &[String], arg: &Arg) -> Values {
    let command = path.first().map(String::as_str).unwrap_or("");
    let id = arg.get_id().as_str();
    match (command, id) {
        ("start", "name") | ("hook", _) => return Values::Free,
        (_, "name") if arg.is_positional() => return Values::Session,
        ("focus", "milestone") => return Values::Milestone,
        (_, "status") => {
            return Values::Listed(
                Status::ALL
                    .iter()
                    .map(|s| (s.as_str().to_string(), String::new()))
                    .collect(),
            );
        }
        _ => {}
    }
    let possible = arg.get_possible_values();
    if !possible.is_empty() {
        return Values::Listed(
            possible
                .iter()
                .filter(|p| !p.is_hide_set())
                .map(|p| {
                    let help = p.get_help().map(|h| h.to_string()).unwrap_or_default();
                    (p.get_name().to_string(), help)
                })
                .collect(),
        );
    }
    let name = arg
        .get_value_names()
        .and_then(|n| n.first())
        .map(|n| n.as_str())
        .unwrap_or("");
    match (arg.get_value_hint(), name) {
        (ValueHint::DirPath, _) | (_, "PATH" | "DIR") => Values::Dirs,
        (ValueHint::FilePath | ValueHint::AnyPath, _) | (_, "FILE") => Values::Files,
        _ => Values::Free,
    }
}

fn take_value(arg: &Arg, value: &str) {
    // `-C` moves where the repository is found, as it will when the command runs; a
    // directory that is not there just leaves the completion without session names.
    if arg.get_short() == Some('C') {
        let _ = std::env::set_current_dir(value);
    }
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

fn find_subcommand<'a>(cmd: &'a Command, word: &str) -> Option<&'a Command> {
    cmd.get_subcommands()
        .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
}

/// The flags of `cmd`: long ones always, short ones too when `long_only` is false.
fn flags(cmd: &Command, long_only: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        if let Some(long) = arg.get_long() {
            out.push((format!("--{long}"), help.clone()));
        }
        if !long_only && let Some(short) = arg.get_short() {
            out.push((format!("-{short}"), help));
        }
    }
    out
}

fn about(cmd: &Command) -> String {
    cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
}

/// A title that only repeats the name says nothing.
fn title_of(name: &str, title: &str) -> String {
    if title == name {
        String::new()
    } else {
        title.to_string()
    }
}

fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or("").replace('\t', " ")
}

/// Session names and titles in this work tree's `.sessions/` and on session branches; none when
/// there is no repository.
fn sessions(global: &Global) -> Vec<(String, String)> {
    let Ok(ctx) = Ctx::open(global) else {
        return Vec::new();
    };
    let Ok((mut sessions, _)) = ctx.store.load_all() else {
        return Vec::new();
    };
    sessions.extend(super::branch_only_sessions(
        &ctx.repo,
        &ctx.store,
        &ctx.config,
        false,
    ));
    let mut out: Vec<(String, String)> = sessions
        .into_iter()
        .map(|s| (s.name.to_string(), title_of(s.name.as_str(), &s.title)))
        .collect();
    out.sort();
    out
}

/// The milestones of the session named on the line, else of the current branch's session.
fn milestones(global: &Global, session: Option<&str>) -> Vec<(String, String)> {
    let Ok(ctx) = Ctx::open(global) else {
        return Vec::new();
    };
    match ctx.session(session) {
        Ok(s) => s
            .milestones
            .iter()
            .map(|m| (m.id.to_string(), title_of(m.id.as_str(), &m.title)))
            .collect(),
        Err(_) => Vec::new(),
    }
}

const BASH: &str = r#"# bash completion for git-session, printed by `git session completions bash`.
# `git session <TAB>` goes through git's completion, which calls _git_session;
# `git-session <TAB>` through _git_session_bash. Both ask `git-session __complete`.

# Fills COMPREPLY with the candidates for the last of "$@" (the words after the command).
__git_session_reply() {
	local cur="${@: -1}" kind= line prefix=
	COMPREPLY=()
	# bash splits "--format=json" at '=' when COMP_WORDBREAKS holds it; reply with what follows.
	if [[ $cur == --*=* && $COMP_WORDBREAKS == *=* ]]; then
		prefix="${cur%%=*}="
	fi
	while IFS= read -r line; do
		if [[ -z $kind ]]; then
			kind=$line
			continue
		fi
		line=${line%%$'\t'*}
		COMPREPLY+=("${line#"$prefix"}")
	done < <(git-session __complete -- "$@" 2>/dev/null)
	case $kind in
	files)
		compopt -o filenames 2>/dev/null
		while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$cur")
		;;
	dirs)
		compopt -o filenames 2>/dev/null
		while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -d -- "$cur")
		;;
	esac
}

# Called by git's completion (words, cword and __git_cmd_idx set) for `git session ...`.
_git_session() {
	local start=${__git_cmd_idx-} i
	if [[ -z $start ]]; then
		start=1
		for ((i = 1; i < cword; i++)); do
			if [[ ${words[i]} == session ]]; then
				start=$i
				break
			fi
		done
	fi
	# `git -C <dir> session`: the sessions are those of <dir>.
	__git_session_reply ${__git_C_args+"${__git_C_args[@]}"} "${words[@]:start+1:cword-start}"
}

# `git-session <TAB>`.
_git_session_bash() {
	local cur words cword
	if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
		_get_comp_words_by_ref -n =: cur words cword
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	__git_session_reply "${words[@]:1:cword}"
}

complete -F _git_session_bash git-session
"#;

const ZSH: &str = r#"#compdef git-session
# zsh completion for git-session, printed by `git session completions zsh`.
# Put it on $fpath as _git-session: zsh's _git then calls it for `git session <TAB>`, and
# compinit binds it to `git-session <TAB>`. Or source it after compinit.

_git-session() {
	local -a out candidates
	local line
	# words[1] is git-session, or session when _git hands over; the rest are the arguments.
	out=("${(@f)$(git-session __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	case $out[1] in
	(files) _files ;;
	(dirs) _files -/ ;;
	(words)
		for line in "${(@)out[2,-1]}"; do
			candidates+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
		done
		_describe -t values 'git session' candidates
		;;
	(*) return 1 ;;
	esac
}

# List `session` among git's commands in `git <TAB>`.
() {
	local -a user_commands
	zstyle -a ':completion:*:*:git:*' user-commands user_commands
	if (( ! ${user_commands[(I)session:*]} )); then
		zstyle ':completion:*:*:git:*' user-commands $user_commands 'session:long-running units of work (git-session)'
	fi
}

if [[ $funcstack[1] == _git-session ]]; then
	_git-session "$@"
elif (( $+functions[compdef] )); then
	compdef _git-session git-session
fi
"#;

const FISH: &str = r#"# fish completion for git-session, printed by `git session completions fish`.
# Completes `git-session <TAB>` and `git session <TAB>`; both ask `git-session __complete`.

function __git_session_complete
    set -l words (commandline -opc)
    if string match -q -- '*git-session' $words[1]
        set -e words[1]
    else
        # git [options] session ...: keep git's -C, then what follows "session".
        set -l at (contains -i -- session $words)
        set -l git_c
        for i in (seq 2 (math $at - 1))
            if test "$words[$i]" = -C
                set -a git_c -C $words[(math $i + 1)]
            end
        end
        set words $git_c $words[(math $at + 1)..-1]
    end
    set -l cur (commandline -ct)
    set -l out (git-session __complete -- $words "$cur" 2>/dev/null)
    switch "$out[1]"
        case files
            __fish_complete_path "$cur"
        case dirs
            __fish_complete_directories "$cur"
        case words
            printf '%s\n' $out[2..-1]
    end
end

complete -c git-session -f -a '(__git_session_complete)'
# fish's git completion hands `git session` to the line above only in some versions: say it.
complete -c git -f -n '__fish_git_using_command session' -a '(__git_session_complete)'
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> Command {
        let mut c = super::super::Cli::command();
        c.build();
        c
    }

    fn words(want: &Want) -> Vec<&str> {
        match want {
            Want::Words(w) => w.iter().map(|(w, _)| w.as_str()).collect(),
            other => panic!("expected words, got {other:?}"),
        }
    }

    fn at(line: &[&str]) -> Want {
        let (cur, done) = line.split_last().expect("a word");
        let done: Vec<String> = done.iter().map(|s| s.to_string()).collect();
        what_to_complete(&cli(), &done, cur)
    }

    #[test]
    fn commands_flags_and_values() {
        let top = at(&[""]);
        assert!(words(&top).contains(&"status"));
        assert!(words(&top).contains(&"completions"));
        assert!(
            !words(&top).contains(&"hook"),
            "hidden commands stay hidden"
        );
        assert!(!words(&top).contains(&"__complete"));
        assert_eq!(
            words(&at(&["hooks", ""])),
            ["install", "uninstall", "status"]
        );
        assert!(words(&at(&["status", "--"])).contains(&"--json"));
        assert!(words(&at(&["status", "-"])).contains(&"-C"));
        assert_eq!(
            words(&at(&["status", "--format", ""])),
            ["text", "json", "markdown"]
        );
        assert!(words(&at(&["status", "--format=j"])).contains(&"--format=json"));
        assert!(words(&at(&["--color", "never", "list", "--status", ""])).contains(&"paused"));
        assert_eq!(words(&at(&["completions", ""])), ["bash", "zsh", "fish"]);
        assert_eq!(at(&["report", "--html", ""]), Want::Files);
        assert_eq!(at(&["-C", ""]), Want::Dirs);
        assert_eq!(at(&["start", ""]), Want::Nothing);
    }

    #[test]
    fn sessions_and_milestones_where_the_definition_takes_them() {
        for cmd in [
            "status", "log", "check", "trust", "context", "pause", "resume", "finish", "abandon",
        ] {
            assert_eq!(
                at(&[cmd, ""]),
                Want::Sessions {
                    prefix: String::new()
                },
                "{cmd}"
            );
        }
        assert_eq!(
            at(&["check", "--no-commands", ""]),
            Want::Sessions {
                prefix: String::new()
            }
        );
        assert_eq!(
            at(&["focus", ""]),
            Want::Milestones {
                session: None,
                prefix: String::new()
            }
        );
        // After the session, nothing more is positional.
        assert_eq!(at(&["status", "search", ""]), Want::Nothing);
    }

    /// Every positional of every command has a decision: a new one makes this fail until
    /// `values_of` says what it takes.
    #[test]
    fn every_positional_is_classified() {
        fn walk(cmd: &Command, path: &mut Vec<String>, seen: &mut Vec<String>) {
            for arg in cmd.get_positionals() {
                let kind = match values_of(path, arg) {
                    Values::Listed(_) => "listed",
                    Values::Session => "session",
                    Values::Milestone => "milestone",
                    Values::Files => "files",
                    Values::Dirs => "dirs",
                    Values::Free => "free",
                };
                seen.push(format!("{} {}: {kind}", path.join(" "), arg.get_id()));
            }
            for sub in cmd.get_subcommands() {
                path.push(sub.get_name().to_string());
                walk(sub, path, seen);
                path.pop();
            }
        }
        let mut seen = Vec::new();
        walk(&cli(), &mut Vec::new(), &mut seen);
        seen.sort();
        let expected = [
            "__complete words: free",
            "abandon name: session",
            "check name: session",
            "completions shell: listed",
            "context name: session",
            "debug-trailers rev: free",
            "finish name: session",
            "focus milestone: milestone",
            "hook args: free",
            "hook name: free",
            "log name: session",
            "man page: free",
            "pause name: session",
            "resume name: session",
            "start name: free",
            "status name: session",
            "trust name: session",
        ];
        assert_eq!(
            seen, expected,
            "decide what each new positional completes to"
        );
    }
}
