//! `GET /api/v1/` and `GET /api/v1/discover`: what this service is and what it can run, as
//! MaskingEngine's clients ask for it.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::detect_settings::EngineName;
use crate::problem::{ApiError, ApiJson};
use crate::routes::{detection, models};
use crate::state::AppState;

/// Where the main routes are.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceInfo {
    pub service: String,
    pub version: String,
    pub docs: String,
    pub health: String,
    pub openapi: String,
    /// Route names to their paths.
    pub endpoints: std::collections::BTreeMap<String, String>,
}

/// Names the service, its version and its main routes.
#[utoipa::path(
    get,
    path = "/",
    tag = "service",
    responses((status = 200, description = "The service and its main routes", body = ServiceInfo)),
    security(("bearer" = []))
)]
pub async fn get_service_info() -> ApiJson<ServiceInfo> {
    let endpoints = [
        ("detect", "/api/v1/detect"),
        ("redact", "/api/v1/redact"),
        ("anonymize", "/api/v1/anonymize"),
        ("sanitize", "/api/v1/sanitize"),
        ("rehydrate", "/api/v1/rehydrate"),
        ("session_sanitize", "/api/v1/session/sanitize"),
        ("session_rehydrate", "/api/v1/session/rehydrate"),
        ("sessions", "/api/v1/sessions"),
        ("projects", "/api/v1/projects"),
        ("documents", "/api/v1/documents"),
        ("discover", "/api/v1/discover"),
        ("progress", "/ws/progress"),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_owned(), path.to_owned()))
    .collect();
    ApiJson(ServiceInfo {
        service: "Obscura".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        docs: "/docs".into(),
        health: "/health".into(),
        openapi: "/api/v1/openapi.json".into(),
        endpoints,
    })
}

/// An installed NER model, in MaskingEngine's words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiscoveredModel {
    pub id: String,
    pub name: String,
    /// Always `transformer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The model's architecture (`bert`, `xlm-roberta`...).
    pub version: String,
    pub description: String,
    pub languages: Vec<String>,
    pub supported_entities: Vec<String>,
}

/// A pattern pack.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiscoveredPack {
    pub name: String,
    pub version: String,
    pub description: String,
    pub pattern_count: usize,
}

/// A profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiscoveredProfile {
    pub name: String,
    pub description: String,
    pub engines: Vec<EngineName>,
}

/// Everything a request can choose from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Discovery {
    pub models: Vec<DiscoveredModel>,
    pub pattern_packs: Vec<DiscoveredPack>,
    pub profiles: Vec<DiscoveredProfile>,
}

/// Lists the installed models, the pattern packs and the profiles in one answer.
#[utoipa::path(
    get,
    path = "/discover",
    tag = "detection",
    responses((status = 200, description = "Models, packs and profiles", body = Discovery)),
    security(("bearer" = []))
)]
pub async fn discover(State(state): State<AppState>) -> Result<ApiJson<Discovery>, ApiError> {
    let ApiJson(models) = models::list_models(State(state.clone())).await?;
    let ApiJson(packs) = detection::list_pattern_packs(State(state.clone())).await;
    let ApiJson(profiles) = detection::list_profiles(State(state)).await;
    Ok(ApiJson(Discovery {
        models: models
            .models
            .into_iter()
            .map(|model| DiscoveredModel {
                name: model.id.clone(),
                id: model.id,
                kind: "transformer".into(),
                version: model.architecture,
                description: model.description,
                languages: model.languages,
                supported_entities: model.entities,
            })
            .collect(),
        pattern_packs: packs
            .into_iter()
            .map(|pack| DiscoveredPack {
                name: pack.name,
                version: pack.version,
                description: pack.description,
                pattern_count: pack.pattern_count,
            })
            .collect(),
        profiles: profiles
            .into_iter()
            .map(|profile| DiscoveredProfile {
                name: profile.name,
                description: profile.description,
                engines: profile.engines,
            })
            .collect(),
    }))
}
