//! The outbox: offline actions applied once and in order, rejections rolled back, attachments.

use std::time::Duration;

use serde_json::json;
use switchboard_core::{
    attachments::{stage_file, unstage, AttachmentCache},
    events::{ConnectionState, Event},
    outbox::Action,
};
use switchboard_proto::*;

use crate::harness::*;

fn reply(conversation_id: Id, body: &str) -> Action {
    Action::Send {
        conversation_id,
        request: SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Reply,
            body: body.into(),
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![],
    }
}

fn note(conversation_id: Id, body: &str) -> Action {
    Action::Send {
        conversation_id,
        request: SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Note,
            body: body.into(),
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![],
    }
}

fn rejections(client: &Client) -> Vec<(String, Option<Option<Id>>)> {
    client
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::OutboxRejected { code, current_assignee_id, .. } => Some((code, current_assignee_id)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn actions_queued_offline_apply_once_and_in_order_after_reconnect() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation =
        server.inbound(&workspace.whatsapp, "c1", "m1", "is anyone there?").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;

    server.kill().await;
    sara.until("offline", |c| c.engine().status().state != ConnectionState::Online).await;
    let actions = vec![
        reply(conversation, "Sorry for the wait — looking now"),
        note(conversation, "customer is upset, handle with care"),
        Action::Labels {
            conversation_id: conversation,
            request: LabelsRequest {
                client_id: Id::new_v4(),
                add: vec!["vip".into(), "refund".into()],
                remove: vec![],
                bulk_id: None,
            },
        },
        reply(conversation, "Your refund is on its way"),
        Action::Status {
            conversation_id: conversation,
            request: StatusRequest {
                client_id: Id::new_v4(),
                status: ConversationStatus::Resolved,
                snoozed_until: None,
                bulk_id: None,
            },
        },
    ];
    for action in &actions {
        sara.engine().queue(action.clone()).expect("queue offline");
    }
    // Offline, the cache already shows all of it, marked pending.
    let shown = sara.conversation(conversation).expect("conversation");
    assert_eq!(
        (shown.status, shown.labels.clone()),
        (ConversationStatus::Resolved, vec!["refund".to_string(), "vip".into()])
    );
    let thread = sara.account.cache.thread(conversation).expect("thread");
    assert_eq!(thread.iter().filter(|m| m.delivery == DeliveryState::Queued).count(), 3);
    assert_eq!(sara.engine().status().pending, 5);

    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart().await;
    sara.until("the outbox drained", |c| {
        c.account.cache.pending_count().expect("pending") == 0
            && c.account.cache.outbox().expect("outbox").is_empty()
    })
    .await;

    // The server has each action exactly once, in the order queued.
    let transcript =
        server.get(&server.admin_token, &format!("/api/v1/conversations/{conversation}/export")).await;
    let bodies: Vec<&str> = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["kind"] != "activity")
        .map(|m| m["body"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        bodies,
        [
            "is anyone there?",
            "Sorry for the wait — looking now",
            "customer is upset, handle with care",
            "Your refund is on its way"
        ]
    );
    assert_eq!(transcript["conversation"]["status"], "resolved");
    assert_eq!(transcript["conversation"]["labels"], json!(["refund", "vip"]));
    let expected = server.state(&sara.token()).await;
    sara.until("cache equals server", |c| c.account.cache.server_state().expect("state") == expected).await;
    let displayed = sara.account.cache.thread(conversation).expect("thread");
    assert!(displayed.iter().all(|m| m.delivery != DeliveryState::Queued), "no optimistic leftovers");
}

#[tokio::test]
async fn a_lost_claim_race_is_rolled_back_and_says_who_won() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    // Sara claims while offline; Sam claims on the server first.
    server.kill().await;
    sara.until("offline", |c| c.engine().status().state != ConnectionState::Online).await;
    sara.engine()
        .queue(Action::Assign {
            conversation_id: conversation,
            request: AssignRequest {
                client_id: Id::new_v4(),
                assignee_id: Some(sara.me()),
                team_id: None,
                expected_assignee_id: Some(None),
                bulk_id: None,
            },
        })
        .expect("queue");
    assert_eq!(
        sara.conversation(conversation).expect("c").assignee_id,
        Some(sara.me()),
        "optimistically hers"
    );
    server.restart().await;
    let sam = http_login(&server.base, "sam@test.example", PASSWORD).await;
    let (status, _) = server
        .post(
            &sam.token,
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": sam.agent.id, "expected_assignee_id": null}),
        )
        .await;
    if status != 200 {
        // Sara's queued claim got there first this time; the race is real either way.
        sara.until("outbox drained", |c| c.account.cache.pending_count().expect("p") == 0).await;
        assert_eq!(sara.conversation(conversation).expect("c").assignee_id, Some(sara.me()));
        return;
    }
    sara.until("the rejection arrives", |c| !rejections(c).is_empty()).await;
    assert_eq!(rejections(&sara), vec![("assignment_conflict".to_string(), Some(Some(sam.agent.id)))]);
    sara.until("rolled back to Sam", |c| {
        c.conversation(conversation).is_some_and(|conv| conv.assignee_id == Some(sam.agent.id))
    })
    .await;
}

