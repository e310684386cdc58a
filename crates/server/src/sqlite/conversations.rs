//! Conversations, messages, contacts and attachments: every agent action and every customer
//! message, applied with the rules of `rules.rs` inside one write transaction.

use axum::http::StatusCode;
use rusqlite::{params, Connection, OptionalExtension};
use switchboard_proto::*;

use super::{records, Tx};
use crate::{
    db::{ConversationAction, PendingDelivery, StoredFile, Viewer},
    error::{ApiError, ApiResult},
    rules::{self, ReplyRejection},
};

/// Attempts before an outgoing webhook delivery is marked failed.
const MAX_DELIVERY_ATTEMPTS: u32 = 8;
/// Longest body accepted for a message, in bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A conversation the viewer may see, with its inbox; `not_found` otherwise (an invisible
/// conversation is indistinguishable from a missing one).
pub fn visible_conversation(conn: &Connection, viewer: &Viewer, id: Id) -> ApiResult<(Conversation, Inbox)> {
    let not_found = || ApiError::not_found("conversation");
    let conversation: Conversation =
        records::get(conn, EntityKind::Conversation, id, None)?.ok_or_else(not_found)?;
    let inbox: Inbox =
        records::get(conn, EntityKind::Inbox, conversation.inbox_id, None)?.ok_or_else(not_found)?;
    if !rules::can_see_inbox(&viewer.agent, &inbox) {
        return Err(not_found());
    }
    Ok((conversation, inbox))
}

fn visible_inbox(conn: &Connection, viewer: &Viewer, id: Id) -> ApiResult<Inbox> {
    let inbox: Inbox =
        records::get(conn, EntityKind::Inbox, id, None)?.ok_or_else(|| ApiError::not_found("inbox"))?;
    if !rules::can_see_inbox(&viewer.agent, &inbox) {
        return Err(ApiError::not_found("inbox"));
    }
    Ok(inbox)
}

fn action_name(action: &ConversationAction) -> (&'static str, Option<Id>) {
    match action {
        ConversationAction::Send(r) => ("send", Some(r.client_id)),
        ConversationAction::Assign(r) => ("assign", Some(r.client_id)),
        ConversationAction::Status(r) => ("status", Some(r.client_id)),
        ConversationAction::Labels(r) => ("labels", Some(r.client_id)),
        ConversationAction::Priority(r) => ("priority", Some(r.client_id)),
        ConversationAction::Read(r) => ("read", Some(r.client_id)),
        ConversationAction::Pin { .. } => ("pin", None),
    }
}

/// Applies one agent action to a conversation. Replaying a `client_id` returns the first answer.
pub fn act(
    tx: &mut Tx,
    viewer: &Viewer,
    conversation_id: Id,
    action: ConversationAction,
) -> ApiResult<ConversationResult> {
    let (name, client_id) = action_name(&action);
    let (conversation, inbox) = visible_conversation(tx, viewer, conversation_id)?;
    if let Some(client_id) = client_id {
        if let Some(stored) = tx.replayed(client_id, viewer.agent.id, name, conversation_id)? {
            return Ok(stored);
        }
    }
    let result = match action {
        ConversationAction::Send(request) => send(tx, viewer, conversation, &inbox, request)?,
        ConversationAction::Assign(request) => assign(tx, viewer, conversation, &inbox, request)?,
        ConversationAction::Status(request) => set_status(tx, viewer, conversation, request)?,
        ConversationAction::Labels(request) => edit_labels(tx, conversation, request)?,
        ConversationAction::Priority(request) => {
            let mut conversation = conversation;
            if conversation.priority != request.priority {
                conversation.priority = request.priority;
                tx.put(EntityKind::Conversation, conversation.id, None, Some(inbox.id), &conversation)?;
            }
            ConversationResult { conversation, message: None, seq: 0 }
        }
        ConversationAction::Read(request) => mark_read(tx, viewer, conversation, request)?,
        ConversationAction::Pin { pinned } => {
            if pinned {
                let pin = Pin { conversation_id, pinned_at: tx.now };
                tx.put(EntityKind::Pin, conversation_id, Some(viewer.agent.id), Some(inbox.id), &pin)?;
            } else {
                tx.remove(EntityKind::Pin, conversation_id, Some(viewer.agent.id), Some(inbox.id))?;
            }
            ConversationResult { conversation, message: None, seq: 0 }
        }
    };
    let result = ConversationResult { seq: tx.last_seq(), ..result };
    if let Some(client_id) = client_id {
        tx.remember(client_id, viewer.agent.id, name, conversation_id, &result)?;
    }
    Ok(result)
}

