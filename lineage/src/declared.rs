//! Declared lineage: the parents a commit names in its card, merge recipe, adapter config and GGUF
//! metadata, and the relation to them (stated, or inferred by the documented rule).
//!
//! Inference rule, applied only when the card states no valid `base_model_relation`:
//! 1. adapter files (`adapter_config.json` or `adapter_model.*`) -> `adapter`;
//! 2. GGUF files, or a `quantization_config` in `config.json` -> `quantized`;
//! 3. a `mergekit_config.yml`, or two or more parents -> `merge`;
//! 4. otherwise -> `finetune`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::relation::{EdgeSource, Relation};

/// Longest accepted repo id (`owner/name`) and revision.
const MAX_ID_LEN: usize = 140;
const MAX_REVISION_LEN: usize = 255;
/// At most this many parents are taken from one commit; the rest are reported.
pub const MAX_PARENTS: usize = 64;
/// At most this many model entries of a merge recipe are read.
pub const MAX_RECIPE_MODELS: usize = 256;
/// At most this many warnings are kept per commit (a hostile card cannot flood them).
pub const MAX_WARNINGS: usize = 50;

/// Everything a commit holds that may declare lineage, already parsed (with limits) by the caller.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    /// The card's YAML front matter.
    pub card: Option<&'a Map<String, Value>>,
    /// `mergekit_config.yml`, parsed.
    pub mergekit: Option<&'a Map<String, Value>>,
    /// `adapter_config.json`, parsed.
    pub adapter_config: Option<&'a Map<String, Value>>,
    /// `config.json`, parsed.
    pub config: Option<&'a Map<String, Value>>,
    /// The scalar metadata of each GGUF file in the commit.
    pub gguf_metadata: Vec<&'a BTreeMap<String, String>>,
    /// Every file path in the commit.
    pub paths: Vec<&'a str>,
}

/// One parent as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredParent {
    /// `owner/name`.
    pub id: String,
    /// The pinned revision, when the declaration had `@revision`.
    pub revision: Option<String>,
    pub source: EdgeSource,
    /// The merge weight from the recipe.
    pub weight: Option<f64>,
    /// True for the merge base of a task-vector merge (mergekit's `base_model`).
    pub merge_base: bool,
}

/// The declared lineage of one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declared {
    pub parents: Vec<DeclaredParent>,
    pub relation: Relation,
    /// True when the card stated the relation, false when it was inferred.
    pub relation_stated: bool,
    /// The merge recipe (method, dtype, parameters), when a mergekit config was present.
    pub recipe: Option<Value>,
    /// Problems found in the declarations, for the commit's warnings.
    pub warnings: Vec<String>,
}

