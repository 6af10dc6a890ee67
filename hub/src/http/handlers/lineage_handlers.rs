//! Lineage queries: a model's parents (with verification), ancestors, descendants (paged, with
//! counts), family, the merge base of two models, its tensor manifest and tensor diffs.
//! Private models the caller cannot see never appear, not even in counts.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use grove_lineage::relation::Relation;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::repo_lookup::load_repo;
use crate::lineage::{closure, manifests, queries, scans, suggest};
use crate::repos::access::Viewer;
use crate::repos::model::OwnedRepo;
use crate::repos::{RepoAction, RepoKind, files};

/// Deepest ancestors/family walk a request may ask for (ancestors default to all of them;
/// answers are capped at `queries::MAX_NODES` nodes either way).
const MAX_DEPTH: i32 = 10_000;
const MAX_PAGE: i64 = 1000;

async fn model(
    state: &AppState,
    caller: &Caller,
    owner: String,
    name: String,
) -> ApiResult<OwnedRepo> {
    load_repo(
        state,
        caller,
        RepoKind::Model,
        owner,
        name,
        RepoAction::Read,
    )
    .await
}

fn int_param(query: &QueryParams, key: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
    match query.get(key) {
        None => Ok(default),
        Some(raw) => match raw.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(ApiError::BadRequest(format!(
                "{key} must be an integer from {min} to {max}"
            ))),
        },
    }
}

fn relation_param(query: &QueryParams) -> ApiResult<Option<String>> {
    match query.get("relation") {
        None => Ok(None),
        Some(raw) => Relation::parse(raw)
            .map(|r| Some(r.as_str().to_string()))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown relation {raw:?}: use fork, finetune, adapter, quantized, merge or distill"
                ))
            }),
    }
}

