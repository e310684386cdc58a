//! Service-level clocks, driven by the conversation's own changes: [`step`] runs inside
//! `ledger::create`/`save` on every conversation write (so no path can change a conversation
//! without its clocks following), and one durable timer per conversation (`sla:<id>`) fires the
//! warnings, breaches and escalation steps on the injected clock, dated when they fell due (also
//! after downtime). The clock rules themselves are in `proto::sla`; which changes move them is
//! decided here from the before/after of the write:
//! - a cycle starts (created, or a resolved conversation reopens): the pinned policy, else the
//!   first matching one, applies; resolution starts, first response too if a customer's message
//!   started it; a policy that comes to match mid-cycle (new, or after a change) applies from then
//!   on, its reply clock anchored at the message the customer is waiting on;
//! - the customer starts waiting (`waiting_since` set) with no reply clock live: the next
//!   response clock starts; a person's reply (`waiting_since` cleared; auto-replies never clear
//!   it) meets the live reply clock;
//! - pending or snoozed pauses the resolution clock, open resumes it, resolved meets it and ends
//!   the reply clocks (cancelled before their due, `breached_closed` after);
//! - a change of priority, labels, team or inbox that makes another policy match first moves the
//!   live clocks to its targets, keeping what they counted; never a pinned conversation's
//!   ([`pin`]), nor one whose policy was deleted (its clocks were cancelled, [`cancel_policy`]).
//!
//! Outside a conversation's own writes: an inbox's new hours re-time the running business-hours
//! clocks of its conversations from the edit instant ([`retime_inbox`]), and deleting a policy
//! cancels the live clocks under it ([`cancel_policy`]). The attainment report reads the ledger.

use std::collections::{BTreeMap, HashMap, HashSet};

use switchboard_proto::{
    calendar::{BusinessHours, CalendarHistory},
    ledger::{Actor, ConversationEvent, EventKind, Origin},
    sla::{
        ConversationSla, SlaAgentCounts, SlaAttainment, SlaCancelReason, SlaClock, SlaClockStatus, SlaCounts,
        SlaEscalation, SlaMetric, SlaMetricCounts, SlaNotify, SlaPolicy, SlaTeamCounts, Time,
    },
    *,
};

use super::{
    audit::{self, Who},
    conversations::activity,
    ledger::{self, Cause},
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt, TimerRecord},
};

/// The timer that fires a conversation's next SLA warning, breach or escalation step.
pub fn timer_key(conversation: Id) -> String {
    format!("sla:{conversation}")
}

/// The enabled policies, in the order they are tried.
fn policies(store: &(impl StoreRead + ?Sized)) -> Outcome<Vec<SlaPolicy>> {
    let mut policies: Vec<SlaPolicy> = store.all()?;
    policies.retain(|policy| policy.enabled);
    policies.sort_by_key(|policy| (policy.position, policy.id));
    Ok(policies)
}

/// A policy by id, enabled or not (`None`: deleted), from the enabled ones if it is there.
fn policy_by_id(
    store: &(impl StoreRead + ?Sized),
    enabled: &[SlaPolicy],
    id: Option<Id>,
) -> Outcome<Option<SlaPolicy>> {
    let Some(id) = id else { return Ok(None) };
    match enabled.iter().find(|p| p.id == id) {
        Some(policy) => Ok(Some(policy.clone())),
        None => Ok(store.get::<SlaPolicy>(id)?),
    }
}

/// The inbox's business hours, if it keeps any (compiled once per inbox edit, `cached.rs`).
fn hours_of(tx: &dyn StoreTx, inbox: Id) -> Outcome<Option<BusinessHours>> {
    Ok(super::cached::inboxes(tx)?.hours(inbox).cloned())
}

fn time<'a>(policy: Option<&SlaPolicy>, hours: Option<&'a BusinessHours>) -> Time<'a> {
    match (policy.is_some_and(|p| p.business_hours), hours) {
        (true, Some(hours)) => Time::Business(hours),
        _ => Time::Wall,
    }
}

fn warn_percent(policy: Option<&SlaPolicy>) -> u8 {
    policy.map_or(80, |p| p.warn_at_percent)
}

fn target_ms(policy: &SlaPolicy, metric: SlaMetric) -> Option<Millis> {
    policy.target_secs(metric).map(|secs| Millis::from(secs) * 1000)
}

fn event(policy_id: Id, clock: &SlaClock, what: &str, time: Time, at: Millis) -> EventKind {
    EventKind::Sla {
        policy_id,
        metric: clock.metric,
        instance: clock.instance,
        what: what.to_owned(),
        target_ms: clock.target_ms,
        elapsed_ms: clock.elapsed(time, at),
        reason: if what == "cancelled" { clock.cancel_reason } else { None },
        escalation: None,
    }
}

/// What a clock's end is called in its event.
fn ended(clock: &SlaClock) -> &'static str {
    match clock.status {
        SlaClockStatus::Met => "met",
        SlaClockStatus::BreachedMet => "breached_met",
        SlaClockStatus::BreachedClosed => "breached_closed",
        _ => "cancelled",
    }
}

fn is_reply_clock(clock: &SlaClock) -> bool {
    clock.metric != SlaMetric::Resolution
}

