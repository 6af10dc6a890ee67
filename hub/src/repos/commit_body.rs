//! Turns a commit's NDJSON body into validated operations, on a blocking thread, as it streams.

use std::collections::HashSet;
use std::path::PathBuf;

use bytes::Bytes;
use grove_storage::Oid;
use grove_storage::git::RepoPath;

use super::ndjson::{ContentSink, Line, LineParser};
use super::spool::{SpoolSink, Spooled};
use crate::error::{ApiError, ApiResult};

/// Most operations one commit may carry.
pub const MAX_OPS: usize = 25_000;
/// Largest inline file content (it is spooled to disk, never held in memory).
pub const MAX_INLINE_FILE: u64 = 50 * 1024 * 1024 * 1024;
const MAX_SUMMARY: usize = 1024;

#[derive(Debug)]
pub enum PendingOp {
    Inline {
        path: RepoPath,
        spool: Spooled,
    },
    Lfs {
        path: RepoPath,
        oid: Oid,
        size: Option<u64>,
    },
    Delete(RepoPath),
    DeleteFolder(RepoPath),
}

#[derive(Debug, Default)]
pub struct ParsedCommit {
    pub summary: String,
    pub description: String,
    pub parent: Option<String>,
    pub ops: Vec<PendingOp>,
}

fn path_of(line: &Line, folder: bool) -> Result<RepoPath, String> {
    let raw = line
        .str("value.path")
        .ok_or_else(|| "an operation line has no value.path".to_string())?;
    let parsed = if folder {
        RepoPath::parse_folder(raw)
    } else {
        RepoPath::parse(raw)
    };
    parsed.map_err(|e| format!("invalid path {raw:?}: {e}"))
}

/// Applies one parsed line to the commit being built.
fn apply_line(
    commit: &mut ParsedCommit,
    seen_header: &mut bool,
    paths: &mut HashSet<String>,
    line: Line,
    content: Option<Spooled>,
    sink: &mut SpoolSink,
) -> Result<(), String> {
    let key = line
        .str("key")
        .ok_or_else(|| "a line has no \"key\"".to_string())?
        .to_string();
    if content.is_some() && key != "file" {
        return Err(format!("a {key:?} line cannot carry content"));
    }
    if key == "header" {
        if *seen_header || !commit.ops.is_empty() {
            return Err("the header must be the first line, and only once".into());
        }
        *seen_header = true;
        let summary = line.str("value.summary").unwrap_or_default().trim();
        if summary.len() > MAX_SUMMARY {
            return Err(format!("the summary is longer than {MAX_SUMMARY} bytes"));
        }
        commit.summary = summary.to_string();
        commit.description = line
            .str("value.description")
            .unwrap_or_default()
            .to_string();
        commit.parent = line
            .str("value.parentCommit")
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        return Ok(());
    }
    if !*seen_header {
        return Err("the first line must be the header".into());
    }
    if commit.ops.len() >= MAX_OPS {
        return Err(format!("a commit carries at most {MAX_OPS} operations"));
    }
    let op = match key.as_str() {
        "file" => {
            let path = path_of(&line, false)?;
            if let Some(encoding) = line.str("value.encoding")
                && encoding != "base64"
            {
                return Err(format!("unsupported encoding {encoding:?}: use base64"));
            }
            let spool = match content {
                Some(spool) => spool,
                None => {
                    // `"content": ""` never starts a content: an empty file.
                    sink.begin()?;
                    sink.take()?.ok_or("cannot spool an empty file")?
                }
            };
            PendingOp::Inline { path, spool }
        }
        "lfsFile" => {
            let path = path_of(&line, false)?;
            if let Some(algo) = line.str("value.algo")
                && algo != "sha256"
            {
                return Err(format!("unsupported LFS hash algorithm {algo:?}"));
            }
            let raw = line.str("value.oid").ok_or("an lfsFile line has no oid")?;
            let oid = Oid::parse(raw).map_err(|e| e.to_string())?;
            let size = match line.fields.get("value.size") {
                None | Some(serde_json::Value::Null) => None,
                Some(v) => Some(
                    v.as_u64()
                        .ok_or("value.size must be a non-negative integer")?,
                ),
            };
            PendingOp::Lfs { path, oid, size }
        }
        "deletedFile" => PendingOp::Delete(path_of(&line, false)?),
        "deletedFolder" => PendingOp::DeleteFolder(path_of(&line, true)?),
        other => return Err(format!("unknown operation {other:?}")),
    };
    let path = match &op {
        PendingOp::Inline { path, .. }
        | PendingOp::Lfs { path, .. }
        | PendingOp::Delete(path)
        | PendingOp::DeleteFolder(path) => path.as_str().to_string(),
    };
    if !paths.insert(path.clone()) {
        return Err(format!("{path:?} appears twice in one commit"));
    }
    commit.ops.push(op);
    Ok(())
}

/// Consumes the body chunks from `rx` (the HTTP side feeds them) and returns the commit.
pub fn parse_commit_body(
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
    spool_dir: PathBuf,
) -> ApiResult<ParsedCommit> {
    let mut parser = LineParser::new();
    let mut sink = SpoolSink::new(spool_dir, MAX_INLINE_FILE);
    let mut commit = ParsedCommit::default();
    let mut seen_header = false;
    let mut paths = HashSet::new();
    // Completed lines leave the parser through `pending` and are applied right after each chunk;
    // each carries its own content, so several lines in one chunk never share a spool file.
    let mut pending: Vec<(Line, Option<Spooled>)> = Vec::new();
    let mut line_no = 0usize;
    let mut step = |chunk: Option<&[u8]>| -> Result<(), String> {
        let mut collect = |line: Line, content: Option<Spooled>| {
            pending.push((line, content));
            Ok(())
        };
        match chunk {
            Some(bytes) => parser.push(bytes, &mut sink, &mut collect),
            None => parser.finish(&mut sink, &mut collect),
        }
        .map_err(|e| format!("line {}: {e}", line_no + pending.len() + 1))?;
        for (line, content) in pending.drain(..) {
            line_no += 1;
            apply_line(
                &mut commit,
                &mut seen_header,
                &mut paths,
                line,
                content,
                &mut sink,
            )
            .map_err(|e| format!("line {line_no}: {e}"))?;
        }
        Ok(())
    };
    while let Some(chunk) = rx.blocking_recv() {
        step(Some(&chunk)).map_err(ApiError::BadRequest)?;
    }
    step(None).map_err(ApiError::BadRequest)?;
    if !seen_header {
        return Err(ApiError::BadRequest(
            "the commit body is empty: no header line".into(),
        ));
    }
    Ok(commit)
}
