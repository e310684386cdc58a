//! The Telegram Bot API connector against the Bot API emulator (`telegram_emulator.rs`) and the
//! documented `Update`/`Message` shapes (`tests/fixtures/telegram/`): the webhook secret token
//! accepted and refused, a repeated update stored once, a photo (largest size) and a document
//! downloaded through `getFile`, an edit shown as an edit, replies as text, photo and document, a
//! 429's `retry_after` honoured on the injected clock, and a blocked user failing the reply.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use crate::{
    harness::*,
    telegram_emulator::{fixture, fixture_json, Emulator, SECRET},
};

struct Setup {
    server: TestServer,
    emulator: Emulator,
    inbox: CreatedInbox,
}

async fn setup() -> Setup {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "Telegram", "channel": "telegram", "connector": emulator.connector()});
    let inbox = serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    Setup { server, emulator, inbox }
}

impl Setup {
    fn webhook_url(&self) -> String {
        format!("{}/api/v1/channels/{}/webhook", self.server.base, self.inbox.inbox.id)
    }

    /// POSTs an update as Telegram does, with `secret` in the header (or none).
    async fn post_update(&self, body: &str, secret: Option<&str>) -> (StatusCode, String) {
        let mut request =
            reqwest::Client::new().post(self.webhook_url()).header("content-type", "application/json");
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let response = request.body(body.to_owned()).send().await.expect("webhook request");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn update(&self, body: &str) {
        let (status, answer) = self.post_update(body, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK, "an update with the secret is taken: {answer}");
    }

    async fn messages(&self) -> Vec<Message> {
        self.server.messages().await
    }

    async fn message(&self, id: Id) -> Message {
        self.server.message(id).await
    }

    async fn until(&self, id: Id, what: &str, step: Millis, done: impl Fn(&Message) -> bool) -> Message {
        self.server.until_message(id, what, step, done).await
    }

    async fn customer_writes(&self) -> Id {
        self.update(&fixture("text.json")).await;
        self.messages()
            .await
            .iter()
            .find(|m| m.kind == MessageKind::Incoming)
            .expect("message")
            .conversation_id
    }

    async fn reply(&self, conversation: Id, body: Value) -> Id {
        let sent =
            self.server.admin.ok(&format!("/api/v1/conversations/{conversation}/messages"), body).await;
        serde_json::from_value(sent["message"]["id"].clone()).expect("message id")
    }

    async fn upload(&self, conversation: Id, name: &str, mime: &str, bytes: &[u8]) -> Value {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name(name.to_owned())
                .mime_str(mime)
                .expect("mime"),
        );
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/attachments?conversation_id={conversation}", self.server.base))
            .bearer_auth(&self.server.admin.token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("attachment")
    }

    fn sends(&self) -> usize {
        self.emulator.recorded(|r| r.sent.len())
    }
}

fn text_reply(body: &str) -> Value {
    json!({"client_id": Id::new_v4(), "kind": "reply", "body": body})
}

#[tokio::test]
async fn an_update_needs_the_webhook_secret_token_and_a_forged_one_writes_nothing() {
    let setup = setup().await;
    let body = fixture("text.json");
    let head = setup.server.head().await;
    for (why, secret) in [
        ("no header", None),
        ("another secret", Some("emulator-webhook-secret_2")),
        ("a prefix of it", Some(&SECRET[..SECRET.len() - 1])),
        ("empty", Some("")),
    ] {
        let (status, answer) = setup.post_update(&body, secret).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {answer}");
        assert!(answer.contains("X-Telegram-Bot-Api-Secret-Token"), "{why}: says what is wrong: {answer}");
    }
    assert_eq!(setup.server.head().await, head, "nothing forged was stored");
    setup.update(&body).await;
    let messages = setup.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "Olá! Where is my order?");
}

#[tokio::test]
async fn a_repeated_update_stores_the_message_once() {
    let setup = setup().await;
    let body = fixture("text.json");
    setup.update(&body).await;
    let head = setup.server.head().await;
    setup.update(&body).await;
    // The same message in an update with another id (Telegram re-sending it) is the same message.
    setup.update(&body.replace("123456789", "123456799")).await;
    assert_eq!(setup.server.head().await, head, "a repeat writes nothing");
    assert_eq!(setup.messages().await.len(), 1);
}

