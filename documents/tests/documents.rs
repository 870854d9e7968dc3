//! Documents end to end: read, detect, anonymize, write in the original format, and check
//! that no original remains.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read, Write};

use obscura_anonymization::vault::{MemoryVault, VaultKeys};
use obscura_anonymization::{Level, Policy, Scope, ScopeSecrets};
use obscura_detection::catalog::Catalog;
use obscura_detection::{DetectOptions, ErrorClass};
use obscura_documents::{DocumentError, ExportFormat, Format, Limits, Processed, Request, process};

const CONTRACT: &[u8] = include_bytes!("fixtures/documents/contract.docx");
const REPORT: &[u8] = include_bytes!("fixtures/documents/report.pdf");

fn run(bytes: &[u8], name: &str, level: Level, export: ExportFormat) -> Result<Processed, DocumentError> {
    run_with(bytes, name, level, export, &Limits::default())
}

fn run_with(
    bytes: &[u8],
    name: &str,
    level: Level,
    export: ExportFormat,
    limits: &Limits,
) -> Result<Processed, DocumentError> {
    let catalog = Catalog::load(None, Vec::new()).unwrap();
    let selection = catalog.select(Some("standard"), None, None).unwrap();
    let mut options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    let policy = Policy::level(level);
    let keys = VaultKeys::new("k1", &[3; 32]).unwrap();
    let secrets = ScopeSecrets::new(b"document tests");
    let mut vault = MemoryVault::for_request();
    let mut scope = Scope {
        vault: &mut vault,
        keys: &keys,
        secrets: &secrets,
        language: "es".into(),
    };
    let request = Request {
        detector: &selection.detector,
        detect_options: &options,
        given: None,
        policy: &policy,
        limits,
        export,
        observer: None,
    };
    process(bytes, Some(name), &request, &mut scope)
}

/// Every entry of a ZIP archive, decompressed.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// The personal data of the fixture, as it is written in it.
const CONTRACT_PII: &[&str] = &[
    "Alejandro",
    "Martínez Soto",
    "12345678Z",
    "612 345 678",
    "alejandro.martinez@ejemplo.es",
    "ES91 2100",
    "Carmen Rodríguez",
    "carmen.rodriguez@ejemplo.es",
    "Pedro Gómez",
    "Lucía",
    "Juan Pérez",
    "calle Mayor",
    "Ramón Iglesias",
    "699 123 456",
];

