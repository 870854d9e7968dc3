//! Training windows: a document's tokens with their BIO label ids, cut to the window length
//! and framed by the special tokens.

use std::collections::HashMap;

use obscura_detection::eval::{Document, LabelMap};
use tokenizers::Tokenizer;

use super::data::target_type;
use super::error::TrainError;

/// Label id the loss ignores (special tokens and padding).
pub(super) const IGNORED: u32 = u32::MAX;

/// One training window: token ids and label ids (or `IGNORED`).
pub(super) struct Window {
    pub(super) ids: Vec<u32>,
    pub(super) labels: Vec<u32>,
}

/// BIO label ids for a document's tokens, cut into windows of `content` tokens.
pub(super) fn document_windows(
    tokenizer: &Tokenizer,
    document: &Document,
    map: &LabelMap,
    label_ids: &HashMap<&str, u32>,
    content: usize,
    open_ids: &[u32],
    close_ids: &[u32],
) -> Result<Vec<Window>, TrainError> {
    let encoding = tokenizer
        .encode_char_offsets(document.text.as_str(), false)
        .map_err(|error| TrainError::Invalid(error.to_string()))?;
    let outside = label_ids.get("O").copied().unwrap_or(0);
    let spans: Vec<(usize, usize, String)> = document
        .spans
        .iter()
        .filter_map(|span| target_type(map, &span.label).map(|entity| (span.start, span.end, entity)))
        .collect();
    // A word's pieces all take the word's tag (B- for every piece of an entity's first
    // word), as the default model was trained, so that averaging the pieces' predictions
    // does not turn a beginning into an inside.
    let mut token_labels: Vec<u32> = Vec::with_capacity(encoding.get_ids().len());
    let mut previous: Option<(Option<usize>, Option<u32>)> = None;
    for (&(start, _), word) in encoding.get_offsets().iter().zip(encoding.get_word_ids()) {
        let inside = spans
            .iter()
            .position(|(span_start, span_end, _)| *span_start <= start && start < *span_end);
        let label = match (inside, previous, token_labels.last()) {
            (None, _, _) => outside,
            (Some(index), Some((previous_span, previous_word)), Some(&previous_label))
                if previous_span == Some(index) && word.is_some() && previous_word == *word =>
            {
                previous_label
            }
            (Some(index), previous, _) => {
                let continues = previous.is_some_and(|(previous_span, _)| previous_span == Some(index));
                let name = format!("{}-{}", if continues { "I" } else { "B" }, spans[index].2);
                label_ids.get(name.as_str()).copied().unwrap_or(outside)
            }
        };
        previous = Some((inside, *word));
        token_labels.push(label);
    }
    let ids = encoding.get_ids();
    Ok(ids
        .chunks(content)
        .zip(token_labels.chunks(content))
        .map(|(ids, labels)| Window {
            ids: open_ids.iter().chain(ids).chain(close_ids).copied().collect(),
            labels: std::iter::repeat_n(IGNORED, open_ids.len())
                .chain(labels.iter().copied())
                .chain(std::iter::repeat_n(IGNORED, close_ids.len()))
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_piece_of_a_word_takes_the_word_tag() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("tiny");
        crate::ner::tests::tiny_model(&base, |_, _, _| {});
        let tokenizer = Tokenizer::from_file(base.join("tokenizer.json")).unwrap();
        let map = obscura_detection::eval::parse_label_map("labels:\n  NOMBRE: PERSON\n  CIUDAD: LOCATION\n").unwrap();
        let document: Document = serde_json::from_str(
            r#"{"id": "a", "text": "Ana lives in Madrids.", "spans": [{"start": 0, "end": 9, "label": "NOMBRE"}, {"start": 13, "end": 20, "label": "CIUDAD"}]}"#,
        )
        .unwrap();
        let labels = ["O", "B-PERSON", "I-PERSON", "B-LOCATION", "I-LOCATION"];
        let label_ids: HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(id, label)| (*label, id as u32))
            .collect();
        let windows = document_windows(&tokenizer, &document, &map, &label_ids, 100, &[2], &[3]).unwrap();
        let tags: Vec<&str> = windows[0]
            .labels
            .iter()
            .map(|&label| labels.get(label as usize).copied().unwrap_or("-"))
            .collect();
        // [CLS] ana lives in madrid ##s . [SEP]
        assert_eq!(
            tags,
            ["-", "B-PERSON", "I-PERSON", "O", "B-LOCATION", "B-LOCATION", "O", "-"]
        );
    }
}
