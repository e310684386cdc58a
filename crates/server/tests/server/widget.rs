//! The website chat widget's visitor endpoints (`crates/server/src/http/widget/`): sessions
//! started, resumed and refused, and deleted by their timer once expired; one visitor never seeing
//! another's conversation, notes or files; the embed check (CORS) for the inbox's allowed origins
//! only; the inbound path's deduplication and the channel's file limit; replies reaching the
//! visitor through the delivery job, then `delivered` and `read` from the page; typing and
//! replies on the live channel, also in order across two nodes (the visitor on one, the agent on
//! the other: PostgreSQL only, skipped saying so on SQLite); "leave your email" when no agent of
//! the inbox is online; new sessions rate limited; the settings checked.

use futures_util::SinkExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::harness::*;

const ORIGIN: &str = "https://shop.example.com";

struct Setup {
    server: TestServer,
    workspace: Workspace,
    inbox: Id,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let support = workspace.sara.agent.team_ids[0];
    let request = json!({"name": "Website", "channel": "webchat", "member_team_ids": [support], "connector": {
        "kind": "widget", "allowed_origins": [ORIGIN], "greeting": "Hi! Ask us anything.", "color": "#0f766e"
    }});
    let inbox: CreatedInbox =
        serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    Setup { server, workspace, inbox: inbox.inbox.id }
}