#[tokio::test]
async fn a_photo_at_its_largest_size_and_a_document_are_downloaded_through_get_file() {
    let setup = setup().await;
    let photo = b"\xff\xd8\xff the largest photo".to_vec();
    let pdf = b"%PDF-1.7 invoice".to_vec();
    setup.emulator.add_file("AgACAgQAAxkBAAIBZ2ZlargeAAE", "photos/file_0.jpg", &photo);
    setup.emulator.add_file("BQACAgQAAxkBAAIBaGZdocAAE", "documents/file_1.pdf", &pdf);
    setup.update(&fixture("photo.json")).await;
    setup.update(&fixture("document.json")).await;
    let requested = setup.emulator.recorded(|r| r.get_file.clone());
    assert_eq!(requested, vec!["AgACAgQAAxkBAAIBZ2ZlargeAAE", "BQACAgQAAxkBAAIBaGZdocAAE"], "largest only");
    let messages = setup.messages().await;
    let with_photo = messages.iter().find(|m| m.body == "The box arrived like this").expect("the caption");
    assert_eq!(with_photo.attachments.len(), 1);
    assert_eq!(with_photo.attachments[0].sha256, hex::encode(Sha256::digest(&photo)));
    assert_eq!(with_photo.attachments[0].content_type, "image/jpeg");
    let with_pdf = messages.iter().find(|m| m.body == "My invoice").expect("the caption");
    assert_eq!(with_pdf.attachments[0].file_name, "invoice.pdf");
    assert_eq!(with_pdf.attachments[0].size, pdf.len() as u64);
    let (status, _) =
        setup.server.admin.get(&format!("/api/v1/attachments/{}", with_pdf.attachments[0].id)).await;
    assert_eq!(status, StatusCode::OK, "downloadable by agents");
    assert_eq!(setup.emulator.recorded(|r| r.unauthorized), 0, "every call carried the bot token");
}

#[tokio::test]
async fn an_edit_shows_as_an_edit_once() {
    let setup = setup().await;
    setup.update(&fixture("text.json")).await;
    let edit = fixture("edited_message.json");
    setup.update(&edit).await;
    setup.update(&edit).await;
    let messages = setup.messages().await;
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec!["Olá! Where is my order?", "✏️ Edited: Olá! Where is my order #1234?"]);
    assert_eq!(messages[0].conversation_id, messages[1].conversation_id, "in the same conversation");
}

#[tokio::test]
async fn replies_go_out_as_text_photo_and_document() {
    let setup = setup().await;
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("Your order ships today")).await;
    setup.until(reply, "sent", 1_000, |m| m.delivery == DeliveryState::Sent).await;
    let photo = setup.upload(conversation, "label.png", "image/png", b"\x89PNG label").await;
    let request = json!({"client_id": Id::new_v4(), "kind": "reply", "body": "The label",
        "attachment_ids": [photo["id"]]});
    let reply = setup.reply(conversation, request).await;
    setup.until(reply, "sent", 1_000, |m| m.delivery == DeliveryState::Sent).await;
    let pdf = setup.upload(conversation, "receipt.pdf", "application/pdf", b"%PDF-1.7 receipt").await;
    let request =
        json!({"client_id": Id::new_v4(), "kind": "reply", "body": "", "attachment_ids": [pdf["id"]]});
    let reply = setup.reply(conversation, request).await;
    setup.until(reply, "sent", 1_000, |m| m.delivery == DeliveryState::Sent).await;
    let calls = setup.emulator.recorded(|r| r.sent.clone());
    let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(methods, vec!["sendMessage", "sendPhoto", "sendDocument"]);
    assert_eq!(calls[0].fields, json!({"chat_id": "987654321", "text": "Your order ships today"}));
    assert_eq!(calls[1].fields["caption"], "The label");
    assert_eq!(calls[1].fields["file_name"], "label.png");
    assert_eq!(calls[1].fields["chat_id"], "987654321");
    assert_eq!(calls[2].fields["file_name"], "receipt.pdf");
    assert_eq!(calls[2].fields["content_type"], "application/pdf");
    assert!(calls[2].fields.get("caption").is_none(), "no caption without a body");
}

