//! Service-level clocks against the design's acceptance checks (team-automation.md §5.d, S-numbers
//! in the test names), on the injected clock: first and next response, resolution paused while
//! pending, warnings and breaches fired once and dated when due, met after a breach, resolution
//! ending the reply clocks, a reopen starting new clocks, re-targeting when another policy
//! matches first, a lead's pin, new business hours re-timing running clocks, a deleted policy,
//! escalation steps, an agent-started cycle, a breach that fell during downtime, and the
//! attainment report.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{
    ledger::{ConversationEvent, EventKind},
    sla::{SlaCancelReason, SlaClock, SlaClockStatus, SlaMetric, SlaNotify},
    *,
};

use crate::harness::*;

const MIN: Millis = 60_000;
const HOUR: Millis = 60 * MIN;
const DAY: Millis = 24 * HOUR;

/// Monday 2030-01-07 00:00 UTC.
const MONDAY: Millis = 1_893_974_400_000;

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

/// Moves the server's clock to `at` (it keeps running from there).
fn set_clock(server: &TestServer, at: Millis) {
    server.clock.advance(at - now(server));
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
        json!({"name": "Support", "first_response_secs": 3600, "escalations": [{"on": "breach", "raise_priority": "high"}]}),
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

async fn pin(session: &Session, conversation: Id, body: Value) -> (StatusCode, Value) {
    session.request(Method::PUT, &format!("/api/v1/conversations/{conversation}/sla"), Some(body)).await
}

/// The conversation's SLA events with everything they say.
async fn sla_event_values(server: &TestServer, conversation: Id) -> Vec<Value> {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().cloned().unwrap_or_default().into_iter().filter(|e| e["kind"] == "sla").collect()
}

#[tokio::test]
async fn s10_a_pinned_policy_stays_through_changes_and_pinning_none_cancels_the_clocks() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Urgent", "position": 1, "conditions": {"priorities": ["urgent"]}, "first_response_secs": 900})).await;
    policy(
        &server,
        json!({"name": "Everyone", "position": 2, "first_response_secs": 3600, "resolution_secs": 86400}),
    )
    .await;
    let chosen = policy(
        &server,
        json!({"name": "Chosen", "position": 3, "conditions": {"labels": ["never"]}, "first_response_secs": 7200, "resolution_secs": 86400}),
    )
    .await;
    let chosen_id = chosen["id"].as_str().expect("id").to_owned();
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    assert_eq!(conversation(&server, id).await.sla.expect("sla").policy_name, "Everyone");

    let (status, _) = pin(&workspace.sara, id, json!({"policy_id": chosen_id})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents can't pin");
    let (status, _) = pin(&workspace.lena, id, json!({})).await;
    assert!(status.is_client_error(), "the policy must be named, or null: {status}");
    let (status, _) = pin(&workspace.lena, id, json!({"policy_id": Id::new_v4()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no such policy");
    server.clock.advance(10 * MIN);
    let (status, pinned) = pin(&workspace.lena, id, json!({"policy_id": chosen_id})).await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    let sla = conversation(&server, id).await.sla.expect("sla");
    assert_eq!((sla.policy_name.as_str(), sla.pinned), ("Chosen", true));
    let first = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert_eq!(first.target_ms, 120 * MIN, "the pinned policy's target");
    assert!((10 * MIN..11 * MIN).contains(&first.accumulated_ms), "what it counted is kept");

    // Changes that would match another policy first don't move a pinned conversation.
    let priority = json!({"client_id": Id::new_v4(), "priority": "urgent"});
    let (status, body) = workspace.sara.post(&format!("/api/v1/conversations/{id}/priority"), priority).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(conversation(&server, id).await.sla.expect("sla").policy_name, "Chosen");

    // No SLA: the live clocks are cancelled (removed), and the pin outlives a reopen.
    let (status, body) = pin(&workspace.lena, id, json!({"policy_id": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let removed = conversation(&server, id).await.sla.expect("the pin is kept");
    assert_eq!((removed.policy_id, removed.pinned), (None, true));
    assert!(removed
        .clocks
        .iter()
        .all(|c| c.status == SlaClockStatus::Cancelled && c.cancel_reason == Some(SlaCancelReason::Removed)));
    let cancelled: Vec<Value> =
        sla_event_values(&server, id).await.into_iter().filter(|e| e["what"] == "cancelled").collect();
    assert_eq!(cancelled.len(), 2, "first response and resolution");
    assert!(cancelled.iter().all(|e| e["reason"] == "removed"), "{cancelled:?}");
    set_status(&workspace.sara, id, "resolved").await;
    server.inbound(&workspace.whatsapp, "c1", "m2", "back again").await;
    let reopened = conversation(&server, id).await.sla.expect("pinned");
    assert_eq!((reopened.cycle, reopened.policy_id, reopened.clocks.len()), (2, None, 0), "still no SLA");
    let (status, _) = pin(&workspace.lena, id, json!({"policy_id": chosen_id})).await;
    assert_eq!(status, StatusCode::OK);
    let again = conversation(&server, id).await.sla.expect("sla");
    assert_eq!(again.policy_name, "Chosen");
    assert!(
        again
            .clocks
            .iter()
            .any(|c| c.metric == SlaMetric::FirstResponse && c.status == SlaClockStatus::Running),
        "pinning a policy again starts its clocks: {again:?}"
    );
}

/// UTC, every day around the clock, with these dates closed.
fn all_day_utc(holidays: &[&str]) -> Value {
    let day = json!([{"start": "00:00", "end": "24:00"}]);
    let holidays: Vec<Value> = holidays.iter().map(|date| json!({"date": date})).collect();
    json!({"time_zone": "UTC", "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
           "holidays": holidays})
}

async fn set_hours(server: &TestServer, inbox: &CreatedInbox, hours: Value) {
    let (status, body) = server
        .admin
        .request(Method::PATCH, &format!("/api/v1/inboxes/{}", inbox.inbox.id), Some(json!({"hours": hours})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn s11_new_business_hours_retime_running_clocks_from_the_edit_keeping_what_they_counted() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 12 * HOUR);
    set_hours(&server, &workspace.whatsapp, all_day_utc(&[])).await;
    policy(&server, json!({"name": "Business", "first_response_secs": 3600, "business_hours": true})).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let before = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert!((MONDAY + 13 * HOUR..MONDAY + 13 * HOUR + MIN).contains(&before.due_at.expect("due")));

    // Ten minutes later Monday and Tuesday become holidays: the 50 minutes left count from
    // Wednesday 00:00.
    server.clock.advance(10 * MIN);
    set_hours(&server, &workspace.whatsapp, all_day_utc(&["2030-01-07", "2030-01-08"])).await;
    let after = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    assert!(
        (10 * MIN..11 * MIN).contains(&after.accumulated_ms),
        "counted time kept: {}",
        after.accumulated_ms
    );
    let wednesday = MONDAY + 2 * DAY;
    let due = after.due_at.expect("due");
    assert!((wednesday + 49 * MIN..=wednesday + 50 * MIN).contains(&due), "re-timed from the edit: {due}");
    assert_eq!(after.warn_at, Some(due - 12 * MIN), "the warning too (80 %)");
    let retimed = sla_events(&server, id).await.iter().filter(|e| e.2 == "retimed").count();
    assert_eq!(retimed, 1);

    // The timer moved with it: the breach falls at the new due.
    set_clock(&server, wednesday + HOUR);
    let breached = until_event(&server, id, SlaMetric::FirstResponse, "breached").await;
    assert_eq!(breached, due);
}

#[tokio::test]
async fn s15_deleting_a_policy_cancels_its_running_clocks_and_keeps_its_name() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let doomed = policy(
        &server,
        json!({"name": "Doomed", "position": 1, "first_response_secs": 600, "resolution_secs": 86400}),
    )
    .await;
    policy(&server, json!({"name": "Other", "position": 2, "first_response_secs": 3600})).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let doomed_id = doomed["id"].as_str().expect("id");
    let (status, _) =
        workspace.lena.request(Method::DELETE, &format!("/api/v1/sla-policies/{doomed_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let sla = conversation(&server, id).await.sla.expect("sla");
    assert_eq!(sla.policy_name, "Doomed", "the name it was measured under stays");
    assert!(
        sla.clocks.iter().all(|c| c.status == SlaClockStatus::Cancelled
            && c.cancel_reason == Some(SlaCancelReason::PolicyDeleted)),
        "{sla:?}"
    );
    let cancelled: Vec<Value> =
        sla_event_values(&server, id).await.into_iter().filter(|e| e["what"] == "cancelled").collect();
    assert_eq!(cancelled.len(), 2);
    assert!(cancelled.iter().all(|e| e["reason"] == "policy_deleted" && e["policy_id"] == doomed_id));

    // A later change doesn't hand the cycle to another policy; the next cycle matches afresh.
    let labels = json!({"client_id": Id::new_v4(), "add": ["vip"], "remove": []});
    let (status, body) = workspace.sara.post(&format!("/api/v1/conversations/{id}/labels"), labels).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(conversation(&server, id).await.sla.expect("sla").policy_name, "Doomed");
    set_status(&workspace.sara, id, "resolved").await;
    server.inbound(&workspace.whatsapp, "c1", "m2", "again").await;
    assert_eq!(conversation(&server, id).await.sla.expect("sla").policy_name, "Other");
}

/// The escalation steps that ran for a conversation, as (after_secs, at).
async fn escalated(server: &TestServer, conversation: Id) -> Vec<(u64, Millis)> {
    sla_event_values(server, conversation)
        .await
        .iter()
        .filter(|e| e["what"] == "escalated")
        .map(|e| (e["escalation"]["after_secs"].as_u64().unwrap_or(0), e["at"].as_i64().unwrap_or(0)))
        .collect()
}

/// Waits until `count` escalation steps ran (the timer loop runs every 20 ms; they are due already
/// on the server's clock).
async fn until_escalated(server: &TestServer, conversation: Id, count: usize) -> Vec<(u64, Millis)> {
    for _ in 0..200 {
        let ran = escalated(server, conversation).await;
        if ran.len() >= count {
            return ran;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {count} escalation steps ran");
}

#[tokio::test]
async fn s12_escalation_steps_run_once_each_and_not_once_the_clock_is_met() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(
        &server,
        json!({"name": "Escalating", "first_response_secs": 3600, "escalations": [
            {"on": "warning", "notify": "assignee"},
            {"on": "breach", "notify": "team_leads", "raise_priority": "high"},
            {"on": "breach", "after_secs": 1800, "reassign": true}
        ]}),
    )
    .await;
    let bad = json!({"name": "Empty step", "first_response_secs": 60, "escalations": [{"on": "breach"}]});
    assert_eq!(server.admin.post("/api/v1/sla-policies", bad).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let late = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let met = server.inbound(&workspace.whatsapp, "c2", "m2", "hi").await.conversation_id;
    for id in [late, met] {
        let claim = json!({"client_id": Id::new_v4(), "assignee_id": workspace.sara.agent.id});
        let (status, body) = workspace.sara.post(&format!("/api/v1/conversations/{id}/assign"), claim).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let due = clock(&server, late, SlaMetric::FirstResponse, 1).await.due_at.expect("due");
    let warn = clock(&server, late, SlaMetric::FirstResponse, 1).await.warn_at.expect("warn");

    server.clock.advance(61 * MIN);
    until_event(&server, late, SlaMetric::FirstResponse, "breached").await;
    let ran = until_escalated(&server, late, 2).await;
    assert_eq!(ran, vec![(0, warn), (0, due)], "the warning and breach steps, dated when due");
    let now_late = conversation(&server, late).await;
    assert_eq!(now_late.priority, Priority::High);
    let runs = &clock(&server, late, SlaMetric::FirstResponse, 1).await.escalations;
    assert_eq!(
        runs.iter().map(|r| (r.step, r.notify)).collect::<Vec<_>>(),
        vec![(0, Some(SlaNotify::Assignee)), (1, Some(SlaNotify::TeamLeads))]
    );

    // Met ten minutes after the breach: its remaining step never runs.
    until_escalated(&server, met, 2).await;
    server.clock.advance(10 * MIN);
    reply(&workspace.sara, met, "sorry").await;
    assert_eq!(clock(&server, met, SlaMetric::FirstResponse, 1).await.status, SlaClockStatus::BreachedMet);
    // Half an hour after the breach the unmet one goes back to routing, once.
    server.clock.advance(21 * MIN);
    let ran = until_escalated(&server, late, 3).await;
    assert_eq!(ran.get(2), Some(&(1800, due + 30 * MIN)), "{ran:?}");
    assert_eq!(conversation(&server, late).await.assignee_id, None, "handed back to routing");
    server.clock.advance(60 * MIN);
    set_status(&workspace.sara, late, "open").await;
    assert_eq!(escalated(&server, late).await.len(), 3, "each step once");
    let met_steps: Vec<u32> =
        clock(&server, met, SlaMetric::FirstResponse, 1).await.escalations.iter().map(|r| r.step).collect();
    assert_eq!(met_steps, vec![0, 1], "the +30 min step didn't run for the clock met at +10 min");
}

#[tokio::test]
async fn s9_an_agent_started_conversation_has_no_first_response_and_the_customer_starts_next_response() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Replies", "first_response_secs": 3600, "next_response_secs": 1800, "resolution_secs": 86400})).await;
    // A customer known from an earlier, resolved conversation; the agent writes to them first.
    let earlier = server.inbound(&workspace.whatsapp, "c1", "m1", "an old question").await.conversation_id;
    set_status(&workspace.sara, earlier, "resolved").await;
    server.clock.advance(2 * DAY);
    let contact_id = conversation(&server, earlier).await.contact_id;
    let started = workspace
        .sara
        .ok(
            "/api/v1/conversations",
            json!({"client_id": Id::new_v4(), "inbox_id": workspace.whatsapp.inbox.id,
            "contact_id": contact_id, "template": {"name": "follow_up", "params": ["Nadia", "your order"]}}),
        )
        .await;
    let id: Id = serde_json::from_value(started["conversation"]["id"].clone()).expect("id");
    let sla = conversation(&server, id).await.sla.expect("sla");
    assert!(sla.clocks.iter().all(|c| c.metric != SlaMetric::FirstResponse), "no first response: {sla:?}");
    // The customer's answer starts next response #1.
    let answer = server.inbound(&workspace.whatsapp, "c1", "m2", "yes please").await;
    assert_eq!(answer.conversation_id, id, "the answer lands in the agent's conversation");
    let next = clock(&server, id, SlaMetric::NextResponse, 1).await;
    assert_eq!(next.status, SlaClockStatus::Running);
}

#[tokio::test]
async fn s16_a_breach_that_fell_while_the_server_was_down_is_dated_at_its_due() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Fast", "first_response_secs": 600})).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let first = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    let server = server.restart_later(2 * HOUR).await;
    let breached = until_event(&server, id, SlaMetric::FirstResponse, "breached").await;
    assert_eq!(breached, first.due_at.expect("due"), "dated at its due, not at the restart");
    let warned = until_event(&server, id, SlaMetric::FirstResponse, "warning").await;
    assert_eq!(warned, first.warn_at.expect("warn"));
    let all = sla_events(&server, id).await;
    assert_eq!(all.iter().filter(|e| e.2 == "breached").count(), 1, "once");
    assert!(now(&server) >= breached + 2 * HOUR - 11 * MIN, "the server came back much later");
}

#[tokio::test]
async fn s14_attainment_counts_each_clock_by_its_outcome_per_metric_agent_and_team() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    policy(&server, json!({"name": "Ten minutes", "first_response_secs": 600, "resolution_secs": 86400}))
        .await;
    let from = now(&server);
    let inbound = |contact: &'static str| {
        let server = &server;
        let inbox = &workspace.whatsapp;
        async move { server.inbound(inbox, contact, &format!("{contact}-m"), "hello").await.conversation_id }
    };
    let on_time = inbound("c1").await;
    let late = inbound("c2").await;
    let unanswered = inbound("c3").await;
    let dropped = inbound("c4").await;
    for id in [on_time, late, unanswered, dropped] {
        let claim = json!({"client_id": Id::new_v4(), "assignee_id": workspace.sara.agent.id});
        let (status, body) = workspace.sara.post(&format!("/api/v1/conversations/{id}/assign"), claim).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Met in time; resolved before due without a reply (cancelled).
    reply(&workspace.sara, on_time, "hi").await;
    set_status(&workspace.sara, dropped, "resolved").await;
    // An agent-started conversation: first response not applicable.
    let contact_id = conversation(&server, dropped).await.contact_id;
    workspace
        .sara
        .ok(
            "/api/v1/conversations",
            json!({"client_id": Id::new_v4(), "inbox_id": workspace.whatsapp.inbox.id,
            "contact_id": contact_id, "template": {"name": "follow_up", "params": ["Nadia", "your order"]}}),
        )
        .await;
    // Breached, then met late; breached, then resolved unanswered.
    server.clock.advance(11 * MIN);
    until_event(&server, late, SlaMetric::FirstResponse, "breached").await;
    until_event(&server, unanswered, SlaMetric::FirstResponse, "breached").await;
    reply(&workspace.sara, late, "sorry").await;
    set_status(&workspace.sara, unanswered, "resolved").await;
    let to = now(&server) + 1;

    let path = format!("/api/v1/sla/attainment?from={from}&to={to}");
    assert_eq!(workspace.sara.get(&path).await.0, StatusCode::FORBIDDEN, "agents can't");
    let (status, report) = workspace.lena.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let first = report["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["metric"] == "first_response")
        .expect("first response")["counts"]
        .clone();
    assert_eq!(
        first,
        json!({"met": 1, "breached": 1, "breached_closed": 1, "cancelled": 1, "not_applicable": 1, "running": 0,
               "attainment": 1.0 / 3.0}),
        "met ÷ (met + breached + breached_closed); cancelled and not applicable apart"
    );
    let resolution = report["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["metric"] == "resolution")
        .expect("resolution")["counts"]
        .clone();
    assert_eq!(
        (resolution["met"].as_u64(), resolution["running"].as_u64()),
        (Some(2), Some(3)),
        "{resolution}"
    );
    let sara = report["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|row| row["agent_id"] == json!(workspace.sara.agent.id) && row["metric"] == "first_response")
        .expect("sara's first responses")["counts"]
        .clone();
    assert_eq!(
        (sara["met"].as_u64(), sara["breached"].as_u64(), sara["breached_closed"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    let teams = report["teams"].as_array().expect("teams");
    assert!(
        teams.iter().any(|row| row["metric"] == "first_response" && row["counts"]["met"] == 1),
        "{teams:?}"
    );

    // A range before any of it counts nothing; a backwards one is refused.
    let (_, empty) =
        workspace.lena.get(&format!("/api/v1/sla/attainment?from={}&to={from}", from - HOUR)).await;
    assert_eq!(empty["metrics"][0]["counts"]["attainment"], Value::Null);
    let (status, _) = workspace.lena.get(&format!("/api/v1/sla/attainment?from={to}&to={from}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn s2_business_time_due_and_warning_fall_in_the_next_opening() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY - DAY);
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    set_hours(
        &server,
        &workspace.whatsapp,
        json!({"time_zone": "UTC", "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}),
    )
    .await;
    policy(&server, json!({"name": "Business hour", "first_response_secs": 3600, "business_hours": true, "warn_at_percent": 80})).await;
    // Friday 16:30: 30 business minutes left that day, 30 more on Monday.
    let friday = MONDAY + 4 * DAY;
    set_clock(&server, friday + 16 * HOUR + 30 * MIN);
    let id = server.inbound(&workspace.whatsapp, "s2", "s2", "hello").await.conversation_id;
    let frt = clock(&server, id, SlaMetric::FirstResponse, 1).await;
    let next_monday = MONDAY + 7 * DAY;
    let (due, warn) = (frt.due_at.expect("due"), frt.warn_at.expect("warn"));
    // (The running clock puts a few milliseconds between the set instant and the request.)
    assert!(
        (next_monday + 9 * HOUR + 30 * MIN..next_monday + 9 * HOUR + 30 * MIN + 1_000).contains(&due),
        "due Monday 09:30"
    );
    assert!(
        (next_monday + 9 * HOUR + 18 * MIN..next_monday + 9 * HOUR + 18 * MIN + 1_000).contains(&warn),
        "warning at 80 %: Monday 09:18"
    );
}
