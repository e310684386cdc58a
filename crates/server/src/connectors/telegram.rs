//! Telegram Bot API: webhook updates verified by `X-Telegram-Bot-Api-Secret-Token` (the
//! `secret_token` given to `setWebhook`, compared in constant time), `message` and
//! `edited_message` updates (text, photo at its largest size, document, caption), media through
//! `getFile` then the file URL, and sending text (`sendMessage`), photos and documents
//! (`sendPhoto`/`sendDocument`, multipart). A 429 with `parameters.retry_after` is transient with
//! that wait; a 403 (the bot was blocked by the user, or kicked) fails the message with
//! Telegram's description. Wire formats: `../shared/design/channels.md` §2 and the fixtures in
//! `crates/server/tests/fixtures/telegram/`.
//!
//! Ids: a Telegram `message_id` is unique within its chat, so a customer message's provider id is
//! `<chat_id>:<message_id>` (a repeated update carries the same message, so deduplicating on it
//! also drops a repeated `update_id`). An edit is stored as a new customer message
//! `✏️ Edited: <text>` with the id `<chat_id>:<message_id>:edit:<edit_date>`: the message model
//! keeps bodies immutable, so the edit shows as an edit beside the original, once per edit.

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{json, Value};
use switchboard_proto::{
    DeliveryFailureKind, InboundBody, InboundContact, InboundMessage, Millis, TelegramSettings,
};

use super::{
    Capabilities, Connector, FetchedMedia, Inbound, InboundError, InboundItem, InboundRequest, MediaRef,
    Outgoing, OutgoingFile, SendError, Sent,
};
use crate::signing;

pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";
/// `sendMessage.text`: 1-4096 characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Captions: 0-1024 characters.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// What the Bot API lets a bot download (`getFile`).
pub const MAX_DOWNLOAD_BYTES: u64 = 20 * MIB;

const MIB: u64 = 1024 * 1024;

pub fn base_url(settings: &TelegramSettings) -> String {
    settings.api_base_url.as_deref().unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/').to_owned()
}

/// Uploads: photos up to 10 MB, any other file up to 50 MB; no reply window.
pub fn capabilities() -> Capabilities {
    Capabilities {
        reply_window_ms: None,
        max_body_chars: Some(MAX_TEXT_CHARS),
        attachment_limits: vec![
            ("image/", 10 * MIB),
            ("application/", 50 * MIB),
            ("text/", 50 * MIB),
            ("audio/", 50 * MIB),
            ("video/", 50 * MIB),
        ],
        templates: false,
        simulated: false,
    }
}

