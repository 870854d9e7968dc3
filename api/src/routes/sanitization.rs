//! `/api/v1/sanitize`, `/api/v1/rehydrate` and `/api/v1/sessions`: reversible placeholders
//! for content sent to a language model, with the mask map returned or kept in a session.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use obscura_anonymization::sanitize::{
    ContentFormat, MaskMap, Sanitizer, rehydrate_json, rehydrate_text, sanitize_html, sanitize_json,
};
use obscura_detection::detect::merge_skipped;
use obscura_detection::{Detection, SkippedRecognizer};
use obscura_platform::sessions::{self, SessionKey, SessionState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Principal, Role};
use crate::detect_settings::{DetectFields, RecognizerErrorMode, SkippedRecognizerView, prepare, skipped_views};
use crate::problem::{ApiError, ApiJson, Problem};
use crate::state::AppState;
use obscura_platform::services::scope::{SessionTarget, update_session};

/// Content to sanitize.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SanitizeRequest {
    /// A string (text or HTML) or any JSON value.
    pub content: serde_json::Value,
    /// `text` or `html` for a string (default `text`), `json` otherwise.
    #[schema(value_type = Option<String>, example = "text")]
    pub format: Option<ContentFormat>,
    /// `new` to start a session named by the server, or a session's id: one `sanitize`
    /// returned, or one the client chooses (1 to 128 characters without spaces), which starts
    /// the session the first time. The mask map stays on the server.
    pub session_id: Option<String>,
    /// Values never replaced.
    #[serde(default)]
    pub whitelist: Vec<String>,
    pub pattern_packs: Option<Vec<String>>,
    /// The least score, 0 to 1, a detection of the NER model needs; patterns and word
    /// lists keep their own thresholds.
    pub min_confidence: Option<f32>,
    /// Values whose check fails (a card number failing the Luhn check, an impossible date)
    /// are left alone (default true); with false they are masked as the type their shape
    /// suggests.
    #[serde(default = "strict_by_default")]
    pub strict_validation: bool,
    /// Patterns only, without word lists or the NER model: faster, and blind to names.
    #[serde(default)]
    pub regex_only: bool,
    pub language: Option<String>,
    pub entities: Option<Vec<String>>,
    pub profile: Option<String>,
    /// `fail` (default) or `skip`: what a recognizer's failure does; the profile's when absent.
    pub on_recognizer_error: Option<RecognizerErrorMode>,
}

/// Sanitized content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SanitizeResponse {
    pub sanitized_content: serde_json::Value,
    /// Placeholder to original; absent when a session keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub mask_map: Option<MaskMap>,
    pub detection_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Where a session's mask map is kept: `sessions/{session_id}`, sealed in the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_path: Option<String>,
    /// Recognizers that failed and were left out; empty unless `on_recognizer_error` is `skip`.
    pub skipped_recognizers: Vec<SkippedRecognizerView>,
}

/// What sanitizing one content gave.
struct SanitizedContent {
    content: serde_json::Value,
    detection_count: usize,
    skipped: Vec<SkippedRecognizer>,
}

fn strict_by_default() -> bool {
    true
}

fn sanitize_content(
    content: &serde_json::Value,
    format: ContentFormat,
    detector: &obscura_detection::Detector,
    options: &obscura_detection::DetectOptions,
    sanitizer: &mut Sanitizer<'_>,
) -> Result<SanitizedContent, ApiError> {
    let mut skipped = Vec::new();
    let mut detect = |text: &str| -> Result<Vec<Detection>, obscura_detection::DetectError> {
        let findings = detector.detect(text, options)?;
        merge_skipped(&mut skipped, findings.skipped);
        Ok(findings.detections)
    };
    let (content, detection_count) = match (format, content) {
        (ContentFormat::Text, serde_json::Value::String(text)) => {
            let detections = detect(text)?;
            (
                serde_json::Value::String(sanitizer.text(text, &detections)),
                detections.len(),
            )
        }
        (ContentFormat::Html, serde_json::Value::String(html)) => {
            let sanitized = sanitize_html(html, detector, options, sanitizer)?;
            merge_skipped(&mut skipped, sanitized.skipped);
            (serde_json::Value::String(sanitized.content), sanitized.detection_count)
        }
        (ContentFormat::Json, value) => {
            let sanitized = sanitize_json(value, detector, options, sanitizer)?;
            merge_skipped(&mut skipped, sanitized.skipped);
            (sanitized.content, sanitized.detection_count)
        }
        (ContentFormat::Text | ContentFormat::Html, _) => {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body.content",
                "must be a string when format is text or html",
            ));
        }
    };
    Ok(SanitizedContent {
        content,
        detection_count,
        skipped,
    })
}

