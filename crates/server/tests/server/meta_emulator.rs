//! An emulator of the Messenger Platform's and Instagram Messaging's Graph endpoints on loopback,
//! answering with the documented shapes (`tests/fixtures/meta/`): `POST /{ver}/me/messages` as
//! JSON (a text) or multipart (a file as `filedata`), answering a `message_id` or a scripted
//! error (10/2018278 outside the window, 613 throttling…); `GET /{ver}/{id}` (the Page or the
//! Instagram account, for "test connection"); and a CDN serving customers' attachments by URL
//! (no token; a file can be made to have expired). Every Graph call must carry the Page token.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    extract::{FromRequest, Multipart, Path, Request, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

pub const TOKEN: &str = "EAAB-page-token";
pub const APP_SECRET: &str = "meta-emulator-app-secret";
pub const VERIFY_TOKEN: &str = "meta-verify-me";
pub const PAGE_ID: &str = "102290129340398";
pub const IG_ID: &str = "17841400123456789";

/// A fixture file's text, its account placeholders filled in (`CDN` is the emulator's CDN).
pub fn fixture(name: &str, cdn: &str) -> String {
    let path = format!("{}/tests/fixtures/meta/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("PAGE_ID", PAGE_ID)
        .replace("IG_ID", IG_ID)
        .replace("CDN/", &format!("{cdn}/cdn/"))
}

/// One call to `/me/messages`: the JSON body, or a multipart's fields (`filedata` as its file
/// name, content type and size).
#[derive(Debug, Clone)]
pub struct SendCall {
    pub body: Value,
    pub file: Option<(String, String, usize)>,
}

#[derive(Default)]
pub struct Recorded {
    pub sent: Vec<SendCall>,
    pub unauthorized: usize,
    /// CDN downloads per file name.
    pub downloads: HashMap<String, usize>,
    cdn: HashMap<String, (Vec<u8>, String)>,
    expired: Vec<String>,
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
    let body = json!({"error": {"message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException", "code": 190, "fbtrace_id": "A7"}});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn messages(State(emulator): State<Emulator>, request: Request) -> Response {
    if !authorized(request.headers(), &mut emulator.state.lock().expect("lock")) {
        return oauth_error();
    }
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/"));
    let call = if multipart {
        let Ok(mut form) = Multipart::from_request(request, &()).await else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        let (mut body, mut file) = (json!({}), None);
        while let Ok(Some(field)) = form.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "filedata" {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().unwrap_or_default().to_owned();
                let size = field.bytes().await.map(|b| b.len()).unwrap_or_default();
                file = Some((file_name, content_type, size));
            } else {
                let text = field.text().await.unwrap_or_default();
                // `recipient` and `message` are JSON in a form field, as the Send API takes them.
                body[name] = serde_json::from_str(&text).unwrap_or(Value::String(text));
            }
        }
        SendCall { body, file }
    } else {
        let Ok(Json(body)) = Json::<Value>::from_request(request, &()).await else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        SendCall { body, file: None }
    };
    let mut recorded = emulator.state.lock().expect("lock");
    let recipient = call.body["recipient"]["id"].clone();
    let valid_type = matches!(call.body["messaging_type"].as_str(), Some("RESPONSE" | "MESSAGE_TAG"));
    recorded.sent.push(call);
    if !recipient.is_string() || !valid_type {
        let body =
            json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    if let Some((status, answer)) = recorded.script.pop_front() {
        return (StatusCode::from_u16(status).expect("status"), Json(answer)).into_response();
    }
    recorded.next_id += 1;
    let mut answer: Value = serde_json::from_str(&fixture("send_success.json", "")).expect("json");
    answer["recipient_id"] = recipient;
    answer["message_id"] = json!(format!("m_EMULATED{}", recorded.next_id));
    Json(answer).into_response()
}

async fn account(
    State(emulator): State<Emulator>,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers, &mut emulator.state.lock().expect("lock")) {
        return oauth_error();
    }
    let name = match id.as_str() {
        PAGE_ID => "page.json",
        IG_ID => "instagram_account.json",
        _ => {
            let body = json!({"error": {"message": format!("(#100) Unsupported get request. Object with ID '{id}' does not exist"),
                "type": "GraphMethodException", "code": 100, "error_subcode": 33}});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let answer: Value = serde_json::from_str(&fixture(name, "")).expect("json");
    Json(answer).into_response()
}

async fn cdn(State(emulator): State<Emulator>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let mut recorded = emulator.state.lock().expect("lock");
    if headers.contains_key("authorization") {
        // No token goes to a CDN.
        recorded.unauthorized += 1;
    }
    *recorded.downloads.entry(name.clone()).or_default() += 1;
    if recorded.expired.contains(&name) {
        return (StatusCode::FORBIDDEN, "URL signature expired").into_response();
    }
    match recorded.cdn.get(&name) {
        Some((bytes, content_type)) => {
            ([(header::CONTENT_TYPE, content_type.clone())], Bytes::from(bytes.clone())).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Emulator {
    pub async fn start() -> Emulator {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let emulator = Emulator { base, state: Arc::default() };
        let app = Router::new()
            .route("/{version}/me/messages", post(messages))
            .route("/{version}/{id}", get(account))
            .route("/cdn/{name}", get(cdn))
            .with_state(emulator.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        emulator
    }

    pub fn recorded<T>(&self, read: impl FnOnce(&Recorded) -> T) -> T {
        read(&self.state.lock().expect("lock"))
    }

    /// A customer's file on the CDN, at `{base}/cdn/{name}`.
    pub fn add_file(&self, name: &str, bytes: &[u8], content_type: &str) {
        self.state
            .lock()
            .expect("lock")
            .cdn
            .insert(name.to_owned(), (bytes.to_vec(), content_type.to_owned()));
    }

    pub fn expire(&self, name: &str) {
        self.state.lock().expect("lock").expired.push(name.to_owned());
    }

    /// The next `/me/messages` calls answer with these fixtures (HTTP status, fixture file).
    pub fn script(&self, answers: &[(u16, &str)]) {
        let mut recorded = self.state.lock().expect("lock");
        for (status, name) in answers {
            recorded.script.push_back((*status, serde_json::from_str(&fixture(name, "")).expect("json")));
        }
    }

    /// The connector settings of an inbox of `kind` (`messenger`, `instagram`) on this emulator.
    pub fn connector(&self, kind: &str, human_agent: bool) -> Value {
        json!({
            "kind": kind,
            "account_id": if kind == "instagram" { IG_ID } else { PAGE_ID },
            "access_token": TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "human_agent": human_agent,
            "graph_base_url": self.base,
            "api_version": "v23.0",
        })
    }
}
