//! Tesseract, one engine kept per thread: the words of an image with their boxes and
//! confidence, and the text in given rectangles of it.

use std::cell::RefCell;

use image::RgbImage;

use super::codec::gray_samples;
use super::{DocumentError, Line, Ocr, Word};

/// Tesseract's languages for a text language: the text's own first.
fn languages(language: &str) -> &'static str {
    if language == "es" { "spa+eng" } else { "eng+spa" }
}

/// The languages documents are read in, as Tesseract names them.
pub const OCR_LANGUAGES: [&str; 2] = ["spa", "eng"];

/// The Tesseract this build reads scans with: its version, and which of the languages
/// documents are read in it can load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrStatus {
    pub version: String,
    pub languages: Vec<&'static str>,
    /// Languages whose data Tesseract could not load (a `tesseract-ocr-spa` package missing).
    pub missing: Vec<&'static str>,
}

/// Loads each language's data once to see that it loads, which takes tens of milliseconds:
/// callers keep the answer.
pub fn ocr_status() -> OcrStatus {
    let version = tesseract::plumbing::version().to_string_lossy().into_owned();
    let (mut languages, mut missing) = (Vec::new(), Vec::new());
    for language in OCR_LANGUAGES {
        match tesseract::Tesseract::new(None, Some(language)) {
            Ok(_) => languages.push(language),
            Err(_) => missing.push(language),
        }
    }
    OcrStatus {
        version,
        languages,
        missing,
    }
}

