//! Property tests over outside input (issue 20). Each parser of what a customer, a provider or an
//! integration sends, over arbitrary bytes and over a documented payload (`tests/fixtures/`) with
//! one value replaced by arbitrary JSON, never panics: the WhatsApp, Telegram and Messenger /
//! Instagram webhook parsers,
//! the API channel's signature check, email MIME parsing, HTML as text and quote folding. Over
//! HTTP, the same bodies signed, unsigned and forged never get a 5xx from the webhook (WhatsApp,
//! Telegram, Messenger, Instagram) and inbound endpoints, nor do a website visitor's bodies (a session, a message, "seen", an email, a file of
//! any name and type) from the widget's endpoints, which keep each message they take byte for
//! byte and each file under a plain name.
//!
//! Case counts are bounded (a few hundred per parser, about a hundred HTTP round trips per
//! channel), so the whole module adds seconds to `cargo test`. A failure prints its input: keep it
//! as a regular test next to the parser it broke.

use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestRunner},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_server::connectors::{
    api,
    email::parse::{fold_quoted, html_to_text, parse as parse_email, split_quoted},
    meta::{self, Platform},
    telegram, whatsapp,
};

use switchboard_proto::{CreatedInbox, Id};

use crate::{graph_emulator, harness::*, meta_emulator, telegram_emulator};

const CASES: u32 = 256;
/// Bodies per channel over HTTP, each sent signed, unsigned and forged.
const HTTP_CASES: usize = 100;

/// Any JSON value, with the strings the parsers look for mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        Just(json!("whatsapp_business_account")),
        Just(json!("messages")),
        Just(json!(graph_emulator::PHONE_NUMBER_ID)),
        Just(json!("text")),
        Just(json!("image")),
        Just(json!("")),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "object",
            "entry",
            "changes",
            "field",
            "value",
            "metadata",
            "phone_number_id",
            "messages",
            "statuses",
            "contacts",
            "from",
            "id",
            "timestamp",
            "type",
            "text",
            "body",
            "image",
            "update_id",
            "message",
            "edited_message",
            "chat",
            "date",
            "photo",
            "document",
            "file_id",
            "caption",
            "contact",
            "external_id",
            "attachments",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// Every JSON pointer inside `value`, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// `sample` with the values at up to three of its places replaced by arbitrary JSON.
fn mutated(sample: Value) -> impl Strategy<Value = Value> {
    let mut all = Vec::new();
    pointers(&sample, String::new(), &mut all);
    prop::collection::vec((prop::sample::select(all), json_value()), 1..4).prop_map(move |edits| {
        let mut value = sample.clone();
        for (pointer, with) in edits {
            if let Some(slot) = value.pointer_mut(&pointer) {
                *slot = with;
            }
        }
        value
    })
}

const WHATSAPP_FIXTURES: &[&str] = &[
    "text.json",
    "image.json",
    "audio.json",
    "video.json",
    "document.json",
    "location.json",
    "contacts.json",
    "interactive.json",
    "button.json",
    "reaction.json",
    "status_delivered.json",
    "status_read.json",
    "status_failed_131047.json",
];
const TELEGRAM_FIXTURES: &[&str] = &["text.json", "photo.json", "document.json", "edited_message.json"];

fn whatsapp_payload() -> impl Strategy<Value = Vec<u8>> {
    let mutations: Vec<_> =
        WHATSAPP_FIXTURES.iter().map(|name| mutated(graph_emulator::fixture_json(name)).boxed()).collect();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        4 => prop::strategy::Union::new(mutations).prop_map(|v| v.to_string().into_bytes()),
    ]
}

const META_FIXTURES: &[&str] = &[
    "messenger_text.json",
    "messenger_attachments.json",
    "messenger_delivery.json",
    "messenger_echo.json",
    "messenger_read.json",
    "messenger_two_entries.json",
    "instagram_text.json",
    "instagram_image.json",
    "instagram_echo.json",
    "instagram_read.json",
];

