//! Reversible sanitization: content goes out with placeholders and comes back with the
//! originals, for text sent to a language model and its answer.
//!
//! A placeholder is `<<TYPE_HASH_N>>`: the entity type, six hex digits of a keyed hash of
//! the original, and the value's number within its type. The mask map holds each
//! placeholder's original exactly as it was written (for HTML, its source bytes), so that
//! rehydrating sanitized content gives the content back byte for byte; the same original
//! gets the same placeholder every time within a map.
//!
//! Rehydration tolerates what models do to placeholders: changed case or spacing
//! (`<<email address 7a9b2c 1>>`), markdown emphasis inside or around them, repetition,
//! punctuation after them, missing or HTML-escaped brackets. A placeholder that is not in the
//! map is left as it is and reported. Keys of a map that are not of this shape (written by a
//! client) are placeholders too, found with the same tolerance.

mod literal;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::literal::LiteralKeys;

use super::html::{Edit, apply_edits, escape, scannable};
use super::keyed::hmac_sha256;
use obscura_detection::detect::{DetectError, DetectOptions, Detection, Detector, SkippedRecognizer, merge_skipped};

/// Placeholders and the originals they stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaskMap(pub BTreeMap<String, String>);

/// The form of sanitized content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentFormat {
    Text,
    Json,
    Html,
}

/// What was sanitized.
#[derive(Debug, Clone, PartialEq)]
pub struct Sanitized<T> {
    pub content: T,
    pub detection_count: usize,
    /// Recognizers detection went without (only when the options allow skipping).
    pub skipped: Vec<SkippedRecognizer>,
}

/// What rehydration found.
#[derive(Debug, Clone, PartialEq)]
pub struct Rehydrated<T> {
    pub content: T,
    /// Placeholders restored, each once, in order of first appearance.
    pub placeholders_found: Vec<String>,
    /// Placeholder-shaped text that the map does not hold.
    pub unknown_placeholders: Vec<String>,
}

/// Hands out placeholders for one mask map.
pub struct Sanitizer<'a> {
    map: &'a mut MaskMap,
    secret: &'a [u8],
    /// Placeholder by (type, original).
    known: BTreeMap<(String, String), String>,
    counts: BTreeMap<String, u64>,
}

impl<'a> Sanitizer<'a> {
    /// A sanitizer adding to `map`; `secret` keys the placeholders' hash digits.
    pub fn new(map: &'a mut MaskMap, secret: &'a [u8]) -> Sanitizer<'a> {
        let mut known = BTreeMap::new();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (placeholder, original) in &map.0 {
            if let Some((entity_type, _, number)) = parse_placeholder(placeholder) {
                known.insert((entity_type.clone(), original.clone()), placeholder.clone());
                let count = counts.entry(entity_type).or_default();
                *count = (*count).max(number);
            }
        }
        Sanitizer {
            map,
            secret,
            known,
            counts,
        }
    }

    /// The placeholder of an original of a type, allocated when new.
    pub fn placeholder(&mut self, entity_type: &str, original: &str) -> String {
        let key = (entity_type.to_owned(), original.to_owned());
        if let Some(existing) = self.known.get(&key) {
            return existing.clone();
        }
        let count = self.counts.entry(entity_type.to_owned()).or_default();
        *count += 1;
        let mut data = entity_type.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(original.as_bytes());
        let hash = hex::encode_upper(&hmac_sha256(self.secret, &data)[..3]);
        let placeholder = format!("<<{entity_type}_{hash}_{count}>>");
        self.map.0.insert(placeholder.clone(), original.to_owned());
        self.known.insert(key, placeholder.clone());
        placeholder
    }

    /// Text with every detection replaced by its placeholder.
    pub fn text(&mut self, text: &str, detections: &[Detection]) -> String {
        let mut sorted: Vec<&Detection> = detections.iter().collect();
        sorted.sort_by_key(|detection| (detection.byte_start, detection.byte_end));
        let mut out = String::with_capacity(text.len());
        let mut position = 0;
        for detection in sorted {
            if detection.byte_start < position || detection.byte_end > text.len() {
                continue;
            }
            out.push_str(&text[position..detection.byte_start]);
            let placeholder = self.placeholder(&detection.entity_type, &text[detection.byte_start..detection.byte_end]);
            out.push_str(&placeholder);
            position = detection.byte_end;
        }
        out.push_str(&text[position..]);
        out
    }
}

