//! A real server to sync with, and clients (accounts with caches and engines) to sync it.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{json, Value};
use switchboard_core::{
    accounts::{Accounts, OpenAccount},
    events::Event,
    keychain::{MemoryTokenStore, TokenStore},
    sync::{Backoff, Engine, EngineConfig},
};
use switchboard_proto::*;
use switchboard_server::{init_data_dir, launch, Backend, ServerConfig, ShiftedClock};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";

/// A server on a fixed address that can be killed and started again on the same data; its API is
/// its [`Endpoint`].
pub struct Server {
    pub address: SocketAddr,
    pub clock: Arc<ShiftedClock>,
    pub data_dir: tempfile::TempDir,
    pub api: Endpoint,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl std::ops::Deref for Server {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.api
    }
}

/// Where clients reach a workspace, with its admin signed in: an in-process [`Server`], or nodes
/// behind a load balancer (`balanced.rs`).
pub struct Endpoint {
    pub base: String,
    pub admin_token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A server configuration on `data_dir` with the backend `SWITCHBOARD_TEST_DATABASE_URL` names
/// (a PostgreSQL database of its own per data directory), or embedded SQLite when unset: the
/// core's whole suite, fault schedules included, runs against either.
fn test_config(data_dir: &std::path::Path) -> ServerConfig {
    let url = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").ok();
    let mut config = ServerConfig::new(data_dir);
    config.backend =
        Backend::from_url(url.as_deref()).expect("SWITCHBOARD_TEST_DATABASE_URL names a backend");
    if let Backend::Postgres { url } = &config.backend {
        let (admin, name) = (url.clone(), database_name(data_dir));
        // The blocking client runs its own runtime, so not on an async test's thread.
        let url = std::thread::spawn(move || admin.create_database(&name))
            .join()
            .expect("creating a test database panicked")
            .expect("creating a test database");
        config.backend = Backend::Postgres { url };
    }
    config
}

/// The PostgreSQL database of `data_dir`'s server.
fn database_name(data_dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    format!("core_{:016x}", hasher.finish())
}

/// A copy of a stopped server's database, as an operator's backup: its files (SQLite), or a
/// database made from it as a template (PostgreSQL: a file-level copy, like a restored base backup).
pub enum Backup {
    Files(tempfile::TempDir),
    Database(String),
}

/// Runs SQL as PostgreSQL's admin on the test cluster (`psql`, installed with the server).
fn psql(sql: &str) {
    let url = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").expect("a PostgreSQL test cluster");
    let status = std::process::Command::new("psql")
        .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed on: {sql}");
}

/// Copies every file under `from` into `to` (the SQLite database, its WAL, the attachments).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

async fn serve(
    data_dir: &std::path::Path,
    clock: Arc<ShiftedClock>,
    address: SocketAddr,
) -> (SocketAddr, CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let mut config = test_config(data_dir);
    config.clock = clock;
    config.webhook_poll = Duration::from_millis(50);
    // The port may still be held for a moment after a kill.
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => break listener,
            Err(error) if tries < 50 => {
                tries += 1;
                tracing::debug!(%error, "rebinding");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("binding {address}: {error}"),
        }
    };
    let address = listener.local_addr().expect("address");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(launch(config, listener, shutdown.clone()));
    (address, shutdown, task)
}

impl Server {
    pub async fn start() -> Server {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(data_dir.path());
        let admin_password = init_data_dir(&config, "admin@test.example", "Ada Admin").await.expect("init");
        let clock = Arc::new(ShiftedClock::default());
        let (address, shutdown, task) =
            serve(data_dir.path(), clock.clone(), "127.0.0.1:0".parse().expect("addr")).await;
        let base = format!("http://{address}");
        let login = http_login(&base, "admin@test.example", &admin_password).await;
        let api = Endpoint { base, admin_token: login.token };
        Server { address, clock, data_dir, api, shutdown, task: Some(task) }
    }

