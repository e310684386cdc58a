//! Starting a server for a test, signing in, and the workspace most tests share.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::{init_data_dir, launch, Backend, DatabaseUrl, ServerConfig, ShiftedClock};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";

/// A server configuration on `data_dir` with the backend these tests run against: the one
/// `SWITCHBOARD_TEST_DATABASE_URL` names, or embedded SQLite in the data directory. Every test
/// goes through here, so the whole suite is a conformance run of whichever backend is chosen.
///
/// With PostgreSQL the URL is an admin connection (`scripts/with-postgres.sh` sets it up), and each
/// data directory gets a database of its own, created on first use: tests never share data, and a
/// restarted server on the same data directory finds its database again.
pub fn test_config(data_dir: &std::path::Path) -> ServerConfig {
    let url = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").ok();
    let mut config = ServerConfig::new(data_dir);
    config.backend =
        Backend::from_url(url.as_deref()).expect("SWITCHBOARD_TEST_DATABASE_URL names a backend");
    if let Backend::Postgres { url } = &config.backend {
        let database = database_for(url.expose(), data_dir);
        config.backend = Backend::Postgres { url: DatabaseUrl::new(database) };
    }
    config
}

/// The URL of the test database that belongs to `data_dir`, created through `admin_url` if it
/// does not exist yet (so a restarted server finds its data again).
fn database_for(admin_url: &str, data_dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    let name = format!("test_{:016x}", hasher.finish());
    let admin = DatabaseUrl::new(admin_url);
    // The blocking client runs its own runtime, so not on this (async) test's thread.
    std::thread::spawn(move || admin.create_database(&name))
        .join()
        .expect("creating a test database panicked")
        .expect("creating a test database")
        .expose()
        .to_owned()
}

