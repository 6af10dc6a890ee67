//! What the hub remembers about LFS objects it stored from inline content: the git blob id the
//! content would have had as a regular file. Preupload answers with that id in `regular` mode, so
//! the stock client recognises an unchanged large file and makes no commit.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::lfs_objects;
use crate::error::ApiResult;
use crate::with_conn;

/// Records `(sha256, size, git blob id)` triples; known ones are left as they are.
pub fn remember(conn: &mut DbConn, objects: &[(String, u64, String)]) -> ApiResult<()> {
    for (oid, size, git_oid) in objects {
        let row = (
            lfs_objects::oid.eq(oid),
            lfs_objects::size.eq(*size as i64),
            lfs_objects::git_oid.eq(git_oid),
            lfs_objects::created_at.eq(crate::time::now()),
        );
        with_conn!(conn, |c| diesel::insert_into(lfs_objects::table)
            .values(row)
            .on_conflict(lfs_objects::oid)
            .do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// The git blob id of the content with this sha256, if known.
pub fn git_oid_of(conn: &mut DbConn, oid: &str) -> ApiResult<Option<String>> {
    Ok(with_conn!(conn, |c| lfs_objects::table
        .find(oid)
        .select(lfs_objects::git_oid)
        .first::<Option<String>>(c)
        .optional())?
    .flatten())
}
