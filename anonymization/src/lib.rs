//! Anonymization: operators applied to detected spans, with replacements kept consistent
//! within a scope (a request, a session, a project) through an alias vault.
//!
//! - `operator`: the operators and their options;
//! - `keyed`: keyed hashing and value encryption;
//! - `identity`: normalized forms, and when two person mentions are one person;
//! - `vault`: the alias vault and its keys;
//! - `surrogate`: realistic fake values;
//! - `structured`: JSON, with key names as hints and path filters, and HTML;
//! - `html`: the text nodes and attributes of an HTML document;
//! - `sanitize`: reversible placeholders for content sent to language models;
//! - `given`: entities decided beforehand (a reviewed set) in place of detection;
//! - `check`: whether a masked value leaks, lost its format or fails its checksum.

pub mod check;
pub mod given;
pub mod html;
pub mod identity;
pub mod keyed;
pub mod operator;
pub mod propagate;
pub mod sanitize;
mod seeded;
pub mod structured;
pub mod surrogate;
pub mod vault;

use obscura_detection::entity_type::EntityType;
use obscura_detection::entity_type::names;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use identity::{PersonName, match_person, normalized};
use keyed::{HashOptions, KeyError, ValueCipher, keyed_hash};
use obscura_detection::detect::{Detection, SkippedRecognizer};
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use operator::{MaskOptions, Operator, Template, generalize, mask};
use vault::{Vault, VaultEntry, VaultError, VaultKeys};

/// Anonymization levels: BASIC masks, INTERMEDIATE gives consistent aliases with category
/// prefixes (`PERSONA-001`), ADVANCED gives surrogates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Basic,
    Intermediate,
    Advanced,
}

/// Which operator applies to which entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// For types without their own operator.
    pub default: Operator,
    /// By canonical entity type.
    #[serde(default)]
    pub by_entity: BTreeMap<String, Operator>,
}

impl Policy {
    /// One operator for every type.
    pub fn uniform(operator: Operator) -> Policy {
        Policy {
            default: operator,
            by_entity: BTreeMap::new(),
        }
    }

    /// The policy of a level.
    pub fn level(level: Level) -> Policy {
        Policy::uniform(match level {
            Level::Basic => Operator::Mask(MaskOptions::default()),
            Level::Intermediate => Operator::Replace {
                template: Template::parse("prefixed").unwrap_or_default(),
            },
            Level::Advanced => Operator::Surrogate,
        })
    }

    pub fn operator_for(&self, entity_type: &str) -> &Operator {
        self.by_entity.get(entity_type).unwrap_or(&self.default)
    }
}

/// Secrets and settings a scope brings to the operators. Its `Debug` shows no key.
#[derive(Clone)]
pub struct ScopeSecrets {
    /// The tenant's or project's secret for keyed hashes and surrogate seeds.
    pub hash_key: Vec<u8>,
    /// For the encrypt operator; it refuses to run without one.
    pub cipher: Option<ValueCipher>,
    /// Days every date of the scope moves by, for date surrogates; never 0.
    pub date_shift_days: i64,
    /// HMAC-SHA256 keyed with `hash_key` once: a surrogate's seed then costs two hash
    /// blocks instead of four.
    seed_key: SeedKey,
}

/// A keyed HMAC state.
#[derive(Clone)]
struct SeedKey(hmac::Hmac<sha2::Sha256>);

impl std::fmt::Debug for ScopeSecrets {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ScopeSecrets")
            .field("cipher", &self.cipher.is_some())
            .field("date_shift_days", &self.date_shift_days)
            .finish_non_exhaustive()
    }
}

impl ScopeSecrets {
    /// Secrets from a hash key; the date shift is derived from it (between 30 and 365 days,
    /// forward or back).
    pub fn new(hash_key: &[u8]) -> ScopeSecrets {
        let digest = keyed::hmac_sha256(hash_key, b"obscura date shift");
        let magnitude = 30 + i64::from(u16::from_le_bytes([digest[0], digest[1]]) % 336);
        let sign = if digest[2] & 1 == 0 { 1 } else { -1 };
        ScopeSecrets {
            hash_key: hash_key.to_vec(),
            cipher: None,
            date_shift_days: sign * magnitude,
            seed_key: SeedKey(keyed::keyed_hmac_sha256(hash_key)),
        }
    }

