//! What every job handler gets, and the bookkeeping of job records around a handler run.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use obscura_entity::job_records;
use obscura_platform::database::{Database, DatabaseError};
use obscura_platform::events::{self, NewEvent};
use obscura_platform::jobs::{JobEnvelope, JobState};
use obscura_platform::storage::BlobStore;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Shared by every job a worker runs.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub database: Database,
    pub blobs: BlobStore,
    /// This worker's unique name, recorded on each job it runs.
    pub worker_name: String,
    /// One attempt is abandoned after this long.
    pub job_timeout: Duration,
    /// The attempts running now: a worker that stops waits for them, whatever its queue did.
    pub running: tokio_util::task::TaskTracker,
    /// Detectors, keys and limits of document jobs.
    pub engine: obscura_platform::processing::Engine,
    /// How long progress events are kept.
    pub event_retention: Duration,
}

/// Why a job attempt failed. Messages carry ids and sizes, never document content.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// Trying again may succeed.
    #[error("{0}")]
    Transient(String),
    /// Trying again cannot succeed; the job is failed at once.
    #[error("{0}")]
    Permanent(String),
    /// The database or the blob store cannot be reached: the attempt waits for it and runs
    /// again, within its timeout, without spending one of the job's attempts.
    #[error("{0}")]
    Unavailable(String),
}

impl JobFailure {
    /// A storage failure: an unreachable store is waited for, anything else is retried.
    pub fn storage(context: &str, error: &obscura_platform::storage::StorageError) -> JobFailure {
        use obscura_detection::{ErrorClass, ErrorKind};
        let message = format!("{context}: {error}");
        if error.kind() == ErrorKind::Unavailable {
            JobFailure::Unavailable(message)
        } else {
            JobFailure::Transient(message)
        }
    }
}

/// Lets a handler report how far it got.
#[derive(Debug, Clone)]
pub struct Progress {
    database: Database,
    job_id: Uuid,
    /// Whether the queue will not run this job again if this attempt fails.
    pub last_attempt: bool,
}

impl Progress {
    /// Records `percent` (clamped to 0..=100) on the job record, and its event.
    pub async fn report(&self, percent: u8) {
        self.step(obscura_platform::processing::Step {
            percent,
            code: "progress",
            message: format!("{} % done", Ord::min(percent, 100)),
        })
        .await;
    }