#[tokio::test]
async fn a_429_waits_its_retry_after_on_the_servers_clock() {
    let setup = setup().await;
    setup.emulator.script(&[(429, "error_429.json")]);
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("One moment")).await;
    // The first attempt (no clock movement needed: a new message is due at once).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while setup.sends() == 0 {
        assert!(std::time::Instant::now() < deadline, "the first attempt never came");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // 20 s on: past the job's own backoff, short of Telegram's 30 s.
    setup.server.clock.advance(20_000);
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    }
    assert_eq!(setup.sends(), 1, "not tried again before retry_after");
    assert_eq!(setup.message(reply).await.delivery, DeliveryState::Queued);
    setup.server.clock.advance(11_000);
    let message =
        setup.until(reply, "sent after retry_after", 0, |m| m.delivery == DeliveryState::Sent).await;
    assert!(message.failure.is_none());
    assert_eq!(setup.sends(), 2, "one throttled attempt, then one that went through");
}

#[tokio::test]
async fn a_user_who_blocked_the_bot_fails_the_reply_with_the_reason() {
    let setup = setup().await;
    setup.emulator.script(&[(403, "error_403_blocked.json")]);
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("Following up")).await;
    let message = setup.until(reply, "failed", 1_000, |m| m.delivery == DeliveryState::Failed).await;
    let failure = message.failure.expect("a reason");
    assert_eq!(failure.kind, DeliveryFailureKind::Rejected);
    assert_eq!(failure.reason, "Forbidden: bot was blocked by the user");
    setup.server.clock.advance(600_000);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(setup.sends(), 1, "not retried: it can't go through");
}

#[tokio::test]
async fn settings_are_checked_and_read_back_without_secrets() {
    let setup = setup().await;
    let (status, info) =
        setup.server.admin.get(&format!("/api/v1/inboxes/{}/connector", setup.inbox.inbox.id)).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["kind"], "telegram");
    assert_eq!(info["webhook_path"], format!("/api/v1/channels/{}/webhook", setup.inbox.inbox.id));
    let printed = info.to_string();
    assert!(!printed.contains(SECRET) && !printed.contains("AAEmulatorToken"), "no secret: {printed}");
    let mut connector = setup.emulator.connector();
    connector["webhook_secret"] = json!("has spaces");
    let request = json!({"name": "Bad", "channel": "telegram", "connector": connector});
    let (status, body) = setup.server.admin.post("/api/v1/inboxes", request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("webhook_secret"), "{body}");
}

#[tokio::test]
async fn long_polling_reads_updates_after_the_offset_and_confirms_them() {
    use switchboard_server::connectors::telegram::TelegramConnector;
    let emulator = Emulator::start().await;
    let settings: TelegramSettings = serde_json::from_value({
        let mut connector = emulator.connector();
        connector.as_object_mut().expect("object").remove("kind");
        connector
    })
    .expect("settings");
    let connector = TelegramConnector::new(settings, reqwest::Client::new());
    emulator.queue_update(fixture_json("text.json"));
    // An update this connector can't read is skipped, but confirmed with the others.
    emulator.queue_update(json!({"update_id": 123456790, "message": {"text": "no chat"}}));
    emulator.queue_update(fixture_json("edited_message.json"));
    let polled = connector.get_updates(None, 0).await.expect("getUpdates");
    let ids: Vec<&str> =
        polled.inbound.messages.iter().map(|m| m.message.message.external_id.as_str()).collect();
    assert_eq!(ids, vec!["987654321:42", "987654321:42:edit:1713456850"]);
    assert_eq!(polled.next_offset, Some(123456793), "the last update_id + 1");
    let again = connector.get_updates(polled.next_offset, 0).await.expect("getUpdates");
    assert!(again.inbound.messages.is_empty(), "confirmed updates are not answered again");
    assert_eq!(again.next_offset, None, "nothing new: the caller keeps its offset");
    assert_eq!(emulator.recorded(|r| r.polls.clone()), vec![None, Some(123456793)]);
}

/// A server whose Telegram pollers turn quickly (their waits are still on the server's clock).
fn quick_polling(config: &mut switchboard_server::ServerConfig) {
    config.telegram.rescan = std::time::Duration::from_millis(50);
    config.telegram.tick = std::time::Duration::from_millis(10);
    config.telegram.idle = std::time::Duration::from_millis(20);
    config.telegram.timeout_secs = 1;
}

async fn polling_inbox(server: &TestServer, emulator: &Emulator) -> Id {
    let request = json!({"name": "Telegram (polling)", "channel": "telegram", "connector": emulator.polling_connector()});
    let created: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    created.inbox.id
}

