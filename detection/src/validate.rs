//! Validators: checks that turn a pattern's candidate into a confirmed identifier.
//!
//! A pattern finds text of the right shape; a validator rejects shapes that are not real
//! identifiers (a wrong check digit, an area number never issued, the 31st of April).
//! Pattern packs name validators by [`Validator::name`].

pub mod checksum;
pub mod crypto;
pub mod dates;
pub mod iban;
pub mod network;
pub mod spain;
pub mod uk;
pub mod us;
pub mod words;

use crate::entity_type::names;
use serde::{Deserialize, Serialize};

/// A named check a recognizer can apply to its candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Luhn mod 10 over 12 to 19 digits (payment cards).
    Luhn,
    /// Luhn over exactly 15 digits.
    Imei,
    /// Country length and ISO 7064 mod 97-10.
    Iban,
    /// Spanish DNI control letter.
    EsDni,
    /// Spanish NIE control letter.
    EsNie,
    /// Spanish NIF of a person: a DNI or an NIE.
    EsNif,
    /// Spanish CIF control character.
    EsCif,
    /// Spanish social security number control digits.
    EsNss,
    /// US SSN area, group and serial rules.
    UsSsn,
    /// US ITIN ranges.
    UsItin,
    /// ABA routing number checksum.
    AbaRouting,
    /// UK NHS number modulus 11.
    UkNhs,
    /// UK National Insurance number rules.
    UkNino,
    Ipv4,
    Ipv6,
    /// IPv4 or IPv6.
    Ip,
    Mac,
    /// A real calendar date in a Spanish or English form.
    Date,
    Bitcoin,
    Ethereum,
    /// A Bitcoin or Ethereum address.
    Crypto,
}

impl Validator {
    /// The check every value of an entity type must pass, for the types that have one.
    pub fn for_entity(entity_type: &str) -> Option<Validator> {
        Some(match entity_type {
            names::CREDIT_CARD => Validator::Luhn,
            names::IMEI => Validator::Imei,
            names::IBAN_CODE => Validator::Iban,
            names::ES_NIF => Validator::EsNif,
            names::ES_NIE => Validator::EsNie,
            names::ES_CIF => Validator::EsCif,
            names::ES_NSS => Validator::EsNss,
            names::US_SSN => Validator::UsSsn,
            names::US_ITIN => Validator::UsItin,
            names::UK_NHS => Validator::UkNhs,
            names::UK_NINO => Validator::UkNino,
            names::IP_ADDRESS => Validator::Ip,
            names::MAC_ADDRESS => Validator::Mac,
            _ => return None,
        })
    }

