//! A recognizer that fails fails the request on every surface, and never answers as if the
//! text held nothing it looks for; skipping it must be asked for, and the answer says so.

use std::path::Path;

use serde_json::{Value, json};

use crate::binary::bare_command;
use crate::support::{Mode, TestSetup, required_env};

/// A word the broken model's tokenizer knows and its weights do not.
const BREAKING_WORD: &str = "zzqxj";
const BROKEN_ID: &str = "broken";

/// A copy of the default model whose tokenizer gives [`BREAKING_WORD`] an id past the end
/// of the embeddings, as a model assembled from mismatched files would: it loads, runs on
/// other texts, and fails inference on any text with that word.
fn broken_model(models_dir: &Path) {
    let source = Path::new(&required_env("OBSCURA_TEST_MODELS_DIR")).join("rampart");
    let target = models_dir.join(BROKEN_ID);
    std::fs::create_dir_all(&target).unwrap();
    for name in ["config.json", "model.safetensors", "LICENSE", "NOTICE", "ATTRIBUTION"] {
        if source.join(name).exists() {
            std::os::unix::fs::symlink(source.join(name), target.join(name)).unwrap();
        }
    }
    let mut tokenizer: Value = serde_json::from_slice(&std::fs::read(source.join("tokenizer.json")).unwrap()).unwrap();
    let vocab = tokenizer["model"]["vocab"].as_object_mut().unwrap();
    let past_the_end = vocab.len();
    vocab.insert(BREAKING_WORD.to_owned(), json!(past_the_end));
    std::fs::write(target.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let mut entry: Value = serde_json::from_slice(&std::fs::read(source.join("obscura-model.json")).unwrap()).unwrap();
    entry["id"] = json!(BROKEN_ID);
    std::fs::write(target.join("obscura-model.json"), entry.to_string()).unwrap();
}

fn text() -> String {
    format!("Escriba a ana.lopez@example.com sobre {BREAKING_WORD}.")
}

async fn a_failing_recognizer_fails_every_text_endpoint_unless_skipping_is_asked_for(mode: Mode) {
    let models = tempfile::tempdir().unwrap();
    broken_model(models.path());
    let mut setup = TestSetup::new(mode).await;
    setup
        .set("OBSCURA__MODELS__DIR", &models.path().display().to_string())
        .set("OBSCURA__MODELS__NER", BROKEN_ID);
    let app = setup.start().await;
    let text = text();

    // The model loaded and runs on a text without the word.
    let response = app
        .post("/api/v1/detect")
        .json(&json!({ "text": "Escriba a ana.lopez@example.com.", "language": "es" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["skipped_recognizers"], json!([]), "{body}");

    // Each surface, and where its answer holds the rewritten text.
    let surfaces = [
        ("/api/v1/detect", json!({ "text": text, "language": "es" }), None),
        (
            "/api/v1/redact",
            json!({ "text": text, "language": "es" }),
            Some("/redacted_text"),
        ),
        (
            "/api/v1/sanitize",
            json!({ "content": text, "language": "es" }),
            Some("/sanitized_content"),
        ),
        (
            "/api/v1/sanitize",
            json!({ "content": {"note": text}, "language": "es" }),
            Some("/sanitized_content/note"),
        ),
    ];
    for (path, body, rewritten) in &surfaces {
        let response = app.post(path).json(body).send().await.unwrap();
        assert_eq!(response.status(), 503, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "recognizer_failed", "{path}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("ner/broken"), "{problem}");
        assert!(!problem.to_string().contains("ana.lopez"), "{problem}");

        let mut skipping = body.clone();
        skipping["on_recognizer_error"] = json!("skip");
        let response = app.post(path).json(&skipping).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            answer["skipped_recognizers"][0]["recognizer"], "ner/broken",
            "{path}: {answer}"
        );
        // The recognizers that work still did their part.
        match rewritten {
            None => assert_eq!(answer["entities"][0]["entity_type"], "EMAIL_ADDRESS", "{answer}"),
            Some(pointer) => {
                let written = answer.pointer(pointer).and_then(Value::as_str).unwrap();
                assert!(!written.contains("ana.lopez"), "{path}: {answer}");
            }
        }
    }

    // `/anonymize` answers the value itself, so the skipped recognizers travel in a header.
    let response = app
        .post("/api/v1/anonymize?language=es")
        .json(&json!({ "note": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "recognizer_failed", "{problem}");
    let response = app
        .post("/api/v1/anonymize?language=es&on_recognizer_error=skip")
        .json(&json!({ "note": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["obscura-skipped-recognizers"].to_str().unwrap(),
        "ner/broken"
    );
    let value: Value = response.json().await.unwrap();
    assert!(!value["note"].as_str().unwrap().contains("ana.lopez"), "{value}");
    app.stop().await;
}
crate::both_modes!(a_failing_recognizer_fails_every_text_endpoint_unless_skipping_is_asked_for);

#[test]
fn anonymize_file_fails_on_a_failing_recognizer_and_writes_nothing_unless_told_to_skip() {
    let directory = tempfile::tempdir().unwrap();
    let models = directory.path().join("models");
    broken_model(&models);
    let input = directory.path().join("nota.txt");
    std::fs::write(&input, text()).unwrap();
    let output = directory.path().join("nota-anonima.txt");
    let report_path = directory.path().join("report.json");
    let run = |extra: &[&str]| {
        bare_command(directory.path())
            .env("OBSCURA__MODELS__DIR", &models)
            .env("OBSCURA__MODELS__NER", BROKEN_ID)
            .args(["anonymize-file", "--language", "es", "--out"])
            .arg(&output)
            .arg("--report")
            .arg(&report_path)
            .args(extra)
            .arg(&input)
            .output()
            .unwrap()
    };

    let failed = run(&[]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("ner/broken"), "{stderr}");
    assert!(!output.exists());
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report[0]["error"]["code"], "recognizer_failed", "{report}");

    let skipped = run(&["--on-recognizer-error", "skip"]);
    assert!(skipped.status.success(), "{}", String::from_utf8_lossy(&skipped.stderr));
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(stderr.contains("ner/broken") && stderr.contains("skipped"), "{stderr}");
    let written = std::fs::read_to_string(&output).unwrap();
    assert!(!written.contains("ana.lopez"), "{written}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(
        report[0]["result"]["skipped_recognizers"][0]["recognizer"], "ner/broken",
        "{report}"
    );
}
