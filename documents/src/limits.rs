//! Limits against oversized and hostile files, and the deadline a document is processed
//! within.

use std::time::{Duration, Instant};

use crate::DocumentError;

/// Limits against oversized and hostile files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most pages of a paged document.
    pub max_pages: usize,
    /// Most pixels of one image (against decompression bombs).
    pub max_image_pixels: u64,
    /// Most entries of a ZIP container (DOCX).
    pub max_zip_entries: usize,
    /// Largest expansion of one compressed entry over 1 MiB.
    pub max_zip_ratio: u64,
    /// Most bytes a ZIP container expands to.
    pub max_uncompressed_bytes: u64,
    /// Longest a document may take; checked between its paragraphs.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 10 << 20,
            max_pages: 500,
            max_image_pixels: 50_000_000,
            max_zip_entries: 10_000,
            max_zip_ratio: 200,
            max_uncompressed_bytes: 512 << 20,
            max_duration: Duration::from_secs(300),
        }
    }
}

/// A deadline checked between units of work.
pub(crate) struct Deadline {
    until: Instant,
    seconds: u64,
}

impl Deadline {
    pub(crate) fn new(limits: &Limits) -> Deadline {
        Deadline {
            until: Instant::now() + limits.max_duration,
            seconds: limits.max_duration.as_secs(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), DocumentError> {
        if Instant::now() > self.until {
            Err(DocumentError::TimedOut { seconds: self.seconds })
        } else {
            Ok(())
        }
    }
}
