//! Reports against the design's checks (K1–K17): who a response is credited to, what counts as
//! one, cycles, business time, the period a fact belongs to, CSV equal to JSON, rebuilding
//! identically, and who sees which rows. On the injected clock.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{
    ledger::{ConversationEvent, EventKind},
    reports::*,
    sla::SlaMetric,
    *,
};
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

fn iso(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at).expect("instant").to_string()
}

async fn summary(session: &Session, from: Millis, to: Millis, group_by: &str) -> ReportSummary {
    let path = format!("/api/v1/reports/summary?from={}&to={}&group_by={group_by}", iso(from), iso(to));
    let (status, body) = session.get(&path).await;
    assert_eq!(status, StatusCode::OK, "summary: {body}");
    serde_json::from_value(body).expect("a summary")
}

fn row(summary: &ReportSummary, key: Option<Id>) -> &Metrics {
    let key = key.map(|id| id.to_string());
    &summary
        .rows
        .iter()
        .find(|row| row.key == key)
        .unwrap_or_else(|| panic!("no row {key:?}: {summary:#?}"))
        .metrics
}

fn wall(durations: &Durations) -> Distribution {
    durations.wall.expect("some durations")
}

async fn note(session: &Session, conversation: Id, body: &str) {
    let (status, answer) = session
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "note", "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "note: {answer}");
}

async fn reply(session: &Session, conversation: Id) {
    let (status, answer) = session.reply(conversation, "Hello from us").await;
    assert_eq!(status, StatusCode::OK, "reply: {answer}");
}

async fn status(session: &Session, conversation: Id, status: &str) {
    let body = json!({"client_id": Id::new_v4(), "status": status});
    let (code, answer) = session.post(&format!("/api/v1/conversations/{conversation}/status"), body).await;
    assert_eq!(code, StatusCode::OK, "status: {answer}");
}

async fn assign(session: &Session, conversation: Id, to: Id) {
    let body = json!({"client_id": Id::new_v4(), "assignee_id": to});
    let (code, answer) = session.post(&format!("/api/v1/conversations/{conversation}/assign"), body).await;
    assert_eq!(code, StatusCode::OK, "assign: {answer}");
}

#[tokio::test]
async fn k1_k2_first_response_is_credited_to_the_replier_and_notes_and_auto_replies_never_count() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (sara, sam) = (workspace.sara.agent.id, workspace.sam.agent.id);
    let inbox = workspace.whatsapp.inbox.id;
    let (code, _) = server
        .admin
        .request(
            Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"auto_replies": {"greeting": {"body": "Thanks, we'll be right with you"}}})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    set_clock(&server, MONDAY + 10 * HOUR);
    let id = server.inbound(&workspace.whatsapp, "k1", "k1-1", "hello").await.conversation_id;
    assign(&server.admin, id, sara).await;
    server.clock.advance(2 * MINUTE);
    note(&workspace.sara, id, "looking").await;
    server.clock.advance(MINUTE);
    server.inbound(&workspace.whatsapp, "k1", "k1-2", "anyone?").await;
    server.clock.advance(2 * MINUTE);
    reply(&workspace.sam, id).await; // 10:05, while Sara holds it
    server.clock.advance(15 * MINUTE);
    server.inbound(&workspace.whatsapp, "k1", "k1-3", "and another thing").await; // 10:20
    server.clock.advance(6 * MINUTE);
    reply(&workspace.sara, id).await; // 10:26

    let report = summary(&server.admin, MONDAY, MONDAY + DAY, "agent").await;
    let by_sam = row(&report, Some(sam));
    assert_eq!(by_sam.first_response.count, 1, "credited to Sam, who replied");
    let frt = wall(&by_sam.first_response);
    assert!((300..301).contains(&frt.mean), "5 minutes from the first message: {frt:?}");
    let by_sara = row(&report, Some(sara));
    assert_eq!(by_sara.first_response.count, 0, "the assignee's note is no response");
    assert_eq!(by_sara.response.count, 1, "the second answer, instance 2");
    assert!((360..361).contains(&wall(&by_sara.response).mean), "6 minutes");
    let all = summary(&server.admin, MONDAY, MONDAY + DAY, "none").await;
    let total = row(&all, None);
    assert_eq!(
        (total.messages_in, total.messages_out, total.cycles_started),
        (3, 2, 1),
        "the greeting isn't a message out"
    );
    assert_eq!(total.response.count, 2);
}

#[tokio::test]
async fn k3_k4_k9_agent_started_cycles_have_no_first_response_and_a_reopen_starts_a_cycle() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 10 * HOUR);
    let contact = workspace
        .sara
        .ok(
            "/api/v1/contacts",
            json!({"client_id": Id::new_v4(), "name": "Olga", "phone": "+40 721 000 222"}),
        )
        .await;
    let body = json!({"client_id": Id::new_v4(), "inbox_id": workspace.whatsapp.inbox.id,
        "contact_id": contact["contact"]["id"], "template": {"name": "follow_up", "params": ["Olga", "the order"]}});
    workspace.sara.ok("/api/v1/conversations", body).await;
    let report = summary(&server.admin, MONDAY, MONDAY + DAY, "none").await;
    let total = row(&report, None);
    assert_eq!(total.first_response.count, 0, "an agent-started cycle has no first response");
    assert_eq!((total.cycles_started, total.cycles_started_by_customers), (1, 0));

    // K4: a customer's cycle resolved Monday, reopened Tuesday 09:00 (within the reopen
    // window), answered 09:10.
    let customer = server.inbound(&workspace.whatsapp, "k4", "k4-1", "hi").await.conversation_id;
    reply(&workspace.sara, customer).await;
    status(&workspace.sara, customer, "resolved").await;
    set_clock(&server, MONDAY + DAY + 9 * HOUR);
    let again = server.inbound(&workspace.whatsapp, "k4", "k4-2", "me again").await.conversation_id;
    assert_eq!(again, customer, "the resolved conversation reopens");
    server.clock.advance(10 * MINUTE);
    reply(&workspace.sam, customer).await;
    status(&workspace.sam, customer, "resolved").await;
    let tuesday = summary(&server.admin, MONDAY + DAY, MONDAY + 2 * DAY, "agent").await;
    let sam = row(&tuesday, Some(workspace.sam.agent.id));
    assert_eq!(sam.first_response.count, 1, "cycle 2 has its own first response");
    assert!((600..601).contains(&wall(&sam.first_response).mean), "10 minutes, not since Monday");
    // K9 over the week: two resolutions of one conversation, one reopen.
    let week = summary(&server.admin, MONDAY, MONDAY + 7 * DAY, "none").await;
    let total = row(&week, None);
    assert_eq!((total.resolutions, total.conversations_resolved, total.reopened), (2, 1, 1));
}

