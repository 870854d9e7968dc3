//! API key material: generation, the lookup prefix, and argon2 hashing.
//!
//! A key is 256 random bits, shown to its owner once as `obs_` plus 43 base64url characters.
//! The database keeps only a lookup prefix (the first 16 hex digits of the key's SHA-256,
//! which says nothing useful about a 256-bit secret) and an argon2id hash of the whole key.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The text every generated key starts with, so leaked keys are easy to scan for.
pub const KEY_PREFIX: &str = "obs_";
/// Length of the lookup prefix, in hex digits.
pub const LOOKUP_PREFIX_LEN: usize = 16;

/// Makes a new random key.
pub fn generate_key() -> SecretString {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The non-secret lookup prefix of a key.
pub fn lookup_prefix(key: &SecretString) -> String {
    let digest = Sha256::digest(key.expose_secret().as_bytes());
    hex::encode(digest)[..LOOKUP_PREFIX_LEN].to_owned()
}

/// A memory-hard hash of the key in PHC string form.
pub fn hash_key(key: &SecretString) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(key.expose_secret().as_bytes(), &salt)?
        .to_string())
}

/// True when `key` matches the stored PHC hash; a malformed hash never matches.
pub fn verify_key(key: &SecretString, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(key.expose_secret().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A SHA-256 fingerprint of the presented key, used only as an in-memory cache key.
pub fn cache_fingerprint(key: &SecretString) -> [u8; 32] {
    Sha256::digest(key.expose_secret().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_256_bit_values() {
        let first = generate_key();
        let second = generate_key();
        assert_ne!(first.expose_secret(), second.expose_secret());
        let encoded = first.expose_secret().strip_prefix(KEY_PREFIX).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(encoded).unwrap().len(), 32);
    }

    #[test]
    fn hash_verifies_only_the_same_key() {
        let key = generate_key();
        let hash = hash_key(&key).unwrap();
        assert!(!hash.contains(key.expose_secret()));
        assert!(verify_key(&key, &hash));
        assert!(!verify_key(&generate_key(), &hash));
        assert!(!verify_key(&key, "not a phc string"));
    }

    #[test]
    fn lookup_prefix_is_stable_and_short() {
        let key = SecretString::from("obs_example");
        assert_eq!(lookup_prefix(&key), lookup_prefix(&SecretString::from("obs_example")));
        assert_eq!(lookup_prefix(&key).len(), LOOKUP_PREFIX_LEN);
    }
}
