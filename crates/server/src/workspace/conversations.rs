//! Conversations: who may see one, the agent actions on it (one file each under
//! `conversations/`), idempotent on their `client_id`, and the transcript.

mod assign;
mod create;
mod escalation;
mod labels;
mod markers;
mod retry;
mod send;
mod status;

pub(super) use send::{initial_delivery, queue_delivery};

use switchboard_proto::*;

use super::{
    idempotency::{self, MutationKey},
    ledger, routing, ConversationAction, Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

/// The timer that wakes a snoozed conversation.
pub(super) fn snooze_timer_key(conversation: Id) -> String {
    format!("snooze:{conversation}")
}

/// A conversation the viewer may see, with its inbox ([`crate::rules::can_see_conversation`]);
/// `not_found` if there is none, `out_of_view` if it exists but the viewer may not see it (now):
/// a client told so drops what it queued for it rather than taking it for a deletion. Conversation
/// ids are random, so only someone who was shown one can name it.
pub(super) fn visible_conversation(
    store: &(impl StoreRead + ?Sized),
    viewer: &Viewer,
    id: Id,
) -> Outcome<(Conversation, Inbox)> {
    let not_found = || Refusal::not_found("conversation");
    let conversation: Conversation = store.get(id)?.ok_or_else(not_found)?;
    let inbox: Inbox = store.get(conversation.inbox_id)?.ok_or_else(not_found)?;
    if !policy::can_see_conversation(viewer, &inbox, &conversation) {
        return Err(Refusal::new(
            ErrorCode::OutOfView,
            "this conversation is no longer in your view (its inbox or its assignment changed)",
        ));
    }
    Ok((conversation, inbox))
}

/// An inbox the viewer may see; `not_found` otherwise.
fn visible_inbox(store: &(impl StoreRead + ?Sized), viewer: &Viewer, id: Id) -> Outcome<Inbox> {
    let inbox: Inbox = store.get(id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
    if !policy::can_see_inbox(viewer, &inbox) {
        return Err(Refusal::not_found("inbox"));
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
        ConversationAction::Escalation(r) => ("escalation", Some(r.client_id)),
        ConversationAction::Read(r) => ("read", Some(r.client_id)),
        ConversationAction::Pin { .. } => ("pin", None),
        ConversationAction::Retry { request, .. } => ("retry", Some(request.client_id)),
    }
}

/// Applies one agent action to a conversation. Replaying a `client_id` returns the first answer.
fn act(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    conversation_id: Id,
    action: ConversationAction,
) -> Outcome<ConversationResult> {
    let (name, client_id) = action_name(&action);
    let (conversation, inbox) = visible_conversation(tx, viewer, conversation_id)?;
    let key = client_id.map(|client_id| MutationKey {
        client_id,
        agent_id: viewer.agent.id,
        action: name,
        target: conversation_id,
    });
    if let Some(key) = &key {
        if let Some(stored) = idempotency::replayed(tx, key)? {
            return Ok(stored);
        }
    }
    let previous_assignee = conversation.assignee_id;
    let may_route = matches!(action, ConversationAction::Assign(_) | ConversationAction::Status(_));
    let result = match action {
        ConversationAction::Send(request) => send::send(tx, viewer, conversation, &inbox, request)?,
        ConversationAction::Assign(request) => assign::assign(tx, viewer, conversation, &inbox, request)?,
        ConversationAction::Status(request) => status::set_status(tx, viewer, conversation, request)?,
        ConversationAction::Labels(request) => labels::edit_labels(tx, viewer, conversation, request)?,
        ConversationAction::Priority(request) => labels::set_priority(tx, viewer, conversation, request)?,
        ConversationAction::Escalation(request) => {
            escalation::set_escalation(tx, viewer, conversation, request)?
        }
        ConversationAction::Read(request) => markers::mark_read(tx, viewer, conversation, request)?,
        ConversationAction::Pin { pinned } => markers::pin(tx, viewer, conversation, pinned)?,
        ConversationAction::Retry { message_id, .. } => {
            retry::retry(tx, viewer, conversation, &inbox, message_id)?
        }
    };
    if may_route {
        // An assignee or status change can queue this conversation or free a slot.
        let released_by_viewer =
            previous_assignee == Some(viewer.agent.id) && result.conversation.assignee_id.is_none();
        let released = routing::Released {
            conversation: Some(conversation_id),
            by: released_by_viewer.then_some(viewer.agent.id),
        };
        routing::route(tx, released)?;
    }
    let result = ConversationResult { seq: tx.last_seq(), ..result };
    if let Some(key) = &key {
        idempotency::remember(tx, key, &result)?;
    }
    Ok(result)
}

/// What an action that changed only the conversation (or nothing) answers.
fn unchanged(conversation: Conversation) -> ConversationResult {
    ConversationResult { conversation, message: None, seq: 0 }
}

/// Writes a message, indexes its text for search and appends its change.
pub(super) fn put_message(tx: &mut dyn StoreTx, inbox_id: Id, message: &Message) -> Outcome<()> {
    tx.put(message, Audience::inbox(inbox_id))?;
    ledger::message(tx, message, message.created_at)?;
    if !message.body.is_empty() && message.kind != MessageKind::Activity {
        tx.index_message(message, inbox_id)?;
    }
    Ok(())
}

/// Writes an automatic reply (greeting, away, keyword) as [`put_message`] writes a message, with
/// its `auto_reply` event saying which reply it was.
pub(super) fn put_auto_reply(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    message: &Message,
    reply: switchboard_proto::ledger::AutoReplyRef,
) -> Outcome<()> {
    tx.put(message, Audience::inbox(inbox_id))?;
    ledger::auto_reply(tx, message, reply)?;
    tx.index_message(message, inbox_id)?;
    Ok(())
}

/// An activity line in the thread ("Sara claimed the conversation"), by the agent who caused it,
/// or by `Sender::System` when the server did it on its own (a timer): clients tell the owner of
/// the latter, since nobody watched it happen.
pub(super) fn activity(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    conversation_id: Id,
    by: Sender,
    text: String,
) -> Outcome<Message> {
    let message = Message {
        id: Id::now_v7(),
        conversation_id,
        kind: MessageKind::Activity,
        body: text,
        sender: by,
        attachments: vec![],
        template: None,
        delivery: DeliveryState::Delivered,
        failure: None,
        mentions: vec![],
        created_at: tx.now(),
    };
    put_message(tx, inbox_id, &message)?;
    Ok(message)
}

/// Runs one write transaction's work (the operation and the rules' answer) holding the system
/// lines routing and the rules write ([`system_line`]) in the transaction (`StoreTx::held`), then
/// writes them, one message per conversation. A new customer conversation that routing assigns
/// and a rule labels in the same transaction gets one activity line saying both ("Routed to …"
/// and "Automation “…”: …", one a line), instead of two message rows with their changes and
/// fan-out: an activity line was the largest cost automation added to an inbound message after
/// the conversation's own writes (docs/performance.md, the automation rows).
pub(super) fn holding_lines<T>(
    tx: &mut dyn StoreTx,
    run: impl FnOnce(&mut dyn StoreTx) -> Outcome<T>,
) -> Outcome<T> {
    let outer = tx.held().lines.replace(Vec::new());
    let value = run(tx);
    let lines = std::mem::replace(&mut tx.held().lines, outer).unwrap_or_default();
    let value = value?;
    for (inbox_id, message) in lines {
        put_message(tx, inbox_id, &message)?;
    }
    Ok(value)
}

/// A line by the server itself (routing's, a rule's) in the thread: held and joined with the
/// conversation's other held line of this transaction, when [`holding_lines`] runs, else written
/// at once as [`activity`] writes it. The held line keeps the id and time of its first text, so it
/// stands in the thread where that text was written.
pub(super) fn system_line(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    conversation_id: Id,
    text: String,
) -> Outcome<()> {
    let now = tx.now();
    let Some(lines) = tx.held().lines.as_mut() else {
        activity(tx, inbox_id, conversation_id, Sender::System, text)?;
        return Ok(());
    };
    match lines.iter_mut().find(|(_, line)| line.conversation_id == conversation_id) {
        Some((_, line)) => {
            line.body.push('\n');
            line.body.push_str(&text);
        }
        None => lines.push((
            inbox_id,
            Message {
                id: Id::now_v7(),
                conversation_id,
                kind: MessageKind::Activity,
                body: text,
                sender: Sender::System,
                attachments: vec![],
                template: None,
                delivery: DeliveryState::Delivered,
                failure: None,
                mentions: vec![],
                created_at: now,
            },
        )),
    }
    Ok(())
}

fn conversation_exists(existing: Id) -> Refusal {
    let mut refusal = Refusal::conflict(
        ErrorCode::ConversationExists,
        "this contact already has an open conversation in this inbox",
    );
    refusal.conversation_id = Some(existing);
    refusal
}

/// A channel as the people who use it call it, for refusals.
pub(super) fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Facebook => "Messenger",
        Channel::Instagram => "Instagram",
        Channel::Telegram => "Telegram",
        Channel::Email => "Email",
        Channel::Webchat => "The website chat widget",
        Channel::Whatsapp => "WhatsApp",
        Channel::Api => "The API channel",
    }
}

