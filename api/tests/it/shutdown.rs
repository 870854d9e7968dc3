//! A worker process told to stop (SIGTERM) finishes what it can within its deadline and
//! hands the rest back to the queue, where another worker takes it at once instead of after
//! the stopped worker's heartbeats have run out.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{free_port, wait_until_listening};
use crate::topology::{Process, fleet_vars, spawn_api};

/// How long a stopping worker waits for its jobs.
const DEADLINE_SECS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_worker_finishes_short_jobs_and_hands_back_long_ones() {
    let key = format!("obs_stop_{}", Uuid::new_v4().simple());
    let mut vars = fleet_vars("stop", &key).await;
    vars.push((
        "OBSCURA__SERVER__SHUTDOWN_TIMEOUT_SECS".to_owned(),
        DEADLINE_SECS.to_string(),
    ));
    let data_dir = tempfile::tempdir().unwrap();
    let data_dir = data_dir.path().display().to_string();
    let port = free_port();
    let api = spawn_api(&vars, port, &data_dir);
    let first = Process::spawn(&["worker", "--name", "stop-a", "--concurrency", "2"], &vars);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(60)).await;
    let client = reqwest::Client::new();
    let job = |id: String| {
        let request = client.get(format!("{base}/api/v1/jobs/{id}")).bearer_auth(&key);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let queue = async |hold_ms: u64| -> String {
        let response = client
            .post(format!("{base}/api/v1/jobs/diagnostic"))
            .bearer_auth(&key)
            .json(&json!({ "blob_bytes": 64, "hold_ms": hold_ms }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        response.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // One job ends within the deadline, the other long after it.
    let short = queue(1_500).await;
    let long = queue(8_000).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in [&short, &long] {
        loop {
            let record = job(id.clone()).await;
            if record["state"] == "running" {
                break;
            }
            assert!(Instant::now() < deadline, "the worker did not start {id}: {record}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let stopping = Instant::now();
    let status = first.terminate();
    let stopped_in = stopping.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(
        stopped_in < Duration::from_secs(DEADLINE_SECS + 3),
        "the worker took {stopped_in:?} to stop"
    );
    let record = job(short.clone()).await;
    assert_eq!(record["state"], "succeeded", "{record}");
    assert_eq!(record["worker"], "stop-a", "{record}");
    assert_eq!(record["attempts"], 1, "{record}");
    let record = job(long.clone()).await;
    assert_eq!(
        record["state"], "retrying",
        "the unfinished job was not handed back: {record}"
    );

    // Another worker takes the handed-back job at once: far sooner than the three missed
    // heartbeats (30 s) after which the queue would give it away by itself.
    let second = Process::spawn(&["worker", "--name", "stop-b", "--concurrency", "2"], &vars);
    let restarted = Instant::now();
    let record = loop {
        let record = job(long.clone()).await;
        if record["worker"] == "stop-b" {
            break record;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(20),
            "the handed-back job was not taken by the new worker: {record}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(record["attempts"], 2, "{record}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let record = loop {
        let record = job(long.clone()).await;
        if matches!(record["state"].as_str(), Some("succeeded" | "failed")) {
            break record;
        }
        assert!(Instant::now() < deadline, "{record}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(record["state"], "succeeded", "{record}");
    assert_eq!(record["worker"], "stop-b", "{record}");
    for process in [api, second] {
        let status = process.terminate();
        assert!(status.success(), "exit status {status}");
    }
}