#[tokio::test]
async fn k5_k6_k7_business_time_and_the_period_a_fact_belongs_to() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY - 3 * DAY);
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let hours =
        json!({"time_zone": "UTC", "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}});
    // The email inbox: no reply window, so Monday's answer to Saturday's message can be a reply.
    let path = format!("/api/v1/inboxes/{}", workspace.email.inbox.id);
    let (code, _) = server.admin.request(Method::PATCH, &path, Some(json!({"hours": hours}))).await;
    assert_eq!(code, StatusCode::OK);
    // K5: Saturday 10:00 → Monday 09:10: 47 h 10 min of wall time, 10 business minutes.
    set_clock(&server, MONDAY - 2 * DAY + 10 * HOUR);
    let weekend = server.inbound(&workspace.email, "k5", "k5", "saturday").await.conversation_id;
    // K6: Saturday 10:00 → Sunday 12:00: business time 0 (one closed stretch).
    let sunday = server.inbound(&workspace.email, "k6", "k6", "saturday too").await.conversation_id;
    set_clock(&server, MONDAY - DAY + 12 * HOUR);
    reply(&server.admin, sunday).await;
    set_clock(&server, MONDAY + 9 * HOUR + 10 * MINUTE);
    reply(&workspace.carl, weekend).await;

    let report = summary(&server.admin, MONDAY - 3 * DAY, MONDAY + DAY, "agent").await;
    let carl = row(&report, Some(workspace.carl.agent.id));
    let business = carl.first_response.business.expect("business");
    // (The running clock puts a few milliseconds between the set instants and the requests.)
    let carl_wall = wall(&carl.first_response).mean;
    assert!((47 * 3600 + 599..=47 * 3600 + 600).contains(&carl_wall), "47 h 10 min: {carl_wall}");
    assert!((599..=600).contains(&business.mean), "10 business minutes: {}", business.mean);
    let admin = row(&report, Some(server.admin.agent.id));
    let admin_wall = wall(&admin.first_response).mean;
    assert!((26 * 3600 - 1..=26 * 3600).contains(&admin_wall), "26 h: {admin_wall}");
    assert_eq!(admin.first_response.business.expect("business").mean, 0, "one closed stretch");

    // K7: the response belongs to Monday (its end), the cycles started to Saturday.
    let monday = summary(&server.admin, MONDAY, MONDAY + DAY, "none").await;
    let total = row(&monday, None);
    assert_eq!((total.first_response.count, total.cycles_started), (1, 0));
    let saturday = summary(&server.admin, MONDAY - 2 * DAY, MONDAY - DAY, "none").await;
    let total = row(&saturday, None);
    assert_eq!((total.first_response.count, total.cycles_started), (0, 2));
    // …and Monday's report shows the week before as its previous period.
    assert_eq!(monday.previous.iter().map(|r| r.metrics.first_response.count).sum::<u64>(), 1);
}

#[tokio::test]
async fn k8_a_resolution_is_credited_to_the_assignee_at_resolution() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 10 * HOUR);
    let id = server.inbound(&workspace.whatsapp, "k8", "k8", "hi").await.conversation_id;
    assign(&server.admin, id, workspace.sara.agent.id).await;
    server.clock.advance(MINUTE);
    assign(&server.admin, id, workspace.sam.agent.id).await;
    server.clock.advance(MINUTE);
    reply(&workspace.sam, id).await;
    status(&workspace.sam, id, "pending").await;
    server.clock.advance(HOUR);
    status(&workspace.sam, id, "resolved").await;
    let report = summary(&server.admin, MONDAY, MONDAY + DAY, "agent").await;
    let sam = row(&report, Some(workspace.sam.agent.id));
    assert_eq!(sam.resolutions, 1);
    let resolution = wall(&sam.resolution).mean;
    let open = wall(&sam.resolution_open).mean;
    assert!((3720..3721).contains(&resolution), "62 minutes from the start: {resolution}");
    assert!((120..121).contains(&open), "open only until it went pending: {open}");
    assert!(report.rows.iter().all(|r| r.key != Some(workspace.sara.agent.id.to_string())
        || r.metrics.resolutions == 0 && r.metrics.response.count == 0));
}

#[tokio::test]
async fn k12_k15_k17_csv_is_the_json_rebuilt_identically_and_agents_see_their_own_row() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 10 * HOUR);
    for (n, session) in [&workspace.sara, &workspace.sam, &workspace.sara].into_iter().enumerate() {
        let contact = format!("=HYPERLINK(\"evil\")-{n}");
        let id =
            server.inbound(&workspace.whatsapp, &contact, &format!("k12-{n}"), "hi").await.conversation_id;
        server.clock.advance((n as Millis + 1) * MINUTE);
        reply(session, id).await;
    }
    let (from, to) = (MONDAY, MONDAY + DAY);
    let json = summary(&server.admin, from, to, "agent").await;
    let path = format!("/api/v1/reports/summary?from={}&to={}&group_by=agent&format=csv", iso(from), iso(to));
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(&server.admin.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let csv_text = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let column =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    // A stable header: a spreadsheet built on last month's export reads this month's.
    let first_line = csv_text.lines().next().unwrap_or_default();
    assert!(
        first_line.starts_with(
            "group,key,cycles_started,cycles_started_by_customers,messages_in,messages_out,resolutions,\
             conversations_resolved,reopened,first_response_count,first_response_wall_mean_s,"
        ),
        "{first_line}"
    );
    assert!(
        first_line
            .ends_with(",sla_resolution_met,sla_resolution_breached,sla_resolution_within_target_permille"),
        "{first_line}"
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    assert_eq!(records.len(), json.rows.len(), "one line per JSON row");
    assert!(json.team_totals.is_none(), "an admin's rows add up to the totals themselves");
    for (record, row) in records.iter().zip(&json.rows) {
        assert_eq!(record[column("key")], row.key.clone().unwrap_or_default());
        assert_eq!(record[column("messages_out")], row.metrics.messages_out.to_string());
        let frt = &row.metrics.first_response;
        assert_eq!(record[column("first_response_count")], frt.count.to_string());
        let mean = frt.wall.map(|d| d.mean.to_string()).unwrap_or_default();
        assert_eq!(record[column("first_response_wall_mean_s")], mean, "integer seconds, the same numbers");
    }

    // K15: deriving everything again answers byte for byte the same, the summary and the series.
    let series_path =
        format!("/api/v1/reports/timeseries?from={}&to={}&group_by=agent&interval=hour", iso(from), iso(to));
    let series_before = server.admin.get(&series_path).await.1;
    let before = server
        .admin
        .get(&format!("/api/v1/reports/summary?from={}&to={}&group_by=agent", iso(from), iso(to)))
        .await
        .1;
    let (code, rebuilt) = server.admin.post("/api/v1/reports/rebuild", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{rebuilt}");
    assert!(rebuilt["conversations"].as_u64().unwrap_or_default() >= 3);
    let after = server
        .admin
        .get(&format!("/api/v1/reports/summary?from={}&to={}&group_by=agent", iso(from), iso(to)))
        .await
        .1;
    assert_eq!(serde_json::to_string(&before).expect("json"), serde_json::to_string(&after).expect("json"));
    let series_after = server.admin.get(&series_path).await.1;
    assert_eq!(series_before["rows"].as_array().map(Vec::len), Some(3), "{series_before}");
    assert_eq!(
        serde_json::to_string(&series_before).expect("json"),
        serde_json::to_string(&series_after).expect("json")
    );
    let (code, _) = workspace.lena.post("/api/v1/reports/rebuild", json!({})).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "rebuilding is the admin's");

    // K17: an agent grouped by agent sees only their own row; Carl (Sales) sees nothing of Support.
    let mine = summary(&workspace.sara, from, to, "agent").await;
    let keys: Vec<Option<String>> = mine.rows.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys, [Some(workspace.sara.agent.id.to_string())]);
    assert_eq!(mine.rows[0].metrics.first_response.count, 2);
    // Beside it, the team's totals with no one named: Sara's two first responses and Sam's one,
    // as everyone's figures ungrouped (what a lead of the inbox sees) have them.
    let team = mine.team_totals.as_ref().expect("an agent's own row comes with the team's totals");
    assert_eq!(team.now.first_response.count, 3);
    let everyone = summary(&workspace.lena, from, to, "none").await;
    assert_eq!(team.now, everyone.rows[0].metrics);
    assert_eq!(team.previous.messages_in, 0, "nothing the day before");
    let sara_csv = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(&workspace.sara.token)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    let lines: Vec<&str> = sara_csv.lines().collect();
    assert_eq!(lines.len(), 3, "the header, Sara's row and the team's totals: {sara_csv}");
    assert!(lines[2].starts_with("Team totals,*,"), "{sara_csv}");
    let carl = summary(&workspace.carl, from, to, "none").await;
    assert!(carl.rows.iter().all(|r| r.metrics.messages_in == 0), "{carl:#?}");
    let lead = summary(&workspace.lena, from, to, "agent").await;
    assert!(lead.team_totals.is_none(), "a lead has everyone's rows");
    let mut keys: Vec<Option<String>> = lead.rows.iter().map(|r| r.key.clone()).collect();
    keys.sort();
    let mut expected =
        vec![None, Some(workspace.sara.agent.id.to_string()), Some(workspace.sam.agent.id.to_string())];
    expected.sort();
    assert_eq!(
        keys, expected,
        "a lead sees everyone in the inboxes they see, and the unassigned messages in"
    );
}

