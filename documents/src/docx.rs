//! Word documents (DOCX): the text of the body, headers, footers, footnotes, endnotes,
//! comments, text boxes and tables, rewritten inside the runs it came from.
//!
//! A paragraph's text is assembled across its runs, so a name split over two `w:r`
//! elements is one entity; a replacement is written into the text node where the entity
//! starts, and the rest of the entity is cut from the nodes it spans, which keeps every
//! run's formatting. Only the parts that change are rewritten; every other part (images,
//! the theme, styles, settings) is copied byte for byte, compressed as it was.
//!
//! What is scrubbed besides the text: the authors in the core and app properties, custom
//! property values, comment authors and initials, the people list, and tracked changes:
//! deleted and moved-away text is dropped, insertions are kept as plain text, and the
//! records of formatting changes go with their authors.
//!
//! The XML is read without DTD processing: a part with a document type declaration is
//! refused, and only XML's five predefined entities and character references are read.

use std::io::{Cursor, Read, Write};

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::reader::Reader;
use quick_xml::writer::Writer;
use zip::write::SimpleFileOptions;

use super::{DocumentError, Limits};

/// A part of the package whose text is anonymized.
fn is_text_part(name: &str) -> bool {
    name == "word/document.xml"
        || name == "word/footnotes.xml"
        || name == "word/endnotes.xml"
        || name == "word/comments.xml"
        || (name.starts_with("word/header") && name.ends_with(".xml"))
        || (name.starts_with("word/footer") && name.ends_with(".xml"))
}

/// A part whose metadata is scrubbed without detection.
fn is_scrubbed_part(name: &str) -> bool {
    matches!(
        name,
        "docProps/core.xml" | "docProps/app.xml" | "docProps/custom.xml" | "word/people.xml"
    )
}

/// Relationship parts, whose external targets (`mailto:` links) are anonymized.
fn is_relationship_part(name: &str) -> bool {
    name.ends_with(".rels")
}

/// One paragraph's text and the pieces it is made of.
#[derive(Debug, Clone)]
pub struct Paragraph {
    pub text: String,
    pieces: Vec<Piece>,
}

/// A stretch of a paragraph's text: a text node's content, or a tab or line break that
/// cannot be edited.
#[derive(Debug, Clone)]
struct Piece {
    chars: usize,
    node: Option<usize>,
}

/// A text element (`w:t`, `w:instrText`, DrawingML's `a:t`): its events and its text.
#[derive(Debug, Clone)]
struct TextNode {
    start: usize,
    end: usize,
    text: String,
}

/// An external relationship target: its event and its value.
#[derive(Debug, Clone)]
struct Target {
    event: usize,
    value: String,
}

/// A parsed XML part.
#[derive(Debug)]
struct Part {
    name: String,
    events: Vec<Event<'static>>,
    nodes: Vec<TextNode>,
    paragraphs: Vec<Paragraph>,
    targets: Vec<Target>,
    changed: bool,
}

/// An opened Word document.
#[derive(Debug)]
pub struct Docx {
    bytes: Vec<u8>,
    parts: Vec<Part>,
}

/// A unit of text to anonymize: a paragraph of a part, or a relationship target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRef {
    pub part: usize,
    pub kind: UnitKind,
    pub index: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Paragraph,
    Target,
}

