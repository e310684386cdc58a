//! An emulator of the WhatsApp Cloud API's Graph endpoints on loopback, answering with the
//! documented shapes (`tests/fixtures/whatsapp/`): `POST /{ver}/{phone}/messages` (a wamid, or a
//! scripted error such as 130429 or 131047), `POST /{ver}/{phone}/media` (multipart upload),
//! `GET /{ver}/{media_id}` (a short-lived URL) and the URL itself (bytes; a URL can be made to
//! expire after its first use). Every call must carry the bearer token. It records what it got.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    extract::{Multipart, Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "EAAG-emulator-token";
pub const APP_SECRET: &str = "emulator-app-secret";
pub const VERIFY_TOKEN: &str = "meatyhamhock";
pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture JSON")
}

/// A file the emulator holds, as Meta holds a customer's media.
#[derive(Clone)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime_type: String,
    /// What `file_size` says (defaults to the real size).
    pub declared_size: Option<u64>,
}

#[derive(Default)]
pub struct Recorded {
    /// Bodies POSTed to `/messages`, in order.
    pub sent: Vec<Value>,
    /// (type, file name, size) of each upload.
    pub uploads: Vec<(String, String, usize)>,
    /// `GET /{media_id}` calls per media id.
    pub url_requests: HashMap<String, usize>,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: usize,
    media: HashMap<String, Media>,
    /// Media whose first URL expires before it is used.
    expiring: HashSet<String>,
    /// Answers for the next `/messages` calls (status, body); then success.
    script: VecDeque<(u16, Value)>,
    next_id: usize,
}

#[derive(Clone)]
pub struct Emulator {
    pub base: String,
    state: Arc<Mutex<Recorded>>,
}

fn authorized(headers: &HeaderMap, recorded: &mut Recorded) -> bool {
    let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"));
    if !ok {
        recorded.unauthorized += 1;
    }
    ok
}

fn oauth_error() -> Response {
    let body =
        json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn messages(
    State(emulator): State<Emulator>,
    Path((_version, _phone)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&headers, &mut recorded) {
        return oauth_error();
    }
    recorded.sent.push(body.clone());
    if let Some((status, answer)) = recorded.script.pop_front() {
        return (StatusCode::from_u16(status).expect("status"), Json(answer)).into_response();
    }
    recorded.next_id += 1;
    let mut answer = fixture_json("send_success.json");
    answer["contacts"][0]["input"] = body["to"].clone();
    answer["messages"][0]["id"] = json!(format!("wamid.EMULATED{}", recorded.next_id));
    Json(answer).into_response()
}

async fn upload(
    State(emulator): State<Emulator>,
    Path((_version, _phone)): Path<(String, String)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    if !authorized(&headers, &mut emulator.state.lock().expect("lock")) {
        return oauth_error();
    }
    let (mut kind, mut name, mut size, mut product) = (String::new(), String::new(), 0, String::new());
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            "type" => kind = field.text().await.unwrap_or_default(),
            "messaging_product" => product = field.text().await.unwrap_or_default(),
            "file" => {
                name = field.file_name().unwrap_or_default().to_owned();
                size = field.bytes().await.map(|b| b.len()).unwrap_or_default();
            }
            _ => {}
        }
    }
    if product != "whatsapp" || size == 0 {
        let body =
            json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let mut recorded = emulator.state.lock().expect("lock");
    recorded.uploads.push((kind, name, size));
    recorded.next_id += 1;
    Json(json!({"id": format!("uploaded-{}", recorded.next_id)})).into_response()
}

async fn media_url(
    State(emulator): State<Emulator>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&headers, &mut recorded) {
        return oauth_error();
    }
    if media_id == PHONE_NUMBER_ID {
        // `GET /{phone_number_id}`: the number's profile (an admin's "test connection").
        return Json(fixture_json("phone_number.json")).into_response();
    }
    let Some(media) = recorded.media.get(&media_id).cloned() else {
        let body =
            json!({"error": {"message": "(#100) Invalid media id", "type": "OAuthException", "code": 100}});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let count = recorded.url_requests.entry(media_id.clone()).or_default();
    *count += 1;
    let mut answer = fixture_json("media_url.json");
    answer["url"] = json!(format!("{}/lookaside/{media_id}/{count}", emulator.base));
    answer["mime_type"] = json!(media.mime_type);
    answer["sha256"] = json!(hex::encode(Sha256::digest(&media.bytes)));
    answer["file_size"] = json!(media.declared_size.unwrap_or(media.bytes.len() as u64).to_string());
    answer["id"] = json!(media_id);
    Json(answer).into_response()
}

async fn lookaside(
    State(emulator): State<Emulator>,
    Path((media_id, n)): Path<(String, usize)>,
    headers: HeaderMap,
) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if !authorized(&headers, &mut recorded) {
        return oauth_error();
    }
    // A URL lives five minutes: the first one of an expiring file is already dead.
    if recorded.expiring.contains(&media_id) && n == 1 {
        return (StatusCode::NOT_FOUND, "URL signature expired").into_response();
    }
    match recorded.media.get(&media_id) {
        Some(media) => Bytes::from(media.bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Emulator {
    pub async fn start() -> Emulator {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let emulator = Emulator { base, state: Arc::default() };
        let app = Router::new()
            .route("/{version}/{phone}/messages", post(messages))
            .route("/{version}/{phone}/media", post(upload))
            .route("/{version}/{media_id}", get(media_url))
            .route("/lookaside/{media_id}/{n}", get(lookaside))
            .with_state(emulator.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        emulator
    }

    pub fn recorded<T>(&self, read: impl FnOnce(&Recorded) -> T) -> T {
        read(&self.state.lock().expect("lock"))
    }

    pub fn add_media(&self, id: &str, media: Media) {
        self.state.lock().expect("lock").media.insert(id.to_owned(), media);
    }

    pub fn expire_first_url(&self, id: &str) {
        self.state.lock().expect("lock").expiring.insert(id.to_owned());
    }

    /// The next `/messages` calls answer with these fixtures (HTTP status, fixture file).
    pub fn script(&self, answers: &[(u16, &str)]) {
        let mut recorded = self.state.lock().expect("lock");
        for (status, name) in answers {
            recorded.script.push_back((*status, fixture_json(name)));
        }
    }

    /// The connector settings of an inbox that talks to this emulator.
    pub fn connector(&self) -> Value {
        json!({
            "kind": "whatsapp",
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "graph_base_url": self.base,
            "api_version": "v23.0",
        })
    }
}

/// `X-Hub-Signature-256` of `body` under `secret`, as Meta signs.
pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    crate::harness::sign(secret, body)
}
