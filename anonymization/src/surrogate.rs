//! Surrogates: realistic fake values that keep the kind and the format of the original.
//!
//! A surrogate is drawn from a generator seeded with the scope's secret, the entity type
//! and the entity's number in the vault, so the same entity gets the same surrogate in
//! every text of the scope. What each type keeps:
//! - names: the language, the apparent gender, the capitalization, a title, the inverted
//!   form, and the number of given names and surnames;
//! - e-mail addresses: a local part built from a fake name, and the domain when it is a
//!   public mail provider (otherwise `example.com`);
//! - phone numbers: the country code, the first national digit and the punctuation, and the
//!   result is a valid number of the region;
//! - IBANs: the country, the length and the grouping, with valid check digits;
//! - DNI and NIE: valid control letters; cards: the brand's leading digits, the length and
//!   a valid Luhn digit; SSN, NSS, NHS and other checked ids: valid by their own rules;
//! - dates: moved by the scope's one shift, in the original format;
//! - addresses, places and organizations: the same country (Spain for Spanish text and
//!   Spanish places, the United States for English), and words such as "Hospital" or "S.L.".
//!
//! A surrogate never equals its original (compared in normalized form), never shows a long
//! piece of it (five letters or digits in a row; organizations and addresses excepted, which
//! keep words such as "Hospital" and "Calle"), and never equals a well-known
//! real or test identifier (the Luhn test cards, the Ministry's example DNI, the SSN printed
//! on wallet inserts). Names and places come from Faker's locale data (MIT license, see
//! `anonymization/surrogates/LICENSE-faker.txt`).

mod dates;
mod numbers;
mod people;
mod places;

use obscura_detection::entity_type::names;
use std::sync::LazyLock;

use dates::*;
use numbers::*;
use people::*;
use places::*;

use super::ScopeSecrets;
use super::identity::{PersonName, normalized};
use super::operator::month_name;
use super::seeded::Random;
use obscura_detection::context::fold_word;
use obscura_detection::validate::Validator;
use obscura_detection::validate::dates::{CalendarDate, NumericOrder, month_number, parse_date};
use obscura_detection::wordlists::TITLES;

/// Identifiers printed in standards, documentation and test suites, never given out.
const WELL_KNOWN: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "5555555555554444",
    "5105105105105100",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "12345678z",
    "00000000t",
    "x1234567l",
    "078051120",
    "219099999",
    "123456789",
    "es9121000418450200051332",
    "gb82west12345698765432",
    "de89370400440532013000",
    "9434765919",
];

struct Lists {
    es_male: Vec<&'static str>,
    es_female: Vec<&'static str>,
    en_male: Vec<&'static str>,
    en_female: Vec<&'static str>,
    es_surnames: Vec<&'static str>,
    en_surnames: Vec<&'static str>,
    es_provinces: Vec<&'static str>,
    en_states: Vec<&'static str>,
    es_street_prefixes: Vec<&'static str>,
    en_street_suffixes: Vec<&'static str>,
    es_countries: Vec<&'static str>,
    en_countries: Vec<&'static str>,
    /// Spanish provinces' postal-code prefixes and their capitals.
    es_capitals: Vec<(u32, &'static str)>,
}

fn lines(text: &'static str) -> Vec<&'static str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect()
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| Lists {
    es_male: lines(include_str!("../surrogates/es_male.txt")),
    es_female: lines(include_str!("../surrogates/es_female.txt")),
    en_male: lines(include_str!("../surrogates/en_male.txt")),
    en_female: lines(include_str!("../surrogates/en_female.txt")),
    es_surnames: lines(include_str!("../surrogates/es_surnames.txt")),
    en_surnames: lines(include_str!("../surrogates/en_surnames.txt")),
    es_provinces: lines(include_str!("../surrogates/es_provinces.txt")),
    en_states: lines(include_str!("../surrogates/en_states.txt")),
    es_street_prefixes: lines(include_str!("../surrogates/es_street_prefixes.txt")),
    en_street_suffixes: lines(include_str!("../surrogates/en_street_suffixes.txt")),
    es_countries: lines(include_str!("../surrogates/es_countries.txt")),
    en_countries: lines(include_str!("../surrogates/en_countries.txt")),
    es_capitals: lines(include_str!("../surrogates/es_capitals.tsv"))
        .into_iter()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (code, capital) = line.split_once('\t')?;
            Some((code.parse().ok()?, capital))
        })
        .collect(),
});

/// How many candidates are drawn before giving up on the rules.
const ATTEMPTS: usize = 32;

