//! Anonymization of reviewed documents: the reviewed set is what is replaced, not a fresh
//! detection; spans added at a position are checked against the document's text; and a
//! project's operators apply to its documents.

use serde_json::{Value, json};

use crate::both_modes;
use crate::processing::{entity, export, project, results, review, run, upload};
use crate::support::{Mode, spawn_app};

/// Reviewed with the standard profile, then the project switched to one that finds no
/// names: the anonymization replaces what the review kept, names included, and a span added
/// at a position, and keeps what it rejected.
async fn anonymization_replaces_the_reviewed_set(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Revisado", true).await;
    let text = "Informe de la doctora Lucía Fernández Ortega.\nCorreo: lucia.fernandez@example.com\nAtención: registro@juzgado.example\nReferencia interna EXP-2024-0042 del archivo.\n";
    let document_id = upload(&app, &project_id, "informe.txt", text.as_bytes().to_vec()).await;
    assert_eq!(run(&app, &document_id, "detect", json!({})).await["state"], "succeeded");
    let found = results(&app, &document_id, "?category=PERSON").await;
    let names: Vec<&str> = found["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entity| entity["text"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|name| name.contains("Fernández")), "{found}");
    let found = results(&app, &document_id, "").await;
    let desk = entity(&found, "registro@juzgado.example")["id"].clone();

    // An added span must be what the text holds where it says.
    let reference = "EXP-2024-0042";
    let start = text[..text.find(reference).unwrap()].chars().count();
    let end = start + reference.chars().count();
    for (item, says) in [
        (
            json!({ "action": "add", "text": reference, "category": "CUSTOM", "location": "text", "start": start + 1, "end": end + 1 }),
            "is not `text`",
        ),
        (
            json!({ "action": "add", "text": reference, "category": "CUSTOM", "location": "page 9", "start": start, "end": end }),
            "no text at location",
        ),
    ] {
        let (status, problem) = review(&app, &document_id, json!([item])).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["errors"][0]["loc"], "body.items[0]", "{problem}");
        let message = problem["errors"][0]["msg"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(!message.contains(reference), "{message}");
    }
    let (status, outcome) = review(
        &app,
        &document_id,
        json!([
            { "action": "add", "text": reference, "category": "CUSTOM", "location": "text", "start": start, "end": end },
            { "action": "reject", "id": desk },
        ]),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");

    // Names are no longer detected in this project; the reviewed set still has them.
    let response = app
        .client
        .put(app.url(&format!("/api/v1/projects/{project_id}")))
        .bearer_auth(app.key())
        .json(&json!({ "profile": "minimal" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let job = run(&app, &document_id, "anonymize", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (status, _, output) = export(&app, &document_id, "txt").await;
    assert_eq!(status, 200);
    let output = String::from_utf8(output).unwrap();
    for original in ["Fernández", "lucia.fernandez@example.com", reference] {
        assert!(!output.contains(original), "{original} is in {output}");
    }
    assert!(output.contains("registro@juzgado.example"), "{output}");
    app.stop().await;
}
both_modes!(anonymization_replaces_the_reviewed_set);

/// A project's operators by entity type refine its level in every document; bad ones are
/// refused when they are set, naming the type and option.
async fn a_project_s_operators_apply_to_its_documents(mode: Mode) {
    let app = spawn_app(mode).await;
    let response = app
        .post("/api/v1/projects")
        .json(&json!({ "name": "Dominios", "operators": { "EMAIL_ADDRESS": { "operator": "mask", "keep_email_domain": true } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let project_id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let document_id = upload(
        &app,
        &project_id,
        "nota.txt",
        b"Escribir a marisa.gil@example.com hoy.\n".to_vec(),
    )
    .await;
    assert_eq!(run(&app, &document_id, "detect", json!({})).await["state"], "succeeded");
    assert_eq!(
        run(&app, &document_id, "anonymize", json!({})).await["state"],
        "succeeded"
    );
    let (status, _, text) = export(&app, &document_id, "txt").await;
    assert_eq!(status, 200);
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("@example.com") && !text.contains("marisa.gil"), "{text}");

    let response = app
        .post("/api/v1/projects")
        .json(&json!({ "name": "Mal", "operators": { "PERSON": { "operator": "hash", "hash_algorithm": "md5" } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["loc"], "body.operators");
    assert!(
        problem["errors"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("PERSON.hash_algorithm"),
        "{problem}"
    );
    app.stop().await;
}
both_modes!(a_project_s_operators_apply_to_its_documents);
