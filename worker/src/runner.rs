//! The worker runtime: one apalis worker per job type, on the configured backend's queue.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::{AbortError, BackendExt, BoxDynError, Data, WorkerBuilder, WorkerBuilderExt, WorkerError};
use apalis_core::worker::ext::parallelize::ParallelizeExt;
use futures::future::BoxFuture;
use obscura_entity::job_records;
use obscura_platform::database::Pool;
use obscura_platform::jobs::{
    AnonymizeJob, DeleteJob, DetectJob, DiagnosticJob, JOBS_QUEUE, JobEnvelope, JobPayload, ReprocessJob,
};
use sea_orm::{EntityTrait, QuerySelect};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::context::{AttemptOutcome, JobContext, JobFailure, Progress};
use crate::jobs::delete::run_delete;
use crate::jobs::diagnostic::run_diagnostic;
use crate::jobs::document::{run_anonymize, run_detect, run_reprocess};

/// How a worker polls. The drain deadline on shutdown belongs to the caller, which owns
/// the deadline of the whole process.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Unique among live workers; each queue's worker gets a suffix.
    pub name: String,
    /// Jobs of one type run at once.
    pub concurrency: usize,
    /// How often an idle worker polls its queue.
    pub poll_interval: Duration,
}

/// The suffix of the queue worker's name; the worker of process `w1` is `w1-jobs`, and its
/// restarts `w1-jobs-r1`, `w1-jobs-r2`...
pub const QUEUE_WORKER_KIND: &str = "jobs";

/// How often a worker tells the queue it is alive; with three missed beats its jobs are
/// handed to other workers.
const HEARTBEAT: Duration = Duration::from_secs(10);
const MISSED_HEARTBEATS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("the worker stopped with an error")]
    Worker(#[source] BoxDynError),
}

/// Runs workers for every job type until `shutdown` is cancelled, then drains them.
///
/// A worker whose queue fails (the database went away) is restarted with a backoff, so an
/// outage neither kills the process nor floods the logs.
pub async fn run_workers(
    context: JobContext,
    settings: WorkerSettings,
    shutdown: CancellationToken,
) -> Result<(), RunnerError> {
    tracing::info!(
        worker = %settings.name,
        concurrency = settings.concurrency,
        backend = context.database.backend_name(),
        "worker starting"
    );
    // The two backends need different storage types, so the worker is built once per
    // backend from the same recipe.
    macro_rules! supervise_queue {
        ($storage:expr, $payload:expr, $handler:expr) => {{
            let storage = $storage;
            let (settings, context) = (&settings, &context);
            supervise($payload, &shutdown, move |restarts, stop| {
                let worker = WorkerBuilder::new(worker_name(&settings.name, $payload, restarts))
                    .backend(storage.clone().poll_with_interval(settings.poll_interval))
                    .data(context.clone())
                    .concurrency(settings.concurrency)
                    .parallelize(tokio::spawn)
                    .build($handler);
                // Boxed as `dyn Future + Send` here, where its types are concrete: left
                // generic, the compiler cannot prove the spawned future `Send`.
                let run: BoxFuture<'static, Result<(), WorkerError>> = Box::pin(worker.run_until(stopped(stop)));
                run
            })
        }};
    }
    let sweeper = tokio::spawn(sweep_uploads(context.clone(), shutdown.clone()));
    match context.database.pool().clone() {
        Pool::Postgres(pool) => {
            let storage = |queue: &str| {
                // A worker takes no more jobs than it runs at once, so that another worker
                // with room takes the rest instead of waiting behind a hoarded batch.
                let config = apalis_postgres::Config::default()
                    .queue(queue)
                    .batch_size(settings.concurrency)
                    .heartbeat_interval(HEARTBEAT)
                    .missed_heartbeats(MISSED_HEARTBEATS);
                apalis_postgres::PostgresStorage::<serde_json::Value>::new(&pool).with_config(config)
            };
            supervise_queue!(storage(JOBS_QUEUE), QUEUE_WORKER_KIND, handle_job).await;
        }
        Pool::Sqlite(pool) => {
            let storage = |queue: &str| {
                let config = apalis_sqlite::Config::default()
                    .queue(queue)
                    .batch_size(settings.concurrency)
                    .heartbeat_interval(HEARTBEAT)
                    .missed_heartbeats(MISSED_HEARTBEATS);
                apalis_sqlite::SqliteStorage::<serde_json::Value>::new(&pool).with_config(config)
            };
            supervise_queue!(storage(JOBS_QUEUE), QUEUE_WORKER_KIND, handle_job).await;
        }
    }
    // A queue's worker can end on an error while its attempts still run on their own tasks:
    // they finish (or the caller's deadline aborts this wait) before the worker counts as
    // stopped, so a shutdown never leaves a job half recorded.
    context.running.close();
    context.running.wait().await;
    sweeper.abort();
    tracing::info!(worker = %settings.name, "worker stopped");
    Ok(())
}

