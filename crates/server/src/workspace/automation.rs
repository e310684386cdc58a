//! Automation rules: each write transaction's conversation changes are answered by the enabled
//! rules before it commits (`Workspace::write` calls [`answer`]), so a change and what the rules
//! did about it commit together or not at all — no crash can leave a change whose rules never ran,
//! and no rule runs twice. Time triggers ("the customer has waited 30 minutes") are durable timers
//! armed by the same pass and fired by the timer loop ([`fire`]).
//!
//! The semantics, exact where products are loose:
//! - **One evaluation per change.** A transaction's events for one conversation are one change;
//!   a rule listening to several of them (assigned, labels changed) runs once for it.
//! - **In order, sequentially.** Enabled rules run in `position` order, each seeing the
//!   conversation as the rules before it left it; `stop_processing` ends the pass.
//! - **Rules answer people, customers and timers.** Events caused by rules (their own actions, and
//!   routing they started) reach only rules with `allow_rule_origin`, and only [`MAX_RULE_DEPTH`]
//!   rounds deep; past that the loop guard logs `loop_guard` runs and stops.
//! - **Conditions are read at the change's commit time** (`within_business_hours` included), on
//!   the state after the change.
//! - **A skipped action never stops the rule**: an action whose agent, team or label is gone is
//!   skipped with `reference_missing` (the rule is flagged `needs_attention`, never disabled), one
//!   with nothing to do with `unchanged`, a reply outside the channel's window with
//!   `window_closed`.
//! - **Timed runs** fire once per episode (an anchor: the `waiting_since` a reply ends, the moment
//!   of a status change). A reply ends the episode and cancels the run at once (logged
//!   `cancelled`); at fire time the current rule version's conditions decide, on current state;
//!   more than [`MAX_LATENESS_MS`] late (downtime) it is skipped as `expired`.
//! - Every matched evaluation, and every timed run, is logged with the rule version, the
//!   triggering event, the condition trace and each action's outcome (kept [`RUN_RETENTION_MS`]).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use switchboard_proto::{
    automation::*,
    calendar,
    ledger::{Actor, ConversationEvent, EventKind, MessageClass, Origin},
    *,
};

use super::{
    audit::{self, Who},
    auto_replies,
    conversations::{self, activity},
    directory::label_named,
    ledger::{self, Cause},
    routing, Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt, TimerRecord},
};

/// The timer of a timed rule's run on a conversation.
pub fn timer_key(rule: Id, conversation: Id) -> String {
    format!("rule:{rule}:{conversation}")
}

/// Which trigger event a ledger event is, if any.
fn trigger_event(event: &EventKind) -> Option<TriggerEvent> {
    Some(match event {
        EventKind::Created { .. } => TriggerEvent::ConversationCreated,
        EventKind::Message { class: MessageClass::Inbound, .. } => TriggerEvent::MessageReceived,
        EventKind::Message { class: MessageClass::Human, .. } => TriggerEvent::MessageSent,
        EventKind::Status { .. } => TriggerEvent::StatusChanged,
        EventKind::Assigned { .. } => TriggerEvent::Assigned,
        EventKind::Team { .. } => TriggerEvent::TeamChanged,
        EventKind::Priority { .. } => TriggerEvent::PriorityChanged,
        EventKind::Labels { .. } => TriggerEvent::LabelsChanged,
        EventKind::Reopened => TriggerEvent::Reopened,
        EventKind::Resolved => TriggerEvent::Resolved,
        EventKind::Sla { what, .. } if what == "warning" => TriggerEvent::SlaWarning,
        EventKind::Sla { what, .. } if what == "breached" => TriggerEvent::SlaBreached,
        _ => return None,
    })
}

/// The enabled rules, in the order they run.
fn enabled_rules(store: &(impl StoreRead + ?Sized)) -> Outcome<RuleSet> {
    let mut rules: Vec<AutomationRule> = store.all()?;
    rules.retain(|rule| rule.enabled);
    rules.sort_by_key(|rule| (rule.position, rule.id));
    Ok(RuleSet::new(rules))
}

/// The enabled rules in the order they run, with what their text conditions compare prepared
/// once per version of the rule set (kept between writes, `cached.rs`): the words each
/// `text_contains` looks for and the folded text of each `contact` condition. Normalising 50
/// rules' phrases on every customer message was most of the cost of the rules that don't match.
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<AutomationRule>,
    phrases: HashMap<Vec<String>, Vec<Vec<String>>>,
    folded: HashMap<String, String>,
}

impl RuleSet {
    fn new(rules: Vec<AutomationRule>) -> RuleSet {
        fn walk(condition: &Condition, set: &mut RuleSet) {
            match condition {
                Condition::All(children) | Condition::Any(children) => {
                    children.iter().for_each(|child| walk(child, set))
                }
                Condition::Not(child) => walk(child, set),
                Condition::TextContains(phrases) => {
                    set.phrases
                        .entry(phrases.clone())
                        .or_insert_with(|| auto_replies::keyword_words(phrases));
                }
                Condition::Contact { contains, .. } => {
                    set.folded.entry(contains.clone()).or_insert_with(|| fold(contains));
                }
                _ => {}
            }
        }
        let mut set = RuleSet { rules: vec![], phrases: HashMap::new(), folded: HashMap::new() };
        for rule in &rules {
            walk(&rule.conditions, &mut set);
        }
        set.rules = rules;
        set
    }
}

/// One conversation's events of a round, in the order they were written.
struct Change {
    conversation: Id,
    events: Vec<ConversationEvent>,
}

fn by_conversation(events: Vec<ConversationEvent>) -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    let count = events.len();
    for event in events {
        match changes.iter_mut().find(|change| change.conversation == event.conversation_id) {
            Some(change) => change.events.push(event),
            None => {
                // Usually one conversation's change holds all of a round's events.
                let mut events = Vec::with_capacity(count);
                events.push(event);
                changes.push(Change { conversation: events[0].conversation_id, events });
            }
        }
    }
    changes
}

/// Answers the events this transaction appended: runs the rules they trigger (and the rules
/// those rules' changes trigger, within the loop guard), then arms or cancels timed runs for the
/// conversations they touched. Called by `Workspace::write` before every commit; returns the
/// conversations whose ledger grew (the rules' changes included).
pub(super) fn answer(tx: &mut dyn StoreTx) -> Outcome<Vec<Id>> {
    let events = tx.take_events();
    if events.is_empty() {
        ledger::write_held(tx)?;
        return Ok(vec![]);
    }
    // Kept between writes as of the rules' latest change (`cached.rs`).
    let set = super::cached::automation_rules(tx, |tx| enabled_rules(tx))?;
    let rules = &set.rules;
    if rules.is_empty() {
        ledger::write_held(tx)?;
        let mut ids: Vec<Id> = events.iter().map(|event| event.conversation_id).collect();
        ids.sort_unstable();
        ids.dedup();
        return Ok(ids);
    }
    // The latest status change of each touched conversation: the anchor of `status_held`.
    let mut touched: BTreeMap<Id, Option<(ConversationStatus, Millis)>> = BTreeMap::new();
    let mut round = 0;
    let mut pending = events;
    while !pending.is_empty() {
        for change in by_conversation(pending) {
            let status = touched.entry(change.conversation).or_default();
            for event in &change.events {
                if let EventKind::Status { to, .. } = event.event {
                    *status = Some((to, event.at));
                }
            }
            answer_change(tx, &set, &change, round)?;
        }
        pending = tx.take_events();
        round += 1;
    }
    // A new conversation held for the rules' pass is written now, once, with what they did to it
    // (its SLA events are no trigger: nothing more to answer).
    ledger::write_held(tx)?;
    let timed: Vec<&AutomationRule> = rules.iter().filter(|rule| rule.trigger.is_timed()).collect();
    if !timed.is_empty() {
        for (conversation, status_change) in &touched {
            let Some(conversation) = tx.get::<Conversation>(*conversation)? else { continue };
            for rule in &timed {
                let episode = episode_after_change(rule, &conversation, *status_change);
                arm(tx, rule, &conversation, episode, false)?;
            }
        }
    }
    Ok(touched.into_keys().collect())
}

