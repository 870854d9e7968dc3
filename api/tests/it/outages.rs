//! `/health` when PostgreSQL or S3 goes away and comes back, and documents in flight that
//! finish after the outage.
//!
//! These tests run their own PostgreSQL cluster and S3 server, since stopping the shared
//! ones would break every other test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{Mode, TEST_SECRET_KEY, TestApp, TestSetup, free_port, required_env};

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

const IN_FLIGHT_DOCUMENTS: usize = 16;

/// Creates a project, uploads `count` one-page PDFs that name people by address, and queues
/// their detection; returns the project's and the documents' ids.
async fn upload_and_detect(app: &TestApp, count: usize) -> (String, Vec<String>) {
    let project: serde_json::Value = app
        .post("/api/v1/projects")
        .json(&serde_json::json!({ "name": format!("Cortes {}", uuid::Uuid::new_v4().simple()) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_str().unwrap().to_owned();
    let mut documents = Vec::new();
    for index in 0..count {
        let text = format!(
            "Acta {index}.\nComparece persona{}@example.com ante el juzgado.\nSe notifica a persona{}@example.com.\n",
            index % 4,
            index % 4
        );
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(obscura_documents::pdf::write_text(&text).unwrap())
                .file_name(format!("acta-{index}.pdf")),
        );
        let response = app
            .post(&format!("/api/v1/documents?project_id={project_id}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let id = response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        queue(app, &id, "detect").await;
        documents.push(id);
    }
    (project_id, documents)
}

async fn queue(app: &TestApp, document: &str, operation: &str) {
    let response = app
        .post(&format!("/api/v1/documents/{document}/{operation}"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{operation} {document}");
}

/// Waits until some job is running, so that an outage starting now catches it mid-way.
async fn wait_for_a_running_job(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let jobs: serde_json::Value = app
            .get("/api/v1/jobs?limit=200")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|job| job["state"] == "running")
        {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no job started: {jobs}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until every document is in `state`; none may end in ERROR.
async fn wait_for_documents(app: &TestApp, documents: &[String], state: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    for document in documents {
        loop {
            let record: serde_json::Value = app
                .get(&format!("/api/v1/documents/{document}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if record["state"] == state {
                break;
            }
            assert_ne!(record["state"], "ERROR", "{record}");
            assert!(tokio::time::Instant::now() < deadline, "not {state}: {record}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Waits for every document's detection, anonymizes them all, and checks that each was
/// detected and anonymized exactly once, as the audit log counts it.
async fn detected_and_anonymized_once(app: &TestApp, project_id: &str, documents: &[String]) {
    wait_for_documents(app, documents, "DETECTION_COMPLETE").await;
    for document in documents {
        queue(app, document, "anonymize").await;
    }
    wait_for_documents(app, documents, "ANONYMIZATION_COMPLETE").await;
    let count = documents.len();
    for action in ["document.detected", "document.anonymized"] {
        let audit: serde_json::Value = app
            .get(&format!(
                "/api/v1/audit?project_id={project_id}&action={action}&limit=500"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(audit["total"], count, "{action}: {audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_in_flight_finish_after_a_ten_second_database_outage() {
    let postgres = PrivatePostgres::init();
    let url = crate::support::create_database(&postgres.admin_url()).await;
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup
        .set("OBSCURA__DATABASE__URL", &url)
        .set("OBSCURA__SECURITY__SECRET_KEY", TEST_SECRET_KEY)
        .set("OBSCURA__WORKER__CONCURRENCY", "1");
    let app = setup.start().await;
    let (project_id, documents) = upload_and_detect(&app, IN_FLIGHT_DOCUMENTS).await;

    wait_for_a_running_job(&app).await;
    postgres.stop();
    let stopped = tokio::time::Instant::now();
    // Meanwhile, what needs the database answers 503 and says why; after the first request
    // has found it out of reach, the others are answered without waiting for the pool.
    let mut refusals = Vec::new();
    while stopped.elapsed() < Duration::from_secs(10) || refusals.len() < 3 {
        let asked = tokio::time::Instant::now();
        let response = app.get(&format!("/api/v1/projects/{project_id}")).send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "database_unavailable", "{problem}");
        refusals.push(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let slowest_after_first = refusals[1..].iter().max().unwrap();
    assert!(
        *slowest_after_first < Duration::from_secs(4),
        "refusals took {refusals:?}"
    );
    postgres.start();

    detected_and_anonymized_once(&app, &project_id, &documents).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_in_flight_finish_after_the_blob_store_stops_and_restarts() {
    let mut s3 = PrivateS3::start();
    let mut setup = TestSetup::new(Mode::Embedded).await;
    remove_prefixed(&mut setup, "OBSCURA__STORAGE__");
    setup.vars.extend(s3.vars());
    setup.set("OBSCURA__WORKER__CONCURRENCY", "1");
    let app = setup.start().await;
    let (project_id, documents) = upload_and_detect(&app, IN_FLIGHT_DOCUMENTS).await;

    wait_for_a_running_job(&app).await;
    s3.kill();
    // An upload cannot be kept meanwhile, and says so.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"Texto sin datos.\n".to_vec()).file_name("nota.txt"),
    );
    let response = app
        .post(&format!("/api/v1/documents?project_id={project_id}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "storage_unavailable", "{problem}");
    // Longer than a job's attempts would last if each failed read spent one.
    tokio::time::sleep(Duration::from_secs(10)).await;
    s3.resume();

    detected_and_anonymized_once(&app, &project_id, &documents).await;
    app.stop().await;
}