/// How often a worker removes presigned uploads never completed before their expiry.
const UPLOAD_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Removes expired uploads and progress events past their retention now and then until
/// `shutdown`; every worker may, the removals are idempotent.
async fn sweep_uploads(context: JobContext, shutdown: CancellationToken) {
    loop {
        if let Err(error) = obscura_platform::uploads::sweep_expired(&context.database, &context.blobs).await {
            tracing::warn!(error = %error, "could not remove expired uploads");
        }
        if let Err(error) = obscura_platform::events::sweep(context.database.orm(), context.event_retention).await {
            tracing::warn!(error = %error, "could not remove old progress events");
        }
        tokio::select! {
            () = tokio::time::sleep(UPLOAD_SWEEP_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// First wait before restarting a failed worker; it doubles up to [`MAX_RESTART_DELAY`].
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(500);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);
/// A worker that ran this long before failing starts over from the first delay.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Runs `run_once` until `shutdown`, restarting it with a backoff whenever it ends before.
async fn supervise<F, Fut>(kind: &str, shutdown: &CancellationToken, mut run_once: F)
where
    F: FnMut(usize, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let mut restarts = 0;
    let mut delay = FIRST_RESTART_DELAY;
    loop {
        let started = Instant::now();
        let result = run_once(restarts, shutdown.clone()).await;
        if shutdown.is_cancelled() {
            return;
        }
        // Without a shutdown, a worker that ends, cleanly or not, has lost its queue.
        let error = match result {
            Ok(()) => "the worker stopped by itself".to_owned(),
            Err(error) => error.to_string(),
        };
        if started.elapsed() >= HEALTHY_RUN {
            delay = FIRST_RESTART_DELAY;
        }
        tracing::warn!(
            kind,
            error = %error,
            restart_in_ms = delay.as_millis() as u64,
            "worker lost its queue; restarting it"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => return,
        }
        delay = (delay * 2).min(MAX_RESTART_DELAY);
        restarts += 1;
    }
}

/// The signal future `run_until` wants: resolves when `stop` is cancelled.
async fn stopped(stop: CancellationToken) -> Result<(), std::io::Error> {
    stop.cancelled().await;
    tracing::info!("worker draining");
    Ok(())
}

/// A restarted worker takes a new name: the SQLite queue refuses to re-register a name
/// whose last heartbeat is recent.
fn worker_name(base: &str, kind: &str, restarts: usize) -> String {
    if restarts == 0 {
        format!("{base}-{kind}")
    } else {
        format!("{base}-{kind}-r{restarts}")
    }
}

/// Runs a job of any type: its record, written with it, says which.
async fn handle_job(job: serde_json::Value, context: Data<JobContext>) -> Result<(), BoxDynError> {
    let job_id = job
        .get("job_id")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    let kind: Option<String> = match job_id {
        Some(job_id) => job_records::Entity::find_by_id(job_id)
            .select_only()
            .column(job_records::Column::Kind)
            .into_tuple()
            .one(context.database.orm())
            .await
            // The database is away for now: the queue tries again.
            .map_err(|error| -> BoxDynError { format!("the job record could not be read: {error}").into() })?,
        None => None,
    };
    match kind.as_deref() {
        Some(DiagnosticJob::KIND) => {
            dispatch::<DiagnosticJob, _, _>(job, &context, |context, envelope, progress| async move {
                run_diagnostic(&context, &envelope, progress).await
            })
            .await
        }
        Some(DetectJob::KIND) => {
            dispatch::<DetectJob, _, _>(job, &context, |context, envelope, progress| async move {
                run_detect(&context, &envelope, progress).await
            })
            .await
        }
        Some(ReprocessJob::KIND) => {
            dispatch::<ReprocessJob, _, _>(job, &context, |context, envelope, progress| async move {
                run_reprocess(&context, &envelope, progress).await
            })
            .await
        }
        Some(AnonymizeJob::KIND) => {
            dispatch::<AnonymizeJob, _, _>(job, &context, |context, envelope, progress| async move {
                run_anonymize(&context, &envelope, progress).await
            })
            .await
        }
        Some(DeleteJob::KIND) => {
            dispatch::<DeleteJob, _, _>(job, &context, |context, envelope, progress| async move {
                run_delete(&context, &envelope, progress).await
            })
            .await
        }
        other => {
            // A type of a newer release (during a rolling upgrade), or a record not visible
            // yet: the job goes back to the queue for a worker that knows it.
            tracing::warn!(?job_id, kind = ?other, "job of a type this worker does not run");
            Err(format!("job type {other:?} is not one this worker runs").into())
        }
    }
}

/// Decodes the envelope, checks its version, and runs one attempt in the job's span.
///
/// Payloads are taken as plain JSON so that a malformed or future payload fails its own job
/// instead of stopping the worker.
async fn dispatch<P, F, Fut>(job: serde_json::Value, context: &JobContext, work: F) -> Result<(), BoxDynError>
where
    P: JobPayload,
    F: Fn(JobContext, Arc<JobEnvelope<P>>, Progress) -> Fut,
    Fut: Future<Output = Result<serde_json::Value, JobFailure>>,
{
    let version = job.get("version").and_then(serde_json::Value::as_u64);
    let job_id = job
        .get("job_id")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    if version.is_some_and(|version| version > u64::from(P::VERSION)) {
        // Written by a newer release: during a rolling upgrade a newer worker can run it, so
        // it goes back to the queue instead of failing here.
        tracing::warn!(
            kind = P::KIND,
            ?version,
            known = P::VERSION,
            ?job_id,
            "job payload is newer than this worker"
        );
        return Err(format!("{} payload version {version:?} is newer than {}", P::KIND, P::VERSION).into());
    }
    let envelope: JobEnvelope<P> = match serde_json::from_value(job) {
        Ok(envelope) if version == Some(u64::from(P::VERSION)) => envelope,
        Ok(_) | Err(_) => {
            // The decoding error is not logged: it may quote the payload, which may hold
            // document content.
            let reason = format!(
                "{} payload (version {version:?}) cannot be read by this worker",
                P::KIND
            );
            tracing::error!(kind = P::KIND, ?version, ?job_id, "job payload cannot be read");
            if let Some(job_id) = job_id {
                context.mark_unrunnable(job_id, &reason).await;
            }
            return Err(AbortError::new(reason).into());
        }
    };
    let envelope = Arc::new(envelope);
    let span = tracing::info_span!(
        "job",
        job_id = %envelope.job_id,
        kind = P::KIND,
        request_id = envelope.request_id.as_deref().unwrap_or("-"),
        worker = %context.worker_name,
    );
    let outcome = context
        .running
        .track_future(context.run_attempt(&envelope, |progress| {
            work(context.clone(), Arc::clone(&envelope), progress)
        }))
        .instrument(span)
        .await;
    match outcome {
        AttemptOutcome::Succeeded => Ok(()),
        AttemptOutcome::Retry(message) => Err(message.into()),
        AttemptOutcome::GiveUp(message) => Err(AbortError::new(message).into()),
    }
}