/// Runs the event rules one conversation's change triggers. In round 0 the change is a person's,
/// a customer's or a timer's (except events a timed rule's actions made); every later round's
/// events were caused by rules.
fn answer_change(tx: &mut dyn StoreTx, set: &Arc<RuleSet>, change: &Change, round: u32) -> Outcome<()> {
    let message = change.events.iter().rev().find_map(|event| match event.event {
        EventKind::Message { class: MessageClass::Inbound, message_id, .. } => Some(message_id),
        _ => None,
    });
    // Read once for all the rules the change triggers (the conversation again after a rule
    // acted on it).
    let mut facts: Option<Facts> = None;
    let mut current: Option<(Conversation, u32)> = None;
    for rule in &set.rules {
        let Trigger::Event { events: wanted } = &rule.trigger else { continue };
        let by_rule = |event: &ConversationEvent| round > 0 || matches!(event.actor, Actor::Rule { .. });
        let Some(trigger) = change.events.iter().find(|event| {
            (rule.allow_rule_origin || !by_rule(event))
                && trigger_event(&event.event).is_some_and(|kind| wanted.contains(&kind))
        }) else {
            continue;
        };
        let depth = if by_rule(trigger) { round.max(1) } else { 0 };
        if current.is_none() {
            let Some(conversation) = ledger::current(tx, change.conversation)? else { return Ok(()) };
            let cycle = tx.current_cycle(conversation.id)?.unwrap_or(1);
            current = Some((conversation, cycle));
        }
        // Borrowed while the rules' conditions are tried, not cloned for each rule; taken by the
        // first rule that acts.
        let Some((conversation, cycle)) = current.as_ref() else { return Ok(()) };
        let cycle = *cycle;
        if depth > MAX_RULE_DEPTH {
            let run = run(rule, conversation, Some(trigger.id), cycle, tx.now(), RunStatus::LoopGuard);
            log_run(tx, run)?;
            continue;
        }
        if !run_limit_allows(tx, rule, conversation, cycle)? {
            continue;
        }
        let facts = facts.get_or_insert_with(|| Facts::prepared(message, trigger.at, set.clone()));
        let (matched, trace) = evaluate(&*tx, &rule.conditions, conversation, facts)?;
        if !matched {
            continue;
        }
        let mut run = run(rule, conversation, Some(trigger.id), cycle, tx.now(), RunStatus::Done);
        run.trace = trace;
        let Some((conversation, _)) = current.take() else { return Ok(()) };
        run.actions = perform(tx, rule, conversation, &trigger.id.to_string())?;
        log_run(tx, run)?;
        if rule.stop_processing {
            break;
        }
    }
    Ok(())
}

fn run(
    rule: &AutomationRule,
    conversation: &Conversation,
    event_id: Option<Id>,
    cycle: u32,
    at: Millis,
    status: RunStatus,
) -> AutomationRun {
    AutomationRun {
        id: Id::now_v7(),
        rule_id: rule.id,
        rule_version: rule.version,
        conversation_id: conversation.id,
        event_id,
        cycle,
        at,
        status,
        reason: None,
        trace: vec![],
        actions: vec![],
    }
}

fn log_run(tx: &mut dyn StoreTx, run: AutomationRun) -> Outcome<()> {
    let forget_before = tx.now() - RUN_RETENTION_MS;
    Ok(tx.insert_automation_run(&run, forget_before)?)
}

fn run_limit_allows(
    store: &(impl StoreRead + ?Sized),
    rule: &AutomationRule,
    conversation: &Conversation,
    cycle: u32,
) -> Outcome<bool> {
    if rule.run_limit == RunLimit::EveryTime {
        return Ok(true);
    }
    let Some(last) = store.last_automation_run(rule.id, conversation.id)? else { return Ok(true) };
    Ok(match rule.run_limit {
        RunLimit::EveryTime => true,
        RunLimit::OncePerConversation => false,
        RunLimit::OncePerCycle => last.cycle != cycle,
        RunLimit::Cooldown { secs } => store.now() >= last.at + Millis::from(secs) * 1000,
    })
}

/// What the condition leaves read besides the conversation, gathered lazily and kept for one
/// change: every rule a change triggers reads the same message, contact and inbox, so each is
/// read (and the message's words normalised) at most once, however many rules ask.
#[derive(Default)]
struct Facts {
    /// The customer's message the text conditions read: the triggering one, else their latest.
    message: Option<Id>,
    /// When the triggering change committed (what `within_business_hours` reads).
    at: Millis,
    inbox: Option<Option<Inbox>>,
    hours: Option<Option<calendar::BusinessHours>>,
    words: Option<Vec<String>>,
    contact: Option<Option<Contact>>,
    origin: Option<Option<Origin>>,
    /// The contact's fields folded as `contact` conditions compare them.
    folded_fields: Vec<(ContactField, Option<String>)>,
    /// What the rule set's text conditions compare, prepared (`None`: prepared as asked).
    prepared: Option<Arc<RuleSet>>,
    error: Option<Refusal>,
}

impl Facts {
    fn new(message: Option<Id>, at: Millis) -> Facts {
        Facts { message, at, ..Facts::default() }
    }

    fn prepared(message: Option<Id>, at: Millis, set: Arc<RuleSet>) -> Facts {
        Facts { message, at, prepared: Some(set), ..Facts::default() }
    }

    fn remember<T: Default>(&mut self, result: Outcome<T>) -> T {
        result.unwrap_or_else(|refusal| {
            self.error.get_or_insert(refusal);
            T::default()
        })
    }

    fn inbox(&mut self, store: &(impl StoreRead + ?Sized), c: &Conversation) -> Option<Inbox> {
        if self.inbox.is_none() {
            let inbox = self.remember(store.get::<Inbox>(c.inbox_id).map_err(Into::into));
            self.inbox = Some(inbox);
        }
        self.inbox.clone().flatten()
    }

    fn is_open(&mut self, store: &(impl StoreRead + ?Sized), c: &Conversation) -> bool {
        if self.hours.is_none() {
            let inbox = self.inbox(store, c);
            let hours =
                inbox.and_then(|inbox| inbox.hours).and_then(|h| calendar::BusinessHours::new(&h).ok());
            self.hours = Some(hours);
        }
        match self.hours.as_ref().and_then(Option::as_ref) {
            Some(hours) => calendar::is_open(hours, self.at),
            None => true,
        }
    }

    fn words(&mut self, store: &(impl StoreRead + ?Sized), c: &Conversation) -> &[String] {
        if self.words.is_none() {
            let text = self.remember(customer_text(store, c.id, self.message));
            self.words = Some(auto_replies::words(&text));
        }
        self.words.as_deref().unwrap_or_default()
    }

