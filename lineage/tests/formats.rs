//! Tensor-manifest scanner: real safetensors and GGUF files written here, read back whole and in
//! 1-7 byte dribbles, and hostile headers that must each end in a `FormatError`.

use std::io::Read;

use grove_lineage::formats::{FileManifest, FormatError, Limits, WeightFormat, scan};
use half::{bf16, f16};
use serde_json::json;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Readers

/// Yields 1 to 7 bytes per `read` call, in a fixed pseudo-random pattern.
struct Dribble<'a> {
    data: &'a [u8],
    pos: usize,
    state: u64,
}

impl<'a> Dribble<'a> {
    fn new(data: &'a [u8], seed: u64) -> Self {
        Dribble {
            data,
            pos: 0,
            state: seed,
        }
    }
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let want = 1 + (self.state >> 33) as usize % 7;
        let n = want.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn scan_bytes(bytes: &[u8], format: WeightFormat) -> Result<FileManifest, FormatError> {
    scan(
        &mut &bytes[..],
        bytes.len() as u64,
        format,
        &Limits::default(),
    )
}

/// Scans whole and dribbled, checks both agree, returns the manifest.
fn scan_both(bytes: &[u8], format: WeightFormat) -> FileManifest {
    let whole = scan_bytes(bytes, format).expect("scan");
    for seed in [1, 2, 3] {
        let dribbled = scan(
            &mut Dribble::new(bytes, seed),
            bytes.len() as u64,
            format,
            &Limits::default(),
        )
        .expect("dribbled scan");
        assert_eq!(whole, dribbled);
    }
    whole
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| f16::from_f32(*v).to_le_bytes())
        .collect()
}

fn bf16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
        .collect()
}

