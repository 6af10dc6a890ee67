//! Checking a declared edge against the weights: child and parent tensor manifests compared by
//! canonical name, shape, content hash and value samples. The verdict carries its evidence as
//! numbers so a reader can judge it.
//!
//! Rules (thresholds are constants below):
//! - no tensors on either side: `unverified`.
//! - `adapter`: every LoRA pair must target a base weight whose shape fits (`A: [r, in]`,
//!   `B: [out, r]` for a base `[out, in]`): all fit -> verified; under half fit -> contradicted.
//! - `quantized`: base tensors found by name in the child (GGUF names mapped) and with the same
//!   logical shape: >= 90% -> verified unless float tensors that can be compared disagree; under
//!   50%, or comparable float tensors mostly far apart -> contradicted.
//! - `fork`, `finetune`, `merge`, `distill`: tensors with the parent's name and shape are compared
//!   by hash (identical) and, when they differ, by the relative distance of their value samples
//!   (close when under `CLOSE_DELTA`). Related = bytes of identical + close tensors over the
//!   bytes compared (tiny tensors shared by everyone weigh little). Under 50% shape matches ->
//!   contradicted (unverified for `distill`, whose students usually differ in shape); related
//!   fraction >= 90% (50% for a merge parent) -> verified; under 10% -> contradicted.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::formats::TensorEntry;
use crate::names::{LoraPart, canonical, is_packed, lora_target};
use crate::relation::{Relation, Verification};

/// Samples closer than this (relative L2 distance) count as the same tensor after training.
/// Independent random tensors of the same distribution sit near sqrt(2) = 1.41.
pub const CLOSE_DELTA: f64 = 0.5;
const VERIFIED_SHAPES: f64 = 0.9;
const CONTRADICTED_SHAPES: f64 = 0.5;
const VERIFIED_RELATED: f64 = 0.9;
const VERIFIED_RELATED_MERGE: f64 = 0.5;
const CONTRADICTED_RELATED: f64 = 0.1;

/// The numbers behind a verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub rule: String,
    pub parent_tensors: u64,
    pub child_tensors: u64,
    /// Parent tensors found by (canonical) name in the child.
    pub name_matches: u64,
    /// ... of which with the same logical shape.
    pub shape_matches: u64,
    /// ... of which byte-identical.
    pub identical: u64,
    /// Changed tensors whose samples are within `CLOSE_DELTA` of the parent's.
    pub close: u64,
    /// Changed tensors whose samples are farther apart.
    pub far: u64,
    /// Changed tensors that could not be compared by value (quantized or integer dtypes).
    pub incomparable: u64,
    pub identical_fraction: f64,
    pub shape_match_fraction: f64,
    /// Bytes of (identical + close) over bytes of (identical + close + far): weighted by size
    /// so that tiny tensors every model shares (norms initialised to ones) weigh little.
    /// Absent when nothing was comparable.
    pub related_fraction: Option<f64>,
    pub median_relative_delta: Option<f64>,
    /// Bytes of the parent's tensors that the child reuses unchanged.
    pub identical_bytes: u64,
    pub close_bytes: u64,
    pub far_bytes: u64,
    pub adapter_pairs: Option<u64>,
    pub adapter_pairs_fitting: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub state: Verification,
    pub evidence: Evidence,
}

/// Relative L2 distance between two samples of the same elements.
pub fn relative_delta(child: &[f32], parent: &[f32]) -> Option<f64> {
    if child.len() != parent.len() || child.is_empty() {
        return None;
    }
    let (mut diff, mut norm) = (0f64, 0f64);
    for (c, p) in child.iter().zip(parent) {
        let (c, p) = (f64::from(*c), f64::from(*p));
        if !c.is_finite() || !p.is_finite() {
            return None;
        }
        diff += (c - p) * (c - p);
        norm += p * p;
    }
    Some(if norm == 0.0 {
        if diff == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (diff / norm).sqrt()
    })
}

