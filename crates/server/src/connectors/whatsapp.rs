//! WhatsApp Cloud API (Meta Graph API): the webhook's `GET` handshake (`hub.verify_token`,
//! `hub.challenge`), `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under the app secret),
//! the `whatsapp_business_account` envelope's messages (text, media, location, contacts,
//! reactions, buttons, interactive replies) and statuses (with their errors), the two-step media
//! download (media id → short-lived URL → bytes, both with the bearer token), and sending text,
//! templates and media (uploaded first) with replies in context. Error 131047 fails the message
//! as `window_closed`; 130429 and the other throughput limits are transient and retried.
//! Wire formats: `../shared/design/channels.md` §1 and the fixtures in
//! `crates/server/tests/fixtures/whatsapp/`.

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_proto::{
    DeliveryFailure, DeliveryFailureKind, DeliveryState, InboundBody, InboundContact, InboundMessage,
    WhatsappSettings,
};

use super::{
    Capabilities, Connector, FetchedMedia, Inbound, InboundError, InboundItem, InboundRequest, MediaRef,
    Outgoing, SendError, Sent, StatusUpdate,
};
use crate::signing;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_API_VERSION: &str = "v23.0";
/// The longest text message.
pub const MAX_TEXT_CHARS: usize = 4096;
/// The re-engagement error: more than 24 hours since the customer's last message.
pub const REENGAGEMENT: i64 = 131047;
/// Throughput and rate limits: worth waiting for (130429 the number's throughput, 131056 the
/// pair rate, 80007 the WABA's, 4 the app's call limit).
const THROTTLED: &[i64] = &[130429, 131056, 80007, 4];

const MIB: u64 = 1024 * 1024;

pub fn base_url(settings: &WhatsappSettings) -> String {
    settings.graph_base_url.as_deref().unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/').to_owned()
}

pub fn api_version(settings: &WhatsappSettings) -> String {
    settings.api_version.clone().unwrap_or_else(|| DEFAULT_API_VERSION.to_owned())
}

/// Meta's media limits per type (stickers: the animated limit).
pub fn capabilities() -> Capabilities {
    Capabilities {
        reply_window_ms: Some(switchboard_proto::REPLY_WINDOW_MS),
        max_body_chars: Some(MAX_TEXT_CHARS),
        attachment_limits: vec![
            ("image/webp", 500 * 1024),
            ("image/", 5 * MIB),
            ("audio/", 16 * MIB),
            ("video/", 16 * MIB),
            ("application/", 100 * MIB),
            ("text/", 100 * MIB),
        ],
        templates: true,
        simulated: false,
    }
}

pub struct WhatsappConnector {
    settings: WhatsappSettings,
    http: reqwest::Client,
}

impl WhatsappConnector {
    pub fn new(settings: WhatsappSettings, http: reqwest::Client) -> Self {
        WhatsappConnector { settings, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", base_url(&self.settings), api_version(&self.settings), path)
    }

    /// Step one of a download: the media's short-lived URL and what Meta says of the file.
    async fn media_url(&self, media_id: &str) -> Result<(String, Value), SendError> {
        let response = self
            .http
            .get(self.url(media_id))
            .bearer_auth(&self.settings.access_token)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("media {media_id}: {e}")))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(graph_error(status, &body, None));
        }
        let url =
            body["url"].as_str().ok_or_else(|| SendError::rejected(format!("media {media_id}: no url")))?;
        Ok((url.to_owned(), body))
    }

    /// Uploads a file for sending: its media id.
    async fn upload(&self, file: &super::OutgoingFile) -> Result<String, SendError> {
        let part = reqwest::multipart::Part::bytes(file.bytes.to_vec())
            .file_name(file.file_name.clone())
            .mime_str(&file.content_type)
            .map_err(|e| SendError::rejected(format!("{}: {e}", file.file_name)))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", file.content_type.clone())
            .part("file", part);
        let answer = self
            .post(
                self.http.post(self.url(&format!("{}/media", self.settings.phone_number_id))).multipart(form),
            )
            .await?;
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SendError::rejected("upload answered no media id"))
    }

    async fn post(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let response = request
            .bearer_auth(&self.settings.access_token)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("Graph API unreachable: {e}")))?;
        let status = response.status().as_u16();
        let retry_after = super::retry_after_header(response.headers().get("retry-after"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(graph_error(status, &body, retry_after))
        }
    }

    async fn send_payload(&self, mut payload: Value, outgoing: &Outgoing) -> Result<String, SendError> {
        payload["messaging_product"] = json!("whatsapp");
        payload["recipient_type"] = json!("individual");
        payload["to"] = json!(outgoing.to.clone().unwrap_or_default());
        payload["biz_opaque_callback_data"] = json!(outgoing.message.id.to_string());
        if let Some(context) = &outgoing.reply_to {
            payload["context"] = json!({ "message_id": context });
        }
        let url = self.url(&format!("{}/messages", self.settings.phone_number_id));
        let answer = self.post(self.http.post(url).json(&payload)).await?;
        answer["messages"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SendError::rejected("the Graph API accepted the message but answered no id"))
    }
}

