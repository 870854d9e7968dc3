//! Checking a masked value against its original: did anything leak, was the promised format
//! kept, is a surrogate's checksum valid, were replacements consistent.
//!
//! The masked value's kind is read from its shape: a label (`<PERSON_1>`, `[EMAIL]`,
//! `PERSONA-001`, `enc1:…`, a hex hash) promises no format; a mask (`*`, `#`, `X`, `•`)
//! promises the original's length and separators; anything else is taken as a surrogate,
//! which promises the separators and, for checked identifiers, a valid checksum. What
//! operators declare they keep is not counted as a leak: an e-mail's domain, the last four
//! digits of a card, account or phone, and a date's year.

use obscura_detection::entity_type::EntityType;
use obscura_detection::entity_type::names;
use std::collections::BTreeMap;

use serde::Serialize;

use super::identity::normalized;
use super::keyed::ENCRYPTED_PREFIX;
use obscura_detection::context::fold_word;
use obscura_detection::validate::Validator;

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// `original_survived`, `partial_original_survived`, `format_lost`, `invalid_checksum`
    /// or `inconsistent_replacement`.
    pub code: &'static str,
    pub message: String,
}

/// The verdict on a masked value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validation {
    pub valid: bool,
    pub issues: Vec<Issue>,
}

/// How a masked value was made, as far as its shape tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Label,
    Mask,
    Surrogate,
}

const MASK_CHARACTERS: &[char] = &['*', '#', 'X', 'x', '•', '█'];

fn kind(masked: &str) -> Kind {
    let trimmed = masked.trim();
    let bracketed = |open: &str, close: &str| trimmed.starts_with(open) && trimmed.ends_with(close);
    let prefixed_number = trimmed.rsplit_once('-').is_some_and(|(label, number)| {
        !label.is_empty()
            && label
                .chars()
                .all(|character| character.is_ascii_uppercase() || character == '_')
            && !number.is_empty()
            && number.chars().all(|character| character.is_ascii_digit())
    });
    let hash_like = trimmed.len() >= 16 && trimmed.chars().all(|character| character.is_ascii_hexdigit());
    if trimmed.is_empty()
        || bracketed("<", ">")
        || bracketed("[", "]")
        || bracketed("{", "}")
        || bracketed("«", "»")
        || prefixed_number
        || hash_like
        || trimmed.starts_with(ENCRYPTED_PREFIX)
    {
        Kind::Label
    } else if trimmed
        .chars()
        .any(|character| MASK_CHARACTERS.contains(&character) && character != 'X' && character != 'x')
        || trimmed.to_uppercase().contains("XXX")
    {
        Kind::Mask
    } else {
        Kind::Surrogate
    }
}

/// Folded letters and digits only.
fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if word.is_ascii() {
            // What `fold_word` gives an ASCII word, without building it.
            out.extend(
                word.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|character| character.to_ascii_lowercase()),
            );
        } else {
            out.extend(fold_word(word).chars().filter(|character| character.is_alphanumeric()));
        }
    }
    out
}

/// The part of the original an operator may keep, removed before leak checks.
fn declared_kept(entity_type: &str, original: &str) -> String {
    match entity_type {
        names::EMAIL_ADDRESS => original.split('@').next().unwrap_or(original).to_owned(),
        names::CREDIT_CARD | names::IBAN_CODE | names::BANK_ACCOUNT | names::PHONE_NUMBER | names::US_BANK_NUMBER => {
            let digits = original.chars().filter(char::is_ascii_digit).count();
            let mut seen = 0;
            original
                .chars()
                .filter(|character| {
                    if character.is_ascii_digit() {
                        seen += 1;
                        seen + 4 <= digits
                    } else {
                        true
                    }
                })
                .collect()
        }
        names::DATE_TIME | names::DATE_OF_BIRTH => original
            .split(|character: char| !character.is_alphanumeric())
            .filter(|part| !(part.len() == 4 && part.chars().all(|character| character.is_ascii_digit())))
            .collect::<Vec<_>>()
            .join(" "),
        _ => original.to_owned(),
    }
}

