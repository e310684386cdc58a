//! `switchboard-core`: the heart of the Switchboard desktop client, as a plain library.
//!
//! It keeps one local SQLite cache per signed-in account ([`cache`]), fills it from the server's
//! change feed and stream ([`sync`]), queues every agent action in a persistent outbox with
//! optimistic effects ([`outbox`]), and reports what happened through an event callback
//! ([`events`]). It never names Tauri: the desktop shell turns its events into UI events.

pub mod accounts;
pub mod api;
pub mod attachments;
pub mod cache;
pub mod channels;
pub mod clock;
pub mod contacts;
pub mod error;
pub mod events;
pub mod history;
pub mod intents;
pub mod keychain;
pub mod lock;
pub mod new_conversation;
pub mod notify;
pub mod outbox;
pub mod quick_replies;
pub mod quick_reply_actions;
pub mod reports;
pub mod sealed;
pub mod settings;
pub mod sync;
pub mod team;
pub mod thread_window;
pub mod transcripts;

pub use error::{CoreError, CoreResult};
