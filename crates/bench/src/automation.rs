//! The automation issue's figures: customer messages taken in per second with routing, business
//! hours, 50 rules and 50 SLA policies switched on (the row), and with auto-replies on
//! besides (each new conversation then also sends a greeting), next to the same run with all of
//! it off; and how late durable timers fire when thousands fall due in a short window (snoozes
//! here: the same loop fires SLA warnings, breaches, greetings and releases).
//!
//! The automation issue asks for "50 rules": the row has 50 automation rules on every customer
//! message (49 whose conditions fail, one that acts), and 50 SLA policies besides (each one is
//! tried on every conversation write).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::{json, Value};
use switchboard_proto::*;

use crate::{figures::percentile, report::Row, server::Launched};

/// A server of its own, its admin, and one webchat inbox.
struct Server {
    server: Launched,
    inbox: CreatedInbox,
}

impl std::ops::Deref for Server {
    type Target = Launched;

    fn deref(&self) -> &Launched {
        &self.server
    }
}

impl Server {
    async fn start() -> anyhow::Result<Server> {
        let server = Launched::start().await?;
        let inbox = serde_json::from_value(
            server.call("POST", "/api/v1/inboxes", json!({"name": "Chat", "channel": "webchat"})).await?,
        )?;
        Ok(Server { server, inbox })
    }

