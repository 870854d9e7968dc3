//! Detection over the units of text of a document, batched, with every value found in one
//! unit propagated to all; or the entities given for each unit.

use obscura_anonymization::given::UnitText;
use obscura_detection::detect::{Detection, SkippedRecognizer, merge_skipped};

use crate::limits::Deadline;
use crate::{DocumentError, Request, Stage, propagate};

/// Units detected together (a model batches their windows) and then with every value
/// found in one of them propagated to all (see [`propagate`]); given entities are used as
/// they are.
pub(crate) fn detect_units(
    units: &[UnitText<'_>],
    request: &Request<'_>,
    deadline: &Deadline,
    skipped: &mut Vec<SkippedRecognizer>,
) -> Result<Vec<Vec<Detection>>, DocumentError> {
    const BATCH: usize = 32;
    let finder = request.finder();
    let mut detected = Vec::with_capacity(units.len());
    for chunk in units.chunks(BATCH) {
        deadline.check()?;
        let found = finder.find_many(chunk)?;
        merge_skipped(skipped, found.skipped);
        detected.extend(found.detections);
        request.observe(Stage::Detected, detected.len(), units.len());
    }
    if finder.is_given() {
        return Ok(detected);
    }
    let texts: Vec<&str> = units.iter().map(|unit| unit.text).collect();
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
