//! What a job will read, pinned by content when it is submitted: the model's config, tokenizer
//! and safetensors weights at the model commit, the task's spec and data at the task commit.
//! The spec and the model config are checked here, so a malformed task or an architecture the
//! runner cannot score is refused at once instead of becoming a job that can only fail.
//! Synchronous git work: call it on the blocking pool.

use grove_eval_runner::model_config;
use grove_eval_runner::protocol::{
    self, InputFile, JobInputs, Source, TOKENIZER_FILES, WEIGHTS_INDEX,
};
use grove_eval_runner::spec::{self, TaskSpec};
use grove_storage::git::{CommitId, Entry, GitRepo};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::repos::files;
use crate::repos::service::git_error;

/// Small files read from git to check them (config, tokenizer config, index, spec).
const MAX_READ: u64 = 16 * 1024 * 1024;

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

struct Snapshot<'a> {
    git: &'a GitRepo,
    entries: Vec<Entry>,
    source: Source,
    what: &'a str,
}

impl Snapshot<'_> {
    fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// The content of a regular (non-LFS) file, if present.
    fn read(&self, path: &str) -> ApiResult<Option<Vec<u8>>> {
        let Some(e) = self.entry(path) else {
            return Ok(None);
        };
        if e.lfs.is_some() || e.size > MAX_READ {
            return Err(bad(format!(
                "{} {path} must be a regular file under {MAX_READ} bytes",
                self.what
            )));
        }
        Ok(Some(self.git.read_blob(&e.oid).map_err(git_error)?))
    }

    fn required(&self, path: &str) -> ApiResult<&Entry> {
        self.entry(path)
            .ok_or_else(|| bad(format!("the {} has no {path} at this revision", self.what)))
    }

    /// The file as a job input: LFS files by their sha256, regular files hashed here.
    fn input(&self, path: &str) -> ApiResult<InputFile> {
        let e = self.required(path)?;
        let (sha256, size) = match &e.lfs {
            Some(l) => (l.oid.clone(), l.size),
            None => {
                let bytes = self.git.read_blob(&e.oid).map_err(git_error)?;
                (hex::encode(Sha256::digest(&bytes)), bytes.len() as u64)
            }
        };
        Ok(InputFile {
            source: self.source,
            path: path.to_string(),
            sha256,
            size,
        })
    }
}

/// The checked task spec at a commit of a task repo.
pub fn task_spec(task_git: &GitRepo, task_commit: &CommitId) -> ApiResult<(TaskSpec, Vec<Entry>)> {
    let task = Snapshot {
        git: task_git,
        entries: files::files(task_git, task_commit)?,
        source: Source::Task,
        what: "task",
    };
    let text = task.read(spec::TASK_FILE)?.ok_or_else(|| {
        bad(format!(
            "this dataset is not an eval task: it has no {}",
            spec::TASK_FILE
        ))
    })?;
    let text =
        String::from_utf8(text).map_err(|_| bad(format!("{} is not UTF-8", spec::TASK_FILE)))?;
    let parsed =
        spec::parse_task(&text).map_err(|e| bad(format!("malformed {}: {e}", spec::TASK_FILE)))?;
    for file in parsed.data_files() {
        task.required(&file)?;
    }
    Ok((parsed, task.entries))
}

/// Everything a job on (model commit, task commit) reads.
pub fn job_inputs(
    model_git: &GitRepo,
    model_commit: &CommitId,
    task_git: &GitRepo,
    task_commit: &CommitId,
) -> ApiResult<(TaskSpec, JobInputs)> {
    let model = Snapshot {
        git: model_git,
        entries: files::files(model_git, model_commit)?,
        source: Source::Model,
        what: "model",
    };
    let config = model
        .read("config.json")?
        .ok_or_else(|| bad("the model has no config.json at this revision: the runner cannot tell its architecture"))?;
    model_config::parse(&String::from_utf8_lossy(&config)).map_err(|e| bad(e.to_string()))?;
    model.required("tokenizer.json")?;
    let index = model.read(WEIGHTS_INDEX)?;
    let paths: Vec<String> = model.entries.iter().map(|e| e.path.clone()).collect();
    let weight_files =
        protocol::weight_files(&paths, index.as_deref()).map_err(|e| bad(e.to_string()))?;

    let (parsed, task_entries) = task_spec(task_git, task_commit)?;
    let task = Snapshot {
        git: task_git,
        entries: task_entries,
        source: Source::Task,
        what: "task",
    };

    let mut inputs = vec![model.input("config.json")?];
    for name in TOKENIZER_FILES {
        if model.entry(name).is_some() {
            inputs.push(model.input(name)?);
        }
    }
    if index.is_some() {
        inputs.push(model.input(WEIGHTS_INDEX)?);
    }
    for w in &weight_files {
        inputs.push(model.input(w)?);
    }
    inputs.push(task.input(spec::TASK_FILE)?);
    for f in parsed.data_files() {
        inputs.push(task.input(&f)?);
    }
    let hashes = protocol::hashes(&inputs, &weight_files, spec::TASK_FILE);
    let (metrics, primary_metric) = (parsed.metrics.clone(), parsed.primary_metric.clone());
    Ok((
        parsed,
        JobInputs {
            files: inputs,
            weight_files,
            hashes,
            metrics,
            primary_metric,
        },
    ))
}

/// A task's spec and its task hash (spec + data content) at a commit: what a leaderboard is for.
pub fn task_identity(task_git: &GitRepo, task_commit: &CommitId) -> ApiResult<(TaskSpec, String)> {
    let (parsed, entries) = task_spec(task_git, task_commit)?;
    let task = Snapshot {
        git: task_git,
        entries,
        source: Source::Task,
        what: "task",
    };
    let mut files = vec![task.input(spec::TASK_FILE)?];
    for f in parsed.data_files() {
        files.push(task.input(&f)?);
    }
    let hash = protocol::hashes(&files, &[], spec::TASK_FILE).task;
    Ok((parsed, hash))
}

/// The checked suite spec at a commit of a suite repo.
pub fn suite_spec(git: &GitRepo, commit: &CommitId) -> ApiResult<spec::SuiteSpec> {
    let suite = Snapshot {
        git,
        entries: files::files(git, commit)?,
        source: Source::Task,
        what: "suite",
    };
    let text = suite.read(spec::SUITE_FILE)?.ok_or_else(|| {
        bad(format!(
            "this dataset has no {} or {}",
            spec::TASK_FILE,
            spec::SUITE_FILE
        ))
    })?;
    spec::parse_suite(&String::from_utf8_lossy(&text))
        .map_err(|e| bad(format!("malformed {}: {e}", spec::SUITE_FILE)))
}
