//! API tokens: opaque `grove_…` strings with 238 random bits, shown once and stored only as a
//! sha256 hash, with a scope, an optional expiry, a name and a last-used time.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Access, audit};
use crate::db::DbConn;
use crate::db::schema::api_tokens;
use crate::error::{ApiError, ApiResult};
use crate::time::{now, wire};
use crate::with_conn;

/// Lets secret scanners recognise a leaked Grove token.
pub const TOKEN_PREFIX: &str = "grove_";
const RANDOM_CHARS: usize = 40;
pub const MAX_TOKEN_NAME: usize = 100;
pub const MAX_EXPIRY_DAYS: i64 = 3650;
/// `last_used_at` is written at most this often per token, to keep reads from becoming writes.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub scope: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// What the owner sees of a token in listings: never the secret or its hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scope: Access,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl ApiToken {
    pub fn scope(&self) -> ApiResult<Access> {
        self.scope.parse()
    }

    pub fn info(&self) -> ApiResult<TokenInfo> {
        Ok(TokenInfo {
            id: self.id.to_string(),
            name: self.name.clone(),
            scope: self.scope()?,
            created_at: wire(self.created_at),
            expires_at: self.expires_at.map(wire),
            last_used_at: self.last_used_at.map(wire),
        })
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn generate_secret() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("{TOKEN_PREFIX}{random}")
}

pub fn validate_name(name: &str) -> ApiResult<()> {
    let len = name.chars().count();
    if len == 0 || len > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "token name must be 1 to {MAX_TOKEN_NAME} printable characters"
        )));
    }
    Ok(())
}

pub fn validate_expiry_days(days: i64) -> ApiResult<()> {
    if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "expiresInDays must be between 1 and {MAX_EXPIRY_DAYS}"
        )));
    }
    Ok(())
}

/// Mints a token for `user_id`; returns the row and the secret, which is never stored.
pub fn create_token(
    conn: &mut DbConn,
    user_id: i64,
    name: &str,
    scope: Access,
    expires_in_days: Option<i64>,
) -> ApiResult<(ApiToken, String)> {
    validate_name(name)?;
    if let Some(days) = expires_in_days {
        validate_expiry_days(days)?;
    }
    let secret = generate_secret();
    let created = now();
    let row = (
        api_tokens::user_id.eq(user_id),
        api_tokens::name.eq(name),
        api_tokens::token_hash.eq(hash_secret(&secret)),
        api_tokens::scope.eq(scope.as_str()),
        api_tokens::created_at.eq(created),
        api_tokens::expires_at.eq(expires_in_days.map(|d| created + Duration::days(d))),
    );
    let token = conn.transaction(|conn| {
        let token = with_conn!(conn, |c| diesel::insert_into(api_tokens::table)
            .values(row)
            .returning(ApiToken::as_returning())
            .get_result(c))?;
        audit::record(
            conn,
            Some(user_id),
            "token.create",
            &format!("token:{}", token.id),
            scope.as_str(),
        )?;
        Ok(token)
    })?;
    Ok((token, secret))
}

/// The caller's tokens that have not been revoked, newest first.
pub fn list_tokens(conn: &mut DbConn, user_id: i64) -> ApiResult<Vec<ApiToken>> {
    Ok(with_conn!(conn, |c| api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(c))?)
}

/// Revokes one of the caller's tokens. Someone else's token answers like a missing one.
pub fn revoke_token(conn: &mut DbConn, user_id: i64, token_id: i64) -> ApiResult<()> {
    conn.transaction(|conn| {
        let changed = with_conn!(conn, |c| diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(token_id))
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked_at.is_null())
        )
        .set(api_tokens::revoked_at.eq(now()))
        .execute(c))?;
        if changed == 0 {
            return Err(ApiError::NotFound(format!("no token with id {token_id}")));
        }
        audit::record(
            conn,
            Some(user_id),
            "token.revoke",
            &format!("token:{token_id}"),
            "",
        )
    })
}

/// Finds the live token for a presented secret and notes its use.
/// `None` for unknown, revoked and expired tokens alike.
pub fn authenticate_token(conn: &mut DbConn, secret: &str) -> ApiResult<Option<ApiToken>> {
    let hash = hash_secret(secret);
    let token: Option<ApiToken> = with_conn!(conn, |c| api_tokens::table
        .filter(api_tokens::token_hash.eq(&hash))
        .select(ApiToken::as_select())
        .first(c)
        .optional())?;
    let at = now();
    let Some(token) =
        token.filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|exp| exp > at))
    else {
        return Ok(None);
    };
    let stale = token
        .last_used_at
        .is_none_or(|used| (at - used).num_seconds() >= LAST_USED_GRANULARITY_SECS);
    if stale {
        with_conn!(conn, |c| diesel::update(api_tokens::table.find(token.id))
            .set(api_tokens::last_used_at.eq(at))
            .execute(c))?;
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_long_and_distinct() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + RANDOM_CHARS);
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a).len(), 64);
    }
}
