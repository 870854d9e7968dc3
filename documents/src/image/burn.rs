//! Detected values burnt into the pixels: the words a span covers filled black, with a
//! margin.

use std::ops::Range;

use image::{Rgb, RgbImage};

use super::{Ocr, Word};

/// Fills black the words of `ocr` that overlap any of `spans`, with a small margin.
pub fn burn(image: &mut RgbImage, ocr: &Ocr, spans: &[Range<usize>]) {
    let size = image.dimensions();
    let read_size = if ocr.turns % 2 == 1 { (size.1, size.0) } else { size };
    for word in &ocr.words {
        if !overlaps_any(word, spans) {
            continue;
        }
        let [x0, y0, x1, y1] = burn_box(word, read_size);
        let [x0, y0, width, height] = ocr.to_source([x0, y0, x1 - x0, y1 - y0]);
        let (x1, y1) = ((x0 + width).min(size.0), (y0 + height).min(size.1));
        for y in y0..y1 {
            for x in x0..x1 {
                image.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
    }
}

pub(super) fn overlaps_any(word: &Word, spans: &[Range<usize>]) -> bool {
    spans
        .iter()
        .any(|span| word.chars.start < span.end && word.chars.end > span.start)
}

/// The rectangle (left, top, right, bottom) `burn` fills for a word: its box with a margin
/// of an eighth of its height, within the image.
pub(super) fn burn_box(word: &Word, (width, height): (u32, u32)) -> [u32; 4] {
    let [left, top, box_width, box_height] = word.bounds;
    let margin = (box_height / 8).max(1);
    [
        left.saturating_sub(margin).min(width),
        top.saturating_sub(margin).min(height),
        (left + box_width + margin).min(width),
        (top + box_height + margin).min(height),
    ]
}