#[tokio::test]
async fn bad_report_queries_get_a_clear_error() {
    let server = TestServer::start().await;
    for (query, expected) in [
        ("from=2030-01-07&to=2030-01-06", "to must be after from"),
        ("from=yesterday&to=2030-01-06", "from:"),
        ("from=2030-01-01&to=2031-06-01", "at most 366 days"),
        ("from=2030-01-01&to=2030-01-02&tz=Mars/Olympus", "no time zone"),
    ] {
        let (status, body): (StatusCode, Value) =
            server.admin.get(&format!("/api/v1/reports/summary?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains(expected), "{query}: {body}");
    }
    // Local dates in a zone: a Tehran day starts at 20:30 UTC the day before.
    let (status, body) =
        server.admin.get("/api/v1/reports/summary?from=2030-01-07&to=2030-01-08&tz=Asia/Tehran").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["from"].as_i64(), Some(MONDAY - 3 * HOUR - 30 * MINUTE));
}

async fn series(session: &Session, query: &str) -> ReportSeries {
    let (status, body) = session.get(&format!("/api/v1/reports/timeseries?{query}")).await;
    assert_eq!(status, StatusCode::OK, "timeseries: {body}");
    serde_json::from_value(body).expect("a series")
}

#[tokio::test]
async fn k11_buckets_are_local_days_and_hours_and_a_dst_day_has_23_hours() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    // 21:00 UTC on Monday is 00:30 on Tuesday in Tehran.
    set_clock(&server, MONDAY + 21 * HOUR);
    server.inbound(&workspace.whatsapp, "k11", "k11", "late").await;
    let tehran = series(&server.admin, "from=2030-01-07&to=2030-01-09&tz=Asia/Tehran&interval=day").await;
    let labels: Vec<&str> = tehran.buckets.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["2030-01-07", "2030-01-08"]);
    let messages: Vec<u64> = tehran.rows[0].points.iter().map(|p| p.messages_in).collect();
    assert_eq!(messages, [0, 1], "in Tehran's Tuesday");
    let utc = series(&server.admin, "from=2030-01-07&to=2030-01-09&interval=day").await;
    assert_eq!(utc.rows[0].points.iter().map(|p| p.messages_in).collect::<Vec<_>>(), [1, 0], "UTC's Monday");

    let spring = series(&server.admin, "from=2026-03-29&to=2026-03-30&tz=Europe/Berlin&interval=hour").await;
    assert_eq!(spring.buckets.len(), 23, "the clocks skip 02:00");
    assert!(spring.buckets.iter().all(|b| b.end - b.start == HOUR));
    let autumn = series(&server.admin, "from=2026-10-25&to=2026-10-26&tz=Europe/Berlin&interval=hour").await;
    assert_eq!(autumn.buckets.len(), 25, "02:00 comes twice");
    let weeks = series(&server.admin, "from=2030-01-09&to=2030-01-23&interval=week").await;
    let starts: Vec<&str> = weeks.buckets.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(starts, ["2030-01-07", "2030-01-14", "2030-01-21"], "ISO weeks from their Monday");
    assert_eq!(weeks.buckets[0].start, MONDAY + 2 * DAY, "the first bucket starts at `from`");
}

#[tokio::test]
async fn k13_a_daily_csv_has_a_row_for_every_group_and_day_zeros_included() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 10 * HOUR);
    for (n, session) in [&workspace.sara, &workspace.sam, &server.admin].into_iter().enumerate() {
        let id = server.inbound(&workspace.whatsapp, &format!("k13-{n}"), &format!("k13-{n}"), "hi").await;
        reply(session, id.conversation_id).await;
    }
    let path =
        "/api/v1/reports/timeseries?from=2030-01-07&to=2030-01-14&interval=day&group_by=agent&format=csv";
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(&server.admin.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    let json = series(&server.admin, "from=2030-01-07&to=2030-01-14&interval=day&group_by=agent").await;
    let agents = json.rows.iter().filter(|r| r.key.is_some()).count();
    assert_eq!(agents, 3);
    assert_eq!(rows.len(), json.rows.len() * 7, "every group on every one of the 7 days");
    let zeros = rows.iter().filter(|r| &r[5] == "0" && &r[8] == "0").count();
    assert!(zeros >= 3 * 6, "the quiet days are rows of zeros: {text}");
}

#[tokio::test]
async fn k14_the_full_export_has_one_row_per_cycle() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 10 * HOUR);
    let id = server.inbound(&workspace.whatsapp, "+HYPERLINK", "k14-1", "hi").await.conversation_id;
    server.clock.advance(4 * MINUTE);
    reply(&workspace.sara, id).await;
    status(&workspace.sara, id, "resolved").await;
    server.clock.advance(HOUR);
    server.inbound(&workspace.whatsapp, "+HYPERLINK", "k14-2", "one more").await;
    // An agent-started conversation with a contact whose name a spreadsheet would run.
    let contact = workspace
        .sara
        .ok("/api/v1/contacts", json!({"client_id": Id::new_v4(), "name": "=HYPERLINK(\"http://x\")", "phone": "+40 721 000 333"}))
        .await;
    let body = json!({"client_id": Id::new_v4(), "inbox_id": workspace.whatsapp.inbox.id,
        "contact_id": contact["contact"]["id"], "template": {"name": "follow_up", "params": ["you", "it"]}});
    workspace.sara.ok("/api/v1/conversations", body).await;

    let (status_code, body) =
        server.admin.get("/api/v1/reports/conversations?from=2030-01-07&to=2030-01-08").await;
    assert_eq!(status_code, StatusCode::OK, "{body}");
    let rows: Vec<CycleRow> = serde_json::from_value(body).expect("rows");
    let ours: Vec<&CycleRow> = rows.iter().filter(|r| r.conversation_id == id).collect();
    assert_eq!(ours.len(), 2, "two cycles, two rows: {rows:#?}");
    assert_eq!((ours[0].cycle, ours[0].reopened, ours[1].cycle, ours[1].reopened), (1, false, 2, true));
    assert_eq!((ours[0].first_response_secs, ours[0].replies), (Some(240), 1));
    assert!(ours[0].resolution_secs.is_some() && ours[1].resolved_at.is_none());
    assert_eq!(ours[0].assignee.as_deref(), None, "nobody held it: Sara replied without claiming");
    assert_eq!(rows.len(), 3);

    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/reports/conversations?from=2030-01-07&to=2030-01-08&format=csv&bom=1",
            server.base
        ))
        .bearer_auth(&server.admin.token)
        .send()
        .await
        .expect("csv");
    let bytes = response.bytes().await.expect("bytes");
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a byte-order mark for Excel");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "conversation_id");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), rows.len(), "the CSV holds the JSON's rows");
    let name = header.iter().position(|h| h == "contact_name").expect("contact_name");
    let names: Vec<&str> = records.iter().map(|r| &r[name]).collect();
    assert!(names.contains(&"'=HYPERLINK(\"http://x\")"), "a formula is neutralised: {names:?}");
    let origin = header.iter().position(|h| h == "origin").expect("origin");
    assert_eq!(records.iter().filter(|r| &r[origin] == "agent").count(), 1);
}