fn check_body(body: &str) -> ApiResult<()> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("a message body may be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn reply_rejection(rejection: ReplyRejection) -> ApiError {
    match rejection {
        ReplyRejection::WindowClosed { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::WindowClosed,
            "the 24-hour reply window has closed: only a template message can be sent",
        ),
        ReplyRejection::UnknownTemplate(why) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnknownTemplate, why)
        }
        ReplyRejection::Empty => ApiError::validation("a reply needs a body, a template or an attachment"),
    }
}

/// Claims the staged attachments for a message: each must belong to this conversation and not be
/// used by another message yet.
fn claim_attachments(tx: &Tx, conversation_id: Id, message_id: Id, ids: &[Id]) -> ApiResult<Vec<Attachment>> {
    let mut attachments = Vec::with_capacity(ids.len());
    for id in ids {
        let row: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT data, message_id FROM attachments WHERE id = ?1 AND conversation_id = ?2",
                params![id.to_string(), conversation_id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match row {
            Some((data, None)) => attachments.push(serde_json::from_str(&data)?),
            Some((_, Some(_))) => {
                return Err(ApiError::validation(format!("attachment {id} is already sent")))
            }
            None => return Err(ApiError::validation(format!("no attachment {id} on this conversation"))),
        }
        tx.execute(
            "UPDATE attachments SET message_id = ?2 WHERE id = ?1",
            params![id.to_string(), message_id.to_string()],
        )?;
    }
    Ok(attachments)
}

/// Writes a message, indexes it for search and appends its change.
fn put_message(tx: &mut Tx, inbox_id: Id, message: &Message) -> ApiResult<()> {
    tx.put(EntityKind::Message, message.id, None, Some(inbox_id), message)?;
    if !message.body.is_empty() && message.kind != MessageKind::Activity {
        tx.execute(
            "INSERT INTO message_search (message_id, conversation_id, inbox_id, created_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                message.id.to_string(),
                message.conversation_id.to_string(),
                inbox_id.to_string(),
                message.created_at,
                rules::normalize_for_search(&message.body)
            ],
        )?;
    }
    Ok(())
}

fn message_exists(conn: &Connection, id: Id) -> ApiResult<bool> {
    Ok(records::get::<serde_json::Value>(conn, EntityKind::Message, id, None)?.is_some())
}

fn send(
    tx: &mut Tx,
    viewer: &Viewer,
    mut conversation: Conversation,
    inbox: &Inbox,
    request: SendMessage,
) -> ApiResult<ConversationResult> {
    check_body(&request.body)?;
    if message_exists(tx, request.client_id)? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::ClientIdReused,
            "a message with this id exists",
        ));
    }
    let now = tx.now;
    let (kind, body, mentions, delivery) = match request.kind {
        SendKind::Note => {
            if request.template.is_some() {
                return Err(ApiError::validation("a note can't be a template message"));
            }
            if request.body.trim().is_empty() && request.attachment_ids.is_empty() {
                return Err(ApiError::validation("a note needs a body or an attachment"));
            }
            let agents: Vec<Agent> = records::all(tx, EntityKind::Agent)?;
            let can_see: Vec<Agent> = agents.into_iter().filter(|a| rules::can_see_inbox(a, inbox)).collect();
            let mentions = rules::parse_mentions(&request.body, &can_see);
            (MessageKind::Note, request.body.clone(), mentions, DeliveryState::Delivered)
        }
        SendKind::Reply => {
            let text = rules::reply_text(
                inbox,
                &conversation,
                &request.body,
                request.template.as_ref(),
                !request.attachment_ids.is_empty(),
                now,
            )
            .map_err(reply_rejection)?;
            let delivery =
                if inbox.webhook_url.is_some() { DeliveryState::Queued } else { DeliveryState::Sent };
            (MessageKind::Outgoing, text, vec![], delivery)
        }
    };
    let attachments = claim_attachments(tx, conversation.id, request.client_id, &request.attachment_ids)?;
    let message = Message {
        id: request.client_id,
        conversation_id: conversation.id,
        kind,
        body,
        sender: Sender::Agent { id: viewer.agent.id },
        attachments,
        template: request.template,
        delivery,
        mentions,
        created_at: now,
    };
    put_message(tx, inbox.id, &message)?;
    for agent_id in &message.mentions {
        let mention = Mention {
            id: Id::now_v7(),
            agent_id: *agent_id,
            conversation_id: conversation.id,
            message_id: message.id,
            mentioned_by: viewer.agent.id,
            created_at: now,
        };
        tx.put(EntityKind::Mention, mention.id, Some(*agent_id), Some(inbox.id), &mention)?;
    }
    if kind == MessageKind::Outgoing {
        rules::on_outgoing(&mut conversation, &message.body, now);
        tx.put(EntityKind::Conversation, conversation.id, None, Some(inbox.id), &conversation)?;
        if delivery == DeliveryState::Queued {
            tx.execute(
                "INSERT INTO deliveries (message_id, inbox_id, next_attempt_at) VALUES (?1, ?2, ?3)",
                params![message.id.to_string(), inbox.id.to_string(), now],
            )?;
        }
    }
    Ok(ConversationResult { conversation, message: Some(message), seq: 0 })
}