/// The values a sample must hold: indices `k * n / 32`, or all of them below 32.
fn expected_sample(values: &[f32]) -> Vec<f32> {
    let n = values.len();
    if n < 32 {
        values.to_vec()
    } else {
        (0..32).map(|k| values[k * n / 32]).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// safetensors writer

struct StTensor {
    name: &'static str,
    dtype: &'static str,
    shape: Vec<u64>,
    data: Vec<u8>,
}

fn st(name: &'static str, dtype: &'static str, shape: &[u64], data: Vec<u8>) -> StTensor {
    StTensor {
        name,
        dtype,
        shape: shape.to_vec(),
        data,
    }
}

/// A safetensors file: header in the given order, data in the same order.
fn safetensors(tensors: &[StTensor], metadata: Option<serde_json::Value>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if let Some(m) = metadata {
        header.insert("__metadata__".into(), m);
    }
    let mut offset = 0u64;
    for t in tensors {
        let end = offset + t.data.len() as u64;
        header.insert(
            t.name.into(),
            json!({"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let data: Vec<u8> = tensors.iter().flat_map(|t| t.data.clone()).collect();
    raw_safetensors(&serde_json::to_string(&header).unwrap(), &data)
}

/// A safetensors file from a header text (padded with spaces to a multiple of 8) and data.
fn raw_safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header.as_bytes().to_vec();
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

fn st_err(bytes: &[u8]) -> FormatError {
    match scan_bytes(bytes, WeightFormat::Safetensors) {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => {
            // Every message is a readable sentence.
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

// ---------------------------------------------------------------------------------------------
// safetensors: valid files

#[test]
fn safetensors_manifest() {
    let w: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
    let h: Vec<f32> = (0..40).map(|i| i as f32 * 0.25).collect();
    let b: Vec<f32> = vec![1.0, -2.0, 3.5, 1024.0];
    let d: Vec<f64> = (0..33).map(|i| f64::from(i) * 1.5).collect();
    let i8s: Vec<u8> = vec![1, 2, 3, 4, 5];
    let scalar = f32_bytes(&[7.25]);
    let tensors = vec![
        st("model.w", "F32", &[2, 3], f32_bytes(&w)),
        st("model.h", "F16", &[40], f16_bytes(&h)),
        st("model.b", "BF16", &[2, 2], bf16_bytes(&b)),
        st("model.i", "I8", &[5], i8s.clone()),
        st(
            "model.d",
            "F64",
            &[3, 11],
            d.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        st("model.s", "F32", &[], scalar.clone()),
        st("model.empty", "F32", &[0, 4], vec![]),
    ];
    let bytes = safetensors(&tensors, Some(json!({"format": "pt", "base": "org/model"})));
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    let data_start = 8 + header_len;

    let m = scan_both(&bytes, WeightFormat::Safetensors);
    assert_eq!(m.format, WeightFormat::Safetensors);
    assert_eq!(m.data_start, data_start);
    assert_eq!(m.parameter_count, 6 + 40 + 4 + 5 + 33 + 1);
    assert_eq!(m.metadata.get("format").map(String::as_str), Some("pt"));
    assert_eq!(
        m.metadata.get("base").map(String::as_str),
        Some("org/model")
    );
    assert_eq!(m.metadata.len(), 2);

    // In file order, with absolute offsets that cover the data section exactly.
    let names: Vec<&str> = m.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "model.w",
            "model.h",
            "model.b",
            "model.i",
            "model.d",
            "model.s",
            "model.empty"
        ]
    );
    let mut at = data_start;
    for (entry, written) in m.tensors.iter().zip(&tensors) {
        assert_eq!(entry.dtype, written.dtype);
        assert_eq!(entry.shape, written.shape);
        assert_eq!(entry.begin, at);
        assert_eq!(entry.end, at + written.data.len() as u64);
        assert_eq!(
            &bytes[entry.begin as usize..entry.end as usize],
            &written.data[..]
        );
        assert_eq!(entry.hash, sha(&written.data));
        at = entry.end;
    }
    assert_eq!(at, bytes.len() as u64);

    let t = |name: &str| m.tensors.iter().find(|t| t.name == name).unwrap();
    assert_eq!(t("model.w").sample, Some(w.clone()));
    assert_eq!(t("model.h").sample, Some(expected_sample(&h)));
    assert_eq!(t("model.h").sample.as_ref().unwrap().len(), 32);
    assert_eq!(t("model.b").sample, Some(b.clone()));
    assert_eq!(t("model.i").sample, None);
    let d32: Vec<f32> = d.iter().map(|v| *v as f32).collect();
    assert_eq!(t("model.d").sample, Some(expected_sample(&d32)));
    assert_eq!(t("model.s").sample, Some(vec![7.25]));
    assert_eq!(t("model.empty").sample, Some(vec![]));
    assert_eq!(t("model.empty").hash, sha(&[]));
}

#[test]
fn safetensors_large_tensor_spans_chunks() {
    // 1.5 MiB of F32 crosses the 1 MiB streaming buffer.
    let values: Vec<f32> = (0..393_216).map(|i| (i as f32).sin()).collect();
    let data = f32_bytes(&values);
    let tail: Vec<f32> = vec![3.0; 100];
    let bytes = safetensors(
        &[
            st("big", "F32", &[384, 1024], data.clone()),
            st("tail", "BF16", &[100], bf16_bytes(&tail)),
        ],
        None,
    );
    let m = scan_bytes(&bytes, WeightFormat::Safetensors).unwrap();
    assert_eq!(m.tensors[0].hash, sha(&data));
    assert_eq!(m.tensors[0].sample, Some(expected_sample(&values)));
    assert_eq!(m.tensors[1].sample, Some(vec![3.0; 32]));
    assert_eq!(m.parameter_count, 393_216 + 100);
    assert!(m.metadata.is_empty());
}

#[test]
fn safetensors_without_tensors() {
    let bytes = raw_safetensors("{}", &[]);
    let m = scan_both(&bytes, WeightFormat::Safetensors);
    assert!(m.tensors.is_empty());
    assert_eq!(m.parameter_count, 0);
    assert_eq!(m.data_start, bytes.len() as u64);
}

#[test]
fn manifest_serialises() {
    let bytes = safetensors(&[st("a", "F32", &[1], f32_bytes(&[1.0]))], None);
    let m = scan_bytes(&bytes, WeightFormat::Safetensors).unwrap();
    let text = serde_json::to_string(&m).unwrap();
    assert!(text.contains("\"format\":\"safetensors\""));
    let back: FileManifest = serde_json::from_str(&text).unwrap();
    assert_eq!(back, m);
}

#[test]
fn weight_format_from_path() {
    assert_eq!(
        WeightFormat::from_path("model-00001-of-00002.safetensors"),
        Some(WeightFormat::Safetensors)
    );
    assert_eq!(
        WeightFormat::from_path("dir/Model.SafeTensors"),
        Some(WeightFormat::Safetensors)
    );
    assert_eq!(
        WeightFormat::from_path("q4/model.Q4_K_M.GGUF"),
        Some(WeightFormat::Gguf)
    );
    assert_eq!(WeightFormat::from_path("model.bin"), None);
    assert_eq!(WeightFormat::from_path("gguf"), None);
    assert_eq!(WeightFormat::from_path("model.gguf.part"), None);
    assert_eq!(WeightFormat::Gguf.as_str(), "gguf");
    assert_eq!(WeightFormat::Safetensors.as_str(), "safetensors");
    assert_eq!(
        serde_json::to_string(&WeightFormat::Gguf).unwrap(),
        "\"gguf\""
    );
    let limits = Limits::default();
    assert_eq!(limits.max_header_bytes, 100_000_000);
    assert_eq!(limits.max_tensors, 1_000_000);
    assert_eq!(limits.max_string_bytes, 16 * 1024 * 1024);
    assert_eq!(limits.max_metadata_entries, 1_000_000);
}

// ---------------------------------------------------------------------------------------------
// safetensors: hostile files

#[test]
fn safetensors_header_length_past_end() {
    let mut bytes = raw_safetensors("{}", &[]);
    bytes[..8].copy_from_slice(&1000u64.to_le_bytes());
    assert!(matches!(
        st_err(&bytes),
        FormatError::HeaderPastEnd { claimed: 1000, .. }
    ));
}

#[test]
fn safetensors_header_over_limit() {
    let mut bytes = raw_safetensors("{}", &[]);
    bytes[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let e = st_err(&bytes);
    assert!(matches!(e, FormatError::HeaderTooLarge { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "safetensors header claims {} bytes, more than the 100000000-byte limit",
            1u64 << 60
        )
    );
}

#[test]
fn safetensors_too_short_for_length() {
    assert!(matches!(st_err(&[1, 2, 3]), FormatError::PastEnd { .. }));
    assert!(matches!(st_err(&[]), FormatError::PastEnd { .. }));
}

#[test]
fn safetensors_invalid_json() {
    for header in [
        "{\"a\": {\"dtype\": \"F32\", ",
        "[1, 2]",
        "{\"a\": 5}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
        "{\"__metadata__\": {\"k\": 5}}",
        "{} {}",
        "",
    ] {
        assert!(
            matches!(
                st_err(&raw_safetensors(header, &[])),
                FormatError::HeaderJson(_)
            ),
            "{header}"
        );
    }
    let mut bytes = raw_safetensors("{\"\u{e9}\": 1}", &[]);
    let at = bytes.iter().position(|&b| b == 0xc3).unwrap();
    bytes[at] = 0xff;
    assert!(matches!(st_err(&bytes), FormatError::HeaderUtf8(_)));
}

#[test]
fn safetensors_unknown_dtype() {
    let bytes = safetensors(&[st("x", "F128", &[1], vec![0; 16])], None);
    let e = st_err(&bytes);
    assert!(matches!(e, FormatError::UnknownDtype { ref dtype, .. } if dtype == "F128"));
    assert_eq!(e.to_string(), "tensor 'x' has unknown dtype 'F128'");
}

#[test]
fn safetensors_offsets_out_of_range() {
    let header = r#"{"x": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#;
    let e = st_err(&raw_safetensors(header, &[0; 8]));
    assert_eq!(
        e.to_string(),
        "tensor 'x' data_offsets [4, 12] run past the end of the data section (8 bytes)"
    );
    let header = format!(
        r#"{{"x": {{"dtype": "U8", "shape": [1], "data_offsets": [{}, {}]}}}}"#,
        u64::MAX - 1,
        u64::MAX
    );
    assert!(matches!(
        st_err(&raw_safetensors(&header, &[0; 8])),
        FormatError::OffsetsOutOfRange { .. }
    ));
    let header = r#"{"x": {"dtype": "U8", "shape": [1], "data_offsets": [5, 4]}}"#;
    assert!(matches!(
        st_err(&raw_safetensors(header, &[0; 8])),
        FormatError::ReversedOffsets { .. }
    ));
}

#[test]
fn safetensors_overlap() {
    let header = r#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#;
    let e = st_err(&raw_safetensors(header, &[0; 12]));
    assert_eq!(e.to_string(), "tensors 'a' and 'b' overlap");
}

#[test]
fn safetensors_gap() {
    let header = r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                     "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#;
    assert!(matches!(
        st_err(&raw_safetensors(header, &[0; 12])),
        FormatError::Gap { begin: 4, end: 8 }
    ));
    // Uncovered bytes after the last tensor.
    let header = r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#;
    assert!(matches!(
        st_err(&raw_safetensors(header, &[0; 6])),
        FormatError::Gap { begin: 4, end: 6 }
    ));
    // Not starting at 0.
    let header = r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#;
    assert!(matches!(
        st_err(&raw_safetensors(header, &[0; 8])),
        FormatError::Gap { begin: 0, end: 4 }
    ));
}

#[test]
fn safetensors_shape_overflow() {
    let header = format!(
        r#"{{"x": {{"dtype": "F32", "shape": [{m}, {m}], "data_offsets": [0, 4]}}}}"#,
        m = u64::MAX
    );
    assert!(matches!(
        st_err(&raw_safetensors(&header, &[0; 4])),
        FormatError::ShapeOverflow { .. }
    ));
    // The element count fits, the byte count does not.
    let header = format!(
        r#"{{"x": {{"dtype": "F32", "shape": [{}], "data_offsets": [0, 4]}}}}"#,
        u64::MAX / 2
    );
    assert!(matches!(
        st_err(&raw_safetensors(&header, &[0; 4])),
        FormatError::ShapeOverflow { .. }
    ));
}

#[test]
fn safetensors_size_mismatch() {
    let header = r#"{"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#;
    assert!(matches!(
        st_err(&raw_safetensors(header, &[0; 8])),
        FormatError::SizeMismatch {
            expected: 12,
            actual: 8,
            ..
        }
    ));
}

#[test]
fn safetensors_duplicate_name() {
    let header = r#"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                     "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}"#;
    assert!(matches!(
        st_err(&raw_safetensors(header, &[0; 2])),
        FormatError::DuplicateTensor(ref n) if n == "a"
    ));
}

#[test]
fn safetensors_too_many_tensors() {
    let tensors: Vec<StTensor> = ["a", "b", "c"]
        .into_iter()
        .map(|n| st(n, "U8", &[1], vec![1]))
        .collect();
    let bytes = safetensors(&tensors, None);
    let limits = Limits {
        max_tensors: 2,
        ..Limits::default()
    };
    let e = scan(
        &mut &bytes[..],
        bytes.len() as u64,
        WeightFormat::Safetensors,
        &limits,
    )
    .unwrap_err();
    assert!(matches!(
        e,
        FormatError::TooManyTensors { count: 3, limit: 2 }
    ));
}

#[test]
fn safetensors_truncated() {
    let bytes = safetensors(&[st("a", "F32", &[1000], vec![0; 4000])], None);
    for keep in [4, 8, 20, bytes.len() - 1] {
        let e = scan(
            &mut &bytes[..keep],
            bytes.len() as u64,
            WeightFormat::Safetensors,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(e, FormatError::Truncated { at, expected } if at == keep as u64 && expected == bytes.len() as u64),
            "{keep}: {e}"
        );
    }
    // A declared size smaller than the data: the last tensor runs past the data section.
    let e = scan(
        &mut &bytes[..],
        bytes.len() as u64 - 1,
        WeightFormat::Safetensors,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, FormatError::OffsetsOutOfRange { .. }));
}

#[test]
fn io_errors_surface() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("connection reset"))
        }
    }
    let e = scan(&mut Failing, 100, WeightFormat::Gguf, &Limits::default()).unwrap_err();
    assert!(matches!(e, FormatError::Io(_)));
    assert!(e.to_string().contains("connection reset"));
}

// ---------------------------------------------------------------------------------------------
// GGUF writer

const GGML_F32: u32 = 0;
const GGML_F16: u32 = 1;
const GGML_Q4_0: u32 = 2;
const GGML_Q8_0: u32 = 8;
const GGML_Q4_K: u32 = 12;
const GGML_BF16: u32 = 30;

/// Writes GGUF structures field by field; tests assemble valid and hostile files from it.
#[derive(Default)]
struct Gguf {
    buf: Vec<u8>,
}

impl Gguf {
    fn header(version: u32, tensors: u64, kvs: u64) -> Self {
        let mut g = Gguf::default();
        g.buf.extend_from_slice(b"GGUF");
        g.u32(version).u64(tensors).u64(kvs);
        g
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    fn string(&mut self, s: &str) -> &mut Self {
        self.u64(s.len() as u64).bytes(s.as_bytes())
    }
    fn kv_str(&mut self, key: &str, value: &str) -> &mut Self {
        self.string(key).u32(8).string(value)
    }
    fn kv_u32(&mut self, key: &str, value: u32) -> &mut Self {
        self.string(key).u32(4).u32(value)
    }
    fn tensor_info(&mut self, name: &str, ne: &[u64], ggml_type: u32, offset: u64) -> &mut Self {
        self.string(name).u32(ne.len() as u32);
        for &d in ne {
            self.u64(d);
        }
        self.u32(ggml_type).u64(offset)
    }
    fn pad_to(&mut self, alignment: usize) -> &mut Self {
        while !self.buf.len().is_multiple_of(alignment) {
            self.buf.push(0);
        }
        self
    }
}

struct GgTensor {
    name: &'static str,
    ne: Vec<u64>,
    ggml_type: u32,
    data: Vec<u8>,
}

fn gg(name: &'static str, ne: &[u64], ggml_type: u32, data: Vec<u8>) -> GgTensor {
    GgTensor {
        name,
        ne: ne.to_vec(),
        ggml_type,
        data,
    }
}

/// A complete GGUF v3 file: `kvs` writes `kv_count` entries (general.alignment is added first when
/// it is not 32); tensors are laid out in order, each at the next aligned offset.
fn gguf_file(
    kv_count: u64,
    kvs: impl FnOnce(&mut Gguf),
    tensors: &[GgTensor],
    alignment: u32,
) -> (Vec<u8>, u64, Vec<u64>) {
    let extra = u64::from(alignment != 32);
    let mut g = Gguf::header(3, tensors.len() as u64, kv_count + extra);
    if alignment != 32 {
        g.kv_u32("general.alignment", alignment);
    }
    kvs(&mut g);
    let mut offsets = Vec::new();
    let mut offset = 0u64;
    for t in tensors {
        offset = offset.next_multiple_of(u64::from(alignment));
        g.tensor_info(t.name, &t.ne, t.ggml_type, offset);
        offsets.push(offset);
        offset += t.data.len() as u64;
    }
    g.pad_to(alignment as usize);
    let data_start = g.buf.len() as u64;
    for t in tensors {
        g.pad_to(alignment as usize);
        g.bytes(&t.data);
    }
    (g.buf, data_start, offsets)
}

fn gguf_err(bytes: &[u8]) -> FormatError {
    match scan_bytes(bytes, WeightFormat::Gguf) {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

/// A minimal valid prefix: header with the given counts and one u32 key.
fn gguf_prefix(tensors: u64, kvs: u64) -> Gguf {
    Gguf::header(3, tensors, kvs)
}

// ---------------------------------------------------------------------------------------------
// GGUF: valid files

#[test]
fn gguf_manifest() {
    let w: Vec<f32> = (0..6).map(|i| i as f32 - 2.5).collect();
    let h: Vec<f32> = (0..100).map(|i| i as f32 / 8.0).collect();
    let b: Vec<f32> = (0..64).map(|i| -(i as f32)).collect();
    let q4: Vec<u8> = (0..72).map(|i| i as u8).collect(); // 2 rows × 2 blocks × 18 bytes
    let q8: Vec<u8> = (0..34).map(|i| 255 - i as u8).collect(); // 1 block
    let q4k: Vec<u8> = vec![9; 144]; // 1 block of 256
    let tensors = vec![
        gg("token_embd.weight", &[3, 2], GGML_F32, f32_bytes(&w)),
        gg("blk.0.attn_norm.weight", &[100], GGML_F16, f16_bytes(&h)),
        gg("blk.0.ffn_up.weight", &[16, 4], GGML_BF16, bf16_bytes(&b)),
        gg("blk.0.attn_q.weight", &[64, 2], GGML_Q4_0, q4.clone()),
        gg("blk.0.attn_k.weight", &[32], GGML_Q8_0, q8.clone()),
        gg("blk.0.ffn_down.weight", &[256, 1], GGML_Q4_K, q4k.clone()),
    ];
    let tokens: Vec<String> = (0..1000).map(|i| format!("tok{i}")).collect();
    let long = "x".repeat(5000);
    let (mut bytes, data_start, offsets) = gguf_file(
        13,
        |g| {
            g.kv_str("general.architecture", "llama")
                .kv_str("general.name", "Tiny Llama")
                .kv_u32("general.base_model.count", 1)
                .kv_str("general.base_model.0.name", "Llama 3 8B")
                .kv_str("general.base_model.0.organization", "Meta Llama")
                .kv_str("general.base_model.0.version", "3")
                .kv_str(
                    "general.base_model.0.repo_url",
                    "https://huggingface.co/meta-llama/x",
                );
            g.string("llama.rope.freq_base")
                .u32(6)
                .bytes(&10000.5f32.to_le_bytes());
            g.string("general.quantized").u32(7).bytes(&[1]);
            g.string("llama.ctx").u32(11).bytes(&(-5i64).to_le_bytes());
            // 1000-token vocabulary: skipped, only its length kept.
            g.string("tokenizer.ggml.tokens").u32(9).u32(8).u64(1000);
            for t in &tokens {
                g.string(t);
            }
            // A nested array (array of arrays of i32) is skipped too.
            g.string("nested").u32(9).u32(9).u64(2);
            g.u32(5).u64(3).bytes(&[0; 12]);
            g.u32(5).u64(0);
            // A string over 1 KiB is skipped.
            g.kv_str("tokenizer.chat_template", &long);
        },
        &tensors,
        64,
    );
    // Trailing bytes after the last tensor are allowed in GGUF.
    bytes.extend_from_slice(&[0xee; 10]);

    let m = scan_both(&bytes, WeightFormat::Gguf);
    assert_eq!(m.format, WeightFormat::Gguf);
    assert_eq!(m.data_start, data_start);
    assert_eq!(data_start % 64, 0);
    assert_eq!(m.parameter_count, 6 + 100 + 64 + 128 + 32 + 256);

    let md = |k: &str| m.metadata.get(k).map(String::as_str);
    assert_eq!(md("general.architecture"), Some("llama"));
    assert_eq!(md("general.name"), Some("Tiny Llama"));
    assert_eq!(md("general.base_model.count"), Some("1"));
    assert_eq!(md("general.base_model.0.name"), Some("Llama 3 8B"));
    assert_eq!(md("general.base_model.0.organization"), Some("Meta Llama"));
    assert_eq!(md("general.base_model.0.version"), Some("3"));
    assert_eq!(
        md("general.base_model.0.repo_url"),
        Some("https://huggingface.co/meta-llama/x")
    );
    assert_eq!(md("general.alignment"), Some("64"));
    assert_eq!(md("llama.rope.freq_base"), Some("10000.5"));
    assert_eq!(md("general.quantized"), Some("true"));
    assert_eq!(md("llama.ctx"), Some("-5"));
    assert_eq!(md("tokenizer.ggml.tokens"), None);
    assert_eq!(md("tokenizer.ggml.tokens.len"), Some("1000"));
    assert_eq!(md("nested.len"), Some("2"));
    assert_eq!(md("tokenizer.chat_template"), None);

    let expected_shapes: [&[u64]; 6] = [&[2, 3], &[100], &[4, 16], &[2, 64], &[32], &[1, 256]];
    let dtypes = ["F32", "F16", "BF16", "Q4_0", "Q8_0", "Q4_K"];
    assert_eq!(m.tensors.len(), 6);
    for (i, entry) in m.tensors.iter().enumerate() {
        assert_eq!(entry.name, tensors[i].name);
        assert_eq!(entry.dtype, dtypes[i]);
        assert_eq!(entry.shape, expected_shapes[i]);
        assert_eq!(entry.begin, data_start + offsets[i]);
        assert_eq!(entry.end, entry.begin + tensors[i].data.len() as u64);
        assert_eq!(entry.hash, sha(&tensors[i].data));
    }
    assert_eq!(m.tensors[0].sample, Some(w));
    assert_eq!(m.tensors[1].sample, Some(expected_sample(&h)));
    assert_eq!(m.tensors[2].sample, Some(expected_sample(&b)));
    assert_eq!(m.tensors[3].sample, None);
    assert_eq!(m.tensors[5].sample, None);
}

#[test]
fn gguf_version_2_and_default_alignment() {
    let values: Vec<f32> = vec![1.0, 2.0, 3.0];
    let (mut bytes, data_start, _) = gguf_file(
        1,
        |g| {
            g.kv_str("general.architecture", "gpt2");
        },
        &[
            gg("a", &[3], GGML_F32, f32_bytes(&values)),
            gg("b", &[1], GGML_F32, f32_bytes(&[4.0])),
        ],
        32,
    );
    bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
    let m = scan_both(&bytes, WeightFormat::Gguf);
    assert_eq!(data_start % 32, 0);
    assert_eq!(m.data_start, data_start);
    assert_eq!(m.tensors[0].sample, Some(values));
    // The second tensor sits at the next multiple of 32 after the first's 12 bytes.
    assert_eq!(m.tensors[1].begin, data_start + 32);
    assert_eq!(m.tensors[1].sample, Some(vec![4.0]));
    assert_eq!(m.parameter_count, 4);
}

#[test]
fn gguf_tensors_listed_out_of_offset_order() {
    // Tensor infos in a different order than their data: the manifest is in file order.
    let mut g = Gguf::header(3, 2, 0);
    g.tensor_info("second", &[8], GGML_F32, 32);
    g.tensor_info("first", &[8], GGML_F32, 0);
    g.pad_to(32);
    let data_start = g.buf.len() as u64;
    let first = f32_bytes(&[1.0; 8]);
    let second = f32_bytes(&[2.0; 8]);
    g.bytes(&first).bytes(&second);
    let m = scan_both(&g.buf, WeightFormat::Gguf);
    assert_eq!(m.tensors[0].name, "first");
    assert_eq!(m.tensors[0].begin, data_start);
    assert_eq!(m.tensors[0].hash, sha(&first));
    assert_eq!(m.tensors[1].name, "second");
    assert_eq!(m.tensors[1].hash, sha(&second));
}

#[test]
fn gguf_without_tensors() {
    let mut g = Gguf::header(3, 0, 1);
    g.kv_str("general.architecture", "llama");
    // No padding after the header at all.
    let m = scan_both(&g.buf, WeightFormat::Gguf);
    assert!(m.tensors.is_empty());
    assert_eq!(m.data_start, g.buf.len() as u64);
    assert_eq!(m.metadata.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// GGUF: hostile files

#[test]
fn gguf_bad_magic() {
    let mut g = Gguf::header(3, 0, 0);
    g.buf[..4].copy_from_slice(b"GGML");
    assert!(matches!(gguf_err(&g.buf), FormatError::BadMagic(m) if &m == b"GGML"));
    assert!(matches!(gguf_err(b"GG"), FormatError::PastEnd { .. }));
}

#[test]
fn gguf_unsupported_version() {
    for version in [0, 1, 4, 0x0300_0000] {
        let g = Gguf::header(version, 0, 0);
        assert!(matches!(gguf_err(&g.buf), FormatError::UnsupportedVersion(v) if v == version));
    }
}

#[test]
fn gguf_huge_counts() {
    let g = gguf_prefix(1 << 60, 0);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::TooManyTensors { .. }
    ));
    let g = gguf_prefix(0, 1 << 60);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::TooManyMetadataEntries { .. }
    ));
    // Within the limits, but more than the file could hold.
    let g = gguf_prefix(900_000, 900_000);
    assert!(matches!(gguf_err(&g.buf), FormatError::PastEnd { .. }));
}

#[test]
fn gguf_huge_string() {
    // Key length 2^60.
    let mut g = gguf_prefix(0, 1);
    g.u64(1 << 60).bytes(b"abcdefgh");
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::StringTooLong { .. }
    ));
    // Value length within the limit but past the end of the file.
    let mut g = gguf_prefix(0, 1);
    g.string("k").u32(8).u64(1000).bytes(b"short");
    assert!(matches!(gguf_err(&g.buf), FormatError::PastEnd { .. }));
    // Tensor name length 2^60.
    let mut g = gguf_prefix(1, 0);
    g.u64(1 << 60).bytes(&[0; 64]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::StringTooLong { .. }
    ));
}

#[test]
fn gguf_huge_arrays() {
    for element_type in [0u32, 12, 8, 9] {
        let mut g = gguf_prefix(0, 1);
        g.string("tokenizer.ggml.tokens")
            .u32(9)
            .u32(element_type)
            .u64(1 << 60);
        g.bytes(&[0; 64]);
        assert!(
            matches!(gguf_err(&g.buf), FormatError::PastEnd { .. }),
            "element type {element_type}"
        );
    }
    // count × size overflows 64 bits.
    let mut g = gguf_prefix(0, 1);
    g.string("k").u32(9).u32(12).u64(u64::MAX);
    assert!(matches!(gguf_err(&g.buf), FormatError::PastEnd { .. }));
    // A string element whose length is huge.
    let mut g = gguf_prefix(0, 1);
    g.string("k").u32(9).u32(8).u64(1).u64(1 << 60);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::StringTooLong { .. }
    ));
}

#[test]
fn gguf_arrays_nested_too_deep() {
    let mut g = gguf_prefix(0, 1);
    g.string("deep").u32(9);
    for _ in 0..10 {
        g.u32(9).u64(1);
    }
    g.u32(0).u64(0);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::ArrayTooDeep { ref key, .. } if key == "deep"
    ));
    // Four levels are fine.
    let mut g = gguf_prefix(0, 1);
    g.string("ok").u32(9);
    for _ in 0..3 {
        g.u32(9).u64(1);
    }
    g.u32(0).u64(2).bytes(&[7, 8]);
    let m = scan_bytes(&g.buf, WeightFormat::Gguf).unwrap();
    assert_eq!(m.metadata.get("ok.len").map(String::as_str), Some("1"));
}

