//! Service-level clocks against the design's acceptance checks (team-automation.md §5.d, S-numbers
//! in the test names), on the injected clock: first and next response, resolution paused while
//! pending, warnings and breaches fired once and dated when due, met after a breach, resolution
//! ending the reply clocks, a reopen starting new clocks, and re-targeting when another policy
//! matches first.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{
    ledger::{ConversationEvent, EventKind},
    sla::{SlaClock, SlaClockStatus, SlaMetric},
    *,
};

use crate::harness::*;

const MIN: Millis = 60_000;

async fn policy(server: &TestServer, body: Value) -> Value {
    let (status, created) = server.admin.post("/api/v1/sla-policies", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created
}

/// The conversation as the admin's bootstrap has it now.
async fn conversation(server: &TestServer, id: Id) -> Conversation {
    let changes = server.admin.bootstrap().await;
    let change = changes
        .iter()
        .rfind(|c| c.entity == EntityKind::Conversation && c.id == id)
        .expect("the conversation");
    serde_json::from_value(change.data.clone().expect("data")).expect("conversation")
}

async fn clock(server: &TestServer, id: Id, metric: SlaMetric, instance: u32) -> SlaClock {
    let conversation = conversation(server, id).await;
    let sla = conversation.sla.expect("an SLA applies");
    sla.clocks.into_iter().find(|c| c.metric == metric && c.instance == instance).expect("the clock")
}

async fn events(server: &TestServer, conversation: Id) -> Vec<ConversationEvent> {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("events")
}

/// The SLA events of a conversation as (metric, instance, what).
async fn sla_events(server: &TestServer, conversation: Id) -> Vec<(SlaMetric, u32, String, Millis)> {
    events(server, conversation)
        .await
        .into_iter()
        .filter_map(|e| match e.event {
            EventKind::Sla { metric, instance, what, .. } => Some((metric, instance, what, e.at)),
            _ => None,
        })
        .collect()
}

/// Waits until the conversation's ledger shows `what` for the clock (the timer loop runs every
/// 20 ms; the due time has already passed on the server's clock).
async fn until_event(server: &TestServer, conversation: Id, metric: SlaMetric, what: &str) -> Millis {
    for _ in 0..200 {
        if let Some((.., at)) =
            sla_events(server, conversation).await.into_iter().find(|(m, _, w, _)| *m == metric && w == what)
        {
            return at;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no {what} for {metric:?}");
}

fn now(server: &TestServer) -> Millis {
    switchboard_server::Clock::now(server.clock.as_ref())
}

async fn reply(session: &Session, conversation: Id, body: &str) {
    let (status, value) = session.reply(conversation, body).await;
    assert_eq!(status, StatusCode::OK, "{value}");
}

async fn set_status(session: &Session, conversation: Id, status: &str) {
    let body = json!({"client_id": Id::new_v4(), "status": status});
    let (code, value) = session.post(&format!("/api/v1/conversations/{conversation}/status"), body).await;
    assert_eq!(code, StatusCode::OK, "{value}");
}

#[tokio::test]
async fn s3_s4_first_response_warns_and_breaches_once_then_is_met_late() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(
        &server,
        json!({"name": "Support", "first_response_secs": 3600, "raise_priority_on_breach": "high"}),
    )
    .await;
    let t0 = now(&server);
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let first = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert_eq!(first.status, SlaClockStatus::Running);
    let due = first.due_at.expect("due");
    assert!((t0 + 60 * MIN..t0 + 61 * MIN).contains(&due), "an hour after the message");
    // A note and pending don't stop or pause a reply clock.
    let note = json!({"client_id": Id::new_v4(), "kind": "note", "body": "looking"});
    let (status, body) = workspace.sara.post(&format!("/api/v1/conversations/{id}/messages"), note).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    set_status(&workspace.sara, id, "pending").await;
    assert_eq!(clock(&server, id, SlaMetric::FirstResponse, 1).await.status, SlaClockStatus::Running);

    server.clock.advance(61 * MIN);
    let warned = until_event(&server, id, SlaMetric::FirstResponse, "warning").await;
    let breached = until_event(&server, id, SlaMetric::FirstResponse, "breached").await;
    assert_eq!(breached, due, "dated when it fell due, not when the loop saw it");
    assert_eq!(warned, first.warn_at.expect("warn"), "at 80 %");
    let after = conversation(&server, id).await;
    assert_eq!(after.priority, Priority::High, "the policy raises priority on a breach");
    // The loop keeps running: no second breach or warning.
    server.clock.advance(MIN);
    set_status(&workspace.sara, id, "open").await;
    let counted =
        |what: &str, all: &[(SlaMetric, u32, String, Millis)]| all.iter().filter(|e| e.2 == what).count();
    let all = sla_events(&server, id).await;
    assert_eq!((counted("warning", &all), counted("breached", &all)), (1, 1));

    server.clock.advance(18 * MIN);
    reply(&workspace.sara, id, "sorry for the wait").await;
    let first = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert_eq!(first.status, SlaClockStatus::BreachedMet);
    let overrun = first.overrun_ms();
    assert!((20 * MIN..21 * MIN).contains(&overrun), "about 20 minutes over: {overrun}");
}

#[tokio::test]
async fn s5_next_response_instances_and_an_auto_reply_meets_nothing() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Replies", "first_response_secs": 3600, "next_response_secs": 1800}))
        .await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    reply(&workspace.sara, id, "hi").await;
    assert_eq!(clock(&server, id, SlaMetric::FirstResponse, 1).await.status, SlaClockStatus::Met);
    let t1 = now(&server);
    server.inbound(&workspace.whatsapp, "c1", "m2", "one more thing").await;
    server.clock.advance(5 * MIN);
    server.inbound(&workspace.whatsapp, "c1", "m3", "and another").await;
    let next = clock(&server, id, SlaMetric::NextResponse, 1).await;
    assert!((t1..t1 + MIN).contains(&next.started_at), "anchored at the first unanswered message");
    let conversation_now = conversation(&server, id).await;
    let instances = conversation_now
        .sla
        .expect("sla")
        .clocks
        .iter()
        .filter(|c| c.metric == SlaMetric::NextResponse)
        .count();
    assert_eq!(instances, 1, "one instance while the customer waits");
    reply(&workspace.sara, id, "done").await;
    assert_eq!(clock(&server, id, SlaMetric::NextResponse, 1).await.status, SlaClockStatus::Met);
    server.inbound(&workspace.whatsapp, "c1", "m4", "thanks, last one").await;
    assert_eq!(clock(&server, id, SlaMetric::NextResponse, 2).await.status, SlaClockStatus::Running);
}

#[tokio::test]
async fn s6_s7_resolution_pauses_while_pending_and_resolving_ends_the_reply_clocks() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(
        &server,
        json!({"name": "All", "first_response_secs": 3600, "next_response_secs": 600, "resolution_secs": 86400}),
    )
    .await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    reply(&workspace.sara, id, "hi").await;
    server.clock.advance(120 * MIN);
    set_status(&workspace.sara, id, "pending").await;
    server.clock.advance(180 * MIN);
    set_status(&workspace.sara, id, "open").await;
    server.clock.advance(60 * MIN);
    let resolution = clock(&server, id, SlaMetric::Resolution, 1).await;
    let counted = resolution.elapsed(switchboard_proto::sla::Time::Wall, now(&server));
    assert!((180 * MIN..181 * MIN).contains(&counted), "2 h + 1 h counted, not the 3 h pending: {counted}");
    // A customer message, not yet due when resolved: cancelled; the resolution clock is met.
    server.inbound(&workspace.whatsapp, "c1", "m2", "still there?").await;
    set_status(&workspace.sara, id, "resolved").await;
    let after = conversation(&server, id).await.sla.expect("sla");
    let status =
        |metric| after.clocks.iter().find(|c| c.metric == metric && c.instance == 1).map(|c| c.status);
    assert_eq!(status(SlaMetric::Resolution), Some(SlaClockStatus::Met));
    assert_eq!(status(SlaMetric::NextResponse), Some(SlaClockStatus::Cancelled));
    // Nothing counts on after resolution (contrast chatwoot#10178).
    server.clock.advance(600 * MIN);
    let frozen = clock(&server, id, SlaMetric::Resolution, 1).await;
    assert_eq!(frozen.elapsed(switchboard_proto::sla::Time::Wall, now(&server)), frozen.accumulated_ms);
}

