//! Word documents: every paragraph of every text part, and external link targets, rewritten
//! inside the runs they came from.

use obscura_anonymization::given::UnitText;
use obscura_anonymization::{Scope, anonymize_text};

use crate::detection::detect_units;
use crate::export::Outcome;
use crate::findings::Findings;
use crate::limits::Deadline;
use crate::{DocumentError, Format, Request, docx};

/// Word documents: every paragraph of every text part, and external link targets.
pub(crate) fn docx_document(
    bytes: &[u8],
    request: &Request<'_>,
    scope: &mut Scope<'_>,
    deadline: &Deadline,
) -> Result<Outcome, DocumentError> {
    let mut document = docx::Docx::open(bytes, request.limits)?;
    let units = document.units();
    let mut findings = Findings::default();
    let places: Vec<(String, Option<usize>)> = units
        .iter()
        .map(|(unit, _)| {
            (
                document.part_name(unit).to_owned(),
                (unit.kind == docx::UnitKind::Paragraph).then_some(unit.index),
            )
        })
        .collect();
    let texts: Vec<UnitText<'_>> = units
        .iter()
        .zip(&places)
        .map(|((_, text), (part, paragraph))| UnitText {
            location: part,
            paragraph: *paragraph,
            text,
        })
        .collect();
    let detected = detect_units(&texts, request, deadline, &mut findings.skipped)?;
    for (((unit, text), (part, paragraph)), detections) in units.iter().zip(&places).zip(detected) {
        deadline.check()?;
        let (part, paragraph) = (part.as_str(), *paragraph);
        findings.read_unit(part, paragraph, text);
        if detections.is_empty() {
            continue;
        }
        let result = anonymize_text(text, &detections, request.policy, scope)?;
        let spans = findings.add_unit(text, &result, &detections, part, paragraph);
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
