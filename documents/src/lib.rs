//! Documents: text out of files, anonymized output in the original format, and a leak check
//! of the output.
//!
//! [`process`] takes a file's bytes and gives the output bytes, the entities found (with
//! where they were), and the leak check: the output is read again and no original value
//! of a detected entity may remain in it (see [`leak`]).
//!
//! Formats read: plain text, Markdown, CSV, JSON and HTML (their encoding detected), DOCX
//! (see [`docx`]), PDF (see [`pdf`]): its text layer, and its images (scanned pages) through
//! OCR, and PNG, JPEG and TIFF images through OCR (see [`image`]).
//!
//! - `encoding`: the text encoding of plain-text files;
//! - `docx`: Word documents, rewritten run by run; new ones written from text for exports;
//! - `pdf`: PDF text with positions, and redaction in the content stream; page images
//!   decoded and written back; new PDFs written from text for exports;
//! - `image`: images read with Tesseract, values burnt into the pixels;
//! - `propagate` (from the anonymization crate): a value detected anywhere in a document is replaced everywhere in it;
//! - `leak`: the leak check;
//! - `format`: what a file is, from its first bytes and its name;
//! - `text_document`, `docx_document`, `pdf_document` and `image_document`: each kind of
//!   document read, anonymized and checked;
//! - `detection`: the values of all of a document's units of text found together;
//! - `findings`: what was replaced, for the report and the leak check;
//! - `export`: the output in the requested format.

pub mod docx;
pub mod encoding;
pub mod image;
pub mod leak;
pub mod pdf;
pub use obscura_anonymization::propagate;

mod detection;
mod docx_document;
mod error;
mod export;
mod findings;
mod format;
mod image_document;
mod limits;
mod pdf_document;
mod text_document;

use obscura_anonymization::given::{Finder, GivenSpans};
use obscura_anonymization::{Policy, Scope};
use obscura_detection::detect::{DetectOptions, Detector};

pub use error::DocumentError;
pub use export::{Processed, entity_table};
pub use findings::{Entity, Unit};
pub use format::{ExportFormat, Format, sniff};
pub use limits::Limits;

use docx_document::docx_document;
use export::export;
use image_document::image_document;
use limits::Deadline;
use pdf_document::pdf_document;
use text_document::text_document;

/// What to do with a document.
pub struct Request<'a> {
    pub detector: &'a Detector,
    pub detect_options: &'a DetectOptions,
    /// Entities decided beforehand (a reviewed set), by unit of text, used in place of the
    /// detector's; the detector then only adds what it finds outside them (see
    /// [`obscura_anonymization::given`]), and nothing is propagated.
    pub given: Option<&'a GivenSpans>,
    pub policy: &'a Policy,
    pub limits: &'a Limits,
    pub export: ExportFormat,
    /// Told of each step as the document advances (pages read, pages read with OCR, parts
    /// detected), for progress reports; it must return at once.
    pub observer: Option<&'a (dyn Fn(Step) + Sync)>,
}

/// A stage of a document's processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A page's text layer was read.
    PageRead,
    /// An image (a scanned page, a picture of text) was read with OCR.
    OcrPage,
    /// Units of text (pages, paragraphs, readings) went through detection.
    Detected,
}

/// How far a document is: `done` of `total` in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

impl Request<'_> {
    /// How the document's entities are found.
    pub(crate) fn finder(&self) -> Finder<'_> {
        Finder {
            detector: self.detector,
            options: self.detect_options,
            given: self.given,
        }
    }

    /// Tells the observer, if any, of a step.
    pub(crate) fn observe(&self, stage: Stage, done: usize, total: usize) {
        if let Some(observer) = self.observer {
            observer(Step { stage, done, total });
        }
    }
}

/// Reads, detects, anonymizes and verifies one document.
pub fn process(
    bytes: &[u8],
    file_name: Option<&str>,
    request: &Request<'_>,
    scope: &mut Scope<'_>,
) -> Result<Processed, DocumentError> {
    if bytes.len() as u64 > request.limits.max_file_bytes {
        return Err(DocumentError::TooLarge {
            size: bytes.len() as u64,
            limit: request.limits.max_file_bytes,
        });
    }
    let format = sniff(bytes, file_name)?;
    let deadline = Deadline::new(request.limits);
    let outcome = match format {
        Format::Text | Format::Markdown | Format::Csv | Format::Json | Format::Html => {
            text_document(bytes, format, request, scope, &deadline)?
        }
        Format::Docx => docx_document(bytes, request, scope, &deadline)?,
        Format::Pdf => pdf_document(bytes, request, scope, &deadline)?,
        Format::Png | Format::Jpeg | Format::Tiff => image_document(bytes, format, request, scope, &deadline)?,
    };
    if let Some(given) = request.given {
        given.check_all_read()?;
    }
    export(outcome, request.export)
}
