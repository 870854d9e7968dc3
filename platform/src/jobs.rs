//! Job payloads and the transactional enqueue.
//!
//! A job is pushed to the queue inside the same [`Tx`] as the write that motivates it, so a
//! rolled-back request never leaves a job behind and a committed one never loses its job.
//! Every payload travels in a versioned [`JobEnvelope`]; every job type goes to the one queue
//! [`JOBS_QUEUE`], named explicitly, since the queue's default (the Rust type path) would
//! orphan jobs on a rename.

use std::fmt::Debug;

use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use chrono::Utc;
use obscura_detection::{ErrorClass, ErrorKind};
use obscura_entity::job_records;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::database::{DatabaseError, Tx};

/// The queue every job type is pushed to; a worker tells the types apart by their job
/// record.
pub const JOBS_QUEUE: &str = "obscura.jobs";

/// Implemented by every job payload.
pub trait JobPayload: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + Unpin + 'static {
    /// The job type, as stored in `job_records.kind` and shown to users.
    const KIND: &'static str;
    /// The queue name; never change it once jobs of this type may be queued. Every type
    /// uses [`JOBS_QUEUE`], so that one poller per worker serves them all.
    const QUEUE: &'static str;
    /// The payload's schema version; bump it when the payload changes shape.
    const VERSION: u32;
}

/// What travels through the queue: the payload plus the ids every job needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobEnvelope<P> {
    pub version: u32,
    pub job_id: Uuid,
    pub tenant_id: Uuid,
    /// The id of the request that enqueued the job, carried into the worker's span.
    pub request_id: Option<String>,
    pub payload: P,
}

/// States of a job record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Retrying,
    Succeeded,
    Failed,
    /// Cancelled by a user; it does not run again, and what an attempt running meanwhile
    /// makes is discarded.
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// True once the job will not run again.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }

    pub fn parse(value: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Retrying,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }
}

/// Checks the storage round trip of a worker: it writes a blob, reads it back and deletes it.
///
/// Operators enqueue it to prove that the worker fleet is alive and can reach the database
/// and the blob store, and to see which worker picked it up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiagnosticJob {
    /// Size of the blob written, in bytes.
    pub blob_bytes: u32,
    /// Keeps the job running this long after the round trip, in milliseconds, so operators
    /// can check that a shutdown lets running jobs finish.
    #[serde(default)]
    pub hold_ms: u32,
}

impl JobPayload for DiagnosticJob {
    const KIND: &'static str = "diagnostic";
    const QUEUE: &'static str = JOBS_QUEUE;
    const VERSION: u32 = 1;
}

/// Removes what was deleted: a document's blobs and rows, or a project's with all its
/// documents. The rows were taken out of listings by the request that queued it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteJob {
    pub target: DeleteTarget,
}

/// What a delete job removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeleteTarget {
    Document { document_id: Uuid },
    Project { project_id: Uuid },
}

impl JobPayload for DeleteJob {
    const KIND: &'static str = "delete";
    const QUEUE: &'static str = JOBS_QUEUE;
    const VERSION: u32 = 1;
}

/// What a detection looks for; anonymization detects with the same settings again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionSettings {
    /// The lowest score reported, 0 to 1; the profile's thresholds when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_threshold: Option<f32>,
    /// Only these categories (entity types or aliases); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

/// Detects a document's entities, replacing what an earlier run found, with the review
/// decisions that apply to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectJob {
    pub document_id: Uuid,
    /// The document's version the request left it at; a job that finds another version was
    /// overtaken (or already ran) and does nothing.
    pub version: i64,
    pub settings: DetectionSettings,
}

impl JobPayload for DetectJob {
    const KIND: &'static str = "detect";
    const QUEUE: &'static str = JOBS_QUEUE;
    const VERSION: u32 = 1;
}

/// Detects a document again after its project's profile, the model or the decisions
/// changed, and says how many spans appeared and disappeared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReprocessJob {
    pub document_id: Uuid,
    pub version: i64,
    pub settings: DetectionSettings,
}

impl JobPayload for ReprocessJob {
    const KIND: &'static str = "reprocess";
    const QUEUE: &'static str = JOBS_QUEUE;
    const VERSION: u32 = 1;
}

/// Anonymizes a document with its reviewed entities and its project's glossary, writes the
/// output in the original format, and stores its leak check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnonymizeJob {
    pub document_id: Uuid,
    pub version: i64,
    /// `BASIC`, `INTERMEDIATE` or `ADVANCED`.
    pub level: String,
}

impl JobPayload for AnonymizeJob {
    const KIND: &'static str = "anonymize";
    const QUEUE: &'static str = JOBS_QUEUE;
    const VERSION: u32 = 1;
}

