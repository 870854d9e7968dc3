//! Check-digit algorithms shared by several identifiers: Luhn, ISO 7064 mod 97-10 (IBAN),
//! the ABA routing checksum and the NHS modulus 11.

/// The decimal digits of `text`, ignoring spaces, dashes and dots; `None` if anything else
/// is in it.
pub fn digits(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '0'..='9' => out.push(character as u8 - b'0'),
            ' ' | '-' | '.' | '\u{00a0}' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The Luhn (mod 10) check over all digits, the last being the check digit.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.len() < 2 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            let digit = u32::from(digit);
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 7064 mod 97-10 over alphanumeric text, letters counting as 10..=35.
/// Returns the remainder; IBANs (rearranged) and others are valid when it is 1.
pub fn mod97_alphanumeric(text: &str) -> Option<u32> {
    let mut remainder: u32 = 0;
    for character in text.chars() {
        let value = match character {
            '0'..='9' => character as u32 - '0' as u32,
            'A'..='Z' => character as u32 - 'A' as u32 + 10,
            'a'..='z' => character as u32 - 'a' as u32 + 10,
            _ => return None,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    Some(remainder)
}

/// The ABA routing number checksum: 3·d1 + 7·d2 + d3 + … ≡ 0 (mod 10), over 9 digits.
pub fn aba_routing_valid(digits: &[u8]) -> bool {
    if digits.len() != 9 || digits.iter().all(|&digit| digit == 0) {
        return false;
    }
    const WEIGHTS: [u32; 9] = [3, 7, 1, 3, 7, 1, 3, 7, 1];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(&digit, weight)| u32::from(digit) * weight)
        .sum();
    sum.is_multiple_of(10)
}

/// The NHS number check: weights 10..=2 over the first 9 digits, modulus 11.
pub fn nhs_valid(digits: &[u8]) -> bool {
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(&digit, weight)| u32::from(digit) * weight)
        .sum();
    let check = 11 - (sum % 11);
    match check {
        11 => digits[9] == 0,
        10 => false,
        check => u32::from(digits[9]) == check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Vec<u8> {
        digits(text).unwrap()
    }

    #[test]
    fn luhn_accepts_published_test_numbers_and_rejects_a_changed_digit() {
        // Test card numbers published by the card networks.
        for valid in [
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "378282246310005",
            "6011111111111117",
        ] {
            assert!(luhn_valid(&d(valid)), "{valid}");
        }
        // IMEI example from the GSMA numbering guide: 49-015420-323751-8.
        assert!(luhn_valid(&d("490154203237518")));
        for invalid in ["4111 1111 1111 1112", "490154203237517", "1"] {
            assert!(!luhn_valid(&d(invalid)), "{invalid}");
        }
    }

    #[test]
    fn mod97_of_a_rearranged_iban_is_one() {
        // GB82 WEST 1234 5698 7654 32, the ISO 13616 example, rearranged.
        assert_eq!(mod97_alphanumeric("WEST12345698765432GB82"), Some(1));
        assert_eq!(mod97_alphanumeric("WEST12345698765432GB83"), Some(2));
        assert_eq!(mod97_alphanumeric("WEST-1"), None);
    }

    #[test]
    fn aba_routing_checksum() {
        // 011000015 is the Federal Reserve Bank of Boston; 021000021 is JPMorgan Chase.
        assert!(aba_routing_valid(&d("011000015")));
        assert!(aba_routing_valid(&d("021000021")));
        assert!(!aba_routing_valid(&d("021000022")));
        assert!(!aba_routing_valid(&d("000000000")));
        assert!(!aba_routing_valid(&d("02100002")));
    }

    #[test]
    fn nhs_modulus_eleven() {
        // 943 476 5919 is the example in the NHS Data Dictionary.
        assert!(nhs_valid(&d("943 476 5919")));
        assert!(!nhs_valid(&d("943 476 5918")));
        // 123456789x: the weighted sum is 210, 210 mod 11 = 1, so the check value is 10,
        // which no digit can hold: invalid whatever the last digit.
        for last in 0..=9 {
            assert!(!nhs_valid(&d(&format!("123456789{last}"))));
        }
    }
}
