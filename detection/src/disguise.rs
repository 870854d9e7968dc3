//! Identifiers disguised from pattern matching: invisible characters between their
//! characters ("1234\u{200B}5678Z") and letters of another script that look like Latin
//! ones (a Cyrillic "А" or a Greek "Ζ" as a DNI's letter). Detection runs on an undisguised
//! copy of such a text, and the offsets it finds are mapped back to the submitted text, so
//! that a span covers the invisible characters inside it.

use crate::detect::Detection;

/// Characters that take no room on the page: zero-width spaces and joiners, the word
/// joiner, the byte-order mark, the soft hyphen and the Mongolian vowel separator.
fn is_invisible(character: char) -> bool {
    matches!(
        character,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// The Latin letter a Cyrillic or Greek letter is drawn like, if one is.
fn latin_look_alike(character: char) -> Option<char> {
    Some(match character {
        // Cyrillic.
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'І' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        // Greek.
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        'ο' => 'o',
        _ => return None,
    })
}

/// A text with its disguises taken out, and where each of its code points came from.
#[derive(Debug)]
pub struct Undisguised {
    pub text: String,
    /// The code-point index in the submitted text of each code point of `text`.
    origin: Vec<usize>,
}

impl Undisguised {
    /// The undisguised form of `text`, or `None` when it has no disguise: no invisible
    /// character, and no look-alike letter in a word that also has ASCII letters or digits
    /// (a Russian or Greek word is left as it is).
    pub fn of(text: &str) -> Option<Undisguised> {
        if text.is_ascii()
            || !text
                .chars()
                .any(|character| is_invisible(character) || latin_look_alike(character).is_some())
        {
            return None;
        }
        let mut kept: Vec<(usize, char)> = text
            .chars()
            .enumerate()
            .filter(|(_, character)| !is_invisible(*character))
            .collect();
        let mut changed = kept.len() != text.chars().count();
        // Words: runs of letters and digits in the text without its invisible characters.
        let mut start = 0;
        while start < kept.len() {
            if !kept[start].1.is_alphanumeric() {
                start += 1;
                continue;
            }
            let end = kept[start..]
                .iter()
                .position(|(_, character)| !character.is_alphanumeric())
                .map_or(kept.len(), |length| start + length);
            let word = &mut kept[start..end];
            if word.iter().any(|(_, character)| character.is_ascii_alphanumeric()) {
                for (_, character) in word.iter_mut() {
                    if let Some(latin) = latin_look_alike(*character) {
                        *character = latin;
                        changed = true;
                    }
                }
            }
            start = end;
        }
        changed.then(|| Undisguised {
            text: kept.iter().map(|(_, character)| *character).collect(),
            origin: kept.iter().map(|(index, _)| *index).collect(),
        })
    }

    /// Moves detections found in [`Self::text`] onto `original`, the submitted text: each
    /// span starts at its first character's origin and ends after its last one's.
    pub fn restore(&self, original: &str, detections: &mut [Detection]) {
        let byte_of: Vec<usize> = original
            .char_indices()
            .map(|(byte, _)| byte)
            .chain(std::iter::once(original.len()))
            .collect();
        for detection in detections {
            let start = self.origin.get(detection.start).copied().unwrap_or(byte_of.len() - 1);
            let end = match detection.end.checked_sub(1) {
                Some(last) => self.origin.get(last).map_or(byte_of.len() - 1, |index| index + 1),
                None => 0,
            };
            detection.start = start;
            detection.end = end.max(start);
            detection.byte_start = byte_of[detection.start];
            detection.byte_end = byte_of[detection.end];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_texts_and_foreign_words_have_no_disguise() {
        assert!(Undisguised::of("DNI 12345678Z").is_none());
        assert!(Undisguised::of("Москва и Αθήνα").is_none());
        assert!(Undisguised::of("señor Núñez").is_none());
    }

    #[test]
    fn invisible_characters_go_and_look_alikes_turn_latin_in_mixed_words() {
        let undisguised = Undisguised::of("DNI 1234\u{200B}5678Ζ, Москва").unwrap();
        assert_eq!(undisguised.text, "DNI 12345678Z, Москва");
        let mut detections = vec![Detection {
            entity_type: crate::entity_type::EntityType::from("ES_NIF"),
            start: 4,
            end: 13,
            byte_start: 4,
            byte_end: 13,
            score: 1.0,
            recognizer: "es/dni".into(),
            explanation: None,
        }];
        let original = "DNI 1234\u{200B}5678Ζ, Москва";
        undisguised.restore(original, &mut detections);
        let detection = &detections[0];
        assert_eq!((detection.start, detection.end), (4, 14));
        assert_eq!(&original[detection.byte_start..detection.byte_end], "1234\u{200B}5678Ζ");
    }
}
