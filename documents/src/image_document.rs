//! Images read with OCR: the text Tesseract reads is anonymized and its replaced words are
//! burnt into the pixels, for image files and for the images a PDF draws.

use std::ops::Range;

use obscura_anonymization::given::UnitText;
use obscura_anonymization::{Scope, anonymize_text};
use obscura_detection::detect::Detection;

use crate::detection::detect_units;
use crate::export::Outcome;
use crate::findings::Findings;
use crate::limits::Deadline;
use crate::{DocumentError, Format, Request, Stage, image};

/// The language OCR reads first.
pub(crate) fn ocr_language(request: &Request<'_>) -> String {
    request.detect_options.language.clone().unwrap_or_else(|| "en".into())
}

/// Anonymizes a text read by OCR and burns its replaced words into the pixels; also
/// replaces a DNI whose letter OCR read as a digit. Returns the replaced spans.
pub(crate) fn burn_reading(
    read: &image::Ocr,
    mut detections: Vec<Detection>,
    pixels: &mut ::image::RgbImage,
    location: &str,
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    findings: &mut Findings,
) -> Result<(Vec<Range<usize>>, String), DocumentError> {
    // A review decided about these already.
    let misread = if request.given.is_some() {
        Vec::new()
    } else {
        image::misread_dni(&read.text)
    };
    for misread in misread {
        if !detections
            .iter()
            .any(|detection| detection.start < misread.end && detection.end > misread.start)
        {
            detections.push(misread);
        }
    }
    if detections.is_empty() {
        return Ok((Vec::new(), read.text.clone()));
    }
    detections.sort_by_key(|detection| (detection.start, detection.end));
    let result = anonymize_text(&read.text, &detections, request.policy, scope)?;
    let spans: Vec<Range<usize>> = findings
        .add_unit(&read.text, &result, &detections, location, None)
        .into_iter()
        .map(|(span, _)| span)
        .collect();
    image::burn(pixels, read, &spans);
    Ok((spans, result.text))
}

/// Images: the text Tesseract reads, and detected values burnt into the pixels.
pub(crate) fn image_document(
    bytes: &[u8],
    format: Format,
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let language = ocr_language(request);
    let mut pixels = image::decode(bytes, format, request.limits)?;
    let read = image::ocr(&pixels, &language)?;
    request.observe(Stage::OcrPage, 1, 1);
    let mut findings = Findings::default();
    findings.read_unit("image", None, &read.text);
    let unit = UnitText {
        location: "image",
        paragraph: None,
        text: &read.text,
    };
    let detections = detect_units(&[unit], request, deadline, &mut findings.skipped)?
        .pop()
        .unwrap_or_default();
    let (burnt, text) = burn_reading(&read, detections, &mut pixels, "image", request, scope, &mut findings)?;
    findings.locate_read(0, &read, |[left, top, width, height]| {
        [left, top, left + width, top + height].map(|value| value as f32)
    });
    let output = image::encode(&pixels, format)?;
    // The check reads the written image again, as a recipient could: the lines that were
    // burnt with OCR, the others as they were read (see `image::reread`).
    deadline.check()?;
    let seen = image::reread(
        &image::decode(&output, format, request.limits)?,
        &read,
        &burnt,
        &language,
    )?;
    let parts = [("image".to_owned(), seen)];
    Ok(findings.outcome(format, None, output, text, &parts))
}