/// A running server on its own temporary data directory; stopped when dropped.
pub struct TestServer {
    pub base: String,
    admin_password: String,
    pub clock: Arc<ShiftedClock>,
    pub admin: Session,
    pub data_dir: tempfile::TempDir,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(data_dir.path());
        let admin_password = init_data_dir(&config, "admin@test.example", "Ada Admin").await.expect("init");
        Self::start_in(data_dir, admin_password, configure).await
    }

    /// Starts a server on an existing data directory (a restart).
    pub async fn start_in(
        data_dir: tempfile::TempDir,
        admin_password: String,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        Self::start_on(data_dir, admin_password, Arc::new(ShiftedClock::default()), configure).await
    }

    /// Starts a server on the demo workspace (`conversations` of seeded history), signed in as its
    /// admin; with each inbox's signing secret.
    pub async fn start_demo(conversations: usize) -> (TestServer, Vec<(Id, String)>) {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(data_dir.path());
        let password = "switchboard-demo";
        let demo = switchboard_server::demo::prepare(&config, password, conversations)
            .await
            .expect("the demo seeds");
        let admin = switchboard_server::demo::ADMIN_EMAIL;
        let server = Self::start_as(data_dir, admin, password.into(), Arc::default(), |_| {}).await;
        (server, demo.inbox_secrets)
    }

    async fn start_on(
        data_dir: tempfile::TempDir,
        admin_password: String,
        clock: Arc<ShiftedClock>,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        Self::start_as(data_dir, "admin@test.example", admin_password, clock, configure).await
    }

    async fn start_as(
        data_dir: tempfile::TempDir,
        admin_email: &str,
        admin_password: String,
        clock: Arc<ShiftedClock>,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let mut config = test_config(data_dir.path());
        config.clock = clock.clone();
        config.webhook_poll = std::time::Duration::from_millis(50);
        config.timer_poll = std::time::Duration::from_millis(20);
        configure(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(launch(config, listener, shutdown.clone()));
        let admin = Session::login(&base, admin_email, &admin_password).await;
        TestServer { base, admin_password, clock, admin, data_dir, shutdown, task: Some(task) }
    }

    /// Stops the server, waits for it to finish in-flight work, and restarts it on the same data.
    pub async fn restart(self) -> TestServer {
        self.restart_later(0).await
    }

    /// Stops the server, moves its clock `by` forward while it is down, and starts it again on the
    /// same data.
    pub async fn restart_later(self, by: switchboard_proto::Millis) -> TestServer {
        self.restart_later_with(by, |_| {}).await
    }

    /// [`Self::restart_later`] with the restarted server's config adjusted.
    pub async fn restart_later_with(
        mut self,
        by: switchboard_proto::Millis,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran cleanly");
        }
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp dir"));
        let clock = Arc::new(ShiftedClock::default());
        clock.advance(self.clock.offset() + by);
        Self::start_on(data_dir, self.admin_password.clone(), clock, configure).await
    }

    pub async fn login(&self, email: &str) -> Session {
        Session::login(&self.base, email, PASSWORD).await
    }

    /// Another node on this server's database and data directory (PostgreSQL only: with SQLite
    /// two processes' writers would not share a bus), with its own listener, bus and shutdown.
    pub async fn second_node(&self, configure: impl FnOnce(&mut ServerConfig)) -> TestNode {
        let mut config = test_config(self.data_dir.path());
        assert!(matches!(config.backend, Backend::Postgres { .. }), "a second node needs PostgreSQL");
        config.clock = self.clock.clone();
        config.webhook_poll = std::time::Duration::from_millis(50);
        config.timer_poll = std::time::Duration::from_millis(20);
        configure(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(launch(config, listener, shutdown.clone()));
        let admin = Session::login(&base, "admin@test.example", &self.admin_password).await;
        TestNode { base, admin, shutdown, _task: task }
    }

    /// The newest seq in the feed, as the admin sees it (the admin sees everything).
    /// Every message the admin can see, in id order (from a bootstrap).
    pub async fn messages(&self) -> Vec<Message> {
        let changes = self.admin.bootstrap().await;
        let mut messages: Vec<Message> = apply(&changes)
            .into_iter()
            .filter(|((kind, _), _)| *kind == EntityKind::Message)
            .map(|(_, value)| serde_json::from_value(value).expect("message"))
            .collect();
        messages.sort_by_key(|m| m.id);
        messages
    }

    pub async fn message(&self, id: Id) -> Message {
        self.messages().await.into_iter().find(|m| m.id == id).expect("the message")
    }

    /// Polls message `id` (real time, for a worker's turn) until `done` holds, moving the clock by
    /// `step` between looks so backoffs and retry-afters fall due; fails after 20 s.
    pub async fn until_message(
        &self,
        id: Id,
        what: &str,
        step: switchboard_proto::Millis,
        done: impl Fn(&Message) -> bool,
    ) -> Message {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let message = self.message(id).await;
            if done(&message) {
                return message;
            }
            assert!(std::time::Instant::now() < deadline, "{what}: still {message:?}");
            self.clock.advance(step);
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        }
    }

    pub async fn head(&self) -> i64 {
        let mut since = 0;
        loop {
            let page = self.admin.sync(since, 1000).await;
            since = page.next;
            if !page.has_more {
                return since;
            }
        }
    }

    /// A customer message through the signed API channel.
    pub async fn inbound(
        &self,
        inbox: &CreatedInbox,
        contact: &str,
        external_id: &str,
        body: &str,
    ) -> InboundResult {
        let (status, value) = self.inbound_raw(inbox, contact, external_id, body).await;
        assert_eq!(status, StatusCode::OK, "inbound failed: {value}");
        serde_json::from_value(value).expect("inbound result")
    }

    pub async fn inbound_raw(
        &self,
        inbox: &CreatedInbox,
        contact: &str,
        external_id: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let payload = json!({
            "contact": {"external_id": contact, "name": format!("Customer {contact}")},
            "message": {"external_id": external_id, "body": body},
        })
        .to_string();
        let signature = sign(&inbox.signing_secret, payload.as_bytes());
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/channels/{}/inbound", self.base, inbox.inbox.id))
            .header("content-type", "application/json")
            .header("x-switchboard-signature", signature)
            .body(payload)
            .send()
            .await
            .expect("inbound request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// A further node of a [`TestServer`] (same database and data directory); stopped when dropped.
pub struct TestNode {
    pub base: String,
    pub admin: Session,
    shutdown: CancellationToken,
    _task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// `sha256=<hex HMAC>`, as an integration signs its calls.
pub fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A signed-in device.
#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub token: String,
    pub agent: Agent,
    pub device_id: Id,
    client: reqwest::Client,
}

impl Session {
    pub async fn login(base: &str, email: &str, password: &str) -> Session {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password, "device_name": "test"}))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), StatusCode::OK, "login of {email} failed");
        let login: LoginResponse = response.json().await.expect("login body");
        Session {
            base: base.to_owned(),
            token: login.token,
            agent: login.agent,
            device_id: login.device_id,
            client,
        }
    }

    /// The same device (token) talking to another node.
    pub fn on(&self, base: &str) -> Session {
        Session { base: base.to_owned(), ..self.clone() }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    /// POSTs and insists on 200.
    pub async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert_eq!(status, StatusCode::OK, "POST {path} failed: {value}");
        value
    }

    pub async fn sync(&self, since: i64, limit: usize) -> SyncPage {
        let (status, value) = self.get(&format!("/api/v1/sync?since={since}&limit={limit}")).await;
        assert_eq!(status, StatusCode::OK, "sync failed: {value}");
        serde_json::from_value(value).expect("sync page")
    }

    /// Every change this session can see, bootstrapped from zero.
    pub async fn bootstrap(&self) -> Vec<Change> {
        let mut since = 0;
        let mut all = Vec::new();
        loop {
            let page = self.sync(since, 1000).await;
            all.extend(page.changes);
            since = page.next;
            if !page.has_more {
                return all;
            }
        }
    }

    /// Replies in a conversation.
    pub async fn reply(&self, conversation: Id, body: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": body}),
        )
        .await
    }
}

