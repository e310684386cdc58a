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
    for n in 0..40 {
        let inbox = workspace.whatsapp.clone();
        let base = server.base.clone();
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
            match response {
                Ok(r) if r.status().is_success() => r.json::<InboundResult>().await.ok(),
                _ => None,
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
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
