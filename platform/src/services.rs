//! What routes, worker jobs and commands do alike: select a detector for a request's
//! settings, and run anonymization in a scope whose aliases are kept (a request's own, or a
//! sanitization session's, written back without losing what concurrent requests added).
//! Callers check who may do what; services do the work and say why it failed.

pub mod detection;
pub mod operators;
pub mod scope;

use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_detection::pack::PackError;

use crate::sessions::SessionError;

/// Why a service could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A pattern pack or profile that the settings name does not exist.
    #[error("{0} does not exist")]
    UnknownSelection(String),
    /// The installed packs could not be loaded (a fault of the installation).
    #[error("pattern packs: {0}")]
    Packs(PackError),
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A session's stored aliases could not be read back into a vault.
    #[error("session vault: {0}")]
    Vault(#[from] obscura_anonymization::vault::VaultError),
    /// Blocking work (inference, anonymization) panicked or was cancelled.
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<PackError> for ServiceError {
    fn from(error: PackError) -> ServiceError {
        match error {
            PackError::Unknown(name) => ServiceError::UnknownSelection(name),
            other @ (PackError::Read { .. }
            | PackError::Syntax { .. }
            | PackError::Invalid { .. }
            | PackError::Duplicate { .. }) => ServiceError::Packs(other),
        }
    }
}

impl ErrorClass for ServiceError {
    fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::UnknownSelection(_) => ErrorKind::Invalid,
            ServiceError::Session(error) => error.kind(),
            ServiceError::Packs(_) | ServiceError::Vault(_) | ServiceError::Task(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ServiceError::UnknownSelection(_) => "invalid_body",
            ServiceError::Session(error) => error.code(),
            ServiceError::Packs(_) | ServiceError::Vault(_) | ServiceError::Task(_) => "internal_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_pack_is_the_request_s_fault_and_a_broken_one_the_installation_s() {
        let unknown = ServiceError::from(PackError::Unknown("nope".into()));
        assert_eq!((unknown.kind(), unknown.code()), (ErrorKind::Invalid, "invalid_body"));
        assert_eq!(unknown.to_string(), "nope does not exist");
        let conflict = ServiceError::from(SessionError::Conflict(crate::sessions::SessionKey::of_id(
            uuid::Uuid::nil(),
        )));
        assert_eq!(conflict.kind(), ErrorKind::Conflict);
    }
}
