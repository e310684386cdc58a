//! Live fan-out across the nodes that share one PostgreSQL database: every node hears of every
//! commit (its own and other nodes') and of other nodes' ephemeral events and revocations.
//!
//! **The feed tailer.** Each node runs one task that reads `changes WHERE seq > last ORDER BY seq`
//! and publishes each transaction's rows (grouped by `tx_seq`) on the node's local bus as one
//! [`BusEvent::Changes`], in seq order. It is the *only* publisher of feed records on a node with
//! PostgreSQL, its own commits included: if a writer published its own commit directly, node A's
//! seq 12 could reach A's bus before the tailer had read seq 11 from node B, and a stream would
//! then skip 11 as already seen. Commits are serialised through the feed lock and a transaction is
//! visible before it releases that lock, so a statement that sees seq N also sees every committed
//! seq below N: reading from `last` never skips a commit that becomes visible later.
//!
//! The tailer wakes on `LISTEN switchboard_feed` (each write transaction calls `pg_notify` under
//! the feed lock, so the notification goes out only if and when it commits), on a local kick after
//! this node's own commits (no round trip through the server for same-node latency), and on a
//! 1 s timer. A notification is only a doorbell: one lost while the listener reconnects costs
//! latency, never data, because the tailer re-reads from `last` after every reconnect.
//!
//! **Ephemeral events and revocations** (typing, viewing, presence, revoked devices) are published
//! on the local bus at once and sent to the other nodes as small JSON `pg_notify` payloads on
//! `switchboard_events`, tagged with this node's id so it ignores its own. A lost one is a lost
//! typing indicator, except for revocation, whose truth is `devices.revoked_at`: the tailer
//! re-reads the revoked devices after every (re)connect and every [`REVOCATION_RECHECK`] and
//! publishes the newly revoked ones, so a revoked device's stream closes on every node even when
//! the notification was lost.
//!
//! The listener uses `tokio-postgres` (which the blocking `postgres` client wraps) rather than the
//! blocking client on a thread of its own: the task must wait on notifications, the local kick,
//! the timer, outgoing events and shutdown at once, which `tokio::select!` gives directly, while a
//! blocking client can only wait on its own notifications. Its connection is driven by a task
//! that forwards `AsyncMessage::Notification`s from `Connection::poll_message` to the tailer. The
//! same connection runs the tailer's reads: each is one autocommit statement, so the session is
//! never left idle in a transaction (which would hold notifications back).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::Context;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_proto::{Change, ChangeOp, EntityKind, Id, ServerFrame};
use tokio::sync::{broadcast, mpsc, Notify};
use tokio_postgres::{AsyncMessage, Client, Notification, Row, Statement};
use tokio_util::sync::CancellationToken;

use super::{parse_id, DatabaseUrl, STATEMENT_TIMEOUT};
use crate::bus::{Bus, BusEvent, FeedRecord, LocalBus};

/// The channel write transactions notify on commit; the payload is the new head seq (a hint only).
pub(super) const FEED_CHANNEL: &str = "switchboard_feed";
/// The channel of ephemeral events and revocations between nodes (JSON [`Envelope`]s).
const EVENTS_CHANNEL: &str = "switchboard_events";
/// How often the tailer reads the feed even when nothing rang.
const FALLBACK: Duration = Duration::from_secs(1);
/// How often the revoked devices are re-read, in case a revocation's notification was lost.
pub const REVOCATION_RECHECK: Duration = Duration::from_secs(5);
/// Rows read per query; a transaction is never split (the last one is read to its end).
const TAIL_BATCH: i64 = 1000;
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;
/// Revoked device ids per notification (≈ 40 bytes each), well under [`MAX_PAYLOAD`].
const DEVICES_PER_NOTIFICATION: usize = 100;
/// Ephemeral events waiting to be sent to the other nodes; more are dropped (they are ephemeral).
const OUTGOING_QUEUE: usize = 1024;
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// The rows after `$1`, in seq order: at least `$2` rows when there are that many, and always whole
/// transactions (a transaction's seqs are contiguous, assigned under the feed lock; its `tx_seq`
/// is its first seq). More than `$2` rows came back exactly when more may follow.
const TAIL_SQL: &str = "SELECT seq, tx_seq, entity, entity_id, scope_agent, inbox_id, op, data FROM changes
     WHERE seq > $1::bigint AND tx_seq <= COALESCE(
         (SELECT tx_seq FROM changes WHERE seq > $1::bigint ORDER BY seq OFFSET $2::bigint LIMIT 1),
         9223372036854775807)
     ORDER BY seq";

