//! Routing and auto-assignment: conversations nobody holds, in inboxes whose routing is on, go to
//! an eligible agent the moment one has room, oldest waiting first. No polling: [`route`] runs
//! inside the transaction of every change that can make a conversation routable or give an agent
//! room (a customer writing, a status or assignee change, an agent coming online or connecting, a
//! capacity, membership or policy change), so the queue never waits on a cron.
//!
//! Eligible: active, a member of the inbox (and of the conversation's team, if it has one),
//! availability `online`, a stream open on some node, and fewer open conversations than their
//! capacity (across every inbox; pending, snoozed and resolved ones don't count). Picked: in
//! `least_loaded`, the fewest open conversations; in `round_robin`, the longest since their last
//! automatic assignment; ties by that rotation, then by agent id, so the same script on the same
//! data always gives the same assignments. Every write is serialised (SQLite's one writer,
//! PostgreSQL's feed lock), so two nodes or two triggers can never push an agent over capacity.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use switchboard_proto::{
    ledger::{Actor, EventKind, PassedOver, RoutingCandidate},
    *,
};

use super::{conversations::activity, ledger, Workspace};
use crate::{
    refusal::Outcome,
    rules,
    store::{StoreRead, StoreReadExt, StoreTx, TimerRecord},
};

/// Conversations looked at per inbox and pass: the queue's head. More than any team has agents
/// with room, so the pass stops for lack of agents long before it.
const QUEUE_WINDOW: usize = 500;

/// What routing knows of every agent during one pass.
struct Roster {
    agents: Arc<Vec<Agent>>,
    loads: HashMap<Id, u32>,
    turns: HashMap<Id, i64>,
    connected: HashSet<Id>,
    next_turn: i64,
}

/// Every agent, by id.
fn agents_by_id(store: &(impl StoreRead + ?Sized)) -> Outcome<Vec<Agent>> {
    let mut agents: Vec<Agent> = store.all()?;
    agents.sort_by_key(|agent| agent.id);
    Ok(agents)
}

impl Roster {
    fn read(store: &(impl StoreRead + ?Sized)) -> Outcome<Roster> {
        let agents = Arc::new(agents_by_id(store)?);
        Self::with_agents(store, agents)
    }

    /// [`Roster::read`] in a write, the agents kept between writes until one changes (`cached.rs`).
    fn read_tx(tx: &dyn StoreTx) -> Outcome<Roster> {
        let agents = super::cached::agents(tx, |tx| agents_by_id(tx))?;
        Self::with_agents(tx, agents)
    }

    fn with_agents(store: &(impl StoreRead + ?Sized), agents: Arc<Vec<Agent>>) -> Outcome<Roster> {
        let loads = store
            .open_loads()?
            .into_iter()
            .map(|(agent, load)| (agent, u32::try_from(load).unwrap_or(u32::MAX)))
            .collect();
        let turns: HashMap<Id, i64> = store.routing_turns()?.into_iter().collect();
        let next_turn = turns.values().copied().max().unwrap_or(0) + 1;
        let connected = store.streaming_agents()?.into_iter().collect();
        Ok(Roster { agents, loads, turns, connected, next_turn })
    }

    fn load(&self, agent: Id) -> u32 {
        self.loads.get(&agent).copied().unwrap_or(0)
    }

    /// Why `agent` can't take `conversation` now, or `None` if they can.
    fn passed_over(
        &self,
        agent: &Agent,
        conversation: &Conversation,
        inbox: &Inbox,
        released: Option<Id>,
    ) -> Option<PassedOver> {
        self.passed_over_after(agent, conversation, inbox, released, &[])
    }

    /// [`Self::passed_over`], also passing over those who didn't reply to it this cycle.
    fn passed_over_after(
        &self,
        agent: &Agent,
        conversation: &Conversation,
        inbox: &Inbox,
        released: Option<Id>,
        did_not_reply: &[Id],
    ) -> Option<PassedOver> {
        let load = self.load(agent.id);
        if !agent.active {
            Some(PassedOver::Inactive)
        } else if !rules::is_inbox_member(agent, inbox) {
            Some(PassedOver::NotInInbox)
        } else if conversation.team_id.is_some_and(|team| !agent.team_ids.contains(&team)) {
            Some(PassedOver::NotInTeam)
        } else if released == Some(agent.id) {
            Some(PassedOver::Released)
        } else if did_not_reply.contains(&agent.id) {
            Some(PassedOver::DidNotReply)
        } else if agent.availability != Availability::Online {
            Some(PassedOver::Unavailable)
        } else if !self.connected.contains(&agent.id) {
            Some(PassedOver::Disconnected)
        } else if agent.capacity.is_some_and(|capacity| load >= capacity) {
            Some(PassedOver::AtCapacity)
        } else {
            None
        }
    }

