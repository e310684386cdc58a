//! Durable timers: work due at an instant, stored with the data so it survives restarts. One loop
//! per server ([`run_timers`]) fires what is due on the injected clock; after downtime it fires
//! what fell due meanwhile, recorded at its due time. Today's timers: a snoozed conversation wakes
//! (`snooze:<id>`), a delayed greeting goes out (`greeting:<id>`, `auto_replies.rs`), routing takes
//! back an unanswered conversation (`noreply:<id>`) or releases an unavailable agent's
//! (`release:<agent>`, `routing.rs`), an SLA clock warns, breaches or escalates (`sla:<id>`,
//! `sla.rs`), a timed automation rule runs (`rule:<rule>:<id>`, `automation.rs`), an inbox's
//! retention pass runs (`retention:<inbox>`) and an erased file is deleted (`blob:<sha256>`,
//! `privacy.rs`), and a website visitor's expired session is deleted
//! (`widget-session:<inbox>:<hash>`, `widget.rs`).

use std::time::Duration;

use switchboard_proto::*;
use tokio_util::sync::CancellationToken;

use super::{
    conversations::activity,
    ledger::{self, Cause},
    Workspace,
};
use crate::{
    refusal::Outcome,
    rules,
    store::{StoreReadExt, StoreTx, TimerRecord},
};

/// Timers fired per pass.
const BATCH: usize = 64;

/// Fires one timer if it is still due, and removes it.
fn fire(tx: &mut dyn StoreTx, timer: &TimerRecord) -> Outcome<()> {
    tx.remove_timer(&timer.key)?;
    if let Some(conversation) = timer.key.strip_prefix("snooze:").and_then(|id| id.parse::<Id>().ok()) {
        wake(tx, conversation, timer.due_at)?;
    } else if let Some(conversation) =
        timer.key.strip_prefix("greeting:").and_then(|id| id.parse::<Id>().ok())
    {
        super::auto_replies::send_greeting(tx, conversation)?;
    } else if let Some(conversation) = timer.key.strip_prefix("noreply:").and_then(|id| id.parse::<Id>().ok())
    {
        super::routing::take_back_unanswered(tx, conversation, timer)?;
    } else if let Some(conversation) = timer.key.strip_prefix("sla:").and_then(|id| id.parse::<Id>().ok()) {
        super::sla::fire(tx, conversation, timer.due_at)?;
    } else if let Some(agent) = timer.key.strip_prefix("release:").and_then(|id| id.parse::<Id>().ok()) {
        super::routing::release_unavailable(tx, agent, timer)?;
    } else if timer.key.starts_with("rule:") {
        super::automation::fire(tx, timer)?;
    } else if let Some(inbox) =
        timer.key.strip_prefix(super::privacy::RETENTION).and_then(|id| id.parse::<Id>().ok())
    {
        super::privacy::run_retention(tx, inbox, timer)?;
    } else if timer.key.starts_with(super::widget::EXPIRY) {
        super::widget::expire_session(tx, timer)?;
    } else {
        tracing::warn!(key = %timer.key, "a timer of an unknown kind was dropped");
    }
    Ok(())
}

/// A snooze is over: the conversation is open again (unless someone changed it meanwhile).
fn wake(tx: &mut dyn StoreTx, conversation_id: Id, due_at: Millis) -> Outcome<()> {
    let Some(conversation) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    if conversation.status != ConversationStatus::Snoozed || conversation.snoozed_until != Some(due_at) {
        return Ok(());
    }
    let mut woken = conversation.clone();
    rules::apply_status(&mut woken, ConversationStatus::Open, None);
    ledger::save(tx, &conversation, &woken, &Cause::system("snooze ended", due_at))?;
    activity(
        tx,
        woken.inbox_id,
        woken.id,
        Sender::System,
        "The snooze is over: the conversation is open again".into(),
    )?;
    super::routing::route(tx, super::routing::Released::default())?;
    Ok(())
}

impl Workspace {
    /// Fires the timers due now, at most a batch, each in its own transaction (one failing never
    /// holds up the others). Returns how many fired and how many failed to.
    pub async fn fire_due_timers(&self) -> Outcome<Fired> {
        let due = self.read(|store| Ok(store.due_timers(store.now(), BATCH)?)).await?;
        let mut fired = Fired::default();
        for timer in due {
            let key = timer.key.clone();
            // An erased file: deleted from the attachment store, outside any transaction.
            if let Some(sha256) = key.strip_prefix(super::privacy::BLOB) {
                self.delete_file(sha256).await;
                fired.fired += 1;
                continue;
            }
            let result = self
                .write(move |tx| {
                    // Re-read inside the transaction: another pass may have fired or moved it.
                    match tx.timer(&timer.key)?.filter(|current| current.due_at <= tx.now()) {
                        Some(current) => fire(tx, &current).map(|()| true),
                        None => Ok(false),
                    }
                })
                .await;
            match result {
                Ok(true) => fired.fired += 1,
                Ok(false) => {}
                Err(refusal) => {
                    fired.failed += 1;
                    tracing::warn!(%key, message = %refusal.message, "a timer failed to fire");
                }
            }
        }
        Ok(fired)
    }
}

/// What one pass of the timer loop did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fired {
    pub fired: usize,
    pub failed: usize,
}

/// Fires due timers every `poll` until `shutdown`, starting with whatever fell due while the
/// server was down. A pass that found a full batch goes on at once: a backlog (thousands of SLA
/// deadlines falling in the same minute, or a restart after downtime) drains at the store's pace,
/// not one batch per poll. Otherwise it waits only until the next timer due within `poll` (not at
/// all if one fell due during the pass), so a timer is late by the time it takes to fire, not by
/// up to a poll more; after a pass in which a timer failed, it waits the whole poll.
pub async fn run_timers(workspace: Workspace, poll: Duration, shutdown: CancellationToken) {
    loop {
        let pass = workspace.fire_due_timers().await;
        let wait = match pass {
            // A full batch fired: there may be more due now.
            Ok(Fired { fired, .. }) if fired >= BATCH && !shutdown.is_cancelled() => continue,
            // One failed to fire: it is retried at the next poll, so a timer that keeps failing
            // can't spin the loop.
            Ok(Fired { failed, .. }) if failed > 0 => poll,
            Ok(_) => match workspace.next_timer_within(poll).await {
                Ok(next) => next.unwrap_or(poll),
                Err(refusal) => {
                    tracing::warn!(message = %refusal.message, "listing due timers failed");
                    poll
                }
            },
            Err(refusal) => {
                tracing::warn!(message = %refusal.message, "listing due timers failed");
                poll
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

impl Workspace {
    /// How long until the next timer falls due, if one does within `horizon` (zero: one fell due
    /// since the pass that just ended listed them).
    async fn next_timer_within(&self, horizon: Duration) -> Outcome<Option<Duration>> {
        let horizon_ms = Millis::try_from(horizon.as_millis()).unwrap_or(Millis::MAX);
        self.read(move |store| {
            let now = store.now();
            // `BATCH`, as the pass lists them: one statement, one plan (SQLite plans for the
            // bound limit and would prepare the statement again for another).
            let next = store.due_timers(now.saturating_add(horizon_ms), BATCH)?;
            Ok(next
                .first()
                .map(|timer| Duration::from_millis(u64::try_from(timer.due_at - now).unwrap_or(0))))
        })
        .await
    }
}
