//! New Word documents written from text, for exports of other formats to DOCX.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use super::archive::corrupt;
use crate::DocumentError;

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
