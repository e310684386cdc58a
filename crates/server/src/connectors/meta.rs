//! Messenger (a Facebook Page) and Instagram (a professional account's direct messages) on
//! Meta's Graph API: one connector for both, since they share the webhook mechanism and the Send
//! API. The webhook's `GET` handshake (`hub.verify_token`, `hub.challenge`) and
//! `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under the app secret) are WhatsApp's; the
//! envelope is `{"object": "page" | "instagram", "entry": [{"id", "messaging": [...]}]}` with
//! several entries per request, each event one of:
//!
//! - `message`: a customer's text and attachments (image, video, audio, file: their CDN URL is
//!   downloaded into the content-addressed store), deduplicated on `mid`. An `is_echo` message is
//!   one the Page sent (ours, whose `mid` we know, or one written in Meta's own inbox): ignored.
//! - `postback`: a button the customer pressed, stored as its title.
//! - `delivery` (`mids` and a `watermark`) and `read` (a `watermark`; Instagram: a `mid`): our
//!   messages' statuses, by id or by time ([`super::Watermark`]).
//!
//! Sending is `POST /{version}/me/messages` with the Page token: `recipient.id`,
//! `messaging_type: RESPONSE` within the 24-hour window, or `MESSAGE_TAG` with `tag: HUMAN_AGENT`
//! for a person's reply after it when the inbox enables the tag (up to 7 days); files go up as
//! `filedata` in a multipart request. Error 10 (subcodes 2018278, 2534022: outside the allowed
//! window) fails the message as `window_closed`; 4, 17, 32, 613 and HTTP 429 (throttling) and 2,
//! 1200 (temporary) are transient and retried by the delivery job. Instagram text is at most 1000
//! bytes of UTF-8, refused before queueing ([`check_text`]).
//! Wire formats: `../shared/design/channels.md` §3 and the fixtures in
//! `crates/server/tests/fixtures/meta/`.

use async_trait::async_trait;
use serde_json::{json, Value};
use switchboard_proto::{
    ConnectorInfo, DeliveryFailureKind, DeliveryState, InboundBody, InboundContact, InboundMessage,
    MetaSettings, Millis, Sender, REPLY_WINDOW_MS,
};

use super::{
    Capabilities, Connector, FetchedMedia, Inbound, InboundError, InboundItem, InboundRequest, MediaRef,
    Outgoing, OutgoingFile, SendError, Sent, StatusUpdate, Watermark,
};
use crate::signing;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_API_VERSION: &str = "v23.0";
/// Messenger's text limit (Send API: "UTF-8, 2000 character limit").
pub const MAX_MESSENGER_TEXT_CHARS: usize = 2000;
/// Instagram's text limit: 1000 bytes of UTF-8.
pub const MAX_INSTAGRAM_TEXT_BYTES: usize = 1000;
/// How long after the customer's last message a person may answer with the `HUMAN_AGENT` tag.
pub const HUMAN_AGENT_WINDOW_MS: Millis = 7 * 24 * 60 * 60 * 1000;
/// Error 10's subcodes for a message outside the allowed window (Messenger, Instagram).
const OUTSIDE_WINDOW: &[i64] = &[2018278, 2534022];
/// Rate limits: worth waiting for (4 the app's, 17 the user's, 32 the Page's, 613 the API's).
const THROTTLED: &[i64] = &[4, 17, 32, 613];
/// "An unexpected error has occurred. Please retry", "Temporary send message failure".
const TEMPORARY: &[i64] = &[1, 2, 1200];

const MIB: u64 = 1024 * 1024;

/// Which of Meta's two messaging products a connector speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Messenger,
    Instagram,
}

impl Platform {
    /// The webhook envelope's `object`.
    fn object(self) -> &'static str {
        match self {
            Platform::Messenger => "page",
            Platform::Instagram => "instagram",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Platform::Messenger => "Messenger",
            Platform::Instagram => "Instagram",
        }
    }
}

