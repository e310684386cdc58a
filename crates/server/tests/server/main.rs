//! Integration tests: the real server, started in-process on 127.0.0.1:0 with a temporary data
//! directory, driven over HTTP and WebSocket like a client would.

mod harness;

mod attachments;
mod audit;
mod auth;
mod auto_replies;
mod automation;
mod bad_input;
mod bootstrap;
mod channel;
mod connector_test;
mod connectors;
mod contacts;
mod database_tls;
mod demo;
mod email;
mod erasure;
mod escalation;
mod feed;
mod fuzz;
mod graph_emulator;
mod inbox_visibility;
mod label_names;
mod ledger;
mod messenger;
mod meta_emulator;
mod mutations;
mod new_conversation;
mod nodes;
mod presence;
mod quick_replies;
mod reports;
mod retry;
mod routing;
mod saved_views;
mod search;
mod sla;
mod stream;
mod team_admin;
mod telegram;
mod telegram_emulator;
mod two_factor;
mod visibility;
mod whatsapp;
mod widget;
