//! Documents of a project: uploads stored as they arrive, listings and reads.
//!
//! An upload is streamed to blob storage with its SHA-256 computed on the way and the size
//! limit enforced before anything past it is read; its type is sniffed from its first bytes,
//! not trusted from its name. The document row is written only once the blob is whole, in
//! the transaction of its audit record.

use chrono::Utc;
use futures::{Stream, StreamExt};
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_documents::{DocumentError, Format, sniff};
use obscura_entity::documents;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    SqlErr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::database::{Database, DatabaseError};
use crate::projects::{self, ProjectError};
use crate::storage::{BlobStore, StorageError};

/// Bytes of a file's start that its type is sniffed from.
pub const SNIFF_BYTES: usize = 8 * 1024;
/// Longest file name kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;
/// Largest page of a listing.
pub const MAX_PAGE_SIZE: u64 = 200;

/// Why a document operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentServiceError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("document {0} does not exist")]
    NotFound(Uuid),
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    /// The bytes are of no type that is read, or not the type the name says.
    #[error("{0}")]
    Rejected(DocumentError),
    #[error("the same file is in this project already, as document {existing}")]
    Duplicate { existing: Uuid },
    /// A file name that cannot be kept: why.
    #[error("the file name {0}")]
    InvalidName(&'static str),
    /// The client's body broke off.
    #[error("the upload broke off: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("document storage: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Transaction(#[from] DatabaseError),
}

impl ErrorClass for DocumentServiceError {
    fn kind(&self) -> ErrorKind {
        match self {
            DocumentServiceError::Project(error) => error.kind(),
            DocumentServiceError::NotFound(_) => ErrorKind::NotFound,
            DocumentServiceError::TooLarge { .. } => ErrorKind::TooLarge,
            DocumentServiceError::Empty
            | DocumentServiceError::Rejected(_)
            | DocumentServiceError::InvalidName(_)
            | DocumentServiceError::Interrupted(_) => ErrorKind::Invalid,
            DocumentServiceError::Duplicate { .. } => ErrorKind::Conflict,
            DocumentServiceError::Storage(error) => error.kind(),
            DocumentServiceError::Database(_) => ErrorKind::Internal,
            DocumentServiceError::Transaction(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DocumentServiceError::Project(error) => error.code(),
            DocumentServiceError::NotFound(_) => "document_not_found",
            DocumentServiceError::TooLarge { .. } => "upload_too_large",
            DocumentServiceError::Empty => "empty_file",
            DocumentServiceError::Rejected(error) => error.code(),
            DocumentServiceError::Duplicate { .. } => "duplicate_document",
            DocumentServiceError::InvalidName(_) => "invalid_filename",
            DocumentServiceError::Interrupted(_) => "upload_interrupted",
            DocumentServiceError::Storage(error) => error.code(),
            DocumentServiceError::Database(_) => "database_error",
            DocumentServiceError::Transaction(error) => error.code(),
        }
    }
}

/// The states a document goes through.
pub mod state {
    pub const PENDING: &str = "PENDING";
    pub const PROCESSING: &str = "PROCESSING";
    pub const DETECTION_COMPLETE: &str = "DETECTION_COMPLETE";
    pub const ANONYMIZATION_COMPLETE: &str = "ANONYMIZATION_COMPLETE";
    pub const ERROR: &str = "ERROR";
}

/// Where a document's original is stored; document ids are unique across tenants, and
/// short keys suit every S3 implementation's limits.
pub fn original_key(document_id: Uuid) -> String {
    format!("documents/{document_id}/original")
}

/// An upload as it arrives.
#[derive(Debug)]
pub struct Upload<'a> {
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    /// The name the client gave; only its last path component is kept.
    pub filename: &'a str,
    pub max_bytes: u64,
    pub actor: Actor,
    pub request_id: Option<&'a str>,
}

