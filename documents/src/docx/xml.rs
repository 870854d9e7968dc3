//! Reading the XML of a part: element names, references, attribute values, and the text a
//! reader could extract from it.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::DocumentError;

/// The local part of an element name (`w:t` → `t`).
pub(super) fn local(name: &[u8]) -> &[u8] {
    name.iter()
        .position(|&byte| byte == b':')
        .map_or(name, |colon| &name[colon + 1..])
}

/// The text of an XML reference (`&amp;`, `&#233;`); other entities are refused.
pub(super) fn reference_text(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, DocumentError> {
    if let Ok(Some(character)) = reference.resolve_char_ref() {
        return Ok(character.to_string());
    }
    let name = reference
        .decode()
        .map_err(|error| DocumentError::Corrupt(error.to_string()))?;
    Ok(match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "apos" => "'",
        "quot" => "\"",
        other => return Err(DocumentError::Corrupt(format!("undeclared XML entity &{other};"))),
    }
    .to_owned())
}

pub(super) fn xml_error(part: &str, error: impl std::fmt::Display) -> DocumentError {
    DocumentError::Corrupt(format!("{part}: {error}"))
}

/// The decoded value of an attribute.
pub(super) fn attribute_value(part: &str, start: &BytesStart<'_>, key: &[u8]) -> Result<Option<String>, DocumentError> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| xml_error(part, error))?;
        if attribute.key.as_ref() == key {
            return Ok(Some(
                attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|error| xml_error(part, error))?
                    .into_owned(),
            ));
        }
    }
    Ok(None)
}

/// The concatenated text of events (for metadata parts).
pub(super) fn all_text(events: &[Event<'static>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(content) => {
                if let Ok(content) = content.xml10_content() {
                    text.push_str(&content);
                    text.push('\n');
                }
            }
            Event::GeneralRef(reference) => {
                if let Ok(content) = reference_text(reference) {
                    text.push_str(&content);
                }
            }
            Event::Start(start) | Event::Empty(start) => {
                for attribute in start.attributes().flatten() {
                    if let Ok(value) = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        text.push_str(&value);
                        text.push('\n');
                    }
                }
            }
            Event::End(_)
            | Event::CData(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_)
            | Event::Eof => {}
        }
    }
    text
}

/// The events of an XML part as they are, for reading only.
pub(super) fn raw_events(name: &str, xml: &[u8]) -> Result<Vec<Event<'static>>, DocumentError> {
    let mut reader = Reader::from_reader(xml);
    let mut events = Vec::new();
    loop {
        match reader.read_event().map_err(|error| xml_error(name, error))? {
            Event::Eof => return Ok(events),
            Event::DocType(_) => {
                return Err(DocumentError::Corrupt(format!("{name}: a document type declaration")));
            }
            event @ (Event::Start(_)
            | Event::End(_)
            | Event::Empty(_)
            | Event::Text(_)
            | Event::CData(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::GeneralRef(_)) => events.push(event.into_owned()),
        }
    }
}
