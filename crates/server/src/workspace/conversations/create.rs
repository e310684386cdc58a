//! Starting an outbound conversation: its id is the `client_id`, and the starting agent owns it.

use switchboard_proto::{ledger::Origin, *};

use super::{conversation_exists, put_message, reply_refusal, send, visible_inbox};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{StoreReadExt, StoreTx},
    workspace::{
        idempotency::{self, MutationKey},
        ledger::{self, Cause},
        Viewer,
    },
};

pub(super) fn create(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    request: CreateConversation,
) -> Outcome<ConversationResult> {
    let key = MutationKey {
        client_id: request.client_id,
        agent_id: viewer.agent.id,
        action: "create_conversation",
        target: request.inbox_id,
    };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    let inbox = visible_inbox(tx, viewer, request.inbox_id)?;
    let contact: Contact =
        tx.get(request.contact_id)?.ok_or_else(|| Refusal::validation("no such contact"))?;
    if !rules::can_start_conversation(inbox.channel, inbox.id, &contact) {
        return Err(Refusal::validation(match inbox.channel {
            Channel::Whatsapp => "this contact has no phone number a WhatsApp inbox can write to",
            Channel::Email => "this contact has no email address",
            _ => "this inbox's channel can only answer a contact who has written to it first",
        }));
    }
    if tx.get::<Conversation>(request.client_id)?.is_some() {
        return Err(Refusal::conflict(ErrorCode::ClientIdReused, "a conversation with this id exists"));
    }
    if let Some(existing) = tx.open_conversation(inbox.id, contact.id, None)? {
        return Err(conversation_exists(existing.id));
    }
    let body = request.body.unwrap_or_default();
    policy::check_body(&body)?;
    if body.trim().is_empty() && request.template.is_none() {
        return Err(Refusal::validation("a new conversation needs a first message: body or template"));
    }
    let now = tx.now();
    let mut new = rules::NewOutgoing {
        id: request.client_id,
        inbox_id: inbox.id,
        contact_id: contact.id,
        subject: request.subject.as_deref(),
        assignee_id: viewer.agent.id,
        body: "",
    };
    // The reply rules see the conversation as it is before its first message.
    let text = rules::reply_text(
        &inbox,
        &rules::new_outgoing_conversation(&new, now),
        &body,
        request.template.as_ref(),
        false,
        now,
    )
    .map_err(reply_refusal)?;
    new.body = &text;
    let conversation = rules::new_outgoing_conversation(&new, now);
    let message = Message {
        id: first_message_id(request.client_id),
        conversation_id: conversation.id,
        kind: MessageKind::Outgoing,
        body: text,
        sender: Sender::Agent { id: viewer.agent.id },
        attachments: vec![],
        template: request.template,
        delivery: send::initial_delivery(&inbox),
        failure: None,
        mentions: vec![],
        created_at: now,
    };
    ledger::create(tx, &conversation, Origin::Agent, &Cause::agent(viewer, "create", now))?;
    put_message(tx, inbox.id, &message)?;
    send::queue_delivery(tx, &inbox, &message)?;
    let result = ConversationResult { conversation, message: Some(message), seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}
