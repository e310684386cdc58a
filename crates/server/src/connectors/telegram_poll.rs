//! Telegram long polling (`getUpdates`), for an inbox whose server Telegram cannot reach (behind
//! NAT: many small teams run one). Every `rescan` each node reads the Telegram inboxes set to
//! `polling`, claims or renews each one's poller lease (`workspace/telegram.rs`, on the server's
//! clock, the same lease the IMAP workers take) and runs a poller for those it holds, so one node
//! at a time polls each bot (Telegram itself answers two concurrent `getUpdates` with a 409). A
//! poller stops when its inbox is switched to the webhook, deleted or changed (a changed one starts
//! again with its new settings), or when its node loses the lease.
//!
//! A poller first deletes the bot's webhook (`getUpdates` fails while one is set), then asks for
//! the updates after its stored offset, waiting up to `timeout_secs` for one; stores them through
//! the same path as the webhook (`connectors/inbound.rs`: deduplication and media alike), and only
//! then stores the new offset (why nothing is lost or doubled: `workspace/telegram.rs`). A 429
//! waits its `retry_after` on the server's clock; any other failure backs off, doubling from
//! `backoff_ms` to `max_backoff_ms`.

use std::{collections::HashMap, time::Duration};

use switchboard_proto::{Id, Millis, TelegramSettings};
use tokio_util::sync::CancellationToken;

use super::{
    inbound::{store_inbound, StoreInboundError},
    telegram::{PollError, TelegramConnector},
};
use crate::{files::FileStore, workspace::Workspace};

#[derive(Debug, Clone)]
pub struct TelegramPollConfig {
    /// How often the polling inboxes are read again and their leases renewed; the lease lasts
    /// three of these.
    pub rescan: Duration,
    /// `getUpdates`' `timeout`: how long Telegram holds a poll open while there is nothing new.
    pub timeout_secs: u64,
    /// The pause after an empty answer that came back before its timeout (a local Bot API server
    /// or a proxy that does not hold the poll), so the poller never spins.
    pub idle: Duration,
    /// How often a waiting poller looks at the server's clock (its waits are on that clock).
    pub tick: Duration,
    /// The first wait after a failure; it doubles up to `max_backoff_ms`.
    pub backoff_ms: Millis,
    pub max_backoff_ms: Millis,
}

impl Default for TelegramPollConfig {
    fn default() -> Self {
        TelegramPollConfig {
            rescan: Duration::from_secs(10),
            timeout_secs: 30,
            idle: Duration::from_secs(1),
            tick: Duration::from_millis(500),
            backoff_ms: 1_000,
            max_backoff_ms: 60_000,
        }
    }
}

/// Runs this node's Telegram pollers until `shutdown` (see the module's doc).
pub async fn run(
    workspace: Workspace,
    files: FileStore,
    config: TelegramPollConfig,
    shutdown: CancellationToken,
) {
    let lease_ms = i64::try_from(config.rescan.as_millis().saturating_mul(3)).unwrap_or(i64::MAX).max(1000);
    let mut pollers: HashMap<Id, (TelegramSettings, CancellationToken)> = HashMap::new();
    loop {
        match workspace.telegram_polling_inboxes().await {
            Ok(inboxes) => {
                let current: HashMap<Id, TelegramSettings> = inboxes.into_iter().collect();
                pollers.retain(|inbox, (settings, stop)| {
                    let keep = current.get(inbox) == Some(settings);
                    if !keep {
                        tracing::info!(%inbox, "Telegram inbox switched, changed or deleted: its poller stops");
                        stop.cancel();
                    }
                    keep
                });
                for (inbox, settings) in current {
                    let held = match workspace.claim_telegram_poller(inbox, lease_ms).await {
                        Ok(held) => held,
                        Err(error) => {
                            tracing::warn!(%inbox, message = %error.message, "claiming a Telegram poller failed");
                            false
                        }
                    };
                    if !held {
                        if let Some((_, stop)) = pollers.remove(&inbox) {
                            tracing::info!(%inbox, "another node polls this Telegram inbox now");
                            stop.cancel();
                        }
                        continue;
                    }
                    if pollers.contains_key(&inbox) {
                        continue;
                    }
                    let stop = shutdown.child_token();
                    let poller = Poller {
                        workspace: workspace.clone(),
                        files: files.clone(),
                        inbox,
                        settings: settings.clone(),
                        config: config.clone(),
                    };
                    tokio::spawn(poller.run(stop.clone()));
                    pollers.insert(inbox, (settings, stop));
                }
            }
            Err(error) => tracing::warn!(message = %error.message, "listing Telegram inboxes failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => {
                // Another node may take these over at once rather than when the leases run out.
                for inbox in pollers.keys() {
                    let _ = workspace.release_telegram_poller(*inbox).await;
                }
                return;
            }
            _ = tokio::time::sleep(config.rescan) => {}
        }
    }
}

