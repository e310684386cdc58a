//! `GET /api/v1/stream`: the WebSocket that replays the feed after `since` and then pushes new
//! changes as they commit, plus typing/viewing/presence events that never enter the feed.
//!
//! No gap at the replay/live boundary: the connection subscribes to the bus *before* reading the
//! replay, so every commit is either in the replay's snapshot or on the bus (and bus records at or
//! below the replayed cursor are skipped). A slow client never stalls others: the bus is a bounded
//! ring per receiver, and a receiver that falls behind it is closed with `CLOSE_OVERFLOW`; the
//! client resumes with `since`.

use std::{borrow::Cow, sync::Arc, time::Duration};

use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use switchboard_proto::*;
use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};

use crate::{
    bus::{BusEvent, FeedRecord},
    error::{ApiError, ApiResult, Query},
    http::AppState,
    workspace::{Verdict, Viewer, Visibility},
};

/// Replay page size.
const REPLAY_PAGE: usize = 500;
/// At most this many waiting commits go out in one live frame, so one frame stays a sensible size.
const MAX_COMMITS_PER_FRAME: usize = 64;
/// A client that doesn't take a frame within this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(30);
/// The read buffer of a stream's socket. A client sends only small frames (typing, viewing), and
/// tungstenite zero-fills the buffer's whole capacity before every read attempt, including the
/// ones that find nothing: when the live loop polled the socket at every wake-up, with the default
/// 128 KiB the fan-out spent more time clearing buffers than anything else (a quarter of the
/// server's CPU at 5,000 streams). A larger client frame still fits: the buffer grows for it.
/// (The socket is now read by a task of its own, [`read_client`], only when something came.)
const READ_BUFFER: usize = 4 * 1024;
/// Client frames read but not yet handled; the reader waits when this many are queued.
const CLIENT_FRAMES: usize = 16;

#[derive(Debug, Deserialize)]
pub struct StreamParams {
    #[serde(default)]
    pub since: i64,
    /// As on `/sync`: a cursor that isn't from this feed is refused (409) before the upgrade.
    #[serde(default)]
    pub check: Option<String>,
}

pub async fn upgrade(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<StreamParams>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    if params.since < 0 {
        return Err(ApiError::validation("since must be >= 0"));
    }
    state.workspace.check_cursor(params.since, params.check).await?;
    Ok(ws.read_buffer_size(READ_BUFFER).on_upgrade(move |socket| async move {
        let agent_id = viewer.agent.id;
        if let Err(error) = Connection::run(state, viewer, params.since, socket).await {
            tracing::debug!(%agent_id, %error, "stream ended");
        }
    }))
}

struct Connection {
    state: AppState,
    viewer: Viewer,
    /// What this agent may see, followed commit by commit (`workspace/feed.rs::Visibility`).
    visible: Visibility,
    /// The highest seq this connection has looked at (sent or filtered out).
    seen: i64,
    /// The cursor the client holds: the `next` of the last batch it was sent.
    client_cursor: i64,
}

/// Why a stream ended, and what the client is told.
enum Ending {
    Closed,
    Send(CloseFrame),
}

fn close(code: u16, reason: &'static str) -> Ending {
    Ending::Send(CloseFrame { code, reason: Utf8Bytes::from_static(reason) })
}

