//! The blob store's Xet operations: accept xorbs, register verified files, look them up.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use sha2::{Digest, Sha256};
use xet_core_structures::merklehash::file_hash;
use xet_core_structures::metadata_shard::chunk_verification::range_hash_from_chunks;
use xet_core_structures::metadata_shard::constants::hash_is_global_dedup_eligible;

use super::hash::{XetHash, parse_xet_hash};
use super::manifest::{FileManifest, Term};
use super::shard::ShardFile;
use super::xorb::{XorbIndex, XorbValidator};
use crate::error::StoreError;
use crate::get::BlobRead;
use crate::keys;
use crate::oid::Oid;
use crate::range::ByteRange;
use crate::staged::StagedObject;
use crate::store::BlobStore;
use crate::upload::{PartWriter, Written, join_error};

/// Bytes handed to the validator at once (on the blocking pool).
const FEED_BATCH: usize = 1024 * 1024;

/// Checks the body record by record and writes the records that verified to `writer`.
async fn validate_into<S>(
    hash: XetHash,
    mut body: std::pin::Pin<&mut S>,
    writer: &mut PartWriter,
) -> Result<XorbIndex, StoreError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send,
{
    let mut validator = XorbValidator::new(hash);
    // Received and validated-as-complete-records bytes go to the writer; `held` keeps what
    // arrived but is not yet known to be whole records.
    let mut held = BytesMut::new();
    let mut batch = BytesMut::new();
    loop {
        let next = body.next().await;
        let end = next.is_none();
        if let Some(item) = next {
            batch.extend_from_slice(&item.map_err(StoreError::Body)?);
            if batch.len() < FEED_BATCH {
                continue;
            }
        }
        if !batch.is_empty() {
            let data = batch.split().freeze();
            held.extend_from_slice(&data);
            let (back, complete) = tokio::task::spawn_blocking(move || {
                let complete = validator.feed(&data);
                (validator, complete)
            })
            .await
            .map_err(join_error)?;
            validator = back;
            let complete = complete?;
            if complete > 0 {
                writer.write(held.split_to(complete).freeze()).await?;
            }
        }
        if end {
            break;
        }
    }
    tokio::task::spawn_blocking(move || validator.finish())
        .await
        .map_err(join_error)?
}

/// The most chunks one file may have (at 64 KiB a chunk, 1 TiB; the bound keeps a shard from
/// making the server hold or rebuild an unbounded file).
const MAX_FILE_CHUNKS: usize = 16 * 1024 * 1024;
/// The most xorbs one dedup answer describes (about 1.5 MiB of shard at 1024 chunks each).
pub const MAX_DEDUP_XORBS: usize = 32;

