//! Opening, marking pending, snoozing and resolving, with the one-open-conversation rule.

use switchboard_proto::*;

use super::{activity, conversation_exists, snooze_timer_key, unchanged};
use crate::{
    refusal::{Outcome, Refusal},
    rules,
    store::{StoreTx, TimerRecord},
    workspace::{
        ledger::{self, Cause},
        Viewer,
    },
};

pub(super) fn set_status(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    mut conversation: Conversation,
    request: StatusRequest,
) -> Outcome<ConversationResult> {
    let now = tx.now();
    let snoozed_until = match (request.status, request.snoozed_until) {
        (ConversationStatus::Snoozed, Some(until)) if until > now => Some(until),
        (ConversationStatus::Snoozed, _) => {
            return Err(Refusal::validation("snoozing needs snoozed_until in the future"))
        }
        (_, Some(_)) => return Err(Refusal::validation("snoozed_until only goes with status snoozed")),
        (_, None) => None,
    };
    if !conversation.status.is_open() && request.status.is_open() {
        if let Some(other) =
            tx.open_conversation(conversation.inbox_id, conversation.contact_id, Some(conversation.id))?
        {
            return Err(conversation_exists(other.id));
        }
    }
    let before = conversation.clone();
    if !rules::apply_status(&mut conversation, request.status, snoozed_until) {
        return Ok(unchanged(conversation));
    }
    let cause = Cause::agent(viewer, "status", now).in_bulk(request.bulk_id);
    ledger::save(tx, &before, &conversation, &cause)?;
    let timer = snooze_timer_key(conversation.id);
    match conversation.snoozed_until {
        Some(until) => tx.schedule_timer(&TimerRecord {
            key: timer,
            due_at: until,
            payload: serde_json::json!({ "conversation_id": conversation.id, "snoozed_until": until }),
        })?,
        None => tx.remove_timer(&timer)?,
    }
    let verb = match request.status {
        ConversationStatus::Open => "reopened",
        ConversationStatus::Pending => "marked the conversation pending",
        ConversationStatus::Snoozed => "snoozed the conversation",
        ConversationStatus::Resolved => "resolved the conversation",
    };
    let message = activity(
        tx,
        conversation.inbox_id,
        conversation.id,
        Sender::Agent { id: viewer.agent.id },
        format!("{} {verb}", viewer.agent.name),
    )?;
    Ok(ConversationResult { conversation, message: Some(message), seq: 0 })
}
