//! The agent's own markers on a conversation, private to them: read position and pin.

use switchboard_proto::*;

use super::unchanged;
use crate::{
    refusal::{Outcome, Refusal},
    store::{Audience, StoreReadExt, StoreTx, StoreTxExt},
    workspace::Viewer,
};

pub(super) fn mark_read(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    conversation: Conversation,
    request: ReadRequest,
) -> Outcome<ConversationResult> {
    let message: Message = tx
        .get(request.last_read_message_id)?
        .filter(|m: &Message| m.conversation_id == conversation.id)
        .ok_or_else(|| Refusal::validation("that message is not in this conversation"))?;
    let marker =
        ReadMarker { conversation_id: conversation.id, last_read_message_id: message.id, read_at: tx.now() };
    tx.put(&marker, Audience::private(viewer.agent.id, Some(conversation.inbox_id)))?;
    Ok(unchanged(conversation))
}

pub(super) fn pin(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    conversation: Conversation,
    pinned: bool,
) -> Outcome<ConversationResult> {
    let audience = Audience::private(viewer.agent.id, Some(conversation.inbox_id));
    if pinned {
        tx.put(&Pin { conversation_id: conversation.id, pinned_at: tx.now() }, audience)?;
    } else {
        tx.remove(EntityKind::Pin, conversation.id, audience)?;
    }
    Ok(unchanged(conversation))
}
