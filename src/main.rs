//! `git-session`: parse the arguments, run the command, map the outcome to an exit code.

mod cli;

use std::any::Any;
use std::io::Write;
use std::panic::Location;

use clap::Parser;

fn main() {
    std::panic::set_hook(Box::new(|info| {
        // Written without eprintln!, which panics on a broken stderr: a panic in the hook aborts.
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            panic_sentence(info.payload(), info.location())
        );
        std::process::exit(2);
    }));
    let code = match cli::hook_fast_path().unwrap_or_else(|| cli::run(cli::Cli::parse())) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            e.kind.exit_code()
        }
    };
    std::process::exit(code);
}

/// What a user reads when the tool panics: one line, whatever the panic said.
fn panic_sentence(payload: &dyn Any, location: Option<&Location>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown failure".to_string());
    // A panic message may span lines (assertions do); the error is one line.
    let mut what = what.split_whitespace().collect::<Vec<_>>().join(" ");
    if what.chars().count() > 300 {
        what = what.chars().take(300).collect::<String>() + "…";
    }
    let at = location
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "error: git-session hit an internal error ({what}{at}); please report it with the command you ran"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_one_line_naming_what_and_where() {
        let here = Location::caller();
        let text = panic_sentence(&"index out of bounds", Some(here));
        assert!(text.starts_with(
            "error: git-session hit an internal error (index out of bounds at src/main.rs:"
        ));
        assert!(text.ends_with("please report it with the command you ran"));
        let owned = panic_sentence(
            &String::from("assertion failed\n  left: 1\n right: 2"),
            None,
        );
        assert_eq!(owned.lines().count(), 1);
        assert!(
            owned.contains("(assertion failed left: 1 right: 2)"),
            "{owned}"
        );
        assert!(panic_sentence(&42_u8, None).contains("(unknown failure)"));
        let long = panic_sentence(&"x".repeat(10_000), None);
        assert!(long.len() < 500, "{}", long.len());
    }
}
