//! Clients written for the products Obscura replaces, sent as their documentation writes
//! them: MaskingEngine's sessions and rehydration.

use crate::both_modes;
use crate::support::{Mode, TestApp, spawn_app};

async fn call(app: &TestApp, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = app.post(path).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn delete_session(app: &TestApp, id: &str) -> u16 {
    app.client
        .delete(app.url(&format!("/api/v1/sessions/{id}")))
        .bearer_auth(app.key())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn masking_engine_sessions_take_the_clients_ids(mode: Mode) {
    let app = spawn_app(mode).await;
    let session = "user_123_conversation_456";
    let (status, first) = call(
        &app,
        "/api/v1/sanitize",
        serde_json::json!({ "content": "Contact John at john@example.com", "session_id": session }),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["session_id"], session);
    assert!(first.get("mask_map").is_none(), "{first}");
    let placeholder = first["sanitized_content"]
        .as_str()
        .unwrap()
        .trim_start_matches("Contact John at ")
        .to_owned();
    assert!(placeholder.starts_with("<<EMAIL"), "{first}");

    // The same session, asked for twice at once, is one session: the address keeps its
    // placeholder in both answers.
    let second = || {
        call(
            &app,
            "/api/v1/sanitize",
            serde_json::json!({ "content": {"reply_to": "john@example.com"}, "session_id": session }),
        )
    };
    let (a, b) = tokio::join!(second(), second());
    for (status, body) in [a, b] {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["sanitized_content"]["reply_to"], placeholder.as_str());
    }
    // Two new sessions of one name, started at once, are one too.
    let fresh = || {
        call(
            &app,
            "/api/v1/sanitize",
            serde_json::json!({ "content": "Mail mary@example.org", "session_id": "chat-2026-12-07" }),
        )
    };
    let (a, b) = tokio::join!(fresh(), fresh());
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    assert_eq!(a.1["sanitized_content"], b.1["sanitized_content"]);

    let (status, back) = call(
        &app,
        "/api/v1/rehydrate",
        serde_json::json!({ "masked_content": format!("Reply to {placeholder} today"), "session_id": session }),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["rehydrated_content"], "Reply to john@example.com today");
    assert_eq!(back["placeholders_found"], 1);

    let sessions: serde_json::Value = app.get("/api/v1/sessions").send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|listed| listed.as_str())
        .collect();
    assert!(
        names.contains(&session) && names.contains(&"chat-2026-12-07"),
        "{sessions}"
    );

    assert_eq!(delete_session(&app, session).await, 204);
    // Gone, unknown, or no id a session could have: 404 alike.
    for id in [
        session,
        "never_made",
        "01234567-89ab-cdef-0123-456789abcdef",
        "with%20space",
    ] {
        assert_eq!(delete_session(&app, id).await, 404, "{id}");
        let (status, problem) = call(
            &app,
            "/api/v1/rehydrate",
            serde_json::json!({ "masked_content": "x", "session_id": id }),
        )
        .await;
        assert_eq!(status, 404, "{id}: {problem}");
        assert_eq!(problem["code"], "session_not_found");
    }
    // A new session's id is still checked: it names what is wrong without echoing it.
    let long = "x".repeat(129);
    let (status, problem) = call(
        &app,
        "/api/v1/sanitize",
        serde_json::json!({ "content": "a@example.com", "session_id": long }),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "invalid_session_id");
    assert!(!problem.to_string().contains(&long), "{problem}");
    app.stop().await;
}
both_modes!(masking_engine_sessions_take_the_clients_ids);

