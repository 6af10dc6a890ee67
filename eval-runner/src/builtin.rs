//! The built-in tasks, written for Grove and shipped inside the binary so a fresh hub (its demo,
//! its tests) has something to evaluate: `grove-arith` (multiple choice, zero-shot),
//! `grove-capitals` (multiple choice, two-shot from a separate pool) and `grove-prose` (rolling
//! log-likelihood). Each is a folder that uploads as a task dataset repo as is.

use std::path::Path;

/// (folder, [(file, content)]).
pub const TASKS: [(&str, &[(&str, &str)]); 3] = [
    (
        "grove-arith",
        &[
            ("task.yaml", include_str!("../tasks/arith/task.yaml")),
            ("test.jsonl", include_str!("../tasks/arith/test.jsonl")),
            ("README.md", include_str!("../tasks/arith/README.md")),
        ],
    ),
    (
        "grove-capitals",
        &[
            ("task.yaml", include_str!("../tasks/capitals/task.yaml")),
            ("test.jsonl", include_str!("../tasks/capitals/test.jsonl")),
            ("train.jsonl", include_str!("../tasks/capitals/train.jsonl")),
            ("README.md", include_str!("../tasks/capitals/README.md")),
        ],
    ),
    (
        "grove-prose",
        &[
            ("task.yaml", include_str!("../tasks/prose/task.yaml")),
            ("test.jsonl", include_str!("../tasks/prose/test.jsonl")),
            ("README.md", include_str!("../tasks/prose/README.md")),
        ],
    ),
];

/// Writes every built-in task under `out/<name>/`; returns the names.
pub fn write_all(out: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, files) in TASKS {
        let dir = out.join(name);
        std::fs::create_dir_all(&dir)?;
        for (file, content) in files {
            std::fs::write(dir.join(file), content)?;
        }
        names.push(name.to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::{prepare, read_jsonl};
    use crate::spec::parse_task;

    #[test]
    fn every_builtin_task_parses_and_prepares() {
        for (name, files) in TASKS {
            let get = |f: &str| files.iter().find(|(n, _)| *n == f).map(|(_, c)| *c);
            let spec =
                parse_task(get("task.yaml").unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            let docs = read_jsonl(get(&spec.data).unwrap().as_bytes(), &spec.data).unwrap();
            let pool = spec
                .fewshot_data
                .as_ref()
                .map(|f| read_jsonl(get(f).unwrap().as_bytes(), f).unwrap());
            let prepared =
                prepare(&spec, &docs, pool.as_deref()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(prepared.len(), docs.len());
        }
    }
}
