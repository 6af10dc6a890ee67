//! Reading an uploaded shard's file section.
//!
//! The client's shard lists, for each file it uploaded, the file's Xet hash, its terms, one
//! verification hash per term (proof that the uploader knew the chunk hashes it points at), and
//! the file's sha256. The shard's xorb section repeats what the client believes about its xorbs;
//! Grove has its own, verified, index of each xorb and ignores it.

use std::io::Cursor;

use xet_core_structures::metadata_shard::streaming_shard::MDBMinimalShard;

use super::hash::XetHash;
use crate::error::StoreError;
use crate::oid::Oid;

/// One term of a file as the shard states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardTerm {
    /// The xorb holding the chunks.
    pub xorb: XetHash,
    /// First chunk.
    pub start: u32,
    /// One past the last chunk.
    pub end: u32,
    /// Unpacked bytes the shard claims for the range.
    pub unpacked: u32,
    /// The verification hash of the chunk range, when the shard carries one.
    pub verification: Option<XetHash>,
}

/// One file of an uploaded shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFile {
    /// The file's Xet hash as claimed.
    pub file_hash: XetHash,
    /// The sha256 the client claims for the content.
    pub sha256: Oid,
    /// Its terms.
    pub terms: Vec<ShardTerm>,
}

/// The largest shard accepted (the protocol's limit).
pub const MAX_SHARD_BYTES: usize = 64 * 1024 * 1024;

/// Parses the file section of an uploaded shard. Files without a sha256 are refused: Grove's
/// commits name large files by sha256, so a file it cannot map to one is of no use.
pub fn parse_shard(bytes: &[u8]) -> Result<Vec<ShardFile>, StoreError> {
    if bytes.len() > MAX_SHARD_BYTES {
        return Err(StoreError::TooLarge {
            limit: MAX_SHARD_BYTES as u64,
        });
    }
    let shard = MDBMinimalShard::from_reader(&mut Cursor::new(bytes), true, false)
        .map_err(|e| StoreError::InvalidXet(format!("the shard cannot be read: {e}")))?;
    let mut files = Vec::with_capacity(shard.num_files());
    for i in 0..shard.num_files() {
        let view = shard.file(i).expect("index below num_files");
        let file_hash = view.file_hash();
        let Some(ext) = view.metadata_ext() else {
            return Err(StoreError::InvalidXet(format!(
                "file {} in the shard has no sha256",
                file_hash.hex()
            )));
        };
        let sha256 = Oid::parse(&ext.sha256.hex())?;
        let terms = (0..view.num_entries())
            .map(|j| {
                let entry = view.entry(j);
                ShardTerm {
                    xorb: entry.xorb_hash,
                    start: entry.chunk_index_start,
                    end: entry.chunk_index_end,
                    unpacked: entry.unpacked_segment_bytes,
                    verification: view
                        .contains_verification()
                        .then(|| view.verification(j).range_hash),
                }
            })
            .collect();
        files.push(ShardFile {
            file_hash,
            sha256,
            terms,
        });
    }
    Ok(files)
}
