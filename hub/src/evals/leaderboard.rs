//! Leaderboards, per task and per suite, built from published results.
//!
//! - One row per model: its newest submission result on the task's current content (the task
//!   hash of spec + data, so editing the task's README keeps the board, changing its data starts
//!   a new one).
//! - Ranks respect the 95% bootstrap intervals: 1 + the number of models whose interval lies
//!   entirely above (below, for lower-is-better metrics) this one's.
//! - Lineage columns: the declared parent, the gain over the parent on the same board, the family
//!   (top-most visible ancestor) and whether the row is its family's best.
//! - Filters: relations to hide (`merge`, …), parameter range, license, weight precision, one
//!   family.
//! - Suites average the normalised primary scores of their tasks (tasks without a random
//!   baseline, such as perplexity, are shown but not averaged); the interval shown is the mean
//!   of the tasks' interval bounds, a conservative (wider) interval for the mean of independent
//!   tasks.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use grove_eval_runner::metrics::{MetricValue, interval_ranks, normalize};
use serde_json::{Value, json};

use super::RepoCache;
use super::results::{self, ResultRow};
use crate::db::DbConn;
use crate::db::schema::{lineage_closure, lineage_edges};
use crate::error::{ApiError, ApiResult};
use crate::lineage::{closure, manifests};
use crate::repos::access::Viewer;
use crate::repos::model::OwnedRepo;
use crate::time::wire;
use crate::with_conn;

/// Most rows a board shows.
pub const MAX_ROWS: usize = 1000;

#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub metric: Option<String>,
    pub exclude_relations: Vec<String>,
    pub min_params: Option<i64>,
    pub max_params: Option<i64>,
    pub license: Option<String>,
    pub precision: Option<String>,
    /// Only models whose family root is this repo.
    pub family: Option<i64>,
}

/// One model's entry on a task board, before ranking.
#[derive(Debug, Clone)]
pub struct Entry {
    pub model: OwnedRepo,
    pub result: ResultRow,
    pub metric: MetricValue,
    pub relation: Option<String>,
    pub parent: Option<OwnedRepo>,
    pub family: OwnedRepo,
    pub parameters: Option<i64>,
    pub license: Option<String>,
    pub precision: Option<String>,
    pub reproduction: String,
}

