//! The tags the Hub derives from a card's metadata, so `filter=license:mit` or `filter=de` finds
//! a model whose card says so. The same list feeds `model_info.tags` and (later) the index.

use serde_json::{Map, Value};

/// Strings of a metadata value that may be one string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Card tags, then `library`, pipeline tag, bare language codes, `license:`, `dataset:` and
/// `base_model:` tags, without duplicates, in a stable order.
pub fn derived_tags(metadata: &Map<String, Value>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut push = |tag: String| {
        let tag = tag.trim().to_string();
        if !tag.is_empty() && tag.len() <= 200 && !tags.contains(&tag) {
            tags.push(tag);
        }
    };
    for tag in strings(metadata.get("tags")) {
        push(tag);
    }
    for library in strings(metadata.get("library_name")) {
        push(library);
    }
    for pipeline in strings(metadata.get("pipeline_tag")) {
        push(pipeline);
    }
    for language in strings(metadata.get("language")) {
        push(language);
    }
    for license in strings(metadata.get("license")) {
        push(format!("license:{license}"));
    }
    for dataset in strings(metadata.get("datasets")) {
        push(format!("dataset:{dataset}"));
    }
    let relation = metadata
        .get("base_model_relation")
        .and_then(Value::as_str)
        .map(str::to_string);
    for base in strings(metadata.get("base_model")) {
        push(format!("base_model:{base}"));
        if let Some(relation) = &relation {
            push(format!("base_model:{relation}:{base}"));
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn derives_hub_style_tags() {
        let meta = json!({
            "tags": ["legal", "legal"], "license": "mit", "language": ["de"],
            "library_name": "transformers", "pipeline_tag": "text-generation",
            "datasets": "org/data", "base_model": "org/base", "base_model_relation": "finetune"
        });
        let tags = super::derived_tags(meta.as_object().unwrap());
        assert_eq!(
            tags,
            [
                "legal",
                "transformers",
                "text-generation",
                "de",
                "license:mit",
                "dataset:org/data",
                "base_model:org/base",
                "base_model:finetune:org/base"
            ]
        );
    }
}
