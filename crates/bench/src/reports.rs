//! The reports issue's server figures (issue 18): a 30-day summary by agent and a 90-day daily
//! timeseries by agent (p95 of repeated requests), and a 10,000-row CSV export of conversation
//! cycles (the time until its last byte arrives), on the full dataset, on SQLite and PostgreSQL.
//!
//! The workspace: its directory (admin, 20 agents in two teams, five inboxes, three with business
//! hours) is created through the HTTP API; its 100,000 conversations and 1,000,000 messages over
//! the 90 days before now are written by a **bulk loader** straight into the store, through the
//! same storage verbs the server's write paths call (`put` of each contact, message and
//! conversation with its feed change, the message's search entry, and the ledger events
//! `workspace/ledger.rs` appends for what happened: created, each message by class, routing's and
//! people's assignments, team and label changes, resolutions, customers' reopens), in
//! transactions of 1,000 conversations with the server stopped. Each conversation is written once
//! in its final state (the real paths write it at every step: their superseded feed rows are not
//! here). Then the server starts and `POST /api/v1/reports/rebuild` derives every conversation's
//! report facts from the ledger, as any report would after a write; the rebuild's time is in the
//! row's note.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use switchboard_proto::{
    ledger::{Actor, ConversationEvent, EventKind, MessageClass, Origin},
    *,
};
use switchboard_server::{
    demo::corpus,
    store::{Audience, Store, StoreTx, StoreTxExt},
    Attachments, Backend, DatabaseUrl, ServerConfig,
};

use crate::{
    figures::{millis, percentile},
    generate::Preset,
    report::Row,
    scale::Database,
};

const DAY: Millis = 86_400_000;
const MINUTE: Millis = 60_000;
/// Conversations per bulk transaction.
const BATCH: usize = 1_000;
/// Rows in the CSV figure.
pub const CSV_ROWS: usize = 10_000;

/// A server on its own data directory (and its own PostgreSQL database, if asked).
pub(crate) struct Node {
    config: ServerConfig,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    token: String,
    shutdown: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Node {
    pub(crate) async fn start(config: ServerConfig, password: &str) -> anyhow::Result<Node> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(switchboard_server::launch(config.clone(), listener, shutdown.clone()));
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "admin@bench.example", "password": password, "device_name": "bench"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Node { config, base, http, token: login.token, shutdown, task })
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {value}");
        Ok(value)
    }

    /// A GET's whole body, and how long it took to arrive (from just before the request).
    async fn timed_get(&self, path_and_query: &str) -> anyhow::Result<(f64, Vec<u8>)> {
        let started = Instant::now();
        let response =
            self.http.get(format!("{}{path_and_query}", self.base)).bearer_auth(&self.token).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let elapsed = millis(started.elapsed());
        anyhow::ensure!(status.is_success(), "{path_and_query}: {status} {}", String::from_utf8_lossy(&body));
        Ok((elapsed, body.to_vec()))
    }

    pub(crate) async fn stop(self) -> ServerConfig {
        self.shutdown.cancel();
        let _ = self.task.await;
        self.config
    }
}

/// The directory the HTTP API created.
pub(crate) struct Directory {
    agents: Vec<Id>,
    /// (inbox, its team)
    inboxes: Vec<(Id, Id)>,
    labels: Vec<String>,
}

