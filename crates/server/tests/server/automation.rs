//! Automation rules against the design's acceptance checks A1–A18, on the injected clock: explicit
//! grouping, order and stop-processing, one run per change, the loop guard, who a trigger
//! answers, timed runs and their episodes, downtime, dry runs, references, the reply window, run
//! limits and the run log.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{automation::*, ledger::Actor, *};
use switchboard_server::Clock;

use crate::harness::*;

const MINUTE: Millis = 60 * 1000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// Monday 2030-01-07 00:00 UTC.
const MONDAY: Millis = 1_893_974_400_000;

fn set_clock(server: &TestServer, at: Millis) {
    server.clock.advance(at - server.clock.now());
}

async fn rule(session: &Session, body: Value) -> AutomationRule {
    let (status, answer) = session.post("/api/v1/automation-rules", body).await;
    assert_eq!(status, StatusCode::OK, "creating the rule: {answer}");
    serde_json::from_value(answer).expect("a rule")
}

fn on(events: &[&str]) -> Value {
    json!({"type": "event", "events": events})
}

async fn conversation(server: &TestServer, id: Id) -> Conversation {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{id}/export")).await;
    assert_eq!(status, StatusCode::OK, "export: {body}");
    serde_json::from_value::<Transcript>(body).expect("transcript").conversation
}

async fn messages(server: &TestServer, id: Id) -> Vec<Message> {
    let (_, body) = server.admin.get(&format!("/api/v1/conversations/{id}/export")).await;
    serde_json::from_value::<Transcript>(body).expect("transcript").messages
}

async fn runs_of(server: &TestServer, rule: Id) -> Vec<AutomationRun> {
    let (status, body) = server.admin.get(&format!("/api/v1/automation-rules/{rule}/runs")).await;
    assert_eq!(status, StatusCode::OK, "runs: {body}");
    serde_json::from_value(body).expect("runs")
}

async fn events(server: &TestServer, id: Id) -> Vec<ledger::ConversationEvent> {
    let (status, body) = server.admin.get(&format!("/api/v1/conversations/{id}/events")).await;
    assert_eq!(status, StatusCode::OK, "events: {body}");
    serde_json::from_value(body).expect("events")
}

/// Polls until a rule's run log satisfies `done` (timers fire on their own task; the clock was
/// moved, so nothing waits for time to pass).
async fn until_runs(
    server: &TestServer,
    rule: Id,
    done: impl Fn(&[AutomationRun]) -> bool,
) -> Vec<AutomationRun> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let runs = runs_of(server, rule).await;
        if done(&runs) {
            return runs;
        }
        assert!(Instant::now() < deadline, "the run log never got there: {runs:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn labels(session: &Session, conversation: Id, add: &[&str]) {
    let body = json!({"client_id": Id::new_v4(), "add": add, "remove": []});
    let (status, answer) = session.post(&format!("/api/v1/conversations/{conversation}/labels"), body).await;
    assert_eq!(status, StatusCode::OK, "labels: {answer}");
}

async fn priority(session: &Session, conversation: Id, priority: &str) {
    let body = json!({"client_id": Id::new_v4(), "priority": priority});
    let (status, answer) =
        session.post(&format!("/api/v1/conversations/{conversation}/priority"), body).await;
    assert_eq!(status, StatusCode::OK, "priority: {answer}");
}

async fn status(session: &Session, conversation: Id, status: &str) {
    let body = json!({"client_id": Id::new_v4(), "status": status});
    let (code, answer) = session.post(&format!("/api/v1/conversations/{conversation}/status"), body).await;
    assert_eq!(code, StatusCode::OK, "status: {answer}");
}

async fn label_names(server: &TestServer, id: Id) -> Vec<String> {
    let mut labels = conversation(server, id).await.labels;
    labels.sort();
    labels
}

#[tokio::test]
async fn a1_the_condition_tree_groups_explicitly_for_all_eight_combinations() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let tree =
        json!({"all": [{"status": ["open"]}, {"any": [{"labels_any": ["vip"]}, {"priority": ["urgent"]}]}]});
    let rule = rule(
        &workspace.lena,
        json!({"name": "Hot", "trigger": on(&["labels_changed"]), "conditions": tree,
        "actions": [{"type": "add_labels", "labels": ["bug"]}]}),
    )
    .await;
    for bits in 0..8u8 {
        let (open, vip, urgent) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        let id =
            server.inbound(&workspace.whatsapp, &format!("a1-{bits}"), &format!("a1-{bits}"), "hi").await;
        let id = id.conversation_id;
        if !open {
            status(&workspace.lena, id, "pending").await;
        }
        if urgent {
            priority(&workspace.lena, id, "urgent").await;
        }
        // The trigger: a label change (vip, or an unrelated one).
        labels(&workspace.lena, id, &[if vip { "vip" } else { "refund" }]).await;
        let expected = open && (vip || urgent);
        assert_eq!(
            label_names(&server, id).await.contains(&"bug".to_owned()),
            expected,
            "open={open} vip={vip} urgent={urgent}"
        );
        // A11 on the side: the dry run agrees, with the trace, and writes nothing.
        let head = server.head().await;
        let (code, test) = server
            .admin
            .post(&format!("/api/v1/automation-rules/{}/test", rule.id), json!({"conversation_id": id}))
            .await;
        assert_eq!(code, StatusCode::OK, "test: {test}");
        let test: RuleTestResult = serde_json::from_value(test).expect("a test result");
        // After the rule ran, `bug` is there, which doesn't change the conditions' answer.
        assert_eq!(test.matched, expected);
        let paths: Vec<&str> = test.trace.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["all[0]", "all[1].any[0]", "all[1].any[1]", "all[1]", "$"]);
        assert_eq!(test.trace[0].result, open);
        assert_eq!(server.head().await, head, "a dry run writes nothing");
    }
}

