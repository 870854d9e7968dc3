//! Phone numbers, validated against libphonenumber's metadata (the `phonenumber` crate).
//!
//! Candidates are digit runs with the separators phone numbers use. A number written with
//! its country code is checked as is; others are checked in the region of the text's
//! language first, then in other common regions, scoring lower the further the guess.

use crate::entity_type::EntityType;
use crate::entity_type::names;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use phonenumber::country::Id;
use regex::Regex;

use crate::context::{ContextWords, apply};
use crate::recognizer::{
    Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo, RecognizerKind, ValidatorOutcome,
};
use crate::text::AnalyzedText;

#[allow(clippy::expect_used)]
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    // A fixed pattern; it compiles or the tests fail.
    Regex::new(r"(?:\+|(?-u:\b)00)?\(?[0-9][0-9 ().\-/]{5,20}[0-9](?:\s?(?:x|ext\.?|extension)\s?[0-9]{1,6})?(?-u:\b)")
        .expect("the phone pattern compiles")
});

/// Scores by how the number validated. Only a number valid with its country code passes
/// the default threshold alone; the others need a context word such as "phone".
const INTERNATIONAL_SCORE: f32 = 0.85;
const HOME_REGION_SCORE: f32 = 0.6;
/// A number with a country code and a plausible length that libphonenumber does not know
/// as valid (new ranges, fictional numbers, typos): still most likely a phone number.
const INTERNATIONAL_POSSIBLE_SCORE: f32 = 0.6;
const OTHER_REGION_SCORE: f32 = 0.4;
/// Fewest digits in a phone number we report.
const MIN_DIGITS: usize = 7;
/// Most digits in a phone number with its country code and an extension.
const MAX_DIGITS: usize = 18;

/// Regions tried after the language's own, most common first.
const OTHER_REGIONS: &[Id] = &[
    Id::US,
    Id::GB,
    Id::ES,
    Id::DE,
    Id::FR,
    Id::IT,
    Id::NL,
    Id::BE,
    Id::CH,
    Id::AT,
    Id::SE,
    Id::NO,
    Id::DK,
    Id::FI,
    Id::PL,
    Id::PT,
    Id::IE,
    Id::AU,
    Id::CA,
    Id::MX,
    Id::AR,
    Id::CO,
    Id::CL,
    Id::BR,
    Id::IN,
    Id::ZA,
];

const CONTEXT: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "mobile",
    "cell",
    "fax",
    "call",
    "calling",
    "desk",
    "office",
    "contact",
    "number",
    "whatsapp",
    "sms",
    "text",
    "message",
    "messages",
    "answering",
    "registered",
    "reach",
    "dial",
    "ring",
    "teléfono",
    "telefono",
    "móvil",
    "movil",
    "llamar",
    "llame",
    "llamadas",
    "contacto",
    "número",
    "celular",
    "fijo",
    "mensaje",
    "mensajes",
];

/// Words that say a number is some other identifier.
const NEGATIVE_CONTEXT: &[&str] = &[
    "license",
    "licence",
    "passport",
    "pasaporte",
    "licencia",
    "account",
    "cuenta",
    "ssn",
    "iban",
    "invoice",
    "factura",
    "zip",
    "postal",
    "dni",
    "nif",
    "nie",
    "nss",
    "expediente",
    "case",
    "nhc",
    "nass",
    "nhs",
    "mrn",
    "nino",
    "historia",
];

/// The region whose numbering plan a language most often means.
pub fn home_region(language: &str) -> Id {
    match language {
        "es" => Id::ES,
        "de" => Id::DE,
        "fr" => Id::FR,
        "it" => Id::IT,
        "pt" => Id::PT,
        "nl" => Id::NL,
        _ => Id::US,
    }
}

/// Finds phone numbers that libphonenumber accepts as valid.
#[derive(Debug)]
pub struct PhoneRecognizer {
    info: RecognizerInfo,
    context: ContextWords,
    negative_context: ContextWords,
    memo: Mutex<HashMap<(String, bool, String), Option<f32>>>,
}

/// Compiled metadata patterns kept by libphonenumber's metadata. Its own cache holds 100,
/// and checking numbers against a few dozen regions recompiles patterns on every call
/// once that is full.
const METADATA_REGEX_CACHE: usize = 4096;

