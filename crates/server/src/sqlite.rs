//! `SqliteDatabase`: the embedded storage backend, one SQLite file in WAL mode.
//!
//! One writer connection behind a mutex serialises every write transaction; a pool of reader
//! connections serves reads from WAL snapshots. Because a transaction's changes are published on
//! the bus while the writer lock is still held, bus order is commit order is seq order.

mod accounts;
mod conversations;
mod directory;
mod feed;
mod records;
mod schema;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use switchboard_proto::*;
use tokio::sync::broadcast;

use crate::{
    clock::Clock,
    db::{BusEvent, ConversationAction, Database, PendingDelivery, StoredFile, Viewer, VisibleInboxes},
    error::{ApiError, ApiResult},
};
pub(crate) use records::Tx;

/// Reader connections kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteDatabase {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    bus: broadcast::Sender<BusEvent>,
    clock: Arc<dyn Clock>,
}

impl SqliteDatabase {
    /// Opens (creating and migrating if needed) the database at `path`. `stream_buffer` is how
    /// many transactions' worth of changes a stream may fall behind before it is closed.
    pub fn open(path: &Path, clock: Arc<dyn Clock>, stream_buffer: usize) -> anyhow::Result<Self> {
        let mut writer = open_connection(path)?;
        schema::migrate(&mut writer)?;
        let (bus, _) = broadcast::channel(stream_buffer.max(1));
        Ok(SqliteDatabase {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::default(),
            bus,
            clock,
        })
    }

    /// Runs `f` in one write transaction on a blocking thread; commits if it returns `Ok`, then
    /// publishes the transaction's changes on the bus.
    pub(crate) async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> ApiResult<T> + Send + 'static,
    {
        let writer = self.writer.clone();
        let bus = self.bus.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().map_err(|_| ApiError::internal("writer lock poisoned"))?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut write = Tx::new(tx, now);
            let value = f(&mut write)?;
            let records = write.commit()?;
            if !records.is_empty() {
                // No receivers is fine: nobody is streaming.
                let _ = bus.send(BusEvent::Changes(records.into()));
            }
            Ok(value)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Runs `f` on a reader connection (a consistent snapshot if `f` opens a transaction).
    pub(crate) async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, Millis) -> ApiResult<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().map_err(|_| ApiError::internal("reader pool poisoned"))?.pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&path).map_err(ApiError::internal)?,
            };
            let value = f(&mut conn, now);
            if let Ok(mut idle) = readers.lock() {
                if idle.len() < MAX_IDLE_READERS {
                    idle.push(conn);
                }
            }
            value
        })
        .await
        .map_err(ApiError::internal)?
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

#[async_trait]
impl Database for SqliteDatabase {
    fn bus(&self) -> &broadcast::Sender<BusEvent> {
        &self.bus
    }

    async fn login(&self, request: LoginRequest) -> ApiResult<LoginResponse> {
        let checked = request.clone();
        let agent = self.read(move |conn, _| accounts::check_password(conn, &checked)).await?;
        self.write(move |tx| accounts::create_device(tx, agent, &request.device_name)).await
    }

    async fn authenticate(&self, token: String) -> ApiResult<Viewer> {
        let (viewer, stale) = self.read(move |conn, now| accounts::authenticate(conn, &token, now)).await?;
        if stale {
            let device_id = viewer.device_id;
            self.write(move |tx| accounts::touch_device(tx, device_id)).await?;
        }
        Ok(viewer)
    }

    async fn devices(&self, viewer: &Viewer) -> ApiResult<Vec<Device>> {
        let viewer = viewer.clone();
        self.read(move |conn, _| accounts::devices(conn, &viewer)).await
    }

    async fn revoke_device(&self, viewer: &Viewer, device_id: Id) -> ApiResult<()> {
        let viewer = viewer.clone();
        let revoked = self.write(move |tx| accounts::revoke_device(tx, &viewer, device_id)).await?;
        let _ = self.bus.send(BusEvent::Revoked(revoked.into()));
        Ok(())
    }

    async fn update_me(&self, viewer: &Viewer, update: UpdateMe) -> ApiResult<Agent> {
        let agent_id = viewer.agent.id;
        self.write(move |tx| accounts::update_me(tx, agent_id, update)).await
    }

