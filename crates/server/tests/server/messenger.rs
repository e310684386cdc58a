//! The Messenger and Instagram connectors (`connectors/meta.rs`) against the Graph API emulator
//! (`meta_emulator.rs`) and the documented payloads (`tests/fixtures/meta/`): the handshake,
//! signatures, several entries per request, duplicates, echoes, attachments downloaded into the
//! content-addressed store (an expired URL refused with an activity line), replies and files
//! reaching the Send API with `messaging_type`, delivery and read (by id and by watermark), the
//! window error, `HUMAN_AGENT` past 24 hours, throttling retried, Instagram's 1000-byte limit.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_proto::*;
use switchboard_server::Clock;

use crate::{
    harness::*,
    meta_emulator::{fixture, Emulator, APP_SECRET, VERIFY_TOKEN},
};

const DAY_MS: Millis = 24 * 60 * 60 * 1000;

struct Setup {
    server: TestServer,
    emulator: Emulator,
    inbox: CreatedInbox,
}

async fn setup_with(kind: &str, human_agent: bool) -> Setup {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let channel = if kind == "instagram" { "instagram" } else { "facebook" };
    let request =
        json!({"name": kind, "channel": channel, "connector": emulator.connector(kind, human_agent)});
    let inbox = serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    Setup { server, emulator, inbox }
}

async fn setup(kind: &str) -> Setup {
    setup_with(kind, false).await
}

impl Setup {
    fn webhook_url(&self) -> String {
        format!("{}/api/v1/channels/{}/webhook", self.server.base, self.inbox.inbox.id)
    }

    fn fixture(&self, name: &str) -> String {
        fixture(name, &self.emulator.base)
    }

