//! The website widget's visitors in the domain. A visitor is anonymous: starting a session makes
//! a random token the browser keeps (localStorage) and stores only its sha256, beside the inbox
//! (the inbox's server-only state, `email_state`, key `widget:<hash>`), with the visitor's id.
//! Every later call names the token; an unknown one, or one unused for [`SESSION_IDLE_MS`], is
//! refused `unauthorized`. The visitor's contact (identity `visitor:<id>` in the inbox) is made by
//! their first message, through the inbound path every channel uses ([`super::ingest`]); what a
//! visitor reads is only their own conversations in this inbox, and in them only their own
//! messages and the replies the delivery job has sent (never notes, activity lines, queued or
//! failed replies, or anything about the agents).
//!
//! An expired session is deleted by its durable timer `widget-session:<inbox>:<hash>`
//! ([`EXPIRY`]), due when the session runs out and moved whenever its use is recorded; the timer
//! loop fires it on the injected clock ([`expire_session`], from `timers.rs`), and with several
//! nodes exactly one of them does: the timer and the session are re-read inside the write
//! transaction, which every node serialises on the feed lock.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use super::{deliveries::connector_settings, ingest, Workspace};
use crate::{
    connectors::ConnectorSettings,
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{StoreRead, StoreReadExt, StoreTx, StoreTxExt, TimerRecord},
};

/// A session unused for this long is over (the visitor starts a new one).
pub const SESSION_IDLE_MS: Millis = 30 * 24 * 3600 * 1000;
/// Sessions one address may start per inbox in [`SESSION_WINDOW_MS`].
pub const MAX_NEW_SESSIONS: usize = 20;
pub const SESSION_WINDOW_MS: Millis = 10 * 60 * 1000;
/// How stale a session's last use may be before a call records it again (one write an hour at
/// most, not one per call).
const TOUCH_AFTER_MS: Millis = 3600 * 1000;
/// The prefix of a session's expiry timer: `widget-session:<inbox id>:<token hash>`.
pub(super) const EXPIRY: &str = "widget-session:";

/// A visitor's session, as stored (under the token's hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    visitor_id: Id,
    created_at: Millis,
    used_at: Millis,
}

/// Whom a valid token names.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub inbox_id: Id,
    pub visitor_id: Id,
}

impl Visitor {
    /// The visitor's id on the channel: their contact's identity in the inbox.
    pub fn external_id(&self) -> String {
        format!("visitor:{}", self.visitor_id)
    }
}

/// What the widget shows before anything is written: the inbox's greeting and colour, and
/// whether any agent of the inbox is online (else it offers to leave an email).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WidgetSession {
    /// The visitor's token: sent back as `Authorization: Bearer` on every later call.
    pub token: String,
    #[schema(value_type = String, format = Uuid)]
    pub visitor_id: Id,
    pub greeting: String,
    pub color: String,
    pub agents_online: bool,
    /// The email the visitor left, if any.
    pub email: Option<String>,
}

