//! `spawn_app()` and the services the tests run against.

use std::path::{Path, PathBuf};
use std::time::Duration;

use obscura_api::server::{RunningServer, start};
use obscura_platform::config::{Config, EnvSource, Overrides};
use secrecy::SecretString;
use sqlx::Connection;
use tempfile::TempDir;
use uuid::Uuid;

/// Which backends a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SQLite and blobs on the local disk.
    Embedded,
    /// PostgreSQL and S3.
    Distributed,
}

/// Runs an async test body once per mode, each in its own test.
#[macro_export]
macro_rules! both_modes {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name($crate::support::Mode::Embedded).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn distributed() {
                super::$name($crate::support::Mode::Distributed).await
            }
        }
    };
}

/// Reads a variable `scripts/test` exports; failing loudly rather than skipping.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!("{name} is not set: run the tests through scripts/test, which starts PostgreSQL and S3"),
    }
}

/// The S3 settings of the test server.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
}

impl S3Settings {
    pub fn from_env() -> S3Settings {
        S3Settings {
            endpoint: required_env("OBSCURA_TEST_S3_ENDPOINT"),
            bucket: required_env("OBSCURA_TEST_S3_BUCKET"),
            access_key: required_env("OBSCURA_TEST_S3_ACCESS_KEY"),
            secret_key: required_env("OBSCURA_TEST_S3_SECRET_KEY"),
        }
    }

    /// Environment variables that point a config at this server, under a fresh prefix.
    pub fn config_vars(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            ("OBSCURA__STORAGE__BACKEND".into(), "s3".into()),
            ("OBSCURA__STORAGE__ENDPOINT".into(), self.endpoint.clone()),
            ("OBSCURA__STORAGE__BUCKET".into(), self.bucket.clone()),
            ("OBSCURA__STORAGE__PREFIX".into(), prefix.into()),
            ("OBSCURA__STORAGE__FORCE_PATH_STYLE".into(), "true".into()),
            ("OBSCURA__STORAGE__ACCESS_KEY_ID".into(), self.access_key.clone()),
            ("OBSCURA__STORAGE__SECRET_ACCESS_KEY".into(), self.secret_key.clone()),
        ]
    }
}

/// Creates a fresh PostgreSQL database on the test server and returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin_url = required_env("OBSCURA_TEST_POSTGRES_URL");
    create_database(&admin_url).await
}

