//! The documentation cannot drift: docs/cli.md is regenerated from `--help` and compared
//! (`UPDATE_DOCS=1 cargo test --test it docs::` rewrites it), the docs are checked to cover
//! every command, exit code, trailer, key and JSON key of the SPEC, the JSON schemas in
//! docs/schema/ are checked against real output, and `--version` names the commit.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::TestRepo;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

// ---- docs/cli.md -------------------------------------------------------------------------

const MARKER: &str =
    "<!-- Generated from --help below this line: UPDATE_DOCS=1 cargo test --test it docs:: -->";

/// The commands listed under "Commands:" in a help text, without `help`.
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// `--help` of git-session and of every command under it, as markdown sections.
fn reference(repo: &TestRepo, path: &mut Vec<String>, out: &mut String) {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let run = repo.run(&args);
    run.success();
    let help = run.stdout();
    let title = if path.is_empty() {
        "git session".to_string()
    } else {
        format!("git session {}", path.join(" "))
    };
    out.push_str(&format!(
        "\n## `{title}`\n\n```text\n{}\n```\n",
        help.trim_end()
    ));
    for sub in commands_in(&help) {
        path.push(sub);
        reference(repo, path, out);
        path.pop();
    }
}

#[test]
fn cli_reference_is_the_help_text() {
    let repo = TestRepo::bare_dir();
    let mut generated = String::new();
    reference(&repo, &mut Vec::new(), &mut generated);
    let doc = read("docs/cli.md");
    let Some(at) = doc.find(MARKER) else {
        panic!("docs/cli.md lacks the line {MARKER}");
    };
    let head = &doc[..at + MARKER.len()];
    let want = format!("{head}\n{generated}");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(root().join("docs/cli.md"), &want).expect("write docs/cli.md");
        return;
    }
    if doc != want {
        let line = doc
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| doc.lines().count().min(want.lines().count()));
        panic!(
            "docs/cli.md and --help disagree from line {} on:\n  docs: {:?}\n  help: {:?}\nRun UPDATE_DOCS=1 cargo test --test it docs:: and review the diff.",
            line + 1,
            doc.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>")
        );
    }
}

// ---- coverage of the SPEC ----------------------------------------------------------------