    async fn notify_signed(&self, body: &str, signature: Option<String>) -> (StatusCode, String) {
        let mut request =
            reqwest::Client::new().post(self.webhook_url()).header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.body(body.to_owned()).send().await.expect("webhook request");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn notify(&self, body: &str) {
        let (status, answer) = self.notify_signed(body, Some(sign(APP_SECRET, body.as_bytes()))).await;
        assert_eq!(status, StatusCode::OK, "a signed notification is taken: {answer}");
    }

    async fn incoming(&self) -> Vec<Message> {
        let mut messages: Vec<Message> =
            self.server.messages().await.into_iter().filter(|m| m.kind == MessageKind::Incoming).collect();
        messages.sort_by_key(|m| m.created_at);
        messages
    }

    /// The customer writes (the text fixture of the inbox's platform): their conversation.
    async fn customer_writes(&self, name: &str) -> Id {
        self.notify(&self.fixture(name)).await;
        self.incoming().await.first().expect("the customer's message").conversation_id
    }

    async fn reply(&self, conversation: Id, body: &str) -> Id {
        let request = json!({"client_id": Id::new_v4(), "kind": "reply", "body": body});
        let sent =
            self.server.admin.ok(&format!("/api/v1/conversations/{conversation}/messages"), request).await;
        serde_json::from_value(sent["message"]["id"].clone()).expect("message id")
    }

    async fn until(&self, id: Id, what: &str, done: impl Fn(&Message) -> bool) -> Message {
        self.server.until_message(id, what, 5_000, done).await
    }

    fn sent(&self, n: usize) -> Value {
        self.emulator.recorded(|r| r.sent[n].body.clone())
    }
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_and_forged_notifications_are_refused() {
    for kind in ["messenger", "instagram"] {
        let setup = setup(kind).await;
        let get = |query: String| {
            let url = format!("{}?{query}", setup.webhook_url());
            async move {
                let response = reqwest::get(url).await.expect("handshake");
                (response.status(), response.text().await.unwrap_or_default())
            }
        };
        let (status, body) =
            get(format!("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "1158201444"), "{kind}");
        let (status, _) =
            get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess".into()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: a wrong verify token");

        let body =
            setup.fixture(if kind == "instagram" { "instagram_text.json" } else { "messenger_text.json" });
        let head = setup.server.head().await;
        for (why, signature) in [
            ("unsigned", None),
            ("another secret", Some(sign("not-the-app-secret", body.as_bytes()))),
            ("another body", Some(sign(APP_SECRET, b"{}"))),
        ] {
            let (status, answer) = setup.notify_signed(&body, signature).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{kind}, {why}: {answer}");
            assert!(answer.contains("X-Hub-Signature-256"), "{kind}, {why}: says what is wrong: {answer}");
        }
        assert_eq!(setup.server.head().await, head, "{kind}: nothing forged was stored");
        setup.notify(&body).await;
        assert_eq!(setup.incoming().await.len(), 1, "{kind}: the signed one is taken");
        // The other platform's envelope, signed, is not this inbox's.
        let other =
            setup.fixture(if kind == "instagram" { "messenger_text.json" } else { "instagram_text.json" });
        let (status, answer) = setup.notify_signed(&other, Some(sign(APP_SECRET, other.as_bytes()))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}: {answer}");
    }
}

#[tokio::test]
async fn several_entries_are_all_read_and_a_repeated_delivery_is_stored_once() {
    let setup = setup("messenger").await;
    let body = setup.fixture("messenger_two_entries.json");
    for _ in 0..3 {
        setup.notify(&body).await;
    }
    let incoming = setup.incoming().await;
    let bodies: Vec<&str> = incoming.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies.len(), 2, "deduplicated on mid: {bodies:?}");
    assert!(bodies.contains(&"first") && bodies.contains(&"second, from someone else"), "{bodies:?}");
    assert_ne!(incoming[0].conversation_id, incoming[1].conversation_id, "two customers, two conversations");
}

#[tokio::test]
async fn echoes_of_the_pages_own_messages_are_not_customer_messages() {
    for (kind, text, echo) in [
        ("messenger", "messenger_text.json", "messenger_echo.json"),
        ("instagram", "instagram_text.json", "instagram_echo.json"),
    ] {
        let setup = setup(kind).await;
        let conversation = setup.customer_writes(text).await;
        let reply = setup.reply(conversation, "Yes, in every size").await;
        setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
        // The echo of our own reply, and one of a message written in Meta's inbox.
        for mid in ["m_EMULATED1", "m_written_at_meta"] {
            setup.notify(&setup.fixture(echo).replace("MID_OF_ECHO", mid)).await;
        }
        let messages = setup.server.messages().await;
        assert_eq!(setup.incoming().await.len(), 1, "{kind}: only the customer's message is incoming");
        assert_eq!(messages.iter().filter(|m| m.kind == MessageKind::Outgoing).count(), 1, "{kind}");
    }
}

#[tokio::test]
async fn attachments_are_downloaded_into_the_store_and_an_expired_one_leaves_a_line() {
    let setup = setup("messenger").await;
    let photo = b"\xff\xd8\xff a photo".to_vec();
    setup.emulator.add_file("photo.jpg", &photo, "image/jpeg");
    setup.emulator.add_file("invoice.pdf", b"%PDF-1.7 invoice", "application/pdf");
    setup.notify(&setup.fixture("messenger_attachments.json")).await;
    let incoming = setup.incoming().await;
    assert_eq!(incoming.len(), 1);
    let attachments = &incoming[0].attachments;
    assert_eq!(attachments.len(), 2, "{incoming:?}");
    let image = attachments.iter().find(|a| a.content_type == "image/jpeg").expect("the photo");
    assert_eq!(image.sha256, hex::encode(Sha256::digest(&photo)), "content-addressed by its sha256");
    assert_eq!(image.file_name, "photo.jpg");
    let pdf = attachments.iter().find(|a| a.content_type == "application/pdf").expect("the file");
    assert_eq!(pdf.file_name, "invoice.pdf");
    let (status, _) = setup.server.admin.get(&format!("/api/v1/attachments/{}", image.id)).await;
    assert_eq!(status, StatusCode::OK, "downloadable by agents");
    assert_eq!(setup.emulator.recorded(|r| r.unauthorized), 0, "no token went to the CDN");

    // Instagram: a screenshot whose URL has expired by the time it is fetched.
    let setup = setup_with("instagram", false).await;
    setup.emulator.expire("screenshot.png");
    setup.notify(&setup.fixture("instagram_image.json")).await;
    let messages = setup.server.messages().await;
    let incoming = messages.iter().find(|m| m.kind == MessageKind::Incoming).expect("the message is kept");
    assert!(incoming.attachments.is_empty());
    let line = messages.iter().find(|m| m.kind == MessageKind::Activity).expect("an activity line");
    assert!(line.body.contains("not kept") && line.body.contains("expired"), "{}", line.body);
}

#[tokio::test]
async fn a_reply_and_a_file_reach_the_send_api_and_statuses_move_them_forward() {
    let setup = setup("messenger").await;
    let conversation = setup.customer_writes("messenger_text.json").await;
    let upload = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.7 label".to_vec())
            .file_name("label.pdf")
            .mime_str("application/pdf")
            .expect("mime"),
    );
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/attachments?conversation_id={conversation}", setup.server.base))
        .bearer_auth(&setup.server.admin.token)
        .multipart(upload)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::OK);
    let attachment: Value = response.json().await.expect("attachment");
    let request = json!({"client_id": Id::new_v4(), "kind": "reply", "body": "Your return label",
        "attachment_ids": [attachment["id"]]});
    let sent =
        setup.server.admin.ok(&format!("/api/v1/conversations/{conversation}/messages"), request).await;
    let reply: Id = serde_json::from_value(sent["message"]["id"].clone()).expect("id");
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    let text = setup.sent(0);
    assert_eq!(text["recipient"]["id"], "1254477777772919", "to the customer's PSID");
    assert_eq!(text["messaging_type"], "RESPONSE");
    assert_eq!(text["message"]["text"], "Your return label");
    assert!(text.get("tag").is_none());
    let file = setup.emulator.recorded(|r| r.sent[1].clone());
    assert_eq!(file.body["message"]["attachment"]["type"], "file");
    assert_eq!(file.file, Some(("label.pdf".into(), "application/pdf".into(), 14)));
    assert_eq!(setup.emulator.recorded(|r| r.unauthorized), 0, "every call carried the Page token");

