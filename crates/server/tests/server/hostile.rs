//! The hostile-content corpus (`tests/fixtures/hostile/cases.jsonl`, issue 20) through every
//! channel the server has: the signed API channel, the WhatsApp, Telegram, Messenger and Instagram
//! webhooks (against their emulators), the website widget, and the email connector's MIME parser. Every case is either stored
//! and served back byte for byte (read back through the API's change feed and attachment
//! download) or refused with a clear 4xx (a JSON error with a code and a message); never a 5xx.
//! A message's body comes back exactly as sent through every channel; contact names come back
//! trimmed (a name is what the screen shows, and spaces around it are never part of it). File names come back
//! without their directories and control characters (what the desktop then makes safe for its
//! disk is `crates/core/src/attachments.rs::open_name`, tested over the same corpus).

use std::collections::BTreeMap;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::connectors::email::parse::{fold_quoted, parse as parse_email};

use crate::{graph_emulator, harness::*, meta_emulator, telegram_emulator};

#[path = "../../../../tests/fixtures/hostile/corpus.rs"]
mod corpus;
#[path = "../../../../tests/fixtures/hostile/generate.rs"]
mod generate;

use corpus::Case;

/// `policy::MAX_BODY_BYTES`: the longest message body the server takes.
const BODY_LIMIT: usize = 64 * 1024;
/// The most characters a contact's name may have.
const NAME_LIMIT: usize = 200;

fn cases(kind: &str) -> Vec<(usize, Case, String)> {
    corpus::load()
        .into_iter()
        .enumerate()
        .filter(|(_, case)| case.kind == kind)
        .map(|(i, case)| {
            let text = case.text().unwrap_or_default();
            (i, case, text)
        })
        .collect()
}

/// Whether the server must refuse `text` as a message body.
fn body_refused(case: &Case, text: &str) -> bool {
    let refused = text.len() > BODY_LIMIT || text.contains('\0') || text.trim().is_empty();
    assert_eq!(refused, case.refused, "{}: the corpus's expectation disagrees with the limits", case.name);
    refused
}

/// The name the server keeps for `text` (trimmed), or `None` when it must refuse it.
fn kept_name(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    (trimmed.chars().count() <= NAME_LIMIT && !trimmed.contains('\0')).then_some(trimmed)
}

/// A refusal: a 4xx whose body is a JSON error with a code and a message.
fn assert_clear_refusal(case: &str, what: &str, status: StatusCode, body: &Value) {
    assert!(status.is_client_error(), "{case} ({what}): {status}, expected a 4xx refusal: {body}");
    let error: ErrorBody = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{case} ({what}): not an error body ({e}): {body}"));
    assert!(!error.error.message.trim().is_empty(), "{case} ({what}): the refusal says why: {body}");
}

async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.body(body).send().await.expect("request");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn inbound(server: &TestServer, inbox: &CreatedInbox, payload: &Value) -> (StatusCode, Value) {
    let body = payload.to_string().into_bytes();
    let url = format!("{}/api/v1/channels/{}/inbound", server.base, inbox.inbox.id);
    post(&url, &[("x-switchboard-signature", sign(&inbox.signing_secret, &body))], body).await
}

/// Everything the admin is served, from the change feed read from the start.
async fn served(server: &TestServer) -> BTreeMap<(EntityKind, Id), Value> {
    let mut changes = Vec::new();
    let mut since = 0;
    loop {
        let page = server.admin.sync(since, 1000).await;
        changes.extend(page.changes);
        since = page.next;
        if !page.has_more {
            return apply(&changes);
        }
    }
}

/// What a test expects to read back: a message's body, or a conversation's contact's name.
enum Stored {
    Body { case: String, message: Id, text: String },
    Name { case: String, conversation: Id, name: String },
}

async fn check_stored(server: &TestServer, expected: Vec<Stored>) {
    let state = served(server).await;
    let get = |kind: EntityKind, id: Id| {
        state.get(&(kind, id)).unwrap_or_else(|| panic!("{kind:?} {id} is served"))
    };
    for stored in &expected {
        match stored {
            Stored::Body { case, message, text } => {
                let body = get(EntityKind::Message, *message)["body"].as_str().unwrap_or_default();
                assert!(
                    body == text,
                    "{case}: the body came back changed ({} bytes, not {})",
                    body.len(),
                    text.len()
                );
            }
            Stored::Name { case, conversation, name } => {
                let contact: Id = serde_json::from_value(
                    get(EntityKind::Conversation, *conversation)["contact_id"].clone(),
                )
                .expect("contact id");
                let served = get(EntityKind::Contact, contact)["name"].as_str().unwrap_or_default();
                assert!(served == name, "{case}: the contact's name came back as {served:?}, not {name:?}");
            }
        }
    }
}

