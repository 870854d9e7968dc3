//! A document's anonymization: its summary with the leak check, and its exports in every
//! format.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use obscura_documents::{ExportFormat, Format};
use obscura_entity::glossary_occurrences;
use obscura_platform::audit::{self, AuditEvent};
use obscura_platform::documents::{self as document_service};
use obscura_platform::processing::{self, ProcessingError};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::projects::actor;
use crate::state::AppState;

/// The media type of a format's files.
fn media_type(format: Format) -> &'static str {
    match format {
        Format::Text => "text/plain; charset=utf-8",
        Format::Markdown => "text/markdown; charset=utf-8",
        Format::Csv => "text/csv; charset=utf-8",
        Format::Json => "application/json",
        Format::Html => "text/html; charset=utf-8",
        Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Format::Pdf => "application/pdf",
        Format::Png => "image/png",
        Format::Jpeg => "image/jpeg",
        Format::Tiff => "image/tiff",
    }
}

/// A document's anonymization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnonymizedView {
    pub document_id: Uuid,
    /// `BASIC`, `INTERMEDIATE` or `ADVANCED`.
    pub level: Option<String>,
    pub entities_replaced: Option<i32>,
    /// Glossary entries that occur in the document.
    pub glossary_entries: u64,
    pub completed_at: Option<DateTime<Utc>>,
    /// `{status: passed|failed, checked, too_short, leaks: [{entity_type, location, found_in}]}`:
    /// the output was read again and no original value may remain in it.
    #[schema(value_type = Object)]
    pub leak_check: Option<serde_json::Value>,
    /// Review decisions changed after it: anonymize again to apply them.
    pub needs_anonymization: bool,
    /// Whether the original was deleted (the project does not keep originals).
    pub original_deleted: bool,
}

