//! `/api/v1/detect` and the listings of what detection knows: entities, recognizers,
//! pattern packs and profiles.

use std::time::Instant;

use axum::extract::State;
use obscura_detection::catalog::Catalog;
use obscura_detection::profile::Engine;
use obscura_detection::taxonomy::Taxonomy;
use obscura_detection::{Detection, Explanation, OnRecognizerError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::detect_settings::{
    DenyListItem, DetectFields, EngineName, RecognizerErrorMode, SkippedRecognizerView, prepare, skipped_views,
};
use crate::problem::{ApiError, ApiJson, Problem};
use crate::state::AppState;

/// A detection request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectRequest {
    /// The text to search.
    pub text: String,
    /// ISO 639-1 code (`en`, `es`); the profile's, else guessed from the text (`es` or `en`).
    pub language: Option<String>,
    /// Only these entity types (names or aliases); also accepted as `entity_types`.
    #[serde(alias = "entity_types")]
    pub entities: Option<Vec<String>>,
    /// A floor over every entity's threshold, 0 to 1.
    pub min_score: Option<f32>,
    /// Values never reported, compared without case or accents.
    #[serde(default)]
    pub allow_list: Vec<String>,
    /// Values always reported.
    #[serde(default)]
    pub deny_list: Vec<DenyListItem>,
    /// Pattern packs to use instead of the profile's.
    pub pattern_packs: Option<Vec<String>>,
    /// A profile (default `standard`).
    pub profile: Option<String>,
    /// Recognizer families to run instead of the profile's.
    pub engines: Option<Vec<EngineName>>,
    /// Attach explanations.
    #[serde(default)]
    pub explain: bool,
    /// Where the text came from, for the detection log.
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    /// Whether to log the detections (without the matched text); accepted for the log.
    pub log: Option<bool>,
    /// `fail` (default) or `skip`: what a recognizer's failure does; the profile's when absent.
    pub on_recognizer_error: Option<RecognizerErrorMode>,
}

/// Why an entity was reported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationView {
    pub pattern: Option<String>,
    pub validator: Option<String>,
    pub validator_passed: Option<bool>,
    /// Context words found; contradicting ones start with `-`.
    pub context_words: Vec<String>,
    pub score_before_context: f32,
    pub score_after_context: f32,
    pub threshold: f32,
}

/// One finding. Offsets count code points of the submitted text, end exclusive.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectedEntity {
    pub entity_type: String,
    pub start: usize,
    pub end: usize,
    pub score: f32,
    pub recognizer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationView>,
}

/// The findings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectResponse {
    pub entities: Vec<DetectedEntity>,
    pub detection_count: usize,
    pub processing_time_ms: f64,
    /// Recognizers that failed and were left out; empty unless `on_recognizer_error` is `skip`.
    pub skipped_recognizers: Vec<SkippedRecognizerView>,
}

fn explanation_view(explanation: Explanation) -> ExplanationView {
    ExplanationView {
        validator_passed: explanation.validator.as_ref().map(|outcome| outcome.passed),
        validator: explanation.validator.map(|outcome| outcome.validator),
        pattern: explanation.pattern,
        context_words: explanation.context_words,
        score_before_context: explanation.score_before_context,
        score_after_context: explanation.score_after_context,
        threshold: explanation.threshold,
    }
}

fn entity_view(detection: Detection) -> DetectedEntity {
    DetectedEntity {
        entity_type: detection.entity_type.into(),
        start: detection.start,
        end: detection.end,
        score: detection.score,
        recognizer: detection.recognizer,
        explanation: detection.explanation.map(explanation_view),
    }
}

/// Finds personal data and secrets in a text.
#[utoipa::path(
    post,
    path = "/detect",
    tag = "detection",
    request_body(content = DetectRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What was found", body = DetectResponse),
        (status = 400, description = "An unknown entity, pack or profile, or a score outside 0..1", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A recognizer failed (`recognizer_failed`) and the request did not allow skipping it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_detection(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DetectRequest>,
) -> Result<ApiJson<DetectResponse>, ApiError> {
    Ok(ApiJson(detect(&state, request).await?))
}

/// Runs a detection request.
pub async fn detect(state: &AppState, request: DetectRequest) -> Result<DetectResponse, ApiError> {
    let (selection, options) = prepare(
        state,
        DetectFields {
            language: request.language,
            entities: request.entities,
            min_score: request.min_score,
            allow_list: request.allow_list,
            deny_list: request.deny_list,
            pattern_packs: request.pattern_packs,
            profile: request.profile,
            engines: request.engines,
            explain: request.explain,
            on_recognizer_error: request.on_recognizer_error,
        },
    )?;
    let text = request.text;
    let span = tracing::Span::current();
    let started = Instant::now();
    // Matching is CPU work; it runs off the async threads, in the request's span.
    let findings = tokio::task::spawn_blocking(move || span.in_scope(|| selection.detector.detect(&text, &options)))
        .await
        .map_err(ApiError::internal)??;
    let processing_time_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(
        detection_count = findings.detections.len(),
        skipped_recognizers = findings.skipped.len(),
        "text scanned"
    );
    let entities: Vec<DetectedEntity> = findings.detections.into_iter().map(entity_view).collect();
    Ok(DetectResponse {
        detection_count: entities.len(),
        entities,
        processing_time_ms,
        skipped_recognizers: skipped_views(findings.skipped),
    })
}

/// An entity type of the taxonomy.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityView {
    pub name: String,
    pub description: String,
    pub category: String,
    pub languages: Vec<String>,
    pub default_threshold: f32,
    pub aliases: Vec<String>,
}

/// Lists every entity type with its description, languages, threshold and aliases.
#[utoipa::path(
    get,
    path = "/entities",
    tag = "detection",
    responses((status = 200, description = "The taxonomy", body = Vec<EntityView>)),
    security(("bearer" = []))
)]
pub async fn list_entities() -> ApiJson<Vec<EntityView>> {
    ApiJson(
        Taxonomy
            .entities()
            .iter()
            .map(|entity| EntityView {
                name: entity.name.to_owned(),
                description: entity.description.to_owned(),
                category: serde_json::to_value(entity.category)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                languages: entity.languages.iter().map(|language| (*language).to_owned()).collect(),
                default_threshold: entity.default_threshold,
                aliases: entity.aliases.iter().map(|alias| (*alias).to_owned()).collect(),
            })
            .collect(),
    )
}

