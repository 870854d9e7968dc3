//! The canonical entity types, with their descriptions, languages, default thresholds and
//! the aliases users know from Presidio, Google DLP and other tools.
//!
//! Names are SCREAMING_SNAKE_CASE strings rather than an enum, because pattern packs may
//! add types of their own; the built-in ones are listed here.

use serde::Serialize;

use crate::entity_type::EntityType;

/// A group of related entity types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Person,
    Contact,
    Location,
    Organization,
    Financial,
    Government,
    Medical,
    Technical,
    Temporal,
    Secret,
    Custom,
}

/// One entity type of the taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub category: Category,
    /// ISO 639-1 codes, or `any` for language-independent types.
    pub languages: &'static [&'static str],
    /// Detections scoring below this are dropped unless a request says otherwise.
    pub default_threshold: f32,
    /// Other names accepted wherever an entity type is named.
    pub aliases: &'static [&'static str],
}

const ANY: &[&str] = &["any"];
const EN: &[&str] = &["en"];
const ES: &[&str] = &["es"];
const EN_ES: &[&str] = &["en", "es"];

macro_rules! entity {
    ($name:literal, $category:ident, $languages:expr, $threshold:literal, [$($alias:literal),*], $description:literal) => {
        EntityInfo {
            name: $name,
            description: $description,
            category: Category::$category,
            languages: $languages,
            default_threshold: $threshold,
            aliases: &[$($alias),*],
        }
    };
}

