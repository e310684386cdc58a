//! The change feed: order and completeness under concurrent writers, compaction, tombstones.

use std::collections::HashSet;

use serde_json::json;
use switchboard_proto::*;

use crate::harness::*;

#[tokio::test]
async fn a_reader_paging_during_concurrent_writes_sees_no_gap_and_no_reorder() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let writers = 8;
    let per_writer = 25;

    let mut tasks = Vec::new();
    for writer in 0..writers {
        let server_base = server.base.clone();
        let inbox = workspace.whatsapp.clone();
        let sara = workspace.sara.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut conversation = None;
            for n in 0..per_writer {
                let payload = json!({
                    "contact": {"external_id": format!("writer-{writer}")},
                    "message": {"external_id": format!("w{writer}-{n}"), "body": format!("message {n} from writer {writer}")},
                })
                .to_string();
                let response = client
                    .post(format!("{server_base}/api/v1/channels/{}/inbound", inbox.inbox.id))
                    .header("content-type", "application/json")
                    .header("x-switchboard-signature", sign(&inbox.signing_secret, payload.as_bytes()))
                    .body(payload)
                    .send()
                    .await
                    .expect("inbound");
                let result: InboundResult = response.json().await.expect("inbound result");
                conversation = Some(result.conversation_id);
                if n % 5 == 0 {
                    // Interleave agent writes too (priority flips rewrite the conversation).
                    let priority = if n % 10 == 0 { "high" } else { "low" };
                    sara.ok(
                        &format!("/api/v1/conversations/{}/priority", result.conversation_id),
                        json!({"client_id": Id::new_v4(), "priority": priority}),
                    )
                    .await;
                }
            }
            conversation
        }));
    }

    // One reader pages with a small limit while the writers run, then catches up.
    let reader = workspace.sam.clone();
    let mut since = 0;
    let mut received: Vec<Change> = Vec::new();
    let mut writers_done = false;
    loop {
        let page = reader.sync(since, 7).await;
        assert!(page.next >= since, "the cursor never goes back");
        received.extend(page.changes);
        since = page.next;
        if writers_done && !page.has_more {
            break;
        }
        if !writers_done && tasks.iter().all(|t| t.is_finished()) {
            writers_done = true;
        }
    }
    for task in tasks {
        task.await.expect("writer");
    }
    // One more page: anything committed after the last read.
    let last = reader.sync(since, 1000).await;
    received.extend(last.changes);

    let seqs: Vec<i64> = received.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seqs must strictly increase across pages");

    let message_ids: HashSet<Id> =
        received.iter().filter(|c| c.entity == EntityKind::Message).map(|c| c.id).collect();
    let incoming = received
        .iter()
        .filter(|c| c.entity == EntityKind::Message)
        .filter(|c| c.data.as_ref().is_some_and(|d| d["kind"] == "incoming"))
        .count();
    assert_eq!(incoming, writers * per_writer, "every customer message reached the reader exactly once");
    assert_eq!(message_ids.len(), received.iter().filter(|c| c.entity == EntityKind::Message).count());

    // The reader's state equals a fresh bootstrap: nothing missed, nothing stale.
    assert_eq!(apply(&received), apply(&reader.bootstrap().await), "paged state and bootstrap state differ");
}

#[tokio::test]
async fn bootstrap_is_compacted_to_latest_versions_without_tombstones() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let result = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await;
    let path = format!("/api/v1/conversations/{}/priority", result.conversation_id);
    for priority in ["low", "high", "urgent"] {
        workspace.sara.ok(&path, json!({"client_id": Id::new_v4(), "priority": priority})).await;
    }
    let (_, label) = server.admin.post("/api/v1/labels", json!({"name": "temp"})).await;
    let before_delete = server.head().await;
    let label_path = format!("/api/v1/labels/{}", label["id"].as_str().expect("id"));
    server.admin.request(reqwest::Method::DELETE, &label_path, None).await;

    let bootstrap = workspace.sara.bootstrap().await;
    let versions = bootstrap.iter().filter(|c| c.id == result.conversation_id).count();
    assert_eq!(versions, 1, "one version per entity in a bootstrap");
    let conversation = bootstrap.iter().find(|c| c.id == result.conversation_id).expect("conversation");
    assert_eq!(conversation.data.as_ref().expect("data")["priority"], "urgent");
    assert!(bootstrap.iter().all(|c| c.op == ChangeOp::Upsert), "no tombstones from zero");

    // An incremental reader gets the tombstone.
    let page = workspace.sara.sync(before_delete, 100).await;
    assert!(page.changes.iter().any(|c| c.op == ChangeOp::Delete && c.entity == EntityKind::Label));
}

