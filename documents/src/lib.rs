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
//! - `propagate`: a value detected anywhere in a document is replaced everywhere in it;
//! - `leak`: the leak check.

pub mod docx;
pub mod encoding;
pub mod image;
pub mod leak;
pub mod pdf;
pub mod propagate;

use obscura_detection::entity_type::EntityType;
use std::ops::Range;
use std::time::{Duration, Instant};

use serde::Serialize;

use leak::{LeakCheck, Replaced};
use obscura_anonymization::structured::{
    CsvOptions, JsonOptions, JsonReplacement, StructuredError, anonymize_csv, anonymize_html, anonymize_json,
};
use obscura_anonymization::{AnonymizeError, Anonymized, Policy, Scope, anonymize_text};
use obscura_detection::detect::{DetectError, DetectOptions, Detection, Detector, SkippedRecognizer, merge_skipped};
use obscura_detection::error_kind::{ErrorClass, ErrorKind};

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Csv,
    Json,
    Html,
    Docx,
    Pdf,
    Png,
    Jpeg,
    Tiff,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "Markdown",
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Html => "HTML",
            Format::Docx => "DOCX",
            Format::Pdf => "PDF",
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Tiff => "TIFF",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Tiff => "tiff",
        }
    }

    /// The format a file name's extension promises, if it names one.
    pub fn from_extension(file_name: &str) -> Option<Format> {
        let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match extension.as_str() {
            "txt" | "text" | "log" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "csv" | "tsv" => Format::Csv,
            "json" => Format::Json,
            "html" | "htm" | "xhtml" => Format::Html,
            "docx" => Format::Docx,
            "pdf" => Format::Pdf,
            "png" => Format::Png,
            "jpg" | "jpeg" => Format::Jpeg,
            "tif" | "tiff" => Format::Tiff,
            _ => return None,
        })
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            Format::Text | Format::Markdown | Format::Csv | Format::Json | Format::Html
        )
    }
}

/// The format of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The input's own format.
    Original,
    Pdf,
    Docx,
    /// The anonymized text alone.
    Txt,
    /// The anonymized text, with the entities and their aliases (never the originals).
    Json,
    /// A table of the entities.
    Csv,
}

impl ExportFormat {
    pub fn parse(name: &str) -> Option<ExportFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "original" => ExportFormat::Original,
            "pdf" => ExportFormat::Pdf,
            "docx" => ExportFormat::Docx,
            "txt" | "text" => ExportFormat::Txt,
            "json" => ExportFormat::Json,
            "csv" => ExportFormat::Csv,
            _ => return None,
        })
    }
}

/// Limits against oversized and hostile files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most pages of a paged document.
    pub max_pages: usize,
    /// Most pixels of one image (against decompression bombs).
    pub max_image_pixels: u64,
    /// Most entries of a ZIP container (DOCX).
    pub max_zip_entries: usize,
    /// Largest expansion of one compressed entry over 1 MiB.
    pub max_zip_ratio: u64,
    /// Most bytes a ZIP container expands to.
    pub max_uncompressed_bytes: u64,
    /// Longest a document may take; checked between its paragraphs.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 10 << 20,
            max_pages: 500,
            max_image_pixels: 50_000_000,
            max_zip_entries: 10_000,
            max_zip_ratio: 200,
            max_uncompressed_bytes: 512 << 20,
            max_duration: Duration::from_secs(300),
        }
    }
}

