//! Inbox visibility: an agent never receives a change, attachment, search hit or stream frame
//! from an inbox they cannot see (the modes within an inbox: `inbox_visibility.rs`).

use reqwest::StatusCode;
use serde_json::json;
use switchboard_proto::*;

use crate::harness::*;

async fn upload(
    session: &Session,
    conversation: Id,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("text/plain")
            .expect("mime"),
    );
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/attachments?conversation_id={conversation}", session.base))
        .bearer_auth(&session.token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn agents_see_nothing_of_inboxes_they_are_not_members_of() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let support = server.inbound(&workspace.whatsapp, "c1", "m1", "zanzibar shipment question").await;
    let hidden = server.inbound(&workspace.secret, "s1", "s1", "zanzibar partner secret").await;
    let (status, attachment) =
        upload(&server.admin, hidden.conversation_id, "secret.txt", b"top secret".to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{attachment}");
    let attachment_id = attachment["id"].as_str().expect("attachment id").to_owned();
    server
        .admin
        .ok(
            &format!("/api/v1/conversations/{}/messages", hidden.conversation_id),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": "zanzibar reply", "attachment_ids": [attachment_id]}),
        )
        .await;

    let hidden_contact =
        server.admin.get(&format!("/api/v1/conversations/{}/export", hidden.conversation_id)).await.1
            ["contact"]["id"]
            .clone();
    for session in [&workspace.sara, &workspace.carl] {
        let changes = session.bootstrap().await;
        let leaked = changes.iter().any(|c| {
            c.id == hidden.conversation_id
                || json!(c.id) == hidden_contact
                || c.data.as_ref().is_some_and(|d| d["conversation_id"] == json!(hidden.conversation_id))
        });
        assert!(!leaked, "{} received a change from the secret inbox", session.agent.name);
        let (_, contacts) = session.get("/api/v1/contacts?q=").await;
        let listed = contacts.as_array().expect("contacts").iter().any(|c| c["id"] == hidden_contact);
        assert!(!listed, "{} can list a contact who only wrote to the secret inbox", session.agent.name);
        let (_, hits) = session.get("/api/v1/search?q=Customer%20s1").await;
        assert!(
            !hits["contacts"].as_array().expect("contacts").iter().any(|c| c["id"] == hidden_contact),
            "a contact search hit from an invisible inbox"
        );

        let (status, _) = session.get(&format!("/api/v1/attachments/{attachment_id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "attachment of an invisible inbox");
        let (_, hits) = session.get("/api/v1/search?q=zanzibar").await;
        let conversation_ids: Vec<&serde_json::Value> =
            hits["messages"].as_array().expect("hits").iter().map(|h| &h["conversation_id"]).collect();
        assert!(
            !conversation_ids.contains(&&json!(hidden.conversation_id)),
            "search hit from an invisible inbox"
        );
        // An invisible conversation is refused as out of view (its id is random: only someone once
        // shown it can name it), so a client drops what it queued for it.
        let (status, body) =
            session.get(&format!("/api/v1/conversations/{}/export", hidden.conversation_id)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("out_of_view")));
        let (status, body) = session.reply(hidden.conversation_id, "let me in").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("out_of_view")),
            "acting on an invisible conversation"
        );
    }
    // Sara sees her own inbox's hit; the admin sees both.
    let (_, hits) = workspace.sara.get("/api/v1/search?q=zanzibar").await;
    assert_eq!(hits["messages"][0]["conversation_id"], json!(support.conversation_id));
    let (_, hits) = server.admin.get("/api/v1/search?q=zanzibar").await;
    assert_eq!(hits["messages"].as_array().map(Vec::len), Some(3));
    // The admin can download it and gets the bytes back.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/attachments/{attachment_id}", server.base))
        .bearer_auth(&server.admin.token)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), b"top secret");
}

#[tokio::test]
async fn the_stream_filters_by_inbox_and_follows_membership_changes() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let head = server.head().await;
    let mut carl = open_stream(&workspace.carl, head).await;
    server.inbound(&workspace.whatsapp, "c1", "m1", "support only").await;
    server.inbound(&workspace.email, "e1", "em1", "for sales").await;
    let mut cursor = head;
    let mut seen = Vec::new();
    while !seen.iter().any(|c: &Change| c.data.as_ref().is_some_and(|d| d["body"] == "for sales")) {
        if let Ok(ServerFrame::Changes { since, next, changes, .. }) = next_frame(&mut carl).await {
            assert_eq!(since, cursor);
            cursor = next;
            seen.extend(changes);
        }
    }
    assert!(
        !seen.iter().any(|c| c.data.as_ref().is_some_and(|d| d["body"] == "support only")),
        "carl's stream carried a WhatsApp message"
    );
    // Carl is added to the WhatsApp inbox: new messages there now reach him live.
    server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            Some(json!({"member_agent_ids": [workspace.carl.agent.id]})),
        )
        .await;
    server.inbound(&workspace.whatsapp, "c1", "m2", "now visible").await;
    loop {
        if let Ok(ServerFrame::Changes { changes, .. }) = next_frame(&mut carl).await {
            if changes.iter().any(|c| c.data.as_ref().is_some_and(|d| d["body"] == "now visible")) {
                break;
            }
        }
    }
}

#[tokio::test]
async fn uploads_over_the_channel_limit_are_refused_and_leave_nothing() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (_, created) = server
        .admin
        .post("/api/v1/inboxes", json!({"name": "IG", "channel": "instagram", "member_team_ids": []}))
        .await;
    let inbox: CreatedInbox = serde_json::from_value(created).expect("inbox");
    let conversation = server.inbound(&inbox, "c1", "m1", "pic incoming").await.conversation_id;
    let limit = Channel::Instagram.attachment_limit() as usize;
    let (status, body) = upload(&server.admin, conversation, "big.bin", vec![7u8; limit + 1]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
    let (status, _) = upload(&server.admin, conversation, "ok.bin", vec![7u8; limit]).await;
    assert_eq!(status, StatusCode::OK, "exactly the limit is fine");
    let leftovers =
        std::fs::read_dir(server.data_dir.path().join("attachments/tmp")).expect("tmp dir").count();
    assert_eq!(leftovers, 0, "no partial upload left behind");
    let (status, _) = upload(&workspace.sara, conversation, "x.txt", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no uploads into invisible conversations");
}
