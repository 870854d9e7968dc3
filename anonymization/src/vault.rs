//! The alias vault: which replacement number an entity has within a scope, so that the same
//! person, phone or id gets the same replacement in every text of a request, a session or
//! a project.
//!
//! An entry holds the entity's category (its type), its number within the category, the
//! alias shown to users, and the original value sealed with AES-256-GCM under a configured
//! key. Entries are found by a keyed hash of the normalized value, never by the value
//! itself, and people also by keyed hashes of their name parts (see `identity`). Keys can
//! rotate: entries name the key that sealed them, so old entries still open, and whatever is
//! sealed or written again is sealed with the current key. [`MemoryVault`] serves one request; the platform stores entries in its
//! database behind the same trait.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::identity::NameTokens;
use super::keyed::{KEY_BYTES, KeyError, hmac_sha256};

/// An entity the vault knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultEntry {
    /// Hex keyed hash of the category and the normalized value.
    pub lookup: String,
    /// The entity type.
    pub category: String,
    /// 1, 2, 3… within the category.
    pub number: u64,
    /// The alias shown in glossaries (`PERSONA-001`).
    pub alias: String,
    pub original: SealedValue,
    /// For people: keyed name tokens, for the name-variant rule.
    pub name: Option<NameTokens>,
}

/// A value encrypted with AES-256-GCM: the id of the key, then nonce and ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedValue {
    pub key_id: String,
    /// Hex of the 12-byte nonce followed by the ciphertext and tag.
    pub sealed: String,
}

/// Why the vault could not answer.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("vault key {0:?} is not configured")]
    UnknownKey(String),
    #[error("vault storage: {0}")]
    Storage(String),
}

/// Where entries live.
pub trait Vault {
    /// The entry with this lookup hash.
    fn find(&self, lookup: &str) -> Result<Option<VaultEntry>, VaultError>;
    /// Every person entry, for the name-variant rule.
    fn people(&self) -> Result<Vec<VaultEntry>, VaultError>;
    /// The highest number given in the category (variants share their person's number, so
    /// this is not the number of entries).
    fn count(&self, category: &str) -> Result<u64, VaultError>;
    /// Stores an entry and returns what the vault holds under its lookup hash: the entry, or
    /// the one stored first when two writers raced.
    fn insert(&mut self, entry: VaultEntry) -> Result<VaultEntry, VaultError>;

    /// Whether the vault outlives the request that fills it. Such a vault's entries keep
    /// their sealed originals and are found by keyed hashes. A vault that lives for one
    /// request only, in memory, never gives originals back and is never stored, so it pays
    /// for neither: its lookups are the normalized values themselves.
    fn outlives_request(&self) -> bool {
        true
    }
}

/// The vault's keys: one for lookup hashes, and sealing keys by id, one of them current.
#[derive(Clone)]
pub struct VaultKeys {
    lookup_key: Vec<u8>,
    /// HMAC keyed with `lookup_key`, cloned for each lookup so the key is not hashed again.
    lookup_mac: Hmac<Sha256>,
    sealing: BTreeMap<String, [u8; KEY_BYTES]>,
    current: String,
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("VaultKeys")
            .field("current", &self.current)
            .field("key_ids", &self.sealing.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl VaultKeys {
    /// Keys with one sealing key, `current_id`; the lookup key is derived from it unless
    /// set with [`with_lookup_key`](Self::with_lookup_key).
    pub fn new(current_id: &str, key: &[u8]) -> Result<VaultKeys, VaultError> {
        let key = sealing_key(key)?;
        let mut sealing = BTreeMap::new();
        sealing.insert(current_id.to_owned(), key);
        let lookup_key = hmac_sha256(&key, b"obscura vault lookup").to_vec();
        Ok(VaultKeys {
            lookup_mac: lookup_mac(&lookup_key),
            lookup_key,
            sealing,
            current: current_id.to_owned(),
        })
    }

    /// Sets the key of lookup hashes. It must not change while entries exist, or they can
    /// no longer be found; sealing keys rotate, the lookup key does not.
    pub fn with_lookup_key(mut self, key: &[u8]) -> VaultKeys {
        self.lookup_key = key.to_vec();
        self.lookup_mac = lookup_mac(key);
        self
    }

    /// Adds a sealing key and makes it current; older keys still open their entries.
    pub fn rotate_to(&mut self, key_id: &str, key: &[u8]) -> Result<(), VaultError> {
        self.sealing.insert(key_id.to_owned(), sealing_key(key)?);
        self.current = key_id.to_owned();
        Ok(())
    }

    /// Adds an older sealing key, which opens what it sealed but seals nothing new.
    pub fn with_previous(mut self, key_id: &str, key: &[u8]) -> Result<VaultKeys, VaultError> {
        if key_id != self.current {
            self.sealing.insert(key_id.to_owned(), sealing_key(key)?);
        }
        Ok(self)
    }

    pub fn lookup_key(&self) -> &[u8] {
        &self.lookup_key
    }

    /// The lookup hash of a normalized value of a category.
    pub fn lookup(&self, category: &str, normalized: &str) -> String {
        let mut mac = self.lookup_mac.clone();
        mac.update(category.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Seals a value under the current key.
    pub fn seal(&self, value: &str) -> Result<SealedValue, VaultError> {
        let key = self
            .sealing
            .get(&self.current)
            .ok_or_else(|| VaultError::UnknownKey(self.current.clone()))?;
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| KeyError::Missing("vault"))?;
        let mut nonce = [0_u8; 12];
        rand::fill(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), value.as_bytes())
            .map_err(|_| KeyError::NotDecryptable)?;
        let mut bytes = nonce.to_vec();
        bytes.extend(ciphertext);
        Ok(SealedValue {
            key_id: self.current.clone(),
            sealed: hex::encode(bytes),
        })
    }

    /// Opens a sealed value with the key that sealed it.
    pub fn open(&self, value: &SealedValue) -> Result<String, VaultError> {
        let key = self
            .sealing
            .get(&value.key_id)
            .ok_or_else(|| VaultError::UnknownKey(value.key_id.clone()))?;
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| KeyError::Missing("vault"))?;
        let bytes = hex::decode(&value.sealed).map_err(|_| KeyError::NotDecryptable)?;
        if bytes.len() < 12 + 16 {
            return Err(KeyError::NotDecryptable.into());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| KeyError::NotDecryptable)?;
        Ok(String::from_utf8(plain).map_err(|_| KeyError::NotDecryptable)?)
    }
}

fn lookup_mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn sealing_key(key: &[u8]) -> Result<[u8; KEY_BYTES], VaultError> {
    key.try_into().map_err(|_| {
        VaultError::Key(KeyError::WrongLength {
            name: "vault",
            expected: KEY_BYTES,
            found: key.len(),
        })
    })
}

/// A vault in memory, for one request or one session.
#[derive(Debug, Default, Clone)]
pub struct MemoryVault {
    entries: Vec<VaultEntry>,
    /// Entry position by lookup hash.
    by_lookup: std::collections::HashMap<String, usize>,
    /// Highest number by category.
    counts: BTreeMap<String, u64>,
    /// False for a vault of one request, whose originals nobody reads.
    for_one_request: bool,
}

impl MemoryVault {
    /// A vault that keeps sealed originals, as a session's does.
    pub fn new() -> MemoryVault {
        MemoryVault::default()
    }

