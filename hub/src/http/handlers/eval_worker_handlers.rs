//! The worker side of the eval queue. A worker authenticates with its worker token
//! (`Authorization: Bearer grovew_…`), claims a job, downloads exactly the files the job pinned
//! (while it holds the lease), heartbeats with progress, and publishes a result or a failure.
//! Every call after the claim carries the fencing token; a stale one is a 409.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use grove_eval_runner::protocol::{
    ClaimRequest, ClaimedJob, FailurePost, Heartbeat, JobInputs, ResultPost, Source,
};
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::evals::jobs::{self, Job, NewResult};
use crate::evals::workers::{self, Worker};
use crate::http::AppState;
use crate::http::handlers::download_handlers::serve_file;
use crate::repos::model::find_repo_by_id;

/// Largest result body (per-sample scores of a big task).
pub const RESULT_LIMIT: usize = 64 * 1024 * 1024;
const MAX_SAMPLES: usize = 1_000_000;

fn unauthorized() -> ApiError {
    ApiError::Unauthorized("a worker token is required: Authorization: Bearer grovew_…".into())
}

async fn worker(state: &AppState, req: &HttpRequest) -> ApiResult<Worker> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string())
        .ok_or_else(unauthorized)?;
    state
        .db
        .run(move |conn| workers::authenticate(conn, &token))
        .await?
        .ok_or_else(unauthorized)
}

fn lease(state: &AppState) -> Duration {
    Duration::seconds(state.eval_lease_secs as i64)
}

fn job_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::NotFound(format!("no eval job {raw}")))
}

fn inputs_of(job: &Job) -> ApiResult<JobInputs> {
    serde_json::from_str(&job.inputs).map_err(ApiError::internal)
}

/// Claims the oldest claimable job: 200 with the job, or 204 when there is none.
#[utoipa::path(post, path = "/api/evals/worker/claim", tag = "eval workers",
    responses((status = 200, description = "a claimed job"), (status = 204, description = "nothing to do"),
              (status = 401, body = ErrorBody)))]
pub async fn claim(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Option<web::Json<ClaimRequest>>,
) -> ApiResult<HttpResponse> {
    let w = worker(&state, &req).await?;
    let device = body
        .map(|b| b.into_inner().device)
        .unwrap_or_else(|| "cpu".into());
    let lease = lease(&state);
    let claimed = state
        .db
        .run(move |conn| {
            let Some(job) = jobs::claim(conn, w.id, lease)? else {
                return Ok(None);
            };
            let model = find_repo_by_id(conn, job.model_repo_id)?;
            let task = find_repo_by_id(conn, job.task_repo_id)?;
            Ok(Some((job, model, task)))
        })
        .await?;
    let Some((job, Some(model), Some(task))) = claimed else {
        return Ok(HttpResponse::NoContent().finish());
    };
    tracing::info!(job = job.id, worker = %w.name, device = %device, attempt = job.attempts, "eval job claimed");
    Ok(HttpResponse::Ok().json(ClaimedJob {
        id: job.id,
        fence: job.fence,
        model: model.id(),
        model_commit: job.model_commit.clone(),
        task: task.id(),
        task_commit: job.task_commit.clone(),
        inputs: inputs_of(&job)?,
        lease_seconds: state.eval_lease_secs,
    }))
}

/// Extends the lease and records progress; 409 when the lease is lost or the job was cancelled.
#[utoipa::path(post, path = "/api/evals/worker/jobs/{id}/heartbeat", tag = "eval workers",
    params(("id" = i64, Path)),
    responses((status = 200, description = "lease extended"), (status = 409, body = ErrorBody)))]
pub async fn heartbeat(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Heartbeat>,
) -> ApiResult<HttpResponse> {
    let w = worker(&state, &req).await?;
    let id = job_id(&path.into_inner())?;
    let hb = body.into_inner();
    let lease = lease(&state);
    state
        .db
        .run(move |conn| {
            jobs::heartbeat(conn, id, w.id, hb.fence, Some((hb.done, hb.total)), lease)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"leaseSeconds": state.eval_lease_secs})))
}

#[derive(Deserialize)]
pub struct FenceQuery {
    fence: i64,
}

