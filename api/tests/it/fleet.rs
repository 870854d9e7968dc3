//! A fleet that loses a worker: one API process and three worker processes on PostgreSQL
//! and S3 process 60 documents, and one worker is killed with SIGKILL while it runs a job.
//! Its jobs go to the others once its heartbeats stop; every document ends anonymized
//! once, no alias is duplicated, the audit records are exactly the expected number, and a
//! WebSocket client saw every document's detection and anonymization complete.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

use crate::support::{free_port, wait_until_listening};
use crate::topology::{Process, fleet_vars, spawn_api};

const DOCUMENTS: usize = 60;
const PEOPLE: [&str; 5] = [
    "lucia.fernandez@example.com",
    "jorge.navarro@example.org",
    "amaia.etxeberria@example.net",
    "pablo.quintana@example.com",
    "irene.soler@example.org",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_that_loses_a_worker_loses_nothing() {
    let key = format!("obs_fleet_{}", Uuid::new_v4().simple());
    let vars = fleet_vars("fleet-kill", &key).await;
    let data_dir = tempfile::tempdir().unwrap();
    let data_dir = data_dir.path().display().to_string();
    let port = free_port();
    let api = spawn_api(&vars, port, &data_dir);
    let workers: Vec<Process> = ["fleet-a", "fleet-b", "fleet-c"]
        .into_iter()
        .map(|name| Process::spawn(&["worker", "--name", name, "--concurrency", "2"], &vars))
        .collect();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(60)).await;
    let client = reqwest::Client::new();
    let post = |path: &str| client.post(format!("{base}{path}")).bearer_auth(&key);
    let get = |path: &str| client.get(format!("{base}{path}")).bearer_auth(&key);
    let project: Value = post("/api/v1/projects")
        .json(&json!({ "name": "Flota" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_str().unwrap().to_owned();

    // A client follows the project from the start.
    let mut request = format!("ws://127.0.0.1:{port}/ws/progress")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::Text(
            json!({ "action": "subscribe", "project_id": project_id })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let watcher = tokio::spawn(async move {
        // Completions seen, by operation and document.
        let mut complete: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut last = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(400);
        while complete.get("anonymize").map_or(0, BTreeSet::len) < DOCUMENTS {
            let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await else {
                break;
            };
            let Message::Text(text) = message else { continue };
            let event: Value = serde_json::from_str(text.as_str()).unwrap();
            // Events are numbered in order; notices about the socket itself are not events.
            assert!(
                !matches!(event["type"].as_str(), Some("lagged" | "resync")),
                "the client fell behind: {event}"
            );
            // A current state carries the socket's number, not a new one: it is sent when
            // the subscription lands after the first upload.
            if event["current"] == true {
                continue;
            }
            let Some(seq) = event["seq"].as_i64() else {
                eprintln!("fleet watcher: {event}");
                continue;
            };
            assert!(seq > last, "events out of order: {seq} after {last}: {event}");
            last = seq;
            if event["type"] == "complete" {
                complete
                    .entry(event["operation"].as_str().unwrap().to_owned())
                    .or_default()
                    .insert(event["document_id"].as_str().unwrap().to_owned());
            }
        }
        complete
    });

    let mut documents = Vec::new();
    for index in 0..DOCUMENTS {
        let (first, second) = (PEOPLE[index % 5], PEOPLE[(index * 3 + 1) % 5]);
        let text = format!("Acta {index}.\nComparecen {first} y {second}.\nSe notifica a {first}.\n");
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(obscura_documents::pdf::write_text(&text).unwrap())
                .file_name(format!("acta-{index}.pdf")),
        );
        let response = post(&format!("/api/v1/documents?project_id={project_id}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        documents.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let queue = |what: &'static str| {
        let documents = documents.clone();
        let post = &post;
        async move {
            for document in &documents {
                let response = post(&format!("/api/v1/documents/{document}/{what}"))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202, "{what} {document}");
            }
        }
    };
    queue("detect").await;

    // The third worker dies while it runs a job.
    let mut workers = workers;
    let mut victim = workers.pop().unwrap();
    let interrupted = loop {
        let jobs: Value = get("/api/v1/jobs?limit=200")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let running = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|job| job["worker"] == "fleet-c" && job["state"] == "running");
        if let Some(job) = running {
            victim.0.kill().unwrap();
            victim.0.wait().unwrap();
            break job["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };

    let wait_for = |state: &'static str| {
        let documents = documents.clone();
        let get = &get;
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
            for document in &documents {
                loop {
                    let record: Value = get(&format!("/api/v1/documents/{document}"))
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
    };
    wait_for("DETECTION_COMPLETE").await;
    queue("anonymize").await;
    wait_for("ANONYMIZATION_COMPLETE").await;

    // The job the dead worker held was run again by another.
    let job: Value = get(&format!("/api/v1/jobs/{interrupted}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_ne!(job["worker"], "fleet-c", "{job}");
    assert!(job["attempts"].as_i64().unwrap() >= 2, "{job}");

    // Each document detected and anonymized once, as the audit log counts it.
    for action in ["document.detected", "document.anonymized"] {
        let audit: Value = get(&format!(
            "/api/v1/audit?project_id={project_id}&action={action}&limit=500"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(audit["total"], DOCUMENTS, "{action}");
    }
    // One alias per person.
    let glossary: Value = get(&format!("/api/v1/projects/{project_id}/export/glossary?format=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<&Value> = glossary
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["category"] == "EMAIL_ADDRESS")
        .collect();
    assert_eq!(emails.len(), PEOPLE.len(), "{glossary}");
    let aliases: BTreeSet<&str> = emails.iter().map(|entry| entry["alias"].as_str().unwrap()).collect();
    assert_eq!(aliases.len(), PEOPLE.len(), "{glossary}");

    // The client saw every document complete both times.
    let complete = watcher.await.unwrap();
    for operation in ["detect", "anonymize"] {
        assert_eq!(
            complete.get(operation).map_or(0, BTreeSet::len),
            DOCUMENTS,
            "{operation}: {complete:?}"
        );
    }
    for process in std::iter::once(api).chain(workers) {
        let status = process.terminate();
        assert!(status.success(), "exit status {status}");
    }
}
