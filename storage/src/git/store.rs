//! [`GitStore`]: where repos live on disk, and their creation and deletion.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use git2::{Repository, RepositoryInitOptions};

use super::durable::{sync_dir, sync_tree};
use super::error::GitError;
use super::ids::{Author, CommitId};
use super::key::RepoKey;
use super::locks::BranchLocks;
use super::repo::GitRepo;

/// The branch every repo starts with, and which cannot be deleted.
pub const DEFAULT_BRANCH: &str = "main";

/// The commit title of a repo's first commit.
pub const INITIAL_COMMIT_TITLE: &str = "initial commit";

/// The `.gitattributes` of a new repo: the Hub's usual LFS patterns.
pub const DEFAULT_GITATTRIBUTES: &str = "\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
*.gguf filter=lfs diff=lfs merge=lfs -text
";

const TEMP_PREFIX: &str = ".tmp-";
const DELETED_PREFIX: &str = ".deleted-";

/// The set of bare git repos under one root directory: `root/<kind>/<id>.git`.
///
/// Cheap to clone and share; every method is synchronous (run it on a blocking pool). Make one
/// per process and clone it: clones share the lock that lets only one commit per branch build
/// at a time (see [`GitRepo::commit`]).
#[derive(Clone, Debug)]
pub struct GitStore {
    root: PathBuf,
    locks: Arc<BranchLocks>,
}

impl GitStore {
    /// A store rooted at `root` (created lazily by [`GitStore::create`]).
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            locks: Arc::new(BranchLocks::default()),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the repo with this key lives (whether or not it exists).
    pub fn repo_dir(&self, key: &str) -> Result<PathBuf, GitError> {
        let key = RepoKey::parse(key)?;
        Ok(self.root.join(key.kind_dir()).join(key.dir_name()))
    }

    /// Whether a repo with this key exists.
    pub fn exists(&self, key: &str) -> Result<bool, GitError> {
        Ok(self.repo_dir(key)?.is_dir())
    }

    /// Create a bare repo whose `HEAD` is `refs/heads/main` and whose first commit,
    /// [`INITIAL_COMMIT_TITLE`], holds `.gitattributes` with `gitattributes` as its text.
    ///
    /// Atomic: the repo is built and fsynced in a temporary directory beside its final place and
    /// renamed into place, so a crash leaves either no repo or a whole one (plus, at worst, a
    /// `.tmp-*` directory that [`GitStore::remove_leftovers`] sweeps). A key that exists already
    /// gives [`GitError::RepoExists`], also when two creates race.
    pub fn create(
        &self,
        key: &str,
        author: &Author,
        gitattributes: &str,
    ) -> Result<CommitId, GitError> {
        self.build_in_place(key, |temp| build_repo(temp, author, gitattributes))
    }