    async fn inbound(&self, contact: &str, external_id: &str) -> anyhow::Result<InboundResult> {
        let payload = json!({
            "contact": {"external_id": contact, "name": format!("Customer {contact}")},
            "message": {"external_id": external_id, "body": "Hello, what is the price of shipping?"},
        })
        .to_string();
        let signature = switchboard_server::sign_payload(&self.inbox.signing_secret, payload.as_bytes());
        let response = self
            .http
            .post(format!("{}/api/v1/channels/{}/inbound", self.base, self.inbox.inbox.id))
            .header("content-type", "application/json")
            .header(switchboard_server::SIGNATURE_HEADER, signature)
            .body(payload)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "inbound: {}", response.status());
        Ok(response.json().await?)
    }

    /// Five agents, members of the inbox, available and connected (their streams are returned:
    /// dropping them disconnects the agents). Both sides of the ingest row have them: a team's
    /// agents are online whether or not automation is, and every change fans out to their streams.
    async fn connect_agents(&self) -> anyhow::Result<Vec<Socket>> {
        let mut members = Vec::new();
        let mut sessions = Vec::new();
        for n in 0..5 {
            let email = format!("agent{n}@bench.example");
            let agent = self
                .call("POST", "/api/v1/agents", json!({"name": format!("Agent {n}"), "email": email, "role": "agent", "password": "bench-password-1"}))
                .await?;
            let id = agent["id"].as_str().unwrap_or_default().to_owned();
            self.call("PATCH", &format!("/api/v1/agents/{id}"), json!({"capacity": 1_000_000})).await?;
            members.push(id);
            sessions.push(email);
        }
        self.call(
            "PATCH",
            &format!("/api/v1/inboxes/{}", self.inbox.inbox.id),
            json!({"member_agent_ids": members}),
        )
        .await?;
        let mut sockets = Vec::new();
        for email in sessions {
            let login: LoginResponse = self
                .http
                .post(format!("{}/api/v1/auth/login", self.base))
                .json(&json!({"email": email, "password": "bench-password-1", "device_name": "bench"}))
                .send()
                .await?
                .json()
                .await?;
            self.http
                .patch(format!("{}/api/v1/me", self.base))
                .bearer_auth(&login.token)
                .json(&json!({"availability": "online"}))
                .send()
                .await?;
            sockets.push(stream(&self.base, &login.token, i64::MAX).await?);
        }
        Ok(sockets)
    }

    /// Routing, hours, 50 SLA policies, 50 rules, and auto-replies if `auto_replies`, on top of
    /// [`Server::connect_agents`].
    async fn switch_automation_on(&self, auto_replies: bool) -> anyhow::Result<Vec<Socket>> {
        let sockets = self.connect_agents().await?;
        let day = || json!([{"start": "00:00", "end": "24:00"}]);
        let hours = json!({"time_zone": "Europe/Bucharest", "weekly": {"mon": day(), "tue": day(), "wed": day(), "thu": day(), "fri": day(), "sat": day(), "sun": day()}});
        let keywords: Vec<Value> = (0..20)
            .map(|n| json!({"keywords": [format!("keyword{n}")], "body": format!("About keyword {n}"), "cooldown_secs": 60}))
            .chain([json!({"keywords": ["price"], "body": "Prices are on the website", "cooldown_secs": 60})])
            .collect();
        let mut inbox = json!({"hours": hours, "routing": {"mode": "least_loaded"}});
        if auto_replies {
            inbox["auto_replies"] = json!({"greeting": {"body": "Hi! Someone will answer shortly."}, "away": {"body": "Closed until {{next_open_at}}"}, "keywords": keywords});
        }
        self.call("PATCH", &format!("/api/v1/inboxes/{}", self.inbox.inbox.id), inbox).await?;
        for n in 0..50 {
            // 49 that don't match (a label nobody has), then one for everyone: every write tries all.
            let conditions = if n < 49 { json!({"labels": [format!("tier{n}")]}) } else { json!({}) };
            let policy = json!({"name": format!("Policy {n}"), "position": n, "conditions": conditions,
                                "first_response_secs": 1800, "next_response_secs": 3600, "resolution_secs": 86400});
            self.call("POST", "/api/v1/sla-policies", policy).await?;
        }
        // 50 automation rules on every customer message: 49 whose conditions are read and fail
        // (message text, a contact's field), one that matches and acts once per conversation.
        self.call("POST", "/api/v1/labels", json!({"name": "bench", "color": "#123456"})).await?;
        for n in 0..50 {
            let (conditions, actions, limit) = match n {
                49 => (
                    json!({"all": []}),
                    json!([{"type": "add_labels", "labels": ["bench"]}]),
                    "once_per_conversation",
                ),
                n if n % 2 == 0 => (
                    json!({"text_contains": [format!("never-said-{n}")]}),
                    json!([{"type": "set_priority", "priority": "high"}]),
                    "every_time",
                ),
                n => (
                    json!({"contact": {"field": "email", "contains": format!("nobody{n}@")}}),
                    json!([{"type": "set_priority", "priority": "low"}]),
                    "every_time",
                ),
            };
            let rule = json!({"name": format!("Rule {n}"), "trigger": {"type": "event", "events": ["message_received"]},
                              "conditions": conditions, "actions": actions, "run_limit": {"type": limit}});
            self.call("POST", "/api/v1/automation-rules", rule).await?;
        }
        Ok(sockets)
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn stream(base: &str, token: &str, since: i64) -> anyhow::Result<Socket> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let since = if since == i64::MAX { 0 } else { since };
    let mut request =
        format!("{}/api/v1/stream?since={since}", base.replacen("http", "ws", 1)).into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// New customer conversations per second, `count` of them, eight writers at once.
async fn ingest_rate(server: &Server, count: usize, tag: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let writers = (0..8).map(|writer| async move {
        for n in (writer..count).step_by(8) {
            server.inbound(&format!("{tag}-{n}"), &format!("{tag}-m{n}")).await?;
        }
        anyhow::Ok(())
    });
    for result in futures_util::future::join_all(writers).await {
        result?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// What a server's ingest rounds did, counted in its database after them: how many conversations
/// there are, how many routing assigned, how many carry the acting rule's label, how many SLA
/// timers are armed and how many rule runs acted.
#[derive(Debug, PartialEq, Eq)]
struct Done {
    conversations: i64,
    assigned: i64,
    labelled: i64,
    sla_timers: i64,
    rule_runs: i64,
}

impl Done {
    fn count(server: &Server) -> anyhow::Result<Done> {
        let db = rusqlite::Connection::open_with_flags(
            server.database(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let count = |sql: &str| db.query_row(sql, [], |row| row.get::<_, i64>(0));
        Ok(Done {
            conversations: count("SELECT count(*) FROM conversations WHERE scope = ''")?,
            assigned: count(
                "SELECT count(*) FROM conversations WHERE scope = '' AND assignee_id IS NOT NULL",
            )?,
            labelled: count(
                "SELECT count(*) FROM conversations WHERE scope = ''
                 AND EXISTS (SELECT 1 FROM json_each(data, '$.labels') WHERE value = 'bench')",
            )?,
            sla_timers: count("SELECT count(*) FROM timers WHERE key LIKE 'sla:%'")?,
            rule_runs: count("SELECT count(*) FROM automation_runs WHERE status = 'done'")?,
        })
    }

    /// Every conversation routed, labelled by the acting rule and under an armed SLA timer, or
    /// (automation off) none of it: the row measures automation that really ran.
    fn check(server: &Server, conversations: i64, automation: bool) -> anyhow::Result<Done> {
        let done = Done::count(server)?;
        let each = if automation { conversations } else { 0 };
        let expected =
            Done { conversations, assigned: each, labelled: each, sla_timers: each, rule_runs: each };
        anyhow::ensure!(done == expected, "after the ingest rounds: {done:?}, expected {expected:?}");
        Ok(done)
    }
}

/// Reads a connected agent's stream until it closes, as the app does: a stream nobody reads
/// falls behind, the server closes it, and the agent no longer counts as connected for routing.
fn drain(mut socket: Socket) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} })
}

/// Snoozes `count` conversations until instants spread over `window` from a second ahead, and
/// measures, on the admin's stream, how long after its time each woke.
async fn timer_lateness(server: &Server, count: usize, window: Duration) -> anyhow::Result<Vec<f64>> {
    // Eight writers at once, as in the ingest row: the set-up is not what is measured.
    let created = futures_util::future::join_all((0..8).map(|writer| async move {
        let mut ids = Vec::new();
        for n in (writer..count).step_by(8) {
            ids.push((n, server.inbound(&format!("t-{n}"), &format!("t-m{n}")).await?.conversation_id));
        }
        anyhow::Ok(ids)
    }))
    .await;
    let mut conversations = vec![Id::nil(); count];
    for ids in created {
        for (n, id) in ids? {
            conversations[n] = id;
        }
    }
    // Far enough ahead that snoozing them all (eight at once, a few ms each) finishes before the
    // first is due: a snooze set after its own time would be refused.
    let start =
        switchboard_server::Clock::now(&switchboard_server::SystemClock) + 3_000 + 4 * count as Millis;
    let step = millis_of(window) / count.max(1) as Millis;
    let due: HashMap<Id, Millis> =
        conversations.iter().enumerate().map(|(n, id)| (*id, start + step * n as Millis)).collect();
    let snoozes = futures_util::future::join_all((0..8).map(|writer| {
        let (conversations, due) = (&conversations, &due);
        async move {
            for id in conversations.iter().skip(writer).step_by(8) {
                let body = json!({"client_id": Id::new_v4(), "status": "snoozed", "snoozed_until": due[id]});
                server.call("POST", &format!("/api/v1/conversations/{id}/status"), body).await?;
            }
            anyhow::Ok(())
        }
    }))
    .await;
    for result in snoozes {
        result?;
    }
    let first_due = start - switchboard_server::Clock::now(&switchboard_server::SystemClock);
    eprintln!("{count} snoozes set; the first falls due in {first_due} ms");
    let mut due = due;
    let mut socket = stream(&server.base, &server.token, i64::MAX).await?;
    let mut lateness = Vec::with_capacity(count);
    let deadline = Instant::now() + window + Duration::from_secs(60);
    while !due.is_empty() && Instant::now() < deadline {
        let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(5), socket.next()).await else {
            continue;
        };
        let tokio_tungstenite::tungstenite::Message::Text(text) = message else { continue };
        let Ok(ServerFrame::Changes { changes, .. }) = serde_json::from_str::<ServerFrame>(&text) else {
            continue;
        };
        let now = switchboard_server::Clock::now(&switchboard_server::SystemClock);
        for change in changes {
            let woke = change.entity == EntityKind::Conversation
                && change.data.as_ref().is_some_and(|d| d["status"] == "open");
            if woke {
                if let Some(until) = due.remove(&change.id) {
                    lateness.push((now - until) as f64);
                }
            }
        }
    }
    anyhow::ensure!(due.is_empty(), "{} snoozes never woke", due.len());
    Ok(lateness)
}

