//! Document jobs: asking for a detection or an anonymization, and running them.
//!
//! A request moves the document to PROCESSING with a compare-and-set on its `version` and
//! queues the job in the same transaction; the job carries the version it was asked at. A
//! job ends with another compare-and-set from that version, in the transaction that stores
//! its results, so a job that runs twice (a retry, a redelivery after a lost acknowledgement)
//! finds the version moved on and does nothing: one set of entities, one audit record, one
//! output. Parsing, OCR, NER and anonymization run on blocking threads.

mod anonymize;
mod detect;
mod gate;
mod pipeline;
mod request;

use std::sync::Arc;

use obscura_detection::catalog::Catalog;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_documents::{DocumentError, Limits};
use obscura_entity::documents;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use anonymize::{AnonymizeRun, anonymize};
pub use detect::{DetectRun, Reporter, Step, detect};
pub use request::{JobRequest, request_anonymization, request_detection, request_detection_in};

use crate::database::DatabaseError;
use crate::documents::{DocumentServiceError, state};
use crate::jobs::JobError;
use crate::projects::ProjectError;
use crate::secrets::MasterKeys;
use crate::services::ServiceError;
use crate::storage::{BlobStore, StorageError};

/// What document jobs run with.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Pattern packs, profiles and their detectors (with the NER model when loaded).
    pub catalog: Arc<Catalog>,
    pub master_keys: Arc<MasterKeys>,
    /// Limits against hostile files, and the longest a document may take.
    pub limits: Limits,
}

/// How many times an anonymization runs again when another one changed the project's
/// glossary while it ran.
pub const GLOSSARY_TRIES: usize = 5;

/// Why a document job could not be asked for or could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProcessingError {
    #[error(transparent)]
    Document(#[from] DocumentServiceError),
    #[error("document {0} is being processed; wait for its job to end")]
    Busy(Uuid),
    #[error("document {0} has not been through detection; detect it first")]
    NotDetected(Uuid),
    #[error("the original of document {0} was deleted after anonymization (the project does not keep originals)")]
    OriginalDeleted(Uuid),
    #[error("document {0} has not been anonymized")]
    NotAnonymized(Uuid),
    /// The file cannot be processed: the engine's reason, a stable state of the document.
    #[error("{0}")]
    Failed(#[from] DocumentError),
    #[error("the project's glossary kept changing while the document was anonymized")]
    Contended,
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("document storage: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Transaction(#[from] DatabaseError),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("vault: {0}")]
    Vault(#[from] obscura_anonymization::vault::VaultError),
    #[error("stored data could not be read: {0}")]
    Stored(String),
}

impl From<ProjectError> for ProcessingError {
    fn from(error: ProjectError) -> ProcessingError {
        ProcessingError::Document(DocumentServiceError::Project(error))
    }
}

impl ProcessingError {
    /// Whether running the job again cannot help: the document goes to ERROR with
    /// [`ErrorClass::code`].
    pub fn is_permanent(&self) -> bool {
        match self {
            // A file that timed out takes as long again.
            ProcessingError::Failed(_) => true,
            ProcessingError::Service(error) => error.kind() == ErrorKind::Invalid,
            ProcessingError::Document(_)
            | ProcessingError::Busy(_)
            | ProcessingError::NotDetected(_)
            | ProcessingError::OriginalDeleted(_)
            | ProcessingError::NotAnonymized(_)
            | ProcessingError::Contended
            | ProcessingError::Storage(_)
            | ProcessingError::Database(_)
            | ProcessingError::Transaction(_)
            | ProcessingError::Job(_)
            | ProcessingError::Vault(_)
            | ProcessingError::Stored(_) => false,
        }
    }
}

impl ErrorClass for ProcessingError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProcessingError::Document(error) => error.kind(),
            ProcessingError::Busy(_) | ProcessingError::OriginalDeleted(_) => ErrorKind::Conflict,
            ProcessingError::NotDetected(_) | ProcessingError::NotAnonymized(_) => ErrorKind::Unsupported,
            ProcessingError::Failed(error) => error.kind(),
            ProcessingError::Contended => ErrorKind::Unavailable,
            ProcessingError::Service(error) => error.kind(),
            ProcessingError::Storage(error) => error.kind(),
            ProcessingError::Transaction(error) => error.kind(),
            ProcessingError::Job(error) => error.kind(),
            ProcessingError::Database(error) if crate::database::query_unavailable(error) => ErrorKind::Unavailable,
            ProcessingError::Database(_) | ProcessingError::Vault(_) | ProcessingError::Stored(_) => {
                ErrorKind::Internal
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ProcessingError::Document(error) => error.code(),
            ProcessingError::Busy(_) => "document_busy",
            ProcessingError::NotDetected(_) => "not_detected",
            ProcessingError::OriginalDeleted(_) => "original_deleted",
            ProcessingError::NotAnonymized(_) => "not_anonymized",
            ProcessingError::Failed(error) => error.code(),
            ProcessingError::Contended => "glossary_contended",
            ProcessingError::Service(error) => error.code(),
            ProcessingError::Storage(error) => error.code(),
            ProcessingError::Transaction(error) => error.code(),
            ProcessingError::Job(error) => error.code(),
            ProcessingError::Database(error) if crate::database::query_unavailable(error) => "database_unavailable",
            ProcessingError::Database(_) => "database_error",
            ProcessingError::Vault(_) | ProcessingError::Stored(_) => "internal_error",
        }
    }
}

/// Where a document's anonymized output is stored, in its original format.
pub fn output_key(document_id: Uuid) -> String {
    format!("documents/{document_id}/output")
}

/// Where the anonymized text and its entities (`{text, entities}`, aliases and positions,
/// never originals) are stored, for the text, JSON, PDF and DOCX exports.
pub fn output_text_key(document_id: Uuid) -> String {
    format!("documents/{document_id}/output.json")
}

/// Where the units of text a document was read as are stored (`[{location, paragraph,
/// text}]`), for labelled-data exports of its review; they hold originals, and go with the
/// original.
pub fn units_key(document_id: Uuid) -> String {
    format!("documents/{document_id}/units.json")
}

/// A unit of text a document was read as, as stored beside its original (see [`units_key`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredUnit {
    pub location: String,
    pub paragraph: Option<usize>,
    pub text: String,
}

