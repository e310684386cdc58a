//! Following the server: bootstrap then live, other agents' changes, notifications, sign-out.

use serde_json::json;
use switchboard_core::{
    cache::views::{ListQuery, Sort, View},
    events::{ConnectionState, Event},
    notify::NotifyReason,
};
use switchboard_proto::*;

use crate::harness::*;

#[tokio::test]
async fn bootstrap_then_live_then_another_agents_change() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let mut earlier = Vec::new();
    for n in 0..30 {
        earlier.push(
            server
                .inbound(&workspace.whatsapp, &format!("c{n}"), &format!("m{n}"), "where is my parcel?")
                .await,
        );
    }
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("the bootstrap brought every conversation", |c| {
        earlier.iter().all(|r| c.conversation(r.conversation_id).is_some())
    })
    .await;
    sara.until("online", |c| c.engine().status().state == ConnectionState::Online).await;

    // A conversation in an inbox Sara can't see never reaches her cache.
    let hidden = server.inbound(&workspace.email, "e1", "em1", "sales question").await;

    // Live: a new customer message arrives through the stream.
    let live = server.inbound(&workspace.whatsapp, "c-live", "m-live", "new customer here").await;
    sara.until("the live message is cached", |c| {
        c.account.cache.thread(live.conversation_id).expect("thread").iter().any(|m| m.id == live.message_id)
    })
    .await;

    // Another agent (Sam, over plain HTTP) labels and claims a conversation: Sara's cache follows.
    let sam = http_login(&server.base, "sam@test.example", PASSWORD).await;
    let target = earlier[3].conversation_id;
    server
        .post(
            &sam.token,
            &format!("/api/v1/conversations/{target}/labels"),
            json!({"client_id": Id::new_v4(), "add": ["vip"]}),
        )
        .await;
    server
        .post(
            &sam.token,
            &format!("/api/v1/conversations/{target}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": sam.agent.id, "expected_assignee_id": null}),
        )
        .await;
    sara.until("Sam's label and claim show in Sara's cache", |c| {
        c.conversation(target)
            .is_some_and(|conv| conv.labels == ["vip"] && conv.assignee_id == Some(sam.agent.id))
    })
    .await;
    assert!(sara.events().iter().any(|e| matches!(e, Event::CacheChanged { .. })));

    // The views see it: one fewer unassigned, one in the label view.
    let unassigned =
        sara.account.cache.count(&View::Unassigned, Some(ConversationStatus::Open)).expect("count");
    assert_eq!(unassigned, 30, "31 open conversations, one claimed");
    let labelled = sara
        .account
        .cache
        .list(
            &ListQuery {
                view: View::Label("vip".into()),
                status: None,
                sort: Sort::Newest,
                offset: 0,
                limit: 50,
            },
            0,
        )
        .expect("list");
    assert_eq!(labelled.len(), 1);
    assert_eq!(labelled[0].assignee_name.as_deref(), Some("Sam Okafor"));
    assert!(labelled[0].unread, "Sara hasn't read it");

    assert!(sara.conversation(hidden.conversation_id).is_none(), "nothing from an invisible inbox");
    // The cache holds exactly what the server says Sara may see.
    let expected = server.state(&sara.token()).await;
    sara.until("the cache equals the server's view", |c| {
        c.account.cache.server_state().expect("state") == expected
    })
    .await;
}

