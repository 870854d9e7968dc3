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

use std::sync::LazyLock;

use super::ScopeSecrets;
use super::identity::{PersonName, normalized};
use super::operator::month_name;
use super::seeded::Random;
use obscura_detection::context::fold_word;
use obscura_detection::gazetteer::HONORIFICS;
use obscura_detection::validate::Validator;
use obscura_detection::validate::dates::{CalendarDate, NumericOrder, month_number, parse_date};

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

/// A real Spanish town (a province's capital) and a postal code valid there.
fn spanish_town(random: &mut Random) -> (String, &'static str) {
    let capitals = &LISTS.es_capitals;
    let (province, capital) = capitals[random.below(capitals.len() as u64) as usize];
    (format!("{province:02}{:03}", 1 + random.below(2)), capital)
}

const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.es",
    "outlook.com",
    "outlook.es",
    "live.com",
    "yahoo.com",
    "yahoo.es",
    "icloud.com",
    "protonmail.com",
    "proton.me",
    "aol.com",
    "telefonica.net",
];

/// Words that say what kind of organization a name is; a surrogate keeps them.
const ORGANIZATION_WORDS: &[&str] = &[
    "hospital",
    "clinica",
    "clínica",
    "centro",
    "salud",
    "universidad",
    "universitario",
    "universitaria",
    "general",
    "instituto",
    "fundacion",
    "fundación",
    "banco",
    "colegio",
    "ayuntamiento",
    "consejeria",
    "consejería",
    "servicio",
    "unidad",
    "de",
    "del",
    "la",
    "el",
    "los",
    "las",
    "y",
    "university",
    "hospital",
    "clinic",
    "center",
    "centre",
    "medical",
    "bank",
    "school",
    "college",
    "institute",
    "foundation",
    "of",
    "the",
    "and",
    "s.l.",
    "s.a.",
    "sl",
    "sa",
    "inc",
    "inc.",
    "llc",
    "ltd",
    "ltd.",
    "plc",
    "corp",
    "corp.",
];

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
            && (matches!(entity_type, "ORGANIZATION" | "ADDRESS")
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
        "PERSON" => person(value, language, random),
        "EMAIL_ADDRESS" => email(value, language, random),
        "PHONE_NUMBER" => phone(value, language, random),
        "IBAN_CODE" => iban(value, random),
        "ES_NIF" | "ES_NIE" => spanish_id(value, random),
        "CREDIT_CARD" | "IMEI" => luhn_number(value, random),
        "US_SSN" => us_ssn(value, random),
        "ES_NSS" => spanish_nss(value, random),
        "UK_NHS" => uk_nhs(value, random),
        "DATE_TIME" | "DATE_OF_BIRTH" => {
            shifted_date(value, language, secrets.date_shift_days).unwrap_or_else(|| same_shape(value, random, false))
        }
        "AGE" => age(value, random),
        "LOCATION" => location(value, language, random),
        "ADDRESS" => address(value, language, random),
        "ORGANIZATION" => organization(value, language, random),
        "POSTAL_CODE" if language == "es" && value.trim().len() == 5 => spanish_town(random).0,
        "MAC_ADDRESS" | "IP_ADDRESS" if value.contains(':') => same_shape(value, random, true),
        "IP_ADDRESS" => (0..4)
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gender {
    Female,
    Male,
}

fn apparent_gender(given: &str, language: &str) -> Gender {
    let lists = &*LISTS;
    let listed = |list: &[&str]| list.iter().any(|name| fold_word(name) == given);
    if listed(&lists.es_female) || listed(&lists.en_female) {
        Gender::Female
    } else if listed(&lists.es_male) || listed(&lists.en_male) {
        Gender::Male
    } else if language == "es" && given.ends_with('a') {
        Gender::Female
    } else {
        Gender::Male
    }
}

fn first_name(gender: Gender, language: &str, random: &mut Random) -> &'static str {
    let lists = &*LISTS;
    let list = match (language == "es", gender) {
        (true, Gender::Female) => &lists.es_female,
        (true, Gender::Male) => &lists.es_male,
        (false, Gender::Female) => &lists.en_female,
        (false, Gender::Male) => &lists.en_male,
    };
    pick(list, random)
}

