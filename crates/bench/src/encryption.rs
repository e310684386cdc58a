//! What the encrypted cache costs: the same workload on a SQLCipher cache (the account's) and a
//! plain one, side by side in one run: ingest, search, a list page, the long thread, and a cold
//! start (open, key, first list page). Reported, never asserted: the ratio is the figure.

use std::{path::Path, time::Instant};

use switchboard_core::{cache::Cache, keychain::CacheKey};
use switchboard_proto::Millis;

use crate::{
    figures::{list_page, list_views, millis, percentile, search_queries},
    generate::Workspace,
    report::Row,
};

const PAGE: usize = 500;

struct Timings {
    ingest_rows_per_s: f64,
    search_p50: f64,
    list_p50: f64,
    thread_p50: f64,
    cold_start_p50: f64,
}

fn open(path: &Path, key: Option<&CacheKey>) -> anyhow::Result<Cache> {
    Ok(match key {
        Some(key) => Cache::open_encrypted(path, key)?,
        None => Cache::open(path)?,
    })
}

fn p50(runs: usize, mut measure: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        measure()?;
        samples.push(millis(started.elapsed()));
    }
    Ok(percentile(&mut samples, 0.5))
}

fn measure(
    workspace: &Workspace,
    path: &Path,
    key: Option<&CacheKey>,
    quick: bool,
) -> anyhow::Result<Timings> {
    let cache = open(path, key)?;
    cache.set_identity(workspace.me, Millis::MAX)?;
    let started = Instant::now();
    for page in workspace.changes.chunks(PAGE) {
        cache.apply_page(page, page.last().map_or(0, |c| c.seq))?;
    }
    let ingest_rows_per_s = workspace.changes.len() as f64 / started.elapsed().as_secs_f64();
    let runs = if quick { 15 } else { 40 };
    let (_, query) =
        search_queries(workspace)?.into_iter().next().ok_or_else(|| anyhow::anyhow!("no query"))?;
    let search_p50 = p50(runs, || {
        std::hint::black_box(cache.search(&query, 20)?);
        Ok(())
    })?;
    let (_, view) = list_views(workspace).into_iter().next().ok_or_else(|| anyhow::anyhow!("no view"))?;
    let page = list_page(view);
    let list_p50 = p50(runs, || {
        std::hint::black_box(cache.list(&page, 0)?);
        Ok(())
    })?;
    let thread_p50 = p50(runs, || {
        std::hint::black_box(cache.thread(workspace.long_thread)?);
        Ok(())
    })?;
    drop(cache);
    let cold_start_p50 = p50(if quick { 5 } else { 15 }, || {
        let cache = open(path, key)?;
        std::hint::black_box(cache.list(&page, 0)?);
        Ok(())
    })?;
    Ok(Timings { ingest_rows_per_s, search_p50, list_p50, thread_p50, cold_start_p50 })
}

fn reported(figure: &str, encrypted: String, plain: String, ratio: f64) -> Row {
    Row {
        figure: figure.into(),
        ours: encrypted,
        baseline: plain,
        ratio: Some(ratio),
        target: "—".into(),
        pass: None,
        note: "SQLCipher next to plain SQLite, same run".into(),
    }
}

/// The encrypted cache next to a plain one (`ours` encrypted, `baseline` plain).
pub fn encryption_figures(workspace: &Workspace, quick: bool) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let key = CacheKey::generate();
    let plain = measure(workspace, &dir.path().join("plain.db"), None, quick)?;
    let encrypted = measure(workspace, &dir.path().join("encrypted.db"), Some(&key), quick)?;
    let ms = |value: f64| format!("p50 {value:.2} ms");
    Ok(vec![
        reported(
            "encrypted cache: ingest",
            format!("{:.0} rows/s", encrypted.ingest_rows_per_s),
            format!("{:.0} rows/s", plain.ingest_rows_per_s),
            encrypted.ingest_rows_per_s / plain.ingest_rows_per_s,
        ),
        reported(
            "encrypted cache: search",
            ms(encrypted.search_p50),
            ms(plain.search_p50),
            encrypted.search_p50 / plain.search_p50,
        ),
        reported(
            "encrypted cache: list page of 50",
            ms(encrypted.list_p50),
            ms(plain.list_p50),
            encrypted.list_p50 / plain.list_p50,
        ),
        reported(
            "encrypted cache: 500-message thread",
            ms(encrypted.thread_p50),
            ms(plain.thread_p50),
            encrypted.thread_p50 / plain.thread_p50,
        ),
        reported(
            "encrypted cache: cold start (open, key, first page)",
            ms(encrypted.cold_start_p50),
            ms(plain.cold_start_p50),
            encrypted.cold_start_p50 / plain.cold_start_p50,
        ),
    ])
}