/// Real-time polling of a condition the server's workers bring about.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn incoming(server: &TestServer) -> Vec<Message> {
    server.messages().await.into_iter().filter(|m| m.kind == MessageKind::Incoming).collect()
}

async fn until_incoming(server: &TestServer, count: usize) -> Vec<Message> {
    eventually(&format!("{count} customer messages"), async || {
        let messages = incoming(server).await;
        (messages.len() >= count).then_some(messages)
    })
    .await
}

fn update(id: i64, message_id: i64, text: &str) -> Value {
    let mut update = fixture_json("text.json");
    update["update_id"] = json!(id);
    update["message"]["message_id"] = json!(message_id);
    update["message"]["text"] = json!(text);
    update
}

#[tokio::test]
async fn a_polling_inbox_deletes_the_webhook_stores_updates_and_resumes_at_its_offset_after_a_restart() {
    let emulator = Emulator::start().await;
    // A webhook left from before: getUpdates answers 409 until it is deleted.
    emulator.set_webhook();
    let server = TestServer::start_with(quick_polling).await;
    polling_inbox(&server, &emulator).await;
    emulator.queue_update(update(500, 1, "First, by long polling"));
    let first = until_incoming(&server, 1).await;
    assert_eq!(first[0].body, "First, by long polling");
    assert_eq!(emulator.recorded(|r| r.webhook_deletes), 1, "the webhook deleted before polling");
    // The offset confirming update 500 is stored before the next poll asks with it.
    eventually("a poll with offset 501", async || {
        emulator.recorded(|r| r.polls.contains(&Some(501))).then_some(())
    })
    .await;

    let server = server.restart_later_with(0, quick_polling).await;
    let before = emulator.recorded(|r| r.polls.len());
    emulator.queue_update(update(501, 2, "Second, after the restart"));
    let both = until_incoming(&server, 2).await;
    let polls = emulator.recorded(|r| r.polls.clone());
    assert_eq!(polls[before], Some(501), "the restarted server resumes at its stored offset: {polls:?}");
    assert!(!polls[before..].contains(&None), "never from the start again: {polls:?}");
    // Telegram sending an update again (its offset was not confirmed) stores nothing twice.
    emulator.queue_update(update(502, 2, "Second, after the restart"));
    emulator.queue_update(update(503, 3, "Third"));
    let all = until_incoming(&server, 3).await;
    let mut bodies: Vec<&str> = all.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, vec!["First, by long polling", "Second, after the restart", "Third"]);
    assert_eq!(both.len(), 2);
    eventually("a poll with offset 504", async || {
        emulator.recorded(|r| r.polls.contains(&Some(504))).then_some(())
    })
    .await;
    assert_eq!(incoming(&server).await.len(), 3, "each message once");

    // A webhook set again behind the server's back: the poller deletes it and goes on.
    emulator.set_webhook();
    emulator.queue_update(update(504, 4, "Fourth"));
    until_incoming(&server, 4).await;
    assert_eq!(emulator.recorded(|r| r.webhook_deletes), 3, "once per start, once after the 409");
}

#[tokio::test]
async fn a_429_on_get_updates_waits_its_retry_after_on_the_servers_clock() {
    let emulator = Emulator::start().await;
    emulator.script_polls(&[(429, "error_429.json")]);
    let server = TestServer::start_with(quick_polling).await;
    polling_inbox(&server, &emulator).await;
    emulator.queue_update(update(700, 1, "Throttled at first"));
    eventually("the first poll", async || emulator.recorded(|r| (!r.polls.is_empty()).then_some(()))).await;
    // 20 s on: past the poller's own backoff, short of Telegram's 30 s.
    server.clock.advance(20_000);
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert_eq!(emulator.recorded(|r| r.polls.len()), 1, "not asked again before retry_after");
    assert!(incoming(&server).await.is_empty());
    server.clock.advance(11_000);
    until_incoming(&server, 1).await;
    assert_eq!(emulator.recorded(|r| r.polls[1]), None, "the update is still there to be read");
}