/// One node's bus with PostgreSQL: the [`LocalBus`] its streams subscribe to, fed by the tailer,
/// plus the outgoing side of the events other nodes must hear.
pub struct Fanout {
    url: DatabaseUrl,
    node_id: String,
    local: LocalBus,
    /// Rung by the store after each of this node's commits.
    kick: Notify,
    outgoing: mpsc::Sender<String>,
    /// Taken by the tailer when it starts.
    outgoing_queue: Mutex<Option<mpsc::Receiver<String>>>,
}

/// What travels on [`EVENTS_CHANNEL`].
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The node that sent it (which ignores it when it comes back).
    node: String,
    event: WireEvent,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireEvent {
    Ephemeral { inbox_id: Option<Id>, from_agent: Id, frame: ServerFrame },
    Revoked { devices: Vec<Id> },
}

impl Fanout {
    /// `node_id` tells this node's notifications from others'; `capacity` is the local bus's.
    pub fn new(url: DatabaseUrl, node_id: String, capacity: usize) -> Arc<Self> {
        let (outgoing, queue) = mpsc::channel(OUTGOING_QUEUE);
        Arc::new(Fanout {
            url,
            node_id,
            local: LocalBus::new(capacity),
            kick: Notify::new(),
            outgoing,
            outgoing_queue: Mutex::new(Some(queue)),
        })
    }

    /// The `application_name` of this node's listener connection (what `pg_stat_activity` shows).
    pub fn listener_name(&self) -> String {
        format!("switchboard-listen-{}", self.node_id)
    }

    /// This node committed: the tailer reads the feed now rather than at the next notification.
    pub(super) fn committed(&self) {
        self.kick.notify_one();
    }

    /// Connects the listener, reads the feed's head and the revoked devices, and spawns the tailer,
    /// which publishes every commit after that head. Returns once listening, so a node serves
    /// streams only when every later commit will reach its bus (a stream replays what is older).
    pub async fn start(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let mut connector = super::tls::Connector::new(&self.url)?;
        connector.config.application_name(self.listener_name());
        let listener =
            Listener::connect(&connector).await.with_context(|| format!("listening on {}", self.url))?;
        let head: i64 = listener
            .client
            .query_one("SELECT COALESCE(MAX(seq), 0)::bigint FROM changes", &[])
            .await?
            .try_get(0)?;
        let mut tail = Tail { last: head, revoked: None };
        self.recheck_revoked(&listener, &mut tail).await?;
        let queue = self
            .outgoing_queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .context("the feed tailer was already started")?;
        Ok(tokio::spawn(self.clone().run(connector, listener, tail, queue, shutdown)))
    }

    /// Follows the feed until shutdown, reconnecting (with backoff) whenever the listener is lost.
    async fn run(
        self: Arc<Self>,
        connector: super::tls::Connector,
        listener: Listener,
        mut tail: Tail,
        mut outgoing: mpsc::Receiver<String>,
        shutdown: CancellationToken,
    ) {
        let mut listener = Some(listener);
        let mut backoff = RECONNECT_MIN;
        loop {
            let current = match listener.take() {
                Some(listener) => Ok(listener),
                None => Listener::connect(&connector).await.map_err(anyhow::Error::from),
            };
            let result = match current {
                Ok(current) => self.follow(current, &mut tail, &mut outgoing, &shutdown, &mut backoff).await,
                Err(error) => Err(error),
            };
            match result {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(node = %self.node_id, error = %format!("{error:#}"), ?backoff, "feed listener lost; reconnecting")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(RECONNECT_MAX);
        }
    }

    /// Serves one listener connection until shutdown (`Ok`) or until it fails.
    async fn follow(
        &self,
        mut listener: Listener,
        tail: &mut Tail,
        outgoing: &mut mpsc::Receiver<String>,
        shutdown: &CancellationToken,
        backoff: &mut Duration,
    ) -> anyhow::Result<()> {
        // What committed, and who was revoked, while nobody listened.
        self.catch_up(&listener, tail).await?;
        self.recheck_revoked(&listener, tail).await?;
        *backoff = RECONNECT_MIN;
        let mut fallback = tokio::time::interval(FALLBACK);
        fallback.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut recheck =
            tokio::time::interval_at(tokio::time::Instant::now() + REVOCATION_RECHECK, REVOCATION_RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut read_feed = false;
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                note = listener.notes.recv() => {
                    let note = note.context("the listener connection closed")?;
                    read_feed = self.on_notification(note);
                    while let Ok(note) = listener.notes.try_recv() {
                        read_feed |= self.on_notification(note);
                    }
                }
                _ = self.kick.notified() => read_feed = true,
                _ = fallback.tick() => read_feed = true,
                _ = recheck.tick() => self.recheck_revoked(&listener, tail).await?,
                Some(payload) = outgoing.recv() => {
                    // Lost if the connection fails now: an ephemeral event is not worth a retry,
                    // and a revocation is re-read from the devices table.
                    listener.client.execute(&listener.notify, &[&EVENTS_CHANNEL, &payload]).await?;
                }
            }
            if read_feed {
                self.catch_up(&listener, tail).await?;
            }
        }
    }