fn meta_payload() -> impl Strategy<Value = Vec<u8>> {
    let mutations: Vec<_> = META_FIXTURES
        .iter()
        .map(|name| {
            // Statuses carry a watermark the tests fill in with a time.
            let sample =
                meta_emulator::fixture(name, "https://cdn.test").replace("WATERMARK", "1458668856463");
            mutated(serde_json::from_str(&sample).expect("a JSON fixture")).boxed()
        })
        .collect();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        4 => prop::strategy::Union::new(mutations).prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn telegram_payload() -> impl Strategy<Value = Vec<u8>> {
    let mutations: Vec<_> =
        TELEGRAM_FIXTURES.iter().map(|name| mutated(telegram_emulator::fixture_json(name)).boxed()).collect();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        4 => prop::strategy::Union::new(mutations).prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn inbound_sample() -> Value {
    json!({
        "contact": {"external_id": "c-1", "name": "Ann", "phone": "+4915100000000", "email": "ann@shop.test"},
        "message": {"external_id": "m-1", "body": "Hello",
            "attachments": [{"file_name": "a.txt", "content_type": "text/plain", "data_base64": "aGk="}]},
    })
}

fn inbound_payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        4 => mutated(inbound_sample()).prop_map(|v| v.to_string().into_bytes()),
    ]
}

/// A raw email with threading headers, an HTML alternative, an attachment and a quoted reply.
const SAMPLE_EMAIL: &str = "From: Ann <ann@shop.test>\r\nTo: support@desk.test\r\nSubject: =?utf-8?q?Order_=E2=84=96_42?=\r\n\
Message-ID: <m1@shop.test>\r\nIn-Reply-To: <m0@desk.test>\r\nReferences: <root@desk.test> <m0@desk.test>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nWhere is it?=0A=0AOn Mon, Bob wrote:\r\n> shipped\r\n--inner\r\n\
Content-Type: text/html\r\n\r\n<p>Where is it?</p><blockquote>shipped</blockquote>\r\n--inner--\r\n--outer\r\n\
Content-Type: application/pdf; name=\"../../etc/passwd\"\r\nContent-Disposition: attachment; filename=\"in voice.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--outer--\r\n";

/// The sample email with a run of arbitrary bytes written over it or inserted into it.
fn email_bytes() -> impl Strategy<Value = Vec<u8>> {
    let sample = SAMPLE_EMAIL.as_bytes().to_vec();
    let len = sample.len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..1024),
        (0..len, prop::collection::vec(any::<u8>(), 0..64), any::<bool>()).prop_map(
            move |(at, bytes, insert)| {
                let mut raw = sample.clone();
                if insert {
                    raw.splice(at..at, bytes);
                } else {
                    let end = (at + bytes.len()).min(len);
                    raw.splice(at..end, bytes);
                }
                raw
            }
        ),
    ]
}

proptest! {
    #![proptest_config(Config { cases: CASES, failure_persistence: None, ..Config::default() })]

    #[test]
    fn whatsapp_parser_never_panics(body in whatsapp_payload()) {
        let _ = whatsapp::parse(&body, graph_emulator::PHONE_NUMBER_ID);
        let _ = whatsapp::verify_signature(graph_emulator::APP_SECRET, Some("sha256=00"), &body);
    }

    #[test]
    fn telegram_parser_never_panics(body in telegram_payload()) {
        let _ = telegram::parse(&body);
    }

    #[test]
    fn messenger_and_instagram_parsers_never_panic(body in meta_payload()) {
        let _ = meta::parse(Platform::Messenger, &body, meta_emulator::PAGE_ID);
        let _ = meta::parse(Platform::Instagram, &body, meta_emulator::IG_ID);
    }

    #[test]
    fn signature_checks_never_panic(secret in any::<String>(), header in any::<Option<String>>(), body in inbound_payload()) {
        let _ = api::verify(&secret, header.as_deref(), &body);
        let _ = whatsapp::verify_signature(&secret, header.as_deref(), &body);
        let _ = telegram::valid_secret(&secret);
    }

    #[test]
    fn email_parsing_never_panics(raw in email_bytes()) {
        let parsed = parse_email(&raw);
        let _ = split_quoted(&parsed.body);
    }

    #[test]
    fn html_and_quotes_as_text_never_panic(text in any::<String>(), html in "(<[a-z/!]{0,8}[^>]{0,12}>?|&[a-z#0-9]{0,6};?|[^<&]{0,8}){0,40}") {
        let _ = html_to_text(&text);
        let _ = html_to_text(&html);
        let folded = fold_quoted(&text);
        let _ = split_quoted(&folded);
        let _ = split_quoted(&text);
    }

    #[test]
    fn quote_folding_never_panics_on_reply_shaped_text(lines in prop::collection::vec(
        prop_oneof![Just("> quoted".to_owned()), Just("On Mon, Bob wrote:".to_owned()),
            Just("-----Original Message-----".to_owned()), Just("_".repeat(20)), Just(String::new()),
            any::<String>()], 0..30)) {
        let text = lines.join("\n");
        let folded = fold_quoted(&text);
        let (fresh, quoted) = split_quoted(&folded);
        prop_assert!(fresh.len() + quoted.len() <= folded.len());
    }
}

