//! What a project gives out whole: every anonymized document in one zip, streamed, with a
//! `report.json`; and its reviewed spans as labelled data (admins, audited).

use std::io::Write;

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use obscura_entity::documents;
use obscura_platform::annotations;
use obscura_platform::audit::{self, AuditEvent};
use obscura_platform::documents::state as document_state;
use obscura_platform::processing;
use obscura_platform::projects;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::{ApiError, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::document_exports::{anonymized_name, leak_check_passed, source_format};
use crate::routes::projects::actor;
use crate::state::AppState;

/// Chunks of the zip in flight between the thread that writes it and the response.
const ZIP_CHANNEL_CHUNKS: usize = 8;

/// The format of a project export.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectExportQuery {
    /// `zip`, the only one.
    pub format: Option<String>,
    /// Admins only: include documents whose leak check failed (audited).
    pub allow_leaks: Option<bool>,
}

/// Streams every anonymized document of a project as one zip, with a `report.json`.
///
/// Each document is in its original format (`{name}.anonymized.{ext}`). The report lists,
/// per document, its entity counts by category, its leak check, its level, and whether it
/// was left out; never an original. A document whose leak check failed is left out unless an
/// admin passes `allow_leaks=true`, which is audited.
#[utoipa::path(
    get,
    path = "/projects/{project_id}/export",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id"), ProjectExportQuery),
    responses(
        (status = 200, description = "The zip, streamed", content_type = "application/zip"),
        (status = 400, description = "A format that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`allow_leaks` from a key that is not an admin's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export_project(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ProjectExportQuery>,
) -> Result<Response, ApiError> {
    if !query.format.as_deref().unwrap_or("zip").eq_ignore_ascii_case("zip") {
        return Err(ApiError::invalid_field("invalid_query", "query.format", "must be zip"));
    }
    let allow_leaks = query.allow_leaks.unwrap_or(false);
    if allow_leaks {
        principal.require(&[Role::Admin])?;
    }
    let project = projects::find(state.database.orm(), principal.tenant_id, project_id).await?;
    let anonymized = documents::Entity::find()
        .filter(documents::Column::ProjectId.eq(project_id))
        .filter(documents::Column::TenantId.eq(principal.tenant_id))
        .filter(documents::Column::DeletedAt.is_null())
        .filter(documents::Column::State.eq(document_state::ANONYMIZATION_COMPLETE))
        .order_by_asc(documents::Column::CreatedAt)
        .all(state.database.orm())
        .await
        .map_err(ApiError::internal)?;
    let request_id = request_id::current();
    audit::record(
        state.database.orm(),
        AuditEvent {
            tenant_id: principal.tenant_id,
            actor: actor(&principal),
            action: if allow_leaks {
                "project.export_with_leaks"
            } else {
                "project.export"
            },
            resource_type: "project",
            resource_id: Some(project_id),
            project_id: Some(project_id),
            counts: Some(serde_json::json!({ "documents": anonymized.len() })),
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;

    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(ZIP_CHANNEL_CHUNKS);
    let blobs = state.blobs.clone();
    let runtime = tokio::runtime::Handle::current();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let failed = sender.clone();
        if let Err(error) = write_zip(&runtime, &blobs, &anonymized, allow_leaks, ChannelWriter { sender }) {
            tracing::error!(error = %error, "the project export broke off");
            // The client sees a broken stream, never a zip that looks whole.
            let _ = failed.blocking_send(Err(std::io::Error::other("the export broke off")));
        }
    });
    let stream = tokio_stream_of(receiver);
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    let name: String = project
        .name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.anonymized.zip\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The receiving end of the zip's channel, as a body stream.
fn tokio_stream_of(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |context| receiver.poll_recv(context))
}

/// Sends what the zip writer writes down the channel, in chunks.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.sender
            .blocking_send(Ok(buffer.to_vec()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the zip: each document's output, fetched one at a time, then the report.
fn write_zip(
    runtime: &tokio::runtime::Handle,
    blobs: &obscura_platform::storage::BlobStore,
    anonymized: &[documents::Model],
    allow_leaks: bool,
    writer: ChannelWriter,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut zip = zip::ZipWriter::new_stream(std::io::BufWriter::with_capacity(64 * 1024, writer));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut names = std::collections::BTreeSet::new();
    let mut report = Vec::with_capacity(anonymized.len());
    for document in anonymized {
        let passed = leak_check_passed(document);
        let counts = runtime
            .block_on(blobs.get(&processing::output_text_key(document.id)))
            .ok()
            .and_then(|stored| serde_json::from_slice::<serde_json::Value>(&stored).ok())
            .map(|stored| counts_by_category(&stored))
            .unwrap_or_default();
        let included = passed || allow_leaks;
        let mut file = None;
        if included && let Some(key) = &document.output_key {
            let bytes = runtime.block_on(blobs.get(key))?;
            let extension = source_format(document).extension();
            let mut name = anonymized_name(&document.filename, extension, None);
            if !names.insert(name.clone()) {
                name = anonymized_name(&document.filename, extension, Some(document.id));
                names.insert(name.clone());
            }
            zip.start_file(name.as_str(), options)?;
            zip.write_all(&bytes)?;
            file = Some(name);
        }
        report.push(serde_json::json!({
            "document_id": document.id,
            "file": file,
            "level": document.level,
            "entities_replaced": document.entities_replaced,
            "entities_by_category": counts,
            "leak_check": document.leak_check,
            "excluded": if included { serde_json::Value::Null } else { "leak_check_failed".into() },
        }));
    }
    zip.start_file("report.json", options)?;
    zip.write_all(&serde_json::to_vec_pretty(&serde_json::json!({ "documents": report }))?)?;
    let mut inner = zip.finish()?.into_inner();
    inner.flush()?;
    Ok(())
}

/// Entity counts by category of a stored `{text, entities}` output.
fn counts_by_category(stored: &serde_json::Value) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for entity in stored["entities"].as_array().into_iter().flatten() {
        if let Some(kind) = entity["entity_type"].as_str() {
            *counts.entry(kind.to_owned()).or_default() += 1;
        }
    }
    counts
}

/// The format of labelled data.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnotationsQuery {
    /// `jsonl`, the only one.
    pub format: Option<String>,
}

/// Exports the project's reviewed spans as labelled data, for `obscura models train`; admins
/// only, audited, since it holds the documents' text.
///
/// One JSON object a line: `{"id", "lang", "text", "spans": [{"start", "end", "label"}]}`,
/// a line per unit of text (a page, a paragraph) of each detected document whose original is
/// kept. Spans are those detected, accepted, edited and added; rejected ones are left out.
#[utoipa::path(
    get,
    path = "/projects/{project_id}/annotations",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id"), AnnotationsQuery),
    responses(
        (status = 200, description = "Labelled data, one JSON object a line", content_type = "application/x-ndjson"),
        (status = 400, description = "A format that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export_annotations(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<AnnotationsQuery>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    if !query.format.as_deref().unwrap_or("jsonl").eq_ignore_ascii_case("jsonl") {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.format",
            "must be jsonl",
        ));
    }
    let request_id = request_id::current();
    let lines = annotations::export(
        &state.database,
        &state.blobs,
        principal.tenant_id,
        project_id,
        actor(&principal),
        Some(&request_id),
    )
    .await
    .map_err(ApiError::from_class)?;
    let mut body = Vec::new();
    for line in &lines {
        serde_json::to_writer(&mut body, line).map_err(ApiError::internal)?;
        body.push(b'\n');
    }
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"annotations-{project_id}.jsonl\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
