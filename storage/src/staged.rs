//! A guard for a staging object: whatever happens to the upload, the staging copy goes away.
//!
//! Error paths and the success path remove it explicitly (awaited, so a caller sees a clean store
//! when `put_stream` returns). If the upload future is dropped midway (the client disconnected
//! and the HTTP layer cancelled the handler), `Drop` schedules the removal on the runtime. A
//! crash can still leave a staging object behind; its uuid v7 name tells a garbage collector its
//! age.

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

/// Owns a completed staging object until it is removed.
pub(crate) struct StagedObject {
    store: Arc<dyn ObjectStore>,
    key: Option<Path>,
}

impl StagedObject {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, key: Path) -> StagedObject {
        StagedObject {
            store,
            key: Some(key),
        }
    }

    /// The staging key.
    pub(crate) fn key(&self) -> &Path {
        self.key
            .as_ref()
            .expect("staging key is present until removed")
    }

    /// Deletes the staging object. Failure is logged, not returned: the outcome of the upload
    /// does not depend on it, and leftovers under `staging/` are garbage by definition.
    pub(crate) async fn remove(mut self) {
        if let Some(key) = self.key.take() {
            delete_logged(self.store.as_ref(), &key).await;
        }
    }
}

impl Drop for StagedObject {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let store = Arc::clone(&self.store);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move { delete_logged(store.as_ref(), &key).await });
            }
            Err(_) => tracing::warn!(%key, "staging object left behind (no runtime to remove it)"),
        }
    }
}

async fn delete_logged(store: &dyn ObjectStore, key: &Path) {
    match store.delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(error) => tracing::warn!(%key, %error, "could not remove staging object"),
    }
}
