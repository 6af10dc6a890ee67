//! GGUF headers (versions 2 and 3, little-endian): magic, version, counts, metadata key/values,
//! tensor infos, then the data section at the next multiple of `general.alignment`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::stream::Source;
use super::{FormatError, Header, Limits, PlannedTensor, SampleKind, numel};

/// Alignment of the data section and of tensor offsets when `general.alignment` is absent.
const DEFAULT_ALIGNMENT: u64 = 32;
/// Deepest nesting of arrays accepted in metadata values.
const MAX_ARRAY_DEPTH: u32 = 4;
/// Most dimensions of one tensor.
const MAX_DIMS: u32 = 8;
/// Longest string value kept in the manifest's metadata; longer ones are skipped.
const MAX_KEPT_STRING: u64 = 1024;

// Metadata value types.
const T_UINT8: u32 = 0;
const T_INT8: u32 = 1;
const T_UINT16: u32 = 2;
const T_INT16: u32 = 3;
const T_UINT32: u32 = 4;
const T_INT32: u32 = 5;
const T_FLOAT32: u32 = 6;
const T_BOOL: u32 = 7;
const T_STRING: u32 = 8;
const T_ARRAY: u32 = 9;
const T_UINT64: u32 = 10;
const T_INT64: u32 = 11;
const T_FLOAT64: u32 = 12;

/// Byte size of a fixed-size metadata value type.
fn fixed_size(value_type: u32) -> Option<u64> {
    match value_type {
        T_UINT8 | T_INT8 | T_BOOL => Some(1),
        T_UINT16 | T_INT16 => Some(2),
        T_UINT32 | T_INT32 | T_FLOAT32 => Some(4),
        T_UINT64 | T_INT64 | T_FLOAT64 => Some(8),
        _ => None,
    }
}

/// A ggml tensor type: name, elements per block, bytes per block.
struct GgmlType {
    name: &'static str,
    block: u64,
    block_bytes: u64,
}

fn ggml_type(id: u32) -> Option<GgmlType> {
    let (name, block, block_bytes) = match id {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 36),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        16 => ("IQ2_XXS", 256, 66),
        17 => ("IQ2_XS", 256, 74),
        18 => ("IQ3_XXS", 256, 98),
        19 => ("IQ1_S", 256, 50),
        20 => ("IQ4_NL", 32, 18),
        21 => ("IQ3_S", 256, 110),
        22 => ("IQ2_S", 256, 82),
        23 => ("IQ4_XS", 256, 136),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        29 => ("IQ1_M", 256, 56),
        30 => ("BF16", 1, 2),
        34 => ("TQ1_0", 256, 54),
        35 => ("TQ2_0", 256, 66),
        _ => return None,
    };
    Some(GgmlType {
        name,
        block,
        block_bytes,
    })
}

fn sample_kind(type_id: u32) -> Option<SampleKind> {
    match type_id {
        0 => Some(SampleKind::F32),
        1 => Some(SampleKind::F16),
        28 => Some(SampleKind::F64),
        30 => Some(SampleKind::Bf16),
        _ => None,
    }
}

/// Reads a GGUF string (u64 length, bytes), bounded by the string limit and the rest of the file.
/// Strings longer than `keep` bytes are skipped and yield `None`; kept ones are charged to
/// `budget`, which bounds the memory a header can make the scanner hold.
fn read_string<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    limits: &Limits,
    what: &str,
    keep: u64,
    budget: &mut u64,
) -> Result<Option<Vec<u8>>, FormatError> {
    let at = source.pos();
    let len = source.read_u64(what)?;
    if len > limits.max_string_bytes {
        return Err(FormatError::StringTooLong {
            at,
            len,
            limit: limits.max_string_bytes,
        });
    }
    if len > keep {
        source.skip(what, len)?;
        return Ok(None);
    }
    if len > *budget {
        return Err(FormatError::GgufHeaderTooLarge {
            limit: limits.max_header_bytes,
        });
    }
    *budget -= len;
    source.read_vec(what, len).map(Some)
}

/// Reads a string that must be kept and must be UTF-8 (keys, tensor names).
fn read_name<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    limits: &Limits,
    what: &str,
    budget: &mut u64,
) -> Result<String, FormatError> {
    let at = source.pos();
    let bytes = read_string(source, limits, what, u64::MAX, budget)?.unwrap_or_default();
    String::from_utf8(bytes).map_err(|_| FormatError::InvalidUtf8 {
        what: what.to_string(),
        at,
    })
}

