//! Steps that say which spans of a model are one name, and whose: a company named after
//! people, a firm named after its partners, a name written again alone.

use std::collections::BTreeMap;

use super::{ORGANIZATION, PERSON, Refining};
use crate::gazetteer::{company_designator, firm_names, is_listed_place, is_title_or_particle};
use crate::recognizer::Candidate;
use crate::validate::dates::month_number;
use crate::wordlists::NOT_REPEATED_NAMES;

/// How many code points after a person's span are looked at for a company designator.
const CONTEXT_CHARS: usize = 16;

/// A person's span whose last word is a company designator, or is followed by one
/// ("Bertha Inc", "Wolfram Research", "Thomas and Sons"), is a company named after people:
/// an organization, with the designator after it. A span that runs over a line break into
/// the company's name ("Selina Eldarkhanov\nSmith" before " Ltd.") starts the company at
/// the last line and keeps what is before it a person, without the line break.
pub(super) fn companies_named_after_people(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let text = refining.text;
    let mut out = Vec::with_capacity(candidates.len());
    for mut candidate in candidates {
        if candidate.entity_type != PERSON {
            out.push(candidate);
            continue;
        }
        let span = text.original_slice(candidate.start, candidate.end);
        let after = text.original_slice(candidate.end, (candidate.end + CONTEXT_CHARS).min(text.char_len()));
        let Some(last) = span.split_whitespace().next_back() else {
            out.push(candidate);
            continue;
        };
        let Some(extend) = company_designator(last, after) else {
            out.push(candidate);
            continue;
        };
        let start = span
            .rfind('\n')
            .map_or(0, |line_break| span[..=line_break].chars().count());
        if start > 0 {
            let kept = text
                .original_slice(candidate.start, candidate.start + start)
                .trim_end()
                .chars()
                .count();
            out.push(Candidate {
                end: candidate.start + kept,
                ..candidate.clone()
            });
        }
        candidate.entity_type = ORGANIZATION;
        candidate.start += start;
        candidate.end = (candidate.end + extend).min(text.char_len());
        out.push(candidate);
    }
    out
}

/// Surnames the model took for people inside a firm's name ("Davis, Reynolds and
/// Williamson", see [`firm_names`]) are the firm: one ORGANIZATION over the whole name, with
/// the best score of the people that overlap it. A person's span that reaches past the
/// firm's name keeps what is outside it ("Samantha Bašić" of "Garcia songwriter Samantha
/// Bašić" after "Barnett, Melton and"), on either side.
pub(super) fn firms_are_organizations(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let (text, cased) = (refining.text, refining.cased);
    let firms: Vec<(usize, usize)> = firm_names(text.normalized(), cased)
        .into_iter()
        .map(|(start, end)| (text.char_index(start), text.char_index(end)))
        .collect();
    if firms.is_empty() {
        return candidates;
    }
    let mut out = Vec::with_capacity(candidates.len());
    let mut best: Vec<Option<Candidate>> = vec![None; firms.len()];
    for candidate in candidates {
        let firm = (candidate.entity_type == PERSON)
            .then(|| {
                firms
                    .iter()
                    .position(|&(start, end)| candidate.start < end && start < candidate.end)
            })
            .flatten();
        let Some(firm) = firm else {
            out.push(candidate);
            continue;
        };
        let (start, end) = firms[firm];
        let before = person_before(text.original_slice(candidate.start, start.max(candidate.start)), cased);
        let after = person_after(text.original_slice(end.min(candidate.end), candidate.end), cased);
        if before > 0 {
            out.push(Candidate {
                end: candidate.start + before,
                ..candidate.clone()
            });
        }
        if after > 0 {
            out.push(Candidate {
                start: candidate.end - after,
                ..candidate.clone()
            });
        }
        if best[firm].as_ref().is_none_or(|kept| candidate.score > kept.score) {
            best[firm] = Some(candidate);
        }
    }
    for (&(start, end), best) in firms.iter().zip(best) {
        if let Some(best) = best {
            out.push(Candidate {
                entity_type: ORGANIZATION,
                start,
                end,
                ..best
            });
        }
    }
    out
}

/// How many code points at the start of `text`, a person's span up to a firm's name, are
/// the person's: without punctuation at its end and, in cased text, without the sentence's
/// lower-case words ("Tânia Souza" of "Tânia Souza (of").
fn person_before(text: &str, cased: bool) -> usize {
    let not_alphanumeric = |character: char| !character.is_alphanumeric();
    let mut kept = text.trim_end_matches(not_alphanumeric);
    while cased
        && kept
            .rsplit(char::is_whitespace)
            .next()
            .and_then(|word| word.trim_start_matches(not_alphanumeric).chars().next())
            .is_some_and(char::is_lowercase)
    {
        kept = kept
            .trim_end_matches(|character: char| !character.is_whitespace())
            .trim_end_matches(not_alphanumeric);
    }
    kept.chars().count()
}

