//! Pattern recognizers compiled from packs, run in one pass over the text.
//!
//! Every pattern of every loaded recognizer goes into one `RegexSet`. A first pass over the
//! text tells which patterns match at all; only those run again to find their matches.
//! The `regex` crate guarantees linear time in the size of the text for every pattern.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use rustc_hash::FxHashMap;

use crate::context::{ContextWords, apply};
use crate::entity_type::EntityType;
use crate::pack::{LoadedPack, PackError, RecognizerSpec};
use crate::recognizer::{Candidate, RecognitionRequest, RecognizerInfo, RecognizerKind, ValidatorOutcome};
use crate::taxonomy::Taxonomy;
use crate::text::AnalyzedText;
use crate::validate::Validator;

/// Largest compiled size of one pattern, in bytes; bigger patterns are refused.
pub const MAX_PATTERN_SIZE: usize = 1 << 20;
/// Lazy DFA cache per pattern (eight times this for the prefilter set). The default is
/// small for patterns with large character classes, and a full cache makes the regex
/// crate fall back to its slower NFA.
pub const DFA_CACHE_BYTES: usize = 8 << 20;

/// Compiles one pack regex with the engine's limits.
pub fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&ascii_classes(pattern))
        .size_limit(MAX_PATTERN_SIZE)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
}

