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
    store::{Audience, HeldConversation, StoreReadExt, StoreTx, StoreTxExt},
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
    append_as(tx, Id::now_v7(), conversation, cycle, cause, event)
}

/// [`append`] under an id minted earlier (its place in the ledger, which is ordered by id).
fn append_as(
    tx: &mut dyn StoreTx,
    id: Id,
    conversation: Id,
    cycle: u32,
    cause: &Cause,
    event: EventKind,
) -> Outcome<()> {
    let event = ConversationEvent {
        id,
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

/// How many SLA event ids a held conversation reserves: a policy starts at most three clocks (a
/// first or next response, and the resolution); a fourth would take a fresh id.
const HELD_SLA_EVENT_IDS: usize = 3;

/// [`create`] for a new customer conversation that routing and the rules may yet change in this
/// transaction: appends its `created` event now (the rules' triggers and their run log carry its
/// id) and holds the row back in the transaction, so that what the rules' pass does to it is
/// written with it, once, and its SLA is stepped once on the final state ([`write_held`], which
/// the rules' answer calls before the transaction commits).
pub fn create_held(
    tx: &mut dyn StoreTx,
    conversation: &Conversation,
    origin: Origin,
    cause: &Cause,
) -> Outcome<()> {
    write_held(tx)?;
    append(tx, conversation.id, 1, cause, EventKind::Created { origin })?;
    let sla_event_ids = (0..HELD_SLA_EVENT_IDS).map(|_| Id::now_v7()).collect();
    tx.held().conversation =
        Some(HeldConversation { conversation: conversation.clone(), at: cause.at, sla_event_ids });
    Ok(())
}

/// The conversation as this transaction has it: the held new one ([`create_held`]), else the
/// stored one.
pub fn current(tx: &mut dyn StoreTx, id: Id) -> Outcome<Option<Conversation>> {
    if let Some(held) = tx.held().conversation.as_ref().filter(|held| held.conversation.id == id) {
        return Ok(Some(held.conversation.clone()));
    }
    Ok(tx.get::<Conversation>(id)?)
}

/// Writes the held new conversation, if there is one: its SLA stepped once on its final state,
/// its row, and its SLA events (dated at its creation; in the ledger right after its `created`,
/// where they stood when the row was written first). Answers the conversation as written.
pub fn write_held(tx: &mut dyn StoreTx) -> Outcome<Option<Conversation>> {
    let Some(held) = tx.held().conversation.take() else { return Ok(None) };
    let (conversation, sla_events) = super::sla::step(tx, None, &held.conversation, held.at)?;
    tx.put(&conversation, Audience::inbox(conversation.inbox_id))?;
    let sla = Cause::system("sla", held.at);
    let mut ids = held.sla_event_ids.into_iter();
    for event in sla_events {
        append_as(tx, ids.next().unwrap_or_else(Id::now_v7), conversation.id, 1, &sla, event)?;
    }
    Ok(Some(conversation))
}

/// Before a change of the held conversation that its one write can't take (an effect that reads
/// it from the store, a change its SLA clocks follow): writes it now, and moves `before` and
/// `after` onto it as written (its SLA), so the change is saved as any later one.
pub fn release_held(
    tx: &mut dyn StoreTx,
    before: &mut Conversation,
    after: &mut Conversation,
) -> Outcome<()> {
    if !holds(tx, after.id) {
        return Ok(());
    }
    if let Some(written) = write_held(tx)? {
        after.sla = written.sla.clone();
        *before = written;
    }
    Ok(())
}

/// Whether `id` is the new conversation this transaction holds ([`create_held`]).
fn holds(tx: &mut dyn StoreTx, id: Id) -> bool {
    tx.held().conversation.as_ref().is_some_and(|held| held.conversation.id == id)
}

/// Whether a change of the held conversation can be folded into its one write: the SLA step
/// at creation reads the status, the wait, the first reply and a pin as the state it starts from,
/// so a change of those is a change the clocks follow (written after the row), while the fields
/// that only choose the policy (labels, priority, team) or nothing of it (the assignee, the
/// escalation) give the same clocks stepped once on the final state (ARCHITECTURE.md, the SLA).
fn foldable(before: &Conversation, after: &Conversation) -> bool {
    before.status == after.status
        && before.snoozed_until == after.snoozed_until
        && before.waiting_since == after.waiting_since
        && before.first_reply_at == after.first_reply_at
        && before.sla == after.sla
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
    if holds(tx, after.id) {
        if foldable(before, after) {
            // Its events now, in order; its row and SLA with the held write.
            change_events(tx, before, after, cause)?;
            if let Some(held) = tx.held().conversation.as_mut() {
                held.conversation = after.clone();
            }
            return Ok(after.clone());
        }
        let (mut before, mut after) = (before.clone(), after.clone());
        release_held(tx, &mut before, &mut after)?;
        return save_stored(tx, &before, &after, cause);
    }
    let (stored, sla_events) = super::sla::step(tx, Some(before), after, cause.at)?;
    tx.put(&stored, Audience::inbox(stored.inbox_id))?;
    let cycle = change_events(tx, before, &stored, cause)?;
    let sla = Cause::system("sla", cause.at);
    for event in sla_events {
        append(tx, stored.id, cycle, &sla, event)?;
    }
    Ok(stored)
}

/// The events of a conversation's change from `before` to `after` (its SLA's aside), in the
/// ledger's order; answers the cycle the change ends in.
fn change_events(
    tx: &mut dyn StoreTx,
    before: &Conversation,
    after: &Conversation,
    cause: &Cause,
) -> Outcome<u32> {
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
    Ok(cycle)
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
