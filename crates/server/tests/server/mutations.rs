//! Conversation mutations: idempotency, the assignment race, the reply window, labels, rules.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

#[tokio::test]
async fn every_mutation_replayed_gives_one_effect_and_the_original_answer() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let message = server.inbound(&workspace.whatsapp, "c1", "m2", "still there?").await.message_id;
    let contact_id = Id::new_v4();
    let base = format!("/api/v1/conversations/{conversation}");
    let cases: Vec<(String, Value)> = vec![
        (format!("{base}/messages"), json!({"client_id": Id::new_v4(), "kind": "reply", "body": "On it"})),
        (format!("{base}/messages"), json!({"client_id": Id::new_v4(), "kind": "note", "body": "@sam look"})),
        (
            format!("{base}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": workspace.sara.agent.id}),
        ),
        (format!("{base}/status"), json!({"client_id": Id::new_v4(), "status": "pending"})),
        (format!("{base}/labels"), json!({"client_id": Id::new_v4(), "add": ["vip"]})),
        (format!("{base}/priority"), json!({"client_id": Id::new_v4(), "priority": "urgent"})),
        (format!("{base}/read"), json!({"client_id": Id::new_v4(), "last_read_message_id": message})),
        (
            "/api/v1/contacts".into(),
            json!({"client_id": contact_id, "name": "Nadia", "phone": "+44 7700 900123", "email": "nadia@example.com"}),
        ),
        (
            "/api/v1/conversations".into(),
            json!({"client_id": Id::new_v4(), "inbox_id": workspace.email.inbox.id, "contact_id": contact_id, "body": "Hello Nadia"}),
        ),
    ];
    for (path, body) in cases {
        let session = if path == "/api/v1/conversations" { &server.admin } else { &workspace.sara };
        let first = session.ok(&path, body.clone()).await;
        let head = server.head().await;
        let again = session.ok(&path, body.clone()).await;
        assert_eq!(first, again, "{path}: a replay returns the original answer");
        assert_eq!(server.head().await, head, "{path}: a replay writes nothing");
    }
    // A client_id reused for a different request is refused, not silently replayed.
    let client_id = Id::new_v4();
    workspace.sara.ok(&format!("{base}/priority"), json!({"client_id": client_id, "priority": "low"})).await;
    let (status, body) = workspace
        .sara
        .post(&format!("{base}/status"), json!({"client_id": client_id, "status": "open"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("client_id_reused")));
    // Pins are idempotent by nature.
    for _ in 0..2 {
        assert_eq!(workspace.sara.request(Method::PUT, &format!("{base}/pin"), None).await.0, StatusCode::OK);
    }
    let pins = workspace.sara.bootstrap().await.into_iter().filter(|c| c.entity == EntityKind::Pin).count();
    assert_eq!(pins, 1);
    let sam_pins =
        workspace.sam.bootstrap().await.into_iter().filter(|c| c.entity == EntityKind::Pin).count();
    assert_eq!(sam_pins, 0, "pins are private");
}

#[tokio::test]
async fn two_agents_claiming_at_once_exactly_one_wins() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    for round in 0..20 {
        let conversation = server
            .inbound(&workspace.whatsapp, &format!("race-{round}"), &format!("r{round}"), "who takes me?")
            .await
            .conversation_id;
        let path = format!("/api/v1/conversations/{conversation}/assign");
        let claim = |session: &Session| {
            let session = session.clone();
            let path = path.clone();
            async move {
                let body = json!({"client_id": Id::new_v4(), "assignee_id": session.agent.id, "expected_assignee_id": null});
                session.post(&path, body).await
            }
        };
        let (a, b) = tokio::join!(claim(&workspace.sara), claim(&workspace.sam));
        let results = [(a, &workspace.sara), (b, &workspace.sam)];
        let winners: Vec<_> = results.iter().filter(|((s, _), _)| *s == StatusCode::OK).collect();
        let losers: Vec<_> = results.iter().filter(|((s, _), _)| *s == StatusCode::CONFLICT).collect();
        assert_eq!((winners.len(), losers.len()), (1, 1), "round {round}: exactly one wins");
        let winner = winners[0].1.agent.id;
        let error = &losers[0].0 .1["error"];
        assert_eq!(error["code"], "assignment_conflict");
        assert_eq!(error["current_assignee_id"], json!(winner), "the loser learns who holds it");
    }
}

#[tokio::test]
async fn outside_the_reply_window_only_templates_go_out() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    assert_eq!(workspace.sara.reply(conversation, "inside the window").await.0, StatusCode::OK);

    server.clock.advance(REPLY_WINDOW_MS + 60_000);
    let head = server.head().await;
    let (status, body) = workspace.sara.reply(conversation, "too late").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("window_closed"))
    );
    assert_eq!(server.head().await, head, "a rejected reply writes nothing");

    let (status, body) = workspace
        .sara
        .post(&path, json!({"client_id": Id::new_v4(), "kind": "reply", "template": {"name": "follow_up", "params": ["Ana"]}}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_template")),
        "wrong arity"
    );
    let sent = workspace
        .sara
        .ok(&path, json!({"client_id": Id::new_v4(), "kind": "reply", "template": {"name": "follow_up", "params": ["Ana", "#42"]}}))
        .await;
    assert_eq!(sent["message"]["body"], "Hi Ana, any news on #42?");
    let note = workspace
        .sara
        .post(&path, json!({"client_id": Id::new_v4(), "kind": "note", "body": "notes are internal"}))
        .await;
    assert_eq!(note.0, StatusCode::OK, "notes ignore the window");

    // The customer writes again: the window reopens.
    server.inbound(&workspace.whatsapp, "c1", "m2", "hello again").await;
    assert_eq!(workspace.sara.reply(conversation, "welcome back").await.0, StatusCode::OK);
    // Email has no window.
    let email = server.inbound(&workspace.email, "e1", "em1", "hello").await.conversation_id;
    server.clock.advance(10 * REPLY_WINDOW_MS);
    assert_eq!(workspace.carl.reply(email, "late but fine").await.0, StatusCode::OK);
}

