//! `git session init`: create `.sessions/` and its policy file.

use git_session::config;
use git_session::error::{Error, Result};
use git_session::repo::Repo;
use git_session::store::{self, Store};

use super::{Global, emit, state_dir};

/// Set up .sessions/ and the hooks in this repository (idempotent)
///
/// Creates .sessions/ with a commented config.toml holding the repository's policy at its
/// defaults, and installs the git hooks that add and check session trailers (see 'git session
/// hooks --help'). Running it again changes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_global: &Global, _args: Args) -> Result<i32> {
    let repo = Repo::discover()?;
    let Some(top) = repo.workdir().map(|p| p.to_path_buf()) else {
        return Err(Error::input(
            "this is a bare repository; run git session init in a clone with a work tree",
        ));
    };
    let store = Store::new(&top, &state_dir(&repo));
    let created_dir = store.ensure_dir()?;
    let config_path = store.dir().join(store::CONFIG_FILE);
    let created_config = store.create_file(&config_path, config::TEMPLATE)?;
    let shown = format!("{}/{}", store::DIR, store::CONFIG_FILE);
    let msg = match (created_dir, created_config) {
        (_, true) => format!(
            "Initialized {}/ in {} (policy in {shown}; commit it to share it)\n",
            store::DIR,
            top.display()
        ),
        (true, false) => format!("Initialized {}/ ({shown} was already there)\n", store::DIR),
        (false, false) => format!("Already initialized: {shown} exists\n"),
    };
    emit(&msg);
    emit(&super::hooks::install_text(&repo)?);
    Ok(0)
}
