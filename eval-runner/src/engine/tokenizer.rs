//! The model's tokenizer (`tokenizer.json`, read with the `tokenizers` crate) and the prefix
//! token the harness puts before an empty context or a rolling window: the tokenizer's BOS from
//! `tokenizer_config.json`, else its EOS, else the ids in `config.json`.

use serde_json::Value;

use crate::model_config::ModelConfig;

pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    prefix_token: u32,
    prefix_text: Option<String>,
    add_special_tokens: bool,
}

fn special_name(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("content")?.as_str().map(str::to_string),
        _ => None,
    }
}

impl TextTokenizer {
    /// `tokenizer_config` may be absent (`None`). `add_special_tokens` is the task's setting.
    pub fn load(
        tokenizer_json: &[u8],
        tokenizer_config: Option<&[u8]>,
        cfg: &ModelConfig,
        add_special_tokens: bool,
    ) -> anyhow::Result<TextTokenizer> {
        let inner = tokenizers::Tokenizer::from_bytes(tokenizer_json)
            .map_err(|e| anyhow::anyhow!("tokenizer.json cannot be loaded: {e}"))?;
        let tc: Value = match tokenizer_config {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| anyhow::anyhow!("tokenizer_config.json is not valid JSON: {e}"))?,
            None => Value::Null,
        };
        let by_name = |key: &str| {
            special_name(tc.get(key)).and_then(|name| inner.token_to_id(&name).map(|id| (id, name)))
        };
        let (prefix_token, prefix_text) = match by_name("bos_token")
            .or_else(|| by_name("eos_token"))
        {
            Some((id, name)) => (id, Some(name)),
            None => match cfg.bos_token_id.or(cfg.eos_token_id) {
                Some(id) => (id, inner.id_to_token(id)),
                None => anyhow::bail!(
                    "the model names no BOS or EOS token (tokenizer_config.json or config.json): \
                     the prefix token for empty contexts is unknown"
                ),
            },
        };
        Ok(TextTokenizer {
            inner,
            prefix_token,
            prefix_text,
            add_special_tokens,
        })
    }

    pub fn prefix_token(&self) -> u32 {
        self.prefix_token
    }

    /// Encodes as the harness's `tok_encode` does (0.4.9.2 and later): with the tokenizer's own
    /// special tokens unless the task turns them off or the text already starts with the prefix.
    pub fn encode(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        let already = self
            .prefix_text
            .as_deref()
            .is_some_and(|p| !p.is_empty() && text.starts_with(p));
        self.encode_with(text, self.add_special_tokens && !already)
    }

    /// Encodes without special tokens.
    pub fn encode_plain(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        self.encode_with(text, false)
    }

    fn encode_with(&self, text: &str, special: bool) -> anyhow::Result<Vec<u32>> {
        Ok(self
            .inner
            .encode(text, special)
            .map_err(|e| anyhow::anyhow!("tokenization failed: {e}"))?
            .get_ids()
            .to_vec())
    }
}
