//! Outgoing replies on their way to the channel: what is due, what an attempt did (retries with
//! backoff, failed after [`MAX_DELIVERY_ATTEMPTS`]), and the channel's own delivery reports
//! (states only move forward).

use switchboard_proto::*;

use super::{directory::inbox_secret, PendingDelivery, Workspace};
use crate::{
    refusal::{Outcome, Refusal},
    store::{Audience, StoreReadExt, StoreTx, StoreTxExt},
};

/// Attempts before an outgoing webhook delivery is marked failed.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 8;
/// How long a claimed delivery is left to the worker that claimed it: longer than an attempt can
/// take (the webhook timeout is 10 s), so no other worker (on this node or another) takes it too;
/// short enough that a worker that died mid-attempt holds it up only briefly.
pub const DELIVERY_LEASE_MS: Millis = 60_000;

/// The wait before attempt `attempts + 1`: one second doubling, at most about 17 minutes.
fn backoff(attempts: u32) -> Millis {
    1_000i64 << attempts.min(10)
}

fn report_delivery(tx: &mut dyn StoreTx, inbox_id: Id, report: DeliveryReport) -> Outcome<()> {
    let mut message: Message = tx.get(report.message_id)?.ok_or_else(|| Refusal::not_found("message"))?;
    let conversation: Conversation =
        tx.get(message.conversation_id)?.ok_or_else(|| Refusal::not_found("message"))?;
    if conversation.inbox_id != inbox_id || message.kind != MessageKind::Outgoing {
        return Err(Refusal::not_found("message"));
    }
    let forward = report.state == DeliveryState::Failed || report.state > message.delivery;
    if forward && message.delivery != report.state {
        message.delivery = report.state;
        tx.put(&message, Audience::inbox(inbox_id))?;
        tx.remove_delivery(message.id)?;
    }
    Ok(())
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
        // An inbox whose webhook was removed: the attempt fails and backs off (and finally marks
        // the message failed) rather than staying due forever at the head of the queue.
        let webhook_url = inbox.webhook_url.clone().unwrap_or_default();
        let contact_external_id = match store.get::<Conversation>(message.conversation_id)? {
            Some(c) => store
                .get::<Contact>(c.contact_id)?
                .and_then(|contact| contact.identities.into_iter().find(|i| i.inbox_id == inbox.id))
                .map(|identity| identity.external_id),
            None => None,
        };
        pending.push(PendingDelivery {
            webhook_url,
            secret,
            attempts: due.attempts,
            payload: OutgoingWebhook {
                event: "message.created".into(),
                inbox_id: inbox.id,
                conversation_id: message.conversation_id,
                contact_external_id,
                message,
            },
        });
    }
    Ok(pending)
}

fn delivery_attempted(tx: &mut dyn StoreTx, message_id: Id, outcome: Result<(), String>) -> Outcome<()> {
    let Some(delivery) = tx.delivery(message_id)? else { return Ok(()) };
    let attempts = delivery.attempts + 1;
    let new_state = match &outcome {
        Ok(()) => Some(DeliveryState::Sent),
        Err(_) if attempts >= MAX_DELIVERY_ATTEMPTS => Some(DeliveryState::Failed),
        Err(_) => None,
    };
    let Some(state) = new_state else {
        let error = outcome.err().unwrap_or_default();
        tx.reschedule_delivery(message_id, attempts, tx.now() + backoff(attempts), &error)?;
        return Ok(());
    };
    tx.remove_delivery(message_id)?;
    if let Some(mut message) = tx.get::<Message>(message_id)? {
        if message.delivery == DeliveryState::Queued {
            message.delivery = state;
            let inbox = tx.get::<Conversation>(message.conversation_id)?.map(|c| c.inbox_id);
            tx.put(&message, Audience { inbox, agent: None })?;
        }
    }
    Ok(())
}

impl Workspace {
    /// The channel reports how far an outgoing message got. States only move forward.
    pub async fn report_delivery(&self, inbox_id: Id, report: DeliveryReport) -> Outcome<()> {
        self.write(move |tx| report_delivery(tx, inbox_id, report)).await
    }

    /// Claims the outgoing replies whose webhook delivery is due (see [`DELIVERY_LEASE_MS`]).
    pub async fn claim_due_deliveries(&self, limit: usize) -> Outcome<Vec<PendingDelivery>> {
        self.write(move |tx| claim_due_deliveries(tx, limit)).await
    }

    /// Records a webhook attempt: success marks the message sent; failure backs off exponentially
    /// and gives up (failed) after `MAX_DELIVERY_ATTEMPTS`.
    pub async fn delivery_attempted(&self, message_id: Id, outcome: Result<(), String>) -> Outcome<()> {
        self.write(move |tx| delivery_attempted(tx, message_id, outcome)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use switchboard_proto::*;

    use crate::{
        clock::{Clock, ManualClock},
        workspace::{ConversationAction, Viewer},
        ServerConfig,
    };

    #[tokio::test]
    async fn a_due_delivery_goes_to_one_worker_until_its_lease_ends() {
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
        workspace.act(&admin, conversation, ConversationAction::Send(reply)).await.expect("reply");

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
}