impl BlobStore {
    /// Validates and stores a xorb uploaded under `hash`, from a stream. Returns whether this
    /// call stored it (`false`: Grove already had it). The bytes are checked record by record
    /// as they arrive and streamed to a staging object; only a xorb that verifies to the end is
    /// published, so nothing is stored for one that does not, and memory stays at about one
    /// upload part whatever the xorb's size.
    pub async fn xet_put_xorb<S>(&self, hash: &XetHash, body: S) -> Result<bool, StoreError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send,
    {
        let mut body = std::pin::pin!(body);
        if self.xet_xorb_index(hash).await?.is_some() {
            while let Some(item) = body.next().await {
                item.map_err(StoreError::Body)?;
            }
            return Ok(false);
        }
        let staging = keys::new_staging_key();
        let mut writer = PartWriter::new(Arc::clone(&self.inner), staging.clone());
        let index = match validate_into(*hash, body, &mut writer).await {
            Ok(index) => index,
            Err(e) => {
                writer.abort().await;
                return Err(e);
            }
        };
        let stored_len = u64::from(index.stored_len);
        let finished = writer
            .finish(|_, size| {
                if size == stored_len {
                    Ok(())
                } else {
                    Err(StoreError::SizeMismatch {
                        expected: stored_len,
                        actual: size,
                    })
                }
            })
            .await?;
        let key = keys::xorb_key(hash);
        let wrote = match finished.written {
            Written::InMemory(payload) => self.put_if_absent(&key, payload).await?,
            Written::Stored => {
                let staged = StagedObject::new(Arc::clone(&self.inner), staging);
                let published = self.publish_staged_at(staged.key(), &key).await;
                staged.remove().await;
                published?
            }
        };
        // Bytes already stored under this name (a racing upload, or one whose index write was
        // interrupted) may be compressed differently: the same chunks at other offsets. The
        // index must describe the stored bytes, so it is built from them.
        let index = if wrote {
            index
        } else {
            let stored = self
                .read_small(&key)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("xorb {} vanished", hash.hex())))?;
            let expected = *hash;
            tokio::task::spawn_blocking(move || XorbIndex::validate(&expected, &stored))
                .await
                .map_err(join_error)?
                .map_err(|e| StoreError::Corrupt(format!("a stored xorb does not verify: {e}")))?
        };
        let created = self
            .put_if_absent(&keys::xorb_index_key(hash), index.encode().into())
            .await?;
        tracing::debug!(xorb = %hash.hex(), chunks = index.chunks.len(), created, "xorb stored");
        Ok(created)
    }

    /// The index of a stored xorb, or `None` when Grove does not have it.
    pub async fn xet_xorb_index(&self, hash: &XetHash) -> Result<Option<XorbIndex>, StoreError> {
        match self.read_small(&keys::xorb_index_key(hash)).await? {
            Some(bytes) => Ok(Some(XorbIndex::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Bytes of a stored xorb's chunk area, whole or one range.
    pub async fn xet_xorb_bytes(
        &self,
        hash: &XetHash,
        range: Option<ByteRange>,
    ) -> Result<BlobRead, StoreError> {
        self.get_key(&keys::xorb_key(hash), range).await
    }

    /// The xorbs of the verified file that a dedup-eligible chunk (or a file's first chunk)
    /// belongs to, at most [`MAX_DEDUP_XORBS`], or none. One hit tells the client about a whole
    /// file: a fine-tune shares most of its base's xorbs, not just the one holding the chunk it
    /// happened to ask about.
    pub async fn xet_dedup_lookup(&self, chunk: &XetHash) -> Result<Vec<XorbIndex>, StoreError> {
        let Some(bytes) = self.read_small(&keys::xet_dedup_key(chunk)).await? else {
            return Ok(Vec::new());
        };
        let file = parse_xet_hash(String::from_utf8_lossy(&bytes).trim())?;
        let Some(manifest) = self.xet_file(&file).await? else {
            return Ok(Vec::new());
        };
        let mut names: Vec<&str> = Vec::new();
        for term in &manifest.terms {
            if !names.contains(&term.xorb.as_str()) {
                names.push(&term.xorb);
            }
        }
        // The xorb holding the chunk first, so that it survives the cap.
        let mut indexes = Vec::new();
        for name in names {
            if let Some(index) = self.xet_xorb_index(&parse_xet_hash(name)?).await? {
                indexes.push(index);
            }
        }
        if let Some(at) = indexes
            .iter()
            .position(|i| i.chunks.iter().any(|c| c.hash == *chunk))
        {
            indexes.swap(0, at);
        }
        indexes.truncate(MAX_DEDUP_XORBS);
        Ok(indexes)
    }

    /// A verified file by its Xet hash.
    pub async fn xet_file(&self, hash: &XetHash) -> Result<Option<FileManifest>, StoreError> {
        match self.read_small(&keys::xet_file_key(hash)).await? {
            Some(bytes) => Ok(Some(FileManifest::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// A verified Xet file with this sha256.
    pub async fn xet_file_by_sha256(&self, oid: &Oid) -> Result<Option<FileManifest>, StoreError> {
        match self.xet_hash_by_sha256(oid).await? {
            Some(hash) => self.xet_file(&hash).await,
            None => Ok(None),
        }
    }

    /// The Xet file hash of verified content with this sha256: one small read (the pointer is
    /// written only after the manifest, so a pointer always names a readable file).
    pub async fn xet_hash_by_sha256(&self, oid: &Oid) -> Result<Option<XetHash>, StoreError> {
        let Some(bytes) = self.read_small(&keys::xet_sha256_key(oid)).await? else {
            return Ok(None);
        };
        Ok(Some(parse_xet_hash(
            String::from_utf8_lossy(&bytes).trim(),
        )?))
    }

    /// Checks a file an uploaded shard describes and makes it visible under its sha256.
    ///
    /// Every term must lie inside a stored xorb with the unpacked length the shard states and,
    /// when the shard carries one, the right verification hash; the chunk hashes must aggregate
    /// to the file hash; and the bytes rebuilt from the xorbs must hash to the claimed sha256.
    /// Only then are the manifest and the sha256 pointer written (the pointer last: it is what
    /// makes the content downloadable as an LFS object). A file hash registered before is
    /// answered from its manifest without rebuilding it.
    pub async fn xet_register_file(&self, file: &ShardFile) -> Result<FileManifest, StoreError> {
        let name = file.file_hash.hex();
        let bad = |why: String| StoreError::InvalidXet(format!("file {name}: {why}"));
        if let Some(known) = self.xet_file(&file.file_hash).await? {
            if known.sha256 != file.sha256.as_hex() {
                return Err(bad(format!(
                    "its content does not have the claimed sha256 {}",
                    file.sha256
                )));
            }
            self.point_sha256(&known).await?;
            return Ok(known);
        }
        let mut indexes: HashMap<XetHash, Arc<XorbIndex>> = HashMap::new();
        let mut leaves = Vec::new();
        let mut terms = Vec::with_capacity(file.terms.len());
        let mut size = 0u64;
        for (i, term) in file.terms.iter().enumerate() {
            let index = match indexes.get(&term.xorb) {
                Some(index) => Arc::clone(index),
                None => {
                    let index = self.xet_xorb_index(&term.xorb).await?.ok_or_else(|| {
                        bad(format!(
                            "term {i} names xorb {}, which was never uploaded",
                            term.xorb.hex()
                        ))
                    })?;
                    let index = Arc::new(index);
                    indexes.insert(term.xorb, Arc::clone(&index));
                    index
                }
            };
            if term.start >= term.end || term.end as usize > index.chunks.len() {
                return Err(bad(format!(
                    "term {i} asks for chunks {}..{} of a xorb with {}",
                    term.start,
                    term.end,
                    index.chunks.len()
                )));
            }
            let unpacked = index.unpacked_len(term.start, term.end);
            if unpacked != u64::from(term.unpacked) {
                return Err(bad(format!(
                    "term {i} claims {} unpacked bytes; those chunks hold {unpacked}",
                    term.unpacked
                )));
            }
            let chunks = &index.chunks[term.start as usize..term.end as usize];
            if leaves.len() + chunks.len() > MAX_FILE_CHUNKS {
                return Err(bad(format!("it has more than {MAX_FILE_CHUNKS} chunks")));
            }
            let hashes: Vec<XetHash> = chunks.iter().map(|c| c.hash).collect();
            if range_hash_from_chunks(&hashes) != term.verification {
                return Err(bad(format!("term {i} has a wrong verification hash")));
            }
            leaves.extend(chunks.iter().map(|c| (c.hash, u64::from(c.unpacked_len))));
            terms.push(Term {
                xorb: term.xorb.hex(),
                start: term.start,
                end: term.end,
                unpacked: term.unpacked,
            });
            size += unpacked;
        }
        let claimed = file.file_hash;
        let matches = tokio::task::spawn_blocking(move || (file_hash(&leaves) == claimed, leaves))
            .await
            .map_err(join_error)?;
        let (matches, leaves) = matches;
        if !matches {
            return Err(bad("its chunks do not hash to that file hash".into()));
        }
        let manifest = FileManifest {
            file_hash: name.clone(),
            sha256: file.sha256.as_hex().to_string(),
            size,
            terms,
        };
        let actual = self.xet_sha256(Arc::new(manifest.clone())).await?;
        if actual != file.sha256 {
            // The actual hash is not named: the chunks may belong to content the uploader
            // cannot read.
            return Err(bad(format!(
                "its content does not have the claimed sha256 {}",
                file.sha256
            )));
        }
        self.put_if_absent(
            &keys::xet_file_key(&file.file_hash),
            manifest.encode().into(),
        )
        .await?;
        // The chunks a client asks the global dedup query about (the first of a file, and those
        // whose hash is divisible by 1024) now lead to this file. Written before the sha256
        // pointer; an entry that exists already keeps naming the earlier file.
        for (i, (chunk, _)) in leaves.iter().enumerate() {
            if i == 0 || hash_is_global_dedup_eligible(chunk) {
                self.put_if_absent(
                    &keys::xet_dedup_key(chunk),
                    name.clone().into_bytes().into(),
                )
                .await?;
            }
        }
        self.point_sha256(&manifest).await?;
        tracing::info!(file = %name, sha256 = %manifest.sha256, size, "Xet file verified");
        Ok(manifest)
    }

    /// Records that `manifest`'s sha256 can be read through Xet.
    async fn point_sha256(&self, manifest: &FileManifest) -> Result<(), StoreError> {
        let oid = Oid::parse(&manifest.sha256)?;
        self.put_if_absent(
            &keys::xet_sha256_key(&oid),
            manifest.file_hash.clone().into_bytes().into(),
        )
        .await?;
        Ok(())
    }

    /// Rebuilds a file and hashes it, on the blocking pool piece by piece.
    async fn xet_sha256(&self, manifest: Arc<FileManifest>) -> Result<Oid, StoreError> {
        let size = manifest.size;
        let mut stream = self.xet_read(manifest, 0..size);
        let mut hasher = Sha256::new();
        while let Some(piece) = stream.try_next().await? {
            hasher = tokio::task::spawn_blocking(move || {
                hasher.update(&piece);
                hasher
            })
            .await
            .map_err(join_error)?;
        }
        Ok(Oid::from_digest(hasher.finalize().into()))
    }

    /// A small object's bytes, or `None` when it is absent.
    pub(crate) async fn read_small(
        &self,
        key: &object_store::path::Path,
    ) -> Result<Option<Bytes>, StoreError> {
        match self.inner.get(key).await {
            Ok(result) => Ok(Some(result.bytes().await.map_err(StoreError::Backend)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(StoreError::Backend(e)),
        }
    }
}
