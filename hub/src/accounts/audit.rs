//! The audit log: who created or revoked a credential, changed a role or made an account.
//! Written in the same transaction as the change it records.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::audit_log;
use crate::error::ApiResult;
use crate::with_conn;

pub fn record(
    conn: &mut DbConn,
    actor_id: Option<i64>,
    action: &str,
    target: &str,
    detail: &str,
) -> ApiResult<()> {
    let row = (
        audit_log::at.eq(crate::time::now()),
        audit_log::actor_id.eq(actor_id),
        audit_log::action.eq(action),
        audit_log::target.eq(target),
        audit_log::detail.eq(detail),
    );
    with_conn!(conn, |c| diesel::insert_into(audit_log::table)
        .values(row)
        .execute(c))?;
    Ok(())
}
