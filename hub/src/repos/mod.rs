//! Repos: model and dataset repositories. The database row holds ownership, visibility and
//! listing metadata; the files and history live in a bare git repository (`grove_storage::git`)
//! named by the row's id; large file contents live in the blob store behind LFS pointers.

pub mod access;
pub mod commit_body;
pub mod files;
pub mod hs256;
pub mod kind;
pub mod lfs_objects;
pub mod lfs_rules;
pub mod model;
pub mod multipart;
pub mod ndjson;
pub mod reachable;
pub mod service;
pub mod spool;
pub mod upload_grants;
pub mod xet_tokens;

pub use access::RepoAction;
pub use kind::RepoKind;
pub use model::Repo;