/// Parses `owner/name` or `owner/name@revision` (also a hub URL ending in `owner/name`).
pub fn parse_parent_id(raw: &str) -> Result<(String, Option<String>), String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_ID_LEN + MAX_REVISION_LEN + 1 {
        return Err(format!("base model {:?} is not a repo id", truncate(raw)));
    }
    let without_scheme = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .map(|rest| {
            // Keep the last two path segments of a URL.
            let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
            segments[segments.len().saturating_sub(2)..].join("/")
        });
    let id_and_rev = without_scheme.as_deref().unwrap_or(raw);
    let (id, revision) = match id_and_rev.split_once('@') {
        Some((id, rev)) => (id, Some(rev)),
        None => (id_and_rev, None),
    };
    let valid_part = |s: &str| {
        !s.is_empty()
            && !s.starts_with(['.', '-'])
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let mut parts = id.split('/');
    let (Some(owner), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "base model {:?} is not an owner/name repo id",
            truncate(raw)
        ));
    };
    if !valid_part(owner) || !valid_part(name) || id.len() > MAX_ID_LEN {
        return Err(format!(
            "base model {:?} is not an owner/name repo id",
            truncate(raw)
        ));
    }
    let revision = match revision {
        None => None,
        Some(r)
            if !r.is_empty()
                && r.len() <= MAX_REVISION_LEN
                && !r.chars().any(|c| c.is_control() || c == ' ') =>
        {
            Some(r.to_string())
        }
        Some(_) => {
            return Err(format!(
                "base model {:?} has an invalid revision",
                truncate(raw)
            ));
        }
    };
    Ok((id.to_string(), revision))
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Strings of a value that may be one string or a list of strings; other shapes are a warning.
fn strings_of(value: &Value, what: &str, warnings: &mut Vec<String>) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                other => {
                    warnings.push(format!(
                        "{what}: ignored a non-string entry {}",
                        short(other)
                    ));
                    None
                }
            })
            .collect(),
        Value::Null => Vec::new(),
        other => {
            warnings.push(format!(
                "{what} must be a string or a list of strings, not {}",
                short(other)
            ));
            Vec::new()
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Collects parents from every source, deduplicated by id (case-insensitive), the first source
/// in priority order (card, mergekit, adapter config, GGUF) naming each.
pub fn declared_lineage(src: &Sources) -> Declared {
    let mut warnings = Vec::new();
    let mut parents: Vec<DeclaredParent> = Vec::new();
    let mut add = |raw: &str,
                   source: EdgeSource,
                   weight: Option<f64>,
                   merge_base: bool,
                   warnings: &mut Vec<String>| {
        match parse_parent_id(raw) {
            Ok((id, revision)) => {
                if let Some(existing) = parents.iter_mut().find(|p| p.id.eq_ignore_ascii_case(&id))
                {
                    // A later source may add a pin, a weight or the merge-base mark.
                    if existing.revision.is_none() {
                        existing.revision = revision;
                    }
                    existing.weight = existing.weight.or(weight);
                    existing.merge_base |= merge_base;
                } else if parents.len() >= MAX_PARENTS {
                    warnings.push(format!(
                        "more than {MAX_PARENTS} parents declared; {id} and later ones ignored"
                    ));
                } else {
                    parents.push(DeclaredParent {
                        id,
                        revision,
                        source,
                        weight,
                        merge_base,
                    });
                }
            }
            Err(e) => warnings.push(format!("{}: {e}", source.as_str())),
        }
    };

    if let Some(card) = src.card
        && let Some(value) = card.get("base_model")
    {
        for raw in strings_of(value, "card base_model", &mut warnings) {
            add(&raw, EdgeSource::Card, None, false, &mut warnings);
        }
    }

    let mut recipe = None;
    if let Some(mk) = src.mergekit {
        let mut models = Vec::new();
        if let Some(list) = mk.get("models").and_then(Value::as_array) {
            if list.len() > MAX_RECIPE_MODELS {
                warnings.push(format!(
                    "mergekit_config.yml lists {} models; the first {MAX_RECIPE_MODELS} are read",
                    list.len()
                ));
            }
            for m in list.iter().take(MAX_RECIPE_MODELS) {
                let name = m.get("model").and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    // mergekit also accepts {model: {model: {path: …}}} forms.
                    Value::Object(o) => o
                        .get("model")
                        .and_then(|x| x.get("path").or(Some(x)))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    _ => None,
                });
                let weight = m
                    .get("parameters")
                    .and_then(|p| p.get("weight"))
                    .and_then(Value::as_f64);
                match name {
                    Some(n) => models.push((n, weight)),
                    None => {
                        warnings.push("mergekit_config.yml: a model entry has no model name".into())
                    }
                }
            }
        }
        // slerp recipes list their inputs under `slices[].sources[].model`.
        if let Some(slices) = mk.get("slices").and_then(Value::as_array) {
            for s in slices {
                for source in s
                    .get("sources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = source.get("model").and_then(Value::as_str)
                        && !models.iter().any(|(m, _)| m == n)
                    {
                        models.push((n.to_string(), None));
                    }
                }
            }
        }
        let base = mk.get("base_model").and_then(Value::as_str);
        for (name, weight) in &models {
            let is_base = base.is_some_and(|b| b == name);
            add(name, EdgeSource::Mergekit, *weight, is_base, &mut warnings);
        }
        if let Some(base) = base {
            add(base, EdgeSource::Mergekit, None, true, &mut warnings);
        }
        let mut r = Map::new();
        for key in ["merge_method", "dtype", "tokenizer_source", "parameters"] {
            if let Some(v) = mk.get(key) {
                r.insert(key.to_string(), v.clone());
            }
        }
        r.insert(
            "models".into(),
            Value::Array(
                models
                    .iter()
                    .map(|(m, w)| serde_json::json!({"model": m, "weight": w}))
                    .collect(),
            ),
        );
        if let Some(base) = base {
            r.insert("base_model".into(), Value::String(base.to_string()));
        }
        recipe = Some(Value::Object(r));
    }

    if let Some(ac) = src.adapter_config
        && let Some(base) = ac.get("base_model_name_or_path").and_then(Value::as_str)
    {
        add(base, EdgeSource::AdapterConfig, None, false, &mut warnings);
    }

    for meta in &src.gguf_metadata {
        let count: usize = meta
            .get("general.base_model.count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        for i in 0..count.min(MAX_PARENTS) {
            let url = meta.get(&format!("general.base_model.{i}.repo_url"));
            let org = meta.get(&format!("general.base_model.{i}.organization"));
            let name = meta.get(&format!("general.base_model.{i}.name"));
            let raw = match (url, org, name) {
                (Some(url), _, _) => url.clone(),
                // Organisation and name are display names; they form an id only when they are
                // already id-shaped (no spaces).
                (None, Some(org), Some(name)) => format!("{org}/{name}"),
                _ => continue,
            };
            add(&raw, EdgeSource::GgufMetadata, None, false, &mut warnings);
        }
    }

    let stated = src
        .card
        .and_then(|c| c.get("base_model_relation"))
        .and_then(|v| match v {
            Value::String(s) => match Relation::parse(s) {
                Some(Relation::Fork) | None => {
                    warnings.push(format!(
                        "base_model_relation {s:?} is not one of adapter, merge, quantized, finetune, distill; inferred instead"
                    ));
                    None
                }
                Some(r) => Some(r),
            },
            other => {
                warnings.push(format!("base_model_relation must be a string, not {}", short(other)));
                None
            }
        });
    let relation = stated.unwrap_or_else(|| infer_relation(src, parents.len()));
    if relation == Relation::Merge && parents.len() == 1 {
        warnings.push("relation is merge but only one parent is declared".into());
    }
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
        warnings.push(format!("… and {more} more warnings"));
    }
    Declared {
        parents,
        relation,
        relation_stated: stated.is_some(),
        recipe,
        warnings,
    }
}

