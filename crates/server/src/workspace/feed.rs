//! Reading the change feed, search and contact lookup, always through the reader's inbox
//! visibility (decided here; the store only filters by the set it is given).

use std::collections::{HashMap, HashSet};

use switchboard_proto::*;

use super::{Viewer, Workspace};
use crate::{
    bus::VisibleInboxes,
    refusal::{Outcome, Refusal},
    rules,
    store::{StoreRead, StoreReadExt},
};

/// The inboxes `agent` may see (without which of their conversations: [`visibility`]).
pub(super) fn visible_inboxes(store: &(impl StoreRead + ?Sized), agent: &Agent) -> Outcome<VisibleInboxes> {
    Ok(inbox_visibility(store, agent)?.0)
}

/// The inboxes `agent` may see, and those of them that show the agent only some conversations.
fn inbox_visibility(
    store: &(impl StoreRead + ?Sized),
    agent: &Agent,
) -> Outcome<(VisibleInboxes, HashMap<Id, InboxVisibility>)> {
    if agent.role == Role::Admin {
        return Ok((VisibleInboxes::All, HashMap::new()));
    }
    let inboxes: Vec<Inbox> = store.all()?;
    let visible: Vec<&Inbox> = inboxes.iter().filter(|inbox| rules::can_see_inbox(agent, inbox)).collect();
    let modes = visible
        .iter()
        .filter(|inbox| inbox.visibility != InboxVisibility::Everything)
        .map(|inbox| (inbox.id, inbox.visibility))
        .collect();
    Ok((VisibleInboxes::Only(visible.iter().map(|inbox| inbox.id).collect()), modes))
}

/// What one agent may see, decided here for every read that hands an agent data: the feed
/// (`/sync`), the stream, the bootstrap snapshot and backfill, a thread's history and search. The
/// store filters by the inbox set; the conversations an inbox's visibility mode keeps from the
/// agent (`hidden`) are filtered here, out of what the store returns. Conversation actions ask the
/// same rule, [`rules::can_see_conversation`], one conversation at a time.
#[derive(Debug, Clone)]
pub struct Visibility {
    pub me: Id,
    pub inboxes: VisibleInboxes,
    /// The visible inboxes that show the agent only some of their conversations, by mode.
    pub modes: HashMap<Id, InboxVisibility>,
    /// The conversations of those inboxes the agent may not see.
    pub hidden: HashSet<Id>,
}

/// What `store` holds for `agent` to see now ([`Visibility`]).
pub fn visibility(store: &(impl StoreRead + ?Sized), agent: &Agent) -> Outcome<Visibility> {
    let (inboxes, modes) = inbox_visibility(store, agent)?;
    let mut visibility = Visibility { me: agent.id, inboxes, modes, hidden: HashSet::new() };
    if !visibility.modes.is_empty() {
        let restricted = VisibleInboxes::Only(visibility.modes.keys().copied().collect());
        for change in store.latest_changes(agent.id, &restricted, EntityKind::Conversation, None)? {
            let Some(data) = &change.data else { continue };
            visibility.note_conversation(change.id, data);
        }
    }
    Ok(visibility)
}

/// The conversation a change belongs to: a conversation's own, or the one its data names
/// (messages, read markers, pins, mentions).
pub fn conversation_of(entity: EntityKind, id: Id, data: Option<&serde_json::Value>) -> Option<Id> {
    if entity == EntityKind::Conversation {
        return Some(id);
    }
    data?.get("conversation_id")?.as_str()?.parse().ok()
}

/// What an agent is given of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// A conversation that has left the agent's view: sent as its deletion, so the cache purges it.
    AsRemoval,
    Withhold,
}

impl Visibility {
    /// Follows a conversation's latest state (its data as stored or as just committed): whether
    /// the agent sees it now, if its inbox has a restricting mode. Answers whether it has just
    /// become hidden (it was not hidden before: it left the agent's view, or is new and never in it).
    pub fn note_conversation(&mut self, id: Id, data: &serde_json::Value) -> bool {
        let Some(inbox) = data.get("inbox_id").and_then(|v| v.as_str()).and_then(|v| v.parse::<Id>().ok())
        else {
            return false;
        };
        let Some(mode) = self.modes.get(&inbox) else {
            self.hidden.remove(&id);
            return false;
        };
        let assignee = data.get("assignee_id").and_then(|v| v.as_str()).and_then(|v| v.parse::<Id>().ok());
        if mode.shows(self.me, assignee) {
            self.hidden.remove(&id);
            false
        } else {
            self.hidden.insert(id)
        }
    }

    /// Whether the agent may see conversation `id` (its inbox already known to be visible).
    pub fn shows_conversation(&self, id: Id) -> bool {
        !self.hidden.contains(&id)
    }

    /// What the agent gets of a change whose inbox and audience they may see. `removals`: a
    /// reader who may hold the conversation (a cursor past 0) is told it left.
    pub fn verdict(
        &self,
        entity: EntityKind,
        id: Id,
        data: Option<&serde_json::Value>,
        removals: bool,
    ) -> Verdict {
        match conversation_of(entity, id, data) {
            Some(conversation) if self.hidden.contains(&conversation) => {
                if removals && entity == EntityKind::Conversation {
                    Verdict::AsRemoval
                } else {
                    Verdict::Withhold
                }
            }
            _ => Verdict::Send,
        }
    }

