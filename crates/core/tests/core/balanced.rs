//! Several nodes as separate OS processes (the built `switchboard-server`) on one PostgreSQL
//! database behind nginx (`deploy/nginx.conf`), all started by `scripts/run-nodes.sh`: the nodes
//! migrated the empty database once, and real clients following through the load balancer lose no
//! acknowledged write when a node stops (SIGTERM) or dies (SIGKILL) mid-traffic; they resume on the
//! nodes left and end with caches equal to a fresh bootstrap.
//!
//! Only under `scripts/run-nodes.sh --nodes 3` (scripts/test.sh's `suite_nodes`, which fails unless
//! this test printed that it passed); elsewhere it says it was skipped.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use switchboard_core::outbox::Action;
use switchboard_proto::*;
use tokio::sync::watch;

use crate::harness::*;

/// The nodes `scripts/run-nodes.sh` started, and the load balancer in front of them.
struct Cluster {
    /// The load balancer, with the admin signed in through it.
    api: Endpoint,
    /// `SWITCHBOARD_NODES_DIR`: node-I.port, node-I.pid, node-I.log.
    dir: PathBuf,
    nodes: usize,
    database_url: String,
}

impl Cluster {
    /// The cluster this test runs under, or `None` when not under `scripts/run-nodes.sh`.
    async fn from_env() -> Option<Cluster> {
        let var = |name: &str| std::env::var(name).ok();
        let base = var("SWITCHBOARD_NODES_URL")?;
        let dir = PathBuf::from(var("SWITCHBOARD_NODES_DIR").expect("SWITCHBOARD_NODES_DIR"));
        let nodes = var("SWITCHBOARD_NODES").and_then(|n| n.parse().ok()).expect("SWITCHBOARD_NODES");
        let database_url = var("SWITCHBOARD_NODES_DATABASE_URL").expect("SWITCHBOARD_NODES_DATABASE_URL");
        let email = var("SWITCHBOARD_NODES_ADMIN_EMAIL").expect("SWITCHBOARD_NODES_ADMIN_EMAIL");
        let password = var("SWITCHBOARD_NODES_ADMIN_PASSWORD").expect("SWITCHBOARD_NODES_ADMIN_PASSWORD");
        let login = http_login(&base, &email, &password).await;
        Some(Cluster { api: Endpoint { base, admin_token: login.token }, dir, nodes, database_url })
    }

    fn read(&self, node: usize, what: &str) -> String {
        let path = self.dir.join(format!("node-{node}.{what}"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    fn port(&self, node: usize) -> u16 {
        self.read(node, "port").trim().parse().expect("a port")
    }

    fn pid(&self, node: usize) -> u32 {
        self.read(node, "pid").trim().parse().expect("a pid")
    }

    /// Whether node `node`'s process still runs (a zombie waiting for run-nodes.sh has exited).
    fn running(&self, node: usize) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid(node)))
            .is_ok_and(|stat| stat.rsplit(") ").next().is_some_and(|rest| !rest.starts_with('Z')))
    }

    fn signal(&self, node: usize, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), self.pid(node).to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} node {node}");
    }

    /// Sends `signal` to node `node` while a request is on its way through it (it holds more
    /// connections than its `streams`; if none comes within 10 s, then anyway: nginx sends new
    /// requests to the node with the fewest connections, and that may stay another one), and waits
    /// until its process has exited.
    async fn stop_mid_request(&self, node: usize, streams: usize, signal: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.connections(node) <= streams {
            if tokio::time::Instant::now() > deadline {
                println!("no request reached node {node} in 10 s; SIG{signal} between requests");
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.signal(node, signal);
        eventually(&format!("node {node} exits after SIG{signal}"), Duration::from_secs(30), || async {
            !self.running(node)
        })
        .await;
    }

    /// Connections open to node `node` right now (nginx holds one per stream it passes on; it
    /// keeps no idle ones, see `deploy/nginx.conf`), from the kernel's table.
    fn connections(&self, node: usize) -> usize {
        let port = format!(":{:04X}", self.port(node));
        let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
        table
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // local_address ends with the port; state 01 is ESTABLISHED.
                fields.len() > 3 && fields[1].ends_with(&port) && fields[3] == "01"
            })
            .count()
    }

    fn running_nodes(&self) -> Vec<usize> {
        (1..=self.nodes).filter(|&node| self.running(node)).collect()
    }

    /// Waits until the running nodes hold exactly `streams` connections, i.e. every client's stream
    /// and nothing else; then how many each holds.
    async fn streams_settled(&self, streams: usize) -> HashMap<usize, usize> {
        let count = || self.running_nodes().into_iter().map(|n| (n, self.connections(n))).collect();
        eventually(
            &format!("the running nodes hold the {streams} clients' streams"),
            Duration::from_secs(30),
            || async {
                let counts: HashMap<usize, usize> = count();
                counts.values().sum::<usize>() == streams
            },
        )
        .await;
        count()
    }

    /// One value from the nodes' database (psql, as an operator would look).
    fn sql(&self, query: &str) -> String {
        let output = std::process::Command::new("psql")
            .args(["-X", "-A", "-t", "-d", &self.database_url, "-c", query])
            .output()
            .expect("running psql");
        assert!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
    }
}