/// A fresh SLA under `policy` from `at`: resolution (paused if the conversation is pending or
/// snoozed) and, if the customer waits, the reply clock `reply` anchored at the waiting message.
fn apply(
    policy: &SlaPolicy,
    conversation: &Conversation,
    cycle: u32,
    pinned: bool,
    reply: Option<(SlaMetric, Millis)>,
    time: Time,
    at: Millis,
) -> ConversationSla {
    let mut sla = ConversationSla {
        policy_id: Some(policy.id),
        policy_name: policy.name.clone(),
        pinned,
        cycle,
        clocks: vec![],
    };
    let percent = policy.warn_at_percent;
    if let Some(target) = target_ms(policy, SlaMetric::Resolution) {
        let mut clock = SlaClock::start(SlaMetric::Resolution, 1, target, at, time, percent);
        if matches!(conversation.status, ConversationStatus::Pending | ConversationStatus::Snoozed) {
            clock.pause(time, at);
        }
        sla.clocks.push(clock);
    }
    if let Some((metric, anchor)) = reply {
        if let Some(target) = target_ms(policy, metric) {
            sla.clocks.push(SlaClock::start(metric, 1, target, anchor, time, percent));
        }
    }
    sla
}

/// The reply clock a policy applied mid-cycle starts: first or next response, anchored at the
/// message the customer waits on.
fn waiting_reply(conversation: &Conversation) -> Option<(SlaMetric, Millis)> {
    let metric = match conversation.first_reply_at {
        None => SlaMetric::FirstResponse,
        Some(_) => SlaMetric::NextResponse,
    };
    conversation.waiting_since.map(|since| (metric, since))
}

/// Moves the live clocks to `to`'s targets from `at`, keeping what they counted (a clock `to` has
/// no target for ends, cancelled for `Retargeted`); returns the `retargeted` events.
fn retarget(sla: &mut ConversationSla, to: Option<&SlaPolicy>, time: Time, at: Millis) -> Vec<EventKind> {
    let previous = sla.policy_id;
    for clock in sla.clocks.iter_mut().filter(|c| c.status.is_live()) {
        match to.and_then(|p| target_ms(p, clock.metric)) {
            Some(target) => {
                clock.target_ms = target;
                if clock.running_since.is_some() {
                    // Counted so far is kept; the rest is measured from now.
                    clock.accumulated_ms = clock.elapsed(time, at);
                    clock.running_since = Some(at);
                }
                clock.schedule(time, warn_percent(to));
            }
            None => clock.close(time, at, SlaCancelReason::Retargeted),
        }
    }
    if let Some(policy) = to {
        sla.policy_id = Some(policy.id);
        sla.policy_name = policy.name.clone();
    }
    let Some(policy_id) = sla.policy_id.or(previous) else { return Vec::new() };
    sla.clocks
        .iter()
        .filter(|clock| clock.status.is_live())
        .map(|clock| event(policy_id, clock, "retargeted", time, at))
        .collect()
}

