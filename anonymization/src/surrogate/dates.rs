//! Dates moved by the scope's one shift, written in the original's format and language.

use super::*;

/// The date moved by `days`, written as the original was; `None` when it is not a date.
pub(super) fn shifted_date(value: &str, language: &str, days: i64) -> Option<String> {
    let order = if language == "en" {
        NumericOrder::MonthFirst
    } else {
        NumericOrder::DayFirst
    };
    let date = parse_date(value, order)?;
    let shifted = from_days(to_days(date) + days)?;
    let trimmed = value.trim();
    // ISO 8601, with whatever time follows.
    if trimmed.get(4..5) == Some("-") && trimmed.get(7..8) == Some("-") {
        return Some(format!(
            "{:04}-{:02}-{:02}{}",
            shifted.year,
            shifted.month,
            shifted.day,
            trimmed.get(10..).unwrap_or("")
        ));
    }
    let words: Vec<&str> = trimmed
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    if let Some(month_word) = words.iter().find(|word| month_number(word).is_some()) {
        // Written month: swap the numbers and the month's name, keeping everything else.
        let spanish = fold_word(month_word)
            .chars()
            .all(|character| character.is_ascii_lowercase())
            && month_name(shifted.month, "es").is_some_and(|_| language == "es" || trimmed.contains(" de "));
        let name = month_name(shifted.month, if spanish { "es" } else { "en" })?;
        let name = if month_word.len() <= 4 && !month_word.eq_ignore_ascii_case("mayo") {
            name.chars().take(3).collect::<String>()
        } else {
            name.to_owned()
        };
        let mut out = String::new();
        let mut rest = trimmed;
        while !rest.is_empty() {
            let start = rest
                .find(|character: char| character.is_alphanumeric())
                .unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest
                .find(|character: char| !character.is_alphanumeric())
                .unwrap_or(rest.len());
            let word = &rest[..end];
            if word.is_empty() {
                break;
            }
            let replaced = if month_number(word).is_some() {
                cased_like(&name, word)
            } else if word.len() == 4 && word.chars().all(|character| character.is_ascii_digit()) {
                shifted.year.to_string()
            } else if word.chars().all(|character| character.is_ascii_digit()) {
                if word.len() == 2 {
                    format!("{:02}", shifted.day)
                } else {
                    shifted.day.to_string()
                }
            } else {
                word.to_owned()
            };
            out.push_str(&replaced);
            rest = &rest[end..];
        }
        return Some(out);
    }
    // Numeric: the same separators, order and padding.
    let separator = trimmed.chars().find(|character| matches!(character, '/' | '-' | '.'))?;
    let parts: Vec<&str> = trimmed.split(separator).collect();
    if parts.len() != 3 {
        return None;
    }
    let pad = |number: u32, like: &str| {
        if like.len() == 2 {
            format!("{number:02}")
        } else {
            number.to_string()
        }
    };
    let day_first = parts[0].parse::<u32>().ok() == Some(date.day) && parts[1].parse::<u32>().ok() == Some(date.month);
    let (first, second) = if day_first {
        (pad(shifted.day, parts[0]), pad(shifted.month, parts[1]))
    } else {
        (pad(shifted.month, parts[0]), pad(shifted.day, parts[1]))
    };
    let year = if parts[2].len() == 2 {
        format!("{:02}", shifted.year % 100)
    } else {
        shifted.year.to_string()
    };
    Some(format!("{first}{separator}{second}{separator}{year}"))
}

/// Days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's `days_from_civil`.
pub(super) fn to_days(date: CalendarDate) -> i64 {
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub(super) fn from_days(days: i64) -> Option<CalendarDate> {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    CalendarDate::new(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )
}
