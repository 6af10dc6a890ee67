//! Which LFS objects a repo's history refers to, cached per repo until its refs move.
//!
//! Downloads that name content by hash rather than by path (the LFS batch API, Xet
//! reconstructions) are allowed only for content the repo itself refers to: knowing the hash of
//! another repo's file must not be enough to read it through a repo one can see. Walking the
//! history is proportional to the repo's distinct trees, so the answer is kept until a branch or
//! tag moves.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use grove_storage::git::{GitError, GitRepo};

/// Repos remembered at once; past this the cache starts over.
const MAX_REPOS: usize = 1024;

type Entry = (grove_storage::git::Refs, Arc<BTreeSet<String>>);

#[derive(Default)]
pub struct ReachableObjects(Mutex<HashMap<i64, Entry>>);

impl ReachableObjects {
    /// The sha256 of every LFS object any commit of the repo refers to. Blocking.
    pub fn of(&self, repo_id: i64, git_repo: &GitRepo) -> Result<Arc<BTreeSet<String>>, GitError> {
        let refs = git_repo.refs()?;
        if let Some((seen, objects)) = self.0.lock().expect("cache lock").get(&repo_id)
            && *seen == refs
        {
            return Ok(Arc::clone(objects));
        }
        let objects = Arc::new(git_repo.lfs_objects()?);
        let mut cache = self.0.lock().expect("cache lock");
        if cache.len() >= MAX_REPOS {
            cache.clear();
        }
        cache.insert(repo_id, (refs, Arc::clone(&objects)));
        Ok(objects)
    }
}
