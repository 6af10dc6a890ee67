//! The Xet CAS (content-addressed storage) service the stock client uploads to and downloads
//! from, mounted at `{public}/xet/{instance}`.
//!
//! Every call but the xorb-range download carries `Authorization: Bearer <Xet token>` (from the
//! hub's `xet-*-token` endpoints); uploads need a write token. Hub credentials are not accepted
//! here, and the hub's `Caller` extractor is not used: a Xet token is no Hub credential.
//!
//! What the client (hf_xet 1.8) calls, and what Grove answers:
//! - `POST /v1/xorb-grants/…` → 404, so the client uploads the xorb itself to `POST /v1/xorbs`.
//! - `POST /v1/xorbs/default/{hash}` → the xorb is validated (every chunk unpacked and hashed,
//!   the merkle hash recomputed) and stored; `{"was_inserted": bool}`.
//! - `GET /v1/chunks/default-merkledb/{chunk}` → a shard describing the stored xorb holding that
//!   chunk (global deduplication), or 404.
//! - `POST /v2/shards` → 404 (the client falls back to v1); `POST /v1/shards` → every file is
//!   checked and rebuilt from its xorbs, its sha256 compared with the claimed one, and only then
//!   made visible; `{"result": 1}`.
//! - `GET /v2/reconstructions/{file}` → 404; `GET /v1/reconstructions/{file}` with a `Range` →
//!   the terms covering the range and, per xorb, signed URLs for the byte ranges to fetch.
//! - `GET /v1/fetch/{xorb}?grant=…` with a `Range` → those bytes (the URL authorises itself).
//! - `POST /v1/telemetry` (at the host root) → 204, discarded.
//!
//! A file id (its Xet hash) is a content hash: like the Hub's CAS, Grove serves any verified
//! file to any valid token, because only someone who could see the content or a listing of a
//! repo holding it can know the hash.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use grove_storage::xet::{MAX_XORB_BYTES, XetHash, parse_shard, parse_xet_hash};
use grove_storage::{ByteRange, StoreError};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::http::AppState;
use crate::repos::upload_grants::Purpose;
use crate::repos::xet_tokens::XetClaims;

/// The token of a CAS call; `write` calls need an upload token.
fn authorize(state: &AppState, req: &HttpRequest, write: bool) -> ApiResult<XetClaims> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::Unauthorized("a Xet token is required: Authorization: Bearer <token>".into())
        })?;
    let claims = state.xet_tokens.verify(token.trim())?;
    if write && !claims.write {
        return Err(ApiError::Forbidden(
            "this Xet token is read-only: uploads need a token from xet-write-token".into(),
        ));
    }
    Ok(claims)
}

fn xet_error(e: StoreError) -> ApiError {
    match e {
        StoreError::TooLarge { limit } => {
            ApiError::PayloadTooLarge(format!("at most {limit} bytes per upload"))
        }
        StoreError::RangeNotSatisfiable { size } => ApiError::RangeNotSatisfiable(format!(
            "range not satisfiable: the file has {size} bytes"
        )),
        e if e.is_client_error() => ApiError::BadRequest(e.to_string()),
        e => ApiError::internal(e),
    }
}

fn hash_in_path(raw: &str) -> ApiResult<XetHash> {
    parse_xet_hash(raw).map_err(xet_error)
}

/// Reads a body of at most `limit` bytes; more is a 413 as soon as it arrives.
async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(format!(
                "at most {limit} bytes per upload"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// 404 for routes the client tries first and falls back from (grants, v2 shards and
/// reconstructions).
pub async fn not_offered() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not offered by this server" }))
}

/// Telemetry is accepted and discarded.
pub async fn post_telemetry() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

pub async fn post_xorb(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&state, &req, true)?;
    let (_instance, _prefix, hash) = path.into_inner();
    let hash = hash_in_path(&hash)?;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_XORB_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge(format!(
            "at most {MAX_XORB_BYTES} bytes per xorb"
        )));
    }
    // The body streams through validation to the store; it is never held whole.
    let received = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = received.clone();
    let (body, pump) = crate::http::payload::sendable(payload);
    let body = body.inspect(move |item| {
        if let Ok(bytes) = item {
            counted.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let (stored, ()) = futures::join!(state.blobs.xet_put_xorb(&hash, body), pump);
    let inserted = stored.map_err(xet_error)?;
    let length = received.load(std::sync::atomic::Ordering::Relaxed);
    state.metrics.xet_received.inc_by(length);
    if inserted {
        state.metrics.xet_stored.inc_by(length);
    }
    Ok(HttpResponse::Ok().json(json!({ "was_inserted": inserted })))
}

pub async fn post_shard(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&state, &req, true)?;
    let body = read_body(payload, grove_storage::xet::MAX_SHARD_BYTES).await?;
    let files = state
        .blocking(move || parse_shard(&body).map_err(xet_error))
        .await?;
    for file in &files {
        state
            .blobs
            .xet_register_file(file)
            .await
            .map_err(xet_error)?;
    }
    Ok(HttpResponse::Ok().json(json!({ "result": 1 })))
}

pub async fn get_dedup_chunk(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    authorize(&state, &req, false)?;
    let (_instance, _prefix, chunk) = path.into_inner();
    let chunk = hash_in_path(&chunk)?;
    let indexes = state
        .blobs
        .xet_dedup_lookup(&chunk)
        .await
        .map_err(xet_error)?;
    if indexes.is_empty() {
        return Ok(not_offered().await);
    }
    let shard = state
        .blocking(move || grove_storage::xet::dedup_shard(&indexes).map_err(xet_error))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(shard))
}

