//! An emulator of the Telegram Bot API on loopback, answering with the documented shapes
//! (`tests/fixtures/telegram/`): `sendMessage` (JSON), `sendPhoto` and `sendDocument`
//! (multipart), `getFile` and the file URL `/file/bot<token>/<file_path>`. A request for another
//! bot token is answered 401 as Telegram does. The send methods can be scripted to answer an error
//! (a 429 with `retry_after`, a 403 for a blocked user). It records what it got.
//!
//! Long polling: `getUpdates` answers the queued updates at or above its `offset` (confirming,
//! that is forgetting, those below), 409 while a webhook is set (`set_webhook`) until
//! `deleteWebhook`, and can be scripted (`script_polls`) like the send methods. With `hold` set, a
//! poll with nothing to answer is held open that long, as Telegram holds one for its `timeout`;
//! a poll arriving while another is open counts as a conflict (Telegram answers one of the two
//! 409 "terminated by other getUpdates request").
//!
//! `setWebhook` is recorded (its `url`, `secret_token` and `allowed_updates`) and sets the webhook;
//! a URL that is not `https://` is refused as Telegram refuses it (400 "bad webhook").

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    extract::{Multipart, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

pub const TOKEN: &str = "7012345678:AAEmulatorTokenForSwitchboardTests";
pub const SECRET: &str = "emulator-webhook-secret_1";

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/telegram/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture JSON")
}

/// One call to a send method: its method, and its fields (for a multipart one, the file's
/// `file_name`, `content_type` and `size` beside `chat_id` and `caption`).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub fields: Value,
}

#[derive(Default)]
pub struct Recorded {
    pub sent: Vec<Call>,
    /// `getFile` calls, by file id.
    pub get_file: Vec<String>,
    /// Requests refused for another bot token.
    pub unauthorized: usize,
    /// The `offset` of each `getUpdates` call (`None`: none given).
    pub polls: Vec<Option<i64>>,
    /// `deleteWebhook` calls.
    pub webhook_deletes: usize,
    /// `setWebhook` calls: what each asked for (refused ones too).
    pub webhooks: Vec<Value>,
    /// Polls that arrived while another was open (two pollers on one bot).
    pub conflicts: usize,
    /// Whether a webhook is set (then `getUpdates` answers 409).
    webhook_set: bool,
    poll_script: VecDeque<(u16, Value)>,
    hold: std::time::Duration,
    /// Send calls are recorded and then never answered (a provider that took the message while
    /// the sender died waiting).
    hang_sends: bool,
    open_polls: usize,
    /// Updates waiting for `getUpdates`, dropped once an offset above them confirms them.
    updates: Vec<Value>,
    /// file id → (file_path, bytes).
    files: HashMap<String, (String, Vec<u8>)>,
    script: VecDeque<(u16, Value)>,
    next_id: i64,
}

#[derive(Clone)]
pub struct Emulator {
    pub base: String,
    state: Arc<Mutex<Recorded>>,
    /// Set to stop serving (`stop`): the Bot API can't be reached any more.
    stopped: Arc<tokio::sync::watch::Sender<bool>>,
}

fn authorized(bot: &str, recorded: &mut Recorded) -> bool {
    let ok = bot == format!("bot{TOKEN}");
    if !ok {
        recorded.unauthorized += 1;
    }
    ok
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})))
        .into_response()
}

/// The scripted answer, or a `Message` as `sendMessage`'s fixture shapes it.
fn answer(recorded: &mut Recorded, call: Call) -> Response {
    let chat = call.fields["chat_id"].clone();
    let text = call.fields.get("text").or(call.fields.get("caption")).cloned();
    recorded.sent.push(call);
    if let Some((status, body)) = recorded.script.pop_front() {
        return (StatusCode::from_u16(status).expect("status"), Json(body)).into_response();
    }
    recorded.next_id += 1;
    let mut body = fixture_json("send_message.json");
    body["result"]["message_id"] = json!(2000 + recorded.next_id);
    body["result"]["chat"]["id"] =
        chat.as_str().and_then(|c| c.parse::<i64>().ok()).map_or(chat, |c| json!(c));
    match text {
        Some(text) => body["result"]["text"] = text,
        None => {
            body["result"].as_object_mut().expect("result").remove("text");
        }
    }
    Json(body).into_response()
}

async fn send_message(
    State(emulator): State<Emulator>,
    Path(bot): Path<String>,
    Json(fields): Json<Value>,
) -> Response {
    let hang = {
        let mut recorded = emulator.state.lock().expect("lock");
        recorded.hang_sends && {
            recorded.sent.push(Call { method: "sendMessage".into(), fields: fields.clone() });
            true
        }
    };
    if hang {
        return std::future::pending().await;
    }
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&bot, &mut recorded) {
        return unauthorized();
    }
    let text = fields["text"].as_str().unwrap_or_default();
    if text.is_empty() || text.chars().count() > 4096 || fields["chat_id"].is_null() {
        let body =
            json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    answer(&mut recorded, Call { method: "sendMessage".into(), fields })
}

