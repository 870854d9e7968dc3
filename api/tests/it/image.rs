//! The container image's own steps, run as processes (there is no container engine here):
//! the settings its Dockerfile gives every container, the model directory its build stage
//! installs into (the suite's model is installed by the same command, see scripts/test),
//! and the API and worker commands of docker-compose.yml. Its worker finds names with the
//! NER model and reads scans with OCR.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{S3Settings, free_port, fresh_postgres_database, required_env, wait_until_listening};
use crate::topology::Process;

fn repository() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()))
        .join("..")
}

/// The `KEY=VALUE` pairs of the Dockerfile's `ENV` instructions, continuation lines joined.
fn image_env(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|line| line.strip_prefix("ENV "))
        .flat_map(|pairs| {
            pairs
                .split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect::<Vec<_>>()
        })
        .filter(|(key, _)| key.starts_with("OBSCURA__"))
        .collect()
}

/// The arguments of the compose service `name`'s `command`.
fn compose_command(compose: &str, name: &str) -> Vec<String> {
    let service = compose
        .split(&format!("\n  {name}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no service {name} in docker-compose.yml"));
    let line = service
        .lines()
        .find_map(|line| line.trim().strip_prefix("command:"))
        .unwrap_or_else(|| panic!("service {name} has no command"));
    serde_json::from_str(line.trim()).expect("the command is a JSON-style list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_s_settings_and_commands_run_a_fleet_that_finds_names_and_reads_scans() {
    let dockerfile = std::fs::read_to_string(repository().join("Dockerfile")).unwrap();
    let compose = std::fs::read_to_string(repository().join("docker-compose.yml")).unwrap();
    let env = image_env(&dockerfile);
    let models_dir = env
        .iter()
        .find(|(key, _)| key == "OBSCURA__MODELS__DIR")
        .map(|(_, value)| value.clone())
        .expect("the image says where its models are");
    // The build stage installs the default model there, and the final stage copies it.
    assert!(
        dockerfile.contains(&format!("RUN obscura models install rampart --models-dir {models_dir}")),
        "the build stage does not install the default model into {models_dir}"
    );
    assert!(
        dockerfile.contains(&format!("COPY --from=build {models_dir} {models_dir}")),
        "the final stage does not copy {models_dir}"
    );
    assert!(
        dockerfile.contains("tesseract-ocr-eng") && dockerfile.contains("tesseract-ocr-spa"),
        "the image lacks OCR's languages"
    );

    // The image's settings, with this machine's places for its directories and the
    // settings compose adds (database, storage, secret, key).
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let key = format!("obs_image_{}", Uuid::new_v4().simple());
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .map(|(key, value)| match key.as_str() {
            "OBSCURA__MODELS__DIR" => (key, required_env("OBSCURA_TEST_MODELS_DIR")),
            "OBSCURA__SERVER__DATA_DIR" => (key, data_dir.path().display().to_string()),
            "OBSCURA__SERVER__BIND" => (key, format!("127.0.0.1:{port}")),
            _ => (key, value),
        })
        .collect();
    vars.extend([
        ("DATABASE_URL".to_owned(), fresh_postgres_database().await),
        (
            "OBSCURA__SECURITY__SECRET_KEY".to_owned(),
            crate::support::TEST_SECRET_KEY.to_owned(),
        ),
        ("OBSCURA__AUTH__BOOTSTRAP_KEY".to_owned(), key.clone()),
        ("OBSCURA__LOG__FILTER".to_owned(), "warn".to_owned()),
    ]);
    vars.extend(S3Settings::from_env().config_vars(&format!("image-{}", Uuid::new_v4().simple())));
    let command = |service: &str| compose_command(&compose, service);
    let api_args = command("api");
    let worker_args = command("worker");
    let api = Process::spawn(&api_args.iter().map(String::as_str).collect::<Vec<_>>(), &vars);
    let worker = Process::spawn(&worker_args.iter().map(String::as_str).collect::<Vec<_>>(), &vars);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(90)).await;
    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    for component in ["ner", "ocr"] {
        assert_eq!(health["components"][component]["status"], "up", "{health}");
    }

    let post = |path: &str| client.post(format!("{base}{path}")).bearer_auth(&key);
    let get = |path: &str| client.get(format!("{base}{path}")).bearer_auth(&key);
    let project: Value = post("/api/v1/projects")
        .json(&json!({ "name": "Imagen", "language": "es" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_str().unwrap();
    let scan = std::fs::read(repository().join("documents/tests/fixtures/documents/scan.png")).unwrap();
    let text = b"Informe de alta. La paciente Lorena Quintanilla Berrocal ingresa por dolor abdominal.".to_vec();
    let mut documents = Vec::new();
    for (name, bytes) in [("scan.png", scan), ("alta.txt", text)] {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        let response = post(&format!("/api/v1/documents?project_id={project_id}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let response = post(&format!("/api/v1/documents/{id}/detect"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        documents.push(id);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut found = Vec::new();
    for document in &documents {
        loop {
            let record: Value = get(&format!("/api/v1/documents/{document}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if record["state"] == "DETECTION_COMPLETE" {
                break;
            }
            assert_ne!(record["state"], "ERROR", "{record}");
            assert!(tokio::time::Instant::now() < deadline, "not detected: {record}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let results: Value = get(&format!("/api/v1/documents/{document}/detection-results"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found.push(results);
    }
    // The scan was read with OCR.
    assert!(
        found[0]["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entity| entity["text"] == "jose.perez@ejemplo.es" && entity["position"]["location"] == "image"),
        "{}",
        found[0]
    );
    // The name was found by the NER model.
    assert!(
        found[1]["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entity| entity["category"] == "PERSON"
                && entity["recognizer"].as_str().unwrap_or_default().starts_with("ner/")),
        "{}",
        found[1]
    );
    for process in [api, worker] {
        let status = process.terminate();
        assert!(status.success(), "exit status {status}");
    }
}
