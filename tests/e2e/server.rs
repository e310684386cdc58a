//! The real servers for the end-to-end test: one in-process server on a fixed address, so it can be
//! killed and restarted, and the nodes `scripts/run-nodes.sh` started behind nginx, one of which
//! can be killed; both reached through the same admin [`Api`].

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::{init_data_dir, launch, ServerConfig, ShiftedClock};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";

pub struct Workspace {
    pub whatsapp: CreatedInbox,
    pub sara: Id,
    pub sam: Id,
}

/// A workspace's HTTP API with its admin signed in, wherever it is served.
pub struct Api {
    pub base: String,
    admin_token: String,
    http: reqwest::Client,
}

impl Api {
    async fn sign_in(base: String, email: &str, password: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password, "device_name": "e2e"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Api { base, admin_token: login.token, http })
    }
}

/// The server in this process, on a clock the test may move (time-based behaviour such as an SLA
/// breach is tested by moving it, never by waiting).
pub struct Server {
    api: Api,
    pub clock: Arc<ShiftedClock>,
    address: SocketAddr,
    data_dir: tempfile::TempDir,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl std::ops::Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve(
    data_dir: &std::path::Path,
    address: SocketAddr,
    clock: Arc<ShiftedClock>,
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
    let mut config = ServerConfig::new(data_dir);
    config.clock = clock;
    let task = tokio::spawn(launch(config, listener, shutdown.clone()));
    Ok((address, shutdown, task))
}

impl Server {
    pub async fn start() -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let admin_password =
            init_data_dir(&ServerConfig::new(data_dir.path()), "admin@e2e.example", "Ada Admin").await?;
        let clock = Arc::new(ShiftedClock::default());
        let (address, shutdown, task) = serve(data_dir.path(), "127.0.0.1:0".parse()?, clock.clone()).await?;
        let api = Api::sign_in(format!("http://{address}"), "admin@e2e.example", &admin_password).await?;
        Ok(Server { api, clock, address, data_dir, shutdown, task: Some(task) })
    }

    pub async fn kill(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let (_, shutdown, task) = serve(self.data_dir.path(), self.address, self.clock.clone()).await?;
        self.shutdown = shutdown;
        self.task = Some(task);
        Ok(())
    }
}

impl Api {
    pub(crate) async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
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

    async fn admin_patch(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .patch(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "PATCH {path}: {status} {body}");
        Ok(body)
    }

    /// The same server signed in as another agent (with [`PASSWORD`]): what it answers is what
    /// that agent may see.
    pub async fn signed_in_as(&self, email: &str) -> anyhow::Result<Api> {
        Api::sign_in(self.base.clone(), email, PASSWORD).await
    }

    /// Removes an agent's second factor, as an admin (their sessions stay signed in).
    pub async fn reset_two_factor(&self, agent: Id) -> anyhow::Result<()> {
        let path = format!("/api/v1/agents/{agent}/two-factor");
        let response =
            self.http.delete(format!("{}{path}", self.base)).bearer_auth(&self.admin_token).send().await?;
        anyhow::ensure!(response.status().is_success(), "DELETE {path}: {}", response.status());
        Ok(())
    }

