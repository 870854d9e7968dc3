//! Names and places from word lists, weighed as evidence rather than matched blindly.
//!
//! A run of capitalized words is a PERSON when it starts with a known first name and holds
//! a known surname; a first name or a surname alone needs a context word ("Sr.", "Dr.",
//! "paciente") to pass. Known place names are LOCATIONs. Lower-case words are never
//! reported, so "rosa" the colour is not a person, and "Rosa" next to "color" is pushed
//! down by negative context. The lists ship in `gazetteers/` with their license.

use crate::entity_type::EntityType;
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use crate::context::{ContextWords, apply, fold_word};
use crate::recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo, RecognizerKind};
use crate::text::AnalyzedText;
use crate::wordlists::{
    COMPANY_DESIGNATORS, LETTERED_NOUNS, NAME_PARTICLES, PEOPLE_BEFORE_A_LIST, PERSON_CONTEXT, PERSON_NEGATIVE_CONTEXT,
    PLACE_NAMERS, ROLE_TITLES, SENTENCE_OPENERS, TITLES,
};

/// Score of a known first name followed by a known surname.
const FULL_NAME_SCORE: f32 = 0.65;
/// Score of a known first name, or surname, alone; context must lift it.
const PARTIAL_NAME_SCORE: f32 = 0.3;
const PLACE_SCORE: f32 = 0.6;
/// Score of a firm named after its partners ("Barnett, Melton and Garcia").
const FIRM_SCORE: f32 = 0.6;

/// Whether a name's word is a title or particle ("Dra", "Don", "del"), by its folded form.
pub fn is_title_or_particle(word: &str) -> bool {
    TITLES.contains(word) || NAME_PARTICLES.contains(word)
}

/// Whether a word is a place of the word lists ("Valencia", "France").
pub fn is_listed_place(word: &str) -> bool {
    LISTS.places.contains(&fold_word(word))
}

/// Whether a name whose last word is `last`, followed by `after`, is a company's: the last
/// word or the next one is a company designator ("Bertha Inc", "Wolfram Research"), or
/// "and Sons" follows. `Some` with how many code points of `after` the company's name
/// takes (0 when the designator ends the name already).
pub fn company_designator(last: &str, after: &str) -> Option<usize> {
    if COMPANY_DESIGNATORS.contains(last) {
        return Some(0);
    }
    let rest = after.strip_prefix(' ')?;
    let mut words = rest.split(char::is_whitespace);
    let next = words.next()?;
    let designator = next.trim_end_matches([',', ';', ')']);
    if COMPANY_DESIGNATORS.contains(designator) {
        return Some(1 + designator.chars().count());
    }
    let sons = words.next()?;
    (matches!(next, "and" | "&") && sons.starts_with("Sons")).then(|| 1 + next.chars().count() + 1 + "Sons".len())
}

/// Byte ranges of firms named after their partners' surnames: "Barnett, Melton and Garcia",
/// "Henderson, Hicks & Brown", "Johnson & Johnson", possibly followed by a possessive "'s"
/// (outside the range). Every member is one listed surname, written as a name is in the
/// text (capitalized when `cased`), and the first one does not end a longer name ("John
/// Barnett, Melton and Garcia" is not matched). Two surnames joined by "and" ("Sumarliðason
/// and Vargas") are two people, and so is a list after a word that names people
/// ([`PEOPLE_BEFORE_A_LIST`](crate::wordlists::PEOPLE_BEFORE_A_LIST)).
pub fn firm_names(text: &str, cased: bool) -> Vec<(usize, usize)> {
    firms_among(text, &words_of(text), cased)
}

