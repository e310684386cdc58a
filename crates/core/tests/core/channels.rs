//! Inboxes' channels through `switchboard_core::channels`, the calls the settings screen makes,
//! against the real server (on every backend): an admin creates a Telegram inbox with its bot's
//! settings, "test connection" reaches the provider (a `getMe` stub on loopback standing in for
//! api.telegram.org), saving registers the inbox's callback there (`setWebhook`), an edit that
//! leaves the token blank keeps the stored one, an edit the provider can't take (down, or a wrong
//! token) is refused with why and stores nothing, and an agent may not test.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::{channels, CoreError};
use switchboard_proto::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

const TOKEN: &str = "7012345678:AAStubTokenForTheCoreTest";

/// A Bot API stub: `getMe` and `setWebhook` with `TOKEN` answer as Telegram does, anything else
/// 401 like Telegram. Answers its base URL and the request line of each request it served.
async fn bot_api() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let served = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = served.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = vec![0u8; 4096];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&head[..n]).to_string();
            log.lock().expect("log").push(head.lines().next().unwrap_or_default().to_owned());
            let (status, body) = if head.starts_with(&format!("GET /bot{TOKEN}/getMe ")) {
                let bot = json!({"id": 7012345678u64, "is_bot": true, "first_name": "Shop", "username": "shop_help_bot"});
                ("200 OK", json!({"ok": true, "result": bot}))
            } else if head.starts_with(&format!("POST /bot{TOKEN}/setWebhook ")) {
                ("200 OK", json!({"ok": true, "result": true, "description": "Webhook was set"}))
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

/// How many of the requests `served` so far start with `line`.
fn asked(served: &std::sync::Mutex<Vec<String>>, line: &str) -> usize {
    served.lock().expect("log").iter().filter(|l| l.starts_with(line)).count()
}

/// An edit that must be refused with a validation error naming `needle`.
fn refused_with<T: std::fmt::Debug>(result: Result<T, CoreError>, needle: &str) -> String {
    match result {
        Err(CoreError::Rejected { code: ErrorCode::Validation, message, .. }) => {
            assert!(message.contains(needle), "{message}");
            message
        }
        other => panic!("the edit should be refused naming {needle:?}: {other:?}"),
    }
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

    let set_webhook = format!("POST /bot{TOKEN}/setWebhook ");
    assert_eq!(asked(&served, &set_webhook), 1, "saving registered the inbox's callback: {served:?}");
    let answer = channels::test_connection(api, inbox.id).await.expect("tested");
    assert_eq!(answer, ConnectorTest { ok: true, detail: "Telegram bot @shop_help_bot (Shop)".into() });
    assert_eq!(asked(&served, &format!("GET /bot{TOKEN}/getMe ")), 1, "the provider was asked");

    // The connector read back names no secret, and says where updates arrive.
    let info = api.inbox_connector(inbox.id).await.expect("info");
    assert_eq!(info.webhook_path, Some(format!("/api/v1/channels/{}/webhook", inbox.id)));
    assert!(!info.details.to_string().contains(TOKEN), "{info:?}");

    // An edit to a provider that is down is refused with why, and stores nothing: the stored
    // settings still reach the stub.
    let closed =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let why = refused_with(
        channels::save_connector(api, inbox.id, Some(telegram("", &format!("http://{closed}")))).await,
        "can't connect",
    );
    assert!(why.contains("Nothing was saved") && !why.contains(TOKEN), "{why}");
    assert!(channels::test_connection(api, inbox.id).await.expect("tested").ok, "nothing was stored");

    // An edit with the token left blank keeps it (and registers the callback again).
    channels::save_connector(api, inbox.id, Some(telegram("", &stub)))
        .await
        .expect("saved with the token kept");
    assert_eq!(asked(&served, &set_webhook), 2, "{served:?}");
    assert!(channels::test_connection(api, inbox.id).await.expect("tested").ok, "the stored token was kept");

    // A wrong token: refused by the provider at the save, and the answer does not repeat it.
    let why = refused_with(
        channels::save_connector(api, inbox.id, Some(telegram("1:WrongToken", &stub))).await,
        "bot token was refused",
    );
    assert!(!why.contains("WrongToken"), "{why}");
    assert!(channels::test_connection(api, inbox.id).await.expect("tested").ok, "the good token stays");

    let sara = Client::sign_in(&server, "sara@test.example").await;
    match channels::test_connection(&sara.account.api, inbox.id).await {
        Err(CoreError::Rejected { code: ErrorCode::Forbidden, .. }) => {}
        other => panic!("an agent may not test a connection: {other:?}"),
    }
}
