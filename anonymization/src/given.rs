//! Entities decided beforehand, such as a document's reviewed set, in place of detection.
//!
//! A reviewed document is anonymized with the spans its review kept, not with a fresh
//! detection: each unit of text (a page, a paragraph, a JSON string, a cell) gets the spans
//! recorded for it, each checked against the unit's text, and a detector adds what it finds
//! outside them (for a review, one that knows only the values reviewers asked to find
//! everywhere). A unit whose text is not the one detected, or recorded units the document
//! no longer has, stop the anonymization ([`AnonymizeError::Stale`]): the document must be
//! detected again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use obscura_detection::detect::{DetectOptions, Detection, Detector, SkippedRecognizer, merge_skipped};
use obscura_detection::entity_type::EntityType;

use crate::AnonymizeError;
use crate::structured::StructuredError;

/// A span decided beforehand, in code points of its unit's text.
#[derive(Clone)]
pub struct GivenSpan {
    pub entity_type: EntityType,
    pub start: usize,
    pub end: usize,
    /// The text the span held when it was decided, to check the unit against; never printed.
    pub value: Option<String>,
    pub score: f32,
    pub recognizer: String,
}

impl std::fmt::Debug for GivenSpan {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GivenSpan")
            .field("entity_type", &self.entity_type)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("recognizer", &self.recognizer)
            .finish_non_exhaustive()
    }
}

/// A unit of text: its location (`page 2`, `word/document.xml`, a JSON path) and paragraph.
type UnitKey = (String, Option<usize>);

/// The spans decided for each unit of a document.
#[derive(Debug, Default)]
pub struct GivenSpans {
    by_unit: BTreeMap<UnitKey, Vec<GivenSpan>>,
    /// The units asked for so far, to tell which recorded ones the document no longer has.
    read: Mutex<BTreeSet<UnitKey>>,
}

impl GivenSpans {
    pub fn new() -> GivenSpans {
        GivenSpans::default()
    }

    /// Records a span of the unit at `location` and `paragraph`.
    pub fn insert(&mut self, location: &str, paragraph: Option<usize>, span: GivenSpan) {
        self.by_unit
            .entry((location.to_owned(), paragraph))
            .or_default()
            .push(span);
    }

    /// How many spans are recorded.
    pub fn len(&self) -> usize {
        self.by_unit.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_unit.is_empty()
    }

