//! Images (PNG, JPEG, TIFF): text read with Tesseract, detected values burnt into the pixels.
//!
//! The image's size is checked from its header before it is decoded, against
//! [`Limits::max_image_pixels`], so a small file cannot expand into gigabytes. Tesseract
//! (English and Spanish, from Debian's `tesseract-ocr-eng` and `tesseract-ocr-spa`) reads the
//! words with their boxes; lines and words become the text that detection reads. A detected
//! value's words are filled black in the pixels, and the image is encoded again in its
//! format from the pixels alone, which leaves EXIF and every other metadata block behind.

use std::ops::Range;

use super::{DocumentError, Format, Limits};

mod burn;
mod codec;
mod engine;
mod misread;
mod orientation;
mod reread;

pub use burn::burn;
pub use codec::{decode, encode, into_rgb};
pub use engine::{OCR_LANGUAGES, OcrStatus, ocr_status};
pub use misread::misread_dni;
pub use orientation::ocr;
pub use reread::reread;

/// One word as Tesseract read it: its code points in the text and its box in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub chars: Range<usize>,
    /// Left, top, width and height, in the image as it was read (see [`Ocr::turns`]).
    pub bounds: [u32; 4],
    /// Tesseract's confidence in the word, 0 to 100.
    pub confidence: f32,
}

/// One line of words as Tesseract read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its words, as indices into [`Ocr::words`].
    pub words: Range<usize>,
    /// Left, top, width and height of all its words.
    pub bounds: [u32; 4],
}

/// The text of an image and where its words are; lines are joined by line breaks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ocr {
    pub text: String,
    pub words: Vec<Word>,
    pub lines: Vec<Line>,
    /// Quarter turns clockwise the image was given before it was read, because its text
    /// did not stand upright; word and line boxes are in the turned image.
    pub turns: u8,
    /// Width and height of the image as it was given, before any turn.
    pub source_size: (u32, u32),
}

impl Ocr {
    /// The share of the text's characters that are in words read with a confidence of at
    /// least [`CONFIDENT`]; 0 when nothing was read.
    pub fn confident_share(&self) -> f32 {
        let (mut confident, mut all) = (0, 0);
        for word in &self.words {
            all += word.chars.len();
            if word.confidence >= CONFIDENT {
                confident += word.chars.len();
            }
        }
        if all == 0 { 0.0 } else { confident as f32 / all as f32 }
    }

    /// A box (left, top, width, height) of the image as read, in the image as given.
    pub fn to_source(&self, [left, top, width, height]: [u32; 4]) -> [u32; 4] {
        let (source_width, source_height) = self.source_size;
        match self.turns % 4 {
            1 => [top, source_height.saturating_sub(left + width), height, width],
            2 => [
                source_width.saturating_sub(left + width),
                source_height.saturating_sub(top + height),
                width,
                height,
            ],
            3 => [source_width.saturating_sub(top + height), left, height, width],
            _ => [left, top, width, height],
        }
    }
}

/// A word confidence Tesseract gives text it reads well.
const CONFIDENT: f32 = 80.0;

/// The boxes (left, top, width, height) of the words a span covers.
pub fn span_bounds(ocr: &Ocr, span: &Range<usize>) -> Vec<[u32; 4]> {
    ocr.words
        .iter()
        .filter(|word| word.chars.start < span.end && word.chars.end > span.start)
        .map(|word| ocr.to_source(word.bounds))
        .collect()
}

/// The lowest confidence of the words a span covers.
pub fn span_confidence(ocr: &Ocr, span: &Range<usize>) -> Option<f32> {
    ocr.words
        .iter()
        .filter(|word| word.chars.start < span.end && word.chars.end > span.start)
        .map(|word| word.confidence)
        .reduce(f32::min)
}
