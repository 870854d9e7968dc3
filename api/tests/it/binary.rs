//! The `obscura` binary itself: zero-configuration start, config errors, SIGTERM, migrations.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{free_port, fresh_postgres_database, obscura_binary, wait_until_listening};

fn bare_command(directory: &std::path::Path) -> Command {
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
    let port = free_port();
    let child = bare_command(directory.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(&format!("{base}/health"), Duration::from_secs(30)).await;

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

    let data = directory.path().join("data");
    assert!(data.join("obscura.db").is_file());
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
