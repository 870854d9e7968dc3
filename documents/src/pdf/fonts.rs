//! Font metrics: how a font's codes become text and widths (its encoding, `ToUnicode` map,
//! widths, or the standard fonts' widths when it names one without giving them).

use super::*;

/// Glyph width when a font gives none, in thousandths of the font size.
pub(super) const DEFAULT_WIDTH: f32 = 500.0;

/// The standard fonts' widths for codes 32 to 255 (see `fonts/make_standard_widths.py`).
pub(super) static STANDARD_WIDTHS: std::sync::LazyLock<BTreeMap<&'static str, Vec<f32>>> =
    std::sync::LazyLock::new(|| {
        include_str!("../../fonts/standard-widths.tsv")
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let name = fields.next()?;
                Some((name, fields.filter_map(|width| width.parse().ok()).collect()))
            })
            .collect()
    });

/// The widths of a standard font a PDF names without giving widths (`Helvetica`,
/// `ABCDEF+Arial,Bold`), by its nearest standard font.
pub(super) fn standard_widths(base_font: &[u8]) -> Option<&'static Vec<f32>> {
    let name = String::from_utf8_lossy(base_font);
    let name = name
        .split_once('+')
        .map_or(name.as_ref(), |(_, rest)| rest)
        .to_ascii_lowercase();
    let bold = name.contains("bold");
    let slanted = name.contains("italic") || name.contains("oblique");
    let family = if name.contains("courier") || name.contains("mono") {
        "Courier"
    } else if name.contains("times") || name.contains("serif") && !name.contains("sans") {
        "Times"
    } else if name.contains("helvetica") || name.contains("arial") || name.contains("sans") {
        "Helvetica"
    } else {
        return None;
    };
    let style = match (family, bold, slanted) {
        ("Times", false, false) => "-Roman",
        ("Times", true, false) | (_, true, false) => "-Bold",
        ("Times", false, true) => "-Italic",
        ("Times", true, true) => "-BoldItalic",
        (_, false, true) => "-Oblique",
        (_, true, true) => "-BoldOblique",
        (_, false, false) => "",
    };
    STANDARD_WIDTHS.get(format!("{family}{style}").as_str())
}

/// How a font turns codes into text and widths.
pub(super) struct FontInfo<'a> {
    pub(super) encoding: Option<Encoding<'a>>,
    /// Bytes per code: 2 for Type0 fonts, 1 otherwise.
    pub(super) code_length: usize,
    pub(super) widths: BTreeMap<u32, f32>,
    pub(super) default_width: f32,
}

impl FontInfo<'_> {
    pub(super) fn width(&self, code: u32) -> f32 {
        self.widths.get(&code).copied().unwrap_or(self.default_width)
    }

    pub(super) fn text(&self, code_bytes: &[u8]) -> String {
        match &self.encoding {
            Some(encoding) => encoding.bytes_to_string(code_bytes).unwrap_or_default(),
            None => code_bytes
                .iter()
                .map(|&byte| {
                    if byte.is_ascii_graphic() || byte == b' ' {
                        byte as char
                    } else {
                        '\u{FFFD}'
                    }
                })
                .collect(),
        }
    }
}

pub(super) fn font_info<'a>(document: &'a Document, font: &'a Dictionary) -> FontInfo<'a> {
    let type0 = font
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|name| name == b"Type0");
    let encoding = font.get_font_encoding(document).ok();
    let mut widths = BTreeMap::new();
    let mut default_width = DEFAULT_WIDTH;
    let resolve = |object: &'a Object| document.dereference(object).map(|(_, object)| object).ok();
    if type0 {
        let descendant = font
            .get(b"DescendantFonts")
            .ok()
            .and_then(resolve)
            .and_then(|object| object.as_array().ok())
            .and_then(|array| array.first())
            .and_then(resolve)
            .and_then(|object| object.as_dict().ok());
        if let Some(descendant) = descendant {
            if let Some(width) = descendant.get(b"DW").ok().and_then(number) {
                default_width = width;
            } else {
                default_width = 1000.0;
            }
            // W: [first [w1 w2 ...]] or [first last w].
            if let Some(array) = descendant
                .get(b"W")
                .ok()
                .and_then(resolve)
                .and_then(|object| object.as_array().ok())
            {
                let mut index = 0;
                while index + 1 < array.len() {
                    let Some(first) = number(&array[index]) else { break };
                    match resolve(&array[index + 1]) {
                        Some(Object::Array(list)) => {
                            for (offset, width) in list.iter().filter_map(number).enumerate() {
                                widths.insert(first as u32 + offset as u32, width);
                            }
                            index += 2;
                        }
                        Some(last) => {
                            let (Some(last), Some(width)) = (number(last), array.get(index + 2).and_then(number))
                            else {
                                break;
                            };
                            for code in first as u32..=last as u32 {
                                widths.insert(code, width);
                            }
                            index += 3;
                        }
                        None => break,
                    }
                }
            }
        } else {
            default_width = 1000.0;
        }
    } else if let (Some(first), Some(array)) = (
        font.get(b"FirstChar").ok().and_then(number),
        font.get(b"Widths")
            .ok()
            .and_then(resolve)
            .and_then(|object| object.as_array().ok()),
    ) {
        for (offset, width) in array
            .iter()
            .filter_map(|object| resolve(object).and_then(number))
            .enumerate()
        {
            widths.insert(first as u32 + offset as u32, width);
        }
    } else if let Some(standard) = font
        .get(b"BaseFont")
        .and_then(Object::as_name)
        .ok()
        .and_then(standard_widths)
    {
        for (offset, &width) in standard.iter().enumerate() {
            widths.insert(32 + offset as u32, width);
        }
    }
    FontInfo {
        encoding,
        code_length: if type0 { 2 } else { 1 },
        widths,
        default_width,
    }
}