#[tokio::test]
async fn notifications_follow_the_rules_and_never_repeat() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let old = server.inbound(&workspace.whatsapp, "old", "old-1", "history before sign-in").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(old.conversation_id).is_some()).await;
    let notifications = |c: &Client| {
        c.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Notify(n) => Some(n),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(notifications(&sara).is_empty(), "history from before sign-in never rings");

    // A new unassigned conversation: one notification.
    let fresh = server.inbound(&workspace.whatsapp, "new-1", "n1", "سلام، سفارشم نرسیده").await;
    sara.until("a new-conversation notification", |c| {
        notifications(c)
            .iter()
            .any(|n| n.conversation_id == fresh.conversation_id && n.reason == NotifyReason::NewConversation)
    })
    .await;
    let note =
        notifications(&sara).into_iter().find(|n| n.conversation_id == fresh.conversation_id).expect("note");
    assert_eq!(note.title, "Customer new-1 · WhatsApp");
    assert_eq!(note.body, "سلام، سفارشم نرسیده");

    // Sara claims it herself (her own action: no notification), then the customer writes again.
    sara.engine()
        .queue(switchboard_core::outbox::Action::Assign {
            conversation_id: fresh.conversation_id,
            request: AssignRequest {
                client_id: Id::new_v4(),
                assignee_id: Some(sara.me()),
                team_id: None,
                expected_assignee_id: Some(None),
                bulk_id: None,
            },
        })
        .expect("queue");
    sara.until("claimed", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    let follow_up = server.inbound(&workspace.whatsapp, "new-1", "n2", "hello??").await;
    sara.until("an assigned-message notification", |c| {
        notifications(c).iter().any(|n| n.key == format!("message:{}", follow_up.message_id))
    })
    .await;

    // Sam mentions Sara in a note.
    let sam = http_login(&server.base, "sam@test.example", PASSWORD).await;
    server
        .post(
            &sam.token,
            &format!("/api/v1/conversations/{}/messages", fresh.conversation_id),
            json!({"client_id": Id::new_v4(), "kind": "note", "body": "@sara this one is yours"}),
        )
        .await;
    sara.until("a mention notification", |c| {
        notifications(c).iter().any(|n| n.reason == NotifyReason::Mention)
    })
    .await;
    let count = notifications(&sara).len();
    assert_eq!(count, 3, "new conversation, assigned message, mention: {:#?}", notifications(&sara));

    // Sara's own note raises nothing; a reconnect (and a restart of the engine) repeats nothing.
    sara.engine()
        .queue(switchboard_core::outbox::Action::Send {
            conversation_id: fresh.conversation_id,
            request: SendMessage {
                client_id: Id::new_v4(),
                kind: SendKind::Note,
                body: "@sam thanks".into(),
                attachment_ids: vec![],
                template: None,
            },
            staged_files: vec![],
        })
        .expect("queue");
    sara.until("note sent", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    sara.engine().reconnect();
    if let Some(engine) = sara.engine.take() {
        engine.shutdown().await;
    }
    sara.start();
    sara.until("online again", |c| c.engine().status().state == ConnectionState::Online).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(notifications(&sara).len(), count, "nothing rings twice");
}

#[tokio::test]
async fn a_snooze_that_ends_notifies_the_assignee_only() {
    use switchboard_server::Clock;
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "back tomorrow").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    let until = server.clock.now() + 60 * 60 * 1000;
    let claim = json!({"client_id": Id::new_v4(), "assignee_id": sara.me(), "expected_assignee_id": null});
    let (status, _) =
        server.post(&sara.token(), &format!("/api/v1/conversations/{conversation}/assign"), claim).await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post(
            &sara.token(),
            &format!("/api/v1/conversations/{conversation}/status"),
            json!({"client_id": Id::new_v4(), "status": "snoozed", "snoozed_until": until}),
        )
        .await;
    assert_eq!(status, 200);
    let notices = |c: &Client| {
        c.events()
            .into_iter()
            .filter(|e| matches!(e, Event::Notify(n) if n.reason == NotifyReason::ServerNotice))
            .count()
    };
    // The server's clock moves past the snooze; the timer loop wakes it and tells Sara.
    server.clock.advance(60 * 60 * 1000 + 1_000);
    sara.until("the snooze-ended notice", |c| notices(c) == 1).await;
    sara.until("the conversation open again", |c| {
        c.conversation(conversation).is_some_and(|c| c.status == ConversationStatus::Open)
    })
    .await;
    sam.until("Sam sees it open too", |c| {
        c.conversation(conversation).is_some_and(|c| c.status == ConversationStatus::Open)
    })
    .await;
    assert_eq!(notices(&sam), 0, "only the assignee is told");
}

#[tokio::test]
async fn a_routed_conversation_rings_its_new_owner_once_and_nobody_else() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id);
    let (status, body) =
        server.patch(&server.admin_token, &inbox, json!({"routing": {"mode": "least_loaded"}})).await;
    assert_eq!(status, 200, "{body}");
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    for client in [&sara, &sam] {
        client.until("online", |c| c.engine().status().state == ConnectionState::Online).await;
    }
    // Sara is available (Sam stays offline, as new agents start): routing can only pick her.
    let (status, body) = server.patch(&sara.token(), "/api/v1/me", json!({"availability": "online"})).await;
    assert_eq!(status, 200, "{body}");
    let notifications = |c: &Client, conversation: Id| {
        c.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Notify(n) if n.conversation_id == conversation => Some(n),
                _ => None,
            })
            .collect::<Vec<_>>()
    };

    // The customer's conversation is created and routed to Sara in one commit, so one feed batch.
    let routed = server.inbound(&workspace.whatsapp, "r1", "r1-1", "my parcel is lost").await.conversation_id;
    sara.until("Sara is told it was routed to her", |c| {
        notifications(c, routed).iter().any(|n| n.reason == NotifyReason::ServerNotice)
    })
    .await;
    assert_eq!(sara.conversation(routed).and_then(|c| c.assignee_id), Some(sara.me()));

    // Busy: the next customer stays unassigned and rings both as a new conversation. Once that
    // rang, every earlier batch has been applied, so nothing more can come for the routed one.
    let (status, body) = server.patch(&sara.token(), "/api/v1/me", json!({"availability": "busy"})).await;
    assert_eq!(status, 200, "{body}");
    let waiting = server.inbound(&workspace.whatsapp, "r2", "r2-1", "anyone?").await.conversation_id;
    for client in [&sara, &sam] {
        client
            .until("the unassigned one rings as new", |c| {
                notifications(c, waiting).iter().any(|n| n.reason == NotifyReason::NewConversation)
            })
            .await;
    }
    assert_eq!(sara.conversation(waiting).and_then(|c| c.assignee_id), None, "a busy agent gets nothing");
    let rang = notifications(&sara, routed);
    assert_eq!(rang.len(), 1, "one notification for a routed conversation, not one per record: {rang:#?}");
    assert_eq!(rang[0].title, "Customer r1 · WhatsApp");
    assert_eq!(rang[0].body, "Routed to Sara Karimi (the least loaded)");
    assert!(
        notifications(&sam, routed).is_empty(),
        "a conversation routed as it arrived was never up for grabs: {:#?}",
        notifications(&sam, routed)
    );
    assert_eq!(notifications(&sara, waiting).len(), 1, "{:#?}", notifications(&sara, waiting));
}

