//! Model cards: split the YAML front matter from the Markdown body and parse it, with limits.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::{Yaml, YamlLoader};

/// Front matter larger than this is refused.
pub const MAX_FRONT_MATTER: usize = 64 * 1024;
/// Deeper nesting than this is refused before the document is loaded.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CardError {
    #[error("the YAML front matter is larger than {MAX_FRONT_MATTER} bytes")]
    TooLarge,
    #[error("the YAML front matter nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("YAML aliases are not supported in model cards")]
    Alias,
    #[error("the YAML front matter is not valid YAML: {0}")]
    Syntax(String),
    #[error("the YAML front matter must be a mapping of keys to values")]
    NotAMapping,
    #[error("the YAML front matter starts with '---' but has no closing '---' line")]
    Unterminated,
}

/// A parsed card: its metadata (empty when there is no front matter) and its Markdown body.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub metadata: Map<String, Value>,
    pub body: String,
}

/// Splits `text` into the front matter (without its `---` fences) and the body.
pub fn split_front_matter(text: &str) -> Result<(Option<&str>, &str), CardError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok((None, text));
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((Some(yaml), body));
        }
        offset += line.len();
    }
    Err(CardError::Unterminated)
}

/// Counts nesting and aliases without building the document.
#[derive(Default)]
struct Guard {
    depth: usize,
    max_depth: usize,
    aliases: usize,
}

impl MarkedEventReceiver for Guard {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.depth += 1;
                self.max_depth = self.max_depth.max(self.depth);
            }
            Event::SequenceEnd | Event::MappingEnd => self.depth = self.depth.saturating_sub(1),
            Event::Alias(_) => self.aliases += 1,
            _ => {}
        }
    }
}

/// Parses YAML front matter into a JSON object, within the limits above.
pub fn parse_front_matter(yaml: &str) -> Result<Map<String, Value>, CardError> {
    if yaml.len() > MAX_FRONT_MATTER {
        return Err(CardError::TooLarge);
    }
    let mut guard = Guard::default();
    Parser::new_from_str(yaml)
        .load(&mut guard, false)
        .map_err(|e| CardError::Syntax(e.to_string()))?;
    if guard.max_depth > MAX_DEPTH {
        return Err(CardError::TooDeep);
    }
    if guard.aliases > 0 {
        return Err(CardError::Alias);
    }
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| CardError::Syntax(e.to_string()))?;
    match docs.into_iter().next() {
        None | Some(Yaml::Null) => Ok(Map::new()),
        Some(Yaml::Hash(hash)) => match to_json(Yaml::Hash(hash)) {
            Value::Object(map) => Ok(map),
            _ => Err(CardError::NotAMapping),
        },
        Some(_) => Err(CardError::NotAMapping),
    }
}

/// Parses a whole card.
pub fn parse_card(text: &str) -> Result<Card, CardError> {
    let (yaml, body) = split_front_matter(text)?;
    let metadata = match yaml {
        Some(yaml) => parse_front_matter(yaml)?,
        None => Map::new(),
    };
    Ok(Card {
        metadata,
        body: body.to_string(),
    })
}

fn key_string(key: Yaml) -> Option<String> {
    match key {
        Yaml::String(s) | Yaml::Real(s) => Some(s),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Null => Some("null".into()),
        _ => None,
    }
}

fn to_json(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(s)),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::String(s) => Value::String(s),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Hash(hash) => Value::Object(
            hash.into_iter()
                .filter_map(|(k, v)| Some((key_string(k)?, to_json(v))))
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_front_matter_and_body() {
        let card = parse_card(
            "---\nlicense: mit\nlanguage:\n- de\n- en\nbase_model: org/base\nscore: 0.5\n---\n# Title\ntext\n",
        )
        .unwrap();
        assert_eq!(card.metadata["license"], "mit");
        assert_eq!(card.metadata["language"], serde_json::json!(["de", "en"]));
        assert_eq!(card.metadata["score"], serde_json::json!(0.5));
        assert_eq!(card.body, "# Title\ntext\n");
    }

    #[test]
    fn no_front_matter_is_an_empty_mapping() {
        let card = parse_card("# Just markdown\n").unwrap();
        assert!(card.metadata.is_empty());
        assert_eq!(card.body, "# Just markdown\n");
        assert!(parse_card("---\n---\nbody").unwrap().metadata.is_empty());
    }

    #[test]
    fn refuses_hostile_front_matter() {
        let laughs = "---\na: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n---\n";
        assert_eq!(parse_card(laughs), Err(CardError::Alias));
        let deep = format!("---\nk: {}{}\n---\n", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse_card(&deep), Err(CardError::TooDeep));
        let big = format!("---\nk: \"{}\"\n---\n", "x".repeat(MAX_FRONT_MATTER));
        assert_eq!(parse_card(&big), Err(CardError::TooLarge));
        assert!(matches!(
            parse_card("---\nk: [unclosed\n---\n"),
            Err(CardError::Syntax(_))
        ));
        assert_eq!(
            parse_card("---\n- a\n- b\n---\n"),
            Err(CardError::NotAMapping)
        );
        assert_eq!(parse_card("---\nk: v\n"), Err(CardError::Unterminated));
    }
}