/// An activity line in the thread ("Sara claimed the conversation").
fn activity(tx: &mut Tx, inbox_id: Id, conversation_id: Id, text: String) -> ApiResult<Message> {
    let message = Message {
        id: Id::now_v7(),
        conversation_id,
        kind: MessageKind::Activity,
        body: text,
        sender: Sender::System,
        attachments: vec![],
        template: None,
        delivery: DeliveryState::Delivered,
        mentions: vec![],
        created_at: tx.now,
    };
    put_message(tx, inbox_id, &message)?;
    Ok(message)
}

fn assign(
    tx: &mut Tx,
    viewer: &Viewer,
    mut conversation: Conversation,
    inbox: &Inbox,
    request: AssignRequest,
) -> ApiResult<ConversationResult> {
    if let Some(expected) = request.expected_assignee_id {
        if expected != conversation.assignee_id {
            let mut conflict = ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::AssignmentConflict,
                "the conversation's assignee changed; it is now someone else's",
            );
            conflict.current_assignee_id = Some(conversation.assignee_id);
            return Err(conflict);
        }
    }
    let assignee = match request.assignee_id {
        Some(id) => {
            let agent: Agent = records::get(tx, EntityKind::Agent, id, None)?
                .filter(|a: &Agent| a.active)
                .ok_or_else(|| ApiError::validation("the assignee is not an active agent"))?;
            if !rules::can_see_inbox(&agent, inbox) {
                return Err(ApiError::validation("the assignee can't see this inbox"));
            }
            Some(agent)
        }
        None => None,
    };
    if let Some(Some(team_id)) = request.team_id {
        if records::get::<Team>(tx, EntityKind::Team, team_id, None)?.is_none() {
            return Err(ApiError::validation("no such team"));
        }
    }
    let new_team = request.team_id.unwrap_or(conversation.team_id);
    let new_assignee = assignee.as_ref().map(|a| a.id);
    if new_assignee == conversation.assignee_id && new_team == conversation.team_id {
        return Ok(ConversationResult { conversation, message: None, seq: 0 });
    }
    let assignee_changed = new_assignee != conversation.assignee_id;
    conversation.assignee_id = new_assignee;
    conversation.team_id = new_team;
    tx.put(EntityKind::Conversation, conversation.id, None, Some(inbox.id), &conversation)?;
    let message = if assignee_changed {
        let text = match &assignee {
            Some(a) if a.id == viewer.agent.id => format!("{} claimed the conversation", viewer.agent.name),
            Some(a) => format!("{} assigned the conversation to {}", viewer.agent.name, a.name),
            None => format!("{} unassigned the conversation", viewer.agent.name),
        };
        Some(activity(tx, inbox.id, conversation.id, text)?)
    } else {
        None
    };
    Ok(ConversationResult { conversation, message, seq: 0 })
}