/// The `sha256=<hex>` signature check over the raw body.
pub fn verify_signature(app_secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    signing::verify(app_secret, header.unwrap_or_default(), body)
}

/// A Graph API error answer as a [`SendError`].
fn graph_error(status: u16, body: &Value, retry_after: Option<i64>) -> SendError {
    let error = &body["error"];
    let code = error["code"].as_i64();
    let message = error["message"].as_str().unwrap_or("no message");
    let details = error["error_data"]["details"].as_str();
    let reason = match (code, details) {
        (Some(code), Some(details)) if !message.contains(&format!("#{code}")) => {
            format!("(#{code}) {message}: {details}")
        }
        (_, Some(details)) => format!("{message}: {details}"),
        (Some(code), None) if !message.contains(&format!("#{code}")) => format!("(#{code}) {message}"),
        _ if body.is_null() => format!("the Graph API answered {status}"),
        _ => message.to_owned(),
    };
    match code {
        Some(REENGAGEMENT) => SendError::failed(DeliveryFailureKind::WindowClosed, reason),
        Some(code) if THROTTLED.contains(&code) => {
            SendError::Transient { reason: format!("throttled: {reason}"), retry_after }
        }
        _ if status == 429 || status >= 500 => SendError::Transient { reason, retry_after },
        _ => SendError::rejected(reason),
    }
}

