//! Task specs: the `task.yaml` at the root of a task dataset repo, and `suite.yaml` for a named
//! set of tasks. Parsed with the same bounded YAML reader as model cards (no aliases, limited
//! depth and size), then checked field by field so a malformed spec gets a message that names
//! the field. Defaults follow lm-evaluation-harness (`target_delimiter " "`, few-shot delimiter
//! `"\n\n"`, seed 1234).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::template::Template;

/// The file a task dataset holds its spec in.
pub const TASK_FILE: &str = "task.yaml";
/// The file a suite dataset holds its list of tasks in.
pub const SUITE_FILE: &str = "suite.yaml";
/// Largest spec file accepted.
pub const MAX_SPEC_BYTES: usize = 64 * 1024;
pub const MAX_FEWSHOT: u32 = 64;
pub const MAX_LENGTH_LIMIT: u32 = 1 << 20;
pub const MAX_SUITE_TASKS: usize = 100;
/// lm-evaluation-harness's default few-shot seed.
pub const DEFAULT_FEWSHOT_SEED: u64 = 1234;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError(msg.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// One log-likelihood request per choice; `acc`, `acc_norm`, `acc_bytes`.
    MultipleChoice,
    /// Rolling log-likelihood of whole documents; perplexities and bits per byte.
    LoglikelihoodRolling,
}

impl TaskType {
    pub fn metrics(self) -> &'static [&'static str] {
        match self {
            TaskType::MultipleChoice => &["acc", "acc_norm", "acc_bytes"],
            TaskType::LoglikelihoodRolling => {
                &["word_perplexity", "byte_perplexity", "bits_per_byte"]
            }
        }
    }
}

/// Whether a bigger value of `metric` is better.
pub fn higher_is_better(metric: &str) -> bool {
    !matches!(
        metric,
        "word_perplexity" | "byte_perplexity" | "bits_per_byte"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FewshotSampler {
    /// `random.Random(seed).sample` as the harness does.
    Random,
    /// The first n documents of the few-shot pool.
    FirstN,
}

/// Where a document's choices come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ChoiceSource {
    /// A field holding a list of strings.
    Field(String),
    /// The same list for every document (each entry may be a template).
    Fixed(Vec<Template>),
}

/// Where a document's gold answer comes from: a field or a template; an integer is an index into
/// the choices, a string is matched against them.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSource {
    Field(String),
    Template(Template),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub name: String,
    pub task_type: TaskType,
    /// JSONL file (path in the task repo) with the documents to score.
    pub data: String,
    /// JSONL file with the few-shot pool; the eval data itself when absent.
    pub fewshot_data: Option<String>,
    pub num_fewshot: u32,
    pub fewshot_seed: u64,
    pub fewshot_sampler: FewshotSampler,
    /// Text before the first example, rendered against each document (as the harness does).
    pub description: Template,
    pub doc_to_text: Template,
    pub doc_to_choice: Option<ChoiceSource>,
    pub doc_to_target: Option<TargetSource>,
    pub target_delimiter: String,
    pub fewshot_delimiter: String,
    pub metrics: Vec<String>,
    pub primary_metric: String,
    /// Longest model input in tokens (the harness's `max_length`).
    pub max_length: u32,
    /// Tokenise with the tokenizer's special tokens (its BOS), as the harness does since 0.4.9.2.
    pub add_special_tokens: bool,
}

impl TaskSpec {
    /// Every file of the task repo the spec needs.
    pub fn data_files(&self) -> Vec<String> {
        let mut files = vec![self.data.clone()];
        if let Some(f) = &self.fewshot_data
            && f != &self.data
        {
            files.push(f.clone());
        }
        files
    }

    /// The JSON the hub shows for a task.
    pub fn summary(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "type": self.task_type,
            "metrics": self.metrics,
            "primaryMetric": self.primary_metric,
            "higherIsBetter": higher_is_better(&self.primary_metric),
            "numFewshot": self.num_fewshot,
            "maxLength": self.max_length,
            "data": self.data,
        })
    }
}

/// Parses a YAML document into a JSON object with the card reader's limits.
fn parse_yaml(text: &str, what: &str) -> Result<Map<String, Value>, SpecError> {
    if text.len() > MAX_SPEC_BYTES {
        return err(format!("{what} is larger than {MAX_SPEC_BYTES} bytes"));
    }
    grove_indexer::card::parse_front_matter(text).map_err(|e| {
        SpecError(format!(
            "{what}: {}",
            e.to_string().replace("front matter", "file")
        ))
    })
}

struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, key: &str) -> Result<Option<String>, SpecError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => err(format!("`{key}` must be a string")),
        }
    }

    fn required_string(&mut self, key: &str) -> Result<String, SpecError> {
        self.string(key)?
            .ok_or_else(|| SpecError(format!("`{key}` is required")))
    }

    fn uint(&mut self, key: &str, max: u64) -> Result<Option<u64>, SpecError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => Ok(Some(v)),
                _ => err(format!("`{key}` must be an integer from 0 to {max}")),
            },
            Some(_) => err(format!("`{key}` must be an integer from 0 to {max}")),
        }
    }
}

/// A relative path inside the task repo: no `..`, no absolute paths, no backslashes.
fn repo_path(key: &str, path: String) -> Result<String, SpecError> {
    let ok = !path.is_empty()
        && path.len() <= 1000
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(path)
    } else {
        err(format!(
            "`{key}` must be a relative path inside the task repo, got {path:?}"
        ))
    }
}

fn template(key: &str, source: &str) -> Result<Template, SpecError> {
    Template::parse(source).map_err(|e| SpecError(format!("`{key}`: {e}")))
}

/// A field name or, when it contains `{{`, a template.
fn is_template(s: &str) -> bool {
    s.contains("{{")
}

/// Parses and checks a `task.yaml`.
pub fn parse_task(text: &str) -> Result<TaskSpec, SpecError> {
    let mut f = Fields {
        map: parse_yaml(text, TASK_FILE)?,
    };
    let name = f.required_string("task")?;
    if name.is_empty() || name.len() > 100 {
        return err("`task` must be a name of 1 to 100 characters");
    }
    let task_type = match f.required_string("type")?.as_str() {
        "multiple_choice" => TaskType::MultipleChoice,
        "loglikelihood_rolling" => TaskType::LoglikelihoodRolling,
        other => {
            return err(format!(
                "`type` {other:?} is not supported: use multiple_choice or loglikelihood_rolling"
            ));
        }
    };
    let data = repo_path("data", f.required_string("data")?)?;
    let fewshot_data = f
        .string("fewshot_data")?
        .map(|p| repo_path("fewshot_data", p))
        .transpose()?;
    let num_fewshot = f.uint("num_fewshot", MAX_FEWSHOT as u64)?.unwrap_or(0) as u32;
    let fewshot_seed = f
        .uint("fewshot_seed", u32::MAX as u64)?
        .unwrap_or(DEFAULT_FEWSHOT_SEED);
    let fewshot_sampler = match f.string("fewshot_sampler")?.as_deref() {
        None | Some("random") => FewshotSampler::Random,
        Some("first_n") => FewshotSampler::FirstN,
        Some(other) => {
            return err(format!(
                "`fewshot_sampler` {other:?}: use random or first_n"
            ));
        }
    };
    let description = template("description", &f.string("description")?.unwrap_or_default())?;
    let doc_to_text = template("doc_to_text", &f.required_string("doc_to_text")?)?;
    let doc_to_choice = match f.take("doc_to_choice") {
        None => None,
        Some(Value::String(s)) if !is_template(&s) && !s.is_empty() => Some(ChoiceSource::Field(s)),
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 64 => {
            let mut fixed = Vec::new();
            for item in items {
                let Value::String(s) = item else {
                    return err("`doc_to_choice` list entries must be strings");
                };
                fixed.push(template("doc_to_choice", &s)?);
            }
            Some(ChoiceSource::Fixed(fixed))
        }
        Some(_) => {
            return err("`doc_to_choice` must be a field name or a list of 1 to 64 strings");
        }
    };
    let doc_to_target = match f.take("doc_to_target") {
        None => None,
        Some(Value::String(s)) if is_template(&s) => {
            Some(TargetSource::Template(template("doc_to_target", &s)?))
        }
        Some(Value::String(s)) if !s.is_empty() => Some(TargetSource::Field(s)),
        Some(_) => return err("`doc_to_target` must be a field name or a template"),
    };
    let target_delimiter = f.string("target_delimiter")?.unwrap_or_else(|| " ".into());
    let fewshot_delimiter = f
        .string("fewshot_delimiter")?
        .unwrap_or_else(|| "\n\n".into());
    let allowed = task_type.metrics();
    let metrics: Vec<String> = match f.take("metrics") {
        None => allowed.iter().map(|m| m.to_string()).collect(),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut out = Vec::new();
            for item in items {
                // The harness writes `- metric: acc`; a bare name is accepted too.
                let name = match item {
                    Value::String(s) => s,
                    Value::Object(mut m) => match m.remove("metric") {
                        Some(Value::String(s)) => s,
                        _ => return err("a `metrics` entry must be a name or {metric: name}"),
                    },
                    _ => return err("a `metrics` entry must be a name or {metric: name}"),
                };
                if !allowed.contains(&name.as_str()) {
                    return err(format!(
                        "metric {name:?} is not available for this task type: use {}",
                        allowed.join(", ")
                    ));
                }
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            out
        }
        Some(_) => return err("`metrics` must be a non-empty list"),
    };
    let primary_metric = f
        .string("primary_metric")?
        .unwrap_or_else(|| metrics[0].clone());
    if !metrics.contains(&primary_metric) {
        return err(format!(
            "`primary_metric` {primary_metric:?} is not one of `metrics`"
        ));
    }
    let max_length = f
        .uint("max_length", MAX_LENGTH_LIMIT as u64)?
        .unwrap_or(2048) as u32;
    if max_length < 2 {
        return err("`max_length` must be at least 2");
    }
    let add_special_tokens = match f.take("add_special_tokens") {
        None => true,
        Some(Value::Bool(b)) => b,
        Some(_) => return err("`add_special_tokens` must be true or false"),
    };
    if task_type == TaskType::MultipleChoice {
        if doc_to_choice.is_none() {
            return err("a multiple_choice task needs `doc_to_choice`");
        }
        if doc_to_target.is_none() {
            return err("a multiple_choice task needs `doc_to_target`");
        }
    } else if num_fewshot > 0 {
        return err("loglikelihood_rolling tasks take no few-shot examples");
    }
    // Unknown keys are refused: a typo must not silently change what a score means.
    if let Some(key) = f
        .map
        .keys()
        .find(|k| !matches!(k.as_str(), "version" | "tag" | "dataset_name"))
    {
        return err(format!("unknown key `{key}` in {TASK_FILE}"));
    }
    Ok(TaskSpec {
        name,
        task_type,
        data,
        fewshot_data,
        num_fewshot,
        fewshot_seed,
        fewshot_sampler,
        description,
        doc_to_text,
        doc_to_choice,
        doc_to_target,
        target_delimiter,
        fewshot_delimiter,
        metrics,
        primary_metric,
        max_length,
        add_special_tokens,
    })
}

