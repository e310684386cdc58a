//! The real server for the end-to-end test, on a fixed address so it can be killed and restarted.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::{init_data_dir, launch, ServerConfig};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";

pub struct Workspace {
    pub whatsapp: CreatedInbox,
    pub sara: Id,
    pub sam: Id,
}

pub struct Server {
    pub base: String,
    address: SocketAddr,
    data_dir: tempfile::TempDir,
    admin_token: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    http: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve(
    data_dir: &std::path::Path,
    address: SocketAddr,
) -> anyhow::Result<(SocketAddr, CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => break listener,
            Err(_) if tries < 100 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error).context("binding the server"),
        }
    };
    let address = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(launch(ServerConfig::new(data_dir), listener, shutdown.clone()));
    Ok((address, shutdown, task))
}

impl Server {
    pub async fn start() -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let admin_password =
            init_data_dir(&ServerConfig::new(data_dir.path()), "admin@e2e.example", "Ada Admin").await?;
        let (address, shutdown, task) = serve(data_dir.path(), "127.0.0.1:0".parse()?).await?;
        let base = format!("http://{address}");
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "admin@e2e.example", "password": admin_password, "device_name": "e2e"}))
            .send()
            .await?
            .json()
            .await?;
        Ok(Server { base, address, data_dir, admin_token: login.token, shutdown, task: Some(task), http })
    }

    pub async fn kill(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let (_, shutdown, task) = serve(self.data_dir.path(), self.address).await?;
        self.shutdown = shutdown;
        self.task = Some(task);
        Ok(())
    }

    async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "POST {path}: {}", response.status());
        Ok(response.json().await?)
    }

    pub async fn workspace(&self) -> anyhow::Result<Workspace> {
        let support: Team =
            serde_json::from_value(self.admin("/api/v1/teams", json!({"name": "Support"})).await?)?;
        let mut ids = Vec::new();
        for (name, email) in [("Sara Karimi", "sara@e2e.example"), ("Sam Okafor", "sam@e2e.example")] {
            let agent: Agent = serde_json::from_value(
                self.admin("/api/v1/agents", json!({"name": name, "email": email, "role": "agent", "password": PASSWORD, "team_ids": [support.id]}))
                    .await?,
            )?;
            ids.push(agent.id);
        }
        let whatsapp: CreatedInbox = serde_json::from_value(
            self.admin(
                "/api/v1/inboxes",
                json!({"name": "WhatsApp Support", "channel": "whatsapp", "member_team_ids": [support.id],
                       "templates": [{"name": "follow_up", "language": "en", "body": "Hi {{1}}, any news?"}]}),
            )
            .await?,
        )?;
        for label in ["vip", "refund"] {
            self.admin("/api/v1/labels", json!({"name": label})).await?;
        }
        self.admin(
            "/api/v1/canned-responses",
            json!({"short_code": "greet", "title": "Greeting",
                   "body": "Hi {{contact.first_name}}, this is {{agent.name}} from {{inbox.name}}. How can I help?"}),
        )
        .await?;
        Ok(Workspace { whatsapp, sara: ids[0], sam: ids[1] })
    }

    pub async fn inbound(
        &self,
        inbox: &CreatedInbox,
        contact: &str,
        name: &str,
        external_id: &str,
        body: &str,
    ) -> anyhow::Result<InboundResult> {
        let payload = json!({"contact": {"external_id": contact, "name": name}, "message": {"external_id": external_id, "body": body}}).to_string();
        let signature = switchboard_server::sign_payload(&inbox.signing_secret, payload.as_bytes());
        let response = self
            .http
            .post(format!("{}/api/v1/channels/{}/inbound", self.base, inbox.inbox.id))
            .header("content-type", "application/json")
            .header(switchboard_server::SIGNATURE_HEADER, signature)
            .body(payload)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "inbound: {}", response.status());
        Ok(response.json().await?)
    }

    async fn transcript(&self, conversation: Id) -> anyhow::Result<Transcript> {
        Ok(self
            .http
            .get(format!("{}/api/v1/conversations/{conversation}/export", self.base))
            .bearer_auth(&self.admin_token)
            .send()
            .await?
            .json()
            .await?)
    }

    pub async fn conversation(&self, id: Id) -> anyhow::Result<Conversation> {
        Ok(self.transcript(id).await?.conversation)
    }

    /// An agent as the server has it now (`GET /agents`).
    pub async fn agent(&self, id: Id) -> anyhow::Result<Agent> {
        let agents: Vec<Agent> = self
            .http
            .get(format!("{}/api/v1/agents", self.base))
            .bearer_auth(&self.admin_token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        agents.into_iter().find(|a| a.id == id).with_context(|| format!("no agent {id} on the server"))
    }

    pub async fn messages(&self, id: Id) -> anyhow::Result<Vec<Message>> {
        Ok(self.transcript(id).await?.messages)
    }

    /// Polls `check` until it holds (20 s at most).
    pub async fn wait_for<F, Fut>(&self, what: &str, check: F) -> anyhow::Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<bool>>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if check().await.unwrap_or(false) {
                return Ok(());
            }
            anyhow::ensure!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
