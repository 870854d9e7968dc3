//! The formats other tools' recognizers accept, generated with each separator style and with
//! valid and invalid check digits, in sentences: what is valid is found under its type with
//! its exact span, and what fails its check is not reported as that type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use obscura_detection::{DetectOptions, Detection, Detector};
use proptest::prelude::*;

fn detector() -> &'static Detector {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| Detector::with_builtin_packs().expect("built-in packs load"))
}

fn detect(text: &str, language: &str) -> Vec<Detection> {
    let options = DetectOptions {
        language: Some(language.to_owned()),
        ..DetectOptions::default()
    };
    detector().detect(text, &options).expect("valid options").detections
}

/// The detection of `value` inside `text`, if one covers exactly it.
fn found_as(text: &str, value: &str, language: &str) -> Option<String> {
    let start = text[..text.find(value).unwrap()].chars().count();
    let end = start + value.chars().count();
    detect(text, language)
        .into_iter()
        .find(|detection| detection.start == start && detection.end == end)
        .map(|detection| detection.entity_type.to_string())
}

/// Whether any detection of `entity` overlaps `value` in `text`.
fn reported_as(text: &str, value: &str, entity: &str, language: &str) -> bool {
    let start = text[..text.find(value).unwrap()].chars().count();
    let end = start + value.chars().count();
    detect(text, language)
        .iter()
        .any(|detection| detection.entity_type == *entity && detection.start < end && detection.end > start)
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("-"), Just("."), Just(" ")]
}

/// A US SSN that the issuance rules allow.
fn valid_ssn() -> impl Strategy<Value = (u32, u32, u32)> {
    (1u32..900, 1u32..100, 1u32..10_000)
        .prop_filter("area 666 is never issued", |(area, _, _)| *area != 666)
        .prop_filter("advertised numbers", |ssn| {
            !matches!(ssn, (78, 5, 1120) | (219, 9, 9999))
        })
}

/// Ten NHS digits with their modulus 11 check digit, or with a wrong one.
fn nhs(valid: bool) -> impl Strategy<Value = String> {
    prop::collection::vec(0u32..10, 9).prop_filter_map("no check digit", move |digits| {
        let sum: u32 = digits
            .iter()
            .zip((2..=10).rev())
            .map(|(digit, weight)| digit * weight)
            .sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return None,
            check => check,
        };
        let last = if valid { check } else { (check + 1 + digits[0] % 8) % 10 };
        let digits: String = digits
            .iter()
            .map(|digit| char::from_digit(*digit, 10).unwrap())
            .collect();
        Some(format!("{digits}{last}"))
    })
}

/// An English month's name, 0 for January.
fn month(index: usize) -> &'static str {
    obscura_detection::validate::dates::month_name(index as u32 + 1, "en").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ssns_with_any_one_separator_are_found((area, group, serial) in valid_ssn(), separator in separator(), sentence in 0usize..3) {
        let ssn = format!("{area:03}{separator}{group:02}{separator}{serial:04}");
        let text = [
            format!("My SSN is {ssn}."),
            format!("The applicant ({ssn}) signed on Monday."),
            format!("Social security number: {ssn}"),
        ][sentence].clone();
        prop_assert_eq!(found_as(&text, &ssn, "en"), Some("US_SSN".to_owned()), "{}", text);
    }

    #[test]
    fn ssns_that_are_never_issued_are_not_ssns(area in prop_oneof![Just(0u32), Just(666), 900u32..1000], group in 1u32..100, serial in 1u32..10_000, separator in separator()) {
        let ssn = format!("{area:03}{separator}{group:02}{separator}{serial:04}");
        let text = format!("My SSN is {ssn}.");
        prop_assert!(!reported_as(&text, &ssn, "US_SSN", "en"), "{}", text);
    }

    #[test]
    fn nhs_numbers_plain_or_grouped_are_found(digits in nhs(true), style in 0usize..3) {
        let value = match style {
            0 => digits.clone(),
            1 => format!("{} {} {}", &digits[..3], &digits[3..6], &digits[6..]),
            _ => format!("{}-{}-{}", &digits[..3], &digits[3..6], &digits[6..]),
        };
        let text = format!("Her NHS number is {value} and she was seen today.");
        prop_assert_eq!(found_as(&text, &value, "en"), Some("UK_NHS".to_owned()), "{}", text);
    }

    #[test]
    fn nhs_numbers_with_a_wrong_check_digit_are_not_nhs_numbers(digits in nhs(false)) {
        let value = format!("{} {} {}", &digits[..3], &digits[3..6], &digits[6..]);
        let text = format!("Her NHS number is {value} and she was seen today.");
        prop_assert!(!reported_as(&text, &value, "UK_NHS", "en"), "{}", text);
    }

    #[test]
    fn bare_domains_are_urls(label in "[a-z][a-z0-9]{2,12}", sub in prop::option::of("[a-z]{2,6}"), tld in prop_oneof![Just("com"), Just("org"), Just("net"), Just("es"), Just("co.uk"), Just("io")]) {
        let domain = match sub {
            Some(sub) => format!("{sub}.{label}.{tld}"),
            None => format!("{label}.{tld}"),
        };
        let text = format!("More at {domain} or by post.");
        prop_assert_eq!(found_as(&text, &domain, "en"), Some("URL".to_owned()), "{}", text);
    }

    #[test]
    fn dates_with_month_names_are_found(day in 1u32..29, month_index in 0usize..12, year in 1900u32..2100, form in 0usize..4) {
        let name = month(month_index);
        let date = match form {
            0 => format!("{day}-{}-{year}", &name[..3]),
            1 => format!("{day}-{name}-{year}"),
            2 => format!("{name} {day}"),
            _ => format!("{day} {name}"),
        };
        let text = format!("The hearing is set for {date} in room 4.");
        prop_assert_eq!(found_as(&text, &date, "en"), Some("DATE_TIME".to_owned()), "{}", text);
    }

    #[test]
    fn days_that_do_not_exist_are_not_dates(month_index in prop_oneof![Just(1usize), Just(3), Just(5), Just(8), Just(10)], day in 31u32..40) {
        // February, April, June, September and November have no 31st; no month has a 32nd.
        let date = format!("{} {day}", month(month_index));
        let text = format!("The hearing is set for {date} in room 4.");
        prop_assert!(!reported_as(&text, &date, "DATE_TIME", "en"), "{}", text);
    }

    #[test]
    fn identifiers_disguised_with_invisible_or_look_alike_characters_are_found(number in 0u32..100_000_000, at in 1usize..8, disguise in 0usize..3) {
        const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
        let letter = LETTERS[(number % 23) as usize] as char;
        let digits = format!("{number:08}");
        let value = match disguise {
            0 => format!("{}\u{200B}{}{letter}", &digits[..at], &digits[at..]),
            1 => format!("{}\u{FEFF}{}\u{2060}{letter}", &digits[..at], &digits[at..]),
            // A Cyrillic or Greek capital drawn like the Latin letter, when there is one.
            _ => {
                let look_alike = match letter {
                    'A' => 'А', 'B' => 'В', 'E' => 'Е', 'H' => 'Н', 'K' => 'К', 'M' => 'М', 'P' => 'Р',
                    'T' => 'Т', 'X' => 'Х', 'Z' => 'Ζ', 'N' => 'Ν', 'Y' => 'Υ', other => other,
                };
                format!("{digits}{look_alike}")
            }
        };
        let text = format!("Comparece con DNI {value}, mayor de edad.");
        prop_assert_eq!(found_as(&text, &value, "es"), Some("ES_NIF".to_owned()), "{:?}", text);
    }
}

