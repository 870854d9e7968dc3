//! Where anonymization keeps its aliases: a vault for one request, or a sanitization
//! session's, written back with optimistic retries so that nothing two requests add is lost.

use obscura_anonymization::Scope;
use obscura_anonymization::vault::{MemoryVault, Vault};
use obscura_platform::sessions::{self, SessionState};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::ApiError;
use crate::state::AppState;

/// Which session a request works in.
#[derive(Debug, Clone, Copy)]
pub enum SessionTarget {
    Existing(Uuid),
    New,
}

/// Runs `work` on a session's state and stores what it returns, with the session's id.
/// When another request changed the session meanwhile, `work` runs again on the fresh
/// state (three tries), so that nothing either request added is lost.
pub async fn update_session<T, F, Fut>(
    state: &AppState,
    principal: &Principal,
    target: SessionTarget,
    work: F,
) -> Result<(T, Uuid), ApiError>
where
    F: Fn(SessionState) -> Fut,
    Fut: std::future::Future<Output = Result<(T, SessionState), ApiError>>,
{
    principal.require(&[Role::Admin, Role::Analyst])?;
    let keys = state.master_keys.vault_keys(principal.tenant_id);
    let ttl = state.config.security.session_ttl_secs;
    let mut target = target;
    for _ in 0..3 {
        let mut session = match target {
            SessionTarget::Existing(id) => sessions::load(&state.database, &keys, principal.tenant_id, id).await,
            SessionTarget::New => {
                sessions::create(&state.database, &keys, principal.tenant_id, ttl, &SessionState::new()).await
            }
        }
        .map_err(ApiError::from_class)?;
        target = SessionTarget::Existing(session.id);
        let (result, updated) = work(session.state.clone()).await?;
        session.state = updated;
        match sessions::save(&state.database, &keys, principal.tenant_id, &session, ttl).await {
            Ok(()) => return Ok((result, session.id)),
            Err(sessions::SessionError::Conflict(_)) => continue,
            Err(error) => return Err(ApiError::from_class(error)),
        }
    }
    let id = match target {
        SessionTarget::Existing(id) => id,
        SessionTarget::New => Uuid::nil(),
    };
    Err(ApiError::from_class(sessions::SessionError::Conflict(id)))
}

/// Runs `work` with a scope: the session's vault when a session is given (written back
/// afterwards, retried when another request changed it meanwhile), else a vault for this
/// request alone.
pub async fn with_scope<T, F>(
    state: &AppState,
    principal: &Principal,
    session_id: Option<Uuid>,
    language: String,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Fn(&mut Scope<'_>) -> Result<T, ApiError> + Send + Sync + Clone + 'static,
{
    let keys = state.master_keys.vault_keys(principal.tenant_id);
    let secrets = state.master_keys.scope_secrets(principal.tenant_id);
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
        .map_err(ApiError::internal)?;
    };
    let (result, _) = update_session(state, principal, SessionTarget::Existing(session_id), |mut session| {
        let (keys, secrets, language, work) = (keys.clone(), secrets.clone(), language.clone(), work.clone());
        let span = tracing::Span::current();
        async move {
            tokio::task::spawn_blocking(move || {
                span.in_scope(|| {
                    let mut vault = MemoryVault::new();
                    for entry in std::mem::take(&mut session.vault) {
                        vault.insert(entry).map_err(ApiError::internal)?;
                    }
                    let mut scope = Scope {
                        vault: &mut vault,
                        keys: &keys,
                        secrets: &secrets,
                        language,
                    };
                    let result = work(&mut scope)?;
                    session.vault = vault.entries().to_vec();
                    Ok((result, session))
                })
            })
            .await
            .map_err(ApiError::internal)?
        }
    })
    .await?;
    Ok(result)
}