    /// Builds a new repo with `build` in a temporary directory beside its final place, fsyncs it
    /// and renames it into place (see [`GitStore::create`] for what that guarantees).
    fn build_in_place(
        &self,
        key: &str,
        build: impl FnOnce(&Path) -> Result<CommitId, GitError>,
    ) -> Result<CommitId, GitError> {
        let repo_key = RepoKey::parse(key)?;
        let parent = self.root.join(repo_key.kind_dir());
        let target = parent.join(repo_key.dir_name());
        if target.exists() {
            return Err(GitError::RepoExists(key.to_owned()));
        }
        std::fs::create_dir_all(&parent)?;
        sync_dir(&self.root)?; // the kind directory may be new
        let temp = parent.join(format!(
            "{TEMP_PREFIX}{}-{}.git",
            repo_key.id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut guard = RemoveOnDrop(Some(temp.clone()));

        let commit = build(&temp)?;
        sync_tree(&temp)?;
        match std::fs::rename(&temp, &target) {
            Ok(()) => {}
            Err(_) if target.exists() => return Err(GitError::RepoExists(key.to_owned())),
            Err(e) => return Err(e.into()),
        }
        guard.0 = None;
        sync_dir(&parent)?;
        Ok(commit)
    }

    /// Creates repo `to` as a copy of repo `from`: every branch and tag, the whole history.
    /// Objects are fetched through libgit2's local transport, so a commit landing on `from`
    /// meanwhile is either wholly in the copy or not at all. LFS content is not in git and is
    /// not copied: both repos point at the same blobs. Returns the copy's default-branch head.
    pub fn fork(&self, from: &str, to: &str) -> Result<CommitId, GitError> {
        let source = self.repo_dir(from)?;
        if !source.exists() {
            return Err(GitError::NotFound);
        }
        self.build_in_place(to, |temp| {
            init_bare(temp)?;
            let repo = Repository::open_bare(temp)?;
            let url = source
                .to_str()
                .ok_or_else(|| GitError::Refused("repo path is not UTF-8".into()))?;
            let mut remote = repo.remote_anonymous(url)?;
            remote.fetch(
                &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
                None,
                None,
            )?;
            drop(remote);
            let head = repo
                .find_reference(&format!("refs/heads/{DEFAULT_BRANCH}"))?
                .peel_to_commit()?
                .id();
            Ok(CommitId::from_oid(head))
        })
    }

    /// Open an existing repo ([`GitError::NotFound`] if there is none).
    pub fn open(&self, key: &str) -> Result<GitRepo, GitError> {
        let dir = self.repo_dir(key)?;
        if !dir.is_dir() {
            return Err(GitError::NotFound);
        }
        let repo = Repository::open_bare(&dir).map_err(|e| {
            if super::error::is_not_found(&e) {
                GitError::NotFound
            } else {
                GitError::Git(e)
            }
        })?;
        Ok(GitRepo::new(repo, key.to_owned(), self.locks.clone()))
    }

    /// Delete a repo ([`GitError::NotFound`] if there is none). The directory is first renamed
    /// out of the key's reach (atomic: from then on the repo does not exist), then removed; a
    /// crash in between leaves a `.deleted-*` directory for [`GitStore::remove_leftovers`].
    pub fn delete(&self, key: &str) -> Result<(), GitError> {
        let repo_key = RepoKey::parse(key)?;
        let parent = self.root.join(repo_key.kind_dir());
        let target = parent.join(repo_key.dir_name());
        if !target.is_dir() {
            return Err(GitError::NotFound);
        }
        let graveyard = parent.join(format!(
            "{DELETED_PREFIX}{}-{}.git",
            repo_key.id(),
            uuid::Uuid::new_v4().simple()
        ));
        match std::fs::rename(&target, &graveyard) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GitError::NotFound),
            Err(e) => return Err(e.into()),
        }
        sync_dir(&parent)?;
        if let Err(e) = std::fs::remove_dir_all(&graveyard) {
            tracing::warn!(path = %graveyard.display(), error = %e,
                "deleted repo renamed away but not removed; remove_leftovers will retry");
        }
        Ok(())
    }

    /// Remove `.tmp-*` (interrupted creates) and `.deleted-*` (interrupted deletes) directories
    /// last modified more than `older_than` ago. Returns how many were removed. Pick an age
    /// well above the time a create takes (a second), e.g. an hour, so a create in flight in
    /// another process is never swept.
    pub fn remove_leftovers(&self, older_than: Duration) -> Result<usize, GitError> {
        let mut removed = 0;
        let kinds = match std::fs::read_dir(&self.root) {
            Ok(kinds) => kinds,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        for kind in kinds {
            let kind = kind?;
            if !kind.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(kind.path())? {
                let entry = entry?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !(name.starts_with(TEMP_PREFIX) || name.starts_with(DELETED_PREFIX)) {
                    continue;
                }
                let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
                if age > older_than {
                    std::fs::remove_dir_all(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Initialise the bare repo at `dir` and make its first commit.
/// An empty bare repo in `dir` with `main` as its head and durable writes turned on.
fn init_bare(dir: &Path) -> Result<(), GitError> {
    let mut opts = RepositoryInitOptions::new();
    opts.bare(true)
        .no_reinit(true)
        .mkdir(true)
        .mkpath(false)
        .initial_head(DEFAULT_BRANCH);
    drop(Repository::init_opts(dir, &opts)?);

    // Written to the repo's own config file (not through the layered config, which could pick a
    // user's global file): libgit2 then fsyncs loose objects *and* ref updates.
    let mut config = git2::Config::open(&dir.join("config"))?;
    config.set_bool("core.fsyncObjectFiles", true)?;
    drop(config);
    Ok(())
}

fn build_repo(dir: &Path, author: &Author, gitattributes: &str) -> Result<CommitId, GitError> {
    init_bare(dir)?;

    // Reopen so the odb and refdb read the config above.
    let repo = Repository::open_bare(dir)?;
    let signature = author.signature_now()?;
    let blob = repo.blob(gitattributes.as_bytes())?;
    let mut tree = repo.treebuilder(None)?;
    tree.insert(".gitattributes", blob, i32::from(git2::FileMode::Blob))?;
    let tree = repo.find_tree(tree.write()?)?;
    let refname = format!("refs/heads/{DEFAULT_BRANCH}");
    let commit = repo.commit(
        Some(&refname),
        &signature,
        &signature,
        INITIAL_COMMIT_TITLE,
        &tree,
        &[],
    )?;
    Ok(CommitId::from_oid(commit))
}

/// Removes a directory when dropped, unless disarmed by taking the path out.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}
