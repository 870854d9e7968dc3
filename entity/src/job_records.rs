//! `job_records`: what users see of a background job: state, progress, attempts and result.
//!
//! The queue keeps its own rows for scheduling; this table is ours, since the queue has no
//! notion of progress. The id is the queue's task id (a ULID) read as a UUID.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "job_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The job type, such as `diagnostic`.
    pub kind: String,
    /// `queued`, `running`, `retrying`, `succeeded` or `failed`.
    pub state: String,
    /// Percent done, 0 to 100.
    pub progress: i32,
    /// How many times a worker started the job.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last failure, without document content.
    pub error: Option<String>,
    pub result: Option<Json>,
    pub request_id: Option<String>,
    pub worker_name: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// The step the job is at, as a stable code (`page_read`, `entities_found`, ...).
    pub progress_code: Option<String>,
    /// The step in English words (`page 3 of 10`).
    pub progress_message: Option<String>,
    /// The document the job works on, for document jobs.
    pub document_id: Option<Uuid>,
    /// The project of the document, for document jobs.
    pub project_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
