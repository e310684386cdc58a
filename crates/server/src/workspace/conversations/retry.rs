//! Retrying a failed reply: the message goes back to `queued` and to the delivery job
//! (`deliveries.rs`), the one way a delivery state moves back. Only a failed outgoing message of
//! this conversation qualifies, and only while the channel would take it now (a free-form reply
//! outside the reply window is refused as a new one would be).

use switchboard_proto::*;

use super::{queue_delivery, reply_refusal, unchanged};
use crate::{
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreReadExt, StoreTx, StoreTxExt},
    workspace::Viewer,
};

pub(super) fn retry(
    tx: &mut dyn StoreTx,
    _viewer: &Viewer,
    conversation: Conversation,
    inbox: &Inbox,
    message_id: Id,
) -> Outcome<ConversationResult> {
    let message: Message = tx
        .get(message_id)?
        .filter(|m: &Message| m.conversation_id == conversation.id)
        .ok_or_else(|| Refusal::not_found("message"))?;
    if message.kind != MessageKind::Outgoing {
        return Err(Refusal::validation("only a reply to the customer can be retried"));
    }
    if message.delivery != DeliveryState::Failed {
        return Err(Refusal::validation(format!(
            "only a failed reply can be retried; this one is {}",
            message.delivery.as_str()
        )));
    }
    let window = match message.sender {
        Sender::Agent { .. } => crate::workspace::connectors::person_reply_window_ms(tx, inbox.id)?,
        _ => REPLY_WINDOW_MS,
    };
    rules::reply_text_within(
        inbox,
        &conversation,
        &message.body,
        message.template.as_ref(),
        !message.attachments.is_empty(),
        tx.now(),
        window,
    )
    .map_err(reply_refusal)?;
    let queued = Message { delivery: DeliveryState::Queued, failure: None, ..message };
    tx.put(&queued, Audience::inbox(inbox.id))?;
    // Fails it again at once, saying why, if the inbox still has no connector.
    queue_delivery(tx, inbox, &queued)?;
    let message = tx.get::<Message>(queued.id)?;
    Ok(ConversationResult { message, ..unchanged(conversation) })
}
