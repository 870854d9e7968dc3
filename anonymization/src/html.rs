//! HTML: only text nodes and chosen attributes are scanned and rewritten; the markup is
//! copied byte for byte, so the document stays as valid as it was.
//!
//! Scanned: text between tags (not inside `script`, `style`, `textarea`'s raw-text kin or
//! comments), and the `alt` and `title` attributes and `href` values that start with
//! `mailto:` or `tel:`. Character references are decoded for detection (so
//! "Juan&nbsp;Pérez" is a name) and a replacement takes the place of the source bytes it
//! came from, escaped for HTML.

use std::ops::Range;

/// A piece of an HTML document that may hold PII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scannable {
    /// Byte range in the document.
    pub range: Range<usize>,
    /// Decoded text.
    pub text: String,
    /// Byte offset in the document of each decoded character, plus one for the end.
    pub offsets: Vec<usize>,
}

/// Elements whose content is not text.
const RAW_TEXT: &[&str] = &[
    "script", "style", "template", "noscript", "xmp", "iframe", "noembed", "noframes",
];

/// The scannable pieces of a document, in order.
pub fn scannable(html: &str) -> Vec<Scannable> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut position = 0;
    let mut text_start = 0;
    while position < bytes.len() {
        if bytes[position] != b'<' {
            position += 1;
            continue;
        }
        let next = bytes.get(position + 1).copied().unwrap_or(b' ');
        if !(next.is_ascii_alphabetic() || next == b'/' || next == b'!' || next == b'?') {
            position += 1;
            continue;
        }
        push_text(html, text_start..position, &mut out);
        if html[position..].starts_with("<!--") {
            position = html[position + 4..]
                .find("-->")
                .map_or(bytes.len(), |end| position + 4 + end + 3);
            text_start = position;
            continue;
        }
        let end = tag_end(bytes, position);
        let tag = &html[position..end];
        let name: String = tag
            .trim_start_matches('<')
            .chars()
            .take_while(|character| character.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if next.is_ascii_alphabetic() {
            attributes(html, position, end, &mut out);
        }
        position = end;
        if next.is_ascii_alphabetic() && RAW_TEXT.contains(&name.as_str()) {
            // Skip to the closing tag.
            let closing = format!("</{name}");
            position = html[position..]
                .to_ascii_lowercase()
                .find(&closing)
                .map_or(bytes.len(), |offset| position + offset);
        }
        text_start = position;
    }
    push_text(html, text_start..bytes.len(), &mut out);
    out
}

/// The end (exclusive) of the tag starting at `start`, past quoted attribute values.
fn tag_end(bytes: &[u8], start: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (index, &byte) in bytes.iter().enumerate().skip(start + 1) {
        match quote {
            Some(open) if byte == open => quote = None,
            Some(_) => {}
            None if byte == b'"' || byte == b'\'' => quote = Some(byte),
            None if byte == b'>' => return index + 1,
            None => {}
        }
    }
    bytes.len()
}

fn push_text(html: &str, range: Range<usize>, out: &mut Vec<Scannable>) {
    if range.is_empty() || html[range.clone()].trim().is_empty() {
        return;
    }
    out.push(decode(html, range));
}

/// The scanned attributes of the tag in `start..end`.
fn attributes(html: &str, start: usize, end: usize, out: &mut Vec<Scannable>) {
    let bytes = html.as_bytes();
    let mut position = start + 1;
    // Past the tag name.
    while position < end && !bytes[position].is_ascii_whitespace() && bytes[position] != b'>' {
        position += 1;
    }
    while position < end {
        while position < end && (bytes[position].is_ascii_whitespace() || bytes[position] == b'/') {
            position += 1;
        }
        let name_start = position;
        while position < end && !matches!(bytes[position], b'=' | b'>' | b'/') && !bytes[position].is_ascii_whitespace()
        {
            position += 1;
        }
        let name = html[name_start..position].to_ascii_lowercase();
        while position < end && bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        if position >= end || bytes[position] != b'=' {
            if position == name_start {
                position += 1;
            }
            continue;
        }
        position += 1;
        while position < end && bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        let (value_start, value_end) = match bytes.get(position) {
            Some(&quote @ (b'"' | b'\'')) => {
                let close = html[position + 1..end]
                    .find(quote as char)
                    .map_or(end, |offset| position + 1 + offset);
                let range = (position + 1, close);
                position = close + 1;
                range
            }
            _ => {
                let value_start = position;
                while position < end && !bytes[position].is_ascii_whitespace() && bytes[position] != b'>' {
                    position += 1;
                }
                (value_start, position)
            }
        };
        let value = &html[value_start..value_end];
        let scanned_start = match name.as_str() {
            "alt" | "title" => Some(value_start),
            "href" => ["mailto:", "tel:"]
                .iter()
                .find(|scheme| value.len() >= scheme.len() && value[..scheme.len()].eq_ignore_ascii_case(scheme))
                .map(|scheme| value_start + scheme.len()),
            _ => None,
        };
        if let Some(scanned_start) = scanned_start
            && scanned_start < value_end
        {
            out.push(decode(html, scanned_start..value_end));
        }
    }
}

