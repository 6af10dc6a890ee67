//! Search in the hub: each serve process keeps its own tantivy index current by following the
//! change log in the database (`changes`), with documents built from the database alone
//! (`documents`). The index commits the log position it includes with every commit, so a crash
//! loses nothing: on start the index resumes from that position, and an index that is missing,
//! corrupt or of another schema version is rebuilt from scratch.

pub mod changes;
pub mod documents;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use grove_indexer::search::{IndexError, QueryError, SearchIndex, SearchRequest, SearchResults};
use tokio::sync::{Notify, watch};

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// Changes applied per index commit while catching up.
const BATCH: i64 = 1000;
/// Repos per page while rebuilding.
const REBUILD_PAGE: i64 = 2000;
/// How long a request waits for the index to reflect the writes before it (read-your-writes).
const FRESHNESS_WAIT: Duration = Duration::from_secs(3);
/// How long a read of the log's head serves later requests (when this process wrote nothing).
const HEAD_CACHE: Duration = Duration::from_millis(100);
/// How often an idle follower polls the log for changes made by other processes.
const POLL: Duration = Duration::from_millis(250);
/// A gap in the log's positions is a transaction still in flight (PostgreSQL hands out
/// positions at insert, rows appear at commit) or one that rolled back; after this long it is
/// taken as rolled back and passed.
const GAP_PATIENCE_SECS: i64 = 600;
/// How long the change log keeps entries, and how often it is pruned.
const LOG_RETENTION_DAYS: i64 = 7;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub struct SearchService {
    index: SearchIndex,
    db: Db,
    /// The log position the index includes: every change up to it is applied.
    applied: watch::Sender<i64>,
    /// Changes above `applied` already applied, seen past a gap in the log.
    beyond: std::sync::Mutex<BTreeSet<i64>>,
    /// Ownership of the shared index directory (`None` with a private one).
    _dir_lock: Option<std::fs::File>,
    /// Bumped after every request that may have written (see `http::write_epoch`).
    write_epoch: std::sync::atomic::AtomicU64,
    /// The log head last read: (head, write epoch before reading it, when).
    head_cache: std::sync::Mutex<Option<(i64, u64, std::time::Instant)>>,
    wake: Notify,
}

impl std::fmt::Debug for SearchService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchService").finish_non_exhaustive()
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Engine(m) => ApiError::internal(anyhow::anyhow!(m)),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

fn index_error(e: IndexError) -> ApiError {
    ApiError::internal(anyhow::anyhow!(e))
}

/// Rebuilds `index` from every repo in the database. Returns the log position it includes.
pub fn rebuild(index: &SearchIndex, db: &Db) -> ApiResult<(i64, u64)> {
    let mut conn = db.get()?;
    // Take the position first: changes made while the rebuild runs are replayed afterwards
    // (applying a change twice is harmless).
    let position = changes::head(&mut conn)?;
    index.clear().map_err(index_error)?;
    let mut after = 0i64;
    let mut count = 0u64;
    loop {
        let docs = documents::page(&mut conn, after, REBUILD_PAGE)?;
        let Some(last) = docs.last().map(|(d, _)| d.repo_id as i64) else {
            break;
        };
        count += docs.len() as u64;
        index.apply(&docs, &[]).map_err(index_error)?;
        after = last;
    }
    index.commit(position).map_err(index_error)?;
    Ok((position, count))
}

/// Takes the lock that makes this process the owner of `dir` (`<dir>.lock`, released when the
/// returned file is dropped, including when the process dies). `None` when another process
/// holds it.
pub fn lock_index_dir(dir: &Path) -> anyhow::Result<Option<std::fs::File>> {
    let path = dir.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::anyhow!("cannot lock {}: {e}", path.display()))
        }
    }
}

