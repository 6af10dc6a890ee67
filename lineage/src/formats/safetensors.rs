//! safetensors headers: an 8-byte little-endian length, then that many bytes of JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::stream::Source;
use super::{FormatError, Header, Limits, PlannedTensor, SampleKind, numel};

/// Byte size of one element of a safetensors dtype, and whether its values are sampled.
fn dtype_info(dtype: &str) -> Option<(u64, Option<SampleKind>)> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => (1, None),
        "I16" | "U16" => (2, None),
        "F16" => (2, Some(SampleKind::F16)),
        "BF16" => (2, Some(SampleKind::Bf16)),
        "I32" | "U32" => (4, None),
        "F32" => (4, Some(SampleKind::F32)),
        "I64" | "U64" => (8, None),
        "F64" => (8, Some(SampleKind::F64)),
        _ => return None,
    })
}

/// Most dimensions of one safetensors tensor.
const MAX_DIMS: u64 = 64;

/// One tensor entry of the JSON header; unknown fields are ignored.
#[derive(Deserialize)]
struct RawTensor {
    dtype: String,
    shape: Shape,
    data_offsets: (u64, u64),
}

/// A shape list, or the length of one longer than [`MAX_DIMS`] (not kept: a header of a hundred
/// megabytes of `0,` must not become a vector of fifty million integers).
enum Shape {
    Dims(Vec<u64>),
    TooLong(u64),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Shape, D::Error> {
        struct ShapeVisitor;
        impl<'de> Visitor<'de> for ShapeVisitor {
            type Value = Shape;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of non-negative integers")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
                let mut dims = Vec::new();
                while let Some(d) = seq.next_element::<u64>()? {
                    dims.push(d);
                    if dims.len() as u64 > MAX_DIMS {
                        let mut count = dims.len() as u64;
                        while seq.next_element::<IgnoredAny>()?.is_some() {
                            count += 1;
                        }
                        return Ok(Shape::TooLong(count));
                    }
                }
                Ok(Shape::Dims(dims))
            }
        }
        deserializer.deserialize_seq(ShapeVisitor)
    }
}

/// The `__metadata__` map, keeping at most `limit` entries but counting all of them.
struct MetadataSeed {
    limit: u64,
}

struct Metadata {
    map: BTreeMap<String, String>,
    count: u64,
}

impl<'de> DeserializeSeed<'de> for MetadataSeed {
    type Value = Metadata;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Metadata, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetadataSeed {
    type Value = Metadata;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object mapping strings to strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
        let mut metadata = BTreeMap::new();
        let mut count = 0u64;
        while let Some(key) = map.next_key::<String>()? {
            count += 1;
            if count > self.limit {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            metadata.insert(key, map.next_value::<String>()?);
        }
        Ok(Metadata {
            map: metadata,
            count,
        })
    }
}

/// The JSON header, in document order.
struct RawHeader {
    tensors: Vec<(String, RawTensor)>,
    metadata: Option<Metadata>,
}

/// What the JSON visitor returns: the header, or the tensor limit it hit (the rest of the object is
/// still consumed, without being kept, so that the JSON parser ends cleanly).
enum Parsed {
    Header(RawHeader),
    TooManyTensors(u64),
}

struct HeaderSeed {
    max_tensors: u64,
    max_metadata_entries: u64,
}

impl<'de> DeserializeSeed<'de> for HeaderSeed {
    type Value = Parsed;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Parsed, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HeaderSeed {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object mapping tensor names to {dtype, shape, data_offsets}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut tensors = Vec::new();
        let mut metadata = None;
        let mut count = 0u64;
        while let Some(key) = map.next_key::<String>()? {
            if key == "__metadata__" {
                if metadata.is_some() {
                    return Err(de::Error::custom("__metadata__ appears more than once"));
                }
                metadata = Some(map.next_value_seed(MetadataSeed {
                    limit: self.max_metadata_entries,
                })?);
                continue;
            }
            count += 1;
            if count > self.max_tensors {
                map.next_value::<IgnoredAny>()?;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    count += 1;
                }
                return Ok(Parsed::TooManyTensors(count));
            }
            let raw = map
                .next_value::<RawTensor>()
                .map_err(|e| de::Error::custom(format_args!("tensor '{key}': {e}")))?;
            tensors.push((key, raw));
        }
        Ok(Parsed::Header(RawHeader { tensors, metadata }))
    }
}