#[test]
fn a_word_document_is_anonymized_in_place_and_nothing_of_it_leaks() {
    let processed = run(CONTRACT, "contract.docx", Level::Intermediate, ExportFormat::Original).unwrap();
    assert_eq!(processed.format, Format::Docx);
    assert_eq!(processed.output_extension, "docx");
    assert!(processed.leak_check.passed(), "{:?}", processed.leak_check);
    assert!(processed.leak_check.checked >= 6, "{:?}", processed.leak_check);

    let input = entries(CONTRACT);
    let output = entries(&processed.output);
    assert_eq!(
        input.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        output.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "the same parts, in the same order"
    );
    // No part holds any of the personal data, whatever it is (text, metadata, links,
    // tracked changes, comment authors).
    for (name, data) in &output {
        let text = String::from_utf8_lossy(data);
        for value in CONTRACT_PII {
            assert!(!text.contains(value), "{value:?} is still in {name}");
        }
    }
    let document = String::from_utf8(
        output
            .iter()
            .find(|(name, _)| name == "word/document.xml")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    // The name split over three runs is one person; the alias is in the bold run where the
    // name began, and the other runs keep what followed it.
    assert!(
        document.contains(r#"<w:b/></w:rPr><w:t xml:space="preserve">PERSONA-001</w:t>"#),
        "{document}"
    );
    assert!(
        document.contains(r#"<w:i/></w:rPr><w:t xml:space="preserve"></w:t>"#),
        "{document}"
    );
    assert!(document.contains(", con DNI DNI-001"), "{document}");
    // The table's copy of the name has the same alias.
    assert!(document.contains("<w:t xml:space=\"preserve\">PERSONA-001</w:t></w:r></w:p></w:tc>"));
    // Tracked changes: the deletion is gone, the insertion is kept as text.
    assert!(!document.contains("w:del ") && !document.contains("w:ins "));
    assert!(document.contains("texto nuevo"));
    let header = String::from_utf8(
        output
            .iter()
            .find(|(name, _)| name == "word/header1.xml")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(header.contains("Expediente de PERSONA-002"), "{header}");
    let comments = String::from_utf8(
        output
            .iter()
            .find(|(name, _)| name == "word/comments.xml")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(
        comments.contains(r#"w:author="Author""#) && comments.contains("PERSONA-002"),
        "{comments}"
    );

    // Parts without text are copied byte for byte, compressed as they were.
    let raw = |bytes: &[u8], name: &str| {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
        let file = archive.by_name(name).unwrap();
        (file.compressed_size(), file.crc32(), file.compression())
    };
    for name in [
        "word/styles.xml",
        "word/theme/theme1.xml",
        "docProps/thumbnail.jpeg",
        "word/settings.xml",
    ] {
        assert_eq!(raw(CONTRACT, name), raw(&processed.output, name), "{name}");
    }

    // Entities say where they were, never what.
    let types: std::collections::BTreeSet<&str> = processed
        .entities
        .iter()
        .map(|entity| entity.entity_type.as_str())
        .collect();
    for expected in ["PERSON", "ES_NIF", "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE"] {
        assert!(types.contains(expected), "{expected} in {types:?}");
    }
    let report = serde_json::to_string(&processed).unwrap();
    assert!(
        !report.contains("Alejandro") && !report.contains("12345678Z"),
        "{report}"
    );
}

#[test]
fn exports_give_text_entities_or_a_table() {
    let text = run(CONTRACT, "contract.docx", Level::Intermediate, ExportFormat::Txt).unwrap();
    let text = String::from_utf8(text.output).unwrap();
    assert!(
        text.contains("Reunidos, de una parte, D. PERSONA-001, con DNI DNI-001"),
        "{text}"
    );
    let json = run(CONTRACT, "contract.docx", Level::Intermediate, ExportFormat::Json).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json.output).unwrap();
    assert!(value["text"].as_str().unwrap().contains("PERSONA-001"));
    assert!(
        value["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entity| entity["alias"] == "PERSONA-001")
    );
    let table = run(CONTRACT, "contract.docx", Level::Intermediate, ExportFormat::Csv).unwrap();
    let table = String::from_utf8(table.output).unwrap();
    assert!(
        table.starts_with("entity_type,location,paragraph,start,end,operator,alias\n"),
        "{table}"
    );
    assert!(table.contains("PERSON,word/document.xml,"), "{table}");

    // To another document format: a new file holding the anonymized text, which reads back
    // with the aliases and without the originals.
    let pdf = run(CONTRACT, "contract.docx", Level::Intermediate, ExportFormat::Pdf).unwrap();
    assert_eq!(pdf.output_extension, "pdf");
    let reread = run(&pdf.output, "contract.pdf", Level::Intermediate, ExportFormat::Txt).unwrap();
    let reread = String::from_utf8(reread.output).unwrap();
    assert!(
        reread.contains("PERSONA-001") && reread.contains("Reunidos"),
        "{reread}"
    );
    for value in CONTRACT_PII {
        assert!(!reread.contains(value), "{value:?} in the PDF export:\n{reread}");
    }
    let long = format!("{}\u{c}Anexo", "Una línea de texto que se repite. ".repeat(600));
    let pages = run(long.as_bytes(), "long.txt", Level::Intermediate, ExportFormat::Pdf).unwrap();
    let pages = lopdf::Document::load_mem(&pages.output).unwrap().get_pages().len();
    assert!((3..10).contains(&pages), "{pages} pages");
    let refused = run(
        "Nombre: 张伟".as_bytes(),
        "name.txt",
        Level::Intermediate,
        ExportFormat::Pdf,
    )
    .unwrap_err();
    assert_eq!(refused.code(), "unsupported");
    assert!(refused.to_string().contains("U+5F20"), "{refused}");

    let report = run(REPORT, "report.pdf", Level::Intermediate, ExportFormat::Docx).unwrap();
    assert_eq!(report.output_extension, "docx");
    let document = entries(&report.output)
        .into_iter()
        .find(|(name, _)| name == "word/document.xml")
        .map(|(_, data)| String::from_utf8(data).unwrap())
        .unwrap();
    assert!(
        document.contains("PERSONA-001") && document.contains("Informe clínico"),
        "{document}"
    );
    for value in REPORT_PII {
        assert!(!document.contains(value), "{value:?} in the Word export");
    }
    let again = run(&report.output, "report.docx", Level::Intermediate, ExportFormat::Txt).unwrap();
    assert!(String::from_utf8(again.output).unwrap().contains("PERSONA-001"));
}

#[test]
fn text_formats_keep_their_shape_and_their_encoding_is_detected() {
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("Informe de José Pérez García.\nTeléfono: +34 612 345 678.\n");
    let processed = run(&latin, "informe.txt", Level::Intermediate, ExportFormat::Original).unwrap();
    assert_eq!(processed.encoding, Some("windows-1252"));
    assert_eq!(
        String::from_utf8(processed.output).unwrap(),
        "Informe de PERSONA-001.\nTeléfono: TELEFONO-001.\n"
    );
    assert!(processed.leak_check.passed());

    let csv = "nombre,email,notas\nJosé Pérez García,jose@ejemplo.es,llamar al +34 612 345 678\n";
    let processed = run(
        csv.as_bytes(),
        "clientes.csv",
        Level::Intermediate,
        ExportFormat::Original,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(processed.output).unwrap(),
        "nombre,email,notas\nPERSONA-001,EMAIL-001,llamar al TELEFONO-001\n"
    );

    let json = r#"{"paciente": {"email": "jose@ejemplo.es", "edad": 41}}"#;
    let processed = run(
        json.as_bytes(),
        "registro.json",
        Level::Intermediate,
        ExportFormat::Original,
    )
    .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&processed.output).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"paciente": {"email": "EMAIL-001", "edad": 41}})
    );

    let html = r#"<p title="Jos&eacute; P&eacute;rez Garc&iacute;a">Escriba a <a href="mailto:jose@ejemplo.es">jose@ejemplo.es</a></p>"#;
    let processed = run(
        html.as_bytes(),
        "carta.html",
        Level::Intermediate,
        ExportFormat::Original,
    )
    .unwrap();
    let output = String::from_utf8(processed.output).unwrap();
    assert!(
        !output.contains("jose@ejemplo.es") && output.starts_with("<p title="),
        "{output}"
    );
    assert!(processed.leak_check.passed(), "{:?}", processed.leak_check);
}

#[test]
fn a_value_the_detector_missed_fails_the_leak_check() {
    // The id is found once; glued to a suffix it is not an id to the detector, but it
    // still holds the original, and the check must say so without showing it.
    let text = "Paciente con DNI 12345678Z. Referencia interna 12345678Z9.";
    let processed = run(text.as_bytes(), "nota.txt", Level::Intermediate, ExportFormat::Original).unwrap();
    let output = String::from_utf8(processed.output.clone()).unwrap();
    assert_eq!(output, "Paciente con DNI DNI-001. Referencia interna 12345678Z9.");
    assert_eq!(processed.leak_check.status, "failed");
    assert_eq!(processed.leak_check.leaks.len(), 1);
    assert_eq!(processed.leak_check.leaks[0].entity_type, "ES_NIF");
    assert!(
        !serde_json::to_string(&processed.leak_check)
            .unwrap()
            .contains("12345678")
    );
}

/// A ZIP archive holding the given entries, deflated.
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        writer
            .start_file(
                *name,
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
            )
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn bad_files_get_clear_error_states() {
    let error = |bytes: &[u8], name: &str| {
        run(bytes, name, Level::Basic, ExportFormat::Original)
            .unwrap_err()
            .code()
    };
    assert_eq!(error(&CONTRACT[..CONTRACT.len() / 2], "contract.docx"), "corrupt");
    assert_eq!(error(b"%PDF-1.7\n...", "contract.docx"), "mislabeled");
    assert_eq!(error(CONTRACT, "scan.pdf"), "mislabeled");
    assert_eq!(error(b"plain words", "contract.docx"), "mislabeled");
    assert_eq!(
        error(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], "secret.docx"),
        "encrypted"
    );
    assert_eq!(error(b"%PDF-1.7\n...", "scan.pdf"), "corrupt");
    assert_eq!(error(&REPORT[..REPORT.len() / 2], "report.pdf"), "corrupt");
    assert_eq!(error(b"\x89PNG\r\n\x1a\n....", "scan.png"), "corrupt");
    assert_eq!(error(b"\x00\x01\x02binary\x00", "data.txt"), "not_text");
    assert_eq!(
        error(&zip_of(&[("word/other.xml", b"<x/>")]), "contract.docx"),
        "mislabeled"
    );
    // A document type declaration (the door to entity expansion) is refused.
    let doctype = zip_of(&[(
        "word/document.xml",
        br#"<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]><w:document><w:body><w:p><w:r><w:t>&a;</w:t></w:r></w:p></w:body></w:document>"#,
    )]);
    assert_eq!(error(&doctype, "contract.docx"), "corrupt");
    // A zip bomb: 64 MiB of zeros in a few kilobytes.
    let zeros = vec![0_u8; 64 << 20];
    let bomb = zip_of(&[
        ("word/document.xml", b"<w:document/>"),
        ("word/media/zeros.bin", &zeros),
    ]);
    assert!(bomb.len() < 1 << 20);
    assert_eq!(error(&bomb, "contract.docx"), "too_expanded");
    // Size and time limits.
    let small = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    assert_eq!(
        run_with(CONTRACT, "contract.docx", Level::Basic, ExportFormat::Original, &small)
            .unwrap_err()
            .code(),
        "too_large"
    );
    let instant = Limits {
        max_duration: std::time::Duration::ZERO,
        ..Limits::default()
    };
    assert_eq!(
        run_with(
            CONTRACT,
            "contract.docx",
            Level::Basic,
            ExportFormat::Original,
            &instant
        )
        .unwrap_err()
        .code(),
        "timed_out"
    );
}

/// The output opens in python-docx, and python-docx finds none of the personal data in
/// the body, tables, headers, footers or comments. Needs `OBSCURA_TEST_PYTHON`: a Python
/// with python-docx, which `scripts/test` provides.
#[test]
#[cfg_attr(
    not(feature = "full-tests"),
    ignore = "needs the tools and fixtures that scripts/test prepares"
)]
fn python_docx_opens_the_output_and_finds_nothing() {
    let python = std::env::var("OBSCURA_TEST_PYTHON")
        .expect("OBSCURA_TEST_PYTHON: a Python with python-docx (scripts/test sets it up)");
    let processed = run(CONTRACT, "contract.docx", Level::Advanced, ExportFormat::Original).unwrap();
    assert!(processed.leak_check.passed(), "{:?}", processed.leak_check);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("out.docx");
    std::fs::write(&path, &processed.output).unwrap();
    let script = r#"
import sys, docx
document = docx.Document(sys.argv[1])
texts = [p.text for p in document.paragraphs]
for table in document.tables:
    for row in table.rows:
        for cell in row.cells:
            texts.append(cell.text)
for section in document.sections:
    texts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
for comment in document.comments:
    texts.append(comment.text)
    texts.append(comment.author or "")
properties = document.core_properties
texts += [properties.author or "", properties.last_modified_by or "", properties.title or ""]
print("\n".join(texts))
"#;
    let output = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Reunidos, de una parte, D. "), "{text}");
    for value in CONTRACT_PII {
        assert!(!text.contains(value), "python-docx finds {value:?} in:\n{text}");
    }
}

