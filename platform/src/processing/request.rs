//! Asking for a document job: the document moves to PROCESSING from a state the job applies
//! to, and the job is queued, in one transaction.

use chrono::Utc;
use obscura_entity::documents;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::ProcessingError;
use crate::audit::{self, Actor, AuditEvent};
use crate::database::{Database, Tx};
use crate::documents::state;
use crate::jobs::{self, AnonymizeJob, DetectJob, DetectionSettings, EnqueueOptions, ReprocessJob};

/// Who asks for a job on which document.
#[derive(Debug, Clone)]
pub struct JobRequest<'a> {
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    pub actor: Actor,
    pub request_id: Option<&'a str>,
    pub max_attempts: u32,
}

/// Queues a detection of the document (`reprocess` for a detection again, which reports
/// what appeared and disappeared); any state but PROCESSING allows it while the original
/// is kept. Returns the job's id.
pub async fn request_detection(
    database: &Database,
    request: JobRequest<'_>,
    settings: DetectionSettings,
    reprocess: bool,
) -> Result<Uuid, ProcessingError> {
    let tx = database.begin().await?;
    let job_id = request_detection_in(&tx, request, settings, reprocess).await?;
    tx.commit().await?;
    Ok(job_id)
}

/// [`request_detection`] inside the caller's transaction, which commits it with its own
/// writes.
pub async fn request_detection_in(
    tx: &Tx,
    request: JobRequest<'_>,
    settings: DetectionSettings,
    reprocess: bool,
) -> Result<Uuid, ProcessingError> {
    let allowed = Condition::all()
        .add(documents::Column::State.ne(state::PROCESSING))
        .add(documents::Column::OriginalDeleted.eq(false));
    let version = take(tx, &request, allowed).await?;
    let document_id = request.document_id;
    let (job_id, action) = if reprocess {
        let payload = ReprocessJob {
            document_id,
            version,
            settings,
        };
        (
            jobs::enqueue(tx, &options(&request), payload).await?,
            "document.reprocess",
        )
    } else {
        let payload = DetectJob {
            document_id,
            version,
            settings,
        };
        (jobs::enqueue(tx, &options(&request), payload).await?, "document.detect")
    };
    record(tx, &request, action).await?;
    Ok(job_id)
}

/// Queues an anonymization of a detected document at `level`. Returns the job's id.
pub async fn request_anonymization(
    database: &Database,
    request: JobRequest<'_>,
    level: &str,
) -> Result<Uuid, ProcessingError> {
    let tx = database.begin().await?;
    // Detected, anonymized before, or failed after a detection.
    let allowed = Condition::all().add(documents::Column::OriginalDeleted.eq(false)).add(
        Condition::any()
            .add(documents::Column::State.is_in([state::DETECTION_COMPLETE, state::ANONYMIZATION_COMPLETE]))
            .add(
                Condition::all()
                    .add(documents::Column::State.eq(state::ERROR))
                    .add(documents::Column::DetectedAt.is_not_null()),
            ),
    );
    let version = take(&tx, &request, allowed).await?;
    let payload = AnonymizeJob {
        document_id: request.document_id,
        version,
        level: level.to_owned(),
    };
    let job_id = jobs::enqueue(&tx, &options(&request), payload).await?;
    record(&tx, &request, "document.anonymize").await?;
    tx.commit().await?;
    Ok(job_id)
}

fn options(request: &JobRequest<'_>) -> EnqueueOptions {
    EnqueueOptions {
        tenant_id: request.tenant_id,
        request_id: request.request_id.map(str::to_owned),
        max_attempts: request.max_attempts,
        document_id: Some(request.document_id),
    }
}

async fn record(
    database: &impl ConnectionTrait,
    request: &JobRequest<'_>,
    action: &'static str,
) -> Result<(), ProcessingError> {
    let project_id = documents::Entity::find_by_id(request.document_id)
        .one(database)
        .await?
        .map(|document| document.project_id);
    audit::record(
        database,
        AuditEvent {
            tenant_id: request.tenant_id,
            actor: request.actor,
            action,
            resource_type: "document",
            resource_id: Some(request.document_id),
            project_id,
            counts: None,
            request_id: request.request_id,
        },
    )
    .await?;
    Ok(())
}

/// Moves the document to PROCESSING if `allowed` holds for it, and returns its new version;
/// otherwise says why not. The write comes first, so that the transaction holds the lock
/// before it reads.
async fn take(
    database: &impl ConnectionTrait,
    request: &JobRequest<'_>,
    allowed: Condition,
) -> Result<i64, ProcessingError> {
    let moved = documents::Entity::update_many()
        .col_expr(documents::Column::State, Expr::value(state::PROCESSING))
        .col_expr(
            documents::Column::Version,
            Expr::col(documents::Column::Version).add(Expr::value(1)),
        )
        .col_expr(documents::Column::Error, Expr::value(Option::<String>::None))
        .col_expr(documents::Column::ErrorDetail, Expr::value(Option::<String>::None))
        .col_expr(documents::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(documents::Column::Id.eq(request.document_id))
        .filter(documents::Column::TenantId.eq(request.tenant_id))
        .filter(documents::Column::Uploaded.eq(true))
        .filter(documents::Column::DeletedAt.is_null())
        .filter(allowed)
        .exec(database)
        .await?;
    let document = crate::documents::get(database, request.tenant_id, request.document_id).await?;
    if moved.rows_affected == 1 {
        return Ok(document.version);
    }
    Err(if document.state == state::PROCESSING {
        ProcessingError::Busy(document.id)
    } else if document.original_deleted {
        ProcessingError::OriginalDeleted(document.id)
    } else {
        ProcessingError::NotDetected(document.id)
    })
}