/// Polls `check` until it holds, failing the test after `within`.
async fn eventually<F, Fut>(what: &str, within: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {within:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A customer message the server acknowledged.
#[derive(Clone)]
struct Acked {
    body: String,
    message_id: Id,
    conversation_id: Id,
    inbox: Id,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Run,
    Pause,
    Stop,
}

/// How many customer messages are on their way at once.
const SENDERS: usize = 4;

/// Customer messages through the load balancer from [`SENDERS`] senders at once, as a connector
/// sends them: each retried with its external id until the server acknowledges it (inbound
/// dedupes on it), and only then recorded.
struct Traffic {
    mode: watch::Sender<Mode>,
    /// How many senders wait, paused, with nothing in flight.
    idle: watch::Receiver<usize>,
    acked: Arc<Mutex<Vec<Acked>>>,
    /// Attempts that failed and were retried (a node went away under them).
    retries: Arc<AtomicUsize>,
    senders: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    fn start(api: &Endpoint, inboxes: [CreatedInbox; 2]) -> Traffic {
        let (mode, watching) = watch::channel(Mode::Run);
        let (report_idle, idle) = watch::channel(0usize);
        let acked = Arc::<Mutex<Vec<Acked>>>::default();
        let retries = Arc::new(AtomicUsize::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let api = Arc::new(Endpoint { base: api.base.clone(), admin_token: api.admin_token.clone() });
        let inboxes = Arc::new(inboxes);
        let senders = (0..SENDERS)
            .map(|_| {
                let (api, inboxes, next, record) =
                    (api.clone(), inboxes.clone(), next.clone(), acked.clone());
                let (mut watching, report_idle, retries) =
                    (watching.clone(), report_idle.clone(), retries.clone());
                tokio::spawn(async move {
                    loop {
                        loop {
                            let mode = *watching.borrow_and_update();
                            match mode {
                                Mode::Run => break,
                                Mode::Stop => return,
                                Mode::Pause => {
                                    report_idle.send_modify(|idle| *idle += 1);
                                    watching.changed().await.expect("traffic's owner");
                                    report_idle.send_modify(|idle| *idle -= 1);
                                }
                            }
                        }
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        let inbox = &inboxes[n % 2];
                        let (contact, external_id, body) =
                            (format!("lb-{}", n % 6), format!("lb-m{n}"), format!("customer message {n}"));
                        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                        let result = loop {
                            match api.try_inbound(inbox, &contact, &external_id, &body).await {
                                Ok(result) => break result,
                                Err(why) => {
                                    retries.fetch_add(1, Ordering::SeqCst);
                                    assert!(
                                        tokio::time::Instant::now() < deadline,
                                        "message {n} never taken: {why}"
                                    );
                                    tokio::time::sleep(Duration::from_millis(50)).await;
                                }
                            }
                        };
                        record.lock().expect("acked").push(Acked {
                            body,
                            message_id: result.message_id,
                            conversation_id: result.conversation_id,
                            inbox: inbox.inbox.id,
                        });
                    }
                })
            })
            .collect();
        Traffic { mode, idle, acked, retries, senders }
    }

    fn count(&self) -> usize {
        self.acked.lock().expect("acked").len()
    }

    fn last_in(&self, inbox: Id) -> Id {
        let acked = self.acked.lock().expect("acked");
        acked.iter().rev().find(|a| a.inbox == inbox).expect("a message in the inbox").conversation_id
    }

    /// Waits until `more` further messages were acknowledged.
    async fn advance(&self, more: usize) {
        let target = self.count() + more;
        eventually(&format!("{target} customer messages acknowledged"), Duration::from_secs(60), || async {
            self.count() >= target
        })
        .await;
    }

    /// Pauses once the messages on their way are acknowledged.
    async fn pause(&self) {
        self.mode.send_replace(Mode::Pause);
        let mut idle = self.idle.clone();
        tokio::time::timeout(Duration::from_secs(30), idle.wait_for(|idle| *idle == SENDERS))
            .await
            .expect("the traffic pauses within 30 s")
            .expect("the traffic's senders run");
    }

    fn resume(&self) {
        self.mode.send_replace(Mode::Run);
    }

    /// Stops the senders once their messages are acknowledged; every acknowledged message, and
    /// how many attempts were retried.
    async fn stop(self) -> (Vec<Acked>, usize) {
        self.mode.send_replace(Mode::Stop);
        for sender in self.senders {
            sender.await.expect("a traffic sender");
        }
        let acked = std::mem::take(&mut *self.acked.lock().expect("acked"));
        (acked, self.retries.load(Ordering::SeqCst))
    }
}

/// A note on `conversation`, queued in `client`'s outbox; its client id.
fn queue_note(client: &Client, conversation: Id, body: String) -> Id {
    let client_id = Id::new_v4();
    let action = Action::Send {
        conversation_id: conversation,
        request: SendMessage {
            client_id,
            kind: SendKind::Note,
            body,
            attachment_ids: vec![],
            template: None,
        },
        staged_files: vec![],
    };
    client.engine().queue(action).expect("queue");
    client_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_behind_nginx_lose_no_acknowledged_write_when_one_stops_or_dies() {
    let Some(cluster) = Cluster::from_env().await else {
        eprintln!(
            "skipping balanced::nodes_behind_nginx_lose_no_acknowledged_write_when_one_stops_or_dies: \
             it needs server processes behind nginx; run it through scripts/run-nodes.sh --nodes 3"
        );
        return;
    };
    let started = std::time::Instant::now();
    assert!(cluster.nodes >= 3, "a node stops and another dies, and one must be left: run 3 nodes");

    // The nodes started together on an empty database: each migration ran once, and all serve.
    let versions =
        cluster.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations");
    let expected: Vec<String> = (1..=versions.split(',').count()).map(|v| v.to_string()).collect();
    assert_eq!(versions, expected.join(","), "each migration recorded once, in order");
    for node in 1..=cluster.nodes {
        assert!(cluster.running(node), "node {node} still runs after starting with the others");
        let status = reqwest::get(format!("http://127.0.0.1:{}/api/v1/me", cluster.port(node)))
            .await
            .expect("asking the node itself")
            .status();
        assert_eq!(status.as_u16(), 401, "node {node} serves (the server's own 401)");
    }

    // Agents sign in through the load balancer, two devices each; their streams spread over the
    // nodes.
    let workspace = Workspace::create(&cluster.api).await;
    let mut clients = Vec::new();
    for email in ["sara@test.example", "sam@test.example", "carl@test.example"] {
        for _ in 0..2 {
            clients.push(Client::sign_in(&cluster.api, email).await);
        }
    }
    let support = |c: &Client| !c.account.info.agent.email.starts_with("carl");
    let streams = cluster.streams_settled(clients.len()).await;
    let (&graceful, &held) =
        streams.iter().max_by_key(|(node, count)| (**count, usize::MAX - **node)).expect("nodes");
    assert!(held > 0, "node {graceful} holds a stream");
    println!("streams per node: {streams:?}; node {graceful} stops first");

    let traffic = Traffic::start(&cluster.api, [workspace.whatsapp.clone(), workspace.email.clone()]);
    let mut notes = Vec::new();
    let mut round = 0;
    let mut agents_write = |clients: &[Client], traffic: &Traffic, notes: &mut Vec<Id>| {
        round += 1;
        for (i, client) in clients.iter().enumerate() {
            let inbox = if support(client) { workspace.whatsapp.inbox.id } else { workspace.email.inbox.id };
            let conversation = traffic.last_in(inbox);
            notes.push(queue_note(client, conversation, format!("note {round}.{i}")));
        }
    };
    traffic.advance(10).await;
    agents_write(&clients, &traffic, &mut notes);

    // SIGTERM mid-traffic: the node stops accepting, closes its streams and finishes what it was
    // doing; writes go on through the other nodes.
    cluster.stop_mid_request(graceful, held, "TERM").await;
    assert!(
        cluster.read(graceful, "log").contains("stopped"),
        "node {graceful} shut down gracefully (it logs `stopped` last)"
    );
    agents_write(&clients, &traffic, &mut notes);
    traffic.advance(10).await;

    // Its clients resumed on the nodes left. Which node holds streams now decides which dies next.
    traffic.pause().await;
    for client in &clients {
        client.until("the outbox drained", |c| c.account.cache.pending_count().expect("outbox") == 0).await;
    }
    let streams = cluster.streams_settled(clients.len()).await;
    assert!(!streams.contains_key(&graceful), "the stopped node is gone");
    let (&abrupt, &held) =
        streams.iter().max_by_key(|(node, count)| (**count, usize::MAX - **node)).expect("nodes");
    assert!(held > 0, "node {abrupt} holds a stream");
    println!("streams per node: {streams:?}; node {abrupt} dies next");
    traffic.resume();
    traffic.advance(5).await;
    agents_write(&clients, &traffic, &mut notes);

    // SIGKILL mid-traffic: in-flight requests are cut off; the writers retry.
    cluster.stop_mid_request(abrupt, held, "KILL").await;
    agents_write(&clients, &traffic, &mut notes);
    traffic.advance(10).await;
    let (acked, retries) = traffic.stop().await;

    // Every client follows from the one node left, and its cache equals a fresh bootstrap.
    let survivors = cluster.running_nodes();
    assert_eq!(survivors.len(), cluster.nodes - 2, "the other nodes still run");
    let streams = cluster.streams_settled(clients.len()).await;
    assert_eq!(streams.values().sum::<usize>(), clients.len(), "every client streams again");
    for (i, client) in clients.iter().enumerate() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let drained = client.account.cache.pending_count().expect("outbox") == 0;
            if drained
                && client.account.cache.server_state().expect("cache")
                    == cluster.api.state(&client.token()).await
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "client {i}'s cache never equalled a bootstrap (outbox drained: {drained})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // No acknowledged write lost or doubled: each customer message and each note is on the
    // server exactly once.
    let conversations: std::collections::BTreeSet<Id> = acked.iter().map(|a| a.conversation_id).collect();
    let mut on_server: HashMap<Id, Vec<Message>> = HashMap::new();
    for conversation in conversations {
        let transcript: Transcript = serde_json::from_value(
            cluster
                .api
                .get(&cluster.api.admin_token, &format!("/api/v1/conversations/{conversation}/export"))
                .await,
        )
        .expect("a transcript");
        for message in transcript.messages {
            on_server.entry(message.id).or_default().push(message);
        }
    }
    for message in &acked {
        let found = on_server.get(&message.message_id).map_or(0, Vec::len);
        assert_eq!(
            found, 1,
            "acknowledged customer message {:?} is on the server {found} times",
            message.body
        );
        assert_eq!(on_server[&message.message_id][0].body, message.body);
    }
    let bodies: HashMap<&str, usize> = on_server.values().flatten().fold(HashMap::new(), |mut counts, m| {
        *counts.entry(m.body.as_str()).or_default() += 1;
        counts
    });
    for message in &acked {
        assert_eq!(bodies[message.body.as_str()], 1, "{:?} was written once, retries or not", message.body);
    }
    for note in &notes {
        let found = on_server.get(note).map_or(0, Vec::len);
        assert_eq!(found, 1, "the queued note {note} is on the server {found} times");
    }
    println!(
        "{} customer messages ({retries} attempts retried) and {} notes through nginx, node {graceful} \
         stopped and node {abrupt} killed mid-traffic, nothing lost ({:.1} s)",
        acked.len(),
        notes.len(),
        started.elapsed().as_secs_f64()
    );
    println!("SWITCHBOARD_NODES_PASSED");
}
