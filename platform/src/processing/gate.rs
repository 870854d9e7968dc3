//! One anonymization at a time per project.
//!
//! An anonymization renders its document with the project's glossary and then stores the
//! entries it added. Two that run side by side in one project both add entries when their
//! documents name new people, so the one that stores second must render again, and in a
//! busy project it could lose every time. The gate makes them take turns instead: across
//! processes with a PostgreSQL advisory lock held by a transaction, and within the one
//! process of embedded mode (SQLite) with a lock per project. The version check and the
//! unique index stay behind it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use uuid::Uuid;

use crate::database::{Database, Pool};

/// Held while a project's glossary is read, used and written; dropping it opens the gate.
pub(super) enum Turn {
    /// The transaction holding the advisory lock; it ends, and the lock with it, on drop.
    Postgres(#[allow(dead_code)] sqlx::Transaction<'static, sqlx::Postgres>),
    Local(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
}

static LOCAL: LazyLock<Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>> = LazyLock::new(Mutex::default);

/// Waits for the project's turn.
pub(super) async fn turn(database: &Database, project_id: Uuid) -> Result<Turn, sqlx::Error> {
    match database.pool() {
        Pool::Postgres(pool) => {
            let mut transaction = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock_key(project_id))
                .execute(&mut *transaction)
                .await?;
            Ok(Turn::Postgres(transaction))
        }
        Pool::Sqlite(_) => {
            let lock = {
                let mut locks = LOCAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                // Projects no one waits for any more are let go.
                locks.retain(|_, lock| Arc::strong_count(lock) > 1);
                locks.entry(project_id).or_default().clone()
            };
            Ok(Turn::Local(lock.lock_owned().await))
        }
    }
}

/// The advisory lock's key: the project id's first eight bytes, apart from the startup
/// lock's by a constant of its own.
fn lock_key(project_id: Uuid) -> i64 {
    let bytes = project_id.as_bytes();
    let mut first = [0_u8; 8];
    first.copy_from_slice(&bytes[..8]);
    i64::from_be_bytes(first) ^ 0x6f62_7363_676c_6f73
}
