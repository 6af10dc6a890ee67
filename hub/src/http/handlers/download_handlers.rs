//! Downloads: `HEAD`/`GET /{prefix}{owner}/{name}/resolve/{rev}/{path}`.
//!
//! Answers carry what the stock client needs before it reads a byte: `X-Repo-Commit`, a content
//! hash as `ETag` and `X-Linked-Etag` (sha256 for LFS files, the git blob id otherwise, never a
//! commit id), `X-Linked-Size`, and `Accept-Ranges`. LFS content streams from the blob store with
//! byte ranges; a HEAD never touches the blob bytes.

use actix_web::body::SizedStream;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use bytes::Bytes;
use futures::{StreamExt, stream};
use grove_storage::{ByteRange, Oid, StoreError};

use crate::error::{ApiError, ApiResult};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::repos::files;
use crate::repos::model::count_download;
use crate::repos::service::git_error;
use crate::repos::{RepoAction, RepoKind};
use grove_storage::git::RepoPath;

/// Where a file's bytes are.
enum Content {
    /// A small regular file, read from git.
    Inline(Bytes),
    /// An LFS object in the blob store.
    Blob { oid: Oid, size: u64 },
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::RangeNotSatisfiable { size } => ApiError::RangeNotSatisfiable(format!(
            "range not satisfiable: the file has {size} bytes"
        )),
        StoreError::InvalidRange(m) => ApiError::BadRequest(format!("invalid Range header: {m}")),
        StoreError::NotFound => ApiError::internal(anyhow::anyhow!(
            "an LFS object referenced by a commit is missing from the blob store"
        )),
        other => ApiError::internal(other),
    }
}

/// The requested range, if the header holds one we can serve; a malformed header is ignored
/// (RFC 9110: send the whole content), an unsatisfiable one is a 416.
fn requested_range(req: &HttpRequest) -> Option<ByteRange> {
    req.headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| ByteRange::parse_header(v).ok())
}

/// What a resolve URL names.
struct FileRef {
    kind: RepoKind,
    owner: String,
    name: String,
    rev: String,
    path: String,
}

async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    file: FileRef,
) -> ApiResult<HttpResponse> {
    let FileRef {
        kind,
        owner,
        name,
        rev,
        path,
    } = file;
    let repo =
        crate::http::repo_lookup::load_repo(&state, &caller, kind, owner, name, RepoAction::Read)
            .await?;
    serve_file(&state, &req, repo, rev, path).await
}

