//! The answer to a global deduplication query: a shard describing the xorbs of the file a chunk
//! belongs to.
//!
//! The client asks about a few of its chunks (those whose hash is divisible by 1024, and the
//! first chunk of each file). If Grove already has one, it answers with a shard whose xorb
//! section lists the chunks of that file's xorbs, and the client then references those chunks
//! instead of uploading them again. The shard is built from Grove's own verified index, never from what an
//! uploader claimed.

use std::sync::Arc;

use xet_core_structures::metadata_shard::constants::hash_is_global_dedup_eligible;
use xet_core_structures::metadata_shard::shard_in_memory::MDBInMemoryShard;
use xet_core_structures::metadata_shard::xorb_structs::{
    MDBXorbInfo, XorbChunkSequenceEntry, XorbChunkSequenceHeader,
};

use super::xorb::XorbIndex;
use crate::error::StoreError;

/// A shard (with footer, no file section) describing the xorbs of `indexes`.
pub fn dedup_shard(indexes: &[XorbIndex]) -> Result<Vec<u8>, StoreError> {
    let mut shard = MDBInMemoryShard::default();
    for index in indexes {
        shard
            .add_xorb_block(Arc::new(xorb_info(index)))
            .map_err(|e| StoreError::Corrupt(format!("cannot build a dedup shard: {e}")))?;
    }
    shard
        .to_bytes()
        .map_err(|e| StoreError::Corrupt(format!("cannot build a dedup shard: {e}")))
}

fn xorb_info(index: &XorbIndex) -> MDBXorbInfo {
    let unpacked: u64 = index.unpacked_len(0, index.chunks.len() as u32);
    let mut metadata = XorbChunkSequenceHeader::new(
        index.hash,
        index.chunks.len() as u32,
        u32::try_from(unpacked).unwrap_or(u32::MAX),
    );
    metadata.num_bytes_on_disk = index.stored_len;
    let chunks = index
        .chunks
        .iter()
        .map(|c| {
            XorbChunkSequenceEntry::new(c.hash, c.unpacked_len, c.byte_start)
                .with_global_dedup_flag(hash_is_global_dedup_eligible(&c.hash))
        })
        .collect();
    MDBXorbInfo { metadata, chunks }
}