    /// Handles one notification; `true` if the feed has news.
    fn on_notification(&self, note: Notification) -> bool {
        if note.channel() == FEED_CHANNEL {
            return true;
        }
        match serde_json::from_str::<Envelope>(note.payload()) {
            Ok(envelope) if envelope.node == self.node_id => {}
            Ok(Envelope { event: WireEvent::Ephemeral { inbox_id, from_agent, frame }, .. }) => {
                self.local.publish(BusEvent::Ephemeral { inbox_id, from_agent, frame });
            }
            Ok(Envelope { event: WireEvent::Revoked { devices }, .. }) => {
                self.local.publish(BusEvent::Revoked(devices.into()));
            }
            Err(error) => tracing::warn!(%error, "ignoring a malformed event from another node"),
        }
        false
    }

    /// Publishes every transaction committed after `tail.last`, in seq order.
    async fn catch_up(&self, listener: &Listener, tail: &mut Tail) -> anyhow::Result<()> {
        loop {
            let rows = listener.client.query(&listener.tail, &[&tail.last, &TAIL_BATCH]).await?;
            let more = rows.len() as i64 > TAIL_BATCH;
            let mut transaction: Vec<FeedRecord> = Vec::new();
            let mut transaction_seq = None;
            for row in &rows {
                let (seq, tx_seq): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
                if transaction_seq != Some(tx_seq) && !transaction.is_empty() {
                    self.local.publish(BusEvent::Changes(std::mem::take(&mut transaction).into()));
                }
                transaction_seq = Some(tx_seq);
                match record(row) {
                    Ok(record) => transaction.push(record),
                    // Stalling every stream on a row this node cannot read (a newer node's entity
                    // kind, during a rolling upgrade) would be worse than leaving it out.
                    Err(error) => {
                        tracing::error!(seq, %error, "leaving an unreadable change out of the live feed")
                    }
                }
                tail.last = seq;
            }
            if !transaction.is_empty() {
                self.local.publish(BusEvent::Changes(transaction.into()));
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// Re-reads the revoked devices and closes the streams of those newly revoked (the first read
    /// only learns them: it happens before the node serves any stream).
    async fn recheck_revoked(&self, listener: &Listener, tail: &mut Tail) -> anyhow::Result<()> {
        let rows = listener.client.query("SELECT id FROM devices WHERE revoked_at IS NOT NULL", &[]).await?;
        let revoked =
            rows.iter().map(|row| Ok(parse_id(row.try_get(0)?)?)).collect::<anyhow::Result<HashSet<Id>>>()?;
        if let Some(known) = &tail.revoked {
            let fresh: Vec<Id> = revoked.difference(known).copied().collect();
            if !fresh.is_empty() {
                self.local.publish(BusEvent::Revoked(fresh.into()));
            }
        }
        tail.revoked = Some(revoked);
        Ok(())
    }

    /// Queues an event for the other nodes; dropped (with a warning) when it cannot be sent.
    fn send_to_other_nodes(&self, event: WireEvent) {
        let envelope = Envelope { node: self.node_id.clone(), event };
        let payload = match serde_json::to_string(&envelope) {
            Ok(payload) if payload.len() < MAX_PAYLOAD => payload,
            Ok(payload) => {
                tracing::warn!(bytes = payload.len(), "an event too large for NOTIFY stays on this node");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "an event that does not serialise stays on this node");
                return;
            }
        };
        if self.outgoing.try_send(payload).is_err() {
            tracing::warn!("the queue to other nodes is full; an ephemeral event stays on this node");
        }
    }
}

impl Bus for Fanout {
    /// Commits are published by the tailer only (they reach the local bus, never NOTIFY); ephemeral
    /// events and revocations go to this node's streams at once and to the other nodes' through
    /// [`EVENTS_CHANNEL`].
    fn publish(&self, event: BusEvent) {
        match &event {
            BusEvent::Changes(_) => {}
            BusEvent::Ephemeral { inbox_id, from_agent, frame } => {
                self.send_to_other_nodes(WireEvent::Ephemeral {
                    inbox_id: *inbox_id,
                    from_agent: *from_agent,
                    frame: frame.clone(),
                });
            }
            BusEvent::Revoked(devices) => {
                for chunk in devices.chunks(DEVICES_PER_NOTIFICATION) {
                    self.send_to_other_nodes(WireEvent::Revoked { devices: chunk.to_vec() });
                }
            }
        }
        self.local.publish(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.local.subscribe()
    }
}

/// Where the tailer is.
struct Tail {
    /// The last seq published (or skipped: the head when the node started).
    last: i64,
    /// The revoked devices as last read; `None` before the first read.
    revoked: Option<HashSet<Id>>,
}

/// The node's LISTEN connection, its notifications and its prepared statements.
struct Listener {
    client: Client,
    notes: mpsc::UnboundedReceiver<Notification>,
    /// Drives the connection; aborted (closing it) when the listener is dropped.
    driver: tokio::task::JoinHandle<()>,
    tail: Statement,
    notify: Statement,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Listener {
    /// Connects and LISTENs (before any read of the feed, so no commit after the read goes
    /// unannounced).
    async fn connect(connector: &super::tls::Connector) -> Result<Listener, tokio_postgres::Error> {
        let (client, driver, notes) = match &connector.tls {
            Some(tls) => {
                let (client, connection) = connector.config.connect(tls.clone()).await?;
                let (driver, notes) = drive(connection);
                (client, driver, notes)
            }
            None => {
                let (client, connection) = connector.config.connect(tokio_postgres::NoTls).await?;
                let (driver, notes) = drive(connection);
                (client, driver, notes)
            }
        };
        let setup = async {
            client
                .batch_execute(&format!(
                    "SET statement_timeout = '{STATEMENT_TIMEOUT}'; LISTEN {FEED_CHANNEL}; LISTEN {EVENTS_CHANNEL}"
                ))
                .await?;
            Ok((
                client.prepare(TAIL_SQL).await?,
                client.prepare("SELECT pg_notify($1::text, $2::text)").await?,
            ))
        };
        match setup.await {
            Ok((tail, notify)) => Ok(Listener { client, notes, driver, tail, notify }),
            Err(error) => {
                driver.abort();
                Err(error)
            }
        }
    }
}

/// Spawns the task that drives a listener's connection and hands its notifications over.
fn drive<T>(
    mut connection: tokio_postgres::Connection<tokio_postgres::Socket, T>,
) -> (tokio::task::JoinHandle<()>, mpsc::UnboundedReceiver<Notification>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, notes) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if sender.send(note).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(%error, "the listener connection failed");
                    return;
                }
            }
        }
    });
    (driver, notes)
}

