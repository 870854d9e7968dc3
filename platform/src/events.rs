//! Progress events: every job state change and progress step, numbered by a per-tenant
//! sequence, stored for a while, and published to the processes that serve progress.
//!
//! An event is recorded inside the transaction of the change it tells of, as that
//! transaction's last write: the tenant's counter row (`event_sequences`) is taken then and
//! held until the commit, so that a tenant's events commit in the order of their numbers, with
//! no gap, and a client that has seen number `n` has seen every number before it.
//!
//! Publishing: on PostgreSQL a `NOTIFY` in the same transaction carries the tenant and the
//! number (never the event) to every process that listens, at the commit; on SQLite, one
//! process, the transaction hands the notice to the process's broadcast after its commit.
//! Either way a process's [`Notices`] receive `(tenant, seq)`, and readers fetch the rows.
//!
//! Events carry ids, counts, page numbers, codes and words, never document content.

use chrono::{DateTime, Utc};
use obscura_entity::events;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};
use serde::Serialize;
use uuid::Uuid;

use crate::database::{Database, Tx};

mod live;

pub use live::{FEED_CAPACITY, Feed, listen};

/// The PostgreSQL channel events are announced on.
pub const CHANNEL: &str = "obscura_events";

/// How many notices a process's broadcast holds for a slow reader before it lags.
pub const NOTICE_CAPACITY: usize = 4096;

/// The kinds of events.
pub mod kind {
    pub const PROGRESS: &str = "progress";
    pub const COMPLETE: &str = "complete";
    pub const ERROR: &str = "error";
}

/// That a tenant's event `seq` was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct Notice {
    pub tenant_id: Uuid,
    pub seq: i64,
}

/// A process's notices of committed events.
pub type Notices = tokio::sync::broadcast::Sender<Notice>;

/// An event as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// `progress`, `complete` or `error` (and, on a socket, `resync` and `lagged`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The tenant's sequence number; resume with `since` set to the last one seen.
    pub seq: i64,
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub document_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    /// The job type: `detect`, `reprocess`, `anonymize`, `delete`, ...
    pub operation: Option<String>,
    /// Percent done, 0 to 100.
    pub progress: Option<i32>,
    /// The job's state: `queued`, `running`, `retrying`, `succeeded`, `failed`, `cancelled`;
    /// in a current-state message, the document's state.
    pub status: Option<String>,
    /// A stable code to translate: `queued`, `page_read`, `ocr_page`, `entities_found`,
    /// `leak_check_failed`, an error's code, ...
    pub code: Option<String>,
    /// The code in English words.
    pub message: Option<String>,
    pub timestamp: DateTime<Utc>,
}

impl From<events::Model> for Event {
    fn from(row: events::Model) -> Event {
        Event {
            kind: row.kind,
            seq: row.seq,
            tenant_id: row.tenant_id,
            document_id: row.document_id,
            project_id: row.project_id,
            job_id: row.job_id,
            operation: row.operation,
            progress: row.progress,
            status: row.status,
            code: row.code,
            message: row.message,
            timestamp: row.created_at,
        }
    }
}

/// An event to record.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub tenant_id: Uuid,
    pub kind: &'static str,
    pub document_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub operation: Option<String>,
    pub progress: Option<i32>,
    pub status: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

impl NewEvent {
    /// An event of `kind` about a job, with its ids, type, progress and state.
    pub fn of_job(job: &obscura_entity::job_records::Model, kind: &'static str) -> NewEvent {
        NewEvent {
            tenant_id: job.tenant_id,
            kind,
            document_id: job.document_id,
            project_id: job.project_id,
            job_id: Some(job.id),
            operation: Some(job.kind.clone()),
            progress: Some(job.progress),
            status: Some(job.state.clone()),
            code: None,
            message: None,
        }
    }
}

/// Records an event as the last write of `tx`; it is published when `tx` commits.
pub async fn record(tx: &Tx, event: NewEvent) -> Result<i64, sea_orm::DbErr> {
    let backend = tx.get_database_backend();
    let seq = next_seq(tx, backend, event.tenant_id).await?;
    events::Entity::insert(events::ActiveModel::from(events::Model {
        tenant_id: event.tenant_id,
        seq,
        kind: event.kind.to_owned(),
        document_id: event.document_id,
        project_id: event.project_id,
        job_id: event.job_id,
        operation: event.operation,
        progress: event.progress,
        status: event.status,
        code: event.code,
        message: event.message,
        created_at: Utc::now(),
    }))
    .exec_without_returning(tx)
    .await?;
    let notice = Notice {
        tenant_id: event.tenant_id,
        seq,
    };
    if backend == DbBackend::Postgres {
        let payload = serde_json::to_string(&notice).unwrap_or_default();
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_notify($1, $2)",
            [Value::from(CHANNEL), Value::from(payload)],
        ))
        .await?;
    } else {
        tx.notify_after_commit(notice);
    }
    Ok(seq)
}

