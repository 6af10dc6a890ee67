//! Validating an uploaded xorb and the chunk index kept for it.
//!
//! A xorb is a sequence of `[8-byte chunk header][compressed chunk]` records, optionally followed
//! by a footer (which the current client does not send). The server decompresses every chunk,
//! hashes it, and recomputes the xorb's merkle hash from the chunk hashes: a xorb is accepted only
//! if that hash is the one in the upload path. The index records, per chunk, its hash, where its
//! record starts in the xorb, and its unpacked length: enough to answer reconstruction queries,
//! check shards, and serve byte ranges without reading the xorb again.

use std::ops::Range;

use xet_core_structures::CoreError;
use xet_core_structures::merklehash::{compute_data_hash, xorb_hash};
use xet_core_structures::xorb_object::{XORB_CHUNK_HEADER_LENGTH, parse_chunk_header};

use super::hash::XetHash;
use crate::error::StoreError;

/// The most chunk content a xorb holds (the protocol's limit, counted unpacked).
pub const MAX_XORB_CONTENT: u64 = 64 * 1024 * 1024;
/// The largest serialized xorb accepted: its content plus an 8-byte header per chunk (a chunk
/// that does not compress is stored as is) and room for the optional footer.
pub const MAX_XORB_BYTES: usize = 65 * 1024 * 1024;
/// The most chunks a xorb holds (the protocol's limit).
pub const MAX_XORB_CHUNKS: usize = 8 * 1024;
/// A chunk's unpacked length never exceeds this (the client's maximum chunk is 128 KiB; the
/// bound keeps a hostile chunk from decompressing into a huge buffer).
const MAX_CHUNK_UNPACKED: u32 = 1024 * 1024;
/// The index's format tag.
const INDEX_MAGIC: &[u8; 8] = b"GRVXIDX1";
const ENTRY_LEN: usize = 32 + 4 + 4;

/// One chunk of a xorb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEntry {
    /// The chunk's hash (keyed blake3 of its unpacked bytes).
    pub hash: XetHash,
    /// Offset of the chunk's header in the xorb.
    pub byte_start: u32,
    /// Length of the chunk once decompressed.
    pub unpacked_len: u32,
}

/// What Grove knows about a stored xorb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorbIndex {
    /// The xorb's merkle hash.
    pub hash: XetHash,
    /// Its chunks, in order.
    pub chunks: Vec<ChunkEntry>,
    /// Length of the chunk area (the stored object).
    pub stored_len: u32,
}

impl XorbIndex {
    /// Validates a serialized xorb held in memory (see [`XorbValidator`]). Blocking.
    pub fn validate(expected: &XetHash, body: &[u8]) -> Result<XorbIndex, StoreError> {
        let mut validator = XorbValidator::new(*expected);
        validator.feed(body)?;
        validator.finish()
    }

    /// The bytes of the xorb holding chunks `[start, end)`, headers included.
    pub fn byte_range(&self, start: u32, end: u32) -> Range<u64> {
        let first = self.chunks[start as usize].byte_start;
        let last = match self.chunks.get(end as usize) {
            Some(next) => next.byte_start,
            None => self.stored_len,
        };
        u64::from(first)..u64::from(last)
    }

    /// The unpacked length of chunks `[start, end)`.
    pub fn unpacked_len(&self, start: u32, end: u32) -> u64 {
        self.chunks[start as usize..end as usize]
            .iter()
            .map(|c| u64::from(c.unpacked_len))
            .sum()
    }

