//! `/api/v1/jobs`: job state and progress, and the diagnostic job operators use to probe workers.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use obscura_entity::job_records;
use obscura_platform::jobs::{
    self, DiagnosticJob, EnqueueOptions, JobPayload, MAX_DIAGNOSTIC_BLOB_BYTES, MAX_DIAGNOSTIC_HOLD_MS,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::metrics::JobLabels;
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::state::AppState;

/// Largest page of jobs.
pub const MAX_PAGE_SIZE: u64 = 200;

/// A job as users see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    /// The job type, such as `diagnostic`.
    pub kind: String,
    /// `queued`, `running`, `retrying`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// Percent done, 0 to 100.
    pub progress: i32,
    /// The step it is at, as a stable code (`document_read`, `entities_found`, ...).
    pub progress_code: Option<String>,
    /// The step in English words.
    pub message: Option<String>,
    /// The document a document job works on.
    pub document_id: Option<Uuid>,
    /// How many times a worker started the job.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last failure, if any.
    pub error: Option<String>,
    /// What the job produced, once it succeeded.
    pub result: Option<serde_json::Value>,
    /// The worker that ran the last attempt.
    pub worker: Option<String>,
    /// The id of the request that queued the job.
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<job_records::Model> for JobView {
    fn from(record: job_records::Model) -> JobView {
        JobView {
            id: record.id,
            kind: record.kind,
            state: record.state,
            progress: record.progress,
            progress_code: record.progress_code,
            message: record.progress_message,
            document_id: record.document_id,
            attempts: record.attempts,
            max_attempts: record.max_attempts,
            error: record.error,
            result: record.result,
            worker: record.worker_name,
            request_id: record.request_id,
            created_at: record.created_at,
            updated_at: record.updated_at,
            started_at: record.started_at,
            finished_at: record.finished_at,
        }
    }
}

/// The answer to a request that queued a job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: Uuid,
    /// Where to follow the job.
    pub status_url: String,
}

/// Options of a diagnostic job.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticRequest {
    /// Size of the blob the worker writes and reads back, in bytes (default 1024, at most 1 MiB).
    pub blob_bytes: Option<u32>,
    /// Keeps the job running this long, in milliseconds (default 0, at most 60000), to check
    /// that shutdowns let running jobs finish.
    pub hold_ms: Option<u32>,
}

/// Paging of a list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// Items to skip (default 0, at most 1,000,000).
    pub offset: Option<u64>,
}

impl PageQuery {
    /// The limit (default 50) and offset, checked against `max_limit` and
    /// [`jobs::MAX_LIST_OFFSET`].
    pub fn checked(&self, max_limit: u64) -> Result<(u64, u64), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if limit == 0 || limit > max_limit {
            return Err(ApiError::invalid_field(
                "invalid_query",
                "query.limit",
                format!("must be between 1 and {max_limit}"),
            ));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > jobs::MAX_LIST_OFFSET {
            return Err(ApiError::invalid_field(
                "invalid_query",
                "query.offset",
                format!("must be at most {}", jobs::MAX_LIST_OFFSET),
            ));
        }
        Ok((limit, offset))
    }
}

/// A page of jobs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    /// Jobs of the tenant in all.
    pub total: u64,
}

/// Queues a diagnostic job, which writes a blob, reads it back and deletes it.
///
/// Operators use it to prove that the worker fleet is alive and can reach the database and
/// blob storage; the result names the worker that ran it. Admin only.
#[utoipa::path(
    post,
    path = "/jobs/diagnostic",
    tag = "jobs",
    request_body(content = DiagnosticRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "The job is queued", body = JobAccepted),
        (status = 400, description = "Invalid options", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_diagnostic_job(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<DiagnosticRequest>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let blob_bytes = request.blob_bytes.unwrap_or(1024);
    if blob_bytes > MAX_DIAGNOSTIC_BLOB_BYTES {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.blob_bytes",
            format!("must be at most {MAX_DIAGNOSTIC_BLOB_BYTES}"),
        ));
    }
    let hold_ms = request.hold_ms.unwrap_or(0);
    if hold_ms > MAX_DIAGNOSTIC_HOLD_MS {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.hold_ms",
            format!("must be at most {MAX_DIAGNOSTIC_HOLD_MS}"),
        ));
    }
    let options = EnqueueOptions {
        tenant_id: principal.tenant_id,
        request_id: Some(request_id::current()),
        max_attempts: state.config.worker.max_attempts,
        document_id: None,
    };
    let tx = state.database.begin().await?;
    let job_id = jobs::enqueue(&tx, &options, DiagnosticJob { blob_bytes, hold_ms }).await?;
    tx.commit().await?;
    state
        .metrics
        .jobs_enqueued
        .get_or_create(&JobLabels {
            kind: DiagnosticJob::KIND.to_owned(),
        })
        .inc();
    Ok(accepted(&state.config.server.public_url, job_id))
}

/// A 202 answer pointing at the job, by its absolute URL under `server.public_url`.
pub fn accepted(public_url: &str, job_id: Uuid) -> Response {
    let status_url = format!("{}/api/v1/jobs/{job_id}", public_url.trim_end_matches('/'));
    let mut response = (
        StatusCode::ACCEPTED,
        ApiJson(JobAccepted {
            job_id,
            status_url: status_url.clone(),
        }),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&status_url) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Reads a job's state, progress, attempts and result.
#[utoipa::path(
    get,
    path = "/jobs/{job_id}",
    tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_job(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(job_id): ApiPath<Uuid>,
) -> Result<ApiJson<JobView>, ApiError> {
    let record = jobs::find(state.database.orm(), principal.tenant_id, job_id).await?;
    Ok(ApiJson(record.into()))
}

/// Cancels a job that has not ended.
///
/// It does not run again; an attempt running now finishes on its worker, and what it makes
/// is discarded. A document the job held goes to `ERROR` with the code `cancelled`, and can
/// be detected or anonymized again.
#[utoipa::path(
    post,
    path = "/jobs/{job_id}/cancel",
    tag = "jobs",
    params(("job_id" = Uuid, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job, cancelled", body = JobView),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job ended already (`job_finished`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(job_id): ApiPath<Uuid>,
) -> Result<ApiJson<JobView>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let record = jobs::cancel(&state.database, principal.tenant_id, job_id).await?;
    let request_id = request_id::current();
    obscura_platform::audit::record(
        state.database.orm(),
        obscura_platform::audit::AuditEvent {
            tenant_id: principal.tenant_id,
            actor: crate::routes::projects::actor(&principal),
            action: "job.cancel",
            resource_type: "job",
            resource_id: Some(job_id),
            project_id: None,
            counts: None,
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(ApiJson(record.into()))
}

/// Lists the tenant's jobs, newest first.
#[utoipa::path(
    get,
    path = "/jobs",
    tag = "jobs",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<ApiJson<JobPage>, ApiError> {
    let (limit, offset) = page.checked(MAX_PAGE_SIZE)?;
    let (records, total) = jobs::list(state.database.orm(), principal.tenant_id, limit, offset).await?;
    Ok(ApiJson(JobPage {
        items: records.into_iter().map(JobView::from).collect(),
        total,
    }))
}
