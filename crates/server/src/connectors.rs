//! The connector seam: one [`Connector`] per channel kind, speaking the provider's own wire format.
//!
//! A connector verifies and parses an inbound webhook request (raw headers and body, never
//! re-serialised) into customer messages and delivery statuses, fetches the media those name,
//! sends text, template and media messages (answering the provider's message id or a
//! [`SendError`]: transient with a retry-after, or failed for good with the provider's reason),
//! and says what its channel can carry ([`Capabilities`]). The delivery job (`webhook.rs` over
//! `workspace/deliveries.rs`) sends every outgoing message through the inbox's connector; the HTTP
//! layer (`http/channels.rs::webhook`) hands inbound requests to it and the domain
//! (`workspace/connectors.rs::receive`) stores what it parsed.
//!
//! Settings (`ConnectorSettings`, secrets included) are stored server-side per inbox and never go
//! into the feed. Building a connector from them is [`build`]: a channel that does not use
//! webhooks (email, which polls IMAP) still implements [`Connector::send`] and
//! [`Connector::capabilities`], and leaves the inbound methods to their defaults.

pub mod api;
pub mod inbound;
pub mod meta;
pub mod probe;
pub mod simulator;
pub mod telegram;
pub mod telegram_poll;
pub mod whatsapp;
pub mod widget;
// The email connector (`connectors/email.rs`, IMAP/SMTP) joins here with `pub mod email;`.
pub mod email;

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use bytes::Bytes;
pub use switchboard_proto::{
    ConnectorInfo, ConnectorSettings, ConnectorTest, MetaSettings, TelegramSettings, WhatsappSettings,
    WidgetSettings,
};
use switchboard_proto::{
    DeliveryFailure, DeliveryFailureKind, DeliveryState, Id, InboundMessage, Message, Millis, OutgoingWebhook,
};

/// An inbound webhook request as the provider sent it: the query (for handshakes), header names
/// in lowercase, and the raw body (signatures are over these exact bytes).
#[derive(Debug, Clone, Default)]
pub struct InboundRequest {
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
}

impl InboundRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// Why an inbound request was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// Not from the provider: a missing or wrong signature, a wrong verify token. Nothing read.
    #[error("{0}")]
    Forged(String),
    /// From the provider (signed) but not a shape this connector reads.
    #[error("{0}")]
    Malformed(String),
    /// This connector takes no webhooks (or no handshake).
    #[error("this inbox's connector takes no webhook requests")]
    NotSupported,
}

/// What one inbound request carried.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    pub messages: Vec<InboundItem>,
    pub statuses: Vec<StatusUpdate>,
    /// Statuses by time rather than by id (Messenger's delivery and read watermarks).
    pub watermarks: Vec<Watermark>,
}

/// Every message sent to this contact at or before `up_to` reached `state` (Messenger's
/// `delivery.watermark` and `read.watermark`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// The contact's id on the channel (a PSID).
    pub contact_external_id: String,
    pub state: DeliveryState,
    pub up_to: Millis,
}

/// A customer message, deduplicated on `message.message.external_id` (the provider's id), with
/// the media it names, fetched by [`Connector::fetch_media`] before it is stored.
#[derive(Debug, Clone)]
pub struct InboundItem {
    pub message: InboundMessage,
    pub media: Vec<MediaRef>,
}

/// A file a provider holds for us: fetched with [`Connector::fetch_media`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub id: String,
    /// `image`, `document`, `audio`, `video`, `sticker`…: per-type size limits apply.
    pub kind: String,
    pub mime_type: String,
    pub file_name: Option<String>,
    /// The provider's hex sha256, when it gives one: the bytes must match it.
    pub sha256: Option<String>,
}

/// A media file's bytes, as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMedia {
    pub bytes: Bytes,
    pub content_type: String,
}

/// How far an outgoing message got, by the provider's id of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub provider_id: String,
    pub state: DeliveryState,
    /// With `failed`: why, as the provider said it.
    pub failure: Option<DeliveryFailure>,
}

