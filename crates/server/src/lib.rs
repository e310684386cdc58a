//! `switchboard-server`: the team backend for Switchboard shared inboxes.
//!
//! Entry points: [`launch`] serves the API on a listener until a shutdown future resolves (tests
//! bind `127.0.0.1:0`); [`init_data_dir`] creates a workspace with its first admin; `main.rs` is
//! the command line around both, plus the `demo` workspace.

pub mod clock;
pub mod db;
pub mod demo;
pub mod error;
mod files;
mod http;
mod openapi;
pub mod rules;
pub mod sqlite;
mod stream;
mod webhook;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;
use switchboard_proto::{CreateAgent, Role};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use crate::{
    clock::{Clock, ShiftedClock, SystemClock},
    http::channels::{sign as sign_payload, SIGNATURE_HEADER},
    openapi::openapi_json,
};
use crate::{db::Database, sqlite::SqliteDatabase};

/// How a server instance runs.
#[derive(Clone)]
pub struct ServerConfig {
    /// Holds `switchboard.db` and the content-addressed `attachments/`.
    pub data_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// How often the webhook worker looks for due deliveries.
    pub webhook_poll: std::time::Duration,
    /// How many committed transactions a stream may fall behind before it is closed.
    pub stream_buffer: usize,
}

impl ServerConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            clock: Arc::new(SystemClock),
            webhook_poll: std::time::Duration::from_millis(500),
            stream_buffer: 4096,
        }
    }
}

fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("switchboard.db")
}

/// Opens the workspace database in `data_dir` (creating and migrating it if needed).
pub fn open_database(config: &ServerConfig) -> anyhow::Result<SqliteDatabase> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    SqliteDatabase::open(&database_path(&config.data_dir), config.clock.clone(), config.stream_buffer)
        .with_context(|| format!("opening database in {}", config.data_dir.display()))
}

/// Creates the first admin of a fresh data directory. Returns their one-time password.
/// Fails if the directory already has agents.
pub async fn init_data_dir(
    config: &ServerConfig,
    admin_email: &str,
    admin_name: &str,
) -> anyhow::Result<String> {
    let database = open_database(config)?;
    if database.has_agents().await? {
        anyhow::bail!("{} already holds a workspace", config.data_dir.display());
    }
    let password = random_password();
    database
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
    let database: Arc<dyn Database> = Arc::new(open_database(&config)?);
    let files = files::FileStore::new(config.data_dir.join("attachments"))?;
    let state = http::AppState::new(database.clone(), files, config.clock.clone(), shutdown.clone());
    let worker = tokio::spawn(webhook::run(database, config.webhook_poll, shutdown.clone()));
    let address = listener.local_addr().ok();
    tracing::info!(?address, data_dir = %config.data_dir.display(), "serving");
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("serving")?;
    shutdown.cancel();
    let _ = worker.await;
    tracing::info!("stopped");
    Ok(())
}