pub(crate) fn read_header<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    limits: &Limits,
) -> Result<Header, FormatError> {
    let claimed = source.read_u64("safetensors header length")?;
    if claimed > limits.max_header_bytes {
        return Err(FormatError::HeaderTooLarge {
            claimed,
            limit: limits.max_header_bytes,
        });
    }
    if claimed > source.remaining() {
        return Err(FormatError::HeaderPastEnd {
            claimed,
            available: source.remaining(),
        });
    }
    let bytes = source.read_vec("safetensors header", claimed)?;
    let data_start = source.pos();
    let data_len = source.remaining();

    let text = std::str::from_utf8(&bytes).map_err(|e| FormatError::HeaderUtf8(e.to_string()))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = HeaderSeed {
        max_tensors: limits.max_tensors,
        max_metadata_entries: limits.max_metadata_entries,
    }
    .deserialize(&mut de)
    .and_then(|parsed| de.end().map(|()| parsed))
    .map_err(|e| FormatError::HeaderJson(e.to_string()))?;
    let raw = match parsed {
        Parsed::Header(raw) => raw,
        Parsed::TooManyTensors(count) => {
            return Err(FormatError::TooManyTensors {
                count,
                limit: limits.max_tensors,
            });
        }
    };
    drop(bytes);
    let metadata = match raw.metadata {
        Some(m) if m.count > limits.max_metadata_entries => {
            return Err(FormatError::TooManyMetadataEntries {
                count: m.count,
                limit: limits.max_metadata_entries,
            });
        }
        Some(m) => m.map,
        None => BTreeMap::new(),
    };

    let mut names = BTreeSet::new();
    let mut tensors = Vec::new();
    for (name, t) in raw.tensors {
        if names.contains(&name) {
            return Err(FormatError::DuplicateTensor(name));
        }
        names.insert(name.clone());
        let shape = match t.shape {
            Shape::Dims(dims) => dims,
            Shape::TooLong(n_dims) => {
                return Err(FormatError::TooManyDims {
                    name,
                    n_dims,
                    limit: MAX_DIMS,
                });
            }
        };
        let Some((size, sample)) = dtype_info(&t.dtype) else {
            return Err(FormatError::UnknownDtype {
                name,
                dtype: t.dtype,
            });
        };
        let Some(count) = numel(&shape) else {
            return Err(FormatError::ShapeOverflow { name, shape });
        };
        let Some(expected) = count.checked_mul(size) else {
            return Err(FormatError::ShapeOverflow { name, shape });
        };
        let (begin, end) = t.data_offsets;
        if begin > end {
            return Err(FormatError::ReversedOffsets { name, begin, end });
        }
        if end > data_len {
            return Err(FormatError::OffsetsOutOfRange {
                name,
                begin,
                end,
                data_len,
            });
        }
        if end - begin != expected {
            return Err(FormatError::SizeMismatch {
                name,
                dtype: t.dtype,
                shape,
                expected,
                actual: end - begin,
            });
        }
        tensors.push(PlannedTensor {
            name,
            dtype: t.dtype,
            shape,
            numel: count,
            // Both fit: data_start + data_len is the file size.
            begin: data_start + begin,
            end: data_start + end,
            sample,
        });
    }

    super::sort_and_check_overlap(&mut tensors)?;
    // Contiguous from the start of the data section to its end: no gaps.
    let mut covered = data_start;
    for t in &tensors {
        if t.begin > covered {
            return Err(FormatError::Gap {
                begin: covered - data_start,
                end: t.begin - data_start,
            });
        }
        covered = covered.max(t.end);
    }
    if covered < source.file_size() {
        return Err(FormatError::Gap {
            begin: covered - data_start,
            end: data_len,
        });
    }

    Ok(Header {
        tensors,
        metadata,
        data_start,
    })
}
