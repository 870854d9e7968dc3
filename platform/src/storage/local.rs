//! Blobs as files under one directory, written atomically through a temporary file.
//!
//! Directories are created with mode 0700 and files with 0600: blobs are documents with
//! personal data.

use std::io::ErrorKind as IoErrorKind;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::StorageError;

/// A blob store rooted at a local directory.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Opens (and creates if needed) the directory `root`.
    pub async fn open(root: &Path) -> Result<LocalBlobStore, StorageError> {
        super::create_private_dir(root)
            .await
            .map_err(|source| backend("create directory", &root.display().to_string(), source))?;
        Ok(LocalBlobStore {
            root: root.to_path_buf(),
        })
    }

    pub(super) async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = self.root.join(key);
        if let Some(parent) = path.parent() {
            super::create_private_dir(parent)
                .await
                .map_err(|source| backend("put", key, source))?;
        }
        // Write beside the target and rename, so a reader never sees half a blob. The guard
        // removes the temporary file if the write fails or the future is dropped.
        let mut temporary = TemporaryFile {
            path: path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple())),
            armed: true,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary.path)
            .await
            .map_err(|source| backend("put", key, source))?;
        file.write_all(&bytes)
            .await
            .map_err(|source| backend("put", key, source))?;
        file.sync_all().await.map_err(|source| backend("put", key, source))?;
        drop(file);
        tokio::fs::rename(&temporary.path, &path)
            .await
            .map_err(|source| backend("put", key, source))?;
        temporary.armed = false;
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

/// A blob being written to a temporary file beside its path.
pub(super) struct LocalWrite {
    key: String,
    path: PathBuf,
    file: tokio::fs::File,
    temporary: TemporaryFile,
}

impl LocalBlobStore {
    pub(super) async fn writer(&self, key: &str) -> Result<LocalWrite, StorageError> {
        let path = self.root.join(key);
        if let Some(parent) = path.parent() {
            super::create_private_dir(parent)
                .await
                .map_err(|source| backend("put", key, source))?;
        }
        let temporary = TemporaryFile {
            path: path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple())),
            armed: true,
        };
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary.path)
            .await
            .map_err(|source| backend("put", key, source))?;
        Ok(LocalWrite {
            key: key.to_owned(),
            path,
            file,
            temporary,
        })
    }
}

impl LocalWrite {
    pub(super) async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all(chunk)
            .await
            .map_err(|source| backend("put", &self.key, source))
    }

    pub(super) async fn finish(mut self) -> Result<(), StorageError> {
        self.file
            .sync_all()
            .await
            .map_err(|source| backend("put", &self.key, source))?;
        tokio::fs::rename(&self.temporary.path, &self.path)
            .await
            .map_err(|source| backend("put", &self.key, source))?;
        self.temporary.armed = false;
        Ok(())
    }

    /// The temporary file goes with the writer.
    pub(super) async fn abort(self) {}
}

/// Removes a temporary file when dropped, unless disarmed after a successful rename.
struct TemporaryFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn backend(operation: &'static str, key: &str, source: std::io::Error) -> StorageError {
    StorageError::Backend {
        operation,
        key: key.to_owned(),
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[tokio::test]
    async fn blobs_are_private_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        let store = LocalBlobStore::open(&root).await.unwrap();
        store.put("a/b.bin", Bytes::from_static(b"secret")).await.unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&root.join("a/b.bin")), 0o600);
        let names: Vec<_> = std::fs::read_dir(root.join("a"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("b.bin")]);
    }
}
