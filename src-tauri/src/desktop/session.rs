//! Signing in and out, switching accounts, and the open account's engine: its events become UI
//! events and notifications.

use super::*;

impl Desktop {
    fn summaries(&self) -> UiResult<Vec<dto::AccountSummary>> {
        Ok(self
            .accounts
            .list()?
            .into_iter()
            .map(|a| dto::AccountSummary {
                key: a.key().keychain_user(),
                server_url: a.server_url.clone(),
                agent_name: a.agent.name.clone(),
                agent_email: a.agent.email.clone(),
                active: a.active,
            })
            .collect())
    }

    pub async fn app_info(&self) -> UiResult<dto::AppInfo> {
        Ok(dto::AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            default_server_url: self.default_server_url.clone(),
            accounts: self.summaries()?,
            signed_in: self.session.lock().await.is_some(),
            locked: self.is_locked(),
            two_factor_enrolment: self.accounts.active()?.is_some_and(|a| a.must_enrol_two_factor),
        })
    }

    /// The first screen's data (see [`dto::StartScreen`]). The session lock is held while the
    /// active account opens at start-up, so this answers once that is done.
    pub async fn start_screen(&self) -> UiResult<dto::StartScreen> {
        let info = self.app_info().await?;
        // Locked: the page (reloaded, perhaps) gets nothing of the inbox until it is unlocked.
        if !info.signed_in || info.locked {
            return Ok(dto::StartScreen { info, inbox: None });
        }
        let request = dto::ListRequest::start();
        let (directory, status, page) =
            (self.directory().await?, self.status().await?, self.list(request.clone()).await?);
        Ok(dto::StartScreen { info, inbox: Some(dto::InboxStart { directory, status, request, page }) })
    }

    /// Opens the active account, if there is one (at start-up).
    pub async fn resume(&self) -> UiResult<bool> {
        let Some(active) = self.accounts.active()? else { return Ok(false) };
        if active.must_enrol_two_factor {
            return Ok(false); // Its token only enrols: the enrolment screen shows first.
        }
        match self.open(&active).await {
            Ok(()) => Ok(true),
            Err(error) => {
                tracing::warn!(code = ?error.code, "could not open the active account");
                Ok(false)
            }
        }
    }

    /// Signs in; `two_factor_code` answers a first try refused with `two_factor_required`. An
    /// account that must enrol a second factor first is not opened (`two_factor_enrolment`).
    pub async fn sign_in(
        &self,
        server_url: &str,
        email: &str,
        password: &str,
        two_factor_code: Option<&str>,
    ) -> UiResult<dto::AppInfo> {
        let device = format!("Switchboard on {}", std::env::consts::OS);
        let info = self
            .accounts
            .sign_in(server_url, email, password, two_factor_code, &device, (self.now)())
            .await?;
        if info.must_enrol_two_factor {
            if let Some(previous) = self.session.lock().await.take() {
                previous.engine.shutdown().await;
            }
        } else {
            self.open(&info).await?;
            // The server just checked the password: that unlocks as well as the lock screen does.
            self.with(|s| Ok(s.account.cache.set_app_locked(false)?)).await?;
            self.clear_lock();
            self.remember_password(password).await;
        }
        self.app_info().await
    }

    pub async fn switch_account(&self, key: &str) -> UiResult<dto::AppInfo> {
        let info = self
            .accounts
            .list()?
            .into_iter()
            .find(|a| a.key().keychain_user() == key)
            .ok_or_else(|| UiError::new(UiErrorCode::Invalid, "no such account"))?;
        self.accounts.set_active(&info.key())?;
        self.open(&info).await?;
        self.app_info().await
    }

    pub async fn sign_out(&self) -> UiResult<dto::AppInfo> {
        self.clear_lock();
        let mut closed = self.close().await;
        if closed.is_none() {
            // An account signed in only to enrol a second factor has no session to close.
            closed = self.accounts.active()?.filter(|a| a.must_enrol_two_factor).map(|a| a.key());
        }
        if let Some(key) = closed {
            self.accounts.sign_out(&key).await?;
        }
        if let Some(next) = self.accounts.active()? {
            let _ = self.open(&next).await;
        }
        self.app_info().await
    }

    async fn close(&self) -> Option<AccountKey> {
        let session = self.session.lock().await.take()?;
        let key = session.account.info.key();
        session.engine.shutdown().await;
        Some(key)
    }

    /// Opens an account and starts syncing it (closing any other). The session lock is held
    /// throughout, so two opens at once (start-up resume and a sign-in) can't leave two engines.
    pub(super) async fn open(&self, info: &AccountInfo) -> UiResult<()> {
        let mut session = self.session.lock().await;
        if let Some(previous) = session.take() {
            previous.engine.shutdown().await;
        }
        let account = self.accounts.open(&info.key()).await?;
        // An app that quit (or was killed) while locked opens locked, before anything of the
        // inbox reaches the window, the tray or a notification.
        if account.cache.app_locked()? {
            lock(&self.app_lock).relock();
        }
        let events = self.engine_events(info.key());
        let mut config =
            EngineConfig::new(account.api.clone(), account.cache.clone(), events, account.staging_dir());
        config.now = self.now.clone();
        let engine = Engine::start(config);
        let files = Arc::new(AttachmentCache::new(account.attachments_dir(), ATTACHMENT_CACHE_BYTES));
        *session = Some(Session { account, engine, files });
        drop(session);
        (self.ui)(UiEvent::CacheChanged { kinds: EntityKind::ALL.to_vec() });
        Ok(())
    }

    /// Turns the core's events into UI events and notifications.
    fn engine_events(&self, key: AccountKey) -> switchboard_core::events::EventSink {
        let ui = self.ui.clone();
        let notifier = self.notifier.clone();
        let attention = self.attention.clone();
        let accounts = self.accounts.clone();
        let on_click = self.on_notification_click.clone();
        let session = self.session.clone();
        let app_lock = self.app_lock.clone();
        let settings = self.notification_settings.clone();
        let now = self.now.clone();
        let signed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
        Arc::new(move |event| match event {
            Event::CacheChanged { kinds } => ui(UiEvent::CacheChanged { kinds }),
            Event::Connection(status) => {
                let dnd = lock(&attention).do_not_disturb;
                ui(UiEvent::Status(dto::Status::from_sync(&status, dnd)));
            }
            Event::OutboxRejected {
                action,
                conversation_id,
                code,
                message,
                current_assignee_id,
                existing_conversation_id,
                ..
            } => ui(UiEvent::Rejected {
                action: action.to_owned(),
                conversation_id,
                code: dto::UiErrorCode::from_core_code(&code),
                message,
                current_assignee_id: current_assignee_id.flatten(),
                existing_conversation_id,
            }),
            Event::Ephemeral(switchboard_core::events::Ephemeral::Typing {
                conversation_id,
                agent_id,
                active,
            }) => ui(UiEvent::Typing { conversation_id, agent_id, active }),
            Event::Ephemeral(switchboard_core::events::Ephemeral::Viewing {
                conversation_id,
                agent_id,
                active,
            }) => ui(UiEvent::Viewing { conversation_id, agent_id, active }),
            Event::Ephemeral(switchboard_core::events::Ephemeral::Presence { agent_id, online }) => {
                ui(UiEvent::Presence { agent_id, online })
            }
            Event::Notify(notification) => {
                // Locked: say that something came, not what or from whom.
                let notification =
                    if lock(&app_lock).is_locked() { app_lock::masked(&notification) } else { notification };
                let interrupt = lock(&attention).should_interrupt(notification.conversation_id);
                // The agent's kinds and quiet hours (the badge counts from the cache regardless).
                let (allowed, sound) = {
                    let settings = lock(&settings);
                    (settings.allows(notification.reason, now()), settings.sound)
                };
                if interrupt && allowed {
                    let ui = ui.clone();
                    let on_click = on_click.clone();
                    let conversation_id = notification.conversation_id;
                    notifier.show_with_sound(
                        &notification,
                        sound,
                        Box::new(move || {
                            on_click();
                            ui(UiEvent::OpenConversation { conversation_id });
                        }),
                    );
                }
            }
            Event::SignedOut { reason } => {
                // Both engine tasks may notice; act once.
                if signed_out.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                // The token is dead: close the session (if it is still this account's), forget
                // the account (keychain entries and cache), then tell the window, whose sign-in
                // screen reads the accounts left when told.
                let accounts = accounts.clone();
                let key = key.clone();
                let session = session.clone();
                let ui = ui.clone();
                tokio::spawn(async move {
                    let closed = {
                        let mut session = session.lock().await;
                        match session.as_ref() {
                            Some(open) if open.account.info.key() == key => session.take(),
                            _ => None,
                        }
                    };
                    if let Some(closed) = closed {
                        closed.engine.shutdown().await;
                    }
                    if let Err(error) = accounts.forget(&key).await {
                        tracing::warn!(%error, "wiping a signed-out account failed");
                    }
                    ui(UiEvent::SignedOut { reason });
                });
            }
        })
    }
}