/// The personal data of the PDF fixture.
const REPORT_PII: &[&str] = &[
    "José Pérez",
    "Pérez García",
    "12345678Z",
    "612 345 678",
    "jose.perez@ejemplo.es",
    "Carmen Rodríguez",
    "Alejandro",
    "Martínez Soto",
    "Martinez Soto",
    "Lucía",
];

#[test]
fn a_pdf_is_redacted_in_its_content_stream_and_reads_clean() {
    let processed = run(REPORT, "report.pdf", Level::Intermediate, ExportFormat::Original).unwrap();
    assert_eq!(processed.format, Format::Pdf);
    assert!(processed.leak_check.passed(), "{:?}", processed.leak_check);
    let text = run(REPORT, "report.pdf", Level::Intermediate, ExportFormat::Txt).unwrap();
    let text = String::from_utf8(text.output).unwrap();
    for value in REPORT_PII {
        assert!(!text.contains(value), "{value:?} in:\n{text}");
    }
    assert!(text.contains("Informe clínico") && text.contains("Médico:"), "{text}");
    assert!(text.contains("PERSONA-001") && text.contains("DNI-001"), "{text}");
    // Nothing of the personal data is left in the file's bytes either (metadata included;
    // streams are compressed, so the decompressed page contents are checked above).
    let raw = String::from_utf8_lossy(&processed.output);
    assert!(!raw.contains("Fern") && !raw.contains("Author"), "metadata left");
    let pages: std::collections::BTreeSet<&str> = processed
        .entities
        .iter()
        .map(|entity| entity.location.as_str())
        .collect();
    assert_eq!(pages, ["page 1", "page 2"].into_iter().collect());
}

