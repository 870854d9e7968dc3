use super::*;
use obscura_detection::ErrorClass;

/// A one-page PDF in Helvetica (with widths) whose content is `operations`.
fn pdf_with(operations: Vec<Operation>) -> Vec<u8> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let widths: Vec<Object> = (32..=255).map(|_| Object::Integer(600)).collect();
    let font_id = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Courier",
        "Encoding" => "WinAnsiEncoding",
        "FirstChar" => 32,
        "LastChar" => 255,
        "Widths" => widths,
    });
    let content = Content { operations };
    let content_id = document.add_object(lopdf::Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = document.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let catalog_id = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog_id);
    let info_id = document.add_object(dictionary! { "Author" => literal("Ana Ruiz") });
    document.trailer.set("Info", info_id);
    let mut out = Vec::new();
    document.save_to(&mut out).unwrap();
    out
}

fn op(operator: &str, operands: Vec<Object>) -> Operation {
    Operation::new(operator, operands)
}

fn sample() -> Vec<u8> {
    pdf_with(vec![
        op("BT", vec![]),
        op("Tf", vec!["F1".into(), 10.into()]),
        op("TL", vec![12.into()]),
        op("Td", vec![72.into(), 700.into()]),
        op("Tj", vec![literal("Paciente: ")]),
        op(
            "TJ",
            vec![Object::Array(vec![
                literal("Ana "),
                Object::Integer(-50),
                literal("Ruiz"),
            ])],
        ),
        // Positioned apart on the same line: two words, not one.
        op("Td", vec![150.into(), 0.into()]),
        op("Tj", vec![literal("Phone:")]),
        op("'", vec![literal("DNI 12345678Z")]),
        op("\"", vec![1.into(), 0.into(), literal("Fin")]),
        op("ET", vec![]),
    ])
}

#[test]
fn text_is_read_with_every_show_operator_and_line_breaks() {
    let pdf = Pdf::open(&sample(), &Limits::default()).unwrap();
    assert_eq!(pdf.pages.len(), 1);
    assert_eq!(pdf.pages[0].text, "Paciente: Ana Ruiz Phone:\nDNI 12345678Z\nFin");
}

#[test]
fn pieces_of_one_line_placed_absolutely_stay_one_line() {
    // As LibreOffice writes a name in two runs: a text object per piece, each placed
    // from the page's origin; then a rotated line, drawn upwards.
    let piece = |x: i64, y: i64, text: &str| {
        vec![
            op("BT", vec![]),
            op("Tf", vec!["F1".into(), 10.into()]),
            op("Td", vec![x.into(), y.into()]),
            op("Tj", vec![literal(text)]),
            op("ET", vec![]),
        ]
    };
    let mut operations = [
        piece(72, 700, "D. "),
        piece(90, 700, "Alejandro"),
        piece(150, 700, "Soto"),
        piece(72, 688, "Phone:"),
    ]
    .concat();
    operations.extend([
        op("BT", vec![]),
        op("Tf", vec!["F1".into(), 10.into()]),
        op(
            "Tm",
            vec![0.into(), 1.into(), (-1).into(), 0.into(), 300.into(), 100.into()],
        ),
        op("Tj", vec![literal("Ana")]),
        op("Td", vec![30.into(), 0.into()]),
        op("Tj", vec![literal("Ruiz")]),
        op("ET", vec![]),
    ]);
    let pdf = Pdf::open(&pdf_with(operations), &Limits::default()).unwrap();
    assert_eq!(pdf.pages[0].text, "D. Alejandro Soto\nPhone:\nAna Ruiz");
}

