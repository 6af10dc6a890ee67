//! Commits over the Hub protocol: `POST /api/{type}s/{repo}/commit/{branch}` (NDJSON),
//! `POST …/preupload/{rev}` and `POST /api/validate-yaml`.
//!
//! A commit runs in phases so that nothing is visible until the end and nothing big is held in
//! memory: (1) the body is parsed on a blocking thread as it streams in, file contents spooled to
//! disk while hashed; (2) large or binary inline files are published to the blob store (verified
//! against the hash computed while spooling) and every `lfsFile` is checked to be stored with its
//! size; (3) git blobs and the commit are written and the branch moves by compare-and-swap. Only
//! step 3's ref update makes anything reachable; a failure before it leaves the repo as it was.

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures::StreamExt;
use grove_storage::git::{CommitRequest, LfsPointer, Op, RepoPath};
use grove_storage::{Expect, Oid};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::repo_lookup::{kind_from_plural, load_repo};
use crate::repos::commit_body::{ParsedCommit, PendingOp, parse_commit_body};
use crate::repos::lfs_rules::{LfsRules, stores_as_lfs};
use crate::repos::service::{author_of, git_error};
use crate::repos::spool::file_stream;
use crate::repos::{RepoAction, files, lfs_objects, model};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommitResponse {
    commit_oid: String,
    commit_url: String,
    success: bool,
    hook_output: String,
}

/// A file ready for git: its path and the git blob to write.
enum Ready {
    /// Content in a spool file, to become a git blob as is.
    Regular {
        path: RepoPath,
        spool: crate::repos::spool::Spooled,
    },
    /// An LFS pointer text.
    Pointer {
        path: RepoPath,
        pointer: String,
    },
    Delete(RepoPath),
    DeleteFolder(RepoPath),
}

