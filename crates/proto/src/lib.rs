//! Wire types of the Switchboard v1 protocol, shared by `switchboard-server` and the client core.
//!
//! Everything here is a DTO: it crosses the HTTP/WebSocket boundary as JSON. Timestamps are
//! milliseconds since the Unix epoch (`i64`), ids are UUIDs. Request types reject unknown fields so
//! a misspelt field is an error, never a silently ignored one.
//!
//! Besides the DTOs, the few pure rules both sides must apply identically live here: search
//! normalisation ([`text`]) and what each conversation action does to a conversation ([`rules`]).

pub mod api;
pub mod audit;
pub mod automation;
pub mod calendar;
pub mod contacts;
pub mod entity;
pub mod error;
pub mod escalation;
pub mod exports;
pub mod feed;
pub mod labels;
pub mod ledger;
pub mod privacy;
pub mod quick_replies;
pub mod reports;
pub mod rules;
pub mod sla;
pub mod text;
pub mod views;

pub use api::*;
pub use entity::*;
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use feed::*;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Entity and client ids.
pub type Id = uuid::Uuid;

/// Deserializes a field where "absent" and "null" mean different things:
/// absent → `None`, `null` → `Some(None)`, value → `Some(Some(v))`. Use with `#[serde(default)]`.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
