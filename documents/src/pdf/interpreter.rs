//! The page interpreter: a page's content stream read with its text and graphics state into
//! text, glyphs with their boxes, and the images it draws.

use super::*;

/// Reads one page: its operations, its text and its glyphs.
pub(super) fn read_page(
    document: &Document,
    page_number: u32,
    id: ObjectId,
    limits: &Limits,
) -> Result<PageText, DocumentError> {
    for content_id in document.get_page_contents(id) {
        if document.get_object(content_id).is_err() {
            return Err(DocumentError::Corrupt(format!(
                "page {page_number}: its content is missing"
            )));
        }
    }
    let content = page_content(document, id, limits)?;
    let operations = Content::decode(&content)
        .map_err(|error| DocumentError::Corrupt(format!("page {page_number}: {error}")))?
        .operations;
    let font_dictionaries = document.get_page_fonts(id).unwrap_or_default();
    let fonts: BTreeMap<Vec<u8>, FontInfo<'_>> = font_dictionaries
        .iter()
        .map(|(name, font)| (name.clone(), font_info(document, font)))
        .collect();

    let mut text = String::new();
    let mut chars = 0_usize;
    let mut glyphs = Vec::new();
    let mut stack: Vec<State> = Vec::new();
    let mut state = State::default();
    let mut text_matrix = Matrix::IDENTITY;
    let mut line_matrix = Matrix::IDENTITY;
    // Where the last glyph ended, on which line, for word breaks.
    let mut last_end: Option<(f32, f32)> = None;
    let push_break = |text: &mut String, chars: &mut usize, separator: Option<char>| {
        if let Some(separator) = separator
            && !text.is_empty()
            && !text.ends_with(['\n', ' '])
        {
            text.push(separator);
            *chars += 1;
        }
    };
    let xobjects = page_xobjects(document, id);
    let mut images = Vec::new();
    let mut inline_images = 0;
    for (index, operation) in operations.iter().enumerate() {
        let operands = &operation.operands;
        let first = || operands.first().and_then(number).unwrap_or(0.0);
        match operation.operator.as_str() {
            "q" => stack.push(state.clone()),
            "Q" => state = stack.pop().unwrap_or_default(),
            "cm" => {
                if let Some(matrix) = Matrix::from_operands(operands) {
                    state.ctm = matrix.then(state.ctm);
                }
            }
            "BT" => {
                text_matrix = Matrix::IDENTITY;
                line_matrix = Matrix::IDENTITY;
            }
            "ET" => {}
            "Tf" => {
                state.font = operands
                    .first()
                    .and_then(|name| name.as_name().ok())
                    .map(<[u8]>::to_vec);
                state.size = operands.get(1).and_then(number).unwrap_or(0.0);
            }
            "Tc" => state.char_spacing = first(),
            "Tw" => state.word_spacing = first(),
            "Tz" => state.scale = first() / 100.0,
            "TL" => state.leading = first(),
            "Ts" => state.rise = first(),
            "Td" | "TD" => {
                let x = first();
                let y = operands.get(1).and_then(number).unwrap_or(0.0);
                if operation.operator == "TD" {
                    state.leading = -y;
                }
                line_matrix = Matrix::translate(x, y).then(line_matrix);
                text_matrix = line_matrix;
            }
            "Tm" => {
                if let Some(matrix) = Matrix::from_operands(operands) {
                    line_matrix = matrix;
                    text_matrix = matrix;
                }
            }
            "T*" => {
                line_matrix = Matrix::translate(0.0, -state.leading).then(line_matrix);
                text_matrix = line_matrix;
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if operation.operator == "'" || operation.operator == "\"" {
                    if operation.operator == "\"" {
                        state.word_spacing = first();
                        state.char_spacing = operands.get(1).and_then(number).unwrap_or(0.0);
                    }
                    line_matrix = Matrix::translate(0.0, -state.leading).then(line_matrix);
                    text_matrix = line_matrix;
                }
                let elements: Vec<&Object> = match operation.operator.as_str() {
                    "TJ" => operands
                        .first()
                        .and_then(|array| array.as_array().ok())
                        .map(|array| array.iter().collect())
                        .unwrap_or_default(),
                    "\"" => operands.get(2).into_iter().collect(),
                    _ => operands.first().into_iter().collect(),
                };
                let font = match &state.font {
                    Some(name) => Some(fonts.get(name).ok_or_else(|| {
                        DocumentError::Corrupt(format!(
                            "page {page_number}: the font {} is missing",
                            String::from_utf8_lossy(name)
                        ))
                    })?),
                    None => None,
                };
                let mut string_index = 0;
                for element in elements {
                    if let Object::String(bytes, _) = element {
                        let code_length = font.map_or(1, |font| font.code_length);
                        let placed = text_matrix.then(state.ctm);
                        if let Some(end) = last_end {
                            push_break(&mut text, &mut chars, break_between(placed, state.size, end));
                        }
                        let mut offset = 0;
                        while offset < bytes.len() {
                            let end = (offset + code_length).min(bytes.len());
                            let code_bytes = &bytes[offset..end];
                            let code = code_bytes
                                .iter()
                                .fold(0_u32, |code, &byte| code * 256 + u32::from(byte));
                            let (glyph_text, width) = match font {
                                Some(font) => (font.text(code_bytes), font.width(code)),
                                None => (String::from_utf8_lossy(code_bytes).into_owned(), DEFAULT_WIDTH),
                            };
                            let spacing = state.char_spacing
                                + if code_length == 1 && code == 32 {
                                    state.word_spacing
                                } else {
                                    0.0
                                };
                            let advance_text = (width / 1000.0 * state.size + spacing) * state.scale;
                            let unit = text_matrix.then(state.ctm);
                            let (x0, y0) = unit.apply(0.0, state.rise - 0.25 * state.size);
                            let (x1, y1) = unit.apply(advance_text, state.rise + 0.85 * state.size);
                            let glyph_chars = glyph_text.chars().count();
                            glyphs.push(Glyph {
                                operation: index,
                                string: string_index,
                                bytes: offset..end,
                                chars: chars..chars + glyph_chars,
                                advance: if state.size.abs() > f32::EPSILON && state.scale.abs() > f32::EPSILON {
                                    advance_text / state.size / state.scale * 1000.0
                                } else {
                                    width
                                },
                                bounds: [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)],
                            });
                            text.push_str(&glyph_text);
                            chars += glyph_chars;
                            text_matrix = Matrix::translate(advance_text, 0.0).then(text_matrix);
                            offset = end;
                        }
                        last_end = Some(text_matrix.then(state.ctm).apply(0.0, 0.0));
                        string_index += 1;
                    } else {
                        if let Some(adjustment) = number(element) {
                            let shift = -adjustment / 1000.0 * state.size * state.scale;
                            text_matrix = Matrix::translate(shift, 0.0).then(text_matrix);
                        }
                    }
                }
            }
            "Do" => {
                let image = operands
                    .first()
                    .and_then(|name| name.as_name().ok())
                    .and_then(|name| xobjects.get(name))
                    .filter(|&&(_, kind)| kind == XObjectKind::Image);
                if let Some(&(id, _)) = image {
                    images.push(PlacedImage {
                        id,
                        placement: state.ctm,
                    });
                }
            }
            "BI" => inline_images += 1,
            _ => {}
        }
    }
    if glyphs.is_empty() && images.is_empty() && inline_images > 0 {
        return Err(DocumentError::Unsupported(format!(
            "page {page_number} is an inline image inside a form, which is not read"
        )));
    }
    Ok(PageText {
        number: page_number,
        text,
        id,
        operations,
        glyphs,
        images,
    })
}