async fn send_file(
    emulator: Emulator,
    bot: String,
    method: &str,
    file_field: &str,
    mut form: Multipart,
) -> Response {
    if !authorized(&bot, &mut emulator.state.lock().expect("lock")) {
        return unauthorized();
    }
    let mut fields = json!({});
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            fields["file_name"] = json!(field.file_name().unwrap_or_default());
            fields["content_type"] = json!(field.content_type().unwrap_or_default());
            fields["size"] = json!(field.bytes().await.map(|b| b.len()).unwrap_or_default());
        } else {
            fields[name] = json!(field.text().await.unwrap_or_default());
        }
    }
    if fields["size"].as_u64().unwrap_or(0) == 0 || fields["chat_id"].is_null() {
        let body = json!({"ok": false, "error_code": 400, "description": format!("Bad Request: there is no {file_field} in the request")});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    answer(&mut emulator.state.lock().expect("lock"), Call { method: method.into(), fields })
}

async fn send_photo(State(emulator): State<Emulator>, Path(bot): Path<String>, form: Multipart) -> Response {
    send_file(emulator, bot, "sendPhoto", "photo", form).await
}

async fn send_document(
    State(emulator): State<Emulator>,
    Path(bot): Path<String>,
    form: Multipart,
) -> Response {
    send_file(emulator, bot, "sendDocument", "document", form).await
}

async fn get_file(
    State(emulator): State<Emulator>,
    Path(bot): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&bot, &mut recorded) {
        return unauthorized();
    }
    let file_id = query.get("file_id").cloned().unwrap_or_default();
    recorded.get_file.push(file_id.clone());
    let Some((path, bytes)) = recorded.files.get(&file_id) else {
        let body = json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let mut body = fixture_json("get_file.json");
    body["result"]["file_id"] = json!(file_id);
    body["result"]["file_path"] = json!(path);
    body["result"]["file_size"] = json!(bytes.len());
    Json(body).into_response()
}

async fn file(State(emulator): State<Emulator>, Path((bot, path)): Path<(String, String)>) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&bot, &mut recorded) {
        return unauthorized();
    }
    match recorded.files.values().find(|(p, _)| *p == path) {
        Some((_, bytes)) => Bytes::from(bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `getMe`: the bot itself (an admin's "test connection").
async fn get_me(State(emulator): State<Emulator>, Path(bot): Path<String>) -> Response {
    if !authorized(&bot, &mut emulator.state.lock().expect("lock")) {
        return unauthorized();
    }
    Json(fixture_json("get_me.json")).into_response()
}

/// `getUpdates`: an offset confirms (forgets) every update below it; the rest are answered, at
/// most `limit` (100) of them (see the module's doc for webhooks, scripts and holding).
async fn get_updates(
    State(emulator): State<Emulator>,
    Path(bot): Path<String>,
    Json(request): Json<Value>,
) -> Response {
    let offset = request["offset"].as_i64();
    let limit = request["limit"].as_u64().unwrap_or(100) as usize;
    let answer = |recorded: &mut Recorded| {
        if let Some(offset) = offset {
            recorded.updates.retain(|u| u["update_id"].as_i64().unwrap_or(i64::MAX) >= offset);
        }
        let mut body = fixture_json("get_updates.json");
        body["result"] = json!(recorded.updates.iter().take(limit).cloned().collect::<Vec<Value>>());
        Json(body).into_response()
    };
    let hold = {
        let mut recorded = emulator.state.lock().expect("lock");
        if !authorized(&bot, &mut recorded) {
            return unauthorized();
        }
        recorded.polls.push(offset);
        if recorded.webhook_set {
            let body = fixture_json("error_409_webhook_active.json");
            return (StatusCode::CONFLICT, Json(body)).into_response();
        }
        if let Some((status, body)) = recorded.poll_script.pop_front() {
            return (StatusCode::from_u16(status).expect("status"), Json(body)).into_response();
        }
        if recorded.open_polls > 0 {
            recorded.conflicts += 1;
        }
        let waiting =
            recorded.updates.iter().any(|u| offset.is_none_or(|o| u["update_id"].as_i64() >= Some(o)));
        if waiting || recorded.hold.is_zero() || request["timeout"].as_u64() == Some(0) {
            return answer(&mut recorded);
        }
        recorded.open_polls += 1;
        recorded.hold
    };
    tokio::time::sleep(hold).await;
    let mut recorded = emulator.state.lock().expect("lock");
    recorded.open_polls -= 1;
    answer(&mut recorded)
}

/// `deleteWebhook`: no webhook any more (answered `true` whether one was set or not).
async fn delete_webhook(State(emulator): State<Emulator>, Path(bot): Path<String>) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&bot, &mut recorded) {
        return unauthorized();
    }
    recorded.webhook_deletes += 1;
    recorded.webhook_set = false;
    Json(fixture_json("delete_webhook.json")).into_response()
}

/// `setWebhook`: an `https://` URL sets the webhook (then `getUpdates` answers 409); any other
/// is refused with Telegram's 400.
async fn set_webhook(
    State(emulator): State<Emulator>,
    Path(bot): Path<String>,
    Json(request): Json<Value>,
) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&bot, &mut recorded) {
        return unauthorized();
    }
    recorded.webhooks.push(request.clone());
    if !request["url"].as_str().is_some_and(|url| url.starts_with("https://")) {
        return (StatusCode::BAD_REQUEST, Json(fixture_json("error_400_bad_webhook.json"))).into_response();
    }
    recorded.webhook_set = true;
    Json(fixture_json("set_webhook.json")).into_response()
}

