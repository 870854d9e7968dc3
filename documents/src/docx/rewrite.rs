//! What one unit of text becomes, and how its new text is shared out among the text nodes it
//! was read from.

use super::Piece;

/// What one unit becomes: the anonymized text, and the replaced spans as input code-point
/// ranges with their output text.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    pub input: Vec<char>,
    pub output: String,
    /// (input start, input end, replacement), sorted, not overlapping.
    pub spans: Vec<(usize, usize, String)>,
}

impl Rewrite {
    /// The new text of each piece, `None` for pieces that cannot be edited. A replacement
    /// goes where its span starts (or into the first editable piece after, when it starts
    /// on a tab); the rest of the span is cut.
    pub(super) fn split(&self, pieces: &[Piece]) -> Vec<Option<String>> {
        let mut out = Vec::with_capacity(pieces.len());
        let mut position = 0;
        let mut span = 0;
        let mut pending: Option<&str> = None;
        for piece in pieces {
            let mut text = String::new();
            for index in position..position + piece.chars {
                while span < self.spans.len() && self.spans[span].1 <= index {
                    span += 1;
                }
                match self.spans.get(span) {
                    Some((start, _, replacement)) if *start <= index => {
                        if index == *start {
                            pending = Some(replacement.as_str());
                        }
                        if piece.node.is_some()
                            && let Some(replacement) = pending.take()
                        {
                            text.push_str(replacement);
                        }
                    }
                    Some(_) | None => {
                        if piece.node.is_some()
                            && let Some(replacement) = pending.take()
                        {
                            text.push_str(replacement);
                        }
                        text.push(self.input.get(index).copied().unwrap_or(' '));
                    }
                }
            }
            if piece.node.is_some()
                && let Some(replacement) = pending.take()
            {
                text.push_str(replacement);
            }
            position += piece.chars;
            out.push(piece.node.map(|_| text));
        }
        out
    }
}
