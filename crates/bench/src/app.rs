//! The app figures: Switchboard's start-to-painted time and the memory of its process tree, each
//! next to a minimal Tauri 2 hello-world (`crates/bench-hello`) started the same way, in the same
//! run, under the same display.
//!
//! Both binaries print `SWITCHBOARD_FIRST_PAINT` when their first frame with content is on screen
//! (Switchboard: the inbox list of its cache). Cold start is measured from process spawn to that
//! line. Memory is the peak, sampled, of the summed RSS of the process and its descendants
//! (WebKit's web and network processes) while WebDriver opens 20 conversations.
//!
//! The app runs against a real signed-in account (token in the OS keychain) whose cache holds the
//! generated workspace, with its server gone: what is measured is opening from the cache, which is
//! the point of the cache; the network is in the realtime and catch-up figures.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use serde_json::json;
use switchboard_core::{
    accounts::Accounts,
    keychain::{cache_key_entry, CacheKey, OsKeychain, TokenStore},
};
use switchboard_proto::Id;

use crate::report::Row;

const PAINT_MARK: &str = "SWITCHBOARD_FIRST_PAINT";
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How many conversations the memory figure opens.
const OPENED: usize = 20;

/// What the windowed figures need; `Err` says why they can't run here.
pub struct AppHarness {
    app: PathBuf,
    hello: PathBuf,
    /// The app's data directory (`SWITCHBOARD_DATA_DIR`), holding the signed-in account.
    data_dir: tempfile::TempDir,
}

/// A signed-in account for the app, and where its cache goes.
pub struct PreparedAccount {
    pub harness: AppHarness,
    pub me: Id,
    pub cache_path: PathBuf,
    /// The account's cache key (from the keychain): the cache figures build a plain cache at
    /// `cache_path`, encrypted with it before the app starts on it.
    pub cache_key: CacheKey,
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// Finds the two binaries (next to this one unless given) and checks the display, the Secret
/// Service and WebDriver are there.
pub fn find(app: Option<PathBuf>, hello: Option<PathBuf>) -> Result<(PathBuf, PathBuf), String> {
    let here = std::env::current_exe().map_err(|e| e.to_string())?;
    let sibling = |name: &str| here.with_file_name(name);
    let app = app.unwrap_or_else(|| sibling("switchboard"));
    let hello = hello.unwrap_or_else(|| sibling("switchboard-bench-hello"));
    for binary in [&app, &hello] {
        if !binary.is_file() {
            return Err(format!(
                "{} is not built (scripts/bench.sh builds it)",
                binary.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    if std::env::var_os("DISPLAY").is_none() {
        return Err("no display (scripts/bench.sh runs the bench under Xvfb)".into());
    }
    if std::env::var_os("SWITCHBOARD_TEST_SECRET_SERVICE").is_none() {
        return Err("no throwaway Secret Service (scripts/bench.sh runs under with-secret-service.sh)".into());
    }
    for tool in ["tauri-driver", "WebKitWebDriver"] {
        if !on_path(tool) {
            return Err(format!("{tool} is not installed (scripts/setup.sh installs it)"));
        }
    }
    let canonical = |path: PathBuf| path.canonicalize().map_err(|e| format!("{}: {e}", path.display()));
    Ok((canonical(app)?, canonical(hello)?))
}

/// Signs a fresh agent in to a short-lived real server, as the app's sign-in does (the token goes to
/// the OS keychain), then stops the server. The generated workspace is made for this agent.
pub async fn prepare_account(app: PathBuf, hello: PathBuf) -> anyhow::Result<PreparedAccount> {
    let server = crate::figures::BenchServer::start(64).await?;
    let password = "bench password 2";
    reqwest::Client::new()
        .post(format!("{}/api/v1/agents", server.base))
        .bearer_auth(&server.admin_token)
        .json(&json!({"name": "Bench Agent", "email": "agent@bench.example", "role": "agent", "password": password}))
        .send()
        .await?
        .error_for_status()?;
    let data_dir = tempfile::tempdir()?;
    let tokens: Arc<dyn TokenStore> =
        Arc::new(OsKeychain::new().map_err(|e| anyhow::anyhow!("the OS keychain: {e}"))?);
    let accounts = Accounts::new(data_dir.path().to_owned(), tokens.clone());
    let info = accounts.sign_in(&server.base, "agent@bench.example", password, None, "bench", 0).await?;
    server.stop().await;
    let cache_path = accounts.account_dir(&info.key()).join("cache.db");
    let stored =
        tokens.load(&cache_key_entry(&info.key())).map_err(|e| anyhow::anyhow!("the cache key: {e}"))?;
    let cache_key = CacheKey::from_hex(stored.expose()).context("the stored cache key is malformed")?;
    // The cache figures fill a plain cache here; it is encrypted before the app starts on it.
    switchboard_core::cache::Cache::remove(&cache_path)?;
    Ok(PreparedAccount {
        harness: AppHarness { app, hello, data_dir },
        me: info.agent.id,
        cache_path,
        cache_key,
    })
}

/// One start, in milliseconds.
struct StartTime {
    /// From spawn to the paint mark.
    total: f64,
    /// The part of it in the page: from the page's navigation start to its first frame (the
    /// number the mark carries). The rest is the process, the window and the web process starting.
    page: f64,
}

/// Starts `binary` and waits for its paint mark.
fn time_to_paint(binary: &Path, data_dir: &Path) -> anyhow::Result<StartTime> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("SWITCHBOARD_DATA_DIR", data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(page) = line.strip_prefix(PAINT_MARK) {
                let _ = seen_tx.send((Instant::now(), page.trim().parse::<f64>().unwrap_or(f64::NAN)));
            }
        }
    });
    let painted = seen_rx.recv_timeout(START_TIMEOUT);
    stop(&mut child);
    let (painted, page) = painted.with_context(|| format!("{} never painted", binary.display()))?;
    Ok(StartTime { total: crate::figures::millis(painted.duration_since(started)), page })
}

/// Kills a started app and waits until its WebKit processes are gone too, so the next start is
/// alone on the machine (and the single-instance lock is free).
fn stop(child: &mut Child) {
    let tree = process_tree(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tree.iter().any(|pid| Path::new(&format!("/proc/{pid}")).exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `root` and every process under it.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // The parent is the second field after the parenthesised command name.
            let ppid: Option<u32> =
                stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        index += 1;
    }
    tree
}

/// The resident set of each process of a tree, in KiB, by command name (summed per name).
fn tree_rss_kib(root: u32) -> Vec<(String, u64)> {
    let mut by_name: Vec<(String, u64)> = Vec::new();
    for pid in process_tree(root) {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
        let field = |key: &str| status.lines().find_map(|line| line.strip_prefix(key)).map(str::trim);
        let name = field("Name:").unwrap_or("?").to_owned();
        let rss = field("VmRSS:").and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok()).unwrap_or(0);
        match by_name.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += rss,
            None => by_name.push((name, rss)),
        }
    }
    by_name
}

/// The process running `binary` (started by WebKitWebDriver, so not our child).
fn find_process(binary: &Path) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
        (std::fs::read_link(format!("/proc/{pid}/exe")).ok()? == binary).then_some(pid)
    })
}