    fn contact(&mut self, store: &(impl StoreRead + ?Sized), c: &Conversation) -> Option<Contact> {
        if self.contact.is_none() {
            let contact = self.remember(store.get::<Contact>(c.contact_id).map_err(Into::into));
            self.contact = Some(contact);
        }
        self.contact.clone().flatten()
    }

    fn origin(&mut self, store: &(impl StoreRead + ?Sized), c: &Conversation) -> Option<Origin> {
        if self.origin.is_none() {
            let events = self.remember(store.events_of(c.id).map_err(Into::into));
            let origin = events.iter().find_map(|event| match event.event {
                EventKind::Created { origin } => Some(origin),
                _ => None,
            });
            self.origin = Some(origin);
        }
        self.origin.flatten()
    }

    fn leaf(&mut self, store: &(impl StoreRead + ?Sized), c: &Conversation, leaf: &Condition) -> bool {
        match leaf {
            Condition::All(_) | Condition::Any(_) | Condition::Not(_) => false,
            Condition::Status(list) => list.contains(&c.status),
            Condition::Inbox(list) => list.contains(&c.inbox_id),
            Condition::Channel(list) => {
                self.inbox(store, c).is_some_and(|inbox| list.contains(&inbox.channel))
            }
            Condition::Team(list) => c.team_id.is_some_and(|team| list.contains(&team)),
            Condition::Assignee(list) => c.assignee_id.is_some_and(|agent| list.contains(&agent)),
            Condition::Assigned(assigned) => c.assignee_id.is_some() == *assigned,
            Condition::Priority(list) => list.contains(&c.priority),
            Condition::LabelsAny(list) => list.iter().any(|label| labels::has_label(&c.labels, label)),
            Condition::LabelsAll(list) => {
                !list.is_empty() && list.iter().all(|label| labels::has_label(&c.labels, label))
            }
            Condition::Origin(origin) => self.origin(store, c) == Some(*origin),
            Condition::TextContains(phrases) => {
                let prepared = self.prepared.clone();
                let words = self.words(store, c);
                match prepared.as_ref().and_then(|set| set.phrases.get(phrases)) {
                    Some(phrases) => auto_replies::contains_any(words, phrases),
                    None => auto_replies::contains_any(words, &auto_replies::keyword_words(phrases)),
                }
            }
            Condition::Contact { field, contains } => {
                if *field == ContactField::Phone {
                    let Some(contact) = self.contact(store, c) else { return false };
                    return contact.phone.is_some_and(|value| field_contains(*field, &value, contains));
                }
                if !self.folded_fields.iter().any(|(read, _)| read == field) {
                    let value = self.contact(store, c).and_then(|contact| match field {
                        ContactField::Name => Some(contact.name),
                        ContactField::Phone => contact.phone,
                        ContactField::Email => contact.email,
                    });
                    self.folded_fields.push((*field, value.map(|value| fold(&value))));
                }
                let value = self.folded_fields.iter().find(|(read, _)| read == field);
                let Some((_, Some(value))) = value else { return false };
                let wanted = match self.prepared.as_ref().and_then(|set| set.folded.get(contains)) {
                    Some(wanted) => wanted.clone(),
                    None => fold(contains),
                };
                !wanted.trim().is_empty() && value.contains(wanted.trim())
            }
            Condition::WithinBusinessHours(open) => self.is_open(store, c) == *open,
        }
    }
}

/// Whether a contact's field contains the text: phone numbers by their digits, other fields
/// after search normalisation (letter forms, digits, diacritics) and in any case.
fn field_contains(field: ContactField, value: &str, contains: &str) -> bool {
    if field == ContactField::Phone {
        let wanted = text::phone_digits(contains);
        return !wanted.is_empty() && text::phone_digits(value).contains(&wanted);
    }
    let wanted = fold(contains);
    !wanted.trim().is_empty() && fold(value).contains(wanted.trim())
}

/// Text as a `contact` condition compares it: search normalisation, in any case.
fn fold(text: &str) -> String {
    text::normalize_for_search(text).to_lowercase()
}

/// The body of the customer's message a text condition reads.
fn customer_text(
    store: &(impl StoreRead + ?Sized),
    conversation: Id,
    message: Option<Id>,
) -> Outcome<String> {
    if let Some(message) = message {
        if let Some(message) = store.get::<Message>(message)? {
            return Ok(message.body);
        }
    }
    let messages = store.messages_of(conversation)?;
    Ok(messages
        .into_iter()
        .rev()
        .find(|m| m.kind == MessageKind::Incoming)
        .map(|m| m.body)
        .unwrap_or_default())
}

/// Evaluates conditions on a conversation as it is now, reading the rest through `facts`.
fn evaluate(
    store: &(impl StoreRead + ?Sized),
    conditions: &Condition,
    conversation: &Conversation,
    facts: &mut Facts,
) -> Outcome<(bool, Vec<TraceStep>)> {
    let mut trace = Vec::new();
    let matched = conditions.evaluate(&mut |leaf| facts.leaf(store, conversation, leaf), &mut trace);
    match facts.error.take() {
        Some(refusal) => Err(refusal),
        None => Ok((matched, trace)),
    }
}

/// What an action amounts to beyond the conversation's own fields.
enum Effect {
    /// Nothing beyond the conversation (which may have changed).
    None,
    Route,
    Reply(String),
    Note(String),
    Webhook(String),
    Sla(Option<Id>),
}

fn skipped(action: &Action, reason: &str) -> (ActionOutcome, Effect) {
    let outcome = ActionOutcome {
        action: action.clone(),
        status: ActionStatus::Skipped,
        reason: Some(reason.to_owned()),
    };
    (outcome, Effect::None)
}

fn ok(action: &Action, effect: Effect) -> (ActionOutcome, Effect) {
    (ActionOutcome { action: action.clone(), status: ActionStatus::Ok, reason: None }, effect)
}

