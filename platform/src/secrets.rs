//! The master secret and the keys derived from it.
//!
//! One 32-byte master secret (`security.secret_key`) yields every other key, each derived
//! with HMAC-SHA256 for one purpose and, where it applies, one tenant: the keys of keyed
//! hashes and surrogate seeds, of value encryption, and of sealing vault and session data.
//! A key id (the first 8 hex digits of a hash of the master secret) is stored with sealed
//! data, so that after a rotation (the new secret in `secret_key`, the old ones in
//! `previous_keys`, oldest first) old data still opens and new data is sealed with the new
//! secret. What must stay stable across a rotation is derived from the oldest secret: vault
//! lookups (or known values would get new aliases), keyed hashes (or hashed columns would
//! stop joining) and value encryption (or encrypted values would no longer decrypt). In
//! embedded mode, with no secret configured, one is generated at first start and kept in
//! `secret_key_file` with mode 0600.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use obscura_anonymization::ScopeSecrets;
use obscura_anonymization::keyed::{ValueCipher, hmac_sha256};
use obscura_anonymization::vault::VaultKeys;
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::Config;

/// Why the master secret could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not hold a 32-byte secret in base64 or hex")]
    Malformed { path: String },
    #[error("security.secret_key is not a 32-byte secret in base64 or hex (set OBSCURA__SECURITY__SECRET_KEY)")]
    Invalid,
    #[error(
        "security.secret_key is required with PostgreSQL, so that every process shares it; set OBSCURA__SECURITY__SECRET_KEY to 32 random bytes in base64 (openssl rand -base64 32)"
    )]
    Required,
}

/// Reads a 32-byte secret written in base64 (standard or URL-safe) or hex.
pub fn decode_master_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .filter(|bytes| bytes.len() == 32)
        .or_else(|| STANDARD.decode(text).ok())
        .or_else(|| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())?;
    bytes.try_into().ok()
}

/// The master secrets: the current one and those it replaced.
#[derive(Clone)]
pub struct MasterKeys {
    current: ([u8; 32], String),
    previous: Vec<([u8; 32], String)>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MasterKeys")
            .field("current_id", &self.current.1)
            .field(
                "previous_ids",
                &self.previous.iter().map(|(_, id)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(hmac_sha256(key, b"obscura key id"))[..4])
}

impl MasterKeys {
    /// Keys from a secret and the secrets it replaced.
    pub fn new(current: [u8; 32], previous: Vec<[u8; 32]>) -> MasterKeys {
        MasterKeys {
            current: (current, key_id(&current)),
            previous: previous.into_iter().map(|key| (key, key_id(&key))).collect(),
        }
    }

    /// The configured secret, or the embedded mode's generated one (created when missing).
    pub fn load(config: &Config) -> Result<MasterKeys, SecretsError> {
        let previous = config
            .security
            .previous_keys
            .iter()
            .map(|key| decode_master_key(key.expose_secret()).ok_or(SecretsError::Invalid))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(key) = &config.security.secret_key {
            let current = decode_master_key(key.expose_secret()).ok_or(SecretsError::Invalid)?;
            return Ok(MasterKeys::new(current, previous));
        }
        // A generated secret lives on one machine; a fleet sharing PostgreSQL needs one secret.
        if config.uses_postgres() {
            return Err(SecretsError::Required);
        }
        let current = read_or_create(&config.security.secret_key_file)?;
        Ok(MasterKeys::new(current, previous))
    }

    pub fn current_id(&self) -> &str {
        &self.current.1
    }

    fn derive(key: &[u8; 32], purpose: &str, tenant_id: Option<Uuid>) -> [u8; 32] {
        let mut data = purpose.as_bytes().to_vec();
        if let Some(tenant_id) = tenant_id {
            data.push(0);
            data.extend_from_slice(tenant_id.as_bytes());
        }
        hmac_sha256(key, &data)
    }

    /// The key that signs the API's own upload URLs (embedded mode); it changes with the
    /// current secret, so a rotation ends the URLs signed before it.
    pub fn upload_signing_key(&self) -> [u8; 32] {
        Self::derive(&self.current.0, "upload url", None)
    }