#[test]
fn gguf_unknown_value_type() {
    let mut g = gguf_prefix(0, 1);
    g.string("k").u32(13).u64(0);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::UnknownValueType { value_type: 13, .. }
    ));
    let mut g = gguf_prefix(0, 1);
    g.string("k").u32(9).u32(99).u64(1).u64(0);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::UnknownValueType { value_type: 99, .. }
    ));
}

#[test]
fn gguf_duplicate_key_and_tensor() {
    let mut g = gguf_prefix(0, 2);
    g.kv_str("general.name", "a").kv_str("general.name", "b");
    assert!(matches!(gguf_err(&g.buf), FormatError::DuplicateKey(ref k) if k == "general.name"));

    let mut g = gguf_prefix(2, 0);
    g.tensor_info("t", &[1], GGML_F32, 0);
    g.tensor_info("t", &[1], GGML_F32, 32);
    g.pad_to(32).bytes(&[0; 64]);
    assert!(matches!(gguf_err(&g.buf), FormatError::DuplicateTensor(ref n) if n == "t"));
}

#[test]
fn gguf_offset_overflow() {
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[1], GGML_F32, u64::MAX);
    g.pad_to(32).bytes(&[0; 32]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::OffsetOverflow { .. }
    ));
    // Aligned but far past the end.
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[1], GGML_F32, 1 << 40);
    g.pad_to(32).bytes(&[0; 32]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::TensorPastEnd { .. }
    ));
    // Misaligned.
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[1], GGML_F32, 4);
    g.pad_to(32).bytes(&[0; 32]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::MisalignedOffset { .. }
    ));
}

