//! Telegram inboxes that long-poll (`getUpdates`) rather than take a webhook: which they are, the
//! lease that lets one node at a time poll each (as the IMAP workers' lease, `email.rs`), and
//! where each is in its bot's updates (the `offset`). The poller is `connectors/telegram_poll.rs`.
//!
//! The offset is kept per bot (the token's numeric id before `:`): a new bot on the inbox starts
//! from its own first update rather than one the old bot's ids would skip. It only moves forward,
//! and is written after the messages of the updates it confirms are stored: a crash in between
//! makes Telegram send those updates again, and each message is dropped as a repeat of its provider
//! id (`<chat_id>:<message_id>`), so none is lost and none doubled.

use switchboard_proto::*;

use super::{
    deliveries::connector_settings,
    email::{claim_lease, release_lease},
    Workspace,
};
use crate::{
    connectors::{self, telegram::TelegramConnector, ConnectorSettings},
    refusal::{Outcome, Refusal},
    store::{StoreRead, StoreReadExt},
};

const POLLER: &str = "telegram:poller";

fn offset_key(settings: &TelegramSettings) -> String {
    let bot = settings.bot_token.split(':').next().unwrap_or_default();
    format!("telegram:offset:{bot}")
}

fn stored_offset(
    store: &(impl StoreRead + ?Sized),
    inbox: Id,
    settings: &TelegramSettings,
) -> Outcome<Option<i64>> {
    Ok(store.email_state(inbox, &offset_key(settings))?.and_then(|v| v.as_i64()))
}

/// Where Telegram is to POST an inbox's updates, under the server's public address `base`.
pub fn webhook_url(base: &str, inbox_id: Id) -> String {
    format!("{}/api/v1/channels/{inbox_id}/webhook", base.trim_end_matches('/'))
}

impl Workspace {
    /// Before a Telegram connector in webhook mode is saved on `inbox_id` (a new inbox's id, with
    /// its `channel`, or one being edited): registers the inbox's callback under `base` with
    /// `setWebhook` and the connector's `secret_token`, so the admin pastes nothing anywhere.
    /// Telegram refusing it (or not answering) refuses the save with Telegram's description,
    /// before anything is stored. Other connectors, and polling (whose poller deletes the
    /// webhook, `connectors/telegram_poll.rs`), have nothing to register.
    pub(super) async fn register_telegram_webhook(
        &self,
        inbox_id: Id,
        channel: Option<Channel>,
        connector: Option<&ConnectorSettings>,
        base: &str,
    ) -> Outcome<()> {
        let Some(ConnectorSettings::Telegram(new)) = connector else { return Ok(()) };
        if new.mode != TelegramMode::Webhook {
            return Ok(());
        }
        let (channel, stored) = self
            .read(move |store| {
                let channel = match channel {
                    Some(channel) => channel,
                    None => store.get::<Inbox>(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?.channel,
                };
                Ok((channel, connector_settings(store, inbox_id)?))
            })
            .await?;
        // What will be stored: a secret left blank keeps the stored one.
        let settings = super::connectors::keep_secrets(ConnectorSettings::Telegram(new.clone()), stored);
        super::connectors::check(channel, &settings)?;
        let ConnectorSettings::Telegram(settings) = settings else { return Ok(()) };
        let url = webhook_url(base, inbox_id);
        TelegramConnector::new(settings, connectors::http_client()).set_webhook(&url).await.map_err(|why| {
            Refusal::validation(format!(
                "Telegram did not take the webhook {url} (setWebhook): {why}. Nothing was saved: \
                 Telegram needs an https address it can reach (start the server with --public-url), \
                 or choose polling"
            ))
        })
    }

    /// Every Telegram inbox set to long polling, with its settings (the token included): for the
    /// server's own poller.
    pub async fn telegram_polling_inboxes(&self) -> Outcome<Vec<(Id, TelegramSettings)>> {
        self.read(move |store| {
            let mut out = Vec::new();
            for inbox in store.all::<Inbox>()? {
                if inbox.channel != Channel::Telegram {
                    continue;
                }
                if let Ok(Some(ConnectorSettings::Telegram(settings))) = connector_settings(store, inbox.id) {
                    if settings.mode == TelegramMode::Polling {
                        out.push((inbox.id, settings));
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// Claims or renews, for `lease_ms`, the right to poll `inbox`'s bot from this node: false
    /// while another node holds it.
    pub async fn claim_telegram_poller(&self, inbox: Id, lease_ms: Millis) -> Outcome<bool> {
        let node = self.node.to_string();
        self.write(move |tx| claim_lease(tx, inbox, POLLER, node, lease_ms)).await
    }

    /// Gives up this node's lease on polling `inbox` (another node may take it at once).
    pub async fn release_telegram_poller(&self, inbox: Id) -> Outcome<()> {
        let node = self.node.to_string();
        self.write(move |tx| release_lease(tx, inbox, POLLER, &node)).await
    }

    /// The `offset` of the next `getUpdates` for `inbox`'s bot (`None`: none confirmed yet).
    pub async fn telegram_offset(&self, inbox: Id, settings: TelegramSettings) -> Outcome<Option<i64>> {
        self.read(move |store| stored_offset(store, inbox, &settings)).await
    }

    /// Stores `offset` once the messages of the updates below it are stored; never moves it back.
    pub async fn set_telegram_offset(
        &self,
        inbox: Id,
        settings: TelegramSettings,
        offset: i64,
    ) -> Outcome<()> {
        self.write(move |tx| {
            if stored_offset(tx, inbox, &settings)?.is_some_and(|stored| stored >= offset) {
                return Ok(());
            }
            Ok(tx.set_email_state(inbox, &offset_key(&settings), Some(&serde_json::json!(offset)))?)
        })
        .await
    }
}
