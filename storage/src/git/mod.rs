#![doc = include_str!("README.md")]

mod blob;
mod commit;
mod durable;
mod edit;
mod error;
mod history;
mod ids;
mod key;
mod lfs;
mod locks;
mod path;
mod reachable;
mod repo;
mod revs;
mod store;
mod tree;

pub use blob::{git_blob_id, git_blob_id_of_file};
pub use commit::{CommitRequest, MAX_COMMIT_ATTEMPTS, Op};
pub use error::GitError;
pub use history::{CommitInfo, LAST_COMMIT_WALK_LIMIT};
pub use ids::{Author, CommitId, GIT_OID_HEX_LEN};
pub use lfs::{LfsPointer, MAX_POINTER_SIZE};
pub use path::{MAX_PATH_BYTES, MAX_SEGMENT_BYTES, RepoPath};
pub use repo::GitRepo;
pub use revs::{MAX_REF_NAME_BYTES, Refs, Resolved, RevKind};
pub use store::{DEFAULT_BRANCH, DEFAULT_GITATTRIBUTES, GitStore, INITIAL_COMMIT_TITLE};
pub use tree::{Entry, EntryKind};