/// Why a document could not be processed. Each is a distinct, stable state.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is {size} bytes; at most {limit} are read")]
    TooLarge { size: u64, limit: u64 },
    #[error("the file is encrypted or password-protected; save it without a password first")]
    Encrypted,
    #[error("the file is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("the file is named as {expected} but is {found}")]
    Mislabeled { expected: &'static str, found: String },
    #[error("the image has {pixels} pixels; at most {limit} are read")]
    TooManyPixels { pixels: u64, limit: u64 },
    #[error("the document has {pages} pages; at most {limit} are read")]
    TooManyPages { pages: usize, limit: usize },
    #[error("the file expands too much to be read safely: {0}")]
    ZipBomb(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the document took longer than {seconds} s")]
    TimedOut { seconds: u64 },
    #[error("the file is not text: {0}")]
    NotText(#[from] encoding::EncodingError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error("anonymization failed: {0}")]
    Anonymize(#[from] AnonymizeError),
}

impl From<StructuredError> for DocumentError {
    fn from(error: StructuredError) -> DocumentError {
        match error {
            StructuredError::Detect(error) => DocumentError::Detect(error),
            StructuredError::Anonymize(error) => DocumentError::Anonymize(error),
            other @ (StructuredError::TooDeep { .. }
            | StructuredError::TooManyStrings { .. }
            | StructuredError::InvalidPath { .. }
            | StructuredError::Csv(_)) => DocumentError::Corrupt(other.to_string()),
        }
    }
}

impl ErrorClass for DocumentError {
    fn kind(&self) -> ErrorKind {
        match self {
            DocumentError::TooLarge { .. }
            | DocumentError::TooManyPixels { .. }
            | DocumentError::TooManyPages { .. }
            | DocumentError::ZipBomb(_) => ErrorKind::TooLarge,
            DocumentError::Encrypted
            | DocumentError::Corrupt(_)
            | DocumentError::Mislabeled { .. }
            | DocumentError::NotText(_) => ErrorKind::Invalid,
            DocumentError::Unsupported(_) => ErrorKind::Unsupported,
            DocumentError::TimedOut { .. } => ErrorKind::Unavailable,
            DocumentError::Detect(error) => error.kind(),
            DocumentError::Anonymize(error) => error.kind(),
        }
    }

    /// A stable code for the error state; a detection or anonymization failure keeps the
    /// code of its cause (`recognizer_failed`, `unknown_entity`, ...).
    fn code(&self) -> &'static str {
        match self {
            DocumentError::TooLarge { .. } => "too_large",
            DocumentError::Encrypted => "encrypted",
            DocumentError::Corrupt(_) => "corrupt",
            DocumentError::Mislabeled { .. } => "mislabeled",
            DocumentError::TooManyPages { .. } => "too_many_pages",
            DocumentError::TooManyPixels { .. } => "too_many_pixels",
            DocumentError::ZipBomb(_) => "too_expanded",
            DocumentError::Unsupported(_) => "unsupported",
            DocumentError::TimedOut { .. } => "timed_out",
            DocumentError::NotText(_) => "not_text",
            DocumentError::Detect(error) => error.code(),
            DocumentError::Anonymize(error) => error.code(),
        }
    }

    fn public_detail(&self) -> Option<String> {
        match self {
            DocumentError::Detect(error) => error.public_detail(),
            DocumentError::Anonymize(error) => error.public_detail(),
            DocumentError::TooLarge { .. }
            | DocumentError::Encrypted
            | DocumentError::Corrupt(_)
            | DocumentError::Mislabeled { .. }
            | DocumentError::TooManyPixels { .. }
            | DocumentError::TooManyPages { .. }
            | DocumentError::ZipBomb(_)
            | DocumentError::Unsupported(_)
            | DocumentError::TimedOut { .. }
            | DocumentError::NotText(_) => None,
        }
    }
}

/// Recognizes a file by its first bytes, and checks them against the name's extension.
pub fn sniff(bytes: &[u8], file_name: Option<&str>) -> Result<Format, DocumentError> {
    let claimed = file_name.and_then(Format::from_extension);
    let magic = if bytes.starts_with(b"%PDF-") {
        Some(Format::Pdf)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some(Format::Docx)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(Format::Tiff)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: a password-protected Office file, or a legacy .doc.
        return match claimed {
            Some(Format::Docx) => Err(DocumentError::Encrypted),
            _ => Err(DocumentError::Unsupported(
                "legacy Office files (.doc, .xls) are not read; save it as .docx".into(),
            )),
        };
    } else {
        None
    };
    match (claimed, magic) {
        (Some(claimed), Some(found)) if claimed != found => Err(DocumentError::Mislabeled {
            expected: claimed.name(),
            found: format!("a {} file", found.name()),
        }),
        (Some(claimed), None) if !claimed.is_text() => Err(DocumentError::Mislabeled {
            expected: claimed.name(),
            found: "not one (its first bytes do not match)".into(),
        }),
        (_, Some(found)) => Ok(found),
        (Some(claimed), None) => Ok(claimed),
        (None, None) => Ok(Format::Text),
    }
}

/// What to do with a document.
pub struct Request<'a> {
    pub detector: &'a Detector,
    pub detect_options: &'a DetectOptions,
    pub policy: &'a Policy,
    pub limits: &'a Limits,
    pub export: ExportFormat,
}

/// One entity found in a document, without its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub entity_type: EntityType,
    /// Where: the part of the file (`text`, `word/document.xml`, a JSON path, `row[column]`).
    pub location: String,
    /// The paragraph within the part, when it has paragraphs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<usize>,
    /// Code-point offsets within the location's text.
    pub start: usize,
    pub end: usize,
    pub operator: &'static str,
    pub alias: String,
    /// Where it was drawn, one box per line: x0, y0, x1, y1 in page space (points, from the
    /// bottom left) for PDFs, and left, top, right, bottom in pixels for images.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<[f32; 4]>,
    /// For text read with OCR: the lowest confidence (0 to 100) Tesseract gave a word of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_confidence: Option<f32>,
}

