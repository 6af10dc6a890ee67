//! Which database (and object store) a test hub runs against, chosen from the environment.
//!
//! - `GROVE_TEST_DATABASE` = `sqlite` (default) or `postgres`.
//! - `GROVE_TEST_POSTGRES_URL`: an admin URL; each hub gets a fresh database `grove_t_<uuid>`
//!   created through it and dropped (`WITH (FORCE)`) when the hub is dropped.
//! - `GROVE_TEST_S3_ENDPOINT` + `GROVE_TEST_S3_BUCKET`: with PostgreSQL, the hub also stores its
//!   objects under `s3://<bucket>/<uuid>` (the `AWS_*` variables come from the environment).
//! - `GROVE_TEST_REQUIRE_SERVICES=1`: a missing variable for the chosen backend is a panic instead
//!   of a fall-back to SQLite and local files.

use std::path::Path;

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};

/// The backend a hub was started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What the environment asks for.
#[derive(Debug, Clone)]
pub(crate) struct ServiceConfig {
    pub postgres_admin_url: Option<String>,
    pub s3_bucket: Option<String>,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ServiceConfig {
    pub(crate) fn from_env() -> Self {
        let require = env_nonempty("GROVE_TEST_REQUIRE_SERVICES").is_some_and(|v| v == "1");
        let wanted = env_nonempty("GROVE_TEST_DATABASE").unwrap_or_else(|| "sqlite".into());
        match wanted.as_str() {
            "sqlite" => ServiceConfig {
                postgres_admin_url: None,
                s3_bucket: None,
            },
            "postgres" => {
                let admin = env_nonempty("GROVE_TEST_POSTGRES_URL");
                if admin.is_none() {
                    if require {
                        panic!(
                            "GROVE_TEST_DATABASE=postgres and GROVE_TEST_REQUIRE_SERVICES=1, \
                             but GROVE_TEST_POSTGRES_URL is not set"
                        );
                    }
                    eprintln!(
                        "grove-tests: GROVE_TEST_DATABASE=postgres without GROVE_TEST_POSTGRES_URL; \
                         falling back to SQLite"
                    );
                    return ServiceConfig {
                        postgres_admin_url: None,
                        s3_bucket: None,
                    };
                }
                let s3_bucket = match env_nonempty("GROVE_TEST_S3_ENDPOINT") {
                    None => None,
                    Some(_) => match env_nonempty("GROVE_TEST_S3_BUCKET") {
                        Some(bucket) => Some(bucket),
                        None if require => panic!(
                            "GROVE_TEST_S3_ENDPOINT is set and GROVE_TEST_REQUIRE_SERVICES=1, \
                             but GROVE_TEST_S3_BUCKET is not set"
                        ),
                        None => {
                            eprintln!(
                                "grove-tests: GROVE_TEST_S3_ENDPOINT without GROVE_TEST_S3_BUCKET; \
                                 using local object storage"
                            );
                            None
                        }
                    },
                };
                ServiceConfig {
                    postgres_admin_url: admin,
                    s3_bucket,
                }
            }
            other => panic!("GROVE_TEST_DATABASE must be `sqlite` or `postgres`, not `{other}`"),
        }
    }
}

/// A database that lives as long as one hub.
#[derive(Debug)]
pub(crate) enum TestDatabase {
    /// The hub's default `sqlite://<data-dir>/grove.db`; no `--database-url` is passed.
    Sqlite,
    /// A fresh PostgreSQL database, dropped on drop.
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    pub(crate) fn create(config: &ServiceConfig) -> Self {
        let Some(admin_url) = &config.postgres_admin_url else {
            return TestDatabase::Sqlite;
        };
        let name = format!("grove_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(admin_url)
            .unwrap_or_else(|e| panic!("cannot connect to GROVE_TEST_POSTGRES_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        let mut url = url::Url::parse(admin_url)
            .unwrap_or_else(|e| panic!("GROVE_TEST_POSTGRES_URL is not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        TestDatabase::Postgres {
            admin_url: admin_url.clone(),
            name,
            url: url.to_string(),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            TestDatabase::Sqlite => Backend::Sqlite,
            TestDatabase::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The `--database-url` to pass, if any.
    pub(crate) fn url(&self) -> Option<&str> {
        match self {
            TestDatabase::Sqlite => None,
            TestDatabase::Postgres { url, .. } => Some(url),
        }
    }
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl TestDatabase {
    /// True when `needle` occurs anywhere in the stored data: for SQLite, in the bytes of every
    /// `grove.db*` file of `data_dir` (free pages and the WAL included); for PostgreSQL, in the
    /// JSON text of any row of any table of the `public` schema.
    pub(crate) fn contains(&self, data_dir: &Path, needle: &str) -> bool {
        match self {
            TestDatabase::Sqlite => {
                let mut files = 0;
                let mut found = false;
                for entry in std::fs::read_dir(data_dir).expect("cannot list the data dir") {
                    let path = entry.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().to_string();
                    if name.starts_with("grove.db") {
                        files += 1;
                        let bytes = std::fs::read(&path).unwrap_or_default();
                        found |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                    }
                }
                assert!(files > 0, "no grove.db* in {}", data_dir.display());
                found
            }
            TestDatabase::Postgres { url, .. } => {
                let mut conn = PgConnection::establish(url)
                    .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
                let tables: Vec<TableName> = diesel::sql_query(
                    "SELECT table_name::text AS name FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .load(&mut conn)
                .expect("cannot list tables");
                assert!(!tables.is_empty(), "the test database has no tables");
                tables.iter().any(|t| {
                    let table = t.name.replace('"', "\"\"");
                    let count: Count = diesel::sql_query(format!(
                        "SELECT count(*) AS n FROM \"{table}\" x \
                         WHERE strpos(row_to_json(x)::text, $1) > 0"
                    ))
                    .bind::<Text, _>(needle)
                    .get_result(&mut conn)
                    .unwrap_or_else(|e| panic!("cannot search table {table}: {e}"));
                    count.n > 0
                })
            }
        }
    }
}

impl TestDatabase {
    /// Runs one SQL statement on the hub's database; returns the number of rows it touched.
    pub(crate) fn execute(&self, data_dir: &Path, sql: &str) -> usize {
        match self {
            TestDatabase::Sqlite => {
                let path = data_dir.join("grove.db");
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
                diesel::sql_query("PRAGMA busy_timeout = 10000")
                    .execute(&mut conn)
                    .unwrap();
                diesel::sql_query(sql)
                    .execute(&mut conn)
                    .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
            }
            TestDatabase::Postgres { url, .. } => {
                let mut conn = PgConnection::establish(url)
                    .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
                diesel::sql_query(sql)
                    .execute(&mut conn)
                    .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            let result = PgConnection::establish(admin_url)
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = result {
                eprintln!("grove-tests: could not drop test database {name}: {e}");
            }
        }
    }
}
