//! `CoreError`: what can go wrong in the client core, each with a stable code the UI branches on.

use switchboard_proto::{ErrorCode, Id};

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("local database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored data: {0}")]
    Json(#[from] serde_json::Error),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the cache is damaged: {0}")]
    Corrupt(String),
    /// The server can't be reached or failed in a way a retry can fix.
    #[error("network: {0}")]
    Network(String),
    /// The server refused the request for good.
    #[error("{message}")]
    Rejected {
        code: ErrorCode,
        message: String,
        current_assignee_id: Option<Option<Id>>,
        conversation_id: Option<Id>,
    },
    /// The token is unknown or revoked: the account must sign in again.
    #[error("signed out: {0}")]
    SignedOut(String),
    #[error("keychain: {0}")]
    Keychain(#[from] crate::keychain::KeychainError),
    #[error("{0}")]
    Invalid(String),
    /// What the agent asked for can't be done as asked (nothing to send, say); the message says why.
    #[error("{0}")]
    Validation(String),
}

impl CoreError {
    /// A stable snake_case code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Database(_) | CoreError::Json(_) | CoreError::Corrupt(_) => "cache_error",
            CoreError::Io(_) => "file_error",
            CoreError::Network(_) => "offline",
            CoreError::Rejected { code, .. } => code.as_str(),
            CoreError::SignedOut(_) => "signed_out",
            CoreError::Keychain(_) => "keychain_error",
            CoreError::Invalid(_) => "invalid",
            CoreError::Validation(_) => "validation",
        }
    }

    /// Whether retrying the same request later can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            CoreError::Network(_) => true,
            CoreError::Rejected { code, .. } => code.is_transient(),
            _ => false,
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
