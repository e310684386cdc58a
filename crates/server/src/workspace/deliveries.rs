//! The delivery job's domain half: every outgoing message is one durable job (`deliveries`),
//! claimed with a lease by one worker on any node (`webhook.rs`), which sends it through the
//! inbox's connector (`connectors.rs`) and records the outcome here: sent (with the provider's
//! ids, which later statuses name), retried with backoff on a transient error (at least the
//! provider's retry-after), or failed with the reason on the message (after
//! [`MAX_DELIVERY_ATTEMPTS`] transient ones too). States only move forward
//! (`connectors::advances`), whoever reports them: the job, the API channel's delivery reports,
//! a connector's statuses.
//!
//! **Claims, and a worker that dies mid-send.** A claim counts the attempt and marks the delivery
//! `claimed on <node>` (its `last_error`), and the worker marks it `in flight on <node>` just
//! before it hands the message to the provider, until the attempt is recorded. The attempt number
//! is the claim's fencing token, so a worker whose lease ran out and was taken over records
//! nothing (a success still names the provider's ids, so statuses find the message). A claim that
//! finds a `claimed` mark makes the attempt (the earlier worker never sent it); one that finds an
//! `in flight` mark knows that send was never recorded: its worker died, maybe after the provider
//! took the message. Where a repeat is harmless (`connectors::resends_safely`: the
//! API channel's `Idempotency-Key`, email's `Message-ID`) it is made again (at least once, one
//! copy kept by the receiver); where it is not (WhatsApp, Messenger, Instagram, Telegram: no
//! idempotency key, no way to look a sent message up) the message fails as `interrupted`, saying
//! it may have reached the customer (at most once: a reply sent twice can't be unsent, a failed
//! one shows the agent a retry). A dead worker's claims wait out [`DELIVERY_LEASE_MS`], or are
//! taken back at once when its node starts again under the same node id
//! ([`Workspace::recover_claims`]).

use switchboard_proto::*;

use super::{directory::inbox_secret, Workspace};
use crate::{
    connectors::{self, ConnectorSettings, OutgoingTemplate, SendError, Sent, StatusUpdate, Watermark},
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

/// Attempts before an outgoing message that keeps failing transiently is marked failed.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 8;
/// How long a claimed delivery is left to the worker that claimed it: longer than an attempt can
/// take (each request times out after 10 s; a WhatsApp file is an upload and a send), so no
/// other worker (on this node or another) takes it too; short enough that a worker that died
/// mid-attempt holds it up only briefly.
pub const DELIVERY_LEASE_MS: Millis = 60_000;

/// A claimed delivery's `last_error` until it is sent: this and the node's id.
const CLAIMED: &str = "claimed on ";
/// A delivery's `last_error` while the provider may have it and the outcome is not recorded.
const IN_FLIGHT: &str = "in flight on ";

/// The node whose send of a delivery was never recorded, if there is one.
fn in_flight_node(last_error: Option<&str>) -> Option<&str> {
    last_error?.strip_prefix(IN_FLIGHT)
}

/// The node holding a claim on a delivery (claimed or sending), if one does.
fn claim_node(last_error: Option<&str>) -> Option<&str> {
    let last_error = last_error?;
    last_error.strip_prefix(CLAIMED).or_else(|| last_error.strip_prefix(IN_FLIGHT))
}

/// The wait before attempt `attempts + 1`: one second doubling, at most about 17 minutes.
fn backoff(attempts: u32) -> Millis {
    1_000i64 << attempts.min(10)
}

/// An outgoing message claimed for one attempt through its inbox's connector.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub inbox_id: Id,
    /// Attempts recorded before this one; this claim is attempt `attempts + 1`, the number that
    /// records its outcome ([`Workspace::delivery_attempted`]).
    pub attempts: u32,
    /// The inbox's signing secret (the API connector signs with it).
    pub secret: String,
    /// `None`: the inbox has no connector, and the message fails saying so.
    pub settings: Option<ConnectorSettings>,
    pub message: Message,
    /// The contact's id on this inbox's channel.
    pub to: Option<String>,
    pub template: Option<OutgoingTemplate>,
    /// How long ago the customer last wrote, at the claim (`None`: never).
    pub since_customer_ms: Option<Millis>,
}