/// Decides one action on `conversation` (changing its fields in place), without writing: the
/// real run writes what it decided, the dry run only reports it. One decision for both.
fn plan(
    store: &(impl StoreRead + ?Sized),
    rule: &AutomationRule,
    inbox: &Inbox,
    conversation: &mut Conversation,
    action: &Action,
    now: Millis,
) -> Outcome<(ActionOutcome, Effect)> {
    let before = conversation.clone();
    let changed = |after: &Conversation| after != &before;
    match action {
        Action::AssignAgent { agent_id } => {
            let agent = store.get::<Agent>(*agent_id)?.filter(|agent| agent.active);
            let Some(agent) = agent else { return Ok(skipped(action, "reference_missing")) };
            if !rules::can_see_inbox(&agent, inbox) {
                return Ok(skipped(action, "agent_not_in_inbox"));
            }
            rules::apply_assignment(conversation, Some(agent.id), None);
        }
        Action::Unassign => {
            rules::apply_assignment(conversation, None, None);
        }
        Action::Route => {
            if conversation.status != ConversationStatus::Open {
                return Ok(skipped(action, "not_open"));
            }
            rules::apply_assignment(conversation, None, None);
            return Ok(ok(action, Effect::Route));
        }
        Action::SetTeam { team_id } => {
            if let Some(team) = team_id {
                if store.get::<Team>(*team)?.is_none() {
                    return Ok(skipped(action, "reference_missing"));
                }
            }
            conversation.team_id = *team_id;
        }
        Action::AddLabels { labels } => {
            // The label's own name, whatever spelling the rule was saved with.
            let mut names = Vec::with_capacity(labels.len());
            for label in labels {
                match label_named(store, label)? {
                    Some(label) => names.push(label.name),
                    None => return Ok(skipped(action, "reference_missing")),
                }
            }
            rules::edit_labels(&mut conversation.labels, &names, &[]);
        }
        Action::RemoveLabels { labels } => rules::edit_labels(&mut conversation.labels, &[], labels),
        Action::SetPriority { priority } => conversation.priority = *priority,
        Action::Escalate => {
            if conversation.status == ConversationStatus::Resolved {
                return Ok(skipped(action, "resolved"));
            }
            let note = Some(rule.name.clone());
            let by = switchboard_proto::escalation::EscalatedBy::Rule { id: rule.id };
            let escalation = switchboard_proto::escalation::Escalation { at: now, by, note };
            switchboard_proto::escalation::apply_escalation(conversation, Some(escalation));
        }
        Action::Deescalate => {
            switchboard_proto::escalation::apply_escalation(conversation, None);
        }
        Action::SetStatus { status, snooze_secs } => {
            let until = match (status, snooze_secs) {
                (ConversationStatus::Snoozed, Some(secs)) => Some(now + Millis::from(*secs) * 1000),
                _ => None,
            };
            if !conversation.status.is_open() && status.is_open() {
                let other = store.open_conversation(
                    conversation.inbox_id,
                    conversation.contact_id,
                    Some(conversation.id),
                )?;
                if other.is_some() {
                    return Ok(skipped(action, "another_conversation_open"));
                }
            }
            rules::apply_status(conversation, *status, until);
        }
        Action::SendReply { body } => {
            if !conversation.reply_window_open(inbox.channel, now) {
                return Ok(skipped(action, "window_closed"));
            }
            // RFC 3834: the customer's latest mail was sent by a machine; answering could loop.
            if super::email::loop_guard(store, conversation)?.is_some() {
                return Ok(skipped(action, "automatic_email"));
            }
            return Ok(ok(action, Effect::Reply(body.clone())));
        }
        Action::AddNote { body } => return Ok(ok(action, Effect::Note(body.clone()))),
        Action::Webhook { url } => return Ok(ok(action, Effect::Webhook(url.clone()))),
        Action::ApplySla { policy_id } => {
            if conversation.status == ConversationStatus::Resolved {
                return Ok(skipped(action, "resolved"));
            }
            if let Some(policy) = policy_id {
                if store.get::<switchboard_proto::sla::SlaPolicy>(*policy)?.is_none() {
                    return Ok(skipped(action, "reference_missing"));
                }
            }
            let pinned = conversation.sla.as_ref().filter(|sla| sla.pinned).map(|sla| sla.policy_id);
            if pinned == Some(*policy_id) {
                return Ok(skipped(action, "unchanged"));
            }
            return Ok(ok(action, Effect::Sla(*policy_id)));
        }
    }
    Ok(if changed(conversation) { ok(action, Effect::None) } else { skipped(action, "unchanged") })
}

/// Runs a rule's actions on a conversation, in order, each on the state the previous one left.
/// `origin` names what triggered the run (a ledger event, a timer's due time): with the rule's
/// version and the action's index it keys a webhook call, so no repeat can call twice.
///
/// `conversation` is the conversation as stored now. An action that only changes the
/// conversation hands the next one the conversation as its write stored it; one with a further
/// effect (routing, a message, a webhook, a pinned SLA) has the next read it back.
fn perform(
    tx: &mut dyn StoreTx,
    rule: &AutomationRule,
    conversation: Conversation,
    origin: &str,
) -> Outcome<Vec<ActionOutcome>> {
    let now = tx.now();
    let cause = Cause::rule(rule, now);
    let (conversation_id, inbox_id) = (conversation.id, conversation.inbox_id);
    // The inboxes as this transaction sees them (kept between writes, `cached.rs`).
    let inboxes = super::cached::inboxes(&*tx)?;
    let mut outcomes = Vec::with_capacity(rule.actions.len());
    let mut did = Vec::new();
    let mut current = Some(conversation);
    for (index, action) in rule.actions.iter().enumerate() {
        let mut before = match current.take() {
            Some(conversation) => conversation,
            None => match ledger::current(tx, conversation_id)? {
                Some(conversation) => conversation,
                None => break,
            },
        };
        let Some(inbox) = inboxes.get(before.inbox_id) else { break };
        let mut after = before.clone();
        let (outcome, effect) = plan(&*tx, rule, inbox, &mut after, action, now)?;
        if outcome.status == ActionStatus::Skipped {
            if outcome.reason.as_deref() == Some("reference_missing") {
                flag(tx, rule, &format!("{} names something that no longer exists", describe(action)))?;
            }
            outcomes.push(outcome);
            current = Some(before);
            continue;
        }
        if !matches!(effect, Effect::None) {
            // Its effect reads the conversation from the store (routing's queue, a message's
            // write, a pin): a new one held for its one write is written before it.
            ledger::release_held(tx, &mut before, &mut after)?;
        }
        let stored = ledger::save_stored(tx, &before, &after, &cause)?;
        if before.snoozed_until != after.snoozed_until {
            snooze_timer(tx, &after)?;
        }
        match effect {
            Effect::None => current = Some(stored),
            Effect::Route => {
                routing::route(tx, routing::Released::default())?;
            }
            Effect::Reply(body) => {
                write_message(tx, rule, inbox, &stored, MessageKind::Outgoing, body, &cause)?
            }
            Effect::Note(body) => write_message(tx, rule, inbox, &stored, MessageKind::Note, body, &cause)?,
            Effect::Webhook(url) => queue_webhook(tx, rule, &stored, url, &format!("{origin}#{index}"))?,
            Effect::Sla(policy) => {
                super::sla::pin(tx, conversation_id, policy, &cause)?;
            }
        }
        did.push(describe(action));
        outcomes.push(outcome);
    }
    if !did.is_empty() {
        let text = format!("Automation “{}”: {}", rule.name, did.join(", "));
        conversations::system_line(tx, inbox_id, conversation_id, text)?;
    }
    Ok(outcomes)
}

/// A rule snoozed or woke a conversation: its wake-up timer follows.
fn snooze_timer(tx: &mut dyn StoreTx, conversation: &Conversation) -> Outcome<()> {
    let key = conversations::snooze_timer_key(conversation.id);
    match conversation.snoozed_until {
        Some(until) => tx.schedule_timer(&TimerRecord {
            key,
            due_at: until,
            payload: serde_json::json!({ "conversation_id": conversation.id, "snoozed_until": until }),
        })?,
        None => tx.remove_timer(&key)?,
    }
    Ok(())
}

/// A rule's reply to the customer (queued for the channel like any reply, but never a person's
/// response) or its internal note (whose `@handles` notify like a colleague's).
fn write_message(
    tx: &mut dyn StoreTx,
    rule: &AutomationRule,
    inbox: &Inbox,
    conversation: &Conversation,
    kind: MessageKind,
    body: String,
    cause: &Cause,
) -> Outcome<()> {
    let now = tx.now();
    let (mentions, delivery, class) = match kind {
        MessageKind::Note => {
            let agents: Vec<Agent> = tx.all()?;
            let can_see: Vec<Agent> = agents.into_iter().filter(|a| rules::can_see_inbox(a, inbox)).collect();
            (rules::parse_mentions(&body, &can_see), DeliveryState::Delivered, MessageClass::Note)
        }
        _ => (vec![], conversations::initial_delivery(inbox), MessageClass::Rule),
    };
    let message = Message {
        id: Id::now_v7(),
        conversation_id: conversation.id,
        kind,
        body,
        sender: Sender::System,
        attachments: vec![],
        template: None,
        delivery,
        failure: None,
        mentions,
        created_at: now,
    };
    tx.put(&message, Audience::inbox(inbox.id))?;
    ledger::rule_message(tx, &message, class, cause)?;
    tx.index_message(&message, inbox.id)?;
    for agent_id in &message.mentions {
        let mention = Mention {
            id: Id::now_v7(),
            agent_id: *agent_id,
            conversation_id: conversation.id,
            message_id: message.id,
            // No person mentioned them: the rule did, and its id says which.
            mentioned_by: rule.id,
            created_at: now,
        };
        tx.put(&mention, Audience::private(*agent_id, Some(inbox.id)))?;
    }
    if kind == MessageKind::Outgoing {
        let mut after = conversation.clone();
        after.last_activity_at = now;
        after.preview = rules::preview(&message.body);
        ledger::save(tx, conversation, &after, cause)?;
        conversations::queue_delivery(tx, inbox, &message)?;
    }
    Ok(())
}