impl Connection {
    async fn run(state: AppState, viewer: Viewer, since: i64, socket: WebSocket) -> anyhow::Result<()> {
        let mut bus = state.workspace.bus().subscribe();
        let (_, visible) =
            state.workspace.visibility(viewer.agent.id).await.map_err(|e| anyhow::anyhow!(e.message))?;
        let mut connection = Connection { state, viewer, visible, seen: since, client_cursor: since };
        let (mut sink, source) = socket.split();
        // The socket's read side has a task of its own, so a wake-up for a commit polls only the
        // bus: when the live loop polled the socket too, every frame sent paid for a read attempt
        // (tungstenite's buffer clearing, the split's lock, waker registration) that found nothing.
        let (client_frames, mut incoming) = tokio::sync::mpsc::channel(CLIENT_FRAMES);
        let reader = AbortOnDrop(tokio::spawn(read_client(source, client_frames)));
        connection.state.workspace.stream_opened(connection.viewer.agent.id).await;

        let ending = async {
            // Replay.
            loop {
                let (page, visibility) = connection
                    .state
                    .workspace
                    .sync_seen(&connection.viewer, connection.seen, None, REPLAY_PAGE)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))?;
                // What the agent saw at the page's snapshot: the live commits after it are
                // followed from there (a conversation that left before it is not "leaving" again).
                connection.visible = visibility;
                if !page.changes.is_empty() || page.next != connection.client_cursor {
                    let frame = ServerFrame::Changes {
                        since: connection.client_cursor,
                        next: page.next,
                        check: page.check,
                        changes: page.changes,
                    };
                    send(&mut sink, &frame).await?;
                    connection.client_cursor = page.next;
                }
                connection.seen = page.next;
                if !page.has_more {
                    break;
                }
            }
            // Who is online now: the stream heard none of the comings and goings before it opened.
            let snapshot = connection
                .state
                .workspace
                .presence_snapshot()
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            for frame in snapshot {
                send(&mut sink, &frame).await?;
            }
            // Live. The shutdown future is made once: a new one per turn would register with and
            // leave the token's waiter list, which every stream shares, at every wake-up.
            let shutdown = connection.state.shutdown.clone();
            let mut cancelled = std::pin::pin!(shutdown.cancelled());
            let mut ping = tokio::time::interval(PING_EVERY);
            ping.tick().await;
            loop {
                tokio::select! {
                    _ = &mut cancelled => {
                        return anyhow::Ok(close(CLOSE_SHUTDOWN, "server shutting down"));
                    }
                    event = bus.recv() => {
                        if let Some(ending) = connection.on_bus(event, &mut bus, &mut sink).await? {
                            return Ok(ending);
                        }
                    }
                    text = incoming.recv() => match text {
                        Some(text) => connection.client_frame(&text).await,
                        // The client closed the socket, or it failed.
                        None => return Ok(Ending::Closed),
                    },
                    _ = ping.tick() => send_message(&mut sink, Message::Ping(Default::default())).await?,
                }
            }
        }
        .await;

        connection.state.workspace.stream_closed(connection.viewer.agent.id).await;
        drop(reader);
        match ending? {
            Ending::Send(frame) => {
                let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
            }
            Ending::Closed => {}
        }
        Ok(())
    }

    /// One event from the bus, and the commits waiting right behind it; `Some` ends the stream.
    ///
    /// Under load, commits queue up for a stream that is a little behind. All that are waiting go
    /// out as one frame (one write here, one parse and one cache transaction on the client) rather
    /// than a frame each, so a burst costs each stream one send instead of one per commit. An event
    /// of another kind found while draining is handled right after that frame, in order.
    async fn on_bus<S>(
        &mut self,
        event: BusReceipt,
        bus: &mut broadcast::Receiver<BusEvent>,
        sink: &mut S,
    ) -> anyhow::Result<Option<Ending>>
    where
        S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
    {
        let mut next = Some(event);
        while let Some(event) = next.take() {
            match event {
                Ok(BusEvent::Changes(records)) => {
                    let commits;
                    (commits, next) = waiting_commits(records, bus);
                    if let Some(text) = self.changes_frame(&commits).await? {
                        send_message(sink, Message::Text(text.into())).await?;
                    }
                }
                Ok(BusEvent::Ephemeral { inbox_id, from_agent, frame }) => {
                    let conversation = match &frame {
                        ServerFrame::Typing { conversation_id, .. }
                        | ServerFrame::Viewing { conversation_id, .. } => Some(*conversation_id),
                        _ => None,
                    };
                    let visible = inbox_id.is_none_or(|inbox| self.visible.inboxes.contains(&inbox))
                        && conversation.is_none_or(|id| self.visible.shows_conversation(id));
                    if from_agent != self.viewer.agent.id && visible {
                        send(sink, &frame).await?;
                    }
                }
                Ok(BusEvent::Revoked(devices)) => {
                    if devices.contains(&self.viewer.device_id) {
                        return Ok(Some(close(CLOSE_REVOKED, "token revoked")));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    return Ok(Some(close(CLOSE_OVERFLOW, "fell behind; resume with since")));
                }
                Err(RecvError::Closed) => return Ok(Some(Ending::Closed)),
            }
        }
        Ok(None)
    }

    /// The part of these committed transactions (in commit order) this client may see, as the text
    /// of one `changes` frame continuing from the client's cursor; `None` if none of it is for this
    /// client. Each commit is filtered with the visibility as of that commit.
    async fn changes_frame(&mut self, commits: &[Arc<[FeedRecord]>]) -> anyhow::Result<Option<String>> {
        let me = self.viewer.agent.id;
        let mut visible: Vec<Cow<'_, FeedRecord>> = Vec::new();
        let mut at_next: Option<&FeedRecord> = None;
        for records in commits {
            let fresh: Vec<&FeedRecord> = records.iter().filter(|r| r.change.seq > self.seen).collect();
            let Some(&last) = fresh.last() else { continue };
            let commit_next = last.change.seq;
            at_next = Some(last);
            let touches_visibility = fresh.iter().any(|r| match r.change.entity {
                EntityKind::Inbox | EntityKind::Team => true,
                EntityKind::Agent => r.change.id == me,
                _ => false,
            });
            if touches_visibility {
                let (agent, visibility) =
                    self.state.workspace.visibility(me).await.map_err(|e| anyhow::anyhow!(e.message))?;
                self.viewer.agent = agent;
                self.visible = visibility;
            }
            self.seen = commit_next;
            let fresh: Vec<&FeedRecord> =
                fresh.into_iter().filter(|r| r.visible_to(me, &self.visible.inboxes)).collect();
            // The commit's conversations first: its messages go by where their conversation ends
            // up. Only one that has just left the view is sent as a removal: a conversation hidden
            // all along (a colleague's, in `mine_only`) costs the stream nothing when it changes.
            let mut left = std::collections::HashSet::new();
            for record in &fresh {
                if let (EntityKind::Conversation, Some(data)) = (record.change.entity, &record.change.data) {
                    if self.visible.note_conversation(record.change.id, data) {
                        left.insert(record.change.id);
                    }
                }
            }
            for record in fresh {
                let change = &record.change;
                match self.visible.verdict(change.entity, change.id, change.data.as_ref(), true) {
                    Verdict::Send => visible.push(Cow::Borrowed(record)),
                    Verdict::AsRemoval if left.contains(&change.id) => {
                        visible.push(Cow::Owned(FeedRecord::new(
                            Change { op: ChangeOp::Delete, data: None, ..change.clone() },
                            record.inbox_id,
                            Some(me),
                        )))
                    }
                    Verdict::AsRemoval | Verdict::Withhold => {}
                }
            }
        }
        if visible.is_empty() {
            return Ok(None);
        }
        let check = at_next.map(FeedRecord::cursor_check).unwrap_or_default();
        let visible: Vec<&FeedRecord> = visible.iter().map(|record| record.as_ref()).collect();
        let text = changes_frame_text(self.client_cursor, self.seen, check, &visible);
        self.client_cursor = self.seen;
        Ok(Some(text))
    }

    /// Typing and viewing from this client, passed on to those who can see the conversation.
    async fn client_frame(&self, text: &str) {
        let Ok(frame) = serde_json::from_str::<ClientFrame>(text) else {
            tracing::debug!("ignoring a malformed client frame");
            return;
        };
        let (conversation_id, active, typing) = match frame {
            ClientFrame::Typing { conversation_id, active } => (conversation_id, active, true),
            ClientFrame::Viewing { conversation_id, active } => (conversation_id, active, false),
        };
        let Ok(inbox) = self.state.workspace.conversation_inbox(&self.viewer, conversation_id).await else {
            return;
        };
        let agent_id = self.viewer.agent.id;
        let frame = if typing {
            ServerFrame::Typing { conversation_id, agent_id, active }
        } else {
            ServerFrame::Viewing { conversation_id, agent_id, active }
        };
        self.state.workspace.bus().publish(BusEvent::Ephemeral {
            inbox_id: Some(inbox.id),
            from_agent: agent_id,
            frame,
        });
    }
}