/// Reads a document's anonymization: level, counts, completion and leak check.
#[utoipa::path(
    get,
    path = "/documents/{document_id}/anonymized",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    responses(
        (status = 200, description = "The anonymization", body = AnonymizedView),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The document has not been anonymized (`not_anonymized`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_anonymized(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
) -> Result<ApiJson<AnonymizedView>, ApiError> {
    let document = document_service::get(state.database.orm(), principal.tenant_id, document_id).await?;
    if document.anonymized_at.is_none() {
        return Err(ApiError::from_class(ProcessingError::NotAnonymized(document_id)));
    }
    let glossary_entries = glossary_occurrences::Entity::find()
        .filter(glossary_occurrences::Column::DocumentId.eq(document_id))
        .count(state.database.orm())
        .await
        .map_err(ApiError::internal)?;
    Ok(ApiJson(AnonymizedView {
        document_id,
        level: document.level,
        entities_replaced: document.entities_replaced,
        glossary_entries,
        completed_at: document.anonymized_at,
        leak_check: document.leak_check,
        needs_anonymization: document.needs_anonymization,
        original_deleted: document.original_deleted,
    }))
}

/// The format of an export, and whether an admin takes a failed leak check upon themselves.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `original` (the default), `pdf`, `docx`, `txt`, `json` or `csv`.
    pub format: Option<String>,
    /// Admins only: export although the leak check failed (audited).
    pub allow_leaks: Option<bool>,
}

/// Exports an anonymized document as a file.
///
/// `original` is the output in the document's own format; `pdf` and `docx` are that output
/// for PDFs and Word files, and a new file of the anonymized text for others; `txt` is the
/// anonymized text; `json` the text with its entities (aliases and positions, never
/// originals); `csv` a table of the entities. A document whose leak check failed is refused
/// (409 `leak_check_failed`) unless an admin passes `allow_leaks=true`, which is audited.
#[utoipa::path(
    post,
    path = "/documents/{document_id}/export",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id"), ExportQuery),
    responses(
        (status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"),
        (status = 400, description = "A format that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`allow_leaks` from a key that is not an admin's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The leak check failed (`leak_check_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The document has not been anonymized (`not_anonymized`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export_document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let format_name = query.format.as_deref().unwrap_or("original");
    let Some(format) = ExportFormat::parse(format_name) else {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.format",
            "must be original, pdf, docx, txt, json or csv",
        ));
    };
    let allow_leaks = query.allow_leaks.unwrap_or(false);
    if allow_leaks {
        principal.require(&[Role::Admin])?;
    }
    let document = document_service::get(state.database.orm(), principal.tenant_id, document_id).await?;
    let Some(output_key) = document.output_key.clone().filter(|_| document.anonymized_at.is_some()) else {
        return Err(ApiError::from_class(ProcessingError::NotAnonymized(document_id)));
    };
    let passed = leak_check_passed(&document);
    if !passed && !allow_leaks {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "leak_check_failed",
            "the leak check of this document's output failed: an original value may remain in it; see GET /api/v1/documents/{id}/anonymized, review and anonymize again, or export as an admin with allow_leaks=true",
        ));
    }
    let source = source_format(&document);
    let text = || async {
        let stored = state.blobs.get(&processing::output_text_key(document_id)).await?;
        let value: serde_json::Value = serde_json::from_slice(&stored).map_err(ApiError::internal)?;
        Ok::<_, ApiError>((
            stored.clone(),
            value
                .get("text")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ))
    };
    let (bytes, extension, content_type): (axum::body::Bytes, &str, &str) = match format {
        ExportFormat::Original => (
            state.blobs.get(&output_key).await?,
            source.extension(),
            media_type(source),
        ),
        ExportFormat::Pdf if source == Format::Pdf => (state.blobs.get(&output_key).await?, "pdf", "application/pdf"),
        ExportFormat::Docx if source == Format::Docx => {
            (state.blobs.get(&output_key).await?, "docx", media_type(Format::Docx))
        }
        ExportFormat::Pdf => (
            obscura_documents::pdf::write_text(&text().await?.1)
                .map_err(ApiError::internal)?
                .into(),
            "pdf",
            "application/pdf",
        ),
        ExportFormat::Docx => (
            obscura_documents::docx::write_text(&text().await?.1)
                .map_err(ApiError::internal)?
                .into(),
            "docx",
            media_type(Format::Docx),
        ),
        ExportFormat::Txt => (text().await?.1.into_bytes().into(), "txt", "text/plain; charset=utf-8"),
        ExportFormat::Json => (text().await?.0, "json", "application/json"),
        ExportFormat::Csv => (
            state.blobs.get(&processing::output_table_key(document_id)).await?,
            "csv",
            "text/csv; charset=utf-8",
        ),
    };
    let request_id = request_id::current();
    audit::record(
        state.database.orm(),
        AuditEvent {
            tenant_id: principal.tenant_id,
            actor: actor(&principal),
            action: if passed {
                "document.export"
            } else {
                "document.export_with_leaks"
            },
            resource_type: "document",
            resource_id: Some(document_id),
            project_id: Some(document.project_id),
            counts: Some(serde_json::json!({ "bytes": bytes.len() })),
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;
    let filename = anonymized_name(&document.filename, extension, None);
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&filename)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Whether the leak check of a document's output passed.
pub(crate) fn leak_check_passed(document: &obscura_entity::documents::Model) -> bool {
    document
        .leak_check
        .as_ref()
        .and_then(|check| check.get("status"))
        .and_then(serde_json::Value::as_str)
        == Some("passed")
}

/// The format a document was sniffed as.
pub(crate) fn source_format(document: &obscura_entity::documents::Model) -> Format {
    Format::from_extension(&format!("file.{}", document.format.as_deref().unwrap_or("txt"))).unwrap_or(Format::Text)
}

/// The name of an anonymized output: `acta.pdf` in `pdf` is `acta.anonymized.pdf`, with a
/// tag (a document id) before `anonymized` when the plain name is taken.
pub(crate) fn anonymized_name(filename: &str, extension: &str, tag: Option<Uuid>) -> String {
    let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    match tag {
        Some(tag) => format!("{stem}.{tag}.anonymized.{extension}"),
        None => format!("{stem}.anonymized.{extension}"),
    }
}

/// An attachment header with an ASCII fallback name and the UTF-8 name (RFC 6266).
fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '.' | '-' | '_' | ' ') {
                character
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_are_safe_and_keep_their_unicode() {
        assert_eq!(
            content_disposition("acta \"1\".pdf"),
            "attachment; filename=\"acta _1_.pdf\"; filename*=UTF-8''acta%20%221%22.pdf"
        );
        assert!(content_disposition("señora.txt").contains("filename*=UTF-8''se%C3%B1ora.txt"));
    }
}