/// Two teams, four agents and three inboxes:
/// Support (sara, sam) sees WhatsApp; Sales (carl) sees Email; nobody but the admin sees Secret;
/// lena is a lead on Support.
pub struct Workspace {
    pub sara: Session,
    pub sam: Session,
    pub carl: Session,
    pub lena: Session,
    pub whatsapp: CreatedInbox,
    pub email: CreatedInbox,
    pub secret: CreatedInbox,
}

impl Workspace {
    pub async fn create(server: &TestServer) -> Workspace {
        let admin = &server.admin;
        let support: Team =
            serde_json::from_value(admin.ok("/api/v1/teams", json!({"name": "Support"})).await)
                .expect("team");
        let sales: Team =
            serde_json::from_value(admin.ok("/api/v1/teams", json!({"name": "Sales"})).await).expect("team");
        for (name, email, role, team) in [
            ("Sara Karimi", "sara@test.example", "agent", support.id),
            ("Sam Okafor", "sam@test.example", "agent", support.id),
            ("Carl Berg", "carl@test.example", "agent", sales.id),
            ("Lena Lead", "lena@test.example", "lead", support.id),
        ] {
            admin
                .ok("/api/v1/agents", json!({"name": name, "email": email, "role": role, "password": PASSWORD, "team_ids": [team]}))
                .await;
        }
        let inbox = |name: &str, channel: &str, teams: Vec<Id>| {
            json!({"name": name, "channel": channel, "member_team_ids": teams, "templates": [
                {"name": "follow_up", "language": "en", "body": "Hi {{1}}, any news on {{2}}?"}
            ]})
        };
        let whatsapp = serde_json::from_value(
            admin.ok("/api/v1/inboxes", inbox("WhatsApp", "whatsapp", vec![support.id])).await,
        )
        .expect("inbox");
        let email = serde_json::from_value(
            admin.ok("/api/v1/inboxes", inbox("Email", "email", vec![sales.id])).await,
        )
        .expect("inbox");
        let secret =
            serde_json::from_value(admin.ok("/api/v1/inboxes", inbox("Secret", "api", vec![])).await)
                .expect("inbox");
        for (name, color) in [("vip", "#ff0000"), ("refund", "#00ff00"), ("bug", "#0000ff")] {
            admin.ok("/api/v1/labels", json!({"name": name, "color": color})).await;
        }
        Workspace {
            sara: server.login("sara@test.example").await,
            sam: server.login("sam@test.example").await,
            carl: server.login("carl@test.example").await,
            lena: server.login("lena@test.example").await,
            whatsapp,
            email,
            secret,
        }
    }
}

/// The latest state of every entity in a list of changes, applied in order (what a cache holds).
pub fn apply(changes: &[Change]) -> std::collections::BTreeMap<(EntityKind, Id), Value> {
    let mut state = std::collections::BTreeMap::new();
    for change in changes {
        match change.op {
            ChangeOp::Upsert => {
                state.insert((change.entity, change.id), change.data.clone().unwrap_or(Value::Null));
            }
            ChangeOp::Delete => {
                state.remove(&(change.entity, change.id));
            }
        }
    }
    state
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the stream as this session, resuming after `since`.
pub async fn open_stream(session: &Session, since: i64) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/api/v1/stream?since={since}", session.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("ws request");
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", session.token).parse().expect("header"));
    let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("ws connect");
    socket
}

/// The next server frame, or the close code if the server closed; panics after 10 s of silence.
pub async fn next_frame(socket: &mut Socket) -> Result<ServerFrame, Option<u16>> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("the stream went silent for 10 s");
        match message {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).expect("server frame")),
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}
