//! Surrogate places, addresses and organizations: real towns of the same country with a
//! postal code valid there, street names in the local form, and an organization's generic words kept.

use super::*;

/// A real Spanish town (a province's capital) and a postal code valid there.
pub(super) fn spanish_town(random: &mut Random) -> (String, &'static str) {
    let capitals = &LISTS.es_capitals;
    let (province, capital) = capitals[random.below(capitals.len() as u64) as usize];
    (format!("{province:02}{:03}", 1 + random.below(2)), capital)
}

/// Words that say what kind of organization a name is; a surrogate keeps them.
pub(super) const ORGANIZATION_WORDS: &[&str] = &[
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

pub(super) fn location(value: &str, language: &str, random: &mut Random) -> String {
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

pub(super) fn address(value: &str, language: &str, random: &mut Random) -> String {
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
pub(super) fn spanish_address_rest(rest: &str, random: &mut Random) -> String {
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

pub(super) fn organization(value: &str, language: &str, random: &mut Random) -> String {
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
