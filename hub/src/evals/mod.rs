//! Eval jobs and leaderboards: submissions pinned to a model commit and a task commit, a job
//! queue with leases and fencing tokens that external workers drain over HTTP, results bound to
//! the content hashes of what produced them, reproductions, and leaderboards built from them.
//! Private models and tasks are filtered out of every answer for callers who cannot see them.

pub mod inputs;
pub mod jobs;
pub mod leaderboard;
pub mod results;
pub mod workers;

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::repos::access::Viewer;
use crate::repos::model::{OwnedRepo, find_repo_by_id};
use crate::time::wire;
use jobs::Job;

/// Repos by id, loaded once per answer.
#[derive(Default)]
pub struct RepoCache(HashMap<i64, Option<OwnedRepo>>);

impl RepoCache {
    pub fn get(&mut self, conn: &mut DbConn, id: i64) -> ApiResult<Option<OwnedRepo>> {
        if let Some(r) = self.0.get(&id) {
            return Ok(r.clone());
        }
        let r = find_repo_by_id(conn, id)?;
        self.0.insert(id, r.clone());
        Ok(r)
    }

    /// The repo if `viewer` may see it.
    pub fn visible(
        &mut self,
        conn: &mut DbConn,
        viewer: &Viewer,
        id: i64,
    ) -> ApiResult<Option<OwnedRepo>> {
        Ok(self
            .get(conn, id)?
            .filter(|r| viewer.can_see(r.repo.owner_id, r.repo.private)))
    }
}

/// The job if the viewer may see both its model and its task; otherwise the same 404 as a job
/// that does not exist.
pub fn visible_job(
    conn: &mut DbConn,
    viewer: &Viewer,
    cache: &mut RepoCache,
    id: i64,
) -> ApiResult<(Job, OwnedRepo, OwnedRepo)> {
    let missing = || ApiError::NotFound(format!("no eval job {id}"));
    let job = jobs::get(conn, id)?.ok_or_else(missing)?;
    let model = cache
        .visible(conn, viewer, job.model_repo_id)?
        .ok_or_else(missing)?;
    let task = cache
        .visible(conn, viewer, job.task_repo_id)?
        .ok_or_else(missing)?;
    Ok((job, model, task))
}

/// A job as the API shows it, with its result and reproduction status when it has one.
pub fn job_view(
    conn: &mut DbConn,
    job: &Job,
    model: &OwnedRepo,
    task: &OwnedRepo,
) -> ApiResult<Value> {
    let result = results::of_job(conn, job.id)?;
    let mut ids: Vec<i64> = job.worker_id.into_iter().collect();
    let runs = match &result {
        Some(r) => results::runs_of(conn, r)?,
        None => Vec::new(),
    };
    ids.extend(runs.iter().filter_map(|r| r.worker_id));
    let names = workers::names(conn, &ids)?;
    let result_view = result.as_ref().map(|r| {
        // A re-run is judged against the submission; the submission against every re-run.
        let original = runs.iter().find(|o| o.run == 0).unwrap_or(r);
        let reproduction = if r.run == 0 {
            results::reproduction(r, &runs, &names)
        } else {
            let check = results::compare(original, r, &names);
            let status = match &check {
                Some(c) if c["agrees"] == json!(true) => "agrees",
                Some(_) => "disagrees",
                None => "not independent",
            };
            (status.to_string(), check.into_iter().collect())
        };
        results::view(
            r,
            reproduction,
            r.worker_id.and_then(|w| names.get(&w).cloned()),
        )
    });
    Ok(json!({
        "id": job.id,
        "model": model.id(),
        "modelCommit": job.model_commit,
        "task": task.id(),
        "taskCommit": job.task_commit,
        "taskName": job.task_name,
        "taskHash": job.task_hash,
        "run": job.run,
        "status": job.status,
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "worker": job.worker_id.and_then(|w| names.get(&w).cloned()),
        "error": job.error,
        "createdAt": wire(job.created_at),
        "startedAt": job.started_at.map(wire),
        "finishedAt": job.finished_at.map(wire),
        "retryAfter": (job.status == "queued" && job.not_before > crate::time::now()).then(|| wire(job.not_before)),
        "inputHashes": serde_json::from_str::<grove_eval_runner::protocol::JobInputs>(&job.inputs)
            .ok()
            .map(|i| i.hashes),
        "result": result_view,
    }))
}
