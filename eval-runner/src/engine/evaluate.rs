//! Runs a prepared task on a loaded model: builds the requests, scores them, and turns the
//! log-likelihoods into per-document samples and aggregate metrics.

use std::collections::BTreeMap;

use super::load::LoadedModel;
use super::loglik::{self, BatchLimits, Request};
use crate::metrics::{self, ChoiceSample, MetricValue, RollingSample};
use crate::requests::Prepared;
use crate::spec::TaskSpec;

#[derive(Debug)]
pub struct TaskRun {
    pub metrics: BTreeMap<String, MetricValue>,
    /// Per-document samples (`ChoiceSample` or `RollingSample` as JSON).
    pub samples: Vec<serde_json::Value>,
    pub requests: usize,
    /// Tokens fed through the model (without padding).
    pub tokens: usize,
}

impl TaskRun {
    fn new<S: serde::Serialize>(
        metrics: BTreeMap<String, MetricValue>,
        samples: &[S],
        requests: usize,
        tokens: usize,
    ) -> TaskRun {
        TaskRun {
            metrics,
            samples: samples
                .iter()
                .map(|s| serde_json::to_value(s).unwrap_or_default())
                .collect(),
            requests,
            tokens,
        }
    }
}

/// Scores `prepared` with `model`. `progress(done, total)` is called after every batch; an error
/// from it (a lost lease) stops the run.
pub fn evaluate(
    model: &LoadedModel,
    spec: &TaskSpec,
    prepared: &Prepared,
    batch_tokens: usize,
    mut progress: impl FnMut(usize, usize) -> anyhow::Result<()>,
) -> anyhow::Result<TaskRun> {
    let tok = &model.tokenizer;
    let limits = BatchLimits {
        max_length: spec.max_length as usize,
        batch_tokens,
    };
    let fed = |reqs: &[Request]| -> usize {
        reqs.iter()
            .map(|r| (r.context.len() + r.continuation.len() - 1).min(limits.max_length))
            .sum()
    };
    match prepared {
        Prepared::MultipleChoice(items) => {
            let mut requests = Vec::new();
            for (doc, item) in items.iter().enumerate() {
                for i in 0..item.choices.len() {
                    let cont = item.continuation(i, &spec.target_delimiter);
                    requests.push(
                        loglik::encode_pair(tok, &item.context, &cont)
                            .map_err(|e| anyhow::anyhow!("document {doc}: {e}"))?,
                    );
                }
            }
            let total = requests.len();
            let scored = loglik::score(&model.decoder, &requests, limits, |d| progress(d, total))?;
            let mut next = scored.into_iter();
            let samples: Vec<ChoiceSample> = items
                .iter()
                .enumerate()
                .map(|(doc, item)| {
                    let mine: Vec<_> = next.by_ref().take(item.choices.len()).collect();
                    metrics::score_choices(
                        doc,
                        mine.iter().map(|s| s.ll).collect(),
                        mine.iter().map(|s| s.greedy).collect(),
                        &item.choices,
                        item.gold.clone(),
                    )
                })
                .collect();
            Ok(TaskRun::new(
                metrics::aggregate_choices(&samples, &spec.metrics),
                &samples,
                total,
                fed(&requests),
            ))
        }
        Prepared::Rolling(texts) => {
            let mut requests = Vec::new();
            let mut owner = Vec::new();
            let mut token_counts = Vec::new();
            for (doc, text) in texts.iter().enumerate() {
                let tokens = tok
                    .encode(text)
                    .map_err(|e| anyhow::anyhow!("document {doc}: {e}"))?;
                let windows =
                    loglik::rolling_windows(&tokens, tok.prefix_token(), limits.max_length);
                owner.extend(std::iter::repeat_n(doc, windows.len()));
                requests.extend(windows);
                token_counts.push(tokens.len());
            }
            let total = requests.len();
            let scored = loglik::score(&model.decoder, &requests, limits, |d| progress(d, total))?;
            let mut lls = vec![0.0f64; texts.len()];
            for (s, &doc) in scored.iter().zip(&owner) {
                lls[doc] += s.ll;
            }
            let samples: Vec<RollingSample> = texts
                .iter()
                .enumerate()
                .map(|(doc, text)| RollingSample {
                    doc,
                    ll: lls[doc],
                    words: metrics::count_words(text),
                    bytes: text.len(),
                    tokens: token_counts[doc],
                })
                .collect();
            Ok(TaskRun::new(
                metrics::aggregate_rolling(&samples, &spec.metrics),
                &samples,
                total,
                fed(&requests),
            ))
        }
    }
}