/// Rewrites `\b`, `\B` and `\d` as their ASCII forms.
///
/// A Unicode word boundary cannot run in the regex crate's DFAs once the text holds
/// non-ASCII characters, which sends every search to its much slower NFA; a Unicode digit
/// class has hundreds of members, which hides the leading digit a fast prefilter could skip
/// to. Identifiers are ASCII, and full-width digits are folded to ASCII before matching, so
/// the ASCII forms are what the packs mean; the rest of a pattern keeps Unicode.
pub fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut characters = pattern.chars().peekable();
    // Nesting depth of character classes: `\d` becomes `0-9` inside one, `[0-9]` outside.
    let mut class_depth = 0_usize;
    while let Some(character) = characters.next() {
        match character {
            '\\' => match characters.next() {
                Some(letter @ ('b' | 'B')) if class_depth == 0 => {
                    out.push_str("(?-u:\\");
                    out.push(letter);
                    out.push(')');
                }
                Some('d') if class_depth == 0 => out.push_str("[0-9]"),
                Some('d') => out.push_str("0-9"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => {
                class_depth += 1;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal member, not the end.
                if characters.peek() == Some(&'^') {
                    out.push('^');
                    characters.next();
                }
                if characters.peek() == Some(&']') {
                    out.push(']');
                    characters.next();
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_and_digits_become_ascii_and_escapes_survive() {
        assert_eq!(ascii_classes(r"\bA\D\B\\b"), r"(?-u:\b)A\D(?-u:\B)\\b");
        assert_eq!(
            ascii_classes(r"\d{2}[\d ][^\]\d][]\d]"),
            r"[0-9]{2}[0-9 ][^\]0-9][]0-9]"
        );
        assert_eq!(ascii_classes(r"[a-z&&[^\d]]\d"), r"[a-z&&[^0-9]][0-9]");
        let regex = compile_regex(r"\b\d{4}\b").unwrap();
        assert!(regex.is_match("año 2024 é"));
        // Digits of other scripts are not identifiers' digits.
        assert!(!regex.is_match("٢٠٢٤"));
    }
}

#[derive(Debug)]
struct CompiledRecognizer {
    info: RecognizerInfo,
    entity_type: EntityType,
    context: ContextWords,
    negative_context: ContextWords,
    validator: Option<Validator>,
    group: Option<usize>,
}

#[derive(Debug)]
struct CompiledPattern {
    recognizer: usize,
    name: String,
    score: f32,
}

/// One regex and the patterns that use it: packs often repeat a regex under another
/// entity (a date, and a date of birth with birth words near it), which is searched once.
#[derive(Debug)]
struct DistinctRegex {
    regex: Regex,
    patterns: Vec<usize>,
}

/// All pattern recognizers of a set of packs.
#[derive(Debug)]
pub struct PatternSet {
    recognizers: Vec<CompiledRecognizer>,
    patterns: Vec<CompiledPattern>,
    regexes: Vec<DistinctRegex>,
    prefilter: RegexSet,
}

impl PatternSet {
    /// Compiles the recognizers of `packs`; recognizer names become `pack/name`.
    pub fn compile(packs: &[LoadedPack]) -> Result<PatternSet, PackError> {
        let taxonomy = Taxonomy;
        let mut recognizers = Vec::new();
        let mut patterns = Vec::new();
        let mut regexes: Vec<DistinctRegex> = Vec::new();
        let mut regex_index: BTreeMap<String, usize> = BTreeMap::new();
        for loaded in packs {
            for spec in &loaded.pack.recognizers {
                let index = recognizers.len();
                recognizers.push(compile_recognizer(&loaded.pack.name, spec, &taxonomy));
                for (number, pattern) in spec.patterns.iter().enumerate() {
                    let distinct = match regex_index.get(&pattern.regex) {
                        Some(&distinct) => distinct,
                        None => {
                            let regex = compile_regex(&pattern.regex).map_err(|error| PackError::Invalid {
                                file: loaded.source.clone(),
                                line: loaded.line_of(&pattern.regex),
                                recognizer: spec.name.clone(),
                                message: format!("invalid regex: {error}"),
                            })?;
                            regexes.push(DistinctRegex {
                                regex,
                                patterns: Vec::new(),
                            });
                            regex_index.insert(pattern.regex.clone(), regexes.len() - 1);
                            regexes.len() - 1
                        }
                    };
                    regexes[distinct].patterns.push(patterns.len());
                    patterns.push(CompiledPattern {
                        recognizer: index,
                        name: pattern
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("{}#{number}", spec.name)),
                        score: pattern.score,
                    });
                }
            }
        }
        let prefilter = RegexSetBuilder::new(regexes.iter().map(|distinct| distinct.regex.as_str()))
            .size_limit(MAX_PATTERN_SIZE * 64)
            .dfa_size_limit(DFA_CACHE_BYTES * 8)
            .build()
            .map_err(|error| PackError::Invalid {
                file: "pattern set".into(),
                line: 1,
                recognizer: "all".into(),
                message: format!("the patterns do not compile together: {error}"),
            })?;
        Ok(PatternSet {
            recognizers,
            patterns,
            regexes,
            prefilter,
        })
    }

    /// Descriptions of every recognizer.
    pub fn infos(&self) -> impl Iterator<Item = &RecognizerInfo> {
        self.recognizers.iter().map(|recognizer| &recognizer.info)
    }

    /// Candidates of every applicable recognizer whose entity `wanted` accepts.
    pub fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
        wanted: &dyn Fn(&str) -> bool,
        keep_unvalidated: bool,
    ) -> Vec<Candidate> {
        let haystack = text.normalized();
        let mut candidates = Vec::new();
        // Context words by span: recognizers sharing a regex see the same spans.
        let mut windows = FxHashMap::<(usize, usize), Vec<String>>::default();
        for regex_index in self.prefilter.matches(haystack).iter() {
            let distinct = &self.regexes[regex_index];
            let users: Vec<&CompiledPattern> = distinct
                .patterns
                .iter()
                .map(|&index| &self.patterns[index])
                .filter(|pattern| {
                    let recognizer = &self.recognizers[pattern.recognizer];
                    recognizer.info.supports_language(request.language) && wanted(&recognizer.entity_type)
                })
                .collect();
            if users.is_empty() {
                continue;
            }
            for whole in distinct.regex.find_iter(haystack) {
                // Only patterns that report a group pay for capture positions, and only
                // within the match.
                let mut captures = None;
                for pattern in &users {
                    let recognizer = &self.recognizers[pattern.recognizer];
                    let span = match recognizer.group {
                        None => Some((whole.start(), whole.end())),
                        Some(group) => captures
                            .get_or_insert_with(|| distinct.regex.captures_at(&haystack[..whole.end()], whole.start()))
                            .as_ref()
                            .and_then(|captures| captures.get(group))
                            .map(|found| (found.start(), found.end())),
                    };
                    let Some((start, end)) = span else { continue };
                    if start == end {
                        continue;
                    }
                    if let Some(mut candidate) =
                        recognizer.candidate(text, request, pattern, (start, end), keep_unvalidated, &mut windows)
                    {
                        if recognizer.group.is_some() {
                            // The rest of the match is a label the pattern required ("NHC:",
                            // "años"): context as explicit as any context word.
                            let label = format!("{} {}", &haystack[whole.start()..start], &haystack[end..whole.end()]);
                            for (_, _, word) in crate::context::words(&label) {
                                if !candidate.context_words.contains(&word) {
                                    candidate.context_words.push(word);
                                }
                            }
                        }
                        candidates.push(candidate);
                    }
                }
            }
        }
        candidates
    }
}

impl CompiledRecognizer {
    fn candidate(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
        pattern: &CompiledPattern,
        (byte_start, byte_end): (usize, usize),
        keep_unvalidated: bool,
        windows: &mut FxHashMap<(usize, usize), Vec<String>>,
    ) -> Option<Candidate> {
        let mut byte_end = byte_end;
        let validator = match self.validator {
            None => None,
            Some(validator) => {
                // Greedy patterns can run on into a following group of digits or a word
                // ("4111 1111 1111 1111 2019"); when the whole match fails, the longest prefix
                // ending before a separator that passes is taken instead.
                let matched = &text.normalized()[byte_start..byte_end];
                let mut passed = true;
                if !validator.check(matched) {
                    let shorter = matched
                        .char_indices()
                        .rev()
                        .filter(|(_, character)| matches!(character, ' ' | '-' | '.' | '/'))
                        .map(|(offset, _)| offset)
                        .find(|&offset| offset > 0 && validator.check(matched[..offset].trim_end()));
                    match shorter {
                        Some(shorter) => byte_end = byte_start + matched[..shorter].trim_end().len(),
                        // Kept on request as the recognizer's type, marked as failing.
                        None if keep_unvalidated => passed = false,
                        None => return None,
                    }
                }
                Some(ValidatorOutcome {
                    validator: validator.name().to_owned(),
                    passed,
                })
            }
        };
        let start = text.char_index(byte_start);
        let end = text.char_index(byte_end);
        let base_score = pattern.score;
        let mut score = base_score;
        let mut context_words = Vec::new();
        if !self.context.is_empty() || !self.negative_context.is_empty() {
            let window_words = windows
                .entry((start, end))
                .or_insert_with(|| text.context_window(start, end, request.context_window));
            let window: Vec<&str> = window_words.iter().map(String::as_str).collect();
            context_words = self.context.find_in(&window);
            let contradicting = self.negative_context.find_in(&window);
            score = apply(base_score, context_words.len(), contradicting.len());
            context_words.extend(contradicting.into_iter().map(|word| format!("-{word}")));
        }
        Some(Candidate {
            entity_type: self.entity_type.clone(),
            start,
            end,
            score,
            recognizer: self.info.name.clone(),
            pattern: Some(pattern.name.clone()),
            validator,
            context_words,
            base_score,
            only_a_place: false,
        })
    }
}

fn compile_recognizer(pack: &str, spec: &RecognizerSpec, taxonomy: &Taxonomy) -> CompiledRecognizer {
    let entity_type = taxonomy.canonical_name(&spec.entity);
    let languages = if spec.languages.is_empty() {
        vec!["any".to_owned()]
    } else {
        spec.languages.iter().map(|language| language.to_lowercase()).collect()
    };
    let mut settings = BTreeMap::new();
    for (number, pattern) in spec.patterns.iter().enumerate() {
        settings.insert(
            format!("pattern.{number}"),
            format!("{} (score {})", pattern.regex, pattern.score),
        );
    }
    if let Some(validator) = &spec.validator {
        settings.insert("validator".into(), validator.clone());
    }
    if !spec.context.is_empty() {
        settings.insert("context".into(), spec.context.join(", "));
    }
    if !spec.negative_context.is_empty() {
        settings.insert("negative_context".into(), spec.negative_context.join(", "));
    }
    CompiledRecognizer {
        info: RecognizerInfo {
            name: format!("{pack}/{}", spec.name),
            kind: RecognizerKind::Pattern,
            entities: vec![entity_type.clone()],
            languages,
            description: spec.description.clone().unwrap_or_default(),
            settings,
        },
        entity_type,
        context: ContextWords::new(&spec.context),
        negative_context: ContextWords::new(&spec.negative_context),
        validator: spec.validator.as_deref().and_then(Validator::parse),
        group: spec.group,
    }
}
