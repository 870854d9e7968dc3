//! Starting and stopping the processes: the API (with optional in-process workers) and the worker.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use obscura_platform::config::Config;
use obscura_platform::database::{Database, DatabaseError};
use obscura_platform::storage::BlobStore;
use obscura_platform::worker_name::unique_worker_name;
use obscura_worker::{JobContext, WorkerSettings, run_workers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::{self, Bootstrap, KeyCache};
use crate::metrics::Metrics;
use crate::openapi::build_router;
use crate::state::AppState;

/// Connects to the database and applies migrations under the startup lock.
pub async fn prepare_database(config: &Config) -> anyhow::Result<Database> {
    let database = Database::connect(config).await?;
    database
        .with_startup_lock(|| async { database.migrate().await })
        .await
        .map_err(|error: DatabaseError| anyhow::Error::new(error))
        .context("applying database migrations")?;
    tracing::info!(backend = database.backend_name(), "database ready");
    Ok(database)
}

/// A running API server.
pub struct RunningServer {
    /// The address it listens on (useful when the port was 0).
    pub address: SocketAddr,
    /// What first start did about the admin key.
    pub bootstrap: Bootstrap,
    pub state: AppState,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    /// In-process workers, by name.
    workers: Vec<(String, JoinHandle<()>)>,
    shutdown_timeout: Duration,
}

impl RunningServer {
    /// Serves until `signal` resolves, then shuts down gracefully. If the HTTP server stops
    /// by itself first, the workers are drained and its error is returned.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = signal => self.shutdown().await,
            joined = &mut self.server => {
                tracing::error!("the HTTP server stopped unexpectedly; draining workers");
                self.shutdown.cancel();
                let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
                join_workers(&self.state.database, self.workers, deadline).await;
                match joined {
                    Ok(Ok(())) => Err(anyhow::anyhow!("the HTTP server stopped unexpectedly")),
                    Ok(Err(error)) => Err(error),
                    Err(error) => Err(anyhow::Error::new(error).context("the HTTP server task failed")),
                }
            }
        }
    }

    /// Stops accepting, lets in-flight requests and jobs finish within the deadline, and exits.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        tracing::info!(deadline_s = self.shutdown_timeout.as_secs(), "shutting down");
        self.shutdown.cancel();
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        let server_abort = self.server.abort_handle();
        let served = match tokio::time::timeout_at(deadline, self.server).await {
            Ok(joined) => joined.context("the HTTP server task failed").and_then(|result| result),
            Err(_) => {
                server_abort.abort();
                tracing::warn!("in-flight requests did not finish before the deadline; they were dropped");
                Ok(())
            }
        };
        // Workers are drained whatever happened to the HTTP server.
        join_workers(&self.state.database, self.workers, deadline).await;
        tracing::info!("stopped");
        served
    }
}

/// Waits for in-process workers until `deadline`, then aborts the rest and hands their jobs
/// back to the queue.
async fn join_workers(database: &Database, workers: Vec<(String, JoinHandle<()>)>, deadline: tokio::time::Instant) {
    for (name, worker) in workers {
        let abort = worker.abort_handle();
        if tokio::time::timeout_at(deadline, worker).await.is_err() {
            abort.abort();
            hand_back_jobs(database, &name).await;
        }
    }
}

/// Gives the jobs of the worker `name`, stopped before they finished, back to the queue; if
/// the database cannot be reached, the queue hands them over once the worker's heartbeats
/// have stopped.
async fn hand_back_jobs(database: &Database, name: &str) {
    match obscura_worker::hand_back(database.orm(), name).await {
        Ok(count) => tracing::warn!(
            worker = name,
            jobs = count,
            "running jobs did not finish before the deadline; they were handed back to the queue"
        ),
        Err(error) => tracing::warn!(
            worker = name,
            error = %error,
            "running jobs did not finish before the deadline and could not be handed back; \
             the queue gives them to another worker once this one's heartbeats stop"
        ),
    }
}

/// What a handler needs, for a worker named `worker_name`.
fn job_context(
    config: &Config,
    database: &Database,
    blobs: &BlobStore,
    engine: &obscura_platform::processing::Engine,
    worker_name: String,
) -> JobContext {
    JobContext {
        database: database.clone(),
        blobs: blobs.clone(),
        worker_name,
        job_timeout: Duration::from_secs(config.worker.job_timeout_secs),
        running: tokio_util::task::TaskTracker::new(),
        engine: engine.clone(),
        event_retention: Duration::from_secs(config.events.retention_secs),
    }
}

/// What document jobs run with. A document's own deadline ends before the job's timeout,
/// so that a document that takes too long fails with `timed_out` instead of being cut off.
pub fn document_engine(
    config: &Config,
    catalog: Arc<obscura_detection::catalog::Catalog>,
    master_keys: Arc<obscura_platform::secrets::MasterKeys>,
) -> obscura_platform::processing::Engine {
    let job_timeout = Duration::from_secs(config.worker.job_timeout_secs);
    obscura_platform::processing::Engine {
        catalog,
        master_keys,
        limits: obscura_documents::Limits {
            max_file_bytes: config
                .server
                .max_upload_bytes
                .max(config.server.max_presigned_upload_bytes),
            max_duration: job_timeout.saturating_sub(job_timeout / 5),
            ..obscura_documents::Limits::default()
        },
    }
}

