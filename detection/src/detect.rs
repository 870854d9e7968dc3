//! Detection: runs the recognizers, applies lists and thresholds, and resolves overlaps.
//!
//! The overlap rule is in [`overlap`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aho_corasick::{AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::context::fold_word;
use crate::error_kind::{ErrorClass, ErrorKind};
use crate::pack::{LoadedPack, PackError};
use crate::pattern::PatternSet;
use crate::phone::PhoneRecognizer;
use crate::recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo, ValidatorOutcome};
use crate::refine::refine;
use crate::secrets::EntropyRecognizer;
use crate::taxonomy::Taxonomy;
use crate::text::AnalyzedText;

mod overlap;

use overlap::{Ranked, drop_model_spans_under_exact_ones, resolve_overlaps};

/// Longest text one detection call accepts, in bytes; `detect_stream` handles more.
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;
/// Default number of words on each side of a candidate searched for context.
pub const DEFAULT_CONTEXT_WINDOW: usize = 5;
/// Most entries an allow or deny list may have.
pub const MAX_LIST_ENTRIES: usize = 10_000;

/// A finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub entity_type: String,
    /// Code-point offsets in the submitted text, end exclusive.
    pub start: usize,
    pub end: usize,
    /// Byte offsets in the submitted text (UTF-8), end exclusive.
    pub byte_start: usize,
    pub byte_end: usize,
    pub score: f32,
    pub recognizer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Why a detection was made; given on request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub pattern: Option<String>,
    pub validator: Option<ValidatorOutcome>,
    /// Context words found; contradicting ones start with `-`.
    pub context_words: Vec<String>,
    pub score_before_context: f32,
    pub score_after_context: f32,
    /// The threshold it had to reach.
    pub threshold: f32,
}

/// A value the deny list always reports, as `entity_type`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenyEntry {
    pub value: String,
    pub entity_type: String,
}

/// Options of one detection call.
#[derive(Debug, Clone, Default)]
pub struct DetectOptions {
    /// ISO 639-1 code; `en` when absent.
    pub language: Option<String>,
    /// Only these entity types (names or aliases); all when absent.
    pub entities: Option<Vec<String>>,
    /// A floor over every per-entity threshold.
    pub min_score: Option<f32>,
    /// Per-entity thresholds, by name or alias, replacing the taxonomy's defaults.
    pub thresholds: BTreeMap<String, f32>,
    /// Values never reported (compared without case).
    pub allow_list: Vec<String>,
    /// Values always reported.
    pub deny_list: Vec<DenyEntry>,
    /// Words searched for context on each side; 5 when absent.
    pub context_window: Option<usize>,
    /// Attach explanations.
    pub explain: bool,
    /// What a recognizer's failure does to the detection: fail it (the default) or leave
    /// that recognizer out and say so in [`Findings::skipped`].
    pub on_recognizer_error: OnRecognizerError,
    /// Span refinement steps not to run, by name (see [`crate::refine::REFINE_STEPS`]).
    pub refinements_off: Vec<String>,
}

/// What a recognizer's failure does to a detection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRecognizerError {
    /// The detection fails with [`DetectError::RecognizerFailed`]: a partial answer is
    /// never presented as a whole one.
    #[default]
    Fail,
    /// The detection goes on without that recognizer, and names it in its answer.
    Skip,
}

/// A recognizer a detection went on without, because it failed and the caller allowed
/// that.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SkippedRecognizer {
    pub recognizer: String,
    /// What failed, without the text.
    pub reason: String,
}

/// What one detection found, and which recognizers it went without.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    pub detections: Vec<Detection>,
    /// Empty unless [`OnRecognizerError::Skip`] was asked for and a recognizer failed.
    pub skipped: Vec<SkippedRecognizer>,
}

/// [`Findings`] of several texts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchFindings {
    /// One list per text, in order.
    pub detections: Vec<Vec<Detection>>,
    pub skipped: Vec<SkippedRecognizer>,
}

/// Adds `more` to `skipped`, once per recognizer.
pub fn merge_skipped(skipped: &mut Vec<SkippedRecognizer>, more: impl IntoIterator<Item = SkippedRecognizer>) {
    for item in more {
        if !skipped.iter().any(|known| known.recognizer == item.recognizer) {
            skipped.push(item);
        }
    }
}

/// A request the engine refuses.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("the text is {size} bytes; the limit is {limit} (use streaming detection for more)")]
    TooLarge { size: usize, limit: usize },
    #[error("unknown entity type {0:?}")]
    UnknownEntity(String),
    #[error("{field} must be between 0 and 1, not {value}")]
    ScoreOutOfRange { field: String, value: f32 },
    #[error("the {list} has {size} entries; the limit is {limit}")]
    ListTooLong {
        list: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("the language must be an ISO 639-1 code such as \"en\" or \"es\", not {0:?}")]
    InvalidLanguage(String),
    #[error("{0:?} is not a span refinement step (the steps are {steps})", steps = crate::refine::REFINE_STEPS.iter().map(|step| step.name).collect::<Vec<_>>().join(", "))]
    UnknownRefinement(String),
    #[error(
        "recognizer {recognizer} failed ({source}); nothing is reported, since the answer would miss what it finds (on_recognizer_error: skip accepts an answer without it)"
    )]
    RecognizerFailed {
        recognizer: String,
        #[source]
        source: RecognizerError,
    },
}