fn firms_among(text: &str, words: &[Word], cased: bool) -> Vec<(usize, usize)> {
    let gap = |left: usize, right: usize| &text[words[left].end..words[right].start];
    let possessive = |index: usize| words[index].folded.ends_with("'s");
    // The end of a word that is a listed surname, before a possessive "'s".
    let surname_end = |index: usize| -> Option<usize> {
        let word = words.get(index)?;
        if cased && !word.capitalized {
            return None;
        }
        let bare = word.folded.strip_suffix("'s").unwrap_or(&word.folded);
        LISTS
            .surnames
            .contains(bare)
            .then(|| word.end - (word.folded.len() - bare.len()))
    };
    let inner_member = |index: usize| index < words.len() && !possessive(index) && surname_end(index).is_some();
    let mut out = Vec::new();
    let mut index = 0;
    while index < words.len() {
        if !inner_member(index) {
            index += 1;
            continue;
        }
        // Members joined by commas, then "and" (after two or more) or "&".
        let mut cursor = index;
        while inner_member(cursor + 1) && gap(cursor, cursor + 1) == ", " {
            cursor += 1;
        }
        let last = if cursor + 1 < words.len() && gap(cursor, cursor + 1) == " & " {
            Some(cursor + 1)
        } else if cursor > index
            && cursor + 2 < words.len()
            && words[cursor + 1].folded == "and"
            && gap(cursor, cursor + 1) == " "
            && gap(cursor + 1, cursor + 2) == " "
        {
            Some(cursor + 2)
        } else {
            None
        };
        let Some((last, end)) = last.and_then(|last| Some((last, surname_end(last)?))) else {
            index += 1;
            continue;
        };
        let ends_a_name = index > 0
            && words[index - 1].capitalized
            && gap(index - 1, index) == " "
            && !SENTENCE_OPENERS.contains(&words[index - 1].folded);
        let names_people = text[..words[index].start]
            .split(|character: char| !character.is_alphanumeric())
            .rev()
            .filter(|word| !word.is_empty())
            .take(2)
            .any(|word| PEOPLE_BEFORE_A_LIST.contains(&fold_word(word)));
        // "Smith, Jones and Thomas Wright": the last member starts a longer name.
        let starts_a_name = !possessive(last)
            && words.get(last + 1).is_some_and(|next| {
                next.capitalized
                    && gap(last, last + 1) == " "
                    && !COMPANY_DESIGNATORS.contains(&text[next.start..next.end])
                    && (LISTS.first_names.contains(&next.folded) || LISTS.surnames.contains(&next.folded))
            });
        // A list that is not a firm is no firm from any of its later members either.
        if !(ends_a_name || names_people || starts_a_name) {
            out.push((words[index].start, end));
        }
        index = last + 1;
    }
    out
}

/// English names written with a middle initial: a capitalized word, one capital letter
/// with or without a full stop, and a capitalized word ("Ella H. Snider", "Ravil G
/// Yefimov"), on one line. The shape is the evidence, so the words need not be listed;
/// a letter after a label ("Exhibit A") or before a new sentence ("War I. The") is not an
/// initial. Byte ranges.
fn names_with_initials(text: &str, words: &[Word]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for triple in words.windows(3) {
        let [first, initial, last] = triple else { continue };
        let letter = &text[initial.start..initial.end];
        let mut letters = letter.chars();
        let single_capital = letters.next().is_some_and(char::is_uppercase) && letters.next().is_none();
        let after_initial = &text[initial.end..last.start];
        if first.capitalized
            && last.capitalized
            && single_capital
            && &text[first.end..initial.start] == " "
            // Without a stop, "I" and "A" are words of a title ("How I Met Your Mother").
            && (after_initial == ". " || (after_initial == " " && !matches!(letter, "I" | "A")))
            && !TITLES.contains(&first.folded)
            && !LETTERED_NOUNS.contains(&first.folded)
            && !ROLE_TITLES.contains(&first.folded)
            && !SENTENCE_OPENERS.contains(&first.folded)
            && !SENTENCE_OPENERS.contains(&last.folded)
        {
            out.push((first.start, last.end));
        }
    }
    out
}

/// Longest run of capitalized words considered one name.
const MAX_RUN_WORDS: usize = 6;

struct Lists {
    first_names: HashSet<String>,
    surnames: HashSet<String>,
    places: HashSet<String>,
}

fn load(list: &str) -> HashSet<String> {
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| line.split_whitespace().map(fold_word).collect::<Vec<_>>().join(" "))
        .collect()
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| Lists {
    first_names: load(include_str!("../gazetteers/first_names.txt")),
    surnames: load(include_str!("../gazetteers/surnames.txt")),
    places: load(include_str!("../gazetteers/places.txt")),
});

/// Whether a folded word (see [`fold_word`]) is a listed first name.
pub fn is_first_name(folded: &str) -> bool {
    LISTS.first_names.contains(folded)
}

