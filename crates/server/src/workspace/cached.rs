//! What almost every write reads and almost none changes, kept between transactions: the enabled
//! SLA policies (tried on every conversation write, `sla::step`), the inboxes with their
//! business hours compiled (routing, ingest, auto-replies and SLA timing read them), the
//! enabled automation rules (read by every write that changed a conversation), and the agents
//! (routing's roster, read by every inbound message in a routed inbox). Within one transaction
//! each kind's version is read once.
//!
//! Each is kept as of a version of its kind: the seq of the kind's latest change
//! (`StoreRead::kind_version`: one indexed lookup in the transaction, or on SQLite, whose store is
//! the file's one writer, the seq it last committed, `sqlite.rs::KindVersions`). A write
//! transaction holds the store's writer (SQLite's one connection, PostgreSQL's feed lock), so the
//! version it reads is the latest committed on any node: a policy edited through node A is read
//! afresh by node B's next write. A transaction that wrote the kind itself reads it fresh and keeps
//! nothing: its seq is not committed, and a rolled-back SQLite seq can be given again to another
//! change.
//!
//! The functions that read these run deep inside the write path (`sla::step` inside
//! `ledger::save`) and are handed only the transaction, so `Workspace::write` makes its
//! [`Caches`] the current ones for the thread running the transaction ([`within`]). Outside of
//! that, everything is read from the store, as before.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use switchboard_proto::{calendar::BusinessHours, sla::SlaPolicy, *};

use super::automation::RuleSet;

use crate::{
    refusal::Outcome,
    store::{StoreReadExt, StoreTx},
};

/// A value and the version of its kind it was read at.
type Kept<T> = Option<(i64, Arc<T>)>;

/// One value as of a version of its kind.
struct Versioned<T>(Arc<Mutex<Kept<T>>>);

impl<T> Clone for Versioned<T> {
    fn clone(&self) -> Self {
        Versioned(self.0.clone())
    }
}

impl<T> Default for Versioned<T> {
    fn default() -> Self {
        Versioned(Arc::default())
    }
}

impl<T> Versioned<T> {
    /// The value at the kind's version in `tx`; `slot` is the kind's place in [`Checked`]: the
    /// version is read once per transaction (a transaction holds the writer, so it can't change
    /// under it unless the transaction writes the kind itself, which reads afresh).
    fn get(
        &self,
        tx: &dyn StoreTx,
        kind: EntityKind,
        slot: usize,
        load: impl FnOnce(&dyn StoreTx) -> Outcome<T>,
    ) -> Outcome<Arc<T>> {
        if tx.wrote(kind) {
            return Ok(Arc::new(load(tx)?));
        }
        let version = match checked(slot) {
            Some(version) => version,
            None => {
                let version = tx.kind_version(kind)?;
                set_checked(slot, version);
                version
            }
        };
        if let Some((at, value)) = self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            if *at == version {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(load(tx)?);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((version, value.clone()));
        Ok(value)
    }
}

/// The version of each cached kind this transaction has read (SLA policies, inboxes, rules).
type Checked = [Option<i64>; 4];
const SLA_POLICIES: usize = 0;
const INBOXES: usize = 1;
const AUTOMATION_RULES: usize = 2;
const AGENTS: usize = 3;

fn checked(slot: usize) -> Option<i64> {
    CHECKED.with(|checked| checked.get()[slot])
}

fn set_checked(slot: usize, version: i64) {
    CHECKED.with(|checked| {
        let mut versions = checked.get();
        versions[slot] = Some(version);
        checked.set(versions);
    });
}

/// Every inbox, and the business hours of those that keep valid ones.
#[derive(Default)]
pub struct Inboxes {
    pub all: Vec<Inbox>,
    hours: HashMap<Id, BusinessHours>,
}

impl Inboxes {
    fn load(tx: &dyn StoreTx) -> Outcome<Inboxes> {
        let all: Vec<Inbox> = tx.all()?;
        let hours = all
            .iter()
            .filter_map(|inbox| {
                let hours = BusinessHours::new(inbox.hours.as_ref()?);
                if let Err(error) = &hours {
                    tracing::warn!(inbox = %inbox.id, %error, "an inbox's stored hours are invalid; treated as always open");
                }
                Some((inbox.id, hours.ok()?))
            })
            .collect();
        Ok(Inboxes { all, hours })
    }

