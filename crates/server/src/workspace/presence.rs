//! Presence across nodes: who has a stream open anywhere. Each node counts its own streams per
//! agent in memory and writes only its node-level edges (an agent's first stream on this node,
//! their last) to the `streaming` table, so the count an agent is "online" by is the sum over every
//! node, and opening a thousand streams costs a write only per agent. An agent going from no node
//! to one, or from one to none, is announced on the bus (which crosses nodes).
//!
//! A node that dies without closing its streams stops writing its heartbeat ([`run_presence`]);
//! after [`NODE_SILENT_AFTER`] another node forgets its streams and announces who went offline. A
//! node restarted under the same id forgets its own old streams first.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use switchboard_proto::*;
use tokio_util::sync::CancellationToken;

use super::Workspace;
use crate::{
    bus::BusEvent,
    refusal::Outcome,
    store::{StoreReadExt, StoreTx},
};

/// How often a node writes that it is alive (and looks for nodes that stopped), by default.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A node silent for this long (on the server's clock: three heartbeats) is taken for dead and its
/// streams forgotten.
pub const NODE_SILENT_AFTER: Millis = 30_000;

/// This node's open streams per agent.
#[derive(Debug, Default, Clone)]
pub(crate) struct LocalStreams(Arc<Mutex<HashMap<Id, usize>>>);

impl LocalStreams {
    /// Counts a stream in or out; true when the agent's count on this node went from or to zero.
    fn change(&self, agent: Id, opened: bool) -> bool {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(agent).or_insert(0);
        let before = *count;
        *count = if opened { before + 1 } else { before.saturating_sub(1) };
        let after = *count;
        if after == 0 {
            counts.remove(&agent);
        }
        (before == 0) != (after == 0)
    }

    fn agents(&self) -> Vec<Id> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).keys().copied().collect()
    }

    fn has(&self, agent: Id) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&agent)
    }
}

/// Writes what this node knows of `agent` now; returns `Some(online)` when the agent went from no
/// node to some or back. Runs inside a write transaction, which every node takes one at a time,
/// and reads the local count at that moment: two edges racing on this node write in either order
/// and the later write still records the count as it ends.
fn record_node_edge(
    tx: &mut dyn StoreTx,
    node: &str,
    streams: &LocalStreams,
    agent: Id,
) -> Outcome<Option<bool>> {
    let before = tx.streaming_nodes(agent)? > 0;
    tx.set_streaming(node, agent, streams.has(agent))?;
    let after = tx.streaming_nodes(agent)? > 0;
    if after != before {
        // Connecting stops a release countdown and may take queued conversations at once;
        // the last stream closing starts the countdown.
        super::routing::availability_changed(tx, agent)?;
    }
    if after && !before {
        super::routing::route(tx, super::routing::Released::default())?;
    }
    Ok((before != after).then_some(after))
}

impl Workspace {
    /// A stream of `agent` opened on this node.
    pub async fn stream_opened(&self, agent: Id) {
        self.stream_changed(agent, true).await;
    }

    /// A stream of `agent` closed on this node.
    pub async fn stream_closed(&self, agent: Id) {
        self.stream_changed(agent, false).await;
    }

    async fn stream_changed(&self, agent: Id, opened: bool) {
        if !self.streams.change(agent, opened) {
            return;
        }
        let (node, streams) = (self.node.clone(), self.streams.clone());
        let edge = self.write(move |tx| record_node_edge(tx, &node, &streams, agent)).await;
        match edge {
            Ok(Some(online)) => self.announce_presence(agent, online).await,
            Ok(None) => {}
            // The stream works without it; the next edge or heartbeat puts the row right.
            Err(refusal) => tracing::warn!(%agent, message = %refusal.message, "recording presence failed"),
        }
    }

    /// Whether `agent` has a stream open on any node.
    pub async fn is_streaming(&self, agent: Id) -> Outcome<bool> {
        self.read(move |store| Ok(store.streaming_nodes(agent)? > 0)).await
    }