/// Sanitizes text.
pub fn sanitize_text(
    text: &str,
    detector: &Detector,
    options: &DetectOptions,
    sanitizer: &mut Sanitizer<'_>,
) -> Result<Sanitized<String>, DetectError> {
    let findings = detector.detect(text, options)?;
    Ok(Sanitized {
        content: sanitizer.text(text, &findings.detections),
        detection_count: findings.detections.len(),
        skipped: findings.skipped,
    })
}

/// Sanitizes every string of a JSON value; numbers, booleans and null stay.
pub fn sanitize_json(
    value: &Value,
    detector: &Detector,
    options: &DetectOptions,
    sanitizer: &mut Sanitizer<'_>,
) -> Result<Sanitized<Value>, DetectError> {
    let mut count = 0;
    let mut skipped = Vec::new();
    let content = map_json_strings(value, &mut |text| {
        let findings = detector.detect(text, options)?;
        count += findings.detections.len();
        merge_skipped(&mut skipped, findings.skipped);
        Ok(sanitizer.text(text, &findings.detections))
    })?;
    Ok(Sanitized {
        content,
        detection_count: count,
        skipped,
    })
}

/// Sanitizes the text nodes and chosen attributes of an HTML document; placeholders are
/// written escaped (`&lt;&lt;EMAIL_ADDRESS_7A9B2C_1&gt;&gt;`) and the map keeps each
/// original's source bytes.
pub fn sanitize_html(
    html: &str,
    detector: &Detector,
    options: &DetectOptions,
    sanitizer: &mut Sanitizer<'_>,
) -> Result<Sanitized<String>, DetectError> {
    let mut edits = Vec::new();
    let mut count = 0;
    let mut skipped = Vec::new();
    for piece in scannable(html) {
        let findings = detector.detect(&piece.text, options)?;
        count += findings.detections.len();
        merge_skipped(&mut skipped, findings.skipped);
        for detection in findings.detections {
            let range = piece.offsets[detection.start]..piece.offsets[detection.end];
            let placeholder = sanitizer.placeholder(&detection.entity_type, &html[range.clone()]);
            edits.push(Edit {
                range,
                replacement: escape(&placeholder),
            });
        }
    }
    Ok(Sanitized {
        content: apply_edits(html, edits),
        detection_count: count,
        skipped,
    })
}

/// Applies `change` to every string of a JSON value.
pub fn map_json_strings<E>(value: &Value, change: &mut dyn FnMut(&str) -> Result<String, E>) -> Result<Value, E> {
    Ok(match value {
        Value::String(text) => Value::String(change(text)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| map_json_strings(item, change))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (key, item) in map {
                out.insert(key.clone(), map_json_strings(item, change)?);
            }
            Value::Object(out)
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
    })
}

/// Placeholder-shaped text: brackets (plain, doubled, guillemets or HTML-escaped) and
/// emphasis optional, separators `_`, space or `-`, any case.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?:<<|&lt;&lt;|«|<|\[\[)[ \t]*)?(?:(?:\*\*|\*|__)[ \t]*)?([a-z][a-z_ ]*?[a-z])[_ \-]([0-9a-f]{6})[_ \-]([0-9]{1,9})(?:[ \t]*(?:\*\*|\*|__))?(?:[ \t]*(?:>>|&gt;&gt;|»|>|\]\]))?",
    )
    .unwrap_or_else(|_| unreachable!("the placeholder pattern is valid"))
});

/// The type, hash and number of a canonical placeholder.
fn parse_placeholder(placeholder: &str) -> Option<(String, String, u64)> {
    let captures = PLACEHOLDER.captures(placeholder)?;
    Some((
        captures[1].to_uppercase().replace([' ', '-'], "_"),
        captures[2].to_uppercase(),
        captures[3].parse().ok()?,
    ))
}

/// A mask map ready to restore text: its placeholders of Obscura's shape by type, hash and
/// number, and its other keys as patterns.
struct Restorer<'m> {
    by_key: BTreeMap<String, (&'m String, &'m String)>,
    literal: LiteralKeys<'m>,
}

