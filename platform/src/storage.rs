//! Blob storage: a local directory or any S3-compatible server, behind one type.
//!
//! Keys are relative, slash-separated paths (`tenants/<id>/documents/<id>/original`).
//! The S3 store prefixes them with `storage.prefix`, so several deployments or tests can share a bucket.

mod local;
mod s3;
mod writer;

use std::time::Duration;

use bytes::Bytes;
use obscura_detection::{ErrorClass, ErrorKind};

pub use local::LocalBlobStore;
pub use s3::S3BlobStore;
pub use writer::{BlobWriter, PART_BYTES};

use crate::config::{StorageBackendKind, StorageConfig};

/// Longest blob key accepted, in bytes; S3 allows 1,024 including the prefix.
pub const MAX_KEY_LEN: usize = 900;

/// A blob store chosen by configuration.
#[derive(Debug, Clone)]
pub enum BlobStore {
    Local(LocalBlobStore),
    S3(S3BlobStore),
}

/// A URL a client can upload one object to without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    pub url: String,
    pub method: String,
    /// Headers the client must send exactly as given, since they are part of the signature.
    pub headers: Vec<(String, String)>,
    pub expires_in: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("blob {key} does not exist")]
    NotFound { key: String },
    #[error("blob key {key:?} is not valid: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("{operation} is not supported by the {backend} blob store")]
    Unsupported {
        backend: &'static str,
        operation: &'static str,
    },
    #[error("blob store {operation} failed for {key}")]
    Backend {
        operation: &'static str,
        key: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("blob store configuration is invalid: {0}")]
    Config(String),
}

impl ErrorClass for StorageError {
    fn kind(&self) -> ErrorKind {
        match self {
            StorageError::NotFound { .. } => ErrorKind::NotFound,
            StorageError::InvalidKey { .. } => ErrorKind::Invalid,
            StorageError::Unsupported { .. } => ErrorKind::Unsupported,
            StorageError::Backend { .. } => ErrorKind::Unavailable,
            StorageError::Config(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            StorageError::NotFound { .. } => "blob_not_found",
            StorageError::InvalidKey { .. } => "invalid_blob_key",
            StorageError::Unsupported { .. } => "storage_operation_unsupported",
            StorageError::Backend { .. } => "storage_unavailable",
            StorageError::Config(_) => "storage_misconfigured",
        }
    }
}

impl BlobStore {
    /// Opens the store that `config` selects. Nothing is contacted yet for S3.
    pub async fn from_config(config: &StorageConfig) -> Result<BlobStore, StorageError> {
        match config.backend {
            StorageBackendKind::Local => Ok(BlobStore::Local(LocalBlobStore::open(&config.path).await?)),
            StorageBackendKind::S3 => Ok(BlobStore::S3(S3BlobStore::from_config(config).await?)),
        }
    }

    /// The backend's name, for logs and health output.
    pub fn backend_name(&self) -> &'static str {
        match self {
            BlobStore::Local(_) => "local",
            BlobStore::S3(_) => "s3",
        }
    }

    /// Writes `bytes` under `key`, replacing any blob there.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        validate_key(key)?;
        match self {
            BlobStore::Local(store) => store.put(key, bytes).await,
            BlobStore::S3(store) => store.put(key, bytes).await,
        }
    }

    /// A writer that stores a blob under `key` piece by piece; nothing is visible under the
    /// key until it finishes.
    pub async fn writer(&self, key: &str) -> Result<BlobWriter, StorageError> {
        validate_key(key)?;
        let inner = match self {
            BlobStore::Local(store) => writer::WriterInner::Local(store.writer(key).await?),
            BlobStore::S3(store) => writer::WriterInner::S3 {
                write: store.writer(key),
                pending: bytes::BytesMut::new(),
            },
        };
        Ok(BlobWriter { inner, written: 0 })
    }

    /// Reads the whole blob under `key`.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        validate_key(key)?;
        match self {
            BlobStore::Local(store) => store.get(key).await,
            BlobStore::S3(store) => store.get(key).await,
        }
    }

    /// Deletes the blob under `key`; deleting a missing blob succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        match self {
            BlobStore::Local(store) => store.delete(key).await,
            BlobStore::S3(store) => store.delete(key).await,
        }
    }

    /// Proves the store is reachable and usable.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            BlobStore::Local(store) => store.check().await,
            BlobStore::S3(store) => store.check().await,
        }
    }

    /// A URL that accepts a PUT of `key` until `expires_in` passes, of `content_type` and,
    /// when given, exactly `content_length` bytes (both are signed).
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: Option<u64>,
        expires_in: Duration,
    ) -> Result<PresignedUpload, StorageError> {
        validate_key(key)?;
        match self {
            // The local store has no server of its own; the API will serve signed
            // upload URLs for it, so the caller learns that this store cannot.
            BlobStore::Local(_) => Err(StorageError::Unsupported {
                backend: "local",
                operation: "presigned upload",
            }),
            BlobStore::S3(store) => store.presign_put(key, content_type, content_length, expires_in).await,
        }
    }
}

/// Creates `path` and its parents, readable only by this user: they hold documents with
/// personal data. A `path` that exists already (made by `obscura models install`, say) is
/// made private too.
pub async fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true).mode(0o700);
    builder.create(path).await?;
    let mode = tokio::fs::metadata(path).await?.permissions().mode() & 0o777;
    if mode != 0o700
        && let Err(error) = tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).await
    {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), %error, "cannot make the directory private");
    }
    Ok(())
}

/// Rejects keys that could escape the store's root or that S3 would mangle.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let invalid = |reason| StorageError::InvalidKey {
        key: key.chars().take(80).collect(),
        reason,
    };
    if key.is_empty() {
        return Err(invalid("it is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid("it is longer than 900 bytes"));
    }
    if key.starts_with('/') || key.ends_with('/') {
        return Err(invalid("it starts or ends with '/'"));
    }
    if !key
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.'))
    {
        return Err(invalid("only ASCII letters, digits, '/', '-', '_' and '.' are allowed"));
    }
    if key
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(invalid("it has an empty, '.' or '..' segment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        for bad in ["", "/abs", "a/../b", "a//b", "a/./b", "trailing/", "spa ce", "ü"] {
            assert!(validate_key(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["a", "tenants/1/documents/2/original.pdf", "a-b_c.d"] {
            assert!(validate_key(good).is_ok(), "{good:?} was rejected");
        }
    }

    #[tokio::test]
    async fn local_store_round_trips_and_reports_missing_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::Local(LocalBlobStore::open(dir.path()).await.unwrap());
        store.check().await.unwrap();
        store
            .put("x/y/z.bin", Bytes::from_static(b"\x00\x01payload"))
            .await
            .unwrap();
        assert_eq!(
            store.get("x/y/z.bin").await.unwrap(),
            Bytes::from_static(b"\x00\x01payload")
        );
        store.delete("x/y/z.bin").await.unwrap();
        store.delete("x/y/z.bin").await.unwrap();
        let error = store.get("x/y/z.bin").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let error = store
            .presign_put("x", "text/plain", None, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
    }
}
