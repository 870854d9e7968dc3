//! The text a reader sees in a burnt image: the runs of burnt words read again from the pixels,
//! every other word as it was read before.

use std::ops::Range;

use image::{Rgb, RgbImage};

use super::burn::{burn_box, overlaps_any};
use super::engine::recognize_rectangles;
use super::orientation::turned;
use super::{DocumentError, Ocr, Word};

/// The text a reader of `output` sees, given what OCR read in the image before it was
/// burnt (`read`) and the spans burnt. Each run of burnt words on a line is read again with
/// OCR from `output`, with a margin of a line's height around it; every other word's pixels
/// were not touched, and its text is what was read before. Burnt boxes that are still filled
/// are blanked before the runs are read.
pub fn reread(output: &RgbImage, read: &Ocr, burnt: &[Range<usize>], language: &str) -> Result<String, DocumentError> {
    // Read in the orientation the words were read in.
    let upright;
    let output = if read.turns.is_multiple_of(4) {
        output
    } else {
        upright = turned(output, read.turns);
        &upright
    };
    let is_burnt = |word: &Word| overlaps_any(word, burnt);
    let word_text = |word: &Word| -> String {
        read.text
            .chars()
            .skip(word.chars.start)
            .take(word.chars.len())
            .collect()
    };
    // Each line as pieces: a word read before, or a region to read again.
    enum Piece {
        Kept(String),
        Region,
    }
    let (width, height) = output.dimensions();
    let mut lines: Vec<Vec<Piece>> = Vec::with_capacity(read.lines.len());
    let mut regions = Vec::new();
    for line in &read.lines {
        let mut pieces = Vec::new();
        let mut run: Option<[u32; 4]> = None;
        let line_height = line.bounds[3].max(1);
        let close = |run: [u32; 4], pieces: &mut Vec<Piece>, regions: &mut Vec<[u32; 4]>| {
            let [x0, y0, x1, y1] = run;
            let (x0, y0) = (x0.saturating_sub(line_height), y0.saturating_sub(line_height / 2 + 2));
            let (x1, y1) = ((x1 + line_height).min(width), (y1 + line_height / 2 + 2).min(height));
            let region = [x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)];
            regions.push(region);
            pieces.push(Piece::Region);
        };
        for word in &read.words[line.words.clone()] {
            if is_burnt(word) {
                let [left, top, word_width, word_height] = word.bounds;
                let (right, bottom) = (left + word_width, top + word_height);
                run = Some(match run {
                    Some([x0, y0, x1, y1]) => [x0.min(left), y0.min(top), x1.max(right), y1.max(bottom)],
                    None => [left, top, right, bottom],
                });
            } else {
                if let Some(finished) = run.take() {
                    close(finished, &mut pieces, &mut regions);
                }
                pieces.push(Piece::Kept(word_text(word)));
            }
        }
        if let Some(finished) = run.take() {
            close(finished, &mut pieces, &mut regions);
        }
        lines.push(pieces);
    }
    if regions.is_empty() {
        return Ok(read.text.clone());
    }
    // A burnt box that is still filled holds nothing to read; it is blanked so that OCR reads
    // only what is around it, which is where a part of a value left uncovered would show.
    // Tesseract is much slower on large dark areas, and reads noise in them. A box that is
    // no longer filled is read as it is.
    let mut blanked = output.clone();
    for word in read.words.iter().filter(|word| is_burnt(word)) {
        let bounds = burn_box(word, output.dimensions());
        if is_filled(output, bounds) {
            let [x0, y0, x1, y1] = bounds;
            for y in y0..y1 {
                for x in x0..x1 {
                    blanked.put_pixel(x, y, Rgb([u8::MAX; 3]));
                }
            }
        }
    }
    // A region in which every dark pixel belongs to a word kept as it was read (its box, with
    // the margin a burn would have) shows nothing new: it is not read again. Ink anywhere else,
    // such as a piece of a value outside the box that was burnt, is read with OCR.
    let (width, height) = blanked.dimensions();
    let kept: Vec<[u32; 4]> = read
        .words
        .iter()
        .filter(|word| !is_burnt(word))
        .map(|word| burn_box(word, (width, height)))
        .collect();
    let inked: Vec<bool> = regions
        .iter()
        .map(|&region| has_loose_ink(&blanked, region, &kept))
        .collect();
    let to_read: Vec<[u32; 4]> = regions
        .iter()
        .zip(&inked)
        .filter(|(_, inked)| **inked)
        .map(|(region, _)| *region)
        .collect();
    // Nothing to read: Tesseract is not given the page at all.
    let read_again = if to_read.is_empty() {
        Vec::new()
    } else {
        recognize_rectangles(&blanked, &to_read, language)?
    };
    let mut read_again = read_again.into_iter();
    let reread: Vec<String> = inked
        .iter()
        .map(|&inked| {
            if inked {
                read_again.next().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .collect();
    let mut reread = reread.into_iter();
    let text: Vec<String> = lines
        .into_iter()
        .map(|pieces| {
            pieces
                .into_iter()
                .map(|piece| match piece {
                    Piece::Kept(text) => text,
                    Piece::Region => reread.next().unwrap_or_default(),
                })
                .filter(|text| !text.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Ok(text.join("\n"))
}

/// Whether every pixel of a rectangle is dark and alike: a filled box, perhaps with a lossy
/// encoder's noise, in which no glyph can be told apart.
fn is_filled(image: &RgbImage, [x0, y0, x1, y1]: [u32; 4]) -> bool {
    let (mut darkest, mut lightest) = (u8::MAX, u8::MIN);
    for y in y0..y1 {
        for x in x0..x1 {
            for &sample in &image.get_pixel(x, y).0 {
                darkest = darkest.min(sample);
                lightest = lightest.max(sample);
            }
        }
    }
    lightest <= FILLED_LIGHTEST && lightest.saturating_sub(darkest) <= FILLED_SPREAD
}

/// Whether a region (left, top, width, height) has a dark pixel outside every box of `kept`
/// (left, top, right, bottom).
fn has_loose_ink(image: &RgbImage, [left, top, width, height]: [u32; 4], kept: &[[u32; 4]]) -> bool {
    let (right, bottom) = ((left + width).min(image.width()), (top + height).min(image.height()));
    let near: Vec<[u32; 4]> = kept
        .iter()
        .copied()
        .filter(|&[x0, y0, x1, y1]| x0 < right && x1 > left && y0 < bottom && y1 > top)
        .collect();
    // Ink is darker than the region's lightest sample by a margin, so that light gray print,
    // which OCR still reads, counts, and a lossy encoder's noise does not.
    let lightest = (top..bottom)
        .flat_map(|y| (left..right).map(move |x| (x, y)))
        .map(|(x, y)| image.get_pixel(x, y).0.into_iter().min().unwrap_or(u8::MAX))
        .max()
        .unwrap_or(u8::MAX);
    let ink = lightest.saturating_sub(INK_CONTRAST);
    (top..bottom).any(|y| {
        (left..right).any(|x| {
            image.get_pixel(x, y).0.iter().any(|&sample| sample < ink)
                && !near
                    .iter()
                    .any(|&[x0, y0, x1, y1]| (x0..x1).contains(&x) && (y0..y1).contains(&y))
        })
    })
}

/// How much darker than a region's lightest sample a sample must be to be ink.
const INK_CONTRAST: u8 = 48;

/// The lightest sample, and the widest spread between samples, of a box taken as filled.
const FILLED_LIGHTEST: u8 = 96;
const FILLED_SPREAD: u8 = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{burn, decode, ocr};
    use crate::{Format, Limits};

    #[test]
    fn burnt_lines_are_read_again_from_the_pixels_and_the_others_kept() {
        let scan = include_bytes!("../../tests/fixtures/documents/scan.png");
        let image = decode(scan, Format::Png, &Limits::default()).unwrap();
        let read = ocr(&image, "es").unwrap();
        assert_eq!(read.lines.len(), 4, "{read:?}");
        let name_start = read.text.find("José").unwrap();
        let name = read.text[..name_start].chars().count()..read.text[..name_start].chars().count() + 17;
        let mut burnt = image.clone();
        burn(&mut burnt, &read, std::slice::from_ref(&name));
        let seen = reread(&burnt, &read, std::slice::from_ref(&name), "es").unwrap();
        let lines: Vec<&str> = seen.lines().collect();
        let before: Vec<&str> = read.text.lines().collect();
        assert_eq!((lines[0], lines[2], lines[3]), (before[0], before[2], before[3]));
        assert!(
            lines[1].starts_with("Nombre") && !lines[1].contains("José") && !lines[1].contains("Pérez"),
            "{seen}"
        );
        // The line is read from the pixels it is given: had the burn missed, the name is seen.
        let unburnt = reread(&image, &read, std::slice::from_ref(&name), "es").unwrap();
        assert!(unburnt.lines().nth(1).unwrap().contains("José Pérez"), "{unburnt}");
        // Nothing burnt: the text as it was read.
        assert_eq!(reread(&image, &read, &[], "es").unwrap(), read.text);
    }

    #[test]
    fn a_region_is_read_again_only_for_ink_outside_the_words_kept() {
        let mut image = RgbImage::from_pixel(60, 20, Rgb([u8::MAX; 3]));
        // A kept word's ink, inside its box.
        image.put_pixel(5, 5, Rgb([0, 0, 0]));
        let kept = [[2, 2, 10, 10]];
        assert!(!has_loose_ink(&image, [0, 0, 60, 20], &kept));
        // Noise a little darker than the paper is not ink.
        image.put_pixel(30, 3, Rgb([235, 235, 235]));
        assert!(!has_loose_ink(&image, [0, 0, 60, 20], &kept));
        // A light gray stroke left of a burnt value, outside every kept box, is.
        image.put_pixel(40, 8, Rgb([190, 190, 190]));
        assert!(has_loose_ink(&image, [0, 0, 60, 20], &kept));
        // Outside the region it does not count.
        assert!(!has_loose_ink(&image, [0, 0, 30, 20], &kept));
    }

    #[test]
    fn a_box_is_filled_only_when_all_its_pixels_are_dark_and_alike() {
        let mut image = RgbImage::from_pixel(40, 20, Rgb([u8::MAX; 3]));
        let bounds = [5, 5, 25, 15];
        for y in 5..15 {
            for x in 5..25 {
                // A lossy encoder's noise inside a black box.
                let noise = u8::try_from((x * 7 + y * 3) % 40).unwrap();
                image.put_pixel(x, y, Rgb([noise, noise, noise]));
            }
        }
        assert!(is_filled(&image, bounds));
        // One light stroke inside: something could be read there.
        image.put_pixel(12, 9, Rgb([200, 200, 200]));
        assert!(!is_filled(&image, bounds));
        // Light everywhere: not a burnt box.
        assert!(!is_filled(&RgbImage::from_pixel(40, 20, Rgb([180; 3])), bounds));
    }
}