pub(crate) async fn create_directory(node: &Node) -> anyhow::Result<Directory> {
    let mut teams = Vec::new();
    for name in ["Support", "Sales"] {
        let team = node.call("POST", "/api/v1/teams", json!({"name": name})).await?;
        teams.push(team["id"].as_str().context("team id")?.parse()?);
    }
    let mut agents = Vec::new();
    for n in 0..20 {
        let agent = node
            .call(
                "POST",
                "/api/v1/agents",
                json!({"name": format!("Agent {n:02}"), "email": format!("agent{n}@bench.example"),
                       "role": "agent", "password": "bench-password-1", "team_ids": [teams[n % 2]]}),
            )
            .await?;
        agents.push(agent["id"].as_str().context("agent id")?.parse()?);
    }
    let day = || json!([{"start": "09:00", "end": "18:00"}]);
    let hours = json!({"time_zone": "Europe/Bucharest",
        "weekly": {"mon": day(), "tue": day(), "wed": day(), "thu": day(), "fri": day(), "sat": [], "sun": []}});
    let mut inboxes = Vec::new();
    for (n, channel) in ["whatsapp", "instagram", "telegram", "email", "webchat"].iter().enumerate() {
        let team = teams[n % 2];
        let created = node
            .call(
                "POST",
                "/api/v1/inboxes",
                json!({"name": format!("{channel} inbox"), "channel": channel, "member_team_ids": [team]}),
            )
            .await?;
        let id: Id = created["inbox"]["id"].as_str().context("inbox id")?.parse()?;
        if n < 3 {
            node.call("PATCH", &format!("/api/v1/inboxes/{id}"), json!({"hours": hours.clone()})).await?;
        }
        inboxes.push((id, team));
    }
    let labels: Vec<String> =
        ["VIP", "refund", "bug report", "billing", "shipping", "New Lead"].map(str::to_owned).into();
    for label in &labels {
        node.call("POST", "/api/v1/labels", json!({"name": label, "color": "#888888"})).await?;
    }
    Ok(Directory { agents, inboxes, labels })
}

/// Ledger event ids: UUIDv7 of the event's time, with a counter where v7 has random bits, so a
/// conversation's events sort in the order they are written even within one millisecond.
struct EventIds {
    counter: u64,
}

impl EventIds {
    fn next(&mut self, at: Millis) -> Id {
        self.counter += 1;
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.counter.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(at.max(0) as u64, &bytes).into_uuid()
    }
}

/// One conversation as the bulk loader writes it.
struct Generated {
    contact: Contact,
    conversation: Conversation,
    messages: Vec<Message>,
    /// Events in order; `seq` is filled in when written.
    events: Vec<ConversationEvent>,
    /// When each of its cycles started.
    cycle_starts: Vec<Millis>,
}

/// What one conversation's generator needs.
struct Script<'a> {
    rng: &'a mut StdRng,
    ids: &'a mut EventIds,
    directory: &'a Directory,
    now: Millis,
}

