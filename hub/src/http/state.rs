//! What every request handler can reach.

use std::sync::Arc;

use grove_storage::BlobStore;
use grove_storage::git::GitStore;

use super::metrics::Metrics;
use crate::accounts::sessions::SessionKeys;
use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub blobs: Arc<BlobStore>,
    pub git: Arc<GitStore>,
    /// Where uploads are spooled while they are hashed (inside the data dir, same filesystem).
    pub spool_dir: std::path::PathBuf,
    pub upload_mode: crate::config::UploadMode,
    pub sessions: Arc<SessionKeys>,
    pub url_signer: Arc<crate::repos::upload_grants::UrlSigner>,
    pub xet_tokens: Arc<crate::repos::xet_tokens::XetTokens>,
    /// Per repo, the LFS objects its history refers to (see `repos::reachable`).
    pub reachable: Arc<crate::repos::reachable::ReachableObjects>,
    /// A random name for this server process in the CAS address. The client keys its local
    /// deduplication cache by that address; a fresh name per process means a cache from another
    /// server (a test hub on a reused port, a wiped data dir) is never trusted here.
    pub xet_instance: String,
    pub metrics: Arc<Metrics>,
    /// Base URL put in links the server returns, without a trailing slash.
    pub public_url: String,
    pub signup_enabled: bool,
    /// Wakes the lineage scanner when a commit queues a scan.
    pub scan_wake: Arc<tokio::sync::Notify>,
    /// This process's search index, following the change log.
    pub search: Arc<crate::search::SearchService>,
    /// How long an eval worker's lease on a job lasts between heartbeats.
    pub eval_lease_secs: u64,
    /// The web UI's page templates.
    pub pages: Arc<grove_frontend::templates::Pages>,
}

impl AppState {
    /// The lineage scanner over this state's stores.
    pub fn scanner(&self) -> crate::lineage::scanner::Scanner {
        crate::lineage::scanner::Scanner {
            db: self.db.clone(),
            git: self.git.clone(),
            blobs: self.blobs.clone(),
            wake: self.scan_wake.clone(),
        }
    }

    /// Runs blocking work (git, hashing, file I/O) on the blocking pool.
    pub async fn blocking<T, F>(&self, f: F) -> crate::error::ApiResult<T>
    where
        F: FnOnce() -> crate::error::ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(f).await.map_err(|e| {
            crate::error::ApiError::internal(anyhow::anyhow!("blocking task failed: {e}"))
        })?
    }

    /// Where the Xet CAS service lives (`casUrl` in token answers).
    pub fn xet_cas_url(&self) -> String {
        format!("{}/xet/{}", self.public_url, self.xet_instance)
    }

    /// The URL of a repo's page, as the stock client parses it back (`{E}/{prefix}{owner}/{name}`).
    pub fn repo_url(&self, kind: crate::repos::RepoKind, id: &str) -> String {
        format!("{}/{}{}", self.public_url, kind.url_prefix(), id)
    }
}
