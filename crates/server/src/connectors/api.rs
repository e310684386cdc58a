//! The signed API channel as a connector: replies are POSTed as JSON to the inbox's webhook URL,
//! signed with the inbox secret (`X-Switchboard-Signature`), with the message id as the
//! `Idempotency-Key` so a receiver can drop a repeat; the integration reports delivery by our
//! message id (`POST /api/v1/channels/{id}/delivery`). Inbound stays `http/channels.rs::inbound`,
//! which verifies with [`verify`].

use async_trait::async_trait;

use super::{Capabilities, Connector, Outgoing, SendError, Sent};
use crate::signing::{self, SIGNATURE_HEADER};

pub struct ApiConnector {
    pub http: reqwest::Client,
    pub webhook_url: String,
    pub secret: String,
}

/// Whether `signature` (the `X-Switchboard-Signature` header) signs `body` under the inbox secret.
pub fn verify(secret: &str, signature: Option<&str>, body: &[u8]) -> bool {
    signing::verify(secret, signature.unwrap_or_default(), body)
}

/// Whatever the integration takes: no window, no length limit, the API channel's file limit.
pub fn capabilities() -> Capabilities {
    Capabilities {
        reply_window_ms: None,
        max_body_chars: None,
        attachment_limits: vec![("", switchboard_proto::Channel::Api.attachment_limit())],
        templates: true,
        simulated: false,
    }
}

#[async_trait]
impl Connector for ApiConnector {
    fn kind(&self) -> &'static str {
        "api"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        let body = serde_json::to_vec(&outgoing.webhook_payload())
            .map_err(|e| SendError::rejected(e.to_string()))?;
        let response = self
            .http
            .post(&self.webhook_url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signing::sign(&self.secret, &body))
            .header("idempotency-key", outgoing.message.id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("webhook unreachable: {e}")))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(Sent::default()),
            // The receiver can't take it now: try again later, as it says if it says.
            408 | 429 | 500..=599 => Err(SendError::Transient {
                reason: format!("webhook answered {status}"),
                retry_after: super::retry_after_header(response.headers().get("retry-after")),
            }),
            // The receiver refused it (4xx): kept trying anyway, as before connectors (a receiver
            // being deployed answers 404 for a while); the attempts end it.
            _ => Err(SendError::transient(format!("webhook answered {status}"))),
        }
    }
}