    /// Every active member of `inbox`, with why each can't take `conversation` now.
    fn candidates(
        &self,
        conversation: &Conversation,
        inbox: &Inbox,
        released: Option<Id>,
    ) -> Vec<RoutingCandidate> {
        self.candidates_after(conversation, inbox, released, &[])
    }

    fn candidates_after(
        &self,
        conversation: &Conversation,
        inbox: &Inbox,
        released: Option<Id>,
        did_not_reply: &[Id],
    ) -> Vec<RoutingCandidate> {
        self.agents
            .iter()
            .filter(|agent| agent.active && rules::is_inbox_member(agent, inbox))
            .map(|agent| RoutingCandidate {
                agent_id: agent.id,
                load: self.load(agent.id),
                capacity: agent.capacity,
                passed_over: self.passed_over_after(agent, conversation, inbox, released, did_not_reply),
            })
            .collect()
    }

    /// The eligible candidate `mode` picks.
    fn pick(&self, mode: RoutingMode, candidates: &[RoutingCandidate]) -> Option<Id> {
        let turn = |agent: Id| self.turns.get(&agent).copied().unwrap_or(0);
        let eligible = candidates.iter().filter(|candidate| candidate.passed_over.is_none());
        match mode {
            RoutingMode::Manual => None,
            RoutingMode::LeastLoaded => {
                eligible.min_by_key(|c| (c.load, turn(c.agent_id), c.agent_id)).map(|c| c.agent_id)
            }
            RoutingMode::RoundRobin => {
                eligible.min_by_key(|c| (turn(c.agent_id), c.agent_id)).map(|c| c.agent_id)
            }
        }
    }

    fn assigned(&mut self, agent: Id) -> i64 {
        *self.loads.entry(agent).or_insert(0) += 1;
        let turn = self.next_turn;
        self.turns.insert(agent, turn);
        self.next_turn += 1;
        turn
    }

    /// Whether some agent could still take something: if not, the pass can stop.
    fn anyone_has_room(&self) -> bool {
        self.agents.iter().any(|agent| {
            agent.active
                && agent.availability == Availability::Online
                && self.connected.contains(&agent.id)
                && agent.capacity.is_none_or(|capacity| self.load(agent.id) < capacity)
        })
    }
}

/// A conversation `released_by` an agent this very change (they unassigned themselves): the same
/// pass doesn't hand it straight back to them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Released {
    pub conversation: Option<Id>,
    pub by: Option<Id>,
}

/// The timer that takes back a routed conversation nobody replied to.
pub fn no_reply_timer_key(conversation: Id) -> String {
    format!("noreply:{conversation}")
}

/// Who routing gave this conversation to and took it back from for not replying, this cycle.
fn did_not_reply(store: &(impl StoreRead + ?Sized), conversation: Id) -> Outcome<Vec<Id>> {
    let events = store.events_of(conversation)?;
    let cycle = events.last().map_or(1, |event| event.cycle);
    Ok(events
        .iter()
        .filter(|event| event.cycle == cycle)
        .filter_map(|event| match &event.event {
            EventKind::Assigned { from: Some(agent), reason, .. } if reason == "no_reply" => Some(*agent),
            _ => None,
        })
        .collect())
}

