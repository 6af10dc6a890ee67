//! The Git LFS batch API as the stock client uses it (`basic` and `multipart` transfers), and the
//! self-authorising URLs it hands out. Every byte uploaded is hashed by the server and compared
//! with the announced oid and size before it becomes visible in the blob store.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use grove_storage::{Expect, Oid, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::repo_lookup::load_repo;
use crate::repos::multipart::{self, CHUNK_SIZE, MULTIPART_THRESHOLD};
use crate::repos::spool::file_stream;
use crate::repos::upload_grants::{GRANT_SECONDS, Purpose};
use crate::repos::{RepoAction, RepoKind};

const LFS_JSON: &str = "application/vnd.git-lfs+json";
/// At most this many objects per batch request.
const MAX_BATCH: usize = 1000;
/// The largest object accepted (the blob store streams it; this bounds abuse).
const MAX_OBJECT: u64 = 500 * 1024 * 1024 * 1024;

#[derive(Deserialize, ToSchema)]
pub struct BatchObject {
    oid: String,
    size: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct BatchRequest {
    operation: String,
    #[serde(default)]
    transfers: Vec<String>,
    objects: Vec<BatchObject>,
    hash_algo: Option<String>,
}

fn lfs_json(status: actix_web::http::StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(LFS_JSON)
        .json(body)
}

fn store_error(e: StoreError) -> ApiError {
    if e.is_client_error() {
        ApiError::BadRequest(format!("upload refused: {e}"))
    } else {
        ApiError::internal(e)
    }
}

/// `{owner}/{name}.git` → the repo name without `.git`.
fn strip_git(name: &str) -> ApiResult<String> {
    name.strip_suffix(".git")
        .map(str::to_string)
        .ok_or_else(|| ApiError::NotFound("LFS endpoints live under /{repo}.git/".into()))
}

async fn batch(
    state: web::Data<AppState>,
    caller: Caller,
    kind: RepoKind,
    owner: String,
    name: String,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let request: BatchRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid LFS batch request: {e}")))?;
    if request.operation != "upload" && request.operation != "download" {
        return Err(ApiError::BadRequest(format!(
            "unsupported LFS operation {:?}: use upload or download",
            request.operation
        )));
    }
    if request.hash_algo.as_deref().is_some_and(|a| a != "sha256") {
        return Err(ApiError::BadRequest(
            "only sha256 LFS objects are supported".into(),
        ));
    }
    if request.objects.len() > MAX_BATCH {
        return Err(ApiError::PayloadTooLarge(format!(
            "at most {MAX_BATCH} objects per batch"
        )));
    }
    let name = strip_git(&name)?;
    if request.operation == "download" {
        let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
        return batch_download(&state, repo, request.objects).await;
    }
    load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let multipart_offered = request.transfers.iter().any(|t| t == "multipart");
    let mut objects = Vec::with_capacity(request.objects.len());
    for object in request.objects {
        let oid = match Oid::parse(&object.oid) {
            Ok(oid) => oid,
            Err(_) => {
                objects.push(json!({ "oid": object.oid, "size": object.size,
                    "error": { "code": 422, "message": "oid must be 64 lowercase hex digits" } }));
                continue;
            }
        };
        let size = match u64::try_from(object.size) {
            Ok(size) if size <= MAX_OBJECT => size,
            _ => {
                objects.push(json!({ "oid": object.oid, "size": object.size,
                    "error": { "code": 422, "message": format!("size must be 0 to {MAX_OBJECT}") } }));
                continue;
            }
        };
        if state.blobs.size(&oid).await.map_err(ApiError::internal)? == Some(size) {
            // Already stored (by any repo): nothing to send.
            objects.push(json!({ "oid": object.oid, "size": size }));
            continue;
        }
        let signer = &state.url_signer;
        let upload = if multipart_offered && size > MULTIPART_THRESHOLD {
            let upload_id = multipart::new_upload_id();
            let mut headers = serde_json::Map::new();
            headers.insert("chunk_size".into(), json!(CHUNK_SIZE.to_string()));
            for part in 1..=multipart::part_count(size, CHUNK_SIZE) {
                let mut grant = signer.grant(Purpose::Part, oid.as_hex(), size);
                grant.upload_id = Some(upload_id.clone());
                grant.chunk_size = Some(CHUNK_SIZE);
                grant.part = Some(part as u32);
                let token = signer.sign(&grant)?;
                headers.insert(
                    part.to_string(),
                    json!(format!(
                        "{}/lfs/multipart/{upload_id}/{part}?token={token}",
                        state.public_url
                    )),
                );
            }
            let mut grant = signer.grant(Purpose::Complete, oid.as_hex(), size);
            grant.upload_id = Some(upload_id.clone());
            grant.chunk_size = Some(CHUNK_SIZE);
            let token = signer.sign(&grant)?;
            json!({
                "href": format!("{}/lfs/multipart/{upload_id}/complete?token={token}", state.public_url),
                "header": headers,
                "expires_in": GRANT_SECONDS,
            })
        } else {
            let token = signer.sign(&signer.grant(Purpose::Put, oid.as_hex(), size))?;
            json!({
                "href": format!("{}/lfs/objects/{}/{size}?token={token}", state.public_url, oid),
                "expires_in": GRANT_SECONDS,
            })
        };
        objects.push(json!({
            "oid": oid.as_hex(),
            "size": size,
            "authenticated": true,
            "actions": { "upload": upload },
        }));
    }
    let transfer = if multipart_offered {
        "multipart"
    } else {
        "basic"
    };
    Ok(lfs_json(
        actix_web::http::StatusCode::OK,
        json!({ "transfer": transfer, "objects": objects, "hash_algo": "sha256" }),
    ))
}

/// Download actions for objects this repo's history refers to (whichever way they were uploaded:
/// LFS, inline, or Xet). An object the repo does not refer to is "not found" even if another
/// repo has it, so a public repo's batch endpoint never hands out a private repo's content.
async fn batch_download(
    state: &AppState,
    repo: crate::repos::model::OwnedRepo,
    requested: Vec<BatchObject>,
) -> ApiResult<HttpResponse> {
    let (git, reachable) = (state.git.clone(), state.reachable.clone());
    let referenced = state
        .blocking(move || {
            let git_repo = crate::repos::files::open(&git, &repo)?;
            reachable
                .of(repo.repo.id, &git_repo)
                .map_err(crate::repos::service::git_error)
        })
        .await?;
    let mut objects = Vec::with_capacity(requested.len());
    for object in requested {
        let missing = json!({ "oid": object.oid, "size": object.size,
            "error": { "code": 404, "message": "object not found in this repo" } });
        let Ok(oid) = Oid::parse(&object.oid) else {
            objects.push(missing);
            continue;
        };
        if !referenced.contains(oid.as_hex()) {
            objects.push(missing);
            continue;
        }
        let Some(size) = state.blobs.size(&oid).await.map_err(ApiError::internal)? else {
            objects.push(missing);
            continue;
        };
        let signer = &state.url_signer;
        let token = signer.sign(&signer.grant(Purpose::Get, oid.as_hex(), size))?;
        objects.push(json!({
            "oid": oid.as_hex(),
            "size": size,
            "authenticated": true,
            "actions": { "download": {
                "href": format!("{}/lfs/objects/{oid}/{size}?token={token}", state.public_url),
                "expires_in": GRANT_SECONDS,
            }},
        }));
    }
    Ok(lfs_json(
        actix_web::http::StatusCode::OK,
        json!({ "transfer": "basic", "objects": objects, "hash_algo": "sha256" }),
    ))
}

/// Whole-object or ranged download on a self-authorising URL from a download batch.
#[utoipa::path(get, path = "/lfs/objects/{oid}/{size}", tag = "lfs",
    params(("oid" = String, Path), ("size" = u64, Path), ("token" = String, Query)),
    responses((status = 200), (status = 206), (status = 403, body = ErrorBody),
              (status = 416, body = ErrorBody)))]
