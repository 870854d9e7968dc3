//! The text as recognizers see it: compatibility forms folded, offsets kept.
//!
//! Recognizers match on a normalized copy in which full-width ASCII, odd spaces, dashes and
//! zero-width characters are replaced one character for one character. The code-point
//! index of every character is therefore the same in both texts, and results are mapped
//! back through code-point indices. A card number in full-width digits is a card number.

/// The text of one detection request, with its normalized form and offset tables.
#[derive(Debug)]
pub struct AnalyzedText<'a> {
    original: &'a str,
    normalized: std::borrow::Cow<'a, str>,
    /// Byte offset in `original` of each code point, plus the length; empty when the text is
    /// ASCII, where byte and code-point offsets agree.
    original_starts: Vec<u32>,
    /// The same for `normalized`; empty when nothing was folded and the two agree.
    normalized_starts: Vec<u32>,
}

/// One character's replacement for matching, if it has one.
pub fn fold_char(character: char) -> Option<char> {
    match character {
        // Full-width ASCII forms: ！ to ～.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(character as u32 - 0xFF01 + 0x21),
        // Spaces that are not ASCII spaces.
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Some(' '),
        // Zero-width characters, which can hide inside identifiers.
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Some(' '),
        // Hyphens and dashes.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => Some('-'),
        _ => None,
    }
}

impl<'a> AnalyzedText<'a> {
    pub fn new(original: &'a str) -> AnalyzedText<'a> {
        if original.is_ascii() {
            return AnalyzedText {
                original,
                normalized: std::borrow::Cow::Borrowed(original),
                original_starts: Vec::new(),
                normalized_starts: Vec::new(),
            };
        }
        let mut original_starts: Vec<u32> = Vec::with_capacity(original.len() + 1);
        if !original.chars().any(|character| fold_char(character).is_some()) {
            // Nothing to fold: the normalized text is the original, with the same offsets.
            original_starts.extend(original.char_indices().map(|(byte, _)| byte as u32));
            original_starts.push(original.len() as u32);
            return AnalyzedText {
                original,
                normalized: std::borrow::Cow::Borrowed(original),
                original_starts,
                normalized_starts: Vec::new(),
            };
        }
        let mut normalized = String::with_capacity(original.len());
        let mut normalized_starts = Vec::with_capacity(original.len() + 1);
        for (byte, character) in original.char_indices() {
            original_starts.push(byte as u32);
            normalized_starts.push(normalized.len() as u32);
            normalized.push(fold_char(character).unwrap_or(character));
        }
        original_starts.push(original.len() as u32);
        normalized_starts.push(normalized.len() as u32);
        AnalyzedText {
            original,
            normalized: std::borrow::Cow::Owned(normalized),
            original_starts,
            normalized_starts,
        }
    }

    /// Up to `window` folded words before code point `start` and after `end`, skipping words
    /// that overlap the span: the same words as `context::window_around` over the whole
    /// word list, which the tests check. Scans only around the span, so it costs nothing per word of
    /// the rest of the text.
    pub fn context_window(&self, start: usize, end: usize, window: usize) -> Vec<String> {
        let text: &str = &self.normalized;
        let start_byte = self.normalized_byte(start);
        let end_byte = self.normalized_byte(end);
        let mut words = Vec::with_capacity(window * 2);

        // Before: skip the rest of a word the span starts inside, then take whole words.
        let before = &text[..start_byte];
        let mut cursor = before.len();
        if text[start_byte..].chars().next().is_some_and(char::is_alphanumeric) {
            cursor = word_start_before(before, cursor);
        }
        while words.len() < window {
            let word_end = before[..cursor]
                .trim_end_matches(|character: char| !character.is_alphanumeric())
                .len();
            cursor = word_start_before(before, word_end);
            if cursor == word_end {
                break;
            }
            words.push(crate::context::fold_word(&before[cursor..word_end]));
        }
        words.reverse();

        // After: skip the rest of a word the span ends inside, then take whole words.
        let after = &text[end_byte..];
        let mut cursor = 0;
        if text[..end_byte].chars().next_back().is_some_and(char::is_alphanumeric) {
            cursor = word_end_after(after, cursor);
        }
        for _ in 0..window {
            let rest = &after[cursor..];
            let word_start = cursor
                + (rest.len()
                    - rest
                        .trim_start_matches(|character: char| !character.is_alphanumeric())
                        .len());
            cursor = word_end_after(after, word_start);
            if cursor == word_start {
                break;
            }
            words.push(crate::context::fold_word(&after[word_start..cursor]));
        }
        words
    }

    /// The text as submitted.
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// The text recognizers match on.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Byte offsets of each code point in the normalized text; empty for ASCII text.
    fn normalized_table(&self) -> &[u32] {
        if self.normalized_starts.is_empty() {
            &self.original_starts
        } else {
            &self.normalized_starts
        }
    }

    /// The code-point index of a byte offset of the normalized text (a char boundary).
    pub fn char_index(&self, normalized_byte: usize) -> usize {
        let table = self.normalized_table();
        if table.is_empty() {
            return normalized_byte;
        }
        table.partition_point(|&start| (start as usize) < normalized_byte)
    }

    /// The byte offset in the original text of a code-point index.
    pub fn original_byte(&self, char_index: usize) -> usize {
        if self.original_starts.is_empty() {
            return char_index;
        }
        self.original_starts
            .get(char_index)
            .map_or(self.original.len(), |&byte| byte as usize)
    }

    /// The byte offset in the normalized text of a code-point index.
    pub fn normalized_byte(&self, char_index: usize) -> usize {
        let table = self.normalized_table();
        if table.is_empty() {
            return char_index;
        }
        table
            .get(char_index)
            .map_or(self.normalized.len(), |&byte| byte as usize)
    }

    /// Number of code points.
    pub fn char_len(&self) -> usize {
        if self.original_starts.is_empty() {
            self.original.len()
        } else {
            self.original_starts.len() - 1
        }
    }

    /// The original text between two code-point indices.
    pub fn original_slice(&self, start: usize, end: usize) -> &'a str {
        &self.original[self.original_byte(start)..self.original_byte(end)]
    }
}

