//! A document collection from upload to clean exports, on both backends: a text PDF and a
//! Word file uploaded in a request each and a scanned PDF by presigned upload; detection; a
//! review (a value rejected in one document, a span added at its place, a value added for
//! the whole project after some documents were detected); anonymization at INTERMEDIATE;
//! every export and the zip; and the glossary. Poppler's `pdftotext` and python-docx read the
//! exports as a recipient would and find no original.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_modes;
use crate::processing::{JOB_TIMEOUT, export, project, results, review, run, upload};
use crate::support::{Mode, TestApp, required_env, spawn_app};
use crate::uploads::{announce, complete, send};

const REPORT: &[u8] = include_bytes!("../../../documents/tests/fixtures/documents/report.pdf");
const CONTRACT: &[u8] = include_bytes!("../../../documents/tests/fixtures/documents/contract.docx");
const SCANNED: &[u8] = include_bytes!("../../../documents/tests/fixtures/documents/scanned.pdf");

/// What each fixture says of people, as written in it (the phone is checked apart).
const REPORT_PII: &[&str] = &[
    "José Pérez",
    "Pérez García",
    "12345678Z",
    "jose.perez@ejemplo.es",
    "Carmen Rodríguez",
    "Alejandro",
    "Martínez Soto",
    "Martinez Soto",
];
const CONTRACT_PII: &[&str] = &[
    "Alejandro",
    "Martínez Soto",
    "12345678Z",
    "612 345 678",
    "alejandro.martinez@ejemplo.es",
];
const SCANNED_PII: &[&str] = &["José", "Pérez"];

