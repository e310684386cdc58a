//! Export approval (issue 20): an inbox whose exports need a lead's approval holds an agent's
//! transcript export; the agent asks (who, what, why), a lead who sees the inbox or an admin
//! approves or declines, and the requester downloads an approved one once within 24 hours on the
//! injected clock. Every step is in the audit trail; a lead's or admin's own export is not held.
//! Also the workspace's app-lock requirement: admins only, audited, read by every agent.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{audit::AuditEntry, exports::*, *};

use crate::harness::*;

const HOUR: Millis = 60 * 60 * 1000;

async fn hold_exports(server: &TestServer, inbox: Id, held: bool) {
    let (status, body) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"exports_need_approval": held})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["exports_need_approval"], held);
}

async fn actions(server: &TestServer, prefix: &str) -> Vec<AuditEntry> {
    let (status, body) = server.admin.get(&format!("/api/v1/audit?action={prefix}&limit=1000")).await;
    assert_eq!(status, StatusCode::OK, "audit: {body}");
    let mut rows: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    rows.reverse();
    rows
}

async fn ask(session: &Session, conversation: Id, reason: &str) -> (StatusCode, Value) {
    session
        .post(
            "/api/v1/export-requests",
            json!({"conversation_id": conversation, "format": "txt", "reason": reason}),
        )
        .await
}

async fn requested(session: &Session, conversation: Id) -> ExportRequest {
    let (status, body) = ask(session, conversation, "The customer asked for a copy of our chat").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body).expect("request")
}

async fn decide(session: &Session, id: Id, approve: bool) -> (StatusCode, Value) {
    session
        .post(&format!("/api/v1/export-requests/{id}/decision"), json!({"approve": approve, "note": "ok"}))
        .await
}

struct Setup {
    server: TestServer,
    workspace: Workspace,
    conversation: Id,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server
        .inbound(&workspace.whatsapp, "Nora", "nora-1", "my order 7731 never came")
        .await
        .conversation_id;
    hold_exports(&server, workspace.whatsapp.inbox.id, true).await;
    Setup { server, workspace, conversation }
}

