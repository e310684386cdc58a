//! The sync engine: bootstrap from the feed in pages, then follow the WebSocket stream from the
//! last applied seq; reconnect with jittered backoff and resume; flush the outbox in order.
//!
//! Two tasks per account. The *follower* keeps the cache level with the server: catch-up pages over
//! HTTP, then the stream; a batch that does not continue from the cache's cursor (a gap), or an
//! overflow close, sends it back to catch-up. The *flusher* sends outbox actions one at a time,
//! oldest first: success waits for the feed to carry the effect, a permanent refusal rolls the
//! effect back and reports it, a transient failure retries the same action later (order is kept).

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use switchboard_proto::*;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    api::ApiClient,
    cache::{Applied, Cache},
    clock::Clock,
    error::{CoreError, CoreResult},
    events::{ConnectionState, Ephemeral, Event, EventSink, SyncStatus},
    outbox::Action,
};

/// Feed page size for catch-up.
const PAGE: usize = 500;
/// Backfill page size: small enough that applying one holds the cache for a few milliseconds, so
/// the list, actions and the live stream never wait long behind it.
const BACKFILL_PAGE: usize = 250;
/// The server pings every 30 s; this long without any frame means the connection is dead (a
/// laptop that slept, a NAT that forgot us) even if TCP hasn't noticed.
const STREAM_SILENCE: Duration = Duration::from_secs(75);
/// A WebSocket handshake that takes longer than this is abandoned and retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Exponential backoff with full jitter: a random delay up to `min(max, base · 2^attempt)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.base.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }
}

/// How an engine runs.
#[derive(Clone)]
pub struct EngineConfig {
    pub api: ApiClient,
    pub cache: Arc<Cache>,
    pub events: EventSink,
    /// Where staged files for the outbox live.
    pub staging_dir: PathBuf,
    pub reconnect: Backoff,
    pub retry: Backoff,
    /// Clock for optimistic timestamps (injected so tests can control it).
    pub now: Clock,
    /// Changes per backfill page after a priority bootstrap.
    pub backfill_page: usize,
}

impl EngineConfig {
    pub fn new(api: ApiClient, cache: Arc<Cache>, events: EventSink, staging_dir: PathBuf) -> Self {
        EngineConfig {
            api,
            cache,
            events,
            staging_dir,
            reconnect: Backoff { base: Duration::from_millis(500), max: Duration::from_secs(30) },
            retry: Backoff { base: Duration::from_millis(500), max: Duration::from_secs(60) },
            now: crate::clock::system_clock(),
            backfill_page: BACKFILL_PAGE,
        }
    }
}

pub use crate::clock::system_now;

/// Typing, viewing and presence as last reported.
#[derive(Debug, Default, Clone)]
pub struct PresenceState {
    pub typing: HashMap<Id, HashSet<Id>>,
    pub viewing: HashMap<Id, HashSet<Id>>,
    pub online: HashSet<Id>,
}

struct Shared {
    config: EngineConfig,
    state: Mutex<SyncStatus>,
    presence: Mutex<PresenceState>,
    outbox_wake: Notify,
    reconnect_now: Notify,
    /// A snapshot was stored: its backfill can start.
    backfill_wake: Notify,
    /// Typing/viewing frames to send on the stream.
    outgoing: Mutex<Option<mpsc::UnboundedSender<ClientFrame>>>,
    shutdown: CancellationToken,
}

