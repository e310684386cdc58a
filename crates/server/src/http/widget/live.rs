//! The visitor's live channel: Server-Sent Events (`GET /api/v1/widget/{id}/live`, read by the
//! widget with `fetch` so the token goes in a header, not the URL). It listens to the bus every
//! stream listens to and sends the visitor
//! - `message`: each message of theirs as it becomes readable or its delivery state moves (all of
//!   them once on connecting), as `VisitorMessage` JSON;
//! - `typing`: `{"active": bool}` when an agent types in one of their conversations (the agent is
//!   not named);
//! - `presence`: `{"agents_online": bool}` on connecting and whenever it changes.
//!
//! Nothing is taken from a bus record but the fact that something of the visitor's changed: what
//! is sent is always re-read through the visitor's own view (`workspace/widget.rs`), so no other
//! visitor's message, note or agent data can ride along.

use std::{collections::HashMap, convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::Stream;
use switchboard_proto::*;
use tokio::sync::{broadcast::error::RecvError, mpsc};

use super::visitor;
use crate::{
    bus::BusEvent,
    error::{ApiResult, Path},
    http::AppState,
    workspace::{Visitor, Workspace},
};

/// The live channel of the visitor the bearer token names.
#[utoipa::path(get, path = "/api/v1/widget/{id}/live", tag = "widget", operation_id = "widget_live", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "text/event-stream", body = String,
               description = "events `message` (VisitorMessage), `typing` ({active}), `presence` ({agents_online})"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn live(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (visitor, _) = visitor(&state, inbox_id, &headers).await?;
    // Subscribed before the first read, so nothing committed in between is missed.
    let bus = state.workspace.bus().subscribe();
    let (sender, receiver) = mpsc::channel(64);
    let mut follow = Follow {
        workspace: state.workspace.clone(),
        visitor,
        contact: None,
        conversations: vec![],
        sent: HashMap::new(),
        online: None,
        sender,
    };
    follow.resync().await?;
    follow.presence().await?;
    tokio::spawn(follow.run(bus, state.shutdown.clone()));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Follow {
    workspace: Workspace,
    visitor: Visitor,
    contact: Option<Id>,
    conversations: Vec<Id>,
    /// Each message sent so far, with the delivery state it was sent with.
    sent: HashMap<Id, DeliveryState>,
    online: Option<bool>,
    sender: mpsc::Sender<Event>,
}

impl Follow {
    async fn send(&self, event: &str, data: &impl serde::Serialize) -> bool {
        let Ok(event) = Event::default().event(event).json_data(data) else { return true };
        self.sender.send(event).await.is_ok()
    }

    /// Re-reads the visitor's conversations and sends what is new or moved.
    async fn resync(&mut self) -> crate::refusal::Outcome<bool> {
        let (contact, conversations) = self.workspace.widget_conversations(self.visitor.clone()).await?;
        self.contact = contact;
        self.conversations = conversations;
        self.refresh().await
    }

    async fn refresh(&mut self) -> crate::refusal::Outcome<bool> {
        for message in self.workspace.widget_thread(self.visitor.clone()).await? {
            if self.sent.get(&message.id) != Some(&message.delivery) {
                self.sent.insert(message.id, message.delivery);
                if !self.send("message", &message).await {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn presence(&mut self) -> crate::refusal::Outcome<bool> {
        let online = self.workspace.widget_agents_online(self.visitor.inbox_id).await?;
        if self.online == Some(online) {
            return Ok(true);
        }
        self.online = Some(online);
        Ok(self.send("presence", &serde_json::json!({ "agents_online": online })).await)
    }

    /// What a committed change means for this visitor: nothing, a re-read of the thread, or of
    /// their conversations too (their contact or a conversation of theirs was written).
    fn concerns(&self, change: &Change) -> (bool, bool) {
        let data = change.data.as_ref();
        let field = |name: &str| data.and_then(|d| d.get(name)).and_then(|v| v.as_str()).map(str::to_owned);
        match change.entity {
            EntityKind::Message => {
                let conversation = field("conversation_id").and_then(|id| id.parse::<Id>().ok());
                (conversation.is_some_and(|id| self.conversations.contains(&id)), false)
            }
            EntityKind::Conversation => {
                let contact = field("contact_id").and_then(|id| id.parse::<Id>().ok());
                let mine = contact.is_some() && contact == self.contact;
                (mine, mine && !self.conversations.contains(&change.id))
            }
            EntityKind::Contact => {
                let external_id = self.visitor.external_id();
                let mine =
                    data.and_then(|d| d.get("identities")).and_then(|i| i.as_array()).is_some_and(|ids| {
                        ids.iter()
                            .any(|i| i.get("external_id").and_then(|e| e.as_str()) == Some(&external_id))
                    });
                (mine, mine && self.contact != Some(change.id))
            }
            _ => (false, false),
        }
    }

    async fn run(
        mut self,
        mut bus: tokio::sync::broadcast::Receiver<BusEvent>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.sender.closed() => return,
                event = bus.recv() => event,
            };
            let going = match event {
                Ok(BusEvent::Changes(records)) => {
                    let (mut refresh, mut resync) = (false, false);
                    for record in
                        records.iter().filter(|r| r.inbox_id.is_none_or(|i| i == self.visitor.inbox_id))
                    {
                        let (r, s) = self.concerns(&record.change);
                        refresh |= r;
                        resync |= s;
                    }
                    if resync {
                        self.resync().await
                    } else if refresh {
                        self.refresh().await
                    } else {
                        Ok(true)
                    }
                }
                Ok(BusEvent::Ephemeral {
                    frame: ServerFrame::Typing { conversation_id, active, .. },
                    ..
                }) => {
                    if self.conversations.contains(&conversation_id) {
                        Ok(self.send("typing", &serde_json::json!({ "active": active })).await)
                    } else {
                        Ok(true)
                    }
                }
                Ok(BusEvent::Ephemeral { frame: ServerFrame::Presence { .. }, .. }) => self.presence().await,
                Ok(_) => Ok(true),
                // Fell behind: whatever was missed is in the store.
                Err(RecvError::Lagged(_)) => match self.resync().await {
                    Ok(true) => self.presence().await,
                    other => other,
                },
                Err(RecvError::Closed) => return,
            };
            match going {
                Ok(true) => {}
                Ok(false) => return,
                Err(refusal) => {
                    // The session expired or the inbox stopped being a widget: the page starts over.
                    tracing::debug!(message = %refusal.message, "a visitor's live channel ends");
                    return;
                }
            }
        }
    }
}
