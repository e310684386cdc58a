//! `Refusal`: why the domain did not do what was asked, as a stable `ErrorCode` plus the fields a
//! client needs. It carries no HTTP: only `http/` (through `error.rs`) turns it into a status.

use switchboard_proto::{ErrorCode, Id};

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// With `AssignmentConflict`: who holds the conversation now (`None`: nobody).
    pub current_assignee_id: Option<Option<Id>>,
    /// With `ConversationExists`: the open conversation to go to instead.
    pub conversation_id: Option<Id>,
    /// With `RateLimited`: seconds until trying again may succeed.
    pub retry_after_secs: Option<u64>,
}

pub type Outcome<T> = Result<T, Refusal>;

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            current_assignee_id: None,
            conversation_id: None,
            retry_after_secs: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn token_revoked() -> Self {
        Self::new(ErrorCode::TokenRevoked, "this device's token was revoked; sign in again")
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::TooLarge, message)
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code, message)
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        // The cause goes to the log, not to the client.
        tracing::error!(%error, "internal error");
        Self::new(ErrorCode::Internal, "internal server error")
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::internal(format!("store: {error}"))
    }
}

impl From<std::io::Error> for Refusal {
    fn from(error: std::io::Error) -> Self {
        Refusal::internal(format!("io: {error}"))
    }
}

impl From<serde_json::Error> for Refusal {
    fn from(error: serde_json::Error) -> Self {
        Refusal::internal(format!("json: {error}"))
    }
}