/// A processed document.
#[derive(Debug, Clone, Serialize)]
pub struct Processed {
    pub format: Format,
    /// The input text's encoding, for text formats. The output is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    #[serde(skip)]
    pub output: Vec<u8>,
    /// The output's file extension.
    pub output_extension: &'static str,
    pub entities: Vec<Entity>,
    pub leak_check: LeakCheck,
    /// Recognizers detection went without, which the request allowed
    /// (`on_recognizer_error: skip`); what they would have found may be in the output.
    pub skipped_recognizers: Vec<SkippedRecognizer>,
}

/// A deadline checked between units of work.
struct Deadline {
    until: Instant,
    seconds: u64,
}

impl Deadline {
    fn new(limits: &Limits) -> Deadline {
        Deadline {
            until: Instant::now() + limits.max_duration,
            seconds: limits.max_duration.as_secs(),
        }
    }

    fn check(&self) -> Result<(), DocumentError> {
        if Instant::now() > self.until {
            Err(DocumentError::TimedOut { seconds: self.seconds })
        } else {
            Ok(())
        }
    }
}

/// The anonymized content before export, in the input's shape.
struct Outcome {
    format: Format,
    encoding: Option<&'static str>,
    /// The output in the input's format.
    original: Vec<u8>,
    /// The anonymized text, for the txt, json, and (from other formats) pdf and docx exports;
    /// pages are parted by form feeds.
    text: String,
    entities: Vec<Entity>,
    leak_check: LeakCheck,
    skipped: Vec<SkippedRecognizer>,
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
    export(outcome, request.export)
}

/// The outcome in the requested export format.
fn export(outcome: Outcome, format: ExportFormat) -> Result<Processed, DocumentError> {
    let (output, output_extension) = match format {
        ExportFormat::Original => (outcome.original, outcome.format.extension()),
        ExportFormat::Txt => (outcome.text.into_bytes(), "txt"),
        ExportFormat::Json => {
            let body = serde_json::json!({
                "text": outcome.text,
                "entities": outcome.entities,
            });
            (
                serde_json::to_vec_pretty(&body).map_err(|error| DocumentError::Corrupt(error.to_string()))?,
                "json",
            )
        }
        ExportFormat::Csv => (entity_table(&outcome.entities)?, "csv"),
        ExportFormat::Pdf if outcome.format == Format::Pdf => (outcome.original, "pdf"),
        ExportFormat::Docx if outcome.format == Format::Docx => (outcome.original, "docx"),
        // Another format's anonymized text, in a new file.
        ExportFormat::Pdf => (pdf::write_text(&outcome.text)?, "pdf"),
        ExportFormat::Docx => (docx::write_text(&outcome.text)?, "docx"),
    };
    Ok(Processed {
        format: outcome.format,
        encoding: outcome.encoding,
        output,
        output_extension,
        entities: outcome.entities,
        leak_check: outcome.leak_check,
        skipped_recognizers: outcome.skipped,
    })
}

