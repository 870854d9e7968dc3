//! PDF with a text layer: text with page numbers and positions, and true redaction.
//!
//! Text is read from each page's content stream with its graphics and text state: the
//! `Tj`, `TJ`, `'` and `"` operators, text and transformation matrices, character and word
//! spacing, horizontal scaling and rise. Codes are decoded with the font's encoding or its
//! `ToUnicode` map; Type0 (CID) fonts take two-byte codes (Identity-H). A new text line
//! starts on a line move, and positioned strings far apart on one line are split by a
//! space, so "John Smith" and "Phone:" drawn separately stay two words.
//!
//! Redaction removes each detected span's codes from the content stream: the show operator
//! becomes a `TJ` whose removed codes are replaced by a displacement of their width, so the
//! rest of the line keeps its place. A filled box is drawn where the span stood, with the
//! replacement written on it in a standard font (Helvetica), whose glyphs every reader has:
//! a subset font's missing glyphs never leave a hole. The Info dictionary, XMP metadata,
//! annotations, forms, attachments and scripts are removed.
//!
//! Images the pages draw (scans, and pictures of text beside a text layer) are decoded to
//! pixels for OCR and written back with the detected words burnt in (see `pdf/scan.rs`).
//!
//! A page that draws text or images from form XObjects gets the forms drawn inline in its own
//! content (their resources renamed into the page's), so that what they show is read and
//! redacted like the page's own; forms nested more than eight deep are refused.
//!
//! Inline images in a page's content (`BI` … `ID` … `EI`, as ghostscript writes small
//! scans) become image XObjects drawn where they were, and are read like any image; so do
//! those of the forms drawn inline. A compressed inline image inside a form is refused (lopdf
//! keeps no data for it when it parses the form).

use std::collections::BTreeMap;
use std::ops::Range;

#[cfg(test)]
use lopdf::StringFormat;
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId, dictionary};

use super::{DocumentError, Limits};

mod scan;

pub use scan::Raster;

/// An image smaller than this, in pixels or in points drawn, holds no text worth reading
/// (a rule, a bullet, a small logo).
const MIN_SCAN_PIXELS: (i64, i64) = (64, 16);
const MIN_SCAN_POINTS: (f32, f32) = (36.0, 9.0);

/// Glyph width when a font gives none, in thousandths of the font size.
const DEFAULT_WIDTH: f32 = 500.0;
/// A horizontal gap wider than this share of the font size between two strings on one
/// line is a word break.
const WORD_GAP: f32 = 0.2;

/// A 2D affine matrix `[a b c d e f]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` then `other`: the PDF product `self × other`.
    fn then(self, other: Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn translate(x: f32, y: f32) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, x, y])
    }

    fn apply(self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    fn from_operands(operands: &[Object]) -> Option<Matrix> {
        let numbers: Vec<f32> = operands.iter().filter_map(number).collect();
        <[f32; 6]>::try_from(numbers.as_slice()).ok().map(Matrix)
    }
}

fn number(object: &Object) -> Option<f32> {
    if let Object::Integer(value) = object {
        Some(*value as f32)
    } else if let Object::Real(value) = object {
        Some(*value)
    } else {
        None
    }
}

/// The standard fonts' widths for codes 32 to 255 (see `fonts/make_standard_widths.py`).
static STANDARD_WIDTHS: std::sync::LazyLock<BTreeMap<&'static str, Vec<f32>>> = std::sync::LazyLock::new(|| {
    include_str!("../fonts/standard-widths.tsv")
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next()?;
            Some((name, fields.filter_map(|width| width.parse().ok()).collect()))
        })
        .collect()
});

/// The widths of a standard font a PDF names without giving widths (`Helvetica`,
/// `ABCDEF+Arial,Bold`), by its nearest standard font.
fn standard_widths(base_font: &[u8]) -> Option<&'static Vec<f32>> {
    let name = String::from_utf8_lossy(base_font);
    let name = name
        .split_once('+')
        .map_or(name.as_ref(), |(_, rest)| rest)
        .to_ascii_lowercase();
    let bold = name.contains("bold");
    let slanted = name.contains("italic") || name.contains("oblique");
    let family = if name.contains("courier") || name.contains("mono") {
        "Courier"
    } else if name.contains("times") || name.contains("serif") && !name.contains("sans") {
        "Times"
    } else if name.contains("helvetica") || name.contains("arial") || name.contains("sans") {
        "Helvetica"
    } else {
        return None;
    };
    let style = match (family, bold, slanted) {
        ("Times", false, false) => "-Roman",
        ("Times", true, false) | (_, true, false) => "-Bold",
        ("Times", false, true) => "-Italic",
        ("Times", true, true) => "-BoldItalic",
        (_, false, true) => "-Oblique",
        (_, true, true) => "-BoldOblique",
        (_, false, false) => "",
    };
    STANDARD_WIDTHS.get(format!("{family}{style}").as_str())
}

/// How a font turns codes into text and widths.
struct FontInfo<'a> {
    encoding: Option<Encoding<'a>>,
    /// Bytes per code: 2 for Type0 fonts, 1 otherwise.
    code_length: usize,
    widths: BTreeMap<u32, f32>,
    default_width: f32,
}

impl FontInfo<'_> {
    fn width(&self, code: u32) -> f32 {
        self.widths.get(&code).copied().unwrap_or(self.default_width)
    }

    fn text(&self, code_bytes: &[u8]) -> String {
        match &self.encoding {
            Some(encoding) => encoding.bytes_to_string(code_bytes).unwrap_or_default(),
            None => code_bytes
                .iter()
                .map(|&byte| {
                    if byte.is_ascii_graphic() || byte == b' ' {
                        byte as char
                    } else {
                        '\u{FFFD}'
                    }
                })
                .collect(),
        }
    }
}

fn font_info<'a>(document: &'a Document, font: &'a Dictionary) -> FontInfo<'a> {
    let type0 = font
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|name| name == b"Type0");
    let encoding = font.get_font_encoding(document).ok();
    let mut widths = BTreeMap::new();
    let mut default_width = DEFAULT_WIDTH;
    let resolve = |object: &'a Object| document.dereference(object).map(|(_, object)| object).ok();
    if type0 {
        let descendant = font
            .get(b"DescendantFonts")
            .ok()
            .and_then(resolve)
            .and_then(|object| object.as_array().ok())
            .and_then(|array| array.first())
            .and_then(resolve)
            .and_then(|object| object.as_dict().ok());
        if let Some(descendant) = descendant {
            if let Some(width) = descendant.get(b"DW").ok().and_then(number) {
                default_width = width;
            } else {
                default_width = 1000.0;
            }
            // W: [first [w1 w2 ...]] or [first last w].
            if let Some(array) = descendant
                .get(b"W")
                .ok()
                .and_then(resolve)
                .and_then(|object| object.as_array().ok())
            {
                let mut index = 0;
                while index + 1 < array.len() {
                    let Some(first) = number(&array[index]) else { break };
                    match resolve(&array[index + 1]) {
                        Some(Object::Array(list)) => {
                            for (offset, width) in list.iter().filter_map(number).enumerate() {
                                widths.insert(first as u32 + offset as u32, width);
                            }
                            index += 2;
                        }
                        Some(last) => {
                            let (Some(last), Some(width)) = (number(last), array.get(index + 2).and_then(number))
                            else {
                                break;
                            };
                            for code in first as u32..=last as u32 {
                                widths.insert(code, width);
                            }
                            index += 3;
                        }
                        None => break,
                    }
                }
            }
        } else {
            default_width = 1000.0;
        }
    } else if let (Some(first), Some(array)) = (
        font.get(b"FirstChar").ok().and_then(number),
        font.get(b"Widths")
            .ok()
            .and_then(resolve)
            .and_then(|object| object.as_array().ok()),
    ) {
        for (offset, width) in array
            .iter()
            .filter_map(|object| resolve(object).and_then(number))
            .enumerate()
        {
            widths.insert(first as u32 + offset as u32, width);
        }
    } else if let Some(standard) = font
        .get(b"BaseFont")
        .and_then(Object::as_name)
        .ok()
        .and_then(standard_widths)
    {
        for (offset, &width) in standard.iter().enumerate() {
            widths.insert(32 + offset as u32, width);
        }
    }
    FontInfo {
        encoding,
        code_length: if type0 { 2 } else { 1 },
        widths,
        default_width,
    }
}

/// One glyph as shown: where its code sits in the content stream, its text in the page's
/// text, and its box on the page.
#[derive(Debug, Clone)]
struct Glyph {
    /// The show operation, the string within a `TJ` array (0 otherwise), and the code's
    /// bytes within that string.
    operation: usize,
    string: usize,
    bytes: Range<usize>,
    /// Code points of the page text.
    chars: Range<usize>,
    /// Its advance, in thousandths of the font size (for displacements in `TJ`).
    advance: f32,
    /// Its box in default user space: x0, y0, x1, y1.
    bounds: [f32; 4],
}

/// A page's text and glyphs.
#[derive(Debug)]
pub struct PageText {
    pub number: u32,
    pub text: String,
    id: ObjectId,
    operations: Vec<Operation>,
    glyphs: Vec<Glyph>,
    /// The image XObjects the page draws, in drawing order.
    images: Vec<PlacedImage>,
}

/// An image XObject drawn on a page.
#[derive(Debug, Clone, Copy)]
struct PlacedImage {
    id: ObjectId,
    /// The current transformation at its `Do`: the image's unit square in page space.
    placement: Matrix,
}

/// The text and graphics state while reading a content stream.
#[derive(Clone)]
struct State {
    ctm: Matrix,
    font: Option<Vec<u8>>,
    size: f32,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    leading: f32,
    rise: f32,
}

