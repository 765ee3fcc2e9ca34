//! `git-session`: parse the arguments, run the command, map the outcome to an exit code.

mod cli;

use clap::Parser;

fn main() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: git-session hit an internal error ({what}{at}); please report it with the command you ran"
        );
        std::process::exit(2);
    }));
    let cli = cli::Cli::parse();
    let code = match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.kind.exit_code()
        }
    };
    std::process::exit(code);
}
