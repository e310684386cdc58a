//! Quick replies from the app (`/api/v1/quick-replies`): a personal reply reaches only its owner,
//! favourite slots are one reply per slot and agent and reach only the agent, insertions are
//! counted with the decayed score, a lead promotes a personal reply to team-wide (audited), and
//! every change is idempotent on its `client_id`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

const DAY: Millis = 24 * 60 * 60 * 1000;

/// What a session's cache would hold of `kind`, by id.
async fn in_feed(session: &Session, kind: EntityKind) -> Vec<(Id, Value)> {
    apply(&session.bootstrap().await)
        .into_iter()
        .filter(|((k, _), _)| *k == kind)
        .map(|((_, id), value)| (id, value))
        .collect()
}

async fn create(session: &Session, code: &str) -> Id {
    let client_id = Id::new_v4();
    let created = session
        .ok(
            "/api/v1/quick-replies",
            json!({"client_id": client_id, "short_code": code, "title": format!("Title {code}"), "body": "Hi {{contact.name}}"}),
        )
        .await;
    assert_eq!(created["reply"]["id"], json!(client_id), "the id is the client_id: {created}");
    assert!(created["seq"].as_i64().expect("seq") > 0);
    client_id
}

async fn bind(session: &Session, reply: Id, slot: Value) -> (StatusCode, Value) {
    let body = json!({"client_id": Id::new_v4(), "slot": slot});
    session.request(Method::PUT, &format!("/api/v1/quick-replies/{reply}/slot"), Some(body)).await
}

fn slot_of(usages: &[(Id, Value)], reply: Id) -> Value {
    usages.iter().find(|(id, _)| *id == reply).map_or(Value::Null, |(_, u)| u["slot"].clone())
}

