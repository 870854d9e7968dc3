//! `GET /health`: the state of every component, 503 when a required one is down.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use obscura_platform::jobs::queue_depth;
use serde::Serialize;
use utoipa::ToSchema;

use crate::metrics::ComponentLabels;
use crate::ner::NerState;
use crate::problem::error_chain;
use crate::state::AppState;

/// A storage check that takes longer than this reports storage as down.
const STORAGE_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    /// Every required component is up.
    Ok,
    /// At least one required component is down.
    Unavailable,
}

/// The state of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Up,
    Down,
    /// Not configured; the service works without it, with less capability.
    Disabled,
}

/// One component's check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComponentHealth {
    pub status: ComponentStatus,
    /// Time the check took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Which backend serves the component (`postgres`, `sqlite`, `s3`, `local`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Why it is down or disabled, or extra facts when up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Every component.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Components {
    pub database: ComponentHealth,
    pub storage: ComponentHealth,
    pub queue: ComponentHealth,
    pub ocr: ComponentHealth,
    pub ner: ComponentHealth,
}

impl Components {
    /// Each component with its name.
    fn named(&self) -> [(&'static str, &ComponentHealth); 5] {
        [
            ("database", &self.database),
            ("storage", &self.storage),
            ("queue", &self.queue),
            ("ocr", &self.ocr),
            ("ner", &self.ner),
        ]
    }
}

/// The health report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthReport {
    pub status: OverallStatus,
    pub version: String,
    /// When the checks ran.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// Names of the components that are down.
    pub down: Vec<String>,
    pub components: Components,
}

/// Reports the health of the database, blob storage, job queue, OCR and NER.
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    responses(
        (status = 200, description = "Every required component is up", body = HealthReport),
        (status = 503, description = "A required component is down; `down` names it", body = HealthReport),
    )
)]
pub async fn get_health(State(state): State<AppState>) -> impl IntoResponse {
    let report = report(&state).await;
    (status_code(&report), Json(report))
}

fn status_code(report: &HealthReport) -> StatusCode {
    if report.down.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Checks every component.
async fn report(state: &AppState) -> HealthReport {
    let database_backend = state.database.backend_name().to_owned();
    let storage_backend = state.blobs.backend_name().to_owned();
    let (database, storage, queue) = tokio::join!(
        timed("database", async {
            state
                .database
                .check()
                .await
                .map(|()| None)
                .map_err(|error| error_chain(&error))
        }),
        timed("storage", async {
            match tokio::time::timeout(STORAGE_CHECK_TIMEOUT, state.blobs.check()).await {
                Ok(result) => result.map(|()| None).map_err(|error| error_chain(&error)),
                Err(_) => Err(format!("no answer within {} s", STORAGE_CHECK_TIMEOUT.as_secs())),
            }
        }),
        timed("queue", async {
            queue_depth(&state.database)
                .await
                .map(|pending| {
                    Some(format!(
                        "{pending} jobs pending; {} in-process workers",
                        state.in_process_workers
                    ))
                })
                .map_err(|error| error_chain(&error))
        }),
    );
    let components = Components {
        database: ComponentHealth {
            backend: Some(database_backend),
            ..database
        },
        storage: ComponentHealth {
            backend: Some(storage_backend),
            ..storage
        },
        queue,
        ocr: ocr_health().await,
        ner: ner_health(&state.ner),
    };
    let mut down = Vec::new();
    for (name, component) in components.named() {
        let up = component.status != ComponentStatus::Down;
        state
            .metrics
            .component_up
            .get_or_create(&ComponentLabels {
                component: name.to_owned(),
            })
            .set(i64::from(up));
        if !up {
            down.push(name.to_owned());
        }
    }
    let status = if down.is_empty() {
        OverallStatus::Ok
    } else {
        OverallStatus::Unavailable
    };
    if !down.is_empty() {
        tracing::warn!(down = ?down, "health check found components down");
    }
    HealthReport {
        status,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        timestamp: chrono::Utc::now(),
        down,
        components,
    }
}

/// The health report in the words of the MaskingEngine and ContextSafe services.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceHealth {
    /// `healthy` or `unhealthy`.
    pub status: String,
    pub version: String,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// Whether the NER model is loaded.
    pub ner_enabled: bool,
    /// Each component: `ok`, `error` or `disabled`.
    pub components: std::collections::BTreeMap<String, String>,
    /// Why components are down.
    pub errors: Vec<String>,
}