    async fn sync(&self, viewer: &Viewer, since: i64, limit: usize) -> ApiResult<SyncPage> {
        let agent_id = viewer.agent.id;
        self.read(move |conn, _| feed::sync_page(conn, agent_id, since, limit)).await
    }

    async fn visible_inboxes(&self, agent_id: Id) -> ApiResult<(Agent, VisibleInboxes)> {
        self.read(move |conn, _| {
            let agent = records::get::<Agent>(conn, EntityKind::Agent, agent_id, None)?
                .ok_or_else(|| ApiError::not_found("agent"))?;
            let visible = feed::visible_inboxes(conn, &agent)?;
            Ok((agent, visible))
        })
        .await
    }

    async fn conversation_inbox(&self, viewer: &Viewer, conversation_id: Id) -> ApiResult<Inbox> {
        let viewer = viewer.clone();
        self.read(move |conn, _| {
            conversations::visible_conversation(conn, &viewer, conversation_id).map(|(_, inbox)| inbox)
        })
        .await
    }

    async fn act(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
        action: ConversationAction,
    ) -> ApiResult<ConversationResult> {
        let viewer = viewer.clone();
        self.write(move |tx| conversations::act(tx, &viewer, conversation_id, action)).await
    }

    async fn create_conversation(
        &self,
        viewer: &Viewer,
        request: CreateConversation,
    ) -> ApiResult<ConversationResult> {
        let viewer = viewer.clone();
        self.write(move |tx| conversations::create(tx, &viewer, request)).await
    }

    async fn transcript(&self, viewer: &Viewer, conversation_id: Id) -> ApiResult<Transcript> {
        let viewer = viewer.clone();
        self.read(move |conn, _| conversations::transcript(conn, &viewer, conversation_id)).await
    }

    async fn search(&self, viewer: &Viewer, query: String, limit: usize) -> ApiResult<SearchResults> {
        let viewer = viewer.clone();
        self.read(move |conn, _| feed::search(conn, &viewer, &query, limit)).await
    }

    async fn create_contact(&self, viewer: &Viewer, request: CreateContact) -> ApiResult<ContactResult> {
        let viewer = viewer.clone();
        self.write(move |tx| conversations::create_contact(tx, &viewer, request)).await
    }

    async fn find_contacts(&self, viewer: &Viewer, query: String, limit: usize) -> ApiResult<Vec<Contact>> {
        let viewer = viewer.clone();
        self.read(move |conn, _| feed::find_contacts(conn, &viewer, &query, limit)).await
    }

    async fn add_attachment(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
        file: StoredFile,
    ) -> ApiResult<Attachment> {
        let viewer = viewer.clone();
        self.write(move |tx| conversations::add_attachment(tx, &viewer, conversation_id, file)).await
    }

    async fn attachment(&self, viewer: &Viewer, attachment_id: Id) -> ApiResult<Attachment> {
        let viewer = viewer.clone();
        self.read(move |conn, _| conversations::attachment(conn, &viewer, attachment_id)).await
    }

    async fn directory(&self, viewer: &Viewer, kind: EntityKind) -> ApiResult<Vec<serde_json::Value>> {
        let viewer = viewer.clone();
        self.read(move |conn, _| directory::list(conn, &viewer, kind)).await
    }

    async fn create_agent(&self, viewer: &Viewer, request: CreateAgent) -> ApiResult<Agent> {
        directory::require_admin(viewer)?;
        let hash = hash_password(request.password.clone()).await?;
        self.write(move |tx| accounts::create_agent(tx, request, hash)).await
    }

    async fn update_agent(&self, viewer: &Viewer, agent_id: Id, update: UpdateAgent) -> ApiResult<Agent> {
        directory::require_admin(viewer)?;
        let hash = match update.password.clone() {
            Some(password) => Some(hash_password(password).await?),
            None => None,
        };
        let (agent, revoked) =
            self.write(move |tx| accounts::update_agent(tx, agent_id, update, hash)).await?;
        if !revoked.is_empty() {
            let _ = self.bus.send(BusEvent::Revoked(revoked.into()));
        }
        Ok(agent)
    }

