//! What every request handler can reach.

use std::sync::Arc;

use grove_storage::BlobStore;

use super::metrics::Metrics;
use crate::accounts::sessions::SessionKeys;
use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub blobs: Arc<BlobStore>,
    pub sessions: Arc<SessionKeys>,
    pub metrics: Arc<Metrics>,
    /// Base URL put in links the server returns, without a trailing slash.
    pub public_url: String,
    pub signup_enabled: bool,
}
