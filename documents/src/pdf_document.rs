//! PDF documents: the text layer of every page redacted in its content stream, and the images
//! worth reading redacted in their pixels.

use obscura_anonymization::given::UnitText;
use obscura_anonymization::{Scope, anonymize_text};

use crate::detection::detect_units;
use crate::export::Outcome;
use crate::findings::Findings;
use crate::image_document::{burn_reading, ocr_language};
use crate::limits::Deadline;
use crate::{DocumentError, Format, Request, Stage, image, pdf};

/// PDF: every page's text layer, redacted in its content stream, and every image worth
/// reading (a scanned page, a picture of text), read with OCR and redacted in its pixels.
pub(crate) fn pdf_document(
    bytes: &[u8],
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let language = ocr_language(request);
    let mut document = pdf::Pdf::open(bytes, request.limits)?;
    let mut findings = Findings::default();
    for read in 1..=document.pages.len() {
        request.observe(Stage::PageRead, read, document.pages.len());
    }
    let scans = document.scans();
    let mut rasters = Vec::with_capacity(scans.len());
    let mut readings = Vec::with_capacity(scans.len());
    for scan in &scans {
        deadline.check()?;
        let raster = document.scan_pixels(scan, request.limits)?;
        readings.push(image::ocr(&raster.pixels, &language)?);
        rasters.push(raster);
        request.observe(Stage::OcrPage, readings.len(), scans.len());
    }
    // Text layers and scans are detected together, so that a value found in one is
    // replaced in all.
    let mut texts: Vec<String> = document.pages.iter().map(|page| page.text.clone()).collect();
    texts.extend(readings.iter().map(|read| read.text.clone()));
    let locations: Vec<String> = document
        .pages
        .iter()
        .map(|page| format!("page {}", page.number))
        .chain(scans.iter().map(pdf::Scan::location))
        .collect();
    let units: Vec<UnitText<'_>> = locations
        .iter()
        .zip(&texts)
        .map(|(location, text)| UnitText {
            location,
            paragraph: None,
            text,
        })
        .collect();
    let mut detected = detect_units(&units, request, deadline, &mut findings.skipped)?;
    let scan_detections = detected.split_off(document.pages.len());
    // The anonymized text of each page's text layer and scans, for the text exports.
    let mut anonymized: Vec<((u32, usize), String)> = Vec::new();
    for (index, (text, detections)) in texts.iter().zip(detected).enumerate() {
        deadline.check()?;
        let page = document.pages[index].number;
        findings.read_unit(&format!("page {page}"), None, text);
        if detections.is_empty() {
            anonymized.push(((page, 0), text.clone()));
            continue;
        }
        let location = format!("page {page}");
        let result = anonymize_text(text, &detections, request.policy, scope)?;
        anonymized.push(((page, 0), result.text.clone()));
        let first = findings.entities.len();
        let spans = findings.add_unit(text, &result, &detections, &location, None);
        findings.locate(first, |span| document.text_boxes(index, span));
        document.redact(index, &spans)?;
    }
    let mut burnt = Vec::with_capacity(scans.len());
    for (((scan, mut raster), read), detections) in scans.iter().zip(rasters).zip(&readings).zip(scan_detections) {
        deadline.check()?;
        findings.read_unit(&scan.location(), None, &read.text);
        let first = findings.entities.len();
        let (spans, text) = burn_reading(
            read,
            detections,
            &mut raster.pixels,
            &scan.location(),
            request,
            scope,
            &mut findings,
        )?;
        anonymized.push(((scan.page, scan.ordinal), text));
        burnt.push(spans.clone());
        if spans.is_empty() {
            continue;
        }
        let size = raster.pixels.dimensions();
        findings.locate_read(first, read, |bounds| scan.page_box(size, bounds));
        document.replace_scan(scan, &raster)?;
    }
    let output = document.save()?;
    // The check reads the written file again, as a recipient would: its text layer, and in
    // its images the burnt lines with OCR (see `image::reread`).
    let written = pdf::Pdf::open(&output, request.limits)?;
    let mut visible: Vec<(String, String)> = written
        .pages
        .iter()
        .map(|page| (format!("page {}", page.number), page.text.clone()))
        .collect();
    let written_scans = written.scans();
    let same_scans = written_scans.len() == scans.len();
    for (index, scan) in written_scans.iter().enumerate() {
        deadline.check()?;
        let pixels = written.scan_pixels(scan, request.limits)?.pixels;
        let seen = if same_scans {
            image::reread(&pixels, &readings[index], &burnt[index], &language)?
        } else {
            image::ocr(&pixels, &language)?.text
        };
        visible.push((scan.location(), seen));
    }
    anonymized.sort_by_key(|(place, _)| *place);
    let mut text = String::new();
    for (index, ((page, _), part)) in anonymized.iter().enumerate() {
        if index > 0 {
            let same_page = anonymized[index - 1].0.0 == *page;
            text.push_str(if same_page { "\n" } else { "\n\u{c}\n" });
        }
        text.push_str(part);
    }
    Ok(findings.outcome(Format::Pdf, None, output, text, &visible))
}
