//! Speed at scale (SPEC §8): builds a large synthetic history, then times git-session against
//! git itself in the same run and prints each measure as a ratio with its goal, plus peak
//! memory. A benchmark, not a test: it only prints.
//!
//!   cargo bench --bench scale -- --commits 100000
//!   cargo bench --bench scale -- --commits 1000000 --runs 3
//!
//! Histories are generated once into target/bench-histories/ and reused.

#[path = "support/synth.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    commits: usize,
    runs: usize,
    dir: PathBuf,
}

fn options() -> Options {
    let mut o = Options {
        commits: 100_000,
        runs: 5,
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-histories"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--commits" => {
                o.commits = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--commits N")
            }
            "--runs" => o.runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--dir" => o.dir = PathBuf::from(args.next().expect("--dir PATH")),
            "--binary" => {
                let path = std::path::absolute(args.next().expect("--binary PATH"))
                    .expect("--binary PATH");
                let path = path.to_str().expect("--binary: a UTF-8 path").to_string();
                BINARY.set(path).expect("--binary once");
            }
            "--bench" => {}
            other => panic!(
                "unknown argument {other}; use --commits N --runs N --dir PATH --binary PATH"
            ),
        }
    }
    o
}

/// The session whose branch the plain-message commits are made on: a branch named after it,
/// as `start` names branches, so the hooks find it with one file read.
const PLAIN_SESSION: &str = "bench-plain-message";
const PLAIN_BRANCH: &str = "session/bench-plain-message";
/// The same on a branch no session is named after (`start --branch`), so the hooks find the
/// session through the index of every session file.
const INDEXED_SESSION: &str = "bench-indexed";
const INDEXED_BRANCH: &str = "work/bench-elsewhere";

/// `--binary`: the git-session to measure, such as an installed build; by default the one
/// cargo built for the benchmark.
static BINARY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn bin() -> &'static str {
    BINARY.get_or_init(|| env!("CARGO_BIN_EXE_git-session").to_string())
}