fn result(case: &str, status: StatusCode, body: &Value) -> InboundResult {
    assert_eq!(status, StatusCode::OK, "{case}: not taken: {body}");
    serde_json::from_value(body.clone()).expect("inbound result")
}

#[tokio::test]
async fn every_text_case_through_the_api_channel_is_stored_exactly_or_refused() {
    let server = TestServer::start().await;
    let inbox: CreatedInbox = serde_json::from_value(
        server.admin.ok("/api/v1/inboxes", json!({"name": "API", "channel": "api"})).await,
    )
    .expect("inbox");
    let mut expected = Vec::new();
    for (i, case, text) in cases("text") {
        let name = &case.name;
        // As the message's body.
        let payload = json!({"contact": {"external_id": format!("body-{i}"), "name": format!("Body {i}")},
            "message": {"external_id": format!("body-{i}"), "body": text}});
        let (status, answer) = inbound(&server, &inbox, &payload).await;
        if body_refused(&case, &text) {
            assert_clear_refusal(name, "body", status, &answer);
        } else {
            let taken = result(name, status, &answer);
            expected.push(Stored::Body { case: name.clone(), message: taken.message_id, text: text.clone() });
        }
        // As the contact's name.
        let payload = json!({"contact": {"external_id": format!("name-{i}"), "name": text},
            "message": {"external_id": format!("name-{i}"), "body": "hello"}});
        let (status, answer) = inbound(&server, &inbox, &payload).await;
        match kept_name(&text) {
            None => assert_clear_refusal(name, "name", status, &answer),
            Some(kept) => {
                let taken = result(name, status, &answer);
                if !kept.is_empty() {
                    expected.push(Stored::Name {
                        case: name.clone(),
                        conversation: taken.conversation_id,
                        name: kept.to_owned(),
                    });
                }
            }
        }
    }
    assert!(expected.len() > 200, "most text cases are stored: {}", expected.len());
    check_stored(&server, expected).await;
}

/// The part of the `webhook` answer a test reads: taken (200), or a clear refusal.
async fn through_webhook(
    case: &Case,
    what: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    refused: bool,
) -> bool {
    let (status, answer) = post(url, headers, body).await;
    if refused {
        assert_clear_refusal(&case.name, what, status, &answer);
        false
    } else {
        assert_eq!(status, StatusCode::OK, "{} ({what}): not taken: {answer}", case.name);
        true
    }
}

/// The newest message of the conversation with the contact whose channel id is `external_id`.
fn find_message(state: &BTreeMap<(EntityKind, Id), Value>, inbox: Id, external_id: &str) -> Option<(Id, Id)> {
    let contact = state.iter().find_map(|((kind, id), value)| {
        (*kind == EntityKind::Contact
            && value["identities"].as_array().is_some_and(|ids| {
                ids.iter().any(|i| i["external_id"] == external_id && i["inbox_id"] == json!(inbox))
            }))
        .then_some(*id)
    })?;
    let conversation = state.iter().find_map(|((kind, id), value)| {
        (*kind == EntityKind::Conversation && value["contact_id"] == json!(contact)).then_some(*id)
    })?;
    let message = state
        .iter()
        .filter(|((kind, _), value)| {
            *kind == EntityKind::Message
                && value["conversation_id"] == json!(conversation)
                && value["kind"] == "incoming"
        })
        .map(|((_, id), _)| *id)
        .max()?;
    Some((conversation, message))
}

/// Reads back what the webhooks stored: each taken case's body exactly, and its name (when sent)
/// trimmed at its ends.
async fn check_webhook_cases(
    server: &TestServer,
    inbox: Id,
    taken: Vec<(String, String, String, Option<String>)>,
) {
    let state = served(server).await;
    let mut expected = Vec::new();
    for (case, external_id, text, name) in taken {
        let (conversation, message) = find_message(&state, inbox, &external_id)
            .unwrap_or_else(|| panic!("{case}: no message from {external_id}"));
        expected.push(Stored::Body { case: case.clone(), message, text });
        if let Some(name) = name {
            expected.push(Stored::Name { case, conversation, name });
        }
    }
    check_stored(server, expected).await;
}

