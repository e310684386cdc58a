//! `PostgresStore`: the storage backend for a PostgreSQL database that several nodes may share.
//!
//! It has the shape of the SQLite backend: the blocking `postgres` client on tokio's blocking
//! pool, one writer connection behind a mutex and a small pool of reader connections. Every write
//! transaction takes the feed's advisory lock as its first statement, so commits are serialised
//! across every node on the database and seqs (from the `feed_seq` sequence, assigned under the
//! lock) are in commit order. A transaction's changes are published on the bus after commit while
//! the writer mutex is still held, so bus order is commit order is seq order in this node.
//!
//! This module holds SQL and nothing else: every rule is in `workspace/`.

mod fanout;
mod feed;
mod records;
mod schema;
mod search;
mod tls;
mod verbs;

use std::{
    cell::RefCell,
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use ::postgres::{Client, IsolationLevel, Statement, Transaction};
use async_trait::async_trait;
use switchboard_proto::{Id, Millis};

pub use self::fanout::{Fanout, REVOCATION_RECHECK};
use crate::{
    bus::TxRecords,
    refusal::Refusal,
    store::{Erased, ReadFn, Store, StoreError, WriteFn},
};

/// Reader connections kept open for reuse.
const MAX_IDLE_READERS: usize = 4;

/// The advisory lock every write transaction takes first: one writer at a time across all nodes.
const FEED_LOCK: i64 = 7300;

/// How long a write waits for the feed lock, and how long one statement may run, before the
/// transaction fails: a hung transaction must not stop every node's writes.
const LOCK_TIMEOUT: &str = "10s";
const STATEMENT_TIMEOUT: &str = "30s";
/// A session idle inside a transaction this long is ended by the server (its lock released).
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";

/// A PostgreSQL connection URL; its `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    /// The URL with its password, for connecting. Never log this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL of another database on the same server (same authority and parameters).
    pub fn with_database(&self, database: &str) -> DatabaseUrl {
        let url = &self.0;
        let (base, params) = match url.split_once('?') {
            Some((base, params)) => (base, Some(params)),
            None => (url.as_str(), None),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let authority_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
        let mut out = format!("{}/{database}", &base[..authority_end]);
        if let Some(params) = params {
            out.push('?');
            out.push_str(params);
        }
        DatabaseUrl(out)
    }

    /// Creates the database `name` on this URL's server if it does not exist, and returns its URL.
    /// `name` must be a plain identifier (letters, digits, `_`); through a role that may create
    /// databases. Blocking: call it off the async runtime.
    pub fn create_database(&self, name: &str) -> anyhow::Result<DatabaseUrl> {
        anyhow::ensure!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a database name of letters, digits and _ only, not {name:?}"
        );
        // CREATE DATABASE copies template1, which allows one copy at a time.
        static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = CREATING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut client = tls::Connector::new(self)?.connect_blocking("switchboard-admin")?;
        if client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?.is_none() {
            client.batch_execute(&format!("CREATE DATABASE {name}"))?;
        }
        Ok(self.with_database(name))
    }

    /// The URL with any password (in the user part or a `password=` parameter) replaced.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let mut out = match (url.find("://"), url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &url[scheme_end + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => format!("{}{user}:<redacted>{}", &url[..scheme_end + 3], &url[at..]),
                    None => url.clone(),
                }
            }
            _ => url.clone(),
        };
        if let Some(start) = out.find("password=") {
            let value_start = start + "password=".len();
            let value_end = out[value_start..].find(['&', ' ']).map_or(out.len(), |end| value_start + end);
            out.replace_range(value_start..value_end, "<redacted>");
        }
        out
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

pub struct PostgresStore {
    connections: Arc<Connections>,
    /// Told of each commit; its tailer publishes the commit on the node's bus.
    fanout: Arc<Fanout>,
}

/// The node's connections to the database.
struct Connections {
    connector: tls::Connector,
    /// `None` until the first write, and after the connection broke (the next write reconnects).
    writer: Mutex<Option<Conn>>,
    readers: Mutex<Vec<Conn>>,
}

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