pub fn base_url(settings: &MetaSettings) -> String {
    settings.graph_base_url.as_deref().unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/').to_owned()
}

pub fn api_version(settings: &MetaSettings) -> String {
    settings.api_version.clone().unwrap_or_else(|| DEFAULT_API_VERSION.to_owned())
}

/// Messenger takes files up to 25 MB; Instagram images up to 8 MB, audio, video and files up to
/// 25 MB. Both have the 24-hour window (longer with `HUMAN_AGENT`) and no templates.
pub fn capabilities(platform: Platform) -> Capabilities {
    let image = match platform {
        Platform::Messenger => 25 * MIB,
        Platform::Instagram => 8 * MIB,
    };
    Capabilities {
        reply_window_ms: Some(REPLY_WINDOW_MS),
        // Instagram counts bytes, not characters: `check_text`.
        max_body_chars: (platform == Platform::Messenger).then_some(MAX_MESSENGER_TEXT_CHARS),
        attachment_limits: vec![
            ("image/", image),
            ("video/", 25 * MIB),
            ("audio/", 25 * MIB),
            ("application/", 25 * MIB),
            ("text/", 25 * MIB),
        ],
        templates: false,
        simulated: false,
    }
}

/// Refuses a text the platform won't take (Instagram: over 1000 bytes of UTF-8), saying so.
pub fn check_text(platform: Platform, text: &str) -> Result<(), String> {
    match platform {
        Platform::Instagram if text.len() > MAX_INSTAGRAM_TEXT_BYTES => Err(format!(
            "Instagram takes at most {MAX_INSTAGRAM_TEXT_BYTES} bytes of text in a message (UTF-8); \
             this one has {} bytes",
            text.len()
        )),
        _ => Ok(()),
    }
}

/// How long after the customer's last message a person may reply on this inbox.
pub fn reply_window_ms(settings: &MetaSettings) -> Millis {
    if settings.human_agent {
        HUMAN_AGENT_WINDOW_MS
    } else {
        REPLY_WINDOW_MS
    }
}

/// What an admin reads back: no secret.
pub fn info(platform: Platform, settings: &MetaSettings, webhook_path: Option<String>) -> ConnectorInfo {
    ConnectorInfo {
        kind: platform.kind().into(),
        simulated: false,
        webhook_path,
        details: json!({
            "account_id": settings.account_id,
            "human_agent": settings.human_agent,
            "graph_base_url": base_url(settings),
            "api_version": api_version(settings),
        }),
    }
}

