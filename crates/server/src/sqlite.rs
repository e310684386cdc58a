//! `SqliteStore`: the embedded storage backend, one SQLite file in WAL mode.
//!
//! One writer connection behind a mutex serialises every write transaction; a pool of reader
//! connections serves reads from WAL snapshots. Because a transaction's changes are published on
//! the bus while the writer lock is still held, bus order is commit order is seq order.
//!
//! This module holds SQL and nothing else: every rule is in `workspace/`.

mod feed;
mod records;
mod schema;
mod verbs;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use switchboard_proto::{EntityKind, Id, Millis};

use crate::{
    bus::{Bus, BusEvent, TxRecords},
    refusal::Refusal,
    store::{Erased, ReadFn, Store, StoreError, WriteFn},
};

/// Reader connections kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

/// Prepared statements kept per connection: more than the verbs' distinct statements (one
/// `put`, `get` and `remove` per entity table, and each verb's own).
const STATEMENT_CACHE: usize = 256;

pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    bus: Arc<dyn Bus>,
    versions: KindVersions,
}

/// The seq of each kind's latest committed change, as far as this store knows it
/// (`StoreRead::kind_version` in a write). This process is the file's one writer (the writer
/// connection's mutex; several nodes share only a PostgreSQL database), so after a kind is read
/// once, every later change of it is one this store committed: each commit raises its kinds here,
/// still under the writer lock. A kind not known yet is read with `MAX(seq)` and remembered. The
/// cached SLA policies, inboxes, rules and agents (`workspace/cached.rs`) check their version in
/// every write transaction; over the 50 rules' and 50 policies' live changes that read was 70 k
/// instructions of an automated inbound message (docs/performance.md).
pub(crate) type KindVersions = Arc<Mutex<HashMap<EntityKind, i64>>>;

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`; committed changes are
    /// published on `bus`.
    pub fn open(path: &Path, bus: Arc<dyn Bus>) -> anyhow::Result<Self> {
        let mut writer = open_connection(path)?;
        schema::migrate(&mut writer)?;
        // The search index deletes a message's entries in place (FTS5's `secure-delete`, kept in
        // the index's config), so an erased message's words are not left in an older segment
        // until the next merge. Set at every open: idempotent, and no migration to number.
        writer
            .execute("INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1)", [])?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::default(),
            bus,
            versions: KindVersions::default(),
        })
    }
}

/// One read snapshot or write transaction, seen through the store traits (`verbs.rs`).
pub(crate) struct Sql<'c> {
    conn: &'c Connection,
    now: Millis,
    /// The feed records a write has appended so far, published after commit.
    records: TxRecords,
    /// The ledger events a write has appended and automation hasn't taken yet.
    events: Vec<switchboard_proto::ledger::ConversationEvent>,
    /// What the domain holds back until the rules have answered ([`crate::store::Held`]).
    held: crate::store::Held,
    /// The store's known kind versions, in a write transaction (reads query them).
    versions: Option<KindVersions>,
}

#[async_trait]
impl Store for SqliteStore {
    async fn read_erased(&self, now: Millis, read: ReadFn) -> Result<Erased, Refusal> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().map_err(|_| Refusal::internal("reader pool poisoned"))?.pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&path).map_err(Refusal::internal)?,
            };
            let value = {
                // A deferred transaction: every query of the closure sees the same snapshot.
                let snapshot = conn.transaction().map_err(StoreError::from)?;
                let value = read(&Sql {
                    conn: &snapshot,
                    now,
                    records: TxRecords::default(),
                    events: Vec::new(),
                    held: Default::default(),
                    versions: None,
                });
                drop(snapshot);
                value
            };
            if let Ok(mut idle) = readers.lock() {
                if idle.len() < MAX_IDLE_READERS {
                    idle.push(conn);
                }
            }
            value
        })
        .await
        .map_err(Refusal::internal)?
    }

    async fn scrub(&self) -> Result<(), Refusal> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let conn = writer.lock().map_err(|_| Refusal::internal("writer lock poisoned"))?;
            // `secure_delete` zeroed what was deleted in the pages, and the FTS index removed its
            // entries in place (`secure-delete`, schema.rs); the WAL still holds the pages as they
            // were before: copy it into the database and cut it to nothing. Readers holding an
            // older snapshot make the checkpoint wait (busy timeout), not fail.
            let (busy, _, _): (i64, i64, i64) = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .map_err(StoreError::from)?;
            if busy != 0 {
                tracing::warn!("the WAL could not be truncated after an erasure: a reader held it");
            }
            Ok(())
        })
        .await
        .map_err(Refusal::internal)?
    }

    async fn write_erased(&self, now: Millis, write: WriteFn) -> Result<Erased, Refusal> {
        let writer = self.writer.clone();
        let bus = self.bus.clone();
        let versions = self.versions.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().map_err(|_| Refusal::internal("writer lock poisoned"))?;
            let tx =
                conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::from)?;
            let mut sql = Sql {
                conn: &tx,
                now,
                records: TxRecords::default(),
                events: Vec::new(),
                held: Default::default(),
                versions: Some(versions.clone()),
            };
            let value = write(&mut sql)?;
            let records = std::mem::take(&mut sql.records);
            tx.commit().map_err(StoreError::from)?;
            if !records.is_empty() {
                // Committed: this transaction's changes are each kind's latest (seqs only grow).
                let mut known = versions.lock().unwrap_or_else(PoisonError::into_inner);
                for record in records.iter() {
                    let seq = known.entry(record.change.entity).or_insert(0);
                    *seq = (*seq).max(record.change.seq);
                }
            }
            if !records.is_empty() {
                // Still under the writer lock: bus order is commit order.
                bus.publish(BusEvent::Changes(records.into_vec().into()));
            }
            Ok(value)
        })
        .await
        .map_err(Refusal::internal)?
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // What is deleted or overwritten is zeroed in its page, so an erasure leaves no text behind
    // in the file (`workspace/privacy.rs`); the pages are written anyway, so it costs little.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every statement the verbs run stays prepared (`records::Cached`); rusqlite keeps 16.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError(format!("sqlite: {error}"))
    }
}

/// An id stored as text.
fn parse_id(text: &str) -> Result<Id, StoreError> {
    text.parse().map_err(|e| StoreError(format!("stored id {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use switchboard_proto::{EntityKind, Id, Team};

    use crate::{
        bus::LocalBus,
        refusal::Refusal,
        store::{Audience, Store, StoreTxExt},
    };

    /// A write answers each kind's version from what the store committed (`KindVersions`), and
    /// that is always what the feed says (`MAX(seq)` of the kind's live changes, as a read asks
    /// it): after a put, a second put, a write that rolled back, a removal, and for a kind never
    /// written. The cached policies, inboxes, rules and agents are only as right as this.
    #[tokio::test]
    async fn a_write_knows_each_kinds_latest_committed_change_as_the_feed_does() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn Store> = Arc::new(
            super::SqliteStore::open(&dir.path().join("db.sqlite"), Arc::new(LocalBus::new(16)))
                .expect("open"),
        );
        let agree = async |when: &str| -> i64 {
            let read = store.read(0, |store| Ok(store.kind_version(EntityKind::Team)?)).await.expect("read");
            let written = store
                .write(0, |tx| Ok((tx.kind_version(EntityKind::Team)?, tx.kind_version(EntityKind::Label)?)))
                .await
                .expect("write");
            let label =
                store.read(0, |store| Ok(store.kind_version(EntityKind::Label)?)).await.expect("read");
            assert_eq!(written, (read, label), "{when}");
            read
        };
        assert_eq!(agree("nothing written").await, 0);
        let team = Team { id: Id::now_v7(), name: "Support".into() };
        let put = async |team: Team| {
            store.write(0, move |tx| Ok(tx.put(&team, Audience::EVERYONE)?)).await.expect("put");
        };
        put(team.clone()).await;
        let first = agree("after a put").await;
        assert!(first > 0);
        put(Team { name: "Sales".into(), ..team.clone() }).await;
        let second = agree("after a second put").await;
        assert!(second > first);
        let rolled_back = store
            .write(0, |tx| -> Result<(), Refusal> {
                tx.put(&Team { id: Id::now_v7(), name: "Gone".into() }, Audience::EVERYONE)?;
                // In the transaction that wrote it, the kind is read afresh.
                assert!(tx.kind_version(EntityKind::Team)? > 0);
                Err(Refusal::validation("roll back"))
            })
            .await;
        assert!(rolled_back.is_err());
        assert_eq!(agree("after a rollback").await, second);
        store
            .write(0, move |tx| Ok(tx.remove(EntityKind::Team, team.id, Audience::EVERYONE)?))
            .await
            .expect("remove");
        assert!(agree("after a removal").await > second);
    }
}
