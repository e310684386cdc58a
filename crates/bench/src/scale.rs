//! The scale-out figures: streams held on one node at fan-out p99 ≤ 100 ms while ingesting (SQLite
//! and PostgreSQL), two nodes against one, cross-node latency next to same-node latency, and
//! mutating requests per second with 200 streams open (two PostgreSQL nodes next to one SQLite
//! node), all in one run.
//!
//! The server nodes run in this process (as `crates/server/tests/server/harness.rs` starts them);
//! the load (streams, writers, and the clock they are timed on) runs in a child process,
//! `switchboard-bench load-client` ([`crate::load`]), so the client's work is neither scheduled on
//! the servers' runtime nor counted as their CPU. Each step reports the server's CPU time (this
//! process) and the client's beside its wall time, so a reader can tell which side ran out of CPU.
//! PostgreSQL comes from `SWITCHBOARD_TEST_DATABASE_URL` (`scripts/bench.sh` runs the bench through
//! `scripts/with-postgres.sh`); without it the PostgreSQL rows say they were not measured.
//!
//! The streams held on one node are measured twice. *Paced* (the figure): for each stream
//! count, customer messages offered at a fixed rate, open loop and timed from when each was due,
//! the rate stepped up until the p99 passes 100 ms or a frame is lost; the row is the highest rate
//! held at each count. *Saturated* (for comparison with the earlier runs): four writers posting
//! back to back, so the rate is whatever the two cores leave, and the latency grows with the
//! queue as much as with the streams.
//!
//! To profile one load, `SWITCHBOARD_BENCH_STREAMS=5000 switchboard-bench --only scale` replaces
//! the steps of the streams figures by that one (halved per node on two nodes).

use anyhow::Context;
use serde_json::json;
use switchboard_proto::*;
use switchboard_server::{Attachments, Backend, DatabaseUrl, ServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::{
    load::{cpu_seconds, Job, Line, Spec, StepResult},
    report::Row,
};

/// The fan-out target: a stream is held when its frames arrive within this p99.
const P99_MS: f64 = 100.0;
/// The mutation figure's bound on request latency.
const P95_MS: f64 = 150.0;

#[derive(Debug, Clone)]
pub enum Database {
    Sqlite,
    /// An admin URL on a PostgreSQL server; each cluster creates a database of its own on it.
    Postgres(String),
}

impl Database {
    fn name(&self) -> &'static str {
        match self {
            Database::Sqlite => "SQLite",
            Database::Postgres(_) => "PostgreSQL",
        }
    }
}

