-- Eval jobs, their workers and results.
-- Eval workers: machines that claim jobs with their own token (stored only as a sha256 hash).
CREATE TABLE eval_workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP,
    revoked_at TIMESTAMP
);

-- One eval of a model commit on a task commit. `run` 0 is the submission (one per model commit
-- per task commit); re-runs count up from 1. `fence` grows with every claim: a worker may publish
-- only with the fence of the lease it holds, so an expired lease can never publish.
CREATE TABLE eval_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    model_commit TEXT NOT NULL,
    task_repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    task_commit TEXT NOT NULL,
    run INTEGER NOT NULL,
    task_name TEXT NOT NULL,
    task_hash TEXT NOT NULL,
    inputs TEXT NOT NULL,
    submitted_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    not_before TIMESTAMP NOT NULL,
    fence BIGINT NOT NULL,
    worker_id BIGINT REFERENCES eval_workers (id) ON DELETE SET NULL,
    exclude_worker_id BIGINT REFERENCES eval_workers (id) ON DELETE SET NULL,
    lease_expires_at TIMESTAMP,
    progress_done BIGINT NOT NULL,
    progress_total BIGINT NOT NULL,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (model_repo_id, model_commit, task_repo_id, task_commit, run)
);
CREATE INDEX eval_jobs_queue ON eval_jobs (status, not_before);
CREATE INDEX eval_jobs_task ON eval_jobs (task_repo_id, task_hash);

-- The one published result of a job: metrics, per-sample scores and what produced them.
CREATE TABLE eval_results (
    job_id BIGINT PRIMARY KEY NOT NULL REFERENCES eval_jobs (id) ON DELETE CASCADE,
    model_repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    model_commit TEXT NOT NULL,
    task_repo_id BIGINT NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    task_hash TEXT NOT NULL,
    run INTEGER NOT NULL,
    worker_id BIGINT,
    primary_metric TEXT NOT NULL,
    primary_value DOUBLE PRECISION NOT NULL,
    metrics TEXT NOT NULL,
    samples TEXT NOT NULL,
    provenance TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX eval_results_board ON eval_results (task_repo_id, task_hash, run);
CREATE INDEX eval_results_model ON eval_results (model_repo_id, model_commit);