impl Default for State {
    fn default() -> State {
        State {
            ctm: Matrix::IDENTITY,
            font: None,
            size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// An image a page draws that is read with OCR: a scanned page, or a picture of text on
/// a page that also has a text layer.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The page that draws it first (an image drawn on several pages is read once).
    pub page: u32,
    /// Its place among the page's scans, from 1.
    pub ordinal: usize,
    id: ObjectId,
    placement: Matrix,
}

impl Scan {
    /// Where its text is, for reports: `page 2, image 1`.
    pub fn location(&self) -> String {
        format!("page {}, image {}", self.page, self.ordinal)
    }

    /// A box in the image's pixels (left, top, width, height) in page space: x0, y0, x1, y1.
    pub fn page_box(&self, image: (u32, u32), bounds: [u32; 4]) -> [f32; 4] {
        let (width, height) = (image.0.max(1) as f32, image.1.max(1) as f32);
        let [left, top, box_width, box_height] = bounds.map(|value| value as f32);
        // Image space runs from the bottom left; pixel rows from the top.
        let corners = [
            (left / width, 1.0 - top / height),
            ((left + box_width) / width, 1.0 - (top + box_height) / height),
        ];
        let [(x0, y0), (x1, y1)] = corners.map(|(x, y)| self.placement.apply(x, y));
        [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
    }
}

/// A PDF opened for reading and redaction.
pub struct Pdf {
    document: Document,
    pub pages: Vec<PageText>,
}

fn pdf_error(error: lopdf::Error) -> DocumentError {
    if matches!(error, lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword) {
        DocumentError::Encrypted
    } else {
        DocumentError::Corrupt(error.to_string())
    }
}

impl Pdf {
    /// Opens a PDF and reads the text of every page.
    pub fn open(bytes: &[u8], limits: &Limits) -> Result<Pdf, DocumentError> {
        // A file cut short still parses once its cross-reference table is rebuilt, minus the
        // objects it lost: the end-of-file marker tells.
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        if !tail.windows(5).any(|window| window == b"%%EOF") {
            return Err(DocumentError::Corrupt(
                "truncated: the PDF has no end-of-file marker".into(),
            ));
        }
        let options = lopdf::LoadOptions {
            max_decompressed_size: Some(limits.max_uncompressed_bytes as usize),
            ..lopdf::LoadOptions::default()
        };
        let document = Document::load_mem_with_options(bytes, options).map_err(pdf_error)?;
        if document.is_encrypted() {
            return Err(DocumentError::Encrypted);
        }
        let page_ids = document.get_pages();
        if page_ids.len() > limits.max_pages {
            return Err(DocumentError::TooManyPages {
                pages: page_ids.len(),
                limit: limits.max_pages,
            });
        }
        if page_ids.is_empty() {
            return Err(DocumentError::Corrupt("a PDF without pages".into()));
        }
        let mut document = document;
        let mut pages = Vec::with_capacity(page_ids.len());
        let mut converted = BTreeMap::new();
        for (&number, &id) in &page_ids {
            inline_images_to_xobjects(&mut document, id, limits, &mut converted)?;
            if forms_draw_content(&document, id, limits) {
                inline_forms(&mut document, id, limits)?;
                // The forms' own inline images, now in the page's content.
                inline_images_to_xobjects(&mut document, id, limits, &mut BTreeMap::new())?;
            }
            pages.push(read_page(&document, number, id, limits)?);
        }
        Ok(Pdf { document, pages })
    }

    /// The images worth reading with OCR, each once.
    pub fn scans(&self) -> Vec<Scan> {
        let mut seen = std::collections::BTreeSet::new();
        let mut scans = Vec::new();
        for page in &self.pages {
            let mut ordinal = 0;
            for image in &page.images {
                let [a, b, c, d, _, _] = image.placement.0;
                let drawn = (a.hypot(b), c.hypot(d));
                let size = self
                    .document
                    .get_object(image.id)
                    .and_then(Object::as_stream)
                    .map(|stream| {
                        let dimension = |key: &[u8]| stream.dict.get(key).and_then(Object::as_i64).unwrap_or(0);
                        (dimension(b"Width"), dimension(b"Height"))
                    })
                    .unwrap_or((0, 0));
                let readable = size.0 >= MIN_SCAN_PIXELS.0
                    && size.1 >= MIN_SCAN_PIXELS.1
                    && drawn.0 >= MIN_SCAN_POINTS.0
                    && drawn.1 >= MIN_SCAN_POINTS.1;
                if !readable || !seen.insert(image.id) {
                    continue;
                }
                ordinal += 1;
                scans.push(Scan {
                    page: page.number,
                    ordinal,
                    id: image.id,
                    placement: image.placement,
                });
            }
        }
        scans
    }

    /// A scan's pixels.
    pub fn scan_pixels(&self, scan: &Scan, limits: &Limits) -> Result<Raster, DocumentError> {
        let stream = self
            .document
            .get_object(scan.id)
            .and_then(Object::as_stream)
            .map_err(pdf_error)?;
        scan::decode(&self.document, stream, limits).map_err(|error| {
            // Which image, for the two errors whose reason is a sentence.
            if let DocumentError::Corrupt(reason) = error {
                DocumentError::Corrupt(format!("{}: {reason}", scan.location()))
            } else if let DocumentError::Unsupported(reason) = error {
                DocumentError::Unsupported(format!("{}: {reason}", scan.location()))
            } else {
                error
            }
        })
    }

    /// Writes a scan's pixels back, wherever the image is drawn.
    pub fn replace_scan(&mut self, scan: &Scan, raster: &Raster) -> Result<(), DocumentError> {
        let stream = self
            .document
            .get_object_mut(scan.id)
            .and_then(Object::as_stream_mut)
            .map_err(pdf_error)?;
        scan::encode(stream, raster)
    }

    /// The boxes of a span of a page's text layer, one per line, in page space.
    pub fn text_boxes(&self, page: usize, span: &Range<usize>) -> Vec<[f32; 4]> {
        span_boxes(&self.pages[page].glyphs, span)
    }

    /// Removes the given code-point ranges of a page's text from its content, and draws a
    /// box with its label over each.
    pub fn redact(&mut self, page: usize, spans: &[(Range<usize>, String)]) -> Result<(), DocumentError> {
        if spans.is_empty() {
            return Ok(());
        }
        let page_text = &self.pages[page];
        let removed: Vec<&Glyph> = page_text
            .glyphs
            .iter()
            .filter(|glyph| {
                spans
                    .iter()
                    .any(|(span, _)| glyph.chars.start < span.end && glyph.chars.end > span.start)
            })
            .collect();
        let operations = rewrite_operations(&page_text.operations, &removed);
        // The overlay: a box per span and line, and the label in the first box.
        let mut overlay = String::from("q\n");
        for (span, label) in spans {
            let boxes = span_boxes(&page_text.glyphs, span);
            for (index, [x0, y0, x1, y1]) in boxes.iter().enumerate() {
                overlay.push_str(&format!("0 g {x0:.2} {y0:.2} {:.2} {:.2} re f\n", x1 - x0, y1 - y0));
                if index == 0 && !label.is_empty() {
                    let height = y1 - y0;
                    let fit = (x1 - x0) / (0.55 * label.chars().count().max(1) as f32);
                    let size = (height * 0.75).min(fit).max(1.0);
                    overlay.push_str(&format!(
                        "BT 1 g /ObscuraLabel {size:.2} Tf {:.2} {:.2} Td {} Tj ET\n",
                        x0 + 0.5,
                        y0 + height * 0.22,
                        pdf_literal(&win_ansi(label))
                    ));
                }
            }
        }
        overlay.push_str("Q\n");
        let mut content = Content { operations }.encode().map_err(pdf_error)?;
        // The page's own drawing is wrapped so that its state cannot hide the overlay.
        let mut wrapped = b"q\n".to_vec();
        wrapped.append(&mut content);
        wrapped.extend_from_slice(b"\nQ\n");
        wrapped.extend_from_slice(overlay.as_bytes());
        let page_id = page_text.id;
        let stream = self.document.add_object(lopdf::Stream::new(Dictionary::new(), wrapped));
        let label_font = self.document.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => "Helvetica",
            "Encoding" => "WinAnsiEncoding",
        });
        let resources = own_resources(&mut self.document, page_id)?;
        let mut fonts = match resources.get(b"Font") {
            Ok(Object::Dictionary(fonts)) => fonts.clone(),
            Ok(Object::Reference(id)) => self.document.get_dictionary(*id).cloned().unwrap_or_default(),
            _ => Dictionary::new(),
        };
        fonts.set("ObscuraLabel", label_font);
        let page = self.document.get_dictionary_mut(page_id).map_err(pdf_error)?;
        if let Ok(Object::Dictionary(resources)) = page.get_mut(b"Resources") {
            resources.set("Font", fonts);
        }
        page.set("Contents", stream);
        Ok(())
    }

    /// The document without its metadata, annotations, forms, attachments and scripts.
    pub fn save(mut self) -> Result<Vec<u8>, DocumentError> {
        self.document.trailer.remove(b"Info");
        if let Ok(catalog) = self.document.catalog_mut() {
            for key in [
                &b"Metadata"[..],
                b"AcroForm",
                b"Names",
                b"OpenAction",
                b"AA",
                b"PieceInfo",
                b"Outlines",
            ] {
                catalog.remove(key);
            }
        }
        let page_ids: Vec<ObjectId> = self.pages.iter().map(|page| page.id).collect();
        for id in page_ids {
            if let Ok(page) = self.document.get_dictionary_mut(id) {
                for key in [&b"Annots"[..], b"AA", b"Metadata", b"PieceInfo"] {
                    page.remove(key);
                }
            }
        }
        self.document.prune_objects();
        self.document.compress();
        let mut out = Vec::new();
        self.document
            .save_to(&mut out)
            .map_err(|error| DocumentError::Corrupt(error.to_string()))?;
        Ok(out)
    }
}

/// The page's resources as its own dictionary (copying inherited ones), so that adding a
/// font changes this page only.
fn own_resources(document: &mut Document, page_id: ObjectId) -> Result<Dictionary, DocumentError> {
    let (own, inherited) = document.get_page_resources(page_id).map_err(pdf_error)?;
    let mut resources = own.cloned().unwrap_or_default();
    for id in inherited {
        if let Ok(dictionary) = document.get_dictionary(id) {
            for (key, value) in dictionary.iter() {
                if !resources.has(key) {
                    resources.set(key.clone(), value.clone());
                }
            }
        }
    }
    let page = document.get_dictionary_mut(page_id).map_err(pdf_error)?;
    page.set("Resources", Object::Dictionary(resources.clone()));
    Ok(resources)
}

/// Text in WinAnsi, the standard font's encoding; other characters become `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let mut out = bytes.into_owned();
    if out.len() != text.chars().count() {
        out = text
            .chars()
            .map(|character| {
                let mut buffer = [0_u8; 4];
                let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(character.encode_utf8(&mut buffer));
                if unmappable || encoded.len() != 1 {
                    b'?'
                } else {
                    encoded[0]
                }
            })
            .collect();
    }
    out
}