/// `n` values of `strategy` from a fresh random runner.
fn values<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::new(Config::default());
    (0..n).map(|_| strategy.new_tree(&mut runner).expect("a value").current()).collect()
}

async fn post(url: &str, header: Option<(&str, String)>, body: &[u8]) -> StatusCode {
    let mut request = reqwest::Client::new().post(url).header("content-type", "application/json");
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.body(body.to_vec()).send().await.expect("request").status()
}

fn shown(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// Posts `body` signed, unsigned and with a forged signature in `header`: never a 5xx, and never
/// taken without the valid one. Whether the signed post was taken.
async fn signed_unsigned_forged(
    url: &str,
    header: &str,
    signed: String,
    forged: String,
    body: &[u8],
) -> bool {
    let mut taken = false;
    for (i, value) in [Some(signed), None, Some(forged)].into_iter().enumerate() {
        let status = post(url, value.map(|v| (header, v)), body).await;
        assert!(!status.is_server_error(), "{status} (case {i}): {}", shown(body));
        assert!(i == 0 || status.is_client_error(), "{status} without a valid signature: {}", shown(body));
        taken |= i == 0 && status == StatusCode::OK;
    }
    taken
}

#[tokio::test]
async fn whatsapp_webhook_never_answers_5xx() {
    let emulator = graph_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "WhatsApp", "channel": "whatsapp", "connector": emulator.connector()});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let url = format!("{}/api/v1/channels/{}/webhook", server.base, inbox.inbox.id);
    let fixtures = WHATSAPP_FIXTURES.iter().map(|name| graph_emulator::fixture(name).into_bytes());
    let mut taken = 0;
    for body in fixtures.chain(values(whatsapp_payload(), HTTP_CASES)) {
        let signed = graph_emulator::meta_signature(graph_emulator::APP_SECRET, &body);
        let forged = graph_emulator::meta_signature("not-the-app-secret", &body);
        taken +=
            usize::from(signed_unsigned_forged(&url, "x-hub-signature-256", signed, forged, &body).await);
    }
    assert!(taken >= WHATSAPP_FIXTURES.len(), "the signed fixtures at least are taken: {taken}");
}

#[tokio::test]
async fn telegram_webhook_never_answers_5xx() {
    let emulator = telegram_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    let request = json!({"name": "Telegram", "channel": "telegram", "connector": emulator.connector()});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let url = format!("{}/api/v1/channels/{}/webhook", server.base, inbox.inbox.id);
    let header = "X-Telegram-Bot-Api-Secret-Token";
    let fixtures = TELEGRAM_FIXTURES.iter().map(|name| telegram_emulator::fixture(name).into_bytes());
    let mut taken = 0;
    for body in fixtures.chain(values(telegram_payload(), HTTP_CASES)) {
        for (i, secret) in
            [Some(telegram_emulator::SECRET), None, Some("forged-secret")].into_iter().enumerate()
        {
            let status = post(&url, secret.map(|s| (header, s.to_owned())), &body).await;
            assert!(!status.is_server_error(), "{status} (secret {secret:?}): {}", shown(&body));
            assert!(i == 0 || status.is_client_error(), "{status} without the secret: {}", shown(&body));
            taken += usize::from(i == 0 && status == StatusCode::OK);
        }
    }
    assert!(taken >= TELEGRAM_FIXTURES.len(), "the fixtures with the secret at least are taken: {taken}");
}