/// The inbox's connector settings, as stored server-side.
pub(super) fn connector_settings(
    store: &(impl StoreRead + ?Sized),
    inbox_id: Id,
) -> Outcome<Option<ConnectorSettings>> {
    match store.connector_settings(inbox_id)? {
        None => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|e| Refusal::internal(format!("inbox {inbox_id}: unreadable connector settings: {e}"))),
    }
}

/// Moves `message` to `state` if that is forward; a failure carries its reason.
fn advance(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    mut message: Message,
    state: DeliveryState,
    failure: Option<DeliveryFailure>,
) -> Outcome<bool> {
    if message.kind != MessageKind::Outgoing || !connectors::advances(message.delivery, state) {
        return Ok(false);
    }
    message.delivery = state;
    message.failure = if state == DeliveryState::Failed { failure } else { None };
    tx.put(&message, Audience::inbox(inbox_id))?;
    if state == DeliveryState::Failed {
        tx.remove_delivery(message.id)?;
    }
    Ok(true)
}

fn report_delivery(tx: &mut dyn StoreTx, inbox_id: Id, report: DeliveryReport) -> Outcome<()> {
    let message: Message = tx.get(report.message_id)?.ok_or_else(|| Refusal::not_found("message"))?;
    let conversation: Conversation =
        tx.get(message.conversation_id)?.ok_or_else(|| Refusal::not_found("message"))?;
    if conversation.inbox_id != inbox_id || message.kind != MessageKind::Outgoing {
        return Err(Refusal::not_found("message"));
    }
    let failure = (report.state == DeliveryState::Failed).then(|| DeliveryFailure {
        kind: DeliveryFailureKind::Rejected,
        reason: report.reason.clone().unwrap_or_else(|| "the channel reported it failed".into()),
    });
    if advance(tx, inbox_id, message, report.state, failure)? {
        // The channel has it: no attempt is due any more.
        tx.remove_delivery(report.message_id)?;
    }
    Ok(())
}

/// A connector's statuses, by the provider's ids: unknown ids (messages sent from elsewhere) are
/// skipped, repeats and late ones change nothing. Answers how many moved a message.
pub(super) fn apply_statuses(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    statuses: Vec<StatusUpdate>,
) -> Outcome<usize> {
    let mut moved = 0;
    for status in statuses {
        let Some(message_id) = tx.provider_message(inbox_id, &status.provider_id)? else {
            tracing::debug!(provider_id = %status.provider_id, "a status for a message this inbox did not send");
            continue;
        };
        let Some(message) = tx.get::<Message>(message_id)? else { continue };
        if advance(tx, inbox_id, message, status.state, status.failure)? {
            moved += 1;
        }
    }
    Ok(moved)
}

fn apply_watermarks(tx: &mut dyn StoreTx, inbox_id: Id, watermarks: Vec<Watermark>) -> Outcome<usize> {
    let mut moved = 0;
    for watermark in watermarks {
        let Some(contact) = tx.contact_by_identity(inbox_id, &watermark.contact_external_id)? else {
            continue;
        };
        for conversation in tx.contact_conversations(contact)? {
            if conversation.inbox_id != inbox_id {
                continue;
            }
            for message in tx.messages_of(conversation.id)? {
                // Only what the provider has (sent): a queued or failed message is not delivered.
                let sent = matches!(message.delivery, DeliveryState::Sent | DeliveryState::Delivered);
                if message.kind == MessageKind::Outgoing
                    && sent
                    && message.created_at <= watermark.up_to
                    && advance(tx, inbox_id, message, watermark.state, None)?
                {
                    moved += 1;
                }
            }
        }
    }
    Ok(moved)
}

