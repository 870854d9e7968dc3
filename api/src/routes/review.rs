//! A document's jobs and what they made: `detect`, `reprocess` and `anonymize` (202 with a
//! job), and the detection results and their review.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use obscura_anonymization::Level;
use obscura_detection::taxonomy::Taxonomy;
use obscura_platform::documents::{self as document_service, state as document_state};
use obscura_platform::jobs::{AnonymizeJob, DetectJob, DetectionSettings, JobPayload, ReprocessJob};
use obscura_platform::processing::{self, JobRequest, ProcessingError};
use obscura_platform::projects;
use obscura_platform::review::{self, EntityFilter, ReviewAction, ReviewItem, ReviewScope, Reviewer};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::metrics::JobLabels;
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::jobs::{JobAccepted, accepted};
use crate::routes::projects::actor;
use crate::state::AppState;

/// What a detection looks for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectDocumentRequest {
    /// The lowest score reported, 0 to 1; the profile's thresholds when absent.
    pub confidence_threshold: Option<f32>,
    /// Only these categories (entity types or their aliases); all when absent.
    pub categories: Option<Vec<String>>,
}

/// How to anonymize.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymizeDocumentRequest {
    /// `BASIC`, `INTERMEDIATE` or `ADVANCED`; the project's default level when absent.
    pub level: Option<String>,
    /// Accepted for compatibility: the output always keeps the original's format and
    /// layout.
    pub preserve_structure: Option<bool>,
}

/// Queues a detection of a document.
///
/// The document goes to `PROCESSING`; its job replaces what an earlier detection found,
/// and marks what review decisions of the document or its project say (a rejected value is
/// reported as `rejected`, an added value is found wherever it occurs).
#[utoipa::path(
    post,
    path = "/documents/{document_id}/detect",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    request_body(content = DetectDocumentRequest, description = "Optional; `{}` detects everything"),
    responses(
        (status = 202, description = "The detection job is queued", body = JobAccepted),
        (status = 400, description = "A threshold out of range or a category that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is being processed (`document_busy`), or its original was deleted (`original_deleted`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn detect_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    queue_detection(state, principal, document_id, optional_json(&body)?, false).await
}

/// Queues a detection again, after the project's profile, the model or review decisions
/// changed; its job's result says how many spans appeared and disappeared.
#[utoipa::path(
    post,
    path = "/documents/{document_id}/reprocess",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    request_body(content = DetectDocumentRequest, description = "Optional; `{}` detects everything"),
    responses(
        (status = 202, description = "The reprocess job is queued", body = JobAccepted),
        (status = 400, description = "A threshold out of range or a category that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is being processed, or its original was deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn reprocess_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    queue_detection(state, principal, document_id, optional_json(&body)?, true).await
}

async fn queue_detection(
    state: AppState,
    principal: Principal,
    document_id: Uuid,
    body: DetectDocumentRequest,
    reprocess: bool,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    if let Some(threshold) = body.confidence_threshold
        && !(0.0..=1.0).contains(&threshold)
    {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.confidence_threshold",
            "must be between 0 and 1",
        ));
    }
    let categories = match body.categories {
        Some(names) => {
            let mut canonical = Vec::with_capacity(names.len());
            for (index, name) in names.iter().enumerate() {
                let Some(info) = Taxonomy.resolve(name) else {
                    return Err(ApiError::invalid_field(
                        "invalid_body",
                        &format!("body.categories[{index}]"),
                        format!("{name:?} is not an entity type (see GET /api/v1/entities)"),
                    ));
                };
                canonical.push(info.name.to_owned());
            }
            Some(canonical)
        }
        None => None,
    };
    let request_id = request_id::current();
    let job_id = processing::request_detection(
        &state.database,
        job_request(&state, &principal, document_id, &request_id),
        DetectionSettings {
            confidence_threshold: body.confidence_threshold,
            categories,
        },
        reprocess,
    )
    .await?;
    count_job(&state, if reprocess { ReprocessJob::KIND } else { DetectJob::KIND });
    Ok(accepted(&state.config.server.public_url, job_id))
}

