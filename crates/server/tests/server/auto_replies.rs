//! Automatic replies (greeting, away, keyword) against the design's acceptance checks B10–B17,
//! on the injected clock: at most one per customer message, never a response, once per closed
//! period, cooled down, cancelled by a person, and held back by a closed reply window.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{body::Bytes, routing::post, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::Clock;

use crate::harness::*;

const MINUTE: Millis = 60 * 1000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// Monday 2030-01-07 00:00 UTC (01:00 in Berlin, CET).
const MONDAY: Millis = 1_893_974_400_000;

/// Moves the server's clock to `at` (it keeps running from there).
fn set_clock(server: &TestServer, at: Millis) {
    server.clock.advance(at - server.clock.now());
}

async fn patch_inbox(server: &TestServer, inbox: &CreatedInbox, body: Value) {
    let (status, answer) = server
        .admin
        .request(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{}", inbox.inbox.id), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "updating the inbox: {answer}");
}

/// Berlin, Monday to Friday 09:00–17:00.
fn berlin_office_hours() -> Value {
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    json!({"time_zone": "Europe/Berlin", "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}})
}

async fn events(server: &TestServer, conversation: Id) -> Vec<Value> {
    let (status, events) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::OK, "events: {events}");
    events.as_array().cloned().unwrap_or_default()
}

fn auto_reply_events(events: &[Value]) -> Vec<Value> {
    events.iter().filter(|e| e["kind"] == "message" && e["class"] == "auto_reply").cloned().collect()
}

/// Which automatic replies a conversation got, in order (`greeting`, `away`, `keyword`).
async fn sent(server: &TestServer, conversation: Id) -> Vec<String> {
    auto_reply_events(&events(server, conversation).await)
        .iter()
        .map(|e| e["auto_reply"]["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn transcript(server: &TestServer, conversation: Id) -> Transcript {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{conversation}/export")).await;
    assert_eq!(status, StatusCode::OK, "export: {body}");
    serde_json::from_value(body).expect("transcript")
}

/// The bodies of the automatic replies in a conversation's thread.
async fn auto_reply_bodies(server: &TestServer, conversation: Id) -> Vec<String> {
    transcript(server, conversation)
        .await
        .messages
        .into_iter()
        .filter(|m| m.kind == MessageKind::Outgoing && m.sender == Sender::System)
        .map(|m| m.body)
        .collect()
}

/// Polls until the conversation's ledger satisfies `done` (a timer fires on its own task; the
/// clock was moved, so nothing here waits for time to pass).
async fn until_events(server: &TestServer, conversation: Id, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = events(server, conversation).await;
        if done(&all) {
            return all;
        }
        assert!(Instant::now() < deadline, "the condition never held: {all:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn b10_away_goes_once_per_closed_period_with_the_next_opening_in_the_inbox_zone() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.email;
    set_clock(&server, MONDAY + 3 * HOUR); // 04:00 in Berlin: closed.
    patch_inbox(
        &server,
        inbox,
        json!({"hours": berlin_office_hours(), "auto_replies": {"away": {"body": "We are closed. Back {{next_open_at}}."}}}),
    )
    .await;

    let conversation = server.inbound(inbox, "c1", "m1", "hello?").await.conversation_id;
    assert_eq!(sent(&server, conversation).await, ["away"]);
    assert_eq!(
        auto_reply_bodies(&server, conversation).await,
        ["We are closed. Back Monday 7 January 2030, 09:00 CET (Europe/Berlin)."],
        "the next opening, in Berlin's wall time"
    );

    server.clock.advance(2 * HOUR);
    server.inbound(inbox, "c1", "m2", "anyone there?").await;
    assert_eq!(sent(&server, conversation).await, ["away"], "the same closed period: no second away reply");
    let other = server.inbound(inbox, "c2", "m3", "hi").await.conversation_id;
    assert_eq!(sent(&server, other).await, ["away"], "once per period per conversation, not per inbox");

    // Open (11:00 in Berlin): nothing. Then closed again after the day's opening: one more.
    set_clock(&server, MONDAY + 10 * HOUR);
    server.inbound(inbox, "c1", "m4", "back in hours").await;
    assert_eq!(sent(&server, conversation).await, ["away"], "open: no away reply");
    set_clock(&server, MONDAY + 18 * HOUR); // 19:00 in Berlin.
    server.inbound(inbox, "c1", "m5", "evening").await;
    assert_eq!(sent(&server, conversation).await, ["away", "away"], "a new closed period");
    let bodies = auto_reply_bodies(&server, conversation).await;
    assert_eq!(bodies[1], "We are closed. Back Tuesday 8 January 2030, 09:00 CET (Europe/Berlin).");

    // The weekend is one closed period, Friday 17:00 to Monday 09:00, across midnights.
    set_clock(&server, MONDAY + 4 * DAY + 20 * HOUR); // Friday 21:00.
    server.inbound(inbox, "c1", "m6", "friday night").await;
    set_clock(&server, MONDAY + 6 * DAY + 12 * HOUR); // Sunday 13:00.
    server.inbound(inbox, "c1", "m7", "sunday").await;
    assert_eq!(sent(&server, conversation).await, ["away", "away", "away"], "one away reply for the weekend");
}

#[tokio::test]
async fn b10_no_hours_means_always_open_and_never_away() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 3 * HOUR);
    patch_inbox(&server, &workspace.email, json!({"auto_replies": {"away": {"body": "closed"}}})).await;
    let conversation = server.inbound(&workspace.email, "c1", "m1", "hello").await.conversation_id;
    assert!(sent(&server, conversation).await.is_empty(), "no hours: always open");
}

#[tokio::test]
async fn b11_a_persons_reply_within_five_minutes_suppresses_the_away_reply() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.email;
    set_clock(&server, MONDAY + 15 * HOUR + 58 * MINUTE); // 16:58 in Berlin: open.
    patch_inbox(
        &server,
        inbox,
        json!({"hours": berlin_office_hours(), "auto_replies": {"away": {"body": "closed"}}}),
    )
    .await;
    let conversation = server.inbound(inbox, "c1", "m1", "quick question").await.conversation_id;
    let (status, _) = workspace.carl.reply(conversation, "Sure, go ahead").await;
    assert_eq!(status, StatusCode::OK);

    server.clock.advance(2 * MINUTE + 30_000); // 17:00:30: closed, Carl replied 2.5 min ago.
    server.inbound(inbox, "c1", "m2", "so about my order").await;
    assert!(sent(&server, conversation).await.is_empty(), "Carl is evidently at work: no away reply");

    server.clock.advance(6 * MINUTE); // Carl has been quiet for 8.5 minutes.
    server.inbound(inbox, "c1", "m3", "hello?").await;
    assert_eq!(sent(&server, conversation).await, ["away"], "a suppressed away reply was not spent");
}

