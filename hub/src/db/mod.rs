//! The database: one schema, two backends (SQLite embedded default, PostgreSQL for production).
//!
//! Query code is written once against `DbConn`; the `with_conn!` macro expands each query for
//! both concrete connection types, so every diesel feature (RETURNING, upserts, transactions)
//! stays available and type-checked on both backends. All database work runs on the blocking pool
//! through [`Db::run`], never on the async executor.

mod migrate;
mod pool;
pub mod schema;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, PooledConnection};

use crate::error::{ApiError, ApiResult};

pub use migrate::run_migrations;
pub use pool::Db;

/// A pooled connection to whichever backend is configured.
pub enum DbConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    Postgres(PooledConnection<ConnectionManager<PgConnection>>),
}

/// Runs `$body` with `$c` bound to the concrete connection (`&mut SqliteConnection` or
/// `&mut PgConnection`); the body is compiled once per backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(pooled) => {
                let $c: &mut ::diesel::SqliteConnection = &mut *pooled;
                $body
            }
            $crate::db::DbConn::Postgres(pooled) => {
                let $c: &mut ::diesel::PgConnection = &mut *pooled;
                $body
            }
        }
    };
}

impl DbConn {
    /// Runs `f` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    /// On SQLite the transaction takes the write lock up front (`BEGIN IMMEDIATE`), so two
    /// writers queue on the busy timeout instead of failing on a lock upgrade.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut DbConn) -> ApiResult<T>) -> ApiResult<T> {
        match self {
            DbConn::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(&mut **c, "BEGIN IMMEDIATE")?
            }
            DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(&mut **c)?,
        }
        let result = f(self);
        let end = match &result {
            Ok(_) => with_conn!(self, |c| AnsiTransactionManager::commit_transaction(c)),
            Err(_) => with_conn!(self, |c| AnsiTransactionManager::rollback_transaction(c)),
        };
        match (result, end) {
            (Ok(v), Ok(())) => Ok(v),
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(ApiError::from(e)),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbConn::Sqlite(_) => "sqlite",
            DbConn::Postgres(_) => "postgres",
        }
    }
}

/// True when `e` is a unique-constraint violation (a name or token hash already taken).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
