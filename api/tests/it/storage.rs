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
        .presign_put("uploads/report.pdf", "application/pdf", None, Duration::from_secs(300))
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

/// Writes `total` bytes in 1 MiB chunks through a writer and reads them back.
async fn written_in_pieces_reads_back_whole(store: &BlobStore, total: usize) {
    let bytes: Bytes = (0..total).map(|index| (index % 251) as u8).collect::<Vec<_>>().into();
    let mut writer = store.writer("pieces/blob.bin").await.unwrap();
    for chunk in bytes.chunks(1024 * 1024) {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert_eq!(writer.written(), total as u64);
    // Nothing is visible before the writer finishes.
    assert_eq!(
        store.get("pieces/blob.bin").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    writer.finish().await.unwrap();
    assert_eq!(store.get("pieces/blob.bin").await.unwrap(), bytes);
    store.delete("pieces/blob.bin").await.unwrap();

    // An abandoned writer leaves nothing under its key.
    let mut writer = store.writer("pieces/abandoned.bin").await.unwrap();
    writer.write(bytes.slice(..total.min(9 * 1024 * 1024))).await.unwrap();
    writer.abort().await;
    assert_eq!(
        store.get("pieces/abandoned.bin").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_blob_written_in_pieces_is_whole_on_s3_in_one_put_or_in_parts() {
    let store = s3_store().await;
    // Smaller than a part: one PUT. Over two parts: a multipart upload with a short last part.
    written_in_pieces_reads_back_whole(&store, 300_000).await;
    written_in_pieces_reads_back_whole(&store, 2 * obscura_platform::storage::PART_BYTES + 123_457).await;
}

#[tokio::test]
async fn a_blob_written_in_pieces_is_whole_on_local_disk_and_no_partial_file_stays() {
    let directory = tempfile::tempdir().unwrap();
    let store = BlobStore::Local(
        obscura_platform::storage::LocalBlobStore::open(directory.path())
            .await
            .unwrap(),
    );
    written_in_pieces_reads_back_whole(&store, 3 * 1024 * 1024 + 7).await;
    let left: Vec<_> = std::fs::read_dir(directory.path().join("pieces"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
