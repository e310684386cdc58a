//! A WhatsApp Cloud API inbox end to end. A small Graph API emulator on loopback stands in for
//! graph.facebook.com and answers with Meta's documented shapes (the server crate's fixtures,
//! `crates/server/tests/fixtures/whatsapp/`). A WhatsApp inbox points its Graph base URL at it.
//! - A customer's text arrives as Meta sends it: POSTed to the inbox's webhook, signed with
//!   `X-Hub-Signature-256` under the app secret. It shows in the app, with a desktop notification.
//! - Sara replies from the composer. The emulator's send endpoint gets the documented JSON.
//! - The `delivered` and then `read` status webhooks move the reply's ticks in the window.
//! - With the emulator refusing sends (401, Graph error 190), a reply shows "failed" with the
//!   provider's reason and a Retry action. Once the emulator takes sends again, Retry sends it.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use switchboard_e2e::Session;
use switchboard_proto::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{open_row, reply, screenshot, server, wait_for_notification, Harness, WAIT};

const TOKEN: &str = "EAAG-e2e-emulator-token";
const APP_SECRET: &str = "e2e-whatsapp-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";
const CUSTOMER: &str = "16505551234";
const CUSTOMER_NAME: &str = "Sheena Nelson";
const INBOX_NAME: &str = "WhatsApp Cloud";

/// A fixture of the server crate's WhatsApp tests: Meta's documented payload (sources in that
/// directory's README.md).
fn fixture(name: &str) -> anyhow::Result<String> {
    let path = format!("{}/../../crates/server/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

#[derive(Default)]
struct Recorded {
    /// Bodies POSTed to `/{version}/{phone_number_id}/messages`, in order.
    sent: Vec<Value>,
    /// While set, sends are refused as Meta refuses an expired or revoked token.
    refusing: bool,
    next_id: usize,
}

/// The Graph API's send endpoint on loopback: one request per connection, answered with
/// `send_success.json` (a fresh wamid each time) or, while refusing, Graph's OAuth error.
struct Emulator {
    base: String,
    state: Arc<Mutex<Recorded>>,
}

/// Reads one HTTP/1.1 request: its head and a body of `content-length` bytes.
async fn read_request(socket: &mut tokio::net::TcpStream) -> anyhow::Result<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = socket.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the connection closed mid-request");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the connection closed mid-body");
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok((head, buffer[head_end..head_end + length].to_vec()))
}

fn answer(state: &Mutex<Recorded>, head: &str, body: &[u8]) -> anyhow::Result<(&'static str, Value)> {
    let oauth = |message: &str| json!({"error": {"message": message, "type": "OAuthException", "code": 190, "fbtrace_id": "AE2eEmulator"}});
    let request_line = head.lines().next().unwrap_or_default();
    if !request_line.starts_with(&format!("POST /v23.0/{PHONE_NUMBER_ID}/messages ")) {
        let error =
            json!({"error": {"message": "(#100) Unknown path", "type": "OAuthException", "code": 100}});
        return Ok(("400 Bad Request", error));
    }
    let bearer = format!("authorization: bearer {}", TOKEN.to_lowercase());
    if !head.lines().any(|line| line.trim().to_lowercase() == bearer) {
        return Ok(("401 Unauthorized", oauth("Invalid OAuth access token.")));
    }
    let mut recorded = state.lock().expect("lock");
    recorded.sent.push(serde_json::from_slice(body)?);
    if recorded.refusing {
        return Ok((
            "401 Unauthorized",
            oauth("Error validating access token: The session has been invalidated."),
        ));
    }
    recorded.next_id += 1;
    let mut success: Value = serde_json::from_str(&fixture("send_success.json")?)?;
    let to = recorded.sent.last().map(|b| b["to"].clone()).unwrap_or_default();
    success["contacts"][0]["input"] = to;
    success["messages"][0]["id"] = json!(format!("wamid.E2E{}", recorded.next_id));
    Ok(("200 OK", success))
}

impl Emulator {
    async fn start() -> anyhow::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(Recorded::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let Ok((head, body)) = read_request(&mut socket).await else { return };
                    let (status, body) = answer(&state, &head, &body).unwrap_or_else(|error| {
                        ("400 Bad Request", json!({"error": {"message": error.to_string(), "code": 100}}))
                    });
                    let body = body.to_string();
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Ok(Emulator { base, state })
    }

    fn sent(&self) -> Vec<Value> {
        self.state.lock().expect("lock").sent.clone()
    }

    fn refuse(&self, refusing: bool) {
        self.state.lock().expect("lock").refusing = refusing;
    }

    fn connector(&self) -> Value {
        json!({
            "kind": "whatsapp",
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": "e2e-verify-token",
            "graph_base_url": self.base,
            "api_version": "v23.0",
        })
    }
}

/// POSTs a notification to the inbox's webhook as Meta does: the raw body, signed.
async fn notify(server: &server::Server, inbox: Id, body: &str) -> anyhow::Result<()> {
    let signature = switchboard_server::sign_payload(APP_SECRET, body.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/channels/{inbox}/webhook", server.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body.to_owned())
        .send()
        .await?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "the webhook answered {status}: {}", response.text().await?);
    Ok(())
}

