//! Exactly one delivery per message when the process sending it dies: a real server process
//! (`switchboard-server serve`, a child of the test) is killed with SIGKILL while two replies are
//! with their providers (each provider has taken the request and not answered), and a new process
//! starts on the same database under the same node id. On a channel that drops a repeat (the API
//! channel's `Idempotency-Key`) the reply is sent again and the receiver keeps one copy; on one
//! that can't (Telegram) it fails as `interrupted` and the provider is never asked twice. Runs on
//! whichever backend `SWITCHBOARD_TEST_DATABASE_URL` names (SQLite by default; PostgreSQL through
//! `scripts/with-postgres.sh`).

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::State, http::HeaderMap, routing::post, Router};
use serde_json::json;
use switchboard_proto::*;
use switchboard_server::{init_data_dir, Backend};

use crate::{
    harness::{sign, test_config, Session},
    telegram_emulator::{fixture, Emulator, SECRET},
};

/// A `switchboard-server serve` process; killed (SIGKILL) when dropped.
struct ServerProcess {
    child: Child,
    base: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    fn start(data_dir: &std::path::Path, node_id: &str) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard-server"));
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--node-id", node_id, "--data-dir"])
            .arg(data_dir)
            .env_remove("SWITCHBOARD_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Backend::Postgres { url } = test_config(data_dir).backend {
            // A database shared by nodes wants attachments named outright (here: one machine).
            command.env("SWITCHBOARD_DATABASE_URL", url.expose());
            command.arg("--attachments").arg(format!("file://{}/attachments", data_dir.display()));
        }
        let child = command.spawn().expect("starting switchboard-server");
        ServerProcess { child, base: format!("http://127.0.0.1:{port}") }
    }

    /// Signs in once the process serves.
    async fn admin(&mut self, password: &str) -> Session {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = reqwest::Client::new()
                .post(format!("{}/api/v1/auth/login", self.base))
                .json(&json!({}))
                .send()
                .await
                .is_ok();
            if up {
                return Session::login(&self.base, "admin@test.example", password).await;
            }
            if let Some(status) = self.child.try_wait().expect("the server process") {
                panic!("the server process exited ({status}) before serving");
            }
            assert!(Instant::now() < deadline, "the server process did not serve within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, nothing flushed or recorded.
    fn kill(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

/// An API channel receiver: records each delivery's `Idempotency-Key`; the first delivery is
/// taken and never answered (its sender dies waiting), later ones are answered 200.
#[derive(Clone, Default)]
struct Receiver {
    keys: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap) -> &'static str {
    let first = {
        let mut keys = receiver.keys.lock().expect("lock");
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
        keys.push(key.to_owned());
        keys.len() == 1
    };
    if first {
        return std::future::pending().await;
    }
    "ok"
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let app = Router::new().route("/hook", post(receive)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().expect("lock").clone()
    }
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn messages(admin: &Session) -> Vec<Message> {
    crate::harness::apply(&admin.bootstrap().await)
        .into_iter()
        .filter(|((kind, _), _)| *kind == EntityKind::Message)
        .map(|(_, value)| serde_json::from_value(value).expect("message"))
        .collect()
}

async fn reply(admin: &Session, conversation: Id, body: &str) -> Id {
    let client_id = Id::new_v4();
    let request = json!({"client_id": client_id, "kind": "reply", "body": body});
    admin.ok(&format!("/api/v1/conversations/{conversation}/messages"), request).await;
    client_id
}

#[tokio::test]
async fn a_server_killed_mid_send_never_delivers_a_reply_twice() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let password =
        init_data_dir(&test_config(data_dir.path()), "admin@test.example", "Ada Admin").await.expect("init");
    let node = format!("crash-{}", &Id::new_v4().simple().to_string()[..8]);
    let telegram = Emulator::start().await;
    telegram.hang_sends();
    let (receiver, hook) = Receiver::start().await;

    let mut first = ServerProcess::start(data_dir.path(), &node);
    let admin = first.admin(&password).await;
    let request = json!({"name": "Telegram", "channel": "telegram", "connector": telegram.connector()});
    let telegram_inbox: CreatedInbox =
        serde_json::from_value(admin.ok("/api/v1/inboxes", request).await).expect("inbox");
    let request = json!({"name": "Partner", "channel": "api", "webhook_url": hook});
    let api_inbox: CreatedInbox =
        serde_json::from_value(admin.ok("/api/v1/inboxes", request).await).expect("inbox");

    // A customer on each inbox.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/channels/{}/webhook", first.base, telegram_inbox.inbox.id))
        .header("content-type", "application/json")
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .body(fixture("text.json"))
        .send()
        .await
        .expect("update");
    assert!(response.status().is_success(), "the Telegram update is taken");
    let payload =
        json!({"contact": {"external_id": "c-1"}, "message": {"external_id": "m-1", "body": "hello"}})
            .to_string();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/channels/{}/inbound", first.base, api_inbox.inbox.id))
        .header("content-type", "application/json")
        .header("x-switchboard-signature", sign(&api_inbox.signing_secret, payload.as_bytes()))
        .body(payload)
        .send()
        .await
        .expect("inbound");
    assert!(response.status().is_success(), "the API message is taken");
    let incoming: Vec<Message> =
        messages(&admin).await.into_iter().filter(|m| m.kind == MessageKind::Incoming).collect();
    assert_eq!(incoming.len(), 2);
    let conversation = |api: bool| {
        incoming.iter().find(|m| (m.body == "hello") == api).expect("the customer's message").conversation_id
    };

    // 1. Telegram has the reply and has not answered when the process dies.
    let telegram_reply = reply(&admin, conversation(false), "On its way").await;
    eventually("the Telegram send in flight", async || {
        (telegram.recorded(|r| r.sent.len()) == 1).then_some(())
    })
    .await;
    first.kill();
    let mut second = ServerProcess::start(data_dir.path(), &node);
    let admin = second.admin(&password).await;
    let message = until_settled(&admin, telegram_reply).await;
    // Telegram takes no idempotency key: at most once, and the agent is told why.
    assert_eq!(message.delivery, DeliveryState::Failed);
    let failure = message.failure.expect("a reason");
    assert_eq!(failure.kind, DeliveryFailureKind::Interrupted);
    assert!(failure.reason.contains("may or may not have reached"), "{}", failure.reason);
    assert_eq!(telegram.recorded(|r| r.sent.len()), 1, "Telegram was asked once");

    // 2. The API channel's receiver has the reply and has not answered when the process dies.
    let api_reply = reply(&admin, conversation(true), "On its way").await;
    eventually("the API send in flight", async || (receiver.keys().len() == 1).then_some(())).await;
    second.kill();
    let mut third = ServerProcess::start(data_dir.path(), &node);
    let admin = third.admin(&password).await;
    let message = until_settled(&admin, api_reply).await;
    // The receiver drops a repeat by its key: sent again, one copy kept.
    assert_eq!(message.delivery, DeliveryState::Sent);
    let keys = receiver.keys();
    assert_eq!(keys.len(), 2, "made again after the crash: {keys:?}");
    assert_eq!(keys[0], keys[1], "with the same Idempotency-Key");
    assert_eq!(keys[0], api_reply.to_string());

    // Nothing more is attempted, and no state moves back.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(telegram.recorded(|r| r.sent.len()), 1);
    assert_eq!(receiver.keys().len(), 2);
    let all = messages(&admin).await;
    assert_eq!(all.iter().find(|m| m.id == telegram_reply).expect("reply").delivery, DeliveryState::Failed);
    assert_eq!(all.iter().find(|m| m.id == api_reply).expect("reply").delivery, DeliveryState::Sent);
    third.kill();
}

/// Waits until reply `id` is no longer queued.
async fn until_settled(admin: &Session, id: Id) -> Message {
    eventually("the reply settled", async || {
        messages(admin).await.into_iter().find(|m| m.id == id).filter(|m| m.delivery != DeliveryState::Queued)
    })
    .await
}
