//! `grove gc`: reclaim stored content that no commit refers to any more.
//!
//! The live set is every LFS object any commit of any repo refers to (all branches and tags,
//! their whole history). Content outside it and older than the grace period is removed from the
//! blob store: Xet files and the xorbs only they use, LFS blobs, abandoned staging uploads (see
//! `grove_storage::gc`).
//!
//! Safety against concurrent writes is by exclusion: every `grove serve` holds a shared lock on
//! `<data-dir>/serve.lock` while it runs, and `grove gc` takes it exclusively, so it refuses to
//! run while a server could be committing (a commit may refer to content that looked like
//! garbage a moment earlier). The grace period protects what clients uploaded *before* a commit
//! that was never made yet: Xet and LFS uploads come first, the commit after.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::prelude::*;
use grove_storage::git::GitStore;
use grove_storage::{BlobStore, GcReport};

use crate::config::{DataArgs, DatabaseUrl};
use crate::db::Db;
use crate::db::schema::repos;
use crate::repos::RepoKind;

const LOCK_FILE: &str = "serve.lock";

/// The lock every server holds (shared) for its lifetime; `None` when a `grove gc` holds it.
pub fn serve_lock(data_dir: &Path) -> anyhow::Result<File> {
    let file = open_lock(data_dir)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "`grove gc` is running on {}; start the server when it has finished",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).context("cannot lock the data directory"),
    }
}

fn open_lock(data_dir: &Path) -> anyhow::Result<File> {
    let path = data_dir.join(LOCK_FILE);
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Collects garbage in the store at `storage_url` for the repos of `data`.
///
/// The live set can only be trusted if it was computed over every repo: a wrong `--data-dir` (or
/// a database from another installation) next to a shared store would make everything look
/// like garbage. So the data dir and its database must exist already, and every repo the
/// database knows must have its history on disk.
pub async fn collect(
    data: &DataArgs,
    storage_url: &str,
    min_age: Duration,
    dry_run: bool,
) -> anyhow::Result<GcReport> {
    let data_dir = data.data_dir.as_path();
    anyhow::ensure!(
        data_dir.is_dir(),
        "there is no data directory at {}",
        data_dir.display()
    );
    let database = data.database()?;
    if let DatabaseUrl::Sqlite(path) = &database {
        anyhow::ensure!(
            path.is_file(),
            "there is no database at {}: is --data-dir right?",
            path.display()
        );
    }
    let lock = open_lock(data_dir)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "a server is running on {}: stop `grove serve` before `grove gc`",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).context("cannot lock the data directory");
        }
    }
    let blobs = BlobStore::from_url(storage_url)
        .with_context(|| format!("cannot open blob store {storage_url}"))?;
    let git = GitStore::new(data_dir.join("repos"));
    let db = Db::connect(&database)?;
    let live = tokio::task::spawn_blocking(move || {
        let known = with_db_repos(&db)?;
        for (id, kind) in &known {
            let key = format!(
                "{}/{id}",
                RepoKind::parse(kind)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .plural()
            );
            anyhow::ensure!(
                git.exists(&key)?,
                "repo {key} is in the database but its history is not under {}: refusing to \
                 collect (is --data-dir right?)",
                git.root().display()
            );
        }
        git.all_lfs_objects()
            .context("cannot read the repos' history")
    })
    .await??;
    let report = blobs.collect_garbage(&live, min_age, dry_run).await?;
    drop(lock);
    Ok(report)
}

/// `(id, kind)` of every repo in the database.
fn with_db_repos(db: &Db) -> anyhow::Result<Vec<(i64, String)>> {
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = crate::with_conn!(&mut conn, |c| repos::table
        .select((repos::id, repos::kind))
        .load::<(i64, String)>(c))?;
    Ok(rows)
}
