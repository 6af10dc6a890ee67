//! What the hub and its workers say to each other, and the content hashes that bind a result to
//! exactly what produced it. Both sides compute the hashes the same way from the same file list:
//! the hub when a job is submitted, the worker from the bytes it downloaded.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::MetricValue;

/// Which repo of the job a file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Model,
    Task,
}

/// One file a job needs, pinned by its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    pub source: Source,
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// Content hashes of a job's inputs (hex sha256 each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputHashes {
    /// `config.json`.
    pub config: String,
    /// The weight files (path and sha256 of each), i.e. the tensors scored.
    pub weights: String,
    /// `tokenizer.json` and `tokenizer_config.json`.
    pub tokenizer: String,
    pub task_spec: String,
    pub task_data: String,
    /// Spec and data together: results with the same task hash are comparable.
    pub task: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInputs {
    pub files: Vec<InputFile>,
    /// Paths (in the model repo) of the safetensors files to load.
    pub weight_files: Vec<String>,
    pub hashes: InputHashes,
    /// The metrics the task spec asks for and the primary one: a result must report exactly these.
    #[serde(default)]
    pub metrics: Vec<String>,
    #[serde(default)]
    pub primary_metric: String,
}

/// sha256 over `path sha256\n` lines, sorted by path.
fn digest(files: &[&InputFile]) -> String {
    let mut lines: Vec<String> = files
        .iter()
        .map(|f| format!("{} {}\n", f.path, f.sha256))
        .collect();
    lines.sort();
    hex::encode(Sha256::digest(lines.concat().as_bytes()))
}

pub const SINGLE_WEIGHTS: &str = "model.safetensors";
pub const WEIGHTS_INDEX: &str = "model.safetensors.index.json";

/// The weight files of a snapshot given its file list and, when sharded, its index.
pub fn weight_files(files: &[String], index: Option<&[u8]>) -> anyhow::Result<Vec<String>> {
    if let Some(index) = index {
        let v: serde_json::Value = serde_json::from_slice(index)
            .map_err(|e| anyhow::anyhow!("{WEIGHTS_INDEX} is not valid JSON: {e}"))?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| anyhow::anyhow!("{WEIGHTS_INDEX} has no weight_map"))?;
        let shards: BTreeSet<String> = map
            .values()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        for shard in &shards {
            anyhow::ensure!(
                files.contains(shard) && !shard.contains('/') && shard.ends_with(".safetensors"),
                "{WEIGHTS_INDEX} names {shard:?}, which is not a safetensors file of this model"
            );
        }
        return Ok(shards.into_iter().collect());
    }
    anyhow::ensure!(
        files.iter().any(|f| f == SINGLE_WEIGHTS),
        "the model has no {SINGLE_WEIGHTS} (or sharded {WEIGHTS_INDEX}): the runner reads safetensors weights"
    );
    Ok(vec![SINGLE_WEIGHTS.to_string()])
}

pub const TOKENIZER_FILES: [&str; 2] = ["tokenizer.json", "tokenizer_config.json"];

/// The hashes of `files` given which model files are weights and which task file is the spec.
pub fn hashes(files: &[InputFile], weight_files: &[String], spec_path: &str) -> InputHashes {
    let pick =
        |pred: &dyn Fn(&InputFile) -> bool| files.iter().filter(|f| pred(f)).collect::<Vec<_>>();
    let model = |f: &InputFile| f.source == Source::Model;
    let task_spec = digest(&pick(&|f| f.source == Source::Task && f.path == spec_path));
    let task_data = digest(&pick(&|f| f.source == Source::Task && f.path != spec_path));
    InputHashes {
        config: digest(&pick(&|f| model(f) && f.path == "config.json")),
        weights: digest(&pick(&|f| model(f) && weight_files.contains(&f.path))),
        tokenizer: digest(&pick(&|f| {
            model(f) && TOKENIZER_FILES.contains(&f.path.as_str())
        })),
        task: hex::encode(Sha256::digest(
            format!("spec {task_spec}\ndata {task_data}\n").as_bytes(),
        )),
        task_spec,
        task_data,
    }
}

/// A job as a worker receives it when it claims one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedJob {
    pub id: i64,
    /// Send it back with every call about this job; a newer claim makes it stale.
    pub fence: i64,
    pub model: String,
    pub model_commit: String,
    pub task: String,
    pub task_commit: String,
    pub inputs: JobInputs,
    pub lease_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRequest {
    /// What the worker computes on (`cpu`, `cuda:0`).
    pub device: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    pub fence: i64,
    pub done: u64,
    pub total: u64,
}

/// Everything about how a result was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub hashes: InputHashes,
    pub runner_version: String,
    /// The dtype the forward pass ran in.
    pub dtype: String,
    /// The dtypes the weights are stored in.
    pub weights_dtype: String,
    pub device: String,
    pub duration_ms: u64,
    pub requests: u64,
    pub tokens: u64,
    pub max_length: u32,
    pub bootstrap_iters: u32,
    pub bootstrap_seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultPost {
    pub fence: i64,
    pub primary_metric: String,
    pub metrics: BTreeMap<String, MetricValue>,
    pub samples: Vec<serde_json::Value>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailurePost {
    pub fence: i64,
    pub reason: String,
    /// False when running again cannot help (a malformed task, an unsupported model).
    pub retryable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(source: Source, path: &str, sha: &str) -> InputFile {
        InputFile {
            source,
            path: path.into(),
            sha256: sha.into(),
            size: 1,
        }
    }

    #[test]
    fn hashes_depend_on_content_not_order() {
        let files = vec![
            f(Source::Model, "config.json", "c"),
            f(Source::Model, "model.safetensors", "w"),
            f(Source::Model, "tokenizer.json", "t"),
            f(Source::Task, "task.yaml", "s"),
            f(Source::Task, "test.jsonl", "d"),
        ];
        let weights = vec!["model.safetensors".to_string()];
        let a = hashes(&files, &weights, "task.yaml");
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(a, hashes(&reversed, &weights, "task.yaml"));
        let mut changed = files.clone();
        changed[4].sha256 = "d2".into();
        let b = hashes(&changed, &weights, "task.yaml");
        assert_eq!(a.weights, b.weights);
        assert_ne!(a.task_data, b.task_data);
        assert_ne!(a.task, b.task);
    }
}
