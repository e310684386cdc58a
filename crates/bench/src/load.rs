//! The load client of the scale figures, run as a process of its own (`switchboard-bench
//! load-client`: a [`Spec`] as JSON on stdin, one JSON [`Line`] per event on stdout), so that its
//! CPU is neither taken from the server's runtime nor counted as the server's.
//!
//! Cheap on purpose: at 10,000 streams a WebSocket library's per-frame work (parsing, unmasking
//! checks, a `String` per frame, a task wake per message) would compete with the server for the
//! same two cores. A stream here is a TCP socket that did the WebSocket handshake by hand and is
//! then only read: the server's frames are unmasked and uncompressed, so a probe's marker
//! (`~probe-N~`) is found in the raw bytes without parsing a frame. Every time is taken on this
//! process's clock, from just before a probe's request is sent to the read that brought it, and
//! counted once per stream (a message's body also shows in its conversation's preview).

use std::{
    sync::{
        atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_proto::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// What the load client does, sent by the bench on the client's stdin.
#[derive(Debug, Serialize, Deserialize)]
pub struct Spec {
    /// The nodes' base URLs (`http://127.0.0.1:PORT`).
    pub nodes: Vec<String>,
    /// A token whose agent sees the inbox (every stream and every request uses it).
    pub token: String,
    pub inbox_id: Id,
    pub signing_secret: String,
    pub job: Job,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Job {
    /// For each step, open streams until node `i` holds `step[i]`, then send `messages` customer
    /// messages with `writers` concurrent writers (to the nodes in `write_nodes`, in turn), and time
    /// each message from its request to its frame on every stream, per node. Stops after the first
    /// step whose p99 is above `stop_above_ms` or that missed a delivery.
    FanOut {
        steps: Vec<Vec<usize>>,
        messages: usize,
        writers: usize,
        write_nodes: Vec<usize>,
        stop_above_ms: f64,
    },
    /// With `streams[i]` streams open on node `i`, for each concurrency: that many writers, each on
    /// one node in turn, send mutating requests (a customer message, a note on its conversation,
    /// its priority) back to back for `seconds`. Stops after the first step whose p95 is above
    /// `stop_above_ms`.
    Mutations { streams: Vec<usize>, concurrency: Vec<usize>, seconds: f64, stop_above_ms: f64 },
    /// For each step, open streams until node `i` holds `step[i]`, then offer customer messages
    /// at the rates of `rates` (ascending), each for `seconds` (at least `min_messages`), to the
    /// nodes in `write_nodes` in turn. Open loop: message `k` is due at the start plus `k / rate`
    /// and is sent then, whatever the earlier ones are doing, and its latency on every stream is
    /// counted from when it was due, so a queue in front of the server cannot hide. A rate is
    /// *held* when every frame arrived and the p99 is at most `p99_ms`. Per step the rates are
    /// searched from the one the step before held: up while held, down until one is. A step that
    /// holds none is followed by the next at the lowest rate only (its p99, for the record); a
    /// step that loses frames ends the job.
    Paced {
        steps: Vec<Vec<usize>>,
        rates: Vec<f64>,
        seconds: f64,
        min_messages: usize,
        write_nodes: Vec<usize>,
        p99_ms: f64,
    },
}

/// What the load client reports, one JSON line each.
#[derive(Debug, Serialize, Deserialize)]
pub enum Line {
    /// A step's streams are open; its load starts now (the bench samples the server's CPU here).
    Started {
        step: usize,
    },
    Done(StepResult),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    pub step: usize,
    /// Streams open on each node.
    pub streams: Vec<usize>,
    /// Fan-out: the latencies on each node's streams, then all of them together.
    pub per_node: Vec<Latency>,
    pub all: Latency,
    /// Fan-out: messages sent per second; mutations: successful requests per second.
    pub rate: f64,
    /// The wall time of the step's load, and the client's CPU time in it.
    pub seconds: f64,
    pub client_cpu_seconds: f64,
    /// Mutations only.
    pub concurrency: usize,
    pub errors: usize,
    /// Fan-out: the reads that brought the streams' bytes, and the bytes, during the step: with
    /// `all.count` they give frames and bytes per delivered message (a read takes whatever the
    /// socket holds, so reads ≤ frames when a stream falls behind).
    #[serde(default)]
    pub reads: u64,
    #[serde(default)]
    pub bytes: u64,
    /// Paced fan-out: the rate offered (messages per second); 0 for the other jobs.
    #[serde(default)]
    pub offered_rate: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub count: u64,
    /// Fan-out: how many (stream, message) pairs there were to deliver.
    pub expected: u64,
}

/// The entry point of `switchboard-bench load-client`.
pub async fn main() -> anyhow::Result<()> {
    let mut input = String::new();
    tokio::io::stdin().read_to_string(&mut input).await?;
    let spec: Spec = serde_json::from_str(&input).context("the load client's spec")?;
    let job = spec.job.clone();
    let client = Client::new(spec);
    match job {
        Job::FanOut { steps, messages, writers, write_nodes, stop_above_ms } => {
            client.fan_out(&steps, messages, writers, &write_nodes, stop_above_ms).await
        }
        Job::Mutations { streams, concurrency, seconds, stop_above_ms } => {
            client.mutations(&streams, &concurrency, seconds, stop_above_ms).await
        }
        Job::Paced { steps, rates, seconds, min_messages, write_nodes, p99_ms } => {
            client.paced(&steps, &rates, seconds, min_messages, &write_nodes, p99_ms).await
        }
    }
}

fn emit(line: &Line) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(line)?)?;
    out.flush()?;
    Ok(())
}

/// The paced search's next rate (its index, and whether the search is going up) after the rate at
/// `at` was or was not held; `None` when the step is done. The first rate tried decides the way:
/// held, go up until one is not; not held, go down until one is.
fn next_rate(at: usize, held: bool, going_up: Option<bool>, rates: usize) -> Option<(usize, bool)> {
    match (held, going_up) {
        (true, None | Some(true)) if at + 1 < rates => Some((at + 1, true)),
        (false, None | Some(false)) if at > 0 => Some((at - 1, false)),
        _ => None,
    }
}

/// Waits for `expected` deliveries, or until none has come for 10 s (at most two minutes).
async fn wait_for_deliveries(shared: &Shared, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = (0, Instant::now());
    loop {
        let count: u64 = shared.per_node.iter().map(|h| h.count.load(Ordering::Relaxed)).sum();
        if count >= expected || Instant::now() > deadline || last.1.elapsed() > Duration::from_secs(10) {
            return;
        }
        if count != last.0 {
            last = (count, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Each node's latencies and all of them together, `messages` expected on every open stream.
fn step_latencies(shared: &Shared, open: &[usize], messages: u64) -> (Vec<Latency>, Latency) {
    let counts: Vec<Vec<u32>> = shared.per_node.iter().map(Histogram::counts).collect();
    let per_node: Vec<Latency> =
        counts.iter().zip(open).map(|(c, &n)| latency(c, n as u64 * messages)).collect();
    let mut total = vec![0u32; BUCKETS];
    for counts in &counts {
        for (sum, c) in total.iter_mut().zip(counts) {
            *sum += c;
        }
    }
    let expected = open.iter().map(|&n| n as u64 * messages).sum();
    (per_node, latency(&total, expected))
}

/// Latencies in 0.1 ms buckets up to a minute: recording is one atomic add, from any stream.
struct Histogram {
    buckets: Vec<AtomicU32>,
    count: AtomicU64,
}

const BUCKET_MICROS: u64 = 100;
const BUCKETS: usize = 600_000;

impl Histogram {
    fn new() -> Self {
        Histogram { buckets: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(), count: AtomicU64::new(0) }
    }

    fn record(&self, micros: u64) {
        let index = ((micros / BUCKET_MICROS) as usize).min(BUCKETS - 1);
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn reset(&self) {
        for bucket in &self.buckets {
            bucket.store(0, Ordering::Relaxed);
        }
        self.count.store(0, Ordering::Relaxed);
    }

    fn counts(&self) -> Vec<u32> {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect()
    }
}

/// Percentiles of bucket counts, in milliseconds (each the upper edge of its bucket).
fn latency(counts: &[u32], expected: u64) -> Latency {
    let count: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    // No sample at all reads as 0 ms: the counts beside it say that nothing came.
    let at = |q: f64| {
        if count == 0 {
            return 0.0;
        }
        let wanted = ((q * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, &c) in counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= wanted {
                return (index + 1) as f64 * BUCKET_MICROS as f64 / 1000.0;
            }
        }
        0.0
    };
    Latency { p50: at(0.5), p95: at(0.95), p99: at(0.99), count, expected }
}

/// This process's CPU time (user + system), in seconds.
pub fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return f64::NAN };
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(f64::NAN);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state; in
    // clock ticks of 1/100 s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// The marker a probe message carries in its body, followed by its index and `~`.
const MARKER: &[u8] = b"~probe-";

/// The probes found in `bytes`, as indices; one whose digits run to the end is left for the next
/// read (the caller keeps the tail).
///
/// `memchr`'s vectorised search: a byte-at-a-time scan for the marker was a fifth of the load
/// client's CPU at 5,000 streams, CPU taken from the server on the same two cores.
fn probes(bytes: &[u8], mut found: impl FnMut(usize)) {
    for start in memchr::memmem::find_iter(bytes, MARKER) {
        let digits_at = start + MARKER.len();
        let digits = bytes[digits_at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits_at + digits == bytes.len() {
            return;
        }
        let number =
            std::str::from_utf8(&bytes[digits_at..digits_at + digits]).ok().and_then(|d| d.parse().ok());
        if let Some(number) = number {
            found(number);
        }
    }
}

/// What the streams and the writers share.
struct Shared {
    base: Instant,
    /// When each probe was sent, in nanoseconds after `base` (0: not yet).
    sent: Vec<AtomicU64>,
    /// The probes of the step being measured: `first..end`.
    first: AtomicUsize,
    end: AtomicUsize,
    per_node: Vec<Histogram>,
    /// Reads and bytes read by every stream since the step started.
    reads: AtomicU64,
    bytes: AtomicU64,
}

impl Shared {
    fn now(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

struct Client {
    spec: Spec,
    /// In every external id this client sends, so a second client on the same workspace is not
    /// taken for a redelivery.
    run: String,
    http: reqwest::Client,
    /// The feed head as last read (streams open from it, so they replay nothing).
    head: i64,
}

impl Client {
    fn new(spec: Spec) -> Self {
        Client {
            spec,
            run: Id::new_v4().simple().to_string()[..8].to_owned(),
            http: reqwest::Client::new(),
            head: 0,
        }
    }

    async fn read_head(&mut self) -> anyhow::Result<i64> {
        loop {
            let page: SyncPage = self
                .http
                .get(format!("{}/api/v1/sync?since={}&limit=1000", self.spec.nodes[0], self.head))
                .bearer_auth(&self.spec.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            self.head = page.next;
            if !page.has_more {
                return Ok(self.head);
            }
        }
    }

    /// Opens streams until node `i` holds `wanted[i]`; each is read by a task of its own.
    async fn open_streams(
        &mut self,
        open: &mut [usize],
        wanted: &[usize],
        shared: &Arc<Shared>,
    ) -> anyhow::Result<()> {
        let since = self.read_head().await?;
        for (node, (open, &wanted)) in open.iter_mut().zip(wanted).enumerate() {
            let address = self.spec.nodes[node].trim_start_matches("http://").to_owned();
            let mut connecting = tokio::task::JoinSet::new();
            while *open < wanted || !connecting.is_empty() {
                // A bounded number at a time, within the listener's backlog.
                while *open < wanted && connecting.len() < 64 {
                    let (address, token) = (address.clone(), self.spec.token.clone());
                    connecting.spawn(async move { handshake(&address, &token, since).await });
                    *open += 1;
                }
                let Some(done) = connecting.join_next().await else { break };
                let (socket, rest) = done??;
                tokio::spawn(read_stream(socket, rest, node, shared.clone()));
            }
        }
        Ok(())
    }

    async fn fan_out(
        mut self,
        steps: &[Vec<usize>],
        messages: usize,
        writers: usize,
        write_nodes: &[usize],
        stop_above_ms: f64,
    ) -> anyhow::Result<()> {
        let nodes = self.spec.nodes.len();
        let shared = Arc::new(Shared {
            base: Instant::now(),
            sent: (0..steps.len() * messages).map(|_| AtomicU64::new(0)).collect(),
            first: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            per_node: (0..nodes).map(|_| Histogram::new()).collect(),
            reads: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        });
        let mut open = vec![0; nodes];
        for (step, wanted) in steps.iter().enumerate() {
            self.open_streams(&mut open, wanted, &shared).await?;
            // Let the last streams finish their (empty) replay and subscribe.
            tokio::time::sleep(Duration::from_millis(500)).await;
            for histogram in &shared.per_node {
                histogram.reset();
            }
            shared.reads.store(0, Ordering::SeqCst);
            shared.bytes.store(0, Ordering::SeqCst);
            let (first, end) = (step * messages, (step + 1) * messages);
            shared.first.store(first, Ordering::SeqCst);
            shared.end.store(end, Ordering::SeqCst);
            emit(&Line::Started { step })?;
            let cpu_before = cpu_seconds("self");
            let started = Instant::now();
            let next = Arc::new(AtomicUsize::new(first));
            let mut tasks = Vec::new();
            for _ in 0..writers {
                let (next, shared, http) = (next.clone(), shared.clone(), self.http.clone());
                let targets: Vec<String> = write_nodes.iter().map(|&n| self.spec.nodes[n].clone()).collect();
                let (inbox_id, secret, run) =
                    (self.spec.inbox_id, self.spec.signing_secret.clone(), self.run.clone());
                tasks.push(tokio::spawn(async move {
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        if index >= end {
                            return anyhow::Ok(());
                        }
                        shared.sent[index].store(shared.now().max(1), Ordering::SeqCst);
                        let base = &targets[index % targets.len()];
                        let body = format!("~probe-{index}~ is a customer message");
                        let contact = format!("fan-{}", index % 30);
                        inbound(
                            &http,
                            base,
                            inbox_id,
                            &secret,
                            &contact,
                            &format!("fan-{run}-{index}"),
                            &body,
                        )
                        .await?;
                    }
                }));
            }
            for task in tasks {
                task.await??;
            }
            let rate = messages as f64 / started.elapsed().as_secs_f64();
            // Wait for every delivery, or until none has come for 10 s.
            let expected: u64 = open.iter().map(|&n| (n * messages) as u64).sum();
            wait_for_deliveries(&shared, expected).await;
            let seconds = started.elapsed().as_secs_f64();
            let client_cpu_seconds = cpu_seconds("self") - cpu_before;
            let (per_node, all) = step_latencies(&shared, &open, messages as u64);
            let (reads, bytes) = (shared.reads.load(Ordering::SeqCst), shared.bytes.load(Ordering::SeqCst));
            // Nothing of this step is counted from here on.
            shared.end.store(0, Ordering::SeqCst);
            let stop = all.count < expected || all.p99 > stop_above_ms;
            emit(&Line::Done(StepResult {
                step,
                streams: open.clone(),
                per_node,
                all,
                rate,
                seconds,
                client_cpu_seconds,
                concurrency: writers,
                errors: 0,
                reads,
                bytes,
                offered_rate: 0.0,
            }))?;
            if stop {
                break;
            }
        }
        Ok(())
    }

    /// The messages one paced rate sends.
    fn paced_messages(rate: f64, seconds: f64, min_messages: usize) -> usize {
        ((rate * seconds).ceil() as usize).max(min_messages)
    }

    async fn paced(
        mut self,
        steps: &[Vec<usize>],
        rates: &[f64],
        seconds: f64,
        min_messages: usize,
        write_nodes: &[usize],
        p99_ms: f64,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(!rates.is_empty(), "no rates to offer");
        let nodes = self.spec.nodes.len();
        // Each step tries each rate at most once (up from where it starts, or down).
        let per_step: usize = rates.iter().map(|&r| Self::paced_messages(r, seconds, min_messages)).sum();
        let shared = Arc::new(Shared {
            base: Instant::now(),
            sent: (0..steps.len() * per_step).map(|_| AtomicU64::new(0)).collect(),
            first: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            per_node: (0..nodes).map(|_| Histogram::new()).collect(),
            reads: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        });
        let targets: Arc<Vec<String>> =
            Arc::new(write_nodes.iter().map(|&n| self.spec.nodes[n].clone()).collect());
        let mut open = vec![0; nodes];
        let mut next_probe = 0;
        let mut measured = 0;
        // Where the search starts: the highest rate the step before held.
        let mut start = 0;
        let mut lost = false;
        for wanted in steps {
            if lost {
                break;
            }
            self.open_streams(&mut open, wanted, &shared).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut highest = None;
            let mut at = start;
            let mut going_up = None;
            loop {
                let rate = rates[at];
                let messages = Self::paced_messages(rate, seconds, min_messages);
                let (first, end) = (next_probe, next_probe + messages);
                next_probe = end;
                let result = self.paced_rate(&shared, &open, &targets, measured, rate, first, end).await?;
                measured += 1;
                let held = result.all.count >= result.all.expected && result.all.p99 <= p99_ms;
                lost |= result.all.count < result.all.expected;
                emit(&Line::Done(result))?;
                if held {
                    highest = Some(at);
                }
                match next_rate(at, held, going_up, rates.len()) {
                    Some((next, up)) => (at, going_up) = (next, Some(up)),
                    None => break,
                }
            }
            start = highest.unwrap_or(0);
        }
        Ok(())
    }

    /// One paced rate: probes `first..end` offered at `rate`, open loop; the step's result.
    #[allow(clippy::too_many_arguments)]
    async fn paced_rate(
        &self,
        shared: &Arc<Shared>,
        open: &[usize],
        targets: &Arc<Vec<String>>,
        step: usize,
        rate: f64,
        first: usize,
        end: usize,
    ) -> anyhow::Result<StepResult> {
        for histogram in &shared.per_node {
            histogram.reset();
        }
        shared.reads.store(0, Ordering::SeqCst);
        shared.bytes.store(0, Ordering::SeqCst);
        shared.first.store(first, Ordering::SeqCst);
        shared.end.store(end, Ordering::SeqCst);
        emit(&Line::Started { step })?;
        let cpu_before = cpu_seconds("self");
        let started = Instant::now();
        let mut requests = tokio::task::JoinSet::new();
        for (k, index) in (first..end).enumerate() {
            let due = started + Duration::from_secs_f64(k as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            // Timed from when it was due, not from when this task got round to sending it.
            shared.sent[index].store(((due - shared.base).as_nanos() as u64).max(1), Ordering::SeqCst);
            let (http, targets) = (self.http.clone(), targets.clone());
            let (inbox_id, secret, run) =
                (self.spec.inbox_id, self.spec.signing_secret.clone(), self.run.clone());
            requests.spawn(async move {
                let base = &targets[index % targets.len()];
                let body = format!("~probe-{index}~ is a customer message");
                let contact = format!("fan-{}", index % 30);
                inbound(&http, base, inbox_id, &secret, &contact, &format!("fan-{run}-{index}"), &body).await
            });
        }
        while let Some(done) = requests.join_next().await {
            done??;
        }
        // The rate the server took: every request answered, over the time until the last answer.
        let taken = (end - first) as f64 / started.elapsed().as_secs_f64();
        let expected: u64 = open.iter().map(|&n| (n * (end - first)) as u64).sum();
        wait_for_deliveries(shared, expected).await;
        let seconds = started.elapsed().as_secs_f64();
        let client_cpu_seconds = cpu_seconds("self") - cpu_before;
        let (per_node, all) = step_latencies(shared, open, (end - first) as u64);
        let (reads, bytes) = (shared.reads.load(Ordering::SeqCst), shared.bytes.load(Ordering::SeqCst));
        shared.end.store(0, Ordering::SeqCst);
        Ok(StepResult {
            step,
            streams: open.to_vec(),
            per_node,
            all,
            rate: taken,
            seconds,
            client_cpu_seconds,
            concurrency: 0,
            errors: 0,
            reads,
            bytes,
            offered_rate: rate,
        })
    }

    async fn mutations(
        mut self,
        streams: &[usize],
        concurrency: &[usize],
        seconds: f64,
        stop_above_ms: f64,
    ) -> anyhow::Result<()> {
        let nodes = self.spec.nodes.len();
        let shared = Arc::new(Shared {
            base: Instant::now(),
            sent: Vec::new(),
            first: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            per_node: (0..nodes).map(|_| Histogram::new()).collect(),
            reads: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        });
        let mut open = vec![0; nodes];
        self.open_streams(&mut open, streams, &shared).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (step, &writers) in concurrency.iter().enumerate() {
            for histogram in &shared.per_node {
                histogram.reset();
            }
            emit(&Line::Started { step })?;
            let cpu_before = cpu_seconds("self");
            let started = Instant::now();
            let until = started + Duration::from_secs_f64(seconds);
            let mut tasks = Vec::new();
            for writer in 0..writers {
                let (shared, http) = (shared.clone(), self.http.clone());
                let node = writer % nodes;
                let base = self.spec.nodes[node].clone();
                let (inbox_id, secret, token, run) = (
                    self.spec.inbox_id,
                    self.spec.signing_secret.clone(),
                    self.spec.token.clone(),
                    self.run.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut errors = 0;
                    let mut n = 0usize;
                    let timed = |at: Instant| shared.per_node[node].record(at.elapsed().as_micros() as u64);
                    while Instant::now() < until {
                        n += 1;
                        let at = Instant::now();
                        let contact = format!("mut-{step}-{writer}-{}", n % 5);
                        let body = format!("mutation {n} of writer {writer}");
                        let conversation = match inbound_conversation(
                            &http,
                            &base,
                            inbox_id,
                            &secret,
                            &contact,
                            &format!("mut-{run}-{step}-{writer}-{n}"),
                            &body,
                        )
                        .await
                        {
                            Ok(id) => id,
                            Err(_) => {
                                errors += 1;
                                continue;
                            }
                        };
                        timed(at);
                        let at = Instant::now();
                        let note = json!({"client_id": Id::new_v4(), "kind": "note", "body": "a note"});
                        match post(
                            &http,
                            &format!("{base}/api/v1/conversations/{conversation}/messages"),
                            &token,
                            &note,
                        )
                        .await
                        {
                            Ok(()) => timed(at),
                            Err(_) => errors += 1,
                        }
                        let at = Instant::now();
                        let levels = ["low", "medium", "high"];
                        let priority = json!({"client_id": Id::new_v4(), "priority": levels[n % 3]});
                        match post(
                            &http,
                            &format!("{base}/api/v1/conversations/{conversation}/priority"),
                            &token,
                            &priority,
                        )
                        .await
                        {
                            Ok(()) => timed(at),
                            Err(_) => errors += 1,
                        }
                    }
                    errors
                }));
            }
            let mut errors = 0;
            for task in tasks {
                errors += task.await?;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let client_cpu_seconds = cpu_seconds("self") - cpu_before;
            let counts: Vec<Vec<u32>> = shared.per_node.iter().map(Histogram::counts).collect();
            let per_node: Vec<Latency> = counts.iter().map(|c| latency(c, 0)).collect();
            let mut total = vec![0u32; BUCKETS];
            for counts in &counts {
                for (sum, c) in total.iter_mut().zip(counts) {
                    *sum += c;
                }
            }
            let all = latency(&total, 0);
            let rate = all.count as f64 / elapsed;
            let stop = all.p95 > stop_above_ms;
            emit(&Line::Done(StepResult {
                step,
                streams: open.clone(),
                per_node,
                all,
                rate,
                seconds: elapsed,
                client_cpu_seconds,
                concurrency: writers,
                errors,
                reads: 0,
                bytes: 0,
                offered_rate: 0.0,
            }))?;
            if stop {
                break;
            }
        }
        Ok(())
    }
}

/// The WebSocket handshake, by hand: the socket, and whatever came after the response's head.
async fn handshake(address: &str, token: &str, since: i64) -> anyhow::Result<(TcpStream, Vec<u8>)> {
    let mut socket = TcpStream::connect(address).await?;
    socket.set_nodelay(true)?;
    let request = format!(
        "GET /api/v1/stream?since={since} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0u8; 1024];
    loop {
        let n = socket.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "the server closed the stream during the handshake");
        head.extend_from_slice(&buffer[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            anyhow::ensure!(
                head.starts_with(b"HTTP/1.1 101"),
                "the stream was refused: {}",
                String::from_utf8_lossy(&head[..end])
            );
            return Ok((socket, head.split_off(end + 4)));
        }
    }
}

/// Reads a stream until it closes, timing each probe of the current step the first time it shows.
async fn read_stream(mut socket: TcpStream, first: Vec<u8>, node: usize, shared: Arc<Shared>) {
    const READ: usize = 16 * 1024;
    const KEEP: usize = 32;
    let mut buffer = vec![0u8; KEEP + READ.max(first.len())];
    buffer[..first.len()].copy_from_slice(&first);
    let mut filled = first.len();
    let mut seen = vec![0u64; shared.sent.len().div_ceil(64)];
    loop {
        let now = shared.now();
        let (first, end) = (shared.first.load(Ordering::Relaxed), shared.end.load(Ordering::Relaxed));
        probes(&buffer[..filled], |index| {
            if index < first || index >= end {
                return;
            }
            let (word, bit) = (index / 64, 1u64 << (index % 64));
            if seen[word] & bit != 0 {
                return;
            }
            seen[word] |= bit;
            let sent = shared.sent[index].load(Ordering::Relaxed);
            if sent > 0 {
                shared.per_node[node].record(now.saturating_sub(sent) / 1000);
            }
        });
        // Keep the tail: a marker cut in two is found whole after the next read (one already
        // counted is not counted again).
        let keep = filled.min(KEEP);
        buffer.copy_within(filled - keep..filled, 0);
        match socket.read(&mut buffer[keep..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                filled = keep + n;
                shared.reads.fetch_add(1, Ordering::Relaxed);
                shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}

/// A customer message through the inbox's signed channel; the conversation it went to.
async fn inbound_conversation(
    http: &reqwest::Client,
    base: &str,
    inbox_id: Id,
    secret: &str,
    contact: &str,
    external_id: &str,
    body: &str,
) -> anyhow::Result<Id> {
    let payload =
        json!({"contact": {"external_id": contact}, "message": {"external_id": external_id, "body": body}})
            .to_string();
    let signature = switchboard_server::sign_payload(secret, payload.as_bytes());
    let response = http
        .post(format!("{base}/api/v1/channels/{inbox_id}/inbound"))
        .header("content-type", "application/json")
        .header(switchboard_server::SIGNATURE_HEADER, signature)
        .body(payload)
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "inbound: {}", response.status());
    Ok(response.json::<InboundResult>().await?.conversation_id)
}

async fn inbound(
    http: &reqwest::Client,
    base: &str,
    inbox_id: Id,
    secret: &str,
    contact: &str,
    external_id: &str,
    body: &str,
) -> anyhow::Result<()> {
    inbound_conversation(http, base, inbox_id, secret, contact, external_id, body).await.map(|_| ())
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    let response = http.post(url).bearer_auth(token).json(body).send().await?;
    anyhow::ensure!(response.status().is_success(), "{url}: {}", response.status());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_found_in_raw_bytes_and_a_cut_one_is_left_for_the_next_read() {
        let mut found = Vec::new();
        probes(b"\x81\x7e..{\"body\":\"~probe-12~ x\",\"preview\":\"~probe-12~\"} ~pro ~probe-7", |i| {
            found.push(i)
        });
        assert_eq!(found, [12, 12], "the last one's digits may go on in the next read");
        let mut found = Vec::new();
        probes(b"~probe-345~", |i| found.push(i));
        assert_eq!(found, [345]);
    }

    #[test]
    fn the_paced_search_goes_up_while_held_and_down_until_held() {
        // Runs the search over 5 rates where those below `limit` are held; the rates tried.
        let search = |start: usize, limit: usize| {
            let (mut at, mut going_up, mut tried) = (start, None, vec![start]);
            while let Some((next, up)) = next_rate(at, at < limit, going_up, 5) {
                (at, going_up) = (next, Some(up));
                tried.push(at);
            }
            tried
        };
        assert_eq!(search(0, 3), [0, 1, 2, 3], "up to the first rate not held");
        assert_eq!(search(2, 5), [2, 3, 4], "every rate held: stops at the top");
        assert_eq!(search(3, 1), [3, 2, 1, 0], "down to the first rate held");
        assert_eq!(search(2, 0), [2, 1, 0], "none held: stops at the bottom");
        assert_eq!(search(1, 2), [1, 2], "held, then not: the one below is the answer");
    }

    #[test]
    fn percentiles_are_bucket_edges() {
        let histogram = Histogram::new();
        for micros in [50, 150, 150, 990, 20_000] {
            histogram.record(micros);
        }
        let latency = latency(&histogram.counts(), 5);
        assert_eq!((latency.p50, latency.p99, latency.count), (0.2, 20.1, 5));
    }
}
