//! Inline images (`BI` … `ID` … `EI`): a small content lexer that finds them, and their
//! conversion into image XObjects drawn where they were.

use super::*;

/// Inline-image conversions by the content streams they were made from: the new content
/// stream, and the names and ids of the image XObjects it draws.
pub(super) type Converted = BTreeMap<Vec<ObjectId>, (ObjectId, Vec<(Vec<u8>, ObjectId)>)>;

/// Inline images converted on one page at most.
pub(super) const MAX_INLINE_IMAGES: usize = 4096;

/// Whether a byte ends a token in a content stream.
pub(super) fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace() || b"()<>[]{}/%".contains(&byte) || byte == 0
}

/// Where the token starting at `start` ends.
pub(super) fn token_end(content: &[u8], start: usize) -> usize {
    content[start..]
        .iter()
        .position(|&byte| is_delimiter(byte))
        .map_or(content.len(), |offset| start + offset)
}

/// Where a literal string starting at `start` (an opening parenthesis) ends, after its
/// closing parenthesis; nested parentheses and escapes are followed.
pub(super) fn string_end(content: &[u8], start: usize) -> usize {
    let mut depth = 0_usize;
    let mut index = start;
    while index < content.len() {
        match content[index] {
            b'\\' => index += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    content.len()
}

/// The next token at or after `index` that is an operator or keyword, skipping strings,
/// comments and names: its start and end.
pub(super) fn next_keyword(content: &[u8], mut index: usize) -> Option<(usize, usize)> {
    while index < content.len() {
        match content[index] {
            byte if byte.is_ascii_whitespace() => index += 1,
            b'%' => {
                index = content[index..]
                    .iter()
                    .position(|&byte| byte == b'\n' || byte == b'\r')
                    .map_or(content.len(), |offset| index + offset);
            }
            b'(' => index = string_end(content, index),
            b'<' if content.get(index + 1) == Some(&b'<') => index += 2,
            b'>' if content.get(index + 1) == Some(&b'>') => index += 2,
            b'<' => {
                index = content[index..]
                    .iter()
                    .position(|&byte| byte == b'>')
                    .map_or(content.len(), |offset| index + offset + 1);
            }
            b'/' => index = token_end(content, index + 1),
            byte if is_delimiter(byte) => index += 1,
            _ => {
                let end = token_end(content, index);
                return Some((index, end));
            }
        }
    }
    None
}

/// Where an inline image's data that starts at `start` ends, and where its `EI` ends. The
/// data's length is known from the dictionary (`L`, or the size of unfiltered samples);
/// otherwise it ends at the first `EI` between white space (or the end).
pub(super) fn inline_data_end(content: &[u8], start: usize, length: Option<usize>) -> Option<(usize, usize)> {
    let is_end = |index: usize| {
        content.get(index..index + 2) == Some(b"EI") && content.get(index + 2).is_none_or(|&byte| is_delimiter(byte))
    };
    if let Some(length) = length {
        let data_end = start.checked_add(length).filter(|&end| end <= content.len())?;
        let mut index = data_end;
        while content.get(index).is_some_and(u8::is_ascii_whitespace) {
            index += 1;
        }
        if is_end(index) {
            return Some((data_end, index + 2));
        }
    }
    (start..content.len().saturating_sub(1))
        .find(|&index| content[index].is_ascii_whitespace() && is_end(index + 1))
        .map(|index| (index, index + 3))
}

/// An inline image's dictionary with the full names an image XObject uses; a colour space
/// named in the page's resources is taken from there.
pub(super) fn expand_inline_dictionary(
    document: &Document,
    abbreviated: &Dictionary,
    resources: &Dictionary,
) -> Dictionary {
    let full_key = |key: &[u8]| -> Vec<u8> {
        match key {
            b"BPC" => b"BitsPerComponent".to_vec(),
            b"CS" => b"ColorSpace".to_vec(),
            b"D" => b"Decode".to_vec(),
            b"DP" => b"DecodeParms".to_vec(),
            b"F" => b"Filter".to_vec(),
            b"H" => b"Height".to_vec(),
            b"IM" => b"ImageMask".to_vec(),
            b"I" => b"Interpolate".to_vec(),
            b"W" => b"Width".to_vec(),
            other => other.to_vec(),
        }
    };
    let full_name = |name: &[u8]| -> Vec<u8> {
        match name {
            b"AHx" => b"ASCIIHexDecode".to_vec(),
            b"A85" => b"ASCII85Decode".to_vec(),
            b"LZW" => b"LZWDecode".to_vec(),
            b"Fl" => b"FlateDecode".to_vec(),
            b"RL" => b"RunLengthDecode".to_vec(),
            b"CCF" => b"CCITTFaxDecode".to_vec(),
            b"DCT" => b"DCTDecode".to_vec(),
            b"G" => b"DeviceGray".to_vec(),
            b"RGB" => b"DeviceRGB".to_vec(),
            b"CMYK" => b"DeviceCMYK".to_vec(),
            b"I" => b"Indexed".to_vec(),
            other => other.to_vec(),
        }
    };
    let expand_item = |item: &Object| -> Object {
        if let Object::Name(name) = item {
            Object::Name(full_name(name))
        } else {
            item.clone()
        }
    };
    let expand = |value: &Object| -> Object {
        if let Object::Array(items) = value {
            Object::Array(items.iter().map(expand_item).collect())
        } else {
            expand_item(value)
        }
    };
    let mut dictionary = Dictionary::new();
    dictionary.set("Type", Object::Name(b"XObject".to_vec()));
    dictionary.set("Subtype", Object::Name(b"Image".to_vec()));
    for (key, value) in abbreviated.iter() {
        let key = full_key(key);
        if key == b"L" || key == b"Length" {
            continue;
        }
        let value = match key.as_slice() {
            b"Filter" => expand(value),
            b"ColorSpace" => {
                let named = value
                    .as_name()
                    .ok()
                    .filter(|name| {
                        !matches!(
                            *name,
                            b"G" | b"RGB" | b"CMYK" | b"DeviceGray" | b"DeviceRGB" | b"DeviceCMYK"
                        )
                    })
                    .and_then(|name| {
                        dictionary_at(document, resources, b"ColorSpace")?
                            .get(name)
                            .ok()
                            .cloned()
                    });
                named.unwrap_or_else(|| expand(value))
            }
            _ => value.clone(),
        };
        dictionary.set(key, value);
    }
    dictionary
}

/// Turns the inline images of a page's content (`BI` … `ID` … `EI`) into image XObjects drawn
/// where they were (an inline image is drawn in the unit square, as an image XObject is), so
/// that they are read with OCR and written back like any image. lopdf does not keep the data
/// of a filtered inline image (a fax, a JPEG) when it parses content, and would write the
/// page without it.
pub(super) fn inline_images_to_xobjects(
    document: &mut Document,
    page_id: ObjectId,
    limits: &Limits,
    converted: &mut Converted,
) -> Result<(), DocumentError> {
    // Pages that share their content share its conversion too, and its images are read once.
    let contents = document.get_page_contents(page_id);
    if let Some((content_id, images)) = converted.get(&contents).cloned() {
        return draw_converted(document, page_id, content_id, images);
    }
    let content = page_content(document, page_id, limits)?;
    let mut found = Vec::new();
    let mut index = 0;
    while let Some((start, end)) = next_keyword(&content, index) {
        index = end;
        if &content[start..end] != b"BI" {
            continue;
        }
        let corrupt = || DocumentError::Corrupt("a page's content: an inline image without its data".into());
        let mut cursor = end;
        let id_at = loop {
            let (token_start, token_end) = next_keyword(&content, cursor).ok_or_else(corrupt)?;
            if &content[token_start..token_end] == b"ID" {
                break token_start;
            }
            cursor = token_end;
        };
        let parsed = Content::decode(&[b"<<".as_slice(), &content[end..id_at], b">> x".as_slice()].concat()).map_err(
            |error| DocumentError::Corrupt(format!("a page's content: an inline image's dictionary: {error}")),
        )?;
        let Some(Object::Dictionary(abbreviated)) = parsed
            .operations
            .first()
            .and_then(|operation| operation.operands.first())
        else {
            return Err(corrupt());
        };
        // One white-space byte separates `ID` from the data; a CR LF counts as one.
        let separator = if content.get(id_at + 2..id_at + 4) == Some(b"\r\n") {
            2
        } else {
            1
        };
        let data_start = (id_at + 2 + separator).min(content.len());
        let declared = |keys: [&[u8]; 2]| {
            keys.iter()
                .find_map(|key| abbreviated.get(key).ok())
                .and_then(|value| value.as_i64().ok())
                .and_then(|value| usize::try_from(value).ok())
        };
        let filtered = abbreviated.has(b"F") || abbreviated.has(b"Filter");
        let length = declared([b"L", b"Length"]).or_else(|| {
            if filtered {
                return None;
            }
            let mask = abbreviated
                .get(b"IM")
                .or_else(|_| abbreviated.get(b"ImageMask"))
                .and_then(Object::as_bool)
                .unwrap_or(false);
            let bits = if mask {
                1
            } else {
                declared([b"BPC", b"BitsPerComponent"])?
            };
            let components = if mask {
                1
            } else {
                let space = abbreviated
                    .get(b"CS")
                    .or_else(|_| abbreviated.get(b"ColorSpace"))
                    .ok()?;
                match space.as_name() {
                    Ok(b"RGB" | b"DeviceRGB") => 3,
                    Ok(b"CMYK" | b"DeviceCMYK") => 4,
                    Ok(_) | Err(_) => 1,
                }
            };
            let width = declared([b"W", b"Width"])?;
            let height = declared([b"H", b"Height"])?;
            width
                .checked_mul(bits)?
                .checked_mul(components)?
                .div_ceil(8)
                .checked_mul(height)
        });
        let (data_end, after) = inline_data_end(&content, data_start, length).ok_or_else(corrupt)?;
        found.push((start, after, abbreviated.clone(), data_start..data_end));
        if found.len() > MAX_INLINE_IMAGES {
            return Err(DocumentError::Unsupported(format!(
                "a page with more than {MAX_INLINE_IMAGES} inline images"
            )));
        }
        index = after;
    }
    if found.is_empty() {
        return Ok(());
    }
    let resources = own_resources(document, page_id)?;
    let taken = resource_category(document, &resources, b"XObject");
    let mut rewritten = Vec::with_capacity(content.len());
    let mut copied = 0;
    let mut images = Vec::with_capacity(found.len());
    let mut number = 0;
    for (start, after, abbreviated, data) in found {
        let dictionary = expand_inline_dictionary(document, &abbreviated, &resources);
        let mut stream = lopdf::Stream::new(dictionary, content[data].to_vec());
        stream.allows_compression = false;
        let id = document.add_object(stream);
        // A name the page does not use already.
        let name = loop {
            number += 1;
            let name = format!("ObscuraInlineImage{number}");
            if !taken.has(name.as_bytes()) {
                break name;
            }
        };
        rewritten.extend_from_slice(&content[copied..start]);
        rewritten.extend_from_slice(format!("/{name} Do").as_bytes());
        images.push((name.into_bytes(), id));
        copied = after;
    }
    rewritten.extend_from_slice(&content[copied..]);
    let content_id = document.add_object(lopdf::Stream::new(Dictionary::new(), rewritten));
    converted.insert(contents, (content_id, images.clone()));
    draw_converted(document, page_id, content_id, images)
}

/// Gives a page its converted content and the image XObjects it names.
pub(super) fn draw_converted(
    document: &mut Document,
    page_id: ObjectId,
    content_id: ObjectId,
    images: Vec<(Vec<u8>, ObjectId)>,
) -> Result<(), DocumentError> {
    let mut resources = own_resources(document, page_id)?;
    let mut xobjects = resource_category(document, &resources, b"XObject");
    for (name, id) in images {
        xobjects.set(name, id);
    }
    resources.set("XObject", xobjects);
    let page = document.get_dictionary_mut(page_id).map_err(pdf_error)?;
    page.set("Resources", resources);
    page.set("Contents", content_id);
    Ok(())
}
