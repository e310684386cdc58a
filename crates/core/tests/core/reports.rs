//! Reports against the real server: the summary, time series and live figures as the server
//! computes them, its CSV untouched, a refused query with the server's message, and offline the
//! last report of each kind kept in the account's directory, marked with when it was fetched.

use serde_json::json;
use switchboard_core::reports::{self, CsvExport, ReportCache, ReportQuery};
use switchboard_proto::{
    reports::{CycleMetric, GroupBy, Interval},
    *,
};

use crate::harness::*;

/// `YYYY-MM-DD` (UTC) of an instant.
fn utc_date(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at).expect("an instant jiff holds").strftime("%Y-%m-%d").to_string()
}

/// Yesterday to the day after tomorrow (UTC), so the server's "now" is well inside.
fn around_now(group_by: GroupBy) -> ReportQuery {
    let now = switchboard_core::sync::system_now();
    ReportQuery {
        from: utc_date(now - 86_400_000),
        to: utc_date(now + 2 * 86_400_000),
        time_zone: "UTC".into(),
        group_by,
        interval: Interval::Day,
    }
}

/// Ida, an admin: the reports' reader who sees every inbox.
async fn add_ida(api: &Endpoint) {
    api.admin_ok(
        "/api/v1/agents",
        json!({"name": "Ida Admin", "email": "ida@test.example", "role": "admin", "password": PASSWORD}),
    )
    .await;
}

#[tokio::test]
async fn reports_come_from_the_server_and_the_last_of_each_kind_shows_offline_as_of_its_fetch() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server.api).await;
    add_ida(&server.api).await;
    server.api.inbound(&workspace.whatsapp, "c1", "m1", "Hello, my order is late").await;
    server.api.inbound(&workspace.whatsapp, "c2", "m2", "Where is my refund?").await;
    server.api.inbound(&workspace.whatsapp, "c1", "m3", "Anyone there?").await;
    let ida = Client::sign_in(&server.api, "ida@test.example").await;
    let api = &ida.account.api;
    let cache = ReportCache::in_account(&ida.account.dir);

    let query = around_now(GroupBy::Inbox);
    let summary = reports::summary(api, &cache, 1_000, &query).await.expect("summary");
    assert_eq!((summary.as_of, summary.offline.as_deref()), (1_000, None), "fetched now, not kept");
    let whatsapp = summary.value.rows.iter().find(|r| r.name == "WhatsApp").expect("a WhatsApp row");
    assert_eq!(whatsapp.metrics.messages_in, 3, "three customer messages: {:?}", summary.value.rows);
    assert_eq!(whatsapp.metrics.cycles_started, 2, "two conversations started");
    assert_eq!(summary.value.group_by, GroupBy::Inbox);

    let series = reports::series(api, &cache, 1_000, &around_now(GroupBy::None)).await.expect("series");
    assert_eq!(series.value.buckets.len(), 3, "three local days: {:?}", series.value.buckets);
    let total: u64 = series.value.rows.iter().flat_map(|r| &r.points).map(|m| m.messages_in).sum();
    assert_eq!(total, 3, "the buckets add up to the period");

    let live = reports::live(api, &cache, 1_000).await.expect("live");
    assert_eq!((live.value.open, live.value.unassigned), (2, 2), "{:?}", live.value);
    assert_eq!(live.value.waiting_longer_than_secs, 1800, "the server's default threshold");

    let csv = reports::csv(api, CsvExport::Summary, &query).await.expect("summary csv");
    let text = String::from_utf8(csv).expect("utf-8");
    assert!(text.starts_with('\u{feff}'), "a byte-order mark for spreadsheets");
    assert!(text.lines().any(|line| line.contains("WhatsApp")), "the server's rows: {text}");
    let cycles = reports::csv(api, CsvExport::Conversations, &query).await.expect("cycles csv");
    let cycles = String::from_utf8(cycles).expect("utf-8");
    assert_eq!(cycles.lines().count(), 3, "a header and one row per cycle: {cycles}");

    // The server refuses a period it can't read, and says why; the kept copy doesn't stand in.
    let bad = ReportQuery { from: "yesterday".into(), ..query.clone() };
    let refused = reports::summary(api, &cache, 2_000, &bad).await;
    match refused {
        Err(error) => {
            assert_eq!(error.code(), "validation", "{error}");
            assert!(!error.to_string().is_empty(), "the server's message comes through");
        }
        Ok(kept) => panic!("a refused query answered {kept:?}"),
    }

    // A bar drilled into: the cycles behind the period's messages in, one a conversation here.
    let behind = reports::cycles(api, &query, CycleMetric::MessagesIn).await.expect("the cycles behind");
    assert_eq!(behind.len(), 2, "three messages from two customers: {behind:#?}");

    server.kill().await;
    let drilled = reports::cycles(api, &query, CycleMetric::MessagesIn).await;
    assert!(
        matches!(&drilled, Err(e) if e.code() == "offline"),
        "a drill-down needs the server: {drilled:?}"
    );
    let other = ReportQuery { group_by: GroupBy::Agent, ..query.clone() };
    let kept = reports::summary(api, &cache, 9_000, &other).await.expect("the kept summary");
    assert_eq!(kept.as_of, 1_000, "marked with when it was fetched");
    assert!(kept.offline.is_some(), "marked offline");
    assert_eq!(kept.value, summary.value, "its own period and grouping, as fetched");
    let kept = reports::series(api, &cache, 9_000, &query).await.expect("the kept series");
    assert_eq!((kept.as_of, kept.value), (1_000, series.value));
    let kept = reports::live(api, &cache, 9_000).await.expect("the kept live figures");
    assert_eq!((kept.as_of, kept.value), (1_000, live.value));

    let export = reports::csv(api, CsvExport::Summary, &query).await;
    assert!(matches!(&export, Err(e) if e.code() == "offline"), "an export needs the server: {export:?}");
    let empty = ReportCache::in_account(&ida.root.path().join("elsewhere"));
    let nothing = reports::summary(api, &empty, 9_000, &query).await;
    assert!(matches!(&nothing, Err(e) if e.code() == "offline"), "nothing kept: {nothing:?}");
}

