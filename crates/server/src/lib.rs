//! `switchboard-server`: the team backend for Switchboard shared inboxes.
//!
//! Entry points: [`launch`] serves the API on a listener until a shutdown future resolves (tests
//! bind `127.0.0.1:0`); [`init_data_dir`] creates a workspace with its first admin; `main.rs` is
//! the command line around both, plus the `demo` workspace.

pub mod bus;
pub mod clock;
pub mod connectors;
pub mod demo;
pub mod error;
pub mod facts;
mod files;
mod http;
pub mod policy;
pub mod postgres;
pub mod refusal;
pub mod rules;
pub mod signing;
pub mod sqlite;
pub mod store;
mod webhook;
pub mod workspace;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use switchboard_proto::{CreateAgent, Role};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use crate::postgres::DatabaseUrl;
use crate::postgres::{Fanout, PostgresStore};
use crate::{
    bus::{Bus, LocalBus},
    sqlite::SqliteStore,
    workspace::Workspace,
};
pub use crate::{
    clock::{Clock, ShiftedClock, SystemClock},
    files::Attachments,
    http::openapi::openapi_json,
    signing::{sign as sign_payload, SIGNATURE_HEADER},
};

/// Where a workspace's data lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// Embedded SQLite: `switchboard.db` in the data directory (the default).
    Sqlite,
    /// A PostgreSQL database (`postgres://` or `postgresql://`), which several nodes may share.
    /// Attachments stay in the data directory.
    Postgres { url: DatabaseUrl },
}

impl Backend {
    /// The backend a database URL names: none (or `sqlite:`) is the embedded default,
    /// `postgres://` or `postgresql://` a PostgreSQL database; any other scheme is refused with a
    /// message that says what is supported.
    pub fn from_url(url: Option<&str>) -> anyhow::Result<Self> {
        match url.map(str::trim) {
            None | Some("") | Some("sqlite:") | Some("sqlite://") => Ok(Backend::Sqlite),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Backend::Postgres { url: DatabaseUrl::new(url) })
            }
            Some(other) => {
                let scheme = other.split(':').next().unwrap_or_default();
                anyhow::bail!(
                    "unsupported database {scheme:?}: use SQLite under --data-dir (the default) or a \
                     postgres:// URL"
                )
            }
        }
    }

    /// Where the data lives, for messages (never shows a password).
    pub fn describe(&self, data_dir: &std::path::Path) -> String {
        match self {
            Backend::Sqlite => data_dir.display().to_string(),
            Backend::Postgres { url } => url.redacted(),
        }
    }
}

/// How a server instance runs.
#[derive(Clone)]
pub struct ServerConfig {
    /// Holds `switchboard.db` with the SQLite backend, the default `attachments/`, and uploads
    /// while they are hashed.
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// Where attachments live; `None` (not chosen explicitly) is `attachments/` in `data_dir`,
    /// which [`ServerConfig::check_attachments`] refuses with PostgreSQL.
    pub attachments: Option<Attachments>,
    pub clock: Arc<dyn Clock>,
    /// How often the webhook worker looks for due deliveries.
    pub webhook_poll: std::time::Duration,
    /// How often the timer loop looks for due timers (snoozes waking): the most a timer fires late.
    pub timer_poll: std::time::Duration,
    /// How often this node writes its heartbeat and looks for silent nodes (whose silence is
    /// measured on `clock`, so tests shorten this and move the clock).
    pub presence_heartbeat: std::time::Duration,
    /// How many committed transactions a stream may fall behind before it is closed.
    pub stream_buffer: usize,
    /// Load balancers whose `X-Forwarded-For` names the client: a request from one of these
    /// addresses counts, for the sign-in rate limit, as coming from the client it names. Requests
    /// from anywhere else are taken at their own address, whatever header they carry.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// This node's name among the nodes sharing a PostgreSQL database: it tags the events it sends
    /// the others (so it ignores its own) and names its listener connection
    /// (`switchboard-listen-<node_id>`). Unique per process by default.
    pub node_id: String,
    /// The email inboxes' IMAP workers: how often settings are read again, IDLE and backoff.
    pub email: connectors::email::EmailConfig,
    /// Telegram inboxes set to long polling: rescan (and lease), `getUpdates` timeout, backoff.
    pub telegram: connectors::telegram_poll::TelegramPollConfig,
    /// The https address providers reach this server at (`https://support.example.com`), for
    /// the callbacks it registers itself (Telegram's `setWebhook`). `None`: the host an admin's
    /// request came to, over https.
    pub public_url: Option<String>,
}

