//! Feeling native: completions, man pages and `git help`, colour and output conventions,
//! personal preferences from git config, `-C`, and the hook managers people already use.
//!
//! Tests that need a tool this machine may lack (zsh, fish, man, pre-commit, lefthook) run it
//! for real when it is there and otherwise say on stderr what they skipped and why.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::{T0, TestRepo, bin};

/// A repository with hooks, session `search` (milestones parser and ranking) started and
/// committed, and one commit that advances parser.
fn started() -> TestRepo {
    let repo = TestRepo::with_commit();
    repo.run(&["init"]).success();
    repo.tick(60);
    repo.run(&[
        "start",
        "search",
        "--title",
        "Search rewrite",
        "--milestone",
        "parser:Query parser",
        "--milestone",
        "ranking",
    ])
    .success();
    repo.commit("Start search\n\nSession: search\n");
    repo.change_and_commit("a", "Lexer\n\nMilestone: parser\nEffort: 1h\n");
    repo
}

/// Says on stderr, past the test harness's capture, what a test did not do and why.
fn skipped(what: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "note: skipped {what}: {why}");
}

/// Where `name` is on the test's own PATH, resolving a pyenv shim (it needs the real HOME,
/// which the hermetic tests replace) to the program it runs.
fn tool(name: &str) -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    if !out.status.success() || path.is_empty() {
        return None;
    }
    if path.contains("/shims/") {
        let out = Command::new("pyenv").args(["which", name]).output().ok()?;
        let real = String::from_utf8(out.stdout).ok()?.trim().to_string();
        return (out.status.success() && !real.is_empty()).then(|| PathBuf::from(real));
    }
    Some(PathBuf::from(path))
}

fn completions(repo: &TestRepo, shell: &str) -> String {
    let run = repo.run(&["completions", shell]);
    run.success();
    assert!(run.stderr().is_empty(), "{}", run.stderr());
    run.stdout()
}

// ---- completions -------------------------------------------------------------------------