/// A Graph API error answer as a [`SendError`].
fn graph_error(platform: Platform, status: u16, body: &Value, retry_after: Option<Millis>) -> SendError {
    let error = &body["error"];
    let code = error["code"].as_i64();
    let subcode = error["error_subcode"].as_i64();
    let message = error["message"].as_str().unwrap_or("no message");
    let reason = match code {
        _ if body.is_null() => format!("the {} API answered HTTP {status}", platform.name()),
        Some(code) if !message.contains(&format!("#{code}")) => format!("(#{code}) {message}"),
        _ => message.to_owned(),
    };
    let outside_window = subcode.is_some_and(|s| OUTSIDE_WINDOW.contains(&s))
        || (code == Some(10) && message.contains("outside of allowed window"));
    match code {
        _ if outside_window => SendError::failed(DeliveryFailureKind::WindowClosed, reason),
        Some(code) if THROTTLED.contains(&code) => {
            SendError::Transient { reason: format!("throttled: {reason}"), retry_after }
        }
        _ if status == 429 => SendError::Transient { reason: format!("throttled: {reason}"), retry_after },
        Some(code) if TEMPORARY.contains(&code) => SendError::Transient { reason, retry_after },
        _ if status >= 500 => SendError::Transient { reason, retry_after },
        _ => SendError::rejected(reason),
    }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A customer's words as they sent them, byte for byte (issue 20: stored exactly or refused);
/// `None` when there are none. Ids, names and types go through `text`, which trims.
fn content(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

/// An attachment's URL and the file name its path ends with (when it has an extension).
fn file_name_of(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (name.contains('.') && name.len() <= 200).then(|| name.to_owned())
}

/// One customer message (or postback) event.
fn message_item(platform: Platform, event: &Value) -> Result<Option<InboundItem>, InboundError> {
    let sender = text(&event["sender"]["id"])
        .ok_or_else(|| InboundError::Malformed("a messaging event without sender.id".into()))?;
    let (id, mut lines, media) = if event["message"].is_object() {
        let message = &event["message"];
        if message["is_echo"].as_bool() == Some(true) || message["is_deleted"].as_bool() == Some(true) {
            // An echo is the Page's own message: ours (we know its mid) or one written in Meta's
            // inbox, which this inbox does not show. A deletion changes nothing stored.
            return Ok(None);
        }
        let id =
            text(&message["mid"]).ok_or_else(|| InboundError::Malformed("a message without mid".into()))?;
        let mut lines: Vec<String> = content(&message["text"]).into_iter().collect();
        let mut media = Vec::new();
        for attachment in message["attachments"].as_array().into_iter().flatten() {
            let kind = attachment["type"].as_str().unwrap_or("unknown");
            let url = text(&attachment["payload"]["url"]);
            match (kind, url) {
                ("image" | "video" | "audio" | "file", Some(url)) => {
                    let mime_type = match kind {
                        "image" => "image/jpeg",
                        "video" => "video/mp4",
                        "audio" => "audio/mpeg",
                        _ => "application/octet-stream",
                    };
                    media.push(MediaRef {
                        file_name: file_name_of(&url),
                        id: url,
                        kind: kind.to_owned(),
                        mime_type: mime_type.into(),
                        sha256: None,
                    });
                }
                (_, Some(url)) => lines.push(format!("[{} {kind}: {url}]", platform.name())),
                (_, None) => lines.push(format!("[a {} {kind} this inbox can't show]", platform.name())),
            }
        }
        (id, lines, media)
    } else if event["postback"].is_object() {
        let postback = &event["postback"];
        let Some(id) = text(&postback["mid"]) else { return Ok(None) };
        let line = text(&postback["title"]).or(text(&postback["payload"])).unwrap_or_default();
        (id, vec![line], vec![])
    } else {
        return Ok(None);
    };
    lines.retain(|line| !line.is_empty());
    if lines.is_empty() && media.is_empty() {
        lines.push("[message]".into());
    }
    Ok(Some(InboundItem {
        message: InboundMessage {
            contact: InboundContact { name: None, phone: None, email: None, external_id: sender },
            message: InboundBody { external_id: id, body: lines.join("\n"), attachments: vec![] },
        },
        media,
    }))
}

/// Parses a verified webhook body: the events of entries for `account_id` (other Pages or
/// accounts of the same app are skipped).
pub fn parse(platform: Platform, body: &[u8], account_id: &str) -> Result<Inbound, InboundError> {
    let envelope: Value =
        serde_json::from_slice(body).map_err(|e| InboundError::Malformed(format!("not JSON: {e}")))?;
    if envelope["object"].as_str() != Some(platform.object()) {
        return Err(InboundError::Malformed(format!(
            "not a {} notification (object must be {:?})",
            platform.name(),
            platform.object()
        )));
    }
    let mut inbound = Inbound::default();
    for entry in envelope["entry"].as_array().into_iter().flatten() {
        if entry["id"].as_str().is_some_and(|id| id != account_id) {
            tracing::info!(id = entry["id"].as_str(), "a notification for another account: skipped");
            continue;
        }
        for event in entry["messaging"].as_array().into_iter().flatten() {
            if let Some(item) = message_item(platform, event)? {
                inbound.messages.push(item);
                continue;
            }
            let contact = text(&event["sender"]["id"]);
            if let Some(delivery) = event["delivery"].as_object() {
                for mid in delivery.get("mids").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(mid) = text(mid) {
                        inbound.statuses.push(StatusUpdate {
                            provider_id: mid,
                            state: DeliveryState::Delivered,
                            failure: None,
                        });
                    }
                }
                if let (Some(contact), Some(up_to)) =
                    (contact.clone(), delivery.get("watermark").and_then(Value::as_i64))
                {
                    inbound.watermarks.push(Watermark {
                        contact_external_id: contact,
                        state: DeliveryState::Delivered,
                        up_to,
                    });
                }
            }
            if let Some(read) = event["read"].as_object() {
                if let Some(mid) = read.get("mid").and_then(text) {
                    inbound.statuses.push(StatusUpdate {
                        provider_id: mid,
                        state: DeliveryState::Read,
                        failure: None,
                    });
                }
                if let (Some(contact), Some(up_to)) = (contact, read.get("watermark").and_then(Value::as_i64))
                {
                    inbound.watermarks.push(Watermark {
                        contact_external_id: contact,
                        state: DeliveryState::Read,
                        up_to,
                    });
                }
            }
        }
    }
    Ok(inbound)
}

pub struct MetaConnector {
    platform: Platform,
    settings: MetaSettings,
    http: reqwest::Client,
}

impl MetaConnector {
    pub fn new(platform: Platform, settings: MetaSettings, http: reqwest::Client) -> Self {
        MetaConnector { platform, settings, http }
    }

    fn messages_url(&self) -> String {
        format!("{}/{}/me/messages", base_url(&self.settings), api_version(&self.settings))
    }

    async fn post(&self, request: reqwest::RequestBuilder) -> Result<String, SendError> {
        let response = request.bearer_auth(&self.settings.access_token).send().await.map_err(|e| {
            SendError::transient(format!(
                "the {} API is unreachable: {}",
                self.platform.name(),
                e.without_url()
            ))
        })?;
        let status = response.status().as_u16();
        let retry_after = super::retry_after_header(response.headers().get("retry-after"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(graph_error(self.platform, status, &body, retry_after));
        }
        body["message_id"].as_str().map(str::to_owned).ok_or_else(|| {
            SendError::rejected(format!(
                "the {} API accepted the message but answered no id",
                self.platform.name()
            ))
        })
    }

    /// `RESPONSE`, or `MESSAGE_TAG` with `HUMAN_AGENT` for a person's reply past 24 hours on an
    /// inbox that enables the tag (automated messages never carry it).
    fn messaging_type(&self, outgoing: &Outgoing) -> (&'static str, Option<&'static str>) {
        let person = matches!(outgoing.message.sender, Sender::Agent { .. });
        let late = outgoing.since_customer_ms.is_some_and(|since| since >= REPLY_WINDOW_MS);
        if self.settings.human_agent && person && late {
            ("MESSAGE_TAG", Some("HUMAN_AGENT"))
        } else {
            ("RESPONSE", None)
        }
    }

    async fn send_text(&self, to: &str, body: &str, outgoing: &Outgoing) -> Result<String, SendError> {
        let (messaging_type, tag) = self.messaging_type(outgoing);
        let mut payload = json!({
            "recipient": {"id": to},
            "messaging_type": messaging_type,
            "message": {"text": body},
        });
        if let Some(tag) = tag {
            payload["tag"] = json!(tag);
        }
        self.post(self.http.post(self.messages_url()).json(&payload)).await
    }

    async fn send_file(
        &self,
        to: &str,
        file: &OutgoingFile,
        outgoing: &Outgoing,
    ) -> Result<String, SendError> {
        let kind = match file.content_type.split('/').next().unwrap_or_default() {
            "image" => "image",
            "video" => "video",
            "audio" => "audio",
            _ => "file",
        };
        if let Some(limit) = capabilities(self.platform).attachment_limit(&file.content_type) {
            if file.bytes.len() as u64 > limit {
                return Err(SendError::rejected(format!(
                    "{} is over {}'s {limit}-byte limit for {}",
                    file.file_name,
                    self.platform.name(),
                    file.content_type
                )));
            }
        }
        let (messaging_type, tag) = self.messaging_type(outgoing);
        let part = reqwest::multipart::Part::bytes(file.bytes.to_vec())
            .file_name(file.file_name.clone())
            .mime_str(&file.content_type)
            .map_err(|e| SendError::rejected(format!("{}: {e}", file.file_name)))?;
        let mut form = reqwest::multipart::Form::new()
            .text("recipient", json!({"id": to}).to_string())
            .text("messaging_type", messaging_type)
            .text(
                "message",
                json!({"attachment": {"type": kind, "payload": {"is_reusable": false}}}).to_string(),
            )
            .part("filedata", part);
        if let Some(tag) = tag {
            form = form.text("tag", tag);
        }
        self.post(self.http.post(self.messages_url()).multipart(form)).await
    }
}

#[async_trait]
impl Connector for MetaConnector {
    fn kind(&self) -> &'static str {
        self.platform.kind()
    }

    fn capabilities(&self) -> Capabilities {
        capabilities(self.platform)
    }

    fn handshake(&self, request: &InboundRequest) -> Result<String, InboundError> {
        super::whatsapp::graph_handshake(request, &self.settings.verify_token)
    }

    fn receive(&self, request: &InboundRequest) -> Result<Inbound, InboundError> {
        let signature = request.header(SIGNATURE_HEADER).unwrap_or_default();
        if !signing::verify(&self.settings.app_secret, signature, &request.body) {
            return Err(InboundError::Forged(
                "missing or wrong X-Hub-Signature-256 (HMAC-SHA256 of the body under the app secret)".into(),
            ));
        }
        parse(self.platform, &request.body, &self.settings.account_id)
    }

    /// An attachment's URL is a signed CDN link: fetched as it is (no token goes to the CDN).
    /// One that expired can't be asked for again, so the file is refused with the reason.
    async fn fetch_media(&self, media: &MediaRef) -> Result<FetchedMedia, SendError> {
        let response = self
            .http
            .get(&media.id)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("media download: {}", e.without_url())))?;
        let status = response.status().as_u16();
        if matches!(status, 401 | 403 | 404 | 410) {
            return Err(SendError::rejected(format!("its URL answered HTTP {status} (expired)")));
        }
        if !(200..300).contains(&status) {
            return Err(SendError::transient(format!("media download answered HTTP {status}")));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .filter(|t| !t.is_empty() && t != "application/octet-stream")
            .unwrap_or_else(|| media.mime_type.clone());
        let limit = capabilities(self.platform).attachment_limit(&content_type);
        if let (Some(size), Some(limit)) = (response.content_length(), limit) {
            if size > limit {
                return Err(SendError::rejected(format!(
                    "{size} bytes is over {}'s {limit}-byte limit for {content_type}",
                    self.platform.name()
                )));
            }
        }
        let bytes =
            response.bytes().await.map_err(|e| SendError::transient(format!("media download: {e}")))?;
        Ok(FetchedMedia { bytes, content_type })
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        let Some(to) = outgoing.to.as_deref().filter(|to| !to.is_empty()) else {
            return Err(SendError::rejected(format!(
                "the contact has no {} id on this inbox",
                self.platform.name()
            )));
        };
        if outgoing.template.is_some() {
            return Err(SendError::rejected(format!("{} has no message templates", self.platform.name())));
        }
        let body = outgoing.message.body.trim();
        check_text(self.platform, body).map_err(SendError::rejected)?;
        if self.platform == Platform::Messenger && body.chars().count() > MAX_MESSENGER_TEXT_CHARS {
            return Err(SendError::rejected(format!(
                "Messenger text is at most {MAX_MESSENGER_TEXT_CHARS} characters"
            )));
        }
        let mut ids = Vec::new();
        if !body.is_empty() {
            ids.push(self.send_text(to, body, outgoing).await?);
        }
        for file in &outgoing.files {
            ids.push(self.send_file(to, file, outgoing).await?);
        }
        if ids.is_empty() {
            return Err(SendError::rejected("nothing to send: no text or file"));
        }
        Ok(Sent { provider_ids: ids })
    }
}

