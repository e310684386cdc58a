//! Labels (added and removed, never replaced) and priority.

use switchboard_proto::*;

use super::unchanged;
use crate::{
    refusal::{Outcome, Refusal},
    rules,
    store::StoreTx,
    workspace::{
        directory::label_named,
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
    // Any spelling of a label adds the label's own name (`labels::label_key`); removing matches
    // by key too, so a label deleted meanwhile can still be taken off.
    let mut add = Vec::with_capacity(request.add.len());
    for name in &request.add {
        match label_named(tx, name)? {
            Some(label) => add.push(label.name),
            None => return Err(Refusal::validation(format!("no label named “{name}”"))),
        }
    }
    let before = conversation.clone();
    rules::edit_labels(&mut conversation.labels, &add, &request.remove);
    let cause = Cause::agent(viewer, "labels", tx.now()).in_bulk(request.bulk_id);
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
    let cause = Cause::agent(viewer, "priority", tx.now()).in_bulk(request.bulk_id);
    ledger::save(tx, &before, &conversation, &cause)?;
    Ok(unchanged(conversation))
}
