//! One XML part of the package: parsed into text nodes, paragraphs and link targets with its
//! tracked changes and people's names scrubbed, and written back with the new texts.

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::reader::Reader;
use quick_xml::writer::Writer;

use super::scrub::{is_blanked, is_dropped, is_unwrapped, scrub_attributes};
use super::xml::{attribute_value, local, reference_text, xml_error};
use super::{Paragraph, Part, Piece, Target, TextNode, is_relationship_part, is_scrubbed_part};
use crate::DocumentError;

/// Paragraphs being assembled while reading.
#[derive(Default)]
struct OpenParagraph {
    text: String,
    pieces: Vec<Piece>,
}

impl OpenParagraph {
    fn push(&mut self, text: &str, node: Option<usize>) {
        self.text.push_str(text);
        self.pieces.push(Piece {
            chars: text.chars().count(),
            node,
        });
    }
}

impl Part {
    /// Reads a part, scrubbing tracked changes and people's names from its markup.
    pub(super) fn parse(name: &str, xml: &[u8]) -> Result<Part, DocumentError> {
        let mut reader = Reader::from_reader(xml);
        let mut events: Vec<Event<'static>> = Vec::new();
        let mut nodes = Vec::new();
        let mut targets = Vec::new();
        let mut paragraphs = Vec::new();
        let mut open: Vec<OpenParagraph> = Vec::new();
        // The text element being read: its start event and text so far.
        let mut in_text: Option<(usize, String)> = None;
        // Depth inside a dropped element, and inside a blanked one.
        let mut dropping = 0_usize;
        let mut blanking = 0_usize;
        let relationships = is_relationship_part(name);
        let scrub_only = is_scrubbed_part(name);
        // Whether reading left anything out or changed a name: then the part is written back.
        let mut scrubbed = false;
        loop {
            let event = reader.read_event().map_err(|error| xml_error(name, error))?;
            match event {
                Event::Eof => break,
                Event::DocType(_) => {
                    return Err(DocumentError::Corrupt(format!(
                        "{name}: a document type declaration, which Office never writes and is not read"
                    )));
                }
                Event::Start(start) => {
                    let tag = start.name();
                    if dropping > 0 || is_dropped(tag.as_ref()) {
                        dropping += 1;
                        scrubbed = true;
                        continue;
                    }
                    if is_unwrapped(tag.as_ref()) {
                        scrubbed = true;
                        continue;
                    }
                    if is_blanked(name, tag.as_ref()) || blanking > 0 {
                        blanking += 1;
                    }
                    match local(tag.as_ref()) {
                        b"p" if !scrub_only => open.push(OpenParagraph::default()),
                        b"t" | b"instrText" if !scrub_only => in_text = Some((events.len(), String::new())),
                        _ => {}
                    }
                    let (start, replaced) = scrub_attributes(name, &start)?;
                    scrubbed |= replaced;
                    events.push(Event::Start(start));
                }
                Event::End(end) => {
                    let tag = end.name();
                    if dropping > 0 {
                        dropping -= 1;
                        continue;
                    }
                    if is_unwrapped(tag.as_ref()) {
                        continue;
                    }
                    blanking = blanking.saturating_sub(1);
                    match local(tag.as_ref()) {
                        b"p" if !scrub_only => {
                            if let Some(paragraph) = open.pop() {
                                paragraphs.push(Paragraph {
                                    text: paragraph.text,
                                    pieces: paragraph.pieces,
                                });
                            }
                        }
                        b"t" | b"instrText" if !scrub_only => {
                            if let Some((start, text)) = in_text.take() {
                                let node = nodes.len();
                                if let Some(paragraph) = open.last_mut() {
                                    paragraph.push(&text, Some(node));
                                }
                                nodes.push(TextNode {
                                    start,
                                    end: events.len(),
                                    text,
                                });
                            }
                        }
                        _ => {}
                    }
                    events.push(Event::End(end.into_owned()));
                }
                Event::Empty(start) => {
                    let tag = start.name();
                    if dropping > 0 || is_dropped(tag.as_ref()) {
                        scrubbed = true;
                        continue;
                    }
                    if !scrub_only && let Some(paragraph) = open.last_mut() {
                        match local(tag.as_ref()) {
                            b"tab" => paragraph.push("\t", None),
                            b"br" | b"cr" => paragraph.push("\n", None),
                            _ => {}
                        }
                    }
                    if relationships
                        && local(tag.as_ref()) == b"Relationship"
                        && attribute_value(name, &start, b"TargetMode")?.as_deref() == Some("External")
                        && let Some(value) = attribute_value(name, &start, b"Target")?
                    {
                        targets.push(Target {
                            event: events.len(),
                            value,
                        });
                    }
                    let (start, replaced) = scrub_attributes(name, &start)?;
                    scrubbed |= replaced;
                    events.push(Event::Empty(start));
                }
                Event::Text(text) => {
                    if dropping > 0 || blanking > 0 {
                        scrubbed = true;
                        continue;
                    }
                    if let Some((_, content)) = in_text.as_mut() {
                        content.push_str(&text.xml10_content().map_err(|error| xml_error(name, error))?);
                    }
                    events.push(Event::Text(text.into_owned()));
                }
                Event::GeneralRef(reference) => {
                    if dropping > 0 || blanking > 0 {
                        scrubbed = true;
                        continue;
                    }
                    let text = reference_text(&reference)?;
                    if let Some((_, content)) = in_text.as_mut() {
                        content.push_str(&text);
                    }
                    events.push(Event::GeneralRef(reference.into_owned()));
                }
                Event::CData(_) | Event::Comment(_) | Event::PI(_) => {
                    // Comments and processing instructions are not kept: they can hold
                    // anything, and Word does not need them.
                    scrubbed = true;
                }
                Event::Decl(declaration) => events.push(Event::Decl(declaration.into_owned())),
            }
        }
        Ok(Part {
            name: name.to_owned(),
            events,
            nodes,
            paragraphs,
            targets,
            changed: scrubbed,
        })
    }

