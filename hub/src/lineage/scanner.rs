//! The background scanner: takes queued commits, indexes their weight files, reads their
//! declared lineage, pins and verifies each parent, and replaces the repo's current edges.
//! Runs in every serve process; the queue in the database hands each scan to one of them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use grove_lineage::declared::{Sources, declared_lineage};
use grove_lineage::formats::{TensorEntry, WeightFormat};
use grove_lineage::relation::{EdgeSource, Relation};
use grove_lineage::verify::verify;
use grove_storage::BlobStore;
use grove_storage::git::{Entry, GitStore, RepoPath};
use serde_json::{Map, Value};
use tokio::sync::Notify;

use super::edges::{self, NewEdge};
use super::{closure, manifests, scans};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::repos::access::Viewer;
use crate::repos::model::{OwnedRepo, find_repo, find_repo_by_id};
use crate::repos::service::git_error;
use crate::repos::{RepoKind, files};

/// Small JSON/YAML side files are read up to this size.
const MAX_SIDE_FILE: u64 = 1024 * 1024;
/// How often an idle scanner looks for work queued by another process.
const POLL: Duration = Duration::from_secs(2);

/// What the scanner needs; cheap to clone.
#[derive(Clone)]
pub struct Scanner {
    pub db: Db,
    pub git: Arc<GitStore>,
    pub blobs: Arc<BlobStore>,
    pub wake: Arc<Notify>,
}

