//! Making commits: apply a list of file operations to a branch tip and move the branch by
//! compare-and-swap.
//!
//! Every attempt reads the tip, checks `expected_parent`, builds the new tree and commit
//! objects, then asks libgit2 to move `refs/heads/<branch>` *only if it still points at that
//! tip* (`reference_matching`, which compares under the ref's lock file). Objects written by a
//! losing attempt are unreachable garbage; the ref never points at anything half made.
//!
//! - With `expected_parent`, a tip that does not start with it is [`GitError::StaleParent`]
//!   (HTTP 412) and nothing changes, including when the tip moves between the check and the
//!   swap (the retry then sees the new tip and answers `StaleParent`).
//! - Without it, a lost race (the tip moved, or its lock file was held) rebuilds the commit on
//!   the new tip and tries again, up to [`MAX_COMMIT_ATTEMPTS`] times with a short random
//!   back-off, so concurrent commits are serialised and none is lost; the operations are
//!   re-validated against each new tip (a file deleted meanwhile makes a later `Delete` fail).
//! - Writers sharing one [`GitStore`](super::GitStore) (one process) also take a per-branch
//!   mutex around the whole attempt loop, so among them commits queue instead of racing; the
//!   CAS then only arbitrates between processes (or separate `GitStore` values).
//! - A commit with no net change (e.g. putting a file with the content it already has) is still
//!   made, as on the Hub: callers that want no-op detection compare blob ids first.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use git2::{ErrorCode, ObjectType, Oid, Reference};

use super::edit::{DirEdit, Expect};
use super::error::{GitError, is_not_found};
use super::ids::{Author, CommitId, parse_object_id};
use super::path::RepoPath;
use super::repo::GitRepo;

/// How many compare-and-swap attempts a commit without `expected_parent` makes before giving up
/// with [`GitError::Busy`].
pub const MAX_COMMIT_ATTEMPTS: usize = 50;

/// Longest back-off between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// One change to the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Add or replace the file at `path` with the blob `blob_oid` (already written to this
    /// repo, e.g. by [`GitRepo::write_blob`]; for LFS files, the pointer's blob).
    Put {
        /// Where.
        path: RepoPath,
        /// The blob's git id, 40 hex.
        blob_oid: String,
        /// Mode 100755 instead of 100644.
        executable: bool,
    },
    /// Delete the file at `path` ([`GitError::PathNotFound`] if there is no file there).
    Delete {
        /// Which file.
        path: RepoPath,
    },
    /// Delete the directory at `path` and everything in it ([`GitError::PathNotFound`] if
    /// there is no directory there).
    DeleteFolder {
        /// Which directory (see [`RepoPath::parse_folder`]).
        path: RepoPath,
    },
}

/// A commit to make.
#[derive(Clone, Debug)]
pub struct CommitRequest {
    /// The branch to commit to (`main`, `feat/x`; a `refs/heads/` prefix is accepted).
    pub branch: String,
    /// The Hub's `parentCommit`: a 5–40 hex prefix the branch tip must start with.
    pub expected_parent: Option<String>,
    /// The changes, applied in order.
    pub ops: Vec<Op>,
    /// The commit title (first line; line breaks in it become spaces).
    pub title: String,
    /// The commit description (after a blank line; omitted when empty).
    pub description: String,
    /// Author and committer.
    pub author: Author,
}

