//! Operators as requests and projects name them: a name and its options, made into the
//! engine's operator, and a project's operators by entity type over its level.

use std::collections::BTreeMap;

use obscura_anonymization::keyed::{HashAlgorithm, HashOptions};
use obscura_anonymization::operator::{DateGranularity, GeneralizeOptions, MaskOptions, Operator, Template};
use obscura_anonymization::{Level, Policy};
use obscura_detection::taxonomy::Taxonomy;
use serde::{Deserialize, Serialize};

/// Operators by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OperatorName {
    Replace,
    Mask,
    Remove,
    Tag,
    Hash,
    Encrypt,
    Surrogate,
    Generalize,
}

impl OperatorName {
    pub fn parse(name: &str) -> Option<OperatorName> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }
}

/// Operator options shared by the text and JSON endpoints.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorOptions {
    /// `mask`: the mask character (default `*`).
    pub mask_char: Option<char>,
    /// `mask`: keep the value's length (default true).
    pub preserve_length: Option<bool>,
    /// `mask`: leave separators (spaces, dashes, dots, `@`) unmasked (default false: every
    /// character of the value is masked).
    pub keep_separators: Option<bool>,
    /// `mask`: keep the last N letters and digits.
    pub keep_last: Option<usize>,
    /// `mask`: keep an e-mail address's domain.
    pub keep_email_domain: Option<bool>,
    /// `replace`: a template (`<{entity_type}_{n}>`, or the presets `tag`, `bracket`,
    /// `prefixed`, `masking_engine`).
    pub template: Option<String>,
    /// `hash`: `hmac_sha256` (default) or `hmac_sha512`.
    pub hash_algorithm: Option<String>,
    /// `hash`: characters of output kept.
    pub hash_length: Option<usize>,
    /// `encrypt`: equal values encrypt equally (default false).
    pub deterministic: Option<bool>,
    /// `generalize`: dates to `month` or `year` (default).
    pub date_granularity: Option<String>,
}

/// One entity type's operator, as a project stores it: `{"operator": "mask", "keep_last": 4}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EntityOperator {
    pub operator: OperatorName,
    #[serde(flatten)]
    pub options: OperatorOptions,
}

/// An option that cannot be: which, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option} {message}")]
pub struct OperatorError {
    /// The option, or the entity type, at fault.
    pub option: String,
    pub message: String,
}

/// The engine's operator for a name and its options.
pub fn build_operator(name: OperatorName, options: &OperatorOptions) -> Result<Operator, OperatorError> {
    let invalid = |option: &str, message: String| OperatorError {
        option: option.to_owned(),
        message,
    };
    Ok(match name {
        OperatorName::Replace => Operator::Replace {
            template: match &options.template {
                Some(template) => Template::parse(template).map_err(|error| invalid("template", error.to_string()))?,
                None => Template::default(),
            },
        },
        OperatorName::Mask => {
            let defaults = MaskOptions::default();
            Operator::Mask(MaskOptions {
                mask_char: options.mask_char.unwrap_or(defaults.mask_char),
                preserve_length: options.preserve_length.unwrap_or(defaults.preserve_length),
                keep_separators: options.keep_separators.unwrap_or(defaults.keep_separators),
                keep_last: options.keep_last.unwrap_or(0),
                keep_email_domain: options.keep_email_domain.unwrap_or(false),
                ..defaults
            })
        }
        OperatorName::Remove => Operator::Remove,
        OperatorName::Tag => Operator::Tag,
        OperatorName::Hash => Operator::Hash(HashOptions {
            algorithm: match options.hash_algorithm.as_deref() {
                None | Some("hmac_sha256") => HashAlgorithm::HmacSha256,
                Some("hmac_sha512") => HashAlgorithm::HmacSha512,
                Some(other) => {
                    return Err(invalid(
                        "hash_algorithm",
                        format!("{other:?} is not hmac_sha256 or hmac_sha512"),
                    ));
                }
            },
            length: options.hash_length,
            ..HashOptions::default()
        }),
        OperatorName::Encrypt => Operator::Encrypt {
            deterministic: options.deterministic.unwrap_or(false),
        },
        OperatorName::Surrogate => Operator::Surrogate,
        OperatorName::Generalize => Operator::Generalize(GeneralizeOptions {
            date: match options.date_granularity.as_deref() {
                None | Some("year") => DateGranularity::Year,
                Some("month") => DateGranularity::Month,
                Some(other) => return Err(invalid("date_granularity", format!("{other:?} is not month or year"))),
            },
            ..GeneralizeOptions::default()
        }),
    })
}

/// A project's operators by entity type, read and checked: `{"EMAIL_ADDRESS": {"operator":
/// "mask", "keep_email_domain": true}}`. The error names the entity type and option.
pub fn entity_operators(value: &serde_json::Value) -> Result<BTreeMap<String, Operator>, OperatorError> {
    let Some(entries) = value.as_object() else {
        return Err(OperatorError {
            option: String::new(),
            message: "must be an object of operators by entity type".into(),
        });
    };
    let mut operators = BTreeMap::new();
    for (name, spec) in entries {
        let Some(info) = Taxonomy.resolve(name) else {
            return Err(OperatorError {
                option: name.clone(),
                message: "is not an entity type (see GET /api/v1/entities)".into(),
            });
        };
        let entity: EntityOperator = serde_json::from_value(spec.clone()).map_err(|error| OperatorError {
            option: name.clone(),
            // serde names the field and the reason; it quotes no value of a document.
            message: format!("is not an operator: {error}"),
        })?;
        let operator = build_operator(entity.operator, &entity.options).map_err(|error| OperatorError {
            option: format!("{name}.{}", error.option),
            message: error.message,
        })?;
        operators.insert(Taxonomy.canonical_name(info.name).as_str().to_owned(), operator);
    }
    Ok(operators)
}

/// A project's policy: its level, with its operators by entity type over it.
pub fn project_policy(level: Level, operators: Option<&serde_json::Value>) -> Result<Policy, OperatorError> {
    let mut policy = Policy::level(level);
    if let Some(operators) = operators {
        for (entity, operator) in entity_operators(operators)? {
            policy.by_entity.insert(entity, operator);
        }
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_s_operators_refine_its_level_and_bad_ones_are_named() {
        let policy = project_policy(
            Level::Intermediate,
            Some(&serde_json::json!({ "email": { "operator": "mask", "keep_email_domain": true } })),
        )
        .unwrap();
        assert_eq!(policy.by_entity.len(), 1);
        let error = entity_operators(&serde_json::json!({ "NOPE": { "operator": "mask" } })).unwrap_err();
        assert_eq!(error.option, "NOPE");
        let error = entity_operators(&serde_json::json!({ "PERSON": { "operator": "hash", "hash_algorithm": "md5" } }))
            .unwrap_err();
        assert_eq!(error.option, "PERSON.hash_algorithm");
        assert!(entity_operators(&serde_json::json!({ "PERSON": { "operator": "shred" } })).is_err());
        assert!(entity_operators(&serde_json::json!(["mask"])).is_err());
    }
}
