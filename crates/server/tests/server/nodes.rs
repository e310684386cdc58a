//! Two nodes on one PostgreSQL database, in one process: commits made on either reach streams on
//! both with no gap or reorder (also when their listener connections are killed), races and
//! idempotency hold across nodes, and typing and revocation cross from node to node.
//!
//! PostgreSQL only: with SQLite (the default `SWITCHBOARD_TEST_DATABASE_URL`) each test says it
//! was skipped and passes. In CI the suite runs through `scripts/with-postgres.sh`, where they run.

use std::time::Duration;

use futures_util::SinkExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use switchboard_proto::*;
use switchboard_server::Backend;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use switchboard_server::workspace::NODE_SILENT_AFTER;

use crate::{
    harness::*,
    presence::{close, hears_online, next_presence},
};

/// Whether these tests can run; says why not when they can't.
fn on_postgres(test: &str) -> bool {
    let url = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").unwrap_or_default();
    let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !postgres {
        eprintln!(
            "skipping nodes::{test}: several nodes need PostgreSQL (run through scripts/with-postgres.sh)"
        );
    }
    postgres
}

/// A node id unique to this test run, so tests running at once find their own listeners.
fn node_id(name: &str) -> String {
    format!("{name}-{}", &Id::new_v4().simple().to_string()[..8])
}

/// The first node (with a known node id) and a second one on its database.
async fn two_nodes() -> (TestServer, TestNode, String, String) {
    let (a, b) = (node_id("a"), node_id("b"));
    let id = a.clone();
    let server = TestServer::start_with(move |config| config.node_id = id).await;
    let id = b.clone();
    let node = server.second_node(move |config| config.node_id = id).await;
    (server, node, a, b)
}

/// Runs one statement with one text parameter on the server's database, from a thread of its own
/// (the blocking client cannot run on the test's runtime); the first column of its one row.
fn database_count(server: &TestServer, sql: &'static str, parameter: String) -> i64 {
    let Backend::Postgres { url } = crate::harness::test_config(server.data_dir.path()).backend else {
        panic!("a PostgreSQL test server");
    };
    let url = url.expose().to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client.query_one(sql, &[&parameter]).expect("query").get::<_, i64>(0)
    })
    .join()
    .expect("database thread")
}

/// Runs statements on the server's database (from a thread of its own, as above).
fn database_execute(server: &TestServer, sql: String) {
    let Backend::Postgres { url } = crate::harness::test_config(server.data_dir.path()).backend else {
        panic!("a PostgreSQL test server");
    };
    let url = url.expose().to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client.batch_execute(&sql).expect("statements");
    })
    .join()
    .expect("database thread")
}

/// Kills the listener connection of node `node`; how many it found.
fn kill_listener(server: &TestServer, node: &str) -> i64 {
    database_count(
        server,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
        format!("switchboard-listen-{node}"),
    )
}