#[tokio::test]
async fn b12_a_greeting_goes_once_and_only_to_conversations_customers_start() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.whatsapp;
    patch_inbox(
        &server,
        inbox,
        json!({"auto_replies": {"greeting": {"body": "Hi! We'll be right with you."}}}),
    )
    .await;

    let conversation = server.inbound(inbox, "c1", "m1", "hello").await.conversation_id;
    server.inbound(inbox, "c1", "m2", "are you there").await;
    assert_eq!(sent(&server, conversation).await, ["greeting"], "once per conversation");
    assert_eq!(auto_reply_bodies(&server, conversation).await, ["Hi! We'll be right with you."]);

    // Resolved, then the customer writes again within a day: reopened, no second greeting.
    workspace
        .sara
        .ok(
            &format!("/api/v1/conversations/{conversation}/status"),
            json!({"client_id": Id::new_v4(), "status": "resolved"}),
        )
        .await;
    let again = server.inbound(inbox, "c1", "m3", "one more thing").await;
    assert_eq!(again.conversation_id, conversation, "reopened");
    assert_eq!(sent(&server, conversation).await, ["greeting"], "never on reopen");

    // Started by an agent (a template first, as WhatsApp requires) for a customer who wrote long
    // ago: the customer's answer is no conversation start.
    let earlier = server.inbound(inbox, "c5", "m4", "old question").await.conversation_id;
    workspace
        .sara
        .ok(
            &format!("/api/v1/conversations/{earlier}/status"),
            json!({"client_id": Id::new_v4(), "status": "resolved"}),
        )
        .await;
    server.clock.advance(2 * DAY);
    let contact = transcript(&server, earlier).await.contact;
    let started = workspace
        .sara
        .ok(
            "/api/v1/conversations",
            json!({"client_id": Id::new_v4(), "inbox_id": inbox.inbox.id, "contact_id": contact.id,
                   "template": {"name": "follow_up", "params": ["Nadia", "your order"]}}),
        )
        .await;
    let started: Id = serde_json::from_value(started["conversation"]["id"].clone()).expect("id");
    let answer = server.inbound(inbox, "c5", "m5", "yes, thanks").await;
    assert_eq!(answer.conversation_id, started, "the customer answers the agent's conversation");
    assert!(sent(&server, started).await.is_empty(), "no greeting on an agent-started conversation");
}

