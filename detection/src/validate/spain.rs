//! Spanish identifiers: DNI and NIE control letters, the CIF control character, and the
//! social security number (NSS) check.

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Upper-case letters and digits of `text`, skipping spaces, dashes and dots.
fn compact(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '0'..='9' | 'A'..='Z' => out.push(character),
            'a'..='z' => out.push(character.to_ascii_uppercase()),
            ' ' | '-' | '.' | '/' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The control letter of a DNI's number (of a NIE's, with its first letter as a digit).
pub fn dni_letter(number: u64) -> char {
    DNI_LETTERS[(number % 23) as usize] as char
}

/// A DNI: eight digits and the letter of their value modulo 23.
pub fn dni_valid(text: &str) -> bool {
    let Some(value) = compact(text) else { return false };
    if value.len() != 9 {
        return false;
    }
    let (number, letter) = value.split_at(8);
    match number.parse::<u32>() {
        Ok(number) if number.to_string().len() <= 8 => letter.starts_with(dni_letter(u64::from(number))),
        _ => false,
    }
}

/// An NIE: X, Y or Z (standing for 0, 1, 2), seven digits and the DNI letter of the whole.
pub fn nie_valid(text: &str) -> bool {
    let Some(value) = compact(text) else { return false };
    if value.len() != 9 {
        return false;
    }
    let prefix = match value.as_bytes()[0] {
        b'X' => '0',
        b'Y' => '1',
        b'Z' => '2',
        _ => return false,
    };
    let digits = &value[1..8];
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let Ok(number) = format!("{prefix}{digits}").parse::<u32>() else {
        return false;
    };
    value[8..].starts_with(dni_letter(u64::from(number)))
}

/// A CIF (NIF of a legal entity): an organisation letter, seven digits and a control
/// character, a digit or a letter depending on the organisation type.
pub fn cif_valid(text: &str) -> bool {
    let Some(value) = compact(text) else { return false };
    let bytes = value.as_bytes();
    if bytes.len() != 9 || !b"ABCDEFGHJKLMNPQRSUVW".contains(&bytes[0]) {
        return false;
    }
    if !bytes[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0;
    for (index, &byte) in bytes[1..8].iter().enumerate() {
        let digit = u32::from(byte - b'0');
        if index % 2 == 0 {
            let doubled = digit * 2;
            sum += doubled / 10 + doubled % 10;
        } else {
            sum += digit;
        }
    }
    let control = (10 - sum % 10) % 10;
    let control_digit = char::from(b'0' + control as u8);
    let control_letter = char::from(b"JABCDEFGHI"[control as usize]);
    let given = char::from(bytes[8]);
    match bytes[0] {
        // Organisations that must use a letter.
        b'K' | b'P' | b'Q' | b'S' | b'N' | b'W' => given == control_letter,
        // Organisations that must use a digit.
        b'A' | b'B' | b'E' | b'H' => given == control_digit,
        _ => given == control_digit || given == control_letter,
    }
}

/// A social security number (NSS): a two-digit province, a sequence of 7 or 8 digits, and
/// two control digits equal to the first part modulo 97.
pub fn nss_valid(text: &str) -> bool {
    let Some(value) = compact(text) else { return false };
    if !(value.len() == 11 || value.len() == 12) || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let (body, control) = value.split_at(value.len() - 2);
    let (Ok(province), Ok(control)) = (body[..2].parse::<u64>(), control.parse::<u64>()) else {
        return false;
    };
    if province == 0 || (province > 53 && province != 66) {
        return false;
    }
    let sequence: u64 = body[2..].parse().unwrap_or(0);
    // When the sequence is below 10,000,000 the number is province * 10^7 + sequence;
    // otherwise the digits are read as written.
    let number = if sequence < 10_000_000 {
        province * 10_000_000 + sequence
    } else {
        body.parse().unwrap_or(u64::MAX)
    };
    number % 97 == control
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dni_letters() {
        // 12345678Z is the Ministry of the Interior's worked example.
        assert!(dni_valid("12345678Z"));
        assert!(dni_valid("12345678-z"));
        assert!(dni_valid("00000000T"));
        assert!(!dni_valid("12345678A"));
        assert!(!dni_valid("1234567Z"));
        assert!(!dni_valid("12345678"));
    }

    #[test]
    fn nie_letters() {
        // X1234567L: X stands for 0, and 01234567 mod 23 = 19, the letter L.
        assert!(nie_valid("X1234567L"));
        assert!(nie_valid("Y-1234567-X"));
        assert!(nie_valid("Z1234567R"));
        assert!(!nie_valid("X1234567A"));
        assert!(!nie_valid("A1234567L"));
    }

    #[test]
    fn cif_control_characters() {
        assert!(cif_valid("A58818501"));
        assert!(cif_valid("B65410011"));
        assert!(cif_valid("Q2826000H"));
        assert!(!cif_valid("A58818502"));
        assert!(!cif_valid("Q2826000A"));
        assert!(!cif_valid("I58818501"), "I is not an organisation letter");
    }

    #[test]
    fn nss_control_digits() {
        // Province 28, sequence 1234567: 281234567 mod 97 = 42.
        assert!(nss_valid("28 1234567 42"));
        // An eight-digit sequence is read as written: 2812345678 mod 97 = 40.
        assert!(nss_valid("28/12345678/40"));
        assert!(!nss_valid("28 1234567 43"));
        assert!(!nss_valid("99 1234567 42"), "no province 99");
        assert!(!nss_valid("2812345"));
    }
}
