//! Saved views through the outbox: a lead saves a team view while offline (shown at once, sent on
//! reconnect), the team's members receive it through the feed, and its count follows new
//! conversations live, counted on each member's cache.

use serde_json::json;
use switchboard_core::{cache::views::View, intents};
use switchboard_proto::views::{AssigneeFilter, ConversationFilter};
use switchboard_proto::*;

use crate::harness::*;

fn count(client: &Client, view: &View) -> Option<usize> {
    let counts =
        client.account.cache.view_counts_at(Some(ConversationStatus::Open), i64::MAX / 2).expect("counts");
    counts.into_iter().find(|(v, _)| v == view).map(|(_, n)| n)
}

#[tokio::test]
async fn a_team_view_saved_offline_reaches_the_team_and_counts_live() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let teams = server.get(&server.admin_token, "/api/v1/teams").await;
    let support: Id = serde_json::from_value(
        teams.as_array().expect("teams").iter().find(|t| t["name"] == "Support").expect("Support")["id"]
            .clone(),
    )
    .expect("id");
    server
        .admin_ok(
            "/api/v1/agents",
            json!({"name": "Lena Lead", "email": "lena@test.example", "role": "lead", "password": PASSWORD, "team_ids": [support]}),
        )
        .await;
    let first = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let lena = Client::sign_in(&server, "lena@test.example").await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let carl = Client::sign_in(&server, "carl@test.example").await;
    lena.until("bootstrapped", |c| c.conversation(first).is_some()).await;

    // Offline, the lead saves "WhatsApp, unassigned" for Support: shown at once, with its count.
    server.kill().await;
    let filter = ConversationFilter {
        inbox_ids: vec![workspace.whatsapp.inbox.id],
        assignees: vec![AssigneeFilter::Unassigned],
        ..Default::default()
    };
    let action = intents::create_view("Unassigned WhatsApp", filter, Some(support)).expect("valid");
    let Some(view_id) = action.touches().first().map(|(_, id)| *id) else { panic!("touches the view") };
    lena.engine().queue(action).expect("queue");
    let view = View::Saved(view_id);
    assert_eq!(count(&lena, &view), Some(1), "shown and counted before the server knows");
    assert!(
        intents::create_view("  ", ConversationFilter::default(), None).is_err(),
        "an empty name is refused here"
    );

    // Back online: the server has it, and Sara (Support) receives it; Carl (Sales) does not.
    server.restart().await;
    lena.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    let stored = server.get(&lena.token(), "/api/v1/saved-views").await;
    assert_eq!(stored[0]["id"], json!(view_id), "the server has it, with the id made offline: {stored}");
    assert_eq!(stored[0]["team_id"], json!(support));
    let admin = server.state(&server.admin_token).await;
    assert!(!admin.contains_key(&(EntityKind::SavedView, view_id)), "the admin is not in Support");
    sara.until("the team view arrives", |c| count(c, &view) == Some(1)).await;
    let names: Vec<String> =
        sara.account.cache.saved_views().expect("views").into_iter().map(|v| v.name).collect();
    assert_eq!(names, vec!["Unassigned WhatsApp"]);

    // A conversation that newly matches bumps the count on every member's cache.
    let second = server.inbound(&workspace.whatsapp, "c2", "m2", "anyone there?").await.conversation_id;
    sara.until("the count follows", |c| count(c, &view) == Some(2)).await;
    lena.until("the count follows", |c| count(c, &view) == Some(2)).await;
    // Claimed: no longer unassigned.
    sara.engine().queue(intents::claim(second, sara.me())).expect("queue");
    assert_eq!(count(&sara, &view), Some(1), "the optimistic claim already counts");

    // Its filter changed through the outbox (any assignee now): the lead's count follows at once,
    // the server keeps the new filter, and the member's count follows through the feed.
    let wider = ConversationFilter { inbox_ids: vec![workspace.whatsapp.inbox.id], ..Default::default() };
    lena.engine().queue(intents::update_view_filter(view_id, wider).expect("valid")).expect("queue");
    assert_eq!(count(&lena, &view), Some(2), "the optimistic filter already counts");
    assert!(
        intents::update_view_filter(
            view_id,
            ConversationFilter { waiting_longer_than_secs: Some(0), ..Default::default() }
        )
        .is_err(),
        "a zero wait is refused here"
    );
    lena.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    let stored = server.get(&lena.token(), "/api/v1/saved-views").await;
    assert_eq!(stored[0]["filter"]["assignees"], json!([]), "the server has the new filter: {stored}");
    sara.until("the member's count follows", |c| count(c, &view) == Some(2)).await;

    // Renamed and deleted through the outbox too.
    lena.engine().queue(intents::rename_view(view_id, "صف واتس‌اپ").expect("valid")).expect("queue");
    sara.until("renamed", |c| {
        c.account.cache.saved_views().expect("views").first().is_some_and(|v| v.name == "صف واتس‌اپ")
    })
    .await;
    lena.engine().queue(intents::delete_view(view_id)).expect("queue");
    sara.until("deleted", |c| count(c, &view).is_none()).await;
    assert!(carl.account.cache.saved_views().expect("views").is_empty(), "never Sales'");
}
