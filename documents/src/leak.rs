//! The leak check: after anonymization the output is read again, and no original value of
//! a detected entity may remain in it, nor any string that normalizes to one.
//!
//! Normalized means folded as the vault folds values: case, accents and runs of whitespace
//! ignored, and for number-like values (phones, cards, ids) every separator too, so that
//! "612 34 56 78" is found as "612-345-678". Word values must match whole words. Values whose
//! normalized form is shorter than [`MIN_CHECKED_CHARS`] are not checked (an age of "45"
//! would be found in any dose); the report counts them.
//!
//! The report names the types that leaked and where, never the values.

use obscura_detection::entity_type::EntityType;
use serde::Serialize;

use obscura_anonymization::identity::{folded as fold, is_numeric_like};
use obscura_detection::context::fold_word;
use obscura_detection::gazetteer::{is_first_name, is_listed_place, is_surname, is_title_or_particle};

/// Shortest normalized value the check looks for.
pub const MIN_CHECKED_CHARS: usize = 4;

/// A value that was replaced, and where it was.
#[derive(Clone)]
pub struct Replaced {
    pub entity_type: EntityType,
    pub value: String,
    pub location: String,
}

impl std::fmt::Debug for Replaced {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Replaced")
            .field("entity_type", &self.entity_type)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// One original found in the output: its type, where it was replaced, and the part of the
/// output it was found in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    pub entity_type: EntityType,
    pub location: String,
    pub found_in: String,
}

/// The result of the leak check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeakCheck {
    /// "passed" or "failed".
    pub status: &'static str,
    /// Distinct originals looked for.
    pub checked: usize,
    /// Distinct originals too short to look for.
    pub too_short: usize,
    pub leaks: Vec<Leak>,
}

impl LeakCheck {
    pub fn passed(&self) -> bool {
        self.leaks.is_empty()
    }
}

/// Only the letters, digits, `@` and `+` of folded text, as the vault keeps number-like values.
fn compact(folded: &str) -> String {
    folded
        .chars()
        .filter(|character| character.is_alphanumeric() || matches!(character, '@' | '+'))
        .collect()
}

