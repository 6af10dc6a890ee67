//! Reading a Xet file back: its terms, in order, as a stream of unpacked bytes.
//!
//! A planner walks the file's terms and cuts each into pieces of at most [`PIECE_CHUNKS`] chunks
//! (a few MiB), keeping only pieces that overlap the wanted byte range. Each piece is one ranged
//! read of a xorb, decompressed on the blocking pool; a few pieces are read ahead at once. Memory
//! is bounded by the read-ahead times the piece size, whatever the file's size.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;

use super::hash::parse_xet_hash;
use super::manifest::FileManifest;
use super::xorb::{XorbIndex, unpack_chunks};
use crate::error::StoreError;
use crate::keys;
use crate::store::BlobStore;
use crate::upload::join_error;

/// Chunks per ranged read (64 KiB chunks: about 4 MiB).
const PIECE_CHUNKS: u32 = 64;
/// Pieces read ahead of the consumer.
const READ_AHEAD: usize = 4;

/// One ranged read of a xorb.
struct Piece {
    index: Arc<XorbIndex>,
    start: u32,
    end: u32,
    /// Where the piece's first unpacked byte lies in the file.
    file_offset: u64,
}

/// Walks the terms and yields the pieces overlapping `want`.
struct Planner {
    store: BlobStore,
    manifest: Arc<FileManifest>,
    offsets: Vec<u64>,
    want: Range<u64>,
    term: usize,
    ready: std::collections::VecDeque<Piece>,
    indexes: HashMap<String, Arc<XorbIndex>>,
}

impl Planner {
    async fn next_piece(&mut self) -> Result<Option<Piece>, StoreError> {
        loop {
            if let Some(piece) = self.ready.pop_front() {
                return Ok(Some(piece));
            }
            let Some(term) = self.manifest.terms.get(self.term).cloned() else {
                return Ok(None);
            };
            let (term_start, term_end) = (self.offsets[self.term], self.offsets[self.term + 1]);
            self.term += 1;
            if term_start >= self.want.end {
                return Ok(None);
            }
            if term_end <= self.want.start {
                continue;
            }
            let index = self.index(&term.xorb).await?;
            if term.start >= term.end || term.end as usize > index.chunks.len() {
                return Err(StoreError::Corrupt(format!(
                    "a file manifest points past the end of xorb {}",
                    term.xorb
                )));
            }
            let mut at = term_start;
            let mut chunk = term.start;
            while chunk < term.end {
                let end = (chunk + PIECE_CHUNKS).min(term.end);
                let len = index.unpacked_len(chunk, end);
                if at + len > self.want.start && at < self.want.end {
                    self.ready.push_back(Piece {
                        index: Arc::clone(&index),
                        start: chunk,
                        end,
                        file_offset: at,
                    });
                }
                at += len;
                chunk = end;
            }
        }
    }

    async fn index(&mut self, xorb: &str) -> Result<Arc<XorbIndex>, StoreError> {
        if let Some(index) = self.indexes.get(xorb) {
            return Ok(Arc::clone(index));
        }
        let hash = parse_xet_hash(xorb)?;
        let index = self.store.xet_xorb_index(&hash).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("xorb {xorb} of a verified file is missing"))
        })?;
        let index = Arc::new(index);
        self.indexes.insert(xorb.to_string(), Arc::clone(&index));
        Ok(index)
    }
}

impl BlobStore {
    /// Streams bytes `want` of a verified Xet file (`want` must lie within the file).
    pub fn xet_read(
        &self,
        manifest: Arc<FileManifest>,
        want: Range<u64>,
    ) -> BoxStream<'static, Result<Bytes, StoreError>> {
        let planner = Planner {
            store: self.clone(),
            offsets: manifest.term_offsets(),
            manifest,
            want: want.clone(),
            term: 0,
            ready: Default::default(),
            indexes: HashMap::new(),
        };
        let store = self.clone();
        futures::stream::try_unfold(planner, |mut planner| async move {
            Ok(planner.next_piece().await?.map(|piece| (piece, planner)))
        })
        .map_ok(move |piece| read_piece(store.clone(), piece, want.clone()))
        .try_buffered(READ_AHEAD)
        .boxed()
    }
}

/// Reads, unpacks and trims one piece to `want`.
async fn read_piece(store: BlobStore, piece: Piece, want: Range<u64>) -> Result<Bytes, StoreError> {
    let key = keys::xorb_key(&piece.index.hash);
    let bytes = store
        .inner
        .get_range(&key, piece.index.byte_range(piece.start, piece.end))
        .await
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => StoreError::Corrupt(format!(
                "xorb {} of a verified file is missing",
                piece.index.hash.hex()
            )),
            other => StoreError::Backend(other),
        })?;
    let expected = piece.index.unpacked_len(piece.start, piece.end) as usize;
    let data = tokio::task::spawn_blocking(move || unpack_chunks(&bytes, expected))
        .await
        .map_err(join_error)??;
    let from = want.start.saturating_sub(piece.file_offset) as usize;
    let to = ((want.end - piece.file_offset) as usize).min(data.len());
    Ok(Bytes::from(data).slice(from..to))
}
