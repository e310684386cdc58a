//! Integration tests of the client core against the real server, started in-process on
//! 127.0.0.1:0: sync, the outbox, rejections, notifications, sign-out, search, fault injection;
//! and against server processes behind nginx (`balanced.rs`, under `scripts/run-nodes.sh`).

mod harness;

mod app_lock;
mod automation;
mod balanced;
mod board;
mod bootstrap;
mod channels;
mod contacts;
mod effects;
mod encrypted_cache;
mod erasure;
mod faults;
mod filters;
mod intents;
mod membership;
mod new_conversation;
mod outbox;
mod quick_replies;
mod reports;
mod restore;
mod saved_views;
mod search;
mod settings;
mod sla;
mod sync;
mod team;
mod thread_window;
mod two_factor;
mod views;
