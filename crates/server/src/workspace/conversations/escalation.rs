//! Escalating and de-escalating by hand: any agent who sees the conversation may do either. Rules
//! (`automation.rs`, `Action::Escalate`) and SLA escalation steps (`sla.rs`) set the same state
//! through the same rule, `switchboard_proto::escalation::apply_escalation`.

use switchboard_proto::{
    escalation::{self, EscalatedBy, Escalation},
    *,
};

use super::{activity, unchanged};
use crate::{
    refusal::{Outcome, Refusal},
    store::StoreTx,
    workspace::{
        ledger::{self, Cause},
        Viewer,
    },
};

pub(super) fn set_escalation(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    mut conversation: Conversation,
    request: EscalationRequest,
) -> Outcome<ConversationResult> {
    let note = escalation::escalation_note(request.note.as_deref()).map_err(Refusal::validation)?;
    if request.escalated && conversation.status == ConversationStatus::Resolved {
        return Err(Refusal::validation("a resolved conversation can't be escalated; reopen it first"));
    }
    let now = tx.now();
    let before = conversation.clone();
    let escalation = request.escalated.then(|| Escalation {
        at: now,
        by: EscalatedBy::Agent { id: viewer.agent.id },
        note: note.clone(),
    });
    if !escalation::apply_escalation(&mut conversation, escalation) {
        return Ok(unchanged(conversation));
    }
    ledger::save(tx, &before, &conversation, &Cause::agent(viewer, "escalation", now))?;
    let text = match (request.escalated, &note) {
        (true, Some(note)) => format!("{} escalated the conversation: {note}", viewer.agent.name),
        (true, None) => format!("{} escalated the conversation", viewer.agent.name),
        (false, _) => format!("{} de-escalated the conversation", viewer.agent.name),
    };
    let by = Sender::Agent { id: viewer.agent.id };
    let message = activity(tx, conversation.inbox_id, conversation.id, by, text)?;
    Ok(ConversationResult { conversation, message: Some(message), seq: 0 })
}
