//! The WhatsApp Cloud API connector against the Graph API emulator (`graph_emulator.rs`) and the
//! documented payloads (`tests/fixtures/whatsapp/`): the handshake, signatures, every message
//! type, duplicates, media (an expired URL fetched again, a file over its type's limit refused
//! with an activity line), replies reaching the send endpoint, statuses out of order, 130429
//! retried, 131047 failing the reply as the window error.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use crate::{
    graph_emulator::{
        self, fixture, fixture_json, meta_signature, Emulator, Media, APP_SECRET, VERIFY_TOKEN,
    },
    harness::*,
};

struct Setup {
    server: TestServer,
    emulator: Emulator,
    inbox: CreatedInbox,
}

async fn setup() -> Setup {
    let emulator = Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "WhatsApp", "channel": "whatsapp", "connector": emulator.connector(),
        "templates": [{"name": "order_update", "language": "en", "body": "Hi {{1}}, order {{2}} shipped"}]});
    let inbox = serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    Setup { server, emulator, inbox }
}

impl Setup {
    fn webhook_url(&self) -> String {
        format!("{}/api/v1/channels/{}/webhook", self.server.base, self.inbox.inbox.id)
    }

    /// POSTs a notification as Meta does: the raw body, signed with `signature` (or unsigned).
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
        let (status, answer) =
            self.notify_signed(body, Some(meta_signature(APP_SECRET, body.as_bytes()))).await;
        assert_eq!(status, StatusCode::OK, "a signed notification is taken: {answer}");
    }

    /// Every message of the inbox's conversations, in order.
    async fn messages(&self) -> Vec<Message> {
        self.server.messages().await
    }

    async fn message(&self, id: Id) -> Message {
        self.server.message(id).await
    }

    async fn until(&self, id: Id, what: &str, done: impl Fn(&Message) -> bool) -> Message {
        self.server.until_message(id, what, 5_000, done).await
    }

    async fn customer_writes(&self) -> Id {
        self.notify(&fixture("text.json")).await;
        let messages = self.messages().await;
        messages
            .iter()
            .find(|m| m.kind == MessageKind::Incoming)
            .expect("the customer's message")
            .conversation_id
    }

    async fn reply(&self, conversation: Id, body: Value) -> Id {
        let sent =
            self.server.admin.ok(&format!("/api/v1/conversations/{conversation}/messages"), body).await;
        serde_json::from_value(sent["message"]["id"].clone()).expect("message id")
    }

    /// A status fixture about `wamid`.
    async fn status(&self, name: &str, wamid: &str) {
        let body = fixture(name).replace("WAMID_OF_REPLY", wamid);
        self.notify(&body).await;
    }
}