/// Attempts before a rule's webhook call is given up.
pub const MAX_WEBHOOK_ATTEMPTS: u32 = 8;

/// What a queued webhook call holds until it is made.
#[derive(serde::Serialize, serde::Deserialize)]
struct WebhookJob {
    url: String,
    inbox_id: Id,
    payload: RuleWebhook,
}

/// Queues a rule's webhook call in the rule's transaction, keyed so that it exists once whatever
/// repeats (a retried request, a timer fired again after a crash).
fn queue_webhook(
    tx: &mut dyn StoreTx,
    rule: &AutomationRule,
    conversation: &Conversation,
    url: String,
    origin: &str,
) -> Outcome<()> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}:{}:{origin}", rule.id, rule.version));
    let key = hex::encode(digest);
    let payload = RuleWebhook {
        event: "automation.rule".into(),
        idempotency_key: key.clone(),
        rule_id: rule.id,
        rule_name: rule.name.clone(),
        rule_version: rule.version,
        conversation: conversation.clone(),
        at: tx.now(),
    };
    let job = WebhookJob { url, inbox_id: conversation.inbox_id, payload };
    let now = tx.now();
    Ok(tx.enqueue_rule_webhook(&key, &serde_json::to_value(job)?, now)?)
}

/// A rule's webhook call the worker is to make now.
pub struct PendingRuleWebhook {
    pub key: String,
    pub url: String,
    pub secret: String,
    pub attempts: u32,
    pub payload: RuleWebhook,
}

/// The wait before attempt `attempts + 1`: one second doubling, at most about 17 minutes.
fn backoff(attempts: u32) -> Millis {
    1_000i64 << attempts.min(10)
}

/// An action as the thread's activity line and the rule's attention note name it.
fn describe(action: &Action) -> String {
    match action {
        Action::AssignAgent { .. } => "assigned an agent".into(),
        Action::Route => "handed to routing".into(),
        Action::Unassign => "unassigned".into(),
        Action::SetTeam { team_id: Some(_) } => "moved to a team".into(),
        Action::SetTeam { team_id: None } => "removed the team".into(),
        Action::AddLabels { labels } => format!("added {}", labels.join(", ")),
        Action::RemoveLabels { labels } => format!("removed {}", labels.join(", ")),
        Action::SetPriority { priority } => format!("set priority {}", priority.as_str()),
        Action::Escalate => "escalated".into(),
        Action::Deescalate => "de-escalated".into(),
        Action::SetStatus { status, .. } => format!("set status {}", status.as_str()),
        Action::SendReply { .. } => "replied".into(),
        Action::AddNote { .. } => "added a note".into(),
        Action::Webhook { .. } => "called its webhook".into(),
        Action::ApplySla { policy_id: Some(_) } => "pinned an SLA policy".into(),
        Action::ApplySla { policy_id: None } => "removed the SLA".into(),
    }
}

/// Marks a rule as needing a lead's attention (once; the rule keeps running).
fn flag(tx: &mut dyn StoreTx, rule: &AutomationRule, why: &str) -> Outcome<()> {
    let Some(mut stored) = tx.get::<AutomationRule>(rule.id)? else { return Ok(()) };
    if stored.needs_attention.is_none() {
        stored.needs_attention = Some(why.to_owned());
        tx.put(&stored, Audience::EVERYONE)?;
    }
    Ok(())
}