#[test]
fn inline_image_edge_cases_are_read_where_they_are() {
    // CR LF after ID, and a marked-content dictionary holding "BI" in a string first.
    let mut content =
        b"/Span << /ActualText (a > BI) >> BDC EMC q 400 0 0 200 0 0 cm BI /W 200 /H 100 /CS /G /BPC 8 ID\r\n".to_vec();
    let mut samples = vec![255_u8; 200 * 100];
    samples[0] = 7;
    content.extend(&samples);
    content.extend(b"\nEI Q");
    let pdf = Pdf::open(&with_images(&content), &Limits::default()).unwrap();
    let scans = pdf.scans();
    assert_eq!(scans.len(), 1, "{scans:?}");
    let raster = pdf.scan_pixels(&scans[0], &Limits::default()).unwrap();
    assert_eq!(raster.pixels.get_pixel(0, 0).0, [7; 3], "the data starts after CR LF");

    // The page already names an image as the conversion would: both stay drawn.
    let mut document = Document::load_mem(&with_images(&content)).unwrap();
    let page_id = *document.get_pages().values().next().unwrap();
    let page = document.get_dictionary_mut(page_id).unwrap();
    let mut resources = page.get(b"Resources").unwrap().as_dict().unwrap().clone();
    let mut xobjects = resources.get(b"XObject").unwrap().as_dict().unwrap().clone();
    let big = xobjects.remove(b"Big").unwrap();
    xobjects.set("ObscuraInlineImage1", big);
    resources.set("XObject", xobjects);
    page.set("Resources", resources);
    let drawn = [content.as_slice(), b" q 400 0 0 200 0 300 cm /ObscuraInlineImage1 Do Q"].concat();
    let content_id = document.add_object(lopdf::Stream::new(dictionary! {}, drawn));
    document
        .get_dictionary_mut(page_id)
        .unwrap()
        .set("Contents", content_id);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).unwrap();
    let pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
    assert_eq!(pdf.scans().len(), 2, "{:?}", pdf.scans());

    // Content that decompresses past the limit is refused.
    let small = Limits {
        max_uncompressed_bytes: 1_000,
        ..Limits::default()
    };
    assert_eq!(
        Pdf::open(&with_images(&content), &small)
            .err()
            .map(|error| error.code()),
        Some("corrupt")
    );
}

#[test]
fn images_inside_forms_and_pages_sharing_content_are_read_once_each() {
    let mut document = Document::load_mem(&sample()).unwrap();
    let pages: Vec<ObjectId> = document.get_pages().values().copied().collect();
    let image = document.add_object(lopdf::Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 200, "Height" => 100,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        vec![255; 200 * 100],
    ));
    // A form with no text that draws a scan.
    let form = document.add_object(lopdf::Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 500.into(), 500.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => image } },
        },
        b"q 400 0 0 200 0 0 cm /Scan Do Q".to_vec(),
    ));
    let pdf = Pdf::open(&drawing_form(document, pages[0], form), &Limits::default()).unwrap();
    assert_eq!(pdf.scans().len(), 1, "the scan inside the form is read");

    // Three pages drawing one content stream with an inline image: one image, read once.
    let mut document = Document::load_mem(&sample()).unwrap();
    let page_id = *document.get_pages().values().next().unwrap();
    let mut inline = b"q 400 0 0 200 0 0 cm BI /W 200 /H 100 /CS /G /BPC 8 ID ".to_vec();
    inline.extend(vec![255_u8; 200 * 100]);
    inline.extend(b"\nEI Q");
    let shared = document.add_object(lopdf::Stream::new(dictionary! {}, inline));
    let page = document.get_dictionary(page_id).unwrap().clone();
    let pages_id = page.get(b"Parent").unwrap().as_reference().unwrap();
    let mut kids = Vec::new();
    for _ in 0..3 {
        let mut copy = page.clone();
        copy.set("Contents", shared);
        copy.set("Resources", Dictionary::new());
        kids.push(Object::Reference(document.add_object(copy)));
    }
    let parent = document.get_dictionary_mut(pages_id).unwrap();
    parent.set("Kids", kids);
    parent.set("Count", 3);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).unwrap();
    let pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
    assert_eq!(pdf.pages.len(), 3);
    assert_eq!(pdf.scans().len(), 1, "{:?}", pdf.scans());
}

/// The document saved with its page `page_id` drawing `form` as `/Fm1` after its own content.
fn drawing_form(mut document: Document, page_id: ObjectId, form: ObjectId) -> Vec<u8> {
    let mut content = document.get_page_content(page_id);
    content.extend_from_slice(b"\n/Fm1 Do\n");
    let content_id = document.add_object(lopdf::Stream::new(dictionary! {}, content));
    let page = document.get_dictionary_mut(page_id).unwrap();
    page.set("Contents", content_id);
    let mut resources = page.get(b"Resources").unwrap().as_dict().unwrap().clone();
    resources.set("XObject", dictionary! { "Fm1" => form });
    page.set("Resources", resources);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).unwrap();
    bytes
}

