//! Presigned uploads: announce, send the bytes to the URL given (S3, or the API's own signed
//! URL), complete with checks, and detection queued on completion; bad uploads are refused by
//! name and leave nothing.

use std::time::Duration;

use chrono::Utc;
use obscura_entity::documents;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_modes;
use crate::support::{Mode, TestApp, spawn_app};

async fn project(app: &TestApp) -> String {
    let response = app
        .post("/api/v1/projects")
        .json(&json!({ "name": "Escaneos" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn announce(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app.post("/api/v1/uploads").json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Sends the bytes as the ticket says; returns the status.
pub(crate) async fn send(app: &TestApp, ticket: &Value, bytes: Vec<u8>) -> u16 {
    let mut request = app.client.put(ticket["upload_url"].as_str().unwrap()).body(bytes);
    for (name, value) in ticket["headers"].as_object().unwrap() {
        // The client computes the length of what it sends.
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
    }
    request.send().await.unwrap().status().as_u16()
}

pub(crate) async fn complete(app: &TestApp, document_id: &str) -> (u16, Value) {
    let response = app
        .post(&format!("/api/v1/documents/{document_id}/complete"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn listed(app: &TestApp, project_id: &str) -> u64 {
    let list: Value = app
        .get(&format!("/api/v1/documents?project_id={project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["total"].as_u64().unwrap()
}

async fn presigned_uploads_are_checked_and_detected_on_completion(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app).await;
    let pdf = obscura_documents::pdf::write_text("Informe pericial.\nContacto: perito@example.com\n").unwrap();
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let (status, ticket) = announce(
        &app,
        json!({ "project_id": project_id, "filename": "informe.pdf", "size": pdf.len(),
                "content_type": "application/pdf", "sha256": sha256, "detect": true }),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(ticket["method"], "PUT");
    let document_id = ticket["document_id"].as_str().unwrap().to_owned();
    if mode == Mode::Embedded {
        assert!(
            ticket["upload_url"].as_str().unwrap().starts_with(&app.address),
            "{ticket}"
        );
    }
    // Not a document until it is complete.
    assert_eq!(listed(&app, &project_id).await, 0);
    let response = app
        .get(&format!("/api/v1/documents/{document_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let (status, problem) = complete(&app, &document_id).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("upload_missing")),
        "{problem}"
    );

    // Other bytes of the same size: refused at completion, and the URL takes the file again.
    let mut other = pdf.clone();
    let last = other.len() - 2;
    other[last] = b' ';
    assert_eq!(send(&app, &ticket, other).await, 200);
    let (status, problem) = complete(&app, &document_id).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("upload_mismatch")),
        "{problem}"
    );
    assert_eq!(send(&app, &ticket, pdf.clone()).await, 200);
    let (status, completed) = complete(&app, &document_id).await;
    assert_eq!(status, 200, "{completed}");
    assert_eq!(completed["id"], document_id.as_str());
    assert_eq!(completed["format"], "pdf");
    assert_eq!(completed["sha256"], sha256.as_str());
    let job_id = completed["detection_job_id"]
        .as_str()
        .expect("detection was queued")
        .to_owned();
    // Completing again answers the document.
    let (status, again) = complete(&app, &document_id).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(listed(&app, &project_id).await, 1);

    let job = app.wait_for_job(&job_id, Duration::from_secs(60)).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let results: Value = app
        .get(&format!("/api/v1/documents/{document_id}/detection-results"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let email = results["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["text"] == "perito@example.com")
        .unwrap_or_else(|| panic!("{results}"));
    assert_eq!(email["position"]["page"], 1);
    assert!(email["position"]["boxes"].is_array(), "{email}");

    // The same content again, announced and sent: a duplicate, and nothing stays.
    let (_, ticket) = announce(
        &app,
        json!({ "project_id": project_id, "filename": "copia.pdf", "size": pdf.len(), "content_type": "application/pdf" }),
    )
    .await;
    assert_eq!(send(&app, &ticket, pdf.clone()).await, 200);
    let (status, problem) = complete(&app, ticket["document_id"].as_str().unwrap()).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("duplicate_document")),
        "{problem}"
    );
    assert!(problem["detail"].as_str().unwrap().contains(&document_id), "{problem}");
    assert_eq!(listed(&app, &project_id).await, 1);
    app.stop().await;
}
both_modes!(presigned_uploads_are_checked_and_detected_on_completion);

async fn bad_announcements_are_refused_by_name(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app).await;
    let base = json!({ "project_id": project_id, "filename": "a.pdf", "size": 10, "content_type": "application/pdf" });
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let (status, problem) = announce(&app, with("size", json!(0))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("empty_file")),
        "{problem}"
    );
    let (status, problem) = announce(&app, with("size", json!(1u64 << 40))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (413, Some("upload_too_large")),
        "{problem}"
    );
    let (status, problem) = announce(&app, with("content_type", json!("application/x-msdownload"))).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.content_type");
    let (status, problem) = announce(&app, with("sha256", json!("abc"))).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.sha256");
    let (status, problem) = announce(&app, with("project_id", json!(uuid::Uuid::nil()))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("project_not_found")),
        "{problem}"
    );
    let (status, _) = announce(&app, with("filename", json!("  "))).await;
    assert_eq!(status, 400);
    app.stop().await;
}
both_modes!(bad_announcements_are_refused_by_name);

/// The API's own URL takes one PUT, with its signature, of at most the announced size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_upload_url_takes_one_signed_put() {
    let app = spawn_app(Mode::Embedded).await;
    let project_id = project(&app).await;
    let text = b"Nota: llamar a Marta al 600 111 222.\n".to_vec();
    let (_, ticket) = announce(
        &app,
        json!({ "project_id": project_id, "filename": "nota.txt", "size": text.len(), "content_type": "text/plain" }),
    )
    .await;
    let url = ticket["upload_url"].as_str().unwrap().to_owned();
    let tampered = json!({ "upload_url": url.replace("signature=", "signature=00"), "headers": ticket["headers"] });
    assert_eq!(send(&app, &tampered, text.clone()).await, 403);
    let expired = json!({ "upload_url": url.replace("expires=", "expires=1"), "headers": ticket["headers"] });
    assert_eq!(send(&app, &expired, text.clone()).await, 403);
    let mut longer = text.clone();
    longer.extend_from_slice(b"more than announced");
    assert_eq!(send(&app, &ticket, longer).await, 413);
    assert_eq!(send(&app, &ticket, text.clone()).await, 200);
    assert_eq!(send(&app, &ticket, text.clone()).await, 409);
    let (status, completed) = complete(&app, ticket["document_id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{completed}");
    assert!(completed["detection_job_id"].is_null());
    app.stop().await;
}

/// An upload never completed is removed once its URL expired.
async fn expired_uploads_are_removed(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app).await;
    let text = b"Borrador sin completar.\n".to_vec();
    let (_, ticket) = announce(
        &app,
        json!({ "project_id": project_id, "filename": "borrador.txt", "size": text.len(), "content_type": "text/plain" }),
    )
    .await;
    assert_eq!(send(&app, &ticket, text).await, 200);
    let document_id: uuid::Uuid = ticket["document_id"].as_str().unwrap().parse().unwrap();
    let state = &app.server.as_ref().unwrap().state;
    documents::Entity::update_many()
        .col_expr(
            documents::Column::UploadExpiresAt,
            Expr::value(Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(documents::Column::Id.eq(document_id))
        .exec(state.database.orm())
        .await
        .unwrap();
    let (status, problem) = complete(&app, &document_id.to_string()).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("upload_expired")),
        "{problem}"
    );
    let removed = obscura_platform::uploads::sweep_expired(&state.database, &state.blobs)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let key = obscura_platform::documents::original_key(document_id);
    assert!(state.blobs.get(&key).await.is_err(), "the blob is still stored");
    assert!(
        documents::Entity::find_by_id(document_id)
            .one(state.database.orm())
            .await
            .unwrap()
            .is_none()
    );
    app.stop().await;
}
both_modes!(expired_uploads_are_removed);