/// Every built-in entity type.
pub static ENTITIES: &[EntityInfo] = &[
    entity!(
        "PERSON",
        Person,
        EN_ES,
        0.5,
        [
            "FULL_NAME",
            "NAME",
            "PER",
            "PERSON_NAME",
            "NOMBRE",
            "GIVEN_NAME_SURNAME"
        ],
        "A person's name."
    ),
    entity!(
        "EMAIL_ADDRESS",
        Contact,
        ANY,
        0.5,
        ["EMAIL", "E_MAIL", "CORREO", "CORREO_ELECTRONICO"],
        "An email address."
    ),
    entity!(
        "PHONE_NUMBER",
        Contact,
        ANY,
        0.5,
        ["PHONE", "TELEPHONE", "TELEFONO", "MOBILE", "FAX"],
        "A telephone or fax number."
    ),
    entity!("AGE", Person, EN_ES, 0.5, ["EDAD"], "A person's age."),
    entity!(
        "LOCATION",
        Location,
        EN_ES,
        0.5,
        ["LOC", "GPE", "CITY", "COUNTRY", "STATE", "PROVINCE", "LUGAR"],
        "A place: a city, region, province or country."
    ),
    entity!(
        "ADDRESS",
        Location,
        EN_ES,
        0.5,
        ["STREET_ADDRESS", "DIRECCION", "POSTAL_ADDRESS"],
        "A street address."
    ),
    entity!(
        "POSTAL_CODE",
        Location,
        ANY,
        0.5,
        ["ZIP_CODE", "ZIP", "CODIGO_POSTAL", "POSTCODE"],
        "A postal or ZIP code."
    ),
    entity!(
        "ORGANIZATION",
        Organization,
        EN_ES,
        0.5,
        ["ORG", "COMPANY", "ORGANISATION", "INSTITUTION"],
        "A company, institution or other organization."
    ),
    entity!(
        "CREDIT_CARD",
        Financial,
        ANY,
        0.5,
        ["CREDIT_CARD_NUMBER", "CARD_NUMBER", "TARJETA", "PAYMENT_CARD"],
        "A payment card number (Luhn-valid)."
    ),
    entity!(
        "IBAN_CODE",
        Financial,
        ANY,
        0.5,
        ["IBAN", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"],
        "An International Bank Account Number (mod 97-valid)."
    ),
    entity!(
        "BANK_ACCOUNT",
        Financial,
        ANY,
        0.6,
        ["ACCOUNT_NUMBER", "CUENTA_BANCARIA", "CCC"],
        "A bank account number other than an IBAN."
    ),
    entity!(
        "US_BANK_NUMBER",
        Financial,
        EN,
        0.6,
        ["ABA_ROUTING_NUMBER", "ROUTING_NUMBER", "US_BANK_ACCOUNT"],
        "A US bank routing (ABA) or account number."
    ),
    entity!(
        "CRYPTO",
        Financial,
        ANY,
        0.5,
        ["CRYPTO_ADDRESS", "BITCOIN_ADDRESS", "ETHEREUM_ADDRESS", "WALLET"],
        "A Bitcoin or Ethereum address."
    ),
    entity!(
        "US_SSN",
        Government,
        EN,
        0.5,
        ["SSN", "SOCIAL_SECURITY_NUMBER", "US_SOCIAL_SECURITY_NUMBER"],
        "A US Social Security number."
    ),
    entity!(
        "US_ITIN",
        Government,
        EN,
        0.5,
        ["ITIN", "US_INDIVIDUAL_TAXPAYER_IDENTIFICATION_NUMBER"],
        "A US Individual Taxpayer Identification Number."
    ),
    entity!(
        "US_PASSPORT",
        Government,
        EN,
        0.6,
        ["US_PASSPORT_NUMBER"],
        "A US passport number."
    ),
    entity!(
        "US_DRIVER_LICENSE",
        Government,
        EN,
        0.6,
        ["DRIVERS_LICENSE", "US_DRIVERS_LICENSE", "DRIVER_LICENSE"],
        "A US driver's license number."
    ),
    entity!(
        "ES_NIF",
        Government,
        ES,
        0.5,
        ["DNI", "NIF", "SPAIN_NIF", "SPAIN_DNI", "ES_DNI"],
        "A Spanish DNI/NIF of a person (control letter checked)."
    ),
    entity!(
        "ES_NIE",
        Government,
        ES,
        0.5,
        ["NIE", "SPAIN_NIE"],
        "A Spanish foreigner identity number (control letter checked)."
    ),
    entity!(
        "ES_CIF",
        Government,
        ES,
        0.5,
        ["CIF", "SPAIN_CIF", "NIF_EMPRESA"],
        "A Spanish tax id of a legal entity (control character checked)."
    ),
    entity!(
        "ES_NSS",
        Government,
        ES,
        0.5,
        ["NSS", "NUSS", "SPAIN_SOCIAL_SECURITY_NUMBER", "NUMERO_SEGURIDAD_SOCIAL"],
        "A Spanish social security number (control digits checked)."
    ),
    entity!(
        "PASSPORT",
        Government,
        ANY,
        0.6,
        ["PASSPORT_NUMBER", "PASAPORTE"],
        "A passport number."
    ),
    entity!(
        "NATIONAL_ID",
        Government,
        ANY,
        0.6,
        ["GOVERNMENT_ID", "TAX_ID", "NATIONAL_ID_NUMBER", "ID_NUMBER"],
        "A government-issued personal or tax identifier without a more specific type here."
    ),
    entity!(
        "UK_NHS",
        Medical,
        EN,
        0.5,
        ["NHS", "NHS_NUMBER"],
        "A UK NHS number (modulus 11 checked)."
    ),
    entity!(
        "UK_NINO",
        Government,
        EN,
        0.5,
        ["NINO", "NATIONAL_INSURANCE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER"],
        "A UK National Insurance number."
    ),
    entity!(
        "MEDICAL_RECORD_NUMBER",
        Medical,
        EN_ES,
        0.6,
        [
            "MRN",
            "MEDICAL_RECORD",
            "NUMERO_HISTORIA_CLINICA",
            "NHC",
            "ID_ASEGURAMIENTO"
        ],
        "A medical record or patient number."
    ),
    entity!(
        "IP_ADDRESS",
        Technical,
        ANY,
        0.5,
        ["IP", "IPV4", "IPV6", "IP_ADDR"],
        "An IPv4 or IPv6 address."
    ),
    entity!(
        "MAC_ADDRESS",
        Technical,
        ANY,
        0.5,
        ["MAC"],
        "A network hardware (MAC) address."
    ),
    entity!(
        "URL",
        Technical,
        ANY,
        0.5,
        ["URI", "WEB_ADDRESS", "LINK"],
        "A web address."
    ),
    entity!(
        "DOMAIN_NAME",
        Technical,
        ANY,
        0.6,
        ["DOMAIN", "HOSTNAME"],
        "An internet domain name."
    ),
    entity!(
        "IMEI",
        Technical,
        ANY,
        0.5,
        ["IMEI_NUMBER"],
        "A mobile device IMEI (Luhn-valid)."
    ),
    entity!(
        "GPS_COORDINATES",
        Location,
        ANY,
        0.5,
        ["COORDINATES", "GEO_COORDINATES", "LAT_LONG", "LATLONG"],
        "A latitude and longitude pair."
    ),
    entity!(
        "LICENSE_PLATE",
        Technical,
        EN_ES,
        0.6,
        ["VEHICLE_REGISTRATION", "MATRICULA", "PLATE"],
        "A vehicle registration plate (Spanish and other EU formats)."
    ),
    entity!(
        "DATE_TIME",
        Temporal,
        EN_ES,
        0.5,
        ["DATE", "TIME", "DATETIME", "FECHA", "FECHAS"],
        "A calendar date or a date with a time."
    ),
    entity!(
        "DATE_OF_BIRTH",
        Temporal,
        EN_ES,
        0.65,
        ["DOB", "BIRTH_DATE", "BIRTHDATE", "FECHA_NACIMIENTO"],
        "A date stated as someone's birth date."
    ),
    entity!(
        "API_KEY",
        Secret,
        ANY,
        0.5,
        ["TOKEN", "ACCESS_TOKEN", "SECRET_TOKEN"],
        "An API key or access token of a known provider."
    ),
    entity!(
        "AWS_ACCESS_KEY",
        Secret,
        ANY,
        0.5,
        ["AWS_ACCESS_KEY_ID", "AWS_KEY"],
        "An AWS access key id."
    ),
    entity!(
        "AWS_SECRET_KEY",
        Secret,
        ANY,
        0.5,
        ["AWS_SECRET_ACCESS_KEY"],
        "An AWS secret access key."
    ),
    entity!(
        "PRIVATE_KEY",
        Secret,
        ANY,
        0.5,
        ["PEM_PRIVATE_KEY", "SSH_PRIVATE_KEY", "RSA_PRIVATE_KEY"],
        "A PEM or OpenSSH private key block."
    ),
    entity!(
        "JWT",
        Secret,
        ANY,
        0.5,
        ["JSON_WEB_TOKEN", "BEARER_TOKEN"],
        "A JSON Web Token."
    ),
    entity!(
        "PASSWORD",
        Secret,
        ANY,
        0.5,
        ["PASSWD", "PWD", "CONTRASENA", "CLAVE"],
        "A password assigned in code, configuration or logs."
    ),
    entity!(
        "CONNECTION_STRING",
        Secret,
        ANY,
        0.5,
        ["DATABASE_URL", "DSN", "CREDENTIALS_IN_URL"],
        "A URL or connection string with embedded credentials."
    ),
    entity!(
        "HIGH_ENTROPY_SECRET",
        Secret,
        ANY,
        0.6,
        ["HIGH_ENTROPY_STRING", "GENERIC_SECRET", "SECRET"],
        "A long random-looking base64 or hex string, likely a secret."
    ),
    entity!(
        "CUSTOM",
        Custom,
        ANY,
        0.5,
        ["DENY_LIST", "CUSTOM_ENTITY"],
        "A value from a deny list or a custom rule without a type of its own."
    ),
];

/// Looks up built-in entity types by canonical name or alias, without regard to case.
#[derive(Debug, Default, Clone, Copy)]
pub struct Taxonomy;

impl Taxonomy {
    /// Every built-in entity type.
    pub fn entities(self) -> &'static [EntityInfo] {
        ENTITIES
    }

    /// The entity a name or alias refers to (`dni` -> `ES_NIF`).
    pub fn resolve(self, name: &str) -> Option<&'static EntityInfo> {
        let wanted = canonical_form(name);
        ENTITIES
            .iter()
            .find(|entity| entity.name == wanted || entity.aliases.iter().any(|alias| *alias == wanted))
    }

    /// The canonical name of a name or alias; unknown names are kept (upper-cased), since
    /// packs may define their own types.
    pub fn canonical_name(self, name: &str) -> EntityType {
        EntityType::new(
            self.resolve(name)
                .map(|entity| entity.name.to_owned())
                .unwrap_or_else(|| canonical_form(name)),
        )
    }

    /// The default threshold of a type; custom types use 0.5.
    pub fn default_threshold(self, name: &str) -> f32 {
        self.resolve(name).map_or(0.5, |entity| entity.default_threshold)
    }
}

