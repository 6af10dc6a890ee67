//! Multipart LFS uploads: parts arrive as separate PUTs on self-authorising URLs and are spooled
//! under `<spool>/multipart/<upload id>/`; the completion streams them, in order, through the blob
//! store's verified put. Each part is written to a temp name and renamed, so a half-written part
//! is never taken for a whole one; its sha256 is its ETag.
//!
//! Parts live on the local disk of the node that received them, so a multi-node deployment must
//! route one upload's URLs to one node (they share a path prefix). Abandoned uploads are left for
//! `grove gc` to remove.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};

/// Part size offered to clients.
pub const CHUNK_SIZE: u64 = 16 * 1024 * 1024;
/// Objects larger than this use multipart when the client offers it.
pub const MULTIPART_THRESHOLD: u64 = 32 * 1024 * 1024;

/// Number of parts of an object of `size` bytes.
pub fn part_count(size: u64, chunk: u64) -> u64 {
    size.div_ceil(chunk).max(1)
}

/// The exact size part `part` (1-based) must have.
pub fn part_size(size: u64, chunk: u64, part: u64) -> u64 {
    let start = (part - 1) * chunk;
    (size - start).min(chunk)
}

/// A fresh upload id (also its directory name, so it must stay path-safe).
pub fn new_upload_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn upload_dir(spool: &Path, upload_id: &str) -> ApiResult<PathBuf> {
    if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest("invalid upload id".into()));
    }
    Ok(spool.join("multipart").join(upload_id))
}

fn part_path(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("{part:06}"))
}

/// Writes one part from `body`, checking its length; returns its ETag (sha256 hex).
pub async fn write_part(
    spool: &Path,
    upload_id: &str,
    part: u32,
    expected_len: u64,
    body: impl Stream<Item = Result<Bytes, String>>,
) -> ApiResult<String> {
    let dir = upload_dir(spool, upload_id)?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let tmp = dir.join(format!("{part:06}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = tokio::fs::File::create(&tmp)
        .await
        .map_err(ApiError::internal)?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let mut body = std::pin::pin!(body);
    let result: ApiResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(ApiError::BadRequest)?;
            written += chunk.len() as u64;
            if written > expected_len {
                return Err(ApiError::BadRequest(format!(
                    "part {part} is larger than its {expected_len} bytes"
                )));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        if written != expected_len {
            return Err(ApiError::BadRequest(format!(
                "part {part} has {written} bytes, expected {expected_len}"
            )));
        }
        file.sync_data().await.map_err(ApiError::internal)?;
        Ok(())
    }
    .await;
    drop(file);
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    let etag = hex::encode(hasher.finalize());
    tokio::fs::write(dir.join(format!("{part:06}.etag")), &etag)
        .await
        .map_err(ApiError::internal)?;
    tokio::fs::rename(&tmp, part_path(&dir, part))
        .await
        .map_err(ApiError::internal)?;
    Ok(etag)
}

/// Checks every part is present with the ETag the client reports, and returns their paths in
/// order.
pub async fn collect_parts(
    spool: &Path,
    upload_id: &str,
    count: u64,
    reported: &[(u32, String)],
) -> ApiResult<Vec<PathBuf>> {
    let dir = upload_dir(spool, upload_id)?;
    if reported.len() as u64 != count {
        return Err(ApiError::BadRequest(format!(
            "the completion lists {} parts; the upload has {count}",
            reported.len()
        )));
    }
    let mut paths = Vec::with_capacity(count as usize);
    for (i, (number, etag)) in reported.iter().enumerate() {
        if *number as usize != i + 1 {
            return Err(ApiError::BadRequest(
                "parts must be listed 1, 2, 3, … in order".into(),
            ));
        }
        let stored = tokio::fs::read_to_string(dir.join(format!("{number:06}.etag")))
            .await
            .map_err(|_| ApiError::BadRequest(format!("part {number} was never uploaded")))?;
        if stored != etag.trim_matches('"') {
            return Err(ApiError::BadRequest(format!(
                "part {number}'s ETag does not match the uploaded part"
            )));
        }
        paths.push(part_path(&dir, *number));
    }
    Ok(paths)
}

/// Removes an upload's spooled parts.
pub async fn discard(spool: &Path, upload_id: &str) {
    if let Ok(dir) = upload_dir(spool, upload_id) {
        let _ = tokio::fs::remove_dir_all(dir).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_object_exactly() {
        assert_eq!(part_count(0, 10), 1);
        assert_eq!(part_count(10, 10), 1);
        assert_eq!(part_count(11, 10), 2);
        assert_eq!(part_size(25, 10, 1), 10);
        assert_eq!(part_size(25, 10, 3), 5);
        let total: u64 = (1..=part_count(25, 10)).map(|p| part_size(25, 10, p)).sum();
        assert_eq!(total, 25);
    }
}