#[test]
fn gguf_shape_overflow() {
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[u64::MAX, u64::MAX], GGML_F32, 0);
    g.pad_to(32).bytes(&[0; 32]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::ShapeOverflow { .. }
    ));
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[u64::MAX / 2], GGML_F32, 0);
    g.pad_to(32).bytes(&[0; 32]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::ShapeOverflow { .. }
    ));
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[1; 9], GGML_F32, 0);
    g.pad_to(32).bytes(&[0; 32]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::TooManyDims { n_dims: 9, .. }
    ));
}

#[test]
fn gguf_overlapping_tensors() {
    let mut g = gguf_prefix(2, 0);
    g.tensor_info("a", &[16], GGML_F32, 0);
    g.tensor_info("b", &[16], GGML_F32, 32);
    g.pad_to(32).bytes(&[0; 128]);
    let e = gguf_err(&g.buf);
    assert_eq!(e.to_string(), "tensors 'a' and 'b' overlap");
}

#[test]
fn gguf_unknown_ggml_type() {
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[32], 4, 0);
    g.pad_to(32).bytes(&[0; 64]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::UnknownGgmlType { type_id: 4, .. }
    ));
    let mut g = gguf_prefix(1, 0);
    g.tensor_info("t", &[33], GGML_Q8_0, 0);
    g.pad_to(32).bytes(&[0; 64]);
    assert!(matches!(
        gguf_err(&g.buf),
        FormatError::NotBlockMultiple { .. }
    ));
}

