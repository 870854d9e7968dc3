//! Spanish DNI numbers whose control letter OCR read as a digit, found so that their pixels are
//! burnt all the same.

/// Whether OCR may have read `letter` as `digit` (a Z as 2 or 7, an S as 5, a B as 8).
fn misread_as(letter: u8, digit: u8) -> bool {
    matches!(
        (letter, digit),
        (b'Z', b'2' | b'7')
            | (b'S', b'5')
            | (b'B', b'8')
            | (b'G', b'6')
            | (b'T', b'7' | b'1')
            | (b'L' | b'J', b'1')
            | (b'A', b'4')
            | (b'D' | b'Q', b'0')
    )
}

/// Spanish DNI numbers whose control letter OCR read as a digit: nine digits just after "DNI"
/// or "NIF" (or "DNI nº") whose last digit is a known misreading of the letter the first eight call for
/// ("DNI 12345678Z" read as "123456787"). The text keeps what OCR read; these spans are
/// added to what detection found, so that the pixels are burnt all the same.
pub fn misread_dni(text: &str) -> Vec<obscura_detection::detect::Detection> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index + 9 <= bytes.len() {
        let run = &bytes[index..index + 9];
        let bounded = (index == 0 || !bytes[index - 1].is_ascii_alphanumeric())
            && bytes.get(index + 9).is_none_or(|byte| !byte.is_ascii_alphanumeric());
        if !(bounded && run.iter().all(u8::is_ascii_digit)) {
            index += 1;
            continue;
        }
        let number: u32 = std::str::from_utf8(&run[..8])
            .ok()
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0);
        let expected = obscura_detection::validate::spain::dni_letter(u64::from(number)) as u8;
        // The label is the word just before, or the one before "nº" or "número".
        let before = text[..index].to_lowercase();
        let mut words = before
            .split(|character: char| !character.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .rev();
        let is_label = |word: Option<&str>| matches!(word, Some("dni" | "nif" | "documento"));
        let labelled = match words.next() {
            Some("nº" | "n" | "no" | "num" | "numero" | "número") => is_label(words.next()),
            other => is_label(other),
        };
        if labelled && misread_as(expected, run[8]) {
            let start = text[..index].chars().count();
            found.push(obscura_detection::detect::Detection {
                entity_type: obscura_detection::entity_type::EntityType::ES_NIF,
                start,
                end: start + 9,
                byte_start: index,
                byte_end: index + 9,
                score: 0.85,
                recognizer: "ocr_misread_dni".into(),
                explanation: None,
            });
        }
        index += 9;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dni_whose_letter_ocr_read_as_a_digit_is_still_found() {
        let found = misread_dni("DNI 123456787, teléfono 612345678 y DNI 123456780; ref 123456787");
        let spans: Vec<(usize, usize)> = found.iter().map(|found| (found.byte_start, found.byte_end)).collect();
        // The first is 12345678Z read with a 7; the second has a 0 where a Z belongs; the last
        // has no label before it.
        assert_eq!(spans, [(4, 13)]);
        assert!(misread_dni("NIF: 12345678 2").is_empty());
        assert_eq!(misread_dni("D.N.I. nº 123456787").len(), 0, "D.N.I. is three words");
        assert_eq!(misread_dni("DNI nº 123456787").len(), 1);
    }
}
