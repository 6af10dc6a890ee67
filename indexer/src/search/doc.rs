//! What the index knows about one repo, built from its card and the hub's row.

use serde_json::{Map, Value};

/// Body text beyond this many bytes is not indexed.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One repo as a search document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchDoc {
    pub repo_id: u64,
    /// `model` or `dataset`.
    pub kind: String,
    /// `owner/name`.
    pub id: String,
    pub owner: String,
    pub owner_id: u64,
    pub private: bool,
    /// Card body as plain text (markdown stripped).
    pub body: String,
    /// Every tag the Hub would show (card tags, derived `license:`, language codes, `base_model:`…).
    pub tags: Vec<String>,
    pub licenses: Vec<String>,
    pub languages: Vec<String>,
    pub pipeline_tag: Option<String>,
    pub library: Option<String>,
    pub datasets: Vec<String>,
    /// `owner/name` of each current parent.
    pub base_models: Vec<String>,
    /// This model's relation to its parents.
    pub relation: Option<String>,
    pub parameters: Option<u64>,
    pub downloads: u64,
    pub likes: u64,
    /// Unix milliseconds (second resolution would tie repos changed in the same second).
    pub created: i64,
    pub updated: i64,
    /// Eval scores (`task -> score`), when present.
    pub evals: Vec<(String, f64)>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
            .collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty() && s.len() <= 200)
    .take(64)
    .collect()
}

impl SearchDoc {
    /// Fills the card-derived fields from the front matter.
    pub fn with_card(mut self, meta: &Map<String, Value>) -> Self {
        self.licenses = strings(meta.get("license"));
        self.languages = strings(meta.get("language"));
        self.pipeline_tag = strings(meta.get("pipeline_tag")).into_iter().next();
        self.library = strings(meta.get("library_name")).into_iter().next();
        self.datasets = strings(meta.get("datasets"));
        self
    }
}

/// Markdown to plain text for indexing: text, code and link text kept, markup, HTML and URLs
/// dropped; at most [`MAX_BODY_BYTES`].
pub fn markdown_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut out = String::with_capacity(markdown.len().min(MAX_BODY_BYTES));
    for event in Parser::new(markdown) {
        let piece = match &event {
            Event::Text(t) | Event::Code(t) => t.as_ref(),
            Event::SoftBreak | Event::HardBreak => " ",
            Event::End(_) => " ",
            _ => continue,
        };
        if out.len() + piece.len() > MAX_BODY_BYTES {
            break;
        }
        out.push_str(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_reduced_to_its_words() {
        let text = markdown_text(
            "# Title\n\nSome **bold** [link](http://x.y) `code`\n\n<script>x</script>\n",
        );
        assert!(text.contains("Title") && text.contains("bold") && text.contains("link"));
        assert!(text.contains("code") && !text.contains("http") && !text.contains("script"));
    }
}