    /// A GET's body, untouched, with this API's token (`path` with its query).
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.admin_token).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status} {}", String::from_utf8_lossy(&body));
        Ok(body.to_vec())
    }

    /// Switches an inbox's routing (`least_loaded`, `round_robin` or `manual`), as an admin.
    pub async fn set_routing(&self, inbox: &CreatedInbox, mode: &str) -> anyhow::Result<()> {
        self.admin_patch(&format!("/api/v1/inboxes/{}", inbox.inbox.id), json!({"routing": {"mode": mode}}))
            .await?;
        Ok(())
    }

    /// Whether an agent's transcript exports from `inbox` wait for a lead's approval, as an admin.
    pub async fn hold_exports(&self, inbox: Id, held: bool) -> anyhow::Result<()> {
        self.admin_patch(&format!("/api/v1/inboxes/{inbox}"), json!({"exports_need_approval": held})).await?;
        Ok(())
    }

    /// The longest idle time before every app locks (`None`: the agent's choice), as an admin.
    pub async fn set_lock_policy(&self, minutes: Option<u32>) -> anyhow::Result<()> {
        let path = "/api/v1/settings/lock";
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&json!({"max_idle_minutes": minutes}))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "PUT {path}: {}", response.status());
        Ok(())
    }

    /// Adds a service-level policy, as an admin.
    pub async fn add_sla_policy(&self, policy: Value) -> anyhow::Result<()> {
        self.admin("/api/v1/sla-policies", policy).await?;
        Ok(())
    }

    /// Adds a label to a conversation, as an admin.
    pub async fn label(&self, conversation: Id, label: &str) -> anyhow::Result<()> {
        let body = json!({"client_id": Id::new_v4(), "add": [label], "remove": []});
        self.admin(&format!("/api/v1/conversations/{conversation}/labels"), body).await?;
        Ok(())
    }

    /// Sets a conversation's status, as an admin.
    pub async fn set_status(&self, conversation: Id, status: &str) -> anyhow::Result<()> {
        let body = json!({"client_id": Id::new_v4(), "status": status});
        self.admin(&format!("/api/v1/conversations/{conversation}/status"), body).await?;
        Ok(())
    }

    /// How many open conversations routing may give an agent, as an admin.
    /// Changes an agent's role (`"agent"`, `"lead"`, `"admin"`), as an admin.
    pub async fn set_role(&self, agent: Id, role: &str) -> anyhow::Result<()> {
        self.admin_patch(&format!("/api/v1/agents/{agent}"), json!({"role": role})).await?;
        Ok(())
    }

    /// Renames an agent, as an admin.
    pub async fn rename_agent(&self, agent: Id, name: &str) -> anyhow::Result<()> {
        self.admin_patch(&format!("/api/v1/agents/{agent}"), json!({"name": name})).await?;
        Ok(())
    }

    pub async fn set_capacity(&self, agent: Id, capacity: Option<u32>) -> anyhow::Result<()> {
        self.admin_patch(&format!("/api/v1/agents/{agent}"), json!({"capacity": capacity})).await?;
        Ok(())
    }

    pub async fn workspace(&self) -> anyhow::Result<Workspace> {
        let support: Team =
            serde_json::from_value(self.admin("/api/v1/teams", json!({"name": "Support"})).await?)?;
        let mut ids = Vec::new();
        // Sara leads the team (she edits its business hours in settings) and answers customers.
        for (name, email, role) in
            [("Sara Karimi", "sara@e2e.example", "lead"), ("Sam Okafor", "sam@e2e.example", "agent")]
        {
            let agent: Agent = serde_json::from_value(
                self.admin("/api/v1/agents", json!({"name": name, "email": email, "role": role, "password": PASSWORD, "team_ids": [support.id]}))
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
        // A provider redelivers a webhook its receiver answered with a gateway error, as WhatsApp
        // and Telegram do; the message's external id makes a redelivery one message. Behind the
        // load balancer, a POST that was on its way to the node just killed gets nginx's 502.
        let mut attempt = 0;
        loop {
            let response = self
                .http
                .post(format!("{}/api/v1/channels/{}/inbound", self.base, inbox.inbox.id))
                .header("content-type", "application/json")
                .header(switchboard_server::SIGNATURE_HEADER, signature.clone())
                .body(payload.clone())
                .send()
                .await?;
            let status = response.status();
            let gateway = matches!(status.as_u16(), 502..=504);
            if gateway && attempt < 3 {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            anyhow::ensure!(status.is_success(), "inbound: {status}");
            return Ok(response.json().await?);
        }
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
        let agents: Vec<Agent> = serde_json::from_value(self.admin_get("/api/v1/agents").await?)?;
        agents.into_iter().find(|a| a.id == id).with_context(|| format!("no agent {id} on the server"))
    }

    /// Defines a custom contact field, as an admin.
    pub async fn add_contact_field(
        &self,
        key: &str,
        label: &str,
        kind: &str,
        options: &[&str],
    ) -> anyhow::Result<()> {
        let body =
            json!({"client_id": Id::new_v4(), "key": key, "label": label, "kind": kind, "options": options});
        self.admin("/api/v1/contact-fields", body).await?;
        Ok(())
    }

    /// The contacts the server finds for `query` (name, email or phone digits), as the admin.
    pub async fn find_contacts(&self, query: &str) -> anyhow::Result<Vec<Contact>> {
        let response = self
            .http
            .get(format!("{}/api/v1/contacts", self.base))
            .query(&[("q", query)])
            .bearer_auth(&self.admin_token)
            .send()
            .await?;
        Ok(response.error_for_status()?.json().await?)
    }

    /// A GET as the admin: its JSON answer.
    async fn admin_get(&self, path: &str) -> anyhow::Result<Value> {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.admin_token).send().await?;
        Ok(response.error_for_status()?.json().await?)
    }

    /// An inbox as the server has it now (`GET /inboxes`).
    pub async fn inbox(&self, id: Id) -> anyhow::Result<Inbox> {
        let inboxes: Vec<Inbox> = serde_json::from_value(self.admin_get("/api/v1/inboxes").await?)?;
        inboxes.into_iter().find(|i| i.id == id).with_context(|| format!("no inbox {id} on the server"))
    }

    /// Sets an inbox's automatic replies, as an admin.
    pub async fn set_auto_replies(&self, inbox: &CreatedInbox, replies: Value) -> anyhow::Result<()> {
        self.admin_patch(&format!("/api/v1/inboxes/{}", inbox.inbox.id), json!({"auto_replies": replies}))
            .await?;
        Ok(())
    }

    /// Every conversation the admin sees, from a bootstrap of the feed.
    pub async fn conversation_ids(&self) -> anyhow::Result<Vec<String>> {
        let (mut since, mut ids) = (0, std::collections::BTreeSet::new());
        loop {
            let page: SyncPage = self
                .http
                .get(format!("{}/api/v1/sync?since={since}&limit=500", self.base))
                .bearer_auth(&self.admin_token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            for change in page.changes.iter().filter(|c| c.entity == EntityKind::Conversation) {
                match change.op {
                    ChangeOp::Upsert => ids.insert(change.id.to_string()),
                    ChangeOp::Delete => ids.remove(&change.id.to_string()),
                };
            }
            since = page.next;
            if !page.has_more {
                return Ok(ids.into_iter().collect());
            }
        }
    }

    /// One page of the feed after `since`, as the admin reads it (`GET /sync`).
    pub async fn sync_page(&self, since: i64) -> anyhow::Result<SyncPage> {
        Ok(serde_json::from_value(self.admin_get(&format!("/api/v1/sync?since={since}&limit=500")).await?)?)
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

/// The nodes `scripts/run-nodes.sh` started on one PostgreSQL database, behind nginx.
pub struct Nodes {
    api: Api,
    /// `SWITCHBOARD_NODES_DIR`: node-I.port and node-I.pid.
    dir: PathBuf,
    count: usize,
}

impl std::ops::Deref for Nodes {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Nodes {
    /// The nodes this test runs under (tests/e2e/run.sh starts them); an error elsewhere.
    pub async fn from_env() -> anyhow::Result<Nodes> {
        let var = |name: &str| {
            std::env::var(name)
                .with_context(|| format!("{name} is unset: run the e2e through tests/e2e/run.sh"))
        };
        let api = Api::sign_in(
            var("SWITCHBOARD_NODES_URL")?,
            &var("SWITCHBOARD_NODES_ADMIN_EMAIL")?,
            &var("SWITCHBOARD_NODES_ADMIN_PASSWORD")?,
        )
        .await?;
        Ok(Nodes {
            api,
            dir: var("SWITCHBOARD_NODES_DIR")?.into(),
            count: var("SWITCHBOARD_NODES")?.parse()?,
        })
    }

    fn read(&self, node: usize, what: &str) -> anyhow::Result<String> {
        let path = self.dir.join(format!("node-{node}.{what}"));
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .trim()
            .to_owned())
    }

    fn pid(&self, node: usize) -> anyhow::Result<u32> {
        Ok(self.read(node, "pid")?.parse()?)
    }

    /// Whether node `node`'s process runs (a zombie waiting for run-nodes.sh has exited).
    fn running(&self, node: usize) -> anyhow::Result<bool> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid(node)?)).unwrap_or_default();
        Ok(stat.rsplit(") ").next().is_some_and(|rest| !rest.is_empty() && !rest.starts_with('Z')))
    }

    /// Connections open to node `node` now, from the kernel's table: nginx keeps none idle (see
    /// deploy/nginx.conf), so outside a request these are the streams it passes on.
    fn connections(&self, node: usize) -> anyhow::Result<usize> {
        let port = format!(":{:04X}", self.read(node, "port")?.parse::<u16>()?);
        let table = std::fs::read_to_string("/proc/net/tcp")?;
        Ok(table
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // local_address ends with the port; state 01 is ESTABLISHED.
                fields.len() > 3 && fields[1].ends_with(&port) && fields[3] == "01"
            })
            .count())
    }

    /// The node holding the one stream open (the app's): the only running node with a connection,
    /// the same in five looks 100 ms apart (so not a passing request). Waits up to 20 s.
    pub async fn streaming_node(&self) -> anyhow::Result<usize> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let (mut last, mut same) = (None, 0);
        loop {
            let mut holding = Vec::new();
            for node in 1..=self.count {
                if self.running(node)? {
                    let connections = self.connections(node)?;
                    if connections > 0 {
                        holding.push((node, connections));
                    }
                }
            }
            let now = match holding[..] {
                [(node, 1)] => Some(node),
                _ => None,
            };
            same = if now.is_some() && now == last { same + 1 } else { 0 };
            last = now;
            if let (Some(node), 4..) = (now, same) {
                return Ok(node);
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "no single node holds the app's stream (connections per running node: {holding:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills node `node` with SIGKILL and waits until it has exited.
    pub async fn kill(&self, node: usize) -> anyhow::Result<()> {
        let status =
            std::process::Command::new("kill").args(["-KILL", &self.pid(node)?.to_string()]).status()?;
        anyhow::ensure!(status.success(), "kill -KILL node {node}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.running(node)? {
            anyhow::ensure!(tokio::time::Instant::now() < deadline, "node {node} still runs after SIGKILL");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}