fn first_parent(
    conn: &mut DbConn,
    viewer: &Viewer,
    cache: &mut RepoCache,
    id: i64,
) -> ApiResult<Option<OwnedRepo>> {
    let parents: Vec<Option<i64>> = with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::child_repo_id.eq(id))
        .filter(lineage_edges::is_current.eq(true))
        .order((lineage_edges::position.asc(), lineage_edges::id.asc()))
        .select(lineage_edges::parent_repo_id)
        .load(c))?;
    for p in parents.into_iter().flatten() {
        if let Some(r) = cache.visible(conn, viewer, p)? {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// The top-most ancestor the viewer may see (the model itself for a root).
fn family_root(
    conn: &mut DbConn,
    viewer: &Viewer,
    cache: &mut RepoCache,
    model: &OwnedRepo,
) -> ApiResult<OwnedRepo> {
    let ancestors: Vec<(i64, i32)> = with_conn!(conn, |c| lineage_closure::table
        .filter(lineage_closure::descendant_id.eq(model.repo.id))
        .order((
            lineage_closure::depth.desc(),
            lineage_closure::ancestor_id.asc()
        ))
        .select((lineage_closure::ancestor_id, lineage_closure::depth))
        .load(c))?;
    for (a, _) in ancestors {
        if let Some(r) = cache.visible(conn, viewer, a)? {
            return Ok(r);
        }
    }
    Ok(model.clone())
}

fn parameters(conn: &mut DbConn, repo_id: i64, commit: &str) -> ApiResult<Option<i64>> {
    let files = manifests::commit_files(conn, repo_id, commit)?;
    let total: i64 = files
        .iter()
        .filter(|(_, f)| f.error.is_none())
        .fold(0i64, |acc, (_, f)| acc.saturating_add(f.parameter_count));
    Ok((total > 0).then_some(total))
}

/// The visible entries of a task board (newest result per model), unfiltered and unranked.
pub fn entries(
    conn: &mut DbConn,
    viewer: &Viewer,
    cache: &mut RepoCache,
    task_repo_id: i64,
    task_hash: &str,
    metric: &str,
) -> ApiResult<Vec<Entry>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in results::board_rows(conn, task_repo_id, task_hash)? {
        if out.len() == MAX_ROWS || !seen.insert(row.model_repo_id) {
            continue;
        }
        let Some(model) = cache.visible(conn, viewer, row.model_repo_id)? else {
            continue;
        };
        let Some(value) = row.metrics().remove(metric) else {
            continue;
        };
        let runs = results::runs_of(conn, &row)?;
        let ids: Vec<i64> = runs.iter().filter_map(|r| r.worker_id).collect();
        let names = super::workers::names(conn, &ids)?;
        let reproduction = results::reproduction(&row, &runs, &names).0;
        let license = model
            .repo
            .card_data
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .and_then(|d| d.get("license").and_then(Value::as_str).map(str::to_string));
        let precision = row.provenance().map(|p| p.weights_dtype);
        out.push(Entry {
            relation: closure::node_relation(conn, model.repo.id)?,
            parent: first_parent(conn, viewer, cache, model.repo.id)?,
            family: family_root(conn, viewer, cache, &model)?,
            parameters: parameters(conn, model.repo.id, &row.model_commit)?,
            license,
            precision,
            reproduction,
            metric: value,
            model,
            result: row,
        });
    }
    Ok(out)
}

fn keep(e: &Entry, f: &Filters) -> bool {
    if e.relation
        .as_ref()
        .is_some_and(|r| f.exclude_relations.contains(r))
    {
        return false;
    }
    if f.min_params
        .is_some_and(|m| e.parameters.is_none_or(|p| p < m))
    {
        return false;
    }
    if f.max_params
        .is_some_and(|m| e.parameters.is_none_or(|p| p > m))
    {
        return false;
    }
    if f.license
        .as_ref()
        .is_some_and(|l| e.license.as_ref() != Some(l))
    {
        return false;
    }
    if f.precision.as_ref().is_some_and(|p| {
        !e.precision
            .as_ref()
            .is_some_and(|q| q.eq_ignore_ascii_case(p))
    }) {
        return false;
    }
    f.family.is_none_or(|id| e.family.repo.id == id)
}

/// Ranked rows of a task board as JSON.
pub fn task_board(entries: Vec<Entry>, filters: &Filters, metric: &str) -> Vec<Value> {
    // Parents' scores come from the whole board, even when a filter hides the parent.
    let by_model: HashMap<i64, f64> = entries
        .iter()
        .map(|e| (e.model.repo.id, e.metric.value))
        .collect();
    let mut rows: Vec<Entry> = entries.into_iter().filter(|e| keep(e, filters)).collect();
    // The direction comes from the metric's definition, never from what a worker posted.
    let higher = grove_eval_runner::spec::higher_is_better(metric);
    rows.sort_by(|a, b| {
        let o = a.metric.value.total_cmp(&b.metric.value);
        if higher { o.reverse() } else { o }
    });
    let ranks = interval_ranks(
        &rows
            .iter()
            .map(|e| (e.metric.ci_low, e.metric.ci_high))
            .collect::<Vec<_>>(),
        higher,
    );
    let mut best: HashMap<i64, f64> = HashMap::new();
    for e in &rows {
        let v = best.entry(e.family.repo.id).or_insert(e.metric.value);
        if (higher && e.metric.value > *v) || (!higher && e.metric.value < *v) {
            *v = e.metric.value;
        }
    }
    rows.iter()
        .zip(ranks)
        .map(|(e, rank)| {
            let parent_value = e
                .parent
                .as_ref()
                .and_then(|p| by_model.get(&p.repo.id))
                .copied();
            json!({
                "rank": rank,
                "model": e.model.id(),
                "modelCommit": e.result.model_commit,
                "jobId": e.result.job_id,
                "value": e.metric.value,
                "ciLow": e.metric.ci_low,
                "ciHigh": e.metric.ci_high,
                "stderr": e.metric.stderr,
                "normalized": e.metric.normalized,
                "metrics": e.result.metrics(),
                "reproduction": e.reproduction,
                "relation": e.relation,
                "parent": e.parent.as_ref().map(|p| p.id()),
                "gainOverParent": parent_value.map(|p| e.metric.value - p),
                "family": e.family.id(),
                "bestInFamily": best.get(&e.family.repo.id) == Some(&e.metric.value),
                "parameters": e.parameters,
                "license": e.license,
                "precision": e.precision,
                "private": e.model.repo.private,
                "authorType": if e.model.owner.is_org() { "org" } else { "user" },
                "evaluatedAt": wire(e.result.created_at),
            })
        })
        .collect()
}

/// The metric a board ranks by: the one asked for, else the task's primary metric.
pub fn chosen_metric(filters: &Filters, primary: &str, available: &[String]) -> ApiResult<String> {
    match &filters.metric {
        None => Ok(primary.to_string()),
        Some(m) if available.contains(m) => Ok(m.clone()),
        Some(m) => Err(ApiError::BadRequest(format!(
            "metric {m:?} is not reported by this task: use one of {}",
            available.join(", ")
        ))),
    }
}

/// One task of a suite, with its filtered entries.
pub struct SuiteTask {
    pub id: String,
    pub entries: Vec<Entry>,
}

/// Rows of a suite board: models with a result on every task, by mean normalised score.
pub fn suite_board(tasks: Vec<SuiteTask>, filters: &Filters) -> Vec<Value> {
    let mut per_model: BTreeMap<i64, (OwnedRepo, Vec<Option<&Entry>>)> = BTreeMap::new();
    let kept: Vec<Vec<Entry>> = tasks
        .iter()
        .map(|t| {
            t.entries
                .iter()
                .filter(|e| keep(e, filters))
                .cloned()
                .collect()
        })
        .collect();
    for (i, entries) in kept.iter().enumerate() {
        for e in entries {
            let slot = per_model
                .entry(e.model.repo.id)
                .or_insert_with(|| (e.model.clone(), vec![None; tasks.len()]));
            slot.1[i] = Some(e);
        }
    }
    let mut rows: Vec<(f64, f64, f64, Value)> = Vec::new();
    for (_, (model, cells)) in per_model {
        if cells.iter().any(Option::is_none) {
            continue;
        }
        let cells: Vec<&Entry> = cells.into_iter().flatten().collect();
        let normed: Vec<(f64, f64, f64)> = cells
            .iter()
            .filter_map(|e| {
                let b = e.metric.random_baseline?;
                Some((
                    normalize(e.metric.value, b),
                    normalize(e.metric.ci_low, b),
                    normalize(e.metric.ci_high, b),
                ))
            })
            .collect();
        if normed.is_empty() {
            continue;
        }
        let n = normed.len() as f64;
        let mean = |f: fn(&(f64, f64, f64)) -> f64| normed.iter().map(f).sum::<f64>() / n;
        let (avg, lo, hi) = (mean(|x| x.0), mean(|x| x.1), mean(|x| x.2));
        let per_task: serde_json::Map<String, Value> = tasks
            .iter()
            .zip(&cells)
            .map(|(t, e)| {
                (t.id.clone(), json!({"value": e.metric.value, "normalized": e.metric.normalized, "jobId": e.result.job_id}))
            })
            .collect();
        rows.push((avg, lo, hi, json!({"model": model.id(), "average": avg, "ciLow": lo, "ciHigh": hi, "tasks": per_task})));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let ranks = interval_ranks(&rows.iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(), true);
    rows.into_iter()
        .zip(ranks)
        .map(|((_, _, _, mut v), rank)| {
            v["rank"] = json!(rank);
            v
        })
        .collect()
}