/// The entities as CSV: type, location, paragraph, start, end, operator, alias.
fn entity_table(entities: &[Entity]) -> Result<Vec<u8>, DocumentError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| DocumentError::Corrupt(error.to_string());
    writer
        .write_record([
            "entity_type",
            "location",
            "paragraph",
            "start",
            "end",
            "operator",
            "alias",
        ])
        .map_err(failed)?;
    for entity in entities {
        writer
            .write_record([
                entity.entity_type.as_str(),
                entity.location.as_str(),
                &entity
                    .paragraph
                    .map(|paragraph| paragraph.to_string())
                    .unwrap_or_default(),
                &entity.start.to_string(),
                &entity.end.to_string(),
                entity.operator,
                entity.alias.as_str(),
            ])
            .map_err(failed)?;
    }
    writer
        .into_inner()
        .map_err(|error| DocumentError::Corrupt(error.to_string()))
}

/// The characters of `text` between two code-point offsets.
fn slice_chars(characters: &[char], start: usize, end: usize) -> String {
    characters[start.min(characters.len())..end.min(characters.len())]
        .iter()
        .collect()
}

/// What a document's anonymization replaced: the entities for the report, and their values
/// for the leak check.
#[derive(Default)]
struct Findings {
    entities: Vec<Entity>,
    replaced: Vec<Replaced>,
    /// Recognizers detection went without (only when the options allow skipping).
    skipped: Vec<SkippedRecognizer>,
}

/// One replaced value: its type, where it was, and what it became.
struct Found<'a> {
    entity_type: &'a str,
    value: String,
    location: &'a str,
    paragraph: Option<usize>,
    span: Range<usize>,
    operator: &'static str,
    alias: &'a str,
}

impl Findings {
    fn add(&mut self, found: Found<'_>) {
        self.replaced.push(Replaced {
            entity_type: EntityType::new(found.entity_type),
            value: found.value,
            location: found.location.to_owned(),
        });
        self.entities.push(Entity {
            entity_type: EntityType::new(found.entity_type),
            location: found.location.to_owned(),
            paragraph: found.paragraph,
            start: found.span.start,
            end: found.span.end,
            operator: found.operator,
            alias: found.alias.to_owned(),
            boxes: Vec::new(),
            ocr_confidence: None,
        });
    }

    /// Gives the entities from `first` on their boxes, from their spans.
    fn locate(&mut self, first: usize, boxes: impl Fn(&Range<usize>) -> Vec<[f32; 4]>) {
        for entity in &mut self.entities[first..] {
            entity.boxes = boxes(&(entity.start..entity.end));
        }
    }

    /// Gives the entities from `first`, read with OCR in `read`, their boxes (mapped by
    /// `place` from pixels of the image as given) and OCR confidence.
    fn locate_read(&mut self, first: usize, read: &image::Ocr, place: impl Fn([u32; 4]) -> [f32; 4]) {
        for entity in &mut self.entities[first..] {
            let span = entity.start..entity.end;
            entity.boxes = image::span_bounds(read, &span).into_iter().map(&place).collect();
            entity.ocr_confidence = image::span_confidence(read, &span);
        }
    }

    /// The outcome, with the leak check of `visible`: what a reader of the written output
    /// sees, by part.
    fn outcome(
        self,
        format: Format,
        encoding: Option<&'static str>,
        original: Vec<u8>,
        text: String,
        visible: &[(String, String)],
    ) -> Outcome {
        Outcome {
            format,
            encoding,
            original,
            text,
            leak_check: leak::check(
                &self.replaced,
                visible,
                &self
                    .entities
                    .iter()
                    .map(|entity| entity.alias.as_str())
                    .collect::<Vec<_>>(),
                &self
                    .entities
                    .iter()
                    .filter(|entity| entity.entity_type == EntityType::PERSON)
                    .map(|entity| entity.alias.as_str())
                    .collect::<Vec<_>>(),
            ),
            entities: self.entities,
            skipped: self.skipped,
        }
    }

    /// The replacements of a CSV or JSON document, located by their path.
    fn add_structured(&mut self, replacements: &[JsonReplacement]) {
        for replacement in replacements {
            self.add(Found {
                entity_type: &replacement.entity_type,
                value: replacement.original.expose().to_owned(),
                location: &replacement.path,
                paragraph: None,
                span: replacement.start..replacement.end,
                operator: replacement.operator,
                alias: &replacement.alias,
            });
        }
    }

