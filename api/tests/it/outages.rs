//! `/health` when PostgreSQL or S3 goes away, and when it comes back.
//!
//! These tests run their own PostgreSQL cluster and S3 server, since stopping the shared
//! ones would break every other test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{Mode, TEST_SECRET_KEY, TestSetup, free_port, required_env};

/// A private PostgreSQL cluster in a temporary directory.
struct PrivatePostgres {
    directory: PathBuf,
    data: String,
    log: String,
    port: u16,
}

/// Runs a PostgreSQL tool, as the unprivileged user when the tests run as root.
fn postgres_command(program: &str) -> Command {
    match std::env::var("OBSCURA_TEST_PG_USER")
        .ok()
        .filter(|user| !user.is_empty())
    {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", &user, "--", program]);
            command
        }
        None => Command::new(program),
    }
}

impl PrivatePostgres {
    fn init() -> PrivatePostgres {
        let directory = std::env::temp_dir().join(format!("obscura-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).unwrap();
        if let Ok(user) = std::env::var("OBSCURA_TEST_PG_USER")
            && !user.is_empty()
        {
            let status = Command::new("chown")
                .args([&user, directory.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let status = postgres_command("initdb")
            .args([
                "-D",
                directory.join("data").to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("initdb runs (PostgreSQL server binaries must be on PATH)");
        assert!(status.success(), "initdb failed");
        let server = PrivatePostgres {
            data: directory.join("data").display().to_string(),
            log: directory.join("log").display().to_string(),
            directory,
            port: free_port(),
        };
        server.start();
        server
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.directory.display()
        );
        let status = postgres_command("pg_ctl")
            .args(["-D", self.data(), "-o", &options, "-l", self.log(), "-w", "start"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl start failed");
    }

    fn stop(&self) {
        let status = postgres_command("pg_ctl")
            .args(["-D", self.data(), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl stop failed");
    }

    fn data(&self) -> &str {
        &self.data
    }

    fn log(&self) -> &str {
        &self.log
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = postgres_command("pg_ctl")
            .args(["-D", self.data(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A private S3-compatible server.
struct PrivateS3 {
    root: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl PrivateS3 {
    fn start() -> PrivateS3 {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("bucket")).unwrap();
        let mut server = PrivateS3 {
            root,
            port: free_port(),
            child: None,
        };
        server.resume();
        server
    }

    fn resume(&mut self) {
        let child = Command::new(required_env("OBSCURA_TEST_S3S_BIN"))
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", "outage-access", "--secret-key", "outage-secret"])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        self.child = Some(child);
        wait_for_port(self.port);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("OBSCURA__STORAGE__BACKEND".into(), "s3".into()),
            (
                "OBSCURA__STORAGE__ENDPOINT".into(),
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("OBSCURA__STORAGE__BUCKET".into(), "bucket".into()),
            ("OBSCURA__STORAGE__FORCE_PATH_STYLE".into(), "true".into()),
            ("OBSCURA__STORAGE__ACCESS_KEY_ID".into(), "outage-access".into()),
            ("OBSCURA__STORAGE__SECRET_ACCESS_KEY".into(), "outage-secret".into()),
        ]
    }
}

impl Drop for PrivateS3 {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

async fn health(client: &reqwest::Client, base: &str) -> (u16, serde_json::Value) {
    let response = client.get(format!("{base}/health")).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Polls `/health` until its status is `expected`, failing after a while.
async fn wait_for_health(client: &reqwest::Client, base: &str, expected: u16) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = health(client, base).await;
        if status == expected {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "health stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn remove_prefixed(setup: &mut TestSetup, prefix: &str) {
    let names: Vec<String> = setup
        .vars
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(name, _)| name.clone())
        .collect();
    for name in names {
        setup.unset(&name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_postgres_when_it_stops_and_recovers_when_it_returns() {
    let postgres = PrivatePostgres::init();
    let url = crate::support::create_database(&postgres.admin_url()).await;
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup
        .set("OBSCURA__DATABASE__URL", &url)
        .set("OBSCURA__SECURITY__SECRET_KEY", TEST_SECRET_KEY)
        .set("OBSCURA__SERVER__WORKERS", "0");
    let app = setup.start().await;

    let body = wait_for_health(&app.client, &app.address, 200).await;
    assert_eq!(body["components"]["database"]["backend"], "postgres");

    postgres.stop();
    let body = wait_for_health(&app.client, &app.address, 503).await;
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["components"]["database"]["status"], "down", "{body}");
    let down: Vec<&str> = body["down"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|name| name.as_str())
        .collect();
    assert!(down.contains(&"database"), "{body}");
    assert!(!down.contains(&"storage"), "{body}");

    postgres.start();
    let body = wait_for_health(&app.client, &app.address, 200).await;
    assert_eq!(body["components"]["database"]["status"], "up");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_storage_when_s3_is_unreachable_and_recovers() {
    let mut s3 = PrivateS3::start();
    let mut setup = TestSetup::new(Mode::Embedded).await;
    remove_prefixed(&mut setup, "OBSCURA__STORAGE__");
    setup.vars.extend(s3.vars());
    setup.set("OBSCURA__SERVER__WORKERS", "0");
    let app = setup.start().await;

    let body = wait_for_health(&app.client, &app.address, 200).await;
    assert_eq!(body["components"]["storage"]["backend"], "s3");

    s3.kill();
    let body = wait_for_health(&app.client, &app.address, 503).await;
    assert_eq!(body["components"]["storage"]["status"], "down", "{body}");
    assert_eq!(body["down"], serde_json::json!(["storage"]));

    s3.resume();
    let body = wait_for_health(&app.client, &app.address, 200).await;
    assert_eq!(body["components"]["storage"]["status"], "up");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_resume_after_a_database_outage() {
    let postgres = PrivatePostgres::init();
    let url = crate::support::create_database(&postgres.admin_url()).await;
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__DATABASE__URL", &url);
    setup.set("OBSCURA__SECURITY__SECRET_KEY", TEST_SECRET_KEY);
    let app = setup.start().await;

    let before = app.queue_diagnostic(8).await;
    assert_eq!(
        app.wait_for_job(&before, Duration::from_secs(30)).await["state"],
        "succeeded"
    );

    postgres.stop();
    wait_for_health(&app.client, &app.address, 503).await;
    // Long enough for the worker's polls to fail and its supervisor to restart it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    postgres.start();
    wait_for_health(&app.client, &app.address, 200).await;

    let after = app.queue_diagnostic(8).await;
    let job = app.wait_for_job(&after, Duration::from_secs(60)).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    app.stop().await;
}