/// Every name the SPEC makes stable, and the file that must explain it.
#[test]
fn docs_cover_every_command_exit_code_trailer_and_key() {
    let cli = read("docs/cli.md");
    let mut missing: Vec<String> = Vec::new();
    let mut need = |file: &str, text: &str, needle: String| {
        if !text.contains(&needle) {
            missing.push(format!("{file}: {needle}"));
        }
    };

    // SPEC section 5: commands, each with its own section of the reference and a mention in
    // the guides.
    let guides: String = [
        "README.md",
        "docs/getting-started.md",
        "docs/tracking.md",
        "docs/hooks.md",
        "docs/ci.md",
    ]
    .iter()
    .map(|f| read(f))
    .collect();
    for cmd in [
        "init",
        "start",
        "list",
        "status",
        "log",
        "check",
        "trust",
        "validate",
        "focus",
        "pause",
        "resume",
        "finish",
        "abandon",
        "context",
        "report",
        "doctor",
        "hooks install",
        "hooks uninstall",
        "hooks status",
        "demo",
        "completions",
        "man",
    ] {
        need("docs/cli.md", &cli, format!("## `git session {cmd}`"));
        need("the guides", &guides, format!("git session {cmd}"));
    }
    for flag in [
        "--title",
        "--objective",
        "--milestone",
        "--base",
        "--branch",
        "--current",
        "--json",
        "--format",
        "--no-cache",
        "--html",
        "--clear",
        "--require-session",
        "--run-commands",
        "--no-commands",
        "--color",
    ] {
        need("docs/cli.md", &cli, flag.to_string());
    }
    // Exit codes, each with its meaning.
    for (code, meaning) in [
        (0, "success"),
        (1, "criteria unmet"),
        (2, "bad input or usage"),
        (3, "the repository cannot answer"),
        (4, "refused for safety"),
    ] {
        need("docs/cli.md", &cli, format!("| {code} | {meaning}"));
    }
    // Conventions and preferences.
    for word in [
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "color.ui",
        "session.progress",
        "session.cache",
        "-C <PATH>",
        "stderr",
        "GIT_SESSION_NOW",
    ] {
        need("docs/cli.md", &cli, word.to_string());
    }

    // SPEC section 3: trailers, each with a section and an example line.
    let trailers = read("docs/trailers.md");
    for key in [
        "Session",
        "Milestone",
        "Milestone-Done",
        "Task-Done",
        "Effort",
        "Blocker",
        "Blocker-Resolved",
    ] {
        need("docs/trailers.md", &trailers, format!("## `{key}`"));
        need("docs/trailers.md", &trailers, format!("\n{key}: "));
    }
    for topic in [
        "interpret-trailers",
        "25%",
        "Continuation lines",
        "(cherry picked from",
        "---",
        "<session>/<milestone>",
        "squash",
        "case",
    ] {
        need("docs/trailers.md", &trailers, topic.to_string());
    }

    // SPEC section 2: every key of the session file and of .sessions/config.toml.
    let file = read("docs/session-file.md");
    for key in [
        "schema",
        "id",
        "name",
        "title",
        "branch",
        "base",
        "created",
        "owner",
        "status",
        "status_reason",
        "objectives",
        "due",
        "depends_on",
        "tasks",
        "milestones",
        "no_open_blockers",
        "require_trailers",
        "run",
        "timeout",
        "prefix",
        "max_gap",
        "first_commit",
        "clock_skew",
        "strict",
    ] {
        need("docs/session-file.md", &file, format!("\n{key} = "));
    }
    for table in [
        "[[milestones]]",
        "[criteria]",
        "[[criteria.commands]]",
        "[branch]",
        "[estimate]",
        "[history]",
        "[hooks]",
    ] {
        need("docs/session-file.md", &file, table.to_string());
    }

    // SPEC section 5, JSON: every stable key.
    let json = read("docs/json.md");
    for key in [
        "schema",
        "session",
        "name",
        "id",
        "title",
        "status",
        "branch",
        "base",
        "progress",
        "fraction",
        "milestones_done",
        "milestones_total",
        "milestones",
        "state",
        "tasks_done",
        "tasks_total",
        "commits",
        "due",
        "effort",
        "reported_minutes",
        "estimated_minutes",
        "blockers",
        "tag",
        "text",
        "warnings",
        "met",
        "criteria",
        "detail",
    ] {
        need("docs/json.md", &json, format!("\"{key}\""));
    }
    for schema in ["status", "check", "list"] {
        need(
            "docs/json.md",
            &json,
            format!("schema/{schema}.schema.json"),
        );
    }

    // The rest of the SPEC's promises have a home.
    let ci = read("docs/ci.md");
    for topic in [
        "GitHub Actions",
        "GitLab",
        "fetch-depth: 0",
        "Squash merges",
        "Trust",
    ] {
        need("docs/ci.md", &ci, topic.to_string());
    }
    let hooks = read("docs/hooks.md");
    for topic in [
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
        "core.hooksPath",
        "husky",
        "lefthook",
        "pre-commit",
        ".pre-commit-hooks.yaml",
    ] {
        need("docs/hooks.md", &hooks, topic.to_string());
    }
    assert!(
        missing.is_empty(),
        "the docs do not mention:\n  {}",
        missing.join("\n  ")
    );
}

// ---- JSON schemas ------------------------------------------------------------------------

