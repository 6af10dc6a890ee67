//! One decoder for the llama, mistral and qwen2 families, written for scoring: the forward pass
//! returns the final hidden state of **every** position (candle-transformers' causal LMs return
//! only the last one), and the output head is applied only to the rows a request scores, so a
//! 2048-token batch never materialises `tokens x vocabulary` logits it does not need.
//!
//! Semantics follow the transformers implementations: pre-norm residual blocks, RMSNorm and
//! attention softmax in f32, rotary embeddings in the "rotate half" layout, grouped-query
//! attention, SiLU-gated MLP, tied or separate output head.

use candle_core::{D, DType, Device, IndexOp, Module, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder};

use crate::model_config::ModelConfig;

struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn load(size: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<RmsNorm> {
        Ok(RmsNorm {
            weight: vb.get(size, "weight")?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?;
        let var = x.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = x.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed.to_dtype(dtype)?.broadcast_mul(&self.weight)
    }
}

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

struct Layer {
    input_norm: RmsNorm,
    attn: Attention,
    post_norm: RmsNorm,
    mlp: Mlp,
}

pub struct Decoder {
    embed: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    head: Linear,
    cfg: ModelConfig,
    device: Device,
}

fn linear(inp: usize, out: usize, bias: bool, vb: VarBuilder) -> candle_core::Result<Linear> {
    let w = vb.get((out, inp), "weight")?;
    let b = if bias {
        Some(vb.get(out, "bias")?)
    } else {
        None
    };
    Ok(Linear::new(w, b))
}

impl Decoder {
    /// Builds the model from `vb`; a missing tensor or one whose shape disagrees with the config
    /// is an error naming the tensor.
    pub fn load(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<Decoder> {
        let h = cfg.hidden_size;
        let m = vb.pp("model");
        let embed = Embedding::new(m.get((cfg.vocab_size, h), "embed_tokens.weight")?, h);
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let l = m.pp(format!("layers.{i}"));
            let a = l.pp("self_attn");
            let q_out = cfg.num_heads * cfg.head_dim;
            let kv_out = cfg.num_kv_heads * cfg.head_dim;
            let p = l.pp("mlp");
            layers.push(Layer {
                input_norm: RmsNorm::load(h, cfg.rms_norm_eps, l.pp("input_layernorm"))?,
                attn: Attention {
                    q: linear(h, q_out, cfg.qkv_bias, a.pp("q_proj"))?,
                    k: linear(h, kv_out, cfg.qkv_bias, a.pp("k_proj"))?,
                    v: linear(h, kv_out, cfg.qkv_bias, a.pp("v_proj"))?,
                    o: linear(q_out, h, false, a.pp("o_proj"))?,
                    heads: cfg.num_heads,
                    kv_heads: cfg.num_kv_heads,
                    head_dim: cfg.head_dim,
                },
                post_norm: RmsNorm::load(h, cfg.rms_norm_eps, l.pp("post_attention_layernorm"))?,
                mlp: Mlp {
                    gate: linear(h, cfg.intermediate_size, false, p.pp("gate_proj"))?,
                    up: linear(h, cfg.intermediate_size, false, p.pp("up_proj"))?,
                    down: linear(cfg.intermediate_size, h, false, p.pp("down_proj"))?,
                },
            });
        }
        let norm = RmsNorm::load(h, cfg.rms_norm_eps, m.pp("norm"))?;
        let head = if vb.contains_tensor("lm_head.weight") {
            Linear::new(vb.get((cfg.vocab_size, h), "lm_head.weight")?, None)
        } else if cfg.tie_word_embeddings {
            Linear::new(embed.embeddings().clone(), None)
        } else {
            return Err(candle_core::Error::Msg(
                "lm_head.weight is missing and tie_word_embeddings is not set".into(),
            ));
        };
        Ok(Decoder {
            embed,
            layers,
            norm,
            head,
            cfg: cfg.clone(),
            device: vb.device().clone(),
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// cos and sin tables `(t, head_dim / 2)` for positions `0..t`, computed in f32.
    fn rope_tables(&self, t: usize, dtype: DType) -> candle_core::Result<(Tensor, Tensor)> {
        let d = self.cfg.head_dim;
        let inv: Vec<f32> = (0..d / 2)
            .map(|i| 1.0 / (self.cfg.rope_theta as f32).powf(2.0 * i as f32 / d as f32))
            .collect();
        let inv = Tensor::from_vec(inv, (1, d / 2), &self.device)?;
        let pos = Tensor::arange(0u32, t as u32, &self.device)?
            .to_dtype(DType::F32)?
            .reshape((t, 1))?;
        let freqs = pos.broadcast_mul(&inv)?;
        Ok((freqs.cos()?.to_dtype(dtype)?, freqs.sin()?.to_dtype(dtype)?))
    }

    /// `(t, t)` additive mask: −inf above the diagonal and outside the sliding window.
    fn causal_mask(&self, t: usize) -> candle_core::Result<Tensor> {
        let window = self.cfg.sliding_window;
        let mask: Vec<f32> = (0..t)
            .flat_map(|i| {
                (0..t).map(move |j| {
                    // transformers: a token sees itself and the w - 1 before it.
                    let hidden = j > i || window.is_some_and(|w| j + w <= i);
                    if hidden { f32::NEG_INFINITY } else { 0.0 }
                })
            })
            .collect();
        Tensor::from_vec(mask, (t, t), &self.device)
    }

    /// Final hidden states `(b, t, hidden)` for token ids `(b, t)`. Right padding is harmless:
    /// attention is causal, so padding never reaches the positions before it.
    pub fn hidden_states(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let mut x = self.embed.forward(ids)?;
        let (cos, sin) = self.rope_tables(t, x.dtype())?;
        let mask = self.causal_mask(t)?;
        for layer in &self.layers {
            let a = &layer.attn;
            let n = layer.input_norm.forward(&x)?;
            let split = |proj: &Linear, heads: usize| -> candle_core::Result<Tensor> {
                proj.forward(&n)?
                    .reshape((b, t, heads, a.head_dim))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = candle_nn::rotary_emb::rope(&split(&a.q, a.heads)?, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope(&split(&a.k, a.kv_heads)?, &cos, &sin)?;
            let v = split(&a.v, a.kv_heads)?;
            let rep = a.heads / a.kv_heads;
            let (k, v) = if rep > 1 {
                let expand = |x: Tensor| -> candle_core::Result<Tensor> {
                    Tensor::cat(&vec![&x; rep], 2)?.reshape((b, a.heads, t, a.head_dim))
                };
                (expand(k)?, expand(v)?)
            } else {
                (k, v)
            };
            let scale = 1.0 / (a.head_dim as f64).sqrt();
            let q32 = q.to_dtype(DType::F32)?;
            let k32 = k.to_dtype(DType::F32)?;
            let scores = (q32.matmul(&k32.t()?)? * scale)?.broadcast_add(&mask)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs
                .matmul(&v.to_dtype(DType::F32)?)?
                .to_dtype(x.dtype())?
                .transpose(1, 2)?
                .reshape((b, t, a.heads * a.head_dim))?;
            let h = (x + a.o.forward(&ctx)?)?;
            let n = layer.post_norm.forward(&h)?;
            let gated = (candle_nn::ops::silu(&layer.mlp.gate.forward(&n)?)?
                * layer.mlp.up.forward(&n)?)?;
            x = (h + layer.mlp.down.forward(&gated)?)?;
        }
        self.norm.forward(&x)
    }

    /// Log-probabilities (f32) over the vocabulary for the given rows of one sequence's hidden
    /// states: `rows` is `(start, len)` into `hidden` of shape `(t, hidden)`.
    pub fn log_probs(
        &self,
        hidden: &Tensor,
        start: usize,
        len: usize,
    ) -> candle_core::Result<Tensor> {
        let rows = hidden.i((start..start + len, ..))?;
        let logits = self.head.forward(&rows)?.to_dtype(DType::F32)?;
        candle_nn::ops::log_softmax(&logits, D::Minus1)
    }
}
