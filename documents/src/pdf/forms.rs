//! Form XObjects drawn inline into the page's own content, with their resources renamed
//! into the page's, so that what they show is read and redacted like the page's own.

use super::*;

/// Whether a page draws text or images from a form XObject (at any depth of nesting): such
/// forms are drawn inline, so that what they show is read like the page's own.
pub(super) fn forms_draw_content(document: &Document, page_id: ObjectId, limits: &Limits) -> bool {
    let mut pending: Vec<ObjectId> = page_xobjects(document, page_id)
        .into_values()
        .filter(|(_, kind)| *kind == XObjectKind::Form)
        .map(|(id, _)| id)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = pending.pop() {
        if !seen.insert(id) || seen.len() > MAX_FORMS {
            continue;
        }
        let Ok(Object::Stream(stream)) = document.get_object(id) else {
            continue;
        };
        let draws = form_operations(stream, limits).is_some_and(|operations| {
            operations
                .iter()
                .any(|operation| matches!(operation.operator.as_str(), "Tj" | "TJ" | "'" | "\"" | "BI"))
        });
        let images = form_xobjects(document, &stream.dict)
            .values()
            .any(|(_, kind)| *kind == XObjectKind::Image);
        if draws || images {
            return true;
        }
        pending.extend(
            form_xobjects(document, &stream.dict)
                .into_values()
                .filter(|(_, kind)| *kind == XObjectKind::Form)
                .map(|(id, _)| id),
        );
    }
    false
}

/// Forms inlined on one page at most, and how deep forms may nest.
pub(super) const MAX_FORMS: usize = 256;

pub(super) const MAX_FORM_DEPTH: usize = 8;

/// The dictionary under `key`, through a reference if it is one.
pub(super) fn dictionary_at<'a>(
    document: &'a Document,
    dictionary: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    let object = dictionary.get(key).ok()?;
    document.dereference(object).ok()?.1.as_dict().ok()
}

/// The XObjects a form's own resources name.
pub(super) fn form_xobjects(document: &Document, form: &Dictionary) -> BTreeMap<Vec<u8>, (ObjectId, XObjectKind)> {
    let mut found = BTreeMap::new();
    let Some(resources) = dictionary_at(document, form, b"Resources") else {
        return found;
    };
    collect_xobjects(document, resources, &mut found);
    found
}

/// Adds the XObjects a resource dictionary names to `found`, unless a name is there already.
pub(super) fn collect_xobjects(
    document: &Document,
    resources: &Dictionary,
    found: &mut BTreeMap<Vec<u8>, (ObjectId, XObjectKind)>,
) {
    let Some(xobjects) = dictionary_at(document, resources, b"XObject") else {
        return;
    };
    for (name, reference) in xobjects.iter() {
        let Ok(id) = reference.as_reference() else {
            continue;
        };
        let Ok(Object::Stream(stream)) = document.get_object(id) else {
            continue;
        };
        let kind = match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => XObjectKind::Image,
            Ok(b"Form") => XObjectKind::Form,
            Ok(_) | Err(_) => XObjectKind::Other,
        };
        found.entry(name.clone()).or_insert((id, kind));
    }
}

/// The resource categories whose names content streams use.
pub(super) const RESOURCE_CATEGORIES: [&[u8]; 7] = [
    b"Font",
    b"XObject",
    b"ExtGState",
    b"ColorSpace",
    b"Pattern",
    b"Shading",
    b"Properties",
];