/// Waits until the emulator has had `count` sends.
async fn sends(emulator: &Emulator, count: usize) -> anyhow::Result<Vec<Value>> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let sent = emulator.sent();
        if sent.len() >= count {
            return Ok(sent);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the emulator got {} sends, not {count}: {sent:#?}",
            sent.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The documented send JSON for a text reply (`../shared/design/channels.md` §1.5).
fn check_text_send(body: &Value, text: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        body["messaging_product"] == "whatsapp"
            && body["recipient_type"] == "individual"
            && body["to"] == CUSTOMER
            && body["type"] == "text"
            && body["text"]["body"] == text
            && body["text"]["preview_url"] == false,
        "the send JSON is not WhatsApp's text message: {body:#}"
    );
    // The composer has no "reply to this message": nothing is sent in context.
    anyhow::ensure!(body.get("context").is_none(), "a context the app did not ask for: {body:#}");
    Ok(())
}

async fn delivery_shown(session: &Session, message: Id, state: &str) -> anyhow::Result<()> {
    session
        .wait_for(&format!("[data-testid=message][data-id='{message}'][data-delivery={state}]"), WAIT)
        .await?;
    Ok(())
}

/// Polls `find` until it finds something (20 s at most).
async fn poll<T, Fut>(what: &str, find: impl Fn() -> Fut) -> anyhow::Result<T>
where
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(Some(found)) = find().await {
            return Ok(found);
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The outgoing message with this body in the conversation, as the server has it.
async fn outgoing(server: &server::Server, conversation: Id, body: &str) -> anyhow::Result<Message> {
    poll("the reply on the server", || async {
        let messages = server.messages(conversation).await?;
        Ok(messages.into_iter().find(|m| m.kind == MessageKind::Outgoing && m.body == body))
    })
    .await
}

/// The conversation the customer's message opened in the inbox.
async fn conversation_in(server: &server::Server, inbox: Id) -> anyhow::Result<Id> {
    poll("a conversation in the WhatsApp inbox", || async {
        for id in server.conversation_ids().await?.into_iter().rev() {
            let conversation = server.conversation(id.parse()?).await?;
            if conversation.inbox_id == inbox {
                return Ok(Some(conversation.id));
            }
        }
        Ok(None)
    })
    .await
}

pub async fn whatsapp_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let emulator = Emulator::start().await?;
    let created: CreatedInbox = serde_json::from_value(
        server
            .admin(
                "/api/v1/inboxes",
                json!({"name": INBOX_NAME, "channel": "whatsapp", "member_agent_ids": [workspace.sara],
                       "connector": emulator.connector()}),
            )
            .await?,
    )?;
    let inbox = created.inbox.id;

    // The customer writes: Meta's text notification, signed with the app secret over its bytes.
    notify(server, inbox, &fixture("text.json")?).await?;
    let conversation = conversation_in(server, inbox).await?;
    wait_for_notification(harness, &[CUSTOMER_NAME, INBOX_NAME]).await?;
    crate::show_all_view(session).await?;
    open_row(session, conversation).await?;
    session
        .wait_until(
            "the customer's WhatsApp message shows",
            "return [...document.querySelectorAll('[data-testid=message][data-kind=incoming] [data-testid=message-body]')]
                .some(e => e.textContent.includes('Hi, my order is late'));",
            WAIT,
        )
        .await?;

    // Sara answers from the composer: the emulator gets WhatsApp's text message JSON.
    let first = "Sorry about that, Sheena. It left our warehouse this morning.";
    reply(session, first).await?;
    let sent = sends(&emulator, 1).await?;
    check_text_send(&sent[0], first)?;
    let message = outgoing(server, conversation, first).await?;
    delivery_shown(session, message.id, "sent").await?;

    // Meta's statuses for the wamid the emulator gave: delivered, then read.
    for (fixture_name, state) in [("status_delivered.json", "delivered"), ("status_read.json", "read")] {
        let body = fixture(fixture_name)?.replace("WAMID_OF_REPLY", "wamid.E2E1");
        notify(server, inbox, &body).await?;
        delivery_shown(session, message.id, state).await?;
        screenshot(session, harness, &format!("17-whatsapp-{state}")).await?;
    }
    let ticks = session
        .execute(
            "const e = document.querySelector(`[data-testid=message][data-id='${arguments[0]}'] [data-testid=delivery]`);
             return e && [e.className, e.title, getComputedStyle(e).color];",
            json!([message.id]),
        )
        .await?;
    anyhow::ensure!(
        ticks[0].as_str().is_some_and(|c| c.contains("read")) && ticks[1] == "Read",
        "read ticks: {ticks}"
    );

    // The provider refuses the next reply: failed, with Meta's reason and a Retry action.
    emulator.refuse(true);
    let second = "Your tracking number is on its way too.";
    reply(session, second).await?;
    let message = outgoing(server, conversation, second).await?;
    let failure = format!(
        "[data-testid=message][data-id='{}'] [data-testid=delivery-failure][data-failure=rejected]",
        message.id
    );
    session.wait_for(&failure, WAIT).await?;
    let words = crate::text_of(session, &failure).await?;
    anyhow::ensure!(words.contains("The session has been invalidated"), "the failure reads {words:?}");
    anyhow::ensure!(sends(&emulator, 2).await?.len() == 2, "the refused reply was sent once");
    screenshot(session, harness, "17-whatsapp-failed").await?;

    // The token is good again: Retry sends it, once more, and the failure goes.
    emulator.refuse(false);
    session.click(&session.wait_for(&format!("{failure} [data-testid=retry-delivery]"), WAIT).await?).await?;
    delivery_shown(session, message.id, "sent").await?;
    let sent = sends(&emulator, 3).await?;
    anyhow::ensure!(sent.len() == 3, "one more send for the retry: {sent:#?}");
    check_text_send(&sent[2], second)?;
    anyhow::ensure!(session.find_all(&failure).await?.is_empty(), "the failure still shows after the retry");
    println!(
        "whatsapp: a signed webhook message shown and notified; the reply sent as WhatsApp JSON; \
         delivered then read ticks; a refused send failed with Meta's reason, retried and sent"
    );
    Ok(())
}
