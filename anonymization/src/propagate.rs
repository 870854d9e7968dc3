//! Propagation: a value detected anywhere in a document, or in any string of a JSON value,
//! is replaced everywhere in it.
//!
//! Detection reads each paragraph or page on its own, and a name found where a title or a
//! context word points to it ("Dr. Luis Gómez") can be missed where it stands alone ("Gómez
//! firmó"). After the first pass over a document, every detected value of at least
//! [`MIN_PROPAGATED_CHARS`] characters is looked for in every unit, as a whole word and
//! without regard to case or accents, and each occurrence that no detection covers becomes
//! one, of the same type; a detection that covers only part of an occurrence keeps just
//! what lies outside it. The leak check then finds what this misses.

use aho_corasick::{AhoCorasick, MatchKind};
use obscura_detection::entity_type::EntityType;
use unicode_normalization::UnicodeNormalization;

use obscura_detection::context::fold_word;
use obscura_detection::detect::Detection;
use obscura_detection::gazetteer::is_first_name;

/// Shortest value propagated: shorter ones ("Ana", "45") would match unrelated words.
pub const MIN_PROPAGATED_CHARS: usize = 4;

/// The recognizer named in propagated detections.
pub const RECOGNIZER: &str = "document_propagation";

/// One character as compared: lowercase, without accents.
fn fold(character: char) -> char {
    if character.is_whitespace() {
        // A line break inside a value ("de\nla") is the space it stands for.
        return ' ';
    }
    let lower = character.to_lowercase().next().unwrap_or(character);
    std::iter::once(lower).nfkd().next().unwrap_or(lower)
}

/// A value as compared: folded, with runs of whitespace as one space.
fn folded_value(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .map(fold)
        .collect()
}

/// The one type of a value that detection typed differently in different units: a person
/// when one unit saw a person and the value starts with a listed given name ("Maximino
/// Barral Solano", a place where it followed "abonará a"), else the type given most often,
/// the first of those tied.
fn agreed_type(folded: &str, votes: &[(String, usize)]) -> EntityType {
    let starts_with_given_name = folded
        .split(' ')
        .next()
        .is_some_and(|word| folded.contains(' ') && is_first_name(&fold_word(word)));
    if starts_with_given_name && votes.iter().any(|(entity_type, _)| EntityType::PERSON == *entity_type) {
        return EntityType::PERSON;
    }
    let most = votes.iter().map(|(_, count)| *count).max().unwrap_or(0);
    votes.iter().find(|(_, count)| *count == most).map_or_else(
        || EntityType::new(String::new()),
        |(entity_type, _)| EntityType::new(entity_type.as_str()),
    )
}

/// The values of a document, ready to be found in its units.
pub struct Propagation {
    automaton: AhoCorasick,
    types: Vec<EntityType>,
}

impl Propagation {
    /// From (entity type, value) pairs; `None` when no value is long enough.
    pub fn new<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Propagation> {
        let mut needles: Vec<String> = Vec::new();
        // Per value, how often each type was given to it.
        let mut votes: Vec<Vec<(String, usize)>> = Vec::new();
        for (entity_type, value) in values {
            let value = value.trim();
            if value.chars().count() < MIN_PROPAGATED_CHARS {
                continue;
            }
            let needle = folded_value(value);
            let index = needles.iter().position(|known| *known == needle).unwrap_or_else(|| {
                needles.push(needle);
                votes.push(Vec::new());
                needles.len() - 1
            });
            match votes[index].iter_mut().find(|(known, _)| known == entity_type) {
                Some((_, count)) => *count += 1,
                None => votes[index].push((entity_type.to_owned(), 1)),
            }
        }
        let types: Vec<EntityType> = needles
            .iter()
            .zip(&votes)
            .map(|(needle, votes)| agreed_type(needle, votes))
            .collect();
        if needles.is_empty() {
            return None;
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&needles)
            .ok()?;
        Some(Propagation { automaton, types })
    }