/// bash's completion of git (shipped with git) calls `_git_session` for `git session`.
fn git_bash_completion() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = [
        "/usr/share/bash-completion/completions/git",
        "/usr/local/share/bash-completion/completions/git",
        "/opt/homebrew/share/bash-completion/completions/git",
        "/etc/bash_completion.d/git",
        "/Library/Developer/CommandLineTools/usr/share/git-core/git-completion.bash",
        "/Applications/Xcode.app/Contents/Developer/usr/share/git-core/git-completion.bash",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Ok(out) = Command::new("git").arg("--exec-path").output() {
        let exec = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if let Some(prefix) = exec.parent().and_then(Path::parent) {
            candidates.push(prefix.join("share/git-core/contrib/completion/git-completion.bash"));
            candidates.push(prefix.join("share/bash-completion/completions/git"));
        }
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Runs bash with the script, then one `COMPREPLY` per completed line, as `line -> a b c`.
fn bash_complete(repo: &TestRepo, preamble: &str, lines: &[&[&str]]) -> Vec<String> {
    let script_file = repo.path.join("../completion.bash");
    std::fs::write(&script_file, completions(repo, "bash")).expect("write script");
    let mut script = format!("{preamble}\nsource '{}'\n", script_file.display());
    script.push_str(
        r#"t() {
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    if [[ $1 == git ]]; then __git_wrap__git_main; else _git_session_bash; fi
    echo "$* -> ${COMPREPLY[*]}"
}
"#,
    );
    for line in lines {
        let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
        script.push_str(&format!("t {}\n", words.join(" ")));
    }
    let out = repo
        .command("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn bash_completes_git_session_and_session_names() {
    let repo = started();
    repo.write("notes.txt", "x");
    let alone: &[&[&str]] = &[
        &["git-session", "sta"],
        &["git-session", "hooks", ""],
        &["git-session", "status", ""],
        &["git-session", "focus", ""],
        &["git-session", "status", "--format", ""],
        &["git-session", "status", "--js"],
        &["git-session", "completions", ""],
        &["git-session", "list", "--status", "pa"],
        &["git-session", "report", "--html", "no"],
    ];
    let got = bash_complete(&repo, "", alone);
    assert_eq!(
        got,
        [
            "git-session sta -> start status",
            "git-session hooks  -> install uninstall status",
            "git-session status  -> search",
            "git-session focus  -> parser ranking",
            "git-session status --format  -> text json markdown",
            "git-session status --js -> --json",
            "git-session completions  -> bash zsh fish",
            "git-session list --status pa -> paused",
            "git-session report --html no -> notes.txt",
        ]
    );

    let Some(git_completion) = git_bash_completion() else {
        skipped(
            "`git session <TAB>` through git's bash completion",
            "git's bash completion script is not installed here",
        );
        return;
    };
    let through_git: &[&[&str]] = &[
        &["git", "ses"],
        &["git", "session", "sta"],
        &["git", "session", "log", ""],
        &["git", "session", "--color", "n"],
        &["git", "session", "check", "--no-commands", "s"],
    ];
    let got = bash_complete(
        &repo,
        &format!("source '{}'", git_completion.display()),
        through_git,
    );
    assert_eq!(
        got,
        [
            "git ses -> session",
            "git session sta -> start status",
            "git session log  -> search",
            "git session --color n -> never",
            "git session check --no-commands s -> search",
        ]
    );
    // `git -C <dir> session`: the sessions of <dir>, wherever the shell is.
    let elsewhere = TestRepo::new();
    let dir = repo.path.display().to_string();
    let got = bash_complete(
        &elsewhere,
        &format!("source '{}'", git_completion.display()),
        &[&["git", "-C", &dir, "session", "status", ""]],
    );
    assert_eq!(got, [format!("git -C {dir} session status  -> search")]);
}

#[test]
fn zsh_completion_parses_and_lists_candidates() {
    let Some(zsh) = tool("zsh") else {
        skipped(
            "the zsh completion test",
            "zsh is not installed (apt install zsh)",
        );
        return;
    };
    let repo = started();
    let file = repo.path.join("../_git-session");
    std::fs::write(&file, completions(&repo, "zsh")).expect("write");
    let parse = repo
        .command(&zsh)
        .arg("-n")
        .arg(&file)
        .output()
        .expect("zsh");
    assert!(
        parse.status.success(),
        "{}",
        String::from_utf8_lossy(&parse.stderr)
    );
    // _describe and _files stand in for the completion system's own, printing what they get;
    // words and CURRENT are what zsh (or _git, handing over `git session`) sets.
    let script = format!(
        r#"autoload -Uz compinit && compinit -u -D
source '{}'
_describe() {{ print -rl -- "${{(@P)argv[-1]}}" }}
_files() {{ print -r -- "FILES $*" }}
words=(git-session sta); CURRENT=2; _git-session
words=(session status ''); CURRENT=3; _git-session
words=(session focus ''); CURRENT=3; _git-session
words=(git-session report --html ''); CURRENT=4; _git-session
zstyle -a ':completion:*:*:git:*' user-commands uc; print -r -- "user-commands: $uc"
print -r -- "bound: $_comps[git-session]"
"#,
        file.display()
    );
    let out = repo
        .command(&zsh)
        .args(["-f", "-c", &script])
        .output()
        .expect("zsh runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "start:Start a session: write .sessions/<name>.toml and switch to its branch",
            "status:Show a session's progress: milestones, tasks, effort, blockers, criteria",
            "search:Search rewrite",
            "parser:Query parser",
            "ranking:",
            "FILES ",
            "user-commands: session:long-running units of work (git-session)",
            "bound: _git-session",
        ]
    );
}

#[test]
fn fish_completion_parses_and_completes_both_ways() {
    let Some(fish) = tool("fish") else {
        skipped(
            "the fish completion test",
            "fish is not installed (apt install fish)",
        );
        return;
    };
    let repo = started();
    let file = repo.path.join("../git-session.fish");
    std::fs::write(&file, completions(&repo, "fish")).expect("write");
    let parse = repo
        .command(&fish)
        .arg("-n")
        .arg(&file)
        .output()
        .expect("fish");
    assert!(
        parse.status.success(),
        "{}",
        String::from_utf8_lossy(&parse.stderr)
    );
    let script = format!(
        r#"source '{}'
complete -C 'git-session sta'
complete -C 'git-session focus '
complete -C 'git session status '
complete -C 'git session hooks un'
"#,
        file.display()
    );
    let out = repo
        .command(&fish)
        .args(["-c", &script])
        .env("XDG_CONFIG_HOME", repo.home.join(".config"))
        .env("XDG_DATA_HOME", repo.home.join(".local/share"))
        .output()
        .expect("fish runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<&str> = text.lines().collect();
    lines.dedup();
    assert_eq!(
        lines,
        [
            "start\tStart a session: write .sessions/<name>.toml and switch to its branch",
            "status\tShow a session's progress: milestones, tasks, effort, blockers, criteria",
            "parser\tQuery parser",
            "ranking",
            "search\tSearch rewrite",
            "uninstall\tRemove the hooks, putting back the hooks they chained exactly as they were",
        ]
    );
}

#[test]
fn completing_is_quiet_outside_a_repository() {
    let dir = TestRepo::bare_dir();
    let run = dir.run(&["__complete", "--", "status", ""]);
    run.success();
    assert_eq!(run.stdout(), "words\n");
    assert!(run.stderr().is_empty(), "{}", run.stderr());
    let run = dir.run(&["__complete", "--", "-C", "/nonexistent", "focus", ""]);
    run.success();
    assert_eq!(run.stdout(), "words\n");
    assert!(run.stderr().is_empty(), "{}", run.stderr());
    dir.run(&["completions", "tcsh"]).expect_code(2);
}

// ---- man pages and git help --------------------------------------------------------------

#[test]
fn man_install_puts_pages_where_git_help_finds_them() {
    let repo = started();
    let dir = repo.path.join("../man");
    let run = repo.run(&["man", "--install", "--dir", dir.to_str().expect("utf-8")]);
    run.success();
    assert!(run.stdout().contains("Installed"), "{}", run.stdout());
    let man1 = dir.join("man1");
    for page in [
        "git-session.1",
        "git-session-status.1",
        "git-session-hooks-install.1",
        "git-session-completions.1",
    ] {
        let text =
            std::fs::read_to_string(man1.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH GIT-SESSION"), "{page}: {text}");
        assert!(text.contains(".SH SYNOPSIS"), "{page}");
    }
    assert!(
        !man1.join("git-session-hook.1").exists(),
        "hidden commands get no page"
    );
    let main = std::fs::read_to_string(man1.join("git-session.1")).expect("main page");
    for section in [
        "EXIT STATUS",
        "TRAILERS",
        "CONFIGURATION",
        "ENVIRONMENT",
        "SEE ALSO",
    ] {
        assert!(main.contains(section), "{section} in the main page");
    }
    // Installing again replaces the pages and changes nothing.
    repo.run(&["man", "--install", "--dir", dir.to_str().expect("utf-8")])
        .success();
    assert_eq!(
        std::fs::read_to_string(man1.join("git-session.1")).expect("again"),
        main
    );

    if tool("man").is_none() {
        skipped(
            "`git help session` showing the page",
            "man is not installed (apt install man-db); the pages were checked as files",
        );
        return;
    }
    // `git help session` runs `man git-session`; `git session --help` is git's own
    // `git help session`.
    for args in [&["help", "session"][..], &["session", "--help"]] {
        let out = repo.git_with(args, |c| {
            c.env("MANPATH", &dir)
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .env("MANWIDTH", "100");
        });
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("git-session - Long-running units of work"),
            "git {args:?}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("EXIT STATUS"), "{text}");
    }
    let out = repo.git_with(&["help", "git-session-status"], |c| {
        c.env("MANPATH", &dir).env("MANPAGER", "cat");
    });
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("git-session-status"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // clap's own help when the binary is run directly.
    let run = repo.run(&["--help"]);
    run.success();
    assert!(
        run.stdout().contains("Usage: git session"),
        "{}",
        run.stdout()
    );
}

#[test]
fn man_install_defaults_to_share_man_beside_the_bin_directory() {
    let repo = TestRepo::new();
    // target/debug is no bin directory: say so, and how to choose.
    repo.run(&["man", "--install"]).fails_with(2, "--dir");
    // A binary in <prefix>/bin installs into <prefix>/share/man, where man looks.
    let prefix = repo.path.join("../prefix");
    std::fs::create_dir_all(prefix.join("bin")).expect("bin");
    let installed = prefix.join("bin/git-session");
    if std::fs::hard_link(bin(), &installed).is_err() {
        std::fs::copy(bin(), &installed).expect("copy the binary");
    }
    let out = repo
        .command(&installed)
        .args(["man", "--install"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(prefix.join("share/man/man1/git-session-log.1").is_file());
}

#[test]
fn man_prints_one_page() {
    let repo = TestRepo::new();
    let run = repo.run(&["man", "status"]);
    run.success();
    assert!(
        run.stdout().contains(".TH GIT-SESSION-STATUS 1"),
        "{}",
        run.stdout()
    );
    let run = repo.run(&["man"]);
    run.success();
    assert!(run.stdout().contains(".TH GIT-SESSION 1"));
    repo.run(&["man", "nope"])
        .fails_with(2, "there is no manual page for 'nope'");
}

// ---- conventions -------------------------------------------------------------------------

fn has_colour(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
}

#[test]
fn colour_only_when_wanted() {
    let repo = started();
    let plain = repo.run(&["status"]);
    plain.success();
    assert!(!has_colour(plain.stdout_bytes()), "a pipe gets no colour");

    let forced = repo.run_with(&["status"], |c| {
        c.env("CLICOLOR_FORCE", "1");
    });
    assert!(
        has_colour(forced.stdout_bytes()),
        "CLICOLOR_FORCE=1 forces colour"
    );
    let no = repo.run_with(&["status"], |c| {
        c.env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    });
    assert!(
        !has_colour(no.stdout_bytes()),
        "NO_COLOR beats CLICOLOR_FORCE"
    );
    let zero = repo.run_with(&["status"], |c| {
        c.env("CLICOLOR_FORCE", "0");
    });
    assert!(
        !has_colour(zero.stdout_bytes()),
        "CLICOLOR_FORCE=0 forces nothing"
    );

    // git -c reaches the subcommand through GIT_CONFIG_PARAMETERS.
    let git_always = repo.git(&["-c", "color.ui=always", "session", "status"]);
    assert!(git_always.contains('\x1b'), "git -c color.ui=always");
    let git_never = repo.git_with(&["-c", "color.ui=never", "session", "status"], |c| {
        c.env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    });
    assert!(!has_colour(&git_never.stdout));
    repo.git(&["config", "color.ui", "always"]);
    assert!(
        has_colour(repo.run(&["list"]).stdout_bytes()),
        "color.ui in the repository's config"
    );
    assert!(!has_colour(
        repo.run(&["list", "--color", "never"]).stdout_bytes()
    ));
    assert!(
        !has_colour(
            repo.run_with(&["list"], |c| {
                c.env("NO_COLOR", "1");
            })
            .stdout_bytes()
        ),
        "NO_COLOR beats color.ui"
    );
    // --color=always is the user's explicit word.
    assert!(has_colour(
        repo.run_with(&["list", "--color=always"], |c| {
            c.env("NO_COLOR", "1");
        })
        .stdout_bytes()
    ));
    // JSON is data: never coloured.
    let json = repo.run(&["status", "--json", "--color=always"]);
    assert!(!has_colour(json.stdout_bytes()));
}

/// A session `big` whose branch holds `n` more commits, made by fast-import (seconds, not
/// minutes, for thousands).
fn long_history(n: usize) -> TestRepo {
    let repo = TestRepo::with_commit();
    repo.run(&["start", "big", "--milestone", "m"]).success();
    let tip = repo.commit("Start big\n\nSession: big\n");
    let mut stream = String::new();
    for i in 0..n {
        let msg =
            format!("Step {i} of the long history\n\nSession: big\nMilestone: m\nEffort: 5m\n");
        stream.push_str(&format!(
            "commit refs/heads/session/big\ncommitter Ada Lovelace <ada@example.org> {} +0000\ndata {}\n{msg}",
            T0 + 3600 + i as i64 * 60,
            msg.len()
        ));
        if i == 0 {
            stream.push_str(&format!("from {tip}\n"));
        }
        stream.push('\n');
    }
    let mut child = repo
        .command("git")
        .args(["fast-import", "--quiet", "--force"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream");
    assert!(child.wait().expect("fast-import ends").success());
    repo.git(&["reset", "-q", "--hard", "session/big"]);
    repo
}

#[test]
fn a_reader_that_goes_away_is_a_quiet_exit() {
    let repo = long_history(6000);
    // More than any pipe holds, so the writer must meet the closed pipe.
    let full = repo.run(&["log"]);
    full.success();
    assert!(
        full.stdout_bytes().len() > 1 << 18,
        "{} bytes",
        full.stdout_bytes().len()
    );
    // JSON is written as it is serialized, and meets the closed pipe the same way.
    for (through_git, json) in [(false, false), (true, false), (false, true)] {
        // `git session log | head -1`
        let mut cmd = if through_git {
            let mut c = repo.command("git");
            c.args(["session", "log"]);
            c
        } else {
            let mut c = repo.command(bin());
            c.arg("log");
            c
        };
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        // The reader is gone (dropped above).
        let out = child.wait_with_output().expect("ends");
        assert!(
            first.contains(if json { "[" } else { "Step 5999" }),
            "{first}"
        );
        assert_eq!(out.status.code(), Some(0), "through git: {through_git}");
        assert!(
            out.stderr.is_empty(),
            "through git: {through_git}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn data_on_stdout_diagnostics_on_stderr() {
    let repo = started();
    // A session file that does not load: every command that reads them all warns on stderr,
    // and stdout stays pure data.
    repo.write(".sessions/broken.toml", "schema = 1\nname = \n");
    for args in [
        &["list", "--json"][..],
        &["status", "--json"],
        &["log", "--json"],
        &["report", "--json"],
        &["context", "--json"],
        &["hooks", "status", "--json"],
    ] {
        let run = repo.run(args);
        serde_json::from_slice::<serde_json::Value>(run.stdout_bytes()).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not JSON alone ({e}):\n{}",
                run.stdout()
            )
        });
    }
    let list = repo.run(&["list", "--json"]);
    list.success();
    assert!(list.stderr().contains("broken.toml"), "{}", list.stderr());
    // Exit 1 with findings still prints the report as data.
    let validate = repo.run(&["validate", "--json"]);
    validate.expect_code(1);
    serde_json::from_slice::<serde_json::Value>(validate.stdout_bytes()).expect("validate JSON");
    // An error is one line on stderr, nothing on stdout.
    let err = repo.run(&["status", "nope", "--json"]);
    err.fails_with(2, "nope");
    assert!(err.stdout().is_empty(), "{}", err.stdout());
    // Progress after a commit is a diagnostic: stderr.
    repo.write("b", "b");
    repo.git(&["add", "b"]);
    let out = repo.git_output(&["commit", "-q", "-m", "More"]);
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("search:"));
}

#[test]
fn dash_c_works_through_git_and_alone() {
    let repo = started();
    let elsewhere = TestRepo::bare_dir();
    let dir = repo.path.to_str().expect("utf-8");
    let out = elsewhere.git_output(&["-C", dir, "session", "status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["session"]["name"], "search");
    let run = elsewhere.run(&["-C", dir, "list"]);
    run.success();
    assert!(run.stdout().contains("search"), "{}", run.stdout());
    elsewhere
        .run(&["-C", "/nonexistent/dir", "list"])
        .fails_with(2, "/nonexistent/dir");
}

#[test]
fn personal_preferences_from_git_config() {
    let repo = started();
    let commit = |repo: &TestRepo, cfg: &[&str]| {
        repo.tick(60);
        let mut args: Vec<&str> = cfg.to_vec();
        args.extend(["commit", "-q", "--allow-empty", "-m", "Tune"]);
        let out = repo.git_output(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        commit(&repo, &[]).contains("search:"),
        "progress by default"
    );
    assert!(!commit(&repo, &["-c", "session.progress=false"]).contains("search:"));
    repo.git(&["config", "session.progress", "no"]);
    assert!(!commit(&repo, &[]).contains("search:"));
    assert!(commit(&repo, &["-c", "session.progress=true"]).contains("search:"));

    // session.cache=false: as --no-cache, the cache is neither read nor written.
    let cache = PathBuf::from(repo.git(&["rev-parse", "--git-common-dir"]).trim())
        .join("git-session/cache");
    let cache = if cache.is_absolute() {
        cache
    } else {
        repo.path.join(cache)
    };
    let _ = std::fs::remove_file(&cache);
    repo.git(&["config", "session.cache", "false"]);
    repo.run(&["list"]).success();
    assert!(!cache.exists(), "session.cache=false writes no cache");
    repo.git(&["config", "session.cache", "true"]);
    repo.run(&["list"]).success();
    assert!(cache.exists(), "the cache is written by default");
}

// ---- hook managers -----------------------------------------------------------------------

/// The YAML block of docs/hooks.md that follows `marker`.
fn doc_block(marker: &str, fence: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/hooks.md"))
        .expect("docs/hooks.md");
    let at = doc
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in docs/hooks.md"));
    let rest = &doc[at..];
    let open = rest.find(&format!("```{fence}\n")).expect("a fenced block") + fence.len() + 4;
    let close = rest[open..].find("```").expect("its end");
    rest[open..open + close].to_string()
}

/// What `hooks install` prints for a manager, without its first line and indentation.
fn printed_recipe(repo: &TestRepo) -> String {
    let run = repo.run(&["hooks", "install"]);
    run.success();
    run.stdout()
}

fn indent_free(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Commits through a hook manager and checks our three hooks ran: the session trailer added,
/// a bad milestone refused, progress printed.
fn commits_through_the_manager(repo: &TestRepo, setup: &dyn Fn(&mut Command)) {
    let out = repo.git_with(
        &["commit", "-q", "--allow-empty", "-m", "Through the manager"],
        setup,
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("search:"), "post-commit progress: {err}");
    let body = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        body.contains("Session: search"),
        "prepare-commit-msg: {body}"
    );
    let out = repo.git_with(
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Bad",
            "--trailer",
            "Milestone: parsr",
        ],
        setup,
    );
    assert!(!out.status.success(), "commit-msg refuses a bad milestone");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("parsr"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A started session whose hooks are not ours: the manager's.
fn started_without_hooks() -> TestRepo {
    let repo = TestRepo::with_commit();
    repo.run(&[
        "start",
        "search",
        "--milestone",
        "parser",
        "--milestone",
        "ranking",
    ])
    .success();
    repo.commit("Start search\n\nSession: search\n");
    repo
}

#[test]
fn pre_commit_hooks_yaml_matches_the_documented_recipe() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .expect(".pre-commit-hooks.yaml");
    let doc = doc_block("pre-commit (under `repos:`", "yaml");
    // The manifest's hooks are the local recipe's, with descriptions.
    let strip = |text: &str| -> Vec<String> {
        indent_free(text)
            .into_iter()
            .filter(|l| !l.starts_with('#') && !l.starts_with("description:"))
            .map(|l| l.trim_start_matches("- ").to_string())
            .filter(|l| l != "repo: local" && l != "hooks:")
            .collect()
    };
    assert_eq!(strip(&manifest), strip(&doc));
    // And `hooks install` prints the documented recipe where pre-commit owns the hooks.
    let repo = started_without_hooks();
    repo.write(".pre-commit-config.yaml", "repos: []\n");
    let printed = printed_recipe(&repo);
    let block: Vec<String> = indent_free(&printed)
        .into_iter()
        .skip_while(|l| l != "- repo: local")
        .collect();
    assert_eq!(block, indent_free(&doc), "printed:\n{printed}");
}

#[test]
fn pre_commit_framework_runs_our_hooks() {
    let Some(pre_commit) = tool("pre-commit") else {
        skipped(
            "the pre-commit framework test",
            "pre-commit is not installed (pip install pre-commit)",
        );
        return;
    };
    let env = |repo: &TestRepo| {
        let home = repo.home.join("pre-commit-cache");
        move |c: &mut Command| {
            c.env("PRE_COMMIT_HOME", &home);
        }
    };
    // 1. The documented `repo: local` block.
    let repo = started_without_hooks();
    let doc = doc_block("pre-commit (under `repos:`", "yaml");
    let indented: String = doc.lines().map(|l| format!("  {l}\n")).collect();
    repo.write(".pre-commit-config.yaml", &format!("repos:\n{indented}"));
    repo.git(&["add", ".pre-commit-config.yaml"]);
    repo.commit("Use pre-commit\n\nSession: search\n");
    let install = |repo: &TestRepo| {
        let mut cmd = repo.command(&pre_commit);
        cmd.args([
            "install",
            "--hook-type",
            "prepare-commit-msg",
            "--hook-type",
            "commit-msg",
            "--hook-type",
            "post-commit",
        ]);
        env(repo)(&mut cmd);
        let out = cmd.output().expect("pre-commit runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    install(&repo);
    commits_through_the_manager(&repo, &env(&repo));

    // 2. This repository's .pre-commit-hooks.yaml, as a remote repo of hooks (here a local
    // clone of just that file, pinned by commit).
    let hooks_repo = TestRepo::new();
    hooks_repo.write(
        ".pre-commit-hooks.yaml",
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        )
        .expect("manifest"),
    );
    let rev = hooks_repo.commit("Hooks");
    let repo = started_without_hooks();
    repo.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: git-session-prepare-commit-msg\n      - id: git-session-commit-msg\n      - id: git-session-post-commit\n",
            hooks_repo.path.display()
        ),
    );
    repo.git(&["add", ".pre-commit-config.yaml"]);
    repo.commit("Use pre-commit\n\nSession: search\n");
    install(&repo);
    commits_through_the_manager(&repo, &env(&repo));
}

#[test]
fn lefthook_runs_our_hooks_from_the_documented_config() {
    let repo = started_without_hooks();
    let doc = doc_block("lefthook (`lefthook.yml`", "yaml");
    // What `hooks install` prints where lefthook is set up is the documented block.
    repo.write("lefthook.yml", "# hooks\n");
    let printed = printed_recipe(&repo);
    repo.write("lefthook.yml", &doc);
    let block: Vec<String> = indent_free(&printed)
        .into_iter()
        .skip_while(|l| l != "prepare-commit-msg:")
        .collect();
    assert_eq!(block, indent_free(&doc), "printed:\n{printed}");
    let Some(lefthook) = tool("lefthook") else {
        skipped(
            "running lefthook",
            "lefthook is not installed (npm install -g lefthook)",
        );
        return;
    };
    repo.git(&["add", "lefthook.yml"]);
    repo.commit("Use lefthook\n\nSession: search\n");
    let out = repo
        .command(&lefthook)
        .arg("install")
        .output()
        .expect("lefthook runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    commits_through_the_manager(&repo, &|c: &mut Command| {
        c.env("LEFTHOOK_QUIET", "meta,summary,success,execution_info");
    });
}

#[test]
fn husky_runs_our_hooks_from_the_documented_lines() {
    let repo = started_without_hooks();
    let doc = doc_block("husky: one line in each hook file", "sh");
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    let printed = printed_recipe(&repo);
    // Each documented line is the one `hooks install` prints for that file.
    let mut file = String::new();
    for line in doc.lines() {
        if let Some(name) = line.strip_prefix("# ") {
            file = name.to_string();
            continue;
        }
        assert!(
            printed.contains(&format!("{file}:")) && printed.contains(line),
            "{file}: {line}\nprinted:\n{printed}"
        );
        // husky 9 runs .husky/<hook> with sh from its .husky/_/ dispatcher; do what it does.
        repo.write(&file, &format!("{line}\n"));
    }
    let Some(husky) = tool("husky") else {
        skipped(
            "running husky",
            "husky is not installed (npm install -g husky)",
        );
        return;
    };
    repo.git(&["config", "--unset", "core.hooksPath"]);
    let out = repo.command(&husky).output().expect("husky runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.git(&["config", "core.hooksPath"]).trim(), ".husky/_");
    commits_through_the_manager(&repo, &|_c: &mut Command| {});
}
