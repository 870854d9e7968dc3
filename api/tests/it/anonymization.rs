//! `/api/v1/redact`, `/anonymize`, `/sanitize`, `/rehydrate`, `/sessions`, `/validate` and
//! `/decrypt`, in both modes.

use crate::both_modes;
use crate::support::{Mode, TestApp, TestSetup, spawn_app};

async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

/// Posts a JSON body; the status and the JSON answer.
async fn call(app: &TestApp, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = app.post(path).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn redaction_is_consistent_within_and_across_requests(mode: Mode) {
    let app = spawn_app(mode).await;
    let text = "Escribe a ana.garcia@example.com o a luis@example.com; ana.garcia@example.com contesta. DNI 12345678Z.";
    let body = call(
        &app,
        "/api/v1/redact",
        serde_json::json!({ "text": text, "language": "es", "operator": "replace" }),
    )
    .await
    .1;
    assert_eq!(
        body["redacted_text"],
        "Escribe a <EMAIL_ADDRESS_1> o a <EMAIL_ADDRESS_2>; <EMAIL_ADDRESS_1> contesta. DNI <ES_NIF_1>."
    );
    assert_eq!(body["redactions_applied"], 4);
    let item = &body["items"][0];
    assert_eq!(item["entity_type"], "EMAIL_ADDRESS");
    assert_eq!((item["start"].as_u64(), item["end"].as_u64()), (Some(10), Some(32)));
    assert_eq!(item["operator"], "replace");

    // A level, a per-type operator, and a session that keeps aliases across requests.
    let session = call(
        &app,
        "/api/v1/sanitize",
        serde_json::json!({ "content": "nada", "session_id": "new" }),
    )
    .await
    .1;
    let session_id = session["session_id"].as_str().unwrap().to_owned();
    let request = |text: &str| {
        serde_json::json!({
            "text": text,
            "language": "es",
            "level": "INTERMEDIATE",
            "operators": { "dni": { "operator": "mask", "keep_last": 1 } },
            "session_id": session_id,
        })
    };
    let first = call(&app, "/api/v1/redact", request("Contacto: luis@example.com"))
        .await
        .1;
    let second = call(
        &app,
        "/api/v1/redact",
        request("Otro: ana@example.com. Y luis@example.com otra vez, DNI 12345678Z."),
    )
    .await
    .1;
    assert_eq!(first["redacted_text"], "Contacto: EMAIL-001");
    assert_eq!(
        second["redacted_text"],
        "Otro: EMAIL-002. Y EMAIL-001 otra vez, DNI ********Z."
    );

    // Bad input is named.
    let (status, problem) = call(
        &app,
        "/api/v1/redact",
        serde_json::json!({ "text": "x", "operators": { "NOT_A_TYPE": { "operator": "mask" } } }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("NOT_A_TYPE"));
    assert_eq!(
        call(
            &app,
            "/api/v1/redact",
            serde_json::json!({ "text": "x", "operator": "replace", "template": "<{name}>" })
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            &app,
            "/api/v1/redact",
            serde_json::json!({ "text": "x", "session_id": "00000000-0000-0000-0000-000000000009" })
        )
        .await
        .0,
        404
    );
    app.stop().await;
}

both_modes!(redaction_is_consistent_within_and_across_requests);

#[tokio::test]
async fn json_keeps_its_structure_and_bad_bodies_are_named() {
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__SECURITY__JSON_MAX_DEPTH", "4");
    setup.set("OBSCURA__SERVER__JSON_BODY_LIMIT_BYTES", "4096");
    let app = setup.start().await;
    let value = serde_json::json!({
        "patient": { "nombre": "Rosa", "email": "rosa@example.com", "age": 41, "active": true },
        "notes": ["Llamar a rosa@example.com", null, 3.5]
    });
    let (status, body) = call(&app, "/api/v1/anonymize?strategy=replace&language=es", value.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({
            "patient": { "nombre": "<PERSON_1>", "email": "<EMAIL_ADDRESS_1>", "age": 41, "active": true },
            "notes": ["Llamar a <EMAIL_ADDRESS_1>", null, 3.5]
        })
    );
    // Only the chosen types change.
    let body = call(&app, "/api/v1/anonymize?strategy=mask&entities=EMAIL", value)
        .await
        .1;
    assert_eq!(body["patient"]["nombre"], "Rosa");
    assert_eq!(body["patient"]["email"], "****************");

    for (query, body, status, code) in [
        ("strategy=scramble", b"{}".to_vec(), 400, "unknown_strategy"),
        ("entities=EMAIL,NOPE", b"{}".to_vec(), 400, "unknown_entity"),
        ("", b"{\"a\": ".to_vec(), 400, "invalid_json"),
        ("", vec![b'"', 0xff, b'"'], 400, "invalid_utf8"),
        ("", b"[[[[[[\"deep\"]]]]]]".to_vec(), 413, "json_too_deep"),
        (
            "",
            format!("\"{}\"", "x".repeat(5000)).into_bytes(),
            413,
            "payload_too_large",
        ),
    ] {
        let response = app
            .post(&format!("/api/v1/anonymize?{query}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{query}");
        let problem = json(response).await;
        assert_eq!(problem["code"], code, "{problem}");
    }
    app.stop().await;
}

async fn sanitize_and_rehydrate_round_trip(mode: Mode) {
    let app = spawn_app(mode).await;
    let prompt = "Resume el caso de ana.garcia@example.com (tel. +34 612 345 678).";
    let body = call(
        &app,
        "/api/v1/sanitize",
        serde_json::json!({ "content": prompt, "language": "es" }),
    )
    .await
    .1;
    let sanitized = body["sanitized_content"].as_str().unwrap();
    assert!(
        // The phone's digits with their spacing: a placeholder's hex tag may hold "612".
        !sanitized.contains("ana.garcia") && !sanitized.contains("612 345"),
        "{sanitized}"
    );
    assert_eq!(body["detection_count"], 2);
    let mask_map = body["mask_map"].clone();
    let placeholder = mask_map
        .as_object()
        .unwrap()
        .keys()
        .find(|key| key.contains("EMAIL"))
        .unwrap()
        .clone();
    // What a model might answer.
    let answer = format!("El cliente **{}** pide llamada.", placeholder.to_lowercase());
    let back = call(
        &app,
        "/api/v1/rehydrate",
        serde_json::json!({ "masked_content": answer, "mask_map": mask_map }),
    )
    .await
    .1;
    assert_eq!(
        back["rehydrated_content"],
        "El cliente **ana.garcia@example.com** pide llamada."
    );
    assert_eq!(back["placeholders_found"], 1);
    assert_eq!(back["placeholders"], serde_json::json!([placeholder]));
    let exact = call(
        &app,
        "/api/v1/rehydrate",
        serde_json::json!({ "masked_content": sanitized, "mask_map": mask_map }),
    )
    .await
    .1;
    assert_eq!(exact["rehydrated_content"], prompt);

    // A session keeps the map on the server; the same value keeps its placeholder.
    let first = call(
        &app,
        "/api/v1/sanitize",
        serde_json::json!({ "content": {"to": "ana.garcia@example.com", "n": 1}, "session_id": "new" }),
    )
    .await
    .1;
    assert!(first.get("mask_map").is_none());
    let session_id = first["session_id"].as_str().unwrap().to_owned();
    let second = call(&app, "/api/v1/sanitize", serde_json::json!({ "content": "<p>Para ana.garcia@example.com</p>", "format": "html", "session_id": session_id })).await.1;
    let placeholder = first["sanitized_content"]["to"].as_str().unwrap().to_owned();
    assert_eq!(first["sanitized_content"]["n"], 1);
    assert_eq!(
        second["sanitized_content"],
        format!("<p>Para {}</p>", placeholder.replace('<', "&lt;").replace('>', "&gt;"))
    );
    let back = call(
        &app,
        "/api/v1/rehydrate",
        serde_json::json!({ "masked_content": second["sanitized_content"], "session_id": session_id }),
    )
    .await
    .1;
    assert_eq!(back["rehydrated_content"], "<p>Para ana.garcia@example.com</p>");

    let sessions = json(app.get("/api/v1/sessions").send().await.unwrap()).await;
    assert!(
        sessions["sessions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(session_id)),
        "{sessions}"
    );
    assert_eq!(sessions["count"], sessions["items"].as_array().unwrap().len());
    let listed = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["session_id"] == session_id.as_str())
        .unwrap();
    assert_eq!(listed["placeholder_count"], 1);
    let delete = || {
        app.client
            .delete(app.url(&format!("/api/v1/sessions/{session_id}")))
            .bearer_auth(app.key())
    };
    assert_eq!(delete().send().await.unwrap().status(), 204);
    assert_eq!(delete().send().await.unwrap().status(), 404);
    assert_eq!(
        call(
            &app,
            "/api/v1/rehydrate",
            serde_json::json!({ "masked_content": "x", "session_id": session_id })
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(&app, "/api/v1/rehydrate", serde_json::json!({ "masked_content": "x" }))
            .await
            .0,
        400
    );
    app.stop().await;
}

both_modes!(sanitize_and_rehydrate_round_trip);

#[tokio::test]
async fn sessions_expire() {
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__SECURITY__SESSION_TTL_SECS", "1");
    let app = setup.start().await;
    let first = call(
        &app,
        "/api/v1/sanitize",
        serde_json::json!({ "content": "ana@example.com", "session_id": "new" }),
    )
    .await
    .1;
    let session_id = first["session_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        call(
            &app,
            "/api/v1/rehydrate",
            serde_json::json!({ "masked_content": "x", "session_id": session_id })
        )
        .await
        .0,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn validation_encryption_and_decryption() {
    let app = spawn_app(Mode::Embedded).await;
    let verdict = call(
        &app,
        "/api/v1/validate",
        serde_json::json!({ "original": "12345678Z", "masked": "87654321A", "entity_type": "DNI" }),
    )
    .await
    .1;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["issues"][0]["code"], "invalid_checksum");
    let verdict = call(
        &app,
        "/api/v1/validate",
        serde_json::json!({ "items": [
                { "original": "Ana Gil", "masked": "<PERSON_1>", "entity_type": "PERSON" },
                { "original": "ANA GIL", "masked": "<PERSON_2>", "entity_type": "PERSON" }
            ] }),
    )
    .await
    .1;
    assert_eq!(verdict["issues"][0]["code"], "inconsistent_replacement");
    assert_eq!(
        call(
            &app,
            "/api/v1/validate",
            serde_json::json!({ "original": "x", "masked": "y", "entity_type": "NOPE" })
        )
        .await
        .0,
        400
    );

    let body = call(
        &app,
        "/api/v1/redact",
        serde_json::json!({ "text": "DNI 12345678Z", "language": "es", "operator": "encrypt", "deterministic": true }),
    )
    .await
    .1;
    let encrypted = body["redacted_text"]
        .as_str()
        .unwrap()
        .trim_start_matches("DNI ")
        .to_owned();
    assert!(encrypted.starts_with("enc1:"));
    let decrypted = call(&app, "/api/v1/decrypt", serde_json::json!({ "values": [encrypted] }))
        .await
        .1;
    assert_eq!(decrypted["values"], serde_json::json!(["12345678Z"]));
    assert_eq!(
        call(&app, "/api/v1/decrypt", serde_json::json!({ "values": ["enc1:AAAA"] }))
            .await
            .0,
        400
    );
    // Hashes are keyed: the server's secret, not a bare digest.
    let body = call(
        &app,
        "/api/v1/redact",
        serde_json::json!({ "text": "DNI 12345678Z", "language": "es", "operator": "hash", "hash_length": 16 }),
    )
    .await
    .1;
    let hashed = body["redacted_text"].as_str().unwrap().trim_start_matches("DNI ");
    assert_eq!(hashed.len(), 16);
    assert!(!"e3b0c44298fc1c149afbf4c8996fb924".contains(hashed));
    app.stop().await;
}
