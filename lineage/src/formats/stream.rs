//! The sequential reader under both formats, and the streaming of the data section.

use std::io::{ErrorKind, Read};

use sha2::{Digest, Sha256};

use super::{CHUNK_BYTES, FormatError, PlannedTensor, SAMPLE_LEN, SampleKind, TensorEntry};

/// A reader that knows its position and the declared file size, and never reads past the latter.
pub(crate) struct Source<'r, R: Read + ?Sized> {
    inner: &'r mut R,
    pos: u64,
    file_size: u64,
}

impl<'r, R: Read + ?Sized> Source<'r, R> {
    pub fn new(inner: &'r mut R, file_size: u64) -> Self {
        Source {
            inner,
            pos: 0,
            file_size,
        }
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    pub fn remaining(&self) -> u64 {
        self.file_size - self.pos
    }

    /// Refuses, before anything is allocated or read, a structure of `needed` bytes that the rest
    /// of the file cannot hold.
    pub fn ensure(&self, what: &str, needed: u64) -> Result<(), FormatError> {
        if needed > self.remaining() {
            return Err(FormatError::PastEnd {
                what: what.to_string(),
                at: self.pos,
                needed,
                available: self.remaining(),
            });
        }
        Ok(())
    }

    /// One `read` call into `buf` (non-empty, within the file), retried on interruption; an early
    /// end of the reader is [`FormatError::Truncated`].
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, FormatError> {
        loop {
            match self.inner.read(buf) {
                Ok(0) => {
                    return Err(FormatError::Truncated {
                        at: self.pos,
                        expected: self.file_size,
                    });
                }
                Ok(n) => {
                    // A reader must not claim more than it was given; clamp rather than trust it.
                    let n = n.min(buf.len());
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(FormatError::Io(e)),
            }
        }
    }

    /// Fills `buf` completely; `what` names it in the error if the file is too short.
    pub fn read_exact(&mut self, what: &str, buf: &mut [u8]) -> Result<(), FormatError> {
        self.ensure(what, buf.len() as u64)?;
        let mut filled = 0;
        while filled < buf.len() {
            filled += self.read_some(&mut buf[filled..])?;
        }
        Ok(())
    }

    pub fn read_array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], FormatError> {
        let mut buf = [0u8; N];
        self.read_exact(what, &mut buf)?;
        Ok(buf)
    }

    pub fn read_u32(&mut self, what: &str) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.read_array(what)?))
    }

    pub fn read_u64(&mut self, what: &str) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.read_array(what)?))
    }

    /// Reads `len` bytes into a new vector. The caller has bounded `len` by a limit; it is also
    /// checked against the rest of the file, and the vector grows only as bytes arrive.
    pub fn read_vec(&mut self, what: &str, len: u64) -> Result<Vec<u8>, FormatError> {
        self.ensure(what, len)?;
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        let mut left = len;
        while left > 0 {
            let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = self.read_some(&mut chunk[..want])?;
            out.extend_from_slice(&chunk[..n]);
            left -= n as u64;
        }
        Ok(out)
    }

    /// Reads and drops `len` bytes.
    pub fn skip(&mut self, what: &str, len: u64) -> Result<(), FormatError> {
        self.ensure(what, len)?;
        let mut chunk = [0u8; 8192];
        let mut left = len;
        while left > 0 {
            let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            left -= self.read_some(&mut chunk[..want])? as u64;
        }
        Ok(())
    }
}

