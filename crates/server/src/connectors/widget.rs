//! The website chat widget as a connector. Its visitors write through the server's own visitor
//! endpoints (`crate::http::widget`), not a provider's webhook, so the inbound half of the seam stays at
//! its defaults; a reply is "sent" once the delivery job has run it through [`WidgetConnector::send`]
//! (from then on the visitor's endpoints show it), `delivered` when the visitor's page has it and
//! `read` when shown — both reported by the page, by our message id.

use async_trait::async_trait;
use switchboard_proto::{Channel, ConnectorInfo, Id, WidgetSettings};

use super::{Capabilities, Connector, Outgoing, SendError, Sent};

/// The bubble's colour unless the inbox sets one.
pub const DEFAULT_COLOR: &str = "#2563eb";
/// The longest greeting an inbox may set.
pub const MAX_GREETING_CHARS: usize = 500;

pub struct WidgetConnector;

/// No reply window (the visitor comes back to the page when they like), the web chat's file limit.
pub fn capabilities() -> Capabilities {
    Capabilities {
        reply_window_ms: None,
        max_body_chars: None,
        attachment_limits: vec![("", Channel::Webchat.attachment_limit())],
        templates: false,
        simulated: false,
    }
}

/// The settings' colour, or the default.
pub fn color(settings: &WidgetSettings) -> &str {
    settings.color.as_deref().filter(|c| !c.is_empty()).unwrap_or(DEFAULT_COLOR)
}

/// Whether `color` is `#rrggbb`.
pub fn valid_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// An origin as browsers send it: `scheme://host[:port]`, lowercase, no path and no trailing
/// slash. `None` for anything else.
pub fn normalise_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"))?;
    let valid = !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !rest.starts_with(':');
    valid.then_some(origin)
}

/// Whether a browser on `origin` (its `Origin` header) may use the inbox's visitor endpoints.
pub fn allows(settings: &WidgetSettings, origin: &str) -> bool {
    let Some(origin) = normalise_origin(origin) else { return false };
    settings.allowed_origins.iter().filter_map(|o| normalise_origin(o)).any(|allowed| allowed == origin)
}

/// The `<script>` tag a team pastes into its site, given the server's public base URL.
pub fn snippet(base_url: &str, inbox_id: Id) -> String {
    format!("<script src=\"{}/widget/{inbox_id}.js\" async></script>", base_url.trim_end_matches('/'))
}

/// What an admin reads back: the origins, greeting and colour, and the script's path.
pub fn info(inbox_id: Id, settings: &WidgetSettings) -> ConnectorInfo {
    ConnectorInfo {
        kind: "widget".into(),
        simulated: false,
        webhook_path: None,
        details: serde_json::json!({
            "allowed_origins": settings.allowed_origins,
            "greeting": settings.greeting,
            "color": color(settings),
            "script_path": format!("/widget/{inbox_id}.js"),
        }),
    }
}

#[async_trait]
impl Connector for WidgetConnector {
    fn kind(&self) -> &'static str {
        "widget"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    /// The message is stored already: sending it is making it the visitor's to read. Statuses
    /// name it by our own id.
    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        if outgoing.template.is_some() {
            return Err(SendError::rejected("the website widget has no templates"));
        }
        Ok(Sent { provider_ids: vec![outgoing.message.id.to_string()] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(origins: &[&str]) -> WidgetSettings {
        WidgetSettings {
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            greeting: String::new(),
            color: None,
        }
    }

    #[test]
    fn only_the_listed_origins_are_allowed_as_browsers_spell_them() {
        let settings = settings(&["https://shop.example.com/", "http://127.0.0.1:8080"]);
        assert!(allows(&settings, "https://shop.example.com"));
        assert!(allows(&settings, "HTTPS://Shop.Example.com"));
        assert!(allows(&settings, "http://127.0.0.1:8080"));
        assert!(!allows(&settings, "http://shop.example.com"), "another scheme is another origin");
        assert!(!allows(&settings, "https://shop.example.com.evil.test"));
        assert!(!allows(&settings, "http://127.0.0.1:8081"));
        assert!(!allows(&settings, "null"), "a sandboxed frame's opaque origin");
    }

    #[test]
    fn origins_and_colours_are_checked() {
        assert_eq!(normalise_origin("https://a.example/"), Some("https://a.example".into()));
        assert_eq!(normalise_origin("https://a.example/path"), None);
        assert_eq!(normalise_origin("ftp://a.example"), None);
        assert_eq!(normalise_origin("*"), None);
        assert!(valid_color("#12abEF"));
        assert!(!valid_color("red") && !valid_color("#12345") && !valid_color("#12345g"));
    }
}