/// The byte offset where the run of alphanumeric characters ending at `end` begins.
fn word_start_before(text: &str, end: usize) -> usize {
    text[..end].trim_end_matches(char::is_alphanumeric).len()
}

/// The byte offset where the run of alphanumeric characters starting at `start` ends.
fn word_end_after(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    start + (rest.len() - rest.trim_start_matches(char::is_alphanumeric).len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_text_is_borrowed_with_identity_offsets() {
        let text = AnalyzedText::new("call 555-0100");
        assert_eq!(text.normalized(), "call 555-0100");
        assert_eq!(text.char_index(5), 5);
        assert_eq!(text.original_byte(5), 5);
        assert_eq!(text.char_len(), 13);
    }

    #[test]
    fn full_width_digits_fold_and_offsets_map_back() {
        let original = "Tarjeta: ４１１１ é";
        let text = AnalyzedText::new(original);
        assert_eq!(text.normalized(), "Tarjeta: 4111 é");
        let start_byte = text.normalized().find('4').unwrap();
        let start = text.char_index(start_byte);
        assert_eq!(start, 9);
        assert_eq!(text.original_slice(start, start + 4), "４１１１");
        assert_eq!(text.char_len(), original.chars().count());
    }

    #[test]
    fn context_windows_agree_with_the_word_list() {
        let text = AnalyzedText::new("Teléfono del Sr. Núñez: 612-345-678, llamar después de las 5.");
        let start = text.normalized().find("612").map(|byte| text.char_index(byte)).unwrap();
        let end = start + 11;
        for window in [0, 1, 3, 10] {
            let expected: Vec<String> =
                crate::context::window_around(&crate::context::words(text.normalized()), start, end, window)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
            assert_eq!(text.context_window(start, end, window), expected, "window {window}");
        }
        // A span that starts and ends inside words skips those words' parts.
        assert_eq!(text.context_window(1, 3, 2), vec!["del".to_owned(), "sr".to_owned()]);
    }

    #[test]
    fn zero_width_and_odd_spaces_become_spaces() {
        let text = AnalyzedText::new("a\u{200B}b\u{00A0}c\u{2013}d");
        assert_eq!(text.normalized(), "a b c-d");
    }
}
