//! A new laptop ready in seconds (issue 19): a fresh device signs in to a server holding the whole
//! dataset and the client core bootstraps through the priority snapshot (`GET /sync/bootstrap`),
//! then backfills the history behind it (`crates/core/src/cache/backfill.rs`). Measured, on the
//! reports figures' bulk-loaded server (`reports.rs`: 100k conversations and 1M messages in full,
//! its directory through the HTTP API), signed in as its admin, who sees every inbox:
//!
//! - sign-in (a new device's login) to the first page of the inbox list read from the cache with
//!   current data, next to the same figure on a 10,000-message workspace: the median of several
//!   fresh devices signing in one after another (`SWITCHBOARD_BENCH_SIGNINS`, six on the full
//!   preset), all but the last stopping at the first page;
//! - the time until the history is complete (reported), for the last of those devices;
//! - the inbox list page's p95 while its history streams in (read again and again meanwhile);
//! - a 10,000-message thread in the cache: its newest page opened, then scrolled to its start a
//!   page at a time (`Cache::thread_page`), never loading the whole thread.

use std::{
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};

use serde_json::json;
use switchboard_core::{
    api::ApiClient,
    cache::{views::View, Cache},
    events::Event,
    keychain::Token,
    sync::{Engine, EngineConfig},
};
use switchboard_proto::*;
use switchboard_server::ServerConfig;

use crate::{
    figures::{list_page, millis, percentile},
    generate::Preset,
    report::Row,
    reports,
};

/// What one fresh device's bootstrap measured.
struct Measured {
    first_page_ms: f64,
    /// The sign-in's parts: the login request, and the snapshot's request alone (asked again by
    /// the same device once the history is in: the server's selection and the transfer).
    login_ms: f64,
    snapshot_ms: f64,
    complete_secs: f64,
    list_samples: Vec<f64>,
    rows_on_first_page: usize,
    snapshot_changes: usize,
    /// Of them, in the first commit (`cache/backfill.rs::first_part`).
    first_part_changes: usize,
    cache_path: std::path::PathBuf,
    cache: Arc<Cache>,
    _dir: tempfile::TempDir,
}

/// A server holding `preset`, and `rounds` fresh devices signing in to it one after another: the
/// last one's figures, and every device's sign-in to its first page (ms).
async fn fresh_device(
    preset: Preset,
    seed: u64,
    rounds: usize,
) -> anyhow::Result<(Measured, Vec<f64>, reports::Node, tempfile::TempDir)> {
    let data = tempfile::tempdir()?;
    let config = ServerConfig::new(data.path());
    let password = switchboard_server::init_data_dir(&config, "admin@bench.example", "Bench Admin").await?;
    let node = reports::Node::start(config, &password).await?;
    let directory = reports::create_directory(&node).await?;
    let config = node.stop().await;
    let now = switchboard_server::Clock::now(&switchboard_server::SystemClock);
    eprintln!("  loading {} conversations, {} messages…", preset.conversations, preset.messages);
    reports::bulk_load(&config, &directory, preset, seed, now).await?;
    let node = reports::Node::start(config, &password).await?;
    // Each device has a new cache. All but the last stop at their first page; the last one also
    // waits for its history (unless `SWITCHBOARD_BENCH_SIGNIN_ONLY`), and its figures are the
    // history, streaming and thread rows'.
    let mut first_pages = Vec::new();
    let mut last = None;
    for round in 0..rounds {
        let measured = sign_in(&node, &password, round + 1 == rounds).await?;
        eprintln!("  sign-in {round}: first page {:.1} ms", measured.first_page_ms);
        first_pages.push(measured.first_page_ms);
        last = Some(measured);
    }
    let measured = last.ok_or_else(|| anyhow::anyhow!("no sign-in"))?;
    Ok((measured, first_pages, node, data))
}

