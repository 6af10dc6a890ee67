//! Request handlers, one file per resource, named `verb_resource`.

pub mod account_handlers;
pub mod cas_handlers;
pub mod commit_handlers;
pub mod download_handlers;
pub mod eval_handlers;
pub mod eval_worker_handlers;
pub mod info_handlers;
pub mod lfs_handlers;
pub mod lineage_handlers;
pub mod list_handlers;
pub mod ops;
pub mod org_handlers;
pub mod repo_handlers;
pub mod token_handlers;
pub mod tree_handlers;
pub mod xet_handlers;