#[tokio::test]
async fn labels_added_by_two_agents_at_once_are_both_kept() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    for round in 0..10 {
        let conversation = server
            .inbound(&workspace.whatsapp, &format!("l{round}"), &format!("lm{round}"), "hi")
            .await
            .conversation_id;
        let path = format!("/api/v1/conversations/{conversation}/labels");
        let (a, b) = tokio::join!(
            workspace.sara.post(&path, json!({"client_id": Id::new_v4(), "add": ["vip"]})),
            workspace.sam.post(&path, json!({"client_id": Id::new_v4(), "add": ["refund"]})),
        );
        assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
        let state = apply(&workspace.sara.bootstrap().await);
        let labels = &state[&(EntityKind::Conversation, conversation)]["labels"];
        assert_eq!(labels, &json!(["refund", "vip"]), "round {round}");
    }
    let conversation = server.inbound(&workspace.whatsapp, "l0", "lm-x", "again").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/labels");
    let (status, body) =
        workspace.sara.post(&path, json!({"client_id": Id::new_v4(), "add": ["no-such-label"]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation"))
    );
    workspace.sam.ok(&path, json!({"client_id": Id::new_v4(), "remove": ["vip"]})).await;
    let state = apply(&workspace.sara.bootstrap().await);
    assert_eq!(state[&(EntityKind::Conversation, conversation)]["labels"], json!(["refund"]));
}

#[tokio::test]
async fn one_open_conversation_per_contact_and_inbox() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let first = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await;
    let second = server.inbound(&workspace.whatsapp, "c1", "m2", "hello?").await;
    assert_eq!(first.conversation_id, second.conversation_id, "same open conversation");
    let status = |s: &str| json!({"client_id": Id::new_v4(), "status": s});
    let path = format!("/api/v1/conversations/{}/status", first.conversation_id);
    workspace.sara.ok(&path, status("resolved")).await;
    // Soon after resolving, the customer writing again reopens it.
    let third = server.inbound(&workspace.whatsapp, "c1", "m3", "one more thing").await;
    assert_eq!(third.conversation_id, first.conversation_id, "reopened");
    let state = apply(&workspace.sara.bootstrap().await);
    assert_eq!(state[&(EntityKind::Conversation, first.conversation_id)]["status"], "open");
    // Long after resolving, a new conversation starts.
    workspace.sara.ok(&path, status("resolved")).await;
    server.clock.advance(3 * REPLY_WINDOW_MS);
    let fourth = server.inbound(&workspace.whatsapp, "c1", "m4", "new topic").await;
    assert_ne!(fourth.conversation_id, first.conversation_id);
    // Reopening the old one would make two open: refused, naming the open one.
    let (status_code, body) = workspace.sara.post(&path, status("open")).await;
    assert_eq!(status_code, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "conversation_exists");
    assert_eq!(body["error"]["conversation_id"], json!(fourth.conversation_id));
    // Snoozing needs a time in the future.
    let snooze = format!("/api/v1/conversations/{}/status", fourth.conversation_id);
    let (code, _) =
        workspace.sara.post(&snooze, json!({"client_id": Id::new_v4(), "status": "snoozed"})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let until = server.head().await; // any past timestamp
    let (code, _) = workspace
        .sara
        .post(&snooze, json!({"client_id": Id::new_v4(), "status": "snoozed", "snoozed_until": until}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn notes_mention_agents_who_can_see_the_inbox() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await.conversation_id;
    let result = workspace
        .sara
        .ok(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "note", "body": "@Sam can you check? cc @carl"}),
        )
        .await;
    assert_eq!(result["message"]["mentions"], json!([workspace.sam.agent.id]), "carl can't see this inbox");
    let mentions: Vec<Change> =
        workspace.sam.bootstrap().await.into_iter().filter(|c| c.entity == EntityKind::Mention).collect();
    assert_eq!(mentions.len(), 1);
    let sara_mentions =
        workspace.sara.bootstrap().await.into_iter().filter(|c| c.entity == EntityKind::Mention).count();
    assert_eq!(sara_mentions, 0, "mentions are private to the mentioned");
}

#[tokio::test]
async fn transcripts_export_as_json_and_text() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation =
        server.inbound(&workspace.whatsapp, "c1", "m1", "سلام، سفارش من کجاست؟").await.conversation_id;
    workspace.sara.reply(conversation, "Your order ships today").await;
    let (status, json_export) =
        workspace.sara.get(&format!("/api/v1/conversations/{conversation}/export?format=json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_export["messages"].as_array().map(Vec::len), Some(2));
    let (status, text) =
        workspace.sara.get(&format!("/api/v1/conversations/{conversation}/export?format=txt")).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("plain text");
    assert!(text.contains("Customer c1: سلام، سفارش من کجاست؟"), "{text}");
    assert!(text.contains("Sara Karimi: Your order ships today"), "{text}");
}
