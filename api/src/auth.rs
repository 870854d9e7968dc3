//! Authentication: bearer API keys resolved to a [`Principal`] with a tenant and a role.
//!
//! Keys are checked against their argon2 hash, found through the lookup prefix. Argon2 is
//! deliberately slow, so a successful check is cached in memory for [`CACHE_TTL`]; a revoked
//! key stops working within that time. JWTs will resolve to the same [`Principal`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use obscura_entity::{DEFAULT_TENANT_ID, api_keys};
use obscura_platform::api_key;
use obscura_platform::database::{Database, DatabaseError};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;

/// How long a verified key is trusted without checking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(30);

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including key management and exports with originals.
    Admin,
    /// Detection, anonymization and review.
    Analyst,
    /// Read-only access.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        [Role::Admin, Role::Analyst, Role::Viewer]
            .into_iter()
            .find(|role| role.as_str() == value)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
    pub role: Role,
}

impl Principal {
    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the {} role may not do this", self.role.as_str()),
            ))
        }
    }
}

/// Verified keys, by fingerprint, with the time they were verified.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<[u8; 32], (Principal, Instant)>>,
}

impl KeyCache {
    async fn get(&self, fingerprint: &[u8; 32]) -> Option<Principal> {
        let entries = self.entries.read().await;
        entries
            .get(fingerprint)
            .filter(|(_, verified_at)| verified_at.elapsed() < CACHE_TTL)
            .map(|(principal, _)| principal.clone())
    }

    async fn insert(&self, fingerprint: [u8; 32], principal: Principal) {
        let mut entries = self.entries.write().await;
        entries.retain(|_, (_, verified_at)| verified_at.elapsed() < CACHE_TTL);
        entries.insert(fingerprint, (principal, Instant::now()));
    }
}

/// Middleware on `/api/v1`: resolves the bearer key or answers 401.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = bearer_key(&request)?;
    let principal = authenticate(&state.database, &state.key_cache, &key).await?;
    tracing::Span::current().record("tenant_id", tracing::field::display(principal.tenant_id));
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
        .with_header(axum::http::header::WWW_AUTHENTICATE, "Bearer")
}

fn bearer_key(request: &Request) -> Result<SecretString, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthenticated("Send an API key as `Authorization: Bearer <key>`."))?;
    let value = header
        .to_str()
        .map_err(|_| unauthenticated("The Authorization header is not valid text."))?;
    let (scheme, key) = value
        .split_once(' ')
        .ok_or_else(|| unauthenticated("The Authorization header must be `Bearer <key>`."))?;
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(unauthenticated("The Authorization header must be `Bearer <key>`."));
    }
    Ok(SecretString::from(key.trim().to_owned()))
}

/// Resolves a presented key to its principal, or fails with 401.
pub async fn authenticate(database: &Database, cache: &KeyCache, key: &SecretString) -> Result<Principal, ApiError> {
    let fingerprint = api_key::cache_fingerprint(key);
    if let Some(principal) = cache.get(&fingerprint).await {
        return Ok(principal);
    }
    let record = api_keys::Entity::find()
        .filter(api_keys::Column::LookupPrefix.eq(api_key::lookup_prefix(key)))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(database.orm())
        .await
        .map_err(|error| ApiError::from(DatabaseError::Query(error)))?;
    let Some(record) = record else {
        return Err(unauthenticated("The API key is not valid."));
    };
    let stored_hash = record.key_hash.clone();
    let presented = key.clone();
    // Argon2 takes tens of milliseconds of CPU; keep it off the async threads.
    let span = tracing::Span::current();
    let matches = tokio::task::spawn_blocking(move || span.in_scope(|| api_key::verify_key(&presented, &stored_hash)))
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        return Err(unauthenticated("The API key is not valid."));
    }
    let role = Role::parse(&record.role)
        .ok_or_else(|| ApiError::internal(format!("key {} has an unknown role", record.id)))?;
    let principal = Principal {
        key_id: record.id,
        tenant_id: record.tenant_id,
        role,
    };
    let _ = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::LastUsedAt, Expr::value(Utc::now()))
        .filter(api_keys::Column::Id.eq(record.id))
        .exec(database.orm())
        .await;
    cache.insert(fingerprint, principal.clone()).await;
    Ok(principal)
}

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

impl obscura_detection::ErrorClass for KeyStoreError {
    fn kind(&self) -> obscura_detection::ErrorKind {
        match self {
            KeyStoreError::NotFound(_) => obscura_detection::ErrorKind::NotFound,
            KeyStoreError::Hash(_) | KeyStoreError::KeyFile { .. } => obscura_detection::ErrorKind::Internal,
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
    role: Role,
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
        role: Set(role.as_str().to_owned()),
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
    role: Role,
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

/// Revokes a key; it stops working everywhere within [`CACHE_TTL`].
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
        store_key(database, DEFAULT_TENANT_ID, "bootstrap", Role::Admin, key).await?;
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
    store_key(database, DEFAULT_TENANT_ID, "admin", Role::Admin, &key).await?;
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

/// Shared so that every request sees the same cache.
pub type SharedKeyCache = Arc<KeyCache>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_gate() {
        for role in [Role::Admin, Role::Analyst, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        let viewer = Principal {
            key_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            role: Role::Viewer,
        };
        assert!(viewer.require(&[Role::Admin]).is_err());
        assert!(viewer.require(&[Role::Admin, Role::Viewer]).is_ok());
    }

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