impl ErrorClass for DetectError {
    fn kind(&self) -> ErrorKind {
        match self {
            DetectError::TooLarge { .. } | DetectError::ListTooLong { .. } => ErrorKind::TooLarge,
            DetectError::UnknownEntity(_)
            | DetectError::ScoreOutOfRange { .. }
            | DetectError::InvalidLanguage(_)
            | DetectError::UnknownRefinement(_) => ErrorKind::Invalid,
            DetectError::RecognizerFailed { .. } => ErrorKind::Unavailable,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DetectError::TooLarge { .. } => "text_too_large",
            DetectError::ListTooLong { .. } => "list_too_long",
            DetectError::UnknownEntity(_) => "unknown_entity",
            DetectError::ScoreOutOfRange { .. } => "score_out_of_range",
            DetectError::InvalidLanguage(_) => "invalid_language",
            DetectError::UnknownRefinement(_) => "unknown_refinement",
            DetectError::RecognizerFailed { .. } => "recognizer_failed",
        }
    }

    fn public_detail(&self) -> Option<String> {
        match self {
            DetectError::RecognizerFailed { recognizer, .. } => Some(format!(
                "recognizer {recognizer} failed, so nothing is reported: the answer would miss what it finds (on_recognizer_error: skip accepts an answer without it)."
            )),
            DetectError::TooLarge { .. }
            | DetectError::UnknownEntity(_)
            | DetectError::ScoreOutOfRange { .. }
            | DetectError::ListTooLong { .. }
            | DetectError::InvalidLanguage(_)
            | DetectError::UnknownRefinement(_) => None,
        }
    }
}

/// Runs a fixed set of recognizers. Build once, share across threads.
#[derive(Debug, Clone)]
pub struct Detector {
    patterns: Arc<PatternSet>,
    recognizers: Vec<Arc<dyn Recognizer>>,
    /// Entity types the recognizers can report, plus the taxonomy's.
    known_entities: Arc<BTreeSet<String>>,
    /// Names of the NER recognizers and of the word-list ones, for overlap rule 0.
    model_recognizers: Arc<BTreeSet<String>>,
    word_list_recognizers: Arc<BTreeSet<String>>,
}

impl Detector {
    /// A detector over `packs`, with the phone and entropy recognizers and any `extra` ones
    /// (NER models).
    pub fn new(packs: &[LoadedPack], extra: Vec<Arc<dyn Recognizer>>) -> Result<Detector, PackError> {
        let mut recognizers: Vec<Arc<dyn Recognizer>> = vec![
            Arc::new(PhoneRecognizer::default()),
            Arc::new(EntropyRecognizer::default()),
        ];
        recognizers.extend(extra);
        Ok(Detector::assemble(PatternSet::compile(packs)?, recognizers))
    }

    /// A detector without pattern packs (NER only, for example).
    pub fn without_patterns(extra: Vec<Arc<dyn Recognizer>>) -> Result<Detector, PackError> {
        Ok(Detector::assemble(PatternSet::compile(&[])?, extra))
    }

    fn assemble(patterns: PatternSet, recognizers: Vec<Arc<dyn Recognizer>>) -> Detector {
        let mut known_entities: BTreeSet<String> = Taxonomy
            .entities()
            .iter()
            .map(|entity| entity.name.to_owned())
            .collect();
        for info in patterns
            .infos()
            .chain(recognizers.iter().map(|recognizer| recognizer.info()))
        {
            known_entities.extend(info.entities.iter().cloned());
        }
        let names_of_kind = |kind: &str| -> BTreeSet<String> {
            recognizers
                .iter()
                .map(|recognizer| recognizer.info())
                .filter(|info| info.kind == kind)
                .map(|info| info.name.clone())
                .collect()
        };
        let model_recognizers = Arc::new(names_of_kind("ner"));
        let word_list_recognizers = Arc::new(names_of_kind("gazetteer"));
        Detector {
            patterns: Arc::new(patterns),
            recognizers,
            known_entities: Arc::new(known_entities),
            model_recognizers,
            word_list_recognizers,
        }
    }

    /// A detector over every built-in pack.
    pub fn with_builtin_packs() -> Result<Detector, PackError> {
        Detector::new(&crate::pack::builtin_packs()?, Vec::new())
    }

    /// Every recognizer, patterns first.
    pub fn recognizers(&self) -> Vec<RecognizerInfo> {
        self.patterns
            .infos()
            .cloned()
            .chain(self.recognizers.iter().map(|recognizer| recognizer.info().clone()))
            .collect()
    }

