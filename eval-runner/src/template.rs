//! Prompt templates: literal text with `{{ field }}` (or `{{ field.sub }}`, `{{ list.0 }}`)
//! placeholders filled from a JSON document. This is the subset of the harness's Jinja templates
//! that plain substitution covers; anything else (`{% %}`, filters, calls) is refused when the
//! spec is read rather than rendered wrongly.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Field(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, String> {
        if source.contains("{%") || source.contains("{#") {
            return Err("only {{ field }} placeholders are supported in templates".into());
        }
        let mut pieces = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| "a `{{` has no closing `}}`".to_string())?;
            let path = after[..end].trim();
            let segments: Vec<String> = path.split('.').map(str::to_string).collect();
            if !segments.iter().all(|s| valid_segment(s)) {
                return Err(format!(
                    "`{{{{ {path} }}}}` is not a field name (filters and expressions are not supported)"
                ));
            }
            pieces.push(Piece::Field(segments));
            rest = &after[end + 2..];
        }
        if rest.contains("}}") {
            return Err("a `}}` has no opening `{{`".into());
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    /// The value of a single-placeholder template (so `{{ answer }}` can yield an integer).
    pub fn render_value(&self, doc: &Value) -> Result<Value, String> {
        if let [Piece::Field(path)] = self.pieces.as_slice() {
            return lookup(doc, path).cloned();
        }
        self.render(doc).map(Value::String)
    }

    pub fn render(&self, doc: &Value) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(path) => match lookup(doc, path)? {
                    Value::String(s) => out.push_str(s),
                    Value::Number(n) => out.push_str(&n.to_string()),
                    Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(out)
    }
}

/// Follows `path` into `doc`; a numeric segment indexes a list.
pub fn lookup<'a>(doc: &'a Value, path: &[String]) -> Result<&'a Value, String> {
    let mut cur = doc;
    for seg in path {
        cur = match cur {
            Value::Object(map) => map.get(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("the document has no field `{}`", path.join(".")))?;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_fields() {
        let t = Template::parse("Q: {{ question }}\nA ({{meta.n}}, {{opts.1}}):").unwrap();
        let doc = json!({"question": "Why?", "meta": {"n": 3}, "opts": ["a", "b"]});
        assert_eq!(t.render(&doc).unwrap(), "Q: Why?\nA (3, b):");
        assert_eq!(
            Template::parse("{{n}}")
                .unwrap()
                .render_value(&doc)
                .unwrap_err(),
            "the document has no field `n`"
        );
        assert_eq!(
            Template::parse("{{meta.n}}")
                .unwrap()
                .render_value(&doc)
                .unwrap(),
            json!(3)
        );
    }

    #[test]
    fn refuses_what_it_cannot_render() {
        for bad in [
            "{{ q | upper }}",
            "{% if x %}",
            "{{ q",
            "a }}",
            "{{ q.strip() }}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