/// A new PDF holding `text` on A4 pages in Helvetica 10 pt: lines wrapped at word breaks
/// to the margins, a new page per form feed or when a page is full. For exports of other
/// formats to PDF; the input's layout is not kept. Helvetica is a standard font every
/// reader has, in the Windows-1252 character set: text with a character outside it is
/// refused, naming the character, rather than written with a hole.
pub fn write_text(text: &str) -> Result<Vec<u8>, DocumentError> {
    const PAGE: (f32, f32) = (595.0, 842.0);
    const MARGIN: f32 = 56.0;
    const SIZE: f32 = 10.0;
    const LEADING: f32 = 13.0;
    let text = text.replace('\t', "    ").replace("\r\n", "\n");
    if let Some(character) = text.chars().find(|&character| {
        !matches!(character, '\n' | '\u{c}') && win_ansi(&character.to_string()) == b"?" && character != '?'
    }) {
        return Err(DocumentError::Unsupported(format!(
            "the PDF export writes Helvetica, which has no U+{:04X} ({character}); export as txt, docx or json",
            u32::from(character)
        )));
    }
    let widths = standard_widths(b"Helvetica").ok_or_else(|| DocumentError::Corrupt("no Helvetica widths".into()))?;
    let width_of = |word: &str| -> f32 {
        win_ansi(word)
            .iter()
            .map(|&code| {
                widths
                    .get(usize::from(code).wrapping_sub(32))
                    .copied()
                    .unwrap_or(DEFAULT_WIDTH)
            })
            .sum::<f32>()
            * SIZE
            / 1000.0
    };
    let usable = PAGE.0 - 2.0 * MARGIN;
    let lines_per_page = ((PAGE.1 - 2.0 * MARGIN) / LEADING) as usize;
    // Pages of lines, each line already cut to the width.
    let mut pages: Vec<Vec<String>> = Vec::new();
    for page_text in text.split('\u{c}') {
        let mut lines: Vec<String> = Vec::new();
        for paragraph in page_text.trim_matches('\n').split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if width_of(&candidate) <= usable || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_owned();
                }
                // A word wider than the line is cut where it reaches the margin.
                while width_of(&line) > usable && line.chars().count() > 1 {
                    let mut cut = line.chars().count() - 1;
                    while cut > 1 && width_of(&line.chars().take(cut).collect::<String>()) > usable {
                        cut -= 1;
                    }
                    let rest: String = line.chars().skip(cut).collect();
                    lines.push(line.chars().take(cut).collect());
                    line = rest;
                }
            }
            lines.push(line);
        }
        for chunk in lines.chunks(lines_per_page.max(1)) {
            pages.push(chunk.to_vec());
        }
        if lines.is_empty() {
            pages.push(Vec::new());
        }
    }
    let mut document = Document::with_version("1.7");
    let pages_id = document.new_object_id();
    let font = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let mut kids = Vec::with_capacity(pages.len());
    for lines in &pages {
        let mut content = String::from("BT /F1 10 Tf 13 TL\n");
        content.push_str(&format!("{MARGIN} {} Td\n", PAGE.1 - MARGIN - SIZE));
        for line in lines {
            content.push_str(&pdf_literal(&win_ansi(line)));
            content.push_str(" Tj T*\n");
        }
        content.push_str("ET\n");
        let mut stream = lopdf::Stream::new(Dictionary::new(), content.into_bytes());
        stream.compress().map_err(pdf_error)?;
        let content_id = document.add_object(stream);
        kids.push(Object::Reference(document.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), PAGE.0.into(), PAGE.1.into()],
            "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        })));
    }
    let count = kids.len() as i64;
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog);
    let mut out = Vec::new();
    document
        .save_to(&mut out)
        .map_err(|error| DocumentError::Corrupt(error.to_string()))?;
    Ok(out)
}

/// A PDF literal string.
fn pdf_literal(bytes: &[u8]) -> String {
    let mut out = String::from("(");
    for &byte in bytes {
        match byte {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7E => out.push(byte as char),
            other => out.push_str(&format!("\\{other:03o}")),
        }
    }
    out.push(')');
    out
}

/// The boxes covering a span's glyphs, one per line.
fn span_boxes(glyphs: &[Glyph], span: &Range<usize>) -> Vec<[f32; 4]> {
    let mut boxes: Vec<[f32; 4]> = Vec::new();
    for glyph in glyphs
        .iter()
        .filter(|glyph| glyph.chars.start < span.end && glyph.chars.end > span.start)
    {
        let [x0, y0, x1, y1] = glyph.bounds;
        match boxes.last_mut() {
            Some(last) if (last[1] - y0).abs() < (y1 - y0) * 0.5 => {
                last[0] = last[0].min(x0);
                last[1] = last[1].min(y0);
                last[2] = last[2].max(x1);
                last[3] = last[3].max(y1);
            }
            Some(_) | None => boxes.push([x0, y0, x1, y1]),
        }
    }
    boxes
}

/// The content with the removed glyphs' codes cut out of their show operations.
fn rewrite_operations(operations: &[Operation], removed: &[&Glyph]) -> Vec<Operation> {
    let mut by_operation: BTreeMap<usize, Vec<&Glyph>> = BTreeMap::new();
    for glyph in removed {
        by_operation.entry(glyph.operation).or_default().push(glyph);
    }
    let mut out = Vec::with_capacity(operations.len() + by_operation.len() * 3);
    for (index, operation) in operations.iter().enumerate() {
        let Some(glyphs) = by_operation.get(&index) else {
            out.push(operation.clone());
            continue;
        };
        let (strings, prefix): (Vec<Object>, Vec<Operation>) = match operation.operator.as_str() {
            "Tj" => (operation.operands.clone(), Vec::new()),
            "TJ" => (
                operation
                    .operands
                    .first()
                    .and_then(|array| array.as_array().ok())
                    .cloned()
                    .unwrap_or_default(),
                Vec::new(),
            ),
            "'" => (operation.operands.clone(), vec![Operation::new("T*", Vec::new())]),
            "\"" => (
                operation.operands.get(2).cloned().into_iter().collect(),
                vec![
                    Operation::new("Tw", operation.operands.first().cloned().into_iter().collect()),
                    Operation::new("Tc", operation.operands.get(1).cloned().into_iter().collect()),
                    Operation::new("T*", Vec::new()),
                ],
            ),
            _ => {
                out.push(operation.clone());
                continue;
            }
        };
        out.extend(prefix);
        let mut array: Vec<Object> = Vec::new();
        let mut string_index = 0;
        for element in &strings {
            if let Object::String(bytes, format) = element {
                let format = *format;
                let cut: Vec<&&Glyph> = glyphs.iter().filter(|glyph| glyph.string == string_index).collect();
                let mut kept = Vec::new();
                let mut position = 0;
                let mut pending_gap = 0.0_f32;
                let mut ranges: Vec<(Range<usize>, f32)> =
                    cut.iter().map(|glyph| (glyph.bytes.clone(), glyph.advance)).collect();
                ranges.sort_by_key(|(range, _)| range.start);
                for (range, advance) in ranges {
                    if range.start > position {
                        if pending_gap != 0.0 {
                            push_gap(&mut array, pending_gap);
                            pending_gap = 0.0;
                        }
                        kept.extend_from_slice(&bytes[position..range.start]);
                    }
                    if !kept.is_empty() {
                        array.push(Object::String(std::mem::take(&mut kept), format));
                    }
                    pending_gap += advance;
                    position = range.end;
                }
                if pending_gap != 0.0 {
                    push_gap(&mut array, pending_gap);
                }
                if position < bytes.len() {
                    array.push(Object::String(bytes[position..].to_vec(), format));
                }
                string_index += 1;
            } else {
                array.push(element.clone());
            }
        }
        out.push(Operation::new("TJ", vec![Object::Array(array)]));
    }
    out
}

/// A displacement of `advance` thousandths of the font size to the right.
fn push_gap(array: &mut Vec<Object>, advance: f32) {
    if let Some(Object::Real(previous)) = array.last_mut() {
        *previous -= advance;
    } else {
        array.push(Object::Real(-advance));
    }
}

