//! Surrogate numbers and identifiers that are valid by their own rules: phone numbers of
//! the same region, IBANs, DNI and NIE, Luhn numbers, SSN, NSS, NHS, and ages.

use super::*;

pub(super) fn phone(value: &str, language: &str, random: &mut Random) -> String {
    let region = obscura_detection::phone::home_region(language);
    let parsed = phonenumber::parse(Some(region), value).ok();
    // Digits kept: a written country code, then the first national digit.
    let national_digits = parsed
        .as_ref()
        .map(|number| number.national().value().to_string().len())
        .unwrap_or(0);
    let total_digits = value.chars().filter(char::is_ascii_digit).count();
    let keep = if national_digits > 0 && national_digits <= total_digits {
        total_digits - national_digits + 1
    } else {
        1
    };
    let database = &*phonenumber::metadata::DATABASE;
    let kind = parsed.as_ref().and_then(|number| KindCheck::of(number, value));
    // Without the shortcut, the original's type (mobile, fixed line…), which its surrogate keeps.
    // An original no plan accepts has no type to keep: any valid number will do.
    let original_kind = match kind {
        Some(_) => None,
        None => parsed
            .as_ref()
            .filter(|number| phonenumber::is_valid(number))
            .map(|number| number.number_type(database)),
    };
    for _ in 0..ATTEMPTS {
        let mut seen = 0;
        let candidate: String = value
            .chars()
            .map(|character| {
                if character.is_ascii_digit() {
                    seen += 1;
                    if seen <= keep {
                        character
                    } else {
                        char::from(b'0' + random.below(10) as u8)
                    }
                } else {
                    character
                }
            })
            .collect();
        let accepted = match (&kind, &parsed) {
            (Some(kind), _) => kind.accepts(&candidate),
            (None, Some(_)) => phonenumber::parse(Some(region), &candidate).is_ok_and(|number| {
                phonenumber::is_valid(&number) && original_kind.is_none_or(|kind| number.number_type(database) == kind)
            }),
            (None, None) => true,
        };
        if accepted {
            return candidate;
        }
    }
    same_shape(value, random, false)
}

/// A phone surrogate checked against the numbering plan of its original's country, for the
/// type the original has (a mobile stays a mobile), without parsing every candidate: a
/// national number that matches the plan's general pattern and one type's pattern is valid.
pub(super) struct KindCheck {
    general: &'static phonenumber::metadata::Descriptor,
    kind: &'static phonenumber::metadata::Descriptor,
    /// How many digits, at the end of the value, are the national number.
    national_length: usize,
}

impl KindCheck {
    /// `None` where the shortcut could be wrong or does not apply: a country code several
    /// regions share (the region depends on the digits drawn), a value whose last digits are
    /// not its national number (an extension), or a number neither mobile nor fixed line.
    fn of(number: &phonenumber::PhoneNumber, value: &str) -> Option<KindCheck> {
        let database = &*phonenumber::metadata::DATABASE;
        if database.region(&number.code().value())?.len() != 1 {
            return None;
        }
        let metadata = number.metadata(database)?;
        let national = number.national().to_string();
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        let general = metadata.descriptors().general();
        if !digits.ends_with(&national) || !general.is_match(&national) {
            return None;
        }
        // The two types nearly every phone in a document has, tried alone rather than all
        // the plan's types in turn.
        let kind = [metadata.descriptors().mobile(), metadata.descriptors().fixed_line()]
            .into_iter()
            .flatten()
            .find(|descriptor| descriptor.is_match(&national))?;
        Some(KindCheck {
            general,
            kind,
            national_length: national.len(),
        })
    }

    fn accepts(&self, candidate: &str) -> bool {
        let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
        let Some(national) = digits.get(digits.len().saturating_sub(self.national_length)..) else {
            return false;
        };
        self.general.is_match(national) && self.kind.is_match(national)
    }
}

pub(super) fn iban(value: &str, random: &mut Random) -> String {
    let compact: Vec<char> = value
        .chars()
        .filter(|character| character.is_ascii_alphanumeric())
        .collect();
    if compact.len() < 5 {
        return same_shape(value, random, false);
    }
    let country: String = compact[..2].iter().collect::<String>().to_uppercase();
    let bban: String = compact[4..]
        .iter()
        .map(|character| {
            if character.is_ascii_digit() {
                char::from(b'0' + random.below(10) as u8)
            } else {
                char::from(b'A' + random.below(26) as u8)
            }
        })
        .collect();
    let rearranged = format!("{bban}{country}00");
    let remainder = obscura_detection::validate::checksum::mod97_alphanumeric(&rearranged).unwrap_or(0);
    let check = 98 - remainder;
    let new_compact: Vec<char> = format!("{country}{check:02}{bban}").chars().collect();
    // The original grouping.
    let mut index = 0;
    value
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                let replacement = new_compact.get(index).copied().unwrap_or(character);
                index += 1;
                if character.is_lowercase() {
                    replacement.to_ascii_lowercase()
                } else {
                    replacement
                }
            } else {
                character
            }
        })
        .collect()
}