/// Starts the API: database, migrations, the admin key, storage, in-process workers, HTTP.
pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
    tracing::info!(config = %config.redacted(), "starting obscura serve");
    let database = prepare_database(&config).await?;
    let bootstrap = database
        .with_startup_lock(|| async {
            auth::bootstrap_admin_key(&database, config.auth.bootstrap_key.as_ref(), &config.auth.key_file)
                .await
                .map_err(anyhow::Error::new)
        })
        .await
        .context("creating the first admin key")?;
    let blobs = BlobStore::from_config(&config.storage)
        .await
        .context("opening blob storage")?;
    let master_keys = obscura_platform::secrets::MasterKeys::load(&config)
        .context("loading the master secret; set OBSCURA__SECURITY__SECRET_KEY")?;
    let (catalog, ner) = crate::commands::load_catalog(&config)?;
    let catalog = Arc::new(catalog);
    let master_keys = Arc::new(master_keys);
    let engine = document_engine(&config, catalog.clone(), master_keys.clone());
    let address = config.bind_address()?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}; set OBSCURA__SERVER__BIND or --bind"))?;
    let address = listener.local_addr()?;
    // A public URL derived from the bind address names the port actually bound (port 0
    // binds any free one).
    if config.server.public_url == format!("http://{}", config.server.bind) {
        config.server.public_url = format!("http://{address}");
    }
    let shutdown = CancellationToken::new();
    let shutdown_timeout = Duration::from_secs(config.server.shutdown_timeout_secs);

    let mut workers = Vec::new();
    for index in 0..config.server.workers {
        let name = format!("{}-w{index}", unique_worker_name(&config.worker.name));
        let context = job_context(&config, &database, &blobs, &engine, name.clone());
        workers.push((name, spawn_worker(context, &config, shutdown.clone())));
    }

    // Progress: announcements from other processes (PostgreSQL), read once for all sockets.
    let _listener = obscura_platform::events::listen(&database, shutdown.clone());
    let feed = obscura_platform::events::Feed::start(&database, shutdown.clone());
    let state = AppState {
        feed,
        shutdown: shutdown.clone(),
        config: Arc::new(config),
        database,
        blobs,
        catalog,
        ner: Arc::new(ner),
        master_keys,
        metrics: Arc::new(Metrics::new()),
        key_cache: Arc::new(KeyCache::default()),
        in_process_workers: workers.len(),
    };
    // A trailing slash on an API path is trimmed before routing: `/api/v1/projects/` is
    // `/api/v1/projects`, and a client joining its base URL and `/` reaches `/api/v1`. The
    // interactive docs keep theirs (they redirect `/docs` to `/docs/`).
    let router = tower::Layer::layer(
        &tower::util::MapRequestLayer::new(trim_api_trailing_slash),
        build_router(state.clone()),
    );
    let server_shutdown = shutdown.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(router),
        )
        .with_graceful_shutdown(server_shutdown.cancelled_owned())
        .await
        .context("serving HTTP")
    });
    tracing::info!(%address, workers = workers.len(), "listening");
    Ok(RunningServer {
        address,
        bootstrap,
        state,
        shutdown,
        server,
        workers,
        shutdown_timeout,
    })
}

fn spawn_worker(context: JobContext, config: &Config, shutdown: CancellationToken) -> JoinHandle<()> {
    let settings = worker_settings(config, context.worker_name.clone());
    tokio::spawn(async move {
        if let Err(error) = run_workers(context, settings, shutdown).await {
            tracing::error!(error = %crate::problem::error_chain(&error), "worker failed");
        }
    })
}

/// Worker settings from the configuration.
pub fn worker_settings(config: &Config, name: String) -> WorkerSettings {
    WorkerSettings {
        name,
        concurrency: config.worker.jobs_at_once(),
        poll_interval: Duration::from_millis(config.worker.poll_interval_ms),
    }
}

/// Runs a worker-only process (a fleet member) until `shutdown` is cancelled, then gives
/// running jobs `server.shutdown_timeout_secs` to finish.
pub async fn run_worker_process(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(config = %config.redacted(), "starting obscura worker");
    let database = prepare_database(&config).await?;
    let blobs = BlobStore::from_config(&config.storage)
        .await
        .context("opening blob storage")?;
    let master_keys = obscura_platform::secrets::MasterKeys::load(&config)
        .context("loading the master secret; set OBSCURA__SECURITY__SECRET_KEY")?;
    let (catalog, _) = crate::commands::load_catalog(&config)?;
    let engine = document_engine(&config, Arc::new(catalog), Arc::new(master_keys));
    let name = unique_worker_name(&config.worker.name);
    let context = job_context(&config, &database, &blobs, &engine, name.clone());
    let deadline = Duration::from_secs(config.server.shutdown_timeout_secs);
    let mut workers = tokio::spawn(run_workers(
        context,
        worker_settings(&config, name.clone()),
        shutdown.clone(),
    ));
    tokio::select! {
        joined = &mut workers => return Ok(joined.context("the worker task failed")??),
        () = shutdown.cancelled() => {}
    }
    tracing::info!(deadline_s = deadline.as_secs(), "draining running jobs");
    match tokio::time::timeout(deadline, &mut workers).await {
        Ok(joined) => joined.context("the worker task failed")??,
        Err(_) => {
            workers.abort();
            hand_back_jobs(&database, &name).await;
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("interrupt received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// `/api/v1/x/` as `/api/v1/x`, the query kept; other paths as they are.
fn trim_api_trailing_slash(mut request: axum::extract::Request) -> axum::extract::Request {
    let path = request.uri().path();
    if path.starts_with("/api/") && path.len() > "/api/".len() && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(path_and_query) = rebuilt.parse::<axum::http::uri::PathAndQuery>() {
            let mut parts = request.uri().clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}
