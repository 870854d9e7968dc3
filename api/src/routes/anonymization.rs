//! `/api/v1/redact`, `/api/v1/anonymize`, `/api/v1/validate` and `/api/v1/decrypt`: the
//! anonymization operators over text and JSON, checks of masked values, and decryption.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use obscura_anonymization::check::{Pair, validate, validate_batch};
use obscura_anonymization::given::Finder;
use obscura_anonymization::operator::Operator;
use obscura_anonymization::structured::{JsonOptions, anonymize_json};
use obscura_anonymization::{Level, Policy, anonymize_text, decrypt_value};
use obscura_detection::taxonomy::Taxonomy;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Role};
use crate::detect_settings::{
    DenyListItem, DetectFields, EngineName, RecognizerErrorMode, SkippedRecognizerView, prepare, skipped_views,
};
use crate::problem::{ApiError, ApiJson, Problem};
use crate::state::AppState;
use obscura_platform::services::operators::{self, OperatorName, OperatorOptions};
use obscura_platform::services::scope::with_scope;

/// The operator a name and options describe; a bad option names its field under `field`.
fn build_operator(name: OperatorName, options: &OperatorOptions, field: &str) -> Result<Operator, ApiError> {
    operators::build_operator(name, options)
        .map_err(|error| ApiError::invalid_field("invalid_body", &format!("{field}.{}", error.option), error.message))
}

/// A text to anonymize, and how.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactRequest {
    pub text: String,
    /// The operator for every type (default `replace`); `level` and `operators` refine it.
    /// Also accepted as `redaction_type`.
    #[serde(alias = "redaction_type")]
    pub operator: Option<OperatorName>,
    /// BASIC (mask), INTERMEDIATE (aliases such as `PERSONA-001`) or ADVANCED (surrogates);
    /// replaces `operator`.
    #[schema(value_type = Option<String>, example = "INTERMEDIATE")]
    pub level: Option<Level>,
    /// Per entity type: `{"operator": "mask", "keep_last": 4}`.
    #[serde(default)]
    pub operators: BTreeMap<String, EntityOperator>,
    #[serde(flatten)]
    pub options: OperatorOptions,
    /// Keeps aliases consistent across requests through a sanitization session's vault:
    /// the id `sanitize` returned or the one the client chose.
    pub session_id: Option<String>,
    pub language: Option<String>,
    /// Only these entity types (names or aliases); also accepted as `entity_types`.
    #[serde(alias = "entity_types")]
    pub entities: Option<Vec<String>>,
    pub min_score: Option<f32>,
    #[serde(default)]
    pub allow_list: Vec<String>,
    #[serde(default)]
    pub deny_list: Vec<DenyListItem>,
    pub pattern_packs: Option<Vec<String>>,
    pub profile: Option<String>,
    pub engines: Option<Vec<EngineName>>,
    /// `fail` (default) or `skip`: what a recognizer's failure does; the profile's when absent.
    pub on_recognizer_error: Option<RecognizerErrorMode>,
    /// Where the text came from, for the detection log.
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    /// Whether to log the detections (without the matched text).
    pub log: Option<bool>,
}

/// One entity type's operator.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EntityOperator {
    pub operator: OperatorName,
    #[serde(flatten)]
    pub options: OperatorOptions,
}

/// One replacement. `start` and `end` count code points of the submitted text;
/// `output_start` and `output_end` of the redacted text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RedactionItem {
    pub entity_type: String,
    pub start: usize,
    pub end: usize,
    pub output_start: usize,
    pub output_end: usize,
    pub operator: String,
}

/// The redacted text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RedactResponse {
    pub redacted_text: String,
    pub redactions_applied: usize,
    pub items: Vec<RedactionItem>,
    /// Recognizers that failed and were left out; empty unless `on_recognizer_error` is `skip`.
    pub skipped_recognizers: Vec<SkippedRecognizerView>,
}

