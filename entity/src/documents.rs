//! `documents`: one uploaded file of a project, its state through detection and
//! anonymization, and where its original and its output are stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    /// The name the file was uploaded with, for exports.
    pub filename: String,
    /// The sniffed type (`pdf`, `docx`, `png`…); `None` until the bytes arrived.
    pub format: Option<String>,
    /// Bytes of the original: announced for a presigned upload, measured once it completed.
    pub size: i64,
    /// Hex SHA-256 of the original; unique within the project.
    pub sha256: Option<String>,
    /// Where the original is in blob storage.
    pub storage_key: String,
    pub page_count: Option<i32>,
    /// `PENDING`, `PROCESSING`, `DETECTION_COMPLETE`, `ANONYMIZATION_COMPLETE` or `ERROR`.
    pub state: String,
    /// The stable code of the failure when `state` is `ERROR`.
    pub error: Option<String>,
    /// Words for the failure, without document content.
    pub error_detail: Option<String>,
    /// False while a presigned upload has not completed: such a document is not listed.
    pub uploaded: bool,
    /// When an upload that has not completed is removed.
    pub upload_expires_at: Option<DateTimeUtc>,
    /// Bumped by every state change; transitions compare and set it.
    pub version: i64,
    /// Where the anonymized file is in blob storage.
    pub output_key: Option<String>,
    /// The level the output was made at.
    pub level: Option<String>,
    pub entities_replaced: Option<i32>,
    /// The leak check of the output: passed, and the leaks found (types and places only).
    pub leak_check: Option<Json>,
    /// True once the original was deleted after anonymization (projects that do not keep
    /// originals).
    pub original_deleted: bool,
    /// True when the glossary changed after the output was made (a merge or a split).
    pub needs_anonymization: bool,
    pub detected_at: Option<DateTimeUtc>,
    pub anonymized_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the document (or its project) was deleted; the `delete` job then removes it.
    pub deleted_at: Option<DateTimeUtc>,
    /// The media type a presigned upload announced.
    pub content_type: Option<String>,
    /// The hex SHA-256 a presigned upload announced; its completion checks it.
    pub announced_sha256: Option<String>,
    /// Whether completing a presigned upload queues its detection.
    pub detect_on_complete: bool,
    /// When the one PUT of an upload to the API's own signed URL arrived.
    pub upload_received_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
