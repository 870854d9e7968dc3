//! United States identifiers: the SSN's area, group and serial rules, and the ITIN ranges.

/// Splits nine digits, written plain or as `AAA-GG-SSSS`, into area, group and serial.
fn parts(text: &str) -> Option<(u32, u32, u32)> {
    let compact: String = text
        .chars()
        .filter(|character| !matches!(character, '-' | ' ' | '.'))
        .collect();
    if compact.len() != 9 || !compact.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let area = compact[..3].parse().ok()?;
    let group = compact[3..5].parse().ok()?;
    let serial = compact[5..].parse().ok()?;
    Some((area, group, serial))
}

/// An SSN as the Social Security Administration issues them: no area 000, 666 or 900-999,
/// no group 00, no serial 0000, and none of the numbers published as examples.
pub fn ssn_valid(text: &str) -> bool {
    let Some((area, group, serial)) = parts(text) else {
        return false;
    };
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    // 078-05-1120 was printed on a wallet insert; 219-09-9999 appeared in an SSA pamphlet.
    !matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999))
}

/// An ITIN: area 900-999 and a group in 50-65, 70-88, 90-92 or 94-99.
pub fn itin_valid(text: &str) -> bool {
    let Some((area, group, _)) = parts(text) else {
        return false;
    };
    (900..=999).contains(&area) && matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_rules() {
        assert!(ssn_valid("123-45-6789"));
        assert!(ssn_valid("536 90 4399"));
        for invalid in [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "123-00-4567",
            "123-45-0000",
            "078-05-1120",
            "12-345-678",
        ] {
            assert!(!ssn_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn itin_ranges() {
        assert!(itin_valid("912-70-1234"));
        assert!(itin_valid("999-99-9999"));
        assert!(!itin_valid("912-93-1234"), "group 93 is not issued");
        assert!(!itin_valid("812-70-1234"), "ITINs start with 9");
    }
}
