//! Operators: what replaces a detected value.
//!
//! Every operator is a pure function of the value, its entity type, and what the scope
//! supplies (the entity's number in the vault, keys, the language). Consistency comes
//! from the vault: the same entity has the same number, so replacement templates and
//! surrogates built from it repeat, and hashes and deterministic encryption repeat by
//! construction.

use obscura_detection::entity_type::names;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

use super::keyed::HashOptions;
use obscura_detection::validate::dates::{NumericOrder, month_number, parse_date};

/// An operator with its options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operator {
    /// A label from a template; `<PERSON_1>` by default.
    Replace {
        #[serde(default)]
        template: Template,
    },
    Mask(MaskOptions),
    /// Nothing.
    Remove,
    /// The entity type's name, `<PERSON>`.
    Tag,
    /// A keyed hash (HMAC) under the scope's secret.
    Hash(HashOptions),
    /// AES-256-GCM-SIV under the configured key; `deterministic` makes equal values encrypt
    /// equally, so that they stay joinable.
    Encrypt {
        #[serde(default)]
        deterministic: bool,
    },
    /// A realistic fake value of the same kind and format.
    Surrogate,
    /// A coarser value: dates to the month or year, ages to ranges, postal codes cut.
    Generalize(GeneralizeOptions),
}

impl Operator {
    /// The operator's name, as reported for each replacement.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Replace { .. } => "replace",
            Operator::Mask(_) => "mask",
            Operator::Remove => "remove",
            Operator::Tag => "tag",
            Operator::Hash(_) => "hash",
            Operator::Encrypt { .. } => "encrypt",
            Operator::Surrogate => "surrogate",
            Operator::Generalize(_) => "generalize",
        }
    }
}

/// A replacement template. Placeholders: `{entity_type}`; `{label}`, the category in the
/// scope's language (`PERSONA`, `PERSON`); `{n}`, the entity's number in its category, or
/// `{n:03}` zero-padded to three digits; and `{hash6}`, six hex digits of the keyed hash of
/// the value. Presets: `tag` (`<{entity_type}_{n}>`, the default), `bracket`
/// (`[{entity_type}]`), `prefixed` (`{label}-{n:03}`) and `masking_engine`
/// (`<<{entity_type}_{hash6}_{n}>>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template(String);

impl Default for Template {
    fn default() -> Template {
        Template(TAG_TEMPLATE.to_owned())
    }
}

const TAG_TEMPLATE: &str = "<{entity_type}_{n}>";

/// A template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{0}}} in the template (known: entity_type, label, n, n:0W, hash6)")]
    UnknownPlaceholder(String),
    #[error("unclosed {{ in the template")]
    Unclosed,
    #[error("the template is {0} characters; the limit is 100")]
    TooLong(usize),
}

impl TryFrom<String> for Template {
    type Error = TemplateError;

    fn try_from(text: String) -> Result<Template, TemplateError> {
        let text = match text.as_str() {
            "tag" => TAG_TEMPLATE.to_owned(),
            "bracket" => "[{entity_type}]".to_owned(),
            "prefixed" => "{label}-{n:03}".to_owned(),
            "masking_engine" => "<<{entity_type}_{hash6}_{n}>>".to_owned(),
            _ => text,
        };
        if text.chars().count() > 100 {
            return Err(TemplateError::TooLong(text.chars().count()));
        }
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').ok_or(TemplateError::Unclosed)? + open;
            let name = &rest[open + 1..close];
            let known = matches!(name, "entity_type" | "label" | "n" | "hash6")
                || name
                    .strip_prefix("n:0")
                    .is_some_and(|width| width.parse::<usize>().is_ok_and(|width| (1..=9).contains(&width)));
            if !known {
                return Err(TemplateError::UnknownPlaceholder(name.to_owned()));
            }
            rest = &rest[close + 1..];
        }
        Ok(Template(text))
    }
}

impl From<Template> for String {
    fn from(template: Template) -> String {
        template.0
    }
}