    /// Every validator, in a stable order.
    pub const ALL: &'static [Validator] = &[
        Validator::Luhn,
        Validator::Imei,
        Validator::Iban,
        Validator::EsDni,
        Validator::EsNie,
        Validator::EsNif,
        Validator::EsCif,
        Validator::EsNss,
        Validator::UsSsn,
        Validator::UsItin,
        Validator::AbaRouting,
        Validator::UkNhs,
        Validator::UkNino,
        Validator::Ipv4,
        Validator::Ipv6,
        Validator::Ip,
        Validator::Mac,
        Validator::Date,
        Validator::Bitcoin,
        Validator::Ethereum,
        Validator::Crypto,
    ];

    /// The name packs use.
    pub fn name(self) -> &'static str {
        match self {
            Validator::Luhn => "luhn",
            Validator::Imei => "imei",
            Validator::Iban => "iban",
            Validator::EsDni => "es_dni",
            Validator::EsNie => "es_nie",
            Validator::EsNif => "es_nif",
            Validator::EsCif => "es_cif",
            Validator::EsNss => "es_nss",
            Validator::UsSsn => "us_ssn",
            Validator::UsItin => "us_itin",
            Validator::AbaRouting => "aba_routing",
            Validator::UkNhs => "uk_nhs",
            Validator::UkNino => "uk_nino",
            Validator::Ipv4 => "ipv4",
            Validator::Ipv6 => "ipv6",
            Validator::Ip => "ip",
            Validator::Mac => "mac",
            Validator::Date => "date",
            Validator::Bitcoin => "bitcoin",
            Validator::Ethereum => "ethereum",
            Validator::Crypto => "crypto",
        }
    }

    /// The validator of a name, if there is one.
    pub fn parse(name: &str) -> Option<Validator> {
        Validator::ALL
            .iter()
            .copied()
            .find(|validator| validator.name() == name)
    }

    /// True when `candidate` passes the check.
    pub fn check(self, candidate: &str) -> bool {
        match self {
            Validator::Luhn => checksum::digits(candidate)
                .is_some_and(|digits| (12..=19).contains(&digits.len()) && checksum::luhn_valid(&digits)),
            Validator::Imei => {
                checksum::digits(candidate).is_some_and(|digits| digits.len() == 15 && checksum::luhn_valid(&digits))
            }
            Validator::Iban => iban::iban_valid(candidate),
            Validator::EsDni => spain::dni_valid(candidate),
            Validator::EsNie => spain::nie_valid(candidate),
            Validator::EsNif => spain::dni_valid(candidate) || spain::nie_valid(candidate),
            Validator::EsCif => spain::cif_valid(candidate),
            Validator::EsNss => spain::nss_valid(candidate),
            Validator::UsSsn => us::ssn_valid(candidate),
            Validator::UsItin => us::itin_valid(candidate),
            Validator::AbaRouting => {
                checksum::digits(candidate).is_some_and(|digits| checksum::aba_routing_valid(&digits))
            }
            Validator::UkNhs => checksum::digits(candidate).is_some_and(|digits| checksum::nhs_valid(&digits)),
            Validator::UkNino => uk::nino_valid(candidate),
            Validator::Ipv4 => network::ipv4_valid(candidate),
            Validator::Ipv6 => network::ipv6_valid(candidate),
            Validator::Ip => network::ip_valid(candidate),
            Validator::Mac => network::mac_valid(candidate),
            Validator::Date => dates::is_date(candidate),
            Validator::Bitcoin => crypto::bitcoin_valid(candidate),
            Validator::Ethereum => crypto::ethereum_valid(candidate),
            Validator::Crypto => crypto::crypto_address_valid(candidate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names = std::collections::BTreeSet::new();
        for validator in Validator::ALL {
            assert_eq!(Validator::parse(validator.name()), Some(*validator));
            assert!(names.insert(validator.name()), "{} twice", validator.name());
            let json = serde_json::to_string(validator).unwrap();
            assert_eq!(json, format!("\"{}\"", validator.name()));
        }
        assert_eq!(Validator::parse("nope"), None);
    }

    #[test]
    fn every_validator_accepts_one_example_and_rejects_one() {
        let cases: &[(Validator, &str, &str)] = &[
            (Validator::Luhn, "4111 1111 1111 1111", "4111 1111 1111 1112"),
            (Validator::Imei, "49-015420-323751-8", "49-015420-323751-7"),
            (
                Validator::Iban,
                "ES91 2100 0418 4502 0005 1332",
                "ES92 2100 0418 4502 0005 1332",
            ),
            (Validator::EsDni, "12345678Z", "12345678Y"),
            (Validator::EsNie, "X1234567L", "X1234567M"),
            (Validator::EsNif, "X1234567L", "12345678Y"),
            (Validator::EsCif, "A58818501", "A58818502"),
            (Validator::EsNss, "28 1234567 42", "28 1234567 41"),
            (Validator::UsSsn, "123-45-6789", "666-45-6789"),
            (Validator::UsItin, "912-70-1234", "912-93-1234"),
            (Validator::AbaRouting, "021000021", "021000022"),
            (Validator::UkNhs, "943 476 5919", "943 476 5918"),
            (Validator::UkNino, "AB123456C", "QQ123456C"),
            (Validator::Ipv4, "10.0.0.1", "10.0.0.256"),
            (Validator::Ipv6, "2001:db8::1", "2001:db8:::1"),
            (Validator::Ip, "::1", "1.2.3"),
            (Validator::Mac, "00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D"),
            (Validator::Date, "15 de marzo de 1980", "31/04/1980"),
            (
                Validator::Bitcoin,
                "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
                "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            ),
            (
                Validator::Ethereum,
                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            ),
            (
                Validator::Crypto,
                "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
                "0x5aaeb",
            ),
        ];
        assert_eq!(cases.len(), Validator::ALL.len(), "every validator has a case");
        for (validator, valid, invalid) in cases {
            assert!(validator.check(valid), "{} rejected {valid}", validator.name());
            assert!(!validator.check(invalid), "{} accepted {invalid}", validator.name());
        }
    }
}