/// A running sync engine for one account. Dropping it stops its tasks.
pub struct Engine {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

impl Engine {
    /// Starts following the server and flushing the outbox.
    pub fn start(config: EngineConfig) -> Engine {
        let pending = config.cache.pending_count().unwrap_or(0);
        let history_percent = config.cache.history_percent().unwrap_or(None);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(SyncStatus {
                state: ConnectionState::Connecting,
                pending,
                last_sync_at: None,
                history_percent,
            }),
            presence: Mutex::default(),
            outbox_wake: Notify::new(),
            reconnect_now: Notify::new(),
            backfill_wake: Notify::new(),
            outgoing: Mutex::new(None),
            shutdown: CancellationToken::new(),
        });
        let tasks = vec![
            tokio::spawn(follow(shared.clone())),
            tokio::spawn(flush(shared.clone())),
            tokio::spawn(backfill(shared.clone())),
        ];
        Engine { shared, tasks }
    }

    /// Queues an agent action: stored in the outbox and shown at once, sent when possible.
    pub fn queue(&self, action: Action) -> CoreResult<()> {
        let config = &self.shared.config;
        config.cache.enqueue(&action, (config.now)())?;
        (config.events)(Event::CacheChanged {
            kinds: action.touches().into_iter().map(|(kind, _)| kind).collect(),
        });
        self.shared.publish_status(|_| {});
        self.shared.outbox_wake.notify_one();
        Ok(())
    }

    /// Tells colleagues this agent is typing in (or viewing) a conversation. Dropped when offline.
    pub fn send_ephemeral(&self, frame: ClientFrame) {
        if let Some(sender) = lock(&self.shared.outgoing).as_ref() {
            let _ = sender.send(frame);
        }
    }

    pub fn status(&self) -> SyncStatus {
        lock(&self.shared.state).clone()
    }

    pub fn presence(&self) -> PresenceState {
        lock(&self.shared.presence).clone()
    }

    /// Drops the current connection and reconnects at once (also: "retry now" in the UI).
    pub fn reconnect(&self) {
        self.shared.reconnect_now.notify_waiters();
        self.shared.outbox_wake.notify_one();
    }

    /// Stops both tasks; what is in the outbox stays for next time.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }

    /// Stops both tasks at once, mid-whatever (as a crash would).
    pub fn abort(self) {
        self.shared.shutdown.cancel();
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn emit(&self, event: Event) {
        (self.config.events)(event);
    }

    /// Updates the status and reports it if it changed.
    fn publish_status(&self, change: impl FnOnce(&mut SyncStatus)) {
        let pending = self.config.cache.pending_count().unwrap_or(0);
        let history_percent = self.config.cache.history_percent().unwrap_or(None);
        let snapshot = {
            let mut state = lock(&self.state);
            let before = state.clone();
            change(&mut state);
            state.pending = pending;
            state.history_percent = history_percent;
            (*state != before).then(|| state.clone())
        };
        if let Some(status) = snapshot {
            self.emit(Event::Connection(status));
        }
    }

    fn set_state(&self, new: ConnectionState) {
        self.publish_status(|status| status.state = new);
    }

    fn report(&self, applied: Applied) {
        if !applied.kinds.is_empty() {
            self.emit(Event::CacheChanged { kinds: applied.kinds.into_iter().collect() });
        }
        for notification in applied.notifications {
            self.emit(Event::Notify(notification));
        }
        let now = (self.config.now)();
        self.publish_status(|status| status.last_sync_at = Some(now));
    }

    fn signed_out(&self, reason: String) {
        self.set_state(ConnectionState::AuthFailed);
        self.emit(Event::SignedOut { reason });
        self.shutdown.cancel();
    }

    /// Sleeps for `delay`, or less if told to reconnect or stop.
    async fn pause(&self, delay: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = self.reconnect_now.notified() => {}
            _ = self.shutdown.cancelled() => {}
        }
    }
}

/// Why a connection ended.
enum Ended {
    Shutdown,
    /// Reconnect straight away (a gap, an overflow, a requested reconnect).
    Resume,
    Failed(CoreError),
}

async fn follow(shared: Arc<Shared>) {
    let mut attempt = 0;
    while !shared.shutdown.is_cancelled() {
        shared.set_state(ConnectionState::Connecting);
        match connection(&shared, &mut attempt).await {
            Ended::Shutdown => break,
            Ended::Resume => continue,
            Ended::Failed(CoreError::SignedOut(reason)) => {
                shared.signed_out(reason);
                break;
            }
            Ended::Failed(error) => {
                tracing::debug!(%error, attempt, "sync connection failed");
                shared.set_state(ConnectionState::Offline);
                let delay = shared.config.reconnect.delay(attempt);
                attempt = attempt.saturating_add(1);
                shared.pause(delay).await;
            }
        }
    }
    *lock(&shared.outgoing) = None;
}

