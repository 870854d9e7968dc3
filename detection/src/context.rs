//! Context: words near a candidate that raise or lower its score.
//!
//! Words are compared after lower-casing and removing accents, so "teléfono" matches
//! "TELEFONO". A multi-word context phrase matches consecutive words.

/// How much a supporting context word raises a score.
pub const CONTEXT_BOOST: f32 = 0.35;
/// The least score of a candidate with supporting context.
pub const MIN_SCORE_WITH_CONTEXT: f32 = 0.4;
/// How much a contradicting context word lowers a score.
pub const NEGATIVE_CONTEXT_PENALTY: f32 = 0.4;

/// Lower-case ASCII-folded form of a word: accents removed, `ñ` kept as `n`.
pub fn fold_word(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.chars().filter_map(fold_letter).collect()
}

fn fold_letter(character: char) -> Option<char> {
    let lower = character.to_lowercase().next().unwrap_or(character);
    Some(match lower {
        'á' | 'à' | 'ä' | 'â' | 'ã' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        other => other,
    })
}

/// The words of `text` as (code-point start, code-point end, folded word).
pub fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut index = 0;
    for character in text.chars() {
        if character.is_alphanumeric() {
            if current.is_empty() {
                start = index;
            }
            if let Some(folded) = fold_letter(character) {
                current.push(folded);
            }
        } else if !current.is_empty() {
            out.push((start, index, std::mem::take(&mut current)));
        }
        index += 1;
    }
    if !current.is_empty() {
        out.push((start, index, current));
    }
    out
}

/// Context words of a recognizer, folded and split into phrases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextWords {
    phrases: Vec<Vec<String>>,
    /// Each phrase's words joined by spaces, as reported.
    joined: Vec<String>,
    /// The phrases (by index) that begin with each word. Only the pack's words are keys,
    /// so a fast hash that a text cannot flood is fine.
    by_first_word: rustc_hash::FxHashMap<String, Vec<usize>>,
}

impl ContextWords {
    pub fn new(words_or_phrases: &[String]) -> ContextWords {
        let phrases = words_or_phrases
            .iter()
            .map(|phrase| words(phrase).into_iter().map(|(_, _, word)| word).collect::<Vec<_>>())
            .filter(|phrase: &Vec<String>| !phrase.is_empty())
            .collect::<Vec<_>>();
        let joined = phrases.iter().map(|phrase| phrase.join(" ")).collect();
        let mut by_first_word = rustc_hash::FxHashMap::<String, Vec<usize>>::default();
        for (index, phrase) in phrases.iter().enumerate() {
            by_first_word.entry(phrase[0].clone()).or_default().push(index);
        }
        ContextWords {
            phrases,
            joined,
            by_first_word,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The phrases found among `window` (folded words around a candidate), joined by spaces.
    pub fn find_in(&self, window: &[&str]) -> Vec<String> {
        let mut hits: Vec<usize> = Vec::new();
        for (position, word) in window.iter().enumerate() {
            let Some(starting_here) = self.by_first_word.get(*word) else {
                continue;
            };
            for &index in starting_here {
                let phrase = &self.phrases[index];
                let rest = &window[position..];
                if rest.len() >= phrase.len() && rest.iter().zip(phrase).all(|(word, wanted)| *word == wanted.as_str())
                {
                    hits.push(index);
                }
            }
        }
        // In the order the phrases were declared, each once.
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|index| self.joined[index].clone()).collect()
    }
}

/// The folded words within `window` words before `start` and after `end` (code points),
/// from the whole text's word list: the definition `AnalyzedText::context_window` follows
/// without building that list.
pub fn window_around(words: &[(usize, usize, String)], start: usize, end: usize, window: usize) -> Vec<&str> {
    let first_after = words.partition_point(|(word_start, _, _)| *word_start < end);
    let first_inside_or_after = words.partition_point(|(_, word_end, _)| *word_end <= start);
    let before = &words[first_inside_or_after.saturating_sub(window)..first_inside_or_after];
    let after = &words[first_after..(first_after + window).min(words.len())];
    before.iter().chain(after).map(|(_, _, word)| word.as_str()).collect()
}

/// Applies supporting and contradicting context to a score.
pub fn apply(score: f32, supporting: usize, contradicting: usize) -> f32 {
    let mut score = score;
    if supporting > 0 {
        score = (score + CONTEXT_BOOST).max(MIN_SCORE_WITH_CONTEXT);
    }
    if contradicting > 0 {
        score -= NEGATIVE_CONTEXT_PENALTY;
    }
    score.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_accents_and_case() {
        let found: Vec<String> = words("Teléfono: 612-345; NIÑO")
            .into_iter()
            .map(|(_, _, word)| word)
            .collect();
        assert_eq!(found, ["telefono", "612", "345", "nino"]);
    }

    #[test]
    fn phrases_match_consecutive_words_within_the_window() {
        let text = "fecha de nacimiento: 15/03/1980 en Madrid";
        let all = words(text);
        let start = text.find("15").unwrap();
        let window = window_around(&all, start, start + 10, 3);
        let context = ContextWords::new(&["fecha de nacimiento".to_owned(), "born".to_owned()]);
        assert_eq!(context.find_in(&window), ["fecha de nacimiento"]);
        let narrow = window_around(&all, start, start + 10, 1);
        assert!(context.find_in(&narrow).is_empty());
    }

    #[test]
    fn scores_move_within_bounds() {
        assert!((apply(0.3, 1, 0) - 0.65).abs() < 1e-6);
        assert_eq!(apply(0.01, 1, 0), MIN_SCORE_WITH_CONTEXT);
        assert_eq!(apply(0.9, 1, 0), 1.0);
        assert!((apply(0.6, 0, 1) - 0.2).abs() < 1e-6);
        assert_eq!(apply(0.2, 0, 1), 0.0);
    }
}
