//! Presigned uploads: the client announces a file, sends its bytes straight to storage (an
//! S3 presigned PUT, or in embedded mode the API's own URL, signed with HMAC, that takes one
//! PUT), and completes it. Only a completed upload whose size, SHA-256 and type check out is
//! a document; one never completed is removed after its expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::Stream;
use hmac::{Hmac, Mac};
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_entity::documents;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, SqlErr};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::database::{Database, DatabaseError};
use crate::documents::{
    DocumentServiceError, SNIFF_BYTES, clean_filename, find_by_content, original_key, sniffed, state, store,
};
use crate::jobs::DetectionSettings;
use crate::processing::{JobRequest, ProcessingError, request_detection_in};
use crate::projects;
use crate::storage::{BlobStore, StorageError};

/// Media types an upload may announce.
pub const MEDIA_TYPES: [&str; 11] = [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/json",
    "text/html",
    "application/octet-stream",
];

/// Expired uploads removed per sweep.
const SWEEP_BATCH: u64 = 100;

/// Why an upload could not be announced, received or completed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Document(#[from] DocumentServiceError),
    #[error("{field} {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the upload URL is not valid: {0}")]
    BadSignature(&'static str),
    #[error("the upload URL expired; announce the file again")]
    Expired,
    #[error("this upload URL took its one PUT already")]
    AlreadyReceived,
    #[error("nothing arrived for this upload; send the file to its upload URL first")]
    Missing,
    /// What arrived is not what was announced: which and why.
    #[error("what arrived differs from what was announced: {0}; send the file again")]
    Mismatch(String),
    #[error(transparent)]
    Processing(#[from] ProcessingError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("upload storage: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Transaction(#[from] DatabaseError),
}

impl From<projects::ProjectError> for UploadError {
    fn from(error: projects::ProjectError) -> UploadError {
        UploadError::Document(DocumentServiceError::Project(error))
    }
}

impl ErrorClass for UploadError {
    fn kind(&self) -> ErrorKind {
        match self {
            UploadError::Document(error) => error.kind(),
            UploadError::Invalid { .. } | UploadError::Missing | UploadError::Mismatch(_) => ErrorKind::Invalid,
            UploadError::BadSignature(_) => ErrorKind::Forbidden,
            UploadError::Expired => ErrorKind::NotFound,
            UploadError::AlreadyReceived => ErrorKind::Conflict,
            UploadError::Processing(error) => error.kind(),
            UploadError::Storage(error) => error.kind(),
            UploadError::Database(_) => ErrorKind::Internal,
            UploadError::Transaction(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            UploadError::Document(error) => error.code(),
            UploadError::Invalid { .. } => "invalid_body",
            UploadError::BadSignature(_) => "upload_url_invalid",
            UploadError::Expired => "upload_expired",
            UploadError::AlreadyReceived => "upload_already_received",
            UploadError::Missing => "upload_missing",
            UploadError::Mismatch(_) => "upload_mismatch",
            UploadError::Processing(error) => error.code(),
            UploadError::Storage(error) => error.code(),
            UploadError::Database(_) => "database_error",
            UploadError::Transaction(error) => error.code(),
        }
    }
}

/// A file a client announces.
#[derive(Debug, Clone)]
pub struct Announcement<'a> {
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub filename: &'a str,
    pub size: u64,
    pub content_type: &'a str,
    /// Hex SHA-256 the completion checks, when the client gives it.
    pub sha256: Option<&'a str>,
    /// Queue the detection when the upload completes.
    pub detect: bool,
    /// The largest size allowed.
    pub max_bytes: u64,
    pub ttl: Duration,
}

/// Where and how to send the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub document_id: Uuid,
    pub upload_url: String,
    pub method: String,
    /// Headers the PUT must carry as given.
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

/// Signs and checks the API's own upload URLs.
#[derive(Clone)]
pub struct UploadSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UploadSigner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("UploadSigner")
    }
}

impl UploadSigner {
    pub fn new(key: [u8; 32]) -> UploadSigner {
        UploadSigner { key }
    }

