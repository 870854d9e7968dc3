//! The delete job: removes a deleted document's blobs and rows, or a deleted project's with
//! every document in it. Each step can run again: a retry after a crash finishes the work.

use obscura_entity::{documents, projects};
use obscura_platform::documents::purge;
use obscura_platform::jobs::{DeleteJob, DeleteTarget, JobEnvelope};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use crate::context::{JobContext, JobFailure, Progress};

/// Removes what `envelope` names; what is gone already counts as removed.
pub async fn run_delete(
    context: &JobContext,
    envelope: &JobEnvelope<DeleteJob>,
    progress: Progress,
) -> Result<serde_json::Value, JobFailure> {
    let database = context.database.orm();
    match envelope.payload.target {
        DeleteTarget::Document { document_id } => {
            let removed = purge(database, &context.blobs, document_id).await.map_err(transient)?;
            Ok(json!({ "documents_removed": u32::from(removed) }))
        }
        DeleteTarget::Project { project_id } => {
            let ids: Vec<uuid::Uuid> = documents::Entity::find()
                .select_only()
                .column(documents::Column::Id)
                .filter(documents::Column::ProjectId.eq(project_id))
                .into_tuple()
                .all(database)
                .await
                .map_err(transient)?;
            let total = ids.len();
            let mut removed = 0;
            for (done, document_id) in ids.into_iter().enumerate() {
                if purge(database, &context.blobs, document_id).await.map_err(transient)? {
                    removed += 1;
                }
                progress.report(percent(done + 1, total)).await;
            }
            // The project's glossary, decisions and remaining rows go with it.
            projects::Entity::delete_many()
                .filter(projects::Column::Id.eq(project_id))
                .filter(projects::Column::DeletedAt.is_not_null())
                .exec(database)
                .await
                .map_err(transient)?;
            Ok(json!({ "documents_removed": removed }))
        }
    }
}

fn percent(done: usize, total: usize) -> u8 {
    (done * 99)
        .checked_div(total)
        .map_or(100, |percent| u8::try_from(percent).unwrap_or(99))
}

/// Storage and database failures may pass: the job is tried again.
fn transient(error: impl std::fmt::Display) -> JobFailure {
    JobFailure::Transient(error.to_string())
}
