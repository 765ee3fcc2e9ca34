//! The trailer corpus: every case against what git printed for it (`.expected*` files, made by
//! `oracle.sh` with git 2.47), through the parser and through real commits read back.

use std::fs;
use std::path::{Path, PathBuf};

use git_session::trailer::{self, TrailerConfig};

use crate::harness::TestRepo;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trailer-cases")
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(corpus())
        .expect("the trailer corpus is in tests/fixtures")
        .map(|e| e.expect("readable corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 65, "corpus incomplete: {}", cases.len());
    cases
}

fn config_lines(case: &Path) -> Vec<(String, String)> {
    fs::read_to_string(case.with_extension("config"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn config(case: &Path) -> TrailerConfig {
    let lines = config_lines(case);
    TrailerConfig::from_entries(lines.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn render(trailers: &[trailer::Trailer]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in trailers {
        out.extend_from_slice(&t.key);
        out.extend_from_slice(b": ");
        out.extend_from_slice(&t.value);
        out.push(b'\n');
    }
    out
}

fn expected(case: &Path, ext: &str) -> Vec<u8> {
    fs::read(case.with_extension(ext)).expect("every case has its oracle outputs")
}

#[test]
fn parser_matches_interpret_trailers_on_every_case() {
    let mut failures = Vec::new();
    for case in cases() {
        let message = fs::read(&case).expect("case readable");
        let cfg = config(&case);
        for (no_divider, ext) in [(true, "expected-nodivider"), (false, "expected")] {
            let got = render(&trailer::parse(&message, &cfg, no_divider));
            let want = expected(&case, ext);
            if got != want {
                failures.push(format!(
                    "{} ({ext}):\n  want {:?}\n  got  {:?}",
                    case.display(),
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Commits every case verbatim with real git and reads it back through the tool's own history
/// walk (`git session log --trailers`), comparing with `git log --format=%(trailers)`.
#[test]
fn history_reader_matches_git_log_on_every_case() {
    let mut failures = Vec::new();
    for case in cases() {
        let want = expected(&case, "expected-log");
        if want.starts_with(b"COMMIT-FAILED") {
            continue;
        }
        let repo = TestRepo::new();
        let mut args: Vec<String> = Vec::new();
        for (k, v) in config_lines(&case) {
            repo.git(&["config", &k, &v]);
            args.push(format!("{k}={v}"));
        }
        repo.git(&[
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "--allow-empty-message",
            "--cleanup=verbatim",
            "-F",
            case.to_str().expect("utf-8 path"),
        ]);
        // git itself, to be sure the fixture still describes the git on this machine.
        let git_says = repo.git_bytes(&["log", "-1", "--format=format:%(trailers:only,unfold)"]);
        let ours = repo.run(&["debug-trailers", "HEAD"]);
        ours.success();
        if ours.stdout_bytes() != want || git_says != want {
            failures.push(format!(
                "{}:\n  fixture {:?}\n  git     {:?}\n  ours    {:?}",
                case.display(),
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&git_says),
                String::from_utf8_lossy(ours.stdout_bytes())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
