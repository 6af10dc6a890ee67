//! Eval jobs and leaderboards for people: submit a model commit to a task, watch the job, cancel
//! or re-run it, read per-sample scores, and read leaderboards (Grove's own shape and the Hub's
//! `GET /api/datasets/{repo}/leaderboard`). Site admins register workers here too.

use actix_web::{HttpRequest, HttpResponse, web};
use grove_eval_runner::spec::{self, higher_is_better};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::accounts::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::evals::leaderboard::{self, Filters, SuiteTask};
use crate::evals::{RepoCache, inputs, job_view, jobs, results, visible_job, workers};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::repo_lookup::load_repo;
use crate::repos::access::{Viewer, authorize};
use crate::repos::model::{OwnedRepo, find_repo};
use crate::repos::{RepoAction, RepoKind, files};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubmitRequest {
    /// The model repo id, `owner/name`.
    model: String,
    /// Branch, tag or commit of the model; its default branch when absent.
    revision: Option<String>,
    /// The task dataset repo id, `owner/name`.
    task: String,
    task_revision: Option<String>,
}

fn split_id(raw: &str, what: &str) -> ApiResult<(String, String)> {
    match raw.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => {
            Ok((o.to_string(), n.to_string()))
        }
        _ => Err(ApiError::BadRequest(format!(
            "{what} must be a repo id like owner/name, got {raw:?}"
        ))),
    }
}

fn job_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no eval job {raw}")))
}

/// Submits a model commit to a task. One submission per model commit per task commit: a
/// duplicate answers 200 with the existing job instead of 201 (a failed or cancelled one is
/// queued again).
#[utoipa::path(post, path = "/api/evals/jobs", tag = "evals", request_body = SubmitRequest,
    responses((status = 201, description = "the new job"), (status = 200, description = "the existing job"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_job(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SubmitRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (view, created) = submit(
        &state,
        &caller,
        &body.model,
        body.revision,
        &body.task,
        body.task_revision,
    )
    .await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(view))
}

/// Submits `model` (at `revision`) to `task` for the caller; the job view and whether it is new.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    model: &str,
    revision: Option<String>,
    task: &str,
    task_revision: Option<String>,
) -> ApiResult<(Value, bool)> {
    let principal = caller.require(Access::Write)?.clone();
    let (mo, mn) = split_id(model, "model")?;
    let (to, tn) = split_id(task, "task")?;
    let model = load_repo(state, caller, RepoKind::Model, mo, mn, RepoAction::Read).await?;
    let task = load_repo(state, caller, RepoKind::Dataset, to, tn, RepoAction::Read).await?;
    let git = state.git.clone();
    let (m, t) = (model.clone(), task.clone());
    let (model_commit, task_commit, spec, inputs) = state
        .blocking(move || {
            let mg = files::open(&git, &m)?;
            let tg = files::open(&git, &t)?;
            let mc = files::resolve(&mg, revision.as_deref().unwrap_or(&m.repo.default_branch))?;
            let tc = files::resolve(
                &tg,
                task_revision.as_deref().unwrap_or(&t.repo.default_branch),
            )?;
            let (spec, inputs) = inputs::job_inputs(&mg, &mc, &tg, &tc)?;
            Ok((mc.to_string(), tc.to_string(), spec, inputs))
        })
        .await?;
    let new = jobs::NewJob {
        model_repo_id: model.repo.id,
        model_commit,
        task_repo_id: task.repo.id,
        task_commit,
        run: 0,
        task_name: spec.name.clone(),
        task_hash: inputs.hashes.task.clone(),
        inputs: serde_json::to_string(&inputs).map_err(ApiError::internal)?,
        submitted_by: Some(principal.user.id),
        exclude_worker_id: None,
    };
    state
        .db
        .run(move |conn| {
            let (mut job, created) = jobs::insert(conn, new)?;
            // Submitting again after a failure or a cancellation runs it again.
            if !created && matches!(job.status.as_str(), "failed" | "cancelled") {
                job = jobs::requeue(conn, job.id)?;
            }
            Ok((job_view(conn, &job, &model, &task)?, created))
        })
        .await
}

