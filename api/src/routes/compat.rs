//! The paths and answer shapes of the services many clients come from, over the same work
//! as the native routes: MaskingEngine's `/session/...` and the PII & Secret Detection
//! service's `/pii/...`. A client of one of them needs a new base URL and a key, nothing
//! more.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::problem::{ApiError, ApiJson, Problem};
use crate::routes::anonymization::{RedactRequest, redact};
use crate::routes::detection::{DetectRequest, detect};
use crate::routes::sanitization::{
    RehydrateRequest, RehydrateResponse, SanitizeRequest, SanitizeResponse, create_rehydration, create_sanitization,
    delete_session,
};
use crate::state::AppState;

/// `/sanitize` under MaskingEngine's session path.
#[utoipa::path(
    post,
    path = "/session/sanitize",
    tag = "compatibility",
    request_body(content = SanitizeRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "As `/sanitize`", body = SanitizeResponse),
        (status = 400, description = "Invalid options or content of the wrong kind", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn session_sanitize(
    state: State<AppState>,
    principal: Extension<Principal>,
    request: ApiJson<SanitizeRequest>,
) -> Result<ApiJson<SanitizeResponse>, ApiError> {
    create_sanitization(state, principal, request).await
}

/// `/rehydrate` under MaskingEngine's session path.
#[utoipa::path(
    post,
    path = "/session/rehydrate",
    tag = "compatibility",
    request_body(content = RehydrateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "As `/rehydrate`", body = RehydrateResponse),
        (status = 400, description = "Neither or both of `mask_map` and `session_id`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live session", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn session_rehydrate(
    state: State<AppState>,
    principal: Extension<Principal>,
    request: ApiJson<RehydrateRequest>,
) -> Result<ApiJson<RehydrateResponse>, ApiError> {
    create_rehydration(state, principal, request).await
}

/// What deleting a session through MaskingEngine's path answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionDeleted {
    pub message: String,
}

/// Deletes a session, answering as MaskingEngine does: 200 with a message.
#[utoipa::path(
    delete,
    path = "/session/{session_id}",
    tag = "compatibility",
    params(("session_id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "Deleted", body = SessionDeleted),
        (status = 404, description = "No such live session", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn session_delete(
    state: State<AppState>,
    principal: Extension<Principal>,
    Path(session_id): Path<String>,
) -> Result<ApiJson<SessionDeleted>, ApiError> {
    let message = format!("Session '{session_id}' deleted successfully");
    delete_session(state, principal, Path(session_id)).await?;
    Ok(ApiJson(SessionDeleted { message }))
}

/// One finding, as the PII & Secret Detection service reports it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PiiDetection {
    pub entity_type: String,
    /// `detect_secrets` for secrets, `presidio` for the rest (the service's engine names).
    pub engine: String,
    pub confidence: f32,
    pub start: usize,
    pub end: usize,
    /// The finding with a few words either side, as the service gives it (it holds the
    /// value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// What `/pii/detect` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PiiDetectResponse {
    pub detections: Vec<PiiDetection>,
    pub detection_count: usize,
    pub processing_time_ms: u64,
}

/// The service's engine name for one of our recognizers.
fn engine_of(recognizer: &str) -> String {
    if recognizer.starts_with("secrets/") || recognizer.contains("entropy") {
        "detect_secrets".into()
    } else {
        "presidio".into()
    }
}

/// The code points of `text` in `start..end`, with up to about 20 characters either side,
/// cut at word boundaries.
fn context_of(text: &str, start: usize, end: usize) -> String {
    const AROUND: usize = 20;
    let characters: Vec<char> = text.chars().collect();
    let end = end.min(characters.len());
    let start = start.min(end);
    let mut from = start.saturating_sub(AROUND);
    if from > 0 {
        // Drop a word cut in half, and the space after it.
        while from < start && !characters[from - 1].is_whitespace() {
            from += 1;
        }
    }
    let mut to = (end + AROUND).min(characters.len());
    if to < characters.len() {
        while to > end && !characters[to].is_whitespace() {
            to -= 1;
        }
    }
    characters[from..to].iter().collect::<String>().trim().to_owned()
}

/// Detection with the PII & Secret Detection service's request and answer.
#[utoipa::path(
    post,
    path = "/pii/detect",
    tag = "compatibility",
    request_body(content = DetectRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What was found", body = PiiDetectResponse),
        (status = 400, description = "An unknown entity, pack or profile", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn pii_detect(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DetectRequest>,
) -> Result<ApiJson<PiiDetectResponse>, ApiError> {
    let text = request.text.clone();
    let response = detect(&state, request).await?;
    let detections: Vec<PiiDetection> = response
        .entities
        .into_iter()
        .map(|entity| PiiDetection {
            context: Some(context_of(&text, entity.start, entity.end)),
            engine: engine_of(&entity.recognizer),
            entity_type: entity.entity_type,
            confidence: entity.score,
            start: entity.start,
            end: entity.end,
        })
        .collect();
    Ok(ApiJson(PiiDetectResponse {
        detection_count: detections.len(),
        detections,
        processing_time_ms: response.processing_time_ms.ceil() as u64,
    }))
}

/// What `/pii/redact` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PiiRedactResponse {
    /// Code points of the submitted text.
    pub original_length: usize,
    pub redacted_text: String,
    pub redactions_applied: usize,
    pub detections: Vec<PiiDetection>,
}

/// Redaction with the PII & Secret Detection service's request (`redaction_type`) and
/// answer.
#[utoipa::path(
    post,
    path = "/pii/redact",
    tag = "compatibility",
    request_body(content = RedactRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The redacted text", body = PiiRedactResponse),
        (status = 400, description = "An unknown entity, operator option, pack or profile", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn pii_redact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<RedactRequest>,
) -> Result<(StatusCode, ApiJson<PiiRedactResponse>), ApiError> {
    let original_length = request.text.chars().count();
    let (response, detections) = redact(&state, &principal, request).await?;
    Ok((
        StatusCode::OK,
        ApiJson(PiiRedactResponse {
            original_length,
            redacted_text: response.redacted_text,
            redactions_applied: response.redactions_applied,
            detections: detections
                .into_iter()
                .map(|detection| PiiDetection {
                    engine: engine_of(&detection.recognizer),
                    entity_type: detection.entity_type.into(),
                    confidence: detection.score,
                    start: detection.start,
                    end: detection.end,
                    context: None,
                })
                .collect(),
        }),
    ))
}

/// A detection test, as the PII & Secret Detection service takes it.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PiiTestRequest {
    pub text: String,
    /// `presidio`, `detect_secrets`, or ours (`patterns`, `gazetteer`, `ner`).
    pub engines: Option<Vec<crate::detect_settings::EngineName>>,
    #[serde(alias = "entity_types")]
    pub entities: Option<Vec<String>>,
}

/// One engine's share of a test.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EngineResult {
    pub detections: usize,
    /// The whole detection's time: the engines run in one pass.
    pub processing_time_ms: u64,
}

/// What `/pii/test` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PiiTestResponse {
    pub detections: Vec<PiiDetection>,
    /// The text with each finding replaced by its type in brackets.
    pub redacted_preview: String,
    pub engine_results: std::collections::BTreeMap<String, EngineResult>,
}

/// Detects and previews the redaction of a text, without logging anything.
#[utoipa::path(
    post,
    path = "/pii/test",
    tag = "compatibility",
    request_body(content = PiiTestRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What was found and the redacted text", body = PiiTestResponse),
        (status = 400, description = "An unknown entity or engine", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn pii_test(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PiiTestRequest>,
) -> Result<ApiJson<PiiTestResponse>, ApiError> {
    let text = request.text;
    let wanted_engines: Vec<String> = request
        .engines
        .iter()
        .flatten()
        .map(|engine| {
            serde_json::to_value(engine)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let response = detect(
        &state,
        DetectRequest {
            text: text.clone(),
            language: None,
            entities: request.entities,
            min_score: None,
            allow_list: Vec::new(),
            deny_list: Vec::new(),
            pattern_packs: None,
            profile: None,
            engines: request.engines,
            explain: false,
            source_type: None,
            source_id: None,
            log: Some(false),
            on_recognizer_error: None,
        },
    )
    .await?;
    let time = response.processing_time_ms.ceil() as u64;
    let characters: Vec<char> = text.chars().collect();
    let mut preview = String::with_capacity(text.len());
    let mut at = 0;
    let mut engine_results = std::collections::BTreeMap::new();
    for name in wanted_engines
        .iter()
        .filter(|name| matches!(name.as_str(), "presidio" | "detect_secrets"))
    {
        engine_results.insert(
            name.clone(),
            EngineResult {
                detections: 0,
                processing_time_ms: time,
            },
        );
    }
    let detections: Vec<PiiDetection> = response
        .entities
        .into_iter()
        .map(|entity| {
            preview.extend(&characters[at.min(entity.start)..entity.start]);
            preview.push_str(&format!("[{}]", entity.entity_type));
            at = entity.end;
            let engine = engine_of(&entity.recognizer);
            engine_results
                .entry(engine.clone())
                .or_insert(EngineResult {
                    detections: 0,
                    processing_time_ms: time,
                })
                .detections += 1;
            PiiDetection {
                engine,
                entity_type: entity.entity_type,
                confidence: entity.score,
                start: entity.start,
                end: entity.end,
                context: None,
            }
        })
        .collect();
    preview.extend(&characters[at.min(characters.len())..]);
    Ok(ApiJson(PiiTestResponse {
        detections,
        redacted_preview: preview,
        engine_results,
    }))
}

/// An entity type, as the PII & Secret Detection service lists them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PiiEntity {
    pub name: String,
    pub description: String,
    /// Always true: every type here is built in.
    pub built_in: bool,
}

/// Every entity type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PiiEntities {
    pub presidio_entities: Vec<PiiEntity>,
}

/// Lists the entity types in the PII & Secret Detection service's shape.
#[utoipa::path(
    get,
    path = "/pii/entities",
    tag = "compatibility",
    responses((status = 200, description = "Every entity type", body = PiiEntities)),
    security(("bearer" = []))
)]
pub async fn pii_entities() -> ApiJson<PiiEntities> {
    ApiJson(PiiEntities {
        presidio_entities: obscura_detection::taxonomy::Taxonomy
            .entities()
            .iter()
            .map(|entity| PiiEntity {
                name: entity.name.to_owned(),
                description: entity.description.to_owned(),
                built_in: true,
            })
            .collect(),
    })
}

/// A secret recognizer, as the service lists its plugins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretPlugin {
    pub name: String,
    pub description: String,
    /// False: recognizers are changed through pattern packs, not per request.
    pub configurable: bool,
}

/// The secret recognizers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretPlugins {
    pub detect_secrets_plugins: Vec<SecretPlugin>,
}

/// Lists the recognizers of the `secrets` pack in the service's plugin shape.
#[utoipa::path(
    get,
    path = "/pii/plugins",
    tag = "compatibility",
    responses((status = 200, description = "The secret recognizers", body = SecretPlugins)),
    security(("bearer" = []))
)]
pub async fn pii_plugins(State(state): State<AppState>) -> ApiJson<SecretPlugins> {
    ApiJson(SecretPlugins {
        detect_secrets_plugins: state
            .catalog
            .packs()
            .iter()
            .filter(|loaded| loaded.pack.name == "secrets")
            .flat_map(|loaded| loaded.pack.recognizers.iter())
            .map(|spec| SecretPlugin {
                name: spec.name.clone(),
                description: spec.description.clone().unwrap_or_else(|| spec.entity.clone()),
                configurable: false,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_whole_words_around_the_finding() {
        let text = "Contact john.doe@example.com or call 555-123-4567";
        assert_eq!(context_of(text, 8, 28), "Contact john.doe@example.com or call");
        assert_eq!(context_of(text, 37, 49), "or call 555-123-4567");
        assert_eq!(context_of("é", 0, 1), "é");
    }
}