    /// Stops the server abruptly: in-flight requests are dropped, open sockets reset.
    pub async fn kill(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Stops the server, copies its database as a backup, and starts it again.
    pub async fn backup(&mut self) -> Backup {
        self.kill().await;
        let backup = if std::env::var("SWITCHBOARD_TEST_DATABASE_URL").is_ok() {
            let name = database_name(self.data_dir.path());
            let copy = format!("{name}_backup_{}", Id::new_v4().simple());
            psql(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ));
            psql(&format!(r#"CREATE DATABASE "{copy}" TEMPLATE "{name}""#));
            Backup::Database(copy)
        } else {
            let copy = tempfile::tempdir().expect("temp dir");
            copy_tree(self.data_dir.path(), copy.path());
            Backup::Files(copy)
        };
        self.restart().await;
        backup
    }

    /// Stops the server, puts `backup` in place of its database, and starts it again.
    pub async fn restore(&mut self, backup: &Backup) {
        self.kill().await;
        match backup {
            Backup::Database(copy) => {
                let name = database_name(self.data_dir.path());
                psql(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#));
                psql(&format!(r#"CREATE DATABASE "{name}" TEMPLATE "{copy}""#));
            }
            Backup::Files(copy) => {
                for entry in std::fs::read_dir(self.data_dir.path()).expect("read dir") {
                    let path = entry.expect("entry").path();
                    if path.is_dir() {
                        std::fs::remove_dir_all(path).expect("rm");
                    } else {
                        std::fs::remove_file(path).expect("rm");
                    }
                }
                copy_tree(copy.path(), self.data_dir.path());
            }
        }
        self.restart().await;
    }

    /// Starts it again on the same address and data.
    pub async fn restart(&mut self) {
        let (_, shutdown, task) = serve(self.data_dir.path(), self.clock.clone(), self.address).await;
        self.shutdown = shutdown;
        self.task = Some(task);
    }
}

impl Endpoint {
    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .patch(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_ok(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(&self.admin_token.clone(), path, body).await;
        assert_eq!(status, 200, "POST {path}: {value}");
        value
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// A customer message through the signed API channel.
    pub async fn inbound(
        &self,
        inbox: &CreatedInbox,
        contact: &str,
        external_id: &str,
        body: &str,
    ) -> InboundResult {
        self.try_inbound(inbox, contact, external_id, body).await.expect("inbound")
    }

    /// A customer message through the signed API channel, or why it was not taken (for a
    /// connector that retries, as a real one does).
    pub async fn try_inbound(
        &self,
        inbox: &CreatedInbox,
        contact: &str,
        external_id: &str,
        body: &str,
    ) -> Result<InboundResult, String> {
        let payload = json!({
            "contact": {"external_id": contact, "name": format!("Customer {contact}"), "phone": "+44 7700 900123"},
            "message": {"external_id": external_id, "body": body},
        })
        .to_string();
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(inbox.signing_secret.as_bytes()).expect("key");
        mac.update(payload.as_bytes());
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/channels/{}/inbound", self.base, inbox.inbox.id))
            .header("content-type", "application/json")
            .header("x-switchboard-signature", signature)
            .body(payload)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|error| format!("inbound: {error}"))?;
        if !response.status().is_success() {
            return Err(format!("inbound: {}", response.status()));
        }
        response.json().await.map_err(|error| format!("inbound result: {error}"))
    }

    /// Every entity the given token can see, as a bootstrap gives it.
    pub async fn state(&self, token: &str) -> std::collections::BTreeMap<(EntityKind, Id), Value> {
        let mut since = 0;
        let mut state = std::collections::BTreeMap::new();
        loop {
            let page: SyncPage = serde_json::from_value(
                self.get(token, &format!("/api/v1/sync?since={since}&limit=1000")).await,
            )
            .expect("page");
            for change in page.changes {
                match change.op {
                    ChangeOp::Upsert => {
                        state.insert((change.entity, change.id), change.data.unwrap_or(Value::Null));
                    }
                    ChangeOp::Delete => {
                        state.remove(&(change.entity, change.id));
                    }
                }
            }
            since = page.next;
            if !page.has_more {
                return state;
            }
        }
    }
}

pub async fn http_login(base: &str, email: &str, password: &str) -> LoginResponse {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password, "device_name": "test"}))
        .send()
        .await
        .expect("login");
    assert!(response.status().is_success(), "login {email}: {}", response.status());
    response.json().await.expect("login body")
}

/// Support (sara, sam) sees a WhatsApp inbox; an email inbox is Sales-only (carl).
pub struct Workspace {
    pub whatsapp: CreatedInbox,
    pub email: CreatedInbox,
}

impl Workspace {
    pub async fn create(server: &Endpoint) -> Workspace {
        let support: Team =
            serde_json::from_value(server.admin_ok("/api/v1/teams", json!({"name": "Support"})).await)
                .expect("team");
        let sales: Team =
            serde_json::from_value(server.admin_ok("/api/v1/teams", json!({"name": "Sales"})).await)
                .expect("team");
        for (name, email, team) in [
            ("Sara Karimi", "sara@test.example", support.id),
            ("Sam Okafor", "sam@test.example", support.id),
            ("Carl Berg", "carl@test.example", sales.id),
        ] {
            server
                .admin_ok("/api/v1/agents", json!({"name": name, "email": email, "role": "agent", "password": PASSWORD, "team_ids": [team]}))
                .await;
        }
        let templates = json!([{"name": "follow_up", "language": "en", "body": "Hi {{1}}, any news?"}]);
        let whatsapp = serde_json::from_value(
            server
                .admin_ok("/api/v1/inboxes", json!({"name": "WhatsApp", "channel": "whatsapp", "member_team_ids": [support.id], "templates": templates}))
                .await,
        )
        .expect("inbox");
        let email = serde_json::from_value(
            server
                .admin_ok(
                    "/api/v1/inboxes",
                    json!({"name": "Email", "channel": "email", "member_team_ids": [sales.id]}),
                )
                .await,
        )
        .expect("inbox");
        for name in ["vip", "refund", "bug", "billing"] {
            server.admin_ok("/api/v1/labels", json!({"name": name})).await;
        }
        Workspace { whatsapp, email }
    }
}

/// A signed-in desktop client: account, cache and a running engine, recording its events.
pub struct Client {
    pub accounts: Accounts,
    pub account: OpenAccount,
    pub engine: Option<Engine>,
    pub events: Arc<Mutex<Vec<Event>>>,
    pub root: tempfile::TempDir,
    pub tokens: Arc<MemoryTokenStore>,
}

impl Client {
    pub async fn sign_in(server: &Endpoint, email: &str) -> Client {
        let root = tempfile::tempdir().expect("temp dir");
        let tokens = Arc::new(MemoryTokenStore::default());
        let accounts = Accounts::new(root.path().to_owned(), tokens.clone() as Arc<dyn TokenStore>);
        let info = accounts
            .sign_in(&server.base, email, PASSWORD, None, "test laptop", switchboard_core::sync::system_now())
            .await
            .expect("sign in");
        let account = accounts.open(&info.key()).await.expect("open");
        let mut client = Client { accounts, account, engine: None, events: Arc::default(), root, tokens };
        client.start();
        client
    }

    /// Starts (or restarts) the engine on the same cache.
    pub fn start(&mut self) {
        let events = self.events.clone();
        let mut config = EngineConfig::new(
            self.account.api.clone(),
            self.account.cache.clone(),
            Arc::new(move |event| events.lock().expect("events").push(event)),
            self.account.staging_dir(),
        );
        config.reconnect = Backoff { base: Duration::from_millis(20), max: Duration::from_millis(200) };
        config.retry = Backoff { base: Duration::from_millis(20), max: Duration::from_millis(200) };
        self.engine = Some(Engine::start(config));
    }

    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("engine running")
    }

    pub fn me(&self) -> Id {
        self.account.info.agent.id
    }

    pub fn token(&self) -> String {
        self.account.api.token().expose().to_owned()
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().expect("events").clone()
    }

    /// Waits (up to 15 s) until `check` holds on this client.
    pub async fn until(&self, what: &str, check: impl Fn(&Client) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !check(self) {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn conversation(&self, id: Id) -> Option<Conversation> {
        self.account.cache.get(EntityKind::Conversation, id).expect("cache read")
    }
}
