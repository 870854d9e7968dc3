//! Blobs as files under one directory, written atomically through a temporary file.

use std::io::ErrorKind as IoErrorKind;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::StorageError;

/// A blob store rooted at a local directory.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Opens (and creates if needed) the directory `root`.
    pub async fn open(root: &Path) -> Result<LocalBlobStore, StorageError> {
        tokio::fs::create_dir_all(root)
            .await
            .map_err(|source| backend("create directory", &root.display().to_string(), source))?;
        Ok(LocalBlobStore {
            root: root.to_path_buf(),
        })
    }

    pub(super) async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = self.root.join(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|source| backend("put", key, source))?;
        }
        // Write beside the target and rename, so a reader never sees half a blob.
        let temporary = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, &bytes)
            .await
            .map_err(|source| backend("put", key, source))?;
        if let Err(source) = tokio::fs::rename(&temporary, &path).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(backend("put", key, source));
        }
        Ok(())
    }

    pub(super) async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        match tokio::fs::read(self.root.join(key)).await {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(error) if error.kind() == IoErrorKind::NotFound => Err(StorageError::NotFound { key: key.to_owned() }),
            Err(source) => Err(backend("get", key, source)),
        }
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.root.join(key)).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == IoErrorKind::NotFound => Ok(()),
            Err(source) => Err(backend("delete", key, source)),
        }
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        let metadata = tokio::fs::metadata(&self.root)
            .await
            .map_err(|source| backend("check", &self.root.display().to_string(), source))?;
        if !metadata.is_dir() || metadata.permissions().readonly() {
            return Err(StorageError::Backend {
                operation: "check",
                key: self.root.display().to_string(),
                source: "the blob directory is not a writable directory".into(),
            });
        }
        Ok(())
    }
}

fn backend(operation: &'static str, key: &str, source: std::io::Error) -> StorageError {
    StorageError::Backend {
        operation,
        key: key.to_owned(),
        source: Box::new(source),
    }
}
