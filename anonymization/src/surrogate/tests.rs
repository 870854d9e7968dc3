use super::*;

fn secrets() -> ScopeSecrets {
    ScopeSecrets::new(b"a secret key of some length")
}

#[test]
fn surrogates_keep_kind_and_format_and_pass_their_validators() {
    let secrets = secrets();
    let cases = [
        ("CREDIT_CARD", "4556 7375 8689 9855", "en"),
        ("IBAN_CODE", "ES76 2077 0024 0031 0257 5766", "es"),
        ("ES_NIF", "12345678Z", "es"),
        ("ES_NIF", "Y2345678Z", "es"),
        ("ES_NIE", "X1234567L", "es"),
        ("US_SSN", "536-90-4399", "en"),
        ("ES_NSS", "28 12345678 40", "es"),
        ("UK_NHS", "943 476 5919", "en"),
        ("IP_ADDRESS", "192.168.1.20", "en"),
        ("IP_ADDRESS", "2001:db8::8a2e:370:7334", "en"),
        ("MAC_ADDRESS", "00:1A:2B:3C:4D:5E", "en"),
    ];
    for number in 1..=20 {
        for (entity_type, value, language) in cases {
            let fake = surrogate(entity_type, value, number, language, &secrets);
            assert_ne!(
                normalized(entity_type, &fake),
                normalized(entity_type, value),
                "{entity_type} {value}"
            );
            assert!(valid(entity_type, &fake), "{entity_type}: {fake}");
            if entity_type != "IP_ADDRESS" {
                assert_eq!(fake.chars().count(), value.chars().count(), "{entity_type}: {fake}");
            }
        }
    }
    // Cards keep the brand's leading digits and the grouping.
    let card = surrogate("CREDIT_CARD", "4556 7375 8689 9855", 1, "en", &secrets);
    assert!(card.starts_with("45") && card.chars().nth(4) == Some(' '), "{card}");
    assert!(surrogate("IBAN_CODE", "ES76 2077 0024 0031 0257 5766", 1, "es", &secrets).starts_with("ES"));
}

#[test]
fn surrogates_repeat_for_an_entity_and_differ_between_entities() {
    let secrets = secrets();
    let first = surrogate("PERSON", "Juan Pérez García", 1, "es", &secrets);
    assert_eq!(first, surrogate("PERSON", "Juan Pérez García", 1, "es", &secrets));
    assert_ne!(first, surrogate("PERSON", "Juan Pérez García", 2, "es", &secrets));
    assert_ne!(
        first,
        surrogate(
            "PERSON",
            "Juan Pérez García",
            1,
            "es",
            &ScopeSecrets::new(b"another secret key")
        )
    );
}

#[test]
fn names_keep_gender_case_title_and_shape() {
    let secrets = secrets();
    for number in 1..=10 {
        let fake = surrogate("PERSON", "María José Pérez García", number, "es", &secrets);
        let parsed = PersonName::parse(&fake);
        assert_eq!(fake.split_whitespace().count(), 4, "{fake}");
        assert!(
            LISTS.es_female.iter().any(|name| fold_word(name) == parsed.given[0]),
            "{fake} is not a female Spanish name"
        );
        let upper = surrogate("PERSON", "JOHN SMITH", number, "en", &secrets);
        assert_eq!(upper, upper.to_uppercase());
        assert!(
            LISTS
                .en_male
                .iter()
                .any(|name| name.to_uppercase() == upper.split(' ').next().unwrap_or("")),
            "{upper}"
        );
        let titled = surrogate("PERSON", "Sr. Pérez", number, "es", &secrets);
        assert!(
            titled.starts_with("Sr. ") && titled.split_whitespace().count() == 2,
            "{titled}"
        );
        let inverted = surrogate("PERSON", "Pérez García, Juan", number, "es", &secrets);
        assert!(inverted.contains(", "), "{inverted}");
    }
}