/// Reads one page: its operations, its text and its glyphs.
fn read_page(document: &Document, page_number: u32, id: ObjectId, limits: &Limits) -> Result<PageText, DocumentError> {
    for content_id in document.get_page_contents(id) {
        if document.get_object(content_id).is_err() {
            return Err(DocumentError::Corrupt(format!(
                "page {page_number}: its content is missing"
            )));
        }
    }
    let content = page_content(document, id, limits)?;
    let operations = Content::decode(&content)
        .map_err(|error| DocumentError::Corrupt(format!("page {page_number}: {error}")))?
        .operations;
    let font_dictionaries = document.get_page_fonts(id).unwrap_or_default();
    let fonts: BTreeMap<Vec<u8>, FontInfo<'_>> = font_dictionaries
        .iter()
        .map(|(name, font)| (name.clone(), font_info(document, font)))
        .collect();

    let mut text = String::new();
    let mut chars = 0_usize;
    let mut glyphs = Vec::new();
    let mut stack: Vec<State> = Vec::new();
    let mut state = State::default();
    let mut text_matrix = Matrix::IDENTITY;
    let mut line_matrix = Matrix::IDENTITY;
    // Where the last glyph ended, on which line, for word breaks.
    let mut last_end: Option<(f32, f32)> = None;
    let push_break = |text: &mut String, chars: &mut usize, separator: Option<char>| {
        if let Some(separator) = separator
            && !text.is_empty()
            && !text.ends_with(['\n', ' '])
        {
            text.push(separator);
            *chars += 1;
        }
    };
    let xobjects = page_xobjects(document, id);
    let mut images = Vec::new();
    let mut inline_images = 0;
    for (index, operation) in operations.iter().enumerate() {
        let operands = &operation.operands;
        let first = || operands.first().and_then(number).unwrap_or(0.0);
        match operation.operator.as_str() {
            "q" => stack.push(state.clone()),
            "Q" => state = stack.pop().unwrap_or_default(),
            "cm" => {
                if let Some(matrix) = Matrix::from_operands(operands) {
                    state.ctm = matrix.then(state.ctm);
                }
            }
            "BT" => {
                text_matrix = Matrix::IDENTITY;
                line_matrix = Matrix::IDENTITY;
            }
            "ET" => {}
            "Tf" => {
                state.font = operands
                    .first()
                    .and_then(|name| name.as_name().ok())
                    .map(<[u8]>::to_vec);
                state.size = operands.get(1).and_then(number).unwrap_or(0.0);
            }
            "Tc" => state.char_spacing = first(),
            "Tw" => state.word_spacing = first(),
            "Tz" => state.scale = first() / 100.0,
            "TL" => state.leading = first(),
            "Ts" => state.rise = first(),
            "Td" | "TD" => {
                let x = first();
                let y = operands.get(1).and_then(number).unwrap_or(0.0);
                if operation.operator == "TD" {
                    state.leading = -y;
                }
                line_matrix = Matrix::translate(x, y).then(line_matrix);
                text_matrix = line_matrix;
            }
            "Tm" => {
                if let Some(matrix) = Matrix::from_operands(operands) {
                    line_matrix = matrix;
                    text_matrix = matrix;
                }
            }
            "T*" => {
                line_matrix = Matrix::translate(0.0, -state.leading).then(line_matrix);
                text_matrix = line_matrix;
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if operation.operator == "'" || operation.operator == "\"" {
                    if operation.operator == "\"" {
                        state.word_spacing = first();
                        state.char_spacing = operands.get(1).and_then(number).unwrap_or(0.0);
                    }
                    line_matrix = Matrix::translate(0.0, -state.leading).then(line_matrix);
                    text_matrix = line_matrix;
                }
                let elements: Vec<&Object> = match operation.operator.as_str() {
                    "TJ" => operands
                        .first()
                        .and_then(|array| array.as_array().ok())
                        .map(|array| array.iter().collect())
                        .unwrap_or_default(),
                    "\"" => operands.get(2).into_iter().collect(),
                    _ => operands.first().into_iter().collect(),
                };
                let font = match &state.font {
                    Some(name) => Some(fonts.get(name).ok_or_else(|| {
                        DocumentError::Corrupt(format!(
                            "page {page_number}: the font {} is missing",
                            String::from_utf8_lossy(name)
                        ))
                    })?),
                    None => None,
                };
                let mut string_index = 0;
                for element in elements {
                    if let Object::String(bytes, _) = element {
                        let code_length = font.map_or(1, |font| font.code_length);
                        let placed = text_matrix.then(state.ctm);
                        if let Some(end) = last_end {
                            push_break(&mut text, &mut chars, break_between(placed, state.size, end));
                        }
                        let mut offset = 0;
                        while offset < bytes.len() {
                            let end = (offset + code_length).min(bytes.len());
                            let code_bytes = &bytes[offset..end];
                            let code = code_bytes
                                .iter()
                                .fold(0_u32, |code, &byte| code * 256 + u32::from(byte));
                            let (glyph_text, width) = match font {
                                Some(font) => (font.text(code_bytes), font.width(code)),
                                None => (String::from_utf8_lossy(code_bytes).into_owned(), DEFAULT_WIDTH),
                            };
                            let spacing = state.char_spacing
                                + if code_length == 1 && code == 32 {
                                    state.word_spacing
                                } else {
                                    0.0
                                };
                            let advance_text = (width / 1000.0 * state.size + spacing) * state.scale;
                            let unit = text_matrix.then(state.ctm);
                            let (x0, y0) = unit.apply(0.0, state.rise - 0.25 * state.size);
                            let (x1, y1) = unit.apply(advance_text, state.rise + 0.85 * state.size);
                            let glyph_chars = glyph_text.chars().count();
                            glyphs.push(Glyph {
                                operation: index,
                                string: string_index,
                                bytes: offset..end,
                                chars: chars..chars + glyph_chars,
                                advance: if state.size.abs() > f32::EPSILON && state.scale.abs() > f32::EPSILON {
                                    advance_text / state.size / state.scale * 1000.0
                                } else {
                                    width
                                },
                                bounds: [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)],
                            });
                            text.push_str(&glyph_text);
                            chars += glyph_chars;
                            text_matrix = Matrix::translate(advance_text, 0.0).then(text_matrix);
                            offset = end;
                        }
                        last_end = Some(text_matrix.then(state.ctm).apply(0.0, 0.0));
                        string_index += 1;
                    } else {
                        if let Some(adjustment) = number(element) {
                            let shift = -adjustment / 1000.0 * state.size * state.scale;
                            text_matrix = Matrix::translate(shift, 0.0).then(text_matrix);
                        }
                    }
                }
            }
            "Do" => {
                let image = operands
                    .first()
                    .and_then(|name| name.as_name().ok())
                    .and_then(|name| xobjects.get(name))
                    .filter(|&&(_, kind)| kind == XObjectKind::Image);
                if let Some(&(id, _)) = image {
                    images.push(PlacedImage {
                        id,
                        placement: state.ctm,
                    });
                }
            }
            "BI" => inline_images += 1,
            _ => {}
        }
    }
    if glyphs.is_empty() && images.is_empty() && inline_images > 0 {
        return Err(DocumentError::Unsupported(format!(
            "page {page_number} is an inline image inside a form, which is not read"
        )));
    }
    Ok(PageText {
        number: page_number,
        text,
        id,
        operations,
        glyphs,
        images,
    })
}

/// What an XObject is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XObjectKind {
    Image,
    Form,
    Other,
}

/// The XObjects a page's resources name (its own, then inherited ones), with their kind.
fn page_xobjects(document: &Document, page_id: ObjectId) -> BTreeMap<Vec<u8>, (ObjectId, XObjectKind)> {
    let mut found = BTreeMap::new();
    let Ok((own, inherited)) = document.get_page_resources(page_id) else {
        return found;
    };
    let mut dictionaries: Vec<&Dictionary> = own.into_iter().collect();
    dictionaries.extend(inherited.iter().filter_map(|id| document.get_dictionary(*id).ok()));
    for resources in dictionaries {
        collect_xobjects(document, resources, &mut found);
    }
    found
}

/// What separates a string drawn at `placed` (text space to page space) in a font of
/// `size` from the glyph before it, which ended at `end` on the page: nothing, a space when
/// it starts past a gap on the same line, or a line break when it starts on another line or
/// back to the left. Positions are compared along the string's own baseline, so a line
/// drawn in several pieces (each in its own text object, placed absolutely, as LibreOffice
/// writes table cells and runs) stays one line, and rotated text reads as it is written.
fn break_between(placed: Matrix, size: f32, end: (f32, f32)) -> Option<char> {
    let origin = placed.apply(0.0, 0.0);
    let along = placed.apply(1.0, 0.0);
    let (mut ux, mut uy) = (along.0 - origin.0, along.1 - origin.1);
    let length = ux.hypot(uy);
    if length <= f32::EPSILON {
        return Some('\n');
    }
    (ux, uy) = (ux / length, uy / length);
    let up = placed.apply(0.0, size);
    let em = (up.0 - origin.0).hypot(up.1 - origin.1).max(f32::EPSILON);
    let (dx, dy) = (origin.0 - end.0, origin.1 - end.1);
    let forward = dx * ux + dy * uy;
    let across = dy * ux - dx * uy;
    if across.abs() > em * 0.5 || forward < -em {
        Some('\n')
    } else if forward > em * WORD_GAP {
        Some(' ')
    } else {
        None
    }
}

/// A form XObject's content, decoded within the size limit.
fn form_operations(stream: &lopdf::Stream, limits: &Limits) -> Option<Vec<Operation>> {
    let limit = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    let content = if stream.filters().is_ok() {
        stream.decompressed_content_with_limit(limit).ok()?
    } else {
        stream.content.clone()
    };
    Content::decode(&content).ok().map(|content| content.operations)
}

/// Whether a page draws text or images from a form XObject (at any depth of nesting): such
/// forms are drawn inline, so that what they show is read like the page's own.
fn forms_draw_content(document: &Document, page_id: ObjectId, limits: &Limits) -> bool {
    let mut pending: Vec<ObjectId> = page_xobjects(document, page_id)
        .into_values()
        .filter(|(_, kind)| *kind == XObjectKind::Form)
        .map(|(id, _)| id)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = pending.pop() {
        if !seen.insert(id) || seen.len() > MAX_FORMS {
            continue;
        }
        let Ok(Object::Stream(stream)) = document.get_object(id) else {
            continue;
        };
        let draws = form_operations(stream, limits).is_some_and(|operations| {
            operations
                .iter()
                .any(|operation| matches!(operation.operator.as_str(), "Tj" | "TJ" | "'" | "\"" | "BI"))
        });
        let images = form_xobjects(document, &stream.dict)
            .values()
            .any(|(_, kind)| *kind == XObjectKind::Image);
        if draws || images {
            return true;
        }
        pending.extend(
            form_xobjects(document, &stream.dict)
                .into_values()
                .filter(|(_, kind)| *kind == XObjectKind::Form)
                .map(|(id, _)| id),
        );
    }
    false
}

/// A copy of the dictionary a resource dictionary holds under `category` (`Font`,
/// `XObject`, ...), through a reference if it is one; empty when there is none.
fn resource_category(document: &Document, resources: &Dictionary, category: &[u8]) -> Dictionary {
    match resources.get(category) {
        Ok(Object::Dictionary(dictionary)) => dictionary.clone(),
        Ok(Object::Reference(id)) => document.get_dictionary(*id).cloned().unwrap_or_default(),
        Ok(_) | Err(_) => Dictionary::new(),
    }
}

/// A page's content, decompressed within the limit.
fn page_content(document: &Document, page_id: ObjectId, limits: &Limits) -> Result<Vec<u8>, DocumentError> {
    let limit = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    document
        .get_page_content_with_limit(page_id, limit)
        .map_err(|error| DocumentError::Corrupt(format!("a page's content: {error}")))
}

/// Inline-image conversions by the content streams they were made from: the new content
/// stream, and the names and ids of the image XObjects it draws.
type Converted = BTreeMap<Vec<ObjectId>, (ObjectId, Vec<(Vec<u8>, ObjectId)>)>;

/// Inline images converted on one page at most.
const MAX_INLINE_IMAGES: usize = 4096;

/// Whether a byte ends a token in a content stream.
fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace() || b"()<>[]{}/%".contains(&byte) || byte == 0
}

/// Where the token starting at `start` ends.
fn token_end(content: &[u8], start: usize) -> usize {
    content[start..]
        .iter()
        .position(|&byte| is_delimiter(byte))
        .map_or(content.len(), |offset| start + offset)
}

