//! Routing and auto-assignment, against the acceptance checks of the design (team-automation.md
//! §2.d, R-numbers in the test names): least-loaded and round-robin picks with a deterministic
//! tie-break, capacity across inboxes, the queue draining oldest-waiting-first the moment a slot
//! frees, only agents who are online and connected, sticky reopen, teams, manual assignment over
//! capacity, the claim compare-and-set, the explanation, concurrency and determinism.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{
    ledger::{Actor, ConversationEvent, EventKind, PassedOver},
    *,
};

use crate::harness::*;

/// A team of agents on a routed inbox of their own.
struct Desk {
    server: TestServer,
    inbox: CreatedInbox,
    /// In creation order, which is id order (UUIDv7): the tie-break's order.
    agents: Vec<Session>,
    /// Open streams keep the agents connected.
    streams: Vec<Socket>,
}

impl Desk {
    /// `count` agents, all online and connected, each with `capacity`, on an inbox routed by `mode`.
    async fn new(mode: &str, count: usize, capacity: Option<u32>) -> Desk {
        let server = TestServer::start().await;
        let mut agents = Vec::new();
        for n in 0..count {
            agents.push(agent(&server, &format!("agent{n}"), capacity).await);
        }
        let members: Vec<Id> = agents.iter().map(|a| a.agent.id).collect();
        let inbox = routed_inbox(&server, "Routed", mode, &members).await;
        let mut desk = Desk { server, inbox, agents, streams: Vec::new() };
        for n in 0..count {
            desk.connect(n).await;
        }
        desk
    }

    /// Sets agent `n` online and opens a stream of theirs.
    async fn connect(&mut self, n: usize) {
        set_availability(&self.agents[n], "online").await;
        let head = self.server.head().await;
        let mut socket = open_stream(&self.agents[n], head).await;
        // The snapshot names them online once their stream counts.
        crate::presence::hears_online(&mut socket, &[self.agents[n].agent.id]).await;
        self.streams.push(socket);
    }

    async fn inbound(&self, contact: &str) -> Id {
        let external_id = format!("{contact}-{}", Id::new_v4().simple());
        self.server.inbound(&self.inbox, contact, &external_id, "hello").await.conversation_id
    }

    fn index_of(&self, agent: Option<Id>) -> Option<usize> {
        agent.and_then(|id| self.agents.iter().position(|a| a.agent.id == id))
    }

    async fn assignee(&self, conversation: Id) -> Option<usize> {
        self.index_of(assignee_of(&self.server, conversation).await)
    }
}