/// Checks that every named entity type exists; the error names the first that does not.
fn check_entities(names: &[String], field: &str) -> Result<Vec<String>, ApiError> {
    names
        .iter()
        .map(|name| {
            Taxonomy
                .resolve(name)
                .map(|entity| entity.name.to_owned())
                .ok_or_else(|| {
                    ApiError::invalid_field("unknown_entity", field, format!("{name:?} is not an entity type"))
                })
        })
        .collect()
}

/// Finds personal data in a text and replaces it.
#[utoipa::path(
    post,
    path = "/redact",
    tag = "anonymization",
    request_body(content = RedactRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The redacted text", body = RedactResponse),
        (status = 400, description = "An unknown entity, operator option, pack or profile", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The session does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A recognizer failed (`recognizer_failed`) and the request did not allow skipping it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_redaction(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<RedactRequest>,
) -> Result<ApiJson<RedactResponse>, ApiError> {
    Ok(ApiJson(redact(&state, &principal, request).await?.0))
}

/// Redacts a text; also gives the detections the redaction replaced.
pub async fn redact(
    state: &AppState,
    principal: &Principal,
    request: RedactRequest,
) -> Result<(RedactResponse, Vec<obscura_detection::Detection>), ApiError> {
    let mut policy = match request.level {
        Some(level) => Policy::level(level),
        None => Policy::uniform(build_operator(
            request.operator.unwrap_or(OperatorName::Replace),
            &request.options,
            "body",
        )?),
    };
    for (name, entity_operator) in &request.operators {
        let entity = check_entities(std::slice::from_ref(name), "body.operators")?.remove(0);
        let operator = build_operator(
            entity_operator.operator,
            &entity_operator.options,
            &format!("body.operators.{name}"),
        )?;
        policy.by_entity.insert(entity, operator);
    }
    let (selection, options) = prepare(
        state,
        DetectFields {
            language: request.language,
            entities: request.entities,
            min_score: request.min_score,
            allow_list: request.allow_list,
            deny_list: request.deny_list,
            pattern_packs: request.pattern_packs,
            profile: request.profile,
            engines: request.engines,
            explain: false,
            on_recognizer_error: request.on_recognizer_error,
        },
    )?;
    let language = options.language.clone().unwrap_or_else(|| "en".into());
    let text = std::sync::Arc::new(request.text);
    let selection = std::sync::Arc::new(selection);
    if request.session_id.is_some() {
        principal.require(&[Role::Admin, Role::Analyst])?;
    }
    let session = crate::routes::sanitization::session_key(request.session_id.as_deref(), "body.session_id")?;
    let sessions = state.sessions(principal.tenant_id);
    let (result, detections) = with_scope(sessions, session, language, move |scope| {
        let findings = selection.detector.detect(&text, &options)?;
        let mut anonymized =
            anonymize_text(&text, &findings.detections, &policy, scope).map_err(ApiError::from_class)?;
        anonymized.skipped = findings.skipped;
        Ok::<_, ApiError>((anonymized, findings.detections))
    })
    .await?;
    tracing::debug!(redactions = result.replacements.len(), "text redacted");
    let items: Vec<RedactionItem> = result
        .replacements
        .into_iter()
        .map(|replacement| RedactionItem {
            entity_type: replacement.entity_type.into(),
            start: replacement.start,
            end: replacement.end,
            output_start: replacement.output_start,
            output_end: replacement.output_end,
            operator: replacement.operator.to_owned(),
        })
        .collect();
    Ok((
        RedactResponse {
            redacted_text: result.text,
            redactions_applied: items.len(),
            items,
            skipped_recognizers: skipped_views(result.skipped),
        },
        detections,
    ))
}

/// The query of `/anonymize`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnonymizeQuery {
    /// replace (default), hash, mask, surrogate, remove, tag, encrypt or generalize.
    pub strategy: Option<String>,
    /// Comma-separated entity types; all when absent.
    pub entities: Option<String>,
    /// ISO 639-1 code of the strings.
    pub language: Option<String>,
    pub profile: Option<String>,
    /// Comma-separated key paths to scan (`user.email,items[*].name`); all when absent.
    pub include: Option<String>,
    /// Comma-separated key paths to leave alone.
    pub exclude: Option<String>,
    /// Keeps replacements consistent across requests through a session's vault: the id
    /// `sanitize` returned or the one the client chose.
    pub session_id: Option<String>,
    /// `fail` (default) or `skip`: what a recognizer's failure does; the profile's when
    /// absent. Skipped recognizers are named in the `Obscura-Skipped-Recognizers` header.
    pub on_recognizer_error: Option<RecognizerErrorMode>,
    /// Whether to log the detections (without the matched text).
    pub log: Option<bool>,
}

/// The header that names the recognizers a `/anonymize` answer was made without.
pub const SKIPPED_RECOGNIZERS_HEADER: &str = "obscura-skipped-recognizers";

fn comma_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Anonymizes any JSON value, keeping its structure: only strings change, and the same value
/// gets the same replacement throughout the request.
#[utoipa::path(
    post,
    path = "/anonymize",
    tag = "anonymization",
    params(AnonymizeQuery),
    request_body(content = serde_json::Value, content_type = "application/json", description = "Any JSON value"),
    responses(
        (status = 200, description = "The value with its strings anonymized", body = serde_json::Value,
            headers(("obscura-skipped-recognizers" = String, description = "The recognizers that failed and were left out (only with `on_recognizer_error=skip`), comma-separated"))),
        (status = 400, description = "Invalid JSON, not UTF-8, or an unknown entity or strategy", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit, or nests too deep", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A recognizer failed (`recognizer_failed`) and the request did not allow skipping it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_anonymization(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<AnonymizeQuery>,
    body: Bytes,
) -> Result<(HeaderMap, ApiJson<serde_json::Value>), ApiError> {
    let strategy = query.strategy.as_deref().unwrap_or("replace");
    let operator_name = OperatorName::parse(strategy).ok_or_else(|| {
        ApiError::invalid_field(
            "unknown_strategy",
            "query.strategy",
            format!("{strategy:?} is not one of replace, hash, mask, surrogate, remove, tag, encrypt, generalize"),
        )
    })?;
    let entities = comma_list(query.entities.as_deref());
    let entities = if entities.is_empty() {
        None
    } else {
        Some(check_entities(&entities, "query.entities")?)
    };
    let text = std::str::from_utf8(&body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            format!("the body is not UTF-8: {error}"),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not JSON: {error}"),
        )
    })?;
    let policy = Policy::uniform(build_operator(operator_name, &OperatorOptions::default(), "query")?);
    let (selection, options) = prepare(
        &state,
        DetectFields {
            language: query.language,
            entities,
            profile: query.profile,
            on_recognizer_error: query.on_recognizer_error,
            ..DetectFields::default()
        },
    )?;
    let json_options = JsonOptions {
        include_paths: comma_list(query.include.as_deref()),
        exclude_paths: comma_list(query.exclude.as_deref()),
        max_depth: state.config.security.json_max_depth,
        ..JsonOptions::default()
    };
    let language = options.language.clone().unwrap_or_else(|| "en".into());
    let value = std::sync::Arc::new(value);
    let selection = std::sync::Arc::new(selection);
    if query.session_id.is_some() {
        principal.require(&[Role::Admin, Role::Analyst])?;
    }
    let session = crate::routes::sanitization::session_key(query.session_id.as_deref(), "query.session_id")?;
    let sessions = state.sessions(principal.tenant_id);
    let anonymized = with_scope(sessions, session, language, move |scope| {
        anonymize_json(
            &value,
            &Finder::detecting(&selection.detector, &options),
            &policy,
            scope,
            &json_options,
        )
        .map_err(ApiError::from_class)
    })
    .await?;
    tracing::debug!(
        replacements = anonymized.replacements.len(),
        skipped_recognizers = anonymized.skipped.len(),
        "JSON anonymized"
    );
    let skipped: Vec<String> = anonymized.skipped.into_iter().map(|item| item.recognizer).collect();
    let mut headers = HeaderMap::new();
    if !skipped.is_empty() {
        let value = HeaderValue::from_str(&skipped.join(", ")).map_err(ApiError::internal)?;
        headers.insert(SKIPPED_RECOGNIZERS_HEADER, value);
    }
    Ok((headers, ApiJson(anonymized.content)))
}

