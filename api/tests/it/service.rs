//! Health, metrics, the OpenAPI document, problem details and request ids.

use std::collections::BTreeSet;

use crate::both_modes;
use crate::support::{Mode, spawn_app};

async fn health_is_ok_on_a_fresh_install(mode: Mode) {
    let app = spawn_app(mode).await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    for component in ["database", "storage", "queue", "ocr", "ner"] {
        assert!(
            body["components"][component]["status"].is_string(),
            "{component} missing: {body}"
        );
    }
    let (database, storage) = match mode {
        Mode::Embedded => ("sqlite", "local"),
        Mode::Distributed => ("postgres", "s3"),
    };
    assert_eq!(body["components"]["database"]["backend"], database);
    assert_eq!(body["components"]["storage"]["backend"], storage);
    // The OCR engine that reads scans, with the languages documents are read in.
    let ocr = &body["components"]["ocr"];
    assert_eq!(ocr["status"], "up", "{ocr}");
    assert_eq!(ocr["backend"], "tesseract");
    let detail = ocr["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("Tesseract ") && detail.contains("spa") && detail.contains("eng"),
        "{detail}"
    );
    if mode == Mode::Embedded {
        assert!(app.data_dir().join("obscura.db").is_file());
        assert!(app.data_dir().join("blobs").is_dir());
    }
    app.stop().await;
}
both_modes!(health_is_ok_on_a_fresh_install);

fn assert_problem(response_status: u16, content_type: &str, body: &serde_json::Value, status: u16, code: &str) {
    assert_eq!(response_status, status, "{body}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}"
    );
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("/docs/errors#{code}"));
    for field in ["title", "detail", "instance"] {
        assert!(
            body[field].as_str().is_some_and(|text| !text.is_empty()),
            "{field} missing: {body}"
        );
    }
}

async fn send(request: reqwest::RequestBuilder) -> (u16, String, serde_json::Value, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, content_type, body, request_id)
}

