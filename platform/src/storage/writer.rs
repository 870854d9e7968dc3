//! Writing a blob piece by piece, so that an upload is stored as it arrives and never held
//! whole in memory: a temporary file renamed at the end on local disk, a multipart upload on
//! S3 (one plain PUT when the blob fits in one part). A writer dropped before `finish`
//! leaves nothing behind.

use bytes::{Bytes, BytesMut};

use super::StorageError;
use super::local::LocalWrite;
use super::s3::S3Write;

/// Bytes an S3 part holds before it is sent; S3 wants at least 5 MiB but for the last.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// A blob being written.
pub struct BlobWriter {
    pub(super) inner: WriterInner,
    pub(super) written: u64,
}

pub(super) enum WriterInner {
    Local(LocalWrite),
    S3 { write: S3Write, pending: BytesMut },
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BlobWriter")
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// Appends `chunk`.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.written += chunk.len() as u64;
        match &mut self.inner {
            WriterInner::Local(write) => write.write(&chunk).await,
            WriterInner::S3 { write, pending } => {
                pending.extend_from_slice(&chunk);
                while pending.len() >= PART_BYTES {
                    let part = pending.split_to(PART_BYTES).freeze();
                    write.send_part(part).await?;
                }
                Ok(())
            }
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the blob visible under its key.
    pub async fn finish(self) -> Result<(), StorageError> {
        match self.inner {
            WriterInner::Local(write) => write.finish().await,
            WriterInner::S3 { write, pending } => write.finish(pending.freeze()).await,
        }
    }

    /// Gives up: nothing is left under the key or in the store.
    pub async fn abort(self) {
        match self.inner {
            WriterInner::Local(write) => write.abort().await,
            WriterInner::S3 { write, .. } => write.abort().await,
        }
    }
}