#[tokio::test]
async fn a_reply_outside_the_window_rolls_back_with_window_closed() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    server.clock.advance(REPLY_WINDOW_MS + 60_000);
    let late = reply(conversation, "sorry, late");
    let late_id = late.client_id();
    sara.engine().queue(late).expect("queue");
    sara.until("the rejection arrives", |c| !rejections(c).is_empty()).await;
    assert_eq!(rejections(&sara)[0].0, "window_closed");
    let thread = sara.account.cache.thread(conversation).expect("thread");
    assert!(thread.iter().all(|m| m.id != late_id), "the rejected reply is gone from the thread");
    assert_eq!(sara.account.cache.pending_count().expect("pending"), 0);
    // A template still goes out.
    sara.engine()
        .queue(Action::Send {
            conversation_id: conversation,
            request: SendMessage {
                client_id: Id::new_v4(),
                kind: SendKind::Reply,
                body: String::new(),
                attachment_ids: vec![],
                template: Some(TemplateRef { name: "follow_up".into(), params: vec!["Ana".into()] }),
            },
            staged_files: vec![],
        })
        .expect("queue");
    sara.until("the template reply is confirmed", |c| {
        c.account.cache.thread(conversation).expect("thread").iter().any(|m| m.body == "Hi Ana, any news?")
    })
    .await;
}

