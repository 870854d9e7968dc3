//! When two mentions are the same entity: normalized forms, and the rule for name variants.
//!
//! Values compare on a normalized form: compatibility forms folded, case and accents
//! ignored, whitespace collapsed, and, for numbers and codes, the punctuation between
//! digits dropped ("612 34 56 78" and "612-345-678" are one phone number).
//!
//! People are matched by the parts of their names. A mention is parsed into given names and
//! surnames: honorifics ("Sr.", "Dra.", "Mr") are dropped; "Pérez García, Juan" is the
//! inverted form; otherwise the first word is a given name (after a title, only if it is a
//! listed first name), the following words that are listed first names are too, and the
//! rest are surnames; with no surname left, the last of several words is one ("Juan
//! Martín"). "de", "del", "la" and the like are kept out of the comparison. A mention is the same person as a known one when
//! - its normalized form is equal, or
//! - it has at least one surname, its surnames are all among the known person's, its given
//!   names (or their initials, "J. Pérez") are all among the known person's, and exactly one
//!   known person fits.
//!
//! So "Juan Pérez García", "Sr. Pérez", "JUAN PEREZ" and "Pérez García, Juan" are one person
//! when only one Pérez is known. "Juan Pérez" and "María Pérez" never merge (their given
//! names differ), and "Sr. Pérez" then stays apart from both, because it fits two people. A
//! given name alone ("Juan") is never enough evidence. Callers compare the longest mentions
//! first, so that short forms find the full name they abbreviate.

use obscura_detection::entity_type::EntityType;
use obscura_detection::entity_type::names;
use unicode_normalization::UnicodeNormalization;

use obscura_detection::context::fold_word;
use obscura_detection::gazetteer::is_first_name;
use obscura_detection::wordlists::{NAME_PARTICLES, TITLES};

/// The normalized form of a value of an entity type, for consistent replacement.
pub fn normalized(entity_type: &str, value: &str) -> String {
    if entity_type == EntityType::PERSON {
        return person_key(&PersonName::parse(value));
    }
    let mut collapsed = folded(value);
    if is_numeric_like(entity_type, &collapsed) {
        collapsed.retain(|character| character.is_alphanumeric() || character == '@' || character == '+');
    }
    collapsed
}

/// `text` lowercase, without accents or compatibility forms, with runs of whitespace as one
/// space and none at the ends.
pub fn folded(text: &str) -> String {
    let mut collapsed = String::with_capacity(text.len());
    let mut push = |character: char| {
        if character.is_whitespace() {
            if !collapsed.is_empty() && !collapsed.ends_with(' ') {
                collapsed.push(' ');
            }
        } else {
            collapsed.push(character);
        }
    };
    if text.is_ascii() {
        text.chars()
            .map(|character| character.to_ascii_lowercase())
            .for_each(&mut push);
    } else {
        text.nfkd()
            .filter(|character| !unicode_normalization::char::is_combining_mark(*character))
            .flat_map(char::to_lowercase)
            .for_each(&mut push);
    }
    if collapsed.ends_with(' ') {
        collapsed.pop();
    }
    collapsed
}

/// Types and values whose separators carry no meaning: phones, cards, ids, account numbers.
pub fn is_numeric_like(entity_type: &str, value: &str) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let letters = value.chars().filter(|character| character.is_alphabetic()).count();
    match entity_type {
        names::PERSON
        | names::LOCATION
        | names::ADDRESS
        | names::ORGANIZATION
        | names::EMAIL_ADDRESS
        | names::URL
        | names::DOMAIN_NAME
        | names::DATE_TIME
        | names::DATE_OF_BIRTH
        | names::AGE => false,
        _ => digits > 0 && digits >= letters,
    }
}

/// The parts of a person's name, folded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    pub given: Vec<String>,
    pub surnames: Vec<String>,
}

