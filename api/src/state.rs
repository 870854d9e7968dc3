//! What every handler can reach.

use std::sync::Arc;

use obscura_platform::config::Config;
use obscura_platform::database::Database;
use obscura_platform::services::scope::Sessions;
use obscura_platform::storage::BlobStore;

use crate::auth::SharedKeyCache;
use crate::metrics::Metrics;

/// Shared state of the API process; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub database: Database,
    pub blobs: BlobStore,
    /// Pattern packs, profiles and their detectors.
    pub catalog: Arc<obscura_detection::catalog::Catalog>,
    /// The configured NER model, or why it is not loaded.
    pub ner: Arc<crate::ner::NerState>,
    /// The master secret and the keys derived from it.
    pub master_keys: Arc<obscura_platform::secrets::MasterKeys>,
    pub metrics: Arc<Metrics>,
    pub key_cache: SharedKeyCache,
    /// Workers running inside this process (0 for a stateless API).
    pub in_process_workers: usize,
    /// The events this process hears of, for progress sockets.
    pub feed: obscura_platform::events::Feed,
    /// Cancelled when the server stops; long-lived connections (sockets) end then.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl AppState {
    /// The sanitization sessions of one tenant, as the platform's services use them.
    pub fn sessions(&self, tenant_id: uuid::Uuid) -> Sessions<'_> {
        Sessions {
            database: &self.database,
            master_keys: &self.master_keys,
            tenant_id,
            ttl_secs: self.config.security.session_ttl_secs,
        }
    }
}
