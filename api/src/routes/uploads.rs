//! Presigned uploads: announce a file, send its bytes to the URL given (S3, or this API's own
//! signed URL in embedded mode), then complete it.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use obscura_platform::uploads::{self, Announcement, Completion, UploadError, UploadSigner};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::documents::DocumentView;
use crate::routes::projects::actor;
use crate::state::AppState;

/// A file to upload.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    pub project_id: Uuid,
    pub filename: String,
    /// Bytes; at most `server.max_presigned_upload_bytes` (100 MiB by default).
    pub size: u64,
    /// The file's media type, such as `application/pdf`; it is signed into the URL.
    pub content_type: String,
    /// Hex SHA-256 of the file; when given, completion checks it.
    pub sha256: Option<String>,
    /// Queue the detection when the upload completes (default false).
    #[serde(default)]
    pub detect: bool,
}

/// Where to send the bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadTicket {
    pub document_id: Uuid,
    pub upload_url: String,
    /// `PUT`.
    pub method: String,
    /// Headers to send with the bytes, as given.
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

/// Announces a file and answers where to send it.
///
/// In S3 mode the URL is an S3 presigned PUT with the size and type signed; with blobs on
/// the local disk it is this API's own URL, signed with HMAC, that takes exactly one PUT.
/// Then call `POST /api/v1/documents/{id}/complete`; until then the document is in no
/// listing, and an upload not completed before `expires_at` is removed.
#[utoipa::path(
    post,
    path = "/uploads",
    tag = "documents",
    request_body = UploadRequest,
    responses(
        (status = 201, description = "Where to send the bytes", body = UploadTicket),
        (status = 400, description = "An empty file, a type that is not read, a bad name or SHA-256", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than server.max_presigned_upload_bytes", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_upload(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<UploadRequest>,
) -> Result<(StatusCode, ApiJson<UploadTicket>), ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let request_id = request_id::current();
    let server = &state.config.server;
    let presigned = uploads::announce(
        &state.database,
        &state.blobs,
        &signer(&state),
        &server.public_url,
        Announcement {
            tenant_id: principal.tenant_id,
            project_id: body.project_id,
            filename: &body.filename,
            size: body.size,
            content_type: &body.content_type,
            sha256: body.sha256.as_deref(),
            detect: body.detect,
            max_bytes: server.max_presigned_upload_bytes,
            ttl: std::time::Duration::from_secs(server.presigned_upload_ttl_secs),
        },
        actor(&principal),
        Some(&request_id),
    )
    .await
    .map_err(upload_error)?;
    Ok((
        StatusCode::CREATED,
        ApiJson(UploadTicket {
            document_id: presigned.document_id,
            upload_url: presigned.upload_url,
            method: presigned.method,
            headers: presigned.headers,
            expires_at: presigned.expires_at,
        }),
    ))
}

fn signer(state: &AppState) -> UploadSigner {
    UploadSigner::new(state.master_keys.upload_signing_key())
}

fn upload_error(error: UploadError) -> ApiError {
    match error {
        UploadError::Invalid { field, message } => ApiError::invalid_field("invalid_body", field, message),
        other @ (UploadError::Document(_)
        | UploadError::BadSignature(_)
        | UploadError::Expired
        | UploadError::AlreadyReceived
        | UploadError::Missing
        | UploadError::Mismatch(_)
        | UploadError::Processing(_)
        | UploadError::Storage(_)
        | UploadError::Database(_)
        | UploadError::Transaction(_)) => ApiError::from_class(other),
    }
}

/// The signature of an upload URL.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Unix time the URL expires at.
    pub expires: i64,
    /// Hex HMAC of the document id and the expiry.
    pub signature: String,
}

/// The bytes of an announced upload (embedded mode).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadReceived {
    pub document_id: Uuid,
    /// Bytes stored.
    pub received: bool,
}

/// Takes the bytes of an announced upload, once: the URL `POST /api/v1/uploads` gave, with
/// its signature. No API key: the signature is the credential. The body is streamed to
/// storage and cut off past the announced size.
#[utoipa::path(
    put,
    path = "/uploads/{document_id}",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The announced document"), SignedQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The bytes are stored; complete the upload", body = UploadReceived),
        (status = 400, description = "A body of another type than the name says, or that broke off", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A signature that does not match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The URL expired, or the upload is gone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The URL took its one PUT already", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More bytes than announced", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_upload(
    State(state): State<AppState>,
    ApiPath(document_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<SignedQuery>,
    body: Body,
) -> Result<ApiJson<UploadReceived>, ApiError> {
    let stream = body.into_data_stream().map_err(|error| error.to_string());
    uploads::receive(
        &state.database,
        &state.blobs,
        &signer(&state),
        document_id,
        query.expires,
        &query.signature,
        stream,
    )
    .await
    .map_err(upload_error)?;
    Ok(ApiJson(UploadReceived {
        document_id,
        received: true,
    }))
}

/// A completed upload: the document, and its detection job when one was asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompletedUpload {
    #[serde(flatten)]
    pub document: DocumentView,
    /// The detection job queued on completion (`"detect": true`).
    pub detection_job_id: Option<Uuid>,
}

/// Completes a presigned upload: what arrived is checked against the announcement (size,
/// SHA-256 when given, a type that is read and matches the name, no duplicate in the
/// project); only then is it a document. What fails a check is removed, and the URL takes
/// the file again until it expires.
#[utoipa::path(
    post,
    path = "/documents/{document_id}/complete",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The announced document")),
    responses(
        (status = 200, description = "The document, PENDING (or PROCESSING when its detection was queued)", body = CompletedUpload),
        (status = 400, description = "Nothing arrived, or what arrived is not what was announced (`upload_mismatch`) or not a type that is read", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload for this tenant, or it expired", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same content is in the project already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn complete_upload(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
) -> Result<ApiJson<CompletedUpload>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let request_id = request_id::current();
    let (record, job_id) = uploads::complete(
        &state.database,
        &state.blobs,
        Completion {
            tenant_id: principal.tenant_id,
            document_id,
            actor: actor(&principal),
            request_id: Some(&request_id),
            max_attempts: state.config.worker.max_attempts,
        },
    )
    .await
    .map_err(upload_error)?;
    Ok(ApiJson(CompletedUpload {
        document: record.into(),
        detection_job_id: job_id,
    }))
}