/// Decodes character references in `range`, keeping each character's source offset.
fn decode(html: &str, range: Range<usize>) -> Scannable {
    let source = &html[range.clone()];
    let mut text = String::with_capacity(source.len());
    let mut offsets = Vec::with_capacity(source.len() + 1);
    let mut index = 0;
    while index < source.len() {
        let rest = &source[index..];
        if rest.starts_with('&')
            && let Some((character, length)) = reference(rest)
        {
            text.push(character);
            offsets.push(range.start + index);
            index += length;
            continue;
        }
        let character = rest.chars().next().unwrap_or(' ');
        text.push(character);
        offsets.push(range.start + index);
        index += character.len_utf8();
    }
    offsets.push(range.end);
    Scannable { range, text, offsets }
}

/// The character a reference at the start of `text` stands for, and its length.
fn reference(text: &str) -> Option<(char, usize)> {
    // Searched as bytes: the twelve-byte window may end inside a character.
    let end = text.as_bytes()[..text.len().min(12)]
        .iter()
        .position(|&byte| byte == b';')?;
    let body = &text[1..end];
    let character = if let Some(number) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
        char::from_u32(u32::from_str_radix(number, 16).ok()?)?
    } else if let Some(number) = body.strip_prefix('#') {
        char::from_u32(number.parse().ok()?)?
    } else {
        match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{a0}',
            "aacute" => 'á',
            "eacute" => 'é',
            "iacute" => 'í',
            "oacute" => 'ó',
            "uacute" => 'ú',
            "ntilde" => 'ñ',
            "Aacute" => 'Á',
            "Eacute" => 'É',
            "Iacute" => 'Í',
            "Oacute" => 'Ó',
            "Uacute" => 'Ú',
            "Ntilde" => 'Ñ',
            "uuml" => 'ü',
            "ccedil" => 'ç',
            _ => return None,
        }
    };
    Some((character, end + 1))
}

/// `text` escaped for an HTML text node or a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A replacement of decoded characters `start..end` of a scannable piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Byte range in the document.
    pub range: Range<usize>,
    /// Already escaped.
    pub replacement: String,
}

/// The document with `edits` (in any order, not overlapping) applied.
pub fn apply_edits(html: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| edit.range.start);
    let mut out = String::with_capacity(html.len());
    let mut position = 0;
    for edit in edits {
        if edit.range.start < position {
            continue;
        }
        out.push_str(&html[position..edit.range.start]);
        out.push_str(&edit.replacement);
        position = edit.range.end;
    }
    out.push_str(&html[position..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ampersand_before_multibyte_characters_is_text() {
        // Found by fuzzing: the reference window ended inside a character.
        let pieces = scannable("&²²²²²²²²²²²Ws");
        let text: String = pieces.iter().map(|piece| piece.text.as_str()).collect();
        assert_eq!(text, "&²²²²²²²²²²²Ws");
        assert_eq!(reference("&eacute;x"), Some(('é', 8)));
    }

    #[test]
    fn text_nodes_and_chosen_attributes_are_scanned() {
        let html = r#"<!DOCTYPE html><html><head><title>Informe</title><style>p { color: red }</style></head>
<body><p class="nota" title="Paciente Ana">Juan&nbsp;P&eacute;rez &lt;juan@x.es&gt;</p>
<a href="mailto:ana@example.com" data-x="ana@example.com">escribir</a><a href='https://example.com'>web</a>
<img alt=Ana src="ana.png"><!-- Ana López --><script>var ana = "ana@x.es";</script>2 < 3</body></html>"#;
        let pieces: Vec<String> = scannable(html).into_iter().map(|piece| piece.text).collect();
        assert!(pieces.contains(&"Informe".to_owned()));
        assert!(pieces.contains(&"Paciente Ana".to_owned()));
        assert!(pieces.contains(&"Juan\u{a0}Pérez <juan@x.es>".to_owned()), "{pieces:?}");
        assert!(pieces.contains(&"ana@example.com".to_owned()));
        assert!(pieces.contains(&"Ana".to_owned()));
        assert!(
            pieces
                .iter()
                .all(|piece| !piece.contains("color") && !piece.contains("var ana") && !piece.contains("López"))
        );
        assert!(pieces.iter().all(|piece| !piece.contains("https")));
        assert!(pieces.iter().any(|piece| piece.contains("2 < 3")));
    }

    #[test]
    fn offsets_map_decoded_characters_to_source_bytes() {
        let html = "<p>Juan&nbsp;P&eacute;rez</p>";
        let piece = &scannable(html)[0];
        assert_eq!(piece.text, "Juan\u{a0}Pérez");
        // "Pérez" starts at decoded character 5.
        let range = piece.offsets[5]..piece.offsets[10];
        assert_eq!(&html[range.clone()], "P&eacute;rez");
        let edited = apply_edits(
            html,
            vec![Edit {
                range,
                replacement: escape("<X>"),
            }],
        );
        assert_eq!(edited, "<p>Juan&nbsp;&lt;X&gt;</p>");
    }
}
