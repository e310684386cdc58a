//! The webhook worker: POSTs outgoing replies on API inboxes to the inbox's webhook URL, signed
//! like inbound calls, retrying with exponential backoff; the delivery state flows through the feed.
//! It also makes automation rules' webhook calls, signed with their conversation's inbox secret.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{
    signing::{sign, SIGNATURE_HEADER},
    workspace::Workspace,
};

/// Deliveries attempted per poll.
const BATCH: usize = 32;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(workspace: Workspace, poll: Duration, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook worker can't start");
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
            let message_id = delivery.payload.message.id;
            let outcome = post(&client, &delivery.webhook_url, &delivery.secret, &delivery.payload).await;
            if let Err(error) = &outcome {
                tracing::info!(%message_id, attempts = delivery.attempts + 1, %error, "webhook delivery failed");
            }
            if let Err(error) = workspace.delivery_attempted(message_id, outcome).await {
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

async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    payload: &switchboard_proto::OutgoingWebhook,
) -> Result<(), String> {
    post_json(client, url, secret, payload, None).await
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