/// Skips `count` array elements of `value_type`; `depth` is the nesting level of this array (1
/// for a top-level array value).
fn skip_array<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    limits: &Limits,
    key: &str,
    value_type: u32,
    count: u64,
    depth: u32,
) -> Result<(), FormatError> {
    if depth > MAX_ARRAY_DEPTH {
        return Err(FormatError::ArrayTooDeep {
            key: key.to_string(),
            limit: MAX_ARRAY_DEPTH,
        });
    }
    let what = format!("array of metadata key '{key}'");
    if let Some(size) = fixed_size(value_type) {
        let Some(bytes) = count.checked_mul(size) else {
            return Err(FormatError::PastEnd {
                what,
                at: source.pos(),
                needed: u64::MAX,
                available: source.remaining(),
            });
        };
        return source.skip(&what, bytes);
    }
    match value_type {
        T_STRING => {
            // Every string holds at least its 8-byte length: refuse impossible counts at once.
            source.ensure(&what, count.saturating_mul(8))?;
            for _ in 0..count {
                read_string(source, limits, &what, 0, &mut 0)?;
            }
            Ok(())
        }
        T_ARRAY => {
            // Every nested array holds at least its 4-byte type and 8-byte count.
            source.ensure(&what, count.saturating_mul(12))?;
            for _ in 0..count {
                let inner_type = source.read_u32(&what)?;
                let inner_count = source.read_u64(&what)?;
                skip_array(source, limits, key, inner_type, inner_count, depth + 1)?;
            }
            Ok(())
        }
        _ => Err(FormatError::UnknownValueType {
            key: key.to_string(),
            value_type,
        }),
    }
}

/// Reads one metadata value. Returns its rendering when it is kept (scalars and short strings),
/// the element count for arrays, and whether it is a u32 (needed for `general.alignment`).
enum Value {
    Kept(String),
    U32(u32),
    Array(u64),
    Skipped,
}

fn read_value<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    limits: &Limits,
    key: &str,
    value_type: u32,
    budget: &mut u64,
) -> Result<Value, FormatError> {
    let what = format!("value of metadata key '{key}'");
    let what = what.as_str();
    Ok(match value_type {
        T_UINT8 => Value::Kept(u8::from_le_bytes(source.read_array(what)?).to_string()),
        T_INT8 => Value::Kept(i8::from_le_bytes(source.read_array(what)?).to_string()),
        T_UINT16 => Value::Kept(u16::from_le_bytes(source.read_array(what)?).to_string()),
        T_INT16 => Value::Kept(i16::from_le_bytes(source.read_array(what)?).to_string()),
        T_UINT32 => Value::U32(source.read_u32(what)?),
        T_INT32 => Value::Kept(i32::from_le_bytes(source.read_array(what)?).to_string()),
        T_FLOAT32 => Value::Kept(f32::from_le_bytes(source.read_array(what)?).to_string()),
        T_BOOL => Value::Kept((source.read_array::<1>(what)?[0] != 0).to_string()),
        T_STRING => match read_string(source, limits, what, MAX_KEPT_STRING, budget)? {
            Some(bytes) => Value::Kept(String::from_utf8_lossy(&bytes).into_owned()),
            None => Value::Skipped,
        },
        T_ARRAY => {
            let element_type = source.read_u32(what)?;
            let count = source.read_u64(what)?;
            skip_array(source, limits, key, element_type, count, 1)?;
            Value::Array(count)
        }
        T_UINT64 => Value::Kept(source.read_u64(what)?.to_string()),
        T_INT64 => Value::Kept(i64::from_le_bytes(source.read_array(what)?).to_string()),
        T_FLOAT64 => Value::Kept(f64::from_le_bytes(source.read_array(what)?).to_string()),
        _ => {
            return Err(FormatError::UnknownValueType {
                key: key.to_string(),
                value_type,
            });
        }
    })
}