    // Delivered by mid, then read by watermark (our clock's now: after the reply was written).
    let body = setup
        .fixture("messenger_delivery.json")
        .replace("MID_OF_REPLY", "m_EMULATED1")
        .replace("WATERMARK", &(setup.server.clock.now() - 60 * 60 * 1000).to_string());
    setup.notify(&body).await;
    assert_eq!(setup.server.message(reply).await.delivery, DeliveryState::Delivered);
    let read =
        setup.fixture("messenger_read.json").replace("WATERMARK", &setup.server.clock.now().to_string());
    setup.notify(&read).await;
    assert_eq!(setup.server.message(reply).await.delivery, DeliveryState::Read);
    // A late delivery changes nothing.
    setup.notify(&body).await;
    assert_eq!(setup.server.message(reply).await.delivery, DeliveryState::Read);
}

#[tokio::test]
async fn a_read_watermark_older_than_a_reply_leaves_it_as_it_is() {
    let setup = setup("messenger").await;
    let conversation = setup.customer_writes("messenger_text.json").await;
    let before = setup.server.clock.now() - 1;
    let reply = setup.reply(conversation, "Thanks!").await;
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    setup.notify(&setup.fixture("messenger_read.json").replace("WATERMARK", &before.to_string())).await;
    assert_eq!(
        setup.server.message(reply).await.delivery,
        DeliveryState::Sent,
        "read only up to the watermark"
    );
}

#[tokio::test]
async fn instagram_reads_by_mid_and_refuses_text_over_1000_bytes_before_queueing() {
    let setup = setup("instagram").await;
    let conversation = setup.customer_writes("instagram_text.json").await;
    let long = "ب".repeat(501); // 1002 bytes, 501 characters
    let (status, body) = setup
        .server
        .admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": long}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("at most 1000 bytes"), "{body}");
    let reply = setup.reply(conversation, &"ب".repeat(500)).await;
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    assert_eq!(setup.emulator.recorded(|r| r.sent.len()), 1, "only the one that fits went out");
    assert_eq!(setup.sent(0)["recipient"]["id"], "IGSID_OF_CUSTOMER");
    setup.notify(&setup.fixture("instagram_read.json").replace("MID_OF_REPLY", "m_EMULATED1")).await;
    assert_eq!(setup.server.message(reply).await.delivery, DeliveryState::Read);
}

#[tokio::test]
async fn outside_the_window_the_send_api_error_fails_the_reply_as_the_window_error() {
    let setup = setup("messenger").await;
    setup.emulator.script(&[(400, "error_outside_window.json")]);
    let conversation = setup.customer_writes("messenger_text.json").await;
    let reply = setup.reply(conversation, "Following up").await;
    let message = setup.until(reply, "failed", |m| m.delivery == DeliveryState::Failed).await;
    let failure = message.failure.expect("a reason");
    assert_eq!(failure.kind, DeliveryFailureKind::WindowClosed, "{}", failure.reason);
    assert!(failure.reason.contains("outside of allowed window"), "{}", failure.reason);
    assert_eq!(setup.emulator.recorded(|r| r.sent.len()), 1, "not retried");
    // And after 24 hours the server refuses a reply itself, as on WhatsApp.
    setup.server.clock.advance(DAY_MS + 60_000);
    let (status, body) = setup
        .server
        .admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": "Hello?"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("window_closed")),
        "{body}"
    );
}