/// How many code points at the end of `text`, a person's span after a firm's name, are the
/// person's: without the firm's possessive "'s", punctuation and, in cased text, the
/// sentence's lower-case words ("Samantha" of "songwriter Samantha").
fn person_after(text: &str, cased: bool) -> usize {
    let not_alphanumeric = |character: char| !character.is_alphanumeric();
    let mut kept = ["'s", "’s"]
        .iter()
        .find_map(|possessive| text.strip_prefix(possessive))
        .unwrap_or(text)
        .trim_start_matches(not_alphanumeric);
    while cased && kept.chars().next().is_some_and(char::is_lowercase) {
        kept = kept
            .trim_start_matches(|character: char| !character.is_whitespace())
            .trim_start_matches(not_alphanumeric);
    }
    kept.chars().count()
}

/// A person named once is the same person where the same name or surname recurs in the
/// text, written the same way ("directed by Joakim Westgård and starring Westgård"): each
/// capitalized word of a person's span, of three letters or more, becomes a person's span
/// where it occurs alone and no other span covers it, with the lowest score of the spans
/// that name it.
pub(super) fn recurring_names(refining: &Refining<'_>, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.cased {
        return candidates;
    }
    let text = refining.text;
    let original = text.original();
    let mut names: BTreeMap<&str, f32> = BTreeMap::new();
    for candidate in candidates.iter().filter(|candidate| candidate.entity_type == PERSON) {
        for word in text
            .original_slice(candidate.start, candidate.end)
            .split(|character: char| !character.is_alphanumeric() && character != '-' && character != '\'')
        {
            if word.chars().count() >= 3
                && word.chars().next().is_some_and(char::is_uppercase)
                && word.chars().skip(1).any(char::is_lowercase)
                && !NOT_REPEATED_NAMES.contains(word)
                && month_number(word).is_none()
                // Titles and particles ("Dra", "Del"), and surnames that are also places
                // ("Valencia"), are other words where they recur.
                && !is_title_or_particle(word)
                && !is_listed_place(word)
            {
                let score = names.entry(word).or_insert(candidate.score);
                *score = score.min(candidate.score);
            }
        }
    }
    if names.is_empty() {
        return candidates;
    }
    let is_word_character = |character: char| character.is_alphanumeric() || character == '-';
    let mut found = Vec::new();
    for (name, score) in names {
        // Code points before each match, counted on from the previous one.
        let (mut counted_bytes, mut counted_chars) = (0, 0);
        for (byte, _) in original.match_indices(name) {
            let before = original[..byte].chars().next_back();
            let after = original[byte + name.len()..].chars().next();
            if before.is_some_and(is_word_character) || after.is_some_and(is_word_character) {
                continue;
            }
            counted_chars += original[counted_bytes..byte].chars().count();
            counted_bytes = byte;
            let start = counted_chars;
            let end = start + name.chars().count();
            let covered = candidates
                .iter()
                .chain(found.iter())
                .any(|candidate: &Candidate| candidate.start < end && start < candidate.end);
            if !covered && let Some(model) = candidates.iter().find(|candidate| candidate.entity_type == PERSON) {
                found.push(Candidate {
                    start,
                    end,
                    score,
                    base_score: score,
                    context_words: Vec::new(),
                    ..model.clone()
                });
            }
        }
    }
    candidates.extend(found);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::AnalyzedText;

    fn organization(text: &str, value: &str) -> Candidate {
        let byte = text.find(value).unwrap();
        let start = text[..byte].chars().count();
        Candidate {
            entity_type: ORGANIZATION,
            start,
            end: start + value.chars().count(),
            score: 0.9,
            recognizer: "ner/test".into(),
            pattern: None,
            validator: None,
            context_words: Vec::new(),
            base_score: 0.9,
            only_a_place: false,
        }
    }

    #[test]
    fn surnames_in_a_firm_s_name_are_the_firm() {
        let text = "Barnett, Melton and Garcia songwriter Samantha Bašić met Tânia Souza of Owens, Duran and Oneal's board \
             and Ann Lee of Jones & Brown's Bob Hall.";
        let analyzed = AnalyzedText::new(text);
        let person = |value: &str| {
            let mut candidate = organization(text, value);
            candidate.entity_type = PERSON;
            candidate
        };
        let mut melton = person("Melton");
        melton.score = 0.95;
        let found = firms_are_organizations(
            &Refining::new(&analyzed, "en"),
            vec![
                melton,
                person("Garcia songwriter Samantha Bašić"),
                person("Tânia Souza of Owens"),
                person("Duran"),
                person("Ann Lee of Jones & Brown's Bob Hall"),
            ],
        );
        let mut found: Vec<(&str, &str, f32)> = found
            .iter()
            .map(|candidate| {
                (
                    candidate.entity_type.as_str(),
                    analyzed.original_slice(candidate.start, candidate.end),
                    candidate.score,
                )
            })
            .collect();
        found.sort_by(|left, right| left.1.cmp(right.1));
        assert_eq!(
            found,
            vec![
                ("PERSON", "Ann Lee", 0.9),
                ("ORGANIZATION", "Barnett, Melton and Garcia", 0.95),
                ("PERSON", "Bob Hall", 0.9),
                ("ORGANIZATION", "Jones & Brown", 0.9),
                ("ORGANIZATION", "Owens, Duran and Oneal", 0.9),
                ("PERSON", "Samantha Bašić", 0.9),
                ("PERSON", "Tânia Souza", 0.9),
            ]
        );
    }

    #[test]
    fn a_person_around_a_firm_keeps_its_own_words() {
        assert_eq!(person_before("Tânia Souza (of ", true), "Tânia Souza".chars().count());
        assert_eq!(person_before("ann lee of ", false), "ann lee of".len());
        assert_eq!(person_after("'s Bob Hall", true), "Bob Hall".len());
        assert_eq!(person_after("’s bob hall", false), "bob hall".len());
        assert_eq!(
            person_after(" songwriter Samantha Bašić", true),
            "Samantha Bašić".chars().count()
        );
        assert_eq!(person_after(" songwriter", true), 0);
    }

    #[test]
    fn a_name_recurs_where_it_is_written_alone() {
        let text =
            "Directed by Joakim Westgård and starring Westgård, with Westgårds and May in May. Dra Valencia, Valencia.";
        let analyzed = AnalyzedText::new(text);
        let mut person = organization(text, "Joakim Westgård");
        person.entity_type = PERSON;
        let mut may = organization(text, "May in");
        may.entity_type = PERSON;
        may.end -= 3;
        let mut doctor = organization(text, "Dra Valencia");
        doctor.entity_type = PERSON;
        let found = recurring_names(&Refining::new(&analyzed, "en"), vec![person, may, doctor]);
        let values: Vec<(&str, &str)> = found
            .iter()
            .map(|candidate| {
                (
                    candidate.entity_type.as_str(),
                    analyzed.original_slice(candidate.start, candidate.end),
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                ("PERSON", "Joakim Westgård"),
                ("PERSON", "May"),
                ("PERSON", "Dra Valencia"),
                ("PERSON", "Westgård")
            ]
        );
    }

    #[test]
    fn a_company_named_after_people_is_not_a_person() {
        let company = |text: &str, value: &str| {
            let analyzed = AnalyzedText::new(text);
            let mut person = organization(text, value);
            person.entity_type = PERSON;
            companies_named_after_people(&Refining::new(&analyzed, "en"), vec![person])
                .iter()
                .map(|candidate| {
                    (
                        candidate.entity_type.clone(),
                        analyzed.original_slice(candidate.start, candidate.end).to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let organization_of = |value: &str| vec![(ORGANIZATION, value.to_owned())];
        assert_eq!(company("Bertha Inc is", "Bertha Inc"), organization_of("Bertha Inc"));
        assert_eq!(company("Johnson Inc. is", "Johnson"), organization_of("Johnson Inc."));
        assert_eq!(
            company("Wolfram Research is", "Wolfram"),
            organization_of("Wolfram Research")
        );
        assert_eq!(
            company("Thomas and Sons is an", "Thomas"),
            organization_of("Thomas and Sons")
        );
        // A designator on the next line of text.
        assert_eq!(
            company("Rand Corporation\n\n213 Main St", "Rand"),
            organization_of("Rand Corporation")
        );
        // The person on the line before the company stays a person.
        assert_eq!(
            company("Selina Eldarkhanov\nSmith Ltd.\n30102", "Selina Eldarkhanov\nSmith"),
            vec![
                (PERSON, "Selina Eldarkhanov".to_owned()),
                (ORGANIZATION, "Smith Ltd.".to_owned())
            ]
        );
        assert_eq!(
            company("Thomas and Sara left", "Thomas"),
            vec![(PERSON, "Thomas".to_owned())]
        );
        assert_eq!(
            company("Ann Smith, the CEO", "Ann Smith"),
            vec![(PERSON, "Ann Smith".to_owned())]
        );
    }
}
