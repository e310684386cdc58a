//! The priority bootstrap on a fresh device: the snapshot first, the live feed from its S, the
//! history backfilled behind it. Interrupted at every step (and under seeded faults: the server
//! killed, the client crashing, writes racing the backfill), it resumes where it stopped and ends
//! with exactly the state a bootstrap from 0 gives: no gap, no duplicate, nothing older winning.

use std::{sync::Arc, time::Duration};

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use switchboard_core::{
    cache::{
        backfill::{first_part, ThreadHistory, FIRST_OPEN},
        views::{ListQuery, Sort, View},
        Cache,
    },
    history,
    sync::{Backoff, Engine, EngineConfig},
};
use switchboard_proto::*;

use crate::harness::*;

/// A workspace with history: one long thread, several short ones, a resolved one.
async fn history(server: &Server, workspace: &Workspace) -> (Id, Vec<Id>) {
    let long = server.inbound(&workspace.whatsapp, "long", "l0", "first").await.conversation_id;
    for n in 1..40 {
        server.inbound(&workspace.whatsapp, "long", &format!("l{n}"), &format!("message {n}")).await;
    }
    let mut short = Vec::new();
    for n in 0..8 {
        short.push(
            server
                .inbound(&workspace.whatsapp, &format!("c{n}"), &format!("s{n}"), "hello")
                .await
                .conversation_id,
        );
    }
    (long, short)
}

/// Starts `client`'s engine with small backfill pages (so a history has many steps).
fn start(client: &mut Client, page: usize) {
    let events = client.events.clone();
    let mut config = EngineConfig::new(
        client.account.api.clone(),
        client.account.cache.clone(),
        Arc::new(move |event| events.lock().expect("events").push(event)),
        client.account.staging_dir(),
    );
    config.reconnect = Backoff { base: Duration::from_millis(20), max: Duration::from_millis(200) };
    config.retry = Backoff { base: Duration::from_millis(20), max: Duration::from_millis(200) };
    config.backfill_page = page;
    client.engine = Some(Engine::start(config));
}

/// A fresh device on the same account: the engine stopped, the cache emptied to cursor 0.
async fn fresh(client: &mut Client) {
    if let Some(engine) = client.engine.take() {
        engine.shutdown().await;
    }
    client.account.cache.reset_feed().expect("reset");
    assert_eq!(client.account.cache.cursor().expect("cursor"), 0);
}

