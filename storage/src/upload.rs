//! Streams bytes into a multipart upload with bounded memory, hashing them on the way.
//!
//! [`PartWriter`] cuts the incoming chunks into parts of exactly [`PART_SIZE`] bytes (the last
//! part may be shorter; some S3-compatible stores require equal-sized parts), keeps at most
//! [`MAX_PARTS_IN_FLIGHT`] part uploads running while it fills the next one, and feeds every byte
//! to sha256 in order. Memory per upload is therefore bounded by about
//! `(1 + MAX_PARTS_IN_FLIGHT) * PART_SIZE` plus one incoming chunk, whatever the object's size.
//!
//! The multipart upload starts lazily, when the first part is full: content that ends before
//! that never touches the store here, and the caller can publish it with a single conditional
//! put (one request instead of a staging round trip; most files in a model repo are small).
//!
//! Hashing a full part (8 MiB, a few milliseconds) runs on the blocking pool, overlapping with
//! the part's upload, so the async executor never hashes large buffers itself.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::error::StoreError;
use crate::oid::Oid;

/// Size of every part but the last.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Part uploads running at once per upload.
pub const MAX_PARTS_IN_FLIGHT: usize = 2;
/// Payloads at most this large are hashed inline; larger ones on the blocking pool.
const INLINE_HASH_MAX: usize = 64 * 1024;

/// Where the written bytes ended up.
pub(crate) enum Written {
    /// Everything fit in the first part: nothing was written to the store.
    InMemory(PutPayload),
    /// The bytes were uploaded to the writer's key (the upload is complete).
    Stored,
}

/// What a finished writer reports; its bytes passed the `verify` given to `finish`.
pub(crate) struct Finished {
    pub(crate) oid: Oid,
    pub(crate) size: u64,
    pub(crate) written: Written,
}

/// Buffers, uploads and hashes one object's bytes.
pub(crate) struct PartWriter {
    store: Arc<dyn ObjectStore>,
    key: Path,
    upload: Option<Box<dyn MultipartUpload>>,
    part: Vec<Bytes>,
    part_len: usize,
    in_flight: JoinSet<object_store::Result<()>>,
    /// `None` only while a part is being hashed on the blocking pool.
    hasher: Option<Sha256>,
    len: u64,
}

impl PartWriter {
    /// A writer that will upload to `key` once it has a full part.
    pub(crate) fn new(store: Arc<dyn ObjectStore>, key: Path) -> PartWriter {
        PartWriter {
            store,
            key,
            upload: None,
            part: Vec::new(),
            part_len: 0,
            in_flight: JoinSet::new(),
            hasher: Some(Sha256::new()),
            len: 0,
        }
    }

    /// Bytes accepted so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Accepts a chunk; uploads every part it completes.
    pub(crate) async fn write(&mut self, mut bytes: Bytes) -> Result<(), StoreError> {
        self.len += bytes.len() as u64;
        while !bytes.is_empty() {
            let take = (PART_SIZE - self.part_len).min(bytes.len());
            self.part.push(bytes.split_to(take));
            self.part_len += take;
            if self.part_len == PART_SIZE {
                self.flush_part().await?;
            }
        }
        Ok(())
    }

    /// Ends the object: uploads the last part, runs `verify` on the computed oid and size, and
    /// only then completes the upload (or hands the bytes back when they never filled a part).
    /// Bytes that fail `verify` are therefore never completed into an object. On any error the
    /// upload is aborted before returning.
    pub(crate) async fn finish(
        mut self,
        verify: impl FnOnce(&Oid, u64) -> Result<(), StoreError>,
    ) -> Result<Finished, StoreError> {
        match self.finish_inner(verify).await {
            Ok(finished) => Ok(finished),
            Err(e) => {
                self.abort().await;
                Err(e)
            }
        }
    }

    async fn finish_inner(
        &mut self,
        verify: impl FnOnce(&Oid, u64) -> Result<(), StoreError>,
    ) -> Result<Finished, StoreError> {
        if self.upload.is_none() {
            let payload = self.take_part();
            self.hash(payload.clone()).await?;
            let oid = self.digest();
            verify(&oid, self.len)?;
            return Ok(Finished {
                oid,
                size: self.len,
                written: Written::InMemory(payload),
            });
        }
        if self.part_len > 0 {
            self.flush_part().await?;
        }
        let oid = self.digest();
        verify(&oid, self.len)?;
        while !self.in_flight.is_empty() {
            self.join_one().await?;
        }
        let upload = self.upload.as_mut().expect("upload was started");
        upload.complete().await.map_err(StoreError::Backend)?;
        self.upload = None;
        Ok(Finished {
            oid,
            size: self.len,
            written: Written::Stored,
        })
    }

    /// Stops everything and removes what was uploaded so far (awaited).
    pub(crate) async fn abort(&mut self) {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        if let Some(mut upload) = self.upload.take()
            && let Err(error) = upload.abort().await
        {
            tracing::warn!(key = %self.key, %error, "could not abort multipart upload");
        }
    }

    fn take_part(&mut self) -> PutPayload {
        self.part_len = 0;
        std::mem::take(&mut self.part).into_iter().collect()
    }

    async fn flush_part(&mut self) -> Result<(), StoreError> {
        let payload = self.take_part();
        if self.upload.is_none() {
            let upload = self
                .store
                .put_multipart(&self.key)
                .await
                .map_err(StoreError::Backend)?;
            self.upload = Some(upload);
        }
        while self.in_flight.len() >= MAX_PARTS_IN_FLIGHT {
            self.join_one().await?;
        }
        let upload = self.upload.as_mut().expect("upload was started");
        self.in_flight.spawn(upload.put_part(payload.clone()));
        self.hash(payload).await
    }

    async fn join_one(&mut self) -> Result<(), StoreError> {
        match self.in_flight.join_next().await {
            None => Ok(()),
            Some(Ok(result)) => result.map_err(StoreError::Backend),
            Some(Err(join)) => Err(join_error(join)),
        }
    }

    async fn hash(&mut self, payload: PutPayload) -> Result<(), StoreError> {
        let mut hasher = self.hasher.take().expect("hasher is present between parts");
        if payload.content_length() <= INLINE_HASH_MAX {
            payload.iter().for_each(|b| hasher.update(b));
        } else {
            hasher = tokio::task::spawn_blocking(move || {
                payload.iter().for_each(|b| hasher.update(b));
                hasher
            })
            .await
            .map_err(join_error)?;
        }
        self.hasher = Some(hasher);
        Ok(())
    }

    fn digest(&mut self) -> Oid {
        let hasher = self.hasher.take().expect("hasher is present");
        Oid::from_digest(hasher.finalize().into())
    }
}

impl Drop for PartWriter {
    /// The upload future was dropped midway: abort the multipart upload in the background.
    fn drop(&mut self) {
        let Some(mut upload) = self.upload.take() else {
            return;
        };
        self.in_flight.abort_all();
        let key = self.key.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(error) = upload.abort().await {
                        tracing::warn!(%key, %error, "could not abort multipart upload");
                    }
                });
            }
            Err(_) => tracing::warn!(%key, "multipart upload left behind (no runtime)"),
        }
    }
}

/// A panicked task re-panics here; a cancelled one (runtime shutting down) is an error.
pub(crate) fn join_error(join: tokio::task::JoinError) -> StoreError {
    if join.is_panic() {
        std::panic::resume_unwind(join.into_panic());
    }
    StoreError::Backend(object_store::Error::from(join))
}
