//! Inboxes' connectors in the domain: their settings (secrets included) kept server-side, beside
//! the inbox and never in the feed; what an admin may read of them; and what an inbound webhook
//! request parsed by a connector (`crate::connectors`) needs stored: a file refused by the
//! channel's limits becomes an activity line. Delivery statuses are `deliveries.rs`.

use switchboard_proto::*;

use super::{
    conversations::activity, deliveries::connector_settings, directory::inbox_secret, Viewer, Workspace,
};
use crate::{
    connectors::{self, ConnectorSettings},
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreReadExt, StoreTx, StoreTxExt},
};

/// Checks `settings` for the inbox's channel.
pub(super) fn check(channel: Channel, settings: &ConnectorSettings) -> Outcome<()> {
    match settings {
        ConnectorSettings::Api { webhook_url } => policy::check_webhook_url(webhook_url),
        ConnectorSettings::Whatsapp(whatsapp) => {
            if channel != Channel::Whatsapp {
                return Err(Refusal::validation("a whatsapp connector needs a whatsapp inbox"));
            }
            for (name, value) in [
                ("phone_number_id", &whatsapp.phone_number_id),
                ("access_token", &whatsapp.access_token),
                ("app_secret", &whatsapp.app_secret),
                ("verify_token", &whatsapp.verify_token),
            ] {
                if value.trim().is_empty() {
                    return Err(Refusal::validation(format!("connector.{name} is required")));
                }
            }
            if let Some(url) = &whatsapp.graph_base_url {
                policy::check_webhook_url(url)
                    .map_err(|_| Refusal::validation("connector.graph_base_url must be an http(s) URL"))?;
            }
            Ok(())
        }
        ConnectorSettings::Simulator => Ok(()),
        ConnectorSettings::Widget(widget) => check_widget(channel, widget),
        ConnectorSettings::Email(email) => super::email::check(channel, email),
        ConnectorSettings::Messenger(meta) => check_meta(channel, Channel::Facebook, "messenger", meta),
        ConnectorSettings::Instagram(meta) => check_meta(channel, Channel::Instagram, "instagram", meta),
        ConnectorSettings::Telegram(telegram) => {
            if channel != Channel::Telegram {
                return Err(Refusal::validation("a telegram connector needs a telegram inbox"));
            }
            if telegram.bot_token.trim().is_empty() {
                return Err(Refusal::validation("connector.bot_token is required"));
            }
            // Polling needs no webhook secret; one given must still be one Telegram accepts.
            let none_needed = telegram.mode == TelegramMode::Polling && telegram.webhook_secret.is_empty();
            if !(none_needed || connectors::telegram::valid_secret(&telegram.webhook_secret)) {
                return Err(Refusal::validation(
                    "connector.webhook_secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
                ));
            }
            if let Some(url) = &telegram.api_base_url {
                policy::check_webhook_url(url)
                    .map_err(|_| Refusal::validation("connector.api_base_url must be an http(s) URL"))?;
            }
            Ok(())
        }
    }
}

/// The website widget: on a web chat inbox, at least one origin, each a browser's origin; a
/// greeting of a sensible length; a `#rrggbb` colour.
fn check_widget(channel: Channel, widget: &WidgetSettings) -> Outcome<()> {
    use connectors::widget;
    if channel != Channel::Webchat {
        return Err(Refusal::validation("a widget connector needs a webchat inbox"));
    }
    if widget.allowed_origins.is_empty() {
        return Err(Refusal::validation(
            "connector.allowed_origins needs the site that embeds the widget (https://example.com)",
        ));
    }
    for origin in &widget.allowed_origins {
        if widget::normalise_origin(origin).is_none() {
            return Err(Refusal::validation(format!(
                "connector.allowed_origins: {origin:?} is not an origin like https://example.com"
            )));
        }
    }
    if widget.greeting.chars().count() > widget::MAX_GREETING_CHARS {
        return Err(Refusal::validation(format!(
            "connector.greeting may be at most {} characters",
            widget::MAX_GREETING_CHARS
        )));
    }
    if let Some(color) = widget.color.as_deref().filter(|c| !c.is_empty()) {
        if !widget::valid_color(color) {
            return Err(Refusal::validation("connector.color must be #rrggbb"));
        }
    }
    Ok(())
}