/// A `changes` row as the record the writer appended, with the same audience.
fn record(row: &Row) -> anyhow::Result<FeedRecord> {
    let entity: String = row.try_get(2)?;
    let scope_agent: String = row.try_get(4)?;
    let inbox_id: Option<String> = row.try_get(5)?;
    let op: String = row.try_get(6)?;
    let change = Change {
        seq: row.try_get(0)?,
        entity: EntityKind::parse(&entity)
            .with_context(|| format!("unknown entity {entity:?} in the feed"))?,
        id: parse_id(row.try_get(3)?)?,
        op: if op == "delete" { ChangeOp::Delete } else { ChangeOp::Upsert },
        data: row.try_get::<_, Option<Value>>(7)?,
    };
    let inbox = inbox_id.as_deref().map(parse_id).transpose()?;
    let scope = if scope_agent.is_empty() { None } else { Some(parse_id(&scope_agent)?) };
    Ok(FeedRecord::new(change, inbox, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_for_other_nodes_fit_a_notification() {
        let frame =
            ServerFrame::Typing { conversation_id: Id::new_v4(), agent_id: Id::new_v4(), active: true };
        let envelope = Envelope {
            node: "node-0123456789abcdef".into(),
            event: WireEvent::Ephemeral { inbox_id: Some(Id::new_v4()), from_agent: Id::new_v4(), frame },
        };
        let text = serde_json::to_string(&envelope).expect("serialise");
        assert!(text.len() < 400, "a typing event is small, far below the limit: {text}");
        let devices =
            WireEvent::Revoked { devices: (0..DEVICES_PER_NOTIFICATION).map(|_| Id::new_v4()).collect() };
        let text =
            serde_json::to_string(&Envelope { node: "n".repeat(64), event: devices }).expect("serialise");
        assert!(text.len() < MAX_PAYLOAD, "a full chunk of revoked devices fits: {} bytes", text.len());
    }
}
