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

mod fonts;
mod forms;
mod inline;
mod interpreter;
mod redact;
mod scan;
mod writer;

use fonts::*;
use forms::*;
use inline::*;
use interpreter::*;
use redact::*;
pub use writer::write_text;
use writer::*;

pub use scan::Raster;

/// An image smaller than this, in pixels or in points drawn, holds no text worth reading
/// (a rule, a bullet, a small logo).
const MIN_SCAN_PIXELS: (i64, i64) = (64, 16);
const MIN_SCAN_POINTS: (f32, f32) = (36.0, 9.0);

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

/// Bytes as a PDF string object, for tests.
#[cfg(test)]
fn literal(text: &str) -> Object {
    Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
}

#[cfg(test)]
mod tests;
