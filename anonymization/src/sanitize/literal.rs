//! Mask-map keys that are not placeholders of Obscura's shape, such as `<<EMAIL_abc123>>`
//! written by a client or another tool. Any key of a given map is a placeholder, so these
//! are found too, with the tolerance the canonical ones get: brackets and emphasis optional,
//! `_`, space and `-` alike, any case, but only as whole words.

use regex::Regex;

/// Brackets and emphasis around a placeholder, which language models add or drop.
const OPENING: &str = r"(?:(?:<<|&lt;&lt;|«|<|\[\[)[ \t]*)?(?:(?:\*\*|\*|__)[ \t]*)?";
const CLOSING: &str = r"(?:[ \t]*(?:\*\*|\*|__))?(?:[ \t]*(?:>>|&gt;&gt;|»|>|\]\]))?";

/// The patterns of a map's other keys.
pub(super) struct LiteralKeys<'m> {
    patterns: Vec<(Regex, &'m String, &'m String)>,
}

impl<'m> LiteralKeys<'m> {
    /// Patterns for `keys` (placeholder and original); a key with nothing but brackets is
    /// left out.
    pub(super) fn new(keys: impl Iterator<Item = (&'m String, &'m String)>) -> LiteralKeys<'m> {
        let patterns = keys
            .filter_map(|(placeholder, original)| {
                let is_wrapping = |c: char| c.is_whitespace() || "<>«»[]()*".contains(c);
                let core = placeholder.trim_matches(is_wrapping);
                // The key's own brackets (`[NAME_1]`, `(ID-7)`) are optional too.
                let own = |wrapping: &str, leading: bool| {
                    let wrapping = regex::escape(wrapping.trim());
                    match (wrapping.is_empty(), leading) {
                        (true, _) => String::new(),
                        (false, true) => format!(r"(?:{wrapping}[ \t]*)?"),
                        (false, false) => format!(r"(?:[ \t]*{wrapping})?"),
                    }
                };
                let lead = own(
                    &placeholder[..placeholder.len() - placeholder.trim_start_matches(is_wrapping).len()],
                    true,
                );
                let trail = own(&placeholder[placeholder.trim_end_matches(is_wrapping).len()..], false);
                let words: Vec<String> = core
                    .split(['_', ' ', '-'])
                    .filter(|word| !word.is_empty())
                    .map(regex::escape)
                    .collect();
                if words.is_empty() {
                    return None;
                }
                // Whole words only: a key "NAME" must not match inside "NAMES".
                let start = if core.starts_with(|c: char| c.is_alphanumeric()) {
                    r"\b"
                } else {
                    ""
                };
                let end = if core.ends_with(|c: char| c.is_alphanumeric()) {
                    r"\b"
                } else {
                    ""
                };
                let pattern = format!(
                    r"(?i){lead}{OPENING}{start}{}{end}{CLOSING}{trail}",
                    words.join(r"[_ \-]+")
                );
                Regex::new(&pattern).ok().map(|regex| (regex, placeholder, original))
            })
            .collect();
        LiteralKeys { patterns }
    }

    /// Replaces every key found in `text` by its original, the longest where two overlap,
    /// and adds the keys found to `found`.
    pub(super) fn replace(&self, text: &str, found: &mut Vec<String>) -> String {
        if self.patterns.is_empty() {
            return text.to_owned();
        }
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        for (index, (regex, _, _)) in self.patterns.iter().enumerate() {
            hits.extend(regex.find_iter(text).map(|hit| (hit.start(), hit.end(), index)));
        }
        hits.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        let mut out = String::with_capacity(text.len());
        let mut position = 0;
        for (start, end, index) in hits {
            if start < position {
                continue;
            }
            let (_, placeholder, original) = &self.patterns[index];
            out.push_str(&text[position..start]);
            out.push_str(original);
            position = end;
            if !found.contains(placeholder) {
                found.push((*placeholder).clone());
            }
        }
        out.push_str(&text[position..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::LiteralKeys;

    fn replace(keys: &[(&str, &str)], text: &str) -> (String, Vec<String>) {
        let owned: Vec<(String, String)> = keys
            .iter()
            .map(|(key, original)| ((*key).to_owned(), (*original).to_owned()))
            .collect();
        let literal = LiteralKeys::new(owned.iter().map(|(key, original)| (key, original)));
        let mut found = Vec::new();
        let out = literal.replace(text, &mut found);
        (out, found)
    }

    #[test]
    fn keys_of_any_shape_are_restored_as_a_model_rewrites_them() {
        let keys = [("<<EMAIL_abc123>>", "ana@example.com"), ("[NAME_1]", "Ana Ruiz")];
        for (answer, expected) in [
            ("Write to <<EMAIL_abc123>>.", "Write to ana@example.com."),
            ("Write to email_ABC123.", "Write to ana@example.com."),
            // Emphasis around a bare placeholder goes with it, as for canonical ones.
            ("Write to **EMAIL abc123**.", "Write to ana@example.com."),
            ("Dear [NAME_1], hello", "Dear Ana Ruiz, hello"),
            ("Dear name-1, hello", "Dear Ana Ruiz, hello"),
            ("Dear [ NAME 1 ], hello", "Dear Ana Ruiz, hello"),
        ] {
            assert_eq!(replace(&keys, answer).0, expected, "{answer}");
        }
        let (_, found) = replace(&keys, "<<EMAIL_abc123>> and [NAME_1] and <<EMAIL_abc123>>");
        assert_eq!(found, ["<<EMAIL_abc123>>", "[NAME_1]"]);
    }

    #[test]
    fn a_key_is_a_whole_word_and_the_longest_key_wins() {
        let keys = [("NAME", "Ana"), ("NAME_2", "Luis")];
        assert_eq!(replace(&keys, "NAMES: NAME and NAME_2").0, "NAMES: Ana and Luis");
    }
}
