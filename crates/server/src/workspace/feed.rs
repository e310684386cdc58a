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

impl Workspace {
    /// One page of the feed after `since`, read in one snapshot with the agent's current
    /// visibility, so `next` is consistent with the rows returned.
    pub async fn sync(&self, viewer: &Viewer, since: i64, limit: usize) -> Outcome<SyncPage> {
        let agent_id = viewer.agent.id;
        self.read(move |store| {
            let agent: Agent = store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let visible = visible_inboxes(store, &agent)?;
            Ok(store.feed_page(agent_id, &visible, since, limit)?)
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