#[tokio::test]
async fn k16_live_figures_count_the_desk_now_with_one_unattended_predicate() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 10 * HOUR);
    let waiting = server.inbound(&workspace.whatsapp, "l1", "l1", "hello?").await.conversation_id;
    let answered = server.inbound(&workspace.whatsapp, "l2", "l2", "hi").await.conversation_id;
    let parked = server.inbound(&workspace.whatsapp, "l3", "l3", "hey").await.conversation_id;
    assign(&server.admin, answered, workspace.sara.agent.id).await;
    reply(&workspace.sara, answered).await;
    status(&workspace.sara, parked, "pending").await;
    server.clock.advance(45 * MINUTE);
    let (code, body) = workspace.lena.get("/api/v1/reports/live").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let live: LiveFigures = serde_json::from_value(body).expect("figures");
    assert_eq!((live.open, live.unassigned, live.unattended, live.parked), (2, 1, 1, 1), "{live:?}");
    assert_eq!(live.waiting_longer, 1, "45 minutes is longer than the 30 by default");
    assert!((45 * 60..45 * 60 + 2).contains(&live.longest_wait_secs));
    // The same predicate the figure counts, on each conversation.
    for (id, expected) in [(waiting, true), (answered, false), (parked, false)] {
        let (_, body) = server.admin.get(&format!("/api/v1/conversations/{id}/export")).await;
        let conversation: Transcript = serde_json::from_value(body).expect("transcript");
        assert_eq!(is_unattended(&conversation.conversation), expected);
    }
    let (_, carl) = workspace.carl.get("/api/v1/reports/live").await;
    assert_eq!(carl["open"], 0, "Carl doesn't work this inbox");
}

async fn cycles(session: &Session, query: &str) -> Vec<CycleRow> {
    let (status, body) = session.get(&format!("/api/v1/reports/conversations?{query}")).await;
    assert_eq!(status, StatusCode::OK, "conversations: {body}");
    serde_json::from_value(body).expect("cycle rows")
}

/// A chart's bar drilled into: the cycles behind a bucket's first responses, resolutions or
/// messages in are listed, though they started the day before; as many as the bar counts (one a
/// cycle for messages, however many it had).
#[tokio::test]
async fn a_bucket_drills_down_to_the_cycles_behind_its_count() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY + 22 * HOUR);
    let late = server.inbound(&workspace.whatsapp, "d1", "dd-1", "late on Monday").await.conversation_id;
    set_clock(&server, MONDAY + DAY + 9 * HOUR);
    server.inbound(&workspace.whatsapp, "d1", "dd-2", "still there?").await;
    let early = server.inbound(&workspace.whatsapp, "d2", "dd-3", "Tuesday morning").await.conversation_id;
    server.inbound(&workspace.whatsapp, "d2", "dd-4", "and again").await;
    server.clock.advance(10 * MINUTE);
    reply(&workspace.sara, late).await;
    status(&workspace.sara, late, "resolved").await;

    let tuesday = "from=2030-01-08&to=2030-01-09";
    let day = series(&server.admin, &format!("{tuesday}&interval=day")).await;
    let bar = &day.rows[0].points[0];
    assert_eq!((bar.messages_in, bar.first_response.count, bar.resolutions), (3, 1, 1));

    let ids = |rows: &[CycleRow]| rows.iter().map(|r| r.conversation_id).collect::<Vec<_>>();
    let answered = cycles(&server.admin, &format!("{tuesday}&metric=first_response")).await;
    assert_eq!(ids(&answered), [late], "Monday's cycle, answered on Tuesday");
    assert!((MONDAY + 22 * HOUR..MONDAY + DAY).contains(&answered[0].started_at), "started on Monday");
    assert_eq!(answered[0].first_response_secs, Some((11 * HOUR + 10 * MINUTE) / 1000));
    assert_eq!(ids(&cycles(&server.admin, &format!("{tuesday}&metric=resolution")).await), [late]);
    assert_eq!(ids(&cycles(&server.admin, &format!("{tuesday}&metric=messages_in")).await), [late, early]);
    assert_eq!(ids(&cycles(&server.admin, tuesday).await), [early], "started on Tuesday: Eli's only");
    assert_eq!(ids(&cycles(&server.admin, &format!("{tuesday}&metric=started")).await), [early]);

    let (status, body) =
        server.admin.get(&format!("/api/v1/reports/conversations?{tuesday}&metric=bars")).await;
    assert!(status.is_client_error(), "an unknown metric is refused: {status} {body}");
}

/// A small deterministic generator (no seed to remember: the same history every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn reports_aggregate_exactly_as_the_plain_computation_over_every_fact() {
    // A history with every kind of fact: several agents and teams, label sets (none, one, two,
    // in Persian too), business hours on one inbox, notes, reopens, resolutions, ties; then the
    // store's aggregation (SQL on PostgreSQL, a scan on SQLite) against the plain one over every
    // fact, for every grouping, one bucket and many, and one agent's own figures.
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let hours = json!({"time_zone": "Europe/Bucharest",
        "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}});
    let path = format!("/api/v1/inboxes/{}", workspace.email.inbox.id);
    let (code, _) = server.admin.request(Method::PATCH, &path, Some(json!({"hours": hours}))).await;
    assert_eq!(code, StatusCode::OK);
    server.admin.ok("/api/v1/labels", json!({"name": "پشتیبانی", "color": "#123456"})).await;
    let label_sets: [&[&str]; 5] = [&[], &["vip"], &["vip", "refund"], &["پشتیبانی"], &["bug", "vip"]];
    let mut random = Lcg(18);
    set_clock(&server, MONDAY + 7 * HOUR);
    // An SLA policy whose targets some answers and resolutions meet and others miss: its outcomes
    // are facts like the rest (breaches dated when due, fired by the timer loop as time moves).
    let policy = json!({"name": "All", "first_response_secs": 3600, "next_response_secs": 1800, "resolution_secs": 7200});
    server.admin.ok("/api/v1/sla-policies", policy).await;
    for n in 0..16u64 {
        // Each inbox's members: Support works WhatsApp, Sales email; the admin both.
        let (inbox, key, agents) = if n % 3 == 0 {
            (&workspace.whatsapp, "x", [&workspace.sara, &workspace.sam, &server.admin, &workspace.sara])
        } else {
            (&workspace.email, "y", [&workspace.carl, &server.admin, &workspace.carl, &server.admin])
        };
        let contact = format!("exact-{key}-{n}");
        let id = server.inbound(inbox, &contact, &format!("{contact}-0"), "hello").await.conversation_id;
        let assignee = agents[random.below(4) as usize];
        if random.below(4) > 0 {
            let team =
                if random.below(2) == 0 { json!(null) } else { json!(workspace_team(&server, n).await) };
            let body = json!({"client_id": Id::new_v4(), "assignee_id": assignee.agent.id, "team_id": team});
            server.admin.ok(&format!("/api/v1/conversations/{id}/assign"), body).await;
        }
        let labels = label_sets[random.below(5) as usize];
        if !labels.is_empty() {
            let body = json!({"client_id": Id::new_v4(), "add": labels});
            server.admin.ok(&format!("/api/v1/conversations/{id}/labels"), body).await;
        }
        for turn in 1..=random.below(4) {
            server.clock.advance(random.below(90) as Millis * MINUTE);
            let replier = agents[random.below(4) as usize];
            match random.below(4) {
                0 => note(replier, id, "a note").await,
                1 => {
                    server.inbound(inbox, &contact, &format!("{contact}-{turn}"), "more").await;
                }
                _ => reply(replier, id).await,
            }
        }
        if random.below(3) > 0 {
            status(assignee, id, "resolved").await;
            if random.below(2) == 0 {
                server.clock.advance(random.below(60) as Millis * MINUTE);
                server.inbound(inbox, &contact, &format!("{contact}-again"), "me again").await;
                reply(assignee, id).await;
            }
        }
        server.clock.advance(random.below(5) as Millis * HOUR + 7 * MINUTE);
    }
    let config = test_config(server.data_dir.path());
    let sara = workspace.sara.agent.id;
    let compared = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let store = switchboard_server::open_workspace(&config).expect("the workspace opens");
        let mut compared = 0;
        let hourly: Vec<Millis> = (0..72).map(|h| MONDAY + h * HOUR + 30 * MINUTE).collect();
        let periods = [
            (MONDAY, MONDAY + 3 * DAY, vec![MONDAY]),
            (MONDAY + 30 * MINUTE, MONDAY + 3 * DAY, hourly),
            (MONDAY + 9 * HOUR, MONDAY + 2 * DAY, vec![MONDAY + 9 * HOUR, MONDAY + 20 * HOUR, MONDAY + DAY]),
            // Local days in UTC+2, the last after a change to UTC+3 (23 hours): each a UTC day's
            // spread minus its hours outside the bucket, plus the hours before it.
            (
                MONDAY - 2 * HOUR,
                MONDAY + 3 * DAY - 3 * HOUR,
                vec![MONDAY - 2 * HOUR, MONDAY + DAY - 2 * HOUR, MONDAY + 2 * DAY - 2 * HOUR],
            ),
        ];
        for group_by in
            [GroupBy::None, GroupBy::Agent, GroupBy::Team, GroupBy::Inbox, GroupBy::Label, GroupBy::Channel]
        {
            for (from, to, starts) in &periods {
                for agent in [None, Some(sara)] {
                    let (stored, plain) = runtime
                        .block_on(store.report_aggregation_both_ways(
                            *from,
                            *to,
                            starts.clone(),
                            group_by,
                            agent,
                        ))
                        .expect("both aggregations");
                    assert_eq!(
                        stored,
                        plain,
                        "{group_by:?} over {from}..{to} in {} buckets, {agent:?}",
                        starts.len()
                    );
                    compared += plain.iter().map(|groups| groups.len()).sum::<usize>();
                }
            }
        }
        drop(store);
        compared
    })
    .join()
    .expect("the comparison panicked");
    assert!(compared > 100, "the history has groups to compare: {compared}");
    let total = summary(&server.admin, MONDAY, MONDAY + 3 * DAY, "none").await;
    let total = row(&total, None);
    assert!(total.resolutions > 4 && total.reopened > 0 && total.response.count > 4, "{total:#?}");
    assert!(total.first_response.business.is_some());
    let outcomes = [total.sla_first_response, total.sla_next_response, total.sla_resolution];
    assert!(outcomes.iter().map(|o| o.met).sum::<u64>() > 0, "{total:#?}");
    assert!(total.assignment_to_first_reply.count > 0, "{total:#?}");
}