    /// HMAC-SHA256 of `data` under `hash_key`, from the state keyed once.
    pub(crate) fn seed_digest(&self, data: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = self.seed_key.0.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Secrets with random keys, for a scope that lives as long as one request.
    pub fn ephemeral() -> ScopeSecrets {
        let mut key = [0_u8; 32];
        rand::fill(&mut key);
        ScopeSecrets::new(&key)
    }
}

/// A scope of consistent replacements: its vault, keys and language.
pub struct Scope<'a> {
    pub vault: &'a mut dyn Vault,
    pub keys: &'a VaultKeys,
    pub secrets: &'a ScopeSecrets,
    /// ISO 639-1 code; category labels and surrogates follow it.
    pub language: String,
}

/// One replacement made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replacement {
    pub entity_type: EntityType,
    /// Code-point offsets in the input, end exclusive.
    pub start: usize,
    pub end: usize,
    /// Code-point offsets of the replacement in the output.
    pub output_start: usize,
    pub output_end: usize,
    /// The operator that ran (a fallback's name when the chosen one does not cover the type).
    pub operator: &'static str,
    /// The entity's alias in the scope (`PERSONA-001`).
    pub alias: String,
}

/// An original value held in memory for a check (the documents' leak check); it is never
/// serialized, and printing it shows nothing of the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Original(String);

impl Original {
    pub fn new(value: String) -> Original {
        Original(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Original {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Original(…)")
    }
}

/// Anonymized text and what was replaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anonymized {
    pub text: String,
    pub replacements: Vec<Replacement>,
    /// Recognizers the detection behind it went without (only when its options allowed
    /// skipping); empty when the detections were given.
    pub skipped: Vec<SkippedRecognizer>,
}

/// Why anonymization failed.
#[derive(Debug, thiserror::Error)]
pub enum AnonymizeError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("detection {index} ({start}..{end}) lies outside the text of {length} characters")]
    SpanOutOfRange {
        index: usize,
        start: usize,
        end: usize,
        length: usize,
    },
    #[error(
        "the text at {location} is not the text that was detected (the file or the reader changed); detect the document again"
    )]
    Stale { location: String },
}

impl ErrorClass for AnonymizeError {
    fn kind(&self) -> ErrorKind {
        match self {
            AnonymizeError::Key(KeyError::Missing(_) | KeyError::WrongLength { .. }) => ErrorKind::Unsupported,
            AnonymizeError::Key(KeyError::NotDecryptable) | AnonymizeError::SpanOutOfRange { .. } => ErrorKind::Invalid,
            AnonymizeError::Vault(_) => ErrorKind::Internal,
            AnonymizeError::Stale { .. } => ErrorKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AnonymizeError::Key(KeyError::Missing(_)) => "key_not_configured",
            AnonymizeError::Key(KeyError::WrongLength { .. }) => "key_invalid",
            AnonymizeError::Key(KeyError::NotDecryptable) => "not_decryptable",
            AnonymizeError::Vault(_) => "vault_error",
            AnonymizeError::SpanOutOfRange { .. } => "span_out_of_range",
            AnonymizeError::Stale { .. } => "detection_stale",
        }
    }
}

/// The category label of an entity type in a language, for `PERSONA-001`.
pub fn category_label<'a>(entity_type: &'a str, language: &str) -> &'a str {
    let spanish = language == "es";
    match entity_type {
        names::PERSON if spanish => "PERSONA",
        names::PERSON => "PERSON",
        names::EMAIL_ADDRESS => "EMAIL",
        names::PHONE_NUMBER if spanish => "TELEFONO",
        names::PHONE_NUMBER => "PHONE",
        names::LOCATION if spanish => "LUGAR",
        names::LOCATION => "LOCATION",
        names::ADDRESS if spanish => "DIRECCION",
        names::ADDRESS => "ADDRESS",
        names::ORGANIZATION if spanish => "ORGANIZACION",
        names::ORGANIZATION => "ORGANIZATION",
        names::DATE_TIME | names::DATE_OF_BIRTH if spanish => "FECHA",
        names::DATE_TIME | names::DATE_OF_BIRTH => "DATE",
        names::AGE if spanish => "EDAD",
        names::AGE => "AGE",
        names::POSTAL_CODE if spanish => "CP",
        names::POSTAL_CODE => "POSTCODE",
        names::ES_NIF => "DNI",
        names::ES_NIE => "NIE",
        names::CREDIT_CARD if spanish => "TARJETA",
        names::CREDIT_CARD => "CARD",
        names::IBAN_CODE => "IBAN",
        names::MEDICAL_RECORD_NUMBER if spanish => "HISTORIA",
        names::MEDICAL_RECORD_NUMBER => "MRN",
        other => other,
    }
}

