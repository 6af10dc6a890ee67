//! The one error type of the git repo store.
//!
//! The variants keep "the caller asked for something wrong or missing" (a 4xx at the HTTP edge)
//! apart from "git or the disk is unwell" (a 5xx); [`GitError::is_client_error`] says which.

use super::ids::CommitId;

/// Everything that can go wrong in the git repo store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// A file path that is not in the canonical form (see [`RepoPath`](super::RepoPath)).
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A repo key that is not `<lowercase letters>/<decimal id>`.
    #[error("invalid repo key {0:?}: expected <kind>/<id>, e.g. models/42")]
    InvalidKey(String),

    /// A string that is not a 40-hex commit id.
    #[error("invalid commit id {0:?}: expected 40 hex digits")]
    InvalidCommitId(String),

    /// A git object id (blob id) that is not 40 hex digits.
    #[error("invalid object id {0:?}: expected 40 hex digits")]
    InvalidObjectId(String),

    /// A branch or tag name that git (or Grove) does not accept.
    #[error("invalid ref name {0:?}")]
    InvalidRefName(String),

    /// An author name or email that git cannot put in a signature (e.g. it contains `<` or `>`).
    #[error("invalid author: {0}")]
    InvalidAuthor(String),

    /// A path to delete that is not in the tree (HF: `EntryNotFound`).
    #[error("path not found: {0}")]
    PathNotFound(String),

    /// The commit would make a path both a file and a directory, or put two paths in one tree
    /// that differ only by case or Unicode normalisation.
    #[error("path conflict at {path:?}: {reason}")]
    PathConflict {
        /// The path of the operation that was refused.
        path: String,
        /// What it collides with.
        reason: String,
    },

    /// The branch tip is not the expected parent (HTTP 412). Nothing was changed.
    #[error("a commit has happened since: the branch tip is {tip}")]
    StaleParent {
        /// The branch tip at the time of the check.
        tip: CommitId,
    },

    /// The branch, tag or commit does not exist (HF: `RevisionNotFound`).
    #[error("revision not found: {0}")]
    RevisionNotFound(String),

    /// A branch or tag with that name (or a name that clashes with it, e.g. `a` vs `a/b`) exists.
    #[error("ref already exists: {0}")]
    RefExists(String),

    /// A repo with that key exists already.
    #[error("repo already exists: {0}")]
    RepoExists(String),

    /// The operation is not allowed (e.g. deleting the default branch).
    #[error("refused: {0}")]
    Refused(String),

    /// A blob named in a commit operation is not in the repo's object database.
    #[error("blob not found: {0}")]
    BlobNotFound(String),

    /// The repo, or an object asked for by id, does not exist.
    #[error("not found")]
    NotFound,

    /// The branch moved under every one of our compare-and-swap attempts (or its lock stayed
    /// taken); nothing was changed and the caller may retry later (HTTP 503).
    #[error("the branch is busy: gave up after {attempts} compare-and-swap attempts")]
    Busy {
        /// How many attempts were made.
        attempts: usize,
    },

    /// libgit2 reported an error we do not map to a more precise variant.
    #[error("git: {0}")]
    Git(#[from] git2::Error),

    /// A filesystem error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl GitError {
    /// Whether the error is the caller's doing (4xx) rather than the server's (5xx).
    /// [`GitError::Busy`] counts as a server condition (503).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Git(_) | Self::Io(_) | Self::Busy { .. })
    }

    pub(crate) fn conflict(path: &str, reason: impl Into<String>) -> Self {
        Self::PathConflict {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Whether a libgit2 error means "the thing looked up does not exist".
pub(crate) fn is_not_found(e: &git2::Error) -> bool {
    e.code() == git2::ErrorCode::NotFound
}
