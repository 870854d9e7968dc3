//! A loaded model as one of the engine's recognizers.

use std::collections::BTreeMap;
use std::sync::Arc;

use obscura_detection::gazetteer::{firm_names, is_listed_place, is_title_or_particle};
use obscura_detection::recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo};
use obscura_detection::taxonomy::Taxonomy;
use obscura_detection::text::AnalyzedText;
use obscura_detection::validate::dates::month_number;
use obscura_detection::wordlists::only_function_words;

use crate::bounds::{Bounds, before_form_field, is_institution_head, typed_bounds, words_at};
use crate::ner::NerModel;

/// Runs a [`NerModel`] over the text and reports its spans as candidates, with the
/// taxonomy types and thresholds of the model's registry entry.
#[derive(Debug)]
pub struct NerRecognizer {
    model: Arc<NerModel>,
    info: RecognizerInfo,
    /// Taxonomy type by model label (and by group entity).
    entities: BTreeMap<String, String>,
}

impl NerRecognizer {
    pub fn new(model: Arc<NerModel>) -> NerRecognizer {
        let entry = &model.installed().entry;
        let taxonomy = Taxonomy;
        let mut entities: BTreeMap<String, String> = entry
            .labels
            .iter()
            .map(|(label, entity)| (label.clone(), taxonomy.canonical_name(entity)))
            .collect();
        for group in &entry.groups {
            entities.insert(group.entity.clone(), taxonomy.canonical_name(&group.entity));
        }
        let mut reported: Vec<String> = entities.values().cloned().collect();
        reported.sort();
        reported.dedup();
        let mut settings = BTreeMap::new();
        settings.insert("architecture".into(), entry.architecture.clone());
        settings.insert("window_tokens".into(), entry.window_tokens.to_string());
        settings.insert("window_overlap".into(), entry.window_overlap.to_string());
        settings.insert("aggregation".into(), entry.aggregation.clone());
        settings.insert("default_threshold".into(), entry.default_threshold.to_string());
        settings.insert("license".into(), entry.license.clone());
        let info = RecognizerInfo {
            name: format!("ner/{}", entry.id),
            kind: "ner",
            entities: reported,
            languages: entry.languages.clone(),
            description: entry.description.clone(),
            settings,
        };
        NerRecognizer { model, info, entities }
    }

    pub fn model(&self) -> &NerModel {
        &self.model
    }
}

impl Recognizer for NerRecognizer {
    fn info(&self) -> &RecognizerInfo {
        &self.info
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok(self.recognize_many(&[text], request)?.pop().unwrap_or_default())
    }

