//! Key names as hints: a string under `email`, `telefono`, `dni` or `nombre` is first
//! checked as that type as a whole.

use obscura_detection::context::fold_word;
use obscura_detection::entity_type::names;
use obscura_detection::validate::Validator;

/// The entity type a key name hints at.
pub fn key_hint(key: &str) -> Option<&'static str> {
    // Split camelCase and snake_case into folded words.
    let mut spaced = String::with_capacity(key.len() + 4);
    let mut previous_lower = false;
    for character in key.chars() {
        if character.is_uppercase() && previous_lower {
            spaced.push(' ');
        }
        previous_lower = character.is_lowercase();
        spaced.push(if character.is_alphanumeric() { character } else { ' ' });
    }
    let words: Vec<String> = spaced.split_whitespace().map(fold_word).collect();
    let has = |names: &[&str]| words.iter().any(|word| names.contains(&word.as_str()));
    Some(
        if has(&["email", "mail", "correo", "e"]) && has(&["email", "mail", "correo"]) {
            names::EMAIL_ADDRESS
        } else if has(&[
            "phone",
            "telephone",
            "tel",
            "telefono",
            "mobile",
            "movil",
            "cell",
            "fax",
        ]) {
            names::PHONE_NUMBER
        } else if has(&["dni", "nif"]) {
            names::ES_NIF
        } else if has(&["nie"]) {
            names::ES_NIE
        } else if has(&["iban"]) {
            names::IBAN_CODE
        } else if has(&["ssn"]) {
            names::US_SSN
        } else if has(&["nss"]) {
            names::ES_NSS
        } else if has(&["card", "tarjeta"]) {
            names::CREDIT_CARD
        } else if has(&["ip"]) {
            names::IP_ADDRESS
        } else if has(&["dob", "birth", "birthdate", "birthday", "nacimiento"]) {
            names::DATE_OF_BIRTH
        } else if has(&["zip", "postcode", "postal", "cp"]) {
            names::POSTAL_CODE
        } else if has(&["address", "direccion", "domicilio", "street", "calle"]) {
            names::ADDRESS
        } else if has(&["city", "ciudad", "localidad", "municipio", "town"]) {
            names::LOCATION
        } else if has(&["password", "passwd", "pwd", "contrasena", "clave"]) {
            names::PASSWORD
        } else if has(&[
            "name",
            "nombre",
            "surname",
            "apellido",
            "apellidos",
            "fullname",
            "patient",
            "paciente",
        ]) && !has(&[
            "file", "filename", "user", "username", "host", "hostname", "company", "product",
        ]) {
            names::PERSON
        } else {
            return None;
        },
    )
}

/// Whether `value` as a whole is an entity of the hinted type.
pub fn fits_hint(entity_type: &str, value: &str, language: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        return false;
    }
    match entity_type {
        names::EMAIL_ADDRESS => value.contains('@') && !value.contains(char::is_whitespace),
        names::PHONE_NUMBER => phonenumber::parse(Some(obscura_detection::phone::home_region(language)), value)
            .is_ok_and(|number| phonenumber::is_valid(&number)),
        names::DATE_OF_BIRTH => Validator::Date.check(value),
        names::POSTAL_CODE => value.chars().any(|character| character.is_ascii_digit()) && value.len() <= 10,
        // Checked identifiers pass their check; names, addresses, places and passwords need
        // only be non-empty.
        _ => Validator::for_entity(entity_type).is_none_or(|validator| validator.check(value)),
    }
}
