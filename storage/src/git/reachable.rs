//! Every LFS object a repo's history refers to: what `git lfs fetch --all` may ask for, and what
//! a garbage collector must keep.

use std::collections::{BTreeSet, HashSet};

use super::error::GitError;
use super::lfs::{LfsPointer, MAX_POINTER_SIZE};
use super::repo::GitRepo;

impl GitRepo {
    /// The sha256 of every LFS pointer in any commit reachable from any branch or tag.
    ///
    /// Each distinct tree and blob is read once (git shares unchanged subtrees between commits),
    /// and only blobs small enough to be pointers are read at all, so the cost follows the
    /// number of distinct trees, not commits times files.
    pub fn lfs_objects(&self) -> Result<BTreeSet<String>, GitError> {
        let mut walk = self.repo.revwalk()?;
        walk.push_glob("refs/heads/*")?;
        walk.push_glob("refs/tags/*")?;
        let odb = self.repo.odb()?;
        let mut seen_trees = HashSet::new();
        let mut seen_blobs = HashSet::new();
        let mut found = BTreeSet::new();
        for commit in walk {
            let commit = self.repo.find_commit(commit?)?;
            let mut pending = vec![commit.tree_id()];
            while let Some(tree_id) = pending.pop() {
                if !seen_trees.insert(tree_id) {
                    continue;
                }
                let tree = self.repo.find_tree(tree_id)?;
                for entry in tree.iter() {
                    match entry.kind() {
                        Some(git2::ObjectType::Tree) => pending.push(entry.id()),
                        Some(git2::ObjectType::Blob) if seen_blobs.insert(entry.id()) => {
                            let (size, _) = odb.read_header(entry.id())?;
                            if size > MAX_POINTER_SIZE {
                                continue;
                            }
                            let blob = self.repo.find_blob(entry.id())?;
                            if let Some(pointer) = LfsPointer::parse(blob.content()) {
                                found.insert(pointer.oid);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(found)
    }
}

impl super::store::GitStore {
    /// [`GitRepo::lfs_objects`] over every repo in the store: the live set of a garbage
    /// collection. Repos are found on disk (`<kind>/<id>.git`), not from the database, so a repo
    /// is counted for as long as any of its history exists.
    pub fn all_lfs_objects(&self) -> Result<BTreeSet<String>, GitError> {
        let mut live = BTreeSet::new();
        let Ok(kinds) = std::fs::read_dir(self.root()) else {
            return Ok(live);
        };
        for kind in kinds {
            let kind = kind.map_err(GitError::Io)?;
            let Some(kind_name) = kind.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !kind.path().is_dir() {
                continue;
            }
            for repo in std::fs::read_dir(kind.path()).map_err(GitError::Io)? {
                let repo = repo.map_err(GitError::Io)?;
                let name = repo.file_name().to_string_lossy().into_owned();
                let Some(id) = name.strip_suffix(".git") else {
                    continue;
                };
                // A name that is no key (a half-made or half-deleted repo) is skipped; a real
                // repo that cannot be read stops the collection, since skipping it would count
                // its objects as garbage.
                match self.open(&format!("{kind_name}/{id}")) {
                    Ok(git_repo) => live.extend(git_repo.lfs_objects()?),
                    Err(GitError::InvalidKey(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(live)
    }
}
