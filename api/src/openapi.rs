//! The router and the OpenAPI 3.1 document, built from the same route list.
//!
//! Every route except the interactive docs is added through `utoipa_axum::routes!`, so a
//! route cannot exist without its OpenAPI entry. `openapi.json` at the repository root is
//! this document; a test fails when the two differ (`obscura openapi > openapi.json`).

use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth;
use crate::problem::{ApiError, PROBLEM_JSON, code_for_status, generic_detail};
use crate::request_id;
use crate::routes::{
    anonymization, audit, compat, config, detection, discovery, docs, document_exports, documents, glossary, health,
    jobs, models, profiling, progress, project_exports, projects, review, sanitization, service, uploads,
};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Obscura",
        description = "Finds personal data and secrets in documents, text and JSON, and anonymizes them.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerSecurity, &ProblemCodes),
    tags(
        (name = "service", description = "Health, metrics and this document"),
        (name = "detection", description = "Finding personal data and secrets in text"),
        (name = "anonymization", description = "Replacing personal data in text and JSON, and checking the result"),
        (name = "sanitization", description = "Reversible placeholders for content sent to language models"),
        (name = "jobs", description = "Background jobs and their progress"),
        (name = "projects", description = "Projects: documents that share settings and one glossary"),
        (name = "documents", description = "Uploaded files, their detection, review and anonymization"),
        (name = "audit", description = "Who did what, and when"),
        (name = "progress", description = "Job and document progress as it happens: a WebSocket, and the same events by polling"),
        (name = "compatibility", description = "The paths and answer shapes of MaskingEngine and the PII & Secret Detection service, over the same work as the native routes"),
    ),
    components(schemas(crate::problem::Problem, crate::problem::FieldProblem))
)]
struct ApiDoc;

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("An API key: `Authorization: Bearer obs_…`"))
                        .build(),
                ),
            );
    }
}

/// `Problem.code` takes the codes of the one table (`error_codes::ERROR_CODES`).
struct ProblemCodes;

impl Modify for ProblemCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem")
            && let Some(RefOr::T(Schema::Object(code))) = problem.properties.get_mut("code")
        {
            code.enum_values = Some(
                crate::error_codes::ERROR_CODES
                    .iter()
                    .map(|entry| serde_json::Value::from(entry.code))
                    .collect(),
            );
        }
    }
}

/// Every documented route. `authenticate` wraps the routes that need an API key.
fn documented_routes(
    authenticate: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let protected = OpenApiRouter::new()
        .routes(routes!(detection::create_detection))
        .routes(routes!(detection::list_entities))
        .routes(routes!(detection::list_recognizers))
        .routes(routes!(detection::list_pattern_packs))
        .routes(routes!(detection::list_profiles))
        .routes(routes!(anonymization::create_redaction))
        .routes(routes!(anonymization::create_anonymization))
        .routes(routes!(anonymization::create_validation))
        .routes(routes!(anonymization::create_decryption))
        .routes(routes!(sanitization::create_sanitization))
        .routes(routes!(sanitization::create_rehydration))
        .routes(routes!(sanitization::list_sessions))
        .routes(routes!(sanitization::delete_session))
        .routes(routes!(models::list_models))
        .routes(routes!(jobs::create_diagnostic_job))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::cancel_job))
        .routes(routes!(projects::create_project, projects::list_projects))
        .routes(routes!(
            projects::get_project,
            projects::update_project,
            projects::delete_project
        ))
        .routes(routes!(documents::create_document, documents::list_documents))
        .routes(routes!(documents::get_document, documents::delete_document))
        .routes(routes!(review::detect_document))
        .routes(routes!(review::reprocess_document))
        .routes(routes!(review::anonymize_document))
        .routes(routes!(review::get_detection_results))
        .routes(routes!(review::review_entities))
        .routes(routes!(document_exports::get_anonymized))
        .routes(routes!(document_exports::export_document))
        .routes(routes!(uploads::create_upload))
        .routes(routes!(glossary::get_project_glossary))
        .routes(routes!(glossary::get_document_glossary))
        .routes(routes!(glossary::export_glossary))
        .routes(routes!(glossary::merge_glossary))
        .routes(routes!(glossary::split_glossary))
        .routes(routes!(project_exports::export_project))
        .routes(routes!(project_exports::export_annotations))
        .routes(routes!(uploads::complete_upload))
        .routes(routes!(audit::list_audit_records))
        .routes(routes!(progress::create_ws_ticket))
        .routes(routes!(progress::list_events))
        .routes(routes!(config::validate_config))
        .routes(routes!(profiling::create_profile))
        .routes(routes!(profiling::run_profiler))
        .routes(routes!(profiling::run_mask))
        .routes(routes!(discovery::get_service_info))
        .routes(routes!(discovery::discover))
        .routes(routes!(compat::session_sanitize))
        .routes(routes!(compat::session_rehydrate))
        .routes(routes!(compat::session_delete))
        .routes(routes!(compat::pii_detect))
        .routes(routes!(compat::pii_redact))
        .routes(routes!(compat::pii_test))
        .routes(routes!(compat::pii_entities))
        .routes(routes!(compat::pii_plugins));
    let api_v1 = authenticate(protected);
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get_health))
        .routes(routes!(health::get_service_health))
        .routes(routes!(service::get_metrics))
        .routes(routes!(service::get_openapi))
        .routes(routes!(uploads::put_upload))
        .routes(routes!(progress::progress_socket))
        .nest("/api/v1", api_v1)
}

