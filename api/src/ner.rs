//! The configured NER model: loaded once at start, added to the catalog's `ner` engine, and
//! reported by `/health` and `GET /api/v1/models`.

use std::sync::Arc;
use std::time::Instant;

use obscura_detection::recognizer::Recognizer;
use obscura_models::registry::find_model;
use obscura_models::{NerModel, NerRecognizer};
use obscura_platform::config::Config;

/// Whether NER is available, and why not.
#[derive(Debug, Clone)]
pub enum NerState {
    /// `models.ner` is empty.
    Disabled,
    Ready {
        recognizer: Arc<NerRecognizer>,
        load_ms: u64,
    },
    /// Configured but not installed, or broken: detection runs without NER.
    Unavailable { id: String, reason: String },
}

impl NerState {
    /// The recognizers the catalog's `ner` engine runs.
    pub fn recognizers(&self) -> Vec<Arc<dyn Recognizer>> {
        match self {
            NerState::Ready { recognizer, .. } => vec![recognizer.clone() as Arc<dyn Recognizer>],
            NerState::Disabled | NerState::Unavailable { .. } => Vec::new(),
        }
    }
}

/// Loads the model `models.ner` names from `models.dir`. The inference threads are sized
/// by `main` before any thread starts.
pub fn load_ner(config: &Config) -> NerState {
    let id = config.models.ner.trim();
    if id.is_empty() {
        return NerState::Disabled;
    }
    let started = Instant::now();
    let loaded = find_model(&config.models.dir, id)
        .map_err(obscura_models::ModelError::from)
        .and_then(|installed| NerModel::load(&installed.dir));
    match loaded {
        Ok(model) => {
            let load_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::info!(model = id, load_ms, "NER model loaded");
            NerState::Ready {
                recognizer: Arc::new(NerRecognizer::new(Arc::new(model))),
                load_ms,
            }
        }
        Err(error) => {
            let reason = format!(
                "{error}; install it with `obscura models install {id}` (models.dir is {})",
                config.models.dir.display()
            );
            tracing::warn!(model = id, %reason, "NER is unavailable; detection runs without it");
            NerState::Unavailable {
                id: id.to_owned(),
                reason,
            }
        }
    }
}