/// The conversation as it should be stored after the change `before` → `after` (its SLA moved),
/// and the SLA events the change amounts to. Also (re)schedules the conversation's SLA timer.
pub(super) fn step(
    tx: &mut dyn StoreTx,
    before: Option<&Conversation>,
    after: &Conversation,
    at: Millis,
) -> Outcome<(Conversation, Vec<EventKind>)> {
    let mut next = after.clone();
    // Read on every conversation write: kept between transactions until a policy changes.
    let policies = super::cached::sla_policies(tx, |tx| policies(tx))?;
    if policies.is_empty() && after.sla.is_none() {
        return Ok((next, Vec::new()));
    }
    // A pin names its policy (`Some(None)`: no SLA); a pin to a policy since deleted is dropped.
    let pin = after.sla.as_ref().filter(|s| s.pinned).map(|s| s.policy_id);
    let pinned = policy_by_id(tx, &policies, pin.flatten())?;
    let pin = pin.filter(|id| id.is_none() || pinned.is_some());
    let current = match &after.sla {
        Some(sla) if pin.is_none() => policy_by_id(tx, &policies, sla.policy_id)?,
        _ => None,
    };
    // This runs on every conversation write: compile the inbox's calendar only if a policy that
    // could time its clocks counts business hours.
    let business = policies.iter().chain(&pinned).chain(&current).any(|p| p.business_hours);
    let hours = if business { hours_of(tx, after.inbox_id)? } else { None };
    let matched = policies
        .iter()
        .find(|p| p.conditions.matches(after.inbox_id, after.team_id, after.priority, &after.labels));
    let mut events = Vec::new();
    let reopened = before.is_some_and(|b| {
        b.status == ConversationStatus::Resolved && after.status != ConversationStatus::Resolved
    });
    let governing: Option<&SlaPolicy>;
    if before.is_none() || reopened {
        governing = if pin.is_some() { pinned.as_ref() } else { matched };
        let cycle = match before {
            None => 1,
            Some(_) => tx.current_cycle(after.id)?.unwrap_or(1) + 1,
        };
        next.sla = match governing {
            Some(policy) => {
                let time = time(Some(policy), hours.as_ref());
                let reply = after.waiting_since.map(|_| (SlaMetric::FirstResponse, at));
                let sla = apply(policy, after, cycle, pin.is_some(), reply, time, at);
                for clock in &sla.clocks {
                    events.push(event(policy.id, clock, "started", time, at));
                }
                Some(sla)
            }
            None if pin.is_some() => Some(ConversationSla {
                policy_id: None,
                policy_name: String::new(),
                pinned: true,
                cycle,
                clocks: vec![],
            }),
            None => None,
        };
    } else if let (Some(_), None, Some(policy)) = (before, &after.sla, matched) {
        // A policy that matches now and didn't before (new, or the conversation changed): it
        // applies from here on, a reply clock anchored at the message the customer waits on.
        governing = Some(policy);
        if after.status != ConversationStatus::Resolved {
            let time = time(Some(policy), hours.as_ref());
            let cycle = tx.current_cycle(after.id)?.unwrap_or(1);
            let sla = apply(policy, after, cycle, false, waiting_reply(after), time, at);
            for clock in &sla.clocks {
                events.push(event(policy.id, clock, "started", time, at));
            }
            next.sla = Some(sla);
        }
    } else if let (Some(before), Some(mut sla)) = (before, next.sla.take()) {
        // Pinned: the pin governs. Deleted policy: nothing does until the cycle ends. Otherwise
        // the first match, the live clocks moving to it if it is another policy.
        let deleted = pin.is_none() && current.is_none();
        governing = if pin.is_some() {
            pinned.as_ref()
        } else if deleted {
            None
        } else if matched.map(|p| p.id) != sla.policy_id {
            let time = time(matched.or(current.as_ref()), hours.as_ref());
            events.extend(retarget(&mut sla, matched, time, at));
            matched
        } else {
            current.as_ref()
        };
        let time = time(governing, hours.as_ref());
        let percent = warn_percent(governing);
        let waiting_began = before.waiting_since.is_none() && after.waiting_since.is_some();
        // Resolving clears the wait too, but is no reply: it ends the reply clocks below.
        let replied = before.waiting_since.is_some()
            && after.waiting_since.is_none()
            && after.status != ConversationStatus::Resolved;
        if replied {
            for clock in sla.clocks.iter_mut().filter(|c| is_reply_clock(c) && c.status.is_live()) {
                clock.meet(time, at);
            }
        }
        if waiting_began && !sla.clocks.iter().any(|c| is_reply_clock(c) && c.status.is_live()) {
            if let Some(target) = governing.and_then(|p| target_ms(p, SlaMetric::NextResponse)) {
                let instance = 1 + sla.clocks.iter().filter(|c| c.metric == SlaMetric::NextResponse).count();
                let instance = u32::try_from(instance).unwrap_or(u32::MAX);
                sla.clocks.push(SlaClock::start(
                    SlaMetric::NextResponse,
                    instance,
                    target,
                    at,
                    time,
                    percent,
                ));
            }
        }
        if before.status != after.status {
            for clock in sla.clocks.iter_mut().filter(|c| c.status.is_live()) {
                match (after.status, clock.metric) {
                    (ConversationStatus::Resolved, SlaMetric::Resolution) => clock.meet(time, at),
                    (ConversationStatus::Resolved, _) => {
                        clock.close(time, at, SlaCancelReason::ResolvedWithoutReply)
                    }
                    (ConversationStatus::Pending | ConversationStatus::Snoozed, SlaMetric::Resolution) => {
                        clock.pause(time, at)
                    }
                    (ConversationStatus::Open, SlaMetric::Resolution) => clock.resume(time, at, percent),
                    _ => {}
                }
            }
        }
        let previous = before.sla.as_ref();
        if let Some(policy_id) = sla.policy_id.or(previous.and_then(|p| p.policy_id)) {
            for clock in &sla.clocks {
                let was = previous.and_then(|p| {
                    p.clocks.iter().find(|c| c.metric == clock.metric && c.instance == clock.instance)
                });
                match was {
                    None => events.push(event(policy_id, clock, "started", time, at)),
                    Some(was)
                        if was.status.is_live() && !clock.status.is_live() && clock.ended_at == Some(at) =>
                    {
                        events.push(event(policy_id, clock, ended(clock), time, at))
                    }
                    _ => {}
                }
            }
        }
        next.sla = Some(sla);
    } else {
        governing = None;
    }
    schedule_timer(tx, &next, governing)?;
    Ok((next, events))
}

/// One timer per conversation, at its next warning, due time or escalation step (none when
/// nothing is pending).
fn schedule_timer(
    tx: &mut dyn StoreTx,
    conversation: &Conversation,
    policy: Option<&SlaPolicy>,
) -> Outcome<()> {
    let key = timer_key(conversation.id);
    let steps = policy.map_or(&[][..], |p| &p.escalations[..]);
    let next = conversation.sla.as_ref().and_then(|sla| {
        sla.clocks
            .iter()
            .flat_map(|c| {
                let running = c.status == SlaClockStatus::Running;
                let own = [c.warn_at, c.due_at].into_iter().flatten().filter(move |_| running);
                let escalations =
                    steps.iter().zip(0..).filter_map(move |(escalation, step)| escalation.due_for(step, c));
                own.chain(escalations)
            })
            .min()
    });
    match next {
        Some(due_at) => tx.schedule_timer(&TimerRecord { key, due_at, payload: serde_json::Value::Null })?,
        None => tx.remove_timer(&key)?,
    }
    Ok(())
}