    /// The part's XML with the new texts and targets.
    pub(super) fn serialize(&self) -> Result<Vec<u8>, DocumentError> {
        let mut writer = Writer::new(Vec::new());
        let node_at: std::collections::BTreeMap<usize, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| (node.start, index))
            .collect();
        let target_at: std::collections::BTreeMap<usize, usize> = self
            .targets
            .iter()
            .enumerate()
            .map(|(index, target)| (target.event, index))
            .collect();
        let write = |writer: &mut Writer<Vec<u8>>, event: Event<'_>| {
            writer
                .write_event(event)
                .map_err(|error| DocumentError::Corrupt(format!("{}: {error}", self.name)))
        };
        let mut index = 0;
        while index < self.events.len() {
            let event = &self.events[index];
            if let Some(&node) = node_at.get(&index)
                && let Event::Start(start) = event
            {
                let node = &self.nodes[node];
                let mut start = start.clone();
                if attribute_value(&self.name, &start, b"xml:space")?.is_none() {
                    start.push_attribute(("xml:space", "preserve"));
                }
                write(&mut writer, Event::Start(start))?;
                write(&mut writer, Event::Text(BytesText::new(&node.text)))?;
                write(&mut writer, self.events[node.end].clone())?;
                index = node.end + 1;
                continue;
            }
            if let Some(&target) = target_at.get(&index)
                && let Event::Empty(start) = event
            {
                let mut replaced = BytesStart::new(String::from_utf8_lossy(start.name().as_ref()).into_owned());
                for attribute in start.attributes() {
                    let attribute = attribute.map_err(|error| xml_error(&self.name, error))?;
                    if attribute.key.as_ref() == b"Target" {
                        replaced.push_attribute(("Target", self.targets[target].value.as_str()));
                    } else {
                        replaced.push_attribute(attribute);
                    }
                }
                write(&mut writer, Event::Empty(replaced))?;
                index += 1;
                continue;
            }
            write(&mut writer, event.clone())?;
            index += 1;
        }
        Ok(writer.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(name: &str, xml: &str) -> (bool, String) {
        let part = Part::parse(name, xml.as_bytes()).unwrap();
        (part.changed, String::from_utf8(part.serialize().unwrap()).unwrap())
    }

    #[test]
    fn what_parsing_scrubs_makes_the_part_be_written_back() {
        // Moved-away text (no "del", no "Change" in it) is dropped, and the part rewritten.
        let (changed, xml) = written(
            "word/document.xml",
            r#"<w:body><w:p><w:moveFrom w:id="1"><w:r><w:t>Juan Pérez</w:t></w:r></w:moveFrom><w:moveTo w:id="2"><w:r><w:t>ahora</w:t></w:r></w:moveTo></w:p></w:body>"#,
        );
        assert!(changed);
        assert!(!xml.contains("Juan") && xml.contains("ahora"), "{xml}");

        let (changed, xml) = written(
            "word/people.xml",
            r#"<w15:people><w15:person w15:author="Ana Ruiz"><w15:presenceInfo w15:providerId="AD" w15:userId="ana.ruiz@example.com"/></w15:person></w15:people>"#,
        );
        assert!(changed);
        assert!(!xml.contains("Ana") && !xml.contains("ana.ruiz"), "{xml}");

        let (changed, xml) = written(
            "docProps/custom.xml",
            r#"<Properties><property name="Cliente"><vt:lpwstr>Ana Ruiz</vt:lpwstr></property></Properties>"#,
        );
        assert!(changed);
        assert!(!xml.contains("Ana"), "{xml}");

        let (changed, xml) = written(
            "docProps/app.xml",
            r#"<Properties><Company>Clínica Ruiz S.L.</Company><Pages>1</Pages></Properties>"#,
        );
        assert!(changed);
        assert!(!xml.contains("Ruiz") && xml.contains("<Pages>1</Pages>"), "{xml}");

        // Nothing to scrub: the part is copied as it was.
        let (changed, _) = written(
            "word/header1.xml",
            r#"<w:hdr><w:p><w:r><w:t>Página</w:t></w:r></w:p></w:hdr>"#,
        );
        assert!(!changed);
    }
}