/// `e-mail address` -> `E_MAIL_ADDRESS`.
fn canonical_form(name: &str) -> String {
    name.trim()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for entity in ENTITIES {
            assert!(seen.insert(entity.name), "{} twice", entity.name);
            for alias in entity.aliases {
                assert!(seen.insert(alias), "{alias} twice");
                assert_eq!(canonical_form(alias), *alias, "alias {alias} is not canonical");
            }
            assert!((0.0..=1.0).contains(&entity.default_threshold));
            assert!(!entity.description.is_empty());
        }
    }

    #[test]
    fn familiar_names_resolve() {
        let taxonomy = Taxonomy;
        for (alias, canonical) in [
            ("EMAIL", "EMAIL_ADDRESS"),
            ("full_name", "PERSON"),
            ("dni", "ES_NIF"),
            ("DOB", "DATE_OF_BIRTH"),
            ("phone", "PHONE_NUMBER"),
            ("IBAN", "IBAN_CODE"),
            ("e-mail", "EMAIL_ADDRESS"),
        ] {
            assert_eq!(
                taxonomy.resolve(alias).map(|entity| entity.name),
                Some(canonical),
                "{alias}"
            );
        }
        assert_eq!(taxonomy.canonical_name("employee id"), "EMPLOYEE_ID");
        assert!(taxonomy.resolve("nope").is_none());
    }

    #[test]
    fn the_required_types_exist() {
        for name in [
            "PERSON",
            "EMAIL_ADDRESS",
            "PHONE_NUMBER",
            "AGE",
            "LOCATION",
            "ADDRESS",
            "POSTAL_CODE",
            "ORGANIZATION",
            "CREDIT_CARD",
            "IBAN_CODE",
            "BANK_ACCOUNT",
            "US_BANK_NUMBER",
            "CRYPTO",
            "US_SSN",
            "US_ITIN",
            "US_PASSPORT",
            "US_DRIVER_LICENSE",
            "ES_NIF",
            "ES_NIE",
            "ES_CIF",
            "ES_NSS",
            "PASSPORT",
            "UK_NHS",
            "UK_NINO",
            "MEDICAL_RECORD_NUMBER",
            "IP_ADDRESS",
            "MAC_ADDRESS",
            "URL",
            "DOMAIN_NAME",
            "IMEI",
            "GPS_COORDINATES",
            "LICENSE_PLATE",
            "DATE_TIME",
            "DATE_OF_BIRTH",
            "API_KEY",
            "AWS_ACCESS_KEY",
            "AWS_SECRET_KEY",
            "PRIVATE_KEY",
            "JWT",
            "PASSWORD",
            "CONNECTION_STRING",
            "HIGH_ENTROPY_SECRET",
        ] {
            assert!(ENTITIES.iter().any(|entity| entity.name == name), "{name} is missing");
        }
    }
}
