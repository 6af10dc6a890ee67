//! The eval job queue, in the database so no crash loses a job and any number of workers share
//! it.
//!
//! - A claim takes the oldest claimable job — queued and past its backoff, or running with an
//!   expired lease — moves it to `running`, counts the attempt, sets a lease and increments the
//!   **fence**. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite's `BEGIN IMMEDIATE`
//!   already makes the claim the only writer.
//! - Every later call of the worker names the fence; it is honoured only while the job is running
//!   under that fence, held by that worker, with an unexpired lease. So a worker whose lease
//!   expired (even if nobody re-claimed the job yet) can never publish, and each job has exactly
//!   one published result (also enforced by the result's primary key).
//! - A retryable failure goes back to the queue with exponential backoff; the last attempt, a
//!   non-retryable failure, or a lease that expires on the last attempt ends the job as `failed`
//!   with the reason.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{eval_jobs, eval_results};
use crate::error::{ApiError, ApiResult};
use crate::time::now;
use crate::with_conn;

pub const MAX_ATTEMPTS: i32 = 3;
const BACKOFF_BASE_SECS: i64 = 5;
const BACKOFF_MAX_SECS: i64 = 300;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = eval_jobs)]
pub struct Job {
    pub id: i64,
    pub model_repo_id: i64,
    pub model_commit: String,
    pub task_repo_id: i64,
    pub task_commit: String,
    pub run: i32,
    pub task_name: String,
    pub task_hash: String,
    pub inputs: String,
    pub submitted_by: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub not_before: NaiveDateTime,
    pub fence: i64,
    pub worker_id: Option<i64>,
    pub exclude_worker_id: Option<i64>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

/// What a submission or a re-run inserts.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub model_repo_id: i64,
    pub model_commit: String,
    pub task_repo_id: i64,
    pub task_commit: String,
    pub run: i32,
    pub task_name: String,
    pub task_hash: String,
    pub inputs: String,
    pub submitted_by: Option<i64>,
    pub exclude_worker_id: Option<i64>,
}

pub fn get(conn: &mut DbConn, id: i64) -> ApiResult<Option<Job>> {
    Ok(with_conn!(conn, |c| eval_jobs::table
        .find(id)
        .select(Job::as_select())
        .first(c)
        .optional())?)
}

fn find_run(conn: &mut DbConn, new: &NewJob) -> ApiResult<Option<Job>> {
    Ok(with_conn!(conn, |c| eval_jobs::table
        .filter(eval_jobs::model_repo_id.eq(new.model_repo_id))
        .filter(eval_jobs::model_commit.eq(&new.model_commit))
        .filter(eval_jobs::task_repo_id.eq(new.task_repo_id))
        .filter(eval_jobs::task_commit.eq(&new.task_commit))
        .filter(eval_jobs::run.eq(new.run))
        .select(Job::as_select())
        .first(c)
        .optional())?)
}

