//! The connector seam and the delivery job: an inbox without a connector fails replies with the
//! reason (never "sent"), connector settings stay server-side (the feed carries no secret, token
//! or webhook URL; admins read them back without secrets), the demo's simulated inboxes say so
//! and really deliver to the simulator, and a delivery is made once across a restart.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;
use switchboard_proto::*;

use crate::{graph_emulator::Emulator, harness::*};

/// The message `id` as the admin's feed has it now.
async fn message(server: &TestServer, id: Id) -> Message {
    let changes = server.admin.bootstrap().await;
    serde_json::from_value(apply(&changes).remove(&(EntityKind::Message, id)).expect("the message"))
        .expect("message")
}

async fn until(server: &TestServer, id: Id, what: &str, done: impl Fn(&Message) -> bool) -> Message {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let message = message(server, id).await;
        if done(&message) {
            return message;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: still {message:?}");
        server.clock.advance(5_000);
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    }
}

fn reply_id(sent: &serde_json::Value) -> Id {
    serde_json::from_value(sent["message"]["id"].clone()).expect("message id")
}

#[tokio::test]
async fn a_reply_on_an_inbox_without_a_connector_fails_with_the_reason_never_sent() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let (status, sent) = workspace.sara.reply(conversation, "On it").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let message = message(&server, reply_id(&sent)).await;
    assert_eq!(message.delivery, DeliveryState::Failed, "it went nowhere, so it is not sent");
    let failure = message.failure.expect("with a reason");
    assert_eq!(failure.kind, DeliveryFailureKind::NotConfigured);
    assert!(failure.reason.contains("no connector"), "{}", failure.reason);
}

#[tokio::test]
async fn connector_secrets_and_webhook_urls_never_reach_the_feed() {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let whatsapp = server
        .admin
        .ok(
            "/api/v1/inboxes",
            json!({"name": "WA", "channel": "whatsapp", "connector": emulator.connector()}),
        )
        .await;
    let hook = "http://127.0.0.1:9/partner-hook";
    let api = server
        .admin
        .ok("/api/v1/inboxes", json!({"name": "API", "channel": "api", "webhook_url": hook}))
        .await;
    let feed = serde_json::to_string(&server.admin.bootstrap().await).expect("feed");
    for secret in [
        crate::graph_emulator::TOKEN,
        crate::graph_emulator::APP_SECRET,
        crate::graph_emulator::VERIFY_TOKEN,
        hook,
    ] {
        assert!(!feed.contains(secret), "{secret} is in the feed");
    }
    assert!(!feed.contains("webhook_url"), "the inbox entity has no webhook_url");
    assert!(whatsapp["inbox"].get("webhook_url").is_none() && whatsapp["inbox"].get("connector").is_none());

    // Admins read the settings back without their secrets, with the URL to register.
    let (status, info) = server
        .admin
        .get(&format!("/api/v1/inboxes/{}/connector", whatsapp["inbox"]["id"].as_str().unwrap_or_default()))
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["kind"], "whatsapp");
    assert_eq!(info["simulated"], false);
    assert_eq!(info["details"]["phone_number_id"], crate::graph_emulator::PHONE_NUMBER_ID);
    assert!(info["webhook_path"].as_str().is_some_and(|p| p.ends_with("/webhook")));
    let text = info.to_string();
    assert!(
        !text.contains(crate::graph_emulator::TOKEN) && !text.contains(crate::graph_emulator::APP_SECRET),
        "{text}"
    );
    let (_, info) = server
        .admin
        .get(&format!("/api/v1/inboxes/{}/connector", api["inbox"]["id"].as_str().unwrap_or_default()))
        .await;
    assert_eq!((info["kind"].as_str(), info["details"]["webhook_url"].as_str()), (Some("api"), Some(hook)));

    // Agents may not read them at all.
    let workspace = Workspace::create(&server).await;
    let (status, _) =
        workspace.sara.get(&format!("/api/v1/inboxes/{}/connector", workspace.whatsapp.inbox.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad settings are refused, saying which.
    let (status, body) = server
        .admin
        .post(
            "/api/v1/inboxes",
            json!({"name": "X", "channel": "whatsapp", "connector": {"kind": "whatsapp",
            "phone_number_id": "1", "access_token": "", "app_secret": "s", "verify_token": "v"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("access_token"), "{body}");
    let (status, _) = server
        .admin
        .post("/api/v1/inboxes", json!({"name": "X", "channel": "email", "connector": emulator.connector()}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a whatsapp connector on an email inbox");
}

#[tokio::test]
async fn the_demos_simulated_inboxes_say_so_and_really_deliver_to_the_simulator() {
    let (server, secrets) = TestServer::start_demo(4).await;
    let inbox_id = secrets[0].0;
    let (status, info) = server.admin.get(&format!("/api/v1/inboxes/{inbox_id}/connector")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!((info["kind"].as_str(), info["simulated"].as_bool()), (Some("simulator"), Some(true)));

    // Without the simulator running a reply waits: it is never marked sent having gone nowhere.
    let conversation = server
        .inbound(
            &CreatedInbox {
                inbox: serde_json::from_value(json!({"id": inbox_id, "name": "", "channel": "whatsapp",
            "member_agent_ids": [], "member_team_ids": [], "templates": [], "attachment_limit": 0}))
                .expect("inbox"),
                signing_secret: secrets[0].1.clone(),
            },
            "demo-test-contact",
            "demo-test-1",
            "is anyone there?",
        )
        .await
        .conversation_id;
    let (status, sent) = server.admin.reply(conversation, "Yes, hello!").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let id = reply_id(&sent);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(message(&server, id).await.delivery, DeliveryState::Queued, "no simulator, not sent");

    // With it, the reply reaches the simulated customer, who reports it delivered, then read.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let demo = switchboard_server::demo::DemoWorkspace { password: String::new(), inbox_secrets: secrets };
    tokio::spawn(switchboard_server::demo::simulate_traffic(server.base.clone(), demo, 0, shutdown.clone()));
    let read =
        until(&server, id, "read by the simulated customer", |m| m.delivery == DeliveryState::Read).await;
    assert!(read.failure.is_none());
    shutdown.cancel();
}

#[tokio::test]
async fn a_delivery_is_made_once_across_a_restart() {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let hook = {
        let received = received.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
                received.lock().expect("lock").push(key.to_owned());
                "ok"
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hook).await });

    let server = TestServer::start().await;
    let created: CreatedInbox = serde_json::from_value(
        server
            .admin
            .ok("/api/v1/inboxes", json!({"name": "Partner", "channel": "api", "webhook_url": hook_url}))
            .await,
    )
    .expect("inbox");
    let conversation = server.inbound(&created, "p-1", "p1", "hi").await.conversation_id;
    let (_, sent) = server.admin.reply(conversation, "hello").await;
    let id = reply_id(&sent);
    until(&server, id, "sent", |m| m.delivery == DeliveryState::Sent).await;
    let server = server.restart_later(10 * 60 * 1000).await;
    // Well past every backoff and lease: nothing is due again.
    for _ in 0..5 {
        server.clock.advance(120_000);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let received = received.lock().expect("lock").clone();
    assert_eq!(received, vec![id.to_string()], "one POST, keyed by the message id");
    assert_eq!(message(&server, id).await.delivery, DeliveryState::Sent);
}