/// The conversation's SLA timer fired at `due_at`: warnings and breaches that fell due are
/// recorded (once each, dated when due), the assignee is told in the thread (the app notifies
/// them), and the policy's escalation steps that fell due run, once per clock each.
pub fn fire(tx: &mut dyn StoreTx, conversation_id: Id, due_at: Millis) -> Outcome<()> {
    let Some(before) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let Some(mut sla) = before.sla.clone() else { return Ok(()) };
    let Some(policy_id) = sla.policy_id else { return Ok(()) };
    let policy = tx.get::<SlaPolicy>(policy_id)?;
    let hours = hours_of(tx, before.inbox_id)?;
    let time = time(policy.as_ref(), hours.as_ref());
    let mut events = Vec::new();
    let mut lines = Vec::new();
    for clock in sla.clocks.iter_mut().filter(|c| c.status == SlaClockStatus::Running) {
        if let Some(warn_at) = clock.warn_at.filter(|at| *at <= due_at) {
            clock.warned = true;
            clock.warned_at = Some(warn_at);
            clock.warn_at = None;
            events.push((warn_at, event(policy_id, clock, "warning", time, warn_at)));
            lines.push(format!("SLA warning: {} due soon", metric_name(clock.metric)));
        }
        if let Some(due) = clock.due_at.filter(|at| *at <= due_at) {
            clock.status = SlaClockStatus::Breached;
            clock.breached_at = Some(due);
            clock.warn_at = None;
            if !clock.warned {
                // Due without a warning first (a target shorter than the poll, a retarget past
                // it): the warning's steps count from the breach.
                clock.warned = true;
                clock.warned_at = Some(due);
            }
            events.push((due, event(policy_id, clock, "breached", time, due)));
            lines.push(format!("SLA breached: {} is overdue", metric_name(clock.metric)));
        }
    }
    let mut after = before.clone();
    let mut released = None;
    let mut told_leads = false;
    let steps = policy.as_ref().map_or(&[][..], |p| &p.escalations[..]);
    for clock in sla.clocks.iter_mut() {
        for (escalation, step) in steps.iter().zip(0..) {
            let Some(at) = escalation.due_for(step, clock).filter(|at| *at <= due_at) else { continue };
            clock.escalations.push(sla_run(step, at, escalation));
            let mut ran = event(policy_id, clock, "escalated", time, at);
            if let EventKind::Sla { escalation: ran_step, .. } = &mut ran {
                *ran_step = Some(escalation.clone());
            }
            events.push((at, ran));
            if let Some(raise) = escalation.raise_priority {
                after.priority = after.priority.max(raise);
            }
            told_leads |= escalation.notify == Some(SlaNotify::TeamLeads);
            if escalation.notify == Some(SlaNotify::Assignee) {
                lines.push(format!("SLA escalation: {} needs an answer now", metric_name(clock.metric)));
            }
            if escalation.reassign && after.assignee_id.is_some() {
                released = after.assignee_id.take();
                lines.push("SLA escalation: handed back to routing".to_owned());
            }
            if escalation.escalate {
                let policy_name = policy.as_ref().map_or("SLA", |p| p.name.as_str());
                let note =
                    Some(format!("{policy_name}: {} {}", metric_name(clock.metric), ran_on(escalation)));
                let by = switchboard_proto::escalation::EscalatedBy::Sla;
                let marked = switchboard_proto::escalation::Escalation { at, by, note };
                if switchboard_proto::escalation::apply_escalation(&mut after, Some(marked)) {
                    lines.push("SLA escalation: marked escalated".to_owned());
                }
            }
        }
    }
    if events.is_empty() {
        return schedule_timer(tx, &before, policy.as_ref());
    }
    // The leads' desktops ring on a server line of the commit that records their step (they
    // read the step from the conversation): a step of its own gets a line of its own.
    if lines.is_empty() && told_leads {
        lines.push("SLA escalation: the team's leads were told".to_owned());
    }
    // The SLA events first (dated when they fell due), then the write, whose own step re-times.
    let cycle = tx.current_cycle(conversation_id)?.unwrap_or(1);
    events.sort_by_key(|(at, _)| *at);
    for (at, event) in events {
        ledger::sla_event(tx, conversation_id, cycle, event, at)?;
    }
    after.sla = Some(sla);
    ledger::save(tx, &before, &after, &Cause::system("sla", due_at))?;
    for line in lines {
        activity(tx, after.inbox_id, conversation_id, Sender::System, line)?;
    }
    if let Some(agent) = released {
        super::routing::route(
            tx,
            super::routing::Released { conversation: Some(conversation_id), by: Some(agent) },
        )?;
    }
    Ok(())
}

/// How an escalation note names the moment its step ran from.
fn ran_on(escalation: &SlaEscalation) -> &'static str {
    match escalation.on {
        switchboard_proto::sla::SlaEscalationOn::Warning => "due soon",
        switchboard_proto::sla::SlaEscalationOn::Breach => "overdue",
    }
}

fn sla_run(step: u32, at: Millis, escalation: &SlaEscalation) -> switchboard_proto::sla::SlaEscalationRun {
    switchboard_proto::sla::SlaEscalationRun { step, at, notify: escalation.notify }
}

fn metric_name(metric: SlaMetric) -> &'static str {
    match metric {
        SlaMetric::FirstResponse => "first response",
        SlaMetric::NextResponse => "next response",
        SlaMetric::Resolution => "resolution",
    }
}