pub async fn get_reconstruction(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let claims = authorize(&state, &req, false)?;
    let (instance, file) = path.into_inner();
    let file = hash_in_path(&file)?;
    let missing = || ApiError::NotFound(format!("no file {} in this repo", file.hex()));
    let manifest = state
        .blobs
        .xet_file(&file)
        .await
        .map_err(xet_error)?
        .ok_or_else(missing)?;
    // Only content the token's repo refers to: the hash of another repo's file opens nothing.
    let (git, reachable) = (state.git.clone(), state.reachable.clone());
    let referenced = state
        .blocking(move || {
            let git_repo = git
                .open(&claims.git_key)
                .map_err(crate::repos::service::git_error)?;
            reachable
                .of(claims.repo, &git_repo)
                .map_err(crate::repos::service::git_error)
        })
        .await?;
    if !referenced.contains(&manifest.sha256) {
        return Err(missing());
    }
    let want = match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(raw) => ByteRange::parse_header(raw)
            .and_then(|r| r.resolve(manifest.size))
            .map_err(xet_error)?,
        None => 0..manifest.size,
    };
    let offsets = manifest.term_offsets();
    let mut terms = Vec::new();
    let mut fetch: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut offset_into_first = None;
    let mut indexes = std::collections::HashMap::new();
    let mut listed = std::collections::HashSet::new();
    for (i, term) in manifest.terms.iter().enumerate() {
        let (start, end) = (offsets[i], offsets[i + 1]);
        if end <= want.start || start >= want.end {
            continue;
        }
        offset_into_first.get_or_insert_with(|| want.start - start);
        terms.push(json!({
            "hash": term.xorb,
            "unpacked_length": term.unpacked,
            "range": { "start": term.start, "end": term.end },
        }));
        if !listed.insert((term.xorb.clone(), term.start, term.end)) {
            continue;
        }
        let entries = fetch.entry(term.xorb.clone()).or_default();
        if !indexes.contains_key(&term.xorb) {
            let hash = hash_in_path(&term.xorb)?;
            let index = state
                .blobs
                .xet_xorb_index(&hash)
                .await
                .map_err(xet_error)?
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("xorb {} of a file is missing", term.xorb))
                })?;
            indexes.insert(term.xorb.clone(), index);
        }
        let bytes = indexes[&term.xorb].byte_range(term.start, term.end);
        let signer = &state.url_signer;
        let mut grant = signer.grant(Purpose::XorbRead, &term.xorb, 0);
        grant.range = Some([bytes.start, bytes.end - 1]);
        let grant = signer.sign(&grant)?;
        entries.push(json!({
            "range": { "start": term.start, "end": term.end },
            "url": format!("{}/v1/fetch/{}?grant={grant}", cas_base(&state, &instance), term.xorb),
            "url_range": { "start": bytes.start, "end": bytes.end - 1 },
        }));
    }
    Ok(HttpResponse::Ok().json(json!({
        "offset_into_first_range": offset_into_first.unwrap_or(0),
        "terms": terms,
        "fetch_info": fetch,
    })))
}

fn cas_base(state: &AppState, instance: &str) -> String {
    format!("{}/xet/{instance}", state.public_url)
}

#[derive(serde::Deserialize)]
pub struct FetchQuery {
    grant: String,
}

pub async fn get_xorb_bytes(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<FetchQuery>,
) -> ApiResult<HttpResponse> {
    let (_instance, xorb) = path.into_inner();
    let grant = state.url_signer.verify(&query.grant, Purpose::XorbRead)?;
    if grant.oid != xorb {
        return Err(ApiError::Forbidden("this URL is for another xorb".into()));
    }
    let hash = hash_in_path(&xorb)?;
    let [first, last] = grant
        .range
        .ok_or_else(|| ApiError::Forbidden("this URL grants no byte range".into()))?;
    // Without a Range header the URL reads exactly what it grants; with one, the range must lie
    // inside the grant.
    let range = match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        None => ByteRange::Inclusive { first, last },
        Some(raw) => match ByteRange::parse_header(raw).map_err(xet_error)? {
            ByteRange::Inclusive { first: a, last: b } if a >= first && b <= last => {
                ByteRange::Inclusive { first: a, last: b }
            }
            _ => {
                return Err(ApiError::Forbidden(format!(
                    "this URL reads bytes {first}-{last} of the xorb only"
                )));
            }
        },
    };
    let read = state
        .blobs
        .xet_xorb_bytes(&hash, Some(range))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound(format!("no xorb {xorb}")),
            e => xet_error(e),
        })?;
    let mut res = HttpResponse::PartialContent();
    res.insert_header((
        header::CONTENT_RANGE,
        format!(
            "bytes {}-{}/{}",
            read.range.start,
            read.range.end - 1,
            read.total_size
        ),
    ));
    let length = read.range.end - read.range.start;
    let body = read
        .stream
        .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
    Ok(res
        .content_type("application/octet-stream")
        .body(actix_web::body::SizedStream::new(length, body)))
}