#[tokio::test]
async fn a2_rules_run_in_order_each_seeing_the_last_and_stop_processing_ends_the_pass() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let first = rule(
        &workspace.lena,
        json!({"name": "R1", "trigger": on(&["message_received"]),
        "actions": [{"type": "add_labels", "labels": ["vip"]}], "stop_processing": true}),
    )
    .await;
    let second = rule(
        &workspace.lena,
        json!({"name": "R2", "trigger": on(&["message_received"]),
        "conditions": {"labels_any": ["vip"]}, "actions": [{"type": "add_labels", "labels": ["refund"]}]}),
    )
    .await;
    assert!(first.position < second.position);
    let stopped = server.inbound(&workspace.whatsapp, "a2-1", "a2-1", "hi").await.conversation_id;
    assert_eq!(label_names(&server, stopped).await, ["vip"], "R1 stops the pass: R2 never runs");

    let input = json!({"name": "R1", "trigger": on(&["message_received"]),
        "actions": [{"type": "add_labels", "labels": ["vip"]}], "stop_processing": false});
    let (code, _) = workspace
        .lena
        .request(Method::PUT, &format!("/api/v1/automation-rules/{}", first.id), Some(input))
        .await;
    assert_eq!(code, StatusCode::OK);
    let both = server.inbound(&workspace.whatsapp, "a2-2", "a2-2", "hi").await.conversation_id;
    assert_eq!(label_names(&server, both).await, ["refund", "vip"], "R2's condition sees R1's label");

    // Reordered, R2 runs first and doesn't see vip yet.
    let order = json!({"ids": [second.id, first.id]});
    let (code, _) = workspace.lena.request(Method::PUT, "/api/v1/automation-rules/order", Some(order)).await;
    assert_eq!(code, StatusCode::OK);
    let reordered = server.inbound(&workspace.whatsapp, "a2-3", "a2-3", "hi").await.conversation_id;
    assert_eq!(label_names(&server, reordered).await, ["vip"]);
}

#[tokio::test]
async fn a3_one_request_changing_assignee_and_team_is_one_run() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let teams: Vec<Team> = serde_json::from_value(server.admin.get("/api/v1/teams").await.1).expect("teams");
    let sales = teams.iter().find(|t| t.name == "Sales").expect("sales").id;
    let watcher = rule(
        &workspace.lena,
        json!({"name": "Watch", "trigger": on(&["assigned", "team_changed"]),
        "actions": [{"type": "add_note", "body": "Handed over"}]}),
    )
    .await;
    let id = server.inbound(&workspace.whatsapp, "a3", "a3", "hi").await.conversation_id;
    let sara =
        workspace.sara.get("/api/v1/me").await.1["id"].as_str().expect("id").parse::<Id>().expect("uuid");
    let body = json!({"client_id": Id::new_v4(), "assignee_id": sara, "team_id": sales});
    let (code, answer) = workspace.lena.post(&format!("/api/v1/conversations/{id}/assign"), body).await;
    assert_eq!(code, StatusCode::OK, "assign: {answer}");
    let runs = runs_of(&server, watcher.id).await;
    assert_eq!(runs.len(), 1, "one change, one run: {runs:#?}");
    let notes = messages(&server, id).await.into_iter().filter(|m| m.kind == MessageKind::Note).count();
    assert_eq!(notes, 1);
}

