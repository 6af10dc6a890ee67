//! Reading an uploaded shard's file section.
//!
//! The client's shard lists, for each file it uploaded, the file's Xet hash, its terms, one
//! verification hash per term (proof that the uploader knew the chunk hashes it points at), and
//! the file's sha256. The shard's xorb section repeats what the client believes about its xorbs;
//! Grove has its own, verified, index of each xorb and ignores it.

use std::io::Cursor;

use xet_core_structures::metadata_shard::MDBShardFileHeader;
use xet_core_structures::metadata_shard::file_structs::MDBFileInfoView;
use xet_core_structures::metadata_shard::streaming_shard::process_shard_file_info_section;

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
    /// The verification hash of the chunk range: proof that the uploader knew every chunk
    /// hash of the range, not just the xorb's name.
    pub verification: XetHash,
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
    let unreadable = |e: &dyn std::fmt::Display| {
        StoreError::InvalidXet(format!("the shard cannot be read: {e}"))
    };
    let mut reader = Cursor::new(bytes);
    MDBShardFileHeader::deserialize(&mut reader).map_err(|e| unreadable(&e))?;
    // The size limit makes the reader refuse a record whose entry count claims more bytes than
    // the shard has, before it allocates for it.
    let mut views: Vec<MDBFileInfoView> = Vec::new();
    process_shard_file_info_section(
        &mut reader,
        |view| {
            views.push(view);
            Ok(())
        },
        Some(bytes.len() as u64),
    )
    .map_err(|e| unreadable(&e))?;
    let mut files = Vec::with_capacity(views.len());
    for view in &views {
        let file_hash = view.file_hash();
        if !view.contains_verification() {
            return Err(StoreError::InvalidXet(format!(
                "file {} in the shard has no verification hashes",
                file_hash.hex()
            )));
        }
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
                    verification: view.verification(j).range_hash,
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
