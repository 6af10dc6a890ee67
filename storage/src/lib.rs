#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod error;
mod expect;
mod gc;
mod get;
pub mod git;
pub mod keys;
mod oid;
mod open;
mod publish;
mod put;
mod range;
mod staged;
mod store;
mod upload;
pub mod xet;

pub use error::StoreError;
pub use expect::{Expect, PutOutcome};
pub use gc::GcReport;
pub use get::{BlobRead, READ_CHUNK};
pub use oid::{OID_HEX_LEN, Oid};
pub use range::ByteRange;
pub use store::{Backend, BlobStore, CHECK_TIMEOUT, S3_MAX_COPY_SIZE};
pub use upload::{MAX_PARTS_IN_FLIGHT, PART_SIZE};