/// Records an event in a transaction of its own.
pub async fn record_alone(database: &Database, event: NewEvent) -> Result<i64, crate::database::DatabaseError> {
    let tx = database.begin().await?;
    let seq = record(&tx, event).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Takes the tenant's next number; the counter row stays locked until the transaction ends.
async fn next_seq(tx: &Tx, backend: DbBackend, tenant_id: Uuid) -> Result<i64, sea_orm::DbErr> {
    let sql = if backend == DbBackend::Postgres {
        "INSERT INTO event_sequences (tenant_id, last_seq) VALUES ($1, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_sequences.last_seq + 1 RETURNING last_seq"
    } else {
        "INSERT INTO event_sequences (tenant_id, last_seq) VALUES (?, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_sequences.last_seq + 1 RETURNING last_seq"
    };
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [Value::from(tenant_id)]))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the event counter returned no row".into()))?;
    row.try_get_by_index::<i64>(0)
}

/// The tenant's last event number (0 before its first event).
pub async fn last_seq(database: &impl ConnectionTrait, tenant_id: Uuid) -> Result<i64, sea_orm::DbErr> {
    let backend = database.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "SELECT last_seq FROM event_sequences WHERE tenant_id = $1"
    } else {
        "SELECT last_seq FROM event_sequences WHERE tenant_id = ?"
    };
    let row = database
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [Value::from(tenant_id)]))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}

/// Which events a reader wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub project_id: Option<Uuid>,
    pub document_id: Option<Uuid>,
}

/// A page of a tenant's kept events after `since`, oldest first, and whether events after
/// `since` are no longer kept (the reader must take the current state again).
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// The number to ask after next: the last event's, or `since` when there is none.
    pub next_since: i64,
    pub gap: bool,
}

/// The tenant's kept events after `since`, at most `limit`, filtered.
pub async fn after(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    since: i64,
    filter: EventFilter,
    limit: u64,
) -> Result<EventPage, sea_orm::DbErr> {
    // The oldest kept number tells whether some after `since` were swept.
    let oldest = events::Entity::find()
        .filter(events::Column::TenantId.eq(tenant_id))
        .order_by_asc(events::Column::Seq)
        .one(database)
        .await?
        .map(|row| row.seq);
    let last = last_seq(database, tenant_id).await?;
    let gap = match oldest {
        Some(oldest) => oldest > since + 1,
        // Nothing kept, but numbers were given after `since`.
        None => last > since,
    };
    let mut query = events::Entity::find()
        .filter(events::Column::TenantId.eq(tenant_id))
        .filter(events::Column::Seq.gt(since));
    if let Some(project_id) = filter.project_id {
        query = query.filter(events::Column::ProjectId.eq(project_id));
    }
    if let Some(document_id) = filter.document_id {
        query = query.filter(events::Column::DocumentId.eq(document_id));
    }
    let rows = query
        .order_by_asc(events::Column::Seq)
        .limit(limit)
        .all(database)
        .await?;
    // Without a filter the page ends at its last event; with one, events of others may
    // follow it, and a short page has read everything up to the tenant's last number.
    let last_row = rows.last().map_or(since, |row| row.seq);
    let next_since = if rows.len() as u64 == limit || filter == EventFilter::default() {
        last_row
    } else {
        Ord::max(Ord::max(last, since), last_row)
    };
    Ok(EventPage {
        events: rows.into_iter().map(Event::from).collect(),
        next_since,
        gap,
    })
}

/// Deletes events older than `keep`; returns how many.
pub async fn sweep(database: &impl ConnectionTrait, keep: std::time::Duration) -> Result<u64, sea_orm::DbErr> {
    let cutoff = Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::days(1));
    Ok(events::Entity::delete_many()
        .filter(events::Column::CreatedAt.lt(cutoff))
        .exec(database)
        .await?
        .rows_affected)
}
