//! The distributed topology as processes: one stateless API and two `obscura worker`s on
//! the test PostgreSQL and S3. Every job must run exactly once.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use uuid::Uuid;

use crate::support::{S3Settings, free_port, fresh_postgres_database, obscura_binary, wait_until_listening};

pub(crate) struct Process(pub(crate) Child);

impl Process {
    pub(crate) fn spawn(args: &[&str], vars: &[(String, String)]) -> Process {
        let child = Command::new(obscura_binary())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("obscura starts");
        Process(child)
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..200 {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("process {} did not exit within 10 s of SIGTERM", self.0.id());
    }
}

/// The settings of a fleet of processes on a fresh PostgreSQL database and an S3 prefix
/// named after `name`, with the admin key `key`, without NER, polling every 50 ms.
pub(crate) async fn fleet_vars(name: &str, key: &str) -> Vec<(String, String)> {
    let mut vars = vec![
        ("DATABASE_URL".to_owned(), fresh_postgres_database().await),
        (
            "OBSCURA__SECURITY__SECRET_KEY".to_owned(),
            crate::support::TEST_SECRET_KEY.to_owned(),
        ),
        ("OBSCURA__AUTH__BOOTSTRAP_KEY".to_owned(), key.to_owned()),
        ("OBSCURA__WORKER__POLL_INTERVAL_MS".to_owned(), "50".to_owned()),
        ("OBSCURA__LOG__FILTER".to_owned(), "warn".to_owned()),
        ("OBSCURA__MODELS__NER".to_owned(), String::new()),
    ];
    vars.extend(S3Settings::from_env().config_vars(&format!("{name}-{}", Uuid::new_v4().simple())));
    vars
}

/// Starts a stateless API process (`serve --workers 0`) on `port`.
pub(crate) fn spawn_api(vars: &[(String, String)], port: u16, data_dir: &str) -> Process {
    Process::spawn(
        &[
            "serve",
            "--workers",
            "0",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            data_dir,
        ],
        vars,
    )
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_two_workers_run_each_job_exactly_once() {
    let database_url = fresh_postgres_database().await;
    let port = free_port();
    let key = format!("obs_topology_{}", Uuid::new_v4().simple());
    let mut vars = vec![
        ("DATABASE_URL".to_owned(), database_url),
        (
            "OBSCURA__SECURITY__SECRET_KEY".to_owned(),
            crate::support::TEST_SECRET_KEY.to_owned(),
        ),
        ("OBSCURA__AUTH__BOOTSTRAP_KEY".to_owned(), key.clone()),
        ("OBSCURA__WORKER__POLL_INTERVAL_MS".to_owned(), "50".to_owned()),
        ("OBSCURA__LOG__FORMAT".to_owned(), "json".to_owned()),
        ("OBSCURA__LOG__FILTER".to_owned(), "warn".to_owned()),
        (
            "OBSCURA__MODELS__DIR".to_owned(),
            crate::support::required_env("OBSCURA_TEST_MODELS_DIR"),
        ),
    ];
    vars.extend(S3Settings::from_env().config_vars(&format!("topology-{}", Uuid::new_v4().simple())));
    let data_dir = tempfile::tempdir().unwrap();
    let data_dir = data_dir.path().display().to_string();

    // All three start at once: the startup lock keeps their migrations from racing.
    let api = Process::spawn(
        &[
            "serve",
            "--workers",
            "0",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            &data_dir,
        ],
        &vars,
    );
    let worker_a = Process::spawn(&["worker", "--name", "topology-a", "--concurrency", "2"], &vars);
    let worker_b = Process::spawn(&["worker", "--name", "topology-b", "--concurrency", "2"], &vars);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(60)).await;

    let client = reqwest::Client::new();
    let health: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");

    const JOBS: usize = 40;
    let mut job_ids = Vec::new();
    for _ in 0..JOBS {
        let response = client
            .post(format!("{base}/api/v1/jobs/diagnostic"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "blob_bytes": 2048 }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let body: serde_json::Value = response.json().await.unwrap();
        job_ids.push(body["job_id"].as_str().unwrap().to_owned());
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for job_id in &job_ids {
        let job = loop {
            let job: serde_json::Value = client
                .get(format!("{base}/api/v1/jobs/{job_id}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if matches!(job["state"].as_str(), Some("succeeded" | "failed")) {
                break job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {job_id} did not finish: {job}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(job["state"], "succeeded", "{job}");
        assert_eq!(job["attempts"], 1, "job {job_id} ran more than once: {job}");
        let worker = job["worker"].as_str().unwrap().to_owned();
        assert!(
            worker == "topology-a" || worker == "topology-b",
            "unexpected worker {worker}"
        );
        *per_worker.entry(worker).or_default() += 1;
    }
    assert_eq!(per_worker.values().sum::<usize>(), JOBS);
    eprintln!("jobs per worker: {per_worker:?}");

    // Nothing is left pending or running in the queue.
    let health: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        health["components"]["queue"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("0 jobs pending"),
        "{health}"
    );

    for process in [api, worker_a, worker_b] {
        let status = process.terminate();
        assert!(status.success(), "exit status {status}");
    }
}

/// Thirty documents that mention the same five people, detected and then anonymized all at
/// once by two worker processes: every job runs once, and each person's address has one
/// alias in every document, never shared with another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_anonymize_a_project_with_one_alias_per_person() {
    let database_url = fresh_postgres_database().await;
    let port = free_port();
    let key = format!("obs_topology_{}", Uuid::new_v4().simple());
    let mut vars = vec![
        ("DATABASE_URL".to_owned(), database_url),
        (
            "OBSCURA__SECURITY__SECRET_KEY".to_owned(),
            crate::support::TEST_SECRET_KEY.to_owned(),
        ),
        ("OBSCURA__AUTH__BOOTSTRAP_KEY".to_owned(), key.clone()),
        ("OBSCURA__WORKER__POLL_INTERVAL_MS".to_owned(), "50".to_owned()),
        ("OBSCURA__LOG__FILTER".to_owned(), "warn".to_owned()),
        ("OBSCURA__MODELS__NER".to_owned(), String::new()),
        (
            "OBSCURA__MODELS__DIR".to_owned(),
            crate::support::required_env("OBSCURA_TEST_MODELS_DIR"),
        ),
    ];
    vars.extend(S3Settings::from_env().config_vars(&format!("fleet-{}", Uuid::new_v4().simple())));
    let data_dir = tempfile::tempdir().unwrap();
    let data_dir = data_dir.path().display().to_string();
    let bind = format!("127.0.0.1:{port}");
    let api = Process::spawn(
        &["serve", "--workers", "0", "--bind", &bind, "--data-dir", &data_dir],
        &vars,
    );
    let worker_a = Process::spawn(&["worker", "--name", "fleet-a", "--concurrency", "2"], &vars);
    let worker_b = Process::spawn(&["worker", "--name", "fleet-b", "--concurrency", "2"], &vars);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(60)).await;
    // Both workers poll before the work is queued.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let client = reqwest::Client::new();
    let post = |path: &str| client.post(format!("{base}{path}")).bearer_auth(&key);
    let get = |path: &str| client.get(format!("{base}{path}")).bearer_auth(&key);

    let project: serde_json::Value = post("/api/v1/projects")
        .json(&serde_json::json!({ "name": "Flota" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_str().unwrap().to_owned();
    let people = [
        "lucia.fernandez@example.com",
        "jorge.navarro@example.org",
        "amaia.etxeberria@example.net",
        "pablo.quintana@example.com",
        "irene.soler@example.org",
    ];
    const DOCUMENTS: usize = 30;
    let mut documents = Vec::new();
    let mut mentions: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for index in 0..DOCUMENTS {
        let (first, second) = (people[index % 5], people[(index * 3 + 1) % 5]);
        let text = format!("Acta {index}.\nComparecen {first} y {second}.\nSe notifica a {first}.\n");
        let (name, bytes) = match index % 3 {
            0 => (format!("acta-{index}.txt"), text.into_bytes()),
            1 => (
                format!("acta-{index}.docx"),
                obscura_documents::docx::write_text(&text).unwrap(),
            ),
            _ => (
                format!("acta-{index}.pdf"),
                obscura_documents::pdf::write_text(&text).unwrap(),
            ),
        };
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        let response = post(&format!("/api/v1/documents?project_id={project_id}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let document: serde_json::Value = response.json().await.unwrap();
        let id = document["id"].as_str().unwrap().to_owned();
        for person in [first, second] {
            mentions.entry(person).or_default().push(id.clone());
        }
        documents.push(id);
    }

    let run_all = |what: &'static str| {
        let documents = documents.clone();
        let post = &post;
        async move {
            let mut jobs = Vec::new();
            for document in &documents {
                let response = post(&format!("/api/v1/documents/{document}/{what}"))
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202, "{what} {document}");
                let body: serde_json::Value = response.json().await.unwrap();
                jobs.push(body["job_id"].as_str().unwrap().to_owned());
            }
            jobs
        }
    };
    let wait_all = |jobs: Vec<String>| {
        let get = &get;
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
            let mut workers = BTreeMap::<String, usize>::new();
            for job_id in jobs {
                let job = loop {
                    let job: serde_json::Value = get(&format!("/api/v1/jobs/{job_id}"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    if matches!(job["state"].as_str(), Some("succeeded" | "failed")) {
                        break job;
                    }
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "job {job_id} did not finish: {job}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                assert_eq!(job["state"], "succeeded", "{job}");
                assert_eq!(job["attempts"], 1, "job {job_id} ran more than once: {job}");
                *workers.entry(job["worker"].as_str().unwrap().to_owned()).or_default() += 1;
            }
            workers
        }
    };
    let detections = run_all("detect").await;
    let mut detected_by = wait_all(detections).await;
    eprintln!("detections per worker: {detected_by:?}");
    // All at once: the workers write the project's glossary side by side.
    let anonymizations = run_all("anonymize").await;
    let per_worker = wait_all(anonymizations).await;
    eprintln!("anonymizations per worker: {per_worker:?}");
    // Which worker takes which job is the queue's choice; over both rounds both took part.
    // (`processing::concurrent_anonymizations_share_one_glossary` makes two anonymizations
    // race for the glossary every time.)
    for worker in per_worker.keys() {
        detected_by.remove(worker);
    }
    assert!(
        per_worker.len() == 2 || !detected_by.is_empty(),
        "one worker did all the work: {per_worker:?}"
    );

    for document in &documents {
        let record: serde_json::Value = get(&format!("/api/v1/documents/{document}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(record["state"], "ANONYMIZATION_COMPLETE", "{record}");
    }
    let glossary: serde_json::Value = get(&format!("/api/v1/projects/{project_id}/export/glossary?format=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<&serde_json::Value> = glossary
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["category"] == "EMAIL_ADDRESS")
        .collect();
    assert_eq!(emails.len(), people.len(), "{glossary}");
    let mut aliases: Vec<&str> = emails.iter().map(|entry| entry["alias"].as_str().unwrap()).collect();
    aliases.sort_unstable();
    aliases.dedup();
    assert_eq!(aliases.len(), people.len(), "two people share an alias: {glossary}");
    for entry in emails {
        let original = entry["original"].as_str().unwrap();
        let mut listed: Vec<String> = entry["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().to_owned())
            .collect();
        listed.sort();
        let mut expected = mentions[original].clone();
        expected.sort();
        expected.dedup();
        assert_eq!(listed, expected, "{original} does not have one alias in every document");
    }
    for process in [api, worker_a, worker_b] {
        let status = process.terminate();
        assert!(status.success(), "exit status {status}");
    }
}

/// Two stateless API replicas and a worker process on PostgreSQL: a client subscribed on
/// one replica receives the progress of a job queued through the other and run by the
/// worker, in sequence order, up to its completion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_delivers_the_events_of_a_job_started_on_another() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let key = format!("obs_replicas_{}", Uuid::new_v4().simple());
    let vars = fleet_vars("replicas", &key).await;
    let data_dir = tempfile::tempdir().unwrap();
    let data_dir = data_dir.path().display().to_string();
    let (port_a, port_b) = (free_port(), free_port());
    let replica = |port: u16| spawn_api(&vars, port, &data_dir);
    let api_a = replica(port_a);
    let api_b = replica(port_b);
    let worker = Process::spawn(&["worker", "--name", "replicas-w", "--concurrency", "2"], &vars);
    wait_until_listening(&format!("http://127.0.0.1:{port_a}/health"), Duration::from_secs(60)).await;
    wait_until_listening(&format!("http://127.0.0.1:{port_b}/health"), Duration::from_secs(60)).await;

    let mut request = format!("ws://127.0.0.1:{port_a}/ws/progress")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::Text(r#"{"action":"subscribe","tenant":true}"#.into()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port_b}/api/v1/jobs/diagnostic"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "blob_bytes": 1024 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let job_id = response.json::<serde_json::Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no completion of {job_id} on the other replica: {seen:#?}"))
            .expect("the socket stays open")
            .unwrap();
        let Message::Text(text) = message else { continue };
        let event: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        if event["job_id"] != job_id.as_str() {
            continue;
        }
        let complete = event["type"] == "complete";
        seen.push(event);
        if complete {
            break;
        }
    }
    drop(socket);
    let codes: Vec<&str> = seen.iter().map(|event| event["code"].as_str().unwrap()).collect();
    assert_eq!(codes.first(), Some(&"queued"), "{seen:#?}");
    assert!(codes.contains(&"started"), "{seen:#?}");
    let numbers: Vec<i64> = seen.iter().map(|event| event["seq"].as_i64().unwrap()).collect();
    assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]), "{numbers:?}");
    for process in [api_a, api_b, worker] {
        let status = process.terminate();
        assert!(status.success(), "exit status {status}");
    }
}