/// A Messenger or Instagram connector: on its own channel, every credential given.
fn check_meta(channel: Channel, wanted: Channel, kind: &str, meta: &MetaSettings) -> Outcome<()> {
    if channel != wanted {
        return Err(Refusal::validation(format!("a {kind} connector needs a {} inbox", wanted.as_str())));
    }
    for (name, value) in [
        ("account_id", &meta.account_id),
        ("access_token", &meta.access_token),
        ("app_secret", &meta.app_secret),
        ("verify_token", &meta.verify_token),
    ] {
        if value.trim().is_empty() {
            return Err(Refusal::validation(format!("connector.{name} is required")));
        }
    }
    if let Some(url) = &meta.graph_base_url {
        policy::check_webhook_url(url)
            .map_err(|_| Refusal::validation("connector.graph_base_url must be an http(s) URL"))?;
    }
    Ok(())
}

/// How long after the customer's last message a person may reply on this inbox: the channel's
/// window, or 7 days on a Messenger or Instagram inbox that enables the `HUMAN_AGENT` tag.
pub(super) fn person_reply_window_ms(store: &dyn StoreTx, inbox_id: Id) -> Outcome<Millis> {
    Ok(match connector_settings(store, inbox_id)? {
        Some(ConnectorSettings::Messenger(meta) | ConnectorSettings::Instagram(meta)) => {
            connectors::meta::reply_window_ms(&meta)
        }
        _ => REPLY_WINDOW_MS,
    })
}

/// What the app is told of replies on an inbox with these connector settings (the inbox entity's
/// `reply_rules`), matching what the server enforces: the channel's 24-hour window
/// (`rules::reply_text_within`), a person's longer window where the connector has one
/// ([`person_reply_window_ms`]: `HUMAN_AGENT`), and templates only where the connector reports it
/// sends them (`Capabilities::templates`: WhatsApp yes, Messenger and Instagram no) and the
/// channel has them (`rules::channel_has_templates`: not Meta's, even simulated).
pub(super) fn reply_rules(channel: Channel, settings: Option<&ConnectorSettings>) -> Option<ReplyRules> {
    let settings = settings?;
    let window = channel.has_reply_window().then_some(REPLY_WINDOW_MS);
    let person = match settings {
        ConnectorSettings::Messenger(meta) | ConnectorSettings::Instagram(meta) => {
            connectors::meta::reply_window_ms(meta)
        }
        _ => REPLY_WINDOW_MS,
    };
    Some(ReplyRules {
        window_ms: window,
        person_window_ms: window.map(|_| person),
        templates: connectors::capabilities(settings).templates
            && crate::rules::channel_has_templates(channel),
    })
}

/// Secrets are write-only: an admin editing a connector of the same kind sends a secret field
/// blank to keep the stored one (the app never has it to send back).
pub fn keep_secrets(new: ConnectorSettings, stored: Option<ConnectorSettings>) -> ConnectorSettings {
    fn keep(field: &mut String, stored: String) {
        if field.trim().is_empty() {
            *field = stored;
        }
    }
    match (new, stored) {
        (ConnectorSettings::Whatsapp(mut new), Some(ConnectorSettings::Whatsapp(stored))) => {
            keep(&mut new.access_token, stored.access_token);
            keep(&mut new.app_secret, stored.app_secret);
            keep(&mut new.verify_token, stored.verify_token);
            ConnectorSettings::Whatsapp(new)
        }
        (ConnectorSettings::Telegram(mut new), Some(ConnectorSettings::Telegram(stored))) => {
            keep(&mut new.bot_token, stored.bot_token);
            keep(&mut new.webhook_secret, stored.webhook_secret);
            ConnectorSettings::Telegram(new)
        }
        (ConnectorSettings::Messenger(new), Some(ConnectorSettings::Messenger(stored))) => {
            ConnectorSettings::Messenger(keep_meta(new, stored))
        }
        (ConnectorSettings::Instagram(new), Some(ConnectorSettings::Instagram(stored))) => {
            ConnectorSettings::Instagram(keep_meta(new, stored))
        }
        (ConnectorSettings::Email(mut new), Some(ConnectorSettings::Email(stored))) => {
            keep(&mut new.password, stored.password);
            ConnectorSettings::Email(new)
        }
        (new, _) => new,
    }
}