/// Jobs the caller may see, newest first; filter by `model`, `task` (repo ids) and `status`.
#[utoipa::path(get, path = "/api/evals/jobs", tag = "evals",
    params(("model" = Option<String>, Query), ("task" = Option<String>, Query),
           ("status" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "jobs"), (status = 400, body = ErrorBody)))]
pub async fn list_jobs(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = QueryParams::of(&req);
    if let Some(k) = q
        .keys()
        .into_iter()
        .find(|k| !matches!(*k, "model" | "task" | "status" | "limit"))
    {
        return Err(ApiError::BadRequest(format!("unknown parameter {k:?}")));
    }
    let status = q.get("status").map(str::to_string);
    if let Some(s) = &status
        && !matches!(
            s.as_str(),
            "queued" | "running" | "finished" | "failed" | "cancelled"
        )
    {
        return Err(ApiError::BadRequest(format!(
            "status {s:?}: use queued, running, finished, failed or cancelled"
        )));
    }
    let limit = match q.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::BadRequest("limit must be from 1 to 1000".into()))?,
    };
    let model = q.get("model").map(|m| split_id(m, "model")).transpose()?;
    let task = q.get("task").map(|t| split_id(t, "task")).transpose()?;
    let principal = caller.0.clone();
    let out = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let mut filter = jobs::JobFilter {
                status,
                limit,
                ..Default::default()
            };
            let mut lookup = |kind, owner: &str, name: &str| -> ApiResult<Option<i64>> {
                Ok(find_repo(conn, kind, owner, name)?
                    .filter(|r| viewer.can_see(r.repo.owner_id, r.repo.private))
                    .map(|r| r.repo.id))
            };
            if let Some((o, n)) = &model {
                match lookup(RepoKind::Model, o, n)? {
                    Some(id) => filter.model_repo_id = Some(id),
                    None => return Ok(Vec::new()),
                }
            }
            if let Some((o, n)) = &task {
                match lookup(RepoKind::Dataset, o, n)? {
                    Some(id) => filter.task_repo_id = Some(id),
                    None => return Ok(Vec::new()),
                }
            }
            let mut cache = RepoCache::default();
            let mut out = Vec::new();
            for job in jobs::list(conn, &filter)? {
                let (Some(m), Some(t)) = (
                    cache.visible(conn, &viewer, job.model_repo_id)?,
                    cache.visible(conn, &viewer, job.task_repo_id)?,
                ) else {
                    continue;
                };
                out.push(job_view(conn, &job, &m, &t)?);
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// One job: status, progress, attempts, error, result with its provenance and reproductions.
#[utoipa::path(get, path = "/api/evals/jobs/{id}", tag = "evals", params(("id" = i64, Path)),
    responses((status = 200, description = "the job"), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = job_id(&path.into_inner())?;
    let principal = caller.0.clone();
    let view = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let (job, m, t) = visible_job(conn, &viewer, &mut RepoCache::default(), id)?;
            job_view(conn, &job, &m, &t)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The per-document scores of a finished job.
#[utoipa::path(get, path = "/api/evals/jobs/{id}/samples", tag = "evals", params(("id" = i64, Path)),
    responses((status = 200, description = "samples"), (status = 404, body = ErrorBody)))]
pub async fn get_job_samples(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = job_id(&path.into_inner())?;
    let principal = caller.0.clone();
    let samples = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            visible_job(conn, &viewer, &mut RepoCache::default(), id)?;
            results::samples_of(conn, id)?
                .ok_or_else(|| ApiError::NotFound(format!("eval job {id} has no result yet")))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(samples))
}

/// Cancels a queued or running job: its submitter, anyone with write access to the model, or a
/// site admin.
#[utoipa::path(post, path = "/api/evals/jobs/{id}/cancel", tag = "evals", params(("id" = i64, Path)),
    responses((status = 200, description = "the cancelled job"), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = job_id(&path.into_inner())?;
    let principal = caller.require(Access::Write)?.clone();
    let view = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, Some(&principal))?;
            let (job, m, t) = visible_job(conn, &viewer, &mut RepoCache::default(), id)?;
            if job.submitted_by != Some(principal.user.id) {
                authorize(conn, Some(&principal), &m, RepoAction::Write).map_err(|_| {
                    ApiError::Forbidden(
                        "only the submitter or the model's writers may cancel this job".into(),
                    )
                })?;
            }
            let job = jobs::cancel(conn, id)?;
            job_view(conn, &job, &m, &t)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Queues an independent re-run of a finished job on another worker; when it agrees the result