impl Script<'_> {
    /// A conversation started by its customer at `started`, with `count` messages: replies by the
    /// assignee (now and then a colleague), notes, a reassignment now and then; resolved (and
    /// sometimes reopened by the customer and resolved again) unless it is recent.
    fn conversation(&mut self, n: usize, started: Millis, count: usize) -> Generated {
        let rng = &mut *self.rng;
        let language = corpus::LANGUAGES[n % corpus::LANGUAGES.len()];
        let (inbox, team) = self.directory.inboxes[n % self.directory.inboxes.len()];
        let contact_id = Id::from_u128(rng.gen());
        let conversation_id = Id::from_u128(rng.gen());
        let first = language.first_names[rng.gen_range(0..language.first_names.len())];
        let last = language.last_names[rng.gen_range(0..language.last_names.len())];
        let contact = Contact {
            id: contact_id,
            name: format!("{first} {last}"),
            phone: Some(corpus::phone_number(language, n as u64)),
            email: Some(corpus::email_address(language, first, last, n as u64)),
            identities: vec![],
            created_at: started,
            notes: None,
            fields: Default::default(),
            merged_into: None,
        };
        let agents = &self.directory.agents;
        // Some agents carry more than others.
        let pick = |rng: &mut StdRng| {
            agents[(rng.gen::<f64>().powf(1.6) * agents.len() as f64) as usize % agents.len()]
        };
        // Gaps shrink for recent conversations so nothing happens after now.
        let room = (self.now - MINUTE - started).max(count as Millis * 2_000);
        let scale = (room as f64 / (2.0 * DAY as f64)).min(1.0);
        let gap = |rng: &mut StdRng, max_minutes: f64| -> Millis {
            (((rng.gen_range(1.0..max_minutes)) * MINUTE as f64 * scale) as Millis).max(1_000)
        };
        let mut events = Vec::new();
        let mut messages = Vec::new();
        let mut at = started;
        let mut cycle = 1;
        let mut cycle_starts = vec![started];
        let mut status = ConversationStatus::Open;
        let mut assignee: Option<Id> = None;
        let mut team_id = None;
        let mut labels: Vec<String> = Vec::new();
        let (mut first_reply_at, mut last_incoming_at, mut waiting_since) = (None, None, None);
        let contact_actor = Actor::Contact { id: contact_id };
        events.push(self_event(
            self.ids,
            conversation_id,
            cycle,
            at,
            contact_actor.clone(),
            EventKind::Created { origin: Origin::Customer },
        ));
        let message = |events: &mut Vec<ConversationEvent>,
                       messages: &mut Vec<Message>,
                       ids: &mut EventIds,
                       rng: &mut StdRng,
                       at: Millis,
                       cycle: u32,
                       kind: MessageKind,
                       sender: Sender| {
            let texts = match kind {
                MessageKind::Incoming => language.opening_messages,
                MessageKind::Note => language.follow_ups,
                _ => language.agent_replies,
            };
            let body = texts[rng.gen_range(0..texts.len())].to_owned();
            let id = Id::from_u128(rng.gen());
            let (class, actor) = match (kind, sender) {
                (MessageKind::Incoming, _) => (MessageClass::Inbound, contact_actor.clone()),
                (MessageKind::Note, Sender::Agent { id }) => (MessageClass::Note, Actor::Agent { id }),
                (_, Sender::Agent { id }) => (MessageClass::Human, Actor::Agent { id }),
                _ => (MessageClass::Inbound, contact_actor.clone()),
            };
            events.push(self_event(
                ids,
                conversation_id,
                cycle,
                at,
                actor,
                EventKind::Message { class, message_id: id, auto_reply: None },
            ));
            messages.push(Message {
                id,
                conversation_id,
                kind,
                body,
                sender,
                attachments: vec![],
                template: None,
                delivery: DeliveryState::Delivered,
                failure: None,
                mentions: vec![],
                created_at: at,
            });
        };
        let reopen = rng.gen_bool(0.1);
        let resolvable = self.now - started > 2 * DAY;
        let first_cycle = if reopen && resolvable { count * 2 / 3 } else { count };
        let mut written = 0;
        let mut customer_turn = true;
        while written < count {
            if written == first_cycle && status == ConversationStatus::Open {
                // Resolved by the assignee; the customer writes again later (a new cycle).
                at += gap(rng, 120.0);
                let by = Actor::Agent { id: assignee.unwrap_or(agents[0]) };
                let to_resolved = EventKind::Status {
                    from: ConversationStatus::Open,
                    to: ConversationStatus::Resolved,
                    snoozed_until: None,
                };
                events.push(self_event(self.ids, conversation_id, cycle, at, by.clone(), to_resolved));
                events.push(self_event(self.ids, conversation_id, cycle, at, by, EventKind::Resolved));
                at += gap(rng, 1_440.0);
                cycle += 1;
                cycle_starts.push(at);
                events.push(self_event(
                    self.ids,
                    conversation_id,
                    cycle,
                    at,
                    contact_actor.clone(),
                    EventKind::Reopened,
                ));
                let to_open = EventKind::Status {
                    from: ConversationStatus::Resolved,
                    to: ConversationStatus::Open,
                    snoozed_until: None,
                };
                events.push(self_event(self.ids, conversation_id, cycle, at, contact_actor.clone(), to_open));
                customer_turn = true;
            }
            if written == 0 {
                message(
                    &mut events,
                    &mut messages,
                    self.ids,
                    rng,
                    at,
                    cycle,
                    MessageKind::Incoming,
                    Sender::Contact { id: contact_id },
                );
                last_incoming_at = Some(at);
                waiting_since = Some(at);
                // Routing hands it out, or someone claims it.
                at += gap(rng, 30.0);
                let to = pick(rng);
                let (actor, reason) = if rng.gen_bool(0.6) {
                    (Actor::Routing, "auto")
                } else {
                    (Actor::Agent { id: to }, "claim")
                };
                events.push(self_event(
                    self.ids,
                    conversation_id,
                    cycle,
                    at,
                    actor,
                    EventKind::Assigned {
                        from: None,
                        to: Some(to),
                        reason: reason.into(),
                        candidates: vec![],
                    },
                ));
                assignee = Some(to);
                if rng.gen_bool(0.5) {
                    events.push(self_event(
                        self.ids,
                        conversation_id,
                        cycle,
                        at,
                        Actor::Agent { id: to },
                        EventKind::Team { from: None, to: Some(team) },
                    ));
                    team_id = Some(team);
                }
                if rng.gen_bool(0.3) {
                    let label = self.directory.labels[rng.gen_range(0..self.directory.labels.len())].clone();
                    events.push(self_event(
                        self.ids,
                        conversation_id,
                        cycle,
                        at,
                        Actor::Agent { id: to },
                        EventKind::Labels { added: vec![label.clone()], removed: vec![] },
                    ));
                    labels.push(label);
                }
                written += 1;
                customer_turn = false;
                continue;
            }
            at += gap(rng, if customer_turn { 360.0 } else { 240.0 });
            if customer_turn {
                message(
                    &mut events,
                    &mut messages,
                    self.ids,
                    rng,
                    at,
                    cycle,
                    MessageKind::Incoming,
                    Sender::Contact { id: contact_id },
                );
                last_incoming_at = Some(at);
                waiting_since.get_or_insert(at);
            } else if written % 9 == 5 {
                let by = assignee.unwrap_or(agents[0]);
                message(
                    &mut events,
                    &mut messages,
                    self.ids,
                    rng,
                    at,
                    cycle,
                    MessageKind::Note,
                    Sender::Agent { id: by },
                );
            } else {
                if rng.gen_bool(0.05) {
                    // Handed to a colleague.
                    let to = pick(rng);
                    if Some(to) != assignee {
                        let by = Actor::Agent { id: assignee.unwrap_or(to) };
                        events.push(self_event(
                            self.ids,
                            conversation_id,
                            cycle,
                            at,
                            by,
                            EventKind::Assigned {
                                from: assignee,
                                to: Some(to),
                                reason: "assign".into(),
                                candidates: vec![],
                            },
                        ));
                        assignee = Some(to);
                    }
                }
                let replier = if rng.gen_bool(0.1) { pick(rng) } else { assignee.unwrap_or(agents[0]) };
                message(
                    &mut events,
                    &mut messages,
                    self.ids,
                    rng,
                    at,
                    cycle,
                    MessageKind::Outgoing,
                    Sender::Agent { id: replier },
                );
                first_reply_at.get_or_insert(at);
                waiting_since = None;
            }
            written += 1;
            // Mostly taking turns, sometimes two in a row.
            customer_turn = if rng.gen_bool(0.8) { !customer_turn } else { customer_turn };
        }
        if resolvable && rng.gen_bool(0.9) {
            at += gap(rng, 240.0);
            let by = Actor::Agent { id: assignee.unwrap_or(agents[0]) };
            let to_resolved = EventKind::Status {
                from: ConversationStatus::Open,
                to: ConversationStatus::Resolved,
                snoozed_until: None,
            };
            events.push(self_event(self.ids, conversation_id, cycle, at, by.clone(), to_resolved));
            events.push(self_event(self.ids, conversation_id, cycle, at, by, EventKind::Resolved));
            status = ConversationStatus::Resolved;
            waiting_since = None;
        }
        let preview = messages.last().map(|m| m.body.chars().take(140).collect()).unwrap_or_default();
        let conversation = Conversation {
            id: conversation_id,
            inbox_id: inbox,
            contact_id,
            subject: None,
            status,
            snoozed_until: None,
            assignee_id: assignee,
            team_id,
            priority: Priority::None,
            labels,
            created_at: started,
            last_activity_at: at,
            waiting_since,
            first_reply_at,
            last_incoming_at,
            preview,
            sla: None,
            escalation: None,
        };
        Generated { contact, conversation, messages, events, cycle_starts }
    }
}