    /// Checks options against the engine's rules; `detect` calls it too.
    pub fn check_options(&self, options: &DetectOptions) -> Result<(), DetectError> {
        if let Some(language) = &options.language
            && !(language.len() == 2 && language.bytes().all(|byte| byte.is_ascii_lowercase()))
        {
            return Err(DetectError::InvalidLanguage(language.clone()));
        }
        for name in options.entities.iter().flatten() {
            self.entity_name(name)?;
        }
        for name in options.thresholds.keys() {
            self.entity_name(name)?;
        }
        if let Some(name) = options
            .refinements_off
            .iter()
            .find(|name| !crate::refine::is_step(name))
        {
            return Err(DetectError::UnknownRefinement(name.clone()));
        }
        for entry in &options.deny_list {
            self.entity_name(&entry.entity_type)?;
        }
        let scores = options
            .min_score
            .map(|score| ("min_score".to_owned(), score))
            .into_iter()
            .chain(
                options
                    .thresholds
                    .iter()
                    .map(|(name, score)| (format!("thresholds.{name}"), *score)),
            );
        for (field, value) in scores {
            if !(0.0..=1.0).contains(&value) || value.is_nan() {
                return Err(DetectError::ScoreOutOfRange { field, value });
            }
        }
        if options.allow_list.len() > MAX_LIST_ENTRIES {
            return Err(DetectError::ListTooLong {
                list: "allow list",
                size: options.allow_list.len(),
                limit: MAX_LIST_ENTRIES,
            });
        }
        if options.deny_list.len() > MAX_LIST_ENTRIES {
            return Err(DetectError::ListTooLong {
                list: "deny list",
                size: options.deny_list.len(),
                limit: MAX_LIST_ENTRIES,
            });
        }
        Ok(())
    }

    /// The canonical name of an entity type known to this detector.
    pub fn entity_name(&self, name: &str) -> Result<String, DetectError> {
        let canonical = Taxonomy.canonical_name(name);
        if self.known_entities.contains(&canonical) {
            Ok(canonical)
        } else {
            Err(DetectError::UnknownEntity(name.to_owned()))
        }
    }

    /// Finds the personal data and secrets in `text`.
    pub fn detect(&self, text: &str, options: &DetectOptions) -> Result<Findings, DetectError> {
        let mut batch = self.detect_many(&[text], options)?;
        Ok(Findings {
            detections: batch.detections.pop().unwrap_or_default(),
            skipped: batch.skipped,
        })
    }

    /// [`detect`](Self::detect) on several texts with the same options, giving the same
    /// results; recognizers that batch (NER models) see all the texts at once, which is
    /// much faster for many short texts.
    pub fn detect_many(&self, texts: &[&str], options: &DetectOptions) -> Result<BatchFindings, DetectError> {
        if let Some(text) = texts.iter().find(|text| text.len() > MAX_TEXT_BYTES) {
            return Err(DetectError::TooLarge {
                size: text.len(),
                limit: MAX_TEXT_BYTES,
            });
        }
        self.check_options(options)?;
        let analyzed: Vec<AnalyzedText<'_>> = texts.iter().map(|text| AnalyzedText::new(text)).collect();
        let language = options.language.as_deref().unwrap_or("en");
        let request = RecognitionRequest {
            language,
            context_window: options.context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW),
        };
        let wanted: Option<BTreeSet<String>> = options
            .entities
            .as_ref()
            .map(|names| names.iter().filter_map(|name| self.entity_name(name).ok()).collect());
        let is_wanted = |entity: &str| wanted.as_ref().is_none_or(|wanted| wanted.contains(entity));

        let mut candidates: Vec<Vec<Candidate>> = analyzed
            .iter()
            .map(|text| self.patterns.recognize(text, &request, &is_wanted))
            .collect();
        let references: Vec<&AnalyzedText<'_>> = analyzed.iter().collect();
        let mut skipped = Vec::new();
        for recognizer in &self.recognizers {
            let info = recognizer.info();
            if !info.supports_language(language) || !info.entities.iter().any(|entity| is_wanted(entity)) {
                continue;
            }
            let found = match recognizer.recognize_many(&references, &request) {
                Ok(found) => found,
                Err(source) => match options.on_recognizer_error {
                    OnRecognizerError::Fail => {
                        return Err(DetectError::RecognizerFailed {
                            recognizer: info.name.clone(),
                            source,
                        });
                    }
                    OnRecognizerError::Skip => {
                        skipped.push(SkippedRecognizer {
                            recognizer: info.name.clone(),
                            reason: source.to_string(),
                        });
                        continue;
                    }
                },
            };
            for (found, text_candidates) in found.into_iter().zip(candidates.iter_mut()) {
                text_candidates.extend(found.into_iter().filter(|candidate| is_wanted(&candidate.entity_type)));
            }
        }

