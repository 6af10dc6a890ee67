//! Creating, deleting and configuring repos (`/api/repos/create`, `/api/repos/delete`,
//! `/api/{type}s/{repo}/settings`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::{Access, users};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::repo_lookup::{kind_from_plural, load_repo};
use crate::names::{AccountName, RepoName};
use crate::repos::{RepoAction, RepoKind, service};

/// The stock client's body; it also sends fields this hub does not use (`sdk`, `region`…),
/// which are accepted and ignored.
#[derive(Deserialize, ToSchema)]
pub struct CreateRepoRequest {
    name: String,
    organization: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    /// `public` or `private` (`protected` is treated as private).
    visibility: Option<String>,
    /// Older clients send this instead of `visibility`.
    private: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct RepoUrl {
    url: String,
    name: String,
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct RepoConflict {
    error: String,
    url: String,
}

/// The account `namespace` names, if the caller may create repos in it: their own, or an
/// organisation where they have write access.
pub(crate) fn namespace_owner(
    conn: &mut crate::db::DbConn,
    principal: &crate::accounts::Principal,
    namespace: &str,
) -> ApiResult<crate::accounts::Account> {
    let owner = users::find_account(conn, namespace)?.ok_or_else(|| {
        ApiError::NotFound(format!("no user or organization named {namespace:?}"))
    })?;
    if owner.id != principal.user.id {
        if !owner.is_org() {
            return Err(ApiError::Forbidden(format!(
                "you cannot create repos in {}'s namespace",
                owner.name
            )));
        }
        principal.require_org(conn, &owner, Access::Write)?;
    }
    Ok(owner)
}

fn is_private(visibility: Option<&str>, private: Option<bool>) -> ApiResult<bool> {
    match visibility {
        Some("public") => Ok(false),
        Some("private" | "protected") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!(
            "unknown visibility {other:?}: expected public or private"
        ))),
        None => Ok(private.unwrap_or(false)),
    }
}

/// Splits `owner/name` or takes `organization` as the namespace; the caller's own namespace by
/// default.
fn namespace_and_name(
    body_name: &str,
    organization: Option<&str>,
    caller_name: &str,
) -> ApiResult<(String, String)> {
    match body_name.split_once('/') {
        Some((ns, name)) => Ok((ns.to_string(), name.to_string())),
        None => Ok((
            organization.unwrap_or(caller_name).to_string(),
            body_name.to_string(),
        )),
    }
}

/// Creates a model or dataset repo with an initial commit holding `.gitattributes`.
#[utoipa::path(post, path = "/api/repos/create", tag = "repos", request_body = CreateRepoRequest,
    responses((status = 200, body = RepoUrl), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = RepoConflict)))]
