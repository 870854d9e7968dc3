//! The `obscura` binary: parses the command line, loads the configuration and runs a command.

#![allow(clippy::print_stdout)]

use anyhow::Context;
use clap::Parser;
use obscura_api::auth::{self, Bootstrap};
use obscura_api::cli::{Cli, Command, KeysCommand};
use obscura_api::server;
use obscura_entity::DEFAULT_TENANT_ID;
use obscura_platform::config::{Config, EnvSource};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

/// mimalloc keeps the pages of inference's large tensors between windows, where the system
/// allocator returns them to the kernel and faults them in again (about 20% of NER time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    limit_openmp_threads();
    decline_transparent_huge_pages();
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", obscura_api::openapi::openapi_json());
        return std::process::ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref(), &EnvSource::Process, &cli.command.overrides()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("obscura: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    set_inference_threads(config.models.threads);
    if let Err(error) = obscura_api::telemetry::init(&config.log) {
        eprintln!("obscura: {error}");
        return std::process::ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("obscura: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, config));
    // Blocking tasks (parsing, inference) get a moment to end; the process must not hang.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("obscura: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Tesseract runs parts of its recognizer on OpenMP threads (four at once, whatever the
/// cores), and they spin while they wait: with two cores, a page took 1.7 s instead of 0.29 s,
/// and Obscura runs its own readings side by side already. libgomp reads `OMP_THREAD_LIMIT`
/// only when it is loaded, before `main`, so when it is not set the process starts itself
/// again with it set to 1. An operator who sets it keeps their value.
fn limit_openmp_threads() {
    #[cfg(unix)]
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        use std::os::unix::process::CommandExt as _;
        if let Ok(executable) = std::env::current_exe() {
            let mut arguments = std::env::args_os();
            let mut command = std::process::Command::new(executable);
            if let Some(name) = arguments.next() {
                // The name it was called by, for help and error messages.
                command.arg0(name);
            }
            let error = command.args(arguments).env("OMP_THREAD_LIMIT", "1").exec();
            // Only speed depends on it.
            eprintln!("obscura: could not restart with OMP_THREAD_LIMIT=1: {error}");
        }
    }
}

/// mimalloc asks the kernel for transparent huge pages, and the kernel then zeroes two
/// megabytes at the first touch of each: in short runs that stalled pattern detection by up
/// to a fifth, in one run out of two. NER is as fast without them (see BENCHMARKS.md).
fn decline_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        // Only speed depends on it.
        eprintln!("obscura: could not decline transparent huge pages: {error}");
    }
}

/// Sizes candle's CPU thread pools, which read `RAYON_NUM_THREADS` when they start.
#[allow(unsafe_code)]
fn set_inference_threads(threads: usize) {
    if threads > 0 {
        // SAFETY: called from `main` before the async runtime, the logger or any other thread
        // exists, so nothing reads the environment while it changes.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
    obscura_models::set_threads(threads);
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => {
            let running = server::start(config).await?;
            if let Bootstrap::Generated { key, key_file } = &running.bootstrap {
                println!(
                    "Created the first admin API key (shown once; also saved to {}):",
                    key_file.display()
                );
                println!("{}", key.expose_secret());
            }
            println!("Obscura is listening on http://{} (docs at /docs)", running.address);
            running.run_until(server::shutdown_signal()).await
        }
        Command::Worker(_) => {
            let shutdown = CancellationToken::new();
            let signal_token = shutdown.clone();
            tokio::spawn(async move {
                server::shutdown_signal().await;
                signal_token.cancel();
            });
            server::run_worker_process(config, shutdown).await
        }
        Command::Migrate(_) => {
            let database = server::prepare_database(&config).await?;
            database.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Config(_) => {
            println!("{}", serde_json::to_string_pretty(&config.redacted())?);
            Ok(())
        }
        Command::Check(_) => run_check(&config).await,
        Command::Keys(keys) => run_keys(keys, &config).await,
        Command::Detect(args) => {
            tokio::task::spawn_blocking(move || obscura_api::commands::run_detect(&args, &config)).await?
        }
        Command::Anonymize(args) => {
            tokio::task::spawn_blocking(move || obscura_api::commands::run_anonymize(&args, &config)).await?
        }
        Command::AnonymizeFile(args) => {
            tokio::task::spawn_blocking(move || obscura_api::commands::run_anonymize_file(&args, &config)).await?
        }
        Command::Eval(args) => {
            tokio::task::spawn_blocking(move || obscura_api::commands::run_eval(&args, &config)).await?
        }
        Command::Models(command) => {
            tokio::task::spawn_blocking(move || obscura_api::commands::run_models(command, &config)).await?
        }
        Command::Projects(command) => obscura_api::client::run_projects(command).await,
        Command::Documents(command) => obscura_api::client::run_documents(command).await,
        Command::Openapi => Ok(()),
    }
}

/// Used as the container health check of workers, which serve no HTTP.
async fn run_check(config: &Config) -> anyhow::Result<()> {
    let database = obscura_platform::database::Database::connect(config).await?;
    let database_result = database.check().await;
    let blobs = obscura_platform::storage::BlobStore::from_config(&config.storage).await?;
    let storage_result = blobs.check().await;
    database.close().await;
    let describe = |result: &Result<(), String>| match result {
        Ok(()) => "up".to_owned(),
        Err(error) => format!("down: {error}"),
    };
    let database_result = database_result.map_err(|error| obscura_api::problem::error_chain(&error));
    let storage_result = storage_result.map_err(|error| obscura_api::problem::error_chain(&error));
    println!("database ({}): {}", database.backend_name(), describe(&database_result));
    println!("storage ({}): {}", blobs.backend_name(), describe(&storage_result));
    if database_result.is_err() || storage_result.is_err() {
        anyhow::bail!("a dependency is down");
    }
    Ok(())
}

async fn run_keys(command: KeysCommand, config: &Config) -> anyhow::Result<()> {
    let database = server::prepare_database(config).await?;
    match command {
        KeysCommand::Create { name, role, tenant, .. } => {
            let (id, key) = auth::create_key(&database, tenant.unwrap_or(DEFAULT_TENANT_ID), &name, role)
                .await
                .context("creating the key")?;
            println!("id:   {id}");
            println!("role: {}", role.as_str());
            println!("key:  {}", key.expose_secret());
            println!("The key is shown only now; store it safely.");
        }
        KeysCommand::List(_) => {
            println!("{:<36}  {:<8}  {:<20}  {:<25}  state", "id", "role", "name", "created");
            for key in auth::list_keys(&database).await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{:<36}  {:<8}  {:<20}  {:<25}  {state}",
                    key.id,
                    key.role,
                    key.name,
                    key.created_at.to_rfc3339()
                );
            }
        }
        KeysCommand::Revoke { id, .. } => {
            auth::revoke_key(&database, id).await?;
            println!("revoked {id}");
        }
    }
    database.close().await;
    Ok(())
}