fn text_reply(body: &str) -> Value {
    json!({"client_id": Id::new_v4(), "kind": "reply", "body": body})
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge_only_for_the_verify_token() {
    let setup = setup().await;
    let get = |query: String| {
        let url = format!("{}?{query}", setup.webhook_url());
        async move {
            let response = reqwest::get(url).await.expect("handshake");
            (response.status(), response.text().await.unwrap_or_default())
        }
    };
    let (status, body) =
        get(format!("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1158201444"), "the challenge, as plain text");
    let (status, body) =
        get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong verify token: {body}");
    assert!(!body.contains("1158201444"), "no challenge for a wrong token");
    let (status, _) =
        get(format!("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token={VERIFY_TOKEN}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only subscribe");
}

#[tokio::test]
async fn forged_notifications_are_refused_and_write_nothing() {
    let setup = setup().await;
    let body = fixture("text.json");
    let head = setup.server.head().await;
    for (why, signature) in [
        ("unsigned", None),
        ("another secret", Some(meta_signature("not-the-app-secret", body.as_bytes()))),
        ("another body", Some(meta_signature(APP_SECRET, b"{}"))),
        ("no scheme", Some(meta_signature(APP_SECRET, body.as_bytes()).replace("sha256=", ""))),
    ] {
        let (status, answer) = setup.notify_signed(&body, signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {answer}");
        assert!(answer.contains("X-Hub-Signature-256"), "{why}: the answer says what is wrong: {answer}");
    }
    assert_eq!(setup.server.head().await, head, "nothing forged was stored");
    // The same bytes, signed: taken.
    setup.notify(&body).await;
    let messages = setup.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "Hi, my order is late");
    // Re-serialised JSON is other bytes: its signature over the original does not match.
    let reserialised = serde_json::to_string(&fixture_json("text.json")).expect("json");
    let (status, _) =
        setup.notify_signed(&reserialised, Some(meta_signature(APP_SECRET, body.as_bytes()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the signature is over the raw body");
}

#[tokio::test]
async fn a_repeated_delivery_stores_the_message_once() {
    let setup = setup().await;
    let body = fixture("text.json");
    for _ in 0..3 {
        setup.notify(&body).await;
    }
    let incoming: Vec<Message> =
        setup.messages().await.into_iter().filter(|m| m.kind == MessageKind::Incoming).collect();
    assert_eq!(incoming.len(), 1, "deduplicated on the wamid");
    let contact: Contact = {
        let changes = setup.server.admin.bootstrap().await;
        let contact = changes.iter().rev().find(|c| c.entity == EntityKind::Contact).expect("contact");
        serde_json::from_value(contact.data.clone().expect("data")).expect("contact")
    };
    assert_eq!(contact.name, "Sheena Nelson", "the profile name");
    assert_eq!(contact.identities[0].external_id, "16505551234", "the wa_id");
}

#[tokio::test]
async fn every_documented_message_type_reads_as_a_message() {
    let setup = setup().await;
    let files = [
        ("image.json", "2754859441498128", "image/jpeg", b"\xff\xd8\xff jpeg bytes".to_vec()),
        ("document.json", "1003383421387256", "application/pdf", b"%PDF-1.7 invoice".to_vec()),
        ("audio.json", "1003383421387257", "audio/ogg", b"OggS opus".to_vec()),
        ("video.json", "1003383421387258", "video/mp4", b"\0\0\0 ftypmp42".to_vec()),
    ];
    for (name, id, mime, bytes) in &files {
        setup
            .emulator
            .add_media(id, Media { bytes: bytes.clone(), mime_type: (*mime).into(), declared_size: None });
        let body = fixture(name).replace("SHA256_OF_BYTES", &hex::encode(Sha256::digest(bytes)));
        setup.notify(&body).await;
    }
    for name in ["location.json", "contacts.json", "reaction.json", "button.json", "interactive.json"] {
        setup.notify(&fixture(name)).await;
    }
    let messages = setup.messages().await;
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    for expected in [
        "This is a caption",
        "unboxing",
        "📍 Location: Main Office, 1 Hacker Way, Menlo Park, CA 94025 https://maps.google.com/?q=37.483307,-122.148981",
        "👤 Barbara J. Johnson: +1 (940) 555-1234",
        "Reacted 👍",
        "Track my order",
        "Express — Next-day delivery",
    ] {
        assert!(bodies.contains(&expected), "{expected:?} among {bodies:?}");
    }
    // Each file is in the content-addressed store under its sha256, downloadable by agents.
    for (name, _, mime, bytes) in &files {
        let attachment = messages
            .iter()
            .flat_map(|m| &m.attachments)
            .find(|a| a.content_type.starts_with(mime.split(';').next().unwrap_or_default()))
            .unwrap_or_else(|| panic!("{name}: its file is attached"));
        assert_eq!(attachment.sha256, hex::encode(Sha256::digest(bytes)), "{name}");
        assert_eq!(attachment.size, bytes.len() as u64, "{name}");
        let (status, _) = setup.server.admin.get(&format!("/api/v1/attachments/{}", attachment.id)).await;
        assert_eq!(status, StatusCode::OK, "{name}: downloadable");
    }
    let document = messages.iter().flat_map(|m| &m.attachments).find(|a| a.content_type == "application/pdf");
    assert_eq!(document.map(|d| d.file_name.as_str()), Some("invoice.pdf"), "the document keeps its name");
    assert_eq!(setup.emulator.recorded(|r| r.unauthorized), 0, "every Graph call carried the token");
}

#[tokio::test]
async fn a_media_url_that_expired_is_asked_for_again() {
    let setup = setup().await;
    let bytes = b"\xff\xd8\xff a photo".to_vec();
    setup.emulator.add_media(
        "2754859441498128",
        Media { bytes: bytes.clone(), mime_type: "image/jpeg".into(), declared_size: None },
    );
    setup.emulator.expire_first_url("2754859441498128");
    setup
        .notify(&fixture("image.json").replace("SHA256_OF_BYTES", &hex::encode(Sha256::digest(&bytes))))
        .await;
    let messages = setup.messages().await;
    assert_eq!(messages[0].attachments.len(), 1, "the photo was kept: {messages:?}");
    assert_eq!(
        setup.emulator.recorded(|r| r.url_requests["2754859441498128"]),
        2,
        "a second URL was asked for"
    );
}

#[tokio::test]
async fn a_file_over_its_types_limit_is_refused_with_an_activity_line() {
    let setup = setup().await;
    // An image Meta says is 6 MB: over WhatsApp's 5 MB for images, refused before downloading.
    setup.emulator.add_media(
        "2754859441498128",
        Media {
            bytes: b"tiny".to_vec(),
            mime_type: "image/jpeg".into(),
            declared_size: Some(6 * 1024 * 1024),
        },
    );
    setup
        .notify(&fixture("image.json").replace("SHA256_OF_BYTES", &hex::encode(Sha256::digest(b"tiny"))))
        .await;
    let messages = setup.messages().await;
    let incoming = messages.iter().find(|m| m.kind == MessageKind::Incoming).expect("the message is kept");
    assert_eq!(incoming.body, "This is a caption");
    assert!(incoming.attachments.is_empty());
    let line = messages.iter().find(|m| m.kind == MessageKind::Activity).expect("an activity line");
    assert!(
        line.body.contains("not kept") && line.body.contains("5242880-byte limit"),
        "the line says why: {}",
        line.body
    );
    assert_eq!(line.conversation_id, incoming.conversation_id);
}

#[tokio::test]
async fn a_reply_reaches_the_send_endpoint_and_statuses_only_move_it_forward() {
    let setup = setup().await;
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("Sorry! It ships today.")).await;
    let sent = setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    assert!(sent.failure.is_none());
    let body = setup.emulator.recorded(|r| r.sent[0].clone());
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["to"], "16505551234", "to the customer's wa_id");
    assert_eq!(body["type"], "text");
    assert_eq!(body["text"]["body"], "Sorry! It ships today.");
    let wamid = "wamid.EMULATED1";
    // Read arrives first (delivered and read at once: no delivered), then a late delivered and a
    // late failure: neither undoes the read.
    setup.status("status_read.json", wamid).await;
    assert_eq!(setup.message(reply).await.delivery, DeliveryState::Read);
    setup.status("status_delivered.json", wamid).await;
    setup.status("status_failed_131047.json", wamid).await;
    let message = setup.message(reply).await;
    assert_eq!(message.delivery, DeliveryState::Read, "states only move forward");
    assert!(message.failure.is_none());
    // A status for a message this inbox never sent is taken and ignored.
    setup.status("status_delivered.json", "wamid.SOMEONE_ELSES").await;
}

#[tokio::test]
async fn a_failed_status_fails_the_message_with_the_providers_reason() {
    let setup = setup().await;
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("Are you there?")).await;
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    setup.status("status_delivered.json", "wamid.EMULATED1").await;
    setup.status("status_failed_131047.json", "wamid.EMULATED1").await;
    let message = setup.message(reply).await;
    assert_eq!(message.delivery, DeliveryState::Failed);
    let failure = message.failure.expect("a reason");
    assert_eq!(failure.kind, DeliveryFailureKind::WindowClosed, "131047 is the window error");
    assert!(
        failure.reason.contains("131047") && failure.reason.contains("Re-engagement"),
        "{}",
        failure.reason
    );
}

#[tokio::test]
async fn throttling_130429_is_retried_until_it_goes_through() {
    let setup = setup().await;
    setup.emulator.script(&[(400, "error_130429.json"), (400, "error_130429.json")]);
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("One moment")).await;
    let message = setup.until(reply, "sent after throttling", |m| m.delivery == DeliveryState::Sent).await;
    assert!(message.failure.is_none());
    let attempts = setup.emulator.recorded(|r| r.sent.len());
    assert_eq!(attempts, 3, "two throttled attempts, then one that went through");
}

#[tokio::test]
async fn outside_the_window_131047_fails_the_reply_as_the_window_error() {
    let setup = setup().await;
    setup.emulator.script(&[(400, "error_131047.json")]);
    let conversation = setup.customer_writes().await;
    let reply = setup.reply(conversation, text_reply("Following up")).await;
    let message = setup.until(reply, "failed", |m| m.delivery == DeliveryState::Failed).await;
    let failure = message.failure.expect("a reason");
    assert_eq!(failure.kind, DeliveryFailureKind::WindowClosed);
    assert!(failure.reason.contains("131047"), "{}", failure.reason);
    assert_eq!(setup.emulator.recorded(|r| r.sent.len()), 1, "not retried: it can't go through");
}

#[tokio::test]
async fn a_reply_over_4096_characters_is_refused_before_it_is_queued() {
    let setup = setup().await;
    let conversation = setup.customer_writes().await;
    let long = "ب".repeat(4097);
    let (status, body) = setup
        .server
        .admin
        .post(&format!("/api/v1/conversations/{conversation}/messages"), text_reply(&long))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("at most 4096 characters"), "{body}");
    // Exactly 4096 characters (8192 bytes of Arabic letters) is fine.
    let reply = setup.reply(conversation, text_reply(&"ب".repeat(4096))).await;
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    assert_eq!(setup.emulator.recorded(|r| r.sent.len()), 1, "only the one that fits went out");
}