#[tokio::test]
async fn a_personal_reply_is_the_owners_and_slots_hold_one_reply_each() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = &workspace.sara;
    let thanks = create(sara, "thanks").await;
    let bye = create(sara, "bye").await;

    // Only Sara receives or lists it; Sam cannot see, bind or change it.
    let sara_replies = in_feed(sara, EntityKind::CannedResponse).await;
    assert!(sara_replies.iter().any(|(id, r)| *id == thanks && r["owner_id"] == json!(sara.agent.id)));
    assert!(!in_feed(&workspace.sam, EntityKind::CannedResponse).await.iter().any(|(id, _)| *id == thanks));
    assert_eq!(bind(&workspace.sam, thanks, json!(1)).await.0, StatusCode::NOT_FOUND);
    let edit = json!({"client_id": Id::new_v4(), "title": "mine now"});
    let (status, _) =
        workspace.sam.request(Method::PATCH, &format!("/api/v1/quick-replies/{thanks}"), Some(edit)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Slot 1 to "thanks", then to "bye": "thanks" loses it. Sam's slot 1 is his own.
    let (status, bound) = bind(sara, thanks, json!(1)).await;
    assert_eq!((status, bound["usage"]["slot"].clone()), (StatusCode::OK, json!(1)), "{bound}");
    assert_eq!(bind(sara, bye, json!(1)).await.0, StatusCode::OK);
    let usages = in_feed(sara, EntityKind::QuickReplyUsage).await;
    assert_eq!((slot_of(&usages, thanks), slot_of(&usages, bye)), (Value::Null, json!(1)), "{usages:?}");
    assert!(in_feed(&workspace.sam, EntityKind::QuickReplyUsage).await.is_empty(), "slots are private");
    let (_, listed) = sara.get("/api/v1/quick-replies/usage").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");

    // Bad slots and bad text are refused with a reason.
    for slot in [json!(0), json!(10)] {
        let (status, body) = bind(sara, thanks, slot).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("slot"), "{body}");
    }
    let (status, body) = sara
        .post(
            "/api/v1/quick-replies",
            json!({"client_id": Id::new_v4(), "short_code": "two words", "title": "t", "body": "b"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Unbinding clears the slot; deleting the reply takes it and Sara's usage away.
    assert_eq!(bind(sara, bye, Value::Null).await.1["usage"]["slot"], Value::Null);
    let client_id = Id::new_v4();
    let path = format!("/api/v1/quick-replies/{bye}?client_id={client_id}");
    assert_eq!(sara.request(Method::DELETE, &path, None).await.0, StatusCode::OK);
    assert_eq!(
        sara.request(Method::DELETE, &path, None).await.0,
        StatusCode::OK,
        "a replay answers the same"
    );
    assert!(!in_feed(sara, EntityKind::CannedResponse).await.iter().any(|(id, _)| *id == bye));
    assert!(!in_feed(sara, EntityKind::QuickReplyUsage).await.iter().any(|(id, _)| *id == bye));
}

#[tokio::test]
async fn uses_are_counted_once_per_client_id_with_the_score_halving_weekly() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = &workspace.sara;
    let thanks = create(sara, "thanks").await;
    let path = format!("/api/v1/quick-replies/{thanks}/uses");
    let first = json!({"client_id": Id::new_v4()});
    let used = sara.ok(&path, first.clone()).await;
    assert_eq!(sara.ok(&path, first).await, used, "a replayed use counts once");
    sara.ok(&path, json!({"client_id": Id::new_v4()})).await;
    server.clock.advance(7 * DAY);
    let third = sara.ok(&path, json!({"client_id": Id::new_v4()})).await;
    assert_eq!(third["usage"]["uses"], 3, "{third}");
    let score = third["usage"]["score"].as_f64().expect("score");
    assert!((score - 2.0).abs() < 1e-6, "two uses a week ago count one, plus this one: {score}");

    // A team-wide reply is counted per agent: Sam's use is his alone.
    let team = workspace
        .lena
        .ok(
            "/api/v1/canned-responses",
            json!({"short_code": "hours", "title": "Hours", "body": "We open at 9"}),
        )
        .await;
    let team_id = team["id"].as_str().expect("id");
    workspace
        .sam
        .ok(&format!("/api/v1/quick-replies/{team_id}/uses"), json!({"client_id": Id::new_v4()}))
        .await;
    let sara_usages = in_feed(sara, EntityKind::QuickReplyUsage).await;
    assert_eq!(sara_usages.len(), 1, "Sara has only her own: {sara_usages:?}");
    let sam_usages = in_feed(&workspace.sam, EntityKind::QuickReplyUsage).await;
    assert_eq!(sam_usages.len(), 1, "{sam_usages:?}");
    assert_eq!(sam_usages[0].1["agent_id"], json!(workspace.sam.agent.id));
}

#[tokio::test]
async fn a_lead_promotes_a_personal_reply_to_team_wide_and_it_is_audited() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara_reply = create(&workspace.sara, "refund").await;
    let (status, body) = workspace
        .sara
        .post(&format!("/api/v1/quick-replies/{sara_reply}/promote"), json!({"client_id": Id::new_v4()}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent cannot promote: {body}");

    let lena = &workspace.lena;
    let reply = create(lena, "welcome").await;
    assert_eq!(bind(lena, reply, json!(2)).await.0, StatusCode::OK);
    assert!(!in_feed(&workspace.sam, EntityKind::CannedResponse).await.iter().any(|(id, _)| *id == reply));
    let promote = json!({"client_id": Id::new_v4()});
    let path = format!("/api/v1/quick-replies/{reply}/promote");
    let promoted = lena.ok(&path, promote.clone()).await;
    assert_eq!(promoted["reply"]["owner_id"], Value::Null, "{promoted}");
    assert_eq!(lena.ok(&path, promote).await, promoted, "a replay answers the same");
    let (status, _) = lena.post(&path, json!({"client_id": Id::new_v4()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "already team-wide");

    // Everyone receives it once, as team-wide; Lena keeps her slot.
    for session in [&workspace.sam, &workspace.carl, lena] {
        let replies = in_feed(session, EntityKind::CannedResponse).await;
        let found: Vec<_> = replies.iter().filter(|(id, _)| *id == reply).collect();
        assert_eq!(found.len(), 1, "{}: {replies:?}", session.agent.name);
        assert_eq!(found[0].1["owner_id"], Value::Null);
    }
    assert_eq!(slot_of(&in_feed(lena, EntityKind::QuickReplyUsage).await, reply), json!(2));
    // Now only leads change it: Sam may not.
    let edit = json!({"client_id": Id::new_v4(), "body": "changed"});
    let (status, _) =
        workspace.sam.request(Method::PATCH, &format!("/api/v1/quick-replies/{reply}"), Some(edit)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, audit) = server.admin.get("/api/v1/audit?limit=1000").await;
    assert!(audit.to_string().contains("canned_response.promote"), "promotion audited: {audit}");
}
