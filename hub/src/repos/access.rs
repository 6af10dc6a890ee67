//! The one authorization decision for repos.
//!
//! Public repos are readable by anyone. Otherwise the caller's right is their role (owner: admin;
//! org member: their role; site admin: admin) intersected with the credential's scope. A repo the
//! caller may not read answers exactly like a missing one: the same status, `X-Error-Code` and
//! body shape (401 for anonymous callers, 404 for authenticated ones, as the Hub does).

use super::model::OwnedRepo;
use crate::accounts::{Access, Principal, orgs};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoAction {
    /// See the repo, its files and history.
    Read,
    /// Commit, create branches and tags.
    Write,
    /// Delete the repo or change its settings: an admin role, used with a write token.
    Manage,
}

/// The error for a repo that does not exist or that the caller may not see.
pub fn repo_not_found(caller: Option<&Principal>, id: &str) -> ApiError {
    let message = format!("Repository not found: {id}");
    match caller {
        None => ApiError::RepoNotFoundAnonymous(message),
        Some(_) => ApiError::RepoNotFound(message),
    }
}

/// The caller's role on the repo, ignoring the credential's scope.
fn role(conn: &mut DbConn, caller: &Principal, repo: &OwnedRepo) -> ApiResult<Option<Access>> {
    if caller.user.is_admin || caller.user.id == repo.owner.id {
        return Ok(Some(Access::Admin));
    }
    if repo.owner.is_org() {
        return orgs::role_of(conn, repo.owner.id, caller.user.id);
    }
    Ok(None)
}

/// Allows `action` or answers with the right error.
pub fn authorize(
    conn: &mut DbConn,
    caller: Option<&Principal>,
    repo: &OwnedRepo,
    action: RepoAction,
) -> ApiResult<()> {
    let role = match caller {
        Some(p) => role(conn, p, repo)?,
        None => None,
    };
    let scope = caller.map(Principal::scope);
    let effective = match (role, scope) {
        (Some(role), Some(scope)) => Some(role.min(scope)),
        _ => None,
    };
    let can_read = !repo.repo.private || effective.is_some();
    if !can_read {
        return Err(repo_not_found(caller, &repo.id()));
    }
    let allowed = match action {
        RepoAction::Read => true,
        RepoAction::Write => effective >= Some(Access::Write),
        RepoAction::Manage => role == Some(Access::Admin) && scope >= Some(Access::Write),
    };
    if allowed {
        return Ok(());
    }
    match caller {
        None => Err(ApiError::Unauthorized(
            "authentication required: send Authorization: Bearer <token>".into(),
        )),
        Some(p) if role.is_some() && p.scope() < Access::Write => Err(ApiError::Forbidden(
            format!("this token has {} scope; write is needed", p.scope()),
        )),
        Some(_) => Err(ApiError::Forbidden(format!(
            "you do not have {} access to {}",
            match action {
                RepoAction::Manage => "admin",
                _ => "write",
            },
            repo.id()
        ))),
    }
}

/// Who may see which private repos, loaded once per request for answers that span many repos
/// (lineage graphs, listings): public repos are seen by all; private ones by their owner, the
/// owner org's members and site admins.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub all: bool,
    pub owners: Vec<i64>,
}

impl Viewer {
    pub fn load(conn: &mut DbConn, caller: Option<&Principal>) -> ApiResult<Viewer> {
        use crate::db::schema::memberships;
        use diesel::prelude::*;
        let Some(p) = caller else {
            return Ok(Viewer::default());
        };
        let mut owners = vec![p.user.id];
        let orgs: Vec<i64> = crate::with_conn!(conn, |c| memberships::table
            .filter(memberships::user_id.eq(p.user.id))
            .select(memberships::org_id)
            .load(c))?;
        owners.extend(orgs);
        Ok(Viewer {
            all: p.user.is_admin,
            owners,
        })
    }

    /// What `account` itself may see (a user: their repos and their orgs'; an org: its own).
    pub fn for_account(conn: &mut DbConn, account: &crate::accounts::Account) -> ApiResult<Viewer> {
        use crate::db::schema::memberships;
        use diesel::prelude::*;
        let mut owners = vec![account.id];
        if !account.is_org() {
            let orgs: Vec<i64> = crate::with_conn!(conn, |c| memberships::table
                .filter(memberships::user_id.eq(account.id))
                .select(memberships::org_id)
                .load(c))?;
            owners.extend(orgs);
        }
        Ok(Viewer {
            all: account.is_admin,
            owners,
        })
    }

    pub fn can_see(&self, owner_id: i64, private: bool) -> bool {
        !private || self.all || self.owners.contains(&owner_id)
    }
}
