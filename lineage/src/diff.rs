//! Tensor-by-tensor difference between two revisions' manifests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::formats::TensorEntry;
use crate::verify::relative_delta;

/// One side of a tensor in a diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorSide {
    pub dtype: String,
    pub shape: Vec<u64>,
    pub bytes: u64,
    pub hash: String,
}

impl From<&TensorEntry> for TensorSide {
    fn from(t: &TensorEntry) -> Self {
        TensorSide {
            dtype: t.dtype.clone(),
            shape: t.shape.clone(),
            bytes: t.end - t.begin,
            hash: t.hash.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedTensor {
    pub name: String,
    pub from: TensorSide,
    pub to: TensorSide,
    /// Relative L2 distance of the value samples, when both sides have comparable samples.
    pub relative_delta: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    pub name: String,
    #[serde(flatten)]
    pub tensor: TensorSide,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffSummary {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub added_bytes: u64,
    pub removed_bytes: u64,
    pub changed_bytes: u64,
    pub unchanged_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TensorDiff {
    pub summary: DiffSummary,
    pub added: Vec<NamedTensor>,
    pub removed: Vec<NamedTensor>,
    pub changed: Vec<ChangedTensor>,
    /// Names only: the unchanged list can be long and says nothing more.
    pub unchanged: Vec<String>,
}

/// The difference from `from` to `to`, by tensor name, sorted by name.
pub fn diff(from: &[TensorEntry], to: &[TensorEntry]) -> TensorDiff {
    let old: BTreeMap<&str, &TensorEntry> = from.iter().map(|t| (t.name.as_str(), t)).collect();
    let new: BTreeMap<&str, &TensorEntry> = to.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut d = TensorDiff::default();
    for (name, t) in &new {
        let side = TensorSide::from(*t);
        match old.get(name) {
            None => {
                d.summary.added += 1;
                d.summary.added_bytes += side.bytes;
                d.added.push(NamedTensor {
                    name: name.to_string(),
                    tensor: side,
                });
            }
            Some(o) if o.hash == t.hash && o.shape == t.shape && o.dtype == t.dtype => {
                d.summary.unchanged += 1;
                d.summary.unchanged_bytes += side.bytes;
                d.unchanged.push(name.to_string());
            }
            Some(o) => {
                d.summary.changed += 1;
                d.summary.changed_bytes += side.bytes;
                let relative_delta = match (&t.sample, &o.sample) {
                    (Some(a), Some(b)) if o.shape == t.shape => {
                        relative_delta(a, b).filter(|x| x.is_finite())
                    }
                    _ => None,
                };
                d.changed.push(ChangedTensor {
                    name: name.to_string(),
                    from: TensorSide::from(*o),
                    to: side,
                    relative_delta,
                });
            }
        }
    }
    for (name, t) in &old {
        if !new.contains_key(name) {
            let side = TensorSide::from(*t);
            d.summary.removed += 1;
            d.summary.removed_bytes += side.bytes;
            d.removed.push(NamedTensor {
                name: name.to_string(),
                tensor: side,
            });
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, hash: &str) -> TensorEntry {
        TensorEntry {
            name: name.into(),
            dtype: "F32".into(),
            shape: vec![2],
            begin: 0,
            end: 8,
            hash: hash.into(),
            sample: Some(vec![1.0, 2.0]),
        }
    }

    #[test]
    fn classifies_every_tensor() {
        let a = vec![t("keep", "1"), t("change", "2"), t("gone", "3")];
        let mut changed = t("change", "9");
        changed.sample = Some(vec![1.0, 2.2]);
        let b = vec![t("keep", "1"), changed, t("new", "4")];
        let d = diff(&a, &b);
        assert_eq!(
            (
                d.summary.added,
                d.summary.removed,
                d.summary.changed,
                d.summary.unchanged
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(d.summary.changed_bytes, 8);
        let delta = d.changed[0].relative_delta.unwrap();
        assert!((delta - 0.2 / 5f64.sqrt()).abs() < 1e-6, "{delta}");
        assert_eq!(d.unchanged, ["keep"]);
    }
}