#[tokio::test]
async fn sync_limit_and_since_are_validated() {
    let server = TestServer::start().await;
    for query in ["since=-1", "limit=0", "limit=1001", "since=abc", "limit=-3"] {
        let (status, body) = server.admin.get(&format!("/api/v1/sync?{query}")).await;
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{query}");
    }
}

#[tokio::test]
async fn every_acknowledged_write_survives_a_shutdown_mid_traffic() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let mut writers = Vec::new();
    // The shutdown comes once the first write is acknowledged, with the rest still in flight: a
    // fixed delay made the test fail on a loaded machine, where nothing had been answered yet.
    let (acked, mut first_ack) = tokio::sync::mpsc::channel::<()>(40);
    for n in 0..40 {
        let inbox = workspace.whatsapp.clone();
        let base = server.base.clone();
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(n * 3)).await;
            let payload = json!({"contact": {"external_id": format!("s{}", n % 5)},
                                 "message": {"external_id": format!("s-{n}"), "body": "during shutdown"}})
            .to_string();
            let response = reqwest::Client::new()
                .post(format!("{base}/api/v1/channels/{}/inbound", inbox.inbox.id))
                .header("content-type", "application/json")
                .header("x-switchboard-signature", sign(&inbox.signing_secret, payload.as_bytes()))
                .body(payload)
                .send()
                .await;
            let result = match response {
                Ok(r) if r.status().is_success() => r.json::<InboundResult>().await.ok(),
                _ => None,
            };
            if result.is_some() {
                let _ = acked.send(()).await;
            }
            result
        }));
    }
    drop(acked);
    tokio::time::timeout(std::time::Duration::from_secs(30), first_ack.recv())
        .await
        .expect("a write is acknowledged within 30 s");
    let server = server.restart().await;
    let mut acknowledged = Vec::new();
    for writer in writers {
        if let Some(result) = writer.await.expect("writer") {
            acknowledged.push(result.message_id);
        }
    }
    assert!(!acknowledged.is_empty(), "some writes were acknowledged before the shutdown");
    let state = apply(&server.admin.bootstrap().await);
    for id in acknowledged {
        assert!(state.contains_key(&(EntityKind::Message, id)), "acknowledged message {id} was lost");
    }
}

