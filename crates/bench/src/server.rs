//! A server of the benchmark's own, in-process on a fresh data directory, with its admin signed
//! in: what the automation and channels rows each start and stop.

use serde_json::{json, Value};
use switchboard_proto::LoginResponse;

pub struct Launched {
    pub base: String,
    /// The admin's token.
    pub token: String,
    pub http: reqwest::Client,
    data_dir: tempfile::TempDir,
    shutdown: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Launched {
    pub async fn start() -> anyhow::Result<Launched> {
        let data_dir = tempfile::tempdir()?;
        let config = switchboard_server::ServerConfig::new(data_dir.path());
        let password = switchboard_server::init_data_dir(&config, "admin@bench.example", "Admin").await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(switchboard_server::launch(config, listener, shutdown.clone()));
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "admin@bench.example", "password": password, "device_name": "bench"}))
            .send()
            .await?
            .json()
            .await?;
        Ok(Launched { base, token: login.token, http, data_dir, shutdown, task })
    }

    /// An admin's request; fails unless it succeeds.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {value}");
        Ok(value)
    }

    /// The node's SQLite database, for counting what a run wrote (open it read-only).
    pub fn database(&self) -> std::path::PathBuf {
        self.data_dir.path().join("switchboard.db")
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}
