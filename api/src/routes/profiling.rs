//! `POST /api/v1/profile`: which kind of personal data each column of a table holds, from
//! samples of its values and its name; and Faasera's `/profiler/run` and `/mask/run` over
//! the same work.

use std::collections::BTreeMap;

use axum::extract::State;
use obscura_anonymization::operator::{MaskOptions, mask};
use obscura_anonymization::structured::{fits_hint, key_hint};
use obscura_detection::taxonomy::Taxonomy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::detect_settings::{DetectFields, prepare};
use crate::problem::{ApiError, ApiJson, Problem};
use crate::state::AppState;

/// Values read per column; the rest are not looked at.
pub const MAX_SAMPLES: usize = 100;
/// Columns per request.
pub const MAX_COLUMNS: usize = 500;

/// One column: its name and some of its values (`value` for one, as Faasera sends it).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSample {
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub values: Vec<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
}

/// Columns to profile: `columns`, or `records` (objects whose keys are the columns).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    #[serde(default)]
    pub columns: Vec<ColumnSample>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
    /// ISO 639-1 code of the values; guessed from them when absent.
    pub language: Option<String>,
    /// Faasera's request id, echoed back.
    #[serde(rename = "requestId")]
    pub request_id: Option<String>,
    /// Faasera's mode (`STRUCTURED`); accepted and not used.
    pub mode: Option<String>,
}

/// What one column holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ColumnProfile {
    pub column: String,
    /// The entity type most of its values are, or `NONE`.
    pub label: String,
    /// The share of the samples found to be of that type, times their mean score.
    pub confidence: f32,
    pub sample_count: usize,
}

/// The profile of every column.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub results: Vec<ColumnProfile>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

fn sample_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) if text.trim().is_empty() => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other @ (serde_json::Value::Bool(_)
        | serde_json::Value::Number(_)
        | serde_json::Value::Array(_)
        | serde_json::Value::Object(_)) => Some(other.to_string()),
    }
}

/// Columns and their sampled values, in the order they came.
fn columns_of(request: &ProfileRequest) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let mut columns: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |name: &str, value: &serde_json::Value| {
        let index = match columns.iter().position(|(known, _)| known == name) {
            Some(index) => index,
            None => {
                columns.push((name.to_owned(), Vec::new()));
                columns.len() - 1
            }
        };
        if columns[index].1.len() < MAX_SAMPLES
            && let Some(text) = sample_text(value)
        {
            columns[index].1.push(text);
        }
    };
    for column in &request.columns {
        add(&column.name, &serde_json::Value::Null);
        for value in column.value.iter().chain(&column.values) {
            add(&column.name, value);
        }
    }
    for record in &request.records {
        for (name, value) in record {
            add(name, value);
        }
    }
    if columns.is_empty() {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.columns",
            "must name at least one column (or give records)",
        ));
    }
    if columns.len() > MAX_COLUMNS {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.columns",
            format!(
                "has {} columns; at most {MAX_COLUMNS} are profiled at once",
                columns.len()
            ),
        ));
    }
    Ok(columns)
}

/// Profiles the columns of a table: for each, the entity type most of its sampled values
/// are (a detection covering at least half a value, or the type its name suggests when the
/// value fits it), and how sure that is.
#[utoipa::path(
    post,
    path = "/profile",
    tag = "detection",
    request_body(content = ProfileRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Each column's type", body = ProfileResponse),
        (status = 400, description = "No columns, or too many", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_profile(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ProfileRequest>,
) -> Result<ApiJson<ProfileResponse>, ApiError> {
    let columns = columns_of(&request)?;
    let (selection, options) = prepare(
        &state,
        DetectFields {
            language: request.language.clone(),
            ..DetectFields::default()
        },
    )?;
    let span = tracing::Span::current();
    let results = tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            columns
                .into_iter()
                .map(|(name, samples)| profile_column(&selection.detector, &options, name, &samples))
                .collect::<Result<Vec<_>, _>>()
        })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(ApiJson(ProfileResponse {
        results,
        request_id: request.request_id,
    }))
}