/// The OpenAPI document of this build.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut document) = documented_routes(|router| router).split_for_parts();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}

static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    let mut text = openapi()
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
});

/// The OpenAPI document as pretty JSON, exactly as committed in `openapi.json`.
pub fn openapi_json() -> &'static str {
    &OPENAPI_JSON
}

/// The whole HTTP application.
pub fn build_router(state: AppState) -> Router {
    let auth_state = auth::AuthState {
        database: state.database.clone(),
        key_cache: state.key_cache.clone(),
    };
    let gate_state = crate::database_gate::GateState {
        gate: Default::default(),
        database: state.database.clone(),
    };
    // The gate goes first: while the database is out of reach, requests are refused before
    // authentication, which needs it too.
    let (router, _) = documented_routes(move |router| {
        router
            .route_layer(middleware::from_fn_with_state(auth_state, auth::require_api_key))
            .route_layer(middleware::from_fn_with_state(gate_state, crate::database_gate::guard))
    })
    .split_for_parts();
    let json_limit = state.config.server.json_body_limit_bytes;
    let request_timeout = Duration::from_secs(state.config.server.request_timeout_secs);
    let cors = cors_layer(&state.config.server.cors_origins());
    router
        .route("/", get(docs::get_start_page))
        .route("/docs/errors", get(docs::get_error_codes))
        .merge(SwaggerUi::new("/docs").config(utoipa_swagger_ui::Config::new(["/api/v1/openapi.json"])))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost first. Metrics sit outside the panic and timeout layers so that those
        // answers are counted too.
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(request_id::assign_request_id))
                .layer(middleware::from_fn_with_state(
                    state.metrics.clone(),
                    crate::metrics::track_requests,
                ))
                .layer(middleware::from_fn(problem_for_bare_errors))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("a handler panicked");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }))
                .layer(middleware::from_fn(move |request: Request, next: Next| {
                    enforce_timeout(request_timeout, request, next)
                }))
                .layer(axum::extract::DefaultBodyLimit::max(json_limit)),
        )
        // Outermost: a browser's preflight is answered before anything else looks at it.
        .layer(tower::util::option_layer(cors))
        .with_state(state)
}

/// Lets pages from `origins` call the API from a browser, with a bearer key; `None` when
/// no origin is allowed (the config's check has refused origins that are not valid).
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|origin| origin.parse().ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                axum::http::Method::GET,
                axum::http::Method::POST,
                axum::http::Method::PUT,
                axum::http::Method::PATCH,
                axum::http::Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(Duration::from_secs(600)),
    )
}

/// Answers 503 `request_timeout` when a handler runs past `server.request_timeout_secs`.
async fn enforce_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            format!("The request took longer than {} s to handle.", limit.as_secs()),
        )
        .into_response(),
    }
}

async fn route_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "There is nothing at this path.",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This path does not accept that method.",
    )
}

/// Turns a bare error answer (a layer's 408 or 413, a panic's 500) into problem+json.
///
/// Answers that already carry JSON are left alone: problem documents, and the health report,
/// whose 503 body says which component is down.
async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let has_json_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(PROBLEM_JSON) || value.starts_with("application/json"));
    if has_json_body {
        return response;
    }
    let (parts, _body) = response.into_parts();
    let mut converted = ApiError::new(status, code_for_status(status), generic_detail(status)).into_response();
    // Keep headers such as Allow, Retry-After and rate-limit ones.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            converted.headers_mut().insert(name.clone(), value.clone());
        }
    }
    converted
}
