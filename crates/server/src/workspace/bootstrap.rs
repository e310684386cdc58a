//! A fresh device's priority bootstrap, the history backfilled behind it, and a thread's history
//! on demand (`GET /sync/bootstrap`, `/sync/backfill`, `/conversations/{id}/history`).
//!
//! Why it is correct (the whole argument is in ARCHITECTURE.md, "Priority bootstrap"): the feed is
//! compacted, so at position S the feed from 0 is exactly the latest upsert of every entity whose
//! latest change has `seq ≤ S`. The snapshot is a subset of that set read in one snapshot at
//! S = head; the client then follows the live feed from S (every change after S), and the
//! backfill walks the rest of that set from S downwards by seq. A backfill page read later than S
//! leaves out an entity changed after S (its row ≤ S is superseded: the live feed carries the
//! newer one), so a backfilled change is always the entity's version at S, never newer than
//! anything the client holds: the client keeps what it has and only fills what it lacks.

use switchboard_proto::*;

use super::{conversations::visible_conversation, feed, Viewer, Workspace};
use crate::{
    refusal::{Outcome, Refusal},
    store::{StoreRead, StoreReadExt},
};

/// Unresolved conversations in the snapshot, most recently active first.
pub const OPEN_CONVERSATIONS: usize = 1000;
/// Conversations of any status in the snapshot, most recently active first (a resolved view's
/// first page).
pub const RECENT_CONVERSATIONS: usize = 200;
/// The most recently active conversations whose last page of messages comes in the snapshot.
pub const THREADS: usize = 100;
/// A thread's page of messages (snapshot and on demand, by default).
pub const THREAD_PAGE: usize = 30;
/// The directory: what every screen names and the agent's own markers, whole.
const DIRECTORY: [EntityKind; 11] = [
    EntityKind::Agent,
    EntityKind::Team,
    EntityKind::Inbox,
    EntityKind::Label,
    EntityKind::CannedResponse,
    EntityKind::SlaPolicy,
    EntityKind::AutomationRule,
    EntityKind::SavedView,
    EntityKind::Pin,
    EntityKind::Mention,
    EntityKind::LockPolicy,
];

/// The snapshot's changes, read in the caller's one snapshot: the directory, the open and recent
/// conversations with their contacts and the agent's read markers, and the last page of the most
/// recent threads. Each entity once, in seq order.
fn snapshot_changes(store: &(impl StoreRead + ?Sized), agent: &Agent) -> Outcome<Vec<Change>> {
    let visibility = feed::visibility(store, agent)?;
    let visible = visibility.inboxes.clone();
    let mut changes = Vec::new();
    for kind in DIRECTORY {
        changes.extend(store.latest_changes(agent.id, &visible, kind, None)?);
    }
    let mut conversations = store.active_conversations(&visible, true, OPEN_CONVERSATIONS)?;
    for id in store.active_conversations(&visible, false, RECENT_CONVERSATIONS)? {
        if !conversations.contains(&id) {
            conversations.push(id);
        }
    }
    let rows = store.latest_changes(agent.id, &visible, EntityKind::Conversation, Some(&conversations))?;
    let mut contacts: Vec<Id> =
        rows.iter().filter_map(|c| c.data.as_ref()?.get("contact_id")?.as_str()?.parse().ok()).collect();
    contacts.sort_unstable();
    contacts.dedup();
    changes.extend(rows);
    changes.extend(store.latest_changes(agent.id, &visible, EntityKind::Contact, Some(&contacts))?);
    changes.extend(store.latest_changes(agent.id, &visible, EntityKind::ReadMarker, Some(&conversations))?);
    let mut messages = Vec::new();
    for conversation in store.active_conversations(&visible, false, THREADS)? {
        messages.extend(store.thread_messages(conversation, None, THREAD_PAGE)?.into_iter().map(|m| m.id));
    }
    changes.extend(store.latest_changes(agent.id, &visible, EntityKind::Message, Some(&messages))?);
    changes.sort_by_key(|c| c.seq);
    changes.dedup_by_key(|c| c.seq);
    Ok(visibility.filter(changes, false))
}

impl Workspace {
    /// The priority bootstrap: [`snapshot_changes`] and the head S it is consistent with, with
    /// S's `check`.
    pub async fn bootstrap(&self, viewer: &Viewer) -> Outcome<BootstrapSnapshot> {
        let agent_id = viewer.agent.id;
        self.read(move |store| {
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            // A page of no changes answers the feed's head.
            let head = store.feed_page(agent_id, &crate::bus::VisibleInboxes::All, 0, 0)?.next;
            let changes = snapshot_changes(store, &agent)?;
            let check = store.change_at(head)?.map(|(entity, id)| feed::cursor_check(head, entity, id));
            Ok(BootstrapSnapshot { changes, next: head, check })
        })
        .await
    }

    /// One page of the backfill under `upto` (a snapshot's S, with its `check`: a server restored
    /// from an older backup answers `feed_rewound`), before `before`, with the agent's current
    /// visibility (an inbox lost since S is not backfilled).
    pub async fn backfill(
        &self,
        viewer: &Viewer,
        upto: i64,
        check: Option<String>,
        before: i64,
        limit: usize,
    ) -> Outcome<BackfillPage> {
        let agent_id = viewer.agent.id;
        self.read(move |store| {
            feed::check_cursor(store, upto, check.as_deref())?;
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let visibility = feed::visibility(store, &agent)?;
            let before = before.min(upto + 1);
            let changes = store.backfill_page(agent_id, &visibility.inboxes, upto, before, limit)?;
            let done = changes.len() < limit;
            let next = if done { 0 } else { changes.last().map_or(0, |c| c.seq) };
            Ok(BackfillPage { changes: visibility.filter(changes, false), next, done })
        })
        .await
    }

    /// A page of a visible thread's messages older than `before`, newest first.
    pub async fn thread_history(
        &self,
        viewer: &Viewer,
        conversation: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> Outcome<HistoryPage> {
        let viewer = viewer.clone();
        self.read(move |store| {
            visible_conversation(store, &viewer, conversation)?;
            let visible = feed::visible_inboxes(store, &viewer.agent)?;
            let page = store.thread_messages(conversation, before, limit + 1)?;
            let older = (page.len() > limit).then(|| page[limit - 1]);
            let ids: Vec<Id> = page.iter().take(limit).map(|m| m.id).collect();
            let mut changes =
                store.latest_changes(viewer.agent.id, &visible, EntityKind::Message, Some(&ids))?;
            changes.sort_by_key(|c| std::cmp::Reverse(c.seq));
            Ok(HistoryPage { changes, older })
        })
        .await
    }
}