fn surname(language: &str, random: &mut Random) -> &'static str {
    let lists = &*LISTS;
    pick(
        if language == "es" {
            &lists.es_surnames
        } else {
            &lists.en_surnames
        },
        random,
    )
}

fn person(value: &str, language: &str, random: &mut Random) -> String {
    let name = PersonName::parse(value);
    let gender = name
        .given
        .first()
        .map_or(Gender::Male, |given| apparent_gender(given, language));
    let given: Vec<String> = name
        .given
        .iter()
        .map(|original| {
            // One word for one word: the lists' compound names ("Francisco Javier") give
            // their first.
            let fake = first_name(gender, language, random);
            let fake = fake.split_whitespace().next().unwrap_or(fake);
            if original.chars().count() == 1 {
                format!("{}.", fake.chars().next().unwrap_or('A'))
            } else {
                fake.to_owned()
            }
        })
        .collect();
    let surnames: Vec<String> = name
        .surnames
        .iter()
        .map(|_| surname(language, random).to_owned())
        .collect();
    let title = value
        .split_whitespace()
        .next()
        .filter(|word| HONORIFICS.contains(&fold_word(word.trim_end_matches('.')).as_str()))
        .map(|word| format!("{word} "))
        .unwrap_or_default();
    let body = if value.contains(',') && !given.is_empty() && !surnames.is_empty() {
        format!("{}, {}", surnames.join(" "), given.join(" "))
    } else {
        given.into_iter().chain(surnames).collect::<Vec<_>>().join(" ")
    };
    cased_like(&format!("{title}{body}"), value)
}

fn ascii_word(word: &str) -> String {
    fold_word(word).chars().filter(char::is_ascii_alphanumeric).collect()
}

fn email(value: &str, language: &str, random: &mut Random) -> String {
    let (local, domain) = value.rsplit_once('@').unwrap_or((value, "example.com"));
    let gender = if random.below(2) == 0 {
        Gender::Female
    } else {
        Gender::Male
    };
    let given = ascii_word(first_name(gender, language, random));
    let family = ascii_word(surname(language, random));
    let separator = if local.contains('_') {
        "_"
    } else if local.contains('.') {
        "."
    } else {
        ""
    };
    let mut fake = format!("{given}{separator}{family}");
    if local.chars().any(|character| character.is_ascii_digit()) {
        fake.push_str(&format!("{:02}", random.below(100)));
    }
    let domain = if PUBLIC_MAIL_DOMAINS.contains(&domain.to_lowercase().as_str()) {
        domain.to_owned()
    } else {
        "example.com".to_owned()
    };
    format!("{fake}@{domain}")
}

fn phone(value: &str, language: &str, random: &mut Random) -> String {
    let region = obscura_detection::phone::home_region(language);
    let parsed = phonenumber::parse(Some(region), value).ok();
    // Digits kept: a written country code, then the first national digit.
    let national_digits = parsed
        .as_ref()
        .map(|number| number.national().value().to_string().len())
        .unwrap_or(0);
    let total_digits = value.chars().filter(char::is_ascii_digit).count();
    let keep = if national_digits > 0 && national_digits <= total_digits {
        total_digits - national_digits + 1
    } else {
        1
    };
    let database = &*phonenumber::metadata::DATABASE;
    let kind = parsed.as_ref().and_then(|number| KindCheck::of(number, value));
    // Without the shortcut, the original's type (mobile, fixed line…), which its surrogate keeps.
    // An original no plan accepts has no type to keep: any valid number will do.
    let original_kind = match kind {
        Some(_) => None,
        None => parsed
            .as_ref()
            .filter(|number| phonenumber::is_valid(number))
            .map(|number| number.number_type(database)),
    };
    for _ in 0..ATTEMPTS {
        let mut seen = 0;
        let candidate: String = value
            .chars()
            .map(|character| {
                if character.is_ascii_digit() {
                    seen += 1;
                    if seen <= keep {
                        character
                    } else {
                        char::from(b'0' + random.below(10) as u8)
                    }
                } else {
                    character
                }
            })
            .collect();
        let accepted = match (&kind, &parsed) {
            (Some(kind), _) => kind.accepts(&candidate),
            (None, Some(_)) => phonenumber::parse(Some(region), &candidate).is_ok_and(|number| {
                phonenumber::is_valid(&number) && original_kind.is_none_or(|kind| number.number_type(database) == kind)
            }),
            (None, None) => true,
        };
        if accepted {
            return candidate;
        }
    }
    same_shape(value, random, false)
}

