#![doc = include_str!("../README.md")]

pub mod builtin;
pub mod metrics;
pub mod model_config;
pub mod protocol;
pub mod pyrandom;
pub mod requests;
pub mod spec;
pub mod template;
pub mod tiny;

#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod worker;

/// Recorded with every result: results from different runner versions are never compared as
/// reproductions of each other.
pub const RUNNER_VERSION: &str = concat!(
    "grove-eval-runner/",
    env!("CARGO_PKG_VERSION"),
    "+harness-0.4.9.2"
);
