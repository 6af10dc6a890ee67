//! Loads a model snapshot directory: `config.json`, the tokenizer, and the safetensors weights
//! (one file or shards listed in `model.safetensors.index.json`), checked against the config so
//! a mismatch is an error that names the tensor, not a wrong score.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::decoder::Decoder;
use super::tokenizer::TextTokenizer;
use crate::model_config::{self, ModelConfig};

pub const CONFIG: &str = "config.json";
pub const TOKENIZER: &str = "tokenizer.json";
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";
pub const SINGLE_WEIGHTS: &str = "model.safetensors";
pub const WEIGHTS_INDEX: &str = "model.safetensors.index.json";

pub struct LoadedModel {
    pub decoder: Decoder,
    pub tokenizer: TextTokenizer,
    pub config: ModelConfig,
    pub dtype: DType,
}

/// The weight files of a snapshot given its file list and, when sharded, its index.
pub fn weight_files(files: &[String], index: Option<&[u8]>) -> anyhow::Result<Vec<String>> {
    if let Some(index) = index {
        let v: serde_json::Value = serde_json::from_slice(index)
            .map_err(|e| anyhow::anyhow!("{WEIGHTS_INDEX} is not valid JSON: {e}"))?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| anyhow::anyhow!("{WEIGHTS_INDEX} has no weight_map"))?;
        let shards: BTreeSet<String> = map.values().filter_map(|s| s.as_str().map(str::to_string)).collect();
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

fn read(dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(dir.join(name)).map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))
}

/// Loads everything from `dir`; `weights` are the files `weight_files` chose.
pub fn load_model(
    dir: &Path,
    weights: &[String],
    add_special_tokens: bool,
    dtype: DType,
    device: &Device,
) -> anyhow::Result<LoadedModel> {
    let config = model_config::parse(&String::from_utf8_lossy(&read(dir, CONFIG)?))?;
    let tc = std::fs::read(dir.join(TOKENIZER_CONFIG)).ok();
    let tokenizer = TextTokenizer::load(&read(dir, TOKENIZER)?, tc.as_deref(), &config, add_special_tokens)?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for file in weights {
        let loaded = candle_core::safetensors::load(dir.join(file), device)
            .map_err(|e| anyhow::anyhow!("{file} is not a readable safetensors file: {e}"))?;
        tensors.extend(loaded);
    }
    let vb = VarBuilder::from_tensors(tensors, dtype, device);
    let decoder = Decoder::load(&config, vb)
        .map_err(|e| anyhow::anyhow!("the weights do not match config.json: {e}"))?;
    Ok(LoadedModel {
        decoder,
        tokenizer,
        config,
        dtype,
    })
}