#[cfg(test)]
mod tests {
    use switchboard_proto::DeliveryFailure;

    use super::*;

    fn error(code: i64, subcode: Option<i64>, message: &str) -> Value {
        json!({"error": {"message": message, "type": "OAuthException", "code": code,
            "error_subcode": subcode, "fbtrace_id": "A"}})
    }

    #[test]
    fn graph_errors_map_to_window_throttled_or_rejected() {
        let m = Platform::Messenger;
        let window = error(10, Some(2018278), "(#10) This message is sent outside of allowed window.");
        assert!(matches!(
            graph_error(m, 400, &window, None),
            SendError::Failed(DeliveryFailure { kind: DeliveryFailureKind::WindowClosed, .. })
        ));
        let instagram = error(10, Some(2534022), "This message is sent outside of allowed window.");
        assert!(matches!(
            graph_error(Platform::Instagram, 400, &instagram, None),
            SendError::Failed(DeliveryFailure { kind: DeliveryFailureKind::WindowClosed, .. })
        ));
        let throttled = error(613, None, "Calls to this api have exceeded the rate limit.");
        assert!(matches!(
            graph_error(m, 400, &throttled, Some(3000)),
            SendError::Transient { retry_after: Some(3000), .. }
        ));
        assert!(matches!(graph_error(m, 429, &Value::Null, None), SendError::Transient { .. }));
        assert!(matches!(
            graph_error(m, 500, &error(1200, None, "Temporary send message failure"), None),
            SendError::Transient { .. }
        ));
        let unavailable = error(551, Some(1545041), "This person isn't available right now.");
        match graph_error(m, 400, &unavailable, None) {
            SendError::Failed(failure) => {
                assert_eq!(failure.kind, DeliveryFailureKind::Rejected);
                assert!(failure.reason.contains("(#551) This person isn't available"), "{}", failure.reason);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn instagram_counts_bytes_not_characters() {
        assert!(check_text(Platform::Instagram, &"a".repeat(1000)).is_ok());
        // 500 Arabic letters are 1000 bytes; 501 are over.
        assert!(check_text(Platform::Instagram, &"ب".repeat(500)).is_ok());
        let refused = check_text(Platform::Instagram, &"ب".repeat(501)).expect_err("over");
        assert!(refused.contains("1000 bytes") && refused.contains("1002 bytes"), "{refused}");
        assert!(check_text(Platform::Messenger, &"ب".repeat(501)).is_ok());
    }

    #[test]
    fn echoes_are_not_customer_messages_and_other_pages_are_skipped() {
        let body = json!({"object": "page", "entry": [
            {"id": "1", "time": 1, "messaging": [
                {"sender": {"id": "1"}, "recipient": {"id": "9"}, "timestamp": 1,
                 "message": {"is_echo": true, "app_id": 5, "mid": "m_echo", "text": "ours"}},
                {"sender": {"id": "9"}, "recipient": {"id": "1"}, "timestamp": 2,
                 "message": {"mid": "m_1", "text": "hello"}}]},
            {"id": "2", "time": 1, "messaging": [
                {"sender": {"id": "8"}, "recipient": {"id": "2"}, "timestamp": 2,
                 "message": {"mid": "m_2", "text": "another page"}}]}]});
        let inbound = parse(Platform::Messenger, body.to_string().as_bytes(), "1").expect("parsed");
        let ids: Vec<&str> =
            inbound.messages.iter().map(|m| m.message.message.external_id.as_str()).collect();
        assert_eq!(ids, ["m_1"]);
        assert!(parse(Platform::Instagram, body.to_string().as_bytes(), "1").is_err(), "object page");
    }
}