async fn settle(client: &Client, action: switchboard_core::outbox::Action) {
    client.engine().queue(action).expect("queue");
    client.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
}

/// K16: the live figure "unattended" and the sidebar's Unattended list are one predicate, so the
/// lead who reads "2 unattended" opens a list of exactly two.
#[tokio::test]
async fn k16_the_unattended_figure_is_the_unattended_list() {
    use switchboard_core::{
        cache::views::{ListQuery, Sort, View},
        intents,
    };
    let server = Server::start().await;
    let workspace = Workspace::create(&server.api).await;
    add_ida(&server.api).await;
    let ida = Client::sign_in(&server.api, "ida@test.example").await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        let inbound =
            server.api.inbound(&workspace.whatsapp, &format!("k{n}"), &format!("k{n}-1"), "Hello?").await;
        ids.push(inbound.conversation_id);
    }
    let [unanswered, answered, asked_again, pending, resolved] = ids[..] else { unreachable!() };
    ida.until("synced", |c| ids.iter().all(|id| c.conversation(*id).is_some())).await;
    for id in [answered, asked_again] {
        settle(&ida, intents::claim(id, ida.me())).await;
        settle(&ida, intents::send(id, SendKind::Reply, "On it".into(), vec![], None).expect("send")).await;
    }
    server.api.inbound(&workspace.whatsapp, "k3", "k3-2", "Still there?").await;
    settle(&ida, intents::set_status(pending, ConversationStatus::Pending, None)).await;
    settle(&ida, intents::set_status(resolved, ConversationStatus::Resolved, None)).await;
    ida.until("the customer's second message synced", |c| {
        c.conversation(asked_again).is_some_and(|conversation| conversation.waiting_since.is_some())
    })
    .await;

    let cache = ReportCache::in_account(&ida.account.dir);
    let live = reports::live(&ida.account.api, &cache, 1_000).await.expect("live").value;
    let query = ListQuery { view: View::Unattended, status: None, sort: Sort::Oldest, offset: 0, limit: 50 };
    let mut listed: Vec<Id> =
        ida.account.cache.list(&query, 0).expect("list").into_iter().map(|row| row.conversation.id).collect();
    listed.sort();
    let mut expected = vec![unanswered, asked_again];
    expected.sort();
    assert_eq!(listed, expected, "never answered, and answered but asked again");
    assert_eq!(live.unattended, 2, "{live:?}");
    assert_eq!(ida.account.cache.count(&View::Unattended, None).expect("count") as u64, live.unattended);
    for id in ids {
        let conversation = ida.conversation(id).expect("cached");
        assert_eq!(
            switchboard_proto::reports::is_unattended(&conversation),
            expected.contains(&id),
            "{conversation:?}"
        );
    }
}
