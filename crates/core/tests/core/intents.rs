//! Intents against the real server: what the desktop's buttons mean (claim, move to a team, open,
//! mark unread, the unread count) as the outbox actions `switchboard_core::intents` makes, and
//! availability, which is sent at once and refused when the server can't be reached.

use serde_json::json;
use switchboard_core::{events::Event, intents};
use switchboard_proto::*;

use crate::harness::*;

/// Queues an action and waits until the server has answered it (accepted or refused).
async fn settle(client: &Client, action: switchboard_core::outbox::Action) {
    client.engine().queue(action).expect("queue");
    client.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
}

fn conflicts(client: &Client) -> Vec<Option<Option<Id>>> {
    client
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::OutboxRejected { code, current_assignee_id, .. } if code == "assignment_conflict" => {
                Some(current_assignee_id)
            }
            _ => None,
        })
        .collect()
}

fn unread(client: &Client, conversation: Id) -> bool {
    let query = switchboard_core::cache::views::ListQuery {
        view: switchboard_core::cache::views::View::All,
        status: None,
        sort: Default::default(),
        offset: 0,
        limit: 100,
    };
    let rows = client.account.cache.list(&query, 0).expect("list");
    rows.iter().find(|r| r.conversation.id == conversation).expect("listed").unread
}

#[tokio::test]
async fn a_claim_takes_a_free_conversation_and_is_refused_once_someone_has_it() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let free = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let taken = server.inbound(&workspace.whatsapp, "c2", "m2", "hi").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    for client in [&sara, &sam] {
        client.until("bootstrapped", |c| c.conversation(taken).is_some()).await;
    }
    settle(&sam, intents::claim(taken, sam.me())).await;
    sara.until("Sam's claim arrives", |c| {
        c.conversation(taken).is_some_and(|t| t.assignee_id == Some(sam.me()))
    })
    .await;

    settle(&sara, intents::claim(free, sara.me())).await;
    assert_eq!(
        sara.conversation(free).expect("c").assignee_id,
        Some(sara.me()),
        "a free conversation is hers"
    );
    settle(&sara, intents::claim(taken, sara.me())).await;
    assert_eq!(
        sara.conversation(taken).expect("c").assignee_id,
        Some(sam.me()),
        "a claim never takes a conversation from a colleague"
    );
    assert_eq!(conflicts(&sara), vec![Some(Some(sam.me()))], "the refusal says who has it");
}

