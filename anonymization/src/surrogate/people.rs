//! Surrogate names and e-mail addresses: the language, the apparent gender, the casing and
//! the structure of a name kept (a title, given names and surnames, the inverted form).

use super::*;

/// Public mail providers, whose domain a surrogate address keeps.
pub(super) const PUBLIC_MAIL_DOMAINS: &[&str] = &[
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

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Gender {
    Female,
    Male,
}

pub(super) fn apparent_gender(given: &str, language: &str) -> Gender {
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

pub(super) fn first_name(gender: Gender, language: &str, random: &mut Random) -> &'static str {
    let lists = &*LISTS;
    let list = match (language == "es", gender) {
        (true, Gender::Female) => &lists.es_female,
        (true, Gender::Male) => &lists.es_male,
        (false, Gender::Female) => &lists.en_female,
        (false, Gender::Male) => &lists.en_male,
    };
    pick(list, random)
}

pub(super) fn surname(language: &str, random: &mut Random) -> &'static str {
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

pub(super) fn person(value: &str, language: &str, random: &mut Random) -> String {
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
        .filter(|word| TITLES.contains(word.trim_end_matches('.')))
        .map(|word| format!("{word} "))
        .unwrap_or_default();
    let body = if value.contains(',') && !given.is_empty() && !surnames.is_empty() {
        format!("{}, {}", surnames.join(" "), given.join(" "))
    } else {
        given.into_iter().chain(surnames).collect::<Vec<_>>().join(" ")
    };
    cased_like(&format!("{title}{body}"), value)
}

pub(super) fn ascii_word(word: &str) -> String {
    fold_word(word).chars().filter(char::is_ascii_alphanumeric).collect()
}

pub(super) fn email(value: &str, language: &str, random: &mut Random) -> String {
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
