//! The audit trail against the design's checks (U1–U6, U10, U11, U13–U15): one row per change in
//! its transaction, conversation actions with who did them (routing, a rule at its version, an
//! agent) and a bulk action's shared id, sign-ins, exports, filters by action, actor type and
//! time, the hash chain and its verifier (API and command, tampering on both backends),
//! append-only storage, refusals recorded, no secret in any row, nothing on the feed, an
//! erased contact's actions kept without their text, a row for every kind of change the issue
//! names, and rows removed from the end found against a head recorded earlier.

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchboard_proto::{
    audit::*,
    ledger::{ConversationEvent, EventKind},
    *,
};

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

/// The newest row of an action, which the test has just caused.
fn newest(rows: &[AuditEntry], action: &str) -> AuditEntry {
    rows.iter().rev().find(|row| row.action == action).cloned().unwrap_or_else(|| panic!("no {action} row"))
}

/// Every kind of change the issue names writes its row, saying what changed: membership (a
/// team's, an inbox's, an agent's teams), a deactivation, one device revoked, an inbox made and
/// its hours and connector changed (a secret only as `[redacted]`, never its value), a rule and an
/// SLA policy edited and deleted, and a team-wide canned response made, edited and deleted (a
/// personal one is its owner's, with no row).
#[tokio::test]
async fn every_kind_of_change_the_issue_names_writes_its_row() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let admin = &server.admin;
    let (sara, sam, carl) = (workspace.sara.agent.id, workspace.sam.agent.id, workspace.carl.agent.id);
    let patch = |path: String, body: serde_json::Value| async move {
        let (code, answer) = admin.request(Method::PATCH, &path, Some(body)).await;
        assert_eq!(code, StatusCode::OK, "{path}: {answer}");
        answer
    };

    // Membership: a team made with a member and given another; an inbox's members; an agent's teams.
    let team = admin.ok("/api/v1/teams", json!({"name": "Night", "member_agent_ids": [sara]})).await;
    let team_id: Id = serde_json::from_value(team["id"].clone()).expect("team id");
    assert_eq!(
        newest(&trail(&server).await, "team.create").changes["member_agent_ids"],
        json!([null, [sara]])
    );
    patch(format!("/api/v1/teams/{team_id}"), json!({"member_agent_ids": [sara, sam]})).await;
    let row = newest(&trail(&server).await, "team.update");
    assert_eq!((row.target_id, &row.changes["member_agent_ids"][1]), (Some(team_id), &json!([sara, sam])));
    let inbox = workspace.whatsapp.inbox.id;
    patch(format!("/api/v1/inboxes/{inbox}"), json!({"member_agent_ids": [carl]})).await;
    let row = newest(&trail(&server).await, "inbox.update");
    assert_eq!((row.target_id, &row.changes["member_agent_ids"][1]), (Some(inbox), &json!([carl])));
    patch(format!("/api/v1/agents/{carl}"), json!({"team_ids": [team_id]})).await;
    let row = newest(&trail(&server).await, "agent.update");
    assert_eq!((row.target_id, &row.changes["team_ids"][1]), (Some(carl), &json!([team_id])));

    // A deactivation, and one device revoked.
    patch(format!("/api/v1/agents/{carl}"), json!({"active": false})).await;
    let row = newest(&trail(&server).await, "agent.update");
    assert_eq!((row.target_id, &row.changes["active"]), (Some(carl), &json!([true, false])));
    let laptop = server.login("sam@test.example").await;
    let path = format!("/api/v1/devices/{}", laptop.device_id);
    assert_eq!(admin.request(Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    let row = newest(&trail(&server).await, "device.revoke");
    assert_eq!((row.target_id, row.actor_id), (Some(laptop.device_id), Some(admin.agent.id)));

    // An inbox made with a connector, then only its connector changed, then its hours.
    let connector = |phone: &str, token: &str| {
        json!({"kind": "whatsapp", "phone_number_id": phone, "access_token": token,
            "app_secret": "app-secret-value", "verify_token": "verify-token-value",
            "graph_base_url": "http://127.0.0.1:9"})
    };
    let created =
        admin.ok("/api/v1/inboxes", json!({"name": "WA 2", "channel": "whatsapp", "connector": connector("111", "first-token-value")})).await;
    let wa2: Id = serde_json::from_value(created["inbox"]["id"].clone()).expect("inbox id");
    let row = newest(&trail(&server).await, "inbox.create");
    assert_eq!(row.target_id, Some(wa2));
    assert_eq!(row.changes["connector.phone_number_id"], json!([null, "111"]));
    assert_eq!(row.changes["connector.access_token"], json!(["[redacted]", "[redacted]"]));
    patch(format!("/api/v1/inboxes/{wa2}"), json!({"connector": connector("222", "second-token-value")}))
        .await;
    let row = newest(&trail(&server).await, "inbox.update");
    assert_eq!(row.target_id, Some(wa2));
    assert_eq!(row.changes["connector.phone_number_id"], json!(["111", "222"]), "{:?}", row.changes);
    assert_eq!(row.changes["connector.access_token"], json!(["[redacted]", "[redacted]"]));
    assert!(row.changes.get("connector.app_secret").is_none(), "only what changed: {:?}", row.changes);
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let hours = json!({"time_zone": "Europe/Bucharest", "weekly": {"mon": day, "fri": day}});
    patch(format!("/api/v1/inboxes/{wa2}"), json!({"hours": hours})).await;
    let row = newest(&trail(&server).await, "inbox.update");
    assert_eq!((row.target_id, &row.changes["hours"][0]), (Some(wa2), &json!(null)), "{:?}", row.changes);
    assert!(row.changes["hours"][1].to_string().contains("Europe/Bucharest"), "{:?}", row.changes);

    // A rule and an SLA policy, edited and deleted by a lead.
    let lena = &workspace.lena;
    let rule_input = |name: &str| {
        json!({"name": name, "trigger": {"type": "event", "events": ["message_received"]},
            "actions": [{"type": "add_labels", "labels": ["vip"]}]})
    };
    let rule = lena.ok("/api/v1/automation-rules", rule_input("Tag")).await;
    let rule_path = format!("/api/v1/automation-rules/{}", rule["id"].as_str().expect("rule id"));
    assert_eq!(lena.request(Method::PUT, &rule_path, Some(rule_input("Tag VIPs"))).await.0, StatusCode::OK);
    let row = newest(&trail(&server).await, "automation_rule.update");
    assert_eq!(
        (&row.changes["name"], &row.changes["version"]),
        (&json!(["Tag", "Tag VIPs"]), &json!([1, 2]))
    );
    let second = lena.ok("/api/v1/automation-rules", rule_input("Tag again")).await;
    let order = json!({"ids": [second["id"], rule["id"]]});
    let (status, _) = lena.request(Method::PUT, "/api/v1/automation-rules/order", Some(order)).await;
    assert_eq!(status, StatusCode::OK);
    let row = newest(&trail(&server).await, "automation_rule.order");
    let names = |side: usize| -> Vec<serde_json::Value> {
        row.changes["order"][side].as_array().expect("the order").iter().map(|r| r["name"].clone()).collect()
    };
    assert_eq!(
        (names(0), names(1)),
        (vec![json!("Tag VIPs"), json!("Tag again")], vec![json!("Tag again"), json!("Tag VIPs")])
    );
    assert_eq!(row.actor_id, Some(lena.agent.id));
    let second_path = format!("/api/v1/automation-rules/{}", second["id"].as_str().expect("rule id"));
    assert_eq!(lena.request(Method::DELETE, &second_path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(lena.request(Method::DELETE, &rule_path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(newest(&trail(&server).await, "automation_rule.delete").actor_id, Some(lena.agent.id));
    let policy = lena.ok("/api/v1/sla-policies", json!({"name": "Fast", "first_response_secs": 60})).await;
    let policy_path = format!("/api/v1/sla-policies/{}", policy["id"].as_str().expect("policy id"));
    let faster = json!({"name": "Faster", "first_response_secs": 30});
    assert_eq!(lena.request(Method::PUT, &policy_path, Some(faster)).await.0, StatusCode::OK);
    let row = newest(&trail(&server).await, "sla_policy.update");
    assert_eq!(row.changes["name"], json!(["Fast", "Faster"]), "{:?}", row.changes);
    assert_eq!(lena.request(Method::DELETE, &policy_path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(newest(&trail(&server).await, "sla_policy.delete").actor_id, Some(lena.agent.id));

    // A team-wide canned response, made, edited and deleted; a personal one writes nothing.
    let canned = lena
        .ok("/api/v1/canned-responses", json!({"short_code": "hello", "title": "Hello", "body": "Hi there"}))
        .await;
    let canned_path = format!("/api/v1/canned-responses/{}", canned["id"].as_str().expect("canned id"));
    assert_eq!(
        newest(&trail(&server).await, "canned_response.create").changes["body"],
        json!([null, "Hi there"])
    );
    let (code, _) = lena.request(Method::PATCH, &canned_path, Some(json!({"body": "Hello there"}))).await;
    assert_eq!(code, StatusCode::OK);
    let row = newest(&trail(&server).await, "canned_response.update");
    assert_eq!(row.changes, json!({"body": ["Hi there", "Hello there"]}));
    let code = lena.request(Method::DELETE, &canned_path, None).await.0;
    assert!(code.is_success(), "{code}");
    assert_eq!(newest(&trail(&server).await, "canned_response.delete").target_label, "hello");
    let before = trail(&server).await.len();
    workspace
        .sara
        .ok(
            "/api/v1/canned-responses",
            json!({"short_code": "mine", "title": "Mine", "body": "x", "personal": true}),
        )
        .await;
    assert_eq!(trail(&server).await.len(), before, "a personal canned response is its owner's");

    // No secret's value in any row, and the chain holds.
    let all = serde_json::to_string(&trail(&server).await).expect("json");
    for secret in ["first-token-value", "second-token-value", "app-secret-value", "verify-token-value"] {
        assert!(!all.contains(secret), "{secret} is in the trail");
    }
    assert!(verdict(&server).await.ok);
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

// Conversation actions (issue 20; design U2, U11, U13, U15): each action's ledger event has its
// row in the trail, written by `ledger::append` in the event's transaction.

/// The trail's rows of one conversation.
fn about(rows: &[AuditEntry], conversation: Id) -> Vec<&AuditEntry> {
    rows.iter()
        .filter(|row| row.target_type == "conversation" && row.target_id == Some(conversation))
        .collect()
}

async fn ledger_of(server: &TestServer, conversation: Id) -> Vec<ConversationEvent> {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("events")
}

async fn act(session: &Session, conversation: Id, action: &str, body: serde_json::Value) {
    let (status, body) = session.post(&format!("/api/v1/conversations/{conversation}/{action}"), body).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
}

async fn verdict(server: &TestServer) -> AuditVerification {
    let (status, body) = server.admin.get("/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("verdict")
}

#[tokio::test]
async fn u2_router_rule_and_agent_assignments_are_rows_naming_who_and_the_rules_version() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (sara, sam) = (workspace.sara.agent.id, workspace.sam.agent.id);
    // Routing: one agent online and connected on a least-loaded inbox.
    let router0 = crate::routing::agent(&server, "router0", None).await;
    let routed = crate::routing::routed_inbox(&server, "Routed", "least_loaded", &[router0.agent.id]).await;
    crate::routing::set_availability(&router0, "online").await;
    let mut stream = open_stream(&router0, server.head().await).await;
    crate::presence::hears_online(&mut stream, &[router0.agent.id]).await;
    // A rule hands WhatsApp's new conversations to Sara.
    let rule = server
        .admin
        .ok(
            "/api/v1/automation-rules",
            json!({"name": "To Sara", "trigger": {"type": "event", "events": ["message_received"]},
                "conditions": {"inbox": [workspace.whatsapp.inbox.id]},
                "actions": [{"type": "assign_agent", "agent_id": sara}]}),
        )
        .await;
    let rule_id: Id = serde_json::from_value(rule["id"].clone()).expect("rule id");

    let by_router = server.inbound(&routed, "u2-routed", "u2-r", "hello").await.conversation_id;
    let by_rule = server.inbound(&workspace.whatsapp, "u2-rule", "u2-w", "hello").await.conversation_id;
    let body = json!({"client_id": Id::new_v4(), "assignee_id": sam});
    act(&workspace.sara, by_rule, "assign", body).await;

    let rows = trail(&server).await;
    let routed_rows = about(&rows, by_router);
    assert_eq!(routed_rows.len(), 1, "{routed_rows:?}");
    let row = routed_rows[0];
    assert_eq!(
        (row.action.as_str(), row.actor_type(), row.actor_id),
        ("conversation.assign", "routing", None)
    );
    assert_eq!(row.changes["assignee_id"], json!([null, router0.agent.id]));

    let rule_rows = about(&rows, by_rule);
    assert_eq!(rule_rows.len(), 2, "{rule_rows:?}");
    let (by_the_rule, by_sara) = (rule_rows[0], rule_rows[1]);
    assert_eq!(
        (by_the_rule.action.as_str(), by_the_rule.actor_type(), by_the_rule.actor_id),
        ("conversation.assign", "rule", Some(rule_id))
    );
    assert_eq!(by_the_rule.actor_label, "To Sara @1", "the rule's name and the version that ran");
    assert_eq!(by_the_rule.changes["assignee_id"], json!([null, sara]));
    assert_eq!(
        (by_sara.actor_type(), by_sara.actor_id, by_sara.actor_label.as_str()),
        ("agent", Some(sara), "Sara Karimi")
    );
    assert_eq!(by_sara.changes["assignee_id"], json!([sara, sam]));
    assert_eq!(by_sara.changes["reason"], json!([null, "assign"]));
    // One row per assignment the ledger holds, and no more.
    for conversation in [by_router, by_rule] {
        let assigned = ledger_of(&server, conversation)
            .await
            .iter()
            .filter(|event| matches!(event.event, EventKind::Assigned { .. }))
            .count();
        assert_eq!(assigned, about(&rows, conversation).len(), "rows and ledger events agree");
    }
    // The actor type is a filter.
    let (_, body) = server.admin.get("/api/v1/audit?action=conversation.&actor_type=rule").await;
    let by_rules: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    assert_eq!(by_rules.iter().map(|row| row.target_id).collect::<Vec<_>>(), vec![Some(by_rule)]);
    assert!(verdict(&server).await.ok);
}

#[tokio::test]
async fn u11_bulk_resolving_50_writes_50_rows_sharing_one_bulk_id_and_50_ledger_events() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let mut conversations = Vec::new();
    for n in 0..51 {
        let contact = format!("u11-{n}");
        conversations
            .push(server.inbound(&workspace.whatsapp, &contact, &contact, "hi").await.conversation_id);
    }
    let bulk_id = Id::new_v4();
    let (alone, bulk) = conversations.split_last().expect("conversations");
    for conversation in bulk {
        let body = json!({"client_id": Id::new_v4(), "status": "resolved", "bulk_id": bulk_id});
        act(&workspace.sara, *conversation, "status", body).await;
    }
    act(&workspace.sara, *alone, "status", json!({"client_id": Id::new_v4(), "status": "resolved"})).await;

    let (_, body) = server.admin.get("/api/v1/audit?action=conversation.status&limit=1000").await;
    let rows: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    let in_bulk: Vec<&AuditEntry> = rows.iter().filter(|row| row.bulk_id == Some(bulk_id)).collect();
    assert_eq!(in_bulk.len(), 50);
    let mut targets: Vec<Id> = in_bulk.iter().filter_map(|row| row.target_id).collect();
    targets.sort();
    let mut expected = bulk.to_vec();
    expected.sort();
    assert_eq!(targets, expected, "one row per conversation of the bulk action");
    assert!(in_bulk.iter().all(|row| row.actor_id == Some(workspace.sara.agent.id)
        && row.changes["status"] == json!(["open", "resolved"])));
    let single = about(&rows, *alone);
    assert_eq!((single.len(), single[0].bulk_id), (1, None), "a single action is no bulk");
    // And 50 status events in the ledger, one per conversation.
    let mut events = 0;
    for conversation in bulk {
        events += ledger_of(&server, *conversation)
            .await
            .iter()
            .filter(|event| matches!(event.event, EventKind::Status { to: ConversationStatus::Resolved, .. }))
            .count();
    }
    assert_eq!(events, 50);
    assert!(verdict(&server).await.ok);
}

#[tokio::test]
async fn u13_conversation_assign_in_a_time_range_is_exactly_the_matching_rows_in_list_and_export() {
    use switchboard_server::Clock;
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (sara, sam) = (workspace.sara.agent.id, workspace.sam.agent.id);
    let mut conversations = Vec::new();
    for n in 0..3 {
        let contact = format!("u13-{n}");
        conversations
            .push(server.inbound(&workspace.whatsapp, &contact, &contact, "hi").await.conversation_id);
    }
    let assign = |to: Id| json!({"client_id": Id::new_v4(), "assignee_id": to});
    act(&workspace.sara, conversations[0], "assign", assign(sara)).await;
    server.clock.advance(3_600_000);
    let from = server.clock.now();
    act(&workspace.sara, conversations[1], "assign", assign(sam)).await;
    act(
        &workspace.sara,
        conversations[1],
        "priority",
        json!({"client_id": Id::new_v4(), "priority": "high"}),
    )
    .await;
    act(&workspace.sam, conversations[2], "assign", assign(sam)).await;
    server.clock.advance(3_600_000);
    let to = server.clock.now();
    act(&workspace.sara, conversations[0], "assign", assign(sam)).await;

    let path = format!("action=conversation.assign&from={from}&to={to}");
    let (status, body) = server.admin.get(&format!("/api/v1/audit?{path}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    let targets =
        |rows: &[AuditEntry]| rows.iter().map(|row| (row.target_id, row.actor_id)).collect::<Vec<_>>();
    // Newest first: Sam's claim, then Sara's assignment to Sam.
    assert_eq!(
        targets(&listed),
        vec![(Some(conversations[2]), Some(sam)), (Some(conversations[1]), Some(sara))]
    );
    assert!(listed.iter().all(|row| row.at >= from && row.at < to && row.action == "conversation.assign"));
    // Narrowed to one actor.
    let (_, body) = server.admin.get(&format!("/api/v1/audit?{path}&actor_id={sara}")).await;
    let saras: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    assert_eq!(targets(&saras), vec![(Some(conversations[1]), Some(sara))]);
    // The export: the same rows, oldest first, and the filters recorded.
    let (status, body) = server.admin.get(&format!("/api/v1/audit/export?{path}&actor_type=agent")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut exported: Vec<AuditEntry> = serde_json::from_value(body).expect("rows");
    exported.reverse();
    assert_eq!(exported, listed);
    let rows = trail(&server).await;
    let export = of(&rows, "export.audit");
    assert_eq!(export[0].changes["filters"][1]["from"], json!(from));
    assert_eq!(export[0].changes["filters"][1]["actor_type"], "agent");
}

#[tokio::test]
async fn u15_conversation_action_rows_never_reach_sync_or_the_stream_of_any_role() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "u15", "u15", "hi").await.conversation_id;
    let head = server.head().await;
    let mut sockets = Vec::new();
    for session in [&server.admin, &workspace.lena, &workspace.sara] {
        sockets.push(open_stream(session, head).await);
    }
    act(
        &workspace.sara,
        conversation,
        "assign",
        json!({"client_id": Id::new_v4(), "assignee_id": workspace.sara.agent.id}),
    )
    .await;
    act(&workspace.sara, conversation, "labels", json!({"client_id": Id::new_v4(), "add": ["vip"]})).await;
    let rows = trail(&server).await;
    let ours = about(&rows, conversation);
    assert_eq!(ours.len(), 2, "{ours:?}");
    let hashes: Vec<&str> = ours.iter().map(|row| row.hash.as_str()).collect();
    let leaks = |text: &str| text.contains("prev_hash") || hashes.iter().any(|hash| text.contains(hash));
    // The stream: every frame up to the labelled conversation.
    for socket in &mut sockets {
        loop {
            let frame = next_frame(socket).await.expect("a frame");
            let text = serde_json::to_string(&frame).expect("json");
            assert!(!leaks(&text), "an audit row on the stream: {text}");
            if text.contains("\"vip\"") && text.contains(&conversation.to_string()) {
                break;
            }
        }
    }
    // The feed, from the start, for every role.
    for session in [&server.admin, &workspace.lena, &workspace.sara] {
        let mut since = 0;
        loop {
            let page = session.sync(since, 1000).await;
            let text = serde_json::to_string(&page.changes).expect("json");
            assert!(!leaks(&text), "an audit row in /sync");
            since = page.next;
            if !page.has_more {
                break;
            }
        }
    }
}

/// Runs SQL against the test server's database as someone holding the file (or a superuser):
/// the triggers set aside first.
fn tamper(server: &TestServer, sqlite: &str, postgres: &str) {
    match test_config(server.data_dir.path()).backend {
        switchboard_server::Backend::Sqlite => {
            let connection =
                rusqlite::Connection::open(server.data_dir.path().join("switchboard.db")).expect("open");
            connection
                .execute_batch(&format!(
                    "DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete; {sqlite}"
                ))
                .expect("tamper");
        }
        switchboard_server::Backend::Postgres { url } => {
            let (url, sql) = (url.expose().to_owned(), postgres.to_owned());
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                client
                    .batch_execute(&format!(
                        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only; {sql}"
                    ))
                    .expect("tamper");
            })
            .join()
            .expect("database thread");
        }
    }
}

/// `switchboard-server audit verify` on this server's database: its exit code and what it said.
fn verify_command(server: &TestServer) -> (Option<i32>, String) {
    verify_command_with(server, &[])
}

/// [`verify_command`] with more arguments (`--expect-head SEQ:HASH`).
fn verify_command_with(server: &TestServer, args: &[&str]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-server"));
    command.args(["audit", "verify", "--data-dir"]).arg(server.data_dir.path()).args(args);
    match test_config(server.data_dir.path()).backend {
        switchboard_server::Backend::Sqlite => command.env_remove("SWITCHBOARD_DATABASE_URL"),
        switchboard_server::Backend::Postgres { url } => {
            command.env("SWITCHBOARD_DATABASE_URL", url.expose())
        }
    };
    let output = command.output().expect("the command runs");
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn an_altered_or_removed_conversation_action_row_is_found_by_the_verifier() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "tamper", "tamper", "hi").await.conversation_id;
    let (sara, sam) = (workspace.sara.agent.id, workspace.sam.agent.id);
    act(&workspace.sara, conversation, "assign", json!({"client_id": Id::new_v4(), "assignee_id": sara}))
        .await;
    act(&workspace.sara, conversation, "priority", json!({"client_id": Id::new_v4(), "priority": "urgent"}))
        .await;
    act(&workspace.sara, conversation, "assign", json!({"client_id": Id::new_v4(), "assignee_id": sam}))
        .await;
    let rows = trail(&server).await;
    let ours = about(&rows, conversation);
    assert_eq!(
        ours.iter().map(|row| row.action.as_str()).collect::<Vec<_>>(),
        ["conversation.assign", "conversation.priority", "conversation.assign"]
    );
    let (altered, removed) = (ours[0].seq, ours[1].seq);
    assert_eq!(verify_command(&server).0, Some(0));

    // Someone rewrites who the conversation went to.
    tamper(
        &server,
        &format!("UPDATE audit_events SET data = json_set(data, '$.changes.assignee_id[1]', '{sam}') WHERE seq = {altered}"),
        &format!("UPDATE audit_events SET data = jsonb_set(data, '{{changes,assignee_id,1}}', '\"{sam}\"') WHERE seq = {altered}"),
    );
    let found = verdict(&server).await;
    assert_eq!((found.ok, found.first_bad_seq), (false, Some(altered)), "{found:?}");
    let (code, said) = verify_command(&server);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(&format!("broken at row {altered}")), "{said}");

    // Put back, it holds again; then the priority change's row goes.
    let original = serde_json::to_string(ours[0]).expect("json").replace('\'', "''");
    tamper(
        &server,
        &format!("UPDATE audit_events SET data = '{original}' WHERE seq = {altered}"),
        &format!("UPDATE audit_events SET data = '{original}'::jsonb WHERE seq = {altered}"),
    );
    assert!(verdict(&server).await.ok, "the original row verifies");
    tamper(
        &server,
        &format!("DELETE FROM audit_events WHERE seq = {removed}"),
        &format!("DELETE FROM audit_events WHERE seq = {removed}"),
    );
    let found = verdict(&server).await;
    assert_eq!((found.ok, found.first_bad_seq), (false, Some(removed)), "{found:?}");
    let (code, said) = verify_command(&server);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(&format!("broken at row {removed}")), "{said}");
}

/// Rows removed from the end of the chain leave nothing in it to show the gap; the head a verify
/// printed, passed back with `--expect-head`, does: its row must still be there, as it was.
#[tokio::test]
async fn rows_removed_from_the_end_are_found_against_the_head_a_verify_printed() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "tail", "tail", "hi").await.conversation_id;
    let set_priority = |priority: &'static str| {
        act(
            &workspace.sara,
            conversation,
            "priority",
            json!({"client_id": Id::new_v4(), "priority": priority}),
        )
    };
    set_priority("urgent").await;
    set_priority("low").await;
    let (code, said) = verify_command(&server);
    assert_eq!(code, Some(0), "{said}");
    let head = said.lines().find_map(|line| line.strip_prefix("head: ")).expect("verify prints its head");
    let head = head.to_owned();
    let newest: i64 = head.split(':').next().and_then(|seq| seq.parse().ok()).expect("SEQ:HASH");
    assert_eq!(newest, trail(&server).await.last().expect("rows").seq, "the head is the newest row");

    // The recorded head holds while nothing changed, and as the trail goes on.
    assert_eq!(verify_command_with(&server, &["--expect-head", &head]).0, Some(0));
    set_priority("high").await;
    assert_eq!(verify_command_with(&server, &["--expect-head", &head]).0, Some(0));

    // The newest rows go, back to before the recorded head: the chain alone still holds.
    let cut = newest - 1;
    let delete = format!("DELETE FROM audit_events WHERE seq >= {cut}");
    tamper(&server, &delete, &delete);
    let (code, said) = verify_command(&server);
    assert_eq!(code, Some(0), "without the head nothing shows the cut: {said}");
    let (code, said) = verify_command_with(&server, &["--expect-head", &head]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(&format!("broken at row {cut}")), "{said}");

    // New rows written where the removed ones were: the head's row is not the one recorded.
    set_priority("medium").await;
    set_priority("urgent").await;
    assert!(trail(&server).await.iter().any(|row| row.seq == newest), "a new row took the head's number");
    let (code, said) = verify_command_with(&server, &["--expect-head", &head]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(&format!("broken at row {newest}")), "{said}");

    // A head that isn't one is refused with a clear error.
    let (code, _) = verify_command_with(&server, &["--expect-head", "12:not-a-hash"]);
    assert_eq!(code, Some(2), "clap refuses a malformed head");
}

