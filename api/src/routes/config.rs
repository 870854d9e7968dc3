//! `POST /api/v1/config/validate`: checks detection settings before a client relies on
//! them, and says what they resolve to.

use axum::extract::State;
use obscura_detection::profile::Engine;
use obscura_detection::taxonomy::Taxonomy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::detect_settings::{EngineName, engine_families};
use crate::problem::{ApiError, ApiJson, Problem};
use crate::state::AppState;

/// Detection settings to check, in MaskingEngine's words (`regex_only`, `regex_packs`) or
/// ours.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsToCheck {
    /// Patterns only, without word lists or the NER model.
    pub regex_only: Option<bool>,
    /// Pattern packs instead of the profile's; also accepted as `regex_packs`.
    #[serde(alias = "regex_packs")]
    pub pattern_packs: Option<Vec<String>>,
    /// The least score of the NER model's detections, 0 to 1.
    pub min_confidence: Option<f32>,
    pub strict_validation: Option<bool>,
    pub whitelist: Option<Vec<String>>,
    pub entities: Option<Vec<String>>,
    pub engines: Option<Vec<EngineName>>,
    pub language: Option<String>,
}

/// A configuration check.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigValidateRequest {
    #[serde(default)]
    pub config: SettingsToCheck,
    /// The profile the settings refine (default `standard`).
    pub profile: Option<String>,
}

/// What the settings come to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResolvedSettings {
    pub profile: String,
    pub regex_only: bool,
    /// The pattern packs that run; `regex_packs` in MaskingEngine's words.
    pub pattern_packs: Vec<String>,
    pub regex_packs: Vec<String>,
    /// `patterns`, `gazetteer`, `ner`.
    pub engines: Vec<String>,
    pub min_confidence: Option<f32>,
    pub strict_validation: bool,
    pub language: Option<String>,
}

/// The verdict.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigValidation {
    /// `valid` or `invalid`.
    pub status: String,
    pub explanation: String,
    /// What is wrong, one sentence each; empty when valid.
    pub issues: Vec<String>,
    pub resolved_config: ResolvedSettings,
}

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Patterns => "patterns",
        Engine::Gazetteer => "gazetteer",
        Engine::Ner => "ner",
    }
}

/// Checks detection settings and a profile: unknown packs, profiles, entity types and
/// scores out of range are named. Invalid settings answer 200 with `status: invalid`.
#[utoipa::path(
    post,
    path = "/config/validate",
    tag = "detection",
    request_body(content = ConfigValidateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The verdict, with what the settings resolve to", body = ConfigValidation),
        (status = 400, description = "A body that is not a configuration check", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn validate_config(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ConfigValidateRequest>,
) -> Result<ApiJson<ConfigValidation>, ApiError> {
    let settings = request.config;
    let mut issues = Vec::new();
    let profile_name = request.profile.unwrap_or_else(|| "standard".to_owned());
    let profile = match state.catalog.profile(&profile_name) {
        Ok(profile) => Some(profile.clone()),
        Err(_) => {
            let known: Vec<&str> = state
                .catalog
                .profiles()
                .iter()
                .map(|profile| profile.name.as_str())
                .collect();
            issues.push(format!(
                "profile `{profile_name}` does not exist (known: {})",
                known.join(", ")
            ));
            None
        }
    };
    let packs = settings
        .pattern_packs
        .clone()
        .or_else(|| profile.as_ref().map(|profile| profile.packs.clone()))
        .unwrap_or_default();
    for pack in &packs {
        if !state.catalog.packs().iter().any(|loaded| &loaded.pack.name == pack) {
            issues.push(format!("pattern pack `{pack}` does not exist"));
        }
    }
    let regex_only = settings.regex_only.unwrap_or(false);
    let engines: Vec<Engine> = if regex_only {
        vec![Engine::Patterns]
    } else if let Some(names) = &settings.engines {
        engine_families(names)
    } else {
        profile
            .as_ref()
            .map(|profile| profile.engines.clone())
            .unwrap_or_default()
    };
    if let Some(score) = settings.min_confidence
        && !(0.0..=1.0).contains(&score)
    {
        issues.push(format!("min_confidence must be between 0 and 1, not {score}"));
    }
    for entity in settings.entities.iter().flatten() {
        if Taxonomy.resolve(entity).is_none() {
            issues.push(format!("`{entity}` is not an entity type"));
        }
    }
    let valid = issues.is_empty();
    let explanation = if valid {
        format!("Using profile '{profile_name}'. Configuration is valid.")
    } else {
        format!(
            "Using profile '{profile_name}'. Configuration is invalid: {} issue(s).",
            issues.len()
        )
    };
    Ok(ApiJson(ConfigValidation {
        status: if valid { "valid" } else { "invalid" }.to_owned(),
        explanation,
        issues,
        resolved_config: ResolvedSettings {
            profile: profile_name,
            regex_only,
            regex_packs: packs.clone(),
            pattern_packs: packs,
            engines: engines
                .into_iter()
                .map(|engine| engine_name(engine).to_owned())
                .collect(),
            min_confidence: settings
                .min_confidence
                .or_else(|| profile.as_ref().and_then(|profile| profile.min_score)),
            strict_validation: settings.strict_validation.unwrap_or(true),
            language: settings
                .language
                .or_else(|| profile.as_ref().and_then(|profile| profile.language.clone())),
        },
    }))
}