    /// Adds a detection for every whole-word occurrence in `text` that no detection in
    /// `detections` overlaps; keeps them sorted by start.
    pub fn apply(&self, text: &str, detections: &mut Vec<Detection>) {
        // Folded, with each run of whitespace as one space (justified PDF lines space words
        // out: "68  años"), and for each folded character the original one it stands for.
        let characters: Vec<char> = text.chars().collect();
        let mut folded = String::with_capacity(text.len());
        let mut origin: Vec<usize> = Vec::with_capacity(characters.len());
        for (index, character) in characters.iter().enumerate() {
            let character = fold(*character);
            if character == ' ' && folded.ends_with(' ') {
                continue;
            }
            folded.push(character);
            origin.push(index);
        }
        let folded_starts: Vec<usize> = folded.char_indices().map(|(byte, _)| byte).collect();
        let char_of = |byte: usize| folded_starts.partition_point(|&start| start < byte);
        let original_bytes: Vec<usize> = text
            .char_indices()
            .map(|(byte, _)| byte)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut added = Vec::new();
        // Every occurrence, overlapping ones too (a value may start inside another one's
        // occurrence), longest first where two start together; in original characters.
        let mut occurrences: Vec<(usize, usize, usize)> = self
            .automaton
            .find_overlapping_iter(&folded)
            .filter(|found| found.end() > found.start())
            .map(|found| {
                let (start, end) = (char_of(found.start()), char_of(found.end()));
                (origin[start], origin[end - 1] + 1, found.pattern().as_usize())
            })
            .collect();
        occurrences.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        for (start, end, pattern) in occurrences {
            let before = start.checked_sub(1).map(|index| characters[index]);
            let after = characters.get(end).copied();
            if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
                continue;
            }
            // A detection of exactly the value takes the value's one type.
            for detection in detections.iter_mut() {
                if detection.start == start && detection.end == end && detection.entity_type != self.types[pattern] {
                    detection.entity_type = self.types[pattern].clone();
                }
            }
            let covered = detections
                .iter()
                .any(|detection| detection.start <= start && detection.end >= end);
            if covered
                || added
                    .iter()
                    .any(|other: &Detection| other.start < end && other.end > start)
            {
                continue;
            }
            // A detection inside the value gives way to it; one that covers only part of it
            // gives that part up and keeps what lies outside ("IBAN\nAlejandro" before
            // "Alejandro Martínez Soto").
            let span_text = |from: usize, to: usize| &text[original_bytes[from]..original_bytes[to]];
            detections.retain_mut(|detection| {
                if detection.start >= end || detection.end <= start {
                    return true;
                }
                if detection.start < start {
                    detection.end = detection.start + span_text(detection.start, start).trim_end().chars().count();
                } else if detection.end > end {
                    detection.start = detection.end - span_text(end, detection.end).trim_start().chars().count();
                } else {
                    return false;
                }
                detection.byte_start = original_bytes[detection.start];
                detection.byte_end = original_bytes[detection.end];
                text[detection.byte_start..detection.byte_end]
                    .chars()
                    .any(char::is_alphanumeric)
            });
            added.push(Detection {
                entity_type: self.types[pattern].clone(),
                start,
                end,
                byte_start: original_bytes[start],
                byte_end: original_bytes[end],
                score: 1.0,
                recognizer: RECOGNIZER.to_owned(),
                explanation: None,
            });
        }
        if !added.is_empty() {
            detections.extend(added);
            detections.sort_by_key(|detection| (detection.start, detection.end));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(text: &str, value: &str, entity_type: &str) -> Detection {
        let byte_start = text.find(value).unwrap();
        let start = text[..byte_start].chars().count();
        Detection {
            entity_type: entity_type.into(),
            start,
            end: start + value.chars().count(),
            byte_start,
            byte_end: byte_start + value.len(),
            score: 0.9,
            recognizer: "test".into(),
            explanation: None,
        }
    }

    #[test]
    fn a_value_typed_two_ways_gets_one_type() {
        let propagation = Propagation::new([
            ("LOCATION", "Maximino Barral Solano"),
            ("PERSON", "Maximino Barral Solano"),
            ("LOCATION", "Solano Park"),
            ("ORGANIZATION", "Banco Central"),
            ("LOCATION", "Banco Central"),
            ("LOCATION", "banco central"),
        ])
        .unwrap();
        let text = "La renta se abonará a Maximino Barral Solano y al Banco Central.";
        let mut detections = vec![
            detection(text, "Maximino Barral Solano", "LOCATION"),
            detection(text, "Banco Central", "ORGANIZATION"),
        ];
        propagation.apply(text, &mut detections);
        let types: Vec<&str> = detections
            .iter()
            .map(|detection| detection.entity_type.as_str())
            .collect();
        assert_eq!(types, ["PERSON", "LOCATION"]);
    }

    #[test]
    fn values_are_found_across_the_extra_spaces_of_justified_lines() {
        let propagation = Propagation::new([("AGE", "68 años")]).unwrap();
        let text = "Edad:68 años Sexo: H.\nMotivo de  ingreso:  Varón  de  68  años  de  edad.";
        let mut detections = vec![detection(text, "68 años", "AGE")];
        propagation.apply(text, &mut detections);
        let found: Vec<&str> = detections
            .iter()
            .map(|detection| &text[detection.byte_start..detection.byte_end])
            .collect();
        assert_eq!(found, ["68 años", "68  años"]);
    }

    #[test]
    fn detected_values_are_found_again_as_whole_words_whatever_their_case() {
        let first = "Atendido por el Dr. Luis Gómez en Málaga.";
        let propagation =
            Propagation::new([("PERSON", "Luis Gómez"), ("LOCATION", "Málaga"), ("PERSON", "Ana")]).unwrap();
        let text = "Firma: LUIS\nGOMEZ. Luis Gómezano no. Vuelve a Malaga; Ana no se propaga.";
        let mut detections = vec![detection(text, "Firma", "ORGANIZATION")];
        propagation.apply(text, &mut detections);
        let found: Vec<(&str, &str)> = detections
            .iter()
            .map(|detection| {
                (
                    detection.entity_type.as_str(),
                    &text[detection.byte_start..detection.byte_end],
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("ORGANIZATION", "Firma"),
                ("PERSON", "LUIS\nGOMEZ"),
                ("LOCATION", "Malaga")
            ]
        );
        // A covered occurrence is not added twice.
        let mut covered = vec![detection(first, "Luis Gómez", "PERSON")];
        propagation.apply(first, &mut covered);
        assert_eq!(covered.len(), 2, "only Málaga is added");
        assert!(Propagation::new([("AGE", "45")]).is_none());

        // A detection that holds part of the value, and more before it, keeps only what is
        // before; one inside it gives way.
        let text = "Titular IBAN\nLuis Gómez ES91";
        let mut partial = vec![
            detection(text, "IBAN\nLuis", "PERSON"),
            detection(text, "Gómez", "PERSON"),
        ];
        propagation.apply(text, &mut partial);
        let found: Vec<&str> = partial
            .iter()
            .map(|detection| &text[detection.byte_start..detection.byte_end])
            .collect();
        assert_eq!(found, ["IBAN", "Luis Gómez"]);
        assert_eq!((partial[0].start, partial[0].end), (8, 12));
    }
}