pub(crate) fn read_header<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    limits: &Limits,
) -> Result<Header, FormatError> {
    let magic = source.read_array::<4>("GGUF magic")?;
    if &magic != b"GGUF" {
        return Err(FormatError::BadMagic(magic));
    }
    let version = source.read_u32("GGUF version")?;
    if version != 2 && version != 3 {
        return Err(FormatError::UnsupportedVersion(version));
    }
    let tensor_count = source.read_u64("GGUF tensor count")?;
    let kv_count = source.read_u64("GGUF metadata count")?;
    if tensor_count > limits.max_tensors {
        return Err(FormatError::TooManyTensors {
            count: tensor_count,
            limit: limits.max_tensors,
        });
    }
    if kv_count > limits.max_metadata_entries {
        return Err(FormatError::TooManyMetadataEntries {
            count: kv_count,
            limit: limits.max_metadata_entries,
        });
    }
    // Each entry holds at least a key length (8), a value type (4) and a value (1); each tensor
    // info at least a name length (8), n_dims (4), a type (4) and an offset (8).
    source.ensure(
        "GGUF metadata",
        kv_count
            .saturating_mul(13)
            .saturating_add(tensor_count.saturating_mul(24)),
    )?;

    // Everything kept in memory from the header (keys, short string values, tensor names) counts
    // against the header-size limit; skipped arrays and long strings do not.
    let mut budget = limits.max_header_bytes;
    let mut keys = BTreeSet::new();
    let mut metadata = BTreeMap::new();
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..kv_count {
        let key = read_name(source, limits, "metadata key", &mut budget)?;
        if !keys.insert(key.clone()) {
            return Err(FormatError::DuplicateKey(key));
        }
        let value_type = source.read_u32("metadata value type")?;
        let value = read_value(source, limits, &key, value_type, &mut budget)?;
        if key == "general.alignment" {
            let Value::U32(a) = value else {
                return Err(FormatError::WrongKeyType {
                    key,
                    expected: "uint32",
                });
            };
            if a == 0 || !a.is_power_of_two() {
                return Err(FormatError::BadAlignment(a.into()));
            }
            alignment = a.into();
        }
        match value {
            Value::Kept(s) => {
                metadata.insert(key, s);
            }
            Value::U32(v) => {
                metadata.insert(key, v.to_string());
            }
            Value::Array(count) => {
                metadata.insert(format!("{key}.len"), count.to_string());
            }
            Value::Skipped => {}
        }
    }

    struct Info {
        name: String,
        ne: Vec<u64>,
        type_id: u32,
        offset: u64,
    }
    let mut infos = Vec::new();
    let mut names = BTreeSet::new();
    for _ in 0..tensor_count {
        let name = read_name(source, limits, "tensor name", &mut budget)?;
        if !names.insert(name.clone()) {
            return Err(FormatError::DuplicateTensor(name));
        }
        let n_dims = source.read_u32("tensor dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(FormatError::TooManyDims {
                name,
                n_dims: n_dims.into(),
                limit: MAX_DIMS.into(),
            });
        }
        let mut ne = Vec::new();
        for _ in 0..n_dims {
            ne.push(source.read_u64("tensor dimension")?);
        }
        let type_id = source.read_u32("tensor type")?;
        let offset = source.read_u64("tensor offset")?;
        infos.push(Info {
            name,
            ne,
            type_id,
            offset,
        });
    }
    drop(names);

    let file_size = source.file_size();
    let data_start = match source.pos().checked_next_multiple_of(alignment) {
        Some(start) if start <= file_size => start,
        // A file without tensors need not pad its header.
        _ if infos.is_empty() => file_size,
        _ => {
            return Err(FormatError::PastEnd {
                what: "GGUF data section alignment padding".to_string(),
                at: source.pos(),
                needed: alignment - source.pos() % alignment,
                available: source.remaining(),
            });
        }
    };

    let mut tensors = Vec::new();
    for info in infos {
        let Info {
            name,
            mut ne,
            type_id,
            offset,
        } = info;
        let Some(ty) = ggml_type(type_id) else {
            return Err(FormatError::UnknownGgmlType { name, type_id });
        };
        // GGUF lists the innermost dimension first; manifests use row-major order.
        ne.reverse();
        let shape = ne;
        let Some(count) = numel(&shape) else {
            return Err(FormatError::ShapeOverflow { name, shape });
        };
        if !count.is_multiple_of(ty.block) {
            return Err(FormatError::NotBlockMultiple {
                name,
                dtype: ty.name.to_string(),
                numel: count,
                block: ty.block,
            });
        }
        let Some(bytes) = (count / ty.block).checked_mul(ty.block_bytes) else {
            return Err(FormatError::ShapeOverflow { name, shape });
        };
        let Some(begin) = data_start.checked_add(offset) else {
            return Err(FormatError::OffsetOverflow { name, offset });
        };
        if !offset.is_multiple_of(alignment) {
            return Err(FormatError::MisalignedOffset {
                name,
                offset,
                alignment,
            });
        }
        let end = begin.checked_add(bytes).filter(|&end| end <= file_size);
        let Some(end) = end else {
            return Err(FormatError::TensorPastEnd {
                name,
                begin,
                end: begin.saturating_add(bytes),
                file_size,
            });
        };
        tensors.push(PlannedTensor {
            name,
            dtype: ty.name.to_string(),
            shape,
            numel: count,
            begin,
            end,
            sample: sample_kind(type_id),
        });
    }
    super::sort_and_check_overlap(&mut tensors)?;

    Ok(Header {
        tensors,
        metadata,
        data_start,
    })
}
