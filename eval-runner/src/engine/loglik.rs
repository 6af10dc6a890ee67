//! Log-likelihood requests as lm-evaluation-harness tokenises and scores them.
//!
//! - A (context, continuation) pair: trailing whitespace of the context moves onto the
//!   continuation; the continuation's tokens are `encode(context + continuation)` minus the first
//!   `len(encode(context))` tokens; an empty context becomes the prefix token.
//! - Rolling windows: `max_length` predicted tokens each, the first one after the prefix token,
//!   later ones filled with earlier tokens as context, made disjoint.
//! - Scoring: input `(ctx + cont)[-(max_length + 1):][:-1]`, log-softmax in f32, the sum over the
//!   continuation's positions, and whether each continuation token is the argmax.
//!
//! Requests are scored longest first in padded batches (the harness's order); the result of a
//! request does not depend on its batch.

use candle_core::{D, DType, IndexOp, Tensor};

use super::decoder::Decoder;
use super::tokenizer::TextTokenizer;

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub context: Vec<u32>,
    pub continuation: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub ll: f64,
    pub greedy: bool,
}

/// Tokenises one (context, continuation) pair.
pub fn encode_pair(
    tok: &TextTokenizer,
    context: &str,
    continuation: &str,
) -> anyhow::Result<Request> {
    if context.is_empty() {
        let mut cont = tok.encode_plain(continuation)?;
        let ctx = if cont.first() == Some(&tok.prefix_token()) {
            vec![cont.remove(0)]
        } else {
            vec![tok.prefix_token()]
        };
        return check(ctx, cont);
    }
    let trimmed = context.trim_end();
    let moved = &context[trimmed.len()..];
    let (context, continuation) = (trimmed, format!("{moved}{continuation}"));
    let whole = tok.encode(&format!("{context}{continuation}"))?;
    let ctx = tok.encode(context)?;
    let cont = whole.get(ctx.len()..).unwrap_or_default().to_vec();
    check(ctx, cont)
}

fn check(context: Vec<u32>, continuation: Vec<u32>) -> anyhow::Result<Request> {
    anyhow::ensure!(
        !context.is_empty(),
        "a context encodes to no tokens (the tokenizer adds no BOS and the text is empty)"
    );
    anyhow::ensure!(
        !continuation.is_empty(),
        "a continuation encodes to no tokens"
    );
    Ok(Request {
        context,
        continuation,
    })
}

/// The harness's `get_rolling_token_windows(..., context_len=1)` followed by
/// `make_disjoint_window`.
pub fn rolling_windows(tokens: &[u32], prefix: u32, max_length: usize) -> Vec<Request> {
    let mut out = Vec::new();
    if tokens.is_empty() {
        return out;
    }
    let first = max_length.min(tokens.len());
    out.push(Request {
        context: vec![prefix],
        continuation: tokens[..first].to_vec(),
    });
    let mut predicted = first;
    while predicted < tokens.len() {
        let window = (tokens.len() - predicted).min(max_length);
        let end = predicted + window;
        let input = &tokens[end - max_length - 1..end - 1];
        out.push(Request {
            context: input[..input.len() - (window - 1)].to_vec(),
            continuation: tokens[end - window..end].to_vec(),
        });
        predicted += window;
    }
    out
}

/// Limits of one forward pass.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Longest model input (the task's `max_length`).
    pub max_length: usize,
    /// Most padded tokens per forward pass.
    pub batch_tokens: usize,
}

/// Scores every request; `progress` gets the number of requests finished so far.
pub fn score(
    model: &Decoder,
    requests: &[Request],
    limits: BatchLimits,
    mut progress: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Scored>> {
    let inputs: Vec<(Vec<u32>, usize)> = requests
        .iter()
        .map(|r| {
            anyhow::ensure!(
                r.continuation.len() <= limits.max_length,
                "a continuation of {} tokens is longer than max_length {}",
                r.continuation.len(),
                limits.max_length
            );
            let all: Vec<u32> = r.context.iter().chain(&r.continuation).copied().collect();
            let keep = all.len().min(limits.max_length + 1);
            let window = &all[all.len() - keep..all.len() - 1];
            Ok((window.to_vec(), r.continuation.len()))
        })
        .collect::<anyhow::Result<_>>()?;
    let vocab = model.config().vocab_size as u32;
    if let Some(bad) = inputs
        .iter()
        .flat_map(|(ids, _)| ids)
        .chain(requests.iter().flat_map(|r| &r.continuation))
        .find(|&&id| id >= vocab)
    {
        anyhow::bail!(
            "token id {bad} is outside the model's vocabulary of {vocab}: the tokenizer does not match the model"
        );
    }
    // Longest first, as the harness orders them.
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse(requests[i].context.len() + requests[i].continuation.len())
    });
    let mut results = vec![
        Scored {
            ll: 0.0,
            greedy: false
        };
        requests.len()
    ];
    let mut done = 0;
    let mut start = 0;
    while start < order.len() {
        let longest = inputs[order[start]].0.len();
        let per_batch = (limits.batch_tokens / longest.max(1)).clamp(1, 64);
        let batch = &order[start..(start + per_batch).min(order.len())];
        let mut ids = vec![0u32; batch.len() * longest];
        for (row, &i) in batch.iter().enumerate() {
            let (inp, _) = &inputs[i];
            ids[row * longest..row * longest + inp.len()].copy_from_slice(inp);
        }
        let ids = Tensor::from_vec(ids, (batch.len(), longest), model.device())?;
        let hidden = model.hidden_states(&ids)?;
        for (row, &i) in batch.iter().enumerate() {
            let (inp, cont_len) = &inputs[i];
            let start_row = inp.len() - cont_len;
            let logp = model.log_probs(&hidden.i(row)?, start_row, *cont_len)?;
            let target = Tensor::from_vec(
                requests[i].continuation.clone(),
                (*cont_len, 1),
                model.device(),
            )?;
            let picked: Vec<f32> = logp.gather(&target, 1)?.flatten_all()?.to_vec1()?;
            let best: Vec<u32> = logp.argmax(D::Minus1)?.to_dtype(DType::U32)?.to_vec1()?;
            results[i] = Scored {
                ll: picked.iter().map(|&x| x as f64).sum(),
                greedy: best == requests[i].continuation,
            };
        }
        done += batch.len();
        start += batch.len();
        progress(done)?;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_windows_follow_the_harness() {
        let tokens: Vec<u32> = (10..17).collect(); // 7 tokens
        let w = rolling_windows(&tokens, 1, 3);
        let as_pairs: Vec<(Vec<u32>, Vec<u32>)> =
            w.into_iter().map(|r| (r.context, r.continuation)).collect();
        assert_eq!(
            as_pairs,
            vec![
                (vec![1], vec![10, 11, 12]),
                (vec![12], vec![13, 14, 15]),
                (vec![13, 14, 15], vec![16]),
            ]
        );
        // Every token is predicted exactly once.
        assert!(rolling_windows(&[], 1, 3).is_empty());
        let w = rolling_windows(&tokens, 1, 5);
        assert_eq!(w[1].context, vec![11, 12, 13, 14]);
        assert_eq!(w[1].continuation, vec![15, 16]);
    }
}