/// A routed conversation's reply deadline passed: if the agent routing gave it to still holds it
/// and the customer is still waiting, it goes back to the queue (`no_reply`) and to someone else;
/// after the inbox's `max_handovers` it stays queued for a person, and the thread says so.
pub fn take_back_unanswered(tx: &mut dyn StoreTx, conversation_id: Id, timer: &TimerRecord) -> Outcome<()> {
    let Some(conversation) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let agent = timer.payload["agent"].as_str().and_then(|id| id.parse::<Id>().ok());
    let still_waiting =
        conversation.status == ConversationStatus::Open && conversation.waiting_since.is_some();
    if agent.is_none() || conversation.assignee_id != agent || !still_waiting {
        return Ok(());
    }
    let Some(inbox) = tx.get::<Inbox>(conversation.inbox_id)? else { return Ok(()) };
    let name = match agent.map(|id| tx.get::<Agent>(id)).transpose()?.flatten() {
        Some(agent) => agent.name,
        None => "The assignee".into(),
    };
    let mut taken_back = conversation.clone();
    taken_back.assignee_id = None;
    ledger::save(tx, &conversation, &taken_back, &ledger::Cause::system("no_reply", timer.due_at))?;
    let handovers = did_not_reply(tx, conversation_id)?.len();
    let text = if handovers >= inbox.routing.max_handovers as usize {
        format!("{name} didn't reply in time; after {handovers} handovers it waits for a lead to assign it")
    } else {
        format!("{name} didn't reply in time: the conversation goes to someone else")
    };
    activity(tx, inbox.id, conversation_id, Sender::System, text)?;
    route(tx, Released::default())?;
    Ok(())
}

/// The timer that releases an unavailable agent's waiting conversations.
pub fn release_timer_key(agent: Id) -> String {
    format!("release:{agent}")
}

/// Whether `agent` could be routed to at all now (active, online, connected): not their capacity.
fn available(tx: &(impl StoreRead + ?Sized), agent: &Agent) -> Outcome<bool> {
    Ok(agent.active && agent.availability == Availability::Online && tx.streaming_nodes(agent.id)? > 0)
}

/// The routed inboxes `agent` works, with their release delay.
fn release_delays(tx: &(impl StoreRead + ?Sized), agent: &Agent) -> Outcome<Vec<(Id, u32)>> {
    let inboxes: Vec<Inbox> = tx.all()?;
    Ok(inboxes
        .into_iter()
        .filter(|inbox| inbox.routing.mode != RoutingMode::Manual && rules::is_inbox_member(agent, inbox))
        .filter_map(|inbox| Some((inbox.id, inbox.routing.release_after_secs?)))
        .collect())
}

/// An agent's availability, connection or activity just changed: an agent who became unavailable
/// starts the countdown to releasing their waiting customers (if it isn't running already: it
/// counts from the first moment), one available again stops it.
pub fn availability_changed(tx: &mut dyn StoreTx, agent_id: Id) -> Outcome<()> {
    let Some(agent) = tx.get::<Agent>(agent_id)? else { return Ok(()) };
    let key = release_timer_key(agent_id);
    if available(tx, &agent)? {
        return Ok(tx.remove_timer(&key)?);
    }
    if tx.timer(&key)?.is_some() {
        return Ok(());
    }
    let Some(first) = release_delays(tx, &agent)?.iter().map(|(_, delay)| *delay).min() else {
        return Ok(());
    };
    let since = tx.now();
    let timer = TimerRecord {
        key,
        due_at: since + Millis::from(first) * 1000,
        payload: serde_json::json!({ "since": since }),
    };
    Ok(tx.schedule_timer(&timer)?)
}

/// The release timer fired: if the agent is still unavailable, each open conversation of theirs
/// whose customer is waiting, in a routed inbox whose delay has passed since `since`, goes back to
/// the queue (`agent_unavailable`) and is routed; inboxes with longer delays get the timer again.
pub fn release_unavailable(tx: &mut dyn StoreTx, agent_id: Id, timer: &TimerRecord) -> Outcome<()> {
    let Some(agent) = tx.get::<Agent>(agent_id)? else { return Ok(()) };
    if available(tx, &agent)? {
        return Ok(());
    }
    let since = timer.payload["since"].as_i64().unwrap_or(timer.due_at);
    let due = timer.due_at;
    let delays: HashMap<Id, u32> = release_delays(tx, &agent)?.into_iter().collect();
    let mut later: Option<Millis> = None;
    for conversation in tx.unresolved_assigned_to(agent_id)? {
        if conversation.status != ConversationStatus::Open || conversation.waiting_since.is_none() {
            continue;
        }
        let Some(delay) = delays.get(&conversation.inbox_id) else { continue };
        let release_at = since + Millis::from(*delay) * 1000;
        if release_at > due {
            later = Some(later.map_or(release_at, |at: Millis| at.min(release_at)));
            continue;
        }
        release(tx, &conversation, &agent, release_at)?;
    }
    if let Some(at) = later {
        let timer = TimerRecord { key: timer.key.clone(), due_at: at, payload: timer.payload.clone() };
        tx.schedule_timer(&timer)?;
    }
    route(tx, Released::default())?;
    Ok(())
}

