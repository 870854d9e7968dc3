//! Steps on a text's findings once overlaps are resolved, whoever found them: a person is
//! one span, whole, and function words alone are no entity.

use super::{PERSON, Refining};
use crate::context::fold_word;
use crate::gazetteer::{is_first_name, is_listed_place, is_surname, is_title_or_particle};
use crate::recognizer::Candidate;
use crate::wordlists::{is_function_word, only_function_words};

/// True when what parts two spans is whitespace with at most one line break.
fn only_a_space_between(between: &str) -> bool {
    !between.is_empty() && between.chars().all(char::is_whitespace) && between.matches('\n').count() <= 1
}

/// Adjacent person spans become one: a model often tags a given name and each surname
/// apart, and one person must get one alias.
pub(super) fn join_person_parts(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let text = refining.text;
    let mut out: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if let Some(previous) = out.last_mut()
            && previous.entity_type == PERSON
            && candidate.entity_type == PERSON
            && candidate.start >= previous.end
            && only_a_space_between(text.original_slice(previous.end, candidate.start))
        {
            previous.end = candidate.end;
            previous.score = previous.score.max(candidate.score);
            previous.base_score = previous.base_score.max(candidate.base_score);
            continue;
        }
        out.push(candidate);
    }
    out
}

/// A capitalized word that the word lists know as a given name, right before a person's
/// span, is part of the name ("Dña. María López Ruiz" when only "López Ruiz" was found).
/// Titles stay outside.
pub(super) fn given_name_before_person(refining: &Refining<'_>, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    let text = refining.text;
    let characters: Vec<char> = text.original().chars().collect();
    for index in 0..candidates.len() {
        if candidates[index].entity_type != PERSON {
            continue;
        }
        // Up to two given names ("José Luis").
        for _ in 0..2 {
            let start = candidates[index].start;
            let floor = if index == 0 { 0 } else { candidates[index - 1].end };
            let Some((word_start, word)) = word_before(&characters, start, floor) else {
                break;
            };
            let capitalized = word.chars().next().is_some_and(char::is_uppercase);
            if !capitalized
                || word.chars().count() < 2
                || is_title_or_particle(&word)
                || !is_first_name(&fold_word(&word))
            {
                break;
            }
            candidates[index].start = word_start;
        }
    }
    candidates
}

/// Spans of function words alone are dropped; a deny-list entry stays, since the caller
/// asked for it.
pub(super) fn function_words_are_not_entities(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let text = refining.text;
    candidates
        .into_iter()
        .filter(|candidate| {
            candidate.recognizer == "deny_list"
                || !only_function_words(text.original_slice(candidate.start, candidate.end))
        })
        .collect()
}

/// Most words a person's name grows to by [`surname_after_person`].
const MAX_NAME_WORDS: usize = 4;

/// A capitalized word that the word lists know as a surname (and not as a place), right
/// after a person's span on the same line, is part of the name.
pub(super) fn surname_after_person(refining: &Refining<'_>, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    let text = refining.text;
    let characters: Vec<char> = text.original().chars().collect();
    for index in 0..candidates.len() {
        if candidates[index].entity_type != PERSON {
            continue;
        }
        let ceiling = candidates.get(index + 1).map_or(characters.len(), |next| next.start);
        let end = candidates[index].end;
        if end >= ceiling || characters[end] != ' ' {
            continue;
        }
        let word_start = end + 1;
        let mut word_end = word_start;
        while word_end < ceiling && characters[word_end].is_alphabetic() {
            word_end += 1;
        }
        let word: String = characters[word_start..word_end].iter().collect();
        let words_now = text
            .original_slice(candidates[index].start, end)
            .split_whitespace()
            .count();
        let glued = characters
            .get(word_end)
            .is_some_and(|next| next.is_alphanumeric() || *next == '-');
        if word.chars().count() < 2
            || glued
            || words_now >= MAX_NAME_WORDS
            || !word.chars().next().is_some_and(char::is_uppercase)
            || is_function_word(&word)
            || is_listed_place(&word)
            || !is_surname(&fold_word(&word))
        {
            continue;
        }
        candidates[index].end = word_end;
    }
    candidates
}