    /// The replacements made in one unit of text; returns each replaced span of the input
    /// with the text that replaced it.
    fn add_unit(
        &mut self,
        text: &str,
        result: &Anonymized,
        location: &str,
        paragraph: Option<usize>,
    ) -> Vec<(Range<usize>, String)> {
        let input: Vec<char> = text.chars().collect();
        let output: Vec<char> = result.text.chars().collect();
        let mut spans = Vec::with_capacity(result.replacements.len());
        for replacement in &result.replacements {
            spans.push((
                replacement.start..replacement.end,
                slice_chars(&output, replacement.output_start, replacement.output_end),
            ));
            self.add(Found {
                entity_type: &replacement.entity_type,
                value: slice_chars(&input, replacement.start, replacement.end),
                location,
                paragraph,
                span: replacement.start..replacement.end,
                operator: replacement.operator,
                alias: &replacement.alias,
            });
        }
        spans
    }
}

/// Units detected together (a model batches their windows) and then with every value
/// found in one of them propagated to all (see [`propagate`]).
fn detect_units(
    texts: &[String],
    request: &Request<'_>,
    deadline: &Deadline,
    skipped: &mut Vec<SkippedRecognizer>,
) -> Result<Vec<Vec<Detection>>, DocumentError> {
    const BATCH: usize = 32;
    let mut detected = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(BATCH) {
        deadline.check()?;
        let batch: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let found = request.detector.detect_many(&batch, request.detect_options)?;
        merge_skipped(skipped, found.skipped);
        detected.extend(found.detections);
    }
    let values = texts.iter().zip(&detected).flat_map(|(text, detections)| {
        detections.iter().map(move |detection| {
            (
                detection.entity_type.as_str(),
                &text[detection.byte_start..detection.byte_end],
            )
        })
    });
    if let Some(propagation) = propagate::Propagation::new(values) {
        for (text, detections) in texts.iter().zip(detected.iter_mut()) {
            propagation.apply(text, detections);
        }
    }
    Ok(detected)
}

/// Plain text, Markdown, CSV, JSON and HTML.
fn text_document(
    bytes: &[u8],
    format: Format,
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let decoded = encoding::decode(bytes)?;
    let text = decoded.text.as_str();
    let mut findings = Findings::default();
    let output = match format {
        Format::Csv => {
            let options = CsvOptions {
                delimiter: if text.lines().next().is_some_and(|header| header.contains('\t')) {
                    b'\t'
                } else {
                    b','
                },
                ..CsvOptions::default()
            };
            let anonymized = anonymize_csv(
                text,
                request.detector,
                request.detect_options,
                request.policy,
                scope,
                &options,
            )?;
            findings.add_structured(&anonymized.replacements);
            merge_skipped(&mut findings.skipped, anonymized.skipped);
            anonymized.content
        }
        Format::Json => {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|error| DocumentError::Corrupt(format!("JSON: {error}")))?;
            let anonymized = anonymize_json(
                &value,
                request.detector,
                request.detect_options,
                request.policy,
                scope,
                &JsonOptions::default(),
            )?;
            findings.add_structured(&anonymized.replacements);
            merge_skipped(&mut findings.skipped, anonymized.skipped);
            serde_json::to_string_pretty(&anonymized.content)
                .map_err(|error| DocumentError::Corrupt(error.to_string()))?
        }
        Format::Html => {
            let result = anonymize_html(text, request.detector, request.detect_options, request.policy, scope)?;
            merge_skipped(&mut findings.skipped, result.skipped.iter().cloned());
            for replacement in &result.replacements {
                // Offsets are bytes of the document; the value is its text with entities decoded.
                let raw = &text[replacement.start..replacement.end];
                let value: String = obscura_anonymization::html::scannable(raw)
                    .into_iter()
                    .map(|piece| piece.text)
                    .collect();
                findings.add(Found {
                    entity_type: &replacement.entity_type,
                    value: if value.is_empty() { raw.to_owned() } else { value },
                    location: "html",
                    paragraph: None,
                    span: text[..replacement.start].chars().count()..text[..replacement.end].chars().count(),
                    operator: replacement.operator,
                    alias: &replacement.alias,
                });
            }
            result.text
        }
        Format::Text | Format::Markdown | Format::Docx | Format::Pdf | Format::Png | Format::Jpeg | Format::Tiff => {
            let detections = detect_units(&[text.to_owned()], request, deadline, &mut findings.skipped)?
                .pop()
                .unwrap_or_default();
            let result = anonymize_text(text, &detections, request.policy, scope)?;
            findings.add_unit(text, &result, "text", None);
            result.text
        }
    };
    // What a reader of the output sees: for HTML its decoded text, otherwise the text.
    let visible = if format == Format::Html {
        obscura_anonymization::html::scannable(&output)
            .into_iter()
            .map(|piece| piece.text)
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        output.clone()
    };
    let parts = [(format.extension().to_owned(), visible.clone())];
    Ok(findings.outcome(format, Some(decoded.encoding), output.into_bytes(), visible, &parts))
}