/// The same checks as `/health`, answered as the MaskingEngine and ContextSafe services
/// answer theirs (their clients read `status: healthy`); no key needed.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "service",
    responses(
        (status = 200, description = "Every required component is up", body = ServiceHealth),
        (status = 503, description = "A required component is down; `errors` says why", body = ServiceHealth),
    )
)]
pub async fn get_service_health(State(state): State<AppState>) -> impl IntoResponse {
    let report = report(&state).await;
    let code = status_code(&report);
    let components = &report.components;
    let mut states = std::collections::BTreeMap::new();
    let mut errors = Vec::new();
    for (name, component) in components.named() {
        let word = match component.status {
            ComponentStatus::Up => "ok",
            ComponentStatus::Down => {
                errors.push(format!("{name}: {}", component.detail.as_deref().unwrap_or("down")));
                "error"
            }
            ComponentStatus::Disabled => "disabled",
        };
        states.insert(name.to_owned(), word.to_owned());
    }
    let health = ServiceHealth {
        status: if report.down.is_empty() { "healthy" } else { "unhealthy" }.to_owned(),
        version: report.version,
        timestamp: report.timestamp,
        ner_enabled: components.ner.status == ComponentStatus::Up,
        components: states,
        errors,
    };
    (code, Json(health))
}

/// Runs a check and turns its result into a component report.
async fn timed<E, F>(name: &str, check: F) -> ComponentHealth
where
    E: std::fmt::Display,
    F: Future<Output = Result<Option<String>, E>>,
{
    let started = Instant::now();
    let result = check.await;
    let latency_ms = Some(started.elapsed().as_millis() as u64);
    match result {
        Ok(detail) => ComponentHealth {
            status: ComponentStatus::Up,
            latency_ms,
            backend: None,
            detail,
        },
        Err(error) => {
            // The cause names hosts, users and paths; /health is public, so the cause goes to
            // the logs (and to `obscura check`), and the answer says only that it failed.
            tracing::warn!(component = name, error = %error, "health check failed");
            ComponentHealth {
                status: ComponentStatus::Down,
                latency_ms,
                backend: None,
                detail: Some("the check failed; the server log has the cause".to_owned()),
            }
        }
    }
}

/// Tesseract's version and the languages it loads, found once per process: down when it can
/// load none of the languages documents are read in.
async fn ocr_health() -> ComponentHealth {
    static STATUS: tokio::sync::OnceCell<Option<obscura_documents::image::OcrStatus>> =
        tokio::sync::OnceCell::const_new();
    let status = STATUS
        .get_or_init(|| async {
            tokio::task::spawn_blocking(obscura_documents::image::ocr_status)
                .await
                .ok()
        })
        .await;
    let Some(status) = status else {
        return ComponentHealth {
            status: ComponentStatus::Down,
            latency_ms: None,
            backend: Some("tesseract".to_owned()),
            detail: Some("the OCR check did not finish".to_owned()),
        };
    };
    let mut detail = format!(
        "Tesseract {}; languages: {}",
        status.version,
        status.languages.join(", ")
    );
    if !status.missing.is_empty() {
        detail.push_str(&format!("; missing: {}", status.missing.join(", ")));
    }
    ComponentHealth {
        status: if status.languages.is_empty() {
            ComponentStatus::Down
        } else {
            ComponentStatus::Up
        },
        latency_ms: None,
        backend: Some("tesseract".to_owned()),
        detail: Some(detail),
    }
}

fn ner_health(ner: &NerState) -> ComponentHealth {
    let (status, detail) = match ner {
        NerState::Disabled => (ComponentStatus::Disabled, "models.ner is empty".to_owned()),
        NerState::Ready { recognizer, load_ms } => {
            let entry = &recognizer.model().installed().entry;
            (
                ComponentStatus::Up,
                format!("model {} ({}), loaded in {load_ms} ms", entry.id, entry.architecture),
            )
        }
        NerState::Unavailable { reason, .. } => (ComponentStatus::Down, reason.clone()),
    };
    ComponentHealth {
        status,
        latency_ms: None,
        backend: Some("candle-cpu".to_owned()),
        detail: Some(detail),
    }
}
