//! A processed document in the requested export format: the input's own, a new PDF or DOCX,
//! the text alone, the text with its entities in JSON, or a table of the entities.

use obscura_detection::detect::SkippedRecognizer;
use serde::Serialize;

use crate::findings::Unit;
use crate::leak::LeakCheck;
use crate::{DocumentError, Entity, ExportFormat, Format, docx, pdf};

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
    /// The anonymized text (pages parted by form feeds), for text exports made later.
    #[serde(skip)]
    pub text: String,
    /// The units of text the input was read as, with their originals; never serialized.
    #[serde(skip)]
    pub units: Vec<Unit>,
    pub entities: Vec<Entity>,
    pub leak_check: LeakCheck,
    /// Recognizers detection went without, which the request allowed
    /// (`on_recognizer_error: skip`); what they would have found may be in the output.
    pub skipped_recognizers: Vec<SkippedRecognizer>,
}

/// The anonymized content before export, in the input's shape.
pub(crate) struct Outcome {
    pub(crate) format: Format,
    pub(crate) encoding: Option<&'static str>,
    /// The output in the input's format.
    pub(crate) original: Vec<u8>,
    /// The anonymized text, for the txt, json, and (from other formats) pdf and docx exports;
    /// pages are parted by form feeds.
    pub(crate) text: String,
    pub(crate) entities: Vec<Entity>,
    pub(crate) units: Vec<Unit>,
    pub(crate) leak_check: LeakCheck,
    pub(crate) skipped: Vec<SkippedRecognizer>,
}

/// The outcome in the requested export format.
pub(crate) fn export(outcome: Outcome, format: ExportFormat) -> Result<Processed, DocumentError> {
    let text = outcome.text.clone();
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
        text,
        units: outcome.units,
        entities: outcome.entities,
        leak_check: outcome.leak_check,
        skipped_recognizers: outcome.skipped,
    })
}

/// The entities as CSV: type, location, paragraph, start, end, operator, alias.
pub fn entity_table(entities: &[Entity]) -> Result<Vec<u8>, DocumentError> {
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
