//! The storage seam: everything the HTTP layer asks of storage, as one trait.
//!
//! `SqliteDatabase` (the embedded default, see `sqlite.rs`) implements it; a PostgreSQL backend
//! would implement the same trait and reuse `rules.rs`. The one hard requirement on a backend is
//! the feed invariant: a change's seq is assigned at commit and commits are published in seq order,
//! so a reader that has seen seq N can never later find a committed change below N.

use std::{collections::HashSet, sync::Arc};

use async_trait::async_trait;
use switchboard_proto::*;
use tokio::sync::broadcast;

use crate::error::ApiResult;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub agent: Agent,
    pub device_id: Id,
}

/// Which inboxes an agent may see.
#[derive(Debug, Clone, PartialEq)]
pub enum VisibleInboxes {
    All,
    Only(HashSet<Id>),
}

impl VisibleInboxes {
    pub fn contains(&self, inbox_id: &Id) -> bool {
        match self {
            VisibleInboxes::All => true,
            VisibleInboxes::Only(ids) => ids.contains(inbox_id),
        }
    }
}

/// A committed change with what decides who may receive it.
#[derive(Debug, Clone)]
pub struct FeedRecord {
    pub change: Change,
    /// Set when the change belongs to a conversation of this inbox.
    pub inbox_id: Option<Id>,
    /// Set when only this agent may receive it (pins, read markers, personal canned responses).
    pub scope_agent: Option<Id>,
    /// The change as JSON, rendered once by the first stream that sends it: with thousands of
    /// streams open, serialising per stream was the fan-out's main cost.
    pub rendered: std::sync::OnceLock<Box<str>>,
}

impl FeedRecord {
    pub fn new(change: Change, inbox_id: Option<Id>, scope_agent: Option<Id>) -> Self {
        FeedRecord { change, inbox_id, scope_agent, rendered: std::sync::OnceLock::new() }
    }

    /// The change as JSON, as a `changes` frame carries it.
    pub fn change_json(&self) -> &str {
        self.rendered.get_or_init(|| {
            // A change is ids, enums and a JSON value: serialising it cannot fail.
            serde_json::to_string(&self.change).unwrap_or_default().into_boxed_str()
        })
    }

    pub fn visible_to(&self, agent_id: Id, inboxes: &VisibleInboxes) -> bool {
        self.scope_agent.is_none_or(|owner| owner == agent_id)
            && self.inbox_id.is_none_or(|inbox| inboxes.contains(&inbox))
    }
}

/// What flows from storage and handlers to the WebSocket streams.
#[derive(Debug, Clone)]
pub enum BusEvent {
    /// One transaction's changes, published in commit (= seq) order.
    Changes(Arc<[FeedRecord]>),
    /// Typing, viewing and presence: not in the feed, only for those who can see `inbox_id`.
    Ephemeral { inbox_id: Option<Id>, from_agent: Id, frame: ServerFrame },
    /// These devices' tokens were revoked: close their streams.
    Revoked(Arc<[Id]>),
}

/// A mutation of one conversation, each idempotent on its `client_id`.
#[derive(Debug, Clone)]
pub enum ConversationAction {
    Send(SendMessage),
    Assign(AssignRequest),
    Status(StatusRequest),
    Labels(LabelsRequest),
    Priority(PriorityRequest),
    Read(ReadRequest),
    Pin { pinned: bool },
}

/// A file the HTTP layer has already written to the content-addressed store.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
}

