//! Lineage in the hub: the database side of the model DAG. The pure logic (formats, declared
//! lineage, verification, diffs) lives in the `grove-lineage` crate; this module stores
//! manifests and edges, keeps the closure and counts, runs the background scanner and
//! answers queries with visibility applied.

pub mod closure;
pub mod edges;
pub mod manifests;
pub mod queries;
pub mod scanner;
pub mod scans;
pub mod suggest;
