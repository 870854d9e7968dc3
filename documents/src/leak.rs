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

use serde::Serialize;

use obscura_anonymization::identity::{folded as fold, is_numeric_like};

/// Shortest normalized value the check looks for.
pub const MIN_CHECKED_CHARS: usize = 4;

/// A value that was replaced, and where it was.
#[derive(Clone)]
pub struct Replaced {
    pub entity_type: String,
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
    pub entity_type: String,
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
pub fn check(replaced: &[Replaced], output: &[(String, String)], written: &[&str]) -> LeakCheck {
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
    LeakCheck {
        status: if leaks.is_empty() { "passed" } else { "failed" },
        checked,
        too_short,
        leaks,
    }
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
        );
        assert!(clean.passed(), "{clean:?}");
        assert_eq!((clean.checked, clean.too_short), (2, 1));

        let leaked = check(
            &originals,
            &[("body".into(), "Firmado: JOSE  PEREZ. Tel. 612-34-56-78".into())],
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
        );
        assert!(partial.passed());
        // What was written in place of a value is not the value: "Iban" (a word detected as
        // a name) is not found in the alias IBAN-001, but still in the text around it.
        let iban = [replaced("PERSON", "Iban")];
        let aliases = ["PERSONA-004", "IBAN-001"];
        assert!(check(&iban, &[("t".into(), "PERSONA-004 IBAN-001".into())], &aliases).passed());
        assert!(!check(&iban, &[("t".into(), "IBAN: IBAN-001".into())], &aliases).passed());
        // A surrogate that is also an original is still looked for.
        let two = [replaced("PERSON", "Ana Ruiz"), replaced("PERSON", "Eva Gil")];
        let swapped = [("t".into(), "Eva Gil firmó.".to_owned())];
        assert!(!check(&two, &swapped, &["Eva Gil", "Luis Mora"]).passed());
        // A report never shows the value.
        assert!(!format!("{leaked:?} {:?}", originals[0]).contains("Pérez"));
    }
}
