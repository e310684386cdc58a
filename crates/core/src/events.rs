//! What the core reports to whoever embeds it (the desktop shell turns these into UI events).

use std::sync::Arc;

use serde::Serialize;
use switchboard_proto::{EntityKind, Id, Millis};

use crate::notify::Notification;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Online,
    Connecting,
    Offline,
    /// The token was refused: the account has to sign in again.
    AuthFailed,
}

/// The status bar's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    pub state: ConnectionState,
    /// Actions waiting for the server.
    pub pending: usize,
    /// When the cache last applied something from the server.
    pub last_sync_at: Option<Millis>,
    /// How much of the history has arrived after a priority bootstrap, in percent (`None`: all of
    /// it; see `cache/backfill.rs`).
    pub history_percent: Option<u8>,
}

/// Typing, viewing and presence: never stored, only shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Ephemeral {
    Typing { conversation_id: Id, agent_id: Id, active: bool },
    Viewing { conversation_id: Id, agent_id: Id, active: bool },
    Presence { agent_id: Id, online: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// These kinds of entity changed in the cache: re-read what shows them.
    CacheChanged {
        kinds: Vec<EntityKind>,
    },
    Notify(Notification),
    /// The server refused an action for good; its effect was rolled back.
    OutboxRejected {
        client_id: Id,
        action: &'static str,
        conversation_id: Option<Id>,
        code: String,
        message: String,
        /// For `assignment_conflict`: who holds the conversation now.
        current_assignee_id: Option<Option<Id>>,
        /// For `conversation_exists`: the contact's open conversation the new one collided with.
        existing_conversation_id: Option<Id>,
    },
    Connection(SyncStatus),
    Ephemeral(Ephemeral),
    /// The token was revoked (or the agent deactivated): this account must sign in again.
    SignedOut {
        reason: String,
    },
}

/// Where events go: a callback, so the core never knows who listens (a channel, a Tauri app, a
/// test's vector).
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;