#[tokio::test]
async fn attachments_are_staged_offline_uploaded_later_and_downloaded_into_a_capped_cache() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation =
        server.inbound(&workspace.whatsapp, "c1", "m1", "send me the invoice").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    let source = sara.root.path().join("invoice.pdf");
    std::fs::write(&source, b"%PDF-1.4 pretend invoice").expect("write");

    server.kill().await;
    let staged =
        stage_file(&sara.account.cache, &sara.account.staging_dir(), conversation, &source).expect("stage");
    std::fs::remove_file(&source).expect("the original may go away once staged");
    assert_eq!(staged.content_type, "application/pdf");
    let staged_copy = std::fs::read(sara.account.staging_dir().join(staged.id.to_string())).expect("staged");
    assert!(
        !staged_copy.windows(15).any(|w| w == b"pretend invoice"),
        "the staged copy is sealed (the account's cache is encrypted)"
    );
    let send = Action::Send {
        conversation_id: conversation,
        request: SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Reply,
            body: "Here it is".into(),
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![staged.id],
    };
    let message_id = send.client_id();
    sara.engine().queue(send).expect("queue");
    server.restart().await;
    sara.until("the reply with its attachment is confirmed", |c| {
        c.account
            .cache
            .get::<Message>(EntityKind::Message, message_id)
            .expect("read")
            .is_some_and(|m| m.attachments.len() == 1 && m.delivery != DeliveryState::Queued)
    })
    .await;
    let message: Message =
        sara.account.cache.get(EntityKind::Message, message_id).expect("read").expect("message");
    let attachment = &message.attachments[0];
    assert_eq!((attachment.file_name.as_str(), attachment.size), ("invoice.pdf", 24));
    assert!(
        !sara.account.staging_dir().join(staged.id.to_string()).exists(),
        "the staged copy is deleted once the server has the file"
    );

    // Too large for WhatsApp: refused before anything is copied.
    let big = sara.root.path().join("video.mp4");
    std::fs::File::create(&big)
        .expect("create")
        .set_len(Channel::Whatsapp.attachment_limit() + 1)
        .expect("size");
    let error = stage_file(&sara.account.cache, &sara.account.staging_dir(), conversation, &big)
        .expect_err("too big");
    assert_eq!(error.code(), "too_large");

    // A file that doesn't match its checksum (damaged or replaced on the server) is refused and
    // nothing of it is kept; the intact file then downloads.
    let stored =
        server.data_dir.path().join("attachments").join(&attachment.sha256[..2]).join(&attachment.sha256);
    let intact = std::fs::read(&stored).expect("the server's copy");
    assert_eq!(intact, b"%PDF-1.4 pretend invoice", "the upload is the file as the agent chose it");
    std::fs::write(&stored, b"%PDF-1.4 pretend invoicf").expect("tamper");
    let files = AttachmentCache::new(sara.account.attachments_dir(), 30);
    let error =
        files.fetch(&sara.account.cache, &sara.account.api, attachment, 1).await.expect_err("mismatch");
    assert_eq!(error.code(), "invalid", "{error}");
    let leftovers = std::fs::read_dir(sara.account.attachments_dir()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "neither the file nor a partial download stays");
    std::fs::write(&stored, intact).expect("restore");

    // Download into a cache that holds one file: fetching a second evicts the first.
    let path = files.fetch(&sara.account.cache, &sara.account.api, attachment, 1).await.expect("download");
    let cached = std::fs::read(&path).expect("read");
    assert!(!cached.windows(15).any(|w| w == b"pretend invoice"), "the cached copy is sealed");
    let read = files.read(&sara.account.cache, &sara.account.api, attachment, 1).await.expect("read");
    assert_eq!(read, b"%PDF-1.4 pretend invoice", "and reads back whole");
    let other_source = sara.root.path().join("notes.txt");
    std::fs::write(&other_source, b"twenty bytes of text").expect("write");
    let staged = stage_file(&sara.account.cache, &sara.account.staging_dir(), conversation, &other_source)
        .expect("stage");
    let second = Action::Send {
        conversation_id: conversation,
        request: SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Note,
            body: "notes".into(),
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![staged.id],
    };
    let second_id = second.client_id();
    sara.engine().queue(second).expect("queue");
    sara.until("confirmed", |c| {
        c.account
            .cache
            .get::<Message>(EntityKind::Message, second_id)
            .expect("read")
            .is_some_and(|m| m.attachments.len() == 1)
    })
    .await;
    let second_message: Message =
        sara.account.cache.get(EntityKind::Message, second_id).expect("read").expect("m");
    files
        .fetch(&sara.account.cache, &sara.account.api, &second_message.attachments[0], 2)
        .await
        .expect("download");
    assert!(!path.exists(), "the least recently used file was evicted to stay under the cap");
}

