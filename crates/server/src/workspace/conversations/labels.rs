//! Labels (added and removed, never replaced) and priority.

use switchboard_proto::*;

use super::unchanged;
use crate::{
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreTx, StoreTxExt},
};

pub(super) fn edit_labels(
    tx: &mut dyn StoreTx,
    mut conversation: Conversation,
    request: LabelsRequest,
) -> Outcome<ConversationResult> {
    for name in &request.add {
        if !tx.label_exists(name)? {
            return Err(Refusal::validation(format!("no label named {name:?}")));
        }
    }
    let before = conversation.labels.clone();
    rules::edit_labels(&mut conversation.labels, &request.add, &request.remove);
    if conversation.labels != before {
        tx.put(&conversation, Audience::inbox(conversation.inbox_id))?;
    }
    Ok(unchanged(conversation))
}

pub(super) fn set_priority(
    tx: &mut dyn StoreTx,
    mut conversation: Conversation,
    request: PriorityRequest,
) -> Outcome<ConversationResult> {
    if conversation.priority != request.priority {
        conversation.priority = request.priority;
        tx.put(&conversation, Audience::inbox(conversation.inbox_id))?;
    }
    Ok(unchanged(conversation))
}