fn self_event(
    ids: &mut EventIds,
    conversation: Id,
    cycle: u32,
    at: Millis,
    actor: Actor,
    event: EventKind,
) -> ConversationEvent {
    ConversationEvent { id: ids.next(at), conversation_id: conversation, cycle, at, seq: 0, actor, event }
}

/// Writes a batch of conversations in one transaction, as the write paths would.
fn write_batch(
    tx: &mut dyn StoreTx,
    batch: &[Generated],
) -> Result<(), switchboard_server::refusal::Refusal> {
    for generated in batch {
        let inbox = generated.conversation.inbox_id;
        tx.put(&generated.contact, Audience::inbox(inbox))?;
        tx.put(&generated.conversation, Audience::inbox(inbox))?;
        let mut messages = generated.messages.iter();
        for event in &generated.events {
            if let EventKind::Message { .. } = event.event {
                if let Some(message) = messages.next() {
                    tx.put(message, Audience::inbox(inbox))?;
                    tx.index_message(message, inbox)?;
                }
            }
            let mut event = event.clone();
            event.seq = tx.last_seq();
            tx.append_event(&event)?;
        }
        tx.mark_reports_stale(&[generated.conversation.id])?;
    }
    Ok(())
}

/// Opens the node's store directly (the server stopped) for the bulk loader.
fn open_store(config: &ServerConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &config.backend {
        Backend::Sqlite => {
            let bus = Arc::new(switchboard_server::bus::LocalBus::new(16));
            Arc::new(switchboard_server::sqlite::SqliteStore::open(
                &config.data_dir.join("switchboard.db"),
                bus,
            )?)
        }
        Backend::Postgres { url } => {
            let fanout = switchboard_server::postgres::Fanout::new(url.clone(), "bench-loader".into(), 16);
            Arc::new(switchboard_server::postgres::PostgresStore::open(url, fanout)?)
        }
    })
}

