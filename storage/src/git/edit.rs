//! Building a new tree from a base tree and a list of edits, touching only the directories the
//! edits reach (nested `TreeBuilder`s); everything else is shared with the base by id.
//!
//! Checks made while editing, against the tree *as edited so far*:
//! - a path is never both a file and a directory;
//! - no two names in one directory collide case-insensitively or by Unicode form
//!   ([`collision_key`]), so a checkout on macOS or Windows never loses a file;
//! - deletions name something that exists (a file for a file, a directory for a folder).

use std::collections::{BTreeMap, HashMap};

use git2::{FileMode, ObjectType, Oid, Repository, Tree};

use super::error::GitError;
use super::path::{RepoPath, collision_key};

/// An edit in progress of one directory.
pub(crate) struct DirEdit<'r> {
    /// The directory as it is in the base commit (`None`: new, or replaced after a removal).
    base: Option<Tree<'r>>,
    /// Changed names; names not here are as in `base`.
    changes: BTreeMap<String, Change<'r>>,
    /// Collision key → name, for every name present; built on first need.
    keys: Option<HashMap<String, String>>,
}

enum Change<'r> {
    File { oid: Oid, mode: i32 },
    Removed,
    Dir(DirEdit<'r>),
}

/// What a name in a directory currently is.
enum Current {
    Absent,
    File,
    /// A directory that has an edit node already.
    EditedDir,
    /// A directory only in the base tree.
    BaseDir(Oid),
}

/// Which kind of thing a deletion expects to find.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    File,
    Dir,
}

impl<'r> DirEdit<'r> {
    pub(crate) fn new(base: Option<Tree<'r>>) -> Self {
        Self {
            base,
            changes: BTreeMap::new(),
            keys: None,
        }
    }

    fn current(&self, name: &str) -> Current {
        match self.changes.get(name) {
            Some(Change::File { .. }) => Current::File,
            Some(Change::Removed) => Current::Absent,
            Some(Change::Dir(_)) => Current::EditedDir,
            None => match self.base.as_ref().and_then(|t| t.get_name(name)) {
                None => Current::Absent,
                Some(e) if e.kind() == Some(ObjectType::Tree) => Current::BaseDir(e.id()),
                // Blobs, and submodule links (which Grove never writes), occupy the name.
                Some(_) => Current::File,
            },
        }
    }