#[test]
fn a_form_with_text_and_a_compressed_inline_image_is_refused_not_written_without_it() {
    let mut document = Document::load_mem(&sample()).unwrap();
    let page_id = *document.get_pages().values().next().unwrap();
    let font = document.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let form = document.add_object(lopdf::Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 500.into(), 50.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        },
        b"BT /F1 10 Tf (Firma: Luis Gomez) Tj ET BI /W 2 /H 2 /CS /G /BPC 8 /F /AHx ID 00ff00ff> EI".to_vec(),
    ));
    let bytes = drawing_form(document, page_id, form);
    let error = Pdf::open(&bytes, &Limits::default()).err().unwrap();
    assert_eq!(error.code(), "unsupported");
    assert!(error.to_string().contains("inline image"), "{error}");
}

#[test]
fn text_in_forms_is_read_and_redacted_where_the_forms_are_drawn() {
    let mut document = Document::load_mem(&sample()).unwrap();
    let page_id = *document.get_pages().values().next().unwrap();
    // The forms name their font F1 too, but theirs is Helvetica: names are renamed.
    let helvetica = document.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let inner = document.add_object(lopdf::Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 500.into(), 50.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica } },
        },
        b"BT /F1 10 Tf 0 0 Td (Firma: Luis Gomez Vidal) Tj ET".to_vec(),
    ));
    let outer = document.add_object(lopdf::Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 500.into(), 100.into()],
            "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 72.into(), 100.into()],
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => helvetica },
                "XObject" => dictionary! { "Inner" => inner },
            },
        },
        b"BT /F1 10 Tf 0 40 Td (Paciente: Ana Ruiz Soto) Tj ET q 1 0 0 1 0 10 cm /Inner Do Q".to_vec(),
    ));
    let bytes = drawing_form(document, page_id, outer);

    let mut pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
    let text = pdf.pages[0].text.clone();
    assert!(
        text.starts_with("Paciente: Ana Ruiz"),
        "the page's own text first: {text}"
    );
    assert!(
        text.contains("Paciente: Ana Ruiz Soto") && text.contains("Firma: Luis Gomez Vidal"),
        "{text}"
    );
    let char_span = |value: &str| {
        let start = text[..text.rfind(value).unwrap()].chars().count();
        start..start + value.chars().count()
    };
    pdf.redact(
        0,
        &[
            (char_span("Ana Ruiz Soto"), "PERSONA-001".into()),
            (char_span("Luis Gomez Vidal"), "PERSONA-002".into()),
        ],
    )
    .unwrap();
    let saved = pdf.save().unwrap();
    let reread = Pdf::open(&saved, &Limits::default()).unwrap();
    let text = &reread.pages[0].text;
    assert!(!text.contains("Soto") && !text.contains("Gomez"), "{text}");
    // Nor is the forms' own content left in the file, drawn or not.
    for object in reread.document.objects.values() {
        if let Object::Stream(stream) = object {
            let content = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
            let content = String::from_utf8_lossy(&content);
            assert!(!content.contains("Gomez") && !content.contains("Soto"), "{content}");
        }
    }
    assert!(text.contains("Firma:") && text.contains("PERSONA-002"), "{text}");
    // The form's text was measured with its own font (Helvetica), not the page's F1.
    let firma = reread.pages[0]
        .glyphs
        .iter()
        .find(|glyph| glyph.chars.start == text.find("Firma").unwrap())
        .unwrap();
    assert!(
        (firma.bounds[0] - 72.0).abs() < 0.01 && (firma.bounds[2] - firma.bounds[0] - 6.11).abs() < 0.05,
        "{firma:?}"
    );
}

