//! What deserves a desktop notification: a new unassigned conversation in an inbox the agent
//! sees, a new customer message on a conversation assigned to the agent, a mention of the agent,
//! a notice from the server itself on the agent's conversation (a snooze that ended, a
//! conversation routed to them, an SLA warning or breach), and, for a lead, an SLA escalation
//! step that tells the leads of the conversation's team. Decided on a feed batch's outcome (`Cache::apply_page`): a
//! conversation created and routed in one commit rings its new owner once, with the routing
//! notice, and nobody else. Never the agent's own actions, never anything older than the
//! account's sign-in (so a bootstrap doesn't ring for history), and each at most once (the cache
//! remembers what it raised).

use rusqlite::Connection;
use serde_json::Value;
use switchboard_proto::*;

use crate::error::CoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyReason {
    NewConversation,
    AssignedMessage,
    Mention,
    /// The server changed the agent's conversation on its own (a snooze ended, routing).
    ServerNotice,
    /// An SLA escalation step told the leads of the conversation's team (the agent is one).
    SlaEscalation,
}

/// A notification to raise.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Notification {
    /// Deduplication key ("conversation:…", "message:…", "mention:…").
    pub key: String,
    pub reason: NotifyReason,
    pub conversation_id: Id,
    /// Contact name and channel, e.g. "Ana Pop · WhatsApp Support".
    pub title: String,
    /// A preview of the message.
    pub body: String,
}

fn get<T: serde::de::DeserializeOwned>(conn: &Connection, table: &str, id: Id) -> Option<T> {
    conn.query_row(&format!("SELECT data FROM {table} WHERE id = ?1"), [id.to_string()], |row| {
        row.get::<_, Option<String>>(0)
    })
    .ok()
    .flatten()
    .and_then(|text| serde_json::from_str(&text).ok())
}

fn title(conn: &Connection, conversation: &Conversation) -> String {
    let contact =
        get::<Contact>(conn, "contacts", conversation.contact_id).map(|c| c.name).unwrap_or_default();
    let inbox = get::<Inbox>(conn, "inboxes", conversation.inbox_id).map(|i| i.name).unwrap_or_default();
    format!("{contact} · {inbox}")
}

/// Decides whether a change seen for the first time deserves a notification.
pub fn decide(
    conn: &Connection,
    me: Id,
    notify_after: Millis,
    kind: EntityKind,
    data: &Value,
) -> CoreResult<Option<Notification>> {
    // Anything from before sign-in never rings: decide that before decoding the record.
    if data["created_at"].as_i64().is_none_or(|at| at <= notify_after) {
        return Ok(None);
    }
    Ok(match kind {
        EntityKind::Conversation => {
            let Ok(conversation) = serde_json::from_value::<Conversation>(data.clone()) else {
                return Ok(None);
            };
            (conversation.created_at > notify_after && conversation.assignee_id.is_none()).then(|| {
                Notification {
                    key: format!("conversation:{}", conversation.id),
                    reason: NotifyReason::NewConversation,
                    conversation_id: conversation.id,
                    title: title(conn, &conversation),
                    body: conversation.preview.clone(),
                }
            })
        }
        EntityKind::Message => {
            let Ok(message) = serde_json::from_value::<Message>(data.clone()) else { return Ok(None) };
            if message.created_at <= notify_after {
                return Ok(None);
            }
            if message.kind == MessageKind::Activity && message.sender == Sender::System {
                // An agent's actions narrate themselves on their own screen; only the server's
                // own changes (timers) need telling, and only to whoever owns the conversation.
                let Some(conversation) = get::<Conversation>(conn, "conversations", message.conversation_id)
                else {
                    return Ok(None);
                };
                if conversation.assignee_id == Some(me) {
                    return Ok(Some(Notification {
                        key: format!("notice:{}", message.id),
                        reason: NotifyReason::ServerNotice,
                        conversation_id: conversation.id,
                        title: title(conn, &conversation),
                        body: preview(&message.body),
                    }));
                }
                return lead_escalation(conn, me, notify_after, &conversation);
            }
            if message.kind != MessageKind::Incoming {
                return Ok(None);
            }
            let Some(conversation) = get::<Conversation>(conn, "conversations", message.conversation_id)
            else {
                return Ok(None);
            };
            // The opening message of a conversation rings as the conversation: "new conversation"
            // when nobody holds it, the routing notice when it was routed to the agent as it came.
            let is_opening = conversation.created_at == message.created_at;
            (conversation.assignee_id == Some(me) && !is_opening).then(|| Notification {
                key: format!("message:{}", message.id),
                reason: NotifyReason::AssignedMessage,
                conversation_id: conversation.id,
                title: title(conn, &conversation),
                body: preview(&message.body),
            })
        }
        EntityKind::Mention => {
            let Ok(mention) = serde_json::from_value::<Mention>(data.clone()) else { return Ok(None) };
            if mention.agent_id != me || mention.mentioned_by == me || mention.created_at <= notify_after {
                return Ok(None);
            }
            let conversation = get::<Conversation>(conn, "conversations", mention.conversation_id);
            let note = get::<Message>(conn, "messages", mention.message_id);
            let by = get::<Agent>(conn, "agents", mention.mentioned_by).map(|a| a.name).unwrap_or_default();
            conversation.map(|conversation| Notification {
                key: format!("mention:{}", mention.id),
                reason: NotifyReason::Mention,
                conversation_id: conversation.id,
                title: format!("{by} mentioned you · {}", title(conn, &conversation)),
                body: note.map(|n| preview(&n.body)).unwrap_or_default(),
            })
        }
        _ => None,
    })
}

