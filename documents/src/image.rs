//! Images (PNG, JPEG, TIFF): text read with Tesseract, detected values burnt into the pixels.
//!
//! The image's size is checked from its header before it is decoded, against
//! [`Limits::max_image_pixels`], so a small file cannot expand into gigabytes. Tesseract
//! (English and Spanish, from Debian's `tesseract-ocr-eng` and `tesseract-ocr-spa`) reads the
//! words with their boxes; lines and words become the text that detection reads. A detected
//! value's words are filled black in the pixels, and the image is encoded again in its
//! format from the pixels alone, which leaves EXIF and every other metadata block behind.

use obscura_detection::entity_type::EntityType;
use std::cell::RefCell;
use std::io::Cursor;
use std::ops::Range;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, Rgb, RgbImage};

use super::{DocumentError, Format, Limits};

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

/// The image turned clockwise by `turns` quarter turns.
fn turned(image: &RgbImage, turns: u8) -> RgbImage {
    match turns % 4 {
        1 => image::imageops::rotate90(image),
        2 => image::imageops::rotate180(image),
        3 => image::imageops::rotate270(image),
        _ => image.clone(),
    }
}

/// A word confidence Tesseract gives text it reads well.
const CONFIDENT: f32 = 80.0;
/// Below this [`Ocr::confident_share`], a page is also read turned a quarter, a half and three
/// quarters. Measured on the test scans: upright pages 0.91 to 0.93, and 0.56 to 0.70 once
/// their values are burnt (the boxes read as noise); sideways or upside down 0.05 to 0.23.
const MISREAD_SHARE: f32 = 0.5;
/// How much higher a turned reading's share must be to be taken instead.
const TURN_MARGIN: f32 = 0.2;
/// Images whose shorter side is at least twice this are tried turned at half size.
const MIN_PROBE_SIDE: u32 = 600;
/// Fewer words than this are not enough to judge the orientation by.
const MIN_WORDS_TO_TURN: usize = 3;

fn image_format(format: Format) -> Option<ImageFormat> {
    match format {
        Format::Png => Some(ImageFormat::Png),
        Format::Jpeg => Some(ImageFormat::Jpeg),
        Format::Tiff => Some(ImageFormat::Tiff),
        Format::Text | Format::Markdown | Format::Csv | Format::Json | Format::Html | Format::Docx | Format::Pdf => {
            None
        }
    }
}

