//! What an agent may see, followed by a running client's cache (on every backend): removed from
//! an inbox, its conversations are purged (rows, messages, search entries); added back, its
//! history arrives; a conversation reassigned away in an inbox showing members only their own
//! leaves the cache and comes back whole; an action queued offline on a conversation the agent
//! can no longer see is dropped with an `out_of_view` notice, never replayed as missing. Each
//! ends with the cache equal to what the server shows the agent, with the client restarted at a
//! seeded point of the schedule on the way.

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use switchboard_core::{events::Event, intents, outbox::Action};
use switchboard_proto::*;

use crate::harness::*;

fn holds_anything_of(client: &Client, conversation: Id) -> bool {
    client.account.cache.holds_conversation(conversation).expect("cache read")
}

fn finds(client: &Client, word: &str) -> bool {
    !client.account.cache.search(word, 20).expect("search").messages.is_empty()
}

async fn settled(server: &Server, client: &Client, what: &str) {
    let expected = server.state(&client.token()).await;
    client
        .until(what, |c| {
            c.account.cache.backfill().expect("backfill").is_none()
                && c.account.cache.server_state().expect("state") == expected
        })
        .await;
}

/// Restarts the client's engine (a crash and a relaunch on the same cache) when `now` is drawn.
async fn maybe_restart(client: &mut Client, rng: &mut StdRng) {
    if rng.gen_bool(0.5) {
        if let Some(engine) = client.engine.take() {
            engine.shutdown().await;
        }
        client.start();
    }
}

#[tokio::test]
async fn removed_from_an_inbox_its_conversations_are_purged_and_added_back_its_history_arrives() {
    for seed in 0..2u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let server = Server::start().await;
        let workspace = Workspace::create(&server).await;
        let first = server.inbound(&workspace.whatsapp, "c1", "m1", "pelican crossing").await.conversation_id;
        for n in 2..6 {
            server.inbound(&workspace.whatsapp, "c1", &format!("m{n}"), &format!("pelican {n}")).await;
        }
        let other = server.inbound(&workspace.whatsapp, "c2", "o1", "heron").await.conversation_id;
        let mut sara = Client::sign_in(&server, "sara@test.example").await;
        sara.until("the history is in", |c| finds(c, "pelican") && c.conversation(other).is_some()).await;
        let support = workspace.whatsapp.inbox.member_team_ids.clone();

        // Sara's team leaves the inbox: all of it leaves her cache.
        maybe_restart(&mut sara, &mut rng).await;
        server
            .patch(
                &server.admin_token,
                &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
                json!({"member_team_ids": []}),
            )
            .await;
        sara.until("purged", |c| !holds_anything_of(c, first) && !holds_anything_of(c, other)).await;
        assert!(!finds(&sara, "pelican"), "the search index still finds a purged message");
        settled(&server, &sara, "the cache equals the server without the inbox").await;

        // Meanwhile the inbox goes on; then she is added back by name: the whole history arrives.
        server.inbound(&workspace.whatsapp, "c1", "m9", "pelican while away").await;
        maybe_restart(&mut sara, &mut rng).await;
        server
            .patch(
                &server.admin_token,
                &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
                json!({"member_agent_ids": [sara.me()], "member_team_ids": support}),
            )
            .await;
        sara.until("the history is back", |c| {
            c.account.cache.thread(first).map(|t| t.len()).unwrap_or(0) >= 6
                && c.conversation(other).is_some()
        })
        .await;
        settled(&server, &sara, "the cache equals the server with the inbox").await;
        assert!(finds(&sara, "crossing") && finds(&sara, "away"), "search finds the returned history");
    }
}