#[tokio::test]
async fn a_failed_reply_retried_offline_shows_queued_and_the_server_requeues_it() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    let message = |c: &Client, id: Id| -> Option<Message> {
        c.account.cache.get(EntityKind::Message, id).expect("cache read")
    };

    // No connector: the reply fails, saying why.
    let first = reply(conversation, "On it");
    let id = first.client_id();
    sara.engine().queue(first).expect("queue");
    sara.until("the reply failed", |c| {
        message(c, id).is_some_and(|m| m.delivery == DeliveryState::Failed && m.failure.is_some())
    })
    .await;
    assert_eq!(
        message(&sara, id).and_then(|m| m.failure).map(|f| f.kind),
        Some(DeliveryFailureKind::NotConfigured)
    );

    // An admin connects the inbox (to a provider that is down: the job keeps it queued).
    let connector = json!({"kind": "whatsapp", "phone_number_id": "1", "access_token": "t", "app_secret": "s",
        "verify_token": "v", "graph_base_url": "http://127.0.0.1:9", "api_version": "v23.0"});
    let (status, body) = server
        .patch(
            &server.admin_token.clone(),
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            json!({"connector": connector}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Retried offline: it shows queued at once, without the old reason.
    server.kill().await;
    sara.until("offline", |c| c.engine().status().state != ConnectionState::Online).await;
    sara.engine().queue(switchboard_core::intents::retry_delivery(conversation, id)).expect("queue");
    let shown = message(&sara, id).expect("the reply");
    assert_eq!((shown.delivery, shown.failure), (DeliveryState::Queued, None));

    // Back online, the server takes it: queued for delivery, nothing rejected.
    server.restart().await;
    sara.until("the retry is confirmed", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    assert!(rejections(&sara).is_empty(), "{:?}", rejections(&sara));
    let state = server.state(&sara.token()).await;
    let on_server: Message =
        serde_json::from_value(state[&(EntityKind::Message, id)].clone()).expect("the server's copy");
    assert_eq!((on_server.delivery, on_server.failure), (DeliveryState::Queued, None));

    // A retry of what is not failed is refused and rolled back.
    sara.engine().queue(switchboard_core::intents::retry_delivery(conversation, id)).expect("queue");
    sara.until("the refusal arrives", |c| !rejections(c).is_empty()).await;
    assert_eq!(rejections(&sara)[0].0, "validation");
    assert_eq!(message(&sara, id).map(|m| m.delivery), Some(DeliveryState::Queued));
}

#[tokio::test]
async fn a_file_taken_back_or_refused_leaves_no_staged_copy_and_one_a_reply_holds_stays() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation =
        server.inbound(&workspace.whatsapp, "c1", "m1", "send me the contract").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    let source = sara.root.path().join("contract.pdf");
    std::fs::write(&source, b"%PDF-1.4 pretend contract").expect("write");
    let (cache, dir) = (&sara.account.cache, sara.account.staging_dir());

    // Taken back with the composer's x: its row and its copy go.
    let staged = stage_file(cache, &dir, conversation, &source).expect("stage");
    assert!(dir.join(staged.id.to_string()).exists());
    assert!(unstage(cache, &dir, staged.id).expect("unstage"), "it was staged");
    assert!(!dir.join(staged.id.to_string()).exists(), "the copy is deleted");
    assert!(!unstage(cache, &dir, staged.id).expect("again"), "and its row: nothing left to take back");

    // Named by a reply waiting offline: kept for that reply.
    server.kill().await;
    let held = stage_file(cache, &dir, conversation, &source).expect("stage");
    let send = |conversation_id, staged: Id| Action::Send {
        conversation_id,
        request: SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Reply,
            body: "Signed copy attached".into(),
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![staged],
    };
    sara.engine().queue(send(conversation, held.id)).expect("queue");
    assert!(!unstage(cache, &dir, held.id).expect("unstage"), "a queued reply holds it");
    assert!(dir.join(held.id.to_string()).exists(), "its copy stays for the reply");

    // A reply the server refuses for good (a conversation it doesn't know) drops its staged copy.
    let refused = stage_file(cache, &dir, conversation, &source).expect("stage");
    sara.engine().queue(send(Id::new_v4(), refused.id)).expect("queue");
    server.restart().await;
    sara.until("the held reply is sent and the refused one dropped", |c| {
        c.account.cache.outbox().expect("outbox").is_empty()
    })
    .await;
    for id in [held.id, refused.id] {
        assert!(!dir.join(id.to_string()).exists(), "no staged copy left: {id}");
        assert!(!unstage(cache, &dir, id).expect("unstage"), "no staged row left: {id}");
    }
}

/// A multi-selection's actions carry one `bulk_id` (the server's audit trail groups them by it);
/// actions that have no such field are left as they were.
#[test]
fn a_bulk_action_marks_each_request_with_its_id_and_nothing_else() {
    let bulk = Id::new_v4();
    let conversation = Id::new_v4();
    let marked = [
        switchboard_core::intents::set_status(conversation, ConversationStatus::Resolved, None),
        switchboard_core::intents::assign(conversation, None),
        switchboard_core::intents::edit_labels(conversation, vec!["vip".into()], vec![]),
        switchboard_core::intents::set_priority(conversation, Priority::High),
    ];
    for action in marked {
        let client_id = action.client_id();
        let json = serde_json::to_value(action.in_bulk(bulk)).expect("json");
        assert_eq!(json["request"]["bulk_id"], json!(bulk), "{json}");
        assert_eq!(json["request"]["client_id"], json!(client_id), "the same action otherwise");
    }
    let single = serde_json::to_value(switchboard_core::intents::set_priority(conversation, Priority::Low))
        .expect("json");
    assert!(single["request"].get("bulk_id").is_none(), "no bulk_id on a single action: {single}");
    let reply = reply(conversation, "hi");
    assert_eq!(reply.clone().in_bulk(bulk), reply, "a reply has no bulk_id");
}