/// Pins `policy` on the conversation (`None`: no SLA): from now on no change moves it to another
/// policy, and the pin carries over to later cycles. Pinning another policy moves the live clocks
/// to its targets, keeping what they counted (a conversation without an SLA gets its clocks as if
/// the policy had just come to match); `None` ends the live clocks (`cancelled`, reason
/// `removed`; a breached one stays breached). Written through the ledger with `cause`, so an
/// automation rule's action can call it as a lead's request does. A pinned policy applies even
/// while disabled (`enabled` only governs matching). A resolved conversation's SLA is final:
/// refused.
pub fn pin(
    tx: &mut dyn StoreTx,
    conversation_id: Id,
    policy: Option<Id>,
    cause: &Cause,
) -> Outcome<Conversation> {
    let before: Conversation = tx.get(conversation_id)?.ok_or_else(|| Refusal::not_found("conversation"))?;
    if before.status == ConversationStatus::Resolved {
        return Err(Refusal::validation("the conversation is resolved: its SLA is final"));
    }
    let target = match policy {
        Some(id) => {
            Some(tx.get::<SlaPolicy>(id)?.ok_or_else(|| Refusal::validation(format!("no SLA policy {id}")))?)
        }
        None => None,
    };
    let at = cause.at;
    let business =
        target.iter().any(|p| p.business_hours) || before.sla.as_ref().and_then(|s| s.policy_id).is_some();
    let hours = if business { hours_of(tx, before.inbox_id)? } else { None };
    let mut after = before.clone();
    let mut events = Vec::new();
    match (before.sla.clone(), &target) {
        (Some(mut sla), Some(policy)) if sla.policy_id.is_none() => {
            // From "no SLA": clocks start afresh beside the cancelled ones, as new instances.
            let time = time(Some(policy), hours.as_ref());
            let fresh = apply(policy, &before, sla.cycle, true, waiting_reply(&before), time, at);
            for mut clock in fresh.clocks {
                let earlier = sla.clocks.iter().filter(|c| c.metric == clock.metric).count();
                clock.instance = u32::try_from(earlier + 1).unwrap_or(u32::MAX);
                sla.clocks.push(clock);
            }
            (sla.policy_id, sla.policy_name, sla.pinned) = (Some(policy.id), policy.name.clone(), true);
            after.sla = Some(sla);
        }
        (Some(mut sla), Some(policy)) => {
            if sla.policy_id != Some(policy.id) {
                let time = time(Some(policy), hours.as_ref());
                events = retarget(&mut sla, Some(policy), time, at);
            }
            sla.pinned = true;
            after.sla = Some(sla);
        }
        (None, Some(policy)) => {
            let time = time(Some(policy), hours.as_ref());
            let cycle = tx.current_cycle(conversation_id)?.unwrap_or(1);
            after.sla = Some(apply(policy, &before, cycle, true, waiting_reply(&before), time, at));
        }
        (Some(mut sla), None) => {
            let was = policy_by_id(tx, &[], sla.policy_id)?;
            let time = time(was.as_ref(), hours.as_ref());
            for clock in sla.clocks.iter_mut().filter(|c| c.status.is_live()) {
                clock.close(time, at, SlaCancelReason::Removed);
            }
            sla.policy_id = None;
            sla.policy_name = String::new();
            sla.pinned = true;
            after.sla = Some(sla);
        }
        (None, None) => {
            let cycle = tx.current_cycle(conversation_id)?.unwrap_or(1);
            after.sla = Some(ConversationSla {
                policy_id: None,
                policy_name: String::new(),
                pinned: true,
                cycle,
                clocks: vec![],
            });
        }
    }
    let cycle = tx.current_cycle(conversation_id)?.unwrap_or(1);
    for event in events {
        ledger::sla_event(tx, conversation_id, cycle, event, at)?;
    }
    ledger::save(tx, &before, &after, cause)?;
    Ok(tx.get(conversation_id)?.unwrap_or(after))
}

/// An inbox's hours changed at `at` (a new calendar version, or none): the running clocks of its
/// unresolved conversations whose policy counts business hours keep what they counted under the
/// `old` hours and are timed by the new ones from `at` (their due, warning and timer move). A
/// `retimed` event for each. Returns how many conversations moved.
pub fn retime_inbox(
    tx: &mut dyn StoreTx,
    inbox: Id,
    old: Option<&CalendarHistory>,
    at: Millis,
) -> Outcome<usize> {
    let old = old.and_then(|history| BusinessHours::new(history).ok());
    let new = hours_of(tx, inbox)?;
    let mut moved = 0;
    let mut policies: HashMap<Id, Option<SlaPolicy>> = HashMap::new();
    for before in tx.unresolved_conversations()? {
        let Some(sla) = before.sla.as_ref().filter(|_| before.inbox_id == inbox) else { continue };
        let Some(policy_id) = sla.policy_id else { continue };
        if !sla.clocks.iter().any(|c| c.running_since.is_some()) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(entry) = policies.entry(policy_id) {
            entry.insert(tx.get::<SlaPolicy>(policy_id)?);
        }
        let Some(policy) = policies[&policy_id].as_ref().filter(|p| p.business_hours) else { continue };
        let (was, now) = (time(Some(policy), old.as_ref()), time(Some(policy), new.as_ref()));
        let mut after = before.clone();
        let Some(sla) = after.sla.as_mut() else { continue };
        let mut events = Vec::new();
        for clock in sla.clocks.iter_mut().filter(|c| c.running_since.is_some()) {
            clock.accumulated_ms = clock.elapsed(was, at);
            clock.running_since = Some(at);
            clock.schedule(now, policy.warn_at_percent);
            events.push(event(policy_id, clock, "retimed", now, at));
        }
        let cycle = tx.current_cycle(before.id)?.unwrap_or(1);
        for event in events {
            ledger::sla_event(tx, before.id, cycle, event, at)?;
        }
        ledger::save(tx, &before, &after, &Cause::system("hours", at))?;
        moved += 1;
    }
    Ok(moved)
}

