//! Micro-benchmarks of the client's hot paths, on the quick generated workspace:
//!
//!     cargo bench -p switchboard-bench --bench hot_paths
//!
//! - `apply_page`: one feed page (500 changes) into the cache — fresh rows (bootstrap) and the
//!   same page again (a replay after reconnect, the update path);
//! - `search`: one local search per query class;
//! - `list`: one page of 50 per view;
//! - `quick_replies`: the fuzzy matcher over 300 canned responses, per keystroke.

use std::sync::LazyLock;

use divan::{black_box, Bencher};
use switchboard_bench::{
    figures,
    generate::{self, Workspace},
};
use switchboard_core::{cache::Cache, quick_replies::QuickReplyMatcher};
use switchboard_proto::{CannedResponse, Id, Millis};

fn main() {
    divan::main();
}

const PAGE: usize = 500;

static WORKSPACE: LazyLock<Workspace> = LazyLock::new(|| generate::generate(generate::QUICK, 7, None));

/// The whole quick workspace in a cache, for the read paths.
static LOADED: LazyLock<(tempfile::TempDir, Cache)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("open cache");
    cache.set_identity(WORKSPACE.me, Millis::MAX).expect("identity");
    for page in WORKSPACE.changes.chunks(PAGE) {
        cache.apply_page(page, page.last().map_or(0, |c| c.seq)).expect("apply");
    }
    (dir, cache)
});

/// A page from the middle of the feed: mostly messages, a few contacts and conversations.
fn middle_page() -> &'static [switchboard_proto::Change] {
    let start = WORKSPACE.changes.len() / 2;
    &WORKSPACE.changes[start..start + PAGE]
}

fn empty_cache() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("open cache");
    cache.set_identity(WORKSPACE.me, Millis::MAX).expect("identity");
    (dir, cache)
}

#[divan::bench_group(sample_count = 30, sample_size = 1)]
mod apply_page {
    use super::*;

    #[divan::bench]
    fn fresh_rows(bencher: Bencher) {
        let page = middle_page();
        bencher.with_inputs(empty_cache).bench_local_values(|(dir, cache)| {
            black_box(cache.apply_page(page, page[PAGE - 1].seq).expect("apply"));
            (dir, cache)
        });
    }

    #[divan::bench]
    fn replayed_rows(bencher: Bencher) {
        let page = middle_page();
        bencher
            .with_inputs(|| {
                let (dir, cache) = empty_cache();
                cache.apply_page(page, page[PAGE - 1].seq).expect("apply");
                (dir, cache)
            })
            .bench_local_values(|(dir, cache)| {
                black_box(cache.apply_page(page, page[PAGE - 1].seq).expect("apply"));
                (dir, cache)
            });
    }
}

const QUERY_CLASSES: [&str; 5] =
    ["rare word", "mid-frequency word", "top-10 common word", "phone fragment", "Persian word"];

#[divan::bench(args = QUERY_CLASSES)]
fn search(bencher: Bencher, class: &str) {
    let queries = figures::search_queries(&WORKSPACE).expect("queries");
    let query = queries.into_iter().find(|(c, _)| *c == class).map(|(_, q)| q).expect("a query of the class");
    let cache = &LOADED.1;
    bencher.bench(|| black_box(cache.search(&query, 20).expect("search")));
}

const VIEWS: [&str; 5] = ["mine", "unassigned", "all", "label", "team"];

#[divan::bench(args = VIEWS)]
fn list(bencher: Bencher, name: &str) {
    let (_, view) = figures::list_views(&WORKSPACE).into_iter().find(|(n, _)| *n == name).expect("a view");
    let query = figures::list_page(view);
    let cache = &LOADED.1;
    bencher.bench(|| black_box(cache.list(&query, 0).expect("list")));
}

/// 300 canned responses in the shape teams write them.
fn canned_responses() -> Vec<CannedResponse> {
    let topics = ["refund", "shipping", "delay", "invoice", "password", "welcome", "răspuns", "zwrot"];
    (0..300)
        .map(|n| {
            let topic = topics[n % topics.len()];
            CannedResponse {
                id: Id::from_u128(n as u128 + 1),
                short_code: format!("{topic}{n}"),
                title: format!("{topic} answer number {n}"),
                body: format!(
                    "Hi {{{{contact.name}}}}, thanks for writing about your {topic}. \
                     We have looked into order {n} and will get back to you within a day."
                ),
                owner_id: None,
            }
        })
        .collect()
}

const KEYSTROKES: [&str; 4] = ["r", "ref", "refnd ordr", "raspuns"];

#[divan::bench(args = KEYSTROKES)]
fn quick_replies(bencher: Bencher, query: &str) {
    let responses = canned_responses();
    let mut matcher = QuickReplyMatcher::new();
    bencher.bench_local(|| black_box(matcher.search(query, &responses, 20)));
}
