//! An admin's "test connection" (`POST /inboxes/{id}/connector/test`) against the providers'
//! emulators: the stored settings reach the provider (WhatsApp's phone number, Telegram's
//! `getMe`), a refused token or a provider that is down answers `ok: false` with why (never a
//! 500), the answer never holds a secret, agents may not call it, and a secret sent blank when an
//! admin edits the connector keeps the stored one. Email's test is in `email.rs` (it needs Dovecot).

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::{graph_emulator, harness::*, telegram_emulator};

async fn inbox(server: &TestServer, channel: &str, connector: Value) -> Id {
    let created = server
        .admin
        .ok(
            "/api/v1/inboxes",
            json!({"name": format!("{channel} inbox"), "channel": channel, "connector": connector}),
        )
        .await;
    serde_json::from_value(created["inbox"]["id"].clone()).expect("inbox id")
}

async fn test(session: &Session, inbox: Id) -> (StatusCode, Value) {
    session.post(&format!("/api/v1/inboxes/{inbox}/connector/test"), json!({})).await
}

async fn tested(server: &TestServer, inbox: Id) -> ConnectorTest {
    let (status, answer) = test(&server.admin, inbox).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    serde_json::from_value(answer).expect("a ConnectorTest")
}

/// A loopback port nobody listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

#[tokio::test]
async fn whatsapp_test_reads_the_phone_number_and_a_refused_token_says_so() {
    let emulator = graph_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let good = inbox(&server, "whatsapp", emulator.connector()).await;
    let answer = tested(&server, good).await;
    assert!(answer.ok, "{answer:?}");
    assert!(
        answer.detail.contains("+1 555-078-3881") && answer.detail.contains("Jasper's Market"),
        "{answer:?}"
    );

    let mut wrong = emulator.connector();
    wrong["access_token"] = json!("EAAG-a-wrong-token");
    let bad = inbox(&server, "whatsapp", wrong).await;
    let answer = tested(&server, bad).await;
    assert!(!answer.ok, "{answer:?}");
    assert!(
        answer.detail.contains("access token was refused") && answer.detail.contains("401"),
        "{answer:?}"
    );
    assert!(!answer.detail.contains("EAAG-a-wrong-token"), "no secret in {answer:?}");
}

#[tokio::test]
async fn telegram_test_calls_get_me_and_never_shows_the_bot_token() {
    let emulator = telegram_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let good = inbox(&server, "telegram", emulator.connector()).await;
    let answer = tested(&server, good).await;
    assert_eq!(
        answer,
        ConnectorTest {
            ok: true,
            detail: "Telegram bot @switchboard_support_bot (Switchboard Support)".into()
        }
    );

    // In webhook mode a token Telegram refuses is refused at the save (setWebhook): a polling
    // inbox is stored without asking Telegram, so its test is what finds the token wrong.
    let mut wrong = emulator.polling_connector();
    wrong["bot_token"] = json!("1111:WrongTokenForTheTest");
    let bad = inbox(&server, "telegram", wrong).await;
    let answer = tested(&server, bad).await;
    assert!(!answer.ok && answer.detail.contains("bot token was refused"), "{answer:?}");
    assert!(!answer.detail.contains("WrongTokenForTheTest"), "no secret in {answer:?}");
}

#[tokio::test]
async fn a_provider_that_is_down_answers_ok_false_with_why_never_a_500() {
    let server = TestServer::start().await;
    let port = closed_port().await;
    let mut whatsapp = graph_emulator::Emulator::start().await.connector();
    whatsapp["graph_base_url"] = json!(format!("http://127.0.0.1:{port}"));
    let answer = tested(&server, inbox(&server, "whatsapp", whatsapp).await).await;
    assert!(!answer.ok && answer.detail.contains("unreachable"), "{answer:?}");
    assert!(answer.detail.contains(&format!("127.0.0.1:{port}")), "says where: {answer:?}");

    // Polling: a webhook inbox whose Bot API is down is refused at the save (setWebhook).
    let mut telegram = telegram_emulator::Emulator::start().await.polling_connector();
    telegram["api_base_url"] = json!(format!("http://127.0.0.1:{port}"));
    let answer = tested(&server, inbox(&server, "telegram", telegram).await).await;
    assert!(!answer.ok && answer.detail.contains("unreachable"), "{answer:?}");
    assert!(!answer.detail.contains(telegram_emulator::TOKEN), "the URL holds the token: {answer:?}");

    let none = inbox(&server, "api", Value::Null).await;
    let answer = tested(&server, none).await;
    assert!(!answer.ok && answer.detail.contains("no connector"), "{answer:?}");
}

#[tokio::test]
async fn only_admins_test_a_connection_and_an_unknown_inbox_is_not_found() {
    let emulator = telegram_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let telegram = inbox(&server, "telegram", emulator.connector()).await;
    let (status, answer) = test(&workspace.sara, telegram).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, answer) = test(&server.admin, Id::new_v4()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}

#[tokio::test]
async fn a_secret_sent_blank_on_edit_keeps_the_stored_one() {
    let emulator = graph_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let whatsapp = inbox(&server, "whatsapp", emulator.connector()).await;
    let mut edited = emulator.connector();
    for secret in ["access_token", "app_secret", "verify_token"] {
        edited[secret] = json!("");
    }
    edited["api_version"] = json!("v21.0");
    let (status, answer) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{whatsapp}"),
            Some(json!({"connector": edited})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, info) = server.admin.get(&format!("/api/v1/inboxes/{whatsapp}/connector")).await;
    assert_eq!(info["details"]["api_version"], "v21.0", "the edit took: {info}");
    assert!(tested(&server, whatsapp).await.ok, "the stored token was kept");

    // A new one replaces it.
    edited["access_token"] = json!("EAAG-replaced");
    let (status, _) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{whatsapp}"),
            Some(json!({"connector": edited})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!tested(&server, whatsapp).await.ok, "the new token is used");

    // A blank secret with nothing stored to keep is still refused.
    let mut fresh = emulator.connector();
    fresh["access_token"] = json!("");
    let (status, answer) = server
        .admin
        .post("/api/v1/inboxes", json!({"name": "WA 2", "channel": "whatsapp", "connector": fresh}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}
