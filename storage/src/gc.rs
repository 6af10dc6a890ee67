//! Garbage collection: removing content no commit refers to any more.
//!
//! The caller (the hub's `grove gc`) supplies the *live set*: the sha256 of every LFS object any
//! commit of any repo refers to. Everything else is garbage once it is older than `min_age`:
//!
//! - a verified Xet file whose sha256 is not live (its sha256 pointer and manifest);
//! - a xorb no live file uses (its index and bytes), and the dedup entries naming removed files;
//! - an `lfs/` blob whose sha256 is not live;
//! - a `staging/` object (an upload that never finished).
//!
//! `min_age` protects uploads in flight: the client uploads xorbs and blobs *before* the commit
//! that makes them live, so anything younger than the grace period is kept whatever the live set
//! says. Deletion runs in the order that keeps every intermediate state consistent: a file's
//! sha256 pointer goes before its manifest, and a xorb's index (what makes it exist for Grove)
//! before its bytes.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};

use crate::error::StoreError;
use crate::keys;
use crate::oid::Oid;
use crate::store::BlobStore;
use crate::xet::{FileManifest, parse_xet_hash};

/// What a collection found and removed (or, in a dry run, would remove).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    /// Xet files whose sha256 no commit refers to.
    pub xet_files: u64,
    /// Xorbs no live file uses, and their stored bytes.
    pub xorbs: u64,
    /// Bytes of those xorbs.
    pub xorb_bytes: u64,
    /// Xorbs kept (used by a live file, or too young).
    pub xorbs_kept: u64,
    /// `lfs/` blobs no commit refers to, and their bytes.
    pub blobs: u64,
    /// Bytes of those blobs.
    pub blob_bytes: u64,
    /// Blobs kept.
    pub blobs_kept: u64,
    /// Abandoned staging objects.
    pub staging: u64,
}

impl BlobStore {
    /// Removes what `live` does not reach and is older than `min_age`; with `dry_run`, only
    /// reports it.
    pub async fn collect_garbage(
        &self,
        live: &BTreeSet<String>,
        min_age: Duration,
        dry_run: bool,
    ) -> Result<GcReport, StoreError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let old =
            |meta: &ObjectMeta| now - meta.last_modified.timestamp() >= min_age.as_secs() as i64;
        let mut report = GcReport::default();

        // Files: keep the live and the young, and every xorb they use.
        let mut live_xorbs = HashSet::new();
        let mut dead_files = Vec::new();
        for meta in self
            .list_all(&format!("{}/files", keys::XET_PREFIX))
            .await?
        {
            let Some(bytes) = self.read_small(&meta.location).await? else {
                continue;
            };
            let manifest = FileManifest::decode(&bytes)?;
            if live.contains(&manifest.sha256) || !old(&meta) {
                live_xorbs.extend(manifest.terms.iter().map(|t| t.xorb.clone()));
            } else {
                dead_files.push((meta.location, manifest));
            }
        }
        // Xorbs: an index names a stored xorb.
        let mut dead_xorbs = HashSet::new();
        for meta in self
            .list_all(&format!("{}/xorb-index", keys::XET_PREFIX))
            .await?
        {
            let Some(name) = meta.location.filename().map(str::to_string) else {
                continue;
            };
            if live_xorbs.contains(&name) || !old(&meta) {
                report.xorbs_kept += 1;
            } else {
                dead_xorbs.insert(name);
            }
        }
        // Blobs and staging objects.
        let mut dead_blobs = Vec::new();
        for meta in self.list_all(keys::BLOB_PREFIX).await? {
            let name = meta.location.filename().unwrap_or_default().to_string();
            if live.contains(&name) || !old(&meta) {
                report.blobs_kept += 1;
            } else {
                report.blobs += 1;
                report.blob_bytes += meta.size;
                dead_blobs.push(meta.location);
            }
        }
        let dead_staging: Vec<Path> = self
            .list_all(keys::STAGING_PREFIX)
            .await?
            .into_iter()
            .filter(|m| old(m))
            .map(|m| m.location)
            .collect();
        report.staging = dead_staging.len() as u64;
        report.xet_files = dead_files.len() as u64;
        report.xorbs = dead_xorbs.len() as u64;
        for xorb in &dead_xorbs {
            let hash = parse_xet_hash(xorb)?;
            if let Ok(meta) = self.inner.head(&keys::xorb_key(&hash)).await {
                report.xorb_bytes += meta.size;
            }
        }
        if dry_run {
            return Ok(report);
        }

        for (location, manifest) in &dead_files {
            let oid = Oid::parse(&manifest.sha256)?;
            self.delete_quietly(&keys::xet_sha256_key(&oid)).await?;
            self.delete_quietly(location).await?;
        }
        for xorb in &dead_xorbs {
            self.delete_quietly(&keys::xorb_index_key(&parse_xet_hash(xorb)?))
                .await?;
        }
        // Dedup entries naming a removed file (few: about one chunk in 1024, plus file starts).
        let dead_names: HashSet<&str> = dead_files
            .iter()
            .map(|(_, m)| m.file_hash.as_str())
            .collect();
        for meta in self
            .list_all(&format!("{}/dedup", keys::XET_PREFIX))
            .await?
        {
            if let Some(target) = self.read_small(&meta.location).await?
                && dead_names.contains(String::from_utf8_lossy(&target).trim())
            {
                self.delete_quietly(&meta.location).await?;
            }
        }
        for xorb in &dead_xorbs {
            self.delete_quietly(&keys::xorb_key(&parse_xet_hash(xorb)?))
                .await?;
        }
        for location in dead_blobs.iter().chain(&dead_staging) {
            self.delete_quietly(location).await?;
        }
        tracing::info!(?report, "garbage collected");
        Ok(report)
    }

    async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.inner
            .list(Some(&Path::from(prefix)))
            .try_collect()
            .await
            .map_err(StoreError::Backend)
    }

    /// Deletes an object; one already gone is fine.
    async fn delete_quietly(&self, key: &Path) -> Result<(), StoreError> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::Backend(e)),
        }
    }
}
