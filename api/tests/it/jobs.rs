//! Jobs: enqueued in a transaction, run once by a worker, progress and result recorded.

use std::time::Duration;

use chrono::Utc;
use obscura_entity::{job_records, tenants};
use obscura_platform::database::Pool;
use obscura_platform::jobs::{self, DiagnosticJob, EnqueueOptions};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use crate::both_modes;
use crate::support::{Mode, spawn_app};

async fn diagnostic_job_runs_once_and_records_its_result(mode: Mode) {
    let app = spawn_app(mode).await;
    let job_id = app.queue_diagnostic(4096).await;
    let job = app.wait_for_job(&job_id, Duration::from_secs(30)).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["progress"], 100);
    assert_eq!(job["result"]["blob_bytes"], 4096);
    let storage = if mode == Mode::Embedded { "local" } else { "s3" };
    assert_eq!(job["result"]["storage_backend"], storage);
    assert!(job["worker"].as_str().is_some_and(|worker| !worker.is_empty()));
    assert!(job["finished_at"].is_string());

    let list: serde_json::Value = app
        .get("/api/v1/jobs?limit=10")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], job_id.as_str());
    app.stop().await;
}
both_modes!(diagnostic_job_runs_once_and_records_its_result);

async fn queued_task_count(pool: &Pool, job_id: Uuid) -> i64 {
    let task_id = ulid::Ulid(job_id.as_u128()).to_string();
    match pool {
        Pool::Postgres(pool) => sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE id = $1")
            .bind(task_id)
            .fetch_one(pool)
            .await
            .unwrap(),
        Pool::Sqlite(pool) => sqlx::query_scalar("SELECT count(*) FROM Jobs WHERE id = ?1")
            .bind(task_id)
            .fetch_one(pool)
            .await
            .unwrap(),
    }
}

