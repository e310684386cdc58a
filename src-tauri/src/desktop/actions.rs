//! The agent's actions: each becomes an outbox action through `switchboard_core::intents` and is
//! queued on the open account's engine; nothing is decided here. Availability is the exception the
//! core makes: sent at once, refused when offline (`intents::set_availability`).

use super::*;

impl Desktop {
    /// Queues one action per conversation, with the open session; several conversations at once
    /// are one bulk action, their requests sharing a `bulk_id` (the audit trail groups them).
    async fn queue_each(
        &self,
        ids: Vec<Uuid>,
        action: impl Fn(&Session, Uuid) -> UiResult<Action>,
    ) -> UiResult<()> {
        let bulk_id = (ids.len() > 1).then(Uuid::now_v7);
        self.with(|s| {
            for id in ids {
                let action = action(s, id)?;
                s.engine.queue(match bulk_id {
                    Some(bulk_id) => action.in_bulk(bulk_id),
                    None => action,
                })?;
            }
            Ok(())
        })
        .await
    }

    pub async fn send_message(
        &self,
        conversation_id: Uuid,
        kind: SendKind,
        body: String,
        staged_file_ids: Vec<Uuid>,
        template: Option<TemplateRef>,
    ) -> UiResult<Uuid> {
        let now = (self.now)();
        self.with(|s| {
            let action = intents::send(conversation_id, kind, body, staged_file_ids, template)?;
            let client_id = action.client_id();
            s.engine.queue(action)?;
            s.account.cache.save_draft(conversation_id, kind, "", now)?;
            Ok(client_id)
        })
        .await
    }

    /// Assigns conversations; `claim` makes it compare-and-set from unassigned to the caller.
    pub async fn assign(&self, ids: Vec<Uuid>, assignee_id: Option<Uuid>, claim: bool) -> UiResult<()> {
        self.queue_each(ids, |s, id| {
            Ok(if claim {
                intents::claim(id, s.account.info.agent.id)
            } else {
                intents::assign(id, assignee_id)
            })
        })
        .await
    }

    /// Moves conversations to a team, keeping their assignee (see [`intents::move_to_team`]).
    pub async fn set_team(&self, ids: Vec<Uuid>, team_id: Option<Uuid>) -> UiResult<()> {
        self.queue_each(ids, |s, id| Ok(intents::move_to_team(&s.account.cache, id, team_id)?)).await
    }

    pub async fn set_status(
        &self,
        ids: Vec<Uuid>,
        status: ConversationStatus,
        snoozed_until: Option<Millis>,
    ) -> UiResult<()> {
        self.queue_each(ids, |_, id| Ok(intents::set_status(id, status, snoozed_until))).await
    }

    pub async fn edit_labels(&self, ids: Vec<Uuid>, add: Vec<String>, remove: Vec<String>) -> UiResult<()> {
        self.queue_each(ids, |_, id| Ok(intents::edit_labels(id, add.clone(), remove.clone()))).await
    }

    pub async fn set_priority(&self, ids: Vec<Uuid>, priority: Priority) -> UiResult<()> {
        self.queue_each(ids, |_, id| Ok(intents::set_priority(id, priority))).await
    }

    /// Escalates (with an optional note) or de-escalates each conversation, through the outbox.
    pub async fn set_escalated(&self, ids: Vec<Uuid>, escalated: bool, note: Option<String>) -> UiResult<()> {
        self.queue_each(ids, |_, id| Ok(intents::set_escalated(id, escalated, note.clone()))).await
    }

    pub async fn set_pinned(&self, id: Uuid, pinned: bool) -> UiResult<()> {
        self.queue_each(vec![id], |_, id| Ok(intents::set_pinned(id, pinned))).await
    }

    /// Sends a failed reply again (see [`intents::retry_delivery`]).
    pub async fn retry_delivery(&self, conversation_id: Uuid, message_id: Uuid) -> UiResult<()> {
        self.queue_each(vec![conversation_id], |_, id| Ok(intents::retry_delivery(id, message_id))).await
    }

    /// Marks a conversation unread (see [`intents::mark_unread`]).
    pub async fn mark_unread(&self, id: Uuid) -> UiResult<()> {
        self.with(|s| {
            if let Some(action) = intents::mark_unread(&s.account.cache, id)? {
                s.engine.queue(action)?;
            }
            Ok(())
        })
        .await
    }

    /// Sets the agent's availability on the server now (never queued; refused with `offline` when
    /// the server can't be reached). The session lock is not held across the request, so the
    /// window's reads go on meanwhile; the directory shows the change when the feed brings it.
    pub async fn set_availability(&self, availability: Availability) -> UiResult<Agent> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(intents::set_availability(&api, availability).await?)
    }

    /// Sets the agent's status text now, like [`Self::set_availability`]; blank clears it.
    pub async fn set_status_text(&self, text: &str) -> UiResult<Agent> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(intents::set_status_text(&api, text).await?)
    }

    pub async fn save_draft(&self, id: Uuid, kind: SendKind, body: &str) -> UiResult<()> {
        let now = (self.now)();
        self.with(|s| Ok(s.account.cache.save_draft(id, kind, body, now)?)).await
    }

    /// Reconnects now (the status bar's "retry").
    pub async fn reconnect(&self) -> UiResult<()> {
        self.with(|s| {
            s.engine.reconnect();
            Ok(())
        })
        .await
    }

    /// Saves the filter as a view (personal, or for `team_id`); answers the new view's id.
    pub async fn create_view(
        &self,
        name: String,
        filter: views::ConversationFilter,
        team_id: Option<Uuid>,
    ) -> UiResult<Uuid> {
        self.with(|s| {
            let action = intents::create_view(&name, filter, team_id)?;
            let id = action.client_id();
            s.engine.queue(action)?;
            Ok(id)
        })
        .await
    }

    pub async fn rename_view(&self, view_id: Uuid, name: String) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(intents::rename_view(view_id, &name)?)?)).await
    }

    /// Changes a saved view's filter (the server lets its owner, or a lead of its team, or an admin).
    pub async fn update_view_filter(&self, view_id: Uuid, filter: views::ConversationFilter) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(intents::update_view_filter(view_id, filter)?)?)).await
    }

    pub async fn delete_view(&self, view_id: Uuid) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(intents::delete_view(view_id))?)).await
    }
}