#[tokio::test]
async fn with_human_agent_a_persons_late_reply_is_tagged_for_up_to_7_days() {
    let setup = setup_with("messenger", true).await;
    let conversation = setup.customer_writes("messenger_text.json").await;
    let early = setup.reply(conversation, "Within the day").await;
    setup.until(early, "sent", |m| m.delivery == DeliveryState::Sent).await;
    assert_eq!(setup.sent(0)["messaging_type"], "RESPONSE", "inside 24 hours: no tag");
    setup.server.clock.advance(3 * DAY_MS);
    let late = setup.reply(conversation, "Three days later").await;
    setup.until(late, "sent", |m| m.delivery == DeliveryState::Sent).await;
    let body = setup.sent(1);
    assert_eq!(
        (body["messaging_type"].as_str(), body["tag"].as_str()),
        (Some("MESSAGE_TAG"), Some("HUMAN_AGENT"))
    );
    setup.server.clock.advance(5 * DAY_MS);
    let (status, body) = setup
        .server
        .admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": "Eight days later"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("window_closed")),
        "{body}"
    );
}

#[tokio::test]
async fn throttling_613_and_429_is_retried_until_it_goes_through() {
    let setup = setup("instagram").await;
    setup.emulator.script(&[(400, "error_613.json"), (429, "error_613.json")]);
    let conversation = setup.customer_writes("instagram_text.json").await;
    let reply = setup.reply(conversation, "One moment").await;
    let message = setup.until(reply, "sent after throttling", |m| m.delivery == DeliveryState::Sent).await;
    assert!(message.failure.is_none());
    assert_eq!(setup.emulator.recorded(|r| r.sent.len()), 3, "two throttled attempts, then one through");
}

#[tokio::test]
async fn test_connection_names_the_page_or_the_account_and_says_what_failed() {
    for (kind, expected) in [
        ("messenger", "Messenger Page Acme Support"),
        ("instagram", "Instagram account @acme.shop (Acme Shop)"),
    ] {
        let setup = setup(kind).await;
        let path = format!("/api/v1/inboxes/{}/connector/test", setup.inbox.inbox.id);
        let test = setup.server.admin.ok(&path, json!({})).await;
        assert_eq!((test["ok"].as_bool(), test["detail"].as_str()), (Some(true), Some(expected)), "{kind}");
        // What an admin reads back has no secret, and names the callback.
        let (_, info) =
            setup.server.admin.get(&format!("/api/v1/inboxes/{}/connector", setup.inbox.inbox.id)).await;
        assert_eq!(info["kind"], kind);
        assert_eq!(info["webhook_path"], format!("/api/v1/channels/{}/webhook", setup.inbox.inbox.id));
        for secret in [crate::meta_emulator::TOKEN, APP_SECRET, VERIFY_TOKEN] {
            assert!(!info.to_string().contains(secret), "{kind}: {info}");
        }
        // A wrong account id: ok=false, saying which setting to check.
        let mut connector = setup.emulator.connector(kind, false);
        connector["account_id"] = json!("404404");
        connector["access_token"] = json!("");
        let (status, body) = setup
            .server
            .admin
            .request(
                reqwest::Method::PATCH,
                &format!("/api/v1/inboxes/{}", setup.inbox.inbox.id),
                Some(json!({"connector": connector})),
            )
            .await;
        assert!(status.is_success(), "{body}");
        let test = setup.server.admin.ok(&path, json!({})).await;
        assert_eq!(test["ok"], false);
        assert!(test["detail"].as_str().unwrap_or_default().contains("check the"), "{test}");
    }
}

