//! Service-level clocks, driven by the conversation's own changes: [`step`] runs inside
//! `ledger::create`/`save` on every conversation write (so no path can change a conversation
//! without its clocks following), and one durable timer per conversation (`sla:<id>`) fires the
//! warning and the breach on the injected clock, dated when they fell due (also after downtime).
//! The clock rules themselves are in `proto::sla`; which changes move them is decided here from
//! the before/after of the write:
//! - a cycle starts (created, or a resolved conversation reopens): the first matching policy
//!   applies; resolution starts, first response too if a customer's message started it; a
//!   policy that comes to match mid-cycle (new, or after a change) applies from then on, its
//!   reply clock anchored at the message the customer is waiting on;
//! - the customer starts waiting (`waiting_since` set) with no reply clock live: the next
//!   response clock starts; a person's reply (`waiting_since` cleared; auto-replies never clear
//!   it) meets the live reply clock;
//! - pending or snoozed pauses the resolution clock, open resumes it, resolved meets it and ends
//!   the reply clocks (cancelled before their due, `breached_closed` after);
//! - a change of priority, labels, team or inbox that makes another policy match first moves the
//!   live clocks to its targets, keeping what they counted.

use switchboard_proto::{
    calendar::BusinessHours,
    ledger::EventKind,
    sla::{ConversationSla, SlaClock, SlaClockStatus, SlaMetric, SlaPolicy, Time},
    *,
};

use super::{conversations::activity, ledger, Viewer, Workspace};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt, TimerRecord},
};

/// The timer that fires a conversation's next SLA warning or breach.
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

