//! Embedded migrations, one folder per backend, applied at start-up and by `grove migrate`.

use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Applies pending migrations and returns the versions applied.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE).map(versions),
        DbConn::Postgres(c) => {
            // Several `grove serve` processes may start at once over one database: the advisory
            // lock makes them migrate one after another instead of racing on the same DDL.
            diesel::sql_query("SELECT pg_advisory_lock(4711001)").execute(&mut **c)?;
            let result = c.run_pending_migrations(POSTGRES).map(versions);
            diesel::sql_query("SELECT pg_advisory_unlock(4711001)").execute(&mut **c)?;
            result
        }
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied)
}

fn versions(applied: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    applied.into_iter().map(|v| v.to_string()).collect()
}