/// What a `recv()` on the bus gives.
type BusReceipt = Result<BusEvent, RecvError>;

/// `first` and the commits queued right behind it (at most `MAX_COMMITS_PER_FRAME`), in commit
/// order, and the event of another kind (or lag, or close) that stopped the draining, to be handled
/// next. Never waits: only what is already in the channel.
fn waiting_commits(
    first: Arc<[FeedRecord]>,
    bus: &mut broadcast::Receiver<BusEvent>,
) -> (Vec<Arc<[FeedRecord]>>, Option<BusReceipt>) {
    let mut commits = vec![first];
    while commits.len() < MAX_COMMITS_PER_FRAME {
        match bus.try_recv() {
            Ok(BusEvent::Changes(more)) => commits.push(more),
            Ok(other) => return (commits, Some(Ok(other))),
            Err(TryRecvError::Lagged(skipped)) => return (commits, Some(Err(RecvError::Lagged(skipped)))),
            Err(TryRecvError::Closed) => return (commits, Some(Err(RecvError::Closed))),
            Err(TryRecvError::Empty) => break,
        }
    }
    (commits, None)
}

/// `ServerFrame::Changes { since, next, check, changes }` as JSON, from changes rendered once for
/// every stream (the test below holds it to serde's rendering of the frame). `check` is hex.
fn changes_frame_text(since: i64, next: i64, check: &str, records: &[&FeedRecord]) -> String {
    let length = records.iter().map(|r| r.change_json().len() + 1).sum::<usize>() + 96;
    let mut text = String::with_capacity(length);
    text.push_str(&format!(
        r#"{{"type":"changes","since":{since},"next":{next},"check":"{check}","changes":["#
    ));
    for (index, record) in records.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(record.change_json());
    }
    text.push_str("]}");
    text
}

