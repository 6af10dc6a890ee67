//! Tensor manifests of weight files: scanned once per distinct content (the key is the LFS
//! sha256 or the git blob id), stored in `weight_files`/`tensors`, and listed per commit in
//! `commit_weight_files`. Scanning streams the file once; it never holds it in memory.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use bytes::Bytes;
use diesel::prelude::*;
use futures::StreamExt;
use grove_lineage::formats::{self, FileManifest, Limits, TensorEntry, WeightFormat};
use grove_storage::git::{Entry, GitRepo};
use grove_storage::{BlobStore, Oid};

use crate::db::schema::{commit_weight_files, tensors, weight_files};
use crate::db::{Db, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::with_conn;

/// Regular (non-LFS) weight files larger than this are not read out of git for scanning.
const MAX_GIT_WEIGHT_BYTES: u64 = 64 * 1024 * 1024;

/// The content key of a weight file entry.
pub fn content_key(entry: &Entry) -> String {
    match &entry.lfs {
        Some(p) => format!("sha256:{}", p.oid),
        None => format!("git:{}", entry.oid),
    }
}

/// What is stored about one weight file.
#[derive(Debug, Clone, Queryable)]
pub struct WeightFileRow {
    pub oid: String,
    pub format: String,
    pub size: i64,
    pub tensor_count: i64,
    pub parameter_count: i64,
    pub dtypes: String,
    pub metadata: String,
    pub error: Option<String>,
}

pub fn find_file(conn: &mut DbConn, oid: &str) -> ApiResult<Option<WeightFileRow>> {
    Ok(with_conn!(conn, |c| weight_files::table
        .find(oid)
        .select((
            weight_files::oid,
            weight_files::format,
            weight_files::size,
            weight_files::tensor_count,
            weight_files::parameter_count,
            weight_files::dtypes,
            weight_files::metadata,
            weight_files::error,
        ))
        .first(c)
        .optional())?)
}

/// Stores a scanned manifest (or the reason it could not be scanned). Racing scanners of the
/// same content both succeed: the first insert wins.
pub fn store(
    conn: &mut DbConn,
    oid: &str,
    format: WeightFormat,
    size: u64,
    scanned: &Result<FileManifest, String>,
) -> ApiResult<()> {
    conn.transaction(|conn| {
        if find_file(conn, oid)?.is_some() {
            return Ok(());
        }
        // Two scanners of the same content may race: the first insert wins, the other's
        // rows are dropped by the conflict clauses.
        let (count, params, dtypes, metadata, error) = match scanned {
            Ok(m) => {
                let mut by_dtype: BTreeMap<&str, u64> = BTreeMap::new();
                for t in &m.tensors {
                    let n = by_dtype.entry(&t.dtype).or_default();
                    *n = n.saturating_add(numel(t));
                }
                (
                    m.tensors.len() as i64,
                    m.parameter_count.min(i64::MAX as u64) as i64,
                    serde_json::to_string(&by_dtype).unwrap_or_default(),
                    serde_json::to_string(&m.metadata).unwrap_or_default(),
                    None,
                )
            }
            Err(e) => (0, 0, "{}".into(), "{}".into(), Some(e.clone())),
        };
        let inserted = with_conn!(conn, |c| diesel::insert_into(weight_files::table)
            .values((
                weight_files::oid.eq(oid),
                weight_files::format.eq(format.as_str()),
                weight_files::size.eq(size as i64),
                weight_files::tensor_count.eq(count),
                weight_files::parameter_count.eq(params),
                weight_files::dtypes.eq(&dtypes),
                weight_files::metadata.eq(&metadata),
                weight_files::error.eq(&error),
                weight_files::created_at.eq(crate::time::now()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Ok(());
        }
        if let Ok(m) = scanned {
            let rows: Vec<_> = m
                .tensors
                .iter()
                .map(|t| {
                    (
                        tensors::file_oid.eq(oid),
                        tensors::name.eq(&t.name),
                        tensors::dtype.eq(&t.dtype),
                        tensors::shape.eq(serde_json::to_string(&t.shape).unwrap_or_default()),
                        tensors::begin_offset.eq(t.begin as i64),
                        tensors::end_offset.eq(t.end as i64),
                        tensors::hash.eq(&t.hash),
                        tensors::sample.eq(t.sample.as_ref().map(|s| encode_sample(s))),
                    )
                })
                .collect();
            for chunk in rows.chunks(100) {
                with_conn!(conn, |c| diesel::insert_into(tensors::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c))?;
            }
        }
        Ok(())
    })
}

/// Elements of a tensor; checked, since shapes come from untrusted headers (a zero dimension
/// makes it 0 whatever the others).
fn numel(t: &TensorEntry) -> u64 {
    if t.shape.contains(&0) {
        return 0;
    }
    t.shape
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(*d))
        .unwrap_or(u64::MAX)
}

/// Samples are stored as JSON numbers; non-finite values become null and read back as NaN.
fn encode_sample(s: &[f32]) -> String {
    serde_json::to_string(
        &s.iter()
            .map(|v| v.is_finite().then_some(*v))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

fn decode_sample(s: &str) -> Option<Vec<f32>> {
    let values: Vec<Option<f32>> = serde_json::from_str(s).ok()?;
    Some(values.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
}

type TensorRow = (String, String, String, i64, i64, String, Option<String>);

fn to_entry(row: TensorRow) -> TensorEntry {
    let (name, dtype, shape, begin, end, hash, sample) = row;
    TensorEntry {
        name,
        dtype,
        shape: serde_json::from_str(&shape).unwrap_or_default(),
        begin: begin as u64,
        end: end as u64,
        hash,
        sample: sample.as_deref().and_then(decode_sample),
    }
}

/// The tensors of every weight file a scanned commit holds, with the file each came from.
pub fn commit_tensors(
    conn: &mut DbConn,
    repo_id: i64,
    commit: &str,
) -> ApiResult<Vec<(String, TensorEntry)>> {
    let rows: Vec<(String, TensorRow)> = with_conn!(conn, |c| commit_weight_files::table
        .inner_join(tensors::table.on(tensors::file_oid.eq(commit_weight_files::file_oid)))
        .filter(commit_weight_files::repo_id.eq(repo_id))
        .filter(commit_weight_files::commit_id.eq(commit))
        .order((commit_weight_files::path.asc(), tensors::begin_offset.asc()))
        .select((
            commit_weight_files::path,
            (
                tensors::name,
                tensors::dtype,
                tensors::shape,
                tensors::begin_offset,
                tensors::end_offset,
                tensors::hash,
                tensors::sample,
            ),
        ))
        .load(c))?;
    Ok(rows.into_iter().map(|(p, r)| (p, to_entry(r))).collect())
}

/// The weight files of a commit: path -> stored file row.
pub fn commit_files(
    conn: &mut DbConn,
    repo_id: i64,
    commit: &str,
) -> ApiResult<Vec<(String, WeightFileRow)>> {
    let rows: Vec<(String, WeightFileRow)> = with_conn!(conn, |c| commit_weight_files::table
        .inner_join(weight_files::table.on(weight_files::oid.eq(commit_weight_files::file_oid)))
        .filter(commit_weight_files::repo_id.eq(repo_id))
        .filter(commit_weight_files::commit_id.eq(commit))
        .order(commit_weight_files::path.asc())
        .select((
            commit_weight_files::path,
            (
                weight_files::oid,
                weight_files::format,
                weight_files::size,
                weight_files::tensor_count,
                weight_files::parameter_count,
                weight_files::dtypes,
                weight_files::metadata,
                weight_files::error,
            ),
        ))
        .load(c))?;
    Ok(rows)
}

/// Records which weight files a commit holds (idempotent).
pub fn link_commit(
    conn: &mut DbConn,
    repo_id: i64,
    commit: &str,
    files: &[(String, String)],
) -> ApiResult<()> {
    for (path, oid) in files {
        with_conn!(conn, |c| diesel::insert_into(commit_weight_files::table)
            .values((
                commit_weight_files::repo_id.eq(repo_id),
                commit_weight_files::commit_id.eq(commit),
                commit_weight_files::path.eq(path),
                commit_weight_files::file_oid.eq(oid),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// A blocking `Read` over an async blob stream, fed by a task on the runtime through a small
/// bounded channel (at most a few read chunks in flight).
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Scans one LFS object from the blob store. The error string is the reason to record.
pub async fn scan_blob(
    blobs: &BlobStore,
    sha256: &str,
    format: WeightFormat,
) -> ApiResult<Result<FileManifest, String>> {
    let oid = Oid::parse(sha256).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let read = match blobs.get(&oid, None).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(format!("the file's content is not readable: {e}"))),
    };
    let size = read.total_size;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut stream = read.stream;
    let pump = tokio::spawn(async move {
        while let Some(chunk) = stream.next().await {
            let stop = chunk.is_err();
            if tx.send(chunk.map_err(|e| e.to_string())).await.is_err() || stop {
                break;
            }
        }
    });
    let result = tokio::task::spawn_blocking(move || {
        let mut reader = ChannelReader {
            rx,
            current: Bytes::new(),
        };
        formats::scan(&mut reader, size, format, &Limits::default()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::internal(anyhow::anyhow!("scan task failed: {e}")))?;
    pump.abort();
    Ok(result)
}

/// Scans a regular (non-LFS) weight file out of git. Blocking.
pub fn scan_git_blob(
    git_repo: &GitRepo,
    entry: &Entry,
    format: WeightFormat,
) -> ApiResult<Result<FileManifest, String>> {
    if entry.size > MAX_GIT_WEIGHT_BYTES {
        return Ok(Err(format!(
            "weight files stored in git (not LFS) are scanned up to {MAX_GIT_WEIGHT_BYTES} bytes"
        )));
    }
    let bytes = git_repo
        .read_blob(&entry.oid)
        .map_err(crate::repos::service::git_error)?;
    let size = bytes.len() as u64;
    Ok(
        formats::scan(&mut bytes.as_slice(), size, format, &Limits::default())
            .map_err(|e| e.to_string()),
    )
}

/// Makes sure every weight file of `entries` has a manifest and the commit lists them.
/// Returns warnings for files that could not be read.
pub async fn index_commit(
    db: &Db,
    blobs: &BlobStore,
    git_repo_open: impl Fn() -> ApiResult<GitRepo> + Send + Sync + Clone + 'static,
    repo_id: i64,
    commit: &str,
    entries: &[Entry],
) -> ApiResult<Vec<String>> {
    let mut warnings = Vec::new();
    let mut links = Vec::new();
    for entry in entries {
        let Some(format) = WeightFormat::from_path(&entry.path) else {
            continue;
        };
        let key = content_key(entry);
        let known = {
            let key = key.clone();
            db.run(move |conn| find_file(conn, &key)).await?
        };
        let row = match known {
            Some(row) => row,
            None => {
                let scanned = match &entry.lfs {
                    Some(p) => scan_blob(blobs, &p.oid, format).await?,
                    None => {
                        let open = git_repo_open.clone();
                        let e = entry.clone();
                        tokio::task::spawn_blocking(move || scan_git_blob(&open()?, &e, format))
                            .await
                            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))??
                    }
                };
                let size = crate::repos::files::content_size(entry);
                let k = key.clone();
                db.run(move |conn| {
                    store(conn, &k, format, size, &scanned)?;
                    find_file(conn, &k)
                })
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("manifest vanished")))?
            }
        };
        if let Some(err) = &row.error {
            warnings.push(format!("{}: {err}", entry.path));
        }
        links.push((entry.path.clone(), key));
    }
    let commit = commit.to_string();
    db.run(move |conn| link_commit(conn, repo_id, &commit, &links))
        .await?;
    Ok(warnings)
}

/// The Hub's `safetensors` and `gguf` fields of `model_info` for a scanned commit.
pub fn summary(files: &[(String, WeightFileRow)]) -> serde_json::Value {
    let mut st: BTreeMap<String, u64> = BTreeMap::new();
    let mut st_total = 0u64;
    let mut gguf: Option<serde_json::Value> = None;
    for (_, f) in files.iter().filter(|(_, f)| f.error.is_none()) {
        if f.format == "safetensors" {
            let dtypes: HashMap<String, u64> = serde_json::from_str(&f.dtypes).unwrap_or_default();
            for (k, v) in dtypes {
                *st.entry(k).or_default() += v;
            }
            st_total += f.parameter_count as u64;
        } else if f.format == "gguf" && gguf.is_none() {
            let meta: BTreeMap<String, String> =
                serde_json::from_str(&f.metadata).unwrap_or_default();
            let arch = meta.get("general.architecture").cloned();
            let ctx = arch
                .as_ref()
                .and_then(|a| meta.get(&format!("{a}.context_length")))
                .and_then(|v| v.parse::<u64>().ok());
            gguf = Some(serde_json::json!({
                "total": f.parameter_count,
                "architecture": arch,
                "context_length": ctx,
            }));
        }
    }
    let safetensors = (st_total > 0 || !st.is_empty())
        .then(|| serde_json::json!({"parameters": st, "total": st_total}));
    serde_json::json!({"safetensors": safetensors, "gguf": gguf})
}
