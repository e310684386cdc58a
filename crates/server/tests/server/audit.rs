//! The audit trail against the design's checks (U1, U3–U6, U10, U14): one row per change in its
//! transaction, sign-ins, exports, the hash chain and its verifier (API and command), append-only
//! storage, refusals recorded, and no secret in any row.

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchboard_proto::audit::*;

use crate::harness::*;

async fn trail(server: &TestServer) -> Vec<AuditEntry> {
    let (status, body) = server.admin.get("/api/v1/audit?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "audit: {body}");
    let mut rows: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    rows.reverse();
    rows
}

fn of<'a>(rows: &'a [AuditEntry], action: &str) -> Vec<&'a AuditEntry> {
    rows.iter().filter(|row| row.action == action).collect()
}

async fn login_raw(server: &TestServer, email: &str, password: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": email, "password": password, "device_name": "test"}))
        .send()
        .await
        .expect("login")
        .status()
}

#[tokio::test]
async fn u1_each_change_writes_one_row_with_before_and_after_and_a_refused_one_none() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let before = trail(&server).await.len();
    let sara = workspace.sara.agent.id;
    let (code, _) = server
        .admin
        .request(Method::PATCH, &format!("/api/v1/agents/{sara}"), Some(json!({"role": "lead"})))
        .await;
    assert_eq!(code, StatusCode::OK);
    let rows = trail(&server).await;
    assert_eq!(rows.len(), before + 1, "one row for one change");
    let row = rows.last().expect("a row");
    assert_eq!(
        (row.action.as_str(), row.target_id, row.actor_id),
        ("agent.update", Some(sara), Some(server.admin.agent.id))
    );
    assert_eq!(row.changes, json!({"role": ["agent", "lead"]}), "only what changed, before and after");

    // A refused change leaves neither the change nor a row.
    let inbox = workspace.whatsapp.inbox.id;
    let bad = json!({"hours": {"time_zone": "Mars/Olympus", "weekly": {}}});
    let (code, _) =
        workspace.lena.request(Method::PATCH, &format!("/api/v1/inboxes/{inbox}"), Some(bad)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(trail(&server).await.len(), before + 1);

    // Rules and SLA policies, by a lead, with the rule's version in the row.
    let rule = workspace
        .lena
        .ok(
            "/api/v1/automation-rules",
            json!({"name": "Tag", "trigger": {"type": "event", "events": ["message_received"]},
            "actions": [{"type": "add_labels", "labels": ["vip"]}]}),
        )
        .await;
    workspace.lena.ok("/api/v1/sla-policies", json!({"name": "Fast", "first_response_secs": 60})).await;
    let rows = trail(&server).await;
    let created = of(&rows, "automation_rule.create");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].actor_id, Some(workspace.lena.agent.id));
    assert_eq!(created[0].changes["version"], json!([null, 1]));
    assert_eq!(created[0].target_id.map(|id| id.to_string()), rule["id"].as_str().map(str::to_owned));
    assert_eq!(of(&rows, "sla_policy.create").len(), 1);
}

#[tokio::test]
async fn u3_sign_ins_are_recorded_and_a_failure_looks_the_same_for_any_reason() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    assert_eq!(login_raw(&server, "sara@test.example", "wrong password").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_raw(&server, "nobody@test.example", "wrong password").await, StatusCode::UNAUTHORIZED);
    let rows = trail(&server).await;
    let failed = of(&rows, "auth.login_failed");
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].actor_label, "sara@test.example");
    assert_eq!(failed[1].actor_label, "nobody@test.example");
    assert!(failed.iter().all(|row| row.actor_id.is_none() && row.ip.as_deref() == Some("127.0.0.1")));
    let logins = of(&rows, "auth.login");
    let sara =
        logins.iter().find(|row| row.actor_id == Some(workspace.sara.agent.id)).expect("Sara's sign-in");
    assert_eq!(sara.device_id, Some(workspace.sara.device_id));
}