impl Template {
    /// A checked template, or a preset's name.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        Template::try_from(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The template with its placeholders filled.
    pub fn render(&self, entity_type: &str, label: &str, number: u64, hash6: &str) -> String {
        let mut out = String::with_capacity(self.0.len() + 16);
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}').map(|close| close + open) else {
                break;
            };
            let name = &rest[open + 1..close];
            match name {
                "entity_type" => out.push_str(entity_type),
                "label" => out.push_str(label),
                "n" => {
                    let _ = write!(out, "{number}");
                }
                "hash6" => out.push_str(hash6),
                other => {
                    let width = other
                        .strip_prefix("n:0")
                        .and_then(|width| width.parse::<usize>().ok())
                        .unwrap_or(1);
                    let _ = write!(out, "{number:0width$}");
                }
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Options of the mask operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskOptions {
    pub mask_char: char,
    /// How many characters to mask; all that may be masked when absent.
    pub count: Option<usize>,
    /// Mask from the end instead of from the start.
    pub from_end: bool,
    /// Keep the value's length; otherwise the masked part becomes five mask characters.
    pub preserve_length: bool,
    /// Leave separators (spaces, dashes, dots, `@`) in place, as in cards and phones;
    /// off by default, when every code point of the value is masked.
    pub keep_separators: bool,
    /// Keep an e-mail address's domain.
    pub keep_email_domain: bool,
    /// Keep the last N letters and digits (a card's last four).
    pub keep_last: usize,
}

impl Default for MaskOptions {
    fn default() -> MaskOptions {
        MaskOptions {
            mask_char: '*',
            count: None,
            from_end: false,
            preserve_length: true,
            keep_separators: false,
            keep_email_domain: false,
            keep_last: 0,
        }
    }
}

/// The value masked as `options` say. What is kept is declared: separators, the domain,
/// the last characters; everything else that is a letter or digit is masked.
pub fn mask(value: &str, options: &MaskOptions) -> String {
    let length = value.chars().count();
    let domain_start = if options.keep_email_domain {
        value.chars().position(|character| character == '@')
    } else {
        None
    }
    .unwrap_or(length);
    let eligible = |index: usize, character: char| {
        index < domain_start && (!options.keep_separators || character.is_alphanumeric())
    };
    // Eligible characters from `limit` on stay, for `keep_last`: taken from the end until
    // that many letters or digits are kept.
    let mut limit = domain_start;
    if options.keep_last > 0 {
        let mut kept = 0;
        for (from_end, character) in value.chars().rev().enumerate() {
            if kept >= options.keep_last {
                break;
            }
            let index = length - 1 - from_end;
            if eligible(index, character) {
                if character.is_alphanumeric() {
                    kept += 1;
                }
                limit = index;
            }
        }
    }
    let hideable = |index: usize, character: char| index < limit && eligible(index, character);
    let total = value
        .chars()
        .enumerate()
        .filter(|&(index, character)| hideable(index, character))
        .count();
    // Of the hideable characters, by rank, those in `skip..skip + take` are masked.
    let (skip, take) = match options.count {
        Some(count) if count < total && options.from_end => (total - count, count),
        Some(count) if count < total => (0, count),
        Some(_) | None => (0, total),
    };
    let mut rank = 0;
    let mut masked = value.char_indices().enumerate().map(move |(index, (byte, character))| {
        let hide = hideable(index, character) && {
            rank += 1;
            (skip..skip + take).contains(&(rank - 1))
        };
        (byte, character, hide)
    });
    if options.preserve_length {
        let mut out = String::with_capacity(value.len());
        for (_, character, hide) in masked {
            out.push(if hide { options.mask_char } else { character });
        }
        return out;
    }
    let Some((first, _, _)) = masked.by_ref().find(|&(_, _, hide)| hide) else {
        return value.to_owned();
    };
    let last_end = masked
        .filter(|&(_, _, hide)| hide)
        .last()
        .map_or(first, |(byte, _, _)| byte);
    let after_last = last_end + value[last_end..].chars().next().map_or(0, char::len_utf8);
    let mut out = String::with_capacity(first + 5 * options.mask_char.len_utf8() + value.len() - after_last);
    out.push_str(&value[..first]);
    out.extend(std::iter::repeat_n(options.mask_char, 5));
    out.push_str(&value[after_last..]);
    out
}

/// Options of the generalize operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneralizeOptions {
    /// Dates keep their `month` (and year) or only their `year`.
    pub date: DateGranularity,
    /// Width of age ranges: 10 turns 53 into 50-59.
    pub age_range: u32,
    /// Leading characters of a postal code kept; the rest become `*`.
    pub postal_code_keep: usize,
}

