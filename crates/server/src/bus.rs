//! The change bus: how committed changes and ephemeral events reach every open stream.
//!
//! `stream.rs` only sees the [`Bus`] trait, so it does not care whether the bus is this process's
//! own ([`LocalBus`], a `tokio::sync::broadcast`) or shared by several nodes (a node that hears
//! of another node's commit re-reads the feed and publishes here, in seq order).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use switchboard_proto::{Change, ChangeOp, EntityKind, Id, ServerFrame};
use tokio::sync::broadcast;

/// Which inboxes an agent may see.
#[derive(Debug, Clone, PartialEq)]
pub enum VisibleInboxes {
    All,
    Only(HashSet<Id>),
}

impl VisibleInboxes {
    pub fn contains(&self, inbox_id: &Id) -> bool {
        match self {
            VisibleInboxes::All => true,
            VisibleInboxes::Only(ids) => ids.contains(inbox_id),
        }
    }
}

/// A committed change with what decides who may receive it.
#[derive(Debug, Clone)]
pub struct FeedRecord {
    pub change: Change,
    /// Set when the change belongs to a conversation of this inbox.
    pub inbox_id: Option<Id>,
    /// Set when only this agent may receive it (pins, read markers, personal canned responses).
    pub scope_agent: Option<Id>,
    /// The change as JSON, rendered once by the first stream that sends it: with thousands of
    /// streams open, serialising per stream was the fan-out's main cost.
    pub rendered: std::sync::OnceLock<Box<str>>,
    /// The cursor check of this change's seq, made once like `rendered`.
    pub check: std::sync::OnceLock<Box<str>>,
}

impl FeedRecord {
    pub fn new(change: Change, inbox_id: Option<Id>, scope_agent: Option<Id>) -> Self {
        FeedRecord {
            change,
            inbox_id,
            scope_agent,
            rendered: std::sync::OnceLock::new(),
            check: std::sync::OnceLock::new(),
        }
    }

    /// [`crate::workspace::cursor_check`] of this change, for a frame whose `next` it is.
    pub fn cursor_check(&self) -> &str {
        self.check.get_or_init(|| {
            crate::workspace::cursor_check(self.change.seq, self.change.entity, self.change.id).into()
        })
    }

    /// The change as JSON, as a `changes` frame carries it.
    pub fn change_json(&self) -> &str {
        self.rendered.get_or_init(|| {
            // A change is ids, enums and a JSON value: serialising it cannot fail.
            serde_json::to_string(&self.change).unwrap_or_default().into_boxed_str()
        })
    }

    pub fn visible_to(&self, agent_id: Id, inboxes: &VisibleInboxes) -> bool {
        self.scope_agent.is_none_or(|owner| owner == agent_id)
            && self.inbox_id.is_none_or(|inbox| inboxes.contains(&inbox))
    }
}

/// The feed records one write transaction has appended so far, in seq order, published after
/// commit; both stores keep their transaction's records here.
///
/// An entity written again in the same transaction keeps one change: the store rewrites the data
/// of the transaction's earlier change of it, under that change's seq, instead of superseding it
/// and appending another. Nobody outside the transaction has seen the earlier change, so no reader
/// can miss anything; the feed gets one change per entity per transaction, and a new customer
/// conversation that is created, routed and labelled by a rule in one transaction writes one
/// change instead of three (docs/performance.md, the automation rows).
#[derive(Debug, Default)]
pub struct TxRecords {
    records: Vec<FeedRecord>,
    /// The index of each entity's latest record, keyed by kind, id and scope agent.
    latest: HashMap<(EntityKind, Id, Option<Id>), usize>,
}

impl TxRecords {
    pub fn push(&mut self, record: FeedRecord) {
        let key = (record.change.entity, record.change.id, record.scope_agent);
        self.latest.insert(key, self.records.len());
        self.records.push(record);
    }

    /// What this transaction last wrote of an entity (`Some(None)`: it removed it), if it wrote
    /// it at all: the same JSON its row holds, so a read of it needn't go back to the database
    /// and parse the row again.
    pub fn written(
        &self,
        entity: EntityKind,
        id: Id,
        scope_agent: Option<Id>,
    ) -> Option<Option<&serde_json::Value>> {
        let record = &self.records[*self.latest.get(&(entity, id, scope_agent))?];
        Some(record.change.data.as_ref())
    }

    /// The seq of this transaction's upsert of the entity, when a new upsert of it for the same
    /// audience may rewrite that change in place.
    pub fn rewritable(
        &self,
        entity: EntityKind,
        id: Id,
        inbox_id: Option<Id>,
        scope_agent: Option<Id>,
    ) -> Option<i64> {
        let record = &self.records[*self.latest.get(&(entity, id, scope_agent))?];
        (record.change.op == ChangeOp::Upsert && record.inbox_id == inbox_id).then_some(record.change.seq)
    }

    /// Replaces the data of the latest record of the entity (see [`TxRecords::rewritable`]).
    pub fn rewrite(
        &mut self,
        entity: EntityKind,
        id: Id,
        scope_agent: Option<Id>,
        data: Option<serde_json::Value>,
    ) {
        if let Some(&index) = self.latest.get(&(entity, id, scope_agent)) {
            let record = &mut self.records[index];
            let Change { seq, entity, id, op, .. } = record.change;
            *record =
                FeedRecord::new(Change { seq, entity, id, op, data }, record.inbox_id, record.scope_agent);
        }
    }

    pub fn into_vec(self) -> Vec<FeedRecord> {
        self.records
    }
}

impl std::ops::Deref for TxRecords {
    type Target = [FeedRecord];

    fn deref(&self) -> &[FeedRecord] {
        &self.records
    }
}

/// What flows from storage and the domain to the WebSocket streams.
#[derive(Debug, Clone)]
pub enum BusEvent {
    /// One transaction's changes, published in commit (= seq) order.
    Changes(Arc<[FeedRecord]>),
    /// Typing, viewing and presence: not in the feed, only for those who can see `inbox_id`.
    Ephemeral { inbox_id: Option<Id>, from_agent: Id, frame: ServerFrame },
    /// These devices' tokens were revoked: close their streams.
    Revoked(Arc<[Id]>),
}

/// Carries [`BusEvent`]s to every subscriber. A subscriber that falls more than the bus's capacity
/// behind gets `RecvError::Lagged` and must catch up from the feed.
pub trait Bus: Send + Sync + 'static {
    /// Publishes an event; having no subscribers is fine (nobody is streaming).
    fn publish(&self, event: BusEvent);
    fn subscribe(&self) -> broadcast::Receiver<BusEvent>;
}

/// The bus of a single server process.
pub struct LocalBus {
    sender: broadcast::Sender<BusEvent>,
}

impl LocalBus {
    /// `capacity` is how many events a stream may fall behind before it is cut off.
    pub fn new(capacity: usize) -> Self {
        LocalBus { sender: broadcast::channel(capacity.max(1)).0 }
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: BusEvent) {
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.sender.subscribe()
    }
}