#[tokio::test]
async fn a_revoked_token_signs_the_account_out_and_wipes_it() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("online", |c| c.engine().status().state == ConnectionState::Online).await;
    let key = sara.account.info.key();
    // The admin revokes Sara's device.
    let response = reqwest::Client::new()
        .delete(format!("{}/api/v1/devices/{}", server.base, sara.account.info.device_id))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .expect("revoke");
    assert!(response.status().is_success());
    sara.until("signed out", |c| c.events().iter().any(|e| matches!(e, Event::SignedOut { .. }))).await;
    assert_eq!(sara.engine().status().state, ConnectionState::AuthFailed);
    let dir = sara.accounts.account_dir(&key);
    assert!(dir.exists());
    sara.accounts.forget(&key).await.expect("forget");
    assert!(!dir.exists(), "the account's cache is wiped");
    use switchboard_core::keychain::TokenStore;
    assert!(sara.tokens.load(&key).is_err(), "the token is gone from the keychain");
    assert!(sara.accounts.list().expect("list").is_empty());
}

#[tokio::test]
async fn typing_shows_on_colleagues_clients_and_clears_when_they_stop() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    for client in [&sara, &sam] {
        client.until("online", |c| c.engine().status().state == ConnectionState::Online).await;
    }
    sara.until("Sam is online", |c| c.engine().presence().online.contains(&sam.me())).await;
    sam.engine().send_ephemeral(ClientFrame::Typing { conversation_id: conversation, active: true });
    sara.until("Sam is typing", |c| {
        c.engine().presence().typing.get(&conversation).is_some_and(|who| who.contains(&sam.me()))
    })
    .await;
    sam.engine().send_ephemeral(ClientFrame::Typing { conversation_id: conversation, active: false });
    sara.until("Sam stopped", |c| !c.engine().presence().typing.contains_key(&conversation)).await;
}

#[tokio::test]
async fn sign_in_keeps_the_token_only_in_the_os_keychain_and_sign_out_removes_it() {
    use switchboard_core::{
        accounts::Accounts,
        keychain::{OsKeychain, TokenStore},
    };
    if std::env::var("SWITCHBOARD_TEST_SECRET_SERVICE").as_deref() != Ok("1") {
        println!("skipping: runs inside scripts/with-secret-service.sh (a throwaway Secret Service)");
        return;
    }
    let server = Server::start().await;
    Workspace::create(&server).await;
    let root = tempfile::tempdir().expect("temp dir");
    let keychain: std::sync::Arc<dyn TokenStore> =
        std::sync::Arc::new(OsKeychain::new().expect("secret service"));
    let accounts = Accounts::new(root.path().to_owned(), keychain.clone());
    let info = accounts
        .sign_in(&server.base, "sara@test.example", PASSWORD, None, "laptop", 0)
        .await
        .expect("sign in");
    let token = keychain.load(&info.key()).expect("the token is in the keychain");
    let account = accounts.open(&info.key()).await.expect("open");
    assert_eq!(account.api.token(), &token);
    drop(account);
    // Nowhere on disk: not in the account list, not in the cache.
    for entry in walk(root.path()) {
        let bytes = std::fs::read(&entry).expect("read");
        let found = bytes.windows(token.expose().len()).any(|w| w == token.expose().as_bytes());
        assert!(!found, "{} contains the token", entry.display());
    }
    assert!(!format!("{info:?}").contains(token.expose()));
    // The cache's key is a keychain entry of its own, and nowhere on disk either.
    let cache_key =
        keychain.load(&switchboard_core::keychain::cache_key_entry(&info.key())).expect("cache key");
    for entry in walk(root.path()) {
        let bytes = std::fs::read(&entry).expect("read");
        let found = bytes.windows(cache_key.expose().len()).any(|w| w == cache_key.expose().as_bytes());
        assert!(!found, "{} contains the cache key", entry.display());
    }
    accounts.sign_out(&info.key()).await.expect("sign out");
    assert!(keychain.load(&info.key()).is_err(), "sign-out deletes the keychain entry");
    assert!(
        keychain.load(&switchboard_core::keychain::cache_key_entry(&info.key())).is_err(),
        "and the cache key"
    );
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(token.expose())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401, "and the server no longer accepts the token");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
