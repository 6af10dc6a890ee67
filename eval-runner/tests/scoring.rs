//! Scoring correctness on a tiny generated llama: the candle decoder's log-likelihoods against a
//! plain f64 re-implementation of the transformers forward pass written independently below
//! (loops, no candle), to 1e-4; batching and padding do not change a score; tokenisation of
//! context and continuation follows the harness.

#![cfg(feature = "engine")]

use grove_eval_runner::engine::evaluate::evaluate;
use grove_eval_runner::engine::load::{LoadedModel, load_model};
use grove_eval_runner::engine::loglik::{self, BatchLimits, Request};
use grove_eval_runner::requests::prepare;
use grove_eval_runner::spec::parse_task;
use grove_eval_runner::tiny::{self, TinyShape, Weights};

fn tiny_model(dir: &std::path::Path, weights: &Weights) -> LoadedModel {
    tiny::write_model(dir, &TinyShape::TINY, weights, "# t\n").unwrap();
    load_model(
        dir,
        &["model.safetensors".to_string()],
        true,
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
    )
    .unwrap()
}

// --- the reference: the transformers llama forward pass, one float at a time -----------------

struct Reference<'a> {
    w: &'a Weights,
    s: TinyShape,
}

impl Reference<'_> {
    fn t(&self, name: &str) -> &[f32] {
        &self.w[name].1
    }

    /// y = x W^T for W of shape (out, inp).
    fn matmul(&self, x: &[Vec<f64>], name: &str) -> Vec<Vec<f64>> {
        let (shape, w) = &self.w[name];
        let (out, inp) = (shape[0], shape[1]);
        x.iter()
            .map(|row| {
                (0..out)
                    .map(|o| (0..inp).map(|i| row[i] * w[o * inp + i] as f64).sum())
                    .collect()
            })
            .collect()
    }

    fn rms_norm(&self, x: &[Vec<f64>], name: &str) -> Vec<Vec<f64>> {
        let w = self.t(name);
        x.iter()
            .map(|row| {
                let ms = row.iter().map(|v| v * v).sum::<f64>() / row.len() as f64;
                let r = 1.0 / (ms + 1e-5).sqrt();
                row.iter().zip(w).map(|(v, g)| v * r * *g as f64).collect()
            })
            .collect()
    }

    fn rope(&self, x: &mut [Vec<f64>], heads: usize) {
        let d = self.s.hidden / self.s.heads;
        for (p, row) in x.iter_mut().enumerate() {
            for h in 0..heads {
                for i in 0..d / 2 {
                    let angle = p as f64 / 10000f64.powf(2.0 * i as f64 / d as f64);
                    let (a, b) = (row[h * d + i], row[h * d + i + d / 2]);
                    row[h * d + i] = a * angle.cos() - b * angle.sin();
                    row[h * d + i + d / 2] = b * angle.cos() + a * angle.sin();
                }
            }
        }
    }

    /// Log-probabilities of every next token, one row per position.
    fn log_probs(&self, tokens: &[u32]) -> Vec<Vec<f64>> {
        let s = self.s;
        let d = s.hidden / s.heads;
        let rep = s.heads / s.kv_heads;
        let emb = self.t("model.embed_tokens.weight");
        let mut x: Vec<Vec<f64>> = tokens
            .iter()
            .map(|&t| {
                (0..s.hidden)
                    .map(|i| emb[t as usize * s.hidden + i] as f64)
                    .collect()
            })
            .collect();
        for l in 0..s.layers {
            let p = format!("model.layers.{l}");
            let n = self.rms_norm(&x, &format!("{p}.input_layernorm.weight"));
            let mut q = self.matmul(&n, &format!("{p}.self_attn.q_proj.weight"));
            let mut k = self.matmul(&n, &format!("{p}.self_attn.k_proj.weight"));
            let v = self.matmul(&n, &format!("{p}.self_attn.v_proj.weight"));
            self.rope(&mut q, s.heads);
            self.rope(&mut k, s.kv_heads);
            let mut attn = vec![vec![0.0; s.hidden]; tokens.len()];
            for h in 0..s.heads {
                let kh = h / rep;
                for i in 0..tokens.len() {
                    let scores: Vec<f64> = (0..=i)
                        .map(|j| {
                            (0..d)
                                .map(|c| q[i][h * d + c] * k[j][kh * d + c])
                                .sum::<f64>()
                                / (d as f64).sqrt()
                        })
                        .collect();
                    let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let z: f64 = scores.iter().map(|s| (s - m).exp()).sum();
                    for (j, sc) in scores.iter().enumerate() {
                        let pr = (sc - m).exp() / z;
                        for c in 0..d {
                            attn[i][h * d + c] += pr * v[j][kh * d + c];
                        }
                    }
                }
            }
            let o = self.matmul(&attn, &format!("{p}.self_attn.o_proj.weight"));
            for (xi, oi) in x.iter_mut().zip(&o) {
                xi.iter_mut().zip(oi).for_each(|(a, b)| *a += b);
            }
            let n = self.rms_norm(&x, &format!("{p}.post_attention_layernorm.weight"));
            let g = self.matmul(&n, &format!("{p}.mlp.gate_proj.weight"));
            let u = self.matmul(&n, &format!("{p}.mlp.up_proj.weight"));
            let act: Vec<Vec<f64>> = g
                .iter()
                .zip(&u)
                .map(|(gr, ur)| {
                    gr.iter()
                        .zip(ur)
                        .map(|(a, b)| a / (1.0 + (-a).exp()) * b)
                        .collect()
                })
                .collect();
            let down = self.matmul(&act, &format!("{p}.mlp.down_proj.weight"));
            for (xi, di) in x.iter_mut().zip(&down) {
                xi.iter_mut().zip(di).for_each(|(a, b)| *a += b);
            }
        }
        let n = self.rms_norm(&x, "model.norm.weight");
        self.matmul(&n, "lm_head.weight")
            .into_iter()
            .map(|logits| {
                let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
                logits.iter().map(|l| l - lse).collect()
            })
            .collect()
    }

    /// sum log p(continuation | context), by hand.
    fn loglikelihood(&self, r: &Request) -> f64 {
        let all: Vec<u32> = r.context.iter().chain(&r.continuation).copied().collect();
        let lp = self.log_probs(&all[..all.len() - 1]);
        let start = r.context.len() - 1;
        r.continuation
            .iter()
            .enumerate()
            .map(|(i, &tok)| lp[start + i][tok as usize])
            .sum()
    }
}