/// One or more server nodes on one database, with an admin and an API inbox.
pub struct Cluster {
    pub nodes: Vec<String>,
    token: String,
    inbox: CreatedInbox,
    shutdown: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start(database: &Database, nodes: usize) -> anyhow::Result<Cluster> {
        let dir = tempfile::tempdir()?;
        let mut config = ServerConfig::new(dir.path());
        if let Database::Postgres(admin) = database {
            let name = format!("bench_{}", Id::new_v4().simple());
            let admin = DatabaseUrl::new(admin.clone());
            let url = tokio::task::spawn_blocking(move || admin.create_database(&name)).await??;
            config.backend = Backend::Postgres { url };
            config.attachments = Some(Attachments::Directory(dir.path().join("attachments")));
        }
        anyhow::ensure!(
            nodes == 1 || matches!(database, Database::Postgres(_)),
            "several nodes need PostgreSQL"
        );
        let password =
            switchboard_server::init_data_dir(&config, "admin@bench.example", "Bench Admin").await?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let mut bases = Vec::new();
        let mut tasks = Vec::new();
        let run = Id::new_v4().simple().to_string();
        for node in 0..nodes {
            let mut config = config.clone();
            config.node_id = format!("bench-{node}-{}", &run[..8]);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            bases.push(format!("http://{}", listener.local_addr()?));
            tasks.push(tokio::spawn(switchboard_server::launch(config, listener, shutdown.clone())));
        }
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{}/api/v1/auth/login", bases[0]))
            .json(&json!({"email": "admin@bench.example", "password": password, "device_name": "bench"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let inbox: CreatedInbox = http
            .post(format!("{}/api/v1/inboxes", bases[0]))
            .bearer_auth(&login.token)
            .json(&json!({"name": "Bench", "channel": "webchat"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Cluster { nodes: bases, token: login.token, inbox, shutdown, tasks, _dir: dir })
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }

    fn spec(&self, job: Job) -> Spec {
        Spec {
            nodes: self.nodes.clone(),
            token: self.token.clone(),
            inbox_id: self.inbox.inbox.id,
            signing_secret: self.inbox.signing_secret.clone(),
            job,
        }
    }
}

/// A measured step and the server process's CPU seconds during its load.
#[derive(Debug, Clone)]
pub struct Step {
    pub result: StepResult,
    pub server_cpu_seconds: f64,
}

/// Runs the load client on `spec` and collects its steps.
pub async fn run_load(spec: &Spec) -> anyhow::Result<Vec<Step>> {
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .arg("load-client")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the load client")?;
    let mut stdin = child.stdin.take().context("the load client's stdin")?;
    stdin.write_all(serde_json::to_string(spec)?.as_bytes()).await?;
    drop(stdin);
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut steps = Vec::new();
    let mut cpu_at_start = f64::NAN;
    while let Some(line) = lines.next_line().await? {
        match serde_json::from_str::<Line>(&line).with_context(|| format!("load client said {line:?}"))? {
            Line::Started { .. } => cpu_at_start = cpu_seconds("self"),
            Line::Done(result) => {
                let server_cpu_seconds = cpu_seconds("self") - cpu_at_start;
                eprintln!(
                    "  {} streams: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms ({}/{}), rate {:.0}/s, {:.1} s, CPU server {:.1} s, client {:.1} s",
                    fmt_streams(&result.streams),
                    result.all.p50,
                    result.all.p95,
                    result.all.p99,
                    result.all.count,
                    result.all.expected,
                    result.rate,
                    result.seconds,
                    server_cpu_seconds,
                    result.client_cpu_seconds
                );
                if result.offered_rate > 0.0 {
                    eprintln!("    offered {:.0} msg/s", result.offered_rate);
                }
                let step = Step { result, server_cpu_seconds };
                if step.result.reads > 0 {
                    eprintln!("    {}", per_delivery(&step));
                }
                steps.push(step);
            }
        }
    }
    let status = child.wait().await?;
    anyhow::ensure!(status.success(), "the load client failed: {status}");
    Ok(steps)
}

/// What one delivered message (a probe reaching one stream) cost: the CPU of the server and of the
/// client divided by the deliveries, and the reads and bytes per delivery. The per-stream cost of
/// fan-out, whatever the latency the machine's other load allowed.
fn per_delivery(step: &Step) -> String {
    let deliveries = step.result.all.count.max(1) as f64;
    format!(
        "per delivery: CPU server {:.1} µs + client {:.1} µs, {:.2} reads, {:.0} bytes",
        step.server_cpu_seconds * 1e6 / deliveries,
        step.result.client_cpu_seconds * 1e6 / deliveries,
        step.result.reads as f64 / deliveries,
        step.result.bytes as f64 / deliveries
    )
}

fn fmt_count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_streams(streams: &[usize]) -> String {
    let total = fmt_count(streams.iter().sum());
    if streams.len() == 1 {
        total
    } else {
        format!("{total} ({})", streams.iter().map(|&n| fmt_count(n)).collect::<Vec<_>>().join(" + "))
    }
}

/// How far the open-file limit lets the streams go: the client holds a socket per stream, and this
/// process the server's end of each.
fn stream_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1024);
    soft.saturating_sub(512)
}

/// The steps of the streams figures.
struct Plan {
    /// The saturated figure's stream counts on one node.
    one_node: Vec<usize>,
    /// The two-node figure's stream counts (paced, split over the nodes).
    two_nodes: Vec<usize>,
    messages: usize,
    latency_streams: usize,
    latency_messages: usize,
    mutation_concurrency: Vec<usize>,
    mutation_seconds: f64,
    /// The paced figure: the stream counts, the rates offered at each (messages per second), how
    /// long each rate runs and the fewest messages it sends.
    paced_streams: Vec<usize>,
    rates: Vec<f64>,
    paced_seconds: f64,
    paced_min_messages: usize,
}

fn plan(quick: bool) -> Plan {
    let mut plan = preset_plan(quick);
    if let Some(streams) = std::env::var("SWITCHBOARD_BENCH_STREAMS").ok().and_then(|n| n.parse().ok()) {
        plan.one_node = vec![streams];
        plan.two_nodes = vec![streams];
        plan.paced_streams = vec![streams];
    }
    plan
}

fn preset_plan(quick: bool) -> Plan {
    if quick {
        Plan {
            one_node: vec![200],
            two_nodes: vec![100, 200],
            messages: 40,
            latency_streams: 20,
            latency_messages: 30,
            mutation_concurrency: vec![8],
            mutation_seconds: 1.0,
            paced_streams: vec![100, 200],
            rates: vec![10.0, 20.0],
            paced_seconds: 1.0,
            paced_min_messages: 10,
        }
    } else {
        Plan {
            one_node: vec![1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000, 12_500, 15_000],
            two_nodes: vec![1_000, 2_000, 4_000, 6_000, 8_000, 10_000, 12_500, 15_000],
            messages: 200,
            latency_streams: 100,
            latency_messages: 200,
            mutation_concurrency: vec![2, 4, 8, 16, 32, 64],
            mutation_seconds: 5.0,
            paced_streams: vec![1_000, 2_000, 4_000, 6_000, 8_000, 10_000, 12_500, 15_000],
            rates: vec![5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0],
            paced_seconds: 3.0,
            paced_min_messages: 20,
        }
    }
}

/// The most streams held at fan-out p99 ≤ 100 ms with every frame delivered, and its step.
fn held(steps: &[Step]) -> Option<&Step> {
    steps
        .iter()
        .filter(|s| s.result.all.count >= s.result.all.expected && s.result.all.p99 <= P99_MS)
        .max_by_key(|s| s.result.streams.iter().sum::<usize>())
}

/// The paced job over these stream counts, each split over `nodes` nodes, messages to every node.
fn paced_job(counts: &[usize], plan: &Plan, nodes: usize) -> Job {
    Job::Paced {
        steps: counts
            .iter()
            .map(|&n| (0..nodes).map(|i| n / nodes + usize::from(i < n % nodes)).collect())
            .collect(),
        rates: plan.rates.clone(),
        seconds: plan.paced_seconds,
        min_messages: plan.paced_min_messages,
        write_nodes: (0..nodes).collect(),
        p99_ms: P99_MS,
    }
}

/// What a delivery cost on one node and on two at the same streams and rate (the most streams
/// both ran): the server's CPU per delivery, which stays the same when capacity scales with the
/// cores the nodes have. On one shared machine that is what two nodes can show.
fn same_point(one: &[Step], two: &[Step]) -> Option<String> {
    let total = |s: &Step| s.result.streams.iter().sum::<usize>();
    let (a, b) = two
        .iter()
        .filter_map(|b| {
            let a = one
                .iter()
                .find(|a| total(a) == total(b) && a.result.offered_rate == b.result.offered_rate)?;
            Some((a, b))
        })
        .max_by_key(|(a, _)| (total(a), a.result.offered_rate as u64))?;
    Some(format!(
        "at {} streams and {:.0} msg/s, one node: p99 {:.0} ms, {}; two nodes: p99 {:.0} ms, {}",
        fmt_count(total(a)),
        a.result.offered_rate,
        a.result.all.p99,
        per_delivery(a),
        b.result.all.p99,
        per_delivery(b)
    ))
}

fn fan_out_job(steps: Vec<Vec<usize>>, plan: &Plan, nodes: usize) -> Job {
    Job::FanOut {
        steps,
        messages: plan.messages,
        writers: 4,
        write_nodes: (0..nodes).collect(),
        stop_above_ms: P99_MS,
    }
}

/// What a fan-out figure says: the streams held and the step above it.
fn describe_streams(steps: &[Step]) -> String {
    let held = held(steps);
    let mut out = match held {
        Some(step) => format!(
            "**{}** held: p50 {:.0} ms, p99 {:.0} ms, ingest {:.0} msg/s, CPU server {:.1} s + client {:.1} s in {:.1} s ({})",
            fmt_streams(&step.result.streams),
            step.result.all.p50,
            step.result.all.p99,
            step.result.rate,
            step.server_cpu_seconds,
            step.result.client_cpu_seconds,
            step.result.seconds,
            per_delivery(step)
        ),
        None => "none held".to_owned(),
    };
    let held_total = held.map_or(0, |s| s.result.streams.iter().sum::<usize>());
    if let Some(above) = steps.iter().find(|s| s.result.streams.iter().sum::<usize>() > held_total) {
        out.push_str(&format!(
            "; at {}: p99 {:.0} ms, {}/{} frames, ingest {:.0} msg/s ({})",
            fmt_streams(&above.result.streams),
            above.result.all.p99,
            above.result.all.count,
            above.result.all.expected,
            above.result.rate,
            per_delivery(above)
        ));
    }
    out
}

/// The paced figure: for each stream count, the highest rate held (every frame, p99 ≤ 100 ms),
/// and the step that held it.
fn paced_held(steps: &[Step]) -> Vec<(usize, Option<&Step>)> {
    let mut counts: Vec<usize> = steps.iter().map(|s| s.result.streams.iter().sum()).collect();
    counts.dedup();
    counts
        .into_iter()
        .map(|count| {
            let best = steps
                .iter()
                .filter(|s| s.result.streams.iter().sum::<usize>() == count)
                .filter(|s| s.result.all.count >= s.result.all.expected && s.result.all.p99 <= P99_MS)
                .max_by(|a, b| a.result.offered_rate.total_cmp(&b.result.offered_rate));
            (count, best)
        })
        .collect()
}

/// The most streams held at some paced rate.
fn paced_held_total(steps: &[Step]) -> usize {
    paced_held(steps).iter().filter(|(_, s)| s.is_some()).map(|(n, _)| *n).max().unwrap_or(0)
}

fn describe_paced(steps: &[Step]) -> String {
    let parts: Vec<String> = paced_held(steps)
        .iter()
        .map(|(count, best)| match best {
            Some(step) => format!(
                "{}: **{:.0} msg/s** (p99 {:.0} ms, {})",
                fmt_count(*count),
                step.result.offered_rate,
                step.result.all.p99,
                per_delivery(step)
            ),
            None => {
                let lowest = steps
                    .iter()
                    .filter(|s| s.result.streams.iter().sum::<usize>() == *count)
                    .min_by(|a, b| a.result.offered_rate.total_cmp(&b.result.offered_rate));
                match lowest {
                    Some(step) => format!(
                        "{}: none (at {:.0} msg/s p99 {:.0} ms, {}/{} frames)",
                        fmt_count(*count),
                        step.result.offered_rate,
                        step.result.all.p99,
                        step.result.all.count,
                        step.result.all.expected
                    ),
                    None => format!("{}: not run", fmt_count(*count)),
                }
            }
        })
        .collect();
    parts.join("; ")
}

fn held_total(steps: &[Step]) -> usize {
    held(steps).map_or(0, |s| s.result.streams.iter().sum())
}

/// The best rate among the steps at p95 ≤ 150 ms.
fn sustained(steps: &[Step]) -> Option<&Step> {
    steps
        .iter()
        .filter(|s| s.result.all.p95 <= P95_MS && s.result.errors == 0)
        .max_by(|a, b| a.result.rate.total_cmp(&b.result.rate))
}

fn describe_rate(steps: &[Step]) -> String {
    match sustained(steps) {
        Some(step) => format!(
            "{:.0} req/s ({} writers, p95 {:.0} ms, CPU server {:.1} s + client {:.1} s in {:.1} s)",
            step.result.rate,
            step.result.concurrency,
            step.result.all.p95,
            step.server_cpu_seconds,
            step.result.client_cpu_seconds,
            step.result.seconds
        ),
        None => "none at p95 ≤ 150 ms".to_owned(),
    }
}

fn not_measured(figure: &str, target: &str, why: &str) -> Row {
    Row {
        figure: figure.into(),
        ours: "—".into(),
        baseline: "—".into(),
        ratio: None,
        target: target.into(),
        pass: None,
        note: why.into(),
    }
}

/// The scale-out rows. PostgreSQL is `SWITCHBOARD_TEST_DATABASE_URL`'s server, if set.
pub async fn scale_figures(quick: bool) -> anyhow::Result<Vec<Row>> {
    let plan = plan(quick);
    let limit = stream_limit();
    let capped = |steps: &[usize]| -> Vec<usize> { steps.iter().copied().filter(|&n| n <= limit).collect() };
    let (one_node, two_nodes) = (capped(&plan.one_node), capped(&plan.two_nodes));
    let limit_note = if one_node.len() < plan.one_node.len() || two_nodes.len() < plan.two_nodes.len() {
        format!(" (steps above {} streams left out: the open-file limit)", fmt_count(limit))
    } else {
        String::new()
    };
    let postgres =
        std::env::var("SWITCHBOARD_TEST_DATABASE_URL").ok().filter(|url| url.starts_with("postgres"));
    let quick_note = "the quick preset runs a few hundred streams to keep the harness working; the full run measures the figure";
    let one_target = "10,000 streams at p99 ≤ 100 ms";
    let mut rows = Vec::new();

    // Streams on one node, each backend.
    let mut single = Vec::new();
    let mut databases = vec![Database::Sqlite];
    databases.extend(postgres.clone().map(Database::Postgres));
    let mut sqlite_cluster = None;
    for database in &databases {
        eprintln!("scale: streams on one {} node…", database.name());
        let cluster = Cluster::start(database, 1).await?;
        let steps =
            run_load(&cluster.spec(fan_out_job(one_node.iter().map(|&n| vec![n]).collect(), &plan, 1)))
                .await?;
        let held = held_total(&steps);
        eprintln!("scale: paced ingest on the same {} node…", database.name());
        let paced = run_load(&cluster.spec(paced_job(&capped(&plan.paced_streams), &plan, 1))).await?;
        let paced_total = paced_held_total(&paced);
        rows.push(Row {
            figure: format!("server, one {} node: streams held at fan-out p99 ≤ 100 ms, and the highest ingest rate held at each count (paced, open loop, timed from each message's due time; {:.0} s a rate){limit_note}", database.name(), plan.paced_seconds),
            ours: describe_paced(&paced),
            baseline: "—".into(),
            ratio: Some(paced_total as f64 / 10_000.0),
            target: one_target.into(),
            pass: (!quick).then_some(paced_total >= 10_000),
            note: if quick { quick_note.into() } else { String::new() },
        });
        rows.push(Row {
            figure: format!("server, one {} node, saturated (four writers back to back, the rate what the cores leave): streams held at fan-out p99 ≤ 100 ms while ingesting {} messages{limit_note}", database.name(), plan.messages),
            ours: describe_streams(&steps),
            baseline: "—".into(),
            ratio: Some(held as f64 / 10_000.0),
            target: one_target.into(),
            pass: None,
            note: format!("for comparison with the runs before the paced figure ({} streams held)", fmt_count(held)),
        });
        single.push((database.clone(), paced));
        match database {
            Database::Sqlite => sqlite_cluster = Some(cluster),
            Database::Postgres(_) => cluster.stop().await,
        }
    }
    let sqlite_cluster = sqlite_cluster.context("the SQLite node")?;

    let Some(admin) = postgres else {
        let why = "no PostgreSQL: scripts/bench.sh runs the bench through scripts/with-postgres.sh";
        rows.push(not_measured("server, one PostgreSQL node: streams held", one_target, why));
        rows.push(not_measured("two PostgreSQL nodes against one: streams held", "≥ 1.8×", why));
        rows.push(not_measured("cross-node latency", "p99 ≤ 200 ms", why));
        rows.push(not_measured(
            "mutating requests per second, two nodes, 200 streams",
            "≥ 300 req/s at p95 ≤ 150 ms",
            why,
        ));
        sqlite_cluster.stop().await;
        return Ok(rows);
    };
    let database = Database::Postgres(admin);

    // Two nodes against one, paced as on one node, the streams split and the messages to both.
    eprintln!("scale: paced ingest on two PostgreSQL nodes…");
    let cluster = Cluster::start(&database, 2).await?;
    let steps = run_load(&cluster.spec(paced_job(&two_nodes, &plan, 2))).await?;
    let held_two = paced_held_total(&steps);
    let one: &[Step] =
        single.iter().find(|(d, _)| matches!(d, Database::Postgres(_))).map_or(&[], |(_, s)| s.as_slice());
    let held_one = paced_held_total(one);
    let ratio = held_two as f64 / held_one.max(1) as f64;
    rows.push(Row {
        figure: format!("two PostgreSQL nodes against one: streams held at fan-out p99 ≤ 100 ms, paced (messages to both){limit_note}"),
        ours: describe_paced(&steps),
        baseline: format!("{} on one node", fmt_count(held_one)),
        ratio: Some(ratio),
        target: "≥ 1.8×".into(),
        pass: (!quick).then_some(ratio >= 1.8),
        note: same_point(one, &steps).unwrap_or_default(),
    });

    // Cross-node latency: one writer on node A, streams on both.
    eprintln!("scale: cross-node latency…");
    let n = plan.latency_streams;
    let steps = run_load(&cluster.spec(Job::FanOut {
        steps: vec![vec![n, n]],
        messages: plan.latency_messages,
        writers: 1,
        write_nodes: vec![0],
        stop_above_ms: 1e9,
    }))
    .await?;
    let step = steps.first().context("the latency step")?;
    let (same, cross) = (&step.result.per_node[0], &step.result.per_node[1]);
    rows.push(Row {
        figure: format!(
            "cross-node latency: customer message posted to node A → frame on node B ({n} streams on each, {} messages one at a time)",
            plan.latency_messages
        ),
        ours: format!("p50 {:.1} ms, p99 {:.1} ms ({}/{} frames)", cross.p50, cross.p99, cross.count, cross.expected),
        baseline: format!("same node: p50 {:.1} ms, p99 {:.1} ms", same.p50, same.p99),
        ratio: Some(cross.p99 / same.p99),
        target: "p99 ≤ 200 ms".into(),
        pass: Some(cross.count >= cross.expected && cross.p99 <= 200.0),
        note: String::new(),
    });

    // Mutating requests: two PostgreSQL nodes against one SQLite node, 200 streams open.
    let mutations = |nodes: usize| Job::Mutations {
        streams: if nodes == 1 { vec![200] } else { vec![100, 100] },
        concurrency: plan.mutation_concurrency.clone(),
        seconds: plan.mutation_seconds,
        stop_above_ms: P95_MS,
    };
    eprintln!("scale: mutations on one SQLite node…");
    let sqlite_steps = run_load(&sqlite_cluster.spec(mutations(1))).await?;
    sqlite_cluster.stop().await;
    eprintln!("scale: mutations on two PostgreSQL nodes…");
    let postgres_steps = run_load(&cluster.spec(mutations(2))).await?;
    cluster.stop().await;
    let rate = |steps: &[Step]| sustained(steps).map_or(0.0, |s| s.result.rate);
    let (ours, baseline) = (rate(&postgres_steps), rate(&sqlite_steps));
    rows.push(Row {
        figure: "mutating requests per second at p95 ≤ 150 ms, two PostgreSQL nodes, 200 streams open (customer message, note, priority)".into(),
        ours: describe_rate(&postgres_steps),
        baseline: format!("one SQLite node: {}", describe_rate(&sqlite_steps)),
        ratio: Some(ours / baseline.max(f64::MIN_POSITIVE)),
        target: "≥ 300 req/s".into(),
        pass: (!quick).then_some(ours >= 300.0),
        note: if quick { "the quick preset runs 1 s steps".into() } else { String::new() },
    });
    Ok(rows)
}
