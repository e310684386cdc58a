//! What an agent means, turned into outbox actions: the decisions between "the agent clicked
//! Claim" and the [`Action`] that is queued. A claim is a compare-and-set from unassigned, a move
//! to another team keeps the assignee this client knows, opening a conversation marks it read up
//! to the last customer message, "mark unread" moves the marker back before it.
//!
//! Each function reads the cache if it must and returns the action; the caller queues it (with
//! [`crate::sync::Engine::queue`]). None of them talks to the server, but one:
//! [`set_availability`] is a statement about now ("I'm busy"), so it is never queued to be sent
//! later: it reaches the server or is refused.

use switchboard_proto::*;

use crate::{
    api::ApiClient,
    cache::{
        views::{ListQuery, View},
        Cache,
    },
    error::{CoreError, CoreResult},
    outbox::Action,
};

/// A reply or note. Refused when there is nothing to send: no text, no file and no template.
pub fn send(
    conversation_id: Id,
    kind: SendKind,
    body: String,
    staged_files: Vec<Id>,
    template: Option<TemplateRef>,
) -> CoreResult<Action> {
    if body.trim().is_empty() && staged_files.is_empty() && template.is_none() {
        return Err(CoreError::Validation("write something, attach a file or pick a template".into()));
    }
    Ok(Action::Send {
        conversation_id,
        request: SendMessage { client_id: Id::new_v4(), kind, body, attachment_ids: vec![], template },
        staged_files,
    })
}

/// The agent takes a conversation nobody has: a compare-and-set from unassigned, so of two agents
/// claiming at once exactly one wins, and the loser's claim is refused rather than overriding.
pub fn claim(conversation_id: Id, me: Id) -> Action {
    Action::Assign {
        conversation_id,
        request: AssignRequest {
            client_id: Id::new_v4(),
            assignee_id: Some(me),
            team_id: None,
            expected_assignee_id: Some(None),
            bulk_id: None,
        },
    }
}

/// Assigns a conversation to someone (or no one), whoever has it now.
pub fn assign(conversation_id: Id, assignee_id: Option<Id>) -> Action {
    Action::Assign {
        conversation_id,
        request: AssignRequest {
            client_id: Id::new_v4(),
            assignee_id,
            team_id: None,
            expected_assignee_id: None,
            bulk_id: None,
        },
    }
}

/// Moves a conversation to a team (or none), keeping its assignee: a compare-and-set on the
/// assignee this client knows, so a stale cache can't unassign a colleague who just claimed it.
pub fn move_to_team(cache: &Cache, conversation_id: Id, team_id: Option<Id>) -> CoreResult<Action> {
    let current: Option<Conversation> = cache.get(EntityKind::Conversation, conversation_id)?;
    let assignee_id = current.and_then(|c| c.assignee_id);
    Ok(Action::Assign {
        conversation_id,
        request: AssignRequest {
            client_id: Id::new_v4(),
            assignee_id,
            team_id: Some(team_id),
            expected_assignee_id: Some(assignee_id),
            bulk_id: None,
        },
    })
}

pub fn set_status(conversation_id: Id, status: ConversationStatus, snoozed_until: Option<Millis>) -> Action {
    Action::Status {
        conversation_id,
        request: StatusRequest { client_id: Id::new_v4(), status, snoozed_until, bulk_id: None },
    }
}

pub fn edit_labels(conversation_id: Id, add: Vec<String>, remove: Vec<String>) -> Action {
    Action::Labels {
        conversation_id,
        request: LabelsRequest { client_id: Id::new_v4(), add, remove, bulk_id: None },
    }
}

pub fn set_priority(conversation_id: Id, priority: Priority) -> Action {
    Action::Priority {
        conversation_id,
        request: PriorityRequest { client_id: Id::new_v4(), priority, bulk_id: None },
    }
}

/// Escalate (with an optional note) or de-escalate.
pub fn set_escalated(conversation_id: Id, escalated: bool, note: Option<String>) -> Action {
    Action::Escalation {
        conversation_id,
        request: EscalationRequest { client_id: Id::new_v4(), escalated, note },
    }
}

/// Send a failed reply again (the server re-queues it for delivery).
pub fn retry_delivery(conversation_id: Id, message_id: Id) -> Action {
    Action::Retry { conversation_id, message_id, request: RetryRequest { client_id: Id::new_v4() } }
}

pub fn set_pinned(conversation_id: Id, pinned: bool) -> Action {
    Action::Pin { conversation_id, client_id: Id::new_v4(), pinned }
}