impl Drop for Connections {
    fn drop(&mut self) {
        let writer = self.writer.get_mut().ok().and_then(Option::take);
        let readers = self.readers.get_mut().map(std::mem::take).unwrap_or_default();
        close_later(writer.into_iter().chain(readers).collect());
    }
}

/// Closes connections on a thread of their own: a blocking client runs its own small runtime,
/// which must not be dropped (and cannot say goodbye to the server) on an async worker thread.
fn close_later(clients: Vec<Conn>) {
    if !clients.is_empty() {
        std::thread::spawn(move || drop(clients));
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and brings its schema up to date (once, however many
    /// nodes start together); committed changes reach the node's bus through `fanout`'s tailer.
    pub fn open(url: &DatabaseUrl, fanout: Arc<Fanout>) -> anyhow::Result<Self> {
        let connector = tls::Connector::new(url)?;
        tracing::debug!(database = %url, tls = connector.encrypted(), "connecting");
        // The blocking client must not run on an async worker thread: connect on a thread of our own.
        let writer = std::thread::scope(|scope| {
            scope
                .spawn(|| -> anyhow::Result<Conn> {
                    let mut writer = connect(&connector, Role::Writer)?;
                    schema::migrate(&mut writer.client)?;
                    Ok(writer)
                })
                .join()
                .map_err(|_| anyhow::anyhow!("connecting to {url} panicked"))?
        })?;
        Ok(PostgresStore {
            connections: Arc::new(Connections {
                connector,
                writer: Mutex::new(Some(writer)),
                readers: Mutex::default(),
            }),
            fanout,
        })
    }
}

#[derive(Clone, Copy)]
enum Role {
    Writer,
    Reader,
}

fn connect(connector: &tls::Connector, role: Role) -> Result<Conn, ::postgres::Error> {
    let name = match role {
        Role::Writer => "switchboard-writer",
        Role::Reader => "switchboard-reader",
    };
    let mut client = connector.connect_blocking(name)?;
    client.batch_execute(&format!(
        "SET statement_timeout = '{STATEMENT_TIMEOUT}';
         SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"
    ))?;
    Ok(Conn { client, statements: HashMap::new() })
}

/// One read snapshot or write transaction, seen through the store traits (`verbs.rs`).
///
/// The client's transaction needs `&mut` for every query while the read verbs take `&self`, hence
/// the `RefCell`: one verb runs at a time, so a borrow never overlaps another.
pub(crate) struct Pg<'c> {
    tx: RefCell<Transaction<'c>>,
    statements: RefCell<&'c mut HashMap<String, Statement>>,
    now: Millis,
    /// The feed records a write has appended so far, published after commit.
    records: TxRecords,
    /// The ledger events a write has appended and automation hasn't taken yet.
    events: Vec<switchboard_proto::ledger::ConversationEvent>,
    /// What the domain holds back until the rules have answered ([`crate::store::Held`]).
    held: crate::store::Held,
}

#[async_trait]
impl Store for PostgresStore {
    async fn read_erased(&self, now: Millis, read: ReadFn) -> Result<Erased, Refusal> {
        let connections = self.connections.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = connections.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut client = match pooled {
                Some(client) if !client.is_closed() => client,
                stale => {
                    close_later(stale.into_iter().collect());
                    connect(&connections.connector, Role::Reader).map_err(StoreError::from)?
                }
            };
            let value = read_in_snapshot(&mut client, now, read);
            if client.is_closed() {
                close_later(vec![client]);
            } else {
                let mut idle = connections.readers.lock().unwrap_or_else(PoisonError::into_inner);
                if idle.len() < MAX_IDLE_READERS {
                    idle.push(client);
                } else {
                    drop(idle);
                    close_later(vec![client]);
                }
            }
            value
        })
        .await
        .map_err(Refusal::internal)?
    }

    async fn scrub(&self) -> Result<(), Refusal> {
        let connections = self.connections.clone();
        tokio::task::spawn_blocking(move || {
            // A connection of its own: VACUUM can't run inside a transaction, and it must not
            // hold the writer while it works.
            let mut conn = connect(&connections.connector, Role::Writer).map_err(StoreError::from)?;
            wait_for_older_snapshots(&mut conn.client).map_err(StoreError::from)?;
            // The erased rows' old versions are dead tuples, and a plain VACUUM only marks their
            // space free: the bytes stay in the page, and the search index's GIN entries stay
            // (erasure.rs's raw search found both; writing garbage over a row before deleting it
            // leaves the old version just the same). VACUUM (FULL) writes each table, its TOAST
            // and its indexes anew from the live rows and drops the old files. It holds each
            // table exclusively while it copies it (about 7 s for 1M feed-sized rows, 461 MB, on
            // a busy 2-core machine, where a plain VACUUM took 0.6 s): erasures are rare, and
            // leaving the text is what the erasure exists to prevent. Every table an erasure
            // deletes from or rewrites.
            conn.client
                .batch_execute(
                    "VACUUM (FULL) changes, messages, conversations, contacts, contact_identities, message_search,
                     attachments, inbound_ids, mutations, deliveries, provider_messages, timers, email_state",
                )
                .map_err(StoreError::from)?;
            close_later(vec![conn]);
            Ok(())
        })
        .await
        .map_err(Refusal::internal)?
    }

    async fn write_erased(&self, now: Millis, write: WriteFn) -> Result<Erased, Refusal> {
        let connections = self.connections.clone();
        let fanout = self.fanout.clone();
        tokio::task::spawn_blocking(move || {
            // A panicking write rolled its transaction back while unwinding: the client is reusable.
            let mut slot = connections.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let client = match slot.take() {
                Some(client) if !client.is_closed() => client,
                stale => {
                    close_later(stale.into_iter().collect());
                    connect(&connections.connector, Role::Writer).map_err(StoreError::from)?
                }
            };
            let client = slot.insert(client);
            let result = write_in_transaction(client, now, write, &fanout);
            if client.is_closed() {
                // Reconnect on the next write instead of failing forever.
                close_later(slot.take().into_iter().collect());
            }
            result
        })
        .await
        .map_err(Refusal::internal)?
    }
}

