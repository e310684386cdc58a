//! Reports, derived from the conversation ledger. Every write marks the conversations whose
//! ledger grew ([`ledger_grew`], called by `Workspace::write`); a report first derives those
//! conversations' facts again ([`refresh`]), then aggregates the facts of its period, so a report
//! is always exact, and `POST /reports/rebuild` (every conversation derived again) gives the same
//! answer byte for byte.
//!
//! The definitions, exact where products are loose (`../shared/design/team-automation.md` §6):
//! - a **human public reply** is a person's outgoing message; notes, activity lines, automatic
//!   replies and rules' replies never count;
//! - **first response**: only in a cycle whose first message is the customer's; from that message
//!   (for a customer's reopen, the reopening message) to the first human public reply, credited
//!   to the replier (not the assignee);
//! - **response**: one per human public reply that answers at least one unanswered customer
//!   message, from the earliest of them, credited to the replier, numbered within the cycle (the
//!   first of an inbound-started cycle is also its first response);
//! - **resolution**: per cycle, from its start to resolved, credited to the assignee at
//!   resolution, with the time it was actually open beside the wall and business figures;
//! - **assignment to first reply**: per assignment made while the customer waits (or in the very
//!   write whose message made them wait: routing assigns a new conversation so), from the
//!   assignment to that assignee's first human public reply, credited to them; reassigning,
//!   resolving or a new cycle before it gives up the assignment's measure (no fact), and another
//!   person's reply doesn't end it;
//! - **SLA outcomes**: one per SLA clock (target and instance) of the cycle, from the ledger's SLA
//!   events: met at its `met`, breached at the first of `breached`, `breached_met` and
//!   `breached_closed` (a cancelled clock has none), from the clock's start, credited to the
//!   assignee at that moment; nothing after the cycle's resolution counts (a breach can't follow
//!   it). "% within target" is met of met and breached, against the target the conversation's
//!   policy set, counted as the policy counts (business or wall time);
//! - **business time** is `business_ms_between` over the inbox's calendar versions (0 for a message
//!   answered within one closed stretch), wall time for an inbox without hours;
//! - a duration belongs to the period holding its end, a count to the one holding its moment;
//! - team, labels and priority are the conversation's when the fact ended.

use std::collections::{BTreeMap, BTreeSet};

use switchboard_proto::{
    calendar,
    ledger::{Actor, ConversationEvent, EventKind, MessageClass, Origin},
    reports::*,
    *,
};

use super::{Viewer, Workspace};
use crate::{
    bus::VisibleInboxes,
    facts::{Buckets, Counts, RollupKey, Scan, Spread, SpreadKey},
    refusal::{Outcome, Refusal},
    store::{StoreRead, StoreReadExt, StoreTx},
};

/// Conversations derived per batch while refreshing.
const REFRESH_BATCH: usize = 500;

/// Conversations whose facts, conversation and contact a cycle export reads per batch.
const CSV_BATCH: usize = 1000;

/// Marks the conversations whose ledger grew in this transaction, for the next report.
pub(super) fn ledger_grew(tx: &mut dyn StoreTx, conversations: &[Id]) -> Outcome<()> {
    if conversations.is_empty() {
        return Ok(());
    }
    Ok(tx.mark_reports_stale(conversations)?)
}

/// What the derivation tracks of a conversation while it walks its ledger.
struct Walk<'a> {
    conversation: Id,
    inbox: &'a Inbox,
    hours: Option<calendar::BusinessHours>,
    facts: Vec<ReportFact>,
    cycle: u32,
    cycle_start: Millis,
    origin: Origin,
    /// The class of the cycle's first message, once there is one.
    first_message: Option<MessageClass>,
    /// The earliest customer message no person has answered yet.
    waiting_since: Option<Millis>,
    responses: u32,
    status: ConversationStatus,
    open_since: Option<Millis>,
    open_ms: Millis,
    assignee: Option<Id>,
    team: Option<Id>,
    labels: Vec<String>,
    priority: Priority,
    /// When the current assignee got it.
    assigned_at: Millis,
    /// The assignment whose first reply is awaited: its assignee and moment.
    episode: Option<(Id, Millis)>,
    /// When the cycle was resolved, if it was.
    resolved_at: Option<Millis>,
    /// The cycle's SLA clocks (target, instance): when each started, and those already decided.
    sla_started: BTreeMap<(u8, u32), Millis>,
    sla_decided: BTreeSet<(u8, u32)>,
}

