//! High-entropy strings: long base64 or hex tokens that look random, as detect-secrets finds
//! them. Provider-specific secrets are pattern rules in the `secrets` pack.

use crate::entity_type::EntityType;
use crate::entity_type::names;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo, RecognizerKind};
use crate::text::AnalyzedText;

/// Shannon entropy limits, in bits per character, as detect-secrets sets them.
pub const BASE64_ENTROPY_LIMIT: f64 = 4.5;
pub const HEX_ENTROPY_LIMIT: f64 = 3.0;
/// Shortest token considered, in characters.
pub const MIN_TOKEN_LEN: usize = 20;

#[allow(clippy::expect_used)]
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    // A fixed pattern; it compiles or the tests fail.
    Regex::new(r"[A-Za-z0-9+/=_-]{20,512}").expect("the token pattern compiles")
});

/// Shannon entropy of `text` in bits per character.
pub fn shannon_entropy(text: &str) -> f64 {
    let mut counts = [0_u32; 256];
    for byte in text.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let length = text.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let probability = f64::from(count) / length;
            -probability * probability.log2()
        })
        .sum()
}

/// Reports long random-looking base64 and hex tokens as `HIGH_ENTROPY_SECRET`.
#[derive(Debug)]
pub struct EntropyRecognizer {
    info: RecognizerInfo,
}

impl Default for EntropyRecognizer {
    fn default() -> EntropyRecognizer {
        let mut settings = BTreeMap::new();
        settings.insert("base64_entropy_limit".into(), BASE64_ENTROPY_LIMIT.to_string());
        settings.insert("hex_entropy_limit".into(), HEX_ENTROPY_LIMIT.to_string());
        settings.insert("min_length".into(), MIN_TOKEN_LEN.to_string());
        EntropyRecognizer {
            info: RecognizerInfo {
                name: "secrets/high_entropy".into(),
                kind: RecognizerKind::Entropy,
                entities: vec![names::HIGH_ENTROPY_SECRET.into()],
                languages: vec!["any".into()],
                description:
                    "Base64 or hex tokens of 20+ characters whose Shannon entropy passes detect-secrets' limits.".into(),
                settings,
            },
        }
    }
}

/// Whether a token looks like a secret rather than a word, a path or a number.
fn looks_random(token: &str) -> Option<f32> {
    let is_hex = token.bytes().all(|byte| byte.is_ascii_hexdigit());
    let has_digit = token.bytes().any(|byte| byte.is_ascii_digit());
    let has_letter = token.bytes().any(|byte| byte.is_ascii_alphabetic());
    if !(has_digit && has_letter) {
        return None;
    }
    let entropy = shannon_entropy(token);
    if is_hex {
        // Hex of 32+ digits (hashes, keys) with enough spread.
        return (token.len() >= 32 && entropy > HEX_ENTROPY_LIMIT).then_some(0.65);
    }
    let has_upper = token.bytes().any(|byte| byte.is_ascii_uppercase());
    let has_lower = token.bytes().any(|byte| byte.is_ascii_lowercase());
    (has_upper && has_lower && entropy > BASE64_ENTROPY_LIMIT).then_some(0.7)
}

impl Recognizer for EntropyRecognizer {
    fn info(&self) -> &RecognizerInfo {
        &self.info
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok(self.candidates(text, request))
    }
}

impl EntropyRecognizer {
    /// Every candidate in `text`; finding nothing is the only way this fails.
    fn candidates(&self, text: &AnalyzedText<'_>, _request: &RecognitionRequest<'_>) -> Vec<Candidate> {
        let haystack = text.normalized();
        TOKEN
            .find_iter(haystack)
            .filter_map(|found| {
                let token = found.as_str().trim_end_matches('=');
                if token.len() < MIN_TOKEN_LEN {
                    return None;
                }
                let score = looks_random(token)?;
                Some(Candidate {
                    entity_type: EntityType::HIGH_ENTROPY_SECRET,
                    start: text.char_index(found.start()),
                    end: text.char_index(found.end()),
                    score,
                    recognizer: self.info.name.clone(),
                    pattern: Some("token".into()),
                    validator: None,
                    context_words: Vec::new(),
                    base_score: score,
                    only_a_place: false,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("ab") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn random_tokens_are_found_and_words_are_not() {
        let recognizer = EntropyRecognizer::default();
        let request = RecognitionRequest {
            language: "en",
            context_window: 5,
        };
        let text = AnalyzedText::new(
            "token = 'q8Zr2LmX7vKpW3nYt5HsB9aJc4DfGe6U' and sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 but not internationalization_configuration",
        );
        let found: Vec<_> = recognizer
            .recognize(&text, &request)
            .unwrap()
            .into_iter()
            .map(|candidate| text.original_slice(candidate.start, candidate.end).to_owned())
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("q8Zr2"));
        assert!(found[1].starts_with("9f86d0"));
    }
}
