//! Document jobs end to end: detection, review (document and project decisions), the
//! anonymization with one alias per value across a project, exports, the state rules, and
//! handlers that run twice.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_modes;
use crate::support::{Mode, TestApp, spawn_app};

pub(crate) const JOB_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) async fn project(app: &TestApp, name: &str, keep_originals: bool) -> String {
    let response = app
        .post("/api/v1/projects")
        .json(&json!({ "name": name, "default_anonymization_level": "INTERMEDIATE", "keep_originals": keep_originals }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn upload(app: &TestApp, project_id: &str, name: &str, bytes: Vec<u8>) -> String {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let response = app
        .post(&format!("/api/v1/documents?project_id={project_id}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// POSTs to a document's job route; returns the status and the body.
pub(crate) async fn ask(app: &TestApp, document_id: &str, what: &str, body: Value) -> (u16, Value) {
    let response = app
        .post(&format!("/api/v1/documents/{document_id}/{what}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Runs a job route to its end; returns the job.
pub(crate) async fn run(app: &TestApp, document_id: &str, what: &str, body: Value) -> Value {
    let (status, accepted) = ask(app, document_id, what, body).await;
    assert_eq!(status, 202, "{accepted}");
    app.wait_for_job(accepted["job_id"].as_str().unwrap(), JOB_TIMEOUT)
        .await
}

pub(crate) async fn results(app: &TestApp, document_id: &str, query: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/documents/{document_id}/detection-results{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) fn entity<'a>(results: &'a Value, text: &str) -> &'a Value {
    results["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["text"] == text)
        .unwrap_or_else(|| panic!("{text} is not among {results}"))
}

pub(crate) async fn review(app: &TestApp, document_id: &str, items: Value) -> (u16, Value) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/documents/{document_id}/entities")))
        .bearer_auth(app.key())
        .json(&json!({ "items": items }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

pub(crate) async fn export(
    app: &TestApp,
    document_id: &str,
    format: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .post(&format!("/api/v1/documents/{document_id}/export?format={format}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// The alias each original of a `json` export became, by entity type and alias.
pub(crate) async fn aliases(app: &TestApp, document_id: &str) -> Vec<(String, String)> {
    let (status, _, body) = export(app, document_id, "json").await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).unwrap();
    body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entity| {
            (
                entity["entity_type"].as_str().unwrap().to_owned(),
                entity["alias"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn detection_review_anonymization_and_export(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Fénix", true).await;
    let acta = "Expediente del Proyecto Fénix.\nContacto: ana.garcia@example.com, teléfono +34 612 345 678.\nDNI del titular: 12345678Z.\nAtención al público: soporte@juzgado.example\n";
    let acta_id = upload(&app, &project_id, "acta.txt", acta.as_bytes().to_vec()).await;
    let escrito =
        "Escrito de la parte.\nCorreo: ana.garcia@example.com\nAtención al público: soporte@juzgado.example\n";
    let escrito_id = upload(
        &app,
        &project_id,
        "escrito.docx",
        obscura_documents::docx::write_text(escrito).unwrap(),
    )
    .await;

    // Nothing to review or export before a detection.
    let (status, problem) = ask(&app, &acta_id, "anonymize", json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("not_detected")),
        "{problem}"
    );
    let (status, _, _) = export(&app, &acta_id, "txt").await;
    assert_eq!(status, 422);
    let response = app
        .get(&format!("/api/v1/documents/{acta_id}/detection-results"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);

    // A second detection while the first is queued is refused.
    let (status, accepted) = ask(&app, &acta_id, "detect", json!({})).await;
    assert_eq!(status, 202, "{accepted}");
    let (status, problem) = ask(&app, &acta_id, "detect", json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("document_busy")),
        "{problem}"
    );
    let job = app
        .wait_for_job(accepted["job_id"].as_str().unwrap(), JOB_TIMEOUT)
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "detect");

    let found = results(&app, &acta_id, "").await;
    assert_eq!(found["state"], "DETECTION_COMPLETE");
    let email = entity(&found, "ana.garcia@example.com");
    assert_eq!(email["category"], "EMAIL_ADDRESS");
    assert_eq!(email["status"], "detected");
    assert_eq!(email["position"]["location"], "text");
    let start = acta[..acta.find("ana.garcia").unwrap()].chars().count();
    assert_eq!(email["position"]["start"], start);
    let desk = entity(&found, "soporte@juzgado.example")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dni = entity(&found, "12345678Z")["id"].as_str().unwrap().to_owned();
    let emails = results(&app, &acta_id, "?category=EMAIL_ADDRESS").await;
    assert_eq!(emails["entities_found"], 2, "{emails}");

    // Items that cannot apply are refused by index, and nothing of the batch is kept.
    let (status, problem) = review(
        &app,
        &acta_id,
        json!([
            { "action": "accept", "id": dni },
            { "action": "edit", "id": dni, "text": "87654321X" },
        ]),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_review_item")),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["loc"], "body.items[1]");
    let (status, problem) = review(&app, &acta_id, json!([{ "action": "reject", "id": uuid::Uuid::nil() }])).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("entity_not_found")),
        "{problem}"
    );
    let (status, problem) = review(
        &app,
        &acta_id,
        json!([{ "action": "add", "text": "Fénix", "category": "NOT_A_TYPE" }]),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(results(&app, &acta_id, "?status=accepted").await["entities_found"], 0);

    // The desk's address is public, everywhere in the project; the project's name is not.
    let (status, outcome) = review(
        &app,
        &acta_id,
        json!([
            { "action": "reject", "id": desk, "scope": "project" },
            { "action": "add", "text": "Proyecto Fénix", "category": "ORGANIZATION", "scope": "project" },
            { "action": "accept", "id": dni },
        ]),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(
        (&outcome["rejected"], &outcome["added"], &outcome["accepted"]),
        (&json!(1), &json!(1), &json!(1))
    );
    assert_eq!(results(&app, &acta_id, "?status=rejected").await["entities_found"], 1);

    // The other document's detection follows the project's decisions.
    let job = run(&app, &escrito_id, "detect", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let found = results(&app, &escrito_id, "").await;
    assert_eq!(entity(&found, "soporte@juzgado.example")["status"], "rejected");
    assert_eq!(entity(&found, "ana.garcia@example.com")["status"], "detected");
    assert!(entity(&found, "ana.garcia@example.com")["position"]["paragraph"].is_number());

    // Detected again, the first document finds the added value, and says what changed.
    let job = run(&app, &acta_id, "reprocess", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "reprocess");
    assert_eq!(job["result"]["appeared"], 1, "{job}");
    assert_eq!(job["result"]["disappeared"], 0, "{job}");
    let found = results(&app, &acta_id, "").await;
    assert_eq!(entity(&found, "Proyecto Fénix")["status"], "added");
    assert_eq!(entity(&found, "12345678Z")["status"], "accepted");

    for document_id in [&acta_id, &escrito_id] {
        let job = run(&app, document_id, "anonymize", json!({})).await;
        assert_eq!(job["state"], "succeeded", "{job}");
        let anonymized: Value = app
            .get(&format!("/api/v1/documents/{document_id}/anonymized"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(anonymized["level"], "INTERMEDIATE", "{anonymized}");
        assert_eq!(anonymized["leak_check"]["status"], "passed", "{anonymized}");
        assert!(anonymized["glossary_entries"].as_u64().unwrap() >= 1, "{anonymized}");
    }
    let document: Value = app
        .get(&format!("/api/v1/documents/{acta_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["state"], "ANONYMIZATION_COMPLETE");

    let (status, headers, text) = export(&app, &acta_id, "txt").await;
    assert_eq!(status, 200);
    let text = String::from_utf8(text).unwrap();
    for original in ["ana.garcia@example.com", "12345678Z", "612 345 678", "Proyecto Fénix"] {
        assert!(!text.contains(original), "{original} is in {text}");
    }
    assert!(text.contains("soporte@juzgado.example"), "{text}");
    let disposition = headers[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.contains("acta.anonymized.txt"), "{disposition}");

    // One alias per value across the project.
    let acta_aliases = aliases(&app, &acta_id).await;
    let escrito_aliases = aliases(&app, &escrito_id).await;
    let email_alias = |aliases: &[(String, String)]| {
        aliases
            .iter()
            .filter(|(kind, _)| kind == "EMAIL_ADDRESS")
            .map(|(_, alias)| alias.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(email_alias(&acta_aliases), email_alias(&escrito_aliases));
    assert_eq!(email_alias(&acta_aliases).len(), 1, "{acta_aliases:?}");

    // Every format of the Word file.
    for (format, magic, extension) in [
        ("original", &b"PK"[..], "docx"),
        ("docx", &b"PK"[..], "docx"),
        ("pdf", &b"%PDF"[..], "pdf"),
        ("txt", &b"Escrito"[..], "txt"),
        ("json", &b"{"[..], "json"),
        ("csv", &b"entity_type"[..], "csv"),
    ] {
        let (status, headers, body) = export(&app, &escrito_id, format).await;
        assert_eq!(status, 200, "{format}");
        assert!(body.starts_with(magic), "{format}");
        let disposition = headers[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(
            disposition.contains(&format!("escrito.anonymized.{extension}")),
            "{disposition}"
        );
        if format != "original" && format != "docx" && format != "pdf" {
            assert!(
                !String::from_utf8_lossy(&body).contains("ana.garcia@example.com"),
                "{format}"
            );
        }
    }
    let (status, _, _) = export(&app, &escrito_id, "xml").await;
    assert_eq!(status, 400);

    // Audited: requests, results and exports, without values.
    let audit: Value = app
        .get(&format!("/api/v1/audit?project_id={project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["action"].as_str().unwrap())
        .collect();
    for action in [
        "document.detect",
        "document.detected",
        "document.review",
        "document.anonymized",
        "document.export",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
    assert!(!audit.to_string().contains("ana.garcia"), "{audit}");

    // The fleet's figures, from the database.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "obscura_documents{state=\"ANONYMIZATION_COMPLETE\"} 2",
        "obscura_jobs{kind=\"anonymize\",state=\"succeeded\"} 2",
        "obscura_jobs{kind=\"reprocess\",state=\"succeeded\"} 1",
        "obscura_job_duration_seconds_count{kind=\"detect\",state=\"succeeded\"} 2",
        "obscura_queue_depth 0",
    ] {
        assert!(metrics.contains(line), "{line} is not in {metrics}");
    }
    assert!(
        metrics.contains("obscura_document_entities{category=\"EMAIL_ADDRESS\"}"),
        "{metrics}"
    );
    app.stop().await;
}
both_modes!(detection_review_anonymization_and_export);

async fn broken_files_end_in_error_with_their_code(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Rotos", true).await;
    let broken = upload(
        &app,
        &project_id,
        "roto.pdf",
        b"%PDF-1.7\n1 0 obj <</Type /Catalog".to_vec(),
    )
    .await;
    let job = run(&app, &broken, "detect", json!({})).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert!(job["error"].as_str().unwrap().starts_with("corrupt"), "{job}");
    let document: Value = app
        .get(&format!("/api/v1/documents/{broken}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (document["state"].as_str(), document["error"].as_str()),
        (Some("ERROR"), Some("corrupt"))
    );
    // A failed document can be detected again; it was never detected, so not anonymized.
    let (status, problem) = ask(&app, &broken, "anonymize", json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("not_detected")),
        "{problem}"
    );
    let (status, problem) = ask(&app, &broken, "detect", json!({ "confidence_threshold": 2 })).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.confidence_threshold");
    let (status, problem) = ask(
        &app,
        &broken,
        "detect",
        json!({ "categories": ["EMAIL_ADDRESS", "NOPE"] }),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.categories[1]");
    let (status, problem) = ask(&app, &broken, "anonymize", json!({ "level": "EXTREME" })).await;
    assert_eq!(status, 400, "{problem}");
    app.stop().await;
}
both_modes!(broken_files_end_in_error_with_their_code);

/// A project that does not keep originals deletes each once its output is checked; the
/// document cannot be detected again.
async fn originals_go_when_the_project_does_not_keep_them(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Sin originales", false).await;
    let document_id = upload(
        &app,
        &project_id,
        "nota.txt",
        b"Escribir a luis@example.com hoy.\n".to_vec(),
    )
    .await;
    assert_eq!(run(&app, &document_id, "detect", json!({})).await["state"], "succeeded");
    let job = run(&app, &document_id, "anonymize", json!({ "level": "basic" })).await;
    assert_eq!(job["result"]["original_deleted"], true, "{job}");
    let (status, problem) = ask(&app, &document_id, "detect", json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("original_deleted")),
        "{problem}"
    );
    let (status, _, body) = export(&app, &document_id, "original").await;
    assert_eq!(status, 200);
    assert!(!String::from_utf8_lossy(&body).contains("luis@example.com"));
    let server = app.server.as_ref().unwrap();
    let original = obscura_platform::documents::original_key(document_id.parse().unwrap());
    assert!(
        server.state.blobs.get(&original).await.is_err(),
        "the original is still stored"
    );
    app.stop().await;
}
both_modes!(originals_go_when_the_project_does_not_keep_them);

/// A handler that runs again after its work was stored (a retry, a redelivered task)
/// changes nothing.
async fn handlers_that_run_twice_leave_one_result(mode: Mode) {
    use obscura_platform::processing::{self, AnonymizeRun, DetectRun, Step};
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Dos veces", true).await;
    let document_id = upload(
        &app,
        &project_id,
        "nota.txt",
        b"Ana: ana@example.com, Luis: luis@example.com\n".to_vec(),
    )
    .await;
    let detect_job = run(&app, &document_id, "detect", json!({})).await;
    let anonymize_job = run(&app, &document_id, "anonymize", json!({})).await;
    let server = app.server.as_ref().unwrap();
    let state = &server.state;
    let engine = obscura_api::server::document_engine(&state.config, state.catalog.clone(), state.master_keys.clone());
    let quiet = |_: Step| -> futures::future::BoxFuture<'static, ()> { Box::pin(async {}) };
    let entities_before = results(&app, &document_id, "").await;
    let output_before = export(&app, &document_id, "original").await.2;
    let audit_count = |audit: Value| audit["total"].as_u64().unwrap();
    let audit_before = audit_count(
        app.get(&format!("/api/v1/audit?project_id={project_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let document_uuid = document_id.parse().unwrap();
    let tenant_id = obscura_entity::DEFAULT_TENANT_ID;
    // The versions the jobs were asked at: detection 1, anonymization 3.
    let again = processing::detect(
        &state.database,
        &state.blobs,
        &engine,
        DetectRun {
            tenant_id,
            job_id: detect_job["id"].as_str().unwrap().parse().unwrap(),
            document_id: document_uuid,
            version: 1,
            settings: Default::default(),
            request_id: None,
        },
        &quiet,
    )
    .await
    .unwrap();
    assert_eq!(
        again["entities_found"], detect_job["result"]["entities_found"],
        "{again}"
    );
    let again = processing::anonymize(
        &state.database,
        &state.blobs,
        &engine,
        AnonymizeRun {
            tenant_id,
            job_id: anonymize_job["id"].as_str().unwrap().parse().unwrap(),
            document_id: document_uuid,
            version: 3,
            level: "INTERMEDIATE".into(),
            request_id: None,
        },
        &quiet,
    )
    .await
    .unwrap();
    assert!(again.get("skipped").is_some(), "{again}");
    let audit_after = audit_count(
        app.get(&format!("/api/v1/audit?project_id={project_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(audit_after, audit_before);
    assert_eq!(results(&app, &document_id, "").await, entities_before);
    assert_eq!(export(&app, &document_id, "original").await.2, output_before);
    app.stop().await;
}
both_modes!(handlers_that_run_twice_leave_one_result);

/// A cancelled job does not run, and hands its document back.
async fn cancelled_jobs_hand_their_document_back(mode: Mode) {
    let mut setup = crate::support::TestSetup::new(mode).await;
    setup.set("OBSCURA__SERVER__WORKERS", "0");
    let app = setup.start().await;
    let project_id = project(&app, "Cancelar", true).await;
    let document_id = upload(&app, &project_id, "nota.txt", b"Escribir a luis@example.com\n".to_vec()).await;
    let (status, accepted) = ask(&app, &document_id, "detect", json!({})).await;
    assert_eq!(status, 202, "{accepted}");
    let job_id = accepted["job_id"].as_str().unwrap();
    let job: Value = app
        .get(&format!("/api/v1/jobs/{job_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["document_id"], document_id.as_str(), "{job}");
    let response = app.post(&format!("/api/v1/jobs/{job_id}/cancel")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["state"], "cancelled", "{job}");
    let response = app.post(&format!("/api/v1/jobs/{job_id}/cancel")).send().await.unwrap();
    assert_eq!(response.status(), 409);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "job_finished");
    let document: Value = app
        .get(&format!("/api/v1/documents/{document_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (document["state"].as_str(), document["error"].as_str()),
        (Some("ERROR"), Some("cancelled"))
    );
    let (status, accepted) = ask(&app, &document_id, "detect", json!({})).await;
    assert_eq!(status, 202, "{accepted}");
    app.stop().await;
}
both_modes!(cancelled_jobs_hand_their_document_back);

/// A PDF's detection reports each page it reads, then its detection, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_reports_its_steps_page_by_page() {
    use obscura_platform::processing::{self, DetectRun, Step};
    use std::sync::{Arc, Mutex};
    let mut setup = crate::support::TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__SERVER__WORKERS", "0");
    let app = setup.start().await;
    let project_id = project(&app, "Pasos", true).await;
    let pdf = obscura_documents::pdf::write_text("Uno: ana@example.com\u{c}Dos\u{c}Tres: luis@example.com").unwrap();
    let document_id = upload(&app, &project_id, "tres.pdf", pdf).await;
    let (status, accepted) = ask(&app, &document_id, "detect", json!({})).await;
    assert_eq!(status, 202, "{accepted}");
    let state = &app.server.as_ref().unwrap().state;
    let engine = obscura_api::server::document_engine(&state.config, state.catalog.clone(), state.master_keys.clone());
    let steps: Arc<Mutex<Vec<Step>>> = Arc::default();
    let seen = steps.clone();
    let report = move |step: Step| -> futures::future::BoxFuture<'static, ()> {
        seen.lock().unwrap().push(step);
        Box::pin(async {})
    };
    let summary = processing::detect(
        &state.database,
        &state.blobs,
        &engine,
        DetectRun {
            tenant_id: obscura_entity::DEFAULT_TENANT_ID,
            job_id: accepted["job_id"].as_str().unwrap().parse().unwrap(),
            document_id: document_id.parse().unwrap(),
            version: 1,
            settings: Default::default(),
            request_id: None,
        },
        &report,
    )
    .await
    .unwrap();
    assert_eq!(summary["entities_found"], 2, "{summary}");
    let steps = steps.lock().unwrap().clone();
    let messages: Vec<&str> = steps.iter().map(|step| step.message.as_str()).collect();
    for expected in [
        "page 1 of 3 read",
        "page 2 of 3 read",
        "page 3 of 3 read",
        "3 of 3 parts searched for personal data",
        "2 entities found",
    ] {
        assert!(messages.contains(&expected), "{expected} not in {messages:?}");
    }
    let percents: Vec<u8> = steps.iter().map(|step| step.percent).collect();
    assert!(percents.windows(2).all(|pair| pair[0] <= pair[1]), "{percents:?}");
    let document: Value = app
        .get(&format!("/api/v1/documents/{document_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["page_count"], 3, "{document}");
    app.stop().await;
}

/// Two anonymizations of one project's documents asked for at the same moment take turns
/// with the glossary: the same address has one alias in both, and different addresses never
/// share one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_anonymizations_share_one_glossary() {
    use obscura_platform::processing::{self, AnonymizeRun, Step};
    let mut setup = crate::support::TestSetup::new(Mode::Distributed).await;
    setup.set("OBSCURA__SERVER__WORKERS", "0");
    let app = setup.start().await;
    let project_id = project(&app, "Carrera", true).await;
    let state = &app.server.as_ref().unwrap().state;
    let engine = obscura_api::server::document_engine(&state.config, state.catalog.clone(), state.master_keys.clone());
    let quiet = |_: Step| -> futures::future::BoxFuture<'static, ()> { Box::pin(async {}) };
    let mut documents = Vec::new();
    for (name, text) in [
        ("uno.txt", "Firma: eva@example.com y tomas@example.com\n"),
        (
            "dos.txt",
            "Copia a tomas@example.com y a eva@example.com; también nuria@example.com\n",
        ),
    ] {
        let id = upload(&app, &project_id, name, text.as_bytes().to_vec()).await;
        let (status, accepted) = ask(&app, &id, "detect", json!({})).await;
        assert_eq!(status, 202, "{accepted}");
        processing::detect(
            &state.database,
            &state.blobs,
            &engine,
            processing::DetectRun {
                tenant_id: obscura_entity::DEFAULT_TENANT_ID,
                job_id: accepted["job_id"].as_str().unwrap().parse().unwrap(),
                document_id: id.parse().unwrap(),
                version: 1,
                settings: Default::default(),
                request_id: None,
            },
            &quiet,
        )
        .await
        .unwrap();
        documents.push(id);
    }
    let mut runs = Vec::new();
    for document in &documents {
        let (status, accepted) = ask(&app, document, "anonymize", json!({})).await;
        assert_eq!(status, 202, "{accepted}");
        runs.push(AnonymizeRun {
            tenant_id: obscura_entity::DEFAULT_TENANT_ID,
            job_id: accepted["job_id"].as_str().unwrap().parse().unwrap(),
            document_id: document.parse().unwrap(),
            version: 3,
            level: "INTERMEDIATE".into(),
            request_id: None,
        });
    }
    let second = runs.pop().unwrap();
    let first = runs.pop().unwrap();
    let (one, two) = tokio::join!(
        processing::anonymize(&state.database, &state.blobs, &engine, first, &quiet),
        processing::anonymize(&state.database, &state.blobs, &engine, second, &quiet),
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one["leak_check"], "passed", "{one}");
    assert_eq!(two["leak_check"], "passed", "{two}");
    let keys = state.master_keys.vault_keys(obscura_entity::DEFAULT_TENANT_ID);
    let exported = obscura_platform::glossary::export(
        &state.database,
        &keys,
        obscura_entity::DEFAULT_TENANT_ID,
        project_id.parse().unwrap(),
        obscura_platform::audit::Actor::SYSTEM,
        None,
    )
    .await
    .unwrap();
    let mut originals: Vec<&str> = exported.iter().map(|entry| entry.original.as_str()).collect();
    originals.sort_unstable();
    assert_eq!(originals, ["eva@example.com", "nuria@example.com", "tomas@example.com"]);
    let mut aliases: Vec<&str> = exported.iter().map(|entry| entry.alias.as_str()).collect();
    aliases.sort_unstable();
    aliases.dedup();
    assert_eq!(aliases.len(), 3, "two addresses share an alias: {exported:?}");
    for entry in &exported {
        let expected = if entry.original == "nuria@example.com" { 1 } else { 2 };
        assert_eq!(entry.documents.len(), expected, "{entry:?}");
    }
    app.stop().await;
}
