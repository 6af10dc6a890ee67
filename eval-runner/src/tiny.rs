//! Deterministic tiny llama-family models for tests, benchmarks and the demo: a sentencepiece-style
//! `tokenizer.json` (Metaspace + character BPE with `▁x` merges and a BOS template, as Llama
//! tokenizers have), a matching `config.json`, safetensors weights drawn from a seeded generator,
//! and derived models (fine-tunes that move a chosen share of tensors, linear merges) whose cards
//! declare their parents, so lineage and leaderboards have real families to show.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

/// Model shape knobs; the vocabulary is fixed by the tokenizer below.
#[derive(Debug, Clone, Copy)]
pub struct TinyShape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub intermediate: usize,
    pub max_positions: usize,
}

impl TinyShape {
    pub const TINY: TinyShape = TinyShape {
        hidden: 64,
        layers: 2,
        heads: 4,
        kv_heads: 2,
        intermediate: 128,
        max_positions: 1024,
    };
}

/// Named tensors with their shapes, in f32.
pub type Weights = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

const SPECIALS: [&str; 3] = ["<unk>", "<s>", "</s>"];
const SPACE: &str = "\u{2581}";

/// The vocabulary: specials, `▁`, printable ASCII, newline, then `▁a`..`▁z`.
fn vocab() -> Vec<String> {
    let mut v: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
    v.push(SPACE.into());
    v.extend((0x21u8..=0x7e).map(|b| (b as char).to_string()));
    v.push("\n".into());
    v.extend(('a'..='z').map(|c| format!("{SPACE}{c}")));
    v
}

/// The model's vocabulary size (the tokenizer's, rounded up to a multiple of 8).
pub fn vocab_size() -> usize {
    vocab().len().div_ceil(8) * 8
}

pub fn tokenizer_json() -> serde_json::Value {
    let vocab: serde_json::Map<String, serde_json::Value> = vocab()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, json!(i)))
        .collect();
    let merges: Vec<[String; 2]> = ('a'..='z')
        .map(|c| [SPACE.to_string(), c.to_string()])
        .collect();
    let added: Vec<_> = SPECIALS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"id": i, "content": s, "single_word": false, "lstrip": false,
                              "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let bos = json!({"SpecialToken": {"id": "<s>", "type_id": 0}});
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first", "split": false},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, bos, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}
        },
        "decoder": {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first", "split": false},
        "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab, "merges": merges}
    })
}

pub fn tokenizer_config_json() -> serde_json::Value {
    json!({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
           "model_max_length": 1024, "tokenizer_class": "LlamaTokenizerFast", "add_bos_token": true})
}

pub fn config_json(shape: &TinyShape) -> serde_json::Value {
    json!({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": vocab_size(), "hidden_size": shape.hidden,
        "intermediate_size": shape.intermediate, "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads, "num_key_value_heads": shape.kv_heads,
        "max_position_embeddings": shape.max_positions, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false,
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"
    })
}

/// SplitMix64: small, fast, and the same on every platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

