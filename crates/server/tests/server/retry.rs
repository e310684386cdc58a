//! Retrying a failed reply (`POST /api/v1/conversations/{id}/messages/{message_id}/retry`): only
//! a failed outgoing message, only by an agent who sees the conversation, idempotent on its
//! `client_id`, and back through the delivery job once the inbox can deliver it.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_proto::*;

use crate::{graph_emulator::Emulator, harness::*};

async fn message(server: &TestServer, id: Id) -> Message {
    let changes = server.admin.bootstrap().await;
    serde_json::from_value(apply(&changes).remove(&(EntityKind::Message, id)).expect("the message"))
        .expect("message")
}

fn retry_path(conversation: Id, message: Id) -> String {
    format!("/api/v1/conversations/{conversation}/messages/{message}/retry")
}

#[tokio::test]
async fn a_failed_reply_is_retried_once_the_inbox_has_a_connector() {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let (status, sent) = workspace.sara.reply(conversation, "On it").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let id: Id = serde_json::from_value(sent["message"]["id"].clone()).expect("id");
    assert_eq!(message(&server, id).await.delivery, DeliveryState::Failed);

    // Still no connector: the retry is taken, and fails again at once saying why.
    let (status, body) =
        workspace.sara.post(&retry_path(conversation, id), json!({"client_id": Id::new_v4()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"]["delivery"], "failed", "{body}");
    assert_eq!(body["message"]["failure"]["kind"], "not_configured", "{body}");

    // An admin connects the inbox; the retry queues the reply and the delivery job sends it.
    let (status, body) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            Some(json!({"connector": emulator.connector()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let retry = json!({"client_id": Id::new_v4()});
    let (status, first) = workspace.sara.post(&retry_path(conversation, id), retry.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["message"]["delivery"], "queued", "{first}");
    assert!(first["message"].get("failure").is_none(), "the old reason is gone: {first}");
    // The same client_id replays the first answer.
    let (status, replay) = workspace.sara.post(&retry_path(conversation, id), retry).await;
    assert_eq!((status, &replay), (StatusCode::OK, &first));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while message(&server, id).await.delivery != DeliveryState::Sent {
        assert!(std::time::Instant::now() < deadline, "never sent");
        server.clock.advance(5_000);
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    }
    let sent = emulator.recorded(|r| r.sent.clone());
    assert_eq!(sent.len(), 1, "one delivery: {sent:?}");
    assert_eq!(sent[0]["text"]["body"], "On it", "{sent:?}");

    // A sent reply is not retried (a new client_id is a new request).
    let (status, body) =
        workspace.sara.post(&retry_path(conversation, id), json!({"client_id": Id::new_v4()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("only a failed reply"), "{body}");
}

#[tokio::test]
async fn retry_refuses_what_is_not_a_visible_failed_reply() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let (_, sent) = workspace.sara.reply(conversation, "On it").await;
    let reply: Id = serde_json::from_value(sent["message"]["id"].clone()).expect("id");
    let retry = || json!({"client_id": Id::new_v4()});

    // Carl's team does not see the WhatsApp inbox: to him the conversation is out of view.
    let (status, body) = workspace.carl.post(&retry_path(conversation, reply), retry()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("out_of_view")),
        "{body}"
    );

    // The customer's message is not a reply.
    let changes = server.admin.bootstrap().await;
    let incoming = apply(&changes)
        .into_values()
        .filter_map(|v| serde_json::from_value::<Message>(v).ok())
        .find(|m| m.conversation_id == conversation && m.kind == MessageKind::Incoming)
        .expect("the customer's message");
    let (status, body) = workspace.sara.post(&retry_path(conversation, incoming.id), retry()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // A message of another conversation, or none at all, is not found here.
    let other = server.inbound(&workspace.whatsapp, "c2", "m2", "hi").await.conversation_id;
    let (status, _) = workspace.sara.post(&retry_path(other, reply), retry()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = workspace.sara.post(&retry_path(conversation, Id::new_v4()), retry()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An unknown field is refused like every mutation's.
    let (status, _) = workspace
        .sara
        .post(&retry_path(conversation, reply), json!({"client_id": Id::new_v4(), "force": true}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