/// Whether `secret` is one Telegram accepts for `setWebhook`: 1-256 of `A-Z a-z 0-9 _ -`.
pub fn valid_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub struct TelegramConnector {
    settings: TelegramSettings,
    http: reqwest::Client,
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A customer's words as they sent them, byte for byte (issue 20: stored exactly or refused);
/// `None` when there are none. Ids, names and types go through `text`, which trims.
fn content(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

/// An id Telegram gives as a number (chat ids may be negative).
fn number(value: &Value) -> Option<String> {
    value.as_i64().map(|n| n.to_string())
}

/// The customer message of one `message` or `edited_message`.
fn message_item(message: &Value, edited: bool) -> Result<Option<InboundItem>, InboundError> {
    let chat = number(&message["chat"]["id"])
        .ok_or_else(|| InboundError::Malformed("a message without `chat.id`".into()))?;
    let message_id = number(&message["message_id"])
        .ok_or_else(|| InboundError::Malformed("a message without `message_id`".into()))?;
    let from = &message["from"];
    if from["is_bot"].as_bool() == Some(true) {
        return Ok(None);
    }
    let mut media = Vec::new();
    // Sizes run ascending: the last is the largest.
    if let Some(largest) = message["photo"].as_array().and_then(|sizes| sizes.last()) {
        let file_id = text(&largest["file_id"])
            .ok_or_else(|| InboundError::Malformed("a photo without file_id".into()))?;
        media.push(MediaRef {
            id: file_id,
            kind: "photo".into(),
            mime_type: "image/jpeg".into(),
            file_name: None,
            sha256: None,
        });
    }
    let document = &message["document"];
    if document.is_object() {
        let file_id = text(&document["file_id"])
            .ok_or_else(|| InboundError::Malformed("a document without file_id".into()))?;
        media.push(MediaRef {
            id: file_id,
            kind: "document".into(),
            mime_type: text(&document["mime_type"]).unwrap_or_else(|| "application/octet-stream".into()),
            file_name: text(&document["file_name"]),
            sha256: None,
        });
    }
    let mut body = content(&message["text"]).or_else(|| content(&message["caption"])).unwrap_or_default();
    if body.is_empty() && media.is_empty() {
        body = "[a Telegram message this inbox can't show]".into();
    }
    let mut external_id = format!("{chat}:{message_id}");
    if edited {
        let edit_date = number(&message["edit_date"]).unwrap_or_else(|| "0".into());
        external_id = format!("{external_id}:edit:{edit_date}");
        body = format!("✏️ Edited: {body}");
        // The files were stored with the original; an edit names them again.
        media.clear();
    }
    let chat_object = &message["chat"];
    let name = [text(&from["first_name"]), text(&from["last_name"])]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = Some(name)
        .filter(|n| !n.is_empty())
        .or_else(|| text(&chat_object["title"]))
        .or_else(|| text(&from["username"]).map(|u| format!("@{u}")));
    Ok(Some(InboundItem {
        message: InboundMessage {
            contact: InboundContact { name, phone: None, email: None, external_id: chat },
            message: InboundBody { external_id, body, attachments: vec![] },
        },
        media,
    }))
}

/// Parses one verified `Update`: a `message` or `edited_message` (other update kinds, such as
/// `callback_query` or `my_chat_member`, carry nothing for the inbox).
pub fn parse(body: &[u8]) -> Result<Inbound, InboundError> {
    let update: Value =
        serde_json::from_slice(body).map_err(|e| InboundError::Malformed(format!("not JSON: {e}")))?;
    if update["update_id"].as_i64().is_none() {
        return Err(InboundError::Malformed("not a Telegram Update: no `update_id`".into()));
    }
    let mut inbound = Inbound::default();
    for (field, edited) in [("message", false), ("edited_message", true)] {
        if update[field].is_object() {
            inbound.messages.extend(message_item(&update[field], edited)?);
        }
    }
    Ok(inbound)
}

/// What a Bot API error means for a send: 429 waits `parameters.retry_after` seconds; 403 (the
/// user blocked the bot, it was kicked) and other 4xx fail with Telegram's description; 5xx and
/// anything unreadable are transient.
pub fn api_error(status: u16, body: &Value) -> SendError {
    let description =
        text(&body["description"]).unwrap_or_else(|| format!("Telegram answered HTTP {status}"));
    let code = body["error_code"].as_u64().map_or(status, |c| c as u16);
    match code {
        429 => SendError::Transient {
            reason: description,
            retry_after: body["parameters"]["retry_after"]
                .as_i64()
                .map(|s| s.clamp(0, 86_400) * 1000)
                .or(Some(1000)),
        },
        401 | 404 => SendError::not_configured(format!("the bot token was refused: {description}")),
        400..=499 => SendError::failed(DeliveryFailureKind::Rejected, description),
        _ => SendError::transient(description),
    }
}

/// What one `getUpdates` call brought: the messages of its updates, and the `offset` that
/// confirms them (the last `update_id` + 1; `None` when there were none).
#[derive(Debug, Default)]
pub struct Polled {
    pub inbound: Inbound,
    pub next_offset: Option<i64>,
}

/// Why a `getUpdates` (or `deleteWebhook`) brought nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollError {
    /// 429: wait this long (`parameters.retry_after`, in ms) before asking again.
    Throttled { retry_after_ms: Millis },
    /// 409 while a webhook is set (`getUpdates` and a webhook are mutually exclusive): the poller
    /// deletes the webhook and asks again.
    WebhookActive(String),
    /// The token was refused (401/404): nothing to do until an admin fixes it.
    Unauthorized(String),
    /// Anything else (unreachable, 5xx, another poller's 409): back off and ask again.
    Other(String),
}

impl std::fmt::Display for PollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PollError::Throttled { retry_after_ms } => {
                write!(f, "throttled: retry after {retry_after_ms} ms")
            }
            PollError::WebhookActive(why) | PollError::Unauthorized(why) | PollError::Other(why) => {
                f.write_str(why)
            }
        }
    }
}