    /// The oldest secret, which keys what must not change with a rotation.
    fn identity(&self) -> &[u8; 32] {
        self.previous.first().map_or(&self.current.0, |(key, _)| key)
    }

    /// A tenant's secrets for operators: the keyed-hash and surrogate key, and the value
    /// cipher.
    pub fn scope_secrets(&self, tenant_id: Uuid) -> ScopeSecrets {
        let mut secrets = ScopeSecrets::new(&Self::derive(self.identity(), "hash", Some(tenant_id)));
        secrets.cipher = ValueCipher::new(&Self::derive(self.identity(), "encrypt", Some(tenant_id))).ok();
        secrets
    }

    /// A tenant's vault keys: sealing keys of every secret with the current one in use, and
    /// the lookup key of the oldest.
    pub fn vault_keys(&self, tenant_id: Uuid) -> VaultKeys {
        let seal = |key: &[u8; 32]| Self::derive(key, "seal", Some(tenant_id));
        let lookup = Self::derive(self.identity(), "lookup", Some(tenant_id));
        let build = || -> Result<VaultKeys, obscura_anonymization::vault::VaultError> {
            let mut keys = VaultKeys::new(&self.current.1, &seal(&self.current.0))?;
            for (key, id) in &self.previous {
                keys = keys.with_previous(id, &seal(key))?;
            }
            Ok(keys.with_lookup_key(&lookup))
        };
        // Derived keys are 32 bytes, the only length VaultKeys takes.
        build().unwrap_or_else(|_| unreachable!("derived keys are 32 bytes"))
    }
}

fn read_or_create(path: &Path) -> Result<[u8; 32], SecretsError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => decode_master_key(&text).ok_or(SecretsError::Malformed { path: shown }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0_u8; 32];
            rand::rng().fill_bytes(&mut key);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| SecretsError::File {
                    path: shown.clone(),
                    source,
                })?;
            }
            write_private(path, &STANDARD.encode(key)).map_err(|source| SecretsError::File { path: shown, source })?;
            tracing::info!(path = %path.display(), "generated the master secret");
            Ok(key)
        }
        Err(source) => Err(SecretsError::File { path: shown, source }),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_decode_from_base64_or_hex_only_at_32_bytes() {
        let key = [7_u8; 32];
        assert_eq!(decode_master_key(&STANDARD.encode(key)), Some(key));
        assert_eq!(decode_master_key(&URL_SAFE_NO_PAD.encode(key)), Some(key));
        assert_eq!(decode_master_key(&hex::encode(key)), Some(key));
        assert_eq!(decode_master_key("short"), None);
        assert_eq!(decode_master_key(&STANDARD.encode([1_u8; 16])), None);
    }

    #[test]
    fn the_generated_secret_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret-key");
        let first = read_or_create(&path).unwrap();
        assert_eq!(read_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(read_or_create(&path), Err(SecretsError::Malformed { .. })));
    }

    #[test]
    fn tenants_get_different_keys_and_rotation_keeps_old_data_open() {
        let old = MasterKeys::new([1; 32], Vec::new());
        let tenant = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let sealed = old.vault_keys(tenant).seal("Juan Pérez").unwrap();
        assert!(old.vault_keys(other).open(&sealed).is_err());
        assert_ne!(old.scope_secrets(tenant).hash_key, old.scope_secrets(other).hash_key);

        let rotated = MasterKeys::new([2; 32], vec![[1; 32]]);
        let keys = rotated.vault_keys(tenant);
        assert_eq!(keys.open(&sealed).unwrap(), "Juan Pérez");
        assert_eq!(keys.seal("x").unwrap().key_id, rotated.current_id());
        assert_ne!(rotated.current_id(), old.current_id());
        // Lookups, hashes and encryption do not change with the rotation.
        assert_eq!(
            keys.lookup("PERSON", "ana"),
            old.vault_keys(tenant).lookup("PERSON", "ana")
        );
        assert_eq!(
            rotated.scope_secrets(tenant).hash_key,
            old.scope_secrets(tenant).hash_key
        );
    }
}