/// Puts an unavailable agent's conversation back in the queue.
fn release(tx: &mut dyn StoreTx, conversation: &Conversation, agent: &Agent, at: Millis) -> Outcome<()> {
    let mut released = conversation.clone();
    released.assignee_id = None;
    ledger::save(tx, conversation, &released, &ledger::Cause::system("agent_unavailable", at))?;
    let text = format!("{} isn't available: the conversation is back in the queue", agent.name);
    activity(tx, released.inbox_id, released.id, Sender::System, text)?;
    Ok(())
}

/// A customer wrote to a conversation whose assignee is unavailable: in an inbox that releases
/// waiting customers, it goes back to the queue at once rather than after the delay.
pub fn release_if_assignee_unavailable(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    conversation_id: Id,
) -> Outcome<()> {
    if inbox.routing.mode == RoutingMode::Manual || inbox.routing.release_after_secs.is_none() {
        return Ok(());
    }
    let Some(conversation) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let Some(agent) = conversation.assignee_id.map(|id| tx.get::<Agent>(id)).transpose()?.flatten() else {
        return Ok(());
    };
    if conversation.status != ConversationStatus::Open || available(tx, &agent)? {
        return Ok(());
    }
    let now = tx.now();
    release(tx, &conversation, &agent, now)
}

/// A customer reopened a resolved conversation: it stays with its owner only if routing could
/// give it to them now (active, online, connected, in the inbox); otherwise it is unassigned
/// (`owner_unavailable`) for routing to hand out. A busy owner counts as unavailable: a reopened
/// conversation is a waiting customer. Inboxes without routing keep today's behaviour.
pub fn release_unavailable_owner(tx: &mut dyn StoreTx, inbox: &Inbox, conversation_id: Id) -> Outcome<()> {
    if inbox.routing.mode == RoutingMode::Manual {
        return Ok(());
    }
    let Some(conversation) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let Some(owner_id) = conversation.assignee_id else { return Ok(()) };
    let roster = Roster::read_tx(tx)?;
    let available = roster.agents.iter().find(|agent| agent.id == owner_id).is_some_and(|owner| {
        // Capacity doesn't matter: the conversation is already theirs.
        matches!(roster.passed_over(owner, &conversation, inbox, None), None | Some(PassedOver::AtCapacity))
    });
    if available {
        return Ok(());
    }
    let mut released = conversation.clone();
    released.assignee_id = None;
    let cause = ledger::Cause::system("owner_unavailable", tx.now());
    ledger::save(tx, &conversation, &released, &cause)?;
    activity(
        tx,
        inbox.id,
        released.id,
        Sender::System,
        "The owner isn't available: back in the queue".into(),
    )?;
    Ok(())
}

/// Assigns queued conversations of every routed inbox, oldest waiting first, while eligible agents
/// have room. Returns how many it assigned.
pub fn route(tx: &mut dyn StoreTx, released: Released) -> Outcome<usize> {
    let all = super::cached::inboxes(tx)?;
    let inboxes: Vec<&Inbox> =
        all.all.iter().filter(|inbox| inbox.routing.mode != RoutingMode::Manual).collect();
    if inboxes.is_empty() {
        return Ok(0);
    }
    // Nothing queued (the common case: each change routes what it queued): done, the roster unread.
    let mut queued = false;
    for inbox in &inboxes {
        if tx.routing_queued(inbox.id)? {
            queued = true;
            break;
        }
    }
    if !queued {
        return Ok(0);
    }
    // Nobody with room (a night's customers waiting, everyone away): done, the queue unread. It
    // can be long, and this pass runs in every change that could route.
    let mut roster = Roster::read_tx(tx)?;
    if !roster.anyone_has_room() {
        return Ok(0);
    }
    // One queue across the routed inboxes, in one order.
    let mut queue = Vec::new();
    for inbox in &inboxes {
        queue.extend(tx.routing_queue(inbox.id, QUEUE_WINDOW)?);
    }
    queue.sort_by_key(|c| (c.waiting_since.is_none(), c.waiting_since, c.created_at, c.id));
    let inboxes: BTreeMap<Id, &Inbox> = inboxes.into_iter().map(|inbox| (inbox.id, inbox)).collect();
    let now = tx.now();
    let mut assigned = 0;
    for conversation in queue {
        if !roster.anyone_has_room() {
            break;
        }
        let Some(inbox) = inboxes.get(&conversation.inbox_id) else { continue };
        let released_by = released.by.filter(|_| released.conversation == Some(conversation.id));
        let did_not_reply = match inbox.routing.reassign_after_secs {
            Some(_) => did_not_reply(tx, conversation.id)?,
            None => Vec::new(),
        };
        if did_not_reply.len() >= inbox.routing.max_handovers as usize && !did_not_reply.is_empty() {
            continue; // Handed over enough: a person decides.
        }
        let candidates = roster.candidates_after(&conversation, inbox, released_by, &did_not_reply);
        let Some(agent_id) = roster.pick(inbox.routing.mode, &candidates) else { continue };
        let mut routed = conversation.clone();
        // The same compare-and-set as a claim: only a conversation nobody holds.
        if !rules::assignment_holds(&conversation, None) {
            continue;
        }
        rules::apply_assignment(&mut routed, Some(agent_id), None);
        let reason = inbox.routing.mode.as_str();
        ledger::routed(tx, &conversation, &routed, reason, candidates, now)?;
        let turn = roster.assigned(agent_id);
        after_routing(tx, inbox, &routed, agent_id, &roster, turn, now)?;
        assigned += 1;
    }
    Ok(assigned)
}

