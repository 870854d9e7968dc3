//! Figures of the whole fleet, read from the database so that any API replica reports what
//! every worker did: documents by state, jobs by type and state, entities by category,
//! pages read, and the jobs that finished since a point, for duration histograms.

use chrono::{DateTime, Utc};
use obscura_entity::{document_entities, documents, job_records};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::jobs::JobState;
use crate::review::status;

/// Documents (uploaded, not deleted) by state.
pub async fn documents_by_state(database: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, sea_orm::DbErr> {
    documents::Entity::find()
        .select_only()
        .column(documents::Column::State)
        .column_as(Expr::col(documents::Column::Id).count(), "count")
        .filter(documents::Column::Uploaded.eq(true))
        .filter(documents::Column::DeletedAt.is_null())
        .group_by(documents::Column::State)
        .into_tuple()
        .all(database)
        .await
}

/// Job records by type and state.
pub async fn jobs_by_kind_and_state(
    database: &impl ConnectionTrait,
) -> Result<Vec<(String, String, i64)>, sea_orm::DbErr> {
    job_records::Entity::find()
        .select_only()
        .column(job_records::Column::Kind)
        .column(job_records::Column::State)
        .column_as(Expr::col(job_records::Column::Id).count(), "count")
        .group_by(job_records::Column::Kind)
        .group_by(job_records::Column::State)
        .into_tuple()
        .all(database)
        .await
}

/// Entities kept by review (all but the rejected), by category.
pub async fn entities_by_category(database: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, sea_orm::DbErr> {
    document_entities::Entity::find()
        .select_only()
        .column(document_entities::Column::Category)
        .column_as(Expr::col(document_entities::Column::Id).count(), "count")
        .filter(document_entities::Column::Status.ne(status::REJECTED))
        .group_by(document_entities::Column::Category)
        .into_tuple()
        .all(database)
        .await
}

/// Pages of the documents detected so far.
pub async fn pages_processed(database: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    let pages: Option<Option<i64>> = documents::Entity::find()
        .select_only()
        .column_as(Expr::col(documents::Column::PageCount).sum(), "pages")
        .filter(documents::Column::DetectedAt.is_not_null())
        .filter(documents::Column::DeletedAt.is_null())
        .into_tuple()
        .one(database)
        .await?;
    Ok(pages.flatten().unwrap_or(0))
}

/// A job that ended: its type, how it ended, how long its last attempt took, and where it
/// sits in the order jobs ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedJob {
    pub kind: String,
    pub state: String,
    pub seconds: f64,
    pub finished_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Jobs that ended after `after` (a finish time and id), oldest first, at most `limit`.
pub async fn jobs_finished_after(
    database: &impl ConnectionTrait,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<FinishedJob>, sea_orm::DbErr> {
    let mut query = job_records::Entity::find()
        .filter(job_records::Column::FinishedAt.is_not_null())
        .filter(job_records::Column::StartedAt.is_not_null())
        .filter(job_records::Column::State.is_in([JobState::Succeeded.as_str(), JobState::Failed.as_str()]));
    if let Some((finished_at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(job_records::Column::FinishedAt.gt(finished_at))
                .add(
                    Condition::all()
                        .add(job_records::Column::FinishedAt.eq(finished_at))
                        .add(job_records::Column::Id.gt(id)),
                ),
        );
    }
    let records = query
        .order_by_asc(job_records::Column::FinishedAt)
        .order_by_asc(job_records::Column::Id)
        .limit(limit)
        .all(database)
        .await?;
    Ok(records
        .into_iter()
        .filter_map(|record| {
            let (started, finished) = (record.started_at?, record.finished_at?);
            Some(FinishedJob {
                kind: record.kind,
                state: record.state,
                seconds: Ord::max((finished - started).num_milliseconds(), 0) as f64 / 1000.0,
                finished_at: finished,
                id: record.id,
            })
        })
        .collect())
}
