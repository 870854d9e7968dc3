//! Document jobs: detection, detection again (`reprocess`) and anonymization. The services
//! do the work; a failure that running again cannot mend, or the last attempt's failure,
//! puts the document in ERROR with the failure's stable code.

use futures::future::BoxFuture;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_platform::jobs::{AnonymizeJob, DetectJob, DetectionSettings, JobEnvelope, ReprocessJob};
use obscura_platform::processing::{self, AnonymizeRun, DetectRun, ProcessingError, Step};
use uuid::Uuid;

use crate::context::{JobContext, JobFailure, Progress};

pub async fn run_detect(
    context: &JobContext,
    envelope: &JobEnvelope<DetectJob>,
    progress: Progress,
) -> Result<serde_json::Value, JobFailure> {
    let job = &envelope.payload;
    detection(
        context,
        envelope,
        job.document_id,
        job.version,
        job.settings.clone(),
        progress,
    )
    .await
}

pub async fn run_reprocess(
    context: &JobContext,
    envelope: &JobEnvelope<ReprocessJob>,
    progress: Progress,
) -> Result<serde_json::Value, JobFailure> {
    let job = &envelope.payload;
    detection(
        context,
        envelope,
        job.document_id,
        job.version,
        job.settings.clone(),
        progress,
    )
    .await
}

pub async fn run_anonymize(
    context: &JobContext,
    envelope: &JobEnvelope<AnonymizeJob>,
    progress: Progress,
) -> Result<serde_json::Value, JobFailure> {
    let job = &envelope.payload;
    let run = AnonymizeRun {
        tenant_id: envelope.tenant_id,
        job_id: envelope.job_id,
        document_id: job.document_id,
        version: job.version,
        level: job.level.clone(),
        request_id: envelope.request_id.clone(),
    };
    let reporter = reporter(&progress);
    let result = processing::anonymize(&context.database, &context.blobs, &context.engine, run, &reporter).await;
    settle(context, job.document_id, job.version, &progress, result).await
}

async fn detection<P>(
    context: &JobContext,
    envelope: &JobEnvelope<P>,
    document_id: Uuid,
    version: i64,
    settings: DetectionSettings,
    progress: Progress,
) -> Result<serde_json::Value, JobFailure> {
    let run = DetectRun {
        tenant_id: envelope.tenant_id,
        job_id: envelope.job_id,
        document_id,
        version,
        settings,
        request_id: envelope.request_id.clone(),
    };
    let reporter = reporter(&progress);
    let result = processing::detect(&context.database, &context.blobs, &context.engine, run, &reporter).await;
    settle(context, document_id, version, &progress, result).await
}

/// Steps go to the job record.
fn reporter(progress: &Progress) -> impl Fn(Step) -> BoxFuture<'static, ()> + Send + Sync + use<> {
    let progress = progress.clone();
    move |step| {
        let progress = progress.clone();
        Box::pin(async move { progress.step(step).await })
    }
}

/// The job's outcome; a failure for good leaves the document in ERROR with its code.
async fn settle(
    context: &JobContext,
    document_id: Uuid,
    version: i64,
    progress: &Progress,
    result: Result<serde_json::Value, ProcessingError>,
) -> Result<serde_json::Value, JobFailure> {
    let error = match result {
        Ok(summary) => return Ok(summary),
        Err(error) => error,
    };
    let message = format!("{}: {error}", error.code());
    if error.kind() == ErrorKind::Unavailable {
        // The database or the blob store is away: the attempt waits for it, however many
        // attempts are left.
        return Err(JobFailure::Unavailable(message));
    }
    if !error.is_permanent() && !progress.last_attempt {
        return Err(JobFailure::Transient(message));
    }
    let detail = error.to_string();
    if let Err(failure) = processing::fail(context.database.orm(), document_id, version, error.code(), &detail).await {
        // The job is failed anyway; the document's state follows on a later attempt.
        tracing::error!(%document_id, error = %failure, "could not put the document in ERROR");
        return Err(JobFailure::Transient(message));
    }
    Err(JobFailure::Permanent(message))
}
