//! Downloading: a published blob as a stream, whole or one byte range.
//!
//! A range is resolved against the blob's size here (one `HEAD` first), so every backend answers
//! the same HTTP semantics; a whole-blob read needs a single request. Nothing is buffered beyond
//! one chunk: remote backends stream the response body, and the local store reads the file in
//! [`READ_CHUNK`]-sized pieces on the blocking pool (`object_store`'s own file stream reads 8 KiB
//! per blocking task, too small for multi-gigabyte weights).

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{GetOptions, GetResultPayload, ObjectStore, ObjectStoreExt};

use crate::error::StoreError;
use crate::keys;
use crate::oid::Oid;
use crate::range::ByteRange;
use crate::store::BlobStore;
use crate::upload::join_error;

/// Bytes read from a local file per blocking task.
pub const READ_CHUNK: usize = 512 * 1024;

/// An open download.
pub struct BlobRead {
    /// Size of the whole blob (for `Content-Range` / `Content-Length`).
    pub total_size: u64,
    /// The bytes this stream yields: `0..total_size` without a range.
    pub range: Range<u64>,
    /// The bytes of `range`, in order.
    pub stream: BoxStream<'static, Result<Bytes, StoreError>>,
}

impl fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobRead")
            .field("total_size", &self.total_size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl BlobStore {
    /// Opens a published blob for reading, whole or one range (HTTP semantics, see
    /// [`ByteRange::resolve`]). A missing blob is [`StoreError::NotFound`].
    ///
    /// Content uploaded through Xet has no blob of its own: once verified it is read back from
    /// its xorbs (see the `xet` module), so every reader of sha256-addressed content (downloads,
    /// the LFS API, the lineage scanner, eval workers) gets it whichever way it came in.
    pub async fn get(&self, oid: &Oid, range: Option<ByteRange>) -> Result<BlobRead, StoreError> {
        match self.get_key(&keys::blob_key(oid), range).await {
            Err(StoreError::NotFound) => {}
            other => return other,
        }
        let Some(manifest) = self.xet_file_by_sha256(oid).await? else {
            return Err(StoreError::NotFound);
        };
        let total_size = manifest.size;
        let range = match range {
            Some(range) => range.resolve(total_size)?,
            None => 0..total_size,
        };
        Ok(BlobRead {
            total_size,
            range: range.clone(),
            stream: self.xet_read(std::sync::Arc::new(manifest), range),
        })
    }

    /// Opens any object for reading, whole or one range.
    pub(crate) async fn get_key(
        &self,
        key: &object_store::path::Path,
        range: Option<ByteRange>,
    ) -> Result<BlobRead, StoreError> {
        let options = match range {
            None => GetOptions::default(),
            Some(range) => {
                let size = match self.inner.head(key).await {
                    Ok(meta) => meta.size,
                    Err(e) => return Err(StoreError::from_read(e)),
                };
                GetOptions::new().with_range(Some(range.resolve(size)?))
            }
        };
        let result = self
            .inner
            .get_opts(key, options)
            .await
            .map_err(StoreError::from_read)?;
        let total_size = result.meta.size;
        let range = result.range.clone();
        let stream = match result.payload {
            GetResultPayload::File(file, path) => file_stream(file, path, range.clone()),
            GetResultPayload::Stream(stream) => stream.map_err(StoreError::Backend).boxed(),
        };
        Ok(BlobRead {
            total_size,
            range,
            stream,
        })
    }
}

/// Streams `range` of a local file in [`READ_CHUNK`] pieces.
fn file_stream(
    file: std::fs::File,
    path: PathBuf,
    range: Range<u64>,
) -> BoxStream<'static, Result<Bytes, StoreError>> {
    futures::stream::try_unfold(
        (file, path, range.start, range.end),
        |(mut file, path, pos, end)| async move {
            if pos >= end {
                return Ok(None);
            }
            let want = (end - pos).min(READ_CHUNK as u64);
            let read = tokio::task::spawn_blocking(move || {
                let result = read_at(&mut file, pos, want);
                (file, path, result)
            })
            .await
            .map_err(join_error)?;
            let (file, path, result) = read;
            match result {
                Ok(buf) => Ok(Some((Bytes::from(buf), (file, path, pos + want, end)))),
                Err(source) => Err(StoreError::Local { path, source }),
            }
        },
    )
    .boxed()
}

fn read_at(file: &mut std::fs::File, pos: u64, want: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(pos))?;
    let mut buf = Vec::with_capacity(want as usize);
    file.take(want).read_to_end(&mut buf)?;
    if (buf.len() as u64) < want {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "blob file is shorter than its recorded size",
        ));
    }
    Ok(buf)
}
