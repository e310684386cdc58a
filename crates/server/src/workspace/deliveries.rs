//! The delivery job's domain half: every outgoing message is one durable job (`deliveries`),
//! claimed with a lease by one worker on any node (`webhook.rs`), which sends it through the
//! inbox's connector (`connectors.rs`) and records the outcome here: sent (with the provider's
//! ids, which later statuses name), retried with backoff on a transient error (at least the
//! provider's retry-after), or failed with the reason on the message (after
//! [`MAX_DELIVERY_ATTEMPTS`] transient ones too). States only move forward
//! (`connectors::advances`), whoever reports them: the job, the API channel's delivery reports,
//! a connector's statuses.

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

/// The wait before attempt `attempts + 1`: one second doubling, at most about 17 minutes.
fn backoff(attempts: u32) -> Millis {
    1_000i64 << attempts.min(10)
}

/// An outgoing message claimed for one attempt through its inbox's connector.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub inbox_id: Id,
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
pub(super) fn apply_statuses(tx: &mut dyn StoreTx, inbox_id: Id, statuses: Vec<StatusUpdate>) -> Outcome<usize> {
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
/// lease) in the same transaction that lists it, so two workers never both attempt it.
fn claim_due_deliveries(tx: &mut dyn StoreTx, limit: usize) -> Outcome<Vec<PendingDelivery>> {
    let now = tx.now();
    let due = tx.due_deliveries(now, limit)?;
    for delivery in &due {
        tx.postpone_delivery(delivery.message_id, now + DELIVERY_LEASE_MS)?;
    }
    let store: &dyn StoreTx = tx;
    let mut pending = Vec::new();
    for due in due {
        let (inbox, secret) = inbox_secret(store, due.inbox_id)?;
        let Some(message) = store.get::<Message>(due.message_id)? else {
            continue;
        };
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

fn delivery_attempted(tx: &mut dyn StoreTx, message_id: Id, outcome: Result<Sent, SendError>) -> Outcome<()> {
    let Some(delivery) = tx.delivery(message_id)? else { return Ok(()) };
    let attempts = delivery.attempts + 1;
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
        self.write(move |tx| claim_due_deliveries(tx, limit)).await
    }

    /// Records an attempt: sent (with the provider's ids), retried with backoff (at least the
    /// provider's retry-after), or failed with the reason (at once when the error is permanent,
    /// after [`MAX_DELIVERY_ATTEMPTS`] when it is not).
    pub async fn delivery_attempted(&self, message_id: Id, outcome: Result<Sent, SendError>) -> Outcome<()> {
        self.write(move |tx| delivery_attempted(tx, message_id, outcome)).await
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
        workspace::{ConversationAction, Viewer},
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
        let admin = workspace
            .create_first_admin(CreateAgent {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                role: Role::Admin,
                password: "correct horse battery".into(),
                team_ids: vec![],
            })
            .await
            .expect("admin");
        let admin = Viewer { agent: admin, device_id: Id::nil() };
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
    async fn a_transient_failure_waits_at_least_the_providers_retry_after() {
        let (workspace, clock, id, _dir) = one_queued_reply().await;
        assert_eq!(workspace.claim_due_deliveries(10).await.expect("claim").len(), 1);
        let throttled = SendError::Transient { reason: "throttled".into(), retry_after: Some(60_000) };
        workspace.delivery_attempted(id, Err(throttled)).await.expect("recorded");
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
        workspace.delivery_attempted(id, Err(window)).await.expect("recorded");
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
            workspace.delivery_attempted(id, Err(error)).await.expect("recorded");
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
