//! Inboxes' channels through `switchboard_core::channels`, the calls the settings screen makes,
//! against the real server (on every backend): an admin creates a Telegram inbox with its bot's
//! settings, "test connection" reaches the provider (a `getMe` stub on loopback standing in for
//! api.telegram.org), an edit that leaves the token blank keeps the stored one, a provider that
//! is down is `ok: false` with why, and an agent may not test.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::{channels, CoreError};
use switchboard_proto::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

const TOKEN: &str = "7012345678:AAStubTokenForTheCoreTest";

/// A Bot API stub: `getMe` with `TOKEN` answers the bot, anything else 401 like Telegram.
/// Answers its base URL and how many requests it served.
async fn bot_api() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut head = vec![0u8; 4096];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&head[..n]).to_string();
            let (status, body) = if head.starts_with(&format!("GET /bot{TOKEN}/getMe ")) {
                let bot = json!({"id": 7012345678u64, "is_bot": true, "first_name": "Shop", "username": "shop_help_bot"});
                ("200 OK", json!({"ok": true, "result": bot}))
            } else {
                ("401 Unauthorized", json!({"ok": false, "error_code": 401, "description": "Unauthorized"}))
            };
            let body = body.to_string();
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (base, served)
}

fn telegram(bot_token: &str, api_base_url: &str) -> ConnectorSettings {
    ConnectorSettings::Telegram(TelegramSettings {
        bot_token: bot_token.into(),
        webhook_secret: "shop-secret_1".into(),
        api_base_url: Some(api_base_url.into()),
        mode: TelegramMode::Webhook,
    })
}

#[tokio::test]
async fn an_admin_creates_a_telegram_inbox_and_tests_its_connection() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    let (stub, served) = bot_api().await;
    server
        .admin_ok(
            "/api/v1/agents",
            json!({"name": "Ida Admin", "email": "ida@test.example", "role": "admin", "password": PASSWORD}),
        )
        .await;
    let admin = Client::sign_in(&server, "ida@test.example").await;
    let api = &admin.account.api;

    let inbox = channels::create_inbox(api, "  Shop bot ", Channel::Telegram, Some(telegram(TOKEN, &stub)))
        .await
        .expect("the inbox is created");
    assert_eq!((inbox.name.as_str(), inbox.channel), ("Shop bot", Channel::Telegram));
    admin
        .until("the new inbox in the cache", |c| {
            matches!(c.account.cache.get::<Inbox>(EntityKind::Inbox, inbox.id), Ok(Some(_)))
        })
        .await;

    let answer = channels::test_connection(api, inbox.id).await.expect("tested");
    assert_eq!(answer, ConnectorTest { ok: true, detail: "Telegram bot @shop_help_bot (Shop)".into() });
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1, "the provider was asked");

    // The connector read back names no secret, and says what to register.
    let info = api.inbox_connector(inbox.id).await.expect("info");
    assert_eq!(info.webhook_path, Some(format!("/api/v1/channels/{}/webhook", inbox.id)));
    assert!(!info.details.to_string().contains(TOKEN), "{info:?}");

    // An edit with the token left blank keeps it; a provider that is down says so.
    let closed =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    channels::save_connector(api, inbox.id, Some(telegram("", &format!("http://{closed}"))))
        .await
        .expect("saved with the token kept");
    let answer = channels::test_connection(api, inbox.id).await.expect("tested, not an error");
    assert!(!answer.ok && answer.detail.contains("unreachable"), "{answer:?}");
    channels::save_connector(api, inbox.id, Some(telegram("", &stub))).await.expect("saved");
    assert!(channels::test_connection(api, inbox.id).await.expect("tested").ok, "the stored token was kept");

    // A wrong token: refused by the provider, and the answer does not repeat it.
    channels::save_connector(api, inbox.id, Some(telegram("1:WrongToken", &stub))).await.expect("saved");
    let answer = channels::test_connection(api, inbox.id).await.expect("tested");
    assert!(!answer.ok && answer.detail.contains("bot token was refused"), "{answer:?}");
    assert!(!answer.detail.contains("WrongToken"), "{answer:?}");

    let sara = Client::sign_in(&server, "sara@test.example").await;
    match channels::test_connection(&sara.account.api, inbox.id).await {
        Err(CoreError::Rejected { code: ErrorCode::Forbidden, .. }) => {}
        other => panic!("an agent may not test a connection: {other:?}"),
    }
}