/// Claims the deliveries due now: each is leased to the caller (its next attempt moved past the
/// lease, the attempt counted, the claim marked) in the same transaction that lists it, so two
/// workers never both attempt it. An earlier claim never recorded is an interrupted send: made
/// again only where a repeat is harmless, else the message fails (see the module's doc).
fn claim_due_deliveries(tx: &mut dyn StoreTx, node: &str, limit: usize) -> Outcome<Vec<PendingDelivery>> {
    let now = tx.now();
    let due = tx.due_deliveries(now, limit)?;
    for delivery in &due {
        let mark = format!("{CLAIMED}{node}");
        tx.reschedule_delivery(delivery.message_id, delivery.attempts + 1, now + DELIVERY_LEASE_MS, &mark)?;
    }
    let mut pending = Vec::new();
    for due in due {
        let interrupted = in_flight_node(due.last_error.as_deref()).map(str::to_owned);
        let store: &dyn StoreTx = tx;
        let (inbox, secret) = inbox_secret(store, due.inbox_id)?;
        let Some(message) = store.get::<Message>(due.message_id)? else {
            continue;
        };
        if let Some(node) = interrupted {
            let settings = connector_settings(store, inbox.id).ok().flatten();
            if !settings.as_ref().is_some_and(connectors::resends_safely) {
                tracing::warn!(message = %message.id, %node, "a send interrupted by its worker's end: failed, not repeated");
                let failure = DeliveryFailure {
                    kind: DeliveryFailureKind::Interrupted,
                    reason: "The server stopped while sending this reply, so it may or may not have reached the customer. Check with them before sending it again.".into(),
                };
                tx.remove_delivery(message.id)?;
                advance(tx, inbox.id, message, DeliveryState::Failed, Some(failure))?;
                continue;
            }
            tracing::info!(message = %message.id, %node, "a send interrupted by its worker's end: made again (the receiver drops a repeat)");
        }
        let store: &dyn StoreTx = tx;
        let conversation = store.get::<Conversation>(message.conversation_id)?;
        let since_customer_ms = conversation.as_ref().and_then(|c| c.last_incoming_at).map(|at| now - at);
        let to = match conversation {
            // Who wrote is known by their id on the inbox; a contact an agent wrote to first, by
            // the address the channel has for their details (a WhatsApp number's digits).
            Some(c) => store
                .get::<Contact>(c.contact_id)?
                .and_then(|contact| rules::contact_address(inbox.channel, inbox.id, &contact)),
            None => None,
        };
        let template = message.template.as_ref().map(|reference| OutgoingTemplate {
            name: reference.name.clone(),
            language: inbox
                .templates
                .iter()
                .find(|t| t.name == reference.name)
                .map_or_else(|| "en".to_owned(), |t| t.language.clone()),
            params: reference.params.clone(),
        });
        // Settings that no longer parse fail the message with the reason (an admin must fix them).
        let settings = connector_settings(store, inbox.id).unwrap_or_else(|error| {
            tracing::warn!(inbox = %inbox.id, message = %error.message, "connector settings");
            None
        });
        pending.push(PendingDelivery {
            inbox_id: inbox.id,
            attempts: due.attempts,
            secret,
            settings,
            message,
            to,
            template,
            since_customer_ms,
        });
    }
    Ok(pending)
}