/// Answers a GET or HEAD for `path` at `rev` of a repo the caller was already allowed to read
/// (also used by eval workers, who authenticate by the job they hold).
pub async fn serve_file(
    state: &AppState,
    req: &HttpRequest,
    repo: crate::repos::model::OwnedRepo,
    rev: String,
    path: String,
) -> ApiResult<HttpResponse> {
    let git = state.git.clone();
    let repo_id = repo.repo.id;
    let (kind, repo_name) = (repo.repo.kind(), repo.id());
    let (commit, etag, content) = state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let commit = files::resolve(&git_repo, &rev)?;
            let missing = || ApiError::EntryNotFound(format!("Entry not found: {path}"));
            let path = RepoPath::parse(&path).map_err(|_| missing())?;
            let entry = git_repo
                .entry(&commit, &path)
                .map_err(git_error)?
                .filter(|e| e.kind == grove_storage::git::EntryKind::File)
                .ok_or_else(missing)?;
            match &entry.lfs {
                Some(lfs) => {
                    let oid = Oid::parse(&lfs.oid).map_err(ApiError::internal)?;
                    Ok((
                        commit,
                        lfs.oid.clone(),
                        Content::Blob {
                            oid,
                            size: lfs.size,
                        },
                    ))
                }
                None => {
                    let bytes = git_repo.read_blob(&entry.oid).map_err(git_error)?;
                    Ok((
                        commit,
                        entry.oid.clone(),
                        Content::Inline(Bytes::from(bytes)),
                    ))
                }
            }
        })
        .await?;

    let size = match &content {
        Content::Inline(b) => b.len() as u64,
        Content::Blob { size, .. } => *size,
    };
    let range = requested_range(req);
    let span = match range {
        Some(r) => Some(r.resolve(size).map_err(store_error)?),
        None => None,
    };
    let mut res = match span {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    headers(&mut res, commit.as_ref(), &etag, size);
    // Content Grove holds through Xet is offered to Xet-capable clients too.
    if let Content::Blob { oid, .. } = &content
        && let Some(hash) = super::xet_handlers::xet_hash_of(state, oid).await?
    {
        res.insert_header(("X-Xet-Hash", hash)).insert_header((
            header::LINK,
            super::xet_handlers::xet_auth_link(state, kind, &repo_name, commit.as_ref()),
        ));
    }
    if let Some(span) = &span {
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", span.start, span.end - 1, size),
        ));
    }
    let length = span.as_ref().map_or(size, |s| s.end - s.start);
    if req.method() == Method::HEAD {
        // The length is announced but no byte is read.
        let empty = stream::empty::<Result<Bytes, std::io::Error>>();
        return Ok(res.body(SizedStream::new(length, empty)));
    }
    let counted = req.headers().contains_key("x-hf-download-counter")
        && span.as_ref().is_none_or(|s| s.start == 0);
    if counted {
        state
            .db
            .run(move |conn| count_download(conn, repo_id))
            .await?;
    }
    match content {
        Content::Inline(bytes) => {
            let slice = match span {
                Some(s) => bytes.slice(s.start as usize..s.end as usize),
                None => bytes,
            };
            Ok(res.body(slice))
        }
        Content::Blob { oid, .. } => {
            let read = state.blobs.get(&oid, range).await.map_err(store_error)?;
            let body = read
                .stream
                .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
            Ok(res.body(SizedStream::new(length, body)))
        }
    }
}

/// Streams a blob the caller was already allowed to read, whole or the requested range.
pub async fn stream_blob(
    state: &AppState,
    req: &HttpRequest,
    oid: &Oid,
    size: u64,
) -> ApiResult<HttpResponse> {
    let range = requested_range(req);
    let read = state.blobs.get(oid, range).await.map_err(store_error)?;
    let mut res = match range {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    if range.is_some() {
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", read.range.start, read.range.end - 1),
        ));
    }
    res.insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"));
    let length = read.range.end - read.range.start;
    let body = read
        .stream
        .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
    Ok(res.body(SizedStream::new(length, body)))
}

fn headers(res: &mut HttpResponseBuilder, commit: &str, etag: &str, size: u64) {
    res.insert_header(("X-Repo-Commit", commit.to_string()))
        .insert_header((header::ETAG, format!("\"{etag}\"")))
        .insert_header(("X-Linked-Etag", format!("\"{etag}\"")))
        .insert_header(("X-Linked-Size", size.to_string()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=0, must-revalidate"));
}

/// Downloads a model file (HEAD for its metadata only).
#[utoipa::path(get, path = "/{owner}/{name}/resolve/{rev}/{path}", tag = "files",
    params(("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path, description = "branch, tag or commit id, percent-encoded"),
           ("path" = String, Path, description = "file path in the repo")),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
              (status = 401), (status = 404), (status = 416)))]
pub async fn get_model_file(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name, rev, path) = path.into_inner();
    let file = FileRef {
        kind: RepoKind::Model,
        owner,
        name,
        rev,
        path,
    };
    resolve(state, caller, req, file).await
}

/// Downloads a dataset file (HEAD for its metadata only).
#[utoipa::path(get, path = "/datasets/{owner}/{name}/resolve/{rev}/{path}", tag = "files",
    params(("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path, description = "branch, tag or commit id, percent-encoded"),
           ("path" = String, Path, description = "file path in the repo")),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
              (status = 401), (status = 404), (status = 416)))]
pub async fn get_dataset_file(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name, rev, path) = path.into_inner();
    let file = FileRef {
        kind: RepoKind::Dataset,
        owner,
        name,
        rev,
        path,
    };
    resolve(state, caller, req, file).await
}
