//! The app lock: after the idle time the window chooses (or "Lock now"), the window shows only the
//! lock screen. The state lives here, not in the page, so a reloaded webview comes back locked;
//! while locked, notifications say only "New message" and the tray shows nothing of the inbox.
//! Unlocking checks the agent's password through `switchboard_core::lock` (the server when it
//! answers, the cache's verifier offline), with the lock screen's own limit on wrong tries.

use switchboard_core::lock::{self, Attempts};

use super::*;

/// The lock's state, shared with the engine's event sink (notifications) and the tray.
#[derive(Debug, Default)]
pub(super) struct AppLock {
    locked: bool,
    attempts: Attempts,
}

/// What a notification says while the app is locked: that something came, not what or from whom.
pub(super) fn masked(notification: &Notification) -> Notification {
    Notification { title: "Switchboard".into(), body: "New message".into(), ..notification.clone() }
}

impl AppLock {
    pub(super) fn is_locked(&self) -> bool {
        self.locked
    }

    /// Locked from the start: the account was locked when the app last ran.
    pub(super) fn relock(&mut self) {
        self.locked = true;
    }
}

impl Desktop {
    pub fn is_locked(&self) -> bool {
        lock(&self.app_lock).locked
    }

    /// Locks the app (idle time reached, or "Lock now"); only with a session open.
    pub async fn lock_app(&self) -> UiResult<()> {
        let cache = match self.session.lock().await.as_ref() {
            Some(session) => session.account.cache.clone(),
            None => return Err(not_signed_in()),
        };
        lock(&self.app_lock).locked = true;
        // Kept in the cache too, so a restart comes back locked. Locked in memory either way.
        if let Err(error) = cache.set_app_locked(true) {
            tracing::warn!(%error, "could not keep the lock across a restart");
        }
        Ok(())
    }

    /// Unlocks with the agent's password: `invalid_credentials` for a wrong one, `rate_limited`
    /// after too many (here or on the server), `offline` when the server can't be reached and no
    /// verifier is stored yet.
    pub async fn unlock_app(&self, password: &str) -> UiResult<()> {
        let now = (self.now)();
        if let Some(secs) = lock(&self.app_lock).attempts.wait(now) {
            return Err(UiError::new(
                UiErrorCode::RateLimited,
                format!("too many wrong passwords; try again in {secs} s"),
            ));
        }
        let (api, cache) = self.with(|s| Ok((s.account.api.clone(), s.account.cache.clone()))).await?;
        match lock::check(&api, &cache, password).await {
            Ok(how) => {
                tracing::info!(?how, "unlocked");
                cache.set_app_locked(false)?;
                let mut state = lock(&self.app_lock);
                state.locked = false;
                state.attempts.clear();
                Ok(())
            }
            Err(error) => {
                if matches!(&error, CoreError::Rejected { code: ErrorCode::InvalidCredentials, .. }) {
                    lock(&self.app_lock).attempts.failed(now);
                }
                Err(error.into())
            }
        }
    }

    /// Forgets the lock (signed out: the next session starts unlocked).
    pub(super) fn clear_lock(&self) {
        *lock(&self.app_lock) = AppLock::default();
    }

    /// Stores the offline verifier for the password just signed in with (best effort: without
    /// one an offline unlock waits for the server).
    pub(super) async fn remember_password(&self, password: &str) {
        let cache = self.with(|s| Ok(s.account.cache.clone())).await;
        if let Ok(cache) = cache {
            if let Err(error) = lock::remember(cache, password.to_owned()).await {
                tracing::warn!(%error, "storing the unlock verifier failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::notify::NotifyReason;

    #[test]
    fn a_masked_notification_names_no_one_and_quotes_nothing() {
        let conversation_id = Uuid::new_v4();
        let notification = Notification {
            key: "message:1".into(),
            reason: NotifyReason::SlaEscalation,
            conversation_id,
            title: "Maria Lopez · WhatsApp".into(),
            body: "My card number is 4111 1111 1111 1111".into(),
        };
        let shown = masked(&notification);
        assert_eq!((shown.title.as_str(), shown.body.as_str()), ("Switchboard", "New message"));
        assert_eq!(shown.conversation_id, conversation_id, "a click still opens it once unlocked");
    }
}