    /// All the texts' windows go through the model together, batched by token budget.
    /// Inference fails only on faults of the model (a tokenizer that gives ids its weights
    /// do not have, a shape it cannot take); the detection then fails with it.
    fn recognize_many(
        &self,
        texts: &[&AnalyzedText<'_>],
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Vec<Candidate>>, RecognizerError> {
        let inputs: Vec<&str> = texts.iter().map(|text| text.normalized()).collect();
        let predicted = self
            .model
            .predict(&inputs)
            .map_err(|error| RecognizerError::new(error.to_string()))?;
        Ok(predicted
            .into_iter()
            .zip(texts)
            .map(|(spans, text)| self.candidates(spans, text, request.language))
            .collect())
    }
}

impl NerRecognizer {
    /// The model's spans as candidates of taxonomy types, above their thresholds; a span
    /// of function words alone ("de la", "of the") is never an entity, whatever the model
    /// says. The default model is uncased, so the text's capitals are read here: see
    /// `words_to_keep`.
    fn candidates(
        &self,
        spans: Vec<crate::decode::LabeledSpan>,
        text: &AnalyzedText<'_>,
        language: &str,
    ) -> Vec<Candidate> {
        let entry = &self.model.installed().entry;
        let cased = text.original().chars().any(char::is_uppercase);
        let candidates = spans
            .into_iter()
            .filter(|span| !entry.skip_labels.contains(&span.label))
            .filter(|span| {
                let (start, end) = (text.normalized_byte(span.start), text.normalized_byte(span.end));
                !text.normalized().get(start..end).is_some_and(only_function_words)
            })
            .filter_map(|mut span| {
                let (start, end) = (text.normalized_byte(span.start), text.normalized_byte(span.end));
                let (leading, trailing) = label_words_around(text.normalized().get(start..end)?);
                span.start += leading;
                span.end = span.end.saturating_sub(trailing);
                let (start, end) = (text.normalized_byte(span.start), text.normalized_byte(span.end));
                let (leading, trailing) = stray_marks_around(text.normalized().get(start..end)?);
                span.start += leading;
                span.end = span.end.saturating_sub(trailing);
                let extended = text.original_slice(span.start, (span.end + CONTEXT_CHARS).min(text.char_len()));
                if let Some(kept) = before_form_field(extended, span.end - span.start) {
                    span.end = span.start + kept;
                }
                Some(span)
            })
            .flat_map(|mut span| {
                let Some(mut entity) = self.entities.get(&span.label).cloned() else {
                    return Vec::new();
                };
                if cased && NAMED_TYPES.contains(&entity.as_str()) {
                    let Some((leading, trailing)) =
                        words_to_keep(text.original_slice(span.start, span.end), &entity, language)
                    else {
                        return Vec::new();
                    };
                    span.start += leading;
                    span.end = span.end.saturating_sub(trailing);
                }
                let before = text.original_slice(span.start.saturating_sub(CONTEXT_CHARS), span.start);
                let after = text.original_slice(span.end, (span.end + CONTEXT_CHARS).min(text.char_len()));
                // The span, or a person before a company on the next line, then the company.
                let mut parts = Vec::with_capacity(1);
                match typed_bounds(
                    text.original_slice(span.start, span.end),
                    &entity,
                    language,
                    before,
                    after,
                ) {
                    Bounds::Drop => return Vec::new(),
                    Bounds::Trim { leading, trailing } => {
                        span.start += leading;
                        span.end = span.end.saturating_sub(trailing);
                    }
                    Bounds::Company { start, extend } => {
                        if start > 0 {
                            let before = text.original_slice(span.start, span.start + start);
                            let kept = before.trim_end().chars().count();
                            parts.push((entity.clone(), span.start, span.start + kept));
                        }
                        entity = "ORGANIZATION".into();
                        span.start += start;
                        span.end = (span.end + extend).min(text.char_len());
                    }
                }
                parts.push((entity, span.start, span.end));
                parts
                    .into_iter()
                    .filter_map(|(entity, start, end)| {
                        let threshold = entry
                            .thresholds
                            .get(&entity)
                            .copied()
                            .unwrap_or(entry.default_threshold);
                        (span.score >= threshold && start < end).then(|| Candidate {
                            entity_type: entity,
                            start,
                            end,
                            score: span.score,
                            recognizer: self.info.name.clone(),
                            pattern: Some(span.label.clone()),
                            validator: None,
                            context_words: Vec::new(),
                            base_score: span.score,
                        })
                    })
                    .collect()
            })
            .collect::<Vec<_>>();
        let candidates = join_institution_heads(candidates, text, language);
        let candidates = firms_are_organizations(candidates, text, cased);
        if cased {
            repeat_names(candidates, text)
        } else {
            candidates
        }
    }
}

/// How many code points around a span its bounds look at.
const CONTEXT_CHARS: usize = 16;

/// A Spanish institution's head noun alone ("Fundación", "Clínica") is the start of the
/// name the model split: joined to the organization right after it, across spaces only
/// ("Fundación" + "Hospital de Calahorra"), or else dropped.
fn join_institution_heads(mut candidates: Vec<Candidate>, text: &AnalyzedText<'_>, language: &str) -> Vec<Candidate> {
    if language != "es" {
        return candidates;
    }
    candidates.sort_by_key(|candidate| (candidate.start, candidate.end));
    let mut out: Vec<Candidate> = Vec::with_capacity(candidates.len());
    let mut head: Option<Candidate> = None;
    for candidate in candidates {
        let organization = candidate.entity_type == "ORGANIZATION";
        let candidate = match head.take() {
            Some(head)
                if organization
                    && candidate.start >= head.end
                    && text
                        .original_slice(head.end, candidate.start)
                        .chars()
                        .all(|character| character == ' ') =>
            {
                Candidate {
                    start: head.start,
                    score: head.score.min(candidate.score),
                    base_score: head.base_score.min(candidate.base_score),
                    ..candidate
                }
            }
            // A head not followed by an organization is dropped.
            _ => candidate,
        };
        if organization && is_institution_head(text.original_slice(candidate.start, candidate.end)) {
            head = Some(candidate);
        } else {
            out.push(candidate);
        }
    }
    out
}

/// Surnames the model took for people inside a firm's name ("Davis, Reynolds and
/// Williamson", see [`firm_names`]) are the firm: one ORGANIZATION over the whole name, with
/// the best score of the people that overlap it. A person's span that reaches past the
/// firm's name keeps what is outside it ("Samantha Bašić" of "Garcia songwriter Samantha
/// Bašić" after "Barnett, Melton and"), on either side.
fn firms_are_organizations(candidates: Vec<Candidate>, text: &AnalyzedText<'_>, cased: bool) -> Vec<Candidate> {
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
        let firm = (candidate.entity_type == "PERSON")
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
                entity_type: "ORGANIZATION".into(),
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

/// Words a person may be named, or called, that are also the text's own words in their
/// other occurrences ("el lunes", "la paz"): never taken as a name where they recur, and
/// neither are month names ("May 2020").
const NOT_REPEATED: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Lunes",
    "Martes",
    "Miércoles",
    "Jueves",
    "Viernes",
    "Sábado",
    "Domingo",
    "Sol",
    "Luz",
    "Rosa",
    "Paz",
    "Pilar",
    "Mar",
];

/// A person named once is the same person where the same name or surname recurs in the
/// text, written the same way ("directed by Joakim Westgård and starring Westgård"): each
/// capitalized word of a person's span, of three letters or more, becomes a person's span
/// where it occurs alone and no other span covers it, with the lowest score of the spans
/// that name it.
fn repeat_names(mut candidates: Vec<Candidate>, text: &AnalyzedText<'_>) -> Vec<Candidate> {
    let original = text.original();
    let mut names: BTreeMap<&str, f32> = BTreeMap::new();
    for candidate in candidates.iter().filter(|candidate| candidate.entity_type == "PERSON") {
        for word in text
            .original_slice(candidate.start, candidate.end)
            .split(|character: char| !character.is_alphanumeric() && character != '-' && character != '\'')
        {
            if word.chars().count() >= 3
                && word.chars().next().is_some_and(char::is_uppercase)
                && word.chars().skip(1).any(char::is_lowercase)
                && !NOT_REPEATED.contains(&word)
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
            if !covered && let Some(model) = candidates.iter().find(|candidate| candidate.entity_type == "PERSON") {
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

/// Field labels that a form puts before a value ("IBAN", "DNI", "Tel."), which the model
/// sometimes takes into the value's span ("IBAN\nAlejandro" as a name).
const LABEL_WORDS: &[&str] = &[
    "iban", "swift", "bic", "dni", "nif", "nie", "cif", "nhc", "nss", "ssn", "tel", "telf", "tlf", "tfno", "fax",
    "email", "e-mail",
];

/// How many code points of label words, with what separates them from the rest, `span`
/// starts and ends with; a span of label words alone counts all of it as leading.
fn label_words_around(span: &str) -> (usize, usize) {
    let chars: Vec<char> = span.chars().collect();
    // A label is written in capitals ("IBAN", "DNI") or ends in a colon or a full stop
    // ("Tel.", "email:"); "Nie" or "Fax" alone may be a surname.
    let is_label = |(at, word): (usize, &str)| {
        let count = word.chars().count();
        LABEL_WORDS.contains(&word.to_lowercase().as_str())
            && ((count > 1 && word.chars().all(|character| !character.is_lowercase()))
                || matches!(chars.get(at + count), Some(':' | '.')))
    };
    let words = words_at(span, |character| {
        character.is_whitespace() || matches!(character, ':' | '.' | ',')
    });
    let total = span.chars().count();
    let first_kept = words.iter().position(|&word| !is_label(word));
    let Some(first_kept) = first_kept else {
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

/// Types whose values are names, written with capitals in the languages served first.
const NAMED_TYPES: &[&str] = &["PERSON", "LOCATION", "ORGANIZATION"];

/// Particles that may start a name in lower case ("de la Fuente", "van der Berg").
const NAME_PARTICLES: &[&str] = &[
    "de", "del", "la", "las", "los", "y", "van", "von", "der", "den", "da", "das", "di", "do", "dos", "du", "le",
];

/// For a span of a named type in a text that uses capitals: `None` when it is not a name,
/// else how many code points to take off its start and end. Where the span has a word with
/// a capital, words in lower case at its ends are not part of the name ("Leiva flew",
/// "Teresa and"), save particles at its start. In English, a person's span without a
/// capital is not a name ("the killers", "husbandry"); Spanish clinical records name
/// relatives in lower case ("su madre"), so Spanish keeps those.
fn words_to_keep(span: &str, entity: &str, language: &str) -> Option<(usize, usize)> {
    let words = words_at(span, char::is_whitespace);
    let capitalized = |word: &str| word.chars().next().is_some_and(char::is_uppercase);
    let lower = |word: &str| word.chars().next().is_some_and(char::is_lowercase);
    if !words.iter().any(|(_, word)| capitalized(word)) {
        return (!(entity == "PERSON" && language == "en")).then_some((0, 0));
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
    use super::{
        AnalyzedText, Candidate, firms_are_organizations, join_institution_heads, label_words_around,
        only_function_words, person_after, person_before, repeat_names, stray_marks_around, words_to_keep,
    };

    fn organization(text: &str, value: &str) -> Candidate {
        let byte = text.find(value).unwrap();
        let start = text[..byte].chars().count();
        Candidate {
            entity_type: "ORGANIZATION".into(),
            start,
            end: start + value.chars().count(),
            score: 0.9,
            recognizer: "ner/test".into(),
            pattern: None,
            validator: None,
            context_words: Vec::new(),
            base_score: 0.9,
        }
    }

    #[test]
    fn surnames_in_a_firm_s_name_are_the_firm() {
        let text = "Barnett, Melton and Garcia songwriter Samantha Bašić met Tânia Souza of Owens, Duran and Oneal's board \
             and Ann Lee of Jones & Brown's Bob Hall.";
        let analyzed = AnalyzedText::new(text);
        let person = |value: &str| {
            let mut candidate = organization(text, value);
            candidate.entity_type = "PERSON".into();
            candidate
        };
        let mut melton = person("Melton");
        melton.score = 0.95;
        let found = firms_are_organizations(
            vec![
                melton,
                person("Garcia songwriter Samantha Bašić"),
                person("Tânia Souza of Owens"),
                person("Duran"),
                person("Ann Lee of Jones & Brown's Bob Hall"),
            ],
            &analyzed,
            true,
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
        person.entity_type = "PERSON".into();
        let mut may = organization(text, "May in");
        may.entity_type = "PERSON".into();
        may.end -= 3;
        let mut doctor = organization(text, "Dra Valencia");
        doctor.entity_type = "PERSON".into();
        let found = repeat_names(vec![person, may, doctor], &analyzed);
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
    fn a_lone_institution_head_joins_the_name_after_it_or_goes() {
        let text = "Servicio de Urología. Fundación Hospital de Calahorra, y el Instituto, Lima.";
        let analyzed = AnalyzedText::new(text);
        let found = join_institution_heads(
            vec![
                organization(text, "Hospital de Calahorra"),
                organization(text, "Fundación"),
                organization(text, "Instituto"),
            ],
            &analyzed,
            "es",
        );
        let values: Vec<&str> = found
            .iter()
            .map(|candidate| analyzed.original_slice(candidate.start, candidate.end))
            .collect();
        assert_eq!(values, ["Fundación Hospital de Calahorra"]);
        // English names end with their head; nothing is joined or dropped.
        assert_eq!(
            join_institution_heads(vec![organization(text, "Instituto")], &analyzed, "en").len(),
            1
        );
    }

    #[test]
    fn capitals_bound_names_the_uncased_model_runs_on() {
        assert_eq!(words_to_keep("Leiva flew", "PERSON", "en"), Some((0, 5)));
        assert_eq!(words_to_keep("Teresa and", "PERSON", "en"), Some((0, 4)));
        assert_eq!(
            words_to_keep("Ana Gómez Ruiz llegó ayer", "PERSON", "es"),
            Some((0, 11))
        );
        assert_eq!(words_to_keep("ex Kastner", "PERSON", "en"), Some((3, 0)));
        assert_eq!(words_to_keep("de la Fuente", "PERSON", "es"), Some((0, 0)));
        assert_eq!(words_to_keep("María de la Paz", "PERSON", "es"), Some((0, 0)));
        assert_eq!(words_to_keep("Hospital de Vigo", "ORGANIZATION", "es"), Some((0, 0)));
        // Without a capital: not a person in English, a relative in Spanish records.
        assert_eq!(words_to_keep("husbandry", "PERSON", "en"), None);
        assert_eq!(words_to_keep("madre", "PERSON", "es"), Some((0, 0)));
        assert_eq!(words_to_keep("dublin", "LOCATION", "en"), Some((0, 0)));
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
    }

    #[test]
    fn spans_of_function_words_alone_are_not_entities() {
        assert!(only_function_words("de la"));
        assert!(only_function_words("Of The"));
        assert!(only_function_words("Le"));
        assert!(!only_function_words("de la Paz"));
        assert!(!only_function_words("calle 7"));
        assert!(!only_function_words(" - "));
    }
}
