//! Plain text, Markdown, CSV, JSON and HTML documents: decoded, anonymized as text or by
//! their structure, and checked as a reader sees them.

use obscura_anonymization::given::UnitText;
use obscura_anonymization::structured::HTML_LOCATION;
use obscura_anonymization::structured::{CsvOptions, JsonOptions, anonymize_csv, anonymize_html, anonymize_json};
use obscura_anonymization::{Scope, anonymize_text};
use obscura_detection::detect::merge_skipped;

use crate::detection::detect_units;
use crate::export::Outcome;
use crate::findings::{Findings, Found};
use crate::limits::Deadline;
use crate::{DocumentError, Format, Request, encoding};

/// Plain text, Markdown, CSV, JSON and HTML.
pub(crate) fn text_document(
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
            let anonymized = anonymize_csv(text, &request.finder(), request.policy, scope, &options)?;
            findings.add_structured(&anonymized.replacements);
            merge_skipped(&mut findings.skipped, anonymized.skipped);
            anonymized.content
        }
        Format::Json => {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|error| DocumentError::Corrupt(format!("JSON: {error}")))?;
            let anonymized = anonymize_json(
                &value,
                &request.finder(),
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
            findings.read_unit(HTML_LOCATION, None, text);
            let result = anonymize_html(text, &request.finder(), request.policy, scope)?;
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
                    location: HTML_LOCATION,
                    paragraph: None,
                    span: text[..replacement.start].chars().count()..text[..replacement.end].chars().count(),
                    operator: replacement.operator,
                    alias: &replacement.alias,
                    detection: None,
                });
            }
            result.text
        }
        Format::Text | Format::Markdown | Format::Docx | Format::Pdf | Format::Png | Format::Jpeg | Format::Tiff => {
            findings.read_unit("text", None, text);
            let unit = UnitText {
                location: "text",
                paragraph: None,
                text,
            };
            let detections = detect_units(&[unit], request, deadline, &mut findings.skipped)?
                .pop()
                .unwrap_or_default();
            let result = anonymize_text(text, &detections, request.policy, scope)?;
            findings.add_unit(text, &result, &detections, "text", None);
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
