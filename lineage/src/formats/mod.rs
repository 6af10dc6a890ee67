//! Tensor manifests of weight files: one sequential pass over a safetensors or GGUF file that
//! validates its header against hostile input and records, for every tensor, its dtype, shape,
//! absolute byte range, the sha256 of its bytes and a small sample of its values.
//!
//! The reader is never seeked and never read whole: the header is held in memory (bounded by
//! [`Limits`]) and the data section streams through a buffer of at most [`CHUNK_BYTES`].

mod error;
mod gguf;
mod safetensors;
mod stream;

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

pub use error::FormatError;

/// The most bytes of the data section held in memory at once.
pub const CHUNK_BYTES: usize = 1 << 20;

/// How many values [`TensorEntry::sample`] holds for tensors of at least that many elements.
pub const SAMPLE_LEN: u64 = 32;

/// The weight-file formats the scanner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightFormat {
    Safetensors,
    Gguf,
}

impl WeightFormat {
    /// The format a file name announces by its extension (`.safetensors`, `.gguf`, any case).
    pub fn from_path(path: &str) -> Option<WeightFormat> {
        let ext = std::path::Path::new(path).extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("safetensors") {
            Some(WeightFormat::Safetensors)
        } else if ext.eq_ignore_ascii_case("gguf") {
            Some(WeightFormat::Gguf)
        } else {
            None
        }
    }

    /// `"safetensors"` or `"gguf"`, as serialised.
    pub fn as_str(&self) -> &'static str {
        match self {
            WeightFormat::Safetensors => "safetensors",
            WeightFormat::Gguf => "gguf",
        }
    }
}

impl std::fmt::Display for WeightFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bounds on what a header may claim, checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest safetensors JSON header, in bytes; for GGUF, the most bytes of keys, tensor names
    /// and kept string values held in memory (skipped arrays and long strings do not count).
    pub max_header_bytes: u64,
    /// Most tensors in one file.
    pub max_tensors: u64,
    /// Longest GGUF string (key, value, array element, tensor name), in bytes.
    pub max_string_bytes: u64,
    /// Most GGUF metadata key/value pairs, or safetensors `__metadata__` entries.
    pub max_metadata_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 100_000_000,
            max_tensors: 1_000_000,
            max_string_bytes: 16 * 1024 * 1024,
            max_metadata_entries: 1_000_000,
        }
    }
}

/// One tensor of a scanned file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorEntry {
    pub name: String,
    /// safetensors dtype as written (`"BF16"`), or the upper-case ggml type name (`"Q4_K"`).
    pub dtype: String,
    /// Row-major (PyTorch) order; GGUF dimensions are reversed into it.
    pub shape: Vec<u64>,
    /// Absolute offset of the first byte in the file.
    pub begin: u64,
    /// Absolute offset one past the last byte.
    pub end: u64,
    /// Lowercase hex sha256 of bytes `begin..end`.
    pub hash: String,
    /// For F32/F16/BF16/F64 tensors: the values at element indices `k * numel / 32`, `k < 32`
    /// (every element when there are fewer than 32); `None` for other dtypes.
    pub sample: Option<Vec<f32>>,
}

/// What [`scan`] learns about a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileManifest {
    pub format: WeightFormat,
    /// In file order (ascending `begin`; zero-byte tensors at the same offset by name).
    pub tensors: Vec<TensorEntry>,
    /// safetensors `__metadata__`; GGUF scalar values rendered as strings (strings over 1 KiB
    /// left out), and for each array its length under `<key>.len`.
    pub metadata: BTreeMap<String, String>,
    /// Sum of the element counts of all tensors.
    pub parameter_count: u64,
    /// Absolute offset of the data section.
    pub data_start: u64,
}

/// Reads `file_size` bytes of a weight file from `reader` in one sequential pass and returns its
/// manifest, or the first reason the file is malformed or hostile.
///
/// The reader must yield exactly the file from its first byte; it is never seeked, and no more
/// than `file_size` bytes are read from it. A reader that ends early is an error.
pub fn scan(
    reader: &mut impl Read,
    file_size: u64,
    format: WeightFormat,
    limits: &Limits,
) -> Result<FileManifest, FormatError> {
    let mut source = stream::Source::new(reader, file_size);
    let header = match format {
        WeightFormat::Safetensors => safetensors::read_header(&mut source, limits)?,
        WeightFormat::Gguf => gguf::read_header(&mut source, limits)?,
    };
    let parameter_count = header
        .tensors
        .iter()
        .try_fold(0u64, |sum, t| sum.checked_add(t.numel))
        .ok_or(FormatError::ParameterCountOverflow)?;
    let tensors = stream::stream_data(&mut source, header.tensors)?;
    Ok(FileManifest {
        format,
        tensors,
        metadata: header.metadata,
        parameter_count,
        data_start: header.data_start,
    })
}

/// A header, parsed and validated: tensors sorted by `begin`, non-overlapping, within the file.
pub(crate) struct Header {
    pub tensors: Vec<PlannedTensor>,
    pub metadata: BTreeMap<String, String>,
    pub data_start: u64,
}

/// A tensor as the header declares it, before its bytes are read.
pub(crate) struct PlannedTensor {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<u64>,
    pub numel: u64,
    pub begin: u64,
    pub end: u64,
    pub sample: Option<SampleKind>,
}

/// The float encodings whose values are sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SampleKind {
    F32,
    F16,
    Bf16,
    F64,
}

impl SampleKind {
    pub fn size(self) -> usize {
        match self {
            SampleKind::F16 | SampleKind::Bf16 => 2,
            SampleKind::F32 => 4,
            SampleKind::F64 => 8,
        }
    }

    /// Decodes one little-endian element from the first [`SampleKind::size`] bytes of `bytes`.
    pub fn decode(self, bytes: &[u8; 8]) -> f32 {
        match self {
            SampleKind::F16 => half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f32(),
            SampleKind::Bf16 => half::bf16::from_le_bytes([bytes[0], bytes[1]]).to_f32(),
            SampleKind::F32 => f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            SampleKind::F64 => f64::from_le_bytes(*bytes) as f32,
        }
    }
}

/// Number of elements of a shape (1 for a scalar, 0 if any dimension is 0), `None` on overflow.
pub(crate) fn numel(shape: &[u64]) -> Option<u64> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d))
}

/// Sorts planned tensors by position and refuses any two that share a byte.
pub(crate) fn sort_and_check_overlap(tensors: &mut [PlannedTensor]) -> Result<(), FormatError> {
    tensors.sort_by(|a, b| (a.begin, a.end, &a.name).cmp(&(b.begin, b.end, &b.name)));
    let mut furthest: Option<&PlannedTensor> = None;
    for t in tensors.iter() {
        if let Some(prev) = furthest
            && t.begin < prev.end
        {
            return Err(FormatError::Overlap {
                first: prev.name.clone(),
                second: t.name.clone(),
            });
        }
        if furthest.is_none_or(|p| t.end >= p.end) {
            furthest = Some(t);
        }
    }
    Ok(())
}
