//! Replies to the customer and internal notes (with `@mentions`), with their staged attachments.

use switchboard_proto::*;

use super::{put_message, reply_refusal};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, DeliveryRecord, StoreReadExt, StoreTx, StoreTxExt},
    workspace::{
        ledger::{self, Cause},
        Viewer,
    },
};

/// How an outgoing message starts: queued for the delivery job, on every inbox. An inbox with no
/// working connector fails it there, saying why; nothing is marked sent that went nowhere.
pub(in crate::workspace) fn initial_delivery(_inbox: &Inbox) -> DeliveryState {
    DeliveryState::Queued
}

/// Queues a message (already written) for the delivery job (`deliveries.rs`) when it starts
/// queued; on an inbox with no connector it fails at once, saying so, in the same transaction.
pub(in crate::workspace) fn queue_delivery(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    message: &Message,
) -> Outcome<()> {
    if message.delivery != DeliveryState::Queued {
        return Ok(());
    }
    if tx.connector_settings(inbox.id)?.is_none() {
        let mut failed = message.clone();
        failed.delivery = DeliveryState::Failed;
        failed.failure =
            Some(DeliveryFailure { kind: DeliveryFailureKind::NotConfigured, reason: NO_CONNECTOR.into() });
        tx.put(&failed, Audience::inbox(inbox.id))?;
        return Ok(());
    }
    let delivery =
        DeliveryRecord { message_id: message.id, inbox_id: inbox.id, attempts: 0, last_error: None };
    tx.enqueue_delivery(&delivery, tx.now())?;
    Ok(())
}

/// Why a reply on an inbox without a connector failed.
pub(in crate::workspace) const NO_CONNECTOR: &str =
    "this inbox has no connector, so the reply went nowhere: an admin sets one in the inbox's settings";

/// Claims the staged attachments for a message: each must belong to this conversation and not be
/// used by another message yet.
fn claim_attachments(
    tx: &mut dyn StoreTx,
    conversation_id: Id,
    message_id: Id,
    ids: &[Id],
) -> Outcome<Vec<Attachment>> {
    let mut attachments = Vec::with_capacity(ids.len());
    for id in ids {
        match tx.attachment(*id)?.filter(|staged| staged.attachment.conversation_id == conversation_id) {
            Some(staged) if staged.message_id.is_none() => attachments.push(staged.attachment),
            Some(_) => return Err(Refusal::validation(format!("attachment {id} is already sent"))),
            None => return Err(Refusal::validation(format!("no attachment {id} on this conversation"))),
        }
        tx.claim_attachment(*id, message_id)?;
    }
    Ok(attachments)
}

/// A free-form reply longer than the channel takes (WhatsApp: 4096 characters) is refused now,
/// rather than failing at delivery. A template goes out by name, so its rendered text is not sent.
fn check_length(tx: &dyn StoreTx, inbox: &Inbox, text: &str, template: bool) -> Outcome<()> {
    let Some(settings) = crate::workspace::deliveries::connector_settings(tx, inbox.id)? else {
        return Ok(());
    };
    if !template {
        if let crate::connectors::ConnectorSettings::Instagram(_) = &settings {
            crate::connectors::meta::check_text(crate::connectors::meta::Platform::Instagram, text)
                .map_err(Refusal::validation)?;
        }
    }
    let Some(max) = crate::connectors::capabilities(&settings).max_body_chars else { return Ok(()) };
    let length = text.chars().count();
    if !template && length > max {
        return Err(Refusal::validation(format!(
            "this channel takes at most {max} characters in a message; this one has {length}"
        )));
    }
    Ok(())
}

pub(super) fn send(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    mut conversation: Conversation,
    inbox: &Inbox,
    request: SendMessage,
) -> Outcome<ConversationResult> {
    policy::check_body(&request.body)?;
    if tx.get::<Message>(request.client_id)?.is_some() {
        return Err(Refusal::conflict(ErrorCode::ClientIdReused, "a message with this id exists"));
    }
    let now = tx.now();
    let (kind, body, mentions, delivery) = match request.kind {
        SendKind::Note => {
            if request.template.is_some() {
                return Err(Refusal::validation("a note can't be a template message"));
            }
            if request.body.trim().is_empty() && request.attachment_ids.is_empty() {
                return Err(Refusal::validation("a note needs a body or an attachment"));
            }
            let agents: Vec<Agent> = tx.all()?;
            let can_see: Vec<Agent> = agents.into_iter().filter(|a| rules::can_see_inbox(a, inbox)).collect();
            let mentions = rules::parse_mentions(&request.body, &can_see);
            (MessageKind::Note, request.body.clone(), mentions, DeliveryState::Delivered)
        }
        SendKind::Reply => {
            let window = crate::workspace::connectors::person_reply_window_ms(tx, inbox.id)?;
            let text = rules::reply_text_within(
                inbox,
                &conversation,
                &request.body,
                request.template.as_ref(),
                !request.attachment_ids.is_empty(),
                now,
                window,
            )
            .map_err(reply_refusal)?;
            check_length(tx, inbox, &text, request.template.is_some())?;
            (MessageKind::Outgoing, text, vec![], initial_delivery(inbox))
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
        failure: None,
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
        tx.put(&mention, Audience::private(*agent_id, Some(inbox.id)))?;
    }
    if kind == MessageKind::Outgoing {
        let before = conversation.clone();
        rules::on_outgoing(&mut conversation, &message.body, now);
        ledger::save(tx, &before, &conversation, &Cause::agent(viewer, "reply", now))?;
        queue_delivery(tx, inbox, &message)?;
        // A person answered: a greeting still waiting for its delay would come after them.
        tx.remove_timer(&crate::workspace::auto_replies::greeting_timer_key(conversation.id))?;
        // Anyone's reply answers the customer: routing's reply deadline is met.
        tx.remove_timer(&crate::workspace::routing::no_reply_timer_key(conversation.id))?;
    }
    Ok(ConversationResult { conversation, message: Some(message), seq: 0 })
}
