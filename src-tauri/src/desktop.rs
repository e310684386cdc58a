//! The desktop session, without Tauri: the signed-in accounts, the active account's sync engine,
//! and every operation the UI's commands call. It reports to the window through a `UiSink` and
//! raises notifications through a `Notifier`, both injected, so it runs in tests without a window.
//!
//! It is a facade: what an action means is decided in `switchboard_core::intents`, the rules in
//! `switchboard_proto::rules`. What is left here is the session's lifetime ([`session`]), reads
//! shaped for the window ([`reads`]), queuing actions ([`actions`]), attachments ([`files`]), and
//! when a notification may interrupt ([`Attention`]). The clock is injected, like the core's.

mod actions;
mod admin_security;
mod app_lock;
mod channels;
mod contacts;
mod files;
mod my_quick_replies;
mod new_conversation;
pub mod notification_settings;
mod reads;
mod reports;
mod session;
mod settings;
mod team;
mod transcripts;
mod two_factor;

pub use files::DroppedFiles;
pub use settings::time_zones;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use switchboard_core::{
    accounts::{AccountInfo, Accounts, OpenAccount},
    attachments::{self, AttachmentCache},
    cache::views::{reply_window, sla_countdown, ListQuery, View},
    clock::Clock,
    events::Event,
    intents,
    keychain::{AccountKey, TokenStore},
    notify::Notification,
    outbox::Action,
    quick_replies::{self, QuickReplyMatcher, ReplyContext},
    sync::{Engine, EngineConfig},
    CoreError,
};
use switchboard_proto::*;
use uuid::Uuid;

use crate::dto::{self, UiError, UiErrorCode, UiEvent};

pub type UiSink = Arc<dyn Fn(UiEvent) + Send + Sync>;
pub type UiResult<T> = Result<T, UiError>;

/// Raises a desktop notification; `on_click` runs if the person clicks it.
pub trait Notifier: Send + Sync {
    fn show(&self, notification: &Notification, on_click: Box<dyn FnOnce() + Send>);

    /// As `show`, with the agent's sound setting (a notifier that can't choose plays its default).
    fn show_with_sound(&self, notification: &Notification, _sound: bool, on_click: Box<dyn FnOnce() + Send>) {
        self.show(notification, on_click)
    }
}

/// Downloaded attachments kept per account.
const ATTACHMENT_CACHE_BYTES: u64 = 512 * 1024 * 1024;
/// Largest attachment preview sent to the window as a data URL.
const PREVIEW_BYTES: u64 = 8 * 1024 * 1024;

/// What decides whether a notification interrupts.
#[derive(Debug, Default)]
struct Attention {
    window_focused: bool,
    open_conversation: Option<Uuid>,
    do_not_disturb: bool,
}

impl Attention {
    /// Whether a notification about `conversation_id` should be raised: not while do-not-disturb
    /// is on, and not for the conversation the agent is looking at in a focused window.
    fn should_interrupt(&self, conversation_id: Uuid) -> bool {
        let looking_at_it = self.window_focused && self.open_conversation == Some(conversation_id);
        !self.do_not_disturb && !looking_at_it
    }
}

struct Session {
    account: OpenAccount,
    engine: Engine,
    files: Arc<AttachmentCache>,
}

type SharedSession = Arc<tokio::sync::Mutex<Option<Session>>>;

pub struct Desktop {
    accounts: Arc<Accounts>,
    default_server_url: String,
    session: SharedSession,
    ui: UiSink,
    notifier: Arc<dyn Notifier>,
    attention: Arc<Mutex<Attention>>,
    /// Whether the window is locked (see [`app_lock`]).
    app_lock: Arc<Mutex<app_lock::AppLock>>,
    matcher: Mutex<QuickReplyMatcher>,
    /// Called when a notification is clicked, before the UI is told (focus the window).
    on_notification_click: Arc<dyn Fn() + Send + Sync>,
    /// The wall clock, shared with the accounts and each engine.
    now: Clock,
    /// Which notifications may pop up, and when (kept in `notification_settings_path`).
    notification_settings: Arc<Mutex<notification_settings::NotificationSettings>>,
    notification_settings_path: PathBuf,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn not_signed_in() -> UiError {
    UiError::new(UiErrorCode::SignedOut, "no account is signed in")
}

impl Desktop {
    pub fn new(
        data_dir: PathBuf,
        tokens: Arc<dyn TokenStore>,
        default_server_url: String,
        ui: UiSink,
        notifier: Arc<dyn Notifier>,
        on_notification_click: Arc<dyn Fn() + Send + Sync>,
        now: Clock,
    ) -> Self {
        let notification_settings_path = notification_settings::NotificationSettings::path_in(&data_dir);
        let notification_settings = Arc::new(Mutex::new(notification_settings::NotificationSettings::load(
            &notification_settings_path,
        )));
        Desktop {
            accounts: Arc::new(Accounts::new(data_dir, tokens).with_clock(now.clone())),
            default_server_url,
            session: Arc::default(),
            ui,
            notifier,
            attention: Arc::default(),
            app_lock: Arc::default(),
            matcher: Mutex::new(QuickReplyMatcher::new()),
            on_notification_click,
            now,
            notification_settings,
            notification_settings_path,
        }
    }

    /// The notification settings on this computer.
    pub fn notification_settings(&self) -> notification_settings::NotificationSettings {
        lock(&self.notification_settings).clone()
    }

    /// Saves new notification settings; they apply to the next notification.
    pub fn set_notification_settings(
        &self,
        settings: notification_settings::NotificationSettings,
    ) -> UiResult<notification_settings::NotificationSettings> {
        settings.check()?;
        settings.save(&self.notification_settings_path)?;
        *lock(&self.notification_settings) = settings.clone();
        Ok(settings)
    }

    /// Runs `f` with the open session.
    async fn with<T>(&self, f: impl FnOnce(&Session) -> UiResult<T>) -> UiResult<T> {
        let session = self.session.lock().await;
        f(session.as_ref().ok_or_else(not_signed_in)?)
    }

    pub fn set_do_not_disturb(&self, on: bool) {
        lock(&self.attention).do_not_disturb = on;
    }

    pub fn set_window_focused(&self, focused: bool) {
        lock(&self.attention).window_focused = focused;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_skip_the_open_conversation_in_a_focused_window_and_dnd() {
        let open = Uuid::new_v4();
        let other = Uuid::new_v4();
        let focused =
            Attention { window_focused: true, open_conversation: Some(open), do_not_disturb: false };
        assert!(!focused.should_interrupt(open), "the agent is reading it");
        assert!(focused.should_interrupt(other), "another conversation still rings");
        let away = Attention { window_focused: false, ..focused };
        assert!(away.should_interrupt(open), "window in the background: ring even for the open one");
        let quiet = Attention { do_not_disturb: true, window_focused: false, open_conversation: None };
        assert!(!quiet.should_interrupt(other), "do not disturb silences everything");
    }
}
