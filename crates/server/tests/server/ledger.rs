//! The conversation event ledger and durable timers: every state change writes its event (with
//! actor and cycle), cascades included; snoozes wake on the injected clock, even across a restart.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::Clock;

use crate::harness::*;

const HOUR: Millis = 60 * 60 * 1000;

async fn events(session: &Session, conversation: Id) -> Vec<Value> {
    let (status, events) = session.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::OK, "events: {events}");
    events.as_array().cloned().unwrap_or_default()
}

/// `kind` (and for a message, its class; for an assignment, its reason) with the cycle, in order.
fn summary(events: &[Value]) -> Vec<(String, u64)> {
    events
        .iter()
        .map(|event| {
            let kind = event["kind"].as_str().unwrap_or_default();
            let detail = match kind {
                "message" => format!("message:{}", event["class"].as_str().unwrap_or_default()),
                "assigned" => format!("assigned:{}", event["reason"].as_str().unwrap_or_default()),
                "status" => format!("status:{}", event["to"].as_str().unwrap_or_default()),
                other => other.to_owned(),
            };
            (detail, event["cycle"].as_u64().unwrap_or_default())
        })
        .collect()
}

fn owned(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(kind, cycle)| ((*kind).to_owned(), *cycle)).collect()
}

#[tokio::test]
async fn every_state_change_writes_its_event_with_actor_and_cycle() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = &workspace.sara;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let base = format!("/api/v1/conversations/{conversation}");
    let team = sara.agent.team_ids[0];
    sara.ok(
        &format!("{base}/assign"),
        json!({"client_id": Id::new_v4(), "assignee_id": sara.agent.id, "expected_assignee_id": null}),
    )
    .await;
    sara.ok(
        &format!("{base}/assign"),
        json!({"client_id": Id::new_v4(), "assignee_id": sara.agent.id, "team_id": team}),
    )
    .await;
    sara.reply(conversation, "On it").await;
    sara.ok(
        &format!("{base}/messages"),
        json!({"client_id": Id::new_v4(), "kind": "note", "body": "checking"}),
    )
    .await;
    sara.ok(&format!("{base}/priority"), json!({"client_id": Id::new_v4(), "priority": "urgent"})).await;
    sara.ok(&format!("{base}/labels"), json!({"client_id": Id::new_v4(), "add": ["vip", "refund"]})).await;
    sara.ok(&format!("{base}/status"), json!({"client_id": Id::new_v4(), "status": "pending"})).await;
    sara.ok(&format!("{base}/status"), json!({"client_id": Id::new_v4(), "status": "resolved"})).await;
    // The customer writes again within a day: the same conversation, a new cycle.
    let again = server.inbound(&workspace.whatsapp, "c1", "m2", "one more thing").await;
    assert_eq!(again.conversation_id, conversation, "a recent conversation reopens");
    // Cascades: a deleted label leaves every conversation, a deactivated agent leaves the queue.
    let (_, labels) = server.admin.get("/api/v1/labels").await;
    let vip =
        labels.as_array().and_then(|l| l.iter().find(|l| l["name"] == "vip")).cloned().unwrap_or_default();
    let (status, _) = server
        .admin
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/labels/{}", vip["id"].as_str().unwrap_or_default()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/agents/{}", sara.agent.id),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let all = events(&server.admin, conversation).await;
    assert_eq!(
        summary(&all),
        owned(&[
            ("created", 1),
            ("message:inbound", 1),
            ("assigned:claim", 1),
            ("team", 1),
            ("message:human", 1),
            ("message:note", 1),
            ("priority", 1),
            ("labels", 1),
            ("status:pending", 1),
            ("status:resolved", 1),
            ("resolved", 1),
            ("reopened", 2),
            ("status:open", 2),
            ("message:inbound", 2),
            ("labels", 2),
            ("assigned:deactivated", 2),
        ]),
        "the ledger, in order: {all:#?}"
    );
    let actor = |i: usize| all[i]["actor"].clone();
    assert_eq!(actor(0)["type"], "contact", "the customer started it");
    assert_eq!(actor(2), json!({"type": "agent", "id": sara.agent.id}));
    assert_eq!(actor(11)["type"], "contact", "the customer reopened it");
    assert_eq!(
        actor(15),
        json!({"type": "agent", "id": server.admin.agent.id}),
        "the admin deactivated Sara"
    );
    assert_eq!(all[14]["removed"], json!(["vip"]));
    assert_eq!(all[15]["to"], Value::Null);
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap_or_default()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] <= w[1]) && seqs[0] > 0,
        "events carry their commit's seq: {seqs:?}"
    );

    // An agent-started conversation is created by the agent, and an invisible one has no ledger.
    let (_, contact) = server
        .admin
        .post(
            "/api/v1/contacts",
            json!({"client_id": Id::new_v4(), "name": "Nadia", "email": "nadia@example.com"}),
        )
        .await;
    let started = server
        .admin
        .ok("/api/v1/conversations", json!({"client_id": Id::new_v4(), "inbox_id": workspace.email.inbox.id, "contact_id": contact["contact"]["id"], "body": "Hello"}))
        .await;
    let started_id: Id = serde_json::from_value(started["conversation"]["id"].clone()).expect("id");
    let started_events = events(&server.admin, started_id).await;
    assert_eq!(summary(&started_events), owned(&[("created", 1), ("message:human", 1)]));
    assert_eq!(started_events[0]["origin"], "agent");
    let (status, _) = workspace.carl.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Carl can't see the WhatsApp inbox: out_of_view");
}