impl Walk<'_> {
    fn business(&self, from: Millis, to: Millis) -> Millis {
        match &self.hours {
            Some(hours) => calendar::business_ms_between(hours, from, to),
            None => (to - from).max(0),
        }
    }

    fn fact(&mut self, kind: FactKind, agent: Option<Id>, start_at: Millis, at: Millis) {
        let instance = if kind == FactKind::Response { self.responses } else { 0 };
        self.fact_numbered(kind, agent, start_at, at, instance);
    }

    fn fact_numbered(
        &mut self,
        kind: FactKind,
        agent: Option<Id>,
        start_at: Millis,
        at: Millis,
        instance: u32,
    ) {
        let fact = ReportFact {
            kind,
            conversation_id: self.conversation,
            cycle: self.cycle,
            instance,
            inbox_id: self.inbox.id,
            channel: self.inbox.channel,
            team_id: self.team,
            labels: self.labels.clone(),
            priority: self.priority,
            agent_id: agent,
            origin: self.origin,
            start_at,
            at,
            wall_ms: (at - start_at).max(0),
            business_ms: self.business(start_at, at),
            open_ms: if kind == FactKind::Resolution { self.open_ms } else { 0 },
        };
        self.facts.push(fact);
    }

    fn close_open_stretch(&mut self, at: Millis) {
        if let Some(since) = self.open_since.take() {
            self.open_ms += (at - since).max(0);
        }
    }

    fn start_cycle(&mut self, event: &ConversationEvent, origin: Origin) {
        self.cycle = event.cycle;
        self.cycle_start = event.at;
        self.origin = origin;
        self.first_message = None;
        self.waiting_since = None;
        self.responses = 0;
        self.open_ms = 0;
        self.open_since = (self.status == ConversationStatus::Open).then_some(event.at);
        self.episode = None;
        self.resolved_at = None;
        self.sla_started.clear();
        self.sla_decided.clear();
    }

    /// An SLA clock's event: its start remembered, its first decisive word an outcome fact.
    fn sla(&mut self, at: Millis, metric: sla::SlaMetric, instance: u32, what: &str) {
        let key = (metric as u8, instance);
        let met = match what {
            "started" => {
                self.sla_started.entry(key).or_insert(at);
                return;
            }
            "met" => true,
            "breached" | "breached_met" | "breached_closed" => false,
            _ => return,
        };
        // The cycle ended at its resolution: nothing is decided after it.
        if self.resolved_at.is_some_and(|resolved| at > resolved) || !self.sla_decided.insert(key) {
            return;
        }
        let kind = match (metric, met) {
            (sla::SlaMetric::FirstResponse, true) => FactKind::SlaFirstResponseMet,
            (sla::SlaMetric::FirstResponse, false) => FactKind::SlaFirstResponseBreached,
            (sla::SlaMetric::NextResponse, true) => FactKind::SlaNextResponseMet,
            (sla::SlaMetric::NextResponse, false) => FactKind::SlaNextResponseBreached,
            (sla::SlaMetric::Resolution, true) => FactKind::SlaResolutionMet,
            (sla::SlaMetric::Resolution, false) => FactKind::SlaResolutionBreached,
        };
        let start = self.sla_started.get(&key).copied().unwrap_or(self.cycle_start).min(at);
        self.fact_numbered(kind, self.assignee, start, at, instance);
    }

    fn step(&mut self, event: &ConversationEvent) {
        match &event.event {
            EventKind::Created { origin } => {
                self.status = ConversationStatus::Open;
                self.start_cycle(event, *origin);
                self.fact(FactKind::CycleStarted, self.assignee, event.at, event.at);
            }
            EventKind::Reopened => {
                let origin = match event.actor {
                    Actor::Contact { .. } => Origin::Customer,
                    _ => Origin::Agent,
                };
                self.start_cycle(event, origin);
                self.fact(FactKind::Reopened, self.assignee, event.at, event.at);
                self.fact(FactKind::CycleStarted, self.assignee, event.at, event.at);
            }
            EventKind::Message { class: MessageClass::Inbound, .. } => {
                self.first_message.get_or_insert(MessageClass::Inbound);
                if self.waiting_since.is_none() && self.episode.is_none() && self.assigned_at == event.at {
                    // Assigned in the write whose message made the customer wait.
                    self.episode = self.assignee.map(|agent| (agent, event.at));
                }
                self.waiting_since.get_or_insert(event.at);
                self.fact(FactKind::MessageIn, self.assignee, event.at, event.at);
            }
            EventKind::Message { class: MessageClass::Human, .. } => {
                let replier = match event.actor {
                    Actor::Agent { id } => Some(id),
                    _ => None,
                };
                let first = *self.first_message.get_or_insert(MessageClass::Human);
                self.fact(FactKind::MessageOut, replier, event.at, event.at);
                if let Some((agent, since)) = self.episode.filter(|(agent, _)| Some(*agent) == replier) {
                    self.episode = None;
                    self.fact(FactKind::AssignmentToFirstReply, Some(agent), since, event.at);
                }
                if let Some(since) = self.waiting_since.take() {
                    self.responses += 1;
                    if self.responses == 1 && first == MessageClass::Inbound {
                        self.fact(FactKind::FirstResponse, replier, since, event.at);
                    }
                    self.fact(FactKind::Response, replier, since, event.at);
                }
            }
            EventKind::Message { .. } => {}
            EventKind::Status { from, to, .. } => {
                if *from == ConversationStatus::Open {
                    self.close_open_stretch(event.at);
                }
                if *to == ConversationStatus::Open && self.open_since.is_none() {
                    self.open_since = Some(event.at);
                }
                self.status = *to;
            }
            EventKind::Resolved => {
                self.close_open_stretch(event.at);
                self.waiting_since = None;
                self.episode = None;
                self.resolved_at = Some(event.at);
                self.fact(FactKind::Resolution, self.assignee, self.cycle_start, event.at);
            }
            EventKind::Assigned { to, .. } => {
                self.assignee = *to;
                self.assigned_at = event.at;
                self.episode = match (*to, self.waiting_since) {
                    (Some(agent), Some(_)) => Some((agent, event.at)),
                    _ => None,
                };
            }
            EventKind::Team { to, .. } => self.team = *to,
            EventKind::Priority { to, .. } => self.priority = *to,
            EventKind::Labels { added, removed } => {
                self.labels.retain(|label| !removed.contains(label));
                for label in added {
                    if !self.labels.contains(label) {
                        self.labels.push(label.clone());
                    }
                }
            }
            EventKind::Sla { metric, instance, what, .. } => self.sla(event.at, *metric, *instance, what),
            EventKind::AutoReplyNotSent { .. } | EventKind::Escalation { .. } | EventKind::Contact { .. } => {
            }
        }
    }
}

/// A conversation's facts, from its ledger (oldest event first) and its inbox.
pub fn derive(conversation: Id, inbox: &Inbox, events: &[ConversationEvent]) -> Vec<ReportFact> {
    let hours = inbox.hours.as_ref().and_then(|history| calendar::BusinessHours::new(history).ok());
    let mut walk = Walk {
        conversation,
        inbox,
        hours,
        facts: Vec::new(),
        cycle: 1,
        cycle_start: 0,
        origin: Origin::Customer,
        first_message: None,
        waiting_since: None,
        responses: 0,
        status: ConversationStatus::Open,
        open_since: None,
        open_ms: 0,
        assignee: None,
        team: None,
        labels: Vec::new(),
        priority: Priority::None,
        assigned_at: Millis::MIN,
        episode: None,
        resolved_at: None,
        sla_started: BTreeMap::new(),
        sla_decided: BTreeSet::new(),
    };
    for event in events {
        walk.step(event);
    }
    walk.facts
}

/// Derives the facts of every conversation whose ledger grew since they were last derived, a
/// batch at a time (each rollup and spread row a batch changes is written once for it; with
/// `roll_up` false not at all, for a rebuild's `roll_up_report_facts`). Returns how many it
/// derived.
fn refresh(tx: &mut dyn StoreTx, roll_up: bool) -> Outcome<u64> {
    let mut derived = 0;
    loop {
        let stale = tx.stale_report_conversations(REFRESH_BATCH)?;
        if stale.is_empty() {
            return Ok(derived);
        }
        let mut inboxes: BTreeMap<Id, Option<Inbox>> = BTreeMap::new();
        let mut batch = Vec::with_capacity(stale.len());
        for id in stale {
            let facts = match tx.get::<Conversation>(id)? {
                Some(conversation) => {
                    let inbox = match inboxes.get(&conversation.inbox_id) {
                        Some(inbox) => inbox.clone(),
                        None => {
                            let inbox = tx.get::<Inbox>(conversation.inbox_id)?;
                            inboxes.insert(conversation.inbox_id, inbox.clone());
                            inbox
                        }
                    };
                    match inbox {
                        Some(inbox) => derive(id, &inbox, &tx.events_of(id)?),
                        None => vec![],
                    }
                }
                None => vec![],
            };
            batch.push((id, facts));
        }
        tx.replace_report_facts(&batch, roll_up)?;
        derived += batch.len() as u64;
    }
}

