//! Saved views: a personal view reaches only its owner, a team view only the team's members (and
//! follows membership changes), leads and admins manage team views, every change is idempotent on
//! its `client_id` and travels through the feed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

/// The saved views a session's cache would hold, by name.
async fn views_in_feed(session: &Session) -> Vec<String> {
    let mut names: Vec<String> = apply(&session.bootstrap().await)
        .into_iter()
        .filter(|((kind, _), _)| *kind == EntityKind::SavedView)
        .map(|(_, view)| view["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

async fn listed(session: &Session) -> Vec<String> {
    let (status, views) = session.get("/api/v1/saved-views").await;
    assert_eq!(status, StatusCode::OK, "{views}");
    views
        .as_array()
        .expect("views")
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn team_view(name: &str, team: Id, inbox: Id) -> Value {
    json!({
        "client_id": Id::new_v4(),
        "name": name,
        "team_id": team,
        "filter": {"inbox_ids": [inbox], "labels": ["vip"], "assignees": [{"type": "unassigned"}]},
    })
}

#[tokio::test]
async fn a_team_view_reaches_the_teams_members_only_and_follows_membership() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let support = workspace.lena.agent.team_ids[0];
    let sales = workspace.carl.agent.team_ids[0];

    let created = workspace
        .lena
        .ok("/api/v1/saved-views", team_view("VIP waiting", support, workspace.whatsapp.inbox.id))
        .await;
    let view_id: Id = serde_json::from_value(created["view"]["id"].clone()).expect("id");
    assert_eq!(created["view"]["filter"]["labels"], json!(["vip"]), "{created}");
    assert!(created["seq"].as_i64().expect("seq") > 0);

    for member in [&workspace.lena, &workspace.sara, &workspace.sam] {
        assert_eq!(views_in_feed(member).await, vec!["VIP waiting"], "{} is in Support", member.agent.name);
        assert_eq!(listed(member).await, vec!["VIP waiting"]);
    }
    for outsider in [&workspace.carl, &server.admin] {
        assert!(views_in_feed(outsider).await.is_empty(), "{} is not in Support", outsider.agent.name);
        assert!(listed(outsider).await.is_empty());
    }

    // Carl joins Support: he receives the view; Sam leaves it: his cache is told to drop it.
    let sam_cursor = server.head().await;
    let carl = workspace.carl.agent.id;
    let (status, body) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/agents/{carl}"),
            Some(json!({"team_ids": [sales, support]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/teams/{support}"),
            Some(json!({"member_agent_ids": [
                workspace.lena.agent.id, workspace.sara.agent.id, carl
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        views_in_feed(&workspace.carl).await,
        vec!["VIP waiting"],
        "a new member receives the team's views"
    );
    let since = workspace.sam.sync(sam_cursor, 1000).await;
    assert!(
        since
            .changes
            .iter()
            .any(|c| c.entity == EntityKind::SavedView && c.id == view_id && c.op == ChangeOp::Delete),
        "a leaver's feed takes the view back: {:?}",
        since.changes
    );
    assert!(views_in_feed(&workspace.sam).await.is_empty());

    // Renamed by the lead: every member's copy follows, through the feed.
    let (status, body) = workspace
        .lena
        .request(
            Method::PATCH,
            &format!("/api/v1/saved-views/{view_id}"),
            Some(json!({"client_id": Id::new_v4(), "name": "  صف ویژه  "})),
        )
        .await;
    assert_eq!((status, body["view"]["name"].as_str()), (StatusCode::OK, Some("صف ویژه")), "{body}");
    assert_eq!(views_in_feed(&workspace.sara).await, vec!["صف ویژه"]);
    assert_eq!(views_in_feed(&workspace.carl).await, vec!["صف ویژه"]);

    // An agent of the team may not change it; a lead of another team can't even see it.
    let (status, _) = workspace
        .sara
        .request(
            Method::PATCH,
            &format!("/api/v1/saved-views/{view_id}"),
            Some(json!({"client_id": Id::new_v4(), "name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Team-wide changes are in the audit trail.
    let (_, audit) = server.admin.get("/api/v1/audit?limit=1000").await;
    for action in ["saved_view.create", "saved_view.update"] {
        assert!(audit.to_string().contains(action), "{action} audited");
    }

    // Deleted: every member loses it.
    let (status, body) = workspace
        .lena
        .request(Method::DELETE, &format!("/api/v1/saved-views/{view_id}?client_id={}", Id::new_v4()), None)
        .await;
    assert_eq!((status, body["view"].clone()), (StatusCode::OK, Value::Null), "{body}");
    for member in [&workspace.lena, &workspace.sara, &workspace.carl] {
        assert!(views_in_feed(member).await.is_empty(), "{} lost it", member.agent.name);
    }
}

#[tokio::test]
async fn who_may_make_which_view_and_bad_input_is_refused() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let support = workspace.lena.agent.team_ids[0];
    let sales = workspace.carl.agent.team_ids[0];
    let inbox = workspace.whatsapp.inbox.id;

    // An agent may not make a team view; a lead only for their own team; an admin for any.
    let (status, _) = workspace.sara.post("/api/v1/saved-views", team_view("Mine", support, inbox)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = workspace.lena.post("/api/v1/saved-views", team_view("Theirs", sales, inbox)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.admin.ok("/api/v1/saved-views", team_view("Sales queue", sales, inbox)).await;
    assert_eq!(views_in_feed(&workspace.carl).await, vec!["Sales queue"]);

    // Personal: anyone, seen only by its owner; another agent's is "not found".
    let personal =
        json!({"client_id": Id::new_v4(), "name": "My urgent", "filter": {"priorities": ["urgent", "high"]}});
    let created = workspace.sara.ok("/api/v1/saved-views", personal.clone()).await;
    assert_eq!(created["view"]["owner_id"], json!(workspace.sara.agent.id));
    assert_eq!(views_in_feed(&workspace.sara).await, vec!["My urgent"]);
    assert!(views_in_feed(&workspace.sam).await.is_empty(), "a personal view is its owner's alone");
    let id = created["view"]["id"].as_str().expect("id").to_owned();
    let (status, _) = workspace
        .sam
        .request(
            Method::PATCH,
            &format!("/api/v1/saved-views/{id}"),
            Some(json!({"client_id": Id::new_v4(), "name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Replaying the creation answers the same and writes nothing; a reused client_id is refused.
    let head = server.head().await;
    let again = workspace.sara.ok("/api/v1/saved-views", personal.clone()).await;
    assert_eq!(again, created);
    assert_eq!(server.head().await, head, "a replay writes nothing");
    let (status, body) = workspace
        .sara
        .request(
            Method::PATCH,
            &format!("/api/v1/saved-views/{id}"),
            Some(json!({"client_id": personal["client_id"], "name": "y"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("client_id_reused")),
        "{body}"
    );

    // Bad input: empty or multi-line names, a zero wait, unknown filter fields, a missing team.
    for (body, why) in [
        (json!({"client_id": Id::new_v4(), "name": "  ", "filter": {}}), "empty name"),
        (json!({"client_id": Id::new_v4(), "name": "a\nb", "filter": {}}), "two lines"),
        (
            json!({"client_id": Id::new_v4(), "name": "w", "filter": {"waiting_longer_than_secs": 0}}),
            "zero wait",
        ),
        (json!({"client_id": Id::new_v4(), "name": "w", "filter": {"labels": [""]}}), "empty label"),
        (json!({"client_id": Id::new_v4(), "name": "w", "filter": {"colour": "red"}}), "unknown field"),
        (
            json!({"client_id": Id::new_v4(), "name": "w", "filter": {}, "team_id": Id::new_v4()}),
            "no such team",
        ),
    ] {
        let (status, body) = server.admin.post("/api/v1/saved-views", body).await;
        assert!(status.is_client_error() && status != StatusCode::NOT_FOUND, "{why}: {status} {body}");
        assert!(body["error"]["message"].is_string(), "{why}: a clear error: {body}");
    }
    let (status, _) = workspace
        .sara
        .request(
            Method::DELETE,
            &format!("/api/v1/saved-views/{}?client_id={}", Id::new_v4(), Id::new_v4()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