/// Runs `read` in one `REPEATABLE READ READ ONLY` transaction: every query sees one snapshot.
fn read_in_snapshot(conn: &mut Conn, now: Millis, read: ReadFn) -> Result<Erased, Refusal> {
    let snapshot = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(StoreError::from)?;
    let statements = RefCell::new(&mut conn.statements);
    let pg = Pg {
        tx: RefCell::new(snapshot),
        statements,
        now,
        records: TxRecords::default(),
        events: Vec::new(),
        held: Default::default(),
    };
    let value = read(&pg);
    // Nothing to keep; a failure here (a broken connection) is seen by the pool.
    let _ = pg.tx.into_inner().commit();
    value
}

/// Runs `write` in one READ COMMITTED transaction that holds the feed lock from its first
/// statement, commits it if `write` succeeds, and rings the feed's doorbell if it appended changes:
/// a `pg_notify` in the transaction (sent by the server only if it commits) for every node, and a
/// local kick for this node's tailer, which publishes the records.
fn write_in_transaction(
    conn: &mut Conn,
    now: Millis,
    write: WriteFn,
    fanout: &Fanout,
) -> Result<Erased, Refusal> {
    let mut tx = conn.client.transaction().map_err(StoreError::from)?;
    // One round trip: the timeouts for this transaction, then the lock. Nothing before the lock
    // reads data; at READ COMMITTED every later statement sees the previous holder's commit.
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';
         SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}';
         SELECT pg_advisory_xact_lock({FEED_LOCK})"
    ))
    .map_err(StoreError::from)?;
    let statements = RefCell::new(&mut conn.statements);
    let mut pg = Pg {
        tx: RefCell::new(tx),
        statements,
        now,
        records: TxRecords::default(),
        events: Vec::new(),
        held: Default::default(),
    };
    // On a refusal `pg` is dropped here and its transaction rolled back.
    let value = write(&mut pg)?;
    let head = pg.records.last().map(|record| record.change.seq);
    if let Some(head) = head {
        // Only a hint: the tailer reads the rows, so the payload is just the new head.
        pg.execute("SELECT pg_notify($1::text, $2::text)", &[&fanout::FEED_CHANNEL, &head.to_string()])?;
    }
    pg.tx.into_inner().commit().map_err(StoreError::from)?;
    if head.is_some() {
        fanout.committed();
    }
    Ok(value)
}

