//! Metrics as lm-evaluation-harness defines them, plus what a leaderboard needs on top:
//! percentile bootstrap confidence intervals (seeded, so two workers agree), the random-baseline
//! normalisation of the Open LLM Leaderboard, and ranks that respect the intervals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pyrandom::PyRandom;
use crate::spec::higher_is_better;

/// Bootstrap replicates behind every confidence interval.
pub const BOOTSTRAP_ITERS: usize = 1000;
/// Seed of the bootstrap's generator (recorded with each result).
pub const BOOTSTRAP_SEED: u64 = 0;

/// Per-document scores of a multiple-choice task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceSample {
    pub doc: usize,
    /// Log-likelihood of each choice's continuation.
    pub lls: Vec<f64>,
    /// Whether each continuation is the greedy decoding.
    pub greedy: Vec<bool>,
    pub gold: Vec<usize>,
    pub acc: f64,
    pub acc_norm: f64,
    pub acc_bytes: f64,
}

/// Per-document scores of a rolling log-likelihood task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingSample {
    pub doc: usize,
    pub ll: f64,
    pub words: usize,
    pub bytes: usize,
    pub tokens: usize,
}

/// The first index of the largest value (numpy's argmax on ties).
fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (i, v) in values.enumerate() {
        if i == 0 || v > best_v {
            best = i;
            best_v = v;
        }
    }
    best
}

/// Scores one multiple-choice document: `acc` on raw log-likelihoods, `acc_norm` divided by the
/// choice's length in Unicode characters, `acc_bytes` by its UTF-8 bytes.
pub fn score_choices(
    doc: usize,
    lls: Vec<f64>,
    greedy: Vec<bool>,
    choices: &[String],
    gold: Vec<usize>,
) -> ChoiceSample {
    let hit = |pred: usize| if gold.contains(&pred) { 1.0 } else { 0.0 };
    let pred = argmax(lls.iter().copied());
    let pred_norm = argmax(
        lls.iter()
            .zip(choices)
            .map(|(ll, c)| ll / c.chars().count() as f64),
    );
    let pred_bytes = argmax(lls.iter().zip(choices).map(|(ll, c)| ll / c.len() as f64));
    ChoiceSample {
        doc,
        acc: hit(pred),
        acc_norm: hit(pred_norm),
        acc_bytes: hit(pred_bytes),
        lls,
        greedy,
        gold,
    }
}

/// `len(re.split(r"\s+", text))`: whitespace runs plus one (leading and trailing runs count).
pub fn count_words(text: &str) -> usize {
    let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let mut runs = 0;
    let mut in_run = false;
    for c in text.chars() {
        let space = is_space(c);
        if space && !in_run {
            runs += 1;
        }
        in_run = space;
    }
    runs + 1
}

/// One metric of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    pub value: f64,
    /// Standard error as the harness reports it (none for perplexities).
    pub stderr: Option<f64>,
    /// 95% percentile bootstrap interval.
    pub ci_low: f64,
    pub ci_high: f64,
    /// `max(0, (raw - baseline) / (1 - baseline)) * 100` against random guessing, for accuracies.
    pub normalized: Option<f64>,
    /// The score of random guessing that `normalized` is measured from.
    #[serde(default)]
    pub random_baseline: Option<f64>,
    pub higher_is_better: bool,
}