/// Waits until node `node` listens again.
async fn wait_for_listener(server: &TestServer, node: &str) {
    for _ in 0..100 {
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1";
        if database_count(server, sql, format!("switchboard-listen-{node}")) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("node {node} did not listen again within 10 s");
}

/// A customer message through the signed API channel of the node at `base`.
async fn inbound_on(base: &str, inbox: &CreatedInbox, contact: &str, external_id: &str) -> InboundResult {
    let payload = json!({
        "contact": {"external_id": contact, "name": format!("Customer {contact}")},
        "message": {"external_id": external_id, "body": format!("message {external_id}")},
    })
    .to_string();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/channels/{}/inbound", inbox.inbox.id))
        .header("content-type", "application/json")
        .header("x-switchboard-signature", sign(&inbox.signing_secret, payload.as_bytes()))
        .body(payload)
        .send()
        .await
        .expect("inbound request");
    assert_eq!(response.status(), StatusCode::OK, "inbound through {base}");
    response.json().await.expect("inbound result")
}

/// A stream on `session`'s node from `since = 0`, read in a task until its cursor reaches the head
/// sent on the returned channel; checks every batch as a client would (the batch continues from
/// the cursor, seqs strictly increase) and returns every change it received.
fn follow(session: Session) -> (watch::Sender<i64>, tokio::task::JoinHandle<(i64, Vec<Change>)>) {
    let (target, mut until) = watch::channel(i64::MAX);
    let task = tokio::spawn(async move {
        let mut socket = open_stream(&session, 0).await;
        let (mut cursor, mut changes) = (0, Vec::<Change>::new());
        loop {
            if cursor >= *until.borrow_and_update() {
                return (cursor, changes);
            }
            tokio::select! {
                _ = until.changed() => {}
                frame = next_frame(&mut socket) => match frame {
                    Ok(ServerFrame::Changes { since, next, changes: batch, .. }) => {
                        assert_eq!(since, cursor, "{}: a batch continues from the cursor (no gap)", session.base);
                        for change in &batch {
                            let last = changes.last().map_or(0, |c| c.seq);
                            assert!(change.seq > last, "{}: seq {} after {last} (reorder)", session.base, change.seq);
                        }
                        cursor = next;
                        changes.extend(batch);
                    }
                    Ok(_) => {}
                    Err(code) => panic!("{}: the stream closed: {code:?}", session.base),
                }
            }
        }
    });
    (target, task)
}

/// Writers on both nodes (customer messages, replies, labels) while a stream on each node follows;
/// `during` runs half-way through the traffic. Both streams end at the head with exactly what a
/// bootstrap holds.
async fn traffic_on_both_nodes_reaches_both_streams(during: impl AsyncFnOnce(&TestServer)) {
    let (server, node, ..) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let streams = [follow(server.admin.clone()), follow(node.admin.clone())];
    tokio::time::sleep(Duration::from_millis(200)).await;

    let bases = [server.base.clone(), node.base.clone()];
    let writers = |round: usize| {
        let (bases, workspace) = (&bases, &workspace);
        (0..4).map(move |writer| {
            let base = bases[writer % 2].clone();
            let (inbox, sara) = (workspace.whatsapp.clone(), workspace.sara.on(&base));
            tokio::spawn(async move {
                for n in 0..8 {
                    let external = format!("r{round}-w{writer}-{n}");
                    let contact = format!("w{writer}-c{}", n % 3);
                    let conversation = inbound_on(&base, &inbox, &contact, &external).await.conversation_id;
                    let (status, body) = sara.reply(conversation, &format!("reply {external}")).await;
                    assert_eq!(status, StatusCode::OK, "reply through {base}: {body}");
                    let label = ["vip", "bug"][n % 2];
                    let labels = json!({"client_id": Id::new_v4(), "add": [label]});
                    sara.ok(&format!("/api/v1/conversations/{conversation}/labels"), labels).await;
                }
            })
        })
    };
    for writer in writers(0).collect::<Vec<_>>() {
        writer.await.expect("writer");
    }
    let second_half: Vec<_> = writers(1).collect();
    during(&server).await;
    for writer in second_half {
        writer.await.expect("writer");
    }

    let head = server.head().await;
    let expected = apply(&server.admin.bootstrap().await);
    for (target, task) in streams {
        target.send(head).expect("the stream task runs");
        let (cursor, changes) = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("the stream reached the head")
            .expect("stream task");
        assert_eq!(cursor, head, "the stream's cursor ends at the head");
        assert_eq!(apply(&changes), expected, "what the stream built equals a bootstrap");
    }
}

#[tokio::test]
async fn writes_on_both_nodes_reach_streams_on_both_without_gap_or_reorder() {
    if !on_postgres("writes_on_both_nodes_reach_streams_on_both_without_gap_or_reorder") {
        return;
    }
    traffic_on_both_nodes_reaches_both_streams(async |_| {}).await;
}

#[tokio::test]
async fn killing_the_listeners_mid_traffic_loses_nothing() {
    if !on_postgres("killing_the_listeners_mid_traffic_loses_nothing") {
        return;
    }
    traffic_on_both_nodes_reaches_both_streams(async |server: &TestServer| {
        let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE application_name LIKE $1 AND datname = current_database()";
        let killed = database_count(server, sql, "switchboard-listen-%".to_owned());
        assert_eq!(killed, 2, "both nodes' listeners were found and killed");
    })
    .await;
}

#[tokio::test]
async fn a_listener_killed_comes_back_and_its_node_still_streams() {
    if !on_postgres("a_listener_killed_comes_back_and_its_node_still_streams") {
        return;
    }
    let (server, node, a, b) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let head = server.head().await;
    let mut on_b = open_stream(&workspace.sam.on(&node.base), head).await;
    assert_eq!(kill_listener(&server, &b), 1, "node b's listener is found by its application_name");
    // A commit on A while B listens to nobody: B's tailer reads it on reconnect or by its timer.
    let result = inbound_on(&server.base, &workspace.whatsapp, "c1", "while-b-was-deaf").await;
    loop {
        match next_frame(&mut on_b).await.expect("b's stream") {
            ServerFrame::Changes { changes, .. } if changes.iter().any(|c| c.id == result.message_id) => {
                break
            }
            _ => continue,
        }
    }
    wait_for_listener(&server, &b).await;
    wait_for_listener(&server, &a).await;
}

#[tokio::test]
async fn twenty_claims_split_across_nodes_have_exactly_one_winner() {
    if !on_postgres("twenty_claims_split_across_nodes_have_exactly_one_winner") {
        return;
    }
    let (server, node, ..) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let support = workspace.sara.agent.team_ids.clone();
    let mut claimers = Vec::new();
    for n in 0..20 {
        let email = format!("claimer{n}@test.example");
        let agent = json!({"name": format!("Claimer {n}"), "email": email, "role": "agent",
                           "password": PASSWORD, "team_ids": support});
        server.admin.ok("/api/v1/agents", agent).await;
        let base = if n % 2 == 0 { &server.base } else { &node.base };
        claimers.push(Session::login(base, &email, PASSWORD).await);
    }
    let conversation = inbound_on(&node.base, &workspace.whatsapp, "c1", "claim-me").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/assign");
    let claims = claimers.iter().map(|session| {
        let path = path.clone();
        async move {
            let body = json!({"client_id": Id::new_v4(), "assignee_id": session.agent.id, "expected_assignee_id": null});
            (session.agent.id, session.post(&path, body).await)
        }
    });
    let results = futures_util::future::join_all(claims).await;
    let winners: Vec<Id> =
        results.iter().filter(|(_, (status, _))| *status == StatusCode::OK).map(|(id, _)| *id).collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins: {results:?}");
    for (_, (status, body)) in results.iter().filter(|(_, (status, _))| *status != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "assignment_conflict");
        assert_eq!(body["error"]["current_assignee_id"], json!(winners[0]), "the loser learns who holds it");
    }
}