static ENLARGE_METADATA_CACHE: LazyLock<()> = LazyLock::new(|| {
    let cache = phonenumber::metadata::DATABASE.cache();
    let mut guard = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *guard = regex_cache::RegexCache::new(METADATA_REGEX_CACHE);
    drop(guard);
    // libphonenumber compiles a region's patterns the first time it checks a number there,
    // which costs about a millisecond per region: done here, once per process, rather than
    // inside the first requests. An invalid number makes it compile every number type.
    for region in OTHER_REGIONS {
        for sample in WARM_UP_NUMBERS {
            let _ = phonenumber::parse(Some(*region), sample).map(|number| phonenumber::is_valid(&number));
        }
    }
});

/// Numbers checked in every common region at start: a too-short one, one of the usual
/// length and a long one, so that each numbering plan's patterns are compiled.
const WARM_UP_NUMBERS: &[&str] = &["0123456", "912 345 678", "0 1234 567 890"];

/// Validation results by candidate text, so repeated numbers are parsed once; cleared
/// when it reaches this many entries.
const MEMO_ENTRIES: usize = 65_536;

impl Default for PhoneRecognizer {
    fn default() -> PhoneRecognizer {
        LazyLock::force(&ENLARGE_METADATA_CACHE);
        let mut settings = BTreeMap::new();
        settings.insert("validator".into(), "libphonenumber".into());
        settings.insert("context".into(), CONTEXT.join(", "));
        settings.insert("negative_context".into(), NEGATIVE_CONTEXT.join(", "));
        settings.insert("min_digits".into(), MIN_DIGITS.to_string());
        settings.insert("max_digits".into(), MAX_DIGITS.to_string());
        PhoneRecognizer {
            info: RecognizerInfo {
                name: "default/phone".into(),
                kind: RecognizerKind::Phone,
                entities: vec![names::PHONE_NUMBER.into()],
                languages: vec!["any".into()],
                description: "Phone numbers valid in libphonenumber's metadata, in the language's region or another."
                    .into(),
                settings,
            },
            context: ContextWords::new(&CONTEXT.iter().map(|word| (*word).to_owned()).collect::<Vec<_>>()),
            negative_context: ContextWords::new(
                &NEGATIVE_CONTEXT
                    .iter()
                    .map(|word| (*word).to_owned())
                    .collect::<Vec<_>>(),
            ),
            memo: Mutex::new(HashMap::new()),
        }
    }
}

/// Whether a candidate is worth parsing: it has a phone number's count of digits and is
/// not written as a calendar date ("22/08/2015", "1.2.1990"), which no numbering plan
/// formats that way.
fn plausible(candidate: &str) -> bool {
    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
    (MIN_DIGITS..=MAX_DIGITS).contains(&digits) && !date_shaped(candidate)
}