#[tokio::test]
async fn a_template_goes_out_with_its_parameters_in_order() {
    let setup = setup().await;
    let conversation = setup.customer_writes().await;
    let request = json!({"client_id": Id::new_v4(), "kind": "reply", "body": "",
        "template": {"name": "order_update", "params": ["Sheena", "ORD-9271"]}});
    let reply = setup.reply(conversation, request).await;
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    let body = setup.emulator.recorded(|r| r.sent[0].clone());
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "order_update");
    assert_eq!(body["template"]["language"]["code"], "en");
    let parameters = &body["template"]["components"][0]["parameters"];
    assert_eq!(
        parameters,
        &json!([{"type": "text", "text": "Sheena"}, {"type": "text", "text": "ORD-9271"}])
    );
}

#[tokio::test]
async fn an_attachment_is_uploaded_then_sent_by_its_media_id_with_the_caption() {
    let setup = setup().await;
    let conversation = setup.customer_writes().await;
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
    let reply = setup.reply(conversation, request).await;
    setup.until(reply, "sent", |m| m.delivery == DeliveryState::Sent).await;
    let uploads = setup.emulator.recorded(|r| r.uploads.clone());
    assert_eq!(uploads, vec![("application/pdf".to_owned(), "label.pdf".to_owned(), 14)]);
    let body = setup.emulator.recorded(|r| r.sent[0].clone());
    assert_eq!(body["type"], "document");
    assert_eq!(body["document"]["id"], "uploaded-1");
    assert_eq!(body["document"]["caption"], "Your return label");
    assert_eq!(body["document"]["filename"], "label.pdf");
}

