//! Labels (added and removed, never replaced) and priority.

use switchboard_proto::*;

use super::unchanged;
use crate::{
    refusal::{Outcome, Refusal},
    rules,
    store::StoreTx,
    workspace::{
        ledger::{self, Cause},
        Viewer,
    },
};

pub(super) fn edit_labels(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    mut conversation: Conversation,
    request: LabelsRequest,
) -> Outcome<ConversationResult> {
    for name in &request.add {
        if !tx.label_exists(name)? {
            return Err(Refusal::validation(format!("no label named {name:?}")));
        }
    }
    let before = conversation.clone();
    rules::edit_labels(&mut conversation.labels, &request.add, &request.remove);
    let cause = Cause::agent(viewer, "labels", tx.now());
    ledger::save(tx, &before, &conversation, &cause)?;
    Ok(unchanged(conversation))
}

pub(super) fn set_priority(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    mut conversation: Conversation,
    request: PriorityRequest,
) -> Outcome<ConversationResult> {
    let before = conversation.clone();
    conversation.priority = request.priority;
    let cause = Cause::agent(viewer, "priority", tx.now());
    ledger::save(tx, &before, &conversation, &cause)?;
    Ok(unchanged(conversation))
}
