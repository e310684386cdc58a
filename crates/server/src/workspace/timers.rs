//! Durable timers: work due at an instant, stored with the data so it survives restarts. One loop
//! per server ([`run_timers`]) fires what is due on the injected clock; after downtime it fires
//! what fell due meanwhile, recorded at its due time. Today's timers: a snoozed conversation wakes
//! (`snooze:<id>`), a delayed greeting goes out (`greeting:<id>`, `auto_replies.rs`).

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
    /// holds up the others). Returns how many fired.
    pub async fn fire_due_timers(&self) -> Outcome<usize> {
        let due = self.read(|store| Ok(store.due_timers(store.now(), BATCH)?)).await?;
        let mut fired = 0;
        for timer in due {
            let key = timer.key.clone();
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
                Ok(true) => fired += 1,
                Ok(false) => {}
                Err(refusal) => tracing::warn!(%key, message = %refusal.message, "a timer failed to fire"),
            }
        }
        Ok(fired)
    }
}

/// Fires due timers every `poll` until `shutdown`, starting with whatever fell due while the
/// server was down. A pass that found a full batch goes on at once: a backlog (thousands of SLA
/// deadlines falling in the same minute, or a restart after downtime) drains at the store's pace,
/// not one batch per poll. Otherwise it waits for the next timer due within `poll`, if there is
/// one, rather than the whole `poll`: a timer is late by the time it takes to fire, not by up to a
/// poll more.
pub async fn run_timers(workspace: Workspace, poll: Duration, shutdown: CancellationToken) {
    loop {
        match workspace.fire_due_timers().await {
            // A full batch fired: there may be more due now. (One that failed to fire is retried
            // at the next poll, so a timer that keeps failing can't spin the loop.)
            Ok(fired) if fired >= BATCH && !shutdown.is_cancelled() => continue,
            Ok(_) => {}
            Err(refusal) => tracing::warn!(message = %refusal.message, "listing due timers failed"),
        }
        let wait = match workspace.next_timer_within(poll).await {
            // Only a timer not yet due shortens the wait: one due already has just failed (or
            // fell due this instant), and waits the poll.
            Ok(Some(wait)) => wait,
            Ok(None) => poll,
            Err(refusal) => {
                tracing::warn!(message = %refusal.message, "listing due timers failed");
                poll
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

impl Workspace {
    /// How long until the next timer falls due, if one does within `horizon` and isn't due yet.
    async fn next_timer_within(&self, horizon: Duration) -> Outcome<Option<Duration>> {
        let horizon_ms = Millis::try_from(horizon.as_millis()).unwrap_or(Millis::MAX);
        self.read(move |store| {
            let now = store.now();
            let next = store.due_timers(now.saturating_add(horizon_ms), 1)?;
            Ok(next
                .first()
                .filter(|timer| timer.due_at > now)
                .map(|timer| Duration::from_millis(u64::try_from(timer.due_at - now).unwrap_or(0))))
        })
        .await
    }
}
