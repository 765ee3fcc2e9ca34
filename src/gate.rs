//! What `git session check` looks at in CI (SPEC §7): the commits of `base..HEAD`, the sessions
//! their trailers link to, and the edges of a shallow clone that would make an answer wrong.

use crate::error::Result;
use crate::history::Coverage;
use crate::links;
use crate::repo::{CommitId, IdSet, Repo};

/// The commits of `head ^base`. A shallow clone that cuts the range is an error (exit 3): which
/// commits lie beyond the edge, and whether they are on `base`, cannot be known.
pub fn range(repo: &Repo, head: CommitId, base: CommitId) -> Result<Vec<CommitId>> {
    let (ids, truncated) = repo.range(head, &[base])?;
    if truncated {
        let edge = ids
            .iter()
            .copied()
            .find(|id| repo.is_shallow_edge(*id))
            .unwrap_or(head);
        Coverage {
            truncated_at: vec![edge],
            ..Coverage::default()
        }
        .require_complete()?;
    }
    Ok(ids)
}

/// The same, as a set.
pub fn range_set(repo: &Repo, head: CommitId, base: CommitId) -> Result<IdSet> {
    Ok(range(repo, head, base)?.into_iter().collect())
}

/// The sessions the commits of `head ^base` name — `Session` trailers and qualified values,
/// pooled over the items of a hosting service's squash merge — sorted, without duplicates.
/// Session ids are given in lowercase.
pub fn linked_sessions(repo: &Repo, head: CommitId, base: CommitId) -> Result<Vec<String>> {
    let cfg = repo.trailer_config();
    // A set: a hostile range may name tens of thousands of sessions.
    let mut names = std::collections::BTreeSet::new();
    repo.each_commit(&range(repo, head, base)?, &mut |c| {
        let l = links::from_message(&c.message, cfg);
        for n in l.named_sessions() {
            names.insert(if n.len() == 36 {
                n.to_ascii_lowercase()
            } else {
                n.to_string()
            });
        }
        Ok(())
    })?;
    Ok(names.into_iter().collect())
}