impl Emulator {
    pub async fn start() -> Emulator {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stopped, mut stop) = tokio::sync::watch::channel(false);
        let emulator = Emulator { base, state: Arc::default(), stopped: Arc::new(stopped) };
        let app = Router::new()
            .route("/{bot}/sendMessage", post(send_message))
            .route("/{bot}/sendPhoto", post(send_photo))
            .route("/{bot}/sendDocument", post(send_document))
            .route("/{bot}/getFile", get(get_file))
            .route("/{bot}/getMe", get(get_me))
            .route("/{bot}/getUpdates", post(get_updates))
            .route("/{bot}/deleteWebhook", post(delete_webhook))
            .route("/{bot}/setWebhook", post(set_webhook))
            .route("/file/{bot}/{*path}", get(file))
            .with_state(emulator.clone());
        let stopping = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stopping).await });
        emulator
    }

    /// Stops serving: the port is closed and open connections end, so any further call finds
    /// the Bot API unreachable.
    pub async fn stop(&self) {
        self.stopped.send_replace(true);
        let address = self.base.trim_start_matches("http://").to_owned();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&address).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the emulator still accepts connections");
    }

    pub fn recorded<T>(&self, read: impl FnOnce(&Recorded) -> T) -> T {
        read(&self.state.lock().expect("lock"))
    }

    /// A file Telegram holds for the bot, as a customer sent it.
    pub fn add_file(&self, file_id: &str, path: &str, bytes: &[u8]) {
        self.state.lock().expect("lock").files.insert(file_id.to_owned(), (path.to_owned(), bytes.to_vec()));
    }

    /// An update waiting for `getUpdates`.
    pub fn queue_update(&self, update: Value) {
        self.state.lock().expect("lock").updates.push(update);
    }

    /// The next send calls answer with these fixtures (HTTP status, fixture file); then success.
    pub fn script(&self, answers: &[(u16, &str)]) {
        let mut recorded = self.state.lock().expect("lock");
        for (status, name) in answers {
            recorded.script.push_back((*status, fixture_json(name)));
        }
    }

    /// A webhook is set for the bot (as `setWebhook` would): `getUpdates` fails until deleted.
    pub fn set_webhook(&self) {
        self.state.lock().expect("lock").webhook_set = true;
    }

    /// `sendMessage` calls are recorded, then never answered.
    pub fn hang_sends(&self) {
        self.state.lock().expect("lock").hang_sends = true;
    }

    /// Polls with nothing to answer are held open this long (real time).
    pub fn hold_polls(&self, hold: std::time::Duration) {
        self.state.lock().expect("lock").hold = hold;
    }

    /// The next `getUpdates` calls answer with these fixtures (HTTP status, fixture file).
    pub fn script_polls(&self, answers: &[(u16, &str)]) {
        let mut recorded = self.state.lock().expect("lock");
        for (status, name) in answers {
            recorded.poll_script.push_back((*status, fixture_json(name)));
        }
    }

    /// The connector settings of an inbox whose bot long-polls this emulator.
    pub fn polling_connector(&self) -> Value {
        json!({"kind": "telegram", "bot_token": TOKEN, "api_base_url": self.base, "mode": "polling"})
    }

    /// The connector settings of an inbox whose bot talks to this emulator.
    pub fn connector(&self) -> Value {
        json!({"kind": "telegram", "bot_token": TOKEN, "webhook_secret": SECRET, "api_base_url": self.base})
    }
}