pub(crate) async fn agent(server: &TestServer, name: &str, capacity: Option<u32>) -> Session {
    let email = format!("{name}@test.example");
    let created = server
        .admin
        .ok("/api/v1/agents", json!({"name": name, "email": email, "role": "agent", "password": PASSWORD}))
        .await;
    let id = created["id"].as_str().expect("agent id").to_owned();
    let (status, body) = server
        .admin
        .request(Method::PATCH, &format!("/api/v1/agents/{id}"), Some(json!({"capacity": capacity})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.login(&email).await
}

pub(crate) async fn routed_inbox(
    server: &TestServer,
    name: &str,
    mode: &str,
    members: &[Id],
) -> CreatedInbox {
    let created: CreatedInbox = serde_json::from_value(
        server
            .admin
            .ok("/api/v1/inboxes", json!({"name": name, "channel": "api", "member_agent_ids": members}))
            .await,
    )
    .expect("inbox");
    let path = format!("/api/v1/inboxes/{}", created.inbox.id);
    let (status, body) =
        server.admin.request(Method::PATCH, &path, Some(json!({"routing": {"mode": mode}}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    created
}

pub(crate) async fn set_availability(session: &Session, availability: &str) {
    let (status, body) =
        session.request(Method::PATCH, "/api/v1/me", Some(json!({"availability": availability}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn events(server: &TestServer, conversation: Id) -> Vec<ConversationEvent> {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("events")
}

/// The conversation's assignee, from its ledger.
pub(crate) async fn assignee_of(server: &TestServer, conversation: Id) -> Option<Id> {
    events(server, conversation).await.iter().rev().find_map(|event| match &event.event {
        EventKind::Assigned { to, .. } => Some(*to),
        _ => None,
    })?
}

async fn act(session: &Session, conversation: Id, action: &str, body: Value) -> (StatusCode, Value) {
    session.post(&format!("/api/v1/conversations/{conversation}/{action}"), body).await
}

async fn set_status(session: &Session, conversation: Id, status: &str) {
    let (code, body) =
        act(session, conversation, "status", json!({"client_id": Id::new_v4(), "status": status})).await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

async fn assign(
    session: &Session,
    conversation: Id,
    to: Option<Id>,
    expected: Option<Id>,
) -> (StatusCode, Value) {
    let body = json!({"client_id": Id::new_v4(), "assignee_id": to, "expected_assignee_id": expected});
    act(session, conversation, "assign", body).await
}

#[tokio::test]
async fn r1_least_loaded_picks_the_agent_with_fewest_open_and_records_why() {
    let desk = Desk::new("least_loaded", 3, Some(5)).await;
    // Loads A=2, B=0, C=1, given by hand in a manual inbox they also belong to.
    let members: Vec<Id> = desk.agents.iter().map(|a| a.agent.id).collect();
    let manual = routed_inbox(&desk.server, "Manual", "manual", &members).await;
    for (n, count) in [(0, 2), (2, 1)] {
        for k in 0..count {
            let id = format!("load-{n}-{k}");
            let conversation = desk.server.inbound(&manual, &id, &id, "hi").await.conversation_id;
            let (status, body) =
                assign(&desk.server.admin, conversation, Some(desk.agents[n].agent.id), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    let conversation = desk.inbound("new").await;
    assert_eq!(desk.assignee(conversation).await, Some(1), "B had the fewest open conversations");
    let routed = events(&desk.server, conversation).await;
    let event =
        routed.iter().find(|e| matches!(e.event, EventKind::Assigned { .. })).expect("an assigned event");
    assert_eq!(event.actor, Actor::Routing);
    let EventKind::Assigned { reason, candidates, from, .. } = &event.event else { unreachable!() };
    assert_eq!((reason.as_str(), *from), ("least_loaded", None));
    let loads: Vec<u32> = candidates.iter().map(|c| c.load).collect();
    assert_eq!(loads, vec![2, 0, 1], "every candidate with their load at the time");
    assert!(candidates.iter().all(|c| c.passed_over.is_none() && c.capacity == Some(5)));
}

#[tokio::test]
async fn r2_ties_go_to_the_longest_since_routed_then_to_the_lower_id() {
    let desk = Desk::new("least_loaded", 2, None).await;
    // Both at load 0, never routed: the lower id (the first created).
    let first = desk.inbound("c1").await;
    assert_eq!(desk.assignee(first).await, Some(0));
    // A resolves it: both at 0 again, and B has waited longer since a routed conversation.
    set_status(&desk.agents[0], first, "resolved").await;
    let second = desk.inbound("c2").await;
    assert_eq!(desk.assignee(second).await, Some(1));
}

#[tokio::test]
async fn r3_round_robin_hands_out_in_turn() {
    let desk = Desk::new("round_robin", 3, None).await;
    let mut order = Vec::new();
    for n in 0..6 {
        let conversation = desk.inbound(&format!("c{n}")).await;
        order.push(desk.assignee(conversation).await.expect("assigned"));
    }
    assert_eq!(order, vec![0, 1, 2, 0, 1, 2]);
}

#[tokio::test]
async fn r4_r5_r6_a_full_team_queues_oldest_first_and_a_freed_slot_takes_the_head() {
    let desk = Desk::new("least_loaded", 2, Some(1)).await;
    let held_a = desk.inbound("a").await;
    let held_b = desk.inbound("b").await;
    assert_eq!((desk.assignee(held_a).await, desk.assignee(held_b).await), (Some(0), Some(1)));
    // Everyone at capacity: the next two wait, unassigned, with no assigned event.
    let q1 = desk.inbound("q1").await;
    desk.server.clock.advance(5 * 60_000);
    let q2 = desk.inbound("q2").await;
    for queued in [q1, q2] {
        assert!(!events(&desk.server, queued)
            .await
            .iter()
            .any(|e| matches!(e.event, EventKind::Assigned { .. })));
    }
    // A resolves: the head of the queue (waiting longest) goes to A in the same commit.
    set_status(&desk.agents[0], held_a, "resolved").await;
    assert_eq!(desk.assignee(q1).await, Some(0));
    assert_eq!(desk.assignee(q2).await, None, "Q2 still waits");
    // Pending doesn't count toward load: B setting theirs pending takes Q2.
    set_status(&desk.agents[1], held_b, "pending").await;
    assert_eq!(desk.assignee(q2).await, Some(1));
}

/// A new conversation with nothing queued ahead is routed before its one write
/// (`routing::decide_new`); one that waits is routed after it (`routing::route`). Both leave the
/// same ledger in the same order (created, the customer's message, assigned) and the same thread
/// (the message, then "Routed to …"); the fast path only writes the conversation once.
#[tokio::test]
async fn a_conversation_routed_on_arrival_has_the_ledger_and_thread_of_one_routed_later() {
    let desk = Desk::new("least_loaded", 1, Some(1)).await;
    let at_once = desk.inbound("at-once").await;
    let waits = desk.inbound("waits").await;
    assert_eq!((desk.assignee(at_once).await, desk.assignee(waits).await), (Some(0), None));
    set_status(&desk.agents[0], at_once, "resolved").await;
    assert_eq!(desk.assignee(waits).await, Some(0));
    let kinds = |events: Vec<ConversationEvent>| -> Vec<String> {
        events
            .iter()
            .map(|e| serde_json::to_value(&e.event).expect("event")["kind"].as_str().unwrap_or("").to_owned())
            .take_while(|kind| kind != "status")
            .collect()
    };
    let first = kinds(events(&desk.server, at_once).await);
    assert_eq!(first, ["created", "message", "assigned"], "the ledger of one routed on arrival");
    assert_eq!(kinds(events(&desk.server, waits).await), first, "the same as one routed later");
    let routed = events(&desk.server, at_once).await;
    let assigned = routed.iter().find(|e| matches!(e.event, EventKind::Assigned { .. })).expect("assigned");
    let EventKind::Assigned { reason, candidates, from, to } = &assigned.event else { unreachable!() };
    assert_eq!((reason.as_str(), *from, *to), ("least_loaded", None, Some(desk.agents[0].agent.id)));
    assert_eq!(candidates.len(), 1);
    assert_eq!((candidates[0].load, candidates[0].passed_over), (0, None), "weighed before it was counted");
    let messages = desk.server.messages().await;
    for conversation in [at_once, waits] {
        let thread: Vec<(MessageKind, &str)> = messages
            .iter()
            .filter(|m| m.conversation_id == conversation)
            .map(|m| (m.kind, m.body.as_str()))
            .take(2)
            .collect();
        assert_eq!(thread[0], (MessageKind::Incoming, "hello"));
        assert_eq!(thread[1].0, MessageKind::Activity);
        assert!(thread[1].1.starts_with("Routed to agent0"), "{:?}", thread[1]);
    }
}

/// Routing's line and the line of a rule that acted in the same transaction are one activity
/// message, one text a line, in the order they happened (`conversations::holding_lines`); a
/// transaction in which only routing speaks writes its line alone, as before.
#[tokio::test]
async fn routing_and_a_rule_acting_in_one_transaction_write_one_activity_line() {
    let desk = Desk::new("least_loaded", 1, Some(5)).await;
    let lines = async |conversation: Id| -> Vec<String> {
        let messages = desk.server.messages().await;
        let thread: Vec<&Message> = messages.iter().filter(|m| m.conversation_id == conversation).collect();
        assert_eq!(thread[0].kind, MessageKind::Incoming, "the customer's message first");
        thread.iter().filter(|m| m.kind == MessageKind::Activity).map(|m| m.body.clone()).collect()
    };
    let alone = desk.inbound("alone").await;
    assert_eq!(lines(alone).await, ["Routed to agent0 (the least loaded)"]);
    let input = json!({"name": "Raise", "trigger": {"type": "event", "events": ["message_received"]},
        "actions": [{"type": "set_priority", "priority": "high"}]});
    let (status, body) = desk.server.admin.post("/api/v1/automation-rules", input).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let both = desk.inbound("both").await;
    assert_eq!(desk.assignee(both).await, Some(0));
    assert_eq!(
        lines(both).await,
        ["Routed to agent0 (the least loaded)\nAutomation “Raise”: set priority high"],
        "one line saying both"
    );
}

#[tokio::test]
async fn r7_capacity_counts_open_conversations_in_every_inbox() {
    let mut desk = Desk::new("least_loaded", 1, Some(2)).await;
    let other = routed_inbox(&desk.server, "Other", "least_loaded", &[desk.agents[0].agent.id]).await;
    let first = desk.inbound("c1").await;
    let second = desk.server.inbound(&other, "o1", "o1", "hi").await.conversation_id;
    assert_eq!(desk.assignee(first).await, Some(0));
    assert_eq!(desk.assignee(second).await, Some(0));
    let third = desk.server.inbound(&other, "o2", "o2", "hi").await.conversation_id;
    let fourth = desk.inbound("c2").await;
    assert_eq!(
        (desk.assignee(third).await, desk.assignee(fourth).await),
        (None, None),
        "at capacity in both"
    );
    desk.streams.clear();
}

#[tokio::test]
async fn r8_fifty_at_once_to_five_agents_of_capacity_four_assigns_exactly_twenty() {
    let desk = Desk::new("least_loaded", 5, Some(4)).await;
    let arrivals = (0..50).map(|n| {
        let (server, inbox) = (&desk.server, &desk.inbox);
        async move {
            let id = format!("burst-{n}");
            server.inbound(inbox, &id, &id, "at once").await.conversation_id
        }
    });
    let conversations = futures_util::future::join_all(arrivals).await;
    let mut per_agent = [0usize; 5];
    let mut queued = 0;
    let mut assignments = Vec::new();
    for conversation in &conversations {
        let history = events(&desk.server, *conversation).await;
        let assigned: Vec<&ConversationEvent> =
            history.iter().filter(|e| matches!(e.event, EventKind::Assigned { .. })).collect();
        assert!(assigned.len() <= 1, "assigned once at most");
        match assigned.first() {
            Some(event) => {
                let EventKind::Assigned { to, .. } = &event.event else { unreachable!() };
                per_agent[desk.index_of(*to).expect("a desk agent")] += 1;
                assignments.push((event.seq, desk.index_of(*to).expect("agent")));
            }
            None => queued += 1,
        }
    }
    assert_eq!(per_agent, [4; 5], "four each");
    assert_eq!(queued, 30);
    // Replayed in commit order, no agent is ever above four.
    assignments.sort();
    let mut load = [0usize; 5];
    for (_, agent) in assignments {
        load[agent] += 1;
        assert!(load[agent] <= 4, "an agent went above capacity during the burst");
    }
}

#[tokio::test]
async fn r9_busy_offline_and_disconnected_agents_are_never_routed_to() {
    let mut desk = Desk::new("least_loaded", 3, None).await;
    set_availability(&desk.agents[0], "busy").await;
    set_availability(&desk.agents[1], "offline").await;
    // Agent 2 online but with no stream anywhere (closed: the server has counted it out once
    // the socket is gone).
    crate::presence::close(desk.streams.remove(2)).await;
    let conversation = desk.inbound("nobody").await;
    assert_eq!(desk.assignee(conversation).await, None, "nobody eligible: it waits");
    // Agent 2 connects again: the queue moves at once (before their stream even replays).
    desk.connect(2).await;
    assert_eq!(desk.assignee(conversation).await, Some(2));
}

#[tokio::test]
async fn r13_a_reopened_conversation_stays_with_an_available_owner_else_is_routed() {
    let desk = Desk::new("least_loaded", 2, None).await;
    let conversation = desk.inbound("returning").await;
    assert_eq!(desk.assignee(conversation).await, Some(0));
    set_status(&desk.agents[0], conversation, "resolved").await;
    // The customer writes again: the owner is available, it stays theirs, no new assignment.
    desk.server.inbound(&desk.inbox, "returning", "again-1", "one more thing").await;
    let assigned = |history: &[ConversationEvent]| {
        history.iter().filter(|e| matches!(e.event, EventKind::Assigned { .. })).count()
    };
    assert_eq!(desk.assignee(conversation).await, Some(0));
    assert_eq!(assigned(&events(&desk.server, conversation).await), 1);
    // Resolved again, and the owner goes offline: the reopened conversation goes to B.
    set_status(&desk.agents[0], conversation, "resolved").await;
    set_availability(&desk.agents[0], "offline").await;
    desk.server.inbound(&desk.inbox, "returning", "again-2", "hello?").await;
    assert_eq!(desk.assignee(conversation).await, Some(1));
    let history = events(&desk.server, conversation).await;
    let reasons: Vec<&str> = history
        .iter()
        .filter_map(|e| match &e.event {
            EventKind::Assigned { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["least_loaded", "owner_unavailable", "least_loaded"]);
}

#[tokio::test]
async fn r14_a_team_conversation_waits_for_an_eligible_team_member() {
    let desk = Desk::new("least_loaded", 2, None).await;
    let team: Team = serde_json::from_value(
        desk.server
            .admin
            .ok("/api/v1/teams", json!({"name": "Billing", "member_agent_ids": [desk.agents[1].agent.id]}))
            .await,
    )
    .expect("team");
    set_availability(&desk.agents[1], "busy").await;
    let conversation = desk.inbound("billing").await;
    // Agent 0 got it (no team yet); moved to the team with nobody assigned, it waits for Billing.
    assert_eq!(desk.assignee(conversation).await, Some(0));
    let (status, body) = act(
        &desk.server.admin,
        conversation,
        "assign",
        json!({"client_id": Id::new_v4(), "assignee_id": null, "team_id": team.id, "expected_assignee_id": desk.agents[0].agent.id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(desk.assignee(conversation).await, None, "agent 0 is not in Billing; agent 1 is busy");
    set_availability(&desk.agents[1], "online").await;
    assert_eq!(desk.assignee(conversation).await, Some(1));
}

#[tokio::test]
async fn r15_r16_manual_assignment_may_exceed_capacity_and_a_stale_claim_loses() {
    let desk = Desk::new("least_loaded", 2, Some(1)).await;
    let first = desk.inbound("c1").await;
    assert_eq!(desk.assignee(first).await, Some(0));
    // A lead gives agent 0 a second one by hand, over capacity: allowed.
    let second = desk.inbound("c2").await;
    assert_eq!(desk.assignee(second).await, Some(1));
    let (status, body) =
        assign(&desk.server.admin, second, Some(desk.agents[0].agent.id), Some(desk.agents[1].agent.id))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Agent 1 now has room, agent 0 is over: the next one goes to 1, and then nobody has room.
    let third = desk.inbound("c3").await;
    assert_eq!(desk.assignee(third).await, Some(1));
    let fourth = desk.inbound("c4").await;
    assert_eq!(desk.assignee(fourth).await, None);
    // A claim made believing it unassigned, after routing gave it away, is refused.
    set_status(&desk.agents[1], third, "resolved").await;
    assert_eq!(desk.assignee(fourth).await, Some(1));
    let (status, body) = assign(&desk.agents[0], fourth, Some(desk.agents[0].agent.id), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "assignment_conflict");
}

#[tokio::test]
async fn an_agent_who_releases_a_conversation_is_not_handed_it_straight_back() {
    let desk = Desk::new("least_loaded", 2, None).await;
    let conversation = desk.inbound("c1").await;
    assert_eq!(desk.assignee(conversation).await, Some(0));
    let (status, body) = assign(&desk.agents[0], conversation, None, Some(desk.agents[0].agent.id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(desk.assignee(conversation).await, Some(1), "released by 0, routed to 1");
}

#[tokio::test]
async fn r19_routing_explain_lists_every_member_and_why_each_was_passed_over() {
    let mut desk = Desk::new("least_loaded", 3, Some(1)).await;
    set_availability(&desk.agents[1], "busy").await;
    let first = desk.inbound("c1").await;
    assert_eq!(desk.assignee(first).await, Some(0));
    let conversation = desk.inbound("c2").await;
    assert_eq!(desk.assignee(conversation).await, Some(2));
    desk.streams.clear();
    let (status, explanation) =
        desk.server.admin.get(&format!("/api/v1/conversations/{conversation}/routing-explain")).await;
    assert_eq!(status, StatusCode::OK, "{explanation}");
    let explanation: RoutingExplanation = serde_json::from_value(explanation).expect("explanation");
    let Some(decision) = &explanation.last_decision else { panic!("the decision is stored") };
    let EventKind::Assigned { candidates, to, .. } = &decision.event else { panic!("an assigned event") };
    assert_eq!(*to, Some(desk.agents[2].agent.id));
    let why: Vec<Option<PassedOver>> = candidates.iter().map(|c| c.passed_over).collect();
    assert_eq!(why, vec![Some(PassedOver::AtCapacity), Some(PassedOver::Unavailable), None]);
    assert_eq!(explanation.candidates.len(), 3, "every member, as things stand now");
    // Agents may not ask.
    let (status, _) =
        desk.agents[0].get(&format!("/api/v1/conversations/{conversation}/routing-explain")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The same script on a fresh server: who got each conversation, by creation order of agents.
async fn script() -> Vec<Option<usize>> {
    let desk = Desk::new("least_loaded", 3, Some(2)).await;
    let mut conversations = Vec::new();
    for n in 0..5 {
        conversations.push(desk.inbound(&format!("c{n}")).await);
    }
    set_status(&desk.agents[1], conversations[1], "resolved").await;
    set_availability(&desk.agents[2], "busy").await;
    for n in 5..8 {
        conversations.push(desk.inbound(&format!("c{n}")).await);
    }
    set_availability(&desk.agents[2], "online").await;
    let mut assignees = Vec::new();
    for conversation in conversations {
        assignees.push(desk.assignee(conversation).await);
    }
    assignees
}

#[tokio::test]
async fn r20_the_same_script_gives_the_same_assignments_on_a_fresh_server() {
    let first = script().await;
    let second = script().await;
    assert_eq!(first, second);
    assert!(first.iter().filter(|a| a.is_some()).count() >= 5, "the script assigns: {first:?}");
}

/// Waits until routing's timers have run past the server clock's `at`: a conversation snoozed
/// until `at` wakes (timers fire earliest first, so any due before it fired already).
async fn timers_passed(desk: &Desk, marker: Id, at: Millis) {
    for _ in 0..400 {
        let woken = events(&desk.server, marker).await.iter().any(|e| {
            matches!(
                e.event,
                EventKind::Status { from: ConversationStatus::Snoozed, to: ConversationStatus::Open, .. }
            ) && e.at >= at
        });
        if woken {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the timer loop did not pass {at}");
}

/// A conversation of `agent`'s snoozed until `until`, to mark the timer loop's progress.
async fn snoozed_marker(desk: &Desk, agent: usize, until: Millis) -> Id {
    let marker = desk.inbound(&format!("marker-{until}")).await;
    let owner = desk.assignee(marker).await.expect("routed");
    let (status, body) = assign(
        &desk.server.admin,
        marker,
        Some(desk.agents[agent].agent.id),
        Some(desk.agents[owner].agent.id),
    )
    .await;
    assert!(status == StatusCode::OK, "{body}");
    let snooze = json!({"client_id": Id::new_v4(), "status": "snoozed", "snoozed_until": until});
    let (status, body) = act(&desk.server.admin, marker, "status", snooze).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    marker
}

fn now(desk: &Desk) -> Millis {
    switchboard_server::Clock::now(desk.server.clock.as_ref())
}

#[tokio::test]
async fn r10_an_unavailable_agents_waiting_customers_go_back_after_the_delay() {
    let desk = Desk::new("least_loaded", 2, None).await;
    set_availability(&desk.agents[1], "offline").await;
    // A holds C1 (customer waiting), C2 (answered), C3 (pending).
    let c1 = desk.inbound("c1").await;
    let c2 = desk.inbound("c2").await;
    let c3 = desk.inbound("c3").await;
    for conversation in [c1, c2, c3] {
        assert_eq!(desk.assignee(conversation).await, Some(0));
    }
    let reply = json!({"client_id": Id::new_v4(), "kind": "reply", "body": "on it"});
    let (status, body) = act(&desk.agents[0], c2, "messages", reply).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    set_status(&desk.agents[0], c3, "pending").await;
    set_availability(&desk.agents[1], "online").await;

    // A goes offline at t0; a marker snoozed to t0 + 299 s shows the loop got there.
    let t0 = now(&desk);
    set_availability(&desk.agents[0], "offline").await;
    let marker = snoozed_marker(&desk, 1, t0 + 299_000).await;
    desk.server.clock.advance(299_000);
    timers_passed(&desk, marker, t0 + 299_000).await;
    assert_eq!(desk.assignee(c1).await, Some(0), "nothing yet at t0 + 299 s");

    let marker = snoozed_marker(&desk, 1, t0 + 301_000).await;
    desk.server.clock.advance(2_000);
    timers_passed(&desk, marker, t0 + 301_000).await;
    assert_eq!(desk.assignee(c1).await, Some(1), "C1's waiting customer went to B");
    assert_eq!((desk.assignee(c2).await, desk.assignee(c3).await), (Some(0), Some(0)), "the others stay");
    let released = events(&desk.server, c1).await;
    let release = released
        .iter()
        .find(|e| matches!(&e.event, EventKind::Assigned { reason, .. } if reason == "agent_unavailable"))
        .expect("a release event");
    assert!(matches!(release.actor, Actor::System { .. }));
    // Dated when it fell due (300 s after the server saw A go), not when the loop got to it.
    assert!((t0 + 300_000..t0 + 301_000).contains(&release.at), "released at {}", release.at - t0);
}

#[tokio::test]
async fn r11_an_agent_back_within_the_delay_keeps_their_conversations() {
    let desk = Desk::new("least_loaded", 2, None).await;
    set_availability(&desk.agents[1], "offline").await;
    let c1 = desk.inbound("c1").await;
    assert_eq!(desk.assignee(c1).await, Some(0));
    set_availability(&desk.agents[1], "online").await;
    let t0 = now(&desk);
    set_availability(&desk.agents[0], "offline").await;
    desk.server.clock.advance(120_000);
    set_availability(&desk.agents[0], "online").await;
    let marker = snoozed_marker(&desk, 1, t0 + 400_000).await;
    desk.server.clock.advance(300_000);
    timers_passed(&desk, marker, t0 + 400_000).await;
    assert_eq!(desk.assignee(c1).await, Some(0), "the countdown stopped when A came back");
}

#[tokio::test]
async fn r12_a_customer_writing_to_an_unavailable_assignee_is_routed_at_once() {
    let desk = Desk::new("least_loaded", 2, None).await;
    set_availability(&desk.agents[1], "offline").await;
    let c1 = desk.inbound("c1").await;
    assert_eq!(desk.assignee(c1).await, Some(0));
    set_availability(&desk.agents[1], "online").await;
    set_availability(&desk.agents[0], "busy").await;
    desk.server.inbound(&desk.inbox, "c1", "again", "anyone there?").await;
    assert_eq!(desk.assignee(c1).await, Some(1), "no waiting for the delay");
}

#[tokio::test]
async fn the_queue_and_the_workload_show_what_routing_sees() {
    let desk = Desk::new("least_loaded", 2, Some(1)).await;
    let held_a = desk.inbound("a").await;
    let held_b = desk.inbound("b").await;
    let q1 = desk.inbound("q1").await;
    desk.server.clock.advance(60_000);
    let q2 = desk.inbound("q2").await;
    let queue = |body: Value| -> Vec<(u32, Id)> {
        serde_json::from_value::<Vec<QueuedConversation>>(body)
            .expect("queue")
            .into_iter()
            .map(|q| (q.position, q.conversation_id))
            .collect()
    };
    let (status, body) = desk.server.admin.get("/api/v1/routing/queue").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(queue(body), vec![(1, q1), (2, q2)]);

    set_status(&desk.agents[1], held_b, "pending").await;
    assert_eq!(desk.assignee(q1).await, Some(1));
    let (_, body) = desk.server.admin.get("/api/v1/routing/queue").await;
    assert_eq!(queue(body), vec![(1, q2)]);

    let (status, body) = desk.server.admin.get("/api/v1/workload").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: Vec<AgentWorkload> = serde_json::from_value(body).expect("workload");
    let row = |n: usize| rows.iter().find(|r| r.agent_id == desk.agents[n].agent.id).expect("a row").clone();
    let (a, b) = (row(0), row(1));
    assert_eq!((a.load, a.parked, a.capacity, a.connected, a.can_take_more), (1, 0, Some(1), true, false));
    assert_eq!((b.load, b.parked, b.can_take_more), (1, 1, false), "the pending one is parked, not load");
    let _ = held_a;
    let (status, _) = desk.agents[0].get("/api/v1/workload").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents don't see everyone's load");
}

#[tokio::test]
async fn r18_an_unanswered_routed_conversation_is_handed_over_then_left_for_a_lead() {
    let desk = Desk::new("least_loaded", 3, None).await;
    let policy = json!({"routing": {"mode": "least_loaded", "reassign_after_secs": 600, "max_handovers": 2}});
    let path = format!("/api/v1/inboxes/{}", desk.inbox.inbox.id);
    let (status, body) = desk.server.admin.request(Method::PATCH, &path, Some(policy)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Answered in time: the deadline is met and nothing moves.
    let answered = desk.inbound("answered").await;
    let owner = desk.assignee(answered).await.expect("routed");
    let reply = json!({"client_id": Id::new_v4(), "kind": "reply", "body": "here"});
    assert_eq!(act(&desk.agents[owner], answered, "messages", reply).await.0, StatusCode::OK);
    // Unanswered: goes to agent 1 or 2 (0 holds one already), then on.
    let t0 = now(&desk);
    let ignored = desk.inbound("ignored").await;
    let first = desk.assignee(ignored).await.expect("routed");
    for (n, handovers) in [(1, 1), (2, 2)] {
        let marker = snoozed_marker(&desk, owner, t0 + n * 601_000).await;
        desk.server.clock.advance(601_000);
        timers_passed(&desk, marker, t0 + n * 601_000).await;
        let history = events(&desk.server, ignored).await;
        let taken_back = history
            .iter()
            .filter(|e| matches!(&e.event, EventKind::Assigned { reason, .. } if reason == "no_reply"))
            .count();
        assert_eq!(taken_back, handovers);
    }
    assert_eq!(desk.assignee(ignored).await, None, "after two handovers it waits for a person");
    let history = events(&desk.server, ignored).await;
    let given_to: Vec<Id> = history
        .iter()
        .filter_map(|e| match &e.event {
            EventKind::Assigned { to: Some(agent), .. } => Some(*agent),
            _ => None,
        })
        .collect();
    assert_eq!(given_to.len(), 2, "two different agents had it: {given_to:?}");
    assert_ne!(given_to[0], given_to[1]);
    assert_eq!(given_to[0], desk.agents[first].agent.id);
    assert_eq!(desk.assignee(answered).await, Some(owner), "the answered one stayed");
    // A lead may still assign it by hand.
    let (status, body) = assign(&desk.server.admin, ignored, Some(desk.agents[0].agent.id), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn leads_set_routing_hours_replies_and_capacity_but_not_an_inboxs_structure() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let path = format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id);
    let lead = &workspace.lena;
    let routing = json!({"routing": {"mode": "round_robin"}, "auto_replies": {"greeting": {"body": "Hi!"}}});
    let (status, body) = lead.request(Method::PATCH, &path, Some(routing)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["routing"]["mode"], "round_robin");
    let (status, _) = lead.request(Method::PATCH, &path, Some(json!({"name": "Renamed"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the inbox's structure stays the admin's");
    let agent = format!("/api/v1/agents/{}", workspace.sara.agent.id);
    let (status, body) = lead.request(Method::PATCH, &agent, Some(json!({"capacity": 6}))).await;
    assert_eq!((status, body["capacity"].clone()), (StatusCode::OK, json!(6)));
    let (status, _) = lead.request(Method::PATCH, &agent, Some(json!({"capacity": 6, "role": "lead"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        workspace.sara.request(Method::PATCH, &path, Some(json!({"routing": {"mode": "manual"}}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents can't");
}

#[tokio::test]
async fn r17_deactivating_an_agent_unassigns_each_conversation_with_its_event_and_routes_the_open_ones() {
    let desk = Desk::new("least_loaded", 2, None).await;
    let a = desk.agents[0].agent.id;
    let first = desk.inbound("d1").await;
    let second = desk.inbound("d2").await;
    let third = desk.inbound("d3").await;
    // Least loaded, ties to the longest since routed: A, B, A.
    assert_eq!(
        (desk.assignee(first).await, desk.assignee(second).await, desk.assignee(third).await),
        (Some(0), Some(1), Some(0))
    );
    set_status(&desk.agents[0], third, "pending").await;
    let path = format!("/api/v1/agents/{a}");
    let (code, body) =
        desk.server.admin.request(reqwest::Method::PATCH, &path, Some(json!({"active": false}))).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    for conversation in [first, third] {
        let unassigned: Vec<ConversationEvent> = events(&desk.server, conversation)
            .await
            .into_iter()
            .filter(
                |e| matches!(&e.event, EventKind::Assigned { from: Some(from), to: None, .. } if *from == a),
            )
            .collect();
        assert_eq!(unassigned.len(), 1, "one event per conversation: {unassigned:#?}");
        let EventKind::Assigned { reason, .. } = &unassigned[0].event else { unreachable!() };
        assert_eq!(reason, "deactivated");
    }
    assert_eq!(desk.assignee(first).await, Some(1), "the open one is routed to B at once");
    assert_eq!(desk.assignee(third).await, None, "a pending one waits for its customer, unassigned");
    assert_eq!(desk.assignee(second).await, Some(1));
}

/// The access-removed events of `conversation`: A unassigned because they lost the inbox.
async fn access_removed(server: &TestServer, conversation: Id, from: Id) -> usize {
    events(server, conversation)
        .await
        .iter()
        .filter(|e| {
            matches!(&e.event, EventKind::Assigned { from: Some(f), to: None, reason, .. }
                if *f == from && reason == "access_removed")
        })
        .count()
}

#[tokio::test]
async fn r17_taking_an_agent_off_an_inbox_or_out_of_its_team_unassigns_with_its_event_and_routes() {
    let desk = Desk::new("least_loaded", 2, None).await;
    let (a, b) = (desk.agents[0].agent.id, desk.agents[1].agent.id);
    let first = desk.inbound("o1").await;
    let second = desk.inbound("o2").await;
    assert_eq!((desk.assignee(first).await, desk.assignee(second).await), (Some(0), Some(1)));
    let inbox = format!("/api/v1/inboxes/{}", desk.inbox.inbox.id);
    let patch_inbox = |body: Value| {
        let inbox = inbox.clone();
        let admin = &desk.server.admin;
        async move {
            let (code, body) = admin.request(Method::PATCH, &inbox, Some(body)).await;
            assert_eq!(code, StatusCode::OK, "{body}");
        }
    };

    // Taken off the inbox: A's conversation is unassigned once, said so, and routed to B.
    patch_inbox(json!({"member_agent_ids": [b]})).await;
    assert_eq!(access_removed(&desk.server, first, a).await, 1, "one event, reason access_removed");
    assert_eq!(desk.assignee(first).await, Some(1), "routed to the member left");
    let said =
        desk.server.messages().await.into_iter().filter(|m| m.conversation_id == first).any(|m| {
            m.kind == MessageKind::Activity && m.body.contains("no longer has access to this inbox")
        });
    assert!(said, "an activity line says why");
    assert_eq!(access_removed(&desk.server, second, b).await, 0, "B kept theirs");

    // Back through a team: A sees the inbox again and takes the next conversation.
    let team =
        desk.server.admin.ok("/api/v1/teams", json!({"name": "Evenings", "member_agent_ids": [a]})).await;
    let team_id = team["id"].as_str().expect("team id").to_owned();
    patch_inbox(json!({"member_team_ids": [team_id]})).await;
    let third = desk.inbound("o3").await;
    assert_eq!(desk.assignee(third).await, Some(0), "A, the least loaded, through the team");
    // A change that leaves A's access (the team still names them) unassigns nothing.
    patch_inbox(json!({"name": "Routed, renamed"})).await;
    assert_eq!(desk.assignee(third).await, Some(0));

    // Out of the team that gave access: unassigned the same way, and routed to B.
    let (code, body) = desk
        .server
        .admin
        .request(Method::PATCH, &format!("/api/v1/teams/{team_id}"), Some(json!({"member_agent_ids": []})))
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(access_removed(&desk.server, third, a).await, 1);
    assert_eq!(desk.assignee(third).await, Some(1));
}
