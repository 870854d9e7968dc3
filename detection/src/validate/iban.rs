//! IBANs: the country's registered length and the ISO 7064 mod 97-10 check.

use super::checksum::mod97_alphanumeric;

/// Countries of the SWIFT IBAN registry and their IBAN lengths.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// The registered IBAN length of a country, if it uses IBANs.
pub fn country_length(country: &str) -> Option<usize> {
    LENGTHS
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, length)| *length)
}

/// True for an IBAN with its country's length and a correct check (spaces allowed).
pub fn iban_valid(text: &str) -> bool {
    let compact: String = text
        .chars()
        .filter(|character| !matches!(character, ' ' | '-' | '\u{00a0}'))
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.len() < 5 || !compact.is_ascii() {
        return false;
    }
    let (country, rest) = compact.split_at(2);
    if country_length(country) != Some(compact.len()) {
        return false;
    }
    if !rest[..2].bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    mod97_alphanumeric(&rearranged) == Some(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_examples_are_valid() {
        for valid in [
            "GB82 WEST 1234 5698 7654 32",
            "ES91 2100 0418 4502 0005 1332",
            "DE89 3704 0044 0532 0130 00",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91ABNA0417164300",
            "be68 5390 0754 7034",
        ] {
            assert!(iban_valid(valid), "{valid}");
        }
    }

    #[test]
    fn wrong_check_digits_lengths_and_countries_are_invalid() {
        for invalid in [
            "GB83 WEST 1234 5698 7654 32",
            "ES91 2100 0418 4502 0005 133",
            "XX82 WEST 1234 5698 7654 32",
            "GB8A WEST 1234 5698 7654 32",
            "ES91",
        ] {
            assert!(!iban_valid(invalid), "{invalid}");
        }
    }
}