/// A masked value to check, or a batch of them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    pub original: Option<String>,
    pub masked: Option<String>,
    /// Also accepted as `rule`.
    #[serde(alias = "rule")]
    pub entity_type: Option<String>,
    /// Several pairs, also checked for consistency with each other.
    pub items: Option<Vec<ValidateItem>>,
}

/// One pair of a batch.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateItem {
    pub original: String,
    pub masked: String,
    pub entity_type: String,
}

/// One problem with a masked value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationIssue {
    /// `original_survived`, `partial_original_survived`, `format_lost`, `invalid_checksum`
    /// or `inconsistent_replacement`.
    pub code: String,
    pub message: String,
}

/// The verdict.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidateResponse {
    pub valid: bool,
    pub issues: Vec<ValidationIssue>,
}

/// Checks masked values: whether the original or a long part of it survived, whether the
/// promised format was kept, whether a surrogate's checksum is valid, and whether a batch
/// was replaced consistently.
#[utoipa::path(
    post,
    path = "/validate",
    tag = "anonymization",
    request_body(content = ValidateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The verdict", body = ValidateResponse),
        (status = 400, description = "Missing fields or an unknown entity type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_validation(
    ApiJson(request): ApiJson<ValidateRequest>,
) -> Result<ApiJson<ValidateResponse>, ApiError> {
    let verdict = match (request.items, request.original, request.masked, request.entity_type) {
        (Some(items), None, None, None) => {
            let mut pairs = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let entity_type =
                    check_entities(&[item.entity_type], &format!("body.items[{index}].entity_type"))?.remove(0);
                pairs.push(Pair {
                    original: item.original,
                    masked: item.masked,
                    entity_type: entity_type.into(),
                });
            }
            validate_batch(&pairs)
        }
        (None, Some(original), Some(masked), Some(entity_type)) => {
            let entity_type = check_entities(&[entity_type], "body.entity_type")?.remove(0);
            validate(&original, &masked, &entity_type)
        }
        _ => {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body",
                "needs either original, masked and entity_type, or items",
            ));
        }
    };
    Ok(ApiJson(ValidateResponse {
        valid: verdict.valid,
        issues: verdict
            .issues
            .into_iter()
            .map(|issue| ValidationIssue {
                code: issue.code.to_owned(),
                message: issue.message,
            })
            .collect(),
    }))
}

