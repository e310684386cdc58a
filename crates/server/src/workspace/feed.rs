//! Reading the change feed, search and contact lookup, always through the reader's inbox
//! visibility (decided here; the store only filters by the set it is given).

use switchboard_proto::*;

use super::{Viewer, Workspace};
use crate::{
    bus::VisibleInboxes,
    refusal::{Outcome, Refusal},
    rules,
    store::{StoreRead, StoreReadExt},
};

/// The inboxes `agent` may see.
pub(super) fn visible_inboxes(store: &(impl StoreRead + ?Sized), agent: &Agent) -> Outcome<VisibleInboxes> {
    if agent.role == Role::Admin {
        return Ok(VisibleInboxes::All);
    }
    let inboxes: Vec<Inbox> = store.all()?;
    Ok(VisibleInboxes::Only(rules::visible_inbox_ids(agent, &inboxes).into_iter().collect()))
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
        let agent_id = viewer.agent.id;
        self.read(move |store| {
            check_cursor(store, since, check.as_deref())?;
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let visible = visible_inboxes(store, &agent)?;
            let mut page = store.feed_page(agent_id, &visible, since, limit)?;
            page.check = match store.change_at(page.next)? {
                Some((entity, id)) => Some(cursor_check(page.next, entity, id)),
                None => None,
            };
            Ok(page)
        })
        .await
    }

    /// The agent as stored now, and the inboxes they may see (streams re-check on every change).
    pub async fn visible_inboxes(&self, agent_id: Id) -> Outcome<(Agent, VisibleInboxes)> {
        self.read(move |store| {
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let visible = visible_inboxes(store, &agent)?;
            Ok((agent, visible))
        })
        .await
    }

    /// Message hits (newest first, only in visible inboxes) and contacts matching `query`.
    pub async fn search(&self, viewer: &Viewer, query: String, limit: usize) -> Outcome<SearchResults> {
        let agent = viewer.agent.clone();
        self.read(move |store| {
            let visible = visible_inboxes(store, &agent)?;
            let contacts = store.find_contacts(&query, &visible, limit)?;
            let messages = store.search_messages(&query, &visible, limit)?;
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
