//! `GET /api/v1/stream`: the WebSocket that replays the feed after `since` and then pushes new
//! changes as they commit, plus typing/viewing/presence events that never enter the feed.
//!
//! No gap at the replay/live boundary: the connection subscribes to the bus *before* reading the
//! replay, so every commit is either in the replay's snapshot or on the bus (and bus records at or
//! below the replayed cursor are skipped). A slow client never stalls others: the bus is a bounded
//! ring per receiver, and a receiver that falls behind it is closed with `CLOSE_OVERFLOW`; the
//! client resumes with `since`.

use std::time::Duration;

use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use switchboard_proto::*;
use tokio::sync::broadcast::error::RecvError;

use crate::{
    db::{BusEvent, FeedRecord, Viewer, VisibleInboxes},
    error::{ApiError, ApiResult, Query},
    http::AppState,
};

/// Replay page size.
const REPLAY_PAGE: usize = 500;
/// A client that doesn't take a frame within this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
pub struct StreamParams {
    #[serde(default)]
    pub since: i64,
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
    Ok(ws.on_upgrade(move |socket| async move {
        let agent_id = viewer.agent.id;
        if let Err(error) = Connection::run(state, viewer, params.since, socket).await {
            tracing::debug!(%agent_id, %error, "stream ended");
        }
    }))
}

struct Connection {
    state: AppState,
    viewer: Viewer,
    visible: VisibleInboxes,
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
        let mut bus = state.db.bus().subscribe();
        let (_, visible) =
            state.db.visible_inboxes(viewer.agent.id).await.map_err(|e| anyhow::anyhow!(e.message))?;
        let mut connection = Connection { state, viewer, visible, seen: since, client_cursor: since };
        let (mut sink, mut source) = socket.split();
        connection.presence(true);

