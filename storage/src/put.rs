//! Uploading: stream → staging → verify → publish, as one call.
//!
//! 1. Refuse at once an upload whose announced size breaks the cap.
//! 2. Stream the body into a multipart upload at `staging/<uuid>` (see `upload.rs`), counting
//!    bytes and stopping at the first byte past the expected size or the cap.
//! 3. Compare the computed sha256 and size with the expectation *before* completing the staging
//!    upload: a mismatch aborts it, so refused content never even becomes a staging object.
//! 4. Publish at `lfs/…` with create-if-absent (see `publish.rs`), then remove the staging
//!    object.
//!
//! Content that ends before the first part is full skips staging: it is verified in memory and
//! published with one conditional put.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::error::StoreError;
use crate::expect::{Expect, PutOutcome};
use crate::keys;
use crate::staged::StagedObject;
use crate::store::BlobStore;
use crate::upload::{Finished, PartWriter, Written};

impl BlobStore {
    /// Stores a stream of bytes under its sha256, verifying it against `expect`.
    ///
    /// Returns `created = false` when identical content was already published. Errors:
    /// [`StoreError::TooLarge`], [`StoreError::SizeMismatch`], [`StoreError::HashMismatch`] (in
    /// each case nothing is published and no staging object remains), [`StoreError::Body`] when
    /// the stream fails, [`StoreError::Backend`] when the store does.
    pub async fn put_stream<S>(&self, stream: S, expect: Expect) -> Result<PutOutcome, StoreError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send,
    {
        expect.check_announced()?;
        let staging = keys::new_staging_key();
        let mut writer = PartWriter::new(Arc::clone(&self.inner), staging.clone());
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            let step = match item {
                Ok(bytes) => match expect.check_running(writer.len() + bytes.len() as u64) {
                    Ok(()) => writer.write(bytes).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(StoreError::Body(e)),
            };
            if let Err(e) = step {
                writer.abort().await;
                return Err(e);
            }
        }

        let Finished { oid, size, written } =
            writer.finish(|oid, size| expect.verify(oid, size)).await?;
        let created = match written {
            Written::InMemory(payload) => self.publish_bytes(&oid, payload).await?,
            Written::Stored => {
                let staged = StagedObject::new(Arc::clone(&self.inner), staging);
                let published = self.publish_staged(staged.key(), &oid, size).await;
                staged.remove().await;
                published?
            }
        };
        tracing::debug!(%oid, size, created, "blob stored");
        Ok(PutOutcome { oid, size, created })
    }
}