/// How many consecutive letters or digits of the original, beyond what operators may keep,
/// the masked value shows, when that is a long part of it (five or more, and two fifths).
pub(crate) fn surviving_part(entity_type: &str, original: &str, masked: &str) -> Option<usize> {
    let guarded: Vec<char> = compact(&declared_kept(entity_type, original)).chars().collect();
    let visible: Vec<char> = compact(masked).chars().collect();
    let common = longest_common_substring(&guarded, &visible);
    (common >= 5 && common * 5 >= guarded.len() * 2).then_some(common)
}

fn longest_common_substring(left: &[char], right: &[char]) -> usize {
    let mut best = 0;
    // One row of the table, updated from the right so that `row[index]` still holds the
    // previous row's value when `row[index + 1]` is computed.
    let mut row = vec![0_usize; right.len() + 1];
    for &left_character in left {
        for (index, &right_character) in right.iter().enumerate().rev() {
            row[index + 1] = if left_character == right_character {
                let length = row[index] + 1;
                best = best.max(length);
                length
            } else {
                0
            };
        }
    }
    best
}

/// The separators of a value, in order.
fn separators(text: &str) -> Vec<char> {
    text.trim()
        .chars()
        .filter(|character| !character.is_alphanumeric() && !MASK_CHARACTERS.contains(character))
        .collect()
}

/// Checks one masked value against its original.
pub fn validate(original: &str, masked: &str, entity_type: &str) -> Validation {
    let mut issues = Vec::new();
    let kind = kind(masked);
    let original_key = normalized(entity_type, original);
    // A value of one or two characters is found inside almost anything ("0" in
    // "EDAD-001"); it survives only as the whole masked value.
    let comparable = original_key
        .chars()
        .filter(|character| character.is_alphanumeric())
        .count()
        >= 3;
    let masked_key = normalized(entity_type, masked);
    if !original.trim().is_empty()
        && (masked.trim() == original.trim()
            || masked_key == original_key
            || (comparable && (masked.contains(original.trim()) || masked_key.contains(&original_key))))
    {
        issues.push(Issue {
            code: "original_survived",
            message: format!("the masked value contains the original {entity_type}"),
        });
    } else if let Some(common) = surviving_part(entity_type, original, masked) {
        issues.push(Issue {
            code: "partial_original_survived",
            message: format!("{common} consecutive letters or digits of the original survived"),
        });
    }
    match kind {
        Kind::Mask
            if masked.chars().count() != original.chars().count() && separators(original) != separators(masked) =>
        {
            issues.push(Issue {
                code: "format_lost",
                message: "the mask kept neither the length nor the separators of the original".into(),
            });
        }
        Kind::Surrogate if Validator::for_entity(entity_type).is_some() || entity_type == EntityType::PHONE_NUMBER => {
            if separators(original) != separators(masked) {
                issues.push(Issue {
                    code: "format_lost",
                    message: format!(
                        "the surrogate's separators {:?} differ from the original's {:?}",
                        separators(masked).into_iter().collect::<String>(),
                        separators(original).into_iter().collect::<String>()
                    ),
                });
            }
            if let Some(validator) = Validator::for_entity(entity_type)
                && !validator.check(masked)
            {
                issues.push(Issue {
                    code: "invalid_checksum",
                    message: format!("the surrogate does not pass the {validator:?} check of a {entity_type}"),
                });
            }
        }
        Kind::Label | Kind::Mask | Kind::Surrogate => {}
    }
    Validation {
        valid: issues.is_empty(),
        issues,
    }
}

/// One pair of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub original: String,
    pub masked: String,
    pub entity_type: EntityType,
}