        let ending = async {
            // Replay.
            loop {
                let page = connection.state.db.sync(&connection.viewer, connection.seen, REPLAY_PAGE).await
                    .map_err(|e| anyhow::anyhow!(e.message))?;
                if !page.changes.is_empty() || page.next != connection.client_cursor {
                    let frame = ServerFrame::Changes { since: connection.client_cursor, next: page.next, changes: page.changes };
                    send(&mut sink, &frame).await?;
                    connection.client_cursor = page.next;
                }
                connection.seen = page.next;
                if !page.has_more {
                    break;
                }
            }
            // Live.
            let mut ping = tokio::time::interval(PING_EVERY);
            ping.tick().await;
            loop {
                tokio::select! {
                    _ = connection.state.shutdown.cancelled() => {
                        return anyhow::Ok(close(CLOSE_SHUTDOWN, "server shutting down"));
                    }
                    event = bus.recv() => match event {
                        Ok(BusEvent::Changes(records)) => {
                            if let Some(text) = connection.changes_frame(&records).await? {
                                tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await??;
                            }
                        }
                        Ok(BusEvent::Ephemeral { inbox_id, from_agent, frame }) => {
                            let visible = inbox_id.is_none_or(|inbox| connection.visible.contains(&inbox));
                            if from_agent != connection.viewer.agent.id && visible {
                                send(&mut sink, &frame).await?;
                            }
                        }
                        Ok(BusEvent::Revoked(devices)) => {
                            if devices.contains(&connection.viewer.device_id) {
                                return Ok(close(CLOSE_REVOKED, "token revoked"));
                            }
                        }
                        Err(RecvError::Lagged(_)) => return Ok(close(CLOSE_OVERFLOW, "fell behind; resume with since")),
                        Err(RecvError::Closed) => return Ok(Ending::Closed),
                    },
                    incoming = source.next() => match incoming {
                        Some(Ok(Message::Text(text))) => connection.client_frame(&text).await,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(Ending::Closed),
                        Some(Ok(_)) => {}
                    },
                    _ = ping.tick() => {
                        tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Default::default()))).await??;
                    }
                }
            }
        }
        .await;

        connection.presence(false);
        match ending? {
            Ending::Send(frame) => {
                let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
            }
            Ending::Closed => {}
        }
        Ok(())
    }

    /// The part of one committed transaction this client may see, as the text of a `changes` frame
    /// continuing from the client's cursor; `None` if nothing in it is for this client.
    async fn changes_frame(&mut self, records: &[FeedRecord]) -> anyhow::Result<Option<String>> {
        let fresh: Vec<&FeedRecord> = records.iter().filter(|r| r.change.seq > self.seen).collect();
        let Some(last) = fresh.last() else { return Ok(None) };
        let batch_next = last.change.seq;
        let me = self.viewer.agent.id;
        let touches_visibility = fresh.iter().any(|r| match r.change.entity {
            EntityKind::Inbox | EntityKind::Team => true,
            EntityKind::Agent => r.change.id == me,
            _ => false,
        });
        if touches_visibility {
            let (agent, visible) =
                self.state.db.visible_inboxes(me).await.map_err(|e| anyhow::anyhow!(e.message))?;
            self.viewer.agent = agent;
            self.visible = visible;
        }
        self.seen = batch_next;
        let visible: Vec<&FeedRecord> =
            fresh.into_iter().filter(|r| r.visible_to(me, &self.visible)).collect();
        if visible.is_empty() {
            return Ok(None);
        }
        let text = changes_frame_text(self.client_cursor, batch_next, &visible);
        self.client_cursor = batch_next;
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
        let Ok(inbox) = self.state.db.conversation_inbox(&self.viewer, conversation_id).await else {
            return;
        };
        let agent_id = self.viewer.agent.id;
        let frame = if typing {
            ServerFrame::Typing { conversation_id, agent_id, active }
        } else {
            ServerFrame::Viewing { conversation_id, agent_id, active }
        };
        let _ = self.state.db.bus().send(BusEvent::Ephemeral {
            inbox_id: Some(inbox.id),
            from_agent: agent_id,
            frame,
        });
    }

    /// Counts this agent's open streams and announces the first connecting and the last leaving.
    fn presence(&self, connected: bool) {
        let agent = &self.viewer.agent;
        let changed = match self.state.connected.lock() {
            Ok(mut counts) => {
                let count = counts.entry(agent.id).or_insert(0);
                let before = *count;
                *count = if connected { before + 1 } else { before.saturating_sub(1) };
                let after = *count;
                if after == 0 {
                    counts.remove(&agent.id);
                }
                (before == 0) != (after == 0)
            }
            Err(_) => false,
        };
        if changed {
            let frame = ServerFrame::Presence {
                agent_id: agent.id,
                online: connected,
                availability: agent.availability,
            };
            let _ =
                self.state.db.bus().send(BusEvent::Ephemeral { inbox_id: None, from_agent: agent.id, frame });
        }
    }
}

/// `ServerFrame::Changes { since, next, changes }` as JSON, from changes rendered once for every
/// stream (the test below holds it to serde's rendering of the frame).
fn changes_frame_text(since: i64, next: i64, records: &[&FeedRecord]) -> String {
    let length = records.iter().map(|r| r.change_json().len() + 1).sum::<usize>() + 64;
    let mut text = String::with_capacity(length);
    text.push_str(&format!(r#"{{"type":"changes","since":{since},"next":{next},"changes":["#));
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
    let text = serde_json::to_string(frame)?;
    tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let text = changes_frame_text(40, 42, &records.iter().collect::<Vec<_>>());
        let expected = ServerFrame::Changes {
            since: 40,
            next: 42,
            changes: records.iter().map(|r| r.change.clone()).collect(),
        };
        assert_eq!(serde_json::from_str::<ServerFrame>(&text).expect("valid frame"), expected);
        assert_eq!(text, serde_json::to_string(&expected).expect("serialise"));
    }
}