/// Whether a folded word is a listed surname.
pub fn is_surname(folded: &str) -> bool {
    LISTS.surnames.contains(folded)
}

/// Finds names and places listed in the gazetteers.
#[derive(Debug)]
pub struct GazetteerRecognizer {
    info: RecognizerInfo,
    context: ContextWords,
    negative_context: ContextWords,
}

impl Default for GazetteerRecognizer {
    fn default() -> GazetteerRecognizer {
        let lists = &*LISTS;
        let mut settings = BTreeMap::new();
        settings.insert("first_names".into(), lists.first_names.len().to_string());
        settings.insert("surnames".into(), lists.surnames.len().to_string());
        settings.insert("places".into(), lists.places.len().to_string());
        settings.insert("context".into(), PERSON_CONTEXT.entries().join(", "));
        let owned = |words: &[&str]| words.iter().map(|word| (*word).to_owned()).collect::<Vec<_>>();
        GazetteerRecognizer {
            info: RecognizerInfo {
                name: "gazetteer/names_and_places".into(),
                kind: RecognizerKind::Gazetteer,
                entities: vec![EntityType::PERSON, EntityType::LOCATION, EntityType::ORGANIZATION],
                languages: vec!["en".into(), "es".into()],
                description:
                    "Capitalized runs starting with a listed first name and holding a listed surname; listed places; \
                     English names with a middle initial; firms named after their partners' surnames."
                        .into(),
                settings,
            },
            context: ContextWords::new(&owned(PERSON_CONTEXT.entries())),
            negative_context: ContextWords::new(&owned(PERSON_NEGATIVE_CONTEXT.entries())),
        }
    }
}

/// A word of the text: byte span and folded form.
struct Word {
    start: usize,
    end: usize,
    folded: String,
    capitalized: bool,
}

