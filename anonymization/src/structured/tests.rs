//! JSON, HTML and CSV anonymization, and key names as hints.

use serde_json::Value;

use super::*;
use crate::Scope;
use crate::given::Finder;
use crate::operator::{Operator, Template};
use crate::vault::{MemoryVault, VaultKeys};
use crate::{Policy, ScopeSecrets};
use obscura_detection::detect::{DetectOptions, Detector};

/// Runs `work` with the built-in detector, Spanish options, the default `replace`
/// policy and a fresh vault.
fn in_scope<T>(work: impl FnOnce(&Detector, &DetectOptions, &Policy, &mut Scope<'_>) -> T) -> T {
    let detector = Detector::with_builtin_packs().unwrap();
    let keys = VaultKeys::new("k", &[1; 32]).unwrap();
    let secrets = ScopeSecrets::new(b"structured test secret");
    let mut vault = MemoryVault::new();
    let mut scope = Scope {
        vault: &mut vault,
        keys: &keys,
        secrets: &secrets,
        language: "es".into(),
    };
    let policy = Policy::uniform(Operator::Replace {
        template: Template::default(),
    });
    let options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    work(&detector, &options, &policy, &mut scope)
}

fn run(value: &Value, options: &JsonOptions) -> Result<(Value, Vec<JsonReplacement>), StructuredError> {
    in_scope(|detector, detect_options, policy, scope| {
        anonymize_json(
            value,
            &Finder::detecting(detector, detect_options),
            policy,
            scope,
            options,
        )
        .map(|output| (output.content, output.replacements))
    })
}

#[test]
fn only_strings_change_and_the_structure_stays() {
    let value = serde_json::json!({
        "nombre": "Rosa",
        "email": "rosa.garcia@example.com",
        "contacto": {"telefono": "+34 612 345 678", "nota": "escribir a rosa.garcia@example.com"},
        "edad": 41,
        "activo": true,
        "baja": null,
        "ids": ["12345678Z", 7],
        "color": "rosa"
    });
    let (output, replacements) = run(&value, &JsonOptions::default()).unwrap();
    assert_eq!(output["nombre"], "<PERSON_1>");
    assert_eq!(output["email"], "<EMAIL_ADDRESS_1>");
    // The same value gets the same replacement.
    assert_eq!(output["contacto"]["nota"], "escribir a <EMAIL_ADDRESS_1>");
    assert_eq!(output["contacto"]["telefono"], "<PHONE_NUMBER_1>");
    assert_eq!(output["edad"], 41);
    assert_eq!(output["activo"], true);
    assert_eq!(output["baja"], Value::Null);
    assert_eq!(output["ids"][1], 7);
    assert_ne!(output["ids"][0], "12345678Z");
    // Not under a name key: the colour stays.
    assert_eq!(output["color"], "rosa");
    assert!(
        replacements
            .iter()
            .any(|replacement| replacement.path == "contacto.nota")
    );
    assert!(replacements.iter().any(|replacement| replacement.path == "ids[0]"));
}

#[test]
fn paths_are_included_and_excluded() {
    let value = serde_json::json!({
        "user": {"email": "ana@example.com"},
        "audit": {"by": "ana@example.com"},
        "items": [{"email": "luis@example.com"}]
    });
    let only_user = JsonOptions {
        include_paths: vec!["user".into(), "items[*].email".into()],
        ..JsonOptions::default()
    };
    let (output, _) = run(&value, &only_user).unwrap();
    assert_eq!(output["audit"]["by"], "ana@example.com");
    assert_ne!(output["user"]["email"], "ana@example.com");
    assert_ne!(output["items"][0]["email"], "luis@example.com");
    let without_audit = JsonOptions {
        exclude_paths: vec!["$.audit".into()],
        ..JsonOptions::default()
    };
    let (output, _) = run(&value, &without_audit).unwrap();
    assert_eq!(output["audit"]["by"], "ana@example.com");
    assert!(matches!(
        run(
            &value,
            &JsonOptions {
                exclude_paths: vec!["a..b".into()],
                ..JsonOptions::default()
            }
        ),
        Err(StructuredError::InvalidPath { .. })
    ));
}

#[test]
fn depth_and_size_limits_are_errors() {
    let mut deep = Value::String("x".into());
    for _ in 0..10 {
        deep = serde_json::json!([deep]);
    }
    let shallow = JsonOptions {
        max_depth: 5,
        ..JsonOptions::default()
    };
    let error = run(&deep, &shallow).unwrap_err();
    assert_eq!(error.code(), "json_too_deep");
    assert!(error.to_string().contains("[0][0][0][0][0]"), "{error}");
    let few = JsonOptions {
        max_strings: 2,
        ..JsonOptions::default()
    };
    let error = run(&serde_json::json!(["a", "b", "c"]), &few).unwrap_err();
    assert_eq!(error.code(), "json_too_many_strings");
}

#[test]
fn html_markup_stays_and_only_text_changes() {
    let html = r#"<div class="ana@example.com"><p title="Ana García">Escribir a ana@example.com &amp; <a href="mailto:ana@example.com">aquí</a></p></div>"#;
    let result = in_scope(|detector, options, policy, scope| {
        anonymize_html(html, &Finder::detecting(detector, options), policy, scope)
    })
    .unwrap();
    assert_eq!(
        result.text,
        r#"<div class="ana@example.com"><p title="Ana García">Escribir a &lt;EMAIL_ADDRESS_1&gt; &amp; <a href="mailto:&lt;EMAIL_ADDRESS_1&gt;">aquí</a></p></div>"#
    );
    for replacement in &result.replacements {
        assert_eq!(
            &result.text[replacement.output_start..replacement.output_end],
            "&lt;EMAIL_ADDRESS_1&gt;"
        );
    }
}

#[test]
fn csv_columns_use_their_headers_as_hints() {
    let text = "nombre,email,nota,importe\nRosa,rosa@example.com,\"llamar, luego, a rosa@example.com\",12.5\nLuis,,sin datos,3\n";
    let csv = |options: &CsvOptions| {
        in_scope(|detector, detect_options, policy, scope| {
            let output = anonymize_csv(
                text,
                &Finder::detecting(detector, detect_options),
                policy,
                scope,
                options,
            )
            .unwrap();
            (output.content, output.replacements)
        })
    };
    let (output, replacements) = csv(&CsvOptions::default());
    assert_eq!(
        output,
        "nombre,email,nota,importe\n<PERSON_1>,<EMAIL_ADDRESS_1>,\"llamar, luego, a <EMAIL_ADDRESS_1>\",12.5\n<PERSON_2>,,sin datos,3\n"
    );
    assert!(replacements.iter().any(|replacement| replacement.path == "[2].email"));
    let (output, _) = csv(&CsvOptions {
        exclude_columns: vec!["nombre".into()],
        ..CsvOptions::default()
    });
    assert!(output.contains("\nRosa,"));
}

#[test]
fn key_names_hint_at_types() {
    assert_eq!(key_hint("email"), Some("EMAIL_ADDRESS"));
    assert_eq!(key_hint("contactEmail"), Some("EMAIL_ADDRESS"));
    assert_eq!(key_hint("telefono_movil"), Some("PHONE_NUMBER"));
    assert_eq!(key_hint("firstName"), Some("PERSON"));
    assert_eq!(key_hint("apellidos"), Some("PERSON"));
    assert_eq!(key_hint("file_name"), None);
    assert_eq!(key_hint("username"), None);
    assert_eq!(key_hint("fecha_nacimiento"), Some("DATE_OF_BIRTH"));
    assert_eq!(key_hint("status"), None);
}
