//! `GET /api/v1/models`: the installed NER models.

use axum::extract::State;
use obscura_detection::taxonomy::Taxonomy;
use obscura_models::registry::{self, InstalledModel};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ner::NerState;
use crate::problem::{ApiError, ApiJson};
use crate::state::AppState;

/// An installed NER model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelView {
    pub id: String,
    pub description: String,
    /// `bert`, `roberta`, `xlm-roberta` or `deberta-v2`.
    pub architecture: String,
    /// ISO 639-1 codes the model was trained for.
    pub languages: Vec<String>,
    /// The taxonomy types it reports.
    pub entities: Vec<String>,
    /// Size of its files on disk, in bytes.
    pub size_bytes: u64,
    /// SPDX id of the weights' license.
    pub license: String,
    pub attribution: String,
    /// Where its files came from.
    pub source: String,
    /// True for the model this process runs (`models.ner`).
    pub loaded: bool,
}

/// The installed models, and any model directory that is broken.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelList {
    pub models: Vec<ModelView>,
    /// Why a directory in `models.dir` could not be read as a model.
    pub errors: Vec<String>,
}

/// Lists the NER models installed in `models.dir`.
#[utoipa::path(
    get,
    path = "/models",
    tag = "detection",
    responses((status = 200, description = "The installed models", body = ModelList)),
    security(("bearer" = []))
)]
pub async fn list_models(State(state): State<AppState>) -> Result<ApiJson<ModelList>, ApiError> {
    let dir = state.config.models.dir.clone();
    let found = tokio::task::spawn_blocking(move || registry::list_models(&dir))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let loaded_id = match state.ner.as_ref() {
        NerState::Ready { recognizer, .. } => Some(recognizer.model().installed().entry.id.clone()),
        NerState::Disabled | NerState::Unavailable { .. } => None,
    };
    let mut list = ModelList {
        models: Vec::new(),
        errors: Vec::new(),
    };
    for model in found {
        match model {
            Ok(model) => {
                let loaded = loaded_id.as_deref() == Some(model.entry.id.as_str());
                list.models.push(view(model, loaded));
            }
            Err(error) => list.errors.push(error.to_string()),
        }
    }
    Ok(ApiJson(list))
}

fn view(model: InstalledModel, loaded: bool) -> ModelView {
    let taxonomy = Taxonomy;
    let mut entities: Vec<String> = model
        .entry
        .labels
        .values()
        .chain(model.entry.groups.iter().map(|group| &group.entity))
        .map(|entity| taxonomy.canonical_name(entity).to_string())
        .collect();
    entities.sort();
    entities.dedup();
    ModelView {
        id: model.entry.id,
        description: model.entry.description,
        architecture: model.entry.architecture,
        languages: model.entry.languages,
        entities,
        size_bytes: model.size_bytes,
        license: model.entry.license,
        attribution: model.entry.attribution,
        source: model.entry.source,
        loaded,
    }
}
