//! Bearer API keys on `/api/v1`.

use std::os::unix::fs::PermissionsExt;

use obscura_api::auth::{self, Role};
use obscura_entity::DEFAULT_TENANT_ID;
use secrecy::ExposeSecret;

use crate::both_modes;
use crate::support::{Mode, TestSetup, spawn_app};

async fn status_of(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn api_requires_a_valid_key(mode: Mode) {
    let app = spawn_app(mode).await;
    let url = app.url("/api/v1/jobs");
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");

    let (status, body) = status_of(app.client.get(&url)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthenticated");

    let (status, _) = status_of(
        app.client
            .get(&url)
            .bearer_auth("obs_wrong_key_0000000000000000000000000000"),
    )
    .await;
    assert_eq!(status, 401);

    let (status, _) = status_of(
        app.client
            .get(&url)
            .header("authorization", format!("Basic {}", app.key())),
    )
    .await;
    assert_eq!(status, 401, "only the Bearer scheme is accepted");

    let (status, body) = status_of(app.client.get(&url).bearer_auth(app.key())).await;
    assert_eq!(status, 200, "{body}");

    // Service endpoints stay public.
    let (status, _) = status_of(app.client.get(app.url("/health"))).await;
    assert_eq!(status, 200);
    let (status, _) = status_of(app.client.get(app.url("/api/v1/openapi.json"))).await;
    assert_eq!(status, 200);
    app.stop().await;
}
both_modes!(api_requires_a_valid_key);

#[tokio::test]
async fn first_start_generates_an_admin_key_in_a_private_file() {
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.unset("OBSCURA__AUTH__BOOTSTRAP_KEY");
    let mut app = setup.start().await;
    let key_file = app.data_dir().join("admin-key");
    let mode = std::fs::metadata(&key_file)
        .expect("key file exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "key file mode is {mode:o}");
    let key = std::fs::read_to_string(&key_file).unwrap().trim().to_owned();
    assert!(key.starts_with("obs_"), "unexpected key format");
    match &app.server.as_ref().unwrap().bootstrap {
        auth::Bootstrap::Generated { key: generated, .. } => assert_eq!(generated.expose_secret(), key),
        other @ (auth::Bootstrap::Existing | auth::Bootstrap::Configured) => {
            panic!("expected a generated key, got {other:?}")
        }
    }
    app.admin_key = Some(key.into());
    let response = app.get("/api/v1/jobs").send().await.unwrap();
    assert_eq!(response.status(), 200);

    // The database holds only a hash of it.
    let stored = auth::list_keys(&app.server.as_ref().unwrap().state.database)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].role, "admin");
    app.stop().await;
}

#[tokio::test]
async fn a_second_start_creates_no_new_key() {
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.unset("OBSCURA__AUTH__BOOTSTRAP_KEY");
    let config = setup.config();
    let first = obscura_api::server::start(config.clone()).await.unwrap();
    assert!(matches!(first.bootstrap, auth::Bootstrap::Generated { .. }));
    first.shutdown().await.unwrap();
    let second = obscura_api::server::start(config).await.unwrap();
    assert!(matches!(second.bootstrap, auth::Bootstrap::Existing));
    second.shutdown().await.unwrap();
    drop(setup);
}

#[tokio::test]
async fn roles_and_revocation_are_enforced() {
    let app = spawn_app(Mode::Embedded).await;
    let database = app.server.as_ref().unwrap().state.database.clone();

    let (_, analyst) = auth::create_key(&database, DEFAULT_TENANT_ID, "analyst", Role::Analyst)
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/jobs/diagnostic"))
        .bearer_auth(analyst.expose_secret())
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");

    let (revoked_id, revoked) = auth::create_key(&database, DEFAULT_TENANT_ID, "gone", Role::Admin)
        .await
        .unwrap();
    auth::revoke_key(&database, revoked_id).await.unwrap();
    let response = app
        .client
        .get(app.url("/api/v1/jobs"))
        .bearer_auth(revoked.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        auth::revoke_key(&database, revoked_id).await.is_err(),
        "revoking twice reports it"
    );
    app.stop().await;
}
