//! Authentication: bearer API keys resolved to a [`Principal`] with a tenant and a role.
//!
//! Keys are checked against their argon2 hash, found through the lookup prefix. Argon2 is
//! deliberately slow, so a successful check is cached in memory for [`CACHE_TTL`]; a revoked
//! key stops working within that time. JWTs will resolve to the same [`Principal`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use obscura_entity::api_keys;
use obscura_platform::api_key;
use obscura_platform::database::{Database, DatabaseError};
use obscura_platform::key_store;
pub use obscura_platform::key_store::{
    Bootstrap, KeyStoreError, KeySummary, bootstrap_admin_key, list_keys, revoke_key,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::problem::ApiError;

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

/// What the authentication middleware needs: the key store and the cache of verified keys.
#[derive(Debug, Clone)]
pub struct AuthState {
    pub database: Database,
    pub key_cache: SharedKeyCache,
}

/// Middleware on `/api/v1`: resolves the bearer key or answers 401.
pub async fn require_api_key(
    State(state): State<AuthState>,
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
    bearer_from_headers(request.headers())
}

/// The key of an `Authorization: Bearer` header, or why there is none.
pub fn bearer_from_headers(headers: &axum::http::HeaderMap) -> Result<SecretString, ApiError> {
    let header = headers
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

/// Shared so that every request sees the same cache.
pub type SharedKeyCache = Arc<KeyCache>;

/// Creates a random key of `role`; returns its id and the key, which is never stored in clear.
pub async fn create_key(
    database: &Database,
    tenant_id: Uuid,
    name: &str,
    role: Role,
) -> Result<(Uuid, SecretString), KeyStoreError> {
    key_store::create_key(database, tenant_id, name, role.as_str()).await
}

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
}
