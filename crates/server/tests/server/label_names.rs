//! Label names as people write them: spaces, capitals and any script kept exactly, one label
//! per `labels::label_key` (case, spacing, NFC and Arabic letter forms ignored), and every place
//! a label is matched (edits, automation conditions and actions, SLA conditions, the ledger, the
//! deletion cascade) finding it by any spelling.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

async fn create_label(server: &TestServer, name: &str) -> (StatusCode, Value) {
    server.admin.post("/api/v1/labels", json!({"name": name, "color": "#123456"})).await
}

async fn labels_of(server: &TestServer, conversation: Id) -> Vec<String> {
    let state = apply(&server.admin.bootstrap().await);
    serde_json::from_value(state[&(EntityKind::Conversation, conversation)]["labels"].clone())
        .expect("labels")
}

#[tokio::test]
async fn names_keep_spaces_case_and_script_and_are_unique_by_key() {
    let server = TestServer::start().await;
    for name in ["New Lead", "پشتیبانی باز", "VIP"] {
        let (status, label) = create_label(&server, &format!("  {name} ")).await;
        assert_eq!(status, StatusCode::OK, "{name}: {label}");
        assert_eq!(label["name"], name, "kept exactly, only trimmed");
    }
    for same in ["new lead", "NEW  LEAD", "پشتيباني باز", "vip"] {
        let (status, body) = create_label(&server, same).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_exists")),
            "{same:?} is an existing label: {body}"
        );
    }
    // A decomposed é is the composed one.
    assert_eq!(create_label(&server, "Cafe\u{301}").await.1["name"], "Café");
    assert_eq!(create_label(&server, "café").await.0, StatusCode::CONFLICT);
    for bad in ["", "   ", "two\nlines", &"x".repeat(51)] {
        let (status, body) = create_label(&server, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
    }
    let (_, listed) = server.admin.get("/api/v1/labels").await;
    let names: Vec<&str> =
        listed.as_array().expect("labels").iter().filter_map(|l| l["name"].as_str()).collect();
    for name in ["New Lead", "پشتیبانی باز", "VIP", "Café"] {
        assert!(names.contains(&name), "{name} listed as created: {names:?}");
    }
}

#[tokio::test]
async fn any_spelling_adds_the_labels_own_name_and_removes_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    create_label(&server, "New Lead").await;
    create_label(&server, "پشتیبانی باز").await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/labels");
    workspace.sara.ok(&path, json!({"client_id": Id::new_v4(), "add": ["new lead", "پشتيباني باز"]})).await;
    workspace.sam.ok(&path, json!({"client_id": Id::new_v4(), "add": ["New Lead"]})).await;
    assert_eq!(
        labels_of(&server, conversation).await,
        ["New Lead", "پشتیبانی باز"],
        "the labels' own names, once"
    );
    workspace.sam.ok(&path, json!({"client_id": Id::new_v4(), "remove": ["NEW LEAD"]})).await;
    assert_eq!(labels_of(&server, conversation).await, ["پشتیبانی باز"]);

    // Deleting the label takes it off the conversation.
    let (_, listed) = server.admin.get("/api/v1/labels").await;
    let persian =
        listed.as_array().expect("labels").iter().find(|l| l["name"] == "پشتیبانی باز").expect("label");
    let id = persian["id"].as_str().expect("id");
    let (status, _) = server.admin.request(Method::DELETE, &format!("/api/v1/labels/{id}"), None).await;
    assert!(status.is_success(), "{status}");
    assert!(labels_of(&server, conversation).await.is_empty());
}

#[tokio::test]
async fn rules_match_and_add_labels_with_spaces_by_any_spelling() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    create_label(&server, "New Lead").await;
    create_label(&server, "Hot Lead").await;
    // Saved with other spellings: the rule still finds the labels, and adds the label's name.
    let add = json!({"name": "Tag", "trigger": {"type": "event", "events": ["message_received"]},
        "actions": [{"type": "add_labels", "labels": ["new lead"]}]});
    let (status, body) = workspace.lena.post("/api/v1/automation-rules", add).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let then = json!({"name": "Then", "trigger": {"type": "event", "events": ["message_received"]},
        "conditions": {"labels_all": ["NEW LEAD"]}, "actions": [{"type": "add_labels", "labels": ["hot  lead"]}]});
    let (status, body) = workspace.lena.post("/api/v1/automation-rules", then).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let unknown = json!({"name": "Bad", "trigger": {"type": "event", "events": ["message_received"]},
        "actions": [{"type": "add_labels", "labels": ["No Such Label"]}]});
    assert_eq!(
        workspace.lena.post("/api/v1/automation-rules", unknown).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let conversation = server.inbound(&workspace.whatsapp, "r1", "r1", "hi").await.conversation_id;
    assert_eq!(labels_of(&server, conversation).await, ["Hot Lead", "New Lead"]);
}

#[tokio::test]
async fn an_sla_policy_on_a_label_with_a_space_applies_and_the_ledger_names_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    create_label(&server, "New Lead").await;
    let policy = json!({"name": "Leads", "first_response_secs": 600, "conditions": {"labels": ["new lead"]}});
    let (status, body) = server.admin.post("/api/v1/sla-policies", policy).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let conversation = server.inbound(&workspace.whatsapp, "s1", "s1", "hi").await.conversation_id;
    let path = format!("/api/v1/conversations/{conversation}/labels");
    workspace.sara.ok(&path, json!({"client_id": Id::new_v4(), "add": ["New Lead"]})).await;
    let state = apply(&server.admin.bootstrap().await);
    assert_eq!(
        state[&(EntityKind::Conversation, conversation)]["sla"]["policy_name"],
        "Leads",
        "the policy's condition names the label in lower case; the conversation carries New Lead"
    );
    let events = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await.1;
    let added: Vec<&Value> =
        events.as_array().expect("events").iter().filter(|e| e["kind"] == "labels").collect();
    assert_eq!(added.len(), 1, "{events}");
    assert_eq!(added[0]["added"], json!(["New Lead"]));
}