    /// The index as stored.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + self.chunks.len() * ENTRY_LEN);
        out.extend_from_slice(INDEX_MAGIC);
        out.extend_from_slice(self.hash.as_bytes());
        out.extend_from_slice(&self.stored_len.to_le_bytes());
        out.extend_from_slice(&(self.chunks.len() as u32).to_le_bytes());
        for chunk in &self.chunks {
            out.extend_from_slice(chunk.hash.as_bytes());
            out.extend_from_slice(&chunk.byte_start.to_le_bytes());
            out.extend_from_slice(&chunk.unpacked_len.to_le_bytes());
        }
        out
    }

    /// Reads back what [`XorbIndex::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<XorbIndex, StoreError> {
        let corrupt = || StoreError::Corrupt("a xorb index is damaged".into());
        let rest = bytes.strip_prefix(INDEX_MAGIC).ok_or_else(corrupt)?;
        if rest.len() < 40 {
            return Err(corrupt());
        }
        let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let hash = XetHash::from_slice(&rest[..32]).map_err(|_| corrupt())?;
        let stored_len = u32_at(rest, 32);
        let count = u32_at(rest, 36) as usize;
        let entries = &rest[40..];
        if entries.len() != count * ENTRY_LEN {
            return Err(corrupt());
        }
        let chunks = entries
            .chunks_exact(ENTRY_LEN)
            .map(|e| {
                Ok(ChunkEntry {
                    hash: XetHash::from_slice(&e[..32]).map_err(|_| corrupt())?,
                    byte_start: u32_at(e, 32),
                    unpacked_len: u32_at(e, 36),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(XorbIndex {
            hash,
            chunks,
            stored_len,
        })
    }
}

/// Checks a xorb as its bytes arrive, one chunk record at a time, so an upload is validated
/// while it streams to the store and never has to be held whole.
///
/// Every chunk is decompressed and hashed; its unpacked length must match its header; at the
/// end the merkle hash of the chunk hashes must be the one the xorb was uploaded under. A footer
/// (which the current client does not send) ends the chunk area; whatever follows it is not kept.
pub struct XorbValidator {
    expected: XetHash,
    /// Bytes of a record not yet complete.
    pending: Vec<u8>,
    /// Offset of the first pending byte in the xorb.
    offset: usize,
    chunks: Vec<ChunkEntry>,
    content: u64,
    footer: bool,
    received: usize,
}

impl XorbValidator {
    /// A validator for a xorb uploaded under `expected`.
    pub fn new(expected: XetHash) -> XorbValidator {
        XorbValidator {
            expected,
            pending: Vec::new(),
            offset: 0,
            chunks: Vec::new(),
            content: 0,
            footer: false,
            received: 0,
        }
    }

    fn bad(&self, why: String) -> StoreError {
        StoreError::InvalidXet(format!("xorb {}: {why}", self.expected.hex()))
    }

    /// Takes the next bytes of the upload and checks every record they complete. Returns how
    /// many bytes of the chunk area those records hold: the caller stores exactly that many
    /// bytes from the front of what it has received and not yet stored. Blocking (CPU).
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, StoreError> {
        self.received += data.len();
        if self.received > MAX_XORB_BYTES {
            return Err(StoreError::TooLarge {
                limit: MAX_XORB_BYTES as u64,
            });
        }
        if self.footer {
            return Ok(0);
        }
        self.pending.extend_from_slice(data);
        let mut at = 0usize;
        loop {
            let pos = self.offset + at;
            let Some(head) = self.pending.get(at..at + XORB_CHUNK_HEADER_LENGTH) else {
                break;
            };
            let header = match parse_chunk_header(head.try_into().expect("header length")) {
                Ok(header) => header,
                // The footer's identifier: the chunk area ends here.
                Err(CoreError::ChunkHeaderParse) if !self.chunks.is_empty() => {
                    self.footer = true;
                    break;
                }
                Err(e) => return Err(self.bad(format!("bad chunk header at byte {pos}: {e}"))),
            };
            let unpacked_len = header.get_uncompressed_length();
            if unpacked_len == 0 || unpacked_len > MAX_CHUNK_UNPACKED {
                return Err(self.bad(format!(
                    "chunk at byte {pos} claims {unpacked_len} unpacked bytes"
                )));
            }
            let data_start = at + XORB_CHUNK_HEADER_LENGTH;
            let data_end = data_start + header.get_compressed_length() as usize;
            let Some(compressed) = self.pending.get(data_start..data_end) else {
                break;
            };
            let scheme = header
                .get_compression_scheme()
                .map_err(|e| self.bad(format!("chunk at byte {pos}: {e}")))?;
            let data = scheme
                .decompress_from_slice(compressed)
                .map_err(|e| self.bad(format!("chunk at byte {pos} does not decompress: {e}")))?;
            if data.len() != unpacked_len as usize {
                return Err(self.bad(format!(
                    "chunk at byte {pos} unpacks to {} bytes, its header says {unpacked_len}",
                    data.len()
                )));
            }
            if self.chunks.len() == MAX_XORB_CHUNKS {
                return Err(self.bad(format!("it holds more than {MAX_XORB_CHUNKS} chunks")));
            }
            self.content += u64::from(unpacked_len);
            if self.content > MAX_XORB_CONTENT {
                return Err(self.bad(format!(
                    "it holds more than {MAX_XORB_CONTENT} bytes of content"
                )));
            }
            self.chunks.push(ChunkEntry {
                hash: compute_data_hash(&data),
                byte_start: pos as u32,
                unpacked_len,
            });
            at = data_end;
        }
        self.pending.drain(..at);
        self.offset += at;
        Ok(at)
    }

    /// Ends the upload: every record must be complete and the hash must match.
    pub fn finish(self) -> Result<XorbIndex, StoreError> {
        if !self.footer && !self.pending.is_empty() {
            let at = self.offset;
            return Err(if self.pending.len() < XORB_CHUNK_HEADER_LENGTH {
                self.bad(format!("truncated chunk header at byte {at}"))
            } else {
                self.bad(format!("chunk at byte {at} runs past the end"))
            });
        }
        if self.chunks.is_empty() {
            return Err(self.bad("it holds no chunks".into()));
        }
        let leaves: Vec<(XetHash, u64)> = self
            .chunks
            .iter()
            .map(|c| (c.hash, u64::from(c.unpacked_len)))
            .collect();
        let actual = xorb_hash(&leaves);
        if actual != self.expected {
            return Err(self.bad(format!("its chunks hash to {}", actual.hex())));
        }
        Ok(XorbIndex {
            hash: actual,
            chunks: self.chunks,
            stored_len: self.offset as u32,
        })
    }
}

/// Decompresses the chunk records in `bytes` (a run of whole records) into one buffer. Blocking.
pub(crate) fn unpack_chunks(bytes: &[u8], expected: usize) -> Result<Vec<u8>, StoreError> {
    let corrupt = |why: &str| StoreError::Corrupt(format!("a stored xorb is damaged: {why}"));
    let mut out = Vec::with_capacity(expected);
    let mut pos = 0usize;
    while pos < bytes.len() {
        let head = bytes
            .get(pos..pos + XORB_CHUNK_HEADER_LENGTH)
            .ok_or_else(|| corrupt("truncated header"))?;
        let header = parse_chunk_header(head.try_into().expect("header length"))
            .map_err(|_| corrupt("bad header"))?;
        let start = pos + XORB_CHUNK_HEADER_LENGTH;
        let end = start + header.get_compressed_length() as usize;
        let compressed = bytes
            .get(start..end)
            .ok_or_else(|| corrupt("short chunk"))?;
        let scheme = header
            .get_compression_scheme()
            .map_err(|_| corrupt("bad scheme"))?;
        let data = scheme
            .decompress_from_slice(compressed)
            .map_err(|_| corrupt("chunk does not decompress"))?;
        out.extend_from_slice(&data);
        pos = end;
    }
    if out.len() != expected {
        return Err(corrupt("unpacked length differs from the index"));
    }
    Ok(out)
}