/// A fresh device signing in to `node` as its admin; with `history`, it also waits until its
/// history is complete, reading the list meanwhile.
async fn sign_in(node: &reports::Node, password: &str, history: bool) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir()?;
    let cache_path = dir.path().join("cache.db");
    let (events, received) = mpsc::channel();
    crate::phases::record();
    let _ = crate::phases::take();
    let started = Instant::now();
    let login: LoginResponse = node
        .http
        .post(format!("{}/api/v1/auth/login", node.base))
        .json(&json!({"email": "admin@bench.example", "password": password, "device_name": "new laptop"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let login_ms = millis(started.elapsed());
    let token = login.token.clone();
    let cache = Arc::new(Cache::open(&cache_path)?);
    cache.set_identity(login.agent.id, Millis::MAX)?;
    let api = ApiClient::new(&node.base, Token::new(login.token));
    let events = std::sync::Mutex::new(events);
    let config = EngineConfig::new(
        api,
        cache.clone(),
        Arc::new(move |event| {
            if let Event::CacheChanged { .. } = event {
                let _ = events.lock().map(|e| e.send(()));
            }
        }),
        dir.path().join("staging"),
    );
    let engine = Engine::start(config);
    // The first change the engine reports is the snapshot's first part (what the list's first pages
    // show), stored with its cursor; the rest of the snapshot is stored after it.
    tokio::task::spawn_blocking(move || received.recv_timeout(Duration::from_secs(300))).await??;
    let told = started.elapsed();
    let first = cache.list(&list_page(View::All), 0)?;
    let first_page_ms = millis(started.elapsed());
    let listed = Instant::now();
    let mut list_samples = Vec::new();
    // `SWITCHBOARD_BENCH_SIGNIN_ONLY=1`: the sign-in figure only, without waiting for the history
    // (minutes on the full dataset), to iterate on it.
    let signin_only = !history || std::env::var_os("SWITCHBOARD_BENCH_SIGNIN_ONLY").is_some();
    while !signin_only && cache.backfill()?.is_some() {
        let at = Instant::now();
        let page = cache.list(&list_page(View::All), 0)?;
        list_samples.push(millis(at.elapsed()));
        anyhow::ensure!(!page.is_empty(), "the list emptied while the history arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
        anyhow::ensure!(started.elapsed() < Duration::from_secs(3_600), "the history never completed");
    }
    let complete_secs = started.elapsed().as_secs_f64();
    engine.shutdown().await;
    // The snapshot asked again by the same device (the server's selection and the transfer alone),
    // and counted: its entities, and those of its first commit.
    let mut snapshot_ms = f64::MAX;
    let mut snapshot_changes = 0;
    let mut first_part_changes = 0;
    for _ in 0..3 {
        let at = Instant::now();
        let body = node
            .http
            .get(format!("{}/api/v1/sync/bootstrap", node.base))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        snapshot_ms = snapshot_ms.min(millis(at.elapsed()));
        let mut snapshot: BootstrapSnapshot = serde_json::from_slice(&body)?;
        snapshot_changes = snapshot.changes.len();
        first_part_changes = switchboard_core::cache::backfill::first_part(&mut snapshot.changes);
    }
    eprintln!(
        "  sign-in phases ({snapshot_changes} entities, {first_part_changes} in the first commit; ms from the login request): login 0–{:.1}; told {:.1}; list read {:.1}–{:.1}",
        login_ms,
        millis(told),
        millis(told),
        first_page_ms
    );
    let shown = |p: &crate::phases::Phase| p.start < listed || p.name == "bootstrap_apply_rest";
    for phase in crate::phases::take().into_iter().filter(shown) {
        eprintln!(
            "    {:<20} {:>8.1} – {:>8.1} ({:.1})",
            phase.name,
            millis(phase.start.saturating_duration_since(started)),
            millis(phase.end.saturating_duration_since(started)),
            millis(phase.end - phase.start)
        );
    }
    Ok(Measured {
        first_page_ms,
        login_ms,
        snapshot_ms,
        complete_secs,
        list_samples,
        rows_on_first_page: first.len(),
        snapshot_changes,
        first_part_changes,
        cache_path,
        cache,
        _dir: dir,
    })
}

/// A 10,000-message thread in the cache (copies of a cached message in one conversation): its
/// newest page opened `runs` times, then scrolled to the start a page at a time.
fn long_thread(cache: &Cache, runs: usize) -> anyhow::Result<Row> {
    const MESSAGES: usize = 10_000;
    const PAGE: usize = 50;
    let template = cache
        .server_state()?
        .into_iter()
        .find(|((kind, _), _)| *kind == EntityKind::Message)
        .map(|(_, value)| value)
        .ok_or_else(|| anyhow::anyhow!("no message in the cache"))?;
    let conversation: Id = template["conversation_id"].as_str().unwrap_or_default().parse()?;
    let base = template["created_at"].as_i64().unwrap_or(0);
    let head = cache.cursor()?;
    let changes: Vec<Change> = (0..MESSAGES)
        .map(|n| {
            let mut message = template.clone();
            let id = Id::new_v4();
            message["id"] = json!(id);
            message["body"] = json!(format!("message {n} of the long thread"));
            message["created_at"] = json!(base + n as i64);
            Change { seq: head, entity: EntityKind::Message, id, op: ChangeOp::Upsert, data: Some(message) }
        })
        .collect();
    for page in changes.chunks(500) {
        cache.apply_page(page, head)?;
    }
    let mut opened = Vec::new();
    for _ in 0..runs {
        let at = Instant::now();
        let page = cache.thread_page(conversation, None, PAGE)?;
        opened.push(millis(at.elapsed()));
        anyhow::ensure!(page.len() == PAGE, "a full page");
    }
    let mut scrolled = Vec::new();
    let mut before = None;
    let mut seen = 0;
    loop {
        let at = Instant::now();
        let page = cache.thread_page(conversation, before, PAGE)?;
        scrolled.push(millis(at.elapsed()));
        seen += page.len();
        let Some(oldest) = page.first() else { break };
        before = Some(HistoryCursor { created_at: oldest.created_at, id: oldest.id });
        if page.len() < PAGE {
            break;
        }
    }
    let (open_p95, scroll_p95) = (percentile(&mut opened, 0.95), percentile(&mut scrolled, 0.95));
    Ok(Row {
        figure: format!("opening a {MESSAGES}-message thread (newest page of {PAGE})"),
        ours: format!("p95 {open_p95:.2} ms; scrolling p95 {scroll_p95:.2} ms a page"),
        baseline: String::new(),
        ratio: None,
        target: "p95 ≤ 16 ms".into(),
        pass: Some(open_p95 <= 16.0 && scroll_p95 <= 16.0),
        note: format!(
            "core cache after the bootstrap; {runs} opens, then {} pages scrolled to the start ({seen} messages, never all at once)",
            scrolled.len()
        ),
    })
}

/// The middle sample, or the mean of the two middle ones.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    match samples.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2.0,
    }
}

/// The sign-ins' first pages, as the row's note lists them.
fn listed(first_pages: &[f64]) -> String {
    first_pages.iter().map(|ms| format!("{ms:.0}")).collect::<Vec<_>>().join(", ")
}

pub async fn bootstrap_figures(quick: bool, preset: Preset, seed: u64) -> anyhow::Result<Vec<Row>> {
    // `SWITCHBOARD_BENCH_SIGNINS=N`: N fresh devices per workspace (one on the quick preset, six
    // on the full one unless set), the row comparing their medians: a single sign-in on a shared
    // machine moves with the load by more than the ratio's margin.
    let rounds: usize = std::env::var("SWITCHBOARD_BENCH_SIGNINS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 1 } else { 6 })
        .max(1);
    let small = Preset { conversations: 1_000, messages: 10_000 };
    eprintln!("  the 10,000-message workspace…");
    let (reference, mut small_pages, node, _small_data) = fresh_device(small, seed, rounds).await?;
    node.stop().await;
    drop(reference.cache);
    eprintln!("  the {}-message workspace…", preset.messages);
    let (mut measured, mut pages, node, _data) = fresh_device(preset, seed, rounds).await?;
    node.stop().await;
    let (small_list, list) = (listed(&small_pages), listed(&pages));
    let (small_median, median) = (median(&mut small_pages), median(&mut pages));
    let ratio = median / small_median.max(0.001);
    let size = format!("{} conversations, {} messages", preset.conversations, preset.messages);
    let mut rows = vec![
        Row {
            figure: format!("fresh device: sign-in to the first list page ({size})"),
            ours: format!("{median:.0} ms"),
            baseline: format!("{small_median:.0} ms (10,000 messages)"),
            ratio: Some(ratio),
            target: "≤ 3,000 ms and ≤ 1.5× the 10,000-message figure".into(),
            pass: Some(median <= 3_000.0 && ratio <= 1.5),
            note: format!(
                "median of {rounds} fresh devices ({list} ms; 10,000 messages: {small_list} ms); SQLite server, the admin (every inbox); login, priority snapshot ({} entities; {} of them, what the list's first pages show, in the first commit, the rest after) stored, first page of {} rows read from the cache; of the last device, the login {:.0} ms ({:.0} ms), the snapshot's request alone {:.0} ms ({:.0} ms)",
                measured.snapshot_changes,
                measured.first_part_changes,
                measured.rows_on_first_page,
                measured.login_ms,
                reference.login_ms,
                measured.snapshot_ms,
                reference.snapshot_ms,
            ),
        },
        Row {
            figure: format!("fresh device: the complete history ({size})"),
            ours: format!("{:.1} s", measured.complete_secs),
            baseline: format!("{:.1} s (10,000 messages)", reference.complete_secs),
            ratio: Some(measured.complete_secs / reference.complete_secs.max(0.001)),
            target: "reported".into(),
            pass: None,
            note: "from sign-in until the backfill's last page is stored".into(),
        },
    ];
    let samples = measured.list_samples.len();
    let (p95, worst) = if samples == 0 {
        (f64::NAN, f64::NAN)
    } else {
        (
            percentile(&mut measured.list_samples, 0.95),
            measured.list_samples.iter().copied().fold(0.0, f64::max),
        )
    };
    rows.push(Row {
        figure: "inbox list page while the history streams in".into(),
        ours: format!("p95 {p95:.2} ms, slowest {worst:.1} ms"),
        baseline: String::new(),
        ratio: None,
        target: "p95 ≤ 16 ms".into(),
        pass: (samples > 0).then_some(p95 <= 16.0),
        note: format!("{samples} reads of the first page (50 open, newest) during the backfill ({size})"),
    });
    rows.push(long_thread(&measured.cache, if quick { 50 } else { 200 })?);
    drop(measured.cache);
    let _ = measured.cache_path;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [311.0, 147.0, 156.0, 173.0, 233.0, 146.0]), 164.5);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert!(median(&mut []).is_nan());
    }
}