#[tokio::test]
async fn messenger_and_instagram_webhooks_never_answer_5xx() {
    let emulator = meta_emulator::Emulator::start().await;
    let server = TestServer::start().await;
    for (kind, channel, prefix) in
        [("messenger", "facebook", "messenger_"), ("instagram", "instagram", "instagram_")]
    {
        let request = json!({"name": kind, "channel": channel, "connector": emulator.connector(kind, false)});
        let inbox: CreatedInbox =
            serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
        let url = format!("{}/api/v1/channels/{}/webhook", server.base, inbox.inbox.id);
        let fixtures: Vec<&str> =
            META_FIXTURES.iter().copied().filter(|name| name.starts_with(prefix)).collect();
        let documented = fixtures.iter().map(|name| {
            meta_emulator::fixture(name, &emulator.base).replace("WATERMARK", "1458668856463").into_bytes()
        });
        let mut taken = 0;
        for body in documented.collect::<Vec<_>>().into_iter().chain(values(meta_payload(), HTTP_CASES)) {
            let signed = graph_emulator::meta_signature(meta_emulator::APP_SECRET, &body);
            let forged = graph_emulator::meta_signature("not-the-app-secret", &body);
            taken +=
                usize::from(signed_unsigned_forged(&url, "x-hub-signature-256", signed, forged, &body).await);
        }
        assert!(taken >= fixtures.len(), "the signed fixtures at least are taken ({kind}): {taken}");
    }
}

#[tokio::test]
async fn api_channel_inbound_never_answers_5xx() {
    let server = TestServer::start().await;
    let inbox: CreatedInbox = serde_json::from_value(
        server.admin.ok("/api/v1/inboxes", json!({"name": "API", "channel": "api"})).await,
    )
    .expect("inbox");
    let url = format!("{}/api/v1/channels/{}/inbound", server.base, inbox.inbox.id);
    let header = "x-switchboard-signature";
    let mut taken = 0;
    for body in std::iter::once(inbound_sample().to_string().into_bytes())
        .chain(values(inbound_payload(), HTTP_CASES))
    {
        let (signed, forged) = (sign(&inbox.signing_secret, &body), sign("not-the-secret", &body));
        taken += usize::from(signed_unsigned_forged(&url, header, signed, forged, &body).await);
    }
    assert!(taken >= 1, "the signed sample at least is taken");
}

/// A website visitor's request to the widget's endpoints: a browser with the inbox's origin and,
/// when given, a session's token.
async fn visitor_request(
    url: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("origin", WIDGET_ORIGIN)
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

const WIDGET_ORIGIN: &str = "https://shop.example.com";

/// A visitor's body for one widget endpoint: arbitrary bytes, any JSON, or the endpoint's own
/// request with values replaced.
fn visitor_payload(sample: Value) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        4 => mutated(sample).prop_map(|v| v.to_string().into_bytes()),
    ]
}

