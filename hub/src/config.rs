//! Typed settings for every `grove` command, with one documented default each.
//!
//! Flags and `GROVE_*` environment variables are parsed by `cli`; this module turns them into
//! resolved values (defaults filled in from the data directory) so that the rest of the hub never
//! looks at the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

/// Where the data lives: shared by `serve`, `migrate` and the admin commands.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Directory for the embedded defaults (SQLite file, blobs, session key).
    #[arg(long, env = "GROVE_DATA_DIR", default_value = "./grove-data")]
    pub data_dir: PathBuf,

    /// Database URL. Default: `sqlite://<data-dir>/grove.db`. `postgres://…` selects PostgreSQL.
    #[arg(long, env = "GROVE_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// Settings only the server needs.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "GROVE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Blob store URL. Default: `file://<data-dir>/objects`. `s3://bucket/prefix`, `gs://…`,
    /// `az://…` select those stores (credentials from the usual AWS_*/GOOGLE_*/AZURE_* variables).
    #[arg(long, env = "GROVE_STORAGE_URL")]
    pub storage_url: Option<String>,

    /// Public base URL put in links the server returns. Default: `http://<listen address>`.
    #[arg(long, env = "GROVE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Log format on stderr.
    #[arg(long, env = "GROVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Refuse self-service sign-up; accounts are then made with `grove user create`.
    #[arg(long, env = "GROVE_DISABLE_SIGNUP")]
    pub disable_signup: bool,

    /// What preupload answers for large or binary files: `lfs` (the default: the stock client
    /// then uploads through Xet, or through the LFS batch API when Xet is disabled, as git-lfs
    /// does) or `regular` (content inline in the commit; for clients that speak neither).
    #[arg(long, env = "GROVE_UPLOAD_MODE", value_enum, default_value_t = UploadMode::Lfs)]
    pub upload_mode: UploadMode,

    /// How long an eval worker's claim on a job lasts without a heartbeat, in seconds. A worker
    /// that stops heartbeating loses the job to another worker after this long.
    #[arg(long, env = "GROVE_EVAL_LEASE_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub eval_lease_secs: u64,

    /// On an empty hub, seed a demo world (accounts, a family of tiny models with lineage,
    /// eval tasks, and finished evals when `grove-worker` is next to `grove`).
    #[arg(long, env = "GROVE_DEMO")]
    pub demo: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    Regular,
    Lfs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which database backend a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// Path of the SQLite file.
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

impl DataArgs {
    pub fn database(&self) -> anyhow::Result<DatabaseUrl> {
        match &self.database_url {
            None => Ok(DatabaseUrl::Sqlite(self.data_dir.join("grove.db"))),
            Some(url) => parse_database_url(url),
        }
    }

    /// Creates the data directory if needed; every command that writes state calls this first.
    pub fn ensure_data_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data dir {}", self.data_dir.display()))
    }
}

impl ServeArgs {
    pub fn storage_url(&self) -> anyhow::Result<String> {
        resolve_storage_url(self.storage_url.as_deref(), &self.data)
    }

    /// The public base URL without a trailing slash, given the address actually bound.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{bound}"),
        }
    }
}

/// Settings of `grove gc`.
#[derive(Args, Debug, Clone)]
pub struct GcArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Blob store URL, as for `grove serve`.
    #[arg(long, env = "GROVE_STORAGE_URL")]
    pub storage_url: Option<String>,

    /// Keep anything stored less than this many hours ago, referenced or not: uploads come
    /// before the commit that refers to them, and one may still be on its way.
    #[arg(long, default_value_t = 24.0)]
    pub min_age_hours: f64,

    /// Report what would be removed without removing it.
    #[arg(long)]
    pub dry_run: bool,
}

impl GcArgs {
    pub fn storage_url(&self) -> anyhow::Result<String> {
        resolve_storage_url(self.storage_url.as_deref(), &self.data)
    }

    pub fn min_age(&self) -> anyhow::Result<std::time::Duration> {
        std::time::Duration::try_from_secs_f64(self.min_age_hours * 3600.0)
            .map_err(|_| anyhow::anyhow!("--min-age-hours must be a number of hours, 0 or more"))
    }
}

/// The blob store URL: the one given, or the `objects` directory in the data dir.
fn resolve_storage_url(given: Option<&str>, data: &DataArgs) -> anyhow::Result<String> {
    match given {
        Some(url) => Ok(url.to_string()),
        None => file_url(&data.data_dir.join("objects")),
    }
}

fn parse_database_url(url: &str) -> anyhow::Result<DatabaseUrl> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DatabaseUrl::Postgres(url.to_string()));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            bail!("sqlite:// needs a file path, e.g. sqlite:///var/lib/grove/grove.db");
        }
        return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
    }
    bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://…")
}

fn file_url(path: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(path)
        .with_context(|| format!("cannot create blob dir {}", path.display()))?;
    let abs = path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    url::Url::from_directory_path(&abs)
        .map(|u| u.to_string())
        .map_err(|()| anyhow::anyhow!("cannot express {} as a file URL", abs.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_select_backends() {
        assert_eq!(
            parse_database_url("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            parse_database_url("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(parse_database_url("mysql://x").is_err());
        assert!(parse_database_url("sqlite://").is_err());
    }
}