#[tokio::test]
async fn one_signed_inbound_message_sent_to_both_nodes_at_once_is_stored_once() {
    if !on_postgres("one_signed_inbound_message_sent_to_both_nodes_at_once_is_stored_once") {
        return;
    }
    let (server, node, ..) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    // A provider retrying on another node before the first answered: ten copies, five per node.
    for round in 0..5 {
        let external_id = format!("twice-{round}");
        let deliveries = (0..10).map(|n| {
            let base = if n % 2 == 0 { server.base.clone() } else { node.base.clone() };
            let (inbox, external_id) = (&workspace.whatsapp, external_id.clone());
            async move { inbound_on(&base, inbox, "c1", &external_id).await }
        });
        let results = futures_util::future::join_all(deliveries).await;
        let messages: std::collections::HashSet<Id> =
            results.iter().map(|result| result.message_id).collect();
        assert_eq!(messages.len(), 1, "every copy answers with the one message: {results:?}");
        assert_eq!(results.iter().filter(|result| result.created).count(), 1, "one copy wrote it");
    }
    let stored = workspace.sara.bootstrap().await;
    let bodies: Vec<String> = stored
        .iter()
        .filter(|change| change.entity == EntityKind::Message)
        .filter_map(|change| change.data.as_ref()?["body"].as_str().map(str::to_owned))
        .collect();
    for round in 0..5 {
        let body = format!("message twice-{round}");
        assert_eq!(bodies.iter().filter(|b| **b == body).count(), 1, "{body} stored once: {bodies:?}");
    }
}