#[tokio::test]
async fn b12_a_delayed_greeting_is_cancelled_by_a_persons_reply_and_sent_otherwise() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.whatsapp;
    patch_inbox(&server, inbox, json!({"auto_replies": {"greeting": {"body": "Hello!", "delay_secs": 60}}}))
        .await;

    let answered = server.inbound(inbox, "c1", "m1", "hi").await.conversation_id;
    server.clock.advance(30_000);
    let (status, _) = workspace.sara.reply(answered, "Hi, Sara here").await;
    assert_eq!(status, StatusCode::OK);
    // A second conversation whose greeting falls due after the first one would have: once it is
    // sent, the timer loop has passed the first one's due time.
    let waiting = server.inbound(inbox, "c2", "m2", "hi").await.conversation_id;
    assert!(sent(&server, waiting).await.is_empty(), "a delayed greeting waits");
    server.clock.advance(61_000);
    until_events(&server, waiting, |all| !auto_reply_events(all).is_empty()).await;
    assert_eq!(sent(&server, waiting).await, ["greeting"], "sent when due");
    assert!(sent(&server, answered).await.is_empty(), "a person replied first: never sent");
    let message =
        transcript(&server, waiting).await.messages.into_iter().find(|m| m.sender == Sender::System);
    assert_eq!(message.map(|m| m.created_at >= server.clock.now() - 5_000), Some(true), "dated when sent");
}

#[tokio::test]
async fn b13_keyword_replies_match_normalised_whole_words_and_cool_down() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.email;
    patch_inbox(
        &server,
        inbox,
        json!({"auto_replies": {"keywords": [
            {"keywords": ["price", "سفارش 123"], "body": "Our prices: example.com/prices", "cooldown_secs": 86400},
            {"keywords": ["refund"], "body": "Refunds take 5 days", "cooldown_secs": 0},
        ]}}),
    )
    .await;

    let conversation = server.inbound(inbox, "c1", "m1", "PRICE?").await.conversation_id;
    assert_eq!(sent(&server, conversation).await, ["keyword"]);
    let persian = server.inbound(inbox, "c2", "m2", "وضعيت سفارش ۱۲۳؟").await.conversation_id;
    assert_eq!(sent(&server, persian).await, ["keyword"], "Arabic yeh and Persian digits match");
    let apricot = server.inbound(inbox, "c3", "m3", "apricots, pricing").await.conversation_id;
    assert!(sent(&server, apricot).await.is_empty(), "whole words only");

    server.clock.advance(HOUR);
    server.inbound(inbox, "c1", "m4", "what was the price again").await;
    assert_eq!(sent(&server, conversation).await, ["keyword"], "within the 24 h cooldown: no reply");
    server.inbound(inbox, "c1", "m5", "and a refund?").await;
    server.inbound(inbox, "c1", "m6", "refund!!").await;
    assert_eq!(
        sent(&server, conversation).await,
        ["keyword"; 3],
        "another reply has its own cooldown (none)"
    );
    server.clock.advance(DAY);
    server.inbound(inbox, "c1", "m7", "price").await;
    assert_eq!(sent(&server, conversation).await, ["keyword"; 4], "after the cooldown: again");
    let events = auto_reply_events(&events(&server, conversation).await);
    assert_eq!(
        events[0]["auto_reply"]["keywords"],
        json!(["price", "سفارش 123"]),
        "the ledger names the reply"
    );
    assert_eq!(events[0]["actor"], json!({"type": "system", "reason": "auto_reply"}));
}

