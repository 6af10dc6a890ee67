//! Search documents built from the database alone (repo row, owner, stored card, lineage tags,
//! the head's scan summary), so the index can be rebuilt without opening a git repository.

use std::collections::HashMap;

use diesel::prelude::*;
use grove_indexer::search::SearchDoc;
use serde_json::{Map, Value};

use crate::accounts::Account;
use crate::db::DbConn;
use crate::db::schema::{accounts, commit_scans, lineage_edges, repos};
use crate::error::ApiResult;
use crate::repos::model::Repo;
use crate::with_conn;

/// The documents of these repos (missing ids: deleted), with each card body.
pub fn load(conn: &mut DbConn, ids: &[i64]) -> ApiResult<Vec<(SearchDoc, String)>> {
    let rows: Vec<(Repo, Account)> = with_conn!(conn, |c| repos::table
        .inner_join(accounts::table)
        .filter(repos::id.eq_any(ids))
        .select((Repo::as_select(), Account::as_select()))
        .load(c))?;
    build(conn, rows)
}

/// A page of every repo, by id, for rebuilding: ids after `after`.
pub fn page(conn: &mut DbConn, after: i64, limit: i64) -> ApiResult<Vec<(SearchDoc, String)>> {
    let rows: Vec<(Repo, Account)> = with_conn!(conn, |c| repos::table
        .inner_join(accounts::table)
        .filter(repos::id.gt(after))
        .order(repos::id.asc())
        .limit(limit)
        .select((Repo::as_select(), Account::as_select()))
        .load(c))?;
    build(conn, rows)
}

fn build(conn: &mut DbConn, rows: Vec<(Repo, Account)>) -> ApiResult<Vec<(SearchDoc, String)>> {
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let bodies: Vec<(i64, Option<String>)> = with_conn!(conn, |c| repos::table
        .filter(repos::id.eq_any(&ids))
        .select((repos::id, repos::card_body))
        .load(c))?;
    let mut bodies: HashMap<i64, String> = bodies
        .into_iter()
        .filter_map(|(id, b)| b.map(|b| (id, b)))
        .collect();
    // The head scan's summary gives the parameter count.
    let scans: Vec<(i64, String, Option<String>)> = with_conn!(conn, |c| commit_scans::table
        .filter(commit_scans::repo_id.eq_any(&ids))
        .filter(commit_scans::state.eq("done"))
        .select((
            commit_scans::repo_id,
            commit_scans::commit_id,
            commit_scans::summary
        ))
        .load(c))?;
    let mut params: HashMap<i64, u64> = HashMap::new();
    let heads: HashMap<i64, Option<&String>> = rows
        .iter()
        .map(|(r, _)| (r.id, r.head_commit.as_ref()))
        .collect();
    for (repo_id, commit, summary) in scans {
        if heads.get(&repo_id).copied().flatten() != Some(&commit) {
            continue;
        }
        let summary: Value = summary
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        let total = summary["safetensors"]["total"]
            .as_u64()
            .or_else(|| summary["gguf"]["total"].as_u64());
        if let Some(t) = total {
            params.insert(repo_id, t);
        }
    }
    let relations: Vec<(i64, String, i32)> = with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::child_repo_id.eq_any(&ids))
        .filter(lineage_edges::is_current.eq(true))
        .select((
            lineage_edges::child_repo_id,
            lineage_edges::relation,
            lineage_edges::position,
        ))
        .load(c))?;
    let mut relation: HashMap<i64, (i32, String)> = HashMap::new();
    for (id, rel, pos) in relations {
        let e = relation.entry(id).or_insert((pos, rel.clone()));
        if pos < e.0 {
            *e = (pos, rel);
        }
    }
    Ok(rows
        .into_iter()
        .map(|(repo, owner)| {
            let card: Map<String, Value> = repo
                .card_data
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            let tags = repo.tags(&card);
            let base_models = tags
                .iter()
                .filter_map(|t| t.strip_prefix("base_model:"))
                .filter(|rest| rest.matches(':').count() == 0)
                .map(str::to_string)
                .collect();
            let doc = SearchDoc {
                repo_id: repo.id as u64,
                kind: repo.kind.clone(),
                id: format!("{}/{}", owner.name, repo.name),
                owner: owner.name.clone(),
                owner_id: owner.id as u64,
                private: repo.private,
                tags,
                base_models,
                relation: relation.remove(&repo.id).map(|(_, r)| r),
                parameters: params.get(&repo.id).copied(),
                downloads: repo.downloads.max(0) as u64,
                likes: repo.likes.max(0) as u64,
                created: repo.created_at.and_utc().timestamp_millis(),
                updated: repo.updated_at.and_utc().timestamp_millis(),
                ..Default::default()
            }
            .with_card(&card);
            (doc, bodies.remove(&repo.id).unwrap_or_default())
        })
        .collect())
}
