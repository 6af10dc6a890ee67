//! Accounts: users and organisations, memberships, API tokens, web sessions, and the audit log.
//!
//! Everything here is synchronous database and crypto code; HTTP handlers call it through
//! `Db::run` (or `web::block` for password hashing) so it never runs on the async executor.

pub mod access;
pub mod audit;
pub mod model;
pub mod orgs;
pub mod password;
pub mod principal;
pub mod sessions;
pub mod tokens;
pub mod users;

pub use access::Access;
pub use model::{Account, AccountKind};
pub use principal::{Credential, Principal};