/// Largest blob a diagnostic job may write.
pub const MAX_DIAGNOSTIC_BLOB_BYTES: u32 = 1024 * 1024;
/// Longest a diagnostic job may hold, in milliseconds.
pub const MAX_DIAGNOSTIC_HOLD_MS: u32 = 60_000;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job {0} does not exist")]
    NotFound(Uuid),
    #[error("job {id} ended already ({state})")]
    Finished { id: Uuid, state: String },
    #[error("job payload could not be encoded")]
    Encode(#[source] serde_json::Error),
    #[error("the job could not be queued")]
    Push(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

impl From<sea_orm::DbErr> for JobError {
    fn from(error: sea_orm::DbErr) -> JobError {
        JobError::Database(DatabaseError::Query(error))
    }
}

impl ErrorClass for JobError {
    fn kind(&self) -> ErrorKind {
        match self {
            JobError::NotFound(_) => ErrorKind::NotFound,
            JobError::Finished { .. } => ErrorKind::Conflict,
            JobError::Encode(_) | JobError::Push(_) => ErrorKind::Internal,
            JobError::Database(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            JobError::NotFound(_) => "job_not_found",
            JobError::Finished { .. } => "job_finished",
            JobError::Encode(_) | JobError::Push(_) => "internal_error",
            JobError::Database(error) => error.code(),
        }
    }
}

/// Who asked for a job and how often it may be tried.
#[derive(Debug, Clone)]
pub struct EnqueueOptions {
    pub tenant_id: Uuid,
    pub request_id: Option<String>,
    pub max_attempts: u32,
    /// The document a document job works on.
    pub document_id: Option<Uuid>,
}

/// Records the job and pushes it to its queue, both inside `tx`. Returns the job id.
pub async fn enqueue<P: JobPayload>(tx: &Tx, options: &EnqueueOptions, payload: P) -> Result<Uuid, JobError> {
    let ulid = ulid::Ulid::generate();
    let job_id = Uuid::from_u128(ulid.0);
    let now = Utc::now();
    let project_id = match options.document_id {
        Some(document_id) => obscura_entity::documents::Entity::find_by_id(document_id)
            .one(tx)
            .await?
            .map(|document| document.project_id),
        None => None,
    };
    let record = job_records::ActiveModel {
        id: Set(job_id),
        tenant_id: Set(options.tenant_id),
        kind: Set(P::KIND.to_owned()),
        state: Set(JobState::Queued.as_str().to_owned()),
        progress: Set(0),
        attempts: Set(0),
        max_attempts: Set(i32::try_from(options.max_attempts).unwrap_or(i32::MAX)),
        error: Set(None),
        result: Set(None),
        request_id: Set(options.request_id.clone()),
        worker_name: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        progress_code: Set(None),
        progress_message: Set(None),
        document_id: Set(options.document_id),
        project_id: Set(project_id),
    }
    .insert(tx)
    .await?;

    let envelope = JobEnvelope {
        version: P::VERSION,
        job_id,
        tenant_id: options.tenant_id,
        request_id: options.request_id.clone(),
        payload,
    };
    let bytes = serde_json::to_vec(&envelope).map_err(JobError::Encode)?;
    let task = TaskBuilder::new(bytes)
        .task_id(TaskId::from_ulid(ulid))
        .max_attempts(usize::try_from(options.max_attempts).unwrap_or(usize::MAX))
        .build();
    tx.with_inner(async |inner| match inner {
        crate::database::tx::Inner::Postgres(transaction) => {
            apalis_postgres::queries::push_tasks(&mut **transaction, P::QUEUE, vec![task])
                .await
                .map_err(|error| JobError::Push(Box::new(error)))
        }
        crate::database::tx::Inner::Sqlite(transaction) => {
            apalis_sqlite::queries::push_tasks(&mut **transaction, P::QUEUE, &[task])
                .await
                .map_err(|error| JobError::Push(Box::new(error)))
        }
    })
    .await?;
    crate::events::record(
        tx,
        crate::events::NewEvent {
            code: Some("queued".into()),
            message: Some("waiting for a worker".into()),
            ..crate::events::NewEvent::of_job(&record, crate::events::kind::PROGRESS)
        },
    )
    .await?;
    tracing::debug!(job_id = %job_id, kind = P::KIND, "job queued");
    Ok(job_id)
}

/// Number of jobs waiting in every queue; proves the queue's tables answer.
pub async fn queue_depth(database: &crate::database::Database) -> Result<i64, DatabaseError> {
    use crate::database::Pool;
    crate::database::with_check_timeout(async {
        match database.pool() {
            Pool::Postgres(pool) => {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM apalis.jobs WHERE status = 'Pending'")
                    .fetch_one(pool)
                    .await
            }
            Pool::Sqlite(pool) => {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM Jobs WHERE status = 'Pending'")
                    .fetch_one(pool)
                    .await
            }
        }
    })
    .await
}

/// Largest `offset` accepted when listing; deeper pages are refused rather than scanned.
pub const MAX_LIST_OFFSET: u64 = 1_000_000;

/// A page of the tenant's jobs, newest first, and the total count.
pub async fn list<C: sea_orm::ConnectionTrait>(
    connection: &C,
    tenant_id: Uuid,
    limit: u64,
    offset: u64,
) -> Result<(Vec<job_records::Model>, u64), JobError> {
    use sea_orm::{PaginatorTrait, QueryOrder, QuerySelect};
    let query = job_records::Entity::find().filter(job_records::Column::TenantId.eq(tenant_id));
    let total = query.clone().count(connection).await?;
    let records = query
        .order_by_desc(job_records::Column::CreatedAt)
        .order_by_desc(job_records::Column::Id)
        .offset(offset.min(MAX_LIST_OFFSET))
        .limit(limit)
        .all(connection)
        .await?;
    Ok((records, total))
}

/// Reads a job record of `tenant_id`; another tenant's job is reported as missing.
pub async fn find<C: sea_orm::ConnectionTrait>(
    connection: &C,
    tenant_id: Uuid,
    job_id: Uuid,
) -> Result<job_records::Model, JobError> {
    job_records::Entity::find_by_id(job_id)
        .filter(job_records::Column::TenantId.eq(tenant_id))
        .one(connection)
        .await?
        .ok_or(JobError::NotFound(job_id))
}

/// What a document whose job was cancelled says: its state's error.
#[derive(Debug, thiserror::Error)]
#[error("its job was cancelled")]
pub struct Cancelled;

impl ErrorClass for Cancelled {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Conflict
    }

    fn code(&self) -> &'static str {
        "cancelled"
    }
}

/// Cancels a job that has not ended: it does not run again, what an attempt running
/// meanwhile makes is discarded, and a document it held goes to ERROR (`cancelled`), from
/// where it can be asked for again. The write comes first, so that the transaction locks
/// before it reads.
pub async fn cancel(
    database: &crate::database::Database,
    tenant_id: Uuid,
    job_id: Uuid,
) -> Result<job_records::Model, JobError> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let tx = database.begin().await?;
    let now = Utc::now();
    let cancelled = job_records::Entity::update_many()
        .col_expr(job_records::Column::State, Expr::value(JobState::Cancelled.as_str()))
        .col_expr(job_records::Column::Error, Expr::value("cancelled by request"))
        .col_expr(job_records::Column::FinishedAt, Expr::value(now))
        .col_expr(job_records::Column::UpdatedAt, Expr::value(now))
        .filter(job_records::Column::Id.eq(job_id))
        .filter(job_records::Column::TenantId.eq(tenant_id))
        .filter(job_records::Column::State.is_not_in([
            JobState::Succeeded.as_str(),
            JobState::Failed.as_str(),
            JobState::Cancelled.as_str(),
        ]))
        .exec(&tx)
        .await?;
    let record = find(&tx, tenant_id, job_id).await?;
    if cancelled.rows_affected == 0 {
        return Err(JobError::Finished {
            id: job_id,
            state: record.state,
        });
    }
    if let Some(document_id) = record.document_id {
        obscura_entity::documents::Entity::update_many()
            .col_expr(
                obscura_entity::documents::Column::State,
                Expr::value(crate::documents::state::ERROR),
            )
            .col_expr(obscura_entity::documents::Column::Error, Expr::value(Cancelled.code()))
            .col_expr(
                obscura_entity::documents::Column::ErrorDetail,
                Expr::value(Cancelled.to_string()),
            )
            .col_expr(
                obscura_entity::documents::Column::Version,
                Expr::col(obscura_entity::documents::Column::Version).add(Expr::value(1)),
            )
            .col_expr(obscura_entity::documents::Column::UpdatedAt, Expr::value(now))
            .filter(obscura_entity::documents::Column::Id.eq(document_id))
            .filter(obscura_entity::documents::Column::State.eq(crate::documents::state::PROCESSING))
            .exec(&tx)
            .await?;
    }
    crate::events::record(
        &tx,
        crate::events::NewEvent {
            status: Some(JobState::Cancelled.as_str().to_owned()),
            code: Some(Cancelled.code().to_owned()),
            message: Some(Cancelled.to_string()),
            ..crate::events::NewEvent::of_job(&record, crate::events::kind::ERROR)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Retrying,
            JobState::Succeeded,
            JobState::Failed,
        ] {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("done"), None);
        assert!(JobState::Failed.is_terminal());
        assert!(!JobState::Retrying.is_terminal());
    }

    #[test]
    fn envelopes_carry_their_version() {
        let envelope = JobEnvelope {
            version: DiagnosticJob::VERSION,
            job_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            request_id: Some("r-1".into()),
            payload: DiagnosticJob {
                blob_bytes: 3,
                hold_ms: 0,
            },
        };
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["payload"]["blob_bytes"], 3);
    }
}
