//! Presence: an agent is online while they have a stream open on any node, announced once when
//! they come and once when they go, whatever the number of streams; a stream that opens is told
//! who is online already; availability changes reach streams at once. (Across nodes and after a
//! node goes silent: `nodes.rs`.)

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchboard_proto::*;

use crate::harness::*;

/// The next presence frame on `socket` (who, online), skipping every other frame.
pub async fn next_presence(socket: &mut Socket) -> (Id, bool) {
    let (agent, online, _) = next_presence_with_availability(socket).await;
    (agent, online)
}

/// The next presence frame on `socket`, skipping every other frame.
pub async fn next_presence_with_availability(socket: &mut Socket) -> (Id, bool, Availability) {
    loop {
        match next_frame(socket).await {
            Ok(ServerFrame::Presence { agent_id, online, availability }) => {
                return (agent_id, online, availability)
            }
            Ok(_) => continue,
            Err(code) => panic!("stream closed while waiting for presence: {code:?}"),
        }
    }
}

/// Reads presence frames until one says `agent` is `availability`; whether they are online.
async fn presence_of(socket: &mut Socket, agent: Id, availability: Availability) -> bool {
    loop {
        let (id, online, said) = next_presence_with_availability(socket).await;
        if id == agent && said == availability {
            return online;
        }
    }
}

/// Reads presence frames until these agents have all been seen online (a stream that just opened
/// hears who is online from its snapshot; without one it would wait in vain and fail).
pub async fn hears_online(socket: &mut Socket, agents: &[Id]) {
    let wanted: BTreeSet<Id> = agents.iter().copied().collect();
    let mut seen = BTreeSet::new();
    while !wanted.is_subset(&seen) {
        let (agent, online) = next_presence(socket).await;
        if online {
            seen.insert(agent);
        } else {
            seen.remove(&agent);
        }
    }
}

/// Closes a stream and waits for the server to see it go.
pub async fn close(mut socket: Socket) {
    socket.close(None).await.expect("close the stream");
    while next_frame(&mut socket).await.is_ok() {}
}

#[tokio::test]
async fn an_agent_is_announced_once_on_coming_and_once_on_going_whatever_their_streams() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (lena_id, sara_id) = (workspace.lena.agent.id, workspace.sara.agent.id);
    let head = server.head().await;

    let mut lena = open_stream(&workspace.lena, head).await;
    hears_online(&mut lena, &[lena_id]).await;
    let sara_first = open_stream(&workspace.sara, head).await;
    assert_eq!(next_presence(&mut lena).await, (sara_id, true));

    // A second stream of Sara's hears who is online from its snapshot, and is no news to Lena.
    let mut sara_second = open_stream(&workspace.sara, head).await;
    hears_online(&mut sara_second, &[lena_id, sara_id]).await;
    close(sara_first).await;
    // Sam coming is the next thing Lena hears: closing one of Sara's two streams said nothing.
    let sam = open_stream(&workspace.sam, head).await;
    assert_eq!(next_presence(&mut lena).await, (workspace.sam.agent.id, true));

    close(sara_second).await;
    assert_eq!(next_presence(&mut lena).await, (sara_id, false));
    close(sam).await;
    assert_eq!(next_presence(&mut lena).await, (workspace.sam.agent.id, false));
}

#[tokio::test]
async fn a_change_of_availability_reaches_streams_at_once() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let head = server.head().await;
    let mut lena = open_stream(&workspace.lena, head).await;
    let _sara = open_stream(&workspace.sara, head).await;
    hears_online(&mut lena, &[workspace.lena.agent.id, workspace.sara.agent.id]).await;

    let (status, me) =
        workspace.sara.request(Method::PATCH, "/api/v1/me", Some(json!({"availability": "busy"}))).await;
    assert_eq!(status, StatusCode::OK);
    let since = me["availability_since"].as_i64().expect("when she changed it");
    // The same availability again is no change: the moment stays.
    let (_, again) =
        workspace.sara.request(Method::PATCH, "/api/v1/me", Some(json!({"availability": "busy"}))).await;
    assert_eq!(again["availability_since"].as_i64(), Some(since));
    // (Lena may hear Sara come twice first: from her snapshot and live, when the two overlapped.)
    assert!(presence_of(&mut lena, workspace.sara.agent.id, Availability::Busy).await, "Sara is online");

    // Someone with no stream open who goes busy is announced as offline (and busy).
    let (status, _) =
        workspace.sam.request(Method::PATCH, "/api/v1/me", Some(json!({"availability": "busy"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!presence_of(&mut lena, workspace.sam.agent.id, Availability::Busy).await, "Sam is offline");
}

#[tokio::test]
async fn a_status_text_travels_with_the_agent_and_blank_clears_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let head = server.head().await;

    let (status, me) = workspace
        .sara
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"availability": "busy", "status_text": "  Back at 3  "})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["status_text"], "Back at 3", "kept trimmed");
    assert_eq!(me["availability"], "busy");

    // Lena's feed brings Sara's agent entity with it.
    let page = workspace.lena.sync(head, 100).await;
    let sara = page
        .changes
        .iter()
        .rev()
        .find(|c| c.entity == EntityKind::Agent && c.id == workspace.sara.agent.id)
        .and_then(|c| c.data.clone())
        .expect("Sara's change reaches Lena's feed");
    assert_eq!(sara["status_text"], "Back at 3");

    // Availability alone leaves the text; too long or multi-line is refused and changes nothing.
    let (_, me) =
        workspace.sara.request(Method::PATCH, "/api/v1/me", Some(json!({"availability": "online"}))).await;
    assert_eq!(me["status_text"], "Back at 3");
    for bad in ["x".repeat(101), "two\nlines".to_owned()] {
        let (status, body) =
            workspace.sara.request(Method::PATCH, "/api/v1/me", Some(json!({"status_text": bad}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (_, me) =
        workspace.sara.request(Method::PATCH, "/api/v1/me", Some(json!({"status_text": "   "}))).await;
    assert!(me.get("status_text").is_none(), "blank clears it: {me}");
}