/// The language OCR reads first.
fn ocr_language(request: &Request<'_>) -> String {
    request.detect_options.language.clone().unwrap_or_else(|| "en".into())
}

/// Anonymizes a text read by OCR and burns its replaced words into the pixels; also
/// replaces a DNI whose letter OCR read as a digit. Returns the replaced spans.
fn burn_reading(
    read: &image::Ocr,
    mut detections: Vec<Detection>,
    pixels: &mut ::image::RgbImage,
    location: &str,
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    findings: &mut Findings,
) -> Result<(Vec<Range<usize>>, String), DocumentError> {
    for misread in image::misread_dni(&read.text) {
        if !detections
            .iter()
            .any(|detection| detection.start < misread.end && detection.end > misread.start)
        {
            detections.push(misread);
        }
    }
    if detections.is_empty() {
        return Ok((Vec::new(), read.text.clone()));
    }
    detections.sort_by_key(|detection| (detection.start, detection.end));
    let result = anonymize_text(&read.text, &detections, request.policy, scope)?;
    let spans: Vec<Range<usize>> = findings
        .add_unit(&read.text, &result, location, None)
        .into_iter()
        .map(|(span, _)| span)
        .collect();
    image::burn(pixels, read, &spans);
    Ok((spans, result.text))
}

/// PDF: every page's text layer, redacted in its content stream, and every image worth
/// reading (a scanned page, a picture of text), read with OCR and redacted in its pixels.
fn pdf_document(
    bytes: &[u8],
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let language = ocr_language(request);
    let mut document = pdf::Pdf::open(bytes, request.limits)?;
    let mut findings = Findings::default();
    let scans = document.scans();
    let mut rasters = Vec::with_capacity(scans.len());
    let mut readings = Vec::with_capacity(scans.len());
    for scan in &scans {
        deadline.check()?;
        let raster = document.scan_pixels(scan, request.limits)?;
        readings.push(image::ocr(&raster.pixels, &language)?);
        rasters.push(raster);
    }
    // Text layers and scans are detected together, so that a value found in one is
    // replaced in all.
    let mut texts: Vec<String> = document.pages.iter().map(|page| page.text.clone()).collect();
    texts.extend(readings.iter().map(|read| read.text.clone()));
    let mut detected = detect_units(&texts, request, deadline, &mut findings.skipped)?;
    let scan_detections = detected.split_off(document.pages.len());
    // The anonymized text of each page's text layer and scans, for the text exports.
    let mut anonymized: Vec<((u32, usize), String)> = Vec::new();
    for (index, (text, detections)) in texts.iter().zip(detected).enumerate() {
        deadline.check()?;
        let page = document.pages[index].number;
        if detections.is_empty() {
            anonymized.push(((page, 0), text.clone()));
            continue;
        }
        let location = format!("page {page}");
        let result = anonymize_text(text, &detections, request.policy, scope)?;
        anonymized.push(((page, 0), result.text.clone()));
        let first = findings.entities.len();
        let spans = findings.add_unit(text, &result, &location, None);
        findings.locate(first, |span| document.text_boxes(index, span));
        document.redact(index, &spans)?;
    }
    let mut burnt = Vec::with_capacity(scans.len());
    for (((scan, mut raster), read), detections) in scans.iter().zip(rasters).zip(&readings).zip(scan_detections) {
        deadline.check()?;
        let first = findings.entities.len();
        let (spans, text) = burn_reading(
            read,
            detections,
            &mut raster.pixels,
            &scan.location(),
            request,
            scope,
            &mut findings,
        )?;
        anonymized.push(((scan.page, scan.ordinal), text));
        burnt.push(spans.clone());
        if spans.is_empty() {
            continue;
        }
        let size = raster.pixels.dimensions();
        findings.locate_read(first, read, |bounds| scan.page_box(size, bounds));
        document.replace_scan(scan, &raster)?;
    }
    let output = document.save()?;
    // The check reads the written file again, as a recipient would: its text layer, and in
    // its images the burnt lines with OCR (see `image::reread`).
    let written = pdf::Pdf::open(&output, request.limits)?;
    let mut visible: Vec<(String, String)> = written
        .pages
        .iter()
        .map(|page| (format!("page {}", page.number), page.text.clone()))
        .collect();
    let written_scans = written.scans();
    let same_scans = written_scans.len() == scans.len();
    for (index, scan) in written_scans.iter().enumerate() {
        deadline.check()?;
        let pixels = written.scan_pixels(scan, request.limits)?.pixels;
        let seen = if same_scans {
            image::reread(&pixels, &readings[index], &burnt[index], &language)?
        } else {
            image::ocr(&pixels, &language)?.text
        };
        visible.push((scan.location(), seen));
    }
    anonymized.sort_by_key(|(place, _)| *place);
    let mut text = String::new();
    for (index, ((page, _), part)) in anonymized.iter().enumerate() {
        if index > 0 {
            let same_page = anonymized[index - 1].0.0 == *page;
            text.push_str(if same_page { "\n" } else { "\n\u{c}\n" });
        }
        text.push_str(part);
    }
    Ok(findings.outcome(Format::Pdf, None, output, text, &visible))
}