#[tokio::test]
async fn one_client_id_sent_to_both_nodes_at_once_has_one_effect() {
    if !on_postgres("one_client_id_sent_to_both_nodes_at_once_has_one_effect") {
        return;
    }
    let (server, node, ..) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let conversation = inbound_on(&server.base, &workspace.whatsapp, "c1", "m1").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let body = json!({"client_id": Id::new_v4(), "kind": "reply", "body": "exactly once"});
    let (on_a, on_b) = (workspace.sara.clone(), workspace.sara.on(&node.base));
    let (first_a, first_b) = tokio::join!(on_a.ok(&path, body.clone()), on_b.ok(&path, body.clone()));
    assert_eq!(first_a, first_b, "both nodes answer with the one effect (same seq)");
    for session in [&on_a, &on_b, &on_a, &on_b] {
        assert_eq!(session.ok(&path, body.clone()).await, first_a, "a retry replays the answer");
    }
    let sent = workspace
        .sara
        .bootstrap()
        .await
        .into_iter()
        .filter(|c| {
            c.entity == EntityKind::Message && c.data.as_ref().is_some_and(|d| d["body"] == "exactly once")
        })
        .count();
    assert_eq!(sent, 1, "one message");
    // Reused for another request on the other node: refused, as on one node.
    let other = json!({"client_id": body["client_id"], "status": "pending"});
    let (status, refused) = on_b.post(&format!("/api/v1/conversations/{conversation}/status"), other).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("client_id_reused")));
}

#[tokio::test]
async fn typing_on_one_node_reaches_a_stream_on_the_other() {
    if !on_postgres("typing_on_one_node_reaches_a_stream_on_the_other") {
        return;
    }
    let (server, node, ..) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let result = inbound_on(&server.base, &workspace.whatsapp, "c1", "m1").await;
    let head = server.head().await;
    let mut sara_on_a = open_stream(&workspace.sara, head).await;
    let mut sam_on_b = open_stream(&workspace.sam.on(&node.base), head).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let frame = json!({"type": "typing", "conversation_id": result.conversation_id, "active": true});
    sara_on_a.send(WsMessage::Text(frame.to_string().into())).await.expect("send typing");
    let typing = loop {
        match next_frame(&mut sam_on_b).await.expect("sam's stream on b") {
            ServerFrame::Typing { conversation_id, agent_id, active } => {
                break (conversation_id, agent_id, active)
            }
            _ => continue,
        }
    };
    assert_eq!(typing, (result.conversation_id, workspace.sara.agent.id, true));
}

/// Waits for the stream to be closed as revoked.
async fn closed_as_revoked(socket: &mut Socket) {
    loop {
        match next_frame(socket).await {
            Ok(_) => continue,
            Err(code) => {
                assert_eq!(code, Some(CLOSE_REVOKED), "closed because the token was revoked");
                return;
            }
        }
    }
}

#[tokio::test]
async fn a_device_revoked_on_one_node_loses_its_stream_on_the_other() {
    if !on_postgres("a_device_revoked_on_one_node_loses_its_stream_on_the_other") {
        return;
    }
    let (server, node, _, b) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let mut sam_on_b = open_stream(&workspace.sam.on(&node.base), 0).await;
    let _ = next_frame(&mut sam_on_b).await;
    let revoke = format!("/api/v1/devices/{}", workspace.sam.device_id);
    assert_eq!(server.admin.request(Method::DELETE, &revoke, None).await.0, StatusCode::NO_CONTENT);
    closed_as_revoked(&mut sam_on_b).await;

    // Revoked while node b's listener is down: the notification is lost, the devices table is not.
    let mut sara_on_b = open_stream(&workspace.sara.on(&node.base), 0).await;
    let _ = next_frame(&mut sara_on_b).await;
    assert_eq!(kill_listener(&server, &b), 1);
    let revoke = format!("/api/v1/devices/{}", workspace.sara.device_id);
    assert_eq!(server.admin.request(Method::DELETE, &revoke, None).await.0, StatusCode::NO_CONTENT);
    closed_as_revoked(&mut sara_on_b).await;
}

