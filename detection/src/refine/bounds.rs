//! Where a model's span of one type starts and ends, read off the text: what a name, an
//! organization, a date or an address looks like in writing, which an uncased, word-piece
//! model cannot learn from its tokens alone. Each step trims or drops spans one by one.

use super::{ORGANIZATION, PERSON, Refining, words_at};
use crate::entity_type::EntityType;
use crate::recognizer::Candidate;
use crate::wordlists::{FIELD_LABELS, INSTITUTION_HEADS, NAME_PARTICLES, PATIENT_SEX_WORDS, TITLES, is_function_word};

/// How many code points around a span the rules look at.
pub(super) const CONTEXT_CHARS: usize = 16;

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

/// A span's text and what is around it.
pub(super) struct Around<'t> {
    pub span: &'t str,
    pub before: &'t str,
    pub after: &'t str,
}

/// Applies `rule` to each candidate that `applies` to, trimming or dropping it.
fn reshape(
    refining: &Refining<'_>,
    candidates: Vec<Candidate>,
    applies: impl Fn(&Candidate) -> bool,
    normalized: bool,
    rule: impl Fn(&Around<'_>) -> Bounds,
) -> Vec<Candidate> {
    let text = refining.text;
    candidates
        .into_iter()
        .filter_map(|mut candidate| {
            if !applies(&candidate) {
                return Some(candidate);
            }
            let slice = |start: usize, end: usize| {
                if normalized {
                    text.normalized_slice(start, end)
                } else {
                    text.original_slice(start, end)
                }
            };
            let around = Around {
                span: slice(candidate.start, candidate.end),
                before: slice(candidate.start.saturating_sub(CONTEXT_CHARS), candidate.start),
                after: slice(candidate.end, (candidate.end + CONTEXT_CHARS).min(text.char_len())),
            };
            match rule(&around) {
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

pub(super) fn field_labels_off_ends(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(refining, candidates, any_type, true, |around| {
        let (leading, trailing) = label_words_around(around.span);
        Bounds::Trim { leading, trailing }
    })
}

pub(super) fn sentence_marks_off_ends(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(refining, candidates, any_type, true, |around| {
        let (leading, trailing) = stray_marks_around(around.span);
        Bounds::Trim { leading, trailing }
    })
}

pub(super) fn stop_at_next_form_field(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(refining, candidates, any_type, false, |around| {
        let length = around.span.chars().count();
        match before_form_field(&format!("{}{}", around.span, around.after), length) {
            Some(kept) => Bounds::Trim {
                leading: 0,
                trailing: length - kept,
            },
            None => KEEP,
        }
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
    reshape(refining, candidates, any_type, false, |around| {
        if is_lone_letter(around.span) {
            Bounds::Drop
        } else {
            KEEP
        }
    })
}

pub(super) fn institution_ends_before_the_next(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.spanish() {
        return candidates;
    }
    reshape(refining, candidates, of_type(&[ORGANIZATION]), false, |around| {
        let words = words_at(around.span, char::is_whitespace);
        match words.last() {
            Some(&(_, last)) if words.len() > 1 && (INSTITUTION_HEADS.contains(last) || is_ordinal(last)) => {
                without_last(around.span)
            }
            _ => KEEP,
        }
    })
}

pub(super) fn sentence_stop_off_organizations(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(refining, candidates, of_type(&[ORGANIZATION]), false, sentence_stop)
}

pub(super) fn patient_sex_is_not_a_person(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.spanish() {
        return candidates;
    }
    reshape(refining, candidates, of_type(&[PERSON]), false, |around| {
        if PATIENT_SEX_WORDS.contains(around.span) {
            Bounds::Drop
        } else {
            KEEP
        }
    })
}

pub(super) fn family_doctor_is_not_family(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.spanish() {
        return candidates;
    }
    reshape(refining, candidates, of_type(&[PERSON]), false, |around| {
        if is_family_doctor(around.span, around.before) {
            Bounds::Drop
        } else {
            KEEP
        }
    })
}

pub(super) fn trailing_title_starts_the_next_name(
    refining: &Refining<'_>,
    candidates: Vec<Candidate>,
) -> Vec<Candidate> {
    reshape(refining, candidates, of_type(&[PERSON]), false, |around| {
        let words = words_at(around.span, char::is_whitespace);
        match words.last() {
            Some(&(_, last)) if words.len() > 1 && is_trailing_title(last) => without_last(around.span),
            _ => KEEP,
        }
    })
}

pub(super) fn dates_without_sentence_words(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    reshape(
        refining,
        candidates,
        of_type(&[EntityType::DATE_TIME, EntityType::DATE_OF_BIRTH]),
        false,
        |around| date_bounds(around.span),
    )
}

pub(super) fn age_without_de_edad(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.spanish() {
        return candidates;
    }
    reshape(refining, candidates, of_type(&[EntityType::AGE]), false, |around| {
        let words = around.span.split_whitespace().count();
        if words > 2 && around.span.to_lowercase().ends_with(" de edad") {
            Bounds::Trim {
                leading: 0,
                trailing: " de edad".len(),
            }
        } else {
            KEEP
        }
    })
}

pub(super) fn postal_code_label_off_addresses(refining: &Refining<'_>, candidates: Vec<Candidate>) -> Vec<Candidate> {
    if !refining.spanish() {
        return candidates;
    }
    reshape(refining, candidates, of_type(&[EntityType::ADDRESS]), false, |around| {
        let words = words_at(around.span, char::is_whitespace);
        match words.last() {
            Some(&(_, last)) if words.len() > 1 && last.chars().count() == 1 && around.after.starts_with(".P") => {
                without_last(around.span)
            }
            _ => KEEP,
        }
    })
}

/// A lone letter is never an entity ("P" of "C.P.").
fn is_lone_letter(span: &str) -> bool {
    let mut letters = span.chars().filter(|character| character.is_alphanumeric());
    letters.next().is_some_and(char::is_alphabetic) && letters.next().is_none()
}

/// "familia" after "médico de": the family doctor, not the patient's family.
fn is_family_doctor(span: &str, before: &str) -> bool {
    let before = before.to_lowercase();
    span.to_lowercase() == "familia"
        && ["médico de ", "medico de ", "medicina de "]
            .iter()
            .any(|phrase| before.ends_with(phrase))
}

/// A title of more than one letter ("Doctor", "Dra.", "Don"): at the end of a name it
/// introduces the next one ("… Ovalle Doctor Vertiz 737").
fn is_trailing_title(word: &str) -> bool {
    let bare = word.trim_end_matches('.');
    bare.chars().count() > 1 && bare.chars().next().is_some_and(char::is_uppercase) && TITLES.contains(bare)
}

/// A full stop after a name ends the sentence ("Hospital MAZ.", "Scientific Co."); one
/// inside the last word ("S.A.") or after an initial is the name's.
fn sentence_stop(around: &Around<'_>) -> Bounds {
    let Some(last) = around.span.split_whitespace().next_back() else {
        return KEEP;
    };
    let next = around.after.trim_start_matches([' ', '\t']).chars().next();
    let sentence_ends = next.is_none_or(|character| {
        character.is_uppercase() || character.is_ascii_digit() || matches!(character, '\n' | '\r' | ')' | ']')
    });
    match last.strip_suffix('.') {
        Some(stem) if stem.chars().count() > 1 && !stem.contains('.') && sentence_ends => Bounds::Trim {
            leading: 0,
            trailing: 1,
        },
        _ => KEEP,
    }
}

/// The sentence's function words at the ends of a date ("el 30 de agosto del 2003",
/// "octubre del"); a span of nothing else is dropped.
fn date_bounds(span: &str) -> Bounds {
    let words = words_at(span, char::is_whitespace);
    let leading = words.iter().take_while(|(_, word)| is_function_word(word)).count();
    let trailing = words
        .iter()
        .rev()
        .take_while(|(_, word)| is_function_word(word))
        .count();
    if words.is_empty() {
        return KEEP;
    }
    if leading + trailing >= words.len() {
        return Bounds::Drop;
    }
    let start = words[leading].0;
    let (end_at, end_word) = words[words.len() - 1 - trailing];
    Bounds::Trim {
        leading: start,
        trailing: span.chars().count() - (end_at + end_word.chars().count()),
    }
}

/// The span without its last word, the spaces and punctuation before it, and the words
/// that only joined it to the rest ("Servicio de Pediatría del Hospital").
fn without_last(span: &str) -> Bounds {
    let words = words_at(span, char::is_whitespace);
    let Some(&(last_at, _)) = words.last() else {
        return KEEP;
    };
    let kept = span.chars().take(last_at).collect::<String>();
    let mut kept = kept.trim_end_matches(|character: char| character.is_whitespace() || matches!(character, ',' | '.'));
    while let Some((rest, word)) = kept.rsplit_once(' ')
        && matches!(word, "de" | "del" | "la" | "las" | "los" | "el" | "y" | "e")
    {
        kept = rest.trim_end();
    }
    Bounds::Trim {
        leading: 0,
        trailing: span.chars().count() - kept.chars().count(),
    }
}

/// A number or ordinal ("2ª", "4º", "3"), which ends no institution's name ("Hospital
/// Morales Meseguer 2ª planta").
fn is_ordinal(word: &str) -> bool {
    let digits = word.trim_end_matches(['ª', 'º', 'o', '°']);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

/// How many code points a span keeps when it runs over a line break into a form's next
/// field ("Calle Cronista Juan de la Torre.\nLocalidad/ Provincia: …"): the line after the
/// break starts with a label, a word followed by a colon or a slash. `extended` is the
/// span's text followed by the text after it, `length` the span's length in code points.
/// Addresses on several lines ("Suite 721\n ASKIM") keep them.
fn before_form_field(extended: &str, length: usize) -> Option<usize> {
    let (at, _) = extended
        .char_indices()
        .take(length)
        .find(|(_, character)| *character == '\n')?;
    let next_line = extended[at + 1..].trim_start();
    let label = next_line.split_whitespace().next()?;
    let is_label =
        label.chars().next().is_some_and(char::is_alphabetic) && (label.contains(':') || label.ends_with('/'));
    if !is_label {
        return None;
    }
    let kept = extended[..at].trim_end();
    let kept = kept.strip_suffix('.').unwrap_or(kept);
    Some(kept.chars().count())
}

/// How many code points of label words, with what separates them from the rest, `span`
/// starts and ends with; a span of label words alone counts all of it as leading.
fn label_words_around(span: &str) -> (usize, usize) {
    let chars: Vec<char> = span.chars().collect();
    // A label is written in capitals ("IBAN", "DNI") or ends in a colon or a full stop
    // ("Tel.", "email:"); "Nie" or "Fax" alone may be a surname.
    let is_label = |(at, word): (usize, &str)| {
        let count = word.chars().count();
        FIELD_LABELS.contains(word)
            && ((count > 1 && word.chars().all(|character| !character.is_lowercase()))
                || matches!(chars.get(at + count), Some(':' | '.')))
    };
    let words = words_at(span, |character| {
        character.is_whitespace() || matches!(character, ':' | '.' | ',')
    });
    let total = span.chars().count();
    let Some(first_kept) = words.iter().position(|&word| !is_label(word)) else {
        return (total, 0);
    };
    let leading = words[first_kept].0;
    let last_kept = words.iter().rposition(|&word| !is_label(word)).unwrap_or(first_kept);
    let (at, word) = words[last_kept];
    let trailing = total - (at + word.chars().count());
    let trailing = if last_kept + 1 < words.len() { trailing } else { 0 };
    (leading, trailing)
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

    fn trim(leading: usize, trailing: usize) -> Bounds {
        Bounds::Trim { leading, trailing }
    }

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
    fn an_institution_s_name_does_not_end_with_the_next_one_s_head() {
        let step = institution_ends_before_the_next;
        let organization = |value: &str| refined(step, value, value, ORGANIZATION, "es");
        assert_eq!(
            organization("Hospital General Servicio").as_deref(),
            Some("Hospital General")
        );
        assert_eq!(
            organization("Institut de Medicina Legal de Catalunya Servei").as_deref(),
            Some("Institut de Medicina Legal de Catalunya")
        );
        assert_eq!(
            organization("Hospital Morales Meseguer 2ª").as_deref(),
            Some("Hospital Morales Meseguer")
        );
        assert_eq!(
            organization("Servicio de Pediatría del Hospital").as_deref(),
            Some("Servicio de Pediatría")
        );
        assert_eq!(
            organization("Fundación Hospital de Calahorra").as_deref(),
            Some("Fundación Hospital de Calahorra")
        );
        assert_eq!(
            organization("Hospital 12 de Octubre").as_deref(),
            Some("Hospital 12 de Octubre")
        );
        // English names end with their head.
        let english = "Boston Children's Hospital";
        assert_eq!(
            refined(step, english, english, ORGANIZATION, "en").as_deref(),
            Some(english)
        );
    }

    #[test]
    fn a_sentence_s_full_stop_is_not_an_organization_s() {
        let stop = |span: &str, after: &str| {
            sentence_stop(&Around {
                span,
                before: "",
                after,
            })
        };
        assert_eq!(stop("Hospital MAZ.", ""), trim(0, 1));
        assert_eq!(stop("Boston Scientific Co.", " The"), trim(0, 1));
        // An abbreviation inside the sentence keeps its stop.
        assert_eq!(stop("Acme Inc.", " anunció"), KEEP);
        assert_eq!(stop("CERER, S.A.", ""), KEEP);
        assert_eq!(stop("Carlos J.", ""), KEEP);
        let text = "Trabaja en Hospital MAZ. Luego";
        assert_eq!(
            refined(
                sentence_stop_off_organizations,
                text,
                "Hospital MAZ.",
                ORGANIZATION,
                "es"
            )
            .as_deref(),
            Some("Hospital MAZ")
        );
    }

    #[test]
    fn the_patient_s_sex_and_the_family_doctor_are_not_people_to_name() {
        let step = patient_sex_is_not_a_person;
        assert_eq!(refined(step, "Niña de 13 años", "Niña", PERSON, "es"), None);
        assert_eq!(refined(step, "NIño de 2", "NIño", PERSON, "es"), None);
        assert_eq!(refined(step, "Niña", "Niña", PERSON, "en").as_deref(), Some("Niña"));
        assert_eq!(
            refined(step, "su madre", "madre", PERSON, "es").as_deref(),
            Some("madre")
        );
        let step = family_doctor_is_not_family;
        assert_eq!(refined(step, "su médico de familia", "familia", PERSON, "es"), None);
        assert_eq!(
            refined(step, "La familia", "familia", PERSON, "es").as_deref(),
            Some("familia")
        );
    }

    #[test]
    fn a_title_at_the_end_of_a_name_introduces_what_follows() {
        let step = trailing_title_starts_the_next_name;
        let text = "Teresa Sada Ovalle Doctor Vertiz 737";
        assert_eq!(
            refined(step, text, "Teresa Sada Ovalle Doctor", PERSON, "es").as_deref(),
            Some("Teresa Sada Ovalle")
        );
        assert_eq!(
            refined(step, "Doctor", "Doctor", PERSON, "es").as_deref(),
            Some("Doctor")
        );
        // A lone letter at the end is an initial, not a title.
        assert_eq!(
            refined(step, "Juan D", "Juan D", PERSON, "es").as_deref(),
            Some("Juan D")
        );
    }

    #[test]
    fn lone_letters_and_postal_code_labels_are_not_values() {
        assert_eq!(
            refined(lone_letters_are_not_entities, "C.P.", "P", EntityType::ADDRESS, "es"),
            None
        );
        assert_eq!(
            refined(lone_letters_are_not_entities, "74 años", "74", EntityType::AGE, "es").as_deref(),
            Some("74")
        );
        let step = postal_code_label_off_addresses;
        let text = "C/ José Luis Gallo, 2. C.P. 45600";
        assert_eq!(
            refined(step, text, "C/ José Luis Gallo, 2. C", EntityType::ADDRESS, "es").as_deref(),
            Some("C/ José Luis Gallo, 2")
        );
        let text = "Avda. Purísima Concepción 6, 1o A C.P.";
        assert_eq!(
            refined(
                step,
                text,
                "Avda. Purísima Concepción 6, 1o A C",
                EntityType::ADDRESS,
                "es"
            )
            .as_deref(),
            Some("Avda. Purísima Concepción 6, 1o A")
        );
        let text = "Calle Mayor 5, 1 A. 28013";
        assert_eq!(
            refined(step, text, "Calle Mayor 5, 1 A", EntityType::ADDRESS, "es").as_deref(),
            Some("Calle Mayor 5, 1 A")
        );
    }

    #[test]
    fn dates_and_ages_lose_the_sentence_s_words() {
        assert_eq!(date_bounds("el 30 de Agosto del 2003"), trim(3, 0));
        assert_eq!(date_bounds("de febrero de 2001"), trim(3, 0));
        assert_eq!(date_bounds("octubre del"), trim(0, 4));
        assert_eq!(date_bounds("30 de agosto del 2003"), KEEP);
        assert_eq!(date_bounds("de la"), Bounds::Drop);
        let step = age_without_de_edad;
        assert_eq!(
            refined(step, "dos meses de edad", "dos meses de edad", EntityType::AGE, "es").as_deref(),
            Some("dos meses")
        );
        assert_eq!(
            refined(step, "5 años", "5 años", EntityType::AGE, "es").as_deref(),
            Some("5 años")
        );
    }

    #[test]
    fn a_value_stops_at_the_next_field_of_a_form() {
        let span = "Calle Cronista Juan de la Torre.\nLocalidad";
        let extended = format!("{span}/ Provincia: Madrid");
        assert_eq!(before_form_field(&extended, span.chars().count()), Some(31));
        let span = "416 Paseo de Martí\nCP";
        assert_eq!(
            before_form_field(&format!("{span}: 28001"), span.chars().count()),
            Some(18)
        );
        // An address on several lines keeps them.
        let span = "22120 Eriksbo Västergärde 78\n Suite 721\n ASKIM";
        assert_eq!(
            before_form_field(&format!("{span}\n Sweden"), span.chars().count()),
            None
        );
        assert_eq!(before_form_field("Calle Mayor 5", 13), None);
        let text = "Calle Mayor 5\nLocalidad: Madrid";
        assert_eq!(
            refined(
                stop_at_next_form_field,
                text,
                "Calle Mayor 5\nLocalidad",
                EntityType::ADDRESS,
                "es"
            )
            .as_deref(),
            Some("Calle Mayor 5")
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

    #[test]
    fn field_labels_are_taken_off_the_ends_of_a_span() {
        assert_eq!(label_words_around("IBAN\nAlejandro"), (5, 0));
        assert_eq!(label_words_around("DNI: Ana Ruiz"), (5, 0));
        assert_eq!(label_words_around("Ana Ruiz Tel."), (0, 5));
        assert_eq!(label_words_around("Ana Ruiz"), (0, 0));
        assert_eq!(label_words_around("Ana, Ruiz."), (0, 0));
        assert_eq!(label_words_around("IBAN"), (4, 0));
        // A surname that is also a label word, written as a name.
        assert_eq!(label_words_around("Ana Nie"), (0, 0));
        assert_eq!(label_words_around("Fax Ana"), (0, 0));
        assert_eq!(
            refined(field_labels_off_ends, "DNI: Ana Ruiz", "DNI: Ana Ruiz", PERSON, "es").as_deref(),
            Some("Ana Ruiz")
        );
    }
}