#[tokio::test]
async fn reassigned_away_in_mine_only_a_conversation_leaves_the_cache_and_comes_back_whole() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    server
        .patch(
            &server.admin_token,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            json!({"visibility": "mine_only"}),
        )
        .await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "albatross").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = http_login(&server.base, "sam@test.example", PASSWORD).await.agent.id;
    let assign = |to: Id| {
        let server = &server;
        async move {
            let (status, body) = server
                .post(
                    &server.admin_token,
                    &format!("/api/v1/conversations/{conversation}/assign"),
                    json!({"client_id": Id::new_v4(), "assignee_id": to}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    assign(sara.me()).await;
    sara.until("hers arrives with its history", |c| finds(c, "albatross")).await;
    sara.engine().queue(intents::set_pinned(conversation, true)).expect("pin");
    sara.until("pinned", |c| c.account.cache.outbox().expect("outbox").is_empty()).await;

    assign(sam).await;
    sara.until("purged", |c| !holds_anything_of(c, conversation)).await;
    assert!(!finds(&sara, "albatross"));
    server.inbound(&workspace.whatsapp, "c1", "m2", "albatross while with sam").await;
    settled(&server, &sara, "equal while it is sam's").await;

    assign(sara.me()).await;
    sara.until("back whole", |c| {
        c.account
            .cache
            .thread(conversation)
            .is_ok_and(|t| t.iter().any(|m| m.body == "albatross while with sam"))
            && finds(c, "albatross")
    })
    .await;
    settled(&server, &sara, "equal once it is hers again").await;
}

#[tokio::test]
async fn an_action_queued_offline_on_a_conversation_now_out_of_view_is_dropped_with_a_notice() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "kestrel").await.conversation_id;
    let mut sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("it arrives", |c| c.conversation(conversation).is_some()).await;

    // Offline (the app closed), she answers; meanwhile her team leaves the inbox.
    if let Some(engine) = sara.engine.take() {
        engine.shutdown().await;
    }
    let reply = intents::send(conversation, SendKind::Reply, "on it".into(), vec![], None).expect("reply");
    let Action::Send { request, .. } = &reply else { unreachable!() };
    let client_id = request.client_id;
    sara.account.cache.enqueue(&reply, 1).expect("queued offline");
    server
        .patch(
            &server.admin_token,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            json!({"member_team_ids": []}),
        )
        .await;

    sara.start();
    sara.until("the notice", |c| {
        c.events().iter().any(|e| matches!(e, Event::OutboxRejected { code, .. } if code == "out_of_view"))
    })
    .await;
    sara.until("dropped and purged", |c| {
        c.account.cache.outbox().expect("outbox").is_empty() && !holds_anything_of(c, conversation)
    })
    .await;
    let rejected = sara.events().into_iter().find_map(|e| match e {
        Event::OutboxRejected { client_id: id, code, conversation_id, .. } if id == client_id => {
            Some((code, conversation_id))
        }
        _ => None,
    });
    assert_eq!(rejected, Some(("out_of_view".to_owned(), Some(conversation))), "dropped as out of view");
    // The server never took it.
    let transcript =
        server.get(&server.admin_token, &format!("/api/v1/conversations/{conversation}/export")).await;
    assert!(!transcript["messages"].as_array().expect("messages").iter().any(|m| m["body"] == "on it"));
    settled(&server, &sara, "equal").await;
}

#[tokio::test]
async fn narrowing_an_inbox_to_mine_only_purges_colleagues_conversations_and_widening_brings_them_back() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id);
    let sam = http_login(&server.base, "sam@test.example", PASSWORD).await.agent.id;
    let his = server.inbound(&workspace.whatsapp, "c1", "m1", "puffin for sam").await.conversation_id;
    let (status, body) = server
        .post(
            &server.admin_token,
            &format!("/api/v1/conversations/{his}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": sam}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let queued = server.inbound(&workspace.whatsapp, "c2", "m2", "puffin for anyone").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("both arrive", |c| c.conversation(his).is_some() && c.conversation(queued).is_some()).await;

    server.patch(&server.admin_token, &inbox, json!({"visibility": "mine_and_unassigned"})).await;
    sara.until("sam's leaves", |c| !holds_anything_of(c, his)).await;
    assert!(sara.conversation(queued).is_some(), "the queue stays in view");
    settled(&server, &sara, "equal in mine_and_unassigned").await;

    server.patch(&server.admin_token, &inbox, json!({"visibility": "mine_only"})).await;
    sara.until("the queue leaves", |c| !holds_anything_of(c, queued)).await;
    settled(&server, &sara, "equal in mine_only").await;

    server.patch(&server.admin_token, &inbox, json!({"visibility": "everything"})).await;
    sara.until("both are back with their history", |c| finds(c, "sam") && finds(c, "anyone")).await;
    settled(&server, &sara, "equal in everything").await;
}