    /// The spans recorded for a unit, which counts as read.
    fn spans_of(&self, location: &str, paragraph: Option<usize>) -> Option<&[GivenSpan]> {
        let key = (location.to_owned(), paragraph);
        let spans = self.by_unit.get(&key)?;
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key);
        Some(spans)
    }

    /// The spans of a unit as detections over its `text`, in order; a span that does not fit
    /// the text, or holds another value than it was decided on, is [`AnonymizeError::Stale`].
    pub fn detections(
        &self,
        location: &str,
        paragraph: Option<usize>,
        text: &str,
    ) -> Result<Vec<Detection>, AnonymizeError> {
        let Some(spans) = self.spans_of(location, paragraph) else {
            return Ok(Vec::new());
        };
        let bytes = byte_offsets(text);
        let stale = || AnonymizeError::Stale {
            location: location.to_owned(),
        };
        let mut detections = Vec::with_capacity(spans.len());
        for span in spans {
            let (Some(&byte_start), Some(&byte_end)) = (bytes.get(span.start), bytes.get(span.end)) else {
                return Err(stale());
            };
            if span.start >= span.end
                || span
                    .value
                    .as_deref()
                    .is_some_and(|value| value != &text[byte_start..byte_end])
            {
                return Err(stale());
            }
            detections.push(Detection {
                entity_type: span.entity_type.clone(),
                start: span.start,
                end: span.end,
                byte_start,
                byte_end,
                score: span.score,
                recognizer: span.recognizer.clone(),
                explanation: None,
            });
        }
        detections.sort_by_key(|detection| (detection.start, detection.end));
        Ok(detections)
    }

    /// The spans of the unit at `location`, given in code points of a whole `source` (an
    /// HTML document), that fall in a piece of its text: `offsets` are the source's byte
    /// offset of each of the piece's code points and of its end.
    pub fn detections_in_piece(
        &self,
        location: &str,
        source: &str,
        piece_text: &str,
        offsets: &[usize],
    ) -> Result<Vec<Detection>, AnonymizeError> {
        let Some(spans) = self.spans_of(location, None) else {
            return Ok(Vec::new());
        };
        let source_bytes = byte_offsets(source);
        let mut inside = GivenSpans::new();
        for span in spans {
            let (Some(start), Some(end)) = (source_bytes.get(span.start), source_bytes.get(span.end)) else {
                return Err(AnonymizeError::Stale {
                    location: location.to_owned(),
                });
            };
            let (Ok(piece_start), Ok(piece_end)) = (offsets.binary_search(start), offsets.binary_search(end)) else {
                continue;
            };
            inside.insert(
                location,
                None,
                GivenSpan {
                    start: piece_start,
                    end: piece_end,
                    ..span.clone()
                },
            );
        }
        inside.detections(location, None, piece_text)
    }

    /// Fails when recorded units were never asked for: the document no longer has them.
    pub fn check_all_read(&self) -> Result<(), AnonymizeError> {
        let read = self.read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match self.by_unit.keys().find(|key| !read.contains(*key)) {
            Some((location, _)) => Err(AnonymizeError::Stale {
                location: location.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// The byte offset of each code point of `text`, and of its end.
fn byte_offsets(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(at, _)| at)
        .chain(std::iter::once(text.len()))
        .collect()
}

/// How the entities of units of text are found: by a detector, or given (a reviewed set)
/// with what the detector finds outside the given spans.
#[derive(Clone, Copy)]
pub struct Finder<'a> {
    pub detector: &'a Detector,
    pub options: &'a DetectOptions,
    pub given: Option<&'a GivenSpans>,
}

/// The entities of units of text, and the recognizers detection went without.
#[derive(Debug, Default)]
pub struct Found {
    pub detections: Vec<Vec<Detection>>,
    pub skipped: Vec<SkippedRecognizer>,
}

/// A unit of text to find entities in.
#[derive(Debug, Clone, Copy)]
pub struct UnitText<'a> {
    pub location: &'a str,
    pub paragraph: Option<usize>,
    pub text: &'a str,
}

impl<'a> Finder<'a> {
    /// A finder that detects.
    pub fn detecting(detector: &'a Detector, options: &'a DetectOptions) -> Finder<'a> {
        Finder {
            detector,
            options,
            given: None,
        }
    }

    /// Whether the entities are given rather than detected.
    pub fn is_given(&self) -> bool {
        self.given.is_some()
    }

    /// The entities of each unit, found together (a model batches their windows).
    pub fn find_many(&self, units: &[UnitText<'_>]) -> Result<Found, StructuredError> {
        let texts: Vec<&str> = units.iter().map(|unit| unit.text).collect();
        let found = self.detector.detect_many(&texts, self.options)?;
        let Some(given) = self.given else {
            return Ok(Found {
                detections: found.detections,
                skipped: found.skipped,
            });
        };
        let mut detections = Vec::with_capacity(units.len());
        for (unit, detected) in units.iter().zip(found.detections) {
            let spans = given.detections(unit.location, unit.paragraph, unit.text)?;
            detections.push(outside(spans, detected));
        }
        let mut skipped = Vec::new();
        merge_skipped(&mut skipped, found.skipped);
        Ok(Found { detections, skipped })
    }

    /// The entities of one unit.
    pub fn find(&self, unit: UnitText<'_>) -> Result<(Vec<Detection>, Vec<SkippedRecognizer>), StructuredError> {
        let mut found = self.find_many(&[unit])?;
        Ok((found.detections.pop().unwrap_or_default(), found.skipped))
    }
}

/// The given spans, with the detected ones that overlap none of them, in order.
pub fn outside(mut given: Vec<Detection>, detected: Vec<Detection>) -> Vec<Detection> {
    let extra: Vec<Detection> = detected
        .into_iter()
        .filter(|found| {
            !given
                .iter()
                .any(|span| span.start < found.end && found.start < span.end)
        })
        .collect();
    given.extend(extra);
    given.sort_by_key(|detection| (detection.start, detection.end));
    given
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_detection::detect::DenyEntry;

    fn span(entity_type: &str, start: usize, end: usize, value: &str) -> GivenSpan {
        GivenSpan {
            entity_type: EntityType::new(entity_type),
            start,
            end,
            value: Some(value.to_owned()),
            score: 0.9,
            recognizer: "reviewer".into(),
        }
    }

    #[test]
    fn spans_are_checked_against_their_unit() {
        let mut given = GivenSpans::new();
        given.insert("page 1", None, span("PERSON", 7, 12, "Núñez"));
        let text = "Señor, Núñez firmó.";
        let found = given.detections("page 1", None, text).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].byte_start..found[0].byte_end], "Núñez");
        // Another text at the same place, or a span past its end, is stale.
        assert!(matches!(
            given.detections("page 1", None, "Señor, Pérez firmó."),
            Err(AnonymizeError::Stale { .. })
        ));
        assert!(matches!(
            given.detections("page 1", None, "Señor"),
            Err(AnonymizeError::Stale { .. })
        ));
        // A unit with nothing recorded has nothing.
        assert!(given.detections("page 2", None, text).unwrap().is_empty());
    }

    #[test]
    fn units_never_read_are_reported() {
        let mut given = GivenSpans::new();
        given.insert("word/document.xml", Some(3), span("PERSON", 0, 3, "Ana"));
        assert!(given.check_all_read().is_err());
        given.detections("word/document.xml", Some(3), "Ana llegó").unwrap();
        assert!(given.check_all_read().is_ok());
    }

    #[test]
    fn a_detector_adds_only_outside_the_given_spans() {
        let detector = Detector::without_patterns(Vec::new()).unwrap();
        let options = DetectOptions {
            deny_list: vec![
                DenyEntry {
                    value: "Proyecto Fénix".into(),
                    entity_type: "ORGANIZATION".into(),
                },
                DenyEntry {
                    value: "Fénix".into(),
                    entity_type: "PERSON".into(),
                },
            ],
            ..DetectOptions::default()
        };
        let mut given = GivenSpans::new();
        given.insert("text", None, span("PERSON", 0, 5, "Fénix"));
        let finder = Finder {
            detector: &detector,
            options: &options,
            given: Some(&given),
        };
        let text = "Fénix dirige el Proyecto Fénix.";
        let (found, _) = finder
            .find(UnitText {
                location: "text",
                paragraph: None,
                text,
            })
            .unwrap();
        let spans: Vec<(&str, &str)> = found
            .iter()
            .map(|detection| {
                (
                    detection.entity_type.as_str(),
                    &text[detection.byte_start..detection.byte_end],
                )
            })
            .collect();
        assert_eq!(spans, [("PERSON", "Fénix"), ("ORGANIZATION", "Proyecto Fénix")]);
    }

    #[test]
    fn pieces_of_a_source_get_their_spans() {
        let source = "<p>Hola <b>Ana</b></p>";
        let mut given = GivenSpans::new();
        given.insert("html", None, span("PERSON", 11, 14, "Ana"));
        // The piece "Ana" starts at byte 11 of the source.
        let offsets = [11, 12, 13, 14];
        let found = given.detections_in_piece("html", source, "Ana", &offsets).unwrap();
        assert_eq!((found[0].start, found[0].end), (0, 3));
        // A piece the span is not in has none.
        let found = given
            .detections_in_piece("html", source, "Hola ", &[3, 4, 5, 6, 7, 8])
            .unwrap();
        assert!(found.is_empty());
    }
}
