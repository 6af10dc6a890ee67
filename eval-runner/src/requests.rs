//! From a task spec and its documents to the text the model scores, exactly as
//! lm-evaluation-harness builds it: the description, then each few-shot example as
//! `text + target_delimiter + answer + fewshot_delimiter`, then the question; one request per
//! choice with the continuation `target_delimiter + choice`. Few-shot examples are drawn with one
//! `random.Random(seed)` per task, visiting documents in order.

use serde_json::Value;

use crate::pyrandom::PyRandom;
use crate::spec::{ChoiceSource, FewshotSampler, SpecError, TargetSource, TaskSpec, TaskType};
use crate::template::lookup;

/// Most documents a task file may hold.
pub const MAX_DOCS: usize = 100_000;
/// Largest task data file.
pub const MAX_DATA_BYTES: usize = 256 * 1024 * 1024;

/// One multiple-choice document, ready to score.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceItem {
    pub context: String,
    /// The choice texts, without the target delimiter.
    pub choices: Vec<String>,
    /// Indices of the correct choices (usually one).
    pub gold: Vec<usize>,
}

impl ChoiceItem {
    /// The continuation scored for choice `i`.
    pub fn continuation(&self, i: usize, delimiter: &str) -> String {
        format!("{delimiter}{}", self.choices[i])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    MultipleChoice(Vec<ChoiceItem>),
    /// Whole documents for rolling log-likelihood.
    Rolling(Vec<String>),
}

impl Prepared {
    pub fn len(&self) -> usize {
        match self {
            Prepared::MultipleChoice(items) => items.len(),
            Prepared::Rolling(texts) => texts.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn doc_err<T>(i: usize, msg: impl std::fmt::Display) -> Result<T, SpecError> {
    Err(SpecError(format!("document {i}: {msg}")))
}

/// Reads a JSONL file: one JSON object per non-empty line.
pub fn read_jsonl(bytes: &[u8], file: &str) -> Result<Vec<Value>, SpecError> {
    if bytes.len() > MAX_DATA_BYTES {
        return Err(SpecError(format!(
            "{file} is larger than {MAX_DATA_BYTES} bytes"
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SpecError(format!("{file} is not UTF-8")))?;
    let mut docs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if docs.len() == MAX_DOCS {
            return Err(SpecError(format!(
                "{file} has more than {MAX_DOCS} documents"
            )));
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v @ Value::Object(_)) => docs.push(v),
            Ok(_) => {
                return Err(SpecError(format!(
                    "{file} line {}: not a JSON object",
                    n + 1
                )));
            }
            Err(e) => return Err(SpecError(format!("{file} line {}: {e}", n + 1))),
        }
    }
    if docs.is_empty() {
        return Err(SpecError(format!("{file} has no documents")));
    }
    Ok(docs)
}

fn text_of(spec: &TaskSpec, i: usize, doc: &Value) -> Result<String, SpecError> {
    spec.doc_to_text.render(doc).or_else(|e| doc_err(i, e))
}

fn choices_of(spec: &TaskSpec, i: usize, doc: &Value) -> Result<Vec<String>, SpecError> {
    let choices = match spec.doc_to_choice.as_ref() {
        Some(ChoiceSource::Field(field)) => {
            let path: Vec<String> = field.split('.').map(str::to_string).collect();
            match lookup(doc, &path) {
                Ok(Value::Array(items)) => items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => doc_err(i, format!("`{field}` must hold strings")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Ok(_) => return doc_err(i, format!("`{field}` must be a list of choices")),
                Err(e) => return doc_err(i, e),
            }
        }
        Some(ChoiceSource::Fixed(templates)) => templates
            .iter()
            .map(|t| t.render(doc).or_else(|e| doc_err(i, e)))
            .collect::<Result<Vec<_>, _>>()?,
        None => return doc_err(i, "the task has no doc_to_choice"),
    };
    if choices.len() < 2 || choices.len() > 64 {
        return doc_err(
            i,
            format!("has {} choices; 2 to 64 are needed", choices.len()),
        );
    }
    Ok(choices)
}

fn target_value(spec: &TaskSpec, i: usize, doc: &Value) -> Result<Value, SpecError> {
    match spec.doc_to_target.as_ref() {
        Some(TargetSource::Field(field)) => {
            let path: Vec<String> = field.split('.').map(str::to_string).collect();
            lookup(doc, &path).cloned().or_else(|e| doc_err(i, e))
        }
        Some(TargetSource::Template(t)) => {
            let v = t.render_value(doc).or_else(|e| doc_err(i, e))?;
            // A rendered template is text; "2" still means index 2, as in the harness.
            Ok(match v {
                Value::String(s) => s
                    .trim()
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or(Value::String(s)),
                other => other,
            })
        }
        None => doc_err(i, "the task has no doc_to_target"),
    }
}

/// The gold indices: an integer index, a choice's text, or a list of either.
fn gold_of(i: usize, target: &Value, choices: &[String]) -> Result<Vec<usize>, SpecError> {
    let one = |v: &Value| -> Result<usize, SpecError> {
        match v {
            Value::Number(n) => match n.as_u64() {
                Some(k) if (k as usize) < choices.len() => Ok(k as usize),
                _ => doc_err(
                    i,
                    format!(
                        "answer index {n} is out of range for {} choices",
                        choices.len()
                    ),
                ),
            },
            Value::String(s) => choices.iter().position(|c| c == s).map_or_else(
                || doc_err(i, format!("answer {s:?} is not one of the choices")),
                Ok,
            ),
            _ => doc_err(i, "the answer must be a choice index or a choice text"),
        }
    };
    match target {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

/// The answer text shown after a few-shot example.
fn answer_text(spec: &TaskSpec, i: usize, doc: &Value) -> Result<String, SpecError> {
    let target = target_value(spec, i, doc)?;
    let first = match &target {
        Value::Array(items) if !items.is_empty() => items[0].clone(),
        other => other.clone(),
    };
    match first {
        Value::Number(_) => {
            let choices = choices_of(spec, i, doc)?;
            Ok(choices[gold_of(i, &first, &choices)?[0]].clone())
        }
        Value::String(s) => Ok(s),
        _ => doc_err(i, "the answer must be a choice index or a choice text"),
    }
}

/// Builds every request of a task. `fewshot_pool` is the few-shot file's documents, or `None`
/// when the examples come from the eval documents themselves.
pub fn prepare(
    spec: &TaskSpec,
    docs: &[Value],
    fewshot_pool: Option<&[Value]>,
) -> Result<Prepared, SpecError> {
    if spec.task_type == TaskType::LoglikelihoodRolling {
        let texts = docs
            .iter()
            .enumerate()
            .map(|(i, d)| text_of(spec, i, d))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Prepared::Rolling(texts));
    }
    let same_split = fewshot_pool.is_none();
    let pool = fewshot_pool.unwrap_or(docs);
    let n = spec.num_fewshot as usize;
    let needed = if same_split { n + 1 } else { n };
    if n > 0 && pool.len() < needed {
        return Err(SpecError(format!(
            "{n} few-shot examples need a pool of at least {needed} documents; it has {}",
            pool.len()
        )));
    }
    // One generator per task, its state carried from document to document (as in the harness).
    let mut rnd = PyRandom::new(spec.fewshot_seed);
    let mut items = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let mut context = spec.description.render(doc).or_else(|e| doc_err(i, e))?;
        if n > 0 {
            let shots: Vec<usize> = match spec.fewshot_sampler {
                // The first n of the pool, never the document being scored.
                FewshotSampler::FirstN => (0..pool.len())
                    .filter(|&j| !same_split || pool[j] != *doc)
                    .take(n)
                    .collect(),
                FewshotSampler::Random => {
                    let drawn = rnd.sample(pool.len(), needed);
                    if same_split {
                        drawn
                            .into_iter()
                            .filter(|&j| pool[j] != *doc)
                            .take(n)
                            .collect()
                    } else {
                        drawn
                    }
                }
            };
            for j in shots {
                let shot = &pool[j];
                context.push_str(&text_of(spec, j, shot)?);
                context.push_str(&spec.target_delimiter);
                context.push_str(&answer_text(spec, j, shot)?);
                context.push_str(&spec.fewshot_delimiter);
            }
        }
        context.push_str(&text_of(spec, i, doc)?);
        let choices = choices_of(spec, i, doc)?;
        let gold = gold_of(i, &target_value(spec, i, doc)?, &choices)?;
        items.push(ChoiceItem {
            context,
            choices,
            gold,
        });
    }
    Ok(Prepared::MultipleChoice(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_task;
    use serde_json::json;

    fn spec(extra: &str) -> TaskSpec {
        parse_task(&format!(
            "task: t\ntype: multiple_choice\ndata: d.jsonl\ndoc_to_text: \"Q: {{{{q}}}}\\nA:\"\n\
             doc_to_choice: opts\ndoc_to_target: a\n{extra}"
        ))
        .unwrap()
    }

    fn docs(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"q": format!("q{i}"), "opts": ["x", "y"], "a": i % 2}))
            .collect()
    }

    #[test]
    fn zero_shot_prompt_and_gold() {
        let Prepared::MultipleChoice(items) = prepare(&spec(""), &docs(2), None).unwrap() else {
            panic!()
        };
        assert_eq!(items[1].context, "Q: q1\nA:");
        assert_eq!(items[1].gold, vec![1]);
        assert_eq!(items[1].continuation(0, " "), " x");
    }

    #[test]
    fn few_shot_draws_match_the_harness() {
        // Random(1234).sample(range(10), 3) == [7, 1, 0] in CPython: for document 0 the eval doc
        // itself (index 0) is dropped, leaving examples 7 and 1.
        let s = spec("num_fewshot: 2\ndescription: \"Answer.\\n\\n\"\n");
        let Prepared::MultipleChoice(items) = prepare(&s, &docs(10), None).unwrap() else {
            panic!()
        };
        assert_eq!(
            items[0].context,
            "Answer.\n\nQ: q7\nA: y\n\nQ: q1\nA: y\n\nQ: q0\nA:"
        );
    }

    #[test]
    fn descriptions_are_templates_and_first_n_skips_the_document() {
        let s =
            spec("num_fewshot: 1\nfewshot_sampler: first_n\ndescription: \"About {{q}}.\\n\\n\"\n");
        let Prepared::MultipleChoice(items) = prepare(&s, &docs(3), None).unwrap() else {
            panic!()
        };
        assert_eq!(items[0].context, "About q0.\n\nQ: q1\nA: y\n\nQ: q0\nA:");
        assert_eq!(items[1].context, "About q1.\n\nQ: q0\nA: x\n\nQ: q1\nA:");
    }

    #[test]
    fn string_answers_and_bad_documents() {
        let s = spec("");
        let d = vec![json!({"q": "?", "opts": ["x", "y"], "a": "y"})];
        let Prepared::MultipleChoice(items) = prepare(&s, &d, None).unwrap() else {
            panic!()
        };
        assert_eq!(items[0].gold, vec![1]);
        for (bad, want) in [
            (
                json!({"q": "?", "opts": ["x", "y"], "a": 5}),
                "out of range",
            ),
            (
                json!({"q": "?", "opts": ["x", "y"], "a": "z"}),
                "not one of the choices",
            ),
            (json!({"q": "?", "opts": ["x"], "a": 0}), "2 to 64"),
            (json!({"opts": ["x", "y"], "a": 0}), "no field `q`"),
        ] {
            let e = prepare(&s, &[bad], None).unwrap_err().0;
            assert!(e.contains(want), "{e}");
        }
        assert!(
            read_jsonl(b"{\"a\":1}\n[1]\n", "d.jsonl")
                .unwrap_err()
                .0
                .contains("line 2")
        );
    }
}
