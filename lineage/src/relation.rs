//! The kinds of edge between a model and the model it came from.

use serde::{Deserialize, Serialize};

/// How a child model was made from its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// A copy made with the fork (duplicate) API: same history, same weights at the fork point.
    Fork,
    /// Further training of all or some of the parent's weights.
    Finetune,
    /// A small set of extra weights (LoRA and friends) applied on top of the parent.
    Adapter,
    /// The parent's weights stored at lower precision (GGUF, GPTQ, AWQ, bitsandbytes, …).
    Quantized,
    /// A combination of two or more parents (mergekit and friends).
    Merge,
    /// A (usually smaller) model trained on the parent's outputs.
    Distill,
}

impl Relation {
    pub const ALL: [Relation; 6] = [
        Relation::Fork,
        Relation::Finetune,
        Relation::Adapter,
        Relation::Quantized,
        Relation::Merge,
        Relation::Distill,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Fork => "fork",
            Relation::Finetune => "finetune",
            Relation::Adapter => "adapter",
            Relation::Quantized => "quantized",
            Relation::Merge => "merge",
            Relation::Distill => "distill",
        }
    }

    pub fn parse(s: &str) -> Option<Relation> {
        Relation::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an edge was learned from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeSource {
    /// The fork (duplicate) API.
    ForkApi,
    /// `base_model` in the model card's front matter.
    Card,
    /// `mergekit_config.yml`.
    Mergekit,
    /// `general.base_model.*` keys inside a GGUF file.
    GgufMetadata,
    /// `base_model_name_or_path` in a PEFT `adapter_config.json`.
    AdapterConfig,
}

impl EdgeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeSource::ForkApi => "fork_api",
            EdgeSource::Card => "card",
            EdgeSource::Mergekit => "mergekit",
            EdgeSource::GgufMetadata => "gguf_metadata",
            EdgeSource::AdapterConfig => "adapter_config",
        }
    }

    pub fn parse(s: &str) -> Option<EdgeSource> {
        [
            EdgeSource::ForkApi,
            EdgeSource::Card,
            EdgeSource::Mergekit,
            EdgeSource::GgufMetadata,
            EdgeSource::AdapterConfig,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// What the weights say about a declared edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// The tensors confirm the claim.
    Verified,
    /// The tensors contradict the claim.
    Contradicted,
    /// The tensors neither confirm nor contradict it (or there are no weights to compare).
    Unverified,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Contradicted => "contradicted",
            Verification::Unverified => "unverified",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_round_trip() {
        for r in Relation::ALL {
            assert_eq!(Relation::parse(r.as_str()), Some(r));
        }
        assert_eq!(Relation::parse(" Quantized "), Some(Relation::Quantized));
        assert_eq!(Relation::parse("merged"), None);
    }
}
