//! The delivery worker: the running half of the delivery job. It claims due outgoing messages
//! (`workspace/deliveries.rs`, leased so one worker on one node attempts each), sends each through
//! its inbox's connector (`connectors.rs`; an inbox with none fails the message, saying so) with
//! its files read from the attachment store, and records the outcome. It also makes automation
//! rules' webhook calls, signed with their conversation's inbox secret.

use std::time::Duration;

use futures_util::TryStreamExt;
use tokio_util::sync::CancellationToken;

use crate::{
    connectors::{self, ConnectorContext, Outgoing, OutgoingFile, SendError, Sent},
    files::FileStore,
    signing::{sign, SIGNATURE_HEADER},
    workspace::{PendingDelivery, Workspace},
};

/// Deliveries attempted per poll.
const BATCH: usize = 32;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(workspace: Workspace, files: FileStore, poll: Duration, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "delivery worker can't start");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(poll) => {}
        }
        let due = match workspace.claim_due_deliveries(BATCH).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(message = %error.message, "listing due deliveries failed");
                continue;
            }
        };
        for delivery in due {
            let message_id = delivery.message.id;
            let attempts = delivery.attempts + 1;
            // From here the provider may have it: a crash before the outcome is recorded is an
            // interrupted send (`workspace/deliveries.rs`).
            match workspace.delivery_sending(message_id, attempts).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(%message_id, message = %error.message, "marking a delivery in flight failed");
                    continue;
                }
            }
            let outcome = attempt(&client, &files, delivery).await;
            if let Err(error) = &outcome {
                tracing::info!(%message_id, attempts, %error, "delivery attempt failed");
            }
            if let Err(error) = workspace.delivery_attempted(message_id, attempts, outcome).await {
                tracing::warn!(%message_id, message = %error.message, "recording a delivery attempt failed");
            }
        }
        let calls = match workspace.claim_due_rule_webhooks(BATCH).await {
            Ok(calls) => calls,
            Err(error) => {
                tracing::warn!(message = %error.message, "listing due rule webhooks failed");
                continue;
            }
        };
        for call in calls {
            let outcome = post_json(&client, &call.url, &call.secret, &call.payload, Some(&call.key)).await;
            if let Err(error) = &outcome {
                tracing::info!(key = %call.key, attempts = call.attempts + 1, %error, "rule webhook failed");
            }
            if let Err(error) = workspace.rule_webhook_attempted(call.key.clone(), outcome).await {
                tracing::warn!(key = %call.key, message = %error.message, "recording a rule webhook failed");
            }
        }
    }
}

/// One attempt of one delivery through its inbox's connector.
pub async fn attempt(
    client: &reqwest::Client,
    files: &FileStore,
    delivery: PendingDelivery,
) -> Result<Sent, SendError> {
    let Some(settings) = &delivery.settings else {
        return Err(SendError::not_configured(
            "this inbox has no connector: an admin sets one in the inbox's settings",
        ));
    };
    let context = ConnectorContext { http: client.clone(), inbox_secret: delivery.secret.clone() };
    let connector = connectors::build(settings, &context);
    let mut outgoing_files = Vec::new();
    // The API channel carries attachments in the message itself (the receiver downloads them).
    if connector.kind() != "api" && connector.kind() != "simulator" {
        for attachment in &delivery.message.attachments {
            let blob = files
                .open(&attachment.sha256)
                .await
                .map_err(|e| SendError::transient(format!("{}: {}", attachment.file_name, e.message)))?;
            let chunks: Vec<bytes::Bytes> = blob
                .stream
                .try_collect()
                .await
                .map_err(|e| SendError::transient(format!("{}: {e}", attachment.file_name)))?;
            outgoing_files.push(OutgoingFile {
                file_name: attachment.file_name.clone(),
                content_type: attachment.content_type.clone(),
                bytes: chunks.concat().into(),
            });
        }
    }
    let outgoing = Outgoing {
        inbox_id: delivery.inbox_id,
        message: delivery.message,
        to: delivery.to,
        template: delivery.template,
        files: outgoing_files,
        reply_to: None,
        since_customer_ms: delivery.since_customer_ms,
    };
    connector.send(&outgoing).await
}

/// POSTs `payload` as JSON, signed with `secret`; `idempotency_key` goes in the header of that
/// name, so a receiver can drop a repeat.
async fn post_json(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    payload: &impl serde::Serialize,
    idempotency_key: Option<&str>,
) -> Result<(), String> {
    let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sign(secret, &body));
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let response = request.body(body).send().await.map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook answered {}", response.status()))
    }
}
