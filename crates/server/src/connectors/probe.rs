//! An admin's "test connection" (`POST /inboxes/{id}/connector/test`): one harmless call to the
//! provider with the inbox's stored settings. WhatsApp reads the phone number
//! (`GET /{version}/{phone_number_id}`), Telegram calls `getMe`, email logs in to IMAP and SMTP
//! (`email::check_connection`), the API channel reaches its webhook URL's host. Whatever happens —
//! a provider down, a token refused, a settings typo — the answer is `ok: false` with why, never
//! an error of ours; and the detail never holds a secret (reqwest errors are stripped of their URL,
//! which for Telegram carries the bot token).

use serde_json::Value;
use switchboard_proto::{ConnectorSettings, ConnectorTest, MetaSettings, TelegramSettings, WhatsappSettings};

use super::{meta, telegram, whatsapp};

fn ok(detail: impl Into<String>) -> ConnectorTest {
    ConnectorTest { ok: true, detail: detail.into() }
}

fn failed(detail: impl Into<String>) -> ConnectorTest {
    ConnectorTest { ok: false, detail: detail.into() }
}

/// Tests `settings` (`None`: the inbox has no connector) against the provider.
pub async fn test(settings: Option<&ConnectorSettings>, http: &reqwest::Client) -> ConnectorTest {
    let detail = match settings {
        None => return failed("this inbox has no connector: replies on it fail until one is set"),
        Some(ConnectorSettings::Simulator) => {
            return ok("the demo's simulated channel: replies go to the traffic simulator, nowhere else")
        }
        Some(ConnectorSettings::Whatsapp(settings)) => whatsapp_test(settings, http).await,
        Some(ConnectorSettings::Telegram(settings)) => telegram_test(settings, http).await,
        Some(ConnectorSettings::Messenger(settings)) => {
            meta_test(meta::Platform::Messenger, settings, http).await
        }
        Some(ConnectorSettings::Instagram(settings)) => {
            meta_test(meta::Platform::Instagram, settings, http).await
        }
        Some(ConnectorSettings::Email(settings)) => super::email::check_connection(settings).await,
        Some(ConnectorSettings::Api { webhook_url }) => api_test(webhook_url, http).await,
        Some(ConnectorSettings::Widget(settings)) => {
            return ok(format!(
                "the website widget needs no provider: visitors of {} reach it through this server",
                settings.allowed_origins.join(", ")
            ))
        }
    };
    match detail {
        Ok(detail) => ok(detail),
        Err(detail) => failed(detail),
    }
}

/// A reqwest error without its URL (a Telegram URL holds the bot token).
fn unreachable(what: &str, error: reqwest::Error) -> String {
    let timeout = error.is_timeout();
    let error = error.without_url();
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    if timeout {
        format!("{what} did not answer in time ({reason})")
    } else {
        format!("{what} is unreachable: {reason}")
    }
}

async fn whatsapp_test(settings: &WhatsappSettings, http: &reqwest::Client) -> Result<String, String> {
    let base = whatsapp::base_url(settings);
    let url = format!("{base}/{}/{}", whatsapp::api_version(settings), settings.phone_number_id);
    let response = http
        .get(url)
        .query(&[("fields", "display_phone_number,verified_name,quality_rating")])
        .bearer_auth(&settings.access_token)
        .send()
        .await
        .map_err(|e| unreachable(&format!("the Graph API at {base}"), e))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let message = body["error"]["message"].as_str().unwrap_or("no error message");
        let code = body["error"]["code"].as_i64().map(|c| format!(" (code {c})")).unwrap_or_default();
        let hint = match (status, body["error"]["code"].as_i64()) {
            (401, _) | (_, Some(190)) => ": the access token was refused",
            (_, Some(100)) => ": check the phone number id",
            _ => "",
        };
        return Err(format!("the Graph API answered HTTP {status}{hint}: {message}{code}"));
    }
    let number = body["display_phone_number"].as_str().unwrap_or("?");
    let mut detail = format!("WhatsApp number {number}");
    if let Some(name) = body["verified_name"].as_str() {
        detail.push_str(&format!(" ({name})"));
    }
    if let Some(quality) = body["quality_rating"].as_str() {
        detail.push_str(&format!(", quality rating {quality}"));
    }
    Ok(detail)
}

async fn telegram_test(settings: &TelegramSettings, http: &reqwest::Client) -> Result<String, String> {
    let base = telegram::base_url(settings);
    let url = format!("{base}/bot{}/getMe", settings.bot_token);
    let response = http.get(url).send().await.map_err(|e| unreachable(&format!("Telegram at {base}"), e))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) || body["ok"].as_bool() != Some(true) {
        let description = body["description"].as_str().unwrap_or("no description");
        let hint = if matches!(status, 401 | 404) { ": the bot token was refused" } else { "" };
        return Err(format!("Telegram answered HTTP {status}{hint}: {description}"));
    }
    let bot = &body["result"];
    let name = bot["first_name"].as_str().unwrap_or("?");
    match bot["username"].as_str() {
        Some(username) => Ok(format!("Telegram bot @{username} ({name})")),
        None => Ok(format!("Telegram bot {name}")),
    }
}

/// Messenger: the Page (`GET /{page_id}?fields=name`); Instagram: the account
/// (`GET /{ig_id}?fields=username,name`), both with the access token.
async fn meta_test(
    platform: meta::Platform,
    settings: &MetaSettings,
    http: &reqwest::Client,
) -> Result<String, String> {
    let base = meta::base_url(settings);
    let url = format!("{base}/{}/{}", meta::api_version(settings), settings.account_id);
    let fields = match platform {
        meta::Platform::Messenger => "id,name",
        meta::Platform::Instagram => "id,username,name",
    };
    let response = http
        .get(url)
        .query(&[("fields", fields)])
        .bearer_auth(&settings.access_token)
        .send()
        .await
        .map_err(|e| unreachable(&format!("the Graph API at {base}"), e))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let message = body["error"]["message"].as_str().unwrap_or("no error message");
        let code = body["error"]["code"].as_i64();
        let hint = match (status, code) {
            (401, _) | (_, Some(190)) => ": the access token was refused",
            (_, Some(100)) | (404, _) => match platform {
                meta::Platform::Messenger => ": check the Page id",
                meta::Platform::Instagram => ": check the Instagram account id",
            },
            _ => "",
        };
        let code = code.map(|c| format!(" (code {c})")).unwrap_or_default();
        return Err(format!("the Graph API answered HTTP {status}{hint}: {message}{code}"));
    }
    let name = body["name"].as_str();
    Ok(match (platform, body["username"].as_str()) {
        (meta::Platform::Instagram, Some(username)) => match name {
            Some(name) => format!("Instagram account @{username} ({name})"),
            None => format!("Instagram account @{username}"),
        },
        _ => format!("{} Page {}", platform.name(), name.unwrap_or(&settings.account_id)),
    })
}

async fn api_test(webhook_url: &str, http: &reqwest::Client) -> Result<String, String> {
    // Any HTTP answer means the receiver is there; what it answers to a bare HEAD is its business.
    let response = http
        .head(webhook_url)
        .send()
        .await
        .map_err(|e| unreachable(&format!("the webhook URL {webhook_url}"), e))?;
    Ok(format!("the webhook URL answered HTTP {}", response.status().as_u16()))
}