/// What a Bot API error answer means for polling.
pub fn poll_error(status: u16, body: &Value) -> PollError {
    let description =
        text(&body["description"]).unwrap_or_else(|| format!("Telegram answered HTTP {status}"));
    let code = body["error_code"].as_u64().map_or(status, |c| c as u16);
    match code {
        429 => PollError::Throttled {
            retry_after_ms: body["parameters"]["retry_after"]
                .as_i64()
                .map_or(1000, |s| s.clamp(0, 86_400) * 1000),
        },
        409 if description.contains("webhook") => PollError::WebhookActive(description),
        401 | 404 => PollError::Unauthorized(format!("the bot token was refused: {description}")),
        _ => PollError::Other(description),
    }
}

impl TelegramConnector {
    /// Long polling, for a server Telegram cannot reach (no webhook may be set): the updates
    /// after `offset`, waiting up to `timeout_secs` for one. An update this connector cannot read
    /// is skipped with a warning, and confirmed with the rest, so it never blocks the ones after.
    /// The caller stores `next_offset` durably once their messages are stored: Telegram forgets
    /// updates below the offset of the next call.
    pub async fn get_updates(&self, offset: Option<i64>, timeout_secs: u64) -> Result<Polled, PollError> {
        let mut request = json!({"timeout": timeout_secs, "allowed_updates": ["message", "edited_message"]});
        if let Some(offset) = offset {
            request["offset"] = json!(offset);
        }
        let http = self
            .http
            .post(self.method_url("getUpdates"))
            .timeout(std::time::Duration::from_secs(timeout_secs + 10))
            .json(&request);
        let result = self.call_polling(http, "getUpdates").await?;
        let updates =
            result.as_array().ok_or_else(|| PollError::Other("getUpdates answered no array".into()))?;
        let mut polled = Polled::default();
        for update in updates {
            let Some(id) = update["update_id"].as_i64() else {
                tracing::warn!("a Telegram update without update_id: skipped");
                continue;
            };
            polled.next_offset = Some(polled.next_offset.map_or(id + 1, |next| next.max(id + 1)));
            match parse(update.to_string().as_bytes()) {
                Ok(inbound) => polled.inbound.messages.extend(inbound.messages),
                Err(error) => tracing::warn!(update_id = id, %error, "a Telegram update not read: skipped"),
            }
        }
        Ok(polled)
    }

    /// `deleteWebhook` (keeping pending updates, which `getUpdates` then answers): what Telegram
    /// requires before `getUpdates` works. Deleting when none is set also answers `true`.
    pub async fn delete_webhook(&self) -> Result<(), PollError> {
        let request = self
            .http
            .post(self.method_url("deleteWebhook"))
            .timeout(std::time::Duration::from_secs(30))
            .json(&json!({"drop_pending_updates": false}));
        self.call_polling(request, "deleteWebhook").await.map(|_| ())
    }

    /// `setWebhook`: Telegram is to POST the bot's updates (`message`, `edited_message`) to
    /// `url`, each carrying the inbox's `secret_token` in `X-Telegram-Bot-Api-Secret-Token`. An
    /// error is Telegram's own description (an `http://` URL, a port it does not take, a token it
    /// does not know) or that it could not be reached; never the token.
    pub async fn set_webhook(&self, url: &str) -> Result<(), PollError> {
        let request =
            self.http.post(self.method_url("setWebhook")).timeout(std::time::Duration::from_secs(30)).json(
                &json!({
                    "url": url,
                    "secret_token": self.settings.webhook_secret,
                    "allowed_updates": ["message", "edited_message"],
                }),
            );
        self.call_polling(request, "setWebhook").await.map(|_| ())
    }