/// The failure a `failed` status's first error describes.
fn status_failure(status: &Value) -> DeliveryFailure {
    let error = &status["errors"][0];
    let code = error["code"].as_i64();
    let title = error["title"].as_str().or(error["message"].as_str()).unwrap_or("failed");
    let details = error["error_data"]["details"].as_str();
    let mut reason = match code {
        Some(code) => format!("(#{code}) {title}"),
        None => title.to_owned(),
    };
    if let Some(details) = details {
        reason = format!("{reason}: {details}");
    }
    let kind = if code == Some(REENGAGEMENT) {
        DeliveryFailureKind::WindowClosed
    } else {
        DeliveryFailureKind::Rejected
    };
    DeliveryFailure { kind, reason }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A customer's words as they sent them, byte for byte (issue 20: stored exactly or refused);
/// `None` when there are none. Ids, names and types go through `text`, which trims.
fn content(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

/// One customer message of a `messages` change: its text and media.
fn message_item(
    message: &Value,
    names: &std::collections::HashMap<String, String>,
) -> Result<InboundItem, InboundError> {
    let from =
        text(&message["from"]).ok_or_else(|| InboundError::Malformed("a message without `from`".into()))?;
    let id = text(&message["id"]).ok_or_else(|| InboundError::Malformed("a message without `id`".into()))?;
    let kind = message["type"].as_str().unwrap_or("unknown");
    let mut media = Vec::new();
    let body = match kind {
        "text" => content(&message["text"]["body"]).unwrap_or_default(),
        "image" | "document" | "audio" | "video" | "sticker" => {
            let payload = &message[kind];
            let media_id = text(&payload["id"])
                .ok_or_else(|| InboundError::Malformed(format!("{kind} without a media id")))?;
            media.push(MediaRef {
                id: media_id,
                kind: kind.to_owned(),
                mime_type: text(&payload["mime_type"]).unwrap_or_else(|| "application/octet-stream".into()),
                file_name: text(&payload["filename"]),
                sha256: text(&payload["sha256"]),
            });
            content(&payload["caption"]).unwrap_or_default()
        }
        "location" => {
            let location = &message["location"];
            let (lat, long) = (location["latitude"].as_f64(), location["longitude"].as_f64());
            let place = [text(&location["name"]), text(&location["address"])]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
            let mut line = String::from("📍 Location");
            if !place.is_empty() {
                line = format!("{line}: {}", place.join(", "));
            }
            if let (Some(lat), Some(long)) = (lat, long) {
                line = format!("{line} https://maps.google.com/?q={lat},{long}");
            }
            line
        }
        "contacts" => {
            let cards = message["contacts"].as_array().cloned().unwrap_or_default();
            let lines: Vec<String> = cards
                .iter()
                .map(|card| {
                    let name = text(&card["name"]["formatted_name"]).unwrap_or_else(|| "(no name)".into());
                    let phones: Vec<String> = card["phones"]
                        .as_array()
                        .map(|phones| phones.iter().filter_map(|p| text(&p["phone"])).collect())
                        .unwrap_or_default();
                    if phones.is_empty() {
                        format!("👤 {name}")
                    } else {
                        format!("👤 {name}: {}", phones.join(", "))
                    }
                })
                .collect();
            lines.join("\n")
        }
        "reaction" => match text(&message["reaction"]["emoji"]) {
            Some(emoji) => format!("Reacted {emoji}"),
            None => "Removed a reaction".into(),
        },
        "button" => {
            text(&message["button"]["text"]).or(text(&message["button"]["payload"])).unwrap_or_default()
        }
        "interactive" => {
            let interactive = &message["interactive"];
            let reply = match interactive["type"].as_str() {
                Some("list_reply") => &interactive["list_reply"],
                _ => &interactive["button_reply"],
            };
            match (text(&reply["title"]), text(&reply["description"])) {
                (Some(title), Some(description)) => format!("{title} — {description}"),
                (Some(title), None) => title,
                _ => text(&reply["id"]).unwrap_or_default(),
            }
        }
        other => format!("[a WhatsApp {other} message this inbox can't show]"),
    };
    let body = if body.is_empty() && media.is_empty() { format!("[{kind}]") } else { body };
    Ok(InboundItem {
        message: InboundMessage {
            contact: InboundContact {
                name: names.get(&from).cloned(),
                phone: Some(format!("+{from}")),
                email: None,
                external_id: from,
            },
            message: InboundBody { external_id: id, body, attachments: vec![] },
        },
        media,
    })
}

/// Parses a verified webhook body: the messages and statuses for this phone number id (other
/// numbers of the same app are skipped).
pub fn parse(body: &[u8], phone_number_id: &str) -> Result<Inbound, InboundError> {
    let envelope: Value =
        serde_json::from_slice(body).map_err(|e| InboundError::Malformed(format!("not JSON: {e}")))?;
    if envelope["object"].as_str() != Some("whatsapp_business_account") {
        return Err(InboundError::Malformed("not a whatsapp_business_account notification".into()));
    }
    let mut inbound = Inbound::default();
    for entry in envelope["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            if change["field"].as_str() != Some("messages") {
                continue;
            }
            let value = &change["value"];
            let number = value["metadata"]["phone_number_id"].as_str();
            if number.is_some_and(|number| number != phone_number_id) {
                tracing::info!(number, "a WhatsApp notification for another number: skipped");
                continue;
            }
            let names: std::collections::HashMap<String, String> = value["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| Some((text(&c["wa_id"])?, text(&c["profile"]["name"])?)))
                .collect();
            for message in value["messages"].as_array().into_iter().flatten() {
                inbound.messages.push(message_item(message, &names)?);
            }
            for status in value["statuses"].as_array().into_iter().flatten() {
                let provider_id = text(&status["id"])
                    .ok_or_else(|| InboundError::Malformed("a status without `id`".into()))?;
                let state = match status["status"].as_str() {
                    Some("sent") => DeliveryState::Sent,
                    Some("delivered") => DeliveryState::Delivered,
                    Some("read") => DeliveryState::Read,
                    Some("failed") => DeliveryState::Failed,
                    // `deleted`, `warning`, newer values: nothing to show.
                    _ => continue,
                };
                let failure = (state == DeliveryState::Failed).then(|| status_failure(status));
                inbound.statuses.push(StatusUpdate { provider_id, state, failure });
            }
        }
    }
    Ok(inbound)
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[async_trait]
impl Connector for WhatsappConnector {
    fn kind(&self) -> &'static str {
        "whatsapp"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn handshake(&self, request: &InboundRequest) -> Result<String, InboundError> {
        graph_handshake(request, &self.settings.verify_token)
    }

    fn receive(&self, request: &InboundRequest) -> Result<Inbound, InboundError> {
        if !verify_signature(&self.settings.app_secret, request.header(SIGNATURE_HEADER), &request.body) {
            return Err(InboundError::Forged(
                "missing or wrong X-Hub-Signature-256 (HMAC-SHA256 of the body under the app secret)".into(),
            ));
        }
        parse(&request.body, &self.settings.phone_number_id)
    }

    async fn fetch_media(&self, media: &MediaRef) -> Result<FetchedMedia, SendError> {
        let limit = capabilities().attachment_limit(&media.mime_type);
        // The URL lives five minutes: one that expired between the two steps is asked for again.
        let mut last_error = None;
        for _ in 0..2 {
            let (url, meta) = self.media_url(&media.id).await?;
            let declared =
                meta["file_size"].as_str().and_then(|s| s.parse::<u64>().ok()).or(meta["file_size"].as_u64());
            if let (Some(size), Some(limit)) = (declared, limit) {
                if size > limit {
                    return Err(SendError::rejected(format!(
                        "{} of {size} bytes is over WhatsApp's {limit}-byte limit for {}",
                        media.kind, media.mime_type
                    )));
                }
            }
            let response = self
                .http
                .get(&url)
                .bearer_auth(&self.settings.access_token)
                .send()
                .await
                .map_err(|e| SendError::transient(format!("media download: {e}")))?;
            let status = response.status().as_u16();
            if matches!(status, 401 | 403 | 404 | 410) {
                last_error = Some(SendError::transient(format!("media URL answered {status} (expired?)")));
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(SendError::transient(format!("media download answered {status}")));
            }
            let bytes: Bytes =
                response.bytes().await.map_err(|e| SendError::transient(format!("media download: {e}")))?;
            let expected = media.sha256.clone().or_else(|| text(&meta["sha256"]));
            if let Some(expected) =
                expected.filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                if !expected.eq_ignore_ascii_case(&hex_sha256(&bytes)) {
                    return Err(SendError::rejected(format!("{} does not match its sha256", media.kind)));
                }
            }
            let content_type = text(&meta["mime_type"]).unwrap_or_else(|| media.mime_type.clone());
            return Ok(FetchedMedia { bytes, content_type });
        }
        Err(last_error.unwrap_or_else(|| SendError::transient("media download failed")))
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        if outgoing.to.as_deref().is_none_or(str::is_empty) {
            return Err(SendError::rejected("the contact has no WhatsApp id on this inbox"));
        }
        let mut ids = Vec::new();
        if let Some(template) = &outgoing.template {
            let mut body = json!({
                "type": "template",
                "template": {"name": template.name, "language": {"code": template.language, "policy": "deterministic"}},
            });
            if !template.params.is_empty() {
                let parameters: Vec<Value> =
                    template.params.iter().map(|p| json!({"type": "text", "text": p})).collect();
                body["template"]["components"] = json!([{"type": "body", "parameters": parameters}]);
            }
            ids.push(self.send_payload(body, outgoing).await?);
            return Ok(Sent { provider_ids: ids });
        }
        let text_body = outgoing.message.body.trim();
        if text_body.chars().count() > MAX_TEXT_CHARS {
            return Err(SendError::rejected(format!("WhatsApp text is at most {MAX_TEXT_CHARS} characters")));
        }
        let caption = (!text_body.is_empty() && outgoing.files.len() == 1).then_some(text_body);
        if caption.is_none() && !text_body.is_empty() {
            let payload = json!({"type": "text", "text": {"preview_url": false, "body": text_body}});
            ids.push(self.send_payload(payload, outgoing).await?);
        }
        for file in &outgoing.files {
            let kind = match file.content_type.split('/').next().unwrap_or_default() {
                "image" if file.content_type != "image/webp" => "image",
                "audio" => "audio",
                "video" => "video",
                _ => "document",
            };
            if let Some(limit) = capabilities().attachment_limit(&file.content_type) {
                if file.bytes.len() as u64 > limit {
                    return Err(SendError::rejected(format!(
                        "{} is over WhatsApp's {limit}-byte limit",
                        file.file_name
                    )));
                }
            }
            let media_id = self.upload(file).await?;
            let mut media = json!({ "id": media_id });
            if let Some(caption) = caption {
                if kind != "audio" {
                    media["caption"] = json!(caption);
                }
            }
            if kind == "document" {
                media["filename"] = json!(file.file_name);
            }
            ids.push(self.send_payload(json!({ "type": kind, kind: media }), outgoing).await?);
        }
        if ids.is_empty() {
            return Err(SendError::rejected("nothing to send: no text, template or file"));
        }
        Ok(Sent { provider_ids: ids })
    }
}

/// Meta's Graph webhook verification (WhatsApp, Messenger and Instagram alike): `hub.mode` must be
/// `subscribe` and `hub.verify_token` the inbox's; the answer is `hub.challenge`.
pub(crate) fn graph_handshake(request: &InboundRequest, verify_token: &str) -> Result<String, InboundError> {
    let query = |name: &str| request.query.get(name).map(String::as_str);
    if query("hub.mode") != Some("subscribe") {
        return Err(InboundError::Malformed("hub.mode must be subscribe".into()));
    }
    let token = query("hub.verify_token").unwrap_or_default();
    if !signing::same(token.as_bytes(), verify_token.as_bytes()) {
        return Err(InboundError::Forged("hub.verify_token does not match this inbox's verify token".into()));
    }
    query("hub.challenge")
        .map(str::to_owned)
        .ok_or_else(|| InboundError::Malformed("no hub.challenge".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_test_vector_signs_test_under_secret() {
        // hexdocs.pm/whatsapp_sdk: HMAC-SHA256("secret", "test").
        let header = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
        assert!(verify_signature("secret", Some(header), b"test"));
        assert!(!verify_signature("secret", Some(header), b"test "), "another body");
        assert!(!verify_signature("Secret", Some(header), b"test"), "another secret");
        assert!(!verify_signature("secret", None, b"test"), "no header");
    }

    #[test]
    fn graph_errors_map_to_window_throttled_or_rejected() {
        let error =
            |code: i64| json!({"error": {"message": "m", "code": code, "error_data": {"details": "d"}}});
        assert!(matches!(
            graph_error(400, &error(131047), None),
            SendError::Failed(DeliveryFailure { kind: DeliveryFailureKind::WindowClosed, .. })
        ));
        assert!(matches!(
            graph_error(400, &error(130429), Some(2000)),
            SendError::Transient { retry_after: Some(2000), .. }
        ));
        assert!(matches!(graph_error(400, &error(132001), None), SendError::Failed(_)));
        assert!(matches!(graph_error(503, &Value::Null, None), SendError::Transient { .. }));
    }
}
