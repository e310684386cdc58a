//! `switchboard-bench`: measures the figures of the performance issue on a generated workspace,
//! each next to its baseline or target from the same run, and writes a Markdown table and JSON.
//!
//!     cargo run --release -p switchboard-bench -- [--quick] [--out bench-results] [--seed 7]
//!
//!     switchboard-bench --only scale     # only the scale-out figures (streams, nodes, mutations)
//!     switchboard-bench --only automation-ingest   # one half of `--only automation` (or -timers)
//!     switchboard-bench --only reports  # the report rows on SQLite and PostgreSQL (-sqlite, -postgres)
//!     switchboard-bench --only board    # the triage board's pages in the core's cache
//!     switchboard-bench --only bootstrap   # a fresh device's sign-in, history and long thread
//!
//! Timings are reported, never asserted: CI runs `--quick` only to keep the harness working.
//! `switchboard-bench load-client` is the scale figures' load, which the bench starts as a process
//! of its own (`load.rs`).

use switchboard_bench::{app, automation, board, figures, generate, load, report, reports, scale};

use std::path::PathBuf;

use anyhow::Context;

struct Options {
    quick: bool,
    out: PathBuf,
    seed: u64,
    /// The app and hello-world binaries (default: next to this one).
    app: Option<PathBuf>,
    hello: Option<PathBuf>,
    /// Only these figures (`cache`, `network`, `scale`, `automation`, `channels`, `reports`,
    /// `board`, `app`; `automation-ingest`
    /// and `automation-timers` are the two halves of `automation`); all when empty.
    only: Vec<String>,
}

