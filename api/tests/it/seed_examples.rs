//! Every example request in the documentation of the five services Obscura's users come
//! from (MaskingEngine, Prime Anonymizer, ContextSafe, Faasera, the PII & Secret Detection
//! service), sent as written to a running server with a key: each gets an answer of the
//! shape its documentation shows, or of ours where our contract rules (`seed_examples.json`
//! says which, and why). The examples the server cannot answer yet are listed with the
//! reason, and must still get a clear problem+json 404.

use std::time::Duration;

use crate::both_modes;
use crate::support::{Mode, TestApp, TestSetup};

/// One example, as `seed_examples.json` holds it.
#[derive(Debug, serde::Deserialize)]
struct Example {
    seed: String,
    line: u32,
    method: String,
    path: String,
    query: Option<serde_json::Map<String, serde_json::Value>>,
    body: Option<serde_json::Value>,
    status: u16,
    /// The top-level keys the answer must have (of its first element, for an array).
    keys: Vec<String>,
    #[serde(default)]
    array: bool,
    /// `seed`: the documentation's shape; `ours`: our contract's; `missing`: not built;
    /// `elsewhere`, `no_body`: not sent here.
    expect: String,
}

/// The ids the examples name, once they exist.
#[derive(Default)]
struct Ids {
    project: Option<String>,
    document: Option<String>,
}

/// Placeholder ids the documentation uses for a project and a document.
const DOCUMENTED_PROJECT: &str = "550e8400-e29b-41d4-a716-446655440000";
const DOCUMENTED_DOCUMENT: &str = "660e8400-e29b-41d4-a716-446655440001";

impl Ids {
    fn fill(&self, text: &str) -> String {
        let project = self.project.as_deref().unwrap_or(DOCUMENTED_PROJECT);
        let document = self.document.as_deref().unwrap_or(DOCUMENTED_DOCUMENT);
        text.replace("{project_id}", project)
            .replace(DOCUMENTED_PROJECT, project)
            .replace("<id>", project)
            .replace("{document_id}", document)
            .replace(DOCUMENTED_DOCUMENT, document)
            .replace("{session_id}", "user_123_conversation_456")
    }
}

async fn send(app: &TestApp, example: &Example, ids: &Ids, upload: usize) -> (u16, serde_json::Value, String) {
    let method = reqwest::Method::from_bytes(example.method.as_bytes()).unwrap();
    let mut url = reqwest::Url::parse(&app.url(&ids.fill(&example.path))).unwrap();
    if let Some(query) = &example.query {
        for (name, value) in query {
            url.query_pairs_mut()
                .append_pair(name, &ids.fill(value.as_str().unwrap_or_default()));
        }
    }
    let mut request = app.client.request(method, url).bearer_auth(app.key());
    match &example.body {
        Some(body) if body.get("multipart").is_some() => {
            // A small Spanish text, different for each upload (the same content twice in a
            // project is a duplicate).
            let text = format!("Don Juan García Pérez, con DNI 12345678Z, vive en Madrid. Copia {upload}.");
            let part = reqwest::multipart::Part::bytes(text.into_bytes()).file_name("escrito.txt");
            request = request.multipart(reqwest::multipart::Form::new().part("file", part));
        }
        Some(body) => request = request.json(body),
        None => {}
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default(), content_type)
}

/// Waits for the job an answer names.
async fn wait_for(app: &TestApp, answer: &serde_json::Value) {
    if let Some(job) = answer["job_id"].as_str() {
        let job = app.wait_for_job(job, Duration::from_secs(120)).await;
        assert_eq!(job["state"], "succeeded", "{job}");
    }
}

async fn every_seed_example_gets_an_answer(mode: Mode) {
    let mut setup = TestSetup::new(mode).await;
    setup.with_ner();
    let app = setup.start().await;
    let examples: Vec<Example> = serde_json::from_str(include_str!("seed_examples.json")).unwrap();
    // Deletions go last, so that the examples after them find what they name.
    let (deletions, mut ordered): (Vec<Example>, Vec<Example>) = examples
        .into_iter()
        .partition(|example| example.method == "DELETE" && example.seed == "contextsafe");
    ordered.extend(deletions.into_iter().rev());

    let mut ids = Ids::default();
    let mut uploads = 0;
    let mut answered = std::collections::BTreeMap::<(String, String), usize>::new();
    for example in &ordered {
        let name = format!(
            "{} line {}: {} {}",
            example.seed, example.line, example.method, example.path
        );
        if matches!(example.expect.as_str(), "elsewhere" | "no_body") {
            *answered
                .entry((example.seed.clone(), example.expect.clone()))
                .or_default() += 1;
            continue;
        }
        uploads += 1;
        let (status, answer, content_type) = send(&app, example, &ids, uploads).await;
        if example.expect == "missing" {
            assert_eq!(status, 404, "{name}: {answer}");
            assert_eq!(answer["code"], "route_not_found", "{name}: {answer}");
            assert!(content_type.starts_with("application/problem+json"), "{name}");
        } else {
            assert_eq!(status, example.status, "{name}: {answer}");
            let shape = if example.array { &answer[0] } else { &answer };
            for key in &example.keys {
                assert!(shape.get(key).is_some(), "{name}: no `{key}` in {answer}");
            }
        }
        *answered
            .entry((example.seed.clone(), example.expect.clone()))
            .or_default() += 1;
        // What the next examples need: the project and document they name, finished jobs.
        if example.method == "POST" && example.path.ends_with("/projects") {
            ids.project = answer["id"].as_str().map(str::to_owned);
        }
        if example.method == "POST" && example.path.ends_with("/documents") && ids.document.is_none() {
            ids.document = answer["id"].as_str().map(str::to_owned);
            let document = ids.document.clone().unwrap();
            for _ in 0..600 {
                let state: serde_json::Value = app
                    .get(&format!("/api/v1/documents/{document}"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if state["state"] != "PENDING" && state["state"] != "PROCESSING" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        wait_for(&app, &answer).await;
    }
    eprintln!("seed examples answered: {answered:?}");
    let in_their_shape: usize = answered
        .iter()
        .filter(|((_, expect), _)| expect == "seed")
        .map(|(_, count)| count)
        .sum();
    assert!(in_their_shape >= 61, "{answered:?}");
}

both_modes!(every_seed_example_gets_an_answer);
