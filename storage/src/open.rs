//! Building a [`BlobStore`] from a URL or a directory.
//!
//! - `file:///abs/path` and [`BlobStore::local`]: a directory on this machine, created if
//!   missing, with fsync on every write (see the crate docs: "200 means durable").
//! - `memory://`: an in-process store for tests and demos; lost on exit.
//! - `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix` (and the other URL forms
//!   `object_store` knows): a remote store. Options come from the environment the way each
//!   cloud's own tools read them (`AWS_*`, `GOOGLE_*`, `AZURE_*`: credentials, region, endpoint,
//!   `AWS_ALLOW_HTTP`, ...) and may be overridden per URL with query parameters
//!   (`s3://bucket/prefix?endpoint=http://127.0.0.1:9000&allow_http=true`). The path part of the
//!   URL is a key prefix: every key the store writes lives under it.
//!
//! Defaults that differ from `object_store`'s (each can be overridden by env or query):
//! - S3 `copy_if_not_exists=multipart`: the create-if-absent publish (see `publish.rs`).
//! - `timeout=3600s`, `read_timeout=120s` on remote stores: `object_store`'s 30-second request
//!   timeout covers the whole response body, which would cut every large download short; a
//!   per-read timeout still detects stalled connections.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreScheme};
use url::Url;

use crate::error::StoreError;
use crate::store::{Backend, BlobStore};

impl BlobStore {
    /// Opens the store a URL names: `file:///abs/path`, `memory://`, `s3://bucket/prefix`,
    /// `gs://…`, `az://…`, or an `https://` URL `object_store` recognises.
    pub fn from_url(url: &str) -> Result<BlobStore, StoreError> {
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: redact(url),
            reason,
        };
        let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        match parsed.scheme() {
            "file" => {
                let path = parsed
                    .to_file_path()
                    .map_err(|()| invalid("a file URL needs an absolute local path".into()))?;
                BlobStore::local(path)
            }
            "memory" => Ok(BlobStore::memory()),
            _ => open_remote(parsed, utf8_env()).map_err(invalid),
        }
    }

    /// Opens (creating if needed) a directory store. Writes are fsynced before they return.
    pub fn local(path: impl AsRef<FsPath>) -> Result<BlobStore, StoreError> {
        let path = path.as_ref();
        let local_err = |source| StoreError::Local {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(local_err)?;
        let root: PathBuf = std::fs::canonicalize(path).map_err(local_err)?;
        let fs = LocalFileSystem::new_with_prefix(&root)
            .map_err(StoreError::Backend)?
            .with_fsync(true);
        Ok(BlobStore::new(
            Arc::new(fs),
            Backend::Local { root: root.clone() },
            format!("file://{}", root.display()),
        ))
    }

    /// An in-memory store (tests, demos). Everything is lost when the last clone is dropped.
    pub fn memory() -> BlobStore {
        BlobStore::new(
            Arc::new(InMemory::new()),
            Backend::Memory,
            "memory://".into(),
        )
    }
}

/// The environment, skipping variables that are not UTF-8 (`std::env::vars` would panic).
fn utf8_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

/// Builds a remote store from a parsed URL and the given environment.
fn open_remote(
    mut url: Url,
    env: impl Iterator<Item = (String, String)>,
) -> Result<BlobStore, String> {
    let (scheme, _) = ObjectStoreScheme::parse(&url).map_err(|e| e.to_string())?;
    let (backend, env_prefix) = match scheme {
        ObjectStoreScheme::AmazonS3 => (Backend::S3, Some("AWS_")),
        ObjectStoreScheme::GoogleCloudStorage => (Backend::Gcs, Some("GOOGLE_")),
        ObjectStoreScheme::MicrosoftAzure => (Backend::Azure, Some("AZURE_")),
        ObjectStoreScheme::Http => (Backend::Http, None),
        other => return Err(format!("unsupported store scheme {other:?}")),
    };

    let mut options: Vec<(String, String)> = match env_prefix {
        Some(prefix) => env
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        None => Vec::new(),
    };
    // Query parameters override the environment, then are stripped from the URL.
    options.extend(
        url.query_pairs()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())),
    );
    url.set_query(None);

    let has = |options: &[(String, String)], name: &str| {
        options.iter().any(|(k, _)| {
            let bare = ["aws_", "google_", "azure_"]
                .iter()
                .find_map(|p| k.strip_prefix(p))
                .unwrap_or(k);
            bare == name
        })
    };
    let mut defaults = Vec::new();
    if backend == Backend::S3 && !has(&options, "copy_if_not_exists") {
        defaults.push((
            "aws_copy_if_not_exists".to_string(),
            "multipart".to_string(),
        ));
    }
    if !has(&options, "timeout") {
        defaults.push(("timeout".to_string(), "3600s".to_string()));
    }
    if !has(&options, "read_timeout") {
        defaults.push(("read_timeout".to_string(), "120s".to_string()));
    }
    // Defaults first so that explicit options (applied later) win.
    let options = defaults.into_iter().chain(options);

    let (store, prefix) = object_store::parse_url_opts(&url, options).map_err(|e| e.to_string())?;
    let store: Arc<dyn ObjectStore> = Arc::from(store);
    let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
        store
    } else {
        Arc::new(PrefixStore::new(store, prefix))
    };
    Ok(BlobStore::new(store, backend, url.to_string()))
}

/// A URL fit for logs and errors: without user info or query (either may hold a secret).
fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => url.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn s3_url_with_prefix_and_env() {
        let url = Url::parse("s3://bucket/some/prefix?endpoint=http://127.0.0.1:1").unwrap();
        let store = open_remote(
            url,
            env(&[
                ("AWS_ACCESS_KEY_ID", "k"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_ALLOW_HTTP", "true"),
                ("GOOGLE_IGNORED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(store.backend(), &Backend::S3);
        assert_eq!(store.to_string(), "s3://bucket/some/prefix");
    }

    #[test]
    fn unknown_scheme_is_refused() {
        assert!(matches!(
            BlobStore::from_url("ftp://example.com/x"),
            Err(StoreError::InvalidUrl { .. })
        ));
        assert!(matches!(
            BlobStore::from_url("not a url"),
            Err(StoreError::InvalidUrl { .. })
        ));
        assert!(matches!(
            BlobStore::from_url("file://host/relative"),
            Err(StoreError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn redacts_secrets() {
        assert_eq!(
            redact("s3://user:pass@bucket/p?secret_access_key=x"),
            "s3://bucket/p"
        );
    }

    #[test]
    fn file_url_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b");
        let url = Url::from_file_path(&root).unwrap();
        let store = BlobStore::from_url(url.as_str()).unwrap();
        assert!(root.is_dir());
        assert!(matches!(store.backend(), Backend::Local { .. }));
        assert!(matches!(
            BlobStore::from_url("memory://").unwrap().backend(),
            Backend::Memory
        ));
    }
}