fn millis_of(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}

/// Which of the automation rows to measure.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub ingest: bool,
    pub timers: bool,
}

/// Rounds of the ingest row, off and on taking turns so that a busy spell of the machine falls
/// on both: the row is the median round of each, the note gives every round.
const ROUNDS: usize = 3;

/// The automation rows.
pub async fn automation_figures(quick: bool, parts: Parts) -> anyhow::Result<Vec<Row>> {
    let count = if quick { 200 } else { 2_000 };
    let mut rows = Vec::new();
    let on = Server::start().await?;
    let agents: Vec<_> = on.switch_automation_on(true).await?.into_iter().map(drain).collect();
    if parts.ingest {
        let off = Server::start().await?;
        let off_agents: Vec<_> = off.connect_agents().await?.into_iter().map(drain).collect();
        let rules = Server::start().await?;
        let rules_agents: Vec<_> = rules.switch_automation_on(false).await?.into_iter().map(drain).collect();
        let (mut rates_off, mut rates_rules, mut rates_on) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            rates_off.push(ingest_rate(&off, count, &format!("off{round}")).await?);
            rates_rules.push(ingest_rate(&rules, count, &format!("rules{round}")).await?);
            rates_on.push(ingest_rate(&on, count, &format!("on{round}")).await?);
        }
        let total = (ROUNDS * count) as i64;
        Done::check(&off, total, false)?;
        let done = Done::check(&rules, total, true)?;
        Done::check(&on, total, true)?;
        eprintln!("automation ingest, the issue's row did: {done:?}");
        for agent in off_agents {
            agent.abort();
        }
        off.stop().await;
        for agent in rules_agents {
            agent.abort();
        }
        rules.stop().await;
        let each = |rates: &[f64]| rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ");
        let rate_off = percentile(&mut rates_off.clone(), 0.5);
        let mut row = |what: &str, rates: &mut Vec<f64>, target: bool| {
            let note = format!(
                "8 writers on one SQLite node; median of {ROUNDS} rounds taking turns (on {}; off {} msg/s); \
                 50 rules and 50 SLA policies; checked after: on, every conversation assigned, \
                 labelled by the acting rule, its SLA timer armed; off, none",
                each(rates),
                each(&rates_off)
            );
            let rate_on = percentile(rates, 0.5);
            let ratio = rate_on / rate_off;
            rows.push(Row {
                figure: format!(
                    "server: {count} new customer conversations, automation on ({what}) against off"
                ),
                ours: format!("{rate_on:.0} msg/s"),
                baseline: format!("{rate_off:.0} msg/s with automation off"),
                ratio: Some(ratio),
                target: if target { "≥ 0.8×".into() } else { String::new() },
                pass: target.then_some(ratio >= 0.8),
                note,
            });
        };
        // The row: "50 rules, routing and SLA on".
        row("routing, hours, 50 rules, 50 SLA policies", &mut rates_rules, true);
        // With auto-replies too, each new conversation also sends a greeting: reported, no target.
        row("routing, hours, auto-replies, 50 rules, 50 SLA policies", &mut rates_on, false);
    }
    // The agents go: the snoozed conversations wait in the queue with nobody to take them.
    for agent in agents {
        agent.abort();
    }
    if parts.timers {
        let (timers, window) =
            if quick { (500, Duration::from_secs(5)) } else { (10_000, Duration::from_secs(30)) };
        let mut lateness = timer_lateness(&on, timers, window).await?;
        let p50 = percentile(&mut lateness, 0.5);
        let p99 = percentile(&mut lateness, 0.99);
        rows.push(Row {
            figure: format!("server: {timers} durable timers due within {} s, fired late by", window.as_secs()),
            ours: format!("p50 {p50:.0} ms, p99 {p99:.0} ms"),
            baseline: String::new(),
            ratio: None,
            target: "p99 ≤ 1,000 ms".into(),
            pass: Some(p99 <= 1_000.0),
            note: "snoozes (the loop that fires SLA deadlines too), timed when the wake reaches a stream; timer poll 250 ms".into(),
        });
    }
    on.stop().await;
    Ok(rows)
}
