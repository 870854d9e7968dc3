//! Writing new PDFs from text, for exports of other formats, in the standard Helvetica.

use super::*;

/// Text in WinAnsi, the standard font's encoding; other characters become `?`.
pub(super) fn win_ansi(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let mut out = bytes.into_owned();
    if out.len() != text.chars().count() {
        out = text
            .chars()
            .map(|character| {
                let mut buffer = [0_u8; 4];
                let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(character.encode_utf8(&mut buffer));
                if unmappable || encoded.len() != 1 {
                    b'?'
                } else {
                    encoded[0]
                }
            })
            .collect();
    }
    out
}

/// A new PDF holding `text` on A4 pages in Helvetica 10 pt: lines wrapped at word breaks
/// to the margins, a new page per form feed or when a page is full. For exports of other
/// formats to PDF; the input's layout is not kept. Helvetica is a standard font every
/// reader has, in the Windows-1252 character set: text with a character outside it is
/// refused, naming the character, rather than written with a hole.
pub fn write_text(text: &str) -> Result<Vec<u8>, DocumentError> {
    const PAGE: (f32, f32) = (595.0, 842.0);
    const MARGIN: f32 = 56.0;
    const SIZE: f32 = 10.0;
    const LEADING: f32 = 13.0;
    let text = text.replace('\t', "    ").replace("\r\n", "\n");
    if let Some(character) = text.chars().find(|&character| {
        !matches!(character, '\n' | '\u{c}') && win_ansi(&character.to_string()) == b"?" && character != '?'
    }) {
        return Err(DocumentError::Unsupported(format!(
            "the PDF export writes Helvetica, which has no U+{:04X} ({character}); export as txt, docx or json",
            u32::from(character)
        )));
    }
    let widths = standard_widths(b"Helvetica").ok_or_else(|| DocumentError::Corrupt("no Helvetica widths".into()))?;
    let width_of = |word: &str| -> f32 {
        win_ansi(word)
            .iter()
            .map(|&code| {
                widths
                    .get(usize::from(code).wrapping_sub(32))
                    .copied()
                    .unwrap_or(DEFAULT_WIDTH)
            })
            .sum::<f32>()
            * SIZE
            / 1000.0
    };
    let usable = PAGE.0 - 2.0 * MARGIN;
    let lines_per_page = ((PAGE.1 - 2.0 * MARGIN) / LEADING) as usize;
    // Pages of lines, each line already cut to the width.
    let mut pages: Vec<Vec<String>> = Vec::new();
    for page_text in text.split('\u{c}') {
        let mut lines: Vec<String> = Vec::new();
        for paragraph in page_text.trim_matches('\n').split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if width_of(&candidate) <= usable || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_owned();
                }
                // A word wider than the line is cut where it reaches the margin.
                while width_of(&line) > usable && line.chars().count() > 1 {
                    let mut cut = line.chars().count() - 1;
                    while cut > 1 && width_of(&line.chars().take(cut).collect::<String>()) > usable {
                        cut -= 1;
                    }
                    let rest: String = line.chars().skip(cut).collect();
                    lines.push(line.chars().take(cut).collect());
                    line = rest;
                }
            }
            lines.push(line);
        }
        for chunk in lines.chunks(lines_per_page.max(1)) {
            pages.push(chunk.to_vec());
        }
        if lines.is_empty() {
            pages.push(Vec::new());
        }
    }
    let mut document = Document::with_version("1.7");
    let pages_id = document.new_object_id();
    let font = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let mut kids = Vec::with_capacity(pages.len());
    for lines in &pages {
        let mut content = String::from("BT /F1 10 Tf 13 TL\n");
        content.push_str(&format!("{MARGIN} {} Td\n", PAGE.1 - MARGIN - SIZE));
        for line in lines {
            content.push_str(&pdf_literal(&win_ansi(line)));
            content.push_str(" Tj T*\n");
        }
        content.push_str("ET\n");
        let mut stream = lopdf::Stream::new(Dictionary::new(), content.into_bytes());
        stream.compress().map_err(pdf_error)?;
        let content_id = document.add_object(stream);
        kids.push(Object::Reference(document.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), PAGE.0.into(), PAGE.1.into()],
            "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        })));
    }
    let count = kids.len() as i64;
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog);
    let mut out = Vec::new();
    document
        .save_to(&mut out)
        .map_err(|error| DocumentError::Corrupt(error.to_string()))?;
    Ok(out)
}

/// A PDF literal string.
pub(super) fn pdf_literal(bytes: &[u8]) -> String {
    let mut out = String::from("(");
    for &byte in bytes {
        match byte {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7E => out.push(byte as char),
            other => out.push_str(&format!("\\{other:03o}")),
        }
    }
    out.push(')');
    out
}