    /// A vault for one request: consistent replacements, no originals kept.
    pub fn for_request() -> MemoryVault {
        MemoryVault {
            for_one_request: true,
            ..MemoryVault::default()
        }
    }

    pub fn entries(&self) -> &[VaultEntry] {
        &self.entries
    }
}

impl Vault for MemoryVault {
    fn find(&self, lookup: &str) -> Result<Option<VaultEntry>, VaultError> {
        Ok(self
            .by_lookup
            .get(lookup)
            .map(|&position| self.entries[position].clone()))
    }

    fn people(&self) -> Result<Vec<VaultEntry>, VaultError> {
        Ok(self
            .entries
            .iter()
            .filter(|entry| entry.name.is_some())
            .cloned()
            .collect())
    }

    fn count(&self, category: &str) -> Result<u64, VaultError> {
        Ok(self.counts.get(category).copied().unwrap_or(0))
    }

    fn insert(&mut self, entry: VaultEntry) -> Result<VaultEntry, VaultError> {
        if let Some(&position) = self.by_lookup.get(&entry.lookup) {
            return Ok(self.entries[position].clone());
        }
        match self.counts.get_mut(&entry.category) {
            Some(count) => *count = (*count).max(entry.number),
            None => {
                self.counts.insert(entry.category.clone(), entry.number);
            }
        }
        self.by_lookup.insert(entry.lookup.clone(), self.entries.len());
        self.entries.push(entry.clone());
        Ok(entry)
    }

    fn outlives_request(&self) -> bool {
        !self.for_one_request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originals_are_sealed_and_keys_rotate() {
        let mut keys = VaultKeys::new("k1", &[7; 32]).unwrap();
        let sealed = keys.seal("Juan Pérez").unwrap();
        assert_eq!(sealed.key_id, "k1");
        assert!(!sealed.sealed.contains("Juan"));
        assert_eq!(keys.open(&sealed).unwrap(), "Juan Pérez");

        let lookup = keys.lookup("PERSON", "juan|perez");
        keys.rotate_to("k2", &[9; 32]).unwrap();
        // Lookups do not change with rotation; old entries still open, new ones use k2.
        assert_eq!(keys.lookup("PERSON", "juan|perez"), lookup);
        assert_eq!(keys.open(&sealed).unwrap(), "Juan Pérez");
        let resealed = keys.seal("Juan Pérez").unwrap();
        assert_eq!(resealed.key_id, "k2");
        assert_eq!(keys.open(&resealed).unwrap(), "Juan Pérez");

        let stranger = VaultKeys::new("k2", &[1; 32]).unwrap();
        assert!(stranger.open(&resealed).is_err());
        assert!(matches!(stranger.open(&sealed), Err(VaultError::UnknownKey(id)) if id == "k1"));
        assert!(VaultKeys::new("k", &[0; 5]).is_err());
        assert_ne!(keys.lookup("PERSON", "x"), keys.lookup("LOCATION", "x"));
    }

    #[test]
    fn the_first_writer_wins_a_race() {
        let keys = VaultKeys::new("k1", &[7; 32]).unwrap();
        let mut vault = MemoryVault::new();
        let entry = |alias: &str| VaultEntry {
            lookup: "abc".into(),
            category: "PERSON".into(),
            number: 1,
            alias: alias.into(),
            original: keys.seal("x").unwrap(),
            name: None,
        };
        assert_eq!(vault.insert(entry("first")).unwrap().alias, "first");
        assert_eq!(vault.insert(entry("second")).unwrap().alias, "first");
        assert_eq!(vault.count("PERSON").unwrap(), 1);
    }
}