fn words_of(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (byte, character) in text.char_indices().chain([(text.len(), ' ')]) {
        let part_of_word = character.is_alphabetic() || (start.is_some() && matches!(character, '-' | '\''));
        match (start, part_of_word) {
            (None, true) => start = Some(byte),
            (Some(begin), false) => {
                let word = text[begin..byte].trim_end_matches(['-', '\'']);
                let capitalized = word.chars().next().is_some_and(char::is_uppercase)
                    && !word.chars().skip(1).all(char::is_uppercase);
                out.push(Word {
                    start: begin,
                    end: begin + word.len(),
                    folded: fold_word(word),
                    capitalized,
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

impl GazetteerRecognizer {
    fn candidate(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
        entity: EntityType,
        span: (usize, usize),
        base: f32,
    ) -> Candidate {
        let start = text.char_index(span.0);
        let end = text.char_index(span.1);
        let window_words = text.context_window(start, end, request.context_window);
        let window: Vec<&str> = window_words.iter().map(String::as_str).collect();
        let (mut found, against) = if entity == EntityType::PERSON {
            let mut against = self.negative_context.find_in(&window);
            let before = text.normalized()[..span.0].trim_end_matches(|character: char| !character.is_alphanumeric());
            let previous = fold_word(
                before
                    .rsplit(|character: char| !character.is_alphanumeric())
                    .next()
                    .unwrap_or(""),
            );
            if PLACE_NAMERS.contains(&previous) {
                against.push(previous);
            }
            (self.context.find_in(&window), against)
        } else {
            (Vec::new(), Vec::new())
        };
        let score = apply(base, found.len(), against.len());
        found.extend(against.into_iter().map(|word| format!("-{word}")));
        Candidate {
            entity_type: entity,
            start,
            end,
            score,
            recognizer: self.info.name.clone(),
            pattern: Some("gazetteer".into()),
            validator: None,
            context_words: found,
            base_score: base,
            only_a_place: false,
        }
    }
}

impl Recognizer for GazetteerRecognizer {
    fn info(&self) -> &RecognizerInfo {
        &self.info
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok(self.candidates(text, request))
    }
}

impl GazetteerRecognizer {
    /// Every candidate in `text`; finding nothing is the only way this fails.
    fn candidates(&self, text: &AnalyzedText<'_>, request: &RecognitionRequest<'_>) -> Vec<Candidate> {
        let lists = &*LISTS;
        let haystack = text.normalized();
        let words = words_of(haystack);
        let mut out = Vec::new();
        // A firm's partners are not people here ("Owens, Duran and Oneal's").
        // Lower-case words are never reported: a firm's name is read in cased text only.
        let firms = if haystack.chars().any(char::is_uppercase) {
            firms_among(haystack, &words, true)
        } else {
            Vec::new()
        };
        for &span in &firms {
            out.push(self.candidate(text, request, EntityType::ORGANIZATION, span, FIRM_SCORE));
        }
        let in_firm = |word: &Word| firms.iter().any(|&(start, end)| start < word.end && word.start < end);
        let mut index = 0;
        while index < words.len() {
            if !words[index].capitalized || TITLES.contains(&words[index].folded) || in_firm(&words[index]) {
                index += 1;
                continue;
            }
            // A run: capitalized words, possibly joined by particles, on one line.
            let mut run = vec![index];
            let mut next = index + 1;
            while next < words.len() && run.len() < MAX_RUN_WORDS {
                let gap = &haystack[words[next - 1].end..words[next].start];
                if gap.contains('\n') || gap.trim().len() > 1 || gap.contains(['.', ';', ':']) {
                    break;
                }
                // A comma is inside a name only in its inverted form, before the given name
                // ("Pérez García, Juan"); otherwise it separates names ("Owens, Duran and
                // Oneal").
                if gap.contains(',') && !lists.first_names.contains(&words[next].folded) {
                    break;
                }
                if in_firm(&words[next]) {
                    break;
                }
                if words[next].capitalized {
                    run.push(next);
                } else if !NAME_PARTICLES.contains(&words[next].folded) {
                    break;
                }
                next += 1;
            }
            // Sentence-initial or other capitalized words may precede the name or place.
            let mut offset = 0;
            while offset < run.len() {
                let rest = &run[offset..];
                let first = &words[rest[0]];
                let last = &words[*rest.last().unwrap_or(&rest[0])];
                let place = (1..=rest.len().min(3)).rev().find(|&count| {
                    let name = rest[..count]
                        .iter()
                        .map(|&word| words[word].folded.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    lists.places.contains(&name)
                });
                if let Some(count) = place {
                    let mut candidate = self.candidate(
                        text,
                        request,
                        EntityType::LOCATION,
                        (first.start, words[rest[count - 1]].end),
                        PLACE_SCORE,
                    );
                    let also_a_name = rest[..count].iter().any(|&word| {
                        lists.first_names.contains(&words[word].folded) || lists.surnames.contains(&words[word].folded)
                    });
                    if !also_a_name {
                        candidate.only_a_place = true;
                    }
                    out.push(candidate);
                    offset += count;
                    continue;
                }
                let is_name = lists.first_names.contains(&first.folded) || lists.surnames.contains(&first.folded);
                if is_name && company_designator(&haystack[last.start..last.end], &haystack[last.end..]).is_some() {
                    break;
                }
                if lists.first_names.contains(&first.folded) {
                    let has_surname = rest[1..]
                        .iter()
                        .any(|&word| lists.surnames.contains(&words[word].folded));
                    // A speaker's name opening a line of a transcript ("Alice: Who are you?").
                    let line_start = haystack[..first.start].rsplit('\n').next().is_some_and(|line| {
                        line.chars()
                            .all(|character| character.is_whitespace() || character == '>')
                    });
                    let speaker = line_start
                        && haystack[last.end..].starts_with(':')
                        && crate::validate::dates::month_number(&haystack[first.start..first.end]).is_none();
                    let base = if has_surname || speaker {
                        FULL_NAME_SCORE
                    } else {
                        PARTIAL_NAME_SCORE
                    };
                    out.push(self.candidate(text, request, EntityType::PERSON, (first.start, last.end), base));
                    break;
                }
                if lists.surnames.contains(&first.folded) {
                    out.push(self.candidate(
                        text,
                        request,
                        EntityType::PERSON,
                        (first.start, last.end),
                        PARTIAL_NAME_SCORE,
                    ));
                    break;
                }
                offset += 1;
            }
            index = next.max(index + 1);
        }
        if request.language == "en" {
            for span in names_with_initials(haystack, &words) {
                out.push(self.candidate(text, request, EntityType::PERSON, span, FULL_NAME_SCORE));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String, f32)> {
        let analyzed = AnalyzedText::new(text);
        let request = RecognitionRequest {
            language: "es",
            context_window: 5,
        };
        GazetteerRecognizer::default()
            .recognize(&analyzed, &request)
            .unwrap()
            .into_iter()
            .map(|candidate| {
                (
                    candidate.entity_type.to_string(),
                    analyzed.original_slice(candidate.start, candidate.end).to_owned(),
                    candidate.score,
                )
            })
            .collect()
    }

    #[test]
    fn a_speaker_is_named_and_a_company_is_not_a_person() {
        let person = |text: &str, name: &str| {
            found(text)
                .iter()
                .any(|(kind, value, score)| kind == "PERSON" && value == name && *score >= 0.5)
        };
        assert!(person("Hello there.\nAlice: Who are you?", "Alice"));
        assert!(person("> John: You saved my life!", "John"));
        // Not at the start of a line, or without the colon: a first name alone needs context.
        assert!(!person("I told Alice: no.", "Alice"));
        assert!(!person("Alice who?", "Alice"));
        assert!(
            found("She works at Miller Ltd in town.")
                .iter()
                .all(|(kind, _, _)| kind != "PERSON")
        );
        assert!(
            found("She works at John Miller Research.")
                .iter()
                .all(|(kind, _, _)| kind != "PERSON")
        );
        assert!(person("She met John Miller there.", "John Miller"));
        // A comma joins a name only before the given name.
        assert!(
            found("Owens, Duran and Oneal")
                .iter()
                .all(|(kind, value, _)| kind != "PERSON" || !value.contains(','))
        );
        assert!(
            found("Firmado: Pérez García, Juan.")
                .iter()
                .any(|(_, value, _)| value == "Pérez García, Juan")
        );
    }

    #[test]
    fn firms_named_after_their_partners() {
        let firms = |text: &str, cased: bool| -> Vec<String> {
            firm_names(text, cased)
                .into_iter()
                .map(|(start, end)| text[start..end].to_owned())
                .collect()
        };
        assert_eq!(
            firms(
                "She spent a year at Jones, Mitchell and Williams as the assistant.",
                true
            ),
            ["Jones, Mitchell and Williams"]
        );
        assert_eq!(
            firms("Ezxbrl, Henderson, Hicks & Brown and Abt Associates", true),
            ["Henderson, Hicks & Brown"]
        );
        assert_eq!(firms("Johnson & Johnson makes soap.", true), ["Johnson & Johnson"]);
        assert_eq!(
            firms("Fernandez Inc., Owens, Duran and Oneal's Mrs. Filemonsen", true),
            ["Owens, Duran and Oneal"]
        );
        assert_eq!(
            firms("owens, duran and oneal\n\nthe corner", false),
            ["owens, duran and oneal"]
        );
        // People, not firms: two surnames joined by "and", a list after a word naming people,
        // the end of a longer name, given names, and lower-case words in cased text.
        assert!(firms("Sumarliðason and Vargas were engineers.", true).is_empty());
        assert!(firms("our 3 founders: Davis, Reynolds and Williamson.", true).is_empty());
        assert!(firms("We met John Barnett, Melton and Garcia.", true).is_empty());
        assert!(firms("Alice, Bob and Carol went home.", true).is_empty());
        assert!(firms("the jones, mitchell and williams of this town", true).is_empty());
        // A list rejected at its start is not a firm from a later member.
        assert!(
            firms(
                "The defendants Smith, Jones, Brown, Taylor and Wilson were convicted.",
                true
            )
            .is_empty()
        );
        assert!(firms("We met John Barnett, Melton & Garcia.", true).is_empty());
        assert!(firms("Present: Smith, Jones and Thomas Wright.", true).is_empty());
        assert_eq!(
            firms("It was bought by Barnett, Melton and Garcia Company.", true),
            ["Barnett, Melton and Garcia"]
        );
        assert_eq!(
            firms("It was acquired by Johnson & Johnson.", true),
            ["Johnson & Johnson"]
        );
        assert_eq!(
            firms(
                "The Davis, Reynolds and Williamson Orchestra was founded in 1977.",
                true
            ),
            ["Davis, Reynolds and Williamson"]
        );
        // The word lists report the firm, and none of its partners as a person.
        let hits = found("Dobrosław Tomaszewski of Fernandez Inc., Owens, Duran and Oneal's Mrs. Kathrine Filemonsen");
        assert!(
            hits.iter()
                .any(|(kind, value, _)| kind == "ORGANIZATION" && value == "Owens, Duran and Oneal"),
            "{hits:?}"
        );
        assert!(
            hits.iter().all(|(kind, value, _)| kind != "PERSON"
                || !["Owens", "Duran", "Oneal"].iter().any(|name| value.contains(name))),
            "{hits:?}"
        );
    }

    #[test]
    fn english_names_with_a_middle_initial() {
        let names = |text: &str, language: &str| -> Vec<String> {
            let analyzed = AnalyzedText::new(text);
            let request = RecognitionRequest {
                language,
                context_window: 5,
            };
            GazetteerRecognizer::default()
                .recognize(&analyzed, &request)
                .unwrap()
                .into_iter()
                .filter(|candidate| candidate.entity_type == "PERSON" && candidate.score >= 0.5)
                .map(|candidate| analyzed.original_slice(candidate.start, candidate.end).to_owned())
                .collect()
        };
        assert_eq!(
            names("Margaret S. Stouffer of Guidestar is the CEO.", "en"),
            ["Margaret S. Stouffer"]
        );
        assert_eq!(
            names("Have you been to a Ravil G Yefimov concert?", "en"),
            ["Ravil G Yefimov"]
        );
        assert_eq!(names(">Ella H. Snider\n>Otc Markets", "en"), ["Ella H. Snider"]);
        // Labels with a letter, sentence breaks, other lines and other languages.
        assert!(names("See Exhibit B Payment Terms and Vitamin D Deficiency.", "en").is_empty());
        assert!(names("Party B. Party A agrees; Factor V Leiden; Judge J. Smith ruled.", "en").is_empty());
        assert!(names("It ended World War I. The peace held.", "en").is_empty());
        assert!(names("Why I Left, and How A Friend Helped", "en").is_empty());
        assert!(names("Margaret S.\nStouffer", "en").is_empty());
        // English only: in Spanish the rule would take "Juan J. Pérez".
        assert!(names("Vino Juan J. Pérez.", "es").is_empty());
        assert_eq!(names("Came Juan J. Pérez.", "en"), ["Juan J. Pérez"]);
    }

    #[test]
    fn full_names_pass_and_single_names_need_context() {
        let hits = found("Ingresa Juan Pérez García en Madrid.");
        assert!(
            hits.iter()
                .any(|(kind, text, score)| kind == "PERSON" && text == "Juan Pérez García" && *score >= 0.5),
            "{hits:?}"
        );
        assert!(
            hits.iter()
                .any(|(kind, text, _)| kind == "LOCATION" && text == "Madrid"),
            "{hits:?}"
        );
        let alone = found("Llegó Rosa.");
        assert!(alone.iter().all(|(_, _, score)| *score < 0.5), "{alone:?}");
        let with_honorific = found("Atendida la Sra. Rosa en consulta.");
        assert!(
            with_honorific
                .iter()
                .any(|(kind, text, score)| kind == "PERSON" && text == "Rosa" && *score >= 0.5),
            "{with_honorific:?}"
        );
    }

    #[test]
    fn lower_case_and_colour_words_are_not_people() {
        assert!(found("un vestido rosa y una camisa").is_empty());
        let colour = found("El color Rosa Palo combina bien.");
        assert!(colour.iter().all(|(_, _, score)| *score < 0.5), "{colour:?}");
        let street = found("Vive en la calle Juan Pérez García, 7.");
        assert!(
            street.iter().all(|(kind, _, score)| kind != "PERSON" || *score < 0.5),
            "{street:?}"
        );
        let near_a_street = found("Vivía en la calle Mayor 7 con Juan Pérez García.");
        assert!(
            near_a_street
                .iter()
                .any(|(kind, text, score)| kind == "PERSON" && text == "Juan Pérez García" && *score >= 0.5),
            "{near_a_street:?}"
        );
    }
}