impl Scope<'_> {
    /// The original sealed for the vault, or nothing when the vault keeps no originals.
    fn seal(&self, value: &str) -> Result<vault::SealedValue, AnonymizeError> {
        if self.vault.outlives_request() {
            Ok(self.keys.seal(value)?)
        } else {
            Ok(vault::SealedValue {
                key_id: String::new(),
                sealed: String::new(),
            })
        }
    }

    /// The vault entry of a value, found by its normalized form or, for people, by the
    /// name-variant rule; created when new.
    pub fn entry(&mut self, entity_type: &str, value: &str) -> Result<VaultEntry, AnonymizeError> {
        let stored = self.vault.outlives_request();
        let normalized = normalized(entity_type, value);
        let lookup = if stored {
            self.keys.lookup(entity_type, &normalized)
        } else {
            let mut lookup = String::with_capacity(entity_type.len() + 1 + normalized.len());
            lookup.push_str(entity_type);
            lookup.push('\u{0}');
            lookup.push_str(&normalized);
            lookup
        };
        if let Some(entry) = self.vault.find(&lookup)? {
            return Ok(entry);
        }
        let tokens = (entity_type == EntityType::PERSON).then(|| {
            let tokens = PersonName::parse(value).tokens();
            if stored {
                tokens.keyed(self.keys.lookup_key())
            } else {
                tokens
            }
        });
        if let Some(tokens) = &tokens {
            let people = self.vault.people()?;
            let names: Vec<_> = people
                .iter()
                .map(|entry| entry.name.clone().unwrap_or_default())
                .collect();
            if let Some(index) = match_person(tokens, &names) {
                // A variant: stored under its own lookup with the person's number, without
                // name tokens, so that it resolves the same way when more people are known.
                let person = &people[index];
                let variant = VaultEntry {
                    lookup,
                    category: person.category.clone(),
                    number: person.number,
                    alias: person.alias.clone(),
                    original: self.seal(value)?,
                    name: None,
                };
                return Ok(self.vault.insert(variant)?);
            }
        }
        // Types that share a label ("FECHA" for dates and dates of birth) share its numbers,
        // so that two different values never get the same alias.
        let mut number = 1;
        for sibling in label_siblings(entity_type) {
            number = number.max(self.vault.count(sibling)? + 1);
        }
        let alias = format!("{}-{number:03}", category_label(entity_type, &self.language));
        let entry = VaultEntry {
            lookup,
            category: entity_type.to_owned(),
            number,
            alias,
            original: self.seal(value)?,
            name: tokens,
        };
        Ok(self.vault.insert(entry)?)
    }
}

/// The entity types whose category label is the same as `entity_type`'s in some language.
fn label_siblings(entity_type: &str) -> Vec<&str> {
    match entity_type {
        names::DATE_TIME | names::DATE_OF_BIRTH => vec![names::DATE_TIME, names::DATE_OF_BIRTH],
        other => vec![other],
    }
}