async fn masking_engine_rehydrates_any_key_of_its_mask_map(mode: Mode) {
    let app = spawn_app(mode).await;
    // The seed's own example, and keys other tools write.
    let (status, back) = call(
        &app,
        "/api/v1/rehydrate",
        serde_json::json!({
            "masked_content": "Contact John at <<EMAIL_7A9B2C_1>>",
            "mask_map": { "<<EMAIL_7A9B2C_1>>": "john@example.com" }
        }),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["rehydrated_content"], "Contact John at john@example.com");
    assert_eq!(back["placeholders_found"], 1);
    let (status, back) = call(
        &app,
        "/api/v1/rehydrate",
        serde_json::json!({
            "masked_content": {"text": "Write to **email_ABC123** or [PHONE 1]; <<EMAIL_abc123>> prefers mail."},
            "mask_map": { "<<EMAIL_abc123>>": "john@example.com", "[PHONE_1]": "+34 612 345 678" }
        }),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(
        back["rehydrated_content"]["text"],
        // Emphasis around a bare placeholder goes with it, as for Obscura's own.
        "Write to john@example.com or +34 612 345 678; john@example.com prefers mail."
    );
    assert_eq!(back["placeholders_found"], 2);
    app.stop().await;
}
both_modes!(masking_engine_rehydrates_any_key_of_its_mask_map);

/// Schema errors name the field and the reason, and never repeat what was sent.
async fn schema_errors_name_the_field_and_the_reason(mode: Mode) {
    let app = spawn_app(mode).await;
    let cases = [
        (serde_json::json!({ "language": "es" }), "body.text", "is required"),
        (
            serde_json::json!({ "text": "Ana", "txt": "ana@example.com" }),
            "body",
            "unknown field `txt`",
        ),
        (
            serde_json::json!({ "text": "Ana", "min_score": "ana@example.com" }),
            "body.min_score",
            "must be",
        ),
        (
            serde_json::json!({ "text": "Ana", "on_recognizer_error": "ana@example.com" }),
            "body.on_recognizer_error",
            "must be fail or skip",
        ),
    ];
    for (body, loc, reason) in cases {
        let (status, problem) = call(&app, "/api/v1/detect", body.clone()).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["code"], "invalid_body", "{problem}");
        let error = &problem["errors"][0];
        assert!(error["loc"].as_str().unwrap().starts_with(loc), "{body}: {problem}");
        assert!(error["msg"].as_str().unwrap().contains(reason), "{body}: {problem}");
        assert!(!problem.to_string().contains("ana@"), "{problem}");
    }
    app.stop().await;
}
both_modes!(schema_errors_name_the_field_and_the_reason);

/// MaskingEngine's `regex_only` runs the patterns alone: an address is masked, a name the
/// word lists know is not.
async fn masking_engine_regex_only_runs_patterns_alone(mode: Mode) {
    let app = spawn_app(mode).await;
    let content = "Contact John Smith at john@example.com";
    let sanitize = |regex_only: bool| {
        call(
            &app,
            "/api/v1/sanitize",
            serde_json::json!({
                "content": content,
                "regex_only": regex_only,
                "pattern_packs": ["default"],
                "whitelist": ["support@company.com"],
                "min_confidence": 0.5
            }),
        )
    };
    let (status, patterns) = sanitize(true).await;
    assert_eq!(status, 200, "{patterns}");
    let text = patterns["sanitized_content"].as_str().unwrap();
    assert!(text.starts_with("Contact John Smith at <<EMAIL"), "{patterns}");
    let (status, everything) = sanitize(false).await;
    assert_eq!(status, 200, "{everything}");
    assert!(
        !everything["sanitized_content"].as_str().unwrap().contains("Smith"),
        "{everything}"
    );
    app.stop().await;
}
both_modes!(masking_engine_regex_only_runs_patterns_alone);

/// MaskingEngine's `strict_validation` (on by default) leaves a card number failing the
/// Luhn check alone, and nothing else claims it; off, it is masked as a card.
/// `min_confidence` bounds the NER model only: a pattern's finding scored under it stays.
async fn masking_engine_strict_validation_and_min_confidence(mode: Mode) {
    let app = spawn_app(mode).await;
    let content = "Card 4111 1111 1111 1112 was declined; write to john@example.com";
    let sanitize = |extra: serde_json::Value| {
        let mut body = serde_json::json!({ "content": content });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        call(&app, "/api/v1/sanitize", body)
    };
    let (status, strict) = sanitize(serde_json::json!({})).await;
    assert_eq!(status, 200, "{strict}");
    let text = strict["sanitized_content"].as_str().unwrap();
    assert!(text.starts_with("Card 4111 1111 1111 1112 was declined"), "{strict}");
    assert!(!text.contains("john@"), "{strict}");
    assert_eq!(strict["detection_count"], 1, "{strict}");

    let (status, lenient) = sanitize(serde_json::json!({ "strict_validation": false })).await;
    assert_eq!(status, 200, "{lenient}");
    let text = lenient["sanitized_content"].as_str().unwrap();
    assert!(text.starts_with("Card <<CREDIT_CARD_"), "{lenient}");

    // The e-mail pattern scores 0.95: a floor of 0.99 for the model leaves it found.
    let (status, floor) = sanitize(serde_json::json!({ "min_confidence": 0.99 })).await;
    assert_eq!(status, 200, "{floor}");
    assert!(
        !floor["sanitized_content"].as_str().unwrap().contains("john@"),
        "{floor}"
    );
    let (status, problem) = sanitize(serde_json::json!({ "min_confidence": 1.5 })).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.min_confidence", "{problem}");
    app.stop().await;
}
both_modes!(masking_engine_strict_validation_and_min_confidence);

