//! Blob storage against the test S3 server.

use std::time::Duration;

use bytes::Bytes;
use obscura_detection::{ErrorClass, ErrorKind};
use obscura_platform::config::{Config, EnvSource, Overrides};
use obscura_platform::storage::BlobStore;
use uuid::Uuid;

use crate::support::S3Settings;

async fn s3_store() -> BlobStore {
    let prefix = format!("test-{}", Uuid::new_v4().simple());
    let vars = S3Settings::from_env().config_vars(&prefix);
    let config = Config::load(None, &EnvSource::Fixed(vars), &Overrides::default()).unwrap();
    BlobStore::from_config(&config.storage).await.unwrap()
}

#[tokio::test]
async fn s3_store_round_trips_and_reports_missing_blobs() {
    let store = s3_store().await;
    store.check().await.unwrap();
    let bytes: Bytes = (0..300_000_u32)
        .map(|index| (index % 253) as u8)
        .collect::<Vec<_>>()
        .into();
    store.put("a/b/c.bin", bytes.clone()).await.unwrap();
    assert_eq!(store.get("a/b/c.bin").await.unwrap(), bytes);
    store.delete("a/b/c.bin").await.unwrap();
    let error = store.get("a/b/c.bin").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert_eq!(store.get("../escape").await.unwrap_err().kind(), ErrorKind::Invalid);
}

#[tokio::test]
async fn a_presigned_put_uploads_the_exact_bytes() {
    let store = s3_store().await;
    let upload = store
        .presign_put("uploads/report.pdf", "application/pdf", Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(upload.method, "PUT");
    assert!(upload.url.contains("X-Amz-Signature="), "the URL carries its signature");

    // Bytes that a lossy transfer would damage: every byte value, and a NUL run.
    let mut bytes: Vec<u8> = (0..=255_u8).cycle().take(70_001).collect();
    bytes.extend_from_slice(&[0; 1024]);
    let client = reqwest::Client::new();
    let mut request = client.put(&upload.url).body(bytes.clone());
    // Exactly the signed headers, as a browser or integrator would send them.
    for (name, value) in &upload.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );

    assert_eq!(store.get("uploads/report.pdf").await.unwrap(), Bytes::from(bytes));

    // A URL signed for one key cannot write another.
    let tampered = upload.url.replace("uploads/report.pdf", "uploads/other.pdf");
    let mut request = client.put(&tampered).body("x");
    for (name, value) in &upload.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 403);
}