/// is marked reproduced. A re-run still pending is returned instead of a second one.
#[utoipa::path(post, path = "/api/evals/jobs/{id}/rerun", tag = "evals", params(("id" = i64, Path)),
    responses((status = 201, description = "the re-run job"), (status = 200, description = "a pending re-run"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rerun_job(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = job_id(&path.into_inner())?;
    let principal = caller.require(Access::Write)?.clone();
    let (view, created) = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, Some(&principal))?;
            let (job, m, t) = visible_job(conn, &viewer, &mut RepoCache::default(), id)?;
            let Some(result) = results::of_job(conn, id)? else {
                return Err(ApiError::Conflict(format!(
                    "eval job {id} has no result to reproduce ({})",
                    job.status
                )));
            };
            let (next, pending) = jobs::pending_rerun(conn, &job)?;
            if let Some(p) = pending {
                return Ok((job_view(conn, &p, &m, &t)?, false));
            }
            let (rerun, created) = jobs::insert(
                conn,
                jobs::NewJob {
                    model_repo_id: job.model_repo_id,
                    model_commit: job.model_commit.clone(),
                    task_repo_id: job.task_repo_id,
                    task_commit: job.task_commit.clone(),
                    run: next,
                    task_name: job.task_name.clone(),
                    task_hash: job.task_hash.clone(),
                    inputs: job.inputs.clone(),
                    submitted_by: Some(principal.user.id),
                    exclude_worker_id: result.worker_id,
                },
            )?;
            Ok((job_view(conn, &rerun, &m, &t)?, created))
        })
        .await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(view))
}

fn filters(q: &QueryParams) -> ApiResult<Filters> {
    const KNOWN: [&str; 8] = [
        "metric",
        "exclude_relation",
        "min_params",
        "max_params",
        "license",
        "precision",
        "family",
        "revision",
    ];
    if let Some(k) = q
        .keys()
        .into_iter()
        .find(|k| !KNOWN.contains(k) && *k != "base_model")
    {
        return Err(ApiError::BadRequest(format!("unknown parameter {k:?}")));
    }
    let int = |key: &str| -> ApiResult<Option<i64>> {
        q.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::BadRequest(format!("{key} must be an integer")))
            })
            .transpose()
    };
    let mut exclude = Vec::new();
    for raw in q.all("exclude_relation") {
        for r in raw.split(',').filter(|r| !r.is_empty()) {
            let rel = grove_lineage::relation::Relation::parse(r)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown relation {r:?}")))?;
            exclude.push(rel.as_str().to_string());
        }
    }
    Ok(Filters {
        metric: q.get("metric").map(str::to_string),
        exclude_relations: exclude,
        min_params: int("min_params")?,
        max_params: int("max_params")?,
        license: q.get("license").map(str::to_string),
        precision: q.get("precision").map(str::to_string),
        family: None,
    })
}

/// A built board: Grove's JSON, and the task/suite it is for.
struct Board {
    body: Value,
    rows: Vec<Value>,
}