impl ServerConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            backend: Backend::Sqlite,
            attachments: None,
            clock: Arc::new(SystemClock),
            webhook_poll: std::time::Duration::from_millis(500),
            timer_poll: std::time::Duration::from_millis(250),
            presence_heartbeat: workspace::HEARTBEAT,
            stream_buffer: 4096,
            trusted_proxies: Vec::new(),
            node_id: random_node_id(),
            email: connectors::email::EmailConfig::default(),
            telegram: connectors::telegram_poll::TelegramPollConfig::default(),
            public_url: None,
        }
    }
}

impl ServerConfig {
    /// Where attachments live: as chosen, else `attachments/` in the data directory.
    pub fn attachments(&self) -> Attachments {
        self.attachments.clone().unwrap_or_else(|| Attachments::Directory(self.data_dir.join("attachments")))
    }

    /// Refuses PostgreSQL with the default attachments: several nodes on one database would each
    /// keep their own, and a file uploaded through one could not be downloaded through another.
    /// `serve` checks this; a shared directory or a bucket must be named explicitly.
    pub fn check_attachments(&self) -> anyhow::Result<()> {
        if matches!(self.backend, Backend::Postgres { .. }) && self.attachments.is_none() {
            anyhow::bail!(
                "with PostgreSQL, attachments would be local to this node ({}): pass --attachments \
                 s3://bucket/prefix (with the AWS_* variables), or an explicit file:///shared/path \
                 that every node mounts",
                self.data_dir.join("attachments").display()
            );
        }
        Ok(())
    }
}

/// `node-` and 8 random hex digits: unique enough among a deployment's nodes, and distinct for
/// several nodes in one process (tests), which a host name and pid would not be.
pub fn random_node_id() -> String {
    format!("node-{:08x}", rand::random::<u32>())
}

/// Opens the workspace's store and its bus (creating and migrating the store if needed).
pub fn open_workspace(config: &ServerConfig) -> anyhow::Result<Workspace> {
    open_workspace_with_clock(config, config.clock.clone())
}

/// [`open_workspace`] with another clock than the config's (the demo seeder writes history).
pub fn open_workspace_with_clock(config: &ServerConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Workspace> {
    Ok(open_node(config, clock)?.0)
}

/// The workspace, and with PostgreSQL the fan-out whose feed tailer must run (`launch` starts it)
/// for commits to reach the bus.
fn open_node(
    config: &ServerConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Workspace, Option<Arc<Fanout>>)> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    match &config.backend {
        Backend::Sqlite => {
            let bus = Arc::new(LocalBus::new(config.stream_buffer));
            let store = SqliteStore::open(&config.data_dir.join("switchboard.db"), bus.clone())
                .with_context(|| format!("opening database in {}", config.data_dir.display()))?;
            Ok((Workspace::new(Arc::new(store), bus, clock, &config.node_id), None))
        }
        Backend::Postgres { url } => {
            let fanout = Fanout::new(url.clone(), config.node_id.clone(), config.stream_buffer);
            let store = PostgresStore::open(url, fanout.clone())
                .with_context(|| format!("opening database {url}"))?;
            let bus: Arc<dyn Bus> = fanout.clone();
            Ok((Workspace::new(Arc::new(store), bus, clock, &config.node_id), Some(fanout)))
        }
    }
}