/// The units of text stored for a document; `None` when it has none: a CSV or JSON file, a
/// document detected before they were kept, or one whose original was deleted.
pub async fn stored_units(blobs: &BlobStore, document_id: Uuid) -> Result<Option<Vec<StoredUnit>>, StorageError> {
    let key = units_key(document_id);
    match blobs.get(&key).await {
        Ok(stored) => serde_json::from_slice(&stored)
            .map(Some)
            .map_err(|error| StorageError::Backend {
                operation: "parse",
                key,
                source: Box::new(error),
            }),
        Err(StorageError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Where the table of replaced entities is stored, for the CSV export.
pub fn output_table_key(document_id: Uuid) -> String {
    format!("documents/{document_id}/output.csv")
}

/// The document a job works on, when it is still at the version the job was asked at;
/// `None` when it was deleted, or when the job was overtaken or already ran.
async fn current(
    database: &impl ConnectionTrait,
    document_id: Uuid,
    version: i64,
) -> Result<Option<documents::Model>, sea_orm::DbErr> {
    Ok(documents::Entity::find_by_id(document_id)
        .filter(documents::Column::DeletedAt.is_null())
        .one(database)
        .await?
        .filter(|document| document.version == version && document.state == state::PROCESSING))
}

/// Puts a document whose job failed for good in ERROR with the failure's stable code and
/// its words, if the job still owns it. The words never hold document content.
pub async fn fail(
    database: &impl ConnectionTrait,
    document_id: Uuid,
    version: i64,
    code: &str,
    detail: &str,
) -> Result<bool, sea_orm::DbErr> {
    let updated = documents::Entity::update_many()
        .col_expr(documents::Column::State, Expr::value(state::ERROR))
        .col_expr(documents::Column::Error, Expr::value(code))
        .col_expr(documents::Column::ErrorDetail, Expr::value(detail))
        .col_expr(
            documents::Column::Version,
            Expr::col(documents::Column::Version).add(Expr::value(1)),
        )
        .col_expr(documents::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(documents::Column::Id.eq(document_id))
        .filter(documents::Column::Version.eq(version))
        .filter(documents::Column::State.eq(state::PROCESSING))
        .exec(database)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The language a project's documents are detected in; `None` for each document's own.
fn detection_language(project: &obscura_entity::projects::Model) -> Option<String> {
    match crate::projects::language_of(project) {
        crate::projects::ProjectLanguage::Auto => None,
        language @ (crate::projects::ProjectLanguage::Es | crate::projects::ProjectLanguage::En) => {
            Some(language.as_str().to_owned())
        }
    }
}

/// Counts by category, for audit records and reports.
fn counts_by_category<'a>(categories: impl Iterator<Item = &'a str>) -> serde_json::Value {
    let mut counts = std::collections::BTreeMap::<&str, u64>::new();
    for category in categories {
        *counts.entry(category).or_default() += 1;
    }
    serde_json::json!(counts)
}