/// Day, month and year (either order of day and month) split by one repeated `/`, `.` or `-`.
fn date_shaped(candidate: &str) -> bool {
    let Some(separator) = candidate.chars().find(|character| matches!(character, '/' | '.' | '-')) else {
        return false;
    };
    let parts: Vec<&str> = candidate.split(separator).collect();
    let [first, second, year] = parts.as_slice() else {
        return false;
    };
    let number = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        (lengths.contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let (Some(first), Some(second), Some(_)) = (number(first, 1..=2), number(second, 1..=2), number(year, 2..=4))
    else {
        return false;
    };
    let day_month = (1..=31).contains(&first) && (1..=12).contains(&second);
    let month_day = (1..=12).contains(&first) && (1..=31).contains(&second);
    day_month || month_day
}

/// Whether a candidate is a street number, then a five-digit postal code and its town
/// ("Avda. Gaspar Aguilar, 90 - 46017 Valencia", "C/ Haro, 51-13. 46022 Valencia"), which
/// together have a phone number's count of digits: the last group has five digits and a
/// capitalized word follows. No national plan writes a number that way.
fn street_number_and_postal_code(candidate: &str, after: &str) -> bool {
    if candidate.starts_with('+') || candidate.starts_with("00") {
        return false;
    }
    let is_digit = |character: char| character.is_ascii_digit();
    // The last group of digits, and what separates it from the digits before.
    let code_start = candidate.trim_end_matches(is_digit).len();
    let code = &candidate[code_start..];
    let before_code = &candidate[..code_start];
    let separator = &before_code[before_code
        .trim_end_matches(|character: char| !is_digit(character))
        .len()..];
    let first = candidate
        .split(|character: char| !is_digit(character))
        .next()
        .unwrap_or("");
    let mut after = after.chars();
    // A comma, dash or full stop before the postal code, never spaces alone ("98765 43210",
    // "0341 12345" are phones), and a street number of at most four digits.
    (1..=4).contains(&first.len())
        && first.len() < candidate.len()
        && code.len() == 5
        && separator.contains([',', '-', '.'])
        && after.next().is_some_and(|character| character == ' ')
        && after.next().is_some_and(char::is_uppercase)
}

/// How well a candidate validates: the score, or `None` if it is not a phone number.
/// Other regions are tried only when `try_other_regions`: such numbers score below the
/// threshold without context, so they are not worth the parsing otherwise.
fn validate(candidate: &str, language: &str, try_other_regions: bool) -> Option<f32> {
    if !plausible(candidate) {
        return None;
    }
    let international = candidate.starts_with('+') || candidate.starts_with("00");
    if international {
        let normalized = candidate
            .strip_prefix("00")
            .map_or_else(|| candidate.to_owned(), |rest| format!("+{rest}"));
        // "+41 (0)62 …": the national trunk prefix in parentheses is not dialled.
        let normalized = normalized.replace("(0)", "");
        let number = phonenumber::parse(None, &normalized).ok()?;
        if phonenumber::is_valid(&number) {
            return Some(INTERNATIONAL_SCORE);
        }
        let national_digits = number.national().to_string().len();
        return (7..=12)
            .contains(&national_digits)
            .then_some(INTERNATIONAL_POSSIBLE_SCORE);
    }
    let home = home_region(language);
    if phonenumber::parse(Some(home), candidate).is_ok_and(|number| phonenumber::is_valid(&number)) {
        return Some(HOME_REGION_SCORE);
    }
    if !try_other_regions {
        return None;
    }
    OTHER_REGIONS
        .iter()
        .filter(|region| **region != home)
        .any(|region| phonenumber::parse(Some(*region), candidate).is_ok_and(|number| phonenumber::is_valid(&number)))
        .then_some(OTHER_REGION_SCORE)
}

impl PhoneRecognizer {
    fn validate_memoized(&self, candidate: &str, language: &str, try_other_regions: bool) -> Option<f32> {
        let key = (candidate.to_owned(), try_other_regions, language.to_owned());
        if let Some(known) = self
            .memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return *known;
        }
        let result = validate(candidate, language, try_other_regions);
        let mut memo = self.memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if memo.len() >= MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(key, result);
        result
    }
}

