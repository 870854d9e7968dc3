//! The `obscura` binary itself: zero-configuration start, config errors, SIGTERM, migrations.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{free_port, fresh_postgres_database, obscura_binary, wait_until_listening};

/// Kills the child if a test fails before it is waited for.
struct KillOnDrop(Option<std::process::Child>);

impl KillOnDrop {
    fn id(&self) -> u32 {
        self.0.as_ref().map(std::process::Child::id).unwrap_or_default()
    }

    fn take(mut self) -> std::process::Child {
        self.0.take().expect("the child is still owned")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn bare_command(directory: &std::path::Path) -> Command {
    let mut command = Command::new(obscura_binary());
    command
        .current_dir(directory)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[tokio::test]
async fn serve_starts_with_no_configuration_in_an_empty_directory() {
    let directory = tempfile::tempdir().unwrap();
    // The default model where `scripts/run` installs it: ./data/models.
    std::fs::create_dir_all(directory.path().join("data")).unwrap();
    std::os::unix::fs::symlink(
        crate::support::required_env("OBSCURA_TEST_MODELS_DIR"),
        directory.path().join("data/models"),
    )
    .unwrap();
    let port = free_port();
    let child = KillOnDrop(Some(
        bare_command(directory.path())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(30)).await;
    // The process declined transparent huge pages (see main.rs).
    let pid = child.0.as_ref().unwrap().id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("THP_enabled:\t0"), "{status}");
    // Started without OMP_THREAD_LIMIT, it started itself again with it (see main.rs).
    let environment = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        environment
            .split(|&byte| byte == 0)
            .any(|entry| entry == b"OMP_THREAD_LIMIT=1"),
        "{}",
        String::from_utf8_lossy(&environment)
    );

    let client = reqwest::Client::new();
    let health: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["components"]["database"]["backend"], "sqlite");
    assert_eq!(health["components"]["storage"]["backend"], "local");
    assert_eq!(health["components"]["ner"]["status"], "up", "{health}");

    let data = directory.path().join("data");
    assert!(data.join("obscura.db").is_file());
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700,
        "the data directory is private"
    );
    assert!(data.join("blobs").is_dir());
    let key_file = data.join("admin-key");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key = std::fs::read_to_string(&key_file).unwrap().trim().to_owned();
    let response = client
        .get(format!("{base}/api/v1/jobs"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let child = child.take();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "exit status {}", output.status);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(&key), "the generated key is printed once");
    assert_eq!(stdout.matches(&key).count(), 1);
}

#[test]
fn an_invalid_setting_names_the_variable_to_fix() {
    let directory = tempfile::tempdir().unwrap();
    let output = bare_command(directory.path())
        .arg("serve")
        .env("OBSCURA__SERVER__BIND", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("OBSCURA__SERVER__BIND"), "{stderr}");

    let output = bare_command(directory.path())
        .arg("serve")
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr).unwrap().contains("DATABASE_URL"));
}

#[test]
fn check_reports_reachable_dependencies_and_fails_on_a_dead_one() {
    let directory = tempfile::tempdir().unwrap();
    let output = bare_command(directory.path()).arg("check").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("database (sqlite): up") && stdout.contains("storage (local): up"),
        "{stdout}"
    );

    let output = bare_command(directory.path())
        .arg("check")
        .env(
            "DATABASE_URL",
            format!("postgres://nobody@127.0.0.1:{}/none", free_port()),
        )
        .env("OBSCURA__DATABASE__CONNECT_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not connect to the database"));
}

#[test]
fn openapi_command_prints_the_document() {
    let directory = tempfile::tempdir().unwrap();
    let output = bare_command(directory.path()).arg("openapi").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        obscura_api::openapi::openapi_json()
    );
}

#[tokio::test]
async fn concurrent_migrations_on_postgres_do_not_race() {
    let url = fresh_postgres_database().await;
    let directory = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            bare_command(directory.path())
                .arg("migrate")
                .env("DATABASE_URL", &url)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM seaql_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, obscura_migration_count());
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tenants, 1, "the default tenant is created once");
}

fn obscura_migration_count() -> i64 {
    use sea_orm_migration::MigratorTrait;
    obscura_migration::Migrator::migrations().len() as i64
}

