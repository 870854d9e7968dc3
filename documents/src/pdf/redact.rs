//! Redaction: the boxes a span's glyphs cover, and the content with their codes cut out of
//! the show operators.

use super::*;

/// The page's resources as its own dictionary (copying inherited ones), so that adding a
/// font changes this page only.
pub(super) fn own_resources(document: &mut Document, page_id: ObjectId) -> Result<Dictionary, DocumentError> {
    let (own, inherited) = document.get_page_resources(page_id).map_err(pdf_error)?;
    let mut resources = own.cloned().unwrap_or_default();
    for id in inherited {
        if let Ok(dictionary) = document.get_dictionary(id) {
            for (key, value) in dictionary.iter() {
                if !resources.has(key) {
                    resources.set(key.clone(), value.clone());
                }
            }
        }
    }
    let page = document.get_dictionary_mut(page_id).map_err(pdf_error)?;
    page.set("Resources", Object::Dictionary(resources.clone()));
    Ok(resources)
}

/// The boxes covering a span's glyphs, one per line.
pub(super) fn span_boxes(glyphs: &[Glyph], span: &Range<usize>) -> Vec<[f32; 4]> {
    let mut boxes: Vec<[f32; 4]> = Vec::new();
    for glyph in glyphs
        .iter()
        .filter(|glyph| glyph.chars.start < span.end && glyph.chars.end > span.start)
    {
        let [x0, y0, x1, y1] = glyph.bounds;
        match boxes.last_mut() {
            Some(last) if (last[1] - y0).abs() < (y1 - y0) * 0.5 => {
                last[0] = last[0].min(x0);
                last[1] = last[1].min(y0);
                last[2] = last[2].max(x1);
                last[3] = last[3].max(y1);
            }
            Some(_) | None => boxes.push([x0, y0, x1, y1]),
        }
    }
    boxes
}

/// The content with the removed glyphs' codes cut out of their show operations.
pub(super) fn rewrite_operations(operations: &[Operation], removed: &[&Glyph]) -> Vec<Operation> {
    let mut by_operation: BTreeMap<usize, Vec<&Glyph>> = BTreeMap::new();
    for glyph in removed {
        by_operation.entry(glyph.operation).or_default().push(glyph);
    }
    let mut out = Vec::with_capacity(operations.len() + by_operation.len() * 3);
    for (index, operation) in operations.iter().enumerate() {
        let Some(glyphs) = by_operation.get(&index) else {
            out.push(operation.clone());
            continue;
        };
        let (strings, prefix): (Vec<Object>, Vec<Operation>) = match operation.operator.as_str() {
            "Tj" => (operation.operands.clone(), Vec::new()),
            "TJ" => (
                operation
                    .operands
                    .first()
                    .and_then(|array| array.as_array().ok())
                    .cloned()
                    .unwrap_or_default(),
                Vec::new(),
            ),
            "'" => (operation.operands.clone(), vec![Operation::new("T*", Vec::new())]),
            "\"" => (
                operation.operands.get(2).cloned().into_iter().collect(),
                vec![
                    Operation::new("Tw", operation.operands.first().cloned().into_iter().collect()),
                    Operation::new("Tc", operation.operands.get(1).cloned().into_iter().collect()),
                    Operation::new("T*", Vec::new()),
                ],
            ),
            _ => {
                out.push(operation.clone());
                continue;
            }
        };
        out.extend(prefix);
        let mut array: Vec<Object> = Vec::new();
        let mut string_index = 0;
        for element in &strings {
            if let Object::String(bytes, format) = element {
                let format = *format;
                let cut: Vec<&&Glyph> = glyphs.iter().filter(|glyph| glyph.string == string_index).collect();
                let mut kept = Vec::new();
                let mut position = 0;
                let mut pending_gap = 0.0_f32;
                let mut ranges: Vec<(Range<usize>, f32)> =
                    cut.iter().map(|glyph| (glyph.bytes.clone(), glyph.advance)).collect();
                ranges.sort_by_key(|(range, _)| range.start);
                for (range, advance) in ranges {
                    if range.start > position {
                        if pending_gap != 0.0 {
                            push_gap(&mut array, pending_gap);
                            pending_gap = 0.0;
                        }
                        kept.extend_from_slice(&bytes[position..range.start]);
                    }
                    if !kept.is_empty() {
                        array.push(Object::String(std::mem::take(&mut kept), format));
                    }
                    pending_gap += advance;
                    position = range.end;
                }
                if pending_gap != 0.0 {
                    push_gap(&mut array, pending_gap);
                }
                if position < bytes.len() {
                    array.push(Object::String(bytes[position..].to_vec(), format));
                }
                string_index += 1;
            } else {
                array.push(element.clone());
            }
        }
        out.push(Operation::new("TJ", vec![Object::Array(array)]));
    }
    out
}

/// A displacement of `advance` thousandths of the font size to the right.
pub(super) fn push_gap(array: &mut Vec<Object>, advance: f32) {
    if let Some(Object::Real(previous)) = array.last_mut() {
        *previous -= advance;
    } else {
        array.push(Object::Real(-advance));
    }
}