/// Creates a commit on a branch from an NDJSON body (header, file, lfsFile, deletedFile,
/// deletedFolder lines).
#[utoipa::path(post, path = "/api/{kind}/{owner}/{name}/commit/{rev}", tag = "commits",
    params(("kind" = String, Path, description = "models or datasets"),
           ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path, description = "branch, percent-encoded")),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, body = CommitResponse), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn create_commit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, branch) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    if QueryParams::of(&req).flag("create_pr", false) {
        return Err(ApiError::BadRequest(
            "pull requests are not supported by this hub yet: commit to a branch".into(),
        ));
    }
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let author = author_of(&caller.require(Access::Write)?.user);

    // The branch must exist, and its .gitattributes decides which inline files become LFS.
    let git = state.git.clone();
    let probe_repo = repo.clone();
    let probe_branch = branch.clone();
    let rules = state
        .blocking(move || {
            let git_repo = files::open(&git, &probe_repo)?;
            match git_repo.resolve(&probe_branch).map_err(git_error)? {
                Some(r) if matches!(r.kind, grove_storage::git::RevKind::Branch(_)) => {
                    LfsRules::at(&git_repo, &r.commit)
                }
                _ => Err(ApiError::RevisionNotFound(format!(
                    "Invalid rev id: {probe_branch} (commits go to existing branches)"
                ))),
            }
        })
        .await?;

    // Phase 1: parse and spool on a blocking thread while the body streams in.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let spool_dir = state.spool_dir.clone();
    let parser = tokio::task::spawn_blocking(move || parse_commit_body(rx, spool_dir));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if tx.send(chunk).await.is_err() {
            break; // the parser stopped on an error; it reports it below
        }
    }
    drop(tx);
    let parsed: ParsedCommit = parser
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("commit parser failed: {e}")))??;

    // Phase 2: publish large inline files, check announced LFS objects.
    let mut ready = Vec::with_capacity(parsed.ops.len());
    let mut new_lfs = Vec::new();
    for op in parsed.ops {
        match op {
            PendingOp::Inline { path, spool } => {
                if !stores_as_lfs(&rules, &path, spool.size, spool.binary) {
                    ready.push(Ready::Regular { path, spool });
                    continue;
                }
                let oid = Oid::parse(&spool.sha256).map_err(ApiError::internal)?;
                let expect = Expect {
                    sha256: Some(oid.clone()),
                    size: Some(spool.size),
                    max_size: None,
                };
                state
                    .blobs
                    .put_stream(file_stream(vec![spool.path().to_path_buf()]), expect)
                    .await
                    .map_err(ApiError::internal)?;
                let spool_path = spool.path().to_path_buf();
                let git_oid = state
                    .blocking(move || {
                        grove_storage::git::git_blob_id_of_file(&spool_path).map_err(git_error)
                    })
                    .await?;
                new_lfs.push((oid.to_string(), spool.size, git_oid));
                ready.push(Ready::Pointer {
                    pointer: LfsPointer::format(oid.as_hex(), spool.size),
                    path,
                });
            }
            PendingOp::Lfs { path, oid, size } => {
                let stored = state.blobs.size(&oid).await.map_err(ApiError::internal)?;
                let size = match (stored, size) {
                    (None, _) => {
                        return Err(ApiError::BadRequest(format!(
                            "LFS object {oid} for {path} was never uploaded"
                        )));
                    }
                    (Some(stored), Some(claimed)) if stored != claimed => {
                        return Err(ApiError::BadRequest(format!(
                            "LFS object {oid} for {path} has {stored} bytes, not {claimed}"
                        )));
                    }
                    (Some(stored), _) => stored,
                };
                ready.push(Ready::Pointer {
                    pointer: LfsPointer::format(oid.as_hex(), size),
                    path,
                });
            }
            PendingOp::Delete(path) => ready.push(Ready::Delete(path)),
            PendingOp::DeleteFolder(path) => ready.push(Ready::DeleteFolder(path)),
        }
    }

    // Phase 3: git blobs, the commit, and the compare-and-swap of the branch.
    let git = state.git.clone();
    let commit_repo = repo.clone();
    let commit_branch = branch.clone();
    let (commit, card) = state
        .blocking(move || {
            let git_repo = files::open(&git, &commit_repo)?;
            let mut ops = Vec::with_capacity(ready.len());
            for item in ready {
                ops.push(match item {
                    Ready::Regular { path, spool } => Op::Put {
                        blob_oid: git_repo
                            .write_blob_from_file(spool.path())
                            .map_err(git_error)?,
                        path,
                        executable: false,
                    },
                    Ready::Pointer { path, pointer } => Op::Put {
                        blob_oid: git_repo.write_blob(pointer.as_bytes()).map_err(git_error)?,
                        path,
                        executable: false,
                    },
                    Ready::Delete(path) => Op::Delete { path },
                    Ready::DeleteFolder(path) => Op::DeleteFolder { path },
                });
            }
            let commit = git_repo
                .commit(CommitRequest {
                    branch: commit_branch.clone(),
                    expected_parent: parsed.parent,
                    ops,
                    title: parsed.summary,
                    description: parsed.description,
                    author,
                })
                .map_err(git_error)?;
            let card = if commit_branch == commit_repo.repo.default_branch {
                Some(files::stored_card(&git_repo, &commit)?)
            } else {
                None
            };
            Ok((commit, card))
        })
        .await?;

    let commit_hex = commit.to_string();
    let repo_id = repo.repo.id;
    let head = commit_hex.clone();
    state
        .db
        .run(move |conn| {
            lfs_objects::remember(conn, &new_lfs)?;
            if let Some(card) = card {
                conn.transaction(|conn| {
                    model::record_head(conn, repo_id, &head, card)?;
                    crate::lineage::scans::enqueue(conn, repo_id, &head)
                })?;
            }
            Ok(())
        })
        .await?;
    state.scan_wake.notify_one();
    let commit_url = format!("{}/commit/{commit_hex}", state.repo_url(kind, &repo.id()));
    Ok(HttpResponse::Ok().json(CommitResponse {
        commit_oid: commit_hex,
        commit_url,
        success: true,
        hook_output: String::new(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PreuploadFile {
    path: String,
    /// Base64 of the first 512 bytes.
    #[serde(default)]
    sample: String,
    size: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct PreuploadRequest {
    files: Vec<PreuploadFile>,
}

/// Up to this many files per preupload call (the stock client sends at most 256).
const MAX_PREUPLOAD_FILES: usize = 1000;

/// Decides how each file is uploaded (`regular` inline in the commit, or `lfs`) and returns the
/// current content id of each path, so identical re-uploads make no commit.
#[utoipa::path(post, path = "/api/{kind}/{owner}/{name}/preupload/{rev}", tag = "commits",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path)),
    request_body = PreuploadRequest,
    responses((status = 200, description = "files with uploadMode, shouldIgnore and oid"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn create_preupload(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
    body: web::Json<PreuploadRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let files_in = body.into_inner().files;
    if files_in.len() > MAX_PREUPLOAD_FILES {
        return Err(ApiError::PayloadTooLarge(format!(
            "at most {MAX_PREUPLOAD_FILES} files per preupload call"
        )));
    }
    let lfs_mode = state.upload_mode == crate::config::UploadMode::Lfs;
    let git = state.git.clone();
    let db = state.db.clone();
    let answer = state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let commit = files::resolve(&git_repo, &rev)?;
            let rules = LfsRules::at(&git_repo, &commit)?;
            let mut out = Vec::with_capacity(files_in.len());
            for f in files_in {
                let path = RepoPath::parse(&f.path)
                    .map_err(|e| ApiError::BadRequest(format!("{}: {e}", f.path)))?;
                let sample = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    f.sample.as_bytes(),
                )
                .unwrap_or_default();
                let binary = sample.contains(&0);
                let lfs = lfs_mode && f.size > 0 && stores_as_lfs(&rules, &path, f.size, binary);
                let entry = git_repo.entry(&commit, &path).map_err(git_error)?;
                let oid = match entry {
                    None => None,
                    Some(e) => match (&e.lfs, lfs) {
                        (Some(pointer), true) => Some(pointer.oid.clone()),
                        (Some(pointer), false) => {
                            let sha = pointer.oid.clone();
                            let mut conn = db.get()?;
                            lfs_objects::git_oid_of(&mut conn, &sha)?
                        }
                        (None, _) => Some(e.oid.clone()),
                    },
                };
                out.push(json!({
                    "path": f.path,
                    "uploadMode": if lfs { "lfs" } else { "regular" },
                    "shouldIgnore": false,
                    "oid": oid,
                }));
            }
            Ok(json!({ "files": out, "commitOid": commit.to_string() }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidateYamlRequest {
    content: String,
}

/// Checks a README's YAML front matter before a commit.
#[utoipa::path(post, path = "/api/validate-yaml", tag = "commits",
    request_body = ValidateYamlRequest,
    responses((status = 200, description = "{errors: [], warnings: []}"),
              (status = 400, description = "{errors: [{message}], warnings: []}")))]
pub async fn validate_yaml(body: web::Json<ValidateYamlRequest>) -> HttpResponse {
    match grove_indexer::card::parse_card(&body.content) {
        Ok(_) => HttpResponse::Ok().json(json!({ "errors": [], "warnings": [] })),
        Err(e) => HttpResponse::BadRequest().json(json!({
            "error": e.to_string(),
            "errors": [{ "message": e.to_string() }],
            "warnings": [],
        })),
    }
}
