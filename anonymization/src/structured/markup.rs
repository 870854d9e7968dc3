//! HTML: the text nodes and chosen attributes that `html` finds are anonymized, the markup
//! is copied unchanged, and replacements are escaped.

use obscura_detection::detect::merge_skipped;

use super::StructuredError;
use crate::given::{Finder, outside};
use crate::html::{Edit, apply_edits, escape, scannable};
use crate::{Anonymized, Policy, Replacement, Scope, anonymize_text};

/// The location of an HTML document's entities, whose offsets count in code points of the
/// whole document.
pub const HTML_LOCATION: &str = "html";

/// Anonymizes an HTML document's text nodes and chosen attributes. Replacement offsets are
/// byte offsets in the document (`start`, `end`) and in the output.
pub fn anonymize_html(
    html: &str,
    finder: &Finder<'_>,
    policy: &Policy,
    scope: &mut Scope<'_>,
) -> Result<Anonymized, StructuredError> {
    let mut edits = Vec::new();
    let mut replacements = Vec::new();
    let mut skipped = Vec::new();
    for piece in scannable(html) {
        let findings = finder.detector.detect(&piece.text, finder.options)?;
        merge_skipped(&mut skipped, findings.skipped);
        // Given entities count in code points of the whole document.
        let detections = match finder.given {
            Some(given) => outside(
                given.detections_in_piece(HTML_LOCATION, html, &piece.text, &piece.offsets)?,
                findings.detections,
            ),
            None => findings.detections,
        };
        if detections.is_empty() {
            continue;
        }
        let result = anonymize_text(&piece.text, &detections, policy, scope)?;
        let output: Vec<char> = result.text.chars().collect();
        for replacement in result.replacements {
            let written: String = output[replacement.output_start..replacement.output_end]
                .iter()
                .collect();
            let range = piece.offsets[replacement.start]..piece.offsets[replacement.end];
            replacements.push(Replacement {
                start: range.start,
                end: range.end,
                ..replacement
            });
            edits.push(Edit {
                range,
                replacement: escape(&written),
            });
        }
    }
    // Output offsets follow from the edits, in document order.
    replacements.sort_by_key(|replacement| replacement.start);
    edits.sort_by_key(|edit| edit.range.start);
    let mut shift: isize = 0;
    for (replacement, edit) in replacements.iter_mut().zip(&edits) {
        let start = edit.range.start.saturating_add_signed(shift);
        replacement.output_start = start;
        replacement.output_end = start + edit.replacement.len();
        shift += edit.replacement.len() as isize - edit.range.len() as isize;
    }
    Ok(Anonymized {
        text: apply_edits(html, edits),
        replacements,
        skipped,
    })
}
