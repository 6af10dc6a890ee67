//! Which database (and object store) a test hub runs against, chosen from the environment.
//!
//! - `GROVE_TEST_DATABASE` = `sqlite` (default) or `postgres`.
//! - `GROVE_TEST_POSTGRES_URL`: an admin URL; each hub gets a fresh database `grove_t_<uuid>`
//!   created through it and dropped (`WITH (FORCE)`) when the hub is dropped.
//! - `GROVE_TEST_S3_ENDPOINT` + `GROVE_TEST_S3_BUCKET`: with PostgreSQL, the hub also stores its
//!   objects under `s3://<bucket>/<uuid>` (the `AWS_*` variables come from the environment).
//! - `GROVE_TEST_REQUIRE_SERVICES=1`: a missing variable for the chosen backend is a panic instead
//!   of a fall-back to SQLite and local files.

use diesel::{Connection, PgConnection, RunQueryDsl};

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