/// Where a literal string starting at `start` (an opening parenthesis) ends, after its
/// closing parenthesis; nested parentheses and escapes are followed.
fn string_end(content: &[u8], start: usize) -> usize {
    let mut depth = 0_usize;
    let mut index = start;
    while index < content.len() {
        match content[index] {
            b'\\' => index += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    content.len()
}

/// The next token at or after `index` that is an operator or keyword, skipping strings,
/// comments and names: its start and end.
fn next_keyword(content: &[u8], mut index: usize) -> Option<(usize, usize)> {
    while index < content.len() {
        match content[index] {
            byte if byte.is_ascii_whitespace() => index += 1,
            b'%' => {
                index = content[index..]
                    .iter()
                    .position(|&byte| byte == b'\n' || byte == b'\r')
                    .map_or(content.len(), |offset| index + offset);
            }
            b'(' => index = string_end(content, index),
            b'<' if content.get(index + 1) == Some(&b'<') => index += 2,
            b'>' if content.get(index + 1) == Some(&b'>') => index += 2,
            b'<' => {
                index = content[index..]
                    .iter()
                    .position(|&byte| byte == b'>')
                    .map_or(content.len(), |offset| index + offset + 1);
            }
            b'/' => index = token_end(content, index + 1),
            byte if is_delimiter(byte) => index += 1,
            _ => {
                let end = token_end(content, index);
                return Some((index, end));
            }
        }
    }
    None
}

/// Where an inline image's data that starts at `start` ends, and where its `EI` ends. The
/// data's length is known from the dictionary (`L`, or the size of unfiltered samples);
/// otherwise it ends at the first `EI` between white space (or the end).
fn inline_data_end(content: &[u8], start: usize, length: Option<usize>) -> Option<(usize, usize)> {
    let is_end = |index: usize| {
        content.get(index..index + 2) == Some(b"EI") && content.get(index + 2).is_none_or(|&byte| is_delimiter(byte))
    };
    if let Some(length) = length {
        let data_end = start.checked_add(length).filter(|&end| end <= content.len())?;
        let mut index = data_end;
        while content.get(index).is_some_and(u8::is_ascii_whitespace) {
            index += 1;
        }
        if is_end(index) {
            return Some((data_end, index + 2));
        }
    }
    (start..content.len().saturating_sub(1))
        .find(|&index| content[index].is_ascii_whitespace() && is_end(index + 1))
        .map(|index| (index, index + 3))
}

/// An inline image's dictionary with the full names an image XObject uses; a colour space
/// named in the page's resources is taken from there.
fn expand_inline_dictionary(document: &Document, abbreviated: &Dictionary, resources: &Dictionary) -> Dictionary {
    let full_key = |key: &[u8]| -> Vec<u8> {
        match key {
            b"BPC" => b"BitsPerComponent".to_vec(),
            b"CS" => b"ColorSpace".to_vec(),
            b"D" => b"Decode".to_vec(),
            b"DP" => b"DecodeParms".to_vec(),
            b"F" => b"Filter".to_vec(),
            b"H" => b"Height".to_vec(),
            b"IM" => b"ImageMask".to_vec(),
            b"I" => b"Interpolate".to_vec(),
            b"W" => b"Width".to_vec(),
            other => other.to_vec(),
        }
    };
    let full_name = |name: &[u8]| -> Vec<u8> {
        match name {
            b"AHx" => b"ASCIIHexDecode".to_vec(),
            b"A85" => b"ASCII85Decode".to_vec(),
            b"LZW" => b"LZWDecode".to_vec(),
            b"Fl" => b"FlateDecode".to_vec(),
            b"RL" => b"RunLengthDecode".to_vec(),
            b"CCF" => b"CCITTFaxDecode".to_vec(),
            b"DCT" => b"DCTDecode".to_vec(),
            b"G" => b"DeviceGray".to_vec(),
            b"RGB" => b"DeviceRGB".to_vec(),
            b"CMYK" => b"DeviceCMYK".to_vec(),
            b"I" => b"Indexed".to_vec(),
            other => other.to_vec(),
        }
    };
    let expand_item = |item: &Object| -> Object {
        if let Object::Name(name) = item {
            Object::Name(full_name(name))
        } else {
            item.clone()
        }
    };
    let expand = |value: &Object| -> Object {
        if let Object::Array(items) = value {
            Object::Array(items.iter().map(expand_item).collect())
        } else {
            expand_item(value)
        }
    };
    let mut dictionary = Dictionary::new();
    dictionary.set("Type", Object::Name(b"XObject".to_vec()));
    dictionary.set("Subtype", Object::Name(b"Image".to_vec()));
    for (key, value) in abbreviated.iter() {
        let key = full_key(key);
        if key == b"L" || key == b"Length" {
            continue;
        }
        let value = match key.as_slice() {
            b"Filter" => expand(value),
            b"ColorSpace" => {
                let named = value
                    .as_name()
                    .ok()
                    .filter(|name| {
                        !matches!(
                            *name,
                            b"G" | b"RGB" | b"CMYK" | b"DeviceGray" | b"DeviceRGB" | b"DeviceCMYK"
                        )
                    })
                    .and_then(|name| {
                        dictionary_at(document, resources, b"ColorSpace")?
                            .get(name)
                            .ok()
                            .cloned()
                    });
                named.unwrap_or_else(|| expand(value))
            }
            _ => value.clone(),
        };
        dictionary.set(key, value);
    }
    dictionary
}

/// Turns the inline images of a page's content (`BI` … `ID` … `EI`) into image XObjects drawn
/// where they were (an inline image is drawn in the unit square, as an image XObject is), so
/// that they are read with OCR and written back like any image. lopdf does not keep the data
/// of a filtered inline image (a fax, a JPEG) when it parses content, and would write the
/// page without it.
fn inline_images_to_xobjects(
    document: &mut Document,
    page_id: ObjectId,
    limits: &Limits,
    converted: &mut Converted,
) -> Result<(), DocumentError> {
    // Pages that share their content share its conversion too, and its images are read once.
    let contents = document.get_page_contents(page_id);
    if let Some((content_id, images)) = converted.get(&contents).cloned() {
        return draw_converted(document, page_id, content_id, images);
    }
    let content = page_content(document, page_id, limits)?;
    let mut found = Vec::new();
    let mut index = 0;
    while let Some((start, end)) = next_keyword(&content, index) {
        index = end;
        if &content[start..end] != b"BI" {
            continue;
        }
        let corrupt = || DocumentError::Corrupt("a page's content: an inline image without its data".into());
        let mut cursor = end;
        let id_at = loop {
            let (token_start, token_end) = next_keyword(&content, cursor).ok_or_else(corrupt)?;
            if &content[token_start..token_end] == b"ID" {
                break token_start;
            }
            cursor = token_end;
        };
        let parsed = Content::decode(&[b"<<".as_slice(), &content[end..id_at], b">> x".as_slice()].concat()).map_err(
            |error| DocumentError::Corrupt(format!("a page's content: an inline image's dictionary: {error}")),
        )?;
        let Some(Object::Dictionary(abbreviated)) = parsed
            .operations
            .first()
            .and_then(|operation| operation.operands.first())
        else {
            return Err(corrupt());
        };
        // One white-space byte separates `ID` from the data; a CR LF counts as one.
        let separator = if content.get(id_at + 2..id_at + 4) == Some(b"\r\n") {
            2
        } else {
            1
        };
        let data_start = (id_at + 2 + separator).min(content.len());
        let declared = |keys: [&[u8]; 2]| {
            keys.iter()
                .find_map(|key| abbreviated.get(key).ok())
                .and_then(|value| value.as_i64().ok())
                .and_then(|value| usize::try_from(value).ok())
        };
        let filtered = abbreviated.has(b"F") || abbreviated.has(b"Filter");
        let length = declared([b"L", b"Length"]).or_else(|| {
            if filtered {
                return None;
            }
            let mask = abbreviated
                .get(b"IM")
                .or_else(|_| abbreviated.get(b"ImageMask"))
                .and_then(Object::as_bool)
                .unwrap_or(false);
            let bits = if mask {
                1
            } else {
                declared([b"BPC", b"BitsPerComponent"])?
            };
            let components = if mask {
                1
            } else {
                let space = abbreviated
                    .get(b"CS")
                    .or_else(|_| abbreviated.get(b"ColorSpace"))
                    .ok()?;
                match space.as_name() {
                    Ok(b"RGB" | b"DeviceRGB") => 3,
                    Ok(b"CMYK" | b"DeviceCMYK") => 4,
                    Ok(_) | Err(_) => 1,
                }
            };
            let width = declared([b"W", b"Width"])?;
            let height = declared([b"H", b"Height"])?;
            width
                .checked_mul(bits)?
                .checked_mul(components)?
                .div_ceil(8)
                .checked_mul(height)
        });
        let (data_end, after) = inline_data_end(&content, data_start, length).ok_or_else(corrupt)?;
        found.push((start, after, abbreviated.clone(), data_start..data_end));
        if found.len() > MAX_INLINE_IMAGES {
            return Err(DocumentError::Unsupported(format!(
                "a page with more than {MAX_INLINE_IMAGES} inline images"
            )));
        }
        index = after;
    }
    if found.is_empty() {
        return Ok(());
    }
    let resources = own_resources(document, page_id)?;
    let taken = resource_category(document, &resources, b"XObject");
    let mut rewritten = Vec::with_capacity(content.len());
    let mut copied = 0;
    let mut images = Vec::with_capacity(found.len());
    let mut number = 0;
    for (start, after, abbreviated, data) in found {
        let dictionary = expand_inline_dictionary(document, &abbreviated, &resources);
        let mut stream = lopdf::Stream::new(dictionary, content[data].to_vec());
        stream.allows_compression = false;
        let id = document.add_object(stream);
        // A name the page does not use already.
        let name = loop {
            number += 1;
            let name = format!("ObscuraInlineImage{number}");
            if !taken.has(name.as_bytes()) {
                break name;
            }
        };
        rewritten.extend_from_slice(&content[copied..start]);
        rewritten.extend_from_slice(format!("/{name} Do").as_bytes());
        images.push((name.into_bytes(), id));
        copied = after;
    }
    rewritten.extend_from_slice(&content[copied..]);
    let content_id = document.add_object(lopdf::Stream::new(Dictionary::new(), rewritten));
    converted.insert(contents, (content_id, images.clone()));
    draw_converted(document, page_id, content_id, images)
}

/// Gives a page its converted content and the image XObjects it names.
fn draw_converted(
    document: &mut Document,
    page_id: ObjectId,
    content_id: ObjectId,
    images: Vec<(Vec<u8>, ObjectId)>,
) -> Result<(), DocumentError> {
    let mut resources = own_resources(document, page_id)?;
    let mut xobjects = resource_category(document, &resources, b"XObject");
    for (name, id) in images {
        xobjects.set(name, id);
    }
    resources.set("XObject", xobjects);
    let page = document.get_dictionary_mut(page_id).map_err(pdf_error)?;
    page.set("Resources", resources);
    page.set("Contents", content_id);
    Ok(())
}

/// Forms inlined on one page at most, and how deep forms may nest.
const MAX_FORMS: usize = 256;
const MAX_FORM_DEPTH: usize = 8;

/// The dictionary under `key`, through a reference if it is one.
fn dictionary_at<'a>(document: &'a Document, dictionary: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    let object = dictionary.get(key).ok()?;
    document.dereference(object).ok()?.1.as_dict().ok()
}

/// The XObjects a form's own resources name.
fn form_xobjects(document: &Document, form: &Dictionary) -> BTreeMap<Vec<u8>, (ObjectId, XObjectKind)> {
    let mut found = BTreeMap::new();
    let Some(resources) = dictionary_at(document, form, b"Resources") else {
        return found;
    };
    collect_xobjects(document, resources, &mut found);
    found
}

/// Adds the XObjects a resource dictionary names to `found`, unless a name is there already.
fn collect_xobjects(
    document: &Document,
    resources: &Dictionary,
    found: &mut BTreeMap<Vec<u8>, (ObjectId, XObjectKind)>,
) {
    let Some(xobjects) = dictionary_at(document, resources, b"XObject") else {
        return;
    };
    for (name, reference) in xobjects.iter() {
        let Ok(id) = reference.as_reference() else {
            continue;
        };
        let Ok(Object::Stream(stream)) = document.get_object(id) else {
            continue;
        };
        let kind = match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => XObjectKind::Image,
            Ok(b"Form") => XObjectKind::Form,
            Ok(_) | Err(_) => XObjectKind::Other,
        };
        found.entry(name.clone()).or_insert((id, kind));
    }
}

