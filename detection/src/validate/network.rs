//! Network identifiers, parsed for real rather than matched by shape.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A dotted-quad IPv4 address with no leading zeros (which some parsers read as octal).
pub fn ipv4_valid(text: &str) -> bool {
    text.parse::<Ipv4Addr>().is_ok()
}

/// An IPv6 address in any RFC 4291 textual form, with an optional zone (`%eth0`).
pub fn ipv6_valid(text: &str) -> bool {
    let address = text.split_once('%').map_or(text, |(address, _zone)| address);
    address.parse::<Ipv6Addr>().is_ok()
}

/// Either family.
pub fn ip_valid(text: &str) -> bool {
    ipv4_valid(text) || ipv6_valid(text)
}

/// A 48-bit MAC address as six hex pairs separated by `:` or `-`, or three quads with `.`.
pub fn mac_valid(text: &str) -> bool {
    let hex_group =
        |group: &str, length: usize| group.len() == length && group.bytes().all(|byte| byte.is_ascii_hexdigit());
    for separator in [':', '-'] {
        let groups: Vec<&str> = text.split(separator).collect();
        if groups.len() == 6 {
            return groups.iter().all(|group| hex_group(group, 2));
        }
    }
    let groups: Vec<&str> = text.split('.').collect();
    groups.len() == 3 && groups.iter().all(|group| hex_group(group, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_for_real() {
        assert!(ipv4_valid("192.168.0.1"));
        assert!(ipv4_valid("8.8.8.8"));
        for invalid in ["256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4.5"] {
            assert!(!ipv4_valid(invalid), "{invalid}");
        }
        for valid in [
            "2001:db8::1",
            "::1",
            "fe80::1%eth0",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "::ffff:192.0.2.1",
        ] {
            assert!(ipv6_valid(valid), "{valid}");
        }
        for invalid in ["2001:db8:::1", "12345::1", "1:2:3:4:5:6:7:8:9", "::g"] {
            assert!(!ipv6_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn mac_forms() {
        assert!(mac_valid("00:1A:2b:3C:4d:5E"));
        assert!(mac_valid("00-1A-2B-3C-4D-5E"));
        assert!(mac_valid("001a.2b3c.4d5e"));
        assert!(!mac_valid("00:1A:2B:3C:4D"));
        assert!(!mac_valid("00:1A:2B:3C:4D:5G"));
        assert!(!mac_valid("00:1A-2B:3C:4D:5E"));
    }
}
