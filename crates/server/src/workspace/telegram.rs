//! Telegram inboxes that long-poll (`getUpdates`) rather than take a webhook: which they are, the
//! lease that lets one node at a time poll each (as the IMAP workers' lease, `email.rs`), and
//! where each is in its bot's updates (the `offset`). The poller is `connectors/telegram_poll.rs`.
//!
//! The offset is kept per bot (the token's numeric id before `:`): a new bot on the inbox starts
//! from its own first update rather than one the old bot's ids would skip. It only moves forward,
//! and is written after the messages of the updates it confirms are stored: a crash in between
//! makes Telegram send those updates again, and each message is dropped as a repeat of its provider
//! id (`<chat_id>:<message_id>`), so none is lost and none doubled.
//!
//! Webhook inboxes: the save registers the callback (`setWebhook`) and remembers which URL it
//! registered; leaving the webhook (the connector removed, polling, another bot) deletes it
//! (`deleteWebhook`), a Bot API that can't be reached noted in the audit trail, never blocking.

use switchboard_proto::*;

use super::{
    audit::{self, Who},
    deliveries::connector_settings,
    email::{claim_lease, release_lease},
    Workspace,
};
use crate::{
    connectors::{self, telegram::TelegramConnector, ConnectorSettings},
    refusal::{Outcome, Refusal},
    store::{StoreRead, StoreReadExt, StoreTx},
};

const POLLER: &str = "telegram:poller";
/// The callback URL this server last registered for the inbox with `setWebhook` (`{"url": …}`),
/// shown to admins with the connector; gone once the inbox's connector leaves the webhook.
const REGISTERED: &str = "telegram:webhook";

/// Remembers the callback registered for `inbox` by `setWebhook` (or, with `None`, that none is).
pub(super) fn remember_webhook(tx: &mut dyn StoreTx, inbox: Id, url: Option<&str>) -> Outcome<()> {
    Ok(tx.set_email_state(inbox, REGISTERED, url.map(|url| serde_json::json!({ "url": url })).as_ref())?)
}

/// The callback this server registered for `inbox` with Telegram, if it did.
pub(super) fn registered_webhook(store: &(impl StoreRead + ?Sized), inbox: Id) -> Outcome<Option<String>> {
    Ok(store.email_state(inbox, REGISTERED)?.and_then(|v| v["url"].as_str().map(str::to_owned)))
}

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
    /// webhook, `connectors/telegram_poll.rs`), have nothing to register. Answers the URL
    /// registered, for the save to remember ([`remember_webhook`]).
    pub(super) async fn register_telegram_webhook(
        &self,
        inbox_id: Id,
        channel: Option<Channel>,
        connector: Option<&ConnectorSettings>,
        base: &str,
    ) -> Outcome<Option<String>> {
        let Some(ConnectorSettings::Telegram(new)) = connector else { return Ok(None) };
        if new.mode != TelegramMode::Webhook {
            return Ok(None);
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
        let ConnectorSettings::Telegram(settings) = settings else { return Ok(None) };
        let url = webhook_url(base, inbox_id);
        TelegramConnector::new(settings, connectors::http_client()).set_webhook(&url).await.map_err(
            |why| {
                Refusal::validation(format!(
                    "Telegram did not take the webhook {url} (setWebhook): {why}. Nothing was saved: \
                 Telegram needs an https address it can reach (start the server with --public-url), \
                 or choose polling"
                ))
            },
        )?;
        Ok(Some(url))
    }

    /// Once an inbox's connector has changed from `before` to `after` (both as stored): if it left
    /// a bot's webhook (the connector removed, switched to polling or to another bot or kind),
    /// `deleteWebhook` on that bot, so Telegram stops POSTing updates nobody takes. The change is
    /// saved already and stays: a Bot API that can't be reached or refuses is logged and written
    /// to the audit trail (`inbox.telegram_webhook_not_deleted`, with Telegram's reason), for the
    /// admin to delete it by hand. Answers that reason, if it failed.
    pub(super) async fn leave_telegram_webhook(
        &self,
        who: &Who,
        inbox: &Inbox,
        before: Option<ConnectorSettings>,
        after: Option<&ConnectorSettings>,
    ) -> Option<String> {
        let Some(ConnectorSettings::Telegram(old)) = before else { return None };
        if old.mode != TelegramMode::Webhook {
            return None;
        }
        if let Some(ConnectorSettings::Telegram(new)) = after {
            // Still this bot's webhook: registered again by the save.
            if new.mode == TelegramMode::Webhook && new.bot_token == old.bot_token {
                return None;
            }
        }
        let why = match TelegramConnector::new(old, connectors::http_client()).delete_webhook().await {
            Ok(()) => return None,
            Err(why) => why,
        };
        let reason = format!(
            "Telegram's deleteWebhook failed ({why}): the bot may still send this server updates; \
             delete its webhook by hand (deleteWebhook) or save the inbox again"
        );
        tracing::warn!(inbox = %inbox.id, %why, "the Telegram webhook the inbox left was not deleted");
        let (who, id, name, detail) = (who.clone(), inbox.id, inbox.name.clone(), reason.clone());
        let recorded = self
            .write(move |tx| {
                audit::record(
                    tx,
                    &who,
                    audit::Record {
                        action: "inbox.telegram_webhook_not_deleted",
                        target_type: "inbox",
                        target_id: Some(id),
                        target_label: &name,
                        before: None,
                        after: Some(serde_json::json!({ "reason": detail })),
                    },
                )
            })
            .await;
        if let Err(error) = recorded {
            tracing::warn!(inbox = %inbox.id, message = %error.message, "recording the failed deleteWebhook failed");
        }
        Some(reason)
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