/// Values the encrypt operator produced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecryptRequest {
    pub values: Vec<String>,
}

/// The decrypted values, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecryptResponse {
    pub values: Vec<String>,
}

/// Most values one decryption request may hold.
const MAX_DECRYPT_VALUES: usize = 1000;

/// Decrypts values of the encrypt operator. Admins only; every call is audited (who, how
/// many, never the values).
#[utoipa::path(
    post,
    path = "/decrypt",
    tag = "anonymization",
    request_body(content = DecryptRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The originals", body = DecryptResponse),
        (status = 400, description = "A value this tenant's key did not encrypt", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_decryption(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<DecryptRequest>,
) -> Result<ApiJson<DecryptResponse>, ApiError> {
    principal.require(&[Role::Admin])?;
    if request.values.len() > MAX_DECRYPT_VALUES {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.values",
            format!(
                "holds {} values; the limit is {MAX_DECRYPT_VALUES}",
                request.values.len()
            ),
        ));
    }
    let secrets = state.master_keys.scope_secrets(principal.tenant_id);
    let mut values = Vec::with_capacity(request.values.len());
    for (index, value) in request.values.iter().enumerate() {
        values.push(decrypt_value(&secrets, value).map_err(|error| {
            ApiError::invalid_field("not_decryptable", &format!("body.values[{index}]"), error.to_string())
        })?);
    }
    tracing::info!(
        target: "audit",
        action = "decrypt",
        key_id = %principal.key_id,
        tenant_id = %principal.tenant_id,
        values = values.len(),
        "values decrypted"
    );
    Ok(ApiJson(DecryptResponse { values }))
}
