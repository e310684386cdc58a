//! The priority bootstrap: a snapshot at S, the live feed after S and the backfill below S add
//! up to exactly what the feed from 0 gives, whatever is written meanwhile; an inbox lost since
//! S is not backfilled; a thread's history pages newest first.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

async fn snapshot(session: &Session) -> BootstrapSnapshot {
    let (status, value) = session.get("/api/v1/sync/bootstrap").await;
    assert_eq!(status, StatusCode::OK, "bootstrap failed: {value}");
    serde_json::from_value(value).expect("snapshot")
}

async fn backfill(
    session: &Session,
    upto: i64,
    check: Option<&str>,
    before: Option<i64>,
    limit: usize,
) -> BackfillPage {
    let mut path = format!("/api/v1/sync/backfill?upto={upto}&limit={limit}");
    if let Some(check) = check {
        path.push_str(&format!("&check={check}"));
    }
    if let Some(before) = before {
        path.push_str(&format!("&before={before}"));
    }
    let (status, value) = session.get(&path).await;
    assert_eq!(status, StatusCode::OK, "backfill failed: {value}");
    serde_json::from_value(value).expect("backfill page")
}

/// What a client holding the snapshot builds: the live feed after S applied as it comes, and
/// each backfilled entity kept only when the client has neither a version nor a tombstone of it.
fn merge(snapshot: &[Change], live: &[Change], backfill: &[Change]) -> BTreeMap<(EntityKind, Id), Value> {
    let mut state = apply(snapshot);
    let mut gone = std::collections::BTreeSet::new();
    for change in live {
        match change.op {
            ChangeOp::Upsert => {
                state.insert((change.entity, change.id), change.data.clone().unwrap_or(Value::Null));
            }
            ChangeOp::Delete => {
                state.remove(&(change.entity, change.id));
                gone.insert((change.entity, change.id));
            }
        }
    }
    for change in backfill {
        let key = (change.entity, change.id);
        if !state.contains_key(&key) && !gone.contains(&key) {
            state.insert(key, change.data.clone().unwrap_or(Value::Null));
        }
    }
    state
}

#[tokio::test]
async fn snapshot_live_feed_and_backfill_add_up_to_the_feed_from_zero() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    // One long thread (more than a snapshot's page), several short ones, one resolved.
    let long = server.inbound(&workspace.whatsapp, "long", "l0", "first").await.conversation_id;
    for n in 1..45 {
        server.inbound(&workspace.whatsapp, "long", &format!("l{n}"), &format!("message {n}")).await;
    }
    let mut short = Vec::new();
    for n in 0..6 {
        short.push(
            server
                .inbound(&workspace.whatsapp, &format!("c{n}"), &format!("s{n}"), "hello")
                .await
                .conversation_id,
        );
    }
    server.inbound(&workspace.email, "mail", "e1", "not for sara").await;
    workspace
        .sara
        .ok(
            &format!("/api/v1/conversations/{}/status", short[0]),
            json!({"client_id": Id::new_v4(), "status": "resolved"}),
        )
        .await;
    let (_, label) = server.admin.post("/api/v1/labels", json!({"name": "temporary"})).await;
    let label_id: Id = label["id"].as_str().and_then(|id| id.parse().ok()).expect("label id");

    let sara = &workspace.sara;
    let snap = snapshot(sara).await;
    let upto = snap.next;
    assert_eq!(upto, server.head().await, "the snapshot is at the feed's head");
    assert!(snap.changes.iter().all(|c| c.seq <= upto && c.op == ChangeOp::Upsert));
    let kinds: std::collections::BTreeSet<EntityKind> = snap.changes.iter().map(|c| c.entity).collect();
    for kind in [
        EntityKind::Agent,
        EntityKind::Team,
        EntityKind::Inbox,
        EntityKind::Label,
        EntityKind::Conversation,
        EntityKind::Contact,
        EntityKind::Message,
    ] {
        assert!(kinds.contains(&kind), "the snapshot carries {kind:?}");
    }
    let long_messages = snap
        .changes
        .iter()
        .filter(|c| {
            c.entity == EntityKind::Message
                && c.data.as_ref().is_some_and(|d| d["conversation_id"] == json!(long))
        })
        .count();
    assert_eq!(long_messages, 30, "a thread's last page only");
    assert!(
        snap.changes
            .iter()
            .all(|c| c.data.as_ref().is_none_or(|d| d["inbox_id"] != json!(workspace.email.inbox.id))),
        "nothing of an inbox sara does not see"
    );

    // Written after S: a conversation changes, a label is deleted, a new customer writes.
    workspace
        .sara
        .ok(
            &format!("/api/v1/conversations/{long}/priority"),
            json!({"client_id": Id::new_v4(), "priority": "urgent"}),
        )
        .await;
    let label_path = format!("/api/v1/labels/{}", label["id"].as_str().expect("label id"));
    server.admin.request(reqwest::Method::DELETE, &label_path, None).await;
    server.inbound(&workspace.whatsapp, "late", "late1", "after the snapshot").await;

    // The backfill in small pages, newest first, interleaved with more writes.
    let mut backfilled = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = backfill(sara, upto, snap.check.as_deref(), before, 7).await;
        assert!(page.changes.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
        assert!(page.changes.iter().all(|c| c.seq <= upto), "nothing after S");
        backfilled.extend(page.changes);
        pages += 1;
        if pages == 2 {
            server.inbound(&workspace.whatsapp, "long", "l-late", "during the backfill").await;
        }
        if page.done {
            break;
        }
        before = Some(page.next);
    }
    assert!(pages > 3, "the history came in several pages");
    assert!(backfilled.iter().all(|c| c.id != label_id), "a label deleted since S is not backfilled");

    let mut live = Vec::new();
    let mut since = upto;
    loop {
        let page = sara.sync(since, 1000).await;
        live.extend(page.changes);
        since = page.next;
        if !page.has_more {
            break;
        }
    }
    let merged = merge(&snap.changes, &live, &backfilled);
    assert_eq!(merged, apply(&sara.bootstrap().await), "the same state as a bootstrap from 0");
}

