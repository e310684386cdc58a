//! The error envelope every failed request answers with: `{"error":{"code","message",…}}`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stable, snake_case error codes. Clients branch on these, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    TokenRevoked,
    InvalidCredentials,
    /// The password was right and the agent signs in with a second factor: ask for the code.
    TwoFactorRequired,
    /// An admin requires a second factor and this agent has none yet: enrol first.
    TwoFactorEnrolmentRequired,
    RateLimited,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    MalformedJson,
    InvalidBody,
    InvalidQuery,
    InvalidId,
    UnsupportedMediaType,
    TooLarge,
    Validation,
    WindowClosed,
    UnknownTemplate,
    AssignmentConflict,
    ConversationExists,
    AlreadyExists,
    ClientIdReused,
    /// The `since` cursor (and its `check`) names no change of this server's feed: the server was
    /// restored from an older backup, or the cursor is from another server. Drop the cache and
    /// bootstrap from `since=0`.
    FeedRewound,
    /// The conversation exists but is out of the caller's view now (removed from its inbox, or
    /// the inbox shows its members only their own): an action queued for it is dropped.
    OutOfView,
    /// The export is from an inbox whose exports need a lead's approval: ask for it with
    /// `POST /api/v1/export-requests`.
    ExportApprovalRequired,
    /// Something that was valid for a limited time no longer is (an approved export not
    /// downloaded in time, or already downloaded).
    Expired,
    InvalidSignature,
    Internal,
    Unavailable,
    /// A code this client version does not know yet.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenRevoked => "token_revoked",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TwoFactorRequired => "two_factor_required",
            ErrorCode::TwoFactorEnrolmentRequired => "two_factor_enrolment_required",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Validation => "validation",
            ErrorCode::WindowClosed => "window_closed",
            ErrorCode::UnknownTemplate => "unknown_template",
            ErrorCode::AssignmentConflict => "assignment_conflict",
            ErrorCode::ConversationExists => "conversation_exists",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::ClientIdReused => "client_id_reused",
            ErrorCode::FeedRewound => "feed_rewound",
            ErrorCode::OutOfView => "out_of_view",
            ErrorCode::ExportApprovalRequired => "export_approval_required",
            ErrorCode::Expired => "expired",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// Whether the same request can succeed later without being changed (a sync engine retries
    /// these with backoff; everything else is a permanent rejection).
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::Unavailable)
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// For `assignment_conflict`: who holds the conversation now (null: nobody).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_assignee_id: Option<Option<Uuid>>,
    /// For `conversation_exists`: the open conversation the request collided with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_from_a_newer_server_still_parse() {
        let body: ErrorBody = serde_json::from_str(r#"{"error":{"code":"brand_new_code","message":"m"}}"#)
            .expect("an unknown code must not break parsing");
        assert_eq!(body.error.code, ErrorCode::Unknown);
    }

    #[test]
    fn as_str_matches_serde() {
        for code in [ErrorCode::WindowClosed, ErrorCode::AssignmentConflict, ErrorCode::TokenRevoked] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