#[tokio::test]
async fn s7_resolving_after_a_breach_freezes_it_breached_closed_and_s8_a_reopen_starts_anew() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Fast", "first_response_secs": 600})).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    server.clock.advance(11 * MIN);
    until_event(&server, id, SlaMetric::FirstResponse, "breached").await;
    set_status(&workspace.sara, id, "resolved").await;
    assert_eq!(clock(&server, id, SlaMetric::FirstResponse, 1).await.status, SlaClockStatus::BreachedClosed);
    let cycle_one: Vec<ConversationEvent> = events(&server, id).await;
    // The customer reopens: cycle 2, a new first-response clock from the reopening message.
    let t = now(&server);
    server.inbound(&workspace.whatsapp, "c1", "m2", "back again").await;
    let reopened = conversation(&server, id).await.sla.expect("sla");
    assert_eq!(reopened.cycle, 2);
    let first = reopened.clocks.iter().find(|c| c.metric == SlaMetric::FirstResponse).expect("a new clock");
    assert_eq!(first.status, SlaClockStatus::Running);
    assert!((t..t + MIN).contains(&first.started_at));
    let now_events = events(&server, id).await;
    assert_eq!(&now_events[..cycle_one.len()], &cycle_one[..], "cycle 1's history is untouched");
}

#[tokio::test]
async fn s1_another_policy_matching_first_takes_over_the_running_clocks() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Urgent", "position": 1, "conditions": {"priorities": ["urgent"]}, "first_response_secs": 900})).await;
    policy(&server, json!({"name": "Everyone", "position": 2, "first_response_secs": 3600})).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    assert_eq!(conversation(&server, id).await.sla.expect("sla").policy_name, "Everyone");
    let priority = |level: &str| json!({"client_id": Id::new_v4(), "priority": level});
    let (status, body) =
        workspace.sara.post(&format!("/api/v1/conversations/{id}/priority"), priority("urgent")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let urgent = conversation(&server, id).await.sla.expect("sla");
    assert_eq!(urgent.policy_name, "Urgent");
    server.clock.advance(10 * MIN);
    let (status, body) =
        workspace.sara.post(&format!("/api/v1/conversations/{id}/priority"), priority("low")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t = now(&server);
    let relaxed = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert_eq!(relaxed.target_ms, 60 * MIN);
    assert!((10 * MIN..11 * MIN).contains(&relaxed.accumulated_ms), "ten minutes counted are kept");
    let due = relaxed.due_at.expect("due");
    assert!((t + 49 * MIN..t + 51 * MIN).contains(&due), "the rest of the hour from now");
    let retargeted = sla_events(&server, id).await.iter().filter(|e| e.2 == "retargeted").count();
    assert_eq!(retargeted, 2);
}

#[tokio::test]
async fn policies_are_checked_and_only_leads_may_write_them() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, _) = server.admin.post("/api/v1/sla-policies", json!({"name": "No target"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = json!({"name": "Odd", "first_response_secs": 60, "warn_at_percent": 100});
    assert_eq!(server.admin.post("/api/v1/sla-policies", bad).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let body = json!({"name": "Agents can't", "first_response_secs": 60});
    assert_eq!(workspace.sara.post("/api/v1/sla-policies", body.clone()).await.0, StatusCode::FORBIDDEN);
    let created = policy(&server, body).await;
    let id = created["id"].as_str().expect("id");
    let (status, listed) = workspace.sara.get("/api/v1/sla-policies").await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (status, _) =
        workspace.lena.request(Method::DELETE, &format!("/api/v1/sla-policies/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_policy_created_later_applies_at_the_next_change_anchored_at_the_waiting_message() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let t0 = now(&server);
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    assert!(conversation(&server, id).await.sla.is_none(), "no policy yet");
    server.clock.advance(10 * MIN);
    policy(&server, json!({"name": "Later", "first_response_secs": 1800})).await;
    let labels = json!({"client_id": Id::new_v4(), "add": ["vip"], "remove": []});
    let (status, body) = workspace.sara.post(&format!("/api/v1/conversations/{id}/labels"), labels).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert!((t0..t0 + MIN).contains(&first.started_at), "anchored at the customer's message");
    let due = first.due_at.expect("due");
    assert!((t0 + 30 * MIN..t0 + 31 * MIN).contains(&due));
}

#[tokio::test]
async fn applying_the_policies_gives_open_conversations_their_clocks_at_once() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let t0 = now(&server);
    let waiting = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let done = server.inbound(&workspace.whatsapp, "c2", "m2", "thanks").await.conversation_id;
    set_status(&workspace.sara, done, "resolved").await;
    policy(&server, json!({"name": "Now", "first_response_secs": 1800})).await;
    assert!(conversation(&server, waiting).await.sla.is_none(), "not before it is applied");
    let (status, _) = workspace.sara.post("/api/v1/sla-policies/apply", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents can't");
    let (status, applied) = workspace.lena.post("/api/v1/sla-policies/apply", json!({})).await;
    assert_eq!((status, applied["conversations"].as_u64()), (StatusCode::OK, Some(1)), "{applied}");
    let first = clock(&server, waiting, SlaMetric::FirstResponse, 1).await;
    assert!((t0..t0 + MIN).contains(&first.started_at), "anchored at the customer's message");
    assert!(conversation(&server, done).await.sla.is_none(), "a resolved conversation is left alone");
    let (_, again) = workspace.lena.post("/api/v1/sla-policies/apply", json!({})).await;
    assert_eq!(again["conversations"].as_u64(), Some(0), "applying twice changes nothing");
}
