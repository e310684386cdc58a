//! `switchboard-server`: the team backend for Switchboard shared inboxes.
//!
//! Entry points: [`launch`] serves the API on a listener until a shutdown future resolves (tests
//! bind `127.0.0.1:0`); [`init_data_dir`] creates a workspace with its first admin; `main.rs` is
//! the command line around both, plus the `demo` workspace.

pub mod bus;
pub mod clock;
pub mod demo;
pub mod error;
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
use crate::{bus::LocalBus, postgres::PostgresStore, sqlite::SqliteStore, workspace::Workspace};
pub use crate::{
    clock::{Clock, ShiftedClock, SystemClock},
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
    /// Holds the content-addressed `attachments/`, and `switchboard.db` with the SQLite backend.
    pub data_dir: PathBuf,
    pub backend: Backend,
    pub clock: Arc<dyn Clock>,
    /// How often the webhook worker looks for due deliveries.
    pub webhook_poll: std::time::Duration,
    /// How often the timer loop looks for due timers (snoozes waking): the most a timer fires late.
    pub timer_poll: std::time::Duration,
    /// How many committed transactions a stream may fall behind before it is closed.
    pub stream_buffer: usize,
}

impl ServerConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            backend: Backend::Sqlite,
            clock: Arc::new(SystemClock),
            webhook_poll: std::time::Duration::from_millis(500),
            timer_poll: std::time::Duration::from_millis(250),
            stream_buffer: 4096,
        }
    }
}

/// Opens the workspace's store and its bus (creating and migrating the store if needed).
pub fn open_workspace(config: &ServerConfig) -> anyhow::Result<Workspace> {
    open_workspace_with_clock(config, config.clock.clone())
}

/// [`open_workspace`] with another clock than the config's (the demo seeder writes history).
pub fn open_workspace_with_clock(config: &ServerConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Workspace> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let bus = Arc::new(LocalBus::new(config.stream_buffer));
    let store: Arc<dyn store::Store> = match &config.backend {
        Backend::Sqlite => Arc::new(
            SqliteStore::open(&config.data_dir.join("switchboard.db"), bus.clone())
                .with_context(|| format!("opening database in {}", config.data_dir.display()))?,
        ),
        Backend::Postgres { url } => Arc::new(
            PostgresStore::open(url, bus.clone()).with_context(|| format!("opening database {url}"))?,
        ),
    };
    Ok(Workspace::new(store, bus, clock))
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
    let workspace = open_workspace(&config)?;
    let files = files::FileStore::new(config.data_dir.join("attachments"))?;
    let state = http::AppState::new(workspace.clone(), files, config.clock.clone(), shutdown.clone());
    let worker = tokio::spawn(webhook::run(workspace.clone(), config.webhook_poll, shutdown.clone()));
    let timers = tokio::spawn(workspace::run_timers(workspace, config.timer_poll, shutdown.clone()));
    let address = listener.local_addr().ok();
    tracing::info!(?address, data_dir = %config.data_dir.display(), database = %config.backend.describe(&config.data_dir), "serving");
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("serving")?;
    shutdown.cancel();
    let _ = worker.await;
    let _ = timers.await;
    tracing::info!("stopped");
    Ok(())
}