/// Whether `needle` occurs in `haystack` as whole words.
fn contains_words(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(start, _)| {
        let before = haystack[..start].chars().next_back();
        let after = haystack[start + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Looks for every replaced value in the output texts, given as (part, text). What the
/// anonymization wrote (`written`: its aliases, tags and surrogates) is taken out of the
/// output first, so that "IBAN-001" is not the original "Iban" found again.
pub fn check(
    replaced: &[Replaced],
    output: &[(String, String)],
    written: &[&str],
    person_aliases: &[&str],
) -> LeakCheck {
    // What was written is taken out in one pass over each part, longest first; never a
    // written value that is itself an original (a surrogate that is another entity's name).
    let originals: std::collections::HashSet<String> = replaced.iter().map(|item| fold(&item.value)).collect();
    let mut written: Vec<&str> = written
        .iter()
        .copied()
        .filter(|text| !text.trim().is_empty() && !originals.contains(&fold(text)))
        .collect();
    written.sort_unstable();
    written.dedup();
    let remover = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&written)
        .ok();
    let replacements = vec!["\n"; written.len()];
    // An automaton that cannot be built leaves the text whole: more is looked through, not less.
    let without_written = |text: &str| match &remover {
        Some(remover) => remover.replace_all(text, &replacements),
        None => text.to_owned(),
    };
    // Number-like values are looked for within each line without its separators: lines
    // are paragraphs and attribute values, and joining them would make numbers up.
    let folded_output: Vec<(&str, String, Vec<String>)> = output
        .iter()
        .map(|(part, text)| {
            let text = without_written(text);
            let compacted = text.lines().map(|line| compact(&fold(line))).collect();
            (part.as_str(), fold(&text), compacted)
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut checked = 0;
    let mut too_short = 0;
    let mut leaks = Vec::new();
    for item in replaced {
        let folded = fold(&item.value);
        let number_like = is_numeric_like(&item.entity_type, &folded);
        let needle = if number_like { compact(&folded) } else { folded };
        if !seen.insert((number_like, needle.clone())) {
            continue;
        }
        if needle.chars().count() < MIN_CHECKED_CHARS {
            too_short += 1;
            continue;
        }
        checked += 1;
        for (part, folded_text, compacted_lines) in &folded_output {
            let found = if number_like {
                compacted_lines.iter().any(|line| line.contains(&needle))
            } else {
                contains_words(folded_text, &needle)
            };
            if found {
                leaks.push(Leak {
                    entity_type: item.entity_type.clone(),
                    location: item.location.clone(),
                    found_in: (*part).to_owned(),
                });
            }
        }
    }
    leaks.extend(name_words_beside(replaced, output, person_aliases, &written));
    LeakCheck {
        status: if leaks.is_empty() { "passed" } else { "failed" },
        checked,
        too_short,
        leaks,
    }
}

/// Where a name word left beside a replaced person is reported.
pub const BESIDE_A_NAME: &str = "beside a replaced name";

/// A part of a person's name that detection cut off survives beside what replaced the rest
/// ("Dña. María PERSONA-002"): a word of [`MIN_CHECKED_CHARS`] letters or more, next to a
/// person's replacement, that is a word of a replaced person's name, a listed given name
/// just before it, or a listed surname (not a place) just after it.
fn name_words_beside(
    replaced: &[Replaced],
    output: &[(String, String)],
    person_aliases: &[&str],
    written: &[&str],
) -> Vec<Leak> {
    let name_words: std::collections::BTreeSet<String> = replaced
        .iter()
        .filter(|item| item.entity_type == EntityType::PERSON)
        .flat_map(|item| {
            fold(&item.value)
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|word| word.chars().count() >= MIN_CHECKED_CHARS && !is_title_or_particle(word))
        .collect();
    let mut aliases: Vec<&str> = person_aliases
        .iter()
        .copied()
        .filter(|alias| !alias.trim().is_empty())
        .collect();
    aliases.sort_unstable();
    aliases.dedup();
    let mut leaks = Vec::new();
    for (part, text) in output {
        let found = aliases.iter().any(|alias| {
            text.match_indices(alias).any(|(start, _)| {
                // What was written for another value ("IBAN-001") is no word of the text.
                let written_before = written.iter().any(|other| text[..start].trim_end().ends_with(other));
                let written_after = written
                    .iter()
                    .any(|other| text[start + alias.len()..].trim_start().starts_with(other));
                let before = word_beside(text[..start].chars().rev())
                    .filter(|_| !written_before)
                    .map(|word| word.chars().rev().collect::<String>());
                // A given name before a replacement counts on the same line, written as a
                // name: "IBAN" above an account holder is a label, though Iban is a name.
                let same_line = !text[..start]
                    .trim_end_matches(|character: char| character.is_whitespace() && character != '\n')
                    .ends_with('\n');
                let after = word_beside(text[start + alias.len()..].chars()).filter(|_| !written_after);
                let is_name_word =
                    |word: &str| word.chars().count() >= MIN_CHECKED_CHARS && name_words.contains(&fold(word));
                let is_given_name = |word: &str| {
                    same_line
                        && word.chars().count() >= MIN_CHECKED_CHARS
                        && word.chars().next().is_some_and(char::is_uppercase)
                        && word.chars().any(char::is_lowercase)
                        && is_first_name(&fold_word(word))
                };
                let next_on_same_line = !text[start + alias.len()..]
                    .trim_start_matches(|character: char| character.is_whitespace() && character != '\n')
                    .starts_with('\n');
                let is_surname_after = |word: &str| {
                    next_on_same_line
                        && word.chars().any(char::is_lowercase)
                        && word.chars().count() >= MIN_CHECKED_CHARS
                        && word.chars().next().is_some_and(char::is_uppercase)
                        && is_surname(&fold_word(word))
                        && !is_listed_place(word)
                };
                before
                    .as_deref()
                    .is_some_and(|word| is_name_word(word) || is_given_name(word))
                    || after
                        .as_deref()
                        .is_some_and(|word| is_name_word(word) || is_surname_after(word))
            })
        });
        if found {
            leaks.push(Leak {
                entity_type: EntityType::PERSON,
                location: BESIDE_A_NAME.into(),
                found_in: part.clone(),
            });
        }
    }
    leaks
}

/// The word a run of characters starts with after whitespace holding at most one line
/// break; `None` when something else (punctuation, a blank line) comes first.
fn word_beside(mut characters: impl Iterator<Item = char>) -> Option<String> {
    let mut breaks = 0;
    let mut first = None;
    for character in characters.by_ref() {
        if character == '\n' {
            breaks += 1;
        } else if !character.is_whitespace() {
            first = Some(character);
            break;
        }
    }
    let first = first.filter(|character| character.is_alphabetic() && breaks <= 1)?;
    let mut word = String::from(first);
    word.extend(characters.take_while(|character| character.is_alphabetic()));
    Some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replaced(entity_type: &str, value: &str) -> Replaced {
        Replaced {
            entity_type: entity_type.into(),
            value: value.into(),
            location: "text".into(),
        }
    }

    #[test]
    fn originals_and_their_variants_are_found_and_nothing_else() {
        let originals = [
            replaced("PERSON", "José Pérez"),
            replaced("PHONE_NUMBER", "612 345 678"),
            replaced("AGE", "45"),
        ];
        let clean = check(
            &originals,
            &[("text".into(), "PERSONA-001 llamó al TELEFONO-001; 45 mg.".into())],
            &["PERSONA-001", "TELEFONO-001"],
            &[],
        );
        assert!(clean.passed(), "{clean:?}");
        assert_eq!((clean.checked, clean.too_short), (2, 1));

        let leaked = check(
            &originals,
            &[("body".into(), "Firmado: JOSE  PEREZ. Tel. 612-34-56-78".into())],
            &[],
            &[],
        );
        assert_eq!(leaked.status, "failed");
        let types: Vec<&str> = leaked.leaks.iter().map(|leak| leak.entity_type.as_str()).collect();
        assert_eq!(types, ["PERSON", "PHONE_NUMBER"]);
        assert!(leaked.leaks.iter().all(|leak| leak.found_in == "body"));

        // Whole words only: "Ana" inside "Anabel" is not Ana.
        let partial = check(
            &[replaced("PERSON", "Ana Ruiz")],
            &[("t".into(), "Anabel Ruizdíaz".into())],
            &[],
            &[],
        );
        assert!(partial.passed());
        // What was written in place of a value is not the value: "Iban" (a word detected as
        // a name) is not found in the alias IBAN-001, but still in the text around it.
        let iban = [replaced("PERSON", "Iban")];
        let aliases = ["PERSONA-004", "IBAN-001"];
        assert!(check(&iban, &[("t".into(), "PERSONA-004 IBAN-001".into())], &aliases, &[]).passed());
        assert!(!check(&iban, &[("t".into(), "IBAN: IBAN-001".into())], &aliases, &[]).passed());
        // A surrogate that is also an original is still looked for.
        let two = [replaced("PERSON", "Ana Ruiz"), replaced("PERSON", "Eva Gil")];
        let swapped = [("t".into(), "Eva Gil firmó.".to_owned())];
        assert!(!check(&two, &swapped, &["Eva Gil", "Luis Mora"], &[]).passed());
        // A report never shows the value.
        assert!(!format!("{leaked:?} {:?}", originals[0]).contains("Pérez"));
    }

    #[test]
    fn a_part_of_a_name_left_beside_its_replacement_is_a_leak() {
        let people = [
            replaced("PERSON", "López Ruiz"),
            replaced("PERSON", "Juan Pérez García"),
        ];
        let aliases = ["PERSONA-001", "PERSONA-002"];
        let run = |text: &str| check(&people, &[("t".into(), text.to_owned())], &aliases, &aliases);
        assert!(run("y Dña. PERSONA-001, en calidad de arrendadora. Firmado: PERSONA-002.").passed());
        // A listed given name before the replacement, or a word of a replaced name after it.
        let left = run("y Dña. María PERSONA-001, en calidad de arrendadora.");
        assert_eq!(left.leaks.len(), 1, "{left:?}");
        assert_eq!(left.leaks[0].location, BESIDE_A_NAME);
        assert!(!run("comparecen D. PERSONA-002\nGarcía, con DNI").passed());
        assert!(!run("Estimado don PERSONA-001 Quero: le escribo").passed());
        // Words that are not names, short words, and names a blank line away are not.
        assert!(run("comparecen PERSONA-002 y Ana PERSONA-001.").passed());
        assert!(run("Garcia:\n\nPERSONA-002 firma.").passed());
        // A label above a value is no given name, even when a name is spelt the same.
        assert!(run("Titular\nIBAN\nPERSONA-001\nMaría\nPERSONA-002").passed());
        assert!(run("Titular PERSONA-001 IBAN IBAN-001").passed());
    }
}