impl Default for GeneralizeOptions {
    fn default() -> GeneralizeOptions {
        GeneralizeOptions {
            date: DateGranularity::Year,
            age_range: 10,
            postal_code_keep: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateGranularity {
    Month,
    Year,
}

/// The value generalized, or `None` for a type (or a value) generalization does not cover.
pub fn generalize(entity_type: &str, value: &str, options: &GeneralizeOptions, language: &str) -> Option<String> {
    match entity_type {
        names::DATE_TIME | names::DATE_OF_BIRTH => generalize_date(value, options.date, language),
        names::AGE => generalize_age(value, options.age_range.max(1)),
        names::POSTAL_CODE => {
            let keep = options.postal_code_keep;
            Some(
                value
                    .chars()
                    .enumerate()
                    .map(|(index, character)| {
                        if index < keep || !character.is_alphanumeric() {
                            character
                        } else {
                            '*'
                        }
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// The name of a month (1 to 12) in Spanish (`es`) or English.
pub fn month_name(month: u32, language: &str) -> Option<&'static str> {
    obscura_detection::validate::dates::month_name(month, language)
}

fn generalize_date(value: &str, granularity: DateGranularity, language: &str) -> Option<String> {
    let order = if language == "en" {
        NumericOrder::MonthFirst
    } else {
        NumericOrder::DayFirst
    };
    let date = parse_date(value, order)?;
    let written = value
        .split(|character: char| !character.is_alphabetic())
        .any(|word| month_number(word).is_some());
    // A two-digit year stays as it was written ("15/03/45" is 1945 or 2045, which the
    // date alone cannot tell).
    let short_year = !written
        && value
            .trim()
            .rsplit(['/', '-', '.'])
            .next()
            .is_some_and(|part| part.len() == 2);
    let year = if short_year {
        format!("{:02}", date.year.rem_euclid(100))
    } else {
        date.year.to_string()
    };
    if granularity == DateGranularity::Year {
        return Some(year);
    }
    if !written {
        // Numeric forms keep their separator and order: 1980-03, 03/1980.
        let separator = value
            .chars()
            .find(|character| matches!(character, '/' | '-' | '.'))
            .unwrap_or('/');
        return Some(if value.trim().get(4..5) == Some("-") {
            format!("{}-{:02}", date.year, date.month)
        } else {
            format!("{:02}{separator}{year}", date.month)
        });
    }
    let spanish = value.to_lowercase().contains(" de ") || language == "es";
    Some(if spanish {
        format!("{} de {}", month_name(date.month, "es")?, date.year)
    } else {
        format!("{} {}", month_name(date.month, "en")?, date.year)
    })
}

fn generalize_age(value: &str, width: u32) -> Option<String> {
    let start = value.find(|character: char| character.is_ascii_digit())?;
    let digits_end = value[start..]
        .find(|character: char| !character.is_ascii_digit())
        .map_or(value.len(), |end| start + end);
    let age: u32 = value[start..digits_end].parse().ok()?;
    let low = age / width * width;
    let range = if width == 1 {
        low.to_string()
    } else {
        format!("{low}-{}", low + width - 1)
    };
    Some(format!("{}{range}{}", &value[..start], &value[digits_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Masking as first written, one vector per step: what the single-pass version must equal.
    fn mask_by_steps(value: &str, options: &MaskOptions) -> String {
        let characters: Vec<char> = value.chars().collect();
        let domain_start = if options.keep_email_domain {
            characters.iter().position(|character| *character == '@')
        } else {
            None
        }
        .unwrap_or(characters.len());
        let mut eligible: Vec<usize> = (0..domain_start)
            .filter(|&index| !options.keep_separators || characters[index].is_alphanumeric())
            .collect();
        let mut kept = 0;
        while kept < options.keep_last
            && let Some(&last) = eligible.last()
        {
            if characters[last].is_alphanumeric() {
                kept += 1;
            }
            eligible.pop();
        }
        if let Some(count) = options.count
            && count < eligible.len()
        {
            if options.from_end {
                eligible.drain(..eligible.len() - count);
            } else {
                eligible.truncate(count);
            }
        }
        let mut masked = vec![false; characters.len()];
        for &index in &eligible {
            masked[index] = true;
        }
        if options.preserve_length {
            return characters
                .iter()
                .zip(&masked)
                .map(|(character, &hide)| if hide { options.mask_char } else { *character })
                .collect();
        }
        let (Some(&first), Some(&last)) = (eligible.first(), eligible.last()) else {
            return value.to_owned();
        };
        let mut out: String = characters[..first].iter().collect();
        out.extend(std::iter::repeat_n(options.mask_char, 5));
        out.extend(&characters[last + 1..]);
        out
    }

    proptest! {
        #[test]
        fn masking_in_one_pass_equals_masking_by_steps(
            value in "[a-zé4-9 .@-]{0,24}",
            mask_char in prop::sample::select(vec!['*', '#', '█']),
            count in prop::option::of(0_usize..12),
            from_end: bool,
            preserve_length: bool,
            keep_separators: bool,
            keep_email_domain: bool,
            keep_last in 0_usize..6,
        ) {
            let options = MaskOptions {
                mask_char,
                count,
                from_end,
                preserve_length,
                keep_separators,
                keep_email_domain,
                keep_last,
            };
            prop_assert_eq!(mask(&value, &options), mask_by_steps(&value, &options));
        }
    }

    #[test]
    fn templates_render_and_unknown_placeholders_are_refused() {
        let tag = Template::default();
        assert_eq!(tag.render("PERSON", "PERSONA", 1, "7a9b2c"), "<PERSON_1>");
        let prefixed = Template::parse("prefixed").unwrap();
        assert_eq!(prefixed.render("PERSON", "PERSONA", 7, ""), "PERSONA-007");
        let engine = Template::parse("masking_engine").unwrap();
        assert_eq!(
            engine.render("EMAIL_ADDRESS", "EMAIL", 1, "7A9B2C"),
            "<<EMAIL_ADDRESS_7A9B2C_1>>"
        );
        assert_eq!(
            Template::parse("bracket").unwrap().render("PERSON", "", 3, ""),
            "[PERSON]"
        );
        assert_eq!(
            Template::parse("<{name}>"),
            Err(TemplateError::UnknownPlaceholder("name".into()))
        );
        assert_eq!(Template::parse("<{n"), Err(TemplateError::Unclosed));
        let parsed: Operator = serde_json::from_str(r#"{"type": "replace", "template": "{label}#{n:02}"}"#).unwrap();
        assert_eq!(
            parsed,
            Operator::Replace {
                template: Template::parse("{label}#{n:02}").unwrap()
            }
        );
        assert!(serde_json::from_str::<Operator>(r#"{"type": "replace", "template": "{x}"}"#).is_err());
    }

    #[test]
    fn masks_keep_only_what_they_declare() {
        let default = MaskOptions::default();
        // Every code point by default, separators included, as Presidio's mask does.
        assert_eq!(mask("4111 1111 1111 1234", &default), "*******************");
        assert_eq!(mask("ana@example.com", &default), "***************");
        let card = MaskOptions {
            keep_last: 4,
            ..MaskOptions::default()
        };
        assert_eq!(mask("4111 1111 1111 1234", &card), "***************1234");
        let grouped = MaskOptions {
            keep_separators: true,
            ..card
        };
        assert_eq!(mask("4111 1111 1111 1234", &grouped), "**** **** **** 1234");
        let email = MaskOptions {
            keep_email_domain: true,
            mask_char: '#',
            ..MaskOptions::default()
        };
        assert_eq!(mask("ana.lopez@example.com", &email), "#########@example.com");
        let partial = MaskOptions {
            count: Some(3),
            from_end: true,
            keep_separators: false,
            ..MaskOptions::default()
        };
        assert_eq!(mask("612-34-56", &partial), "612-34***");
        let short = MaskOptions {
            preserve_length: false,
            ..MaskOptions::default()
        };
        assert_eq!(mask("Juan Pérez", &short), "*****");
        assert_eq!(mask("", &default), "");
    }

    #[test]
    fn dates_ages_and_postal_codes_generalize() {
        let year = GeneralizeOptions::default();
        let month = GeneralizeOptions {
            date: DateGranularity::Month,
            ..GeneralizeOptions::default()
        };
        assert_eq!(
            generalize("DATE_OF_BIRTH", "15/03/1980", &year, "es").as_deref(),
            Some("1980")
        );
        assert_eq!(
            generalize("DATE_TIME", "15/03/1980", &month, "es").as_deref(),
            Some("03/1980")
        );
        // A two-digit year stays as written: "45" may be 1945 as well as 2045.
        assert_eq!(
            generalize("DATE_OF_BIRTH", "15/03/45", &year, "es").as_deref(),
            Some("45")
        );
        assert_eq!(
            generalize("DATE_TIME", "15-03-45", &month, "es").as_deref(),
            Some("03-45")
        );
        assert_eq!(
            generalize("DATE_TIME", "1980-03-15", &month, "en").as_deref(),
            Some("1980-03")
        );
        assert_eq!(
            generalize("DATE_TIME", "15 de marzo de 1980", &month, "es").as_deref(),
            Some("marzo de 1980")
        );
        assert_eq!(
            generalize("DATE_TIME", "March 15, 1980", &month, "en").as_deref(),
            Some("March 1980")
        );
        assert_eq!(generalize("AGE", "53 años", &year, "es").as_deref(), Some("50-59 años"));
        assert_eq!(generalize("AGE", "aged 7", &year, "en").as_deref(), Some("aged 0-9"));
        assert_eq!(
            generalize("POSTAL_CODE", "28035", &year, "es").as_deref(),
            Some("28***")
        );
        assert_eq!(generalize("PERSON", "Ana", &year, "es"), None);
        assert_eq!(generalize("DATE_TIME", "31/02/1980", &year, "es"), None);
    }
}