/// A phone surrogate checked against the numbering plan of its original's country, for the
/// type the original has (a mobile stays a mobile), without parsing every candidate: a
/// national number that matches the plan's general pattern and one type's pattern is valid.
struct KindCheck {
    general: &'static phonenumber::metadata::Descriptor,
    kind: &'static phonenumber::metadata::Descriptor,
    /// How many digits, at the end of the value, are the national number.
    national_length: usize,
}

impl KindCheck {
    /// `None` where the shortcut could be wrong or does not apply: a country code several
    /// regions share (the region depends on the digits drawn), a value whose last digits are
    /// not its national number (an extension), or a number neither mobile nor fixed line.
    fn of(number: &phonenumber::PhoneNumber, value: &str) -> Option<KindCheck> {
        let database = &*phonenumber::metadata::DATABASE;
        if database.region(&number.code().value())?.len() != 1 {
            return None;
        }
        let metadata = number.metadata(database)?;
        let national = number.national().to_string();
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        let general = metadata.descriptors().general();
        if !digits.ends_with(&national) || !general.is_match(&national) {
            return None;
        }
        // The two types nearly every phone in a document has, tried alone rather than all
        // the plan's types in turn.
        let kind = [metadata.descriptors().mobile(), metadata.descriptors().fixed_line()]
            .into_iter()
            .flatten()
            .find(|descriptor| descriptor.is_match(&national))?;
        Some(KindCheck {
            general,
            kind,
            national_length: national.len(),
        })
    }

    fn accepts(&self, candidate: &str) -> bool {
        let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
        let Some(national) = digits.get(digits.len().saturating_sub(self.national_length)..) else {
            return false;
        };
        self.general.is_match(national) && self.kind.is_match(national)
    }
}

fn iban(value: &str, random: &mut Random) -> String {
    let compact: Vec<char> = value
        .chars()
        .filter(|character| character.is_ascii_alphanumeric())
        .collect();
    if compact.len() < 5 {
        return same_shape(value, random, false);
    }
    let country: String = compact[..2].iter().collect::<String>().to_uppercase();
    let bban: String = compact[4..]
        .iter()
        .map(|character| {
            if character.is_ascii_digit() {
                char::from(b'0' + random.below(10) as u8)
            } else {
                char::from(b'A' + random.below(26) as u8)
            }
        })
        .collect();
    let rearranged = format!("{bban}{country}00");
    let remainder = obscura_detection::validate::checksum::mod97_alphanumeric(&rearranged).unwrap_or(0);
    let check = 98 - remainder;
    let new_compact: Vec<char> = format!("{country}{check:02}{bban}").chars().collect();
    // The original grouping.
    let mut index = 0;
    value
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                let replacement = new_compact.get(index).copied().unwrap_or(character);
                index += 1;
                if character.is_lowercase() {
                    replacement.to_ascii_lowercase()
                } else {
                    replacement
                }
            } else {
                character
            }
        })
        .collect()
}

fn spanish_id(value: &str, random: &mut Random) -> String {
    let first = value.trim().chars().next().unwrap_or('0').to_ascii_uppercase();
    let prefix_digit = match first {
        'X' => Some(0),
        'Y' => Some(1),
        'Z' => Some(2),
        _ => None,
    };
    let new_prefix = prefix_digit.map(|_| random.below(3));
    let mut digits = String::new();
    let mut out = String::with_capacity(value.len());
    let mut seen_prefix = false;
    for character in value.chars() {
        if character.is_ascii_digit() {
            let digit = char::from(b'0' + random.below(10) as u8);
            digits.push(digit);
            out.push(digit);
        } else if character.is_ascii_alphabetic() && !seen_prefix && new_prefix.is_some() && digits.is_empty() {
            seen_prefix = true;
            let letter = [b'X', b'Y', b'Z'][new_prefix.unwrap_or(0) as usize] as char;
            out.push(if character.is_lowercase() {
                letter.to_ascii_lowercase()
            } else {
                letter
            });
        } else {
            out.push(character);
        }
    }
    let number: u64 = format!(
        "{}{digits}",
        new_prefix.map(|digit| digit.to_string()).unwrap_or_default()
    )
    .parse()
    .unwrap_or(0);
    let letter = obscura_detection::validate::spain::dni_letter(number);
    // The control letter is the last letter of the original.
    match out.rfind(|character: char| character.is_ascii_alphabetic()) {
        Some(position) if position > 0 => {
            let lower = out[position..].starts_with(|character: char| character.is_lowercase());
            out.replace_range(
                position..position + 1,
                &if lower { letter.to_ascii_lowercase() } else { letter }.to_string(),
            );
            out
        }
        _ => out,
    }
}