pub(super) fn spanish_id(value: &str, random: &mut Random) -> String {
    let first = value.trim().chars().next().unwrap_or('0').to_ascii_uppercase();
    let prefix_digit = match first {
        'X' => Some(0),
        'Y' => Some(1),
        'Z' => Some(2),
        _ => None,
    };
    let new_prefix = prefix_digit.map(|_| random.below(3));
    let mut digits = String::new();
    let mut out = String::with_capacity(value.len());
    let mut seen_prefix = false;
    for character in value.chars() {
        if character.is_ascii_digit() {
            let digit = char::from(b'0' + random.below(10) as u8);
            digits.push(digit);
            out.push(digit);
        } else if character.is_ascii_alphabetic() && !seen_prefix && new_prefix.is_some() && digits.is_empty() {
            seen_prefix = true;
            let letter = [b'X', b'Y', b'Z'][new_prefix.unwrap_or(0) as usize] as char;
            out.push(if character.is_lowercase() {
                letter.to_ascii_lowercase()
            } else {
                letter
            });
        } else {
            out.push(character);
        }
    }
    let number: u64 = format!(
        "{}{digits}",
        new_prefix.map(|digit| digit.to_string()).unwrap_or_default()
    )
    .parse()
    .unwrap_or(0);
    let letter = obscura_detection::validate::spain::dni_letter(number);
    // The control letter is the last letter of the original.
    match out.rfind(|character: char| character.is_ascii_alphabetic()) {
        Some(position) if position > 0 => {
            let lower = out[position..].starts_with(|character: char| character.is_lowercase());
            out.replace_range(
                position..position + 1,
                &if lower { letter.to_ascii_lowercase() } else { letter }.to_string(),
            );
            out
        }
        _ => out,
    }
}

/// Replaces the digits after the first `keep`, then fixes the last digit by Luhn.
pub(super) fn luhn_number(value: &str, random: &mut Random) -> String {
    let total = value.chars().filter(char::is_ascii_digit).count();
    if total < 2 {
        return same_shape(value, random, false);
    }
    let keep = if value.trim_start().starts_with('6') { 4 } else { 2 };
    let mut digits: Vec<u8> = Vec::with_capacity(total);
    for (index, digit) in value.chars().filter(char::is_ascii_digit).enumerate() {
        digits.push(if index < keep {
            digit as u8 - b'0'
        } else {
            random.below(10) as u8
        });
    }
    let last = digits.len() - 1;
    digits[last] = 0;
    // Luhn over the payload with a zero check digit, then the digit that completes it.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    digits[last] = ((10 - sum % 10) % 10) as u8;
    let mut index = 0;
    value
        .chars()
        .map(|character| {
            if character.is_ascii_digit() {
                let digit = char::from(b'0' + digits[index]);
                index += 1;
                digit
            } else {
                character
            }
        })
        .collect()
}

pub(super) fn fill_digits(value: &str, digits: &str) -> String {
    let mut supply = digits.chars();
    value
        .chars()
        .map(|character| {
            if character.is_ascii_digit() {
                supply.next().unwrap_or(character)
            } else {
                character
            }
        })
        .collect()
}

pub(super) fn us_ssn(value: &str, random: &mut Random) -> String {
    let mut area = 1 + random.below(665);
    if area == 666 {
        area = 667;
    }
    let digits = format!("{area:03}{:02}{:04}", 1 + random.below(99), 1 + random.below(9999));
    fill_digits(value, &digits)
}

pub(super) fn spanish_nss(value: &str, random: &mut Random) -> String {
    let province = 1 + random.below(52);
    let sequence = random.below(10_000_000);
    let control = (province * 10_000_000 + sequence) % 97;
    let count = value.chars().filter(char::is_ascii_digit).count();
    let digits = if count == 11 {
        format!("{province:02}{sequence:07}{control:02}")
    } else {
        format!("{province:02}{sequence:08}{control:02}")
    };
    fill_digits(value, &digits)
}

pub(super) fn uk_nhs(value: &str, random: &mut Random) -> String {
    loop {
        let body: Vec<u64> = (0..9).map(|_| random.below(10)).collect();
        let sum: u64 = body
            .iter()
            .enumerate()
            .map(|(index, digit)| digit * (10 - index as u64))
            .sum();
        let check = (11 - sum % 11) % 11;
        if check == 10 {
            continue;
        }
        let digits: String = body.iter().map(u64::to_string).collect::<String>() + &check.to_string();
        return fill_digits(value, &digits);
    }
}

pub(super) fn age(value: &str, random: &mut Random) -> String {
    let Some(start) = value.find(|character: char| character.is_ascii_digit()) else {
        return value.to_owned();
    };
    let end = value[start..]
        .find(|character: char| !character.is_ascii_digit())
        .map_or(value.len(), |end| start + end);
    let age: i64 = value[start..end].parse().unwrap_or(0);
    let delta = 1 + random.below(5) as i64;
    let fake = if age > delta && random.below(2) == 0 {
        age - delta
    } else {
        age + delta
    };
    format!("{}{fake}{}", &value[..start], &value[end..])
}