pub async fn get_lfs_object(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
) -> ApiResult<HttpResponse> {
    let (oid, size) = path.into_inner();
    let grant = state.url_signer.verify(&token_of(&req)?, Purpose::Get)?;
    if grant.oid != oid || grant.size != size {
        return Err(ApiError::Forbidden(
            "this download URL is for another object".into(),
        ));
    }
    let oid = Oid::parse(&oid).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    super::download_handlers::stream_blob(&state, &req, &oid, size).await
}

/// Git LFS batch API for a model repo: which objects to upload, and where.
#[utoipa::path(post, path = "/{owner}/{name}.git/info/lfs/objects/batch", tag = "lfs",
    params(("owner" = String, Path), ("name" = String, Path)),
    request_body(content = BatchRequest, content_type = "application/vnd.git-lfs+json"),
    responses((status = 200, description = "objects with upload actions"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_model_lfs_batch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    batch(state, caller, RepoKind::Model, owner, name, body).await
}

/// Git LFS batch API for a dataset repo.
#[utoipa::path(post, path = "/datasets/{owner}/{name}.git/info/lfs/objects/batch", tag = "lfs",
    params(("owner" = String, Path), ("name" = String, Path)),
    request_body(content = BatchRequest, content_type = "application/vnd.git-lfs+json"),
    responses((status = 200, description = "objects with upload actions"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_dataset_lfs_batch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    batch(state, caller, RepoKind::Dataset, owner, name, body).await
}

fn token_of(req: &HttpRequest) -> ApiResult<String> {
    QueryParams::of(req)
        .get("token")
        .map(str::to_string)
        .ok_or_else(|| ApiError::Forbidden("this upload URL carries no grant".into()))
}

/// Whole-object upload on a self-authorising URL (basic transfer).
#[utoipa::path(put, path = "/lfs/objects/{oid}/{size}", tag = "lfs",
    params(("oid" = String, Path), ("size" = u64, Path), ("token" = String, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_lfs_object(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u64)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (oid, size) = path.into_inner();
    let grant = state.url_signer.verify(&token_of(&req)?, Purpose::Put)?;
    if grant.oid != oid || grant.size != size {
        return Err(ApiError::Forbidden(
            "this upload URL is for another object".into(),
        ));
    }
    let oid = Oid::parse(&oid).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let expect = Expect {
        sha256: Some(oid),
        size: Some(size),
        max_size: Some(size),
    };
    let (body, pump) = crate::http::payload::sendable(payload);
    let (stored, ()) = futures::join!(state.blobs.put_stream(body, expect), pump);
    stored.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// One part of a multipart upload, on a self-authorising URL. Answers its ETag.
#[utoipa::path(put, path = "/lfs/multipart/{upload_id}/{part}", tag = "lfs",
    params(("upload_id" = String, Path), ("part" = u32, Path), ("token" = String, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "ETag header"), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn put_lfs_part(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, u32)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (upload_id, part) = path.into_inner();
    let grant = state.url_signer.verify(&token_of(&req)?, Purpose::Part)?;
    let (Some(granted_id), Some(chunk), Some(granted_part)) =
        (&grant.upload_id, grant.chunk_size, grant.part)
    else {
        return Err(ApiError::Forbidden(
            "this upload URL is not for a part".into(),
        ));
    };
    if *granted_id != upload_id || granted_part != part || part == 0 {
        return Err(ApiError::Forbidden(
            "this upload URL is for another part".into(),
        ));
    }
    let expected = multipart::part_size(grant.size, chunk, part as u64);
    let body = payload.map(|chunk| chunk.map_err(|e| e.to_string()));
    let etag = multipart::write_part(&state.spool_dir, &upload_id, part, expected, body).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{etag}\"")))
        .json(json!({})))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompletedPart {
    part_number: u32,
    etag: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CompleteRequest {
    oid: String,
    parts: Vec<CompletedPart>,
}

/// Completes a multipart upload: the parts are hashed together and published only if they make
/// the announced object.
#[utoipa::path(post, path = "/lfs/multipart/{upload_id}/complete", tag = "lfs",
    params(("upload_id" = String, Path), ("token" = String, Query)),
    request_body = CompleteRequest,
    responses((status = 200), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn complete_lfs_multipart(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let upload_id = path.into_inner();
    let grant = state
        .url_signer
        .verify(&token_of(&req)?, Purpose::Complete)?;
    let (Some(granted_id), Some(chunk)) = (&grant.upload_id, grant.chunk_size) else {
        return Err(ApiError::Forbidden(
            "this URL does not complete an upload".into(),
        ));
    };
    if *granted_id != upload_id {
        return Err(ApiError::Forbidden(
            "this URL completes another upload".into(),
        ));
    }
    let request: CompleteRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid completion body: {e}")))?;
    if request.oid != grant.oid {
        return Err(ApiError::BadRequest(
            "the completion names another object".into(),
        ));
    }
    let reported: Vec<(u32, String)> = request
        .parts
        .into_iter()
        .map(|p| (p.part_number, p.etag))
        .collect();
    let count = multipart::part_count(grant.size, chunk);
    let paths = multipart::collect_parts(&state.spool_dir, &upload_id, count, &reported).await?;
    let oid = Oid::parse(&grant.oid).map_err(ApiError::internal)?;
    let expect = Expect {
        sha256: Some(oid),
        size: Some(grant.size),
        max_size: Some(grant.size),
    };
    let result = state.blobs.put_stream(file_stream(paths), expect).await;
    multipart::discard(&state.spool_dir, &upload_id).await;
    result.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyRequest {
    oid: String,
    size: u64,
}

async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    kind: RepoKind,
    owner: String,
    name: String,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let name = strip_git(&name)?;
    load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let request: VerifyRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid verify request: {e}")))?;
    let oid = Oid::parse(&request.oid).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    match state.blobs.size(&oid).await.map_err(ApiError::internal)? {
        Some(size) if size == request.size => Ok(lfs_json(
            actix_web::http::StatusCode::OK,
            json!({ "oid": request.oid, "size": size }),
        )),
        _ => Err(ApiError::NotFound(format!(
            "object {} with {} bytes is not stored",
            request.oid, request.size
        ))),
    }
}

/// Git LFS verify: is the object stored with this size?
#[utoipa::path(post, path = "/{owner}/{name}.git/info/lfs/objects/verify", tag = "lfs",
    params(("owner" = String, Path), ("name" = String, Path)),
    request_body(content = VerifyRequest, content_type = "application/vnd.git-lfs+json"),
    responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn verify_model_lfs_object(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    verify(state, caller, RepoKind::Model, owner, name, body).await
}

/// Git LFS verify for a dataset repo.
#[utoipa::path(post, path = "/datasets/{owner}/{name}.git/info/lfs/objects/verify", tag = "lfs",
    params(("owner" = String, Path), ("name" = String, Path)),
    request_body(content = VerifyRequest, content_type = "application/vnd.git-lfs+json"),
    responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn verify_dataset_lfs_object(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    verify(state, caller, RepoKind::Dataset, owner, name, body).await
}
