//! Service endpoints outside `/api/v1`'s authentication: metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::openapi::openapi_json;
use crate::problem::ApiError;
use crate::state::AppState;

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses((status = 200, description = "Prometheus text", content_type = "application/openmetrics-text", body = String))
)]
pub async fn get_metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    // The database may be away; the process's own figures are still worth reading.
    if let Err(error) = state.metrics.refresh(&state.database).await {
        tracing::warn!(error = %error, "metrics: the fleet's figures could not be read");
    }
    let text = state.metrics.encode().map_err(ApiError::internal)?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

/// This API's OpenAPI 3.1 document. Public, so that the interactive docs can load it.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "service",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
pub async fn get_openapi() -> Response {
    let mut response = openapi_json().to_owned().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