#[tokio::test]
async fn every_error_is_problem_json() {
    let app = spawn_app(Mode::Embedded).await;

    let (status, content_type, body, request_id) = send(
        app.post("/api/v1/jobs/diagnostic")
            .header("content-type", "application/json")
            .body("{\"blob_bytes\": "),
    )
    .await;
    assert_problem(status, &content_type, &body, 400, "invalid_json");
    assert_eq!(body["instance"], request_id, "instance is the request id");

    let (status, content_type, body, _) = send(
        app.post("/api/v1/jobs/diagnostic")
            .header("content-type", "text/plain")
            .body("hello"),
    )
    .await;
    assert_problem(status, &content_type, &body, 415, "unsupported_media_type");

    let (status, content_type, body, _) = send(
        app.post("/api/v1/jobs/diagnostic")
            .json(&serde_json::json!({ "blob_bytes": "many" })),
    )
    .await;
    assert_problem(status, &content_type, &body, 400, "invalid_body");

    let (status, content_type, body, _) = send(app.client.get(app.url("/no/such/route"))).await;
    assert_problem(status, &content_type, &body, 404, "route_not_found");

    let (status, content_type, body, _) = send(app.client.delete(app.url("/health"))).await;
    assert_problem(status, &content_type, &body, 405, "method_not_allowed");

    let (status, content_type, body, _) = send(app.get("/api/v1/jobs/not-a-uuid")).await;
    assert_problem(status, &content_type, &body, 400, "invalid_path");

    let (status, content_type, body, _) = send(app.get(&format!("/api/v1/jobs/{}", uuid::Uuid::new_v4()))).await;
    assert_problem(status, &content_type, &body, 404, "job_not_found");

    let (status, content_type, body, _) = send(app.get("/api/v1/jobs?limit=0")).await;
    assert_problem(status, &content_type, &body, 400, "invalid_query");
    assert_eq!(body["errors"][0]["loc"], "query.limit");
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_answer_413_problem_json() {
    let mut setup = crate::support::TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__SERVER__JSON_BODY_LIMIT_BYTES", "64");
    let app = setup.start().await;
    let body = format!("{{\"blob_bytes\": 1, \"padding\": \"{}\"}}", "x".repeat(200));
    let (status, content_type, body, _) = send(
        app.post("/api/v1/jobs/diagnostic")
            .header("content-type", "application/json")
            .body(body),
    )
    .await;
    assert_problem(status, &content_type, &body, 413, "payload_too_large");
    app.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_and_kept_when_sane() {
    let app = spawn_app(Mode::Embedded).await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "client-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-id-42");

    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "bad id with spaces");

    let job_id = app.queue_diagnostic(8).await;
    let job = app.wait_for_job(&job_id, std::time::Duration::from_secs(20)).await;
    assert!(
        job["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "the job carries the request id: {job}"
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app(Mode::Embedded).await;
    app.client.get(app.url("/health")).send().await.unwrap();
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("obscura_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("obscura_component_up{component=\"database\"} 1"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn docs_are_served_offline() {
    let app = spawn_app(Mode::Embedded).await;
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(!html.contains("cdn."), "Swagger UI must not load scripts from a CDN");
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/api/v1/openapi.json"));
    let errors = app
        .client
        .get(app.url("/docs/errors"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(errors.contains("id=\"route_not_found\""));
    app.stop().await;
}

#[test]
fn committed_openapi_matches_the_code() {
    let committed = std::fs::read_to_string(
        std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../openapi.json"),
    )
    .expect("openapi.json is committed at the repository root");
    let generated = obscura_api::openapi::openapi_json();
    assert!(
        committed == generated,
        "openapi.json is out of date: regenerate it with `obscura openapi > openapi.json`"
    );
    let document: serde_json::Value = serde_json::from_str(generated).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
}

/// Every path the router serves, read from its debug form (axum has no route listing).
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let mut paths = BTreeSet::new();
    for piece in debug.split('"') {
        if piece.starts_with('/') {
            paths.insert(piece.to_owned());
        }
    }
    paths
}

#[tokio::test]
async fn every_route_of_the_router_is_in_the_openapi_document() {
    let app = spawn_app(Mode::Embedded).await;
    let state = app.server.as_ref().unwrap().state.clone();
    let router = obscura_api::openapi::build_router(state);
    let served = router_paths(&router);
    assert!(served.contains("/health"), "route listing works: {served:?}");

    let document = obscura_api::openapi::openapi();
    let documented: BTreeSet<String> = document.paths.paths.keys().cloned().collect();
    // The start page and the interactive docs are HTML for people, not API operations; the
    // last entry is where axum mounts the fallback that answers 404.
    let undocumented_by_design: BTreeSet<String> = [
        "/docs",
        "/docs/",
        "/docs/{*rest}",
        "/docs/errors",
        "/",
        "/{*__private__axum_fallback}",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let missing: Vec<&String> = served
        .iter()
        .filter(|path| !documented.contains(*path) && !undocumented_by_design.contains(*path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    for path in [
        "/health",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
    ] {
        assert!(documented.contains(path), "{path} is not documented");
    }

    // And every documented operation is really served (not a 404 or 405).
    for (path, item) in &document.paths.paths {
        let concrete = path.replace("{job_id}", &uuid::Uuid::new_v4().to_string());
        let methods = [
            ("get", item.get.is_some()),
            ("post", item.post.is_some()),
            ("put", item.put.is_some()),
            ("delete", item.delete.is_some()),
            ("patch", item.patch.is_some()),
        ];
        for (method, present) in methods {
            if !present {
                continue;
            }
            let request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .bearer_auth(app.key())
                .header("content-type", "application/json")
                .body("{}");
            let response = request.send().await.unwrap();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            assert!(
                body["code"] != "route_not_found" && body["code"] != "method_not_allowed",
                "{method} {path} is documented but not served: {body}"
            );
        }
    }
    app.stop().await;
}

/// Pages from the configured origins may call the API from a browser: their preflight is
/// answered and their answers carry the origin; other origins, and every origin when none
/// is configured, get no CORS headers.
#[tokio::test]
async fn browsers_on_allowed_origins_may_call_the_api() {
    let preflight = |app: &crate::support::TestApp, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/anonymize"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let allowed_origin = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let mut setup = crate::support::TestSetup::new(Mode::Embedded).await;
    setup.set(
        "OBSCURA__SERVER__CORS_ALLOWED_ORIGINS",
        "http://localhost:3000, https://app.example.com/",
    );
    let app = setup.start().await;
    let response = preflight(&app, "http://localhost:3000").await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(allowed_origin(&response).as_deref(), Some("http://localhost:3000"));
    let allowed_headers = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed_headers.contains("authorization"), "{allowed_headers}");
    let answer = app
        .post("/api/v1/anonymize")
        .header("origin", "https://app.example.com")
        .json(&serde_json::json!({"name": "Alice Johnson"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(allowed_origin(&answer).as_deref(), Some("https://app.example.com"));
    let other = preflight(&app, "https://elsewhere.example.org").await.unwrap();
    assert_eq!(allowed_origin(&other), None);
    app.stop().await;

    let app = spawn_app(Mode::Embedded).await;
    let response = preflight(&app, "http://localhost:3000").await.unwrap();
    assert_eq!(allowed_origin(&response), None, "no origin is allowed by default");
    app.stop().await;
}