/// One connection: catch up over HTTP, then follow the stream until something ends it.
async fn connection(shared: &Arc<Shared>, attempt: &mut u32) -> Ended {
    let config = &shared.config;
    // A fresh device: the priority snapshot first, then the feed from its S at once; the rest of
    // the history arrives behind it (`backfill`). A server without one bootstraps from 0 below.
    // The snapshot is stored in two commits: what the inbox list's first pages show, with the
    // cursor S (reported at once, so the list is painted from it), then the rest, filled in like
    // a backfill page (`cache/backfill.rs::first_part`).
    match config.cache.cursor() {
        Ok(0) => {
            let snapshot = tokio::select! {
                snapshot = config.api.bootstrap().instrument(tracing::debug_span!("bootstrap_request")) => snapshot,
                _ = shared.shutdown.cancelled() => return Ended::Shutdown,
            };
            match snapshot {
                Ok(Some(mut snapshot)) => {
                    let first = {
                        let _span = tracing::debug_span!("bootstrap_apply").entered();
                        let count = crate::cache::backfill::first_part(&mut snapshot.changes);
                        config.cache.apply_snapshot_first(&snapshot, count).map(|applied| (applied, count))
                    };
                    let count = match first {
                        Ok((applied, count)) => {
                            shared.report(applied);
                            count
                        }
                        Err(error) => return Ended::Failed(error),
                    };
                    let rest = {
                        let _span = tracing::debug_span!("bootstrap_apply_rest").entered();
                        config.cache.apply_snapshot_rest(snapshot.next, &snapshot.changes[count..])
                    };
                    // The backfill starts after the rest (or without it, which it then brings).
                    shared.backfill_wake.notify_one();
                    match rest {
                        Ok(applied) => shared.report(applied),
                        Err(error) => return Ended::Failed(error),
                    }
                }
                Ok(None) => {}
                Err(error) => return Ended::Failed(error),
            }
        }
        Ok(_) => {}
        Err(error) => return Ended::Failed(error),
    }
    // A backfill may have been set under way without this engine's knowing: an engine stopped
    // mid-bootstrap finishes the synchronous step it is in (storing a snapshot and waking its own
    // backfill, not this one's) after this engine's backfill found nothing to do and went to
    // sleep. Every connection wakes it to read its state again; with nothing under way it sleeps.
    shared.backfill_wake.notify_one();
    // Catch-up (a bootstrap when the cursor is 0), one transaction per page.
    loop {
        let (cursor, check) = match config.cache.cursor().and_then(|c| Ok((c, config.cache.cursor_check()?)))
        {
            Ok(cursor) => cursor,
            Err(error) => return Ended::Failed(error),
        };
        let page = tokio::select! {
            page = config.api.sync(cursor, check.as_deref(), PAGE).instrument(tracing::debug_span!("catch_up_request")) => page,
            _ = shared.shutdown.cancelled() => return Ended::Shutdown,
        };
        let page = match page {
            Ok(page) => page,
            // The server's feed is not the one the cursor came from (a restore from an older
            // backup): start again from 0, keeping the outbox.
            Err(CoreError::Rejected { code: ErrorCode::FeedRewound, .. }) => {
                tracing::warn!(cursor, "the server's feed was rewound; syncing again from the start");
                if let Err(error) = config.cache.reset_feed() {
                    return Ended::Failed(error);
                }
                shared.report(crate::cache::Applied {
                    kinds: EntityKind::ALL.iter().copied().collect(),
                    ..Default::default()
                });
                // The next connection bootstraps, from a snapshot where the server has one.
                return Ended::Resume;
            }
            Err(error) => return Ended::Failed(error),
        };
        let applied = tracing::debug_span!("catch_up_apply")
            .in_scope(|| apply(shared, &page.changes, page.next, page.check.as_deref()));
        match applied {
            Ok(()) => {}
            Err(error) => return Ended::Failed(error),
        }
        if !page.has_more {
            break;
        }
    }
    let (cursor, check) = match config.cache.cursor().and_then(|c| Ok((c, config.cache.cursor_check()?))) {
        Ok(cursor) => cursor,
        Err(error) => return Ended::Failed(error),
    };
    let request = match config.api.stream_request(cursor, check.as_deref()) {
        Ok(request) => request,
        Err(error) => return Ended::Failed(error),
    };
    let socket = tokio::select! {
        socket = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request)) => socket,
        _ = shared.shutdown.cancelled() => return Ended::Shutdown,
    };
    let Ok(socket) = socket else {
        return Ended::Failed(CoreError::Network("the stream handshake timed out".into()));
    };
    let mut socket = match socket {
        Ok((socket, _)) => socket,
        // Not a sign-out: the handshake's answer may come from a proxy, and its body isn't read
        // whole. Every connection first catches up over HTTP, whose 401 says whether the token
        // is dead (`api::failure`), so the next attempt tells.
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) if response.status() == 401 => {
            return Ended::Failed(CoreError::Network("the stream's handshake was refused (401)".into()));
        }
        Err(error) => return Ended::Failed(CoreError::Network(error.to_string())),
    };
    let (sender, mut outgoing) = mpsc::unbounded_channel();
    *lock(&shared.outgoing) = Some(sender);
    shared.set_state(ConnectionState::Online);
    *attempt = 0;
    // The outbox may have waited for us.
    shared.outbox_wake.notify_one();

    let silence = tokio::time::sleep(STREAM_SILENCE);
    tokio::pin!(silence);
    let ended = loop {
        tokio::select! {
            _ = &mut silence => break Ended::Failed(CoreError::Network("the stream went silent".into())),
            _ = shared.shutdown.cancelled() => {
                let _ = socket.close(None).await;
                break Ended::Shutdown;
            }
            _ = shared.reconnect_now.notified() => break Ended::Resume,
            Some(frame) = outgoing.recv() => {
                let Ok(text) = serde_json::to_string(&frame) else { continue };
                if let Err(error) = socket.send(WsMessage::Text(text.into())).await {
                    break Ended::Failed(CoreError::Network(error.to_string()));
                }
            }
            message = socket.next() => {
                silence.as_mut().reset(tokio::time::Instant::now() + STREAM_SILENCE);
                match message {
                Some(Ok(WsMessage::Text(text))) => {
                    let frame: ServerFrame = match serde_json::from_str(&text) {
                        Ok(frame) => frame,
                        Err(error) => {
                            tracing::warn!(%error, "ignoring an unreadable stream frame");
                            continue;
                        }
                    };
                    if let Some(ended) = on_frame(shared, frame) {
                        break ended;
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    let code = frame.map(|f| u16::from(f.code));
                    break match code {
                        Some(CLOSE_REVOKED) => Ended::Failed(CoreError::SignedOut("token revoked".into())),
                        Some(CLOSE_OVERFLOW) => Ended::Resume,
                        _ => Ended::Failed(CoreError::Network(format!("the server closed the stream ({code:?})"))),
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => break Ended::Failed(CoreError::Network(error.to_string())),
                None => break Ended::Failed(CoreError::Network("the stream ended".into())),
                }
            }
        }
    };
    *lock(&shared.outgoing) = None;
    clear_presence(shared);
    ended
}

/// Applies a page or batch and reports it.
fn apply(shared: &Arc<Shared>, changes: &[Change], next: i64, check: Option<&str>) -> CoreResult<()> {
    let applied = shared.config.cache.apply_checked(changes, next, check)?;
    crate::attachments::delete_downloads(&shared.config.cache, &applied.purged_files);
    if applied.history_wanted {
        shared.backfill_wake.notify_one();
    }
    let settled = !applied.settled.is_empty();
    shared.report(applied);
    if settled {
        shared.outbox_wake.notify_one();
    }
    Ok(())
}

/// The history behind a priority bootstrap: pages below the snapshot's S, newest first, each
/// applied (and the position moved) in one transaction, so a restart resumes where it stopped.
/// Runs beside the follower and the flusher, never in their way.
async fn backfill(shared: Arc<Shared>) {
    let config = &shared.config;
    let mut attempt = 0;
    while !shared.shutdown.is_cancelled() {
        let state = match config.cache.backfill() {
            Ok(state) => state,
            Err(error) => {
                tracing::error!(%error, "reading the backfill's state failed");
                None
            }
        };
        let Some(state) = state else {
            tokio::select! {
                _ = shared.backfill_wake.notified() => continue,
                _ = shared.shutdown.cancelled() => return,
            }
        };
        let page = tokio::select! {
            page = config.api.backfill(state.upto, state.check.as_deref(), state.before, config.backfill_page)
                .instrument(tracing::debug_span!("backfill_request")) => page,
            _ = shared.shutdown.cancelled() => return,
        };
        let outcome = page.and_then(|page| {
            let _span = tracing::debug_span!("backfill_apply").entered();
            config.cache.apply_backfill(state.upto, &page)
        });
        match outcome {
            Ok(applied) => {
                attempt = 0;
                shared.report(applied);
            }
            // The follower sees the same on its next catch-up and bootstraps again; hurry it.
            Err(CoreError::Rejected { code: ErrorCode::FeedRewound, .. }) => {
                shared.reconnect_now.notify_waiters();
                shared.pause(config.retry.delay(attempt)).await;
                attempt = attempt.saturating_add(1);
            }
            Err(CoreError::SignedOut(_)) => return,
            Err(error) => {
                tracing::debug!(%error, attempt, "a backfill page failed");
                shared.pause(config.reconnect.delay(attempt)).await;
                attempt = attempt.saturating_add(1);
            }
        }
    }
}

/// Handles one stream frame; `Some` ends the connection.
fn on_frame(shared: &Arc<Shared>, frame: ServerFrame) -> Option<Ended> {
    match frame {
        ServerFrame::Changes { since, next, check, changes } => {
            let cursor = match shared.config.cache.cursor() {
                Ok(cursor) => cursor,
                Err(error) => return Some(Ended::Failed(error)),
            };
            if since != cursor {
                tracing::info!(since, cursor, "gap in the stream; catching up");
                return Some(Ended::Resume);
            }
            apply(shared, &changes, next, check.as_deref()).err().map(Ended::Failed)
        }
        ServerFrame::Typing { conversation_id, agent_id, active } => {
            set_member(&mut lock(&shared.presence).typing, conversation_id, agent_id, active);
            shared.emit(Event::Ephemeral(Ephemeral::Typing { conversation_id, agent_id, active }));
            None
        }
        ServerFrame::Viewing { conversation_id, agent_id, active } => {
            set_member(&mut lock(&shared.presence).viewing, conversation_id, agent_id, active);
            shared.emit(Event::Ephemeral(Ephemeral::Viewing { conversation_id, agent_id, active }));
            None
        }
        ServerFrame::Presence { agent_id, online, .. } => {
            {
                let mut presence = lock(&shared.presence);
                if online {
                    presence.online.insert(agent_id);
                } else {
                    presence.online.remove(&agent_id);
                    let state = &mut *presence;
                    for set in state.typing.values_mut().chain(state.viewing.values_mut()) {
                        set.remove(&agent_id);
                    }
                }
            }
            shared.emit(Event::Ephemeral(Ephemeral::Presence { agent_id, online }));
            None
        }
    }
}

fn set_member(map: &mut HashMap<Id, HashSet<Id>>, conversation_id: Id, agent_id: Id, active: bool) {
    let members = map.entry(conversation_id).or_default();
    if active {
        members.insert(agent_id);
    } else {
        members.remove(&agent_id);
    }
    if members.is_empty() {
        map.remove(&conversation_id);
    }
}

/// Offline, nobody is known to be typing.
fn clear_presence(shared: &Arc<Shared>) {
    *lock(&shared.presence) = PresenceState::default();
}

async fn flush(shared: Arc<Shared>) {
    let mut retry_at: Option<tokio::time::Instant> = None;
    loop {
        if let Some(at) = retry_at.take() {
            tokio::select! {
                _ = tokio::time::sleep_until(at) => {}
                _ = shared.reconnect_now.notified() => {}
                _ = shared.shutdown.cancelled() => return,
            }
        }
        let next = match shared.config.cache.next_unsent() {
            Ok(next) => next,
            Err(error) => {
                tracing::error!(%error, "reading the outbox failed");
                retry_at = Some(tokio::time::Instant::now() + Duration::from_secs(5));
                continue;
            }
        };
        let Some(queued) = next else {
            tokio::select! {
                _ = shared.outbox_wake.notified() => continue,
                _ = shared.shutdown.cancelled() => return,
            }
        };
        let client_id = queued.action.client_id();
        let sent = tokio::select! {
            sent = send(&shared, &queued.action) => sent,
            // "Reconnect now" also abandons a send stuck on a dead connection; it is retried.
            _ = shared.reconnect_now.notified() => Err(CoreError::Network("send abandoned for a reconnect".into())),
            _ = shared.shutdown.cancelled() => return,
        };
        match sent {
            Ok(seq) => {
                if let Err(error) = shared.config.cache.acknowledge(client_id, seq) {
                    tracing::error!(%error, "recording an acknowledgement failed");
                }
                shared.emit(Event::CacheChanged {
                    kinds: queued.action.touches().into_iter().map(|(kind, _)| kind).collect(),
                });
                shared.publish_status(|_| {});
            }
            Err(CoreError::SignedOut(reason)) => {
                shared.signed_out(reason);
                return;
            }
            Err(error) if error.is_transient() => {
                let attempts = shared.config.cache.record_failure(client_id, &error.to_string()).unwrap_or(1);
                tracing::debug!(%error, attempts, "outbox send failed; will retry");
                retry_at = Some(tokio::time::Instant::now() + shared.config.retry.delay(attempts));
            }
            Err(error) => {
                let (code, current_assignee_id, existing_conversation_id) = match &error {
                    CoreError::Rejected { code, current_assignee_id, conversation_id, .. } => {
                        (code.as_str().to_owned(), *current_assignee_id, *conversation_id)
                    }
                    other => (other.code().to_owned(), None, None),
                };
                match shared.config.cache.reject(client_id) {
                    // A refused reply's staged files go with it.
                    Ok(Some(Action::Send { staged_files, .. })) => {
                        for staged in staged_files {
                            crate::attachments::remove_staged_copy(&shared.config.staging_dir, staged);
                        }
                    }
                    Ok(_) => {}
                    Err(rollback) => tracing::error!(%rollback, "rolling back a rejected action failed"),
                }
                shared.emit(Event::OutboxRejected {
                    client_id,
                    action: queued.action.name(),
                    conversation_id: queued.action.conversation_id(),
                    code,
                    message: error.to_string(),
                    current_assignee_id,
                    existing_conversation_id,
                });
                shared.emit(Event::CacheChanged {
                    kinds: queued.action.touches().into_iter().map(|(kind, _)| kind).collect(),
                });
                shared.publish_status(|_| {});
            }
        }
    }
}

/// Sends one action, uploading its staged files first.
async fn send(shared: &Arc<Shared>, action: &Action) -> CoreResult<i64> {
    let mut attachment_ids = Vec::new();
    if let Action::Send { conversation_id, staged_files, .. } = action {
        for staged_id in staged_files {
            attachment_ids.push(
                crate::attachments::upload_staged(shared.config.clone(), *conversation_id, *staged_id)
                    .await?,
            );
        }
    }
    shared.config.api.send(action, attachment_ids).await
}
