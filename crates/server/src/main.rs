//! The `switchboard-server` command: `serve`, `init`, `demo` and `openapi`.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard_server::{demo, init_data_dir, launch, openapi_json, Attachments, Backend, ServerConfig};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "switchboard-server", version, about = "The Switchboard team shared-inbox server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a workspace.
    Serve {
        /// Where the database and attachments live (default: the OS data directory).
        #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArg,
        /// Where attachments live: `file:///path` or `s3://bucket/prefix` (credentials, region and
        /// endpoint from the AWS_* variables). Default: `attachments/` under --data-dir, which is
        /// refused with --database postgres://… (it would be local to this node).
        #[arg(long, env = "SWITCHBOARD_ATTACHMENTS")]
        attachments: Option<String>,
        #[arg(long, default_value = "127.0.0.1:7300", env = "SWITCHBOARD_LISTEN")]
        listen: SocketAddr,
        /// This node's name among several sharing a PostgreSQL database, unique among them
        /// (default: `node-` and random hex digits).
        #[arg(long, env = "SWITCHBOARD_NODE_ID")]
        node_id: Option<String>,
        /// A load balancer whose `X-Forwarded-For` is believed (repeat for several; env: a comma-
        /// separated list), so the sign-in rate limit counts each client, not the balancer.
        #[arg(long = "trusted-proxy", env = "SWITCHBOARD_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// The https address providers reach this server at (`https://support.example.com`):
        /// a Telegram inbox's webhook is registered under it (default: the host an admin's
        /// request came to).
        #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Create a workspace and its first admin; prints a one-time password.
    Init {
        #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArg,
        #[arg(long)]
        admin_email: String,
        #[arg(long, default_value = "Admin")]
        admin_name: String,
    },
    /// Serve a seeded demo workspace with simulated customer traffic.
    Demo {
        /// Keep the demo here (reused if already seeded); default: a temporary directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:7300")]
        listen: SocketAddr,
        /// Simulated customer messages per minute; 0 turns the simulator off.
        #[arg(long, default_value_t = 6)]
        rate: u32,
        /// How many conversations to seed.
        #[arg(long, default_value_t = 300)]
        conversations: usize,
        /// The password every demo agent signs in with.
        #[arg(long, default_value = "switchboard-demo", env = "SWITCHBOARD_DEMO_PASSWORD")]
        password: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// Check that no row was altered, removed or inserted: exits 1, naming the first bad row, if
    /// the chain is broken. Prints the chain's head (`SEQ:HASH`): kept somewhere the database's
    /// writers can't reach and passed back with --expect-head, it shows rows removed from the end
    /// too, which nothing in the chain itself can.
    Verify {
        #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArg,
        /// A head an earlier verify printed: that row must still be there, as it was.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<switchboard_server::workspace::AuditHead>,
    },
}

/// Where the workspace's data lives, when not in SQLite under the data directory.
#[derive(clap::Args)]
struct DatabaseArg {
    /// A PostgreSQL URL (`postgres://user:password@host/db`) to keep the workspace in instead of
    /// SQLite under --data-dir (then pass --attachments to `serve` too).
    #[arg(long = "database", env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
    url: Option<String>,
}

impl DatabaseArg {
    /// A config on `data_dir` (or the OS default) with the backend the URL names.
    fn config(&self, data_dir: Option<PathBuf>) -> anyhow::Result<ServerConfig> {
        let mut config = ServerConfig::new(match data_dir {
            Some(dir) => dir,
            None => default_data_dir()?,
        });
        config.backend = Backend::from_url(self.url.as_deref())?;
        Ok(config)
    }
}

/// The OS's per-user data directory for the server.
fn default_data_dir() -> anyhow::Result<PathBuf> {
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
    };
    Ok(base.context("no data directory: pass --data-dir")?.join("switchboard-server"))
}

/// Cancelled on SIGINT or SIGTERM.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        cancel.cancel();
    });
    token
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { data_dir, database, attachments, listen, node_id, trusted_proxies, public_url } => {
            let mut config = database.config(data_dir)?;
            config.trusted_proxies = trusted_proxies;
            config.public_url = public_url;
            config.attachments = attachments.as_deref().map(Attachments::parse).transpose()?;
            config.check_attachments()?;
            if let Some(node_id) = node_id {
                config.node_id = node_id;
            }
            let listener =
                tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
            launch(config, listener, shutdown_on_signal()).await
        }
        Command::Audit { command: AuditCommand::Verify { data_dir, database, expect_head } } => {
            let config = database.config(data_dir)?;
            let workspace = switchboard_server::open_workspace(&config)?;
            let (verdict, head) = workspace
                .verify_audit_to(expect_head)
                .await
                .map_err(|refusal| anyhow::anyhow!(refusal.message))?;
            match verdict.first_bad_seq {
                None => {
                    println!("The audit trail holds: {} rows, each chained to the one before.", verdict.rows);
                    if let Some(head) = head {
                        println!("head: {head}");
                    }
                    Ok(())
                }
                Some(seq) => {
                    println!(
                        "The audit trail is broken at row {seq} (the {} rows before it hold).",
                        verdict.rows
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Init { data_dir, database, admin_email, admin_name } => {
            let config = database.config(data_dir)?;
            let password = init_data_dir(&config, &admin_email, &admin_name).await?;
            let place = config.backend.describe(&config.data_dir);
            println!("Created a workspace in {place} with admin {admin_email}.");
            println!("Sign in with this one-time password and change it:");
            println!("password: {password}");
            Ok(())
        }
        Command::Demo { data_dir, listen, rate, conversations, password } => {
            let (config, _temp) = match data_dir {
                Some(dir) => (ServerConfig::new(dir), None),
                None => {
                    let temp = tempfile::Builder::new().prefix("switchboard-demo-").tempdir()?;
                    (ServerConfig::new(temp.path()), Some(temp))
                }
            };
            eprintln!("Preparing the demo workspace in {} …", config.data_dir.display());
            let workspace = demo::prepare(&config, &password, conversations).await?;
            let listener =
                tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
            let address = listener.local_addr()?;
            let shutdown = shutdown_on_signal();
            let base_url = format!("http://{address}");
            println!("Switchboard demo server: {base_url}");
            println!("admin: {}", demo::ADMIN_EMAIL);
            println!("agents: omid@ (lead), sara@, layla@, andrei@, zofia@switchboard.demo");
            println!("password: {}", workspace.password);
            println!("simulated customer messages per minute: {rate}");
            tokio::spawn(demo::simulate_traffic(base_url, workspace, rate, shutdown.clone()));
            launch(config, listener, shutdown).await
        }
        Command::Openapi => {
            print!("{}", openapi_json());
            Ok(())
        }
    }
}
