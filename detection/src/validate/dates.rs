//! Calendar dates in the forms Spanish and English text uses, checked against the calendar.
//!
//! `parse_date` reads "15/03/1980", "15-03-1980", "1980-03-15" (ISO 8601, with an optional
//! time), "15 de marzo de 1980", "15 marzo 1980", "March 15, 1980", "15 March 1980" and
//! "Mar 15 1980", "5-May-2021". Numeric day-first and month-first forms are ambiguous;
//! `order` says which to try first, and both are accepted when only one is a real date.
//! [`is_date`] also accepts what names a day without a year ("September 18", "18 de
//! septiembre") and dates in Spanish words ("quince de marzo de dos mil veinticuatro").

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// Which numeric order to try first for `NN/NN/YYYY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericOrder {
    DayFirst,
    MonthFirst,
}

/// Years accepted as real dates in text.
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=2999;

/// Month names as written in full: Spanish in lower case, English capitalized.
const SPANISH_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Other ways to write a month: a variant spelling and the abbreviations, lower case.
const MONTH_VARIANTS: &[(&str, u32)] = &[
    ("setiembre", 9),
    ("ene", 1),
    ("feb", 2),
    ("mar", 3),
    ("abr", 4),
    ("jun", 6),
    ("jul", 7),
    ("ago", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dic", 12),
    ("jan", 1),
    ("apr", 4),
    ("aug", 8),
    ("dec", 12),
];

/// The month number of an English or Spanish month name or abbreviation.
pub fn month_number(name: &str) -> Option<u32> {
    let lower = name.trim_end_matches('.').to_lowercase();
    let full = |names: [&str; 12]| {
        names
            .iter()
            .position(|known| known.to_lowercase() == lower)
            .and_then(|index| u32::try_from(index + 1).ok())
    };
    full(SPANISH_MONTHS).or_else(|| full(ENGLISH_MONTHS)).or_else(|| {
        MONTH_VARIANTS
            .iter()
            .find(|(known, _)| *known == lower)
            .map(|(_, number)| *number)
    })
}

/// The name of a month (1 to 12) in Spanish (`es`) or English.
pub fn month_name(month: u32, language: &str) -> Option<&'static str> {
    let index = usize::try_from(month.checked_sub(1)?).ok()?;
    if language == "es" {
        SPANISH_MONTHS.get(index).copied()
    } else {
        ENGLISH_MONTHS.get(index).copied()
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month of a year.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl CalendarDate {
    /// A date if it exists in the Gregorian calendar and its year is in [`YEARS`].
    pub fn new(year: i32, month: u32, day: u32) -> Option<CalendarDate> {
        (YEARS.contains(&year) && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(CalendarDate { year, month, day })
    }
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 4 && text.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn year(text: &str) -> Option<i32> {
    (text.len() == 4)
        .then(|| number(text))
        .flatten()
        .and_then(|value| i32::try_from(value).ok())
}

/// A two-digit year, as POSIX `strptime` reads one: 69 to 99 are 1969 to 1999, 00 to 68
/// are 2000 to 2068.
fn short_year(text: &str) -> Option<i32> {
    let value = i32::try_from(number(text)?).ok()?;
    Some(if value >= 69 { 1900 + value } else { 2000 + value })
}

/// Parses a date in one of the module's forms; `None` for text that is not a real date.
pub fn parse_date(text: &str, order: NumericOrder) -> Option<CalendarDate> {
    let text = text.trim();
    // ISO 8601: YYYY-MM-DD, optionally followed by T or a space and a time.
    if let (Some(date), Some(rest)) = (text.get(..10), text.get(10..))
        && date.is_ascii()
        && date.as_bytes()[4] == b'-'
        && date.as_bytes()[7] == b'-'
    {
        if rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ') {
            return CalendarDate::new(year(&date[..4])?, number(&date[5..7])?, number(&date[8..10])?);
        }
        return None;
    }
    // Numeric with / - or . separators.
    for separator in ['/', '-', '.'] {
        let parts: Vec<&str> = text.split(separator).collect();
        if parts.len() == 3 && parts.iter().all(|part| number(part).is_some()) {
            let (first, second) = (number(parts[0])?, number(parts[1])?);
            let year = if parts[0].len() == 4 {
                return CalendarDate::new(year(parts[0])?, second, number(parts[2])?);
            } else if parts[2].len() == 2 && separator != '.' {
                short_year(parts[2])?
            } else {
                year(parts[2])?
            };
            let (preferred, other) = match order {
                NumericOrder::DayFirst => ((first, second), (second, first)),
                NumericOrder::MonthFirst => ((second, first), (first, second)),
            };
            return CalendarDate::new(year, preferred.1, preferred.0)
                .or_else(|| CalendarDate::new(year, other.1, other.0));
        }
    }
    // Written months: tokens of words and numbers, ignoring "de", "del", commas and "of".
    let tokens: Vec<&str> = text
        .split(|character: char| character.is_whitespace() || matches!(character, ',' | '-' | '/'))
        .filter(|token| !token.is_empty())
        .filter(|token| !matches!(token.to_lowercase().as_str(), "de" | "del" | "of" | "the"))
        .collect();
    if tokens.len() != 3 {
        return None;
    }
    let strip_ordinal = |token: &str| -> Option<u32> {
        let digits = token.trim_end_matches(|character: char| {
            character.is_ascii_alphabetic() || character == 'º' || character == '°'
        });
        number(digits).filter(|day| *day <= 31)
    };
    if let (Some(day), Some(month), Some(year)) = (strip_ordinal(tokens[0]), month_number(tokens[1]), year(tokens[2])) {
        return CalendarDate::new(year, month, day);
    }
    if let (Some(month), Some(day), Some(year)) = (month_number(tokens[0]), strip_ordinal(tokens[1]), year(tokens[2])) {
        return CalendarDate::new(year, month, day);
    }
    None
}

/// Whether `text` names a real day: a date [`parse_date`] reads, a day and month without a
/// year ("September 18", "18th of May", "18 de septiembre"), or a date in Spanish words
/// ("a quince de marzo de dos mil veinticuatro", "uno de enero"). A day without a year may
/// be the 29th of February.
pub fn is_date(text: &str) -> bool {
    if parse_date(text, NumericOrder::DayFirst).is_some() {
        return true;
    }
    let tokens: Vec<&str> = text
        .split(|character: char| character.is_whitespace() || matches!(character, ',' | '-' | '/'))
        .filter(|token| !token.is_empty())
        .filter(|token| !matches!(token.to_lowercase().as_str(), "de" | "del" | "of" | "the"))
        .collect();
    let day = |token: &str| {
        let digits = token.trim_end_matches(|character: char| {
            character.is_ascii_alphabetic() || character == 'º' || character == '°'
        });
        number(digits)
    };
    let real = |month: u32, day: u32| CalendarDate::new(2000, month, day).is_some();
    if let [first, second] = tokens.as_slice() {
        if let (Some(day), Some(month)) = (day(first), month_number(second)) {
            return real(month, day);
        }
        if let (Some(month), Some(day)) = (month_number(first), day(second)) {
            return real(month, day);
        }
    }
    spanish_words_date(text).is_some()
}

/// A date in Spanish words: "quince de marzo de dos mil veinticuatro", "a diez de enero de
/// dos mil veinticuatro", "treinta y uno de diciembre de 1999", "primero de mayo" (the year,
/// when absent, is 2000, a leap year).
pub fn spanish_words_date(text: &str) -> Option<CalendarDate> {
    let lower = text.trim().to_lowercase().replace(" del ", " de ");
    let lower = lower.strip_prefix("a ").unwrap_or(&lower);
    let lower = lower.strip_prefix("el ").unwrap_or(lower);
    let parts: Vec<&str> = lower.split(" de ").map(str::trim).collect();
    let (day, month, year) = match parts.as_slice() {
        [day, month] => (*day, *month, None),
        [day, month, year] => (*day, *month, Some(*year)),
        _ => return None,
    };
    let day = super::words::spanish_number(day)?;
    let month = SPANISH_MONTHS
        .iter()
        .position(|known| *known == month)
        .and_then(|index| u32::try_from(index + 1).ok())
        .or_else(|| (month == "setiembre").then_some(9))?;
    let year = match year {
        None => 2000,
        Some(year) => {
            let value = match number(year) {
                Some(value) if year.len() == 4 => value,
                _ => super::words::spanish_number(year)?,
            };
            i32::try_from(value).ok()?
        }
    };
    CalendarDate::new(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_without_a_year_and_dates_in_words() {
        for text in [
            "September 18",
            "18 September",
            "18th of May",
            "18 de septiembre",
            "Feb 29",
            "5-May-2021",
            "quince de marzo de dos mil veinticuatro",
            "a diez de enero de dos mil veinticuatro",
            "treinta y uno de diciembre de mil novecientos noventa y nueve",
            "primero de mayo",
            "veintitrés de abril del 2021",
        ] {
            assert!(is_date(text), "{text}");
        }
        for text in [
            "September 31",
            "32 May",
            "treinta y uno de abril de dos mil",
            "quince de marzo de dos mil quince dos",
            "cinco de mayonesa",
            "May",
        ] {
            assert!(!is_date(text), "{text}");
        }
        assert_eq!(
            spanish_words_date("quince de marzo de dos mil veinticuatro"),
            date(2024, 3, 15)
        );
        assert_eq!(parse_date("5-May-2021", NumericOrder::DayFirst), date(2021, 5, 5));
    }

    fn date(year: i32, month: u32, day: u32) -> Option<CalendarDate> {
        Some(CalendarDate { year, month, day })
    }

    #[test]
    fn spanish_and_english_forms() {
        let order = NumericOrder::DayFirst;
        assert_eq!(parse_date("15/03/1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("15-03-1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("15.03.1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("22-7-04", order), date(2004, 7, 22));
        assert_eq!(parse_date("11/10/01", order), date(2001, 10, 11));
        assert_eq!(parse_date("15/03/80", order), date(1980, 3, 15));
        assert_eq!(parse_date("31/02/04", order), None);
        // "1.2.10" is a version, not a date.
        assert_eq!(parse_date("1.2.10", order), None);
        assert_eq!(parse_date("15 de marzo de 1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("1 de septiembre del 2021", order), date(2021, 9, 1));
        assert_eq!(parse_date("March 15, 1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("15th March 1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("Mar. 15 1980", order), date(1980, 3, 15));
        assert_eq!(parse_date("1980-03-15", order), date(1980, 3, 15));
        assert_eq!(parse_date("1980-03-15T10:20:00Z", order), date(1980, 3, 15));
    }

    #[test]
    fn numeric_order_is_a_preference() {
        assert_eq!(parse_date("03/04/2020", NumericOrder::DayFirst), date(2020, 4, 3));
        assert_eq!(parse_date("03/04/2020", NumericOrder::MonthFirst), date(2020, 3, 4));
        // Only one reading is a real date, so both orders find it.
        assert_eq!(parse_date("03/25/2020", NumericOrder::DayFirst), date(2020, 3, 25));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        let order = NumericOrder::DayFirst;
        for invalid in [
            "31/04/2020",
            "29/02/2021",
            "30 de febrero de 2020",
            "February 30, 2020",
            "1900-02-29",
            "2020-13-01",
            "00/01/2020",
            "15/03/0980",
            "15 de marzo",
            "12/12/123",
            "12/12/1",
            "1980-0é-15",
            "1980-03-1é",
        ] {
            assert_eq!(parse_date(invalid, order), None, "{invalid}");
        }
        assert_eq!(
            parse_date("2000-02-29", order),
            date(2000, 2, 29),
            "2000 is a leap year"
        );
    }
}
