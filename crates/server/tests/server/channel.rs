//! The API channel: signed inbound messages, deduplication, webhook delivery of replies.

use std::sync::{Arc, Mutex};

use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use reqwest::StatusCode;
use serde_json::json;
use switchboard_proto::*;

use crate::harness::*;

#[tokio::test]
async fn unsigned_or_wrongly_signed_inbound_is_rejected_and_writes_nothing() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let head = server.head().await;
    let url = format!("{}/api/v1/channels/{}/inbound", server.base, workspace.whatsapp.inbox.id);
    let payload =
        json!({"contact": {"external_id": "c1"}, "message": {"external_id": "m1", "body": "hi"}}).to_string();
    let client = reqwest::Client::new();
    for signature in [
        None,
        Some("sha256=00".to_owned()),
        Some("garbage".to_owned()),
        Some(sign("wrong secret", payload.as_bytes())),
        Some(sign(&workspace.email.signing_secret, payload.as_bytes())),
    ] {
        let mut request = client.post(&url).header("content-type", "application/json").body(payload.clone());
        if let Some(signature) = &signature {
            request = request.header("x-switchboard-signature", signature);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "signature {signature:?}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "invalid_signature");
    }
    // A correct signature over a different body doesn't count either.
    let response = client
        .post(&url)
        .header("x-switchboard-signature", sign(&workspace.whatsapp.signing_secret, b"{}"))
        .body(payload.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.head().await, head, "rejected inbound calls write nothing");
}

#[tokio::test]
async fn inbound_is_deduplicated_on_external_id() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let first = server.inbound(&workspace.whatsapp, "c1", "same-id", "hello").await;
    let head = server.head().await;
    let again = server.inbound(&workspace.whatsapp, "c1", "same-id", "hello").await;
    assert!(first.created && !again.created);
    assert_eq!((first.message_id, first.conversation_id), (again.message_id, again.conversation_id));
    assert_eq!(server.head().await, head, "a duplicate writes nothing");
    // The same external id in another inbox is another message.
    let other = server.inbound(&workspace.email, "c1", "same-id", "hello").await;
    assert!(other.created);
}

#[tokio::test]
async fn replies_on_api_inboxes_are_posted_to_the_webhook_signed_and_retried() {
    // A webhook receiver that fails its first two calls.
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = {
        let received = received.clone();
        let calls = calls.clone();
        Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let received = received.clone();
                let calls = calls.clone();
                async move {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    received.lock().expect("lock").push((headers, body));
                    StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = TestServer::start().await;
    let created: CreatedInbox = serde_json::from_value(
        server
            .admin
            .ok("/api/v1/inboxes", json!({"name": "Partner", "channel": "api", "webhook_url": hook_url}))
            .await,
    )
    .expect("inbox");
    let conversation =
        server.inbound(&created, "partner-user-7", "p1", "hi from the partner").await.conversation_id;
    let sent = server
        .admin
        .ok(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": "hello partner"}),
        )
        .await;
    assert_eq!(sent["message"]["delivery"], "queued");
    let message_id: Id = serde_json::from_value(sent["message"]["id"].clone()).expect("id");

    // Backoff is 2 s then 4 s; move the clock instead of waiting.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while received.lock().expect("lock").is_empty() {
        assert!(std::time::Instant::now() < deadline, "the webhook was never delivered");
        server.clock.advance(5_000);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (headers, body) = received.lock().expect("lock")[0].clone();
    let signature = headers.get("x-switchboard-signature").and_then(|v| v.to_str().ok()).expect("signed");
    assert_eq!(signature, sign(&created.signing_secret, &body), "signed with the inbox secret");
    let payload: OutgoingWebhook = serde_json::from_slice(&body).expect("payload");
    assert_eq!(payload.contact_external_id.as_deref(), Some("partner-user-7"));
    assert_eq!(payload.message.body, "hello partner");

    // The delivery state flows through the feed: sent, then delivered by the partner's report.
    let state_of = |changes: &[Change]| {
        apply(changes).get(&(EntityKind::Message, message_id)).map(|m| m["delivery"].clone())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while state_of(&server.admin.bootstrap().await) != Some(json!("sent")) {
        assert!(std::time::Instant::now() < deadline, "delivery never became sent");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let report = json!({"message_id": message_id, "state": "delivered"}).to_string();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/channels/{}/delivery", server.base, created.inbox.id))
        .header("content-type", "application/json")
        .header("x-switchboard-signature", sign(&created.signing_secret, report.as_bytes()))
        .body(report)
        .send()
        .await
        .expect("report");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(state_of(&server.admin.bootstrap().await), Some(json!("delivered")));
}