/// `policy` was deleted (it is gone from the store): the live clocks of the unresolved
/// conversations under it end (`cancelled`, reason `policy_deleted`; a breached one stays
/// breached), and the conversations keep the policy's name. Returns how many it touched.
pub fn cancel_policy(tx: &mut dyn StoreTx, policy: &SlaPolicy, cause: &Cause) -> Outcome<usize> {
    let mut touched = 0;
    for before in tx.unresolved_conversations()? {
        let Some(sla) = before.sla.as_ref().filter(|s| s.policy_id == Some(policy.id)) else { continue };
        if !sla.clocks.iter().any(|c| c.status.is_live()) {
            continue;
        }
        let hours = if policy.business_hours { hours_of(tx, before.inbox_id)? } else { None };
        let time = time(Some(policy), hours.as_ref());
        let mut after = before.clone();
        let Some(sla) = after.sla.as_mut() else { continue };
        for clock in sla.clocks.iter_mut().filter(|c| c.status.is_live()) {
            clock.close(time, cause.at, SlaCancelReason::PolicyDeleted);
        }
        ledger::save(tx, &before, &after, cause)?;
        touched += 1;
    }
    Ok(touched)
}

/// A policy as a lead writes it.
fn checked(mut policy: SlaPolicy) -> Outcome<SlaPolicy> {
    policy.name = policy::valid_name(&policy.name, "name")?;
    let targets = [policy.first_response_secs, policy.next_response_secs, policy.resolution_secs];
    if targets.iter().all(Option::is_none) {
        return Err(Refusal::validation("a policy needs at least one target"));
    }
    if targets.iter().flatten().any(|secs| *secs == 0 || *secs > 366 * 86_400) {
        return Err(Refusal::validation("targets are between 1 second and a year"));
    }
    if !(1..=99).contains(&policy.warn_at_percent) {
        return Err(Refusal::validation("warn_at_percent is between 1 and 99"));
    }
    if policy.escalations.len() > 10 {
        return Err(Refusal::validation("at most 10 escalation steps"));
    }
    for step in &policy.escalations {
        if step.after_secs > 366 * 86_400 {
            return Err(Refusal::validation("an escalation's after_secs is at most a year"));
        }
        if step.notify.is_none() && step.raise_priority.is_none() && !step.reassign && !step.escalate {
            return Err(Refusal::validation(
                "an escalation step must notify, raise the priority, reassign or escalate",
            ));
        }
    }
    Ok(policy)
}