/// Faasera's profiling path, over `/profile`.
#[utoipa::path(
    post,
    path = "/profiler/run",
    tag = "compatibility",
    request_body(content = ProfileRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Each column's type", body = ProfileResponse),
        (status = 400, description = "No columns, or too many", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn run_profiler(
    state: State<AppState>,
    request: ApiJson<ProfileRequest>,
) -> Result<ApiJson<ProfileResponse>, ApiError> {
    create_profile(state, request).await
}

fn profile_column(
    detector: &obscura_detection::Detector,
    options: &obscura_detection::DetectOptions,
    name: String,
    samples: &[String],
) -> Result<ColumnProfile, obscura_detection::DetectError> {
    let language = options.language.clone().unwrap_or_else(|| "en".into());
    let hint = key_hint(&name);
    let texts: Vec<&str> = samples.iter().map(String::as_str).collect();
    let found = detector.detect_many(&texts, options)?;
    // Per type: how many samples, and the sum of their scores.
    let mut votes: BTreeMap<String, (usize, f32)> = BTreeMap::new();
    for (text, detections) in texts.iter().zip(&found.detections) {
        let length = text.chars().count().max(1);
        let best = detections
            .iter()
            .filter(|detection| (detection.end - detection.start) * 2 >= length)
            .max_by(|left, right| left.score.total_cmp(&right.score));
        let vote = match (best, hint) {
            (Some(detection), _) => Some((detection.entity_type.to_string(), detection.score)),
            (None, Some(hint)) if fits_hint(hint, text, &language) => Some((hint.to_owned(), 0.9)),
            (None, _) => None,
        };
        // A hinted name agrees with a more general detection: a date in a `dob` column is
        // a date of birth.
        let vote = match (vote, hint) {
            (Some((entity, score)), Some(hint))
                if entity == obscura_detection::entity_type::names::DATE_TIME
                    && hint == obscura_detection::entity_type::names::DATE_OF_BIRTH =>
            {
                Some((hint.to_owned(), score))
            }
            (vote, _) => vote,
        };
        if let Some((entity, score)) = vote {
            let entry = votes.entry(entity).or_default();
            entry.0 += 1;
            entry.1 += score;
        }
    }
    let sample_count = samples.len();
    let best = votes
        .into_iter()
        .max_by(|(_, left), (_, right)| left.0.cmp(&right.0).then(left.1.total_cmp(&right.1)));
    Ok(match best {
        Some((label, (count, total))) if sample_count > 0 => {
            let share = count as f32 / sample_count as f32;
            ColumnProfile {
                column: name,
                label,
                confidence: (share * total / count as f32 * 100.0).round() / 100.0,
                sample_count,
            }
        }
        _ => ColumnProfile {
            column: name,
            label: "NONE".into(),
            confidence: if sample_count == 0 { 0.0 } else { 1.0 },
            sample_count,
        },
    })
}

/// One value to mask by its rule (an entity type).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskRecord {
    #[serde(rename = "ruleName")]
    pub rule_name: String,
    pub value: String,
}

/// Faasera's batch masking request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskRunRequest {
    #[serde(rename = "requestId")]
    pub request_id: Option<String>,
    /// `MULTI_RULE_BATCH`; accepted and not used.
    pub mode: Option<String>,
    pub records: Vec<MaskRecord>,
}

/// One masked value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaskedRecord {
    pub value: String,
    #[serde(rename = "ruleName")]
    pub rule_name: String,
}

/// The masked values, in the order given.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaskRunResponse {
    #[serde(rename = "maskedRecords")]
    pub masked_records: Vec<MaskedRecord>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Values masked per batch.
pub const MAX_MASK_RECORDS: usize = 10_000;

/// How a rule masks: what of the value stays readable.
fn mask_for(entity_type: &str) -> MaskOptions {
    use obscura_detection::entity_type::names;
    let defaults = MaskOptions {
        keep_separators: true,
        ..MaskOptions::default()
    };
    match entity_type {
        // The domain.
        names::EMAIL_ADDRESS => MaskOptions {
            keep_email_domain: true,
            ..defaults
        },
        // The year: the month and day are masked.
        names::DATE_OF_BIRTH | names::DATE_TIME => MaskOptions {
            count: Some(4),
            from_end: true,
            ..defaults
        },
        // The last four, as cards and accounts are shown.
        names::CREDIT_CARD | names::IBAN_CODE | names::PHONE_NUMBER | names::US_BANK_NUMBER => MaskOptions {
            keep_last: 4,
            ..defaults
        },
        _ => defaults,
    }
}

/// Masks each value by its rule, keeping what the rule's type shows (an e-mail's domain, a
/// date's year, a card's last four) and its separators.
#[utoipa::path(
    post,
    path = "/mask/run",
    tag = "compatibility",
    request_body(content = MaskRunRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The masked values", body = MaskRunResponse),
        (status = 400, description = "A rule that is not an entity type, or too many records", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn run_mask(ApiJson(request): ApiJson<MaskRunRequest>) -> Result<ApiJson<MaskRunResponse>, ApiError> {
    if request.records.len() > MAX_MASK_RECORDS {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.records",
            format!(
                "has {} records; at most {MAX_MASK_RECORDS} are masked at once",
                request.records.len()
            ),
        ));
    }
    let masked_records = request
        .records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let entity = Taxonomy.resolve(&record.rule_name).ok_or_else(|| {
                ApiError::invalid_field(
                    "unknown_entity",
                    &format!("body.records[{index}].ruleName"),
                    format!("{:?} is not an entity type", record.rule_name),
                )
            })?;
            Ok(MaskedRecord {
                value: mask(&record.value, &mask_for(entity.name)),
                rule_name: record.rule_name,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(ApiJson(MaskRunResponse {
        masked_records,
        request_id: request.request_id,
    }))
}
