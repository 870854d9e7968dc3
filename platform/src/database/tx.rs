//! A database transaction usable both by SeaORM and by the job queue's push functions.
//!
//! SeaORM cannot hand out the sqlx connection inside its own transactions, so the transaction
//! is started with sqlx and SeaORM statements run on it through [`ConnectionTrait`].

use sea_orm::sea_query::Values;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::Mutex;

use super::DatabaseError;

/// An open transaction; dropping it without [`Tx::commit`] rolls it back.
pub struct Tx {
    inner: Mutex<Inner>,
    backend: DbBackend,
    /// Where notices of the events recorded in it go once it commits (SQLite; PostgreSQL
    /// announces them itself).
    notices: Option<crate::events::Notices>,
    pending: std::sync::Mutex<Vec<crate::events::Notice>>,
}

pub(crate) enum Inner {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Tx").field("backend", &self.backend).finish()
    }
}

impl Tx {
    pub(crate) fn postgres(transaction: Transaction<'static, Postgres>) -> Tx {
        Tx {
            inner: Mutex::new(Inner::Postgres(transaction)),
            backend: DbBackend::Postgres,
            notices: None,
            pending: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn sqlite(transaction: Transaction<'static, Sqlite>, notices: crate::events::Notices) -> Tx {
        Tx {
            inner: Mutex::new(Inner::Sqlite(transaction)),
            backend: DbBackend::Sqlite,
            notices: Some(notices),
            pending: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Publishes `notice` to this process once the transaction commits.
    pub(crate) fn notify_after_commit(&self, notice: crate::events::Notice) {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(notice);
    }

    /// Commits every write made in the transaction, queue pushes included, then publishes
    /// the notices of the events recorded in it.
    pub async fn commit(self) -> Result<(), DatabaseError> {
        match self.inner.into_inner() {
            Inner::Postgres(transaction) => transaction.commit().await?,
            Inner::Sqlite(transaction) => transaction.commit().await?,
        }
        if let Some(notices) = &self.notices {
            for notice in self
                .pending
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
            {
                // No receiver is no one listening, which is fine.
                let _ = notices.send(notice);
            }
        }
        Ok(())
    }

    /// Discards every write made in the transaction, queue pushes included.
    pub async fn rollback(self) -> Result<(), DatabaseError> {
        match self.inner.into_inner() {
            Inner::Postgres(transaction) => transaction.rollback().await?,
            Inner::Sqlite(transaction) => transaction.rollback().await?,
        }
        Ok(())
    }

    /// Gives `work` the raw sqlx transaction, for the queue's push functions.
    pub(crate) async fn with_inner<T>(&self, work: impl AsyncFnOnce(&mut Inner) -> T) -> T {
        let mut guard = self.inner.lock().await;
        work(&mut guard).await
    }
}

fn query_values(statement: Statement) -> (String, SqlxValues) {
    let values = statement.values.unwrap_or(Values(Vec::new()));
    (statement.sql, SqlxValues(values))
}

fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        let (sql, values) = query_values(statement);
        let query_sql = sqlx::AssertSqlSafe(sql);
        let mut guard = self.inner.lock().await;
        match &mut *guard {
            Inner::Postgres(transaction) => sqlx::query_with(query_sql, values)
                .execute(&mut **transaction)
                .await
                .map(Into::into)
                .map_err(exec_error),
            Inner::Sqlite(transaction) => sqlx::query_with(query_sql, values)
                .execute(&mut **transaction)
                .await
                .map(Into::into)
                .map_err(exec_error),
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut guard = self.inner.lock().await;
        let raw = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()));
        match &mut *guard {
            Inner::Postgres(transaction) => raw
                .execute(&mut **transaction)
                .await
                .map(Into::into)
                .map_err(exec_error),
            Inner::Sqlite(transaction) => raw
                .execute(&mut **transaction)
                .await
                .map(Into::into)
                .map_err(exec_error),
        }
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let (sql, values) = query_values(statement);
        let query_sql = sqlx::AssertSqlSafe(sql);
        let mut guard = self.inner.lock().await;
        match &mut *guard {
            Inner::Postgres(transaction) => sqlx::query_with(query_sql, values)
                .fetch_optional(&mut **transaction)
                .await
                .map(|row| row.map(Into::into))
                .map_err(query_error),
            Inner::Sqlite(transaction) => sqlx::query_with(query_sql, values)
                .fetch_optional(&mut **transaction)
                .await
                .map(|row| row.map(Into::into))
                .map_err(query_error),
        }
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let (sql, values) = query_values(statement);
        let query_sql = sqlx::AssertSqlSafe(sql);
        let mut guard = self.inner.lock().await;
        match &mut *guard {
            Inner::Postgres(transaction) => sqlx::query_with(query_sql, values)
                .fetch_all(&mut **transaction)
                .await
                .map(|rows| rows.into_iter().map(Into::into).collect())
                .map_err(query_error),
            Inner::Sqlite(transaction) => sqlx::query_with(query_sql, values)
                .fetch_all(&mut **transaction)
                .await
                .map(|rows| rows.into_iter().map(Into::into).collect())
                .map_err(query_error),
        }
    }
}