#[tokio::test]
async fn the_connector_replies_in_context_when_told_which_message_it_answers() {
    use switchboard_server::connectors::{whatsapp::WhatsappConnector, Connector, Outgoing};
    let emulator = Emulator::start().await;
    let settings: WhatsappSettings = serde_json::from_value({
        let mut connector = emulator.connector();
        connector.as_object_mut().expect("object").remove("kind");
        connector
    })
    .expect("settings");
    let connector = WhatsappConnector::new(settings, reqwest::Client::new());
    let message: Message =
        serde_json::from_value(json!({"id": Id::new_v4(), "conversation_id": Id::new_v4(),
        "kind": "outgoing", "body": "Yes, tracking number 1Z999", "sender": {"type": "system"},
        "attachments": [], "template": null, "delivery": "queued", "mentions": [], "created_at": 0}))
        .expect("message");
    let outgoing = Outgoing {
        inbox_id: Id::new_v4(),
        message,
        to: Some("16505551234".into()),
        template: None,
        files: vec![],
        reply_to: Some("wamid.BUTTON1".into()),
        since_customer_ms: None,
    };
    let sent = connector.send(&outgoing).await.expect("sent");
    assert_eq!(sent.provider_ids, vec!["wamid.EMULATED1".to_owned()], "the wamid the Graph API answered");
    let body = emulator.recorded(|r| r.sent[0].clone());
    assert_eq!(body["context"], json!({"message_id": "wamid.BUTTON1"}), "quoted in context");
    assert_eq!(body["text"]["body"], "Yes, tracking number 1Z999");
}

#[test]
fn the_fixtures_name_their_sources() {
    let readme = graph_emulator::fixture("README.md");
    let dir = format!("{}/tests/fixtures/whatsapp", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            assert!(readme.contains(&format!("`{name}`")), "{name} has its source in the README");
        }
    }
}