#[tokio::test]
async fn a4_rules_answering_rules_stop_at_the_loop_guard_and_never_without_consent() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    // Without consent: Tag answers the lead's priority change; Follow listens to label changes,
    // which only Tag's action makes here.
    let tag = rule(
        &workspace.lena,
        json!({"name": "Tag", "trigger": on(&["priority_changed"]),
        "actions": [{"type": "add_labels", "labels": ["bug"]}]}),
    )
    .await;
    let follow_input = |allow: bool| {
        json!({"name": "Follow", "trigger": on(&["labels_changed"]),
        "allow_rule_origin": allow, "actions": [{"type": "add_labels", "labels": ["refund"]}]})
    };
    let follow = rule(&workspace.lena, follow_input(false)).await;
    let id = server.inbound(&workspace.whatsapp, "a4-1", "a4-1", "hi").await.conversation_id;
    priority(&workspace.lena, id, "high").await;
    assert_eq!(label_names(&server, id).await, ["bug"], "Follow never answers Tag's change");
    assert!(runs_of(&server, follow.id).await.is_empty());
    let (code, _) = workspace
        .lena
        .request(Method::PUT, &format!("/api/v1/automation-rules/{}", follow.id), Some(follow_input(true)))
        .await;
    assert_eq!(code, StatusCode::OK);
    let consented = server.inbound(&workspace.whatsapp, "a4-2", "a4-2", "hi").await.conversation_id;
    priority(&workspace.lena, consented, "high").await;
    assert_eq!(label_names(&server, consented).await, ["bug", "refund"], "with consent it does");
    assert_eq!(runs_of(&server, tag.id).await.len(), 2);

    // Two rules undoing each other, both consenting: stopped by the guard, the request succeeds.
    let flip = json!({"name": "Flip", "trigger": on(&["labels_changed"]), "allow_rule_origin": true,
        "conditions": {"labels_any": ["vip"]},
        "actions": [{"type": "remove_labels", "labels": ["vip"]}]});
    let flop = json!({"name": "Flop", "trigger": on(&["labels_changed"]), "allow_rule_origin": true,
        "conditions": {"not": {"labels_any": ["vip"]}},
        "actions": [{"type": "add_labels", "labels": ["vip"]}]});
    let flip = rule(&workspace.lena, flip).await;
    let flop = rule(&workspace.lena, flop).await;
    let looping = server.inbound(&workspace.whatsapp, "a4-3", "a4-3", "hi").await.conversation_id;
    labels(&workspace.lena, looping, &["vip"]).await;
    let mut runs: Vec<AutomationRun> = runs_of(&server, flip.id).await;
    runs.extend(runs_of(&server, flop.id).await);
    runs.retain(|run| run.conversation_id == looping);
    runs.sort_by_key(|run| run.id);
    let statuses: Vec<RunStatus> = runs.iter().map(|run| run.status).collect();
    // Each round both run (Flip removes vip, Flop puts it back): the lead's change, then three
    // rounds answering rules, then the guard stops both.
    let mut expected = vec![RunStatus::Done; 8];
    expected.extend([RunStatus::LoopGuard, RunStatus::LoopGuard]);
    assert_eq!(statuses, expected, "{runs:#?}");
}

#[tokio::test]
async fn a5_a6_origin_and_message_received_answer_customers_only() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let customer_started = rule(
        &workspace.lena,
        json!({"name": "Welcome", "trigger": on(&["conversation_created"]),
        "conditions": {"origin": "customer"}, "actions": [{"type": "add_labels", "labels": ["vip"]}]}),
    )
    .await;
    let received = rule(
        &workspace.lena,
        json!({"name": "Inbound", "trigger": on(&["message_received"]),
        "actions": [{"type": "add_labels", "labels": ["refund"]}]}),
    )
    .await;

    // An agent-started conversation (a template first): no origin match, no message_received.
    let contact: Value = workspace
        .sara
        .ok(
            "/api/v1/contacts",
            json!({"client_id": Id::new_v4(), "name": "Outbound Olga", "phone": "+40 721 000 111"}),
        )
        .await;
    let body = json!({"client_id": Id::new_v4(), "inbox_id": workspace.whatsapp.inbox.id, "contact_id": contact["contact"]["id"],
        "template": {"name": "follow_up", "params": ["Olga", "your order"]}});
    let (code, started) = workspace.sara.post("/api/v1/conversations", body).await;
    assert_eq!(code, StatusCode::OK, "starting a conversation: {started}");
    let outbound: Id = serde_json::from_value(started["conversation"]["id"].clone()).expect("id");
    // A note, a reply: still nothing.
    workspace.sara.reply(outbound, "Following up").await;
    assert!(label_names(&server, outbound).await.is_empty());
    assert!(runs_of(&server, customer_started.id).await.is_empty());
    assert!(runs_of(&server, received.id).await.is_empty());

    let inbound = server.inbound(&workspace.whatsapp, "a5", "a5", "hello").await.conversation_id;
    assert_eq!(label_names(&server, inbound).await, ["refund", "vip"]);
}

async fn office_hours_utc(server: &TestServer, inbox: &CreatedInbox) {
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let hours =
        json!({"time_zone": "UTC", "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}});
    let (code, answer) = server
        .admin
        .request(Method::PATCH, &format!("/api/v1/inboxes/{}", inbox.inbox.id), Some(json!({"hours": hours})))
        .await;
    assert_eq!(code, StatusCode::OK, "hours: {answer}");
}

#[tokio::test]
async fn a7_a_waiting_customer_in_business_time_fires_monday_and_a_reply_cancels_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY - DAY);
    office_hours_utc(&server, &workspace.whatsapp).await;
    let chase = rule(
        &workspace.lena,
        json!({"name": "Chase",
        "trigger": {"type": "customer_waiting", "after_secs": 1800, "business_hours": true},
        "actions": [{"type": "set_priority", "priority": "high"}]}),
    )
    .await;
    let friday = MONDAY + 4 * DAY;
    set_clock(&server, friday + 16 * HOUR + 50 * MINUTE);
    let waiting = server.inbound(&workspace.whatsapp, "a7-1", "a7-1", "hello?").await.conversation_id;
    set_clock(&server, friday + 16 * HOUR + 52 * MINUTE);
    let answered = server.inbound(&workspace.whatsapp, "a7-2", "a7-2", "hi?").await.conversation_id;
    set_clock(&server, friday + 16 * HOUR + 55 * MINUTE);
    workspace.sara.reply(answered, "On it").await;
    let cancelled = runs_of(&server, chase.id).await;
    assert_eq!(cancelled.len(), 1, "{cancelled:#?}");
    assert_eq!((cancelled[0].conversation_id, cancelled[0].status), (answered, RunStatus::Cancelled));
    assert_eq!(cancelled[0].reason.as_deref(), Some("episode_ended"));

    // Friday evening and the weekend pass: nothing (20 business minutes are left on Monday).
    let next_monday = MONDAY + 7 * DAY;
    set_clock(&server, next_monday + 9 * HOUR + 19 * MINUTE);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(runs_of(&server, chase.id).await.len(), 1, "not due before Monday 09:20");
    set_clock(&server, next_monday + 9 * HOUR + 20 * MINUTE);
    let runs = until_runs(&server, chase.id, |runs| runs.len() == 2).await;
    assert_eq!((runs[0].conversation_id, runs[0].status), (waiting, RunStatus::Done));
    let due = next_monday + 9 * HOUR + 20 * MINUTE;
    // Due 30 business minutes after the message (the running clock adds a few milliseconds).
    assert!((due..due + 1_000).contains(&runs[0].at), "logged at its due time: {}", runs[0].at - due);
    assert_eq!(conversation(&server, waiting).await.priority, Priority::High);
}

