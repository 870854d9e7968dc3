//! Detection: runs the recognizers, applies lists and thresholds, and resolves overlaps.
//!
//! The overlap rule is in [`overlap`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aho_corasick::{AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::context::fold_word;
use crate::disguise::Undisguised;
use crate::entity_type::EntityType;
use crate::error_kind::{ErrorClass, ErrorKind};
use crate::pack::{LoadedPack, PackError};
use crate::pattern::PatternSet;
use crate::phone::PhoneRecognizer;
use crate::recognizer::{
    Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo, RecognizerKind, ValidatorOutcome,
};
use crate::refine::{Refining, refine, refine_model_spans};
use crate::secrets::EntropyRecognizer;
use crate::taxonomy::Taxonomy;
use crate::text::AnalyzedText;

mod overlap;
mod remembered;

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
    pub entity_type: EntityType,
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
    /// ISO 639-1 code; when absent, `es` or `en` as the text's commonest words say
    /// ([`crate::language::guess`]).
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
    /// Keep pattern matches whose validator fails (a card number failing the Luhn check,
    /// an impossible date) as their recognizer's type, with the validator marked failed;
    /// off by default, when such a match is not reported.
    pub keep_unvalidated: bool,
    /// A floor over the thresholds of model (NER) detections only.
    pub model_min_score: Option<f32>,
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
            known_entities.extend(info.entities.iter().map(EntityType::to_string));
        }
        let names_of_kind = |kind: RecognizerKind| -> BTreeSet<String> {
            recognizers
                .iter()
                .map(|recognizer| recognizer.info())
                .filter(|info| info.kind == kind)
                .map(|info| info.name.clone())
                .collect()
        };
        let model_recognizers = Arc::new(names_of_kind(RecognizerKind::Ner));
        let word_list_recognizers = Arc::new(names_of_kind(RecognizerKind::Gazetteer));
        Detector {
            patterns: Arc::new(patterns),
            recognizers,
            known_entities: Arc::new(known_entities),
            model_recognizers,
            word_list_recognizers,
        }
    }

    /// The same detector, with each model recognizer's answers remembered by text: for
    /// runs that detect the same texts many times with different options, such as
    /// `eval::ablate`. Memory grows with the texts seen, so it is not for serving.
    pub fn remembering_models(&self) -> Detector {
        let mut detector = self.clone();
        detector.recognizers = self
            .recognizers
            .iter()
            .map(|recognizer| -> Arc<dyn Recognizer> {
                if recognizer.info().kind == RecognizerKind::Ner {
                    Arc::new(remembered::Remembered::new(recognizer.clone()))
                } else {
                    recognizer.clone()
                }
            })
            .collect();
        detector
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
    pub fn entity_name(&self, name: &str) -> Result<EntityType, DetectError> {
        let canonical = Taxonomy.canonical_name(name);
        if self.known_entities.contains(canonical.as_str()) {
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
        let guessed;
        let options = if options.language.is_none() {
            guessed = DetectOptions {
                language: Some(crate::language::guess(texts).to_owned()),
                ..options.clone()
            };
            &guessed
        } else {
            options
        };
        let undisguised: Vec<Option<Undisguised>> = texts.iter().map(|text| Undisguised::of(text)).collect();
        if undisguised.iter().all(Option::is_none) {
            return self.detect_undisguised(texts, options);
        }
        let cleaned: Vec<&str> = texts
            .iter()
            .zip(&undisguised)
            .map(|(text, undisguised)| {
                undisguised
                    .as_ref()
                    .map_or(*text, |undisguised| undisguised.text.as_str())
            })
            .collect();
        let mut batch = self.detect_undisguised(&cleaned, options)?;
        for ((detections, undisguised), text) in batch.detections.iter_mut().zip(&undisguised).zip(texts) {
            if let Some(undisguised) = undisguised {
                undisguised.restore(text, detections);
            }
        }
        Ok(batch)
    }

    /// [`detect_many`](Self::detect_many) on texts without disguises.
    fn detect_undisguised(&self, texts: &[&str], options: &DetectOptions) -> Result<BatchFindings, DetectError> {
        let analyzed: Vec<AnalyzedText<'_>> = texts.iter().map(|text| AnalyzedText::new(text)).collect();
        let language = options.language.as_deref().unwrap_or("en");
        let request = RecognitionRequest {
            language,
            context_window: options.context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW),
        };
        let wanted: Option<BTreeSet<EntityType>> = options
            .entities
            .as_ref()
            .map(|names| names.iter().filter_map(|name| self.entity_name(name).ok()).collect());
        let is_wanted = |entity: &str| wanted.as_ref().is_none_or(|wanted| wanted.contains(entity));

        let mut candidates: Vec<Vec<Candidate>> = analyzed
            .iter()
            .map(|text| {
                self.patterns
                    .recognize(text, &request, &is_wanted, options.keep_unvalidated)
            })
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
            let is_model = self.model_recognizers.contains(&info.name);
            for ((found, text_candidates), text) in found.into_iter().zip(candidates.iter_mut()).zip(&analyzed) {
                let found = if is_model {
                    refine_model_spans(&Refining::new(text, language), found, &options.refinements_off)
                } else {
                    found
                };
                text_candidates.extend(found.into_iter().filter(|candidate| is_wanted(&candidate.entity_type)));
            }
        }

        let thresholds: BTreeMap<EntityType, f32> = options
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
                let is_allowed = |candidate: &Candidate| {
                    !allowed.is_empty()
                        && allowed.contains(&fold_value(analyzed.original_slice(candidate.start, candidate.end)))
                };
                // What lies inside an allowed value is allowed with it: the domain of an
                // allowed e-mail address is not a URL.
                let allowed_spans: Vec<(usize, usize)> = candidates
                    .iter()
                    .filter(|candidate| is_allowed(candidate))
                    .map(|candidate| (candidate.start, candidate.end))
                    .collect();
                let mut ranked: Vec<Ranked> = candidates
                    .into_iter()
                    .filter(|candidate| {
                        !candidate.is_empty()
                            && candidate.score >= threshold_of(&candidate.entity_type)
                            && (options.model_min_score.is_none_or(|floor| candidate.score >= floor)
                                || !self.model_recognizers.contains(&candidate.recognizer))
                    })
                    .filter(|candidate| {
                        !allowed_spans
                            .iter()
                            .any(|&(start, end)| start <= candidate.start && candidate.end <= end)
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
                refine(
                    &Refining::new(analyzed, language),
                    resolve_overlaps(ranked),
                    &options.refinements_off,
                )
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
                only_a_place: false,
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
mod tests;