/// Creates the first admin of a fresh data directory. Returns their one-time password.
/// Fails if the directory already has agents.
pub async fn init_data_dir(
    config: &ServerConfig,
    admin_email: &str,
    admin_name: &str,
) -> anyhow::Result<String> {
    let workspace = open_workspace(config)?;
    if workspace.has_agents().await.map_err(|e| anyhow::anyhow!(e.message))? {
        anyhow::bail!("{} already holds a workspace", config.backend.describe(&config.data_dir));
    }
    let password = random_password();
    workspace
        .create_first_admin(CreateAgent {
            name: admin_name.to_owned(),
            email: admin_email.to_owned(),
            role: Role::Admin,
            password: password.clone(),
            team_ids: vec![],
        })
        .await
        .map_err(|e| anyhow::anyhow!("creating the admin: {}", e.message))?;
    Ok(password)
}

/// A random password of 20 letters and digits, for generated accounts.
pub fn random_password() -> String {
    use rand::{distributions::Alphanumeric, Rng};
    rand::thread_rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect()
}

/// Serves the API on `listener` until `shutdown` is cancelled, then stops accepting, closes the
/// streams and lets in-flight requests (and their writes) finish.
pub async fn launch(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (workspace, fanout) = open_node(&config, config.clock.clone())?;
    // Before serving: a stream must never open before the tailer that feeds its bus is listening.
    let tailer = match fanout {
        Some(fanout) => Some(fanout.start(shutdown.clone()).await?),
        None => None,
    };
    let attachments = config.attachments();
    let files = files::FileStore::new(&attachments, &config.data_dir)?;
    files.check().await.with_context(|| format!("attachments in {}", attachments.describe()))?;
    let workspace = workspace.with_files(files.clone());
    let mut state = http::AppState::new(workspace.clone(), files, config.clock.clone(), shutdown.clone());
    state.trusted_proxies = config.trusted_proxies.clone().into();
    state.public_url = config.public_url.as_deref().map(Into::into);
    // Before the worker: a previous process under this node id that died mid-send left claims.
    match workspace.recover_claims().await {
        Ok(0) => {}
        Ok(recovered) => tracing::warn!(recovered, "deliveries this node was sending when it stopped"),
        Err(error) => {
            tracing::warn!(message = %error.message, "recovering this node's delivery claims failed")
        }
    }
    // Before serving: inboxes stored before their connector's reply rules were (or as another
    // version derived them) carry today's, and the feed says so.
    match workspace.refresh_reply_rules().await {
        Ok(0) => {}
        Ok(changed) => tracing::info!(changed, "inboxes' reply rules brought up to date"),
        Err(error) => tracing::warn!(message = %error.message, "refreshing inboxes' reply rules failed"),
    }
    let worker = tokio::spawn(webhook::run(
        workspace.clone(),
        state.files.clone(),
        config.webhook_poll,
        shutdown.clone(),
    ));
    // Before serving: a previous run's streams under this node id are forgotten before new ones count.
    workspace.keep_presence(true).await.map_err(|e| anyhow::anyhow!("recording the node: {}", e.message))?;
    let presence =
        tokio::spawn(workspace::run_presence(workspace.clone(), config.presence_heartbeat, shutdown.clone()));
    let email = tokio::spawn(connectors::email::run(
        workspace.clone(),
        state.files.clone(),
        config.email.clone(),
        shutdown.clone(),
    ));
    let telegram = tokio::spawn(connectors::telegram_poll::run(
        workspace.clone(),
        state.files.clone(),
        config.telegram.clone(),
        shutdown.clone(),
    ));
    let timers = tokio::spawn(workspace::run_timers(workspace, config.timer_poll, shutdown.clone()));
    let address = listener.local_addr().ok();
    tracing::info!(?address, node = %config.node_id, data_dir = %config.data_dir.display(), database = %config.backend.describe(&config.data_dir), attachments = %attachments.describe(), "serving");
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    // No Nagle: a stream's frames are small, and a second one written before the client has
    // acknowledged the first (which it may delay by up to 40 ms) would wait for that ack.
    let listener = axum::serve::ListenerExt::tap_io(listener, |socket: &mut tokio::net::TcpStream| {
        let _ = socket.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("serving")?;
    shutdown.cancel();
    let _ = worker.await;
    let _ = timers.await;
    let _ = email.await;
    let _ = telegram.await;
    let _ = presence.await;
    if let Some(tailer) = tailer {
        let _ = tailer.await;
    }
    tracing::info!("stopped");
    Ok(())
}