#[test]
fn gguf_bad_alignment() {
    for alignment in [0u32, 48] {
        let mut g = gguf_prefix(0, 1);
        g.kv_u32("general.alignment", alignment);
        assert!(
            matches!(gguf_err(&g.buf), FormatError::BadAlignment(a) if a == u64::from(alignment))
        );
    }
    let mut g = gguf_prefix(0, 1);
    g.kv_str("general.alignment", "32");
    assert!(matches!(gguf_err(&g.buf), FormatError::WrongKeyType { .. }));
}

#[test]
fn gguf_truncated() {
    let (bytes, data_start, _) = gguf_file(
        1,
        |g| {
            g.kv_str("general.architecture", "llama");
        },
        &[gg("t", &[1000], GGML_F32, vec![1; 4000])],
        32,
    );
    for keep in [
        3,
        20,
        data_start as usize - 1,
        data_start as usize + 100,
        bytes.len() - 1,
    ] {
        let e = scan(
            &mut &bytes[..keep],
            bytes.len() as u64,
            WeightFormat::Gguf,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(e, FormatError::Truncated { at, .. } if at == keep as u64),
            "{keep}: {e}"
        );
    }
    // Declared file size shorter than the tensor data.
    let e = scan(
        &mut &bytes[..],
        bytes.len() as u64 - 1,
        WeightFormat::Gguf,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, FormatError::TensorPastEnd { .. }));
}