    fn mac(&self, document_id: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("upload\0{document_id}\0{expires}").as_bytes());
        mac
    }

    /// The signature of an upload URL.
    pub fn sign(&self, document_id: Uuid, expires: i64) -> String {
        hex::encode(self.mac(document_id, expires).finalize().into_bytes())
    }

    /// Checks a signature (in constant time) and the expiry.
    pub fn verify(&self, document_id: Uuid, expires: i64, signature: &str) -> Result<(), UploadError> {
        let bytes = hex::decode(signature).map_err(|_| UploadError::BadSignature("the signature is not hex"))?;
        self.mac(document_id, expires)
            .verify_slice(&bytes)
            .map_err(|_| UploadError::BadSignature("the signature does not match"))?;
        if Utc::now().timestamp() > expires {
            return Err(UploadError::Expired);
        }
        Ok(())
    }
}

/// Records an announced upload and says where to send it: an S3 presigned PUT with the size
/// and type signed, or the API's own URL (`{public_url}/uploads/{id}`) when blobs are on the
/// local disk.
pub async fn announce(
    database: &Database,
    blobs: &BlobStore,
    signer: &UploadSigner,
    public_url: &str,
    announcement: Announcement<'_>,
    actor: Actor,
    request_id: Option<&str>,
) -> Result<Presigned, UploadError> {
    // Uploads abandoned earlier go first; a failure here does not stop this one.
    if let Err(error) = sweep_expired(database, blobs).await {
        tracing::warn!(error = %error, "could not remove expired uploads");
    }
    projects::find(database.orm(), announcement.tenant_id, announcement.project_id).await?;
    let filename = clean_filename(announcement.filename)?;
    if announcement.size == 0 {
        return Err(DocumentServiceError::Empty.into());
    }
    if announcement.size > announcement.max_bytes {
        return Err(DocumentServiceError::TooLarge {
            limit: announcement.max_bytes,
        }
        .into());
    }
    let content_type = announcement.content_type.trim().to_ascii_lowercase();
    if !MEDIA_TYPES.contains(&content_type.as_str()) {
        return Err(UploadError::Invalid {
            field: "body.content_type",
            message: format!("must be one of {}", MEDIA_TYPES.join(", ")),
        });
    }
    let sha256 = match announcement.sha256 {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
            Some(hash.to_ascii_lowercase())
        }
        Some(_) => {
            return Err(UploadError::Invalid {
                field: "body.sha256",
                message: "must be 64 hexadecimal digits".into(),
            });
        }
        None => None,
    };
    let ttl = chrono::Duration::from_std(announcement.ttl).unwrap_or(chrono::Duration::hours(1));
    let now = Utc::now();
    let expires_at = now + ttl;
    let document_id = Uuid::now_v7();
    let key = original_key(document_id);
    let record = documents::Model {
        id: document_id,
        tenant_id: announcement.tenant_id,
        project_id: announcement.project_id,
        filename,
        format: None,
        size: i64::try_from(announcement.size).unwrap_or(i64::MAX),
        sha256: None,
        storage_key: key.clone(),
        page_count: None,
        state: state::PENDING.into(),
        error: None,
        error_detail: None,
        uploaded: false,
        upload_expires_at: Some(expires_at),
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
        content_type: Some(content_type.clone()),
        announced_sha256: sha256,
        detect_on_complete: announcement.detect,
        upload_received_at: None,
    };
    let tx = database.begin().await?;
    documents::ActiveModel::from(record).insert(&tx).await?;
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: announcement.tenant_id,
            actor,
            action: "document.upload_announced",
            resource_type: "document",
            resource_id: Some(document_id),
            project_id: Some(announcement.project_id),
            counts: Some(serde_json::json!({ "bytes": announcement.size })),
            request_id,
        },
    )
    .await?;
    tx.commit().await?;
    let presigned = match blobs {
        BlobStore::S3(_) => {
            let signed = blobs
                .presign_put(&key, &content_type, Some(announcement.size), announcement.ttl)
                .await?;
            Presigned {
                document_id,
                upload_url: signed.url,
                method: signed.method,
                headers: signed.headers.into_iter().collect(),
                expires_at,
            }
        }
        BlobStore::Local(_) => {
            let expires = expires_at.timestamp();
            Presigned {
                document_id,
                upload_url: format!(
                    "{}/uploads/{document_id}?expires={expires}&signature={}",
                    public_url.trim_end_matches('/'),
                    signer.sign(document_id, expires)
                ),
                method: "PUT".into(),
                headers: BTreeMap::from([("content-type".to_owned(), content_type)]),
                expires_at,
            }
        }
    };
    Ok(presigned)
}

