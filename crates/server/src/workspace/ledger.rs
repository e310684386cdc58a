//! The conversation event ledger's one write path. A conversation is only ever written through
//! [`create`] and [`save`], which append the events its change amounts to in the same transaction,
//! and every message through [`message`]; so no state change exists without its event, whichever
//! operation (or cascade) made it.

use switchboard_proto::{
    ledger::{reopens_cycle, Actor, ConversationEvent, EventKind, MessageClass, Origin, RoutingCandidate},
    *,
};

use super::Viewer;
use crate::{
    refusal::Outcome,
    store::{Audience, StoreTx, StoreTxExt},
};

/// Who caused a change, why, and when it counts as having happened.
#[derive(Debug, Clone)]
pub struct Cause {
    pub actor: Actor,
    /// Why the assignee changed, when it did (`claim`, `assign`, `deactivated`, …).
    pub reason: &'static str,
    /// Usually the transaction's time; a timer's due time when it fires late.
    pub at: Millis,
    /// The actor's name for the audit trail, when the cause knows it (an agent's, a rule's with
    /// its `@version`); otherwise the audit row reads it (`audit::conversation_action`).
    pub actor_label: Option<String>,
    /// The bulk action this change is one of (the app's multi-selection), for the audit trail.
    pub bulk_id: Option<Id>,
}

impl Cause {
    fn of(actor: Actor, reason: &'static str, at: Millis) -> Self {
        Cause { actor, reason, at, actor_label: None, bulk_id: None }
    }

    pub fn agent(viewer: &Viewer, reason: &'static str, at: Millis) -> Self {
        let cause = Self::agent_id(viewer.agent.id, reason, at);
        Cause { actor_label: Some(viewer.agent.name.clone()), ..cause }
    }

    pub fn agent_id(agent_id: Id, reason: &'static str, at: Millis) -> Self {
        Self::of(Actor::Agent { id: agent_id }, reason, at)
    }

    pub fn system(reason: &'static str, at: Millis) -> Self {
        Self::of(Actor::System { reason: reason.to_owned() }, reason, at)
    }

    /// The customer, writing in.
    pub fn contact(contact_id: Id, reason: &'static str, at: Millis) -> Self {
        Self::of(Actor::Contact { id: contact_id }, reason, at)
    }

    /// An automation rule, at the version that ran.
    pub fn rule(rule: &switchboard_proto::automation::AutomationRule, at: Millis) -> Self {
        let cause = Self::of(Actor::Rule { id: rule.id, version: rule.version }, "rule", at);
        Cause { actor_label: Some(format!("{} @{}", rule.name, rule.version)), ..cause }
    }

    /// One change of a bulk action (`None`: a single one).
    pub fn in_bulk(self, bulk_id: Option<Id>) -> Self {
        Cause { bulk_id, ..self }
    }
}

fn append(
    tx: &mut dyn StoreTx,
    conversation: Id,
    cycle: u32,
    cause: &Cause,
    event: EventKind,
) -> Outcome<()> {
    let event = ConversationEvent {
        id: Id::now_v7(),
        conversation_id: conversation,
        cycle,
        at: cause.at,
        seq: tx.last_seq(),
        actor: cause.actor.clone(),
        event,
    };
    tx.append_event(&event)?;
    // The one place conversation actions reach the audit trail: each event that is one gets its
    // row in this transaction (ARCHITECTURE.md, "the audit trail").
    super::audit::conversation_action(tx, &event, cause)
}

fn cycle_of(tx: &dyn StoreTx, conversation: Id) -> Outcome<u32> {
    Ok(tx.current_cycle(conversation)?.unwrap_or(1))
}

/// Writes a new conversation and its `created` event (cycle 1).
pub fn create(
    tx: &mut dyn StoreTx,
    conversation: &Conversation,
    origin: Origin,
    cause: &Cause,
) -> Outcome<()> {
    let (conversation, sla_events) = super::sla::step(tx, None, conversation, cause.at)?;
    tx.put(&conversation, Audience::inbox(conversation.inbox_id))?;
    append(tx, conversation.id, 1, cause, EventKind::Created { origin })?;
    let sla = Cause::system("sla", cause.at);
    for event in sla_events {
        append(tx, conversation.id, 1, &sla, event)?;
    }
    Ok(())
}

/// An SLA warning or breach, dated when it fell due (the clocks are written by the `save` after).
pub fn sla_event(
    tx: &mut dyn StoreTx,
    conversation: Id,
    cycle: u32,
    event: EventKind,
    at: Millis,
) -> Outcome<()> {
    append(tx, conversation, cycle, &Cause::system("sla", at), event)
}

/// Writes a changed conversation and the events its change from `before` amounts to; writes
/// nothing when nothing changed. Leaving `resolved` starts a new cycle: the `reopened` event and
/// everything after it belong to it.
pub fn save(tx: &mut dyn StoreTx, before: &Conversation, after: &Conversation, cause: &Cause) -> Outcome<()> {
    save_stored(tx, before, after, cause).map(drop)
}