    pub fn get(&self, id: Id) -> Option<&Inbox> {
        self.all.iter().find(|inbox| inbox.id == id)
    }

    /// The inbox's compiled hours (`None`: it keeps none, or they are invalid: always open).
    pub fn hours(&self, id: Id) -> Option<&BusinessHours> {
        self.hours.get(&id)
    }
}

/// A workspace's caches (cloning shares them).
#[derive(Clone, Default)]
pub struct Caches {
    sla_policies: Versioned<Vec<SlaPolicy>>,
    inboxes: Versioned<Inboxes>,
    automation_rules: Versioned<RuleSet>,
    agents: Versioned<Vec<Agent>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Caches>> = const { RefCell::new(None) };
    static CHECKED: Cell<Checked> = const { Cell::new([None; 4]) };
}

/// Runs `run` (one transaction, on this thread) with `caches` as the current ones, and no
/// version read yet.
pub(super) fn within<T>(caches: &Caches, run: impl FnOnce() -> T) -> T {
    struct Restore(Option<Caches>, Checked);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| *current.borrow_mut() = self.0.take());
            CHECKED.with(|checked| checked.set(self.1));
        }
    }
    let _restore = Restore(
        CURRENT.with(|current| current.borrow_mut().replace(caches.clone())),
        CHECKED.with(|checked| checked.replace([None; 4])),
    );
    run()
}

fn current() -> Option<Caches> {
    CURRENT.with(|current| current.borrow().clone())
}

/// The enabled SLA policies as `load` reads them, from the cache when they haven't changed.
pub(super) fn sla_policies(
    tx: &dyn StoreTx,
    load: impl FnOnce(&dyn StoreTx) -> Outcome<Vec<SlaPolicy>>,
) -> Outcome<Arc<Vec<SlaPolicy>>> {
    match current() {
        Some(caches) => caches.sla_policies.get(tx, EntityKind::SlaPolicy, SLA_POLICIES, load),
        None => Ok(Arc::new(load(tx)?)),
    }
}

/// The enabled automation rules as `load` reads them, from the cache when no rule has changed.
pub(super) fn automation_rules(
    tx: &dyn StoreTx,
    load: impl FnOnce(&dyn StoreTx) -> Outcome<RuleSet>,
) -> Outcome<Arc<RuleSet>> {
    match current() {
        Some(caches) => caches.automation_rules.get(tx, EntityKind::AutomationRule, AUTOMATION_RULES, load),
        None => Ok(Arc::new(load(tx)?)),
    }
}

/// Every agent as `load` reads them (routing's roster), from the cache when no agent has changed.
pub(super) fn agents(
    tx: &dyn StoreTx,
    load: impl FnOnce(&dyn StoreTx) -> Outcome<Vec<Agent>>,
) -> Outcome<Arc<Vec<Agent>>> {
    match current() {
        Some(caches) => caches.agents.get(tx, EntityKind::Agent, AGENTS, load),
        None => Ok(Arc::new(load(tx)?)),
    }
}

/// Every inbox with its compiled hours, from the cache when no inbox has changed.
pub(super) fn inboxes(tx: &dyn StoreTx) -> Outcome<Arc<Inboxes>> {
    match current() {
        Some(caches) => caches.inboxes.get(tx, EntityKind::Inbox, INBOXES, Inboxes::load),
        None => Ok(Arc::new(Inboxes::load(tx)?)),
    }
}
