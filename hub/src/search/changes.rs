//! The search change log: one row per change to a repo that its search document reflects
//! (commit to the default branch, visibility, deletion, lineage tags, scan results, counters).
//! Written in the transaction that makes the change, so the index can never miss one.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::search_changes;
use crate::error::ApiResult;
use crate::with_conn;

pub fn record(conn: &mut DbConn, repo_id: i64) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::insert_into(search_changes::table)
        .values((
            search_changes::repo_id.eq(repo_id),
            search_changes::created_at.eq(crate::time::now()),
        ))
        .execute(c))?;
    Ok(())
}

/// The newest position of the log (0 when empty).
pub fn head(conn: &mut DbConn) -> ApiResult<i64> {
    let max: Option<i64> = with_conn!(conn, |c| search_changes::table
        .select(diesel::dsl::max(search_changes::seq))
        .first(c))?;
    Ok(max.unwrap_or(0))
}

/// Up to `limit` changes after `after`: (seq, repo id, created at), oldest first.
pub fn since(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
) -> ApiResult<Vec<(i64, i64, chrono::NaiveDateTime)>> {
    Ok(with_conn!(conn, |c| search_changes::table
        .filter(search_changes::seq.gt(after))
        .order(search_changes::seq.asc())
        .limit(limit)
        .select((
            search_changes::seq,
            search_changes::repo_id,
            search_changes::created_at,
        ))
        .load(c))?)
}

/// The oldest position still in the log (`None` when empty).
pub fn oldest(conn: &mut DbConn) -> ApiResult<Option<i64>> {
    Ok(with_conn!(conn, |c| search_changes::table
        .select(diesel::dsl::min(search_changes::seq))
        .first(c))?)
}

/// Forgets changes older than `keep`; an index that falls further behind than that (a process
/// stopped for longer) is rebuilt at its next start instead of replaying the log.
/// The newest entry always stays, so the log's head position survives pruning.
pub fn prune(conn: &mut DbConn, keep: chrono::Duration) -> ApiResult<usize> {
    let cutoff = crate::time::now() - keep;
    let newest = head(conn)?;
    Ok(with_conn!(conn, |c| diesel::delete(
        search_changes::table
            .filter(search_changes::created_at.lt(cutoff))
            .filter(search_changes::seq.lt(newest))
    )
    .execute(c))?)
}