/// Creates a database with a unique name on the server of `admin_url`.
pub async fn create_database(admin_url: &str) -> String {
    let name = format!("obscura_test_{}", Uuid::new_v4().simple());
    let mut connection = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|error| panic!("cannot reach the test PostgreSQL at {admin_url}: {error}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .expect("create the test database");
    let mut url = url::Url::parse(admin_url).expect("admin url parses");
    url.set_path(&name);
    url.to_string()
}

/// Everything needed to configure a test app, before it starts.
/// The master secret of distributed test apps (32 bytes in base64).
pub const TEST_SECRET_KEY: &str = "b2JzY3VyYS10ZXN0LXNlY3JldC0zMi1ieXRlcy0hISE=";

pub struct TestSetup {
    pub data_dir: TempDir,
    pub vars: Vec<(String, String)>,
    pub bootstrap_key: Option<SecretString>,
}

impl TestSetup {
    /// A fresh database (or SQLite file) and blob prefix (or directory) for `mode`.
    pub async fn new(mode: Mode) -> TestSetup {
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let bootstrap = format!("obs_test_{}", Uuid::new_v4().simple());
        let mut vars = vec![
            ("OBSCURA__SERVER__BIND".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "OBSCURA__SERVER__DATA_DIR".to_owned(),
                data_dir.path().display().to_string(),
            ),
            ("OBSCURA__SERVER__SHUTDOWN_TIMEOUT_SECS".to_owned(), "5".to_owned()),
            ("OBSCURA__WORKER__POLL_INTERVAL_MS".to_owned(), "50".to_owned()),
            ("OBSCURA__AUTH__BOOTSTRAP_KEY".to_owned(), bootstrap.clone()),
            ("OBSCURA__DATABASE__MAX_CONNECTIONS".to_owned(), "5".to_owned()),
            (
                "OBSCURA__MODELS__DIR".to_owned(),
                required_env("OBSCURA_TEST_MODELS_DIR"),
            ),
            // Most tests do not need NER; those that do turn it on with `with_ner`.
            ("OBSCURA__MODELS__NER".to_owned(), String::new()),
        ];
        if mode == Mode::Distributed {
            vars.push(("OBSCURA__DATABASE__URL".to_owned(), fresh_postgres_database().await));
            vars.push(("OBSCURA__SECURITY__SECRET_KEY".to_owned(), TEST_SECRET_KEY.to_owned()));
            let prefix = format!("test-{}", Uuid::new_v4().simple());
            vars.extend(S3Settings::from_env().config_vars(&prefix));
        }
        TestSetup {
            data_dir,
            vars,
            bootstrap_key: Some(SecretString::from(bootstrap)),
        }
    }

    /// Sets or replaces one variable.
    pub fn set(&mut self, name: &str, value: &str) -> &mut TestSetup {
        self.vars.retain(|(existing, _)| existing != name);
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs the default NER model, installed by the test command.
    pub fn with_ner(&mut self) -> &mut TestSetup {
        self.set("OBSCURA__MODELS__NER", "rampart")
    }

    /// Removes one variable.
    pub fn unset(&mut self, name: &str) -> &mut TestSetup {
        self.vars.retain(|(existing, _)| existing != name);
        if name == "OBSCURA__AUTH__BOOTSTRAP_KEY" {
            self.bootstrap_key = None;
        }
        self
    }

    pub fn config(&self) -> Config {
        Config::load(None, &EnvSource::Fixed(self.vars.clone()), &Overrides::default()).expect("test config is valid")
    }

    pub async fn start(self) -> TestApp {
        let config = self.config();
        let server = start(config).await.expect("server starts");
        TestApp {
            address: format!("http://{}", server.address),
            client: reqwest::Client::new(),
            admin_key: self.bootstrap_key,
            server: Some(server),
            data_dir: self.data_dir,
        }
    }
}

/// A running server on a free port with its own database and blob space.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin_key: Option<SecretString>,
    pub server: Option<RunningServer>,
    pub data_dir: TempDir,
}

/// Starts a test app in `mode` with default settings.
pub async fn spawn_app(mode: Mode) -> TestApp {
    TestSetup::new(mode).await.start().await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn key(&self) -> &str {
        use secrecy::ExposeSecret;
        self.admin_key
            .as_ref()
            .map(ExposeSecret::expose_secret)
            .expect("the app has an admin key")
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(self.key())
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(self.key())
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Queues a diagnostic job and returns its id.
    pub async fn queue_diagnostic(&self, blob_bytes: u32) -> String {
        let response = self
            .post("/api/v1/jobs/diagnostic")
            .json(&serde_json::json!({ "blob_bytes": blob_bytes }))
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap_or_default());
        let body: serde_json::Value = response.json().await.expect("json");
        body["job_id"].as_str().expect("job_id").to_owned()
    }

    /// Polls a job until it reaches a final state, failing after `timeout`.
    pub async fn wait_for_job(&self, job_id: &str, timeout: Duration) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let job: serde_json::Value = self
                .get(&format!("/api/v1/jobs/{job_id}"))
                .send()
                .await
                .expect("request is sent")
                .json()
                .await
                .expect("json");
            if matches!(job["state"].as_str(), Some("succeeded" | "failed")) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {job_id} did not finish: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }
}

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The path of the `obscura` binary built for these tests.
pub fn obscura_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_obscura"))
}

/// Waits until `url` answers with any status, failing after `timeout`.
pub async fn wait_until_listening(url: &str, timeout: Duration) {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while client.get(url).send().await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
