//! Sanitization sessions: the mask map and alias vault a client can leave on the server,
//! sealed with the tenant's key, for a configurable time after their last use.
//!
//! A session's state is one sealed blob. Writes are optimistic: each carries the version it
//! read, and a write that finds another version reports a conflict so that the caller
//! reruns its work on the fresh state; no placeholder is ever lost to a race.

use chrono::{DateTime, Duration, Utc};
use obscura_anonymization::sanitize::MaskMap;
use obscura_anonymization::vault::{SealedValue, VaultEntry, VaultError, VaultKeys};
use obscura_detection::{ErrorClass, ErrorKind};
use obscura_entity::anonymization_sessions;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::database::Database;

/// What a session keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub mask_map: MaskMap,
    /// Hex secret keying the placeholders' hash digits.
    pub placeholder_secret: String,
    /// Alias vault entries, for consistent replacements across requests.
    pub vault: Vec<VaultEntry>,
}

impl SessionState {
    /// A fresh state with a random placeholder secret.
    pub fn new() -> SessionState {
        let mut secret = [0_u8; 32];
        rand::fill(&mut secret);
        SessionState {
            placeholder_secret: hex::encode(secret),
            ..SessionState::default()
        }
    }

    /// The key of the placeholders' hash digits.
    pub fn placeholder_key(&self) -> Vec<u8> {
        hex::decode(&self.placeholder_secret).unwrap_or_default()
    }
}

/// How a request names a session: the id the server gave it, or an id the client chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey(String);

/// The longest session id a client may choose.
pub const MAX_SESSION_NAME: usize = 128;

impl SessionKey {
    /// Checks a session id as a client wrote it: 1 to [`MAX_SESSION_NAME`] characters, none
    /// of them a control character or a space.
    pub fn parse(text: &str) -> Result<SessionKey, SessionError> {
        let length = text.chars().count();
        if length == 0 || length > MAX_SESSION_NAME || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(SessionError::InvalidName);
        }
        Ok(SessionKey(text.to_owned()))
    }

    /// A key to look a session up by, as a request wrote it: one no session can have is
    /// simply not found.
    pub fn lookup(text: &str) -> SessionKey {
        SessionKey(text.to_owned())
    }

    /// The key of a session the server named.
    pub fn of_id(id: Uuid) -> SessionKey {
        SessionKey(id.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The rows this key names in a tenant: by the client's name, or by the server's id.
    fn condition(&self) -> sea_orm::Condition {
        let by_name = sea_orm::Condition::any().add(anonymization_sessions::Column::Name.eq(self.0.clone()));
        match Uuid::parse_str(&self.0) {
            Ok(id) => by_name.add(
                sea_orm::Condition::all()
                    .add(anonymization_sessions::Column::Id.eq(id))
                    .add(anonymization_sessions::Column::Name.is_null()),
            ),
            Err(_) => by_name,
        }
    }
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A looked-up key may be any length; messages show the start of a long one.
        match self.0.char_indices().nth(MAX_SESSION_NAME) {
            Some((end, _)) => write!(formatter, "{}…", &self.0[..end]),
            None => formatter.write_str(&self.0),
        }
    }
}

/// A session as listed, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// The client's id for it, or the server's.
    pub session_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub placeholder_count: usize,
}

/// A loaded session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    /// The id the client chose, if it did.
    pub name: Option<String>,
    pub version: i64,
    pub state: SessionState,
}