struct Poller {
    workspace: Workspace,
    files: FileStore,
    inbox: Id,
    settings: TelegramSettings,
    config: TelegramPollConfig,
}

impl Poller {
    async fn run(self, stop: CancellationToken) {
        let connector = TelegramConnector::new(self.settings.clone(), super::http_client());
        let inbox = self.inbox;
        let mut failures: u32 = 0;
        let mut webhook_deleted = false;
        // When the next call may be made, on the server's clock.
        let mut next_at = self.workspace.now();
        loop {
            if !self.wait_until(next_at, &stop).await {
                return;
            }
            let outcome = if webhook_deleted {
                self.poll_once(&connector, &stop).await
            } else {
                connector.delete_webhook().await.map(|()| {
                    webhook_deleted = true;
                    tracing::info!(%inbox, "Telegram webhook deleted: long polling");
                    Polled::Delay(Duration::ZERO)
                })
            };
            next_at = self.workspace.now();
            match outcome {
                Ok(Polled::Delay(pause)) => {
                    failures = 0;
                    if !pause.is_zero() {
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(pause) => {}
                        }
                    }
                }
                Ok(Polled::Stopped) => return,
                Err(PollError::Throttled { retry_after_ms }) => {
                    tracing::info!(%inbox, retry_after_ms, "Telegram throttled getUpdates");
                    next_at += retry_after_ms;
                }
                Err(error) => {
                    if matches!(error, PollError::WebhookActive(_)) {
                        webhook_deleted = false;
                    }
                    let wait = (self.config.backoff_ms << failures.min(20)).min(self.config.max_backoff_ms);
                    failures = failures.saturating_add(1);
                    tracing::warn!(%inbox, %error, wait_ms = wait, "Telegram polling failed; backing off");
                    next_at += wait;
                }
            }
        }
    }

    /// One `getUpdates` and the storing of what it brought; then the offset.
    async fn poll_once(
        &self,
        connector: &TelegramConnector,
        stop: &CancellationToken,
    ) -> Result<Polled, PollError> {
        let offset = self
            .workspace
            .telegram_offset(self.inbox, self.settings.clone())
            .await
            .map_err(|e| PollError::Other(format!("reading the offset: {}", e.message)))?;
        let started = std::time::Instant::now();
        let polled = tokio::select! {
            _ = stop.cancelled() => return Ok(Polled::Stopped),
            polled = connector.get_updates(offset, self.config.timeout_secs) => polled?,
        };
        let empty = polled.next_offset.is_none();
        store_inbound(&self.workspace, &self.files, self.inbox, connector, polled.inbound).await.map_err(
            |error| match error {
                StoreInboundError::Unavailable(why) => PollError::Other(why),
                StoreInboundError::Refused(refusal) => PollError::Other(refusal.message),
            },
        )?;
        if let Some(next) = polled.next_offset {
            self.workspace
                .set_telegram_offset(self.inbox, self.settings.clone(), next)
                .await
                .map_err(|e| PollError::Other(format!("storing the offset: {}", e.message)))?;
        }
        let early = started.elapsed() < Duration::from_secs(self.config.timeout_secs.max(1));
        Ok(Polled::Delay(if empty && early { self.config.idle } else { Duration::ZERO }))
    }

    /// Waits until the server's clock reaches `at`; false if stopped first.
    async fn wait_until(&self, at: Millis, stop: &CancellationToken) -> bool {
        while self.workspace.now() < at {
            tokio::select! {
                _ = stop.cancelled() => return false,
                _ = tokio::time::sleep(self.config.tick) => {}
            }
        }
        !stop.is_cancelled()
    }
}

/// What a successful turn asks of the loop.
enum Polled {
    /// Ask again after this real-time pause (zero: at once).
    Delay(Duration),
    Stopped,
}