#[tokio::test]
async fn an_erased_contacts_conversation_actions_stay_verifiable_and_hold_none_of_their_text() {
    const SECRET: &str = "Zanzibar-7731";
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let contact = format!("erase {SECRET}");
    let inbound =
        server.inbound(&workspace.whatsapp, &contact, "erase-1", &format!("my code is {SECRET}")).await;
    let conversation = inbound.conversation_id;
    let sara = &workspace.sara;
    act(sara, conversation, "assign", json!({"client_id": Id::new_v4(), "assignee_id": sara.agent.id})).await;
    act(sara, conversation, "labels", json!({"client_id": Id::new_v4(), "add": ["vip"]})).await;
    let escalate =
        json!({"client_id": Id::new_v4(), "escalated": true, "note": format!("customer says {SECRET}")});
    act(sara, conversation, "escalation", escalate).await;
    act(sara, conversation, "status", json!({"client_id": Id::new_v4(), "status": "resolved"})).await;
    let before: Vec<AuditEntry> = about(&trail(&server).await, conversation).into_iter().cloned().collect();
    assert_eq!(
        before.iter().map(|row| row.action.as_str()).collect::<Vec<_>>(),
        [
            "conversation.assign",
            "conversation.labels",
            "conversation.escalation",
            "conversation.status",
            // Resolving ends the escalation.
            "conversation.escalation",
        ]
    );
    assert_eq!(before[4].changes["escalated"], json!([true, false]));

    let stored: Conversation = serde_json::from_value(
        apply(&server.admin.bootstrap().await)[&(EntityKind::Conversation, conversation)].clone(),
    )
    .expect("conversation");
    let erase = json!({"confirm": format!("Customer {contact}")});
    let (status, body) =
        server.admin.post(&format!("/api/v1/contacts/{}/erase", stored.contact_id), erase).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The rows stay as they were (the trail is never rewritten), the chain holds, and none of the
    // contact's name, message or the note about them is anywhere in the trail.
    let rows = trail(&server).await;
    let after: Vec<AuditEntry> = about(&rows, conversation).into_iter().cloned().collect();
    assert_eq!(after, before);
    assert!(verdict(&server).await.ok);
    assert_eq!(verify_command(&server).0, Some(0));
    let text = serde_json::to_string(&rows).expect("json");
    assert!(!text.contains(SECRET), "the erased text in the trail");
    assert_eq!(of(&rows, "contact.erased").len(), 1);
}
