//! Starting a conversation from the app: a contact an agent added (a phone, no WhatsApp id yet)
//! is written to first with a template, atomically and once per client id; an inbox that can't
//! reach the contact, or a contact who already has an open conversation there, is refused.

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::{graph_emulator::Emulator, harness::*};

async fn contact(session: &Session, name: &str, phone: Option<&str>, email: Option<&str>) -> Id {
    let created = session
        .ok(
            "/api/v1/contacts",
            json!({"client_id": Id::new_v4(), "name": name, "phone": phone, "email": email}),
        )
        .await;
    serde_json::from_value(created["contact"]["id"].clone()).expect("contact id")
}

#[tokio::test]
async fn a_template_starts_a_conversation_with_a_new_contact_and_reaches_their_phone() {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "WhatsApp", "channel": "whatsapp", "connector": emulator.connector(),
        "templates": [{"name": "order_update", "language": "en", "body": "Hi {{1}}, order {{2}} shipped"}]});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let olga = contact(&server.admin, "Olga", Some("+40 721 000 111"), None).await;

    let body = json!({"client_id": Id::new_v4(), "inbox_id": inbox.inbox.id, "contact_id": olga,
        "template": {"name": "order_update", "params": ["Olga", "A-17"]}});
    let first = server.admin.ok("/api/v1/conversations", body.clone()).await;
    let again = server.admin.ok("/api/v1/conversations", body).await;
    assert_eq!(first, again, "the same client id answers the same result, and writes nothing more");
    let result: ConversationResult = serde_json::from_value(first).expect("result");
    let message = result.message.expect("the first message");
    assert_eq!(message.body, "Hi Olga, order A-17 shipped", "the template rendered in one commit");
    assert_eq!(result.conversation.preview, "Hi Olga, order A-17 shipped");
    let messages: Vec<Message> =
        server.messages().await.into_iter().filter(|m| m.conversation_id == result.conversation.id).collect();
    assert_eq!(messages.len(), 1, "one first message: {messages:?}");

    let sent = server.until_message(message.id, "sent", 5_000, |m| m.delivery == DeliveryState::Sent).await;
    assert!(sent.failure.is_none());
    let payload: Value = emulator.recorded(|r| r.sent[0].clone());
    assert_eq!(
        payload["to"], "40721000111",
        "a contact with no WhatsApp id yet is reached at their phone's digits"
    );
    assert_eq!(payload["type"], "template");
    assert_eq!(payload["template"]["name"], "order_update");
    assert_eq!(emulator.recorded(|r| r.sent.len()), 1, "sent once");
}

#[tokio::test]
async fn an_inbox_that_cannot_reach_the_contact_or_an_open_conversation_is_refused() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let start = |inbox: Id, contact: Id| {
        json!({"client_id": Id::new_v4(), "inbox_id": inbox, "contact_id": contact,
            "template": {"name": "follow_up", "params": ["you", "the order"]}})
    };
    let by_email = contact(&server.admin, "Nadia", None, Some("nadia@example.com")).await;
    let (status, answer) =
        server.admin.post("/api/v1/conversations", start(workspace.whatsapp.inbox.id, by_email)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "validation");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("phone"), "{answer}");

    let by_phone = contact(&server.admin, "Olga", Some("+40 721 000 111"), None).await;
    let (status, answer) = server
        .admin
        .post(
            "/api/v1/conversations",
            json!({"client_id": Id::new_v4(), "inbox_id": workspace.email.inbox.id, "contact_id": by_phone, "body": "Hello"}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation"))
    );

    // One open conversation per contact per inbox: the second start names the first.
    let first = server.admin.ok("/api/v1/conversations", start(workspace.whatsapp.inbox.id, by_phone)).await;
    let (status, answer) =
        server.admin.post("/api/v1/conversations", start(workspace.whatsapp.inbox.id, by_phone)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "conversation_exists");
    assert_eq!(
        answer["error"]["conversation_id"], first["conversation"]["id"],
        "the open one, to offer opening it"
    );
}
