//! `config.json` of the decoder-only families the runner scores: llama, mistral and qwen2.
//! Read without candle, so the hub can refuse an unsupported model when it is submitted instead of
//! queueing a job that can only fail. Anything that would change the forward pass and that the
//! decoder does not implement (other activations, rope scaling, biases on llama) is refused by
//! name rather than ignored.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Llama,
    Mistral,
    Qwen2,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub family: Family,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// Attention only looks this many tokens back (mistral; qwen2 with `use_sliding_window`).
    pub sliding_window: Option<usize>,
    /// q/k/v projections carry a bias (qwen2).
    pub qkv_bias: bool,
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn bad<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

fn usize_field(cfg: &Value, key: &str) -> Result<Option<usize>, ConfigError> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 && n <= 1 << 24 => Ok(Some(n as usize)),
            _ => bad(format!("config.json: `{key}` must be a positive integer")),
        },
    }
}

fn required(cfg: &Value, key: &str) -> Result<usize, ConfigError> {
    usize_field(cfg, key)?.ok_or_else(|| ConfigError(format!("config.json: `{key}` is missing")))
}

fn token_id(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().map(|n| n as u32),
        // Some configs list several end tokens; the first is the one the harness uses.
        Value::Array(items) => items.first()?.as_u64().map(|n| n as u32),
        _ => None,
    }
}

/// Parses and checks a `config.json`.
pub fn parse(text: &str) -> Result<ModelConfig, ConfigError> {
    let cfg: Value = serde_json::from_str(text)
        .map_err(|e| ConfigError(format!("config.json is not valid JSON: {e}")))?;
    if !cfg.is_object() {
        return bad("config.json must be a JSON object");
    }
    let model_type = cfg.get("model_type").and_then(Value::as_str).unwrap_or("");
    let arch = cfg
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(Value::as_str)
        .unwrap_or("");
    let family = match (model_type, arch) {
        ("llama", _) | (_, "LlamaForCausalLM") => Family::Llama,
        ("mistral", _) | (_, "MistralForCausalLM") => Family::Mistral,
        ("qwen2", _) | (_, "Qwen2ForCausalLM") => Family::Qwen2,
        _ => {
            return bad(format!(
                "unsupported architecture (model_type {model_type:?}, architectures {arch:?}): \
                 the runner scores llama, mistral and qwen2 models"
            ));
        }
    };
    let act = cfg
        .get("hidden_act")
        .and_then(Value::as_str)
        .unwrap_or("silu");
    if act != "silu" {
        return bad(format!(
            "config.json: hidden_act {act:?} is not supported (only silu)"
        ));
    }
    if cfg.get("rope_scaling").is_some_and(|v| !v.is_null()) {
        return bad("config.json: rope_scaling is not supported by the runner");
    }
    for key in ["attention_bias", "mlp_bias"] {
        if cfg.get(key).and_then(Value::as_bool) == Some(true) {
            return bad(format!("config.json: {key} is not supported by the runner"));
        }
    }
    let hidden_size = required(&cfg, "hidden_size")?;
    let num_heads = required(&cfg, "num_attention_heads")?;
    let num_kv_heads = usize_field(&cfg, "num_key_value_heads")?.unwrap_or(num_heads);
    let head_dim = usize_field(&cfg, "head_dim")?.unwrap_or(hidden_size / num_heads);
    if num_heads % num_kv_heads != 0 {
        return bad("config.json: num_attention_heads must be a multiple of num_key_value_heads");
    }
    if head_dim % 2 != 0 || (cfg.get("head_dim").is_none() && hidden_size % num_heads != 0) {
        return bad("config.json: the head dimension must be even and divide hidden_size");
    }
    let sliding_window = match family {
        Family::Llama => None,
        Family::Mistral => usize_field(&cfg, "sliding_window")?,
        Family::Qwen2 => {
            if cfg.get("use_sliding_window").and_then(Value::as_bool) == Some(true) {
                usize_field(&cfg, "sliding_window")?
            } else {
                None
            }
        }
    };
    let rope_theta = cfg
        .get("rope_theta")
        .and_then(Value::as_f64)
        .unwrap_or(10_000.0);
    let rms_norm_eps = cfg
        .get("rms_norm_eps")
        .and_then(Value::as_f64)
        .unwrap_or(1e-6);
    if !(rope_theta > 0.0 && rms_norm_eps >= 0.0) {
        return bad("config.json: rope_theta must be positive and rms_norm_eps not negative");
    }
    Ok(ModelConfig {
        family,
        vocab_size: required(&cfg, "vocab_size")?,
        hidden_size,
        intermediate_size: required(&cfg, "intermediate_size")?,
        num_layers: required(&cfg, "num_hidden_layers")?,
        num_heads,
        num_kv_heads,
        head_dim,
        rms_norm_eps,
        rope_theta,
        max_position_embeddings: usize_field(&cfg, "max_position_embeddings")?.unwrap_or(2048),
        tie_word_embeddings: cfg
            .get("tie_word_embeddings")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        sliding_window,
        qkv_bias: family == Family::Qwen2,
        bos_token_id: token_id(cfg.get("bos_token_id")),
        eos_token_id: token_id(cfg.get("eos_token_id")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LLAMA: &str = r#"{"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":128,
        "hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,
        "num_key_value_heads":2,"rms_norm_eps":1e-5,"rope_theta":10000.0,"hidden_act":"silu"}"#;

    #[test]
    fn reads_llama() {
        let c = parse(LLAMA).unwrap();
        assert_eq!(
            (c.family, c.head_dim, c.num_kv_heads),
            (Family::Llama, 16, 2)
        );
        assert!(!c.qkv_bias && !c.tie_word_embeddings);
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        for (text, want) in [
            (
                r#"{"model_type":"gpt2"}"#.to_string(),
                "unsupported architecture",
            ),
            (LLAMA.replace("silu", "gelu"), "hidden_act"),
            (
                LLAMA.replace(
                    "\"model_type\"",
                    "\"rope_scaling\":{\"type\":\"linear\"},\"model_type\"",
                ),
                "rope_scaling",
            ),
            (
                LLAMA.replace("\"num_hidden_layers\":2,", ""),
                "num_hidden_layers",
            ),
            (
                LLAMA.replace("\"num_key_value_heads\":2", "\"num_key_value_heads\":3"),
                "multiple",
            ),
            ("[1]".to_string(), "object"),
        ] {
            let e = parse(&text).unwrap_err().0;
            assert!(e.contains(want), "{e}");
        }
    }
}
