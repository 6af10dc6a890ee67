//! The one error type of the tensor-manifest scanner.

/// Why a weight file could not be scanned. Every message names the offending value and the bound it
/// broke, so that it can be shown to whoever uploaded the file as is.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The reader failed for a reason other than ending early.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),

    /// The reader ended before the declared file size.
    #[error("the file ends after {at} bytes, but it was declared to be {expected} bytes long")]
    Truncated { at: u64, expected: u64 },

    /// A structure inside the header would need more bytes than the file has left.
    #[error(
        "{what} at byte {at} needs {needed} bytes, but only {available} remain before the end of the file"
    )]
    PastEnd {
        what: String,
        at: u64,
        needed: u64,
        available: u64,
    },

    /// The safetensors header is longer than [`crate::formats::Limits::max_header_bytes`].
    #[error("safetensors header claims {claimed} bytes, more than the {limit}-byte limit")]
    HeaderTooLarge { claimed: u64, limit: u64 },

    /// The safetensors header length runs past the end of the file.
    #[error(
        "safetensors header claims {claimed} bytes, but only {available} bytes follow its length prefix"
    )]
    HeaderPastEnd { claimed: u64, available: u64 },

    /// The safetensors header is not UTF-8.
    #[error("safetensors header is not valid UTF-8: {0}")]
    HeaderUtf8(String),

    /// The safetensors header is not the expected JSON object.
    #[error("safetensors header is not valid: {0}")]
    HeaderJson(String),

    /// More tensors than [`crate::formats::Limits::max_tensors`].
    #[error("the header lists {count} tensors, more than the {limit}-tensor limit")]
    TooManyTensors { count: u64, limit: u64 },

    /// Two tensors with the same name.
    #[error("tensor name '{0}' appears more than once")]
    DuplicateTensor(String),

    /// A safetensors dtype this scanner does not know.
    #[error("tensor '{name}' has unknown dtype '{dtype}'")]
    UnknownDtype { name: String, dtype: String },

    /// The element count or byte size of a tensor does not fit in 64 bits.
    #[error("tensor '{name}' with shape {shape:?} is too large: its size overflows 64 bits")]
    ShapeOverflow { name: String, shape: Vec<u64> },

    /// The sum of all element counts does not fit in 64 bits.
    #[error("the total parameter count overflows 64 bits")]
    ParameterCountOverflow,

    /// safetensors `data_offsets` with `begin > end`.
    #[error("tensor '{name}' data_offsets [{begin}, {end}] are reversed")]
    ReversedOffsets { name: String, begin: u64, end: u64 },

    /// safetensors `data_offsets` beyond the data section.
    #[error(
        "tensor '{name}' data_offsets [{begin}, {end}] run past the end of the data section ({data_len} bytes)"
    )]
    OffsetsOutOfRange {
        name: String,
        begin: u64,
        end: u64,
        data_len: u64,
    },

    /// The byte span of a tensor disagrees with its dtype and shape.
    #[error(
        "tensor '{name}' of dtype {dtype} and shape {shape:?} needs {expected} bytes, but its data spans {actual} bytes"
    )]
    SizeMismatch {
        name: String,
        dtype: String,
        shape: Vec<u64>,
        expected: u64,
        actual: u64,
    },

    /// Two tensors share bytes.
    #[error("tensors '{first}' and '{second}' overlap")]
    Overlap { first: String, second: String },

    /// Bytes of a safetensors data section that no tensor covers.
    #[error(
        "bytes {begin}..{end} of the safetensors data section belong to no tensor (gaps are not allowed)"
    )]
    Gap { begin: u64, end: u64 },

    /// The file does not start with `GGUF`.
    #[error("not a GGUF file: it starts with bytes {0:02x?} instead of \"GGUF\"")]
    BadMagic([u8; 4]),

    /// A GGUF version other than 2 or 3.
    #[error("GGUF version {0} is not supported (only little-endian versions 2 and 3 are)")]
    UnsupportedVersion(u32),

    /// More GGUF key/values or safetensors `__metadata__` entries than
    /// [`crate::formats::Limits::max_metadata_entries`].
    #[error("the header declares {count} metadata entries, more than the {limit}-entry limit")]
    TooManyMetadataEntries { count: u64, limit: u64 },

    /// GGUF keys, tensor names and kept values adding up to more than
    /// [`crate::formats::Limits::max_header_bytes`].
    #[error(
        "the GGUF header holds more than {limit} bytes of keys, tensor names and kept values (the header-size limit)"
    )]
    GgufHeaderTooLarge { limit: u64 },

    /// A GGUF string longer than [`crate::formats::Limits::max_string_bytes`].
    #[error("string at byte {at} claims {len} bytes, more than the {limit}-byte limit")]
    StringTooLong { at: u64, len: u64, limit: u64 },

    /// A GGUF key or tensor name that is not UTF-8.
    #[error("{what} at byte {at} is not valid UTF-8")]
    InvalidUtf8 { what: String, at: u64 },

    /// A GGUF metadata value type this scanner does not know.
    #[error("metadata key '{key}' has unknown value type {value_type}")]
    UnknownValueType { key: String, value_type: u32 },

    /// GGUF arrays nested deeper than the scanner allows.
    #[error("metadata key '{key}' nests arrays deeper than {limit} levels")]
    ArrayTooDeep { key: String, limit: u32 },

    /// A GGUF metadata key that appears twice.
    #[error("metadata key '{0}' appears more than once")]
    DuplicateKey(String),

    /// A GGUF metadata value of the wrong type for a key the scanner interprets.
    #[error("metadata key '{key}' must hold a {expected}")]
    WrongKeyType { key: String, expected: &'static str },

    /// `general.alignment` zero or not a power of two.
    #[error("general.alignment is {0}, but it must be a nonzero power of two")]
    BadAlignment(u64),

    /// A tensor with too many dimensions.
    #[error("tensor '{name}' has {n_dims} dimensions, more than the limit of {limit}")]
    TooManyDims {
        name: String,
        n_dims: u64,
        limit: u64,
    },

    /// A ggml type id this scanner does not know.
    #[error("tensor '{name}' has unknown ggml type {type_id}")]
    UnknownGgmlType { name: String, type_id: u32 },

    /// A GGUF tensor whose element count is not a whole number of quantisation blocks.
    #[error(
        "tensor '{name}' of type {dtype} has {numel} elements, not a multiple of its block size {block}"
    )]
    NotBlockMultiple {
        name: String,
        dtype: String,
        numel: u64,
        block: u64,
    },

    /// A GGUF tensor offset that is not a multiple of the alignment.
    #[error("tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}")]
    MisalignedOffset {
        name: String,
        offset: u64,
        alignment: u64,
    },

    /// A GGUF tensor whose absolute position overflows 64 bits.
    #[error(
        "tensor '{name}' offset {offset} overflows 64 bits once added to the data section start"
    )]
    OffsetOverflow { name: String, offset: u64 },

    /// A GGUF tensor that ends beyond the end of the file.
    #[error(
        "tensor '{name}' data [{begin}, {end}) runs past the end of the file ({file_size} bytes)"
    )]
    TensorPastEnd {
        name: String,
        begin: u64,
        end: u64,
        file_size: u64,
    },
}
