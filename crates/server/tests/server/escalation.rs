//! Escalated as a state: set and cleared by a person (idempotent on `client_id`), by an
//! automation rule's `escalate`/`deescalate` actions and by an SLA escalation step; each change
//! a ledger `escalation` event with its actor, in the feed; resolving clears it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use switchboard_proto::{
    escalation::EscalatedBy,
    ledger::{Actor, ConversationEvent, EventKind},
    *,
};

use crate::harness::*;

const MIN: Millis = 60_000;

async fn conversation(server: &TestServer, id: Id) -> Conversation {
    let state = apply(&server.admin.bootstrap().await);
    serde_json::from_value(state[&(EntityKind::Conversation, id)].clone()).expect("conversation")
}

async fn escalation_events(server: &TestServer, id: Id) -> Vec<(bool, Actor, Option<String>)> {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{id}/events")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events: Vec<ConversationEvent> = serde_json::from_value(body).expect("events");
    events
        .into_iter()
        .filter_map(|e| match e.event {
            EventKind::Escalation { escalated, note } => Some((escalated, e.actor, note)),
            _ => None,
        })
        .collect()
}

fn escalate(escalated: bool, note: Option<&str>) -> serde_json::Value {
    json!({"client_id": Id::new_v4(), "escalated": escalated, "note": note})
}

#[tokio::test]
async fn a_person_escalates_and_de_escalates_once_each_with_the_ledger_and_feed_saying_who() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let path = format!("/api/v1/conversations/{id}/escalation");
    let sara = workspace.sara.agent.id;

    let request = escalate(true, Some("  angry VIP  "));
    let first = workspace.sara.ok(&path, request.clone()).await;
    let head = server.head().await;
    assert_eq!(workspace.sara.ok(&path, request).await, first, "a replay answers the same");
    assert_eq!(server.head().await, head, "and writes nothing");
    let escalated = conversation(&server, id).await.escalation.expect("escalated");
    assert_eq!(
        (escalated.by, escalated.note.as_deref()),
        (EscalatedBy::Agent { id: sara }, Some("angry VIP"))
    );
    assert!(first["message"]["body"].as_str().is_some_and(|b| b.contains("escalated the conversation")));

    // Escalating again (another agent) keeps the first escalation and writes no event.
    workspace.sam.ok(&path, escalate(true, None)).await;
    assert_eq!(
        conversation(&server, id).await.escalation.map(|e| e.by),
        Some(EscalatedBy::Agent { id: sara })
    );
    workspace.sam.ok(&path, escalate(false, None)).await;
    assert_eq!(conversation(&server, id).await.escalation, None);
    let sam = workspace.sam.agent.id;
    assert_eq!(
        escalation_events(&server, id).await,
        vec![
            (true, Actor::Agent { id: sara }, Some("angry VIP".into())),
            (false, Actor::Agent { id: sam }, None),
        ]
    );
    // Carl can't see the WhatsApp inbox; a note too long is refused; unknown fields too.
    assert_eq!(workspace.carl.post(&path, escalate(true, None)).await.0, StatusCode::FORBIDDEN);
    let long = "x".repeat(501);
    let (status, body) = workspace.sara.post(&path, escalate(true, Some(&long))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation"))
    );
    let odd = json!({"client_id": Id::new_v4(), "escalated": true, "level": 2});
    assert_eq!(workspace.sara.post(&path, odd).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn resolving_clears_an_escalation_and_a_resolved_conversation_is_refused() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let path = format!("/api/v1/conversations/{id}/escalation");
    workspace.sara.ok(&path, escalate(true, None)).await;
    let resolve = json!({"client_id": Id::new_v4(), "status": "resolved"});
    workspace.sara.ok(&format!("/api/v1/conversations/{id}/status"), resolve).await;
    assert_eq!(conversation(&server, id).await.escalation, None);
    let events = escalation_events(&server, id).await;
    assert_eq!(events.last().map(|e| e.0), Some(false), "the clearing is in the ledger: {events:?}");
    let (status, body) = workspace.sara.post(&path, escalate(true, None)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn a_rule_escalates_and_another_de_escalates() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let body = json!({"name": "Angry words", "trigger": {"type": "event", "events": ["message_received"]},
        "conditions": {"text_contains": ["refund now"]}, "actions": [{"type": "escalate"}]});
    let (status, rule) = workspace.lena.post("/api/v1/automation-rules", body).await;
    assert_eq!(status, StatusCode::OK, "{rule}");
    let rule_id: Id = serde_json::from_value(rule["id"].clone()).expect("id");
    let calm = json!({"name": "Calm", "trigger": {"type": "event", "events": ["message_received"]},
        "conditions": {"text_contains": ["thanks"]}, "actions": [{"type": "deescalate"}]});
    assert_eq!(workspace.lena.post("/api/v1/automation-rules", calm).await.0, StatusCode::OK);

    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "I want a refund now").await.conversation_id;
    let escalation = conversation(&server, id).await.escalation.expect("the rule escalated it");
    assert_eq!(
        (escalation.by, escalation.note.as_deref()),
        (EscalatedBy::Rule { id: rule_id }, Some("Angry words"))
    );
    server.inbound(&workspace.whatsapp, "c1", "m2", "ok thanks").await;
    assert_eq!(conversation(&server, id).await.escalation, None);
    let events = escalation_events(&server, id).await;
    assert_eq!(events.iter().map(|e| e.0).collect::<Vec<_>>(), [true, false]);
    assert!(matches!(events[0].1, Actor::Rule { id, .. } if id == rule_id));
}

#[tokio::test]
async fn an_sla_escalation_step_marks_the_conversation_escalated() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let policy = json!({"name": "Fast", "first_response_secs": 600,
        "escalations": [{"on": "breach", "escalate": true}]});
    let (status, body) = server.admin.post("/api/v1/sla-policies", policy).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    assert_eq!(conversation(&server, id).await.escalation, None);
    server.clock.advance(11 * MIN);
    // The timer loop fires on its own task; the due time has passed on the server's clock.
    let deadline = Instant::now() + Duration::from_secs(10);
    let escalation = loop {
        if let Some(escalation) = conversation(&server, id).await.escalation {
            break escalation;
        }
        assert!(Instant::now() < deadline, "the breach step never escalated");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(escalation.by, EscalatedBy::Sla);
    assert_eq!(escalation.note.as_deref(), Some("Fast: first response overdue"));
    let events = escalation_events(&server, id).await;
    assert!(matches!(&events[..], [(true, Actor::System { .. }, _)]), "{events:?}");
}