    /// Every agent with a stream open on any node, as presence frames: what a stream that just
    /// opened is told, since it heard none of the edges before it.
    pub async fn presence_snapshot(&self) -> Outcome<Vec<ServerFrame>> {
        self.read(|store| {
            let mut frames = Vec::new();
            for agent_id in store.streaming_agents()? {
                if let Some(agent) = store.get::<Agent>(agent_id)? {
                    frames.push(ServerFrame::Presence {
                        agent_id,
                        online: true,
                        availability: agent.availability,
                    });
                }
            }
            Ok(frames)
        })
        .await
    }

    /// Tells every stream (on every node) that `agent` came online or went offline, or changed
    /// availability.
    pub(crate) async fn announce_presence(&self, agent_id: Id, online: bool) {
        let availability = match self.read(move |store| Ok(store.get::<Agent>(agent_id)?)).await {
            Ok(Some(agent)) => agent.availability,
            Ok(None) => return,
            Err(refusal) => {
                tracing::warn!(%agent_id, message = %refusal.message, "reading an agent for presence failed");
                return;
            }
        };
        self.bus.publish(BusEvent::Ephemeral {
            inbox_id: None,
            from_agent: agent_id,
            frame: ServerFrame::Presence { agent_id, online, availability },
        });
    }

    /// Writes this node's heartbeat and forgets nodes that stopped writing theirs (and, when
    /// `restarted`, this node's own streams from a previous run), announcing who went offline.
    pub async fn keep_presence(&self, restarted: bool) -> Outcome<()> {
        let (node, streams) = (self.node.clone(), self.streams.clone());
        let edges = self
            .write(move |tx| {
                let now = tx.now();
                let mut lost = tx.silent_nodes(now - NODE_SILENT_AFTER)?;
                lost.retain(|silent| *silent != *node);
                for silent in &lost {
                    tracing::warn!(node = %silent, "a node stopped writing its heartbeat; forgetting its streams");
                }
                if restarted {
                    lost.push(node.to_string());
                }
                let mut edges: Vec<(Id, bool)> =
                    forget_nodes(tx, &lost)?.into_iter().map(|agent| (agent, false)).collect();
                if !tx.node_seen(&node, now)? && !restarted {
                    // Another node took this one for dead (it was silent too long: a stall, a
                    // lost database): its streams are still open, so they count again.
                    tracing::warn!(%node, "this node had been taken for dead; recording its streams again");
                    for agent in streams.agents() {
                        if let Some(online) = record_node_edge(tx, &node, &streams, agent)? {
                            edges.push((agent, online));
                        }
                    }
                }
                Ok(edges)
            })
            .await?;
        for (agent, online) in edges {
            self.announce_presence(agent, online).await;
        }
        Ok(())
    }

    /// This node stops: forget its streams at once rather than once its heartbeat goes silent.
    pub async fn leave_presence(&self) -> Outcome<()> {
        let node = self.node.clone();
        let offline = self.write(move |tx| forget_nodes(tx, &[node.to_string()])).await?;
        for agent in offline {
            self.announce_presence(agent, false).await;
        }
        Ok(())
    }
}

/// Forgets these nodes and their streams; returns the agents left with no stream anywhere.
fn forget_nodes(tx: &mut dyn StoreTx, nodes: &[String]) -> Outcome<Vec<Id>> {
    let mut agents = Vec::new();
    for node in nodes {
        agents.extend(tx.forget_node(node)?);
    }
    agents.sort();
    agents.dedup();
    let mut offline = Vec::new();
    for agent in agents {
        if tx.streaming_nodes(agent)? == 0 {
            super::routing::availability_changed(tx, agent)?;
            offline.push(agent);
        }
    }
    Ok(offline)
}

/// Writes this node's heartbeat every `period` ([`HEARTBEAT`] by default; forgetting silent nodes) until `shutdown`,
/// then forgets this node's streams. The server calls `keep_presence(true)` before it serves, so
/// a previous run's streams are gone before a new one is counted.
pub async fn run_presence(workspace: Workspace, period: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(period) => {}
        }
        if let Err(refusal) = workspace.keep_presence(false).await {
            tracing::warn!(message = %refusal.message, "writing the node's heartbeat failed");
        }
    }
    if let Err(refusal) = workspace.leave_presence().await {
        tracing::warn!(message = %refusal.message, "forgetting the node's streams failed");
    }
}