#[tokio::test]
async fn a8_a15_a_timed_run_decides_on_current_state_with_the_current_version() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let input = |name: &str, label: &str| {
        json!({"name": name,
        "trigger": {"type": "customer_waiting", "after_secs": 600},
        "conditions": {"labels_any": [label]}, "actions": [{"type": "set_priority", "priority": "urgent"}]})
    };
    let rule = rule(&workspace.lena, input("VIP chase", "vip")).await;
    let id = server.inbound(&workspace.whatsapp, "a8", "a8", "hello").await.conversation_id;
    labels(&workspace.lena, id, &["vip"]).await;
    // A8: the label goes before the due time → skipped(conditions_changed).
    let body = json!({"client_id": Id::new_v4(), "add": [], "remove": ["vip"]});
    workspace.lena.post(&format!("/api/v1/conversations/{id}/labels"), body).await;
    server.clock.advance(11 * MINUTE);
    let runs = until_runs(&server, rule.id, |runs| !runs.is_empty()).await;
    assert_eq!((runs[0].status, runs[0].reason.as_deref()), (RunStatus::Skipped, Some("conditions_changed")));
    assert_eq!(conversation(&server, id).await.priority, Priority::None);

    // A15: edited while a run is armed → the run uses the new version.
    let second = server.inbound(&workspace.whatsapp, "a15", "a15", "hello").await.conversation_id;
    labels(&workspace.lena, second, &["refund"]).await;
    let (code, _) = workspace
        .lena
        .request(
            Method::PUT,
            &format!("/api/v1/automation-rules/{}", rule.id),
            Some(input("Refund chase", "refund")),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    server.clock.advance(11 * MINUTE);
    let runs = until_runs(&server, rule.id, |runs| runs.iter().any(|r| r.conversation_id == second)).await;
    let run = runs.iter().find(|r| r.conversation_id == second).expect("the run");
    assert_eq!((run.status, run.rule_version), (RunStatus::Done, 2));
    assert_eq!(conversation(&server, second).await.priority, Priority::Urgent);
}

#[tokio::test]
async fn a9_a_run_due_while_the_server_was_down_fires_once_at_start_or_expires_after_a_day() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let rule = rule(
        &workspace.lena,
        json!({"name": "Chase",
        "trigger": {"type": "customer_waiting", "after_secs": 600},
        "actions": [{"type": "add_labels", "labels": ["vip"]}]}),
    )
    .await;
    let soon = server.inbound(&workspace.whatsapp, "a9-1", "a9-1", "hello").await.conversation_id;
    let server = server.restart_later(2 * HOUR).await;
    let runs = until_runs(&server, rule.id, |runs| !runs.is_empty()).await;
    assert_eq!((runs.len(), runs[0].status), (1, RunStatus::Done));
    assert_eq!(label_names(&server, soon).await, ["vip"]);

    let workspace_lena = server.login("lena@test.example").await;
    let whatsapp: Vec<Inbox> =
        serde_json::from_value(server.admin.get("/api/v1/inboxes").await.1).expect("inboxes");
    assert!(whatsapp.iter().any(|i| i.name == "WhatsApp"));
    drop(workspace_lena);
    let late = server.inbound(&workspace.whatsapp, "a9-2", "a9-2", "hello").await.conversation_id;
    let server = server.restart_later(25 * HOUR).await;
    let runs = until_runs(&server, rule.id, |runs| runs.iter().any(|r| r.conversation_id == late)).await;
    let run = runs.iter().find(|r| r.conversation_id == late).expect("the run");
    assert_eq!((run.status, run.reason.as_deref()), (RunStatus::Skipped, Some("expired")));
    assert!(label_names(&server, late).await.is_empty());
    assert_eq!(runs.iter().filter(|r| r.conversation_id == soon).count(), 1, "never twice");
}

