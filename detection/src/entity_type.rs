//! The name of an entity type: one of the taxonomy's built-in types, with a constant each
//! ([`EntityType::PERSON`]), or a type a pattern pack adds.

use std::borrow::{Borrow, Cow};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The built-in types' names as strings, for `match` arms and tables of names.
pub mod names {
    pub const PERSON: &str = "PERSON";
    pub const EMAIL_ADDRESS: &str = "EMAIL_ADDRESS";
    pub const PHONE_NUMBER: &str = "PHONE_NUMBER";
    pub const AGE: &str = "AGE";
    pub const LOCATION: &str = "LOCATION";
    pub const ADDRESS: &str = "ADDRESS";
    pub const POSTAL_CODE: &str = "POSTAL_CODE";
    pub const ORGANIZATION: &str = "ORGANIZATION";
    pub const CREDIT_CARD: &str = "CREDIT_CARD";
    pub const IBAN_CODE: &str = "IBAN_CODE";
    pub const BANK_ACCOUNT: &str = "BANK_ACCOUNT";
    pub const US_BANK_NUMBER: &str = "US_BANK_NUMBER";
    pub const CRYPTO: &str = "CRYPTO";
    pub const US_SSN: &str = "US_SSN";
    pub const US_ITIN: &str = "US_ITIN";
    pub const US_PASSPORT: &str = "US_PASSPORT";
    pub const US_DRIVER_LICENSE: &str = "US_DRIVER_LICENSE";
    pub const ES_NIF: &str = "ES_NIF";
    pub const ES_NIE: &str = "ES_NIE";
    pub const ES_CIF: &str = "ES_CIF";
    pub const ES_NSS: &str = "ES_NSS";
    pub const PASSPORT: &str = "PASSPORT";
    pub const NATIONAL_ID: &str = "NATIONAL_ID";
    pub const UK_NHS: &str = "UK_NHS";
    pub const UK_NINO: &str = "UK_NINO";
    pub const MEDICAL_RECORD_NUMBER: &str = "MEDICAL_RECORD_NUMBER";
    pub const IP_ADDRESS: &str = "IP_ADDRESS";
    pub const MAC_ADDRESS: &str = "MAC_ADDRESS";
    pub const URL: &str = "URL";
    pub const DOMAIN_NAME: &str = "DOMAIN_NAME";
    pub const IMEI: &str = "IMEI";
    pub const GPS_COORDINATES: &str = "GPS_COORDINATES";
    pub const LICENSE_PLATE: &str = "LICENSE_PLATE";
    pub const DATE_TIME: &str = "DATE_TIME";
    pub const DATE_OF_BIRTH: &str = "DATE_OF_BIRTH";
    pub const API_KEY: &str = "API_KEY";
    pub const AWS_ACCESS_KEY: &str = "AWS_ACCESS_KEY";
    pub const AWS_SECRET_KEY: &str = "AWS_SECRET_KEY";
    pub const PRIVATE_KEY: &str = "PRIVATE_KEY";
    pub const JWT: &str = "JWT";
    pub const PASSWORD: &str = "PASSWORD";
    pub const CONNECTION_STRING: &str = "CONNECTION_STRING";
    pub const HIGH_ENTROPY_SECRET: &str = "HIGH_ENTROPY_SECRET";
    pub const CUSTOM: &str = "CUSTOM";
}

/// An entity type's canonical name (SCREAMING_SNAKE_CASE).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityType(Cow<'static, str>);

