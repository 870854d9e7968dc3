//! `obscura projects` and `obscura documents` against a running server: a folder scripted
//! from creation to export.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::bare_command;
use crate::processing::run;
use crate::support::{Mode, TestApp, spawn_app};

/// Runs the binary with the server's URL and key in its environment.
async fn cli(app: &TestApp, directory: &Path, args: &[&str]) -> std::process::Output {
    let mut command = bare_command(directory);
    command
        .env("OBSCURA_URL", &app.address)
        .env("OBSCURA_KEY", app.key())
        .args(args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_uploaded_detected_and_exported_from_the_command_line() {
    let app = spawn_app(Mode::Embedded).await;
    let directory = tempfile::tempdir().unwrap();
    let folder = directory.path().join("actas");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.txt"), "Contacto: rosa.vidal@example.com\n").unwrap();
    std::fs::write(
        folder.join("b.docx"),
        obscura_documents::docx::write_text("Escrito de rosa.vidal@example.com").unwrap(),
    )
    .unwrap();

    let created = stdout(
        &cli(
            &app,
            directory.path(),
            &["projects", "create", "Carpeta", "--level", "basic"],
        )
        .await,
    );
    let project_id = created.trim().to_owned();
    assert!(uuid::Uuid::parse_str(&project_id).is_ok(), "{created}");
    let uploaded = stdout(
        &cli(
            &app,
            directory.path(),
            &["documents", "upload", "actas", "--project", "Carpeta", "--detect"],
        )
        .await,
    );
    assert_eq!(uploaded.matches("detection job").count(), 2, "{uploaded}");
    // Again: already there, and not a failure.
    let again = stdout(
        &cli(
            &app,
            directory.path(),
            &["documents", "upload", "actas/a.txt", "--project", &project_id],
        )
        .await,
    );
    assert!(again.contains("already in the project"), "{again}");

    let documents: Value = app
        .get(&format!("/api/v1/documents?project_id={project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(documents["total"], 2);
    let text_id = documents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|document| document["filename"] == "a.txt")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The detection queued by the upload ends before the anonymization is asked for.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let document: Value = app
            .get(&format!("/api/v1/documents/{text_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if document["state"] == "DETECTION_COMPLETE" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{document}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(run(&app, &text_id, "anonymize", json!({})).await["state"], "succeeded");
    stdout(
        &cli(
            &app,
            directory.path(),
            &[
                "documents",
                "export",
                &text_id,
                "--format",
                "txt",
                "--out",
                "a.anonymized.txt",
            ],
        )
        .await,
    );
    let exported = std::fs::read_to_string(directory.path().join("a.anonymized.txt")).unwrap();
    assert!(exported.starts_with("Contacto: "), "{exported}");
    assert!(!exported.contains("rosa.vidal@example.com"), "{exported}");

    // A file over the multipart limit goes through a presigned upload.
    let big: String = "Línea de relleno sin datos personales.\n".repeat(300_000);
    assert!(big.len() > 10 << 20);
    std::fs::write(directory.path().join("grande.txt"), &big).unwrap();
    let uploaded = stdout(
        &cli(
            &app,
            directory.path(),
            &["documents", "upload", "grande.txt", "--project", &project_id],
        )
        .await,
    );
    assert!(uploaded.contains("document"), "{uploaded}");
    let listed = stdout(&cli(&app, directory.path(), &["projects", "list"]).await);
    assert!(listed.contains("Carpeta") && listed.contains("PENDING 1"), "{listed}");

    // A wrong key or project is said, by name.
    let mut command = bare_command(directory.path());
    command
        .env("OBSCURA_URL", &app.address)
        .env("OBSCURA_KEY", "obs_wrong")
        .args(["projects", "list"]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("401"), "{output:?}");
    let output = cli(
        &app,
        directory.path(),
        &["documents", "upload", "actas", "--project", "Nope"],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no project is named"),
        "{output:?}"
    );
    app.stop().await;
}