        let thresholds: BTreeMap<String, f32> = options
            .thresholds
            .iter()
            .filter_map(|(name, score)| self.entity_name(name).ok().map(|name| (name, *score)))
            .collect();
        let threshold_of = |entity: &str| {
            let base = thresholds
                .get(entity)
                .copied()
                .unwrap_or_else(|| Taxonomy.default_threshold(entity));
            base.max(options.min_score.unwrap_or(0.0))
        };
        let allowed: BTreeSet<String> = options.allow_list.iter().map(|value| fold_value(value)).collect();
        let detections = analyzed
            .iter()
            .zip(candidates)
            .map(|(analyzed, candidates)| {
                let mut ranked: Vec<Ranked> = candidates
                    .into_iter()
                    .filter(|candidate| {
                        !candidate.is_empty() && candidate.score >= threshold_of(&candidate.entity_type)
                    })
                    .filter(|candidate| {
                        allowed.is_empty()
                            || !allowed.contains(&fold_value(analyzed.original_slice(candidate.start, candidate.end)))
                    })
                    .map(|candidate| Ranked {
                        candidate,
                        denied: false,
                    })
                    .collect();
                ranked.extend(
                    deny_list_candidates(analyzed, &options.deny_list, self)
                        .into_iter()
                        .filter(|candidate| is_wanted(&candidate.entity_type))
                        .map(|candidate| Ranked {
                            candidate,
                            denied: true,
                        }),
                );
                let ranked = drop_model_spans_under_exact_ones(
                    analyzed,
                    ranked,
                    &self.model_recognizers,
                    &self.word_list_recognizers,
                );
                refine(analyzed, resolve_overlaps(ranked), &options.refinements_off)
                    .into_iter()
                    .map(|candidate| {
                        let threshold = threshold_of(&candidate.entity_type);
                        to_detection(analyzed, candidate, options.explain, threshold)
                    })
                    .collect()
            })
            .collect();
        Ok(BatchFindings { detections, skipped })
    }
}

/// Case- and accent-insensitive form of a value, with inner whitespace collapsed.
fn fold_value(value: &str) -> String {
    value
        .split_whitespace()
        .map(fold_word_keep_punctuation)
        .collect::<Vec<_>>()
        .join(" ")
}

fn fold_word_keep_punctuation(word: &str) -> String {
    word.chars()
        .map(|character| {
            let folded = fold_word(&character.to_string());
            folded.chars().next().unwrap_or(character)
        })
        .collect()
}

/// Every whole-word occurrence of a deny-list value.
fn deny_list_candidates(text: &AnalyzedText<'_>, entries: &[DenyEntry], detector: &Detector) -> Vec<Candidate> {
    if entries.is_empty() {
        return Vec::new();
    }
    let patterns: Vec<&str> = entries.iter().map(|entry| entry.value.as_str()).collect();
    let Ok(automaton) = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
    else {
        return Vec::new();
    };
    let haystack = text.normalized();
    let is_word_byte = |byte: Option<&u8>| byte.is_some_and(|byte| byte.is_ascii_alphanumeric());
    automaton
        .find_iter(haystack)
        .filter(|found| !is_word_byte(haystack.as_bytes().get(found.start().wrapping_sub(1))) || found.start() == 0)
        .filter(|found| !is_word_byte(haystack.as_bytes().get(found.end())))
        .filter_map(|found| {
            let entry = &entries[found.pattern().as_usize()];
            let entity_type = detector.entity_name(&entry.entity_type).ok()?;
            Some(Candidate {
                entity_type,
                start: text.char_index(found.start()),
                end: text.char_index(found.end()),
                score: 1.0,
                recognizer: "deny_list".into(),
                pattern: None,
                validator: None,
                context_words: Vec::new(),
                base_score: 1.0,
            })
        })
        .collect()
}