async fn send<S>(sink: &mut S, frame: &ServerFrame) -> anyhow::Result<()>
where
    S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
{
    send_message(sink, Message::Text(serde_json::to_string(frame)?.into())).await
}

/// Sends one message, failing if the client has not taken it within [`SEND_TIMEOUT`]. Nearly every
/// send completes at its first poll (the socket's buffer has room); only one that has to wait
/// arms the timer, so a frame costs no timer registration in the common case.
async fn send_message<S>(sink: &mut S, message: Message) -> anyhow::Result<()>
where
    S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
{
    let mut sending = std::pin::pin!(sink.send(message));
    if let Some(sent) = sending.as_mut().now_or_never() {
        return Ok(sent?);
    }
    tokio::time::timeout(SEND_TIMEOUT, sending).await??;
    Ok(())
}

/// Reads the client's side of a stream: its text frames (typing, viewing) go to the connection, in
/// order; the channel closes when the client closes the socket or it fails. Waits while the
/// connection has [`CLIENT_FRAMES`] unhandled, so a client cannot queue without bound.
async fn read_client(
    mut source: futures_util::stream::SplitStream<WebSocket>,
    frames: tokio::sync::mpsc::Sender<Utf8Bytes>,
) {
    while let Some(Ok(message)) = source.next().await {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return,
            _ => continue,
        };
        // Nobody takes it when the connection has ended.
        if frames.send(text).await.is_err() {
            return;
        }
    }
}