async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs(mode: Mode) {
    let app = spawn_app(mode).await;
    let database = app.server.as_ref().unwrap().state.database.clone();
    let options = EnqueueOptions {
        tenant_id: obscura_entity::DEFAULT_TENANT_ID,
        request_id: None,
        max_attempts: 3,
        document_id: None,
    };

    let tx = database.begin().await.unwrap();
    let rolled_back = jobs::enqueue(
        &tx,
        &options,
        DiagnosticJob {
            blob_bytes: 1,
            hold_ms: 0,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        job_records::Entity::find_by_id(rolled_back)
            .one(&tx)
            .await
            .unwrap()
            .map(|job| job.id),
        Some(rolled_back),
        "the record is visible inside the transaction"
    );
    tx.rollback().await.unwrap();

    let tx = database.begin().await.unwrap();
    let committed = jobs::enqueue(
        &tx,
        &options,
        DiagnosticJob {
            blob_bytes: 1,
            hold_ms: 0,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let job = app.wait_for_job(&committed.to_string(), Duration::from_secs(30)).await;
    assert_eq!(job["state"], "succeeded");
    // Give the worker a few more polls in which it could wrongly pick up the other job.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        job_records::Entity::find_by_id(rolled_back)
            .one(database.orm())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        queued_task_count(database.pool(), rolled_back).await,
        0,
        "no queue task survives the rollback"
    );
    assert_eq!(queued_task_count(database.pool(), committed).await, 1);
    app.stop().await;
}
both_modes!(a_job_enqueued_in_a_rolled_back_transaction_never_runs);

#[tokio::test]
async fn jobs_of_another_tenant_are_invisible() {
    let app = spawn_app(Mode::Embedded).await;
    let database = app.server.as_ref().unwrap().state.database.clone();
    let job_id = app.queue_diagnostic(1).await;

    let other_tenant = Uuid::now_v7();
    tenants::ActiveModel {
        id: Set(other_tenant),
        name: Set("other".into()),
        created_at: Set(Utc::now()),
    }
    .insert(database.orm())
    .await
    .unwrap();
    let (_, other_key) =
        obscura_api::auth::create_key(&database, other_tenant, "other", obscura_api::auth::Role::Admin)
            .await
            .unwrap();
    use secrecy::ExposeSecret;
    let response = app
        .client
        .get(app.url(&format!("/api/v1/jobs/{job_id}")))
        .bearer_auth(other_key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let list: serde_json::Value = app
        .client
        .get(app.url("/api/v1/jobs"))
        .bearer_auth(other_key.expose_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn oversized_diagnostic_blobs_are_refused() {
    let app = spawn_app(Mode::Embedded).await;
    let response = app
        .post("/api/v1/jobs/diagnostic")
        .json(&serde_json::json!({ "blob_bytes": 2 * 1024 * 1024 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["loc"], "body.blob_bytes");
    app.stop().await;
}

/// Pushes a raw task to the job queue of an embedded app, as another release might.
async fn push_raw_task(pool: &sqlx::SqlitePool, envelope: serde_json::Value, job_id: Uuid) {
    let task = apalis_core::task::builder::TaskBuilder::new(serde_json::to_vec(&envelope).unwrap())
        .task_id(apalis_core::task::task_id::TaskId::from_ulid(ulid::Ulid(
            job_id.as_u128(),
        )))
        .max_attempts(3)
        .build();
    let mut connection = pool.acquire().await.unwrap();
    apalis_sqlite::queries::push_tasks(&mut *connection, obscura_platform::jobs::JOBS_QUEUE, &[task])
        .await
        .unwrap();
}

async fn task_state(pool: &sqlx::SqlitePool, job_id: Uuid) -> (String, i64) {
    sqlx::query_as("SELECT status, attempts FROM Jobs WHERE id = ?1")
        .bind(ulid::Ulid(job_id.as_u128()).to_string())
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn unreadable_payloads_fail_their_job_and_newer_ones_go_back_to_the_queue() {
    let app = spawn_app(Mode::Embedded).await;
    let database = app.server.as_ref().unwrap().state.database.clone();
    let Pool::Sqlite(pool) = database.pool() else {
        unreachable!("embedded mode is SQLite")
    };

    // A current-version payload that does not decode, with its job record.
    let broken = Uuid::from_u128(ulid::Ulid::generate().0);
    let now = Utc::now();
    job_records::ActiveModel {
        id: Set(broken),
        tenant_id: Set(obscura_entity::DEFAULT_TENANT_ID),
        kind: Set("diagnostic".into()),
        state: Set("queued".into()),
        progress: Set(0),
        attempts: Set(0),
        max_attempts: Set(3),
        error: Set(None),
        result: Set(None),
        request_id: Set(None),
        worker_name: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        progress_code: Set(None),
        progress_message: Set(None),
        document_id: Set(None),
        project_id: Set(None),
    }
    .insert(database.orm())
    .await
    .unwrap();
    let envelope = serde_json::json!({
        "version": 1, "job_id": broken, "tenant_id": obscura_entity::DEFAULT_TENANT_ID,
        "request_id": null, "payload": { "blob_bytes": "not a number" }
    });
    push_raw_task(pool, envelope, broken).await;

    // A payload written by a newer release.
    let newer = Uuid::from_u128(ulid::Ulid::generate().0);
    let envelope = serde_json::json!({
        "version": 99, "job_id": newer, "tenant_id": obscura_entity::DEFAULT_TENANT_ID,
        "request_id": null, "payload": { "blob_bytes": 1, "new_field": true }
    });
    push_raw_task(pool, envelope, newer).await;

    let job = app.wait_for_job(&broken.to_string(), Duration::from_secs(30)).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert!(job["error"].as_str().unwrap().contains("cannot be read"), "{job}");
    assert_eq!(
        task_state(pool, broken).await.0,
        "Killed",
        "an unreadable job is not retried"
    );

    // The newer job is handed back rather than killed, and the worker keeps serving.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, attempts) = task_state(pool, newer).await;
        assert_ne!(status, "Killed");
        if attempts >= 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the newer job was not retried: {status} {attempts}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let good = app.queue_diagnostic(1).await;
    assert_eq!(
        app.wait_for_job(&good, Duration::from_secs(30)).await["state"],
        "succeeded"
    );
    app.stop().await;
}

async fn shutdown_lets_a_running_job_finish(mode: Mode) {
    let mut app = spawn_app(mode).await;
    let database = app.server.as_ref().unwrap().state.database.clone();
    let response = app
        .post("/api/v1/jobs/diagnostic")
        .json(&serde_json::json!({ "blob_bytes": 16, "hold_ms": 1500 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    let job_id: Uuid = body["job_id"].as_str().unwrap().parse().unwrap();

    // Wait until the worker holds the job, then shut down under it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let record = job_records::Entity::find_by_id(job_id)
            .one(database.orm())
            .await
            .unwrap()
            .unwrap();
        if record.progress == 75 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job never started: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = tokio::time::Instant::now();
    app.server.take().unwrap().shutdown().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "shutdown waited for the running job"
    );

    let record = job_records::Entity::find_by_id(job_id)
        .one(database.orm())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, "succeeded", "{record:?}");
    assert_eq!(record.attempts, 1);
}
both_modes!(shutdown_lets_a_running_job_finish);
