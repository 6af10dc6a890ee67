//! The worker loop: claim a job, fetch its pinned inputs into a content-addressed cache, score,
//! publish. A heartbeat thread keeps the lease alive with the latest progress; if the hub says
//! the lease is gone (expired, re-claimed, cancelled) the scoring stops at the next batch and
//! nothing is published.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use candle_core::DType;

use super::client::{HubClient, HubError};
use crate::engine::evaluate::evaluate;
use crate::engine::load::load_model;
use crate::metrics::{BOOTSTRAP_ITERS, BOOTSTRAP_SEED};
use crate::protocol::{ClaimedJob, FailurePost, Heartbeat, Provenance, ResultPost, Source};
use crate::requests::{prepare, read_jsonl};
use crate::spec::{TASK_FILE, parse_task};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub cache_dir: PathBuf,
    pub device: candle_core::Device,
    pub device_name: String,
    pub dtype: DType,
    pub batch_tokens: usize,
    /// Sleep after each batch (simulates a slow device in tests and demos).
    pub throttle: Duration,
}

/// How an attempt ended badly.
#[derive(Debug, thiserror::Error)]
enum JobError {
    /// Running again cannot help: the job fails with this reason.
    #[error("{0}")]
    Input(String),
    /// Might work next time (network, disk).
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    LeaseLost(String),
}

impl From<HubError> for JobError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::LeaseLost(m) => JobError::LeaseLost(m),
            HubError::Other(e) => JobError::Transient(format!("{e:#}")),
        }
    }
}

fn input_err(e: impl std::fmt::Display) -> JobError {
    JobError::Input(e.to_string())
}

/// Shared between the scoring thread and the heartbeat thread.
#[derive(Default)]
struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    finished: AtomicBool,
    lost: Mutex<Option<String>>,
}

fn heartbeats(
    client: HubClient,
    job: ClaimedJob,
    progress: Arc<Progress>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let every = Duration::from_millis((job.lease_seconds * 1000 / 3).max(500));
        let mut last = Instant::now();
        while !progress.finished.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() < every {
                continue;
            }
            last = Instant::now();
            let hb = Heartbeat {
                fence: job.fence,
                done: progress.done.load(Ordering::SeqCst),
                total: progress.total.load(Ordering::SeqCst),
            };
            match client.heartbeat(job.id, &hb) {
                Ok(()) => {}
                Err(HubError::LeaseLost(m)) => {
                    *progress.lost.lock().unwrap() = Some(m);
                    return;
                }
                // A missed heartbeat is retried; the lease has room for two.
                Err(HubError::Other(e)) => tracing::warn!(job = job.id, "heartbeat failed: {e:#}"),
            }
        }
    })
}

/// The content-addressed file for `sha256` in the cache, downloaded if missing.
fn fetch(
    client: &HubClient,
    job: &ClaimedJob,
    cache: &Path,
    file: &crate::protocol::InputFile,
) -> Result<PathBuf, JobError> {
    let blobs = cache.join("blobs");
    std::fs::create_dir_all(&blobs).map_err(|e| JobError::Transient(format!("cache: {e}")))?;
    let path = blobs.join(&file.sha256);
    if !path.exists() {
        client.download(job, file, &path)?;
    }
    Ok(path)
}

/// The dtypes the safetensors files store their tensors in, from their headers.
fn stored_dtypes(files: &[PathBuf]) -> String {
    let mut dtypes = std::collections::BTreeSet::new();
    for f in files {
        let header = (|| -> anyhow::Result<serde_json::Value> {
            use std::io::Read;
            let mut file = std::fs::File::open(f)?;
            let mut len = [0u8; 8];
            file.read_exact(&mut len)?;
            let n = u64::from_le_bytes(len).min(100 << 20) as usize;
            let mut buf = vec![0u8; n];
            file.read_exact(&mut buf)?;
            Ok(serde_json::from_slice(&buf)?)
        })();
        if let Ok(serde_json::Value::Object(map)) = header {
            for (k, v) in map {
                if k != "__metadata__"
                    && let Some(d) = v.get("dtype").and_then(|d| d.as_str())
                {
                    dtypes.insert(d.to_string());
                }
            }
        }
    }
    dtypes.into_iter().collect::<Vec<_>>().join("+")
}

