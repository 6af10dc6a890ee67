//! Connection pools for both backends, and the bridge that keeps database work off the executor.

use std::time::Duration;

use anyhow::Context;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};

use super::DbConn;
use crate::config::DatabaseUrl;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub enum Db {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// Per-connection SQLite settings: WAL so readers never block the writer, a busy timeout so
/// writers queue instead of failing, enforced foreign keys, and `synchronous=FULL` so a commit
/// that returned is on disk.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        diesel::sql_query(
            "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
        )
        .execute(conn)
        .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(())
    }
}

impl Db {
    /// Opens the pool. For SQLite the file and its directory are created and WAL mode is set once.
    pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let path_str = path
                    .to_str()
                    .context("the SQLite path must be valid UTF-8")?
                    .to_string();
                let mut first = SqliteConnection::establish(&path_str)
                    .with_context(|| format!("cannot open SQLite database {path_str}"))?;
                diesel::sql_query("PRAGMA journal_mode = WAL")
                    .execute(&mut first)
                    .context("cannot switch SQLite to WAL mode")?;
                let pool = Pool::builder()
                    .max_size(8)
                    .connection_timeout(Duration::from_secs(30))
                    .connection_customizer(Box::new(SqlitePragmas))
                    .build(ConnectionManager::new(path_str))
                    .context("cannot open the SQLite pool")?;
                Ok(Db::Sqlite(pool))
            }
            DatabaseUrl::Postgres(url) => {
                let pool = Pool::builder()
                    .max_size(16)
                    .connection_timeout(Duration::from_secs(30))
                    .build(ConnectionManager::new(url.clone()))
                    .context("cannot connect to PostgreSQL")?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    /// A connection for blocking code (commands, migrations, background threads).
    pub fn get(&self) -> ApiResult<DbConn> {
        Ok(match self {
            Db::Sqlite(p) => DbConn::Sqlite(p.get()?),
            Db::Postgres(p) => DbConn::Postgres(p.get()?),
        })
    }

    /// Runs `f` with a connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> ApiResult<()> {
        self.run(|conn| {
            crate::with_conn!(conn, |c| diesel::sql_query("SELECT 1").execute(c))?;
            Ok(())
        })
        .await
    }
}