/// The unresolved conversation of this contact in this inbox, other than `except`.
fn open_conversation(
    conn: &Connection,
    inbox_id: Id,
    contact_id: Id,
    except: Option<Id>,
) -> ApiResult<Option<Conversation>> {
    let found: Vec<Conversation> = records::query(
        conn,
        "SELECT data FROM conversations
         WHERE inbox_id = ?1 AND contact_id = ?2 AND status != 'resolved' AND id != ?3",
        params![
            inbox_id.to_string(),
            contact_id.to_string(),
            except.map(|e| e.to_string()).unwrap_or_default()
        ],
    )?;
    Ok(found.into_iter().next())
}

fn conversation_exists(existing: Id) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::ConversationExists,
        "this contact already has an open conversation in this inbox",
    );
    error.conversation_id = Some(existing);
    error
}

fn set_status(
    tx: &mut Tx,
    viewer: &Viewer,
    mut conversation: Conversation,
    request: StatusRequest,
) -> ApiResult<ConversationResult> {
    let now = tx.now;
    let snoozed_until = match (request.status, request.snoozed_until) {
        (ConversationStatus::Snoozed, Some(until)) if until > now => Some(until),
        (ConversationStatus::Snoozed, _) => {
            return Err(ApiError::validation("snoozing needs snoozed_until in the future"))
        }
        (_, Some(_)) => return Err(ApiError::validation("snoozed_until only goes with status snoozed")),
        (_, None) => None,
    };
    if conversation.status == request.status && conversation.snoozed_until == snoozed_until {
        return Ok(ConversationResult { conversation, message: None, seq: 0 });
    }
    if !conversation.status.is_open() && request.status.is_open() {
        if let Some(other) =
            open_conversation(tx, conversation.inbox_id, conversation.contact_id, Some(conversation.id))?
        {
            return Err(conversation_exists(other.id));
        }
    }
    conversation.status = request.status;
    conversation.snoozed_until = snoozed_until;
    if request.status == ConversationStatus::Resolved {
        conversation.waiting_since = None;
    }
    tx.put(EntityKind::Conversation, conversation.id, None, Some(conversation.inbox_id), &conversation)?;
    let verb = match request.status {
        ConversationStatus::Open => "reopened",
        ConversationStatus::Pending => "marked the conversation pending",
        ConversationStatus::Snoozed => "snoozed the conversation",
        ConversationStatus::Resolved => "resolved the conversation",
    };
    let message =
        activity(tx, conversation.inbox_id, conversation.id, format!("{} {verb}", viewer.agent.name))?;
    Ok(ConversationResult { conversation, message: Some(message), seq: 0 })
}

fn edit_labels(
    tx: &mut Tx,
    mut conversation: Conversation,
    request: LabelsRequest,
) -> ApiResult<ConversationResult> {
    for name in &request.add {
        let known: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM labels WHERE name = ?1)", [name], |row| row.get(0))?;
        if !known {
            return Err(ApiError::validation(format!("no label named {name:?}")));
        }
    }
    let before = conversation.labels.clone();
    rules::edit_labels(&mut conversation.labels, &request.add, &request.remove);
    if conversation.labels != before {
        tx.put(EntityKind::Conversation, conversation.id, None, Some(conversation.inbox_id), &conversation)?;
    }
    Ok(ConversationResult { conversation, message: None, seq: 0 })
}

fn mark_read(
    tx: &mut Tx,
    viewer: &Viewer,
    conversation: Conversation,
    request: ReadRequest,
) -> ApiResult<ConversationResult> {
    let message: Message = records::get(tx, EntityKind::Message, request.last_read_message_id, None)?
        .filter(|m: &Message| m.conversation_id == conversation.id)
        .ok_or_else(|| ApiError::validation("that message is not in this conversation"))?;
    let marker =
        ReadMarker { conversation_id: conversation.id, last_read_message_id: message.id, read_at: tx.now };
    tx.put(
        EntityKind::ReadMarker,
        conversation.id,
        Some(viewer.agent.id),
        Some(conversation.inbox_id),
        &marker,
    )?;
    Ok(ConversationResult { conversation, message: None, seq: 0 })
}