/// Replaces every detection in `text` as `policy` says, consistently within `scope`.
///
/// Detections must not overlap (the detector's output never does); a detection overlapping
/// an earlier one is skipped. Their byte and code-point offsets must agree. People are
/// resolved longest mention first, so that "Sr. Pérez" finds "Juan Pérez García" even when
/// it comes first in the text.
pub fn anonymize_text(
    text: &str,
    detections: &[Detection],
    policy: &Policy,
    scope: &mut Scope<'_>,
) -> Result<Anonymized, AnonymizeError> {
    let mut order: Vec<usize> = (0..detections.len()).collect();
    order.sort_by_key(|&index| (detections[index].byte_start, detections[index].byte_end));
    let out_of_range = |index: usize| AnonymizeError::SpanOutOfRange {
        index,
        start: detections[index].start,
        end: detections[index].end,
        length: text.chars().count(),
    };
    // Spans are taken by their byte offsets; their code-point offsets are checked against
    // them on the way, so the two can never disagree in the report.
    let mut kept: Vec<usize> = Vec::with_capacity(order.len());
    let mut covered = 0;
    for index in order {
        let detection = &detections[index];
        if detection.byte_end > text.len()
            || detection.byte_start > detection.byte_end
            || !text.is_char_boundary(detection.byte_start)
            || !text.is_char_boundary(detection.byte_end)
        {
            return Err(out_of_range(index));
        }
        if detection.byte_start >= covered && detection.byte_start < detection.byte_end {
            covered = detection.byte_end;
            kept.push(index);
        }
    }
    let value_of = |detection: &Detection| -> &str { &text[detection.byte_start..detection.byte_end] };

    // Entries first, longest person mentions first.
    let mut resolution: Vec<usize> = kept.clone();
    resolution.sort_by_key(|&index| {
        let detection = &detections[index];
        let words = if detection.entity_type == EntityType::PERSON {
            value_of(detection).split_whitespace().count()
        } else {
            0
        };
        (std::cmp::Reverse(words), detection.byte_start)
    });
    let mut entries: Vec<Option<VaultEntry>> = vec![None; detections.len()];
    for index in resolution {
        let detection = &detections[index];
        entries[index] = Some(scope.entry(&detection.entity_type, value_of(detection))?);
    }

    let mut out = String::with_capacity(text.len());
    // Code points read from the input, and written to the output.
    let mut input_length = 0;
    let mut output_length = 0;
    let mut position = 0;
    let mut replacements = Vec::with_capacity(kept.len());
    let mut surrogates: HashMap<(&str, &str, u64), String> = HashMap::new();
    for index in kept {
        let detection = &detections[index];
        let before = &text[position..detection.byte_start];
        let before_length = before.chars().count();
        let value = value_of(detection);
        let value_length = value.chars().count();
        if input_length + before_length != detection.start || detection.start + value_length != detection.end {
            return Err(out_of_range(index));
        }
        input_length += before_length + value_length;
        output_length += before_length;
        out.push_str(before);
        let Some(entry) = &entries[index] else {
            continue;
        };
        let operator = policy.operator_for(&detection.entity_type);
        // A surrogate is drawn and checked once per value in a text; the other operators
        // cost less than the lookup, and encryption must not repeat a nonce.
        let (replacement, operator) = if matches!(operator, Operator::Surrogate) {
            let key = (detection.entity_type.as_str(), value, entry.number);
            match surrogates.get(&key) {
                Some(replacement) => (replacement.clone(), "surrogate"),
                None => {
                    let made = apply(operator, &detection.entity_type, value, entry, scope)?;
                    surrogates.insert(key, made.0.clone());
                    made
                }
            }
        } else {
            apply(operator, &detection.entity_type, value, entry, scope)?
        };
        let replacement_length = replacement.chars().count();
        replacements.push(Replacement {
            entity_type: detection.entity_type.clone(),
            start: detection.start,
            end: detection.end,
            output_start: output_length,
            output_end: output_length + replacement_length,
            operator,
            alias: entry.alias.clone(),
        });
        out.push_str(&replacement);
        output_length += replacement_length;
        position = detection.byte_end;
    }
    out.push_str(&text[position..]);
    Ok(Anonymized {
        text: out,
        replacements,
        skipped: Vec::new(),
    })
}

/// Runs one operator on one value; returns the replacement and the operator that made it.
pub fn apply(
    operator: &Operator,
    entity_type: &str,
    value: &str,
    entry: &VaultEntry,
    scope: &Scope<'_>,
) -> Result<(String, &'static str), AnonymizeError> {
    Ok(match operator {
        Operator::Replace { template } => {
            let hash6 = if template.as_str().contains("{hash6}") {
                keyed_hash(
                    &scope.secrets.hash_key,
                    &format!("{entity_type}\u{0}{}", entry.number),
                    &HashOptions {
                        length: Some(6),
                        ..HashOptions::default()
                    },
                )?
                .to_uppercase()
            } else {
                String::new()
            };
            let label = category_label(entity_type, &scope.language);
            (template.render(entity_type, label, entry.number, &hash6), "replace")
        }
        Operator::Mask(options) => (mask(value, options), "mask"),
        Operator::Remove => (String::new(), "remove"),
        Operator::Tag => (format!("<{entity_type}>"), "tag"),
        Operator::Hash(options) => (
            keyed_hash(&scope.secrets.hash_key, &normalized(entity_type, value), options)?,
            "hash",
        ),
        Operator::Encrypt { deterministic } => {
            let cipher = scope.secrets.cipher.as_ref().ok_or(KeyError::Missing("encryption"))?;
            (cipher.encrypt(value, *deterministic), "encrypt")
        }
        Operator::Surrogate => (
            surrogate::surrogate(entity_type, value, entry.number, &scope.language, scope.secrets),
            "surrogate",
        ),
        Operator::Generalize(options) => match generalize(entity_type, value, options, &scope.language) {
            Some(general) => (general, "generalize"),
            // Types generalization does not cover are tagged, never left as they were.
            None => (format!("<{entity_type}>"), "tag"),
        },
    })
}