/// What an XObject is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum XObjectKind {
    Image,
    Form,
    Other,
}

/// The XObjects a page's resources name (its own, then inherited ones), with their kind.
pub(super) fn page_xobjects(document: &Document, page_id: ObjectId) -> BTreeMap<Vec<u8>, (ObjectId, XObjectKind)> {
    let mut found = BTreeMap::new();
    let Ok((own, inherited)) = document.get_page_resources(page_id) else {
        return found;
    };
    let mut dictionaries: Vec<&Dictionary> = own.into_iter().collect();
    dictionaries.extend(inherited.iter().filter_map(|id| document.get_dictionary(*id).ok()));
    for resources in dictionaries {
        collect_xobjects(document, resources, &mut found);
    }
    found
}

/// What separates a string drawn at `placed` (text space to page space) in a font of
/// `size` from the glyph before it, which ended at `end` on the page: nothing, a space when
/// it starts past a gap on the same line, or a line break when it starts on another line or
/// back to the left. Positions are compared along the string's own baseline, so a line
/// drawn in several pieces (each in its own text object, placed absolutely, as LibreOffice
/// writes table cells and runs) stays one line, and rotated text reads as it is written.
pub(super) fn break_between(placed: Matrix, size: f32, end: (f32, f32)) -> Option<char> {
    let origin = placed.apply(0.0, 0.0);
    let along = placed.apply(1.0, 0.0);
    let (mut ux, mut uy) = (along.0 - origin.0, along.1 - origin.1);
    let length = ux.hypot(uy);
    if length <= f32::EPSILON {
        return Some('\n');
    }
    (ux, uy) = (ux / length, uy / length);
    let up = placed.apply(0.0, size);
    let em = (up.0 - origin.0).hypot(up.1 - origin.1).max(f32::EPSILON);
    let (dx, dy) = (origin.0 - end.0, origin.1 - end.1);
    let forward = dx * ux + dy * uy;
    let across = dy * ux - dx * uy;
    if across.abs() > em * 0.5 || forward < -em {
        Some('\n')
    } else if forward > em * WORD_GAP {
        Some(' ')
    } else {
        None
    }
}

/// A form XObject's content, decoded within the size limit.
pub(super) fn form_operations(stream: &lopdf::Stream, limits: &Limits) -> Option<Vec<Operation>> {
    let limit = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    let content = if stream.filters().is_ok() {
        stream.decompressed_content_with_limit(limit).ok()?
    } else {
        stream.content.clone()
    };
    Content::decode(&content).ok().map(|content| content.operations)
}

/// A copy of the dictionary a resource dictionary holds under `category` (`Font`,
/// `XObject`, ...), through a reference if it is one; empty when there is none.
pub(super) fn resource_category(document: &Document, resources: &Dictionary, category: &[u8]) -> Dictionary {
    match resources.get(category) {
        Ok(Object::Dictionary(dictionary)) => dictionary.clone(),
        Ok(Object::Reference(id)) => document.get_dictionary(*id).cloned().unwrap_or_default(),
        Ok(_) | Err(_) => Dictionary::new(),
    }
}

/// A page's content, decompressed within the limit.
pub(super) fn page_content(document: &Document, page_id: ObjectId, limits: &Limits) -> Result<Vec<u8>, DocumentError> {
    let limit = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    document
        .get_page_content_with_limit(page_id, limit)
        .map_err(|error| DocumentError::Corrupt(format!("a page's content: {error}")))
}