/// Replaces personal data with placeholders such as `<<EMAIL_ADDRESS_7A9B2C_1>>` and
/// returns the map back to the originals, or keeps it in a session.
#[utoipa::path(
    post,
    path = "/sanitize",
    tag = "sanitization",
    request_body(content = SanitizeRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The sanitized content", body = SanitizeResponse),
        (status = 400, description = "Invalid options or content of the wrong kind", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The session does not exist or has expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A recognizer failed (`recognizer_failed`) and the request did not allow skipping it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_sanitization(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<SanitizeRequest>,
) -> Result<ApiJson<SanitizeResponse>, ApiError> {
    let format = request.format.unwrap_or(if request.content.is_string() {
        ContentFormat::Text
    } else {
        ContentFormat::Json
    });
    let (selection, mut options) = prepare(
        &state,
        DetectFields {
            language: request.language,
            entities: request.entities,
            allow_list: request.whitelist,
            pattern_packs: request.pattern_packs,
            profile: request.profile,
            on_recognizer_error: request.on_recognizer_error,
            engines: request
                .regex_only
                .then(|| vec![crate::detect_settings::EngineName::Patterns]),
            ..DetectFields::default()
        },
    )?;
    let target = match request.session_id.as_deref() {
        None => None,
        Some("new") => Some(SessionTarget::New),
        Some(text) => session_key(Some(text), "body.session_id")?.map(SessionTarget::Named),
    };
    if let Some(floor) = request.min_confidence {
        if !(0.0..=1.0).contains(&floor) {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body.min_confidence",
                "must be between 0 and 1",
            ));
        }
        options.model_min_score = Some(floor);
    }
    options.keep_unvalidated = !request.strict_validation;
    let content = std::sync::Arc::new(request.content);
    let selection = std::sync::Arc::new(selection);
    let options = std::sync::Arc::new(options);
    let run = move |mut state: SessionState| {
        let (content, selection, options) = (content.clone(), selection.clone(), options.clone());
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let secret = state.placeholder_key();
                let mut sanitizer = Sanitizer::new(&mut state.mask_map, &secret);
                let sanitized = sanitize_content(&content, format, &selection.detector, &options, &mut sanitizer)?;
                Ok::<_, ApiError>((sanitized, state))
            })
        })
    };

    let Some(target) = target else {
        let (sanitized, session) = run(SessionState::new()).await.map_err(ApiError::internal)??;
        return Ok(ApiJson(SanitizeResponse {
            sanitized_content: sanitized.content,
            mask_map: Some(session.mask_map),
            detection_count: sanitized.detection_count,
            session_id: None,
            storage_path: None,
            skipped_recognizers: skipped_views(sanitized.skipped),
        }));
    };
    principal.require(&[Role::Admin, Role::Analyst])?;
    let (sanitized, session_id) = update_session(state.sessions(principal.tenant_id), target, |session| {
        let run = run.clone();
        async move { run(session).await.map_err(ApiError::internal)? }
    })
    .await?;
    tracing::debug!(detections = sanitized.detection_count, "content sanitized in a session");
    Ok(ApiJson(SanitizeResponse {
        sanitized_content: sanitized.content,
        mask_map: None,
        detection_count: sanitized.detection_count,
        storage_path: Some(format!("sessions/{session_id}")),
        session_id: Some(session_id.to_string()),
        skipped_recognizers: skipped_views(sanitized.skipped),
    }))
}

/// Content with placeholders to restore.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RehydrateRequest {
    /// A string or any JSON value holding placeholders.
    pub masked_content: serde_json::Value,
    /// The map `sanitize` returned; or give `session_id`.
    #[schema(value_type = Option<Object>)]
    pub mask_map: Option<MaskMap>,
    /// The session `sanitize` worked in; or give `mask_map`.
    pub session_id: Option<String>,
}