#[tokio::test]
async fn a12_references_are_checked_at_save_and_a_removed_one_flags_the_rule() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (code, answer) = workspace
        .lena
        .post("/api/v1/automation-rules", json!({"name": "Bad", "trigger": on(&["message_received"]),
            "actions": [{"type": "set_priority", "priority": "high"}, {"type": "add_labels", "labels": ["vip", "nope"]}]}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"].as_str().unwrap_or_default().starts_with("actions[1].labels[1]:"),
        "{answer}"
    );
    let (code, _) = workspace
        .sara
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Mine", "trigger": on(&["message_received"]),
            "actions": [{"type": "set_priority", "priority": "high"}]}),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "agents don't write rules");

    let tagged = rule(&workspace.lena, json!({"name": "Tag bugs", "trigger": on(&["message_received"]),
        "actions": [{"type": "add_labels", "labels": ["bug"]}, {"type": "set_priority", "priority": "high"}]}))
    .await;
    let all: Vec<Label> = serde_json::from_value(server.admin.get("/api/v1/labels").await.1).expect("labels");
    let bug = all.iter().find(|l| l.name == "bug").expect("bug").id;
    let (code, _) = server.admin.request(Method::DELETE, &format!("/api/v1/labels/{bug}"), None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let rules: Vec<AutomationRule> =
        serde_json::from_value(server.admin.get("/api/v1/automation-rules").await.1).expect("rules");
    let flagged = rules.iter().find(|r| r.id == tagged.id).expect("the rule");
    assert!(flagged.enabled && flagged.needs_attention.is_some(), "{flagged:?}");

    let id = server.inbound(&workspace.whatsapp, "a12", "a12", "hi").await.conversation_id;
    let runs = runs_of(&server, tagged.id).await;
    let outcomes: Vec<(ActionStatus, Option<&str>)> =
        runs[0].actions.iter().map(|a| (a.status, a.reason.as_deref())).collect();
    assert_eq!(outcomes, [(ActionStatus::Skipped, Some("reference_missing")), (ActionStatus::Ok, None)]);
    assert_eq!(conversation(&server, id).await.priority, Priority::High, "the other actions ran");
}

#[tokio::test]
async fn a13_a_reply_outside_the_window_is_skipped_and_writes_nothing() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let nudge = rule(&workspace.lena, json!({"name": "Nudge",
        "trigger": {"type": "status_held", "status": "pending", "after_secs": 2 * 86_400},
        "actions": [{"type": "send_reply", "body": "Anything else we can do?"}, {"type": "set_status", "status": "resolved"}]}))
    .await;
    let id = server.inbound(&workspace.whatsapp, "a13", "a13", "thanks").await.conversation_id;
    status(&workspace.lena, id, "pending").await;
    server.clock.advance(2 * DAY + MINUTE);
    let runs = until_runs(&server, nudge.id, |runs| !runs.is_empty()).await;
    let outcomes: Vec<(ActionStatus, Option<&str>)> =
        runs[0].actions.iter().map(|a| (a.status, a.reason.as_deref())).collect();
    assert_eq!(outcomes, [(ActionStatus::Skipped, Some("window_closed")), (ActionStatus::Ok, None)]);
    let outgoing =
        messages(&server, id).await.into_iter().filter(|m| m.kind == MessageKind::Outgoing).count();
    assert_eq!(outgoing, 0, "no message was written");
    assert_eq!(conversation(&server, id).await.status, ConversationStatus::Resolved);
}

#[tokio::test]
async fn a14_a18_every_run_is_logged_and_its_changes_name_the_rule() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let vip = rule(&workspace.lena, json!({"name": "VIP words", "trigger": on(&["message_received"]),
        "conditions": {"text_contains": ["refund now"]},
        "actions": [{"type": "add_labels", "labels": ["vip"]}, {"type": "send_reply", "body": "A person will answer shortly."}]}))
    .await;
    let quiet = server.inbound(&workspace.whatsapp, "a14-1", "a14-1", "hello").await.conversation_id;
    assert!(runs_of(&server, vip.id).await.is_empty(), "a run that didn't match isn't logged");
    let id =
        server.inbound(&workspace.whatsapp, "a14-2", "a14-2", "I want a REFUND, now!").await.conversation_id;
    let runs = runs_of(&server, vip.id).await;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!((run.rule_version, run.status, run.conversation_id), (1, RunStatus::Done, id));
    let ledger = events(&server, id).await;
    let trigger = ledger.iter().find(|e| Some(e.id) == run.event_id).expect("the triggering event");
    assert!(matches!(trigger.event, ledger::EventKind::Message { class: ledger::MessageClass::Inbound, .. }));
    assert_eq!(run.trace, [TraceStep { path: "$".into(), result: true }]);
    let by_rule = Actor::Rule { id: vip.id, version: 1 };
    assert!(ledger.iter().any(|e| e.actor == by_rule && matches!(e.event, ledger::EventKind::Labels { .. })));
    let reply = ledger
        .iter()
        .find(|e| matches!(e.event, ledger::EventKind::Message { class: ledger::MessageClass::Rule, .. }))
        .expect("the rule's reply");
    assert_eq!(reply.actor, by_rule);
    let thread = messages(&server, id).await;
    assert!(thread
        .iter()
        .any(|m| m.kind == MessageKind::Activity && m.body.starts_with("Automation “VIP words”")));
    let after = conversation(&server, id).await;
    assert_eq!(
        (after.first_reply_at, after.waiting_since.is_some()),
        (None, true),
        "a rule's reply is no response"
    );
    let (_, per_conversation) =
        server.admin.get(&format!("/api/v1/conversations/{id}/automation-runs")).await;
    assert_eq!(per_conversation.as_array().map(Vec::len), Some(1));
    let (_, none) = server.admin.get(&format!("/api/v1/conversations/{quiet}/automation-runs")).await;
    assert_eq!(none.as_array().map(Vec::len), Some(0));

    // Runs older than 30 days are forgotten (when the rule next logs one).
    server.clock.advance(31 * DAY);
    server.inbound(&workspace.whatsapp, "a14-3", "a14-3", "refund now please").await;
    let runs = runs_of(&server, vip.id).await;
    assert_eq!(runs.len(), 1, "the old run aged out");
    assert_ne!(runs[0].conversation_id, id);
}