#[tokio::test]
async fn personal_data_in_requests_never_reaches_the_logs() {
    let directory = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_path = directory.path().join("stderr.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let key = format!("obs_logcheck_{}", uuid::Uuid::new_v4().simple());
    let child = KillOnDrop(Some(
        bare_command(directory.path())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("OBSCURA__LOG__FILTER", "trace,sqlx=info,hyper=info,h2=info")
            .env("OBSCURA__LOG__FORMAT", "json")
            .env("OBSCURA__AUTH__BOOTSTRAP_KEY", &key)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    ));
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(30)).await;
    let client = reqwest::Client::new();
    let diagnostic = format!("{base}/api/v1/jobs/diagnostic");

    let pii = [
        "Juan Pérez García",
        "12345678Z",
        "juan.perez@example.com",
        "+34 612 345 678",
        "ES91 2100 0418 4502 0005 1332",
    ];
    // PII as a wrongly typed value, as an unknown field, in malformed JSON, in the query,
    // in headers, and as a wrong API key.
    let bodies = [
        format!("{{\"blob_bytes\": \"{}\"}}", pii[0]),
        format!("{{\"blob_bytes\": 1, \"{}\": \"{}\"}}", pii[1], pii[2]),
        format!("{{\"blob_bytes\": {}", pii[3]),
    ];
    for body in bodies {
        let response = client
            .post(&diagnostic)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
        let text = response.text().await.unwrap();
        for value in pii {
            assert!(!text.contains(value), "the answer echoes {value}: {text}");
        }
    }
    let response = client
        .get(format!("{base}/api/v1/jobs?limit={}", pii[4].replace(' ', "+")))
        .bearer_auth(&key)
        .header("x-request-id", pii[2])
        .header("user-agent", pii[0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = client
        .get(format!("{base}/api/v1/jobs"))
        .bearer_auth(pii[1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(&diagnostic)
        .bearer_auth(&key)
        .json(&serde_json::json!({ "blob_bytes": 64 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    // Anonymization, sanitization with a session, rehydration and decryption see the values
    // themselves; their logs must not.
    let text = pii.join(", ");
    for (path, body) in [
        (
            "redact",
            serde_json::json!({ "text": text, "language": "es", "operator": "surrogate" }),
        ),
        (
            "redact",
            serde_json::json!({ "text": text, "language": "es", "operator": "encrypt" }),
        ),
        (
            "sanitize",
            serde_json::json!({ "content": text, "language": "es", "session_id": "new" }),
        ),
        (
            "validate",
            serde_json::json!({ "original": pii[1], "masked": pii[1], "entity_type": "ES_NIF" }),
        ),
    ] {
        let response = client
            .post(format!("{base}/api/v1/{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let answer: serde_json::Value = response.json().await.unwrap();
        if let Some(session_id) = answer.get("session_id") {
            let response = client
                .post(format!("{base}/api/v1/rehydrate"))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "masked_content": answer["sanitized_content"], "session_id": session_id }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    let response = client
        .post(format!("{base}/api/v1/anonymize?language=es"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "nombre": pii[0], "dni": pii[1], "email": pii[2] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child.take();
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success());

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.lines().count() > 10,
        "the server logged too little to prove anything: {logs}"
    );
    assert!(logs.contains("request_id"), "requests are logged with their id");
    for value in pii.iter().chain([key.as_str()].iter()) {
        assert!(!logs.contains(value), "{value} reached the logs");
    }
    // The JSON escaper writes non-ASCII as-is, but check the escaped form of the name too.
    assert!(!logs.contains("P\\u00e9rez"), "an escaped name reached the logs");
}

#[test]
fn keys_can_be_created_listed_and_revoked_from_the_command_line() {
    let directory = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| bare_command(directory.path()).args(args).output().unwrap();

    let output = run(&["keys", "create", "--name", "reporting", "--role", "viewer"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|value| value.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
    };
    let id = field("id:");
    assert!(field("key:").starts_with("obs_"));
    assert_eq!(field("role:"), "viewer");

    let listed = String::from_utf8(run(&["keys", "list"]).stdout).unwrap();
    assert!(listed.contains(&id) && listed.contains("active"), "{listed}");
    assert!(!listed.contains(&field("key:")), "list never shows secrets");

    assert!(run(&["keys", "revoke", &id]).status.success());
    let listed = String::from_utf8(run(&["keys", "list"]).stdout).unwrap();
    assert!(listed.contains("revoked"), "{listed}");
    let again = run(&["keys", "revoke", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("does not exist"));
}

#[test]
fn anonymize_command_handles_text_and_json() {
    let directory = tempfile::tempdir().unwrap();
    let text_path = directory.path().join("note.txt");
    std::fs::write(&text_path, "Escribe a ana@example.com o a ana@example.com.").unwrap();
    let output = bare_command(directory.path())
        .args(["anonymize", "--language", "es", "--text"])
        .arg(&text_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "Escribe a <EMAIL_ADDRESS_1> o a <EMAIL_ADDRESS_1>."
    );

    let json_path = directory.path().join("record.json");
    let report_path = directory.path().join("report.json");
    std::fs::write(&json_path, r#"{"email": "ana@example.com", "age": 41}"#).unwrap();
    let output = bare_command(directory.path())
        .args(["anonymize", "--level", "intermediate", "--language", "es", "--json"])
        .arg(&json_path)
        .arg("--report")
        .arg(&report_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value, serde_json::json!({"email": "EMAIL-001", "age": 41}));
    let report = std::fs::read_to_string(&report_path).unwrap();
    assert!(
        report.contains("\"path\": \"email\"") && !report.contains("ana@example.com"),
        "{report}"
    );

    let output = bare_command(directory.path())
        .args(["anonymize", "--operator", "scramble", "--text"])
        .arg(&text_path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--operator \"scramble\""));
}

#[test]
fn detect_and_eval_run_the_engines_named_on_the_command_line() {
    let directory = tempfile::tempdir().unwrap();
    let text_path = directory.path().join("note.txt");
    std::fs::write(&text_path, "Maria Garcia wrote from maria@example.com.").unwrap();
    let types = |engines: &str| -> Vec<String> {
        let output = bare_command(directory.path())
            .args(["detect", "--profile", "standard", "--engines", engines])
            .arg(&text_path)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let detections = value
            .get("detections")
            .and_then(serde_json::Value::as_array)
            .or_else(|| value.as_array())
            .unwrap();
        detections
            .iter()
            .map(|detection| detection["entity_type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types("patterns"), ["EMAIL_ADDRESS"]);
    assert_eq!(types("gazetteer"), ["PERSON"]);

    let data_path = directory.path().join("data.jsonl");
    std::fs::write(
        &data_path,
        r#"{"id": "1", "text": "Maria Garcia wrote from maria@example.com.", "spans": [{"start": 24, "end": 41, "label": "EMAIL_ADDRESS"}, {"start": 0, "end": 12, "label": "PERSON"}]}"#,
    )
    .unwrap();
    let output = bare_command(directory.path())
        .args([
            "eval",
            "--profile",
            "standard",
            "--engines",
            "patterns",
            "--json",
            "--data",
        ])
        .arg(&data_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The email is found and the name, which only the word lists know, is not.
    assert_eq!(report["micro"]["exact"]["gold"], 2, "{report}");
    assert_eq!(report["micro"]["exact"]["found_gold"], 1, "{report}");

    let output = bare_command(directory.path())
        .args(["detect", "--engines", "regexes"])
        .arg(&text_path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("regexes"));
}

#[test]
fn anonymize_file_processes_a_folder_with_one_alias_per_person() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("in");
    std::fs::create_dir_all(input.join("cartas")).unwrap();
    std::fs::write(
        input.join("contrato.docx"),
        include_bytes!("../../../documents/tests/fixtures/documents/contract.docx"),
    )
    .unwrap();
    std::fs::write(
        input.join("cartas/nota.txt"),
        "Alejandro Martínez Soto llamó desde el +34 612 345 678.\n",
    )
    .unwrap();
    let output = directory.path().join("out");
    let report_path = directory.path().join("report.json");
    let run = bare_command(directory.path())
        .args(["anonymize-file", "--language", "es", "--out"])
        .arg(&output)
        .arg("--report")
        .arg(&report_path)
        .arg(&input)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let note = std::fs::read_to_string(output.join("cartas/nota.txt")).unwrap();
    assert_eq!(note, "PERSONA-001 llamó desde el TELEFONO-001.\n");
    let docx = std::fs::read(output.join("contrato.docx")).unwrap();
    assert!(docx.starts_with(b"PK\x03\x04"));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let files = report.as_array().unwrap();
    assert_eq!(files.len(), 2);
    for file in files {
        assert_eq!(file["result"]["leak_check"]["status"], "passed", "{file}");
    }
    // The person of the letter is the contract's first person too.
    let contract = files
        .iter()
        .find(|file| file["input"].as_str().unwrap().ends_with("contrato.docx"))
        .unwrap();
    assert!(
        contract["result"]["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entity| entity["alias"] == "PERSONA-001" && entity["location"] == "word/document.xml")
    );
    assert!(!report.to_string().contains("Martínez"));

    // A broken file is reported and the run fails; the others are still written.
    std::fs::write(input.join("roto.docx"), b"PK\x03\x04 not really").unwrap();
    let run = bare_command(directory.path())
        .args(["anonymize-file", "--language", "es", "--format", "txt", "--out"])
        .arg(directory.path().join("out2"))
        .arg(&input)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("roto.docx") && stderr.contains("damaged"), "{stderr}");
    let text = std::fs::read_to_string(directory.path().join("out2/contrato.txt")).unwrap();
    assert!(text.contains("Reunidos, de una parte, D. PERSONA-001"), "{text}");
}

/// A JSONL line of `text` with each `(value, label)` span at the value's first occurrence.
fn labelled(text: &str, spans: &[(&str, &str)]) -> String {
    let spans: Vec<serde_json::Value> = spans
        .iter()
        .map(|(value, label)| {
            let byte = text.find(value).unwrap_or_else(|| panic!("{value} not in {text}"));
            let start = text[..byte].chars().count();
            serde_json::json!({"start": start, "end": start + value.chars().count(), "label": label})
        })
        .collect();
    serde_json::json!({"id": text.len().to_string(), "text": text, "spans": spans}).to_string() + "\n"
}

/// `models install obscura-es-en` runs both stages of its recipe on the installed default
/// model and leaves one model behind. The data here is a few sentences in each set's
/// labels, so the run takes seconds; the recipe's figures come from the full sets.
#[test]
fn the_es_en_model_is_rebuilt_by_its_two_training_stages() {
    let directory = tempfile::tempdir().unwrap();
    let models = directory.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::os::unix::fs::symlink(
        std::path::Path::new(&crate::support::required_env("OBSCURA_TEST_MODELS_DIR")).join("rampart"),
        models.join("rampart"),
    )
    .unwrap();
    let datasets = directory.path().join("datasets");
    let repository = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../datasets");
    std::fs::create_dir_all(datasets.join("label-maps")).unwrap();
    for map in ["meddocan", "echr-es", "synthetic-en"] {
        std::fs::copy(
            repository.join(format!("label-maps/{map}.yaml")),
            datasets.join(format!("label-maps/{map}.yaml")),
        )
        .unwrap();
    }
    let clinical = [
        labelled(
            "Paciente: Ana Gómez Ruiz, de 45 años, ingresa en el Hospital Clínico de Valencia.",
            &[
                ("Ana Gómez Ruiz", "NOMBRE_SUJETO_ASISTENCIA"),
                ("45 años", "EDAD_SUJETO_ASISTENCIA"),
                ("Hospital Clínico", "HOSPITAL"),
                ("Valencia", "TERRITORIO"),
            ],
        ),
        labelled(
            "Remitido por el Dr. Luis Pérez el 3 de marzo de 2019 desde Madrid.",
            &[
                ("Luis Pérez", "NOMBRE_PERSONAL_SANITARIO"),
                ("3 de marzo de 2019", "FECHAS"),
                ("Madrid", "TERRITORIO"),
            ],
        ),
    ]
    .concat();
    let legal = labelled(
        "El demandante, Juan Martín, residía en Sevilla y acudió al Tribunal Supremo.",
        &[("Juan Martín", "PER"), ("Sevilla", "LOC"), ("Tribunal Supremo", "ORG")],
    );
    let english = labelled(
        "Mary Walsh works for Barnett, Melton and Garcia in Boston.",
        &[
            ("Mary Walsh", "PERSON"),
            ("Barnett, Melton and Garcia", "ORGANIZATION"),
            ("Boston", "LOCATION"),
        ],
    );
    for (path, lines) in [
        ("meddocan/train.jsonl", &clinical),
        ("meddocan/dev.jsonl", &clinical),
        ("echr-es/train.jsonl", &legal),
        ("synthetic-en/train.jsonl", &english),
        ("synthetic-en/dev.jsonl", &english),
    ] {
        let path = datasets.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines).unwrap();
    }

    let models_dir = models.to_str().unwrap();
    let output = bare_command(directory.path())
        .args(["models", "install", "obscura-es-en", "--models-dir", models_dir])
        .arg("--datasets")
        .arg(&datasets)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("stage 1 of 2") && stderr.contains("stage 2 of 2"),
        "{stderr}"
    );
    // The first stage's model is gone once the second has finished.
    assert!(!models.join("obscura-es-en-stage1").exists());
    assert!(models.join("obscura-es-en/model.safetensors").is_file());

    let info = bare_command(directory.path())
        .args(["models", "info", "obscura-es-en", "--models-dir", models_dir])
        .output()
        .unwrap();
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let entry = &info["entry"];
    assert_eq!(entry["id"], "obscura-es-en", "{entry}");
    // Stage 2 reads 256-token windows; the head kept Rampart's labels and gained new ones.
    assert_eq!(entry["window_tokens"], 256, "{entry}");
    let labels = entry["labels"].as_object().unwrap();
    assert!(labels.contains_key("GIVEN_NAME"), "{entry}");
    assert!(labels.contains_key("ORGANIZATION"), "{entry}");
    assert_eq!(
        entry["attribution"], "National Design Studio; fine-tuned with Obscura",
        "{entry}"
    );
}