/// Starts an outbound conversation; its id is the `client_id`, and the starting agent owns it.
pub fn create(tx: &mut Tx, viewer: &Viewer, request: CreateConversation) -> ApiResult<ConversationResult> {
    if let Some(stored) =
        tx.replayed(request.client_id, viewer.agent.id, "create_conversation", request.inbox_id)?
    {
        return Ok(stored);
    }
    let inbox = visible_inbox(tx, viewer, request.inbox_id)?;
    let contact: Contact = records::get(tx, EntityKind::Contact, request.contact_id, None)?
        .ok_or_else(|| ApiError::validation("no such contact"))?;
    if records::get::<Conversation>(tx, EntityKind::Conversation, request.client_id, None)?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::ClientIdReused,
            "a conversation with this id exists",
        ));
    }
    if let Some(existing) = open_conversation(tx, inbox.id, contact.id, None)? {
        return Err(conversation_exists(existing.id));
    }
    let body = request.body.unwrap_or_default();
    check_body(&body)?;
    if body.trim().is_empty() && request.template.is_none() {
        return Err(ApiError::validation("a new conversation needs a first message: body or template"));
    }
    let now = tx.now;
    let mut conversation = Conversation {
        id: request.client_id,
        inbox_id: inbox.id,
        contact_id: contact.id,
        subject: request.subject.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        status: ConversationStatus::Open,
        snoozed_until: None,
        assignee_id: Some(viewer.agent.id),
        team_id: None,
        priority: Priority::None,
        labels: vec![],
        created_at: now,
        last_activity_at: now,
        waiting_since: None,
        first_reply_at: None,
        last_incoming_at: None,
        preview: String::new(),
    };
    let text = rules::reply_text(&inbox, &conversation, &body, request.template.as_ref(), false, now)
        .map_err(reply_rejection)?;
    let delivery = if inbox.webhook_url.is_some() { DeliveryState::Queued } else { DeliveryState::Sent };
    let message = Message {
        id: first_message_id(request.client_id),
        conversation_id: conversation.id,
        kind: MessageKind::Outgoing,
        body: text,
        sender: Sender::Agent { id: viewer.agent.id },
        attachments: vec![],
        template: request.template,
        delivery,
        mentions: vec![],
        created_at: now,
    };
    rules::on_outgoing(&mut conversation, &message.body, now);
    tx.put(EntityKind::Conversation, conversation.id, None, Some(inbox.id), &conversation)?;
    put_message(tx, inbox.id, &message)?;
    if delivery == DeliveryState::Queued {
        tx.execute(
            "INSERT INTO deliveries (message_id, inbox_id, next_attempt_at) VALUES (?1, ?2, ?3)",
            params![message.id.to_string(), inbox.id.to_string(), now],
        )?;
    }
    let result = ConversationResult { conversation, message: Some(message), seq: tx.last_seq() };
    tx.remember(request.client_id, viewer.agent.id, "create_conversation", request.inbox_id, &result)?;
    Ok(result)
}

fn check_contact_fields(name: &str, phone: Option<&str>, email: Option<&str>) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(ApiError::validation("name must be 1 to 200 characters"));
    }
    if let Some(phone) = phone {
        let digits = rules::phone_digits(phone);
        let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !allowed || !(5..=20).contains(&digits.len()) {
            return Err(ApiError::validation(
                "phone must be 5 to 20 digits, optionally with + - ( ) . and spaces",
            ));
        }
    }
    if let Some(email) = email {
        if !email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty()) || email.len() > 254 {
            return Err(ApiError::validation("email is not a valid address"));
        }
    }
    Ok(())
}

pub fn create_contact(tx: &mut Tx, viewer: &Viewer, request: CreateContact) -> ApiResult<ContactResult> {
    if let Some(stored) =
        tx.replayed(request.client_id, viewer.agent.id, "create_contact", request.client_id)?
    {
        return Ok(stored);
    }
    check_contact_fields(&request.name, request.phone.as_deref(), request.email.as_deref())?;
    if records::get::<Contact>(tx, EntityKind::Contact, request.client_id, None)?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::ClientIdReused,
            "a contact with this id exists",
        ));
    }
    let contact = Contact {
        id: request.client_id,
        name: request.name.trim().to_owned(),
        phone: request.phone.map(|p| p.trim().to_owned()),
        email: request.email.map(|e| e.trim().to_owned()),
        identities: vec![],
        created_at: tx.now,
    };
    tx.put(EntityKind::Contact, contact.id, None, None, &contact)?;
    let result = ContactResult { contact, seq: tx.last_seq() };
    tx.remember(request.client_id, viewer.agent.id, "create_contact", request.client_id, &result)?;
    Ok(result)
}