impl Docx {
    /// Opens a DOCX file.
    pub fn open(bytes: &[u8], limits: &Limits) -> Result<Docx, DocumentError> {
        let mut archive = open_archive(bytes, limits)?;
        if archive.index_for_name("word/document.xml").is_none() {
            return Err(DocumentError::Mislabeled {
                expected: "DOCX",
                found: "a ZIP archive without word/document.xml".into(),
            });
        }
        let mut parts = Vec::new();
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).map_err(corrupt)?;
            let name = file.name().map_err(corrupt)?.into_owned();
            if !(is_text_part(&name) || is_scrubbed_part(&name) || is_relationship_part(&name)) {
                continue;
            }
            let mut xml = Vec::new();
            file.by_ref()
                .take(limits.max_uncompressed_bytes + 1)
                .read_to_end(&mut xml)
                .map_err(|error| DocumentError::Corrupt(format!("{name}: {error}")))?;
            if xml.len() as u64 > limits.max_uncompressed_bytes {
                return Err(DocumentError::ZipBomb(format!("{name} expands past the limit")));
            }
            parts.push(Part::parse(&name, &xml)?);
        }
        Ok(Docx {
            bytes: bytes.to_vec(),
            parts,
        })
    }

    /// Every text unit, with its text.
    pub fn units(&self) -> Vec<(UnitRef, String)> {
        let mut units = Vec::new();
        for (part_index, part) in self.parts.iter().enumerate() {
            if is_text_part(&part.name) {
                for (index, paragraph) in part.paragraphs.iter().enumerate() {
                    if !paragraph.text.trim().is_empty() {
                        units.push((
                            UnitRef {
                                part: part_index,
                                kind: UnitKind::Paragraph,
                                index,
                            },
                            paragraph.text.clone(),
                        ));
                    }
                }
            }
            for (index, target) in part.targets.iter().enumerate() {
                units.push((
                    UnitRef {
                        part: part_index,
                        kind: UnitKind::Target,
                        index,
                    },
                    target.value.clone(),
                ));
            }
        }
        units
    }

    /// The name of a unit's part.
    pub fn part_name(&self, unit: &UnitRef) -> &str {
        &self.parts[unit.part].name
    }

    /// All text a reader of the file could see or extract, by part: every XML part's text
    /// and attribute values, and each text part's paragraphs assembled across runs. For the
    /// leak check, which must not depend on which parts were rewritten.
    pub fn visible_text(&self) -> Result<Vec<(String, String)>, DocumentError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(self.bytes.as_slice())).map_err(corrupt)?;
        let mut out = Vec::new();
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).map_err(corrupt)?;
            let name = file.name().map_err(corrupt)?.into_owned();
            if !(name.ends_with(".xml") || name.ends_with(".rels")) {
                continue;
            }
            let mut text = String::new();
            if let Some(part) = self.parts.iter().find(|part| part.name == name) {
                for paragraph in &part.paragraphs {
                    text.push_str(&paragraph.text);
                    text.push('\n');
                }
                text.push_str(&all_text(&part.events));
            } else {
                let mut xml = Vec::new();
                file.read_to_end(&mut xml)
                    .map_err(|error| DocumentError::Corrupt(format!("{name}: {error}")))?;
                text.push_str(&all_text(&raw_events(&name, &xml)?));
            }
            out.push((name, text));
        }
        Ok(out)
    }

    /// Replaces a unit's text. `new_text` gives, for each input character of the unit, what
    /// to write: see [`Rewrite`].
    pub fn rewrite(&mut self, unit: &UnitRef, rewrite: &Rewrite) {
        let part = &mut self.parts[unit.part];
        match unit.kind {
            UnitKind::Paragraph => {
                let paragraph = &part.paragraphs[unit.index];
                let pieces = paragraph.pieces.clone();
                let texts = rewrite.split(&pieces);
                for (piece, text) in pieces.iter().zip(texts) {
                    if let (Some(node), Some(text)) = (piece.node, text) {
                        part.nodes[node].text = text;
                        part.changed = true;
                    }
                }
            }
            UnitKind::Target => {
                part.targets[unit.index].value = rewrite.output.clone();
                part.changed = true;
            }
        }
    }

    /// The document with its changed parts rewritten and every other part copied as it was.
    pub fn save(&self) -> Result<Vec<u8>, DocumentError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(self.bytes.as_slice())).map_err(corrupt)?;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(self.bytes.len())));
        for index in 0..archive.len() {
            let name = archive
                .by_index_raw(index)
                .map_err(corrupt)?
                .name()
                .map_err(corrupt)?
                .into_owned();
            match self.parts.iter().find(|part| part.name == name) {
                Some(part) if part.changed => {
                    writer
                        .start_file(
                            name.as_str(),
                            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
                        )
                        .map_err(corrupt)?;
                    writer
                        .write_all(&part.serialize()?)
                        .map_err(|error| DocumentError::Corrupt(error.to_string()))?;
                }
                Some(_) | None => {
                    writer
                        .raw_copy_file(archive.by_index_raw(index).map_err(corrupt)?)
                        .map_err(corrupt)?;
                }
            }
        }
        Ok(writer.finish().map_err(corrupt)?.into_inner())
    }
}

/// What one unit becomes: the anonymized text, and the replaced spans as input code-point
/// ranges with their output text.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    pub input: Vec<char>,
    pub output: String,
    /// (input start, input end, replacement), sorted, not overlapping.
    pub spans: Vec<(usize, usize, String)>,
}

impl Rewrite {
    /// The new text of each piece, `None` for pieces that cannot be edited. A replacement
    /// goes where its span starts (or into the first editable piece after, when it starts
    /// on a tab); the rest of the span is cut.
    fn split(&self, pieces: &[Piece]) -> Vec<Option<String>> {
        let mut out = Vec::with_capacity(pieces.len());
        let mut position = 0;
        let mut span = 0;
        let mut pending: Option<&str> = None;
        for piece in pieces {
            let mut text = String::new();
            for index in position..position + piece.chars {
                while span < self.spans.len() && self.spans[span].1 <= index {
                    span += 1;
                }
                match self.spans.get(span) {
                    Some((start, _, replacement)) if *start <= index => {
                        if index == *start {
                            pending = Some(replacement.as_str());
                        }
                        if piece.node.is_some()
                            && let Some(replacement) = pending.take()
                        {
                            text.push_str(replacement);
                        }
                    }
                    Some(_) | None => {
                        if piece.node.is_some()
                            && let Some(replacement) = pending.take()
                        {
                            text.push_str(replacement);
                        }
                        text.push(self.input.get(index).copied().unwrap_or(' '));
                    }
                }
            }
            if piece.node.is_some()
                && let Some(replacement) = pending.take()
            {
                text.push_str(replacement);
            }
            position += piece.chars;
            out.push(piece.node.map(|_| text));
        }
        out
    }
}