fn to_detection(text: &AnalyzedText<'_>, candidate: Candidate, explain: bool, threshold: f32) -> Detection {
    let explanation = explain.then(|| Explanation {
        pattern: candidate.pattern.clone(),
        validator: candidate.validator.clone(),
        context_words: candidate.context_words.clone(),
        score_before_context: candidate.base_score,
        score_after_context: candidate.score,
        threshold,
    });
    Detection {
        byte_start: text.original_byte(candidate.start),
        byte_end: text.original_byte(candidate.end),
        entity_type: candidate.entity_type,
        start: candidate.start,
        end: candidate.end,
        score: candidate.score,
        recognizer: candidate.recognizer,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::with_builtin_packs().unwrap()
    }

    fn found(text: &str, language: &str) -> Vec<(String, String)> {
        let options = DetectOptions {
            language: Some(language.into()),
            ..DetectOptions::default()
        };
        detector()
            .detect(text, &options)
            .unwrap()
            .detections
            .into_iter()
            .map(|detection| {
                (
                    detection.entity_type,
                    text[detection.byte_start..detection.byte_end].to_owned(),
                )
            })
            .collect()
    }

    fn has(found: &[(String, String)], entity: &str, value: &str) -> bool {
        found.iter().any(|(kind, text)| kind == entity && text == value)
    }

    /// The description of a fake model recognizer.
    fn model_info(name: &str, entity: &str) -> RecognizerInfo {
        RecognizerInfo {
            name: name.into(),
            kind: "ner",
            entities: vec![entity.into()],
            languages: vec!["any".into()],
            description: String::new(),
            settings: BTreeMap::new(),
        }
    }

    /// A model-like recognizer, sure that every run of seven digits is a national id.
    #[derive(Debug)]
    struct SureGuesser(RecognizerInfo);

    impl Recognizer for SureGuesser {
        fn info(&self) -> &RecognizerInfo {
            &self.0
        }

        fn recognize(
            &self,
            text: &AnalyzedText<'_>,
            _request: &RecognitionRequest<'_>,
        ) -> Result<Vec<Candidate>, RecognizerError> {
            Ok({
                let characters: Vec<char> = text.normalized().chars().collect();
                (0..characters.len().saturating_sub(6))
                    .filter(|&start| characters[start..start + 7].iter().all(char::is_ascii_digit))
                    .map(|start| Candidate {
                        entity_type: "NATIONAL_ID".into(),
                        start,
                        end: start + 7,
                        score: 0.99,
                        recognizer: "ner/guesser".into(),
                        pattern: None,
                        validator: None,
                        context_words: Vec::new(),
                        base_score: 0.99,
                    })
                    .collect()
            })
        }
    }

    /// A model-like recognizer that reports e-mail addresses with the sentence's full stop.
    #[derive(Debug)]
    struct SloppyEmails(RecognizerInfo);

    impl Recognizer for SloppyEmails {
        fn info(&self) -> &RecognizerInfo {
            &self.0
        }

        fn recognize(
            &self,
            text: &AnalyzedText<'_>,
            _request: &RecognitionRequest<'_>,
        ) -> Result<Vec<Candidate>, RecognizerError> {
            Ok({
                let characters: Vec<char> = text.normalized().chars().collect();
                let Some(at) = characters.iter().position(|character| *character == '@') else {
                    return Ok(Vec::new());
                };
                let start = characters[..at]
                    .iter()
                    .rposition(|character| *character == ' ')
                    .map_or(0, |space| space + 1);
                vec![Candidate {
                    entity_type: "EMAIL_ADDRESS".into(),
                    start,
                    end: characters.len(),
                    score: 0.999,
                    recognizer: "ner/sloppy".into(),
                    pattern: None,
                    validator: None,
                    context_words: Vec::new(),
                    base_score: 0.999,
                }]
            })
        }
    }

    /// A model whose inference always fails.
    #[derive(Debug)]
    struct Broken(RecognizerInfo);

    impl Recognizer for Broken {
        fn info(&self) -> &RecognizerInfo {
            &self.0
        }

        fn recognize(
            &self,
            _text: &AnalyzedText<'_>,
            _request: &RecognitionRequest<'_>,
        ) -> Result<Vec<Candidate>, RecognizerError> {
            Err(RecognizerError::new("inference failed: shape mismatch"))
        }
    }

    #[test]
    fn a_failing_recognizer_fails_the_detection_unless_skipping_is_asked_for() {
        let detector = Detector::new(
            &crate::pack::builtin_packs().unwrap(),
            vec![Arc::new(Broken(model_info("ner/broken", "PERSON")))],
        )
        .unwrap();
        let text = "Ana Pérez, ana@example.com";
        let error = detector.detect(text, &DetectOptions::default()).unwrap_err();
        assert_eq!(
            (error.code(), error.kind()),
            ("recognizer_failed", ErrorKind::Unavailable)
        );
        assert!(error.to_string().contains("ner/broken"), "{error}");
        assert!(!error.to_string().contains("Ana"), "{error}");

        let options = DetectOptions {
            on_recognizer_error: OnRecognizerError::Skip,
            ..DetectOptions::default()
        };
        let findings = detector.detect(text, &options).unwrap();
        assert_eq!(findings.detections.len(), 1, "{findings:?}");
        assert_eq!(findings.detections[0].entity_type, "EMAIL_ADDRESS");
        assert_eq!(findings.skipped.len(), 1);
        assert_eq!(findings.skipped[0].recognizer, "ner/broken");

        // A recognizer that does not apply is not run, so it cannot fail the detection.
        let only_emails = DetectOptions {
            entities: Some(vec!["EMAIL_ADDRESS".into()]),
            ..DetectOptions::default()
        };
        assert_eq!(detector.detect(text, &only_emails).unwrap().detections.len(), 1);
    }

    #[test]
    fn a_model_span_gives_way_to_an_exact_span_of_the_same_type() {
        let sloppy = SloppyEmails(model_info("ner/sloppy", "EMAIL_ADDRESS"));
        let detector = Detector::new(&crate::pack::builtin_packs().unwrap(), vec![Arc::new(sloppy)]).unwrap();
        let text = "Write to ana@example.com.";
        let found = detector.detect(text, &DetectOptions::default()).unwrap().detections;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&text[found[0].byte_start..found[0].byte_end], "ana@example.com");
        assert_eq!(found[0].recognizer, "default/email");
    }

    /// A model that reports one fixed span of one type.
    #[derive(Debug)]
    struct FixedSpan(RecognizerInfo, &'static str, usize, usize);

    impl Recognizer for FixedSpan {
        fn info(&self) -> &RecognizerInfo {
            &self.0
        }

        fn recognize(
            &self,
            _text: &AnalyzedText<'_>,
            _request: &RecognitionRequest<'_>,
        ) -> Result<Vec<Candidate>, RecognizerError> {
            Ok({
                vec![Candidate {
                    entity_type: self.1.into(),
                    start: self.2,
                    end: self.3,
                    score: 0.99,
                    recognizer: self.0.name.clone(),
                    pattern: None,
                    validator: None,
                    context_words: Vec::new(),
                    base_score: 0.99,
                }]
            })
        }
    }

    #[test]
    fn an_unvalidated_pattern_span_grows_over_the_words_the_model_adds() {
        // The pattern ends at the number; the model goes on to the block's name.
        let text = "Domicilio: calle Mayor 7, bloque Sur. Madrid.";
        let model_end = text[..text.find(". Madrid").unwrap()].chars().count();
        let model = FixedSpan(model_info("ner/address", "ADDRESS"), "ADDRESS", 11, model_end);
        let detector = Detector::new(&crate::pack::builtin_packs().unwrap(), vec![Arc::new(model)]).unwrap();
        let options = DetectOptions {
            language: Some("es".into()),
            ..DetectOptions::default()
        };
        let found = detector.detect(text, &options).unwrap().detections;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            &text[found[0].byte_start..found[0].byte_end],
            "calle Mayor 7, bloque Sur"
        );
        assert_ne!(found[0].recognizer, "ner/address");
    }

    /// A recognizer of any kind that reports one fixed person span.
    #[derive(Debug)]
    struct FixedPerson(RecognizerInfo, usize, usize, f32);

    impl Recognizer for FixedPerson {
        fn info(&self) -> &RecognizerInfo {
            &self.0
        }

        fn recognize(
            &self,
            _text: &AnalyzedText<'_>,
            _request: &RecognitionRequest<'_>,
        ) -> Result<Vec<Candidate>, RecognizerError> {
            Ok({
                vec![Candidate {
                    entity_type: "PERSON".into(),
                    start: self.1,
                    end: self.2,
                    score: self.3,
                    recognizer: self.0.name.clone(),
                    pattern: None,
                    validator: None,
                    context_words: Vec::new(),
                    base_score: self.3,
                }]
            })
        }
    }

    #[test]
    fn a_model_span_is_kept_over_a_word_list_span_of_the_same_type() {
        let mut word_list = model_info("gazetteer/names", "PERSON");
        word_list.kind = "gazetteer";
        let detector = Detector::without_patterns(vec![
            Arc::new(FixedPerson(word_list, 0, 3, 0.9)),
            Arc::new(FixedPerson(model_info("ner/names", "PERSON"), 0, 8, 0.8)),
        ])
        .unwrap();
        let found = detector
            .detect("Ana Ruiz llegó.", &DetectOptions::default())
            .unwrap()
            .detections;
        assert_eq!((found.len(), found[0].start, found[0].end), (1, 0, 8), "{found:?}");

        // A longer word-list span that contains the model's gives way to it too.
        let mut word_list = model_info("gazetteer/names", "PERSON");
        word_list.kind = "gazetteer";
        let detector = Detector::without_patterns(vec![
            Arc::new(FixedPerson(word_list, 0, 14, 0.9)),
            Arc::new(FixedPerson(model_info("ner/names", "PERSON"), 0, 8, 0.8)),
        ])
        .unwrap();
        let found = detector
            .detect("Ana Ruiz NºCol: 28", &DetectOptions::default())
            .unwrap()
            .detections;
        assert_eq!((found.len(), found[0].start, found[0].end), (1, 0, 8), "{found:?}");

        // A model's span of another type displaces a word-list span it overlaps.
        let mut word_list = model_info("gazetteer/names", "PERSON");
        word_list.kind = "gazetteer";
        let detector = Detector::without_patterns(vec![
            Arc::new(FixedPerson(word_list, 6, 19, 0.95)),
            Arc::new(FixedSpan(model_info("ner/places", "LOCATION"), "LOCATION", 0, 19)),
        ])
        .unwrap();
        let found = detector
            .detect("03900 Benito Juárez, México", &DetectOptions::default())
            .unwrap()
            .detections;
        assert_eq!(
            (found.len(), found[0].entity_type.as_str(), found[0].start, found[0].end),
            (1, "LOCATION", 0, 19),
            "{found:?}"
        );
    }

    #[test]
    fn a_model_s_person_that_is_exactly_a_place_no_one_is_named_after_is_the_place() {
        let detect = |text: &str, start: usize, end: usize| {
            let detector = Detector::without_patterns(vec![
                Arc::new(crate::gazetteer::GazetteerRecognizer::default()),
                Arc::new(FixedPerson(model_info("ner/names", "PERSON"), start, end, 0.9)),
            ])
            .unwrap();
            detector
                .detect(text, &DetectOptions::default())
                .unwrap()
                .detections
                .into_iter()
                .map(|found| (found.entity_type, text[found.byte_start..found.byte_end].to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            detect("Glad that France is moving.", 10, 16),
            [("LOCATION".to_owned(), "France".to_owned())]
        );
        // A place that is also a name stays the model's person; so does a longer span.
        assert_eq!(
            detect("Glad that Jordan is moving.", 10, 16),
            [("PERSON".to_owned(), "Jordan".to_owned())]
        );
        assert_eq!(
            detect("Glad that France Gall is singing.", 10, 21),
            [("PERSON".to_owned(), "France Gall".to_owned())]
        );
    }

    #[test]
    fn context_words_outweigh_a_confident_guess_at_another_type() {
        let guesser = SureGuesser(model_info("ner/guesser", "NATIONAL_ID"));
        let detector = Detector::new(&crate::pack::builtin_packs().unwrap(), vec![Arc::new(guesser)]).unwrap();
        let options = DetectOptions {
            language: Some("es".into()),
            ..DetectOptions::default()
        };
        let text = "Paciente: Ana.\nNHC: 2569870.\nOtro: 2569871.";
        let found: Vec<(String, String)> = detector
            .detect(text, &options)
            .unwrap()
            .detections
            .into_iter()
            .map(|detection| {
                (
                    detection.entity_type,
                    text[detection.byte_start..detection.byte_end].to_owned(),
                )
            })
            .collect();
        assert!(has(&found, "MEDICAL_RECORD_NUMBER", "2569870"), "{found:?}");
        // Without a context word the model's guess stands.
        assert!(has(&found, "NATIONAL_ID", "2569871"), "{found:?}");
    }

    #[test]
    fn english_identifiers() {
        let text = "Email jane.doe@example.com, card 4111 1111 1111 1111, SSN 123-45-6789, IP 192.168.1.20, \
                    IBAN GB82 WEST 1234 5698 7654 32, visit https://example.com/path.";
        let hits = found(text, "en");
        for (entity, value) in [
            ("EMAIL_ADDRESS", "jane.doe@example.com"),
            ("CREDIT_CARD", "4111 1111 1111 1111"),
            ("US_SSN", "123-45-6789"),
            ("IP_ADDRESS", "192.168.1.20"),
            ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
            ("URL", "https://example.com/path"),
        ] {
            assert!(has(&hits, entity, value), "{entity} {value} not in {hits:?}");
        }
    }

    #[test]
    fn spanish_identifiers_with_their_checks() {
        let text = "El paciente, con DNI 12345678Z y NIE X1234567L, nacido el 15 de marzo de 1980, \
                    teléfono 612 345 678, matrícula 1234 BCD.";
        let hits = found(text, "es");
        for (entity, value) in [
            ("ES_NIF", "12345678Z"),
            ("ES_NIE", "X1234567L"),
            ("DATE_OF_BIRTH", "15 de marzo de 1980"),
            ("PHONE_NUMBER", "612 345 678"),
            ("LICENSE_PLATE", "1234 BCD"),
        ] {
            assert!(has(&hits, entity, value), "{entity} {value} not in {hits:?}");
        }
        let streets = found(
            "Vive en la calle Mayor 7. Domicilio: Avda. de la Constitución, nº 12, 3º B. Pasamos por la plaza Mayor.",
            "es",
        );
        assert!(has(&streets, "ADDRESS", "calle Mayor 7"), "{streets:?}");
        assert!(
            has(&streets, "ADDRESS", "Avda. de la Constitución, nº 12, 3º B"),
            "{streets:?}"
        );
        // A street named without a number or context is a public place, not an address.
        assert!(!has(&streets, "ADDRESS", "plaza Mayor"), "{streets:?}");
        // The floor and door belong to the address; a postal code and the next sentence do not.
        for (line, address) in [
            ("Domicilio: Calle Carmen Romero, 23, 1D.", "Calle Carmen Romero, 23, 1D"),
            ("Domicilio: Paseo de la Armada, 35, 3 D.", "Paseo de la Armada, 35, 3 D"),
            (
                "Domicilio: Calle Pedro Gonu, 28, Bajo A.",
                "Calle Pedro Gonu, 28, Bajo A",
            ),
            (
                "Domicilio: Calle Anastassia Zhorova, 4, 3 Der.",
                "Calle Anastassia Zhorova, 4, 3 Der",
            ),
            ("Domicilio: Calle Rivadavia 12, 4 izq..", "Calle Rivadavia 12, 4 izq"),
            (
                "Av. San Antonio, 47 - 4º Dcha. 02001 Albacete",
                "Av. San Antonio, 47 - 4º Dcha",
            ),
            (
                "Calle Joaquim Folguera, 3 - 5º 2ª 08022 Barcelona",
                "Calle Joaquim Folguera, 3 - 5º 2ª",
            ),
            (
                "Plaza de la Encarnación, 32 - P1 2B 41003 Sevilla",
                "Plaza de la Encarnación, 32 - P1 2B",
            ),
            ("Domicilio: Avda. La Marina 36, 10C.", "Avda. La Marina 36, 10C"),
            ("Domicilio: calle Mayor 7, 28013 Madrid.", "calle Mayor 7"),
            ("Domicilio: calle Mayor 7. Pasamos por la plaza.", "calle Mayor 7"),
        ] {
            let hits = found(line, "es");
            assert!(has(&hits, "ADDRESS", address), "{address} not in {hits:?}");
        }
        // A Spanish age is the number and its unit; a duration is not an age.
        for (line, age) in [
            ("Varón de 53 años sin antecedentes de interés.", Some("53 años")),
            ("Edad: 5 meses. Sexo: mujer.", Some("5 meses")),
            ("Mujer de 80 años de edad que acude por dolor.", Some("80 años")),
            ("Lesión de 4 años de evolución en el párpado.", None),
            ("Intervenido de ulcus duodenal 20 años antes.", None),
            ("Traumatismo lumbar hacía unos 30 años.", None),
            ("Ex fumador de 8 años. No hematuria.", None),
            ("Lleva 3 años libre de enfermedad.", None),
            ("Sin recidiva tras un seguimiento de 4 años.", None),
            ("Tatuaje de 10 años de antigüedad.", None),
        ] {
            let ages: Vec<String> = found(line, "es")
                .into_iter()
                .filter(|(kind, _)| kind == "AGE")
                .map(|(_, value)| value)
                .collect();
            assert_eq!(ages, age.into_iter().map(str::to_owned).collect::<Vec<_>>(), "{line}");
        }
        let wrong_letter = found("DNI 12345678A", "es");
        assert!(
            !wrong_letter.iter().any(|(kind, _)| kind == "ES_NIF"),
            "{wrong_letter:?}"
        );
    }

    #[test]
    fn impossible_dates_and_invalid_cards_are_not_reported() {
        let hits = found("On 31/04/2020 card 4111 1111 1111 1112 was used.", "en");
        assert!(
            !hits
                .iter()
                .any(|(kind, _)| kind == "DATE_TIME" || kind == "CREDIT_CARD"),
            "{hits:?}"
        );
    }

    #[test]
    fn dates_with_two_digit_years_are_found_and_versions_are_not() {
        let hits = found(
            "El 22-7-04 se implantó; la TC (11/10/01) y la versión 1.2.10 de 2011.",
            "es",
        );
        assert!(has(&hits, "DATE_TIME", "22-7-04"), "{hits:?}");
        assert!(has(&hits, "DATE_TIME", "11/10/01"), "{hits:?}");
        assert!(!hits.iter().any(|(_, value)| value.contains("1.2.10")), "{hits:?}");
        assert!(
            !found("El 31-02-04 no existe.", "es")
                .iter()
                .any(|(kind, _)| kind == "DATE_TIME")
        );
        // A longer run of numbers is not a date, nor is a score.
        for text in ["Ref. 6-12-34-56-78 anotada.", "Test de Apgar 9/10/10 al nacer."] {
            let hits = found(text, "es");
            assert!(!hits.iter().any(|(kind, _)| kind == "DATE_TIME"), "{hits:?}");
        }
    }

    #[test]
    fn full_width_digits_are_matched_and_offsets_point_at_the_original() {
        let text = "カード ４１１１ １１１１ １１１１ １１１１ です";
        let hits = found(text, "en");
        assert!(
            has(&hits, "CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１"),
            "{hits:?}"
        );
    }

    #[test]
    fn an_email_inside_a_url_goes_with_the_url() {
        let hits = found("See https://example.com/?to=jane@example.com now", "en");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].0, "URL");
    }

    #[test]
    fn allow_and_deny_lists() {
        let detector = detector();
        let options = DetectOptions {
            allow_list: vec!["JANE@EXAMPLE.COM".into()],
            deny_list: vec![DenyEntry {
                value: "Project Falcon".into(),
                entity_type: "ORGANIZATION".into(),
            }],
            ..DetectOptions::default()
        };
        let text = "jane@example.com works on project falcon with bob@example.com";
        let hits = detector.detect(text, &options).unwrap().detections;
        let kinds: Vec<(&str, &str)> = hits
            .iter()
            .map(|hit| (hit.entity_type.as_str(), &text[hit.byte_start..hit.byte_end]))
            .collect();
        assert_eq!(
            kinds,
            [("ORGANIZATION", "project falcon"), ("EMAIL_ADDRESS", "bob@example.com")]
        );
    }

    #[test]
    fn thresholds_entities_and_explanations() {
        let detector = detector();
        let text = "Call 612 345 678 or write to ana@example.es";
        let only_email = DetectOptions {
            entities: Some(vec!["email".into()]),
            explain: true,
            ..DetectOptions::default()
        };
        let hits = detector.detect(text, &only_email).unwrap().detections;
        assert_eq!(hits.len(), 1);
        let explanation = hits[0].explanation.as_ref().unwrap();
        assert_eq!(explanation.pattern.as_deref(), Some("email"));
        let strict = DetectOptions {
            min_score: Some(0.99),
            ..DetectOptions::default()
        };
        assert!(detector.detect(text, &strict).unwrap().detections.is_empty());
    }

    #[test]
    fn bad_options_are_named() {
        let detector = detector();
        let unknown = DetectOptions {
            entities: Some(vec!["FAVOURITE_COLOUR".into()]),
            ..DetectOptions::default()
        };
        assert!(
            matches!(detector.detect("x", &unknown), Err(DetectError::UnknownEntity(name)) if name == "FAVOURITE_COLOUR")
        );
        let out_of_range = DetectOptions {
            min_score: Some(1.5),
            ..DetectOptions::default()
        };
        assert!(matches!(
            detector.detect("x", &out_of_range),
            Err(DetectError::ScoreOutOfRange { .. })
        ));
    }

    #[test]
    fn secrets_are_found() {
        let text = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\npassword: hunter2hunter2\n\
                    token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n\
                    postgres://admin:s3cret@db.internal:5432/app";
        let hits = found(text, "en");
        for (entity, value) in [
            ("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
            ("PASSWORD", "hunter2hunter2"),
            ("API_KEY", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
            ("CONNECTION_STRING", "postgres://admin:s3cret@db.internal:5432/app"),
        ] {
            assert!(has(&hits, entity, value), "{entity} {value} not in {hits:?}");
        }
    }
}