/// A recognizer and its settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecognizerView {
    pub name: String,
    pub kind: String,
    pub entities: Vec<String>,
    pub languages: Vec<String>,
    pub description: String,
    pub settings: std::collections::BTreeMap<String, String>,
}

/// Lists every recognizer of every pack, with its entity, languages and settings.
#[utoipa::path(
    get,
    path = "/recognizers",
    tag = "detection",
    responses((status = 200, description = "Every recognizer", body = Vec<RecognizerView>)),
    security(("bearer" = []))
)]
pub async fn list_recognizers(State(state): State<AppState>) -> Result<ApiJson<Vec<RecognizerView>>, ApiError> {
    let everything = all_packs(&state.catalog);
    let selection = state
        .catalog
        .select(
            None,
            Some(&everything),
            Some(&[Engine::Patterns, Engine::Gazetteer, Engine::Ner]),
        )
        .map_err(ApiError::internal)?;
    Ok(ApiJson(
        selection
            .detector
            .recognizers()
            .into_iter()
            .map(|info| RecognizerView {
                name: info.name,
                kind: info.kind.as_str().to_owned(),
                entities: info.entities.into_iter().map(String::from).collect(),
                languages: info.languages,
                description: info.description,
                settings: info.settings,
            })
            .collect(),
    ))
}

fn all_packs(catalog: &Catalog) -> Vec<String> {
    catalog.packs().iter().map(|pack| pack.pack.name.clone()).collect()
}

/// A pattern pack.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackView {
    pub name: String,
    pub version: String,
    pub description: String,
    /// `builtin:<name>` or the file it was loaded from.
    pub source: String,
    pub recognizers: Vec<String>,
    /// How many patterns its recognizers have.
    pub pattern_count: usize,
}

/// Lists the loaded pattern packs.
#[utoipa::path(
    get,
    path = "/pattern-packs",
    tag = "detection",
    responses((status = 200, description = "Every pack", body = Vec<PackView>)),
    security(("bearer" = []))
)]
pub async fn list_pattern_packs(State(state): State<AppState>) -> ApiJson<Vec<PackView>> {
    ApiJson(
        state
            .catalog
            .packs()
            .iter()
            .map(|loaded| PackView {
                name: loaded.pack.name.clone(),
                version: loaded.pack.version.clone(),
                description: loaded.pack.description.trim().to_owned(),
                source: loaded.source.clone(),
                recognizers: loaded.pack.recognizers.iter().map(|spec| spec.name.clone()).collect(),
                pattern_count: loaded.pack.recognizers.iter().map(|spec| spec.patterns.len()).sum(),
            })
            .collect(),
    )
}

/// A profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub name: String,
    pub description: String,
    pub packs: Vec<String>,
    pub engines: Vec<EngineName>,
    pub language: Option<String>,
    pub min_score: Option<f32>,
    pub thresholds: std::collections::BTreeMap<String, f32>,
    /// What a recognizer's failure does to a request with this profile.
    pub on_recognizer_error: RecognizerErrorMode,
    /// Span refinement steps this profile does not run.
    pub refinements_off: Vec<String>,
}

/// Lists the profiles.
#[utoipa::path(
    get,
    path = "/profiles",
    tag = "detection",
    responses((status = 200, description = "Every profile", body = Vec<ProfileView>)),
    security(("bearer" = []))
)]
pub async fn list_profiles(State(state): State<AppState>) -> ApiJson<Vec<ProfileView>> {
    ApiJson(
        state
            .catalog
            .profiles()
            .iter()
            .map(|profile| ProfileView {
                name: profile.name.clone(),
                description: profile.description.clone(),
                packs: profile.packs.clone(),
                engines: profile
                    .engines
                    .iter()
                    .map(|engine| match engine {
                        Engine::Patterns => EngineName::Patterns,
                        Engine::Gazetteer => EngineName::Gazetteer,
                        Engine::Ner => EngineName::Ner,
                    })
                    .collect(),
                language: profile.language.clone(),
                min_score: profile.min_score,
                thresholds: profile.thresholds.clone(),
                on_recognizer_error: match profile.on_recognizer_error {
                    OnRecognizerError::Fail => RecognizerErrorMode::Fail,
                    OnRecognizerError::Skip => RecognizerErrorMode::Skip,
                },
                refinements_off: profile.refinements_off.clone(),
            })
            .collect(),
    )
}
