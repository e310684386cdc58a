//! What the window shows, read from the cache: the directory, the sidebar, the list, a thread,
//! search and quick replies, and the unread count.

use switchboard_core::thread_window;

use super::*;

impl Desktop {
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
                saved_views: cache.saved_views()?,
            })
        })
        .await
    }

    pub async fn status(&self) -> UiResult<dto::Status> {
        let dnd = lock(&self.attention).do_not_disturb;
        self.with(|s| Ok(dto::Status::from_sync(&s.engine.status(), dnd))).await
    }

    pub async fn sidebar(&self, status: Option<ConversationStatus>) -> UiResult<Vec<dto::SidebarEntry>> {
        let now = (self.now)();
        self.with(|s| {
            Ok(s.account
                .cache
                .view_counts_at(status, now)?
                .into_iter()
                .map(|(view, count)| dto::SidebarEntry { view: view.into(), count: count as u32 })
                .collect())
        })
        .await
    }

    pub async fn list(&self, request: dto::ListRequest) -> UiResult<dto::ListPage> {
        let now = (self.now)();
        self.with(|s| {
            let view: View = request.view.clone().into();
            let total = s.account.cache.count_at(&view, request.status, now)? as u32;
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
                .list(&query, now)?
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
                    sla_clock: sla_countdown(&row.conversation).cloned(),
                    conversation: row.conversation,
                })
                .collect();
            Ok(dto::ListPage { total, offset: request.offset, rows })
        })
        .await
    }

    /// The thread with everything around it; marks it read and tells colleagues it is open.
    pub async fn open_conversation(
        &self,
        id: Uuid,
        range: Option<dto::ThreadRange>,
    ) -> UiResult<dto::Thread> {
        {
            let mut attention = lock(&self.attention);
            attention.open_conversation = Some(id);
        }
        let thread = self.thread(id, range).await?;
        self.with(|s| {
            s.engine.send_ephemeral(ClientFrame::Viewing { conversation_id: id, active: true });
            if let Some(read) = intents::read_on_open(&s.account.cache, id)? {
                s.engine.queue(read)?;
            }
            Ok(())
        })
        .await?;
        Ok(thread)
    }

    /// The thread with a window on its messages (`range`, the newest page by default): never the
    /// whole of a long thread (`switchboard_core::thread_window`).
    pub async fn thread(&self, id: Uuid, range: Option<dto::ThreadRange>) -> UiResult<dto::Thread> {
        let now = (self.now)();
        let (api, cache) = self
            .with(|s| {
                let cache = &s.account.cache;
                if cache.get::<Conversation>(EntityKind::Conversation, id)?.is_none() {
                    return Err(UiError::new(UiErrorCode::NotFound, "no such conversation"));
                }
                Ok((s.account.api.clone(), cache.clone()))
            })
            .await?;
        let window = match range.unwrap_or(dto::ThreadRange::Newest) {
            dto::ThreadRange::Newest => thread_window::newest(&api, &cache, id, thread_window::PAGE).await?,
            dto::ThreadRange::Loaded { from, to } => {
                thread_window::range(&cache, id, from.into(), to.map(Into::into))?
            }
            dto::ThreadRange::Around { message_id } => {
                match thread_window::around(&cache, id, message_id, thread_window::PAGE)? {
                    Some(window) => window,
                    None => thread_window::newest(&api, &cache, id, thread_window::PAGE).await?,
                }
            }
        };
        self.with(|s| {
            let cache = &s.account.cache;
            let conversation: Conversation = cache
                .get(EntityKind::Conversation, id)?
                .ok_or_else(|| UiError::new(UiErrorCode::NotFound, "no such conversation"))?;
            let contact: Option<Contact> = cache.get(EntityKind::Contact, conversation.contact_id)?;
            let inbox: Option<Inbox> = cache.get(EntityKind::Inbox, conversation.inbox_id)?;
            let presence = s.engine.presence();
            let me = s.account.info.agent.id;
            let others = |set: Option<&std::collections::HashSet<Uuid>>| {
                set.map(|ids| ids.iter().copied().filter(|a| *a != me).collect()).unwrap_or_default()
            };
            Ok(dto::Thread {
                messages: window.messages,
                older: window.older.into(),
                newer: window.newer,
                window: reply_window(&conversation, inbox.as_ref(), now).into(),
                sla_clock: sla_countdown(&conversation).cloned(),
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

    /// The page before (or after) `cursor` as the agent scrolls the thread; older messages not
    /// on this device yet are fetched on demand into the cache first.
    pub async fn thread_page(
        &self,
        id: Uuid,
        direction: dto::PageDirection,
        cursor: dto::MessageCursor,
    ) -> UiResult<dto::ThreadPage> {
        let (api, cache) = self.with(|s| Ok((s.account.api.clone(), s.account.cache.clone()))).await?;
        let window = match direction {
            dto::PageDirection::Older => {
                thread_window::older(&api, &cache, id, cursor.into(), thread_window::PAGE).await?
            }
            dto::PageDirection::Newer => {
                thread_window::newer(&cache, id, cursor.into(), thread_window::PAGE)?
            }
        };
        Ok(dto::ThreadPage { messages: window.messages, older: window.older.into(), newer: window.newer })
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
            // An empty query lists every reply: the UI ranks them by use (`ui/src/lib/quickReplies.ts`).
            let limit = if query.trim().is_empty() { canned.len() } else { 20 };
            let matches = lock(&self.matcher).search(query, &canned, limit);
            let usages: std::collections::HashMap<Uuid, switchboard_proto::quick_replies::QuickReplyUsage> =
                cache
                    .all::<switchboard_proto::quick_replies::QuickReplyUsage>(EntityKind::QuickReplyUsage)?
                    .into_iter()
                    .map(|usage| (usage.canned_response_id, usage))
                    .collect();
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
                        usage: usages.get(&m.canned.id).cloned(),
                        canned: m.canned,
                    }
                })
                .collect())
        })
        .await
    }

    /// Unread conversations (for the tray and the badge; see [`intents::unread_count`]).
    pub async fn unread_count(&self) -> UiResult<u32> {
        let now = (self.now)();
        self.with(|s| Ok(intents::unread_count(&s.account.cache, now)?)).await
    }
}
