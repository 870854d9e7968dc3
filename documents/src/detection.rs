//! Detection over the units of text of a document, batched, with every value found in one
//! unit propagated to all.

use obscura_detection::detect::{Detection, SkippedRecognizer, merge_skipped};

use crate::limits::Deadline;
use crate::{DocumentError, Request, Stage, propagate};

/// Units detected together (a model batches their windows) and then with every value
/// found in one of them propagated to all (see [`propagate`]).
pub(crate) fn detect_units(
    texts: &[String],
    request: &Request<'_>,
    deadline: &Deadline,
    skipped: &mut Vec<SkippedRecognizer>,
) -> Result<Vec<Vec<Detection>>, DocumentError> {
    const BATCH: usize = 32;
    let mut detected = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(BATCH) {
        deadline.check()?;
        let batch: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let found = request.detector.detect_many(&batch, request.detect_options)?;
        merge_skipped(skipped, found.skipped);
        detected.extend(found.detections);
        request.observe(Stage::Detected, detected.len(), texts.len());
    }
    let values = texts.iter().zip(&detected).flat_map(|(text, detections)| {
        detections.iter().map(move |detection| {
            (
                detection.entity_type.as_str(),
                &text[detection.byte_start..detection.byte_end],
            )
        })
    });
    if let Some(propagation) = propagate::Propagation::new(values) {
        for (text, detections) in texts.iter().zip(detected.iter_mut()) {
            propagation.apply(text, detections);
        }
    }
    Ok(detected)
}