impl Workspace {
    /// `POST /sla-policies` (leads and admins): a new policy, tried after the existing ones unless
    /// its position says otherwise.
    pub async fn create_sla_policy(&self, viewer: &Viewer, request: SlaPolicyInput) -> Outcome<SlaPolicy> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let position = match request.position {
                Some(position) => position,
                None => tx.all::<SlaPolicy>()?.iter().map(|p| p.position + 1).max().unwrap_or(1),
            };
            let policy = checked(request.into_policy(Id::now_v7(), position))?;
            tx.put(&policy, Audience::EVERYONE)?;
            audit::changed(tx, &who, "sla_policy.create", policy.id, &policy.name, None, Some(&policy))?;
            Ok(policy)
        })
        .await
    }

    /// `PUT /sla-policies/{id}`: replaces a policy; conversations move to it at their next change.
    pub async fn update_sla_policy(
        &self,
        viewer: &Viewer,
        id: Id,
        request: SlaPolicyInput,
    ) -> Outcome<SlaPolicy> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let existing: SlaPolicy = tx.get(id)?.ok_or_else(|| Refusal::not_found("SLA policy"))?;
            let position = request.position.unwrap_or(existing.position);
            let policy = checked(request.into_policy(id, position))?;
            tx.put(&policy, Audience::EVERYONE)?;
            audit::changed(tx, &who, "sla_policy.update", id, &policy.name, Some(&existing), Some(&policy))?;
            Ok(policy)
        })
        .await
    }

    /// `DELETE /sla-policies/{id}`: the live clocks under it are cancelled at once (reason
    /// `policy_deleted`); conversations keep its name in their SLA and its id in their ledger.
    pub async fn delete_sla_policy(&self, viewer: &Viewer, id: Id) -> Outcome<()> {
        policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.write(move |tx| {
            let policy: SlaPolicy = tx.get(id)?.ok_or_else(|| Refusal::not_found("SLA policy"))?;
            tx.remove(EntityKind::SlaPolicy, id, Audience::EVERYONE)?;
            let at = tx.now();
            cancel_policy(tx, &policy, &Cause::agent(&viewer, "policy_deleted", at))?;
            audit::changed(
                tx,
                &Who::viewer(&viewer),
                "sla_policy.delete",
                id,
                &policy.name,
                Some(&policy),
                None,
            )
        })
        .await
    }

    /// `PUT /conversations/{id}/sla` (leads and admins, on a conversation they see): see [`pin`].
    pub async fn pin_sla(
        &self,
        viewer: &Viewer,
        conversation: Id,
        policy_id: Option<Id>,
    ) -> Outcome<Conversation> {
        policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.write(move |tx| {
            let (before, _) = super::conversations::visible_conversation(tx, &viewer, conversation)?;
            let at = tx.now();
            let after = pin(tx, conversation, policy_id, &Cause::agent(&viewer, "sla", at))?;
            let what = audit::Record {
                action: "conversation.sla_pin",
                target_type: "conversation",
                target_id: Some(conversation),
                target_label: before.subject.as_deref().unwrap_or_default(),
                before: Some(
                    serde_json::json!({"sla_policy_id": before.sla.as_ref().and_then(|s| s.policy_id)}),
                ),
                after: Some(serde_json::json!({"sla_policy_id": policy_id, "pinned": true})),
            };
            audit::record(tx, &Who::viewer(&viewer), what)?;
            Ok(after)
        })
        .await
    }

    /// `GET /sla/attainment?from&to` (leads and admins): see [`SlaAttainment`]; only conversations
    /// of inboxes the viewer sees.
    pub async fn sla_attainment(&self, viewer: &Viewer, from: Millis, to: Millis) -> Outcome<SlaAttainment> {
        policy::require_lead(viewer)?;
        if from >= to {
            return Err(Refusal::validation("from must be before to"));
        }
        let viewer = viewer.clone();
        self.read(move |store| attainment(store, &viewer, from, to)).await
    }

    /// `POST /sla-policies/apply` (leads and admins): every unresolved conversation that has no
    /// SLA yet and matches a policy gets it now (a reply clock anchored at the message its customer
    /// waits on), instead of at its next change. Returns how many did. One transaction per
    /// conversation, so a large workspace doesn't hold the writer for long.
    pub async fn apply_sla_policies(&self, viewer: &Viewer) -> Outcome<usize> {
        policy::require_lead(viewer)?;
        let ids: Vec<Id> = self
            .read(|store| {
                Ok(store
                    .unresolved_conversations()?
                    .into_iter()
                    .filter(|c| c.sla.is_none())
                    .map(|c| c.id)
                    .collect())
            })
            .await?;
        let mut applied = 0;
        for id in ids {
            let attached = self
                .write(move |tx| {
                    let Some(conversation) = tx.get::<Conversation>(id)? else { return Ok(false) };
                    if conversation.sla.is_some() || conversation.status == ConversationStatus::Resolved {
                        return Ok(false);
                    }
                    // The same step as a change that makes a policy match mid-cycle.
                    let at = tx.now();
                    let (with_sla, events) = step(tx, Some(&conversation), &conversation, at)?;
                    if with_sla.sla.is_none() {
                        return Ok(false);
                    }
                    tx.put(&with_sla, Audience::inbox(with_sla.inbox_id))?;
                    let cycle = tx.current_cycle(id)?.unwrap_or(1);
                    for event in events {
                        ledger::sla_event(tx, id, cycle, event, at)?;
                    }
                    Ok(true)
                })
                .await?;
            applied += usize::from(attached);
        }
        Ok(applied)
    }

    pub async fn sla_policies(&self) -> Outcome<Vec<SlaPolicy>> {
        self.read(|store| {
            let mut policies: Vec<SlaPolicy> = store.all()?;
            policies.sort_by_key(|policy| (policy.position, policy.id));
            Ok(policies)
        })
        .await
    }
}