/// Flags every rule that names an agent, team, label or inbox that no longer exists (called when
/// one is removed or deactivated).
pub(super) fn check_references(tx: &mut dyn StoreTx) -> Outcome<()> {
    let rules: Vec<AutomationRule> = tx.all()?;
    for rule in rules.iter().filter(|rule| rule.needs_attention.is_none()) {
        if let Err(refusal) = check_rule_references(&*tx, &rule.conditions, &rule.actions) {
            flag(tx, rule, &refusal.message)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Timed rules.

/// Where a timed rule's episode stands after a change.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Episode {
    /// Not in the situation the rule waits on.
    Over,
    /// In it since this instant.
    Since(Millis),
    /// Still in it as before (the change didn't touch what the rule waits on).
    Unchanged,
}

fn episode_after_change(
    rule: &AutomationRule,
    conversation: &Conversation,
    status_change: Option<(ConversationStatus, Millis)>,
) -> Episode {
    match &rule.trigger {
        Trigger::Event { .. } => Episode::Over,
        Trigger::CustomerWaiting { .. } => match conversation.waiting_since {
            Some(since) if conversation.status != ConversationStatus::Resolved => Episode::Since(since),
            _ => Episode::Over,
        },
        Trigger::StatusHeld { status, .. } => {
            if conversation.status != *status {
                Episode::Over
            } else {
                match status_change {
                    Some((to, at)) if to == *status => Episode::Since(at),
                    _ => Episode::Unchanged,
                }
            }
        }
    }
}

/// Where a timed rule's episode stands, read from the ledger (when a rule is saved, and when its
/// run falls due).
fn episode_now(
    store: &(impl StoreRead + ?Sized),
    rule: &AutomationRule,
    conversation: &Conversation,
) -> Outcome<Episode> {
    Ok(match &rule.trigger {
        Trigger::StatusHeld { status, .. } if conversation.status == *status => {
            let events = store.events_of(conversation.id)?;
            let since = events.iter().rev().find_map(|event| match event.event {
                EventKind::Status { to, .. } if to == *status => Some(event.at),
                _ => None,
            });
            Episode::Since(since.unwrap_or(conversation.created_at))
        }
        _ => episode_after_change(rule, conversation, None),
    })
}

fn due_at(
    store: &(impl StoreRead + ?Sized),
    rule: &AutomationRule,
    conversation: &Conversation,
    since: Millis,
) -> Outcome<Option<Millis>> {
    let (after_secs, business_hours) = match &rule.trigger {
        Trigger::Event { .. } => return Ok(None),
        Trigger::CustomerWaiting { after_secs, business_hours }
        | Trigger::StatusHeld { after_secs, business_hours, .. } => (*after_secs, *business_hours),
    };
    let ms = Millis::from(after_secs) * 1000;
    if business_hours {
        let inbox = store.get::<Inbox>(conversation.inbox_id)?;
        if let Some(Ok(hours)) = inbox.and_then(|inbox| inbox.hours).map(|h| calendar::BusinessHours::new(&h))
        {
            return Ok(calendar::add_business_ms(&hours, since, ms));
        }
    }
    Ok(Some(since + ms))
}

/// Arms, moves or cancels a timed rule's run on a conversation. `force`: re-time even when the
/// episode is the same one (the rule's delay changed).
fn arm(
    tx: &mut dyn StoreTx,
    rule: &AutomationRule,
    conversation: &Conversation,
    episode: Episode,
    force: bool,
) -> Outcome<()> {
    let key = timer_key(rule.id, conversation.id);
    let existing = tx.timer(&key)?;
    let anchor_of = |timer: &TimerRecord| timer.payload.get("since").and_then(serde_json::Value::as_i64);
    match episode {
        Episode::Unchanged => Ok(()),
        Episode::Over => {
            if let Some(existing) = existing {
                tx.remove_timer(&key)?;
                if existing.payload.get("fired").is_some() {
                    return Ok(()); // It ran (or was skipped) at its due time: nothing to cancel.
                }
                let cycle = tx.current_cycle(conversation.id)?.unwrap_or(1);
                let mut cancelled = run(rule, conversation, None, cycle, tx.now(), RunStatus::Cancelled);
                cancelled.reason = Some("episode_ended".into());
                log_run(tx, cancelled)?;
            }
            Ok(())
        }
        Episode::Since(since) => {
            let fired = existing.as_ref().is_some_and(|timer| timer.payload.get("fired").is_some());
            if (!force || fired) && existing.as_ref().and_then(anchor_of) == Some(since) {
                return Ok(());
            }
            let Some(due_at) = due_at(&*tx, rule, conversation, since)? else { return Ok(()) };
            let payload =
                serde_json::json!({ "rule_id": rule.id, "conversation_id": conversation.id, "since": since });
            Ok(tx.schedule_timer(&TimerRecord { key, due_at, payload })?)
        }
    }
}

/// Arms a saved rule's runs on every unresolved conversation (and moves the ones armed for its
/// previous version).
fn arm_everywhere(tx: &mut dyn StoreTx, rule: &AutomationRule) -> Outcome<()> {
    if !rule.trigger.is_timed() || !rule.enabled {
        return Ok(());
    }
    for conversation in tx.unresolved_conversations()? {
        let episode = episode_now(&*tx, rule, &conversation)?;
        arm(tx, rule, &conversation, episode, true)?;
    }
    Ok(())
}

/// A timed rule's run fell due (`rule:<rule>:<conversation>`): acts if the episode is still the one
/// it was armed for and the rule's current conditions hold now.
pub(super) fn fire(tx: &mut dyn StoreTx, timer: &TimerRecord) -> Outcome<()> {
    let id = |name: &str| timer.payload.get(name).and_then(|v| v.as_str()).and_then(|v| v.parse::<Id>().ok());
    let (Some(rule_id), Some(conversation_id)) = (id("rule_id"), id("conversation_id")) else {
        return Ok(());
    };
    let since = timer.payload.get("since").and_then(serde_json::Value::as_i64);
    let Some(rule) = tx.get::<AutomationRule>(rule_id)? else { return Ok(()) };
    let Some(conversation) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let now = tx.now();
    let cycle = tx.current_cycle(conversation.id)?.unwrap_or(1);
    let mut logged = run(&rule, &conversation, None, cycle, timer.due_at, RunStatus::Skipped);
    let current = episode_now(&*tx, &rule, &conversation)?;
    if !rule.enabled {
        logged.reason = Some("rule_disabled".into());
    } else if since.is_none() || current != Episode::Since(since.unwrap_or_default()) {
        logged.status = RunStatus::Cancelled;
        logged.reason = Some("episode_ended".into());
    } else if now - timer.due_at > MAX_LATENESS_MS {
        logged.reason = Some("expired".into());
    } else if !run_limit_allows(&*tx, &rule, &conversation, cycle)? {
        logged.reason = Some("run_limit".into());
    } else {
        let (matched, trace) =
            evaluate(&*tx, &rule.conditions, &conversation, &mut Facts::new(None, timer.due_at))?;
        logged.trace = trace;
        if matched {
            logged.status = RunStatus::Done;
            logged.actions =
                perform(tx, &rule, conversation.clone(), &format!("{}@{}", timer.key, timer.due_at))?;
        } else {
            logged.reason = Some("conditions_changed".into());
        }
    }
    log_run(tx, logged)?;
    // Remember that this episode's run is done, so the changes it made (or any later change in
    // the same episode) don't arm it again. Never due; removed when the episode ends.
    let mut payload = timer.payload.clone();
    payload["fired"] = serde_json::Value::Bool(true);
    Ok(tx.schedule_timer(&TimerRecord { key: timer.key.clone(), due_at: Millis::MAX, payload })?)
}

// ---------------------------------------------------------------------------------------------
// Saving rules.

fn path_error(path: &str, why: impl std::fmt::Display) -> Refusal {
    Refusal::validation(format!("{path}: {why}"))
}

/// Checks that every agent, team, label and inbox a rule names exists; the error names the path.
fn check_rule_references(
    store: &(impl StoreRead + ?Sized),
    conditions: &Condition,
    actions: &[Action],
) -> Outcome<()> {
    fn walk(store: &(impl StoreRead + ?Sized), node: &Condition, path: &str) -> Outcome<()> {
        let child = |name: &str, i: usize| format!("{path}.{name}[{i}]");
        match node {
            Condition::All(children) => {
                for (i, c) in children.iter().enumerate() {
                    walk(store, c, &child("all", i))?;
                }
            }
            Condition::Any(children) => {
                for (i, c) in children.iter().enumerate() {
                    walk(store, c, &child("any", i))?;
                }
            }
            Condition::Not(c) => walk(store, c, &format!("{path}.not"))?,
            Condition::Inbox(ids) => {
                for (i, id) in ids.iter().enumerate() {
                    if store.get::<Inbox>(*id)?.is_none() {
                        return Err(path_error(&child("inbox", i), format!("no inbox {id}")));
                    }
                }
            }
            Condition::Team(ids) => {
                for (i, id) in ids.iter().enumerate() {
                    if store.get::<Team>(*id)?.is_none() {
                        return Err(path_error(&child("team", i), format!("no team {id}")));
                    }
                }
            }
            Condition::Assignee(ids) => {
                for (i, id) in ids.iter().enumerate() {
                    if store.get::<Agent>(*id)?.is_none() {
                        return Err(path_error(&child("assignee", i), format!("no agent {id}")));
                    }
                }
            }
            Condition::LabelsAny(labels) | Condition::LabelsAll(labels) => {
                for (i, label) in labels.iter().enumerate() {
                    if label_named(store, label)?.is_none() {
                        return Err(path_error(&child("labels", i), format!("no label named “{label}”")));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
    walk(store, conditions, "conditions")?;
    for (index, action) in actions.iter().enumerate() {
        let path = format!("actions[{index}]");
        match action {
            Action::AssignAgent { agent_id }
                if store.get::<Agent>(*agent_id)?.filter(|a| a.active).is_none() =>
            {
                return Err(path_error(&format!("{path}.agent_id"), format!("no active agent {agent_id}")));
            }
            Action::SetTeam { team_id: Some(team) } if store.get::<Team>(*team)?.is_none() => {
                return Err(path_error(&format!("{path}.team_id"), format!("no team {team}")));
            }
            Action::ApplySla { policy_id: Some(policy) }
                if store.get::<switchboard_proto::sla::SlaPolicy>(*policy)?.is_none() =>
            {
                return Err(path_error(&format!("{path}.policy_id"), format!("no SLA policy {policy}")));
            }
            Action::AddLabels { labels } => {
                for (i, label) in labels.iter().enumerate() {
                    if label_named(store, label)?.is_none() {
                        return Err(path_error(
                            &format!("{path}.labels[{i}]"),
                            format!("no label named “{label}”"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a rule as a lead wrote it: names, shape and limits, then references.
fn checked(store: &(impl StoreRead + ?Sized), input: &AutomationRuleInput) -> Outcome<String> {
    let name = policy::valid_name(&input.name, "name")?;
    if input.conditions.depth() > MAX_CONDITION_DEPTH {
        return Err(path_error("conditions", format!("nested deeper than {MAX_CONDITION_DEPTH} levels")));
    }
    if input.conditions.leaves() > MAX_CONDITION_LEAVES {
        return Err(path_error("conditions", format!("more than {MAX_CONDITION_LEAVES} conditions")));
    }
    if input.actions.is_empty() {
        return Err(path_error("actions", "a rule needs at least one action"));
    }
    match &input.trigger {
        Trigger::Event { events } if events.is_empty() => {
            return Err(path_error("trigger.events", "name at least one event"));
        }
        Trigger::CustomerWaiting { after_secs, .. } | Trigger::StatusHeld { after_secs, .. }
            if *after_secs == 0 || *after_secs > 90 * 86_400 =>
        {
            return Err(path_error("trigger.after_secs", "between 1 second and 90 days"));
        }
        _ => {}
    }
    for (index, action) in input.actions.iter().enumerate() {
        let path = format!("actions[{index}]");
        match action {
            Action::Webhook { url } => {
                let parsed = reqwest::Url::parse(url).map_err(|e| path_error(&format!("{path}.url"), e))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(path_error(&format!("{path}.url"), "an http or https URL"));
                }
            }
            Action::SendReply { body } | Action::AddNote { body } => {
                if body.trim().is_empty() {
                    return Err(path_error(&format!("{path}.body"), "must not be empty"));
                }
                policy::check_body(body)?;
            }
            Action::SetStatus { status: ConversationStatus::Snoozed, snooze_secs: None | Some(0) } => {
                return Err(path_error(&format!("{path}.snooze_secs"), "snoozing needs snooze_secs"));
            }
            Action::SetStatus { snooze_secs: Some(_), status } if *status != ConversationStatus::Snoozed => {
                return Err(path_error(&format!("{path}.snooze_secs"), "only goes with status snoozed"));
            }
            _ => {}
        }
    }
    check_rule_references(store, &input.conditions, &input.actions)?;
    Ok(name)
}

/// A rule as saved from a lead's checked input, at a version.
fn saved_rule(
    id: Id,
    name: String,
    position: u32,
    version: u32,
    input: AutomationRuleInput,
    now: Millis,
) -> AutomationRule {
    AutomationRule {
        id,
        name,
        enabled: input.enabled,
        position,
        version,
        trigger: input.trigger,
        conditions: input.conditions,
        actions: input.actions,
        stop_processing: input.stop_processing,
        run_limit: input.run_limit,
        allow_rule_origin: input.allow_rule_origin,
        needs_attention: None,
        updated_at: now,
    }
}

/// The latest conversations a preview tries, at most.
const MAX_PREVIEW: u32 = 1_000;

impl Workspace {
    /// Claims the rules' webhook calls due now: each is leased (its next attempt moved past the
    /// lease) in the transaction that lists it, so no other worker, on any node, makes it too.
    pub async fn claim_due_rule_webhooks(&self, limit: usize) -> Outcome<Vec<PendingRuleWebhook>> {
        self.write(move |tx| {
            let now = tx.now();
            let mut pending = Vec::new();
            for due in tx.due_rule_webhooks(now, limit)? {
                tx.schedule_rule_webhook(
                    &due.key,
                    due.attempts,
                    now + super::deliveries::DELIVERY_LEASE_MS,
                    None,
                )?;
                let Ok(job) = serde_json::from_value::<WebhookJob>(due.job) else {
                    tx.finish_rule_webhook(&due.key)?;
                    continue;
                };
                let Some(secret) = tx.inbox_secret(job.inbox_id)? else {
                    tx.finish_rule_webhook(&due.key)?; // The inbox is gone: nobody to sign for.
                    continue;
                };
                pending.push(PendingRuleWebhook {
                    key: due.key,
                    url: job.url,
                    secret,
                    attempts: due.attempts,
                    payload: job.payload,
                });
            }
            Ok(pending)
        })
        .await
    }

    /// Records a webhook call's attempt: done on success; on failure, retried with backoff and
    /// given up after [`MAX_WEBHOOK_ATTEMPTS`], with a line in the conversation saying so.
    pub async fn rule_webhook_attempted(&self, key: String, outcome: Result<(), String>) -> Outcome<()> {
        self.write(move |tx| {
            let Some(call) = tx.rule_webhook(&key)? else { return Ok(()) };
            let attempts = call.attempts + 1;
            match outcome {
                Ok(()) => tx.finish_rule_webhook(&key)?,
                Err(error) if attempts < MAX_WEBHOOK_ATTEMPTS => {
                    let at = tx.now() + backoff(attempts);
                    tx.schedule_rule_webhook(&key, attempts, at, Some(&error))?;
                }
                Err(error) => {
                    tx.schedule_rule_webhook(&key, attempts, tx.now(), Some(&error))?;
                    tx.finish_rule_webhook(&key)?;
                    if let Ok(job) = serde_json::from_value::<WebhookJob>(call.job) {
                        let text = format!(
                            "Automation “{}”: its webhook call failed {attempts} times and was given up ({error})",
                            job.payload.rule_name
                        );
                        activity(tx, job.inbox_id, job.payload.conversation.id, Sender::System, text)?;
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// `GET /automation-rules`: every rule, in the order they run.
    pub async fn automation_rules(&self, _viewer: &Viewer) -> Outcome<Vec<AutomationRule>> {
        self.read(|store| {
            let mut rules: Vec<AutomationRule> = store.all()?;
            rules.sort_by_key(|rule| (rule.position, rule.id));
            Ok(rules)
        })
        .await
    }

    /// `POST /automation-rules` (leads and admins).
    pub async fn create_automation_rule(
        &self,
        viewer: &Viewer,
        input: AutomationRuleInput,
    ) -> Outcome<AutomationRule> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let name = checked(&*tx, &input)?;
            let position = match input.position {
                Some(position) => position,
                None => tx.all::<AutomationRule>()?.iter().map(|r| r.position + 1).max().unwrap_or(1),
            };
            let rule = saved_rule(Id::now_v7(), name, position, 1, input, tx.now());
            tx.put(&rule, Audience::EVERYONE)?;
            arm_everywhere(tx, &rule)?;
            audit::changed(tx, &who, "automation_rule.create", rule.id, &rule.name, None, Some(&rule))?;
            Ok(rule)
        })
        .await
    }

    /// `PUT /automation-rules/{id}`: a new version; runs already armed use it when they fire.
    pub async fn update_automation_rule(
        &self,
        viewer: &Viewer,
        id: Id,
        input: AutomationRuleInput,
    ) -> Outcome<AutomationRule> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let existing: AutomationRule =
                tx.get(id)?.ok_or_else(|| Refusal::not_found("automation rule"))?;
            let name = checked(&*tx, &input)?;
            let rule = saved_rule(
                id,
                name,
                input.position.unwrap_or(existing.position),
                existing.version + 1,
                input,
                tx.now(),
            );
            tx.put(&rule, Audience::EVERYONE)?;
            arm_everywhere(tx, &rule)?;
            audit::changed(tx, &who, "automation_rule.update", id, &rule.name, Some(&existing), Some(&rule))?;
            Ok(rule)
        })
        .await
    }

    /// `DELETE /automation-rules/{id}`: its armed runs are dropped when they fall due.
    pub async fn delete_automation_rule(&self, viewer: &Viewer, id: Id) -> Outcome<()> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let existing: AutomationRule =
                tx.get(id)?.ok_or_else(|| Refusal::not_found("automation rule"))?;
            tx.remove(EntityKind::AutomationRule, id, Audience::EVERYONE)?;
            audit::changed(tx, &who, "automation_rule.delete", id, &existing.name, Some(&existing), None)
        })
        .await
    }

    /// `PUT /automation-rules/order`: positions 1, 2, … in the order given (every rule, once).
    pub async fn order_automation_rules(
        &self,
        viewer: &Viewer,
        order: RuleOrder,
    ) -> Outcome<Vec<AutomationRule>> {
        policy::require_lead(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let rules: Vec<AutomationRule> = tx.all()?;
            let mut ids = order.ids.clone();
            ids.sort();
            ids.dedup();
            let mut known: Vec<Id> = rules.iter().map(|rule| rule.id).collect();
            known.sort();
            if ids.len() != order.ids.len() || ids != known {
                return Err(Refusal::validation("ids: list every rule exactly once"));
            }
            let mut ordered = Vec::with_capacity(rules.len());
            for (index, id) in order.ids.iter().enumerate() {
                let Some(mut rule) = rules.iter().find(|rule| rule.id == *id).cloned() else { continue };
                let position = index as u32 + 1;
                if rule.position != position {
                    rule.position = position;
                    tx.put(&rule, Audience::EVERYONE)?;
                }
                ordered.push(rule);
            }
            // Which rule runs first decides what a conversation gets: the order is a setting too.
            let mut before = rules;
            before.sort_by_key(|rule| rule.position);
            let names = |rules: &[AutomationRule]| {
                let order: Vec<_> =
                    rules.iter().map(|rule| serde_json::json!({"id": rule.id, "name": rule.name})).collect();
                serde_json::json!({ "order": order })
            };
            audit::record(
                tx,
                &who,
                audit::Record {
                    action: "automation_rule.order",
                    target_type: "automation_rule",
                    target_id: None,
                    target_label: "the rules' order",
                    before: Some(names(&before)),
                    after: Some(names(&ordered)),
                },
            )?;
            Ok(ordered)
        })
        .await
    }

    /// `POST /automation-rules/{id}/test`: the rule's conditions on a conversation now, with the
    /// trace and what each action would do. Reads only: nothing is written.
    pub async fn test_automation_rule(
        &self,
        viewer: &Viewer,
        id: Id,
        test: RuleTest,
    ) -> Outcome<RuleTestResult> {
        policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.read(move |store| {
            let rule: AutomationRule = store.get(id)?.ok_or_else(|| Refusal::not_found("automation rule"))?;
            let (conversation, inbox) =
                conversations::visible_conversation(store, &viewer, test.conversation_id)?;
            let now = store.now();
            let (matched, trace) =
                evaluate(store, &rule.conditions, &conversation, &mut Facts::new(None, now))?;
            let mut working = conversation.clone();
            let mut actions = Vec::new();
            for action in &rule.actions {
                actions.push(plan(store, &rule, &inbox, &mut working, action, now)?.0);
            }
            Ok(RuleTestResult { matched, trace, actions })
        })
        .await
    }

    /// `POST /automation-rules/preview`: which of the latest conversations the viewer may see a
    /// rule's conditions hold for now.
    pub async fn preview_automation_rule(
        &self,
        viewer: &Viewer,
        preview: RulePreview,
    ) -> Outcome<RulePreviewResult> {
        policy::require_lead(viewer)?;
        if preview.conditions.depth() > MAX_CONDITION_DEPTH
            || preview.conditions.leaves() > MAX_CONDITION_LEAVES
        {
            return Err(path_error("conditions", "too deep or too many conditions"));
        }
        let viewer = viewer.clone();
        self.read(move |store| {
            let limit = preview.limit.unwrap_or(100).clamp(1, MAX_PREVIEW);
            let now = store.now();
            let mut tried = 0;
            let mut matched = Vec::new();
            let inboxes: Vec<Inbox> = store.all()?;
            for conversation in store.recent_conversations(limit as usize)? {
                let visible = inboxes
                    .iter()
                    .any(|inbox| inbox.id == conversation.inbox_id && policy::can_see_inbox(&viewer, inbox));
                if !visible {
                    continue;
                }
                tried += 1;
                if evaluate(store, &preview.conditions, &conversation, &mut Facts::new(None, now))?.0 {
                    matched.push(conversation.id);
                }
            }
            Ok(RulePreviewResult { tried, matched })
        })
        .await
    }

    /// `GET /automation-rules/{id}/runs` and `GET /conversations/{id}/automation-runs`: the run
    /// log, newest first.
    pub async fn automation_runs(
        &self,
        viewer: &Viewer,
        rule: Option<Id>,
        conversation: Option<Id>,
        before: Option<Id>,
    ) -> Outcome<Vec<AutomationRun>> {
        let viewer = viewer.clone();
        self.read(move |store| {
            match conversation {
                Some(conversation) => {
                    conversations::visible_conversation(store, &viewer, conversation)?;
                }
                None => policy::require_lead(&viewer)?,
            }
            Ok(store.automation_runs(rule, conversation, before, 100)?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_fields_compare_normalised_and_phones_by_digits() {
        assert!(
            field_contains(ContactField::Phone, "+98 912 345 6789", "912-345"),
            "by digits, any formatting"
        );
        assert!(!field_contains(ContactField::Phone, "+98 912 345 6789", "x"), "no digits: no match");
        assert!(field_contains(ContactField::Email, "Ana@Example.COM", "example.com"));
        assert!(field_contains(ContactField::Name, "علی كريمی", "کریمی"), "Arabic letter forms");
        assert!(!field_contains(ContactField::Name, "Ana", "  "));
    }

    #[test]
    fn a_status_held_episode_starts_at_the_change_into_the_status() {
        let rule = |trigger| AutomationRule {
            id: Id::nil(),
            name: "r".into(),
            enabled: true,
            position: 1,
            version: 1,
            trigger,
            conditions: Condition::default(),
            actions: vec![Action::Unassign],
            stop_processing: false,
            run_limit: RunLimit::EveryTime,
            allow_rule_origin: false,
            needs_attention: None,
            updated_at: 0,
        };
        let pending = rule(Trigger::StatusHeld {
            status: ConversationStatus::Pending,
            after_secs: 60,
            business_hours: false,
        });
        let mut conversation = rules::new_conversation(Id::nil(), Id::nil(), Id::nil(), 0);
        assert_eq!(episode_after_change(&pending, &conversation, None), Episode::Over);
        conversation.status = ConversationStatus::Pending;
        let changed = Some((ConversationStatus::Pending, 5));
        assert_eq!(episode_after_change(&pending, &conversation, changed), Episode::Since(5));
        assert_eq!(episode_after_change(&pending, &conversation, None), Episode::Unchanged);
        let waiting = rule(Trigger::CustomerWaiting { after_secs: 60, business_hours: false });
        conversation.waiting_since = Some(7);
        assert_eq!(episode_after_change(&waiting, &conversation, None), Episode::Since(7));
        conversation.status = ConversationStatus::Resolved;
        assert_eq!(episode_after_change(&waiting, &conversation, None), Episode::Over);
    }
}