#[tokio::test]
async fn a16_business_hours_are_read_at_the_change_and_a17_once_per_cycle() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY - DAY);
    office_hours_utc(&server, &workspace.whatsapp).await;
    let after_hours = rule(
        &workspace.lena,
        json!({"name": "After hours", "trigger": on(&["message_received"]),
        "conditions": {"within_business_hours": false}, "run_limit": {"type": "once_per_cycle"},
        "actions": [{"type": "add_note", "body": "Came in after hours"}]}),
    )
    .await;
    set_clock(&server, MONDAY + 10 * HOUR);
    let id = server.inbound(&workspace.whatsapp, "a16", "a16-1", "morning").await.conversation_id;
    assert!(runs_of(&server, after_hours.id).await.is_empty(), "10:00 on an open day");
    set_clock(&server, MONDAY + 20 * HOUR);
    server.inbound(&workspace.whatsapp, "a16", "a16-2", "evening").await;
    server.inbound(&workspace.whatsapp, "a16", "a16-3", "still there?").await;
    assert_eq!(runs_of(&server, after_hours.id).await.len(), 1, "once in the cycle");
    status(&workspace.lena, id, "resolved").await;
    server.inbound(&workspace.whatsapp, "a16", "a16-4", "one more thing").await;
    let runs = runs_of(&server, after_hours.id).await;
    assert_eq!(runs.iter().map(|r| r.cycle).collect::<Vec<_>>(), [2, 1], "again in cycle 2");
}

/// What a webhook receiver saw: each request's idempotency key, signature and body, and what
/// it answered.
type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Vec<u8>, u16)>>>;

