//! The recognizer trait, which patterns, secrets detectors and NER models all implement,
//! and the candidates they produce.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::entity_type::EntityType;
use crate::text::AnalyzedText;

/// What a recognizer is, for listings (`GET /api/v1/recognizers`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecognizerInfo {
    /// Unique within a detector, such as `default/email` or `ner/rampart`.
    pub name: String,
    pub kind: RecognizerKind,
    /// The entity types it can report.
    pub entities: Vec<EntityType>,
    /// ISO 639-1 codes it applies to; `any` for all.
    pub languages: Vec<String>,
    pub description: String,
    /// Its settings (patterns, validator, context words, base score), as text.
    pub settings: BTreeMap<String, String>,
}

impl RecognizerInfo {
    /// True when the recognizer applies to `language`.
    pub fn supports_language(&self, language: &str) -> bool {
        self.languages
            .iter()
            .any(|supported| supported == "any" || supported == language)
    }
}

/// How a recognizer finds what it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecognizerKind {
    /// Regular expressions of a pack, with validators and context words.
    Pattern,
    /// Phone numbers, parsed and checked by country.
    Phone,
    /// Secrets told by their entropy.
    Entropy,
    /// Values the caller listed.
    DenyList,
    /// Names and places from word lists.
    Gazetteer,
    /// A named-entity model: its spans go through the detector's model-span refinement.
    Ner,
}

impl RecognizerKind {
    /// The name listings show (`GET /api/v1/recognizers`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecognizerKind::Pattern => "pattern",
            RecognizerKind::Phone => "phone",
            RecognizerKind::Entropy => "entropy",
            RecognizerKind::DenyList => "deny_list",
            RecognizerKind::Gazetteer => "gazetteer",
            RecognizerKind::Ner => "ner",
        }
    }
}

/// What a recognizer is asked to do.
#[derive(Debug, Clone)]
pub struct RecognitionRequest<'a> {
    /// ISO 639-1 code of the text.
    pub language: &'a str,
    /// Context words are looked for this many words before and after a candidate.
    pub context_window: usize,
}

/// How a validator judged a candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidatorOutcome {
    pub validator: String,
    pub passed: bool,
}

/// One possible finding, before thresholds and overlap resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub entity_type: EntityType,
    /// Code-point offsets, end exclusive.
    pub start: usize,
    pub end: usize,
    pub score: f32,
    pub recognizer: String,
    /// The pattern that matched, for explanations.
    pub pattern: Option<String>,
    pub validator: Option<ValidatorOutcome>,
    /// Context words found near the candidate.
    pub context_words: Vec<String>,
    /// The score before context was applied.
    pub base_score: f32,
    /// A place of the word lists that is no one's first name or surname ("France", not
    /// "Georgia"): a model's person span with exactly its bounds gives way to it.
    pub only_a_place: bool,
}

impl Candidate {
    /// True when a validator confirmed the candidate.
    pub fn is_validated(&self) -> bool {
        self.validator.as_ref().is_some_and(|outcome| outcome.passed)
    }

    /// True when context words near the candidate support it (contradicting words are
    /// recorded with a leading `-`).
    pub fn has_supporting_context(&self) -> bool {
        self.context_words.iter().any(|word| !word.starts_with('-'))
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Why a recognizer could not look at a text (a model's inference fault, say).
///
/// The message names what failed, never the text.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RecognizerError {
    message: String,
}

impl RecognizerError {
    pub fn new(message: impl Into<String>) -> RecognizerError {
        RecognizerError {
            message: message.into(),
        }
    }
}

/// Finds candidates of one or more entity types in a text.
///
/// Implementations are pure: no I/O, and the same input always gives the same output. Long
/// work (NER inference) is the caller's to schedule off async threads. A recognizer that
/// cannot finish says so with an error: an empty answer means the text holds nothing it
/// looks for.
pub trait Recognizer: Send + Sync + std::fmt::Debug {
    fn info(&self) -> &RecognizerInfo;

    /// Every candidate in `text`, with code-point offsets.
    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError>;

    /// The candidates of several texts, in order. Recognizers that work faster on many
    /// texts at once (a model batching its windows) override it; the results must be those
    /// of `recognize` on each text (up to the rounding of a model's padded batches).
    fn recognize_many(
        &self,
        texts: &[&AnalyzedText<'_>],
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Vec<Candidate>>, RecognizerError> {
        texts.iter().map(|text| self.recognize(text, request)).collect()
    }
}
