//! `/api/v1/documents`: the files of a project, uploaded by multipart and stored as they
//! arrive.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use obscura_entity::documents;
use obscura_platform::audit::{self, AuditEvent};
use obscura_platform::documents::{self as document_service, DocumentServiceError, Upload};
use obscura_platform::jobs::{self, DeleteJob, DeleteTarget, EnqueueOptions, JobPayload};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::metrics::JobLabels;
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::jobs::{JobAccepted, PageQuery, accepted};
use crate::routes::projects::actor;
use crate::state::AppState;

/// Room a multipart body may take besides the file: boundaries and part headers.
const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

/// Which project an upload goes to.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub project_id: Uuid,
}

/// Which documents to list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentListQuery {
    /// Only this project's documents.
    pub project_id: Option<Uuid>,
    /// Documents per page, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// Documents to skip (default 0).
    pub offset: Option<u64>,
}

/// The multipart form of an upload: one part named `file`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// A document as users see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub filename: String,
    /// The sniffed type: `pdf`, `docx`, `png`, `jpg`, `tiff`, `txt`, `md`, `csv`, `json` or `html`.
    pub format: Option<String>,
    /// Bytes of the original.
    pub size: i64,
    /// Hex SHA-256 of the original.
    pub sha256: Option<String>,
    pub page_count: Option<i32>,
    /// `PENDING`, `PROCESSING`, `DETECTION_COMPLETE`, `ANONYMIZATION_COMPLETE` or `ERROR`.
    pub state: String,
    /// The failure's stable code when `state` is `ERROR`.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<documents::Model> for DocumentView {
    fn from(record: documents::Model) -> DocumentView {
        DocumentView {
            id: record.id,
            project_id: record.project_id,
            filename: record.filename,
            format: record.format,
            size: record.size,
            sha256: record.sha256,
            page_count: record.page_count,
            state: record.state,
            error: record.error,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// A page of documents.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentPage {
    pub items: Vec<DocumentView>,
    /// Documents that match, in all.
    pub total: u64,
    /// The page asked for.
    pub limit: u64,
    pub offset: u64,
}

/// Uploads a file to a project.
///
/// The body is a multipart form with one part named `file`, streamed to storage as it
/// arrives; the type is sniffed from the bytes (PDF, DOCX, PNG, JPEG, TIFF, text, Markdown,
/// CSV, JSON, HTML), not trusted from the name. At most `server.max_upload_bytes` (10 MiB by
/// default): a larger `Content-Length` is refused before the body is read, and a body that
/// passes the limit is refused when it does. The same content twice in a project is a 409
/// that names the document that has it.
#[utoipa::path(
    post,
    path = "/documents",
    tag = "documents",
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The document, PENDING", body = DocumentView),
        (status = 400, description = "No file, an empty or unsupported file, or a name that lies about the type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project has this content already", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is over the upload limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, ApiJson<DocumentView>), ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let max_bytes = state.config.server.max_upload_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max_bytes + MULTIPART_OVERHEAD_BYTES) {
        return Err(ApiError::from_class(DocumentServiceError::TooLarge {
            limit: max_bytes,
        }));
    }
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| multer::parse_boundary(value).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the body must be multipart/form-data with a boundary, holding one part named `file`",
            )
        })?;
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(max_bytes + MULTIPART_OVERHEAD_BYTES));
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let request_id = request_id::current();
    loop {
        let field = form.next_field().await.map_err(multipart_error(max_bytes))?;
        let Some(field) = field else {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body.file",
                "is missing: send the file as a part named `file`",
            ));
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("").to_owned();
        let stream = Box::pin(field.map_err(|error| error.to_string()));
        let record = document_service::upload(
            &state.database,
            &state.blobs,
            Upload {
                tenant_id: principal.tenant_id,
                project_id: query.project_id,
                filename: &filename,
                max_bytes,
                actor: actor(&principal),
                request_id: Some(&request_id),
            },
            stream,
        )
        .await?;
        tracing::info!(document_id = %record.id, bytes = record.size, format = ?record.format, "document uploaded");
        return Ok((StatusCode::CREATED, ApiJson(record.into())));
    }
}

/// A multipart framing error as a problem: a body over the whole-stream limit is a 413.
fn multipart_error(max_bytes: u64) -> impl Fn(multer::Error) -> ApiError {
    move |error| {
        if matches!(
            error,
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. }
        ) {
            ApiError::from_class(DocumentServiceError::TooLarge { limit: max_bytes })
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("the multipart body is malformed: {error}"),
            )
        }
    }
}

/// Lists the tenant's documents, newest first, of one project when given.
#[utoipa::path(
    get,
    path = "/documents",
    tag = "documents",
    params(DocumentListQuery),
    responses(
        (status = 200, description = "A page of documents", body = DocumentPage),
        (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_documents(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<DocumentListQuery>,
) -> Result<ApiJson<DocumentPage>, ApiError> {
    let (limit, offset) = PageQuery {
        limit: query.limit,
        offset: query.offset,
    }
    .checked(document_service::MAX_PAGE_SIZE)?;
    let (records, total) = document_service::list(
        state.database.orm(),
        principal.tenant_id,
        query.project_id,
        limit,
        offset,
    )
    .await?;
    Ok(ApiJson(DocumentPage {
        items: records.into_iter().map(DocumentView::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// Reads a document.
#[utoipa::path(
    get,
    path = "/documents/{document_id}",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    responses(
        (status = 200, description = "The document", body = DocumentView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
) -> Result<ApiJson<DocumentView>, ApiError> {
    let record = document_service::get(state.database.orm(), principal.tenant_id, document_id).await?;
    Ok(ApiJson(record.into()))
}

/// Deletes a document: it leaves listings at once, its content can be uploaded again, and the
/// `delete` job removes its blobs, entities and glossary occurrences.
#[utoipa::path(
    delete,
    path = "/documents/{document_id}",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    responses(
        (status = 202, description = "The delete job is queued", body = JobAccepted),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let request_id = request_id::current();
    let tx = state.database.begin().await?;
    let record = document_service::mark_deleted(&tx, principal.tenant_id, document_id).await?;
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: principal.tenant_id,
            actor: actor(&principal),
            action: "document.delete",
            resource_type: "document",
            resource_id: Some(document_id),
            project_id: Some(record.project_id),
            counts: None,
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;
    let job_id = enqueue_delete(&state, &tx, &principal, DeleteTarget::Document { document_id }).await?;
    tx.commit().await?;
    Ok(accepted(&state.config.server.public_url, job_id))
}

/// Queues a delete job inside `tx`.
pub async fn enqueue_delete(
    state: &AppState,
    tx: &obscura_platform::database::Tx,
    principal: &Principal,
    target: DeleteTarget,
) -> Result<Uuid, ApiError> {
    let options = EnqueueOptions {
        tenant_id: principal.tenant_id,
        request_id: Some(request_id::current()),
        max_attempts: state.config.worker.max_attempts,
        document_id: None,
    };
    let job_id = jobs::enqueue(tx, &options, DeleteJob { target }).await?;
    state
        .metrics
        .jobs_enqueued
        .get_or_create(&JobLabels {
            kind: DeleteJob::KIND.to_owned(),
        })
        .inc();
    Ok(job_id)
}