/// Images: the text Tesseract reads, and detected values burnt into the pixels.
fn image_document(
    bytes: &[u8],
    format: Format,
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let language = ocr_language(request);
    let mut pixels = image::decode(bytes, format, request.limits)?;
    let read = image::ocr(&pixels, &language)?;
    let mut findings = Findings::default();
    let detections = detect_units(
        std::slice::from_ref(&read.text),
        request,
        deadline,
        &mut findings.skipped,
    )?
    .pop()
    .unwrap_or_default();
    let (burnt, text) = burn_reading(&read, detections, &mut pixels, "image", request, scope, &mut findings)?;
    findings.locate_read(0, &read, |[left, top, width, height]| {
        [left, top, left + width, top + height].map(|value| value as f32)
    });
    let output = image::encode(&pixels, format)?;
    // The check reads the written image again, as a recipient could: the lines that were
    // burnt with OCR, the others as they were read (see `image::reread`).
    deadline.check()?;
    let seen = image::reread(
        &image::decode(&output, format, request.limits)?,
        &read,
        &burnt,
        &language,
    )?;
    let parts = [("image".to_owned(), seen)];
    Ok(findings.outcome(format, None, output, text, &parts))
}

/// Word documents: every paragraph of every text part, and external link targets.
fn docx_document(
    bytes: &[u8],
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let mut document = docx::Docx::open(bytes, request.limits)?;
    let units = document.units();
    let mut findings = Findings::default();
    let texts: Vec<String> = units.iter().map(|(_, text)| text.clone()).collect();
    let detected = detect_units(&texts, request, deadline, &mut findings.skipped)?;
    for ((unit, text), detections) in units.iter().zip(detected) {
        deadline.check()?;
        if detections.is_empty() {
            continue;
        }
        let result = anonymize_text(text, &detections, request.policy, scope)?;
        let part = document.part_name(unit).to_owned();
        let paragraph = (unit.kind == docx::UnitKind::Paragraph).then_some(unit.index);
        let spans = findings.add_unit(text, &result, &part, paragraph);
        document.rewrite(
            unit,
            &docx::Rewrite {
                input: text.chars().collect(),
                output: result.text,
                spans: spans
                    .into_iter()
                    .map(|(span, text)| (span.start, span.end, text))
                    .collect(),
            },
        );
    }
    let output = document.save()?;
    // The check reads the written file again, as a recipient would.
    let written = docx::Docx::open(&output, request.limits)?;
    let visible = written.visible_text()?;
    let text = written
        .units()
        .into_iter()
        .filter(|(unit, _)| unit.kind == docx::UnitKind::Paragraph)
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join("\n");
    Ok(findings.outcome(Format::Docx, None, output, text, &visible))
}
