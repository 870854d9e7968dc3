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
    /// Code-point offsets of `original`; `None` when the text is ASCII, where byte and
    /// code-point offsets agree.
    original_offsets: Option<CharOffsets>,
    /// The same for `normalized`; `None` when nothing was folded and the two agree.
    normalized_offsets: Option<CharOffsets>,
}

/// Offsets are kept per block of this many bytes.
const BLOCK: usize = 64;

/// How many code points start before each block of `BLOCK` bytes of a text. A code point's
/// offset is then found by counting within one block; a table with an entry for every code
/// point would cost four bytes per character to build, and counting by blocks vectorizes.
#[derive(Debug)]
struct CharOffsets {
    chars_before_block: Vec<u32>,
    chars: usize,
}

/// Whether a byte continues a UTF-8 sequence rather than starting a character.
fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// How many characters start in `bytes`.
fn count_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| !is_continuation(byte)).count()
}

impl CharOffsets {
    fn of(text: &str) -> CharOffsets {
        let mut chars_before_block = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut chars = 0;
        for block in text.as_bytes().chunks(BLOCK) {
            chars_before_block.push(chars as u32);
            chars += count_starts(block);
        }
        CharOffsets {
            chars_before_block,
            chars,
        }
    }

    /// The byte offset of code point `char_index`, or the text's length past its end.
    fn byte_of(&self, text: &str, char_index: usize) -> usize {
        if char_index >= self.chars {
            return text.len();
        }
        // The last block starting at or before the code point; blocks that start inside a
        // character it begins are skipped back over by `char_indices` from a boundary.
        let block = self
            .chars_before_block
            .partition_point(|&before| before as usize <= char_index)
            .saturating_sub(1);
        let mut start = block * BLOCK;
        let mut before = self.chars_before_block[block] as usize;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        if start < block * BLOCK {
            // The block began inside a character that is counted in the block before it.
            before -= 1;
        }
        text[start..]
            .char_indices()
            .nth(char_index - before)
            .map_or(text.len(), |(offset, _)| start + offset)
    }

    /// How many code points start before byte offset `byte`.
    fn char_of(&self, text: &str, byte: usize) -> usize {
        let byte = byte.min(text.len());
        let block = byte / BLOCK;
        match self.chars_before_block.get(block) {
            Some(&before) => before as usize + count_starts(&text.as_bytes()[block * BLOCK..byte]),
            None => self.chars,
        }
    }
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

/// Whether any character of `text` folds. Every character that does is encoded with a lead
/// byte of 0xC2, 0xE2, 0xE3 or 0xEF, so most texts are passed over without decoding.
fn needs_folding(text: &str) -> bool {
    text.as_bytes()
        .iter()
        .enumerate()
        .filter(|(_, byte)| matches!(byte, 0xC2 | 0xE2 | 0xE3 | 0xEF))
        .any(|(offset, _)| {
            text[offset..]
                .chars()
                .next()
                .is_some_and(|character| fold_char(character).is_some())
        })
}

impl<'a> AnalyzedText<'a> {
    pub fn new(original: &'a str) -> AnalyzedText<'a> {
        if original.is_ascii() {
            return AnalyzedText {
                original,
                normalized: std::borrow::Cow::Borrowed(original),
                original_offsets: None,
                normalized_offsets: None,
            };
        }
        let original_offsets = Some(CharOffsets::of(original));
        if !needs_folding(original) {
            // Nothing to fold: the normalized text is the original, with the same offsets.
            return AnalyzedText {
                original,
                normalized: std::borrow::Cow::Borrowed(original),
                original_offsets,
                normalized_offsets: None,
            };
        }
        let normalized: String = original
            .chars()
            .map(|character| fold_char(character).unwrap_or(character))
            .collect();
        let normalized_offsets = Some(CharOffsets::of(&normalized));
        AnalyzedText {
            original,
            normalized: std::borrow::Cow::Owned(normalized),
            original_offsets,
            normalized_offsets,
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

    /// The code-point offsets of the normalized text; `None` for ASCII text.
    fn normalized_offsets(&self) -> Option<&CharOffsets> {
        self.normalized_offsets.as_ref().or(self.original_offsets.as_ref())
    }

    /// The code-point index of a byte offset of the normalized text (a char boundary).
    pub fn char_index(&self, normalized_byte: usize) -> usize {
        match self.normalized_offsets() {
            None => normalized_byte,
            Some(offsets) => offsets.char_of(&self.normalized, normalized_byte),
        }
    }

    /// The byte offset in the original text of a code-point index.
    pub fn original_byte(&self, char_index: usize) -> usize {
        match &self.original_offsets {
            None => char_index.min(self.original.len()),
            Some(offsets) => offsets.byte_of(self.original, char_index),
        }
    }

    /// The byte offset in the normalized text of a code-point index.
    pub fn normalized_byte(&self, char_index: usize) -> usize {
        match self.normalized_offsets() {
            None => char_index.min(self.normalized.len()),
            Some(offsets) => offsets.byte_of(&self.normalized, char_index),
        }
    }

    /// Number of code points.
    pub fn char_len(&self) -> usize {
        self.original_offsets
            .as_ref()
            .map_or(self.original.len(), |offsets| offsets.chars)
    }

    /// The original text between two code-point indices.
    pub fn original_slice(&self, start: usize, end: usize) -> &'a str {
        &self.original[self.original_byte(start)..self.original_byte(end)]
    }

    /// The normalized text between two code-point indices.
    pub fn normalized_slice(&self, start: usize, end: usize) -> &str {
        &self.normalized[self.normalized_byte(start)..self.normalized_byte(end)]
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
    fn offsets_agree_with_a_full_table_across_marks() {
        let original: String = "añ ４ß 😀x\u{0301}\u{00A0}é-".repeat(20);
        let text = AnalyzedText::new(&original);
        let normalized = text.normalized().to_owned();
        assert_ne!(normalized, original, "something folds");
        let original_starts: Vec<usize> = original.char_indices().map(|(byte, _)| byte).collect();
        let normalized_starts: Vec<usize> = normalized.char_indices().map(|(byte, _)| byte).collect();
        assert_eq!(text.char_len(), original_starts.len());
        for (index, (&original_byte, &normalized_byte)) in original_starts.iter().zip(&normalized_starts).enumerate() {
            assert_eq!(text.original_byte(index), original_byte, "code point {index}");
            assert_eq!(text.normalized_byte(index), normalized_byte, "code point {index}");
            assert_eq!(text.char_index(normalized_byte), index, "byte {normalized_byte}");
        }
        assert_eq!(text.original_byte(original_starts.len()), original.len());
        assert_eq!(text.normalized_byte(original_starts.len() + 5), normalized.len());
        assert_eq!(text.char_index(normalized.len()), original_starts.len());
    }

    #[test]
    fn zero_width_and_odd_spaces_become_spaces() {
        let text = AnalyzedText::new("a\u{200B}b\u{00A0}c\u{2013}d");
        assert_eq!(text.normalized(), "a b c-d");
    }
}