/// The restored content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RehydrateResponse {
    pub rehydrated_content: serde_json::Value,
    /// How many placeholders were restored (each counted once).
    pub placeholders_found: usize,
    /// The placeholders restored, each once, in order of first appearance.
    pub placeholders: Vec<String>,
    /// Placeholder-shaped text the map does not hold, left as it was.
    pub unknown_placeholders: Vec<String>,
}

/// Puts the originals back in place of the placeholders, tolerating the changes language
/// models make to them (case, spacing, emphasis, missing brackets).
#[utoipa::path(
    post,
    path = "/rehydrate",
    tag = "sanitization",
    request_body(content = RehydrateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The restored content", body = RehydrateResponse),
        (status = 400, description = "Neither or both of mask_map and session_id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The session does not exist or has expired", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_rehydration(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<RehydrateRequest>,
) -> Result<ApiJson<RehydrateResponse>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let map = match (request.mask_map, request.session_id) {
        (Some(map), None) => map,
        (None, Some(id)) => {
            let keys = state.master_keys.vault_keys(principal.tenant_id);
            sessions::load(&state.database, &keys, principal.tenant_id, &known_session(&id))
                .await
                .map_err(ApiError::from_class)?
                .state
                .mask_map
        }
        _ => {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body",
                "needs exactly one of mask_map and session_id",
            ));
        }
    };
    let response = if let serde_json::Value::String(text) = &request.masked_content {
        let result = rehydrate_text(text, &map);
        RehydrateResponse {
            rehydrated_content: serde_json::Value::String(result.content),
            placeholders_found: result.placeholders_found.len(),
            placeholders: result.placeholders_found,
            unknown_placeholders: result.unknown_placeholders,
        }
    } else {
        let result = rehydrate_json(&request.masked_content, &map);
        RehydrateResponse {
            rehydrated_content: result.content,
            placeholders_found: result.placeholders_found.len(),
            placeholders: result.placeholders_found,
            unknown_placeholders: result.unknown_placeholders,
        }
    };
    tracing::debug!(restored = response.placeholders_found, "content rehydrated");
    Ok(ApiJson(response))
}

/// A session, without its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// The id the client chose, or the one the server gave.
    pub session_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub placeholder_count: usize,
}

/// The tenant's live sessions: their ids, as MaskingEngine lists them, and each one's
/// details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<String>,
    pub count: usize,
    pub items: Vec<SessionView>,
}

/// Lists the tenant's live sanitization sessions, newest first.
#[utoipa::path(
    get,
    path = "/sessions",
    tag = "sanitization",
    responses(
        (status = 200, description = "Live sessions", body = SessionList),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<ApiJson<SessionList>, ApiError> {
    let summaries = sessions::list(&state.database, principal.tenant_id)
        .await
        .map_err(ApiError::from_class)?;
    let items: Vec<SessionView> = summaries
        .into_iter()
        .map(|summary| SessionView {
            session_id: summary.session_id,
            created_at: summary.created_at,
            updated_at: summary.updated_at,
            expires_at: summary.expires_at,
            placeholder_count: summary.placeholder_count,
        })
        .collect();
    Ok(ApiJson(SessionList {
        sessions: items.iter().map(|item| item.session_id.clone()).collect(),
        count: items.len(),
        items,
    }))
}

/// Deletes a session and its mask map.
#[utoipa::path(
    delete,
    path = "/sessions/{session_id}",
    tag = "sanitization",
    params(("session_id" = String, Path, description = "The session: the id `sanitize` returned or the one the client chose")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live session", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_session(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    sessions::delete(&state.database, principal.tenant_id, &known_session(&session_id))
        .await
        .map_err(ApiError::from_class)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Reads a session id a request gives at `location`; a 400 naming it when it cannot be one.
pub fn session_key(text: Option<&str>, location: &str) -> Result<Option<SessionKey>, ApiError> {
    text.map(|text| {
        SessionKey::parse(text).map_err(|_| {
            ApiError::invalid_field(
                "invalid_session_id",
                location,
                "must be 1 to 128 characters without spaces or control characters",
            )
        })
    })
    .transpose()
}

/// A session id to look up: whatever it looks like, a session that does not exist is a 404,
/// so an id no session could have is looked up as it is and not found.
fn known_session(text: &str) -> SessionKey {
    SessionKey::parse(text).unwrap_or_else(|_| SessionKey::lookup(text))
}