#[tokio::test]
async fn an_inbox_lost_after_the_snapshot_is_not_backfilled() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    for n in 0..5 {
        server.inbound(&workspace.whatsapp, &format!("c{n}"), &format!("m{n}"), "hello").await;
    }
    let sam = &workspace.sam;
    let snap = snapshot(sam).await;
    assert!(snap.changes.iter().any(|c| c.entity == EntityKind::Conversation));
    // Sam's team loses the WhatsApp inbox (only Carl is a member now).
    let (status, _) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            Some(json!({"member_team_ids": [], "member_agent_ids": [workspace.carl.agent.id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = backfill(sam, snap.next, snap.check.as_deref(), None, 1000).await;
    assert!(page.done);
    assert!(
        page.changes.iter().all(|c| !matches!(
            c.entity,
            EntityKind::Conversation | EntityKind::Message | EntityKind::Contact
        )),
        "nothing of the lost inbox: {:?}",
        page.changes.iter().map(|c| c.entity).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_backfill_under_a_cursor_from_another_feed_is_refused() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let snap = snapshot(&workspace.sara).await;
    let (status, body) =
        workspace.sara.get(&format!("/api/v1/sync/backfill?upto={}&check=0000", snap.next)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "feed_rewound");
    let (status, _) = workspace.sara.get(&format!("/api/v1/sync/backfill?upto={}", snap.next + 100)).await;
    assert_eq!(status, StatusCode::CONFLICT, "beyond the head");
    let (status, _) = workspace.sara.get("/api/v1/sync/backfill?upto=1&limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_thread_history_pages_newest_first_and_only_for_who_sees_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c", "m0", "message 0").await.conversation_id;
    for n in 1..7 {
        server.clock.advance(1);
        server.inbound(&workspace.whatsapp, "c", &format!("m{n}"), &format!("message {n}")).await;
    }
    let sara = &workspace.sara;
    let mut path = format!("/api/v1/conversations/{conversation}/history?limit=3");
    let mut bodies = Vec::new();
    loop {
        let (status, value) = sara.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        let page: HistoryPage = serde_json::from_value(value).expect("history page");
        assert!(page.changes.len() <= 3);
        for change in &page.changes {
            let message: Message =
                serde_json::from_value(change.data.clone().expect("data")).expect("message");
            bodies.push(message.body);
        }
        match page.older {
            Some(older) => {
                path = format!(
                    "/api/v1/conversations/{conversation}/history?limit=3&before_at={}&before_id={}",
                    older.created_at, older.id
                )
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|n| format!("message {n}")).collect();
    assert_eq!(bodies, expected);
    let (status, _) = workspace.carl.get(&format!("/api/v1/conversations/{conversation}/history")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "carl does not see the WhatsApp inbox: out_of_view");
    let (status, _) = sara.get(&format!("/api/v1/conversations/{conversation}/history?before_at=5")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