/// An outgoing message, ready for its connector.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub inbox_id: Id,
    pub message: Message,
    /// The contact's id on this channel (a WhatsApp `wa_id`, an email address…).
    pub to: Option<String>,
    /// A template message: the approved template's name, language and parameters, in order.
    pub template: Option<OutgoingTemplate>,
    pub files: Vec<OutgoingFile>,
    /// The provider's id of the customer message this answers, to reply in context.
    pub reply_to: Option<String>,
    /// How long ago the customer last wrote, when this attempt was claimed (`None`: never):
    /// Messenger and Instagram tag a person's reply `HUMAN_AGENT` past the 24-hour window.
    pub since_customer_ms: Option<Millis>,
}

impl Outgoing {
    /// What the API channel's webhook carries.
    pub fn webhook_payload(&self) -> OutgoingWebhook {
        OutgoingWebhook {
            event: "message.created".into(),
            inbox_id: self.inbox_id,
            conversation_id: self.message.conversation_id,
            contact_external_id: self.to.clone(),
            message: self.message.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingTemplate {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct OutgoingFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Bytes,
}

/// The provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sent {
    /// Its ids at the provider (a wamid…; one per provider message, e.g. a text and a file),
    /// which later statuses name; empty when statuses name our own message id (the API channel).
    pub provider_ids: Vec<String>,
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: a timeout, a 5xx, throttling (`retry_after`: the provider's wait).
    #[error("{reason}")]
    Transient { reason: String, retry_after: Option<Millis> },
    /// Never going through as it is: the message fails with this.
    #[error("{}", .0.reason)]
    Failed(DeliveryFailure),
}

impl SendError {
    pub fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient { reason: reason.into(), retry_after: None }
    }

    pub fn failed(kind: DeliveryFailureKind, reason: impl Into<String>) -> Self {
        SendError::Failed(DeliveryFailure { kind, reason: reason.into() })
    }

    pub fn rejected(reason: impl Into<String>) -> Self {
        SendError::failed(DeliveryFailureKind::Rejected, reason)
    }

    pub fn not_configured(reason: impl Into<String>) -> Self {
        SendError::failed(DeliveryFailureKind::NotConfigured, reason)
    }
}

/// What a channel carries: checked before sending and when storing inbound media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Free-form replies only within this long of the customer's last message (else templates).
    pub reply_window_ms: Option<Millis>,
    /// The longest text body, in characters.
    pub max_body_chars: Option<usize>,
    /// Largest file per MIME type prefix (`image/`, `application/`…), first match wins; a type
    /// no entry matches is refused.
    pub attachment_limits: Vec<(&'static str, u64)>,
    /// Whether the channel sends approved templates.
    pub templates: bool,
    /// The demo's simulated channels say so.
    pub simulated: bool,
}

impl Capabilities {
    /// The largest file of this type the channel takes (`None`: the type is not carried).
    pub fn attachment_limit(&self, content_type: &str) -> Option<u64> {
        let content_type = content_type.to_ascii_lowercase();
        self.attachment_limits
            .iter()
            .find(|(prefix, _)| content_type.starts_with(prefix))
            .map(|(_, limit)| *limit)
    }
}

/// One channel's provider behind one interface.
#[async_trait]
pub trait Connector: Send + Sync {
    /// `api`, `whatsapp`, `simulator`…: the `kind` of its settings.
    fn kind(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// A provider's `GET` verification of the callback URL: the body to answer with.
    fn handshake(&self, _request: &InboundRequest) -> Result<String, InboundError> {
        Err(InboundError::NotSupported)
    }

    /// Verifies an inbound request (signature first: nothing unsigned is parsed) and parses it.
    fn receive(&self, _request: &InboundRequest) -> Result<Inbound, InboundError> {
        Err(InboundError::NotSupported)
    }

    /// Fetches a media file an inbound message named.
    async fn fetch_media(&self, _media: &MediaRef) -> Result<FetchedMedia, SendError> {
        Err(SendError::not_configured("this connector has no media to fetch"))
    }

    /// Sends one outgoing message.
    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError>;
}

/// The one HTTP client connectors use (a pool per process), with a 10 s timeout per request.
pub fn http_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
        .clone()
}

/// What every connector may use: the HTTP client, the inbox's signing secret.
#[derive(Clone)]
pub struct ConnectorContext {
    pub http: reqwest::Client,
    /// The inbox's `X-Switchboard-Signature` secret (the API channel signs with it).
    pub inbox_secret: String,
}

/// What the channel of `settings` carries, without building its connector (the domain checks a
/// reply's length with it before queueing).
pub fn capabilities(settings: &ConnectorSettings) -> Capabilities {
    match settings {
        ConnectorSettings::Api { .. } => api::capabilities(),
        ConnectorSettings::Whatsapp(_) => whatsapp::capabilities(),
        ConnectorSettings::Simulator => simulator::capabilities(),
        ConnectorSettings::Email(_) => email::capabilities(),
        ConnectorSettings::Telegram(_) => telegram::capabilities(),
        ConnectorSettings::Messenger(_) => meta::capabilities(meta::Platform::Messenger),
        ConnectorSettings::Instagram(_) => meta::capabilities(meta::Platform::Instagram),
        ConnectorSettings::Widget(_) => widget::capabilities(),
    }
}

/// The connector for `settings`.
pub fn build(settings: &ConnectorSettings, context: &ConnectorContext) -> Arc<dyn Connector> {
    match settings {
        ConnectorSettings::Api { webhook_url } => Arc::new(api::ApiConnector {
            http: context.http.clone(),
            webhook_url: webhook_url.clone(),
            secret: context.inbox_secret.clone(),
        }),
        ConnectorSettings::Whatsapp(settings) => {
            Arc::new(whatsapp::WhatsappConnector::new(settings.clone(), context.http.clone()))
        }
        ConnectorSettings::Simulator => Arc::new(simulator::SimulatorConnector),
        ConnectorSettings::Email(settings) => Arc::new(email::EmailConnector { settings: settings.clone() }),
        ConnectorSettings::Telegram(settings) => {
            Arc::new(telegram::TelegramConnector::new(settings.clone(), context.http.clone()))
        }
        ConnectorSettings::Messenger(settings) => Arc::new(meta::MetaConnector::new(
            meta::Platform::Messenger,
            settings.clone(),
            context.http.clone(),
        )),
        ConnectorSettings::Instagram(settings) => Arc::new(meta::MetaConnector::new(
            meta::Platform::Instagram,
            settings.clone(),
            context.http.clone(),
        )),
        ConnectorSettings::Widget(_) => Arc::new(widget::WidgetConnector),
    }
}

/// Settings as an admin may read them back: the kind, no secrets, and the callback to register.
pub fn info(inbox_id: Id, settings: Option<&ConnectorSettings>) -> ConnectorInfo {
    let webhook_path = Some(format!("/api/v1/channels/{inbox_id}/webhook"));
    match settings {
        None => ConnectorInfo {
            kind: "none".into(),
            simulated: false,
            webhook_path: None,
            details: serde_json::json!({}),
        },
        Some(ConnectorSettings::Api { webhook_url }) => ConnectorInfo {
            kind: "api".into(),
            simulated: false,
            webhook_path: Some(format!("/api/v1/channels/{inbox_id}/inbound")),
            details: serde_json::json!({ "webhook_url": webhook_url }),
        },
        Some(ConnectorSettings::Whatsapp(settings)) => ConnectorInfo {
            kind: "whatsapp".into(),
            simulated: false,
            webhook_path,
            details: serde_json::json!({
                "phone_number_id": settings.phone_number_id,
                "graph_base_url": whatsapp::base_url(settings),
                "api_version": whatsapp::api_version(settings),
            }),
        },
        Some(ConnectorSettings::Email(settings)) => email::info(settings),
        Some(ConnectorSettings::Telegram(settings)) => ConnectorInfo {
            kind: "telegram".into(),
            simulated: false,
            webhook_path,
            details: serde_json::json!({ "api_base_url": telegram::base_url(settings), "mode": settings.mode }),
        },
        Some(ConnectorSettings::Messenger(settings)) => {
            meta::info(meta::Platform::Messenger, settings, webhook_path)
        }
        Some(ConnectorSettings::Instagram(settings)) => {
            meta::info(meta::Platform::Instagram, settings, webhook_path)
        }
        Some(ConnectorSettings::Widget(settings)) => widget::info(inbox_id, settings),
        Some(ConnectorSettings::Simulator) => ConnectorInfo {
            kind: "simulator".into(),
            simulated: true,
            webhook_path: None,
            details: serde_json::json!({
                "note": "the demo's simulated channel: replies go to the traffic simulator, nowhere else"
            }),
        },
    }
}

/// A `Retry-After` header in seconds, as milliseconds.
pub fn retry_after_header(value: Option<&reqwest::header::HeaderValue>) -> Option<Millis> {
    let seconds: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(i64::try_from(seconds.min(86_400)).unwrap_or(86_400) * 1000)
}

/// Whether a send interrupted mid-way (the server died after the request may have reached the
/// provider, before its answer was recorded) may be made again without a second copy reaching the
/// customer: the API channel's receiver drops a repeat by its `Idempotency-Key` (the message id),
/// an email carries the same `Message-ID` (the recipient's mail system recognises the copy), the
/// widget and the simulator are our own. WhatsApp, Messenger, Instagram and Telegram take no
/// idempotency key and offer no way to look a sent message up: there an interrupted send fails the
/// message as `interrupted` instead (at most once), and the agent decides whether to retry.
pub fn resends_safely(settings: &ConnectorSettings) -> bool {
    match settings {
        ConnectorSettings::Api { .. }
        | ConnectorSettings::Email(_)
        | ConnectorSettings::Widget(_)
        | ConnectorSettings::Simulator => true,
        ConnectorSettings::Whatsapp(_)
        | ConnectorSettings::Telegram(_)
        | ConnectorSettings::Messenger(_)
        | ConnectorSettings::Instagram(_) => false,
    }
}

/// Whether a delivery state may replace another: forward only (queued → sent → delivered →
/// read; `read` may skip `delivered`), and `failed` from anything but `read` (a late failure never
/// undoes a read) or `failed`.
pub fn advances(current: DeliveryState, next: DeliveryState) -> bool {
    match (current, next) {
        (DeliveryState::Failed, _) => false,
        (DeliveryState::Read, DeliveryState::Failed) => false,
        (_, DeliveryState::Failed) => true,
        (current, next) => next > current,
    }
}

#[cfg(test)]
mod tests {
    use switchboard_proto::DeliveryState::*;

    use super::*;

    #[test]
    fn delivery_states_only_move_forward_and_a_late_failure_never_undoes_a_read() {
        assert!(advances(Queued, Sent));
        assert!(advances(Sent, Read), "read without delivered");
        assert!(advances(Delivered, Read));
        assert!(!advances(Read, Delivered), "out of order");
        assert!(!advances(Delivered, Sent));
        assert!(advances(Sent, Failed));
        assert!(!advances(Read, Failed), "a late failed never overrides read");
        assert!(!advances(Failed, Read));
        assert!(!advances(Sent, Sent));
    }

    #[test]
    fn attachment_limits_match_by_type_prefix_and_refuse_unknown_types() {
        let capabilities = whatsapp::capabilities();
        assert_eq!(capabilities.attachment_limit("image/jpeg"), Some(5 * 1024 * 1024));
        assert_eq!(capabilities.attachment_limit("application/pdf"), Some(100 * 1024 * 1024));
        assert_eq!(capabilities.attachment_limit("chemical/x-pdb"), None);
    }

    #[test]
    fn settings_debug_never_prints_a_secret() {
        let settings = ConnectorSettings::Whatsapp(WhatsappSettings {
            phone_number_id: "106540352242922".into(),
            access_token: "EAAG-token".into(),
            app_secret: "app-secret".into(),
            verify_token: "verify-me".into(),
            graph_base_url: None,
            api_version: None,
        });
        let printed = format!("{settings:?}");
        assert!(printed.contains("<redacted>") && printed.contains("106540352242922"));
        for secret in ["EAAG-token", "app-secret", "verify-me"] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
    }
}
