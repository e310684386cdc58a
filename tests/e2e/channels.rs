//! Inboxes' channels from the app: Sara, made an admin for the step, opens the settings screen's
//! New inbox page, creates a Telegram inbox with its bot token (the Bot API is a `getMe` and
//! `setWebhook` stub on loopback standing in for api.telegram.org: saving registers the webhook),
//! is taken to the inbox's page where the callback URL is shown, presses "Test connection" and
//! reads the answer the server got from the provider. Then she is a lead again for the steps
//! after.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use serde_json::json;
use switchboard_e2e::{keys, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{leave_fields, screenshot, server, Harness, WAIT};

const TOKEN: &str = "7012345678:AAE2eStubTokenForTheChannelStep";

/// The request's head and body: read until the head ends and `content-length` bytes follow it.
async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&request).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                return text;
            }
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&request).to_string(),
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A Bot API stub: with `TOKEN`, `getMe` answers the bot (counted in the first counter) and
/// `setWebhook` sets it (the second); anything else 401 as Telegram does.
async fn bot_api() -> anyhow::Result<(String, Arc<AtomicUsize>, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let served = Arc::new(AtomicUsize::new(0));
    let registered = Arc::new(AtomicUsize::new(0));
    let (count, webhooks) = (served.clone(), registered.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let head = read_request(&mut socket).await;
            let (status, body) = if head.starts_with(&format!("GET /bot{TOKEN}/getMe ")) {
                count.fetch_add(1, Ordering::SeqCst);
                let bot = json!({"id": 7012345678u64, "is_bot": true, "first_name": "Shop", "username": "shop_help_bot"});
                ("200 OK", json!({"ok": true, "result": bot}))
            } else if head.starts_with(&format!("POST /bot{TOKEN}/setWebhook ")) {
                webhooks.fetch_add(1, Ordering::SeqCst);
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
    Ok((base, served, registered))
}

async fn type_into(session: &Session, css: &str, text: &str) -> anyhow::Result<()> {
    let field = session.wait_for(css, WAIT).await?;
    session.clear(&field).await?;
    session.send_keys(&field, text).await
}

/// Opens Settings → New inbox (the signed-in agent is an admin by now) and starts an inbox named
/// `name` on `channel`, whose connector fields then show.
pub(crate) async fn start_new_inbox(session: &Session, name: &str, channel: &str) -> anyhow::Result<()> {
    leave_fields(session).await?;
    if session.find_all("[data-testid=settings]").await?.is_empty() {
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
        session.click(&session.wait_for("[data-testid=open-settings]", WAIT).await?).await?;
        session.wait_for("[data-testid=settings]", WAIT).await?;
    }
    // The role reaches the window through the feed: the admins' New inbox page appears.
    session.click(&session.wait_for("[data-testid=settings-new-inbox]", WAIT).await?).await?;
    session.wait_for("[data-testid=new-inbox]", WAIT).await?;
    type_into(session, "[data-testid=new-inbox-name]", name).await?;
    // The channel: the select's value set as a choice in it would (a change event).
    session.wait_for("[data-testid=new-inbox-channel]", WAIT).await?;
    session
        .execute(
            "const s = document.querySelector('[data-testid=new-inbox-channel]'); s.focus(); s.value = arguments[0];
             s.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            json!([channel]),
        )
        .await?;
    Ok(())
}

pub async fn channel_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let (stub, served, registered) = bot_api().await?;
    server.set_role(workspace.sara, "admin").await?;
    start_new_inbox(session, "Telegram support", "telegram").await?;
    session.wait_for("[data-testid=connector-bot_token]", WAIT).await?;
    type_into(session, "[data-testid=connector-bot_token]", TOKEN).await?;
    type_into(session, "[data-testid=connector-api_base_url]", &stub).await?;
    leave_fields(session).await?;
    screenshot(session, harness, "17-new-inbox").await?;
    session.click(&session.wait_for("[data-testid=save-connector]", WAIT).await?).await?;

    // Created: the inbox's page, with the connection read back and the callback URL to register.
    session
        .wait_until(
            "the new inbox's page shows its Telegram connection",
            "const c = document.querySelector('[data-testid=inbox-connector]');
             return c && c.dataset.kind === 'telegram' && !!document.querySelector('[data-testid=callback-url]');",
            WAIT,
        )
        .await?;
    let callback = session.wait_for("[data-testid=callback-url]", WAIT).await?;
    let url = session.attribute(&callback, "value").await?.unwrap_or_default();
    anyhow::ensure!(url.contains("/api/v1/channels/") && url.ends_with("/webhook"), "callback URL: {url}");
    anyhow::ensure!(registered.load(Ordering::SeqCst) == 1, "saving registered the webhook once");

    session.click(&session.wait_for("[data-testid=test-connector]", WAIT).await?).await?;
    let result = session.wait_for("[data-testid=connector-test-result]", WAIT).await?;
    let text = session.text(&result).await?;
    anyhow::ensure!(
        session.attribute(&result, "data-ok").await?.as_deref() == Some("true")
            && text.contains("@shop_help_bot"),
        "test connection answered: {text}"
    );
    anyhow::ensure!(served.load(Ordering::SeqCst) == 1, "the server asked the Bot API once");
    leave_fields(session).await?;
    screenshot(session, harness, "17-channel-test").await?;

    session.press(&[keys::ESCAPE]).await?;
    server.set_role(workspace.sara, "lead").await?;
    Ok(())
}