#[tokio::test]
async fn a_messenger_connector_needs_a_facebook_inbox_and_every_credential() {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let request =
        json!({"name": "x", "channel": "whatsapp", "connector": emulator.connector("messenger", false)});
    let (status, body) = server.admin.post("/api/v1/inboxes", request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("needs a facebook inbox"), "{body}");
    let mut connector = emulator.connector("instagram", false);
    connector["app_secret"] = json!(" ");
    let (status, body) = server
        .admin
        .post("/api/v1/inboxes", json!({"name": "x", "channel": "instagram", "connector": connector}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("connector.app_secret is required"), "{body}");
}

/// The inbox entity in the feed carries what its connector says of replies, so the app shows the
/// window the server enforces: Meta's 24 hours without templates, a person's 7 days with
/// `HUMAN_AGENT`, and an admin's change of the setting reaching the entity.
#[tokio::test]
async fn the_inbox_entity_carries_its_connectors_reply_rules() {
    let day = Some(DAY_MS);
    let messenger = setup("messenger").await;
    let rules = |setup: &Setup| setup.inbox.inbox.reply_rules;
    assert_eq!(
        rules(&messenger),
        Some(ReplyRules { window_ms: day, person_window_ms: day, templates: false }),
        "Messenger: 24 hours, then nothing (no templates)"
    );
    let tagged = setup_with("instagram", true).await;
    let week = ReplyRules { window_ms: day, person_window_ms: Some(7 * DAY_MS), templates: false };
    assert_eq!(rules(&tagged), Some(week), "HUMAN_AGENT: a person may answer for 7 days");

    // Switching HUMAN_AGENT off reaches the inbox entity that agents sync.
    let inbox = tagged.inbox.inbox.id;
    let mut connector = tagged.emulator.connector("instagram", false);
    connector["access_token"] = json!("");
    let (status, answer) = tagged
        .server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"connector": connector})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let page = tagged.server.admin.sync(0, 500).await;
    let synced: Inbox = page
        .changes
        .iter()
        .rev()
        .filter(|c| c.entity == EntityKind::Inbox && c.id == inbox)
        .find_map(|c| c.data.clone())
        .map(|data| serde_json::from_value(data).expect("inbox"))
        .expect("the inbox in the feed");
    assert_eq!(synced.reply_rules, Some(ReplyRules { person_window_ms: day, ..week }));
    assert!(
        !serde_json::to_string(&synced).expect("json").contains(crate::meta_emulator::TOKEN),
        "no secret"
    );

    // WhatsApp's connector sends templates once the window has closed.
    let emulator = crate::graph_emulator::Emulator::start().await;
    let whatsapp: CreatedInbox = serde_json::from_value(
        messenger
            .server
            .admin
            .ok(
                "/api/v1/inboxes",
                json!({"name": "wa", "channel": "whatsapp", "connector": emulator.connector()}),
            )
            .await,
    )
    .expect("inbox");
    assert_eq!(
        whatsapp.inbox.reply_rules,
        Some(ReplyRules { window_ms: day, person_window_ms: day, templates: true })
    );
    // No connector: no rules on the entity (the app falls back to the channel's).
    let bare: CreatedInbox = serde_json::from_value(
        messenger.server.admin.ok("/api/v1/inboxes", json!({"name": "bare", "channel": "whatsapp"})).await,
    )
    .expect("inbox");
    assert_eq!(bare.inbox.reply_rules, None);
}

/// Runs `sqlite` or `postgres` (the same change in each dialect) on the test server's database,
/// as an older version of the server would have left it.
fn rewrite_database(server: &TestServer, sqlite: &'static str, postgres: &'static str) {
    match crate::harness::test_config(server.data_dir.path()).backend {
        switchboard_server::Backend::Sqlite => {
            let path = server.data_dir.path().join("switchboard.db");
            let connection = rusqlite::Connection::open(path).expect("open the database");
            connection.execute_batch(sqlite).expect("rewrite");
        }
        switchboard_server::Backend::Postgres { url } => {
            let url = url.expose().to_owned();
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                client.batch_execute(postgres).expect("rewrite");
            })
            .join()
            .expect("database thread");
        }
    }
}