impl Options {
    fn wants(&self, figures: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == figures)
    }
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        quick: false,
        out: PathBuf::from("bench-results"),
        seed: 7,
        app: None,
        hello: None,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--out" => options.out = args.next().context("--out needs a directory")?.into(),
            "--seed" => options.seed = args.next().context("--seed needs a number")?.parse()?,
            "--app" => options.app = Some(args.next().context("--app needs a path")?.into()),
            "--hello" => options.hello = Some(args.next().context("--hello needs a path")?.into()),
            "--only" => options.only.push(args.next().context("--only needs cache, network, scale or app")?),
            "-h" | "--help" => {
                println!(
                    "switchboard-bench [--quick] [--out DIR] [--seed N] [--app PATH] [--hello PATH] [--only cache|encryption|network|scale|automation[-ingest|-timers]|channels|reports[-sqlite|-postgres]|board|bootstrap|app]..."
                );
                println!(
                    "The app figures need a display, a Secret Service and tauri-driver: scripts/bench.sh."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("load-client") {
        return load::main().await;
    }
    let options = options()?;
    let preset = if options.quick { generate::QUICK } else { generate::FULL };
    // The app figures start the real app on the cache the cache figures build, signed in as the
    // agent the workspace is generated for; without their environment, they say why not.
    let account = if options.wants("app") {
        match app::find(options.app.clone(), options.hello.clone()) {
            Ok((app, hello)) => Ok(app::prepare_account(app, hello).await?),
            Err(why) => {
                eprintln!("app figures not measured: {why}");
                Err(why)
            }
        }
    } else {
        Err("not asked for (--only)".to_owned())
    };
    let mut rows = Vec::new();
    if options.wants("cache") || options.wants("app") || options.wants("encryption") {
        let scratch = tempfile::tempdir()?;
        let cache_path =
            account.as_ref().map_or_else(|_| scratch.path().join("cache.db"), |a| a.cache_path.clone());
        eprintln!(
            "generating {} conversations and {} messages (seed {})…",
            preset.conversations, preset.messages, options.seed
        );
        let workspace = generate::generate(preset, options.seed, account.as_ref().ok().map(|a| a.me));
        eprintln!("cache figures…");
        if options.wants("cache") || options.wants("app") {
            rows.extend(figures::cache_figures(&workspace, options.quick, &cache_path)?);
        }
        if let Ok(account) = &account {
            // The app opens its account's cache encrypted: encrypt the one just built, as a first
            // start after an upgrade would, so the app figures time the usual start.
            drop(switchboard_core::cache::Cache::open_encrypted(&cache_path, &account.cache_key)?);
        }
        if options.wants("encryption") || options.wants("cache") {
            eprintln!("encrypted cache figures…");
            rows.extend(switchboard_bench::encryption::encryption_figures(&workspace, options.quick)?);
        }
    }
    if options.wants("network") {
        eprintln!("network figures…");
        rows.extend(figures::network_figures(options.quick).await?);
    }
    if options.wants("scale") {
        eprintln!("scale figures…");
        rows.extend(scale::scale_figures(options.quick).await?);
    }
    let parts = automation::Parts {
        ingest: options.wants("automation") || options.only.iter().any(|o| o == "automation-ingest"),
        timers: options.wants("automation") || options.only.iter().any(|o| o == "automation-timers"),
    };
    if parts.ingest || parts.timers {
        eprintln!("automation figures…");
        rows.extend(automation::automation_figures(options.quick, parts).await?);
    }
    if options.wants("channels") {
        eprintln!("channel figures…");
        rows.extend(switchboard_bench::channels::channel_figures(options.quick).await?);
    }
    // `reports-sqlite` and `reports-postgres` are the two halves of `reports`.
    let (report_sqlite, report_postgres) = (
        options.wants("reports") || options.only.iter().any(|o| o == "reports-sqlite"),
        options.wants("reports") || options.only.iter().any(|o| o == "reports-postgres"),
    );
    if report_sqlite || report_postgres {
        // PostgreSQL from `SWITCHBOARD_TEST_DATABASE_URL`, as for the scale figures.
        let mut databases = Vec::new();
        if report_sqlite {
            databases.push(scale::Database::Sqlite);
        }
        let postgres =
            std::env::var("SWITCHBOARD_TEST_DATABASE_URL").ok().filter(|url| url.starts_with("postgres"));
        if report_postgres {
            databases.extend(postgres.clone().map(scale::Database::Postgres));
        }
        for database in &databases {
            let name = match database {
                scale::Database::Sqlite => "SQLite",
                scale::Database::Postgres(_) => "PostgreSQL",
            };
            eprintln!("report figures ({name})…");
            rows.extend(reports::report_figures(options.quick, database, preset, options.seed).await?);
        }
        if report_postgres && postgres.is_none() {
            rows.push(report::Row {
                figure: "reports (PostgreSQL): 30-day summary, 90-day timeseries, 10,000-row CSV".into(),
                ours: "—".into(),
                baseline: "—".into(),
                ratio: None,
                target: "p95 ≤ 250 ms; ≤ 2,000 ms".into(),
                pass: None,
                note: "no SWITCHBOARD_TEST_DATABASE_URL (scripts/bench.sh starts a throwaway cluster)".into(),
            });
        }
    }
    if options.wants("bootstrap") {
        eprintln!("bootstrap figures…");
        rows.extend(
            switchboard_bench::bootstrap::bootstrap_figures(options.quick, preset, options.seed).await?,
        );
    }
    if options.wants("board") {
        eprintln!("board figures…");
        rows.extend(board::board_figures(options.quick, options.seed)?);
    }
    if options.wants("app") {
        match &account {
            Ok(account) => {
                eprintln!("app figures…");
                rows.extend(app::app_figures(&account.harness, options.quick).await?);
            }
            Err(why) => rows.extend(app::not_measured(why)),
        }
    }
    let report = report::Report::new(&rows, options.quick, preset);
    std::fs::create_dir_all(&options.out)?;
    std::fs::write(options.out.join("bench.md"), report.markdown())?;
    std::fs::write(options.out.join("bench.json"), serde_json::to_string_pretty(&report)?)?;
    println!("{}", report.markdown());
    eprintln!("written to {}", options.out.display());
    Ok(())
}
