//! The ordered change feed (`GET /api/v1/sync`) and the WebSocket stream's frames.
//!
//! Cursor rule: a client keeps the `next` of the last page or batch it applied and asks for
//! `since=next`. Seq numbers of the changes a client receives are strictly increasing but need not
//! be consecutive (other agents' private records and invisible inboxes are skipped, and the feed is
//! compacted to each entity's latest version), so gaps are detected by cursors: every stream batch
//! says which cursor it continues from (`since`), and a batch whose `since` is not the client's
//! cursor means something was missed.
//!
//! Every page and batch also names the change at its `next` with an opaque `check`; a client sends
//! it back with `since`. A server restored from a backup older than the cursor reuses its seqs for
//! other changes, so a cursor with a check that no longer matches (or beyond the feed's head) is
//! answered `feed_rewound`, and the client bootstraps again instead of skipping those changes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Availability, EntityKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Upsert,
    Delete,
}

/// One record of the feed: the latest state of one entity (`upsert`) or its tombstone (`delete`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Server-wide, strictly increasing, assigned at commit.
    pub seq: i64,
    pub entity: EntityKind,
    pub id: Uuid,
    pub op: ChangeOp,
    /// The entity as JSON for `upsert`; null for `delete`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object, nullable))]
    pub data: Option<serde_json::Value>,
}

/// `GET /api/v1/sync` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub changes: Vec<Change>,
    /// The cursor to ask with next (`since=next`). It can be past the last change returned.
    pub next: i64,
    /// Names the change at `next` (absent when `next` is 0): send it as `check` with `since=next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    pub has_more: bool,
}

/// `GET /api/v1/sync/bootstrap` answer: what a fresh device needs first, read in one snapshot at
/// feed position `next` (S). Every change is the entity's latest version at S, exactly as
/// `/sync?since=0` would give it. The client stores them, takes `next`/`check` as its cursor and
/// follows the feed live from there; the rest of the history at or before S comes from
/// `/sync/backfill` (`upto = next`), newest first, in the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BootstrapSnapshot {
    pub changes: Vec<Change>,
    /// The feed position S the snapshot is consistent with: the cursor to follow from.
    pub next: i64,
    /// Names the change at `next` (see [`SyncPage::check`]); also sent back with `upto` on backfill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

/// `GET /api/v1/sync/backfill` answer: the latest versions of entities last changed at or before
/// `upto` and before `before`, newest change first. Entities changed after `upto` are left out
/// (the live feed carries them), so a backfilled change is never newer than what the client has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillPage {
    pub changes: Vec<Change>,
    /// Ask with `before=next` for the following page (the lowest seq this page walked).
    pub next: i64,
    /// True when nothing older remains: the history up to `upto` is complete.
    pub done: bool,
}

/// Where a thread's history page stops: the oldest message it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryCursor {
    pub created_at: i64,
    pub id: Uuid,
}

/// `GET /api/v1/conversations/{id}/history` answer: a page of the thread's messages, newest first,
/// as feed changes (each the message's latest version, with its seq).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    pub changes: Vec<Change>,
    /// Ask with these as `before_at`/`before_id` for older messages; absent: no older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older: Option<HistoryCursor>,
}

/// What the server sends on `GET /api/v1/stream`, as JSON text frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Changes in seq order, continuing from cursor `since` up to cursor `next`; `check` names the
    /// change at `next` (see [`SyncPage::check`]).
    Changes {
        since: i64,
        next: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check: Option<String>,
        changes: Vec<Change>,
    },
    /// Another agent is (or stopped) typing in a conversation.
    Typing { conversation_id: Uuid, agent_id: Uuid, active: bool },
    /// Another agent has (or closed) a conversation open.
    Viewing { conversation_id: Uuid, agent_id: Uuid, active: bool },
    /// An agent's stream connected or disconnected, or their availability changed.
    Presence { agent_id: Uuid, online: bool, availability: Availability },
}

/// What the client sends on the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Typing { conversation_id: Uuid, active: bool },
    Viewing { conversation_id: Uuid, active: bool },
}

/// WebSocket close code: the client fell too far behind; reconnect with `since`.
pub const CLOSE_OVERFLOW: u16 = 4008;
/// WebSocket close code: the token was revoked while connected.
pub const CLOSE_REVOKED: u16 = 4001;
/// WebSocket close code: the server is shutting down; reconnect later.
pub const CLOSE_SHUTDOWN: u16 = 1001;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_by_type() {
        let frame = ServerFrame::Changes { since: 3, next: 9, check: Some("ab".into()), changes: vec![] };
        let json = serde_json::to_value(&frame).expect("serializes");
        assert_eq!(json["type"], "changes");
        // A frame from a server that sends no check (older) still parses.
        let old: ServerFrame = serde_json::from_str(r#"{"type":"changes","since":3,"next":9,"changes":[]}"#)
            .expect("a frame without a check parses");
        assert!(matches!(old, ServerFrame::Changes { check: None, .. }));
        let typed: ClientFrame = serde_json::from_str(
            r#"{"type":"typing","conversation_id":"00000000-0000-0000-0000-000000000000","active":true}"#,
        )
        .expect("client frame parses");
        assert!(matches!(typed, ClientFrame::Typing { active: true, .. }));
    }
}
