//! Likely undeclared parents: models whose current head shares large tensors byte-for-byte
//! with a commit. Exact reuse of a large tensor is strong evidence of shared origin; tiny
//! tensors (norms initialised to ones, zero biases) are shared by unrelated models and are
//! ignored.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::{accounts, commit_weight_files, repos, tensors};
use crate::error::ApiResult;
use crate::repos::access::Viewer;
use crate::with_conn;

/// Tensors smaller than this are not evidence.
const MIN_TENSOR_BYTES: i64 = 4096;
/// At most this many distinct tensor hashes of the commit are looked up.
const MAX_PROBES: usize = 256;
/// Per probed hash, at most this many other files are considered.
const MAX_FILES_PER_HASH: i64 = 50;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub id: String,
    pub shared_tensors: u64,
    pub shared_bytes: u64,
    /// Shared tensors over the probed tensors of this commit.
    pub fraction: f64,
}

/// Up to `limit` suggestions for `repo_id@commit`, excluding `exclude` (the repo itself, its
/// declared parents and its descendants).
pub fn suggest(
    conn: &mut DbConn,
    viewer: &Viewer,
    repo_id: i64,
    commit: &str,
    exclude: &HashSet<i64>,
    limit: usize,
) -> ApiResult<Vec<Suggestion>> {
    let own: Vec<(String, String, i64, i64)> = with_conn!(conn, |c| commit_weight_files::table
        .inner_join(tensors::table.on(tensors::file_oid.eq(commit_weight_files::file_oid)))
        .filter(commit_weight_files::repo_id.eq(repo_id))
        .filter(commit_weight_files::commit_id.eq(commit))
        .filter((tensors::end_offset - tensors::begin_offset).ge(MIN_TENSOR_BYTES))
        .order(tensors::begin_offset.asc())
        .select((
            tensors::file_oid,
            tensors::hash,
            tensors::begin_offset,
            tensors::end_offset,
        ))
        .load(c))?;
    let own_files: HashSet<String> = own.iter().map(|r| r.0.clone()).collect();
    let mut probes: Vec<(String, i64)> = Vec::new();
    let mut seen = HashSet::new();
    for (_, hash, b, e) in &own {
        if seen.insert(hash.clone()) {
            probes.push((hash.clone(), e - b));
        }
    }
    // Spread the probes over the whole model rather than its first layers.
    let step = probes.len().div_ceil(MAX_PROBES).max(1);
    let probes: Vec<_> = probes.into_iter().step_by(step).collect();
    let probed = probes.len() as f64;

    // file -> (tensors shared, bytes shared)
    let mut per_file: HashMap<String, (u64, u64)> = HashMap::new();
    for (hash, bytes) in &probes {
        let files: Vec<String> = with_conn!(conn, |c| tensors::table
            .filter(tensors::hash.eq(hash))
            .select(tensors::file_oid)
            .limit(MAX_FILES_PER_HASH)
            .load(c))?;
        for f in files.into_iter().filter(|f| !own_files.contains(f)) {
            let slot = per_file.entry(f).or_default();
            slot.0 += 1;
            slot.1 += *bytes as u64;
        }
    }
    if per_file.is_empty() {
        return Ok(Vec::new());
    }
    // Files -> repos whose current head holds them.
    let file_ids: Vec<String> = per_file.keys().cloned().collect();
    let mut per_repo: HashMap<i64, (String, u64, u64)> = HashMap::new();
    for chunk in file_ids.chunks(200) {
        let rows: Vec<(String, i64, String, String, i64, bool)> =
            with_conn!(conn, |c| commit_weight_files::table
                .inner_join(repos::table.on(repos::id.eq(commit_weight_files::repo_id)))
                .inner_join(accounts::table.on(accounts::id.eq(repos::owner_id)))
                .filter(commit_weight_files::file_oid.eq_any(chunk))
                .filter(repos::head_commit.eq(commit_weight_files::commit_id.nullable()))
                .select((
                    commit_weight_files::file_oid,
                    repos::id,
                    accounts::name,
                    repos::name,
                    repos::owner_id,
                    repos::private,
                ))
                .load(c))?;
        for (file, rid, owner, name, owner_id, private) in rows {
            if rid == repo_id || exclude.contains(&rid) || !viewer.can_see(owner_id, private) {
                continue;
            }
            let (n, b) = per_file[&file];
            let slot = per_repo
                .entry(rid)
                .or_insert_with(|| (format!("{owner}/{name}"), 0, 0));
            slot.1 += n;
            slot.2 += b;
        }
    }
    let mut out: Vec<Suggestion> = per_repo
        .into_values()
        .map(|(id, n, b)| Suggestion {
            id,
            shared_tensors: n,
            shared_bytes: b,
            fraction: if probed > 0.0 { n as f64 / probed } else { 0.0 },
        })
        .collect();
    out.sort_by(|a, b| b.shared_bytes.cmp(&a.shared_bytes).then(a.id.cmp(&b.id)));
    out.truncate(limit);
    Ok(out)
}