/// A model's lineage: its scan, parents with verdicts, counts of children and descendants,
/// and suggested undeclared parents.
#[utoipa::path(get, path = "/api/models/{owner}/{name}/lineage", tag = "lineage",
    params(("owner" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "scan, parents, counts, suggestions"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_lineage(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let repo = model(&state, &caller, owner, name).await?;
    let principal = caller.0.clone();
    let body = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let id = repo.repo.id;
            let head = repo.repo.head_commit.clone().unwrap_or_default();
            let scan = scans::status(conn, id, &head)?.map(|(state, summary, warnings)| {
                json!({
                    "commit": head,
                    "state": state,
                    "warnings": serde_json::from_str::<Value>(&warnings).unwrap_or(json!([])),
                    "summary": summary.and_then(|s| serde_json::from_str::<Value>(&s).ok()),
                })
            });
            let parents: Vec<_> = queries::edges_of(conn, &viewer, &[id])?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            let relation = closure::node_relation(conn, id)?;
            let counts = queries::counts(conn, &viewer, id)?;
            let mut exclude: HashSet<i64> =
                closure::current_parents(conn, id)?.into_iter().collect();
            exclude.extend(descendant_ids(conn, id)?);
            let suggestions = suggest::suggest(conn, &viewer, id, &head, &exclude, 5)?;
            Ok(json!({
                "id": repo.id(),
                "sha": head,
                "relation": relation,
                "scan": scan,
                "parents": parents,
                "counts": counts,
                "suggestedParents": suggestions,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

fn descendant_ids(conn: &mut crate::db::DbConn, id: i64) -> ApiResult<Vec<i64>> {
    use crate::db::schema::lineage_closure;
    use diesel::prelude::*;
    // Bounded: suggestions only need to leave out close relatives.
    Ok(crate::with_conn!(conn, |c| lineage_closure::table
        .filter(lineage_closure::ancestor_id.eq(id))
        .select(lineage_closure::descendant_id)
        .limit(10_000)
        .load(c))?)
}

/// Ancestors up to the roots (or `depth`), nearest first, with the edges among them.
#[utoipa::path(get, path = "/api/models/{owner}/{name}/lineage/ancestors", tag = "lineage",
    params(("owner" = String, Path), ("name" = String, Path),
           ("depth" = Option<i64>, Query, description = "1-10000, default: up to the roots")),
    responses((status = 200, description = "nodes, edges, truncated"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_ancestors(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let query = QueryParams::of(&req);
    let depth = int_param(&query, "depth", MAX_DEPTH as i64, 1, MAX_DEPTH as i64)? as i32;
    let repo = model(&state, &caller, owner, name).await?;
    let principal = caller.0.clone();
    let body = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let (found, truncated) = queries::ancestors(conn, &viewer, repo.repo.id, depth)?;
            let mut ids = vec![repo.repo.id];
            ids.extend(found.iter().map(|(i, _)| *i));
            let nodes: Vec<_> = found.into_iter().map(|(_, n)| n).collect();
            // Edges among the answer's nodes only (none to hidden or deleted parents).
            let shown: HashSet<&String> = nodes.iter().map(|n| &n.id).collect();
            let edges: Vec<_> = queries::edges_of(conn, &viewer, &ids)?
                .into_iter()
                .map(|(_, e)| e)
                .filter(|e| e.parent.as_ref().is_some_and(|p| shown.contains(p)))
                .collect();
            Ok(json!({"id": repo.id(), "nodes": nodes, "edges": edges, "truncated": truncated}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Descendants, nearest first, one page at a time, optionally of one relation, with the
/// counts per relation.
#[utoipa::path(get, path = "/api/models/{owner}/{name}/lineage/descendants", tag = "lineage",
    params(("owner" = String, Path), ("name" = String, Path),
           ("relation" = Option<String>, Query), ("depth" = Option<i64>, Query),
           ("limit" = Option<i64>, Query, description = "1-1000, default 100"),
           ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, description = "items, nextCursor, counts"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_descendants(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let query = QueryParams::of(&req);
    let relation = relation_param(&query)?;
    let limit = int_param(&query, "limit", 100, 1, MAX_PAGE)?;
    let depth = match query.get("depth") {
        None => None,
        Some(_) => Some(int_param(&query, "depth", 1, 1, MAX_DEPTH as i64)? as i32),
    };
    let cursor = query.get("cursor").map(queries::parse_cursor).transpose()?;
    let repo = model(&state, &caller, owner, name).await?;
    let principal = caller.0.clone();
    let body = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let page = queries::descendants(
                conn,
                &viewer,
                repo.repo.id,
                relation.as_deref(),
                depth,
                cursor,
                limit,
            )?;
            let counts = queries::counts(conn, &viewer, repo.repo.id)?;
            Ok(json!({
                "id": repo.id(),
                "items": page.items,
                "nextCursor": page.next_cursor,
                "counts": counts,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The family within `depth` steps up and down (nodes below the model have negative depth),
/// with the edges among them: what the lineage explorer draws.
#[utoipa::path(get, path = "/api/models/{owner}/{name}/lineage/family", tag = "lineage",
    params(("owner" = String, Path), ("name" = String, Path),
           ("depth" = Option<i64>, Query, description = "1-10000, default 3")),
    responses((status = 200, description = "nodes, edges, truncated"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_family(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let query = QueryParams::of(&req);
    let depth = int_param(&query, "depth", 3, 1, MAX_DEPTH as i64)? as i32;
    let repo = model(&state, &caller, owner, name).await?;
    let principal = caller.0.clone();
    let body = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let me = queries::Node {
                id: repo.id(),
                private: repo.repo.private,
                depth: 0,
                relation: closure::node_relation(conn, repo.repo.id)?
                    .unwrap_or_else(|| "none".into()),
            };
            let (nodes, edges, truncated) =
                queries::family(conn, &viewer, repo.repo.id, me, depth)?;
            Ok(json!({"id": repo.id(), "nodes": nodes, "edges": edges, "truncated": truncated}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The best common ancestors of two models (`a` and `b` are `owner/name`).
#[utoipa::path(get, path = "/api/lineage/merge-base", tag = "lineage",
    params(("a" = String, Query), ("b" = String, Query)),
    responses((status = 200, description = "bases with their distance from a and b"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_merge_base(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::of(&req);
    let split = |key: &str| -> ApiResult<(String, String)> {
        query
            .get(key)
            .and_then(|v| v.split_once('/'))
            .map(|(o, n)| (o.to_string(), n.to_string()))
            .ok_or_else(|| ApiError::BadRequest(format!("{key} must be owner/name")))
    };
    let (ao, an) = split("a")?;
    let (bo, bn) = split("b")?;
    let a = model(&state, &caller, ao, an).await?;
    let b = model(&state, &caller, bo, bn).await?;
    let principal = caller.0.clone();
    let body = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let bases = queries::merge_base(conn, &viewer, a.repo.id, b.repo.id)?;
            let mut out = Vec::new();
            for (id, da, db) in bases {
                if let Some(name) = queries::name_of(conn, id)? {
                    out.push(json!({"id": name, "depthFromA": da, "depthFromB": db}));
                }
            }
            Ok(json!({"a": a.id(), "b": b.id(), "bases": out}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Resolves `rev` and makes sure its weight files have manifests (scanned now if needed).
async fn indexed_commit(state: &AppState, repo: &OwnedRepo, rev: &str) -> ApiResult<String> {
    let git = state.git.clone();
    let r = repo.clone();
    let rev = rev.to_string();
    let commit = state
        .blocking(move || {
            let git_repo = files::open(&git, &r)?;
            Ok(files::resolve(&git_repo, &rev)?.to_string())
        })
        .await?;
    state.scanner().index(repo, &commit).await?;
    Ok(commit)
}

/// The tensor manifest of a revision: every safetensors and GGUF file with its tensors.
#[utoipa::path(get, path = "/api/models/{owner}/{name}/tensors", tag = "lineage",
    params(("owner" = String, Path), ("name" = String, Path),
           ("revision" = Option<String>, Query, description = "default branch when absent")),
    responses((status = 200, description = "files with their tensors"),
              (status = 404, body = ErrorBody)))]
pub async fn get_tensors(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let query = QueryParams::of(&req);
    let repo = model(&state, &caller, owner, name).await?;
    let rev = query
        .get("revision")
        .map(str::to_string)
        .unwrap_or_else(|| repo.repo.default_branch.clone());
    let commit = indexed_commit(&state, &repo, &rev).await?;
    let id = repo.repo.id;
    let body = state
        .db
        .run(move |conn| {
            let files_rows = manifests::commit_files(conn, id, &commit)?;
            let tensors = manifests::commit_tensors(conn, id, &commit)?;
            let summary = manifests::summary(&files_rows);
            let files_json: Vec<Value> = files_rows
                .iter()
                .map(|(path, f)| {
                    let ts: Vec<&grove_lineage::formats::TensorEntry> = tensors
                        .iter()
                        .filter(|(p, _)| p == path)
                        .map(|(_, t)| t)
                        .collect();
                    json!({
                        "path": path,
                        "format": f.format,
                        "size": f.size,
                        "tensorCount": f.tensor_count,
                        "parameterCount": f.parameter_count,
                        "dtypes": serde_json::from_str::<Value>(&f.dtypes).unwrap_or(json!({})),
                        "metadata": serde_json::from_str::<Value>(&f.metadata).unwrap_or(json!({})),
                        "error": f.error,
                        "tensors": ts,
                    })
                })
                .collect();
            Ok(json!({
                "id": repo.id(),
                "sha": commit,
                "safetensors": summary["safetensors"],
                "gguf": summary["gguf"],
                "files": files_json,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Tensor-by-tensor diff of a revision against a base: by default its first parent at the
/// pinned commit; `base` (owner/name) and `base_revision` choose another.
#[utoipa::path(get, path = "/api/models/{owner}/{name}/lineage/diff", tag = "lineage",
    params(("owner" = String, Path), ("name" = String, Path),
           ("revision" = Option<String>, Query), ("base" = Option<String>, Query),
           ("base_revision" = Option<String>, Query)),
    responses((status = 200, description = "summary, added, removed, changed, unchanged"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_tensor_diff(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let query = QueryParams::of(&req);
    Ok(HttpResponse::Ok().json(tensor_diff(&state, &caller, owner, name, &query).await?))
}

/// The tensor diff of `owner/name` against `base` (default: its first available parent at the
/// pinned commit), as JSON (the web UI's diff page shows the same answer).
pub(crate) async fn tensor_diff(
    state: &AppState,
    caller: &Caller,
    owner: String,
    name: String,
    query: &QueryParams,
) -> ApiResult<Value> {
    let (state, caller) = (state, caller);
    let repo = model(state, caller, owner, name).await?;
    let rev = query
        .get("revision")
        .map(str::to_string)
        .unwrap_or_else(|| repo.repo.default_branch.clone());
    let (base, base_rev) = match query.get("base") {
        Some(b) => {
            let (o, n) = b
                .split_once('/')
                .ok_or_else(|| ApiError::BadRequest("base must be owner/name".into()))?;
            let base = model(state, caller, o.to_string(), n.to_string()).await?;
            let rev = query
                .get("base_revision")
                .map(str::to_string)
                .unwrap_or_else(|| base.repo.default_branch.clone());
            (base, rev)
        }
        None => {
            // The first visible parent, at its pinned commit.
            let principal = caller.0.clone();
            let id = repo.repo.id;
            let parent = state
                .db
                .run(move |conn| {
                    let viewer = Viewer::load(conn, principal.as_ref())?;
                    Ok(queries::edges_of(conn, &viewer, &[id])?
                        .into_iter()
                        .map(|(_, e)| e)
                        .find(|e| e.available))
                })
                .await?
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "this model has no available parent: pass base=owner/name".into(),
                    )
                })?;
            let pid = parent.parent.unwrap_or_default();
            let (o, n) = pid.split_once('/').unwrap_or(("", ""));
            let base = model(state, caller, o.to_string(), n.to_string()).await?;
            let rev = parent
                .parent_commit
                .unwrap_or_else(|| base.repo.default_branch.clone());
            (base, rev)
        }
    };
    let to_commit = indexed_commit(state, &repo, &rev).await?;
    let from_commit = indexed_commit(state, &base, &base_rev).await?;
    let (to_id, from_id) = (repo.repo.id, base.repo.id);
    let (tc, fc) = (to_commit.clone(), from_commit.clone());
    let (to_t, from_t) = state
        .db
        .run(move |conn| {
            let to: Vec<_> = manifests::commit_tensors(conn, to_id, &tc)?
                .into_iter()
                .map(|(_, t)| t)
                .collect();
            let from: Vec<_> = manifests::commit_tensors(conn, from_id, &fc)?
                .into_iter()
                .map(|(_, t)| t)
                .collect();
            Ok((to, from))
        })
        .await?;
    let diff = state
        .blocking(move || Ok(grove_lineage::diff::diff(&from_t, &to_t)))
        .await?;
    Ok(json!({
        "from": {"id": base.id(), "sha": from_commit},
        "to": {"id": repo.id(), "sha": to_commit},
        "summary": diff.summary,
        "added": diff.added,
        "removed": diff.removed,
        "changed": diff.changed,
        "unchanged": diff.unchanged,
    }))
}
