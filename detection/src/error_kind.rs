//! The classification every error of the core exposes, free of HTTP types.
//!
//! Each boundary has its own `thiserror` enum. Each implements [`ErrorClass`] so that the API
//! can map a kind to a status in one exhaustive `match`, and clients get a stable `code`.

use std::fmt;

/// What kind of failure an error is, from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// The input is malformed or breaks a rule; the caller must change it.
    Invalid,
    /// The input is well-formed but asks for something this build cannot do.
    Unsupported,
    /// The request conflicts with the current state (a duplicate, a race).
    Conflict,
    /// The caller did not prove who they are, or the proof was wrong.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// A size or count limit was passed.
    TooLarge,
    /// A dependency (database, storage, queue) is down for now; retrying may help.
    Unavailable,
    /// A fault of ours; the caller can do nothing about it.
    Internal,
}

impl ErrorKind {
    /// True for errors the caller caused and can fix.
    pub fn is_user_error(self) -> bool {
        match self {
            ErrorKind::NotFound
            | ErrorKind::Invalid
            | ErrorKind::Unsupported
            | ErrorKind::Conflict
            | ErrorKind::Unauthenticated
            | ErrorKind::Forbidden
            | ErrorKind::TooLarge => true,
            ErrorKind::Unavailable | ErrorKind::Internal => false,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, formatter)
    }
}

/// Implemented by every error enum at a boundary of the core.
pub trait ErrorClass: std::error::Error {
    /// The kind of failure.
    fn kind(&self) -> ErrorKind;
    /// A stable snake_case identifier clients may match on; it never changes once published.
    fn code(&self) -> &'static str;
    /// What may be told to the caller of a failure that is not theirs (a 5xx), when more
    /// than a generic sentence helps them: which recognizer failed, say. It names no host,
    /// path or text. `None` keeps the generic sentence.
    fn public_detail(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dependency_failures_and_faults_are_not_user_errors() {
        assert!(ErrorKind::Invalid.is_user_error());
        assert!(ErrorKind::TooLarge.is_user_error());
        assert!(!ErrorKind::Unavailable.is_user_error());
        assert!(!ErrorKind::Internal.is_user_error());
    }
}
