//! Detection as every text endpoint, job and command asks for it: the settings a request
//! may give, and the detector and options they select.

use obscura_detection::pack::PackError;
use obscura_detection::profile::Engine;
use obscura_detection::{DenyEntry, DetectOptions, OnRecognizerError, SkippedRecognizer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::state::AppState;

/// A value the deny list always reports: a plain string (reported as `CUSTOM`) or a value
/// with its entity type.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DenyListItem {
    Value(String),
    Typed { value: String, entity_type: String },
}

/// Which recognizer families to run.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EngineName {
    Patterns,
    Gazetteer,
    Ner,
}

impl EngineName {
    /// The engine's family in the detection engine.
    pub fn engine(self) -> Engine {
        match self {
            EngineName::Patterns => Engine::Patterns,
            EngineName::Gazetteer => Engine::Gazetteer,
            EngineName::Ner => Engine::Ner,
        }
    }
}

/// What a recognizer's failure (a model's inference fault) does to a request: `fail` (the
/// default) answers 503 `recognizer_failed`; `skip` answers without that recognizer and
/// names it in `skipped_recognizers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RecognizerErrorMode {
    Fail,
    Skip,
}

impl RecognizerErrorMode {
    pub fn domain(self) -> OnRecognizerError {
        match self {
            RecognizerErrorMode::Fail => OnRecognizerError::Fail,
            RecognizerErrorMode::Skip => OnRecognizerError::Skip,
        }
    }
}

/// A recognizer an answer was made without, because it failed and the request (or its
/// profile) allowed that: what it finds may be left in the text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedRecognizerView {
    pub recognizer: String,
    /// What failed.
    pub reason: String,
}

/// The skipped recognizers of an answer.
pub fn skipped_views(skipped: Vec<SkippedRecognizer>) -> Vec<SkippedRecognizerView> {
    skipped
        .into_iter()
        .map(|item| SkippedRecognizerView {
            recognizer: item.recognizer,
            reason: item.reason,
        })
        .collect()
}

/// A pack or profile named in a request that does not exist is the request's fault.
fn selection_error(error: PackError, field: &str) -> ApiError {
    match error {
        PackError::Unknown(name) => ApiError::invalid_field("invalid_body", field, format!("{name} does not exist")),
        other @ (PackError::Read { .. }
        | PackError::Syntax { .. }
        | PackError::Invalid { .. }
        | PackError::Duplicate { .. }) => ApiError::internal(other),
    }
}

/// The detection settings every text endpoint accepts.
#[derive(Debug, Clone, Default)]
pub struct DetectFields {
    pub language: Option<String>,
    pub entities: Option<Vec<String>>,
    pub min_score: Option<f32>,
    pub allow_list: Vec<String>,
    pub deny_list: Vec<DenyListItem>,
    pub pattern_packs: Option<Vec<String>>,
    pub profile: Option<String>,
    pub engines: Option<Vec<EngineName>>,
    pub explain: bool,
    pub on_recognizer_error: Option<RecognizerErrorMode>,
}

/// The detector and options a request asks for.
pub fn prepare(
    state: &AppState,
    fields: DetectFields,
) -> Result<(obscura_detection::catalog::Selection, DetectOptions), ApiError> {
    let engines: Option<Vec<Engine>> = fields
        .engines
        .as_ref()
        .map(|engines| engines.iter().map(|engine| engine.engine()).collect());
    let field = if fields.profile.is_some() {
        "body.profile"
    } else {
        "body.pattern_packs"
    };
    let selection = state
        .catalog
        .select(
            fields.profile.as_deref(),
            fields.pattern_packs.as_deref(),
            engines.as_deref(),
        )
        .map_err(|error| selection_error(error, field))?;
    let mut options = DetectOptions {
        language: fields.language,
        entities: fields.entities,
        min_score: fields.min_score,
        allow_list: fields.allow_list,
        deny_list: fields
            .deny_list
            .into_iter()
            .map(|item| match item {
                DenyListItem::Value(value) => DenyEntry {
                    value,
                    entity_type: "CUSTOM".into(),
                },
                DenyListItem::Typed { value, entity_type } => DenyEntry { value, entity_type },
            })
            .collect(),
        explain: fields.explain,
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    if let Some(mode) = fields.on_recognizer_error {
        options.on_recognizer_error = mode.domain();
    }
    Ok((selection, options))
}