/// Records an uploaded file as an attachment staged on a conversation (sent with a message later).
pub fn add_attachment(
    tx: &mut Tx,
    viewer: &Viewer,
    conversation_id: Id,
    file: StoredFile,
) -> ApiResult<Attachment> {
    visible_conversation(tx, viewer, conversation_id)?;
    let attachment = Attachment {
        id: Id::now_v7(),
        conversation_id,
        file_name: file.file_name,
        content_type: file.content_type,
        size: file.size,
        sha256: file.sha256,
    };
    tx.execute(
        "INSERT INTO attachments (id, conversation_id, uploaded_by, data) VALUES (?1, ?2, ?3, ?4)",
        params![
            attachment.id.to_string(),
            conversation_id.to_string(),
            viewer.agent.id.to_string(),
            serde_json::to_string(&attachment)?
        ],
    )?;
    Ok(attachment)
}

pub fn attachment(conn: &Connection, viewer: &Viewer, attachment_id: Id) -> ApiResult<Attachment> {
    let data: Option<String> = conn
        .query_row("SELECT data FROM attachments WHERE id = ?1", [attachment_id.to_string()], |row| {
            row.get(0)
        })
        .optional()?;
    let attachment: Attachment =
        serde_json::from_str(&data.ok_or_else(|| ApiError::not_found("attachment"))?)?;
    visible_conversation(conn, viewer, attachment.conversation_id)
        .map_err(|_| ApiError::not_found("attachment"))?;
    Ok(attachment)
}

pub fn transcript(conn: &Connection, viewer: &Viewer, conversation_id: Id) -> ApiResult<Transcript> {
    let (conversation, inbox) = visible_conversation(conn, viewer, conversation_id)?;
    let contact: Contact = records::get(conn, EntityKind::Contact, conversation.contact_id, None)?
        .ok_or_else(|| ApiError::internal("conversation without contact"))?;
    let messages = records::query(
        conn,
        "SELECT data FROM messages WHERE conversation_id = ?1 ORDER BY created_at, rowid",
        [conversation_id.to_string()],
    )?;
    Ok(Transcript { conversation, contact, inbox, messages })
}