fn keep_meta(mut new: MetaSettings, stored: MetaSettings) -> MetaSettings {
    for (field, stored) in [
        (&mut new.access_token, stored.access_token),
        (&mut new.app_secret, stored.app_secret),
        (&mut new.verify_token, stored.verify_token),
    ] {
        if field.trim().is_empty() {
            *field = stored;
        }
    }
    new
}

/// Replaces (or removes) the inbox's connector settings.
pub(super) fn set(tx: &mut dyn StoreTx, inbox: &Inbox, settings: Option<&ConnectorSettings>) -> Outcome<()> {
    match settings {
        Some(settings) => {
            let stored = connector_settings(&*tx, inbox.id)?;
            let settings = keep_secrets(settings.clone(), stored);
            check(inbox.channel, &settings)?;
            tx.set_connector_settings(inbox.id, Some(&serde_json::to_value(&settings)?))?;
        }
        None => tx.set_connector_settings(inbox.id, None)?,
    }
    Ok(())
}

impl Workspace {
    /// The inbox, its signing secret and its connector settings: for the channel endpoints, never
    /// for agents.
    pub async fn inbox_connector(&self, inbox_id: Id) -> Outcome<(Inbox, String, Option<ConnectorSettings>)> {
        self.read(move |store| {
            let (inbox, secret) = inbox_secret(store, inbox_id)?;
            let settings = connector_settings(store, inbox_id)?;
            Ok((inbox, secret, settings))
        })
        .await
    }

    /// Brings every inbox's `reply_rules` to what [`reply_rules`] says of its stored connector now,
    /// writing (as an ordinary upsert on the feed, so desktops learn it) each inbox whose stored
    /// rules differ: one stored before the field existed, or one whose connector's capabilities
    /// changed with a new version. `launch` runs it before serving; answers how many changed. The
    /// rules stay derived by that one function, on a connector's save and here alike. An inbox on
    /// a channel without templates (Messenger, Instagram) stored with some, before they were
    /// refused there (`directory.rs::check_templates`), loses them, so no listing offers them.
    pub async fn refresh_reply_rules(&self) -> Outcome<usize> {
        self.write(|tx| {
            let mut changed = 0;
            for mut inbox in tx.all::<Inbox>()? {
                let rules = reply_rules(inbox.channel, connector_settings(&*tx, inbox.id)?.as_ref());
                let stray =
                    !inbox.templates.is_empty() && !crate::rules::channel_has_templates(inbox.channel);
                if inbox.reply_rules != rules || stray {
                    if stray {
                        inbox.templates.clear();
                    }
                    inbox.reply_rules = rules;
                    tx.put(&inbox, Audience::EVERYONE)?;
                    changed += 1;
                }
            }
            Ok(changed)
        })
        .await
    }

