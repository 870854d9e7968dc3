//! Obscura's detection: the entity taxonomy, the recognizers (patterns, phones, entropy,
//! word lists, and the trait NER models implement), pattern packs, profiles and evaluation.
//!
//! Bytes go in and values come out. This crate has no async runtime, web framework,
//! database or queue dependency, and CI checks that with `cargo tree`.

pub mod catalog;
pub mod context;
pub mod detect;
pub mod disguise;
pub mod entity_type;
pub mod error_kind;
pub mod eval;
pub mod gazetteer;
pub mod language;
pub mod pack;
pub mod pattern;
pub mod phone;
pub mod profile;
pub mod recognizer;
pub mod refine;
pub mod secrets;
pub mod stream;
pub mod taxonomy;
pub mod text;
pub mod validate;
pub mod wordlists;

pub use detect::{
    BatchFindings, DenyEntry, DetectError, DetectOptions, Detection, Detector, Explanation, Findings,
    OnRecognizerError, SkippedRecognizer,
};
pub use error_kind::{ErrorClass, ErrorKind};
pub use recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo};
