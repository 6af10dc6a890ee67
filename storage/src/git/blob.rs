//! Blobs: writing (from memory or streamed from a file), reading, and computing git blob ids.
//!
//! Writing a blob makes it exist in the object database but reachable from nothing; only a
//! commit whose ref moved by compare-and-swap makes it visible.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use git2::ObjectType;
use sha1::{Digest, Sha1};

use super::error::{GitError, is_not_found};
use super::ids::parse_object_id;
use super::repo::GitRepo;

const COPY_BUFFER: usize = 256 * 1024;

impl GitRepo {
    /// Store `bytes` as a blob and return its id (40 hex).
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String, GitError> {
        Ok(self.repo.blob(bytes)?.to_string())
    }

    /// Store a file's content as a blob, streamed (never read whole into memory), and return
    /// its id. The file must not change while it is read: a length that differs from the one
    /// measured at the start is an error and nothing becomes visible.
    pub fn write_blob_from_file(&self, path: &Path) -> Result<String, GitError> {
        let mut file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::other("file too large for this platform"))?;
        let odb = self.repo.odb()?;
        let mut writer = odb.writer(len, ObjectType::Blob)?;
        copy_exactly(&mut file, len, |chunk| {
            io::Write::write_all(&mut writer, chunk)
        })?;
        Ok(writer.finalize()?.to_string())
    }

    /// The content of blob `oid` ([`GitError::NotFound`] if there is no such blob). Reads the
    /// whole blob: check [`GitRepo::blob_size`] first when it may be large.
    pub fn read_blob(&self, oid: &str) -> Result<Vec<u8>, GitError> {
        let id = parse_object_id(oid)?;
        match self.repo.find_blob(id) {
            Ok(blob) => Ok(blob.content().to_vec()),
            Err(e) if is_not_found(&e) || e.class() == git2::ErrorClass::Invalid => {
                Err(GitError::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The size of blob `oid` in bytes, read from the object header
    /// ([`GitError::NotFound`] if there is no such blob).
    pub fn blob_size(&self, oid: &str) -> Result<u64, GitError> {
        match self.blob_header(oid)? {
            Some(size) => Ok(size),
            None => Err(GitError::NotFound),
        }
    }

    /// Whether blob `oid` is stored in this repo.
    pub fn has_blob(&self, oid: &str) -> Result<bool, GitError> {
        Ok(self.blob_header(oid)?.is_some())
    }

    fn blob_header(&self, oid: &str) -> Result<Option<u64>, GitError> {
        let id = parse_object_id(oid)?;
        match self.repo.odb()?.read_header(id) {
            Ok((size, ObjectType::Blob)) => Ok(Some(size as u64)),
            Ok(_) => Ok(None),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The git blob id of `bytes`: `sha1("blob <len>\0" + bytes)`, 40 lowercase hex.
pub fn git_blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex::encode(hasher.finalize())
}

/// The git blob id of a file's content, computed streaming (the Hub's preupload `oid` for
/// regular files). Errors if the file's length changes while it is read.
pub fn git_blob_id_of_file(path: &Path) -> Result<String, GitError> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {len}\0").as_bytes());
    let len = usize::try_from(len).map_err(|_| io::Error::other("file too large"))?;
    copy_exactly(&mut file, len, |chunk| {
        hasher.update(chunk);
        Ok(())
    })?;
    Ok(hex::encode(hasher.finalize()))
}

/// Feed exactly `len` bytes of `reader` to `sink`, in chunks; error if it has fewer or more.
fn copy_exactly(
    reader: &mut impl Read,
    len: usize,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_BUFFER.min(len.max(1))];
    let mut left = len;
    while left > 0 {
        let want = buf.len().min(left);
        let n = reader.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while being read",
            ));
        }
        sink(&buf[..n])?;
        left -= n;
    }
    if reader.read(&mut [0u8; 1])? != 0 {
        return Err(io::Error::other("file grew while being read"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_id_matches_git() {
        // `git hash-object /dev/null` and `printf 'hello\n' | git hash-object --stdin`.
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        let ours = git_blob_id(b"some bytes");
        let theirs = git2::Oid::hash_object(ObjectType::Blob, b"some bytes").unwrap();
        assert_eq!(ours, theirs.to_string());
    }

    #[test]
    fn copy_exactly_detects_length_changes() {
        let data = vec![7u8; 10];
        let mut seen = Vec::new();
        copy_exactly(&mut &data[..], 10, |c| {
            seen.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, data);
        assert!(copy_exactly(&mut &data[..], 11, |_| Ok(())).is_err());
        assert!(copy_exactly(&mut &data[..], 9, |_| Ok(())).is_err());
    }
}