impl<'m> Restorer<'m> {
    fn new(map: &'m MaskMap) -> Restorer<'m> {
        let by_key = map
            .0
            .iter()
            .filter_map(|(placeholder, original)| {
                let (entity_type, hash, number) = parse_placeholder(placeholder)?;
                Some((format!("{entity_type}_{hash}_{number}"), (placeholder, original)))
            })
            .collect();
        let literal = LiteralKeys::new(
            map.0
                .iter()
                .filter(|(placeholder, _)| parse_placeholder(placeholder).is_none()),
        );
        Restorer { by_key, literal }
    }
}

/// Restores the originals in text.
pub fn rehydrate_text(text: &str, map: &MaskMap) -> Rehydrated<String> {
    restore(text, &Restorer::new(map))
}

fn restore(text: &str, restorer: &Restorer<'_>) -> Rehydrated<String> {
    let by_key = &restorer.by_key;
    let mut found: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut position = 0;
    for captures in PLACEHOLDER.captures_iter(text) {
        let (Some(whole), Some(type_match)) = (captures.get(0), captures.get(1)) else {
            continue;
        };
        let suffix = format!(
            "_{}_{}",
            captures[2].to_uppercase(),
            captures[3].trim_start_matches('0')
        );
        // The type may have taken words before the placeholder ("Contact EMAIL_ADDRESS"):
        // try it from each word on, and start the replacement at the word that fits.
        let mut word_starts = vec![type_match.start()];
        for (offset, character) in type_match.as_str().char_indices() {
            if character == ' ' || character == '_' {
                word_starts.push(type_match.start() + offset + 1);
            }
        }
        let hit = word_starts.iter().find_map(|&start| {
            let key = format!(
                "{}{suffix}",
                text[start..type_match.end()].to_uppercase().replace([' ', '-'], "_")
            );
            by_key.get(&key).map(|entry| (start, *entry))
        });
        match hit {
            Some((start, (placeholder, original))) => {
                let start = if start == type_match.start() {
                    whole.start()
                } else {
                    start
                };
                out.push_str(&text[position..start]);
                out.push_str(original);
                position = whole.end();
                if !found.contains(placeholder) {
                    found.push(placeholder.clone());
                }
            }
            None => {
                let shown = whole.as_str().trim().to_owned();
                if !unknown.contains(&shown) {
                    unknown.push(shown);
                }
            }
        }
    }
    out.push_str(&text[position..]);
    let out = restorer.literal.replace(&out, &mut found);
    Rehydrated {
        content: out,
        placeholders_found: found,
        unknown_placeholders: unknown,
    }
}

/// Restores the originals in every string of a JSON value.
pub fn rehydrate_json(value: &Value, map: &MaskMap) -> Rehydrated<Value> {
    let restorer = Restorer::new(map);
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    let content = map_json_strings::<std::convert::Infallible>(value, &mut |text| {
        let result = restore(text, &restorer);
        for placeholder in result.placeholders_found {
            if !found.contains(&placeholder) {
                found.push(placeholder);
            }
        }
        for placeholder in result.unknown_placeholders {
            if !unknown.contains(&placeholder) {
                unknown.push(placeholder);
            }
        }
        Ok(result.content)
    })
    .unwrap_or_else(|never| match never {});
    Rehydrated {
        content,
        placeholders_found: found,
        unknown_placeholders: unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::with_builtin_packs().unwrap()
    }

    fn options() -> DetectOptions {
        DetectOptions {
            language: Some("es".into()),
            ..DetectOptions::default()
        }
    }

    #[test]
    fn text_round_trips_and_repeats_placeholders() {
        let text = "Escribe a ana.garcia@example.com o llama al +34 612 345 678. Repito: ana.garcia@example.com.";
        let mut map = MaskMap::default();
        let mut sanitizer = Sanitizer::new(&mut map, b"secret");
        let sanitized = sanitize_text(text, &detector(), &options(), &mut sanitizer).unwrap();
        assert!(!sanitized.content.contains("ana.garcia"));
        assert_eq!(sanitized.detection_count, 3);
        assert_eq!(map.0.len(), 2);
        let placeholder = map
            .0
            .keys()
            .find(|key| key.starts_with("<<EMAIL_ADDRESS_"))
            .unwrap()
            .clone();
        assert_eq!(sanitized.content.matches(&placeholder).count(), 2);
        let back = rehydrate_text(&sanitized.content, &map);
        assert_eq!(back.content, text);
        assert_eq!(back.placeholders_found.len(), 2);
        assert!(back.unknown_placeholders.is_empty());
    }

    #[test]
    fn rehydration_survives_what_models_do_to_placeholders() {
        let mut map = MaskMap::default();
        map.0
            .insert("<<EMAIL_ADDRESS_7A9B2C_1>>".into(), "ana@example.com".into());
        map.0.insert("<<PERSON_0F0F0F_2>>".into(), "Ana García".into());
        for (answer, expected) in [
            ("Contact <<EMAIL_ADDRESS_7A9B2C_1>>.", "Contact ana@example.com."),
            ("Contact <<email_address_7a9b2c_1>>!", "Contact ana@example.com!"),
            ("Contact << EMAIL_ADDRESS_7A9B2C_1 >>", "Contact ana@example.com"),
            ("Contact **<<EMAIL_ADDRESS_7A9B2C_1>>**", "Contact **ana@example.com**"),
            ("Contact <<**EMAIL_ADDRESS_7A9B2C_1**>>", "Contact ana@example.com"),
            (
                "Contact EMAIL_ADDRESS_7A9B2C_1, twice: EMAIL_ADDRESS_7A9B2C_1",
                "Contact ana@example.com, twice: ana@example.com",
            ),
            ("Dear <<PERSON 0f0f0f 2>>,", "Dear Ana García,"),
            ("Dear &lt;&lt;PERSON_0F0F0F_2&gt;&gt;", "Dear Ana García"),
        ] {
            assert_eq!(rehydrate_text(answer, &map).content, expected, "{answer}");
        }
        let unknown = rehydrate_text("See <<PHONE_NUMBER_ABCDEF_9>> and <<PERSON_0F0F0F_2>>", &map);
        assert_eq!(unknown.content, "See <<PHONE_NUMBER_ABCDEF_9>> and Ana García");
        assert_eq!(unknown.unknown_placeholders, ["<<PHONE_NUMBER_ABCDEF_9>>"]);
    }

    #[test]
    fn json_and_html_round_trip_exactly() {
        let value =
            serde_json::json!({"to": "ana.garcia@example.com", "n": 3, "body": ["Llama al +34 612 345 678", null]});
        let mut map = MaskMap::default();
        let mut sanitizer = Sanitizer::new(&mut map, b"secret");
        let sanitized = sanitize_json(&value, &detector(), &options(), &mut sanitizer).unwrap();
        assert_ne!(sanitized.content, value);
        assert_eq!(sanitized.content["n"], 3);
        assert_eq!(rehydrate_json(&sanitized.content, &map).content, value);

        let html = "<p title=\"ana.garcia@example.com\">Escribe a <b>ana.garcia&#64;example.com</b> &amp; <a href=\"mailto:ana.garcia@example.com\">aquí</a></p>";
        let mut map = MaskMap::default();
        let mut sanitizer = Sanitizer::new(&mut map, b"secret");
        let sanitized = sanitize_html(html, &detector(), &options(), &mut sanitizer).unwrap();
        assert!(!sanitized.content.contains("ana.garcia"), "{}", sanitized.content);
        assert!(sanitized.content.contains("href=\"mailto:&lt;&lt;EMAIL_ADDRESS_"));
        assert!(sanitized.content.starts_with("<p title=\"&lt;&lt;EMAIL_ADDRESS_"));
        assert_eq!(rehydrate_text(&sanitized.content, &map).content, html);
    }

    #[test]
    fn an_existing_map_keeps_its_placeholders() {
        let mut map = MaskMap::default();
        let first = Sanitizer::new(&mut map, b"secret").placeholder("PERSON", "Ana");
        let mut sanitizer = Sanitizer::new(&mut map, b"secret");
        assert_eq!(sanitizer.placeholder("PERSON", "Ana"), first);
        assert_eq!(
            sanitizer.placeholder("PERSON", "Luis"),
            first
                .replace("_1>>", "_2>>")
                .replace(&first[9..15], &sanitizer.placeholder("PERSON", "Luis")[9..15])
        );
    }
}