/// A customer message from the channel: finds or creates the contact and the one open
/// conversation, and stores the message once per `external_id`.
pub fn ingest(
    tx: &mut Tx,
    inbox_id: Id,
    inbound: InboundMessage,
    files: Vec<StoredFile>,
) -> ApiResult<InboundResult> {
    let inbox: Inbox =
        records::get(tx, EntityKind::Inbox, inbox_id, None)?.ok_or_else(|| ApiError::not_found("inbox"))?;
    let external_id = inbound.message.external_id.trim();
    let contact_external_id = inbound.contact.external_id.trim();
    if external_id.is_empty()
        || external_id.len() > 200
        || contact_external_id.is_empty()
        || contact_external_id.len() > 200
    {
        return Err(ApiError::validation("external ids must be 1 to 200 bytes"));
    }
    check_body(&inbound.message.body)?;
    if inbound.message.body.trim().is_empty() && files.is_empty() {
        return Err(ApiError::validation("an inbound message needs a body or an attachment"));
    }
    let seen: Option<(String, String)> = tx
        .query_row(
            "SELECT message_id, conversation_id FROM inbound_ids WHERE inbox_id = ?1 AND external_id = ?2",
            params![inbox_id.to_string(), external_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    if let Some((message_id, conversation_id)) = seen {
        return Ok(InboundResult {
            message_id: message_id.parse().map_err(ApiError::internal)?,
            conversation_id: conversation_id.parse().map_err(ApiError::internal)?,
            created: false,
        });
    }
    let now = tx.now;
    let contact = upsert_contact(tx, &inbox, &inbound.contact)?;

    let mut conversation = match open_conversation(tx, inbox.id, contact.id, None)? {
        Some(open) => open,
        None => {
            let latest: Option<Conversation> = records::query(
                tx,
                "SELECT data FROM conversations WHERE inbox_id = ?1 AND contact_id = ?2
                 ORDER BY last_activity_at DESC LIMIT 1",
                params![inbox.id.to_string(), contact.id.to_string()],
            )?
            .into_iter()
            .next();
            match latest.filter(|c| rules::reopens(c, now)) {
                Some(resolved) => resolved,
                None => Conversation {
                    id: Id::now_v7(),
                    inbox_id: inbox.id,
                    contact_id: contact.id,
                    subject: None,
                    status: ConversationStatus::Open,
                    snoozed_until: None,
                    assignee_id: None,
                    team_id: None,
                    priority: Priority::None,
                    labels: vec![],
                    created_at: now,
                    last_activity_at: now,
                    waiting_since: None,
                    first_reply_at: None,
                    last_incoming_at: None,
                    preview: String::new(),
                },
            }
        }
    };
    let message_id = Id::now_v7();
    let mut attachments = Vec::with_capacity(files.len());
    for file in files {
        let attachment = Attachment {
            id: Id::now_v7(),
            conversation_id: conversation.id,
            file_name: file.file_name,
            content_type: file.content_type,
            size: file.size,
            sha256: file.sha256,
        };
        tx.execute(
            "INSERT INTO attachments (id, conversation_id, message_id, data) VALUES (?1, ?2, ?3, ?4)",
            params![
                attachment.id.to_string(),
                conversation.id.to_string(),
                message_id.to_string(),
                serde_json::to_string(&attachment)?
            ],
        )?;
        attachments.push(attachment);
    }
    let message = Message {
        id: message_id,
        conversation_id: conversation.id,
        kind: MessageKind::Incoming,
        body: inbound.message.body,
        sender: Sender::Contact { id: contact.id },
        attachments,
        template: None,
        delivery: DeliveryState::Delivered,
        mentions: vec![],
        created_at: now,
    };
    rules::on_incoming(&mut conversation, &message.body, now);
    tx.put(EntityKind::Conversation, conversation.id, None, Some(inbox.id), &conversation)?;
    put_message(tx, inbox.id, &message)?;
    tx.execute(
        "INSERT INTO inbound_ids (inbox_id, external_id, message_id, conversation_id) VALUES (?1, ?2, ?3, ?4)",
        params![inbox.id.to_string(), external_id, message.id.to_string(), conversation.id.to_string()],
    )?;
    Ok(InboundResult { conversation_id: conversation.id, message_id: message.id, created: true })
}

/// The contact behind a channel identity, created on first contact; fields it lacks are filled in.
fn upsert_contact(tx: &mut Tx, inbox: &Inbox, from: &InboundContact) -> ApiResult<Contact> {
    let external_id = from.external_id.trim();
    let known: Option<String> = tx
        .query_row(
            "SELECT contact_id FROM contact_identities WHERE inbox_id = ?1 AND external_id = ?2",
            params![inbox.id.to_string(), external_id],
            |row| row.get(0),
        )
        .optional()?;
    let name = from.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let phone = from.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let email = from.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    check_contact_fields(name.unwrap_or("x"), phone, email)?;
    let existing = match known {
        Some(id) => {
            records::get::<Contact>(tx, EntityKind::Contact, id.parse().map_err(ApiError::internal)?, None)?
        }
        None => None,
    };
    let created = existing.is_none();
    let mut contact = match existing {
        Some(contact) => contact,
        None => {
            let contact = Contact {
                id: Id::now_v7(),
                name: name.or(phone).or(email).unwrap_or(external_id).to_owned(),
                phone: None,
                email: None,
                identities: vec![ContactIdentity {
                    inbox_id: inbox.id,
                    channel: inbox.channel,
                    external_id: external_id.to_owned(),
                }],
                created_at: tx.now,
            };
            tx.execute(
                "INSERT INTO contact_identities (inbox_id, external_id, contact_id) VALUES (?1, ?2, ?3)",
                params![inbox.id.to_string(), external_id, contact.id.to_string()],
            )?;
            contact
        }
    };
    let before = contact.clone();
    if contact.phone.is_none() {
        contact.phone = phone.map(str::to_owned);
    }
    if contact.email.is_none() {
        contact.email = email.map(str::to_owned);
    }
    if created || contact != before {
        // Only those who can see the inbox the customer wrote into may see who they are.
        tx.put(EntityKind::Contact, contact.id, None, Some(inbox.id), &contact)?;
    }
    Ok(contact)
}

/// The channel reports how far an outgoing message got. States only move forward.
pub fn report_delivery(tx: &mut Tx, inbox_id: Id, report: DeliveryReport) -> ApiResult<()> {
    let mut message: Message = records::get(tx, EntityKind::Message, report.message_id, None)?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let conversation: Conversation =
        records::get(tx, EntityKind::Conversation, message.conversation_id, None)?
            .ok_or_else(|| ApiError::not_found("message"))?;
    if conversation.inbox_id != inbox_id || message.kind != MessageKind::Outgoing {
        return Err(ApiError::not_found("message"));
    }
    let forward = report.state == DeliveryState::Failed || report.state > message.delivery;
    if forward && message.delivery != report.state {
        message.delivery = report.state;
        tx.put(EntityKind::Message, message.id, None, Some(inbox_id), &message)?;
        tx.execute("DELETE FROM deliveries WHERE message_id = ?1", [message.id.to_string()])?;
    }
    Ok(())
}

/// Outgoing replies whose webhook delivery is due.
pub fn due_deliveries(conn: &mut Connection, now: Millis, limit: usize) -> ApiResult<Vec<PendingDelivery>> {
    let due: Vec<(String, String, u32)> = {
        let mut statement = conn.prepare_cached(
            "SELECT message_id, inbox_id, attempts FROM deliveries WHERE next_attempt_at <= ?1
             ORDER BY next_attempt_at LIMIT ?2",
        )?;
        let rows = statement
            .query_map(params![now, limit as i64], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut pending = Vec::with_capacity(due.len());
    for (message_id, inbox_id, attempts) in due {
        let parse = |text: &str| text.parse::<Id>().map_err(ApiError::internal);
        let (inbox, secret) = super::directory::inbox_secret(conn, parse(&inbox_id)?)?;
        let Some(message) = records::get::<Message>(conn, EntityKind::Message, parse(&message_id)?, None)?
        else {
            continue;
        };
        // An inbox whose webhook was removed: the attempt fails and backs off (and finally marks
        // the message failed) rather than staying due forever at the head of the queue.
        let webhook_url = inbox.webhook_url.clone().unwrap_or_default();
        let conversation: Option<Conversation> =
            records::get(conn, EntityKind::Conversation, message.conversation_id, None)?;
        let contact_external_id = match conversation {
            Some(c) => records::get::<Contact>(conn, EntityKind::Contact, c.contact_id, None)?
                .and_then(|contact| contact.identities.into_iter().find(|i| i.inbox_id == inbox.id))
                .map(|identity| identity.external_id),
            None => None,
        };
        pending.push(PendingDelivery {
            webhook_url,
            secret,
            attempts,
            payload: OutgoingWebhook {
                event: "message.created".into(),
                inbox_id: inbox.id,
                conversation_id: message.conversation_id,
                contact_external_id,
                message,
            },
        });
    }
    Ok(pending)
}

/// Records a webhook attempt: success marks the message sent; failure backs off exponentially and
/// gives up (failed) after `MAX_DELIVERY_ATTEMPTS`.
pub fn delivery_attempted(tx: &mut Tx, message_id: Id, outcome: Result<(), String>) -> ApiResult<()> {
    let attempts: Option<u32> = tx
        .query_row("SELECT attempts FROM deliveries WHERE message_id = ?1", [message_id.to_string()], |row| {
            row.get(0)
        })
        .optional()?;
    let Some(attempts) = attempts else { return Ok(()) };
    let attempts = attempts + 1;
    let new_state = match &outcome {
        Ok(()) => Some(DeliveryState::Sent),
        Err(_) if attempts >= MAX_DELIVERY_ATTEMPTS => Some(DeliveryState::Failed),
        Err(_) => None,
    };
    match new_state {
        Some(state) => {
            tx.execute("DELETE FROM deliveries WHERE message_id = ?1", [message_id.to_string()])?;
            if let Some(mut message) = records::get::<Message>(tx, EntityKind::Message, message_id, None)? {
                if message.delivery == DeliveryState::Queued {
                    message.delivery = state;
                    let inbox_id = records::get::<Conversation>(
                        tx,
                        EntityKind::Conversation,
                        message.conversation_id,
                        None,
                    )?
                    .map(|c| c.inbox_id);
                    tx.put(EntityKind::Message, message.id, None, inbox_id, &message)?;
                }
            }
        }
        None => {
            let backoff = 1_000i64 << attempts.min(10);
            tx.execute(
                "UPDATE deliveries SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE message_id = ?1",
                params![message_id.to_string(), attempts, tx.now + backoff, outcome.err()],
            )?;
        }
    }
    Ok(())
}