/// A report's period and zone, as asked.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    /// An RFC 3339 instant, or a local date (`2026-11-01`) meaning its midnight in `time_zone`.
    pub from: String,
    /// Exclusive, alike.
    pub to: String,
    /// An IANA zone; default UTC.
    pub time_zone: Option<String>,
    pub group_by: GroupBy,
}

fn instant(text: &str, zone: &jiff::tz::TimeZone, field: &str) -> Outcome<Millis> {
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(at.as_millisecond());
    }
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| Refusal::validation(format!("{field}: an RFC 3339 instant or a date (YYYY-MM-DD)")))?;
    let zoned = date.to_zoned(zone.clone()).map_err(|e| Refusal::validation(format!("{field}: {e}")))?;
    Ok(zoned.timestamp().as_millisecond())
}

/// The buckets of `[from, to)` in `zone`: each starts at a local hour, midnight, Monday or first
/// of the month (the first one at `from`), so a spring-forward day has 23 hourly buckets.
fn buckets(from: Millis, to: Millis, zone: &jiff::tz::TimeZone, interval: Interval) -> Outcome<Vec<Bucket>> {
    use jiff::ToSpan;
    let failed = |e: jiff::Error| Refusal::validation(format!("buckets: {e}"));
    let start = jiff::Timestamp::from_millisecond(from).map_err(failed)?.to_zoned(zone.clone());
    let aligned = match interval {
        Interval::Hour => start.start_of_day().map_err(failed)?,
        Interval::Day => start.start_of_day().map_err(failed)?,
        Interval::Week => {
            let monday = start.weekday().to_monday_zero_offset();
            start.start_of_day().map_err(failed)?.checked_sub(i64::from(monday).days()).map_err(failed)?
        }
        Interval::Month => start.first_of_month().map_err(failed)?.start_of_day().map_err(failed)?,
    };
    let step = |z: &jiff::Zoned| -> Outcome<jiff::Zoned> {
        match interval {
            Interval::Hour => z.checked_add(1.hour()),
            Interval::Day => z.checked_add(1.day()),
            Interval::Week => z.checked_add(1.week()),
            Interval::Month => z.checked_add(1.month()),
        }
        .map_err(failed)
    };
    let mut at = aligned;
    // Hourly buckets before `from` on its first day are skipped, not stretched.
    while step(&at)?.timestamp().as_millisecond() <= from {
        at = step(&at)?;
    }
    let mut buckets = Vec::new();
    while at.timestamp().as_millisecond() < to {
        let next = step(&at)?;
        let start = at.timestamp().as_millisecond().max(from);
        let end = next.timestamp().as_millisecond().min(to);
        let label = match interval {
            Interval::Hour => at.strftime("%Y-%m-%d %H:%M %:z").to_string(),
            Interval::Day | Interval::Week => at.strftime("%Y-%m-%d").to_string(),
            Interval::Month => at.strftime("%Y-%m").to_string(),
        };
        buckets.push(Bucket { start, end, label });
        if buckets.len() > 10_000 {
            return Err(Refusal::validation("too many buckets: choose a longer interval"));
        }
        at = next;
    }
    Ok(buckets)
}

/// The half-open period `[from, to)` a query names, and its zone's name.
fn period(query: &ReportQuery) -> Outcome<(Millis, Millis, String)> {
    let name = query.time_zone.clone().unwrap_or_else(|| "UTC".into());
    let zone =
        calendar::time_zone(&name).ok_or_else(|| Refusal::validation(format!("tz: no time zone {name}")))?;
    let from = instant(&query.from, &zone, "from")?;
    let to = instant(&query.to, &zone, "to")?;
    if to <= from {
        return Err(Refusal::validation("to must be after from"));
    }
    if to - from > 366 * 86_400_000 {
        return Err(Refusal::validation("a report covers at most 366 days"));
    }
    Ok((from, to, name))
}

/// Which facts a viewer's report may count: an admin all; a lead those of the inboxes they see;
/// an agent those of the inboxes they see (their own when grouped by agent: no one else's row).
/// As a scan's filter: the inboxes (`None`: all) and the one agent.
fn allowed(
    store: &(impl StoreRead + ?Sized),
    viewer: &Viewer,
    group_by: GroupBy,
) -> Outcome<(Option<BTreeSet<Id>>, Option<Id>)> {
    let visibility = super::feed::visibility(store, &viewer.agent)?;
    let own_only = viewer.agent.role == Role::Agent && group_by == GroupBy::Agent;
    let inboxes = match visibility.inboxes {
        VisibleInboxes::All => None,
        // An inbox that shows the viewer only some of its conversations counts only in their own
        // row: its totals would tell of conversations they may not see.
        VisibleInboxes::Only(ids) => {
            Some(ids.into_iter().filter(|id| own_only || !visibility.modes.contains_key(id)).collect())
        }
    };
    Ok((inboxes, own_only.then_some(viewer.agent.id)))
}

/// The same filter as a predicate over whole facts (the drill-down's cycles).
fn allows(filter: &(Option<BTreeSet<Id>>, Option<Id>), fact: &ReportFact) -> bool {
    filter.0.as_ref().is_none_or(|inboxes| inboxes.contains(&fact.inbox_id))
        && (filter.1.is_none() || fact.agent_id == filter.1)
}

/// A scan of `[from, to)` in buckets starting at `starts`, for a viewer's filter.
fn scan(
    from: Millis,
    to: Millis,
    starts: Vec<Millis>,
    group_by: GroupBy,
    (inboxes, agent): &(Option<BTreeSet<Id>>, Option<Id>),
) -> Scan {
    Scan { from, to, starts, group_by, inboxes: inboxes.clone(), agent: *agent }
}

/// The keys a fact counts under, for a grouping (`None`: the "none" group; a fact with several
/// labels counts under each).
fn keys(fact: &ReportFact, group_by: GroupBy) -> Vec<Option<String>> {
    match group_by {
        GroupBy::None => vec![None],
        GroupBy::Agent => vec![fact.agent_id.map(|id| id.to_string())],
        GroupBy::Team => vec![fact.team_id.map(|id| id.to_string())],
        GroupBy::Inbox => vec![Some(fact.inbox_id.to_string())],
        GroupBy::Channel => vec![Some(fact.channel.as_str().to_owned())],
        GroupBy::Label if fact.labels.is_empty() => vec![None],
        GroupBy::Label => fact.labels.iter().map(|label| Some(label.clone())).collect(),
    }
}

/// The durations of one metric, gathered before their distribution is computed.
#[derive(Default)]
struct Gathered {
    wall: Vec<Millis>,
    business: Vec<Millis>,
}

impl Gathered {
    fn add(&mut self, fact: &ReportFact) {
        self.wall.push(fact.wall_ms);
        self.business.push(fact.business_ms);
    }

    /// The time a resolved cycle was actually open (wall time only: no business figure).
    fn add_open(&mut self, fact: &ReportFact) {
        self.wall.push(fact.open_ms);
    }