#[test]
fn redaction_removes_the_codes_and_keeps_the_rest_in_place() {
    let mut pdf = Pdf::open(&sample(), &Limits::default()).unwrap();
    let text = pdf.pages[0].text.clone();
    let start = text.find("Ana").unwrap();
    let dni = text.find("12345678Z").unwrap();
    let before: Vec<[f32; 4]> = pdf.pages[0]
        .glyphs
        .iter()
        .filter(|glyph| glyph.chars.start >= text.find("Phone").unwrap())
        .map(|glyph| glyph.bounds)
        .collect();
    pdf.redact(
        0,
        &[
            (start..start + "Ana Ruiz".len(), "PERSONA-001".into()),
            (dni..dni + 9, "DNI-001".into()),
        ],
    )
    .unwrap();
    let bytes = pdf.save().unwrap();
    let reread = Pdf::open(&bytes, &Limits::default()).unwrap();
    let text = &reread.pages[0].text;
    assert!(
        !text.contains("Ana") && !text.contains("Ruiz") && !text.contains("12345678Z"),
        "{text}"
    );
    assert!(
        text.contains("Paciente:") && text.contains("Phone:") && text.contains("Fin"),
        "{text}"
    );
    assert!(text.contains("PERSONA-001") && text.contains("DNI-001"), "{text}");
    // The words after the removed name did not move.
    let after: Vec<[f32; 4]> = reread.pages[0]
        .glyphs
        .iter()
        .filter(|glyph| {
            let start = text.find("Phone").unwrap();
            glyph.chars.start >= start && glyph.chars.start < start + 6
        })
        .map(|glyph| glyph.bounds)
        .collect();
    for (old, new) in before.iter().zip(&after) {
        assert!(
            (old[0] - new[0]).abs() < 0.01 && (old[1] - new[1]).abs() < 0.01,
            "{old:?} {new:?}"
        );
    }
    // No metadata left.
    let document = Document::load_mem(&bytes).unwrap();
    assert!(document.trailer.get(b"Info").is_err());
}

#[test]
fn standard_fonts_without_widths_get_their_published_widths() {
    let helvetica = standard_widths(b"Helvetica").unwrap();
    assert_eq!((helvetica[0], helvetica[16]), (278.0, 556.0), "space and zero");
    assert_eq!(standard_widths(b"ABCDEF+Arial,Bold").unwrap()[0], 278.0);
    assert_eq!(standard_widths(b"Courier-Oblique").unwrap()[33], 600.0);
    assert_eq!(standard_widths(b"Times-Roman").unwrap()[0], 250.0);
    assert!(standard_widths(b"Wingdings").is_none());
}

#[test]
fn rotated_pages_read_and_redact_the_same() {
    let mut document = Document::load_mem(&sample()).unwrap();
    let page_id = *document.get_pages().values().next().unwrap();
    document.get_dictionary_mut(page_id).unwrap().set("Rotate", 90);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).unwrap();
    let mut pdf = Pdf::open(&bytes, &Limits::default()).unwrap();
    assert_eq!(pdf.pages[0].text, "Paciente: Ana Ruiz Phone:\nDNI 12345678Z\nFin");
    let start = pdf.pages[0].text.find("Ana").unwrap();
    pdf.redact(0, &[(start..start + 8, "PERSONA-001".into())]).unwrap();
    let saved = pdf.save().unwrap();
    let reread = Pdf::open(&saved, &Limits::default()).unwrap();
    assert!(!reread.pages[0].text.contains("Ruiz"), "{}", reread.pages[0].text);
    // The page is still shown rotated.
    let rotation = Document::load_mem(&saved).unwrap();
    let page = rotation
        .get_dictionary(*rotation.get_pages().values().next().unwrap())
        .unwrap();
    assert_eq!(page.get(b"Rotate").unwrap().as_i64().unwrap(), 90);
}

/// The sample with its page drawing `content` and naming two gray images: `Big`
/// (200 by 100 pixels) and `Dot` (1 by 1).
fn with_images(content: &[u8]) -> Vec<u8> {
    let mut document = Document::load_mem(&sample()).unwrap();
    let page_id = *document.get_pages().values().next().unwrap();
    let mut image = |width: i64, height: i64| {
        document.add_object(lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            vec![255; (width * height) as usize],
        ))
    };
    let big = image(200, 100);
    let dot = image(1, 1);
    let content = document.add_object(lopdf::Stream::new(dictionary! {}, content.to_vec()));
    let page = document.get_dictionary_mut(page_id).unwrap();
    page.set("Contents", content);
    page.set(
        "Resources",
        dictionary! { "XObject" => dictionary! { "Big" => big, "Dot" => dot } },
    );
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).unwrap();
    bytes
}

