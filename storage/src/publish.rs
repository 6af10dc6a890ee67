//! Publishing verified content at its content key, create-if-absent.
//!
//! By the time anything here runs, the bytes have been counted and hashed and match the
//! expectation. Publishing must never overwrite an existing blob and must tell whether this call
//! created it (`created = false` is deduplication). Each backend gets the strongest primitive it
//! has:
//!
//! | content | backend | how |
//! |---|---|---|
//! | fits in one part (in memory) | all | `put` with `PutMode::Create` (`If-None-Match: *` on S3, GCS generation 0, Azure `If-None-Match`, local hard link) |
//! | staged | local, memory, GCS, Azure, HTTP | `copy_if_not_exists` from staging (local: a hard link, then fsync of the directory) |
//! | staged, ≤ copy limit | S3 | `HEAD` (dedup fast path), then `copy_if_not_exists` in `multipart` mode: `UploadPartCopy` of the staging object, completed with `If-None-Match: *` |
//! | staged, > copy limit | S3 | `HEAD`, then stream the staging object into a new multipart upload at the content key, hashing again |
//!
//! Where a backend answers "not implemented" for the conditional operation (a WebDAV server, an
//! S3-compatible server configured with `conditional_put=disabled`), the fallback is
//! head-then-write. That is safe for content-addressed data: two racing writers write identical,
//! verified bytes, so the only cost of losing the race is that both report `created = true`.
//! The same holds for the S3 path above the copy limit, where S3 offers no conditional
//! completion that `object_store` exposes.

use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutPayload};

use crate::error::StoreError;
use crate::keys;
use crate::oid::Oid;
use crate::store::{Backend, BlobStore};
use crate::upload::{PartWriter, Written};

impl BlobStore {
    /// Publishes verified bytes held in memory. Returns whether this call created the blob.
    pub(crate) async fn publish_bytes(
        &self,
        oid: &Oid,
        payload: PutPayload,
    ) -> Result<bool, StoreError> {
        self.put_if_absent(&keys::blob_key(oid), payload).await
    }

    /// Writes a content-addressed object unless it exists. Returns whether this call created it.
    pub(crate) async fn put_if_absent(
        &self,
        key: &Path,
        payload: PutPayload,
    ) -> Result<bool, StoreError> {
        match self
            .inner
            .put_opts(key, payload.clone(), PutMode::Create.into())
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) if unsupported(&e) => {
                if self.key_exists(key).await? {
                    return Ok(false);
                }
                self.inner
                    .put(key, payload)
                    .await
                    .map_err(StoreError::Backend)?;
                Ok(true)
            }
            Err(e) => Err(StoreError::Backend(e)),
        }
    }

    /// Publishes a verified staging object. Returns whether this call created the blob.
    /// The staging object is left in place; the caller removes it.
    pub(crate) async fn publish_staged(
        &self,
        staging: &Path,
        oid: &Oid,
        size: u64,
    ) -> Result<bool, StoreError> {
        let key = keys::blob_key(oid);
        if *self.backend() == Backend::S3 {
            if self.key_exists(&key).await? {
                return Ok(false);
            }
            if size > self.s3_copy_limit {
                self.rewrite(staging, &key, oid).await?;
                return Ok(true);
            }
        }
        self.copy_if_absent(staging, &key).await
    }

    /// Publishes a verified staging object of at most the S3 copy limit at `key`. Returns
    /// whether this call created it. The staging object is left in place.
    pub(crate) async fn publish_staged_at(
        &self,
        staging: &Path,
        key: &Path,
    ) -> Result<bool, StoreError> {
        if *self.backend() == Backend::S3 && self.key_exists(key).await? {
            return Ok(false);
        }
        self.copy_if_absent(staging, key).await
    }

    async fn copy_if_absent(&self, staging: &Path, key: &Path) -> Result<bool, StoreError> {
        match self.inner.copy_if_not_exists(staging, key).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) if unsupported(&e) => {
                if self.key_exists(key).await? {
                    return Ok(false);
                }
                self.inner
                    .copy(staging, key)
                    .await
                    .map_err(StoreError::Backend)?;
                Ok(true)
            }
            Err(e) => Err(StoreError::Backend(e)),
        }
    }

    /// Copies `staging` to `key` by streaming it through a new multipart upload, hashing it
    /// again on the way; the upload is only completed if the bytes read back are the verified
    /// ones, so nothing unverified becomes visible.
    async fn rewrite(&self, staging: &Path, key: &Path, oid: &Oid) -> Result<(), StoreError> {
        let source = self.inner.get(staging).await.map_err(StoreError::Backend)?;
        let mut stream = source.into_stream();
        let mut writer = PartWriter::new(self.inner.clone(), key.clone());
        while let Some(chunk) = stream.next().await {
            let step = match chunk {
                Ok(bytes) => writer.write(bytes).await,
                Err(e) => Err(StoreError::Backend(e)),
            };
            if let Err(e) = step {
                writer.abort().await;
                return Err(e);
            }
        }
        let expected = oid.clone();
        let finished = writer
            .finish(|actual, _| {
                if *actual == expected {
                    Ok(())
                } else {
                    // Only possible if the backend returned other bytes than were staged.
                    Err(StoreError::HashMismatch {
                        expected: expected.clone(),
                        actual: actual.clone(),
                    })
                }
            })
            .await?;
        match finished.written {
            Written::Stored => Ok(()),
            Written::InMemory(payload) => self
                .inner
                .put(key, payload)
                .await
                .map(drop)
                .map_err(StoreError::Backend),
        }
    }

    async fn key_exists(&self, key: &Path) -> Result<bool, StoreError> {
        match self.inner.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(StoreError::Backend(e)),
        }
    }
}

/// The backend does not offer the conditional operation.
fn unsupported(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. }
    )
}
