//! Anonymizing JSON: any value is accepted, only strings change, and the structure stays.
//!
//! Numbers, booleans and null are kept as they are. Key names are hints: a string under
//! `email`, `telefono`, `dni` or `nombre` is first checked as that type as a whole, and
//! taken as one when it passes the type's check (an e-mail needs an `@`, a phone must parse,
//! ids must pass their validators; names, addresses and places need only be non-empty);
//! otherwise, and under other keys, the detector runs on the string. Key paths can be
//! included or excluded, and depth and size have limits.
//!
//! HTML: the text nodes and chosen attributes that `html` finds are anonymized, the markup
//! is copied unchanged, and replacements are escaped.
//!
//! CSV: column-aware. The header names are hints as key names are in JSON, the header row
//! itself is kept, and each cell is scanned; the delimiter is kept, and rows keep their
//! number of fields.
//!
//! One file per concept: key names as hints (`hints`), JSON (`json`), HTML (`markup`) and
//! CSV (`table`).

mod hints;
mod json;
mod markup;
mod table;
#[cfg(test)]
mod tests;

use obscura_detection::detect::{DetectError, SkippedRecognizer};
use obscura_detection::entity_type::EntityType;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};

use super::{AnonymizeError, Original};

pub use hints::{fits_hint, key_hint};
pub use json::{DEFAULT_MAX_DEPTH, DEFAULT_MAX_STRINGS, JsonOptions, anonymize_json};
pub use markup::{HTML_LOCATION, anonymize_html};
pub use table::{CsvError, CsvOptions, anonymize_csv};

/// A replacement made in a JSON value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JsonReplacement {
    /// Where the string is, as `user.emails[0]`.
    pub path: String,
    pub entity_type: EntityType,
    /// Code-point offsets within the string.
    pub start: usize,
    pub end: usize,
    pub operator: &'static str,
    pub alias: String,
    /// The value replaced, for checks that the output no longer holds it; never serialized.
    #[serde(skip)]
    pub original: Original,
}

/// A JSON value or a CSV document, anonymized.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredOutput<T> {
    pub content: T,
    pub replacements: Vec<JsonReplacement>,
    /// Recognizers detection went without (only when the options allow skipping).
    pub skipped: Vec<SkippedRecognizer>,
}

/// Why a JSON value could not be anonymized.
#[derive(Debug, thiserror::Error)]
pub enum StructuredError {
    #[error("the value nests deeper than {limit} levels at {path}")]
    TooDeep { path: String, limit: usize },
    #[error("the value holds more than {limit} strings")]
    TooManyStrings { limit: usize },
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error(transparent)]
    Csv(CsvError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error(transparent)]
    Anonymize(#[from] AnonymizeError),
}

impl ErrorClass for StructuredError {
    fn kind(&self) -> ErrorKind {
        match self {
            StructuredError::TooDeep { .. } | StructuredError::TooManyStrings { .. } => ErrorKind::TooLarge,
            StructuredError::InvalidPath { .. } | StructuredError::Csv(_) => ErrorKind::Invalid,
            StructuredError::Detect(error) => error.kind(),
            StructuredError::Anonymize(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            StructuredError::TooDeep { .. } => "json_too_deep",
            StructuredError::TooManyStrings { .. } => "json_too_many_strings",
            StructuredError::InvalidPath { .. } => "invalid_path",
            StructuredError::Csv(_) => "invalid_csv",
            StructuredError::Detect(error) => error.code(),
            StructuredError::Anonymize(error) => error.code(),
        }
    }

    fn public_detail(&self) -> Option<String> {
        match self {
            StructuredError::Detect(error) => error.public_detail(),
            StructuredError::Anonymize(error) => error.public_detail(),
            StructuredError::TooDeep { .. }
            | StructuredError::TooManyStrings { .. }
            | StructuredError::InvalidPath { .. }
            | StructuredError::Csv(_) => None,
        }
    }
}