#[tokio::test]
async fn widget_visitor_endpoints_never_answer_5xx_and_keep_what_they_take() {
    let server = TestServer::start().await;
    let request = json!({"name": "Website", "channel": "webchat", "connector": {
        "kind": "widget", "allowed_origins": [WIDGET_ORIGIN]
    }});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let api = format!("{}/api/v1/widget/{}", server.base, inbox.inbox.id);
    let (status, session) =
        visitor_request(&format!("{api}/session"), None, "application/json", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["token"].as_str().expect("a token").to_owned();

    let first = visitor_request(
        &format!("{api}/messages"),
        Some(&token),
        "application/json",
        json!({"client_id": Id::new_v4(), "body": "Hello"}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let endpoints = [
        ("/session", json!({"token": token})),
        ("/messages", json!({"client_id": Id::new_v4(), "body": "Where is my order?"})),
        ("/seen", json!({"message_ids": [first.1["message_id"]], "state": "read"})),
        ("/email", json!({"email": "ann@shop.test"})),
    ];
    // Every body a send took, as the visitor sent it.
    let mut taken = vec!["Hello".to_owned()];
    for (path, sample) in endpoints {
        let url = format!("{api}{path}");
        let sample_client_id = sample.get("client_id").cloned();
        for body in std::iter::once(sample.to_string().into_bytes())
            .chain(values(visitor_payload(sample), HTTP_CASES))
        {
            // A send that kept the sample's `client_id` would only repeat the first: give it its own.
            let body = match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(mut fields))
                    if sample_client_id.is_some() && fields.get("client_id") == sample_client_id.as_ref() =>
                {
                    fields.insert("client_id".into(), json!(Id::new_v4()));
                    Value::Object(fields).to_string().into_bytes()
                }
                _ => body,
            };
            let (status, answer) =
                visitor_request(&url, Some(&token), "application/json", body.clone()).await;
            assert!(!status.is_server_error(), "{status} from {path}: {}", shown(&body));
            if path == "/messages" && status == StatusCode::OK && answer["created"] == json!(true) {
                let sent: Value = serde_json::from_slice(&body).expect("a body the server took is JSON");
                taken.push(sent["body"].as_str().expect("a text body").to_owned());
            }
            // A session's own endpoints refuse a token that is not one; a new session needs none.
            if path != "/session" {
                let (status, _) =
                    visitor_request(&url, Some("not-a-token"), "application/json", body.clone()).await;
                assert!(
                    status.is_client_error(),
                    "{status} from {path} with a forged token: {}",
                    shown(&body)
                );
            }
        }
        // New sessions are rate limited per address: let the limit pass before the next endpoint.
        server.clock.advance(10 * 60 * 1000);
    }
    // Any text as a message's body: what is taken is kept byte for byte, the rest refused clearly.
    for text in values(any::<String>(), HTTP_CASES) {
        let body = json!({"client_id": Id::new_v4(), "body": text}).to_string().into_bytes();
        let url = format!("{api}/messages");
        let (status, answer) = visitor_request(&url, Some(&token), "application/json", body.clone()).await;
        assert!(status == StatusCode::OK || status.is_client_error(), "{status} for {text:?}: {answer}");
        if status == StatusCode::OK {
            taken.push(text);
        }
    }
    assert!(taken.len() > HTTP_CASES / 2, "the bodies of any text are taken: {}", taken.len());

    // Files: any name, any declared type, any bytes.
    let files = (any::<String>(), "[a-z/+.;= -]{0,40}|.{0,40}", prop::collection::vec(any::<u8>(), 0..256));
    let mut files_taken = 0;
    for (name, content_type, bytes) in values(files, HTTP_CASES) {
        // A type reqwest itself can't put in a header is sent without one.
        let part = reqwest::multipart::Part::bytes(bytes.clone())
            .file_name(name.clone())
            .mime_str(&content_type)
            .unwrap_or_else(|_| reqwest::multipart::Part::bytes(bytes).file_name(name.clone()));
        let response = reqwest::Client::new()
            .post(format!("{api}/files?client_id={}", Id::new_v4()))
            .header("origin", WIDGET_ORIGIN)
            .bearer_auth(&token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("upload");
        assert!(
            !response.status().is_server_error(),
            "{} for {name:?} as {content_type:?}",
            response.status()
        );
        files_taken += usize::from(response.status() == StatusCode::OK);
    }
    assert!(files_taken > 0, "some of the files are taken");

    let response = reqwest::Client::new()
        .get(format!("{api}/messages"))
        .header("origin", WIDGET_ORIGIN)
        .bearer_auth(&token)
        .send()
        .await
        .expect("the thread");
    assert_eq!(response.status(), StatusCode::OK);
    let thread: Vec<Value> = response.json().await.expect("the thread");
    let bodies: Vec<&str> = thread.iter().filter_map(|m| m["body"].as_str()).collect();
    for body in &taken {
        assert!(bodies.contains(&body.as_str()), "a body the server took is kept byte for byte: {body:?}");
    }
    for file_name in thread.iter().flat_map(|m| m["attachments"].as_array().cloned().unwrap_or_default()) {
        let name = file_name["file_name"].as_str().expect("a file name");
        assert!(
            !name.trim().is_empty() && !name.contains(['/', '\\']) && !name.chars().any(char::is_control),
            "a stored file name is a plain name: {name:?}"
        );
    }
}
