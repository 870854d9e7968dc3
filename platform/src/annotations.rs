//! Reviewed spans as labelled data: each unit of text of a project's detected documents,
//! with the spans its review kept (detected, accepted, edited and added; never rejected),
//! one JSON object a line, as `obscura models train` and `obscura eval` read them:
//! `{"id", "lang", "text", "spans": [{"start", "end", "label"}]}`.

use std::collections::BTreeMap;

use obscura_entity::{document_entities, documents};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::database::Database;
use crate::documents::DocumentServiceError;
use crate::processing::stored_units;
use crate::projects::{self, ProjectLanguage};
use crate::review::status;
use crate::storage::{BlobStore, StorageError};

/// Why labelled data could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnnotationError {
    #[error(transparent)]
    Document(#[from] DocumentServiceError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("annotation storage: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl From<projects::ProjectError> for AnnotationError {
    fn from(error: projects::ProjectError) -> AnnotationError {
        AnnotationError::Document(DocumentServiceError::Project(error))
    }
}

impl obscura_detection::ErrorClass for AnnotationError {
    fn kind(&self) -> obscura_detection::ErrorKind {
        match self {
            AnnotationError::Document(error) => error.kind(),
            AnnotationError::Storage(error) => error.kind(),
            AnnotationError::Database(_) => obscura_detection::ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AnnotationError::Document(error) => error.code(),
            AnnotationError::Storage(error) => error.code(),
            AnnotationError::Database(_) => "database_error",
        }
    }
}

/// One labelled line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotated {
    pub id: String,
    pub lang: String,
    pub text: String,
    pub spans: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub start: i64,
    pub end: i64,
    pub label: String,
}

/// The labelled lines of a project: every unit of every document that was detected and
/// still has its original; the export is audited with its counts.
pub async fn export(
    database: &Database,
    blobs: &BlobStore,
    tenant_id: Uuid,
    project_id: Uuid,
    actor: Actor,
    request_id: Option<&str>,
) -> Result<Vec<Annotated>, AnnotationError> {
    let project = projects::find(database.orm(), tenant_id, project_id).await?;
    let lang = match projects::language_of(&project) {
        ProjectLanguage::Es => "es",
        ProjectLanguage::En | ProjectLanguage::Auto => "en",
    };
    let detected = documents::Entity::find()
        .filter(documents::Column::ProjectId.eq(project_id))
        .filter(documents::Column::TenantId.eq(tenant_id))
        .filter(documents::Column::DeletedAt.is_null())
        .filter(documents::Column::DetectedAt.is_not_null())
        .filter(documents::Column::OriginalDeleted.eq(false))
        .order_by_asc(documents::Column::CreatedAt)
        .all(database.orm())
        .await?;
    let mut lines = Vec::new();
    let mut spans_written = 0;
    for document in &detected {
        // Detected before units were kept, or structured: nothing to label.
        let Some(units) = stored_units(blobs, document.id).await? else {
            continue;
        };
        let entities = document_entities::Entity::find()
            .filter(document_entities::Column::DocumentId.eq(document.id))
            .filter(document_entities::Column::Status.ne(status::REJECTED))
            .order_by_asc(document_entities::Column::Start)
            .all(database.orm())
            .await?;
        let mut by_unit: BTreeMap<(String, Option<i32>), Vec<Span>> = BTreeMap::new();
        for entity in entities {
            let Some(location) = entity.location else { continue };
            by_unit.entry((location, entity.paragraph)).or_default().push(Span {
                start: entity.start,
                end: entity.end,
                label: entity.category,
            });
        }
        for unit in units {
            let paragraph = unit.paragraph.and_then(|paragraph| i32::try_from(paragraph).ok());
            let spans = by_unit.remove(&(unit.location.clone(), paragraph)).unwrap_or_default();
            let length = unit.text.chars().count() as i64;
            let spans: Vec<Span> = spans
                .into_iter()
                .filter(|span| 0 <= span.start && span.start < span.end && span.end <= length)
                .collect();
            spans_written += spans.len();
            let id = match unit.paragraph {
                Some(paragraph) => format!("{}:{}:{paragraph}", document.id, unit.location),
                None => format!("{}:{}", document.id, unit.location),
            };
            lines.push(Annotated {
                id,
                lang: lang.to_owned(),
                text: unit.text,
                spans,
            });
        }
    }
    audit::record(
        database.orm(),
        AuditEvent {
            tenant_id,
            actor,
            action: "project.annotations_export",
            resource_type: "project",
            resource_id: Some(project_id),
            project_id: Some(project_id),
            counts: Some(
                serde_json::json!({ "documents": detected.len(), "lines": lines.len(), "spans": spans_written }),
            ),
            request_id,
        },
    )
    .await?;
    Ok(lines)
}
