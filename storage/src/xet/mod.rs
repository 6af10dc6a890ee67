//! Xet content-addressed storage: xorbs, their chunk indexes, and verified file reconstructions.
//!
//! The stock Hugging Face client uploads large files through the Xet protocol: it cuts each file
//! into content-defined chunks (about 64 KiB), packs new chunks into *xorbs* (up to 64 MiB of
//! compressed chunks, named by a merkle hash of their chunk hashes), uploads those, and then
//! uploads a *shard* that says which chunk ranges of which xorbs make up each file. This module
//! keeps that content in the blob store, beside the sha256-addressed blobs:
//!
//! | key | what |
//! |---|---|
//! | `xet/xorbs/<hash>` | a xorb's chunk area, exactly as uploaded (after it was validated) |
//! | `xet/xorb-index/<hash>` | its chunk index (hash, byte offset, unpacked length per chunk), written *after* the xorb: a xorb exists for Grove once its index does |
//! | `xet/files/<file hash>` | a file's reconstruction (terms, size, sha256), written only after the file was rebuilt from its xorbs and its sha256 checked |
//! | `xet/sha256/<2>/<2>/<sha256>` | the file hash of a verified file with that sha256 |
//! | `xet/dedup/<chunk hash>` | the verified file a chunk the client may ask about belongs to (global deduplication) |
//!
//! Every object is content-addressed and written create-if-absent, so the same chunk uploaded
//! from two repos is stored once, and nothing here is ever overwritten. The formats and hashes
//! (chunk hash, xorb merkle hash, file hash, verification range hash, LZ4 and byte-grouped
//! compression, the shard layout) come from the `xet-core-structures` crate, the reference
//! implementation's own.

mod dedup;
mod hash;
mod manifest;
mod reconstruct;
mod shard;
mod store;
mod xorb;

pub use dedup::dedup_shard;
pub use hash::{XetHash, parse_xet_hash};
pub use manifest::{FileManifest, Term};
pub use shard::{MAX_SHARD_BYTES, ShardFile, ShardTerm, parse_shard};
pub use xorb::{ChunkEntry, MAX_XORB_BYTES, XorbIndex, XorbValidator};
