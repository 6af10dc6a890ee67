//! Who is calling, with which credential, and the one function that decides what they may do on
//! an organisation. Repos will add their own `on_repo` decision next to it.

use super::{Access, Account, orgs};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub enum Credential {
    /// An API token; it acts with its scope.
    Token {
        id: i64,
        name: String,
        scope: Access,
    },
    /// A web session; it acts with the user's full rights.
    Session { jti: String },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user: Account,
    pub credential: Credential,
}

impl Principal {
    /// The most this credential may do anywhere.
    pub fn scope(&self) -> Access {
        match &self.credential {
            Credential::Token { scope, .. } => *scope,
            Credential::Session { .. } => Access::Admin,
        }
    }

    /// 403 unless the credential's scope reaches `needed`.
    pub fn require_scope(&self, needed: Access) -> ApiResult<()> {
        if self.scope() >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this token has {} scope; {} is needed",
                self.scope(),
                needed
            )))
        }
    }

    /// The effective right on an organisation: the credential's scope intersected with the user's
    /// *current* role there (site admins count as org admins). Looked up per request, so removing
    /// a member cuts their access at once.
    pub fn access_to_org(&self, conn: &mut DbConn, org: &Account) -> ApiResult<Option<Access>> {
        let role = if self.user.is_admin {
            Some(Access::Admin)
        } else {
            orgs::role_of(conn, org.id, self.user.id)?
        };
        Ok(role.map(|r| r.min(self.scope())))
    }

    /// 403 unless the effective right on `org` reaches `needed`.
    pub fn require_org(&self, conn: &mut DbConn, org: &Account, needed: Access) -> ApiResult<()> {
        self.require_scope(needed)?;
        match self.access_to_org(conn, org)? {
            Some(access) if access >= needed => Ok(()),
            _ => Err(ApiError::Forbidden(format!(
                "{needed} access to the organization {} is needed",
                org.name
            ))),
        }
    }
}