/// poppler's `pdftotext` opens the redacted PDF without complaint and finds none of the
/// personal data. Needs poppler-utils, which `scripts/test` installs.
#[test]
#[cfg_attr(
    not(feature = "full-tests"),
    ignore = "needs the tools and fixtures that scripts/test prepares"
)]
fn pdftotext_reads_the_redacted_pdf_and_finds_nothing() {
    let processed = run(REPORT, "report.pdf", Level::Advanced, ExportFormat::Original).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("out.pdf");
    std::fs::write(&path, &processed.output).unwrap();
    let output = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test installs it)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Informe clínico"), "{text}");
    for value in REPORT_PII {
        assert!(!text.contains(value), "pdftotext finds {value:?} in:\n{text}");
    }
}

const SCAN_PNG: &[u8] = include_bytes!("fixtures/documents/scan.png");
const SCAN_JPEG: &[u8] = include_bytes!("fixtures/documents/scan.jpg");

/// The personal data of the image fixtures.
const SCAN_PII: &[&str] = &["José", "Pérez", "12345678Z", "612 345 678", "jose.perez"];

/// The image fixtures' name, DNI, phone and e-mail were all found.
fn assert_scan_types(processed: &Processed, name: &str) {
    let types: std::collections::BTreeSet<&str> = processed
        .entities
        .iter()
        .map(|entity| entity.entity_type.as_str())
        .collect();
    for expected in ["PERSON", "ES_NIF", "PHONE_NUMBER", "EMAIL_ADDRESS"] {
        assert!(types.contains(expected), "{name}: {expected} in {types:?}");
    }
}

