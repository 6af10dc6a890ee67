//! The eval worker: the hub's worker API client and the claim–score–publish loop.

pub mod client;
pub mod run;