#[tokio::test]
async fn u4_u10_exports_are_recorded_with_their_filters_and_a_refusal_too() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let id = server.inbound(&workspace.whatsapp, "u4", "u4", "hi").await.conversation_id;
    let (code, _) = workspace.sara.get(&format!("/api/v1/conversations/{id}/export?format=txt")).await;
    assert_eq!(code, StatusCode::OK);
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/reports/summary?from=2020-01-01&to=2020-02-01&group_by=agent&format=csv",
            server.base
        ))
        .bearer_auth(&workspace.lena.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), StatusCode::OK);
    let (code, _) = workspace.sara.get("/api/v1/audit").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "agents don't read the trail");

    let rows = trail(&server).await;
    let transcript = of(&rows, "export.transcript");
    assert_eq!(transcript.len(), 1);
    assert_eq!(transcript[0].changes["filters"][1]["conversation_id"], json!(id));
    let report = of(&rows, "export.report");
    assert_eq!((report.len(), report[0].actor_id), (1, Some(workspace.lena.agent.id)));
    assert_eq!(report[0].changes["filters"][1]["group_by"], "agent");
    let denied = of(&rows, "permission.denied");
    assert_eq!((denied.len(), denied[0].actor_id), (1, Some(workspace.sara.agent.id)));
    // A cursor anywhere, however extreme, pages without failing.
    for before in [i64::MIN, -1, 0, 1, i64::MAX] {
        let (code, rows) = server.admin.get(&format!("/api/v1/audit?before={before}&limit=0")).await;
        assert_eq!(code, StatusCode::OK, "before={before}: {rows}");
    }
    // Filtering by a prefix.
    let (_, auth) = server.admin.get("/api/v1/audit?action=export.").await;
    assert_eq!(auth.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn u5_u6_u14_the_chain_verifies_refuses_rewrites_finds_tampering_and_holds_no_secret() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (code, verdict) = server.admin.get("/api/v1/audit/verify").await;
    assert_eq!(code, StatusCode::OK);
    let verdict: AuditVerification = serde_json::from_value(verdict).expect("verdict");
    assert!(verdict.ok && verdict.rows >= 10, "{verdict:?}");
    let (code, _) = server.admin.request(Method::DELETE, "/api/v1/audit", None).await;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED, "no route writes the trail");

    // U14: no password, token or signing secret anywhere in it.
    let rows = trail(&server).await;
    let text = serde_json::to_string(&rows).expect("json");
    for secret in [PASSWORD, workspace.sara.token.as_str(), workspace.whatsapp.signing_secret.as_str()] {
        assert!(!text.contains(secret), "a secret in the trail");
    }

    if !matches!(test_config(server.data_dir.path()).backend, switchboard_server::Backend::Sqlite) {
        return; // The storage-level checks below open the SQLite file itself.
    }
    let database = server.data_dir.path().join("switchboard.db");
    let connection = rusqlite::Connection::open(&database).expect("open");
    let update = connection.execute("UPDATE audit_events SET data = data WHERE seq = 3", []);
    assert!(update.is_err(), "the trigger refuses an update");
    assert!(connection.execute("DELETE FROM audit_events WHERE seq = 3", []).is_err(), "and a delete");
    // Someone with the file drops the trigger and edits row 3: the verifier finds it.
    connection.execute("DROP TRIGGER audit_events_no_update", []).expect("drop");
    connection
        .execute(
            "UPDATE audit_events SET data = json_set(data, '$.actor_label', 'Mallory') WHERE seq = 3",
            [],
        )
        .expect("tamper");
    let (_, verdict) = server.admin.get("/api/v1/audit/verify").await;
    let verdict: AuditVerification = serde_json::from_value(verdict).expect("verdict");
    assert_eq!((verdict.ok, verdict.first_bad_seq, verdict.rows), (false, Some(3), 2));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .args(["audit", "verify", "--data-dir"])
        .arg(server.data_dir.path())
        .env_remove("SWITCHBOARD_DATABASE_URL")
        .output()
        .expect("the command runs");
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains("broken at row 3"));
}

#[tokio::test]
async fn the_export_is_the_whole_filtered_trail_oldest_first_and_is_recorded() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (code, _) = workspace.sara.get("/api/v1/audit/export").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "agents don't export the trail");

    let before = trail(&server).await;
    let (code, body) = server.admin.get("/api/v1/audit/export").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let exported: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    // Everything there was, in order, hashes and all, then the export's own row.
    let (own, earlier) = exported.split_last().expect("rows");
    let seqs = |rows: &[AuditEntry]| rows.iter().map(|row| row.seq).collect::<Vec<_>>();
    // Sara's refusal is a row like any other.
    let refused = of(&exported, "permission.denied");
    assert!(refused.iter().any(|row| row.actor_id == Some(workspace.sara.agent.id)), "{refused:?}");
    assert_eq!(seqs(&earlier[..before.len()]), seqs(&before));
    assert_eq!(earlier[..before.len()], before[..], "the rows themselves, hashes included");
    assert_eq!(seqs(&exported), (1..=exported.len() as i64).collect::<Vec<_>>(), "no gap");
    assert_eq!((own.action.as_str(), own.actor_id), ("export.audit", Some(server.admin.agent.id)));

    // Filtered: only the matching rows, and the filters are what the trail records.
    let (_, body) = server.admin.get("/api/v1/audit/export?action=auth.").await;
    let sign_ins: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    assert!(!sign_ins.is_empty());
    assert!(sign_ins.iter().all(|row| row.action.starts_with("auth.")), "{sign_ins:?}");
    let exports = of(&trail(&server).await, "export.audit").into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[1].changes["filters"][1]["action"], "auth.");
    let (_, verdict) = server.admin.get("/api/v1/audit/verify").await;
    assert_eq!(verdict["ok"], true, "exporting keeps the chain whole");
}