/// A command in the benchmark's environment: no user or system git config, fixed identity,
/// and the git-session under test first on PATH (the hooks call it by name). Not cargo's
/// LD_LIBRARY_PATH, six directories every dynamically linked process (git, the hooks' shells)
/// would search first for each library: no user has it, and it cost a commit 0.4 ms, more
/// through the hooks.
fn cmd(program: &str, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.env_remove("LD_LIBRARY_PATH");
    let bin_dir = Path::new(bin()).parent().expect("binary dir").to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.current_dir(dir)
        .env("PATH", path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.org")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.org")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Waits until the clock shows a second later than now: git dates commits in seconds.
fn next_second() {
    let secs = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let now = secs();
    while secs() == now {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `program args…` in `dir` in the benchmark's environment; it must succeed.
fn run_in(program: &str, dir: &Path, args: &[&str], what: &str) {
    let status = cmd(program, dir)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what} failed");
}

/// Wall time and peak memory (KiB, when GNU time is there to tell) of one run.
fn measure(program: &str, args: &[&str], dir: &Path) -> (Duration, Option<u64>) {
    let gnu_time = Path::new("/usr/bin/time");
    let report = std::env::temp_dir().join(format!("gs-bench-rss-{}", std::process::id()));
    let mut c = if cfg!(target_os = "linux") && gnu_time.exists() {
        let mut c = cmd("/usr/bin/time", dir);
        c.arg("-f").arg("%M").arg("-o").arg(&report).arg(program);
        c
    } else {
        cmd(program, dir)
    };
    c.args(args);
    let start = Instant::now();
    let status = c.status().expect("command runs");
    let took = start.elapsed();
    assert!(status.success(), "{program} {args:?} failed");
    let rss = std::fs::read_to_string(&report)
        .ok()
        .and_then(|s| s.trim().lines().last()?.trim().parse().ok());
    let _ = std::fs::remove_file(&report);
    (took, rss)
}

/// Wall time of one run of the command alone, for measures of milliseconds, which the
/// start-up of a wrapper such as GNU time would blur.
fn timed(program: &str, args: &[&str], dir: &Path) -> Duration {
    let start = Instant::now();
    let status = cmd(program, dir).args(args).status().expect("command runs");
    let took = start.elapsed();
    assert!(status.success(), "{program} {args:?} failed");
    took
}

/// The median of `runs` runs (the peak memory is the largest seen).
fn median(runs: usize, mut f: impl FnMut() -> (Duration, Option<u64>)) -> (Duration, Option<u64>) {
    let mut times = Vec::new();
    let mut peak = None;
    for _ in 0..runs {
        let (t, rss) = f();
        times.push(t);
        peak = peak.max(rss);
    }
    (middle(times), peak)
}

/// The median of some times.
fn middle(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn history(o: &Options) -> PathBuf {
    let bare = o.dir.join(format!("h{}.git", o.commits));
    let work = o.dir.join(format!("w{}", o.commits));
    if !work.join(".git").exists() {
        let _ = std::fs::remove_dir_all(&bare);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&o.dir).expect("bench dir");
        eprintln!("generating {} commits into {} …", o.commits, bare.display());
        let t = Instant::now();
        synth::create(
            &synth::Shape {
                commits: o.commits,
                ..synth::Shape::default()
            },
            &bare,
            &[
                ("GIT_CONFIG_GLOBAL", "/dev/null"),
                ("GIT_CONFIG_NOSYSTEM", "1"),
            ],
        )
        .expect("history generated");
        let git_dir = bare.to_str().expect("path");
        run_in(
            "git",
            &o.dir,
            &["--git-dir", git_dir, "repack", "-a", "-d", "-q"],
            "git repack",
        );
        run_in(
            "git",
            &o.dir,
            &["--git-dir", git_dir, "commit-graph", "write", "--reachable"],
            "git commit-graph write",
        );
        run_in(
            "git",
            &o.dir,
            &["clone", "-q", git_dir, work.to_str().expect("path")],
            "git clone",
        );
        eprintln!("generated in {:.0} s", t.elapsed().as_secs_f64());
    }
    work
}

/// The most recently created session with a file in the work tree.
/// The oldest and the newest session, by `created`.
fn sessions_by_age(work: &Path) -> (String, String) {
    let mut all = Vec::new();
    for e in std::fs::read_dir(work.join(".sessions")).expect(".sessions") {
        let path = e.expect("entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let created = text
            .lines()
            .find_map(|l| l.strip_prefix("created = "))
            .unwrap_or_default()
            .to_string();
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name != "config" && !created.is_empty() {
            all.push((created, name));
        }
    }
    all.sort();
    let first = all.first().expect("sessions").1.clone();
    let last = all.last().expect("sessions").1.clone();
    (first, last)
}

/// Remote-tracking branches a repository with many contributors has (monorepos have
/// thousands); the generated history has a handful.
const MANY_BRANCHES: usize = 500;

/// The hooked commit of `commit` (hooks, number) against the same without hooks (`no_hooks`),
/// with [`MANY_BRANCHES`] more remote-tracking branches on older trunk commits, packed as a
/// clone or gc leaves them, and the cache brought up to them as `list` would. The branches
/// are removed afterwards.
fn many_branches(
    work: &Path,
    runs: usize,
    commit: impl Fn(Option<&str>, usize) -> Duration,
    no_hooks: &str,
) -> [Duration; 2] {
    let ids = cmd("git", work)
        .args(["rev-list", "--skip=1000", "origin/main"])
        .arg(format!("--max-count={MANY_BRANCHES}"))
        .stdout(Stdio::piped())
        .output()
        .expect("git rev-list");
    let ids = String::from_utf8(ids.stdout).expect("ids");
    let update_refs = |verb: &str| {
        let mut child = cmd("git", work)
            .args(["update-ref", "--stdin"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("git update-ref");
        let mut input = String::new();
        for (i, id) in ids.lines().enumerate() {
            let name = format!("refs/remotes/origin/bench-many/b{i}");
            input.push_str(&match verb {
                "create" => format!("create {name} {id}\n"),
                _ => format!("delete {name}\n"),
            });
        }
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("refs");
        assert!(
            child.wait().expect("update-ref").success(),
            "git update-ref"
        );
    };
    update_refs("create");
    run_in("git", work, &["pack-refs", "--all"], "git pack-refs");
    run_in(bin(), work, &["list"], "git session list");
    let mut times: [Vec<Duration>; 2] = Default::default();
    for n in 0..runs {
        times[0].push(commit(Some(no_hooks), 3 * n));
        commit(None, 3 * n + 1);
        times[1].push(commit(None, 3 * n + 2));
    }
    update_refs("delete");
    times.map(middle)
}

struct Row {
    measure: &'static str,
    ours: Duration,
    base: Duration,
    goal: f64,
    rss: Option<u64>,
}

fn main() {
    let o = options();
    let work = history(&o);
    let cache_dir = work.join(".git/git-session");
    // Every run starts from the generated history: earlier runs' commits would make the
    // session the hooks report on longer with each run.
    // A run that stopped half-way may have left the session branch of the plain-message
    // commits checked out.
    run_in(
        "git",
        &work,
        &["checkout", "-q", "-f", "main"],
        "git checkout main",
    );
    for branch in [PLAIN_BRANCH, INDEXED_BRANCH] {
        let _ = cmd("git", &work)
            .args(["branch", "-q", "-D", branch])
            .status();
    }
    run_in(
        "git",
        &work,
        &["reset", "-q", "--hard", "origin/main"],
        "git reset",
    );
    // Each run leaves a few hundred loose commits. Once enough pile up, a commit starts git's
    // automatic gc in the background, which repacked the history for half a minute while the
    // hooked commits were being timed. Every commit still starts `git maintenance run --auto`,
    // as it does by default; only the repacking is off.
    run_in("git", &work, &["config", "gc.auto", "0"], "git config");
    let _ = std::fs::remove_dir_all(&cache_dir);
    let git_log_args = ["log", "--format=%H%x00%(trailers:only,unfold)", "HEAD"];

    // Warm the page cache, then time git itself and the walks measured against it, in turn:
    // a busy spell of this machine, seconds long, then slows both sides of a ratio, not one.
    measure("git", &git_log_args, &work);
    let (oldest, session) = sessions_by_age(&work);
    let status_args = ["status", session.as_str(), "--no-cache", "--json"];
    let mut walks: [Vec<(Duration, Option<u64>)>; 3] = Default::default();
    for _ in 0..o.runs {
        walks[0].push(measure("git", &git_log_args, &work));
        walks[1].push(measure(bin(), &status_args, &work));
        walks[2].push(measure(bin(), &["list", "--no-cache"], &work));
    }
    let [(git_log, git_rss), (status, status_rss), (list, list_rss)] = walks.map(|runs| {
        let peak = runs.iter().filter_map(|r| r.1).max();
        (middle(runs.into_iter().map(|r| r.0).collect()), peak)
    });

    // Not SPEC 8 measures, but commands whose memory counts: the walks back to the oldest
    // session, and the report that holds every session's commits.
    let (old_status, old_status_rss) =
        measure(bin(), &["status", &oldest, "--no-cache", "--json"], &work);
    let (report, report_rss) = measure(bin(), &["report", "--json"], &work);

    // The cache: built once, then one new commit before each timed run.
    let _ = std::fs::remove_dir_all(&cache_dir);
    let (build, build_rss) = measure(bin(), &["list"], &work);
    let mut n = 0;
    let (cached, cached_rss) = median(o.runs, || {
        n += 1;
        run_in(
            "git",
            &work,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "--no-verify",
                "-m",
                &format!("Bench commit {n}\n\nSession: {session}\nEffort: 5m"),
            ],
            "git commit",
        );
        measure(bin(), &["list"], &work)
    });

    // A commit through the hooks against the same commit without them (hooks installed by
    // init; "without" points git at an empty hooks directory). The cache exists by now, as it
    // would for anyone who has run list.
    run_in(
        bin(),
        &work,
        &["hooks", "install"],
        "git session hooks install",
    );
    let empty_hooks = o.dir.join("no-hooks");
    std::fs::create_dir_all(&empty_hooks).expect("empty hooks dir");
    let no_hooks = format!("core.hooksPath={}", empty_hooks.display());
    // The floor any hooks pay: git running three that do nothing, and three that only start
    // git-session (what no hook that runs the binary can go below).
    let hooks_dir = |dir: &str, script: &str| {
        let hooks = o.dir.join(dir);
        std::fs::create_dir_all(&hooks).expect("hooks dir");
        for name in ["prepare-commit-msg", "commit-msg", "post-commit"] {
            let path = hooks.join(name);
            std::fs::write(&path, script).expect("hook");
            let mut perm = std::fs::metadata(&path).expect("hook").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
            std::fs::set_permissions(&path, perm).expect("hook mode");
        }
        format!("core.hooksPath={}", hooks.display())
    };
    let noop = hooks_dir("noop-hooks", "#!/bin/sh\nexit 0\n");
    let start_only = hooks_dir(
        "start-hooks",
        "#!/bin/sh\nexec git-session --version >/dev/null\n",
    );
    // The hooks without post-commit: what the progress line costs (docs/performance.md).
    let two_hooks = {
        let dir = o.dir.join("two-hooks");
        std::fs::create_dir_all(&dir).expect("hooks dir");
        for name in ["prepare-commit-msg", "commit-msg"] {
            std::fs::copy(work.join(".git/hooks").join(name), dir.join(name)).expect("hook copy");
        }
        format!("core.hooksPath={}", dir.display())
    };
    let commit_args = |hooks: Option<&str>, n: usize| {
        let mut args: Vec<String> = Vec::new();
        if let Some(h) = hooks {
            args.extend(["-c".to_string(), h.to_string()]);
        }
        args.extend(["commit", "-q", "--allow-empty", "-m"].map(String::from));
        args.push(format!(
            "Bench commit {n}\n\nSession: {session}\nEffort: 5m"
        ));
        args
    };
    let git_commit = |hooks: Option<&str>, n: usize| {
        let args = commit_args(hooks, n);
        timed(
            "git",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &work,
        )
    };
    // The hooked commit is timed twice: right after a commit made without the hooks (so
    // post-commit has to walk), and after one made through them, as when committing normally
    // (post-commit builds on what it kept of its last walk).
    let mut times: [Vec<Duration>; 6] = Default::default();
    // A commit takes milliseconds, and this machine's bursts move single ones by as much:
    // twenty of each make a median that holds from run to run.
    let runs = o.runs.max(5) * 4;
    for n in 0..runs {
        times[0].push(git_commit(Some(&no_hooks), 6 * n));
        times[1].push(git_commit(Some(&noop), 6 * n + 1));
        times[4].push(git_commit(Some(&start_only), 6 * n + 2));
        times[5].push(git_commit(Some(&two_hooks), 6 * n + 3));
        times[2].push(git_commit(None, 6 * n + 4));
        times[3].push(git_commit(None, 6 * n + 5));
    }
    let args = commit_args(None, 6 * runs);
    let (_, commit_rss) = measure(
        "git",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &work,
    );
    // An empty commit of `message`, through `hooks` (a `core.hooksPath=` setting) or the
    // installed ones.
    let commit_message = |hooks: Option<&str>, message: &str| {
        let mut args = Vec::new();
        if let Some(h) = hooks {
            args.extend(["-c", h]);
        }
        args.extend(["commit", "-q", "--allow-empty", "-m", message]);
        timed("git", &args, &work)
    };
    // The everyday commit: on a session's branch, a message that names no session, which the
    // hooks must stamp after finding the branch's session.
    let everyday = |session: &str, branch: Option<&str>| {
        // The session's branch starts at main's tip, committed a moment ago by the runs above.
        // A walk meets branch tips of the same second in the order of their ids, which a step
        // from the memo cannot know, so post-commit's step yields to a walk then (half the
        // commits of this run did). No one starts a branch and commits on it within the second
        // its base was committed: this waits for the next second.
        next_second();
        let mut start = vec!["start", session, "--milestone", "a"];
        if let Some(b) = branch {
            start.extend(["--branch", b]);
        }
        run_in(bin(), &work, &start, "git session start");
        run_in(
            "git",
            &work,
            &["commit", "-q", "--no-verify", "-m", "Start the session"],
            "git commit",
        );
        let plain_message =
            |hooks: Option<&str>, n: usize| commit_message(hooks, &format!("Plain commit {n}"));
        let mut times: [Vec<Duration>; 2] = Default::default();
        for n in 0..runs {
            times[0].push(plain_message(Some(&no_hooks), 3 * n));
            plain_message(None, 3 * n + 1);
            times[1].push(plain_message(None, 3 * n + 2));
        }
        run_in(
            "git",
            &work,
            &["checkout", "-q", "-f", "main"],
            "git checkout main",
        );
        run_in(
            "git",
            &work,
            &["branch", "-q", "-D", branch.unwrap_or(PLAIN_BRANCH)],
            "git branch -D",
        );
        times.map(middle)
    };
    let [plain_unhooked, plain_hooked] = everyday(PLAIN_SESSION, None);
    let [indexed_unhooked, indexed_hooked] = everyday(INDEXED_SESSION, Some(INDEXED_BRANCH));
    // A commit for the oldest session, whose own walk would read nearly all history, so
    // post-commit answers from the cache; a first commit finds the session too long for a walk.
    let old_session_commit = |hooks: Option<&str>, n: usize| {
        let message = format!("Old session commit {n}\n\nSession: {oldest}\nEffort: 5m");
        commit_message(hooks, &message)
    };
    old_session_commit(None, 0);
    let mut old_times: [Vec<Duration>; 2] = Default::default();
    for n in 0..runs {
        old_times[0].push(old_session_commit(Some(&no_hooks), 2 * n + 1));
        old_times[1].push(old_session_commit(None, 2 * n + 2));
    }
    let [old_unhooked, old_hooked] = old_times.map(middle);
    let [many_unhooked, many_hooked] = many_branches(
        &work,
        runs,
        |hooks, n| git_commit(hooks, 6 * runs + n),
        &no_hooks,
    );
    let [
        plain_commit,
        floor_commit,
        cold_commit,
        hooked_commit,
        start_commit,
        two_commit,
    ] = times.map(middle);
    run_in(
        bin(),
        &work,
        &["hooks", "uninstall"],
        "git session hooks uninstall",
    );

    let commits = o.commits;
    let rows = [
        Row {
            measure: "status of a recent session, no cache",
            ours: status,
            base: git_log,
            goal: 0.05,
            rss: status_rss,
        },
        Row {
            measure: "list of every session, no cache",
            ours: list,
            base: git_log,
            goal: 0.75,
            rss: list_rss,
        },
        Row {
            measure: "list with the cache, after one new commit",
            ours: cached,
            base: git_log,
            goal: if commits >= 1_000_000 { 0.01 } else { 0.05 },
            rss: cached_rss,
        },
        Row {
            measure: "a git commit through the hooks (vs without)",
            ours: hooked_commit,
            base: plain_commit,
            goal: 2.0,
            rss: commit_rss,
        },
        Row {
            measure: "the same, message naming no session",
            ours: plain_hooked,
            base: plain_unhooked,
            goal: 2.0,
            rss: None,
        },
        Row {
            measure: "the same, naming the oldest session",
            ours: old_hooked,
            base: old_unhooked,
            goal: 2.0,
            rss: None,
        },
    ];
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let git_version = Command::new("git")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let sessions = std::fs::read_dir(work.join(".sessions")).map_or(0, |d| d.count());
    let kib = |r: Option<u64>| {
        r.map_or_else(
            || "n/a".to_string(),
            |k| format!("{:.0} MB", k as f64 / 1024.0),
        )
    };

    println!(
        "git-session scale benchmark: {commits} commits, {sessions} session files, median of {} runs ({runs} of each commit)",
        o.runs
    );
    println!("machine: {cpu}, {cores} cores; {git_version}");
    println!();
    println!(
        "baseline  git log --format=%(trailers) over all history: {:.3} s, peak {}",
        git_log.as_secs_f64(),
        kib(git_rss)
    );
    println!(
        "          first list (builds the cache): {:.3} s, peak {}",
        build.as_secs_f64(),
        kib(build_rss)
    );
    println!(
        "          status of the oldest session: {:.3} s, peak {}; report of every session: {:.3} s, peak {}",
        old_status.as_secs_f64(),
        kib(old_status_rss),
        report.as_secs_f64(),
        kib(report_rss)
    );
    let ms_and_ratio = |d: Duration| {
        format!(
            "{:.1} ms ({:.2}x)",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / plain_commit.as_secs_f64()
        )
    };
    println!(
        "          git commit without hooks: {:.1} ms; through three hooks that do nothing: {}",
        plain_commit.as_secs_f64() * 1e3,
        ms_and_ratio(floor_commit)
    );
    println!(
        "          through three hooks that only start git-session: {}",
        ms_and_ratio(start_commit)
    );
    println!(
        "          through prepare-commit-msg and commit-msg alone (no post-commit): {}",
        ms_and_ratio(two_commit)
    );
    println!(
        "          through the hooks right after a commit made without them: {}",
        ms_and_ratio(cold_commit)
    );
    println!(
        "          on a session's branch, a message naming no session: {:.1} ms without hooks, {:.1} ms through them",
        plain_unhooked.as_secs_f64() * 1e3,
        plain_hooked.as_secs_f64() * 1e3
    );
    println!(
        "          the same on a branch no session is named after (the index of every file): {:.1} ms without hooks, {:.1} ms through them ({:.2}x)",
        indexed_unhooked.as_secs_f64() * 1e3,
        indexed_hooked.as_secs_f64() * 1e3,
        indexed_hooked.as_secs_f64() / indexed_unhooked.as_secs_f64()
    );
    println!(
        "          with {MANY_BRANCHES} more remote-tracking branches, packed: {:.1} ms without hooks, {:.1} ms through them ({:.2}x)",
        many_unhooked.as_secs_f64() * 1e3,
        many_hooked.as_secs_f64() * 1e3,
        many_hooked.as_secs_f64() / many_unhooked.as_secs_f64()
    );
    println!();
    println!(
        "{:<44} {:>9} {:>8} {:>8} {:>9}  ",
        "measure", "time", "ratio", "goal", "peak"
    );
    let mut all_ok = true;
    for r in &rows {
        let ratio = r.ours.as_secs_f64() / r.base.as_secs_f64();
        let ok = ratio <= r.goal;
        all_ok &= ok;
        println!(
            "{:<44} {:>8.3}s {:>7.3}x {:>7}x {:>9}  {}",
            r.measure,
            r.ours.as_secs_f64(),
            ratio,
            r.goal,
            kib(r.rss),
            if ok { "ok" } else { "MISSED" }
        );
    }
    let peak = rows
        .iter()
        .filter_map(|r| r.rss)
        .chain(
            [build_rss, old_status_rss, report_rss]
                .into_iter()
                .flatten(),
        )
        .max();
    let mem_ok = peak.is_none_or(|k| k <= 100 * 1024);
    println!(
        "{:<44} {:>9} {:>8} {:>8} {:>9}  {}",
        "peak memory, any command",
        "",
        "",
        "100 MB",
        kib(peak),
        if mem_ok { "ok" } else { "MISSED" }
    );
    if !(all_ok && mem_ok) {
        println!("\nsome goals were missed on this run");
    }
}
