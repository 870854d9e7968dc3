//! Streaming detection for texts too big to hold at once.
//!
//! Text arrives in pieces of any size, split anywhere (even inside a word or a number). The
//! stream keeps a tail of [`OVERLAP_CHARS`] code points between rounds, so an entity or its
//! context words straddling a split is seen whole, and reports each detection once, with
//! offsets in the whole text. For entities and context shorter than the overlap, the result
//! equals detection over the whole text.

use crate::detect::{DetectError, DetectOptions, Detector, Findings, merge_skipped};

/// Code points kept from one round to the next.
pub const OVERLAP_CHARS: usize = 2048;
/// A round runs once this many bytes are buffered.
pub const ROUND_BYTES: usize = 256 * 1024;

/// Detection over a text given piece by piece.
#[derive(Debug)]
pub struct DetectionStream<'d> {
    detector: &'d Detector,
    options: DetectOptions,
    buffer: String,
    /// Code points and bytes of the whole text before `buffer`.
    offset_chars: usize,
    offset_bytes: usize,
    /// Detections starting before this code point (of the whole text) were reported.
    reported_until: usize,
    found: Findings,
    round_bytes: usize,
    overlap_chars: usize,
}

impl<'d> DetectionStream<'d> {
    pub fn new(detector: &'d Detector, options: DetectOptions) -> DetectionStream<'d> {
        DetectionStream {
            detector,
            options,
            buffer: String::new(),
            offset_chars: 0,
            offset_bytes: 0,
            reported_until: 0,
            found: Findings::default(),
            round_bytes: ROUND_BYTES,
            overlap_chars: OVERLAP_CHARS,
        }
    }

    /// Uses other round and overlap sizes; the overlap must exceed the longest entity plus
    /// its context for results to equal whole-text detection.
    pub fn with_sizes(mut self, round_bytes: usize, overlap_chars: usize) -> DetectionStream<'d> {
        self.round_bytes = round_bytes.max(1);
        self.overlap_chars = overlap_chars;
        self
    }

    /// Adds the next piece of text.
    pub fn push(&mut self, piece: &str) -> Result<(), DetectError> {
        self.buffer.push_str(piece);
        // Without a language, the first round waits for the sample the language is guessed
        // from, so that the guess is the one whole-text detection makes.
        let guessing = self.options.language.is_none() && self.buffer.len() < crate::language::SAMPLE_BYTES;
        if self.buffer.len() >= self.round_bytes && !guessing {
            self.round(false)?;
        }
        Ok(())
    }

    /// Ends the text and returns every detection, in order, and the recognizers any round
    /// went without.
    pub fn finish(mut self) -> Result<Findings, DetectError> {
        self.round(true)?;
        Ok(self.found)
    }

    fn round(&mut self, last: bool) -> Result<(), DetectError> {
        let buffer_chars = self.buffer.chars().count();
        // Detections starting at or after `settle` may still change as more text arrives.
        let settle = if last {
            buffer_chars
        } else {
            buffer_chars.saturating_sub(self.overlap_chars)
        };
        if self.options.language.is_none() {
            self.options.language = Some(crate::language::guess(&[&self.buffer]).to_owned());
        }
        let findings = self.detector.detect(&self.buffer, &self.options)?;
        merge_skipped(&mut self.found.skipped, findings.skipped);
        for mut detection in findings.detections {
            let start = detection.start + self.offset_chars;
            if detection.start >= settle || start < self.reported_until {
                continue;
            }
            detection.start = start;
            detection.end += self.offset_chars;
            detection.byte_start += self.offset_bytes;
            detection.byte_end += self.offset_bytes;
            self.found.detections.push(detection);
        }
        self.reported_until = self.offset_chars + settle;
        if last {
            return Ok(());
        }
        // Keep enough before `settle` for context words and for entities that began
        // before it and end after it.
        let keep_from_char = settle.saturating_sub(self.overlap_chars);
        let keep_from_byte = self
            .buffer
            .char_indices()
            .nth(keep_from_char)
            .map_or(self.buffer.len(), |(byte, _)| byte);
        self.buffer.drain(..keep_from_byte);
        self.offset_chars += keep_from_char;
        self.offset_bytes += keep_from_byte;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_inside_an_entity_is_seen_whole() {
        let detector = Detector::with_builtin_packs().unwrap();
        let filler = "lorem ipsum dolor sit amet ".repeat(20_000);
        let text = format!("{filler}write to jane.doe@example.com today {filler}");
        let whole = detector.detect(&text, &DetectOptions::default()).unwrap().detections;
        let split_at = text.find("doe@").unwrap();
        let mut stream = DetectionStream::new(&detector, DetectOptions::default());
        stream.push(&text[..split_at]).unwrap();
        stream.push(&text[split_at..]).unwrap();
        let streamed = stream.finish().unwrap().detections;
        assert_eq!(streamed, whole);
        assert_eq!(streamed.len(), 1);
        assert_eq!(
            &text[streamed[0].byte_start..streamed[0].byte_end],
            "jane.doe@example.com"
        );
    }
}