#[tokio::test]
async fn moving_to_a_team_keeps_the_assignee_and_a_stale_move_is_refused() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let mut sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(conversation).is_some()).await;
    let teams: Vec<Team> = sara.account.cache.all(EntityKind::Team).expect("teams");
    let team = |name: &str| teams.iter().find(|t| t.name == name).expect("team").id;

    settle(&sara, intents::claim(conversation, sara.me())).await;
    settle(
        &sara,
        intents::move_to_team(&sara.account.cache, conversation, Some(team("Support"))).expect("move"),
    )
    .await;
    let moved = sara.conversation(conversation).expect("c");
    assert_eq!(
        (moved.team_id, moved.assignee_id),
        (Some(team("Support")), Some(sara.me())),
        "the assignee stays"
    );

    // While Sara's client is closed, an admin gives the conversation to Sam; her cache still says hers.
    sara.engine.take().expect("engine").shutdown().await;
    let sam_id = http_login(&server.base, "sam@test.example", PASSWORD).await.agent.id;
    let (status, body) = server
        .post(
            &server.admin_token,
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({"client_id": Id::new_v4(), "assignee_id": sam_id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let stale = intents::move_to_team(&sara.account.cache, conversation, None).expect("move");
    sara.start();
    settle(&sara, stale).await;
    sara.until("Sam's assignment arrives", |c| {
        c.conversation(conversation).is_some_and(|conv| conv.assignee_id == Some(sam_id))
    })
    .await;
    assert_eq!(conflicts(&sara), vec![Some(Some(sam_id))], "a stale move must not unassign Sam");
    assert_eq!(sara.conversation(conversation).expect("c").team_id, Some(team("Support")), "nor move it");
}

#[tokio::test]
async fn opening_reads_a_conversation_and_mark_unread_undoes_it() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    server.inbound(&workspace.whatsapp, "c1", "m2", "are you there?").await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("both messages", |c| c.account.cache.thread(conversation).expect("thread").len() == 2).await;
    settle(&sara, intents::claim(conversation, sara.me())).await;
    assert!(unread(&sara, conversation), "new customer messages are unread");
    assert_eq!(intents::unread_count(&sara.account.cache, 0).expect("count"), 1, "hers, open and unread");

    let read =
        intents::read_on_open(&sara.account.cache, conversation).expect("read").expect("moves the marker");
    settle(&sara, read).await;
    assert!(!unread(&sara, conversation), "opened: read");
    assert_eq!(intents::unread_count(&sara.account.cache, 0).expect("count"), 0);
    assert!(
        intents::read_on_open(&sara.account.cache, conversation).expect("read").is_none(),
        "opening it again writes nothing"
    );

    let unread_again =
        intents::mark_unread(&sara.account.cache, conversation).expect("unread").expect("an action");
    settle(&sara, unread_again).await;
    assert!(unread(&sara, conversation), "marked unread");
    assert_eq!(intents::unread_count(&sara.account.cache, 0).expect("count"), 1);
}

#[test]
fn sending_nothing_is_refused_before_it_is_queued() {
    let refused = intents::send(Id::new_v4(), SendKind::Reply, "  ".into(), vec![], None);
    assert!(matches!(&refused, Err(e) if e.code() == "validation"), "no text, file or template: {refused:?}");
}

fn availability_of(client: &Client, agent: Id) -> Option<Availability> {
    client.account.cache.get::<Agent>(EntityKind::Agent, agent).expect("cache read").map(|a| a.availability)
}

#[tokio::test]
async fn availability_reaches_the_server_at_once_and_colleagues_see_it() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    for client in [&sara, &sam] {
        client.until("bootstrapped", |c| availability_of(c, sara.me()).is_some()).await;
    }

    let stored = intents::set_availability(&sara.account.api, Availability::Busy).await.expect("set busy");
    assert_eq!((stored.id, stored.availability), (sara.me(), Availability::Busy), "the server's answer");
    sara.until("her own cache shows busy", |c| availability_of(c, sara.me()) == Some(Availability::Busy))
        .await;
    sam.until("a colleague's cache shows her busy", |c| {
        availability_of(c, sara.me()) == Some(Availability::Busy)
    })
    .await;
    assert_eq!(sara.account.cache.pending_count().expect("pending"), 0, "nothing went through the outbox");
}

#[tokio::test]
async fn availability_is_refused_while_the_server_cannot_be_reached_and_never_sent_later() {
    let mut server = Server::start().await;
    Workspace::create(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| availability_of(c, sara.me()).is_some()).await;
    intents::set_availability(&sara.account.api, Availability::Online).await.expect("set online");
    sara.until("online arrives", |c| availability_of(c, sara.me()) == Some(Availability::Online)).await;

    server.kill().await;
    let refused = intents::set_availability(&sara.account.api, Availability::Busy).await;
    assert!(
        matches!(&refused, Err(e) if e.code() == "offline" && e.is_transient()),
        "an unreachable server refuses it with the offline code: {refused:?}"
    );
    assert_eq!(sara.account.cache.pending_count().expect("pending"), 0, "not queued for later");

    server.restart().await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    sam.until("Sara's agent arrives", |c| availability_of(c, sara.me()).is_some()).await;
    assert_eq!(
        availability_of(&sam, sara.me()),
        Some(Availability::Online),
        "the refused change never reached the server"
    );
    let me: Agent = serde_json::from_value(server.get(&sara.token(), "/api/v1/me").await).expect("me");
    assert_eq!(me.availability, Availability::Online, "the server still says online");
}