#[tokio::test]
async fn switching_a_polling_inbox_to_the_webhook_stops_its_poller() {
    let emulator = Emulator::start().await;
    let server = TestServer::start_with(quick_polling).await;
    let inbox = polling_inbox(&server, &emulator).await;
    emulator.queue_update(update(900, 1, "Polled"));
    until_incoming(&server, 1).await;
    let (status, body) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"connector": emulator.connector()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Once the poller has seen the change, no poll follows.
    let settled = eventually("the poller to stop", async || {
        let before = emulator.recorded(|r| r.polls.len());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let after = emulator.recorded(|r| r.polls.len());
        (before == after).then_some(after)
    })
    .await;
    emulator.queue_update(update(901, 2, "Not polled"));
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert_eq!(emulator.recorded(|r| r.polls.len()), settled, "no poll after switching to the webhook");
    assert_eq!(incoming(&server).await.len(), 1);
}

#[tokio::test]
async fn two_nodes_on_one_database_poll_a_bot_from_one_node_at_a_time() {
    if std::env::var("SWITCHBOARD_TEST_DATABASE_URL").is_err() {
        eprintln!("telegram::two_nodes_on_one_database_poll_a_bot_from_one_node_at_a_time needs PostgreSQL: not run on SQLite");
        return;
    }
    let emulator = Emulator::start().await;
    // Polls are held open as Telegram holds them: two pollers would overlap and conflict.
    emulator.hold_polls(std::time::Duration::from_millis(100));
    let server = TestServer::start_with(quick_polling).await;
    let _other = server.second_node(quick_polling).await;
    polling_inbox(&server, &emulator).await;
    for n in 1..=3 {
        emulator.queue_update(update(1000 + n, n, &format!("Message {n}")));
        until_incoming(&server, n as usize).await;
    }
    eventually("20 polls", async || emulator.recorded(|r| (r.polls.len() >= 20).then_some(()))).await;
    assert_eq!(emulator.recorded(|r| r.conflicts), 0, "never two polls open at once");
    assert_eq!(incoming(&server).await.len(), 3, "each message once");
}

/// Saving an inbox in webhook mode registers its callback with Telegram (`setWebhook`, with the
/// inbox's `secret_token` and the updates it reads): under the host the admin's request came to,
/// over https, or under `--public-url` when given; switching a polling inbox over does it too.
#[tokio::test]
async fn saving_a_webhook_inbox_registers_its_callback_with_set_webhook() {
    let setup = setup().await;
    let host = setup.server.base.trim_start_matches("http://").to_owned();
    let inbox = setup.inbox.inbox.id;
    let asked = setup.emulator.recorded(|r| r.webhooks.clone());
    assert_eq!(asked.len(), 1, "one setWebhook: {asked:?}");
    assert_eq!(asked[0]["url"], format!("https://{host}/api/v1/channels/{inbox}/webhook"));
    assert_eq!(asked[0]["secret_token"], SECRET, "Telegram sends it back in each update's header");
    assert_eq!(asked[0]["allowed_updates"], json!(["message", "edited_message"]));
    // Saving it again with its secrets left blank (the app never has them) registers the stored ones.
    let mut connector = setup.emulator.connector();
    connector["bot_token"] = json!("");
    connector["webhook_secret"] = json!("");
    let (status, body) = setup
        .server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"connector": connector})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(setup.emulator.recorded(|r| r.webhooks[1]["secret_token"].clone()), SECRET);
    assert_eq!(setup.emulator.recorded(|r| r.unauthorized), 0, "with the stored bot token");

    let emulator = Emulator::start().await;
    let server =
        TestServer::start_with(|config| config.public_url = Some("https://support.example.com/".into()))
            .await;
    let inbox = polling_inbox(&server, &emulator).await;
    assert!(emulator.recorded(|r| r.webhooks.is_empty()), "polling registers no webhook");
    let (status, body) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"connector": emulator.connector()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        emulator.recorded(|r| r.webhooks[0]["url"].clone()),
        format!("https://support.example.com/api/v1/channels/{inbox}/webhook")
    );
}