fn delivery_attempted(
    tx: &mut dyn StoreTx,
    message_id: Id,
    attempt: u32,
    outcome: Result<Sent, SendError>,
) -> Outcome<()> {
    let delivery = tx.delivery(message_id)?;
    let ours = delivery
        .as_ref()
        .is_some_and(|d| d.attempts == attempt && claim_node(d.last_error.as_deref()).is_some());
    let Some(delivery) = delivery.filter(|_| ours) else {
        // Another worker took this delivery over (this one's lease ran out), or it is settled:
        // this outcome is not to be recorded. What the provider took is still named, so its
        // statuses find the message (forward only: a message failed since stays failed).
        if let (Ok(sent), Some(message)) = (&outcome, tx.get::<Message>(message_id)?) {
            if let Some(conversation) = tx.get::<Conversation>(message.conversation_id)? {
                for provider_id in &sent.provider_ids {
                    tx.remember_provider_message(conversation.inbox_id, provider_id, message_id)?;
                }
            }
        }
        tracing::info!(%message_id, attempt, "an attempt recorded after its claim was taken over: ignored");
        return Ok(());
    };
    let attempts = attempt;
    let Some(message) = tx.get::<Message>(message_id)? else {
        tx.remove_delivery(message_id)?;
        return Ok(());
    };
    let inbox_id = delivery.inbox_id;
    match outcome {
        Ok(sent) => {
            tx.remove_delivery(message_id)?;
            for provider_id in &sent.provider_ids {
                tx.remember_provider_message(inbox_id, provider_id, message_id)?;
            }
            advance(tx, inbox_id, message, DeliveryState::Sent, None)?;
        }
        Err(SendError::Transient { reason, retry_after }) if attempts < MAX_DELIVERY_ATTEMPTS => {
            let wait = backoff(attempts).max(retry_after.unwrap_or(0));
            tx.reschedule_delivery(message_id, attempts, tx.now() + wait, &reason)?;
        }
        Err(SendError::Transient { reason, .. }) => {
            let failure = DeliveryFailure {
                kind: DeliveryFailureKind::GaveUp,
                reason: format!("gave up after {attempts} attempts: {reason}"),
            };
            tx.remove_delivery(message_id)?;
            advance(tx, inbox_id, message, DeliveryState::Failed, Some(failure))?;
        }
        Err(SendError::Failed(failure)) => {
            tx.remove_delivery(message_id)?;
            advance(tx, inbox_id, message, DeliveryState::Failed, Some(failure))?;
        }
    }
    Ok(())
}

impl Workspace {
    /// The API channel reports how far an outgoing message got. States only move forward.
    pub async fn report_delivery(&self, inbox_id: Id, report: DeliveryReport) -> Outcome<()> {
        self.write(move |tx| report_delivery(tx, inbox_id, report)).await
    }

    /// A connector's delivery statuses (by the provider's ids); how many moved a message.
    pub async fn apply_statuses(&self, inbox_id: Id, statuses: Vec<StatusUpdate>) -> Outcome<usize> {
        if statuses.is_empty() {
            return Ok(0);
        }
        self.write(move |tx| apply_statuses(tx, inbox_id, statuses)).await
    }

    /// Messenger's watermarks: every outgoing message to the contact in this inbox created at or
    /// before the watermark moves to its state (forward only); how many moved.
    pub async fn apply_watermarks(&self, inbox_id: Id, watermarks: Vec<Watermark>) -> Outcome<usize> {
        if watermarks.is_empty() {
            return Ok(0);
        }
        self.write(move |tx| apply_watermarks(tx, inbox_id, watermarks)).await
    }

    /// Claims the outgoing messages whose delivery is due (see [`DELIVERY_LEASE_MS`]).
    pub async fn claim_due_deliveries(&self, limit: usize) -> Outcome<Vec<PendingDelivery>> {
        let node = self.node.clone();
        self.write(move |tx| claim_due_deliveries(tx, &node, limit)).await
    }

    /// Records attempt number `attempt` (its claim's `attempts + 1`): sent (with the provider's
    /// ids), retried with backoff (at least the provider's retry-after), or failed with the reason
    /// (at once when the error is permanent, after [`MAX_DELIVERY_ATTEMPTS`] when it is not).
    /// Nothing is recorded if the claim was taken over since.
    pub async fn delivery_attempted(
        &self,
        message_id: Id,
        attempt: u32,
        outcome: Result<Sent, SendError>,
    ) -> Outcome<()> {
        self.write(move |tx| delivery_attempted(tx, message_id, attempt, outcome)).await
    }

    /// The worker hands attempt `attempt` of `message_id` to the provider now: from here until
    /// the outcome is recorded, the provider may have it. False (send nothing) if the claim was
    /// taken over or settled since.
    pub async fn delivery_sending(&self, message_id: Id, attempt: u32) -> Outcome<bool> {
        let node = self.node.clone();
        self.write(move |tx| {
            let Some(delivery) = tx.delivery(message_id)? else { return Ok(false) };
            if delivery.attempts != attempt || claim_node(delivery.last_error.as_deref()) != Some(&*node) {
                return Ok(false);
            }
            let lease_end = tx.now() + DELIVERY_LEASE_MS;
            tx.reschedule_delivery(message_id, attempt, lease_end, &format!("{IN_FLIGHT}{node}"))?;
            Ok(true)
        })
        .await
    }

