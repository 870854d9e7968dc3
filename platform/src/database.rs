//! Database access: one sqlx pool (PostgreSQL or SQLite) shared by SeaORM and the job queue.
//!
//! The pool is created here and wrapped for SeaORM, so that queue pushes and our own writes can
//! share a transaction ([`Tx`]). Migrations, ours and the queue's, run under a PostgreSQL
//! advisory lock so that API replicas and workers starting at once do not race.

pub(crate) mod tx;

use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use obscura_detection::{ErrorClass, ErrorKind};
use sea_orm::{DatabaseConnection, SqlxPostgresConnector, SqlxSqliteConnector};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgAdvisoryLock, PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use tx::Tx;

use crate::config::Config;

/// Name of the advisory lock held while migrating and bootstrapping.
const STARTUP_LOCK: &str = "obscura:startup";
/// A health check that takes longer than this reports the database as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The pool of the configured backend.
#[derive(Debug, Clone)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A handle on the database: the sqlx pool and the SeaORM connection over it.
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool,
    orm: DatabaseConnection,
    /// This process's notices of committed events (see [`crate::events`]).
    notices: crate::events::Notices,
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("could not connect to the database ({url}); check DATABASE_URL or OBSCURA__DATABASE__URL")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database migration failed")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("database query failed")]
    Query(#[from] sea_orm::DbErr),
    #[error("database query failed")]
    Sqlx(#[from] sqlx::Error),
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
}

impl DatabaseError {
    /// True when the database could not be reached, as opposed to a query that failed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DatabaseError::Connect { .. } | DatabaseError::Timeout(_) => true,
            DatabaseError::Sqlx(error) => sqlx_unavailable(error),
            DatabaseError::Query(error) => query_unavailable(error),
            DatabaseError::DataDir { .. } | DatabaseError::Migrate(_) => false,
        }
    }
}

/// Whether a query failed because the database could not be reached, rather than because
/// of the query.
pub fn query_unavailable(error: &sea_orm::DbErr) -> bool {
    matches!(error, sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_))
        || matches!(
            error,
            sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(inner))
                | sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(inner))
                if sqlx_unavailable(inner)
        )
}

fn sqlx_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    )
}

impl ErrorClass for DatabaseError {
    fn kind(&self) -> ErrorKind {
        if self.is_unavailable() {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Internal
        }
    }

    fn code(&self) -> &'static str {
        if self.is_unavailable() {
            "database_unavailable"
        } else {
            "internal_error"
        }
    }
}

/// Runs a health-check query, reporting the database as down past [`CHECK_TIMEOUT`].
pub async fn with_check_timeout<T>(query: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, DatabaseError> {
    match tokio::time::timeout(CHECK_TIMEOUT, query).await {
        Ok(result) => result.map_err(DatabaseError::from),
        Err(_) => Err(DatabaseError::Timeout(CHECK_TIMEOUT)),
    }
}

impl Database {
    /// Connects to the configured database; an empty URL means SQLite in the data directory.
    pub async fn connect(config: &Config) -> Result<Database, DatabaseError> {
        let url = config.database.url.expose_secret();
        let connect_timeout = Duration::from_secs(config.database.connect_timeout_secs);
        let redacted = crate::config::redact_url(url);
        let connect_error = |source| DatabaseError::Connect {
            url: redacted.clone(),
            source,
        };
        if config.uses_postgres() {
            let options = PgConnectOptions::from_str(url).map_err(connect_error)?;
            let pool = PgPoolOptions::new()
                .max_connections(config.database.max_connections.max(2))
                .acquire_timeout(connect_timeout)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            let orm = SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
            return Ok(Database {
                pool: Pool::Postgres(pool),
                orm,
                notices: tokio::sync::broadcast::channel(crate::events::NOTICE_CAPACITY).0,
            });
        }

        let options = if url.is_empty() {
            let data_dir = &config.server.data_dir;
            crate::storage::create_private_dir(data_dir)
                .await
                .map_err(|source| DatabaseError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                })?;
            SqliteConnectOptions::new().filename(sqlite_path(data_dir))
        } else {
            SqliteConnectOptions::from_str(url).map_err(connect_error)?
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Set on every connection: the queue's own setup would turn it off on one.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(config.database.max_connections)
            .acquire_timeout(connect_timeout)
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        let orm = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
        Ok(Database {
            pool: Pool::Sqlite(pool),
            orm,
            notices: tokio::sync::broadcast::channel(crate::events::NOTICE_CAPACITY).0,
        })
    }

    /// The SeaORM connection.
    pub fn orm(&self) -> &DatabaseConnection {
        &self.orm
    }

    /// The sqlx pool, for the job queue.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The backend's name, for logs.
    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Postgres(_) => "postgres",
            Pool::Sqlite(_) => "sqlite",
        }
    }

    /// Starts a transaction in which SeaORM writes and queue pushes commit together.
    pub async fn begin(&self) -> Result<Tx, DatabaseError> {
        Ok(match &self.pool {
            Pool::Postgres(pool) => Tx::postgres(pool.begin().await?),
            Pool::Sqlite(pool) => Tx::sqlite(pool.begin().await?, self.notices.clone()),
        })
    }

    /// This process's notices of committed events: on SQLite its own transactions', on
    /// PostgreSQL what [`crate::events::listen`] hears.
    pub fn notices(&self) -> &crate::events::Notices {
        &self.notices
    }

    /// Runs `work` while holding the startup lock, so one process at a time migrates.
    ///
    /// On PostgreSQL this is a session advisory lock on a dedicated connection; SQLite is only
    /// ever used by one process, whose own startup is sequential.
    pub async fn with_startup_lock<T, E, F, Fut>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<DatabaseError>,
    {
        match &self.pool {
            Pool::Postgres(pool) => {
                let connection = pool.acquire().await.map_err(DatabaseError::from)?;
                let guard = PgAdvisoryLock::new(STARTUP_LOCK)
                    .acquire(connection)
                    .await
                    .map_err(DatabaseError::from)?;
                let result = work().await;
                guard.release_now().await.map_err(DatabaseError::from)?;
                result
            }
            Pool::Sqlite(_) => work().await,
        }
    }

    /// Applies the queue's migrations and ours. Call inside [`Database::with_startup_lock`].
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        match &self.pool {
            Pool::Postgres(pool) => apalis_postgres::PostgresStorage::<()>::migrations()
                .run(pool)
                .await
                .map_err(|error| DatabaseError::Migrate(Box::new(error)))?,
            // The queue's `setup` is skipped on purpose: it sets `synchronous = OFF` on
            // whichever connection it gets. Its migrations are all we need.
            Pool::Sqlite(pool) => apalis_sqlite::SqliteStorage::<()>::migrations()
                .run(pool)
                .await
                .map_err(|error| DatabaseError::Migrate(Box::new(error)))?,
        }
        obscura_migration::Migrator::up(&self.orm, None)
            .await
            .map_err(|error| DatabaseError::Migrate(Box::new(error)))?;
        Ok(())
    }

    /// Proves the database answers a query.
    pub async fn check(&self) -> Result<(), DatabaseError> {
        with_check_timeout(async {
            match &self.pool {
                Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
                Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            }
        })
        .await
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Postgres(pool) => pool.close().await,
            Pool::Sqlite(pool) => pool.close().await,
        }
    }
}

/// The default SQLite file for a data directory.
pub fn sqlite_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("obscura.db")
}