/// Queues the anonymization of a detected document.
///
/// It replaces the reviewed entities (the detected set when nobody reviewed it) with the
/// aliases of the project's glossary, so that a person has the same alias in every document
/// of the project; writes the output in the original format; and checks it for leaks.
#[utoipa::path(
    post,
    path = "/documents/{document_id}/anonymize",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    request_body(content = AnonymizeDocumentRequest, description = "Optional; the project's default level when absent"),
    responses(
        (status = 202, description = "The anonymization job is queued", body = JobAccepted),
        (status = 400, description = "A level that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is being processed, or its original was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The document has not been through detection (`not_detected`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn anonymize_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let body: AnonymizeDocumentRequest = optional_json(&body)?;
    let level = match body.level.as_deref() {
        Some(name) => {
            let level: Level =
                serde_json::from_value(serde_json::Value::String(name.to_uppercase())).map_err(|_| {
                    ApiError::invalid_field("invalid_body", "body.level", "must be BASIC, INTERMEDIATE or ADVANCED")
                })?;
            projects::level_name(level).to_owned()
        }
        None => {
            let document = document_service::get(state.database.orm(), principal.tenant_id, document_id).await?;
            projects::find(state.database.orm(), principal.tenant_id, document.project_id)
                .await?
                .default_level
        }
    };
    let request_id = request_id::current();
    let job_id = processing::request_anonymization(
        &state.database,
        job_request(&state, &principal, document_id, &request_id),
        &level,
    )
    .await?;
    count_job(&state, AnonymizeJob::KIND);
    Ok(accepted(&state.config.server.public_url, job_id))
}

/// A JSON body that may be left out: no body (or only whitespace) is the default.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    axum::Json::<T>::from_bytes(body)
        .map(|axum::Json(value)| value)
        .map_err(ApiError::from)
}

fn job_request<'a>(state: &AppState, principal: &Principal, document_id: Uuid, request_id: &'a str) -> JobRequest<'a> {
    JobRequest {
        tenant_id: principal.tenant_id,
        document_id,
        actor: actor(principal),
        request_id: Some(request_id),
        max_attempts: state.config.worker.max_attempts,
    }
}

fn count_job(state: &AppState, kind: &str) {
    state
        .metrics
        .jobs_enqueued
        .get_or_create(&JobLabels { kind: kind.to_owned() })
        .inc();
}

/// Which detection results to show.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Only this category (an entity type or its alias).
    pub category: Option<String>,
    /// Only this review status: `detected`, `accepted`, `rejected`, `edited` or `added`.
    pub status: Option<String>,
    /// Only entities scored at least this, 0 to 1.
    pub min_score: Option<f32>,
}

/// Where an entity is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityPosition {
    /// Code-point offsets in the text of `location`, end exclusive.
    pub start: i64,
    pub end: i64,
    /// 1-based page, for PDFs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    /// The part of the file: `text`, `page 3`, `page 3, image 1`, `word/document.xml`, a
    /// JSON path, a CSV cell.
    pub location: Option<String>,
    /// The paragraph within the part, when it has paragraphs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<i32>,
    /// Boxes on the page, one per line: x0, y0, x1, y1 in points from the bottom left for
    /// PDFs, pixels (left, top, right, bottom) for images.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Vec<f32>>>)]
    pub boxes: Option<serde_json::Value>,
}

/// An entity of a document, with its value, for reviewers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentEntityView {
    pub id: Uuid,
    /// The value; absent once it is no longer kept.
    pub text: Option<String>,
    pub category: String,
    /// The detector's score, 0 to 1.
    pub confidence: f32,
    pub position: EntityPosition,
    /// `detected`, `accepted`, `rejected`, `edited` or `added`.
    pub status: String,
    /// The recognizer that found it (`deny_list` for a value a reviewer added).
    pub recognizer: String,
    /// For text read with OCR: the lowest confidence (0 to 100) of its words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_confidence: Option<f32>,
}

/// What detection found in a document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectionResults {
    pub document_id: Uuid,
    /// The document's state.
    pub state: String,
    /// Entities listed (after the filters).
    pub entities_found: usize,
    pub entities: Vec<DocumentEntityView>,
    /// When the last detection finished; null before one has.
    pub detection_completed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Lists what detection found in a document, with the review status of each entity.
#[utoipa::path(
    get,
    path = "/documents/{document_id}/detection-results",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id"), ResultsQuery),
    responses(
        (status = 200, description = "The entities, in reading order", body = DetectionResults),
        (status = 400, description = "A filter that is none", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The document has not been through detection (`not_detected`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_detection_results(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ResultsQuery>,
) -> Result<ApiJson<DetectionResults>, ApiError> {
    if let Some(status) = &query.status
        && !review::status::ALL.contains(&status.as_str())
    {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.status",
            "must be detected, accepted, rejected, edited or added",
        ));
    }
    if let Some(category) = &query.category
        && Taxonomy.resolve(category).is_none()
    {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.category",
            "is not an entity type (see GET /api/v1/entities)",
        ));
    }
    if let Some(score) = query.min_score
        && !(0.0..=1.0).contains(&score)
    {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.min_score",
            "must be between 0 and 1",
        ));
    }
    let keys = state.master_keys.vault_keys(principal.tenant_id);
    let filter = EntityFilter {
        category: query.category,
        status: query.status,
        min_score: query.min_score,
    };
    let (document, entities) =
        review::list_entities(state.database.orm(), &keys, principal.tenant_id, document_id, &filter)
            .await
            .map_err(review_error)?;
    if document.detected_at.is_none() && document.state != document_state::PROCESSING {
        return Err(ApiError::from_class(ProcessingError::NotDetected(document_id)));
    }
    let entities: Vec<DocumentEntityView> = entities
        .into_iter()
        .map(|entity| DocumentEntityView {
            id: entity.record.id,
            text: entity.text,
            category: entity.record.category,
            confidence: entity.record.score,
            position: EntityPosition {
                start: entity.record.start,
                end: entity.record.end,
                page: entity.record.page,
                location: entity.record.location,
                paragraph: entity.record.paragraph,
                boxes: entity.record.r#box,
            },
            status: entity.record.status,
            recognizer: entity.record.recognizer,
            ocr_confidence: entity.record.ocr_confidence,
        })
        .collect();
    Ok(ApiJson(DetectionResults {
        document_id,
        detection_completed_at: document.detected_at,
        state: document.state,
        entities_found: entities.len(),
        entities,
    }))
}