/// One of the files the job pinned, while the caller holds the job's lease.
#[utoipa::path(get, path = "/api/evals/worker/jobs/{id}/files/{source}/{path}", tag = "eval workers",
    params(("id" = i64, Path), ("source" = String, Path, description = "model or task"),
           ("path" = String, Path), ("fence" = i64, Query)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn get_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    query: web::Query<FenceQuery>,
) -> ApiResult<HttpResponse> {
    let w = worker(&state, &req).await?;
    let (id, source, file) = path.into_inner();
    let id = job_id(&id)?;
    let source = match source.as_str() {
        "model" => Source::Model,
        "task" => Source::Task,
        _ => return Err(ApiError::NotFound("the source is model or task".into())),
    };
    let fence = query.fence;
    let lease = lease(&state);
    let (job, repo) = state
        .db
        .run(move |conn| {
            // Reading counts as a sign of life, and only the lease holder may read.
            let job = jobs::heartbeat(conn, id, w.id, fence, None, lease)?;
            let repo_id = if source == Source::Model {
                job.model_repo_id
            } else {
                job.task_repo_id
            };
            let repo = find_repo_by_id(conn, repo_id)?
                .ok_or_else(|| ApiError::NotFound("the repo was deleted".into()))?;
            Ok((job, repo))
        })
        .await?;
    let inputs = inputs_of(&job)?;
    if !inputs
        .files
        .iter()
        .any(|f| f.source == source && f.path == file)
    {
        return Err(ApiError::NotFound(format!(
            "{file} is not an input of eval job {id}"
        )));
    }
    let commit = if source == Source::Model {
        job.model_commit
    } else {
        job.task_commit
    };
    serve_file(&state, &req, repo, commit, file).await
}

/// Publishes the job's result (once; only by the lease holder with the current fence). The
/// result must be for the inputs the job pinned.
#[utoipa::path(post, path = "/api/evals/worker/jobs/{id}/result", tag = "eval workers",
    params(("id" = i64, Path)),
    responses((status = 200, description = "published"), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ResultPost>,
) -> ApiResult<HttpResponse> {
    let w = worker(&state, &req).await?;
    let id = job_id(&path.into_inner())?;
    let post = body.into_inner();
    let Some(primary) = post.metrics.get(&post.primary_metric) else {
        return Err(ApiError::BadRequest(format!(
            "the primary metric {:?} is not among the metrics",
            post.primary_metric
        )));
    };
    let finite = post
        .metrics
        .values()
        .all(|m| m.value.is_finite() && m.ci_low.is_finite() && m.ci_high.is_finite());
    if !finite || post.samples.is_empty() || post.samples.len() > MAX_SAMPLES {
        return Err(ApiError::BadRequest(format!(
            "a result needs finite metric values and 1 to {MAX_SAMPLES} samples"
        )));
    }
    let value = primary.value;
    let result = NewResult {
        primary_metric: post.primary_metric.clone(),
        primary_value: value,
        metrics: serde_json::to_string(&post.metrics).map_err(ApiError::internal)?,
        samples: serde_json::to_string(&post.samples).map_err(ApiError::internal)?,
        provenance: serde_json::to_string(&post.provenance).map_err(ApiError::internal)?,
    };
    let hashes = post.provenance.hashes.clone();
    let fence = post.fence;
    let primary_metric = post.primary_metric.clone();
    let reported: Vec<String> = post.metrics.keys().cloned().collect();
    let job = state
        .db
        .run(move |conn| {
            let job = jobs::get(conn, id)?
                .ok_or_else(|| ApiError::NotFound(format!("no eval job {id}")))?;
            let inputs = inputs_of(&job)?;
            if inputs.hashes != hashes {
                return Err(ApiError::BadRequest(
                    "the result was computed on inputs other than the ones this job pinned".into(),
                ));
            }
            let mut wanted = inputs.metrics.clone();
            wanted.sort();
            if primary_metric != inputs.primary_metric || reported != wanted {
                return Err(ApiError::BadRequest(format!(
                    "the task asks for {} (primary {}); the result reports {} (primary {primary_metric})",
                    wanted.join(", "),
                    inputs.primary_metric,
                    reported.join(", ")
                )));
            }
            jobs::complete(conn, id, w.id, fence, result)
        })
        .await?;
    tracing::info!(job = job.id, metric = %post.primary_metric, value, "eval result published");
    Ok(HttpResponse::Ok().json(json!({"id": job.id, "status": job.status})))
}

/// Reports a failed attempt: retried with backoff when `retryable` and attempts remain, else the
/// job ends `failed` with the reason.
#[utoipa::path(post, path = "/api/evals/worker/jobs/{id}/fail", tag = "eval workers",
    params(("id" = i64, Path)),
    responses((status = 200, description = "recorded"), (status = 409, body = ErrorBody)))]
pub async fn post_failure(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<FailurePost>,
) -> ApiResult<HttpResponse> {
    let w = worker(&state, &req).await?;
    let id = job_id(&path.into_inner())?;
    let f = body.into_inner();
    let job = state
        .db
        .run(move |conn| jobs::fail(conn, id, w.id, f.fence, &f.reason, f.retryable))
        .await?;
    tracing::warn!(job = job.id, status = %job.status, error = ?job.error, "eval attempt failed");
    Ok(HttpResponse::Ok().json(json!({"id": job.id, "status": job.status})))
}
