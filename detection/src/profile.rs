//! Profiles: named configurations bundling packs, engines and thresholds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::detect::OnRecognizerError;
use crate::pack::PackError;

/// Which recognizer families a profile runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Pattern packs, phones and entropy.
    Patterns,
    /// Names and places from word lists.
    Gazetteer,
    /// Transformer NER models, where one is installed.
    Ner,
}

/// A profile file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub packs: Vec<String>,
    pub engines: Vec<Engine>,
    /// The language assumed when a request names none.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub min_score: Option<f32>,
    #[serde(default)]
    pub thresholds: BTreeMap<String, f32>,
    /// What a recognizer's failure does to a detection with this profile (`fail` when
    /// absent); a request may say otherwise.
    #[serde(default)]
    pub on_recognizer_error: OnRecognizerError,
    /// Span refinement steps this profile does not run, by name.
    #[serde(default)]
    pub refinements_off: Vec<String>,
}

/// The profile used when a request names none.
pub const DEFAULT_PROFILE: &str = "standard";

/// The profiles shipped with Obscura.
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("minimal", include_str!("../profiles/minimal.yaml")),
    ("standard", include_str!("../profiles/standard.yaml")),
    ("healthcare-en", include_str!("../profiles/healthcare-en.yaml")),
    ("healthcare-es", include_str!("../profiles/healthcare-es.yaml")),
    ("legal-es", include_str!("../profiles/legal-es.yaml")),
    ("high-security", include_str!("../profiles/high-security.yaml")),
];

/// Every built-in profile, parsed.
pub fn builtin_profiles() -> Result<Vec<Profile>, PackError> {
    BUILTIN_PROFILES
        .iter()
        .map(|(name, text)| {
            serde_yaml_ng::from_str(text).map_err(|error| PackError::Syntax {
                file: format!("builtin profile {name}"),
                line: error.location().map_or(1, |location| location.line()),
                message: error.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_name_existing_packs() {
        let packs: Vec<&str> = crate::pack::BUILTIN_PACKS.iter().map(|(name, _)| *name).collect();
        let profiles = builtin_profiles().unwrap();
        assert_eq!(profiles.len(), BUILTIN_PROFILES.len());
        for profile in &profiles {
            for step in &profile.refinements_off {
                assert!(crate::refine::is_step(step), "{}: {step}", profile.name);
            }
            for pack in &profile.packs {
                assert!(
                    packs.contains(&pack.as_str()),
                    "{} names unknown pack {pack}",
                    profile.name
                );
            }
        }
        assert!(profiles.iter().any(|profile| profile.name == DEFAULT_PROFILE));
    }
}