/// One review decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewItemRequest {
    /// `accept`, `reject`, `edit` or `add`.
    #[schema(value_type = String)]
    pub action: ReviewAction,
    /// The entity, for accept, reject and edit (or give `start` and `end`).
    pub id: Option<Uuid>,
    /// The entity's part of the file, with `start` and `end` (code points of that part's
    /// text, as detection results give them).
    pub location: Option<String>,
    /// The paragraph within the location, for parts read by paragraph (Word documents).
    pub paragraph: Option<u64>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    /// For an edit, the new text (it must hold the entity's text or lie within it); for an
    /// add, the value to find.
    pub text: Option<String>,
    /// For an edit, the new category; for an add, its category.
    pub category: Option<String>,
    /// `document` (the default) or `project`: every occurrence of the same value and
    /// category in every document of the project, present and future.
    #[schema(value_type = Option<String>)]
    pub scope: Option<ReviewScope>,
}

/// A batch of review decisions, applied all or none.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub items: Vec<ReviewItemRequest>,
}

/// What a review changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewResult {
    pub document_id: Uuid,
    pub accepted: u64,
    pub rejected: u64,
    pub edited: u64,
    pub added: u64,
    /// Entities whose status changed, here and (for project decisions) in other documents.
    pub entities_updated: u64,
    /// An added or edited value is listed after the next `reprocess`; anonymization
    /// replaces it either way.
    pub reprocess_recommended: bool,
}

/// Accepts, rejects, edits and adds entities of a document, in one batch.
///
/// Each item names an entity by `id`, or by `start` and `end` (and `location`). An edit
/// gives a new `text` that holds the old one or lies within it, and/or a new `category`;
/// an add gives `text` and `category` (and its position, if known). With
/// `"scope": "project"` a decision applies to every occurrence of the value and category in
/// every document of the project, present and future. An item that cannot apply is a 400
/// naming it, and nothing of the batch is kept.
#[utoipa::path(
    patch,
    path = "/documents/{document_id}/entities",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "What changed", body = ReviewResult),
        (status = 400, description = "An item that cannot apply, named by its index", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is being processed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More than 1000 items", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn review_entities(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReviewRequest>,
) -> Result<ApiJson<ReviewResult>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let items: Vec<ReviewItem> = body
        .items
        .into_iter()
        .map(|item| ReviewItem {
            action: item.action,
            id: item.id,
            location: item.location,
            paragraph: item.paragraph,
            start: item.start,
            end: item.end,
            text: item.text,
            category: item.category,
            scope: item.scope.unwrap_or_default(),
        })
        .collect();
    // Spans added at a position are checked against the text the document was read as.
    let units = if items
        .iter()
        .any(|item| item.action == ReviewAction::Add && item.location.is_some())
    {
        obscura_platform::processing::stored_units(&state.blobs, document_id).await?
    } else {
        None
    };
    let keys = state.master_keys.vault_keys(principal.tenant_id);
    let request_id = request_id::current();
    let outcome = review::apply(
        &state.database,
        &keys,
        Reviewer {
            tenant_id: principal.tenant_id,
            document_id,
            actor: actor(&principal),
            request_id: Some(&request_id),
        },
        &items,
        units.as_deref(),
    )
    .await
    .map_err(review_error)?;
    Ok(ApiJson(ReviewResult {
        document_id,
        accepted: outcome.accepted,
        rejected: outcome.rejected,
        edited: outcome.edited,
        added: outcome.added,
        entities_updated: outcome.entities_updated,
        reprocess_recommended: outcome.reprocess_recommended,
    }))
}

/// A review error, with the item it names as the field.
fn review_error(error: review::ReviewError) -> ApiError {
    match &error {
        review::ReviewError::Item { index, message } => {
            ApiError::invalid_field("invalid_review_item", &format!("body.items[{index}]"), message.clone())
        }
        review::ReviewError::EntityNotFound { index, .. } => {
            let loc = format!("body.items[{index}]");
            let detail = error.to_string();
            ApiError::from_class(error).with_field(loc, detail)
        }
        review::ReviewError::Document(_)
        | review::ReviewError::Busy(_)
        | review::ReviewError::TooManyItems
        | review::ReviewError::Database(_)
        | review::ReviewError::Transaction(_)
        | review::ReviewError::Vault(_) => ApiError::from_class(error),
    }
}
