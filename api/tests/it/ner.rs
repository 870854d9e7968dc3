//! The default NER model in the service: health, model listing, and detection with and
//! without it.

use crate::both_modes;
use crate::support::{Mode, TestApp, TestSetup};

/// The body of `POST /api/v1/detect` for `text` with `profile`.
async fn detect(app: &TestApp, text: &str, profile: &str) -> serde_json::Value {
    app.post("/api/v1/detect")
        .json(&serde_json::json!({ "text": text, "profile": profile, "explain": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn ner_runs_in_the_standard_profile(mode: Mode) {
    let mut setup = TestSetup::new(mode).await;
    setup.with_ner();
    let app = setup.start().await;

    let health: serde_json::Value = app.get("/health").send().await.unwrap().json().await.unwrap();
    assert_eq!(health["components"]["ner"]["status"], "up", "{health}");

    let models: serde_json::Value = app.get("/api/v1/models").send().await.unwrap().json().await.unwrap();
    let rampart = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|model| model["id"] == "rampart")
        .unwrap_or_else(|| panic!("rampart not listed: {models}"));
    assert_eq!(rampart["loaded"], true);
    assert_eq!(rampart["license"], "CC-BY-4.0");
    assert!(
        rampart["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entity| entity == "PERSON")
    );

    // A name that no word list holds, so only the model can find it.
    let text = "Our new hire is Xiomara Quillfeather; she reports to the board.";
    let body = detect(&app, text, "standard").await;
    let characters: Vec<char> = text.chars().collect();
    let person = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["entity_type"] == "PERSON")
        .unwrap_or_else(|| panic!("no person in {body}"));
    let (start, end) = (
        person["start"].as_u64().unwrap() as usize,
        person["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        characters[start..end].iter().collect::<String>(),
        "Xiomara Quillfeather"
    );
    assert_eq!(person["recognizer"], "ner/rampart", "{person}");

    // The minimal profile has no NER engine.
    let minimal = detect(&app, text, "minimal").await;
    assert!(minimal["entities"].as_array().unwrap().is_empty(), "{minimal}");
    app.stop().await;
}
both_modes!(ner_runs_in_the_standard_profile);

#[tokio::test]
async fn a_missing_model_is_reported_and_detection_goes_on_without_it() {
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__MODELS__NER", "not-installed");
    let app = setup.start().await;
    let response = app.get("/health").send().await.unwrap();
    assert_eq!(response.status(), 503);
    let health: serde_json::Value = response.json().await.unwrap();
    assert_eq!(health["components"]["ner"]["status"], "down");
    let detail = health["components"]["ner"]["detail"].as_str().unwrap();
    assert!(detail.contains("obscura models install not-installed"), "{detail}");

    let body = detect(&app, "mail me at ana@example.com", "standard").await;
    assert_eq!(body["entities"][0]["entity_type"], "EMAIL_ADDRESS", "{body}");
    app.stop().await;
}
