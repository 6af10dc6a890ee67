//! The one error type of the blob store.
//!
//! Callers (the HTTP layer) need to tell "the client sent something wrong" (4xx: bad oid, bad
//! range, content that does not match its claimed hash or size, too large) from "the store is
//! unwell" (5xx), so the variants keep those apart and [`StoreError::is_client_error`] says which
//! is which.

use crate::oid::Oid;

/// Everything that can go wrong in the blob store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A string that is not 64 lowercase hex digits was offered as an oid.
    #[error("invalid object id {0:?}: expected 64 lowercase hex digits")]
    InvalidOid(String),

    /// The store URL could not be understood or the store could not be built from it.
    #[error("invalid blob store url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (credentials never appear in our URLs; they come from the env).
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// No blob with that oid exists.
    #[error("blob not found")]
    NotFound,

    /// A byte range that starts at or beyond the end of the blob (HTTP 416).
    #[error("range not satisfiable: the blob has {size} bytes")]
    RangeNotSatisfiable {
        /// Size of the whole blob, for the `Content-Range: bytes */size` header.
        size: u64,
    },

    /// A byte range that is malformed (for example `bytes=9-3`).
    #[error("invalid byte range: {0}")]
    InvalidRange(String),

    /// The uploaded bytes hash to something other than the claimed oid.
    #[error("content hash mismatch: expected {expected}, the bytes hash to {actual}")]
    HashMismatch {
        /// What the client claimed.
        expected: Oid,
        /// What the server computed.
        actual: Oid,
    },

    /// The uploaded byte count differs from the claimed size. When the upload was cut short
    /// because it ran past `expected`, `actual` is the count received when it was stopped.
    #[error("size mismatch: expected {expected} bytes, received {actual}")]
    SizeMismatch {
        /// What the client claimed.
        expected: u64,
        /// What was received (at least this many when the upload was stopped early).
        actual: u64,
    },

    /// The upload is (or was announced as) larger than the configured limit.
    #[error("upload exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },

    /// Reading the upload body failed (typically the client went away mid-upload).
    #[error("reading the upload body failed: {0}")]
    Body(#[source] std::io::Error),

    /// The reachability probe did not answer in time.
    #[error("blob store did not answer within {0:?}")]
    Timeout(std::time::Duration),

    /// The local directory store could not be used.
    #[error("local blob store error at {path}: {source}")]
    Local {
        /// The directory or file involved.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Xet content (a xorb, a shard, a hash) that is malformed or does not verify.
    #[error("{0}")]
    InvalidXet(String),

    /// Stored data that should be well-formed is not (a server-side fault).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),

    /// The backing object store failed.
    #[error("object store error: {0}")]
    Backend(#[from] object_store::Error),
}

impl StoreError {
    /// True when the error was caused by the request (4xx), false when by the store (5xx).
    ///
    /// `Body` counts as a client error: the upload stream is the client's, and its failure is
    /// almost always a disconnect.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            StoreError::InvalidOid(_)
                | StoreError::NotFound
                | StoreError::RangeNotSatisfiable { .. }
                | StoreError::InvalidRange(_)
                | StoreError::HashMismatch { .. }
                | StoreError::SizeMismatch { .. }
                | StoreError::TooLarge { .. }
                | StoreError::Body(_)
                | StoreError::InvalidXet(_)
        )
    }

    /// Maps a backend error from a read path, where "not found" means the blob is absent.
    pub(crate) fn from_read(err: object_store::Error) -> StoreError {
        match err {
            object_store::Error::NotFound { .. } => StoreError::NotFound,
            other => StoreError::Backend(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_client_and_server_errors() {
        assert!(StoreError::NotFound.is_client_error());
        assert!(StoreError::TooLarge { limit: 1 }.is_client_error());
        assert!(StoreError::RangeNotSatisfiable { size: 3 }.is_client_error());
        assert!(!StoreError::Timeout(std::time::Duration::from_secs(1)).is_client_error());
        let backend = object_store::Error::Generic {
            store: "test",
            source: "boom".into(),
        };
        assert!(!StoreError::Backend(backend).is_client_error());
    }

    #[test]
    fn read_path_maps_not_found() {
        let err = object_store::Error::NotFound {
            path: "lfs/x".into(),
            source: "missing".into(),
        };
        assert!(matches!(StoreError::from_read(err), StoreError::NotFound));
    }
}
