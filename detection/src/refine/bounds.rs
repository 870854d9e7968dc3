//! Where a model's span starts and ends, and when it is no entity, read off the text: the
//! sentence's punctuation, the capitals that bound a name, which an uncased, word-piece model
//! cannot learn from its tokens alone. Each step trims or drops spans one by one.

use super::{ORGANIZATION, PERSON, Refining, words_at};
use crate::entity_type::EntityType;
use crate::recognizer::Candidate;
use crate::wordlists::{NAME_PARTICLES, PATIENT_SEX_WORDS};

/// What to do with one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bounds {
    /// Keep it, taking code points off its ends.
    Trim {
        leading: usize,
        trailing: usize,
    },
    Drop,
}

pub(super) const KEEP: Bounds = Bounds::Trim {
    leading: 0,
    trailing: 0,
};

/// Applies `rule` to each candidate that `applies` to, trimming or dropping it.
fn reshape(
    refining: &Refining<'_>,
    candidates: Vec<Candidate>,
    applies: impl Fn(&Candidate) -> bool,
    normalized: bool,
    rule: impl Fn(&str) -> Bounds,
) -> Vec<Candidate> {
    let text = refining.text;
    candidates
        .into_iter()
        .filter_map(|mut candidate| {
            if !applies(&candidate) {
                return Some(candidate);
            }
            let span = if normalized {
                text.normalized_slice(candidate.start, candidate.end)
            } else {
                text.original_slice(candidate.start, candidate.end)
            };
            match rule(span) {
                Bounds::Drop => None,
                Bounds::Trim { leading, trailing } => {
                    candidate.start += leading;
                    candidate.end = candidate.end.saturating_sub(trailing);
                    Some(candidate)
                }
            }
        })
        .collect()
}

fn of_type(types: &[EntityType]) -> impl Fn(&Candidate) -> bool + '_ {
    move |candidate| types.contains(&candidate.entity_type)
}

fn any_type(_: &Candidate) -> bool {
    true
}

pub(super) fn sentence_marks_off_ends(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(refining, candidates, any_type, true, |span| {
        let (leading, trailing) = stray_marks_around(span);
        Bounds::Trim { leading, trailing }
    })
}

/// Types whose values are names, written with capitals in the languages served first.
const NAMED_TYPES: [EntityType; 3] = [PERSON, EntityType::LOCATION, ORGANIZATION];

pub(super) fn capitals_bound_names(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.cased {
        return candidates;
    }
    let language = refining.language;
    candidates
        .into_iter()
        .filter_map(|mut candidate| {
            if !NAMED_TYPES.contains(&candidate.entity_type) {
                return Some(candidate);
            }
            let span = refining.text.original_slice(candidate.start, candidate.end);
            let (leading, trailing) = words_to_keep(span, &candidate.entity_type, language)?;
            candidate.start += leading;
            candidate.end = candidate.end.saturating_sub(trailing);
            Some(candidate)
        })
        .collect()
}

pub(super) fn lone_letters_are_not_entities(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(refining, candidates, any_type, false, |span| {
        if is_lone_letter(span) { Bounds::Drop } else { KEEP }
    })
}

pub(super) fn patient_sex_is_not_a_person(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.spanish() {
        return candidates;
    }
    reshape(refining, candidates, of_type(&[PERSON]), false, |span| {
        if PATIENT_SEX_WORDS.contains(span) {
            Bounds::Drop
        } else {
            KEEP
        }
    })
}

/// A lone letter is never an entity ("P" of "C.P.").
fn is_lone_letter(span: &str) -> bool {
    let mut letters = span.chars().filter(|character| character.is_alphanumeric());
    letters.next().is_some_and(char::is_alphabetic) && letters.next().is_none()
}

/// How many code points of punctuation that belongs to the sentence, not the value, `span`
/// starts and ends with: a comma, semicolon, colon, opening bracket, dash, slash or mark
/// such as ® at the end ("Dublin,", "Vigo (", "Allergan®"), and a comma, semicolon, colon,
/// closing bracket, dash, slash or full stop at the start. A bracket that pairs with one
/// inside the span stays ("Instituto (IOBA)"); a full stop at the end stays ("S.A.", "J.").
fn stray_marks_around(span: &str) -> (usize, usize) {
    let chars: Vec<char> = span.chars().collect();
    let (mut start, mut end) = (0, chars.len());
    while start < end {
        let inside = &chars[start..end];
        let (first, last) = (inside[0], inside[inside.len() - 1]);
        if last.is_whitespace()
            || matches!(last, ',' | ';' | ':' | '(' | '[' | '-' | '/' | '®' | '™')
            || (last == ')' && !inside.contains(&'('))
            || (last == ']' && !inside.contains(&'['))
        {
            end -= 1;
        } else if first.is_whitespace()
            || matches!(first, ',' | ';' | ':' | ')' | ']' | '-' | '/' | '.')
            || (first == '(' && !inside.contains(&')'))
            || (first == '[' && !inside.contains(&']'))
        {
            start += 1;
        } else {
            break;
        }
    }
    (start, chars.len() - end)
}

