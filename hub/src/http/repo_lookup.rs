//! Loading a repo named in a request path and checking the caller may act on it, in one place.

use super::AppState;
use super::auth::Caller;
use crate::error::ApiResult;
use crate::repos::access::{authorize, repo_not_found};
use crate::repos::model::{OwnedRepo, find_repo};
use crate::repos::{RepoAction, RepoKind};

/// The repo `owner/name` of `kind`, if the caller may perform `action` on it; otherwise the
/// error that action deserves (a repo the caller cannot see answers like a missing one).
pub async fn load_repo(
    state: &AppState,
    caller: &Caller,
    kind: RepoKind,
    owner: String,
    name: String,
    action: RepoAction,
) -> ApiResult<OwnedRepo> {
    let principal = caller.0.clone();
    state
        .db
        .run(move |conn| {
            let Some(repo) = find_repo(conn, kind, &owner, &name)? else {
                return Err(repo_not_found(
                    principal.as_ref(),
                    &format!("{owner}/{name}"),
                ));
            };
            authorize(conn, principal.as_ref(), &repo, action)?;
            Ok(repo)
        })
        .await
}

/// The repo kind named by an API path segment (`models`, `datasets`); anything else is a route
/// that does not exist.
pub fn kind_from_plural(raw: &str) -> ApiResult<RepoKind> {
    RepoKind::from_plural(raw)
        .ok_or_else(|| crate::error::ApiError::NotFound(format!("unknown repo type {raw:?}")))
}