/// The leads of the conversation's team (or of its inbox's teams, when it has none) hear of an
/// SLA escalation step that names them. The step is recorded on the conversation's clock, which
/// travels in the same commit as the server's line about it: the line is the new record that
/// makes the cache decide, the clock says whom it is for. One notification per step (its key),
/// so a line for the warning and one for the breach ring once each.
fn lead_escalation(
    conn: &Connection,
    me: Id,
    notify_after: Millis,
    conversation: &Conversation,
) -> CoreResult<Option<Notification>> {
    let Some(sla) = &conversation.sla else { return Ok(None) };
    let Some(agent) = get::<Agent>(conn, "agents", me) else { return Ok(None) };
    if !matches!(agent.role, Role::Lead | Role::Admin) {
        return Ok(None);
    }
    let teams = match conversation.team_id {
        Some(team) => vec![team],
        None => get::<Inbox>(conn, "inboxes", conversation.inbox_id)
            .map(|i| i.member_team_ids)
            .unwrap_or_default(),
    };
    if !teams.iter().any(|team| agent.team_ids.contains(team)) {
        return Ok(None);
    }
    for clock in &sla.clocks {
        let told = clock
            .escalations
            .iter()
            .filter(|run| run.notify == Some(sla::SlaNotify::TeamLeads) && run.at > notify_after);
        for run in told {
            let key = format!(
                "sla:{}:{}:{:?}:{}:{}",
                conversation.id, sla.cycle, clock.metric, clock.instance, run.step
            );
            let rung: bool =
                conn.query_row("SELECT EXISTS (SELECT 1 FROM notified WHERE key = ?1)", [&key], |row| {
                    row.get(0)
                })?;
            if rung {
                continue;
            }
            let what = if clock.breached_at.is_some_and(|at| at <= run.at) { "breached" } else { "warning" };
            return Ok(Some(Notification {
                key,
                reason: NotifyReason::SlaEscalation,
                conversation_id: conversation.id,
                title: title(conn, conversation),
                body: format!("SLA {what}: {}", metric_name(clock.metric)),
            }));
        }
    }
    Ok(None)
}

fn metric_name(metric: sla::SlaMetric) -> &'static str {
    match metric {
        sla::SlaMetric::FirstResponse => "first response",
        sla::SlaMetric::NextResponse => "next response",
        sla::SlaMetric::Resolution => "resolution",
    }
}

fn preview(body: &str) -> String {
    switchboard_proto::text::preview(body, 120)
}
