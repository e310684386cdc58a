//! The domain: every operation of a workspace, backend-agnostic, one file per operation or small
//! area. Each is written against the narrow store (`store.rs`) inside one read snapshot or one
//! write transaction, applies the pure rules of `rules.rs` and the checks of `policy.rs`, and
//! answers with a [`Refusal`] (an `ErrorCode`, never an HTTP status) when it won't.
//!
//! [`Workspace`] is what the HTTP layer, the demo and the background jobs hold: the store, the
//! bus and the clock. Its methods are spread over the files below, each beside its rules.

mod accounts;
mod agents;
mod attachments;
mod audit;
mod auto_replies;
mod automation;
mod bootstrap;
mod cached;
mod connectors;
mod contacts;
mod conversations;
mod deliveries;
mod directory;
mod email;
mod exports;
mod feed;
mod idempotency;
mod ingest;
mod ledger;
mod presence;
mod privacy;
mod quick_replies;
mod reports;
mod routing;
mod saved_views;
mod sla;
mod telegram;
mod timers;
mod two_factor;
mod widget;

use std::sync::Arc;

use switchboard_proto::*;

pub use self::{
    audit::{AuditHead, AuditQuery},
    deliveries::{PendingDelivery, MAX_DELIVERY_ATTEMPTS},
    email::{mailbox_of, outgoing_message_id, InboundEmail, MailboxCursor, OutgoingEmail},
    feed::{cursor_check, Verdict, Visibility},
    presence::{run_presence, HEARTBEAT, NODE_SILENT_AFTER},
    reports::{cycles_csv, series_csv, summary_csv, ReportQuery},
    timers::run_timers,
    widget::{Visitor, VisitorAttachment, VisitorMessage, WidgetSession},
};
use crate::{
    bus::{Bus, BusEvent},
    clock::Clock,
    refusal::Outcome,
    store::{Store, StoreRead, StoreTx},
};

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub agent: Agent,
    pub device_id: Id,
}

/// The first admin of a fresh workspace, as a viewer without a device (the unit tests' set-up).
#[cfg(test)]
pub(crate) async fn first_test_admin(workspace: &Workspace) -> Viewer {
    let admin = workspace
        .create_first_admin(CreateAgent {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            role: Role::Admin,
            password: "correct horse battery".into(),
            team_ids: vec![],
        })
        .await
        .expect("admin");
    Viewer { agent: admin, device_id: Id::nil() }
}

/// A mutation of one conversation, each idempotent on its `client_id`.
#[derive(Debug, Clone)]
pub enum ConversationAction {
    Send(SendMessage),
    Assign(AssignRequest),
    Status(StatusRequest),
    Labels(LabelsRequest),
    Priority(PriorityRequest),
    Escalation(EscalationRequest),
    Read(ReadRequest),
    Pin {
        pinned: bool,
    },
    /// Queue a failed outgoing message for delivery again.
    Retry {
        message_id: Id,
        request: RetryRequest,
    },
}

/// A file the HTTP layer has already written to the content-addressed store.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
}

/// One workspace's domain over a storage backend.
#[derive(Clone)]
pub struct Workspace {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    /// This server process's node id (presence is counted per node).
    node: Arc<str>,
    streams: presence::LocalStreams,
    /// The SLA policies and the inboxes, re-read when they change (`cached.rs`).
    caches: cached::Caches,
    /// The attachment store, where an erasure deletes files (`privacy.rs`); set by `launch`.
    files: Option<crate::files::FileStore>,
}

impl Workspace {
    /// Commits reach `bus` in seq order: SQLite's store publishes them itself, under its writer
    /// lock; on PostgreSQL each node's feed tailer publishes every node's commits.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, clock: Arc<dyn Clock>, node: &str) -> Self {
        Workspace {
            store,
            bus,
            clock,
            node: node.into(),
            streams: Default::default(),
            caches: Default::default(),
            files: None,
        }
    }

    /// The attachment store erasures and retention delete files from.
    pub fn with_files(mut self, files: crate::files::FileStore) -> Self {
        self.files = Some(files);
        self
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Runs `read` inside one snapshot of the store.
    async fn read<T, F>(&self, read: F) -> Outcome<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn StoreRead) -> Outcome<T> + Send + 'static,
    {
        self.store.read(self.clock.now(), read).await
    }

    /// Runs `write` inside one transaction: all of it commits, with its feed records and what the
    /// automation rules did about its changes, or nothing.
    async fn write<T, F>(&self, write: F) -> Outcome<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn StoreTx) -> Outcome<T> + Send + 'static,
    {
        let caches = self.caches.clone();
        self.store
            .write(self.clock.now(), move |tx| {
                cached::within(&caches, || {
                    let (value, grew) = conversations::holding_lines(tx, |tx| {
                        let value = write(tx)?;
                        let grew = automation::answer(tx)?;
                        // The rules' answer writes a held new conversation; nothing is left held.
                        ledger::write_held(tx)?;
                        Ok((value, grew))
                    })?;
                    reports::ledger_grew(tx, &grew)?;
                    Ok(value)
                })
            })
            .await
    }

    /// Closes the streams of devices whose tokens were just revoked.
    fn revoked(&self, devices: Vec<Id>) {
        if !devices.is_empty() {
            self.bus.publish(BusEvent::Revoked(devices.into()));
        }
    }
}