/// Draws the forms a page uses where they are drawn, in the page's own content: `q`, the
/// form's matrix, a clip to its box, its operations, `Q`. The form's resources join the
/// page's under new names, so that the text inside forms is read, and redacted, like the
/// page's own; the page no longer names the forms, so a form no page names is not written.
pub(super) fn inline_forms(document: &mut Document, page_id: ObjectId, limits: &Limits) -> Result<(), DocumentError> {
    let content = page_content(document, page_id, limits)?;
    let operations = Content::decode(&content)
        .map_err(|error| DocumentError::Corrupt(format!("a page's content: {error}")))?
        .operations;
    let xobjects = page_xobjects(document, page_id);
    let mut added: Vec<(&'static [u8], Vec<u8>, Object)> = Vec::new();
    let mut inlined = 0;
    let operations = expand_forms(
        document,
        operations,
        &xobjects,
        &BTreeMap::new(),
        limits,
        0,
        &mut added,
        &mut inlined,
    )?;
    let mut resources = own_resources(document, page_id)?;
    for category in RESOURCE_CATEGORIES {
        let mut merged = resource_category(document, &resources, category);
        let mut changed = false;
        if category == b"XObject" {
            // The forms now drawn inline are no longer named by the page, so that their
            // unredacted content leaves the file with them (unless another page draws them).
            for (name, (_, kind)) in &xobjects {
                if *kind == XObjectKind::Form && merged.remove(name).is_some() {
                    changed = true;
                }
            }
        }
        for (_, name, value) in added
            .iter()
            .filter(|(added_category, _, _)| *added_category == category)
        {
            merged.set(name.clone(), value.clone());
            changed = true;
        }
        if changed {
            resources.set(category, merged);
        }
    }
    let encoded = Content { operations }.encode().map_err(pdf_error)?;
    let stream = document.add_object(lopdf::Stream::new(Dictionary::new(), encoded));
    let page = document.get_dictionary_mut(page_id).map_err(pdf_error)?;
    page.set("Resources", resources);
    page.set("Contents", stream);
    Ok(())
}

/// `operations` with each `Do` of a form replaced by the form's own operations, whose
/// resource names are renamed (`renames`: the enclosing form's names to the page's).
#[allow(clippy::too_many_arguments)]
pub(super) fn expand_forms(
    document: &Document,
    operations: Vec<Operation>,
    xobjects: &BTreeMap<Vec<u8>, (ObjectId, XObjectKind)>,
    renames: &BTreeMap<(&'static [u8], Vec<u8>), Vec<u8>>,
    limits: &Limits,
    depth: usize,
    added: &mut Vec<(&'static [u8], Vec<u8>, Object)>,
    inlined: &mut usize,
) -> Result<Vec<Operation>, DocumentError> {
    let mut out = Vec::with_capacity(operations.len());
    for mut operation in operations {
        rename_operands(&mut operation, renames);
        let form = (operation.operator == "Do")
            .then(|| operation.operands.first().and_then(|name| name.as_name().ok()))
            .flatten()
            .and_then(|name| {
                // The name as the enclosing content knew it.
                let original = renames
                    .iter()
                    .find(|((category, _), new)| *category == b"XObject" && new.as_slice() == name)
                    .map_or(name.to_vec(), |((_, old), _)| old.clone());
                xobjects.get(&original).copied()
            })
            .filter(|(_, kind)| *kind == XObjectKind::Form);
        let Some((form_id, _)) = form else {
            out.push(operation);
            continue;
        };
        let Ok(Object::Stream(stream)) = document.get_object(form_id) else {
            out.push(operation);
            continue;
        };
        if depth >= MAX_FORM_DEPTH || *inlined >= MAX_FORMS {
            return Err(DocumentError::Unsupported(format!(
                "a page draws forms nested over {MAX_FORM_DEPTH} deep or more than {MAX_FORMS} of them, whose text is not read"
            )));
        }
        let Some(form_operations) = form_operations(stream, limits) else {
            return Err(DocumentError::Corrupt(
                "a form XObject's content does not decode".into(),
            ));
        };
        if form_operations
            .iter()
            .any(|operation| operation.operator == "BI" && operation.operands.is_empty())
        {
            // lopdf keeps no data for a compressed inline image: drawn inline, the form would
            // be written without it.
            return Err(DocumentError::Unsupported(
                "a form XObject with a compressed inline image, which is not read".into(),
            ));
        }
        *inlined += 1;
        let prefix = format!("ObscuraForm{}_", *inlined);
        let inner_xobjects = form_xobjects(document, &stream.dict);
        // The form's resources, renamed into the page's.
        let mut form_renames = BTreeMap::new();
        if let Some(resources) = dictionary_at(document, &stream.dict, b"Resources") {
            for category in RESOURCE_CATEGORIES {
                let Some(entries) = dictionary_at(document, resources, category) else {
                    continue;
                };
                for (name, value) in entries.iter() {
                    let new_name = [prefix.as_bytes(), name.as_slice()].concat();
                    form_renames.insert((category, name.clone()), new_name.clone());
                    // A nested form is drawn inline too, and is not named by the page.
                    let nested_form = category == b"XObject"
                        && value
                            .as_reference()
                            .ok()
                            .and_then(|id| inner_xobjects.values().find(|(found, _)| *found == id))
                            .is_some_and(|(_, kind)| *kind == XObjectKind::Form);
                    if !nested_form {
                        added.push((category, new_name, value.clone()));
                    }
                }
            }
        }
        out.push(Operation::new("q", vec![]));
        if let Ok(matrix) = stream.dict.get(b"Matrix").and_then(Object::as_array)
            && matrix.len() == 6
        {
            out.push(Operation::new("cm", matrix.clone()));
        }
        if let Ok(bbox) = stream.dict.get(b"BBox").and_then(Object::as_array)
            && let [x0, y0, x1, y1] = bbox.as_slice()
            && let (Some(x0), Some(y0), Some(x1), Some(y1)) = (number(x0), number(y0), number(x1), number(y1))
        {
            out.push(Operation::new(
                "re",
                vec![
                    x0.min(x1).into(),
                    y0.min(y1).into(),
                    (x1 - x0).abs().into(),
                    (y1 - y0).abs().into(),
                ],
            ));
            out.push(Operation::new("W", vec![]));
            out.push(Operation::new("n", vec![]));
        }
        out.extend(expand_forms(
            document,
            form_operations,
            &inner_xobjects,
            &form_renames,
            limits,
            depth + 1,
            added,
            inlined,
        )?);
        out.push(Operation::new("Q", vec![]));
    }
    Ok(out)
}

/// Renames the resource names an operation uses.
pub(super) fn rename_operands(operation: &mut Operation, renames: &BTreeMap<(&'static [u8], Vec<u8>), Vec<u8>>) {
    if renames.is_empty() {
        return;
    }
    let (category, index): (&[u8], usize) = match operation.operator.as_str() {
        "Tf" => (b"Font", 0),
        "Do" => (b"XObject", 0),
        "gs" => (b"ExtGState", 0),
        "cs" | "CS" => (b"ColorSpace", 0),
        "sh" => (b"Shading", 0),
        "scn" | "SCN" => (b"Pattern", operation.operands.len().saturating_sub(1)),
        "BDC" | "DP" => (b"Properties", 1),
        _ => return,
    };
    if let Some(Object::Name(name)) = operation.operands.get_mut(index) {
        let key = (category, name.clone());
        let renamed = renames
            .iter()
            .find(|((renamed_category, old), _)| *renamed_category == key.0 && *old == key.1)
            .map(|(_, new)| new.clone());
        if let Some(new) = renamed {
            *name = new;
        }
    }
}