/// Loads the conversations; returns every cycle's start, sorted.
pub(crate) async fn bulk_load(
    config: &ServerConfig,
    directory: &Directory,
    preset: Preset,
    seed: u64,
    now: Millis,
) -> anyhow::Result<Vec<Millis>> {
    let store = open_store(config)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ids = EventIds { counter: 0 };
    let per = (preset.messages / preset.conversations.max(1)).max(1);
    let extra = preset.messages % preset.conversations.max(1);
    let mut starts = Vec::with_capacity(preset.conversations * 11 / 10);
    let mut n = 0;
    while n < preset.conversations {
        let mut batch = Vec::with_capacity(BATCH);
        for _ in 0..BATCH.min(preset.conversations - n) {
            // Spread over the 90 days, a little more of them lately.
            let age = (rng.gen::<f64>().powf(1.15) * 90.0 * DAY as f64) as Millis;
            let started = now - age.max(10 * MINUTE);
            let count = per + usize::from(n < extra);
            let mut script = Script { rng: &mut rng, ids: &mut ids, directory, now };
            let generated = script.conversation(n, started, count);
            starts.extend_from_slice(&generated.cycle_starts);
            batch.push(generated);
            n += 1;
        }
        store
            .write(now, move |tx| write_batch(tx, &batch))
            .await
            .map_err(|e| anyhow::anyhow!("bulk load: {}", e.message))?;
        if n % 20_000 == 0 {
            eprintln!("  {n} conversations loaded");
        }
    }
    starts.sort_unstable();
    Ok(starts)
}

/// `2026-11-30T09:00:00.123Z` from epoch milliseconds.
pub fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .expect("an instant jiff holds")
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn p50_p95(samples: &mut [f64]) -> (f64, f64) {
    (percentile(samples, 0.5), percentile(samples, 0.95))
}