/// Replaces the digits after the first `keep`, then fixes the last digit by Luhn.
fn luhn_number(value: &str, random: &mut Random) -> String {
    let total = value.chars().filter(char::is_ascii_digit).count();
    if total < 2 {
        return same_shape(value, random, false);
    }
    let keep = if value.trim_start().starts_with('6') { 4 } else { 2 };
    let mut digits: Vec<u8> = Vec::with_capacity(total);
    for (index, digit) in value.chars().filter(char::is_ascii_digit).enumerate() {
        digits.push(if index < keep {
            digit as u8 - b'0'
        } else {
            random.below(10) as u8
        });
    }
    let last = digits.len() - 1;
    digits[last] = 0;
    // Luhn over the payload with a zero check digit, then the digit that completes it.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    digits[last] = ((10 - sum % 10) % 10) as u8;
    let mut index = 0;
    value
        .chars()
        .map(|character| {
            if character.is_ascii_digit() {
                let digit = char::from(b'0' + digits[index]);
                index += 1;
                digit
            } else {
                character
            }
        })
        .collect()
}

fn fill_digits(value: &str, digits: &str) -> String {
    let mut supply = digits.chars();
    value
        .chars()
        .map(|character| {
            if character.is_ascii_digit() {
                supply.next().unwrap_or(character)
            } else {
                character
            }
        })
        .collect()
}

fn us_ssn(value: &str, random: &mut Random) -> String {
    let mut area = 1 + random.below(665);
    if area == 666 {
        area = 667;
    }
    let digits = format!("{area:03}{:02}{:04}", 1 + random.below(99), 1 + random.below(9999));
    fill_digits(value, &digits)
}

fn spanish_nss(value: &str, random: &mut Random) -> String {
    let province = 1 + random.below(52);
    let sequence = random.below(10_000_000);
    let control = (province * 10_000_000 + sequence) % 97;
    let count = value.chars().filter(char::is_ascii_digit).count();
    let digits = if count == 11 {
        format!("{province:02}{sequence:07}{control:02}")
    } else {
        format!("{province:02}{sequence:08}{control:02}")
    };
    fill_digits(value, &digits)
}

fn uk_nhs(value: &str, random: &mut Random) -> String {
    loop {
        let body: Vec<u64> = (0..9).map(|_| random.below(10)).collect();
        let sum: u64 = body
            .iter()
            .enumerate()
            .map(|(index, digit)| digit * (10 - index as u64))
            .sum();
        let check = (11 - sum % 11) % 11;
        if check == 10 {
            continue;
        }
        let digits: String = body.iter().map(u64::to_string).collect::<String>() + &check.to_string();
        return fill_digits(value, &digits);
    }
}

fn age(value: &str, random: &mut Random) -> String {
    let Some(start) = value.find(|character: char| character.is_ascii_digit()) else {
        return value.to_owned();
    };
    let end = value[start..]
        .find(|character: char| !character.is_ascii_digit())
        .map_or(value.len(), |end| start + end);
    let age: i64 = value[start..end].parse().unwrap_or(0);
    let delta = 1 + random.below(5) as i64;
    let fake = if age > delta && random.below(2) == 0 {
        age - delta
    } else {
        age + delta
    };
    format!("{}{fake}{}", &value[..start], &value[end..])
}