impl GitRepo {
    /// Make a commit on `req.branch` (see the module docs for the concurrency rules) and return
    /// its id.
    ///
    /// Errors: [`GitError::RevisionNotFound`] (no such branch), [`GitError::StaleParent`],
    /// [`GitError::PathNotFound`], [`GitError::PathConflict`], [`GitError::InvalidObjectId`] /
    /// [`GitError::BlobNotFound`] (a `Put` naming no blob of this repo), [`GitError::Busy`].
    pub fn commit(&self, req: CommitRequest) -> Result<CommitId, GitError> {
        let branch = req
            .branch
            .strip_prefix("refs/heads/")
            .unwrap_or(&req.branch);
        let refname = format!("refs/heads/{branch}");
        if branch.is_empty() || !Reference::is_valid_name(&refname) {
            return Err(GitError::RevisionNotFound(req.branch.clone()));
        }
        let blobs = self.check_blobs(&req.ops)?;
        let message = commit_message(&req.title, &req.description);
        let _writer = self.locks.lock(self.key(), branch);

        for attempt in 1..=MAX_COMMIT_ATTEMPTS {
            let tip = self.branch_tip(&refname, &req.branch)?;
            if let Some(expected) = &req.expected_parent
                && !tip_matches(expected, tip)
            {
                return Err(GitError::StaleParent {
                    tip: CommitId::from_oid(tip),
                });
            }
            let parent = self.repo.find_commit(tip)?;
            let tree = self.apply(&parent, &req.ops, &blobs)?;
            let tree = self.repo.find_tree(tree)?;
            let signature = req.author.signature_now()?;
            let new =
                self.repo
                    .commit(None, &signature, &signature, &message, &tree, &[&parent])?;
            match self
                .repo
                .reference_matching(&refname, new, true, tip, "commit")
            {
                Ok(_) => return Ok(CommitId::from_oid(new)),
                // Moved (Modified), being moved (Locked) or deleted (NotFound) by someone else:
                // look again; a deleted branch then answers RevisionNotFound.
                Err(e)
                    if matches!(e.code(), ErrorCode::Modified | ErrorCode::Locked)
                        || is_not_found(&e) =>
                {
                    back_off(attempt);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(GitError::Busy {
            attempts: MAX_COMMIT_ATTEMPTS,
        })
    }

    fn branch_tip(&self, refname: &str, branch: &str) -> Result<Oid, GitError> {
        let missing = || GitError::RevisionNotFound(branch.to_owned());
        let reference = match self.repo.find_reference(refname) {
            Ok(r) => r,
            Err(e) if is_not_found(&e) => return Err(missing()),
            Err(e) => return Err(e.into()),
        };
        reference.target().ok_or_else(missing)
    }

    /// Parse and check every `Put`'s blob id once, before any attempt.
    fn check_blobs(&self, ops: &[Op]) -> Result<Vec<Option<Oid>>, GitError> {
        let odb = self.repo.odb()?;
        ops.iter()
            .map(|op| match op {
                Op::Put { blob_oid, .. } => {
                    let oid = parse_object_id(blob_oid)?;
                    match odb.read_header(oid) {
                        Ok((_, ObjectType::Blob)) => Ok(Some(oid)),
                        Ok(_) => Err(GitError::BlobNotFound(blob_oid.clone())),
                        Err(e) if is_not_found(&e) => Err(GitError::BlobNotFound(blob_oid.clone())),
                        Err(e) => Err(e.into()),
                    }
                }
                Op::Delete { .. } | Op::DeleteFolder { .. } => Ok(None),
            })
            .collect()
    }

    /// Write the tree that results from applying `ops` to `parent`'s tree.
    fn apply(
        &self,
        parent: &git2::Commit<'_>,
        ops: &[Op],
        blobs: &[Option<Oid>],
    ) -> Result<Oid, GitError> {
        let mut root = DirEdit::new(Some(parent.tree()?));
        for (op, blob) in ops.iter().zip(blobs) {
            match (op, blob) {
                (
                    Op::Put {
                        path, executable, ..
                    },
                    Some(oid),
                ) => root.put(&self.repo, path, *oid, *executable)?,
                (Op::Delete { path }, _) => root.remove(&self.repo, path, Expect::File)?,
                (Op::DeleteFolder { path }, _) => root.remove(&self.repo, path, Expect::Dir)?,
                (Op::Put { blob_oid, .. }, None) => {
                    return Err(GitError::BlobNotFound(blob_oid.clone()));
                }
            }
        }
        root.write_root(&self.repo)
    }
}

/// Title, then a blank line and the description when there is one; a trailing newline, as git
/// writes messages.
fn commit_message(title: &str, description: &str) -> String {
    let title = title.replace(['\r', '\n'], " ");
    let title = title.trim();
    let description = description.trim_end();
    if description.trim_start().is_empty() {
        format!("{title}\n")
    } else {
        format!("{title}\n\n{description}\n")
    }
}

/// Whether `tip` starts with `expected`, a 5–40 hex prefix (either case). Anything that is not
/// such a prefix matches nothing.
fn tip_matches(expected: &str, tip: Oid) -> bool {
    (5..=40).contains(&expected.len())
        && expected.bytes().all(|b| b.is_ascii_hexdigit())
        && tip.to_string().starts_with(&expected.to_ascii_lowercase())
}

/// Sleep a random time that grows with the attempt number (none before the second retry), so
/// writers that collided spread out.
fn back_off(attempt: usize) {
    if attempt < 2 {
        return;
    }
    let ceiling_us = (attempt as u64 * 2000).min(MAX_BACKOFF.as_micros() as u64);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    std::thread::sleep(Duration::from_micros(random % ceiling_us.max(1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(commit_message("Add x", ""), "Add x\n");
        assert_eq!(commit_message("Add x", "  \n"), "Add x\n");
        assert_eq!(
            commit_message(" Add\nx ", "why\n\nmore\n"),
            "Add x\n\nwhy\n\nmore\n"
        );
    }

    #[test]
    fn parent_prefixes() {
        let tip = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert!(tip_matches("01234", tip));
        assert!(tip_matches("0123456789ABCDEF", tip));
        assert!(tip_matches("0123456789abcdef0123456789abcdef01234567", tip));
        assert!(!tip_matches("0123", tip));
        assert!(!tip_matches("12345", tip));
        assert!(!tip_matches("0123g", tip));
        assert!(!tip_matches(
            "0123456789abcdef0123456789abcdef012345678",
            tip
        ));
        assert!(!tip_matches("", tip));
    }
}
