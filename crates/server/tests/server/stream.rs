//! The WebSocket stream: replay then live with no gap, ephemeral events, revocation, slow clients.

use std::collections::HashSet;

use futures_util::SinkExt;
use serde_json::json;
use switchboard_proto::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::harness::*;

/// Reads frames until `done` says enough, checking the cursor chain as a client would.
async fn collect_until(
    socket: &mut Socket,
    cursor: &mut i64,
    changes: &mut Vec<Change>,
    done: impl Fn(&[Change]) -> bool,
) {
    while !done(changes) {
        match next_frame(socket).await {
            Ok(ServerFrame::Changes { since, next, changes: batch, .. }) => {
                assert_eq!(since, *cursor, "each batch continues from the client's cursor (no gap)");
                assert!(next >= since);
                *cursor = next;
                changes.extend(batch);
            }
            Ok(_) => {}
            Err(code) => panic!("stream closed unexpectedly: {code:?}"),
        }
    }
}

#[tokio::test]
async fn replay_then_live_has_no_gap_at_the_boundary() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    for n in 0..40 {
        server.inbound(&workspace.whatsapp, &format!("c{}", n % 4), &format!("before-{n}"), "earlier").await;
    }
    // Writers keep committing while the stream connects and replays.
    let writer = {
        let base_server_inbox = workspace.whatsapp.clone();
        let base = server.base.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0..60 {
                let payload = json!({"contact": {"external_id": format!("c{}", n % 4)},
                                     "message": {"external_id": format!("during-{n}"), "body": "live"}})
                .to_string();
                client
                    .post(format!("{base}/api/v1/channels/{}/inbound", base_server_inbox.inbox.id))
                    .header("content-type", "application/json")
                    .header(
                        "x-switchboard-signature",
                        sign(&base_server_inbox.signing_secret, payload.as_bytes()),
                    )
                    .body(payload)
                    .send()
                    .await
                    .expect("inbound");
            }
        })
    };
    let mut socket = open_stream(&workspace.sara, 0).await;
    let mut cursor = 0;
    let mut changes = Vec::new();
    let incoming = |changes: &[Change]| {
        changes
            .iter()
            .filter(|c| {
                c.entity == EntityKind::Message && c.data.as_ref().is_some_and(|d| d["kind"] == "incoming")
            })
            .map(|c| c.id)
            .collect::<HashSet<_>>()
            .len()
    };
    collect_until(&mut socket, &mut cursor, &mut changes, |c| incoming(c) >= 100).await;
    writer.await.expect("writer");
    assert_eq!(incoming(&changes), 100, "every message arrives, replayed or live");
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in seq order, no duplicates");
    assert_eq!(
        apply(&changes),
        apply(&workspace.sara.bootstrap().await),
        "the stream's state equals a bootstrap"
    );
}

#[tokio::test]
async fn typing_reaches_colleagues_who_can_see_the_conversation_only() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let result = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await;
    let head = server.head().await;
    let mut sara = open_stream(&workspace.sara, head).await;
    let mut sam = open_stream(&workspace.sam, head).await;
    let mut carl = open_stream(&workspace.carl, head).await;
    // Let the connections settle (presence frames, empty replays).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let frame = json!({"type": "typing", "conversation_id": result.conversation_id, "active": true});
    sara.send(WsMessage::Text(frame.to_string().into())).await.expect("send typing");

    let typing = loop {
        match next_frame(&mut sam).await.expect("sam's stream") {
            ServerFrame::Typing { conversation_id, agent_id, active } => {
                break (conversation_id, agent_id, active)
            }
            _ => continue,
        }
    };
    assert_eq!(typing, (result.conversation_id, workspace.sara.agent.id, true));

    // Carl (Sales) can't see the WhatsApp inbox: after a later change he does see, no typing came first.
    server.inbound(&workspace.email, "e1", "em1", "email customer").await;
    loop {
        match next_frame(&mut carl).await.expect("carl's stream") {
            ServerFrame::Typing { .. } | ServerFrame::Viewing { .. } => {
                panic!("carl must not see typing in an inbox he can't see")
            }
            ServerFrame::Changes { changes, .. } if !changes.is_empty() => break,
            _ => continue,
        }
    }
    // Sara doesn't get her own typing echoed (a WhatsApp message marks where to stop looking).
    server.inbound(&workspace.whatsapp, "c2", "m2", "for support").await;
    loop {
        match next_frame(&mut sara).await.expect("sara's stream") {
            ServerFrame::Typing { agent_id, .. } => assert_ne!(agent_id, workspace.sara.agent.id),
            ServerFrame::Changes { .. } => break,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn a_revoked_device_has_its_stream_closed() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let mut socket = open_stream(&workspace.sam, 0).await;
    // Drain the replay.
    let _ = next_frame(&mut socket).await;
    workspace.sam.post("/api/v1/auth/logout", json!({})).await;
    loop {
        match next_frame(&mut socket).await {
            Ok(_) => continue,
            Err(code) => {
                assert_eq!(code, Some(CLOSE_REVOKED));
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_slow_client_is_cut_off_without_stalling_others_and_resumes_with_since() {
    let server = TestServer::start_with(|config| config.stream_buffer = 8).await;
    let workspace = Workspace::create(&server).await;
    let start = server.head().await;
    // Sam connects and never reads; Sara reads everything.
    let mut slow = open_stream(&workspace.sam, start).await;
    let mut fast = open_stream(&workspace.sara, start).await;
    let body = "x".repeat(60_000);
    let writes = 150;
    let writer = {
        let inbox = workspace.whatsapp.clone();
        let base = server.base.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0..writes {
                let payload = json!({"contact": {"external_id": format!("bulk-{}", n % 10)},
                                     "message": {"external_id": format!("bulk-{n}"), "body": body}})
                .to_string();
                client
                    .post(format!("{base}/api/v1/channels/{}/inbound", inbox.inbox.id))
                    .header("content-type", "application/json")
                    .header("x-switchboard-signature", sign(&inbox.signing_secret, payload.as_bytes()))
                    .body(payload)
                    .send()
                    .await
                    .expect("inbound");
            }
        })
    };
    let mut cursor = start;
    let mut fast_changes = Vec::new();
    let messages = |c: &[Change]| c.iter().filter(|c| c.entity == EntityKind::Message).count();
    collect_until(&mut fast, &mut cursor, &mut fast_changes, |c| messages(c) >= writes).await;
    writer.await.expect("writer");

    // The slow client was closed with the overflow code (or dropped for not reading).
    let mut slow_cursor = start;
    let mut slow_changes = Vec::new();
    let closed_with = loop {
        match next_frame(&mut slow).await {
            Ok(ServerFrame::Changes { since, next, changes, .. }) => {
                assert_eq!(since, slow_cursor);
                slow_cursor = next;
                slow_changes.extend(changes);
            }
            Ok(_) => continue,
            Err(code) => break code,
        }
    };
    assert!(messages(&slow_changes) < writes, "the slow client could not have kept up");
    assert!(matches!(closed_with, Some(CLOSE_OVERFLOW) | None), "closed for overflow, got {closed_with:?}");

    // Resuming with its cursor brings it level.
    let mut resumed = open_stream(&workspace.sam, slow_cursor).await;
    collect_until(&mut resumed, &mut slow_cursor, &mut slow_changes, |c| messages(c) >= writes).await;
    assert_eq!(messages(&slow_changes), writes);
}