/// The agent says whether routing may give them conversations now (online), not now (busy), or
/// that they are away (offline). Sent at once and never queued: replayed after a reconnect, "busy"
/// would describe a moment that has passed. So when the server can't be reached it is refused
/// ([`CoreError::Network`], code `offline`) and nothing changes. The answer is the agent as the
/// server stored it; the cache shows it when the feed brings it, like any other change.
pub async fn set_availability(api: &ApiClient, availability: Availability) -> CoreResult<Agent> {
    let update = UpdateMe { name: None, availability: Some(availability), status_text: None };
    api.update_me(&update).await.map_err(|error| match error {
        CoreError::Network(why) => CoreError::Network(format!(
            "availability can't change until the server can be reached again ({why})"
        )),
        other => other,
    })
}

/// The agent's status text beside their availability ("Back at 3"); blank clears it. Sent at once
/// like [`set_availability`], and refused the same way while the server can't be reached.
pub async fn set_status_text(api: &ApiClient, text: &str) -> CoreResult<Agent> {
    let update = UpdateMe { name: None, availability: None, status_text: Some(text.to_owned()) };
    api.update_me(&update).await.map_err(|error| match error {
        CoreError::Network(why) => CoreError::Network(format!(
            "your status can't change until the server can be reached again ({why})"
        )),
        other => other,
    })
}

fn read_up_to(conversation_id: Id, message_id: Id) -> Action {
    Action::Read {
        conversation_id,
        request: ReadRequest { client_id: Id::new_v4(), last_read_message_id: message_id },
    }
}

/// Opening a conversation reads it: the marker moves to the last customer message, if that moves
/// it (`None`: nothing to mark, or already read).
pub fn read_on_open(cache: &Cache, conversation_id: Id) -> CoreResult<Option<Action>> {
    let messages = cache.thread(conversation_id)?;
    let Some(last) = messages.iter().rev().find(|m| m.kind == MessageKind::Incoming) else { return Ok(None) };
    let marker: Option<ReadMarker> = cache.get(EntityKind::ReadMarker, conversation_id)?;
    if marker.is_some_and(|m| m.last_read_message_id == last.id) {
        return Ok(None);
    }
    Ok(Some(read_up_to(conversation_id, last.id)))
}

/// "Mark unread": the read marker moves back to the message before the last customer message, so
/// the conversation counts as unread again (`None`: no customer message, or nothing before it).
pub fn mark_unread(cache: &Cache, conversation_id: Id) -> CoreResult<Option<Action>> {
    let messages = cache.thread(conversation_id)?;
    let Some(last_incoming) = messages.iter().rposition(|m| m.kind == MessageKind::Incoming) else {
        return Ok(None);
    };
    let Some(before) = messages[..last_incoming].last() else { return Ok(None) };
    Ok(Some(read_up_to(conversation_id, before.id)))
}

/// Open conversations assigned to the agent that are unread (the tray and the badge).
pub fn unread_count(cache: &Cache, now: Millis) -> CoreResult<u32> {
    const PAGE: usize = 500;
    let mut unread = 0;
    let mut offset = 0;
    loop {
        let query = ListQuery {
            view: View::Mine,
            status: Some(ConversationStatus::Open),
            sort: Default::default(),
            offset,
            limit: PAGE,
        };
        let rows = cache.list(&query, now)?;
        unread += rows.iter().filter(|r| r.unread).count();
        if rows.len() < PAGE {
            return Ok(unread as u32);
        }
        offset += PAGE;
    }
}

/// Saves a filter as a view: personal, or for `team` (the server lets a lead of that team or an
/// admin do it). Queued like any action, so a view saved offline shows at once and reaches the
/// server on reconnect; the name and filter are checked as the server checks them first.
pub fn create_view(name: &str, filter: views::ConversationFilter, team: Option<Id>) -> CoreResult<Action> {
    let name = views::view_name(name).map_err(CoreError::Validation)?;
    filter.check().map_err(CoreError::Validation)?;
    Ok(Action::CreateView {
        request: views::CreateSavedView { client_id: Id::new_v4(), name, filter, team_id: team },
    })
}

/// Renames a saved view.
pub fn rename_view(view_id: Id, name: &str) -> CoreResult<Action> {
    let name = views::view_name(name).map_err(CoreError::Validation)?;
    Ok(Action::UpdateView {
        view_id,
        request: views::UpdateSavedView { client_id: Id::new_v4(), name: Some(name), filter: None },
    })
}

/// Changes a saved view's filter (its name stays): checked as the server checks it, queued so the
/// sidebar's count follows at once, offline included.
pub fn update_view_filter(view_id: Id, filter: views::ConversationFilter) -> CoreResult<Action> {
    filter.check().map_err(CoreError::Validation)?;
    Ok(Action::UpdateView {
        view_id,
        request: views::UpdateSavedView { client_id: Id::new_v4(), name: None, filter: Some(filter) },
    })
}

/// Deletes a saved view.
pub fn delete_view(view_id: Id) -> Action {
    Action::DeleteView { view_id, client_id: Id::new_v4() }
}
