//! Per-inbox visibility modes (everything / mine and unassigned / mine only): what an inbox's
//! members see of its conversations, decided in one place (`workspace/feed.rs::Visibility`) and
//! held on every read: the feed, the stream, the bootstrap snapshot and backfill, a thread's
//! history, search and the conversation actions. A conversation leaving an agent's view reaches
//! them as its deletion; one entering it arrives as an upsert whose history they may then read.
//! And: no connector secret (WhatsApp, Telegram, Messenger, Instagram, email), webhook URL or
//! signing secret ever reaches an agent.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

async fn set_visibility(server: &TestServer, inbox: Id, mode: &str) {
    let (status, body) = server
        .admin
        .request(Method::PATCH, &format!("/api/v1/inboxes/{inbox}"), Some(json!({"visibility": mode})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["visibility"], mode);
}

async fn assign(server: &TestServer, conversation: Id, to: Option<Id>) {
    let (status, body) = server
        .admin
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": to}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn mentions(changes: &[Change], conversation: Id) -> bool {
    changes.iter().any(|c| {
        c.op == ChangeOp::Upsert
            && (c.id == conversation
                || c.data.as_ref().is_some_and(|d| d["conversation_id"] == json!(conversation)))
    })
}

async fn snapshot(session: &Session) -> BootstrapSnapshot {
    let (status, value) = session.get("/api/v1/sync/bootstrap").await;
    assert_eq!(status, StatusCode::OK, "{value}");
    serde_json::from_value(value).expect("snapshot")
}

async fn backfill(session: &Session, upto: i64) -> Vec<Change> {
    let mut all = Vec::new();
    let mut before = upto + 1;
    loop {
        let (status, value) =
            session.get(&format!("/api/v1/sync/backfill?upto={upto}&before={before}&limit=2")).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        let page: BackfillPage = serde_json::from_value(value).expect("backfill page");
        all.extend(page.changes);
        if page.done {
            return all;
        }
        before = page.next;
    }
}

/// Frames from the stream until one carries a change matching `stop`; every change seen.
async fn stream_until(socket: &mut Socket, stop: impl Fn(&Change) -> bool) -> Vec<Change> {
    let mut seen = Vec::new();
    loop {
        if let Ok(ServerFrame::Changes { changes, .. }) = next_frame(socket).await {
            let done = changes.iter().any(&stop);
            seen.extend(changes);
            if done {
                return seen;
            }
        }
    }
}

fn has_body(change: &Change, body: &str) -> bool {
    change.data.as_ref().is_some_and(|d| d["body"] == body)
}

#[tokio::test]
async fn mine_only_shows_members_only_their_own_conversations_on_every_read() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = workspace.whatsapp.inbox.id;
    set_visibility(&server, inbox, "mine_only").await;
    let hers = server.inbound(&workspace.whatsapp, "c1", "m1", "quokka for sara").await.conversation_id;
    let his = server.inbound(&workspace.whatsapp, "c2", "m2", "quokka for sam").await.conversation_id;
    let nobodys = server.inbound(&workspace.whatsapp, "c3", "m3", "quokka for nobody").await.conversation_id;
    assign(&server, hers, Some(workspace.sara.agent.id)).await;
    assign(&server, his, Some(workspace.sam.agent.id)).await;

    // The feed from zero, the priority snapshot and the whole backfill behind it.
    let feed = workspace.sara.bootstrap().await;
    let snap = snapshot(&workspace.sara).await;
    let filled = backfill(&workspace.sara, snap.next).await;
    for (what, changes) in [("feed", &feed), ("snapshot", &snap.changes), ("backfill", &filled)] {
        assert!(mentions(changes, hers), "{what}: sara's own conversation is missing");
        assert!(!mentions(changes, his), "{what}: sam's conversation reached sara");
        assert!(!mentions(changes, nobodys), "{what}: an unassigned conversation reached sara in mine_only");
    }
    // Search, history and actions.
    let (_, hits) = workspace.sara.get("/api/v1/search?q=quokka").await;
    let found: Vec<&Value> =
        hits["messages"].as_array().expect("hits").iter().map(|h| &h["conversation_id"]).collect();
    assert_eq!(found, vec![&json!(hers)], "search shows sara only her own conversation");
    let (status, _) = workspace.sara.get(&format!("/api/v1/conversations/{hers}/history")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = workspace.sara.get(&format!("/api/v1/conversations/{his}/history")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("out_of_view")));
    let (status, body) = workspace.sara.reply(his, "let me in").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("out_of_view")),
        "an action on a conversation out of view is refused as such, not as missing"
    );
    let (status, body) = workspace.sara.reply(Id::new_v4(), "nobody here").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    // The admin sees everything; so does everyone once the inbox shows everything again.
    let (_, hits) = server.admin.get("/api/v1/search?q=quokka").await;
    assert_eq!(hits["messages"].as_array().map(Vec::len), Some(3));
    set_visibility(&server, inbox, "everything").await;
    let feed = workspace.sara.bootstrap().await;
    assert!(mentions(&feed, his) && mentions(&feed, nobodys));
}