/// Polls until `done` holds for the conversation's events (the timer loop runs on its own task);
/// the clock was moved, so nothing here waits for the snooze itself.
async fn until_events(session: &Session, conversation: Id, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = events(session, conversation).await;
        if done(&all) {
            return all;
        }
        assert!(Instant::now() < deadline, "the timer never fired: {all:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn woke(events: &[Value]) -> bool {
    events.iter().any(|e| e["kind"] == "status" && e["from"] == "snoozed" && e["to"] == "open")
}

async fn snooze(session: &Session, conversation: Id, until: Millis) {
    session
        .ok(
            &format!("/api/v1/conversations/{conversation}/status"),
            json!({"client_id": Id::new_v4(), "status": "snoozed", "snoozed_until": until}),
        )
        .await;
}

#[tokio::test]
async fn a_snooze_wakes_at_its_time_on_the_injected_clock() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let until = server.clock.now() + HOUR;
    snooze(&workspace.sara, conversation, until).await;
    // Snoozed again for later, then for sooner: only the last time counts.
    snooze(&workspace.sara, conversation, until + 2 * HOUR).await;
    snooze(&workspace.sara, conversation, until).await;

    server.clock.advance(HOUR - 60_000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!woke(&events(&server.admin, conversation).await), "a minute early, it still sleeps");

    server.clock.advance(61_000);
    let all = until_events(&server.admin, conversation, woke).await;
    let wake = all
        .iter()
        .find(|e| e["kind"] == "status" && e["from"] == "snoozed" && e["to"] == "open")
        .cloned()
        .unwrap_or_default();
    assert_eq!(wake["actor"], json!({"type": "system", "reason": "snooze ended"}));
    assert_eq!(wake["at"], json!(until), "recorded at its due time");
    let page = workspace.sara.bootstrap().await;
    let current = page.iter().find(|c| c.id == conversation).and_then(|c| c.data.clone()).unwrap_or_default();
    assert_eq!((current["status"].as_str(), &current["snoozed_until"]), (Some("open"), &Value::Null));

    // Reopened by hand before its time: the timer is gone, nothing wakes it later.
    snooze(&workspace.sara, conversation, server.clock.now() + HOUR).await;
    workspace
        .sara
        .ok(
            &format!("/api/v1/conversations/{conversation}/status"),
            json!({"client_id": Id::new_v4(), "status": "open"}),
        )
        .await;
    let before = events(&server.admin, conversation).await.len();
    server.clock.advance(2 * HOUR);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(events(&server.admin, conversation).await.len(), before, "a cancelled snooze fires nothing");
}

#[tokio::test]
async fn a_snooze_that_fell_due_while_the_server_was_down_wakes_at_start_at_its_due_time() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let until = server.clock.now() + HOUR;
    snooze(&workspace.sara, conversation, until).await;

    let server = server.restart_later(3 * HOUR).await;
    let all = until_events(&server.admin, conversation, woke).await;
    let wake = all
        .iter()
        .find(|e| e["kind"] == "status" && e["from"] == "snoozed" && e["to"] == "open")
        .cloned()
        .unwrap_or_default();
    assert_eq!(wake["at"], json!(until), "the wake is dated when it was due, not when the server came back");
    assert_eq!(all.iter().filter(|e| e["kind"] == "status" && e["to"] == "open").count(), 1, "it wakes once");
}

#[tokio::test]
async fn a_backlog_of_timers_larger_than_a_batch_drains_without_a_poll_per_batch() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let until = server.clock.now() + HOUR;
    let mut conversations = Vec::new();
    for n in 0..150 {
        let id = server
            .inbound(&workspace.whatsapp, &format!("c{n}"), &format!("m{n}"), "hi")
            .await
            .conversation_id;
        snooze(&workspace.sara, id, until).await;
        conversations.push(id);
    }
    // Down past the due time, back with a poll of an hour: only the start-up pass runs, so every
    // snooze wakes in it or not at all.
    let server = server
        .restart_later_with(HOUR + 60_000, |config| config.timer_poll = Duration::from_secs(3600))
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = server.admin.bootstrap().await;
        let open = page
            .iter()
            .filter(|c| conversations.contains(&c.id))
            .filter(|c| c.data.as_ref().is_some_and(|d| d["status"] == "open"))
            .count();
        if open == conversations.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{open} of {} woke", conversations.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