#[tokio::test]
async fn every_text_case_through_the_whatsapp_webhook_is_stored_exactly_or_refused() {
    let emulator = graph_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "WhatsApp", "channel": "whatsapp", "connector": emulator.connector()});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let url = format!("{}/api/v1/channels/{}/webhook", server.base, inbox.inbox.id);
    let mut taken = Vec::new();
    for (i, case, text) in cases("text") {
        let wa_id = format!("4915100{i:05}");
        let name = kept_name(&text).filter(|n| !n.is_empty());
        let mut payload = graph_emulator::fixture_json("text.json");
        let value = &mut payload["entry"][0]["changes"][0]["value"];
        value["contacts"][0]["wa_id"] = json!(wa_id);
        value["contacts"][0]["profile"]["name"] =
            json!(if name.is_some() { text.as_str() } else { "Hostile" });
        value["messages"][0]["from"] = json!(wa_id);
        value["messages"][0]["id"] = json!(format!("wamid.hostile-{i}"));
        value["messages"][0]["text"]["body"] = json!(text);
        let body = payload.to_string().into_bytes();
        let signature = graph_emulator::meta_signature(graph_emulator::APP_SECRET, &body);
        let refused = body_refused(&case, &text);
        if through_webhook(&case, "whatsapp", &url, &[("x-hub-signature-256", signature)], body, refused)
            .await
        {
            taken.push((case.name.clone(), wa_id, text.clone(), name.map(str::to_owned)));
        }
    }
    check_webhook_cases(&server, inbox.inbox.id, taken).await;
}

#[tokio::test]
async fn every_text_case_through_the_telegram_webhook_is_stored_exactly_or_refused() {
    let emulator = telegram_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "Telegram", "channel": "telegram", "connector": emulator.connector()});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let url = format!("{}/api/v1/channels/{}/webhook", server.base, inbox.inbox.id);
    let mut taken = Vec::new();
    for (i, case, text) in cases("text") {
        let chat = 700_000 + i as i64;
        let name = kept_name(&text).filter(|n| !n.is_empty());
        let mut payload = telegram_emulator::fixture_json("text.json");
        payload["update_id"] = json!(900_000 + i);
        payload["message"]["message_id"] = json!(1000 + i);
        payload["message"]["from"]["id"] = json!(chat);
        payload["message"]["chat"]["id"] = json!(chat);
        payload["message"]["from"]["first_name"] =
            json!(if name.is_some() { text.as_str() } else { "Hostile" });
        payload["message"]["text"] = json!(text);
        let secret = ("x-telegram-bot-api-secret-token", telegram_emulator::SECRET.to_owned());
        let refused = body_refused(&case, &text);
        if through_webhook(&case, "telegram", &url, &[secret], payload.to_string().into_bytes(), refused)
            .await
        {
            taken.push((case.name.clone(), chat.to_string(), text.clone(), name.map(str::to_owned)));
        }
    }
    check_webhook_cases(&server, inbox.inbox.id, taken).await;
}

#[tokio::test]
async fn every_text_case_through_the_messenger_webhook_is_stored_exactly_or_refused() {
    through_meta_webhook("messenger", "facebook", "messenger_text.json").await;
}

#[tokio::test]
async fn every_text_case_through_the_instagram_webhook_is_stored_exactly_or_refused() {
    through_meta_webhook("instagram", "instagram", "instagram_text.json").await;
}

/// Every text case as a customer's message through a Meta webhook (`kind` messenger or
/// instagram, the recorded `fixture` with its text, sender and id replaced), signed as Meta signs.
async fn through_meta_webhook(kind: &str, channel: &str, fixture: &str) {
    let emulator = meta_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": kind, "channel": channel, "connector": emulator.connector(kind, false)});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let url = format!("{}/api/v1/channels/{}/webhook", server.base, inbox.inbox.id);
    let mut taken = Vec::new();
    for (i, case, text) in cases("text") {
        let sender = format!("90000000{i:05}");
        let mut payload: Value =
            serde_json::from_str(&meta_emulator::fixture(fixture, &emulator.base)).expect("fixture");
        let event = &mut payload["entry"][0]["messaging"][0];
        event["sender"]["id"] = json!(sender);
        event["message"]["mid"] = json!(format!("mid.hostile-{i}"));
        event["message"]["text"] = json!(text);
        let body = payload.to_string().into_bytes();
        let signature = graph_emulator::meta_signature(meta_emulator::APP_SECRET, &body);
        let refused = body_refused(&case, &text);
        if through_webhook(&case, kind, &url, &[("x-hub-signature-256", signature)], body, refused).await {
            taken.push((case.name.clone(), sender, text.clone(), None));
        }
    }
    check_webhook_cases(&server, inbox.inbox.id, taken).await;
}