    fn durations(mut self) -> Durations {
        Durations {
            count: self.wall.len() as u64,
            wall: distribution(&mut self.wall),
            business: distribution(&mut self.business),
        }
    }
}

#[derive(Default)]
struct Group {
    metrics: Metrics,
    resolved: BTreeSet<Id>,
    first_response: Gathered,
    response: Gathered,
    resolution: Gathered,
    resolution_open: Gathered,
    assignment_to_first_reply: Gathered,
    sla: crate::facts::SlaTally,
}

/// Aggregates facts into rows, one per key, in key order (the "none" group last).
fn aggregate<'a>(
    facts: impl Iterator<Item = &'a ReportFact>,
    group_by: GroupBy,
) -> BTreeMap<Option<String>, Metrics> {
    let mut groups: BTreeMap<Option<String>, Group> = BTreeMap::new();
    for fact in facts {
        for key in keys(fact, group_by) {
            let group = groups.entry(key).or_default();
            let m = &mut group.metrics;
            match fact.kind {
                FactKind::CycleStarted => {
                    m.cycles_started += 1;
                    if fact.origin == Origin::Customer {
                        m.cycles_started_by_customers += 1;
                    }
                }
                FactKind::Reopened => m.reopened += 1,
                FactKind::MessageIn => m.messages_in += 1,
                FactKind::MessageOut => m.messages_out += 1,
                FactKind::FirstResponse => group.first_response.add(fact),
                FactKind::Response => group.response.add(fact),
                FactKind::Resolution => {
                    m.resolutions += 1;
                    group.resolved.insert(fact.conversation_id);
                    group.resolution.add(fact);
                    group.resolution_open.add_open(fact);
                }
                FactKind::AssignmentToFirstReply => group.assignment_to_first_reply.add(fact),
                FactKind::SlaFirstResponseMet
                | FactKind::SlaFirstResponseBreached
                | FactKind::SlaNextResponseMet
                | FactKind::SlaNextResponseBreached
                | FactKind::SlaResolutionMet
                | FactKind::SlaResolutionBreached => group.sla.add(fact.kind, 1),
            }
        }
    }
    groups
        .into_iter()
        .map(|(key, group)| {
            let mut metrics = group.metrics;
            metrics.conversations_resolved = group.resolved.len() as u64;
            metrics.first_response = group.first_response.durations();
            metrics.response = group.response.durations();
            metrics.resolution = group.resolution.durations();
            metrics.resolution_open = group.resolution_open.durations();
            metrics.assignment_to_first_reply = group.assignment_to_first_reply.durations();
            group.sla.fill(&mut metrics);
            (key, metrics)
        })
        .collect()
}

/// What a cycle's export row reads from the ledger beyond its facts: who held it first, and its
/// SLA clocks' policy, targets and outcomes (a clock running or cancelled has no fact).
#[derive(Default)]
struct CycleLedger {
    first_assignee: Option<(Id, Millis)>,
    policy: Option<Id>,
    /// Per target (`SlaMetric as usize`): its target and the last clock's (instance, outcome).
    targets: [Option<Millis>; 3],
    outcomes: [Option<(u32, SlaOutcome)>; 3],
}

/// The kinds of event [`cycle_ledgers`] reads (a conversation's messages are most of its ledger).
const CYCLE_LEDGER_KINDS: [&str; 4] = ["created", "reopened", "assigned", "sla"];

/// Walks a conversation's ledger (oldest first) into its cycles' [`CycleLedger`]s.
fn cycle_ledgers(events: &[ConversationEvent]) -> BTreeMap<u32, CycleLedger> {
    let mut cycles: BTreeMap<u32, CycleLedger> = BTreeMap::new();
    let mut assignee: Option<Id> = None;
    for event in events {
        match &event.event {
            EventKind::Created { .. } | EventKind::Reopened => {
                let cycle = cycles.entry(event.cycle).or_default();
                cycle.first_assignee = assignee.map(|agent| (agent, event.at));
            }
            EventKind::Assigned { to, .. } => {
                assignee = *to;
                let cycle = cycles.entry(event.cycle).or_default();
                if cycle.first_assignee.is_none() {
                    cycle.first_assignee = to.map(|agent| (agent, event.at));
                }
            }
            EventKind::Sla { policy_id, metric, instance, what, target_ms, .. } => {
                let cycle = cycles.entry(event.cycle).or_default();
                let target = *metric as usize;
                let word = match what.as_str() {
                    "started" => SlaOutcome::Running,
                    "met" => SlaOutcome::Met,
                    "breached" | "breached_met" | "breached_closed" => SlaOutcome::Breached,
                    "cancelled" => SlaOutcome::Cancelled,
                    _ => continue,
                };
                if word == SlaOutcome::Running {
                    cycle.policy = Some(*policy_id);
                    cycle.targets[target] = Some(*target_ms);
                }
                let outcome = &mut cycle.outcomes[target];
                match outcome {
                    // A clock's first decisive word stands (a breach answered later stays one).
                    Some((last, decided)) if *last == *instance && *decided != SlaOutcome::Running => {
                        continue
                    }
                    Some((last, _)) if *last > *instance => continue,
                    _ => *outcome = Some((*instance, word)),
                }
            }
            _ => {}
        }
    }
    cycles
}

/// Names looked up once per export.
#[derive(Default)]
struct Names {
    known: BTreeMap<Id, String>,
}

impl Names {
    fn lookup<T: crate::store::Entity>(
        &mut self,
        store: &(impl StoreRead + ?Sized),
        id: Id,
        name: impl Fn(T) -> String,
    ) -> Outcome<String> {
        if let Some(found) = self.known.get(&id) {
            return Ok(found.clone());
        }
        let found = store.get::<T>(id)?.map_or_else(|| id.to_string(), name);
        self.known.insert(id, found.clone());
        Ok(found)
    }

    fn inbox(&mut self, store: &(impl StoreRead + ?Sized), id: Id) -> Outcome<String> {
        self.lookup::<Inbox>(store, id, |inbox| inbox.name)
    }

    fn team(&mut self, store: &(impl StoreRead + ?Sized), id: Id) -> Outcome<String> {
        self.lookup::<Team>(store, id, |team| team.name)
    }

    fn agent(&mut self, store: &(impl StoreRead + ?Sized), id: Id) -> Outcome<String> {
        self.lookup::<Agent>(store, id, |agent| agent.name)
    }

    /// A policy's name now; for a deleted one, the name it was applied under when the
    /// conversation still knows it (else its id).
    fn policy(
        &mut self,
        store: &(impl StoreRead + ?Sized),
        id: Id,
        applied: Option<&sla::ConversationSla>,
    ) -> Outcome<String> {
        if let Some(found) = self.known.get(&id) {
            return Ok(found.clone());
        }
        let found = match store.get::<sla::SlaPolicy>(id)? {
            Some(policy) => policy.name,
            None => applied
                .filter(|sla| sla.policy_id == Some(id))
                .map_or_else(|| id.to_string(), |sla| sla.policy_name.clone()),
        };
        self.known.insert(id, found.clone());
        Ok(found)
    }
}

