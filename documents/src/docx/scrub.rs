//! What is scrubbed from the markup without detection: tracked changes, document properties,
//! and the attributes that name people.

use quick_xml::events::BytesStart;

use super::xml::{local, xml_error};
use crate::DocumentError;

/// Elements dropped with everything inside them: deleted and moved-away text, and records
/// of formatting changes (which name their authors).
pub(super) fn is_dropped(name: &[u8]) -> bool {
    matches!(
        local(name),
        b"del"
            | b"moveFrom"
            | b"rPrChange"
            | b"pPrChange"
            | b"sectPrChange"
            | b"tblPrChange"
            | b"trPrChange"
            | b"tcPrChange"
            | b"tblGridChange"
            | b"numberingChange"
            | b"moveFromRangeStart"
            | b"moveFromRangeEnd"
            | b"moveToRangeStart"
            | b"moveToRangeEnd"
            | b"presenceInfo"
    )
}

/// Elements whose tags are dropped and whose content stays: accepted insertions and moves.
pub(super) fn is_unwrapped(name: &[u8]) -> bool {
    matches!(local(name), b"ins" | b"moveTo")
}

/// Property elements whose text is blanked.
pub(super) fn is_blanked(part: &str, name: &[u8]) -> bool {
    match part {
        "docProps/core.xml" => matches!(
            local(name),
            b"creator"
                | b"lastModifiedBy"
                | b"title"
                | b"subject"
                | b"description"
                | b"keywords"
                | b"category"
                | b"contentStatus"
                | b"identifier"
        ),
        "docProps/app.xml" => matches!(local(name), b"Company" | b"Manager" | b"HyperlinkBase"),
        "docProps/custom.xml" => matches!(local(name), b"lpwstr" | b"lpstr" | b"bstr"),
        _ => false,
    }
}

/// Attributes naming people, and what they become.
fn anonymous_attribute(name: &[u8]) -> Option<&'static str> {
    match local(name) {
        b"author" => Some("Author"),
        b"initials" => Some("A"),
        b"userId" | b"providerId" => Some(""),
        _ => None,
    }
}

/// A start tag with the attributes that name people replaced; the flag says whether any was.
pub(super) fn scrub_attributes(
    part: &str,
    start: &BytesStart<'_>,
) -> Result<(BytesStart<'static>, bool), DocumentError> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut scrubbed = BytesStart::new(name);
    let mut replaced = false;
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| xml_error(part, error))?;
        match anonymous_attribute(attribute.key.as_ref()) {
            Some(replacement) => {
                replaced |= attribute.value.as_ref() != replacement.as_bytes();
                scrubbed.push_attribute((attribute.key.as_ref(), replacement.as_bytes()));
            }
            None => scrubbed.push_attribute(attribute),
        }
    }
    Ok((scrubbed.into_owned(), replaced))
}