/// Stores the body of an upload and records the document, PENDING; a file whose content the
/// project holds already is refused, naming the document that has it.
pub async fn upload<S, E>(
    database: &Database,
    blobs: &BlobStore,
    upload: Upload<'_>,
    body: S,
) -> Result<documents::Model, DocumentServiceError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    projects::find(database.orm(), upload.tenant_id, upload.project_id).await?;
    let filename = clean_filename(upload.filename)?;
    let document_id = Uuid::now_v7();
    let key = original_key(document_id);
    let stored = store(blobs, &key, &filename, upload.max_bytes, body).await?;
    if let Some(existing) = find_by_content(database.orm(), upload.project_id, &stored.sha256).await? {
        blobs.delete(&key).await?;
        return Err(DocumentServiceError::Duplicate { existing });
    }
    let now = Utc::now();
    let record = documents::Model {
        id: document_id,
        tenant_id: upload.tenant_id,
        project_id: upload.project_id,
        filename,
        format: Some(stored.format.extension().to_owned()),
        size: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: Some(stored.sha256.clone()),
        storage_key: key.clone(),
        page_count: None,
        state: state::PENDING.into(),
        error: None,
        error_detail: None,
        uploaded: true,
        upload_expires_at: None,
        version: 0,
        output_key: None,
        level: None,
        entities_replaced: None,
        leak_check: None,
        original_deleted: false,
        needs_anonymization: false,
        detected_at: None,
        anonymized_at: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        content_type: None,
        announced_sha256: None,
        detect_on_complete: false,
        upload_received_at: None,
    };
    let written = async {
        let tx = database.begin().await?;
        documents::ActiveModel::from(record.clone()).insert(&tx).await?;
        audit::record(
            &tx,
            AuditEvent {
                tenant_id: upload.tenant_id,
                actor: upload.actor,
                action: "document.upload",
                resource_type: "document",
                resource_id: Some(document_id),
                project_id: Some(upload.project_id),
                counts: Some(serde_json::json!({ "bytes": stored.size })),
                request_id: upload.request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, DocumentServiceError>(())
    }
    .await;
    if let Err(error) = written {
        // Nothing refers to the blob: remove it, whatever the failure was.
        blobs.delete(&key).await?;
        // Two uploads of the same content that raced: the second finds the first.
        if let DocumentServiceError::Database(db_error) = &error
            && matches!(db_error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
            && let Some(existing) = find_by_content(database.orm(), upload.project_id, &stored.sha256).await?
        {
            return Err(DocumentServiceError::Duplicate { existing });
        }
        return Err(error);
    }
    Ok(record)
}

/// A document of the tenant that finished uploading.
pub async fn get(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    document_id: Uuid,
) -> Result<documents::Model, DocumentServiceError> {
    documents::Entity::find_by_id(document_id)
        .filter(documents::Column::TenantId.eq(tenant_id))
        .filter(documents::Column::Uploaded.eq(true))
        .filter(documents::Column::DeletedAt.is_null())
        .one(database)
        .await?
        .ok_or(DocumentServiceError::NotFound(document_id))
}

/// A page of the tenant's documents that finished uploading, newest first, of one project
/// when given, and how many there are.
pub async fn list(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    project_id: Option<Uuid>,
    limit: u64,
    offset: u64,
) -> Result<(Vec<documents::Model>, u64), DocumentServiceError> {
    if let Some(project_id) = project_id {
        projects::find(database, tenant_id, project_id).await?;
    }
    let mut query = documents::Entity::find()
        .filter(documents::Column::TenantId.eq(tenant_id))
        .filter(documents::Column::Uploaded.eq(true))
        .filter(documents::Column::DeletedAt.is_null());
    if let Some(project_id) = project_id {
        query = query.filter(documents::Column::ProjectId.eq(project_id));
    }
    let total = query.clone().count(database).await?;
    let records = query
        .order_by_desc(documents::Column::CreatedAt)
        .order_by_desc(documents::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(database)
        .await?;
    Ok((records, total))
}

/// Takes a document out of listings at once and frees its content for a new upload; the
/// `delete` job removes it and its blobs.
pub async fn mark_deleted(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    document_id: Uuid,
) -> Result<documents::Model, DocumentServiceError> {
    // The write comes first, so that the transaction holds the write lock before it reads.
    let marked = documents::Entity::update_many()
        .col_expr(documents::Column::DeletedAt, Expr::value(Utc::now()))
        .col_expr(documents::Column::Sha256, Expr::value(Option::<String>::None))
        .filter(documents::Column::Id.eq(document_id))
        .filter(documents::Column::TenantId.eq(tenant_id))
        .filter(documents::Column::Uploaded.eq(true))
        .filter(documents::Column::DeletedAt.is_null())
        .exec(database)
        .await?;
    if marked.rows_affected == 0 {
        return Err(DocumentServiceError::NotFound(document_id));
    }
    documents::Entity::find_by_id(document_id)
        .one(database)
        .await?
        .ok_or(DocumentServiceError::NotFound(document_id))
}

/// Removes a deleted document's blobs, then its row (its entities and glossary occurrences
/// go with it). Running it again, or on a document already gone, does nothing.
pub async fn purge(
    database: &impl ConnectionTrait,
    blobs: &BlobStore,
    document_id: Uuid,
) -> Result<bool, DocumentServiceError> {
    let Some(record) = documents::Entity::find_by_id(document_id)
        .filter(documents::Column::DeletedAt.is_not_null())
        .one(database)
        .await?
    else {
        return Ok(false);
    };
    blobs.delete(&record.storage_key).await?;
    if let Some(output) = &record.output_key {
        blobs.delete(output).await?;
    }
    for derived in [
        crate::processing::output_text_key(document_id),
        crate::processing::output_table_key(document_id),
        crate::processing::units_key(document_id),
    ] {
        blobs.delete(&derived).await?;
    }
    documents::Entity::delete_by_id(document_id).exec(database).await?;
    Ok(true)
}

/// What was stored of an upload.
pub(crate) struct Stored {
    size: u64,
    sha256: String,
    format: Format,
}

/// Streams `body` into a blob under `key`, hashing it and sniffing its type; on any failure
/// nothing stays stored.
pub(crate) async fn store<S, E>(
    blobs: &BlobStore,
    key: &str,
    filename: &str,
    max_bytes: u64,
    mut body: S,
) -> Result<Stored, DocumentServiceError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut writer = blobs.writer(key).await?;
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut size: u64 = 0;
    let mut format = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                writer.abort().await;
                return Err(DocumentServiceError::Interrupted(error.to_string()));
            }
        };
        size += chunk.len() as u64;
        if size > max_bytes {
            writer.abort().await;
            return Err(DocumentServiceError::TooLarge { limit: max_bytes });
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_BYTES {
                match sniffed(&head, filename, false) {
                    Ok(found) => format = Some(found),
                    Err(error) => {
                        writer.abort().await;
                        return Err(error);
                    }
                }
            }
        }
        hasher.update(&chunk);
        if let Err(error) = writer.write(chunk).await {
            writer.abort().await;
            return Err(error.into());
        }
    }
    if size == 0 {
        writer.abort().await;
        return Err(DocumentServiceError::Empty);
    }
    let format = match format {
        Some(format) => format,
        None => match sniffed(&head, filename, true) {
            Ok(found) => found,
            Err(error) => {
                writer.abort().await;
                return Err(error);
            }
        },
    };
    writer.finish().await?;
    Ok(Stored {
        size,
        sha256: hex::encode(hasher.finalize()),
        format,
    })
}