/// An outgoing reply waiting to be POSTed to its inbox's webhook.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub webhook_url: String,
    pub secret: String,
    pub attempts: u32,
    pub payload: OutgoingWebhook,
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// The bus that committed changes are published on, in seq order.
    fn bus(&self) -> &broadcast::Sender<BusEvent>;

    // Accounts and devices.
    async fn login(&self, request: LoginRequest) -> ApiResult<LoginResponse>;
    async fn authenticate(&self, token: String) -> ApiResult<Viewer>;
    async fn devices(&self, viewer: &Viewer) -> ApiResult<Vec<Device>>;
    async fn revoke_device(&self, viewer: &Viewer, device_id: Id) -> ApiResult<()>;
    async fn update_me(&self, viewer: &Viewer, update: UpdateMe) -> ApiResult<Agent>;

    // The feed.
    async fn sync(&self, viewer: &Viewer, since: i64, limit: usize) -> ApiResult<SyncPage>;
    async fn visible_inboxes(&self, agent_id: Id) -> ApiResult<(Agent, VisibleInboxes)>;
    /// The inbox of a conversation the agent may see; not found otherwise.
    async fn conversation_inbox(&self, viewer: &Viewer, conversation_id: Id) -> ApiResult<Inbox>;

    // Conversations.
    async fn act(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
        action: ConversationAction,
    ) -> ApiResult<ConversationResult>;
    async fn create_conversation(
        &self,
        viewer: &Viewer,
        request: CreateConversation,
    ) -> ApiResult<ConversationResult>;
    async fn transcript(&self, viewer: &Viewer, conversation_id: Id) -> ApiResult<Transcript>;
    async fn search(&self, viewer: &Viewer, query: String, limit: usize) -> ApiResult<SearchResults>;

    // Contacts.
    async fn create_contact(&self, viewer: &Viewer, request: CreateContact) -> ApiResult<ContactResult>;
    async fn find_contacts(&self, viewer: &Viewer, query: String, limit: usize) -> ApiResult<Vec<Contact>>;

    // Attachments.
    async fn add_attachment(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
        file: StoredFile,
    ) -> ApiResult<Attachment>;
    async fn attachment(&self, viewer: &Viewer, attachment_id: Id) -> ApiResult<Attachment>;

    // Directory and administration.
    async fn directory(&self, viewer: &Viewer, kind: EntityKind) -> ApiResult<Vec<serde_json::Value>>;
    async fn create_agent(&self, viewer: &Viewer, request: CreateAgent) -> ApiResult<Agent>;
    async fn update_agent(&self, viewer: &Viewer, agent_id: Id, update: UpdateAgent) -> ApiResult<Agent>;
    async fn create_team(&self, viewer: &Viewer, request: CreateTeam) -> ApiResult<Team>;
    async fn update_team(&self, viewer: &Viewer, team_id: Id, update: UpdateTeam) -> ApiResult<Team>;
    async fn create_inbox(&self, viewer: &Viewer, request: CreateInbox) -> ApiResult<CreatedInbox>;
    async fn update_inbox(&self, viewer: &Viewer, inbox_id: Id, update: UpdateInbox) -> ApiResult<Inbox>;
    async fn create_label(&self, viewer: &Viewer, request: CreateLabel) -> ApiResult<Label>;
    async fn delete_label(&self, viewer: &Viewer, label_id: Id) -> ApiResult<()>;
    async fn create_canned(
        &self,
        viewer: &Viewer,
        request: CreateCannedResponse,
    ) -> ApiResult<CannedResponse>;
    async fn update_canned(
        &self,
        viewer: &Viewer,
        canned_id: Id,
        update: UpdateCannedResponse,
    ) -> ApiResult<CannedResponse>;
    async fn delete_canned(&self, viewer: &Viewer, canned_id: Id) -> ApiResult<()>;

    // The API channel.
    async fn inbox_secret(&self, inbox_id: Id) -> ApiResult<(Inbox, String)>;
    async fn ingest(
        &self,
        inbox_id: Id,
        message: InboundMessage,
        files: Vec<StoredFile>,
    ) -> ApiResult<InboundResult>;
    async fn report_delivery(&self, inbox_id: Id, report: DeliveryReport) -> ApiResult<()>;
    async fn due_deliveries(&self, limit: usize) -> ApiResult<Vec<PendingDelivery>>;
    async fn delivery_attempted(&self, message_id: Id, outcome: Result<(), String>) -> ApiResult<()>;
}