/// Decrypts a value the encrypt operator produced.
pub fn decrypt_value(secrets: &ScopeSecrets, encrypted: &str) -> Result<String, AnonymizeError> {
    let cipher = secrets.cipher.as_ref().ok_or(KeyError::Missing("encryption"))?;
    Ok(cipher.decrypt(encrypted)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault::MemoryVault;

    fn detection(text: &str, value: &str, entity_type: &str, nth: usize) -> Detection {
        let byte_start = text.match_indices(value).nth(nth).map(|(index, _)| index).unwrap();
        let start = text[..byte_start].chars().count();
        Detection {
            entity_type: entity_type.into(),
            start,
            end: start + value.chars().count(),
            byte_start,
            byte_end: byte_start + value.len(),
            score: 0.9,
            recognizer: "test".into(),
            explanation: None,
        }
    }

    #[test]
    fn the_seed_key_is_the_hash_key_keyed_once() {
        let secrets = ScopeSecrets::new(b"tenant secret");
        assert_eq!(
            secrets.seed_digest(b"surrogate"),
            keyed::hmac_sha256(b"tenant secret", b"surrogate")
        );
        let shown = format!("{secrets:?}");
        assert!(
            !shown.contains("116, 101") && shown.contains("date_shift_days"),
            "{shown}"
        );
    }

    #[test]
    fn an_original_never_prints() {
        let original = Original::new("Ana Ruiz".into());
        assert_eq!(format!("{original:?}"), "Original(…)");
        assert_eq!(original.expose(), "Ana Ruiz");
    }

    #[test]
    fn types_sharing_a_label_never_share_an_alias() {
        let text = "Nacido el 10/10/1963, ingresa el 17/06/2016.";
        let detections = [
            detection(text, "10/10/1963", "DATE_OF_BIRTH", 0),
            detection(text, "17/06/2016", "DATE_TIME", 0),
        ];
        let policy = Policy::level(Level::Intermediate);
        let result = run(text, &detections, &policy, &mut MemoryVault::new(), "es");
        assert_eq!(result.text, "Nacido el FECHA-001, ingresa el FECHA-002.");
    }

    fn run(
        text: &str,
        detections: &[Detection],
        policy: &Policy,
        vault: &mut MemoryVault,
        language: &str,
    ) -> Anonymized {
        let keys = VaultKeys::new("k1", &[3; 32]).unwrap();
        let mut secrets = ScopeSecrets::new(b"project secret for tests");
        secrets.cipher = Some(ValueCipher::new(&[5; 32]).unwrap());
        let mut scope = Scope {
            vault,
            keys: &keys,
            secrets: &secrets,
            language: language.into(),
        };
        anonymize_text(text, detections, policy, &mut scope).unwrap()
    }

    const TEXT: &str = "El Sr. Pérez acudió. Juan Pérez García (DNI 12345678Z) y María Pérez López llamaron al 612 345 678; Pérez García, Juan volvió al 612-345-678.";

    fn text_detections() -> Vec<Detection> {
        vec![
            detection(TEXT, "Sr. Pérez", "PERSON", 0),
            detection(TEXT, "Juan Pérez García", "PERSON", 0),
            detection(TEXT, "12345678Z", "ES_NIF", 0),
            detection(TEXT, "María Pérez López", "PERSON", 0),
            detection(TEXT, "612 345 678", "PHONE_NUMBER", 0),
            detection(TEXT, "Pérez García, Juan", "PERSON", 0),
            detection(TEXT, "612-345-678", "PHONE_NUMBER", 0),
        ]
    }

    #[test]
    fn aliases_are_consistent_and_name_variants_share_one() {
        let policy = Policy::level(Level::Intermediate);
        let mut vault = MemoryVault::new();
        let result = run(TEXT, &text_detections(), &policy, &mut vault, "es");
        assert_eq!(
            result.text,
            "El PERSONA-003 acudió. PERSONA-001 (DNI DNI-001) y PERSONA-002 llamaron al TELEFONO-001; PERSONA-001 volvió al TELEFONO-001."
        );
        // "Sr. Pérez" fits two people, so it stays apart.
        assert_eq!(result.replacements[0].alias, "PERSONA-003");
        // Offsets in the output point at the replacements.
        let output: Vec<char> = result.text.chars().collect();
        for replacement in &result.replacements {
            let written: String = output[replacement.output_start..replacement.output_end]
                .iter()
                .collect();
            assert_eq!(written, replacement.alias);
        }
        // The same vault gives the same output again.
        assert_eq!(
            run(TEXT, &text_detections(), &policy, &mut vault, "es").text,
            result.text
        );
        // Originals are sealed in the vault, never stored in clear.
        assert!(
            vault
                .entries()
                .iter()
                .all(|entry| !entry.original.sealed.contains("Juan"))
        );
    }

    #[test]
    fn a_short_form_alone_joins_the_one_person_it_fits() {
        let text = "Juan Pérez García ingresó. El Sr. Pérez fue dado de alta.";
        let detections = vec![
            detection(text, "Juan Pérez García", "PERSON", 0),
            detection(text, "Sr. Pérez", "PERSON", 0),
        ];
        let result = run(
            text,
            &detections,
            &Policy::uniform(Operator::Replace {
                template: Template::default(),
            }),
            &mut MemoryVault::new(),
            "es",
        );
        assert_eq!(result.text, "<PERSON_1> ingresó. El <PERSON_1> fue dado de alta.");
    }

    #[test]
    fn operators_replace_every_detected_value() {
        let operators = [
            Operator::Replace {
                template: Template::default(),
            },
            Operator::Replace {
                template: Template::parse("masking_engine").unwrap(),
            },
            Operator::Mask(MaskOptions::default()),
            Operator::Remove,
            Operator::Tag,
            Operator::Hash(HashOptions::default()),
            Operator::Encrypt { deterministic: true },
            Operator::Encrypt { deterministic: false },
            Operator::Surrogate,
            Operator::Generalize(operator::GeneralizeOptions::default()),
        ];
        let detections = text_detections();
        for operator in operators {
            let result = run(
                TEXT,
                &detections,
                &Policy::uniform(operator.clone()),
                &mut MemoryVault::new(),
                "es",
            );
            for value in ["Juan", "García", "López", "12345678", "612 345 678", "612-345-678"] {
                assert!(
                    !result.text.contains(value),
                    "{} left {value:?}: {}",
                    operator.name(),
                    result.text
                );
            }
            assert_eq!(result.replacements.len(), detections.len());
        }
    }

    #[test]
    fn encryption_needs_a_key_and_decrypts_back() {
        let text = "DNI 12345678Z";
        let detections = vec![detection(text, "12345678Z", "ES_NIF", 0)];
        let keys = VaultKeys::new("k1", &[3; 32]).unwrap();
        let mut secrets = ScopeSecrets::new(b"project secret for tests");
        let mut vault = MemoryVault::new();
        let policy = Policy::uniform(Operator::Encrypt { deterministic: true });
        let mut scope = Scope {
            vault: &mut vault,
            keys: &keys,
            secrets: &secrets,
            language: "es".into(),
        };
        let error = anonymize_text(text, &detections, &policy, &mut scope).unwrap_err();
        assert_eq!(error.code(), "key_not_configured");

        secrets.cipher = Some(ValueCipher::new(&[5; 32]).unwrap());
        let mut scope = Scope {
            vault: &mut vault,
            keys: &keys,
            secrets: &secrets,
            language: "es".into(),
        };
        let result = anonymize_text(text, &detections, &policy, &mut scope).unwrap();
        let encrypted = result.text.trim_start_matches("DNI ");
        assert_eq!(decrypt_value(&secrets, encrypted).unwrap(), "12345678Z");
    }

    #[test]
    fn spans_outside_the_text_are_refused_and_overlaps_skipped() {
        let text = "Ana García";
        let mut outside = detection(text, "García", "PERSON", 0);
        outside.end = 40;
        outside.byte_end = 41;
        let keys = VaultKeys::new("k1", &[3; 32]).unwrap();
        let secrets = ScopeSecrets::new(b"project secret for tests");
        let mut vault = MemoryVault::new();
        let mut scope = Scope {
            vault: &mut vault,
            keys: &keys,
            secrets: &secrets,
            language: "es".into(),
        };
        let policy = Policy::uniform(Operator::Tag);
        let error = anonymize_text(text, &[outside], &policy, &mut scope).unwrap_err();
        assert_eq!(error.code(), "span_out_of_range");
        let overlapping = [
            detection(text, "Ana García", "PERSON", 0),
            detection(text, "García", "PERSON", 0),
        ];
        let result = anonymize_text(text, &overlapping, &policy, &mut scope).unwrap();
        assert_eq!(result.text, "<PERSON>");
        assert_eq!(result.replacements.len(), 1);
    }
}