/// How long an erasure's scrub waits for transactions older than the erasure to end.
const OLDER_SNAPSHOTS_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Before an erasure's rewrite: waits until no other session of this database holds a snapshot
/// or a transaction older than the erasure. VACUUM (FULL) copies every row some running
/// transaction may still see, so an erased row a snapshot from before the erasure can see would
/// be written into the new table as it was (erasure.rs's
/// `an_erasure_waits_for_older_snapshots_before_rewriting` saw it). The server's own reads last
/// one request; after a minute the rewrite goes ahead anyway, with a warning.
fn wait_for_older_snapshots(client: &mut Client) -> Result<(), ::postgres::Error> {
    // A transaction id taken now, after the erasure committed: a session whose snapshot's xmin
    // and own xid are both this or newer sees the erasure, as does VACUUM's horizon.
    let marker: String =
        client.query_one("SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text", &[])?.get(0);
    let started = std::time::Instant::now();
    loop {
        let older: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND backend_type = 'client backend'
                   AND (age(backend_xmin) > age($1::text::xid) OR age(backend_xid) > age($1::text::xid))",
                &[&marker],
            )?
            .get(0);
        if older == 0 {
            return Ok(());
        }
        if started.elapsed() > OLDER_SNAPSHOTS_WAIT {
            tracing::warn!(
                sessions = older,
                "transactions older than an erasure are still running: the erased rows they can see stay in the rewritten tables"
            );
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(error: ::postgres::Error) -> Self {
        match error.as_db_error() {
            Some(db) => StoreError(format!("postgres: {} ({})", db.message(), db.code().code())),
            None => StoreError(format!("postgres: {error}")),
        }
    }
}

/// An id stored as text.
fn parse_id(text: &str) -> Result<Id, StoreError> {
    text.parse().map_err(|e| StoreError(format!("stored id {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn another_database_keeps_the_authority_and_parameters() {
        let with_database =
            |url: &str, name: &str| DatabaseUrl::new(url).with_database(name).expose().to_owned();
        assert_eq!(
            with_database("postgresql:///postgres?host=/tmp/pg&user=postgres", "test_1"),
            "postgresql:///test_1?host=/tmp/pg&user=postgres"
        );
        assert_eq!(with_database("postgres://u:p@db:5432/admin", "test_2"), "postgres://u:p@db:5432/test_2");
        assert_eq!(with_database("postgres://db", "test_3"), "postgres://db/test_3");
        assert!(
            DatabaseUrl::new("postgres://db").create_database("x; DROP").is_err(),
            "names are identifiers"
        );
    }

    #[test]
    fn database_urls_never_show_their_password() {
        let cases = [
            ("postgres://sb:hunter2@db.example:5432/sb", "postgres://sb:<redacted>@db.example:5432/sb"),
            ("postgresql://sb@localhost/sb", "postgresql://sb@localhost/sb"),
            (
                "postgres:///sb?host=/tmp&password=hunter2&user=sb",
                "postgres:///sb?host=/tmp&password=<redacted>&user=sb",
            ),
            ("host=/tmp password=hunter2 user=sb", "host=/tmp password=<redacted> user=sb"),
        ];
        for (url, shown) in cases {
            let url = DatabaseUrl::new(url);
            assert_eq!(url.to_string(), shown, "Display redacts");
            assert!(!format!("{url:?}").contains("hunter2"), "Debug redacts: {url:?}");
        }
    }
}