/// Every text case typed into the website widget by one visitor (the widget's session limit is
/// per address, and a visitor writes many messages): each taken body is stored exactly as typed
/// (the widget keeps what the visitor sent, as the API channel does), each refused one answered
/// with a clear 4xx.
#[tokio::test]
async fn every_text_case_through_the_website_widget_is_stored_exactly_or_refused() {
    const ORIGIN: &str = "https://shop.example.com";
    let server = TestServer::start().await;
    let request = json!({"name": "Website", "channel": "webchat", "connector": {
        "kind": "widget", "allowed_origins": [ORIGIN]}});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let api = format!("{}/api/v1/widget/{}", server.base, inbox.inbox.id);
    let client = reqwest::Client::new();
    let session: Value = client
        .post(format!("{api}/session"))
        .header("origin", ORIGIN)
        .json(&json!({}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("session json");
    let token = session["token"].as_str().expect("a visitor token").to_owned();
    let mut expected = Vec::new();
    for (_, case, text) in cases("text") {
        let body = json!({"client_id": Id::new_v4(), "body": text}).to_string().into_bytes();
        let headers = [("origin", ORIGIN.to_owned()), ("authorization", format!("Bearer {token}"))];
        let (status, answer) = post(&format!("{api}/messages"), &headers, body).await;
        if body_refused(&case, &text) {
            assert_clear_refusal(&case.name, "widget", status, &answer);
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{} (widget): not taken: {answer}", case.name);
        let message: Id = serde_json::from_value(answer["message_id"].clone()).expect("message id");
        expected.push(Stored::Body { case: case.name.clone(), message, text });
    }
    check_stored(&server, expected).await;
}

// --- Attachments ---------------------------------------------------------------------------------

/// The name the server shows for an attachment named `name`: its last path part, without control
/// characters or quotes, at most 200 characters; "file" when nothing is left.
fn shown_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    if kept.trim().is_empty() {
        "file".into()
    } else {
        kept
    }
}

#[tokio::test]
async fn attachments_and_file_names_are_stored_exactly_or_refused() {
    let server = TestServer::start().await;
    // An Instagram inbox fed through the signed API channel: its 8 MiB attachment limit.
    let inbox: CreatedInbox = serde_json::from_value(
        server.admin.ok("/api/v1/inboxes", json!({"name": "Files", "channel": "instagram"})).await,
    )
    .expect("inbox");
    let mut expected = Vec::new();
    for (i, case) in corpus::load().into_iter().enumerate() {
        let (file_name, content_type, bytes) = match case.kind.as_str() {
            "attachment" => (
                case.get("file_name").expect("file_name").to_owned(),
                case.get("content_type").expect("content_type").to_owned(),
                generate::attachment_bytes(case.generator().expect("generate")),
            ),
            "file_name" => {
                (case.text().expect("text"), "text/plain".to_owned(), b"hostile file name".to_vec())
            }
            _ => continue,
        };
        let payload = json!({"contact": {"external_id": format!("file-{i}"), "name": "Files"},
            "message": {"external_id": format!("file-{i}"), "body": case.name,
                "attachments": [{"file_name": file_name, "content_type": content_type,
                    "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes)}]}});
        let (status, answer) = inbound(&server, &inbox, &payload).await;
        if case.refused {
            assert_clear_refusal(&case.name, "attachment", status, &answer);
            continue;
        }
        let taken = result(&case.name, status, &answer);
        expected.push((case.name.clone(), taken.message_id, file_name, bytes));
    }
    assert!(expected.len() >= 50, "the file cases are stored: {}", expected.len());
    let state = served(&server).await;
    for (case, message, file_name, bytes) in expected {
        let message: Message =
            serde_json::from_value(state[&(EntityKind::Message, message)].clone()).expect("message");
        let [attachment] = message.attachments.as_slice() else { panic!("{case}: one attachment") };
        let shown = &attachment.file_name;
        assert_eq!(shown, &shown_file_name(&file_name), "{case}: the name shown");
        assert!(
            !shown.contains(['/', '\\']) && !shown.chars().any(char::is_control) && !shown.is_empty(),
            "{case}: {shown:?} names a path"
        );
        assert_eq!(attachment.size, bytes.len() as u64, "{case}: size");
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/attachments/{}", server.base, attachment.id))
            .bearer_auth(&server.admin.token)
            .send()
            .await
            .expect("download");
        assert_eq!(response.status(), StatusCode::OK, "{case}: download");
        if let Some(disposition) = response.headers().get("content-disposition") {
            let disposition = disposition.to_str().unwrap_or_default();
            assert!(!disposition.contains(['\r', '\n']), "{case}: a header injection: {disposition}");
        }
        let downloaded = response.bytes().await.expect("bytes");
        assert!(downloaded.as_ref() == bytes.as_slice(), "{case}: the bytes came back changed");
    }
}

// --- Email ---------------------------------------------------------------------------------------

fn email_bytes(case: &Case) -> Vec<u8> {
    if let Some(raw) = case.get("raw") {
        raw.as_bytes().to_vec()
    } else if let Some(encoded) = case.get("raw_base64") {
        base64::engine::general_purpose::STANDARD.decode(encoded).expect("raw_base64")
    } else {
        generate::generated_email(case.generator().expect("raw, raw_base64 or generate"))
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// A file name the desktop could put on a disk: no directories, no control characters.
fn path_free(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && !name.chars().any(char::is_control)
}

#[test]
fn every_email_case_parses_to_text_as_written() {
    let mut checked = 0;
    for case in corpus::load().into_iter().filter(|c| c.kind == "email") {
        let parsed = parse_email(&email_bytes(&case));
        let check = case.check();
        let name = &case.name;
        if let Some(subject) = check["subject"].as_str() {
            assert_eq!(parsed.subject, subject, "{name}: subject");
        }
        if let Some(from) = check["from_name"].as_str() {
            assert_eq!(parsed.from_name.as_deref(), Some(from), "{name}: sender's name");
        }
        if let Some(no) = check["subject_has_no"].as_str() {
            assert!(!parsed.subject.contains(no), "{name}: {:?} in the subject {:?}", no, parsed.subject);
        }
        for part in strings(&check["body_contains"]) {
            assert!(parsed.body.contains(part), "{name}: {part:?} is not in the body {:?}", parsed.body);
        }
        for part in strings(&check["body_has_no"]) {
            assert!(!parsed.body.contains(part), "{name}: {part:?} is in the body {:?}", parsed.body);
        }
        let names: Vec<&str> = parsed.attachments.iter().map(|a| a.file_name.as_str()).collect();
        if check.get("file_names").is_some() {
            assert_eq!(names, strings(&check["file_names"]), "{name}: attachment names");
        }
        for file in &names {
            assert!(path_free(file), "{name}: attachment name {file:?}");
        }
        // Nothing the parser gives may be refused by the store: no NUL anywhere.
        for text in [&parsed.subject, &parsed.body, parsed.from_name.as_deref().unwrap_or_default()] {
            assert!(!text.contains('\0'), "{name}: a NUL survived parsing");
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} email cases");
}

/// Every short text case as an email's subject, sender name and body (base64 encoded words and
/// body, so the bytes arrive as written): each comes out as written, the body through the
/// connector's quote folding.
#[test]
fn every_text_case_survives_the_mime_parser() {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut checked = 0;
    for (_, case, text) in cases("text") {
        if text.len() > 2000 || text.contains('\0') {
            continue;
        }
        let raw = format!(
            "From: =?utf-8?b?{}?= <c@evil.test>\r\nTo: support@desk.test\r\nSubject: =?utf-8?b?{}?=\r\n\
             Message-ID: <t@evil.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(&text),
            b64(&text),
            b64(&text)
        );
        let parsed = parse_email(raw.as_bytes());
        let name = &case.name;
        assert_eq!(parsed.subject, text.trim(), "{name}: subject");
        assert_eq!(parsed.body, fold_quoted(&text.replace("\r\n", "\n")), "{name}: body");
        let from = parsed.from_name.unwrap_or_default();
        assert_eq!(from, text.trim(), "{name}: sender's name");
        checked += 1;
    }
    assert!(checked >= 150, "{checked} text cases as email");
}
