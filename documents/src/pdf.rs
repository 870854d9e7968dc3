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