/// A process tree's memory: the sum, and each process's share (by command name), in KiB.
#[derive(Debug, Clone, Default)]
struct TreeMemory {
    total_kib: u64,
    processes: Vec<(String, u64)>,
}

/// Samples a process tree's RSS every 50 ms until stopped; keeps the sample with the largest sum.
struct PeakSampler {
    peak: Arc<std::sync::Mutex<TreeMemory>>,
    running: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl PeakSampler {
    fn start(binary: PathBuf) -> PeakSampler {
        let peak = Arc::new(std::sync::Mutex::new(TreeMemory::default()));
        let running = Arc::new(AtomicBool::new(true));
        let thread = {
            let (peak, running) = (peak.clone(), running.clone());
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    if let Some(root) = find_process(&binary) {
                        let processes = tree_rss_kib(root);
                        let total_kib = processes.iter().map(|(_, kib)| kib).sum();
                        if let Ok(mut peak) = peak.lock() {
                            if total_kib > peak.total_kib {
                                *peak = TreeMemory { total_kib, processes };
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        PeakSampler { peak, running, thread }
    }

    /// The peak; an error if the process was never seen (so a figure is never "0 MiB, pass").
    fn finish(self, binary: &Path) -> anyhow::Result<TreeMemory> {
        self.running.store(false, Ordering::Relaxed);
        let _ = self.thread.join();
        let peak = self.peak.lock().map(|peak| peak.clone()).unwrap_or_default();
        anyhow::ensure!(peak.total_kib > 0, "never saw a process running {}", binary.display());
        Ok(peak)
    }
}

/// tauri-driver on a free port, with the app's environment (the app inherits it).
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(data_dir: &Path) -> anyhow::Result<Driver> {
        let port = free_port()?;
        let native_port = free_port()?;
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("SWITCHBOARD_DATA_DIR", data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting tauri-driver")?;
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{url}/status")).send().await.is_err() {
            anyhow::ensure!(Instant::now() < deadline, "tauri-driver never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Driver { child, url })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

const WAIT: Duration = Duration::from_secs(60);

/// Peak RSS of the app while it opens [`OPENED`] conversations of its inbox, one after another.
async fn app_peak_memory(harness: &AppHarness) -> anyhow::Result<TreeMemory> {
    let driver = Driver::start(harness.data_dir.path()).await?;
    let sampler = PeakSampler::start(harness.app.clone());
    let session = switchboard_e2e::Session::start(&driver.url, &harness.app.to_string_lossy()).await?;
    let opened = async {
        session.wait_for("[data-testid=conversation-row]", WAIT).await?;
        for index in 0..OPENED {
            let rows = session.find_all("[data-testid=conversation-row]").await?;
            let row = rows.get(index).with_context(|| format!("the inbox shows only {} rows", rows.len()))?;
            let id = session.attribute(row, "data-id").await?.context("a row without an id")?;
            session.click(row).await?;
            session.wait_for(&format!("[data-testid=thread][data-id='{id}']"), WAIT).await?;
            session.wait_for("[data-testid=thread] [data-testid=message]", WAIT).await?;
        }
        // Let the last thread settle (images, layout) before the sampling stops.
        tokio::time::sleep(Duration::from_secs(2)).await;
        anyhow::Ok(())
    }
    .await;
    let peak = sampler.finish(&harness.app);
    let _ = session.end().await;
    drop(driver);
    opened?;
    peak
}

/// Peak RSS of the hello-world, started through WebDriver the same way, over its first seconds.
async fn hello_peak_memory(harness: &AppHarness) -> anyhow::Result<TreeMemory> {
    let driver = Driver::start(harness.data_dir.path()).await?;
    let sampler = PeakSampler::start(harness.hello.clone());
    let session = switchboard_e2e::Session::start(&driver.url, &harness.hello.to_string_lossy()).await?;
    let shown = session.wait_for("h1", WAIT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let peak = sampler.finish(&harness.hello);
    let _ = session.end().await;
    drop(driver);
    shown?;
    peak
}

fn median(samples: &mut [f64]) -> f64 {
    crate::figures::percentile(samples, 0.5)
}

/// Cold start and peak memory, each next to the hello-world.
pub async fn app_figures(harness: &AppHarness, quick: bool) -> anyhow::Result<Vec<Row>> {
    let rounds = if quick { 2 } else { 11 };
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    // Alternate the two, so drift on a shared machine hits both alike.
    for _ in 0..rounds {
        baseline.push(time_to_paint(&harness.hello, harness.data_dir.path())?);
        ours.push(time_to_paint(&harness.app, harness.data_dir.path())?);
    }
    let medians = |starts: &[StartTime]| {
        let mut totals: Vec<f64> = starts.iter().map(|start| start.total).collect();
        let mut pages: Vec<f64> = starts.iter().map(|start| start.page).collect();
        (median(&mut totals), median(&mut pages))
    };
    let ((ours_ms, ours_page_ms), (baseline_ms, baseline_page_ms)) = (medians(&ours), medians(&baseline));
    let start_ratio = ours_ms / baseline_ms;
    let app = app_peak_memory(harness).await?;
    let hello = hello_peak_memory(harness).await?;
    let memory_ratio = app.total_kib as f64 / hello.total_kib as f64;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let shares = |processes: &[(String, u64)]| {
        processes.iter().map(|(name, kib)| format!("{name} {:.0}", mib(*kib))).collect::<Vec<_>>().join(", ")
    };
    Ok(vec![
        Row {
            figure: "app cold start to the inbox painted (median of {rounds}, spawn → first list frame)"
                .replace("{rounds}", &rounds.to_string()),
            ours: format!("{ours_ms:.0} ms"),
            baseline: format!("{baseline_ms:.0} ms (hello-world Tauri)"),
            ratio: Some(start_ratio),
            target: "≤ 1.2×".into(),
            pass: Some(start_ratio <= 1.2),
            note: format!(
                "median ms in the page (navigation start → first frame): app {ours_page_ms:.0}, hello-world {baseline_page_ms:.0}"
            ),
        },
        Row {
            figure: format!("peak memory of the app process tree after opening {OPENED} conversations"),
            ours: format!("{:.0} MiB", mib(app.total_kib)),
            baseline: format!("{:.0} MiB (hello-world Tauri)", mib(hello.total_kib)),
            ratio: Some(memory_ratio),
            target: "≤ 1.3×".into(),
            pass: Some(memory_ratio <= 1.3),
            note: format!(
                "MiB at the peak: app: {}; hello-world: {}",
                shares(&app.processes),
                shares(&hello.processes)
            ),
        },
    ])
}

/// The app rows when they can't be measured here, saying why.
pub fn not_measured(why: &str) -> Vec<Row> {
    [
        ("app cold start to the inbox painted (vs hello-world Tauri)", "≤ 1.2×"),
        ("peak memory of the app process tree after opening 20 conversations (vs hello-world)", "≤ 1.3×"),
    ]
    .into_iter()
    .map(|(figure, target)| Row {
        figure: figure.into(),
        ours: "—".into(),
        baseline: "—".into(),
        ratio: None,
        target: target.into(),
        pass: None,
        note: why.into(),
    })
    .collect()
}