#[test]
fn images_a_page_draws_are_scans_placed_on_the_page() {
    let pdf = Pdf::open(
        &with_images(b"q 400 0 0 200 100 300 cm /Big Do Q q 5 0 0 5 0 0 cm /Dot Do Q q 400 0 0 200 0 0 cm /Big Do Q"),
        &Limits::default(),
    )
    .unwrap();
    let scans = pdf.scans();
    assert_eq!(scans.len(), 1, "the dot is too small, and Big is read once: {scans:?}");
    assert_eq!(scans[0].location(), "page 1, image 1");
    // The image's top-left pixel box maps to the top left of where it is drawn.
    let placed = scans[0].page_box((200, 100), [0, 0, 20, 10]);
    assert_eq!(placed, [100.0, 480.0, 140.0, 500.0]);
    let raster = pdf.scan_pixels(&scans[0], &Limits::default()).unwrap();
    assert_eq!(raster.pixels.dimensions(), (200, 100));
    let small = Limits {
        max_image_pixels: 1_000,
        ..Limits::default()
    };
    assert_eq!(
        pdf.scan_pixels(&scans[0], &small).err().map(|error| error.code()),
        Some("too_many_pixels")
    );
}

#[test]
fn inline_images_become_image_xobjects_drawn_where_they_were() {
    // Unfiltered 200 by 100 gray samples (a byte that reads " EI " among them), then
    // 80 by 20 black samples deflated and hex-armoured, behind abbreviated names.
    let mut samples = vec![255_u8; 200 * 100];
    samples[10..14].copy_from_slice(b" EI ");
    let mut deflated = Vec::new();
    let mut encoder = flate2::write::ZlibEncoder::new(&mut deflated, flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &[0_u8; 80 * 20]).unwrap();
    encoder.finish().unwrap();
    let hex: String = deflated.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut content = b"q 400 0 0 200 100 300 cm BI /W 200 /H 100 /CS /G /BPC 8 ID ".to_vec();
    content.extend(&samples);
    content.extend(b"\nEI Q q 160 0 0 40 10 10 cm BI /W 80 /H 20 /CS /G /BPC 8 /F [/AHx /Fl] ID ");
    content.extend(hex.as_bytes());
    content.extend(b"> EI Q (BI in a string) Tj");
    let pdf = Pdf::open(&with_images(&content), &Limits::default()).unwrap();
    let scans = pdf.scans();
    assert_eq!(scans.len(), 2, "{scans:?}");
    assert_eq!(
        scans[0].page_box((200, 100), [0, 0, 20, 10]),
        [100.0, 480.0, 140.0, 500.0]
    );
    let first = pdf.scan_pixels(&scans[0], &Limits::default()).unwrap();
    assert_eq!(first.pixels.dimensions(), (200, 100));
    assert_eq!(first.pixels.get_pixel(11, 0).0, [b'E'; 3]);
    let second = pdf.scan_pixels(&scans[1], &Limits::default()).unwrap();
    assert_eq!(second.pixels.dimensions(), (80, 20));
    assert!(second.pixels.pixels().all(|pixel| pixel.0 == [0; 3]));
    // The page now draws them by name, and is written and read again whole.
    let written = pdf.save().unwrap();
    let again = Pdf::open(&written, &Limits::default()).unwrap();
    assert_eq!(again.scans().len(), 2);
    // Data that never ends is a clear error.
    let endless = with_images(b"q BI /W 10 /H 10 /CS /G /BPC 8 /F /Fl ID xxxx");
    assert_eq!(
        Pdf::open(&endless, &Limits::default()).err().map(|error| error.code()),
        Some("corrupt")
    );
}

#[test]
fn bad_pdfs_get_error_states() {
    let truncated = &sample()[..200];
    assert_eq!(
        Pdf::open(truncated, &Limits::default()).err().map(|error| error.code()),
        Some("corrupt")
    );
    let one_page = Limits {
        max_pages: 0,
        ..Limits::default()
    };
    assert_eq!(
        Pdf::open(&sample(), &one_page).err().map(|error| error.code()),
        Some("too_many_pages")
    );
}
