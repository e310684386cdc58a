//! A server restored from a backup older than what a client has seen: the client's cursor names
//! changes the restored feed never had, so the server answers `feed_rewound` and the client drops
//! what the feed gave it and bootstraps again, keeping its outbox.

use switchboard_core::{events::ConnectionState, outbox::Action};
use switchboard_proto::*;

use crate::harness::*;

/// Waits until the client's cache holds exactly what the server says it may see.
async fn until_equal_to_server(server: &Server, client: &Client, what: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let expected = server.state(&client.token()).await;
        if client.account.cache.server_state().expect("state") == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_client_ahead_of_a_restored_feed_starts_again_and_keeps_its_outbox() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let before = server.inbound(&workspace.whatsapp, "c-before", "m-before", "before the backup").await;
    let mut sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("the bootstrap", |c| c.conversation(before.conversation_id).is_some()).await;

    let backup = server.backup().await;
    // After the backup: changes Sara sees, which the restore will lose.
    let mut lost = Vec::new();
    for n in 0..3 {
        lost.push(
            server.inbound(&workspace.whatsapp, &format!("c-lost{n}"), &format!("m-lost{n}"), "lost").await,
        );
    }
    sara.until("the lost conversations are cached", |c| {
        lost.iter().all(|r| c.conversation(r.conversation_id).is_some())
    })
    .await;
    let cursor_before_restore = sara.account.cache.cursor().expect("cursor");

    // Sara goes offline with a note queued; meanwhile the server is restored and written past her
    // cursor, so seqs she holds now name other changes (the case a bare "beyond the head" test
    // misses).
    if let Some(engine) = sara.engine.take() {
        engine.shutdown().await;
    }
    let note_body = "written offline, across the restore";
    let note = Action::Send {
        conversation_id: before.conversation_id,
        request: SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Note,
            body: note_body.into(),
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![],
    };
    sara.account.cache.enqueue(&note, switchboard_core::sync::system_now()).expect("queued offline");
    server.restore(&backup).await;
    let mut after = Vec::new();
    for n in 0..12 {
        after.push(
            server
                .inbound(&workspace.whatsapp, &format!("c-after{n}"), &format!("m-after{n}"), "after")
                .await,
        );
    }
    let mut head = 0;
    loop {
        let page = server.get(&server.admin_token, &format!("/api/v1/sync?since={head}&limit=1000")).await;
        head = page["next"].as_i64().expect("next");
        if page["has_more"] != true {
            break;
        }
    }
    assert!(head > cursor_before_restore, "the restored feed was written past Sara's cursor");

    sara.start();
    sara.until("online again", |c| c.engine().status().state == ConnectionState::Online).await;
    until_equal_to_server(&server, &sara, "the cache equals the restored server's view").await;
    for lost in &lost {
        assert!(
            sara.conversation(lost.conversation_id).is_none(),
            "what the restore lost is gone from the cache"
        );
    }
    for after in &after {
        assert!(
            sara.conversation(after.conversation_id).is_some(),
            "the restored feed's own changes are there"
        );
    }
    // The note queued offline was not dropped by the reset: it reached the server.
    sara.until("the offline note reached the server", |c| {
        c.account.cache.pending_count().expect("pending") == 0
    })
    .await;
    let transcript = server
        .get(&server.admin_token, &format!("/api/v1/conversations/{}/export", before.conversation_id))
        .await;
    let notes = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["body"] == note_body)
        .count();
    assert_eq!(notes, 1, "the offline note arrived once");
    until_equal_to_server(&server, &sara, "the note is in the cache as the server has it").await;
}
