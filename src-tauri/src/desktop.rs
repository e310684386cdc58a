//! The desktop session, without Tauri: the signed-in accounts, the active account's sync engine,
//! and every operation the UI's commands call. It reports to the window through a `UiSink` and
//! raises notifications through a `Notifier`, both injected, so it runs in tests without a window.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use switchboard_core::{
    accounts::{AccountInfo, Accounts, OpenAccount},
    attachments::{self, AttachmentCache},
    cache::views::{reply_window, ListQuery, View},
    events::Event,
    keychain::{AccountKey, TokenStore},
    notify::Notification,
    outbox::Action,
    quick_replies::{self, QuickReplyMatcher, ReplyContext},
    sync::{system_now, Engine, EngineConfig},
    CoreError,
};
use switchboard_proto::*;
use uuid::Uuid;

use crate::dto::{self, UiError, UiEvent};

pub type UiSink = Arc<dyn Fn(UiEvent) + Send + Sync>;
pub type UiResult<T> = Result<T, UiError>;

/// Raises a desktop notification; `on_click` runs if the person clicks it.
pub trait Notifier: Send + Sync {
    fn show(&self, notification: &Notification, on_click: Box<dyn FnOnce() + Send>);
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
    matcher: Mutex<QuickReplyMatcher>,
    /// Called when a notification is clicked, before the UI is told (focus the window).
    on_notification_click: Arc<dyn Fn() + Send + Sync>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn not_signed_in() -> UiError {
    UiError::new("signed_out", "no account is signed in")
}

impl Desktop {
    pub fn new(
        data_dir: PathBuf,
        tokens: Arc<dyn TokenStore>,
        default_server_url: String,
        ui: UiSink,
        notifier: Arc<dyn Notifier>,
        on_notification_click: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        Desktop {
            accounts: Arc::new(Accounts::new(data_dir, tokens)),
            default_server_url,
            session: Arc::default(),
            ui,
            notifier,
            attention: Arc::default(),
            matcher: Mutex::new(QuickReplyMatcher::new()),
            on_notification_click,
        }
    }

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
        })
    }

    /// The first screen's data (see [`dto::StartScreen`]). The session lock is held while the
    /// active account opens at start-up, so this answers once that is done.
    pub async fn start_screen(&self) -> UiResult<dto::StartScreen> {
        let info = self.app_info().await?;
        if !info.signed_in {
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
        match self.open(&active).await {
            Ok(()) => Ok(true),
            Err(error) => {
                tracing::warn!(code = %error.code, "could not open the active account");
                Ok(false)
            }
        }
    }

    pub async fn sign_in(&self, server_url: &str, email: &str, password: &str) -> UiResult<dto::AppInfo> {
        let device = format!("Switchboard on {}", std::env::consts::OS);
        let info = self.accounts.sign_in(server_url, email, password, &device, system_now()).await?;
        self.open(&info).await?;
        self.app_info().await
    }

    pub async fn switch_account(&self, key: &str) -> UiResult<dto::AppInfo> {
        let info = self
            .accounts
            .list()?
            .into_iter()
            .find(|a| a.key().keychain_user() == key)
            .ok_or_else(|| UiError::new("invalid", "no such account"))?;
        self.accounts.set_active(&info.key())?;
        self.open(&info).await?;
        self.app_info().await
    }

    pub async fn sign_out(&self) -> UiResult<dto::AppInfo> {
        let closed = self.close().await;
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
    async fn open(&self, info: &AccountInfo) -> UiResult<()> {
        let mut session = self.session.lock().await;
        if let Some(previous) = session.take() {
            previous.engine.shutdown().await;
        }
        let account = self.accounts.open(&info.key()).await?;
        let events = self.engine_events(info.key());
        let config =
            EngineConfig::new(account.api.clone(), account.cache.clone(), events, account.staging_dir());
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
        let signed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
        Arc::new(move |event| match event {
            Event::CacheChanged { kinds } => ui(UiEvent::CacheChanged { kinds }),
            Event::Connection(status) => {
                let dnd = lock(&attention).do_not_disturb;
                ui(UiEvent::Status(dto::Status::from_sync(&status, dnd)));
            }
            Event::OutboxRejected { action, conversation_id, code, message, current_assignee_id, .. } => {
                ui(UiEvent::Rejected {
                    action: action.to_owned(),
                    conversation_id,
                    code,
                    message,
                    current_assignee_id: current_assignee_id.flatten(),
                })
            }
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
                let interrupt = lock(&attention).should_interrupt(notification.conversation_id);
                if interrupt {
                    let ui = ui.clone();
                    let on_click = on_click.clone();
                    let conversation_id = notification.conversation_id;
                    notifier.show(
                        &notification,
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
                // The token is dead: close the session (if it is still this account's), then
                // forget the account (keychain entry and cache).
                let accounts = accounts.clone();
                let key = key.clone();
                let session = session.clone();
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
                });
                ui(UiEvent::SignedOut { reason });
            }
        })
    }

    /// Runs `f` with the open session.
    async fn with<T>(&self, f: impl FnOnce(&Session) -> UiResult<T>) -> UiResult<T> {
        let session = self.session.lock().await;
        f(session.as_ref().ok_or_else(not_signed_in)?)
    }

    pub async fn directory(&self) -> UiResult<dto::Directory> {
        self.with(|s| {
            let cache = &s.account.cache;
            Ok(dto::Directory {
                me: cache
                    .get(EntityKind::Agent, s.account.info.agent.id)?
                    .unwrap_or_else(|| s.account.info.agent.clone()),
                server_url: s.account.info.server_url.clone(),
                agents: cache.all(EntityKind::Agent)?,
                teams: cache.all(EntityKind::Team)?,
                inboxes: cache.all(EntityKind::Inbox)?,
                labels: cache.all(EntityKind::Label)?,
                canned_responses: cache.all(EntityKind::CannedResponse)?,
            })
        })
        .await
    }

    pub async fn status(&self) -> UiResult<dto::Status> {
        let dnd = lock(&self.attention).do_not_disturb;
        self.with(|s| Ok(dto::Status::from_sync(&s.engine.status(), dnd))).await
    }

    pub async fn sidebar(&self, status: Option<ConversationStatus>) -> UiResult<Vec<dto::SidebarEntry>> {
        self.with(|s| {
            Ok(s.account
                .cache
                .view_counts(status)?
                .into_iter()
                .map(|(view, count)| dto::SidebarEntry { view: view.into(), count: count as u32 })
                .collect())
        })
        .await
    }

    pub async fn list(&self, request: dto::ListRequest) -> UiResult<dto::ListPage> {
        self.with(|s| {
            let view: View = request.view.clone().into();
            let total = s.account.cache.count(&view, request.status)? as u32;
            let query = ListQuery {
                view,
                status: request.status,
                sort: request.sort.into(),
                offset: request.offset as usize,
                limit: request.limit.min(500) as usize,
            };
            let rows = s
                .account
                .cache
                .list(&query, system_now())?
                .into_iter()
                .map(|row| dto::ConversationRow {
                    contact_name: row.contact_name,
                    inbox_name: row.inbox_name,
                    channel: row.channel,
                    assignee_name: row.assignee_name,
                    unread: row.unread,
                    pinned: row.pinned,
                    pending: row.pending,
                    window: row.reply_window.into(),
                    conversation: row.conversation,
                })
                .collect();
            Ok(dto::ListPage { total, offset: request.offset, rows })
        })
        .await
    }

    /// The thread with everything around it; marks it read and tells colleagues it is open.
    pub async fn open_conversation(&self, id: Uuid) -> UiResult<dto::Thread> {
        {
            let mut attention = lock(&self.attention);
            attention.open_conversation = Some(id);
        }
        let thread = self.thread(id).await?;
        self.with(|s| {
            s.engine.send_ephemeral(ClientFrame::Viewing { conversation_id: id, active: true });
            // Mark read up to the last customer message, if that moves the marker.
            let last_incoming = thread.messages.iter().rev().find(|m| m.kind == MessageKind::Incoming);
            let marker: Option<ReadMarker> = s.account.cache.get(EntityKind::ReadMarker, id)?;
            if let Some(last) = last_incoming {
                if marker.is_none_or(|m| m.last_read_message_id != last.id) {
                    s.engine.queue(Action::Read {
                        conversation_id: id,
                        request: ReadRequest { client_id: Uuid::new_v4(), last_read_message_id: last.id },
                    })?;
                }
            }
            Ok(())
        })
        .await?;
        Ok(thread)
    }

    pub async fn thread(&self, id: Uuid) -> UiResult<dto::Thread> {
        self.with(|s| {
            let cache = &s.account.cache;
            let conversation: Conversation = cache
                .get(EntityKind::Conversation, id)?
                .ok_or_else(|| UiError::new("not_found", "no such conversation"))?;
            let contact: Option<Contact> = cache.get(EntityKind::Contact, conversation.contact_id)?;
            let inbox: Option<Inbox> = cache.get(EntityKind::Inbox, conversation.inbox_id)?;
            let channel = inbox.as_ref().map_or(Channel::Api, |i| i.channel);
            let presence = s.engine.presence();
            let me = s.account.info.agent.id;
            let others = |set: Option<&std::collections::HashSet<Uuid>>| {
                set.map(|ids| ids.iter().copied().filter(|a| *a != me).collect()).unwrap_or_default()
            };
            Ok(dto::Thread {
                messages: cache.thread(id)?,
                window: reply_window(&conversation, channel, system_now()).into(),
                pinned: cache.get::<Pin>(EntityKind::Pin, id)?.is_some(),
                other_conversations: cache
                    .contact_conversations(conversation.contact_id)?
                    .into_iter()
                    .filter(|c| c.id != id)
                    .collect(),
                typing: others(presence.typing.get(&id)),
                viewing: others(presence.viewing.get(&id)),
                draft: cache.draft(id)?.map(|d| dto::Draft { kind: d.kind, body: d.body }),
                conversation,
                contact,
                inbox,
            })
        })
        .await
    }

    pub async fn close_conversation(&self, id: Uuid) -> UiResult<()> {
        {
            let mut attention = lock(&self.attention);
            if attention.open_conversation == Some(id) {
                attention.open_conversation = None;
            }
        }
        self.with(|s| {
            s.engine.send_ephemeral(ClientFrame::Viewing { conversation_id: id, active: false });
            s.engine.send_ephemeral(ClientFrame::Typing { conversation_id: id, active: false });
            Ok(())
        })
        .await
    }

    pub async fn typing(&self, id: Uuid, active: bool) -> UiResult<()> {
        self.with(|s| {
            s.engine.send_ephemeral(ClientFrame::Typing { conversation_id: id, active });
            Ok(())
        })
        .await
    }

    pub async fn search(&self, query: &str) -> UiResult<dto::SearchResults> {
        self.with(|s| {
            let cache = &s.account.cache;
            let found = cache.search(query, 30)?;
            let mut messages = Vec::with_capacity(found.messages.len());
            for hit in found.messages {
                let contact_name = cache
                    .get::<Conversation>(EntityKind::Conversation, hit.conversation_id)?
                    .and_then(|c| cache.get::<Contact>(EntityKind::Contact, c.contact_id).ok().flatten())
                    .map(|c| c.name)
                    .unwrap_or_default();
                messages.push(dto::SearchHit {
                    conversation_id: hit.conversation_id,
                    message_id: hit.message_id,
                    contact_name,
                    snippet: hit.snippet,
                    created_at: hit.created_at,
                });
            }
            Ok(dto::SearchResults { messages, contacts: found.contacts, conversations: found.conversations })
        })
        .await
    }

    /// Canned responses matching `query`, rendered for `conversation_id`.
    pub async fn quick_replies(
        &self,
        query: &str,
        conversation_id: Option<Uuid>,
    ) -> UiResult<Vec<dto::QuickReply>> {
        self.with(|s| {
            let cache = &s.account.cache;
            let canned: Vec<CannedResponse> = cache.all(EntityKind::CannedResponse)?;
            let mut context =
                ReplyContext { agent_name: s.account.info.agent.name.clone(), ..ReplyContext::default() };
            if let Some(id) = conversation_id {
                if let Some(conversation) = cache.get::<Conversation>(EntityKind::Conversation, id)? {
                    context.conversation_id = conversation.id.to_string();
                    context.contact_name = cache
                        .get::<Contact>(EntityKind::Contact, conversation.contact_id)?
                        .map(|c| c.name)
                        .unwrap_or_default();
                    context.inbox_name = cache
                        .get::<Inbox>(EntityKind::Inbox, conversation.inbox_id)?
                        .map(|i| i.name)
                        .unwrap_or_default();
                }
            }
            let matches = lock(&self.matcher).search(query, &canned, 20);
            Ok(matches
                .into_iter()
                .map(|m| {
                    let rendered = quick_replies::render(&m.canned.body, &context);
                    dto::QuickReply {
                        text: rendered.text,
                        placeholders: rendered
                            .placeholders
                            .iter()
                            .map(|r| [r.start as u32, r.end as u32])
                            .collect(),
                        short_code_indices: m.short_code_indices,
                        canned: m.canned,
                    }
                })
                .collect())
        })
        .await
    }

    fn queue(session: &Session, action: Action) -> UiResult<()> {
        session.engine.queue(action).map_err(UiError::from)
    }

    pub async fn send_message(
        &self,
        conversation_id: Uuid,
        kind: SendKind,
        body: String,
        staged_file_ids: Vec<Uuid>,
        template: Option<TemplateRef>,
    ) -> UiResult<Uuid> {
        self.with(|s| {
            if body.trim().is_empty() && staged_file_ids.is_empty() && template.is_none() {
                return Err(UiError::new("validation", "write something, attach a file or pick a template"));
            }
            let client_id = Uuid::new_v4();
            Self::queue(
                s,
                Action::Send {
                    conversation_id,
                    request: SendMessage { client_id, kind, body, attachment_ids: vec![], template },
                    staged_files: staged_file_ids,
                },
            )?;
            s.account.cache.save_draft(conversation_id, kind, "", system_now())?;
            Ok(client_id)
        })
        .await
    }

    /// Assigns conversations; `claim` makes it compare-and-set from unassigned to the caller.
    pub async fn assign(&self, ids: Vec<Uuid>, assignee_id: Option<Uuid>, claim: bool) -> UiResult<()> {
        self.with(|s| {
            let me = s.account.info.agent.id;
            for conversation_id in ids {
                let request = if claim {
                    AssignRequest {
                        client_id: Uuid::new_v4(),
                        assignee_id: Some(me),
                        team_id: None,
                        expected_assignee_id: Some(None),
                    }
                } else {
                    AssignRequest {
                        client_id: Uuid::new_v4(),
                        assignee_id,
                        team_id: None,
                        expected_assignee_id: None,
                    }
                };
                Self::queue(s, Action::Assign { conversation_id, request })?;
            }
            Ok(())
        })
        .await
    }

    /// Moves conversations to a team, keeping their assignee: compare-and-set on the assignee this
    /// client knows, so a stale cache can't unassign a colleague who just claimed it.
    pub async fn set_team(&self, ids: Vec<Uuid>, team_id: Option<Uuid>) -> UiResult<()> {
        self.with(|s| {
            for conversation_id in ids {
                let current: Option<Conversation> =
                    s.account.cache.get(EntityKind::Conversation, conversation_id)?;
                let assignee_id = current.and_then(|c| c.assignee_id);
                let request = AssignRequest {
                    client_id: Uuid::new_v4(),
                    assignee_id,
                    team_id: Some(team_id),
                    expected_assignee_id: Some(assignee_id),
                };
                Self::queue(s, Action::Assign { conversation_id, request })?;
            }
            Ok(())
        })
        .await
    }

    pub async fn set_status(
        &self,
        ids: Vec<Uuid>,
        status: ConversationStatus,
        snoozed_until: Option<Millis>,
    ) -> UiResult<()> {
        self.with(|s| {
            for conversation_id in ids {
                let request = StatusRequest { client_id: Uuid::new_v4(), status, snoozed_until };
                Self::queue(s, Action::Status { conversation_id, request })?;
            }
            Ok(())
        })
        .await
    }

    pub async fn edit_labels(&self, ids: Vec<Uuid>, add: Vec<String>, remove: Vec<String>) -> UiResult<()> {
        self.with(|s| {
            for conversation_id in ids {
                let request =
                    LabelsRequest { client_id: Uuid::new_v4(), add: add.clone(), remove: remove.clone() };
                Self::queue(s, Action::Labels { conversation_id, request })?;
            }
            Ok(())
        })
        .await
    }

    pub async fn set_priority(&self, ids: Vec<Uuid>, priority: Priority) -> UiResult<()> {
        self.with(|s| {
            for conversation_id in ids {
                Self::queue(
                    s,
                    Action::Priority {
                        conversation_id,
                        request: PriorityRequest { client_id: Uuid::new_v4(), priority },
                    },
                )?;
            }
            Ok(())
        })
        .await
    }

    pub async fn set_pinned(&self, id: Uuid, pinned: bool) -> UiResult<()> {
        self.with(|s| Self::queue(s, Action::Pin { conversation_id: id, client_id: Uuid::new_v4(), pinned }))
            .await
    }

    /// Marks a conversation unread: the read marker moves back before its last customer message.
    pub async fn mark_unread(&self, id: Uuid) -> UiResult<()> {
        self.with(|s| {
            let messages = s.account.cache.thread(id)?;
            let Some(last_incoming) = messages.iter().rposition(|m| m.kind == MessageKind::Incoming) else {
                return Ok(());
            };
            let Some(before) = messages[..last_incoming].last() else { return Ok(()) };
            Self::queue(
                s,
                Action::Read {
                    conversation_id: id,
                    request: ReadRequest { client_id: Uuid::new_v4(), last_read_message_id: before.id },
                },
            )
        })
        .await
    }

    pub async fn save_draft(&self, id: Uuid, kind: SendKind, body: &str) -> UiResult<()> {
        self.with(|s| Ok(s.account.cache.save_draft(id, kind, body, system_now())?)).await
    }

    /// Stages files dropped on the window (checked against the inbox's limit).
    pub async fn stage_files(
        &self,
        conversation_id: Uuid,
        paths: Vec<PathBuf>,
    ) -> UiResult<Vec<dto::StagedFile>> {
        self.with(|s| {
            paths
                .iter()
                .map(|path| {
                    let staged = attachments::stage_file(
                        &s.account.cache,
                        &s.account.staging_dir(),
                        conversation_id,
                        path,
                    )?;
                    Ok(dto::StagedFile {
                        id: staged.id,
                        conversation_id,
                        file_name: staged.file_name,
                        content_type: staged.content_type,
                        size: staged.size,
                    })
                })
                .collect()
        })
        .await
    }

    /// Stages a pasted image (its bytes come from the clipboard as base64).
    pub async fn stage_pasted(
        &self,
        conversation_id: Uuid,
        file_name: &str,
        data_base64: &str,
    ) -> UiResult<dto::StagedFile> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64.as_bytes())
            .map_err(|e| UiError::new("invalid", format!("the pasted data is not base64: {e}")))?;
        let dir = std::env::temp_dir().join(format!("switchboard-paste-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| UiError::from(CoreError::from(e)))?;
        let clean: String = Path::new(file_name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pasted.png".into());
        let path = dir.join(clean);
        std::fs::write(&path, bytes).map_err(|e| UiError::from(CoreError::from(e)))?;
        let staged = self.stage_files(conversation_id, vec![path]).await;
        let _ = std::fs::remove_dir_all(&dir);
        staged?.into_iter().next().ok_or_else(|| UiError::new("invalid", "nothing was staged"))
    }

    /// An attachment as a data URL for previews (images only, bounded in size).
    pub async fn attachment_preview(&self, attachment: Attachment) -> UiResult<String> {
        use base64::Engine as _;
        if !attachment.content_type.starts_with("image/") || attachment.size > PREVIEW_BYTES {
            return Err(UiError::new("invalid", "no preview for this attachment"));
        }
        let path = self.fetch_attachment(&attachment).await?;
        let bytes = tokio::fs::read(path).await.map_err(|e| UiError::from(CoreError::from(e)))?;
        Ok(format!(
            "data:{};base64,{}",
            attachment.content_type,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// Downloads an attachment into the cache and returns its path (to open or save it).
    pub async fn download_attachment(&self, attachment: Attachment) -> UiResult<PathBuf> {
        self.fetch_attachment(&attachment).await
    }

    /// The download runs without holding the session lock: a slow transfer must not freeze every
    /// other command.
    async fn fetch_attachment(&self, attachment: &Attachment) -> UiResult<PathBuf> {
        let (files, cache, api) =
            self.with(|s| Ok((s.files.clone(), s.account.cache.clone(), s.account.api.clone()))).await?;
        Ok(files.fetch(&cache, &api, attachment, system_now()).await?)
    }

    pub fn set_do_not_disturb(&self, on: bool) {
        lock(&self.attention).do_not_disturb = on;
    }

    pub fn set_window_focused(&self, focused: bool) {
        lock(&self.attention).window_focused = focused;
    }

    /// Reconnects now (the status bar's "retry").
    pub async fn reconnect(&self) -> UiResult<()> {
        self.with(|s| {
            s.engine.reconnect();
            Ok(())
        })
        .await
    }

    /// Unread conversations (for the tray and the badge).
    pub async fn unread_count(&self) -> UiResult<u32> {
        self.with(|s| {
            let rows = s.account.cache.list(
                &ListQuery {
                    view: View::Mine,
                    status: Some(ConversationStatus::Open),
                    sort: Default::default(),
                    offset: 0,
                    limit: 500,
                },
                system_now(),
            )?;
            Ok(rows.iter().filter(|r| r.unread).count() as u32)
        })
        .await
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