impl EntityType {
    pub const PERSON: EntityType = EntityType::builtin(names::PERSON);
    pub const EMAIL_ADDRESS: EntityType = EntityType::builtin(names::EMAIL_ADDRESS);
    pub const PHONE_NUMBER: EntityType = EntityType::builtin(names::PHONE_NUMBER);
    pub const AGE: EntityType = EntityType::builtin(names::AGE);
    pub const LOCATION: EntityType = EntityType::builtin(names::LOCATION);
    pub const ADDRESS: EntityType = EntityType::builtin(names::ADDRESS);
    pub const POSTAL_CODE: EntityType = EntityType::builtin(names::POSTAL_CODE);
    pub const ORGANIZATION: EntityType = EntityType::builtin(names::ORGANIZATION);
    pub const CREDIT_CARD: EntityType = EntityType::builtin(names::CREDIT_CARD);
    pub const IBAN_CODE: EntityType = EntityType::builtin(names::IBAN_CODE);
    pub const BANK_ACCOUNT: EntityType = EntityType::builtin(names::BANK_ACCOUNT);
    pub const US_BANK_NUMBER: EntityType = EntityType::builtin(names::US_BANK_NUMBER);
    pub const CRYPTO: EntityType = EntityType::builtin(names::CRYPTO);
    pub const US_SSN: EntityType = EntityType::builtin(names::US_SSN);
    pub const US_ITIN: EntityType = EntityType::builtin(names::US_ITIN);
    pub const US_PASSPORT: EntityType = EntityType::builtin(names::US_PASSPORT);
    pub const US_DRIVER_LICENSE: EntityType = EntityType::builtin(names::US_DRIVER_LICENSE);
    pub const ES_NIF: EntityType = EntityType::builtin(names::ES_NIF);
    pub const ES_NIE: EntityType = EntityType::builtin(names::ES_NIE);
    pub const ES_CIF: EntityType = EntityType::builtin(names::ES_CIF);
    pub const ES_NSS: EntityType = EntityType::builtin(names::ES_NSS);
    pub const PASSPORT: EntityType = EntityType::builtin(names::PASSPORT);
    pub const NATIONAL_ID: EntityType = EntityType::builtin(names::NATIONAL_ID);
    pub const UK_NHS: EntityType = EntityType::builtin(names::UK_NHS);
    pub const UK_NINO: EntityType = EntityType::builtin(names::UK_NINO);
    pub const MEDICAL_RECORD_NUMBER: EntityType = EntityType::builtin(names::MEDICAL_RECORD_NUMBER);
    pub const IP_ADDRESS: EntityType = EntityType::builtin(names::IP_ADDRESS);
    pub const MAC_ADDRESS: EntityType = EntityType::builtin(names::MAC_ADDRESS);
    pub const URL: EntityType = EntityType::builtin(names::URL);
    pub const DOMAIN_NAME: EntityType = EntityType::builtin(names::DOMAIN_NAME);
    pub const IMEI: EntityType = EntityType::builtin(names::IMEI);
    pub const GPS_COORDINATES: EntityType = EntityType::builtin(names::GPS_COORDINATES);
    pub const LICENSE_PLATE: EntityType = EntityType::builtin(names::LICENSE_PLATE);
    pub const DATE_TIME: EntityType = EntityType::builtin(names::DATE_TIME);
    pub const DATE_OF_BIRTH: EntityType = EntityType::builtin(names::DATE_OF_BIRTH);
    pub const API_KEY: EntityType = EntityType::builtin(names::API_KEY);
    pub const AWS_ACCESS_KEY: EntityType = EntityType::builtin(names::AWS_ACCESS_KEY);
    pub const AWS_SECRET_KEY: EntityType = EntityType::builtin(names::AWS_SECRET_KEY);
    pub const PRIVATE_KEY: EntityType = EntityType::builtin(names::PRIVATE_KEY);
    pub const JWT: EntityType = EntityType::builtin(names::JWT);
    pub const PASSWORD: EntityType = EntityType::builtin(names::PASSWORD);
    pub const CONNECTION_STRING: EntityType = EntityType::builtin(names::CONNECTION_STRING);
    pub const HIGH_ENTROPY_SECRET: EntityType = EntityType::builtin(names::HIGH_ENTROPY_SECRET);
    pub const CUSTOM: EntityType = EntityType::builtin(names::CUSTOM);