#[test]
fn images_are_read_with_ocr_and_their_values_burnt_into_the_pixels() {
    for (bytes, name, format) in [
        (SCAN_PNG, "scan.png", Format::Png),
        (SCAN_JPEG, "scan.jpg", Format::Jpeg),
    ] {
        let processed = run(bytes, name, Level::Intermediate, ExportFormat::Original).unwrap();
        assert_eq!(processed.format, format);
        assert!(processed.leak_check.passed(), "{name}: {:?}", processed.leak_check);
        assert_scan_types(&processed, name);
        // What OCR reads in the output: the rest of the page, none of the values.
        let text = run(&processed.output, name, Level::Intermediate, ExportFormat::Txt).unwrap();
        let text = String::from_utf8(text.output).unwrap();
        assert!(text.contains("Informe de alta"), "{name}: {text}");
        for value in SCAN_PII {
            assert!(!text.contains(value), "{name}: OCR still reads {value:?} in:\n{text}");
        }
        // Only the pixels are written: the JPEG's EXIF author is gone.
        let raw = String::from_utf8_lossy(&processed.output);
        assert!(!raw.contains("Fern") && !raw.contains("Exif"), "{name}: metadata left");
    }
}

/// A scan fed sideways or upside down reads as noise the way it is given; it is read turned
/// upright, its values are burnt where they are, and it is written back as it came.
#[test]
#[cfg_attr(
    not(feature = "full-tests"),
    ignore = "needs the tools and fixtures that scripts/test prepares"
)]
fn a_scan_fed_sideways_or_upside_down_is_read_turned_and_written_as_it_came() {
    let upright = image::load_from_memory(SCAN_PNG).unwrap();
    for (turns, given) in [
        ("a quarter turn", upright.rotate90()),
        ("a half turn", upright.rotate180()),
        ("three quarter turns", upright.rotate270()),
    ] {
        let mut bytes = Vec::new();
        given
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        let processed = run(&bytes, "turned.png", Level::Intermediate, ExportFormat::Original).unwrap();
        assert!(processed.leak_check.passed(), "{turns}: {:?}", processed.leak_check);
        assert_scan_types(&processed, turns);
        let written = image::load_from_memory(&processed.output).unwrap();
        assert_eq!(
            (written.width(), written.height()),
            (given.width(), given.height()),
            "{turns}"
        );
        for entity in &processed.entities {
            let confidence = entity.ocr_confidence.unwrap();
            assert!((0.0..=100.0).contains(&confidence), "{entity:?}");
            for [left, top, right, bottom] in &entity.boxes {
                assert!(
                    left < right && top < bottom && *right <= given.width() as f32 && *bottom <= given.height() as f32,
                    "{turns}: {entity:?}"
                );
            }
        }
        // Read again (turned upright again): the rest of the page, none of the values.
        let text = run(&processed.output, "turned.png", Level::Intermediate, ExportFormat::Txt).unwrap();
        let text = String::from_utf8(text.output).unwrap();
        assert!(text.contains("Informe de alta"), "{turns}: {text}");
        for value in SCAN_PII {
            assert!(!text.contains(value), "{turns}: OCR still reads {value:?} in:\n{text}");
        }
        // The burnt pixels are where the values were: read upright by the `tesseract`
        // command, which does not turn pages, the output shows none of them either.
        let upright_again = match turns {
            "a quarter turn" => written.rotate270(),
            "a half turn" => written.rotate180(),
            _ => written.rotate90(),
        };
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("upright.png");
        upright_again.save(&path).unwrap();
        let command = std::process::Command::new("tesseract")
            .arg(&path)
            .args(["-", "-l", "spa+eng", "--psm", "6"])
            .output()
            .expect("tesseract (tesseract-ocr; scripts/test installs it)");
        let seen = String::from_utf8_lossy(&command.stdout);
        assert!(seen.contains("Informe de alta"), "{turns}: {seen}");
        for value in SCAN_PII {
            assert!(!seen.contains(value), "{turns}: tesseract reads {value:?} in:\n{seen}");
        }
    }
}