/// Where one clock stood at the end of the report's range, and who held the conversation then.
struct ClockOutcome {
    metric: SlaMetric,
    agent: Option<Id>,
    team: Option<Id>,
    kind: Tally,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tally {
    Met,
    Breached,
    BreachedClosed,
    Cancelled,
    NotApplicable,
    Running,
}

fn tally(counts: &mut SlaCounts, kind: Tally) {
    match kind {
        Tally::Met => counts.met += 1,
        Tally::Breached => counts.breached += 1,
        Tally::BreachedClosed => counts.breached_closed += 1,
        Tally::Cancelled => counts.cancelled += 1,
        Tally::NotApplicable => counts.not_applicable += 1,
        Tally::Running => counts.running += 1,
    }
}

/// One clock as the replay finds it: whether it started in the range, its last word so far, and
/// who held the conversation at that word.
struct ClockTrack {
    metric: SlaMetric,
    in_range: bool,
    last: Option<Tally>,
    ended: bool,
    agent: Option<Id>,
    team: Option<Id>,
}

/// One cycle as the replay finds it.
#[derive(Default)]
struct CycleTrack {
    agent_started: bool,
    sla_in_range: bool,
    first_response: bool,
}

/// The clocks of one conversation that started in `[from, to)`, replayed from its ledger up to
/// `to`: each clock's last word (`met`, `breached_met`, …, or `breached` while it still ran),
/// with the assignee and team at that word (or at `to` if it hasn't ended); and a first response
/// `not_applicable` for each cycle under a policy that an agent started.
fn outcomes(
    conversation: &Conversation,
    events: &[ConversationEvent],
    from: Millis,
    to: Millis,
) -> Vec<ClockOutcome> {
    let mut clocks: BTreeMap<(u32, u8, u32), ClockTrack> = BTreeMap::new();
    let mut cycles: BTreeMap<u32, CycleTrack> = BTreeMap::new();
    // Who held it before its first recorded change (the ledger records changes, not the start).
    let mut agent = events
        .iter()
        .find_map(|e| match e.event {
            EventKind::Assigned { from, .. } => Some(from),
            _ => None,
        })
        .unwrap_or(conversation.assignee_id);
    let mut team = events
        .iter()
        .find_map(|e| match e.event {
            EventKind::Team { from, .. } => Some(from),
            _ => None,
        })
        .unwrap_or(conversation.team_id);
    for event in events.iter().filter(|e| e.at < to) {
        match &event.event {
            EventKind::Assigned { to: assignee, .. } => agent = *assignee,
            EventKind::Team { to: held_by, .. } => team = *held_by,
            EventKind::Created { origin } => {
                cycles.entry(event.cycle).or_default().agent_started = *origin == Origin::Agent;
            }
            EventKind::Reopened => {
                cycles.entry(event.cycle).or_default().agent_started =
                    !matches!(event.actor, Actor::Contact { .. });
            }
            EventKind::Sla { metric, instance, what, .. } => {
                let started = what == "started" && event.at >= from;
                let clock = clocks.entry((event.cycle, *metric as u8, *instance)).or_insert(ClockTrack {
                    metric: *metric,
                    in_range: started,
                    last: None,
                    ended: false,
                    agent,
                    team,
                });
                // A breach is the last word until the clock ends.
                let word = match what.as_str() {
                    "breached" => Some((Tally::Breached, false)),
                    "met" => Some((Tally::Met, true)),
                    "breached_met" => Some((Tally::Breached, true)),
                    "breached_closed" => Some((Tally::BreachedClosed, true)),
                    "cancelled" => Some((Tally::Cancelled, true)),
                    _ => None,
                };
                if let Some((tally, ended)) = word {
                    (clock.last, clock.ended, clock.agent, clock.team) = (Some(tally), ended, agent, team);
                }
                if started {
                    let cycle = cycles.entry(event.cycle).or_default();
                    cycle.sla_in_range = true;
                    cycle.first_response |= *metric == SlaMetric::FirstResponse;
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clock in clocks.into_values().filter(|clock| clock.in_range) {
        // Still running (breached or not): counted with whoever holds it at `to`.
        let (agent, team) = if clock.ended { (clock.agent, clock.team) } else { (agent, team) };
        out.push(ClockOutcome {
            metric: clock.metric,
            agent,
            team,
            kind: clock.last.unwrap_or(Tally::Running),
        });
    }
    for cycle in cycles.into_values() {
        if cycle.agent_started && cycle.sla_in_range && !cycle.first_response {
            out.push(ClockOutcome {
                metric: SlaMetric::FirstResponse,
                agent,
                team,
                kind: Tally::NotApplicable,
            });
        }
    }
    out
}

fn attainment(
    store: &(impl StoreRead + ?Sized),
    viewer: &Viewer,
    from: Millis,
    to: Millis,
) -> Outcome<SlaAttainment> {
    let inboxes: Vec<Inbox> = store.all()?;
    let visible: HashSet<Id> =
        inboxes.iter().filter(|inbox| policy::can_see_inbox(viewer, inbox)).map(|inbox| inbox.id).collect();
    let mut seen = HashSet::new();
    let mut conversations = Vec::new();
    for event in store.events_between("sla", from, to)? {
        if seen.insert(event.conversation_id) {
            conversations.push(event.conversation_id);
        }
    }
    let metrics = [SlaMetric::FirstResponse, SlaMetric::NextResponse, SlaMetric::Resolution];
    let mut by_metric: BTreeMap<u8, SlaCounts> = BTreeMap::new();
    let mut by_agent: BTreeMap<(Option<Id>, u8), SlaCounts> = BTreeMap::new();
    let mut by_team: BTreeMap<(Option<Id>, u8), SlaCounts> = BTreeMap::new();
    for id in conversations {
        let Some(conversation) = store.get::<Conversation>(id)? else { continue };
        if !visible.contains(&conversation.inbox_id) {
            continue;
        }
        for outcome in outcomes(&conversation, &store.events_of(id)?, from, to) {
            let metric = outcome.metric as u8;
            tally(by_metric.entry(metric).or_default(), outcome.kind);
            tally(by_agent.entry((outcome.agent, metric)).or_default(), outcome.kind);
            tally(by_team.entry((outcome.team, metric)).or_default(), outcome.kind);
        }
    }
    let metric_of = |n: u8| metrics[usize::from(n)];
    Ok(SlaAttainment {
        from,
        to,
        metrics: metrics
            .iter()
            .map(|metric| SlaMetricCounts {
                metric: *metric,
                counts: by_metric.remove(&(*metric as u8)).unwrap_or_default().with_attainment(),
            })
            .collect(),
        agents: by_agent
            .into_iter()
            .map(|((agent_id, metric), counts)| SlaAgentCounts {
                agent_id,
                metric: metric_of(metric),
                counts: counts.with_attainment(),
            })
            .collect(),
        teams: by_team
            .into_iter()
            .map(|((team_id, metric), counts)| SlaTeamCounts {
                team_id,
                metric: metric_of(metric),
                counts: counts.with_attainment(),
            })
            .collect(),
    })
}