    /// Every built-in type, in the taxonomy's order.
    pub const BUILT_IN: &[EntityType] = &[
        EntityType::PERSON,
        EntityType::EMAIL_ADDRESS,
        EntityType::PHONE_NUMBER,
        EntityType::AGE,
        EntityType::LOCATION,
        EntityType::ADDRESS,
        EntityType::POSTAL_CODE,
        EntityType::ORGANIZATION,
        EntityType::CREDIT_CARD,
        EntityType::IBAN_CODE,
        EntityType::BANK_ACCOUNT,
        EntityType::US_BANK_NUMBER,
        EntityType::CRYPTO,
        EntityType::US_SSN,
        EntityType::US_ITIN,
        EntityType::US_PASSPORT,
        EntityType::US_DRIVER_LICENSE,
        EntityType::ES_NIF,
        EntityType::ES_NIE,
        EntityType::ES_CIF,
        EntityType::ES_NSS,
        EntityType::PASSPORT,
        EntityType::NATIONAL_ID,
        EntityType::UK_NHS,
        EntityType::UK_NINO,
        EntityType::MEDICAL_RECORD_NUMBER,
        EntityType::IP_ADDRESS,
        EntityType::MAC_ADDRESS,
        EntityType::URL,
        EntityType::DOMAIN_NAME,
        EntityType::IMEI,
        EntityType::GPS_COORDINATES,
        EntityType::LICENSE_PLATE,
        EntityType::DATE_TIME,
        EntityType::DATE_OF_BIRTH,
        EntityType::API_KEY,
        EntityType::AWS_ACCESS_KEY,
        EntityType::AWS_SECRET_KEY,
        EntityType::PRIVATE_KEY,
        EntityType::JWT,
        EntityType::PASSWORD,
        EntityType::CONNECTION_STRING,
        EntityType::HIGH_ENTROPY_SECRET,
        EntityType::CUSTOM,
    ];

    const fn builtin(name: &'static str) -> EntityType {
        EntityType(Cow::Borrowed(name))
    }

    /// A type by its canonical name, as [`crate::taxonomy::Taxonomy::canonical_name`]
    /// gives it; names of the built-in types come back as their constants.
    pub fn new(name: impl Into<String>) -> EntityType {
        let name = name.into();
        match EntityType::BUILT_IN.iter().find(|built_in| built_in.as_str() == name) {
            Some(built_in) => built_in.clone(),
            None => EntityType(Cow::Owned(name)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for EntityType {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for EntityType {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for EntityType {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<&str> for EntityType {
    fn from(name: &str) -> EntityType {
        EntityType::new(name)
    }
}

impl From<String> for EntityType {
    fn from(name: String) -> EntityType {
        EntityType::new(name)
    }
}

impl From<EntityType> for String {
    fn from(entity_type: EntityType) -> String {
        entity_type.0.into_owned()
    }
}

impl PartialEq<str> for EntityType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EntityType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for EntityType {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<EntityType> for &str {
    fn eq(&self, other: &EntityType) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<EntityType> for String {
    fn eq(&self, other: &EntityType) -> bool {
        self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Taxonomy;

    #[test]
    fn every_built_in_type_has_its_constant_in_the_taxonomy_s_order() {
        let names: Vec<&str> = Taxonomy.entities().iter().map(|entity| entity.name).collect();
        let constants: Vec<&str> = EntityType::BUILT_IN.iter().map(EntityType::as_str).collect();
        assert_eq!(names, constants);
    }

    #[test]
    fn a_type_compares_and_serializes_as_its_name() {
        let person = EntityType::new("PERSON");
        assert_eq!(person, EntityType::PERSON);
        assert!(person == "PERSON");
        assert!("PERSON" == person);
        assert_eq!(serde_json::to_string(&person).unwrap(), "\"PERSON\"");
        let custom: EntityType = serde_json::from_str("\"EMPLOYEE_ID\"").unwrap();
        assert_eq!(custom.as_str(), "EMPLOYEE_ID");
        assert_eq!(custom.to_string(), "EMPLOYEE_ID");
    }
}