/// A group's readable name.
fn name_of(store: &(impl StoreRead + ?Sized), group_by: GroupBy, key: &Option<String>) -> Outcome<String> {
    let Some(key) = key else {
        return Ok(match group_by {
            GroupBy::None => "All".into(),
            GroupBy::Agent => "Unassigned".into(),
            GroupBy::Team => "No team".into(),
            GroupBy::Label => "No label".into(),
            GroupBy::Inbox | GroupBy::Channel => String::new(),
        });
    };
    let id = key.parse::<Id>().ok();
    Ok(match (group_by, id) {
        (GroupBy::Agent, Some(id)) => store.get::<Agent>(id)?.map_or_else(|| key.clone(), |a| a.name),
        (GroupBy::Team, Some(id)) => store.get::<Team>(id)?.map_or_else(|| key.clone(), |t| t.name),
        (GroupBy::Inbox, Some(id)) => store.get::<Inbox>(id)?.map_or_else(|| key.clone(), |i| i.name),
        _ => key.clone(),
    })
}

fn rows(
    store: &(impl StoreRead + ?Sized),
    group_by: GroupBy,
    groups: BTreeMap<Option<String>, Metrics>,
) -> Outcome<Vec<ReportRow>> {
    let mut rows = Vec::with_capacity(groups.len());
    let (named, none): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(key, _)| key.is_some());
    for (key, metrics) in named.into_iter().chain(none) {
        rows.push(ReportRow { name: name_of(store, group_by, &key)?, key, metrics });
    }
    Ok(rows)
}

impl Workspace {
    /// Derives the stale conversations' facts, in a write of its own: the report then aggregates
    /// in a read snapshot, so a report over a million facts never holds the writer (customer
    /// messages would wait behind it). It counts what was committed when it read.
    async fn refresh_reports(&self) -> Outcome<()> {
        self.write(|tx| refresh(tx, true).map(|_| ())).await
    }

    /// `GET /reports/summary`: the period's figures per group, and the period before it.
    pub async fn report_summary(&self, viewer: &Viewer, query: ReportQuery) -> Outcome<ReportSummary> {
        let (from, to, time_zone) = period(&query)?;
        let viewer = viewer.clone();
        let group_by = query.group_by;
        self.refresh_reports().await?;
        self.read(move |store| {
            let filter = allowed(store, &viewer, group_by)?;
            let length = to - from;
            let mut now = store.report_scan(&scan(from, to, vec![from], group_by, &filter))?;
            let mut before =
                store.report_scan(&scan(from - length, from, vec![from - length], group_by, &filter))?;
            // An agent's own row alone says nothing of how they compare: beside it, everything
            // they may see in one row with no one named (the design's "team aggregates without
            // per-agent rows"), through the filter anyone ungrouped by agent gets.
            let team_totals = match filter.1 {
                Some(_) => {
                    let team = allowed(store, &viewer, GroupBy::None)?;
                    let total = |from: Millis, to: Millis| -> Outcome<Metrics> {
                        let mut groups =
                            store.report_scan(&scan(from, to, vec![from], GroupBy::None, &team))?;
                        Ok(groups.pop().and_then(|mut groups| groups.remove(&None)).unwrap_or_default())
                    };
                    Some(TeamTotals { now: total(from, to)?, previous: total(from - length, from)? })
                }
                None => None,
            };
            Ok(ReportSummary {
                from,
                to,
                time_zone,
                group_by,
                rows: rows(store, group_by, now.pop().unwrap_or_default())?,
                previous: rows(store, group_by, before.pop().unwrap_or_default())?,
                team_totals,
            })
        })
        .await
    }

    /// `GET /reports/timeseries`: the period's figures per bucket and group, every group in every
    /// bucket (zeros included).
    pub async fn report_series(
        &self,
        viewer: &Viewer,
        query: ReportQuery,
        interval: Interval,
    ) -> Outcome<ReportSeries> {
        let (from, to, time_zone) = period(&query)?;
        let zone = calendar::time_zone(&time_zone).ok_or_else(|| Refusal::validation("tz: unknown"))?;
        let buckets = buckets(from, to, &zone, interval)?;
        let viewer = viewer.clone();
        let group_by = query.group_by;
        self.refresh_reports().await?;
        self.read(move |store| {
            let filter = allowed(store, &viewer, group_by)?;
            let starts = buckets.iter().map(|bucket| bucket.start).collect();
            let per_bucket = store.report_scan(&scan(from, to, starts, group_by, &filter))?;
            let keys: BTreeSet<Option<String>> =
                per_bucket.iter().flat_map(|groups| groups.keys().cloned()).collect();
            let (named, none): (Vec<_>, Vec<_>) = keys.into_iter().partition(Option::is_some);
            let mut rows = Vec::new();
            for key in named.into_iter().chain(none) {
                let points =
                    per_bucket.iter().map(|groups| groups.get(&key).cloned().unwrap_or_default()).collect();
                rows.push(SeriesRow { name: name_of(store, group_by, &key)?, key, points });
            }
            Ok(ReportSeries { from, to, time_zone, interval, group_by, buckets, rows })
        })
        .await
    }

    /// The store's aggregation of a period beside the plain one over every fact of it (the
    /// definitions' reference: `aggregate`), for a grouping, bucket starts and an agent's own
    /// figures; both must be equal. For the exactness tests.
    #[doc(hidden)]
    pub async fn report_aggregation_both_ways(
        &self,
        from: Millis,
        to: Millis,
        starts: Vec<Millis>,
        group_by: GroupBy,
        agent: Option<Id>,
    ) -> Outcome<(Buckets, Buckets)> {
        self.refresh_reports().await?;
        self.read(move |store| {
            let scan = scan(from, to, starts, group_by, &(None, agent));
            let stored = store.report_scan(&scan)?;
            let facts = store.report_facts(from, to)?;
            let plain = (0..scan.starts.len())
                .map(|bucket| {
                    aggregate(
                        facts.iter().filter(|fact| {
                            scan.bucket(fact.at) == Some(bucket)
                                && (agent.is_none() || fact.agent_id == agent)
                        }),
                        group_by,
                    )
                })
                .collect();
            Ok((stored, plain))
        })
        .await
    }

    /// The stored rollups beside the ones a fresh build from every stored fact gives; both must
    /// be equal (no row of zeros left either). For the test that they never drift.
    #[doc(hidden)]
    pub async fn report_rollups_both_ways(
        &self,
    ) -> Outcome<(Vec<(RollupKey, Counts)>, Vec<(RollupKey, Counts)>)> {
        self.refresh_reports().await?;
        self.read(move |store| {
            let stored = store.report_rollups()?;
            let fresh = crate::facts::rollup_deltas(&[], &store.report_facts(Millis::MIN, Millis::MAX)?);
            Ok((stored, fresh))
        })
        .await
    }