/// `max(0, (x - baseline) / (1 - baseline)) * 100`.
pub fn normalize(x: f64, baseline: f64) -> f64 {
    ((x - baseline) / (1.0 - baseline)).max(0.0) * 100.0
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// `sample_stddev / sqrt(n)` (Bessel-corrected), none for n <= 1.
fn mean_stderr(xs: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n <= 1 {
        return None;
    }
    let m = mean(xs);
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((var / n as f64).sqrt())
}

/// The 2.5th and 97.5th percentiles (linear interpolation, numpy's default).
fn percentile_interval(mut reps: Vec<f64>) -> (f64, f64) {
    reps.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        let pos = q * (reps.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        reps[lo] + (reps[hi] - reps[lo]) * (pos - lo as f64)
    };
    (at(0.025), at(0.975))
}

/// Bootstrap replicates of `stat` over documents, resampled with CPython's `choices`.
fn bootstrap(n: usize, stat: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    let mut rnd = PyRandom::new(BOOTSTRAP_SEED);
    (0..BOOTSTRAP_ITERS)
        .map(|_| stat(&rnd.choices(n, n)))
        .collect()
}

/// Aggregates multiple-choice samples into the requested metrics.
pub fn aggregate_choices(
    samples: &[ChoiceSample],
    metrics: &[String],
) -> BTreeMap<String, MetricValue> {
    let n = samples.len();
    // Random guessing scores the mean of 1/choices (per document).
    let baseline = samples
        .iter()
        .map(|s| s.gold.len() as f64 / s.lls.len() as f64)
        .sum::<f64>()
        / n as f64;
    let mut out = BTreeMap::new();
    for metric in metrics {
        let pick = |s: &ChoiceSample| match metric.as_str() {
            "acc_norm" => s.acc_norm,
            "acc_bytes" => s.acc_bytes,
            _ => s.acc,
        };
        let xs: Vec<f64> = samples.iter().map(pick).collect();
        let value = mean(&xs);
        let (ci_low, ci_high) = percentile_interval(bootstrap(n, |idx| {
            idx.iter().map(|&i| xs[i]).sum::<f64>() / n as f64
        }));
        let normalized = (baseline < 1.0).then(|| normalize(value, baseline));
        out.insert(
            metric.clone(),
            MetricValue {
                value,
                stderr: mean_stderr(&xs),
                ci_low,
                ci_high,
                normalized,
                random_baseline: (baseline < 1.0).then_some(baseline),
                higher_is_better: true,
            },
        );
    }
    out
}

fn rolling_value(metric: &str, ll: f64, words: f64, bytes: f64) -> f64 {
    match metric {
        "word_perplexity" => (-ll / words).exp(),
        "byte_perplexity" => (-ll / bytes).exp(),
        _ => -ll / bytes / std::f64::consts::LN_2,
    }
}

/// Aggregates rolling samples: pooled over documents (`Σ ll / Σ units`), as the harness does.
pub fn aggregate_rolling(
    samples: &[RollingSample],
    metrics: &[String],
) -> BTreeMap<String, MetricValue> {
    let n = samples.len();
    let mut out = BTreeMap::new();
    for metric in metrics {
        let pooled = |idx: &mut dyn Iterator<Item = usize>| {
            let (mut ll, mut words, mut bytes) = (0.0, 0.0, 0.0);
            for i in idx {
                ll += samples[i].ll;
                words += samples[i].words as f64;
                bytes += samples[i].bytes as f64;
            }
            rolling_value(metric, ll, words, bytes)
        };
        let value = pooled(&mut (0..n));
        let (ci_low, ci_high) =
            percentile_interval(bootstrap(n, |idx| pooled(&mut idx.iter().copied())));
        out.insert(
            metric.clone(),
            MetricValue {
                value,
                stderr: None,
                ci_low,
                ci_high,
                normalized: None,
                random_baseline: None,
                higher_is_better: higher_is_better(metric),
            },
        );
    }
    out
}

/// Largest difference between two results' metrics, relative to the size of the value (at
/// least 1), or `None` when they do not report the same metrics.
pub fn max_relative_difference(
    a: &BTreeMap<String, MetricValue>,
    b: &BTreeMap<String, MetricValue>,
) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let mut worst = 0.0f64;
    for (name, va) in a {
        let vb = b.get(name)?;
        worst = worst.max((va.value - vb.value).abs() / va.value.abs().max(1.0));
    }
    Some(worst)
}

/// How close two independent runs must be to call a result reproduced.
pub const REPRODUCE_TOLERANCE: f64 = 1e-4;