const SCANNED: &[u8] = include_bytes!("fixtures/documents/scanned.pdf");

/// A PDF of scans: a text page, then the scan as a JPEG, as deflated samples and as a
/// Group 4 fax. Every page is read (the scans with OCR), the values are burnt into the
/// images, and poppler's tools then find none of them: `pdftotext` in the text layer, and
/// `pdfimages` with the `tesseract` command in the images.
#[test]
#[cfg_attr(
    not(feature = "full-tests"),
    ignore = "needs the tools and fixtures that scripts/test prepares"
)]
fn scanned_pages_are_read_with_ocr_and_burnt_in_every_image_encoding() {
    let processed = run(SCANNED, "scanned.pdf", Level::Intermediate, ExportFormat::Original).unwrap();
    assert!(processed.leak_check.passed(), "{:?}", processed.leak_check);
    for location in ["page 1", "page 2, image 1", "page 3, image 1", "page 4, image 1"] {
        let found: Vec<&str> = processed
            .entities
            .iter()
            .filter(|entity| entity.location == location)
            .map(|entity| entity.entity_type.as_str())
            .collect();
        assert!(found.contains(&"PERSON"), "{location}: {found:?}");
        if location != "page 1" {
            for expected in ["ES_NIF", "PHONE_NUMBER", "EMAIL_ADDRESS"] {
                assert!(found.contains(&expected), "{location}: {expected} in {found:?}");
            }
        }
    }
    // The name on the text page and in the scans is one person, and every entity of a scan
    // has its place on the page, inside the page.
    let aliases: std::collections::BTreeSet<&str> = processed
        .entities
        .iter()
        .filter(|entity| entity.entity_type == "PERSON")
        .map(|entity| entity.alias.as_str())
        .collect();
    assert_eq!(aliases.len(), 1, "{aliases:?}");
    for entity in &processed.entities {
        assert!(!entity.boxes.is_empty(), "{entity:?}");
        for [x0, y0, x1, y1] in &entity.boxes {
            assert!(
                0.0 <= *x0 && x0 < x1 && *x1 <= 596.0 && 0.0 <= *y0 && y0 < y1 && *y1 <= 842.0,
                "{entity:?}"
            );
        }
    }

    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("out.pdf");
    std::fs::write(&path, &processed.output).unwrap();
    let pdftotext = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test installs it)");
    assert!(pdftotext.status.success() && pdftotext.stderr.is_empty());
    let text = String::from_utf8(pdftotext.stdout).unwrap();
    assert!(text.contains("Expediente escaneado de PERSONA-001"), "{text}");
    let pdfimages = std::process::Command::new("pdfimages")
        .arg("-png")
        .arg(&path)
        .arg(directory.path().join("image"))
        .output()
        .expect("pdfimages (poppler-utils)");
    assert!(
        pdfimages.status.success(),
        "{}",
        String::from_utf8_lossy(&pdfimages.stderr)
    );
    let mut images: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "png"))
        .collect();
    images.sort();
    assert_eq!(images.len(), 3, "{images:?}");
    for image in images {
        let read = std::process::Command::new("tesseract")
            .arg(&image)
            .arg("-")
            .args(["-l", "spa+eng"])
            .output()
            .expect("the tesseract command (tesseract-ocr)");
        let read = String::from_utf8_lossy(&read.stdout);
        assert!(read.contains("Informe de alta"), "{}: {read}", image.display());
        for value in SCAN_PII {
            assert!(
                !read.contains(value),
                "{}: tesseract reads {value:?} in:\n{read}",
                image.display()
            );
        }
    }
}

