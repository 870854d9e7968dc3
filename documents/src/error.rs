//! Why a document could not be processed, with the stable error code of each state.

use obscura_anonymization::AnonymizeError;
use obscura_anonymization::structured::StructuredError;
use obscura_detection::detect::DetectError;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};

use crate::encoding;

/// Why a document could not be processed. Each is a distinct, stable state.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is {size} bytes; at most {limit} are read")]
    TooLarge { size: u64, limit: u64 },
    #[error("the file is encrypted or password-protected; save it without a password first")]
    Encrypted,
    #[error("the file is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("the file is named as {expected} but is {found}")]
    Mislabeled { expected: &'static str, found: String },
    #[error("the image has {pixels} pixels; at most {limit} are read")]
    TooManyPixels { pixels: u64, limit: u64 },
    #[error("the document has {pages} pages; at most {limit} are read")]
    TooManyPages { pages: usize, limit: usize },
    #[error("the file expands too much to be read safely: {0}")]
    ZipBomb(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the document took longer than {seconds} s")]
    TimedOut { seconds: u64 },
    #[error("the file is not text: {0}")]
    NotText(#[from] encoding::EncodingError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error("anonymization failed: {0}")]
    Anonymize(#[from] AnonymizeError),
}

impl From<StructuredError> for DocumentError {
    fn from(error: StructuredError) -> DocumentError {
        match error {
            StructuredError::Detect(error) => DocumentError::Detect(error),
            StructuredError::Anonymize(error) => DocumentError::Anonymize(error),
            other @ (StructuredError::TooDeep { .. }
            | StructuredError::TooManyStrings { .. }
            | StructuredError::InvalidPath { .. }
            | StructuredError::Csv(_)) => DocumentError::Corrupt(other.to_string()),
        }
    }
}

impl ErrorClass for DocumentError {
    fn kind(&self) -> ErrorKind {
        match self {
            DocumentError::TooLarge { .. }
            | DocumentError::TooManyPixels { .. }
            | DocumentError::TooManyPages { .. }
            | DocumentError::ZipBomb(_) => ErrorKind::TooLarge,
            DocumentError::Encrypted
            | DocumentError::Corrupt(_)
            | DocumentError::Mislabeled { .. }
            | DocumentError::NotText(_) => ErrorKind::Invalid,
            DocumentError::Unsupported(_) => ErrorKind::Unsupported,
            DocumentError::TimedOut { .. } => ErrorKind::Unavailable,
            DocumentError::Detect(error) => error.kind(),
            DocumentError::Anonymize(error) => error.kind(),
        }
    }

    /// A stable code for the error state; a detection or anonymization failure keeps the
    /// code of its cause (`recognizer_failed`, `unknown_entity`, ...).
    fn code(&self) -> &'static str {
        match self {
            DocumentError::TooLarge { .. } => "too_large",
            DocumentError::Encrypted => "encrypted",
            DocumentError::Corrupt(_) => "corrupt",
            DocumentError::Mislabeled { .. } => "mislabeled",
            DocumentError::TooManyPages { .. } => "too_many_pages",
            DocumentError::TooManyPixels { .. } => "too_many_pixels",
            DocumentError::ZipBomb(_) => "too_expanded",
            DocumentError::Unsupported(_) => "unsupported",
            DocumentError::TimedOut { .. } => "timed_out",
            DocumentError::NotText(_) => "not_text",
            DocumentError::Detect(error) => error.code(),
            DocumentError::Anonymize(error) => error.code(),
        }
    }

    fn public_detail(&self) -> Option<String> {
        match self {
            DocumentError::Detect(error) => error.public_detail(),
            DocumentError::Anonymize(error) => error.public_detail(),
            DocumentError::TooLarge { .. }
            | DocumentError::Encrypted
            | DocumentError::Corrupt(_)
            | DocumentError::Mislabeled { .. }
            | DocumentError::TooManyPixels { .. }
            | DocumentError::TooManyPages { .. }
            | DocumentError::ZipBomb(_)
            | DocumentError::Unsupported(_)
            | DocumentError::TimedOut { .. }
            | DocumentError::NotText(_) => None,
        }
    }
}