#[test]
fn emails_phones_dates_and_places_stay_realistic() {
    let secrets = secrets();
    let email = surrogate("EMAIL_ADDRESS", "juan.perez@gmail.com", 1, "es", &secrets);
    assert!(email.ends_with("@gmail.com") && email.contains('.'), "{email}");
    let work = surrogate("EMAIL_ADDRESS", "jperez@hospital-clinic.es", 1, "es", &secrets);
    assert!(work.ends_with("@example.com"), "{work}");

    for number in 1..=10 {
        let phone = surrogate("PHONE_NUMBER", "+34 612 345 678", number, "es", &secrets);
        assert!(
            phone.starts_with("+34 6") && phone.len() == "+34 612 345 678".len(),
            "{phone}"
        );
        let parsed = phonenumber::parse(None, &phone).unwrap();
        assert!(phonenumber::is_valid(&parsed), "{phone}");
    }

    // Other plans and types: fixed lines stay fixed lines and mobiles mobiles, an Italian
    // leading zero is kept, and codes several regions share (+1, +44) are checked by
    // parsing.
    for (value, language) in [
        ("+34 912 345 678", "es"),
        ("912 34 56 78", "es"),
        ("+44 20 7946 0958", "en"),
        ("+353 87 123 4567", "en"),
        ("+44 7911 123456", "en"),
        ("+49 30 12345678", "en"),
        ("+33 6 12 34 56 78", "en"),
        ("+39 06 6982 1234", "en"),
        ("(415) 555-2671", "en"),
        ("+1 212 555 0142", "en"),
    ] {
        let region = obscura_detection::phone::home_region(language);
        let original = phonenumber::parse(Some(region), value).unwrap();
        assert!(phonenumber::is_valid(&original), "{value}");
        let kind = original.number_type(&phonenumber::metadata::DATABASE);
        for number in 1..=10 {
            let phone = surrogate("PHONE_NUMBER", value, number, language, &secrets);
            assert_ne!(phone, value);
            assert_eq!(phone.len(), value.len(), "{value}: {phone}");
            let parsed = phonenumber::parse(Some(region), &phone).unwrap();
            assert!(phonenumber::is_valid(&parsed), "{value}: {phone}");
            assert_eq!(parsed.code().value(), original.code().value(), "{value}: {phone}");
            assert_eq!(
                parsed.number_type(&phonenumber::metadata::DATABASE),
                kind,
                "{value}: {phone}"
            );
        }
    }

    // One shift for the whole scope, in the original format.
    let shift = secrets.date_shift_days;
    assert!(shift.abs() >= 30 && shift.abs() <= 365);
    let shifted = surrogate("DATE_OF_BIRTH", "15/03/1980", 1, "es", &secrets);
    let expected = from_days(to_days(CalendarDate::new(1980, 3, 15).unwrap()) + shift).unwrap();
    assert_eq!(
        shifted,
        format!("{:02}/{:02}/{}", expected.day, expected.month, expected.year)
    );
    assert_eq!(surrogate("DATE_TIME", "15/03/1980", 9, "es", &secrets), shifted);
    let iso = surrogate("DATE_TIME", "1980-03-15", 1, "es", &secrets);
    assert_eq!(
        iso,
        format!("{}-{:02}-{:02}", expected.year, expected.month, expected.day)
    );
    let written = surrogate("DATE_TIME", "15 de marzo de 1980", 1, "es", &secrets);
    assert!(
        written.contains(" de ") && written.ends_with(&expected.year.to_string()),
        "{written}"
    );
    let english = surrogate("DATE_TIME", "March 15, 1980", 1, "en", &secrets);
    assert!(english.ends_with(&format!(", {}", expected.year)), "{english}");

    let province = surrogate("LOCATION", "Madrid", 1, "es", &secrets);
    assert!(LISTS.es_provinces.contains(&province.as_str()), "{province}");
    let state = surrogate("LOCATION", "Texas", 1, "en", &secrets);
    assert!(LISTS.en_states.contains(&state.as_str()), "{state}");
    let hospital = surrogate("ORGANIZATION", "Hospital Universitario La Paz", 1, "es", &secrets);
    assert!(hospital.starts_with("Hospital Universitario La "), "{hospital}");
    let street = surrogate("ADDRESS", "Calle Carmen Romero, 23, 1D", 1, "es", &secrets);
    assert!(street.starts_with("Calle ") && street.contains(", "), "{street}");
    // A town after a postal code, or after the last comma, is a real town, and the
    // postal code one of its province.
    let capitals = &LISTS.es_capitals;
    for number in 1..20 {
        let street = surrogate("ADDRESS", "Calle Mayor 12, 28013 Madrid", number, "es", &secrets);
        let (_, place) = street.rsplit_once(", ").unwrap();
        let (code, town) = place.split_once(' ').unwrap();
        let province: u32 = code[..2].parse().unwrap();
        assert!(
            code.len() == 5
                && capitals
                    .iter()
                    .any(|(known, capital)| *known == province && *capital == town),
            "{street}"
        );
        let without_code = surrogate("ADDRESS", "Calle Mayor 12, Madrid", number, "es", &secrets);
        let (_, town) = without_code.rsplit_once(", ").unwrap();
        assert!(capitals.iter().any(|(_, capital)| *capital == town), "{without_code}");
        let code = surrogate("POSTAL_CODE", "28013", number, "es", &secrets);
        let province: u32 = code[..2].parse().unwrap();
        assert!((1..=52).contains(&province) && code.len() == 5, "{code}");
    }
    let age = surrogate("AGE", "53 años", 1, "es", &secrets);
    assert!(age.ends_with(" años") && age != "53 años", "{age}");
}

#[test]
fn a_surname_alone_stands_for_a_surname_and_parts_keep_their_kinds() {
    let secrets = secrets();
    let lists = &*LISTS;
    for number in 1..20 {
        let fake = surrogate("PERSON", "García", number, "es", &secrets);
        assert!(lists.es_surnames.contains(&fake.as_str()), "{fake}");
        let fake = surrogate("PERSON", "Juan Pérez García", number, "es", &secrets);
        let words: Vec<&str> = fake.split(' ').collect();
        assert_eq!(words.len(), 3, "{fake}");
        assert!(lists.es_male.contains(&words[0]), "{fake}");
        assert!(words[1..].iter().all(|word| lists.es_surnames.contains(word)), "{fake}");
    }
}

#[test]
fn day_counts_round_trip() {
    for (year, month, day) in [(1970, 1, 1), (2000, 2, 29), (1980, 3, 15), (2024, 12, 31), (1600, 3, 1)] {
        let date = CalendarDate::new(year, month, day).unwrap();
        assert_eq!(from_days(to_days(date)), Some(date));
    }
    assert_eq!(to_days(CalendarDate::new(1970, 1, 1).unwrap()), 0);
    assert_eq!(to_days(CalendarDate::new(2000, 3, 1).unwrap()), 11_017);
}