    /// What an admin may read of an inbox's connector: its kind, whether it is simulated, the
    /// callback to register, and its settings without secrets; on a Telegram webhook inbox, the
    /// callback the server registered itself (`details.registered_webhook_url`).
    pub async fn connector_info(&self, viewer: &Viewer, inbox_id: Id) -> Outcome<ConnectorInfo> {
        policy::require_admin(viewer)?;
        self.read(move |store| {
            store.get::<Inbox>(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
            let settings = connector_settings(store, inbox_id)?;
            let mut info = connectors::info(inbox_id, settings.as_ref());
            if let Some(ConnectorSettings::Telegram(telegram)) = &settings {
                let registered = super::telegram::registered_webhook(store, inbox_id)?;
                if let (TelegramMode::Webhook, Some(url)) = (telegram.mode, registered) {
                    info.details["registered_webhook_url"] = serde_json::json!(url);
                }
            }
            Ok(info)
        })
        .await
    }

    /// An admin's "test connection": the inbox's stored settings tried against the provider.
    /// A provider down or refusing is `ok: false` with why, never an error.
    pub async fn test_connector(&self, viewer: &Viewer, inbox_id: Id) -> Outcome<ConnectorTest> {
        policy::require_admin(viewer)?;
        let settings = self
            .read(move |store| {
                store.get::<Inbox>(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
                connector_settings(store, inbox_id)
            })
            .await?;
        Ok(connectors::probe::test(settings.as_ref(), &connectors::http_client()).await)
    }

    /// Whether a customer message with this provider id is stored already (so a repeated webhook
    /// fetches no media again).
    pub async fn inbound_known(&self, inbox_id: Id, external_id: String) -> Outcome<bool> {
        self.read(move |store| Ok(store.inbound_seen(inbox_id, external_id.trim())?.is_some())).await
    }

    /// An activity line in the conversation, written by the server (a file the channel's limits
    /// refused, say).
    pub async fn channel_activity(&self, inbox_id: Id, conversation_id: Id, text: String) -> Outcome<()> {
        self.write(move |tx| activity(tx, inbox_id, conversation_id, Sender::System, text).map(|_| ())).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use switchboard_proto::*;

    use crate::{
        clock::ManualClock,
        store::{Audience, StoreReadExt, StoreTxExt},
        ServerConfig,
    };

    #[tokio::test]
    async fn templates_stored_on_a_meta_inbox_are_dropped_at_start_and_refused_after() {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::default());
        clock.set(1_000_000);
        let workspace =
            crate::open_workspace_with_clock(&ServerConfig::new(data_dir.path()), clock).expect("open");
        let admin = crate::workspace::first_test_admin(&workspace).await;
        let template = json!({"name": "follow_up", "language": "en", "body": "Hi {{1}}, any news?"});
        let mut ids = Vec::new();
        for channel in ["facebook", "instagram", "whatsapp"] {
            let request = json!({"name": channel, "channel": channel});
            let created = workspace
                .create_inbox(&admin, serde_json::from_value(request).expect("request"))
                .await
                .expect("inbox");
            ids.push(created.inbox.id);
        }
        // As a version that took templates on any channel stored them.
        let stored: MessageTemplate = serde_json::from_value(template.clone()).expect("template");
        let written = ids.clone();
        workspace
            .write(move |tx| {
                for id in written {
                    let mut inbox: Inbox = tx.get(id)?.expect("inbox");
                    inbox.templates = vec![stored.clone()];
                    tx.put(&inbox, Audience::EVERYONE)?;
                }
                Ok(())
            })
            .await
            .expect("old templates");

        assert_eq!(workspace.refresh_reply_rules().await.expect("refresh"), 2, "the two Meta inboxes");
        let read = ids.clone();
        let inboxes: Vec<Inbox> = workspace
            .read(move |store| read.iter().map(|id| Ok(store.get::<Inbox>(*id)?.expect("inbox"))).collect())
            .await
            .expect("read");
        let counts: Vec<usize> = inboxes.iter().map(|inbox| inbox.templates.len()).collect();
        assert_eq!(counts, [0, 0, 1], "Messenger and Instagram list none; WhatsApp keeps its own");
        assert_eq!(workspace.refresh_reply_rules().await.expect("refresh"), 0, "nothing left to change");

        for (id, name) in [(ids[0], "Messenger"), (ids[1], "Instagram")] {
            let update = serde_json::from_value(json!({"templates": [template.clone()]})).expect("update");
            let refusal = workspace.update_inbox(&admin, id, update).await.expect_err("refused");
            assert_eq!(refusal.code, ErrorCode::Validation);
            assert!(
                refusal.message.starts_with(&format!("{name} has no message templates")),
                "{}",
                refusal.message
            );
        }
        let update = serde_json::from_value(json!({"templates": []})).expect("update");
        workspace.update_inbox(&admin, ids[0], update).await.expect("an empty list is what is true");
    }
}
