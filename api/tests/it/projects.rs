//! Projects: created, listed with their documents counted, read, changed, audited, and
//! invisible to other tenants.

use chrono::Utc;
use obscura_api::auth::{self, Role};
use obscura_entity::{DEFAULT_TENANT_ID, tenants};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_modes;
use crate::support::{Mode, TestApp, spawn_app};

async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app.post("/api/v1/projects").json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn projects_are_created_listed_read_and_changed(mode: Mode) {
    let app = spawn_app(mode).await;
    let (status, created) = create(
        &app,
        json!({"name": "Sentencias 2024", "description": "Tribunal Supremo", "default_anonymization_level": "ADVANCED", "language": "es", "profile": "legal-es"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Sentencias 2024");
    assert_eq!(created["default_anonymization_level"], "ADVANCED");
    assert_eq!(created["language"], "es");
    assert_eq!(created["keep_originals"], true);
    assert_eq!(created["document_count"], 0);
    assert_eq!(created["documents_by_state"]["PENDING"], 0);
    assert_eq!(created["documents_by_state"]["ERROR"], 0);
    let id = created["id"].as_str().unwrap().to_owned();

    // Defaults: INTERMEDIATE, auto.
    let (status, other) = create(&app, json!({"name": "Contratos"})).await;
    assert_eq!(status, 201, "{other}");
    assert_eq!(other["default_anonymization_level"], "INTERMEDIATE");
    assert_eq!(other["language"], "auto");
    assert!(other["profile"].is_null());

    let list: Value = app
        .get("/api/v1/projects?limit=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["name"], "Contratos", "sorted by name");

    let read: Value = app
        .get(&format!("/api/v1/projects/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["description"], "Tribunal Supremo");

    // Only what is given changes; null clears.
    let response = app
        .client
        .put(app.url(&format!("/api/v1/projects/{id}")))
        .bearer_auth(app.key())
        .json(&json!({"default_anonymization_level": "BASIC", "description": null, "keep_originals": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["default_anonymization_level"], "BASIC");
    assert!(changed["description"].is_null());
    assert_eq!(changed["keep_originals"], false);
    assert_eq!(changed["name"], "Sentencias 2024");
    assert_eq!(changed["profile"], "legal-es");

    // Both writes are audited, with the key that made them.
    let audit: Value = app
        .get(&format!("/api/v1/audit?project_id={id}"))
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
        .map(|item| item["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["project.update", "project.create"]);
    assert_eq!(audit["items"][0]["role"], "admin");
    assert!(audit["items"][0]["key_id"].is_string());
    assert!(audit["items"][0]["request_id"].is_string());
    app.stop().await;
}
both_modes!(projects_are_created_listed_read_and_changed);

async fn bad_project_settings_are_named(mode: Mode) {
    let app = spawn_app(mode).await;
    let (status, _) = create(&app, json!({"name": "Uno"})).await;
    assert_eq!(status, 201);
    let cases = [
        (json!({"name": "Uno"}), 409, "project_name_taken", None),
        (json!({"name": "  "}), 400, "invalid_body", Some("body.name")),
        (json!({"name": "x".repeat(201)}), 400, "invalid_body", Some("body.name")),
        (
            json!({"name": "Dos", "profile": "nope"}),
            400,
            "invalid_body",
            Some("body.profile"),
        ),
        (
            json!({"name": "Dos", "operators": [1]}),
            400,
            "invalid_body",
            Some("body.operators"),
        ),
        // Values of the wrong type and unknown fields do not match the schema.
        (
            json!({"name": "Dos", "default_anonymization_level": "MAX"}),
            400,
            "invalid_body",
            None,
        ),
        (json!({"name": "Dos", "colour": "red"}), 400, "invalid_body", None),
    ];
    for (body, status, code, field) in cases {
        let (got, problem) = create(&app, body.clone()).await;
        assert_eq!(got, status, "{body} gave {problem}");
        assert_eq!(problem["code"], code, "{body} gave {problem}");
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["loc"], field, "{problem}");
        }
    }
    let missing = Uuid::now_v7();
    let response = app.get(&format!("/api/v1/projects/{missing}")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "project_not_found");
    let response = app.get("/api/v1/projects?limit=0").send().await.unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await;
}
both_modes!(bad_project_settings_are_named);

#[tokio::test]
async fn another_tenant_s_projects_are_not_found_and_viewers_only_read() {
    let app = spawn_app(Mode::Embedded).await;
    let database = app.server.as_ref().unwrap().state.database.clone();
    let (status, created) = create(&app, json!({"name": "Privado"})).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();

    let other_tenant = Uuid::now_v7();
    tenants::ActiveModel {
        id: Set(other_tenant),
        name: Set("other".into()),
        created_at: Set(Utc::now()),
    }
    .insert(database.orm())
    .await
    .unwrap();
    let (_, stranger) = auth::create_key(&database, other_tenant, "stranger", Role::Admin)
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url(&format!("/api/v1/projects/{id}")))
        .bearer_auth(stranger.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let list: Value = app
        .client
        .get(app.url("/api/v1/projects"))
        .bearer_auth(stranger.expose_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    // The same name is free in another tenant.
    let response = app
        .client
        .post(app.url("/api/v1/projects"))
        .bearer_auth(stranger.expose_secret())
        .json(&json!({"name": "Privado"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let (_, viewer) = auth::create_key(&database, DEFAULT_TENANT_ID, "viewer", Role::Viewer)
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/projects"))
        .bearer_auth(viewer.expose_secret())
        .json(&json!({"name": "Nuevo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .client
        .get(app.url(&format!("/api/v1/projects/{id}")))
        .bearer_auth(viewer.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .get(app.url("/api/v1/audit"))
        .bearer_auth(viewer.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "the audit log is for admins");
    app.stop().await;
}