/// An inbox stored before `reply_rules` existed (its row and its feed history without them)
/// carries its connector's rules once the server starts, without an admin saving it again, and
/// desktops learn them from the feed; a start with nothing to bring up to date writes nothing.
#[tokio::test]
async fn an_inbox_stored_before_reply_rules_gets_them_at_start_and_on_the_feed() {
    let tagged = setup_with("instagram", true).await;
    let inbox = tagged.inbox.inbox.id;
    let week = ReplyRules { window_ms: Some(DAY_MS), person_window_ms: Some(7 * DAY_MS), templates: false };
    rewrite_database(
        &tagged.server,
        "UPDATE inboxes SET data = json_remove(data, '$.reply_rules');
         UPDATE changes SET data = json_remove(data, '$.reply_rules') WHERE entity = 'inbox' AND data IS NOT NULL;",
        "UPDATE inboxes SET data = data - 'reply_rules';
         UPDATE changes SET data = data - 'reply_rules' WHERE entity = 'inbox' AND data IS NOT NULL;",
    );
    let listed = |inboxes: Value| -> Inbox {
        let found = inboxes.as_array().expect("inboxes").iter().find(|i| i["id"] == json!(inbox)).cloned();
        serde_json::from_value(found.expect("the inbox listed")).expect("inbox")
    };
    let inbox_changes = |page: SyncPage| -> Vec<Inbox> {
        page.changes
            .into_iter()
            .filter(|c| c.entity == EntityKind::Inbox && c.id == inbox)
            .filter_map(|c| c.data)
            .map(|data| serde_json::from_value(data).expect("inbox"))
            .collect()
    };
    let before = tagged.server.head().await;
    let (_, stored) = tagged.server.admin.get("/api/v1/inboxes").await;
    assert_eq!(listed(stored).reply_rules, None, "stored as an older version left it");

    let server = tagged.server.restart().await;
    let (_, stored) = server.admin.get("/api/v1/inboxes").await;
    assert_eq!(listed(stored).reply_rules, Some(week), "the listing carries the connector's rules");
    let changes = inbox_changes(server.admin.sync(before, 500).await);
    assert_eq!(changes.len(), 1, "one change puts the rules on the feed: {changes:?}");
    assert_eq!(changes[0].reply_rules, Some(week), "desktops learn HUMAN_AGENT's 7 days");
    assert!(
        !serde_json::to_string(&changes[0]).expect("json").contains(crate::meta_emulator::TOKEN),
        "no secret on the feed"
    );

    let settled = server.head().await;
    let server = server.restart().await;
    assert!(inbox_changes(server.admin.sync(settled, 500).await).is_empty(), "nothing to bring up to date");
}

/// Templates are a WhatsApp concept: a template message on a Messenger or Instagram inbox is
/// refused with a 422 that says so (even one the admin listed on the inbox), nothing is stored or
/// sent; and once the window has closed the refusal says the customer must write again, not that
/// a template would do.
#[tokio::test]
async fn a_meta_inbox_refuses_a_template_and_its_closed_window_offers_none() {
    for (kind, name) in [("messenger", "Messenger"), ("instagram", "Instagram")] {
        let setup = setup(kind).await;
        let inbox = setup.inbox.inbox.id;
        let templates = json!([{"name": "follow_up", "language": "en", "body": "Hi {{1}}, any news?"}]);
        let (status, answer) = setup
            .server
            .admin
            .request(
                reqwest::Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"templates": templates})),
            )
            .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation")),
            "{kind}: templates are not stored where none can be sent: {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(&format!("{name} has no message templates")), "{kind}: {message}");
        let (status, listing) = setup.server.admin.get("/api/v1/inboxes").await;
        assert_eq!(status, StatusCode::OK, "{listing}");
        let listed = listing.as_array().into_iter().flatten().find(|i| i["id"] == json!(inbox));
        let listed = listed.unwrap_or_else(|| panic!("{kind}: the inbox is listed: {listing}"));
        assert_eq!(listed["templates"], json!([]), "{kind}: the listing offers no template");
        assert_eq!(listed["reply_rules"]["templates"], json!(false), "{kind}: and says none are sent");
        let text = if kind == "instagram" { "instagram_text.json" } else { "messenger_text.json" };
        let conversation = setup.customer_writes(text).await;
        let send = |body: Value| {
            let url = format!("/api/v1/conversations/{conversation}/messages");
            let admin = &setup.server.admin;
            async move { admin.post(&url, body).await }
        };
        let template = json!({"name": "follow_up", "params": ["Ana"]});
        let (status, body) =
            send(json!({"client_id": Id::new_v4(), "kind": "reply", "body": "", "template": template})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation"))
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(name) && message.contains("WhatsApp"), "{kind}: {message}");
        let outgoing = setup.server.messages().await.into_iter().filter(|m| m.kind == MessageKind::Outgoing);
        assert_eq!(outgoing.count(), 0, "{kind}: nothing stored");

        setup.server.clock.advance(DAY_MS + 60_000);
        let (status, body) =
            send(json!({"client_id": Id::new_v4(), "kind": "reply", "body": "Hello?"})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("window_closed"))
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("customer writing again") && !message.contains("only a template"),
            "{message}"
        );
        let (status, body) =
            send(json!({"client_id": Id::new_v4(), "kind": "reply", "body": "", "template": template})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind}: nor a template past the window: {body}"
        );
        for _ in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        }
        assert_eq!(setup.emulator.recorded(|r| r.sent.len()), 0, "{kind}: nothing reached the Send API");
    }
}