/// The inbox's business hours, if it keeps any.
fn hours_of(store: &(impl StoreRead + ?Sized), inbox: Id) -> Outcome<Option<BusinessHours>> {
    let Some(inbox) = store.get::<Inbox>(inbox)? else { return Ok(None) };
    Ok(inbox.hours.as_ref().and_then(|history| BusinessHours::new(history).ok()))
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

fn event(sla: &ConversationSla, clock: &SlaClock, what: &str, time: Time, at: Millis) -> EventKind {
    EventKind::Sla {
        policy_id: sla.policy_id,
        metric: clock.metric,
        instance: clock.instance,
        what: what.to_owned(),
        target_ms: clock.target_ms,
        elapsed_ms: clock.elapsed(time, at),
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

/// The conversation as it should be stored after the change `before` → `after` (its SLA moved),
/// and the SLA events the change amounts to. Also (re)schedules the conversation's SLA timer.
pub(super) fn step(
    tx: &mut dyn StoreTx,
    before: Option<&Conversation>,
    after: &Conversation,
    at: Millis,
) -> Outcome<(Conversation, Vec<EventKind>)> {
    let mut next = after.clone();
    let policies = policies(tx)?;
    if policies.is_empty() && after.sla.is_none() {
        return Ok((next, Vec::new()));
    }
    // This runs on every conversation write: compile the inbox's calendar only if some enabled
    // policy counts business hours (only those are ever timed by it).
    let business = policies.iter().any(|p| p.business_hours);
    let hours = if business { hours_of(tx, after.inbox_id)? } else { None };
    let matched = policies
        .iter()
        .find(|p| p.conditions.matches(after.inbox_id, after.team_id, after.priority, &after.labels));
    let mut events = Vec::new();
    let reopened = before.is_some_and(|b| {
        b.status == ConversationStatus::Resolved && after.status != ConversationStatus::Resolved
    });
    if before.is_none() || reopened {
        next.sla = match matched {
            Some(policy) => {
                let cycle = match before {
                    None => 1,
                    Some(_) => tx.current_cycle(after.id)?.unwrap_or(1) + 1,
                };
                let time = time(Some(policy), hours.as_ref());
                let mut sla = ConversationSla {
                    policy_id: policy.id,
                    policy_name: policy.name.clone(),
                    cycle,
                    clocks: vec![],
                };
                let percent = policy.warn_at_percent;
                if let Some(target) = target_ms(policy, SlaMetric::Resolution) {
                    sla.clocks.push(SlaClock::start(SlaMetric::Resolution, 1, target, at, time, percent));
                }
                if let (Some(target), Some(_)) =
                    (target_ms(policy, SlaMetric::FirstResponse), after.waiting_since)
                {
                    sla.clocks.push(SlaClock::start(SlaMetric::FirstResponse, 1, target, at, time, percent));
                }
                for clock in &sla.clocks {
                    events.push(event(&sla, clock, "started", time, at));
                }
                Some(sla)
            }
            None => None,
        };
    } else if let (Some(_), None, Some(policy)) = (before, &after.sla, matched) {
        // A policy that matches now and didn't before (new, or the conversation changed): it
        // applies from here on, a reply clock anchored at the message the customer waits on.
        if after.status != ConversationStatus::Resolved {
            let time = time(Some(policy), hours.as_ref());
            let cycle = tx.current_cycle(after.id)?.unwrap_or(1);
            let mut sla = ConversationSla {
                policy_id: policy.id,
                policy_name: policy.name.clone(),
                cycle,
                clocks: vec![],
            };
            let percent = policy.warn_at_percent;
            if let Some(target) = target_ms(policy, SlaMetric::Resolution) {
                let mut clock = SlaClock::start(SlaMetric::Resolution, 1, target, at, time, percent);
                if matches!(after.status, ConversationStatus::Pending | ConversationStatus::Snoozed) {
                    clock.pause(time, at);
                }
                sla.clocks.push(clock);
            }
            let reply_metric = match after.first_reply_at {
                None => SlaMetric::FirstResponse,
                Some(_) => SlaMetric::NextResponse,
            };
            if let (Some(target), Some(waiting_since)) =
                (target_ms(policy, reply_metric), after.waiting_since)
            {
                sla.clocks.push(SlaClock::start(reply_metric, 1, target, waiting_since, time, percent));
            }
            for clock in &sla.clocks {
                events.push(event(&sla, clock, "started", time, at));
            }
            next.sla = Some(sla);
        }
    } else if let (Some(before), Some(mut sla)) = (before, next.sla.take()) {
        // Another policy matches first now: live clocks take its targets (or end, if it has none).
        let current = policies.iter().find(|p| p.id == sla.policy_id);
        if matched.map(|p| p.id) != Some(sla.policy_id) {
            let time = time(matched.or(current), hours.as_ref());
            for clock in sla.clocks.iter_mut().filter(|c| c.status.is_live()) {
                match matched.and_then(|p| target_ms(p, clock.metric)) {
                    Some(target) => {
                        clock.target_ms = target;
                        if clock.status == SlaClockStatus::Running {
                            // Counted so far is kept; the rest is measured from now.
                            clock.accumulated_ms = clock.elapsed(time, at);
                            clock.running_since = Some(at);
                        }
                        clock.schedule(time, warn_percent(matched));
                    }
                    None => clock.close(time, at),
                }
            }
            if let Some(policy) = matched {
                sla.policy_id = policy.id;
                sla.policy_name = policy.name.clone();
            }
            for clock in &sla.clocks {
                let what = if clock.status.is_live() { "retargeted" } else { ended(clock) };
                if clock.ended_at == Some(at) || clock.status.is_live() {
                    events.push(event(&sla, clock, what, time, at));
                }
            }
        }
        let policy = matched.or(current);
        let time = time(policy, hours.as_ref());
        let percent = warn_percent(policy);
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
            if let Some(target) = policy.and_then(|p| target_ms(p, SlaMetric::NextResponse)) {
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
                    (ConversationStatus::Resolved, _) => clock.close(time, at),
                    (ConversationStatus::Pending | ConversationStatus::Snoozed, SlaMetric::Resolution) => {
                        clock.pause(time, at)
                    }
                    (ConversationStatus::Open, SlaMetric::Resolution) => clock.resume(time, at, percent),
                    _ => {}
                }
            }
        }
        let previous = before.sla.as_ref();
        for clock in &sla.clocks {
            let was = previous.and_then(|p| {
                p.clocks.iter().find(|c| c.metric == clock.metric && c.instance == clock.instance)
            });
            match was {
                None => events.push(event(&sla, clock, "started", time, at)),
                Some(was)
                    if was.status.is_live() && !clock.status.is_live() && clock.ended_at == Some(at) =>
                {
                    events.push(event(&sla, clock, ended(clock), time, at))
                }
                _ => {}
            }
        }
        next.sla = Some(sla);
    }
    schedule_timer(tx, &next)?;
    Ok((next, events))
}

/// One timer per conversation, at its next warning or due time (none when nothing runs).
fn schedule_timer(tx: &mut dyn StoreTx, conversation: &Conversation) -> Outcome<()> {
    let key = timer_key(conversation.id);
    let next = conversation.sla.as_ref().and_then(|sla| {
        sla.clocks
            .iter()
            .filter(|c| c.status == SlaClockStatus::Running)
            .flat_map(|c| [c.warn_at, c.due_at])
            .flatten()
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
/// them), and a breach raises the priority if the policy says so.
pub fn fire(tx: &mut dyn StoreTx, conversation_id: Id, due_at: Millis) -> Outcome<()> {
    let Some(before) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let Some(mut sla) = before.sla.clone() else { return Ok(()) };
    let policy = tx.get::<SlaPolicy>(sla.policy_id)?;
    let hours = hours_of(tx, before.inbox_id)?;
    let time = time(policy.as_ref(), hours.as_ref());
    let mut events = Vec::new();
    let mut lines = Vec::new();
    let mut breached = false;
    for clock in sla.clocks.iter_mut().filter(|c| c.status == SlaClockStatus::Running) {
        if let Some(warn_at) = clock.warn_at.filter(|at| *at <= due_at) {
            clock.warned = true;
            clock.warn_at = None;
            events.push((warn_at, clock.clone(), "warning"));
            lines.push(format!("SLA warning: {} due soon", metric_name(clock.metric)));
        }
        if let Some(due) = clock.due_at.filter(|at| *at <= due_at) {
            clock.status = SlaClockStatus::Breached;
            clock.breached_at = Some(due);
            clock.warn_at = None;
            events.push((due, clock.clone(), "breached"));
            lines.push(format!("SLA breached: {} is overdue", metric_name(clock.metric)));
            breached = true;
        }
    }
    if events.is_empty() {
        return schedule_timer(tx, &before);
    }
    let mut after = before.clone();
    if breached {
        if let Some(raise) = policy.as_ref().and_then(|p| p.raise_priority_on_breach) {
            after.priority = after.priority.max(raise);
        }
    }
    // The SLA events first (dated when they fell due), then the write, whose own step re-times.
    let cycle = tx.current_cycle(conversation_id)?.unwrap_or(1);
    for (at, clock, what) in &events {
        ledger::sla_event(tx, conversation_id, cycle, event(&sla, clock, what, time, *at), *at)?;
    }
    after.sla = Some(sla);
    ledger::save(tx, &before, &after, &ledger::Cause::system("sla", due_at))?;
    for line in lines {
        activity(tx, after.inbox_id, conversation_id, Sender::System, line)?;
    }
    Ok(())
}

fn metric_name(metric: SlaMetric) -> &'static str {
    match metric {
        SlaMetric::FirstResponse => "first response",
        SlaMetric::NextResponse => "next response",
        SlaMetric::Resolution => "resolution",
    }
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
    Ok(policy)
}

impl Workspace {
    /// `POST /sla-policies` (leads and admins): a new policy, tried after the existing ones unless
    /// its position says otherwise.
    pub async fn create_sla_policy(&self, viewer: &Viewer, request: SlaPolicyInput) -> Outcome<SlaPolicy> {
        policy::require_lead(viewer)?;
        self.write(move |tx| {
            let position = match request.position {
                Some(position) => position,
                None => tx.all::<SlaPolicy>()?.iter().map(|p| p.position + 1).max().unwrap_or(1),
            };
            let policy = checked(request.into_policy(Id::now_v7(), position))?;
            tx.put(&policy, Audience::EVERYONE)?;
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
        self.write(move |tx| {
            let existing: SlaPolicy = tx.get(id)?.ok_or_else(|| Refusal::not_found("SLA policy"))?;
            let position = request.position.unwrap_or(existing.position);
            let policy = checked(request.into_policy(id, position))?;
            tx.put(&policy, Audience::EVERYONE)?;
            Ok(policy)
        })
        .await
    }

    /// `DELETE /sla-policies/{id}`: conversations keep the name in their clocks and ledger.
    pub async fn delete_sla_policy(&self, viewer: &Viewer, id: Id) -> Outcome<()> {
        policy::require_lead(viewer)?;
        self.write(move |tx| {
            if !tx.remove(EntityKind::SlaPolicy, id, Audience::EVERYONE)? {
                return Err(Refusal::not_found("SLA policy"));
            }
            Ok(())
        })
        .await
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