    /// The stored spreads of the duration facts beside the ones a fresh build from every stored
    /// fact gives; both must be equal (no empty row left either). For the test that they never
    /// drift.
    #[doc(hidden)]
    pub async fn report_spreads_both_ways(
        &self,
    ) -> Outcome<(Vec<(SpreadKey, Spread)>, Vec<(SpreadKey, Spread)>)> {
        self.refresh_reports().await?;
        self.read(move |store| {
            let stored = store.report_spreads()?;
            let fresh = crate::facts::fresh_spreads(&store.report_facts(Millis::MIN, Millis::MAX)?);
            Ok((stored, fresh))
        })
        .await
    }

    /// Moves one of a conversation's stored facts to `at` (as a derivation that dated it
    /// differently would): the rollups must follow it out of its hour and day. For that test.
    #[doc(hidden)]
    pub async fn report_fact_moved(&self, conversation: Id, index: usize, at: Millis) -> Outcome<()> {
        self.write(move |tx| {
            let mut facts = tx.conversation_report_facts(conversation)?;
            let fact = facts.get_mut(index).ok_or_else(|| Refusal::validation("no such fact"))?;
            fact.at = at;
            Ok(tx.replace_report_facts(&[(conversation, facts)], true)?)
        })
        .await
    }

    /// `GET /reports/conversations`: one row per cycle started in the period, with what became of
    /// it so far (its first response and resolution may fall after the period); or, for another
    /// `metric`, one row per cycle with such a fact in the period (a chart's bar drilled into:
    /// those cycles may have started before it).
    pub async fn report_cycles(
        &self,
        viewer: &Viewer,
        query: ReportQuery,
        metric: CycleMetric,
    ) -> Outcome<Vec<CycleRow>> {
        let (from, to, _) = period(&query)?;
        let viewer = viewer.clone();
        self.refresh_reports().await?;
        self.read(move |store| {
            let filter = allowed(store, &viewer, GroupBy::None)?;
            let allowed = |fact: &ReportFact| allows(&filter, fact);
            let mut cycles: BTreeMap<(Id, u32), Vec<ReportFact>> = BTreeMap::new();
            let kind = match metric {
                CycleMetric::Started => FactKind::CycleStarted,
                CycleMetric::MessagesIn => FactKind::MessageIn,
                CycleMetric::FirstResponse => FactKind::FirstResponse,
                CycleMetric::Resolution => FactKind::Resolution,
            };
            // The cycles with such a fact in the period (for `started`, the cycles started in
            // it), then their conversations' facts, contacts and conversations read in batches
            // (a few queries per thousand rows, not two reads a row).
            let wanted: BTreeSet<(Id, u32)> = store
                .report_facts_of_kind(kind, from, to)?
                .into_iter()
                .filter(|f| allowed(f))
                .map(|f| (f.conversation_id, f.cycle))
                .collect();
            let conversations: Vec<Id> =
                wanted.iter().map(|(id, _)| *id).collect::<BTreeSet<Id>>().into_iter().collect();
            // Cycles started in the period have no fact before it; a drill-down's may.
            let since = if metric == CycleMetric::Started { from } else { Millis::MIN };
            for fact in store.report_facts_of(&conversations, since)? {
                if wanted.contains(&(fact.conversation_id, fact.cycle)) && allowed(&fact) {
                    cycles.entry((fact.conversation_id, fact.cycle)).or_default().push(fact);
                }
            }
            let mut contacts: BTreeMap<Id, Id> = BTreeMap::new();
            let mut people: BTreeMap<Id, Contact> = BTreeMap::new();
            let mut applied: BTreeMap<Id, sla::ConversationSla> = BTreeMap::new();
            for batch in conversations.chunks(CSV_BATCH) {
                for conversation in store.get_many::<Conversation>(batch)? {
                    contacts.insert(conversation.id, conversation.contact_id);
                    if let Some(sla) = conversation.sla {
                        applied.insert(conversation.id, sla);
                    }
                }
                let wanted_contacts: Vec<Id> = batch
                    .iter()
                    .filter_map(|id| contacts.get(id).copied())
                    .filter(|id| !people.contains_key(id))
                    .collect::<BTreeSet<Id>>()
                    .into_iter()
                    .collect();
                for contact in store.get_many::<Contact>(&wanted_contacts)? {
                    people.insert(contact.id, contact);
                }
            }
            for facts in cycles.values_mut() {
                // By time, the order of derivation within an instant (a stable sort).
                facts.sort_by_key(|f| f.at);
            }
            // Each conversation's ledger, read a batch at a time: one query per conversation was
            // 9,000 round trips for the bench's 10,000-row CSV on PostgreSQL.
            let mut events: BTreeMap<Id, Vec<ConversationEvent>> = BTreeMap::new();
            let with_cycles: Vec<Id> =
                cycles.keys().map(|(id, _)| *id).collect::<BTreeSet<Id>>().into_iter().collect();
            for batch in with_cycles.chunks(CSV_BATCH) {
                for event in store.events_of_many(batch, &CYCLE_LEDGER_KINDS)? {
                    events.entry(event.conversation_id).or_default().push(event);
                }
            }
            let mut names: Names = Names::default();
            let mut rows = Vec::new();
            let mut ledgers: BTreeMap<u32, CycleLedger> = BTreeMap::new();
            let mut ledger_of: Option<Id> = None;
            for ((conversation_id, cycle), facts) in cycles {
                let in_period = |f: &&ReportFact| f.kind == kind && f.at >= from && f.at < to;
                if !facts.iter().any(|f| in_period(&f)) {
                    continue;
                }
                let Some(started) = facts.iter().find(|f| f.kind == FactKind::CycleStarted) else {
                    continue;
                };
                let first = facts.iter().find(|f| f.kind == FactKind::FirstResponse);
                let resolution = facts.iter().find(|f| f.kind == FactKind::Resolution);
                let last = facts.iter().max_by_key(|f| f.at).unwrap_or(started);
                let contact = contacts.get(&conversation_id).and_then(|id| people.get(id));
                let secs = |ms: Millis| ms / 1000;
                // The ledger once per conversation (its cycles come in a row).
                if ledger_of != Some(conversation_id) {
                    ledgers = cycle_ledgers(&events.remove(&conversation_id).unwrap_or_default());
                    ledger_of = Some(conversation_id);
                }
                let ledger = ledgers.remove(&cycle).unwrap_or_default();
                let assignment = facts.iter().find(|f| f.kind == FactKind::AssignmentToFirstReply);
                let count = |kind: FactKind| facts.iter().filter(|f| f.kind == kind).count() as u64;
                let target = |metric: sla::SlaMetric| ledger.targets[metric as usize].map(secs);
                let outcome = |metric: sla::SlaMetric| ledger.outcomes[metric as usize].map(|(_, o)| o);
                let sla_policy = match ledger.policy {
                    Some(policy) => Some(names.policy(store, policy, applied.get(&conversation_id))?),
                    None => None,
                };
                let (first_assignee, first_assigned_at) = match ledger.first_assignee {
                    Some((agent, at)) => (Some(names.agent(store, agent)?), Some(at)),
                    None => (None, None),
                };
                rows.push(CycleRow {
                    conversation_id,
                    cycle,
                    inbox: names.inbox(store, started.inbox_id)?,
                    channel: started.channel,
                    contact_name: contact.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                    contact_phone: contact.as_ref().and_then(|c| c.phone.clone()),
                    contact_email: contact.as_ref().and_then(|c| c.email.clone()),
                    origin: started.origin,
                    team: match last.team_id {
                        Some(team) => Some(names.team(store, team)?),
                        None => None,
                    },
                    labels: last.labels.clone(),
                    assignee: match resolution.unwrap_or(last).agent_id {
                        Some(agent) => Some(names.agent(store, agent)?),
                        None => None,
                    },
                    started_at: started.at,
                    first_reply_at: first.map(|f| f.at),
                    first_response_secs: first.map(|f| secs(f.wall_ms)),
                    first_response_business_secs: first.map(|f| secs(f.business_ms)),
                    resolved_at: resolution.map(|f| f.at),
                    resolution_secs: resolution.map(|f| secs(f.wall_ms)),
                    resolution_business_secs: resolution.map(|f| secs(f.business_ms)),
                    resolution_open_secs: resolution.map(|f| secs(f.open_ms)),
                    replies: count(FactKind::MessageOut),
                    reopened: cycle > 1,
                    first_assignee,
                    first_assigned_at,
                    assignments_answered: count(FactKind::AssignmentToFirstReply),
                    assignment_to_first_reply_secs: assignment.map(|f| secs(f.wall_ms)),
                    assignment_to_first_reply_business_secs: assignment.map(|f| secs(f.business_ms)),
                    sla_policy,
                    sla_first_response_target_secs: target(sla::SlaMetric::FirstResponse),
                    sla_first_response: outcome(sla::SlaMetric::FirstResponse),
                    sla_first_response_met: count(FactKind::SlaFirstResponseMet),
                    sla_first_response_breached: count(FactKind::SlaFirstResponseBreached),
                    sla_next_response_target_secs: target(sla::SlaMetric::NextResponse),
                    sla_next_response: outcome(sla::SlaMetric::NextResponse),
                    sla_next_response_met: count(FactKind::SlaNextResponseMet),
                    sla_next_response_breached: count(FactKind::SlaNextResponseBreached),
                    sla_resolution_target_secs: target(sla::SlaMetric::Resolution),
                    sla_resolution: outcome(sla::SlaMetric::Resolution),
                    sla_resolution_met: count(FactKind::SlaResolutionMet),
                    sla_resolution_breached: count(FactKind::SlaResolutionBreached),
                });
            }
            rows.sort_by_key(|row| (row.started_at, row.conversation_id, row.cycle));
            Ok(rows)
        })
        .await
    }

