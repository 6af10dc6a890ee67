//! [`GitRepo`]: one open bare repo. Reading, writing and ref methods live in the sibling
//! modules (`revs`, `history`, `tree`, `blob`, `commit`), each an `impl GitRepo` block.

use std::fmt;
use std::sync::Arc;

use git2::Repository;

use super::error::{GitError, is_not_found};
use super::ids::CommitId;
use super::locks::BranchLocks;
use super::store::DEFAULT_BRANCH;

/// An open repo. Not `Sync`: open one per thread or per request (opening is cheap).
pub struct GitRepo {
    pub(crate) repo: Repository,
    key: String,
    pub(crate) locks: Arc<BranchLocks>,
}

impl fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitRepo")
            .field("key", &self.key)
            .field("path", &self.repo.path())
            .finish()
    }
}

impl GitRepo {
    pub(crate) fn new(repo: Repository, key: String, locks: Arc<BranchLocks>) -> Self {
        Self { repo, key, locks }
    }

    /// The key this repo was opened with (`models/42`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The branch `HEAD` points at (always `main` for repos made by [`GitStore::create`](super::GitStore::create)).
    pub fn default_branch(&self) -> Result<String, GitError> {
        let head = self.repo.find_reference("HEAD")?;
        Ok(head
            .symbolic_target()
            .ok()
            .flatten()
            .and_then(|t| t.strip_prefix("refs/heads/"))
            .unwrap_or(DEFAULT_BRANCH)
            .to_owned())
    }

    /// Look a commit up by id; a missing one (or an id naming another kind of object) is
    /// [`GitError::RevisionNotFound`].
    pub(crate) fn find_commit(&self, id: &CommitId) -> Result<git2::Commit<'_>, GitError> {
        match self.repo.find_commit(id.oid()) {
            Ok(commit) => Ok(commit),
            Err(e) if is_not_found(&e) || e.class() == git2::ErrorClass::Invalid => {
                Err(GitError::RevisionNotFound(id.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }
}