fn reply_refusal(rejection: crate::rules::ReplyRejection) -> Refusal {
    use crate::rules::ReplyRejection;
    match rejection {
        ReplyRejection::WindowClosed { templates: true, .. } => Refusal::new(
            ErrorCode::WindowClosed,
            "the 24-hour reply window has closed: only a template message can be sent",
        ),
        ReplyRejection::WindowClosed { templates: false, .. } => Refusal::new(
            ErrorCode::WindowClosed,
            "the reply window has closed, and this channel has no message templates: only the \
             customer writing again reopens it",
        ),
        ReplyRejection::NoTemplates { channel } => Refusal::validation(format!(
            "{} has no message templates (templates are a WhatsApp concept): send a free-form reply \
             while the customer's last message keeps the window open",
            channel_name(channel)
        )),
        ReplyRejection::UnknownTemplate(why) => Refusal::new(ErrorCode::UnknownTemplate, why),
        ReplyRejection::Empty => Refusal::validation("a reply needs a body, a template or an attachment"),
    }
}

impl Workspace {
    pub async fn act(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
        action: ConversationAction,
    ) -> Outcome<ConversationResult> {
        let viewer = viewer.clone();
        self.write(move |tx| act(tx, &viewer, conversation_id, action)).await
    }

    pub async fn create_conversation(
        &self,
        viewer: &Viewer,
        request: CreateConversation,
    ) -> Outcome<ConversationResult> {
        let viewer = viewer.clone();
        self.write(move |tx| create::create(tx, &viewer, request)).await
    }

    /// The inbox of a conversation the agent may see; not found otherwise.
    pub async fn conversation_inbox(&self, viewer: &Viewer, conversation_id: Id) -> Outcome<Inbox> {
        let viewer = viewer.clone();
        self.read(move |store| visible_conversation(store, &viewer, conversation_id).map(|(_, inbox)| inbox))
            .await
    }

    /// The conversation's event ledger, oldest first.
    pub async fn events(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
    ) -> Outcome<Vec<switchboard_proto::ledger::ConversationEvent>> {
        let viewer = viewer.clone();
        self.read(move |store| {
            visible_conversation(store, &viewer, conversation_id)?;
            Ok(store.events_of(conversation_id)?)
        })
        .await
    }

    pub async fn transcript(&self, viewer: &Viewer, conversation_id: Id) -> Outcome<Transcript> {
        let viewer = viewer.clone();
        self.read(move |store| {
            let (conversation, inbox) = visible_conversation(store, &viewer, conversation_id)?;
            let contact: Contact = store
                .get(conversation.contact_id)?
                .ok_or_else(|| Refusal::internal("conversation without contact"))?;
            let messages = store.messages_of(conversation_id)?;
            Ok(Transcript { conversation, contact, inbox, messages })
        })
        .await
    }
}
