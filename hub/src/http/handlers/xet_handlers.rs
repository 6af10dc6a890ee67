//! The hub's side of Xet: the token endpoints, and the fields that tell a client a file can be
//! downloaded through Xet (`X-Xet-Hash` + `Link rel="xet-auth"` on resolve, `xetHash` in trees).
//!
//! The client gets the CAS address and a CAS token from `xet-read-token` / `xet-write-token`.
//! Its Rust half reads them from the JSON body, its Python half from the `X-Xet-*` headers, so
//! both are sent.

use actix_web::{HttpResponse, web};
use futures::{StreamExt, TryStreamExt};
use grove_storage::Oid;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::repo_lookup::{kind_from_plural, load_repo};
use crate::repos::{RepoAction, RepoKind};

/// A token for downloading a repo's files through Xet (anonymous for public repos).
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/xet-read-token/{rev}", tag = "xet",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path, description = "branch, tag or commit; not otherwise checked")),
    responses((status = 200, description = "{casUrl, exp, accessToken}, also as X-Xet-* headers"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_xet_read_token(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, _rev) = path.into_inner();
    issue(&state, &caller, &kind, owner, name, false).await
}

/// A token for uploading a repo's large files through Xet (needs write access).
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/xet-write-token/{rev}", tag = "xet",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path, description = "the branch the upload is for"),
           ("create_pr" = Option<bool>, Query)),
    responses((status = 200, description = "{casUrl, exp, accessToken}, also as X-Xet-* headers"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_xet_write_token(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, _rev) = path.into_inner();
    issue(&state, &caller, &kind, owner, name, true).await
}

/// The revision is not checked: a token is scoped to the repo, and the revision of an upload is
/// only decided by the commit that follows it (which may create the branch or a pull request).
async fn issue(
    state: &AppState,
    caller: &Caller,
    kind: &str,
    owner: String,
    name: String,
    write: bool,
) -> ApiResult<HttpResponse> {
    let kind = kind_from_plural(kind)?;
    let action = if write {
        RepoAction::Write
    } else {
        RepoAction::Read
    };
    let repo = load_repo(state, caller, kind, owner, name, action).await?;
    let (token, exp) = state
        .xet_tokens
        .issue(repo.repo.id, repo.repo.git_key(), write)?;
    let cas_url = state.xet_cas_url();
    Ok(HttpResponse::Ok()
        .insert_header(("X-Xet-Cas-Url", cas_url.clone()))
        .insert_header(("X-Xet-Access-Token", token.clone()))
        .insert_header(("X-Xet-Token-Expiration", exp.to_string()))
        .json(json!({ "casUrl": cas_url, "exp": exp, "accessToken": token })))
}

/// The Xet file hash of content Grove can serve through Xet, if any.
/// Resolve and tree listings call this for every LFS file, so it reads only the sha256 pointer,
/// not the file's manifest.
pub async fn xet_hash_of(state: &AppState, oid: &Oid) -> ApiResult<Option<String>> {
    let hash = state
        .blobs
        .xet_hash_by_sha256(oid)
        .await
        .map_err(ApiError::internal)?;
    Ok(hash.map(|h| h.hex()))
}

/// The `Link` that tells the client where to get a read token for `commit` of a repo.
pub fn xet_auth_link(state: &AppState, kind: RepoKind, repo_id: &str, commit: &str) -> String {
    format!(
        "<{}/api/{}/{repo_id}/xet-read-token/{commit}>; rel=\"xet-auth\"",
        state.public_url,
        kind.plural()
    )
}

/// Adds `xetHash` to the LFS entries of a tree or paths-info answer whose content Grove has
/// through Xet; the client then downloads them through the CAS.
pub async fn add_xet_hashes(state: &AppState, items: &mut [Value]) -> ApiResult<()> {
    let lookups: Vec<(usize, Oid)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| Some((i, Oid::parse(item["lfs"]["oid"].as_str()?).ok()?)))
        .collect();
    // A few lookups at once: each is one small read from the store.
    let found: Vec<(usize, Option<String>)> = futures::stream::iter(lookups)
        .map(|(i, oid)| async move { Ok::<_, ApiError>((i, xet_hash_of(state, &oid).await?)) })
        .buffered(8)
        .try_collect()
        .await?;
    for (i, hash) in found {
        if let Some(hash) = hash {
            items[i]["xetHash"] = json!(hash);
        }
    }
    Ok(())
}