/// Ranks that respect the intervals (as Chatbot Arena does): 1 + the number of entries that are
/// better with no overlap, i.e. whose worst bound beats this entry's best bound.
pub fn interval_ranks(entries: &[(f64, f64)], higher_is_better: bool) -> Vec<usize> {
    entries
        .iter()
        .map(|&(lo, hi)| {
            1 + entries
                .iter()
                .filter(|&&(olo, ohi)| if higher_is_better { olo > hi } else { ohi < lo })
                .count()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &[&str]) -> Vec<String> {
        x.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn acc_and_acc_norm_as_the_harness_defines_them() {
        // Raw log-likelihoods favour the short choice; per character the long one wins.
        let choices = s(&["no", "absolutely"]);
        let sample = score_choices(0, vec![-2.0, -6.0], vec![false, false], &choices, vec![1]);
        assert_eq!((sample.acc, sample.acc_norm), (0.0, 1.0));
        // Characters, not bytes: "né" is 2 characters but 3 bytes.
        let choices = s(&["né", "ab"]);
        let sample = score_choices(0, vec![-2.9, -2.0], vec![false, false], &choices, vec![0]);
        assert_eq!(
            (sample.acc, sample.acc_norm, sample.acc_bytes),
            (0.0, 0.0, 1.0)
        );
        // Ties go to the first choice, as numpy's argmax does.
        let sample = score_choices(
            0,
            vec![-1.0, -1.0],
            vec![true, true],
            &s(&["a", "b"]),
            vec![1],
        );
        assert_eq!(sample.acc, 0.0);
    }

    #[test]
    fn words_are_counted_like_re_split() {
        assert_eq!(count_words(" a b "), 4);
        assert_eq!(count_words("a  b\n\tc"), 3);
        assert_eq!(count_words(""), 1);
    }

    #[test]
    fn aggregates_with_stderr_interval_and_normalisation() {
        let choices = s(&["a", "b", "c", "d"]);
        let samples: Vec<ChoiceSample> = (0..40)
            .map(|i| {
                let lls = if i % 2 == 0 {
                    vec![0.0, -1.0, -1.0, -1.0]
                } else {
                    vec![-1.0, 0.0, -1.0, -1.0]
                };
                score_choices(i, lls, vec![false; 4], &choices, vec![0])
            })
            .collect();
        let m = &aggregate_choices(&samples, &s(&["acc"]))["acc"];
        assert_eq!(m.value, 0.5);
        // sqrt(0.25 * 40/39 / 40)
        assert!((m.stderr.unwrap() - 0.080_064_076).abs() < 1e-8);
        assert!(m.ci_low < 0.5 && m.ci_high > 0.5 && m.ci_low > 0.2 && m.ci_high < 0.8);
        // (0.5 - 0.25) / 0.75 * 100
        assert!((m.normalized.unwrap() - 33.333_333).abs() < 1e-4);
    }

    #[test]
    fn rolling_metrics_are_pooled() {
        let samples = vec![
            RollingSample {
                doc: 0,
                ll: -10.0,
                words: 2,
                bytes: 10,
                tokens: 5,
            },
            RollingSample {
                doc: 1,
                ll: -30.0,
                words: 3,
                bytes: 10,
                tokens: 5,
            },
        ];
        let m = aggregate_rolling(&samples, &s(&["bits_per_byte", "word_perplexity"]));
        assert!((m["bits_per_byte"].value - 2.0 / std::f64::consts::LN_2).abs() < 1e-12);
        assert!((m["word_perplexity"].value - 8f64.exp()).abs() < 1e-9);
        assert!(!m["bits_per_byte"].higher_is_better);
    }

    #[test]
    fn ranks_respect_intervals() {
        let ranks = interval_ranks(&[(0.7, 0.8), (0.65, 0.75), (0.3, 0.4)], true);
        assert_eq!(ranks, vec![1, 1, 3]);
    }
}