async fn build_board(
    state: &AppState,
    caller: &Caller,
    owner: String,
    name: String,
    q: &QueryParams,
) -> ApiResult<Board> {
    let mut f = filters(q)?;
    let dataset = load_repo(
        state,
        caller,
        RepoKind::Dataset,
        owner,
        name,
        RepoAction::Read,
    )
    .await?;
    let revision = q.get("revision").map(str::to_string);
    let family = q.get("family").map(|f| split_id(f, "family")).transpose()?;
    let principal = caller.0.clone();
    let git = state.git.clone();
    let db = state.db.clone();
    state
        .blocking(move || {
            let mut conn = db.get()?;
            let conn = &mut conn;
            let viewer = Viewer::load(conn, principal.as_ref())?;
            if let Some((o, n)) = &family {
                let fam = find_repo(conn, RepoKind::Model, o, n)?
                    .filter(|r| viewer.can_see(r.repo.owner_id, r.repo.private))
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!("family {o}/{n}: no such model"))
                    })?;
                f.family = Some(fam.repo.id);
            }
            let mut cache = RepoCache::default();
            let dg = files::open(&git, &dataset)?;
            let commit = files::resolve(
                &dg,
                revision.as_deref().unwrap_or(&dataset.repo.default_branch),
            )?;
            let listing = files::files(&dg, &commit)?;
            let is_suite = listing.iter().any(|e| e.path == spec::SUITE_FILE)
                && !listing.iter().any(|e| e.path == spec::TASK_FILE);
            if !is_suite {
                let (task, hash) = inputs::task_identity(&dg, &commit)?;
                let metric = leaderboard::chosen_metric(&f, &task.primary_metric, &task.metrics)?;
                let entries = leaderboard::entries(
                    conn,
                    &viewer,
                    &mut cache,
                    dataset.repo.id,
                    &hash,
                    &metric,
                )?;
                let rows = leaderboard::task_board(entries, &f, &metric);
                let body = json!({
                    "kind": "task",
                    "task": dataset.id(),
                    "taskCommit": commit.to_string(),
                    "taskHash": hash,
                    "spec": task.summary(),
                    "metric": metric,
                    "higherIsBetter": higher_is_better(&metric),
                    "rows": rows,
                });
                return Ok(Board { rows, body });
            }
            let suite = inputs::suite_spec(&dg, &commit)?;
            let mut tasks = Vec::new();
            let mut missing = Vec::new();
            for id in &suite.tasks {
                let (o, n) = split_id(id, "suite task")?;
                let Some(task_repo) = find_repo(conn, RepoKind::Dataset, &o, &n)?
                    .filter(|r| viewer.can_see(r.repo.owner_id, r.repo.private))
                else {
                    missing.push(id.clone());
                    continue;
                };
                let tg = files::open(&git, &task_repo)?;
                let tc = files::resolve(&tg, &task_repo.repo.default_branch)?;
                let (task, hash) = inputs::task_identity(&tg, &tc)?;
                let entries = leaderboard::entries(
                    conn,
                    &viewer,
                    &mut cache,
                    task_repo.repo.id,
                    &hash,
                    &task.primary_metric,
                )?;
                tasks.push(SuiteTask {
                    id: task_repo.id(),
                    entries,
                });
            }
            let task_ids: Vec<String> = tasks.iter().map(|t| t.id.clone()).collect();
            let rows = leaderboard::suite_board(tasks, &f);
            let body = json!({
                "kind": "suite",
                "suite": dataset.id(),
                "name": suite.name,
                "tasks": task_ids,
                "unavailableTasks": missing,
                "metric": "average normalized score",
                "higherIsBetter": true,
                "rows": rows,
            });
            Ok(Board { rows, body })
        })
        .await
}

/// The board as Grove's JSON (for the web UI's leaderboard page too).
pub async fn board_json(
    state: &AppState,
    caller: &Caller,
    owner: String,
    name: String,
    q: &QueryParams,
) -> ApiResult<Value> {
    Ok(build_board(state, caller, owner, name, q).await?.body)
}

/// A task's or suite's leaderboard with intervals, interval-respecting ranks, lineage columns
/// and filters.
#[utoipa::path(get, path = "/api/evals/leaderboards/{owner}/{name}", tag = "evals",
    params(("owner" = String, Path), ("name" = String, Path),
           ("metric" = Option<String>, Query), ("exclude_relation" = Option<String>, Query, description = "e.g. merge; repeatable"),
           ("min_params" = Option<i64>, Query), ("max_params" = Option<i64>, Query),
           ("license" = Option<String>, Query), ("precision" = Option<String>, Query, description = "weights dtype, e.g. F32"),
           ("family" = Option<String>, Query, description = "root model of a family"), ("revision" = Option<String>, Query)),
    responses((status = 200, description = "the board"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_leaderboard(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let board = build_board(&state, &caller, owner, name, &QueryParams::of(&req)).await?;
    Ok(HttpResponse::Ok().json(board.body))
}

/// The Hub's leaderboard shape for a task dataset (`get_dataset_leaderboard`).
#[utoipa::path(get, path = "/api/datasets/{owner}/{name}/leaderboard", tag = "evals",
    params(("owner" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "entries"), (status = 404, body = ErrorBody)))]