/// Decodes an image after checking its size.
pub fn decode(bytes: &[u8], format: Format, limits: &Limits) -> Result<RgbImage, DocumentError> {
    let kind =
        image_format(format).ok_or_else(|| DocumentError::Unsupported(format!("{} is not an image", format.name())))?;
    let corrupt = |error: image::ImageError| DocumentError::Corrupt(format!("{}: {error}", format.name()));
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), kind)
        .into_dimensions()
        .map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_image_pixels {
        return Err(DocumentError::TooManyPixels {
            pixels,
            limit: limits.max_image_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind);
    let mut decoding_limits = image::Limits::default();
    decoding_limits.max_alloc = Some(pixels.saturating_mul(16).max(1 << 20));
    reader.limits(decoding_limits);
    Ok(into_rgb(reader.decode().map_err(corrupt)?))
}

/// The pixels as RGB. Gray pixels (scans) are widened here directly: the `image` crate's
/// general conversion goes through its colour-space machinery and takes several times as long.
pub fn into_rgb(image: DynamicImage) -> RgbImage {
    if let DynamicImage::ImageRgb8(rgb) = image {
        return rgb;
    }
    if let DynamicImage::ImageLuma8(gray) = &image {
        let (width, height) = gray.dimensions();
        let samples = gray.as_raw().iter().flat_map(|&sample| [sample; 3]).collect();
        if let Some(rgb) = RgbImage::from_raw(width, height, samples) {
            return rgb;
        }
    }
    image.to_rgb8()
}

/// Encodes pixels in an image format; nothing but the pixels is written. An image whose
/// pixels are all gray (a scan) is written in gray, and a TIFF is deflated, so that the
/// output stays near the input's size.
pub fn encode(image: &RgbImage, format: Format) -> Result<Vec<u8>, DocumentError> {
    let kind =
        image_format(format).ok_or_else(|| DocumentError::Unsupported(format!("{} is not an image", format.name())))?;
    let failed = |error: String| DocumentError::Corrupt(format!("writing {}: {error}", format.name()));
    let (width, height) = image.dimensions();
    let pixels = match gray_samples(image).and_then(|samples| GrayImage::from_raw(width, height, samples)) {
        Some(gray) => DynamicImage::ImageLuma8(gray),
        None => DynamicImage::ImageRgb8(image.clone()),
    };
    let mut out = Cursor::new(Vec::new());
    if kind == ImageFormat::Tiff {
        let mut encoder = tiff::encoder::TiffEncoder::new(&mut out)
            .map_err(|error| failed(error.to_string()))?
            .with_compression(tiff::encoder::Compression::Deflate(
                tiff::encoder::DeflateLevel::Balanced,
            ));
        let written = if let DynamicImage::ImageLuma8(gray) = &pixels {
            encoder.write_image::<tiff::encoder::colortype::Gray8>(width, height, gray.as_raw())
        } else {
            encoder.write_image::<tiff::encoder::colortype::RGB8>(width, height, image.as_raw())
        };
        written.map_err(|error| failed(error.to_string()))?;
    } else {
        pixels
            .write_to(&mut out, kind)
            .map_err(|error| failed(error.to_string()))?;
    }
    Ok(out.into_inner())
}

/// Tesseract's languages for a text language: the text's own first.
fn languages(language: &str) -> &'static str {
    if language == "es" { "spa+eng" } else { "eng+spa" }
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

/// One sample per pixel when every pixel is gray (a scan), for Tesseract: it thresholds each
/// channel of a colour image separately, which takes three times as long for the same pixels.
fn gray_samples(image: &RgbImage) -> Option<Vec<u8>> {
    let mut gray = Vec::with_capacity(image.as_raw().len() / 3);
    for pixel in image.as_raw().chunks_exact(3) {
        let [red, green, blue] = [pixel[0], pixel[1], pixel[2]];
        if red != green || green != blue {
            return None;
        }
        gray.push(red);
    }
    Some(gray)
}

/// Reads the words of an image. A page whose words read with little confidence is read again
/// turned by each quarter turn, and the reading with clearly better confidence is kept: a scan
/// fed sideways or upside down would otherwise read as noise, and nothing in it would be found.
pub fn ocr(image: &RgbImage, language: &str) -> Result<Ocr, DocumentError> {
    let mut as_given = read_words(image, language)?;
    as_given.source_size = image.dimensions();
    if as_given.words.len() < MIN_WORDS_TO_TURN || as_given.confident_share() >= MISREAD_SHARE {
        return Ok(as_given);
    }
    // The turns are tried on the image at half size when it is large: the upright reading
    // still stands out (0.88 against 0.03 to 0.08 on the test scan), in about a third of the
    // time, which is what a picture without text costs.
    let (width, height) = image.dimensions();
    let halved = width.min(height) >= 2 * MIN_PROBE_SIDE;
    let mut best: Option<(u8, Ocr)> = None;
    for turns in 1..4 {
        let mut probe = turned(image, turns);
        if halved {
            probe = image::imageops::resize(&probe, probe.width() / 2, probe.height() / 2, FilterType::Triangle);
        }
        let reading = read_words(&probe, language)?;
        let share = reading.confident_share();
        let better = best.as_ref().is_none_or(|(_, best)| share > best.confident_share());
        if share >= as_given.confident_share() + TURN_MARGIN && better {
            best = Some((turns, reading));
        }
    }
    let Some((turns, probe)) = best else {
        return Ok(as_given);
    };
    let mut reading = if halved {
        read_words(&turned(image, turns), language)?
    } else {
        probe
    };
    reading.turns = turns;
    reading.source_size = image.dimensions();
    Ok(reading)
}

fn read_words(image: &RgbImage, language: &str) -> Result<Ocr, DocumentError> {
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

/// The text in each rectangle (left, top, width, height) of an image, each read as one
/// line of text by the same engine, with the image given once.
fn recognize_rectangles(
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

/// Whether OCR may have read `letter` as `digit` (a Z as 2 or 7, an S as 5, a B as 8).
fn misread_as(letter: u8, digit: u8) -> bool {
    matches!(
        (letter, digit),
        (b'Z', b'2' | b'7')
            | (b'S', b'5')
            | (b'B', b'8')
            | (b'G', b'6')
            | (b'T', b'7' | b'1')
            | (b'L' | b'J', b'1')
            | (b'A', b'4')
            | (b'D' | b'Q', b'0')
    )
}

/// Spanish DNI numbers whose control letter OCR read as a digit: nine digits just after "DNI"
/// or "NIF" (or "DNI nº") whose last digit is a known misreading of the letter the first eight call for
/// ("DNI 12345678Z" read as "123456787"). The text keeps what OCR read; these spans are
/// added to what detection found, so that the pixels are burnt all the same.
pub fn misread_dni(text: &str) -> Vec<obscura_detection::detect::Detection> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index + 9 <= bytes.len() {
        let run = &bytes[index..index + 9];
        let bounded = (index == 0 || !bytes[index - 1].is_ascii_alphanumeric())
            && bytes.get(index + 9).is_none_or(|byte| !byte.is_ascii_alphanumeric());
        if !(bounded && run.iter().all(u8::is_ascii_digit)) {
            index += 1;
            continue;
        }
        let number: u32 = std::str::from_utf8(&run[..8])
            .ok()
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0);
        let expected = obscura_detection::validate::spain::dni_letter(u64::from(number)) as u8;
        // The label is the word just before, or the one before "nº" or "número".
        let before = text[..index].to_lowercase();
        let mut words = before
            .split(|character: char| !character.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .rev();
        let is_label = |word: Option<&str>| matches!(word, Some("dni" | "nif" | "documento"));
        let labelled = match words.next() {
            Some("nº" | "n" | "no" | "num" | "numero" | "número") => is_label(words.next()),
            other => is_label(other),
        };
        if labelled && misread_as(expected, run[8]) {
            let start = text[..index].chars().count();
            found.push(obscura_detection::detect::Detection {
                entity_type: EntityType::ES_NIF,
                start,
                end: start + 9,
                byte_start: index,
                byte_end: index + 9,
                score: 0.85,
                recognizer: "ocr_misread_dni".into(),
                explanation: None,
            });
        }
        index += 9;
    }
    found
}

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

fn overlaps_any(word: &Word, spans: &[Range<usize>]) -> bool {
    spans
        .iter()
        .any(|span| word.chars.start < span.end && word.chars.end > span.start)
}

/// The rectangle (left, top, right, bottom) `burn` fills for a word: its box with a margin
/// of an eighth of its height, within the image.
fn burn_box(word: &Word, (width, height): (u32, u32)) -> [u32; 4] {
    let [left, top, box_width, box_height] = word.bounds;
    let margin = (box_height / 8).max(1);
    [
        left.saturating_sub(margin).min(width),
        top.saturating_sub(margin).min(height),
        (left + box_width + margin).min(width),
        (top + box_height + margin).min(height),
    ]
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
    use obscura_detection::ErrorClass;

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

    #[test]
    fn a_dni_whose_letter_ocr_read_as_a_digit_is_still_found() {
        let found = misread_dni("DNI 123456787, teléfono 612345678 y DNI 123456780; ref 123456787");
        let spans: Vec<(usize, usize)> = found.iter().map(|found| (found.byte_start, found.byte_end)).collect();
        // The first is 12345678Z read with a 7; the second has a 0 where a Z belongs; the last
        // has no label before it.
        assert_eq!(spans, [(4, 13)]);
        assert!(misread_dni("NIF: 12345678 2").is_empty());
        assert_eq!(misread_dni("D.N.I. nº 123456787").len(), 0, "D.N.I. is three words");
        assert_eq!(misread_dni("DNI nº 123456787").len(), 1);
    }

    #[test]
    fn burnt_lines_are_read_again_from_the_pixels_and_the_others_kept() {
        let scan = include_bytes!("../tests/fixtures/documents/scan.png");
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
    fn boxes_of_a_turned_image_map_back_to_the_same_pixels() {
        // A 7 by 5 image with one marked 2 by 1 box.
        let mut source = RgbImage::from_pixel(7, 5, Rgb([u8::MAX; 3]));
        for x in 4..6 {
            source.put_pixel(x, 1, Rgb([0, 0, 0]));
        }
        for turns in 0..4 {
            let image = turned(&source, turns);
            let dark: Vec<(u32, u32)> = image
                .enumerate_pixels()
                .filter(|(_, _, pixel)| pixel.0[0] == 0)
                .map(|(x, y, _)| (x, y))
                .collect();
            let (left, top) = (
                dark.iter().map(|p| p.0).min().unwrap(),
                dark.iter().map(|p| p.1).min().unwrap(),
            );
            let (right, bottom) = (
                dark.iter().map(|p| p.0).max().unwrap(),
                dark.iter().map(|p| p.1).max().unwrap(),
            );
            let read = Ocr {
                turns,
                source_size: source.dimensions(),
                ..Ocr::default()
            };
            assert_eq!(
                read.to_source([left, top, right + 1 - left, bottom + 1 - top]),
                [4, 1, 2, 1],
                "{turns} turns"
            );
        }
    }

    #[test]
    fn a_page_read_sideways_is_read_again_turned() {
        let scan = include_bytes!("../tests/fixtures/documents/scan.png");
        let image = decode(scan, Format::Png, &Limits::default()).unwrap();
        let upright = ocr(&image, "es").unwrap();
        assert_eq!(upright.turns, 0);
        assert!(
            upright.confident_share() > MISREAD_SHARE,
            "{}",
            upright.confident_share()
        );
        let sideways = ocr(&turned(&image, 1), "es").unwrap();
        assert_eq!(sideways.turns, 3, "{}", sideways.text);
        assert_eq!(sideways.text, upright.text);
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

    #[test]
    fn a_gray_scan_is_written_gray_and_a_tiff_deflated() {
        let mut page = RgbImage::from_pixel(400, 300, Rgb([255, 255, 255]));
        for x in 50..150 {
            for y in 50..80 {
                page.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
        let tiff = encode(&page, Format::Tiff).unwrap();
        assert!(tiff.len() < 10_000, "{} bytes; raw RGB would be 360,000", tiff.len());
        assert_eq!(decode(&tiff, Format::Tiff, &Limits::default()).unwrap(), page);
        let png = encode(&page, Format::Png).unwrap();
        let kind = image::load_from_memory(&png).unwrap().color();
        assert_eq!(kind, image::ColorType::L8);
        // A colour image stays in colour.
        page.put_pixel(0, 0, Rgb([200, 10, 10]));
        let png = encode(&page, Format::Png).unwrap();
        assert_eq!(image::load_from_memory(&png).unwrap().color(), image::ColorType::Rgb8);
        assert_eq!(
            decode(&encode(&page, Format::Tiff).unwrap(), Format::Tiff, &Limits::default()).unwrap(),
            page
        );
    }

    #[test]
    fn oversized_images_are_refused_before_decoding() {
        let image = RgbImage::from_pixel(200, 100, Rgb([255, 255, 255]));
        let png = encode(&image, Format::Png).unwrap();
        let small = Limits {
            max_image_pixels: 10_000,
            ..Limits::default()
        };
        assert_eq!(
            decode(&png, Format::Png, &small).err().map(|error| error.code()),
            Some("too_many_pixels")
        );
        assert_eq!(
            decode(&png, Format::Png, &Limits::default()).unwrap().dimensions(),
            (200, 100)
        );
        assert_eq!(
            decode(&png[..40], Format::Png, &Limits::default())
                .err()
                .map(|error| error.code()),
            Some("corrupt")
        );
    }
}