/// Streams the rest of the file (up to its declared size) and turns each planned tensor into an
/// entry with the hash and sample of its bytes. `tensors` must be sorted by `begin`, must not
/// overlap, must not start before the current position and must end within the file.
pub(crate) fn stream_data<R: Read + ?Sized>(
    source: &mut Source<'_, R>,
    tensors: Vec<PlannedTensor>,
) -> Result<Vec<TensorEntry>, FormatError> {
    let mut entries = Vec::with_capacity(tensors.len());
    let mut next = 0usize;
    let mut current: Option<TensorState> = None;
    let buf_len = usize::try_from(source.remaining())
        .unwrap_or(usize::MAX)
        .min(CHUNK_BYTES);
    let mut buf = vec![0u8; buf_len];

    while source.remaining() > 0 {
        let chunk_start = source.pos();
        let want = usize::try_from(source.remaining())
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = source.read_some(&mut buf[..want])?;
        let chunk = &buf[..n];
        let chunk_end = chunk_start + n as u64;

        while let Some(t) = tensors.get(next) {
            let from = t.begin.max(chunk_start);
            let to = t.end.min(chunk_end);
            if from < to {
                let state = current.get_or_insert_with(|| TensorState::new(t));
                let lo = (from - chunk_start) as usize;
                let hi = (to - chunk_start) as usize;
                state.feed(from - t.begin, &chunk[lo..hi]);
            }
            if t.end > chunk_end {
                break;
            }
            let state = current.take().unwrap_or_else(|| TensorState::new(t));
            entries.push(state.finish(t));
            next += 1;
        }
    }

    // Zero-byte tensors at the very end of the file are complete without any data.
    for t in &tensors[next..] {
        let state = current.take().unwrap_or_else(|| TensorState::new(t));
        entries.push(state.finish(t));
    }
    Ok(entries)
}

/// The hash and sample of one tensor while its bytes stream past.
struct TensorState {
    hasher: Sha256,
    sampler: Option<Sampler>,
}

impl TensorState {
    fn new(t: &PlannedTensor) -> Self {
        TensorState {
            hasher: Sha256::new(),
            sampler: t.sample.map(|kind| Sampler::new(kind, t.numel)),
        }
    }

    /// `bytes` are the tensor's bytes starting at offset `rel` within the tensor.
    fn feed(&mut self, rel: u64, bytes: &[u8]) {
        self.hasher.update(bytes);
        if let Some(sampler) = &mut self.sampler {
            sampler.feed(rel, bytes);
        }
    }

    fn finish(self, t: &PlannedTensor) -> TensorEntry {
        TensorEntry {
            name: t.name.clone(),
            dtype: t.dtype.clone(),
            shape: t.shape.clone(),
            begin: t.begin,
            end: t.end,
            hash: hex::encode(self.hasher.finalize()),
            sample: self.sampler.map(|s| s.values),
        }
    }
}

/// Picks elements `k * numel / 32` out of a byte stream, assembling those split across chunks.
struct Sampler {
    kind: SampleKind,
    numel: u64,
    /// How many sample values exist: `min(numel, 32)`.
    count: u64,
    values: Vec<f32>,
    /// Bytes gathered so far of the element `values.len()` is waiting for.
    partial: [u8; 8],
    filled: usize,
}

impl Sampler {
    fn new(kind: SampleKind, numel: u64) -> Self {
        Sampler {
            kind,
            numel,
            count: numel.min(SAMPLE_LEN),
            values: Vec::new(),
            partial: [0; 8],
            filled: 0,
        }
    }

    /// Element index of the `k`-th sample value.
    fn element(&self, k: u64) -> u64 {
        if self.numel < SAMPLE_LEN {
            k
        } else {
            // k < 32, so the product fits in 128 bits and the quotient is below numel.
            (u128::from(k) * u128::from(self.numel) / u128::from(SAMPLE_LEN)) as u64
        }
    }

    fn feed(&mut self, rel: u64, bytes: &[u8]) {
        let size = self.kind.size();
        let end = rel + bytes.len() as u64;
        while (self.values.len() as u64) < self.count {
            // The byte offset inside the tensor of the next byte wanted.
            let element = self.element(self.values.len() as u64);
            let wanted = element * size as u64 + self.filled as u64;
            if wanted >= end {
                return;
            }
            if wanted < rel {
                // Cannot happen with sequential feeding; never index below the slice.
                return;
            }
            let at = (wanted - rel) as usize;
            let take = (size - self.filled).min(bytes.len() - at);
            self.partial[self.filled..self.filled + take].copy_from_slice(&bytes[at..at + take]);
            self.filled += take;
            if self.filled == size {
                self.values.push(self.kind.decode(&self.partial));
                self.partial = [0; 8];
                self.filled = 0;
            }
        }
    }
}
