//! The API key store: keys stored as argon2 hashes behind their lookup prefix, listed
//! without secrets, revoked, and the first admin key made on first start.

use std::path::Path;

use chrono::Utc;
use obscura_detection::{ErrorClass, ErrorKind};
use obscura_entity::{DEFAULT_TENANT_ID, api_keys};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::api_key;
use crate::database::{Database, DatabaseError};

/// The role of the keys made on first start, as stored.
pub const ADMIN_ROLE: &str = "admin";

/// A stored key without its secret.
#[derive(Debug, Clone)]
pub struct KeySummary {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub role: String,
    pub created_at: chrono::DateTime<Utc>,
    pub last_used_at: Option<chrono::DateTime<Utc>>,
    pub revoked_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("API key {0} does not exist or is already revoked")]
    NotFound(Uuid),
    #[error("the key could not be hashed")]
    Hash(String),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("could not write the key file {path}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ErrorClass for KeyStoreError {
    fn kind(&self) -> obscura_detection::ErrorKind {
        match self {
            KeyStoreError::NotFound(_) => ErrorKind::NotFound,
            KeyStoreError::Hash(_) | KeyStoreError::KeyFile { .. } => ErrorKind::Internal,
            KeyStoreError::Database(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            KeyStoreError::NotFound(_) => "api_key_not_found",
            KeyStoreError::Hash(_) | KeyStoreError::KeyFile { .. } => "internal_error",
            KeyStoreError::Database(error) => error.code(),
        }
    }
}

impl From<sea_orm::DbErr> for KeyStoreError {
    fn from(error: sea_orm::DbErr) -> KeyStoreError {
        KeyStoreError::Database(DatabaseError::Query(error))
    }
}

/// Stores a new key of `role` for `tenant_id`; returns its id.
pub async fn store_key(
    database: &Database,
    tenant_id: Uuid,
    name: &str,
    role: &str,
    key: &SecretString,
) -> Result<Uuid, KeyStoreError> {
    let presented = key.clone();
    let hash = tokio::task::spawn_blocking(move || api_key::hash_key(&presented))
        .await
        .map_err(|error| KeyStoreError::Hash(error.to_string()))?
        .map_err(|error| KeyStoreError::Hash(error.to_string()))?;
    let id = Uuid::now_v7();
    api_keys::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        name: Set(name.to_owned()),
        role: Set(role.to_owned()),
        lookup_prefix: Set(api_key::lookup_prefix(key)),
        key_hash: Set(hash),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(database.orm())
    .await?;
    Ok(id)
}

/// Creates a random key; returns its id and the key, which is never stored in clear.
pub async fn create_key(
    database: &Database,
    tenant_id: Uuid,
    name: &str,
    role: &str,
) -> Result<(Uuid, SecretString), KeyStoreError> {
    let key = api_key::generate_key();
    let id = store_key(database, tenant_id, name, role, &key).await?;
    Ok((id, key))
}

/// Every key, newest first, without secrets.
pub async fn list_keys(database: &Database) -> Result<Vec<KeySummary>, KeyStoreError> {
    let records = api_keys::Entity::find()
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(database.orm())
        .await?;
    Ok(records
        .into_iter()
        .map(|record| KeySummary {
            id: record.id,
            tenant_id: record.tenant_id,
            name: record.name,
            role: record.role,
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            revoked_at: record.revoked_at,
        })
        .collect())
}

/// Revokes a key; servers that verified it recently stop taking it once their cache of
/// verified keys forgets it (30 seconds).
pub async fn revoke_key(database: &Database, key_id: Uuid) -> Result<(), KeyStoreError> {
    let result = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_keys::Column::Id.eq(key_id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(database.orm())
        .await?;
    if result.rows_affected == 0 {
        return Err(KeyStoreError::NotFound(key_id));
    }
    Ok(())
}

/// What first start did about the admin key.
#[derive(Debug)]
pub enum Bootstrap {
    /// Keys already existed; nothing was created.
    Existing,
    /// The configured bootstrap key was installed.
    Configured,
    /// A key was generated and written to the key file; the caller prints it once.
    Generated {
        key: SecretString,
        key_file: std::path::PathBuf,
    },
}

/// Makes sure an admin key exists. Call under the startup lock.
///
/// With `OBSCURA__AUTH__BOOTSTRAP_KEY` set, that key is installed (once) as an admin key of
/// the default tenant. Otherwise, if no key exists, a random admin key is created and
/// written to `key_file` with mode 0600.
pub async fn bootstrap_admin_key(
    database: &Database,
    bootstrap_key: Option<&SecretString>,
    key_file: &Path,
) -> Result<Bootstrap, KeyStoreError> {
    if let Some(key) = bootstrap_key {
        let exists = api_keys::Entity::find()
            .filter(api_keys::Column::LookupPrefix.eq(api_key::lookup_prefix(key)))
            .one(database.orm())
            .await?
            .is_some();
        if exists {
            return Ok(Bootstrap::Existing);
        }
        store_key(database, DEFAULT_TENANT_ID, "bootstrap", ADMIN_ROLE, key).await?;
        return Ok(Bootstrap::Configured);
    }
    let any_key = api_keys::Entity::find().one(database.orm()).await?.is_some();
    if any_key {
        return Ok(Bootstrap::Existing);
    }
    // The file is written before the key is stored: if storing fails, the next start tries
    // again; the other way round, a failed write would leave a key nobody was shown.
    let key = api_key::generate_key();
    let path = key_file.to_path_buf();
    let written = key.clone();
    tokio::task::spawn_blocking(move || write_key_file(&path, &written))
        .await
        .map_err(|error| KeyStoreError::Hash(error.to_string()))??;
    store_key(database, DEFAULT_TENANT_ID, "admin", ADMIN_ROLE, &key).await?;
    Ok(Bootstrap::Generated {
        key,
        key_file: key_file.to_path_buf(),
    })
}

/// Writes the key to a file only its owner can read.
fn write_key_file(path: &Path, key: &SecretString) -> Result<(), KeyStoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let error = |source| KeyStoreError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(error)?;
    // `mode` applies only when the file is created; tighten a pre-existing one too.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(error)?;
    writeln!(file, "{}", key.expose_secret()).map_err(error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("admin-key");
        write_key_file(&path, &SecretString::from("obs_secret")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), "obs_secret");
    }
}