/// Takes the one PUT of an upload to the API's own URL: the signature and expiry are
/// checked, the upload is claimed so that no second PUT is taken, and the body is streamed
/// to storage, cut off past the announced size. A PUT that fails frees the claim.
pub async fn receive<S, E>(
    database: &Database,
    blobs: &BlobStore,
    signer: &UploadSigner,
    document_id: Uuid,
    expires: i64,
    signature: &str,
    body: S,
) -> Result<(), UploadError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    signer.verify(document_id, expires, signature)?;
    let claimed = documents::Entity::update_many()
        .col_expr(documents::Column::UploadReceivedAt, Expr::value(Utc::now()))
        .filter(documents::Column::Id.eq(document_id))
        .filter(documents::Column::Uploaded.eq(false))
        .filter(documents::Column::UploadReceivedAt.is_null())
        .filter(documents::Column::DeletedAt.is_null())
        .exec(database.orm())
        .await?;
    let record = documents::Entity::find_by_id(document_id)
        .filter(documents::Column::DeletedAt.is_null())
        .one(database.orm())
        .await?
        .ok_or(UploadError::Expired)?;
    if claimed.rows_affected == 0 {
        return Err(UploadError::AlreadyReceived);
    }
    let limit = u64::try_from(record.size).unwrap_or(0);
    match store(blobs, &record.storage_key, &record.filename, limit, body).await {
        Ok(_) => Ok(()),
        Err(error) => {
            release(database.orm(), document_id).await?;
            Err(error.into())
        }
    }
}

async fn release(database: &impl ConnectionTrait, document_id: Uuid) -> Result<(), sea_orm::DbErr> {
    documents::Entity::update_many()
        .col_expr(
            documents::Column::UploadReceivedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(documents::Column::Id.eq(document_id))
        .filter(documents::Column::Uploaded.eq(false))
        .exec(database)
        .await?;
    Ok(())
}

/// Who completes an upload.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    pub actor: Actor,
    pub request_id: Option<&'a str>,
    pub max_attempts: u32,
}