impl Session {
    /// The id clients know it by: theirs, or the server's.
    pub fn key(&self) -> SessionKey {
        match &self.name {
            Some(name) => SessionKey(name.clone()),
            None => SessionKey::of_id(self.id),
        }
    }
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session {0} does not exist or has expired")]
    NotFound(SessionKey),
    #[error("session {0} was changed by another request")]
    Conflict(SessionKey),
    #[error("a session id is 1 to 128 characters without spaces or control characters")]
    InvalidName,
    #[error("session storage: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("session sealing: {0}")]
    Sealing(#[from] VaultError),
    #[error("session state: {0}")]
    State(#[from] serde_json::Error),
}

impl ErrorClass for SessionError {
    fn kind(&self) -> ErrorKind {
        match self {
            SessionError::NotFound(_) => ErrorKind::NotFound,
            SessionError::Conflict(_) => ErrorKind::Conflict,
            SessionError::InvalidName => ErrorKind::Invalid,
            SessionError::Database(_) | SessionError::Sealing(_) | SessionError::State(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SessionError::NotFound(_) => "session_not_found",
            SessionError::Conflict(_) => "session_conflict",
            SessionError::InvalidName => "invalid_session_id",
            SessionError::Database(_) => "database_error",
            SessionError::Sealing(_) => "session_sealing_failed",
            SessionError::State(_) => "session_state_invalid",
        }
    }
}

fn seal(keys: &VaultKeys, state: &SessionState) -> Result<(String, String), SessionError> {
    let sealed = keys.seal(&serde_json::to_string(state)?)?;
    Ok((sealed.key_id, sealed.sealed))
}

fn ttl(seconds: u64) -> Duration {
    Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1000).min(10 * 365 * 86_400))
}

/// Stores a new session, under the client's `name` if it chose one; `Conflict` when another
/// request created a session of that name first.
pub async fn create(
    database: &Database,
    keys: &VaultKeys,
    tenant_id: Uuid,
    ttl_secs: u64,
    state: &SessionState,
    name: Option<&SessionKey>,
) -> Result<Session, SessionError> {
    purge_expired(database).await?;
    let now = Utc::now();
    let (key_id, sealed_state) = seal(keys, state)?;
    let id = Uuid::now_v7();
    let inserted = anonymization_sessions::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        name: Set(name.map(|name| name.0.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        expires_at: Set(now + ttl(ttl_secs)),
        version: Set(1),
        placeholder_count: Set(i32::try_from(state.mask_map.0.len()).unwrap_or(i32::MAX)),
        key_id: Set(key_id),
        sealed_state: Set(sealed_state),
    }
    .insert(database.orm())
    .await;
    match (inserted, name) {
        (Ok(_), _) => Ok(Session {
            id,
            name: name.map(|name| name.0.clone()),
            version: 1,
            state: state.clone(),
        }),
        (Err(error), Some(name)) if matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Err(SessionError::Conflict(name.clone()))
        }
        (Err(error), _) => Err(error.into()),
    }
}

/// A live session of the tenant; another tenant's session is as absent as a missing one.
pub async fn load(
    database: &Database,
    keys: &VaultKeys,
    tenant_id: Uuid,
    key: &SessionKey,
) -> Result<Session, SessionError> {
    let record = anonymization_sessions::Entity::find()
        .filter(key.condition())
        .filter(anonymization_sessions::Column::TenantId.eq(tenant_id))
        .filter(anonymization_sessions::Column::ExpiresAt.gt(Utc::now()))
        .one(database.orm())
        .await?
        .ok_or_else(|| SessionError::NotFound(key.clone()))?;
    let text = keys.open(&SealedValue {
        key_id: record.key_id,
        sealed: record.sealed_state,
    })?;
    Ok(Session {
        id: record.id,
        name: record.name,
        version: record.version,
        state: serde_json::from_str(&text)?,
    })
}

/// Writes a session's new state and extends its life; `Conflict` when another write came
/// first since it was loaded.
pub async fn save(
    database: &Database,
    keys: &VaultKeys,
    tenant_id: Uuid,
    session: &Session,
    ttl_secs: u64,
) -> Result<(), SessionError> {
    let now = Utc::now();
    let (key_id, sealed_state) = seal(keys, &session.state)?;
    let result = anonymization_sessions::Entity::update_many()
        .col_expr(anonymization_sessions::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            anonymization_sessions::Column::ExpiresAt,
            Expr::value(now + ttl(ttl_secs)),
        )
        .col_expr(
            anonymization_sessions::Column::Version,
            Expr::value(session.version + 1),
        )
        .col_expr(
            anonymization_sessions::Column::PlaceholderCount,
            Expr::value(i32::try_from(session.state.mask_map.0.len()).unwrap_or(i32::MAX)),
        )
        .col_expr(anonymization_sessions::Column::KeyId, Expr::value(key_id))
        .col_expr(anonymization_sessions::Column::SealedState, Expr::value(sealed_state))
        .filter(anonymization_sessions::Column::Id.eq(session.id))
        .filter(anonymization_sessions::Column::TenantId.eq(tenant_id))
        .filter(anonymization_sessions::Column::Version.eq(session.version))
        .exec(database.orm())
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(SessionError::Conflict(session.key()))
    }
}

/// The tenant's live sessions, newest first.
pub async fn list(database: &Database, tenant_id: Uuid) -> Result<Vec<SessionSummary>, SessionError> {
    Ok(anonymization_sessions::Entity::find()
        .filter(anonymization_sessions::Column::TenantId.eq(tenant_id))
        .filter(anonymization_sessions::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(anonymization_sessions::Column::CreatedAt)
        .all(database.orm())
        .await?
        .into_iter()
        .map(|record| SessionSummary {
            session_id: record.name.unwrap_or_else(|| record.id.to_string()),
            created_at: record.created_at,
            updated_at: record.updated_at,
            expires_at: record.expires_at,
            placeholder_count: usize::try_from(record.placeholder_count).unwrap_or(0),
        })
        .collect())
}

/// Deletes a live session of the tenant.
pub async fn delete(database: &Database, tenant_id: Uuid, key: &SessionKey) -> Result<(), SessionError> {
    let result = anonymization_sessions::Entity::delete_many()
        .filter(key.condition())
        .filter(anonymization_sessions::Column::TenantId.eq(tenant_id))
        .filter(anonymization_sessions::Column::ExpiresAt.gt(Utc::now()))
        .exec(database.orm())
        .await?;
    if result.rows_affected == 0 {
        return Err(SessionError::NotFound(key.clone()));
    }
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired(database: &Database) -> Result<u64, SessionError> {
    Ok(anonymization_sessions::Entity::delete_many()
        .filter(anonymization_sessions::Column::ExpiresAt.lte(Utc::now()))
        .exec(database.orm())
        .await?
        .rows_affected)
}
