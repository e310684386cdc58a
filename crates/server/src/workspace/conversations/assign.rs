//! Assigning, claiming (compare-and-set on the current assignee) and moving to a team.

use switchboard_proto::*;

use super::activity;
use crate::{
    refusal::{Outcome, Refusal},
    rules,
    store::{StoreReadExt, StoreTx},
    workspace::{
        ledger::{self, Cause},
        Viewer,
    },
};

pub(super) fn assign(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    mut conversation: Conversation,
    inbox: &Inbox,
    request: AssignRequest,
) -> Outcome<ConversationResult> {
    if !rules::assignment_holds(&conversation, request.expected_assignee_id) {
        let mut conflict = Refusal::conflict(
            ErrorCode::AssignmentConflict,
            "the conversation's assignee changed; it is now someone else's",
        );
        conflict.current_assignee_id = Some(conversation.assignee_id);
        return Err(conflict);
    }
    let assignee = match request.assignee_id {
        Some(id) => {
            let agent: Agent = tx
                .get(id)?
                .filter(|a: &Agent| a.active)
                .ok_or_else(|| Refusal::validation("the assignee is not an active agent"))?;
            if !rules::can_see_inbox(&agent, inbox) {
                return Err(Refusal::validation("the assignee can't see this inbox"));
            }
            Some(agent)
        }
        None => None,
    };
    if let Some(Some(team_id)) = request.team_id {
        if tx.get::<Team>(team_id)?.is_none() {
            return Err(Refusal::validation("no such team"));
        }
    }
    let before = conversation.clone();
    let assignee_changed =
        rules::apply_assignment(&mut conversation, assignee.as_ref().map(|a| a.id), request.team_id);
    if conversation == before {
        return Ok(ConversationResult { conversation, message: None, seq: 0 });
    }
    let reason = match &assignee {
        Some(a) if a.id == viewer.agent.id => "claim",
        Some(_) => "assign",
        None => "unassign",
    };
    let cause = Cause::agent(viewer, reason, tx.now()).in_bulk(request.bulk_id);
    ledger::save(tx, &before, &conversation, &cause)?;
    let message = if assignee_changed {
        let text = match &assignee {
            Some(a) if a.id == viewer.agent.id => format!("{} claimed the conversation", viewer.agent.name),
            Some(a) => format!("{} assigned the conversation to {}", viewer.agent.name, a.name),
            None => format!("{} unassigned the conversation", viewer.agent.name),
        };
        Some(activity(tx, inbox.id, conversation.id, Sender::Agent { id: viewer.agent.id }, text)?)
    } else {
        None
    };
    Ok(ConversationResult { conversation, message, seq: 0 })
}