/// A message as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitorMessage {
    #[schema(value_type = String, format = Uuid)]
    pub id: Id,
    /// `visitor` (their own) or `agent` (a reply, an automatic one included).
    pub from: String,
    pub body: String,
    pub attachments: Vec<VisitorAttachment>,
    pub created_at: Millis,
    /// For replies: `sent`, `delivered` or `read`.
    pub delivery: DeliveryState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitorAttachment {
    #[schema(value_type = String, format = Uuid)]
    pub id: Id,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

fn session_key(token: &str) -> String {
    format!("widget:{}", token_hash(token))
}

/// When a session last used at `used_at` is over: the first instant [`session`] refuses it.
fn expires_at(record: &SessionRecord) -> Millis {
    record.used_at.saturating_add(SESSION_IDLE_MS + 1)
}

/// Stores a session and (re)schedules the timer that deletes it once it is over.
fn save_session(tx: &mut dyn StoreTx, inbox_id: Id, token: &str, record: &SessionRecord) -> Outcome<()> {
    tx.set_email_state(inbox_id, &session_key(token), Some(&serde_json::to_value(record)?))?;
    let timer = TimerRecord {
        key: format!("{EXPIRY}{inbox_id}:{}", token_hash(token)),
        due_at: expires_at(record),
        payload: serde_json::Value::Null,
    };
    tx.schedule_timer(&timer)?;
    Ok(())
}

/// A session's expiry timer fell due (`timers.rs` fires `widget-session:<inbox>:<hash>`, removed
/// already): the session is deleted if it is over, else (used since, on another node's clock
/// or before the timer was moved) the timer is set again for its new end.
pub(super) fn expire_session(tx: &mut dyn StoreTx, timer: &TimerRecord) -> Outcome<()> {
    let rest = timer.key.strip_prefix(EXPIRY).unwrap_or_default();
    let Some((inbox_id, hash)) =
        rest.split_once(':').and_then(|(id, hash)| Some((id.parse::<Id>().ok()?, hash)))
    else {
        tracing::warn!(key = %timer.key, "a widget session timer with a malformed key was dropped");
        return Ok(());
    };
    let key = format!("widget:{hash}");
    let Some(value) = tx.email_state(inbox_id, &key)? else { return Ok(()) };
    let end = match serde_json::from_value::<SessionRecord>(value) {
        Ok(record) => expires_at(&record),
        // Unreadable: no token can use it, so it goes.
        Err(_) => Millis::MIN,
    };
    if tx.now() >= end {
        tx.set_email_state(inbox_id, &key, None)?;
    } else {
        tx.schedule_timer(&TimerRecord { due_at: end, ..timer.clone() })?;
    }
    Ok(())
}

/// The inbox, when it is a widget inbox: its settings.
fn widget_inbox(store: &(impl StoreRead + ?Sized), inbox_id: Id) -> Outcome<(Inbox, WidgetSettings)> {
    let inbox: Inbox = store.get(inbox_id)?.ok_or_else(|| Refusal::not_found("widget"))?;
    match connector_settings(store, inbox_id)? {
        Some(ConnectorSettings::Widget(settings)) => Ok((inbox, settings)),
        _ => Err(Refusal::not_found("widget")),
    }
}

/// The session a token names, if it is valid now.
fn session(store: &(impl StoreRead + ?Sized), inbox_id: Id, token: &str) -> Outcome<SessionRecord> {
    let expired = || Refusal::unauthorized("this chat session is unknown or has expired: start a new one");
    if token.trim().is_empty() || token.len() > 200 {
        return Err(expired());
    }
    let record = store.email_state(inbox_id, &session_key(token))?.ok_or_else(expired)?;
    let record: SessionRecord = serde_json::from_value(record)?;
    if store.now() - record.used_at > SESSION_IDLE_MS {
        return Err(expired());
    }
    Ok(record)
}

/// The visitor's contact, once their first message or email made one.
fn contact_of(store: &(impl StoreRead + ?Sized), visitor: &Visitor) -> Outcome<Option<Contact>> {
    let Some(id) = store.contact_by_identity(visitor.inbox_id, &visitor.external_id())? else {
        return Ok(None);
    };
    Ok(store.get::<Contact>(id)?)
}

/// The visitor's conversations in the inbox.
fn conversations_of(store: &(impl StoreRead + ?Sized), visitor: &Visitor) -> Outcome<Vec<Conversation>> {
    let Some(contact) = contact_of(store, visitor)? else { return Ok(vec![]) };
    let mut conversations: Vec<Conversation> = store
        .contact_conversations(contact.id)?
        .into_iter()
        .filter(|c| c.inbox_id == visitor.inbox_id)
        .collect();
    conversations.sort_by_key(|c| (c.created_at, c.id));
    Ok(conversations)
}

/// What of `message` the visitor may read, if anything.
fn visible(message: &Message) -> Option<VisitorMessage> {
    let from = match (message.kind, &message.sender) {
        (MessageKind::Incoming, Sender::Contact { .. }) => "visitor",
        (MessageKind::Outgoing, Sender::Agent { .. } | Sender::System)
            if matches!(
                message.delivery,
                DeliveryState::Sent | DeliveryState::Delivered | DeliveryState::Read
            ) =>
        {
            "agent"
        }
        _ => return None,
    };
    Some(VisitorMessage {
        id: message.id,
        from: from.into(),
        body: message.body.clone(),
        attachments: message
            .attachments
            .iter()
            .map(|a| VisitorAttachment {
                id: a.id,
                file_name: a.file_name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
            })
            .collect(),
        created_at: message.created_at,
        delivery: message.delivery,
    })
}

fn thread(store: &(impl StoreRead + ?Sized), visitor: &Visitor) -> Outcome<Vec<VisitorMessage>> {
    let mut messages = Vec::new();
    for conversation in conversations_of(store, visitor)? {
        messages.extend(store.messages_of(conversation.id)?.iter().filter_map(visible));
    }
    messages.sort_by_key(|m| (m.created_at, m.id));
    Ok(messages)
}

/// Whether an agent who works the inbox (a member, or in one of its teams) has a stream open.
fn agents_online(store: &(impl StoreRead + ?Sized), inbox: &Inbox) -> Outcome<bool> {
    for agent_id in store.streaming_agents()? {
        if let Some(agent) = store.get::<Agent>(agent_id)? {
            if agent.active && rules::is_inbox_member(&agent, inbox) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Records the session's use when the last one is older than [`TOUCH_AFTER_MS`].
fn touch(tx: &mut dyn StoreTx, inbox_id: Id, token: &str, mut record: SessionRecord) -> Outcome<()> {
    let now = tx.now();
    if now - record.used_at >= TOUCH_AFTER_MS {
        record.used_at = now;
        save_session(tx, inbox_id, token, &record)?;
    }
    Ok(())
}

impl Workspace {
    /// Starts a session (`token: None`), or resumes the one `token` names (refused `unauthorized`
    /// when unknown or expired). New sessions are limited per client address and inbox.
    pub async fn widget_session(
        &self,
        inbox_id: Id,
        token: Option<String>,
        client: String,
    ) -> Outcome<WidgetSession> {
        self.write(move |tx| {
            let (inbox, settings) = widget_inbox(&*tx, inbox_id)?;
            let now = tx.now();
            let (token, visitor_id) = match token {
                Some(token) => {
                    let record = session(&*tx, inbox_id, &token)?;
                    let visitor_id = record.visitor_id;
                    touch(tx, inbox_id, &token, record)?;
                    (token, visitor_id)
                }
                None => {
                    let key = format!("widget-session|{inbox_id}|{client}");
                    let recent = tx.login_failures(&key, now - SESSION_WINDOW_MS + 1)?;
                    if recent.len() >= MAX_NEW_SESSIONS {
                        let free_at = recent[recent.len() - MAX_NEW_SESSIONS] + SESSION_WINDOW_MS;
                        let secs = u64::try_from(free_at - now).unwrap_or(0).div_ceil(1000).max(1);
                        let mut refusal = Refusal::new(
                            ErrorCode::RateLimited,
                            format!("too many new chat sessions from here; try again in {secs} s"),
                        );
                        refusal.retry_after_secs = Some(secs);
                        return Err(refusal);
                    }
                    tx.record_login_failure(&key, now, now - SESSION_WINDOW_MS)?;
                    let mut bytes = [0u8; 32];
                    rand::thread_rng().fill_bytes(&mut bytes);
                    let token = hex::encode(bytes);
                    let record = SessionRecord { visitor_id: Id::new_v4(), created_at: now, used_at: now };
                    save_session(tx, inbox_id, &token, &record)?;
                    (token, record.visitor_id)
                }
            };
            let visitor = Visitor { inbox_id, visitor_id };
            let email = contact_of(&*tx, &visitor)?.and_then(|c| c.email);
            Ok(WidgetSession {
                token,
                visitor_id,
                greeting: settings.greeting.clone(),
                color: crate::connectors::widget::color(&settings).to_owned(),
                agents_online: agents_online(&*tx, &inbox)?,
                email,
            })
        })
        .await
    }

    /// Whom `token` names on the inbox (`unauthorized` when nobody, now).
    pub async fn widget_visitor(&self, inbox_id: Id, token: String) -> Outcome<Visitor> {
        self.read(move |store| {
            widget_inbox(store, inbox_id)?;
            let record = session(store, inbox_id, &token)?;
            Ok(Visitor { inbox_id, visitor_id: record.visitor_id })
        })
        .await
    }

    /// The inbox's widget settings (the CORS check reads them), if it is a widget inbox.
    pub async fn widget_settings(&self, inbox_id: Id) -> Outcome<WidgetSettings> {
        self.read(move |store| Ok(widget_inbox(store, inbox_id)?.1)).await
    }

    /// Everything the visitor may read, oldest first.
    pub async fn widget_thread(&self, visitor: Visitor) -> Outcome<Vec<VisitorMessage>> {
        self.read(move |store| thread(store, &visitor)).await
    }

    /// The ids of the visitor's conversations and their contact's id (the live channel's filter).
    pub async fn widget_conversations(&self, visitor: Visitor) -> Outcome<(Option<Id>, Vec<Id>)> {
        self.read(move |store| {
            let contact = contact_of(store, &visitor)?.map(|c| c.id);
            Ok((contact, conversations_of(store, &visitor)?.iter().map(|c| c.id).collect()))
        })
        .await
    }

    /// Whether an agent of the inbox is online.
    pub async fn widget_agents_online(&self, inbox_id: Id) -> Outcome<bool> {
        self.read(move |store| {
            let (inbox, _) = widget_inbox(store, inbox_id)?;
            agents_online(store, &inbox)
        })
        .await
    }

    /// A visitor's message, through the inbound path of every channel: deduplicated on the
    /// page's `client_id` (a retried send is stored once).
    pub async fn widget_send(
        &self,
        visitor: Visitor,
        token: String,
        client_id: Id,
        body: String,
        files: Vec<super::StoredFile>,
    ) -> Outcome<InboundResult> {
        self.write(move |tx| {
            let record = session(&*tx, visitor.inbox_id, &token)?;
            touch(tx, visitor.inbox_id, &token, record)?;
            let inbound = InboundMessage {
                contact: InboundContact {
                    external_id: visitor.external_id(),
                    name: Some(format!("Website visitor {}", &visitor.visitor_id.simple().to_string()[..6])),
                    phone: None,
                    email: None,
                },
                message: InboundBody {
                    external_id: format!("{}:{client_id}", visitor.external_id()),
                    body,
                    attachments: vec![],
                },
            };
            ingest::ingest_placed(tx, visitor.inbox_id, inbound, files, ingest::Placement::Default, false)
        })
        .await
    }

    /// The stored file of an attachment in the visitor's own conversation (else `not_found`).
    pub async fn widget_attachment_sha256(&self, visitor: Visitor, attachment_id: Id) -> Outcome<String> {
        self.read(move |store| {
            let mine =
                thread(store, &visitor)?.iter().any(|m| m.attachments.iter().any(|a| a.id == attachment_id));
            let record = store.attachment(attachment_id)?.filter(|_| mine);
            Ok(record.ok_or_else(|| Refusal::not_found("attachment"))?.attachment.sha256)
        })
        .await
    }

    /// The visitor's page has (`delivered`) or showed (`read`) these replies: each moves forward
    /// only, and only a reply in the visitor's own conversations; how many moved.
    pub async fn widget_seen(&self, visitor: Visitor, ids: Vec<Id>, state: DeliveryState) -> Outcome<usize> {
        if !matches!(state, DeliveryState::Delivered | DeliveryState::Read) {
            return Err(Refusal::validation("state must be delivered or read"));
        }
        self.write(move |tx| {
            let mine: std::collections::HashSet<Id> =
                conversations_of(&*tx, &visitor)?.iter().map(|c| c.id).collect();
            let mut statuses = Vec::new();
            for id in ids {
                let Some(message) = tx.get::<Message>(id)? else { continue };
                if mine.contains(&message.conversation_id) && visible(&message).is_some() {
                    statuses.push(crate::connectors::StatusUpdate {
                        provider_id: id.to_string(),
                        state,
                        failure: None,
                    });
                }
            }
            super::deliveries::apply_statuses(tx, visitor.inbox_id, statuses)
        })
        .await
    }

    /// "Leave your email": stored on the visitor's contact (made now if they have not written).
    pub async fn widget_leave_email(&self, visitor: Visitor, token: String, email: String) -> Outcome<()> {
        let email = email.trim().to_owned();
        policy::check_contact_fields("visitor", None, Some(&email))?;
        self.write(move |tx| {
            let record = session(&*tx, visitor.inbox_id, &token)?;
            touch(tx, visitor.inbox_id, &token, record)?;
            let inboxes = super::cached::inboxes(tx)?;
            let inbox = inboxes.get(visitor.inbox_id).ok_or_else(|| Refusal::not_found("inbox"))?.clone();
            let from = InboundContact {
                external_id: visitor.external_id(),
                name: Some(format!("Website visitor {}", &visitor.visitor_id.simple().to_string()[..6])),
                phone: None,
                email: None,
            };
            let mut contact = super::contacts::upsert_from_channel(tx, &inbox, &from)?;
            if contact.email.as_deref() != Some(email.as_str()) {
                contact.email = Some(email);
                tx.put(&contact, super::contacts::audience_of(&contact))?;
            }
            Ok(())
        })
        .await
    }
}