/// [`save`], answering the conversation as stored (`after` with its SLA moved by the change), so
/// a caller that goes on changing it needn't read it back.
pub fn save_stored(
    tx: &mut dyn StoreTx,
    before: &Conversation,
    after: &Conversation,
    cause: &Cause,
) -> Outcome<Conversation> {
    if before == after {
        return Ok(after.clone());
    }
    let (stored, sla_events) = super::sla::step(tx, Some(before), after, cause.at)?;
    let after = &stored;
    tx.put(after, Audience::inbox(after.inbox_id))?;
    let mut cycle = cycle_of(tx, after.id)?;
    let id = after.id;
    if before.status != after.status || before.snoozed_until != after.snoozed_until {
        if reopens_cycle(before.status, after.status) {
            cycle += 1;
            append(tx, id, cycle, cause, EventKind::Reopened)?;
        }
        let status =
            EventKind::Status { from: before.status, to: after.status, snoozed_until: after.snoozed_until };
        append(tx, id, cycle, cause, status)?;
        if after.status == ConversationStatus::Resolved && before.status != ConversationStatus::Resolved {
            append(tx, id, cycle, cause, EventKind::Resolved)?;
        }
    }
    if before.contact_id != after.contact_id {
        append(tx, id, cycle, cause, EventKind::Contact { from: before.contact_id, to: after.contact_id })?;
    }
    if before.assignee_id != after.assignee_id {
        let assigned = EventKind::Assigned {
            from: before.assignee_id,
            to: after.assignee_id,
            reason: cause.reason.to_owned(),
            candidates: vec![],
        };
        append(tx, id, cycle, cause, assigned)?;
    }
    if before.team_id != after.team_id {
        append(tx, id, cycle, cause, EventKind::Team { from: before.team_id, to: after.team_id })?;
    }
    if before.priority != after.priority {
        append(tx, id, cycle, cause, EventKind::Priority { from: before.priority, to: after.priority })?;
    }
    if before.labels != after.labels {
        let added = after.labels.iter().filter(|l| !before.labels.contains(l)).cloned().collect();
        let removed = before.labels.iter().filter(|l| !after.labels.contains(l)).cloned().collect();
        append(tx, id, cycle, cause, EventKind::Labels { added, removed })?;
    }
    if before.escalation.is_some() != after.escalation.is_some() {
        let note = after.escalation.as_ref().and_then(|e| e.note.clone());
        let escalation = EventKind::Escalation { escalated: after.escalation.is_some(), note };
        append(tx, id, cycle, cause, escalation)?;
    }
    let sla = Cause::system("sla", cause.at);
    for event in sla_events {
        append(tx, id, cycle, &sla, event)?;
    }
    Ok(stored)
}

/// Writes a conversation routing assigned, and its `assigned` event with the candidates routing
/// weighed (nothing else of the conversation changes).
pub fn routed(
    tx: &mut dyn StoreTx,
    before: &Conversation,
    after: &Conversation,
    reason: &'static str,
    candidates: Vec<RoutingCandidate>,
    at: Millis,
) -> Outcome<()> {
    tx.put(after, Audience::inbox(after.inbox_id))?;
    routed_event(tx, after.id, before.assignee_id, after.assignee_id, reason, candidates, at)
}

/// The `assigned` event of [`routed`] alone, for a new conversation whose one write already held
/// the assignee routing chose before it was written (`routing::decide_new`).
pub fn routed_event(
    tx: &mut dyn StoreTx,
    conversation: Id,
    from: Option<Id>,
    to: Option<Id>,
    reason: &'static str,
    candidates: Vec<RoutingCandidate>,
    at: Millis,
) -> Outcome<()> {
    let cycle = cycle_of(tx, conversation)?;
    let cause = Cause::of(Actor::Routing, reason, at);
    let event = EventKind::Assigned { from, to, reason: reason.to_owned(), candidates };
    append(tx, conversation, cycle, &cause, event)
}

/// The event of a new message (activity lines are not events: they narrate events).
pub fn message(tx: &mut dyn StoreTx, message: &Message, at: Millis) -> Outcome<()> {
    let (class, actor) = match (message.kind, message.sender) {
        (MessageKind::Activity, _) | (_, Sender::System) => return Ok(()),
        (MessageKind::Incoming, Sender::Contact { id }) => (MessageClass::Inbound, Actor::Contact { id }),
        (MessageKind::Note, Sender::Agent { id }) => (MessageClass::Note, Actor::Agent { id }),
        (_, Sender::Agent { id }) => (MessageClass::Human, Actor::Agent { id }),
        (_, Sender::Contact { id }) => (MessageClass::Inbound, Actor::Contact { id }),
    };
    let cycle = cycle_of(tx, message.conversation_id)?;
    let cause = Cause::of(actor, "", at);
    let event = EventKind::Message { class, message_id: message.id, auto_reply: None };
    append(tx, message.conversation_id, cycle, &cause, event)
}

/// The event of a message an automation rule wrote (a reply or a note), by that rule.
pub fn rule_message(
    tx: &mut dyn StoreTx,
    message: &Message,
    class: MessageClass,
    cause: &Cause,
) -> Outcome<()> {
    let cycle = cycle_of(tx, message.conversation_id)?;
    let event = EventKind::Message { class, message_id: message.id, auto_reply: None };
    append(tx, message.conversation_id, cycle, cause, event)
}

/// The event of an automatic reply: `class: auto_reply`, by the system, naming which reply it was.
pub fn auto_reply(tx: &mut dyn StoreTx, message: &Message, reply: ledger::AutoReplyRef) -> Outcome<()> {
    let cycle = cycle_of(tx, message.conversation_id)?;
    let cause = Cause::system("auto_reply", message.created_at);
    let event = EventKind::Message {
        class: MessageClass::AutoReply,
        message_id: message.id,
        auto_reply: Some(reply),
    };
    append(tx, message.conversation_id, cycle, &cause, event)
}

/// The event of an automatic reply that was due and not sent, with why.
pub fn auto_reply_not_sent(
    tx: &mut dyn StoreTx,
    conversation: Id,
    reply: ledger::AutoReplyRef,
    why: ledger::AutoReplySkip,
    at: Millis,
) -> Outcome<()> {
    let cycle = cycle_of(tx, conversation)?;
    let cause = Cause::system("auto_reply", at);
    append(tx, conversation, cycle, &cause, EventKind::AutoReplyNotSent { auto_reply: reply, why })
}