/// The documented inference rule (see the module docs).
pub fn infer_relation(src: &Sources, parent_count: usize) -> Relation {
    let file_name = |p: &&str| p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
    let names: Vec<String> = src.paths.iter().map(file_name).collect();
    let adapter = src.adapter_config.is_some()
        || names
            .iter()
            .any(|n| n == "adapter_config.json" || n.starts_with("adapter_model."));
    let quantized = names.iter().any(|n| n.ends_with(".gguf"))
        || src
            .config
            .is_some_and(|c| c.get("quantization_config").is_some_and(|q| !q.is_null()));
    if adapter {
        Relation::Adapter
    } else if quantized {
        Relation::Quantized
    } else if src.mergekit.is_some() || parent_count > 1 {
        Relation::Merge
    } else {
        Relation::Finetune
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parent_ids_parse_with_pins_and_urls() {
        assert_eq!(
            parse_parent_id("org/base").unwrap(),
            ("org/base".into(), None)
        );
        assert_eq!(
            parse_parent_id("org/base@v1.0").unwrap(),
            ("org/base".into(), Some("v1.0".into()))
        );
        assert_eq!(
            parse_parent_id("https://hub.example/org/base").unwrap(),
            ("org/base".into(), None)
        );
        for bad in [
            "",
            "base",
            "a/b/c",
            "../x",
            "org/ba se",
            "org/base@",
            "org/.x",
        ] {
            assert!(parse_parent_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn card_lists_make_a_merge_and_stated_relation_wins() {
        let card = obj(json!({"base_model": ["a/one", "b/two@abc"]}));
        let d = declared_lineage(&Sources {
            card: Some(&card),
            ..Default::default()
        });
        assert_eq!(d.relation, Relation::Merge);
        assert!(!d.relation_stated);
        assert_eq!(d.parents[1].revision.as_deref(), Some("abc"));

        let card = obj(json!({"base_model": "a/one", "base_model_relation": "quantized"}));
        let d = declared_lineage(&Sources {
            card: Some(&card),
            ..Default::default()
        });
        assert_eq!((d.relation, d.relation_stated), (Relation::Quantized, true));
    }

    #[test]
    fn inference_follows_the_documented_order() {
        let card = obj(json!({"base_model": "a/one"}));
        let with = |paths: Vec<&'static str>| {
            declared_lineage(&Sources {
                card: Some(&card),
                paths,
                ..Default::default()
            })
            .relation
        };
        assert_eq!(with(vec!["model.safetensors"]), Relation::Finetune);
        assert_eq!(with(vec!["model-Q4_0.gguf"]), Relation::Quantized);
        assert_eq!(
            with(vec!["adapter_config.json", "x.gguf"]),
            Relation::Adapter
        );
        let config = obj(json!({"quantization_config": {"bits": 4}}));
        let d = declared_lineage(&Sources {
            card: Some(&card),
            config: Some(&config),
            ..Default::default()
        });
        assert_eq!(d.relation, Relation::Quantized);
    }

    #[test]
    fn mergekit_adds_weights_pins_and_base() {
        let card = obj(json!({"base_model": ["a/one", "b/two"]}));
        let mk = obj(json!({
            "merge_method": "task_arithmetic", "base_model": "c/base",
            "models": [{"model": "a/one@r1", "parameters": {"weight": 0.7}},
                       {"model": "b/two", "parameters": {"weight": 0.3}}]
        }));
        let d = declared_lineage(&Sources {
            card: Some(&card),
            mergekit: Some(&mk),
            ..Default::default()
        });
        assert_eq!(d.relation, Relation::Merge);
        assert_eq!(d.parents.len(), 3);
        assert_eq!(d.parents[0].revision.as_deref(), Some("r1"));
        assert_eq!(d.parents[0].weight, Some(0.7));
        assert_eq!(d.parents[0].source, EdgeSource::Card);
        assert!(d.parents[2].merge_base);
        assert_eq!(d.recipe.unwrap()["merge_method"], "task_arithmetic");
    }

    #[test]
    fn malformed_declarations_become_warnings() {
        let card =
            obj(json!({"base_model": [1, "not an id", {"x": 1}], "base_model_relation": "cousin"}));
        let d = declared_lineage(&Sources {
            card: Some(&card),
            ..Default::default()
        });
        assert!(d.parents.is_empty());
        assert_eq!(d.warnings.len(), 4, "{:?}", d.warnings);
        let card = obj(json!({"base_model": {"deep": [1, 2]}}));
        let d = declared_lineage(&Sources {
            card: Some(&card),
            ..Default::default()
        });
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn adapter_and_gguf_sources() {
        let ac = obj(json!({"base_model_name_or_path": "org/base", "r": 8}));
        let mut meta = BTreeMap::new();
        meta.insert("general.base_model.count".to_string(), "1".to_string());
        meta.insert(
            "general.base_model.0.repo_url".to_string(),
            "https://example.org/org2/base2".to_string(),
        );
        let d = declared_lineage(&Sources {
            adapter_config: Some(&ac),
            gguf_metadata: vec![&meta],
            ..Default::default()
        });
        assert_eq!(d.parents.len(), 2);
        assert_eq!(d.parents[0].source, EdgeSource::AdapterConfig);
        assert_eq!(d.parents[1].id, "org2/base2");
        assert_eq!(d.relation, Relation::Adapter);
    }
}