#[tokio::test]
async fn b14_a_first_message_while_closed_matching_a_keyword_gets_exactly_the_keyword_reply() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.email;
    set_clock(&server, MONDAY + 3 * HOUR);
    patch_inbox(
        &server,
        inbox,
        json!({"hours": berlin_office_hours(), "auto_replies": {
            "greeting": {"body": "hello"},
            "away": {"body": "closed"},
            "keywords": [{"keywords": ["price"], "body": "prices", "cooldown_secs": 86400}],
        }}),
    )
    .await;
    let conversation = server.inbound(inbox, "c1", "m1", "price?").await.conversation_id;
    assert_eq!(sent(&server, conversation).await, ["keyword"], "keyword beats away and greeting");
    server.inbound(inbox, "c1", "m2", "price?").await;
    assert_eq!(
        sent(&server, conversation).await,
        ["keyword", "away"],
        "the keyword reply cooling down, the away reply of this closed period is still due"
    );
    let other = server.inbound(inbox, "c2", "m3", "hello").await.conversation_id;
    assert_eq!(sent(&server, other).await, ["away"], "away beats greeting");
    set_clock(&server, MONDAY + 10 * HOUR);
    let open = server.inbound(inbox, "c3", "m4", "hello").await.conversation_id;
    assert_eq!(sent(&server, open).await, ["greeting"], "open, no keyword: the greeting");
}

