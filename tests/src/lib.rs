//! Black-box tests for Grove: start the real `grove` binary and drive it over HTTP and its CLI.
//!
//! ```no_run
//! use grove_tests::TestHub;
//! let hub = TestHub::start();
//! let alice = hub.user("alice");
//! let token = hub.token("alice", "write");
//! let me = hub.whoami(&token);
//! assert_eq!(me["name"], "alice");
//! # let _ = alice;
//! ```
//!
//! Every test starts its own hub (fresh temporary data dir, fresh database), so tests run in
//! parallel and never depend on order. The database comes from the environment: see
//! [`database`](crate::database) for `GROVE_TEST_DATABASE`, `GROVE_TEST_POSTGRES_URL`,
//! `GROVE_TEST_S3_ENDPOINT`, `GROVE_TEST_S3_BUCKET` and `GROVE_TEST_REQUIRE_SERVICES`.

pub mod bench;
pub mod checks;
pub mod database;
pub mod http;
pub mod hub;
pub mod jwt;
pub mod metrics;

pub use database::Backend;
pub use http::{Resp, SetCookie};
pub use hub::{Cli, CliOutput, HubBuilder, Sibling, TestHub, TestUser, grove_binary};
pub use reqwest::Method;
pub use serde_json::{Value, json};