pub async fn get_dataset_leaderboard(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (owner, name) = path.into_inner();
    let q = QueryParams::of(&req);
    // As on the Hub, the default view lists only models that declare no parent.
    let base_only = match q.get("base_model").map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "base_model must be true or false, got {other:?}"
            )));
        }
    };
    let board = build_board(&state, &caller, owner, name, &q).await?;
    let out: Vec<Value> = board
        .rows
        .iter()
        .filter(|r| !base_only || r["relation"].is_null())
        .map(|r| {
            let model = r["model"].as_str().unwrap_or_default();
            let author = model.split('/').next().unwrap_or_default();
            json!({
                "rank": r["rank"],
                "modelId": model,
                "value": r.get("value").or_else(|| r.get("average")),
                "filename": format!("eval-jobs/{}", r["jobId"]),
                "verified": r["reproduction"] == json!("reproduced"),
                "source": {"name": "Grove eval", "url": format!("{}/api/evals/jobs/{}", state.public_url, r["jobId"])},
                "author": {"type": r["authorType"], "name": author},
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `model_info(expand=["evalResults"])`: the model's newest result per task it was evaluated
/// on, tasks the caller cannot see left out.
pub fn eval_results_field(
    conn: &mut crate::db::DbConn,
    viewer: &Viewer,
    model: &OwnedRepo,
) -> ApiResult<Vec<Value>> {
    let mut cache = RepoCache::default();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in results::of_model(conn, model.repo.id)? {
        let Some(task) = cache.visible(conn, viewer, r.task_repo_id)? else {
            continue;
        };
        if !seen.insert((r.task_repo_id, r.task_hash.clone())) {
            continue;
        }
        let Some(job) = jobs::get(conn, r.job_id)? else {
            continue;
        };
        out.push(json!({
            "dataset": {"id": task.id(), "task_id": job.task_name, "revision": job.task_commit},
            "value": r.primary_value,
            "date": crate::time::wire(r.created_at),
            "source": {"name": "Grove eval", "url": format!("eval-jobs/{}", r.job_id)},
            "notes": format!("{} at model commit {}", r.primary_metric, r.model_commit),
        }));
    }
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkerRequest {
    name: String,
}

fn require_site_admin(caller: &Caller) -> ApiResult<crate::accounts::Principal> {
    let p = caller.require(Access::Admin)?;
    if !p.user.is_admin {
        return Err(ApiError::Forbidden(
            "only site admins manage eval workers".into(),
        ));
    }
    Ok(p.clone())
}

/// Registers an eval worker and returns its token (shown once). Site admins only.
#[utoipa::path(post, path = "/api/evals/workers", tag = "evals", request_body = CreateWorkerRequest,
    responses((status = 201, description = "name and token"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_worker(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateWorkerRequest>,
) -> ApiResult<HttpResponse> {
    let p = require_site_admin(&caller)?;
    let name = body.into_inner().name;
    let (worker, token) = state
        .db
        .run(move |conn| workers::create(conn, &name, Some(p.user.id)))
        .await?;
    Ok(HttpResponse::Created().json(json!({"name": worker.name, "token": token})))
}

/// Registered workers (never their tokens). Site admins only.
#[utoipa::path(get, path = "/api/evals/workers", tag = "evals",
    responses((status = 200, description = "workers"), (status = 403, body = ErrorBody)))]
pub async fn list_workers(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    require_site_admin(&caller)?;
    let list = state.db.run(workers::list).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(|w| w.info()).collect::<Vec<_>>()))
}

/// Revokes a worker's token. Site admins only.
#[utoipa::path(delete, path = "/api/evals/workers/{name}", tag = "evals", params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_worker(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let p = require_site_admin(&caller)?;
    let name = path.into_inner();
    state
        .db
        .run(move |conn| workers::revoke(conn, &name, p.user.id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