    /// Records a step on the job record, percent done, its stable code and its words, and
    /// publishes it as an event.
    pub async fn step(&self, step: obscura_platform::processing::Step) {
        let percent = i32::from(Ord::min(step.percent, 100));
        let recorded = async {
            let tx = self.database.begin().await?;
            job_records::Entity::update_many()
                .col_expr(job_records::Column::Progress, Expr::value(percent))
                .col_expr(job_records::Column::ProgressCode, Expr::value(step.code))
                .col_expr(job_records::Column::ProgressMessage, Expr::value(step.message.clone()))
                .col_expr(job_records::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(job_records::Column::Id.eq(self.job_id))
                .exec(&tx)
                .await?;
            if let Some(record) = job_records::Entity::find_by_id(self.job_id).one(&tx).await? {
                events::record(
                    &tx,
                    NewEvent {
                        code: Some(step.code.to_owned()),
                        message: Some(step.message.clone()),
                        ..NewEvent::of_job(&record, events::kind::PROGRESS)
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<(), DatabaseError>(())
        };
        if let Err(error) = recorded.await {
            // Progress is advisory; a failed write must not fail the job.
            tracing::warn!(job_id = %self.job_id, error = %error, "could not record job progress");
        }
    }
}

/// Runs `work` again, after a growing wait, for as long as a dependency is away; the caller's
/// timeout bounds the whole.
async fn wait_out_outages<F, Fut>(work: &F, progress: Progress) -> Result<serde_json::Value, JobFailure>
where
    F: Fn(Progress) -> Fut,
    Fut: Future<Output = Result<serde_json::Value, JobFailure>>,
{
    let mut waits = 0;
    loop {
        match work(progress.clone()).await {
            Err(JobFailure::Unavailable(message)) => {
                waits += 1;
                let delay = retry_delay(waits);
                tracing::warn!(
                    error = %message,
                    retry_in_ms = delay.as_millis() as u64,
                    "a dependency is unavailable; the attempt waits for it"
                );
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// The wait before attempt `attempts + 1`: 1 s, then doubling, at most [`MAX_RETRY_DELAY`].
fn retry_delay(attempts: i32) -> Duration {
    let exponent = Ord::min(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0), 16);
    Ord::min(Duration::from_secs(1) * 2_u32.pow(exponent), MAX_RETRY_DELAY)
}

/// The longest wait between two attempts of a job.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(16);

enum Started {
    Running(Box<job_records::Model>),
    AlreadyFinished,
    Missing,
}

/// The outcome of one attempt, as the queue should see it.
#[derive(Debug)]
pub enum AttemptOutcome {
    Succeeded,
    /// The queue should run the job again.
    Retry(String),
    /// The queue should not run the job again.
    GiveUp(String),
}

impl JobContext {
    /// Runs one attempt of a job: marks it running, runs `work` within the timeout, and
    /// records the result, the failure, or the final failure on the job record.
    pub async fn run_attempt<P, F, Fut>(&self, envelope: &JobEnvelope<P>, work: F) -> AttemptOutcome
    where
        F: Fn(Progress) -> Fut,
        Fut: Future<Output = Result<serde_json::Value, JobFailure>>,
    {
        let job_id = envelope.job_id;
        let record = match self.mark_started(job_id).await {
            Ok(Started::Running(record)) => record,
            Ok(Started::AlreadyFinished) => {
                // A redelivered task whose job already ended (the queue re-queued it after a
                // lost acknowledgement): it must not run twice.
                tracing::info!("job already finished; not running it again");
                return AttemptOutcome::Succeeded;
            }
            Ok(Started::Missing) => return AttemptOutcome::GiveUp(format!("job record {job_id} does not exist")),
            Err(error) => return AttemptOutcome::Retry(format!("could not mark job {job_id} as started: {error}")),
        };
        tracing::info!(
            attempt = record.attempts,
            max_attempts = record.max_attempts,
            "job started"
        );

        let progress = Progress {
            database: self.database.clone(),
            job_id,
            last_attempt: record.attempts >= record.max_attempts,
        };
        let result = match tokio::time::timeout(self.job_timeout, wait_out_outages(&work, progress)).await {
            Ok(result) => result,
            Err(_) => Err(JobFailure::Transient(format!(
                "the attempt took longer than {} s",
                self.job_timeout.as_secs()
            ))),
        };

        let (state, outcome, error, value) = match result {
            Ok(value) => (JobState::Succeeded, AttemptOutcome::Succeeded, None, Some(value)),
            Err(JobFailure::Permanent(message)) => (
                JobState::Failed,
                AttemptOutcome::GiveUp(message.clone()),
                Some(message),
                None,
            ),
            Err(JobFailure::Transient(message) | JobFailure::Unavailable(message))
                if record.attempts >= record.max_attempts =>
            {
                (
                    JobState::Failed,
                    AttemptOutcome::GiveUp(message.clone()),
                    Some(message),
                    None,
                )
            }
            Err(JobFailure::Transient(message) | JobFailure::Unavailable(message)) => (
                JobState::Retrying,
                AttemptOutcome::Retry(message.clone()),
                Some(message),
                None,
            ),
        };
        // The outcome is retried a few times: on the last attempt, the queue will not run the
        // job again, and a record left `running` would never end.
        let mut recorded = self.mark_finished(job_id, state, error.clone(), value.clone()).await;
        for delay_ms in [200, 1000, 5000] {
            if recorded.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            recorded = self.mark_finished(job_id, state, error.clone(), value.clone()).await;
        }
        if let Err(error) = recorded {
            tracing::error!(job_id = %job_id, error = %error, "could not record the job's outcome");
            return AttemptOutcome::Retry(format!("could not record the outcome of job {job_id}"));
        }
        match &outcome {
            AttemptOutcome::Succeeded => tracing::info!("job succeeded"),
            AttemptOutcome::Retry(message) => {
                let delay = retry_delay(record.attempts);
                tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "job attempt failed; it will be retried");
                // The queue runs a failed job again at once; waiting here spaces the
                // attempts out, exponentially, while a dependency comes back.
                tokio::time::sleep(delay).await;
            }
            AttemptOutcome::GiveUp(message) => tracing::warn!(error = %message, "job failed"),
        }
        outcome
    }

    /// Marks a job failed without running it, for payloads no handler can read.
    pub async fn mark_unrunnable(&self, job_id: Uuid, reason: &str) {
        if let Err(error) = self
            .mark_finished(job_id, JobState::Failed, Some(reason.to_owned()), None)
            .await
        {
            tracing::error!(job_id = %job_id, error = %error, "could not record the job's failure");
        }
    }

    async fn mark_started(&self, job_id: Uuid) -> Result<Started, DatabaseError> {
        let now = Utc::now();
        let tx = self.database.begin().await?;
        let updated = job_records::Entity::update_many()
            .col_expr(job_records::Column::State, Expr::value(JobState::Running.as_str()))
            .col_expr(
                job_records::Column::Attempts,
                Expr::col(job_records::Column::Attempts).add(Expr::value(1)),
            )
            .col_expr(job_records::Column::WorkerName, Expr::value(self.worker_name.clone()))
            .col_expr(job_records::Column::StartedAt, Expr::value(now))
            .col_expr(job_records::Column::UpdatedAt, Expr::value(now))
            .filter(job_records::Column::Id.eq(job_id))
            .filter(job_records::Column::State.is_not_in([
                JobState::Succeeded.as_str(),
                JobState::Failed.as_str(),
                JobState::Cancelled.as_str(),
            ]))
            .exec(&tx)
            .await?;
        let record = job_records::Entity::find_by_id(job_id).one(&tx).await?;
        let started = match record {
            None => Started::Missing,
            Some(_) if updated.rows_affected == 0 => Started::AlreadyFinished,
            Some(record) => {
                events::record(
                    &tx,
                    NewEvent {
                        code: Some("started".into()),
                        message: Some(format!(
                            "attempt {} of {} started",
                            record.attempts, record.max_attempts
                        )),
                        ..NewEvent::of_job(&record, events::kind::PROGRESS)
                    },
                )
                .await?;
                Started::Running(Box::new(record))
            }
        };
        tx.commit().await?;
        Ok(started)
    }

    async fn mark_finished(
        &self,
        job_id: Uuid,
        state: JobState,
        error: Option<String>,
        result: Option<serde_json::Value>,
    ) -> Result<(), DatabaseError> {
        let now = Utc::now();
        let tx = self.database.begin().await?;
        let mut update = job_records::Entity::update_many()
            .col_expr(job_records::Column::State, Expr::value(state.as_str()))
            .col_expr(job_records::Column::Error, Expr::value(error.clone()))
            .col_expr(job_records::Column::UpdatedAt, Expr::value(now));
        if state.is_terminal() {
            update = update.col_expr(job_records::Column::FinishedAt, Expr::value(now));
        }
        if let Some(result) = result {
            update = update
                .col_expr(job_records::Column::Result, Expr::value(result))
                .col_expr(job_records::Column::Progress, Expr::value(100));
        }
        // A job cancelled meanwhile stays cancelled.
        let updated = update
            .filter(job_records::Column::Id.eq(job_id))
            .filter(job_records::Column::State.ne(JobState::Cancelled.as_str()))
            .exec(&tx)
            .await?;
        if updated.rows_affected > 0
            && let Some(record) = job_records::Entity::find_by_id(job_id).one(&tx).await?
        {
            let event = outcome_event(&tx, &record, error.as_deref()).await?;
            events::record(&tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The event of a job's outcome: `complete` with what it made, `error` with the code its
/// document was left in (or `job_failed`), or `progress` when it will be tried again.
async fn outcome_event(
    tx: &obscura_platform::database::Tx,
    record: &job_records::Model,
    error: Option<&str>,
) -> Result<NewEvent, DatabaseError> {
    let state = JobState::parse(&record.state);
    let result = record.result.as_ref();
    let count = |field: &str| result.and_then(|result| result[field].as_u64());
    let (kind, code, message) = match state {
        Some(JobState::Succeeded) => {
            let leak_failed = result.is_some_and(|result| result["leak_check"] == "failed");
            let (code, message) = match (record.kind.as_str(), leak_failed) {
                ("anonymize", true) => (
                    "leak_check_failed",
                    "anonymized, but the leak check found originals in the output".to_owned(),
                ),
                ("anonymize", false) => (
                    "anonymized",
                    format!("{} entities replaced", count("entities_replaced").unwrap_or(0)),
                ),
                ("detect" | "reprocess", _) => (
                    "entities_found",
                    format!("{} entities found", count("entities_found").unwrap_or(0)),
                ),
                (_, _) => ("succeeded", "done".to_owned()),
            };
            (events::kind::COMPLETE, code.to_owned(), message)
        }
        Some(JobState::Retrying) => (
            events::kind::PROGRESS,
            "retrying".to_owned(),
            format!("attempt {} failed; it will be tried again", record.attempts),
        ),
        Some(JobState::Failed | JobState::Cancelled | JobState::Queued | JobState::Running) | None => {
            // A document job leaves its document in ERROR with the engine's code.
            let document_code = match record.document_id {
                Some(document_id) => obscura_entity::documents::Entity::find_by_id(document_id)
                    .one(tx)
                    .await?
                    .and_then(|document| document.error),
                None => None,
            };
            (
                events::kind::ERROR,
                document_code.unwrap_or_else(|| "job_failed".to_owned()),
                error.unwrap_or("the job failed").to_owned(),
            )
        }
    };
    Ok(NewEvent {
        code: Some(code),
        message: Some(message),
        ..NewEvent::of_job(record, kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_exponentially_longer_up_to_a_cap() {
        let delays: Vec<u64> = (1..=7).map(|attempts| retry_delay(attempts).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 16, 16]);
        assert_eq!(retry_delay(0).as_secs(), 1);
    }
}