#[test]
fn spanish_dates_in_words_are_found_whole() {
    for (text, date) in [
        (
            "En Madrid, a quince de marzo de dos mil veinticuatro, ante mí.",
            "quince de marzo de dos mil veinticuatro",
        ),
        (
            "Otorgada a diez de enero de dos mil veinticuatro por las partes.",
            "diez de enero de dos mil veinticuatro",
        ),
        (
            "Nacido el treinta y uno de diciembre de mil novecientos noventa y nueve en Soria.",
            "treinta y uno de diciembre de mil novecientos noventa y nueve",
        ),
        ("Se celebró el primero de mayo en la plaza.", "primero de mayo"),
    ] {
        assert_eq!(found_as(text, date, "es").as_deref(), Some("DATE_TIME"), "{text}");
    }
    let impossible = "Se celebró el treinta y uno de abril de dos mil veinte.";
    assert!(!reported_as(impossible, "treinta y uno de abril", "DATE_TIME", "es"));
}

#[test]
fn companies_with_their_legal_form_are_organizations() {
    for (text, company) in [
        (
            "Reunidos de una parte García y Asociados, S.L., con domicilio social en Sevilla.",
            "García y Asociados, S.L.",
        ),
        (
            "La arrendadora, INMOBILIARIA GARCÍA, S.L., declara",
            "INMOBILIARIA GARCÍA, S.L.",
        ),
        (
            "contra CONSTRUCCIONES PÉREZ, S.A. por impago",
            "CONSTRUCCIONES PÉREZ, S.A.",
        ),
        ("The supplier, Acme Widgets Ltd, agrees", "Acme Widgets Ltd"),
        ("a subsidiary of Müller Technik GmbH in Berlin", "Müller Technik GmbH"),
    ] {
        assert_eq!(found_as(text, company, "es").as_deref(), Some("ORGANIZATION"), "{text}");
    }
}

#[test]
fn a_card_number_failing_its_check_is_left_alone_unless_asked() {
    let text = "Card 4111 1111 1111 1112 was declined.";
    let value = "4111 1111 1111 1112";
    let strict = detect(text, "en");
    assert!(
        strict
            .iter()
            .all(|detection| detection.end <= 5 || detection.start >= 24),
        "nothing else claims it: {strict:?}"
    );
    let options = DetectOptions {
        language: Some("en".into()),
        keep_unvalidated: true,
        ..DetectOptions::default()
    };
    let lenient = detector().detect(text, &options).unwrap().detections;
    let start = text.find(value).unwrap();
    assert!(
        lenient.iter().any(|detection| detection.entity_type == *"CREDIT_CARD"
            && detection.start == start
            && detection.end == start + value.len()),
        "{lenient:?}"
    );
}

#[test]
fn a_text_without_a_language_is_read_in_the_language_of_its_words() {
    // The street recognizer is Spanish-only: it runs when the text is guessed Spanish.
    let text = "El demandado reside en la calle Mayor 7, 3º B, de la ciudad de Soria.";
    let detections = detector().detect(text, &DetectOptions::default()).unwrap().detections;
    assert!(
        detections.iter().any(|detection| detection.entity_type == *"ADDRESS"),
        "{detections:?}"
    );
}