/// Prime Anonymizer: any JSON value is a body, and a person's name found in one field is
/// replaced wherever it stands, with one token, whatever its case.
async fn prime_bodies_of_any_shape_keep_one_token_per_person(mode: Mode) {
    let mut setup = crate::support::TestSetup::new(mode).await;
    setup.with_ner();
    let app = setup.start().await;
    let anonymize = |body: serde_json::Value| call(&app, "/api/v1/anonymize?entities=PERSON,EMAIL_ADDRESS", body);
    let (status, answer) = anonymize(serde_json::json!({
        "name": "Alice Johnson",
        "email": "alice@example.com",
        "bio": "Alice Johnson joined in 2019; alice johnson and ALICE JOHNSON are her."
    }))
    .await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["name"].as_str().unwrap().to_owned();
    assert!(token.starts_with("<PERSON_"), "{answer}");
    assert_eq!(
        answer["bio"],
        format!("{token} joined in 2019; {token} and {token} are her."),
        "{answer}"
    );
    assert_ne!(answer["email"], "alice@example.com", "{answer}");

    let (status, answer) = anonymize(serde_json::json!("Alice Johnson wrote to alice@example.com")).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.as_str().unwrap().contains("Alice"), "{answer}");
    let (status, answer) = anonymize(serde_json::json!(["Alice Johnson", "Bob Smith", "Alice Johnson"])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer[0], answer[2], "{answer}");
    assert_ne!(answer[0], answer[1], "{answer}");
    app.stop().await;
}
both_modes!(prime_bodies_of_any_shape_keep_one_token_per_person);