fn location(value: &str, language: &str, random: &mut Random) -> String {
    let lists = &*LISTS;
    let folded = fold_word(value.trim());
    let in_list = |list: &[&str]| list.iter().any(|entry| fold_word(entry) == folded);
    let list: &[&str] = if in_list(&lists.es_countries) {
        &lists.es_countries
    } else if in_list(&lists.en_countries) {
        &lists.en_countries
    } else if in_list(&lists.en_states) {
        &lists.en_states
    } else if in_list(&lists.es_provinces) || language == "es" {
        &lists.es_provinces
    } else {
        &lists.en_states
    };
    cased_like(pick(list, random), value)
}

fn address(value: &str, language: &str, random: &mut Random) -> String {
    let lists = &*LISTS;
    let digit_at = value.find(|character: char| character.is_ascii_digit());
    if language == "es" || digit_at.is_some_and(|position| position > 0) {
        // "Calle Mayor 5, 3º B": the street's words, then the numbers and what follows.
        let (street, rest) = value.split_at(digit_at.unwrap_or(value.len()));
        let first_word = street.split_whitespace().next().unwrap_or("");
        let known_prefix = first_word.ends_with('.')
            || first_word.contains('/')
            || lists
                .es_street_prefixes
                .iter()
                .any(|prefix| fold_word(prefix) == fold_word(first_word));
        let prefix = if known_prefix && !first_word.is_empty() {
            first_word.to_owned()
        } else {
            pick(&lists.es_street_prefixes, random).to_owned()
        };
        let name = if random.below(2) == 0 {
            format!("{} {}", first_name(Gender::Male, "es", random), surname("es", random))
        } else {
            surname("es", random).to_owned()
        };
        let trailing_space = if street.ends_with(' ') || street.ends_with(", ") {
            " "
        } else {
            ""
        };
        let separator = if street.trim_end().ends_with(',') { "," } else { "" };
        let rest = spanish_address_rest(rest, random);
        return cased_like(&format!("{prefix} {name}{separator}{trailing_space}{rest}"), street)
            .trim_end()
            .to_owned();
    }
    // "1234 Oak Street, Springfield": a number, a street name and a suffix.
    let number = 1 + random.below(9899);
    let suffix = pick(&lists.en_street_suffixes, random);
    cased_like(&format!("{number} {} {suffix}", surname("en", random)), value)
}

/// What follows a Spanish street's name ("12, 3º B, 28013 Madrid"): numbers and letters of
/// the same shape, and a place named after a postal code, or after the last comma, becomes
/// a real town with a postal code of its province.
fn spanish_address_rest(rest: &str, random: &mut Random) -> String {
    let code_at = rest.char_indices().find(|(index, _)| {
        let tail = &rest[*index..];
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        digits == 5
            && rest[..*index]
                .chars()
                .next_back()
                .is_none_or(|before| !before.is_ascii_digit())
            && tail[5..].chars().next().is_none_or(char::is_whitespace)
    });
    if let Some((at, _)) = code_at {
        let (town_code, town) = spanish_town(random);
        let after = &rest[at + 5..];
        let place_length = after
            .trim_start()
            .chars()
            .take_while(|character| *character != ',')
            .count();
        let town_text = if place_length > 0 {
            format!(" {town}")
        } else {
            String::new()
        };
        let kept: String = after.trim_start().chars().skip(place_length).collect();
        return format!(
            "{}{town_code}{town_text}{}",
            same_shape(&rest[..at], random, false),
            same_shape(&kept, random, false)
        );
    }
    if let Some((before, place)) = rest.rsplit_once(',')
        && !place.trim().is_empty()
        && place
            .chars()
            .all(|character| character.is_alphabetic() || character.is_whitespace() || character == '-')
    {
        return format!("{}, {}", same_shape(before, random, false), spanish_town(random).1);
    }
    same_shape(rest, random, false)
}

