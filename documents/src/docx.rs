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

use quick_xml::events::Event;
use zip::write::SimpleFileOptions;

use super::{DocumentError, Limits};

mod archive;
mod part;
mod rewrite;
mod scrub;
mod writer;
mod xml;

pub use rewrite::Rewrite;
pub use writer::write_text;

use archive::{corrupt, open_archive};
use xml::{all_text, raw_events};

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
