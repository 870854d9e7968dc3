//! A project's glossary: aliases by project or document (never originals), the admins'
//! audited export with originals, and merging and splitting entries.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use obscura_platform::documents as document_service;
use obscura_platform::glossary::{self, GlossaryChange, GlossaryError, GlossaryItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::projects::actor;
use crate::state::AppState;

/// One alias of a glossary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GlossaryEntryView {
    pub id: Uuid,
    pub alias: String,
    pub category: String,
    pub first_seen: DateTime<Utc>,
    /// Replacements made (in the document asked about, or in the whole project).
    pub occurrences: u64,
    pub documents: Vec<Uuid>,
    /// The entry it was merged into.
    pub merged_into: Option<Uuid>,
}

impl From<GlossaryItem> for GlossaryEntryView {
    fn from(item: GlossaryItem) -> GlossaryEntryView {
        GlossaryEntryView {
            id: item.id,
            alias: item.alias,
            category: item.category,
            first_seen: item.first_seen,
            occurrences: item.occurrences,
            documents: item.documents,
            merged_into: item.merged_into,
        }
    }
}

/// A glossary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GlossaryView {
    pub items: Vec<GlossaryEntryView>,
    pub total: usize,
}

fn glossary_error(error: GlossaryError) -> ApiError {
    ApiError::from_class(error)
}

/// Lists a project's glossary: each alias, its category, when it was first seen, how often
/// and in which documents it occurs. Never an original.
#[utoipa::path(
    get,
    path = "/projects/{project_id}/glossary",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id")),
    responses(
        (status = 200, description = "The glossary", body = GlossaryView),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_project_glossary(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
) -> Result<ApiJson<GlossaryView>, ApiError> {
    let items = glossary::list(state.database.orm(), principal.tenant_id, project_id, None)
        .await
        .map_err(glossary_error)?;
    Ok(ApiJson(view(items)))
}

/// Lists the glossary entries that occur in one document, with their occurrences in it.
#[utoipa::path(
    get,
    path = "/documents/{document_id}/glossary",
    tag = "documents",
    params(("document_id" = Uuid, Path, description = "The document id")),
    responses(
        (status = 200, description = "The document's glossary", body = GlossaryView),
        (status = 404, description = "No such document for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_document_glossary(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(document_id): ApiPath<Uuid>,
) -> Result<ApiJson<GlossaryView>, ApiError> {
    let document = document_service::get(state.database.orm(), principal.tenant_id, document_id).await?;
    let items = glossary::list(
        state.database.orm(),
        principal.tenant_id,
        document.project_id,
        Some(document_id),
    )
    .await
    .map_err(glossary_error)?;
    Ok(ApiJson(view(items)))
}

fn view(items: Vec<GlossaryItem>) -> GlossaryView {
    GlossaryView {
        total: items.len(),
        items: items.into_iter().map(GlossaryEntryView::from).collect(),
    }
}

/// The format of a glossary export.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GlossaryExportQuery {
    /// `csv` (the default) or `json`.
    pub format: Option<String>,
}

/// Exports a project's glossary with the originals, for admins; audited.
///
/// CSV columns: `alias, original, category, first_seen, occurrences, documents` (document
/// ids separated by `;`); JSON: an array of objects with those fields.
#[utoipa::path(
    get,
    path = "/projects/{project_id}/export/glossary",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id"), GlossaryExportQuery),
    responses(
        (status = 200, description = "The glossary with originals, as an attachment", content_type = "text/csv"),
        (status = 400, description = "A format that is none", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export_glossary(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<GlossaryExportQuery>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let format = query.format.as_deref().unwrap_or("csv").to_ascii_lowercase();
    if format != "csv" && format != "json" {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.format",
            "must be csv or json",
        ));
    }
    let keys = state.master_keys.vault_keys(principal.tenant_id);
    let request_id = request_id::current();
    let entries = glossary::export(
        &state.database,
        &keys,
        principal.tenant_id,
        project_id,
        actor(&principal),
        Some(&request_id),
    )
    .await
    .map_err(glossary_error)?;
    let (body, content_type) = if format == "json" {
        (
            serde_json::to_vec_pretty(&entries).map_err(ApiError::internal)?,
            "application/json",
        )
    } else {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record([
                "alias",
                "original",
                "category",
                "first_seen",
                "occurrences",
                "documents",
            ])
            .map_err(ApiError::internal)?;
        for entry in &entries {
            let documents: Vec<String> = entry.documents.iter().map(Uuid::to_string).collect();
            writer
                .write_record([
                    entry.alias.as_str(),
                    entry.original.as_str(),
                    entry.category.as_str(),
                    &entry.first_seen.to_rfc3339(),
                    &entry.occurrences.to_string(),
                    &documents.join(";"),
                ])
                .map_err(ApiError::internal)?;
        }
        (
            writer.into_inner().map_err(ApiError::internal)?,
            "text/csv; charset=utf-8",
        )
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"glossary-{project_id}.{format}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Entries to merge.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The entry whose alias the others take.
    pub target_id: Uuid,
    /// Entries of the same category that are the same person (or value).
    pub source_ids: Vec<Uuid>,
}

/// An entry to split.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    /// The entry that gets an alias of its own.
    pub entry_id: Uuid,
}

/// What a merge or split changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GlossaryChangeView {
    /// Entries whose alias changed.
    pub entries: Vec<Uuid>,
    /// Their alias now.
    pub alias: String,
    /// Documents marked to be anonymized again (`needs_anonymization`).
    pub documents_marked: u64,
}

impl From<GlossaryChange> for GlossaryChangeView {
    fn from(change: GlossaryChange) -> GlossaryChangeView {
        GlossaryChangeView {
            entries: change.entries,
            alias: change.alias,
            documents_marked: change.documents_marked,
        }
    }
}

/// Merges glossary entries: the sources take the target's alias (the same person written
/// two ways the variant rule did not join). The documents they occur in are marked to be
/// anonymized again.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/glossary/merge",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "What changed", body = GlossaryChangeView),
        (status = 400, description = "Entries of different categories, or none to merge", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or entry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn merge_glossary(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MergeRequest>,
) -> Result<ApiJson<GlossaryChangeView>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let request_id = request_id::current();
    let change = glossary::merge(
        &state.database,
        principal.tenant_id,
        project_id,
        body.target_id,
        &body.source_ids,
        actor(&principal),
        Some(&request_id),
    )
    .await
    .map_err(glossary_error)?;
    Ok(ApiJson(change.into()))
}

/// Splits a glossary entry: it gets an alias of its own, apart from the person the variant
/// rule (or a merge) joined it to. The documents it occurs in are marked to be anonymized
/// again.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/glossary/split",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id")),
    request_body = SplitRequest,
    responses(
        (status = 200, description = "What changed", body = GlossaryChangeView),
        (status = 400, description = "The entry has an alias of its own already", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or entry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn split_glossary(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SplitRequest>,
) -> Result<ApiJson<GlossaryChangeView>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    let request_id = request_id::current();
    let change = glossary::split(
        &state.database,
        principal.tenant_id,
        project_id,
        body.entry_id,
        actor(&principal),
        Some(&request_id),
    )
    .await
    .map_err(glossary_error)?;
    Ok(ApiJson(change.into()))
}
