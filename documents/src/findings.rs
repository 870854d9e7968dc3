//! What a document's anonymization replaced: the entities reported, located in the file, and
//! the values the leak check looks for.

use std::ops::Range;

use obscura_anonymization::structured::JsonReplacement;
use obscura_anonymization::{Anonymized, Original};
use obscura_detection::detect::{Detection, SkippedRecognizer};
use obscura_detection::entity_type::EntityType;
use serde::Serialize;

use crate::export::Outcome;
use crate::leak::{self, Replaced};
use crate::{Format, image};

/// One entity found in a document, without its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub entity_type: EntityType,
    /// Where: the part of the file (`text`, `word/document.xml`, a JSON path, `row[column]`).
    pub location: String,
    /// The paragraph within the part, when it has paragraphs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<usize>,
    /// Code-point offsets within the location's text.
    pub start: usize,
    pub end: usize,
    pub operator: &'static str,
    pub alias: String,
    /// Where it was drawn, one box per line: x0, y0, x1, y1 in page space (points, from the
    /// bottom left) for PDFs, and left, top, right, bottom in pixels for images.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<[f32; 4]>,
    /// For text read with OCR: the lowest confidence (0 to 100) Tesseract gave a word of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_confidence: Option<f32>,
    /// The detector's confidence (0 to 1), where the value was detected in this unit; a
    /// value found in a structure's strings has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The recognizer that found it, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recognizer: Option<String>,
    /// The value replaced, for reviews of what was found; never serialized, and printing it
    /// shows nothing of it.
    #[serde(skip)]
    pub original: Original,
}

/// The detection a replacement of `start..end` came from: the one with those bounds, or
/// else the best scored one it overlaps.
fn detection_of(detections: &[Detection], start: usize, end: usize) -> Option<&Detection> {
    detections
        .iter()
        .find(|detection| detection.start == start && detection.end == end)
        .or_else(|| {
            detections
                .iter()
                .filter(|detection| detection.start < end && detection.end > start)
                .max_by(|left, right| left.score.total_cmp(&right.score))
        })
}

/// The characters of `text` between two code-point offsets.
fn slice_chars(characters: &[char], start: usize, end: usize) -> String {
    characters[start.min(characters.len())..end.min(characters.len())]
        .iter()
        .collect()
}

/// A unit of text a document was read as (a page, a paragraph, a scan's reading), with the
/// location its entities' offsets count in; for labelled-data exports of reviews. Structured
/// files (CSV, JSON) have none.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub location: String,
    pub paragraph: Option<usize>,
    pub text: Original,
}

/// What a document's anonymization replaced: the entities for the report, and their values
/// for the leak check.
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) entities: Vec<Entity>,
    pub(crate) units: Vec<Unit>,
    replaced: Vec<Replaced>,
    /// Recognizers detection went without (only when the options allow skipping).
    pub(crate) skipped: Vec<SkippedRecognizer>,
}

/// One replaced value: its type, where it was, and what it became.
pub(crate) struct Found<'a> {
    pub(crate) entity_type: &'a str,
    pub(crate) value: String,
    pub(crate) location: &'a str,
    pub(crate) paragraph: Option<usize>,
    pub(crate) span: Range<usize>,
    pub(crate) operator: &'static str,
    pub(crate) alias: &'a str,
    /// The detection behind it, when it was detected in this unit.
    pub(crate) detection: Option<&'a Detection>,
}

impl Findings {
    /// Records a unit of text as it was read.
    pub(crate) fn read_unit(&mut self, location: &str, paragraph: Option<usize>, text: &str) {
        self.units.push(Unit {
            location: location.to_owned(),
            paragraph,
            text: Original::new(text.to_owned()),
        });
    }

    pub(crate) fn add(&mut self, found: Found<'_>) {
        self.replaced.push(Replaced {
            entity_type: EntityType::new(found.entity_type),
            value: found.value.clone(),
            location: found.location.to_owned(),
        });
        self.entities.push(Entity {
            entity_type: EntityType::new(found.entity_type),
            location: found.location.to_owned(),
            paragraph: found.paragraph,
            start: found.span.start,
            end: found.span.end,
            operator: found.operator,
            alias: found.alias.to_owned(),
            boxes: Vec::new(),
            ocr_confidence: None,
            score: found.detection.map(|detection| detection.score),
            recognizer: found.detection.map(|detection| detection.recognizer.clone()),
            original: Original::new(found.value),
        });
    }

    /// Gives the entities from `first` on their boxes, from their spans.
    pub(crate) fn locate(&mut self, first: usize, boxes: impl Fn(&Range<usize>) -> Vec<[f32; 4]>) {
        for entity in &mut self.entities[first..] {
            entity.boxes = boxes(&(entity.start..entity.end));
        }
    }

    /// Gives the entities from `first`, read with OCR in `read`, their boxes (mapped by
    /// `place` from pixels of the image as given) and OCR confidence.
    pub(crate) fn locate_read(&mut self, first: usize, read: &image::Ocr, place: impl Fn([u32; 4]) -> [f32; 4]) {
        for entity in &mut self.entities[first..] {
            let span = entity.start..entity.end;
            entity.boxes = image::span_bounds(read, &span).into_iter().map(&place).collect();
            entity.ocr_confidence = image::span_confidence(read, &span);
        }
    }

    /// The outcome, with the leak check of `visible`: what a reader of the written output
    /// sees, by part.
    pub(crate) fn outcome(
        self,
        format: Format,
        encoding: Option<&'static str>,
        original: Vec<u8>,
        text: String,
        visible: &[(String, String)],
    ) -> Outcome {
        Outcome {
            format,
            encoding,
            original,
            text,
            leak_check: leak::check(
                &self.replaced,
                visible,
                &self
                    .entities
                    .iter()
                    .map(|entity| entity.alias.as_str())
                    .collect::<Vec<_>>(),
                &self
                    .entities
                    .iter()
                    .filter(|entity| entity.entity_type == EntityType::PERSON)
                    .map(|entity| entity.alias.as_str())
                    .collect::<Vec<_>>(),
            ),
            entities: self.entities,
            units: self.units,
            skipped: self.skipped,
        }
    }

    /// The replacements of a CSV or JSON document, located by their path.
    pub(crate) fn add_structured(&mut self, replacements: &[JsonReplacement]) {
        for replacement in replacements {
            self.add(Found {
                entity_type: &replacement.entity_type,
                value: replacement.original.expose().to_owned(),
                location: &replacement.path,
                paragraph: None,
                span: replacement.start..replacement.end,
                operator: replacement.operator,
                alias: &replacement.alias,
                detection: None,
            });
        }
    }

    /// The replacements made in one unit of text; returns each replaced span of the input
    /// with the text that replaced it.
    pub(crate) fn add_unit(
        &mut self,
        text: &str,
        result: &Anonymized,
        detections: &[Detection],
        location: &str,
        paragraph: Option<usize>,
    ) -> Vec<(Range<usize>, String)> {
        let input: Vec<char> = text.chars().collect();
        let output: Vec<char> = result.text.chars().collect();
        let mut spans = Vec::with_capacity(result.replacements.len());
        for replacement in &result.replacements {
            spans.push((
                replacement.start..replacement.end,
                slice_chars(&output, replacement.output_start, replacement.output_end),
            ));
            self.add(Found {
                entity_type: &replacement.entity_type,
                value: slice_chars(&input, replacement.start, replacement.end),
                location,
                paragraph,
                span: replacement.start..replacement.end,
                operator: replacement.operator,
                alias: &replacement.alias,
                detection: detection_of(detections, replacement.start, replacement.end),
            });
        }
        spans
    }
}
