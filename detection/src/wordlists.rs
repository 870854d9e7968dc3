//! Word lists that several rules share, loaded once from `wordlists/`; one list per concept.

use std::collections::HashSet;
use std::sync::LazyLock;

static FUNCTION_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../wordlists/function_words.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Whether `word` (any case) is a function word of English or Spanish, never an entity on
/// its own.
pub fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.contains(word.to_lowercase().as_str())
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
}