#[tokio::test]
async fn mine_and_unassigned_shows_the_queue_but_not_colleagues_conversations() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_visibility(&server, workspace.whatsapp.inbox.id, "mine_and_unassigned").await;
    let his = server.inbound(&workspace.whatsapp, "c2", "m2", "for sam").await.conversation_id;
    let queued = server.inbound(&workspace.whatsapp, "c3", "m3", "for anyone").await.conversation_id;
    assign(&server, his, Some(workspace.sam.agent.id)).await;
    let feed = workspace.sara.bootstrap().await;
    assert!(mentions(&feed, queued), "the unassigned conversation is in view");
    assert!(!mentions(&feed, his), "a colleague's is not");
    // Claiming from the queue works; the claimed conversation then leaves sam's view.
    let (status, body) = workspace
        .sara
        .post(
            &format!("/api/v1/conversations/{queued}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": workspace.sara.agent.id, "expected_assignee_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!mentions(&workspace.sam.bootstrap().await, queued));
}

#[tokio::test]
async fn a_conversation_leaving_view_is_a_removal_and_one_entering_brings_its_history() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_visibility(&server, workspace.whatsapp.inbox.id, "mine_only").await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "first words").await.conversation_id;
    assign(&server, conversation, Some(workspace.sara.agent.id)).await;
    let cursor = server.head().await;
    let mut stream = open_stream(&workspace.sara, cursor).await;

    // Reassigned away: the stream and the feed after the cursor say it is gone.
    assign(&server, conversation, Some(workspace.sam.agent.id)).await;
    let seen = stream_until(&mut stream, |c| c.id == conversation).await;
    let last = seen.iter().rfind(|c| c.id == conversation).expect("the conversation");
    assert_eq!((last.op, &last.data), (ChangeOp::Delete, &None), "the stream tells sara it left");
    let page = workspace.sara.sync(cursor, 100).await;
    let removal = page.changes.iter().find(|c| c.id == conversation).expect("a change of it in the feed");
    assert_eq!(removal.op, ChangeOp::Delete, "the feed tells a reconnecting sara it left");
    assert!(!page
        .changes
        .iter()
        .any(|c| c.op == ChangeOp::Upsert && mentions(std::slice::from_ref(c), conversation)));

    // While it is sam's, its messages don't reach sara.
    server.inbound(&workspace.whatsapp, "c1", "m2", "while sam has it").await;
    let (status, _) = workspace.sara.get(&format!("/api/v1/conversations/{conversation}/history")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Back to sara: the conversation comes back as an upsert, and its whole history is hers to read.
    assign(&server, conversation, Some(workspace.sara.agent.id)).await;
    let seen = stream_until(&mut stream, |c| c.id == conversation && c.op == ChangeOp::Upsert).await;
    assert!(!seen.iter().any(|c| has_body(c, "while sam has it")), "nothing leaked while it was sam's");
    assert_eq!(
        seen.iter().filter(|c| c.id == conversation).count(),
        1,
        "while it stayed hidden its changes cost the stream nothing; then it came back: {:?}",
        seen.iter().filter(|c| c.id == conversation).map(|c| (c.seq, c.op)).collect::<Vec<_>>()
    );
    let last = seen.iter().rfind(|c| c.id == conversation).expect("the conversation");
    assert_eq!(last.op, ChangeOp::Upsert);
    let (status, history) =
        workspace.sara.get(&format!("/api/v1/conversations/{conversation}/history")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let history: HistoryPage = serde_json::from_value(history).expect("history");
    for body in ["first words", "while sam has it"] {
        assert!(history.changes.iter().any(|c| has_body(c, body)), "history lacks {body:?}");
    }
    let page = workspace.sara.sync(cursor, 100).await;
    let last = page.changes.iter().rfind(|c| c.id == conversation).expect("the conversation");
    assert_eq!(last.op, ChangeOp::Upsert, "the feed after the cursor has it back");
}

#[tokio::test]
async fn no_webhook_url_or_connector_secret_reaches_an_agent() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let secrets = [
        "https://partner.example/hook-5ecret-u7l",
        "whatsapp-access-token-5ecret",
        "whatsapp-app-secret-5ecret",
        "whatsapp-verify-token-5ecret",
    ];
    let (status, body) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.secret.inbox.id),
            Some(json!({"webhook_url": secrets[0], "member_team_ids": [workspace.sara.agent.team_ids[0]]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            Some(json!({"connector": {"kind": "whatsapp", "phone_number_id": "1",
                "access_token": secrets[1], "app_secret": secrets[2], "verify_token": secrets[3]}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.inbound(&workspace.secret, "p1", "p1", "through the api inbox").await;
    let mut signing =
        vec![workspace.secret.signing_secret.clone(), workspace.whatsapp.signing_secret.clone()];

    // Every other connector with secrets, in inboxes Sara's team belongs to: Telegram (its bot
    // token and webhook secret; saving registers the webhook with the emulator, which checks the
    // token), Messenger and Instagram (Page token, app secret, verify token) and email (the
    // mailbox's password; its servers unreachable, so it only retries).
    let telegram = crate::telegram_emulator::Emulator::start().await;
    let meta = crate::meta_emulator::Emulator::start().await;
    let mut connectors = Vec::new();
    let mut connector = telegram.connector();
    connector["webhook_secret"] = json!("telegram-webhook-5ecret");
    let own = vec![crate::telegram_emulator::TOKEN.to_owned(), "telegram-webhook-5ecret".to_owned()];
    connectors.push(("telegram", connector, own));
    for (channel, kind) in [("facebook", "messenger"), ("instagram", "instagram")] {
        let mut connector = meta.connector(kind, false);
        let own = vec![
            format!("{kind}-page-token-5ecret"),
            format!("{kind}-app-5ecret"),
            format!("{kind}-verify-5ecret"),
        ];
        for (field, value) in ["access_token", "app_secret", "verify_token"].into_iter().zip(&own) {
            connector[field] = json!(value);
        }
        connectors.push((channel, connector, own));
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mail = json!({"kind": "email", "address": "support@shop.test",
        "imap": {"host": "127.0.0.1", "port": closed, "security": "none"},
        "smtp": {"host": "127.0.0.1", "port": closed, "security": "none"},
        "username": "support@shop.test", "password": "mailbox-password-5ecret"});
    connectors.push(("email", mail, vec!["mailbox-password-5ecret".to_owned()]));
    let mut secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    let mut connected = Vec::new();
    for (channel, connector, own) in connectors {
        let request = json!({"name": format!("Secret {channel}"), "channel": channel, "connector": connector,
            "member_team_ids": [workspace.sara.agent.team_ids[0]]});
        let created: CreatedInbox =
            serde_json::from_value(server.admin.ok("/api/v1/inboxes", request).await).expect("inbox");
        signing.push(created.signing_secret.clone());
        connected.push(created.inbox.id);
        secrets.extend(own);
    }

    let mut stream = open_stream(&workspace.sara, 0).await;
    let mut received = Vec::new();
    for session in [&workspace.sara, &workspace.lena, &server.admin] {
        let bootstrap = serde_json::to_string(&session.bootstrap().await).expect("json");
        if session.agent.id == workspace.sara.agent.id {
            for inbox in &connected {
                assert!(bootstrap.contains(&inbox.to_string()), "Sara sees the connected inboxes");
            }
        }
        received.push(bootstrap);
        received.push(serde_json::to_string(&snapshot(session).await).expect("json"));
        let snap = snapshot(session).await;
        received.push(serde_json::to_string(&backfill(session, snap.next).await).expect("json"));
    }
    // The stream, replayed from zero and live past a change of the connector.
    let (status, _) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.secret.inbox.id),
            Some(json!({"webhook_url": format!("{}/v2", secrets[0])})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.inbound(&workspace.whatsapp, "c9", "m9", "end of the scan").await;
    let streamed = stream_until(&mut stream, |c| has_body(c, "end of the scan")).await;
    assert!(streamed.iter().any(|c| c.entity == EntityKind::Inbox), "the stream carried the inboxes");
    received.push(serde_json::to_string(&streamed).expect("json"));
    for text in &received {
        for secret in secrets.iter().map(|s| s.to_string()).chain(signing.iter().cloned()) {
            assert!(!text.contains(&secret), "{secret:?} reached an agent");
        }
        for field in
            ["webhook_url", "access_token", "app_secret", "verify_token", "bot_token", "webhook_secret"]
        {
            assert!(!text.contains(field), "a secret's field, {field}, reached an agent");
        }
        assert!(!text.contains("\"password\""), "the mailbox's password field reached an agent");
    }
}
