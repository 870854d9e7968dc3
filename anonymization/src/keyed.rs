//! Keyed operations: HMAC hashing and AES-256-GCM-SIV encryption of values.
//!
//! A bare hash of a name or a phone number is reversed by hashing a dictionary of candidates,
//! so hashing is always keyed, with a secret per tenant or per project. Encryption uses
//! AES-256-GCM-SIV, which stays safe when a nonce repeats: its deterministic mode derives the
//! nonce from the value, so equal values encrypt equally and stay joinable, and reveals
//! nothing but that equality.

use aes_gcm_siv::aead::{Aead, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};

/// Prefix of every encrypted value, with the format version.
pub const ENCRYPTED_PREFIX: &str = "enc1:";
/// Length of an encryption key in bytes.
pub const KEY_BYTES: usize = 32;
/// Shortest secret accepted for keyed hashing.
pub const MIN_HASH_KEY_BYTES: usize = 16;

/// The HMAC's hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgorithm {
    #[default]
    HmacSha256,
    HmacSha512,
}

/// How a hash is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashEncoding {
    #[default]
    Hex,
    /// URL-safe base64 without padding.
    Base64,
}

/// Options of the hash operator.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HashOptions {
    pub algorithm: HashAlgorithm,
    pub encoding: HashEncoding,
    /// Characters of output kept; the whole digest when absent.
    pub length: Option<usize>,
}

/// A keyed operation that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no {0} key is configured")]
    Missing(&'static str),
    #[error("the {name} key must be {expected} bytes, not {found}")]
    WrongLength {
        name: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("the value is not a value this key encrypted")]
    NotDecryptable,
}

/// The HMAC of `value` under `key`, encoded and cut as `options` say.
pub fn keyed_hash(key: &[u8], value: &str, options: &HashOptions) -> Result<String, KeyError> {
    if key.len() < MIN_HASH_KEY_BYTES {
        return Err(KeyError::WrongLength {
            name: "hash",
            expected: MIN_HASH_KEY_BYTES,
            found: key.len(),
        });
    }
    let digest = match options.algorithm {
        HashAlgorithm::HmacSha256 => hmac_sha256(key, value.as_bytes()).to_vec(),
        HashAlgorithm::HmacSha512 => {
            // HMAC accepts keys of any length, so this cannot fail.
            let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).map_err(|_| KeyError::Missing("hash"))?;
            mac.update(value.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    let mut encoded = match options.encoding {
        HashEncoding::Hex => hex::encode(digest),
        HashEncoding::Base64 => URL_SAFE_NO_PAD.encode(digest),
    };
    if let Some(length) = options.length {
        encoded.truncate(length.max(1));
    }
    Ok(encoded)
}

/// HMAC-SHA256 of `data` under `key`.
/// HMAC-SHA256 keyed with `key`, ready for data.
pub fn keyed_hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; new_from_slice never fails for it, and an empty
    // key is padded like any other.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()))
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed_hmac_sha256(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Encrypts and decrypts values with AES-256-GCM-SIV.
#[derive(Clone)]
pub struct ValueCipher {
    cipher: Aes256GcmSiv,
    /// Key for deriving deterministic nonces, separate from the encryption key.
    nonce_key: [u8; 32],
}

impl std::fmt::Debug for ValueCipher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ValueCipher(..)")
    }
}

impl ValueCipher {
    /// A cipher for a 32-byte key.
    pub fn new(key: &[u8]) -> Result<ValueCipher, KeyError> {
        if key.len() != KEY_BYTES {
            return Err(KeyError::WrongLength {
                name: "encryption",
                expected: KEY_BYTES,
                found: key.len(),
            });
        }
        let cipher = Aes256GcmSiv::new_from_slice(key).map_err(|_| KeyError::Missing("encryption"))?;
        Ok(ValueCipher {
            cipher,
            nonce_key: hmac_sha256(key, b"obscura value nonce"),
        })
    }

    /// `enc1:` and the URL-safe base64 of nonce and ciphertext. Deterministic encryption
    /// gives equal outputs for equal values; otherwise the nonce is random.
    pub fn encrypt(&self, value: &str, deterministic: bool) -> String {
        let mut nonce = [0_u8; 12];
        if deterministic {
            nonce.copy_from_slice(&hmac_sha256(&self.nonce_key, value.as_bytes())[..12]);
        } else {
            rand::fill(&mut nonce);
        }
        // Encryption fails only for plaintexts beyond 2^36 bytes, far past any value limit.
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), value.as_bytes())
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(ciphertext);
        format!("{ENCRYPTED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The value `encrypt` was given.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, KeyError> {
        let encoded = encrypted
            .trim()
            .strip_prefix(ENCRYPTED_PREFIX)
            .ok_or(KeyError::NotDecryptable)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| KeyError::NotDecryptable)?;
        if bytes.len() < 12 + 16 {
            return Err(KeyError::NotDecryptable);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| KeyError::NotDecryptable)?;
        String::from_utf8(plain).map_err(|_| KeyError::NotDecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn hashes_are_keyed_sized_and_encoded() {
        let options = HashOptions::default();
        let first = keyed_hash(KEY, "Juan Pérez", &options).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(first, keyed_hash(KEY, "Juan Pérez", &options).unwrap());
        assert_ne!(
            first,
            keyed_hash(b"another key of 32 bytes........", "Juan Pérez", &options).unwrap()
        );
        // RFC 4231 test case 2 (key "Jefe").
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sha512 = HashOptions {
            algorithm: HashAlgorithm::HmacSha512,
            encoding: HashEncoding::Base64,
            length: Some(12),
        };
        assert_eq!(keyed_hash(KEY, "x", &sha512).unwrap().len(), 12);
        assert_eq!(
            keyed_hash(b"short", "x", &options),
            Err(KeyError::WrongLength {
                name: "hash",
                expected: 16,
                found: 5
            })
        );
    }

    #[test]
    fn encryption_round_trips_and_is_deterministic_only_when_asked() {
        let cipher = ValueCipher::new(KEY).unwrap();
        let deterministic = cipher.encrypt("12345678Z", true);
        assert!(deterministic.starts_with(ENCRYPTED_PREFIX));
        assert_eq!(deterministic, cipher.encrypt("12345678Z", true));
        assert_ne!(deterministic, cipher.encrypt("12345678Y", true));
        let random = cipher.encrypt("12345678Z", false);
        assert_ne!(random, cipher.encrypt("12345678Z", false));
        assert_eq!(cipher.decrypt(&deterministic).unwrap(), "12345678Z");
        assert_eq!(cipher.decrypt(&random).unwrap(), "12345678Z");

        let other = ValueCipher::new(b"fedcba9876543210fedcba9876543210").unwrap();
        assert_eq!(other.decrypt(&deterministic), Err(KeyError::NotDecryptable));
        // One character of the ciphertext changed.
        let middle = ENCRYPTED_PREFIX.len() + 20;
        let flipped = if &deterministic[middle..=middle] == "A" {
            "B"
        } else {
            "A"
        };
        let tampered = format!("{}{flipped}{}", &deterministic[..middle], &deterministic[middle + 1..]);
        assert_eq!(cipher.decrypt(&tampered), Err(KeyError::NotDecryptable));
        assert_eq!(cipher.decrypt("plain text"), Err(KeyError::NotDecryptable));
        assert!(ValueCipher::new(b"short").is_err());
    }
}