    /// The child edit node for directory `name`, created from the base on first use.
    /// Call only when `current(name)` is `EditedDir` or `BaseDir`, or after `add_name`.
    fn child(&mut self, repo: &'r Repository, name: &str) -> Result<&mut DirEdit<'r>, GitError> {
        if let Current::BaseDir(id) = self.current(name) {
            let tree = repo.find_tree(id)?;
            self.changes
                .insert(name.to_owned(), Change::Dir(DirEdit::new(Some(tree))));
        }
        match self.changes.get_mut(name) {
            Some(Change::Dir(dir)) => Ok(dir),
            _ => Err(GitError::Git(git2::Error::from_str(
                "tree edit: directory node missing",
            ))),
        }
    }

    /// Refuse a new `name` whose collision key is taken by a different name.
    fn check_collision(&mut self, name: &str, path: &str) -> Result<(), GitError> {
        let key = collision_key(name);
        let keys = self.keys();
        match keys.get(&key) {
            Some(existing) if existing != name => Err(GitError::conflict(
                path,
                format!("differs only by case or Unicode form from the existing {existing:?}"),
            )),
            _ => Ok(()),
        }
    }

    fn keys(&mut self) -> &mut HashMap<String, String> {
        let (base, changes) = (&self.base, &self.changes);
        self.keys
            .get_or_insert_with(|| name_keys(base.as_ref(), changes))
    }

    fn set(&mut self, name: &str, change: Change<'r>) {
        let removed = matches!(change, Change::Removed);
        self.changes.insert(name.to_owned(), change);
        if let Some(keys) = &mut self.keys {
            let key = collision_key(name);
            if removed {
                if keys.get(&key).map(String::as_str) == Some(name) {
                    keys.remove(&key);
                }
            } else {
                keys.insert(key, name.to_owned());
            }
        }
    }

    /// Put a file at `path` (replacing a file that is there).
    pub(crate) fn put(
        &mut self,
        repo: &'r Repository,
        path: &RepoPath,
        oid: Oid,
        executable: bool,
    ) -> Result<(), GitError> {
        let segments: Vec<&str> = path.segments().collect();
        let (file_name, dirs) = segments.split_last().ok_or_else(|| GitError::InvalidPath {
            path: String::new(),
            reason: "empty path",
        })?;
        let mut node = self;
        for (depth, dir) in dirs.iter().enumerate() {
            match node.current(dir) {
                Current::EditedDir | Current::BaseDir(_) => {}
                Current::File => {
                    let prefix = segments[..=depth].join("/");
                    return Err(GitError::conflict(
                        path.as_str(),
                        format!("{prefix:?} is a file"),
                    ));
                }
                Current::Absent => {
                    node.check_collision(dir, path.as_str())?;
                    node.set(dir, Change::Dir(DirEdit::new(None)));
                }
            }
            node = node.child(repo, dir)?;
        }
        match node.current(file_name) {
            Current::EditedDir | Current::BaseDir(_) => Err(GitError::conflict(
                path.as_str(),
                "a directory with this name exists",
            )),
            Current::File => {
                node.set(file_name, file_change(oid, executable));
                Ok(())
            }
            Current::Absent => {
                node.check_collision(file_name, path.as_str())?;
                node.set(file_name, file_change(oid, executable));
                Ok(())
            }
        }
    }

    /// Remove the file (or, with [`Expect::Dir`], the directory) at `path`;
    /// [`GitError::PathNotFound`] unless exactly that kind of thing is there.
    pub(crate) fn remove(
        &mut self,
        repo: &'r Repository,
        path: &RepoPath,
        expect: Expect,
    ) -> Result<(), GitError> {
        let not_found = || GitError::PathNotFound(path.to_string());
        let segments: Vec<&str> = path.segments().collect();
        let (last, dirs) = segments.split_last().ok_or_else(not_found)?;
        let mut node = self;
        for dir in dirs {
            match node.current(dir) {
                Current::EditedDir | Current::BaseDir(_) => node = node.child(repo, dir)?,
                Current::File | Current::Absent => return Err(not_found()),
            }
        }
        let found = match node.current(last) {
            Current::File => Expect::File,
            Current::EditedDir | Current::BaseDir(_) => Expect::Dir,
            Current::Absent => return Err(not_found()),
        };
        if found != expect {
            return Err(not_found());
        }
        node.set(last, Change::Removed);
        Ok(())
    }

    /// Write the edited directory's tree (and its edited subtrees) to the object database.
    /// `None` when it ended up empty: git has no empty directories, so the parent drops it.
    pub(crate) fn write(self, repo: &'r Repository) -> Result<Option<Oid>, GitError> {
        let mut builder = repo.treebuilder(self.base.as_ref())?;
        for (name, change) in self.changes {
            match change {
                Change::File { oid, mode } => {
                    builder.insert(&name, oid, mode)?;
                }
                Change::Removed => remove_if_present(&mut builder, &name)?,
                Change::Dir(dir) => match dir.write(repo)? {
                    Some(tree) => {
                        builder.insert(&name, tree, i32::from(FileMode::Tree))?;
                    }
                    None => remove_if_present(&mut builder, &name)?,
                },
            }
        }
        if builder.is_empty() {
            Ok(None)
        } else {
            Ok(Some(builder.write()?))
        }
    }

    /// Write the root tree: like [`DirEdit::write`] but an empty root is the empty tree.
    pub(crate) fn write_root(self, repo: &'r Repository) -> Result<Oid, GitError> {
        match self.write(repo)? {
            Some(tree) => Ok(tree),
            None => Ok(repo.treebuilder(None)?.write()?),
        }
    }
}

/// Collision key → name for every name present in a directory (base plus changes).
fn name_keys(
    base: Option<&Tree<'_>>,
    changes: &BTreeMap<String, Change<'_>>,
) -> HashMap<String, String> {
    let mut keys = HashMap::new();
    if let Some(base) = base {
        for entry in base.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            keys.insert(collision_key(&name), name);
        }
    }
    for (name, change) in changes {
        let key = collision_key(name);
        if matches!(change, Change::Removed) {
            if keys.get(&key) == Some(name) {
                keys.remove(&key);
            }
        } else {
            keys.insert(key, name.clone());
        }
    }
    keys
}

fn file_change<'r>(oid: Oid, executable: bool) -> Change<'r> {
    let mode = if executable {
        FileMode::BlobExecutable
    } else {
        FileMode::Blob
    };
    Change::File {
        oid,
        mode: i32::from(mode),
    }
}

fn remove_if_present(builder: &mut git2::TreeBuilder<'_>, name: &str) -> Result<(), GitError> {
    if builder.get(name)?.is_some() {
        builder.remove(name)?;
    }
    Ok(())
}
