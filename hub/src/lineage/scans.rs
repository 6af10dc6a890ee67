//! The queue of commits to scan, in the database so a crash loses none and several serve
//! processes share the work: a scan is claimed by moving it to `running`; a claim older than
//! `STALE_CLAIM` is taken over (its process died), and after `MAX_ATTEMPTS` it is closed
//! with a warning instead of being retried forever.

use chrono::Duration;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::commit_scans;
use crate::error::ApiResult;
use crate::with_conn;

pub const MAX_ATTEMPTS: i32 = 3;
const STALE_CLAIM_MINUTES: i64 = 15;

/// Queues the scan of `commit` (no-op when it is queued or done already).
pub fn enqueue(conn: &mut DbConn, repo_id: i64, commit: &str) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::insert_into(commit_scans::table)
        .values((
            commit_scans::repo_id.eq(repo_id),
            commit_scans::commit_id.eq(commit),
            commit_scans::state.eq("pending"),
            commit_scans::created_at.eq(crate::time::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// A claimed scan.
#[derive(Debug, Clone)]
pub struct Claim {
    pub repo_id: i64,
    pub commit: String,
    pub attempts: i32,
}

/// Claims the oldest pending scan (or one whose claim went stale).
pub fn claim_next(conn: &mut DbConn) -> ApiResult<Option<Claim>> {
    conn.transaction(|conn| {
        let stale = crate::time::now() - Duration::minutes(STALE_CLAIM_MINUTES);
        let row: Option<(i64, String, i32)> = with_conn!(conn, |c| commit_scans::table
            .filter(
                commit_scans::state.eq("pending").or(commit_scans::state
                    .eq("running")
                    .and(commit_scans::claimed_at.lt(stale))),
            )
            .order(commit_scans::created_at.asc())
            .select((
                commit_scans::repo_id,
                commit_scans::commit_id,
                commit_scans::attempts,
            ))
            .first(c)
            .optional())?;
        let Some((repo_id, commit, attempts)) = row else {
            return Ok(None);
        };
        // `attempts` is the compare-and-swap token: on PostgreSQL another process may claim
        // the same row between the select and this update; only one update matches.
        let claimed = with_conn!(conn, |c| diesel::update(
            commit_scans::table
                .find((repo_id, &commit))
                .filter(commit_scans::attempts.eq(attempts))
        )
        .set((
            commit_scans::state.eq("running"),
            commit_scans::claimed_at.eq(crate::time::now()),
            commit_scans::attempts.eq(attempts + 1),
        ))
        .execute(c))?;
        if claimed == 0 {
            return Ok(None);
        }
        Ok(Some(Claim {
            repo_id,
            commit,
            attempts: attempts + 1,
        }))
    })
}

/// Closes a scan with its summary and warnings.
pub fn finish(
    conn: &mut DbConn,
    repo_id: i64,
    commit: &str,
    summary: &serde_json::Value,
    warnings: &[String],
) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::update(
        commit_scans::table.find((repo_id, commit))
    )
    .set((
        commit_scans::state.eq("done"),
        commit_scans::summary.eq(summary.to_string()),
        commit_scans::warnings.eq(serde_json::to_string(warnings).unwrap_or_default()),
        commit_scans::finished_at.eq(crate::time::now()),
    ))
    .execute(c))?;
    // The parameter count of the head may have changed.
    crate::search::changes::record(conn, repo_id)
}

/// Puts a failed scan back in the queue (or closes it after the last attempt).
pub fn release(conn: &mut DbConn, claim: &Claim, error: &str) -> ApiResult<()> {
    if claim.attempts >= MAX_ATTEMPTS {
        let warnings = vec![format!(
            "lineage scan failed after {} attempts: {error}",
            claim.attempts
        )];
        return finish(
            conn,
            claim.repo_id,
            &claim.commit,
            &serde_json::json!({}),
            &warnings,
        );
    }
    with_conn!(conn, |c| diesel::update(
        commit_scans::table.find((claim.repo_id, &claim.commit))
    )
    .set(commit_scans::state.eq("pending"))
    .execute(c))?;
    Ok(())
}

/// The state, summary and warnings of a commit's scan.
pub fn status(
    conn: &mut DbConn,
    repo_id: i64,
    commit: &str,
) -> ApiResult<Option<(String, Option<String>, String)>> {
    Ok(with_conn!(conn, |c| commit_scans::table
        .find((repo_id, commit))
        .select((
            commit_scans::state,
            commit_scans::summary,
            commit_scans::warnings,
        ))
        .first(c)
        .optional())?)
}
