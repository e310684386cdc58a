//! Outgoing replies on their way to the channel: what is due, what an attempt did (retries with
//! backoff, failed after [`MAX_DELIVERY_ATTEMPTS`]), and the channel's own delivery reports
//! (states only move forward).

use switchboard_proto::*;

use super::{directory::inbox_secret, PendingDelivery, Workspace};
use crate::{
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

/// Attempts before an outgoing webhook delivery is marked failed.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 8;

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

fn due_deliveries(store: &dyn StoreRead, limit: usize) -> Outcome<Vec<PendingDelivery>> {
    let mut pending = Vec::new();
    for due in store.due_deliveries(store.now(), limit)? {
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

    /// Outgoing replies whose webhook delivery is due.
    pub async fn due_deliveries(&self, limit: usize) -> Outcome<Vec<PendingDelivery>> {
        self.read(move |store| due_deliveries(store, limit)).await
    }

    /// Records a webhook attempt: success marks the message sent; failure backs off exponentially
    /// and gives up (failed) after `MAX_DELIVERY_ATTEMPTS`.
    pub async fn delivery_attempted(&self, message_id: Id, outcome: Result<(), String>) -> Outcome<()> {
        self.write(move |tx| delivery_attempted(tx, message_id, outcome)).await
    }
}
