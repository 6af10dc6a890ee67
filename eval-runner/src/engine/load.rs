//! Loads a model snapshot directory: `config.json`, the tokenizer, and the safetensors weights
//! (one file or shards listed in `model.safetensors.index.json`), checked against the config so
//! a mismatch is an error that names the tensor, not a wrong score.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::decoder::Decoder;
use super::tokenizer::TextTokenizer;
use crate::model_config::{self, ModelConfig};
pub use crate::protocol::{SINGLE_WEIGHTS, WEIGHTS_INDEX, weight_files};

pub const CONFIG: &str = "config.json";
pub const TOKENIZER: &str = "tokenizer.json";
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

pub struct LoadedModel {
    pub decoder: Decoder,
    pub tokenizer: TextTokenizer,
    pub config: ModelConfig,
    pub dtype: DType,
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
    let tokenizer = TextTokenizer::load(
        &read(dir, TOKENIZER)?,
        tc.as_deref(),
        &config,
        add_special_tokens,
    )?;
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