/// A visitor's browser: the page's origin, and the token once a session gave one.
struct Browser {
    api: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Setup {
    fn browser(&self) -> Browser {
        Browser {
            api: format!("{}/api/v1/widget/{}", self.server.base, self.inbox),
            token: None,
            client: reqwest::Client::new(),
        }
    }

    async fn visitor(&self) -> Browser {
        let mut browser = self.browser();
        let (status, session) = browser.post("/session", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        browser.token = Some(session["token"].as_str().expect("token").to_owned());
        browser
    }

    /// The conversation a visitor's message went to (as the admin sees it).
    async fn conversation_of(&self, message_id: &Value) -> Id {
        let id: Id = serde_json::from_value(message_id.clone()).expect("id");
        self.server.message(id).await.conversation_id
    }

    /// An agent's reply, once the delivery job has run it (the visitor may read it then).
    async fn reply(&self, conversation: Id, body: &str) -> Id {
        let (status, sent) = self.workspace.sara.reply(conversation, body).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let id: Id = serde_json::from_value(sent["message"]["id"].clone()).expect("id");
        self.server
            .until_message(id, "sent by the delivery job", 0, |m| m.delivery >= DeliveryState::Sent)
            .await;
        id
    }
}

impl Browser {
    async fn request(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.api)).header("origin", ORIGIN);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, None).await
    }

    async fn say(&self, body: &str) -> Value {
        let (status, sent) = self.post("/messages", json!({"client_id": Id::new_v4(), "body": body})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        sent["message_id"].clone()
    }

    async fn thread(&self) -> Vec<Value> {
        let (status, messages) = self.get("/messages").await;
        assert_eq!(status, StatusCode::OK, "{messages}");
        messages.as_array().expect("messages").clone()
    }

    async fn bodies(&self) -> Vec<String> {
        self.thread().await.iter().map(|m| m["body"].as_str().unwrap_or_default().to_owned()).collect()
    }

    async fn upload(
        &self,
        client_id: Id,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(content_type)
            .expect("mime");
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut request = self
            .client
            .post(format!("{}/files?client_id={client_id}", self.api))
            .header("origin", ORIGIN)
            .multipart(form);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("upload");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn a_visitor_resumes_their_session_and_a_wrong_or_expired_token_is_401() {
    let setup = setup().await;
    let mut visitor = setup.visitor().await;
    visitor.say("Hello, is my order shipped?").await;
    let token = visitor.token.clone().expect("token");

    // The same browser comes back: the same visitor, with the history.
    let mut again = setup.browser();
    let (status, session) = again.post("/session", json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["token"], json!(token));
    assert_eq!(session["greeting"], json!("Hi! Ask us anything."));
    assert_eq!(session["color"], json!("#0f766e"));
    again.token = Some(token.clone());
    assert_eq!(again.bodies().await, ["Hello, is my order shipped?"]);

    // A made-up token, or none, is 401.
    let (status, _) = again.post("/session", json!({"token": "0".repeat(64)})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    visitor.token = Some("f".repeat(64));
    assert_eq!(visitor.get("/messages").await.0, StatusCode::UNAUTHORIZED);
    visitor.token = None;
    assert_eq!(visitor.get("/messages").await.0, StatusCode::UNAUTHORIZED);

    // A session unused for more than 30 days is over.
    setup.server.clock.advance(31 * 24 * 3600 * 1000);
    let (status, body) = again.get("/messages").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = again.post("/session", json!({"token": token})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The visitors' sessions the server keeps for the inbox: the stored rows themselves, read from
/// the database of either backend.
fn stored_sessions(setup: &Setup) -> i64 {
    let inbox = setup.inbox.to_string();
    let sql = "SELECT count(*) FROM email_state WHERE inbox_id = $1 AND key LIKE 'widget:%'";
    match test_config(setup.server.data_dir.path()).backend {
        switchboard_server::Backend::Postgres { url } => {
            let url = url.expose().to_owned();
            // The blocking client runs its own runtime, so not on this test's thread.
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                client.query_one(sql, &[&inbox]).expect("count").get::<_, i64>(0)
            })
            .join()
            .expect("database thread")
        }
        _ => {
            let database = setup.server.data_dir.path().join("switchboard.db");
            let connection = rusqlite::Connection::open(database).expect("open");
            connection.query_row(sql, [&inbox], |row| row.get(0)).expect("count")
        }
    }
}

/// Waits (real time, for the timer loop's turn) until the inbox keeps `count` sessions.
async fn until_stored_sessions(setup: &Setup, count: i64, what: &str) {
    for _ in 0..200 {
        if stored_sessions(setup) == count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what}: {} sessions stored, not {count}", stored_sessions(setup));
}

#[tokio::test]
async fn an_expired_session_is_deleted_on_the_clock_and_a_session_in_use_is_kept() {
    const DAY: Millis = 24 * 3600 * 1000;
    let setup = setup().await;
    let old = setup.visitor().await;
    old.say("Hello from last month").await;
    setup.server.clock.advance(20 * DAY);
    let mut kept = setup.visitor().await;
    kept.say("Hello from today").await;
    assert_eq!(stored_sessions(&setup), 2);

    // Day 31: the first session has been idle for more than 30 days; the timer loop deletes it.
    setup.server.clock.advance(11 * DAY);
    until_stored_sessions(&setup, 1, "the idle session deleted").await;
    assert_eq!(old.get("/messages").await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = setup.browser().post("/session", json!({"token": old.token})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The other, 11 days idle, is untouched; the page coming back now moves its end to day 61.
    let (status, session) = setup.browser().post("/session", json!({"token": kept.token})).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(kept.bodies().await, ["Hello from today"]);

    // Day 55: past the second session's first end (day 50), but it was used on day 31.
    setup.server.clock.advance(24 * DAY);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the loop's turns
    assert_eq!(stored_sessions(&setup), 1, "a session in use is kept");
    let token = kept.token.take();
    let mut again = setup.browser();
    let (status, session) = again.post("/session", json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    again.token = token;
    assert_eq!(again.bodies().await, ["Hello from today"]);

    // Day 86: idle since day 55; gone too.
    setup.server.clock.advance(31 * DAY);
    until_stored_sessions(&setup, 0, "the second session deleted once idle").await;
    assert_eq!(again.get("/messages").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_visitor_sees_only_their_own_conversation_never_notes_or_another_visitor() {
    let setup = setup().await;
    let alice = setup.visitor().await;
    let bob = setup.visitor().await;
    let first = alice.say("Alice's question").await;
    bob.say("Bob's question").await;
    let (status, file) =
        alice.upload(Id::new_v4(), "receipt.txt", "text/plain", b"alice's receipt".to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let conversation = setup.conversation_of(&first).await;
    setup.reply(conversation, "Hi Alice, it shipped").await;
    let (status, note) = setup
        .workspace
        .sara
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "body": "internal: Alice is a VIP", "kind": "note"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{note}");

    let alice_thread = alice.thread().await;
    let bodies: Vec<&str> = alice_thread.iter().map(|m| m["body"].as_str().unwrap_or_default()).collect();
    assert_eq!(bodies, ["Alice's question", "", "Hi Alice, it shipped"], "no note, nothing of Bob's");
    assert_eq!(alice_thread[2]["from"], json!("agent"));
    assert!(alice_thread[2].get("sender").is_none(), "no agent data: {}", alice_thread[2]);
    assert_eq!(bob.bodies().await, ["Bob's question"]);

    // Alice's file: hers to download, not Bob's.
    let attachment = alice_thread[1]["attachments"][0]["id"].as_str().expect("attachment").to_owned();
    let (status, body) = alice.get(&format!("/files/{attachment}")).await;
    assert_eq!((status, body), (StatusCode::OK, json!("alice's receipt")));
    assert_eq!(bob.get(&format!("/files/{attachment}")).await.0, StatusCode::NOT_FOUND);

    // Bob can't move Alice's reply either.
    let reply = alice_thread[2]["id"].clone();
    let (status, seen) = bob.post("/seen", json!({"message_ids": [reply], "state": "read"})).await;
    assert_eq!((status, seen["moved"].clone()), (StatusCode::OK, json!(0)));

    // Bob's token on another widget inbox names nobody there.
    let other = json!({"name": "Other site", "channel": "webchat", "connector": {"kind": "widget", "allowed_origins": [ORIGIN]}});
    let other: CreatedInbox =
        serde_json::from_value(setup.server.admin.ok("/api/v1/inboxes", other).await).expect("inbox");
    let mut elsewhere = setup.browser();
    elsewhere.api = format!("{}/api/v1/widget/{}", setup.server.base, other.inbox.id);
    elsewhere.token = bob.token.clone();
    assert_eq!(elsewhere.get("/messages").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reply_reaches_the_visitor_through_the_delivery_job_then_is_delivered_and_read() {
    let setup = setup().await;
    let visitor = setup.visitor().await;
    let first = visitor.say("<b>bold?</b> <script>alert(1)</script>").await;
    let conversation = setup.conversation_of(&first).await;
    // What the visitor wrote is stored and shown as the text it is.
    assert_eq!(visitor.bodies().await, ["<b>bold?</b> <script>alert(1)</script>"]);

    let (status, sent) = setup.workspace.sara.reply(conversation, "On its way").await;
    assert_eq!(status, StatusCode::OK);
    let reply: Id = serde_json::from_value(sent["message"]["id"].clone()).expect("id");
    let message = setup.server.until_message(reply, "sent", 0, |m| m.delivery == DeliveryState::Sent).await;
    assert_eq!(message.failure, None);
    assert_eq!(visitor.thread().await[1]["delivery"], json!("sent"));

    let (_, seen) = visitor.post("/seen", json!({"message_ids": [reply], "state": "delivered"})).await;
    assert_eq!(seen["moved"], json!(1));
    assert_eq!(setup.server.message(reply).await.delivery, DeliveryState::Delivered);
    let (_, seen) = visitor.post("/seen", json!({"message_ids": [reply], "state": "read"})).await;
    assert_eq!(seen["moved"], json!(1));
    // Forward only: a late "delivered" moves nothing.
    let (_, seen) = visitor.post("/seen", json!({"message_ids": [reply], "state": "delivered"})).await;
    assert_eq!(seen["moved"], json!(0));
    assert_eq!(setup.server.message(reply).await.delivery, DeliveryState::Read);
    let (status, _) = visitor.post("/seen", json!({"message_ids": [reply], "state": "failed"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn only_the_inboxs_allowed_origins_may_use_the_widget() {
    let setup = setup().await;
    let client = reqwest::Client::new();
    let session = format!("{}/api/v1/widget/{}/session", setup.server.base, setup.inbox);

    // The preflight of an allowed origin is answered, naming it.
    let preflight = client
        .request(reqwest::Method::OPTIONS, &session)
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], ORIGIN);
    assert!(preflight.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .contains("authorization"));

    // Another site is refused before anything happens, with no CORS header.
    for origin in ["https://evil.example", "http://shop.example.com", "null"] {
        let refused = client
            .request(reqwest::Method::OPTIONS, &session)
            .header("origin", origin)
            .send()
            .await
            .expect("preflight");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(refused.headers().get("access-control-allow-origin").is_none());
        let refused =
            client.post(&session).header("origin", origin).json(&json!({})).send().await.expect("post");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    // The allowed one gets its answer with the header.
    let allowed = client.post(&session).header("origin", ORIGIN).json(&json!({})).send().await.expect("post");
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["access-control-allow-origin"], ORIGIN);

    // The script: JavaScript for this inbox, cached, from anywhere; none for an unknown inbox or one
    // that is not a widget.
    let script =
        client.get(format!("{}/widget/{}.js", setup.server.base, setup.inbox)).send().await.expect("script");
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.headers()["cache-control"].to_str().expect("ascii").contains("max-age"));
    let text = script.text().await.expect("text");
    assert!(text.contains(&setup.inbox.to_string()) && !text.contains("__SWITCHBOARD_INBOX__"));
    assert!(!text.contains("innerHTML"), "the widget never renders HTML from messages");
    for path in
        [format!("/widget/{}.js", Id::new_v4()), format!("/widget/{}.js", setup.workspace.whatsapp.inbox.id)]
    {
        let missing = client.get(format!("{}{path}", setup.server.base)).send().await.expect("script");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_message_is_stored_once_per_client_id_and_files_keep_the_channels_limit() {
    let setup = setup().await;
    let visitor = setup.visitor().await;
    let client_id = Id::new_v4();
    let (_, first) = visitor.post("/messages", json!({"client_id": client_id, "body": "once"})).await;
    let (_, again) = visitor.post("/messages", json!({"client_id": client_id, "body": "once"})).await;
    assert_eq!(first["created"], json!(true));
    assert_eq!(
        (again["created"].clone(), again["message_id"].clone()),
        (json!(false), first["message_id"].clone())
    );
    assert_eq!(visitor.bodies().await, ["once"]);
    let (status, _) = visitor.post("/messages", json!({"client_id": Id::new_v4(), "body": "  "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let png = vec![0x89, b'P', b'N', b'G', 1, 2, 3];
    let upload_id = Id::new_v4();
    let (status, uploaded) = visitor.upload(upload_id, "photo.png", "image/png", png.clone()).await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let (_, repeated) = visitor.upload(upload_id, "photo.png", "image/png", png).await;
    assert_eq!(repeated["created"], json!(false));
    let thread = visitor.thread().await;
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[1]["attachments"][0]["file_name"], json!("photo.png"));
    assert_eq!(thread[1]["attachments"][0]["size"], json!(7));

    let limit = Channel::Webchat.attachment_limit() as usize;
    let (status, refused) =
        visitor.upload(Id::new_v4(), "huge.bin", "application/octet-stream", vec![0; limit + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{refused}");
    assert_eq!(visitor.thread().await.len(), 2);
}

/// The next SSE event of `response`, as (event, data).
async fn next_event(response: &mut reqwest::Response, buffer: &mut String) -> (String, Value) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "message".to_owned();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim());
                }
            }
            if data.is_empty() {
                continue;
            }
            return (event, serde_json::from_str(&data).expect("event data"));
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk())
            .await
            .expect("the live channel went silent for 10 s")
            .expect("chunk")
            .expect("the live channel ended");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_live_channel_carries_replies_typing_and_presence_and_nothing_of_others() {
    let setup = setup().await;
    let visitor = setup.visitor().await;
    let other = setup.visitor().await;
    let first = visitor.say("Anyone there?").await;
    other.say("Someone else's question").await;
    let conversation = setup.conversation_of(&first).await;

    let mut live = visitor
        .client
        .get(format!("{}/live", visitor.api))
        .header("origin", ORIGIN)
        .bearer_auth(visitor.token.as_deref().expect("token"))
        .send()
        .await
        .expect("live");
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data["body"].clone()), ("message", json!("Anyone there?")));
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("presence", json!({"agents_online": false})));

    // Sara (a member) comes online and types in the visitor's conversation.
    let head = setup.server.head().await;
    let mut sara = open_stream(&setup.workspace.sara, head).await;
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("presence", json!({"agents_online": true})));
    let frame = json!({"type": "typing", "conversation_id": conversation, "active": true});
    sara.send(WsMessage::Text(frame.to_string().into())).await.expect("typing");
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("typing", json!({"active": true})));

    // Her reply arrives once the delivery job has sent it; another visitor's traffic never does.
    other.say("More from someone else").await;
    let reply = setup.reply(conversation, "Yes, Sara here").await;
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!(event, "message");
    assert_eq!(
        (data["id"].clone(), data["body"].clone(), data["from"].clone()),
        (json!(reply), json!("Yes, Sara here"), json!("agent"))
    );
    assert!(!buffer.contains("someone else"), "{buffer}");

    // Its state moving is sent again.
    visitor.post("/seen", json!({"message_ids": [reply], "state": "read"})).await;
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data["delivery"].clone()), ("message", json!("read")));

    drop(sara);
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("presence", json!({"agents_online": false})));
}

/// A visitor's live channel open on `browser`'s node.
async fn open_live(browser: &Browser) -> reqwest::Response {
    let live = browser
        .client
        .get(format!("{}/live", browser.api))
        .header("origin", ORIGIN)
        .bearer_auth(browser.token.as_deref().expect("token"))
        .send()
        .await
        .expect("live");
    assert_eq!(live.status(), StatusCode::OK);
    live
}

#[tokio::test]
async fn the_live_channel_on_one_node_carries_what_agents_do_on_another_in_order() {
    let url = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").unwrap_or_default();
    if !url.starts_with("postgres") {
        eprintln!("skipping widget::the_live_channel_on_one_node…: two nodes need PostgreSQL");
        return;
    }
    let setup = setup().await;
    let node = setup.server.second_node(|_| {}).await;
    // The visitor's page talks to node B only; Sara's app to node A.
    let mut visitor = setup.visitor().await;
    visitor.api = format!("{}/api/v1/widget/{}", node.base, setup.inbox);
    let first = visitor.say("Anyone there? (through node B)").await;
    let conversation = setup.conversation_of(&first).await;
    let mut live = open_live(&visitor).await;
    let mut buffer = String::new();
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data["body"].clone()), ("message", json!("Anyone there? (through node B)")));
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("presence", json!({"agents_online": false})));

    let head = setup.server.head().await;
    let mut sara = open_stream(&setup.workspace.sara, head).await;
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("presence", json!({"agents_online": true})), "Sara online on A");

    // On node A: typing, a reply, typing stops, a second reply. Node B's visitor sees exactly
    // that sequence.
    let typing = |active: bool| {
        let frame = json!({"type": "typing", "conversation_id": conversation, "active": active});
        WsMessage::Text(frame.to_string().into())
    };
    sara.send(typing(true)).await.expect("typing");
    let (event, data) = next_event(&mut live, &mut buffer).await;
    assert_eq!((event.as_str(), data), ("typing", json!({"active": true})));
    let one = setup.reply(conversation, "Yes, Sara here (node A)").await;
    sara.send(typing(false)).await.expect("typing stops");
    let two = setup.reply(conversation, "What is your order number?").await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (event, data) = next_event(&mut live, &mut buffer).await;
        seen.push(match event.as_str() {
            "message" => json!({"message": data["id"], "body": data["body"], "from": data["from"]}),
            _ => json!({ event: data }),
        });
    }
    assert_eq!(
        seen,
        [
            json!({"message": one, "body": "Yes, Sara here (node A)", "from": "agent"}),
            json!({"typing": {"active": false}}),
            json!({"message": two, "body": "What is your order number?", "from": "agent"}),
        ],
        "node B's visitor gets node A's replies and typing in the order they happened"
    );

    // Reported read through node B: the state moves for Sara on node A too.
    visitor.post("/seen", json!({"message_ids": [one, two], "state": "read"})).await;
    setup.server.until_message(two, "read by the visitor", 0, |m| m.delivery == DeliveryState::Read).await;
}

#[tokio::test]
async fn with_nobody_online_the_visitor_leaves_an_email_on_their_contact() {
    let setup = setup().await;
    let mut visitor = setup.browser();
    let (_, session) = visitor.post("/session", json!({})).await;
    assert_eq!(session["agents_online"], json!(false));
    assert_eq!(session["email"], Value::Null);
    let token = session["token"].as_str().expect("token").to_owned();
    visitor.token = Some(token.clone());

    let (status, _) = visitor.post("/email", json!({"email": "not an address"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = visitor.post("/email", json!({"email": "dana@example.org"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let first = visitor.say("Please write back").await;

    setup.conversation_of(&first).await;
    let contacts = setup.server.admin.bootstrap().await;
    let contact = apply(&contacts)
        .into_iter()
        .find(|((kind, _), value)| {
            *kind == EntityKind::Contact && value["email"] == json!("dana@example.org")
        })
        .expect("the contact carries the email");
    assert_eq!(contact.1["identities"][0]["channel"], json!("webchat"));

    // Resuming says what was left; with a member online, the form is not offered.
    let _sara = open_stream(&setup.workspace.sara, setup.server.head().await).await;
    let mut online = false;
    for _ in 0..100 {
        let (_, session) = setup.browser().post("/session", json!({"token": token})).await;
        assert_eq!(session["email"], json!("dana@example.org"));
        if session["agents_online"] == json!(true) {
            online = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(online, "a member's open stream counts as online");
}

#[tokio::test]
async fn new_sessions_are_limited_per_address_and_the_limit_passes() {
    let setup = setup().await;
    let browser = setup.browser();
    for _ in 0..20 {
        assert_eq!(browser.post("/session", json!({})).await.0, StatusCode::OK);
    }
    let (status, body) = browser.post("/session", json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    setup.server.clock.advance(10 * 60 * 1000);
    assert_eq!(browser.post("/session", json!({})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn widget_settings_are_checked_and_read_back_with_the_script() {
    let setup = setup().await;
    let admin = &setup.server.admin;
    for (channel, connector, why) in [
        ("whatsapp", json!({"kind": "widget", "allowed_origins": [ORIGIN]}), "webchat"),
        ("webchat", json!({"kind": "widget", "allowed_origins": []}), "allowed_origins"),
        ("webchat", json!({"kind": "widget", "allowed_origins": ["https://a.example/path"]}), "origin"),
        ("webchat", json!({"kind": "widget", "allowed_origins": [ORIGIN], "color": "teal"}), "#rrggbb"),
    ] {
        let (status, body) = admin
            .post("/api/v1/inboxes", json!({"name": "Bad", "channel": channel, "connector": connector}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{connector}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains(why), "{body}");
    }
    let (status, info) = admin.get(&format!("/api/v1/inboxes/{}/connector", setup.inbox)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["kind"], json!("widget"));
    assert_eq!(info["details"]["allowed_origins"], json!([ORIGIN]));
    assert_eq!(info["details"]["script_path"], json!(format!("/widget/{}.js", setup.inbox)));
    let (_, test) = admin.post(&format!("/api/v1/inboxes/{}/connector/test", setup.inbox), json!({})).await;
    assert_eq!(test["ok"], json!(true), "{test}");
}