/// A receiver that fails the first call with 500 and accepts the rest.
async fn flaky_receiver() -> (String, Calls) {
    use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
    let calls: Calls = Calls::default();
    let app = {
        let calls = calls.clone();
        Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let calls = calls.clone();
                async move {
                    let mut calls = calls.lock().expect("lock");
                    let status = if calls.is_empty() { 500 } else { 200 };
                    let header = |name: &str| {
                        headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
                    };
                    calls.push((
                        header("idempotency-key"),
                        header("x-switchboard-signature"),
                        body.to_vec(),
                        status,
                    ));
                    axum::http::StatusCode::from_u16(status).expect("status")
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

async fn until_calls(calls: &Calls, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls.lock().expect("lock").len() < count {
        assert!(
            Instant::now() < deadline,
            "the webhook was called {} times",
            calls.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a10_a_rules_webhook_is_made_exactly_once_across_a_failure_and_a_restart() {
    let (url, calls) = flaky_receiver().await;
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (code, answer) = workspace
        .lena
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Bad URL", "trigger": on(&["message_received"]),
            "actions": [{"type": "webhook", "url": "ftp://example.com/x"}]}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    rule(
        &workspace.lena,
        json!({"name": "Tell the CRM", "trigger": on(&["message_received"]),
        "actions": [{"type": "add_labels", "labels": ["vip"]}, {"type": "webhook", "url": url}]}),
    )
    .await;
    let id = server.inbound(&workspace.whatsapp, "a10", "a10", "hello").await.conversation_id;
    until_calls(&calls, 1).await;

    // The server goes down after the first (failed) attempt and comes back: the call is durable,
    // and is made again, with the same key, after its backoff on the server's clock.
    let server = server.restart_later(0).await;
    server.clock.advance(5_000);
    until_calls(&calls, 2).await;
    server.clock.advance(HOUR);
    tokio::time::sleep(Duration::from_millis(1_200)).await; // two worker polls: nothing more
    let calls = calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 2, "once failed, once made, never again: {calls:#?}");
    let (first_key, _, _, first_status) = &calls[0];
    let (second_key, signature, body, second_status) = &calls[1];
    assert_eq!((*first_status, *second_status), (500, 200));
    assert!(!first_key.is_empty() && first_key == second_key, "one idempotency key for one call");
    assert_eq!(*signature, sign(&workspace.whatsapp.signing_secret, body), "signed with the inbox's secret");
    let body: Value = serde_json::from_slice(body).expect("JSON");
    assert_eq!(body["idempotency_key"], Value::String(first_key.clone()));
    assert_eq!(body["conversation"]["id"], json!(id));
    assert_eq!(body["conversation"]["labels"], json!(["vip"]), "as the earlier actions left it");
}

#[tokio::test]
async fn the_demo_ships_its_rules_switched_on_and_they_act_on_new_traffic() {
    let (server, secrets) = TestServer::start_demo(12).await;
    let rules: Vec<AutomationRule> =
        serde_json::from_value(server.admin.get("/api/v1/automation-rules").await.1).expect("rules");
    assert_eq!(rules.len(), 4, "{rules:#?}");
    assert!(rules.iter().all(|rule| rule.enabled && rule.needs_attention.is_none()));
    let inboxes: Vec<Inbox> =
        serde_json::from_value(server.admin.get("/api/v1/inboxes").await.1).expect("inboxes");
    let whatsapp = inboxes.iter().find(|inbox| inbox.channel == Channel::Whatsapp).expect("WhatsApp");
    let signing_secret = secrets.iter().find(|(id, _)| *id == whatsapp.id).expect("its secret").1.clone();
    let inbox = CreatedInbox { inbox: whatsapp.clone(), signing_secret };
    let id = server
        .inbound(&inbox, "demo-new", "demo-new-1", "I need a refund, it's urgent")
        .await
        .conversation_id;
    let after = conversation(&server, id).await;
    assert_eq!(after.priority, Priority::High, "the urgent-words rule");
    assert!(after.labels.contains(&"refund".to_owned()), "the refund rule");
    let note = messages(&server, id).await.into_iter().find(|m| m.kind == MessageKind::Note).expect("a note");
    assert_eq!(note.mentions.len(), 1, "the lead is mentioned: {}", note.body);
}

#[tokio::test]
async fn a_breach_triggers_rules_like_any_change_dated_when_it_fell_due() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (code, policy) =
        workspace.lena.post("/api/v1/sla-policies", json!({"name": "Fast", "first_response_secs": 60})).await;
    assert_eq!(code, StatusCode::OK, "{policy}");
    let escalate = rule(&workspace.lena, json!({"name": "Breached", "trigger": on(&["sla_breached"]),
        "actions": [{"type": "set_priority", "priority": "urgent"}, {"type": "add_labels", "labels": ["vip"]}]}))
    .await;
    let id = server.inbound(&workspace.whatsapp, "sla-rule", "sla-rule-1", "hello").await.conversation_id;
    server.clock.advance(2 * MINUTE);
    let runs = until_runs(&server, escalate.id, |runs| !runs.is_empty()).await;
    assert_eq!((runs.len(), runs[0].status), (1, RunStatus::Done));
    let breach = events(&server, id)
        .await
        .into_iter()
        .find(|e| Some(e.id) == runs[0].event_id)
        .expect("the breach that triggered it");
    assert!(matches!(&breach.event, ledger::EventKind::Sla { what, .. } if what == "breached"));
    let after = conversation(&server, id).await;
    assert_eq!((after.priority, after.labels), (Priority::Urgent, vec!["vip".to_owned()]));
}

#[tokio::test]
async fn a_rule_pins_an_sla_policy_as_a_lead_would() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (_, standard) = workspace
        .lena
        .post("/api/v1/sla-policies", json!({"name": "Standard", "first_response_secs": 3600}))
        .await;
    let (_, vip) = workspace
        .lena
        .post("/api/v1/sla-policies", json!({"name": "VIP", "first_response_secs": 900, "enabled": false}))
        .await;
    let vip: Id = serde_json::from_value(vip["id"].clone()).expect("id");
    let (code, answer) = workspace
        .lena
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Bad", "trigger": on(&["labels_changed"]),
            "actions": [{"type": "apply_sla", "policy_id": Id::new_v4()}]}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    rule(
        &workspace.lena,
        json!({"name": "VIP gets the VIP SLA", "trigger": on(&["labels_changed"]),
        "conditions": {"labels_any": ["vip"]}, "actions": [{"type": "apply_sla", "policy_id": vip}]}),
    )
    .await;
    let id = server.inbound(&workspace.whatsapp, "pin", "pin-1", "hello").await.conversation_id;
    let sla = conversation(&server, id).await.sla.expect("an SLA");
    assert_eq!(sla.policy_id, Some(serde_json::from_value(standard["id"].clone()).expect("id")));
    labels(&workspace.lena, id, &["vip"]).await;
    let sla = conversation(&server, id).await.sla.expect("an SLA");
    assert_eq!((sla.policy_id, sla.pinned), (Some(vip), true), "pinned, even to a disabled policy");
    // Pinned: a later change doesn't move it back.
    priority(&workspace.lena, id, "low").await;
    assert_eq!(conversation(&server, id).await.sla.expect("an SLA").policy_id, Some(vip));
}

/// The SLA events of a conversation's ledger: (policy, metric, what).
fn sla_steps(ledger: &[ledger::ConversationEvent]) -> Vec<(Id, sla::SlaMetric, String)> {
    ledger
        .iter()
        .filter_map(|e| match &e.event {
            ledger::EventKind::Sla { policy_id, metric, what, .. } => {
                Some((*policy_id, *metric, what.clone()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_rule_labelling_a_new_conversation_is_written_with_it_and_its_sla_starts_on_the_final_policy() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let policy = |body: Value| {
        let lena = &workspace.lena;
        async move {
            let (status, answer) = lena.post("/api/v1/sla-policies", body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            serde_json::from_value::<Id>(answer["id"].clone()).expect("id")
        }
    };
    let vip = policy(json!({"name": "VIP", "position": 1, "conditions": {"labels": ["vip"]},
        "first_response_secs": 900, "resolution_secs": 14_400}))
    .await;
    let everyone = policy(json!({"name": "Everyone", "position": 2, "first_response_secs": 3600,
        "resolution_secs": 86_400}))
    .await;
    let tagger = rule(
        &workspace.lena,
        json!({"name": "Refunds are VIP", "trigger": on(&["message_received"]),
        "conditions": {"text_contains": ["refund"]}, "actions": [{"type": "add_labels", "labels": ["vip"]}]}),
    )
    .await;
    let t = server.clock.now();
    let id = server.inbound(&workspace.whatsapp, "fold-1", "fold-1", "a refund please").await.conversation_id;

    // The conversation as the rule left it, its clocks on the policy that matches that state,
    // started when the customer wrote: a label set in the transaction that created it is part of
    // its first state, so the SLA starts on VIP rather than starting on Everyone and moving.
    let after = conversation(&server, id).await;
    assert_eq!(after.labels, ["vip"]);
    let sla = after.sla.expect("an SLA");
    assert_eq!(sla.policy_id, Some(vip));
    let first = sla.clocks.iter().find(|c| c.metric == sla::SlaMetric::FirstResponse).expect("FRT");
    assert!((t..t + MINUTE).contains(&first.started_at), "started when the customer wrote");
    assert_eq!((first.target_ms, first.due_at), (15 * MINUTE, Some(first.started_at + 15 * MINUTE)));
    let ledger = events(&server, id).await;
    assert_eq!(
        sla_steps(&ledger),
        [
            (vip, sla::SlaMetric::Resolution, "started".to_owned()),
            (vip, sla::SlaMetric::FirstResponse, "started".to_owned())
        ],
        "one start on the final policy, no `retargeted`, nothing on {everyone}"
    );
    // Every change keeps its event, actor and cycle, in the order it happened: created, the SLA it
    // started with, the customer's message, the rule's labels.
    let kinds: Vec<(&str, &Actor, u32)> =
        ledger.iter().map(|e| (e.event.name(), &e.actor, e.cycle)).collect();
    let by_rule = Actor::Rule { id: tagger.id, version: 1 };
    let sla_actor = Actor::System { reason: "sla".to_owned() };
    let contact = ledger[0].actor.clone();
    assert!(matches!(contact, Actor::Contact { .. }), "{ledger:#?}");
    assert_eq!(
        kinds,
        [
            ("created", &contact, 1),
            ("sla", &sla_actor, 1),
            ("sla", &sla_actor, 1),
            ("message", &contact, 1),
            ("labels", &by_rule, 1)
        ]
    );
    // The run log names the message that triggered it, an event of this ledger.
    let runs = runs_of(&server, tagger.id).await;
    assert_eq!(runs.len(), 1);
    assert!(ledger.iter().any(|e| Some(e.id) == runs[0].event_id && e.event.name() == "message"));

    // A conversation the rule doesn't label starts on Everyone, as before.
    let plain = server.inbound(&workspace.whatsapp, "fold-2", "fold-2", "hello").await.conversation_id;
    assert_eq!(conversation(&server, plain).await.sla.expect("an SLA").policy_id, Some(everyone));
}

#[tokio::test]
async fn a_rule_resolving_a_new_conversation_ends_the_clocks_it_started_with() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, answer) = workspace
        .lena
        .post(
            "/api/v1/sla-policies",
            json!({"name": "All", "first_response_secs": 900, "resolution_secs": 3600}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let closer = rule(&workspace.lena, json!({"name": "Close thanks", "trigger": on(&["message_received"]),
        "conditions": {"text_contains": ["thanks"]},
        "actions": [{"type": "add_labels", "labels": ["vip"]}, {"type": "set_status", "status": "resolved"}]}))
    .await;
    let id = server.inbound(&workspace.whatsapp, "close-1", "close-1", "thanks a lot").await.conversation_id;
    let after = conversation(&server, id).await;
    assert_eq!((after.status, after.labels.clone()), (ConversationStatus::Resolved, vec!["vip".to_owned()]));
    // A status change is one the clocks follow, not part of the state they start from: the
    // conversation was created open with its clocks running, and the rule's resolution ended them
    // (the resolution clock met, the reply clock cancelled without a reply), never clocks started
    // on a resolved conversation.
    let sla = after.sla.expect("an SLA");
    let status_of = |metric: sla::SlaMetric| sla.clocks.iter().find(|c| c.metric == metric).map(|c| c.status);
    assert_eq!(status_of(sla::SlaMetric::Resolution), Some(sla::SlaClockStatus::Met));
    assert_eq!(status_of(sla::SlaMetric::FirstResponse), Some(sla::SlaClockStatus::Cancelled));
    let ledger = events(&server, id).await;
    let whats: Vec<String> =
        sla_steps(&ledger).into_iter().map(|(_, metric, what)| format!("{metric:?} {what}")).collect();
    assert_eq!(
        whats,
        ["Resolution started", "FirstResponse started", "Resolution met", "FirstResponse cancelled"]
    );
    let by_rule = Actor::Rule { id: closer.id, version: 1 };
    let names: Vec<&str> = ledger.iter().filter(|e| e.actor == by_rule).map(|e| e.event.name()).collect();
    assert_eq!(
        names,
        ["labels", "status", "resolved"],
        "the labels folded, then the resolution written after"
    );
}
