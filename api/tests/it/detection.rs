//! `/api/v1/detect` and the detection listings.

use crate::support::{Mode, spawn_app};

#[tokio::test]
async fn detect_reports_code_point_offsets_and_explanations() {
    let app = spawn_app(Mode::Embedded).await;
    // Non-ASCII before the entities, so byte and code-point offsets differ.
    let text = "Señor Núñez, DNI 12345678Z, correo núñez@example.es, tarjeta ４１１１ １１１１ １１１１ １１１１.";
    let response = app
        .post("/api/v1/detect")
        .json(&serde_json::json!({ "text": text, "language": "es", "explain": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let characters: Vec<char> = text.chars().collect();
    let found: Vec<(String, String)> = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entity| {
            let start = entity["start"].as_u64().unwrap() as usize;
            let end = entity["end"].as_u64().unwrap() as usize;
            (
                entity["entity_type"].as_str().unwrap().to_owned(),
                characters[start..end].iter().collect(),
            )
        })
        .collect();
    for (entity, value) in [
        ("ES_NIF", "12345678Z"),
        ("EMAIL_ADDRESS", "núñez@example.es"),
        ("CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１"),
    ] {
        assert!(
            found.iter().any(|(kind, text)| kind == entity && text == value),
            "{entity} {value} not in {found:?}"
        );
    }
    assert_eq!(body["detection_count"].as_u64().unwrap() as usize, found.len());
    let card = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["entity_type"] == "CREDIT_CARD")
        .unwrap();
    assert_eq!(card["explanation"]["validator"], "luhn");
    assert_eq!(card["explanation"]["validator_passed"], true);
    app.stop().await;
}

#[tokio::test]
async fn detect_options_are_honoured_and_bad_ones_named() {
    let app = spawn_app(Mode::Embedded).await;
    let text = "Write to ana@example.es or call +34 612 34 56 78 about Project Falcon.";
    let body: serde_json::Value = app
        .post("/api/v1/detect")
        .json(&serde_json::json!({
            "text": text,
            "entities": ["email", "CUSTOM"],
            "deny_list": ["Project Falcon"],
            "allow_list": ["ANA@example.es"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = body["entities"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|entity| entity["entity_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CUSTOM"], "{body}");

    for (request, loc) in [
        (
            serde_json::json!({ "text": "x", "entities": ["FAVOURITE_COLOUR"] }),
            None,
        ),
        (
            serde_json::json!({ "text": "x", "profile": "nope" }),
            Some("body.profile"),
        ),
        (
            serde_json::json!({ "text": "x", "pattern_packs": ["nope"] }),
            Some("body.pattern_packs"),
        ),
        (serde_json::json!({ "text": "x", "min_score": 2.0 }), None),
    ] {
        let response = app.post("/api/v1/detect").json(&request).send().await.unwrap();
        assert_eq!(response.status(), 400, "{request}");
        let body: serde_json::Value = response.json().await.unwrap();
        if let Some(loc) = loc {
            assert_eq!(body["errors"][0]["loc"], loc, "{body}");
        }
    }
    let response = app
        .post("/api/v1/detect")
        .json(&serde_json::json!({ "text": "x", "entities": ["FAVOURITE_COLOUR"] }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unknown_entity");
    assert!(body["detail"].as_str().unwrap().contains("FAVOURITE_COLOUR"));
    app.stop().await;
}

#[tokio::test]
async fn listings_describe_the_taxonomy_packs_and_profiles() {
    let app = spawn_app(Mode::Embedded).await;
    let entities: serde_json::Value = app.get("/api/v1/entities").send().await.unwrap().json().await.unwrap();
    let nif = entities
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["name"] == "ES_NIF")
        .unwrap();
    assert!(nif["aliases"].as_array().unwrap().iter().any(|alias| alias == "DNI"));

    let packs: serde_json::Value = app
        .get("/api/v1/pattern-packs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = packs
        .as_array()
        .unwrap()
        .iter()
        .map(|pack| pack["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "secrets", "finance", "healthcare", "es", "en"]);

    let profiles: serde_json::Value = app.get("/api/v1/profiles").send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = profiles
        .as_array()
        .unwrap()
        .iter()
        .map(|profile| profile["name"].as_str().unwrap())
        .collect();
    for name in [
        "minimal",
        "standard",
        "healthcare-en",
        "healthcare-es",
        "legal-es",
        "high-security",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }

    let recognizers: serde_json::Value = app
        .get("/api/v1/recognizers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let card = recognizers
        .as_array()
        .unwrap()
        .iter()
        .find(|recognizer| recognizer["name"] == "default/credit_card")
        .unwrap();
    assert_eq!(card["settings"]["validator"], "luhn");
    assert!(
        recognizers
            .as_array()
            .unwrap()
            .iter()
            .any(|recognizer| recognizer["kind"] == "phone")
    );
    assert!(
        recognizers
            .as_array()
            .unwrap()
            .iter()
            .any(|recognizer| recognizer["kind"] == "entropy")
    );
    app.stop().await;
}