/// Waits until the history is complete and the cache equals what the server shows the agent.
async fn settled(server: &Server, client: &Client) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let cache = &client.account.cache;
        if cache.backfill().map_err(|e| e.to_string())?.is_none() {
            let expected = server.state(&client.token()).await;
            if cache.server_state().map_err(|e| e.to_string())? == expected {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("never settled (backfill: {:?})", cache.backfill()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A random write on the server racing the bootstrap: a priority change, a resolved
/// conversation, a label deleted (changes after S of what the backfill walks), and with `grow` a
/// new message or a new label too.
async fn random_write(
    rng: &mut StdRng,
    server: &Server,
    workspace: &Workspace,
    conversations: &[Id],
    n: usize,
    grow: bool,
) {
    let conversation = conversations[rng.gen_range(0..conversations.len())];
    let kind = if grow { rng.gen_range(0..5) } else { [1, 2, 4][rng.gen_range(0..3)] };
    match kind {
        0 => {
            let _ = server
                .try_inbound(&workspace.whatsapp, "long", &format!("race-{n}-{}", Id::new_v4()), "racing")
                .await;
        }
        1 => {
            let priority = ["low", "high", "urgent"][rng.gen_range(0..3)];
            server
                .post(
                    &server.admin_token,
                    &format!("/api/v1/conversations/{conversation}/priority"),
                    json!({"client_id": Id::new_v4(), "priority": priority}),
                )
                .await;
        }
        2 => {
            server
                .post(
                    &server.admin_token,
                    &format!("/api/v1/conversations/{conversation}/status"),
                    json!({"client_id": Id::new_v4(), "status": "resolved"}),
                )
                .await;
        }
        3 => {
            server
                .post(
                    &server.admin_token,
                    "/api/v1/labels",
                    json!({"name": format!("label {n} {}", Id::new_v4())}),
                )
                .await;
        }
        _ => {
            let labels = server.get(&server.admin_token, "/api/v1/labels").await;
            if let Some(id) = labels.as_array().and_then(|l| l.last()).and_then(|l| l["id"].as_str()) {
                let _ = reqwest::Client::new()
                    .delete(format!("{}/api/v1/labels/{id}", server.base))
                    .bearer_auth(&server.admin_token)
                    .send()
                    .await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_interrupted_at_every_step_resumes_and_ends_equal() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let (long, short) = history(&server, &workspace).await;
    let mut conversations = short.clone();
    conversations.push(long);
    let mut client = Client::sign_in(&server, "sara@test.example").await;
    let api = client.account.api.clone();
    let mut rng = StdRng::seed_from_u64(0xB007);
    let mut stop_at = 0;
    loop {
        fresh(&mut client).await;
        let cache = client.account.cache.clone();
        // Step 0: the snapshot. Then backfill pages of 8, a racing write and a live catch-up
        // before each, until the interruption point.
        let snapshot = api.bootstrap().await.expect("bootstrap").expect("a server with snapshots");
        cache.apply_snapshot(&snapshot).expect("snapshot");
        assert_eq!(cache.cursor().expect("cursor"), snapshot.next);
        assert!(
            cache.get::<serde_json::Value>(EntityKind::Conversation, long).expect("read").is_some(),
            "the current inbox at once"
        );
        let mut steps = 0;
        let mut complete = false;
        while steps < stop_at {
            random_write(&mut rng, &server, &workspace, &conversations, steps, steps == 0).await;
            let page = api
                .sync(cache.cursor().expect("cursor"), cache.cursor_check().expect("check").as_deref(), 500)
                .await
                .expect("sync");
            cache.apply_checked(&page.changes, page.next, page.check.as_deref()).expect("live");
            let Some(state) = cache.backfill().expect("state") else {
                complete = true;
                break;
            };
            let page =
                api.backfill(state.upto, state.check.as_deref(), state.before, 8).await.expect("backfill");
            cache.apply_backfill(state.upto, &page).expect("apply backfill");
            steps += 1;
        }
        // Interrupted here: a new engine on the same cache resumes the backfill and the feed.
        start(&mut client, 8);
        if let Err(why) = settled(&server, &client).await {
            panic!("interrupted after {stop_at} backfill pages: {why}");
        }
        if complete {
            break;
        }
        stop_at += 1;
        assert!(stop_at < 200, "the backfill never ended");
    }
    assert!(stop_at > 8, "the history took many steps ({stop_at})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_during_a_bootstrap_lose_nothing() {
    let schedules: u64 =
        std::env::var("SWITCHBOARD_FAULT_SCHEDULES").ok().and_then(|v| v.parse().ok()).unwrap_or(20).min(20);
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let (long, short) = history(&server, &workspace).await;
    let mut conversations = short;
    conversations.push(long);
    let mut client = Client::sign_in(&server, "sam@test.example").await;
    for seed in 0..schedules {
        let mut rng = StdRng::seed_from_u64(0xFA17 + seed);
        fresh(&mut client).await;
        start(&mut client, rng.gen_range(2..8));
        let mut server_up = true;
        for n in 0..rng.gen_range(4..12) {
            match rng.gen_range(0..6) {
                0 if server_up => {
                    server.kill().await;
                    server_up = false;
                }
                0 => {
                    server.restart().await;
                    server_up = true;
                }
                1 => {
                    // The client dies mid-bootstrap and starts again on the same cache.
                    if let Some(engine) = client.engine.take() {
                        engine.abort();
                    }
                    start(&mut client, rng.gen_range(2..8));
                }
                2 => client.engine().reconnect(),
                _ if server_up => random_write(&mut rng, &server, &workspace, &conversations, n, true).await,
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..15))).await;
        }
        if !server_up {
            server.restart().await;
        }
        if let Err(why) = settled(&server, &client).await {
            panic!("schedule {seed}: {why}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_not_yet_arrived_is_fetched_on_demand() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let (long, short) = history(&server, &workspace).await;
    let mut client = Client::sign_in(&server, "sara@test.example").await;
    fresh(&mut client).await;
    let cache = client.account.cache.clone();
    let api = client.account.api.clone();
    let snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    cache.apply_snapshot(&snapshot).expect("snapshot");
    assert!(cache.history_percent().expect("percent").is_some(), "history still arriving");
    assert_eq!(cache.thread(long).expect("thread").len(), 30, "the long thread's last page came first");
    assert_eq!(cache.thread_history(long).expect("history"), ThreadHistory::Partial(None));
    let mut pages = 0;
    loop {
        let (state, _) = history::fetch_older(&api, &cache, long).await.expect("fetch");
        pages += 1;
        if state == ThreadHistory::Complete {
            break;
        }
        assert!(pages < 5);
    }
    let thread = cache.thread(long).expect("thread");
    assert_eq!(thread.len(), 40, "the whole thread, each message once");
    assert_eq!(thread.first().map(|m| m.body.as_str()), Some("first"));
    // A live change after S wins over the older history: the conversation resolved since.
    server
        .post(
            &server.admin_token,
            &format!("/api/v1/conversations/{}/status", short[0]),
            json!({"client_id": Id::new_v4(), "status": "resolved"}),
        )
        .await;
    start(&mut client, 3);
    settled(&server, &client).await.expect("settles");
    assert_eq!(client.account.cache.thread_history(short[0]).expect("history"), ThreadHistory::Complete);
    assert_eq!(
        client.conversation(short[0]).map(|c| c.status),
        Some(ConversationStatus::Resolved),
        "the live version, not the backfilled one"
    );
}

/// The inbox list's first page (50 open conversations, newest first), as the app first paints it.
fn first_page(cache: &Cache) -> Vec<Id> {
    let query = ListQuery {
        view: View::All,
        status: Some(ConversationStatus::Open),
        sort: Sort::Newest,
        offset: 0,
        limit: 50,
    };
    cache.list(&query, 0).expect("list").iter().map(|row| row.conversation.id).collect()
}

/// Past the first part's caps a fresh device stores its snapshot in two commits. The list's first
/// page read after the first commit is the one the whole snapshot gives; a rest stored late never
/// overwrites a newer live version; and a device that died between the two commits (the rest
/// never stored) ends equal to the server, the backfill bringing what the rest held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_commit_paints_the_list_and_the_rest_follows_or_is_backfilled() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let mut conversations = Vec::new();
    for n in 0..FIRST_OPEN + 6 {
        let created = server.inbound(&workspace.whatsapp, &format!("p{n}"), &format!("m{n}"), "hello").await;
        conversations.push(created.conversation_id);
    }
    let oldest = conversations[0];
    let mut client = Client::sign_in(&server, "sara@test.example").await;
    let api = client.account.api.clone();

    // Both commits, one after the other.
    fresh(&mut client).await;
    let cache = client.account.cache.clone();
    let mut snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    let count = first_part(&mut snapshot.changes);
    assert!(count < snapshot.changes.len(), "past the caps, some of the snapshot waits for the rest");
    assert!(
        snapshot.changes[count..].iter().any(|c| c.id == oldest),
        "the least recently active conversation is in the rest"
    );
    cache.apply_snapshot_first(&snapshot, count).expect("first part");
    assert_eq!(cache.cursor().expect("cursor"), snapshot.next, "the first commit takes the cursor S");
    let painted = first_page(&cache);
    assert_eq!(painted.len(), 50, "a full first page from the first commit");
    cache.apply_snapshot_rest(snapshot.next, &snapshot.changes[count..]).expect("rest");
    assert_eq!(first_page(&cache), painted, "the rest changes nothing on the first page");
    assert_eq!(
        cache.server_state().expect("state").len(),
        snapshot.changes.len(),
        "every change stored once"
    );

    // The rest stored after a live change to one of its conversations: the live version stays.
    fresh(&mut client).await;
    let mut snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    let count = first_part(&mut snapshot.changes);
    cache.apply_snapshot_first(&snapshot, count).expect("first part");
    server
        .post(
            &server.admin_token,
            &format!("/api/v1/conversations/{oldest}/status"),
            json!({"client_id": Id::new_v4(), "status": "resolved"}),
        )
        .await;
    let page = api
        .sync(cache.cursor().expect("cursor"), cache.cursor_check().expect("check").as_deref(), 500)
        .await
        .expect("sync");
    cache.apply_checked(&page.changes, page.next, page.check.as_deref()).expect("live");
    cache.apply_snapshot_rest(snapshot.next, &snapshot.changes[count..]).expect("rest");
    assert_eq!(
        client.conversation(oldest).map(|c| c.status),
        Some(ConversationStatus::Resolved),
        "the live version, not the snapshot's older one"
    );
    start(&mut client, 50);
    settled(&server, &client).await.expect("settles after a late rest");

    // The device dies after the first commit: the rest is never stored.
    fresh(&mut client).await;
    let mut snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    let count = first_part(&mut snapshot.changes);
    cache.apply_snapshot_first(&snapshot, count).expect("first part");
    let left = snapshot.changes[count..]
        .iter()
        .find(|c| c.entity == EntityKind::Conversation)
        .map(|c| c.id)
        .expect("a conversation in the rest");
    assert_eq!(cache.get::<serde_json::Value>(EntityKind::Conversation, left).expect("read"), None);
    start(&mut client, 50);
    settled(&server, &client).await.expect("the backfill brings what the rest held");
}
