//! The webhook worker: POSTs outgoing replies on API inboxes to the inbox's webhook URL, signed
//! like inbound calls, retrying with exponential backoff; the delivery state flows through the feed.

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
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    payload: &switchboard_proto::OutgoingWebhook,
) -> Result<(), String> {
    let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sign(secret, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook answered {}", response.status()))
    }
}