fn attempt(
    client: &HubClient,
    job: &ClaimedJob,
    opts: &WorkerOptions,
    progress: &Progress,
) -> Result<ResultPost, JobError> {
    let started = Instant::now();
    let lost = || progress.lost.lock().unwrap().clone();
    // A private snapshot folder per claim: links into the shared cache, by the job's paths.
    let snap = opts
        .cache_dir
        .join("jobs")
        .join(format!("{}-{}", job.id, job.fence));
    let _ = std::fs::remove_dir_all(&snap);
    for file in &job.inputs.files {
        if let Some(m) = lost() {
            return Err(JobError::LeaseLost(m));
        }
        let blob = fetch(client, job, &opts.cache_dir, file)?;
        let side = match file.source {
            Source::Model => "model",
            Source::Task => "task",
        };
        let link = snap.join(side).join(&file.path);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent).map_err(|e| JobError::Transient(e.to_string()))?;
        }
        std::fs::hard_link(&blob, &link)
            .or_else(|_| std::fs::copy(&blob, &link).map(|_| ()))
            .map_err(|e| JobError::Transient(e.to_string()))?;
    }
    let task_dir = snap.join("task");
    let read = |p: &str| {
        std::fs::read(task_dir.join(p)).map_err(|e| JobError::Transient(format!("{p}: {e}")))
    };
    let spec = parse_task(&String::from_utf8_lossy(&read(TASK_FILE)?))
        .map_err(|e| input_err(format!("malformed {TASK_FILE}: {e}")))?;
    let docs = read_jsonl(&read(&spec.data)?, &spec.data).map_err(input_err)?;
    let pool = match &spec.fewshot_data {
        Some(f) => Some(read_jsonl(&read(f)?, f).map_err(input_err)?),
        None => None,
    };
    let prepared = prepare(&spec, &docs, pool.as_deref()).map_err(input_err)?;
    let model_dir = snap.join("model");
    let weights: Vec<PathBuf> = job
        .inputs
        .weight_files
        .iter()
        .map(|w| model_dir.join(w))
        .collect();
    let model = load_model(
        &model_dir,
        &job.inputs.weight_files,
        spec.add_special_tokens,
        opts.dtype,
        &opts.device,
    )
    .map_err(|e| input_err(format!("{e:#}")))?;
    let run = evaluate(
        &model,
        &spec,
        &prepared,
        opts.batch_tokens,
        |done, total| {
            progress.done.store(done as u64, Ordering::SeqCst);
            progress.total.store(total as u64, Ordering::SeqCst);
            if !opts.throttle.is_zero() {
                std::thread::sleep(opts.throttle);
            }
            match lost() {
                Some(m) => Err(anyhow::anyhow!("lease lost: {m}")),
                None => Ok(()),
            }
        },
    );
    let run = match run {
        Ok(r) => r,
        Err(_) if lost().is_some() => return Err(JobError::LeaseLost(lost().unwrap_or_default())),
        Err(e) => return Err(input_err(format!("{e:#}"))),
    };
    let weights_dtype = stored_dtypes(&weights);
    let _ = std::fs::remove_dir_all(&snap);
    Ok(ResultPost {
        fence: job.fence,
        primary_metric: spec.primary_metric.clone(),
        metrics: run.metrics,
        samples: run.samples,
        provenance: Provenance {
            hashes: job.inputs.hashes.clone(),
            runner_version: crate::RUNNER_VERSION.to_string(),
            dtype: format!("{:?}", opts.dtype).to_lowercase(),
            weights_dtype,
            device: opts.device_name.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
            requests: run.requests as u64,
            tokens: run.tokens as u64,
            max_length: spec.max_length,
            bootstrap_iters: BOOTSTRAP_ITERS as u32,
            bootstrap_seed: BOOTSTRAP_SEED,
        },
    })
}

/// Runs one claimed job to its end (published, failed, or abandoned after losing the lease).
pub fn run_job(client: &HubClient, job: ClaimedJob, opts: &WorkerOptions) {
    tracing::info!(job = job.id, model = %job.model, task = %job.task, fence = job.fence, "running eval job");
    let progress = Arc::new(Progress::default());
    let beat = heartbeats(client.clone(), job.clone(), progress.clone());
    let outcome = attempt(client, &job, opts, &progress);
    progress.finished.store(true, Ordering::SeqCst);
    let _ = beat.join();
    let report = match outcome {
        Ok(post) => client.post_result(job.id, &post).map(|_| "published"),
        Err(JobError::LeaseLost(m)) => {
            tracing::warn!(job = job.id, "stopped: {m}");
            return;
        }
        Err(JobError::Input(reason)) => client
            .post_failure(
                job.id,
                &FailurePost {
                    fence: job.fence,
                    reason,
                    retryable: false,
                },
            )
            .map(|_| "failed"),
        Err(JobError::Transient(reason)) => client
            .post_failure(
                job.id,
                &FailurePost {
                    fence: job.fence,
                    reason,
                    retryable: true,
                },
            )
            .map(|_| "will be retried"),
    };
    match report {
        Ok(what) => tracing::info!(job = job.id, "eval job {what}"),
        Err(e) => tracing::warn!(job = job.id, "could not report the outcome: {e}"),
    }
}

/// Claims and runs jobs until `once` finds the queue empty (or forever).
pub fn run(
    client: &HubClient,
    opts: &WorkerOptions,
    poll: Duration,
    once: bool,
) -> anyhow::Result<()> {
    loop {
        match client.claim(&opts.device_name) {
            Ok(Some(job)) => run_job(client, job, opts),
            Ok(None) if once => return Ok(()),
            Ok(None) => std::thread::sleep(poll),
            // A bad or revoked token will not get better by waiting.
            Err(HubError::Other(e)) if e.to_string().starts_with("401") => {
                anyhow::bail!("the hub refused this worker's token: {e}")
            }
            Err(e) => {
                tracing::warn!("claim failed: {e}");
                std::thread::sleep(poll);
            }
        }
    }
}
