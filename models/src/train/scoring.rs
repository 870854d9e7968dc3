//! A model scored on the dev set through the inference path: exact-span micro precision, recall
//! and F1.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use obscura_detection::eval::{Document, LabelMap};
use obscura_detection::recognizer::{RecognitionRequest, Recognizer};
use obscura_detection::text::AnalyzedText;

use super::data::target_type;
use super::error::TrainError;
use crate::ner::NerModel;
use crate::recognizer::NerRecognizer;

/// Exact-span micro precision, recall and F1 of the model in `dir` on `documents`, in
/// taxonomy types.
pub(super) fn dev_scores(dir: &Path, documents: &[Document], map: &LabelMap) -> Result<(f64, f64, f64), TrainError> {
    let model = NerModel::load(dir)?;
    let recognizer = NerRecognizer::new(Arc::new(model));
    let (mut gold_total, mut predicted_total, mut correct) = (0_usize, 0_usize, 0_usize);
    for document in documents {
        let gold: BTreeSet<(usize, usize, String)> = document
            .spans
            .iter()
            .filter_map(|span| target_type(map, &span.label).map(|entity| (span.start, span.end, entity)))
            .collect();
        let analyzed = AnalyzedText::new(&document.text);
        let request = RecognitionRequest {
            language: document.lang.as_deref().unwrap_or("en"),
            context_window: 5,
        };
        let predicted: BTreeSet<(usize, usize, String)> = recognizer
            .recognize(&analyzed, &request)?
            .into_iter()
            .map(|candidate| (candidate.start, candidate.end, candidate.entity_type.to_string()))
            .collect();
        gold_total += gold.len();
        predicted_total += predicted.len();
        correct += gold.intersection(&predicted).count();
    }
    let precision = if predicted_total == 0 {
        0.0
    } else {
        correct as f64 / predicted_total as f64
    };
    let recall = if gold_total == 0 {
        0.0
    } else {
        correct as f64 / gold_total as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Ok((precision, recall, f1))
}
