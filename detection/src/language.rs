//! The language of a text when a request does not say it: English or Spanish, the two the
//! packs know words of, told apart by their commonest short words.

/// Words frequent in Spanish and rare in English.
const SPANISH: &[&str] = &[
    "de", "la", "el", "que", "y", "en", "los", "del", "las", "por", "con", "una", "para", "se", "su", "al", "es", "lo",
    "como", "pero", "sus", "le", "ha", "fue", "este", "esta", "entre", "cuando", "sobre", "también", "sin", "dicho",
    "don", "doña",
];

/// Words frequent in English and rare in Spanish.
const ENGLISH: &[&str] = &[
    "the", "and", "of", "to", "is", "in", "that", "for", "with", "was", "on", "as", "by", "at", "it", "from", "this",
    "be", "are", "or", "his", "her", "have", "has", "an", "which", "were", "will", "would", "their", "my", "your",
    "our", "call", "please",
];

/// How much of a text is read: the first this many bytes.
pub const SAMPLE_BYTES: usize = 16 * 1024;

/// `es` when the texts' common words are more Spanish than English, else `en`.
pub fn guess(texts: &[&str]) -> &'static str {
    let mut spanish = 0usize;
    let mut english = 0usize;
    let mut budget = SAMPLE_BYTES;
    for text in texts {
        if budget == 0 {
            break;
        }
        let mut end = text.len().min(budget);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        budget -= end;
        for word in text[..end].split(|character: char| !character.is_alphanumeric()) {
            if word.is_empty() || word.len() > 8 {
                continue;
            }
            let lower = word.to_lowercase();
            if SPANISH.contains(&lower.as_str()) {
                spanish += 1;
            } else if ENGLISH.contains(&lower.as_str()) {
                english += 1;
            }
        }
    }
    if spanish > english { "es" } else { "en" }
}

#[cfg(test)]
mod tests {
    use super::guess;

    #[test]
    fn spanish_and_english_are_told_apart() {
        assert_eq!(
            guess(&["Comparece don Juan García, con domicilio en la calle Mayor 7 de Madrid."]),
            "es"
        );
        assert_eq!(guess(&["Please call John at the office on Monday."]), "en");
        assert_eq!(guess(&["4111 1111 1111 1111"]), "en", "no words: English");
        assert_eq!(guess(&["", "El paciente refiere dolor", "en el pecho"]), "es");
    }
}