/// A new Word document holding `text`: a paragraph per line, a page break per form feed.
/// For exports of other formats to DOCX; the input's layout is not kept.
pub fn write_text(text: &str) -> Result<Vec<u8>, DocumentError> {
    let escape = |line: &str| -> String {
        let mut out = String::with_capacity(line.len());
        for character in line.chars() {
            match character {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\t' => out.push_str("</w:t><w:tab/><w:t xml:space=\"preserve\">"),
                // XML 1.0 has no other control characters.
                character if character.is_control() => out.push(' '),
                character => out.push(character),
            }
        }
        out
    };
    let mut body = String::new();
    for (index, page) in text.split('\u{c}').enumerate() {
        if index > 0 {
            body.push_str("<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
        }
        for line in page.trim_matches('\n').lines() {
            body.push_str("<w:p><w:r><w:t xml:space=\"preserve\">");
            body.push_str(&escape(line));
            body.push_str("</w:t></w:r></w:p>");
        }
    }
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "word/document.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr></w:body></w:document>"#
            ),
        ),
    ];
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in parts {
        writer.start_file(name, options).map_err(corrupt)?;
        writer
            .write_all(content.as_bytes())
            .map_err(|error| DocumentError::Corrupt(error.to_string()))?;
    }
    Ok(writer.finish().map_err(corrupt)?.into_inner())
}

fn corrupt(error: zip::result::ZipError) -> DocumentError {
    if let zip::result::ZipError::InvalidPassword = error {
        return DocumentError::Encrypted;
    }
    if let zip::result::ZipError::UnsupportedArchive(message) = &error
        && (message.contains("encrypt") || message.contains("Password"))
    {
        return DocumentError::Encrypted;
    }
    DocumentError::Corrupt(error.to_string())
}

/// Opens the ZIP container, refusing archives that would expand past the limits.
fn open_archive<'a>(bytes: &'a [u8], limits: &Limits) -> Result<zip::ZipArchive<Cursor<&'a [u8]>>, DocumentError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if archive.len() > limits.max_zip_entries {
        return Err(DocumentError::ZipBomb(format!(
            "{} entries; at most {} are read",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(corrupt)?;
        if file.encrypted() {
            return Err(DocumentError::Encrypted);
        }
        total = total.saturating_add(file.size());
        let ratio = file.size() / file.compressed_size().max(1);
        if file.size() > 1 << 20 && ratio > limits.max_zip_ratio {
            return Err(DocumentError::ZipBomb(format!(
                "{} expands {ratio} times; at most {} is read",
                file.name().map_err(corrupt)?,
                limits.max_zip_ratio
            )));
        }
    }
    if total > limits.max_uncompressed_bytes {
        return Err(DocumentError::ZipBomb(format!(
            "{total} bytes uncompressed; at most {} are read",
            limits.max_uncompressed_bytes
        )));
    }
    Ok(archive)
}

/// The local part of an element name (`w:t` → `t`).
fn local(name: &[u8]) -> &[u8] {
    name.iter()
        .position(|&byte| byte == b':')
        .map_or(name, |colon| &name[colon + 1..])
}

/// Elements dropped with everything inside them: deleted and moved-away text, and records
/// of formatting changes (which name their authors).
fn is_dropped(name: &[u8]) -> bool {
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
fn is_unwrapped(name: &[u8]) -> bool {
    matches!(local(name), b"ins" | b"moveTo")
}

/// Property elements whose text is blanked.
fn is_blanked(part: &str, name: &[u8]) -> bool {
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

/// The text of an XML reference (`&amp;`, `&#233;`); other entities are refused.
fn reference_text(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, DocumentError> {
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

fn xml_error(part: &str, error: impl std::fmt::Display) -> DocumentError {
    DocumentError::Corrupt(format!("{part}: {error}"))
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
fn scrub_attributes(part: &str, start: &BytesStart<'_>) -> Result<(BytesStart<'static>, bool), DocumentError> {
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

/// The decoded value of an attribute.
fn attribute_value(part: &str, start: &BytesStart<'_>, key: &[u8]) -> Result<Option<String>, DocumentError> {
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
fn all_text(events: &[Event<'static>]) -> String {
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
fn raw_events(name: &str, xml: &[u8]) -> Result<Vec<Event<'static>>, DocumentError> {
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
    fn parse(name: &str, xml: &[u8]) -> Result<Part, DocumentError> {
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
    fn serialize(&self) -> Result<Vec<u8>, DocumentError> {
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
