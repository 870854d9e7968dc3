//! `events`: what happened to jobs and documents, as progress clients see it, numbered by a
//! per-tenant sequence (`event_sequences`) and kept for a while so that clients can resume.
//! Events carry ids, counts, codes and words, never document content.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// The tenant's sequence number: every event of a tenant has the next one.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// `progress`, `complete` or `error`.
    pub kind: String,
    pub document_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    /// The job type (`detect`, `anonymize`, ...).
    pub operation: Option<String>,
    /// Percent done, 0 to 100.
    pub progress: Option<i32>,
    /// The job's state (`queued`, `running`, `succeeded`, ...).
    pub status: Option<String>,
    /// A stable code (`page_read`, `entities_found`, `corrupt`, ...).
    pub code: Option<String>,
    /// The code in English words.
    pub message: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