/// Runs a command and returns its standard output, failing on an error.
fn tool(program: &str, arguments: &[&std::ffi::OsStr]) -> String {
    let output = std::process::Command::new(program)
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error} (scripts/test installs it)"));
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Poppler reports what it cannot parse on standard error: the output must open cleanly.
    if program.starts_with("pdf") {
        assert!(
            output.stderr.is_empty(),
            "{program}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Files made by LibreOffice, ghostscript, ImageMagick and fpdf2 (see
/// `fixtures/documents/generate`; `scripts/test` runs it and sets
/// `OBSCURA_TEST_GENERATED_FIXTURES`): each is anonymized with its leak check passed, and
/// poppler, python-docx and the `tesseract` command then find none of its personal data.
/// A password-protected PDF is refused as `encrypted`.
#[test]
#[cfg_attr(
    not(feature = "full-tests"),
    ignore = "needs the tools and fixtures that scripts/test prepares"
)]
fn files_made_by_other_tools_are_anonymized_and_read_clean() {
    let directory = std::path::PathBuf::from(std::env::var("OBSCURA_TEST_GENERATED_FIXTURES").expect(
        "OBSCURA_TEST_GENERATED_FIXTURES: the folder fixtures/documents/generate wrote (scripts/test sets it up)",
    ));
    let python = std::env::var("OBSCURA_TEST_PYTHON").expect("OBSCURA_TEST_PYTHON (scripts/test sets it up)");
    let letter_pii: &[&str] = &[
        "Beatriz",
        "Sánchez Molina",
        "María Dolores",
        "Navarro Ruiz",
        "87654321X",
        "655 443 322",
        "mdolores.navarro",
        "Fernando Castillo",
    ];
    let scan_pii: &[&str] = &[
        "Alejandro",
        "Martínez Soto",
        "12345678Z",
        "alejandro.martinez",
        "Carmen Rodríguez",
    ];
    let cases: [(&str, &[&str], &[&str]); 11] = [
        (
            "contract.pdf",
            CONTRACT_PII,
            &["PERSON", "ES_NIF", "PHONE_NUMBER", "IBAN_CODE"],
        ),
        (
            "letter.docx",
            letter_pii,
            &["PERSON", "ES_NIF", "PHONE_NUMBER", "EMAIL_ADDRESS"],
        ),
        (
            "report-gs.pdf",
            REPORT_PII,
            &["PERSON", "ES_NIF", "PHONE_NUMBER", "EMAIL_ADDRESS"],
        ),
        ("contract-scanned.pdf", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("contract-jpx.pdf", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("contract-inline.pdf", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("contract-jbig2.pdf", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("contract-scan.tif", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("contract-sideways.tif", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("contract-scan.jpg", scan_pii, &["PERSON", "ES_NIF", "IBAN_CODE"]),
        ("scan.tiff", SCAN_PII, &["PERSON", "ES_NIF", "PHONE_NUMBER"]),
    ];
    let encrypted = std::fs::read(directory.join("report-encrypted.pdf")).unwrap();
    let refused = run(
        &encrypted,
        "report-encrypted.pdf",
        Level::Intermediate,
        ExportFormat::Original,
    )
    .unwrap_err();
    assert_eq!(refused.code(), "encrypted", "{refused}");
    let out = tempfile::tempdir().unwrap();
    for (name, pii, types) in cases {
        let bytes = std::fs::read(directory.join(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
        let processed = run(&bytes, name, Level::Intermediate, ExportFormat::Original)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(processed.leak_check.passed(), "{name}: {:?}", processed.leak_check);
        let found: std::collections::BTreeSet<&str> = processed
            .entities
            .iter()
            .map(|entity| entity.entity_type.as_str())
            .collect();
        for expected in types {
            assert!(found.contains(expected), "{name}: {expected} in {found:?}");
        }
        let path = out.path().join(name);
        std::fs::write(&path, &processed.output).unwrap();
        // What each reader finds in the output.
        let mut read = Vec::new();
        if name.ends_with(".pdf") {
            read.push(tool("pdftotext", &[path.as_os_str(), "-".as_ref()]));
            let images = out.path().join(format!("{name}-images"));
            std::fs::create_dir(&images).unwrap();
            tool(
                "pdfimages",
                &["-png".as_ref(), path.as_os_str(), images.join("image").as_os_str()],
            );
            for image in std::fs::read_dir(&images).unwrap() {
                let image = image.unwrap().path();
                read.push(tool(
                    "tesseract",
                    &[image.as_os_str(), "-".as_ref(), "-l".as_ref(), "spa+eng".as_ref()],
                ));
            }
        } else if name.ends_with(".docx") {
            let script = "import sys, docx\n\
                document = docx.Document(sys.argv[1])\n\
                print('\\n'.join(p.text for p in document.paragraphs))\n\
                print('\\n'.join(c.text for t in document.tables for r in t.rows for c in r.cells))\n";
            read.push(tool(&python, &["-c".as_ref(), script.as_ref(), path.as_os_str()]));
        } else {
            read.push(tool(
                "tesseract",
                &[path.as_os_str(), "-".as_ref(), "-l".as_ref(), "spa+eng".as_ref()],
            ));
            let raw = String::from_utf8_lossy(&processed.output);
            assert!(
                !raw.contains("Fern") && !raw.contains("Escaneado"),
                "{name}: metadata left"
            );
        }
        let read = read.join("\n");
        assert!(
            read.split_whitespace().count() > 5,
            "{name}: the output reads empty:\n{read}"
        );
        for value in pii {
            assert!(!read.contains(value), "{name}: {value:?} is still read in:\n{read}");
        }
    }
}