/// A cursor names its change with `check`; one that names no change of this feed (beyond the
/// head, or a seq now holding another change: a restore from an older backup) is `feed_rewound`,
/// on `/sync` and at the stream's handshake. The end-to-end restore is in the core's suite
/// (`crates/core/tests/core/restore.rs`).
#[tokio::test]
async fn a_cursor_that_names_no_change_of_this_feed_is_refused_as_rewound() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    server.inbound(&workspace.whatsapp, "c1", "m1", "first").await;
    let page = server.admin.sync(0, 1000).await;
    let check = page.check.clone().expect("a page names the change at its cursor");
    let rewound = |status: reqwest::StatusCode, body: &serde_json::Value, what: &str| {
        assert_eq!(status, reqwest::StatusCode::CONFLICT, "{what}: {body}");
        assert_eq!(body["error"]["code"], "feed_rewound", "{what}");
    };

    // The cursor and its check as given: accepted, and the next page names its own cursor.
    let (status, body) = server.admin.get(&format!("/api/v1/sync?since={}&check={check}", page.next)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["check"], check, "nothing new: the same cursor, the same check");
    // Another check at the same seq: the seq holds another change than the one the client saw.
    let (status, body) = server.admin.get(&format!("/api/v1/sync?since={}&check=00ff", page.next)).await;
    rewound(status, &body, "a check that doesn't match");
    // Beyond the head, with or without a check (old clients send none).
    for query in [format!("since={}", page.next + 50), format!("since={}&check={check}", page.next + 50)] {
        let (status, body) = server.admin.get(&format!("/api/v1/sync?{query}")).await;
        rewound(status, &body, &query);
    }
    // The stream refuses such a cursor before the upgrade.
    let url =
        format!("{}/api/v1/stream?since={}", server.admin.base.replacen("http", "ws", 1), page.next + 50);
    let mut request = url.into_client_request().expect("ws request");
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", server.admin.token).parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), reqwest::StatusCode::CONFLICT)
        }
        other => panic!("the stream took a rewound cursor: {:?}", other.map(|_| ())),
    }

    // A live frame's check is the one `/sync` gives for the same cursor.
    let mut socket = open_stream(&server.admin, page.next).await;
    let sent = server.inbound(&workspace.whatsapp, "c2", "m2", "second").await;
    let (next, frame_check) = loop {
        match next_frame(&mut socket).await {
            Ok(ServerFrame::Changes { next, check, changes, .. })
                if changes.iter().any(|c| c.id == sent.message_id) =>
            {
                break (next, check.expect("a frame names its cursor's change"))
            }
            Ok(_) => continue,
            Err(code) => panic!("the stream closed: {code:?}"),
        }
    };
    let (status, body) = server.admin.get(&format!("/api/v1/sync?since={next}&check={frame_check}")).await;
    assert_eq!(status, reqwest::StatusCode::OK, "the frame's check is accepted: {body}");
}

/// A conversation created by a customer message and labelled by a rule in the same transaction
/// is one change in the feed, carrying its final state, on `/sync` and on the stream alike; the
/// next transaction's write of it supersedes that change as usual.
#[tokio::test]
async fn an_entity_written_twice_in_one_transaction_is_one_change_with_its_last_state() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, body) = workspace.lena.post("/api/v1/labels", json!({"name": "first-contact"})).await;
    assert_eq!(status, reqwest::StatusCode::OK, "label: {body}");
    let rule = json!({"name": "Tag", "trigger": {"type": "event", "events": ["message_received"]},
                      "actions": [{"type": "add_labels", "labels": ["first-contact"]}]});
    let (status, body) = workspace.lena.post("/api/v1/automation-rules", rule).await;
    assert_eq!(status, reqwest::StatusCode::OK, "rule: {body}");
    let head = server.head().await;
    let mut socket = open_stream(&server.admin, head).await;

    let sent = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await;
    let conversation_changes = |changes: &[Change]| -> Vec<Change> {
        changes.iter().filter(|c| c.id == sent.conversation_id).cloned().collect()
    };
    let page = server.admin.sync(head, 1000).await;
    let synced = conversation_changes(&page.changes);
    assert_eq!(synced.len(), 1, "one change for the conversation: {synced:#?}");
    assert_eq!(synced[0].data.as_ref().expect("data")["labels"], json!(["first-contact"]));
    let live = loop {
        match next_frame(&mut socket).await {
            Ok(ServerFrame::Changes { changes, .. }) if changes.iter().any(|c| c.id == sent.message_id) => {
                break conversation_changes(&changes)
            }
            Ok(_) => continue,
            Err(code) => panic!("the stream closed: {code:?}"),
        }
    };
    assert_eq!(live.len(), 1, "one change for the conversation on the stream: {live:#?}");
    assert_eq!(live, synced, "the stream sends what the feed keeps");

    // A later transaction's write is a new change; the reader from `head` sees only the latest.
    let priority = format!("/api/v1/conversations/{}/priority", sent.conversation_id);
    workspace.lena.ok(&priority, json!({"client_id": Id::new_v4(), "priority": "high"})).await;
    let page = server.admin.sync(head, 1000).await;
    let synced = conversation_changes(&page.changes);
    assert_eq!(synced.len(), 1, "the earlier change is superseded: {synced:#?}");
    let data = synced[0].data.as_ref().expect("data");
    assert_eq!((data["priority"].clone(), data["labels"].clone()), (json!("high"), json!(["first-contact"])));
}