    /// A Bot API call for the poller: its `result`, or what the error means for polling.
    async fn call_polling(&self, request: reqwest::RequestBuilder, method: &str) -> Result<Value, PollError> {
        // reqwest's error would name the URL, and the URL holds the token: only its kind is said.
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "can't connect"
            } else {
                "failed"
            };
            PollError::Other(format!("Telegram {method}: {kind}"))
        })?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) && body["ok"].as_bool() == Some(true) {
            return Ok(body["result"].clone());
        }
        Err(poll_error(status, &body))
    }

    pub fn new(settings: TelegramSettings, http: reqwest::Client) -> Self {
        TelegramConnector { settings, http }
    }

    fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", base_url(&self.settings), self.settings.bot_token)
    }

    /// A Bot API call: its `result`, or the error it means.
    async fn call(&self, request: reqwest::RequestBuilder, method: &str) -> Result<Value, SendError> {
        // reqwest's error names the URL, and the URL holds the token: it is left out.
        let response = request
            .send()
            .await
            .map_err(|e| SendError::transient(format!("Telegram {method}: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) && body["ok"].as_bool() == Some(true) {
            return Ok(body["result"].clone());
        }
        Err(api_error(status, &body))
    }

    /// A sent message's id: `<chat_id>:<message_id>`.
    fn sent_id(result: &Value, chat: &str) -> Result<String, SendError> {
        let id = number(&result["message_id"])
            .ok_or_else(|| SendError::transient("Telegram answered no message_id"))?;
        Ok(format!("{chat}:{id}"))
    }

    async fn send_file(
        &self,
        chat: &str,
        file: &OutgoingFile,
        caption: Option<&str>,
    ) -> Result<String, SendError> {
        let photo = matches!(file.content_type.as_str(), "image/jpeg" | "image/png");
        let (method, field) = if photo { ("sendPhoto", "photo") } else { ("sendDocument", "document") };
        let limit = if photo { 10 * MIB } else { 50 * MIB };
        if file.bytes.len() as u64 > limit {
            return Err(SendError::rejected(format!(
                "{} is over Telegram's {limit}-byte limit for {method}",
                file.file_name
            )));
        }
        let part = reqwest::multipart::Part::bytes(file.bytes.to_vec())
            .file_name(file.file_name.clone())
            .mime_str(&file.content_type)
            .map_err(|e| SendError::rejected(format!("{}: {e}", file.file_name)))?;
        let mut form = reqwest::multipart::Form::new().text("chat_id", chat.to_owned()).part(field, part);
        if let Some(caption) = caption {
            form = form.text("caption", caption.to_owned());
        }
        let result = self.call(self.http.post(self.method_url(method)).multipart(form), method).await?;
        Self::sent_id(&result, chat)
    }
}

#[async_trait]
impl Connector for TelegramConnector {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn receive(&self, request: &InboundRequest) -> Result<Inbound, InboundError> {
        let given = request.header(SECRET_HEADER).unwrap_or_default();
        if given.is_empty() || !signing::same(given.as_bytes(), self.settings.webhook_secret.as_bytes()) {
            return Err(InboundError::Forged(
                "missing or wrong X-Telegram-Bot-Api-Secret-Token (the secret_token given to setWebhook)"
                    .into(),
            ));
        }
        parse(&request.body)
    }

    async fn fetch_media(&self, media: &MediaRef) -> Result<FetchedMedia, SendError> {
        let file = self
            .call(self.http.get(self.method_url("getFile")).query(&[("file_id", &media.id)]), "getFile")
            .await?;
        if let Some(size) = file["file_size"].as_u64() {
            if size > MAX_DOWNLOAD_BYTES {
                return Err(SendError::rejected(format!(
                    "{} of {size} bytes is over the Bot API's {MAX_DOWNLOAD_BYTES}-byte download limit",
                    media.kind
                )));
            }
        }
        let path =
            text(&file["file_path"]).ok_or_else(|| SendError::rejected("getFile answered no file_path"))?;
        let url = format!("{}/file/bot{}/{path}", base_url(&self.settings), self.settings.bot_token);
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("file download: {}", e.without_url())))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(SendError::transient(format!("file download answered {status}")));
        }
        let bytes: Bytes = response
            .bytes()
            .await
            .map_err(|e| SendError::transient(format!("file download: {}", e.without_url())))?;
        Ok(FetchedMedia { bytes, content_type: media.mime_type.clone() })
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        let Some(chat) = outgoing.to.as_deref().filter(|c| !c.is_empty()) else {
            return Err(SendError::rejected("the contact has no Telegram chat on this inbox"));
        };
        if outgoing.template.is_some() {
            return Err(SendError::rejected("Telegram has no message templates"));
        }
        let body = outgoing.message.body.trim();
        if body.chars().count() > MAX_TEXT_CHARS {
            return Err(SendError::rejected(format!("Telegram text is at most {MAX_TEXT_CHARS} characters")));
        }
        let caption =
            (outgoing.files.len() == 1 && !body.is_empty() && body.chars().count() <= MAX_CAPTION_CHARS)
                .then_some(body);
        let mut ids = Vec::new();
        if caption.is_none() && !body.is_empty() {
            let request =
                self.http.post(self.method_url("sendMessage")).json(&json!({"chat_id": chat, "text": body}));
            let result = self.call(request, "sendMessage").await?;
            ids.push(Self::sent_id(&result, chat)?);
        }
        for file in &outgoing.files {
            ids.push(self.send_file(chat, file, caption).await?);
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

    #[test]
    fn errors_map_to_retry_after_blocked_or_transient() {
        let too_many = json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5}});
        assert_eq!(
            api_error(429, &too_many),
            SendError::Transient {
                reason: "Too Many Requests: retry after 5".into(),
                retry_after: Some(5000)
            }
        );
        let blocked =
            json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"});
        assert!(matches!(
            api_error(403, &blocked),
            SendError::Failed(DeliveryFailure { kind: DeliveryFailureKind::Rejected, ref reason })
                if reason == "Forbidden: bot was blocked by the user"
        ));
        assert!(matches!(api_error(502, &Value::Null), SendError::Transient { .. }));
    }

    /// The Bot API's URLs hold the bot token: an unreachable one is reported without them.
    #[tokio::test]
    async fn an_unreachable_bot_api_is_reported_without_the_token() {
        let settings = TelegramSettings {
            bot_token: "123:TOKEN-NEVER-SHOWN".into(),
            webhook_secret: String::new(),
            api_base_url: Some("http://127.0.0.1:9".into()),
            mode: switchboard_proto::TelegramMode::Webhook,
        };
        let connector = TelegramConnector::new(settings, reqwest::Client::new());
        let media = MediaRef {
            id: "file".into(),
            kind: "photo".into(),
            mime_type: "image/jpeg".into(),
            file_name: None,
            sha256: None,
        };
        let Err(SendError::Transient { reason, .. }) = connector.fetch_media(&media).await else {
            panic!("an unreachable Bot API is a transient failure");
        };
        assert!(reason.contains("getFile") && !reason.contains("TOKEN-NEVER-SHOWN"), "{reason}");
        let Err(refused) = connector.set_webhook("https://example.com/hook").await else {
            panic!("nothing took the webhook");
        };
        assert!(!refused.to_string().contains("TOKEN-NEVER-SHOWN"), "{refused}");
    }

    #[test]
    fn webhook_secrets_are_what_set_webhook_accepts() {
        assert!(valid_secret("abc_DEF-123"));
        assert!(!valid_secret(""));
        assert!(!valid_secret("has space"));
        assert!(!valid_secret(&"a".repeat(257)));
    }

    #[test]
    fn a_photo_is_read_at_its_largest_size() {
        let update = json!({"update_id": 1, "message": {"message_id": 7, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": false, "first_name": "Ana"}, "date": 1,
            "photo": [{"file_id": "small"}, {"file_id": "large"}], "caption": "look"}});
        let inbound = parse(update.to_string().as_bytes()).expect("parsed");
        let item = &inbound.messages[0];
        assert_eq!(item.media[0].id, "large");
        assert_eq!(item.message.message.body, "look");
        assert_eq!(item.message.message.external_id, "42:7");
    }
}