fn name_seed(seed: u64, name: &str) -> u64 {
    name.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The base model's weights: uniform with the usual 1/sqrt(fan_in) scale, norms at one.
pub fn base_weights(shape: &TinyShape, seed: u64) -> Weights {
    let (h, v, i) = (shape.hidden, vocab_size(), shape.intermediate);
    let head_dim = h / shape.heads;
    let kv = shape.kv_heads * head_dim;
    let mut out = Weights::new();
    let mut matrix = |name: String, rows: usize, cols: usize| {
        let mut rng = SplitMix(name_seed(seed, &name));
        let scale = 1.0 / (cols as f32).sqrt();
        let data = (0..rows * cols).map(|_| rng.unit() * scale).collect();
        out.insert(name, (vec![rows, cols], data));
    };
    matrix("model.embed_tokens.weight".into(), v, h);
    matrix("lm_head.weight".into(), v, h);
    for l in 0..shape.layers {
        let p = format!("model.layers.{l}");
        matrix(format!("{p}.self_attn.q_proj.weight"), h, h);
        matrix(format!("{p}.self_attn.k_proj.weight"), kv, h);
        matrix(format!("{p}.self_attn.v_proj.weight"), kv, h);
        matrix(format!("{p}.self_attn.o_proj.weight"), h, h);
        matrix(format!("{p}.mlp.gate_proj.weight"), i, h);
        matrix(format!("{p}.mlp.up_proj.weight"), i, h);
        matrix(format!("{p}.mlp.down_proj.weight"), h, i);
    }
    let mut norm = |name: String| {
        out.insert(name, (vec![h], vec![1.0; h]));
    };
    for l in 0..shape.layers {
        norm(format!("model.layers.{l}.input_layernorm.weight"));
        norm(format!("model.layers.{l}.post_attention_layernorm.weight"));
    }
    norm("model.norm.weight".into());
    out
}

/// A fine-tune: every `1 / every`-th matrix (chosen by `seed`) moves by up to 10% of its scale;
/// everything else stays byte-identical to the parent, as frozen layers do.
pub fn finetune(parent: &Weights, seed: u64, every: usize) -> Weights {
    let mut out = parent.clone();
    for (k, (name, (shape, data))) in out.iter_mut().enumerate() {
        if shape.len() != 2 || !(k as u64 + seed).is_multiple_of(every.max(1) as u64) {
            continue;
        }
        let mut rng = SplitMix(name_seed(seed.wrapping_add(7), name));
        let scale = 0.1 / (shape[1] as f32).sqrt();
        for x in data.iter_mut() {
            *x += rng.unit() * scale;
        }
    }
    out
}

/// A linear merge `w * a + (1 - w) * b` of two models of one shape.
pub fn linear_merge(a: &Weights, b: &Weights, w: f32) -> Weights {
    a.iter()
        .map(|(name, (shape, da))| {
            let db = &b[name].1;
            let data = da
                .iter()
                .zip(db)
                .map(|(x, y)| w * x + (1.0 - w) * y)
                .collect();
            (name.clone(), (shape.clone(), data))
        })
        .collect()
}

/// A PEFT LoRA adapter of rank `rank` on the q and v projections of `base`: `lora_A` small
/// random values, `lora_B` zeros (a freshly initialised adapter), named as PEFT saves them.
pub fn lora_adapter(base: &Weights, rank: usize, seed: u64) -> Weights {
    let mut out = Weights::new();
    for (name, (shape, _)) in base {
        if !(name.contains(".q_proj.") || name.contains(".v_proj.")) || shape.len() != 2 {
            continue;
        }
        let module = name.trim_end_matches(".weight");
        let (rows, cols) = (shape[0], shape[1]);
        let mut rng = SplitMix(name_seed(seed, name));
        let a = (0..rank * cols).map(|_| rng.unit() * 0.01).collect();
        out.insert(
            format!("base_model.model.{module}.lora_A.weight"),
            (vec![rank, cols], a),
        );
        out.insert(
            format!("base_model.model.{module}.lora_B.weight"),
            (vec![rows, rank], vec![0.0; rows * rank]),
        );
    }
    out
}

/// `adapter_config.json` for [`lora_adapter`].
pub fn adapter_config_json(base_id: &str, rank: usize) -> serde_json::Value {
    json!({"base_model_name_or_path": base_id, "peft_type": "LORA", "task_type": "CAUSAL_LM",
           "r": rank, "lora_alpha": rank * 2, "lora_dropout": 0.0,
           "target_modules": ["q_proj", "v_proj"]})
}

/// safetensors bytes of `weights` (F32, little-endian).
pub fn safetensors_bytes(weights: &Weights) -> anyhow::Result<Vec<u8>> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .iter()
        .map(|(n, (s, d))| {
            (
                n.clone(),
                s.clone(),
                d.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(n, s, b)| {
            Ok((
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    Ok(safetensors::tensor::serialize(views, None)?)
}

/// The GGUF tensor name of a transformers llama tensor name (as llama.cpp's converter names them).
fn gguf_name(hf: &str) -> String {
    match hf {
        "model.embed_tokens.weight" => return "token_embd.weight".into(),
        "model.norm.weight" => return "output_norm.weight".into(),
        "lm_head.weight" => return "output.weight".into(),
        _ => {}
    }
    let rest = hf.trim_start_matches("model.layers.");
    let (layer, rest) = rest.split_once('.').unwrap_or(("0", rest));
    let module = rest.trim_end_matches(".weight");
    let short = match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        other => other,
    };
    format!("blk.{layer}.{short}.weight")
}

fn gguf_string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Q8_0 blocks: 32 values as an f16 scale (max |x| / 127) and 32 signed bytes.
fn q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / 32 * 34);
    for block in values.chunks(32) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        out.extend(half::f16::from_f32(d).to_le_bytes());
        for v in block {
            let q = if d == 0.0 {
                0.0
            } else {
                (v / d).round().clamp(-127.0, 127.0)
            };
            out.push(q as i8 as u8);
        }
    }
    out
}

/// A GGUF v3 file of `weights`: matrices as Q8_0, vectors as F32, with string metadata (and
/// `general.base_model.count` when base model keys are given).
pub fn gguf_q8_0_bytes(weights: &Weights, metadata: &[(&str, &str)]) -> Vec<u8> {
    const ALIGN: usize = 32;
    let mut kvs = Vec::new();
    let mut kv_count = 0u64;
    for (k, v) in metadata {
        gguf_string(&mut kvs, k);
        kvs.extend(8u32.to_le_bytes()); // string
        gguf_string(&mut kvs, v);
        kv_count += 1;
    }
    if metadata
        .iter()
        .any(|(k, _)| k.starts_with("general.base_model.0."))
    {
        gguf_string(&mut kvs, "general.base_model.count");
        kvs.extend(4u32.to_le_bytes()); // uint32
        kvs.extend(1u32.to_le_bytes());
        kv_count += 1;
    }
    let mut infos = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (name, (shape, values)) in weights {
        let (raw, ggml_type) = if shape.len() == 2 && values.len() % 32 == 0 {
            (q8_0(values), 8u32)
        } else {
            (values.iter().flat_map(|x| x.to_le_bytes()).collect(), 0u32)
        };
        data.resize(data.len().div_ceil(ALIGN) * ALIGN, 0);
        gguf_string(&mut infos, &gguf_name(name));
        infos.extend((shape.len() as u32).to_le_bytes());
        for dim in shape.iter().rev() {
            infos.extend((*dim as u64).to_le_bytes());
        }
        infos.extend(ggml_type.to_le_bytes());
        infos.extend((data.len() as u64).to_le_bytes());
        data.extend(raw);
    }
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((weights.len() as u64).to_le_bytes());
    out.extend(kv_count.to_le_bytes());
    out.extend(kvs);
    out.extend(infos);
    out.resize(out.len().div_ceil(ALIGN) * ALIGN, 0);
    out.extend(data);
    out
}

/// Writes a loadable model folder: config, tokenizer, weights and a card.
pub fn write_model(
    dir: &Path,
    shape: &TinyShape,
    weights: &Weights,
    card: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let pretty = |v: serde_json::Value| serde_json::to_vec_pretty(&v).unwrap_or_default();
    std::fs::write(dir.join("config.json"), pretty(config_json(shape)))?;
    std::fs::write(dir.join("tokenizer.json"), pretty(tokenizer_json()))?;
    std::fs::write(
        dir.join("tokenizer_config.json"),
        pretty(tokenizer_config_json()),
    )?;
    std::fs::write(dir.join("model.safetensors"), safetensors_bytes(weights)?)?;
    std::fs::write(dir.join("README.md"), card)?;
    Ok(())
}

/// A card with front matter declaring `parents` (and a relation when given).
pub fn card(
    title: &str,
    summary: &str,
    parents: &[&str],
    relation: Option<&str>,
    tags: &[&str],
) -> String {
    let mut front = String::from(
        "---\nlicense: apache-2.0\nlibrary_name: transformers\npipeline_tag: text-generation\nlanguage: [en]\n",
    );
    if !tags.is_empty() {
        front.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    }
    match parents {
        [] => {}
        [one] => front.push_str(&format!("base_model: {one}\n")),
        many => front.push_str(&format!("base_model: [{}]\n", many.join(", "))),
    }
    if let Some(r) = relation {
        front.push_str(&format!("base_model_relation: {r}\n"));
    }
    format!("{front}---\n\n# {title}\n\n{summary}\n")
}

/// Writes a family under `out`: `base`, two fine-tunes, a fine-tune of a fine-tune, a merge and
/// a Q8_0 GGUF quantization of the base,
/// with cards naming parents as `{namespace}/tiny-{name}`. Returns the folder names in upload
/// order (parents first).
pub fn write_family(
    out: &Path,
    namespace: &str,
    shape: &TinyShape,
    seed: u64,
) -> anyhow::Result<Vec<String>> {
    let id = |n: &str| format!("{namespace}/tiny-{n}");
    let base = base_weights(shape, seed);
    let chat = finetune(&base, seed + 1, 3);
    let code = finetune(&base, seed + 2, 4);
    let chat_v2 = finetune(&chat, seed + 3, 5);
    let merged = linear_merge(&chat, &code, 0.5);
    let models: [(&str, &Weights, String); 5] = [
        (
            "base",
            &base,
            card(
                "Tiny base",
                "A tiny llama-family base model.",
                &[],
                None,
                &["tiny"],
            ),
        ),
        (
            "chat",
            &chat,
            card(
                "Tiny chat",
                "Fine-tuned for chat.",
                &[&id("base")],
                Some("finetune"),
                &["tiny", "chat"],
            ),
        ),
        (
            "code",
            &code,
            card(
                "Tiny code",
                "Fine-tuned on code.",
                &[&id("base")],
                Some("finetune"),
                &["tiny", "code"],
            ),
        ),
        (
            "chat-v2",
            &chat_v2,
            card(
                "Tiny chat v2",
                "A second round of chat tuning.",
                &[&id("chat")],
                None,
                &["tiny", "chat"],
            ),
        ),
        (
            "merge",
            &merged,
            card(
                "Tiny merge",
                "A linear merge of chat and code.",
                &[&id("chat"), &id("code")],
                Some("merge"),
                &["tiny", "merge"],
            ),
        ),
    ];
    let mut names = Vec::new();
    for (name, weights, card) in models {
        write_model(&out.join(format!("tiny-{name}")), shape, weights, &card)?;
        names.push(format!("tiny-{name}"));
    }
    // A Q8_0 GGUF quantization of the base, as llama.cpp users publish them: no config.json,
    // so the runner (safetensors only) refuses it at submission.
    let q8 = out.join("tiny-base-q8");
    std::fs::create_dir_all(&q8)?;
    let meta = [
        ("general.architecture", "llama"),
        ("general.name", "tiny-base Q8_0"),
        ("general.base_model.0.name", "tiny-base"),
        ("general.base_model.0.organization", namespace),
    ];
    std::fs::write(
        q8.join("tiny-base-Q8_0.gguf"),
        gguf_q8_0_bytes(&base, &meta),
    )?;
    std::fs::write(
        q8.join("README.md"),
        card(
            "Tiny base Q8_0",
            "The base quantized to Q8_0 for llama.cpp.",
            &[&id("base")],
            Some("quantized"),
            &["tiny", "gguf"],
        ),
    )?;
    names.push("tiny-base-q8".into());
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_deterministic_and_derivations_share_tensors() {
        let shape = TinyShape::TINY;
        let a = base_weights(&shape, 1);
        assert_eq!(a, base_weights(&shape, 1));
        assert_ne!(a, base_weights(&shape, 2));
        let ft = finetune(&a, 5, 3);
        let same = a.iter().filter(|(n, t)| ft[*n] == **t).count();
        assert!(same > 0 && same < a.len(), "{same} of {}", a.len());
        assert_eq!(a["model.norm.weight"].1, vec![1.0; 64]);
    }

    #[test]
    fn gguf_quantization_is_readable_by_the_lineage_scanner() {
        let w = base_weights(&TinyShape::TINY, 3);
        let bytes = gguf_q8_0_bytes(&w, &[("general.architecture", "llama")]);
        let manifest = grove_lineage::formats::scan(
            &mut std::io::Cursor::new(&bytes),
            bytes.len() as u64,
            grove_lineage::formats::WeightFormat::Gguf,
            &grove_lineage::formats::Limits::default(),
        )
        .unwrap();
        assert_eq!(manifest.tensors.len(), w.len());
        assert!(
            manifest
                .tensors
                .iter()
                .any(|t| t.name == "blk.1.attn_q.weight" && t.dtype == "Q8_0")
        );
    }

    #[test]
    fn safetensors_round_trip() {
        let w = base_weights(&TinyShape::TINY, 3);
        let bytes = safetensors_bytes(&w).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let t = st.tensor("lm_head.weight").unwrap();
        assert_eq!(t.shape(), &[vocab_size(), 64]);
    }
}
