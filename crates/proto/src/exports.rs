//! Export approval on the wire: an agent's transcript export from an inbox whose exports need a
//! lead's approval becomes a request (who, what, why); a lead or admin approves or declines it; an
//! approved request is downloaded once by its requester within [`EXPORT_DOWNLOAD_WINDOW_MS`].
//! Also the workspace's app-lock requirement ([`LockPolicy`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;

/// How long after its approval a request can be downloaded (24 hours).
pub const EXPORT_DOWNLOAD_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

/// A transcript's format: JSON (`Transcript`) or plain text, one line per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Json,
    Txt,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Txt => "txt",
        }
    }
}

/// Where an export request stands. `expired`: approved, but not downloaded within the window;
/// `downloaded`: fetched once, never again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExportRequestStatus {
    Pending,
    Approved,
    Declined,
    Downloaded,
    Expired,
}

/// An agent's request to export a conversation's transcript from an inbox whose exports need a
/// lead's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportRequest {
    pub id: Uuid,
    pub requester_id: Uuid,
    /// The requester's name when they asked.
    pub requester_name: String,
    pub inbox_id: Uuid,
    pub conversation_id: Uuid,
    pub format: ExportFormat,
    /// Why they need it, in their words (1 to 500 characters).
    pub reason: String,
    pub status: ExportRequestStatus,
    pub created_at: Millis,
    /// Who approved or declined it, and when.
    #[serde(default)]
    pub decided_by: Option<Uuid>,
    #[serde(default)]
    pub decided_at: Option<Millis>,
    /// The lead's note with the decision (why not, usually).
    #[serde(default)]
    pub note: Option<String>,
    /// Until when an approved request can be downloaded.
    #[serde(default)]
    pub expires_at: Option<Millis>,
    #[serde(default)]
    pub downloaded_at: Option<Millis>,
}

/// `POST /api/v1/export-requests`: ask for a transcript export that needs approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct NewExportRequest {
    pub conversation_id: Uuid,
    pub format: ExportFormat,
    pub reason: String,
}

/// `POST /api/v1/export-requests/{id}/decision`: a lead's or admin's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ExportDecision {
    pub approve: bool,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub note: Option<String>,
}

/// `GET`/`PUT /api/v1/settings/lock`: the longest idle time an admin allows before the app
/// locks, in minutes (`null`: the agent chooses, "never" included). Every signed-in agent reads
/// it; only admins set it (audited). Also an entity of the feed (kind `lock_policy`, the one id
/// [`LOCK_POLICY_ID`], sent to everyone), so a change reaches every running app at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct LockPolicy {
    /// 1 to 1440 minutes.
    pub max_idle_minutes: Option<u32>,
}

/// The feed id of the workspace's one [`LockPolicy`].
pub const LOCK_POLICY_ID: Uuid = Uuid::nil();

/// The idle time in force: the agent's choice (0: never) bounded by the workspace's maximum.
pub fn effective_lock_minutes(chosen: u32, max_idle_minutes: Option<u32>) -> u32 {
    match max_idle_minutes {
        Some(max) if chosen == 0 || chosen > max => max,
        _ => chosen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_required_time_bounds_a_longer_choice_and_never() {
        assert_eq!(effective_lock_minutes(30, Some(5)), 5, "a longer choice is cut to the maximum");
        assert_eq!(effective_lock_minutes(0, Some(5)), 5, "\"never\" is not allowed under a maximum");
        assert_eq!(effective_lock_minutes(1, Some(5)), 1, "a shorter choice stands");
        assert_eq!(effective_lock_minutes(0, None), 0, "without a maximum the agent may choose never");
    }
}