/// A suite: a named list of task repos (`owner/name`, optionally `@revision`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteSpec {
    pub name: String,
    pub tasks: Vec<String>,
}

/// Parses and checks a `suite.yaml`.
pub fn parse_suite(text: &str) -> Result<SuiteSpec, SpecError> {
    let mut f = Fields {
        map: parse_yaml(text, SUITE_FILE)?,
    };
    let name = f.required_string("suite")?;
    let tasks = match f.take("tasks") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_SUITE_TASKS => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) if s.split('/').count() == 2 && !s.contains("..") => Ok(s),
                _ => err("`tasks` entries must be task repo ids like owner/name"),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return err(format!(
                "`tasks` must be a list of 1 to {MAX_SUITE_TASKS} task repo ids"
            ));
        }
    };
    if let Some(key) = f.map.keys().next() {
        return err(format!("unknown key `{key}` in {SUITE_FILE}"));
    }
    Ok(SuiteSpec { name, tasks })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MC: &str = "task: capitals\ntype: multiple_choice\ndata: test.jsonl\n\
        doc_to_text: \"Q: {{question}}\\nA:\"\ndoc_to_choice: choices\ndoc_to_target: answer\n";

    #[test]
    fn defaults_follow_the_harness() {
        let spec = parse_task(MC).unwrap();
        assert_eq!(spec.target_delimiter, " ");
        assert_eq!(spec.fewshot_delimiter, "\n\n");
        assert_eq!(spec.fewshot_seed, 1234);
        assert_eq!(spec.metrics, vec!["acc", "acc_norm", "acc_bytes"]);
        assert_eq!(spec.primary_metric, "acc");
        assert!(spec.add_special_tokens);
    }

    #[test]
    fn malformed_specs_name_the_field() {
        let cases = [
            ("task: x\n", "`type` is required"),
            (
                "task: x\ntype: generate\ndata: a\ndoc_to_text: t\n",
                "not supported",
            ),
            (&format!("{MC}data2: x\n"), "unknown key `data2`"),
            (&MC.replace("test.jsonl", "../secret"), "relative path"),
            (&format!("{MC}metrics: [bleu]\n"), "not available"),
            (&format!("{MC}num_fewshot: 1000\n"), "num_fewshot"),
            (&MC.replace("{{question}}", "{{question"), "doc_to_text"),
            ("a: &x [1]\nb: *x\n", "aliases"),
            ("- just\n- a list\n", "mapping"),
        ];
        for (text, want) in cases {
            let e = parse_task(text).unwrap_err().0;
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn suites_list_task_repos() {
        let s = parse_suite("suite: small\ntasks: [grove/capitals, grove/wiki]\n").unwrap();
        assert_eq!(s.tasks, vec!["grove/capitals", "grove/wiki"]);
        assert!(parse_suite("suite: s\ntasks: [../x]\n").is_err());
    }
}
