//! RFC 9457 problem details: the one shape of every 4xx and 5xx answer.
//!
//! Errors of the core carry an [`ErrorKind`] and a stable `code`; this module maps kinds to
//! statuses in one exhaustive `match`, so a new kind forces a decision about its status.
//! For a 5xx the `detail` stays generic and the error chain is logged under the request id.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use obscura_detection::{ErrorClass, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Where the error codes are described; `type` is this path plus `#code`.
pub const ERRORS_DOC_PATH: &str = "/docs/errors";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference to the description of this kind of problem, ending in `#<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request. Never holds document text.
    pub detail: String,
    /// The request id, as echoed in `X-Request-Id`.
    pub instance: String,
    /// A stable snake_case identifier of the problem.
    pub code: String,
    /// Field-level problems of a validation error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One field-level validation problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Where the problem is: `body.text`, `query.limit`.
    pub loc: String,
    /// What is wrong there.
    pub msg: String,
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldProblem>,
    /// Extra response headers, such as `WWW-Authenticate`.
    headers: Vec<(axum::http::HeaderName, &'static str)>,
    /// The internal cause, logged and never sent.
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// For a 5xx: whether `detail` may be told (`ErrorClass::public_detail`) instead of the
    /// generic sentence.
    detail_is_public: bool,
}

impl ApiError {
    /// An error with an explicit status, for failures the HTTP layer itself detects.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            source: None,
            detail_is_public: false,
        }
    }

    /// An error classified by the core.
    pub fn from_class<E>(error: E) -> ApiError
    where
        E: ErrorClass + Send + Sync + 'static,
    {
        let status = status_for(error.kind());
        if status == StatusCode::INTERNAL_SERVER_ERROR && database_unreachable(&error) {
            return ApiError::database_unavailable(Box::new(error));
        }
        let public = error.public_detail().filter(|_| status.is_server_error());
        ApiError {
            status,
            code: error.code(),
            detail_is_public: public.is_some(),
            detail: public.unwrap_or_else(|| error.to_string()),
            errors: Vec::new(),
            headers: Vec::new(),
            source: Some(Box::new(error)),
        }
    }

    /// A 500 whose cause is logged and whose detail stays generic.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        let source = source.into();
        if database_unreachable(source.as_ref()) {
            return ApiError::database_unavailable(source);
        }
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            detail: String::new(),
            errors: Vec::new(),
            headers: Vec::new(),
            source: Some(source),
            detail_is_public: false,
        }
    }

    /// A 503 for a request that failed because the database could not be reached, whatever
    /// layer noticed it.
    fn database_unavailable(source: Box<dyn std::error::Error + Send + Sync>) -> ApiError {
        ApiError {
            source: Some(source),
            ..ApiError::database_unreachable()
        }
    }

    /// A 503 for a request refused because the database is known to be out of reach.
    pub fn database_unreachable() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: DATABASE_UNAVAILABLE,
            detail: "The database cannot be reached; try again shortly.".to_owned(),
            errors: Vec::new(),
            headers: vec![(axum::http::header::RETRY_AFTER, "5")],
            source: None,
            detail_is_public: true,
        }
    }

    /// A 400 for one invalid field.
    pub fn invalid_field(code: &'static str, loc: &str, msg: impl Into<String>) -> ApiError {
        let msg = msg.into();
        ApiError::new(StatusCode::BAD_REQUEST, code, format!("{loc} {msg}")).with_field(loc, msg)
    }

    /// Adds a field-level problem.
    pub fn with_field(mut self, loc: impl Into<String>, msg: impl Into<String>) -> ApiError {
        self.errors.push(FieldProblem {
            loc: loc.into(),
            msg: msg.into(),
        });
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: axum::http::HeaderName, value: &'static str) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// The status of each kind. No wildcard arm: a new kind must be given a status here.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `?` on the core's classified errors; each boundary error is listed once here.
macro_rules! from_classified {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for ApiError {
            fn from(error: $error) -> ApiError {
                ApiError::from_class(error)
            }
        })*
    };
}

from_classified!(
    obscura_platform::database::DatabaseError,
    obscura_platform::storage::StorageError,
    obscura_platform::jobs::JobError,
    obscura_platform::key_store::KeyStoreError,
    obscura_detection::DetectError,
    obscura_platform::services::ServiceError,
    obscura_platform::documents::DocumentServiceError,
    obscura_platform::processing::ProcessingError,
    obscura_platform::review::ReviewError,
    obscura_platform::uploads::UploadError,
    obscura_platform::glossary::GlossaryError,
);

/// A setting that cannot be names its field, as every validation problem does.
impl From<obscura_platform::projects::ProjectError> for ApiError {
    fn from(error: obscura_platform::projects::ProjectError) -> ApiError {
        match error {
            obscura_platform::projects::ProjectError::Invalid { field, message } => {
                ApiError::invalid_field("invalid_body", field, message)
            }
            other @ (obscura_platform::projects::ProjectError::NotFound(_)
            | obscura_platform::projects::ProjectError::NameTaken(_)
            | obscura_platform::projects::ProjectError::Database(_)) => ApiError::from_class(other),
        }
    }
}

const DATABASE_UNAVAILABLE: &str = "database_unavailable";

/// Whether `error`, or one of its causes, is the database being out of reach.
fn database_unreachable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(error) = error.downcast_ref::<sea_orm::DbErr>()
            && obscura_platform::database::query_unavailable(error)
        {
            return true;
        }
        if let Some(error) = error.downcast_ref::<obscura_platform::database::DatabaseError>()
            && error.is_unavailable()
        {
            return true;
        }
        current = error.source();
    }
    false
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let instance = request_id::current();
        if self.status.is_server_error() {
            let chain = self
                .source
                .as_deref()
                .map(|source| error_chain(source))
                .unwrap_or_default();
            tracing::error!(request_id = %instance, code = self.code, error = %chain, "request failed");
        } else {
            tracing::debug!(request_id = %instance, code = self.code, status = self.status.as_u16(), "request rejected");
        }
        let detail = if self.status.is_server_error() {
            // The cause may name internal hosts or hold data; it stays in the logs.
            format!(
                "{} Quote request id {instance} when reporting it.",
                if self.detail_is_public {
                    self.detail.as_str()
                } else {
                    generic_detail(self.status)
                }
            )
        } else if self.detail.is_empty() {
            generic_detail(self.status).to_owned()
        } else {
            self.detail
        };
        let problem = Problem {
            problem_type: format!("{ERRORS_DOC_PATH}#{}", self.code),
            title: crate::error_codes::lookup(self.code)
                .map(|entry| entry.title)
                .or_else(|| self.status.canonical_reason())
                .unwrap_or("Error")
                .to_owned(),
            status: self.status.as_u16(),
            detail,
            instance,
            code: self.code.to_owned(),
            errors: self.errors,
        };
        let mut response = problem_response(self.status, &problem);
        for (name, value) in self.headers {
            response.headers_mut().insert(name, HeaderValue::from_static(value));
        }
        if self.code == DATABASE_UNAVAILABLE {
            response
                .extensions_mut()
                .insert(crate::database_gate::DatabaseUnreachable);
        }
        response
    }
}

/// Serializes `problem` with the problem+json media type.
pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let mut response = (status, Json(problem)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// A one-line explanation of a status, used when there is nothing more specific to say.
pub fn generic_detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request is malformed.",
        401 => "A valid API key is required: send `Authorization: Bearer <key>`.",
        403 => "This API key may not do that.",
        404 => "There is nothing at this path.",
        405 => "This path does not accept that method.",
        408 => "The request took too long to arrive.",
        413 => "The request body is larger than the limit.",
        415 => "The request's content type is not accepted here.",
        503 => "A service this request needs is unavailable; retry later.",
        500..=599 => "The server failed to handle the request.",
        _ => "The request failed.",
    }
}

/// The code used when a bare status must be turned into a problem.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "route_not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        503 => "service_unavailable",
        500..=599 => "internal_error",
        _ => "http_error",
    }
}

/// The error and all its causes on one line, for logs and health details.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        // serde's messages quote the offending value, which may be personal data; the answer
        // names only where the problem is.
        let located = path_error(&rejection);
        match &rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ),
            JsonRejection::JsonSyntaxError(_) => {
                let position = located
                    .map(|error| format!(" (line {}, column {})", error.inner().line(), error.inner().column()))
                    .unwrap_or_default();
                ApiError::new(
                    rejection.status(),
                    "invalid_json",
                    format!("The body is not valid JSON{position}."),
                )
            }
            JsonRejection::JsonDataError(_) => {
                let mut loc = located.map_or_else(|| "body".to_owned(), |error| location(error.path()));
                let reason = located.map_or(Reason::Other, |error| Reason::of(error.inner()));
                if let Reason::Missing(field) = &reason {
                    loc = format!("{loc}.{field}");
                }
                let msg = reason.message();
                // 400 like every other invalid field, as the services our users come from
                // answer validation errors (axum's own status would be 422).
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    format!("The body does not match the operation's schema: `{loc}` {msg}."),
                )
                .with_field(loc, msg)
            }
            JsonRejection::BytesRejection(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The body is larger than server.json_body_limit_bytes.",
            ),
            JsonRejection::BytesRejection(_) => {
                ApiError::new(rejection.status(), "unreadable_body", "The body could not be read.")
            }
            _ => ApiError::new(rejection.status(), "invalid_body", "The body could not be used."),
        }
    }
}

/// The located serde error behind a JSON rejection, wherever it sits in the chain.
fn path_error(rejection: &JsonRejection) -> Option<&serde_path_to_error::Error<serde_json::Error>> {
    let mut source = std::error::Error::source(rejection);
    while let Some(error) = source {
        if let Some(located) = error.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            return Some(located);
        }
        source = error.source();
    }
    None
}

/// Whether a key reads as a field's name (`min_score`), rather than as data.
fn is_field_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Where in the body an error is, as `body.items[2].value`; a key that does not read as a
/// field's name is shown as `*`, since it may be data.
fn location(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut loc = "body".to_owned();
    for segment in path.iter() {
        let part = match segment {
            Segment::Seq { index } => format!("[{index}]"),
            Segment::Map { key } if is_field_name(key) => format!(".{key}"),
            Segment::Enum { variant } if is_field_name(variant) => format!(".{variant}"),
            Segment::Map { .. } | Segment::Enum { .. } | Segment::Unknown => ".*".to_owned(),
        };
        loc.push_str(&part);
    }
    loc
}

/// Why a value did not fit, in words that name fields and expectations but never repeat
/// the value sent, which may be personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Missing(String),
    /// Its text: "unknown field `foo`, expected one of ..." (names of fields only).
    UnknownField(String),
    Expected(String),
    Other,
}

impl Reason {
    fn of(error: &serde_json::Error) -> Reason {
        let text = error.to_string();
        // serde_json appends where it stopped reading.
        let text = match text.rfind(" at line ") {
            Some(end) => &text[..end],
            None => &text,
        };
        if let Some(rest) = text.strip_prefix("missing field `") {
            return Reason::Missing(rest.trim_end_matches('`').to_owned());
        }
        if let Some(rest) = text.strip_prefix("unknown field `") {
            // A key may be data ({"12345678Z": ...}): only a name that reads as a field's
            // is repeated.
            return Reason::UnknownField(match rest.split_once('`') {
                Some((name, expected)) if is_field_name(name) => format!("unknown field `{name}`{expected}"),
                Some((_, expected)) => format!("unknown field{expected}"),
                None => "unknown field".to_owned(),
            });
        }
        // "unknown variant `x`, expected one of ...", "invalid type: string \"x\", expected
        // u32", "invalid value: ..., expected ...": what was sent is left out.
        if (text.starts_with("unknown variant") || text.starts_with("invalid "))
            && let Some((_, expected)) = text.split_once(", expected ")
        {
            let expected = match expected {
                "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more".to_owned(),
                "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
                "f32" | "f64" => "a number".to_owned(),
                other => other.replace('`', ""),
            };
            return Reason::Expected(expected);
        }
        Reason::Other
    }

    fn message(&self) -> String {
        match self {
            Reason::Missing(_) => "is required".to_owned(),
            Reason::UnknownField(text) => text.clone(),
            Reason::Expected(expected) => format!("must be {expected}"),
            Reason::Other => "is not valid here".to_owned(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_rejection: QueryRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "A query parameter is missing, unknown, or not of the expected type.",
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(_rejection: PathRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            "A path parameter is malformed, such as an id that is not a UUID.",
        )
    }
}

/// `axum::Json` whose rejections are problem+json.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejections are problem+json.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejections are problem+json.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_of_the_right_class() {
        assert_eq!(status_for(ErrorKind::NotFound), StatusCode::NOT_FOUND);
        assert!(status_for(ErrorKind::Internal).is_server_error());
        assert!(status_for(ErrorKind::Unavailable).is_server_error());
        assert!(status_for(ErrorKind::Invalid).is_client_error());
    }

    #[test]
    fn schema_errors_say_why_without_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            text: String,
            limit: Option<u32>,
            operator: Option<Operator>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Operator {
            Mask,
            Hash,
        }
        let reason = |body: &str| Reason::of(&serde_json::from_str::<Body>(body).unwrap_err()).message();
        assert_eq!(
            reason(r#"{"text": "a", "12345678Z": 1}"#),
            "unknown field, expected one of `text`, `limit`, `operator`"
        );
        assert_eq!(reason(r#"{"limit": 3}"#), "is required");
        assert_eq!(
            reason(r#"{"text": "a", "foo": 1}"#),
            "unknown field `foo`, expected one of `text`, `limit`, `operator`"
        );
        assert_eq!(
            reason(r#"{"text": "a", "operator": "ana@example.com"}"#),
            "must be mask or hash"
        );
        let wrong_type = reason(r#"{"text": "a", "limit": "ana@example.com"}"#);
        assert_eq!(wrong_type, "must be a whole number of 0 or more");
        assert!(!wrong_type.contains("ana"));
        assert!(matches!(
            Reason::of(&serde_json::from_str::<Body>(r#"{"limit": 1}"#).unwrap_err()),
            Reason::Missing(field) if field == "text"
        ));
    }

    #[test]
    fn a_database_out_of_reach_is_a_503_whatever_wraps_it() {
        let unreachable = || sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let wrapped = ApiError::from(obscura_platform::projects::ProjectError::Database(unreachable()));
        assert_eq!(wrapped.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(wrapped.code, "database_unavailable");
        let internal = ApiError::internal(unreachable());
        assert_eq!(internal.status, StatusCode::SERVICE_UNAVAILABLE);
        // A query the database refused is still the server's fault.
        let refused = ApiError::from(obscura_platform::projects::ProjectError::Database(
            sea_orm::DbErr::Custom("no such column".into()),
        ));
        assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_ne!(refused.code, "database_unavailable");
    }

    #[test]
    fn every_code_for_a_status_is_documented() {
        for status in [400, 401, 403, 404, 405, 408, 413, 415, 422, 500, 503, 418] {
            let code = code_for_status(StatusCode::from_u16(status).unwrap());
            assert!(crate::error_codes::lookup(code).is_some(), "{code} is not documented");
        }
    }
}