#[tokio::test]
async fn an_agents_export_is_held_until_a_lead_approves_and_downloads_once() {
    let Setup { server, workspace, conversation } = setup().await;
    let export = format!("/api/v1/conversations/{conversation}/export?format=txt");

    let (status, body) = workspace.sara.get(&export).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "held: {body}");
    assert_eq!(body["error"]["code"], "export_approval_required");
    let (status, body) = ask(&workspace.sara, conversation, "   ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required: {body}");

    let request = requested(&workspace.sara, conversation).await;
    assert_eq!(request.status, ExportRequestStatus::Pending);
    assert_eq!(
        (request.requester_id, request.inbox_id),
        (workspace.sara.agent.id, workspace.whatsapp.inbox.id)
    );
    let (status, _) = workspace.sara.get(&format!("/api/v1/export-requests/{}/download", request.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not downloadable while pending");

    // The lead of the inbox's team sees it pending and approves it.
    let (status, pending) = workspace.lena.get("/api/v1/export-requests?pending=true").await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    let pending: Vec<ExportRequest> = serde_json::from_value(pending).expect("list");
    assert_eq!(pending.iter().map(|r| r.id).collect::<Vec<_>>(), vec![request.id]);
    assert_eq!(pending[0].reason, "The customer asked for a copy of our chat");
    let (status, body) = decide(&workspace.lena, request.id, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let approved: ExportRequest = serde_json::from_value(body).expect("request");
    assert_eq!(approved.status, ExportRequestStatus::Approved);
    assert_eq!(approved.decided_by, Some(workspace.lena.agent.id));
    assert_eq!(approved.expires_at, Some(approved.decided_at.expect("decided") + 24 * HOUR));
    let (status, _) = decide(&workspace.lena, request.id, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "a decision is final");

    // Someone else can't download it; the requester can, once.
    let download = format!("/api/v1/export-requests/{}/download", request.id);
    let (status, _) = workspace.sam.get(&download).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only the requester downloads");
    let (status, body) = workspace.sara.get(&download).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = body.as_str().expect("the plain-text transcript");
    assert!(text.contains("my order 7731 never came"), "{text}");
    let (status, body) = workspace.sara.get(&download).await;
    assert_eq!(status, StatusCode::GONE, "one time only: {body}");
    assert_eq!(body["error"]["code"], "expired");
    let (_, mine) = workspace.sara.get("/api/v1/export-requests").await;
    assert_eq!(mine[0]["status"], "downloaded");
    // Approval is per request: the direct export stays held.
    let (status, _) = workspace.sara.get(&export).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let steps: Vec<String> = actions(&server, "export.").await.into_iter().map(|row| row.action).collect();
    assert_eq!(
        steps,
        ["export.requested", "export.approved", "export.transcript"],
        "every step recorded once"
    );
    let rows = actions(&server, "export.").await;
    assert_eq!(rows[0].actor_id, Some(workspace.sara.agent.id));
    assert_eq!(rows[0].changes["reason"][1], "The customer asked for a copy of our chat");
    assert_eq!(rows[1].actor_id, Some(workspace.lena.agent.id));
    assert_eq!(rows[2].changes["filters"][1]["export_request_id"], json!(request.id));
}

#[tokio::test]
async fn a_declined_request_is_never_downloadable_and_an_approval_expires_after_a_day() {
    let Setup { server, workspace, conversation } = setup().await;
    let declined = requested(&workspace.sara, conversation).await;
    let (status, body) = decide(&server.admin, declined.id, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "declined");
    assert_eq!(body["note"], "ok");
    let (status, _) = workspace.sara.get(&format!("/api/v1/export-requests/{}/download", declined.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "declined");

    let late = requested(&workspace.sara, conversation).await;
    let (status, _) = decide(&workspace.lena, late.id, true).await;
    assert_eq!(status, StatusCode::OK);
    server.clock.advance(24 * HOUR + 1);
    let (_, mine) = workspace.sara.get("/api/v1/export-requests").await;
    let listed: Vec<ExportRequest> = serde_json::from_value(mine).expect("list");
    assert_eq!(listed.iter().find(|r| r.id == late.id).map(|r| r.status), Some(ExportRequestStatus::Expired));
    let download = format!("/api/v1/export-requests/{}/download", late.id);
    let (status, body) = workspace.sara.get(&download).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "expired");
    let (status, _) = workspace.sara.get(&download).await;
    assert_eq!(status, StatusCode::GONE, "still expired");

    let steps: Vec<String> = actions(&server, "export.").await.into_iter().map(|row| row.action).collect();
    assert_eq!(
        steps,
        ["export.requested", "export.declined", "export.requested", "export.approved", "export.expired"],
        "the expiry is recorded once and nothing was exported"
    );
}

#[tokio::test]
async fn who_may_ask_decide_and_see_requests() {
    let Setup { server, workspace, conversation } = setup().await;
    // A lead's and an admin's own exports are not held, and they have nothing to ask.
    for session in [&workspace.lena, &server.admin] {
        let (status, body) = session.get(&format!("/api/v1/conversations/{conversation}/export")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = ask(session, conversation, "for the records").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no approval needed");
    }
    // An agent of an inbox that does not hold exports exports directly.
    let email = server.inbound(&workspace.email, "Otto", "otto-1", "hello").await.conversation_id;
    let (status, _) = workspace.carl.get(&format!("/api/v1/conversations/{email}/export")).await;
    assert_eq!(status, StatusCode::OK);
    // Nobody asks about a conversation they can't see.
    let (status, body) = ask(&workspace.carl, conversation, "curious").await;
    assert!(
        matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "carl does not see the WhatsApp inbox: {status} {body}"
    );

    let request = requested(&workspace.sara, conversation).await;
    // Agents don't decide, not even their own; a lead outside the inbox's teams doesn't see it.
    let (status, _) = decide(&workspace.sam, request.id, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = decide(&workspace.sara, request.id, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server
        .admin
        .ok(
            "/api/v1/agents",
            json!({"name": "Lars Lead", "email": "lars@test.example", "role": "lead", "password": PASSWORD, "team_ids": []}),
        )
        .await;
    let lars = server.login("lars@test.example").await;
    let (status, _) = decide(&lars, request.id, true).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a lead who doesn't see the inbox");
    let (_, seen) = lars.get("/api/v1/export-requests").await;
    assert_eq!(seen, json!([]));
    // Other agents see only their own requests; the admin sees all.
    let (_, seen) = workspace.sam.get("/api/v1/export-requests").await;
    assert_eq!(seen, json!([]));
    let (_, seen) = server.admin.get("/api/v1/export-requests?pending=true").await;
    assert_eq!(seen.as_array().map(Vec::len), Some(1));
    // Only an admin sets the inbox's rule, and the change is audited.
    let (status, _) = workspace
        .lena
        .request(
            Method::PATCH,
            &format!("/api/v1/inboxes/{}", workspace.whatsapp.inbox.id),
            Some(json!({"exports_need_approval": false})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let rows = actions(&server, "inbox.").await;
    assert!(
        rows.iter().any(|row| row.changes["exports_need_approval"] == json!([false, true])),
        "the setting's change is in the trail: {:?}",
        rows.iter().map(|r| &r.changes).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn only_an_admin_requires_a_lock_time_and_every_agent_reads_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, body) = workspace.sara.get("/api/v1/settings/lock").await;
    assert_eq!((status, body), (StatusCode::OK, json!({"max_idle_minutes": null})));

    for session in [&workspace.sara, &workspace.lena] {
        let (status, _) =
            session.request(Method::PUT, "/api/v1/settings/lock", Some(json!({"max_idle_minutes": 5}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only an admin");
    }
    for bad in [json!({"max_idle_minutes": 0}), json!({"max_idle_minutes": 1441}), json!({"minutes": 5})] {
        let (status, body) =
            server.admin.request(Method::PUT, "/api/v1/settings/lock", Some(bad.clone())).await;
        assert!(status.is_client_error(), "{bad} refused: {body}");
    }
    let (status, body) = server
        .admin
        .request(Method::PUT, "/api/v1/settings/lock", Some(json!({"max_idle_minutes": 5})))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"max_idle_minutes": 5})));
    let (_, body) = workspace.sara.get("/api/v1/settings/lock").await;
    assert_eq!(body, json!({"max_idle_minutes": 5}), "agents read the requirement");
    // It is an entity of the feed too, for everyone: a running app applies a change at once, and
    // a fresh device has it in its first snapshot.
    let lock_in = |changes: &[Change]| apply(changes).get(&(EntityKind::LockPolicy, LOCK_POLICY_ID)).cloned();
    for session in [&workspace.sara, &workspace.lena] {
        let fed = lock_in(&session.sync(0, 1000).await.changes);
        assert_eq!(fed, Some(json!({"max_idle_minutes": 5})), "on the feed for {}", session.agent.name);
        let snapshot = lock_in(&session.bootstrap().await);
        assert_eq!(snapshot, Some(json!({"max_idle_minutes": 5})), "in the snapshot");
    }
    // The same again changes nothing and records nothing; lifting it is recorded.
    server.admin.request(Method::PUT, "/api/v1/settings/lock", Some(json!({"max_idle_minutes": 5}))).await;
    server.admin.request(Method::PUT, "/api/v1/settings/lock", Some(json!({"max_idle_minutes": null}))).await;
    let rows = actions(&server, "settings.lock").await;
    let changes: Vec<&Value> = rows.iter().map(|row| &row.changes["max_idle_minutes"]).collect();
    assert_eq!(changes, [&json!([null, 5]), &json!([5, null])]);
    assert!(rows.iter().all(|row| row.actor_id == Some(server.admin.agent.id)));
    let (_, body) = workspace.sara.get("/api/v1/settings/lock").await;
    assert_eq!(body, json!({"max_idle_minutes": null}));
    let lifted = lock_in(&workspace.sara.sync(0, 1000).await.changes);
    assert_eq!(lifted, Some(json!({"max_idle_minutes": null})), "a lifted maximum is fed as such");
}