#[tokio::test]
async fn replies_sent_through_both_nodes_reach_the_webhook_exactly_once() {
    if !on_postgres("replies_sent_through_both_nodes_reach_the_webhook_exactly_once") {
        return;
    }
    // A receiver that counts every POST by message id.
    let received: std::sync::Arc<std::sync::Mutex<Vec<Id>>> = Default::default();
    let app = {
        let received = received.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::body::Bytes| {
                let received = received.clone();
                async move {
                    if let Ok(payload) = serde_json::from_slice::<OutgoingWebhook>(&body) {
                        received.lock().expect("lock").push(payload.message.id);
                    }
                    StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (server, node, ..) = two_nodes().await;
    let created: CreatedInbox = serde_json::from_value(
        server
            .admin
            .ok("/api/v1/inboxes", json!({"name": "Partner", "channel": "api", "webhook_url": hook_url}))
            .await,
    )
    .expect("inbox");
    let conversation = inbound_on(&server.base, &created, "partner-user", "p1").await.conversation_id;
    const REPLIES: usize = 40;
    let mut sent = Vec::new();
    for n in 0..REPLIES {
        // Alternate the nodes; both run a delivery worker.
        let session = if n % 2 == 0 { &server.admin } else { &node.admin };
        let (status, body) = session.reply(conversation, &format!("reply {n}")).await;
        assert_eq!(status, StatusCode::OK, "reply {n}: {body}");
        sent.push(serde_json::from_value::<Id>(body["message"]["id"].clone()).expect("id"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while received.lock().expect("lock").len() < REPLIES {
        assert!(std::time::Instant::now() < deadline, "not every reply reached the webhook");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Past any lease: a delivery already made must not be made again.
    server.clock.advance(2 * 60 * 1000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut got = received.lock().expect("lock").clone();
    got.sort();
    sent.sort();
    assert_eq!(got, sent, "each reply delivered exactly once across both nodes' workers");
}

#[tokio::test]
async fn presence_counts_an_agents_streams_on_every_node() {
    if !on_postgres("presence_counts_an_agents_streams_on_every_node") {
        return;
    }
    let (server, node, ..) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let (lena_id, sara_id, sam_id) =
        (workspace.lena.agent.id, workspace.sara.agent.id, workspace.sam.agent.id);
    let head = server.head().await;
    let mut lena_on_b = open_stream(&workspace.lena.on(&node.base), head).await;
    hears_online(&mut lena_on_b, &[lena_id]).await;

    let sara_on_a = open_stream(&workspace.sara, head).await;
    assert_eq!(next_presence(&mut lena_on_b).await, (sara_id, true));
    // Sara on both nodes; a stream opening on b is told she is online (she is only on a so far).
    let mut sara_on_b = open_stream(&workspace.sara.on(&node.base), head).await;
    hears_online(&mut sara_on_b, &[lena_id, sara_id]).await;
    // Her stream on a closing is no news: she is still on b. Sam coming on a is what Lena hears.
    close(sara_on_a).await;
    let sam_on_a = open_stream(&workspace.sam, head).await;
    assert_eq!(next_presence(&mut lena_on_b).await, (sam_id, true));
    close(sara_on_b).await;
    assert_eq!(next_presence(&mut lena_on_b).await, (sara_id, false));
    close(sam_on_a).await;
    assert_eq!(next_presence(&mut lena_on_b).await, (sam_id, false));
}

#[tokio::test]
async fn a_node_gone_silent_is_forgotten_and_its_agents_go_offline() {
    if !on_postgres("a_node_gone_silent_is_forgotten_and_its_agents_go_offline") {
        return;
    }
    // Heartbeats every 50 ms of real time; silence is measured on the server's clock, moved below.
    let quick = Duration::from_millis(50);
    let (a, b, ghost) = (node_id("a"), node_id("b"), node_id("ghost"));
    let id = a.clone();
    let server = TestServer::start_with(move |config| {
        config.node_id = id;
        config.presence_heartbeat = quick;
    })
    .await;
    let id = b.clone();
    let node = server
        .second_node(move |config| {
            config.node_id = id;
            config.presence_heartbeat = quick;
        })
        .await;
    let workspace = Workspace::create(&server).await;
    let (lena_id, carl_id) = (workspace.lena.agent.id, workspace.carl.agent.id);
    // A third node that had a stream of Carl's open, then died without a word (as under SIGKILL).
    database_execute(
        &server,
        format!(
            "INSERT INTO nodes (node_id, seen_at) VALUES ('{ghost}', {now});
             INSERT INTO streaming (node_id, agent_id) VALUES ('{ghost}', '{carl_id}');",
            now = switchboard_server::clock::Clock::now(server.clock.as_ref())
        ),
    );
    let head = server.head().await;
    let mut lena_on_b = open_stream(&workspace.lena.on(&node.base), head).await;
    hears_online(&mut lena_on_b, &[lena_id, carl_id]).await;

    // Past the silence allowed, one of the live nodes forgets the dead one: Carl goes offline.
    // (The live nodes may take each other for dead too when the clock jumps; each records its
    // streams again at its next heartbeat, which Lena may hear as well.)
    server.clock.advance(NODE_SILENT_AFTER + 1_000);
    loop {
        if next_presence(&mut lena_on_b).await == (carl_id, false) {
            break;
        }
    }
    let rows = "SELECT count(*) FROM streaming WHERE node_id = $1";
    assert_eq!(database_count(&server, rows, ghost.clone()), 0, "the dead node's streams are forgotten");
    let nodes = "SELECT count(*) FROM nodes WHERE node_id = $1";
    assert_eq!(database_count(&server, nodes, ghost), 0, "and the node itself");
    // Lena's stream on b still counts: b is alive (and says so again if it was taken for dead).
    for _ in 0..100 {
        if database_count(&server, rows, b.clone()) == 1 && database_count(&server, nodes, a.clone()) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node b's stream of Lena's, or node a, is not recorded again");
}

#[tokio::test]
async fn a_rule_edited_through_one_node_governs_the_next_write_on_the_other() {
    if !on_postgres("a_rule_edited_through_one_node_governs_the_next_write_on_the_other") {
        return;
    }
    let (server, node, _, _) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let input = |label: &str| {
        json!({"name": "Tag", "trigger": {"type": "event", "events": ["message_received"]},
            "actions": [{"type": "add_labels", "labels": [label]}]})
    };
    let rule = server.admin.ok("/api/v1/automation-rules", input("vip")).await;
    // Node A runs (and keeps) the rule as it is now.
    let first = server.inbound(&workspace.whatsapp, "rule-x", "rule-x-1", "hi").await.conversation_id;
    let labels_of = async |id: Id| -> Vec<String> {
        let (_, body) = server.admin.get(&format!("/api/v1/conversations/{id}/export")).await;
        serde_json::from_value::<Transcript>(body).expect("transcript").conversation.labels
    };
    assert_eq!(labels_of(first).await, ["vip"]);
    // Edited through node B: node A's very next write runs the new version.
    let path = format!("/api/v1/automation-rules/{}", rule["id"].as_str().expect("id"));
    let (code, _) = node.admin.request(Method::PUT, &path, Some(input("refund"))).await;
    assert_eq!(code, StatusCode::OK);
    let second = server.inbound(&workspace.whatsapp, "rule-y", "rule-y-1", "hi").await.conversation_id;
    assert_eq!(labels_of(second).await, ["refund"]);
    // Deleted through node B: node A runs nothing.
    let (code, _) = node.admin.request(Method::DELETE, &path, None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let third = server.inbound(&workspace.whatsapp, "rule-z", "rule-z-1", "hi").await.conversation_id;
    assert!(labels_of(third).await.is_empty());
}

#[tokio::test]
async fn an_sla_policy_or_inbox_edited_through_one_node_governs_the_next_write_on_the_other() {
    if !on_postgres("an_sla_policy_or_inbox_edited_through_one_node_governs_the_next_write_on_the_other") {
        return;
    }
    let (server, node, _, _) = two_nodes().await;
    let workspace = Workspace::create(&server).await;
    let policy = |name: &str, resolution_secs: u32| json!({"name": name, "conditions": {}, "resolution_secs": resolution_secs});
    let (code, created) = server.admin.post("/api/v1/sla-policies", policy("Hour", 3600)).await;
    assert_eq!(code, StatusCode::OK, "{created}");
    let transcript = async |id: Id| -> Transcript {
        let (_, body) = server.admin.get(&format!("/api/v1/conversations/{id}/export")).await;
        serde_json::from_value(body).expect("transcript")
    };
    let resolution_target = async |id: Id| -> Option<Millis> {
        let sla = transcript(id).await.conversation.sla?;
        sla.clocks.iter().find(|c| c.metric == sla::SlaMetric::Resolution).map(|c| c.target_ms)
    };
    // Node A reads the policies and the inbox (and keeps them) as they are now.
    let first = server.inbound(&workspace.whatsapp, "cache-x", "cache-x-1", "hi").await.conversation_id;
    assert_eq!(resolution_target(first).await, Some(3_600_000), "the policy as created");
    assert!(
        transcript(first).await.messages.iter().all(|m| m.sender != Sender::System),
        "no greeting configured yet"
    );
    // The policy and the inbox edited through node B: node A's very next write sees both.
    let path = format!("/api/v1/sla-policies/{}", created["id"].as_str().expect("id"));
    let (code, _) = node.admin.request(Method::PUT, &path, Some(policy("Two hours", 7200))).await;
    assert_eq!(code, StatusCode::OK);
    let inbox = format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id);
    let greeting = json!({"auto_replies": {"greeting": {"body": "Hello from the edit"}}});
    let (code, _) = node.admin.request(Method::PATCH, &inbox, Some(greeting)).await;
    assert_eq!(code, StatusCode::OK);
    let second = server.inbound(&workspace.whatsapp, "cache-y", "cache-y-1", "hi").await.conversation_id;
    assert_eq!(resolution_target(second).await, Some(7_200_000), "node A must see node B's policy edit");
    assert!(
        transcript(second).await.messages.iter().any(|m| m.body == "Hello from the edit"),
        "node A must see node B's inbox edit"
    );
    // Deleted through node B: node A applies no policy.
    let (code, _) = node.admin.request(Method::DELETE, &path, None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let third = server.inbound(&workspace.whatsapp, "cache-z", "cache-z-1", "hi").await.conversation_id;
    assert_eq!(resolution_target(third).await, None, "node A must see node B's policy deletion");
}

/// Routing keeps the agents between writes (`workspace/cached.rs`): an agent's availability
/// changed through node B governs node A's very next routing.
#[tokio::test]
async fn an_agents_availability_changed_through_one_node_governs_routing_on_the_other() {
    if !on_postgres("an_agents_availability_changed_through_one_node_governs_routing_on_the_other") {
        return;
    }
    use crate::routing::{agent, assignee_of, routed_inbox, set_availability};
    let (server, node, _, _) = two_nodes().await;
    let first = agent(&server, "first", None).await;
    let second = agent(&server, "second", None).await;
    let members = [first.agent.id, second.agent.id];
    let inbox = routed_inbox(&server, "Routed", "least_loaded", &members).await;
    let mut streams = Vec::new();
    for session in [&first, &second] {
        set_availability(session, "online").await;
        let head = server.head().await;
        let mut socket = open_stream(session, head).await;
        hears_online(&mut socket, &[session.agent.id]).await;
        streams.push(socket);
    }
    // Node A routes (and keeps the agents as they are now) with only the first available.
    set_availability(&second, "busy").await;
    let one = server.inbound(&inbox, "roster-1", "roster-1-m", "hello").await.conversation_id;
    assert_eq!(assignee_of(&server, one).await, Some(first.agent.id));
    // Through node B the two swap: node A's next inbound goes to the second.
    set_availability(&second.on(&node.base), "online").await;
    set_availability(&first.on(&node.base), "busy").await;
    let two = server.inbound(&inbox, "roster-2", "roster-2-m", "hello").await.conversation_id;
    assert_eq!(
        assignee_of(&server, two).await,
        Some(second.agent.id),
        "node A must see the availability set through node B"
    );
}