fn organization(value: &str, language: &str, random: &mut Random) -> String {
    let words: Vec<&str> = value.split_whitespace().collect();
    let generic = |word: &str| ORGANIZATION_WORDS.contains(&word.to_lowercase().as_str());
    let kept = words.iter().filter(|word| generic(word)).count();
    if kept == 0 || kept == words.len() {
        let fake = if language == "es" {
            format!("{} y {} S.L.", surname("es", random), surname("es", random))
        } else {
            format!("{} {} LLC", surname("en", random), surname("en", random))
        };
        return cased_like(&fake, value);
    }
    // Generic words stay; each run of specific words becomes one surname or place.
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut in_specific = false;
    for word in words {
        if generic(word) {
            out.push(word.to_owned());
            in_specific = false;
        } else if !in_specific {
            let fake = if random.below(2) == 0 {
                surname(language, random).to_owned()
            } else {
                location("", language, random)
            };
            out.push(cased_like(&fake, word));
            in_specific = true;
        }
    }
    out.join(" ")
}

/// The date moved by `days`, written as the original was; `None` when it is not a date.
fn shifted_date(value: &str, language: &str, days: i64) -> Option<String> {
    let order = if language == "en" {
        NumericOrder::MonthFirst
    } else {
        NumericOrder::DayFirst
    };
    let date = parse_date(value, order)?;
    let shifted = from_days(to_days(date) + days)?;
    let trimmed = value.trim();
    // ISO 8601, with whatever time follows.
    if trimmed.get(4..5) == Some("-") && trimmed.get(7..8) == Some("-") {
        return Some(format!(
            "{:04}-{:02}-{:02}{}",
            shifted.year,
            shifted.month,
            shifted.day,
            trimmed.get(10..).unwrap_or("")
        ));
    }
    let words: Vec<&str> = trimmed
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    if let Some(month_word) = words.iter().find(|word| month_number(word).is_some()) {
        // Written month: swap the numbers and the month's name, keeping everything else.
        let spanish = fold_word(month_word)
            .chars()
            .all(|character| character.is_ascii_lowercase())
            && month_name(shifted.month, "es").is_some_and(|_| language == "es" || trimmed.contains(" de "));
        let name = month_name(shifted.month, if spanish { "es" } else { "en" })?;
        let name = if month_word.len() <= 4 && !month_word.eq_ignore_ascii_case("mayo") {
            name.chars().take(3).collect::<String>()
        } else {
            name.to_owned()
        };
        let mut out = String::new();
        let mut rest = trimmed;
        while !rest.is_empty() {
            let start = rest
                .find(|character: char| character.is_alphanumeric())
                .unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest
                .find(|character: char| !character.is_alphanumeric())
                .unwrap_or(rest.len());
            let word = &rest[..end];
            if word.is_empty() {
                break;
            }
            let replaced = if month_number(word).is_some() {
                cased_like(&name, word)
            } else if word.len() == 4 && word.chars().all(|character| character.is_ascii_digit()) {
                shifted.year.to_string()
            } else if word.chars().all(|character| character.is_ascii_digit()) {
                if word.len() == 2 {
                    format!("{:02}", shifted.day)
                } else {
                    shifted.day.to_string()
                }
            } else {
                word.to_owned()
            };
            out.push_str(&replaced);
            rest = &rest[end..];
        }
        return Some(out);
    }
    // Numeric: the same separators, order and padding.
    let separator = trimmed.chars().find(|character| matches!(character, '/' | '-' | '.'))?;
    let parts: Vec<&str> = trimmed.split(separator).collect();
    if parts.len() != 3 {
        return None;
    }
    let pad = |number: u32, like: &str| {
        if like.len() == 2 {
            format!("{number:02}")
        } else {
            number.to_string()
        }
    };
    let day_first = parts[0].parse::<u32>().ok() == Some(date.day) && parts[1].parse::<u32>().ok() == Some(date.month);
    let (first, second) = if day_first {
        (pad(shifted.day, parts[0]), pad(shifted.month, parts[1]))
    } else {
        (pad(shifted.month, parts[0]), pad(shifted.day, parts[1]))
    };
    let year = if parts[2].len() == 2 {
        format!("{:02}", shifted.year % 100)
    } else {
        shifted.year.to_string()
    };
    Some(format!("{first}{separator}{second}{separator}{year}"))
}

/// Days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's `days_from_civil`.
fn to_days(date: CalendarDate) -> i64 {
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn from_days(days: i64) -> Option<CalendarDate> {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    CalendarDate::new(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )
}

#[cfg(test)]
mod tests;