    /// `GET /reports/live`: open, unassigned, unattended, waiting longer than `waiting_secs`, parked
    /// and SLA clocks due within `within_secs`, over the unresolved conversations the viewer sees.
    pub async fn live_figures(
        &self,
        viewer: &Viewer,
        waiting_secs: u64,
        within_secs: u64,
    ) -> Outcome<LiveFigures> {
        let viewer = viewer.clone();
        self.read(move |store| {
            let visibility = super::feed::visibility(store, &viewer.agent)?;
            let now = store.now();
            let waiting_ms = Millis::try_from(waiting_secs.saturating_mul(1000)).unwrap_or(Millis::MAX);
            let within_ms = Millis::try_from(within_secs.saturating_mul(1000)).unwrap_or(Millis::MAX);
            let mut live = LiveFigures {
                waiting_longer_than_secs: waiting_secs,
                sla_at_risk_within_secs: within_secs,
                ..Default::default()
            };
            for conversation in store.unresolved_conversations()? {
                if !visibility.inboxes.contains(&conversation.inbox_id)
                    || !visibility.shows_conversation(conversation.id)
                {
                    continue;
                }
                let open = conversation.status == ConversationStatus::Open;
                live.open += u64::from(open);
                live.parked += u64::from(!open);
                live.unassigned += u64::from(open && conversation.assignee_id.is_none());
                live.unattended += u64::from(is_unattended(&conversation));
                if let (true, Some(since)) = (open, conversation.waiting_since) {
                    let waited = (now - since).max(0);
                    live.waiting_longer += u64::from(waited > waiting_ms);
                    live.longest_wait_secs = live.longest_wait_secs.max((waited / 1000) as u64);
                }
                let due =
                    conversation.sla.as_ref().and_then(|sla| sla.next_due()).and_then(|clock| clock.due_at);
                live.sla_at_risk += u64::from(due.is_some_and(|due| due <= now.saturating_add(within_ms)));
            }
            Ok(live)
        })
        .await
    }

    /// `POST /reports/rebuild` (admins): every conversation's facts derived again from its ledger,
    /// then the rollups and spreads built from them once (not changed conversation by conversation,
    /// which rewrote each day's rows once per conversation with a fact in it).
    pub async fn rebuild_reports(&self, viewer: &Viewer) -> Outcome<ReportsRebuilt> {
        crate::policy::require_admin(viewer)?;
        self.write(|tx| {
            tx.mark_all_reports_stale()?;
            let conversations = refresh(tx, false)?;
            tx.roll_up_report_facts()?;
            Ok(ReportsRebuilt { conversations })
        })
        .await
    }
}

/// Cells a spreadsheet would run as a formula get a leading `'` (OWASP's CSV-injection advice).
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn duration_cells(durations: &Durations) -> Vec<String> {
    let mut cells = vec![durations.count.to_string()];
    for distribution in [durations.wall, durations.business] {
        match distribution {
            Some(d) => cells.extend([d.mean, d.median, d.p90, d.min, d.max].map(|v| v.to_string())),
            None => cells.extend(std::iter::repeat_n(String::new(), 5)),
        }
    }
    cells
}

/// The metric columns of a CSV row, in header order.
fn metric_header() -> Vec<String> {
    let mut header: Vec<String> = [
        "cycles_started",
        "cycles_started_by_customers",
        "messages_in",
        "messages_out",
        "resolutions",
        "conversations_resolved",
        "reopened",
    ]
    .map(str::to_owned)
    .to_vec();
    for metric in ["first_response", "response", "resolution", "resolution_open", "assignment_to_first_reply"]
    {
        header.push(format!("{metric}_count"));
        for time in ["wall", "business"] {
            for stat in ["mean", "median", "p90", "min", "max"] {
                header.push(format!("{metric}_{time}_{stat}_s"));
            }
        }
    }
    for target in ["sla_first_response", "sla_next_response", "sla_resolution"] {
        for figure in ["met", "breached", "within_target_permille"] {
            header.push(format!("{target}_{figure}"));
        }
    }
    header
}

