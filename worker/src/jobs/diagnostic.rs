//! The diagnostic job: proves that a worker can reach the database and the blob store, and
//! optionally holds for a while so that operators can watch a shutdown drain it.

use std::time::Instant;

use bytes::Bytes;
use obscura_platform::jobs::{DiagnosticJob, JobEnvelope};
use serde_json::json;

use crate::context::{JobContext, JobFailure, Progress};

/// Writes a blob of the requested size, reads it back, compares and deletes it.
pub async fn run_diagnostic(
    context: &JobContext,
    envelope: &JobEnvelope<DiagnosticJob>,
    progress: Progress,
) -> Result<serde_json::Value, JobFailure> {
    let started = Instant::now();
    let key = format!("diagnostics/{}/{}", envelope.tenant_id, envelope.job_id);
    let size = usize::try_from(envelope.payload.blob_bytes).unwrap_or(usize::MAX);
    // A recognisable pattern, so a truncated or shifted read-back is caught.
    let payload: Bytes = (0..size).map(|index| (index % 251) as u8).collect::<Vec<u8>>().into();

    context
        .blobs
        .put(&key, payload.clone())
        .await
        .map_err(|error| JobFailure::storage("blob write failed", &error))?;
    progress.report(50).await;
    let read_back = context
        .blobs
        .get(&key)
        .await
        .map_err(|error| JobFailure::storage("blob read failed", &error))?;
    let matches = read_back == payload;
    context
        .blobs
        .delete(&key)
        .await
        .map_err(|error| JobFailure::storage("blob delete failed", &error))?;
    if envelope.payload.hold_ms > 0 {
        progress.report(75).await;
        tokio::time::sleep(std::time::Duration::from_millis(u64::from(envelope.payload.hold_ms))).await;
    }
    if !matches {
        return Err(JobFailure::Permanent(format!(
            "the blob store returned {} bytes that differ from the {} written",
            read_back.len(),
            payload.len()
        )));
    }
    Ok(json!({
        "worker": context.worker_name,
        "storage_backend": context.blobs.backend_name(),
        "database_backend": context.database.backend_name(),
        "blob_bytes": payload.len(),
        "held_ms": envelope.payload.hold_ms,
        "round_trip_ms": started.elapsed().as_millis() as u64,
    }))
}
