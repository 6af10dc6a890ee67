//! The HTTP edge: state, routing, authentication extraction, metrics, and the handlers.
//! Handlers are thin: they validate input into types, check the caller, and call into
//! `accounts` (or later `repos`) on the blocking pool.

pub mod auth;
pub mod errors;
pub mod forms;
mod handlers;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod pagination;
pub mod payload;
pub mod query;
pub mod repo_lookup;
pub mod routes;
pub mod state;
pub mod write_epoch;

pub use state::AppState;