/// The type of a file from its first bytes and its name. A file taken for text must look
/// like text: no NUL bytes, and UTF-8 (a character cut at the end of `head` is allowed
/// unless `whole`).
pub(crate) fn sniffed(head: &[u8], filename: &str, whole: bool) -> Result<Format, DocumentServiceError> {
    let format = sniff(head, Some(filename)).map_err(DocumentServiceError::Rejected)?;
    if format.is_text() {
        let valid = match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(error) => !whole && error.error_len().is_none(),
        };
        if !valid || head.contains(&0) {
            return Err(DocumentServiceError::Rejected(DocumentError::Unsupported(
                "the file is of no type that is read (PDF, DOCX, PNG, JPEG, TIFF, or UTF-8 text, CSV, JSON, HTML)"
                    .into(),
            )));
        }
    }
    Ok(format)
}

/// The last path component of a client's file name, checked.
pub(crate) fn clean_filename(name: &str) -> Result<String, DocumentServiceError> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(DocumentServiceError::InvalidName("is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(DocumentServiceError::InvalidName("holds control characters"));
    }
    if name.chars().count() > MAX_FILENAME_CHARS {
        return Err(DocumentServiceError::InvalidName("is longer than 255 characters"));
    }
    Ok(name.to_owned())
}

pub(crate) async fn find_by_content(
    database: &impl ConnectionTrait,
    project_id: Uuid,
    sha256: &str,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(documents::Entity::find()
        .filter(documents::Column::ProjectId.eq(project_id))
        .filter(documents::Column::Sha256.eq(sha256))
        .one(database)
        .await?
        .map(|record| record.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_component_of_a_name_is_kept_and_bad_names_are_refused() {
        assert_eq!(clean_filename("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_filename("C:\\Users\\ana\\acta.pdf").unwrap(), "acta.pdf");
        assert!(matches!(
            clean_filename("  "),
            Err(DocumentServiceError::InvalidName(_))
        ));
        assert!(matches!(
            clean_filename("a/.."),
            Err(DocumentServiceError::InvalidName(_))
        ));
        assert!(matches!(
            clean_filename("a\u{0}b"),
            Err(DocumentServiceError::InvalidName(_))
        ));
        assert!(clean_filename(&"x".repeat(256)).is_err());
    }

    #[test]
    fn text_must_look_like_text_and_binary_must_be_a_known_type() {
        assert_eq!(sniffed(b"Hola, Ana", "nota.txt", true).unwrap(), Format::Text);
        assert_eq!(sniffed(b"%PDF-1.7\n", "acta.pdf", true).unwrap(), Format::Pdf);
        // A name that lies, either way.
        assert!(sniffed(b"%PDF-1.7\n", "nota.txt", true).is_err());
        assert!(sniffed(b"plain words", "acta.pdf", true).is_err());
        // Unknown bytes are not text.
        assert!(sniffed(&[0x7f, b'E', b'L', b'F', 0, 1], "programa", true).is_err());
        assert!(sniffed(&[0xff, 0xfe, 0x41, 0x00], "nota.txt", true).is_err());
        // A character cut at the end of the sniffed head is fine, not at the end of the file.
        let cut = &"año".as_bytes()[..2];
        assert!(sniffed(cut, "nota.txt", false).is_ok());
        assert!(sniffed(cut, "nota.txt", true).is_err());
    }
}