    async fn create_team(&self, viewer: &Viewer, request: CreateTeam) -> ApiResult<Team> {
        directory::require_admin(viewer)?;
        self.write(move |tx| accounts::create_team(tx, request)).await
    }

    async fn update_team(&self, viewer: &Viewer, team_id: Id, update: UpdateTeam) -> ApiResult<Team> {
        directory::require_admin(viewer)?;
        self.write(move |tx| accounts::update_team(tx, team_id, update)).await
    }

    async fn create_inbox(&self, viewer: &Viewer, request: CreateInbox) -> ApiResult<CreatedInbox> {
        directory::require_admin(viewer)?;
        self.write(move |tx| directory::create_inbox(tx, request)).await
    }

    async fn update_inbox(&self, viewer: &Viewer, inbox_id: Id, update: UpdateInbox) -> ApiResult<Inbox> {
        directory::require_admin(viewer)?;
        self.write(move |tx| directory::update_inbox(tx, inbox_id, update)).await
    }

    async fn create_label(&self, viewer: &Viewer, request: CreateLabel) -> ApiResult<Label> {
        directory::require_lead(viewer)?;
        self.write(move |tx| directory::create_label(tx, request)).await
    }

    async fn delete_label(&self, viewer: &Viewer, label_id: Id) -> ApiResult<()> {
        directory::require_lead(viewer)?;
        self.write(move |tx| directory::delete_label(tx, label_id)).await
    }

    async fn create_canned(
        &self,
        viewer: &Viewer,
        request: CreateCannedResponse,
    ) -> ApiResult<CannedResponse> {
        let viewer = viewer.clone();
        self.write(move |tx| directory::create_canned(tx, &viewer, request)).await
    }

    async fn update_canned(
        &self,
        viewer: &Viewer,
        canned_id: Id,
        update: UpdateCannedResponse,
    ) -> ApiResult<CannedResponse> {
        let viewer = viewer.clone();
        self.write(move |tx| directory::update_canned(tx, &viewer, canned_id, update)).await
    }

    async fn delete_canned(&self, viewer: &Viewer, canned_id: Id) -> ApiResult<()> {
        let viewer = viewer.clone();
        self.write(move |tx| directory::delete_canned(tx, &viewer, canned_id)).await
    }

    async fn inbox_secret(&self, inbox_id: Id) -> ApiResult<(Inbox, String)> {
        self.read(move |conn, _| directory::inbox_secret(conn, inbox_id)).await
    }

    async fn ingest(
        &self,
        inbox_id: Id,
        message: InboundMessage,
        files: Vec<StoredFile>,
    ) -> ApiResult<InboundResult> {
        self.write(move |tx| conversations::ingest(tx, inbox_id, message, files)).await
    }

    async fn report_delivery(&self, inbox_id: Id, report: DeliveryReport) -> ApiResult<()> {
        self.write(move |tx| conversations::report_delivery(tx, inbox_id, report)).await
    }

    async fn due_deliveries(&self, limit: usize) -> ApiResult<Vec<PendingDelivery>> {
        self.read(move |conn, now| conversations::due_deliveries(conn, now, limit)).await
    }

    async fn delivery_attempted(&self, message_id: Id, outcome: Result<(), String>) -> ApiResult<()> {
        self.write(move |tx| conversations::delivery_attempted(tx, message_id, outcome)).await
    }
}

/// Hashes a password on a blocking thread: argon2 is slow on purpose (tens of ms of CPU), and on
/// the async runtime it would stall every request and stream sharing that worker.
async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || accounts::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
}

impl SqliteDatabase {
    /// Whether any agent exists (a fresh data directory has none).
    pub async fn has_agents(&self) -> ApiResult<bool> {
        self.read(|conn, _| Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM agents)", [], |row| row.get(0))?))
            .await
    }

    /// Creates an admin without an acting admin: only for `init` and the demo seeder.
    pub async fn create_first_admin(&self, request: CreateAgent) -> ApiResult<Agent> {
        let hash = hash_password(request.password.clone()).await?;
        self.write(move |tx| accounts::create_agent(tx, request, hash)).await
    }
}