/// Private index directories (`<dir>.<pid>`) of processes that are gone.
fn remove_stale_private_dirs(dir: &Path) {
    let (Some(parent), Some(base)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str()))
    else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(base))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Opens the index in `dir` when this process owns it (another serve process on this machine
/// owning it: a private `<dir>.<pid>`, rebuilt), rebuilding it when it is new, unreadable, of
/// another schema, or behind what the log still holds.
fn open_index(dir: &Path, db: &Db) -> anyhow::Result<(SearchIndex, i64, Option<std::fs::File>)> {
    let lock = lock_index_dir(dir)?;
    let dir = if lock.is_some() {
        remove_stale_private_dirs(dir);
        dir.to_path_buf()
    } else {
        let own = dir.with_file_name(format!(
            "{}.{}",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("search"),
            std::process::id()
        ));
        tracing::info!(dir = %own.display(), "search index in use by another process; using a private one");
        SearchIndex::destroy(&own)?;
        own
    };
    // Only the owner gets here with the shared directory, so destroying it is safe.
    let opened = match SearchIndex::open_or_create(&dir) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "search index unusable; rebuilding it");
            SearchIndex::destroy(&dir)?;
            SearchIndex::open_or_create(&dir)?
        }
    };
    // An index whose position the log no longer reaches (pruned past it, or a log that was
    // reset) cannot catch up by replaying: rebuild it.
    let opened = match opened {
        (index, Some(position)) => {
            let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
            let head = changes::head(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
            let oldest = changes::oldest(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
            let replayable = position <= head && oldest.is_none_or(|o| o <= position + 1);
            if replayable {
                (index, Some(position))
            } else {
                tracing::info!(
                    position,
                    head,
                    ?oldest,
                    "search index is behind the retained log; rebuilding it"
                );
                (index, None)
            }
        }
        other => other,
    };
    match opened {
        (index, Some(position)) => Ok((index, position, lock)),
        (index, None) => {
            let started = std::time::Instant::now();
            let (position, count) = rebuild(&index, db).map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(
                documents = count,
                seconds = started.elapsed().as_secs_f64(),
                "search index built"
            );
            Ok((index, position, lock))
        }
    }
}

impl SearchService {
    /// Opens (or builds) the index in `dir` and returns the service; call [`Self::follow`] to
    /// keep it current.
    pub async fn open(db: Db, dir: PathBuf) -> anyhow::Result<Arc<SearchService>> {
        let db2 = db.clone();
        let (index, position, dir_lock) =
            tokio::task::spawn_blocking(move || open_index(&dir, &db2)).await??;
        let (applied, _) = watch::channel(position);
        Ok(Arc::new(SearchService {
            index,
            db,
            applied,
            beyond: std::sync::Mutex::new(BTreeSet::new()),
            _dir_lock: dir_lock,
            write_epoch: std::sync::atomic::AtomicU64::new(0),
            head_cache: std::sync::Mutex::new(None),
            wake: Notify::new(),
        }))
    }

    /// An in-memory index built from the database (for `grove reindex` dry runs and tests).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Follows the change log forever: applies new changes within a poll interval, at once when
    /// woken by a local write.
    pub async fn follow(self: Arc<Self>) {
        let mut last_prune = std::time::Instant::now();
        loop {
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = std::time::Instant::now();
                let keep = chrono::Duration::days(LOG_RETENTION_DAYS);
                match self.db.run(move |conn| changes::prune(conn, keep)).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "search change log pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not prune the search change log"),
                }
            }
            if let Err(e) = self.catch_up().await {
                tracing::warn!(error = %e, "search index update failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
        }
    }

    async fn catch_up(self: &Arc<Self>) -> ApiResult<()> {
        loop {
            let after = *self.applied.borrow();
            let batch = self
                .db
                .run(move |conn| changes::since(conn, after, BATCH))
                .await?;
            if batch.is_empty() {
                return Ok(());
            }
            // Apply what was not applied yet (past a gap, rows may have been applied before).
            let new_rows: Vec<(i64, i64)> = {
                let beyond = self.beyond.lock().unwrap_or_else(|p| p.into_inner());
                batch
                    .iter()
                    .filter(|(seq, _, _)| !beyond.contains(seq))
                    .map(|(seq, id, _)| (*seq, *id))
                    .collect()
            };
            // The new position: the end of the gap-free run from `after`, passing gaps old
            // enough to be rolled-back transactions.
            let now = crate::time::now();
            let mut position = after;
            for (seq, _, created) in &batch {
                if *seq == position + 1 || (now - *created).num_seconds() > GAP_PATIENCE_SECS {
                    position = *seq;
                } else {
                    break;
                }
            }
            if new_rows.is_empty() && position == after {
                return Ok(()); // waiting for a transaction in flight to commit
            }
            let ids: Vec<i64> = new_rows
                .iter()
                .map(|(_, id)| *id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let lookup = ids.clone();
            let docs = self
                .db
                .run(move |conn| documents::load(conn, &lookup))
                .await?;
            let found: BTreeSet<u64> = docs.iter().map(|(d, _)| d.repo_id).collect();
            let deleted: Vec<u64> = ids
                .iter()
                .map(|i| *i as u64)
                .filter(|i| !found.contains(i))
                .collect();
            let me = self.clone();
            tokio::task::spawn_blocking(move || {
                me.index.apply(&docs, &deleted)?;
                me.index.commit(position)
            })
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?
            .map_err(index_error)?;
            {
                let mut beyond = self.beyond.lock().unwrap_or_else(|p| p.into_inner());
                beyond.extend(
                    new_rows
                        .iter()
                        .map(|(seq, _)| *seq)
                        .filter(|s| *s > position),
                );
                beyond.retain(|s| *s > position);
            }
            self.applied.send_replace(position);
        }
    }

    /// Records that a request which may have written has finished.
    pub fn note_write(&self) {
        self.write_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The log's head, read from the database at most every `HEAD_CACHE` unless a request of
    /// this process wrote since (then always read: its client must see its write).
    async fn log_head(&self) -> ApiResult<i64> {
        let epoch = self.write_epoch.load(std::sync::atomic::Ordering::SeqCst);
        if let Some((head, at_epoch, at)) =
            *self.head_cache.lock().unwrap_or_else(|p| p.into_inner())
            && at_epoch == epoch
            && at.elapsed() < HEAD_CACHE
        {
            return Ok(head);
        }
        let head = self.db.run(changes::head).await?;
        *self.head_cache.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((head, epoch, std::time::Instant::now()));
        Ok(head)
    }

    /// Waits (briefly) until the index includes every change committed before this call, so a
    /// client sees its own writes in the next listing, whichever process served the write
    /// (writes through another process are seen within `HEAD_CACHE` plus the poll interval).
    pub async fn fresh(&self) -> ApiResult<()> {
        let head = self.log_head().await?;
        if *self.applied.borrow() >= head {
            return Ok(());
        }
        self.wake.notify_one();
        let mut rx = self.applied.subscribe();
        let _ = tokio::time::timeout(FRESHNESS_WAIT, rx.wait_for(|a| *a >= head)).await;
        Ok(())
    }

    /// Runs a search on the blocking pool.
    pub async fn search(self: &Arc<Self>, req: SearchRequest) -> ApiResult<SearchResults> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.index.search(&req))
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?
            .map_err(ApiError::from)
    }
}