fn metric_cells(m: &Metrics) -> Vec<String> {
    let mut record: Vec<String> = [
        m.cycles_started,
        m.cycles_started_by_customers,
        m.messages_in,
        m.messages_out,
        m.resolutions,
        m.conversations_resolved,
        m.reopened,
    ]
    .map(|v| v.to_string())
    .to_vec();
    for durations in
        [&m.first_response, &m.response, &m.resolution, &m.resolution_open, &m.assignment_to_first_reply]
    {
        record.extend(duration_cells(durations));
    }
    for outcomes in [&m.sla_first_response, &m.sla_next_response, &m.sla_resolution] {
        record.extend([
            outcomes.met.to_string(),
            outcomes.breached.to_string(),
            outcomes.within_target_permille.map(|v| v.to_string()).unwrap_or_default(),
        ]);
    }
    record
}

/// Writes CSV records (RFC 4180) after an optional byte-order mark (for Excel).
fn write_csv(header: Vec<String>, records: impl Iterator<Item = Vec<String>>, bom: bool) -> Outcome<Vec<u8>> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = csv::Writer::from_writer(out);
    let failed = |e: csv::Error| Refusal::internal(e);
    writer.write_record(&header).map_err(failed)?;
    for record in records {
        writer.write_record(&record).map_err(failed)?;
    }
    writer.into_inner().map_err(|e| Refusal::internal(e.to_string()))
}

/// The summary's rows as CSV: integer seconds, the same numbers as the JSON (written from the same
/// `ReportSummary`), formula cells neutralised.
pub fn summary_csv(summary: &ReportSummary, bom: bool) -> Outcome<Vec<u8>> {
    let mut header = vec!["group".to_owned(), "key".to_owned()];
    header.extend(metric_header());
    let record = |name: &str, key: &str, metrics: &Metrics| {
        let mut record = vec![cell(name), key.to_owned()];
        record.extend(metric_cells(metrics));
        record
    };
    let records = summary
        .rows
        .iter()
        .map(|row| record(&row.name, row.key.as_deref().unwrap_or_default(), &row.metrics))
        // An agent's team totals (the JSON's `team_totals.now`) last, keyed `*`: no group's key.
        .chain(summary.team_totals.iter().map(|team| record("Team totals", "*", &team.now)));
    write_csv(header, records, bom)
}

/// The cycles as CSV, one row each (the same rows as the JSON); labels joined with `|`.
pub fn cycles_csv(rows: &[CycleRow], bom: bool) -> Outcome<Vec<u8>> {
    let header = [
        "conversation_id",
        "cycle",
        "inbox",
        "channel",
        "contact_name",
        "contact_phone",
        "contact_email",
        "origin",
        "team",
        "labels",
        "assignee",
        "started_at",
        "first_reply_at",
        "first_response_s",
        "first_response_business_s",
        "resolved_at",
        "resolution_s",
        "resolution_business_s",
        "resolution_open_s",
        "replies",
        "reopened",
        "first_assignee",
        "first_assigned_at",
        "assignments_answered",
        "assignment_to_first_reply_s",
        "assignment_to_first_reply_business_s",
        "sla_policy",
        "sla_first_response_target_s",
        "sla_first_response",
        "sla_first_response_met",
        "sla_first_response_breached",
        "sla_next_response_target_s",
        "sla_next_response",
        "sla_next_response_met",
        "sla_next_response_breached",
        "sla_resolution_target_s",
        "sla_resolution",
        "sla_resolution_met",
        "sla_resolution_breached",
    ]
    .map(str::to_owned)
    .to_vec();
    let outcome = |o: Option<SlaOutcome>| o.map(|o| o.as_str().to_owned()).unwrap_or_default();
    let text = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    let instant = |at: Option<Millis>| {
        at.and_then(|at| jiff::Timestamp::from_millisecond(at).ok())
            .map(|at| at.to_string())
            .unwrap_or_default()
    };
    let records = rows.iter().map(|row| {
        vec![
            row.conversation_id.to_string(),
            row.cycle.to_string(),
            cell(&row.inbox),
            row.channel.as_str().to_owned(),
            cell(&row.contact_name),
            cell(row.contact_phone.as_deref().unwrap_or_default()),
            cell(row.contact_email.as_deref().unwrap_or_default()),
            match row.origin {
                Origin::Customer => "customer".to_owned(),
                Origin::Agent => "agent".to_owned(),
            },
            cell(row.team.as_deref().unwrap_or_default()),
            cell(&row.labels.join("|")),
            cell(row.assignee.as_deref().unwrap_or_default()),
            instant(Some(row.started_at)),
            instant(row.first_reply_at),
            text(row.first_response_secs),
            text(row.first_response_business_secs),
            instant(row.resolved_at),
            text(row.resolution_secs),
            text(row.resolution_business_secs),
            text(row.resolution_open_secs),
            row.replies.to_string(),
            row.reopened.to_string(),
            cell(row.first_assignee.as_deref().unwrap_or_default()),
            instant(row.first_assigned_at),
            row.assignments_answered.to_string(),
            text(row.assignment_to_first_reply_secs),
            text(row.assignment_to_first_reply_business_secs),
            cell(row.sla_policy.as_deref().unwrap_or_default()),
            text(row.sla_first_response_target_secs),
            outcome(row.sla_first_response),
            row.sla_first_response_met.to_string(),
            row.sla_first_response_breached.to_string(),
            text(row.sla_next_response_target_secs),
            outcome(row.sla_next_response),
            row.sla_next_response_met.to_string(),
            row.sla_next_response_breached.to_string(),
            text(row.sla_resolution_target_secs),
            outcome(row.sla_resolution),
            row.sla_resolution_met.to_string(),
            row.sla_resolution_breached.to_string(),
        ]
    });
    write_csv(header, records, bom)
}

/// The series as CSV: one row per group and bucket, zeros included.
pub fn series_csv(series: &ReportSeries, bom: bool) -> Outcome<Vec<u8>> {
    let mut header: Vec<String> =
        ["group", "key", "bucket", "bucket_start", "bucket_end"].map(str::to_owned).to_vec();
    header.extend(metric_header());
    let records = series.rows.iter().flat_map(|row| {
        series.buckets.iter().zip(&row.points).map(move |(bucket, metrics)| {
            let mut record = vec![
                cell(&row.name),
                row.key.clone().unwrap_or_default(),
                bucket.label.clone(),
                bucket.start.to_string(),
                bucket.end.to_string(),
            ];
            record.extend(metric_cells(metrics));
            record
        })
    });
    write_csv(header, records, bom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("Sara"), "Sara");
        assert_eq!(cell(""), "");
    }
}