/// Telegram refusing the webhook (an http:// address) refuses the save with Telegram's own
/// description, and nothing is stored: no new inbox, and an edited one keeps its settings.
#[tokio::test]
async fn telegram_refusing_the_webhook_refuses_the_save_and_stores_nothing() {
    let emulator = Emulator::start().await;
    let server =
        TestServer::start_with(|config| config.public_url = Some("http://support.example.com".into())).await;
    let request = json!({"name": "Telegram", "channel": "telegram", "connector": emulator.connector()});
    let (status, body) = server.admin.post("/api/v1/inboxes", request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("An HTTPS URL must be provided for webhook"), "Telegram's reason: {message}");
    assert!(
        message.contains("setWebhook") && !message.contains(crate::telegram_emulator::TOKEN),
        "{message}"
    );
    let (_, inboxes) = server.admin.get("/api/v1/inboxes").await;
    assert!(
        inboxes.as_array().expect("inboxes").iter().all(|inbox| inbox["channel"] != "telegram"),
        "no inbox was created: {inboxes}"
    );

    let inbox = polling_inbox(&server, &emulator).await;
    let (status, body) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"connector": emulator.connector()})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, info) = server.admin.get(&format!("/api/v1/inboxes/{inbox}/connector")).await;
    assert_eq!(info["details"]["mode"], "polling", "the inbox keeps polling: {info}");
    assert_eq!(emulator.recorded(|r| r.webhooks.len()), 2, "both saves asked Telegram");
}

/// The callback the server registered, as an admin reads it back with the connector.
async fn registered_url(server: &TestServer, inbox: Id) -> Value {
    let (status, info) = server.admin.get(&format!("/api/v1/inboxes/{inbox}/connector")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    info["details"]["registered_webhook_url"].clone()
}

/// Leaving the webhook (the connector removed, switched to polling) calls `deleteWebhook` on the
/// bot at once, so Telegram stops POSTing updates nobody takes; a Bot API that can't be reached
/// then does not block the change: it is saved, and the audit trail says the webhook is left.
#[tokio::test]
async fn leaving_the_webhook_deletes_it_and_an_unreachable_bot_api_does_not_block_the_change() {
    let setup = setup().await;
    let inbox = setup.inbox.inbox.id;
    let host = setup.server.base.trim_start_matches("http://").to_owned();
    assert_eq!(
        registered_url(&setup.server, inbox).await,
        json!(format!("https://{host}/api/v1/channels/{inbox}/webhook")),
        "the admin reads which callback the server registered"
    );
    let patch = |connector: Value| {
        let (admin, path) = (&setup.server.admin, format!("/api/v1/inboxes/{inbox}"));
        async move {
            let (status, body) =
                admin.request(reqwest::Method::PATCH, &path, Some(json!({"connector": connector}))).await;
            assert_eq!(status, StatusCode::OK, "the change is saved: {body}");
        }
    };
    // Saved again as a webhook of the same bot: registered again, nothing deleted.
    patch(setup.emulator.connector()).await;
    assert_eq!(setup.emulator.recorded(|r| (r.webhooks.len(), r.webhook_deletes)), (2, 0));

    patch(Value::Null).await;
    assert_eq!(setup.emulator.recorded(|r| r.webhook_deletes), 1, "deleteWebhook by the save itself");
    let (_, info) = setup.server.admin.get(&format!("/api/v1/inboxes/{inbox}/connector")).await;
    assert_eq!(info["kind"], "none", "{info}");

    // A webhook inbox again, then Telegram out of reach as the admin switches it to polling.
    patch(setup.emulator.connector()).await;
    assert_eq!(
        registered_url(&setup.server, inbox).await,
        json!(format!("https://{host}/api/v1/channels/{inbox}/webhook"))
    );
    setup.emulator.stop().await;
    let mut polling = setup.emulator.polling_connector();
    polling["bot_token"] = json!("");
    patch(polling).await;
    let (_, info) = setup.server.admin.get(&format!("/api/v1/inboxes/{inbox}/connector")).await;
    assert_eq!(info["details"]["mode"], "polling", "the switch stands: {info}");
    assert!(info["details"].get("registered_webhook_url").is_none(), "no callback registered now: {info}");
    let (status, rows) = setup.server.admin.get("/api/v1/audit?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let row = rows
        .as_array()
        .into_iter()
        .flatten()
        .find(|row| row["action"] == "inbox.telegram_webhook_not_deleted")
        .unwrap_or_else(|| panic!("the audit trail says the webhook was left: {rows}"));
    assert_eq!(row["target_id"], json!(inbox));
    let reason = row["changes"]["reason"][1].as_str().unwrap_or_default();
    assert!(
        reason.contains("deleteWebhook") && !reason.contains(crate::telegram_emulator::TOKEN),
        "{reason}"
    );
}