    /// [`Self::verdict`] over changes the store returned for this agent's inboxes.
    pub fn filter(&self, changes: Vec<Change>, removals: bool) -> Vec<Change> {
        if self.hidden.is_empty() {
            return changes;
        }
        changes
            .into_iter()
            .filter_map(|change| {
                match self.verdict(change.entity, change.id, change.data.as_ref(), removals) {
                    Verdict::Send => Some(change),
                    Verdict::AsRemoval => Some(Change { op: ChangeOp::Delete, data: None, ..change }),
                    Verdict::Withhold => None,
                }
            })
            .collect()
    }
}

/// The `check` of cursor `seq`: names the change at that seq without telling what it is (the
/// cursor may stand on a change the reader can't see). A server restored from an older backup
/// reuses seqs for other changes, so a kept cursor's check stops matching.
pub fn cursor_check(seq: i64, entity: EntityKind, id: Id) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{seq}:{}:{id}", entity.as_str()));
    hex::encode(&digest[..12])
}

/// Refuses a cursor that names no change of this feed: beyond its head (a server restored from an
/// older backup, not yet written past it), or on a seq now holding another change than the one
/// the client was given (restored, then written past it). `check` is optional for old clients,
/// which then get only the first test.
pub(super) fn check_cursor(
    store: &(impl StoreRead + ?Sized),
    since: i64,
    check: Option<&str>,
) -> Outcome<()> {
    if since == 0 {
        return Ok(());
    }
    let rewound = || {
        Refusal::new(
            ErrorCode::FeedRewound,
            format!(
                "cursor {since} is not from this server's feed (restored from a backup?): sync again from 0"
            ),
        )
    };
    let (entity, id) = store.change_at(since)?.ok_or_else(rewound)?;
    match check {
        Some(check) if check != cursor_check(since, entity, id) => Err(rewound()),
        _ => Ok(()),
    }
}

impl Workspace {
    /// [`check_cursor`] on its own (a stream checks before its upgrade).
    pub async fn check_cursor(&self, since: i64, check: Option<String>) -> Outcome<()> {
        self.read(move |store| check_cursor(store, since, check.as_deref())).await
    }

    /// One page of the feed after `since`, read in one snapshot with the agent's current
    /// visibility, so `next` is consistent with the rows returned. `check` is the one the client
    /// was given with `since` ([`check_cursor`]).
    pub async fn sync(
        &self,
        viewer: &Viewer,
        since: i64,
        check: Option<String>,
        limit: usize,
    ) -> Outcome<SyncPage> {
        Ok(self.sync_seen(viewer, since, check, limit).await?.0)
    }

    /// [`Self::sync`], with the visibility the page was read with (the same snapshot): a stream
    /// replaying the feed goes on from it.
    pub async fn sync_seen(
        &self,
        viewer: &Viewer,
        since: i64,
        check: Option<String>,
        limit: usize,
    ) -> Outcome<(SyncPage, Visibility)> {
        let agent_id = viewer.agent.id;
        self.read(move |store| {
            check_cursor(store, since, check.as_deref())?;
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let visibility = visibility(store, &agent)?;
            let mut page = store.feed_page(agent_id, &visibility.inboxes, since, limit)?;
            page.changes = visibility.filter(std::mem::take(&mut page.changes), since > 0);
            page.check = match store.change_at(page.next)? {
                Some((entity, id)) => Some(cursor_check(page.next, entity, id)),
                None => None,
            };
            Ok((page, visibility))
        })
        .await
    }

    /// The agent as stored now, and what they may see (streams re-check when it may change).
    pub async fn visibility(&self, agent_id: Id) -> Outcome<(Agent, Visibility)> {
        self.read(move |store| {
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let visible = visibility(store, &agent)?;
            Ok((agent, visible))
        })
        .await
    }

    /// Message hits (newest first, only in visible inboxes) and contacts matching `query`.
    pub async fn search(&self, viewer: &Viewer, query: String, limit: usize) -> Outcome<SearchResults> {
        let agent = viewer.agent.clone();
        self.read(move |store| {
            let visibility = visibility(store, &agent)?;
            let contacts = store.find_contacts(&query, &visibility.inboxes, limit)?;
            let mut messages = store.search_messages(&query, &visibility.inboxes, limit)?;
            messages.retain(|hit| visibility.shows_conversation(hit.conversation_id));
            Ok(SearchResults { messages, contacts })
        })
        .await
    }

    /// Contacts the viewer may see (created by agents, or who wrote into a visible inbox) whose
    /// name or email contains `query`, or whose phone contains its digits.
    pub async fn find_contacts(&self, viewer: &Viewer, query: String, limit: usize) -> Outcome<Vec<Contact>> {
        let agent = viewer.agent.clone();
        self.read(move |store| {
            let visible = visible_inboxes(store, &agent)?;
            Ok(store.find_contacts(&query, &visible, limit)?)
        })
        .await
    }
}