const LIMITS: BatchLimits = BatchLimits {
    max_length: 256,
    batch_tokens: 4096,
};

#[test]
fn log_likelihoods_match_a_hand_written_forward_pass() {
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny::base_weights(&TinyShape::TINY, 42);
    let model = tiny_model(dir.path(), &weights);
    let reference = Reference {
        w: &weights,
        s: TinyShape::TINY,
    };
    let pairs = [
        ("Question: what is two plus two?\nAnswer:", " four"),
        ("The capital of France is", " Paris, of course."),
        ("x", " y"),
        ("", "hello world"),
    ];
    let requests: Vec<Request> = pairs
        .iter()
        .map(|(c, x)| loglik::encode_pair(&model.tokenizer, c, x).unwrap())
        .collect();
    let scored = loglik::score(&model.decoder, &requests, LIMITS, |_| Ok(())).unwrap();
    for (r, s) in requests.iter().zip(&scored) {
        let want = reference.loglikelihood(r);
        assert!(
            (s.ll - want).abs() < 1e-4,
            "{r:?}: candle {} vs reference {want}",
            s.ll
        );
        assert!(s.ll < 0.0);
    }
    // Scored one at a time (no padding), every request gets the same answer.
    for (r, s) in requests.iter().zip(&scored) {
        let alone =
            loglik::score(&model.decoder, std::slice::from_ref(r), LIMITS, |_| Ok(())).unwrap();
        assert!((alone[0].ll - s.ll).abs() < 1e-5);
        assert_eq!(alone[0].greedy, s.greedy);
    }
}

#[test]
fn context_and_continuation_are_split_like_the_harness() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), &tiny::base_weights(&TinyShape::TINY, 1));
    let tok = &model.tokenizer;
    // The context's trailing space moves onto the continuation; BOS (id 1) leads the context.
    let r = loglik::encode_pair(tok, "x: ", "b").unwrap();
    assert_eq!(r.context, tok.encode("x:").unwrap());
    assert_eq!(r.context[0], 1);
    // " b" is the single token "▁b", which is also how "b" encodes with the prepended marker.
    assert_eq!(r.continuation, tok.encode_plain("b").unwrap());
    assert_eq!(r.continuation.len(), 1);
    // An empty context becomes the prefix token.
    let r = loglik::encode_pair(tok, "", "ab").unwrap();
    assert_eq!(r.context, vec![1]);
    assert_eq!(r.continuation, tok.encode_plain("ab").unwrap());
}

#[test]
fn a_task_runs_end_to_end_and_greedy_continuations_win() {
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny::base_weights(&TinyShape::TINY, 9);
    let model = tiny_model(dir.path(), &weights);
    // Build a choice the model itself prefers: its greedy next token after the context.
    let reference = Reference {
        w: &weights,
        s: TinyShape::TINY,
    };
    let ctx = model.tokenizer.encode("Pick:").unwrap();
    let lp = reference.log_probs(&ctx);
    let last = lp.last().unwrap();
    // Single printable characters (ids 4..=97), so each choice is one token glued to the context.
    let best = (4..98)
        .max_by(|&a, &b| last[a].total_cmp(&last[b]))
        .unwrap();
    let worst = (4..98)
        .min_by(|&a, &b| last[a].total_cmp(&last[b]))
        .unwrap();
    let vocab = tiny::tokenizer_json();
    let text_of = |id: usize| {
        vocab["model"]["vocab"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, v)| v.as_u64() == Some(id as u64))
            .unwrap()
            .0
            .clone()
    };
    let (good, bad) = (text_of(best), text_of(worst));
    let spec = parse_task(&String::from(
        "task: t\ntype: multiple_choice\ndata: d.jsonl\ndoc_to_text: \"Pick:\"\n\
         doc_to_choice: c\ndoc_to_target: a\ntarget_delimiter: \"\"\n",
    ))
    .unwrap();
    let docs = vec![
        serde_json::json!({"c": [bad.clone(), good.clone()], "a": 1}),
        serde_json::json!({"c": [good.clone(), bad.clone()], "a": 0}),
    ];
    let prepared = prepare(&spec, &docs, None).unwrap();
    let mut calls = 0;
    let run = evaluate(&model, &spec, &prepared, 4096, |done, total| {
        calls += 1;
        assert!(done <= total && total == 4);
        Ok(())
    })
    .unwrap();
    assert!(calls >= 1);
    assert_eq!(run.metrics["acc"].value, 1.0, "{:?}", run.samples);
    assert_eq!(run.samples[0]["greedy"], serde_json::json!([false, true]));
}