/// Inserts the job unless that run exists; returns the job and whether it is new.
pub fn insert(conn: &mut DbConn, new: NewJob) -> ApiResult<(Job, bool)> {
    let t = now();
    let n = with_conn!(conn, |c| diesel::insert_into(eval_jobs::table)
        .values((
            eval_jobs::model_repo_id.eq(new.model_repo_id),
            eval_jobs::model_commit.eq(&new.model_commit),
            eval_jobs::task_repo_id.eq(new.task_repo_id),
            eval_jobs::task_commit.eq(&new.task_commit),
            eval_jobs::run.eq(new.run),
            eval_jobs::task_name.eq(&new.task_name),
            eval_jobs::task_hash.eq(&new.task_hash),
            eval_jobs::inputs.eq(&new.inputs),
            eval_jobs::submitted_by.eq(new.submitted_by),
            eval_jobs::status.eq("queued"),
            eval_jobs::attempts.eq(0),
            eval_jobs::max_attempts.eq(MAX_ATTEMPTS),
            eval_jobs::not_before.eq(t),
            eval_jobs::fence.eq(0i64),
            eval_jobs::exclude_worker_id.eq(new.exclude_worker_id),
            eval_jobs::progress_done.eq(0i64),
            eval_jobs::progress_total.eq(0i64),
            eval_jobs::created_at.eq(t),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    let job = find_run(conn, &new)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("an inserted eval job is missing")))?;
    Ok((job, n == 1))
}

/// Puts a failed or cancelled job back in the queue with fresh attempts (a resubmission).
pub fn requeue(conn: &mut DbConn, id: i64) -> ApiResult<Job> {
    conn.transaction(|conn| {
        let job = lock(conn, id)?;
        if !matches!(job.status.as_str(), "failed" | "cancelled") {
            return Ok(job);
        }
        Ok(with_conn!(conn, |c| diesel::update(
            eval_jobs::table.find(id)
        )
        .set((
            eval_jobs::status.eq("queued"),
            eval_jobs::attempts.eq(0),
            eval_jobs::not_before.eq(now()),
            eval_jobs::worker_id.eq(None::<i64>),
            eval_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
            eval_jobs::progress_done.eq(0i64),
            eval_jobs::progress_total.eq(0i64),
            eval_jobs::error.eq(None::<String>),
            eval_jobs::finished_at.eq(None::<NaiveDateTime>),
        ))
        .returning(Job::as_returning())
        .get_result(c))?)
    })
}

/// The next run number for the job's (model commit, task commit), and any re-run still pending.
pub fn pending_rerun(conn: &mut DbConn, job: &Job) -> ApiResult<(i32, Option<Job>)> {
    let runs: Vec<Job> = with_conn!(conn, |c| eval_jobs::table
        .filter(eval_jobs::model_repo_id.eq(job.model_repo_id))
        .filter(eval_jobs::model_commit.eq(&job.model_commit))
        .filter(eval_jobs::task_repo_id.eq(job.task_repo_id))
        .filter(eval_jobs::task_commit.eq(&job.task_commit))
        .select(Job::as_select())
        .load(c))?;
    let next = runs.iter().map(|j| j.run).max().unwrap_or(0) + 1;
    let pending = runs
        .into_iter()
        .find(|j| j.run > 0 && matches!(j.status.as_str(), "queued" | "running"));
    Ok((next, pending))
}

/// Claims the oldest claimable job for `worker_id`.
pub fn claim(conn: &mut DbConn, worker_id: i64, lease: Duration) -> ApiResult<Option<Job>> {
    conn.transaction(|conn| {
        let t = now();
        // A lease that expired on the job's last attempt ends it.
        with_conn!(conn, |c| diesel::update(
            eval_jobs::table
                .filter(eval_jobs::status.eq("running"))
                .filter(eval_jobs::lease_expires_at.lt(t))
                .filter(eval_jobs::attempts.ge(eval_jobs::max_attempts))
        )
        .set((
            eval_jobs::status.eq("failed"),
            eval_jobs::error.eq("the worker stopped reporting progress on the last attempt"),
            eval_jobs::finished_at.eq(t),
            eval_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c))?;
        macro_rules! claimable {
            () => {
                eval_jobs::table
                    .filter(
                        eval_jobs::status
                            .eq("queued")
                            .and(eval_jobs::not_before.le(t))
                            .nullable()
                            .or(eval_jobs::status
                                .eq("running")
                                .nullable()
                                .and(eval_jobs::lease_expires_at.lt(t))),
                    )
                    .filter(
                        eval_jobs::exclude_worker_id
                            .is_null()
                            .or(eval_jobs::exclude_worker_id.ne(worker_id)),
                    )
                    .order((eval_jobs::created_at.asc(), eval_jobs::id.asc()))
                    .select(Job::as_select())
            };
        }
        let candidate: Option<Job> = match conn {
            DbConn::Postgres(c) => claimable!()
                .for_update()
                .skip_locked()
                .first(&mut **c)
                .optional()?,
            DbConn::Sqlite(c) => claimable!().first(&mut **c).optional()?,
        };
        let Some(job) = candidate else {
            return Ok(None);
        };
        let claimed: Job = with_conn!(conn, |c| diesel::update(
            eval_jobs::table
                .find(job.id)
                .filter(eval_jobs::fence.eq(job.fence))
        )
        .set((
            eval_jobs::status.eq("running"),
            eval_jobs::attempts.eq(job.attempts + 1),
            eval_jobs::fence.eq(job.fence + 1),
            eval_jobs::worker_id.eq(worker_id),
            eval_jobs::lease_expires_at.eq(t + lease),
            eval_jobs::started_at.eq(t),
            eval_jobs::progress_done.eq(0i64),
            eval_jobs::progress_total.eq(0i64),
        ))
        .returning(Job::as_returning())
        .get_result(c))?;
        Ok(Some(claimed))
    })
}

/// Why a call with `fence` from `worker_id` is not honoured (`None`: it is).
fn lease_problem(job: &Job, worker_id: i64, fence: i64, t: NaiveDateTime) -> Option<String> {
    if job.status != "running" {
        return Some(format!("the job is {}", job.status));
    }
    if job.fence != fence || job.worker_id != Some(worker_id) {
        return Some("stale fencing token: this job has been claimed again since".into());
    }
    if job.lease_expires_at.is_none_or(|e| e < t) {
        return Some("the lease expired: the job will be given to another worker".into());
    }
    None
}

/// Reads the job for an update inside a transaction: on PostgreSQL the row is locked
/// (`FOR UPDATE`) so no other transition can interleave between the check and the write; SQLite's
/// `BEGIN IMMEDIATE` already makes the transaction the only writer.
fn lock(conn: &mut DbConn, id: i64) -> ApiResult<Job> {
    let job: Option<Job> = match conn {
        DbConn::Postgres(c) => eval_jobs::table
            .find(id)
            .select(Job::as_select())
            .for_update()
            .first(&mut **c)
            .optional()?,
        DbConn::Sqlite(c) => eval_jobs::table
            .find(id)
            .select(Job::as_select())
            .first(&mut **c)
            .optional()?,
    };
    job.ok_or_else(|| ApiError::NotFound(format!("no eval job {id}")))
}

/// Locks the job for an update by its lease holder, or answers 409 with the reason.
fn held(conn: &mut DbConn, id: i64, worker_id: i64, fence: i64) -> ApiResult<Job> {
    let job = lock(conn, id)?;
    match lease_problem(&job, worker_id, fence, now()) {
        Some(reason) => Err(ApiError::Conflict(reason)),
        None => Ok(job),
    }
}

/// Extends the lease, recording progress `(done, total)` when given.
pub fn heartbeat(
    conn: &mut DbConn,
    id: i64,
    worker_id: i64,
    fence: i64,
    progress: Option<(u64, u64)>,
    lease: Duration,
) -> ApiResult<Job> {
    conn.transaction(|conn| {
        let job = held(conn, id, worker_id, fence)?;
        let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
        let (done, total) = progress.map_or((job.progress_done, job.progress_total), |(d, t)| {
            (clamp(d), clamp(t))
        });
        Ok(with_conn!(conn, |c| diesel::update(
            eval_jobs::table.find(id)
        )
        .set((
            eval_jobs::lease_expires_at.eq(now() + lease),
            eval_jobs::progress_done.eq(done),
            eval_jobs::progress_total.eq(total),
        ))
        .returning(Job::as_returning())
        .get_result(c))?)
    })
}

/// The values of a published result row.
#[derive(Debug, Clone)]
pub struct NewResult {
    pub primary_metric: String,
    pub primary_value: f64,
    pub metrics: String,
    pub samples: String,
    pub provenance: String,
}

/// Publishes the result and finishes the job, atomically, if the caller still holds the lease.
pub fn complete(
    conn: &mut DbConn,
    id: i64,
    worker_id: i64,
    fence: i64,
    result: NewResult,
) -> ApiResult<Job> {
    conn.transaction(|conn| {
        let job = held(conn, id, worker_id, fence)?;
        let t = now();
        with_conn!(conn, |c| diesel::insert_into(eval_results::table)
            .values((
                eval_results::job_id.eq(id),
                eval_results::model_repo_id.eq(job.model_repo_id),
                eval_results::model_commit.eq(&job.model_commit),
                eval_results::task_repo_id.eq(job.task_repo_id),
                eval_results::task_hash.eq(&job.task_hash),
                eval_results::run.eq(job.run),
                eval_results::worker_id.eq(worker_id),
                eval_results::primary_metric.eq(&result.primary_metric),
                eval_results::primary_value.eq(result.primary_value),
                eval_results::metrics.eq(&result.metrics),
                eval_results::samples.eq(&result.samples),
                eval_results::provenance.eq(&result.provenance),
                eval_results::created_at.eq(t),
            ))
            .execute(c))?;
        Ok(with_conn!(conn, |c| diesel::update(
            eval_jobs::table.find(id)
        )
        .set((
            eval_jobs::status.eq("finished"),
            eval_jobs::finished_at.eq(t),
            eval_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
            eval_jobs::progress_done.eq(eval_jobs::progress_total),
            eval_jobs::error.eq(None::<String>),
        ))
        .returning(Job::as_returning())
        .get_result(c))?)
    })
}

/// Records a failure: back to the queue with backoff when it may help, else `failed`.
pub fn fail(
    conn: &mut DbConn,
    id: i64,
    worker_id: i64,
    fence: i64,
    reason: &str,
    retryable: bool,
) -> ApiResult<Job> {
    conn.transaction(|conn| {
        let job = held(conn, id, worker_id, fence)?;
        let t = now();
        let reason: String = reason.chars().take(2000).collect();
        let retry = retryable && job.attempts < job.max_attempts;
        let job = if retry {
            let backoff =
                (BACKOFF_BASE_SECS << (job.attempts - 1).clamp(0, 10)).min(BACKOFF_MAX_SECS);
            with_conn!(conn, |c| diesel::update(eval_jobs::table.find(id))
                .set((
                    eval_jobs::status.eq("queued"),
                    eval_jobs::not_before.eq(t + Duration::seconds(backoff)),
                    eval_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                    eval_jobs::error.eq(format!("attempt {} failed: {reason}", job.attempts)),
                ))
                .returning(Job::as_returning())
                .get_result(c))?
        } else {
            with_conn!(conn, |c| diesel::update(eval_jobs::table.find(id))
                .set((
                    eval_jobs::status.eq("failed"),
                    eval_jobs::finished_at.eq(t),
                    eval_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                    eval_jobs::error.eq(&reason),
                ))
                .returning(Job::as_returning())
                .get_result(c))?
        };
        Ok(job)
    })
}

/// Cancels a job that has not ended; its worker learns at its next heartbeat.
pub fn cancel(conn: &mut DbConn, id: i64) -> ApiResult<Job> {
    conn.transaction(|conn| {
        let job = lock(conn, id)?;
        if !matches!(job.status.as_str(), "queued" | "running") {
            return Err(ApiError::Conflict(format!(
                "the job is already {}",
                job.status
            )));
        }
        Ok(with_conn!(conn, |c| diesel::update(
            eval_jobs::table.find(id)
        )
        .set((
            eval_jobs::status.eq("cancelled"),
            eval_jobs::finished_at.eq(now()),
            eval_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .returning(Job::as_returning())
        .get_result(c))?)
    })
}

/// Filters for listing jobs.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub model_repo_id: Option<i64>,
    pub task_repo_id: Option<i64>,
    pub status: Option<String>,
    pub limit: i64,
}

/// Jobs newest first.
pub fn list(conn: &mut DbConn, f: &JobFilter) -> ApiResult<Vec<Job>> {
    Ok(with_conn!(conn, |c| {
        let mut q = eval_jobs::table.select(Job::as_select()).into_boxed();
        if let Some(id) = f.model_repo_id {
            q = q.filter(eval_jobs::model_repo_id.eq(id));
        }
        if let Some(id) = f.task_repo_id {
            q = q.filter(eval_jobs::task_repo_id.eq(id));
        }
        if let Some(s) = &f.status {
            q = q.filter(eval_jobs::status.eq(s.clone()));
        }
        q.order(eval_jobs::id.desc()).limit(f.limit).load(c)
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: &str, fence: i64, worker: Option<i64>, lease_in: i64) -> Job {
        let t = now();
        Job {
            id: 1,
            model_repo_id: 1,
            model_commit: "c".into(),
            task_repo_id: 2,
            task_commit: "t".into(),
            run: 0,
            task_name: "x".into(),
            task_hash: "h".into(),
            inputs: "{}".into(),
            submitted_by: None,
            status: status.into(),
            attempts: 1,
            max_attempts: 3,
            not_before: t,
            fence,
            worker_id: worker,
            exclude_worker_id: None,
            lease_expires_at: Some(t + Duration::seconds(lease_in)),
            progress_done: 0,
            progress_total: 0,
            error: None,
            created_at: t,
            started_at: Some(t),
            finished_at: None,
        }
    }

    #[test]
    fn only_the_current_live_lease_is_honoured() {
        let t = now();
        assert_eq!(
            lease_problem(&job("running", 2, Some(7), 30), 7, 2, t),
            None
        );
        assert!(
            lease_problem(&job("running", 3, Some(8), 30), 7, 2, t)
                .unwrap()
                .contains("stale")
        );
        assert!(
            lease_problem(&job("running", 2, Some(7), -1), 7, 2, t)
                .unwrap()
                .contains("expired")
        );
        assert!(
            lease_problem(&job("cancelled", 2, Some(7), 30), 7, 2, t)
                .unwrap()
                .contains("cancelled")
        );
    }
}