/// The resource categories whose names content streams use.
const RESOURCE_CATEGORIES: [&[u8]; 7] = [
    b"Font",
    b"XObject",
    b"ExtGState",
    b"ColorSpace",
    b"Pattern",
    b"Shading",
    b"Properties",
];

/// Draws the forms a page uses where they are drawn, in the page's own content: `q`, the
/// form's matrix, a clip to its box, its operations, `Q`. The form's resources join the
/// page's under new names, so that the text inside forms is read, and redacted, like the
/// page's own; the page no longer names the forms, so a form no page names is not written.
fn inline_forms(document: &mut Document, page_id: ObjectId, limits: &Limits) -> Result<(), DocumentError> {
    let content = page_content(document, page_id, limits)?;
    let operations = Content::decode(&content)
        .map_err(|error| DocumentError::Corrupt(format!("a page's content: {error}")))?
        .operations;
    let xobjects = page_xobjects(document, page_id);
    let mut added: Vec<(&'static [u8], Vec<u8>, Object)> = Vec::new();
    let mut inlined = 0;
    let operations = expand_forms(
        document,
        operations,
        &xobjects,
        &BTreeMap::new(),
        limits,
        0,
        &mut added,
        &mut inlined,
    )?;
    let mut resources = own_resources(document, page_id)?;
    for category in RESOURCE_CATEGORIES {
        let mut merged = resource_category(document, &resources, category);
        let mut changed = false;
        if category == b"XObject" {
            // The forms now drawn inline are no longer named by the page, so that their
            // unredacted content leaves the file with them (unless another page draws them).
            for (name, (_, kind)) in &xobjects {
                if *kind == XObjectKind::Form && merged.remove(name).is_some() {
                    changed = true;
                }
            }
        }
        for (_, name, value) in added
            .iter()
            .filter(|(added_category, _, _)| *added_category == category)
        {
            merged.set(name.clone(), value.clone());
            changed = true;
        }
        if changed {
            resources.set(category, merged);
        }
    }
    let encoded = Content { operations }.encode().map_err(pdf_error)?;
    let stream = document.add_object(lopdf::Stream::new(Dictionary::new(), encoded));
    let page = document.get_dictionary_mut(page_id).map_err(pdf_error)?;
    page.set("Resources", resources);
    page.set("Contents", stream);
    Ok(())
}

/// `operations` with each `Do` of a form replaced by the form's own operations, whose
/// resource names are renamed (`renames`: the enclosing form's names to the page's).
#[allow(clippy::too_many_arguments)]
fn expand_forms(
    document: &Document,
    operations: Vec<Operation>,
    xobjects: &BTreeMap<Vec<u8>, (ObjectId, XObjectKind)>,
    renames: &BTreeMap<(&'static [u8], Vec<u8>), Vec<u8>>,
    limits: &Limits,
    depth: usize,
    added: &mut Vec<(&'static [u8], Vec<u8>, Object)>,
    inlined: &mut usize,
) -> Result<Vec<Operation>, DocumentError> {
    let mut out = Vec::with_capacity(operations.len());
    for mut operation in operations {
        rename_operands(&mut operation, renames);
        let form = (operation.operator == "Do")
            .then(|| operation.operands.first().and_then(|name| name.as_name().ok()))
            .flatten()
            .and_then(|name| {
                // The name as the enclosing content knew it.
                let original = renames
                    .iter()
                    .find(|((category, _), new)| *category == b"XObject" && new.as_slice() == name)
                    .map_or(name.to_vec(), |((_, old), _)| old.clone());
                xobjects.get(&original).copied()
            })
            .filter(|(_, kind)| *kind == XObjectKind::Form);
        let Some((form_id, _)) = form else {
            out.push(operation);
            continue;
        };
        let Ok(Object::Stream(stream)) = document.get_object(form_id) else {
            out.push(operation);
            continue;
        };
        if depth >= MAX_FORM_DEPTH || *inlined >= MAX_FORMS {
            return Err(DocumentError::Unsupported(format!(
                "a page draws forms nested over {MAX_FORM_DEPTH} deep or more than {MAX_FORMS} of them, whose text is not read"
            )));
        }
        let Some(form_operations) = form_operations(stream, limits) else {
            return Err(DocumentError::Corrupt(
                "a form XObject's content does not decode".into(),
            ));
        };
        if form_operations
            .iter()
            .any(|operation| operation.operator == "BI" && operation.operands.is_empty())
        {
            // lopdf keeps no data for a compressed inline image: drawn inline, the form would
            // be written without it.
            return Err(DocumentError::Unsupported(
                "a form XObject with a compressed inline image, which is not read".into(),
            ));
        }
        *inlined += 1;
        let prefix = format!("ObscuraForm{}_", *inlined);
        let inner_xobjects = form_xobjects(document, &stream.dict);
        // The form's resources, renamed into the page's.
        let mut form_renames = BTreeMap::new();
        if let Some(resources) = dictionary_at(document, &stream.dict, b"Resources") {
            for category in RESOURCE_CATEGORIES {
                let Some(entries) = dictionary_at(document, resources, category) else {
                    continue;
                };
                for (name, value) in entries.iter() {
                    let new_name = [prefix.as_bytes(), name.as_slice()].concat();
                    form_renames.insert((category, name.clone()), new_name.clone());
                    // A nested form is drawn inline too, and is not named by the page.
                    let nested_form = category == b"XObject"
                        && value
                            .as_reference()
                            .ok()
                            .and_then(|id| inner_xobjects.values().find(|(found, _)| *found == id))
                            .is_some_and(|(_, kind)| *kind == XObjectKind::Form);
                    if !nested_form {
                        added.push((category, new_name, value.clone()));
                    }
                }
            }
        }
        out.push(Operation::new("q", vec![]));
        if let Ok(matrix) = stream.dict.get(b"Matrix").and_then(Object::as_array)
            && matrix.len() == 6
        {
            out.push(Operation::new("cm", matrix.clone()));
        }
        if let Ok(bbox) = stream.dict.get(b"BBox").and_then(Object::as_array)
            && let [x0, y0, x1, y1] = bbox.as_slice()
            && let (Some(x0), Some(y0), Some(x1), Some(y1)) = (number(x0), number(y0), number(x1), number(y1))
        {
            out.push(Operation::new(
                "re",
                vec![
                    x0.min(x1).into(),
                    y0.min(y1).into(),
                    (x1 - x0).abs().into(),
                    (y1 - y0).abs().into(),
                ],
            ));
            out.push(Operation::new("W", vec![]));
            out.push(Operation::new("n", vec![]));
        }
        out.extend(expand_forms(
            document,
            form_operations,
            &inner_xobjects,
            &form_renames,
            limits,
            depth + 1,
            added,
            inlined,
        )?);
        out.push(Operation::new("Q", vec![]));
    }
    Ok(out)
}

/// Renames the resource names an operation uses.
fn rename_operands(operation: &mut Operation, renames: &BTreeMap<(&'static [u8], Vec<u8>), Vec<u8>>) {
    if renames.is_empty() {
        return;
    }
    let (category, index): (&[u8], usize) = match operation.operator.as_str() {
        "Tf" => (b"Font", 0),
        "Do" => (b"XObject", 0),
        "gs" => (b"ExtGState", 0),
        "cs" | "CS" => (b"ColorSpace", 0),
        "sh" => (b"Shading", 0),
        "scn" | "SCN" => (b"Pattern", operation.operands.len().saturating_sub(1)),
        "BDC" | "DP" => (b"Properties", 1),
        _ => return,
    };
    if let Some(Object::Name(name)) = operation.operands.get_mut(index) {
        let key = (category, name.clone());
        let renamed = renames
            .iter()
            .find(|((renamed_category, old), _)| *renamed_category == key.0 && *old == key.1)
            .map(|(_, new)| new.clone());
        if let Some(new) = renamed {
            *name = new;
        }
    }
}

/// Bytes as a PDF string object, for tests.
#[cfg(test)]
fn literal(text: &str) -> Object {
    Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_detection::ErrorClass;

    /// A one-page PDF in Helvetica (with widths) whose content is `operations`.
    fn pdf_with(operations: Vec<Operation>) -> Vec<u8> {
        let mut document = Document::with_version("1.5");
        let pages_id = document.new_object_id();
        let widths: Vec<Object> = (32..=255).map(|_| Object::Integer(600)).collect();
        let font_id = document.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => "Courier",
            "Encoding" => "WinAnsiEncoding",
            "FirstChar" => 32,
            "LastChar" => 255,
            "Widths" => widths,
        });
        let content = Content { operations };
        let content_id = document.add_object(lopdf::Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = document.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        document.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
        );
        let catalog_id = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        document.trailer.set("Root", catalog_id);
        let info_id = document.add_object(dictionary! { "Author" => literal("Ana Ruiz") });
        document.trailer.set("Info", info_id);
        let mut out = Vec::new();
        document.save_to(&mut out).unwrap();
        out
    }

    fn op(operator: &str, operands: Vec<Object>) -> Operation {
        Operation::new(operator, operands)
    }

    fn sample() -> Vec<u8> {
        pdf_with(vec![
            op("BT", vec![]),
            op("Tf", vec!["F1".into(), 10.into()]),
            op("TL", vec![12.into()]),
            op("Td", vec![72.into(), 700.into()]),
            op("Tj", vec![literal("Paciente: ")]),
            op(
                "TJ",
                vec![Object::Array(vec![
                    literal("Ana "),
                    Object::Integer(-50),
                    literal("Ruiz"),
                ])],
            ),
            // Positioned apart on the same line: two words, not one.
            op("Td", vec![150.into(), 0.into()]),
            op("Tj", vec![literal("Phone:")]),
            op("'", vec![literal("DNI 12345678Z")]),
            op("\"", vec![1.into(), 0.into(), literal("Fin")]),
            op("ET", vec![]),
        ])
    }

    #[test]
    fn text_is_read_with_every_show_operator_and_line_breaks() {
        let pdf = Pdf::open(&sample(), &Limits::default()).unwrap();
        assert_eq!(pdf.pages.len(), 1);
        assert_eq!(pdf.pages[0].text, "Paciente: Ana Ruiz Phone:\nDNI 12345678Z\nFin");
    }

    #[test]
    fn pieces_of_one_line_placed_absolutely_stay_one_line() {
        // As LibreOffice writes a name in two runs: a text object per piece, each placed
        // from the page's origin; then a rotated line, drawn upwards.
        let piece = |x: i64, y: i64, text: &str| {
            vec![
                op("BT", vec![]),
                op("Tf", vec!["F1".into(), 10.into()]),
                op("Td", vec![x.into(), y.into()]),
                op("Tj", vec![literal(text)]),
                op("ET", vec![]),
            ]
        };
        let mut operations = [
            piece(72, 700, "D. "),
            piece(90, 700, "Alejandro"),
            piece(150, 700, "Soto"),
            piece(72, 688, "Phone:"),
        ]
        .concat();
        operations.extend([
            op("BT", vec![]),
            op("Tf", vec!["F1".into(), 10.into()]),
            op(
                "Tm",
                vec![0.into(), 1.into(), (-1).into(), 0.into(), 300.into(), 100.into()],
            ),
            op("Tj", vec![literal("Ana")]),
            op("Td", vec![30.into(), 0.into()]),
            op("Tj", vec![literal("Ruiz")]),
            op("ET", vec![]),
        ]);
        let pdf = Pdf::open(&pdf_with(operations), &Limits::default()).unwrap();
        assert_eq!(pdf.pages[0].text, "D. Alejandro Soto\nPhone:\nAna Ruiz");
    }

    #[test]
    fn inline_image_edge_cases_are_read_where_they_are() {
        // CR LF after ID, and a marked-content dictionary holding "BI" in a string first.
        let mut content =
            b"/Span << /ActualText (a > BI) >> BDC EMC q 400 0 0 200 0 0 cm BI /W 200 /H 100 /CS /G /BPC 8 ID\r\n"
                .to_vec();
        let mut samples = vec![255_u8; 200 * 100];
        samples[0] = 7;
        content.extend(&samples);
        content.extend(b"\nEI Q");
        let pdf = Pdf::open(&with_images(&content), &Limits::default()).unwrap();
        let scans = pdf.scans();
        assert_eq!(scans.len(), 1, "{scans:?}");
        let raster = pdf.scan_pixels(&scans[0], &Limits::default()).unwrap();
        assert_eq!(raster.pixels.get_pixel(0, 0).0, [7; 3], "the data starts after CR LF");

        // The page already names an image as the conversion would: both stay drawn.
        let mut document = Document::load_mem(&with_images(&content)).unwrap();
        let page_id = *document.get_pages().values().next().unwrap();
        let page = document.get_dictionary_mut(page_id).unwrap();
        let mut resources = page.get(b"Resources").unwrap().as_dict().unwrap().clone();
        let mut xobjects = resources.get(b"XObject").unwrap().as_dict().unwrap().clone();
        let big = xobjects.remove(b"Big").unwrap();
        xobjects.set("ObscuraInlineImage1", big);
        resources.set("XObject", xobjects);
        page.set("Resources", resources);
        let drawn = [content.as_slice(), b" q 400 0 0 200 0 300 cm /ObscuraInlineImage1 Do Q"].concat();
        let content_id = document.add_object(lopdf::Stream::new(dictionary! {}, drawn));
        document
            .get_dictionary_mut(page_id)
            .unwrap()
            .set("Contents", content_id);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        let pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
        assert_eq!(pdf.scans().len(), 2, "{:?}", pdf.scans());

        // Content that decompresses past the limit is refused.
        let small = Limits {
            max_uncompressed_bytes: 1_000,
            ..Limits::default()
        };
        assert_eq!(
            Pdf::open(&with_images(&content), &small)
                .err()
                .map(|error| error.code()),
            Some("corrupt")
        );
    }

    #[test]
    fn images_inside_forms_and_pages_sharing_content_are_read_once_each() {
        let mut document = Document::load_mem(&sample()).unwrap();
        let pages: Vec<ObjectId> = document.get_pages().values().copied().collect();
        let image = document.add_object(lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 200, "Height" => 100,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            vec![255; 200 * 100],
        ));
        // A form with no text that draws a scan.
        let form = document.add_object(lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 500.into(), 500.into()],
                "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => image } },
            },
            b"q 400 0 0 200 0 0 cm /Scan Do Q".to_vec(),
        ));
        let pdf = Pdf::open(&drawing_form(document, pages[0], form), &Limits::default()).unwrap();
        assert_eq!(pdf.scans().len(), 1, "the scan inside the form is read");

        // Three pages drawing one content stream with an inline image: one image, read once.
        let mut document = Document::load_mem(&sample()).unwrap();
        let page_id = *document.get_pages().values().next().unwrap();
        let mut inline = b"q 400 0 0 200 0 0 cm BI /W 200 /H 100 /CS /G /BPC 8 ID ".to_vec();
        inline.extend(vec![255_u8; 200 * 100]);
        inline.extend(b"\nEI Q");
        let shared = document.add_object(lopdf::Stream::new(dictionary! {}, inline));
        let page = document.get_dictionary(page_id).unwrap().clone();
        let pages_id = page.get(b"Parent").unwrap().as_reference().unwrap();
        let mut kids = Vec::new();
        for _ in 0..3 {
            let mut copy = page.clone();
            copy.set("Contents", shared);
            copy.set("Resources", Dictionary::new());
            kids.push(Object::Reference(document.add_object(copy)));
        }
        let parent = document.get_dictionary_mut(pages_id).unwrap();
        parent.set("Kids", kids);
        parent.set("Count", 3);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        let pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
        assert_eq!(pdf.pages.len(), 3);
        assert_eq!(pdf.scans().len(), 1, "{:?}", pdf.scans());
    }

    /// The document saved with its page `page_id` drawing `form` as `/Fm1` after its own content.
    fn drawing_form(mut document: Document, page_id: ObjectId, form: ObjectId) -> Vec<u8> {
        let mut content = document.get_page_content(page_id);
        content.extend_from_slice(b"\n/Fm1 Do\n");
        let content_id = document.add_object(lopdf::Stream::new(dictionary! {}, content));
        let page = document.get_dictionary_mut(page_id).unwrap();
        page.set("Contents", content_id);
        let mut resources = page.get(b"Resources").unwrap().as_dict().unwrap().clone();
        resources.set("XObject", dictionary! { "Fm1" => form });
        page.set("Resources", resources);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_form_with_text_and_a_compressed_inline_image_is_refused_not_written_without_it() {
        let mut document = Document::load_mem(&sample()).unwrap();
        let page_id = *document.get_pages().values().next().unwrap();
        let font =
            document.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
        let form = document.add_object(lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 500.into(), 50.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            },
            b"BT /F1 10 Tf (Firma: Luis Gomez) Tj ET BI /W 2 /H 2 /CS /G /BPC 8 /F /AHx ID 00ff00ff> EI".to_vec(),
        ));
        let bytes = drawing_form(document, page_id, form);
        let error = Pdf::open(&bytes, &Limits::default()).err().unwrap();
        assert_eq!(error.code(), "unsupported");
        assert!(error.to_string().contains("inline image"), "{error}");
    }

    #[test]
    fn text_in_forms_is_read_and_redacted_where_the_forms_are_drawn() {
        let mut document = Document::load_mem(&sample()).unwrap();
        let page_id = *document.get_pages().values().next().unwrap();
        // The forms name their font F1 too, but theirs is Helvetica: names are renamed.
        let helvetica = document.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let inner = document.add_object(lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 500.into(), 50.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica } },
            },
            b"BT /F1 10 Tf 0 0 Td (Firma: Luis Gomez Vidal) Tj ET".to_vec(),
        ));
        let outer = document.add_object(lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 500.into(), 100.into()],
                "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 72.into(), 100.into()],
                "Resources" => dictionary! {
                    "Font" => dictionary! { "F1" => helvetica },
                    "XObject" => dictionary! { "Inner" => inner },
                },
            },
            b"BT /F1 10 Tf 0 40 Td (Paciente: Ana Ruiz Soto) Tj ET q 1 0 0 1 0 10 cm /Inner Do Q".to_vec(),
        ));
        let bytes = drawing_form(document, page_id, outer);

        let mut pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
        let text = pdf.pages[0].text.clone();
        assert!(
            text.starts_with("Paciente: Ana Ruiz"),
            "the page's own text first: {text}"
        );
        assert!(
            text.contains("Paciente: Ana Ruiz Soto") && text.contains("Firma: Luis Gomez Vidal"),
            "{text}"
        );
        let char_span = |value: &str| {
            let start = text[..text.rfind(value).unwrap()].chars().count();
            start..start + value.chars().count()
        };
        pdf.redact(
            0,
            &[
                (char_span("Ana Ruiz Soto"), "PERSONA-001".into()),
                (char_span("Luis Gomez Vidal"), "PERSONA-002".into()),
            ],
        )
        .unwrap();
        let saved = pdf.save().unwrap();
        let reread = Pdf::open(&saved, &Limits::default()).unwrap();
        let text = &reread.pages[0].text;
        assert!(!text.contains("Soto") && !text.contains("Gomez"), "{text}");
        // Nor is the forms' own content left in the file, drawn or not.
        for object in reread.document.objects.values() {
            if let Object::Stream(stream) = object {
                let content = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
                let content = String::from_utf8_lossy(&content);
                assert!(!content.contains("Gomez") && !content.contains("Soto"), "{content}");
            }
        }
        assert!(text.contains("Firma:") && text.contains("PERSONA-002"), "{text}");
        // The form's text was measured with its own font (Helvetica), not the page's F1.
        let firma = reread.pages[0]
            .glyphs
            .iter()
            .find(|glyph| glyph.chars.start == text.find("Firma").unwrap())
            .unwrap();
        assert!(
            (firma.bounds[0] - 72.0).abs() < 0.01 && (firma.bounds[2] - firma.bounds[0] - 6.11).abs() < 0.05,
            "{firma:?}"
        );
    }

    #[test]
    fn redaction_removes_the_codes_and_keeps_the_rest_in_place() {
        let mut pdf = Pdf::open(&sample(), &Limits::default()).unwrap();
        let text = pdf.pages[0].text.clone();
        let start = text.find("Ana").unwrap();
        let dni = text.find("12345678Z").unwrap();
        let before: Vec<[f32; 4]> = pdf.pages[0]
            .glyphs
            .iter()
            .filter(|glyph| glyph.chars.start >= text.find("Phone").unwrap())
            .map(|glyph| glyph.bounds)
            .collect();
        pdf.redact(
            0,
            &[
                (start..start + "Ana Ruiz".len(), "PERSONA-001".into()),
                (dni..dni + 9, "DNI-001".into()),
            ],
        )
        .unwrap();
        let bytes = pdf.save().unwrap();
        let reread = Pdf::open(&bytes, &Limits::default()).unwrap();
        let text = &reread.pages[0].text;
        assert!(
            !text.contains("Ana") && !text.contains("Ruiz") && !text.contains("12345678Z"),
            "{text}"
        );
        assert!(
            text.contains("Paciente:") && text.contains("Phone:") && text.contains("Fin"),
            "{text}"
        );
        assert!(text.contains("PERSONA-001") && text.contains("DNI-001"), "{text}");
        // The words after the removed name did not move.
        let after: Vec<[f32; 4]> = reread.pages[0]
            .glyphs
            .iter()
            .filter(|glyph| {
                let start = text.find("Phone").unwrap();
                glyph.chars.start >= start && glyph.chars.start < start + 6
            })
            .map(|glyph| glyph.bounds)
            .collect();
        for (old, new) in before.iter().zip(&after) {
            assert!(
                (old[0] - new[0]).abs() < 0.01 && (old[1] - new[1]).abs() < 0.01,
                "{old:?} {new:?}"
            );
        }
        // No metadata left.
        let document = Document::load_mem(&bytes).unwrap();
        assert!(document.trailer.get(b"Info").is_err());
    }

    #[test]
    fn standard_fonts_without_widths_get_their_published_widths() {
        let helvetica = standard_widths(b"Helvetica").unwrap();
        assert_eq!((helvetica[0], helvetica[16]), (278.0, 556.0), "space and zero");
        assert_eq!(standard_widths(b"ABCDEF+Arial,Bold").unwrap()[0], 278.0);
        assert_eq!(standard_widths(b"Courier-Oblique").unwrap()[33], 600.0);
        assert_eq!(standard_widths(b"Times-Roman").unwrap()[0], 250.0);
        assert!(standard_widths(b"Wingdings").is_none());
    }

    #[test]
    fn rotated_pages_read_and_redact_the_same() {
        let mut document = Document::load_mem(&sample()).unwrap();
        let page_id = *document.get_pages().values().next().unwrap();
        document.get_dictionary_mut(page_id).unwrap().set("Rotate", 90);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        let mut pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
        assert_eq!(pdf.pages[0].text, "Paciente: Ana Ruiz Phone:\nDNI 12345678Z\nFin");
        let start = pdf.pages[0].text.find("Ana").unwrap();
        pdf.redact(0, &[(start..start + 8, "PERSONA-001".into())]).unwrap();
        let saved = pdf.save().unwrap();
        let reread = Pdf::open(&saved, &Limits::default()).unwrap();
        assert!(!reread.pages[0].text.contains("Ruiz"), "{}", reread.pages[0].text);
        // The page is still shown rotated.
        let rotation = Document::load_mem(&saved).unwrap();
        let page = rotation
            .get_dictionary(*rotation.get_pages().values().next().unwrap())
            .unwrap();
        assert_eq!(page.get(b"Rotate").unwrap().as_i64().unwrap(), 90);
    }

    /// The sample with its page drawing `content` and naming two gray images: `Big`
    /// (200 by 100 pixels) and `Dot` (1 by 1).
    fn with_images(content: &[u8]) -> Vec<u8> {
        let mut document = Document::load_mem(&sample()).unwrap();
        let page_id = *document.get_pages().values().next().unwrap();
        let mut image = |width: i64, height: i64| {
            document.add_object(lopdf::Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
                    "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
                },
                vec![255; (width * height) as usize],
            ))
        };
        let big = image(200, 100);
        let dot = image(1, 1);
        let content = document.add_object(lopdf::Stream::new(dictionary! {}, content.to_vec()));
        let page = document.get_dictionary_mut(page_id).unwrap();
        page.set("Contents", content);
        page.set(
            "Resources",
            dictionary! { "XObject" => dictionary! { "Big" => big, "Dot" => dot } },
        );
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn images_a_page_draws_are_scans_placed_on_the_page() {
        let pdf = Pdf::open(
            &with_images(
                b"q 400 0 0 200 100 300 cm /Big Do Q q 5 0 0 5 0 0 cm /Dot Do Q q 400 0 0 200 0 0 cm /Big Do Q",
            ),
            &Limits::default(),
        )
        .unwrap();
        let scans = pdf.scans();
        assert_eq!(scans.len(), 1, "the dot is too small, and Big is read once: {scans:?}");
        assert_eq!(scans[0].location(), "page 1, image 1");
        // The image's top-left pixel box maps to the top left of where it is drawn.
        let placed = scans[0].page_box((200, 100), [0, 0, 20, 10]);
        assert_eq!(placed, [100.0, 480.0, 140.0, 500.0]);
        let raster = pdf.scan_pixels(&scans[0], &Limits::default()).unwrap();
        assert_eq!(raster.pixels.dimensions(), (200, 100));
        let small = Limits {
            max_image_pixels: 1_000,
            ..Limits::default()
        };
        assert_eq!(
            pdf.scan_pixels(&scans[0], &small).err().map(|error| error.code()),
            Some("too_many_pixels")
        );
    }

    #[test]
    fn inline_images_become_image_xobjects_drawn_where_they_were() {
        // Unfiltered 200 by 100 gray samples (a byte that reads " EI " among them), then
        // 80 by 20 black samples deflated and hex-armoured, behind abbreviated names.
        let mut samples = vec![255_u8; 200 * 100];
        samples[10..14].copy_from_slice(b" EI ");
        let mut deflated = Vec::new();
        let mut encoder = flate2::write::ZlibEncoder::new(&mut deflated, flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, &[0_u8; 80 * 20]).unwrap();
        encoder.finish().unwrap();
        let hex: String = deflated.iter().map(|byte| format!("{byte:02x}")).collect();
        let mut content = b"q 400 0 0 200 100 300 cm BI /W 200 /H 100 /CS /G /BPC 8 ID ".to_vec();
        content.extend(&samples);
        content.extend(b"\nEI Q q 160 0 0 40 10 10 cm BI /W 80 /H 20 /CS /G /BPC 8 /F [/AHx /Fl] ID ");
        content.extend(hex.as_bytes());
        content.extend(b"> EI Q (BI in a string) Tj");
        let pdf = Pdf::open(&with_images(&content), &Limits::default()).unwrap();
        let scans = pdf.scans();
        assert_eq!(scans.len(), 2, "{scans:?}");
        assert_eq!(
            scans[0].page_box((200, 100), [0, 0, 20, 10]),
            [100.0, 480.0, 140.0, 500.0]
        );
        let first = pdf.scan_pixels(&scans[0], &Limits::default()).unwrap();
        assert_eq!(first.pixels.dimensions(), (200, 100));
        assert_eq!(first.pixels.get_pixel(11, 0).0, [b'E'; 3]);
        let second = pdf.scan_pixels(&scans[1], &Limits::default()).unwrap();
        assert_eq!(second.pixels.dimensions(), (80, 20));
        assert!(second.pixels.pixels().all(|pixel| pixel.0 == [0; 3]));
        // The page now draws them by name, and is written and read again whole.
        let written = pdf.save().unwrap();
        let again = Pdf::open(&written, &Limits::default()).unwrap();
        assert_eq!(again.scans().len(), 2);
        // Data that never ends is a clear error.
        let endless = with_images(b"q BI /W 10 /H 10 /CS /G /BPC 8 /F /Fl ID xxxx");
        assert_eq!(
            Pdf::open(&endless, &Limits::default()).err().map(|error| error.code()),
            Some("corrupt")
        );
    }

    #[test]
    fn bad_pdfs_get_error_states() {
        let truncated = &sample()[..200];
        assert_eq!(
            Pdf::open(truncated, &Limits::default()).err().map(|error| error.code()),
            Some("corrupt")
        );
        let one_page = Limits {
            max_pages: 0,
            ..Limits::default()
        };
        assert_eq!(
            Pdf::open(&sample(), &one_page).err().map(|error| error.code()),
            Some("too_many_pages")
        );
    }
}
