//! Hands the unfinished jobs of a worker that stops back to the queue at once, so that
//! another worker takes them without waiting for the stopped one's heartbeats to run out.

use chrono::Utc;
use obscura_entity::job_records;
use obscura_platform::jobs::JobState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value};

use crate::runner::QUEUE_WORKER_KIND;

/// What a queue holds for a worker that has taken jobs it has not finished.
const HELD: &str = "('Queued', 'Running')";

/// Puts the jobs that the queue's workers of the process named `base` took and did not
/// finish back in the queue, and marks their records to be retried. Returns how many.
///
/// Call it once the process's attempts are aborted: an attempt that still ran would race the
/// worker that takes its job next (harmless, since handlers are idempotent, but wasted).
pub async fn hand_back(database: &impl ConnectionTrait, base: &str) -> Result<u64, sea_orm::DbErr> {
    let backend = database.get_database_backend();
    let prefix = format!("{base}-{QUEUE_WORKER_KIND}");
    let (select, update) = if backend == DbBackend::Postgres {
        (
            format!(
                "SELECT id, lock_by FROM apalis.jobs \
                 WHERE status IN {HELD} AND substr(lock_by, 1, length($1)) = $1"
            ),
            format!(
                "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL, done_at = NULL \
                 WHERE id = $1 AND lock_by = $2 AND status IN {HELD}"
            ),
        )
    } else {
        (
            format!(
                "SELECT id, lock_by FROM Jobs \
                 WHERE status IN {HELD} AND substr(lock_by, 1, length(?1)) = ?1"
            ),
            format!(
                "UPDATE Jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL, done_at = NULL \
                 WHERE id = ?1 AND lock_by = ?2 AND status IN {HELD}"
            ),
        )
    };
    let rows = database
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            select,
            [Value::from(prefix.clone())],
        ))
        .await?;
    let mut handed = 0;
    for row in rows {
        let id: String = row.try_get_by_index(0)?;
        let lock_by: String = row.try_get_by_index(1)?;
        // The prefix also matches other workers whose names merely begin like this one's.
        if !is_queue_worker_of(&lock_by, &prefix) {
            continue;
        }
        let result = database
            .execute_raw(Statement::from_sql_and_values(
                backend,
                update.clone(),
                [Value::from(id), Value::from(lock_by)],
            ))
            .await?;
        handed += result.rows_affected();
    }
    // The records of what this process was running say that it will run again.
    job_records::Entity::update_many()
        .col_expr(job_records::Column::State, Expr::value(JobState::Retrying.as_str()))
        .col_expr(
            job_records::Column::Error,
            Expr::value("its worker stopped before it finished; another worker runs it"),
        )
        .col_expr(job_records::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job_records::Column::WorkerName.eq(base))
        .filter(job_records::Column::State.eq(JobState::Running.as_str()))
        .exec(database)
        .await?;
    Ok(handed)
}

/// Whether `lock_by` names the queue worker `prefix`, or one of its restarts (`prefix-rN`).
fn is_queue_worker_of(lock_by: &str, prefix: &str) -> bool {
    match lock_by.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix("-r")
            .is_some_and(|number| !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit())),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_queue_worker_of;

    #[test]
    fn only_the_worker_and_its_restarts_are_its_own() {
        assert!(is_queue_worker_of("w1-jobs", "w1-jobs"));
        assert!(is_queue_worker_of("w1-jobs-r12", "w1-jobs"));
        assert!(!is_queue_worker_of("w1-jobs-r", "w1-jobs"));
        assert!(!is_queue_worker_of("w1-jobs-rx", "w1-jobs"));
        assert!(!is_queue_worker_of("w1-jobs-r1-jobs", "w1-jobs"));
        assert!(!is_queue_worker_of("w10-jobs", "w1-jobs"));
        assert!(!is_queue_worker_of("w1-job", "w1-jobs"));
    }
}