    /// At a node's start: its claims from before (a process under the same node id that died
    /// mid-send) are due at once rather than after their lease, and are handled as interrupted
    /// (see the module's doc). Looks at the deliveries due within a lease (claims are due at its
    /// end); answers how many it took back.
    pub async fn recover_claims(&self) -> Outcome<usize> {
        let node = self.node.clone();
        self.write(move |tx| {
            let now = tx.now();
            let mut recovered = 0;
            for delivery in tx.due_deliveries(now + DELIVERY_LEASE_MS, 10_000)? {
                if claim_node(delivery.last_error.as_deref()) == Some(&*node) {
                    tx.postpone_delivery(delivery.message_id, now)?;
                    recovered += 1;
                }
            }
            Ok(recovered)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use switchboard_proto::*;

    use super::{DELIVERY_LEASE_MS, MAX_DELIVERY_ATTEMPTS};
    use crate::{
        clock::{Clock, ManualClock},
        connectors::SendError,
        store::StoreReadExt,
        workspace::ConversationAction,
        ServerConfig,
    };

    /// A workspace on a manual clock with one reply queued on an API inbox: (workspace, clock,
    /// the reply's id, the data directory to keep alive).
    async fn one_queued_reply() -> (crate::workspace::Workspace, Arc<ManualClock>, Id, tempfile::TempDir) {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::default());
        clock.set(1_000_000);
        let workspace = crate::open_workspace_with_clock(&ServerConfig::new(data_dir.path()), clock.clone())
            .expect("open");
        let admin = crate::workspace::first_test_admin(&workspace).await;
        let request = json!({"name": "Partner", "channel": "api", "webhook_url": "http://127.0.0.1:9/hook"});
        let inbox = workspace
            .create_inbox(&admin, serde_json::from_value(request).expect("request"))
            .await
            .expect("inbox");
        let inbound =
            json!({"contact": {"external_id": "c1"}, "message": {"external_id": "m1", "body": "hi"}});
        let conversation = workspace
            .ingest(inbox.inbox.id, serde_json::from_value(inbound).expect("inbound"), vec![])
            .await
            .expect("ingest")
            .conversation_id;
        let reply = SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Reply,
            body: "hello".into(),
            attachment_ids: vec![],
            template: None,
        };
        let id = reply.client_id;
        workspace.act(&admin, conversation, ConversationAction::Send(reply)).await.expect("reply");
        (workspace, clock, id, data_dir)
    }

    #[tokio::test]
    async fn a_due_delivery_goes_to_one_worker_until_its_lease_ends() {
        let (workspace, clock, _, _dir) = one_queued_reply().await;
        // Two workers ask at once: exactly one gets it.
        let other = workspace.clone();
        let (first, second) =
            tokio::join!(workspace.claim_due_deliveries(10), other.claim_due_deliveries(10));
        let claimed = first.expect("claim").len() + second.expect("claim").len();
        assert_eq!(claimed, 1, "one worker, one attempt");
        assert!(workspace.claim_due_deliveries(10).await.expect("claim").is_empty(), "leased");

        // The worker died without recording its attempt: after the lease, it is due again.
        clock.set(clock.now() + super::DELIVERY_LEASE_MS + 1);
        assert_eq!(workspace.claim_due_deliveries(10).await.expect("claim").len(), 1);
    }

    #[tokio::test]
    async fn a_worker_whose_claim_was_taken_over_records_nothing_and_the_state_never_goes_back() {
        let (workspace, clock, id, _dir) = one_queued_reply().await;
        let first = workspace.claim_due_deliveries(10).await.expect("claim");
        assert_eq!(first[0].attempts, 0, "attempt 1");
        // The first worker hangs past its lease: another takes the delivery over. The API channel
        // drops a repeat by its Idempotency-Key, so the interrupted send is made again.
        clock.set(clock.now() + DELIVERY_LEASE_MS + 1);
        let second = workspace.claim_due_deliveries(10).await.expect("claim");
        assert_eq!(second.len(), 1, "taken over after the lease");
        assert_eq!(second[0].attempts, 1, "attempt 2");
        // The first worker, waking up, may not send it any more …
        assert!(!workspace.delivery_sending(id, 1).await.expect("mark"), "attempt 1 was taken over");
        assert!(workspace.delivery_sending(id, 2).await.expect("mark"), "attempt 2 is the one to send");
        // … and its late outcome is not recorded: the delivery is the second's.
        let late = SendError::failed(DeliveryFailureKind::Rejected, "late");
        workspace.delivery_attempted(id, 1, Err(late)).await.expect("ignored");
        let read = |workspace: crate::workspace::Workspace| async move {
            workspace.read(move |store| Ok(store.get::<Message>(id)?)).await.expect("read").expect("message")
        };
        assert_eq!(
            read(workspace.clone()).await.delivery,
            DeliveryState::Queued,
            "a stale outcome changes nothing"
        );
        let sent = crate::connectors::Sent { provider_ids: vec!["p-1".into()] };
        workspace.delivery_attempted(id, 2, Ok(sent)).await.expect("recorded");
        assert_eq!(read(workspace.clone()).await.delivery, DeliveryState::Sent);
        // Settled: a further late outcome (the first worker's, once more) moves nothing back.
        workspace.delivery_attempted(id, 1, Err(SendError::transient("late"))).await.expect("ignored");
        assert_eq!(read(workspace.clone()).await.delivery, DeliveryState::Sent);
        clock.set(clock.now() + DELIVERY_LEASE_MS * 10);
        assert!(workspace.claim_due_deliveries(10).await.expect("claim").is_empty(), "sent once");
    }

    #[tokio::test]
    async fn a_transient_failure_waits_at_least_the_providers_retry_after() {
        let (workspace, clock, id, _dir) = one_queued_reply().await;
        assert_eq!(workspace.claim_due_deliveries(10).await.expect("claim").len(), 1);
        let throttled = SendError::Transient { reason: "throttled".into(), retry_after: Some(60_000) };
        workspace.delivery_attempted(id, 1, Err(throttled)).await.expect("recorded");
        // The backoff alone would be 2 s: the provider asked for a minute.
        clock.set(clock.now() + 30_000);
        assert!(
            workspace.claim_due_deliveries(10).await.expect("claim").is_empty(),
            "not before its retry-after"
        );
        clock.set(clock.now() + 30_001);
        assert_eq!(workspace.claim_due_deliveries(10).await.expect("claim").len(), 1, "due after it");
        // A permanent error fails it with the reason, and it is never due again.
        let window = SendError::failed(DeliveryFailureKind::WindowClosed, "(#131047) Re-engagement message");
        workspace.delivery_attempted(id, 2, Err(window)).await.expect("recorded");
        clock.set(clock.now() + DELIVERY_LEASE_MS * 10);
        assert!(workspace.claim_due_deliveries(10).await.expect("claim").is_empty(), "failed is final");
    }

    #[tokio::test]
    async fn transient_failures_give_up_after_the_attempts_with_the_last_reason() {
        let (workspace, clock, id, _dir) = one_queued_reply().await;
        for attempt in 1..=MAX_DELIVERY_ATTEMPTS {
            assert_eq!(
                workspace.claim_due_deliveries(10).await.expect("claim").len(),
                1,
                "attempt {attempt}"
            );
            let error = SendError::transient(format!("timeout {attempt}"));
            workspace.delivery_attempted(id, attempt, Err(error)).await.expect("recorded");
            clock.set(clock.now() + 3_600_000);
        }
        assert!(workspace.claim_due_deliveries(10).await.expect("claim").is_empty(), "given up");
        let message: Message =
            workspace.read(move |store| Ok(store.get(id)?)).await.expect("read").expect("message");
        assert_eq!(message.delivery, DeliveryState::Failed);
        let failure = message.failure.expect("a reason");
        assert_eq!(failure.kind, DeliveryFailureKind::GaveUp);
        assert!(
            failure.reason.contains("timeout 8") && failure.reason.contains("8 attempts"),
            "{}",
            failure.reason
        );
    }
}