/// Checks every pair, and that equal originals got equal replacements.
pub fn validate_batch(pairs: &[Pair]) -> Validation {
    let mut issues: Vec<Issue> = pairs
        .iter()
        .enumerate()
        .flat_map(|(index, pair)| {
            validate(&pair.original, &pair.masked, &pair.entity_type)
                .issues
                .into_iter()
                .map(move |issue| Issue {
                    code: issue.code,
                    message: format!("item {index}: {}", issue.message),
                })
        })
        .collect();
    let mut first: BTreeMap<(EntityType, String), (usize, &str)> = BTreeMap::new();
    for (index, pair) in pairs.iter().enumerate() {
        let key = (pair.entity_type.clone(), normalized(&pair.entity_type, &pair.original));
        match first.get(&key) {
            Some((earlier, masked)) if *masked != pair.masked => issues.push(Issue {
                code: "inconsistent_replacement",
                message: format!(
                    "items {earlier} and {index} hold the same {} replaced differently",
                    pair.entity_type
                ),
            }),
            Some(_) => {}
            None => {
                first.insert(key, (index, &pair.masked));
            }
        }
    }
    Validation {
        valid: issues.is_empty(),
        issues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(validation: &Validation) -> Vec<&'static str> {
        validation.issues.iter().map(|issue| issue.code).collect()
    }

    #[test]
    fn good_replacements_pass() {
        assert!(validate("Juan Pérez", "<PERSON_1>", "PERSON").valid);
        assert!(validate("Juan Pérez", "PERSONA-001", "PERSON").valid);
        assert!(validate("4111 1111 1111 1234", "**** **** **** 1234", "CREDIT_CARD").valid);
        assert!(validate("ana.lopez@example.com", "*********@example.com", "EMAIL_ADDRESS").valid);
        assert!(validate("4556 7375 8689 9855", "4532 0151 1283 0366", "CREDIT_CARD").valid);
        assert!(validate("15/03/1980", "1980", "DATE_OF_BIRTH").valid);
        assert!(validate("12345678Z", "87654321X", "ES_NIF").valid);
        // Too short to be found meaningfully inside a label.
        assert!(validate("0::", "IP_ADDRESS-001", "IP_ADDRESS").valid);
        assert!(validate("0", "EDAD-001", "AGE").valid);
        assert!(!validate("7", "7", "AGE").valid);
    }

    #[test]
    fn leaks_lost_formats_and_bad_checksums_are_found() {
        assert_eq!(
            codes(&validate("Juan Pérez", "Sr. JUAN PEREZ", "PERSON")),
            ["original_survived"]
        );
        assert_eq!(
            codes(&validate("Juan Pérez García", "Juan P.", "PERSON")),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes(&validate(
                "ES76 2077 0024 0031 0257 5766",
                "ES76 2077 0024 0031 **** ****",
                "IBAN_CODE"
            )),
            ["partial_original_survived"]
        );
        assert_eq!(
            codes(&validate("4111-1111-1111-1234", "***************", "CREDIT_CARD")),
            ["format_lost"]
        );
        assert_eq!(
            codes(&validate("4556 7375 8689 9855", "4532 0151 1283 0367", "CREDIT_CARD")),
            ["invalid_checksum"]
        );
        // A near copy leaks most of the original.
        assert_eq!(
            codes(&validate("4556 7375 8689 9855", "4556 7375 8689 9856", "CREDIT_CARD")),
            ["partial_original_survived", "invalid_checksum"]
        );
        assert_eq!(
            codes(&validate("12345678Z", "87654321A", "ES_NIF")),
            ["invalid_checksum"]
        );
        assert_eq!(
            codes(&validate("612-345-678", "699 111 222", "PHONE_NUMBER")),
            ["format_lost"]
        );
    }

    #[test]
    fn a_batch_must_be_consistent() {
        let pair = |original: &str, masked: &str| Pair {
            original: original.into(),
            masked: masked.into(),
            entity_type: "PERSON".into(),
        };
        let consistent = validate_batch(&[pair("Ana Gil", "<PERSON_1>"), pair("ANA GIL", "<PERSON_1>")]);
        assert!(consistent.valid);
        let inconsistent = validate_batch(&[
            pair("Ana Gil", "<PERSON_1>"),
            pair("Luis Sanz", "<PERSON_2>"),
            pair("Ana Gil", "<PERSON_3>"),
        ]);
        assert_eq!(codes(&inconsistent), ["inconsistent_replacement"]);
        assert!(inconsistent.issues[0].message.contains("items 0 and 2"));
    }

    proptest::proptest! {
        #[test]
        fn the_one_row_table_finds_the_longest_common_run(left in "[ab1]{0,12}", right in "[ab1]{0,12}") {
            let left: Vec<char> = left.chars().collect();
            let right: Vec<char> = right.chars().collect();
            // Every run of the left side, longest first, looked for in the right side.
            let expected = (0..=left.len())
                .rev()
                .find(|&length| {
                    length == 0
                        || left
                            .windows(length)
                            .any(|run| right.windows(length).any(|other| other == run))
                })
                .unwrap_or(0);
            proptest::prop_assert_eq!(longest_common_substring(&left, &right), expected);
        }
    }
}
