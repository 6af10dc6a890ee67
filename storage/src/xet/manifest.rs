//! A verified file's reconstruction: the terms (chunk ranges of xorbs) that make it up.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// One term: chunks `[start, end)` of a xorb, `unpacked` bytes once decompressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// The xorb's hash, Xet hex.
    pub xorb: String,
    /// First chunk.
    pub start: u32,
    /// One past the last chunk.
    pub end: u32,
    /// Unpacked bytes of those chunks.
    pub unpacked: u32,
}

/// A file Grove has rebuilt from its xorbs and checked against its sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileManifest {
    /// The Xet file hash, Xet hex.
    pub file_hash: String,
    /// The sha256 of the content, ordinary hex (the LFS oid).
    pub sha256: String,
    /// The file's size in bytes.
    pub size: u64,
    /// The terms, in file order.
    pub terms: Vec<Term>,
}

impl FileManifest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<FileManifest, StoreError> {
        serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("a Xet file manifest is damaged: {e}")))
    }

    /// Each term's first byte in the file, plus the size at the end.
    pub fn term_offsets(&self) -> Vec<u64> {
        let mut offsets = Vec::with_capacity(self.terms.len() + 1);
        let mut at = 0u64;
        for term in &self.terms {
            offsets.push(at);
            at += u64::from(term.unpacked);
        }
        offsets.push(at);
        offsets
    }
}