#[tokio::test]
async fn b15_an_auto_reply_is_no_response_and_reaches_the_customer_like_a_reply() {
    let received: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let app = {
        let received = received.clone();
        Router::new().route(
            "/hook",
            post(move |body: Bytes| {
                let received = received.clone();
                async move {
                    received.lock().expect("lock").push(body);
                    StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = TestServer::start().await;
    let inbox: CreatedInbox = serde_json::from_value(
        server
            .admin
            .ok("/api/v1/inboxes", json!({"name": "Partner", "channel": "api", "webhook_url": hook_url}))
            .await,
    )
    .expect("inbox");
    patch_inbox(&server, &inbox, json!({"auto_replies": {"greeting": {"body": "Thanks for writing!"}}}))
        .await;
    let conversation = server.inbound(&inbox, "u1", "p1", "hi").await.conversation_id;

    let thread = transcript(&server, conversation).await;
    let greeting = thread.messages.iter().find(|m| m.sender == Sender::System).cloned().expect("a greeting");
    assert_eq!(greeting.kind, MessageKind::Outgoing);
    assert!(
        matches!(greeting.delivery, DeliveryState::Queued | DeliveryState::Sent),
        "queued for the webhook (or already handed to it by the worker): {:?}",
        greeting.delivery
    );
    let incoming = thread.messages.iter().find(|m| m.kind == MessageKind::Incoming).expect("the message");
    let c = &thread.conversation;
    assert_eq!(c.first_reply_at, None, "no first reply");
    assert_eq!(c.waiting_since, Some(incoming.created_at), "still waiting since the customer wrote");
    assert_eq!(c.preview, "hi", "the list shows the customer's words");
    let all = events(&server, conversation).await;
    assert!(
        !all.iter().any(|e| e["kind"] == "message" && e["class"] == "human"),
        "no human response in the ledger (so no first-response figure): {all:#?}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().expect("lock").is_empty() {
        assert!(Instant::now() < deadline, "the greeting never reached the webhook");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = received.lock().expect("lock")[0].clone();
    let payload: OutgoingWebhook = serde_json::from_slice(&body).expect("payload");
    assert_eq!(
        (payload.message.body.as_str(), payload.message.sender),
        ("Thanks for writing!", Sender::System)
    );
    assert_eq!(payload.contact_external_id.as_deref(), Some("u1"));

    let export = format!("/api/v1/conversations/{conversation}/export?format=txt");
    let (status, text) = server.admin.request(reqwest::Method::GET, &export, None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap_or_default().to_owned();
    assert!(text.contains("] Automatic reply: Thanks for writing!"), "the transcript names it: {text}");

    // A person's reply after it is the first response.
    let (status, _) = server.admin.reply(conversation, "Hi, Ada here").await;
    assert_eq!(status, StatusCode::OK);
    let after = transcript(&server, conversation).await.conversation;
    assert!(after.first_reply_at.is_some() && after.waiting_since.is_none(), "the person's reply counts");
}

#[tokio::test]
async fn b17_a_delayed_greeting_past_the_whatsapp_window_is_not_sent_and_says_why() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.whatsapp;
    patch_inbox(
        &server,
        inbox,
        json!({"auto_replies": {"greeting": {"body": "Hello!", "delay_secs": 86400}}}),
    )
    .await;
    let conversation = server.inbound(inbox, "c1", "m1", "hi").await.conversation_id;
    server.clock.advance(DAY);
    let all =
        until_events(&server, conversation, |all| all.iter().any(|e| e["kind"] == "auto_reply_not_sent"))
            .await;
    let skipped = all.iter().find(|e| e["kind"] == "auto_reply_not_sent").cloned().unwrap_or_default();
    assert_eq!(
        (skipped["auto_reply"]["type"].as_str(), skipped["why"].as_str()),
        (Some("greeting"), Some("window_closed"))
    );
    assert!(auto_reply_events(&all).is_empty(), "nothing sent");
    let thread = transcript(&server, conversation).await;
    let activity = thread.messages.iter().find(|m| m.kind == MessageKind::Activity).map(|m| m.body.clone());
    assert_eq!(
        activity.as_deref(),
        Some("The automatic greeting was not sent: the 24-hour reply window had closed"),
        "the thread says why"
    );
}

#[tokio::test]
async fn b18_past_the_whatsapp_window_a_reply_naming_an_approved_template_sends_the_template() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.whatsapp;
    let greeting = |template: &str| {
        json!({"greeting": {"body": "Hello!", "delay_secs": 86400,
                            "template": {"name": template, "params": ["there"]}}})
    };
    let welcome =
        json!([{"name": "welcome", "language": "en", "body": "Hello {{1}}, we're here when you are."}]);
    patch_inbox(&server, inbox, json!({"templates": welcome, "auto_replies": greeting("welcome")})).await;
    let conversation = server.inbound(inbox, "c1", "m1", "hi").await.conversation_id;
    server.clock.advance(DAY);
    let all = until_events(&server, conversation, |all| !auto_reply_events(all).is_empty()).await;
    assert!(all.iter().all(|e| e["kind"] != "auto_reply_not_sent"), "it was sent: {all:?}");
    assert_eq!(auto_reply_events(&all)[0]["auto_reply"]["type"], "greeting", "still the greeting");
    let thread = transcript(&server, conversation).await;
    let sent = thread.messages.iter().find(|m| m.sender == Sender::System && m.kind == MessageKind::Outgoing);
    let sent = sent.expect("the template went out instead of the greeting's text");
    assert_eq!(sent.body, "Hello there, we're here when you are.", "rendered as a person's template is");
    assert_eq!(sent.template, Some(TemplateRef { name: "welcome".into(), params: vec!["there".into()] }));
    assert!(
        thread.messages.iter().all(|m| m.kind != MessageKind::Activity),
        "no line saying it was held back"
    );
    assert!(thread.conversation.first_reply_at.is_none(), "still never a response");

    // A template the inbox doesn't have approved: held back, as without one.
    patch_inbox(&server, inbox, json!({"auto_replies": greeting("not_approved")})).await;
    let other = server.inbound(inbox, "c2", "m2", "hi").await.conversation_id;
    server.clock.advance(DAY);
    let all =
        until_events(&server, other, |all| all.iter().any(|e| e["kind"] == "auto_reply_not_sent")).await;
    assert!(auto_reply_events(&all).is_empty(), "nothing sent");
    let thread = transcript(&server, other).await;
    let activity = thread.messages.iter().find(|m| m.kind == MessageKind::Activity).map(|m| m.body.clone());
    assert_eq!(
        activity.as_deref(),
        Some("The automatic greeting was not sent: the 24-hour reply window had closed"),
        "the thread says why"
    );
}

/// A tiny deterministic generator (xorshift), so a failing script can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test]
async fn property_at_most_one_auto_reply_per_customer_message() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = &workspace.email;
    set_clock(&server, MONDAY + 8 * HOUR); // 09:00 in Berlin: open.
    patch_inbox(
        &server,
        inbox,
        json!({"hours": berlin_office_hours(), "auto_replies": {
            "greeting": {"body": "hello"},
            "away": {"body": "closed until {{next_open_at}}"},
            "keywords": [
                {"keywords": ["price"], "body": "prices", "cooldown_secs": 3600},
                {"keywords": ["refund"], "body": "refunds", "cooldown_secs": 0},
            ],
        }}),
    )
    .await;
    let bodies = ["hello", "thanks", "hi there", "price?", "a refund please", "PRICE and refund"];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut conversations = std::collections::BTreeSet::new();
    for step in 0..60 {
        let contact = format!("c{}", rng.below(8));
        let body = bodies[rng.below(bodies.len() as u64) as usize];
        let conversation = server.inbound(inbox, &contact, &format!("m{step}"), body).await.conversation_id;
        conversations.insert(conversation);
        match rng.below(6) {
            0 | 1 => {
                let (status, _) = workspace.carl.reply(conversation, "noted").await;
                assert_eq!(status, StatusCode::OK);
            }
            2 => {
                workspace
                    .carl
                    .ok(
                        &format!("/api/v1/conversations/{conversation}/status"),
                        json!({"client_id": Id::new_v4(), "status": "resolved"}),
                    )
                    .await;
            }
            _ => {}
        }
        server.clock.advance([MINUTE, 7 * MINUTE, HOUR, 5 * HOUR][rng.below(4) as usize]);
    }
    let mut kinds = std::collections::BTreeSet::new();
    for conversation in conversations {
        let all = events(&server, conversation).await;
        kinds.extend(auto_reply_events(&all).iter().map(|e| e["auto_reply"]["type"].to_string()));
        // An immediate automatic reply is written in its message's transaction, at its instant
        // (steps are minutes apart, so an instant names one customer message).
        let mut by_instant: std::collections::BTreeMap<i64, (usize, usize)> = Default::default();
        for event in &all {
            let entry = by_instant.entry(event["at"].as_i64().unwrap_or_default()).or_default();
            match (event["kind"].as_str(), event["class"].as_str()) {
                (Some("message"), Some("inbound")) => entry.0 += 1,
                (Some("message"), Some("auto_reply")) => entry.1 += 1,
                _ => {}
            }
        }
        for (at, (inbound, auto)) in by_instant {
            assert!(
                auto <= 1 && (auto == 0 || inbound == 1),
                "at {at}: {auto} auto-replies to {inbound} messages: {all:#?}"
            );
        }
        let greetings = all.iter().filter(|e| e["auto_reply"]["type"] == "greeting").count();
        assert!(greetings <= 1, "at most one greeting per conversation");
    }
    assert_eq!(kinds.len(), 3, "the script exercised every kind of automatic reply: {kinds:?}");
}
