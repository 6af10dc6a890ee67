//! Reading trees: one entry, or a directory listing (flat or recursive), with Git LFS pointers
//! recognised.

use std::path::Path;

use git2::{ObjectType, Odb, Oid, Tree, TreeWalkMode, TreeWalkResult};

use super::error::{GitError, is_not_found};
use super::ids::CommitId;
use super::lfs::{LfsPointer, MAX_POINTER_SIZE};
use super::path::RepoPath;
use super::repo::GitRepo;

/// File or directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A file (a blob; symlinks, which Grove never writes, would show up as files too).
    File,
    /// A directory (a tree).
    Dir,
}

/// One entry of a tree listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Full path from the repo root (`a/b/c.txt`).
    pub path: String,
    /// File or directory.
    pub kind: EntryKind,
    /// The git object id (blob or tree), 40 hex.
    pub oid: String,
    /// The blob's size in bytes: for an LFS file this is the *pointer's* size; 0 for directories.
    pub size: u64,
    /// For a file whose blob is a valid LFS pointer: what it points to.
    pub lfs: Option<LfsPointer>,
}

impl Entry {
    /// The pointer's size for an LFS file (the Hub's `lfs.pointerSize`), else `None`.
    pub fn pointer_size(&self) -> Option<u64> {
        self.lfs.as_ref().map(|_| self.size)
    }

    /// The size of the file's content: the LFS object's size for an LFS file, the blob's size
    /// otherwise (the Hub's top-level `size`).
    pub fn content_size(&self) -> u64 {
        self.lfs.as_ref().map_or(self.size, |l| l.size)
    }
}

impl GitRepo {
    /// The entry at `path` in `commit`'s tree, or `None` if there is none.
    pub fn entry(&self, commit: &CommitId, path: &RepoPath) -> Result<Option<Entry>, GitError> {
        let tree = self.find_commit(commit)?.tree()?;
        let found = match tree.get_path(Path::new(path.as_str())) {
            Ok(found) => found,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let odb = self.repo.odb()?;
        make_entry(&odb, path.as_str().to_owned(), found.id(), found.kind())
    }

    /// The entries of directory `dir` (the root when `None`) in `commit`, sorted by path; with
    /// `recursive`, every file and directory below it. Paths compare segment by segment
    /// (bytewise within a segment), so each directory comes right before its contents:
    /// `dir`, `dir/a`, `dir/sub`, `dir/sub/x`, `dir-x`, `dir.txt`. `None` when `dir` does not
    /// exist or is a file.
    pub fn list(
        &self,
        commit: &CommitId,
        dir: Option<&RepoPath>,
        recursive: bool,
    ) -> Result<Option<Vec<Entry>>, GitError> {
        let root = self.find_commit(commit)?.tree()?;
        let (tree, prefix) = match dir {
            None => (root, String::new()),
            Some(dir) => match root.get_path(Path::new(dir.as_str())) {
                Ok(e) if e.kind() == Some(ObjectType::Tree) => {
                    (self.repo.find_tree(e.id())?, format!("{dir}/"))
                }
                Ok(_) => return Ok(None),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        let found = collect(&tree, &prefix, recursive)?;
        let odb = self.repo.odb()?;
        let mut entries = Vec::with_capacity(found.len());
        for (path, oid, kind) in found {
            if let Some(entry) = make_entry(&odb, path, oid, kind)? {
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| path_order(&a.path, &b.path));
        Ok(Some(entries))
    }
}

/// Segment-by-segment path order: a depth-first walk with each directory's names sorted.
pub(crate) fn path_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

type Found = (String, Oid, Option<ObjectType>);

fn collect(tree: &Tree<'_>, prefix: &str, recursive: bool) -> Result<Vec<Found>, GitError> {
    let mut found = Vec::new();
    if recursive {
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            let name = String::from_utf8_lossy(entry.name_bytes());
            found.push((format!("{prefix}{parent}{name}"), entry.id(), entry.kind()));
            TreeWalkResult::Ok
        })?;
    } else {
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes());
            found.push((format!("{prefix}{name}"), entry.id(), entry.kind()));
        }
    }
    Ok(found)
}

/// Build an entry; `None` for kinds Grove does not list (submodule links).
fn make_entry(
    odb: &Odb<'_>,
    path: String,
    oid: Oid,
    kind: Option<ObjectType>,
) -> Result<Option<Entry>, GitError> {
    match kind {
        Some(ObjectType::Tree) => Ok(Some(Entry {
            path,
            kind: EntryKind::Dir,
            oid: oid.to_string(),
            size: 0,
            lfs: None,
        })),
        Some(ObjectType::Blob) => {
            let (size, _) = odb.read_header(oid)?;
            let lfs = if size <= MAX_POINTER_SIZE {
                LfsPointer::parse(odb.read(oid)?.data())
            } else {
                None
            };
            Ok(Some(Entry {
                path,
                kind: EntryKind::File,
                oid: oid.to_string(),
                size: size as u64,
                lfs,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_come_right_before_their_contents() {
        let mut paths = vec![
            "dir.txt",
            "dir/sub/x",
            "dir-x",
            "dir",
            "dir/a",
            "a",
            "dir/sub",
            "dir-x/e",
        ];
        paths.sort_by(|a, b| path_order(a, b));
        assert_eq!(
            paths,
            [
                "a",
                "dir",
                "dir/a",
                "dir/sub",
                "dir/sub/x",
                "dir-x",
                "dir-x/e",
                "dir.txt"
            ]
        );
    }
}
