//! Running the team from the app: renaming and recolouring a label (kept as written, followed by
//! the conversations that carry it) and signing an agent out of every device at once.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{feed::CLOSE_REVOKED, *};

use crate::harness::*;

async fn label_id(server: &TestServer, name: &str) -> String {
    let (_, listed) = server.admin.get("/api/v1/labels").await;
    let label = listed.as_array().expect("labels").iter().find(|l| l["name"] == name).cloned();
    label.unwrap_or_else(|| panic!("no label {name}: {listed}"))["id"].as_str().expect("id").to_owned()
}

async fn labels_of(server: &TestServer, conversation: Id) -> Value {
    apply(&server.admin.bootstrap().await)[&(EntityKind::Conversation, conversation)]["labels"].clone()
}

async fn patch_label(session: &Session, id: &str, body: Value) -> (StatusCode, Value) {
    session.request(Method::PATCH, &format!("/api/v1/labels/{id}"), Some(body)).await
}

#[tokio::test]
async fn a_renamed_label_is_kept_as_written_and_its_conversations_follow() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    server.admin.ok("/api/v1/labels", json!({"name": "new lead", "color": "#112233"})).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/labels");
    workspace.sara.ok(&path, json!({"client_id": Id::new_v4(), "add": ["new lead", "vip"]})).await;
    let id = label_id(&server, "new lead").await;

    // A lead re-cases it: the same key is the label itself, not a clash.
    let (status, label) = patch_label(&workspace.lena, &id, json!({"name": " New Lead "})).await;
    assert_eq!((status, label["name"].as_str()), (StatusCode::OK, Some("New Lead")), "{label}");
    assert_eq!(
        labels_of(&server, conversation).await,
        json!(["New Lead", "vip"]),
        "carried renamed, in place"
    );

    // Another script, and a colour: both kept exactly.
    let (status, label) =
        patch_label(&workspace.lena, &id, json!({"name": "پشتیبانی باز", "color": "#AA5500"})).await;
    assert_eq!(status, StatusCode::OK, "{label}");
    assert_eq!((label["name"].as_str(), label["color"].as_str()), (Some("پشتیبانی باز"), Some("#aa5500")));
    assert_eq!(label_id(&server, "پشتیبانی باز").await, id, "the same label, listed as written");
    assert_eq!(labels_of(&server, conversation).await, json!(["پشتیبانی باز", "vip"]));

    // The history says who renamed it.
    let (_, events) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert!(events.to_string().contains("پشتیبانی باز"), "a ledger event carries the rename: {events}");

    // Refusals: another label's name by any spelling, a bad colour, an agent, a missing label.
    let (status, body) = patch_label(&workspace.lena, &id, json!({"name": "VIP"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_exists")),
        "{body}"
    );
    let (status, _) = patch_label(&workspace.lena, &id, json!({"color": "orange"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = patch_label(&workspace.lena, &id, json!({"name": "two\nlines"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = patch_label(&workspace.sam, &id, json!({"name": "Mine"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = patch_label(&workspace.lena, &Id::new_v4().to_string(), json!({"name": "Ghost"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        labels_of(&server, conversation).await,
        json!(["پشتیبانی باز", "vip"]),
        "refusals wrote nothing"
    );
}

#[tokio::test]
async fn signing_an_agent_out_everywhere_revokes_every_device_but_keeps_the_agent() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let laptop = server.login("sam@test.example").await;
    let mut stream = open_stream(&laptop, 0).await;
    let path = format!("/api/v1/agents/{}/devices", workspace.sam.agent.id);

    // A lead may not; a failed attempt signs nobody out.
    let (status, _) = workspace.lena.request(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK);

    let (status, body) = server.admin.request(Method::DELETE, &path, None).await;
    assert_eq!((status, body["devices"].as_u64()), (StatusCode::OK, Some(2)), "{body}");
    for session in [&workspace.sam, &laptop] {
        let (status, body) = session.get("/api/v1/me").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token_revoked"))
        );
    }
    loop {
        match next_frame(&mut stream).await {
            Ok(_) => continue,
            Err(code) => {
                assert_eq!(code, Some(CLOSE_REVOKED), "the open stream closes as revoked");
                break;
            }
        }
    }
    // Still an active agent, who may sign in again; others stay signed in.
    let (_, agents) = server.admin.get("/api/v1/agents").await;
    let sam =
        agents.as_array().expect("agents").iter().find(|a| a["id"] == json!(workspace.sam.agent.id)).cloned();
    assert_eq!(sam.expect("sam")["active"], true);
    let again = server.login("sam@test.example").await;
    assert_eq!(again.get("/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(workspace.sara.get("/api/v1/me").await.0, StatusCode::OK, "only Sam's devices");

    // The trail records it; a missing agent is 404.
    let (_, audit) = server.admin.get("/api/v1/audit?action=agent.sign_out").await;
    assert!(audit.to_string().contains("agent.sign_out"), "audited: {audit}");
    let missing = format!("/api/v1/agents/{}/devices", Id::new_v4());
    assert_eq!(server.admin.request(Method::DELETE, &missing, None).await.0, StatusCode::NOT_FOUND);
}