/// The report rows on one backend.
/// `runs` timed requests of `path`, as a row against the reports' p95 target of 250 ms.
async fn p95_row(node: &Node, path: &str, runs: usize, figure: String, note: &str) -> anyhow::Result<Row> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        samples.push(node.timed_get(path).await?.0);
    }
    let (p50, p95) = p50_p95(&mut samples);
    Ok(Row {
        figure,
        ours: format!("p50 {p50:.0} ms, p95 {p95:.0} ms"),
        baseline: String::new(),
        ratio: None,
        target: "p95 ≤ 250 ms".into(),
        pass: Some(p95 <= 250.0),
        note: format!("{runs} requests; {note}"),
    })
}

pub async fn report_figures(
    quick: bool,
    database: &Database,
    preset: Preset,
    seed: u64,
) -> anyhow::Result<Vec<Row>> {
    let backend = match database {
        Database::Sqlite => "SQLite",
        Database::Postgres(_) => "PostgreSQL",
    };
    // `SWITCHBOARD_BENCH_REPORTS_KEEP=DIR` keeps the loaded workspace in `DIR/<backend>` (and its
    // PostgreSQL database) and, when it is there already, times the requests against it without
    // loading again: for profiling the report paths, which otherwise waits minutes per run.
    // `SWITCHBOARD_BENCH_REPORTS_REBUILD=1` rebuilds the facts of a kept workspace first.
    let keep = std::env::var_os("SWITCHBOARD_BENCH_REPORTS_KEEP")
        .map(|dir| std::path::PathBuf::from(dir).join(backend.to_lowercase()));
    let temp = tempfile::tempdir()?;
    let data_dir = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let kept_at = data_dir.join("bench-loaded.json");
    let kept: Option<Kept> = match std::fs::read(&kept_at) {
        Ok(bytes) if keep.is_some() => Some(serde_json::from_slice(&bytes).context("bench-loaded.json")?),
        _ => None,
    };
    let mut config = ServerConfig::new(&data_dir);
    let mut pg_database = None;
    if let Database::Postgres(admin) = database {
        let url = match &kept {
            Some(kept) => DatabaseUrl::new(kept.database_url.clone().context("a kept database's URL")?),
            None => {
                let name = format!("bench_reports_{}", Id::new_v4().simple());
                let admin_url = DatabaseUrl::new(admin.clone());
                let url = tokio::task::spawn_blocking({
                    let name = name.clone();
                    move || admin_url.create_database(&name)
                })
                .await??;
                pg_database = Some(name);
                url
            }
        };
        config.backend = Backend::Postgres { url };
        config.attachments = Some(Attachments::Directory(data_dir.join("attachments")));
    }
    let (node, kept) = match kept {
        Some(kept) => {
            let node = Node::start(config, &kept.password).await?;
            if std::env::var("SWITCHBOARD_BENCH_REPORTS_REBUILD").is_ok_and(|v| v == "1") {
                let started = Instant::now();
                node.call("POST", "/api/v1/reports/rebuild", json!({})).await?;
                eprintln!("rebuilt the kept workspace's facts in {:.0} s", started.elapsed().as_secs_f64());
            }
            eprintln!("timing the workspace kept in {}", data_dir.display());
            (node, kept)
        }
        None => {
            let password =
                switchboard_server::init_data_dir(&config, "admin@bench.example", "Bench Admin").await?;
            let node = Node::start(config, &password).await?;
            let directory = create_directory(&node).await?;
            let config = node.stop().await;
            let now = switchboard_server::Clock::now(&switchboard_server::SystemClock);
            eprintln!(
                "loading {} conversations, {} messages into {backend}…",
                preset.conversations, preset.messages
            );
            let started = Instant::now();
            let starts = bulk_load(&config, &directory, preset, seed, now).await?;
            let load_secs = started.elapsed().as_secs_f64();
            let database_url = match &config.backend {
                Backend::Postgres { url } => Some(url.expose().to_owned()),
                Backend::Sqlite => None,
            };
            let node = Node::start(config, &password).await?;
            let started = Instant::now();
            let rebuilt = node.call("POST", "/api/v1/reports/rebuild", json!({})).await?;
            let rebuild_secs = started.elapsed().as_secs_f64();
            eprintln!(
                "loaded in {load_secs:.0} s; rebuilt {} conversations' facts in {rebuild_secs:.0} s",
                rebuilt["conversations"]
            );
            let kept = Kept { password, now, starts, load_secs, rebuild_secs, database_url };
            if keep.is_some() {
                // The database stays with the directory.
                pg_database = None;
                std::fs::write(&kept_at, serde_json::to_vec(&kept)?)?;
            }
            (node, kept)
        }
    };
    let Kept { now, starts, load_secs, rebuild_secs, .. } = kept;
    let runs = if quick { 5 } else { 10 };
    let mut rows = Vec::new();
    let note = format!(
        "{} conversations, {} messages, {} cycles over 90 days, 20 agents, 5 inboxes (3 with hours); bulk-loaded in {load_secs:.0} s, facts rebuilt in {rebuild_secs:.0} s; as the admin",
        preset.conversations,
        preset.messages,
        starts.len()
    );
    let to = rfc3339(now);
    // The 30-day summary by agent (with its previous 30 days).
    let summary = format!(
        "/api/v1/reports/summary?from={}&to={to}&group_by=agent&tz=Europe/Bucharest",
        rfc3339(now - 30 * DAY)
    );
    rows.push(
        p95_row(&node, &summary, runs, format!("reports ({backend}): 30-day summary by agent"), &note)
            .await?,
    );
    let series = format!(
        "/api/v1/reports/timeseries?from={}&to={to}&group_by=agent&interval=day&tz=Europe/Bucharest",
        rfc3339(now - 90 * DAY)
    );
    rows.push(
        p95_row(
            &node,
            &series,
            runs,
            format!("reports ({backend}): 90-day daily timeseries by agent"),
            &note,
        )
        .await?,
    );
    // The CSV: the cycles started in a period holding exactly `CSV_ROWS` of them, ending a week ago.
    let wanted = CSV_ROWS.min(starts.len() / 2);
    let end = starts.partition_point(|s| *s < now - 7 * DAY).max(wanted);
    let (from, until) = (starts[end - wanted], starts.get(end).copied().unwrap_or(now));
    let csv =
        format!("/api/v1/reports/conversations?from={}&to={}&format=csv", rfc3339(from), rfc3339(until));
    let mut samples = Vec::new();
    let mut lines = 0;
    for _ in 0..runs.min(5) {
        let (elapsed, body) = node.timed_get(&csv).await?;
        lines = body.iter().filter(|b| **b == b'\n').count();
        samples.push(elapsed);
    }
    let (p50, worst) = (percentile(&mut samples, 0.5), samples.iter().copied().fold(0.0, f64::max));
    rows.push(Row {
        figure: format!("reports ({backend}): CSV of {} conversation cycles", lines.saturating_sub(1)),
        ours: format!("median {p50:.0} ms, slowest {worst:.0} ms"),
        baseline: String::new(),
        ratio: None,
        target: "≤ 2,000 ms".into(),
        pass: Some(worst <= 2_000.0),
        note: format!("{} runs, to the last byte; {note}", samples.len()),
    });
    node.stop().await;
    drop(temp);
    if let (Some(name), Database::Postgres(admin)) = (pg_database, database) {
        let admin = admin.clone();
        let _ = tokio::task::spawn_blocking(move || drop_database(&admin, &name)).await;
    }
    Ok(rows)
}

/// A loaded workspace kept for later runs (`SWITCHBOARD_BENCH_REPORTS_KEEP`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    password: String,
    now: Millis,
    /// Every cycle's start, sorted.
    starts: Vec<Millis>,
    load_secs: f64,
    rebuild_secs: f64,
    /// The PostgreSQL database it lives in.
    database_url: Option<String>,
}

/// Drops a database the figure created (disk is scarce), with `psql` as the tests do.
fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let status = std::process::Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-q", "-c", &sql])
        .status()?;
    anyhow::ensure!(status.success(), "psql failed on: {sql}");
    Ok(())
}