/// What follows routing's assignment of `routed` to `agent_id`: the agent's turn, the no-reply
/// timer, and the thread's "Routed to …" line.
fn after_routing(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    routed: &Conversation,
    agent_id: Id,
    roster: &Roster,
    turn: i64,
    now: Millis,
) -> Outcome<()> {
    tx.set_routing_turn(agent_id, turn)?;
    if let (Some(secs), Some(_)) = (inbox.routing.reassign_after_secs, routed.waiting_since) {
        let timer = TimerRecord {
            key: no_reply_timer_key(routed.id),
            due_at: now + Millis::from(secs) * 1000,
            payload: serde_json::json!({ "agent": agent_id }),
        };
        tx.schedule_timer(&timer)?;
    }
    let name = roster.agents.iter().find(|a| a.id == agent_id).map_or_else(String::new, |a| a.name.clone());
    let how = match inbox.routing.mode {
        RoutingMode::RoundRobin => "in turn",
        _ => "the least loaded",
    };
    super::conversations::system_line(tx, inbox.id, routed.id, format!("Routed to {name} ({how})"))
}

/// Routing decided for a new conversation before its one write ([`decide_new`]).
pub struct Decided {
    agent_id: Id,
    candidates: Vec<RoutingCandidate>,
    roster: Roster,
    turn: i64,
}

/// Decides, before a new conversation is first written, whom [`route`] would give it to once
/// written, so that it is written once, assigned, instead of created and then written again by
/// routing (the second write was the largest single cost of an automated inbound message).
/// Only when nothing else waits in any routed inbox: then the queue `route` would read holds this
/// conversation alone, and a new conversation has no events routing reads (no one passed over for
/// not replying, no one who released it), so the pick, its candidates and their loads are the ones
/// `route` would find. Otherwise (something queued, nobody with room, nobody eligible) `None`, and
/// `route` decides after the write, as for every other change.
pub fn decide_new(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    conversation: &Conversation,
) -> Outcome<Option<Decided>> {
    if inbox.routing.mode == RoutingMode::Manual || !rules::assignment_holds(conversation, None) {
        return Ok(None);
    }
    let all = super::cached::inboxes(tx)?;
    for routed in all.all.iter().filter(|inbox| inbox.routing.mode != RoutingMode::Manual) {
        if tx.routing_queued(routed.id)? {
            return Ok(None);
        }
    }
    let mut roster = Roster::read_tx(tx)?;
    if !roster.anyone_has_room() {
        return Ok(None);
    }
    let candidates = roster.candidates(conversation, inbox, None);
    let Some(agent_id) = roster.pick(inbox.routing.mode, &candidates) else { return Ok(None) };
    let turn = roster.assigned(agent_id);
    Ok(Some(Decided { agent_id, candidates, roster, turn }))
}

impl Decided {
    /// The assignee to write the new conversation with.
    pub fn agent_id(&self) -> Id {
        self.agent_id
    }