impl PersonName {
    /// Parses a mention of a person.
    pub fn parse(mention: &str) -> PersonName {
        if let Some((before, after)) = mention.split_once(',') {
            let surnames = name_words(before);
            let given = name_words(after);
            if !surnames.is_empty() && !given.is_empty() {
                return PersonName { given, surnames };
            }
        }
        let raw: Vec<&str> = mention.split_whitespace().collect();
        let honorific = raw
            .first()
            .is_some_and(|first| TITLES.contains(first.trim_end_matches('.')));
        let words = name_words(mention);
        let alone = words.len() == 1;
        let mut given = Vec::new();
        let mut surnames = Vec::new();
        for (index, word) in words.into_iter().enumerate() {
            let initial = word.chars().count() == 1;
            // After a title ("Sr. Pérez García", "Dra. Ana López") only listed first names
            // are given names; otherwise the first word is one whatever it is, but for a
            // word alone that no list knows as a given name ("García").
            let first_word = index == 0 && !honorific && (!alone || is_first_name(&word));
            if surnames.is_empty() && (first_word || initial || is_first_name(&word)) {
                given.push(word);
            } else {
                surnames.push(word);
            }
        }
        // Many surnames are also first names ("Juan Martín"): with no surname found, the
        // last of several words is taken as one.
        if surnames.is_empty() && given.len() >= 2 {
            surnames.extend(given.pop());
        }
        if honorific && surnames.is_empty() {
            // "Sr. Juan": a lone word after a title is a surname.
            std::mem::swap(&mut given, &mut surnames);
        }
        PersonName { given, surnames }
    }

    /// The tokens the name-variant rule compares: `n:` for each word, and `i:` for the
    /// initial of each given name, so that "J. Pérez" fits "Juan Pérez".
    pub fn tokens(&self) -> NameTokens {
        let mut given = Vec::new();
        for name in &self.given {
            let mut initial = String::from("i:");
            initial.extend(name.chars().next());
            if name.chars().count() > 1 {
                given.push(format!("n:{name}"));
            }
            if !given.contains(&initial) {
                given.push(initial);
            }
        }
        NameTokens {
            given,
            surnames: self.surnames.iter().map(|name| format!("n:{name}")).collect(),
            initials_only: self.given.iter().filter(|name| name.chars().count() == 1).count(),
        }
    }
}

/// A name as the tokens the variant rule compares; tokens may be keyed hashes (see
/// [`NameTokens::keyed`]) so that a vault can match names without storing them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NameTokens {
    /// Given-name tokens, initials included.
    pub given: Vec<String>,
    pub surnames: Vec<String>,
    /// How many given names were written as initials only.
    #[serde(default)]
    pub initials_only: usize,
}

impl NameTokens {
    /// The tokens replaced by hex HMAC-SHA256 digests under `key`.
    pub fn keyed(&self, key: &[u8]) -> NameTokens {
        let hash = |token: &String| hex::encode(&super::keyed::hmac_sha256(key, token.as_bytes())[..16]);
        NameTokens {
            given: self.given.iter().map(hash).collect(),
            surnames: self.surnames.iter().map(hash).collect(),
            initials_only: self.initials_only,
        }
    }

    /// Whether this mention fits a known person (see the module's rule).
    pub fn fits(&self, known: &NameTokens) -> bool {
        !self.surnames.is_empty()
            && self.surnames.iter().all(|token| known.surnames.contains(token))
            && self.given.iter().all(|token| known.given.contains(token))
    }
}

/// The folded words of a name, without honorifics, particles and punctuation.
fn name_words(text: &str) -> Vec<String> {
    text.split(|character: char| character.is_whitespace() || character == ',')
        .map(|word| fold_word(word.trim_matches(|character: char| !character.is_alphanumeric())))
        .filter(|word| !word.is_empty())
        .filter(|word| !TITLES.contains(word) && !NAME_PARTICLES.contains(word))
        .collect()
}

fn person_key(name: &PersonName) -> String {
    format!("{}|{}", name.given.join(" "), name.surnames.join(" "))
}