fn fraction(n: u64, d: u64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// Compares tensors of the child with the parent's by canonical name.
fn compare(child: &[TensorEntry], parent: &[TensorEntry]) -> Evidence {
    let by_name: HashMap<String, &TensorEntry> =
        child.iter().map(|t| (canonical(&t.name), t)).collect();
    let mut e = Evidence {
        parent_tensors: parent.len() as u64,
        child_tensors: child.len() as u64,
        ..Default::default()
    };
    let mut deltas = Vec::new();
    for p in parent {
        let Some(c) = by_name.get(&canonical(&p.name)) else {
            continue;
        };
        e.name_matches += 1;
        if is_packed(&c.name) || c.shape != p.shape {
            continue;
        }
        e.shape_matches += 1;
        if c.hash == p.hash {
            e.identical += 1;
            e.identical_bytes += p.end - p.begin;
            continue;
        }
        match (&c.sample, &p.sample) {
            (Some(cs), Some(ps)) => match relative_delta(cs, ps) {
                Some(d) => {
                    if d < CLOSE_DELTA {
                        e.close += 1;
                        e.close_bytes += p.end - p.begin;
                    } else {
                        e.far += 1;
                        e.far_bytes += p.end - p.begin;
                    }
                    if d.is_finite() {
                        deltas.push(d);
                    }
                }
                None => e.incomparable += 1,
            },
            _ => e.incomparable += 1,
        }
    }
    e.identical_fraction = fraction(e.identical, e.parent_tensors);
    e.shape_match_fraction = fraction(e.shape_matches, e.parent_tensors);
    let comparable = e.identical_bytes + e.close_bytes + e.far_bytes;
    e.related_fraction = (e.identical + e.close + e.far > 0)
        .then(|| fraction(e.identical_bytes + e.close_bytes, comparable));
    if !deltas.is_empty() {
        deltas.sort_by(f64::total_cmp);
        e.median_relative_delta = Some(deltas[deltas.len() / 2]);
    }
    e
}

fn adapter_verdict(child: &[TensorEntry], parent: &[TensorEntry], rank: Option<u64>) -> Verdict {
    let base: HashMap<String, &TensorEntry> =
        parent.iter().map(|t| (canonical(&t.name), t)).collect();
    let mut pairs: HashMap<String, (Option<&TensorEntry>, Option<&TensorEntry>)> = HashMap::new();
    for t in child {
        if let Some((target, part)) = lora_target(&t.name) {
            let slot = pairs.entry(target).or_default();
            match part {
                LoraPart::A => slot.0 = Some(t),
                LoraPart::B => slot.1 = Some(t),
            }
        }
    }
    let mut fitting = 0u64;
    for (target, (a, b)) in &pairs {
        let (Some(a), Some(b), Some(w)) = (a, b, base.get(target)) else {
            continue;
        };
        let fits = match (a.shape.as_slice(), b.shape.as_slice(), w.shape.as_slice()) {
            ([r, input], [out, r2], [w_out, w_in]) => {
                r == r2 && input == w_in && out == w_out && rank.is_none_or(|k| k == *r)
            }
            _ => false,
        };
        fitting += u64::from(fits);
    }
    let n = pairs.len() as u64;
    let mut evidence = Evidence {
        rule: "adapter target shapes".into(),
        parent_tensors: parent.len() as u64,
        child_tensors: child.len() as u64,
        adapter_pairs: Some(n),
        adapter_pairs_fitting: Some(fitting),
        ..Default::default()
    };
    evidence.name_matches = fitting;
    let state = if n == 0 {
        evidence.rule = "no LoRA tensors found".into();
        Verification::Unverified
    } else if fitting == n {
        Verification::Verified
    } else if fraction(fitting, n) < 0.5 {
        Verification::Contradicted
    } else {
        Verification::Unverified
    };
    Verdict { state, evidence }
}

/// The verdict on "child is `relation` of parent". `adapter_rank` is `r` from the adapter config.
pub fn verify(
    relation: Relation,
    child: &[TensorEntry],
    parent: &[TensorEntry],
    adapter_rank: Option<u64>,
) -> Verdict {
    if child.is_empty() || parent.is_empty() {
        return Verdict {
            state: Verification::Unverified,
            evidence: Evidence {
                rule: "no weights to compare".into(),
                parent_tensors: parent.len() as u64,
                child_tensors: child.len() as u64,
                ..Default::default()
            },
        };
    }
    if relation == Relation::Adapter {
        return adapter_verdict(child, parent, adapter_rank);
    }
    let mut e = compare(child, parent);
    let related = e.related_fraction;
    let state = match relation {
        Relation::Quantized => {
            e.rule = "quantized names and shapes".into();
            let names = fraction(e.name_matches, e.parent_tensors);
            if names < CONTRADICTED_SHAPES
                || e.shape_match_fraction < CONTRADICTED_SHAPES
                || related.is_some_and(|r| r < CONTRADICTED_RELATED)
            {
                Verification::Contradicted
            } else if names >= VERIFIED_SHAPES
                && e.shape_match_fraction >= VERIFIED_SHAPES
                && related.is_none_or(|r| r >= VERIFIED_RELATED)
            {
                Verification::Verified
            } else {
                Verification::Unverified
            }
        }
        _ => {
            e.rule = "shared tensors".into();
            let needed = if relation == Relation::Merge {
                VERIFIED_RELATED_MERGE
            } else {
                VERIFIED_RELATED
            };
            if e.shape_match_fraction < CONTRADICTED_SHAPES {
                if relation == Relation::Distill {
                    Verification::Unverified
                } else {
                    Verification::Contradicted
                }
            } else {
                match related {
                    None => Verification::Unverified,
                    Some(r) if r < CONTRADICTED_RELATED => Verification::Contradicted,
                    Some(r) if r >= needed && e.shape_match_fraction >= VERIFIED_SHAPES => {
                        Verification::Verified
                    }
                    Some(_) => Verification::Unverified,
                }
            }
        }
    };
    Verdict { state, evidence: e }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, shape: &[u64], hash: &str, sample: Option<Vec<f32>>) -> TensorEntry {
        TensorEntry {
            name: name.into(),
            dtype: "F32".into(),
            shape: shape.to_vec(),
            begin: 0,
            end: shape.iter().product::<u64>() * 4,
            hash: hash.into(),
            sample,
        }
    }

    fn base() -> Vec<TensorEntry> {
        (0..10)
            .map(|i| {
                t(
                    &format!("w{i}"),
                    &[4, 4],
                    &format!("h{i}"),
                    Some(vec![1.0, -2.0, 3.0, i as f32]),
                )
            })
            .collect()
    }

    #[test]
    fn finetune_with_shared_and_close_tensors_is_verified() {
        let mut child = base();
        for c in child.iter_mut().take(5) {
            c.hash = format!("{}x", c.hash);
            c.sample = c
                .sample
                .as_ref()
                .map(|s| s.iter().map(|v| v * 1.01).collect());
        }
        let v = verify(Relation::Finetune, &child, &base(), None);
        assert_eq!(v.state, Verification::Verified, "{:?}", v.evidence);
        assert_eq!((v.evidence.identical, v.evidence.close), (5, 5));
    }

    #[test]
    fn unrelated_weights_of_the_same_shape_contradict() {
        let child: Vec<_> = base()
            .into_iter()
            .map(|mut c| {
                c.hash = format!("{}x", c.hash);
                c.sample = Some(vec![-3.0, 1.0, 0.5, -7.0]);
                c
            })
            .collect();
        let v = verify(Relation::Finetune, &child, &base(), None);
        assert_eq!(v.state, Verification::Contradicted, "{:?}", v.evidence);
        assert_eq!(v.evidence.far, 10);
    }

    #[test]
    fn shared_tiny_norms_do_not_rescue_unrelated_matrices() {
        // Norm vectors initialised to ones are byte-identical in unrelated models; weighted by
        // bytes they barely count against far-apart matrices.
        let mut parent = base();
        parent.push(t("norm", &[4], "ones", Some(vec![1.0; 4])));
        let mut child: Vec<_> = base()
            .into_iter()
            .map(|mut c| {
                c.hash = format!("{}x", c.hash);
                c.sample = Some(vec![-3.0, 1.0, 0.5, -7.0]);
                c
            })
            .collect();
        child.push(t("norm", &[4], "ones", Some(vec![1.0; 4])));
        let v = verify(Relation::Finetune, &child, &parent, None);
        assert_eq!(v.state, Verification::Contradicted, "{:?}", v.evidence);
        assert_eq!(v.evidence.identical, 1);
    }

    #[test]
    fn other_architecture_contradicts_a_finetune_but_not_a_distillation() {
        let child = vec![t("w0", &[8, 8], "z", None)];
        assert_eq!(
            verify(Relation::Finetune, &child, &base(), None).state,
            Verification::Contradicted
        );
        assert_eq!(
            verify(Relation::Distill, &child, &base(), None).state,
            Verification::Unverified
        );
    }

    #[test]
    fn adapters_are_checked_against_base_shapes() {
        let parent = vec![t("model.q.weight", &[16, 32], "a", None)];
        let good = vec![
            t(
                "base_model.model.model.q.lora_A.weight",
                &[4, 32],
                "x",
                None,
            ),
            t(
                "base_model.model.model.q.lora_B.weight",
                &[16, 4],
                "y",
                None,
            ),
        ];
        assert_eq!(
            verify(Relation::Adapter, &good, &parent, Some(4)).state,
            Verification::Verified
        );
        assert_eq!(
            verify(Relation::Adapter, &good, &parent, Some(8)).state,
            Verification::Contradicted
        );
        let bad = vec![
            t(
                "base_model.model.model.q.lora_A.weight",
                &[4, 64],
                "x",
                None,
            ),
            t(
                "base_model.model.model.q.lora_B.weight",
                &[16, 4],
                "y",
                None,
            ),
        ];
        assert_eq!(
            verify(Relation::Adapter, &bad, &parent, None).state,
            Verification::Contradicted
        );
    }

    #[test]
    fn gguf_quantization_is_matched_by_mapped_names() {
        let parent = vec![
            t("model.layers.0.self_attn.q_proj.weight", &[4, 8], "a", None),
            t("model.norm.weight", &[8], "n", Some(vec![1.0, 1.0])),
        ];
        let child = vec![
            TensorEntry {
                dtype: "Q8_0".into(),
                ..t("blk.0.attn_q.weight", &[4, 8], "q", None)
            },
            t("output_norm.weight", &[8], "n", Some(vec![1.0, 1.0])),
        ];
        let v = verify(Relation::Quantized, &child, &parent, None);
        assert_eq!(v.state, Verification::Verified, "{:?}", v.evidence);
        let wrong = vec![t("blk.0.attn_q.weight", &[8, 8], "q", None)];
        assert_eq!(
            verify(Relation::Quantized, &wrong, &parent, None).state,
            Verification::Contradicted
        );
    }

    #[test]
    fn no_weights_is_unverified() {
        assert_eq!(
            verify(Relation::Finetune, &[], &base(), None).state,
            Verification::Unverified
        );
    }
}
