//! The [`BlobStore`] handle and its small queries: `exists`, `size`, `check`.
//!
//! A `BlobStore` is a cheap-to-clone handle over one `object_store` backend plus what the store
//! needs to know about that backend (which publish strategy works there, where a local root is).
//! Uploads live in `put.rs`/`publish.rs`, downloads in `get.rs`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::StoreError;
use crate::keys;
use crate::oid::Oid;

/// S3 copies at most 5 GiB in one `CopyObject`/`UploadPartCopy` request.
pub const S3_MAX_COPY_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// How long [`BlobStore::check`] waits for an answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Which kind of backend a store runs on; it decides the publish strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// A directory on this machine.
    Local {
        /// The canonical root directory.
        root: PathBuf,
    },
    /// In-process memory.
    Memory,
    /// Amazon S3 or an S3-compatible server.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage.
    Azure,
    /// A WebDAV-style HTTP server.
    Http,
}

/// A content-addressed blob store. Clones share one backend.
#[derive(Clone)]
pub struct BlobStore {
    pub(crate) inner: Arc<dyn ObjectStore>,
    backend: Backend,
    description: String,
    pub(crate) s3_copy_limit: u64,
}

impl BlobStore {
    pub(crate) fn new(
        inner: Arc<dyn ObjectStore>,
        backend: Backend,
        description: String,
    ) -> BlobStore {
        BlobStore {
            inner,
            backend,
            description,
            s3_copy_limit: S3_MAX_COPY_SIZE,
        }
    }

    /// The kind of backend this store runs on.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Sets the largest blob that S3 publishes by a server-side copy (default and maximum:
    /// 5 GiB, S3's single-copy limit). Larger blobs are published by streaming the verified
    /// staging object into a new upload at the content key. Tests lower it to exercise that path.
    pub fn with_s3_copy_limit(mut self, bytes: u64) -> BlobStore {
        self.s3_copy_limit = bytes.min(S3_MAX_COPY_SIZE);
        self
    }

    /// Whether the blob is published.
    pub async fn exists(&self, oid: &Oid) -> Result<bool, StoreError> {
        Ok(self.size(oid).await?.is_some())
    }

    /// The size of a published blob, or `None` when it is absent. Content verified through Xet
    /// counts as published (see [`BlobStore::get`]).
    pub async fn size(&self, oid: &Oid) -> Result<Option<u64>, StoreError> {
        match self.inner.head(&keys::blob_key(oid)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => {
                Ok(self.xet_file_by_sha256(oid).await?.map(|m| m.size))
            }
            Err(e) => Err(StoreError::Backend(e)),
        }
    }

    /// Reachability probe for `/readyz`, bounded by [`CHECK_TIMEOUT`].
    ///
    /// A local store checks that its root is a directory. A remote store lists a probe prefix
    /// that is always empty: an empty answer means the bucket exists and the credentials work,
    /// while a missing bucket, bad credentials or a refused connection is an error. (A `HEAD` on
    /// a probe key cannot tell these apart on S3: it answers 404 without a body both for a
    /// missing key and for a missing bucket.)
    pub async fn check(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(CHECK_TIMEOUT, self.probe()).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout(CHECK_TIMEOUT)),
        }
    }

    async fn probe(&self) -> Result<(), StoreError> {
        if let Backend::Local { root } = &self.backend {
            let meta = tokio::fs::metadata(root)
                .await
                .map_err(|source| StoreError::Local {
                    path: root.clone(),
                    source,
                })?;
            if !meta.is_dir() {
                return Err(StoreError::Local {
                    path: root.clone(),
                    source: std::io::Error::other("blob store root is not a directory"),
                });
            }
            return Ok(());
        }
        self.inner
            .list_with_delimiter(Some(&keys::probe_prefix()))
            .await
            .map(|_| ())
            .map_err(StoreError::Backend)
    }
}

impl fmt::Display for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("url", &self.description)
            .field("backend", &self.backend)
            .finish()
    }
}