/// The one known person `mention` fits, by index, when exactly one fits; an equal name
/// wins over mere fits.
pub fn match_person(mention: &NameTokens, known: &[NameTokens]) -> Option<usize> {
    if let Some(index) = known.iter().position(|person| person == mention) {
        return Some(index);
    }
    let mut fitting = known
        .iter()
        .enumerate()
        .filter(|(_, person)| mention.fits(person))
        .map(|(index, _)| index);
    let first = fitting.next()?;
    fitting.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(names: &[&str]) -> Vec<NameTokens> {
        names.iter().map(|name| PersonName::parse(name).tokens()).collect()
    }

    fn mention(name: &str) -> NameTokens {
        PersonName::parse(name).tokens()
    }

    #[test]
    fn values_normalize_across_case_accents_spacing_and_separators() {
        assert_eq!(
            normalized("PHONE_NUMBER", "612 34 56 78"),
            normalized("PHONE_NUMBER", "612-345-678")
        );
        assert_eq!(normalized("ES_NIF", "12.345.678-z"), "12345678z");
        assert_eq!(normalized("LOCATION", "  MÁLAGA "), normalized("LOCATION", "Malaga"));
        assert_eq!(normalized("EMAIL_ADDRESS", "Ana@Example.com"), "ana@example.com");
        // Full-width digits are digits.
        assert_eq!(normalized("CREDIT_CARD", "４１１１ 1111"), "41111111");
        assert_ne!(normalized("LOCATION", "Paris"), normalized("LOCATION", "Parise"));
    }

    #[test]
    fn names_parse_into_given_names_and_surnames() {
        assert_eq!(
            PersonName::parse("Juan Pérez García"),
            PersonName {
                given: vec!["juan".into()],
                surnames: vec!["perez".into(), "garcia".into()]
            }
        );
        assert_eq!(
            PersonName::parse("Pérez García, Juan"),
            PersonName::parse("Juan Pérez García")
        );
        assert_eq!(PersonName::parse("Sr. Pérez").surnames, ["perez"]);
        assert!(PersonName::parse("Sr. Pérez").given.is_empty());
        assert_eq!(PersonName::parse("María José de la Fuente").given, ["maria", "jose"]);
        assert_eq!(PersonName::parse("María José de la Fuente").surnames, ["fuente"]);
        assert_eq!(PersonName::parse("Dr. John Smith").given, ["john"]);
        assert_eq!(PersonName::parse("Sra. Pérez García").surnames, ["perez", "garcia"]);
        assert!(PersonName::parse("Sra. Pérez García").given.is_empty());
        assert_eq!(PersonName::parse("Juan Martín").surnames, ["martin"]);
    }

    #[test]
    fn spanish_variants_of_one_person_match() {
        let known = people(&["Juan Pérez García"]);
        for variant in [
            "Sr. Pérez",
            "JUAN PEREZ",
            "Pérez García, Juan",
            "J. Pérez",
            "juan pérez garcía",
            "D. Juan Pérez",
        ] {
            assert_eq!(match_person(&mention(variant), &known), Some(0), "{variant}");
        }
    }

    #[test]
    fn english_variants_of_one_person_match() {
        let known = people(&["John Michael Smith", "Mary Jones"]);
        for variant in ["Mr. Smith", "JOHN SMITH", "Smith, John", "J. Smith"] {
            assert_eq!(match_person(&mention(variant), &known), Some(0), "{variant}");
        }
        assert_eq!(match_person(&mention("Ms Jones"), &known), Some(1));
        // Keyed tokens match the same way.
        let keyed: Vec<NameTokens> = known.iter().map(|person| person.keyed(b"key")).collect();
        assert_eq!(match_person(&mention("J. Smith").keyed(b"key"), &keyed), Some(0));
        assert_eq!(match_person(&mention("J. Smith").keyed(b"other"), &keyed), None);
    }

    #[test]
    fn different_people_who_share_a_surname_do_not_merge() {
        let known = people(&["Juan Pérez García", "María Pérez López"]);
        assert_eq!(match_person(&mention("María Pérez"), &known), Some(1));
        assert_eq!(match_person(&mention("Juan Pérez"), &known), Some(0));
        // Fits both: stays apart.
        assert_eq!(match_person(&mention("Sr. Pérez"), &known), None);
        // Another given name: a different person.
        assert_eq!(match_person(&mention("Pedro Pérez"), &known), None);
        assert_eq!(match_person(&mention("Ana Smith"), &people(&["John Smith"])), None);
        // A given name alone is not enough.
        assert_eq!(match_person(&mention("Juan"), &people(&["Juan Pérez"])), None);
        // An initial that does not fit.
        assert_eq!(match_person(&mention("M. Pérez"), &people(&["Juan Pérez"])), None);
    }
}
