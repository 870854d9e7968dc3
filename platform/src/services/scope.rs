//! Where anonymization keeps its aliases: a vault for one request, or a sanitization
//! session's, written back with optimistic retries so that nothing two requests add is lost.

use obscura_anonymization::Scope;
use obscura_anonymization::vault::{MemoryVault, Vault};
use uuid::Uuid;

use super::ServiceError;
use crate::database::Database;
use crate::secrets::MasterKeys;
use crate::sessions::{self, SessionError, SessionKey, SessionState};

/// How many times a session update is tried when other requests keep changing it.
pub const SESSION_UPDATE_TRIES: usize = 3;

/// Which session a request works in.
#[derive(Debug, Clone)]
pub enum SessionTarget {
    /// A session that must exist.
    Existing(SessionKey),
    /// The session of this id, started with it when there is none.
    Named(SessionKey),
    /// A new session, named by the server.
    New,
}

/// The sessions of one tenant.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub database: &'a Database,
    pub master_keys: &'a MasterKeys,
    pub tenant_id: Uuid,
    /// How long a session lives after its last use.
    pub ttl_secs: u64,
}

/// Runs `work` on a session's state and stores what it returns, with the id clients know
/// the session by.
/// When another request changed the session meanwhile, `work` runs again on the fresh
/// state (up to [`SESSION_UPDATE_TRIES`] times), so that nothing either request added is
/// lost. `work`'s own errors pass through unchanged.
pub async fn update_session<T, E, F, Fut>(
    sessions: Sessions<'_>,
    target: SessionTarget,
    work: F,
) -> Result<(T, SessionKey), E>
where
    E: From<ServiceError>,
    F: Fn(SessionState) -> Fut,
    Fut: std::future::Future<Output = Result<(T, SessionState), E>>,
{
    let keys = sessions.master_keys.vault_keys(sessions.tenant_id);
    let (database, tenant_id, ttl) = (sessions.database, sessions.tenant_id, sessions.ttl_secs);
    let failed = |error: SessionError| E::from(ServiceError::Session(error));
    let mut target = target;
    for _ in 0..SESSION_UPDATE_TRIES {
        let loaded = match &target {
            SessionTarget::Existing(key) => sessions::load(database, &keys, tenant_id, key).await,
            SessionTarget::Named(key) => match sessions::load(database, &keys, tenant_id, key).await {
                Err(SessionError::NotFound(_)) => {
                    sessions::create(database, &keys, tenant_id, ttl, &SessionState::new(), Some(key)).await
                }
                other => other,
            },
            SessionTarget::New => sessions::create(database, &keys, tenant_id, ttl, &SessionState::new(), None).await,
        };
        let mut session = match loaded {
            Ok(session) => session,
            // Another request started the session of this name first: work in that one.
            Err(SessionError::Conflict(_)) => continue,
            Err(error) => return Err(failed(error)),
        };
        target = SessionTarget::Existing(session.key());
        let (result, updated) = work(session.state.clone()).await?;
        session.state = updated;
        match sessions::save(database, &keys, tenant_id, &session, ttl).await {
            Ok(()) => return Ok((result, session.key())),
            Err(SessionError::Conflict(_)) => continue,
            Err(error) => return Err(failed(error)),
        }
    }
    let key = match target {
        SessionTarget::Existing(key) | SessionTarget::Named(key) => key,
        SessionTarget::New => SessionKey::of_id(Uuid::nil()),
    };
    Err(failed(SessionError::Conflict(key)))
}

/// Runs `work` off the async threads with a scope: the session's vault when a session is
/// given (written back afterwards, retried when another request changed it meanwhile),
/// else a vault for this call alone.
pub async fn with_scope<T, E, F>(
    sessions: Sessions<'_>,
    session_id: Option<SessionKey>,
    language: String,
    work: F,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<ServiceError> + Send + 'static,
    F: Fn(&mut Scope<'_>) -> Result<T, E> + Send + Sync + Clone + 'static,
{
    let keys = sessions.master_keys.vault_keys(sessions.tenant_id);
    let secrets = sessions.master_keys.scope_secrets(sessions.tenant_id);
    let Some(session_id) = session_id else {
        let span = tracing::Span::current();
        return tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let mut vault = MemoryVault::for_request();
                let mut scope = Scope {
                    vault: &mut vault,
                    keys: &keys,
                    secrets: &secrets,
                    language,
                };
                work(&mut scope)
            })
        })
        .await
        .map_err(|error| E::from(ServiceError::Task(error)))?;
    };
    let (result, _) = update_session(sessions, SessionTarget::Existing(session_id), |mut session| {
        let (keys, secrets, language, work) = (keys.clone(), secrets.clone(), language.clone(), work.clone());
        let span = tracing::Span::current();
        async move {
            tokio::task::spawn_blocking(move || {
                span.in_scope(|| {
                    let mut vault = MemoryVault::new();
                    for entry in std::mem::take(&mut session.vault) {
                        vault
                            .insert(entry)
                            .map_err(|error| E::from(ServiceError::Vault(error)))?;
                    }
                    let mut scope = Scope {
                        vault: &mut vault,
                        keys: &keys,
                        secrets: &secrets,
                        language,
                    };
                    let result = work(&mut scope)?;
                    session.vault = vault.entries().to_vec();
                    Ok::<_, E>((result, session))
                })
            })
            .await
            .map_err(|error| E::from(ServiceError::Task(error)))?
        }
    })
    .await?;
    Ok(result)
}