/// For a span of a named type in a text that uses capitals: `None` when it is not a name,
/// else how many code points to take off its start and end. Where the span has a word with
/// a capital, words in lower case at its ends are not part of the name ("Leiva flew",
/// "Teresa and"), save particles at its start. In English, a person's span without a
/// capital is not a name ("the killers", "husbandry"); Spanish clinical records name
/// relatives in lower case ("su madre"), so Spanish keeps those.
fn words_to_keep(span: &str, entity: &EntityType, language: &str) -> Option<(usize, usize)> {
    let words = words_at(span, char::is_whitespace);
    let capitalized = |word: &str| word.chars().next().is_some_and(char::is_uppercase);
    let lower = |word: &str| word.chars().next().is_some_and(char::is_lowercase);
    if !words.iter().any(|(_, word)| capitalized(word)) {
        return (!(*entity == PERSON && language == "en")).then_some((0, 0));
    }
    let first = words
        .iter()
        .position(|(_, word)| !lower(word) || NAME_PARTICLES.contains(word))?;
    let last = words.iter().rposition(|(_, word)| !lower(word))?;
    let total = span.chars().count();
    let (end_at, end_word) = words[last];
    Some((words[first].0, total - (end_at + end_word.chars().count())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::AnalyzedText;

    /// Runs `step` on one span of `entity`, the first occurrence of `value` in `text`, and
    /// gives what is left of it.
    fn refined(
        step: fn(&Refining<'_>, Vec<Candidate>) -> Vec<Candidate>,
        text: &str,
        value: &str,
        entity: EntityType,
        language: &str,
    ) -> Option<String> {
        let analyzed = AnalyzedText::new(text);
        let byte = text.find(value).expect("value in text");
        let start = text[..byte].chars().count();
        let candidate = Candidate {
            entity_type: entity,
            start,
            end: start + value.chars().count(),
            score: 0.9,
            recognizer: "ner/test".into(),
            pattern: None,
            validator: None,
            context_words: Vec::new(),
            base_score: 0.9,
            only_a_place: false,
        };
        let found = step(&Refining::new(&analyzed, language), vec![candidate]);
        found
            .first()
            .map(|candidate| analyzed.original_slice(candidate.start, candidate.end).to_owned())
    }

    #[test]
    fn the_patient_s_sex_is_not_a_person_to_name() {
        let step = patient_sex_is_not_a_person;
        assert_eq!(refined(step, "Niña de 13 años", "Niña", PERSON, "es"), None);
        assert_eq!(refined(step, "NIño de 2", "NIño", PERSON, "es"), None);
        assert_eq!(refined(step, "Niña", "Niña", PERSON, "en").as_deref(), Some("Niña"));
        assert_eq!(
            refined(step, "su madre", "madre", PERSON, "es").as_deref(),
            Some("madre")
        );
    }

    #[test]
    fn lone_letters_are_not_values() {
        assert_eq!(
            refined(lone_letters_are_not_entities, "C.P.", "P", EntityType::ADDRESS, "es"),
            None
        );
        assert_eq!(
            refined(lone_letters_are_not_entities, "74 años", "74", EntityType::AGE, "es").as_deref(),
            Some("74")
        );
    }

    #[test]
    fn capitals_bound_names_the_uncased_model_runs_on() {
        assert_eq!(words_to_keep("Leiva flew", &PERSON, "en"), Some((0, 5)));
        assert_eq!(words_to_keep("Teresa and", &PERSON, "en"), Some((0, 4)));
        assert_eq!(words_to_keep("Ana Gómez Ruiz llegó ayer", &PERSON, "es"), Some((0, 11)));
        assert_eq!(words_to_keep("ex Kastner", &PERSON, "en"), Some((3, 0)));
        assert_eq!(words_to_keep("de la Fuente", &PERSON, "es"), Some((0, 0)));
        assert_eq!(words_to_keep("María de la Paz", &PERSON, "es"), Some((0, 0)));
        assert_eq!(words_to_keep("Hospital de Vigo", &ORGANIZATION, "es"), Some((0, 0)));
        // Without a capital: not a person in English, a relative in Spanish records.
        assert_eq!(words_to_keep("husbandry", &PERSON, "en"), None);
        assert_eq!(words_to_keep("madre", &PERSON, "es"), Some((0, 0)));
        assert_eq!(words_to_keep("dublin", &EntityType::LOCATION, "en"), Some((0, 0)));
        // A text without capitals says nothing by them.
        assert_eq!(
            refined(capitals_bound_names, "the killers", "the killers", PERSON, "en").as_deref(),
            Some("the killers")
        );
        assert_eq!(
            refined(capitals_bound_names, "The killers", "killers", PERSON, "en"),
            None
        );
    }

    #[test]
    fn punctuation_of_the_sentence_is_taken_off_the_ends_of_a_span() {
        assert_eq!(stray_marks_around("Dublin,"), (0, 1));
        assert_eq!(stray_marks_around("Hospital de Vigo ("), (0, 2));
        assert_eq!(stray_marks_around("Allergan®"), (0, 1));
        assert_eq!(stray_marks_around("-Chester"), (1, 0));
        assert_eq!(stray_marks_around("IOBA)"), (0, 1));
        assert_eq!(stray_marks_around("(IOBA"), (1, 0));
        assert_eq!(stray_marks_around("Instituto Aplicado (IOBA)"), (0, 0));
        assert_eq!(stray_marks_around("CERER, S.A."), (0, 0));
        assert_eq!(stray_marks_around("Carlos J."), (0, 0));
        assert_eq!(stray_marks_around(", ;"), (0, 3));
        assert_eq!(
            refined(sentence_marks_off_ends, ", ;", ", ;", ORGANIZATION, "en"),
            Some(String::new())
        );
    }
}
