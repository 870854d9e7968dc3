//! A project's glossary (listed without originals, exported with them by admins), merging
//! and splitting entries, the streamed zip of a project, and its reviewed spans as labelled
//! data.

use std::io::Read;

use obscura_api::auth::{self, Role};
use obscura_entity::DEFAULT_TENANT_ID;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::both_modes;
use crate::processing::{entity, export, project, results, review, run, upload};
use crate::support::{Mode, TestApp, spawn_app};

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = app.post(path).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The alias an email became in a document's text export.
async fn email_alias(app: &TestApp, document_id: &str) -> Vec<String> {
    let (_, _, body) = export(app, document_id, "json").await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entity| entity["entity_type"] == "EMAIL_ADDRESS")
        .map(|entity| entity["alias"].as_str().unwrap().to_owned())
        .collect()
}

async fn glossary_exports_merges_and_labelled_data(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Glosario", true).await;
    let first = upload(
        &app,
        &project_id,
        "uno.txt",
        b"Escribe a marta.ruiz@example.com o a mruiz@example.org; copia a prensa@example.net.\n".to_vec(),
    )
    .await;
    let second = upload(
        &app,
        &project_id,
        "dos.txt",
        b"Respuesta de marta.ruiz@example.com.\n".to_vec(),
    )
    .await;
    for document in [&first, &second] {
        assert_eq!(run(&app, document, "detect", json!({})).await["state"], "succeeded");
    }
    let found = results(&app, &first, "").await;
    let press = entity(&found, "prensa@example.net")["id"].as_str().unwrap().to_owned();
    let (status, outcome) = review(&app, &first, json!([{ "action": "reject", "id": press }])).await;
    assert_eq!(status, 200, "{outcome}");
    for document in [&first, &second] {
        assert_eq!(run(&app, document, "anonymize", json!({})).await["state"], "succeeded");
    }

    // Aliases, counts and documents; never an original.
    let glossary = get_json(&app, &format!("/api/v1/projects/{project_id}/glossary")).await;
    assert_eq!(glossary["total"], 2, "{glossary}");
    assert!(!glossary.to_string().contains("example.com"), "{glossary}");
    let marta = glossary["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["documents"].as_array().unwrap().len() == 2)
        .unwrap_or_else(|| panic!("{glossary}"))
        .clone();
    assert_eq!(marta["occurrences"], 2);
    assert_eq!(marta["category"], "EMAIL_ADDRESS");
    let other = glossary["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] != marta["id"])
        .unwrap()
        .clone();
    let of_second = get_json(&app, &format!("/api/v1/documents/{second}/glossary")).await;
    assert_eq!(of_second["total"], 1, "{of_second}");
    assert_eq!(of_second["items"][0]["alias"], marta["alias"]);

    // Admins export the originals, audited; others may not.
    let response = app
        .get(&format!("/api/v1/projects/{project_id}/export/glossary?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    assert!(
        csv.starts_with("alias,original,category,first_seen,occurrences,documents"),
        "{csv}"
    );
    assert!(csv.contains("marta.ruiz@example.com"), "{csv}");
    assert!(
        !csv.contains("prensa@example.net"),
        "a rejected value is in the glossary: {csv}"
    );
    let exported = get_json(
        &app,
        &format!("/api/v1/projects/{project_id}/export/glossary?format=json"),
    )
    .await;
    assert_eq!(exported.as_array().unwrap().len(), 2);
    let database = app.server.as_ref().unwrap().state.database.clone();
    let (_, analyst) = auth::create_key(&database, DEFAULT_TENANT_ID, "analyst", Role::Analyst)
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url(&format!("/api/v1/projects/{project_id}/export/glossary")))
        .bearer_auth(analyst.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    // The two addresses are one person: merged, both documents are marked, and anonymized
    // again the first document gives both one alias.
    let (status, change) = post_json(
        &app,
        &format!("/api/v1/projects/{project_id}/glossary/merge"),
        json!({ "target_id": marta["id"], "source_ids": [other["id"]] }),
    )
    .await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["alias"], marta["alias"]);
    assert_eq!(change["documents_marked"], 1, "{change}");
    let anonymized = get_json(&app, &format!("/api/v1/documents/{first}/anonymized")).await;
    assert_eq!(anonymized["needs_anonymization"], true);
    assert_eq!(run(&app, &first, "anonymize", json!({})).await["state"], "succeeded");
    let aliases = email_alias(&app, &first).await;
    assert_eq!(aliases.len(), 2, "{aliases:?}");
    assert!(aliases.iter().all(|alias| *alias == marta["alias"]), "{aliases:?}");
    let (status, problem) = post_json(
        &app,
        &format!("/api/v1/projects/{project_id}/glossary/merge"),
        json!({ "target_id": marta["id"], "source_ids": [marta["id"]] }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_glossary_change")),
        "{problem}"
    );

    // Split again, it has an alias of its own.
    let (status, change) = post_json(
        &app,
        &format!("/api/v1/projects/{project_id}/glossary/split"),
        json!({ "entry_id": other["id"] }),
    )
    .await;
    assert_eq!(status, 200, "{change}");
    assert_ne!(change["alias"], marta["alias"]);
    assert_eq!(run(&app, &first, "anonymize", json!({})).await["state"], "succeeded");
    let mut aliases = email_alias(&app, &first).await;
    aliases.dedup();
    assert_eq!(aliases.len(), 2, "{aliases:?}");
    let (status, problem) = post_json(
        &app,
        &format!("/api/v1/projects/{project_id}/glossary/split"),
        json!({ "entry_id": uuid::Uuid::nil() }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("glossary_entry_not_found")),
        "{problem}"
    );

    // The zip: both documents and a report without originals.
    let response = app
        .get(&format!("/api/v1/projects/{project_id}/export?format=zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["dos.anonymized.txt", "report.json", "uno.anonymized.txt"]);
    for name in &names {
        let mut content = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut content).unwrap();
        assert!(!content.contains("marta.ruiz@example.com"), "{name}: {content}");
        if name == "report.json" {
            let report: Value = serde_json::from_str(&content).unwrap();
            assert_eq!(report["documents"].as_array().unwrap().len(), 2);
            assert_eq!(report["documents"][0]["leak_check"]["status"], "passed", "{report}");
            assert!(
                report["documents"][0]["entities_by_category"]["EMAIL_ADDRESS"].is_number(),
                "{report}"
            );
        }
    }

    // Labelled data: every unit, with the kept spans; the rejected one is not a span.
    let response = app
        .get(&format!("/api/v1/projects/{project_id}/annotations?format=jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let jsonl = response.text().await.unwrap();
    let lines: Vec<Value> = jsonl.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{jsonl}");
    let first_line = lines
        .iter()
        .find(|line| line["text"].as_str().unwrap().starts_with("Escribe"))
        .unwrap();
    let text: Vec<char> = first_line["text"].as_str().unwrap().chars().collect();
    let spans: Vec<String> = first_line["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|span| {
            assert_eq!(span["label"], "EMAIL_ADDRESS");
            let (start, end) = (
                span["start"].as_u64().unwrap() as usize,
                span["end"].as_u64().unwrap() as usize,
            );
            text[start..end].iter().collect()
        })
        .collect();
    assert_eq!(spans, ["marta.ruiz@example.com", "mruiz@example.org"]);
    let audit = get_json(
        &app,
        &format!("/api/v1/audit?project_id={project_id}&action=project.annotations_export"),
    )
    .await;
    assert_eq!(audit["total"], 1, "{audit}");
    app.stop().await;
}
both_modes!(glossary_exports_merges_and_labelled_data);
