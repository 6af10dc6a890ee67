//! Eval workers and their tokens. A worker token is not a user token: it can claim jobs and
//! publish results, read the files of the jobs it holds, and nothing else. Minted by a site admin
//! (`POST /api/evals/workers` or `grove worker-token create`), shown once, stored as a sha256 hash.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;

use crate::accounts::audit;
use crate::accounts::tokens::hash_secret;
use crate::db::schema::eval_workers;
use crate::db::{DbConn, is_unique_violation};
use crate::error::{ApiError, ApiResult};
use crate::time::{now, wire};
use crate::with_conn;

/// Distinct from user tokens (`grove_…`), so neither is ever mistaken for the other.
pub const WORKER_TOKEN_PREFIX: &str = "grovew_";
const LAST_SEEN_GRANULARITY_SECS: i64 = 10;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = eval_workers)]
pub struct Worker {
    pub id: i64,
    pub name: String,
    pub token_hash: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerInfo {
    pub name: String,
    pub created_at: String,
    pub last_seen_at: Option<String>,
    pub revoked: bool,
}

impl Worker {
    pub fn info(&self) -> WorkerInfo {
        WorkerInfo {
            name: self.name.clone(),
            created_at: wire(self.created_at),
            last_seen_at: self.last_seen_at.map(wire),
            revoked: self.revoked_at.is_some(),
        }
    }
}

pub fn validate_name(name: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "a worker name is 1 to 64 characters: letters, digits, '-', '_' or '.'".into(),
        ))
    }
}

/// Registers a worker; returns it with its token (never stored).
pub fn create(
    conn: &mut DbConn,
    name: &str,
    created_by: Option<i64>,
) -> ApiResult<(Worker, String)> {
    validate_name(name)?;
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let secret = format!("{WORKER_TOKEN_PREFIX}{random}");
    let row = (
        eval_workers::name.eq(name),
        eval_workers::token_hash.eq(hash_secret(&secret)),
        eval_workers::created_by.eq(created_by),
        eval_workers::created_at.eq(now()),
    );
    let worker = conn.transaction(|conn| {
        let inserted = with_conn!(conn, |c| diesel::insert_into(eval_workers::table)
            .values(row)
            .returning(Worker::as_returning())
            .get_result(c));
        let worker = match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(ApiError::Conflict(format!(
                    "a worker named {name:?} already exists"
                )));
            }
            other => other?,
        };
        audit::record(
            conn,
            created_by,
            "eval_worker.create",
            &format!("worker:{name}"),
            "",
        )?;
        Ok(worker)
    })?;
    Ok((worker, secret))
}

/// The live worker holding this token, if any.
pub fn authenticate(conn: &mut DbConn, secret: &str) -> ApiResult<Option<Worker>> {
    if !secret.starts_with(WORKER_TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = hash_secret(secret);
    let worker: Option<Worker> = with_conn!(conn, |c| eval_workers::table
        .filter(eval_workers::token_hash.eq(&hash))
        .filter(eval_workers::revoked_at.is_null())
        .select(Worker::as_select())
        .first(c)
        .optional())?;
    if let Some(w) = &worker {
        let t = now();
        if w.last_seen_at
            .is_none_or(|s| t - s > Duration::seconds(LAST_SEEN_GRANULARITY_SECS))
        {
            with_conn!(conn, |c| diesel::update(eval_workers::table.find(w.id))
                .set(eval_workers::last_seen_at.eq(t))
                .execute(c))?;
        }
    }
    Ok(worker)
}

pub fn list(conn: &mut DbConn) -> ApiResult<Vec<Worker>> {
    Ok(with_conn!(conn, |c| eval_workers::table
        .order(eval_workers::name.asc())
        .select(Worker::as_select())
        .load(c))?)
}

/// Revokes a worker's token; the jobs it holds expire with their leases.
pub fn revoke(conn: &mut DbConn, name: &str, by: i64) -> ApiResult<()> {
    let n = with_conn!(conn, |c| diesel::update(
        eval_workers::table
            .filter(eval_workers::name.eq(name))
            .filter(eval_workers::revoked_at.is_null())
    )
    .set(eval_workers::revoked_at.eq(now()))
    .execute(c))?;
    if n == 0 {
        return Err(ApiError::NotFound(format!(
            "no active worker named {name:?}"
        )));
    }
    audit::record(
        conn,
        Some(by),
        "eval_worker.revoke",
        &format!("worker:{name}"),
        "",
    )
}

/// Worker names by id, for views.
pub fn names(conn: &mut DbConn, ids: &[i64]) -> ApiResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = with_conn!(conn, |c| eval_workers::table
        .filter(eval_workers::id.eq_any(ids))
        .select((eval_workers::id, eval_workers::name))
        .load(c))?;
    Ok(rows.into_iter().collect())
}
