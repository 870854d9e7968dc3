//! United Kingdom identifiers: the National Insurance number's prefix and suffix rules.
//! (The NHS number's modulus 11 is in `checksum`.)

/// A NINO: two prefix letters, six digits and a suffix A-D, with HMRC's excluded prefixes.
pub fn nino_valid(text: &str) -> bool {
    let compact: String = text
        .chars()
        .filter(|character| !character.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = compact.as_bytes();
    if bytes.len() != 9 {
        return false;
    }
    let (first, second) = (bytes[0], bytes[1]);
    let letters_ok = first.is_ascii_uppercase()
        && second.is_ascii_uppercase()
        && !b"DFIQUV".contains(&first)
        && !b"DFIQUVO".contains(&second);
    let prefix = &compact[..2];
    let excluded = matches!(prefix, "BG" | "GB" | "KN" | "NK" | "NT" | "TN" | "ZZ");
    letters_ok && !excluded && bytes[2..8].iter().all(u8::is_ascii_digit) && matches!(bytes[8], b'A'..=b'D')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nino_rules() {
        assert!(nino_valid("AB123456C"));
        assert!(nino_valid("ab 12 34 56 c"));
        for invalid in [
            "QQ123456C",
            "GB123456A",
            "AO123456A",
            "AB123456E",
            "AB12345C",
            "DA123456A",
        ] {
            assert!(!nino_valid(invalid), "{invalid}");
        }
    }
}