impl Scanner {
    /// Runs forever, scanning queued commits one at a time.
    pub async fn run(self) {
        loop {
            let claim = self.db.run(scans::claim_next).await;
            match claim {
                Ok(Some(claim)) => {
                    if let Err(e) = self.process(&claim.repo_id, &claim.commit).await {
                        tracing::warn!(error = %e, repo = claim.repo_id, commit = %claim.commit,
                            "lineage scan failed");
                        let msg = e.to_string();
                        let c = claim.clone();
                        if let Err(e) = self
                            .db
                            .run(move |conn| scans::release(conn, &c, &msg))
                            .await
                        {
                            tracing::warn!(error = %e, "could not release a failed scan");
                        }
                    }
                }
                Ok(None) => {
                    let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lineage queue unavailable");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    fn opener(
        &self,
        repo: &OwnedRepo,
    ) -> impl Fn() -> ApiResult<grove_storage::git::GitRepo> + Send + Sync + Clone + 'static {
        let git = self.git.clone();
        let repo = repo.clone();
        move || files::open(&git, &repo)
    }

    /// Indexes the weight files of `repo@commit` and returns its entries and warnings.
    pub async fn index(
        &self,
        repo: &OwnedRepo,
        commit: &str,
    ) -> ApiResult<(Vec<Entry>, Vec<String>)> {
        let open = self.opener(repo);
        let c = commit.to_string();
        let entries = tokio::task::spawn_blocking(move || {
            let git_repo = open()?;
            let id = files::resolve(&git_repo, &c)?;
            files::files(&git_repo, &id)
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))??;
        let warnings = manifests::index_commit(
            &self.db,
            &self.blobs,
            self.opener(repo),
            repo.repo.id,
            commit,
            &entries,
        )
        .await?;
        Ok((entries, warnings))
    }

    /// Scans one commit of a repo's default branch.
    pub async fn process(&self, repo_id: &i64, commit: &str) -> ApiResult<()> {
        let repo_id = *repo_id;
        let Some(repo) = self
            .db
            .run(move |conn| find_repo_by_id(conn, repo_id))
            .await?
        else {
            return Ok(()); // deleted meanwhile: its scan rows went with it
        };
        let (entries, mut warnings) = self.index(&repo, commit).await?;

        let open = self.opener(&repo);
        let c = commit.to_string();
        let side = tokio::task::spawn_blocking(move || read_side_files(&open()?, &c))
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))??;
        warnings.extend(side.warnings.iter().cloned());

        let c = commit.to_string();
        let weight_files = self
            .db
            .run(move |conn| manifests::commit_files(conn, repo_id, &c))
            .await?;
        // Parsing metadata and declarations is CPU work on untrusted input: off the executor.
        let entries_for_decl = entries.clone();
        let (declared, summary, side) = tokio::task::spawn_blocking(move || {
            let gguf_meta: Vec<BTreeMap<String, String>> = weight_files
                .iter()
                .filter(|(_, f)| f.format == "gguf" && f.error.is_none())
                .map(|(_, f)| serde_json::from_str(&f.metadata).unwrap_or_default())
                .collect();
            let paths: Vec<&str> = entries_for_decl.iter().map(|e| e.path.as_str()).collect();
            let declared = declared_lineage(&Sources {
                card: side.card.as_ref(),
                mergekit: side.mergekit.as_ref(),
                adapter_config: side.adapter_config.as_ref(),
                config: side.config.as_ref(),
                gguf_metadata: gguf_meta.iter().collect(),
                paths,
            });
            let summary = manifests::summary(&weight_files);
            (declared, summary, side)
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        warnings.extend(declared.warnings.iter().cloned());

        // A fork's first commit is its source's commit: its lineage is the fork edge.
        let fork_commit = self
            .db
            .run(move |conn| edges::fork_point(conn, repo_id))
            .await?;
        let is_fork_point = fork_commit.as_deref() == Some(commit);

        let mut new_edges = Vec::new();
        if !is_fork_point && repo.repo.kind() == RepoKind::Model {
            let c = commit.to_string();
            let child_tensors: Vec<TensorEntry> = self
                .db
                .run(move |conn| manifests::commit_tensors(conn, repo_id, &c))
                .await?
                .into_iter()
                .map(|(_, t)| t)
                .collect();
            let rank = side
                .adapter_config
                .as_ref()
                .and_then(|a| a.get("r"))
                .and_then(Value::as_u64);
            let owner_view = {
                let owner = repo.owner.clone();
                self.db
                    .run(move |conn| Viewer::for_account(conn, &owner))
                    .await?
            };
            for (position, parent) in declared.parents.iter().enumerate() {
                let Some((owner, name)) = parent.id.split_once('/') else {
                    continue;
                };
                let (o, n) = (owner.to_string(), name.to_string());
                let found = self
                    .db
                    .run(move |conn| find_repo(conn, RepoKind::Model, &o, &n))
                    .await?
                    .filter(|p| owner_view.can_see(p.owner.id, p.repo.private));
                let Some(parent_repo) = found else {
                    warnings.push(format!(
                        "base model {} is not a model on this hub (or not visible to the owner); no edge recorded",
                        parent.id
                    ));
                    continue;
                };
                if parent_repo.repo.id == repo_id {
                    warnings.push(format!(
                        "base model {} names this model itself; ignored",
                        parent.id
                    ));
                    continue;
                }
                let (child, pid) = (repo_id, parent_repo.repo.id);
                if self
                    .db
                    .run(move |conn| closure::is_ancestor(conn, child, pid))
                    .await?
                {
                    warnings.push(format!(
                        "base model {} descends from this model; the edge would make a cycle and was refused",
                        parent.id
                    ));
                    continue;
                }
                let pinned = self
                    .pin(&parent_repo, parent.revision.as_deref(), &mut warnings)
                    .await?;
                let Some(pinned) = pinned else { continue };
                let (_, parent_warnings) = self.index(&parent_repo, &pinned).await?;
                if !parent_warnings.is_empty() {
                    warnings.push(format!(
                        "weights of base model {} could not all be read",
                        parent.id
                    ));
                }
                let p = pinned.clone();
                let parent_tensors: Vec<TensorEntry> = self
                    .db
                    .run(move |conn| manifests::commit_tensors(conn, pid, &p))
                    .await?
                    .into_iter()
                    .map(|(_, t)| t)
                    .collect();
                let relation = declared.relation;
                let verdict = tokio::task::spawn_blocking({
                    let child_tensors = child_tensors.clone();
                    move || verify(relation, &child_tensors, &parent_tensors, rank)
                })
                .await
                .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
                new_edges.push(NewEdge {
                    parent_repo_id: pid,
                    parent_name: parent_repo.id(),
                    parent_commit: Some(pinned),
                    relation: relation.as_str().to_string(),
                    source: parent.source.as_str().to_string(),
                    relation_stated: declared.relation_stated,
                    position: position as i32 + 1,
                    merge_weight: parent.weight,
                    merge_base: parent.merge_base,
                    recipe: declared.recipe.as_ref().map(Value::to_string),
                    verification: verdict.state.as_str().to_string(),
                    evidence: serde_json::to_string(&verdict.evidence).unwrap_or_default(),
                });
            }
        }

        let commit_s = commit.to_string();
        let apply = !is_fork_point;
        self.db
            .run(move |conn| {
                conn.transaction(|conn| {
                    // Only the scan of the current head may set the current edges: scans of
                    // older commits finishing late must not overwrite newer lineage.
                    let head = find_repo_by_id(conn, repo_id)?.and_then(|r| r.repo.head_commit);
                    let mut warnings = warnings;
                    if apply && head.as_deref() == Some(commit_s.as_str()) {
                        // Cycles are checked again under the lineage lock: another process
                        // may have added the reverse edge since the check above.
                        closure::lock(conn)?;
                        let mut kept = Vec::with_capacity(new_edges.len());
                        for e in new_edges {
                            if closure::is_ancestor(conn, repo_id, e.parent_repo_id)? {
                                warnings.push(format!(
                                    "base model {} descends from this model; the edge would make a cycle and was refused",
                                    e.parent_name
                                ));
                            } else {
                                kept.push(e);
                            }
                        }
                        edges::replace_declared(conn, repo_id, &commit_s, &kept)?;
                    }
                    scans::finish(conn, repo_id, &commit_s, &summary, &warnings)
                })
            })
            .await
    }

    /// The commit a declared parent is pinned to: its `@revision`, or its head now.
    async fn pin(
        &self,
        parent: &OwnedRepo,
        revision: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> ApiResult<Option<String>> {
        let Some(rev) = revision else {
            return Ok(parent.repo.head_commit.clone());
        };
        let open = self.opener(parent);
        let r = rev.to_string();
        let resolved = tokio::task::spawn_blocking(move || -> ApiResult<Option<String>> {
            let git_repo = open()?;
            Ok(git_repo
                .resolve(&r)
                .map_err(git_error)?
                .map(|x| x.commit.to_string()))
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        match resolved {
            Ok(Some(c)) => Ok(Some(c)),
            Ok(None) | Err(_) => {
                warnings.push(format!(
                    "revision {rev} of base model {} does not exist; pinned to its head instead",
                    parent.id()
                ));
                Ok(parent.repo.head_commit.clone())
            }
        }
    }
}

/// The parsed side files of a commit that may declare lineage.
#[derive(Default)]
struct SideFiles {
    card: Option<Map<String, Value>>,
    mergekit: Option<Map<String, Value>>,
    adapter_config: Option<Map<String, Value>>,
    config: Option<Map<String, Value>>,
    warnings: Vec<String>,
}

fn read_side_files(git_repo: &grove_storage::git::GitRepo, commit: &str) -> ApiResult<SideFiles> {
    let id = files::resolve(git_repo, commit)?;
    let mut out = SideFiles::default();
    let read = |path: &str, warnings: &mut Vec<String>| -> ApiResult<Option<String>> {
        let p = RepoPath::parse(path).map_err(git_error)?;
        let Some(entry) = git_repo.entry(&id, &p).map_err(git_error)? else {
            return Ok(None);
        };
        if entry.lfs.is_some() || entry.size > MAX_SIDE_FILE {
            warnings.push(format!(
                "{path} is larger than {MAX_SIDE_FILE} bytes; not read"
            ));
            return Ok(None);
        }
        let bytes = git_repo.read_blob(&entry.oid).map_err(git_error)?;
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                warnings.push(format!("{path} is not UTF-8; not read"));
                Ok(None)
            }
        }
    };
    let mut w = Vec::new();
    if let Some(text) = read("README.md", &mut w)? {
        match grove_indexer::card::parse_card(&text) {
            Ok(card) => out.card = Some(card.metadata),
            Err(e) => w.push(format!("README.md front matter not read: {e}")),
        }
    }
    if let Some(text) = read("mergekit_config.yml", &mut w)? {
        match grove_indexer::card::parse_front_matter(&text) {
            Ok(m) => out.mergekit = Some(m),
            Err(e) => w.push(format!("mergekit_config.yml not read: {e}")),
        }
    }
    for (path, slot) in [
        ("adapter_config.json", &mut out.adapter_config),
        ("config.json", &mut out.config),
    ] {
        if let Some(text) = read(path, &mut w)? {
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => *slot = Some(m),
                Ok(_) => w.push(format!("{path} is not a JSON object; not read")),
                Err(e) => w.push(format!("{path} is not valid JSON: {e}")),
            }
        }
    }
    if let Some(text) = read("model.safetensors.index.json", &mut w)? {
        check_shard_index(git_repo, &id, &text, &mut w)?;
    }
    out.warnings = w;
    Ok(out)
}

/// Warns when a sharded checkpoint's index names shards the commit does not hold.
fn check_shard_index(
    git_repo: &grove_storage::git::GitRepo,
    id: &grove_storage::git::CommitId,
    text: &str,
    warnings: &mut Vec<String>,
) -> ApiResult<()> {
    let Ok(Value::Object(index)) = serde_json::from_str::<Value>(text) else {
        warnings.push("model.safetensors.index.json is not a JSON object".into());
        return Ok(());
    };
    let Some(Value::Object(map)) = index.get("weight_map") else {
        warnings.push("model.safetensors.index.json has no weight_map".into());
        return Ok(());
    };
    let mut shards: Vec<&str> = map.values().filter_map(Value::as_str).collect();
    shards.sort_unstable();
    shards.dedup();
    for shard in shards.into_iter().take(10_000) {
        let present = match RepoPath::parse(shard) {
            Ok(p) => git_repo.entry(id, &p).map_err(git_error)?.is_some(),
            Err(_) => false,
        };
        if !present || WeightFormat::from_path(shard).is_none() {
            warnings.push(format!(
                "model.safetensors.index.json names a missing shard {shard}"
            ));
        }
    }
    Ok(())
}

/// Used by the fork API: the relation constant, kept here with the other edge producers.
pub const FORK: Relation = Relation::Fork;
pub const FORK_SOURCE: EdgeSource = EdgeSource::ForkApi;