/// The word ending just before `start` (after one space or line break), starting at or
/// after `floor`.
fn word_before(characters: &[char], start: usize, floor: usize) -> Option<(usize, String)> {
    let mut end = start;
    let mut spaces = 0;
    while end > floor && characters[end - 1].is_whitespace() {
        end -= 1;
        spaces += 1;
    }
    if spaces == 0 || spaces > 1 && characters[end..start].iter().filter(|c| **c == '\n').count() > 1 {
        return None;
    }
    let mut word_start = end;
    while word_start > floor && characters[word_start - 1].is_alphabetic() {
        word_start -= 1;
    }
    if word_start == end {
        return None;
    }
    // A word glued to what comes before (a hyphen, a digit) is not a name of its own.
    if word_start > floor
        && !characters[word_start - 1].is_whitespace()
        && !"(\"'«“".contains(characters[word_start - 1])
    {
        return None;
    }
    Some((word_start, characters[word_start..end].iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::AnalyzedText;

    fn person(start: usize, end: usize) -> Candidate {
        Candidate {
            entity_type: PERSON,
            start,
            end,
            score: 0.6,
            recognizer: "ner/test".into(),
            pattern: None,
            validator: None,
            context_words: Vec::new(),
            base_score: 0.6,
            only_a_place: false,
        }
    }

    fn spans(text: &str, candidates: &[Candidate]) -> Vec<String> {
        let characters: Vec<char> = text.chars().collect();
        candidates
            .iter()
            .map(|candidate| characters[candidate.start..candidate.end].iter().collect())
            .collect()
    }

    #[test]
    fn person_parts_parted_by_spaces_are_one_person() {
        let text = "comparecen D. Juan Pérez García, con DNI";
        let analyzed = AnalyzedText::new(text);
        let found = join_person_parts(
            &Refining::new(&analyzed, "es"),
            vec![person(14, 18), person(19, 24), person(25, 31)],
        );
        assert_eq!(spans(text, &found), ["Juan Pérez García"]);

        // A comma, a blank line or another type between them keeps them apart.
        let text = "Juan Pérez, García\n\nAna";
        let analyzed = AnalyzedText::new(text);
        let found = join_person_parts(
            &Refining::new(&analyzed, "es"),
            vec![person(0, 4), person(5, 10), person(12, 18), person(20, 23)],
        );
        assert_eq!(spans(text, &found), ["Juan Pérez", "García", "Ana"]);
    }

    #[test]
    fn a_listed_given_name_before_a_person_joins_it_and_titles_do_not() {
        let text = "y Dña. María López Ruiz, en calidad";
        let analyzed = AnalyzedText::new(text);
        let found = given_name_before_person(&Refining::new(&analyzed, "es"), vec![person(13, 23)]);
        assert_eq!(spans(text, &found), ["María López Ruiz"]);

        let text = "Sr. José Luis Martín";
        let analyzed = AnalyzedText::new(text);
        let found = given_name_before_person(&Refining::new(&analyzed, "es"), vec![person(14, 20)]);
        assert_eq!(spans(text, &found), ["José Luis Martín"]);

        // Not a given name, not capitalized, or a title: the span stays.
        for (text, start) in [("la Mesa López", 8), ("de maría López", 9), ("Doña López", 5)] {
            let analyzed = AnalyzedText::new(text);
            let end = text.chars().count();
            let found = given_name_before_person(&Refining::new(&analyzed, "es"), vec![person(start, end)]);
            assert_eq!(found[0].start, start, "{text}");
        }
    }

    #[test]
    fn function_words_alone_are_no_entity() {
        let text = "Le escribo en nombre de la Paz";
        let analyzed = AnalyzedText::new(text);
        let mut denied = person(11, 13);
        denied.recognizer = "deny_list".into();
        let found = function_words_are_not_entities(
            &Refining::new(&analyzed, "es"),
            vec![person(0, 2), person(24, 30), denied],
        );
        assert_eq!(spans(text, &found), ["la Paz", "en"]);
    }

    #[test]
    fn a_listed_surname_after_a_person_joins_it() {
        let text = "Estimado don Baldomero Suárez Quero: le escribo";
        let analyzed = AnalyzedText::new(text);
        let found = surname_after_person(&Refining::new(&analyzed, "es"), vec![person(13, 29)]);
        assert_eq!(spans(text, &found), ["Baldomero Suárez Quero"]);
        // Not a surname, a place, lower case, on the next line, or glued: the span stays.
        for text in [
            "Ana Gil Escribe",
            "Ana Gil Madrid",
            "Ana Gil quero",
            "Ana Gil\nQuero",
            "Ana Gil Quero-Ruiz",
        ] {
            let analyzed = AnalyzedText::new(text);
            let found = surname_after_person(&Refining::new(&analyzed, "es"), vec![person(0, 7)]);
            assert_eq!(found[0].end, 7, "{text}");
        }
    }

    #[test]
    fn steps_can_be_switched_off_by_name() {
        let text = "Juan Pérez";
        let analyzed = AnalyzedText::new(text);
        let parts = vec![person(0, 4), person(5, 10)];
        let refining = Refining::new(&analyzed, "es");
        assert_eq!(super::super::refine(&refining, parts.clone(), &[]).len(), 1);
        assert_eq!(
            super::super::refine(&refining, parts, &["join_person_parts".to_owned()]).len(),
            2
        );
    }
}