impl Recognizer for PhoneRecognizer {
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

impl PhoneRecognizer {
    /// Every candidate in `text`; finding nothing is the only way this fails.
    fn candidates(&self, text: &AnalyzedText<'_>, request: &RecognitionRequest<'_>) -> Vec<Candidate> {
        let haystack = text.normalized();
        let mut out = Vec::new();
        for found in CANDIDATE.find_iter(haystack) {
            // Trim separators the pattern may have taken at the ends, and an unbalanced
            // opening parenthesis.
            let raw = found.as_str();
            let trimmed = raw.trim_end_matches([' ', '-', '.', '/', '(']);
            let leading = trimmed.len() - trimmed.trim_start_matches([' ', ')']).len();
            let trimmed = &trimmed[leading..];
            let byte_start = found.start() + leading;
            if !plausible(trimmed) {
                continue;
            }
            let start = text.char_index(byte_start);
            let end = text.char_index(byte_start + trimmed.len());
            if street_number_and_postal_code(trimmed, text.original_slice(end, (end + 2).min(text.char_len()))) {
                continue;
            }
            let window_words = text.context_window(start, end, request.context_window);
            let window: Vec<&str> = window_words.iter().map(String::as_str).collect();
            let mut context_words = self.context.find_in(&window);
            let contradicting = self.negative_context.find_in(&window);
            let Some(base_score) = self.validate_memoized(trimmed, request.language, !context_words.is_empty()) else {
                continue;
            };
            let score = apply(base_score, context_words.len(), contradicting.len());
            context_words.extend(contradicting.into_iter().map(|word| format!("-{word}")));
            out.push(Candidate {
                entity_type: EntityType::PHONE_NUMBER,
                start,
                end,
                score,
                recognizer: self.info.name.clone(),
                pattern: Some("phone".into()),
                validator: Some(ValidatorOutcome {
                    validator: "libphonenumber".into(),
                    passed: true,
                }),
                context_words,
                base_score,
                only_a_place: false,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, language: &str) -> Vec<(String, f32)> {
        let analyzed = AnalyzedText::new(text);
        let request = RecognitionRequest {
            language,
            context_window: 5,
        };
        PhoneRecognizer::default()
            .recognize(&analyzed, &request)
            .unwrap()
            .into_iter()
            .map(|candidate| {
                (
                    analyzed.original_slice(candidate.start, candidate.end).to_owned(),
                    candidate.score,
                )
            })
            .collect()
    }

    #[test]
    fn international_and_national_numbers() {
        let hits = found("Llámame al +34 612 34 56 78 o al 612 345 678.", "es");
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(hits[0].0, "+34 612 34 56 78");
        assert_eq!(hits[1].0, "612 345 678");
        let hits = found("Call (202) 555-0173 or +44 20 7946 0958", "en");
        assert_eq!(
            hits.iter().map(|hit| hit.0.as_str()).collect::<Vec<_>>(),
            ["(202) 555-0173", "+44 20 7946 0958"]
        );
    }

    #[test]
    fn numbers_that_are_not_phones_are_skipped() {
        assert!(found("Order 123456 shipped in 2019.", "en").is_empty());
        assert!(found("+34 000 00 00 00", "es").is_empty());
        assert!(found("teléfono: ingresó el 22/08/2015 y el 1.2.1990", "es").is_empty());
    }

    #[test]
    fn a_street_number_and_a_postal_code_are_not_a_phone() {
        let numbers: Vec<String> = found("Avda. Gaspar Aguilar, 90 - 46017 Valencia. Tel. 961 622 300", "es")
            .into_iter()
            .map(|(number, _)| number)
            .collect();
        assert_eq!(numbers, ["961 622 300"]);
        assert!(found("C/ José Mª Haro, 51-13. 46022 Valencia.", "es").is_empty());
        assert!(street_number_and_postal_code("51-13. 46022", " Valencia"));
        assert!(!street_number_and_postal_code("51-13. 46022", " valencia"));
        assert!(!street_number_and_postal_code("912 345 678", " Madrid"));
        assert!(!street_number_and_postal_code("+34 91 23 45678", " Madrid"));
        assert!(street_number_and_postal_code("90 - 46017", " Valencia"));
        // Spaces alone, or a long first group: a phone ("98765 43210", "0341 12345").
        assert!(!street_number_and_postal_code("0341 12345", " Fax"));
        assert!(!street_number_and_postal_code("98765 43210", " Thanks"));
    }

    #[test]
    fn only_calendar_dates_are_date_shaped() {
        for date in ["22/08/2015", "1.2.1990", "12-31-99", "31/12/2020"] {
            assert!(date_shaped(date), "{date}");
        }
        for other in [
            "12-34-5678",
            "91.555.12.12",
            "612 345 678",
            "1-800-555-0199",
            "22/08/2015/1",
            "2015/08/22",
        ] {
            assert!(!date_shaped(other), "{other}");
        }
    }

    #[test]
    fn another_identifier_s_label_lowers_the_score() {
        let hits = found("My driver's license number is 6940579", "en");
        assert!(hits.iter().all(|hit| hit.1 < 0.5), "{hits:?}");
        // A clinical record number is not a phone, though 784 123 665 could be one.
        let hits = found(
            "Apellidos: Marinez Rodriguez.\nNHC: 784123665.\nDomicilio: calle Mayor 7.",
            "es",
        );
        assert!(hits.iter().all(|hit| hit.1 < 0.5), "{hits:?}");
        let hits = found("NHC: 784123665. Teléfono: 612 345 678.", "es");
        assert!(hits.iter().any(|hit| hit.1 >= 0.5), "{hits:?}");
    }

    #[test]
    fn context_raises_the_score() {
        let plain = found("ref 612 345 678", "es");
        let with_context = found("teléfono 612 345 678", "es");
        assert!(with_context[0].1 > plain[0].1);
    }
}