/// Checks `value` against a JSON Schema that uses only the keywords below; a schema with any
/// other keyword is an error, so nothing is silently not checked.
fn check(schema: &Value, root: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        errors.push(format!("{at}: the schema is not an object"));
        return;
    };
    for (key, rule) in obj {
        match key.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .expect("local $ref");
                check(&root["$defs"][name], root, value, at, errors);
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type"),
                };
                let ok = types.iter().any(|t| match *t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_i64() || value.is_u64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    other => panic!("unknown type {other}"),
                });
                if !ok {
                    errors.push(format!("{at}: {value} is not {types:?}"));
                }
            }
            "const" if value != rule => errors.push(format!("{at}: {value} is not {rule}")),
            "enum" if !rule.as_array().expect("enum list").contains(value) => {
                errors.push(format!("{at}: {value} is not one of {rule}"))
            }
            "const" | "enum" => {}
            "required" => {
                if let Some(o) = value.as_object() {
                    for k in rule.as_array().expect("required list") {
                        let k = k.as_str().expect("key");
                        if !o.contains_key(k) {
                            errors.push(format!("{at}: lacks \"{k}\""));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(o) = value.as_object() {
                    for (k, sub) in rule.as_object().expect("properties") {
                        if let Some(v) = o.get(k) {
                            check(sub, root, v, &format!("{at}.{k}"), errors);
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        check(rule, root, v, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(v), Some(limit)) = (value.as_f64(), rule.as_f64()) {
                    let bad = if key == "minimum" {
                        v < limit
                    } else {
                        v > limit
                    };
                    if bad {
                        errors.push(format!("{at}: {v} is out of range ({key} {limit})"));
                    }
                }
            }
            "pattern" => {
                if let Some(s) = value.as_str() {
                    let re = regex::Regex::new(rule.as_str().expect("pattern")).expect("regex");
                    if !re.is_match(s) {
                        errors.push(format!("{at}: {s:?} does not match {rule}"));
                    }
                }
            }
            "format" => {
                if let Some(s) = value.as_str() {
                    let ok = match rule.as_str().expect("format") {
                        "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
                        "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
                        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
                        other => panic!("unknown format {other}"),
                    };
                    if !ok {
                        errors.push(format!("{at}: {s:?} is not a {rule}"));
                    }
                }
            }
            other => panic!("the schema uses {other}, which this test's validator does not check"),
        }
    }
}

fn errors_of(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "$", &mut errors);
    errors
}

fn schema(name: &str) -> Value {
    serde_json::from_str(&read(&format!("docs/schema/{name}.schema.json")))
        .unwrap_or_else(|e| panic!("docs/schema/{name}.schema.json: {e}"))
}

#[test]
fn json_output_matches_the_schemas() {
    let repo = TestRepo::with_session(&["parser:Query parser", "ranking"]);
    let file = repo.read(".sessions/search.toml").replace(
        "id = \"parser\"",
        "id = \"parser\"\ndue = 2026-12-01\ntasks = [\"lexer\", \"grammar\"]",
    );
    let file = file.replace(
        "no_open_blockers = true",
        "no_open_blockers = true\nrequire_trailers = [\"Signed-off-by\"]",
    );
    assert!(file.contains("require_trailers"), "{file}");
    repo.write(".sessions/search.toml", &file);
    repo.commit("Start\n\nSession: search\n");
    repo.change_and_commit(
        "a",
        "Lexer\n\nMilestone: parser\nTask-Done: parser/lexer\nEffort: 1h30m\nBlocker: #corpus need the data\n",
    );
    repo.change_and_commit(
        "a",
        "Ranking\n\nMilestone-Done: ranking\nMilestone: parsr\n",
    );

    let status = repo.json(&["status"]);
    let list = repo.json(&["list"]);
    let check_run = repo.run(&["check", "--json"]);
    check_run.expect_code(1);
    let checked: Value = serde_json::from_slice(check_run.stdout_bytes()).expect("check JSON");
    for (name, value) in [("status", &status), ("list", &list), ("check", &checked)] {
        let errors = errors_of(&schema(name), value);
        assert!(
            errors.is_empty(),
            "{name} --json does not match docs/schema/{name}.schema.json:\n{}\n{value:#}",
            errors.join("\n")
        );
    }
    // What the schema holds is really checked: a wrong document fails.
    let mut wrong = status.clone();
    wrong["milestones"][0]["state"] = "finished".into();
    wrong["effort"]["reported_minutes"] = (-5).into();
    wrong["session"]
        .as_object_mut()
        .expect("object")
        .remove("branch");
    let errors = errors_of(&schema("status"), &wrong);
    assert_eq!(errors.len(), 3, "{errors:?}");
    // No session linked: check's session is null.
    repo.git(&["switch", "-q", "main"]);
    let none = repo.run(&["check", "--json"]);
    none.success();
    let none: Value = serde_json::from_slice(none.stdout_bytes()).expect("JSON");
    assert!(errors_of(&schema("check"), &none).is_empty(), "{none}");
}

// ---- --version -----------------------------------------------------------------------------

#[test]
fn version_names_the_commit_it_was_built_from() {
    let repo = TestRepo::bare_dir();
    let run = repo.run(&["--version"]);
    run.success();
    let text = run.stdout();
    let re = regex::Regex::new(r"^git-session \d+\.\d+\.\d+ \(([0-9a-f]{12}|unknown commit)\)\n$")
        .expect("regex");
    assert!(re.is_match(&text), "{text:?}");
    // Built from a git work tree whose top is the crate: its HEAD.
    let top = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if top.and_then(|t| t.canonicalize().ok()) == root().canonicalize().ok() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(root())
            .output()
            .expect("git");
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(text.contains(&format!("({head})")), "{text} vs HEAD {head}");
    }
    // Every command says the same.
    let sub = repo.run(&["status", "--version"]);
    sub.success();
    assert!(
        sub.stdout().ends_with(&text["git-session".len()..]),
        "{}",
        sub.stdout()
    );
}

// ---- install.sh -----------------------------------------------------------------------------

/// What `install.sh` asks of cargo, run from another directory with stand-ins for `rustc`
/// (naming `host`), `cc` (finding a static C library, not finding one, or failing) and `cargo`
/// (which records its arguments), and with `env` set.
fn install_sh_asks_cargo(host: &str, libc: Libc, env: &[(&str, &str)]) -> Vec<String> {
    let scratch = TestRepo::bare_dir();
    let fake = scratch.path.join("bin");
    std::fs::create_dir_all(&fake).expect("dir");
    let log = scratch.path.join("cargo-args");
    let static_libc = fake.join("libc.a");
    std::fs::write(&static_libc, "").expect("libc.a");
    let cc = match libc {
        Libc::Static => format!("echo '{}'", static_libc.display()),
        Libc::Missing => "echo libc.a".to_string(),
        Libc::NoCompiler => "exit 127".to_string(),
    };
    for (name, body) in [
        ("rustc", format!("echo 'host: {host}'")),
        ("cc", cc),
        (
            "cargo",
            format!("printf '%s\\n' \"$@\" > '{}'", log.display()),
        ),
    ] {
        let path = fake.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("stand-in");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut cmd = std::process::Command::new("sh");
    cmd.arg(root().join("install.sh"))
        .args(["--root", "./tools"])
        .current_dir(&scratch.path)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .envs(env.iter().copied());
    let out = cmd.output().expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&log)
        .expect("cargo ran")
        .lines()
        .map(str::to_string)
        .collect()
}

#[derive(Clone, Copy)]
enum Libc {
    Static,
    Missing,
    NoCompiler,
}

#[test]
fn install_sh_links_statically_where_it_can_and_is_cargo_install_elsewhere() {
    let here = root().display().to_string();
    let plain = ["install", "--locked", "--path", &here, "--root", "./tools"];
    let linux = "x86_64-unknown-linux-gnu";
    // The clone is the crate wherever install.sh is run from; the arguments are the caller's.
    assert_eq!(
        install_sh_asks_cargo(linux, Libc::Static, &[]),
        [
            "install",
            "--locked",
            "--path",
            &here,
            "--target",
            linux,
            "--config",
            "target.x86_64-unknown-linux-gnu.rustflags = ['-C', 'target-feature=+crt-static']",
            "--root",
            "./tools"
        ]
    );
    // Without libc.a the static link would fail; flags in the environment would replace the
    // configured one.
    assert_eq!(install_sh_asks_cargo(linux, Libc::Missing, &[]), plain);
    assert_eq!(install_sh_asks_cargo(linux, Libc::NoCompiler, &[]), plain);
    assert_eq!(
        install_sh_asks_cargo(linux, Libc::Static, &[("RUSTFLAGS", "-C opt-level=2")]),
        plain
    );
    assert_eq!(
        install_sh_asks_cargo(
            linux,
            Libc::Static,
            &[("CARGO_ENCODED_RUSTFLAGS", "-Copt-level=2")]
        ),
        plain
    );
    assert_eq!(
        install_sh_asks_cargo("aarch64-apple-darwin", Libc::Static, &[]),
        plain
    );
    assert_eq!(
        install_sh_asks_cargo("x86_64-unknown-linux-musl", Libc::Static, &[]),
        plain
    );
}