    /// After the new conversation was written with [`Decided::agent_id`] (and its message and
    /// automatic reply, which come first in its ledger as they did when routing followed them):
    /// its `assigned` event and what follows routing, as [`route`] writes them.
    pub fn record(self, tx: &mut dyn StoreTx, inbox: &Inbox, routed: &Conversation) -> Outcome<()> {
        let now = tx.now();
        let reason = inbox.routing.mode.as_str();
        ledger::routed_event(tx, routed.id, None, Some(self.agent_id), reason, self.candidates, now)?;
        after_routing(tx, inbox, routed, self.agent_id, &self.roster, self.turn, now)
    }
}

/// Routing's queue across the routed inboxes `viewer` may see, in the order it hands out.
fn queue(
    store: &(impl StoreRead + ?Sized),
    visible: impl Fn(&Inbox) -> bool,
) -> Outcome<Vec<QueuedConversation>> {
    let inboxes: Vec<Inbox> = store.all()?;
    let mut queue = Vec::new();
    for inbox in inboxes.iter().filter(|inbox| inbox.routing.mode != RoutingMode::Manual && visible(inbox)) {
        queue.extend(store.routing_queue(inbox.id, QUEUE_WINDOW)?);
    }
    queue.sort_by_key(|c| (c.waiting_since.is_none(), c.waiting_since, c.created_at, c.id));
    Ok(queue
        .into_iter()
        .enumerate()
        .map(|(n, c)| QueuedConversation {
            position: u32::try_from(n + 1).unwrap_or(u32::MAX),
            conversation_id: c.id,
            inbox_id: c.inbox_id,
            team_id: c.team_id,
            waiting_since: c.waiting_since,
            created_at: c.created_at,
        })
        .collect())
}

impl Workspace {
    /// `GET /routing/queue` (leads and admins): what waits for an agent, in the order routing
    /// hands it out (the first 500 of each inbox).
    pub async fn routing_queue(&self, viewer: &super::Viewer) -> Outcome<Vec<QueuedConversation>> {
        crate::policy::require_lead(viewer)?;
        let agent = viewer.agent.clone();
        self.read(move |store| queue(store, |inbox| rules::can_see_inbox(&agent, inbox))).await
    }

    /// `GET /workload` (leads and admins): every active agent as routing sees them now.
    pub async fn workload(&self, viewer: &super::Viewer) -> Outcome<Vec<AgentWorkload>> {
        crate::policy::require_lead(viewer)?;
        self.read(|store| {
            let roster = Roster::read(store)?;
            let inboxes: Vec<Inbox> = store.all()?;
            let routed: Vec<&Inbox> =
                inboxes.iter().filter(|inbox| inbox.routing.mode != RoutingMode::Manual).collect();
            let mut parked: HashMap<Id, u32> = HashMap::new();
            for agent in roster.agents.iter() {
                let count = store
                    .unresolved_assigned_to(agent.id)?
                    .iter()
                    .filter(|c| c.status != ConversationStatus::Open)
                    .count();
                parked.insert(agent.id, u32::try_from(count).unwrap_or(u32::MAX));
            }
            Ok(roster
                .agents
                .iter()
                .filter(|agent| agent.active)
                .map(|agent| {
                    // Eligible for a conversation of no team in some routed inbox they work.
                    let can_take_more = routed.iter().any(|inbox| {
                        let probe = rules::new_conversation(Id::nil(), inbox.id, Id::nil(), 0);
                        roster.passed_over(agent, &probe, inbox, None).is_none()
                    });
                    AgentWorkload {
                        agent_id: agent.id,
                        availability: agent.availability,
                        connected: roster.connected.contains(&agent.id),
                        load: roster.load(agent.id),
                        capacity: agent.capacity,
                        parked: parked.get(&agent.id).copied().unwrap_or(0),
                        can_take_more,
                    }
                })
                .collect())
        })
        .await
    }

    /// `GET /conversations/{id}/routing-explain` (leads and admins).
    pub async fn routing_explain(
        &self,
        viewer: &super::Viewer,
        conversation_id: Id,
    ) -> Outcome<RoutingExplanation> {
        crate::policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.read(move |store| {
            let (conversation, inbox) =
                super::conversations::visible_conversation(store, &viewer, conversation_id)?;
            let last_decision = store
                .events_of(conversation_id)?
                .into_iter()
                .rev()
                .find(|event| event.actor == Actor::Routing);
            let roster = Roster::read(store)?;
            let candidates = roster.candidates(&conversation, &inbox, None);
            let would_pick = roster.pick(inbox.routing.mode, &candidates);
            Ok(RoutingExplanation { mode: inbox.routing.mode, last_decision, would_pick, candidates })
        })
        .await
    }
}