/// A surrogate for `value`, the entity numbered `number` of its type in the scope.
pub fn surrogate(entity_type: &str, value: &str, number: u64, language: &str, secrets: &ScopeSecrets) -> String {
    let mut seed_input = format!("surrogate\u{0}{entity_type}\u{0}{number}").into_bytes();
    seed_input.extend_from_slice(language.as_bytes());
    let digest = secrets.seed_digest(&seed_input);
    let mut random = Random::new(u64::from_le_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]));
    let original = normalized(entity_type, value);
    for _ in 0..ATTEMPTS {
        let candidate = generate(entity_type, value, language, secrets, &mut random);
        let key = normalized(entity_type, &candidate);
        let compact: String = key.chars().filter(|character| character.is_alphanumeric()).collect();
        if key != original
            && !candidate.is_empty()
            && !WELL_KNOWN.contains(&compact.as_str())
            && valid(entity_type, &candidate)
            // Nor a long piece of the original (a card sharing five digits in a row);
            // organizations and addresses keep their generic words on purpose.
            && (matches!(entity_type, names::ORGANIZATION | names::ADDRESS)
                || super::check::surviving_part(entity_type, value, &candidate).is_none())
        {
            return candidate;
        }
    }
    // No rule-abiding value (a malformed original): the type's tag, never the original.
    format!("<{entity_type}>")
}

/// Whether a surrogate passes the check of its type, for the types that have one.
fn valid(entity_type: &str, candidate: &str) -> bool {
    Validator::for_entity(entity_type).is_none_or(|validator| validator.check(candidate))
}

fn generate(entity_type: &str, value: &str, language: &str, secrets: &ScopeSecrets, random: &mut Random) -> String {
    match entity_type {
        names::PERSON => person(value, language, random),
        names::EMAIL_ADDRESS => email(value, language, random),
        names::PHONE_NUMBER => phone(value, language, random),
        names::IBAN_CODE => iban(value, random),
        names::ES_NIF | names::ES_NIE => spanish_id(value, random),
        names::CREDIT_CARD | names::IMEI => luhn_number(value, random),
        names::US_SSN => us_ssn(value, random),
        names::ES_NSS => spanish_nss(value, random),
        names::UK_NHS => uk_nhs(value, random),
        names::DATE_TIME | names::DATE_OF_BIRTH => {
            shifted_date(value, language, secrets.date_shift_days).unwrap_or_else(|| same_shape(value, random, false))
        }
        names::AGE => age(value, random),
        names::LOCATION => location(value, language, random),
        names::ADDRESS => address(value, language, random),
        names::ORGANIZATION => organization(value, language, random),
        names::POSTAL_CODE if language == "es" && value.trim().len() == 5 => spanish_town(random).0,
        names::MAC_ADDRESS | names::IP_ADDRESS if value.contains(':') => same_shape(value, random, true),
        names::IP_ADDRESS => (0..4)
            .map(|index| {
                (if index == 0 {
                    11 + random.below(212)
                } else {
                    random.below(256)
                })
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("."),
        _ => same_shape(value, random, false),
    }
}

/// Digits replaced by digits and letters by letters of the same case (or hex digits by hex
/// digits); everything else kept.
fn same_shape(value: &str, random: &mut Random, hex: bool) -> String {
    value
        .chars()
        .map(|character| {
            if character.is_ascii_digit() || (hex && character.is_ascii_hexdigit()) {
                if hex {
                    let digit = char::from_digit(random.below(16) as u32, 16).unwrap_or('0');
                    if character.is_ascii_uppercase() {
                        digit.to_ascii_uppercase()
                    } else {
                        digit
                    }
                } else {
                    char::from(b'0' + random.below(10) as u8)
                }
            } else if character.is_alphabetic() {
                let letter = char::from(b'a' + random.below(26) as u8);
                if character.is_uppercase() {
                    letter.to_ascii_uppercase()
                } else {
                    letter
                }
            } else {
                character
            }
        })
        .collect()
}

/// Writes `word` in the capitalization of `model`.
fn cased_like(word: &str, model: &str) -> String {
    let letters: Vec<char> = model.chars().filter(|character| character.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|character| character.is_uppercase()) {
        word.to_uppercase()
    } else if !letters.is_empty() && letters.iter().all(|character| character.is_lowercase()) {
        word.to_lowercase()
    } else {
        word.to_owned()
    }
}

fn pick<'a>(list: &[&'a str], random: &mut Random) -> &'a str {
    if list.is_empty() {
        return "";
    }
    list[random.below(list.len() as u64) as usize]
}

#[cfg(test)]
mod tests;