/// A file's text as a recipient's tool reads it: `pdftotext` for PDFs, python-docx for
/// Word files (every paragraph, and the cells of tables).
fn read_back(bytes: &[u8], extension: &str) -> String {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join(format!("export.{extension}"));
    std::fs::write(&path, bytes).unwrap();
    let output = match extension {
        "pdf" => Command::new("pdftotext").arg(&path).arg("-").output(),
        "docx" => Command::new(required_env("OBSCURA_TEST_PYTHON"))
            .args([
                "-c",
                "import docx, sys\nd = docx.Document(sys.argv[1])\nprint('\\n'.join([p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]))",
            ])
            .arg(Path::new(&path))
            .output(),
        other => panic!("no reader for {other}"),
    }
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Exports a document in a format; the body.
async fn exported(app: &TestApp, document_id: &str, format: &str) -> Vec<u8> {
    let (status, _, body) = export(app, document_id, format).await;
    assert_eq!(status, 200, "{format}: {}", String::from_utf8_lossy(&body));
    body
}

fn assert_clean(text: &str, values: &[&str], what: &str) {
    for value in values {
        assert!(!text.contains(value), "{what} holds {value:?}:\n{text}");
    }
}

async fn a_collection_goes_from_upload_to_clean_exports(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Expedientes", true).await;
    let report = upload(&app, &project_id, "report.pdf", REPORT.to_vec()).await;
    let contract = upload(&app, &project_id, "contract.docx", CONTRACT.to_vec()).await;
    let (status, ticket) = announce(
        &app,
        json!({ "project_id": project_id, "filename": "scanned.pdf", "size": SCANNED.len(),
                "content_type": "application/pdf", "sha256": hex::encode(Sha256::digest(SCANNED)), "detect": true }),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(send(&app, &ticket, SCANNED.to_vec()).await, 200);
    let scanned = ticket["document_id"].as_str().unwrap().to_owned();
    let (status, completed) = complete(&app, &scanned).await;
    assert_eq!(status, 200, "{completed}");
    for document in [&report, &contract] {
        assert_eq!(run(&app, document, "detect", json!({})).await["state"], "succeeded");
    }
    let job = app
        .wait_for_job(completed["detection_job_id"].as_str().unwrap(), JOB_TIMEOUT * 3)
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let found = results(&app, &scanned, "").await;
    assert!(
        found["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entity| entity["position"]["location"] == "page 2, image 1"),
        "nothing was read in the scans: {found}"
    );

    // The report's phone is the clinic's, public in that document only.
    let found = results(&app, &report, "?category=PHONE_NUMBER").await;
    let phone = found["entities"][0]["id"].clone();
    assert!(
        found["entities"][0]["text"].as_str().unwrap().contains("612 345 678"),
        "{found}"
    );
    let (status, outcome) = review(&app, &report, json!([{ "action": "reject", "id": phone }])).await;
    assert_eq!(status, 200, "{outcome}");
    // The contract's title, at its place: its first paragraph.
    let title = "Contrato de arrendamiento";
    let (status, outcome) = review(
        &app,
        &contract,
        json!([{ "action": "add", "text": title, "category": "CUSTOM", "location": "word/document.xml", "paragraph": 0, "start": 0, "end": title.chars().count() }]),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    // A word of the report, for every document of the project, decided after its detection.
    let (status, outcome) = review(
        &app,
        &contract,
        json!([{ "action": "add", "text": "Informe clínico", "category": "CUSTOM", "scope": "project" }]),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");

    for document in [&report, &contract, &scanned] {
        let job = run(&app, document, "anonymize", json!({ "level": "INTERMEDIATE" })).await;
        assert_eq!(job["state"], "succeeded", "{job}");
        assert_eq!(job["result"]["leak_check"], "passed", "{job}");
    }

    // The report, as a PDF in the original's form and as a new one.
    for format in ["original", "pdf"] {
        let text = read_back(&exported(&app, &report, format).await, "pdf");
        assert_clean(&text, REPORT_PII, &format!("the report's {format} export"));
        assert_clean(&text, &["Informe clínico"], "the report");
        assert!(text.contains("612 345 678"), "the rejected phone is kept: {text}");
    }
    // The contract, as Word files and as a PDF.
    for (format, extension) in [("original", "docx"), ("docx", "docx"), ("pdf", "pdf")] {
        let text = read_back(&exported(&app, &contract, format).await, extension);
        assert_clean(&text, CONTRACT_PII, &format!("the contract's {format} export"));
        assert_clean(&text, &[title], "the contract");
        assert!(text.contains("para cualquier consulta"), "{text}");
    }
    // The scan's text layer; its images were read again by the leak check.
    let text = read_back(&exported(&app, &scanned, "original").await, "pdf");
    assert_clean(&text, SCANNED_PII, "the scanned PDF");
    for document in [&report, &contract, &scanned] {
        for format in ["txt", "json", "csv"] {
            let body = String::from_utf8(exported(&app, document, format).await).unwrap();
            assert_clean(&body, &["12345678Z", "Pérez García", "Martínez Soto"], format);
        }
    }

    // The zip: three documents and the report.
    let response = app
        .get(&format!("/api/v1/projects/{project_id}/export?format=zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "contract.anonymized.docx",
            "report.anonymized.pdf",
            "report.json",
            "scanned.anonymized.pdf"
        ]
    );
    let mut summary = String::new();
    archive
        .by_name("report.json")
        .unwrap()
        .read_to_string(&mut summary)
        .unwrap();
    assert_clean(&summary, REPORT_PII, "report.json");

    // One person, one alias: the patient of the report is the one of the scans.
    let glossary: Value = app
        .get(&format!("/api/v1/projects/{project_id}/glossary"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_clean(&glossary.to_string(), REPORT_PII, "the glossary");
    let shared = glossary["items"].as_array().unwrap().iter().any(|item| {
        item["category"] == "PERSON"
            && [&report, &scanned]
                .iter()
                .all(|document| item["documents"].as_array().unwrap().contains(&json!(document)))
    });
    assert!(shared, "no alias is shared by the report and the scans: {glossary}");
    app.stop().await;
}
both_modes!(a_collection_goes_from_upload_to_clean_exports);
