//! Word lists that rules share, loaded once from `wordlists/`: one list per concept, each
//! file saying where its words come from, under what license, and how they are matched.
//!
//! A file's header holds a `# match:` line: `exact` (as written), `lowercase` (any case) or
//! `folded` (any case, accents and `ñ` folded as [`fold_word`] does).

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::context::fold_word;

/// How a list compares a word with its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    Exact,
    Lowercase,
    Folded,
}

impl Matching {
    fn key(self, word: &str) -> String {
        match self {
            Matching::Exact => word.to_owned(),
            Matching::Lowercase => word.to_lowercase(),
            Matching::Folded => fold_word(word),
        }
    }
}

/// One concept's words.
#[derive(Debug)]
pub struct WordList {
    name: &'static str,
    matching: Matching,
    words: HashSet<String>,
    /// The entries as written, in file order, for listings.
    written: Vec<&'static str>,
}

impl WordList {
    /// Reads a list file: comment lines start with `#`, one entry per other line. A file
    /// without its `# match:` line is a fault of the build, caught by this crate's tests.
    fn parse(name: &'static str, file: &'static str) -> WordList {
        let matching = file
            .lines()
            .filter_map(|line| line.strip_prefix("# match:"))
            .map(str::trim)
            .find_map(|value| match value {
                "exact" => Some(Matching::Exact),
                "lowercase" => Some(Matching::Lowercase),
                "folded" => Some(Matching::Folded),
                _ => None,
            })
            .unwrap_or(Matching::Exact);
        let written: Vec<&'static str> = file
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        WordList {
            name,
            matching,
            words: written.iter().map(|word| matching.key(word)).collect(),
            written,
        }
    }

    /// Whether `word` is in the list, compared as the list's file says.
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(&self.matching.key(word))
    }

    /// The file's name without its extension.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn matching(&self) -> Matching {
        self.matching
    }

    /// The entries as the file writes them.
    pub fn entries(&self) -> &[&'static str] {
        &self.written
    }
}

macro_rules! word_lists {
    ($($(#[$doc:meta])* $list:ident = $file:literal;)*) => {
        $(
            $(#[$doc])*
            pub static $list: LazyLock<WordList> =
                LazyLock::new(|| WordList::parse($file, include_str!(concat!("../wordlists/", $file, ".txt"))));
        )*
        /// Every list, for checks and listings.
        pub fn all() -> Vec<&'static WordList> {
            vec![$(&*$list),*]
        }
        #[cfg(test)]
        const FILES: &[(&str, &str)] = &[$(($file, include_str!(concat!("../wordlists/", $file, ".txt")))),*];
    };
}

word_lists! {
    /// Function words of English and Spanish, never an entity on their own.
    FUNCTION_WORDS = "function_words";
    /// Titles written before a name ("Sr.", "Dña.", "Dr", "Mrs"), never part of it.
    TITLES = "titles";
    /// Particles that may sit inside or start a name in lower case ("de la Fuente").
    NAME_PARTICLES = "name_particles";
    /// Words that end a company's name after the people it is named after ("Inc.").
    COMPANY_DESIGNATORS = "company_designators";
    /// Words before a list of surnames that make them people rather than a firm.
    PEOPLE_BEFORE_A_LIST = "people_before_a_list";
    /// Nouns after which a single capital is a label, not an initial ("Exhibit A").
    LETTERED_NOUNS = "lettered_nouns";
    /// Roles written before a name that has no given name after them ("Judge J. Smith").
    ROLE_TITLES = "role_titles";
    /// Words that start a sentence rather than a name.
    SENTENCE_OPENERS = "sentence_openers";
    /// Words near a name that say it is a person's ("paciente", "signed").
    PERSON_CONTEXT = "person_context";
    /// Words near a name that say it is not a person's ("color", "flower").
    PERSON_NEGATIVE_CONTEXT = "person_negative_context";
    /// Words right before a name that make it a place's ("calle Juan Pérez").
    PLACE_NAMERS = "place_namers";
    /// Words for the patient's sex that Spanish clinical reports open with ("Niña").
    PATIENT_SEX_WORDS = "patient_sex_words";
    /// Names that are also the text's own words where they recur ("Paz", "Lunes").
    NOT_REPEATED_NAMES = "not_repeated_names";
}

/// Whether `word` (any case) is a function word of English or Spanish, never an entity on
/// its own.
pub fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.contains(word)
}

/// Whether `span` holds words and all of them are function words ("de la", "of the").
pub fn only_function_words(span: &str) -> bool {
    let mut words = span
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .peekable();
    words.peek().is_some() && words.all(is_function_word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_are_read_once_without_comments() {
        assert!(is_function_word("Le") && is_function_word("the") && is_function_word("DE"));
        assert!(!is_function_word("García") && !is_function_word("#"));
        assert!(only_function_words("de la") && only_function_words("Of the"));
        assert!(!only_function_words("de García") && !only_function_words(" , "));
    }

    #[test]
    fn every_list_says_how_it_matches_where_it_comes_from_and_its_license() {
        for (name, file) in FILES {
            let header: Vec<&str> = file.lines().take_while(|line| line.starts_with('#')).collect();
            let says = |prefix: &str| header.iter().any(|line| line.starts_with(prefix));
            assert!(
                header
                    .iter()
                    .any(|line| matches!(line.trim(), "# match: exact" | "# match: lowercase" | "# match: folded")),
                "{name}.txt has no valid `# match:` line"
            );
            assert!(says("# source:"), "{name}.txt does not say where its words come from");
            assert!(says("# license:"), "{name}.txt has no license line");
            let list = all().into_iter().find(|list| list.name() == *name).expect("listed");
            assert!(!list.entries().is_empty(), "{name}.txt is empty");
        }
    }

    #[test]
    fn folded_lists_match_accents_and_case() {
        assert!(TITLES.contains("Doña") && TITLES.contains("DÑA") && TITLES.contains("dona"));
        assert!(NAME_PARTICLES.contains("De") && !NAME_PARTICLES.contains("García"));
        assert!(COMPANY_DESIGNATORS.contains("Inc.") && !COMPANY_DESIGNATORS.contains("inc."));
        assert!(PATIENT_SEX_WORDS.contains("Niña") && !PATIENT_SEX_WORDS.contains("Juan"));
    }

    #[test]
    fn one_list_per_concept_no_entry_twice() {
        for list in all() {
            let mut seen = HashSet::new();
            for entry in list.entries() {
                assert!(
                    seen.insert(list.matching().key(entry)),
                    "{} lists {entry:?} twice",
                    list.name()
                );
            }
        }
    }
}