thread_local! {
    /// The last Tesseract engine this thread used, with its languages: loading a language's
    /// data takes longer than reading a small page, so it is loaded once per thread.
    static ENGINE: RefCell<Option<(&'static str, tesseract::Tesseract)>> = const { RefCell::new(None) };
}

fn unavailable(error: String) -> DocumentError {
    DocumentError::Unsupported(format!(
        "OCR is unavailable ({error}); install Tesseract's English and Spanish data (tesseract-ocr-eng, tesseract-ocr-spa)"
    ))
}

fn as_i32(value: u32) -> Result<i32, DocumentError> {
    i32::try_from(value).map_err(|_| DocumentError::Corrupt("the image is too large".into()))
}

/// Runs `read` with this thread's engine for `language`, loaded if needed, after giving it
/// the image; the engine is kept for the next call unless something failed.
fn with_engine<T>(
    image: &RgbImage,
    language: &str,
    read: impl FnOnce(tesseract::Tesseract) -> Result<(tesseract::Tesseract, T), DocumentError>,
) -> Result<T, DocumentError> {
    let languages = languages(language);
    let cached = ENGINE.with_borrow_mut(Option::take);
    let engine = match cached {
        Some((loaded, engine)) if loaded == languages => engine,
        Some(_) | None => {
            tesseract::Tesseract::new(None, Some(languages)).map_err(|error| unavailable(error.to_string()))?
        }
    };
    let (width, height) = image.dimensions();
    let gray = gray_samples(image);
    let (samples, bytes_per_pixel) = match &gray {
        Some(gray) => (gray.as_slice(), 1),
        None => (image.as_raw().as_slice(), 3),
    };
    let engine = engine
        .set_frame(
            samples,
            as_i32(width)?,
            as_i32(height)?,
            bytes_per_pixel,
            as_i32(width.saturating_mul(bytes_per_pixel.unsigned_abs()))?,
        )
        .map_err(|error| unavailable(error.to_string()))?;
    let (engine, value) = read(engine)?;
    ENGINE.with_borrow_mut(|slot| *slot = Some((languages, engine)));
    Ok(value)
}

pub(super) fn read_words(image: &RgbImage, language: &str) -> Result<Ocr, DocumentError> {
    with_engine(image, language, |mut engine| {
        // The page as one block of text. The `tesseract` command's default, automatic page
        // segmentation, is faster, but it takes some lines of a scanned letter for pictures and
        // skips them (on `contract-scan.tif`, the line with a name and a DNI).
        engine.set_page_seg_mode(tesseract::PageSegMode::PsmSingleBlock);
        let mut engine = engine.recognize().map_err(|error| unavailable(error.to_string()))?;
        let tsv = engine.get_tsv_text(0).map_err(|error| unavailable(error.to_string()))?;
        Ok((engine, parse_tsv(&tsv)))
    })
}

/// The text in each rectangle (left, top, width, height) of an image, each read as one
/// line of text by the same engine, with the image given once.
pub(super) fn recognize_rectangles(
    image: &RgbImage,
    rectangles: &[[u32; 4]],
    language: &str,
) -> Result<Vec<String>, DocumentError> {
    with_engine(image, language, |mut engine| {
        engine.set_page_seg_mode(tesseract::PageSegMode::PsmSingleLine);
        let mut texts = Vec::with_capacity(rectangles.len());
        for &[left, top, width, height] in rectangles {
            engine = engine
                .set_rectangle(as_i32(left)?, as_i32(top)?, as_i32(width)?, as_i32(height)?)
                .recognize()
                .map_err(|error| unavailable(error.to_string()))?;
            let text = engine.get_text().map_err(|error| unavailable(error.to_string()))?;
            texts.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        Ok((engine, texts))
    })
}

/// Tesseract's TSV: `level page block paragraph line word left top width height conf text`;
/// level 5 rows are words.
fn parse_tsv(tsv: &str) -> Ocr {
    let mut ocr = Ocr::default();
    let mut chars = 0;
    let mut current_line: Option<(&str, &str, &str)> = None;
    for row in tsv.lines() {
        let fields: Vec<&str> = row.split('\t').collect();
        let [
            level,
            _,
            block,
            paragraph,
            line,
            _,
            left,
            top,
            width,
            height,
            confidence,
            text,
        ] = fields.as_slice()
        else {
            continue;
        };
        if *level != "5" || text.trim().is_empty() {
            continue;
        }
        let numbers: Option<Vec<u32>> = [left, top, width, height]
            .iter()
            .map(|field| field.parse().ok())
            .collect();
        let Some(numbers) = numbers else { continue };
        let line_key = (*block, *paragraph, *line);
        let same_line = current_line == Some(line_key);
        if !ocr.text.is_empty() {
            ocr.text.push(if same_line { ' ' } else { '\n' });
            chars += 1;
        }
        if !same_line {
            ocr.lines.push(Line {
                words: ocr.words.len()..ocr.words.len(),
                bounds: [numbers[0], numbers[1], 0, 0],
            });
        }
        if let Some(current) = ocr.lines.last_mut() {
            current.words.end += 1;
            let [left, top, width, height] = current.bounds;
            let (right, bottom) = if current.words.len() == 1 {
                (numbers[0] + numbers[2], numbers[1] + numbers[3])
            } else {
                (
                    (left + width).max(numbers[0] + numbers[2]),
                    (top + height).max(numbers[1] + numbers[3]),
                )
            };
            let (left, top) = (left.min(numbers[0]), top.min(numbers[1]));
            current.bounds = [left, top, right - left, bottom - top];
        }
        current_line = Some(line_key);
        let length = text.chars().count();
        ocr.words.push(Word {
            chars: chars..chars + length,
            bounds: [numbers[0], numbers[1], numbers[2], numbers[3]],
            confidence: confidence.trim().parse().unwrap_or(0.0),
        });
        ocr.text.push_str(text);
        chars += length;
    }
    ocr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::burn;
    use image::Rgb;

    #[test]
    fn words_and_lines_come_from_tesseract_tsv() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
            5\t1\t1\t1\t1\t1\t10\t10\t40\t12\t96\tJosé\n\
            5\t1\t1\t1\t1\t2\t55\t10\t45\t12\t95\tPérez\n\
            5\t1\t1\t1\t2\t1\t10\t30\t30\t12\t91\tDNI\n";
        let ocr = parse_tsv(tsv);
        assert_eq!(ocr.text, "José Pérez\nDNI");
        assert_eq!(ocr.words[1].chars, 5..10);
        assert_eq!(ocr.words[2].bounds, [10, 30, 30, 12]);

        let mut image = RgbImage::from_pixel(120, 50, Rgb([255, 255, 255]));
        let name = 0..10;
        burn(&mut image, &ocr, std::slice::from_ref(&name));
        assert_eq!(image.get_pixel(30, 15), &Rgb([0, 0, 0]));
        assert_eq!(image.get_pixel(20, 35), &Rgb([255, 255, 255]), "DNI is not burnt");
    }
}