#[test]
fn gguf_invalid_utf8_key() {
    let mut g = gguf_prefix(0, 1);
    g.u64(2).bytes(&[0xff, 0xfe]).u32(4).u32(1);
    assert!(matches!(gguf_err(&g.buf), FormatError::InvalidUtf8 { .. }));
}

#[test]
fn memory_bounds_from_limits() {
    // A safetensors shape with 65 dimensions.
    let dims = vec!["1"; 65].join(",");
    let header =
        format!(r#"{{"x": {{"dtype": "U8", "shape": [{dims}], "data_offsets": [0, 1]}}}}"#);
    assert!(matches!(
        st_err(&raw_safetensors(&header, &[0])),
        FormatError::TooManyDims { n_dims: 65, .. }
    ));
    let limits = Limits {
        max_metadata_entries: 2,
        max_header_bytes: 40,
        ..Limits::default()
    };
    // safetensors __metadata__ entries beyond the limit.
    let bytes = safetensors(&[], Some(json!({"a": "1", "b": "2", "c": "3"})));
    let e = scan(
        &mut &bytes[..],
        bytes.len() as u64,
        WeightFormat::Safetensors,
        &Limits {
            max_header_bytes: 1000,
            ..limits
        },
    )
    .unwrap_err();
    assert!(matches!(
        e,
        FormatError::TooManyMetadataEntries { count: 3, limit: 2 }
    ));
    // GGUF: kept keys and values add up past the header-size limit...
    let mut g = gguf_prefix(0, 2);
    g.kv_str("general.name", "twenty bytes of name")
        .kv_str("general.architecture", "llama");
    let e = scan(
        &mut &g.buf[..],
        g.buf.len() as u64,
        WeightFormat::Gguf,
        &limits,
    )
    .unwrap_err();
    assert!(matches!(e, FormatError::GgufHeaderTooLarge { limit: 40 }));
    // ...while a long skipped array does not count.
    let mut g = gguf_prefix(0, 1);
    g.string("tokens").u32(9).u32(8).u64(100);
    for _ in 0..100 {
        g.string("token");
    }
    let m = scan(
        &mut &g.buf[..],
        g.buf.len() as u64,
        WeightFormat::Gguf,
        &limits,
    )
    .unwrap();
    assert_eq!(
        m.metadata.get("tokens.len").map(String::as_str),
        Some("100")
    );
}
