//! Request ids: one per request, taken from a valid `X-Request-Id` or made up, echoed back.
//!
//! The id is held in a task-local for the duration of the request, so that errors can name it
//! in `instance` and job payloads can carry it to the worker, without threading it through
//! every function.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The header carrying the id, both ways.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longest client-supplied id kept; longer or odd ones are replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, or `-` outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".to_owned())
}

/// Middleware: assigns the id, runs the request in its span, and echoes the id.
pub async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_acceptable(value))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID_HEADER.clone(), value);
    }
    // The route template, never the raw path: clients can put anything in a path.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", axum::extract::MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        route = %route,
        tenant_id = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let mut response = {
        use tracing::Instrument;
        REQUEST_ID
            .scope(request_id.clone(), next.run(request))
            .instrument(span.clone())
            .await
    };
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
}

/// Client ids are kept only when short and made of visible ASCII, so logs stay clean.
fn is_acceptable(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_client_ids_are_replaced() {
        assert!(is_acceptable("3f2c-abc_1.2:x"));
        assert!(!is_acceptable(""));
        assert!(!is_acceptable("has space"));
        assert!(!is_acceptable(&"x".repeat(MAX_REQUEST_ID_LEN + 1)));
    }
}
