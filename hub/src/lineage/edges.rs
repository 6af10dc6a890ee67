//! Writing lineage edges: the fork edge, the declared edges of a scanned commit, and the
//! derived `base_model:` tags. Every change keeps the closure and counts in step (same
//! transaction).

use diesel::prelude::*;

use super::closure;
use crate::db::DbConn;
use crate::db::schema::{accounts, lineage_edges, repos};
use crate::error::ApiResult;
use crate::with_conn;

/// An edge about to be written.
#[derive(Debug, Clone)]
pub struct NewEdge {
    pub parent_repo_id: i64,
    pub parent_name: String,
    pub parent_commit: Option<String>,
    pub relation: String,
    pub source: String,
    pub relation_stated: bool,
    pub position: i32,
    pub merge_weight: Option<f64>,
    pub merge_base: bool,
    pub recipe: Option<String>,
    pub verification: String,
    pub evidence: String,
}

fn insert(conn: &mut DbConn, child: i64, child_commit: &str, e: &NewEdge) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::insert_into(lineage_edges::table)
        .values((
            lineage_edges::child_repo_id.eq(child),
            lineage_edges::child_commit.eq(child_commit),
            lineage_edges::parent_repo_id.eq(Some(e.parent_repo_id)),
            lineage_edges::parent_name.eq(&e.parent_name),
            lineage_edges::parent_commit.eq(&e.parent_commit),
            lineage_edges::relation.eq(&e.relation),
            lineage_edges::source.eq(&e.source),
            lineage_edges::relation_stated.eq(e.relation_stated),
            lineage_edges::position.eq(e.position),
            lineage_edges::merge_weight.eq(e.merge_weight),
            lineage_edges::merge_base.eq(e.merge_base),
            lineage_edges::recipe.eq(&e.recipe),
            lineage_edges::verification.eq(&e.verification),
            lineage_edges::evidence.eq(&e.evidence),
            lineage_edges::is_current.eq(true),
            lineage_edges::created_at.eq(crate::time::now()),
        ))
        .execute(c))?;
    Ok(())
}

/// The fork edge of a new fork (inside the transaction that creates the fork).
pub fn add_fork_edge(conn: &mut DbConn, child: i64, commit: &str, e: &NewEdge) -> ApiResult<()> {
    closure::lock(conn)?;
    insert(conn, child, commit, e)?;
    closure::refresh(conn, child)?;
    refresh_tags(conn, child)
}

/// The fork edge of `child`, if it is a fork: (parent commit).
pub fn fork_point(conn: &mut DbConn, child: i64) -> ApiResult<Option<String>> {
    let row: Option<Option<String>> = with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::child_repo_id.eq(child))
        .filter(lineage_edges::is_current.eq(true))
        .filter(lineage_edges::source.eq("fork_api"))
        .select(lineage_edges::parent_commit)
        .first(c)
        .optional())?;
    Ok(row.flatten())
}

/// Replaces the declared (non-fork) current edges of `child` with `edges`, learned from
/// `child_commit`, then brings the closure, counts and tags up to date.
pub fn replace_declared(
    conn: &mut DbConn,
    child: i64,
    child_commit: &str,
    edges: &[NewEdge],
) -> ApiResult<()> {
    closure::lock(conn)?;
    let before = current_parent_set(conn, child)?;
    with_conn!(conn, |c| diesel::update(
        lineage_edges::table
            .filter(lineage_edges::child_repo_id.eq(child))
            .filter(lineage_edges::is_current.eq(true))
            .filter(lineage_edges::source.ne("fork_api"))
    )
    .set(lineage_edges::is_current.eq(false))
    .execute(c))?;
    for e in edges {
        insert(conn, child, child_commit, e)?;
    }
    if current_parent_set(conn, child)? != before {
        closure::refresh(conn, child)?;
        refresh_tags(conn, child)?;
    }
    Ok(())
}

/// (parent, relation, position) of the current edges: when a new commit declares the same, the
/// closure, counts and tags need no work.
fn current_parent_set(conn: &mut DbConn, child: i64) -> ApiResult<Vec<(Option<i64>, String, i32)>> {
    let mut rows: Vec<(Option<i64>, String, i32)> = with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::child_repo_id.eq(child))
        .filter(lineage_edges::is_current.eq(true))
        .select((
            lineage_edges::parent_repo_id,
            lineage_edges::relation,
            lineage_edges::position,
        ))
        .load(c))?;
    rows.sort();
    Ok(rows)
}

/// Rewrites `repos.lineage_tags` of `child` from its current edges to public parents:
/// `base_model:<id>` and `base_model:<relation>:<id>`, as the Hub tags children.
pub fn refresh_tags(conn: &mut DbConn, child: i64) -> ApiResult<()> {
    let rows: Vec<(String, String, String)> = with_conn!(conn, |c| lineage_edges::table
        .inner_join(repos::table.on(repos::id.nullable().eq(lineage_edges::parent_repo_id)))
        .inner_join(accounts::table.on(accounts::id.eq(repos::owner_id)))
        .filter(lineage_edges::child_repo_id.eq(child))
        .filter(lineage_edges::is_current.eq(true))
        .filter(repos::private.eq(false))
        .order((lineage_edges::position.asc(), lineage_edges::id.asc()))
        .select((accounts::name, repos::name, lineage_edges::relation))
        .load(c))?;
    let mut tags: Vec<String> = Vec::new();
    for (owner, name, relation) in rows {
        for tag in [
            format!("base_model:{owner}/{name}"),
            format!("base_model:{relation}:{owner}/{name}"),
        ] {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    let value = (!tags.is_empty()).then(|| serde_json::to_string(&tags).unwrap_or_default());
    with_conn!(conn, |c| diesel::update(repos::table.find(child))
        .set(repos::lineage_tags.eq(value))
        .execute(c))?;
    crate::search::changes::record(conn, child)
}

/// Repos whose current edges name `parent`.
pub fn children_of(conn: &mut DbConn, parent: i64) -> ApiResult<Vec<i64>> {
    Ok(with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::parent_repo_id.eq(parent))
        .filter(lineage_edges::is_current.eq(true))
        .select(lineage_edges::child_repo_id)
        .distinct()
        .load(c))?)
}

/// Called inside the transaction that changes a repo's visibility.
pub fn on_visibility_change(conn: &mut DbConn, repo: i64, private: bool) -> ApiResult<()> {
    closure::lock(conn)?;
    closure::set_private(conn, repo, private)?;
    for child in children_of(conn, repo)? {
        refresh_tags(conn, child)?;
    }
    Ok(())
}

/// Called inside the transaction that deletes a repo, before its row goes.
pub fn on_delete(conn: &mut DbConn, repo: i64) -> ApiResult<()> {
    closure::lock(conn)?;
    let children = children_of(conn, repo)?;
    closure::detach(conn, repo)?;
    for child in children {
        refresh_tags(conn, child)?;
    }
    Ok(())
}
