//! Published results and their reproductions. A result is *reproduced* when an independent run
//! (a re-run on another worker, same runner version, same input hashes) agrees with it within
//! `REPRODUCE_TOLERANCE` on every metric; a disagreeing run marks it *disputed*, with the
//! difference shown.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use grove_eval_runner::metrics::{MetricValue, REPRODUCE_TOLERANCE, max_relative_difference};
use grove_eval_runner::protocol::Provenance;
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::db::schema::eval_results;
use crate::error::ApiResult;
use crate::time::wire;
use crate::with_conn;

/// A result without its per-sample scores (those are read only on request).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = eval_results)]
pub struct ResultRow {
    pub job_id: i64,
    pub model_repo_id: i64,
    pub model_commit: String,
    pub task_repo_id: i64,
    pub task_hash: String,
    pub run: i32,
    pub worker_id: Option<i64>,
    pub primary_metric: String,
    pub primary_value: f64,
    pub metrics: String,
    pub provenance: String,
    pub created_at: NaiveDateTime,
}

impl ResultRow {
    pub fn metrics(&self) -> BTreeMap<String, MetricValue> {
        serde_json::from_str(&self.metrics).unwrap_or_default()
    }

    pub fn provenance(&self) -> Option<Provenance> {
        serde_json::from_str(&self.provenance).ok()
    }
}

pub fn of_job(conn: &mut DbConn, job_id: i64) -> ApiResult<Option<ResultRow>> {
    Ok(with_conn!(conn, |c| eval_results::table
        .find(job_id)
        .select(ResultRow::as_select())
        .first(c)
        .optional())?)
}

pub fn samples_of(conn: &mut DbConn, job_id: i64) -> ApiResult<Option<String>> {
    Ok(with_conn!(conn, |c| eval_results::table
        .find(job_id)
        .select(eval_results::samples)
        .first(c)
        .optional())?)
}

/// Every run's result for the model commit and task content of `of`, on the same task repo
/// (runs on another copy of the task, which may be private, never count).
pub fn runs_of(conn: &mut DbConn, of: &ResultRow) -> ApiResult<Vec<ResultRow>> {
    Ok(with_conn!(conn, |c| eval_results::table
        .filter(eval_results::task_repo_id.eq(of.task_repo_id))
        .filter(eval_results::model_repo_id.eq(of.model_repo_id))
        .filter(eval_results::model_commit.eq(&of.model_commit))
        .filter(eval_results::task_hash.eq(&of.task_hash))
        .order(eval_results::run.asc())
        .select(ResultRow::as_select())
        .load(c))?)
}

/// Submission results (run 0) on a task content, newest first.
pub fn board_rows(
    conn: &mut DbConn,
    task_repo_id: i64,
    task_hash: &str,
) -> ApiResult<Vec<ResultRow>> {
    Ok(with_conn!(conn, |c| eval_results::table
        .filter(eval_results::task_repo_id.eq(task_repo_id))
        .filter(eval_results::task_hash.eq(task_hash))
        .filter(eval_results::run.eq(0))
        .order(eval_results::created_at.desc())
        .select(ResultRow::as_select())
        .load(c))?)
}

/// Submission results of a model, newest first.
pub fn of_model(conn: &mut DbConn, model_repo_id: i64) -> ApiResult<Vec<ResultRow>> {
    Ok(with_conn!(conn, |c| eval_results::table
        .filter(eval_results::model_repo_id.eq(model_repo_id))
        .filter(eval_results::run.eq(0))
        .order(eval_results::created_at.desc())
        .select(ResultRow::as_select())
        .load(c))?)
}

/// How `other` compares with `original`, if it is an independent run of the same inputs.
pub fn compare(
    original: &ResultRow,
    other: &ResultRow,
    workers: &HashMap<i64, String>,
) -> Option<Value> {
    if other.job_id == original.job_id || other.worker_id == original.worker_id {
        return None;
    }
    let (a, b) = (original.provenance()?, other.provenance()?);
    let same_inputs = a.hashes == b.hashes && a.runner_version == b.runner_version;
    let diff = max_relative_difference(&original.metrics(), &other.metrics());
    let agrees = same_inputs && diff.is_some_and(|d| d <= REPRODUCE_TOLERANCE);
    Some(json!({
        "jobId": other.job_id,
        "run": other.run,
        "worker": other.worker_id.and_then(|w| workers.get(&w).cloned()),
        "device": b.device,
        "agrees": agrees,
        "maxDifference": diff,
        "sameInputs": same_inputs,
        "tolerance": REPRODUCE_TOLERANCE,
        "createdAt": wire(other.created_at),
    }))
}

/// `reproduced`, `disputed` or `unverified`, with the comparisons behind it.
pub fn reproduction(
    original: &ResultRow,
    runs: &[ResultRow],
    workers: &HashMap<i64, String>,
) -> (String, Vec<Value>) {
    let checks: Vec<Value> = runs
        .iter()
        .filter_map(|r| compare(original, r, workers))
        .collect();
    let status = if checks.iter().any(|c| c["agrees"] == json!(true)) {
        "reproduced"
    } else if checks.is_empty() {
        "unverified"
    } else {
        "disputed"
    };
    (status.to_string(), checks)
}

/// The result as the job view shows it.
pub fn view(row: &ResultRow, reproduction: (String, Vec<Value>), worker: Option<String>) -> Value {
    json!({
        "primaryMetric": row.primary_metric,
        "value": row.primary_value,
        "metrics": row.metrics(),
        "provenance": row.provenance(),
        "worker": worker,
        "reproduction": reproduction.0,
        "reproductions": reproduction.1,
        "createdAt": wire(row.created_at),
    })
}