/// Checks what arrived against the announcement (size, SHA-256, a type that is read and
/// matches the name, not a duplicate in the project) and makes it a document, queuing its
/// detection in the same transaction when it was asked for. What fails a check is removed,
/// and the same URL takes the file again until it expires. Completing twice answers the
/// document again.
pub async fn complete(
    database: &Database,
    blobs: &BlobStore,
    completion: Completion<'_>,
) -> Result<(documents::Model, Option<Uuid>), UploadError> {
    let record = documents::Entity::find_by_id(completion.document_id)
        .filter(documents::Column::TenantId.eq(completion.tenant_id))
        .filter(documents::Column::DeletedAt.is_null())
        .one(database.orm())
        .await?
        .ok_or(DocumentServiceError::NotFound(completion.document_id))?;
    if record.uploaded {
        return Ok((record, None));
    }
    if record.upload_expires_at.is_some_and(|expiry| expiry < Utc::now()) {
        return Err(UploadError::Expired);
    }
    let bytes = match blobs.get(&record.storage_key).await {
        Ok(bytes) => bytes,
        Err(StorageError::NotFound { .. }) => return Err(UploadError::Missing),
        Err(error) => return Err(error.into()),
    };
    let checked = check_arrival(&record, &bytes);
    let (sha256, format) = match checked {
        Ok(found) => found,
        Err(error) => {
            blobs.delete(&record.storage_key).await?;
            release(database.orm(), record.id).await?;
            return Err(error);
        }
    };
    if let Some(existing) = find_by_content(database.orm(), record.project_id, &sha256).await? {
        discard(database, blobs, &record).await?;
        return Err(DocumentServiceError::Duplicate { existing }.into());
    }
    let tx = database.begin().await?;
    let now = Utc::now();
    let made = documents::Entity::update_many()
        .col_expr(documents::Column::Uploaded, Expr::value(true))
        .col_expr(documents::Column::Sha256, Expr::value(sha256.clone()))
        .col_expr(documents::Column::Format, Expr::value(format.extension()))
        .col_expr(
            documents::Column::UploadExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(documents::Column::CreatedAt, Expr::value(now))
        .col_expr(documents::Column::UpdatedAt, Expr::value(now))
        .filter(documents::Column::Id.eq(record.id))
        .filter(documents::Column::Uploaded.eq(false))
        .exec(&tx)
        .await;
    match made {
        Ok(result) if result.rows_affected == 1 => {}
        // Completed by a concurrent call meanwhile.
        Ok(_) => {
            drop(tx);
            let record = crate::documents::get(database.orm(), completion.tenant_id, record.id).await?;
            return Ok((record, None));
        }
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(tx);
            discard(database, blobs, &record).await?;
            let existing = find_by_content(database.orm(), record.project_id, &sha256)
                .await?
                .unwrap_or_default();
            return Err(DocumentServiceError::Duplicate { existing }.into());
        }
        Err(error) => return Err(error.into()),
    }
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: completion.tenant_id,
            actor: completion.actor,
            action: "document.upload",
            resource_type: "document",
            resource_id: Some(record.id),
            project_id: Some(record.project_id),
            counts: Some(serde_json::json!({ "bytes": bytes.len() })),
            request_id: completion.request_id,
        },
    )
    .await?;
    let job_id = if record.detect_on_complete {
        Some(
            request_detection_in(
                &tx,
                JobRequest {
                    tenant_id: completion.tenant_id,
                    document_id: record.id,
                    actor: completion.actor,
                    request_id: completion.request_id,
                    max_attempts: completion.max_attempts,
                },
                DetectionSettings::default(),
                false,
            )
            .await?,
        )
    } else {
        None
    };
    tx.commit().await?;
    let record = crate::documents::get(database.orm(), completion.tenant_id, record.id).await?;
    Ok((record, job_id))
}

/// The SHA-256 and type of what arrived, if it is what was announced.
fn check_arrival(record: &documents::Model, bytes: &[u8]) -> Result<(String, obscura_documents::Format), UploadError> {
    if bytes.is_empty() {
        return Err(DocumentServiceError::Empty.into());
    }
    if bytes.len() as u64 != u64::try_from(record.size).unwrap_or(0) {
        return Err(UploadError::Mismatch(format!(
            "{} bytes arrived, {} were announced",
            bytes.len(),
            record.size
        )));
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    if record
        .announced_sha256
        .as_ref()
        .is_some_and(|announced| *announced != sha256)
    {
        return Err(UploadError::Mismatch("its SHA-256 is not the one announced".into()));
    }
    let format = sniffed(&bytes[..bytes.len().min(SNIFF_BYTES)], &record.filename, true)?;
    Ok((sha256, format))
}

/// Removes an upload that will not be a document: its blob, then its row.
async fn discard(database: &Database, blobs: &BlobStore, record: &documents::Model) -> Result<(), UploadError> {
    blobs.delete(&record.storage_key).await?;
    documents::Entity::delete_by_id(record.id)
        .filter(documents::Column::Uploaded.eq(false))
        .exec(database.orm())
        .await?;
    Ok(())
}

/// Removes uploads never completed whose URL expired: blob, then row. Returns how many.
pub async fn sweep_expired(database: &Database, blobs: &BlobStore) -> Result<u64, UploadError> {
    let expired: Vec<documents::Model> = documents::Entity::find()
        .filter(documents::Column::Uploaded.eq(false))
        .filter(documents::Column::UploadExpiresAt.lt(Utc::now()))
        .limit(SWEEP_BATCH)
        .all(database.orm())
        .await?;
    let mut removed = 0;
    for record in &expired {
        discard(database, blobs, record).await?;
        removed += 1;
    }
    if removed > 0 {
        tracing::info!(removed, "expired uploads removed");
    }
    Ok(removed)
}