/// Support or Sales, alternately.
async fn workspace_team(server: &TestServer, n: u64) -> Id {
    let (status, teams) = server.admin.get("/api/v1/teams").await;
    assert_eq!(status, StatusCode::OK);
    let teams: Vec<Team> = serde_json::from_value(teams).expect("teams");
    teams[n as usize % teams.len()].id
}

#[tokio::test]
async fn rollups_equal_a_fresh_build_after_reopens_reassignments_and_a_fact_moving_period() {
    // A mixed history, reported on between steps (each report refreshes the facts, so the
    // rollups are changed conversation by conversation, fact rows deleted and written again):
    // cycles opened, answered, reassigned (agent and team), relabelled, resolved and reopened,
    // across an hour and a midnight; then a stored fact moved to another hour and day. After
    // every step the rollups equal a fresh build from the stored facts, and after a rebuild
    // they equal what they were before the fact moved.
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let config = test_config(server.data_dir.path());
    let both_ways = move || {
        let config = config.clone();
        std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            let store = switchboard_server::open_workspace(&config).expect("the workspace opens");
            runtime.block_on(store.report_rollups_both_ways()).expect("the rollups")
        })
        .join()
        .expect("the comparison panicked")
    };
    // The duration facts' spreads (exact values per UTC hour and day) the same way.
    let config = test_config(server.data_dir.path());
    let spreads_both_ways = move || {
        let config = config.clone();
        std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            let store = switchboard_server::open_workspace(&config).expect("the workspace opens");
            runtime.block_on(store.report_spreads_both_ways()).expect("the spreads")
        })
        .join()
        .expect("the comparison panicked")
    };
    let check = |step: &str, (stored, fresh): (Vec<_>, Vec<_>)| {
        assert_eq!(stored, fresh, "after {step}: stored rollups against a fresh build");
        let (stored_spreads, fresh_spreads) = spreads_both_ways();
        assert_eq!(stored_spreads, fresh_spreads, "after {step}: stored spreads against a fresh build");
        (stored, stored_spreads)
    };
    set_clock(&server, MONDAY + 22 * HOUR + 50 * MINUTE);
    let inbox = &workspace.whatsapp;
    let first = server.inbound(inbox, "roll-1", "roll-1-0", "hello").await.conversation_id;
    let second = server.inbound(inbox, "roll-2", "roll-2-0", "hi").await.conversation_id;
    assign(&server.admin, first, workspace.sara.agent.id).await;
    summary(&server.admin, MONDAY, MONDAY + 2 * DAY, "agent").await;
    check("two new conversations", both_ways());

    server.clock.advance(20 * MINUTE);
    reply(&workspace.sara, first).await;
    server.admin.ok("/api/v1/labels", json!({"name": "پشتیبانی", "color": "#123456"})).await;
    let body = json!({"client_id": Id::new_v4(), "add": ["vip", "پشتیبانی"]});
    server.admin.ok(&format!("/api/v1/conversations/{first}/labels"), body).await;
    server.inbound(inbox, "roll-1", "roll-1-1", "and another thing").await;
    server.clock.advance(90 * MINUTE);
    // Reassigned to another agent and a team past midnight, answered by them, resolved.
    let team = workspace_team(&server, 0).await;
    let body = json!({"client_id": Id::new_v4(), "assignee_id": workspace.sam.agent.id, "team_id": team});
    server.admin.ok(&format!("/api/v1/conversations/{first}/assign"), body).await;
    reply(&workspace.sam, first).await;
    status(&workspace.sam, first, "resolved").await;
    summary(&server.admin, MONDAY, MONDAY + 2 * DAY, "label").await;
    check("a reply, labels, a reassignment and a resolution", both_ways());

    // The customer reopens it the next morning; the other conversation is answered and resolved.
    server.clock.advance(8 * HOUR);
    server.inbound(inbox, "roll-1", "roll-1-2", "it broke again").await;
    assign(&server.admin, second, workspace.sara.agent.id).await;
    reply(&workspace.sara, second).await;
    status(&workspace.sara, second, "resolved").await;
    reply(&workspace.sam, first).await;
    summary(&server.admin, MONDAY, MONDAY + 3 * DAY, "team").await;
    let before = check("a reopen and a second resolution", both_ways());
    let spreads = &before.1;
    assert!(
        spreads.iter().any(|((_, kind), s)| *kind == 6 && s.conversations.contains(&first))
            && spreads
                .iter()
                .any(|((key, _), s)| key.unit == switchboard_server::facts::Unit::Hour && s.wall.len() == 1),
        "{spreads:#?}"
    );
    let (before, spreads_before) = before;
    assert!(
        before.iter().any(|(_, counts)| counts.reopened > 0)
            && before.iter().any(|(key, _)| key.unit == switchboard_server::facts::Unit::Day)
            && before.iter().any(|(key, _)| key.agent.is_none()),
        "{before:#?}"
    );

    // A stored fact moves to another hour and day: its old rows shrink (to nothing: they go) and
    // new ones appear.
    let config = test_config(server.data_dir.path());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let store = switchboard_server::open_workspace(&config).expect("the workspace opens");
        // Sara's reply (fact 2, after the cycle's start and the message in): the only count fact
        // of its hour and day rows, which go.
        runtime.block_on(store.report_fact_moved(second, 2, MONDAY + 5 * DAY + 30 * MINUTE)).expect("moved");
        // And one of its duration facts (a response or the resolution): its spreads follow.
        runtime.block_on(store.report_fact_moved(second, 4, MONDAY + 6 * DAY + 30 * MINUTE)).expect("moved");
    })
    .join()
    .expect("the move panicked");
    let (moved, spreads_moved) = check("a fact moved to another day", both_ways());
    assert_ne!(spreads_moved, spreads_before, "the move changed the spreads");
    assert_ne!(moved, before, "the move changed the rollups");
    assert!(moved.iter().any(|(key, _)| key.start == MONDAY + 5 * DAY), "{moved:#?}");

    // A rebuild derives every fact again: the rollups are back to what they were.
    server.admin.ok("/api/v1/reports/rebuild", json!({})).await;
    let (rebuilt, spreads_rebuilt) = check("a rebuild", both_ways());
    assert_eq!(rebuilt, before, "the rebuild's rollups");
    assert_eq!(spreads_rebuilt, spreads_before, "the rebuild's spreads");
}

