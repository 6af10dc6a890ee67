//! Spooling uploaded content to disk while hashing it, so a large inline file never sits in
//! memory: the commit parser writes decoded bytes here, and the commit then stores the file in git
//! (small text) or in the blob store (large or binary) from the spool file.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::ndjson::ContentSink;

/// How many leading bytes are checked for NUL to call content binary (git's own heuristic).
const BINARY_SNIFF: usize = 8000;

/// One spooled content: the temp file (deleted on drop), its size, sha256, and whether it looks
/// binary.
#[derive(Debug)]
pub struct Spooled {
    pub file: NamedTempFile,
    pub size: u64,
    pub sha256: String,
    pub binary: bool,
}

impl Spooled {
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

struct Current {
    writer: std::io::BufWriter<NamedTempFile>,
    hasher: Sha256,
    size: u64,
    binary: bool,
}

/// A [`ContentSink`] writing each content to its own temp file under `dir`.
pub struct SpoolSink {
    dir: PathBuf,
    max_size: u64,
    current: Option<Current>,
}

impl SpoolSink {
    pub fn new(dir: PathBuf, max_size: u64) -> Self {
        Self {
            dir,
            max_size,
            current: None,
        }
    }

    fn finish(&mut self) -> Result<Option<Spooled>, String> {
        let Some(current) = self.current.take() else {
            return Ok(None);
        };
        let file = current
            .writer
            .into_inner()
            .map_err(|e| format!("cannot write the spool file: {}", e.error()))?;
        file.as_file()
            .sync_data()
            .map_err(|e| format!("cannot write the spool file: {e}"))?;
        Ok(Some(Spooled {
            file,
            size: current.size,
            sha256: hex::encode(current.hasher.finalize()),
            binary: current.binary,
        }))
    }
}

impl ContentSink for SpoolSink {
    type Content = Spooled;

    fn take(&mut self) -> Result<Option<Spooled>, String> {
        self.finish()
    }

    fn begin(&mut self) -> Result<(), String> {
        let file = NamedTempFile::new_in(&self.dir)
            .map_err(|e| format!("cannot create a spool file: {e}"))?;
        self.current = Some(Current {
            writer: std::io::BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            size: 0,
            binary: false,
        });
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        let Some(current) = &mut self.current else {
            return Err("content without a line".into());
        };
        if current.size < BINARY_SNIFF as u64 {
            let head = (BINARY_SNIFF as u64 - current.size).min(bytes.len() as u64) as usize;
            current.binary |= bytes[..head].contains(&0);
        }
        current.size += bytes.len() as u64;
        if current.size > self.max_size {
            return Err(format!(
                "a file's content is larger than {} bytes",
                self.max_size
            ));
        }
        current.hasher.update(bytes);
        current
            .writer
            .write_all(bytes)
            .map_err(|e| format!("cannot write the spool file: {e}"))
    }
}

/// The bytes of `paths`, one after another, as a stream of chunks for the blob store.
pub fn file_stream(
    paths: Vec<PathBuf>,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    use tokio::io::AsyncReadExt;
    let state = (paths.into_iter(), None::<tokio::fs::File>);
    futures::stream::unfold(state, |(mut paths, mut file)| async move {
        loop {
            let current = match file.as_mut() {
                Some(f) => f,
                None => {
                    let path = paths.next()?;
                    match tokio::fs::File::open(&path).await {
                        Ok(f) => file.insert(f),
                        Err(e) => return Some((Err(e), (paths, None))),
                    }
                }
            };
            let mut buf = vec![0u8; 1024 * 1024];
            match current.read(&mut buf).await {
                Ok(0) => file = None,
                Ok(n) => {
                    buf.truncate(n);
                    return Some((Ok(bytes::Bytes::from(buf)), (paths, file)));
                }
                Err(e) => return Some((Err(e), (paths, None))),
            }
        }
    })
}