/// A task that ends when its handle is dropped (a stream's reader, with the stream).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(seq: i64) -> Arc<[FeedRecord]> {
        let id = Id::new_v4();
        Arc::new([FeedRecord::new(
            Change { seq, entity: EntityKind::Pin, id, op: ChangeOp::Delete, data: None },
            None,
            None,
        )])
    }

    fn seqs(commits: &[Arc<[FeedRecord]>]) -> Vec<i64> {
        commits.iter().flat_map(|c| c.iter().map(|r| r.change.seq)).collect()
    }

    fn first_commit(event: BusReceipt) -> Arc<[FeedRecord]> {
        match event {
            Ok(BusEvent::Changes(records)) => records,
            _ => panic!("expected a commit"),
        }
    }

    #[tokio::test]
    async fn waiting_commits_go_out_together_and_other_events_keep_their_place() {
        let (bus, mut receiver) = broadcast::channel(256);
        for seq in 1..=3 {
            bus.send(BusEvent::Changes(commit(seq))).expect("subscribed");
        }
        let typing =
            ServerFrame::Typing { conversation_id: Id::new_v4(), agent_id: Id::new_v4(), active: true };
        bus.send(BusEvent::Ephemeral { inbox_id: None, from_agent: Id::new_v4(), frame: typing.clone() })
            .expect("subscribed");
        bus.send(BusEvent::Changes(commit(4))).expect("subscribed");

        let first = first_commit(receiver.recv().await);
        let (commits, stopped_by) = waiting_commits(first, &mut receiver);
        assert_eq!(seqs(&commits), [1, 2, 3], "the commits queued before the typing event, in order");
        match stopped_by {
            Some(Ok(BusEvent::Ephemeral { frame, .. })) => assert_eq!(frame, typing),
            _ => panic!("the typing event is handed back to go out next"),
        }
        let first = first_commit(receiver.recv().await);
        let (commits, stopped_by) = waiting_commits(first, &mut receiver);
        assert_eq!(seqs(&commits), [4]);
        assert!(stopped_by.is_none(), "nothing else was waiting");
    }

    #[tokio::test]
    async fn a_long_queue_is_sent_in_bounded_frames_and_lag_is_reported() {
        let (bus, mut receiver) = broadcast::channel(256);
        let queued = MAX_COMMITS_PER_FRAME as i64 + 10;
        for seq in 1..=queued {
            bus.send(BusEvent::Changes(commit(seq))).expect("subscribed");
        }
        let first = first_commit(receiver.recv().await);
        let (commits, stopped_by) = waiting_commits(first, &mut receiver);
        assert_eq!(seqs(&commits), (1..=MAX_COMMITS_PER_FRAME as i64).collect::<Vec<_>>());
        assert!(stopped_by.is_none());
        let first = first_commit(receiver.recv().await);
        let (commits, _) = waiting_commits(first, &mut receiver);
        assert_eq!(seqs(&commits), (MAX_COMMITS_PER_FRAME as i64 + 1..=queued).collect::<Vec<_>>());

        // A receiver that fell out of the channel's window hears about it rather than skipping silently.
        let (bus, mut receiver) = broadcast::channel(4);
        bus.send(BusEvent::Changes(commit(1))).expect("subscribed");
        let first = first_commit(receiver.recv().await);
        for seq in 2..=10 {
            bus.send(BusEvent::Changes(commit(seq))).expect("subscribed");
        }
        let (commits, stopped_by) = waiting_commits(first, &mut receiver);
        assert_eq!(seqs(&commits), [1]);
        assert!(matches!(stopped_by, Some(Err(RecvError::Lagged(_)))));
    }

    #[test]
    fn a_changes_frame_from_rendered_changes_is_the_frame_serde_renders() {
        let id = Id::new_v4();
        let records = [
            FeedRecord::new(
                Change {
                    seq: 41,
                    entity: EntityKind::Message,
                    id,
                    op: ChangeOp::Upsert,
                    data: Some(serde_json::json!({"id": id, "body": "سلام \"quoted\" ✓"})),
                },
                None,
                None,
            ),
            FeedRecord::new(
                Change { seq: 42, entity: EntityKind::Pin, id, op: ChangeOp::Delete, data: None },
                None,
                None,
            ),
        ];
        let check = records[1].cursor_check();
        let text = changes_frame_text(40, 42, check, &records.iter().collect::<Vec<_>>());
        let expected = ServerFrame::Changes {
            since: 40,
            next: 42,
            check: Some(check.to_owned()),
            changes: records.iter().map(|r| r.change.clone()).collect(),
        };
        assert_eq!(serde_json::from_str::<ServerFrame>(&text).expect("valid frame"), expected);
        assert_eq!(text, serde_json::to_string(&expected).expect("serialise"));
    }
}