/// The summary as CSV, read back as records with their header.
async fn summary_csv(session: &Session, from: Millis, to: Millis, group_by: &str) -> Vec<(String, String)> {
    let path =
        format!("/api/v1/reports/summary?from={}&to={}&group_by={group_by}&format=csv", iso(from), iso(to));
    let response = reqwest::Client::new()
        .get(format!("{}{path}", session.base))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let mut cells = Vec::new();
    for record in reader.records() {
        let record = record.expect("a record");
        cells.extend(header.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())));
    }
    cells
}

/// The CSV's cells for one row (`key` empty for "none") against its JSON figures, column by column.
fn csv_matches(cells: &[(String, String)], summary: &ReportSummary) {
    let rows: Vec<&[(String, String)]> =
        cells.split_inclusive(|(h, _)| h == "sla_resolution_within_target_permille").collect();
    assert_eq!(rows.len(), summary.rows.len(), "one line per JSON row");
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for (cells, row) in rows.iter().zip(&summary.rows) {
        let cell = |name: &str| {
            cells
                .iter()
                .find(|(h, _)| h == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let m = &row.metrics;
        let a = &m.assignment_to_first_reply;
        assert_eq!(cell("key"), row.key.clone().unwrap_or_default());
        assert_eq!(cell("assignment_to_first_reply_count"), a.count.to_string());
        assert_eq!(cell("assignment_to_first_reply_wall_mean_s"), opt(a.wall.map(|d| d.mean)));
        assert_eq!(cell("assignment_to_first_reply_wall_p90_s"), opt(a.wall.map(|d| d.p90)));
        assert_eq!(cell("assignment_to_first_reply_business_median_s"), opt(a.business.map(|d| d.median)));
        for (name, outcomes) in [
            ("sla_first_response", m.sla_first_response),
            ("sla_next_response", m.sla_next_response),
            ("sla_resolution", m.sla_resolution),
        ] {
            assert_eq!(cell(&format!("{name}_met")), outcomes.met.to_string());
            assert_eq!(cell(&format!("{name}_breached")), outcomes.breached.to_string());
            assert_eq!(
                cell(&format!("{name}_within_target_permille")),
                outcomes.within_target_permille.map(|v| v.to_string()).unwrap_or_default()
            );
        }
    }
}

/// The summary's JSON as served, then again after `POST /reports/rebuild`: byte for byte equal.
async fn rebuilds_identically(server: &TestServer, from: Millis, to: Millis, group_by: &str) {
    let path = format!("/api/v1/reports/summary?from={}&to={}&group_by={group_by}", iso(from), iso(to));
    let before = server.admin.get(&path).await.1;
    let (code, rebuilt) = server.admin.post("/api/v1/reports/rebuild", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{rebuilt}");
    let after = server.admin.get(&path).await.1;
    assert_eq!(serde_json::to_string(&before).expect("json"), serde_json::to_string(&after).expect("json"));
}

#[tokio::test]
async fn assignment_to_first_reply_runs_from_an_assignment_to_that_assignees_reply() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (sara, sam) = (workspace.sara.agent.id, workspace.sam.agent.id);
    let inbox = workspace.whatsapp.inbox.id;
    let greeting = json!({"auto_replies": {"greeting": {"body": "Thanks, we'll be right with you"}}});
    let (code, _) =
        server.admin.request(Method::PATCH, &format!("/api/v1/inboxes/{inbox}"), Some(greeting)).await;
    assert_eq!(code, StatusCode::OK);
    set_clock(&server, MONDAY + 10 * HOUR);
    // Reassigned before the first reply: Sara's assignment gives no figure, Sam's runs 4 minutes
    // (the greeting, an automatic reply, ends nothing).
    let first = server.inbound(&workspace.whatsapp, "afr1", "afr1-1", "hello").await.conversation_id;
    server.clock.advance(MINUTE);
    assign(&server.admin, first, sara).await;
    server.clock.advance(2 * MINUTE);
    assign(&server.admin, first, sam).await;
    server.clock.advance(4 * MINUTE);
    reply(&workspace.sam, first).await;
    // Another person's reply doesn't end Sara's measure: hers runs to her own reply, 9 minutes.
    let second = server.inbound(&workspace.whatsapp, "afr2", "afr2-1", "hi").await.conversation_id;
    assign(&server.admin, second, sara).await;
    server.clock.advance(3 * MINUTE);
    reply(&workspace.sam, second).await;
    server.inbound(&workspace.whatsapp, "afr2", "afr2-2", "and?").await;
    server.clock.advance(6 * MINUTE);
    reply(&workspace.sara, second).await;
    // Assigned while nobody waits (after the answer): no figure; a note is no reply either.
    assign(&server.admin, first, sara).await;
    server.clock.advance(MINUTE);
    note(&workspace.sara, first, "mine now").await;
    reply(&workspace.sara, first).await;
    // A reopened cycle: resolved, the customer writes again, assigned to Sam while they wait, Sam
    // answers 2 minutes later: a figure of the second cycle.
    status(&workspace.sara, first, "resolved").await;
    server.clock.advance(HOUR);
    server.inbound(&workspace.whatsapp, "afr1", "afr1-2", "back again").await;
    server.clock.advance(MINUTE);
    assign(&server.admin, first, sam).await;
    server.clock.advance(2 * MINUTE);
    reply(&workspace.sam, first).await;

    let report = summary(&server.admin, MONDAY, MONDAY + DAY, "agent").await;
    let by_sam = &row(&report, Some(sam)).assignment_to_first_reply;
    assert_eq!(by_sam.count, 2, "Sam's two assignments answered: {by_sam:?}");
    let (min, max) = (wall(by_sam).min, wall(by_sam).max);
    assert!((120..121).contains(&min) && (240..241).contains(&max), "2 and 4 minutes: {by_sam:?}");
    assert_eq!(by_sam.business.expect("business").max, wall(by_sam).max, "no hours: wall time");
    let by_sara = &row(&report, Some(sara)).assignment_to_first_reply;
    assert_eq!(by_sara.count, 1, "only the assignment she answered: {by_sara:?}");
    assert!((540..541).contains(&wall(by_sara).mean), "9 minutes to her own reply: {by_sara:?}");
    // The next day's report has these as its previous period.
    let tuesday = summary(&server.admin, MONDAY + DAY, MONDAY + 2 * DAY, "none").await;
    let previous: u64 = tuesday.previous.iter().map(|r| r.metrics.assignment_to_first_reply.count).sum();
    assert_eq!(previous, 3);
    assert!(tuesday.rows.iter().all(|r| r.metrics.assignment_to_first_reply.count == 0));
    csv_matches(&summary_csv(&server.admin, MONDAY, MONDAY + DAY, "agent").await, &report);
    rebuilds_identically(&server, MONDAY, MONDAY + DAY, "agent").await;
    // An agent grouped by agent sees their own figure only.
    let mine = summary(&workspace.sara, MONDAY, MONDAY + DAY, "agent").await;
    assert_eq!(mine.rows.len(), 1);
    assert_eq!(mine.rows[0].metrics.assignment_to_first_reply.count, 1);
}

#[tokio::test]
async fn assignment_to_first_reply_in_business_time_belongs_to_the_period_of_the_reply() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    set_clock(&server, MONDAY - 3 * DAY);
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let hours =
        json!({"time_zone": "UTC", "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}});
    let path = format!("/api/v1/inboxes/{}", workspace.email.inbox.id);
    let (code, _) = server.admin.request(Method::PATCH, &path, Some(json!({"hours": hours}))).await;
    assert_eq!(code, StatusCode::OK);
    // Saturday 10:00 a message, 11:00 assigned to Carl, Monday 09:10 his reply: 46 h 10 min of
    // wall time, 10 business minutes, in Monday's report (the period of its end).
    set_clock(&server, MONDAY - 2 * DAY + 10 * HOUR);
    let id = server.inbound(&workspace.email, "afr-b", "afr-b", "saturday").await.conversation_id;
    set_clock(&server, MONDAY - 2 * DAY + 11 * HOUR);
    assign(&server.admin, id, workspace.carl.agent.id).await;
    set_clock(&server, MONDAY + 9 * HOUR + 10 * MINUTE);
    reply(&workspace.carl, id).await;
    let monday = summary(&server.admin, MONDAY, MONDAY + DAY, "inbox").await;
    let figures = &row(&monday, Some(workspace.email.inbox.id)).assignment_to_first_reply;
    let wall_secs = wall(figures).mean;
    assert!((46 * 3600 + 599..=46 * 3600 + 600).contains(&wall_secs), "46 h 10 min: {wall_secs}");
    let business = figures.business.expect("business").mean;
    assert!((599..=600).contains(&business), "10 business minutes: {business}");
    let saturday = summary(&server.admin, MONDAY - 2 * DAY, MONDAY - DAY, "none").await;
    assert!(saturday.rows.iter().all(|r| r.metrics.assignment_to_first_reply.count == 0));
    csv_matches(&summary_csv(&server.admin, MONDAY, MONDAY + DAY, "inbox").await, &monday);
}

/// The per-cycle export of a period against the summary of the same period (everything in it
/// started, answered and ended in the period): the rows' counts and sums give the summary's
/// figures, SLA outcomes and "% within target" included; and the CSV holds the JSON's rows, cell
/// for cell, on every column.
async fn the_cycles_export_adds_up_to_the_summary(
    server: &TestServer,
    from: Millis,
    to: Millis,
    all: &Metrics,
) {
    let query = format!("from={}&to={}", iso(from), iso(to));
    let rows = cycles(&server.admin, &query).await;
    let sum = |f: &dyn Fn(&CycleRow) -> u64| rows.iter().map(f).sum::<u64>();
    assert_eq!(sum(&|_| 1), all.cycles_started);
    assert_eq!(sum(&|r| u64::from(r.reopened)), all.reopened);
    assert_eq!(sum(&|r| r.replies), all.messages_out);
    assert_eq!(sum(&|r| u64::from(r.resolved_at.is_some())), all.resolutions);
    let outcomes = |met: &dyn Fn(&CycleRow) -> u64, breached: &dyn Fn(&CycleRow) -> u64| {
        SlaOutcomes::of(sum(met), sum(breached))
    };
    assert_eq!(
        outcomes(&|r| r.sla_first_response_met, &|r| r.sla_first_response_breached),
        all.sla_first_response
    );
    assert_eq!(
        outcomes(&|r| r.sla_next_response_met, &|r| r.sla_next_response_breached),
        all.sla_next_response
    );
    assert_eq!(outcomes(&|r| r.sla_resolution_met, &|r| r.sla_resolution_breached), all.sla_resolution);
    // Durations: the count, and the mean of the rows' whole seconds (the history's durations are
    // whole minutes, so nothing is lost to rounding).
    let mean =
        |values: Vec<i64>| (!values.is_empty()).then(|| values.iter().sum::<i64>() / values.len() as i64);
    let first: Vec<i64> = rows.iter().filter_map(|r| r.first_response_secs).collect();
    assert_eq!(first.len() as u64, all.first_response.count);
    assert_eq!(mean(first), all.first_response.wall.map(|d| d.mean));
    let resolution: Vec<i64> = rows.iter().filter_map(|r| r.resolution_secs).collect();
    assert_eq!(mean(resolution), all.resolution.wall.map(|d| d.mean));
    let open: Vec<i64> = rows.iter().filter_map(|r| r.resolution_open_secs).collect();
    assert_eq!(mean(open), all.resolution_open.wall.map(|d| d.mean));
    assert_eq!(sum(&|r| r.assignments_answered), all.assignment_to_first_reply.count);
    assert!(
        rows.iter().all(|r| r.assignments_answered <= 1),
        "one measure a cycle here: its mean from the rows"
    );
    let assigned: Vec<i64> = rows.iter().filter_map(|r| r.assignment_to_first_reply_secs).collect();
    assert_eq!(mean(assigned), all.assignment_to_first_reply.wall.map(|d| d.mean));
    assert!(all.assignment_to_first_reply.count > 0 && all.sla_next_response.breached > 0, "{all:#?}");

    // CSV equal to JSON: every column of every row, the JSON's field under the CSV's name
    // (`_s` for `_secs`), instants as RFC 3339, labels joined with `|`.
    let (_, json) = server.admin.get(&format!("/api/v1/reports/conversations?{query}")).await;
    let json = json.as_array().expect("rows").clone();
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/reports/conversations?{query}&format=csv", server.base))
        .bearer_auth(&server.admin.token)
        .send()
        .await
        .expect("csv");
    let text = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), json.len());
    let fields = json[0].as_object().expect("an object").len();
    assert_eq!(header.len(), fields, "every JSON field has its column: {header:?}");
    for (record, row) in records.iter().zip(&json) {
        for (name, cell) in header.iter().zip(record.iter()) {
            let field = name.strip_suffix("_s").map_or_else(|| name.to_owned(), |f| format!("{f}_secs"));
            let value = row.get(&field).unwrap_or_else(|| panic!("no field {field} in {row}"));
            let expected = match value {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                Value::Array(labels) => {
                    labels.iter().map(|l| l.as_str().expect("a label")).collect::<Vec<_>>().join("|")
                }
                Value::Number(at) if field.ends_with("_at") => iso(at.as_i64().expect("millis")),
                other => other.to_string(),
            };
            assert_eq!(cell, expected, "column {name}");
        }
    }
}

async fn sla_policy(server: &TestServer, body: Value) {
    let (code, created) = server.admin.post("/api/v1/sla-policies", body).await;
    assert_eq!(code, StatusCode::OK, "{created}");
}

/// Waits until the conversation's ledger records an SLA `what` for `metric` (the timer loop runs
/// every 20 ms; the due time has already passed on the server's clock).
async fn until_sla(server: &TestServer, conversation: Id, metric: SlaMetric, what: &str) {
    for _ in 0..200 {
        let (code, body) = server.admin.get(&format!("/api/v1/conversations/{conversation}/events")).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let events: Vec<ConversationEvent> = serde_json::from_value(body).expect("events");
        let found = events.iter().any(
            |e| matches!(&e.event, EventKind::Sla { metric: m, what: w, .. } if *m == metric && w == what),
        );
        if found {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no {what} for {metric:?}");
}

#[tokio::test]
async fn sla_outcomes_are_met_or_breached_once_per_clock_and_within_target_is_their_share() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (sara, sam) = (workspace.sara.agent.id, workspace.sam.agent.id);
    sla_policy(
        &server,
        json!({"name": "Support", "first_response_secs": 3600, "next_response_secs": 600, "resolution_secs": 7200}),
    )
    .await;
    set_clock(&server, MONDAY + 10 * HOUR);
    // Met: answered in 10 minutes, resolved in 30; then reopened by the customer, whose second
    // cycle's first response is met too (a cycle of its own) and its resolution breached.
    let met = server.inbound(&workspace.whatsapp, "sla1", "sla1-1", "hello").await.conversation_id;
    assign(&server.admin, met, sara).await;
    server.clock.advance(10 * MINUTE);
    reply(&workspace.sara, met).await;
    server.clock.advance(20 * MINUTE);
    status(&workspace.sara, met, "resolved").await;
    // Breached, then answered late: one breach (not a breach and a met).
    let late = server.inbound(&workspace.whatsapp, "sla2", "sla2-1", "anyone?").await.conversation_id;
    assign(&server.admin, late, sam).await;
    server.clock.advance(61 * MINUTE);
    until_sla(&server, late, SlaMetric::FirstResponse, "breached").await;
    reply(&workspace.sam, late).await;
    // The next response: the customer writes, nobody answers within 10 minutes.
    server.inbound(&workspace.whatsapp, "sla2", "sla2-2", "still there?").await;
    server.clock.advance(11 * MINUTE);
    until_sla(&server, late, SlaMetric::NextResponse, "breached").await;
    reply(&workspace.sam, late).await;
    status(&workspace.sam, late, "resolved").await;
    // Resolved before any reply, in time: the reply clock is cancelled (neither), and nothing
    // breaches after the resolution however long it stays resolved.
    let closed = server.inbound(&workspace.whatsapp, "sla3", "sla3-1", "never mind").await.conversation_id;
    server.clock.advance(MINUTE);
    status(&server.admin, closed, "resolved").await;
    // The reopened cycle of the first conversation.
    server.inbound(&workspace.whatsapp, "sla1", "sla1-2", "one more thing").await;
    server.clock.advance(5 * MINUTE);
    reply(&workspace.sara, met).await;
    server.clock.advance(3 * HOUR);
    until_sla(&server, met, SlaMetric::Resolution, "breached").await;
    status(&workspace.sara, met, "resolved").await;
    server.clock.advance(2 * HOUR);
    // Still waiting for its first answer when the report is read: a running clock, no outcome.
    let waiting = server.inbound(&workspace.whatsapp, "sla4", "sla4-1", "hello?").await.conversation_id;

    let (from, to) = (MONDAY, MONDAY + DAY);
    let report = summary(&server.admin, from, to, "none").await;
    let all = row(&report, None);
    the_cycles_export_adds_up_to_the_summary(&server, from, to, all).await;
    let rows = cycles(&server.admin, "from=2030-01-07&to=2030-01-08").await;
    let cycle = |id: Id, n: u32| rows.iter().find(|r| r.conversation_id == id && r.cycle == n).expect("row");
    let (first, reopened, breached, cancelled, running) =
        (cycle(met, 1), cycle(met, 2), cycle(late, 1), cycle(closed, 1), cycle(waiting, 1));
    assert_eq!(first.sla_policy.as_deref(), Some("Support"));
    assert_eq!(
        (
            first.sla_first_response_target_secs,
            first.sla_next_response_target_secs,
            first.sla_resolution_target_secs
        ),
        (Some(3600), None, Some(7200)),
        "no next-response clock ran in the first cycle"
    );
    assert_eq!(
        (first.sla_first_response, first.sla_resolution),
        (Some(SlaOutcome::Met), Some(SlaOutcome::Met))
    );
    assert_eq!(first.first_assignee.as_ref(), Some(&workspace.sara.agent.name));
    let assigned_at = first.first_assigned_at.expect("assigned");
    assert!((MONDAY + 10 * HOUR..MONDAY + 10 * HOUR + MINUTE).contains(&assigned_at), "assigned on arrival");
    assert_eq!((reopened.sla_resolution, reopened.sla_resolution_breached), (Some(SlaOutcome::Breached), 1));
    assert_eq!(reopened.first_assignee, first.first_assignee, "she held it when it reopened");
    assert_eq!(
        (breached.sla_first_response, breached.sla_next_response, breached.sla_next_response_target_secs),
        (Some(SlaOutcome::Breached), Some(SlaOutcome::Breached), Some(600)),
        "answered late: breached, not met"
    );
    assert_eq!(
        (breached.first_assignee.as_deref(), breached.assignments_answered),
        (Some(workspace.sam.agent.name.as_str()), 1)
    );
    assert_eq!(breached.assignment_to_first_reply_secs, Some(61 * 60));
    assert_eq!(
        (cancelled.sla_first_response, cancelled.sla_resolution),
        (Some(SlaOutcome::Cancelled), Some(SlaOutcome::Met))
    );
    assert_eq!((cancelled.first_assignee.as_deref(), cancelled.first_assigned_at), (None, None));
    assert_eq!((running.sla_first_response, running.sla_first_response_met), (Some(SlaOutcome::Running), 0));
    assert_eq!(
        (all.sla_first_response.met, all.sla_first_response.breached),
        (2, 1),
        "cycle 1 and 2 of the first, the late one once: {all:#?}"
    );
    assert_eq!(all.sla_first_response.within_target_permille, Some(666), "2 of 3, rounded down");
    assert_eq!((all.sla_next_response.met, all.sla_next_response.breached), (0, 1));
    assert_eq!(all.sla_next_response.within_target_permille, Some(0));
    assert_eq!(
        (all.sla_resolution.met, all.sla_resolution.breached),
        (3, 1),
        "three resolved in time, the reopened cycle late"
    );
    assert_eq!(all.sla_resolution.within_target_permille, Some(750));
    // Credited to whoever held it at the outcome.
    let by_agent = summary(&server.admin, from, to, "agent").await;
    let sam_row = row(&by_agent, Some(sam));
    assert_eq!((sam_row.sla_first_response.breached, sam_row.sla_next_response.breached), (1, 1));
    assert_eq!(sam_row.sla_first_response.within_target_permille, Some(0));
    let sara_row = row(&by_agent, Some(sara));
    assert_eq!((sara_row.sla_first_response.met, sara_row.sla_resolution.breached), (2, 1));
    let none_row = row(&by_agent, None);
    assert_eq!(
        (none_row.sla_resolution.met, none_row.sla_first_response.met),
        (1, 0),
        "the cancelled clock counts neither"
    );
    // The period a fact belongs to: the previous day has none, the next day's previous period all.
    let tuesday = summary(&server.admin, MONDAY + DAY, MONDAY + 2 * DAY, "none").await;
    let previous = &tuesday.previous.iter().find(|r| r.key.is_none()).expect("previous").metrics;
    assert_eq!(previous.sla_resolution, all.sla_resolution);
    assert!(tuesday
        .rows
        .iter()
        .all(|r| r.metrics.sla_first_response.met + r.metrics.sla_first_response.breached == 0));

    csv_matches(&summary_csv(&server.admin, from, to, "agent").await, &by_agent);
    rebuilds_identically(&server, from, to, "agent").await;
    // An agent grouped by agent: their own SLA figures only; Carl (Sales) sees none of Support's.
    let mine = summary(&workspace.sam, from, to, "agent").await;
    assert_eq!(mine.rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), [Some(sam.to_string())]);
    assert_eq!(mine.rows[0].metrics.sla_first_response, sam_row.sla_first_response);
    let carl = summary(&workspace.carl, from, to, "none").await;
    assert!(carl.rows.iter().all(|r| r.metrics.sla_resolution.met == 0), "{carl:#?}");
}
