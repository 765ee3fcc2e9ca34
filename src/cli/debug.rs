//! `git session debug-trailers <rev>`: the trailers of a commit as the tool reads them from
//! history, one `key: value` per line, as `git log --format=%(trailers:only,unfold)` prints.

use git_session::error::Result;
use git_session::repo::Repo;
use git_session::trailer;

use super::Global;

/// Print a commit's trailers as git-session reads them
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The commit to read
    #[arg(default_value = "HEAD")]
    pub rev: String,
}

pub fn run(_global: &Global, args: Args) -> Result<i32> {
    let repo = Repo::discover()?;
    let id = repo.resolve(&args.rev)?;
    let out = repo.with_commit(id, |c| {
        let mut out = Vec::new();
        for t in trailer::parse_history(&c.message, repo.trailer_config()) {
            out.extend_from_slice(&t.key);
            out.extend_from_slice(b": ");
            out.extend_from_slice(&t.value);
            out.push(b'\n');
        }
        out
    })?;
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&out);
    Ok(0)
}