pub async fn create_repo(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateRepoRequest>,
) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Write)?.clone();
    let body = body.into_inner();
    let kind = RepoKind::parse(body.kind.as_deref().unwrap_or("model"))?;
    let private = is_private(body.visibility.as_deref(), body.private)?;
    let (namespace, name) = namespace_and_name(
        &body.name,
        body.organization.as_deref(),
        &principal.user.name,
    )?;
    AccountName::parse(&namespace)
        .map_err(|_| ApiError::BadRequest(format!("invalid namespace {namespace:?}")))?;
    let name = RepoName::parse(&name)?;
    let git = state.git.clone();
    let url_of = |id: &str| state.repo_url(kind, id);
    let conflict_url = url_of(&format!("{namespace}/{name}"));
    let created = state
        .db
        .run(move |conn| {
            let owner = namespace_owner(conn, &principal, &namespace)?;
            service::create_repo(conn, &git, &owner, kind, &name, private, &principal.user)
        })
        .await;
    match created {
        Ok(repo) => {
            let id = repo.id();
            Ok(HttpResponse::Ok().json(RepoUrl {
                url: url_of(&id),
                name: id.clone(),
                id,
            }))
        }
        // The stock client's `exist_ok=True` reads `url` from the 409 body.
        Err(ApiError::Conflict(message)) => Ok(HttpResponse::Conflict().json(RepoConflict {
            error: message,
            url: conflict_url,
        })),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteRepoRequest {
    name: String,
    organization: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Deletes a repo: its files, history and settings. Needs admin rights on it.
#[utoipa::path(delete, path = "/api/repos/delete", tag = "repos", request_body = DeleteRepoRequest,
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn delete_repo(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<DeleteRepoRequest>,
) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Write)?.clone();
    let body = body.into_inner();
    let kind = RepoKind::parse(body.kind.as_deref().unwrap_or("model"))?;
    let (namespace, name) = namespace_and_name(
        &body.name,
        body.organization.as_deref(),
        &principal.user.name,
    )?;
    let repo = load_repo(&state, &caller, kind, namespace, name, RepoAction::Manage).await?;
    let git = state.git.clone();
    state
        .db
        .run(move |conn| service::delete_repo(conn, &git, &repo, &principal.user))
        .await?;
    Ok(HttpResponse::Ok().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct RepoSettingsRequest {
    private: Option<bool>,
    visibility: Option<String>,
}

/// Changes a repo's visibility.
#[utoipa::path(put, path = "/api/{kind}/{owner}/{name}/settings", tag = "repos",
    request_body = RepoSettingsRequest,
    params(("kind" = String, Path, description = "models or datasets"),
           ("owner" = String, Path), ("name" = String, Path)),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_repo_settings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    body: web::Json<RepoSettingsRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Manage).await?;
    let body = body.into_inner();
    if body.private.is_none() && body.visibility.is_none() {
        return Ok(HttpResponse::Ok().json(serde_json::json!({})));
    }
    let private = is_private(body.visibility.as_deref(), body.private)?;
    let actor = caller.require(Access::Write)?.user.clone();
    state
        .db
        .run(move |conn| service::set_visibility(conn, &repo, private, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "private": private })))
}

#[derive(Deserialize, ToSchema)]
pub struct DuplicateRequest {
    /// `namespace/name` of the new repo.
    repository: String,
    /// `public` or `private`; the source's visibility when absent.
    visibility: Option<String>,
    private: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuplicatedRepo {
    url: String,
    /// Always false: weights are shared by content, nothing is left to copy.
    files_copy_pending: bool,
}

/// Forks a repo (`duplicate_repo`): the whole history is copied, weights are shared by content
/// (zero bytes copied), and a `fork` lineage edge pins the source's head. A source the caller
/// cannot read answers like a missing repo.
#[utoipa::path(post, path = "/api/{kind}/{owner}/{name}/duplicate", tag = "repos",
    params(("kind" = String, Path, description = "models or datasets"),
           ("owner" = String, Path), ("name" = String, Path)),
    request_body = DuplicateRequest,
    responses((status = 200, body = DuplicatedRepo), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = RepoConflict)))]
pub async fn duplicate_repo(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    body: web::Json<DuplicateRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let source = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
    let principal = caller.require(Access::Write)?.clone();
    let body = body.into_inner();
    let private = match (body.visibility.as_deref(), body.private) {
        (None, None) => source.repo.private,
        (v, p) => is_private(v, p)?,
    };
    let Some((namespace, new_name)) = body.repository.split_once('/') else {
        return Err(ApiError::BadRequest(
            "repository must be namespace/name".into(),
        ));
    };
    AccountName::parse(namespace)
        .map_err(|_| ApiError::BadRequest(format!("invalid namespace {namespace:?}")))?;
    let new_name = RepoName::parse(new_name)?;
    let namespace = namespace.to_string();
    let git = state.git.clone();
    let url_of = |id: &str| state.repo_url(kind, id);
    let conflict_url = url_of(&format!("{namespace}/{new_name}"));
    let forked = state
        .db
        .run(move |conn| {
            let owner = namespace_owner(conn, &principal, &namespace)?;
            service::fork_repo(
                conn,
                &git,
                &source,
                &owner,
                &new_name,
                private,
                &principal.user,
            )
        })
        .await;
    match forked {
        Ok(repo) => {
            state.scan_wake.notify_one();
            Ok(HttpResponse::Ok().json(DuplicatedRepo {
                url: url_of(&repo.id()),
                files_copy_pending: false,
            }))
        }
        Err(ApiError::Conflict(message)) => Ok(HttpResponse::Conflict().json(RepoConflict {
            error: message,
            url: conflict_url,
        })),
        Err(e) => Err(e),
    }
}