/// Presidio's mask hides every code point of a value; keeping separators is asked for.
async fn presidio_masks_every_character_unless_separators_are_kept(mode: Mode) {
    let app = spawn_app(mode).await;
    let redact = |extra: serde_json::Value| {
        let mut body = serde_json::json!({ "text": "Mail ana@example.com now", "operator": "mask" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        call(&app, "/api/v1/redact", body)
    };
    let (status, masked) = redact(serde_json::json!({})).await;
    assert_eq!(status, 200, "{masked}");
    assert_eq!(masked["redacted_text"], "Mail *************** now", "{masked}");
    let (status, kept) = redact(serde_json::json!({ "keep_separators": true })).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["redacted_text"], "Mail ***@*******.*** now", "{kept}");
    app.stop().await;
}
both_modes!(presidio_masks_every_character_unless_separators_are_kept);

/// The PII & Secret Detection service's requests, with its field and engine names, get its
/// answers; a trailing slash on a path is no different.
async fn pii_service_requests_get_its_answers(mode: Mode) {
    let app = spawn_app(mode).await;
    let (status, found) = call(
        &app,
        "/api/v1/pii/detect",
        serde_json::json!({
            "text": "Contact john.doe@example.com or call 555-123-4567",
            "source_type": "runbook_output",
            "source_id": "uuid-of-execution",
            "engines": ["presidio", "detect_secrets"],
            "entity_types": ["EMAIL"]
        }),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["detection_count"], 1, "{found}");
    let detection = &found["detections"][0];
    assert_eq!(detection["entity_type"], "EMAIL_ADDRESS");
    assert_eq!(detection["engine"], "presidio");
    assert_eq!(
        (detection["start"].as_u64(), detection["end"].as_u64()),
        (Some(8), Some(28))
    );
    assert_eq!(detection["context"], "Contact john.doe@example.com or call");
    assert!(found["processing_time_ms"].is_u64(), "{found}");

    let (status, redacted) = call(
        &app,
        "/api/v1/pii/redact",
        serde_json::json!({ "text": "Mail ana@example.com", "redaction_type": "mask", "mask_char": "#", "preserve_length": false }),
    )
    .await;
    assert_eq!(status, 200, "{redacted}");
    assert_eq!(redacted["redacted_text"], "Mail #####", "{redacted}");
    assert_eq!(redacted["original_length"], 20);
    assert_eq!(redacted["redactions_applied"], 1);
    assert_eq!(redacted["detections"][0]["entity_type"], "EMAIL_ADDRESS");

    let listed = app.get("/api/v1/projects/").send().await.unwrap();
    assert_eq!(listed.status(), 200);
    app.stop().await;
}
both_modes!(pii_service_requests_get_its_answers);

/// Columns are profiled from their values and names, as `/profile` and Faasera's
/// `/profiler/run` take them; Faasera's `/mask/run` masks values by their rule.
async fn columns_are_profiled_and_values_masked_by_rule(mode: Mode) {
    let app = spawn_app(mode).await;
    let (status, profile) = call(
        &app,
        "/api/v1/profiler/run",
        serde_json::json!({
            "requestId": "abc123",
            "mode": "STRUCTURED",
            "columns": [
                { "name": "email", "value": "john.doe@example.com" },
                { "name": "dob", "value": "1985-02-03" }
            ]
        }),
    )
    .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["requestId"], "abc123");
    assert_eq!(profile["results"][0]["column"], "email");
    assert_eq!(profile["results"][0]["label"], "EMAIL_ADDRESS", "{profile}");
    assert_eq!(profile["results"][1]["label"], "DATE_OF_BIRTH", "{profile}");
    assert!(profile["results"][0]["confidence"].as_f64().unwrap() > 0.9, "{profile}");

    let (status, profile) = call(
        &app,
        "/api/v1/profile",
        serde_json::json!({
            "columns": [{ "name": "c1", "values": ["ana@example.com", "luis@example.org", "n/a", null] }],
            "records": [{ "iban": "ES91 2100 0418 4502 0005 1332", "note": "called twice" }, { "note": "ok" }]
        }),
    )
    .await;
    assert_eq!(status, 200, "{profile}");
    let results = profile["results"].as_array().unwrap();
    assert_eq!(results[0]["label"], "EMAIL_ADDRESS", "{profile}");
    assert_eq!(results[0]["sample_count"], 3, "null is not a sample: {profile}");
    assert!(
        (results[0]["confidence"].as_f64().unwrap() - 0.63).abs() < 0.05,
        "2 of 3: {profile}"
    );
    assert_eq!(results[1]["label"], "IBAN_CODE", "{profile}");
    assert_eq!(results[2]["label"], "NONE", "{profile}");
    let (status, problem) = call(&app, "/api/v1/profile", serde_json::json!({})).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.columns", "{problem}");

    let (status, masked) = call(
        &app,
        "/api/v1/mask/run",
        serde_json::json!({
            "requestId": "mask-001",
            "mode": "MULTI_RULE_BATCH",
            "records": [
                { "ruleName": "EMAIL_ADDRESS", "value": "john.doe@example.com" },
                { "ruleName": "DOB", "value": "1985-02-03" },
                { "ruleName": "CREDIT_CARD", "value": "4111 1111 1111 1111" }
            ]
        }),
    )
    .await;
    assert_eq!(status, 200, "{masked}");
    let records = masked["maskedRecords"].as_array().unwrap();
    assert_eq!(records[0]["value"], "****.***@example.com", "{masked}");
    assert_eq!(records[0]["ruleName"], "EMAIL_ADDRESS");
    assert_eq!(records[1]["value"], "1985-**-**", "{masked}");
    assert_eq!(records[2]["value"], "**** **** **** 1111", "{masked}");
    let (status, problem) = call(
        &app,
        "/api/v1/mask/run",
        serde_json::json!({ "records": [{ "ruleName": "NOPE", "value": "x" }] }),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], "body.records[0].ruleName", "{problem}");
    app.stop().await;
}
both_modes!(columns_are_profiled_and_values_masked_by_rule);
